//! [`Verifier`]: a Hallpass session token checked as `hallpass/server`'s `verifyToken` checks it —
//! RS256 only (the header's `alg` is never trusted), the key by `kid` from a local key or the JWKS
//! cache ([`crate::jwks`]), the signature before any claim, then `iss`, `nbf`/`exp`/`iat` with the
//! allowed clock skew (5 s), `v: 2` — a JWT template's token is signed by the same key but is no
//! session token — and `azp` against the authorized parties.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hallpass_protocol::SessionClaims;
use hallpass_protocol::keys::decode_publishable_key;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::http::Http;
use crate::jwks::{JwksOptions, RemoteJwks, keys_by_kid};

/// The tolerated difference between the Hallpass server's clock and this one (Clerk's default).
pub const DEFAULT_CLOCK_SKEW: Duration = Duration::from_secs(5);
/// A session token is well under 2 KiB; anything much larger is refused before any work.
const MAX_TOKEN_LEN: usize = 16 * 1024;
/// The session token's version claim (Clerk's v2 shape).
const SESSION_TOKEN_VERSION: u64 = 2;

/// A verified session token.
#[derive(Clone, Debug)]
pub struct VerifiedToken {
    pub claims: SessionClaims,
    /// The `kid` of its header.
    pub key_id: Option<String>,
    /// Every claim, for those [`SessionClaims`] does not name.
    pub raw_claims: serde_json::Map<String, Value>,
}

enum Keys {
    /// A PEM public key: whatever the token's `kid`.
    Pem(DecodingKey),
    /// A JWKS given as configuration: the key of the token's `kid`.
    Local(std::collections::HashMap<String, DecodingKey>),
    Remote(RemoteJwks),
}

/// Checks session tokens of one Hallpass instance. Cheap to clone (one shared key cache).
#[derive(Clone)]
pub struct Verifier {
    inner: Arc<Inner>,
}

struct Inner {
    keys: Keys,
    issuer: Option<String>,
    authorized_parties: Vec<String>,
    skew: Duration,
    /// The instance's Frontend API URL, when the verifier knows it.
    frontend_api: Option<String>,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("issuer", &self.inner.issuer)
            .field("authorized_parties", &self.inner.authorized_parties)
            .finish_non_exhaustive()
    }
}

/// Builds a [`Verifier`]: where the keys come from, then the checks.
pub struct VerifierBuilder {
    keys: Keys,
    issuer: Option<String>,
    authorized_parties: Vec<String>,
    skew: Duration,
    frontend_api: Option<String>,
}

fn trimmed(url: &str) -> String {
    url.trim_end_matches('/').to_owned()
}

impl Verifier {
    /// The keys from `<frontend_api>/.well-known/jwks.json` (cached), and `iss` must be `frontend_api`.
    pub fn frontend_api(frontend_api: &str) -> Result<VerifierBuilder> {
        Self::frontend_api_with(frontend_api, Http::new()?, JwksOptions::default())
    }

    /// The same with a given HTTP client and cache timings.
    pub fn frontend_api_with(
        frontend_api: &str,
        http: Http,
        options: JwksOptions,
    ) -> Result<VerifierBuilder> {
        if !(frontend_api.starts_with("http://") || frontend_api.starts_with("https://")) {
            return Err(Error::Config("the Frontend API URL must be an http(s) URL".into()));
        }
        let api = trimmed(frontend_api);
        let jwks = RemoteJwks::new(format!("{api}/.well-known/jwks.json"), http, options);
        Ok(VerifierBuilder::new(Keys::Remote(jwks), Some(api.clone()), Some(api)))
    }

    /// The instance a publishable key (`pk_test_…` / `pk_live_…`) names, as [`Self::frontend_api`].
    pub fn publishable_key(publishable_key: &str) -> Result<VerifierBuilder> {
        let api = decode_publishable_key(publishable_key)
            .ok_or_else(|| Error::Config("not a Hallpass publishable key (pk_test_… / pk_live_…)".into()))?;
        Self::frontend_api(&api)
    }

