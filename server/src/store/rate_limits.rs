//! Rate-limit budgets kept in the database, so that every replica on it spends the same budget (see
//! `crate::ratelimit` for the policy and for why the SQLite default keeps them in memory instead).
//!
//! The algorithm is GCRA: a budget is one "theoretical arrival time" (`tat`, ms) per key. A unit may be
//! taken when `tat - tolerance <= now`, and taking it moves `tat` to `max(tat, now) + interval`. A row
//! whose `tat` has passed is a full budget, exactly like a missing row, so housekeeping deletes those
//! ([`Store::purge_rate_limits`]) and the table holds only the keys spent in the last window.
//!
//! Cost: taking a unit is one statement — an upsert whose `WHERE` decides, returning the new `tat` when
//! the unit was granted and nothing when it was refused — one round trip on PostgreSQL (autocommit,
//! no transaction around it) and one row lock for as long as the statement runs. Its commit does not
//! wait for the disk ([`Store::write_relaxed`]): a database crash may forget the last fraction of a
//! second of counts, which a rate limit can afford, where a flush per Frontend API request could not
//! be. A refusal reads the row once more for its `Retry-After`. Keys are stored as SHA-256: neither
//! client addresses nor the identifiers people type sit in the table.

use super::dialect::{Sql, skip_locked};
use super::{Store, StoreError};
use crate::secret::sha256_hex;

impl Store {
    /// Takes one unit of `key`'s budget at `now` if `tat - tolerance_ms <= now`: `Ok(Ok(()))`, or
    /// `Ok(Err(ms))` when refused (a unit is free again in `ms`).
    pub async fn rate_limit_take(
        &self,
        key: &str,
        now: i64,
        interval_ms: i64,
        tolerance_ms: i64,
    ) -> Result<Result<(), i64>, StoreError> {
        let key = sha256_hex(key.as_bytes());
        let mut conn = self.write_relaxed().await?;
        let granted: Option<i64> = sqlx::query_scalar(
            "INSERT INTO rate_limits (key, tat) VALUES ($1, $2 + $3) \
             ON CONFLICT (key) DO UPDATE \
             SET tat = CASE WHEN rate_limits.tat > $2 THEN rate_limits.tat ELSE $2 END + $3 \
             WHERE rate_limits.tat - $4 <= $2 \
             RETURNING tat",
        )
        .bind(&key)
        .bind(now)
        .bind(interval_ms)
        .bind(tolerance_ms)
        .fetch_optional(conn.conn())
        .await?;
        drop(conn);
        if granted.is_some() {
            return Ok(Ok(()));
        }
        let tat = self.rate_limit_tat(&key).await?.unwrap_or(now);
        Ok(Err((tat - tolerance_ms - now).max(1)))
    }

    /// `key`'s theoretical arrival time, if it has one (a peek, nothing taken).
    pub async fn rate_limit_peek(&self, key: &str) -> Result<Option<i64>, StoreError> {
        self.rate_limit_tat(&sha256_hex(key.as_bytes())).await
    }

    /// Forgets `key`'s budget (a full one again).
    pub async fn rate_limit_reset(&self, key: &str) -> Result<(), StoreError> {
        let key = sha256_hex(key.as_bytes());
        let mut conn = self.write_relaxed().await?;
        sqlx::query("DELETE FROM rate_limits WHERE key = $1").bind(&key).execute(conn.conn()).await?;
        Ok(())
    }

    async fn rate_limit_tat(&self, hashed_key: &str) -> Result<Option<i64>, StoreError> {
        Ok(sqlx::query_scalar("SELECT tat FROM rate_limits WHERE key = $1")
            .bind(hashed_key)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Deletes up to `limit` budgets that are full again at `now` (their `tat` has passed: the same as
    /// no row). Returns how many.
    pub async fn purge_rate_limits(&self, now: i64, limit: i64) -> Result<u64, StoreError> {
        const REFILLED: Sql = skip_locked!(
            "DELETE FROM rate_limits WHERE key IN (",
            "SELECT r.key FROM rate_limits r WHERE r.tat <= $1 LIMIT $2",
            of "r",
            ")"
        );
        self.purge(&[REFILLED], now, limit).await
    }
}
