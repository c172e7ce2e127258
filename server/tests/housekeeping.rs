//! Housekeeping on both engines, on the test clock: what a sweep deletes and what it keeps, batches
//! bounded in rows and in number, the background task beside a running server (and stopping with it),
//! and requests answered while a long sweep is under way.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::{Method, StatusCode};
use common::{Db, TestApp, db_test};
use hallpass_protocol::paths;
use hallpass_server::clock::Clock;
use hallpass_server::housekeeping::{self, Settings, Swept};
use hallpass_server::store::NewSession;
use serde_json::json;

const DAY: u64 = 24 * 3600;

fn settings(app: &TestApp, batch_size: u32, pause_ms: u64) -> Settings {
    Settings { batch_size, pause: Duration::from_millis(pause_ms), ..Settings::from_config(&app.config) }
}

async fn sweep(app: &TestApp, settings: &Settings) -> Swept {
    let (_keep_running, mut stop) = housekeeping::stop_signal();
    housekeeping::sweep(&app.state, settings, &mut stop).await.unwrap()
}

async fn sign_out(app: &TestApp, refresh_token: &hallpass_protocol::Secret) {
    let r = app.post(paths::SIGN_OUT, json!({ "refresh_token": refresh_token.expose() })).await;
    assert_eq!(r.status, StatusCode::OK, "{}", String::from_utf8_lossy(&r.body));
}

async fn session_ids(app: &TestApp, user_id: &str) -> Vec<String> {
    let sessions = app.state.store.sessions_of(user_id, false, app.clock_now()).await.unwrap();
    let mut ids: Vec<String> = sessions.into_iter().map(|s| s.id).collect();
    ids.sort();
    ids
}

db_test!(a_sweep_deletes_sessions_over_for_longer_than_the_retention_and_keeps_the_rest);
async fn a_sweep_deletes_sessions_over_for_longer_than_the_retention_and_keeps_the_rest(db: Db) {
    let app = TestApp::with(&db, |c| {
        c.session_retention_secs = DAY;
        c.session_idle_timeout_secs = 2 * DAY;
    })
    .await;
    let active = app.sign_up_as("ada@example.com").await;
    let signed_out = app.sign_in_as("ada@example.com").await;
    let revoked = app.sign_in_as("ada@example.com").await;
    let idle = app.sign_in_as("ada@example.com").await;
    let recent = app.sign_in_as("ada@example.com").await;
    sign_out(&app, &signed_out.refresh_token).await;
    let path = format!("/v1/sessions/{}/revoke", revoked.session.id);
    assert_eq!(app.backend(Method::POST, &path, None).await.status, StatusCode::OK);

    // At 47 h `active` and `recent` refresh (moving their idle deadlines); at 48 h `idle` reaches its;
    // at 49 h `recent` signs out.
    app.clock.advance_secs(47 * 3600);
    let active_token = app.refresh(active.refresh_token.expose()).await.auth().refresh_token;
    let recent_token = app.refresh(recent.refresh_token.expose()).await.auth().refresh_token;
    app.clock.advance_secs(2 * 3600);
    sign_out(&app, &recent_token).await;
    // At 72.5 h: `recent` ended 23.5 h ago, the other three more than a day ago.
    app.clock.advance_secs(23 * 3600 + 1800);

    let swept = sweep(&app, &settings(&app, 500, 0)).await;
    assert_eq!((swept.sessions, swept.refresh_tokens), (3, 3), "{swept:?}");
    // The tokens `active` and `recent` rotated at 47 h, 25.5 h ago, go too (reuse detection is over).
    assert_eq!(swept.rotated_refresh_tokens, 2, "{swept:?}");
    let mut kept = vec![active.session.id.clone(), recent.session.id.clone()];
    kept.sort();
    assert_eq!(session_ids(&app, &active.user.id).await, kept);
    // Purged: its refresh token is unknown now. Kept: it still answers with its status.
    app.refresh(signed_out.refresh_token.expose()).await.assert_error(401, "refresh_token_invalid");
    app.refresh(idle.refresh_token.expose()).await.assert_error(401, "refresh_token_invalid");
    app.refresh(recent_token.expose()).await.assert_error(401, "session_ended");
    // Rotated more than a day ago: forgotten, whatever its session.
    app.refresh(recent.refresh_token.expose()).await.assert_error(401, "refresh_token_invalid");
    assert_eq!(app.refresh(active_token.expose()).await.status, StatusCode::OK);
    // One empty batch per job (the webhook events of these sign-ins are kept for a week).
    assert_eq!(sweep(&app, &settings(&app, 500, 0)).await, Swept { batches: 10, ..Swept::default() });
}

