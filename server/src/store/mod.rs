//! All SQL lives here, behind [`Store`]: handlers call its methods and never see a query.
//!
//! The SQL is portable (`$n` placeholders, `ON CONFLICT DO NOTHING`, BIGINT/TEXT columns, no
//! SQLite-only functions), so a PostgreSQL backend is a second connection type inside this module —
//! the HTTP layer does not change. Today the pool is SQLite in WAL mode with a busy timeout; write
//! transactions start with `BEGIN IMMEDIATE` so two writers queue on the lock instead of failing with
//! `SQLITE_BUSY` when a read transaction tries to upgrade.
//!
//! Concurrency of refresh-token rotation does not rely on SQLite's single writer: rotation is a
//! conditional `UPDATE … WHERE used_at IS NULL`, and whoever loses re-reads the winner's result,
//! which is also what keeps it correct with several replicas on PostgreSQL.

mod jwt_templates;
mod records;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use hallpass_protocol::{Metadata, SessionStatus};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous,
};
use sqlx::{Row, SqlitePool};

pub use jwt_templates::TemplateWriteError;
pub use records::{JwtTemplateRecord, NewSession, NewUser, SessionRecord, UserRecord};

type Tx = sqlx::Transaction<'static, sqlx::Sqlite>;

/// A write transaction plus this process's writer turn (see [`Store::write_tx`]).
struct WriteTx {
    tx: Tx,
    _turn: tokio::sync::OwnedMutexGuard<()>,
}

impl std::ops::Deref for WriteTx {
    type Target = Tx;
    fn deref(&self) -> &Tx {
        &self.tx
    }
}

impl std::ops::DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut Tx {
        &mut self.tx
    }
}

impl WriteTx {
    async fn commit(self) -> Result<(), sqlx::Error> {
        self.tx.commit().await
    }
}

/// A storage failure (the handler turns it into a logged 500).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("unsupported database URL (only sqlite:// for now): {0}")]
    UnsupportedUrl(String),
    #[error("could not create the database directory: {0}")]
    Io(#[from] std::io::Error),
    #[error("corrupt row: {0}")]
    Corrupt(String),
}

/// Sign-up could not create the user.
#[derive(Debug, thiserror::Error)]
pub enum CreateUserError {
    #[error("email address already taken")]
    EmailTaken,
    #[error(transparent)]
    Store(#[from] StoreError),
}

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

/// The database.
#[derive(Clone, Debug)]
pub struct Store {
    pool: SqlitePool,
    /// SQLite has one writer at a time. Queueing writers here (a fair async mutex) instead of in
    /// SQLite's busy handler — which sleeps with back-off up to 100 ms — keeps the latency tail short.
    /// Other processes on the same file still queue through `busy_timeout`.
    writer: std::sync::Arc<tokio::sync::Mutex<()>>,
}

const USER_COLUMNS: &str = "u.id, u.first_name, u.last_name, u.image_url, u.password_hash, \
     u.primary_email_address_id, e.email_address, u.public_metadata, u.private_metadata, \
     u.unsafe_metadata, u.last_sign_in_at, u.created_at, u.updated_at";
const SESSION_COLUMNS: &str =
    "id, user_id, status, last_active_at, expire_at, abandon_at, created_at, updated_at";

impl Store {
    /// Opens (creating if needed) the database at `url` and applies pending migrations.
    pub async fn open(url: &str) -> Result<Store, StoreError> {
        if !url.starts_with("sqlite:") {
            return Err(StoreError::UnsupportedUrl(url.split(':').next().unwrap_or("").to_owned()));
        }
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        // The database holds the keys: its directory and files are private (see `crate::at_rest`).
        let file = Path::new(options.get_filename());
        if file.as_os_str() != ":memory:" {
            if let Some(parent) = file.parent() {
                crate::at_rest::private_dir(parent)?;
            }
            crate::at_rest::private_sqlite_file(file)?;
        }
        let pool = SqlitePoolOptions::new().max_connections(8).connect_with(options).await?;
        sqlx::migrate!("./migrations").run(&pool).await?;
        Ok(Store { pool, writer: std::sync::Arc::new(tokio::sync::Mutex::new(())) })
    }

