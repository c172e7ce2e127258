//! Sessions: creation at sign-up and sign-in (with the first refresh token), lookups, status changes
//! (sign-out, revocation, expiry), the active organization, and the purge of sessions long over. A
//! session's row is also the lock of its refresh-token family (see [`lock_family`]).
//!
//! Events ([`super::outbox`]): `session.created` when one starts, `session.ended` / `session.revoked`
//! when a status change commits ([`status_event`]); expiry has no event (Clerk sends none).

use hallpass_protocol::{EventType, Session, SessionActivity, SessionStatus, SessionWithActivities};

use sqlx::AssertSqlSafe;
use sqlx::error::ErrorKind;

use super::dialect::{Sql, skip_locked, takes_row_locks};
use super::{Store, StoreError, WriteTx};
use crate::user_agent::{Device, classify};

/// A session as stored.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct SessionRecord {
    pub id: String,
    pub user_id: String,
    #[sqlx(try_from = "super::columns::NameText")]
    pub status: SessionStatus,
    pub last_active_at: i64,
    /// The idle deadline, never later than `abandon_at`.
    pub expire_at: i64,
    pub abandon_at: i64,
    /// The active organization (`None`: the personal account).
    pub active_organization_id: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    /// The `User-Agent` of the request that started it (bounded: [`Device`]).
    pub user_agent: Option<String>,
    /// The client's address that request came from.
    pub ip_address: Option<String>,
}

impl SessionRecord {
    /// Past the idle timeout or the absolute lifetime.
    pub fn is_past_deadline(&self, now: i64) -> bool {
        now >= self.expire_at || now >= self.abandon_at
    }

    pub fn to_wire(&self) -> Session {
        Session {
            object: "session".into(),
            id: self.id.clone(),
            user_id: self.user_id.clone(),
            status: self.status,
            expire_at: self.expire_at,
            abandon_at: self.abandon_at,
            last_active_organization_id: self.active_organization_id.clone(),
            last_active_at: self.last_active_at,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }

    /// The session with the device it was started on, as the profile lists it. A session stored
    /// before devices were recorded has no activity.
    pub fn to_wire_with_activity(&self) -> SessionWithActivities {
        let recorded = self.user_agent.is_some() || self.ip_address.is_some();
        let latest_activity = recorded.then(|| {
            let ua = classify(self.user_agent.as_deref().unwrap_or_default());
            SessionActivity {
                object: "session_activity".into(),
                id: self.id.clone(),
                browser_name: ua.browser_name.map(str::to_owned),
                is_mobile: ua.is_mobile(),
                browser_version: ua.browser_version,
                os_name: ua.os_name.map(str::to_owned),
                device_type: ua.device_type,
                ip_address: self.ip_address.clone(),
                city: None,
                country: None,
            }
        });
        SessionWithActivities { session: self.to_wire(), latest_activity }
    }
}

/// A session to create at sign-up or sign-in.
pub struct NewSession {
    pub id: String,
    pub user_id: String,
    pub now: i64,
    /// `min(now + idle timeout, abandon_at)`.
    pub expire_at: i64,
    pub abandon_at: i64,
    /// The request's device (`User-Agent`, address), kept with the session for the profile.
    pub device: Device,
}

macro_rules! session_columns {
    () => {
        "id, user_id, status, last_active_at, expire_at, abandon_at, active_organization_id, created_at, updated_at, \
         user_agent, ip_address"
    };
}
pub(super) use session_columns;

const SESSION_BY_ID: &str = concat!("SELECT ", session_columns!(), " FROM sessions WHERE id = $1");

impl Store {
    /// Starts a session for an existing user (sign-in) with its first refresh token; `None` if the user
    /// was deleted meanwhile (the foreign key refuses the session).
    pub async fn create_session(
        &self,
        session: &NewSession,
        token_hash: &str,
    ) -> Result<Option<SessionRecord>, StoreError> {
        let mut tx = self.write_tx().await?;
        let created = match insert(&mut tx, session, token_hash).await {
            Err(StoreError::Db(sqlx::Error::Database(d))) if d.kind() == ErrorKind::ForeignKeyViolation => {
                return Ok(None);
            }
            other => other?,
        };
        sqlx::query("UPDATE users SET last_sign_in_at = $1, updated_at = $1 WHERE id = $2")
            .bind(session.now)
            .bind(&session.user_id)
            .execute(tx.conn())
            .await?;
        tx.commit().await?;
        Ok(Some(created))
    }

    pub async fn session(&self, id: &str) -> Result<Option<SessionRecord>, StoreError> {
        Ok(sqlx::query_as(SESSION_BY_ID).bind(id).fetch_optional(&self.pool).await?)
    }

