//! Signing-key rotation with two replicas on one database, on a shared test clock: the new key is in
//! both JWKS documents before it signs anything, signing switches after the delay, every token stays
//! verifiable with the JWKS either replica serves, and the old key is retired only once nothing it
//! signed — session tokens and instance-key template tokens alike — can still be valid. A replica
//! that missed the rotation switches at its next lease. What is refused: a delay too short for the
//! replicas to publish first, a second rotation while one waits, and keys that would not open.

mod common;

use axum::http::{Method, StatusCode};
use common::{Db, TestApp, db_test};
use hallpass_protocol::{AuthResponse, TemplateTokenResponse, paths};
use hallpass_server::at_rest::Sealer;
use hallpass_server::clock::ManualClock;
use hallpass_server::housekeeping::{self, Settings};
use hallpass_server::key_rotation::{self, RotateError};
use hallpass_server::keyring::{LEASE_AHEAD_MS, RETIRE_SKEW_MS};
use hallpass_server::secret::KeyEncryptionKey;
use jsonwebtoken::jwk::JwkSet;
use serde_json::json;

fn kid_of(jwt: &str) -> String {
    jsonwebtoken::decode_header(jwt).unwrap().kid.unwrap()
}

/// The kids of the JWKS document `app` serves, sorted.
async fn published(app: &TestApp) -> Vec<String> {
    let jwks: JwkSet =
        serde_json::from_slice(&app.call(Method::GET, paths::JWKS, &[], None).await.body).unwrap();
    let mut kids: Vec<String> = jwks.keys.iter().filter_map(|k| k.common.key_id.clone()).collect();
    kids.sort();
    kids
}

/// Whether `jwt` verifies with the JWKS document `app` serves (see [`common::verifies_with_jwks`]).
async fn verifies_with_jwks(app: &TestApp, jwt: &str) -> bool {
    common::verifies_with_jwks(&app.call(Method::GET, paths::JWKS, &[], None).await.body, jwt)
}

fn set(clock: &ManualClock, ms: i64) {
    use hallpass_server::clock::Clock;
    clock.advance_ms(ms - clock.now_ms());
}

async fn sweep(app: &TestApp) -> housekeeping::Swept {
    let (_running, mut stop) = housekeeping::stop_signal();
    let settings = Settings { pause: std::time::Duration::ZERO, ..Settings::from_config(&app.config) };
    housekeeping::sweep(&app.state, &settings, &mut stop).await.unwrap()
}

async fn template_token(app: &TestApp, auth: &AuthResponse, name: &str) -> String {
    let path = paths::SESSION_TEMPLATE_TOKEN
        .replace("{session_id}", &auth.session.id)
        .replace("{template_name}", name);
    let res = app
        .call(Method::POST, &path, &[("authorization", &format!("Bearer {}", auth.jwt.expose()))], None)
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", String::from_utf8_lossy(&res.body));
    serde_json::from_slice::<TemplateTokenResponse>(&res.body).unwrap().jwt.expose().to_owned()
}

