//! Request bodies and response envelopes of the Frontend API (`/v1/client/…`, called by the SDK from
//! the browser) and the Backend API (`/v1/…`, called by app backends with a secret key).
//!
//! Requests reject unknown fields (`deny_unknown_fields`), so a misspelt field is a clear error
//! instead of a silently ignored one. Responses accept unknown fields, so an older SDK keeps working
//! against a newer server.

use serde::{Deserialize, Serialize};

use crate::{Metadata, Session, User};

/// Paths, relative to the server's base URL.
pub mod paths {
    pub const SIGN_UPS: &str = "/v1/client/sign_ups";
    pub const SIGN_INS: &str = "/v1/client/sign_ins";
    /// Exchanges a refresh token for a new session token and a rotated refresh token.
    pub const REFRESH: &str = "/v1/client/refresh";
    /// Ends the session of the presented refresh token (`RefreshRequest`; answers the `Session`, now
    /// `ended`). Needs no session token, and signing out an already-ended session is not an error.
    pub const SIGN_OUT: &str = "/v1/client/sign_out";
    /// `GET`: the current user and session; `PATCH`: update own profile (`UpdateProfileRequest`).
    /// Both answer `MeResponse`. Bearer session token.
    pub const ME: &str = "/v1/client/me";
    /// `GET`: own active sessions. Bearer session token.
    pub const SESSIONS: &str = "/v1/client/sessions";
    /// `POST /v1/client/sessions/{id}/revoke`: one of the caller's own sessions; answers the `Session`.
    /// Bearer session token.
    pub const SESSION_REVOKE: &str = "/v1/client/sessions/{id}/revoke";
    pub const JWKS: &str = "/.well-known/jwks.json";
    /// Backend API (secret key).
    pub const USERS: &str = "/v1/users";
    pub const USER: &str = "/v1/users/{id}";
    pub const USER_METADATA: &str = "/v1/users/{id}/metadata";
    pub const BACKEND_SESSIONS: &str = "/v1/sessions";
    pub const BACKEND_SESSION_REVOKE: &str = "/v1/sessions/{id}/revoke";
}

/// `POST /v1/client/sign_ups`
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignUpRequest {
    pub email_address: String,
    pub password: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unsafe_metadata: Option<Metadata>,
}

/// `POST /v1/client/sign_ins`
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignInRequest {
    /// The email address.
    pub identifier: String,
    pub password: String,
}

/// `POST /v1/client/refresh` and `POST /v1/client/sign_out`
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

/// `PATCH /v1/client/me`: absent fields stay as they are; `null` clears a name.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateProfileRequest {
    #[serde(default, skip_serializing_if = "Option::is_none", with = "double_option")]
    pub first_name: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "double_option")]
    pub last_name: Option<Option<String>>,
    /// Replaces the whole `unsafe_metadata` object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unsafe_metadata: Option<Metadata>,
}

/// What sign-up, sign-in and refresh return: the session, its user, a fresh session token and the
/// next refresh token.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuthResponse {
    pub user: User,
    pub session: Session,
    /// The session token (a JWT) to send as `Authorization: Bearer`.
    pub jwt: String,
    /// Seconds until `jwt` expires, counted from `server_time`.
    pub expires_in: u32,
    /// The next refresh token; the one just presented is used up.
    pub refresh_token: String,
    /// The server's clock when it answered, in milliseconds.
    pub server_time: i64,
}

/// `GET /v1/client/me`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MeResponse {
    pub user: User,
    pub session: Session,
}

/// A page of a list (`GET /v1/users`, `GET /v1/client/sessions`, `GET /v1/sessions`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ListResponse<T> {
    pub data: Vec<T>,
    pub total_count: i64,
}

/// `PATCH /v1/users/{id}/metadata` (Backend API): each given object is deep-merged into the stored one;
/// a key set to `null` is removed.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateMetadataRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_metadata: Option<Metadata>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_metadata: Option<Metadata>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unsafe_metadata: Option<Metadata>,
}

/// `DELETE /v1/users/{id}` (Clerk's `DeletedObject`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeletedObject {
    pub object: String,
    pub id: String,
    pub deleted: bool,
}

/// Serde helper: tells a missing field (`None`) from an explicit `null` (`Some(None)`).
mod double_option {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(v: &Option<Option<String>>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(inner) => inner.serialize(s),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
        Option::<String>::deserialize(d).map(Some)
    }
}
