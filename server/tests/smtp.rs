//! The mail path end to end, on both engines: emails written on the request's transaction, sent by the
//! mail worker through a real SMTP server on loopback (`aiosmtpd`, `tests/common/smtp.rs`), the code
//! read back from what that server received; retries while it is down, permanent refusals, failures
//! visible in the Backend API, nothing lost across a restart.

mod common;

use axum::http::Method;
use common::smtp::{SmtpServer, free_port};
use common::{Db, TestApp, db_test};
use hallpass_protocol::paths;
use hallpass_server::email::{schedule, worker};
use serde_json::{Value, json};

async fn app_sending_to(db: &Db, url: &str) -> TestApp {
    let url = url.to_owned();
    TestApp::with(db, move |c| {
        c.smtp_url = Some(hallpass_protocol::Secret::new(url));
        c.email_from = "auth@hallpass.test".into();
        c.instance_name = "Acme".into();
    })
    .await
}

async fn emails(app: &TestApp, query: &str) -> Vec<Value> {
    let res = app.backend(Method::GET, &format!("{}?{query}", paths::EMAILS), None).await;
    assert_eq!(res.status, 200, "{}", String::from_utf8_lossy(&res.body));
    res.json()["data"].as_array().unwrap().clone()
}

db_test!(a_sign_in_code_travels_through_a_real_smtp_server);
async fn a_sign_in_code_travels_through_a_real_smtp_server(db: Db) {
    let smtp = SmtpServer::start();
    let app = app_sending_to(&db, &smtp.url()).await;
    let user = app.sign_up_as("ada@example.com").await.user;
    let (id, _) = app.start_sign_in("ada@example.com", "email_code").await;
    let queued = &emails(&app, "to=ada@example.com").await[0];
    assert_eq!(
        (queued["status"].as_str(), queued["delivered_by_hallpass"].as_bool()),
        (Some("queued"), Some(true))
    );
    assert_eq!(queued["data"]["otp_code"].as_str().map(str::len), Some(6));

    assert_eq!(worker::tick(&app.state).await.unwrap(), 1);
    let message = smtp.wait_for("ada@example.com", 1).await;
    assert!(message.subject().ends_with("is your Acme sign-in code"), "{}", message.subject());
    assert!(message.data.contains("From: Acme <auth@hallpass.test>"), "{}", message.data);
    assert!(message.data.contains("text/plain") && message.data.contains("text/html"));
    let code = message.code();
    assert!(message.text().contains(&format!("    {code}")));

    let sent = &emails(&app, "status=sent").await[0];
    assert_eq!(sent["attempts"], 1);
    assert!(sent["sent_at"].is_i64());
    let res =
        app.post(&paths::fill(paths::SIGN_IN_ATTEMPT_FIRST_FACTOR, &[&id]), json!({"code": code})).await;
    assert_eq!(res.auth().user.id, user.id);
    assert_eq!(worker::tick(&app.state).await.unwrap(), 0, "sent once");
}

db_test!(sends_are_retried_while_the_server_is_down_and_survive_a_restart);
async fn sends_are_retried_while_the_server_is_down_and_survive_a_restart(db: Db) {
    let port = free_port();
    let app = app_sending_to(&db, &format!("smtp://127.0.0.1:{port}")).await;
    app.sign_up_as("bo@example.com").await;
    app.start_sign_in("bo@example.com", "email_link").await;
    // Nothing listens: the first try fails, visibly, and is due again later.
    assert_eq!(worker::tick(&app.state).await.unwrap(), 1);
    let waiting = &emails(&app, "status=queued").await[0];
    assert_eq!(waiting["attempts"], 1);
    assert!(!waiting["last_error"].as_str().unwrap().is_empty());
    assert!(waiting["next_attempt_at"].as_i64().unwrap() > app.clock_now());
    assert_eq!(worker::tick(&app.state).await.unwrap(), 0, "not due yet");

    // A restart loses nothing; the server comes up; the retry delivers.
    let app = app.restart().await;
    let smtp = SmtpServer::start_on(port);
    app.clock.advance_ms(schedule::max_delay_ms(1));
    assert_eq!(worker::tick(&app.state).await.unwrap(), 1);
    let message = smtp.wait_for("bo@example.com", 1).await;
    assert!(message.link_token().len() == 43, "{}", message.text());
    let sent = &emails(&app, "to=bo@example.com").await[0];
    assert_eq!((sent["status"].as_str(), sent["attempts"].as_i64()), (Some("sent"), Some(2)));
    assert_eq!(sent["last_error"], waiting["last_error"], "the last failure stays on record");
}

