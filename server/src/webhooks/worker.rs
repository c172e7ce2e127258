//! The delivery worker: a background task of every running server (unless `--webhook-concurrency 0`)
//! that claims endpoints whose next delivery is due ([`Store::claim_webhook_endpoints`]), and for
//! each, in its own task, sends its due deliveries one after another in sequence order — signed,
//! through [`super::client`] — recording every attempt, until none is due, then releases it.
//!
//! At most `--webhook-concurrency` endpoints are served at once. The worker wakes when a commit of
//! this process wrote events (or an email, whose `email.created` event the worker writes first:
//! [`crate::store::Store::write_email_events`] — with `--webhook-concurrency 0` too, which only
//! stops this process delivering), when an endpoint's task ends, and every
//! `--webhook-poll-interval-ms` (for other replicas' events and for retries coming due). On shutdown it stops claiming, lets each
//! task finish the attempt in flight, and releases their leases.
//!
//! [`tick`] runs one claim-and-deliver round to completion: tests drive delivery with it on a
//! [`crate::clock::ManualClock`].

use std::sync::Arc;
use std::time::Duration;

use hallpass_protocol::{DeliveryStatus, WebhookEvent};
use tokio::sync::Semaphore;
use tokio::task::{JoinHandle, JoinSet};

use super::{js_json, schedule, signature};
use crate::housekeeping::Stop;
use crate::state::AppState;
use crate::store::StoreError;
use crate::store::webhook_deliveries::{AttemptResult, NextDelivery};

/// Most deliveries one task makes before it gives its endpoint back (the next claim may take it
/// again at once): every loop is bounded.
const MAX_DELIVERIES_PER_CLAIM: u32 = 200;

/// Endpoints [`tick`] claims at most.
const TICK_CLAIM_LIMIT: i64 = 1000;

/// The body of a delivery of `next`: Clerk's envelope, written as JavaScript would
/// ([`js_json`]). The same bytes on every attempt.
pub fn body(state: &AppState, next: &NextDelivery) -> Result<String, String> {
    let data = serde_json::from_str(&next.data).map_err(|e| format!("stored event data: {e}"))?;
    let event = WebhookEvent {
        data,
        object: "event".into(),
        event_type: next.event_type,
        timestamp: next.event_created_at,
        instance_id: state.instance_id.clone(),
    };
    let value = serde_json::to_value(&event).map_err(|e| format!("event envelope: {e}"))?;
    Ok(js_json::to_string(&value))
}

