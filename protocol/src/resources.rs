//! Clerk-shaped resources: what the APIs return about users, their images, sessions and JWT
//! templates.
//!
//! `private_metadata` is a field of [`User`] only on the Backend API; the Frontend API never sends it
//! (the server serialises users for the browser with it absent, and it is skipped when `None`).

use serde::{Deserialize, Serialize};

use crate::{Metadata, Wire};

/// A user account.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, Wire)]
pub struct User {
    /// Always `"user"`.
    #[serde(default = "user_object")]
    pub object: String,
    /// `user_…`
    pub id: String,
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
    /// A URL for the user's avatar; empty when none is set.
    #[serde(default)]
    pub image_url: String,
    #[serde(default)]
    pub email_addresses: Vec<EmailAddress>,
    #[serde(default)]
    pub primary_email_address_id: Option<String>,
    /// Readable by the browser, writable by the Backend API only.
    #[serde(default)]
    pub public_metadata: Metadata,
    /// Readable and writable by the browser (the user may change it).
    #[serde(default)]
    pub unsafe_metadata: Metadata,
    /// Backend API only; never sent to the browser.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_metadata: Option<Metadata>,
    #[serde(default)]
    pub password_enabled: bool,
    #[serde(default)]
    pub last_sign_in_at: Option<i64>,
    #[serde(default)]
    pub created_at: i64,
    #[serde(default)]
    pub updated_at: i64,
}

fn user_object() -> String {
    "user".into()
}

impl User {
    /// The primary email address, if any.
    pub fn primary_email_address(&self) -> Option<&EmailAddress> {
        let id = self.primary_email_address_id.as_deref()?;
        self.email_addresses.iter().find(|e| e.id == id)
    }
}

/// One email address of a user.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, Wire)]
pub struct EmailAddress {
    /// Always `"email_address"`.
    #[serde(default = "email_object")]
    pub object: String,
    /// `idn_…`
    pub id: String,
    /// Normalised: trimmed, lower-case.
    pub email_address: String,
    /// `status: "verified"` (and how) once the address is proven to be the user's; `None` while it
    /// is not (addresses from a sign-up that did not require verification, until verified).
    #[serde(default)]
    pub verification: Option<crate::Verification>,
}

fn email_object() -> String {
    "email_address".into()
}

/// An uploaded image (Clerk's `ImageResource`): what `POST /v1/client/me/profile_image` answers.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, Wire)]
pub struct Image {
    /// Always `"image"`.
    #[serde(default = "image_object")]
    pub object: String,
    /// `img_…`, unguessable (it is the image's address).
    pub id: String,
    /// A file name made from the id and the type (`img_….png`): the body carries no name.
    #[serde(default)]
    pub name: String,
    /// Where anyone can fetch it: `GET /v1/images/{id}` on the server's public URL (the user's
    /// `image_url` from now on).
    pub public_url: String,
}

impl Image {
    /// The largest image the server accepts (1 MiB); a larger body is 413 `request_body_too_large`.
    pub const MAX_BYTES: usize = 1024 * 1024;
    /// The types the server accepts (`Content-Type`; the image's first bytes must agree, else 422
    /// `form_param_format_invalid`); any other is 415 `unsupported_media_type`.
    pub const TYPES: &'static [&'static str] = &["image/png", "image/jpeg", "image/gif", "image/webp"];
}

fn image_object() -> String {
    "image".into()
}

/// The lifecycle state of a session.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, Wire)]
#[serde(rename_all = "snake_case")]
pub enum SessionStatus {
    #[default]
    Active,
    /// Signed out by its user.
    Ended,
    /// Revoked by the user from another session, by the Backend API, or after refresh-token reuse.
    Revoked,
    /// Idle timeout or absolute lifetime passed.
    Expired,
    /// Deleted with its user while still active: only ever seen in a `session.removed` event (the
    /// APIs cannot list a session that is gone).
    Removed,
}

