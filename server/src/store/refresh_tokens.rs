//! Refresh tokens: one family per session, every use rotates, a rotated token presented again within
//! the grace window answers its unused successor again, any other reuse revokes the session (the
//! rules are in `crate::refresh`; this file makes them exact under concurrency).
//!
//! Concurrency: the family's lock is its session row ([`sessions::lock_by_token`]). A rotation takes
//! it first, then reads the token — so of several requests presenting one token at the same instant,
//! on one replica or several, the first rotates and the others, waiting on the lock, then read a token
//! already rotated into the successor they would derive themselves, and get the grace answer. Never a
//! revocation: reuse is judged only on what the lock holder saw committed.

use hallpass_protocol::SessionStatus;

use super::dialect::{Sql, skip_locked};
use super::sessions::{self, SessionRecord};
use super::{Store, StoreError, UserRecord, WriteTx};

/// How long a rotated refresh token is remembered, so that presenting it again is detected as reuse
/// (and revokes the session). Older rotated tokens are deleted on the family's next rotation, which
/// keeps a session that refreshes every minute from growing its table without bound.
pub const REUSE_DETECTION_MS: i64 = 24 * 3600 * 1000;

/// Lifetimes applied on each rotation.
#[derive(Clone, Copy, Debug)]
pub struct RefreshPolicy {
    pub grace_ms: i64,
    pub idle_ms: i64,
}

/// What presenting a refresh token led to.
#[derive(Debug)]
pub enum RefreshOutcome {
    /// The token was live and is now rotated to the given successor.
    Rotated(SessionRecord, UserRecord),
    /// The token was already rotated, inside the grace window, and its successor is unused: the
    /// caller returns that successor again.
    GraceReplay(SessionRecord, UserRecord),
    /// No such token.
    Invalid,
    /// Reuse outside the grace window (or after the successor was used): this session is now revoked.
    Reused(SessionRecord),
    /// The session is not active any more (this status).
    SessionOver(SessionStatus),
}

/// A refresh token's state.
#[derive(sqlx::FromRow)]
struct TokenRow {
    /// When it was rotated; `None` while it is the family's live token.
    used_at: Option<i64>,
    successor_hash: Option<String>,
}

