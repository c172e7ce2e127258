//! Where SQLite and PostgreSQL differ, all of it: connecting (and each connection's settings), how a
//! write transaction begins, how migrations are kept to one runner at a time, and the row-locking
//! clauses a write transaction adds on PostgreSQL. Every other statement in the store is the same text
//! on both engines.
//!
//! A statement that differs is a [`Sql`]: both spellings side by side, made by [`locked!`] (`FOR
//! UPDATE` on PostgreSQL), [`share_locked!`] (`FOR SHARE`) or [`skip_locked!`] (`FOR UPDATE SKIP
//! LOCKED` inside a bulk delete's subquery), and picked with `tx.engine()`. A statement that only
//! takes locks is sent where [`takes_row_locks`] says so.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{AnyConnection, AnyPool};
use sqlx::{AssertSqlSafe, ConnectOptions, Connection};

use super::StoreError;
use super::migrations;

/// The database engine behind a [`super::Store`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

impl Engine {
    /// The engine a database URL names: `sqlite:` or `postgres:`/`postgresql:`.
    pub fn of_url(url: &str) -> Result<Engine, StoreError> {
        let scheme = url.split(':').next().unwrap_or_default().to_ascii_lowercase();
        match scheme.as_str() {
            "sqlite" => Ok(Engine::Sqlite),
            "postgres" | "postgresql" => Ok(Engine::Postgres),
            _ => Err(StoreError::UnsupportedUrl(scheme)),
        }
    }
}

/// How long a statement may wait — for SQLite's write lock (`busy_timeout`), or on PostgreSQL for
/// anything (`statement_timeout`, which includes lock waits) — before it fails instead of hanging a
/// request.
pub const STATEMENT_TIMEOUT: Duration = Duration::from_secs(10);

/// How long taking a pooled connection (or opening one) may take.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// A statement spelled once per engine. Only for the statements that differ; see the module doc.
#[derive(Clone, Copy, Debug)]
pub struct Sql {
    pub sqlite: &'static str,
    pub postgres: &'static str,
}

impl Sql {
    pub fn get(&self, engine: Engine) -> &'static str {
        match engine {
            Engine::Sqlite => self.sqlite,
            Engine::Postgres => self.postgres,
        }
    }
}

/// `$select` (a string literal or `concat!`) with the rows it returns locked until the transaction
/// ends: `FOR UPDATE` on PostgreSQL (`FOR UPDATE OF <table>` with `of "<table>"`, for a query with an
/// outer join); nothing on SQLite, where the write transaction already holds the database's one write
/// lock.
macro_rules! locked {
    ($select:expr) => {
        $crate::store::dialect::Sql { sqlite: $select, postgres: concat!($select, " FOR UPDATE") }
    };
    ($select:expr, of $table:literal) => {
        $crate::store::dialect::Sql { sqlite: $select, postgres: concat!($select, " FOR UPDATE OF ", $table) }
    };
}
pub(crate) use locked;

/// `$select` with the rows it returns locked against change (`FOR SHARE` on PostgreSQL: other
/// readers that share-lock them go on, a writer's `FOR UPDATE` waits) until the transaction ends;
/// nothing on SQLite, as for [`locked!`].
macro_rules! share_locked {
    ($select:expr) => {
        $crate::store::dialect::Sql { sqlite: $select, postgres: concat!($select, " FOR SHARE") }
    };
}
pub(crate) use share_locked;

/// A bulk statement `$head (<$subquery>) $tail` whose subquery picks the batch: on PostgreSQL its rows
/// are locked with `FOR UPDATE OF <$table> SKIP LOCKED`, so two replicas purging at once take disjoint
/// batches instead of waiting on each other; on SQLite the writer holds the whole database anyway.
///
/// `no_key_update of <table>` locks with `FOR NO KEY UPDATE` instead: for a batch that is updated
/// (not deleted) and must not wait for, or be skipped because of, the key-share locks that other
/// transactions' foreign keys take on its rows.
macro_rules! skip_locked {
    ($head:literal, $subquery:expr, of $table:literal, $tail:literal) => {
        $crate::store::dialect::Sql {
            sqlite: concat!($head, $subquery, $tail),
            postgres: concat!($head, $subquery, " FOR UPDATE OF ", $table, " SKIP LOCKED", $tail),
        }
    };
    ($head:literal, $subquery:expr, no_key_update of $table:literal, $tail:literal) => {
        $crate::store::dialect::Sql {
            sqlite: concat!($head, $subquery, $tail),
            postgres: concat!($head, $subquery, " FOR NO KEY UPDATE OF ", $table, " SKIP LOCKED", $tail),
        }
    };
}
pub(crate) use skip_locked;

/// Whether a write transaction must lock the rows it reads before writing (PostgreSQL), or already
/// excludes every other writer (SQLite's one write lock): a statement that only locks is not sent then.
pub fn takes_row_locks(engine: Engine) -> bool {
    engine == Engine::Postgres
}

/// The statement that begins a write transaction.
pub fn begin_write(engine: Engine) -> &'static str {
    match engine {
        // Take the write lock now: a deferred transaction that reads, then writes, can fail with
        // SQLITE_BUSY when another connection wrote in between.
        Engine::Sqlite => "BEGIN IMMEDIATE",
        // READ COMMITTED; what a transaction reads and then writes it locks (see the store's doc).
        Engine::Postgres => "BEGIN",
    }
}

