//! Webhook deliveries: one row per (endpoint, event), `pending` until an attempt succeeds or the
//! schedule gives up, and one row per attempt. The delivery worker (`crate::webhooks::worker`) uses
//! the lease functions; the Backend API lists, resends and recovers.
//!
//! **Order per endpoint.** An endpoint's deliveries are made in event sequence order, which is commit
//! order ([`super::outbox`]): only its *head* — its pending delivery with the lowest sequence number
//! — is ever attempted, so an event is not sent before every earlier one succeeded or was given up.
//! (A resend or recover queues an older event again; it then becomes the head and goes first.)
//!
//! **One deliverer per endpoint.** A worker delivers to an endpoint only while it holds the
//! endpoint's lease (`lease_owner`, `lease_expires_at`): [`Store::claim_webhook_endpoints`] takes
//! leases of endpoints whose head is due and whose lease is free or expired — on PostgreSQL with
//! `FOR UPDATE SKIP LOCKED`, so replicas claiming at once take different endpoints; on SQLite the
//! writer is alone anyway. Each recorded attempt renews the lease for [`LEASE_MS`], more than one
//! attempt can take (`crate::webhooks::client::TIMEOUT`), so a live worker never loses it mid-attempt.
//! A worker that dies (SIGKILL) leaves its lease to expire, and then another worker (or the restarted
//! one) takes the endpoint and attempts the same head again: at least once, never twice at once.

use hallpass_protocol::{
    DeliveryStatus, DisabledReason, EventType, WebhookAttempt, WebhookDelivery, id_prefix,
};

use super::dialect::{Sql, skip_locked};
use super::webhook_endpoints::{EndpointRecord, endpoint_columns};
use super::{Store, StoreError, WriteTx};
use crate::secret::new_id;
use crate::webhooks::schedule;

/// How long a claimed endpoint stays leased without a renewal: twice the longest attempt.
pub const LEASE_MS: i64 = 30_000;

/// An endpoint's head of line, and the endpoint as it is now.
#[derive(Debug, sqlx::FromRow)]
pub struct NextDelivery {
    #[sqlx(flatten)]
    pub endpoint: EndpointRecord,
    pub event_seq: i64,
    /// Attempts made so far.
    #[sqlx(try_from = "i64")]
    pub attempts: u32,
    pub next_attempt_at: i64,
    pub event_id: String,
    #[sqlx(try_from = "super::columns::NameText")]
    pub event_type: EventType,
    /// The envelope's `data`, JSON text.
    pub data: String,
    pub event_created_at: i64,
}

/// What an attempt came to, to record.
#[derive(Clone, Debug)]
pub struct AttemptResult {
    pub attempted_at: i64,
    pub duration_ms: i64,
    pub status_code: Option<u16>,
    pub response_excerpt: String,
    pub error: Option<String>,
}

impl AttemptResult {
    /// A 2xx answer.
    pub fn succeeded(&self) -> bool {
        self.status_code.is_some_and(|s| (200..300).contains(&s))
    }
}

/// What recording an attempt decided.
#[derive(Debug)]
pub struct Recorded {
    /// The delivery's state now (`None`: the delivery was gone — its endpoint deleted, say).
    pub status: Option<DeliveryStatus>,
    /// The endpoint was disabled by this attempt.
    pub disabled: Option<DisabledReason>,
    /// The worker still holds the endpoint's lease (renewed) and may go on with its next delivery.
    pub leased: bool,
    /// While leased: the endpoint's head of line now (due or not), read in the same transaction.
    pub next: Option<NextDelivery>,
}

/// A delivery as the Backend API lists it.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct DeliveryRecord {
    pub endpoint_id: String,
    pub event_id: String,
    #[sqlx(try_from = "super::columns::NameText")]
    pub event_type: EventType,
    pub event_timestamp: i64,
    #[sqlx(try_from = "super::columns::NameText")]
    pub status: DeliveryStatus,
    #[sqlx(try_from = "i64")]
    pub attempts: u32,
    pub next_attempt_at: i64,
    pub updated_at: i64,
}

