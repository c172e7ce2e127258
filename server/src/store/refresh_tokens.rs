//! Refresh tokens: one family per session, every use rotates, a rotated token presented again within
//! the grace window answers its unused successor again, any other reuse revokes the session (the
//! rules are in `crate::refresh`; this file makes them exact under concurrency).
//!
//! Concurrency: the family's lock is its session row. A rotation takes it first (on PostgreSQL; on
//! SQLite the write transaction already excludes every other writer), then reads the token — so of
//! several requests presenting one token at the same instant, on one replica or several, the first
//! rotates and the others, waiting on the lock, then read a token already rotated into the successor
//! they would derive themselves, and get the grace answer. Never a revocation: reuse is judged only on
//! what the lock holder saw committed.
//!
//! Rotations are committed in groups ([`super::group_commit`]): [`rotate_in`] is everything one
//! rotation reads and writes, inside a transaction that may hold others. It is also the place for a
//! per-rotation side effect that must commit with the rotation (a `session.*` outbox row): write it
//! there, with the same `tx`.

use hallpass_protocol::SessionStatus;

use super::dialect::{Sql, skip_locked, takes_row_locks};
use super::sessions::{self, SessionRecord, session_columns};
use super::{Store, StoreError, UserRecord, WriteTx};

/// How long a rotated refresh token is remembered, so that presenting it again is detected as reuse
/// (and revokes the session). Older rotated tokens count as unknown (`refresh_token_invalid`), and
/// housekeeping deletes them ([`Store::purge_rotated_refresh_tokens`]), which keeps a session that
/// refreshes every minute from growing its table without bound.
pub const REUSE_DETECTION_MS: i64 = 24 * 3600 * 1000;

/// Lifetimes applied on each rotation.
#[derive(Clone, Copy, Debug)]
pub struct RefreshPolicy {
    pub grace_ms: i64,
    pub idle_ms: i64,
}

/// One presentation of a refresh token to redeem.
#[derive(Clone, Debug)]
pub struct Rotation {
    /// The hash of the presented token.
    pub presented: String,
    /// The hash of its derived successor (`crate::refresh`).
    pub successor: String,
    pub now: i64,
    pub policy: RefreshPolicy,
}

/// What presenting a refresh token led to.
#[derive(Debug)]
pub enum RefreshOutcome {
    /// The token was live and is now rotated to the given successor.
    Rotated(SessionRecord, UserRecord),
    /// The token was already rotated, inside the grace window, and its successor is unused: the
    /// caller returns that successor again.
    GraceReplay(SessionRecord, UserRecord),
    /// No such token (or one rotated longer ago than [`REUSE_DETECTION_MS`]).
    Invalid,
    /// Reuse outside the grace window (or after the successor was used): this session is now revoked.
    Reused(SessionRecord),
    /// The session is not active any more (this status).
    SessionOver(SessionStatus),
}

/// A rotation's outcome before its user is read (after the commit, for the whole group at once).
#[derive(Debug)]
pub(super) enum Step {
    Rotated(SessionRecord),
    GraceReplay(SessionRecord),
    Invalid,
    Reused(SessionRecord),
    SessionOver(SessionStatus),
}

impl Step {
    /// The user to read for the answer, if the answer carries one.
    pub(super) fn user_id(&self) -> Option<&str> {
        match self {
            Step::Rotated(s) | Step::GraceReplay(s) => Some(&s.user_id),
            _ => None,
        }
    }

    /// The outcome, with `user` (`None`: deleted since, and the token is as good as unknown).
    pub(super) fn with_user(self, user: Option<UserRecord>) -> RefreshOutcome {
        match (self, user) {
            (Step::Rotated(s), Some(u)) => RefreshOutcome::Rotated(s, u),
            (Step::GraceReplay(s), Some(u)) => RefreshOutcome::GraceReplay(s, u),
            (Step::Rotated(_) | Step::GraceReplay(_), None) | (Step::Invalid, _) => RefreshOutcome::Invalid,
            (Step::Reused(s), _) => RefreshOutcome::Reused(s),
            (Step::SessionOver(status), _) => RefreshOutcome::SessionOver(status),
        }
    }
}

