//! All SQL lives here, behind [`Store`]: handlers call its methods and never see a query. One file per
//! resource, each holding its typed rows and the statements that read and write them:
//! [`instance`] (instance secrets, signing keys), [`instance_settings`] (the sign-up and sign-in
//! settings changed through the Backend API), [`users`] (users and their email addresses),
//! [`sessions`], [`refresh_tokens`] (rotation, grace window, reuse detection), [`jwt_templates`],
//! [`rate_limits`] (budgets shared by the replicas), organizations: [`organizations`] (with the
//! active organization of a session and what a member may do), [`memberships`], [`invitations`],
//! [`roles`] (roles and permissions), and webhooks: [`outbox`] (events), [`webhook_endpoints`],
//! [`webhook_deliveries`] (the delivery queue, its leases, attempts); email: [`emails`] (the mail
//! queue and the development mailbox), [`verifications`] (codes and links), [`sign_up_attempts`],
//! [`sign_in_attempts`] and [`email_addresses`] (a user's further addresses and their verification).
//! Around them: [`dialect`] (the one place SQLite and PostgreSQL differ), [`migrations`] (the schema,
//! versioned, for both engines), [`columns`] (how JSON and enum columns are stored).
//!
//! # Two engines, one store
//!
//! `HALLPASS_DATABASE_URL` picks the engine: `sqlite://…` (the embedded default) or `postgres://…`
//! (several replicas share one database). Both run the same schema and the same SQL through sqlx's
//! `Any` driver: `$n` placeholders, `TEXT`/`BIGINT` columns (timestamps are integer milliseconds, JSON
//! is TEXT), `ON CONFLICT`, nothing engine-only — except the few statements in [`dialect`], which are
//! spelled once per engine side by side. `tests/store.rs` compares the two migrated schemas, so they
//! cannot drift apart.
//!
//! # Adding a table (organizations, memberships, webhook endpoints and their outbox, emails, …)
//!
//! 1. A migration `migrations/<version>_<name>.sql`, listed in [`migrations`]. Write portable SQL; where
//!    a type or statement truly differs, give the version one file per engine (see there).
//! 2. A file `store/<resource>.rs` with a `#[derive(sqlx::FromRow)]` record (JSON and enum columns
//!    through [`columns`]), `pub async fn` methods on [`Store`] for the handlers, and `pub(super)`
//!    functions taking `&mut WriteTx` for the steps other resources' transactions compose.
//! 3. Reads go to the pool (`&self.pool`); every write goes through [`Store::write_tx`] (or, for one
//!    statement that needs no transaction around it, [`Store::write_one`]).
//! 4. Its tests run on both engines (`db_test!` in `tests/common`).
//!
//! # Write transactions
//!
//! [`Store::write_tx`] starts one; the statements inside use `tx.conn()`, and `tx.commit()` ends it
//! (dropping it rolls back).
//!
//! # Webhook events: emitted on the transaction of the change
//!
//! A store method that changes a resource webhooks report on emits the event on its own transaction,
//! with the resource as the Backend API shows it now; `commit` writes it ([`outbox`]) in the same
//! transaction, with its sequence number (commit order) and a delivery for each endpoint that
//! receives it. A change that rolls back emits nothing; one that commits cannot lose its event.
//! Handlers never emit (they cannot forget to): the store method that makes the change does.
//!
//! ```ignore
//! let mut tx = self.write_tx().await?;
//! let org = organizations::insert(&mut tx, &new_org).await?;
//! tx.emit(EventType::OrganizationCreated, &org.to_wire(), now)?;
//! tx.commit().await?;
//! ```
//!
//! - **SQLite**: one writer at a time for the whole database. `write_tx` first takes this process's
//!   writer turn (a fair async mutex: writers queue here, not in SQLite's busy handler, which sleeps
//!   with back-off), then `BEGIN IMMEDIATE` (the write lock up front, so a read that later writes never
//!   fails with `SQLITE_BUSY`; other processes on the same file wait through `busy_timeout`). Inside,
//!   nothing else writes: a read-modify-write is exact as written.
//! - **PostgreSQL**: `BEGIN` at READ COMMITTED, and writers of different rows run in parallel. A
//!   read-modify-write must lock what it read: `SELECT … FOR UPDATE` through [`dialect::locked`]
//!   (nothing on SQLite), or a conditional `UPDATE … WHERE <expected state>` whose row count says who
//!   won. Each statement sees everything committed before it started, so a read after taking a lock
//!   sees what the previous holder left. Take locks in one order — a session before its refresh
//!   tokens, a user's sessions before the user — so two transactions never wait on each other in a
//!   circle. Housekeeping's bulk deletes lock with `SKIP LOCKED`: replicas sweep side by side.
//!
//! The refresh-token family is the example to read: its session row is the lock
//! ([`refresh_tokens`]).
//!
//! # Refresh rotations are committed in groups
//!
//! The hottest write — one rotation per signed-in user per minute — does not open a transaction of its
//! own: rotations arriving together share one ([`group_commit`]). A per-rotation side effect that must
//! commit with its rotation (an outbox row for `session.*` webhooks) is written in
//! `refresh_tokens::rotate_in`, with the `tx` it is given: it runs inside the group's transaction,
//! once per rotation, where the rotation's outcome is known, and commits or rolls back with it.

