//! JWT templates (Clerk-compatible): named claim sets that the Frontend API mints tokens from, for
//! apps whose other services want a JWT of their own shape (Supabase, Hasura, Convex, …).
//!
//! - [`rules`]: what a valid name, claims object, lifetime and clock skew are.
//! - [`render`]: Clerk shortcodes (`{{user.primary_email_address}}`) rendered for one user.
//! - [`signer`]: custom signing keys (HS256/384/512 secrets, RS256 PEM keys).
//! - Here: choosing the signer from a create/update request ([`signing`]), and minting a token
//!   ([`mint`]): the rendered claims, then the server's own `sub`, `sid`, `iss`, `azp`, `iat`,
//!   `nbf`, `exp`, `jti` on top, signed by the template's key or the instance's JWKS key.

pub mod render;
pub mod rules;
pub mod signer;

use hallpass_protocol::{ErrorCode, JwtAlgorithm, Metadata};
use serde_json::Value;

use crate::error::ApiError;
use crate::jwt::{KeyError, SigningKey};
use crate::secret::TemplateKey;
use crate::store::{JwtTemplateRecord, SessionRecord, UserRecord};

/// The largest claims set a template may render to, serialised. The template itself is at most
/// 8 KiB, but each metadata shortcode can add up to 8 KiB more.
pub const MAX_RENDERED_CLAIMS_BYTES: usize = 64 * 1024;

/// How a template signs: the algorithm, and the custom key (`None`: the instance key, RS256).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signing {
    pub algorithm: JwtAlgorithm,
    pub key: Option<TemplateKey>,
}

impl Signing {
    /// The instance's own key.
    pub fn instance() -> Signing {
        Signing { algorithm: JwtAlgorithm::Rs256, key: None }
    }
}

/// The signing fields of a create or update request.
#[derive(Clone, Copy, Debug, Default)]
pub struct SigningRequest<'a> {
    pub custom_signing_key: Option<bool>,
    pub signing_algorithm: Option<JwtAlgorithm>,
    pub signing_key: Option<&'a str>,
}

/// The signing that results from `req` applied to `current` (`Signing::instance()` on create).
///
/// Absent fields keep what is there. Without a custom key the algorithm can only be RS256 and a
/// `signing_key` is refused (it would be silently unused). A custom key needs an algorithm and a
/// key; an update may keep the stored key when the algorithm stays in its family (HS256 → HS512),
/// not across families (an RSA key is no HMAC secret).
pub fn signing(current: &Signing, req: SigningRequest<'_>) -> Result<Signing, ApiError> {
    let custom = req.custom_signing_key.unwrap_or(current.key.is_some());
    if !custom {
        if req.signing_key.is_some() {
            return Err(value_invalid(
                "signing_key",
                "`signing_key` needs `custom_signing_key: true`",
                "Set `custom_signing_key` to true to sign with your own key, or leave `signing_key` out to \
                 sign with the instance key.",
            ));
        }
        if req.signing_algorithm.is_some_and(|a| a != JwtAlgorithm::Rs256) {
            return Err(value_invalid(
                "signing_algorithm",
                "This algorithm needs a custom signing key",
                "The instance key signs RS256 only; send `custom_signing_key: true` and a `signing_key` to \
                 use another algorithm.",
            ));
        }
        return Ok(Signing::instance());
    }
    let current_custom = current.key.as_ref().map(|k| (current.algorithm, k));
    let algorithm = match (req.signing_algorithm, current_custom) {
        (Some(alg), _) => alg,
        (None, Some((alg, _))) => alg,
        (None, None) => {
            return Err(ApiError::unprocessable(
                ErrorCode::FormParamMissing,
                "`signing_algorithm` is required with a custom signing key",
            )
            .param("signing_algorithm"));
        }
    };
    let key = match (req.signing_key, current_custom) {
        (Some(input), _) => signer::parse_input(algorithm, input).map_err(|e| {
            value_invalid("signing_key", "The signing key cannot be used", &format!("{}.", capitalise(&e)))
        })?,
        (None, Some((stored_alg, stored))) if signer::fits(stored_alg, algorithm) => stored.clone(),
        (None, _) => {
            return Err(ApiError::unprocessable(
                ErrorCode::FormParamMissing,
                "`signing_key` is required for this algorithm",
            )
            .param("signing_key"));
        }
    };
    Ok(Signing { algorithm, key: Some(key) })
}

