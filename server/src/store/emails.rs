//! Emails: the queue the mail worker (`crate::email::worker`) sends from, the development mailbox, and
//! the record an operator reads failures from (Backend API `GET /v1/emails`).
//!
//! An email is written by the transaction that needs it sent ([`insert`]: a sign-up's code with the
//! attempt's verification, an invitation with the invitation), so a committed request always has its
//! email and a restart loses none.
//!
//! **Its `email.created` event comes just after**, not on that transaction: the row is written with
//! `event_pending = 1`, and the delivery worker (`crate::webhooks::worker`, woken by the commit, and
//! polling for other replicas' and a crashed process's) writes the event from it
//! ([`Store::write_email_events`]), once across replicas. So an email to an address without an account
//! — the same row, `suppressed`, with `event_pending = 0` — costs its request exactly the statements a
//! known address's does: the reset and code flows answer an unknown address in the same time, not
//! ~0.4 ms faster for skipping the outbox's three statements (issue 19's no-enumeration rule, measured
//! by `cargo xtask bench`'s `no_enumeration` phase).
//!
//! **Sending.** A worker claims due `queued` emails with a lease ([`Store::claim_emails`]; `FOR UPDATE
//! SKIP LOCKED` on PostgreSQL, so replicas take different ones), sends each, and records the outcome
//! ([`Store::record_email_attempt`]): `sent`, `queued` again at the next retry, or `failed`. A worker
//! killed mid-send leaves its lease to expire ([`LEASE_MS`]) and the email is tried again: at least
//! once.

use hallpass_protocol::{Email, EmailStatus, EventType, Metadata};

use super::dialect::{Sql, skip_locked};
use super::{Store, StoreError, WriteTx};

/// How long a claimed email stays leased: more than a send may take (`crate::email::transport`).
pub const LEASE_MS: i64 = 120_000;

/// An email to write.
#[derive(Clone, Debug)]
pub struct NewEmail {
    pub id: String,
    pub slug: &'static str,
    pub from_email_name: String,
    pub to_email_address: String,
    pub email_address_id: Option<String>,
    pub user_id: Option<String>,
    pub subject: String,
    pub body_html: String,
    pub body_text: String,
    pub data: Metadata,
    pub status: EmailStatus,
    pub now: i64,
}

/// An email as stored.
#[derive(Clone, sqlx::FromRow)]
pub struct EmailRecord {
    pub id: String,
    pub slug: String,
    pub from_email_name: String,
    pub to_email_address: String,
    pub email_address_id: Option<String>,
    pub user_id: Option<String>,
    pub subject: String,
    pub body_html: String,
    pub body_text: String,
    #[sqlx(try_from = "super::columns::JsonText")]
    pub data: Metadata,
    #[sqlx(try_from = "super::columns::NameText")]
    pub status: EmailStatus,
    #[sqlx(try_from = "super::columns::Flag")]
    pub delivered_by_hallpass: bool,
    #[sqlx(try_from = "i64")]
    pub attempts: u32,
    pub last_error: Option<String>,
    pub next_attempt_at: Option<i64>,
    pub sent_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

// Bodies carry live codes and links: never in a log line.
impl std::fmt::Debug for EmailRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmailRecord").field("id", &self.id).field("slug", &self.slug).finish_non_exhaustive()
    }
}

