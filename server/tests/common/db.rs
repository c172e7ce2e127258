//! The database a test runs on. Every test that touches one runs twice — `<name>::sqlite` on a file in
//! a temporary folder and `<name>::postgres` on a fresh database of a real PostgreSQL cluster — by
//! following its `async fn <name>(db: Db)` with `db_test!(<name>);`.
//!
//! PostgreSQL: `HALLPASS_TEST_POSTGRES_URL` is the admin URL of a running cluster (`cargo xtask test`
//! starts one for its whole run); without it, the first PostgreSQL test of this binary starts one
//! (`temp-postgres`), which stops when the binary exits. Each test gets its own database, dropped when
//! it ends. Where PostgreSQL is not installed, the PostgreSQL variants fail if
//! `HALLPASS_TEST_REQUIRE_POSTGRES` or `CI` is set (`cargo xtask test` sets the first), and otherwise
//! pass without running, after a notice on stderr.

use std::future::Future;
use std::io::Write;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Once, OnceLock};
use std::time::Duration;

use hallpass_server::Config;
use sqlx::{AssertSqlSafe, Connection, PgConnection, SqliteConnection};
use tempfile::TempDir;

/// Which engine a test variant runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// A fresh, empty database for one test (migrated by the first `Store::open` on it).
pub struct Db {
    pub engine: Engine,
    /// What `HALLPASS_DATABASE_URL` would say.
    pub url: String,
    /// The test's own folder (the SQLite file lives here; ready files and the like can too).
    pub dir: TempDir,
}

impl Db {
    /// `Config::for_tests` on this database.
    pub fn config(&self) -> Config {
        let mut config = Config::for_tests(self.dir.path().join("hallpass.db"));
        config.database_url = self.url.clone();
        config
    }

    /// [`Db::scalar`] with one text parameter (`$1`).
    pub async fn scalar_with(&self, sql: &'static str, param: &str) -> i64 {
        match self.engine {
            Engine::Sqlite => {
                let mut c = SqliteConnection::connect(&self.url).await.unwrap();
                sqlx::query_scalar(sql).bind(param).fetch_one(&mut c).await.unwrap()
            }
            Engine::Postgres => {
                let mut c = PgConnection::connect(&self.url).await.unwrap();
                sqlx::query_scalar(sql).bind(param).fetch_one(&mut c).await.unwrap()
            }
        }
    }

    /// One integer from a query on this database, past the store (`SELECT COUNT(*) FROM …`).
    pub async fn scalar(&self, sql: &'static str) -> i64 {
        match self.engine {
            Engine::Sqlite => {
                let mut c = SqliteConnection::connect(&self.url).await.unwrap();
                sqlx::query_scalar(sql).fetch_one(&mut c).await.unwrap()
            }
            Engine::Postgres => {
                let mut c = PgConnection::connect(&self.url).await.unwrap();
                sqlx::query_scalar(sql).fetch_one(&mut c).await.unwrap()
            }
        }
    }
}

/// `db_test!(name)` after `async fn name(db: Db) { … }`: the tests `name::sqlite` and
/// `name::postgres`. (A test function nobody registers is dead code, which clippy refuses.)
macro_rules! db_test {
    ($name:ident) => {
        mod $name {
            #[test]
            fn sqlite() {
                $crate::common::db::run($crate::common::db::Engine::Sqlite, super::$name);
            }

            #[test]
            fn postgres() {
                $crate::common::db::run($crate::common::db::Engine::Postgres, super::$name);
            }
        }
    };
}
pub(crate) use db_test;

/// Runs `test` on a fresh database of `engine`, in a multi-threaded runtime (4 workers, so
/// concurrency tests are concurrent), then drops the database. The test's panic is re-raised after.
pub fn run<F, Fut>(engine: Engine, test: F)
where
    F: FnOnce(Db) -> Fut,
    Fut: Future<Output = ()>,
{
    let admin = match engine {
        Engine::Sqlite => None,
        Engine::Postgres => match postgres_admin_url() {
            Some(url) => Some(url),
            None => return,
        },
    };
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(4).enable_all().build().expect("runtime");
    let dir = tempfile::tempdir().expect("temp dir");
    let (url, database) = match admin {
        None => (format!("sqlite://{}?mode=rwc", dir.path().join("hallpass.db").display()), None),
        Some(admin) => {
            let name = runtime.block_on(create_database(admin));
            (with_database(admin, &name), Some((admin, name)))
        }
    };
    let db = Db { engine, url, dir };
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| runtime.block_on(test(db))));
    // Ends the test's leftover tasks (pool connections closing) before the database goes.
    drop(runtime);
    if let Some((admin, name)) = database {
        let cleanup = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        cleanup.block_on(drop_database(admin, &name));
    }
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

