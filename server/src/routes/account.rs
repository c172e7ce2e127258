//! The signed-in user's own account (Frontend API, Bearer session token): changing or setting the
//! password (Clerk's `user.updatePassword()`) and deleting the account (`user.delete()`) — the
//! deletion being the very one the Backend API's `DELETE /v1/users/{id}` makes ([`delete_user`]).

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use hallpass_protocol::{ChangePasswordRequest, DeletedObject, ErrorCode, User, paths};

use super::frontend::{auth_attempt, hash_error};
use super::password_check::{check_current_password, password_incorrect};
use super::session_auth::authenticate;
use crate::client_addr::ClientAddr;
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiJson;
use crate::state::AppState;
use crate::store::users::SignOut;
use crate::validate;

/// `POST /v1/client/me/change_password` → the user (`password_enabled` now true).
///
/// The new password meets the rules a sign-up's does. A user with a password proves it
/// (`current_password`, through sign-in's check: the same lockout and bounded hashing); one without
/// (an account made by email code or link) sets their first. The change is made only if the password
/// is still the one checked, so of two concurrent changes from one old password one wins and the
/// other is told its `current_password` is wrong. With `sign_out_of_other_sessions` every other
/// session of the user is revoked (`session.revoked` each), the caller's kept.
pub async fn change_password(
    State(state): State<AppState>,
    addr: ClientAddr,
    headers: HeaderMap,
    ApiJson(req): ApiJson<ChangePasswordRequest>,
) -> ApiResult<Json<User>> {
    let session = authenticate(&state, &headers).await?;
    auth_attempt(&state, addr, paths::MY_PASSWORD).await?;
    let user = state.store.user(&session.user_id).await?.ok_or_else(|| ApiError::not_found("User"))?;
    let email = user.email.clone().unwrap_or_default();
    validate::new_password(req.new_password.expose(), &email).map_err(|e| e.param("new_password"))?;
    let expected = user.password_hash.clone();
    if expected.is_some() {
        let current = req.current_password.filter(|p| !p.expose().is_empty()).ok_or_else(|| {
            ApiError::unprocessable(ErrorCode::FormParamMissing, "Enter your current password")
                .param("current_password")
        })?;
        check_current_password(&state, addr, user, current, paths::MY_PASSWORD).await?;
    }
    let hash =
        state.hasher.hash(req.new_password).await.map_err(|e| hash_error(addr, paths::MY_PASSWORD, e))?;
    let sign_out = match req.sign_out_of_other_sessions {
        Some(true) => SignOut::AllBut(&session.id),
        _ => SignOut::Nobody,
    };
    let changed = state
        .store
        .change_password(&session.user_id, expected.as_deref(), &hash, sign_out, state.now_ms())
        .await?;
    let Some((user, revoked)) = changed else {
        // Deleted, or the password changed since it was checked.
        return match state.store.user(&session.user_id).await? {
            None => Err(ApiError::not_found("User")),
            Some(_) if expected.is_none() => Err(ApiError::unprocessable(
                ErrorCode::FormParamMissing,
                "A password was set meanwhile: enter it as your current password",
            )
            .param("current_password")),
            Some(_) => Err(password_incorrect("current_password")),
        };
    };
    tracing::info!(user_id = %user.id, revoked_sessions = revoked, first = expected.is_none(), "password changed");
    Ok(Json(user.to_frontend()))
}

/// `DELETE /v1/client/me` → `{ object: "user", id, deleted: true }`, when the instance lets users
/// delete themselves (`delete_self_enabled`); 403 `delete_self_disabled` otherwise.
pub async fn delete_me(State(state): State<AppState>, headers: HeaderMap) -> ApiResult<Json<DeletedObject>> {
    let session = authenticate(&state, &headers).await?;
    if !state.auth().await?.delete_self_enabled {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            ErrorCode::DeleteSelfDisabled,
            "Deleting your own account is turned off on this instance",
        )
        .with_long_message("Ask the app's administrators to delete the account."));
    }
    delete_user(&state, &session.user_id).await.map(Json)
}

/// Deletes a user — their sessions, email addresses, memberships and profile image go with them;
/// `organizationMembership.deleted`, `session.removed` and `user.deleted` are emitted (see
/// `crate::store::users`) — for both APIs.
pub(super) async fn delete_user(state: &AppState, id: &str) -> ApiResult<DeletedObject> {
    if !state.store.delete_user(id, state.now_ms()).await? {
        return Err(ApiError::not_found("User"));
    }
    tracing::info!(user_id = %id, "user deleted");
    Ok(DeletedObject { object: "user".into(), id: id.to_owned(), deleted: true })
}
