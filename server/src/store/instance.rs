//! The instance's own secrets and signing keys, in the database so that every process on it uses the
//! same: the Backend API secret key, the refresh-successor key, and the RS256 keys the JWKS publishes.
//! Created by whichever process starts first; everyone else reads what it stored.

use super::{Store, StoreError};

/// A signing key as stored (not retired). `Debug` leaves the private key out.
#[derive(Clone, sqlx::FromRow)]
pub struct StoredSigningKey {
    pub kid: String,
    /// base64url of the PKCS#8 DER, or that sealed with the key encryption key (`crate::at_rest`).
    pub private_key: String,
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

    /// Stored signing keys that are not retired, the one that signs first (newest).
    pub async fn signing_keys(&self) -> Result<Vec<StoredSigningKey>, StoreError> {
        let keys = sqlx::query_as(
            "SELECT kid, private_key FROM signing_keys WHERE retired_at IS NULL ORDER BY created_at DESC, kid",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(keys)
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
                "INSERT INTO signing_keys (kid, algorithm, private_key, created_at) VALUES ($1, 'RS256', $2, $3)",
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
