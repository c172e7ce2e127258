//! The demo app's webhook receiver, standing in for an app backend that keeps its users in step
//! through webhooks: when the demo server starts, [`subscribe`] points a webhook endpoint at
//! `POST /demo/api/webhooks`, which verifies each delivery's signature as `svix` would
//! (`crate::webhooks::signature::verify`) and keeps the last [`KEPT`] events in memory;
//! `GET /demo/api/webhooks` shows the signed-in user the events about them (their user and their
//! sessions). The signing secret stays on the server: the page sees only what the backend received.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::get;
use axum::{Extension, Json, Router};
use hallpass_protocol::{ErrorCode, id_prefix};
use serde::Serialize;
use serde_json::Value;

use crate::error::{ApiError, ApiResult};
use crate::secret::new_id;
use crate::state::AppState;
use crate::store::webhook_endpoints::NewEndpoint;
use crate::webhooks::signature;

/// Where the demo's backend receives webhooks (and lists them).
pub const WEBHOOKS: &str = "/demo/api/webhooks";

/// How many received events the demo keeps.
pub const KEPT: usize = 100;

/// The description that marks the demo's own endpoint.
pub const DESCRIPTION: &str = "Hallpass demo app (www/): its backend at /demo/api/webhooks";

/// One event the demo's backend received (signature verified).
#[derive(Clone, Debug, Serialize)]
pub struct Received {
    /// The `svix-id` header.
    pub id: String,
    #[serde(rename = "type")]
    pub event_type: String,
    /// The event's `timestamp` (milliseconds).
    pub timestamp: i64,
    /// When the backend received it (milliseconds, the server's clock).
    pub received_at: i64,
    /// The `svix-timestamp` header: when this attempt was signed (seconds).
    pub signed_at: i64,
    pub data: Value,
}

/// The demo backend's memory of what it received, newest first.
#[derive(Debug, Default)]
pub struct Inbox(Mutex<VecDeque<Received>>);

/// `POST` and `GET` [`WEBHOOKS`].
pub fn routes() -> Router<AppState> {
    Router::new().route(WEBHOOKS, get(list).post(receive)).layer(Extension(Arc::new(Inbox::default())))
}

/// Points the demo's webhook endpoint at this server's [`WEBHOOKS`] (creating it, or moving it to
/// the address the server now has). Only where private networks are allowed, as `cargo xtask demo`
/// runs: otherwise the deliveries to loopback would be refused.
pub async fn subscribe(state: &AppState) {
    if !state.config.webhooks_allow_private_networks {
        tracing::warn!(
            "demo: webhooks are not sent to the demo's backend (run with HALLPASS_WEBHOOKS_ALLOW_PRIVATE_NETWORKS=true)"
        );
        return;
    }
    let url = format!("{}{WEBHOOKS}", state.public_url());
    if let Err(e) = point_endpoint_at(state, &url).await {
        tracing::warn!("demo: could not set up its webhook endpoint: {e}");
    }
}

async fn point_endpoint_at(state: &AppState, url: &str) -> Result<(), ApiError> {
    let now = state.now_ms();
    let (endpoints, _) = state.store.list_webhook_endpoints(500, 0).await?;
    if let Some(existing) = endpoints.iter().find(|e| e.description == DESCRIPTION) {
        if existing.url != url {
            state
                .store
                .update_webhook_endpoint(&existing.id, now, |e| {
                    e.url = url.to_owned();
                    Ok::<(), ApiError>(())
                })
                .await??;
        }
        return Ok(());
    }
    let endpoint = NewEndpoint {
        id: new_id(id_prefix::WEBHOOK_ENDPOINT)?,
        url: url.to_owned(),
        description: DESCRIPTION.to_owned(),
        event_types: None,
        secret: signature::new_secret()?,
        now,
    };
    let created = state.store.create_webhook_endpoint(&endpoint).await?;
    tracing::info!(endpoint_id = %created.id, url, "demo: webhook endpoint created for the demo's backend");
    Ok(())
}

/// `POST /demo/api/webhooks`: what an app's webhook handler does — verify, then act (here: keep it).
async fn receive(
    State(state): State<AppState>,
    Extension(inbox): Extension<Arc<Inbox>>,
    headers: HeaderMap,
    body: String,
) -> ApiResult<Json<Value>> {
    let refuse =
        |why: &str| ApiError::bad_request(ErrorCode::RequestBodyInvalid, format!("Webhook refused: {why}"));
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let (id, timestamp, signatures) = (header("svix-id"), header("svix-timestamp"), header("svix-signature"));
    let now = state.now_ms();
    let url = format!("{}{WEBHOOKS}", state.public_url());
    let (endpoints, _) = state.store.list_webhook_endpoints(500, 0).await?;
    let endpoint = endpoints.iter().find(|e| e.url == url).ok_or_else(|| refuse("no endpoint sends here"))?;
    let verified = endpoint
        .signing_secrets(now)
        .into_iter()
        .filter_map(signature::key)
        .any(|key| signature::verify(&key, &id, &timestamp, &body, &signatures, now.div_euclid(1000)));
    if !verified {
        return Err(refuse("the signature does not verify"));
    }
    let event: Value = serde_json::from_str(&body).map_err(|_| refuse("the body is not JSON"))?;
    let received = Received {
        id,
        event_type: event["type"].as_str().unwrap_or_default().to_owned(),
        timestamp: event["timestamp"].as_i64().unwrap_or_default(),
        received_at: now,
        signed_at: timestamp.parse().unwrap_or_default(),
        data: event["data"].clone(),
    };
    let mut kept = inbox.0.lock().map_err(|_| ApiError::internal("demo inbox poisoned"))?;
    kept.push_front(received);
    kept.truncate(KEPT);
    Ok(Json(serde_json::json!({"received": true})))
}

/// `GET /demo/api/webhooks` with the session token: the events about the caller, newest first.
async fn list(
    State(state): State<AppState>,
    Extension(inbox): Extension<Arc<Inbox>>,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let user_id = super::demo::session_user(&state, &headers).await?;
    let kept = inbox.0.lock().map_err(|_| ApiError::internal("demo inbox poisoned"))?;
    let mine: Vec<&Received> = kept
        .iter()
        .filter(|r| r.data["id"].as_str() == Some(&user_id) || r.data["user_id"].as_str() == Some(&user_id))
        .collect();
    Ok(Json(serde_json::json!({"object": "list", "data": mine})))
}