db_test!(a_rotation_publishes_first_switches_after_the_delay_and_retires_the_old_key_last);
async fn a_rotation_publishes_first_switches_after_the_delay_and_retires_the_old_key_last(db: Db) {
    let clock = ManualClock::default();
    let a = TestApp::open(db.config(), clock.clone()).await;
    let b = TestApp::open(db.config(), clock.clone()).await;
    let old = a.state.signing_key().kid().to_owned();
    let t0 = a.clock_now();
    let ada = a.sign_up_as("ada@example.com").await;
    // An hour-long template token signed by the instance key before the rotation.
    let created = a
        .backend(
            Method::POST,
            paths::JWT_TEMPLATES,
            Some(json!({"name": "hour", "claims": {}, "lifetime": 3600})),
        )
        .await;
    assert_eq!(created.status, StatusCode::OK);
    let hour_token = template_token(&a, &ada, "hour").await;
    assert_eq!(kid_of(&hour_token), old);

    let rotation = key_rotation::rotate(&a.state.store, None, t0, 60).await.unwrap();
    let new = rotation.kid.clone();
    assert_eq!(rotation.replaces.as_deref(), Some(old.as_str()));
    assert_eq!(rotation.active_from, t0 + 60_000);
    // One poll later both replicas publish it, and the same document.
    a.state.keys.reload().await.unwrap();
    b.state.keys.reload().await.unwrap();
    let mut both = vec![old.clone(), new.clone()];
    both.sort();
    assert_eq!(published(&a).await, both);
    assert_eq!(a.state.keys.jwks(), b.state.keys.jwks());

    // Until its time, the old key signs, on both.
    clock.advance_secs(59);
    let r1 = b.refresh(ada.refresh_token.expose()).await.auth();
    assert_eq!(kid_of(r1.jwt.expose()), old);
    clock.advance_secs(1);
    let r2 = a.refresh(r1.refresh_token.expose()).await.auth();
    let r3 = b.refresh(r2.refresh_token.expose()).await.auth();
    assert_eq!((kid_of(r2.jwt.expose()), kid_of(r3.jwt.expose())), (new.clone(), new.clone()));
    for jwt in [ada.jwt.expose(), r1.jwt.expose(), r2.jwt.expose(), r3.jwt.expose(), &hour_token] {
        assert!(verifies_with_jwks(&a, jwt).await && verifies_with_jwks(&b, jwt).await);
    }
    // The session tokens of either key are accepted by either replica while they live.
    assert_eq!(b.get_bearer(paths::ME, r1.jwt.expose()).await.status, StatusCode::OK);
    assert_eq!(a.get_bearer(paths::ME, r1.jwt.expose()).await.status, StatusCode::OK);
    assert_eq!(a.get_bearer(paths::ME, r3.jwt.expose()).await.status, StatusCode::OK);

    // The old key's session tokens are long expired after ten minutes, but the hour-long template
    // token is not: the key stays published until that token's expiry plus the skew.
    set(&clock, t0 + 20 * 60 * 1000);
    assert_eq!(sweep(&a).await.signing_keys_retired, 0);
    let hour_exp = t0 / 1000 * 1000 + 3_600_000;
    set(&clock, hour_exp + LEASE_AHEAD_MS + RETIRE_SKEW_MS - 1000);
    assert_eq!(sweep(&b).await.signing_keys_retired, 0);
    assert!(verifies_with_jwks(&a, &hour_token).await);
    set(&clock, hour_exp + LEASE_AHEAD_MS + RETIRE_SKEW_MS + 1000);
    assert_eq!(sweep(&b).await.signing_keys_retired, 1);
    assert_eq!(sweep(&a).await.signing_keys_retired, 0, "once");
    a.state.keys.reload().await.unwrap();
    b.state.keys.reload().await.unwrap();
    assert_eq!(published(&a).await, vec![new.clone()]);
    assert_eq!(published(&b).await, vec![new.clone()]);
    let r4 = a.refresh(r3.refresh_token.expose()).await.auth();
    assert_eq!(kid_of(r4.jwt.expose()), new);
    // The retired key's private half is gone from the database.
    let erased = db
        .scalar("SELECT COUNT(*) FROM signing_keys WHERE retired_at IS NOT NULL AND private_key = ''")
        .await;
    assert_eq!(erased, 1);
}