    /// The keys from a JWKS URL (cached); no issuer is checked unless [`VerifierBuilder::issuer`] says.
    pub fn jwks_url(url: &str, http: Http, options: JwksOptions) -> VerifierBuilder {
        VerifierBuilder::new(Keys::Remote(RemoteJwks::new(url.to_owned(), http, options)), None, None)
    }

    /// Networkless: the instance's public key as PEM (`-----BEGIN PUBLIC KEY-----`), or its JWKS
    /// document (or one JWK of it) as JSON.
    pub fn jwt_key(key: &str) -> Result<VerifierBuilder> {
        let text = key.trim();
        let keys = if text.starts_with("-----BEGIN") {
            Keys::Pem(
                DecodingKey::from_rsa_pem(text.as_bytes())
                    .map_err(|e| Error::Config(format!("the PEM key cannot be used: {e}")))?,
            )
        } else {
            let value: Value = serde_json::from_str(text)
                .map_err(|_| Error::Config("the JWT key is neither PEM nor JSON".into()))?;
            let jwks: JwkSet = if value.get("kty").is_some() {
                serde_json::from_value(serde_json::json!({ "keys": [value] }))
            } else {
                serde_json::from_value(value)
            }
            .map_err(|e| Error::Config(format!("not a JWKS document: {e}")))?;
            Keys::Local(keys_by_kid(&jwks))
        };
        Ok(VerifierBuilder::new(keys, None, None))
    }

    /// Verifies `token` now.
    pub async fn verify(&self, token: &str) -> Result<VerifiedToken> {
        self.verify_at(token, SystemTime::now()).await
    }

    /// Verifies `token` as of `now` (tests, and servers whose notion of now is not the system's).
    pub async fn verify_at(&self, token: &str, now: SystemTime) -> Result<VerifiedToken> {
        let header = Header::parse(token)?;
        if header.alg != "RS256" {
            return Err(Error::TokenInvalidAlgorithm);
        }
        let key = match &self.inner.keys {
            Keys::Pem(key) => key.clone(),
            Keys::Local(keys) => {
                let kid = header
                    .kid
                    .as_deref()
                    .ok_or_else(|| Error::TokenInvalid("the header has no kid".into()))?;
                keys.get(kid).cloned().ok_or_else(|| Error::KidMismatch(kid.to_owned()))?
            }
            Keys::Remote(jwks) => {
                let kid = header
                    .kid
                    .as_deref()
                    .ok_or_else(|| Error::TokenInvalid("the header has no kid".into()))?;
                jwks.key(kid).await?
            }
        };
        let raw = verify_signature(token, &key)?;
        let now_ms = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64);
        self.check_claims(raw, header.kid, now_ms)
    }

    fn check_claims(
        &self,
        raw: serde_json::Map<String, Value>,
        kid: Option<String>,
        now_ms: i64,
    ) -> Result<VerifiedToken> {
        let skew_ms = self.inner.skew.as_millis() as i64;
        let secs = |name: &str| {
            raw.get(name)
                .and_then(Value::as_i64)
                .ok_or_else(|| Error::TokenInvalid(format!("the `{name}` claim is missing or not a number")))
        };
        if let Some(issuer) = &self.inner.issuer {
            let iss = raw.get("iss").and_then(Value::as_str).unwrap_or_default();
            if iss != issuer {
                return Err(Error::TokenInvalidIssuer(iss.to_owned()));
            }
        }
        let (exp, nbf, iat) = (secs("exp")?, secs("nbf")?, secs("iat")?);
        if nbf.saturating_mul(1000) > now_ms.saturating_add(skew_ms) {
            return Err(Error::TokenNotActiveYet);
        }
        if exp.saturating_mul(1000).saturating_add(skew_ms) <= now_ms {
            return Err(Error::TokenExpired);
        }
        if iat.saturating_mul(1000) > now_ms.saturating_add(skew_ms) {
            return Err(Error::TokenIatInTheFuture);
        }
        if raw.get("v").and_then(Value::as_u64) != Some(SESSION_TOKEN_VERSION) {
            return Err(Error::TokenTypeMismatch);
        }
        let claims: SessionClaims = serde_json::from_value(Value::Object(raw.clone()))
            .map_err(|e| Error::TokenInvalid(format!("the claims are not a session token's: {e}")))?;
        if let Some(azp) = &claims.azp
            && !self.inner.authorized_parties.is_empty()
            && !self.inner.authorized_parties.iter().any(|p| p == azp)
        {
            return Err(Error::TokenInvalidAuthorizedParty(azp.clone()));
        }
        Ok(VerifiedToken { claims, key_id: kid, raw_claims: raw })
    }

    /// The instance's Frontend API URL, when the verifier was made from it.
    pub fn frontend_api_url(&self) -> Option<&str> {
        self.inner.frontend_api.as_deref()
    }
}

