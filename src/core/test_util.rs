//! Helpers shared by the core's unit tests: building tokens and server answers.

use hallpass_protocol::{AuthResponse, Session, User};

/// A session token for `sid`, issued at `iat_s` and expiring at `exp_s` (seconds). Opaque to the SDK,
/// which never reads a token's claims; distinct per session and issue time.
pub fn session_jwt(sid: &str, iat_s: i64, exp_s: i64) -> String {
    format!("eyJ.{sid}-{iat_s}-{exp_s}.sig")
}

pub fn user(id: &str, updated_at: i64) -> User {
    User { id: id.into(), first_name: Some("Ada".into()), updated_at, ..Default::default() }
}

pub fn session(id: &str, user_id: &str) -> Session {
    Session { id: id.into(), user_id: user_id.into(), ..Default::default() }
}

/// What sign-in or refresh returns at server time `server_time_ms` with a 60 s token.
pub fn auth_response(sid: &str, server_time_ms: i64, refresh_token: &str) -> AuthResponse {
    let iat = server_time_ms / 1000;
    AuthResponse {
        user: user("user_1", 1),
        session: session(sid, "user_1"),
        jwt: session_jwt(sid, iat, iat + 60).into(),
        expires_in: 60,
        refresh_token: refresh_token.into(),
        server_time: server_time_ms,
        ..Default::default()
    }
}
