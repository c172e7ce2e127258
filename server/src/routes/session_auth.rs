//! Authenticating a Frontend API request by its session token (`Authorization: Bearer <JWT>`).

use axum::http::{HeaderMap, StatusCode};
use hallpass_protocol::{ErrorCode, SessionStatus};

use crate::error::{ApiError, ApiResult};
use crate::jwt::VerifyError;
use crate::state::AppState;
use crate::store::SessionRecord;

/// The error for a session that is no longer active.
pub fn session_over(status: SessionStatus) -> ApiError {
    let (code, message) = match status {
        SessionStatus::Revoked => (ErrorCode::SessionRevoked, "This session was revoked"),
        SessionStatus::Ended => (ErrorCode::SessionEnded, "This session was signed out"),
        SessionStatus::Expired | SessionStatus::Active | SessionStatus::Removed => {
            (ErrorCode::SessionExpired, "This session has expired")
        }
    };
    ApiError::new(StatusCode::UNAUTHORIZED, code, message)
}

/// Verifies the Bearer session token and returns its session, which must still be active.
pub async fn authenticate(state: &AppState, headers: &HeaderMap) -> ApiResult<SessionRecord> {
    let token = crate::extract::bearer(headers)
        .ok_or_else(|| ApiError::unauthenticated("A session token is required (Authorization: Bearer)"))?;
    let now = state.now_ms();
    let claims = state.keys.verify(token, now, &state.public_url()).map_err(|e| match e {
        VerifyError::Expired => ApiError::unauthenticated("The session token has expired")
            .with_long_message("Refresh the session token and try again."),
        other => ApiError::unauthenticated(format!("Invalid session token: {other}")),
    })?;
    let session = state
        .store
        .session_checked(&claims.sid, now)
        .await?
        .ok_or_else(|| ApiError::unauthenticated("Invalid session token: unknown session"))?;
    if session.user_id != claims.sub {
        return Err(ApiError::unauthenticated("Invalid session token: subject mismatch"));
    }
    if session.status != SessionStatus::Active {
        return Err(session_over(session.status));
    }
    Ok(session)
}
