//! The instance's own secrets and signing keys, in the database so that every process on it uses the
//! same: the Backend API secret key, the refresh-successor key, and the RS256 keys the JWKS publishes.
//! Created by whichever process starts first; everyone else reads what it stored.
//!
//! Signing keys rotate (`crate::keyring` has the rules): a key is published from its insertion, signs
//! from `active_from`, leases `signed_until` (no token it signs expires later) before it signs past it,
//! and is retired once a newer key signs and its lease plus the clock skew has passed. A lease and a
//! retirement of one key are both single `UPDATE`s of its row whose `WHERE` re-checks the other's
//! condition, so of the two racing, whichever commits second sees the first and does nothing.

use super::dialect::locked;
use super::{Store, StoreError};

/// A signing key as stored (not retired). `Debug` leaves the private key out.
#[derive(Clone, sqlx::FromRow)]
pub struct StoredSigningKey {
    pub kid: String,
    /// base64url of the PKCS#8 DER, or that sealed with the key encryption key (`crate::at_rest`).
    pub private_key: String,
    /// When it starts signing (ms).
    pub active_from: i64,
    /// Its lease: no token it signed expires later (ms). `None`: a key from before leases.
    pub signed_until: Option<i64>,
}

/// A signing key's history, retired ones included (`hallpass-server keys list`); no key material.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct SigningKeyRow {
    pub kid: String,
    pub created_at: i64,
    pub active_from: i64,
    pub signed_until: Option<i64>,
    pub retired_at: Option<i64>,
}

/// Why a new signing key was not added.
#[derive(Debug, thiserror::Error)]
pub enum AddKeyError {
    /// Another key is already waiting to start signing (this one, at that time).
    #[error("key {0} is already scheduled to start signing")]
    Pending(String, i64),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for AddKeyError {
    fn from(e: sqlx::Error) -> Self {
        AddKeyError::Store(e.into())
    }
}

impl std::fmt::Debug for StoredSigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredSigningKey").field("kid", &self.kid).finish_non_exhaustive()
    }
}

/// The `instance_secrets` row whose insertion decides which process's key becomes the first signing
/// key. Its value is that key's `kid` (not a secret; the row is a one-time lock).
const FIRST_SIGNING_KEY: &str = "first_signing_key";

