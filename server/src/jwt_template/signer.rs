//! Custom signing keys of JWT templates: checked when an app sends one, stored in a normal form,
//! loaded and used to sign.
//!
//! - `HS256`/`HS384`/`HS512`: the `signing_key` string's bytes are the shared secret (as Supabase
//!   and every JWT library use it), at least 32 bytes.
//! - `RS256`: an RSA private key of 2048 to 8192 bits in PEM, PKCS#8 (`BEGIN PRIVATE KEY`) or
//!   PKCS#1 (`BEGIN RSA PRIVATE KEY`). It is stored as PKCS#8 DER and signs through aws-lc-rs, like
//!   the instance key.
//!
//! Custom-key tokens carry no `kid`: their verifier holds that one key, not our JWKS. Errors describe
//! what is wrong with a key and never contain any of it.

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::hmac;
use aws_lc_rs::rsa::KeyPair as RsaKeyPair;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hallpass_protocol::JwtAlgorithm;
use serde::Serialize;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::at_rest::{SealError, Sealer, unseal};
use crate::jwt::{KeyError, SigningKey};
use crate::secret::{TemplateKey, b64url, b64url_decode, sha256_hex};

/// The shortest shared secret accepted for the HMAC algorithms, in bytes.
pub const MIN_HMAC_SECRET_BYTES: usize = 32;
/// The longest `signing_key` input accepted (an 8192-bit RSA key in PEM is about 6.5 KB).
pub const MAX_KEY_INPUT_BYTES: usize = 16 * 1024;

/// Why a `signing_key` cannot be used. The messages are safe to show: they contain no key material.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum KeyInputError {
    #[error("the signing key is longer than {MAX_KEY_INPUT_BYTES} bytes")]
    TooLong,
    #[error("an HMAC secret must be at least {MIN_HMAC_SECRET_BYTES} bytes")]
    SecretTooShort,
    #[error("the signing key must be a PEM-encoded RSA private key (PKCS#8 or PKCS#1)")]
    NotPem,
    #[error("the signing key is a public key or certificate; RS256 needs the private key")]
    NotPrivate,
    #[error("encrypted private keys are not supported; send the key unencrypted")]
    Encrypted,
    #[error("the signing key is not a usable RSA private key")]
    NotRsa,
    #[error("the RSA key must be at least 2048 bits")]
    RsaTooSmall,
    #[error("the RSA key must be at most 8192 bits")]
    RsaTooLarge,
}

/// Loaded custom keys, by a fingerprint of the stored key: loading an RSA key costs about 0.3 ms
/// (2048 bits) to 3 ms (8192 bits), as much as a third of the signature, on every mint otherwise.
/// Bounded: past [`KeyCache::MAX_KEYS`] it starts over. An edited template's key has a new
/// fingerprint, so an old key is never used again, only evicted later.
///
/// With `HALLPASS_KEY_ENCRYPTION_KEY` the keys are stored sealed (see [`crate::at_rest`]), bound to
/// their template's id: [`KeyCache::seal`] before a write, opened here when loaded.
#[derive(Default)]
pub struct KeyCache {
    keys: Mutex<HashMap<String, Arc<CustomKey>>>,
    sealer: Option<Sealer>,
}

/// What a template's key is sealed for (the associated data: a sealed key moved to another row does
/// not open).
fn seal_label(template_id: &str) -> String {
    format!("jwt_templates:{template_id}")
}

impl KeyCache {
    pub const MAX_KEYS: usize = 64;

    /// A cache whose keys are sealed with `sealer` at rest (`None`: stored in the clear).
    pub fn new(sealer: Option<Sealer>) -> KeyCache {
        KeyCache { keys: Mutex::default(), sealer }
    }

    /// `key` (in its normal form, from [`parse_input`]) as template `template_id` stores it: sealed
    /// when a key encryption key is configured.
    pub fn seal(&self, template_id: &str, key: TemplateKey) -> Result<TemplateKey, SealError> {
        match &self.sealer {
            Some(s) => Ok(TemplateKey::new(s.seal(&seal_label(template_id), key.expose())?)),
            None => Ok(key),
        }
    }

    /// `stored` as template `template_id` should store it, when that differs: a key still in the
    /// clear while a key encryption key is configured (stored before it was), sealed. An error when
    /// it is sealed and does not open.
    pub fn reseal(&self, template_id: &str, stored: &TemplateKey) -> Result<Option<TemplateKey>, SealError> {
        let label = seal_label(template_id);
        match unseal(self.sealer.as_ref(), &label, stored.expose())? {
            (plain, true) => self.seal(template_id, TemplateKey::new(plain)).map(Some),
            (_, false) => Ok(None),
        }
    }

