//! Housekeeping: deletes what has outlived its retention — sessions over (signed out, revoked, or past
//! their deadline) for longer than `--session-retention-secs`, with their refresh tokens, refresh
//! tokens rotated longer ago than reuse detection remembers, webhook events older than
//! `--webhook-retention-secs` with their deliveries and attempts (except those still pending for an
//! enabled endpoint), rate-limit budgets that are full again, sign-up and sign-in attempts past
//! their deadline, codes and links a day past theirs, and emails older than `--email-retention-secs`
//! (except those still queued); and it retires signing keys that a
//! newer key replaced once nothing they signed can still be valid (`crate::keyring`) — from a
//! background task that never holds requests up: every batch is one short transaction of at most
//! `--housekeeping-batch-size` rows, batches are `--housekeeping-pause-ms` apart (on SQLite a request
//! waits behind one batch at most), and a sweep starts every `--housekeeping-interval-secs`. Every
//! replica runs one; on PostgreSQL their batches skip the rows another has locked.
//!
//! A new kind of row to purge is a [`Job`] with its store method; a job's rows must not be referenced
//! by a later job's.

use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::config::Config;
use crate::keyring;
use crate::state::AppState;
use crate::store::{REUSE_DETECTION_MS, Store, StoreError};

/// How housekeeping runs (from [`Config`]).
#[derive(Clone, Debug)]
pub struct Settings {
    pub retention_ms: i64,
    /// How long webhook events are kept.
    pub webhook_retention_ms: i64,
    /// How long emails are kept.
    pub email_retention_ms: i64,
    pub batch_size: u32,
    pub pause: Duration,
    pub interval: Duration,
    /// Most batches of one job in one sweep (the rest waits for the next sweep).
    pub max_batches: u32,
}

impl Settings {
    pub fn from_config(config: &Config) -> Settings {
        Settings {
            retention_ms: i64::try_from(config.session_retention_secs.saturating_mul(1000))
                .unwrap_or(i64::MAX),
            webhook_retention_ms: i64::try_from(config.webhook_retention_secs.saturating_mul(1000))
                .unwrap_or(i64::MAX),
            email_retention_ms: i64::try_from(config.email_retention_secs.saturating_mul(1000))
                .unwrap_or(i64::MAX),
            batch_size: config.housekeeping_batch_size.max(1),
            pause: Duration::from_millis(config.housekeeping_pause_ms),
            interval: Duration::from_secs(config.housekeeping_interval_secs.max(1)),
            max_batches: 10_000,
        }
    }
}

/// What one sweep deleted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Swept {
    pub refresh_tokens: u64,
    pub sessions: u64,
    /// Tokens of live sessions rotated longer ago than the reuse detection remembers.
    pub rotated_refresh_tokens: u64,
    pub webhook_events: u64,
    pub rate_limits: u64,
    pub signing_keys_retired: u64,
    /// Sign-up and sign-in attempts, codes and links.
    pub attempts: u64,
    pub emails: u64,
    /// Batches run, all jobs together.
    pub batches: u32,
}

/// A kind of row housekeeping deletes, in sweep order: a session's refresh tokens go before it.
#[derive(Clone, Copy, Debug)]
enum Job {
    RefreshTokens,
    Sessions,
    RotatedRefreshTokens,
    WebhookEvents,
    RateLimits,
    SigningKeys,
    SignUpAttempts,
    SignInAttempts,
    Verifications,
    Emails,
}

const JOBS: [Job; 10] = [
    Job::RefreshTokens,
    Job::Sessions,
    Job::RotatedRefreshTokens,
    Job::WebhookEvents,
    Job::RateLimits,
    Job::SigningKeys,
    Job::SignUpAttempts,
    Job::SignInAttempts,
    Job::Verifications,
    Job::Emails,
];

/// Codes and links are kept this long past their deadline: a link opened in time is still there for
/// the poll of the tab that asked (attempts last at most a day).
const VERIFICATION_GRACE_MS: i64 = crate::store::sign_up_attempts::LIFETIME_MS;

