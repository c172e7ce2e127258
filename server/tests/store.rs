//! The store on both engines, below and beside the HTTP API: migrations under concurrent starts, the
//! two engines' schemas kept identical, databases made before the per-resource store, replicas (several
//! `AppState`s on one database) sharing keys and rotating refresh tokens exactly once, locks that keep
//! concurrent edits and deletions safe.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use axum::http::{Method, StatusCode};
use common::db::Engine;
use common::{Db, TestApp, db_test};
use hallpass_server::clock::ManualClock;
use hallpass_server::store::{Store, migrations};
use hallpass_server::{AppState, Config};
use serde_json::json;
use sqlx::{Connection, PgConnection, SqliteConnection};

/// The versions `_sqlx_migrations` records as applied.
async fn applied_versions(url: &str) -> Vec<i64> {
    let store_engine = hallpass_server::store::Engine::of_url(url).unwrap();
    let sql = "SELECT version FROM _sqlx_migrations WHERE success ORDER BY version";
    match store_engine {
        hallpass_server::store::Engine::Sqlite => {
            let mut c = SqliteConnection::connect(url).await.unwrap();
            sqlx::query_scalar(sql).fetch_all(&mut c).await.unwrap()
        }
        hallpass_server::store::Engine::Postgres => {
            let mut c = PgConnection::connect(url).await.unwrap();
            sqlx::query_scalar(sql).fetch_all(&mut c).await.unwrap()
        }
    }
}

fn all_versions() -> Vec<i64> {
    migrations::migrator(hallpass_server::store::Engine::Sqlite).iter().map(|m| m.version).collect()
}

db_test!(stores_opening_a_new_database_at_once_migrate_it_once);
async fn stores_opening_a_new_database_at_once_migrate_it_once(db: Db) {
    // Four "replicas" starting together, each with its own connections.
    let opening: Vec<_> = (0..4)
        .map(|_| {
            let url = db.url.clone();
            tokio::spawn(async move { Store::open(&url, 2).await })
        })
        .collect();
    let mut stores = Vec::new();
    for o in opening {
        stores.push(o.await.unwrap().unwrap_or_else(|e| panic!("a concurrent start failed: {e}")));
    }
    assert_eq!(applied_versions(&db.url).await, all_versions());
    // All of them work, and a later start finds nothing to do.
    for (i, store) in stores.iter().enumerate() {
        let v = store.secret_or_insert("probe", format!("value {i}"), 1).await.unwrap();
        assert_eq!(v, "value 0", "the first insert wins for everyone");
    }
    Store::open(&db.url, 1).await.unwrap();
    assert_eq!(applied_versions(&db.url).await, all_versions());
}

/// A database the store made before its per-resource rewrite was migrated by `sqlx::migrate!` on
/// this same folder; the store must accept that record (same checksums) and apply only what is new.
#[tokio::test]
async fn a_database_migrated_by_sqlx_migrate_opens_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("old.db").display());
    {
        let mut conn = SqliteConnection::connect(&url).await.unwrap();
        sqlx::migrate!("./migrations").run_to(20261126000002, &mut conn).await.unwrap();
        sqlx::query(
            "INSERT INTO instance_secrets (name, value, created_at) VALUES ('secret_key', 'kept', 1)",
        )
        .execute(&mut conn)
        .await
        .unwrap();
    }
    let store = Store::open(&url, 1).await.unwrap();
    assert_eq!(applied_versions(&url).await, all_versions());
    assert_eq!(store.secret_or_insert("secret_key", "new".into(), 2).await.unwrap(), "kept");
}

/// Tables, columns (type, nullability, default), indexes (columns, uniqueness, predicate) and foreign
/// keys, in one engine-neutral spelling.
#[derive(Debug, Default, PartialEq, Eq)]
struct Table {
    columns: BTreeMap<String, (String, bool, Option<String>)>,
    primary_key: Vec<String>,
    indexes: BTreeSet<(Vec<String>, bool, Option<String>)>,
    foreign_keys: BTreeSet<(String, String, String, String)>,
}

