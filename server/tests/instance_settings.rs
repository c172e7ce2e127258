//! Instance settings through the Backend API (`GET` / `PATCH /v1/instance`), on both engines: the
//! flags as the starting values, changes checked by the flags' rules, `null` handing a setting back
//! to its flag, what `GET /v1/environment` and the handlers do after a change — on the replica that
//! made it at once, and on a second replica (another `AppState` on the same database) within the
//! settings' cache age — and changes made at once, on both replicas, none of them lost.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::{Method, StatusCode};
use common::{Db, PASSWORD, Resp, TestApp, db_test};
use hallpass_protocol::{Environment, Instance, Strategy, paths};
use hallpass_server::instance_settings::MAX_AGE;
use serde_json::{Value, json};

fn flags(db: &Db) -> hallpass_server::Config {
    let mut config = db.config();
    config.instance_name = "Acme".into();
    config.sign_in_strategies = vec!["password".into(), "email_code".into()];
    config
}

async fn instance(app: &TestApp) -> Instance {
    let res = app.backend(Method::GET, paths::INSTANCE, None).await;
    assert_eq!(res.status, StatusCode::OK, "{}", String::from_utf8_lossy(&res.body));
    serde_json::from_slice(&res.body).unwrap()
}

async fn patch(app: &TestApp, body: Value) -> Resp {
    app.backend(Method::PATCH, paths::INSTANCE, Some(body)).await
}

async fn environment(app: &TestApp) -> Environment {
    let res = app.call(Method::GET, paths::ENVIRONMENT, &[], None).await;
    assert_eq!(res.status, StatusCode::OK);
    serde_json::from_slice(&res.body).unwrap()
}