impl Store {
    /// The secret called `name`, created with `make` if absent. Safe against concurrent starts:
    /// whoever inserts first wins and everyone reads that value.
    pub async fn secret_or_insert(&self, name: &str, make: String, now: i64) -> Result<String, StoreError> {
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO instance_secrets (name, value, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(make)
        .bind(now)
        .execute(tx.conn())
        .await?;
        tx.commit().await?;
        let value = sqlx::query_scalar("SELECT value FROM instance_secrets WHERE name = $1")
            .bind(name)
            .fetch_one(&self.pool)
            .await?;
        Ok(value)
    }

    /// Replaces the value of the secret called `name` (sealing it at rest).
    pub async fn set_secret(&self, name: &str, value: &str) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        sqlx::query("UPDATE instance_secrets SET value = $1 WHERE name = $2")
            .bind(value)
            .bind(name)
            .execute(tx.conn())
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Replaces the stored private key of signing key `kid` (sealing it at rest).
    pub async fn set_signing_key_material(&self, kid: &str, private_key: &str) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        sqlx::query("UPDATE signing_keys SET private_key = $1 WHERE kid = $2")
            .bind(private_key)
            .bind(kid)
            .execute(tx.conn())
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Stored signing keys that are not retired, the latest to start signing first.
    pub async fn signing_keys(&self) -> Result<Vec<StoredSigningKey>, StoreError> {
        let keys = sqlx::query_as(
            "SELECT kid, private_key, active_from, signed_until FROM signing_keys WHERE retired_at IS NULL \
             ORDER BY active_from DESC, kid",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(keys)
    }

    /// Every signing key ever stored, retired ones too, newest first.
    pub async fn signing_key_history(&self) -> Result<Vec<SigningKeyRow>, StoreError> {
        let keys = sqlx::query_as(
            "SELECT kid, created_at, active_from, signed_until, retired_at FROM signing_keys \
             ORDER BY active_from DESC, kid",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(keys)
    }

    /// Adds a signing key that starts signing at `active_from` (published at once), unless another
    /// key is still waiting to start. Concurrent rotations queue on the [`FIRST_SIGNING_KEY`] row, so
    /// of two at once the second sees the first's key pending and adds nothing.
    pub async fn add_signing_key(
        &self,
        kid: &str,
        private_key: &str,
        now: i64,
        active_from: i64,
    ) -> Result<(), AddKeyError> {
        let mut tx = self.write_tx().await?;
        let lock = locked!("SELECT name FROM instance_secrets WHERE name = $1");
        sqlx::query(lock.get(tx.engine())).bind(FIRST_SIGNING_KEY).execute(tx.conn()).await?;
        let pending: Option<(String, i64)> = sqlx::query_as(
            "SELECT kid, active_from FROM signing_keys WHERE retired_at IS NULL AND active_from > $1 \
             ORDER BY active_from DESC LIMIT 1",
        )
        .bind(now)
        .fetch_optional(tx.conn())
        .await?;
        if let Some((kid, at)) = pending {
            return Err(AddKeyError::Pending(kid, at));
        }
        sqlx::query(
            "INSERT INTO signing_keys (kid, algorithm, private_key, created_at, active_from, signed_until) \
             VALUES ($1, 'RS256', $2, $3, $4, 0)",
        )
        .bind(kid)
        .bind(private_key)
        .bind(now)
        .bind(active_from)
        .execute(tx.conn())
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Extends `kid`'s lease to at least `until` (ms), as seen at `now`: `Some(lease)` — the lease now
    /// stored, `until` or later — or `None` when the key may not sign any more (retired, or a newer
    /// key signs at `now`).
    pub async fn lease_signing_key(
        &self,
        kid: &str,
        until: i64,
        now: i64,
    ) -> Result<Option<i64>, StoreError> {
        let mut conn = self.write_one().await?;
        let lease = sqlx::query_scalar(
            "UPDATE signing_keys SET signed_until = \
             CASE WHEN signed_until IS NULL OR signed_until < $1 THEN $1 ELSE signed_until END \
             WHERE kid = $2 AND retired_at IS NULL AND NOT EXISTS (SELECT 1 FROM signing_keys n \
             WHERE n.retired_at IS NULL AND n.active_from <= $3 AND n.active_from > signing_keys.active_from) \
             RETURNING signed_until",
        )
        .bind(until)
        .bind(kid)
        .bind(now)
        .fetch_optional(conn.conn())
        .await?;
        Ok(lease)
    }

    /// Retires, at `now`, every key that a newer one has replaced and whose lease ended more than
    /// `skew_ms` ago (so no token it signed can still be valid): it leaves the JWKS and its private key
    /// is erased. Returns their kids.
    pub async fn retire_signing_keys(&self, now: i64, skew_ms: i64) -> Result<Vec<String>, StoreError> {
        let mut conn = self.write_one().await?;
        let kids = sqlx::query_scalar(
            "UPDATE signing_keys SET retired_at = $1, private_key = '' \
             WHERE retired_at IS NULL AND signed_until IS NOT NULL AND signed_until + $2 < $1 \
             AND EXISTS (SELECT 1 FROM signing_keys n \
             WHERE n.retired_at IS NULL AND n.active_from <= $1 AND n.active_from > signing_keys.active_from) \
             RETURNING kid",
        )
        .bind(now)
        .bind(skew_ms)
        .fetch_all(conn.conn())
        .await?;
        Ok(kids)
    }

    /// Gives keys stored before leases existed the lease `until`, which the caller makes cover
    /// whatever they may have signed. Returns how many.
    pub async fn lease_unleased_signing_keys(&self, until: i64) -> Result<u64, StoreError> {
        let mut conn = self.write_one().await?;
        let n = sqlx::query(
            "UPDATE signing_keys SET signed_until = $1 WHERE signed_until IS NULL AND retired_at IS NULL",
        )
        .bind(until)
        .execute(conn.conn())
        .await?
        .rows_affected();
        Ok(n)
    }

    /// The longest lifetime (seconds) of the JWT templates the instance key signs (no custom key).
    pub async fn longest_instance_key_template_lifetime(&self) -> Result<Option<i64>, StoreError> {
        Ok(sqlx::query_scalar("SELECT MAX(lifetime) FROM jwt_templates WHERE signing_key IS NULL")
            .fetch_one(&self.pool)
            .await?)
    }

    /// Stores the instance's first signing key unless another process stored one first; `false`
    /// then (its key is the one to load). Two processes starting on an empty database each generate
    /// a key, and exactly one is kept: the insert of the [`FIRST_SIGNING_KEY`] row decides (on
    /// PostgreSQL the loser's insert waits for the winner's commit, then does nothing), in the same
    /// transaction as the key itself, so nobody sees the decision without the key.
    pub async fn insert_first_signing_key(
        &self,
        kid: &str,
        pkcs8_b64: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let mut tx = self.write_tx().await?;
        let won = sqlx::query(
            "INSERT INTO instance_secrets (name, value, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO NOTHING",
        )
        .bind(FIRST_SIGNING_KEY)
        .bind(kid)
        .bind(now)
        .execute(tx.conn())
        .await?
        .rows_affected()
            == 1;
        if won {
            sqlx::query(
                "INSERT INTO signing_keys (kid, algorithm, private_key, created_at, active_from, signed_until) \
                 VALUES ($1, 'RS256', $2, $3, $3, 0)",
            )
            .bind(kid)
            .bind(pkcs8_b64)
            .bind(now)
            .execute(tx.conn())
            .await?;
        }
        tx.commit().await?;
        Ok(won)
    }
}