pub mod columns;
pub mod dialect;
pub mod email_addresses;
pub mod emails;
pub mod group_commit;
pub mod images;
pub mod instance;
pub mod instance_settings;
pub mod invitations;
pub mod jwt_templates;
pub mod memberships;
pub mod migrations;
pub mod organizations;
pub mod outbox;
pub mod rate_limits;
pub mod refresh_tokens;
pub mod roles;
pub mod sessions;
pub mod sign_in_attempts;
pub mod sign_up_attempts;
pub mod users;
pub mod verifications;
pub mod webhook_deliveries;
pub mod webhook_endpoints;

use std::sync::Arc;

use dialect::Sql;
use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyConnection, AnyPool, Transaction};

pub use dialect::Engine;
pub use emails::{EmailRecord, NewEmail, SendOutcome};
pub use instance::StoredSigningKey;
pub use invitations::{InvitationRecord, NewInvitation};
pub use jwt_templates::{JwtTemplateRecord, TemplateWriteError};
pub use memberships::MembershipRecord;
pub use organizations::{
    Creator, MemberGrant, NewOrganization, OrgWriteError, OrganizationOrder, OrganizationRecord,
    OrganizationSearch,
};
pub use refresh_tokens::{REUSE_DETECTION_MS, RefreshOutcome, RefreshPolicy, Rotation};
pub use roles::{NewRole, PermissionRecord, ProtectedRoles, RoleChange, RoleRecord, RoleWriteError};
pub use sessions::{NewSession, SessionRecord};
pub use sign_in_attempts::SignInAttemptRecord;
pub use sign_up_attempts::{NewSignUpAttempt, SignUpAttemptRecord};
pub use users::{CreateUserError, NewUser, PrimaryRefused, UserRecord};
pub use verifications::{CheckOutcome, NewVerification, VerificationRecord};

/// A storage failure (the handler turns it into a logged 500).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("unsupported database URL scheme `{0}` (use sqlite:// or postgres://)")]
    UnsupportedUrl(String),
    #[error("could not create the database directory: {0}")]
    Io(#[from] std::io::Error),
    #[error("corrupt row: {0}")]
    Corrupt(String),
    #[error("the OS random number generator failed: {0}")]
    Random(getrandom::Error),
    /// One failure answered to several requests (a group of rotations whose users could not be read).
    #[error(transparent)]
    Shared(Arc<StoreError>),
}

// By hand: `getrandom::Error` is not a `std::error::Error` without its `std` feature.
impl From<getrandom::Error> for StoreError {
    fn from(e: getrandom::Error) -> Self {
        StoreError::Random(e)
    }
}

