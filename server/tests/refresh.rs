//! Refresh-token rotation: the grace window, reuse detection, concurrency and session lifetimes.

mod common;

use axum::http::StatusCode;
use common::{Db, TestApp, db_test};
use hallpass_protocol::paths;

db_test!(each_refresh_rotates_and_issues_a_fresh_jwt);
async fn each_refresh_rotates_and_issues_a_fresh_jwt(db: Db) {
    let app = TestApp::new(&db).await;
    let auth = app.sign_up_as("ada@example.com").await;
    app.clock.advance_secs(30);
    let r1 = app.refresh(auth.refresh_token.expose()).await.auth();
    assert_ne!(r1.refresh_token, auth.refresh_token);
    assert_ne!(r1.jwt, auth.jwt);
    assert_eq!(r1.session.id, auth.session.id);
    assert_eq!(r1.user.id, auth.user.id);
    assert_eq!(r1.session.last_active_at, app.clock_now());
    let claims = app.verify(r1.jwt.expose());
    assert_eq!(claims.sid, auth.session.id);
    assert_eq!(claims.iat * 1000, app.clock_now().div_euclid(1000) * 1000);
    let r2 = app.refresh(r1.refresh_token.expose()).await.auth();
    assert_ne!(r2.refresh_token, r1.refresh_token);
}

db_test!(garbage_and_unknown_tokens_are_invalid);
async fn garbage_and_unknown_tokens_are_invalid(db: Db) {
    let app = TestApp::new(&db).await;
    for bad in ["", "garbage", &"A".repeat(43), &"!".repeat(43), &"A".repeat(10_000)] {
        app.refresh(bad).await.assert_error(401, "refresh_token_invalid");
    }
    let unknown = hallpass_server::refresh::generate().unwrap();
    app.refresh(unknown.expose()).await.assert_error(401, "refresh_token_invalid");
}

db_test!(a_retry_inside_the_grace_window_gets_the_same_successor);
async fn a_retry_inside_the_grace_window_gets_the_same_successor(db: Db) {
    let app = TestApp::new(&db).await;
    let auth = app.sign_up_as("ada@example.com").await;
    let first = app.refresh(auth.refresh_token.expose()).await.auth();
    app.clock.advance_secs(9); // within the default 10 s window
    let retry = app.refresh(auth.refresh_token.expose()).await.auth();
    assert_eq!(retry.refresh_token, first.refresh_token, "the lost response's successor comes back");
    assert_eq!(retry.session.status, hallpass_protocol::SessionStatus::Active);
    // The successor still works (once).
    let next = app.refresh(first.refresh_token.expose()).await.auth();
    // Now the successor is used: the original token is reuse, and the session dies.
    app.refresh(auth.refresh_token.expose()).await.assert_error(401, "refresh_token_reused");
    app.refresh(next.refresh_token.expose()).await.assert_error(401, "session_revoked");
    app.get_bearer(paths::ME, next.jwt.expose()).await.assert_error(401, "session_revoked");
}

db_test!(replay_after_the_window_revokes_the_session_and_every_token_of_it);
async fn replay_after_the_window_revokes_the_session_and_every_token_of_it(db: Db) {
    let app = TestApp::new(&db).await;
    let auth = app.sign_up_as("ada@example.com").await;
    let other = app.sign_in_as("ada@example.com").await;
    let first = app.refresh(auth.refresh_token.expose()).await.auth();
    app.clock.advance_secs(11);
    app.refresh(auth.refresh_token.expose()).await.assert_error(401, "refresh_token_reused");
    // The unused successor is dead too, and so is the session token.
    app.refresh(first.refresh_token.expose()).await.assert_error(401, "session_revoked");
    app.refresh(auth.refresh_token.expose()).await.assert_error(401, "session_revoked");
    app.get_bearer(paths::ME, first.jwt.expose()).await.assert_error(401, "session_revoked");
    // Another session of the same user is a different family: unaffected.
    assert_eq!(app.refresh(other.refresh_token.expose()).await.status, StatusCode::OK);
}

