//! Helpers shared by the core's unit tests: building tokens and server answers.

use hallpass_protocol::{AuthResponse, Session, User};

/// Unpadded base64url, the inverse of `claims::base64url_decode`.
pub fn b64url(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

/// An (unsigned-looking) JWT with the given JSON payload.
pub fn jwt(payload: &str) -> String {
    format!("{}.{}.c2ln", b64url(br#"{"alg":"RS256","kid":"k1"}"#), b64url(payload.as_bytes()))
}

/// A session token for `sid`/`sub`, issued at `iat_s` and expiring at `exp_s` (seconds), with an
/// optional `o` claim given as JSON.
pub fn session_jwt(sub: &str, sid: &str, iat_s: i64, exp_s: i64, org: Option<&str>) -> String {
    let o = org.map(|o| format!(",\"o\":{o}")).unwrap_or_default();
    jwt(&format!(
        r#"{{"sub":"{sub}","sid":"{sid}","iss":"http://localhost:8787","exp":{exp_s},"iat":{iat_s},"nbf":{iat_s},"jti":"j{iat_s}","v":2{o}}}"#
    ))
}

pub fn user(id: &str, updated_at: i64) -> User {
    User { id: id.into(), first_name: Some("Ada".into()), updated_at, ..Default::default() }
}

pub fn session(id: &str, user_id: &str) -> Session {
    Session { id: id.into(), user_id: user_id.into(), ..Default::default() }
}

/// What sign-in or refresh returns at server time `server_time_ms` with a 60 s token.
pub fn auth_response(sid: &str, server_time_ms: i64, refresh_token: &str, org: Option<&str>) -> AuthResponse {
    let iat = server_time_ms / 1000;
    AuthResponse {
        user: user("user_1", 1),
        session: session(sid, "user_1"),
        jwt: session_jwt("user_1", sid, iat, iat + 60, org).into(),
        expires_in: 60,
        refresh_token: refresh_token.into(),
        server_time: server_time_ms,
    }
}