    /// Closes every connection (tests reopen the same file to prove persistence).
    pub async fn close(&self) {
        self.pool.close().await;
    }

    async fn write_tx(&self) -> Result<WriteTx, StoreError> {
        let turn = self.writer.clone().lock_owned().await;
        Ok(WriteTx { tx: self.pool.begin_with("BEGIN IMMEDIATE").await?, _turn: turn })
    }

    // ---------------------------------------------------------------- instance secrets and keys

    /// The secret called `name`, created with `make()` if absent. Safe against concurrent starts:
    /// whoever inserts first wins and everyone reads that value.
    pub async fn secret_or_insert(&self, name: &str, make: String, now: i64) -> Result<String, StoreError> {
        let _turn = self.writer.lock().await;
        sqlx::query("INSERT INTO instance_secrets (name, value, created_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING")
            .bind(name)
            .bind(make)
            .bind(now)
            .execute(&self.pool)
            .await?;
        let row = sqlx::query("SELECT value FROM instance_secrets WHERE name = $1")
            .bind(name)
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get("value")?)
    }

    /// Replaces the value of the secret called `name` (sealing it at rest).
    pub async fn set_secret(&self, name: &str, value: &str) -> Result<(), StoreError> {
        let _turn = self.writer.lock().await;
        sqlx::query("UPDATE instance_secrets SET value = $1 WHERE name = $2")
            .bind(value)
            .bind(name)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Replaces the stored private key of signing key `kid` (sealing it at rest).
    pub async fn set_signing_key_material(&self, kid: &str, private_key: &str) -> Result<(), StoreError> {
        let _turn = self.writer.lock().await;
        sqlx::query("UPDATE signing_keys SET private_key = $1 WHERE kid = $2")
            .bind(private_key)
            .bind(kid)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Stored signing keys that are not retired, newest first: `(kid, base64 PKCS#8)`.
    pub async fn signing_keys(&self) -> Result<Vec<(String, String)>, StoreError> {
        let rows = sqlx::query(
            "SELECT kid, private_key FROM signing_keys WHERE retired_at IS NULL ORDER BY created_at DESC, kid",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| Ok((r.try_get("kid")?, r.try_get("private_key")?))).collect()
    }

    pub async fn insert_signing_key(&self, kid: &str, pkcs8_b64: &str, now: i64) -> Result<(), StoreError> {
        let _turn = self.writer.lock().await;
        sqlx::query(
            "INSERT INTO signing_keys (kid, algorithm, private_key, created_at) VALUES ($1, 'RS256', $2, $3) \
             ON CONFLICT (kid) DO NOTHING",
        )
        .bind(kid)
        .bind(pkcs8_b64)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    // ---------------------------------------------------------------- users

    pub async fn email_exists(&self, email: &str) -> Result<bool, StoreError> {
        let row = sqlx::query("SELECT 1 AS one FROM email_addresses WHERE email_address = $1")
            .bind(email)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.is_some())
    }

    /// Creates a user, their email address, a session and its first refresh token, atomically.
    /// A taken address (the unique index decides, so concurrent sign-ups are safe) rolls back all.
    pub async fn create_user_with_session(
        &self,
        user: &NewUser,
        session: &NewSession,
        token_hash: &str,
    ) -> Result<(UserRecord, SessionRecord), CreateUserError> {
        let mut tx = self.write_tx().await?;
        insert_user_row(&mut tx, user).await?;
        let res = sqlx::query(
            "INSERT INTO email_addresses (id, user_id, email_address, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(&user.email_id)
        .bind(&user.id)
        .bind(&user.email)
        .bind(user.now)
        .execute(&mut **tx)
        .await;
        match res {
            Ok(_) => {}
            Err(sqlx::Error::Database(d)) if d.is_unique_violation() => {
                return Err(CreateUserError::EmailTaken);
            }
            Err(e) => return Err(CreateUserError::Store(e.into())),
        }
        insert_session_rows(&mut tx, session, token_hash).await?;
        tx.commit().await.map_err(StoreError::from)?;
        self.user_and_session(&user.id, &session.id).await
    }

    async fn user_and_session(
        &self,
        user_id: &str,
        session_id: &str,
    ) -> Result<(UserRecord, SessionRecord), CreateUserError> {
        let user = self.user(user_id).await?.ok_or_else(|| StoreError::Corrupt("user vanished".into()))?;
        let session =
            self.session(session_id).await?.ok_or_else(|| StoreError::Corrupt("session vanished".into()))?;
        Ok((user, session))
    }

    pub async fn user(&self, id: &str) -> Result<Option<UserRecord>, StoreError> {
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM users u LEFT JOIN email_addresses e ON e.id = u.primary_email_address_id WHERE u.id = $1"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(UserRecord::from_row).transpose()
    }

    pub async fn user_by_email(&self, email: &str) -> Result<Option<UserRecord>, StoreError> {
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM email_addresses e JOIN users u ON u.id = e.user_id WHERE e.email_address = $1"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(email).fetch_optional(&self.pool).await?;
        row.as_ref().map(UserRecord::from_row).transpose()
    }

    /// A page of users, newest first, and the total count.
    pub async fn list_users(&self, limit: i64, offset: i64) -> Result<(Vec<UserRecord>, i64), StoreError> {
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM users u LEFT JOIN email_addresses e ON e.id = u.primary_email_address_id \
             ORDER BY u.created_at DESC, u.id LIMIT $1 OFFSET $2"
        );
        let rows =
            sqlx::query(sqlx::AssertSqlSafe(sql)).bind(limit).bind(offset).fetch_all(&self.pool).await?;
        let users = rows.iter().map(UserRecord::from_row).collect::<Result<Vec<_>, _>>()?;
        let total: i64 =
            sqlx::query("SELECT COUNT(*) AS n FROM users").fetch_one(&self.pool).await?.try_get("n")?;
        Ok((users, total))
    }

    /// Deletes a user with their email addresses, sessions and refresh tokens. `false` if absent.
    pub async fn delete_user(&self, id: &str) -> Result<bool, StoreError> {
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "DELETE FROM refresh_tokens WHERE session_id IN (SELECT id FROM sessions WHERE user_id = $1)",
        )
        .bind(id)
        .execute(&mut **tx)
        .await?;
        sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(id).execute(&mut **tx).await?;
        sqlx::query("UPDATE users SET primary_email_address_id = NULL WHERE id = $1")
            .bind(id)
            .execute(&mut **tx)
            .await?;
        sqlx::query("DELETE FROM email_addresses WHERE user_id = $1").bind(id).execute(&mut **tx).await?;
        let n =
            sqlx::query("DELETE FROM users WHERE id = $1").bind(id).execute(&mut **tx).await?.rows_affected();
        tx.commit().await?;
        Ok(n > 0)
    }

    /// Read-modify-write of a user's names and metadata in one write transaction. `edit` gets the
    /// current record and changes it, or refuses with `Err` (then nothing is written);
    /// `Ok(None)` if the user does not exist.
    pub async fn update_user<E>(
        &self,
        id: &str,
        now: i64,
        edit: impl FnOnce(&mut UserRecord) -> Result<(), E>,
    ) -> Result<Result<Option<UserRecord>, E>, StoreError> {
        let mut tx = self.write_tx().await?;
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM users u LEFT JOIN email_addresses e ON e.id = u.primary_email_address_id WHERE u.id = $1"
        );
        let Some(row) = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&mut **tx).await?
        else {
            return Ok(Ok(None));
        };
        let mut user = UserRecord::from_row(&row)?;
        if let Err(e) = edit(&mut user) {
            return Ok(Err(e));
        }
        user.updated_at = now;
        sqlx::query(
            "UPDATE users SET first_name = $1, last_name = $2, public_metadata = $3, private_metadata = $4, \
             unsafe_metadata = $5, updated_at = $6 WHERE id = $7",
        )
        .bind(&user.first_name)
        .bind(&user.last_name)
        .bind(json(&user.public_metadata))
        .bind(json(&user.private_metadata))
        .bind(json(&user.unsafe_metadata))
        .bind(now)
        .bind(id)
        .execute(&mut **tx)
        .await?;
        tx.commit().await?;
        Ok(Ok(Some(user)))
    }

    // ---------------------------------------------------------------- sessions

    /// Starts a session for an existing user (sign-in) with its first refresh token.
    pub async fn create_session(
        &self,
        session: &NewSession,
        token_hash: &str,
    ) -> Result<SessionRecord, StoreError> {
        let mut tx = self.write_tx().await?;
        insert_session_rows(&mut tx, session, token_hash).await?;
        sqlx::query("UPDATE users SET last_sign_in_at = $1, updated_at = $1 WHERE id = $2")
            .bind(session.now)
            .bind(&session.user_id)
            .execute(&mut **tx)
            .await?;
        tx.commit().await?;
        self.session(&session.id).await?.ok_or_else(|| StoreError::Corrupt("session vanished".into()))
    }

    pub async fn session(&self, id: &str) -> Result<Option<SessionRecord>, StoreError> {
        let sql = format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(SessionRecord::from_row).transpose()
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
        let sql =
            format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE user_id = $1 ORDER BY created_at DESC, id");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(user_id).fetch_all(&self.pool).await?;
        let mut sessions = rows.iter().map(SessionRecord::from_row).collect::<Result<Vec<_>, _>>()?;
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

    /// Moves a session from `from` to `to`; `true` if it was in `from`.
    pub async fn set_status(
        &self,
        id: &str,
        from: SessionStatus,
        to: SessionStatus,
        now: i64,
    ) -> Result<bool, StoreError> {
        let _turn = self.writer.lock().await;
        let n = sqlx::query("UPDATE sessions SET status = $1, updated_at = $2 WHERE id = $3 AND status = $4")
            .bind(to.as_str())
            .bind(now)
            .bind(id)
            .bind(from.as_str())
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok(n > 0)
    }

    /// The session a refresh token (any of its family, rotated or not) belongs to, and when the token
    /// was rotated (`None`: it is the family's live token).
    pub async fn session_by_token(
        &self,
        token_hash: &str,
    ) -> Result<Option<(SessionRecord, Option<i64>)>, StoreError> {
        let row = sqlx::query("SELECT session_id, used_at FROM refresh_tokens WHERE token_hash = $1")
            .bind(token_hash)
            .fetch_optional(&self.pool)
            .await?;
        let Some(r) = row else { return Ok(None) };
        let used_at: Option<i64> = r.try_get("used_at")?;
        Ok(self.session(&r.try_get::<String, _>("session_id")?).await?.map(|s| (s, used_at)))
    }

    // ---------------------------------------------------------------- refresh-token rotation

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
        let Some(mut token) = token_row(&mut tx, presented).await? else {
            return Ok(RefreshOutcome::Invalid);
        };
        let sql = format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE id = $1");
        let Some(row) =
            sqlx::query(sqlx::AssertSqlSafe(sql)).bind(&token.session_id).fetch_optional(&mut **tx).await?
        else {
            return Ok(RefreshOutcome::Invalid);
        };
        let mut session = SessionRecord::from_row(&row)?;
        if session.status != SessionStatus::Active {
            return Ok(RefreshOutcome::SessionOver(session.status));
        }
        if session.is_past_deadline(now) {
            set_status_tx(&mut tx, &session.id, SessionStatus::Expired, now).await?;
            tx.commit().await?;
            return Ok(RefreshOutcome::SessionOver(SessionStatus::Expired));
        }

        if token.used_at.is_none() {
            let won = sqlx::query(
                "UPDATE refresh_tokens SET used_at = $1, successor_hash = $2 WHERE token_hash = $3 AND used_at IS NULL",
            )
            .bind(now)
            .bind(successor)
            .bind(presented)
            .execute(&mut **tx)
            .await?
            .rows_affected()
                == 1;
            if won {
                sqlx::query(
                    "INSERT INTO refresh_tokens (token_hash, session_id, created_at) VALUES ($1, $2, $3)",
                )
                .bind(successor)
                .bind(&session.id)
                .bind(now)
                .execute(&mut **tx)
                .await?;
                // Bound the family's history: tokens rotated more than `REUSE_DETECTION_MS` ago are
                // forgotten (presenting one then is merely `refresh_token_invalid`). The live token
                // is never pruned, and a client never holds a day-old rotated one.
                sqlx::query(
                    "DELETE FROM refresh_tokens WHERE session_id = $1 AND used_at IS NOT NULL AND used_at < $2",
                )
                .bind(&session.id)
                .bind(now - REUSE_DETECTION_MS)
                .execute(&mut **tx)
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
                .execute(&mut **tx)
                .await?;
                tx.commit().await?;
                // Read outside the writer's turn: WAL readers do not block writers.
                return Ok(match self.user(&session.user_id).await? {
                    Some(user) => RefreshOutcome::Rotated(session, user),
                    None => RefreshOutcome::Invalid,
                });
            }
            // Another replica rotated it between our read and our update: judge it as a replay.
            token = match token_row(&mut tx, presented).await? {
                Some(t) => t,
                None => return Ok(RefreshOutcome::Invalid),
            };
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
        set_status_tx(&mut tx, &session.id, SessionStatus::Revoked, now).await?;
        tx.commit().await?;
        Ok(RefreshOutcome::Reused(session))
    }
}

