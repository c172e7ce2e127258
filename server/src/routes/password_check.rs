//! The one check of a password against an account: sign-in's (by email address, both of its password
//! paths) and the password change's (the signed-in user's current password). Both go through the
//! lockout (see `crate::ratelimit`: only failures count, per (account, address) with a looser
//! per-account budget; a refused attempt is refused before any hashing) and the bounded Argon2
//! verifier (`crate::password`), and log a failure the same way.

use hallpass_protocol::ErrorCode;

use super::frontend::hash_error;
use crate::client_addr::ClientAddr;
use crate::error::{ApiError, ApiResult};
use crate::ratelimit::retry_after_secs;
use crate::secret::Password;
use crate::security_log;
use crate::state::AppState;
use crate::store::UserRecord;
use crate::validate;

/// Sign-in's check. An unknown address or an account without a password is verified against the
/// dummy hash, so the answer takes as long as a wrong password and says the same
/// (`form_password_incorrect` on `password`).
pub(super) async fn check_password(
    state: &AppState,
    addr: ClientAddr,
    email: &str,
    password: Password,
    path: &str,
) -> ApiResult<UserRecord> {
    not_locked_out(state, addr, email).await?;
    let user = state.store.user_by_email(email).await?;
    verify(state, addr, email, user, password, path, "password").await
}

/// The password change's check of the signed-in `user`'s current password (the user has one): a
/// wrong one is `form_password_incorrect` on `current_password`, and counts against the same
/// lockout as a wrong password at sign-in to that account (keyed by its primary address).
pub(super) async fn check_current_password(
    state: &AppState,
    addr: ClientAddr,
    user: UserRecord,
    password: Password,
    path: &str,
) -> ApiResult<UserRecord> {
    let key = user.email.clone().unwrap_or_else(|| user.id.clone());
    not_locked_out(state, addr, &key).await?;
    verify(state, addr, &key, Some(user), password, path, "current_password").await
}

async fn not_locked_out(state: &AppState, addr: ClientAddr, account: &str) -> ApiResult<()> {
    let allowed = state
        .limits
        .sign_in_allowed(account, &addr.limit_key(), state.now_ms())
        .await
        .map_err(ApiError::internal)?;
    allowed.map_err(|lockout| {
        security_log::sign_in_locked_out(addr, account, lockout);
        ApiError::rate_limited(retry_after_secs(lockout.retry_after_ms()))
    })
}

async fn verify(
    state: &AppState,
    addr: ClientAddr,
    account: &str,
    user: Option<UserRecord>,
    password: Password,
    path: &str,
    param: &str,
) -> ApiResult<UserRecord> {
    let addr_key = addr.limit_key();
    let (phc, known) = match user.as_ref().and_then(|u| u.password_hash.clone()) {
        Some(h) => (h, true),
        None => (state.dummy_hash.clone(), false),
    };
    let too_long = password.expose().chars().count() > validate::MAX_PASSWORD_CHARS;
    let candidate = if too_long { Password::default() } else { password };
    let ok = state.hasher.verify(candidate, phc).await.map_err(|e| hash_error(addr, path, e))?;
    match user {
        Some(u) if ok && known && !too_long => {
            state.limits.sign_in_succeeded(account, &addr_key).await.map_err(ApiError::internal)?;
            Ok(u)
        }
        other => {
            let reason = match &other {
                None => "unknown_account",
                Some(_) if !known => "no_password",
                Some(_) if too_long => "password_too_long",
                Some(_) => "wrong_password",
            };
            state
                .limits
                .sign_in_failed(account, &addr_key, state.now_ms())
                .await
                .map_err(ApiError::internal)?;
            security_log::sign_in_failed(addr, account, other.as_ref().map(|u| u.id.as_str()), reason);
            Err(password_incorrect(param))
        }
    }
}

/// 422 `form_password_incorrect` on `param`.
pub(super) fn password_incorrect(param: &str) -> ApiError {
    ApiError::unprocessable(ErrorCode::FormPasswordIncorrect, "Password is incorrect. Try again.")
        .with_long_message("The email address or password is incorrect.")
        .param(param)
}
