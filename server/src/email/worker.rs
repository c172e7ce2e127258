//! The mail worker: a background task of every running server with a mail server configured (unless
//! `--email-concurrency 0`) that leases due emails ([`Store::claim_emails`](crate::store::Store)),
//! sends each through the [`Mailer`](super::transport::Mailer) in a task of its own — at most
//! `--email-concurrency` at once — and records what came of it: sent, retried on the [`schedule`]
//! (logged at `warn`), or given up (logged at `error`, and `failed` in the Backend API).
//!
//! It wakes when a commit of this process queued an email, when a send ends, and every
//! `--email-poll-interval-ms` (retries coming due, other replicas' emails). On shutdown it stops
//! claiming, lets the sends in flight finish, and gives back what it had leased but not sent.
//!
//! [`tick`] runs one claim-and-send round to completion: tests drive delivery with it.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;
use tokio::task::{JoinHandle, JoinSet};

use super::schedule;
use super::transport::Mailer;
use crate::housekeeping::Stop;
use crate::state::AppState;
use crate::store::{EmailRecord, SendOutcome, StoreError};

/// Emails [`tick`] claims at most.
const TICK_CLAIM_LIMIT: i64 = 500;

/// Sends one leased email and records the outcome.
async fn send_one(state: &AppState, mailer: &Mailer, email: EmailRecord) -> Result<(), StoreError> {
    let attempt = email.attempts + 1;
    let outcome = match mailer.send(&email).await {
        Ok(()) => SendOutcome::Sent,
        Err(e) => {
            let next = if e.permanent {
                None
            } else {
                schedule::next_attempt_at(state.now_ms(), attempt, crate::webhooks::schedule::random_unit())
            };
            match next {
                Some(at) => {
                    tracing::warn!(
                        email_id = %email.id, slug = %email.slug, server = %mailer.server, attempt,
                        error = %e.message, "email not sent: will retry"
                    );
                    SendOutcome::Retry { error: e.message, at }
                }
                None => {
                    tracing::error!(
                        email_id = %email.id, slug = %email.slug, server = %mailer.server, attempt,
                        permanent = e.permanent, error = %e.message, "email not sent: given up"
                    );
                    SendOutcome::GiveUp { error: e.message }
                }
            }
        }
    };
    if matches!(outcome, SendOutcome::Sent) {
        tracing::debug!(email_id = %email.id, slug = %email.slug, "email sent");
    }
    let recorded =
        state.store.record_email_attempt(&email.id, &state.mail_owner, &outcome, state.now_ms()).await?;
    if !recorded {
        tracing::warn!(email_id = %email.id, "email lease lost before its send was recorded");
    }
    Ok(())
}

/// One round: claims every email due now and sends them all, to the end. Returns how many were
/// tried. Without a mail server, none.
pub async fn tick(state: &AppState) -> Result<usize, StoreError> {
    let Some(mailer) = state.mailer.clone() else { return Ok(0) };
    let emails = state.store.claim_emails(&state.mail_owner, state.now_ms(), TICK_CLAIM_LIMIT).await?;
    let count = emails.len();
    let mut tasks = JoinSet::new();
    for email in emails {
        let (state, mailer) = (state.clone(), mailer.clone());
        tasks.spawn(async move { send_one(&state, &mailer, email).await });
    }
    while let Some(joined) = tasks.join_next().await {
        joined.map_err(|e| StoreError::Corrupt(format!("mail task: {e}")))??;
    }
    Ok(count)
}

/// Runs the worker until `stop` (see the module doc). Does nothing without a mail server.
pub fn spawn(state: AppState, mut stop: Stop) -> JoinHandle<()> {
    tokio::spawn(async move {
        let Some(mailer) = state.mailer.clone() else { return };
        let concurrency = state.config.email_concurrency;
        if concurrency == 0 {
            return;
        }
        let poll = Duration::from_millis(state.config.email_poll_interval_ms.max(10));
        let permits = Arc::new(Semaphore::new(concurrency));
        let mut running: JoinSet<()> = JoinSet::new();
        loop {
            let free = permits.available_permits();
            if free > 0 && !stop.requested() {
                match state.store.claim_emails(&state.mail_owner, state.now_ms(), free as i64).await {
                    Ok(emails) => {
                        for email in emails {
                            let Ok(permit) = permits.clone().try_acquire_owned() else { break };
                            let (state, mailer) = (state.clone(), mailer.clone());
                            running.spawn(async move {
                                if let Err(e) = send_one(&state, &mailer, email).await {
                                    tracing::warn!("email delivery: {e}");
                                }
                                drop(permit);
                            });
                        }
                    }
                    Err(e) => tracing::warn!("email delivery: claiming emails: {e}"),
                }
            }
            tokio::select! {
                () = state.store.mail_queued() => {}
                Some(_) = running.join_next(), if !running.is_empty() => {}
                stopped = stop.sleep(poll) => if stopped { break },
            }
        }
        while running.join_next().await.is_some() {}
        if let Err(e) = state.store.release_emails(&state.mail_owner).await {
            tracing::warn!("email delivery: releasing leases: {e}");
        }
    })
}