/// A signed-in session of one user on one client.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, Wire)]
pub struct Session {
    /// Always `"session"`.
    #[serde(default = "session_object")]
    pub object: String,
    /// `sess_…`
    pub id: String,
    pub user_id: String,
    #[serde(default)]
    pub status: SessionStatus,
    /// When the session ends if it stays idle (no refresh) until then.
    #[serde(default)]
    pub expire_at: i64,
    /// When the session ends whatever happens (absolute lifetime).
    #[serde(default)]
    pub abandon_at: i64,
    /// The session's active organization (`org_…`), whose claims its session tokens carry; `None`
    /// for the personal account.
    #[serde(default)]
    pub last_active_organization_id: Option<String>,
    #[serde(default)]
    pub last_active_at: i64,
    #[serde(default)]
    pub created_at: i64,
    #[serde(default)]
    pub updated_at: i64,
}

fn session_object() -> String {
    "session".into()
}

/// A session as the profile's device list shows it (Clerk's `SessionWithActivities`): the session's
/// fields and the device it was started on. `GET /v1/client/sessions` answers these.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionWithActivities {
    #[serde(flatten)]
    pub session: Session,
    /// `None` only for a session started before the server recorded devices.
    #[serde(default)]
    pub latest_activity: Option<SessionActivity>,
}

/// The device and address a session was started from (Clerk's `SessionActivity`), as the server
/// read them from that request: its `User-Agent` and the client's address (behind trusted proxies
/// only). Every field is `None` when unknown; `city` and `country` always are (no GeoIP database).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, Wire)]
pub struct SessionActivity {
    /// Always `"session_activity"`.
    #[serde(default = "session_activity_object")]
    pub object: String,
    /// The session's own id: a session's activity is the sign-in that started it.
    pub id: String,
    /// `Chrome`, `Edge`, `Firefox`, `Safari`, `Opera`, `Samsung Internet`.
    #[serde(default)]
    pub browser_name: Option<String>,
    /// The major version (`131`).
    #[serde(default)]
    pub browser_version: Option<String>,
    /// `Windows`, `macOS`, `Linux`, `Android`, `iOS`, `iPadOS`, `ChromeOS` (a Hallpass addition:
    /// Clerk's `deviceType` names the device, Hallpass's its kind).
    #[serde(default)]
    pub os_name: Option<String>,
    #[serde(default)]
    pub device_type: Option<DeviceType>,
    /// A phone (not a tablet).
    #[serde(default)]
    pub is_mobile: bool,
    #[serde(default)]
    pub ip_address: Option<String>,
    #[serde(default)]
    pub city: Option<String>,
    #[serde(default)]
    pub country: Option<String>,
}

fn session_activity_object() -> String {
    "session_activity".into()
}

/// What kind of device a session's browser runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Wire)]
#[serde(rename_all = "snake_case")]
pub enum DeviceType {
    Desktop,
    Mobile,
    Tablet,
}

/// The algorithm a JWT template's tokens are signed with.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, Wire)]
pub enum JwtAlgorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256: the instance's own key (published in the JWKS), or a custom
    /// RSA key.
    #[default]
    #[serde(rename = "RS256")]
    Rs256,
    /// HMAC with SHA-256 and a custom shared secret (e.g. Supabase's JWT secret).
    #[serde(rename = "HS256")]
    Hs256,
    #[serde(rename = "HS384")]
    Hs384,
    #[serde(rename = "HS512")]
    Hs512,
}

/// `as_str()` (the name in the JWT header's `alg`, as on the wire) and `parse()` come with
/// `#[derive(Wire)]`.
impl JwtAlgorithm {
    /// True for the HMAC algorithms (a shared secret rather than a key pair).
    pub fn is_hmac(self) -> bool {
        !matches!(self, JwtAlgorithm::Rs256)
    }
}

