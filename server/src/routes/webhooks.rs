//! Backend API handlers for webhooks (`/v1/webhook_endpoints…`, secret key): endpoints (create, list,
//! read, update, delete, rotate the secret), their deliveries and attempts, resending one event and
//! recovering everything since a time. Delivery itself is [`crate::webhooks`]'s.

use axum::Json;
use axum::extract::{Path, Query, State};
use hallpass_protocol::{
    CreateWebhookEndpointRequest, DeletedObject, DeliveryStatus, ErrorCode, EventType, ListResponse,
    RecoverWebhookRequest, UpdateWebhookEndpointRequest, WebhookAttempt, WebhookDelivery, WebhookEndpoint,
    WebhookRecovery, id_prefix,
};
use serde::Deserialize;

use super::backend::Page;
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiJson;
use crate::secret::new_id;
use crate::state::AppState;
use crate::store::webhook_deliveries::{AttemptRecord, DeliveryRecord};
use crate::store::webhook_endpoints::{EndpointRecord, NewEndpoint};
use crate::webhooks::address::UrlRefused;
use crate::webhooks::{client, signature};

/// The longest endpoint description accepted, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 1024;

/// How long a rotated-out secret keeps signing beside the new one.
pub const PREVIOUS_SECRET_TTL_MS: i64 = 24 * 3600 * 1000;

/// `POST /v1/webhook_endpoints`: answers the endpoint with its `secret` (the only time it is shown,
/// besides a rotation).
pub async fn create(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<CreateWebhookEndpointRequest>,
) -> ApiResult<Json<WebhookEndpoint>> {
    let url = vet_url(&state, &req.url).await?;
    let description = description(req.description.unwrap_or_default())?;
    let event_types = event_types(req.event_types)?;
    let secret = signature::new_secret()?;
    let endpoint = NewEndpoint {
        id: new_id(id_prefix::WEBHOOK_ENDPOINT)?,
        url,
        description,
        event_types,
        secret: secret.clone(),
        now: state.now_ms(),
    };
    let created = state.store.create_webhook_endpoint(&endpoint).await?;
    tracing::info!(endpoint_id = %created.id, url = %created.url, "webhook endpoint created");
    Ok(Json(WebhookEndpoint { secret: Some(secret), ..created.to_wire(state.now_ms()) }))
}

/// `GET /v1/webhook_endpoints?limit=&offset=`, oldest first.
pub async fn list(
    State(state): State<AppState>,
    Query(page): Query<Page>,
) -> ApiResult<Json<ListResponse<WebhookEndpoint>>> {
    let (limit, offset) = page.bounds();
    let (endpoints, total_count) = state.store.list_webhook_endpoints(limit, offset).await?;
    let now = state.now_ms();
    Ok(Json(ListResponse { data: endpoints.iter().map(|e| e.to_wire(now)).collect(), total_count }))
}

