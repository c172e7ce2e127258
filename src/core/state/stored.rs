//! [`StoredSession`]: what the SDK keeps in browser storage, and when it can be signed in from.

use hallpass_protocol::{OrgClaims, Secret, Session, SessionStatus, User, Wire};
use serde::{Deserialize, Serialize};

/// The format version of [`StoredSession`]. Bump it when the shape changes; stored data of another
/// version is cleared (with a console warning), never misread.
pub const STORED_SESSION_VERSION: u32 = 1;

/// What the SDK keeps in browser storage, under one versioned key per instance. The platform stores it
/// as JSON through the browser.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, Wire)]
pub struct StoredSession {
    /// [`STORED_SESSION_VERSION`].
    pub v: u32,
    pub user: User,
    pub session: Session,
    pub refresh_token: Secret,
    /// The session token.
    pub jwt: Secret,
    /// `jwt`'s expiry, server clock, milliseconds.
    pub jwt_expires_at: i64,
    /// `jwt`'s issue time, server clock, milliseconds (0 in data written before it was kept: then
    /// it is read from the token, or assumed).
    #[serde(default)]
    pub jwt_issued_at: i64,
    /// The learnt `server - device` clock offset.
    pub server_offset_ms: i64,
    /// Device time of the write.
    pub saved_at: i64,
    /// The organization `jwt` carries, as the server decoded it (absent for the personal account).
    /// It lives and dies with `jwt`: a tab adopts both or neither, so no tab shows one organization
    /// while handing out a token of another. Absent in data written before organizations (the
    /// revalidation at load brings it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<OrgClaims>,
}

impl StoredSession {
    /// True when this snapshot can be signed in from: this version, consistent ids, an active session
    /// and credentials present.
    pub fn is_usable(&self) -> bool {
        self.v == STORED_SESSION_VERSION
            && !self.user.id.is_empty()
            && self.session.user_id == self.user.id
            && !self.session.id.is_empty()
            && self.session.status == SessionStatus::Active
            && !self.refresh_token.expose().is_empty()
            && !self.jwt.expose().is_empty()
    }
}