/// A JWT template (Backend API): the claims of tokens minted with
/// `POST /v1/client/sessions/{session_id}/tokens/{template_name}`, their lifetime and their signer.
///
/// `claims` may hold Clerk shortcodes (`"{{user.primary_email_address}}"`), rendered for the
/// session's user whenever a token is minted. A custom signing key is never returned, only whether
/// there is one.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, Wire)]
pub struct JwtTemplate {
    /// Always `"jwt_template"`.
    #[serde(default = "jwt_template_object")]
    pub object: String,
    /// `jtmp_…`
    pub id: String,
    /// Unique; 1 to 64 of `A-Z a-z 0-9 _ -`, so it can sit in a URL path as it is.
    pub name: String,
    /// A JSON object; string values may be shortcodes.
    #[serde(default)]
    pub claims: Metadata,
    /// Seconds from `iat` to `exp`.
    pub lifetime: u32,
    /// Seconds `nbf` lies before `iat`, for verifiers whose clock runs behind.
    pub allowed_clock_skew: u32,
    /// True when the template signs with its own key instead of the instance's JWKS key.
    #[serde(default)]
    pub custom_signing_key: bool,
    #[serde(default)]
    pub signing_algorithm: JwtAlgorithm,
    #[serde(default)]
    pub created_at: i64,
    #[serde(default)]
    pub updated_at: i64,
}

impl JwtTemplate {
    /// The longest template name.
    pub const MAX_NAME_LEN: usize = 64;

    /// True for a well-formed template name: 1 to [`Self::MAX_NAME_LEN`] of `A-Z a-z 0-9 _ -`, so
    /// it can sit in a URL path as it is. The server accepts no other, and the SDK asks for no other.
    pub fn is_valid_name(name: &str) -> bool {
        !name.is_empty()
            && name.len() <= Self::MAX_NAME_LEN
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    }
}

fn jwt_template_object() -> String {
    "jwt_template".into()
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn a_session_with_activities_is_the_session_beside_latest_activity() {
        let activity = SessionActivity {
            object: "session_activity".into(),
            id: "sess_1".into(),
            browser_name: Some("Chrome".into()),
            device_type: Some(DeviceType::Desktop),
            ip_address: Some("192.0.2.1".into()),
            ..SessionActivity::default()
        };
        let with = SessionWithActivities {
            session: Session { id: "sess_1".into(), ..Session::default() },
            latest_activity: Some(activity),
        };
        let json = serde_json::to_value(&with).unwrap();
        assert_eq!(json["id"], "sess_1");
        assert_eq!(json["latest_activity"]["object"], "session_activity");
        assert_eq!(json["latest_activity"]["device_type"], "desktop");
        assert_eq!(json["latest_activity"]["city"], serde_json::Value::Null);
        let keys: Vec<&String> = json.as_object().unwrap().keys().collect();
        assert_eq!(keys.len(), Session::NAMES.len() + 1, "{keys:?}");
        assert_eq!(serde_json::from_value::<SessionWithActivities>(json).unwrap(), with);
    }

    #[test]
    fn template_names_are_url_safe_and_bounded() {
        for ok in ["supabase", "a", "A-z_09", &"x".repeat(64)] {
            assert!(JwtTemplate::is_valid_name(ok), "{ok}");
        }
        for bad in ["", "a b", "a/b", "é", "a.b", "a?b", &"x".repeat(65)] {
            assert!(!JwtTemplate::is_valid_name(bad), "{bad}");
        }
    }

    #[test]
    fn jwt_template_wire_shape() {
        let value = serde_json::json!({
            "object": "jwt_template", "id": "jtmp_1", "name": "supabase", "claims": {"aud": "authenticated"},
            "lifetime": 60, "allowed_clock_skew": 5, "custom_signing_key": true, "signing_algorithm": "HS256",
            "created_at": 1, "updated_at": 2
        });
        let t: JwtTemplate = serde_json::from_value(value.clone()).unwrap();
        assert_eq!(t.signing_algorithm, JwtAlgorithm::Hs256);
        assert_eq!(serde_json::to_value(&t).unwrap(), value);
        for alg in [JwtAlgorithm::Rs256, JwtAlgorithm::Hs256, JwtAlgorithm::Hs384, JwtAlgorithm::Hs512] {
            assert_eq!(JwtAlgorithm::parse(alg.as_str()), Some(alg));
            assert_eq!(serde_json::to_value(alg).unwrap(), alg.as_str());
        }
        assert_eq!(JwtAlgorithm::parse("none"), None);
        assert!(JwtAlgorithm::Hs512.is_hmac() && !JwtAlgorithm::Rs256.is_hmac());
    }
}