db_test!(permanent_refusals_and_exhausted_retries_fail_visibly_and_can_be_retried);
async fn permanent_refusals_and_exhausted_retries_fail_visibly_and_can_be_retried(db: Db) {
    let smtp = SmtpServer::start();
    let app = app_sending_to(&db, &smtp.url()).await;
    let admin = app.sign_up_as("owner@example.com").await;
    let jwt = admin.jwt.expose().to_owned();
    let org = app
        .with_token(Method::POST, paths::CLIENT_ORGANIZATIONS, &jwt, Some(json!({"name": "Acme"})))
        .await
        .json();
    let invitations = paths::fill(paths::CLIENT_ORGANIZATION_INVITATIONS, &[org["id"].as_str().unwrap()]);
    let invite = |to: &'static str| {
        app.with_token(Method::POST, &invitations, &jwt, Some(json!({"email_address": to})))
    };
    // The server refuses this recipient for good (550): one try, then failed.
    assert_eq!(invite("reject-me@example.com").await.status, 200);
    assert_eq!(invite("cy@example.com").await.status, 200);
    assert_eq!(worker::tick(&app.state).await.unwrap(), 2);
    let invited = smtp.wait_for("cy@example.com", 1).await;
    assert!(invited.subject().contains("invited you to join Acme"), "{}", invited.subject());
    let failed = emails(&app, "status=failed").await;
    assert_eq!(failed.len(), 1);
    assert_eq!(
        (failed[0]["to_email_address"].as_str(), failed[0]["attempts"].as_i64()),
        (Some("reject-me@example.com"), Some(1))
    );
    assert!(failed[0]["last_error"].as_str().unwrap().contains("550"), "{}", failed[0]["last_error"]);

    // Retrying a failed one queues it again; the server still refuses it.
    let id = failed[0]["id"].as_str().unwrap();
    let retried = app.backend(Method::POST, &paths::fill(paths::EMAIL_RETRY, &[id]), None).await.json();
    assert_eq!((retried["status"].as_str(), retried["attempts"].as_i64()), (Some("queued"), Some(0)));
    assert_eq!(worker::tick(&app.state).await.unwrap(), 1);
    assert_eq!(emails(&app, "status=failed").await.len(), 1);
    let sent_here = smtp.messages().len();

    // A server that never answers: seven tries on the schedule, then failed.
    drop(smtp);
    app.sign_up_as("dee@example.com").await;
    app.start_sign_in("dee@example.com", "email_code").await;
    for attempt in 1..=schedule::MAX_ATTEMPTS {
        assert_eq!(worker::tick(&app.state).await.unwrap(), 1, "try {attempt}");
        app.clock.advance_ms(schedule::max_delay_ms(attempt) + 1);
    }
    assert_eq!(worker::tick(&app.state).await.unwrap(), 0, "given up");
    let failed = emails(&app, "status=failed&to=dee@example.com").await;
    assert_eq!(failed[0]["attempts"], schedule::MAX_ATTEMPTS);
    assert!(sent_here >= 1);
    let missing = app.backend(Method::GET, &paths::fill(paths::EMAIL, &["ema_nope"]), None).await;
    missing.assert_error(404, "resource_not_found");
}