fn value_invalid(param: &str, message: &str, long: &str) -> ApiError {
    ApiError::unprocessable(ErrorCode::FormParamValueInvalid, message).with_long_message(long).param(param)
}

fn capitalise(e: &signer::KeyInputError) -> String {
    let text = e.to_string();
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => text,
    }
}

/// The server-set claims of one token.
#[derive(Clone, Debug)]
pub struct Standard {
    /// The token's issuer (the server's public URL).
    pub issuer: String,
    /// The request's Origin, when it had one (already checked against the allow-list).
    pub azp: Option<String>,
    pub now_ms: i64,
    pub jti: String,
}

/// Why a token could not be minted.
#[derive(Debug, thiserror::Error)]
pub enum MintError {
    #[error(
        "template `{name}` renders over {bytes} bytes of claims, more than the {MAX_RENDERED_CLAIMS_BYTES}-byte limit"
    )]
    TooLarge { name: String, bytes: usize },
    #[error("signing a `{name}` token failed: {source}")]
    Key { name: String, source: KeyError },
}

/// A minted token and its expiry (seconds since the epoch).
#[derive(Debug)]
pub struct Minted {
    pub jwt: String,
    pub exp: i64,
}

/// The claims of a token from `template` for `user` in `session`: the template rendered, then the
/// server's claims, which always win.
///
/// Rendering stops as soon as its output passes [`MAX_RENDERED_CLAIMS_BYTES`]
/// ([`MintError::TooLarge`]): a template repeating `{{user.unsafe_metadata}}` for a user with 8 KiB
/// of it would otherwise build megabytes before anything is checked.
pub fn claims(
    template: &JwtTemplateRecord,
    user: &UserRecord,
    session: &SessionRecord,
    standard: &Standard,
) -> Result<Metadata, MintError> {
    let ctx = render::Context::new(user, session);
    let mut claims = render::render_claims(&template.claims, &ctx, MAX_RENDERED_CLAIMS_BYTES)
        .map_err(|o| MintError::TooLarge { name: template.name.clone(), bytes: o.rendered })?;
    let iat = standard.now_ms.div_euclid(1000);
    let mut set = |k: &str, v: Value| {
        claims.insert(k.to_owned(), v);
    };
    set("sub", user.id.clone().into());
    set("sid", session.id.clone().into());
    set("iss", standard.issuer.clone().into());
    set("iat", iat.into());
    set("nbf", (iat - i64::from(template.allowed_clock_skew)).into());
    set("exp", (iat + i64::from(template.lifetime)).into());
    set("jti", standard.jti.clone().into());
    match &standard.azp {
        Some(origin) => set("azp", origin.clone().into()),
        None => {
            claims.remove("azp");
        }
    }
    Ok(claims)
}

/// Mints a token from `template`, signed by its custom key (loaded through `custom_keys`) or by
/// `instance_key`. CPU-bound (an RS256 signature takes 0.8 ms with a 2048-bit key, 36 ms with an
/// 8192-bit one): async callers run it on a blocking thread.
pub fn mint(
    template: &JwtTemplateRecord,
    user: &UserRecord,
    session: &SessionRecord,
    standard: &Standard,
    instance_key: &SigningKey,
    custom_keys: &signer::KeyCache,
) -> Result<Minted, MintError> {
    let claims = claims(template, user, session, standard)?;
    let key_error = |source| MintError::Key { name: template.name.clone(), source };
    let bytes = serde_json::to_vec(&claims).map_err(|e| key_error(KeyError::Claims(e)))?.len();
    if bytes > MAX_RENDERED_CLAIMS_BYTES {
        return Err(MintError::TooLarge { name: template.name.clone(), bytes });
    }
    let exp = claims.get("exp").and_then(Value::as_i64).unwrap_or(0);
    let jwt = match &template.signing_key {
        None => instance_key.mint(&claims),
        Some(key) => {
            custom_keys.load(template.signing_algorithm, &template.id, key).and_then(|k| k.sign(&claims))
        }
    }
    .map_err(key_error)?;
    Ok(Minted { jwt, exp })
}