/// The family as the rotation reads it: the session, the presented token's state, and whether its
/// recorded successor (if any) is still unused.
#[derive(sqlx::FromRow)]
struct FamilyRow {
    #[sqlx(flatten)]
    session: SessionRecord,
    /// When the presented token was rotated; `None` while it is the family's live token.
    token_used_at: Option<i64>,
    successor_hash: Option<String>,
    /// The recorded successor's row: `None` if there is none (yet, or pruned).
    successor_created_at: Option<i64>,
    successor_used_at: Option<i64>,
}

impl Store {
    /// Redeems a refresh token. See [`RefreshOutcome`] and `crate::refresh` for the rules; committed
    /// together with the rotations submitted at the same time ([`super::group_commit`]).
    pub async fn rotate_refresh_token(&self, rotation: Rotation) -> Result<RefreshOutcome, StoreError> {
        match &self.rotations {
            Some(rotations) => rotations.submit(rotation).await,
            None => super::group_commit::run_one(self, rotation).await,
        }
    }

    /// A new first token for the session `session_id`, the family's live token(s) deleted — for a
    /// step whose answer (the session) may have been lost, asked for again by the client that made
    /// the step (a completed sign-in or sign-up polled again). Deleted, not rotated: the token that
    /// was lost then answers `refresh_token_invalid`, never reuse (which would revoke the session the
    /// client is being handed); tokens rotated earlier are kept, so presenting one of those is still
    /// reuse. `None` (nothing written) unless the session is active and within its deadlines.
    pub async fn reissue_refresh_token(
        &self,
        session_id: &str,
        token_hash: &str,
        now: i64,
    ) -> Result<Option<SessionRecord>, StoreError> {
        const LOCK: Sql =
            super::dialect::locked!(concat!("SELECT ", session_columns!(), " FROM sessions WHERE id = $1"));
        let mut tx = self.write_tx().await?;
        let session: Option<SessionRecord> =
            sqlx::query_as(LOCK.get(tx.engine())).bind(session_id).fetch_optional(tx.conn()).await?;
        let Some(session) = session.filter(|s| s.status == SessionStatus::Active && !s.is_past_deadline(now))
        else {
            return Ok(None);
        };
        sqlx::query("DELETE FROM refresh_tokens WHERE session_id = $1 AND used_at IS NULL")
            .bind(session_id)
            .execute(tx.conn())
            .await?;
        sqlx::query("INSERT INTO refresh_tokens (token_hash, session_id, created_at) VALUES ($1, $2, $3)")
            .bind(token_hash)
            .bind(session_id)
            .bind(now)
            .execute(tx.conn())
            .await?;
        tx.commit().await?;
        Ok(Some(session))
    }