impl DeliveryRecord {
    pub fn to_wire(&self) -> WebhookDelivery {
        WebhookDelivery {
            object: "webhook_delivery".into(),
            endpoint_id: self.endpoint_id.clone(),
            event_id: self.event_id.clone(),
            event_type: self.event_type,
            event_timestamp: self.event_timestamp,
            status: self.status,
            attempts: self.attempts,
            next_attempt_at: (self.status == DeliveryStatus::Pending).then_some(self.next_attempt_at),
            updated_at: self.updated_at,
        }
    }
}

/// An attempt as the Backend API lists it.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct AttemptRecord {
    pub id: String,
    pub endpoint_id: String,
    pub event_id: String,
    pub attempted_at: i64,
    pub duration_ms: i64,
    pub status_code: Option<i64>,
    #[sqlx(try_from = "super::columns::Flag")]
    pub succeeded: bool,
    pub response_excerpt: String,
    pub error: Option<String>,
}

impl AttemptRecord {
    pub fn to_wire(&self) -> WebhookAttempt {
        WebhookAttempt {
            object: "webhook_attempt".into(),
            id: self.id.clone(),
            endpoint_id: self.endpoint_id.clone(),
            event_id: self.event_id.clone(),
            attempted_at: self.attempted_at,
            duration_ms: self.duration_ms,
            status_code: self.status_code.and_then(|s| u16::try_from(s).ok()),
            succeeded: self.succeeded,
            response_excerpt: self.response_excerpt.clone(),
            error: self.error.clone(),
        }
    }
}

/// An endpoint's head of line ([`NextDelivery`]) while `$2` holds its unexpired lease (at `$3`) and it
/// is enabled.
const NEXT_HEAD: &str = concat!(
    "SELECT ",
    endpoint_columns!(),
    ", d.event_seq, d.attempts, d.next_attempt_at, ev.id AS event_id, ev.type AS event_type, ev.data, \
     ev.created_at AS event_created_at \
     FROM webhook_endpoints e \
     JOIN webhook_deliveries d ON d.endpoint_id = e.id AND d.status = 'pending' \
     JOIN webhook_events ev ON ev.seq = d.event_seq \
     WHERE e.id = $1 AND e.enabled = 1 AND e.lease_owner = $2 AND e.lease_expires_at > $3 \
     ORDER BY d.event_seq LIMIT 1"
);

async fn head(
    tx: &mut WriteTx,
    endpoint_id: &str,
    owner: &str,
    now: i64,
) -> Result<Option<NextDelivery>, StoreError> {
    Ok(sqlx::query_as(NEXT_HEAD).bind(endpoint_id).bind(owner).bind(now).fetch_optional(tx.conn()).await?)
}

/// `SELECT <a DeliveryRecord> FROM webhook_deliveries d JOIN webhook_events ev …` and then `$rest`.
macro_rules! select_delivery {
    ($rest:literal) => {
        concat!(
            "SELECT d.endpoint_id, ev.id AS event_id, ev.type AS event_type, ev.created_at AS event_timestamp, \
             d.status, d.attempts, d.next_attempt_at, d.updated_at \
             FROM webhook_deliveries d JOIN webhook_events ev ON ev.seq = d.event_seq ",
            $rest
        )
    };
}