fn normal_type(t: &str) -> String {
    match t.to_ascii_lowercase().as_str() {
        "integer" | "bigint" | "int8" => "bigint".into(),
        "text" | "character varying" => "text".into(),
        "blob" | "bytea" => "bytes".into(),
        other => other.into(),
    }
}

/// `'{}'::text` → `'{}'`, `(status <> 'active'::text)` → `status <> 'active'`.
fn normal_expr(e: &str) -> String {
    let e = e.replace("::text", "");
    let e = e.trim();
    let e = e.strip_prefix('(').and_then(|e| e.strip_suffix(')')).unwrap_or(e);
    e.split_whitespace().collect::<Vec<_>>().join(" ").to_ascii_lowercase()
}

async fn sqlite_schema(url: &str) -> BTreeMap<String, Table> {
    let mut c = SqliteConnection::connect(url).await.unwrap();
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> '_sqlx_migrations'",
    )
    .fetch_all(&mut c)
    .await
    .unwrap();
    let mut schema = BTreeMap::new();
    for name in tables {
        let mut t = Table::default();
        let cols: Vec<(String, String, i64, Option<String>, i64)> = sqlx::query_as(
            "SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_info($1) ORDER BY pk, cid",
        )
        .bind(&name)
        .fetch_all(&mut c)
        .await
        .unwrap();
        for (col, ty, notnull, default, pk) in cols {
            // SQLite lets a non-INTEGER primary key hold NULL; PostgreSQL does not. Neither stores one.
            t.columns.insert(
                col.clone(),
                (normal_type(&ty), notnull == 1 || pk > 0, default.map(|d| normal_expr(&d))),
            );
            if pk > 0 {
                t.primary_key.push(col);
            }
        }
        let indexes: Vec<(String, i64, String)> =
            sqlx::query_as("SELECT name, \"unique\", origin FROM pragma_index_list($1)")
                .bind(&name)
                .fetch_all(&mut c)
                .await
                .unwrap();
        for (index, unique, _origin) in indexes {
            let cols: Vec<String> =
                sqlx::query_scalar("SELECT name FROM pragma_index_info($1) ORDER BY seqno")
                    .bind(&index)
                    .fetch_all(&mut c)
                    .await
                    .unwrap();
            let sql: Option<String> =
                sqlx::query_scalar("SELECT sql FROM sqlite_master WHERE type = 'index' AND name = $1")
                    .bind(&index)
                    .fetch_optional(&mut c)
                    .await
                    .unwrap()
                    .flatten();
            let predicate = sql.and_then(|s| s.split_once(" WHERE ").map(|(_, p)| normal_expr(p)));
            t.indexes.insert((cols, unique == 1, predicate));
        }
        let fks: Vec<(String, String, String, String)> =
            sqlx::query_as("SELECT \"from\", \"table\", \"to\", on_delete FROM pragma_foreign_key_list($1)")
                .bind(&name)
                .fetch_all(&mut c)
                .await
                .unwrap();
        t.foreign_keys = fks.into_iter().map(|(a, b, c, d)| (a, b, c, d.to_ascii_uppercase())).collect();
        schema.insert(name, t);
    }
    schema
}