impl EmailRecord {
    pub fn to_wire(&self) -> Email {
        Email {
            object: "email".into(),
            id: self.id.clone(),
            slug: self.slug.clone(),
            from_email_name: self.from_email_name.clone(),
            to_email_address: self.to_email_address.clone(),
            email_address_id: self.email_address_id.clone(),
            user_id: self.user_id.clone(),
            subject: self.subject.clone(),
            body: self.body_html.clone(),
            body_plain: self.body_text.clone(),
            status: self.status,
            data: self.data.clone(),
            delivered_by_hallpass: self.delivered_by_hallpass,
            attempts: self.attempts,
            last_error: self.last_error.clone(),
            next_attempt_at: self.next_attempt_at.filter(|_| self.status == EmailStatus::Queued),
            sent_at: self.sent_at,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

macro_rules! email_columns {
    () => {
        "id, slug, from_email_name, to_email_address, email_address_id, user_id, subject, body_html, body_text, \
         data, status, delivered_by_hallpass, attempts, last_error, next_attempt_at, sent_at, created_at, updated_at"
    };
}

/// What one send came to.
#[derive(Clone, Debug)]
pub enum SendOutcome {
    Sent,
    /// Failed; try again at the given time.
    Retry {
        error: String,
        at: i64,
    },
    /// Failed for good (a permanent refusal, or the last try).
    GiveUp {
        error: String,
    },
}

/// Writes `email` inside `tx`; its `email.created` event follows (see the module doc), none for a
/// suppressed one (it is not sent, by anyone). The statements are the same whatever the status. A
/// queued email is due at once.
pub(super) async fn insert(tx: &mut WriteTx, email: &NewEmail) -> Result<(), StoreError> {
    let delivered_by_hallpass = matches!(email.status, EmailStatus::Queued);
    let next_attempt_at = delivered_by_hallpass.then_some(email.now);
    let event_pending = email.status != EmailStatus::Suppressed;
    let data = super::columns::json(&email.data);
    sqlx::query(
        "INSERT INTO emails (id, slug, from_email_name, to_email_address, email_address_id, user_id, subject, \
         body_html, body_text, data, status, delivered_by_hallpass, attempts, next_attempt_at, created_at, \
         updated_at, event_pending) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 0, $13, $14, $14, $15)",
    )
    .bind(&email.id)
    .bind(email.slug)
    .bind(&email.from_email_name)
    .bind(&email.to_email_address)
    .bind(&email.email_address_id)
    .bind(&email.user_id)
    .bind(&email.subject)
    .bind(&email.body_html)
    .bind(&email.body_text)
    .bind(&data)
    .bind(email.status.as_str())
    .bind(i64::from(delivered_by_hallpass))
    .bind(next_attempt_at)
    .bind(email.now)
    .bind(i64::from(event_pending))
    .execute(tx.conn())
    .await?;
    // Woken either way: the worker finds nothing for a suppressed one, after the answer is sent.
    tx.wake_webhooks();
    if delivered_by_hallpass {
        tx.wake_mail();
    }
    Ok(())
}

/// Emails whose event [`Store::write_email_events`] writes at most per transaction.
const EVENT_BATCH: i64 = 100;

impl Store {
    /// A page of emails, newest first, with the total: all of them, or those with `status` / to `to`.
    pub async fn list_emails(
        &self,
        status: Option<EmailStatus>,
        to: Option<&str>,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<EmailRecord>, i64), StoreError> {
        const FILTER: &str = "WHERE (CAST($1 AS TEXT) IS NULL OR status = $1) AND (CAST($2 AS TEXT) IS NULL OR to_email_address = $2)";
        let status = status.map(|s| s.as_str());
        let sql = format!(
            "SELECT {} FROM emails {FILTER} ORDER BY created_at DESC, id LIMIT $3 OFFSET $4",
            email_columns!()
        );
        let emails = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(status)
            .bind(to)
            .bind(limit)
            .bind(offset)
            .fetch_all(&self.pool)
            .await?;
        let total = sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM emails {FILTER}")))
            .bind(status)
            .bind(to)
            .fetch_one(&self.pool)
            .await?;
        Ok((emails, total))
    }

    /// Writes the `email.created` event of every email still waiting for it (see the module doc),
    /// oldest first, up to [`EVENT_BATCH`] per transaction and [`EVENT_BATCH`]` × 10` per call. Each
    /// email's event is written once: the flag is cleared by a conditional `UPDATE` in the event's
    /// own transaction, so two replicas racing for the same email write it once between them. The
    /// event carries the email as it is then (usually still as written; a quick send may have made
    /// it `sent`) and its creation time. Returns how many were written.
    pub async fn write_email_events(&self) -> Result<usize, StoreError> {
        let mut written = 0;
        for _ in 0..10 {
            // A read first, off the write lock: nothing waiting is the usual answer (a partial index).
            let ids: Vec<String> = sqlx::query_scalar(
                "SELECT id FROM emails WHERE event_pending = 1 ORDER BY created_at, id LIMIT $1",
            )
            .bind(EVENT_BATCH)
            .fetch_all(&self.pool)
            .await?;
            if ids.is_empty() {
                break;
            }
            let mut tx = self.write_tx().await?;
            for id in &ids {
                let taken =
                    sqlx::query("UPDATE emails SET event_pending = 0 WHERE id = $1 AND event_pending = 1")
                        .bind(id)
                        .execute(tx.conn())
                        .await?
                        .rows_affected();
                if taken == 0 {
                    continue; // another replica's
                }
                let sql = concat!("SELECT ", email_columns!(), " FROM emails WHERE id = $1");
                let email: Option<EmailRecord> =
                    sqlx::query_as(sql).bind(id).fetch_optional(tx.conn()).await?;
                if let Some(email) = email {
                    tx.emit(EventType::EmailCreated, &email.to_wire(), email.created_at)?;
                    written += 1;
                }
            }
            tx.commit().await?;
            if ids.len() < EVENT_BATCH as usize {
                break;
            }
        }
        Ok(written)
    }

    pub async fn email(&self, id: &str) -> Result<Option<EmailRecord>, StoreError> {
        let sql = concat!("SELECT ", email_columns!(), " FROM emails WHERE id = $1");
        Ok(sqlx::query_as(sql).bind(id).fetch_optional(&self.pool).await?)
    }

    /// Queues a `failed` email again, due now (its tries start over). `None` if there is no such
    /// email; the email unchanged if it is not `failed`.
    pub async fn retry_email(&self, id: &str, now: i64) -> Result<Option<EmailRecord>, StoreError> {
        let mut tx = self.write_tx().await?;
        let n = sqlx::query(
            "UPDATE emails SET status = 'queued', attempts = 0, next_attempt_at = $1, updated_at = $1 \
             WHERE id = $2 AND status = 'failed'",
        )
        .bind(now)
        .bind(id)
        .execute(tx.conn())
        .await?
        .rows_affected();
        if n > 0 {
            tx.wake_mail();
        }
        tx.commit().await?;
        self.email(id).await
    }

    /// Leases up to `limit` queued emails due at `now` to `owner` for [`LEASE_MS`], oldest due first.
    pub async fn claim_emails(
        &self,
        owner: &str,
        now: i64,
        limit: i64,
    ) -> Result<Vec<EmailRecord>, StoreError> {
        const CLAIM: Sql = skip_locked!(
            "UPDATE emails SET lease_owner = $1, lease_expires_at = $2 WHERE id IN (",
            "SELECT e.id FROM emails e WHERE e.status = 'queued' AND e.next_attempt_at <= $3 \
             AND (e.lease_expires_at IS NULL OR e.lease_expires_at < $3) ORDER BY e.next_attempt_at LIMIT $4",
            no_key_update of "e",
            ") RETURNING id, slug, from_email_name, to_email_address, email_address_id, user_id, subject, \
             body_html, body_text, data, status, delivered_by_hallpass, attempts, last_error, next_attempt_at, \
             sent_at, created_at, updated_at"
        );
        let mut tx = self.write_tx().await?;
        let sql = CLAIM.get(tx.engine());
        let claimed = sqlx::query_as(sql)
            .bind(owner)
            .bind(now + LEASE_MS)
            .bind(now)
            .bind(limit)
            .fetch_all(tx.conn())
            .await?;
        tx.commit().await?;
        Ok(claimed)
    }

    /// Records a send of an email `owner` leased, and releases it. `false` if the lease was lost (the
    /// email was taken by another worker after this one's lease ran out): nothing is written.
    pub async fn record_email_attempt(
        &self,
        id: &str,
        owner: &str,
        outcome: &SendOutcome,
        now: i64,
    ) -> Result<bool, StoreError> {
        let (status, error, next, sent_at) = match outcome {
            SendOutcome::Sent => (EmailStatus::Sent, None, None, Some(now)),
            SendOutcome::Retry { error, at } => (EmailStatus::Queued, Some(error.as_str()), Some(*at), None),
            SendOutcome::GiveUp { error } => (EmailStatus::Failed, Some(error.as_str()), None, None),
        };
        let mut tx = self.write_tx().await?;
        let n = sqlx::query(
            "UPDATE emails SET status = $1, attempts = attempts + 1, last_error = COALESCE($2, last_error), \
             next_attempt_at = $3, sent_at = $4, lease_owner = NULL, lease_expires_at = NULL, updated_at = $5 \
             WHERE id = $6 AND lease_owner = $7",
        )
        .bind(status.as_str())
        .bind(error)
        .bind(next)
        .bind(sent_at)
        .bind(now)
        .bind(id)
        .bind(owner)
        .execute(tx.conn())
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(n > 0)
    }

    /// Gives back leases `owner` holds without a send (shutdown before sending).
    pub async fn release_emails(&self, owner: &str) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        sqlx::query("UPDATE emails SET lease_owner = NULL, lease_expires_at = NULL WHERE lease_owner = $1")
            .bind(owner)
            .execute(tx.conn())
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Deletes up to `limit` emails written before `cutoff` that are not waiting to be sent.
    pub async fn purge_emails(&self, cutoff: i64, limit: i64) -> Result<u64, StoreError> {
        const OLD: Sql = skip_locked!(
            "DELETE FROM emails WHERE id IN (",
            "SELECT e.id FROM emails e WHERE e.created_at < $1 AND e.status <> 'queued' \
             ORDER BY e.created_at LIMIT $2",
            of "e",
            ")"
        );
        self.purge(&[OLD], cutoff, limit).await
    }
}