impl Store {
    /// Leases to `owner`, until `now + LEASE_MS`, up to `limit` enabled endpoints whose head of line
    /// is due at `now` and whose lease is free or expired, those served longest ago first. Returns
    /// their ids.
    pub async fn claim_webhook_endpoints(
        &self,
        owner: &str,
        now: i64,
        limit: i64,
    ) -> Result<Vec<String>, StoreError> {
        const CLAIM: Sql = skip_locked!(
            "UPDATE webhook_endpoints SET lease_owner = $1, lease_expires_at = $2 WHERE id IN (",
            "SELECT e.id FROM webhook_endpoints e WHERE e.enabled = 1 \
             AND (e.lease_owner IS NULL OR e.lease_expires_at <= $3) \
             AND (SELECT d.next_attempt_at FROM webhook_deliveries d WHERE d.endpoint_id = e.id \
                  AND d.status = 'pending' ORDER BY d.event_seq LIMIT 1) <= $3 \
             ORDER BY COALESCE(e.lease_expires_at, 0), e.id LIMIT $4",
            // Not `FOR UPDATE`: that conflicts with the key-share lock each new delivery's foreign
            // key holds on its endpoint until the emitting transaction commits, so claims would skip
            // the busiest endpoints.
            no_key_update of "e",
            ") RETURNING id"
        );
        if limit <= 0 {
            return Ok(Vec::new());
        }
        let mut tx = self.write_tx().await?;
        let sql = CLAIM.get(tx.engine());
        let ids = sqlx::query_scalar(sql)
            .bind(owner)
            .bind(now + LEASE_MS)
            .bind(now)
            .bind(limit)
            .fetch_all(tx.conn())
            .await?;
        tx.commit().await?;
        Ok(ids)
    }