/// The database: a pool of connections to one SQLite file or one PostgreSQL database.
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    /// PostgreSQL only: connections whose commits do not wait for the disk ([`Store::write_relaxed`]).
    relaxed: Option<AnyPool>,
    engine: Engine,
    /// SQLite only: this process's writers queue here for the one write lock (see the module doc).
    writer: Option<Arc<tokio::sync::Mutex<()>>>,
    /// Woken after every commit that wrote webhook events (this process's delivery worker waits on it).
    outbox: Arc<tokio::sync::Notify>,
    /// The refresh committer ([`group_commit`]); `None` in the committer's own handle.
    rotations: Option<Arc<group_commit::Rotations>>,
    /// Woken after every commit that queued an email (this process's mail worker waits on it).
    mail: Arc<tokio::sync::Notify>,
}

/// A write transaction (see the module doc). Dropping it without [`WriteTx::commit`] rolls back.
pub struct WriteTx {
    tx: Transaction<'static, Any>,
    engine: Engine,
    _turn: Option<tokio::sync::OwnedMutexGuard<()>>,
    /// Webhook events emitted inside it, written by `commit` ([`outbox`]).
    events: Vec<outbox::NewEvent>,
    outbox: Arc<tokio::sync::Notify>,
    /// Wake the delivery worker at commit even without events ([`WriteTx::wake_webhooks`]).
    wake_outbox: bool,
    /// An email was queued inside it: wake the mail worker at commit.
    queued_mail: bool,
    mail: Arc<tokio::sync::Notify>,
}

impl WriteTx {
    /// The connection, for statements inside the transaction.
    pub fn conn(&mut self) -> &mut AnyConnection {
        &mut self.tx
    }

    /// The engine, for the statements [`dialect`] spells per engine.
    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// Wakes this process's mail worker once the transaction commits.
    pub(crate) fn wake_mail(&mut self) {
        self.queued_mail = true;
    }

    /// Wakes this process's delivery worker once the transaction commits, whether or not it emitted
    /// events (an email's event is written by the worker: [`emails`]).
    pub(crate) fn wake_webhooks(&mut self) {
        self.wake_outbox = true;
    }

    /// Writes the events emitted inside the transaction (see [`outbox`]), then commits.
    pub async fn commit(mut self) -> Result<(), sqlx::Error> {
        let events = std::mem::take(&mut self.events);
        let emitted = !events.is_empty();
        if emitted {
            outbox::write(&mut self, events).await?;
        }
        self.tx.commit().await?;
        if emitted || self.wake_outbox {
            self.outbox.notify_one();
        }
        if self.queued_mail {
            self.mail.notify_one();
        }
        Ok(())
    }
}

/// A connection for one write statement in autocommit mode (see [`Store::write_one`]).
pub struct WriteOne {
    conn: PoolConnection<Any>,
    _turn: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl WriteOne {
    pub fn conn(&mut self) -> &mut AnyConnection {
        &mut self.conn
    }
}

impl Store {
    /// Connects to `url` (creating a SQLite file and its directory if needed), applies pending
    /// migrations, and keeps a pool of at most `max_connections`; refresh rotations are committed in
    /// groups of up to [`group_commit::DEFAULT_MAX`].
    pub async fn open(url: &str, max_connections: u32) -> Result<Store, StoreError> {
        Store::open_with(url, max_connections, group_commit::DEFAULT_MAX).await
    }

