//! The demo app's view of the development mailbox (`GET /demo/api/mailbox?to=…`): with no mail
//! server configured the server keeps its emails instead of sending them, and the demo shows the
//! codes and links sent to an address so that its sign-up, sign-in, reset and email-link pages can be
//! tried without one. The demo's backend reads them as an app's backend would read the Backend API's
//! `GET /v1/emails` with its secret key — the page never holds a secret key.
//!
//! Only for the development mailbox (with a mail server, or when the app sends, it is not found), only
//! the newest [`KEPT`] emails to the one address asked for: a demo running on a developer's machine.

use axum::Json;
use axum::extract::{Query, State};
use hallpass_protocol::{Email, ErrorCode, ListResponse};
use serde::Deserialize;

use crate::auth_settings::Delivery;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::validate;

/// Where the demo's backend lists the mailbox.
pub const MAILBOX: &str = "/demo/api/mailbox";

/// How many of an address's emails it lists, newest first.
pub const KEPT: i64 = 10;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailboxParams {
    #[serde(default)]
    to: String,
}

/// `GET /demo/api/mailbox?to=`: the newest emails to `to`, as `GET /v1/emails?to=` lists them.
pub async fn list(
    State(state): State<AppState>,
    Query(q): Query<MailboxParams>,
) -> ApiResult<Json<ListResponse<Email>>> {
    if state.settings.flags().delivery != Delivery::Development {
        return Err(ApiError::not_found("Mailbox"));
    }
    if q.to.is_empty() {
        return Err(ApiError::unprocessable(ErrorCode::FormParamMissing, "to is missing").param("to"));
    }
    let to = validate::email(&q.to, "to")?;
    let (emails, total_count) = state.store.list_emails(None, Some(&to), KEPT, 0).await?;
    Ok(Json(ListResponse { data: emails.iter().map(|e| e.to_wire()).collect(), total_count }))
}