/// `GET /v1/webhook_endpoints/{id}`
pub async fn get(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<WebhookEndpoint>> {
    let endpoint = state.store.webhook_endpoint(&id).await?.ok_or_else(not_found)?;
    Ok(Json(endpoint.to_wire(state.now_ms())))
}

/// `PATCH /v1/webhook_endpoints/{id}`: absent fields stay; see `UpdateWebhookEndpointRequest`.
pub async fn update(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<UpdateWebhookEndpointRequest>,
) -> ApiResult<Json<WebhookEndpoint>> {
    let url = match &req.url {
        Some(url) => Some(vet_url(&state, url).await?),
        None => None,
    };
    let description = req.description.map(description).transpose()?;
    let event_types = req.event_types.map(event_types).transpose()?;
    let now = state.now_ms();
    let endpoint = state
        .store
        .update_webhook_endpoint(&id, now, |e: &mut EndpointRecord| {
            if let Some(url) = url {
                e.url = url;
            }
            if let Some(description) = description {
                e.description = description;
            }
            if let Some(types) = event_types {
                e.event_types = types;
            }
            if let Some(enabled) = req.enabled {
                e.enabled = enabled;
            }
            Ok::<(), ApiError>(())
        })
        .await??
        .ok_or_else(not_found)?;
    tracing::info!(endpoint_id = %endpoint.id, enabled = endpoint.enabled, "webhook endpoint updated");
    Ok(Json(endpoint.to_wire(now)))
}

/// `DELETE /v1/webhook_endpoints/{id}`: the endpoint with its deliveries and attempts.
pub async fn delete(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<DeletedObject>> {
    if !state.store.delete_webhook_endpoint(&id).await? {
        return Err(not_found());
    }
    tracing::info!(endpoint_id = %id, "webhook endpoint deleted");
    Ok(Json(DeletedObject { object: "webhook_endpoint".into(), id, deleted: true }))
}

/// `POST /v1/webhook_endpoints/{id}/rotate_secret`: a new secret, answered once in `secret`; the
/// previous one keeps signing beside it for 24 hours (a secret rotated out earlier stops at once).
pub async fn rotate_secret(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<WebhookEndpoint>> {
    let secret = signature::new_secret()?;
    let now = state.now_ms();
    let rotated = state
        .store
        .rotate_webhook_secret(&id, &secret, now + PREVIOUS_SECRET_TTL_MS, now)
        .await?
        .ok_or_else(not_found)?;
    tracing::info!(endpoint_id = %id, "webhook endpoint secret rotated");
    Ok(Json(WebhookEndpoint { secret: Some(secret), ..rotated.to_wire(now) }))
}

/// The query of the deliveries list.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeliveryFilter {
    status: Option<String>,
    limit: Option<i64>,
    offset: Option<i64>,
}

/// `GET /v1/webhook_endpoints/{id}/deliveries?status=&limit=&offset=`, newest event first.
pub async fn deliveries(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(filter): Query<DeliveryFilter>,
) -> ApiResult<Json<ListResponse<WebhookDelivery>>> {
    let status = match filter.status.as_deref() {
        None => None,
        Some(s) => Some(DeliveryStatus::parse(s).ok_or_else(|| {
            ApiError::unprocessable(
                ErrorCode::FormParamValueInvalid,
                "`status` is one of `pending`, `succeeded`, `failed`",
            )
            .param("status")
        })?),
    };
    existing(&state, &id).await?;
    let (limit, offset) = Page { limit: filter.limit, offset: filter.offset }.bounds();
    let (page, total_count) = state.store.webhook_deliveries(&id, status, limit, offset).await?;
    Ok(Json(ListResponse { data: page.iter().map(DeliveryRecord::to_wire).collect(), total_count }))
}

/// The query of the attempts list.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttemptFilter {
    event_id: Option<String>,
    limit: Option<i64>,
    offset: Option<i64>,
}

/// `GET /v1/webhook_endpoints/{id}/attempts?event_id=&limit=&offset=`, newest first.
pub async fn attempts(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(filter): Query<AttemptFilter>,
) -> ApiResult<Json<ListResponse<WebhookAttempt>>> {
    existing(&state, &id).await?;
    let (limit, offset) = Page { limit: filter.limit, offset: filter.offset }.bounds();
    let (page, total_count) =
        state.store.webhook_attempts(&id, filter.event_id.as_deref(), limit, offset).await?;
    Ok(Json(ListResponse { data: page.iter().map(AttemptRecord::to_wire).collect(), total_count }))
}

/// `POST /v1/webhook_endpoints/{id}/deliveries/{event_id}/resend`: the event queued again for this
/// endpoint, due at once, with a fresh schedule.
pub async fn resend(
    State(state): State<AppState>,
    Path((id, event_id)): Path<(String, String)>,
) -> ApiResult<Json<WebhookDelivery>> {
    existing(&state, &id).await?;
    let delivery = state
        .store
        .resend_webhook(&id, &event_id, state.now_ms())
        .await?
        .ok_or_else(|| ApiError::not_found("Webhook event"))?;
    tracing::info!(endpoint_id = %id, event_id = %event_id, "webhook event queued again");
    Ok(Json(delivery.to_wire()))
}

/// `POST /v1/webhook_endpoints/{id}/recover`: every event since `since` (to `until`) queued again.
pub async fn recover(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<RecoverWebhookRequest>,
) -> ApiResult<Json<WebhookRecovery>> {
    if req.until.is_some_and(|until| until <= req.since) {
        return Err(ApiError::unprocessable(
            ErrorCode::FormParamValueInvalid,
            "`until` must be after `since`",
        )
        .param("until"));
    }
    let queued = state
        .store
        .recover_webhooks(&id, req.since, req.until, state.now_ms())
        .await?
        .ok_or_else(not_found)?;
    tracing::info!(endpoint_id = %id, queued, "webhook events recovered");
    Ok(Json(WebhookRecovery {
        object: "webhook_recovery".into(),
        queued: i64::try_from(queued).unwrap_or(i64::MAX),
    }))
}

async fn existing(state: &AppState, id: &str) -> ApiResult<()> {
    state.store.webhook_endpoint(id).await?.map(|_| ()).ok_or_else(not_found)
}

fn not_found() -> ApiError {
    ApiError::not_found("Webhook endpoint")
}

/// The URL as it will be requested, if the address policy allows it (see `crate::webhooks::address`).
async fn vet_url(state: &AppState, url: &str) -> ApiResult<String> {
    match client::vet_url(url, state.config.webhooks_allow_private_networks).await {
        Ok(parsed) => Ok(parsed.to_string()),
        Err(e) => {
            let code = match e {
                UrlRefused::TooLong => ErrorCode::FormParamTooLong,
                UrlRefused::NotPublic(_) => ErrorCode::FormParamValueInvalid,
                _ => ErrorCode::FormParamFormatInvalid,
            };
            Err(ApiError::unprocessable(code, "`url` cannot receive webhooks")
                .with_long_message(e.to_string())
                .param("url"))
        }
    }
}

fn description(text: String) -> ApiResult<String> {
    if text.chars().count() > MAX_DESCRIPTION_CHARS {
        return Err(crate::validate::too_long("description", MAX_DESCRIPTION_CHARS));
    }
    Ok(text)
}

/// The subscribed types, each once; `None` (every type) stays. An empty list would receive nothing:
/// refused (disable the endpoint instead).
fn event_types(types: Option<Vec<EventType>>) -> ApiResult<Option<Vec<EventType>>> {
    let Some(types) = types else { return Ok(None) };
    if types.is_empty() {
        return Err(ApiError::unprocessable(
            ErrorCode::FormParamValueInvalid,
            "`event_types` is empty: omit it (or send null) to receive every type",
        )
        .param("event_types"));
    }
    let mut unique: Vec<EventType> = Vec::with_capacity(types.len());
    for t in types {
        if !unique.contains(&t) {
            unique.push(t);
        }
    }
    Ok(Some(unique))
}