struct TokenRow {
    session_id: String,
    used_at: Option<i64>,
    successor_hash: Option<String>,
}

async fn token_row(tx: &mut Tx, hash: &str) -> Result<Option<TokenRow>, StoreError> {
    let row =
        sqlx::query("SELECT session_id, used_at, successor_hash FROM refresh_tokens WHERE token_hash = $1")
            .bind(hash)
            .fetch_optional(&mut **tx)
            .await?;
    row.map(|r| {
        Ok(TokenRow {
            session_id: r.try_get("session_id")?,
            used_at: r.try_get("used_at")?,
            successor_hash: r.try_get("successor_hash")?,
        })
    })
    .transpose()
}

async fn set_status_tx(tx: &mut Tx, id: &str, to: SessionStatus, now: i64) -> Result<(), StoreError> {
    sqlx::query("UPDATE sessions SET status = $1, updated_at = $2 WHERE id = $3")
        .bind(to.as_str())
        .bind(now)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

async fn insert_user_row(tx: &mut Tx, user: &NewUser) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO users (id, first_name, last_name, password_hash, primary_email_address_id, unsafe_metadata, \
         last_sign_in_at, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $7)",
    )
    .bind(&user.id)
    .bind(&user.first_name)
    .bind(&user.last_name)
    .bind(&user.password_hash)
    .bind(&user.email_id)
    .bind(json(&user.unsafe_metadata))
    .bind(user.now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn insert_session_rows(tx: &mut Tx, s: &NewSession, token_hash: &str) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO sessions (id, user_id, status, last_active_at, expire_at, abandon_at, created_at, updated_at) \
         VALUES ($1, $2, 'active', $3, $4, $5, $3, $3)",
    )
    .bind(&s.id)
    .bind(&s.user_id)
    .bind(s.now)
    .bind(s.expire_at)
    .bind(s.abandon_at)
    .execute(&mut **tx)
    .await?;
    sqlx::query("INSERT INTO refresh_tokens (token_hash, session_id, created_at) VALUES ($1, $2, $3)")
        .bind(token_hash)
        .bind(&s.id)
        .bind(s.now)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

fn json(m: &Metadata) -> String {
    serde_json::to_string(m).unwrap_or_else(|_| "{}".into())
}

fn parse_metadata(row: &SqliteRow, col: &str) -> Result<Metadata, StoreError> {
    let text: String = row.try_get(col)?;
    serde_json::from_str(&text).map_err(|e| StoreError::Corrupt(format!("{col}: {e}")))
}
