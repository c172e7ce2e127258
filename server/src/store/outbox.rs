//! The webhook outbox: every event is written by the transaction of the change it describes, so a
//! committed change always has its event and a rolled-back one never does — whatever crashes between
//! the commit and the delivery. (One exception, as safe: an email's `email.created` is written from
//! the email's row just after its transaction, by the delivery worker — see `super::emails`.)
//!
//! A store method that changes a resource with events calls [`WriteTx::emit`] next to its own
//! statements, with the resource as it now is; [`WriteTx::commit`] then writes the events (this
//! file's [`write`]) as the transaction's last statements. Handlers never emit: they cannot forget to.
//!
//! **Commit order.** [`write`] first takes the next numbers of the one-row `webhook_sequence`
//! (`UPDATE … RETURNING`): the row stays locked until the transaction ends (PostgreSQL; on SQLite the
//! writer holds the whole database), so a later transaction's numbers wait for this one to commit or
//! roll back. Event sequence order is therefore commit order, without gaps, across every replica —
//! and taking the lock last keeps it from ever being held while waiting for another lock.
//!
//! **Fan-out.** The same statements queue one delivery per enabled endpoint that receives the event's
//! type (a `pending` row of `webhook_deliveries`, due at once); delivery is
//! [`super::webhook_deliveries`]'s.

use hallpass_protocol::{EventType, id_prefix};
use serde::Serialize;

use super::{Store, StoreError, WriteTx};
use crate::secret::new_id;

/// An event to write at commit.
#[derive(Debug)]
pub(super) struct NewEvent {
    id: String,
    event_type: EventType,
    /// The envelope's `data`, as JSON text.
    data: String,
    created_at: i64,
}

impl WriteTx {
    /// Emits `event_type` with `data` (the resource as the Backend API shows it; it must serialise to
    /// a JSON object) at `now`: written when this transaction commits, and only then.
    pub fn emit(&mut self, event_type: EventType, data: &impl Serialize, now: i64) -> Result<(), StoreError> {
        let value =
            serde_json::to_value(data).map_err(|e| StoreError::Corrupt(format!("event data: {e}")))?;
        if !value.is_object() {
            return Err(StoreError::Corrupt(format!("{} data is not an object", event_type.as_str())));
        }
        self.events.push(NewEvent {
            id: new_id(id_prefix::EVENT)?,
            event_type,
            data: value.to_string(),
            created_at: now,
        });
        Ok(())
    }
}

/// Writes `events` inside `tx` (called by [`WriteTx::commit`] just before it commits): their
/// sequence numbers, their rows, and a pending delivery for each endpoint that receives them — three
/// statements for up to 500 events.
pub(super) async fn write(tx: &mut WriteTx, events: Vec<NewEvent>) -> Result<(), sqlx::Error> {
    let count = i64::try_from(events.len()).unwrap_or(i64::MAX);
    let last: i64 =
        sqlx::query_scalar("UPDATE webhook_sequence SET last = last + $1 WHERE id = 1 RETURNING last")
            .bind(count)
            .fetch_one(tx.conn())
            .await?;
    let first = last - count + 1;
    let numbered: Vec<(i64, NewEvent)> = (first..).zip(events).collect();
    // Rows per statement: far below either engine's limit on parameters (5 each).
    for chunk in numbered.chunks(500) {
        let mut insert = String::from("INSERT INTO webhook_events (seq, id, type, data, created_at) VALUES ");
        for i in 0..chunk.len() {
            let p = i * 5;
            if i > 0 {
                insert.push_str(", ");
            }
            insert.push_str(&format!("(${}, ${}, ${}, ${}, ${})", p + 1, p + 2, p + 3, p + 4, p + 5));
        }
        let mut query = sqlx::query(sqlx::AssertSqlSafe(insert));
        for (seq, event) in chunk {
            query = query
                .bind(*seq)
                .bind(&event.id)
                .bind(event.event_type.as_str())
                .bind(&event.data)
                .bind(event.created_at);
        }
        query.execute(tx.conn()).await?;
    }
    // `event_types` is a JSON array of names made only of letters and dots: the quoted name is found
    // exactly, and LIKE's wildcards cannot occur in it.
    sqlx::query(
        "INSERT INTO webhook_deliveries (endpoint_id, event_seq, status, attempts, next_attempt_at, updated_at) \
         SELECT e.id, ev.seq, 'pending', 0, ev.created_at, ev.created_at \
         FROM webhook_events ev JOIN webhook_endpoints e ON e.enabled = 1 \
         AND (e.event_types IS NULL OR e.event_types LIKE '%\"' || ev.type || '\"%') \
         WHERE ev.seq BETWEEN $1 AND $2",
    )
    .bind(first)
    .bind(last)
    .execute(tx.conn())
    .await?;
    Ok(())
}

impl Store {
    /// Deletes up to `limit` events older than `cutoff` with their deliveries and attempts — except
    /// those still pending for an enabled endpoint (they go once delivered or given up). Returns how
    /// many.
    pub async fn purge_webhook_events(&self, cutoff: i64, limit: i64) -> Result<u64, StoreError> {
        const OLD: super::dialect::Sql = super::dialect::skip_locked!(
            "DELETE FROM webhook_events WHERE seq IN (",
            "SELECT ev.seq FROM webhook_events ev WHERE ev.created_at < $1 AND NOT EXISTS (\
             SELECT 1 FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id \
             WHERE d.event_seq = ev.seq AND d.status = 'pending' AND e.enabled = 1) \
             ORDER BY ev.created_at LIMIT $2",
            of "ev",
            ")"
        );
        self.purge(&[OLD], cutoff, limit).await
    }
}
