//! Rate limits with several replicas: on PostgreSQL the budgets are rows of the shared database, so
//! two `AppState`s on one database spend one budget (the per-address request limit, the sign-in
//! lockout), exactly, even when their requests arrive at the same instant; housekeeping deletes the
//! rows once their budget is full again. On SQLite (one process per database) they stay in memory and
//! nothing is written per request.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::db::Engine;
use common::{Db, PASSWORD, TestApp, db_test};
use hallpass_protocol::paths;
use hallpass_server::Config;
use hallpass_server::clock::ManualClock;
use hallpass_server::housekeeping::{self, Settings};
use serde_json::json;

/// Two replicas on `db`, one clock, with `edit` applied to both configs.
async fn replicas(db: &Db, edit: impl Fn(&mut Config)) -> (Arc<TestApp>, Arc<TestApp>) {
    let clock = ManualClock::default();
    let config = || {
        let mut c = db.config();
        edit(&mut c);
        c
    };
    let a = TestApp::open(config(), clock.clone()).await;
    let b = TestApp::open(config(), clock).await;
    (Arc::new(a), Arc::new(b))
}

/// `GET /v1/client/me` with a bad token: 401 while the budget lasts, then 429.
async fn hit(app: &TestApp) -> u16 {
    app.get_bearer(paths::ME, "x").await.status.as_u16()
}

db_test!(two_replicas_spend_one_request_budget);
async fn two_replicas_spend_one_request_budget(db: Db) {
    let (a, b) = replicas(&db, |c| c.rate_limit_requests_per_ip = 4).await;
    for app in [&a, &b, &a, &b] {
        assert_eq!(hit(app).await, 401);
    }
    match db.engine {
        Engine::Postgres => {
            for app in [&a, &b] {
                let limited = app.get_bearer(paths::ME, "x").await;
                limited.assert_error(429, "rate_limited");
                // Four a minute: the next unit is 15 s away, whichever replica is asked.
                assert_eq!(limited.header("retry-after"), Some("15"));
            }
            a.clock.advance_secs(15);
            assert_eq!(hit(&b).await, 401, "the budget refills for both");
            assert_eq!(hit(&a).await, 429);
        }
        Engine::Sqlite => {
            // One process per SQLite database: each app has its own budget in memory, two spent of four.
            for app in [&a, &b, &a, &b] {
                assert_eq!(hit(app).await, 401);
            }
            assert_eq!(hit(&a).await, 429);
            assert_eq!(db.scalar("SELECT COUNT(*) FROM rate_limits").await, 0, "nothing written per request");
        }
    }
}

db_test!(requests_arriving_at_once_on_both_replicas_get_exactly_the_budget);
async fn requests_arriving_at_once_on_both_replicas_get_exactly_the_budget(db: Db) {
    let (a, b) = replicas(&db, |c| c.rate_limit_requests_per_ip = 10).await;
    let sends: Vec<_> = (0..40)
        .map(|i| {
            let app = if i % 2 == 0 { a.clone() } else { b.clone() };
            tokio::spawn(async move { hit(&app).await })
        })
        .collect();
    let mut allowed = 0;
    for s in sends {
        match s.await.unwrap() {
            401 => allowed += 1,
            status => assert_eq!(status, 429),
        }
    }
    let expected = if db.engine == Engine::Postgres { 10 } else { 20 };
    assert_eq!(allowed, expected, "every unit granted once, none twice");
}