db_test!(concurrent_refreshes_with_the_same_token_both_succeed_with_the_same_successor);
async fn concurrent_refreshes_with_the_same_token_both_succeed_with_the_same_successor(db: Db) {
    let app = std::sync::Arc::new(TestApp::new(&db).await);
    let mut token = app.sign_up_as("ada@example.com").await.refresh_token;
    for round in 0..10 {
        let (a, b) = {
            let (app1, app2) = (app.clone(), app.clone());
            let (t1, t2) = (token.clone(), token.clone());
            let h1 = tokio::spawn(async move { app1.refresh(t1.expose()).await });
            let h2 = tokio::spawn(async move { app2.refresh(t2.expose()).await });
            (h1.await.unwrap(), h2.await.unwrap())
        };
        let (a, b) = (a.auth(), b.auth());
        assert_eq!(a.refresh_token, b.refresh_token, "round {round}");
        assert_ne!(a.refresh_token, token);
        token = a.refresh_token;
    }
    // Four at once, too.
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let (app, t) = (app.clone(), token.clone());
            tokio::spawn(async move { app.refresh(t.expose()).await })
        })
        .collect();
    let mut successors = Vec::new();
    for h in handles {
        successors.push(h.await.unwrap().auth().refresh_token);
    }
    assert!(successors.windows(2).all(|w| w[0] == w[1]));
    assert_eq!(app.refresh(successors[0].expose()).await.status, StatusCode::OK);
}

db_test!(idle_timeout_ends_a_session_and_each_refresh_extends_it);
async fn idle_timeout_ends_a_session_and_each_refresh_extends_it(db: Db) {
    let app = TestApp::with(&db, |c| {
        c.session_idle_timeout_secs = 100;
        c.session_lifetime_secs = 1000;
    })
    .await;
    let auth = app.sign_up_as("ada@example.com").await;
    assert_eq!(auth.session.expire_at, auth.session.created_at + 100_000);
    app.clock.advance_secs(90);
    let r = app.refresh(auth.refresh_token.expose()).await.auth();
    assert_eq!(r.session.expire_at, app.clock_now() + 100_000, "refresh extends the idle deadline");
    app.clock.advance_secs(90);
    let r = app.refresh(r.refresh_token.expose()).await.auth();
    app.clock.advance_secs(101);
    app.refresh(r.refresh_token.expose()).await.assert_error(401, "session_expired");
    app.refresh(r.refresh_token.expose()).await.assert_error(401, "session_expired");
}

db_test!(absolute_lifetime_ends_a_session_however_active);
async fn absolute_lifetime_ends_a_session_however_active(db: Db) {
    let app = TestApp::with(&db, |c| {
        c.session_idle_timeout_secs = 100;
        c.session_lifetime_secs = 250;
    })
    .await;
    let auth = app.sign_up_as("ada@example.com").await;
    assert_eq!(auth.session.abandon_at, auth.session.created_at + 250_000);
    let mut token = auth.refresh_token;
    for _ in 0..2 {
        app.clock.advance_secs(80);
        token = app.refresh(token.expose()).await.auth().refresh_token;
    }
    app.clock.advance_secs(80); // 240 s: still inside
    let last = app.refresh(token.expose()).await.auth();
    assert_eq!(
        last.session.expire_at, last.session.abandon_at,
        "idle deadline is capped by the absolute one"
    );
    app.clock.advance_secs(10);
    app.refresh(last.refresh_token.expose()).await.assert_error(401, "session_expired");
    // An outstanding session token of an expired session is refused too.
    app.get_bearer(paths::ME, last.jwt.expose()).await.assert_error(401, "session_expired");
}

db_test!(grace_window_and_token_lifetime_are_configurable);
async fn grace_window_and_token_lifetime_are_configurable(db: Db) {
    let app = TestApp::with(&db, |c| {
        c.refresh_grace_secs = 2;
        c.token_lifetime_secs = 300;
    })
    .await;
    let auth = app.sign_up_as("ada@example.com").await;
    assert_eq!(auth.expires_in, 300 - u32::from(app.clock_now() % 1000 != 0));
    app.refresh(auth.refresh_token.expose()).await.auth();
    app.clock.advance_secs(3);
    app.refresh(auth.refresh_token.expose()).await.assert_error(401, "refresh_token_reused");
}

db_test!(rotated_tokens_are_remembered_for_a_day_then_forgotten);
async fn rotated_tokens_are_remembered_for_a_day_then_forgotten(db: Db) {
    let app = TestApp::new(&db).await;
    let t0 = app.sign_up_as("ada@example.com").await.refresh_token;
    let t1 = app.refresh(t0.expose()).await.auth().refresh_token;
    app.clock.advance_secs(23 * 3600);
    let t2 = app.refresh(t1.expose()).await.auth().refresh_token;
    app.clock.advance_secs(2 * 3600);
    // This rotation prunes t0 (rotated 25 h ago) but keeps t1 (rotated 2 h ago).
    let t3 = app.refresh(t2.expose()).await.auth().refresh_token;
    app.refresh(t0.expose()).await.assert_error(401, "refresh_token_invalid");
    assert_eq!(
        app.refresh(t3.expose()).await.status,
        StatusCode::OK,
        "forgetting t0 did not touch the session"
    );
    app.refresh(t1.expose()).await.assert_error(401, "refresh_token_reused");
    app.refresh(t0.expose()).await.assert_error(401, "refresh_token_invalid");
}

