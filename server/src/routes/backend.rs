//! Backend API handlers (`/v1/users…`, `/v1/sessions…`): called by app backends with the secret key.
//! No CORS: a browser can never read these responses. JWT templates are in [`super::jwt_templates`].

use axum::Json;
use axum::extract::{Path, Query, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hallpass_protocol::keys::is_secret_key;
use hallpass_protocol::{
    DeletedObject, ErrorCode, ListResponse, Metadata, SessionStatus, SessionWithActivities,
    UpdateMetadataRequest, UpdateUserRequest, User,
};
use serde::Deserialize;
use serde_json::Value;

use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, bearer};
use crate::secret::ct_eq;
use crate::state::AppState;
use crate::store::{SessionRecord, UserRecord};
use crate::validate;

/// Requires `Authorization: Bearer <secret key>`, compared in constant time.
pub async fn require_secret_key(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let key = bearer(req.headers());
    let Some(key) = key.filter(|k| is_secret_key(k)) else {
        return ApiError::new(
            StatusCode::UNAUTHORIZED,
            ErrorCode::SecretKeyRequired,
            "The Backend API needs your secret key (Authorization: Bearer sk_…)",
        )
        .into_response();
    };
    if !ct_eq(key, state.secret_key.expose()) {
        return ApiError::unauthenticated("The secret key is not valid for this instance").into_response();
    }
    next.run(req).await
}

/// `?limit=&offset=` of a Backend API list.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Page {
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

impl Page {
    /// `(limit, offset)`: 10 items by default, 1 to 500, from offset 0 or later.
    pub fn bounds(&self) -> (i64, i64) {
        validate::page(self.limit, self.offset)
    }
}

/// `GET /v1/users?limit=&offset=`
pub async fn list_users(
    State(state): State<AppState>,
    Query(page): Query<Page>,
) -> ApiResult<Json<ListResponse<User>>> {
    let (limit, offset) = page.bounds();
    let (users, total_count) = state.store.list_users(limit, offset).await?;
    Ok(Json(ListResponse { data: users.iter().map(UserRecord::to_backend).collect(), total_count }))
}