db_test!(a_replica_that_missed_the_rotation_switches_at_its_next_lease);
async fn a_replica_that_missed_the_rotation_switches_at_its_next_lease(db: Db) {
    let clock = ManualClock::default();
    let a = TestApp::open(db.config(), clock.clone()).await;
    let old = a.state.signing_key().kid().to_owned();
    let ada = a.sign_up_as("ada@example.com").await;
    // `b` starts after the first lease: it knows the old key and its lease, then never polls.
    let b = TestApp::open(db.config(), clock.clone()).await;
    let t0 = a.clock_now();
    let new = key_rotation::rotate(&a.state.store, None, t0, 10).await.unwrap().kid;
    a.state.keys.reload().await.unwrap();

    // Past the switch, `b` still signs with the old key within the lease it knows — a key `a` still
    // publishes — and nothing it signs outlives that lease.
    clock.advance_secs(11);
    let r1 = b.refresh(ada.refresh_token.expose()).await.auth();
    assert_eq!(kid_of(r1.jwt.expose()), old);
    assert!(verifies_with_jwks(&a, r1.jwt.expose()).await);
    // Once a token would outlive it, the database refuses to extend a replaced key's lease: `b`
    // reloads and signs with the new key, and publishes it.
    clock.advance_secs(300);
    let r2 = b.refresh(r1.refresh_token.expose()).await.auth();
    assert_eq!(kid_of(r2.jwt.expose()), new);
    assert!(published(&b).await.contains(&new));
    assert!(verifies_with_jwks(&a, r2.jwt.expose()).await);
}

db_test!(rotations_that_could_break_verification_are_refused);
async fn rotations_that_could_break_verification_are_refused(db: Db) {
    let kek = || -> KeyEncryptionKey { hallpass_server::secret::b64url(&[9u8; 32]).parse().unwrap() };
    let app = TestApp::with(&db, |c| c.key_encryption_key = Some(kek())).await;
    let store = &app.state.store;
    let now = app.clock_now();
    let sealer = Sealer::new(kek().expose()).unwrap();
    let other = Sealer::new(&hallpass_server::secret::b64url(&[8u8; 32])).unwrap();

    let short = key_rotation::rotate(store, Some(&sealer), now, 9).await;
    assert!(matches!(short, Err(RotateError::DelayTooShort)), "{short:?}");
    // The keys are sealed: without the key, or with another one, nothing is added.
    assert!(matches!(key_rotation::rotate(store, None, now, 60).await, Err(RotateError::Sealed(_))));
    assert!(matches!(key_rotation::rotate(store, Some(&other), now, 60).await, Err(RotateError::Sealed(_))));
    assert_eq!(store.signing_keys().await.unwrap().len(), 1);

    let first = key_rotation::rotate(store, Some(&sealer), now, 60).await.unwrap();
    let again = key_rotation::rotate(store, Some(&sealer), now + 1000, 60).await;
    match again {
        Err(RotateError::Pending { kid, at }) => {
            assert_eq!((kid, at), (first.kid.clone(), first.active_from))
        }
        other => panic!("{other:?}"),
    }
    // The new key is stored sealed, and the replica loads it.
    let stored = store.signing_keys().await.unwrap();
    assert!(stored.iter().all(|k| k.private_key.starts_with("sealed:v1:")));
    app.state.keys.reload().await.unwrap();
    assert!(published(&app).await.contains(&first.kid));
    // Once it signs, the next rotation may come.
    assert!(key_rotation::rotate(store, Some(&sealer), first.active_from, 60).await.is_ok());
}

db_test!(a_key_from_before_leases_keeps_what_it_may_have_signed_verifiable);
async fn a_key_from_before_leases_keeps_what_it_may_have_signed_verifiable(db: Db) {
    let app = TestApp::new(&db).await;
    let created = app
        .backend(
            Method::POST,
            paths::JWT_TEMPLATES,
            Some(json!({"name": "day", "claims": {}, "lifetime": 86_400})),
        )
        .await;
    assert_eq!(created.status, StatusCode::OK);
    // What a database written before leases looks like.
    db.scalar("UPDATE signing_keys SET signed_until = NULL RETURNING CAST(1 AS BIGINT)").await;
    let app = app.restart().await;
    let lease = db.scalar("SELECT signed_until FROM signing_keys").await;
    assert_eq!(lease, app.clock_now() + 86_400_000, "the longest lifetime it may have signed for, from now");
}