/// A user (with private metadata and a password hash that must never leak) and their session.
#[cfg(test)]
pub(crate) mod fixtures {
    use hallpass_protocol::{Metadata, SessionStatus};

    use crate::store::{SessionRecord, UserRecord};

    pub fn user_and_session() -> (UserRecord, SessionRecord) {
        let mut private = Metadata::new();
        private.insert("stripe".into(), "cus_secret".into());
        let user = UserRecord {
            id: "user_1".into(),
            first_name: Some("Ada".into()),
            last_name: Some("Lovelace".into()),
            image_url: String::new(),
            password_hash: Some("$argon2id$secret".into()),
            email_id: Some("idn_1".into()),
            email: Some("ada@example.com".into()),
            email_verified_at: None,
            email_verification_strategy: None,
            email_count: 1,
            other_emails: Vec::new(),
            public_metadata: Metadata::new(),
            private_metadata: private,
            unsafe_metadata: Metadata::new(),
            last_sign_in_at: None,
            created_at: 1_700_000_000_999,
            updated_at: 1_700_000_001_000,
        };
        let session = SessionRecord {
            id: "sess_1".into(),
            user_id: "user_1".into(),
            status: SessionStatus::Active,
            last_active_at: 0,
            expire_at: 0,
            abandon_at: 0,
            active_organization_id: None,
            created_at: 0,
            updated_at: 0,
            user_agent: None,
            ip_address: None,
        };
        (user, session)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template(claims: serde_json::Value) -> JwtTemplateRecord {
        JwtTemplateRecord {
            id: "jtmp_1".into(),
            name: "t".into(),
            claims: serde_json::from_value(claims).unwrap(),
            lifetime: 120,
            allowed_clock_skew: 7,
            signing_algorithm: JwtAlgorithm::Rs256,
            signing_key: None,
            created_at: 0,
            updated_at: 0,
        }
    }

    fn standard(azp: Option<&str>) -> Standard {
        Standard {
            issuer: "https://auth.example.com".into(),
            azp: azp.map(str::to_owned),
            now_ms: 1_700_000_000_500,
            jti: "j1".into(),
        }
    }

    #[test]
    fn server_claims_are_added_and_always_win() {
        let (user, session) = fixtures::user_and_session();
        // As if a reserved claim had reached the database some other way.
        let t = template(serde_json::json!({"sub": "evil", "azp": "evil", "aud": "x", "e": "{{user.id}}"}));
        let c = claims(&t, &user, &session, &standard(Some("http://localhost:3000"))).unwrap();
        let c = serde_json::Value::Object(c);
        assert_eq!(
            c,
            serde_json::json!({
                "sub": "user_1", "sid": "sess_1", "iss": "https://auth.example.com", "azp": "http://localhost:3000",
                "iat": 1_700_000_000, "nbf": 1_700_000_000 - 7, "exp": 1_700_000_000 + 120, "jti": "j1",
                "aud": "x", "e": "user_1",
            })
        );
        let no_origin = claims(&t, &user, &session, &standard(None)).unwrap();
        assert!(!no_origin.contains_key("azp"));
    }

    #[test]
    fn oversized_renderings_are_refused() {
        let (mut user, session) = fixtures::user_and_session();
        user.public_metadata.insert("blob".into(), "x".repeat(8000).into());
        let many: serde_json::Map<String, serde_json::Value> =
            (0..10).map(|i| (format!("c{i}"), "{{user.public_metadata}}".into())).collect();
        let t = template(serde_json::Value::Object(many));
        let (key, _) = SigningKey::generate().unwrap();
        let err = mint(&t, &user, &session, &standard(None), &key, &signer::KeyCache::default()).unwrap_err();
        assert!(matches!(err, MintError::TooLarge { .. }), "{err}");
    }

    #[test]
    fn rendering_stops_at_the_limit_instead_of_building_everything_first() {
        // 300 copies of an 8 KB object would be 2.4 MB; rendering gives up within one copy of the
        // limit.
        let (mut user, session) = fixtures::user_and_session();
        user.unsafe_metadata.insert("blob".into(), "x".repeat(8000).into());
        let many: serde_json::Map<String, serde_json::Value> =
            (0..300).map(|i| (format!("c{i}"), "{{user.unsafe_metadata}}".into())).collect();
        let t = template(serde_json::Value::Object(many));
        match claims(&t, &user, &session, &standard(None)) {
            Err(MintError::TooLarge { bytes, .. }) => {
                assert!(
                    bytes > MAX_RENDERED_CLAIMS_BYTES && bytes < MAX_RENDERED_CLAIMS_BYTES + 9_000,
                    "{bytes}"
                )
            }
            other => panic!("{other:?}"),
        }
        // Interpolated text is charged piece by piece too.
        let text: serde_json::Map<String, serde_json::Value> =
            [("t".to_owned(), "{{user.unsafe_metadata}}".repeat(300).into())].into_iter().collect();
        let t = template(serde_json::Value::Object(text));
        assert!(matches!(claims(&t, &user, &session, &standard(None)), Err(MintError::TooLarge { .. })));
    }

    fn hs_key() -> TemplateKey {
        signer::parse_input(JwtAlgorithm::Hs256, &"k".repeat(32)).unwrap()
    }

    fn req<'a>(custom: Option<bool>, alg: Option<JwtAlgorithm>, key: Option<&'a str>) -> SigningRequest<'a> {
        SigningRequest { custom_signing_key: custom, signing_algorithm: alg, signing_key: key }
    }

    #[test]
    fn signing_defaults_to_the_instance_key() {
        assert_eq!(signing(&Signing::instance(), req(None, None, None)).unwrap(), Signing::instance());
        let rs = req(Some(false), Some(JwtAlgorithm::Rs256), None);
        assert_eq!(signing(&Signing::instance(), rs).unwrap(), Signing::instance());
        let e = signing(&Signing::instance(), req(None, Some(JwtAlgorithm::Hs256), None)).unwrap_err();
        assert_eq!(
            (e.code, e.meta["param_name"].as_str()),
            (ErrorCode::FormParamValueInvalid, Some("signing_algorithm"))
        );
        let secret = "k".repeat(32);
        let e =
            signing(&Signing::instance(), req(None, Some(JwtAlgorithm::Hs256), Some(&secret))).unwrap_err();
        assert_eq!(
            (e.code, e.meta["param_name"].as_str()),
            (ErrorCode::FormParamValueInvalid, Some("signing_key"))
        );
    }

    #[test]
    fn custom_keys_need_an_algorithm_and_a_key() {
        let secret = "k".repeat(32);
        let e = signing(&Signing::instance(), req(Some(true), None, Some(&secret))).unwrap_err();
        assert_eq!(e.code, ErrorCode::FormParamMissing);
        let e = signing(&Signing::instance(), req(Some(true), Some(JwtAlgorithm::Hs256), None)).unwrap_err();
        assert_eq!(
            (e.code, e.meta["param_name"].as_str()),
            (ErrorCode::FormParamMissing, Some("signing_key"))
        );
        let e = signing(&Signing::instance(), req(Some(true), Some(JwtAlgorithm::Hs256), Some("short")))
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::FormParamValueInvalid);
        assert!(!e.long_message.contains("short"), "the key is never echoed");
        let ok =
            signing(&Signing::instance(), req(Some(true), Some(JwtAlgorithm::Hs384), Some(&secret))).unwrap();
        assert_eq!(ok.algorithm, JwtAlgorithm::Hs384);
    }

    #[test]
    fn updates_keep_a_stored_key_within_its_family_only() {
        let current = Signing { algorithm: JwtAlgorithm::Hs256, key: Some(hs_key()) };
        let same = signing(&current, req(None, None, None)).unwrap();
        assert_eq!(same, current);
        let hs512 = signing(&current, req(None, Some(JwtAlgorithm::Hs512), None)).unwrap();
        assert_eq!((hs512.algorithm, hs512.key), (JwtAlgorithm::Hs512, current.key.clone()));
        let e = signing(&current, req(None, Some(JwtAlgorithm::Rs256), None)).unwrap_err();
        assert_eq!(
            (e.code, e.meta["param_name"].as_str()),
            (ErrorCode::FormParamMissing, Some("signing_key"))
        );
        assert_eq!(signing(&current, req(Some(false), None, None)).unwrap(), Signing::instance());
    }
}
