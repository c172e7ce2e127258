//! Session token claims, shaped like Clerk's v2 session token.
//!
//! The SDK decodes these for `exp`, `sid` and display only; it never trusts them for a security
//! decision. The server and app backends verify the signature first.

use serde::{Deserialize, Serialize};

/// The claims of a session token.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionClaims {
    /// The user id.
    pub sub: String,
    /// The session id.
    pub sid: String,
    /// The issuer: the server's Frontend API URL.
    pub iss: String,
    /// Authorised party: the Origin of the request that minted the token, when there was one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub azp: Option<String>,
    /// Expiry, in seconds since the epoch.
    pub exp: i64,
    pub iat: i64,
    pub nbf: i64,
    pub jti: String,
    /// Token version: 2.
    #[serde(default)]
    pub v: u8,
    /// The active organization, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub o: Option<OrgClaims>,
}

/// The `o` claim: the session's active organization.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgClaims {
    pub id: String,
    #[serde(default)]
    pub slg: String,
    #[serde(default)]
    pub rol: String,
    #[serde(default)]
    pub per: Vec<String>,
}