    /// The session, with an active one past its idle or absolute deadline marked `expired` first.
    pub async fn session_checked(&self, id: &str, now: i64) -> Result<Option<SessionRecord>, StoreError> {
        let Some(mut s) = self.session(id).await? else { return Ok(None) };
        if s.status == SessionStatus::Active && s.is_past_deadline(now) {
            self.set_status(id, SessionStatus::Active, SessionStatus::Expired, now).await?;
            s.status = SessionStatus::Expired;
            s.updated_at = now;
        }
        Ok(Some(s))
    }

    /// Sessions of a user, newest first (`active_only`: just the active, unexpired ones).
    pub async fn sessions_of(
        &self,
        user_id: &str,
        active_only: bool,
        now: i64,
    ) -> Result<Vec<SessionRecord>, StoreError> {
        let sql = concat!(
            "SELECT ",
            session_columns!(),
            " FROM sessions WHERE user_id = $1 ORDER BY created_at DESC, id"
        );
        let mut sessions: Vec<SessionRecord> =
            sqlx::query_as(sql).bind(user_id).fetch_all(&self.pool).await?;
        for s in &mut sessions {
            if s.status == SessionStatus::Active && s.is_past_deadline(now) {
                s.status = SessionStatus::Expired;
            }
        }
        if active_only {
            sessions.retain(|s| s.status == SessionStatus::Active);
        }
        Ok(sessions)
    }

    /// Moves a session from `from` to `to`, with its event ([`status_event`]); `true` if it was in
    /// `from`. A conditional update: of two concurrent changes, the second finds the status moved and
    /// changes nothing (and emits nothing).
    pub async fn set_status(
        &self,
        id: &str,
        from: SessionStatus,
        to: SessionStatus,
        now: i64,
    ) -> Result<bool, StoreError> {
        const MOVE: &str = concat!(
            "UPDATE sessions SET status = $1, updated_at = $2 WHERE id = $3 AND status = $4 RETURNING ",
            session_columns!()
        );
        let mut tx = self.write_tx().await?;
        let moved: Option<SessionRecord> = sqlx::query_as(MOVE)
            .bind(to.as_str())
            .bind(now)
            .bind(id)
            .bind(from.as_str())
            .fetch_optional(tx.conn())
            .await?;
        if let Some(session) = &moved {
            emit_status(&mut tx, session, now)?;
        }
        tx.commit().await?;
        Ok(moved.is_some())
    }

    /// The session a refresh token (any of its family, rotated or not) belongs to, and when the token
    /// was rotated (`None`: it is the family's live token).
    pub async fn session_by_token(
        &self,
        token_hash: &str,
    ) -> Result<Option<(SessionRecord, Option<i64>)>, StoreError> {
        #[derive(sqlx::FromRow)]
        struct Row {
            #[sqlx(flatten)]
            session: SessionRecord,
            rotated_at: Option<i64>,
        }
        let sql = concat!(
            "SELECT ",
            session_columns!(),
            ", (SELECT used_at FROM refresh_tokens WHERE token_hash = $1) AS rotated_at FROM sessions \
             WHERE id = (SELECT session_id FROM refresh_tokens WHERE token_hash = $1)"
        );
        let row: Option<Row> = sqlx::query_as(sql).bind(token_hash).fetch_optional(&self.pool).await?;
        Ok(row.map(|r| (r.session, r.rotated_at)))
    }