db_test!(a_lockout_on_one_replica_holds_on_the_other);
async fn a_lockout_on_one_replica_holds_on_the_other(db: Db) {
    let (a, b) = replicas(&db, |c| c.sign_in_failures_per_account_and_ip = 3).await;
    a.sign_up_as("ada@example.com").await;
    let wrong = json!({"identifier": "ada@example.com", "password": "wrong password"});
    for app in [&a, &b, &a] {
        app.post(paths::SIGN_INS, wrong.clone()).await.assert_error(422, "form_password_incorrect");
    }
    let right = json!({"identifier": "ada@example.com", "password": PASSWORD});
    match db.engine {
        Engine::Postgres => {
            b.post(paths::SIGN_INS, right.clone()).await.assert_error(429, "rate_limited");
            a.post(paths::SIGN_INS, right.clone()).await.assert_error(429, "rate_limited");
            // A failure refills every 5 minutes; a success on either replica then clears the rest.
            a.clock.advance_secs(300);
            b.sign_in_as("ada@example.com").await;
            a.post(paths::SIGN_INS, wrong.clone()).await.assert_error(422, "form_password_incorrect");
            a.post(paths::SIGN_INS, wrong).await.assert_error(422, "form_password_incorrect");
            a.sign_in_as("ada@example.com").await;
        }
        Engine::Sqlite => {
            // Per process: `a` failed twice, `b` once; neither is locked out yet.
            b.sign_in_as("ada@example.com").await;
            a.sign_in_as("ada@example.com").await;
        }
    }
}

db_test!(housekeeping_deletes_budgets_once_they_are_full_again);
async fn housekeeping_deletes_budgets_once_they_are_full_again(db: Db) {
    let (a, b) = replicas(&db, |c| c.rate_limit_requests_per_ip = 60).await;
    a.sign_up_as("ada@example.com").await;
    a.post(paths::SIGN_INS, json!({"identifier": "ada@example.com", "password": "wrong password"}))
        .await
        .assert_error(422, "form_password_incorrect");
    for _ in 0..5 {
        hit(&b).await;
    }
    let rows = db.scalar("SELECT COUNT(*) FROM rate_limits").await;
    let settings = Settings { pause: Duration::ZERO, ..Settings::from_config(&a.config) };
    let (_running, mut stop) = housekeeping::stop_signal();
    match db.engine {
        // The request budget, the auth budget, and two lockout budgets (the pair and the account).
        Engine::Postgres => assert_eq!(rows, 4),
        Engine::Sqlite => assert_eq!(rows, 0),
    }
    // Two minutes on, the per-minute budgets and the account's (one failure refills in 18 s) are full
    // again and their rows go; the address's failure for the account refills in 5 minutes: it stays.
    a.clock.advance_secs(120);
    let swept = housekeeping::sweep(&a.state, &settings, &mut stop).await.unwrap();
    let on_pg = db.engine == Engine::Postgres;
    assert_eq!(swept.rate_limits, if on_pg { 3 } else { 0 }, "{swept:?}");
    assert_eq!(db.scalar("SELECT COUNT(*) FROM rate_limits").await, if on_pg { 1 } else { 0 });
    a.clock.advance_secs(5 * 60);
    let swept = housekeeping::sweep(&b.state, &settings, &mut stop).await.unwrap();
    assert_eq!(swept.rate_limits, if on_pg { 1 } else { 0 }, "{swept:?}");
    assert_eq!(db.scalar("SELECT COUNT(*) FROM rate_limits").await, 0);
    // A purged budget is a full one: the limit starts over.
    for _ in 0..3 {
        assert_eq!(hit(&a).await, 401);
    }
}

db_test!(budgets_are_written_without_waiting_for_the_disk_and_nothing_else_is);
async fn budgets_are_written_without_waiting_for_the_disk_and_nothing_else_is(db: Db) {
    use hallpass_server::store::Store;
    if db.engine == Engine::Sqlite {
        return; // One connection kind on SQLite (and the counters are in memory there).
    }
    // The database's own default: commits wait for their WAL flush.
    let name = db.url.rsplit('/').next().unwrap().to_owned();
    let mut admin = <sqlx::PgConnection as sqlx::Connection>::connect(&db.url).await.unwrap();
    let sql = format!("ALTER DATABASE {name} SET synchronous_commit = on");
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(&mut admin).await.unwrap();
    let store = Store::open(&db.url, 2).await.unwrap();
    let setting = |mut conn: hallpass_server::store::WriteOne| async move {
        sqlx::query_scalar::<_, String>("SELECT current_setting('synchronous_commit')")
            .fetch_one(conn.conn())
            .await
            .unwrap()
    };
    assert_eq!(setting(store.write_one().await.unwrap()).await, "on", "durable writes wait for the disk");
    assert_eq!(setting(store.write_relaxed().await.unwrap()).await, "off", "the counters' do not");
    store.close().await;
}