db_test!(batches_are_bounded_in_rows_and_in_number);
async fn batches_are_bounded_in_rows_and_in_number(db: Db) {
    let app = TestApp::with(&db, |c| c.session_retention_secs = 60).await;
    let first = app.sign_up_as("ada@example.com").await;
    let mut tokens = vec![first.refresh_token];
    for _ in 0..5 {
        tokens.push(app.sign_in_as("ada@example.com").await.refresh_token);
    }
    // Six sessions with two refresh tokens each, all signed out.
    for token in &tokens {
        let next = app.refresh(token.expose()).await.auth().refresh_token;
        sign_out(&app, &next).await;
    }
    app.clock.advance_secs(61);
    let cutoff = app.clock_now() - 60_000;

    assert_eq!(app.state.store.purge_refresh_tokens(cutoff, 5).await.unwrap(), 5, "exactly one batch");
    let one_batch_each = Settings { max_batches: 1, ..settings(&app, 4, 0) };
    let swept = sweep(&app, &one_batch_each).await;
    assert_eq!((swept.refresh_tokens, swept.batches), (4, 10), "{swept:?}");
    assert!(swept.sessions <= 4, "only sessions whose tokens are all gone: {swept:?}");

    let swept = sweep(&app, &settings(&app, 4, 0)).await;
    assert_eq!(swept.refresh_tokens, 3, "{swept:?}");
    assert!(session_ids(&app, &first.user.id).await.is_empty());
    for token in &tokens {
        app.refresh(token.expose()).await.assert_error(401, "refresh_token_invalid");
    }
}

db_test!(the_server_runs_housekeeping_and_stops_it_when_it_stops);
async fn the_server_runs_housekeeping_and_stops_it_when_it_stops(db: Db) {
    let app = TestApp::with(&db, |c| {
        c.session_retention_secs = 60;
        c.housekeeping_interval_secs = 1;
    })
    .await;
    let gone = app.sign_up_as("ada@example.com").await;
    sign_out(&app, &gone.refresh_token).await;
    app.clock.advance_secs(61);

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(hallpass_server::run(listener, app.state.clone(), async {
        let _ = stopped.await;
    }));
    let deadline = Instant::now() + Duration::from_secs(20);
    while app.state.store.session(&gone.session.id).await.unwrap().is_some() {
        assert!(Instant::now() < deadline, "not purged within 20 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stop.send(()).unwrap();
    let ended =
        tokio::time::timeout(Duration::from_secs(20), server).await.expect("server and housekeeper stop");
    ended.unwrap().unwrap();
}

db_test!(requests_are_answered_while_a_long_sweep_runs);
async fn requests_are_answered_while_a_long_sweep_runs(db: Db) {
    let app = Arc::new(TestApp::with(&db, |c| c.session_retention_secs = 60).await);
    let ada = app.sign_up_as("ada@example.com").await;
    let now = app.clock.now_ms();
    for i in 0..400 {
        let session = NewSession {
            id: format!("sess_old{i}"),
            user_id: ada.user.id.clone(),
            now,
            expire_at: now + 1000,
            abandon_at: now + 1000,
            device: Default::default(),
        };
        app.state.store.create_session(&session, &format!("hash{i}")).await.unwrap();
    }
    app.clock.advance_secs(120);
    // 80 batches of 10 rows, 20 ms apart: the sweep lasts at least 1.6 s.
    let sweeping = {
        let (app, settings) = (app.clone(), settings(&app, 10, 20));
        tokio::spawn(async move { sweep(&app, &settings).await })
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    while db.scalar("SELECT COUNT(*) FROM refresh_tokens").await == 401 {
        assert!(Instant::now() < deadline, "the sweep did not start within 20 s");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // Under way: a refresh and a sign-in (both write) are answered before it ends.
    assert_eq!(app.refresh(ada.refresh_token.expose()).await.status, StatusCode::OK);
    app.sign_in_as("ada@example.com").await;
    assert!(!sweeping.is_finished(), "the requests waited for the whole sweep");
    let swept = sweeping.await.unwrap();
    assert_eq!((swept.sessions, swept.refresh_tokens), (400, 400), "{swept:?}");
    assert_eq!(session_ids(&app, &ada.user.id).await.len(), 2);
}
