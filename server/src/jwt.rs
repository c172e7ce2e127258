//! Session tokens: RS256 JWTs signed with the instance's RSA-2048 key, and the JWKS that publishes it.
//!
//! Signing goes straight to aws-lc-rs with the parsed key pair kept in memory (constant-time RSA;
//! never the `rsa` crate, RUSTSEC-2023-0071). Verification uses `jsonwebtoken` (aws-lc-rs backend)
//! with the algorithm pinned to RS256 — the header's `alg` is never trusted — the key chosen by
//! `kid` among our own keys, and `exp`/`nbf` judged on the injected clock.
//!
//! A [`KeySet`] is the instance's keys at one moment: all of them are published and verify, and the
//! one whose time has come signs (see `crate::keyring` for rotation).

use std::collections::HashSet;
use std::sync::Arc;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{KeyPair as _, RSA_PKCS1_SHA256, RsaKeyPair};
use hallpass_protocol::SessionClaims;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Serialize;

use crate::secret::{b64url, sha256_hex};

/// Seconds of clock skew tolerated on `exp` and `nbf`.
pub const LEEWAY_SECS: i64 = 5;

/// The `v` claim of every session token (Clerk's v2 shape). JWT templates may not set `v`, so it
/// tells a session token from a template token signed by the same key.
pub const SESSION_TOKEN_VERSION: u8 = 2;

/// Why a key could not be made or used.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("RSA key generation failed")]
    Generate,
    #[error("stored signing key is not a valid RSA PKCS#8 key: {0}")]
    Rejected(String),
    #[error("RSA signing failed")]
    Sign,
    #[error("claims could not be serialised: {0}")]
    Claims(#[from] serde_json::Error),
}

/// One RSA signing key, its `kid` and its public half.
pub struct SigningKey {
    kid: String,
    pair: RsaKeyPair,
    n: Vec<u8>,
    e: Vec<u8>,
    decoding: DecodingKey,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey").field("kid", &self.kid).finish_non_exhaustive()
    }
}

impl SigningKey {
    /// A fresh RSA-2048 key (e = 65537) and its PKCS#8 DER, to be stored.
    pub fn generate() -> Result<(SigningKey, Vec<u8>), KeyError> {
        let pair = RsaKeyPair::generate(KeySize::Rsa2048).map_err(|_| KeyError::Generate)?;
        let der = pair.as_der().map_err(|_| KeyError::Generate)?.as_ref().to_vec();
        Ok((SigningKey::from_pkcs8(&der)?, der))
    }

    /// Loads a stored PKCS#8 DER key.
    pub fn from_pkcs8(der: &[u8]) -> Result<SigningKey, KeyError> {
        let pair = RsaKeyPair::from_pkcs8(der).map_err(|e| KeyError::Rejected(e.to_string()))?;
        let public = pair.public_key();
        let n = public.modulus().big_endian_without_leading_zero().to_vec();
        let e = public.exponent().big_endian_without_leading_zero().to_vec();
        // A thumbprint of the public key: stable across restarts, different for every key.
        let mut material = n.clone();
        material.extend_from_slice(&e);
        let kid = format!("ins_{}", &sha256_hex(&material)[..24]);
        let decoding = DecodingKey::from_rsa_raw_components(&n, &e);
        Ok(SigningKey { kid, pair, n, e, decoding })
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// Modulus size in bits.
    pub fn bits(&self) -> usize {
        self.n.len() * 8
    }

    /// Raw RSASSA-PKCS1-v1_5 SHA-256 signature of `msg` (what RS256 is).
    pub fn sign_rs256(&self, msg: &[u8]) -> Result<Vec<u8>, KeyError> {
        let mut sig = vec![0u8; self.pair.public_modulus_len()];
        let rng = aws_lc_rs::rand::SystemRandom::new();
        self.pair.sign(&RSA_PKCS1_SHA256, &rng, msg, &mut sig).map_err(|_| KeyError::Sign)?;
        Ok(sig)
    }

    /// A compact JWS (`header.payload.signature`) of `claims`, RS256 with our `kid`.
    pub fn mint<C: Serialize>(&self, claims: &C) -> Result<String, KeyError> {
        let header = serde_json::json!({"alg": "RS256", "kid": self.kid, "typ": "JWT"});
        let mut token = b64url(&serde_json::to_vec(&header)?);
        token.push('.');
        token.push_str(&b64url(&serde_json::to_vec(claims)?));
        let sig = self.sign_rs256(token.as_bytes())?;
        token.push('.');
        token.push_str(&b64url(&sig));
        Ok(token)
    }

    /// This key as a JWK (public part only).
    pub fn jwk(&self) -> serde_json::Value {
        serde_json::json!({
            "kty": "RSA",
            "kid": self.kid,
            "alg": "RS256",
            "use": "sig",
            "n": b64url(&self.n),
            "e": b64url(&self.e),
        })
    }
}

/// One of the instance's keys and when it starts signing.
#[derive(Clone, Debug)]
pub struct KeyEntry {
    pub key: Arc<SigningKey>,
    /// Milliseconds since the epoch.
    pub active_from: i64,
}

/// The instance's keys: every one is in the JWKS and verifies; of those whose `active_from` has come,
/// the latest signs.
#[derive(Debug)]
pub struct KeySet {
    /// Latest `active_from` first.
    keys: Vec<KeyEntry>,
}

/// Why a session token was refused.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("token is malformed or its signature does not verify")]
    Invalid,
    #[error("token was signed by an unknown key")]
    UnknownKey,
    #[error("token has expired")]
    Expired,
    #[error("token is not valid yet")]
    NotYetValid,
    #[error("token was issued by someone else")]
    WrongIssuer,
    /// Signed by us but not a session token (`v` is not 2): e.g. a JWT template's token, which may
    /// live for years and be held by a third party.
    #[error("token is not a session token")]
    NotASessionToken,
}