async fn postgres_schema(url: &str) -> BTreeMap<String, Table> {
    let mut c = PgConnection::connect(url).await.unwrap();
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public' \
         AND table_name <> '_sqlx_migrations'",
    )
    .fetch_all(&mut c)
    .await
    .unwrap();
    let mut schema = BTreeMap::new();
    for name in tables {
        let mut t = Table::default();
        let cols: Vec<(String, String, String, Option<String>)> = sqlx::query_as(
            "SELECT column_name::text, data_type::text, is_nullable::text, column_default::text \
             FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $1",
        )
        .bind(&name)
        .fetch_all(&mut c)
        .await
        .unwrap();
        for (col, ty, nullable, default) in cols {
            t.columns.insert(col, (normal_type(&ty), nullable == "NO", default.map(|d| normal_expr(&d))));
        }
        t.primary_key = sqlx::query_scalar(
            "SELECT a.attname::text FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid \
             AND a.attnum = ANY(i.indkey) WHERE i.indrelid = $1::regclass AND i.indisprimary",
        )
        .bind(&name)
        .fetch_all(&mut c)
        .await
        .unwrap();
        let defs: Vec<String> = sqlx::query_scalar(
            "SELECT indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename = $1",
        )
        .bind(&name)
        .fetch_all(&mut c)
        .await
        .unwrap();
        for def in defs {
            let unique = def.starts_with("CREATE UNIQUE INDEX");
            let (head, predicate) = match def.split_once(" WHERE ") {
                Some((h, p)) => (h, Some(normal_expr(p))),
                None => (def.as_str(), None),
            };
            let cols = head.rsplit_once('(').and_then(|(_, c)| c.strip_suffix(')')).unwrap_or_default();
            t.indexes.insert((cols.split(", ").map(str::to_owned).collect(), unique, predicate));
        }
        let fks: Vec<(String, String, String, String)> = sqlx::query_as(
            // Each referencing column paired with the referenced column at its position (a composite
            // key's columns are not a cross product).
            "SELECT kcu.column_name::text, ref.table_name::text, ref.column_name::text, rc.delete_rule::text \
             FROM information_schema.referential_constraints rc \
             JOIN information_schema.key_column_usage kcu ON kcu.constraint_name = rc.constraint_name \
             JOIN information_schema.key_column_usage ref ON ref.constraint_name = rc.unique_constraint_name \
             AND ref.ordinal_position = kcu.position_in_unique_constraint \
             WHERE kcu.table_name = $1",
        )
        .bind(&name)
        .fetch_all(&mut c)
        .await
        .unwrap();
        t.foreign_keys = fks.into_iter().collect();
        schema.insert(name, t);
    }
    schema
}

/// Needs both engines at once: a PostgreSQL database, and a SQLite file beside it.
#[test]
fn both_engines_migrate_to_the_same_schema() {
    common::db::run(Engine::Postgres, |db: Db| async move {
        let sqlite_url = format!("sqlite://{}?mode=rwc", db.dir.path().join("compare.db").display());
        Store::open(&sqlite_url, 1).await.unwrap();
        Store::open(&db.url, 1).await.unwrap();
        let (sqlite, postgres) = (sqlite_schema(&sqlite_url).await, postgres_schema(&db.url).await);
        // The introspection sees what is there (a comparison of two empty maps proves nothing).
        assert_eq!(sqlite.len(), 26, "{sqlite:#?}");
        assert_eq!(sqlite["sessions"].indexes.len(), 5, "{:#?}", sqlite["sessions"]);
        assert_eq!(sqlite["refresh_tokens"].foreign_keys.len(), 1);
        assert_eq!(sqlite, postgres);
    });
}

db_test!(replicas_starting_together_keep_one_signing_key_and_publish_the_same_jwks);
async fn replicas_starting_together_keep_one_signing_key_and_publish_the_same_jwks(db: Db) {
    let starting: Vec<_> = (0..3)
        .map(|_| {
            let config = db.config();
            tokio::spawn(async move { AppState::new(config).await })
        })
        .collect();
    let mut replicas = Vec::new();
    for s in starting {
        replicas.push(s.await.unwrap().unwrap());
    }
    let jwks = replicas[0].keys.jwks();
    assert_eq!(replicas[0].store.signing_keys().await.unwrap().len(), 1, "one key kept");
    for r in &replicas {
        assert_eq!(r.keys.jwks(), jwks);
        assert_eq!(r.signing_key().kid(), replicas[0].signing_key().kid());
        assert_eq!(r.secret_key.expose(), replicas[0].secret_key.expose());
    }
}