impl VerifierBuilder {
    fn new(keys: Keys, issuer: Option<String>, frontend_api: Option<String>) -> VerifierBuilder {
        VerifierBuilder {
            keys,
            issuer,
            authorized_parties: Vec::new(),
            skew: DEFAULT_CLOCK_SKEW,
            frontend_api,
        }
    }

    /// The `iss` tokens must have.
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(issuer.into());
        self
    }

    /// Origins whose tokens are accepted (`azp`); any when none are given.
    pub fn authorized_parties<I: IntoIterator<Item = S>, S: Into<String>>(mut self, parties: I) -> Self {
        self.authorized_parties = parties.into_iter().map(Into::into).collect();
        self
    }

    /// The tolerated clock difference (default 5 s).
    pub fn clock_skew(mut self, skew: Duration) -> Self {
        self.skew = skew;
        self
    }

    pub fn build(self) -> Verifier {
        let VerifierBuilder { keys, issuer, authorized_parties, skew, frontend_api } = self;
        Verifier { inner: Arc::new(Inner { keys, issuer, authorized_parties, skew, frontend_api }) }
    }
}

/// The two header fields that decide how a token is checked.
struct Header {
    alg: String,
    kid: Option<String>,
}

impl Header {
    fn parse(token: &str) -> Result<Header> {
        if token.is_empty() || token.len() > MAX_TOKEN_LEN || token.split('.').count() != 3 {
            return Err(Error::TokenInvalid("not a JWT".into()));
        }
        let first = token.split('.').next().unwrap_or_default();
        let bytes = URL_SAFE_NO_PAD
            .decode(first)
            .map_err(|_| Error::TokenInvalid("the header is not base64url".into()))?;
        let value: Value = serde_json::from_slice(&bytes)
            .map_err(|_| Error::TokenInvalid("the header is not JSON".into()))?;
        let alg = value.get("alg").and_then(Value::as_str).unwrap_or_default().to_owned();
        let kid = value.get("kid").and_then(Value::as_str).map(str::to_owned);
        Ok(Header { alg, kid })
    }
}

/// The claims of `token` once its RS256 signature checks out with `key` (nothing else is judged here).
fn verify_signature(token: &str, key: &DecodingKey) -> Result<serde_json::Map<String, Value>> {
    let mut validation = Validation::new(Algorithm::RS256);
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    match jsonwebtoken::decode::<serde_json::Map<String, Value>>(token, key, &validation) {
        Ok(data) => Ok(data.claims),
        Err(e) => Err(match e.kind() {
            jsonwebtoken::errors::ErrorKind::InvalidSignature => Error::TokenInvalidSignature,
            jsonwebtoken::errors::ErrorKind::InvalidAlgorithm => Error::TokenInvalidAlgorithm,
            _ => Error::TokenInvalid(e.to_string()),
        }),
    }
}