/// Polls `app`'s environment until `done` holds, for at most 5 s (the cache age is 1 s); the last
/// one read.
async fn environment_until(app: &TestApp, done: impl Fn(&Environment) -> bool) -> Environment {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let env = environment(app).await;
        if done(&env) || Instant::now() > deadline {
            return env;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

db_test!(the_flags_are_the_starting_values_and_a_patch_changes_what_is_in_force);
async fn the_flags_are_the_starting_values_and_a_patch_changes_what_is_in_force(db: Db) {
    let app = TestApp::open(flags(&db), Default::default()).await;
    let start = instance(&app).await;
    assert_eq!(start.object, "instance");
    assert!(start.id.starts_with("ins_") && start.environment_type == "development");
    assert_eq!(start.instance_name, "Acme");
    assert_eq!(start.first_factors, [Strategy::Password, Strategy::EmailCode]);
    assert!(!start.sign_up_requires_verified_email && start.overridden.is_empty());

    // Passwordless only, verified sign-ups, another name.
    let res = patch(
        &app,
        json!({"instance_name": " Acme Cloud ", "first_factors": ["email_code", "email_link", "email_code"],
               "sign_up_requires_verified_email": true}),
    )
    .await;
    assert_eq!(res.status, StatusCode::OK, "{}", String::from_utf8_lossy(&res.body));
    let changed: Instance = serde_json::from_slice(&res.body).unwrap();
    assert_eq!(changed.instance_name, "Acme Cloud");
    assert_eq!(changed.first_factors, [Strategy::EmailCode, Strategy::EmailLink]);
    assert!(changed.sign_up_requires_verified_email);
    assert_eq!(changed.overridden.len(), 3);
    assert_eq!(instance(&app).await, changed);
    let env = environment(&app).await;
    assert_eq!(env.instance_name, "Acme Cloud");
    assert_eq!(env.sign_in.first_factors, [Strategy::EmailCode, Strategy::EmailLink]);
    assert!(env.sign_up.requires_verified_email && !env.sign_up.password_required);
    assert_eq!(env.sign_up.verification_strategies, [Strategy::EmailCode, Strategy::EmailLink]);

    // The handlers follow: passwords are off, an email link is on, the mail says the new name.
    app.post(paths::SIGN_INS, json!({"identifier": "ada@example.com", "password": PASSWORD}))
        .await
        .assert_error(422, "form_param_value_invalid");
    let res = app.post(paths::SIGN_UPS, json!({"email_address": "ada@example.com"})).await;
    assert_eq!(res.status, StatusCode::OK, "{}", String::from_utf8_lossy(&res.body));
    let sign_up = res.json()["sign_up"]["id"].as_str().unwrap().to_owned();
    let prepare = paths::fill(paths::SIGN_UP_PREPARE_VERIFICATION, &[&sign_up]);
    let res = app.post(&prepare, json!({"strategy": "email_link"})).await;
    assert_eq!(res.status, StatusCode::OK, "{}", String::from_utf8_lossy(&res.body));
    let mail = app.backend(Method::GET, &format!("{}?to=ada@example.com", paths::EMAILS), None).await.json();
    assert_eq!(mail["data"][0]["from_email_name"], "Acme Cloud", "{mail}");
    assert_eq!(mail["data"][0]["data"]["app"]["name"], "Acme Cloud");

    // `null` hands a setting back to its flag; absent ones stay.
    let res = patch(&app, json!({"first_factors": null, "instance_name": null})).await;
    let back: Instance = serde_json::from_slice(&res.body).unwrap();
    assert_eq!(
        (back.instance_name.as_str(), back.first_factors.as_slice()),
        ("Acme", &start.first_factors[..])
    );
    assert!(back.sign_up_requires_verified_email);
    assert_eq!(back.overridden, ["sign_up_requires_verified_email"]);
    assert!(back.updated_at >= changed.updated_at);

    // A restart keeps what was changed.
    let app = app.restart().await;
    assert_eq!(instance(&app).await, back);
}

db_test!(changes_that_would_leave_the_instance_unusable_are_refused_and_change_nothing);
async fn changes_that_would_leave_the_instance_unusable_are_refused_and_change_nothing(db: Db) {
    let app = TestApp::open(flags(&db), Default::default()).await;
    let before = instance(&app).await;
    for (body, code, param) in [
        (json!({"first_factors": []}), "form_param_value_invalid", "first_factors"),
        (
            json!({"first_factors": ["reset_password_email_code"]}),
            "form_param_value_invalid",
            "first_factors",
        ),
        (
            json!({"first_factors": ["email_code", "reset_password_email_code"]}),
            "form_param_value_invalid",
            "first_factors",
        ),
        (json!({"first_factors": ["sms_code"]}), "form_param_value_invalid", "first_factors"),
        (json!({"instance_name": "   "}), "form_param_value_invalid", "instance_name"),
        (json!({"instance_name": "x".repeat(101)}), "form_param_value_invalid", "instance_name"),
        (
            json!({"instance_name": "Acme\r\nBcc: everyone@example.com"}),
            "form_param_value_invalid",
            "instance_name",
        ),
        (json!({"test_mode": true}), "form_param_unknown", "test_mode"),
    ] {
        let res = patch(&app, body.clone()).await;
        res.assert_error(422, code);
        // `first_factors[0]` for an unknown strategy.
        let named = res.json()["errors"][0]["meta"]["param_name"].as_str().unwrap_or_default().to_owned();
        assert!(named.starts_with(param), "{body}: {named}");
    }
    // A valid part beside an invalid one is not applied either.
    patch(&app, json!({"instance_name": "Other", "first_factors": []}))
        .await
        .assert_error(422, "form_param_value_invalid");
    assert_eq!(instance(&app).await, before);
    // The Backend API needs the secret key.
    let res = app.call(Method::PATCH, paths::INSTANCE, &[], Some(json!({"instance_name": "Mine"}))).await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    assert_eq!(instance(&app).await, before);
}

db_test!(a_change_on_one_replica_is_followed_by_the_other);
async fn a_change_on_one_replica_is_followed_by_the_other(db: Db) {
    let a = TestApp::open(flags(&db), Default::default()).await;
    let b = TestApp::open(a.config.clone(), a.clock.clone()).await;
    // B has read (and cached) the settings before the change.
    assert_eq!(environment(&b).await.sign_in.first_factors, [Strategy::Password, Strategy::EmailCode]);
    b.sign_up_as("ada@example.com").await;

    let res = patch(&a, json!({"first_factors": ["email_code"], "instance_name": "Acme Two"})).await;
    assert_eq!(res.status, StatusCode::OK, "{}", String::from_utf8_lossy(&res.body));
    let changed = Instant::now();
    let env = environment_until(&b, |e| e.sign_in.first_factors == [Strategy::EmailCode]).await;
    let took = changed.elapsed();
    assert_eq!(env.sign_in.first_factors, [Strategy::EmailCode], "B still answers the old settings");
    assert_eq!(env.instance_name, "Acme Two");
    eprintln!("replica B followed after {took:?}");

    // B's handlers follow too: a password sign-in is refused, a sign-up needs no password, and the
    // code B mails says the new name.
    b.post(paths::SIGN_INS, json!({"identifier": "ada@example.com", "password": PASSWORD}))
        .await
        .assert_error(422, "form_param_value_invalid");
    let (_, prepared) = b.start_sign_in("ada@example.com", "email_code").await;
    assert_eq!(prepared.status, StatusCode::OK, "{}", String::from_utf8_lossy(&prepared.body));
    let mail = b.backend(Method::GET, &format!("{}?to=ada@example.com", paths::EMAILS), None).await.json();
    assert_eq!(mail["data"][0]["from_email_name"], "Acme Two", "{mail}");
    let res = b.post(paths::SIGN_UPS, json!({"email_address": "bob@example.com"})).await;
    assert_eq!(res.status, StatusCode::OK, "{}", String::from_utf8_lossy(&res.body));
    assert_eq!(res.json()["sign_up"]["status"], "missing_requirements");
    assert_eq!(instance(&b).await, instance(&a).await);

    // And back, changed on B this time.
    patch(&b, json!({"first_factors": null})).await;
    let env = environment_until(&a, |e| e.sign_in.first_factors.len() == 2).await;
    assert_eq!(env.sign_in.first_factors, [Strategy::Password, Strategy::EmailCode]);
    a.sign_in_as("ada@example.com").await;
}

db_test!(changes_made_at_once_on_both_replicas_are_none_of_them_lost);
async fn changes_made_at_once_on_both_replicas_are_none_of_them_lost(db: Db) {
    let a = Arc::new(TestApp::open(flags(&db), Default::default()).await);
    let b = Arc::new(TestApp::open(a.config.clone(), a.clock.clone()).await);
    let names: Vec<String> = (0..8).map(|i| format!("Name {i}")).collect();
    let lists = [
        vec!["email_code"],
        vec!["password"],
        vec!["email_link", "password"],
        vec!["password", "email_code"],
    ];
    for round in 0..6 {
        // Four changes of the name and four of the first factors, half on each replica, all at once.
        let barrier = Arc::new(tokio::sync::Barrier::new(8));
        let tasks: Vec<_> = (0..8)
            .map(|i| {
                let app = if i % 2 == 0 { a.clone() } else { b.clone() };
                let body = if i < 4 {
                    json!({"instance_name": names[i + 4 * (round % 2)]})
                } else {
                    json!({"first_factors": lists[i - 4]})
                };
                let barrier = barrier.clone();
                tokio::spawn(async move {
                    barrier.wait().await;
                    let res = patch(&app, body.clone()).await;
                    assert_eq!(res.status, StatusCode::OK, "{}", String::from_utf8_lossy(&res.body));
                    (body, serde_json::from_slice::<Instance>(&res.body).unwrap())
                })
            })
            .collect();
        let mut answers = Vec::new();
        for t in tasks {
            answers.push(t.await.unwrap());
        }
        // Each answer holds its own change (the row as its own write left it).
        for (body, answer) in &answers {
            if let Some(name) = body["instance_name"].as_str() {
                assert_eq!(answer.instance_name, name, "round {round}");
            } else {
                let wanted: Vec<Strategy> = serde_json::from_value(body["first_factors"].clone()).unwrap();
                assert_eq!(answer.first_factors, wanted, "round {round}");
            }
        }
        // Past the settings' cache age both replicas answer the row as the last change left it: both
        // settings ended as one of the changes made to them, none lost to another.
        tokio::time::sleep(MAX_AGE + Duration::from_millis(50)).await;
        let end = instance(&a).await;
        assert!(answers.iter().any(|(b, _)| b["instance_name"] == json!(end.instance_name)), "round {round}");
        assert!(
            answers.iter().any(|(b, _)| b.get("first_factors").is_some()
                && serde_json::from_value::<Vec<Strategy>>(b["first_factors"].clone()).unwrap()
                    == end.first_factors),
            "round {round}"
        );
        assert_eq!(instance(&b).await, end, "round {round}: the replicas agree");
    }
    // Every change was applied, one after the other.
    assert_eq!(db.scalar("SELECT version FROM instance_settings").await, 6 * 8);
}

db_test!(the_environment_is_revalidated_not_cached);
async fn the_environment_is_revalidated_not_cached(db: Db) {
    let app = TestApp::open(flags(&db), Default::default()).await;
    let first = app.call(Method::GET, paths::ENVIRONMENT, &[], None).await;
    assert_eq!(first.header("cache-control"), Some("no-cache"));
    let etag = first.header("etag").unwrap().to_owned();
    let again = app.call(Method::GET, paths::ENVIRONMENT, &[("if-none-match", &etag)], None).await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    assert!(again.body.is_empty());
    patch(&app, json!({"sign_up_requires_verified_email": true})).await;
    let changed = app.call(Method::GET, paths::ENVIRONMENT, &[("if-none-match", &etag)], None).await;
    assert_eq!(changed.status, StatusCode::OK);
    assert_ne!(changed.header("etag"), Some(etag.as_str()));
    let env: Environment = serde_json::from_slice(&changed.body).unwrap();
    assert!(env.sign_up.requires_verified_email);
}