impl Job {
    async fn batch(
        self,
        store: &Store,
        now: i64,
        settings: &Settings,
        limit: i64,
    ) -> Result<u64, StoreError> {
        let sessions_cutoff = now.saturating_sub(settings.retention_ms);
        match self {
            Job::RefreshTokens => store.purge_refresh_tokens(sessions_cutoff, limit).await,
            Job::Sessions => store.purge_sessions(sessions_cutoff, limit).await,
            Job::RotatedRefreshTokens => {
                store.purge_rotated_refresh_tokens(now.saturating_sub(REUSE_DETECTION_MS), limit).await
            }
            Job::WebhookEvents => {
                store.purge_webhook_events(now.saturating_sub(settings.webhook_retention_ms), limit).await
            }
            // A budget whose arrival time has passed is full: the row says nothing a missing one would not.
            Job::RateLimits => store.purge_rate_limits(now, limit).await,
            Job::SigningKeys => {
                let retired = store.retire_signing_keys(now, keyring::RETIRE_SKEW_MS).await?;
                for kid in &retired {
                    tracing::info!(%kid, "signing key retired: nothing it signed is valid any more");
                }
                Ok(retired.len() as u64)
            }
            Job::SignUpAttempts => store.purge_sign_up_attempts(now, limit).await,
            Job::SignInAttempts => store.purge_sign_in_attempts(now, limit).await,
            Job::Verifications => {
                store.purge_verifications(now.saturating_sub(VERIFICATION_GRACE_MS), limit).await
            }
            Job::Emails => store.purge_emails(now.saturating_sub(settings.email_retention_ms), limit).await,
        }
    }

    fn count(self, swept: &mut Swept) -> &mut u64 {
        match self {
            Job::RefreshTokens => &mut swept.refresh_tokens,
            Job::Sessions => &mut swept.sessions,
            Job::RotatedRefreshTokens => &mut swept.rotated_refresh_tokens,
            Job::WebhookEvents => &mut swept.webhook_events,
            Job::RateLimits => &mut swept.rate_limits,
            Job::SigningKeys => &mut swept.signing_keys_retired,
            Job::SignUpAttempts | Job::SignInAttempts | Job::Verifications => &mut swept.attempts,
            Job::Emails => &mut swept.emails,
        }
    }
}

/// Tells a running housekeeper to stop (between two batches); dropping it does too.
#[derive(Debug)]
pub struct StopHandle(watch::Sender<bool>);

impl StopHandle {
    pub fn stop(&self) {
        let _ = self.0.send(true);
    }
}

/// The housekeeper's side of [`StopHandle`].
#[derive(Clone, Debug)]
pub struct Stop(watch::Receiver<bool>);

/// A connected [`StopHandle`] and [`Stop`].
pub fn stop_signal() -> (StopHandle, Stop) {
    let (tx, rx) = watch::channel(false);
    (StopHandle(tx), Stop(rx))
}

impl Stop {
    /// Whether a stop was requested (or the handle dropped).
    pub fn requested(&self) -> bool {
        *self.0.borrow() || self.0.has_changed().is_err()
    }

    /// Sleeps for `d`; `true` if a stop came first.
    pub async fn sleep(&mut self, d: Duration) -> bool {
        if self.requested() {
            return true;
        }
        tokio::select! {
            () = tokio::time::sleep(d) => self.requested(),
            _ = self.0.changed() => true,
        }
    }
}

/// One sweep at the state's clock: each job batch after batch, until a batch comes back short
/// (nothing left), `max_batches` ran, or a stop is requested.
pub async fn sweep(state: &AppState, settings: &Settings, stop: &mut Stop) -> Result<Swept, StoreError> {
    let now = state.now_ms();
    let limit = i64::from(settings.batch_size);
    let mut swept = Swept::default();
    for job in JOBS {
        for _ in 0..settings.max_batches {
            if swept.batches > 0 && stop.sleep(settings.pause).await {
                return Ok(swept);
            }
            let n = job.batch(&state.store, now, settings, limit).await?;
            swept.batches += 1;
            *job.count(&mut swept) += n;
            if n < u64::from(settings.batch_size) {
                break;
            }
        }
    }
    Ok(swept)
}

/// Runs a sweep now and then every `settings.interval` until stopped; the task ends after the batch
/// in progress.
pub fn spawn(state: AppState, mut stop: Stop) -> JoinHandle<()> {
    tokio::spawn(async move {
        let settings = Settings::from_config(&state.config);
        loop {
            match sweep(&state, &settings, &mut stop).await {
                Ok(swept)
                    if swept.refresh_tokens
                        + swept.sessions
                        + swept.rotated_refresh_tokens
                        + swept.webhook_events
                        + swept.rate_limits
                        + swept.attempts
                        + swept.emails
                        > 0 =>
                {
                    tracing::info!(
                        sessions = swept.sessions,
                        refresh_tokens = swept.refresh_tokens,
                        rotated_refresh_tokens = swept.rotated_refresh_tokens,
                        webhook_events = swept.webhook_events,
                        rate_limits = swept.rate_limits,
                        attempts = swept.attempts,
                        emails = swept.emails,
                        batches = swept.batches,
                        "housekeeping: purged"
                    )
                }
                Ok(_) => {}
                Err(e) => tracing::warn!("housekeeping: {e}"),
            }
            if stop.sleep(settings.interval).await {
                return;
            }
        }
    })
}