impl KeySet {
    /// Returns `None` for an empty list.
    pub fn new(mut keys: Vec<KeyEntry>) -> Option<KeySet> {
        keys.sort_by(|a, b| b.active_from.cmp(&a.active_from).then_with(|| a.key.kid.cmp(&b.key.kid)));
        if keys.is_empty() { None } else { Some(KeySet { keys }) }
    }

    /// The key that signs at `now_ms`: the latest whose `active_from` has come (the earliest key if
    /// none has, which only a clock far behind the others can see).
    pub fn active(&self, now_ms: i64) -> &KeyEntry {
        let earliest = self.keys.len() - 1;
        // `new` guarantees at least one key.
        self.keys.iter().find(|e| e.active_from <= now_ms).unwrap_or(&self.keys[earliest])
    }

    /// Every key, latest to sign first.
    pub fn entries(&self) -> &[KeyEntry] {
        &self.keys
    }

    /// The JWKS document.
    pub fn jwks(&self) -> serde_json::Value {
        serde_json::json!({ "keys": self.keys.iter().map(|e| e.key.jwk()).collect::<Vec<_>>() })
    }

    /// Verifies a session token: RS256 only, a `kid` of ours, signature, `iss`, `exp`, `nbf`, and
    /// `v: 2` (template tokens signed with the same key have no `v`).
    pub fn verify(&self, token: &str, now_ms: i64, issuer: &str) -> Result<SessionClaims, VerifyError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| VerifyError::Invalid)?;
        if header.alg != Algorithm::RS256 {
            return Err(VerifyError::Invalid);
        }
        let kid = header.kid.ok_or(VerifyError::UnknownKey)?;
        let key = self.keys.iter().map(|e| &e.key).find(|k| k.kid == kid).ok_or(VerifyError::UnknownKey)?;
        let mut validation = Validation::new(Algorithm::RS256);
        // Time is judged below on the injected clock, not the system clock.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        validation.required_spec_claims = HashSet::new();
        let data = jsonwebtoken::decode::<SessionClaims>(token, &key.decoding, &validation)
            .map_err(|_| VerifyError::Invalid)?;
        let claims = data.claims;
        let now = now_ms.div_euclid(1000);
        if claims.exp + LEEWAY_SECS <= now {
            return Err(VerifyError::Expired);
        }
        if claims.nbf - LEEWAY_SECS > now {
            return Err(VerifyError::NotYetValid);
        }
        if claims.iss != issuer {
            return Err(VerifyError::WrongIssuer);
        }
        if claims.v != SESSION_TOKEN_VERSION {
            return Err(VerifyError::NotASessionToken);
        }
        Ok(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::OnceLock;

    fn key() -> &'static (Vec<u8>, String) {
        static KEY: OnceLock<(Vec<u8>, String)> = OnceLock::new();
        KEY.get_or_init(|| {
            let (k, der) = SigningKey::generate().unwrap();
            (der, k.kid().to_owned())
        })
    }

    fn claims(now: i64) -> SessionClaims {
        SessionClaims {
            sub: "user_1".into(),
            sid: "sess_1".into(),
            iss: "http://issuer".into(),
            azp: None,
            exp: now + 60,
            iat: now,
            nbf: now,
            jti: "j".into(),
            v: 2,
            fea: None,
            o: None,
        }
    }

    #[test]
    fn generated_key_is_rsa_2048_e65537_and_reloads_with_the_same_kid() {
        let (der, kid) = key();
        let k = SigningKey::from_pkcs8(der).unwrap();
        assert_eq!(k.bits(), 2048);
        assert_eq!(k.e, vec![1, 0, 1]);
        assert_eq!(k.kid(), kid);
        assert_eq!(k.jwk()["e"], "AQAB");
    }

    fn one_key_set() -> KeySet {
        let key = Arc::new(SigningKey::from_pkcs8(&key().0).unwrap());
        KeySet::new(vec![KeyEntry { key, active_from: 0 }]).unwrap()
    }

    #[test]
    fn mint_then_verify_and_time_checks() {
        let ks = one_key_set();
        let now = 1_700_000_000;
        let token = ks.active(now * 1000).key.mint(&claims(now)).unwrap();
        assert_eq!(ks.verify(&token, now * 1000, "http://issuer").unwrap().sub, "user_1");
        assert_eq!(ks.verify(&token, (now + 65) * 1000, "http://issuer"), Err(VerifyError::Expired));
        assert_eq!(ks.verify(&token, (now - 10) * 1000, "http://issuer"), Err(VerifyError::NotYetValid));
        assert_eq!(ks.verify(&token, now * 1000, "http://other"), Err(VerifyError::WrongIssuer));
        let template_like = ks.active(now * 1000).key.mint(&SessionClaims { v: 0, ..claims(now) }).unwrap();
        assert_eq!(
            ks.verify(&template_like, now * 1000, "http://issuer"),
            Err(VerifyError::NotASessionToken)
        );
        let mut tampered = token.clone();
        tampered.push('A');
        assert_eq!(ks.verify(&tampered, now * 1000, "http://issuer"), Err(VerifyError::Invalid));
    }

    #[test]
    fn alg_none_and_hs256_with_the_public_key_are_refused() {
        let ks = one_key_set();
        let now = 1_700_000_000;
        let body = b64url(&serde_json::to_vec(&claims(now)).unwrap());
        let none = format!("{}.{}.", b64url(br#"{"alg":"none","kid":"x","typ":"JWT"}"#), body);
        assert_eq!(ks.verify(&none, now * 1000, "http://issuer"), Err(VerifyError::Invalid));
        let kid = ks.active(0).key.kid().to_owned();
        let hs = jsonwebtoken::encode(
            &jsonwebtoken::Header { kid: Some(kid), ..jsonwebtoken::Header::new(Algorithm::HS256) },
            &claims(now),
            &jsonwebtoken::EncodingKey::from_secret(&ks.active(0).key.n),
        )
        .unwrap();
        assert_eq!(ks.verify(&hs, now * 1000, "http://issuer"), Err(VerifyError::Invalid));
    }

    #[test]
    fn the_latest_key_whose_time_has_come_signs_and_every_key_verifies() {
        let old = Arc::new(SigningKey::from_pkcs8(&key().0).unwrap());
        let (new, _) = SigningKey::generate().unwrap();
        let new = Arc::new(new);
        let ks = KeySet::new(vec![
            KeyEntry { key: old.clone(), active_from: 1_000 },
            KeyEntry { key: new.clone(), active_from: 5_000 },
        ])
        .unwrap();
        assert_eq!(ks.active(4_999).key.kid(), old.kid(), "the new key waits for its time");
        assert_eq!(ks.active(5_000).key.kid(), new.kid());
        assert_eq!(ks.active(0).key.kid(), old.kid(), "a clock behind every key: the earliest");
        assert_eq!(ks.jwks()["keys"].as_array().unwrap().len(), 2, "both are published");
        let now = 1_700_000_000;
        for k in [&old, &new] {
            let token = k.mint(&claims(now)).unwrap();
            assert_eq!(ks.verify(&token, now * 1000, "http://issuer").unwrap().sub, "user_1");
        }
    }
}