    /// The stored key of template `template_id` for `alg`, opened and loaded once.
    pub fn load(
        &self,
        alg: JwtAlgorithm,
        template_id: &str,
        stored: &TemplateKey,
    ) -> Result<Arc<CustomKey>, KeyError> {
        // The template's id too: a sealed key opens only for its own template, so a copy of it on
        // another template's row must not find it here.
        let mut material = String::with_capacity(stored.expose().len() + template_id.len() + 8);
        material.push_str(alg.as_str());
        material.push(':');
        material.push_str(template_id);
        material.push(':');
        material.push_str(stored.expose());
        let id = sha256_hex(material.as_bytes());
        if let Some(key) = self.lock().get(&id) {
            return Ok(Arc::clone(key));
        }
        // Opened and loaded outside the lock: another request may load the same key meanwhile,
        // which costs a load and changes nothing.
        let (plain, _) = unseal(self.sealer.as_ref(), &seal_label(template_id), stored.expose())
            .map_err(|e| KeyError::Rejected(e.to_string()))?;
        let key = Arc::new(CustomKey::load(alg, &TemplateKey::new(plain))?);
        let mut keys = self.lock();
        if keys.len() >= Self::MAX_KEYS {
            keys.clear();
        }
        keys.insert(id, Arc::clone(&key));
        Ok(key)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<CustomKey>>> {
        // A panic while holding the lock cannot leave the map half-written (one insert or clear).
        self.keys.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl std::fmt::Debug for KeyCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "KeyCache({} keys)", self.lock().len())
    }
}

/// A loaded custom key, ready to sign.
pub enum CustomKey {
    Rsa(SigningKey),
    /// Boxed: aws-lc's HMAC key holds its precomputed state inline (over 1 KB).
    Hmac(Box<hmac::Key>, JwtAlgorithm),
}

impl std::fmt::Debug for CustomKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            CustomKey::Rsa(_) => "CustomKey(RS256, [redacted])",
            CustomKey::Hmac(..) => "CustomKey(HMAC, [redacted])",
        })
    }
}

/// Checks what an app sent as `signing_key` for `alg` and returns it in its stored form.
pub fn parse_input(alg: JwtAlgorithm, input: &str) -> Result<TemplateKey, KeyInputError> {
    if input.len() > MAX_KEY_INPUT_BYTES {
        return Err(KeyInputError::TooLong);
    }
    if alg.is_hmac() {
        if input.len() < MIN_HMAC_SECRET_BYTES {
            return Err(KeyInputError::SecretTooShort);
        }
        return Ok(TemplateKey::new(b64url(input.as_bytes())));
    }
    let (label, der) = pem_decode(input).ok_or(KeyInputError::NotPem)?;
    let parsed = match label {
        "PRIVATE KEY" => RsaKeyPair::from_pkcs8(&der),
        "RSA PRIVATE KEY" => RsaKeyPair::from_der(&der),
        "ENCRYPTED PRIVATE KEY" => return Err(KeyInputError::Encrypted),
        "PUBLIC KEY" | "RSA PUBLIC KEY" | "CERTIFICATE" => return Err(KeyInputError::NotPrivate),
        _ => return Err(KeyInputError::NotRsa),
    };
    let pair = parsed.map_err(|rejected| match rejected.description_() {
        "TooSmall" => KeyInputError::RsaTooSmall,
        "TooLarge" => KeyInputError::RsaTooLarge,
        _ => KeyInputError::NotRsa,
    })?;
    let pkcs8 = pair.as_der().map_err(|_| KeyInputError::NotRsa)?;
    // Loading it the way it will be loaded for signing proves the stored form works.
    SigningKey::from_pkcs8(pkcs8.as_ref()).map_err(|_| KeyInputError::NotRsa)?;
    Ok(TemplateKey::new(b64url(pkcs8.as_ref())))
}

/// True when `stored` (made for `stored_alg`) can sign with `alg` as it is: the same family.
pub fn fits(stored_alg: JwtAlgorithm, alg: JwtAlgorithm) -> bool {
    stored_alg.is_hmac() == alg.is_hmac()
}

impl CustomKey {
    /// Loads a stored key for `alg`.
    pub fn load(alg: JwtAlgorithm, stored: &TemplateKey) -> Result<CustomKey, KeyError> {
        let bytes = b64url_decode(stored.expose())
            .ok_or_else(|| KeyError::Rejected("stored template key is not base64url".into()))?;
        let hmac_alg = match alg {
            JwtAlgorithm::Rs256 => return SigningKey::from_pkcs8(&bytes).map(CustomKey::Rsa),
            JwtAlgorithm::Hs256 => hmac::HMAC_SHA256,
            JwtAlgorithm::Hs384 => hmac::HMAC_SHA384,
            JwtAlgorithm::Hs512 => hmac::HMAC_SHA512,
        };
        Ok(CustomKey::Hmac(Box::new(hmac::Key::new(hmac_alg, &bytes)), alg))
    }