/// The cluster's admin URL, or `None` (after a notice) when PostgreSQL is not installed and not
/// required. Panics when it is required, or installed but failing.
fn postgres_admin_url() -> Option<&'static str> {
    enum Pg {
        Ready(
            String,
            #[allow(dead_code, reason = "held until the binary exits")] Option<temp_postgres::Cluster>,
        ),
        Missing(String),
        Broken(String),
    }
    static PG: OnceLock<Pg> = OnceLock::new();
    let pg = PG.get_or_init(|| {
        if let Some(url) = std::env::var("HALLPASS_TEST_POSTGRES_URL").ok().filter(|u| !u.is_empty()) {
            return Pg::Ready(url, None);
        }
        if let Err(why) = temp_postgres::bin_dir() {
            return Pg::Missing(why);
        }
        match temp_postgres::Cluster::start() {
            Ok(cluster) => Pg::Ready(cluster.url("postgres"), Some(cluster)),
            Err(e) => Pg::Broken(e),
        }
    });
    match pg {
        Pg::Ready(url, _) => Some(url),
        Pg::Broken(e) => panic!("could not start PostgreSQL for the tests: {e}"),
        Pg::Missing(why) => {
            skip_or_fail(why);
            None
        }
    }
}

/// For a test that starts a cluster of its own: `true` if PostgreSQL is installed; otherwise what
/// [`run`] does without PostgreSQL (fail where it is required, else a notice) and `false`.
pub fn postgres_installed() -> bool {
    match temp_postgres::bin_dir() {
        Ok(_) => true,
        Err(why) => {
            skip_or_fail(&why);
            false
        }
    }
}

fn skip_or_fail(why: &str) {
    let required = ["HALLPASS_TEST_REQUIRE_POSTGRES", "CI"]
        .iter()
        .any(|v| std::env::var(v).is_ok_and(|v| !v.is_empty() && v != "0" && v != "false"));
    assert!(!required, "PostgreSQL is required here (HALLPASS_TEST_REQUIRE_POSTGRES or CI is set): {why}");
    static NOTICE: Once = Once::new();
    // Straight to the process's stderr: libtest captures `eprintln!` of passing tests.
    NOTICE.call_once(|| {
        let _ = writeln!(
            std::io::stderr(),
            "note: the ::postgres variants of these tests pass without running: {why}"
        );
    });
}

/// `admin` with its database name replaced by `name`.
fn with_database(admin: &str, name: &str) -> String {
    let (base, query) = admin.split_once('?').map_or((admin, ""), |(b, q)| (b, q));
    let host_start = base.find("://").map_or(0, |i| i + 3);
    let path_start = base[host_start..].find('/').map_or(base.len(), |i| host_start + i);
    let query = if query.is_empty() { String::new() } else { format!("?{query}") };
    format!("{}/{name}{query}", &base[..path_start])
}

async fn admin_connection(admin: &str) -> PgConnection {
    tokio::time::timeout(Duration::from_secs(30), PgConnection::connect(admin))
        .await
        .expect("connecting to PostgreSQL timed out")
        .unwrap_or_else(|e| panic!("connecting to PostgreSQL at {admin}: {e}"))
}

async fn create_database(admin: &str) -> String {
    static SEQ: AtomicU32 = AtomicU32::new(0);
    let name = format!("hallpass_test_{}_{}", std::process::id(), SEQ.fetch_add(1, Ordering::Relaxed));
    let mut conn = admin_connection(admin).await;
    // FILE_COPY (PostgreSQL 15+) copies the template's files: twice as fast as logging every page.
    let fast = format!("CREATE DATABASE {name} STRATEGY = FILE_COPY");
    if let Err(e) = sqlx::raw_sql(AssertSqlSafe(fast)).execute(&mut conn).await {
        let older = matches!(&e, sqlx::Error::Database(d) if d.code().as_deref() == Some("42601"));
        assert!(older, "CREATE DATABASE {name}: {e}");
        sqlx::raw_sql(AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&mut conn).await.unwrap();
    }
    let _ = conn.close().await;
    name
}

async fn drop_database(admin: &str, name: &str) {
    let mut conn = admin_connection(admin).await;
    // FORCE: the test's pools may still be closing their connections.
    let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
    sqlx::raw_sql(AssertSqlSafe(sql))
        .execute(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("dropping {name}: {e}"));
    let _ = conn.close().await;
}