/// One attempt at `next`, now.
async fn attempt(state: &AppState, next: &NextDelivery) -> AttemptResult {
    let now = state.now_ms();
    let failed = |error: String| AttemptResult {
        attempted_at: now,
        duration_ms: 0,
        status_code: None,
        response_excerpt: String::new(),
        error: Some(error),
    };
    let body = match body(state, next) {
        Ok(b) => b,
        Err(e) => return failed(e),
    };
    let keys: Vec<Vec<u8>> =
        next.endpoint.signing_secrets(now).into_iter().filter_map(signature::key).collect();
    if keys.is_empty() {
        return failed("the endpoint's signing secret is unusable; rotate it".into());
    }
    let timestamp = now.div_euclid(1000);
    let signatures = signature::header(&keys, &next.event_id, timestamp, &body);
    let mut headers: Vec<(&'static str, String)> = Vec::with_capacity(6);
    for (id, ts, sig) in signature::HEADERS {
        headers.push((id, next.event_id.clone()));
        headers.push((ts, timestamp.to_string()));
        headers.push((sig, signatures.clone()));
    }
    let answer = state.webhook_client.post(&next.endpoint.url, &headers, body).await;
    AttemptResult {
        attempted_at: now,
        duration_ms: answer.duration_ms,
        status_code: answer.status,
        response_excerpt: answer.excerpt,
        error: answer.error,
    }
}

/// Delivers, in order, what is due for an endpoint this process has claimed, then releases it.
/// Returns the attempts made.
async fn serve_endpoint(state: &AppState, endpoint_id: &str, stop: Option<&Stop>) -> Result<u32, StoreError> {
    let owner = &state.webhook_owner;
    let mut made = 0;
    let served = async {
        let mut head = state.store.next_webhook_delivery(endpoint_id, owner, state.now_ms()).await?;
        for _ in 0..MAX_DELIVERIES_PER_CLAIM {
            if stop.is_some_and(Stop::requested) {
                break;
            }
            let Some(next) = head.take() else { break };
            if next.next_attempt_at > state.now_ms() {
                break;
            }
            let result = attempt(state, &next).await;
            let recorded = state
                .store
                .record_webhook_attempt(owner, &next, &result, state.now_ms(), schedule::random_unit())
                .await?;
            made += 1;
            match recorded.status {
                Some(DeliveryStatus::Succeeded) => tracing::debug!(
                    endpoint_id, event_id = %next.event_id, status = ?result.status_code, "webhook delivered"
                ),
                status => tracing::info!(
                    endpoint_id,
                    event_id = %next.event_id,
                    attempt = next.attempts + 1,
                    status_code = ?result.status_code,
                    error = result.error.as_deref().unwrap_or(""),
                    given_up = status == Some(DeliveryStatus::Failed),
                    "webhook attempt failed"
                ),
            }
            if let Some(reason) = recorded.disabled {
                tracing::warn!(endpoint_id, reason = reason.as_str(), "webhook endpoint disabled");
            }
            if !recorded.leased {
                break;
            }
            head = recorded.next;
        }
        Ok::<(), StoreError>(())
    }
    .await;
    let released = state.store.release_webhook_endpoint(endpoint_id, owner).await;
    served.and(released).map(|()| made)
}

/// One round: claims every endpoint with a delivery due now and serves them all at once, to the end.
/// Returns the attempts made. (The background worker does the same continuously, bounded.)
pub async fn tick(state: &AppState) -> Result<u32, StoreError> {
    state.store.write_email_events().await?;
    let ids =
        state.store.claim_webhook_endpoints(&state.webhook_owner, state.now_ms(), TICK_CLAIM_LIMIT).await?;
    let mut tasks = JoinSet::new();
    for id in ids {
        let state = state.clone();
        tasks.spawn(async move { serve_endpoint(&state, &id, None).await });
    }
    let mut made = 0;
    while let Some(joined) = tasks.join_next().await {
        made += joined.map_err(|e| StoreError::Corrupt(format!("delivery task: {e}")))??;
    }
    Ok(made)
}

/// Runs the worker until `stop` (see the module doc).
pub fn spawn(state: AppState, mut stop: Stop) -> JoinHandle<()> {
    tokio::spawn(async move {
        // 0: no endpoint is claimed here, but emails' events are still written.
        let concurrency = state.config.webhook_concurrency;
        let poll = Duration::from_millis(state.config.webhook_poll_interval_ms.max(10));
        let permits = Arc::new(Semaphore::new(concurrency));
        let mut running: JoinSet<()> = JoinSet::new();
        loop {
            // Emails' events first (their deliveries are then due at once; see store/emails.rs).
            if !stop.requested()
                && let Err(e) = state.store.write_email_events().await
            {
                tracing::warn!("webhook delivery: writing email events: {e}");
            }
            let free = permits.available_permits();
            if free > 0 && !stop.requested() {
                match state
                    .store
                    .claim_webhook_endpoints(&state.webhook_owner, state.now_ms(), free as i64)
                    .await
                {
                    Ok(ids) => {
                        for id in ids {
                            let Ok(permit) = permits.clone().try_acquire_owned() else {
                                // Cannot happen (claimed no more than were free); give it back.
                                let _ = state.store.release_webhook_endpoint(&id, &state.webhook_owner).await;
                                continue;
                            };
                            let (state, stop) = (state.clone(), stop.clone());
                            running.spawn(async move {
                                if let Err(e) = serve_endpoint(&state, &id, Some(&stop)).await {
                                    tracing::warn!(endpoint_id = %id, "webhook delivery: {e}");
                                }
                                drop(permit);
                            });
                        }
                    }
                    Err(e) => tracing::warn!("webhook delivery: claiming endpoints: {e}"),
                }
            }
            tokio::select! {
                () = state.store.outbox_written() => {}
                Some(_) = running.join_next(), if !running.is_empty() => {}
                stopped = stop.sleep(poll) => if stopped { break },
            }
        }
        // Each task stops after its attempt in flight (at most the client's timeout) and releases.
        while running.join_next().await.is_some() {}
    })
}