    /// Deletes up to `limit` tokens rotated before `cutoff` (now minus [`REUSE_DETECTION_MS`]: they
    /// already count as unknown). Returns how many.
    pub async fn purge_rotated_refresh_tokens(&self, cutoff: i64, limit: i64) -> Result<u64, StoreError> {
        const ROTATED: Sql = skip_locked!(
            "DELETE FROM refresh_tokens WHERE token_hash IN (",
            "SELECT t.token_hash FROM refresh_tokens t WHERE t.used_at < $1 LIMIT $2",
            of "t",
            ")"
        );
        self.purge(&[ROTATED], cutoff, limit).await
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

/// Everything one rotation reads and writes, inside `tx`: the caller's transaction, which may hold
/// other rotations (group commit). `locked`: the sessions the group already locked (PostgreSQL); `None`
/// for a rotation alone, which locks its own. A side effect that must commit with the rotation (an
/// outbox row for `session.*` events) is written here, with `tx`, where the outcome is known.
pub(super) async fn rotate_in(
    tx: &mut WriteTx,
    r: &Rotation,
    locked: Option<&[String]>,
) -> Result<Step, StoreError> {
    if locked.is_none() {
        sessions::lock_family(tx, &r.presented).await?;
    }
    // Read after the lock: what the last holder committed.
    let Some(mut family) = read_family(tx, &r.presented).await? else { return Ok(Step::Invalid) };
    if let Some(ids) = locked
        && takes_row_locks(tx.engine())
        && !ids.contains(&family.session.id)
    {
        // A family the group's lock did not cover (its session was created since): lock it and read
        // again.
        sessions::lock_family(tx, &r.presented).await?;
        let Some(again) = read_family(tx, &r.presented).await? else { return Ok(Step::Invalid) };
        family = again;
    }
    let (now, mut session) = (r.now, family.session);
    if family.token_used_at.is_some_and(|at| at < now - REUSE_DETECTION_MS) {
        // Forgotten (housekeeping deletes it): not reuse any more, just unknown.
        return Ok(Step::Invalid);
    }
    if session.status != SessionStatus::Active {
        return Ok(Step::SessionOver(session.status));
    }
    if session.is_past_deadline(now) {
        sessions::set_status_tx(tx, &session.id, SessionStatus::Expired, now).await?;
        return Ok(Step::SessionOver(SessionStatus::Expired));
    }

    let Some(used_at) = family.token_used_at else {
        let rotated = sqlx::query(
            "UPDATE refresh_tokens SET used_at = $1, successor_hash = $2 WHERE token_hash = $3 AND used_at IS NULL",
        )
        .bind(now)
        .bind(&r.successor)
        .bind(&r.presented)
        .execute(tx.conn())
        .await?
        .rows_affected();
        if rotated != 1 {
            // Impossible while every writer of the family takes its lock first.
            return Err(StoreError::Corrupt("refresh token rotated by someone not holding its lock".into()));
        }
        sqlx::query("INSERT INTO refresh_tokens (token_hash, session_id, created_at) VALUES ($1, $2, $3)")
            .bind(&r.successor)
            .bind(&session.id)
            .bind(now)
            .execute(tx.conn())
            .await?;
        session.last_active_at = now;
        session.expire_at = (now + r.policy.idle_ms).min(session.abandon_at);
        session.updated_at = now;
        sqlx::query("UPDATE sessions SET last_active_at = $1, expire_at = $2, updated_at = $1 WHERE id = $3")
            .bind(now)
            .bind(session.expire_at)
            .bind(&session.id)
            .execute(tx.conn())
            .await?;
        return Ok(Step::Rotated(session));
    };

    let in_window = now - used_at <= r.policy.grace_ms;
    let same_successor = family.successor_hash.as_deref() == Some(r.successor.as_str());
    let successor_unused = family.successor_created_at.is_some() && family.successor_used_at.is_none();
    if in_window && same_successor && successor_unused {
        return Ok(Step::GraceReplay(session));
    }
    // RFC 9700 §4.14.2: a rotated token used again means it leaked; end the whole family.
    sessions::set_status_tx(tx, &session.id, SessionStatus::Revoked, now).await?;
    Ok(Step::Reused(session))
}

/// The family of the token hashed `presented`, as committed (see [`FamilyRow`]); `None` if there is
/// no such token.
async fn read_family(tx: &mut WriteTx, presented: &str) -> Result<Option<FamilyRow>, StoreError> {
    Ok(sqlx::query_as(concat!(
        "SELECT ",
        session_columns!(),
        ", (SELECT used_at FROM refresh_tokens WHERE token_hash = $1) AS token_used_at, \
         (SELECT successor_hash FROM refresh_tokens WHERE token_hash = $1) AS successor_hash, \
         (SELECT n.created_at FROM refresh_tokens n WHERE n.token_hash = \
           (SELECT successor_hash FROM refresh_tokens WHERE token_hash = $1)) AS successor_created_at, \
         (SELECT n.used_at FROM refresh_tokens n WHERE n.token_hash = \
           (SELECT successor_hash FROM refresh_tokens WHERE token_hash = $1)) AS successor_used_at \
         FROM sessions WHERE id = (SELECT session_id FROM refresh_tokens WHERE token_hash = $1)"
    ))
    .bind(presented)
    .fetch_optional(tx.conn())
    .await?)
}
