//! The Backend API's emails (`/v1/emails…`): the development mailbox when no mail server is
//! configured, and every email's delivery state otherwise — what was sent, what is waiting for a retry
//! and why, what failed — with a retry for a failed one. Bodies hold live codes and links: this is
//! secret-key only, never the Frontend API.

use axum::Json;
use axum::extract::{Path, Query, State};
use hallpass_protocol::{Email, EmailStatus, ErrorCode, ListResponse};
use serde::Deserialize;

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::validate;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailListParams {
    #[serde(default)]
    status: Option<String>,
    /// Emails to this address (normalised as sign-up normalises it).
    #[serde(default)]
    to: Option<String>,
    #[serde(default)]
    limit: Option<i64>,
    #[serde(default)]
    offset: Option<i64>,
}

/// `GET /v1/emails?status=&to=&limit=&offset=`: newest first.
pub async fn list(
    State(state): State<AppState>,
    Query(q): Query<EmailListParams>,
) -> ApiResult<Json<ListResponse<Email>>> {
    let status = match q.status.as_deref() {
        None | Some("") => None,
        Some(s) => Some(EmailStatus::parse(s).ok_or_else(|| {
            ApiError::unprocessable(ErrorCode::FormParamValueInvalid, "Unknown status").param("status")
        })?),
    };
    let to = q.to.as_deref().filter(|t| !t.is_empty()).map(|t| validate::email(t, "to")).transpose()?;
    let (limit, offset) = validate::page(q.limit, q.offset);
    let (emails, total_count) = state.store.list_emails(status, to.as_deref(), limit, offset).await?;
    Ok(Json(ListResponse { data: emails.iter().map(|e| e.to_wire()).collect(), total_count }))
}

/// `GET /v1/emails/{id}`
pub async fn get(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Email>> {
    let email = state.store.email(&id).await?.ok_or_else(|| ApiError::not_found("Email"))?;
    Ok(Json(email.to_wire()))
}

/// `POST /v1/emails/{id}/retry`: a failed email, queued again (its tries start over). Only with a
/// mail server configured; any other status is answered as it is.
pub async fn retry(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Email>> {
    if state.mailer.is_none() {
        return Err(ApiError::unprocessable(
            ErrorCode::FormParamValueInvalid,
            "No mail server is configured",
        ));
    }
    let email =
        state.store.retry_email(&id, state.now_ms()).await?.ok_or_else(|| ApiError::not_found("Email"))?;
    Ok(Json(email.to_wire()))
}