    /// The head of line of `endpoint_id` (due or not), while `owner` holds the endpoint's unexpired
    /// lease and it is enabled; `None` otherwise, or when nothing is pending.
    pub async fn next_webhook_delivery(
        &self,
        endpoint_id: &str,
        owner: &str,
        now: i64,
    ) -> Result<Option<NextDelivery>, StoreError> {
        Ok(sqlx::query_as(NEXT_HEAD)
            .bind(endpoint_id)
            .bind(owner)
            .bind(now)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Records an attempt at `delivery` made under `owner`'s lease, at `now`: the attempt row, the
    /// delivery's new state (succeeded; or pending until its next scheduled attempt, `unit` being the
    /// jitter's random number; or failed, given up), the endpoint's failure streak — disabling it on a
    /// `410 Gone` or after failing for days — and the lease renewed.
    pub async fn record_webhook_attempt(
        &self,
        owner: &str,
        delivery: &NextDelivery,
        result: &AttemptResult,
        now: i64,
        unit: f64,
    ) -> Result<Recorded, StoreError> {
        let ok = result.succeeded();
        let endpoint_id = &delivery.endpoint.id;
        let mut tx = self.write_tx().await?;
        // The endpoint row first (the order deleting an endpoint locks in), with a plain UPDATE: it
        // does not conflict with the key-share locks that new deliveries' foreign keys take.
        #[derive(sqlx::FromRow)]
        struct Streak {
            failing_since: Option<i64>,
            lease_owner: Option<String>,
            #[sqlx(try_from = "super::columns::Flag")]
            enabled: bool,
        }
        let streak: Option<Streak> = sqlx::query_as(
            "UPDATE webhook_endpoints SET \
             failing_since = CASE WHEN $1 = 1 THEN NULL ELSE COALESCE(failing_since, $2) END, \
             lease_expires_at = CASE WHEN lease_owner = $3 THEN $4 ELSE lease_expires_at END \
             WHERE id = $5 RETURNING failing_since, lease_owner, enabled",
        )
        .bind(i64::from(ok))
        .bind(now)
        .bind(owner)
        .bind(now + LEASE_MS)
        .bind(endpoint_id)
        .fetch_optional(tx.conn())
        .await?;
        let Some(streak) = streak else {
            return Ok(Recorded { status: None, disabled: None, leased: false, next: None });
        };
        let attempts = delivery.attempts.saturating_add(1);
        let (status, next_attempt_at) = if ok {
            (DeliveryStatus::Succeeded, now)
        } else {
            match schedule::next_attempt_at(now, attempts, unit) {
                Some(at) => (DeliveryStatus::Pending, at),
                None => (DeliveryStatus::Failed, now),
            }
        };
        let updated = sqlx::query(
            "UPDATE webhook_deliveries SET status = $1, attempts = $2, next_attempt_at = $3, updated_at = $4 \
             WHERE endpoint_id = $5 AND event_seq = $6 AND status = 'pending'",
        )
        .bind(status.as_str())
        .bind(i64::from(attempts))
        .bind(next_attempt_at)
        .bind(now)
        .bind(endpoint_id)
        .bind(delivery.event_seq)
        .execute(tx.conn())
        .await?
        .rows_affected();
        if updated == 0 {
            // Purged, or no longer pending: nothing to record against.
            let leased = streak.enabled && streak.lease_owner.as_deref() == Some(owner);
            let next = if leased { head(&mut tx, endpoint_id, owner, now).await? } else { None };
            tx.commit().await?;
            return Ok(Recorded { status: None, disabled: None, leased, next });
        }
        sqlx::query(
            "INSERT INTO webhook_attempts (id, endpoint_id, event_seq, attempted_at, duration_ms, status_code, \
             succeeded, response_excerpt, error) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(new_id(id_prefix::WEBHOOK_ATTEMPT)?)
        .bind(endpoint_id)
        .bind(delivery.event_seq)
        .bind(result.attempted_at)
        .bind(result.duration_ms)
        .bind(result.status_code.map(i64::from))
        .bind(i64::from(ok))
        .bind(&result.response_excerpt)
        .bind(&result.error)
        .execute(tx.conn())
        .await?;
        let disable = if !streak.enabled || ok {
            None
        } else if result.status_code == Some(410) {
            Some(DisabledReason::Gone)
        } else if streak.failing_since.is_some_and(|since| now - since >= schedule::DISABLE_AFTER_FAILING_MS)
        {
            Some(DisabledReason::Failing)
        } else {
            None
        };
        if let Some(reason) = disable {
            sqlx::query(
                "UPDATE webhook_endpoints SET enabled = 0, disabled_reason = $1, lease_owner = NULL, \
                 lease_expires_at = NULL, updated_at = $2 WHERE id = $3",
            )
            .bind(reason.as_str())
            .bind(now)
            .bind(endpoint_id)
            .execute(tx.conn())
            .await?;
        }
        let leased = disable.is_none() && streak.enabled && streak.lease_owner.as_deref() == Some(owner);
        // The next head in the same transaction: one round trip fewer per delivery.
        let next = if leased { head(&mut tx, endpoint_id, owner, now).await? } else { None };
        tx.commit().await?;
        Ok(Recorded { status: Some(status), disabled: disable, leased, next })
    }

    /// Gives up `owner`'s lease of an endpoint (another worker may claim it at once; the expiry stays
    /// as when it was last served, which orders the claims).
    pub async fn release_webhook_endpoint(&self, endpoint_id: &str, owner: &str) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        sqlx::query("UPDATE webhook_endpoints SET lease_owner = NULL WHERE id = $1 AND lease_owner = $2")
            .bind(endpoint_id)
            .bind(owner)
            .execute(tx.conn())
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// An endpoint's deliveries, newest event first (of one status, if given), and their count.
    pub async fn webhook_deliveries(
        &self,
        endpoint_id: &str,
        status: Option<DeliveryStatus>,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<DeliveryRecord>, i64), StoreError> {
        let status = status.map(DeliveryStatus::as_str);
        let page = sqlx::query_as(select_delivery!(
            "WHERE d.endpoint_id = $1 AND ($2 IS NULL OR d.status = $2) ORDER BY d.event_seq DESC LIMIT $3 OFFSET $4"
        ))
        .bind(endpoint_id)
        .bind(status)
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.pool)
        .await?;
        let total = sqlx::query_scalar(
            "SELECT COUNT(*) FROM webhook_deliveries d WHERE d.endpoint_id = $1 AND ($2 IS NULL OR d.status = $2)",
        )
        .bind(endpoint_id)
        .bind(status)
        .fetch_one(&self.pool)
        .await?;
        Ok((page, total))
    }

    /// An endpoint's attempts, newest first (for one event, if given), and their count.
    pub async fn webhook_attempts(
        &self,
        endpoint_id: &str,
        event_id: Option<&str>,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<AttemptRecord>, i64), StoreError> {
        let page = sqlx::query_as(
            "SELECT a.id, a.endpoint_id, ev.id AS event_id, a.attempted_at, a.duration_ms, a.status_code, \
             a.succeeded, a.response_excerpt, a.error \
             FROM webhook_attempts a JOIN webhook_events ev ON ev.seq = a.event_seq \
             WHERE a.endpoint_id = $1 AND ($2 IS NULL OR ev.id = $2) \
             ORDER BY a.attempted_at DESC, a.event_seq DESC, a.id LIMIT $3 OFFSET $4",
        )
        .bind(endpoint_id)
        .bind(event_id)
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.pool)
        .await?;
        let total = sqlx::query_scalar(
            "SELECT COUNT(*) FROM webhook_attempts a JOIN webhook_events ev ON ev.seq = a.event_seq \
             WHERE a.endpoint_id = $1 AND ($2 IS NULL OR ev.id = $2)",
        )
        .bind(endpoint_id)
        .bind(event_id)
        .fetch_one(&self.pool)
        .await?;
        Ok((page, total))
    }

    /// Queues event `event_id` for the endpoint again, due at once, with a fresh schedule (whether
    /// it was delivered, given up, pending, or never queued for this endpoint). `None` if the
    /// endpoint or the event does not exist.
    pub async fn resend_webhook(
        &self,
        endpoint_id: &str,
        event_id: &str,
        now: i64,
    ) -> Result<Option<DeliveryRecord>, StoreError> {
        let mut tx = self.write_tx().await?;
        let n = sqlx::query(
            "INSERT INTO webhook_deliveries (endpoint_id, event_seq, status, attempts, next_attempt_at, updated_at) \
             SELECT e.id, ev.seq, 'pending', 0, $3, $3 FROM webhook_endpoints e, webhook_events ev \
             WHERE e.id = $1 AND ev.id = $2 \
             ON CONFLICT (endpoint_id, event_seq) DO UPDATE SET status = 'pending', attempts = 0, \
             next_attempt_at = $3, updated_at = $3",
        )
        .bind(endpoint_id)
        .bind(event_id)
        .bind(now)
        .execute(tx.conn())
        .await?
        .rows_affected();
        if n == 0 {
            return Ok(None);
        }
        let delivery = sqlx::query_as(select_delivery!("WHERE d.endpoint_id = $1 AND ev.id = $2"))
            .bind(endpoint_id)
            .bind(event_id)
            .fetch_optional(tx.conn())
            .await?;
        tx.commit().await?;
        self.wake_webhooks();
        Ok(delivery)
    }

    /// Queues for the endpoint, due at once, every event from `since` (inclusive) to `until`
    /// (exclusive; no bound if `None`) of the types it receives, except those already pending for it.
    /// Returns how many were queued; `None` if there is no such endpoint.
    pub async fn recover_webhooks(
        &self,
        endpoint_id: &str,
        since: i64,
        until: Option<i64>,
        now: i64,
    ) -> Result<Option<u64>, StoreError> {
        let mut tx = self.write_tx().await?;
        let types: Option<Option<String>> =
            sqlx::query_scalar("SELECT event_types FROM webhook_endpoints WHERE id = $1")
                .bind(endpoint_id)
                .fetch_optional(tx.conn())
                .await?;
        let Some(types) = types else { return Ok(None) };
        let n = sqlx::query(
            "INSERT INTO webhook_deliveries (endpoint_id, event_seq, status, attempts, next_attempt_at, updated_at) \
             SELECT $1, ev.seq, 'pending', 0, $2, $2 FROM webhook_events ev \
             WHERE ev.created_at >= $3 AND ($4 IS NULL OR ev.created_at < $4) \
             AND ($5 IS NULL OR $5 LIKE '%\"' || ev.type || '\"%') \
             ON CONFLICT (endpoint_id, event_seq) DO UPDATE SET status = 'pending', attempts = 0, \
             next_attempt_at = $2, updated_at = $2 WHERE webhook_deliveries.status <> 'pending'",
        )
        .bind(endpoint_id)
        .bind(now)
        .bind(since)
        .bind(until)
        .bind(types)
        .execute(tx.conn())
        .await?
        .rows_affected();
        tx.commit().await?;
        if n > 0 {
            self.wake_webhooks();
        }
        Ok(Some(n))
    }
}
