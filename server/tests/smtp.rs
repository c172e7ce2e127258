//! The mail path end to end, on both engines: emails written on the request's transaction, sent by the
//! mail worker through a real SMTP server on loopback (`aiosmtpd`, `tests/common/smtp.rs`), the code
//! read back from what that server received; retries while it is down, permanent refusals, failures
//! visible in the Backend API, nothing lost across a restart. Then TLS and credentials, on SQLite
//! only (they do not depend on the engine): STARTTLS and TLS from the start, a relay whose certificate
//! comes from a private CA (`--smtp-ca-file`; the certificates are made per test,
//! `tests/common/certs.rs`), a wrong password, a certificate not trusted, and a server without
//! STARTTLS: what the SMTP server saw (TLS, who authenticated) is asserted, not assumed.

mod common;

use axum::http::Method;
use common::certs::TestCerts;
use common::db::Engine;
use common::smtp::{AuthTry, Options, SmtpServer, free_port};
use common::{Db, TestApp, db_test};
use hallpass_protocol::{Secret, paths};
use hallpass_server::Config;
use hallpass_server::email::transport::Security;
use hallpass_server::email::{schedule, worker};
use serde_json::{Value, json};

async fn app_with(db: &Db, edit: impl FnOnce(&mut Config)) -> TestApp {
    TestApp::with(db, move |c| {
        c.email_from = "auth@hallpass.test".into();
        c.instance_name = "Acme".into();
        edit(c);
    })
    .await
}

async fn app_sending_to(db: &Db, url: &str) -> TestApp {
    let url = url.to_owned();
    app_with(db, move |c| c.smtp_url = Some(Secret::new(url))).await
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

/// The relay's account. The password has what a URL must encode (`@`, `:`, `/`, `%`, a space).
const USER: &str = "mailer@acme.test";
const PASSWORD: &str = "correct p@ss:w/rd 100%";

/// `smtp[s]://USER:PASSWORD@host:port…`, the credentials percent-encoded as an operator writes them.
fn url_with_credentials(base: &str, password: &str) -> String {
    let mut url = url::Url::parse(base).unwrap();
    url.set_username(USER).unwrap();
    url.set_password(Some(password)).unwrap();
    url.to_string()
}

/// Signs up `to` and asks for a sign-in code: one email queued.
async fn queue_code(app: &TestApp, to: &str) {
    app.sign_up_as(to).await;
    app.start_sign_in(to, "email_code").await;
}

fn sqlite<F, Fut>(test: F)
where
    F: FnOnce(Db) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    common::db::run(Engine::Sqlite, test);
}

/// STARTTLS (required) to `localhost`, credentials as `--smtp-username`/`--smtp-password`, the
/// relay's certificate signed by a private CA given as `--smtp-ca-file`: the code arrives, over TLS,
/// from the account.
#[test]
fn starttls_with_credentials_and_a_private_ca_delivers_over_tls() {
    sqlite(|db| async move {
        let certs = TestCerts::new();
        let port = free_port();
        let smtp = SmtpServer::start_with(
            port,
            Options { starttls: Some(&certs), auth: Some((USER, PASSWORD)), ..Options::default() },
        );
        let ca = certs.ca.clone();
        let app = app_with(&db, move |c| {
            c.smtp_host = Some("localhost".into());
            c.smtp_port = Some(port);
            c.smtp_tls = "starttls".into();
            c.smtp_username = Some(USER.into());
            c.smtp_password = Some(Secret::new(PASSWORD));
            c.smtp_ca_file = Some(ca);
        })
        .await;
        let mailer = app.state.mailer.as_ref().unwrap();
        assert_eq!((mailer.security, mailer.extra_roots), (Security::StartTls, 1));

        queue_code(&app, "ada@example.com").await;
        assert_eq!(worker::tick(&app.state).await.unwrap(), 1);
        let message = smtp.wait_for("ada@example.com", 1).await;
        let tls = message.tls.clone();
        assert!(tls.as_deref().is_some_and(|v| v.starts_with("TLSv1.")), "over TLS: {tls:?}");
        assert_eq!(message.user.as_deref(), Some(USER));
        assert_eq!(smtp.auth_tries(), [AuthTry { user: USER.into(), ok: true, tls }]);
        let sent = &emails(&app, "status=sent").await[0];
        assert_eq!(sent["attempts"], 1);
        assert_eq!(sent["data"]["otp_code"].as_str(), Some(message.code().as_str()));
    });
}