    /// [`Store::open`], committing at most `refresh_batch_max` rotations in one transaction (1: each
    /// in its own). Starts the committer task: call it inside a Tokio runtime.
    pub async fn open_with(
        url: &str,
        max_connections: u32,
        refresh_batch_max: usize,
    ) -> Result<Store, StoreError> {
        let engine = Engine::of_url(url)?;
        let (pool, relaxed) = dialect::connect(engine, url, max_connections).await?;
        let writer = (engine == Engine::Sqlite).then(|| Arc::new(tokio::sync::Mutex::new(())));
        let bare = Store {
            pool,
            relaxed,
            engine,
            writer,
            outbox: Arc::default(),
            mail: Arc::default(),
            rotations: None,
        };
        let rotations = group_commit::Rotations::start(bare.clone(), refresh_batch_max);
        Ok(Store { rotations: Some(Arc::new(rotations)), ..bare })
    }

    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// Completes once a commit of this process has written webhook events since the last call
    /// returned (or at once, if one has): the delivery worker's wake-up.
    pub async fn outbox_written(&self) {
        self.outbox.notified().await;
    }

    /// Completes once a commit of this process has queued an email since the last call returned: the
    /// mail worker's wake-up.
    pub async fn mail_queued(&self) {
        self.mail.notified().await;
    }

    /// Wakes this process's delivery worker: deliveries were queued (or an endpoint enabled) other
    /// than by emitting events.
    pub(crate) fn wake_webhooks(&self) {
        self.outbox.notify_one();
    }

    /// Closes every connection (tests reopen the same database to prove persistence).
    pub async fn close(&self) {
        self.pool.close().await;
        if let Some(relaxed) = &self.relaxed {
            relaxed.close().await;
        }
    }

    /// Starts a write transaction: on SQLite after this process's writer turn, with `BEGIN IMMEDIATE`;
    /// on PostgreSQL a plain `BEGIN` (see the module doc).
    pub async fn write_tx(&self) -> Result<WriteTx, StoreError> {
        let turn = match &self.writer {
            Some(writer) => Some(writer.clone().lock_owned().await),
            None => None,
        };
        let tx = self.pool.begin_with(dialect::begin_write(self.engine)).await?;
        Ok(WriteTx {
            tx,
            engine: self.engine,
            _turn: turn,
            events: Vec::new(),
            outbox: self.outbox.clone(),
            wake_outbox: false,
            queued_mail: false,
            mail: self.mail.clone(),
        })
    }

    /// A connection for a single write statement that is atomic on its own (an upsert, say): on
    /// SQLite after this process's writer turn, like [`Store::write_tx`]; on PostgreSQL straight from
    /// the pool, one round trip instead of three (`BEGIN`, the statement, `COMMIT`).
    pub async fn write_one(&self) -> Result<WriteOne, StoreError> {
        let turn = match &self.writer {
            Some(writer) => Some(writer.clone().lock_owned().await),
            None => None,
        };
        let conn = self.pool.acquire().await?;
        Ok(WriteOne { conn, _turn: turn })
    }

    /// [`Store::write_one`] for a row whose last few changes may be lost if the database crashes
    /// (rate-limit counters): on PostgreSQL from connections whose commits do not wait for the disk
    /// (see `dialect::RELAXED`); on SQLite the same as [`Store::write_one`].
    pub async fn write_relaxed(&self) -> Result<WriteOne, StoreError> {
        match &self.relaxed {
            Some(relaxed) => Ok(WriteOne { conn: relaxed.acquire().await?, _turn: None }),
            None => self.write_one().await,
        }
    }

    /// Housekeeping's building block: runs bulk deletes shaped `DELETE … WHERE … IN (SELECT … <ended
    /// before $1> LIMIT $2)` one after another, each in its own short write transaction, until
    /// `limit` rows are gone in all. Returns how many.
    async fn purge(&self, statements: &[Sql], cutoff: i64, limit: i64) -> Result<u64, StoreError> {
        let mut purged: u64 = 0;
        for statement in statements {
            let left = limit.saturating_sub(i64::try_from(purged).unwrap_or(i64::MAX));
            if left <= 0 {
                break;
            }
            let mut tx = self.write_tx().await?;
            let sql = statement.get(tx.engine());
            purged += sqlx::query(sql).bind(cutoff).bind(left).execute(tx.conn()).await?.rows_affected();
            tx.commit().await?;
        }
        Ok(purged)
    }
}