/// Settings every pooled connection gets. SQLite: WAL is set once per file (in [`migrate`]); these
/// are per connection. PostgreSQL: bounded waits, and a client that stalls mid-transaction cannot hold
/// its locks for longer than that either.
fn session_settings(engine: Engine) -> String {
    let ms = STATEMENT_TIMEOUT.as_millis();
    match engine {
        Engine::Sqlite => {
            format!("PRAGMA busy_timeout = {ms}; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;")
        }
        Engine::Postgres => {
            format!("SET statement_timeout = {ms}; SET idle_in_transaction_session_timeout = {ms};")
        }
    }
}

/// Opens the pool: SQLite with its file (and directory) created if missing and in WAL mode;
/// migrations applied first, on their own connection (see [`migrate`]).
/// On PostgreSQL also a second, small pool for writes that need not survive a crash (see
/// [`RELAXED`]); `None` on SQLite.
pub async fn connect(
    engine: Engine,
    url: &str,
    max_connections: u32,
) -> Result<(AnyPool, Option<AnyPool>), StoreError> {
    sqlx::any::install_default_drivers();
    let url = match engine {
        Engine::Sqlite => sqlite_url(url)?,
        Engine::Postgres => url.to_owned(),
    };
    let options = AnyConnectOptions::from_str(&url)?;
    let mut conn = tokio::time::timeout(ACQUIRE_TIMEOUT, options.connect())
        .await
        .map_err(|_| sqlx::Error::PoolTimedOut)??;
    migrate(engine, &mut conn).await?;
    conn.close().await?;

    let pool = |max: u32, extra: &'static str| {
        AnyPoolOptions::new()
            .max_connections(max.max(1))
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    sqlx::raw_sql(AssertSqlSafe(session_settings(engine) + extra)).execute(conn).await?;
                    Ok(())
                })
            })
            .connect_with(options.clone())
    };
    let durable = pool(max_connections, "").await?;
    let relaxed = match engine {
        Engine::Sqlite => None,
        Engine::Postgres => Some(pool(max_connections.div_ceil(2), RELAXED).await?),
    };
    Ok((durable, relaxed))
}

/// The session setting of the relaxed pool: a commit there does not wait for its WAL to reach the
/// disk. Only for rows whose last few changes may be lost in a crash of the database (rate-limit
/// counters: the cost of a wait for the disk on every Frontend API request would be far worse). Such
/// a commit is still atomic and in order; at most PostgreSQL's `wal_writer_delay` (200 ms) of them
/// can be lost.
const RELAXED: &str = " SET synchronous_commit = off;";

/// The SQLite URL normalised so the file is created when missing (the default URL says `mode=rwc`,
/// but `sqlite://path` alone would refuse a new file). The database holds the keys: its directory and
/// files are made private first (see `crate::at_rest`).
fn sqlite_url(url: &str) -> Result<String, StoreError> {
    let options = SqliteConnectOptions::from_str(url)?.create_if_missing(true);
    let file = Path::new(options.get_filename());
    if file.as_os_str() != ":memory:" {
        if let Some(parent) = file.parent() {
            crate::at_rest::private_dir(parent)?;
        }
        crate::at_rest::private_sqlite_file(file)?;
    }
    Ok(options.to_url_lossy().to_string())
}

/// Applies pending migrations with one runner at a time, however many processes start at once.
/// PostgreSQL: sqlx's migrator holds an advisory lock on the database while it runs. SQLite: its
/// lock is a no-op, so the whole run is one `BEGIN IMMEDIATE` transaction (each migration a savepoint
/// inside it); a second process waits at its `BEGIN` and then finds nothing to do.
async fn migrate(engine: Engine, conn: &mut AnyConnection) -> Result<(), StoreError> {
    let migrator = migrations::migrator(engine);
    // `run_direct`, not `run`: `run` goes through `Acquire`, whose higher-ranked bound makes the
    // future of whatever awaits it (`AppState::new`) not `Send` (sqlx's own comment says so).
    match engine {
        Engine::Postgres => migrator.run_direct(None, conn, false).await?,
        Engine::Sqlite => {
            sqlx::raw_sql(AssertSqlSafe(session_settings(engine))).execute(&mut *conn).await?;
            wal_mode(conn).await?;
            let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
            migrator.run_direct(None, &mut *tx, false).await?;
            tx.commit().await?;
        }
    }
    Ok(())
}

/// `PRAGMA journal_mode = WAL`: readers never block the writer. Switching a new file into WAL needs a
/// moment of exclusive access that the busy timeout does not wait for, so a process starting beside
/// another may be refused once or twice: retried for up to [`STATEMENT_TIMEOUT`].
async fn wal_mode(conn: &mut AnyConnection) -> Result<(), StoreError> {
    let deadline = tokio::time::Instant::now() + STATEMENT_TIMEOUT;
    loop {
        match sqlx::raw_sql("PRAGMA journal_mode = WAL").execute(&mut *conn).await {
            Ok(_) => return Ok(()),
            Err(sqlx::Error::Database(e))
                if e.message().contains("locked") && tokio::time::Instant::now() < deadline =>
            {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Err(e) => return Err(e.into()),
        }
    }
}