/// TLS from the first byte (`smtps://` to `127.0.0.1`, the certificate's IP address), credentials in
/// the URL.
#[test]
fn implicit_tls_with_credentials_in_the_url_delivers() {
    sqlite(|db| async move {
        let certs = TestCerts::new();
        let port = free_port();
        let smtp = SmtpServer::start_with(
            port,
            Options { tls: Some(&certs), auth: Some((USER, PASSWORD)), ..Options::default() },
        );
        let url = url_with_credentials(&format!("smtps://127.0.0.1:{port}"), PASSWORD);
        let ca = certs.ca.clone();
        let app = app_with(&db, move |c| {
            c.smtp_url = Some(Secret::new(url));
            c.smtp_ca_file = Some(ca);
        })
        .await;
        assert_eq!(app.state.mailer.as_ref().unwrap().security, Security::Tls);

        queue_code(&app, "bo@example.com").await;
        assert_eq!(worker::tick(&app.state).await.unwrap(), 1);
        let message = smtp.wait_for("bo@example.com", 1).await;
        assert!(message.tls.as_deref().is_some_and(|v| v.starts_with("TLSv1.")), "{:?}", message.tls);
        assert_eq!(message.user.as_deref(), Some(USER));
        assert_eq!(message.code().len(), 6);
        assert_eq!(emails(&app, "status=sent").await.len(), 1);
    });
}

/// A wrong password: the relay's 535 is a permanent refusal. One try, `failed` with the refusal in
/// the Backend API, not tried again; nothing was delivered.
#[test]
fn a_wrong_password_fails_the_email_at_once_with_the_refusal_visible() {
    sqlite(|db| async move {
        let certs = TestCerts::new();
        let port = free_port();
        let smtp = SmtpServer::start_with(
            port,
            Options { starttls: Some(&certs), auth: Some((USER, PASSWORD)), ..Options::default() },
        );
        let url = url_with_credentials(&format!("smtp://localhost:{port}?tls=required"), "not the password");
        let ca = certs.ca.clone();
        let app = app_with(&db, move |c| {
            c.smtp_url = Some(Secret::new(url));
            c.smtp_ca_file = Some(ca);
        })
        .await;
        queue_code(&app, "cy@example.com").await;
        assert_eq!(worker::tick(&app.state).await.unwrap(), 1);

        let failed = emails(&app, "status=failed").await;
        assert_eq!(failed.len(), 1, "{failed:?}");
        assert_eq!(
            (failed[0]["to_email_address"].as_str(), failed[0]["attempts"].as_i64()),
            (Some("cy@example.com"), Some(1))
        );
        let error = failed[0]["last_error"].as_str().unwrap();
        assert!(error.contains("535"), "the relay's refusal: {error}");
        assert!(!error.contains("not the password"), "{error}");
        app.clock.advance_ms(schedule::max_delay_ms(1) + 1);
        assert_eq!(worker::tick(&app.state).await.unwrap(), 0, "not tried again");

        smtp.sync().await;
        assert!(smtp.messages().is_empty());
        let tries = smtp.auth_tries();
        assert_eq!(tries.len(), 1, "{tries:?}");
        assert!(!tries[0].ok && tries[0].tls.is_some(), "refused, over TLS: {tries:?}");
    });
}