impl Store {
    /// Redeems the refresh token hashed `presented`, whose derived successor hashes to `successor`.
    /// See [`RefreshOutcome`] and `crate::refresh` for the rules.
    pub async fn rotate_refresh_token(
        &self,
        presented: &str,
        successor: &str,
        now: i64,
        policy: RefreshPolicy,
    ) -> Result<RefreshOutcome, StoreError> {
        let mut tx = self.write_tx().await?;
        let Some(mut session) = sessions::lock_by_token(&mut tx, presented).await? else {
            return Ok(RefreshOutcome::Invalid);
        };
        // Read under the lock: what the last holder committed.
        let Some(token) = token_row(&mut tx, presented).await? else {
            return Ok(RefreshOutcome::Invalid);
        };
        if session.status != SessionStatus::Active {
            return Ok(RefreshOutcome::SessionOver(session.status));
        }
        if session.is_past_deadline(now) {
            sessions::set_status_tx(&mut tx, &session.id, SessionStatus::Expired, now).await?;
            tx.commit().await?;
            return Ok(RefreshOutcome::SessionOver(SessionStatus::Expired));
        }

        if token.used_at.is_none() {
            let rotated = sqlx::query(
                "UPDATE refresh_tokens SET used_at = $1, successor_hash = $2 WHERE token_hash = $3 AND used_at IS NULL",
            )
            .bind(now)
            .bind(successor)
            .bind(presented)
            .execute(tx.conn())
            .await?
            .rows_affected();
            if rotated != 1 {
                // Impossible while every writer of the family takes its lock first.
                return Err(StoreError::Corrupt(
                    "refresh token rotated by someone not holding its lock".into(),
                ));
            }
            sqlx::query(
                "INSERT INTO refresh_tokens (token_hash, session_id, created_at) VALUES ($1, $2, $3)",
            )
            .bind(successor)
            .bind(&session.id)
            .bind(now)
            .execute(tx.conn())
            .await?;
            // Bound the family's history: tokens rotated more than `REUSE_DETECTION_MS` ago are
            // forgotten (presenting one then is merely `refresh_token_invalid`). The live token is
            // never pruned, and a client never holds a day-old rotated one.
            sqlx::query(
                "DELETE FROM refresh_tokens WHERE session_id = $1 AND used_at IS NOT NULL AND used_at < $2",
            )
            .bind(&session.id)
            .bind(now - REUSE_DETECTION_MS)
            .execute(tx.conn())
            .await?;
            session.last_active_at = now;
            session.expire_at = (now + policy.idle_ms).min(session.abandon_at);
            session.updated_at = now;
            sqlx::query(
                "UPDATE sessions SET last_active_at = $1, expire_at = $2, updated_at = $1 WHERE id = $3",
            )
            .bind(now)
            .bind(session.expire_at)
            .bind(&session.id)
            .execute(tx.conn())
            .await?;
            tx.commit().await?;
            // Read after the commit: the writer's turn (SQLite) and the lock (PostgreSQL) are free.
            return Ok(match self.user(&session.user_id).await? {
                Some(user) => RefreshOutcome::Rotated(session, user),
                None => RefreshOutcome::Invalid,
            });
        }

        let used_at = token.used_at.unwrap_or(now);
        let in_window = now - used_at <= policy.grace_ms;
        let same_successor = token.successor_hash.as_deref() == Some(successor);
        let successor_unused = match token_row(&mut tx, successor).await? {
            Some(next) => next.used_at.is_none(),
            None => false,
        };
        if in_window && same_successor && successor_unused {
            // Nothing was written: end the transaction before reading the user.
            tx.commit().await?;
            return Ok(match self.user(&session.user_id).await? {
                Some(user) => RefreshOutcome::GraceReplay(session, user),
                None => RefreshOutcome::Invalid,
            });
        }
        // RFC 9700 §4.14.2: a rotated token used again means it leaked; end the whole family.
        sessions::set_status_tx(&mut tx, &session.id, SessionStatus::Revoked, now).await?;
        tx.commit().await?;
        Ok(RefreshOutcome::Reused(session))
    }

    /// Deletes up to `limit` refresh tokens of sessions that ended before `cutoff` (past their
    /// deadline, or signed out, revoked or marked expired), so that [`Store::purge_sessions`] can then
    /// delete the sessions themselves. Returns how many.
    pub async fn purge_refresh_tokens(&self, cutoff: i64, limit: i64) -> Result<u64, StoreError> {
        const PAST_DEADLINE: Sql = skip_locked!(
            "DELETE FROM refresh_tokens WHERE token_hash IN (",
            "SELECT t.token_hash FROM sessions s JOIN refresh_tokens t ON t.session_id = s.id \
             WHERE s.expire_at < $1 LIMIT $2",
            of "t",
            ")"
        );
        const ENDED: Sql = skip_locked!(
            "DELETE FROM refresh_tokens WHERE token_hash IN (",
            "SELECT t.token_hash FROM sessions s JOIN refresh_tokens t ON t.session_id = s.id \
             WHERE s.status <> 'active' AND s.updated_at < $1 LIMIT $2",
            of "t",
            ")"
        );
        self.purge(&[PAST_DEADLINE, ENDED], cutoff, limit).await
    }
}

async fn token_row(tx: &mut WriteTx, hash: &str) -> Result<Option<TokenRow>, StoreError> {
    Ok(sqlx::query_as("SELECT used_at, successor_hash FROM refresh_tokens WHERE token_hash = $1")
        .bind(hash)
        .fetch_optional(tx.conn())
        .await?)
}