db_test!(replicas_given_one_refresh_token_at_once_rotate_it_once_and_all_get_the_successor);
async fn replicas_given_one_refresh_token_at_once_rotate_it_once_and_all_get_the_successor(db: Db) {
    let clock = ManualClock::default();
    let a = Arc::new(TestApp::open(db.config(), clock.clone()).await);
    let b = Arc::new(TestApp::open(db.config(), clock.clone()).await);
    let auth = a.sign_up_as("ada@example.com").await;
    let mut token = auth.refresh_token.expose().to_owned();
    for round in 0..8 {
        // Three requests on each replica, all at once.
        let sends: Vec<_> = (0..6)
            .map(|i| {
                let (app, t) = (if i % 2 == 0 { a.clone() } else { b.clone() }, token.clone());
                tokio::spawn(async move { app.refresh(&t).await })
            })
            .collect();
        let mut successors = BTreeSet::new();
        for s in sends {
            let r = s.await.unwrap();
            assert_eq!(r.status, StatusCode::OK, "round {round}: {}", String::from_utf8_lossy(&r.body));
            let r = r.auth();
            assert_eq!(r.session.status, hallpass_protocol::SessionStatus::Active);
            successors.insert(r.refresh_token.expose().to_owned());
        }
        assert_eq!(successors.len(), 1, "round {round}: one successor for everyone");
        token = successors.into_iter().next().unwrap();
        clock.advance_secs(1);
    }
    // One rotation per round: the family is the first token and eight successors, one of them live.
    let session = a.state.store.session(&auth.session.id).await.unwrap().unwrap();
    assert_eq!(session.status, hallpass_protocol::SessionStatus::Active);
    let (total, live) = token_counts(&db, &auth.session.id).await;
    assert_eq!((total, live), (9, 1));
    assert_eq!(b.refresh(&token).await.status, StatusCode::OK);
}

/// (tokens of the session, live ones) straight from the database.
async fn token_counts(db: &Db, session_id: &str) -> (i64, i64) {
    let sql = "SELECT COUNT(*), COUNT(*) - COUNT(used_at) FROM refresh_tokens WHERE session_id = $1";
    match db.engine {
        Engine::Sqlite => {
            let mut c = SqliteConnection::connect(&db.url).await.unwrap();
            sqlx::query_as(sql).bind(session_id).fetch_one(&mut c).await.unwrap()
        }
        Engine::Postgres => {
            let mut c = PgConnection::connect(&db.url).await.unwrap();
            sqlx::query_as(sql).bind(session_id).fetch_one(&mut c).await.unwrap()
        }
    }
}

db_test!(concurrent_metadata_merges_all_land);
async fn concurrent_metadata_merges_all_land(db: Db) {
    let app = Arc::new(TestApp::new(&db).await);
    let user = app.sign_up_as("ada@example.com").await.user.id;
    let edits: Vec<_> = (0..8)
        .map(|i| {
            let (app, path) = (app.clone(), format!("/v1/users/{user}/metadata"));
            tokio::spawn(async move {
                app.backend(Method::PATCH, &path, Some(json!({ "public_metadata": { format!("k{i}"): i } })))
                    .await
            })
        })
        .collect();
    for e in edits {
        assert_eq!(e.await.unwrap().status, StatusCode::OK);
    }
    let got = app.backend(Method::GET, &format!("/v1/users/{user}"), None).await.json();
    let keys: BTreeSet<&str> =
        got["public_metadata"].as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys.len(), 8, "no edit lost: {got}");
}

db_test!(deleting_a_user_while_their_sessions_refresh_never_fails_a_request);
async fn deleting_a_user_while_their_sessions_refresh_never_fails_a_request(db: Db) {
    let app = Arc::new(TestApp::new(&db).await);
    let first = app.sign_up_as("ada@example.com").await;
    let mut tokens = vec![first.refresh_token.expose().to_owned()];
    for _ in 0..3 {
        tokens.push(app.sign_in_as("ada@example.com").await.refresh_token.expose().to_owned());
    }
    let refreshing: Vec<_> = tokens
        .into_iter()
        .map(|mut token| {
            let app = app.clone();
            tokio::spawn(async move {
                for _ in 0..15 {
                    let r = app.refresh(&token).await;
                    match r.status {
                        StatusCode::OK => token = r.auth().refresh_token.expose().to_owned(),
                        StatusCode::UNAUTHORIZED => return,
                        other => panic!("{other}: {}", String::from_utf8_lossy(&r.body)),
                    }
                }
            })
        })
        .collect();
    let deleted = app.backend(Method::DELETE, &format!("/v1/users/{}", first.user.id), None).await;
    assert_eq!(deleted.status, StatusCode::OK, "{}", String::from_utf8_lossy(&deleted.body));
    for r in refreshing {
        r.await.unwrap();
    }
    assert!(app.state.store.sessions_of(&first.user.id, false, app.clock_now()).await.unwrap().is_empty());
}