    /// Deletes up to `limit` sessions that ended before `cutoff` — past their deadline, or signed
    /// out, revoked or marked expired — and hold no refresh tokens any more ([`Store::purge_refresh_tokens`]
    /// runs first). Returns how many.
    pub async fn purge_sessions(&self, cutoff: i64, limit: i64) -> Result<u64, StoreError> {
        // One statement per index (see the migration `session_purge_indexes`), rather than an OR that
        // neither engine can answer from both.
        const PAST_DEADLINE: Sql = skip_locked!(
            "DELETE FROM sessions WHERE id IN (",
            "SELECT s.id FROM sessions s WHERE s.expire_at < $1 \
             AND NOT EXISTS (SELECT 1 FROM refresh_tokens t WHERE t.session_id = s.id) LIMIT $2",
            of "s",
            ")"
        );
        const ENDED: Sql = skip_locked!(
            "DELETE FROM sessions WHERE id IN (",
            "SELECT s.id FROM sessions s WHERE s.status <> 'active' AND s.updated_at < $1 \
             AND NOT EXISTS (SELECT 1 FROM refresh_tokens t WHERE t.session_id = s.id) LIMIT $2",
            of "s",
            ")"
        );
        self.purge(&[PAST_DEADLINE, ENDED], cutoff, limit).await
    }
}

/// Inserts a new active session and its first refresh token; emits `session.created`.
pub(super) async fn insert(
    tx: &mut WriteTx,
    s: &NewSession,
    token_hash: &str,
) -> Result<SessionRecord, StoreError> {
    sqlx::query(
        "INSERT INTO sessions (id, user_id, status, last_active_at, expire_at, abandon_at, created_at, updated_at, \
         user_agent, ip_address) VALUES ($1, $2, 'active', $3, $4, $5, $3, $3, $6, $7)",
    )
    .bind(&s.id)
    .bind(&s.user_id)
    .bind(s.now)
    .bind(s.expire_at)
    .bind(s.abandon_at)
    .bind(&s.device.user_agent)
    .bind(&s.device.ip_address)
    .execute(tx.conn())
    .await?;
    sqlx::query("INSERT INTO refresh_tokens (token_hash, session_id, created_at) VALUES ($1, $2, $3)")
        .bind(token_hash)
        .bind(&s.id)
        .bind(s.now)
        .execute(tx.conn())
        .await?;
    let created: SessionRecord = sqlx::query_as(SESSION_BY_ID).bind(&s.id).fetch_one(tx.conn()).await?;
    tx.emit(EventType::SessionCreated, &created.to_wire(), s.now)?;
    Ok(created)
}

/// Locks the session (the token family) of the refresh token hashed `token_hash` until `tx` ends:
/// every rotation, sign-out or revocation of that session waits for it. PostgreSQL only: on SQLite the
/// write transaction already excludes them all, and nothing is sent.
pub(super) async fn lock_family(tx: &mut WriteTx, token_hash: &str) -> Result<(), StoreError> {
    if takes_row_locks(tx.engine()) {
        sqlx::query(
            "SELECT id FROM sessions WHERE id = (SELECT session_id FROM refresh_tokens WHERE token_hash = $1) \
             FOR UPDATE",
        )
        .bind(token_hash)
        .execute(tx.conn())
        .await?;
    }
    Ok(())
}

/// [`lock_family`] for several tokens at once, in one statement that locks their sessions in `id`
/// order — the order every such batch locks in, so two batches (two replicas) never wait on each
/// other in a circle. Returns the ids of the sessions locked. PostgreSQL only (see [`lock_family`]).
pub(super) async fn lock_families(
    tx: &mut WriteTx,
    token_hashes: &[&str],
) -> Result<Vec<String>, StoreError> {
    if !takes_row_locks(tx.engine()) || token_hashes.is_empty() {
        return Ok(Vec::new());
    }
    let placeholders: Vec<String> = (1..=token_hashes.len()).map(|i| format!("${i}")).collect();
    // Only placeholders are spliced in: the values are bound.
    let sql = format!(
        "SELECT id FROM sessions WHERE id IN (SELECT session_id FROM refresh_tokens WHERE token_hash IN ({})) \
         ORDER BY id FOR UPDATE",
        placeholders.join(", ")
    );
    let mut query = sqlx::query_scalar(AssertSqlSafe(sql));
    for hash in token_hashes {
        query = query.bind(*hash);
    }
    Ok(query.fetch_all(tx.conn()).await?)
}

/// Sets a session's status inside `tx` (whose caller holds the session's lock), with its event.
pub(super) async fn set_status_tx(
    tx: &mut WriteTx,
    id: &str,
    to: SessionStatus,
    now: i64,
) -> Result<(), StoreError> {
    const SET: &str = concat!(
        "UPDATE sessions SET status = $1, updated_at = $2 WHERE id = $3 RETURNING ",
        session_columns!()
    );
    let session: Option<SessionRecord> =
        sqlx::query_as(SET).bind(to.as_str()).bind(now).bind(id).fetch_optional(tx.conn()).await?;
    if let Some(session) = &session {
        emit_status(tx, session, now)?;
    }
    Ok(())
}

/// The event a session's move to `status` emits, if any.
pub fn status_event(status: SessionStatus) -> Option<EventType> {
    match status {
        SessionStatus::Ended => Some(EventType::SessionEnded),
        SessionStatus::Revoked => Some(EventType::SessionRevoked),
        SessionStatus::Removed => Some(EventType::SessionRemoved),
        SessionStatus::Active | SessionStatus::Expired => None,
    }
}

/// Emits the event of `session`'s current status, if it has one.
pub(super) fn emit_status(tx: &mut WriteTx, session: &SessionRecord, now: i64) -> Result<(), StoreError> {
    match status_event(session.status) {
        Some(event) => tx.emit(event, &session.to_wire(), now),
        None => Ok(()),
    }
}