db_test!(many_families_refreshing_at_once_each_rotate_exactly_once);
async fn many_families_refreshing_at_once_each_rotate_exactly_once(db: Db) {
    // Rotations arriving together are committed together (group commit): 24 families, each token sent
    // three times at once, all in flight together.
    let app = std::sync::Arc::new(TestApp::new(&db).await);
    let first = app.sign_up_as("ada@example.com").await;
    let mut families = vec![(first.session.id, first.refresh_token)];
    for _ in 1..24 {
        let auth = app.sign_in_as("ada@example.com").await;
        families.push((auth.session.id, auth.refresh_token));
    }
    for round in 0..3 {
        let sends: Vec<_> = families
            .iter()
            .flat_map(|(_, token)| std::iter::repeat_n(token.clone(), 3))
            .map(|token| {
                let app = app.clone();
                tokio::spawn(async move { app.refresh(token.expose()).await })
            })
            .collect();
        let mut answers = Vec::new();
        for s in sends {
            answers.push(s.await.unwrap().auth());
        }
        for (i, (session_id, token)) in families.iter_mut().enumerate() {
            let mine = &answers[i * 3..i * 3 + 3];
            assert!(mine.iter().all(|a| &a.session.id == session_id), "round {round}: answers in order");
            assert!(
                mine.iter().all(|a| a.refresh_token == mine[0].refresh_token),
                "round {round}: one successor"
            );
            assert_ne!(&mine[0].refresh_token, token);
            *token = mine[0].refresh_token.clone();
        }
    }
    // Three rotations per family, no more: the first token and three successors, one of them live.
    for (session_id, token) in &families {
        let sql = format!("SELECT COUNT(*) FROM refresh_tokens WHERE session_id = '{session_id}'");
        let total: i64 = db.scalar(Box::leak(sql.into_boxed_str())).await;
        assert_eq!(total, 4);
        assert_eq!(app.refresh(token.expose()).await.status, StatusCode::OK);
    }
}

db_test!(a_rotation_that_fails_fails_alone_and_its_group_is_committed_without_it);
async fn a_rotation_that_fails_fails_alone_and_its_group_is_committed_without_it(db: Db) {
    use hallpass_server::refresh;
    use hallpass_server::store::{RefreshOutcome, RefreshPolicy, Rotation};
    let app = TestApp::new(&db).await;
    let store = app.state.store.clone();
    let mut tokens = Vec::new();
    let first = app.sign_up_as("ada@example.com").await;
    tokens.push(first.refresh_token.clone());
    for _ in 0..8 {
        tokens.push(app.sign_in_as("ada@example.com").await.refresh_token);
    }
    let now = app.clock_now();
    let policy = RefreshPolicy { grace_ms: 10_000, idle_ms: 3_600_000 };
    let rotation = |token: &hallpass_protocol::Secret, successor: String| Rotation {
        presented: refresh::hash(token),
        successor,
        now,
        policy,
    };
    // Hold the writer (SQLite) or the first family's lock (PostgreSQL), so that the rotations submitted
    // meanwhile queue and are committed as one group once it is released.
    let mut held = store.write_tx().await.unwrap();
    if db.engine == common::db::Engine::Postgres {
        let sql = "SELECT id FROM sessions WHERE id = $1 FOR UPDATE";
        sqlx::query(sql).bind(&first.session.id).execute(held.conn()).await.unwrap();
    }
    let blocked = {
        let (store, r) = (store.clone(), rotation(&tokens[0], "a".repeat(64)));
        tokio::spawn(async move { store.rotate_refresh_token(r).await })
    };
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    // One of the group is broken: its successor is another family's live token (the insert fails).
    let broken = rotation(&tokens[1], refresh::hash(&tokens[2]));
    let mut submitted = vec![{
        let store = store.clone();
        tokio::spawn(async move { store.rotate_refresh_token(broken).await })
    }];
    for token in &tokens[2..] {
        let (store, r) = (store.clone(), rotation(token, refresh::hash(&refresh::generate().unwrap())));
        submitted.push(tokio::spawn(async move { store.rotate_refresh_token(r).await }));
    }
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    held.commit().await.unwrap();
    assert!(matches!(blocked.await.unwrap(), Ok(RefreshOutcome::Rotated(..))));
    let mut outcomes = submitted.into_iter();
    let broken = outcomes.next().unwrap().await.unwrap();
    assert!(broken.is_err(), "{broken:?}");
    for outcome in outcomes {
        assert!(matches!(outcome.await.unwrap(), Ok(RefreshOutcome::Rotated(..))));
    }
    // Nothing of the broken rotation was kept: its token is still live.
    assert_eq!(app.refresh(tokens[1].expose()).await.status, StatusCode::OK);
}