/// The relay's certificate is from a CA the server was not told about: the handshake fails before
/// anything is sent (no AUTH, no message). That is not the recipient's fault: the email stays queued
/// for a retry, its error visible; once the operator gives the CA file, the retry delivers.
#[test]
fn an_untrusted_certificate_sends_nothing_and_the_email_waits_for_a_retry() {
    sqlite(|db| async move {
        let certs = TestCerts::new();
        let port = free_port();
        let smtp = SmtpServer::start_with(
            port,
            Options { starttls: Some(&certs), auth: Some((USER, PASSWORD)), ..Options::default() },
        );
        let url = url_with_credentials(&format!("smtp://localhost:{port}?tls=required"), PASSWORD);
        let app = app_sending_to(&db, &url).await;
        queue_code(&app, "dee@example.com").await;
        assert_eq!(worker::tick(&app.state).await.unwrap(), 1);

        let waiting = &emails(&app, "to=dee@example.com").await[0];
        assert_eq!(waiting["status"], "queued", "not sent, waiting for a retry: {waiting}");
        assert_eq!(waiting["attempts"], 1);
        let error = waiting["last_error"].as_str().unwrap();
        assert!(error.contains("certificate"), "{error}");
        assert!(waiting["next_attempt_at"].as_i64().unwrap() > app.clock_now());
        smtp.sync().await;
        assert!(smtp.messages().is_empty());
        assert_eq!(smtp.auth_tries(), [], "no password offered to an unverified server");

        // The operator adds the CA file and restarts: the retry delivers.
        app.state.store.close().await;
        let TestApp { mut config, clock, .. } = app;
        config.smtp_ca_file = Some(certs.ca.clone());
        let app = TestApp::open(config, clock).await;
        app.clock.advance_ms(schedule::max_delay_ms(1) + 1);
        assert_eq!(worker::tick(&app.state).await.unwrap(), 1);
        let message = smtp.wait_for("dee@example.com", 1).await;
        assert_eq!(message.user.as_deref(), Some(USER));
        let sent = &emails(&app, "status=sent").await[0];
        assert_eq!(sent["attempts"], 2);
    });
}

/// `tls=required` to a server that offers no STARTTLS but would take a password and mail in plain
/// text: nothing is sent, and the email waits for a retry. The same server, reached with
/// `tls=opportunistic` (allowed to loopback only), does get both in plain text: what the first part
/// of the test rules out is what would happen.
#[test]
fn required_starttls_sends_nothing_to_a_server_without_it() {
    sqlite(|db| async move {
        let port = free_port();
        let smtp =
            SmtpServer::start_with(port, Options { auth: Some((USER, PASSWORD)), ..Options::default() });
        let url = url_with_credentials(&format!("smtp://127.0.0.1:{port}?tls=required"), PASSWORD);
        let app = app_sending_to(&db, &url).await;
        queue_code(&app, "eve@example.com").await;
        assert_eq!(worker::tick(&app.state).await.unwrap(), 1);
        let waiting = &emails(&app, "to=eve@example.com").await[0];
        assert_eq!(waiting["status"], "queued", "not sent, waiting for a retry: {waiting}");
        assert_eq!(waiting["attempts"], 1);
        let error = waiting["last_error"].as_str().unwrap();
        assert!(error.contains("STARTTLS"), "{error}");
        smtp.sync().await;
        assert!(smtp.messages().is_empty());
        assert_eq!(smtp.auth_tries(), [], "no password in plain text");

        app.state.store.close().await;
        let TestApp { mut config, clock, .. } = app;
        let url = url_with_credentials(&format!("smtp://127.0.0.1:{port}?tls=opportunistic"), PASSWORD);
        config.smtp_url = Some(Secret::new(url));
        let lax = TestApp::open(config, clock).await;
        lax.clock.advance_ms(schedule::max_delay_ms(1) + 1);
        assert_eq!(worker::tick(&lax.state).await.unwrap(), 1);
        let message = smtp.wait_for("eve@example.com", 1).await;
        assert_eq!((message.tls, message.user.as_deref()), (None, Some(USER)));
        assert_eq!(smtp.auth_tries(), [AuthTry { user: USER.into(), ok: true, tls: None }]);
    });
}