db_test!(keys_sealed_at_rest_stay_sealed_and_usable_on_both_engines);
async fn keys_sealed_at_rest_stay_sealed_and_usable_on_both_engines(db: Db) {
    // Started once in the clear, then with a key encryption key: what was stored is sealed in place.
    let clear = AppState::new(db.config()).await.unwrap();
    let (secret, jwks) = (clear.secret_key.expose().to_owned(), clear.keys.jwks());
    clear.store.close().await;
    let kek = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY";
    let mut sealed_config = db.config();
    sealed_config.key_encryption_key = Some(kek.parse().unwrap());
    let sealed = AppState::new(sealed_config.clone()).await.unwrap();
    assert_eq!((sealed.secret_key.expose(), sealed.keys.jwks()), (secret.as_str(), jwks.clone()));
    let stored_secret = sealed.store.secret_or_insert("secret_key", "unused".into(), 0).await.unwrap();
    assert_ne!(stored_secret, secret, "sealed in the database");
    let stored_keys = sealed.store.signing_keys().await.unwrap();
    assert!(!stored_keys[0].private_key.starts_with("MII"), "the PKCS#8 is not stored in the clear");
    sealed.store.close().await;
    // The same key opens it again; without it the server refuses to start.
    let again = AppState::new(sealed_config).await.unwrap();
    assert_eq!(again.keys.jwks(), jwks);
    again.store.close().await;
    assert!(AppState::new(db.config()).await.is_err());
}

/// `sslmode` in a PostgreSQL URL: with `verify-full` and the cluster's CA the server starts and the
/// connection is encrypted; without that CA, verification refuses the certificate (so it is checked);
/// `require` encrypts without checking. A cluster of its own, with TLS on.
#[test]
fn postgres_over_tls_checks_the_server_certificate() {
    if !common::db::postgres_installed() {
        return;
    }
    let cluster = temp_postgres::Cluster::start_with_tls().unwrap();
    let base = cluster.url("postgres");
    let verified = format!("{base}?sslmode=verify-full&sslrootcert={}", cluster.ca_file().display());
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    runtime.block_on(async {
        let mut config = Config::for_tests("unused.db");
        config.database_url = verified.clone();
        let state = AppState::new(config).await.unwrap();
        assert_eq!(state.store.signing_keys().await.unwrap().len(), 1);
        state.store.close().await;
        let mut c = PgConnection::connect(&verified).await.unwrap();
        let encrypted: bool = sqlx::query_scalar("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
            .fetch_one(&mut c)
            .await
            .unwrap();
        assert!(encrypted);
        let unknown_ca = Store::open(&format!("{base}?sslmode=verify-full"), 1).await;
        assert!(unknown_ca.is_err(), "a certificate from an unknown CA is refused");
        Store::open(&format!("{base}?sslmode=require"), 1).await.unwrap();
    });
}

db_test!(a_sign_in_racing_the_deletion_of_its_user_creates_nothing_and_fails_nothing);
async fn a_sign_in_racing_the_deletion_of_its_user_creates_nothing_and_fails_nothing(db: Db) {
    let app = TestApp::new(&db).await;
    let ada = app.sign_up_as("ada@example.com").await;
    let deleted = app.backend(Method::DELETE, &format!("/v1/users/{}", ada.user.id), None).await;
    assert_eq!(deleted.status, StatusCode::OK);
    // What sign-in does after its password check, for a user deleted since: the foreign key refuses
    // the session, and the store says so instead of failing.
    let now = app.clock_now();
    let session = hallpass_server::store::NewSession {
        id: "sess_late".into(),
        user_id: ada.user.id.clone(),
        now,
        expire_at: now + 60_000,
        abandon_at: now + 60_000,
        device: Default::default(),
    };
    assert!(app.state.store.create_session(&session, "late").await.unwrap().is_none());
    assert!(app.state.store.session("sess_late").await.unwrap().is_none());
}