    /// A compact JWS of `claims`: `{"alg":…,"typ":"JWT"}`, no `kid`.
    pub fn sign<C: Serialize>(&self, claims: &C) -> Result<String, KeyError> {
        let alg = match self {
            CustomKey::Rsa(_) => JwtAlgorithm::Rs256,
            CustomKey::Hmac(_, alg) => *alg,
        };
        let header = serde_json::json!({"alg": alg.as_str(), "typ": "JWT"});
        let mut token = b64url(&serde_json::to_vec(&header)?);
        token.push('.');
        token.push_str(&b64url(&serde_json::to_vec(claims)?));
        let sig = match self {
            CustomKey::Rsa(key) => key.sign_rs256(token.as_bytes())?,
            CustomKey::Hmac(key, _) => hmac::sign(key, token.as_bytes()).as_ref().to_vec(),
        };
        token.push('.');
        token.push_str(&b64url(&sig));
        Ok(token)
    }
}

/// The label and bytes of a text that is exactly one PEM block (surrounding whitespace allowed).
/// Headers inside the block (legacy encrypted PEM) make it fail: they are not base64.
fn pem_decode(text: &str) -> Option<(&str, Vec<u8>)> {
    let rest = text.trim().strip_prefix("-----BEGIN ")?;
    let (label, rest) = rest.split_once("-----")?;
    let body = rest.strip_suffix("-----")?.strip_suffix(label)?.trim_end().strip_suffix("-----END")?;
    let b64: String = body.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let der = STANDARD.decode(b64).ok()?;
    if der.is_empty() { None } else { Some((label, der)) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lc_rs::rsa::KeySize;

    fn pem(label: &str, der: &[u8]) -> String {
        let b64 = STANDARD.encode(der);
        let lines: Vec<&str> =
            b64.as_bytes().chunks(64).map(|c| std::str::from_utf8(c).unwrap_or_default()).collect();
        format!("-----BEGIN {label}-----\n{}\n-----END {label}-----\n", lines.join("\n"))
    }

    #[test]
    fn pem_blocks_are_parsed_strictly() {
        assert_eq!(pem_decode(&pem("PRIVATE KEY", b"abc")), Some(("PRIVATE KEY", b"abc".to_vec())));
        assert_eq!(
            pem_decode("  \r\n-----BEGIN X-----\r\nYWJj\r\n-----END X-----\r\n "),
            Some(("X", b"abc".to_vec()))
        );
        for bad in [
            "",
            "YWJj",
            "-----BEGIN X-----\nYWJj\n-----END Y-----",
            "-----BEGIN X-----\nProc-Type: 4,ENCRYPTED\n\nYWJj\n-----END X-----",
            "-----BEGIN X-----\n\n-----END X-----",
            "-----BEGIN X-----\nYWJj",
        ] {
            assert_eq!(pem_decode(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn hmac_secrets_need_32_bytes() {
        assert_eq!(parse_input(JwtAlgorithm::Hs256, &"s".repeat(31)), Err(KeyInputError::SecretTooShort));
        let stored = parse_input(JwtAlgorithm::Hs512, &"s".repeat(32)).unwrap();
        assert_eq!(b64url_decode(stored.expose()).unwrap(), vec![b's'; 32]);
        assert_eq!(
            parse_input(JwtAlgorithm::Hs256, &"s".repeat(MAX_KEY_INPUT_BYTES + 1)),
            Err(KeyInputError::TooLong)
        );
    }

    #[test]
    fn rsa_keys_load_from_pkcs8_and_sign_and_bad_ones_are_named() {
        let pair = RsaKeyPair::generate(KeySize::Rsa2048).unwrap();
        let der = pair.as_der().unwrap();
        let stored = parse_input(JwtAlgorithm::Rs256, &pem("PRIVATE KEY", der.as_ref())).unwrap();
        let key = CustomKey::load(JwtAlgorithm::Rs256, &stored).unwrap();
        let token = key.sign(&serde_json::json!({"a": 1})).unwrap();
        assert_eq!(token.split('.').count(), 3);
        assert!(!format!("{key:?}").contains(stored.expose()));

        assert_eq!(parse_input(JwtAlgorithm::Rs256, "not a key"), Err(KeyInputError::NotPem));
        assert_eq!(
            parse_input(JwtAlgorithm::Rs256, &pem("PUBLIC KEY", der.as_ref())),
            Err(KeyInputError::NotPrivate)
        );
        assert_eq!(
            parse_input(JwtAlgorithm::Rs256, &pem("ENCRYPTED PRIVATE KEY", der.as_ref())),
            Err(KeyInputError::Encrypted)
        );
        assert_eq!(
            parse_input(JwtAlgorithm::Rs256, &pem("EC PRIVATE KEY", b"x")),
            Err(KeyInputError::NotRsa)
        );
        assert_eq!(
            parse_input(JwtAlgorithm::Rs256, &pem("PRIVATE KEY", b"garbage")),
            Err(KeyInputError::NotRsa)
        );
        assert_eq!(
            parse_input(JwtAlgorithm::Rs256, &pem("RSA PRIVATE KEY", der.as_ref())),
            Err(KeyInputError::NotRsa),
            "PKCS#8 bytes under a PKCS#1 label"
        );
        assert!(
            fits(JwtAlgorithm::Hs256, JwtAlgorithm::Hs512) && !fits(JwtAlgorithm::Rs256, JwtAlgorithm::Hs256)
        );
    }

    #[test]
    fn the_key_cache_loads_each_key_once_and_stays_bounded() {
        let cache = KeyCache::default();
        let secret = |i: usize| parse_input(JwtAlgorithm::Hs256, &format!("{i:0>40}")).unwrap();
        let first = cache.load(JwtAlgorithm::Hs256, "jtmp_1", &secret(1)).unwrap();
        assert!(Arc::ptr_eq(&first, &cache.load(JwtAlgorithm::Hs256, "jtmp_1", &secret(1)).unwrap()));
        // Another key, or the same secret for another algorithm, is another entry.
        assert!(!Arc::ptr_eq(&first, &cache.load(JwtAlgorithm::Hs256, "jtmp_1", &secret(2)).unwrap()));
        let hs512 = cache.load(JwtAlgorithm::Hs512, "jtmp_1", &secret(1)).unwrap();
        assert!(!Arc::ptr_eq(&first, &hs512));
        let claims = serde_json::json!({"sub": "user_1"});
        let header = |jwt: &str| jwt.split('.').next().map(str::to_owned).unwrap();
        assert_eq!(header(&first.sign(&claims).unwrap()), b64url(br#"{"alg":"HS256","typ":"JWT"}"#));
        assert_eq!(header(&hs512.sign(&claims).unwrap()), b64url(br#"{"alg":"HS512","typ":"JWT"}"#));
        // A stored key that does not load is an error, and nothing is kept for it.
        let entries = cache.lock().len();
        let broken = TemplateKey::new(String::from("not base64url!"));
        assert!(cache.load(JwtAlgorithm::Hs256, "jtmp_1", &broken).is_err());
        assert_eq!(cache.lock().len(), entries);
        // Never more than MAX_KEYS.
        for i in 0..2 * KeyCache::MAX_KEYS {
            cache.load(JwtAlgorithm::Hs256, "jtmp_1", &secret(100 + i)).unwrap();
            assert!(cache.lock().len() <= KeyCache::MAX_KEYS);
        }
        assert!(!format!("{cache:?}").contains(secret(1).expose()));
    }

    #[test]
    fn sealed_keys_open_only_for_their_template_and_with_the_key() {
        let sealer = || Some(Sealer::new(&b64url(&[9u8; 32])).unwrap());
        let cache = KeyCache::new(sealer());
        let key = parse_input(JwtAlgorithm::Hs256, "a-shared-secret-of-at-least-32-bytes!").unwrap();
        let stored = cache.seal("jtmp_a", key.clone()).unwrap();
        assert!(stored.expose().starts_with(crate::at_rest::SEALED_PREFIX));
        assert!(!stored.expose().contains(key.expose()));
        let claims = serde_json::json!({"sub": "user_1"});
        let plain = KeyCache::default().load(JwtAlgorithm::Hs256, "jtmp_a", &key).unwrap();
        let opened = cache.load(JwtAlgorithm::Hs256, "jtmp_a", &stored).unwrap();
        assert_eq!(opened.sign(&claims).unwrap(), plain.sign(&claims).unwrap(), "the same secret signs");
        // Moved to another template's row, without the key, or with another key: it does not open.
        assert!(KeyCache::new(sealer()).load(JwtAlgorithm::Hs256, "jtmp_b", &stored).is_err());
        assert!(KeyCache::default().load(JwtAlgorithm::Hs256, "jtmp_a", &stored).is_err());
        let other = KeyCache::new(Some(Sealer::new(&b64url(&[8u8; 32])).unwrap()));
        assert!(other.load(JwtAlgorithm::Hs256, "jtmp_a", &stored).is_err());
        // Resealing: a key in the clear is sealed; a sealed one is left; without a sealer nothing.
        assert!(cache.reseal("jtmp_a", &stored).unwrap().is_none());
        let resealed = cache.reseal("jtmp_a", &key).unwrap().unwrap();
        assert!(cache.load(JwtAlgorithm::Hs256, "jtmp_a", &resealed).is_ok());
        assert!(KeyCache::default().reseal("jtmp_a", &key).unwrap().is_none());
        assert!(KeyCache::default().reseal("jtmp_a", &stored).is_err());
    }
}