/// `GET /v1/users/{id}`
pub async fn get_user(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<User>> {
    let user = state.store.user(&id).await?.ok_or_else(|| ApiError::not_found("User"))?;
    Ok(Json(user.to_backend()))
}

/// `DELETE /v1/users/{id}`: the user and all that is theirs (as `DELETE /v1/client/me`).
pub async fn delete_user(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<DeletedObject>> {
    super::account::delete_user(&state, &id).await.map(Json)
}

/// `PATCH /v1/users/{id}`: names set or cleared, metadata objects replaced whole, the primary address
/// chosen among the user's verified ones.
pub async fn update_user(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<UpdateUserRequest>,
) -> ApiResult<Json<User>> {
    let first_name = req.first_name.map(|v| validate::name(v, "first_name")).transpose()?;
    let last_name = req.last_name.map(|v| validate::name(v, "last_name")).transpose()?;
    for (value, name) in [
        (&req.public_metadata, "public_metadata"),
        (&req.private_metadata, "private_metadata"),
        (&req.unsafe_metadata, "unsafe_metadata"),
    ] {
        if let Some(m) = value {
            validate::metadata(m, name)?;
        }
    }
    let user = state
        .store
        .update_user(&id, req.primary_email_address_id.as_deref(), state.now_ms(), |u| {
            if let Some(v) = first_name {
                u.first_name = v;
            }
            if let Some(v) = last_name {
                u.last_name = v;
            }
            if let Some(m) = req.public_metadata {
                u.public_metadata = m;
            }
            if let Some(m) = req.private_metadata {
                u.private_metadata = m;
            }
            if let Some(m) = req.unsafe_metadata {
                u.unsafe_metadata = m;
            }
            Ok::<(), ApiError>(())
        })
        .await??
        .ok_or_else(|| ApiError::not_found("User"))?;
    Ok(Json(user.to_backend()))
}

/// `PATCH /v1/users/{id}/metadata`: deep-merges each given object; `null` removes a key.
pub async fn update_metadata(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<UpdateMetadataRequest>,
) -> ApiResult<Json<User>> {
    let user = state
        .store
        .update_user(&id, None, state.now_ms(), |u| {
            for (patch, target, name) in [
                (&req.public_metadata, &mut u.public_metadata, "public_metadata"),
                (&req.private_metadata, &mut u.private_metadata, "private_metadata"),
                (&req.unsafe_metadata, &mut u.unsafe_metadata, "unsafe_metadata"),
            ] {
                if let Some(patch) = patch {
                    deep_merge(target, patch);
                    validate::metadata(target, name)?;
                }
            }
            Ok::<(), ApiError>(())
        })
        .await??
        .ok_or_else(|| ApiError::not_found("User"))?;
    Ok(Json(user.to_backend()))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionFilter {
    user_id: Option<String>,
    status: Option<String>,
}

/// `GET /v1/sessions?user_id=…[&status=active]`: every session of the user, each with the device it
/// was started on (`latest_activity`, as Clerk's Backend API session has it).
pub async fn list_sessions(
    State(state): State<AppState>,
    Query(filter): Query<SessionFilter>,
) -> ApiResult<Json<ListResponse<SessionWithActivities>>> {
    let Some(user_id) = filter.user_id else {
        return Err(
            ApiError::unprocessable(ErrorCode::FormParamMissing, "`user_id` is required").param("user_id")
        );
    };
    let status = match filter.status.as_deref() {
        None => None,
        Some(s) => Some(SessionStatus::parse(s).ok_or_else(|| {
            ApiError::unprocessable(ErrorCode::FormParamFormatInvalid, "`status` is not a session status")
                .param("status")
        })?),
    };
    let mut sessions = state.store.sessions_of(&user_id, false, state.now_ms()).await?;
    if let Some(status) = status {
        sessions.retain(|s| s.status == status);
    }
    let data: Vec<SessionWithActivities> =
        sessions.iter().map(SessionRecord::to_wire_with_activity).collect();
    Ok(Json(ListResponse { total_count: data.len() as i64, data }))
}

/// `GET /v1/sessions/{id}`: an active session past its idle or absolute deadline is `expired`.
pub async fn get_session(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<SessionWithActivities>> {
    let session = state
        .store
        .session_checked(&id, state.now_ms())
        .await?
        .ok_or_else(|| ApiError::not_found("Session"))?;
    Ok(Json(session.to_wire_with_activity()))
}

/// `POST /v1/sessions/{id}/revoke`
pub async fn revoke_session(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<SessionWithActivities>> {
    let now = state.now_ms();
    if state.store.session(&id).await?.is_none() {
        return Err(ApiError::not_found("Session"));
    }
    state.store.set_status(&id, SessionStatus::Active, SessionStatus::Revoked, now).await?;
    let session = state.store.session(&id).await?.ok_or_else(|| ApiError::not_found("Session"))?;
    Ok(Json(session.to_wire_with_activity()))
}

/// Merges `patch` into `target`: objects merge recursively, `null` deletes, anything else replaces.
pub fn deep_merge(target: &mut Metadata, patch: &Metadata) {
    for (key, value) in patch {
        match value {
            Value::Null => {
                target.remove(key);
            }
            Value::Object(p) => match target.get_mut(key) {
                Some(Value::Object(t)) => deep_merge(t, p),
                _ => {
                    let mut fresh = Metadata::new();
                    deep_merge(&mut fresh, p);
                    target.insert(key.clone(), Value::Object(fresh));
                }
            },
            other => {
                target.insert(key.clone(), other.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn deep_merge_merges_objects_and_null_deletes() {
        let mut t: Metadata =
            serde_json::from_value(json!({"a": 1, "o": {"x": 1, "y": 2}, "gone": true})).unwrap();
        let p: Metadata =
            serde_json::from_value(json!({"b": 2, "o": {"y": null, "z": 3}, "gone": null})).unwrap();
        deep_merge(&mut t, &p);
        assert_eq!(Value::Object(t), json!({"a": 1, "b": 2, "o": {"x": 1, "z": 3}}));
    }
}
