//! Email verification, email-code and email-link sign-in, password reset and further addresses (and
//! which of them is primary), on both engines, in-process on a manual clock, reading each code and link from the development
//! mailbox (Backend API `GET /v1/emails`) as a developer would. Delivery through a real SMTP server
//! is `tests/smtp.rs`.

mod common;

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Method, Request};
use common::{Db, PASSWORD, Resp, TestApp, db_test};
use hallpass_protocol::{AuthResponse, paths};
use serde_json::{Value, json};
use tokio::sync::Barrier;

/// The newest email to `to`, from the development mailbox.
async fn newest_email(app: &TestApp, to: &str) -> Value {
    let res = app.backend(Method::GET, &format!("{}?to={to}", paths::EMAILS), None).await;
    assert_eq!(res.status, 200, "{}", String::from_utf8_lossy(&res.body));
    // The list is newest first by time: the next email is written a millisecond later.
    app.clock.advance_ms(1);
    res.json()["data"][0].clone()
}

async fn code_for(app: &TestApp, to: &str) -> String {
    let email = newest_email(app, to).await;
    email["data"]["otp_code"].as_str().unwrap_or_else(|| panic!("no code in {email}")).to_owned()
}

async fn link_token_for(app: &TestApp, to: &str) -> String {
    let email = newest_email(app, to).await;
    let link = email["data"]["magic_link"].as_str().unwrap_or_else(|| panic!("no link in {email}"));
    link.split("token=").nth(1).unwrap().to_owned()
}

fn path(template: &str, id: &str) -> String {
    paths::fill(template, &[id])
}

/// Posts the email link's form, as the page's button does.
async fn open_link(app: &TestApp, token: &str) -> common::Resp {
    let req = Request::builder()
        .method("POST")
        .uri(paths::VERIFY)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(format!("token={token}")))
        .unwrap();
    app.send(req).await
}

async fn verified_app(db: &Db) -> TestApp {
    TestApp::with(db, |c| c.sign_up_requires_verified_email = true).await
}

db_test!(environment_reports_the_settings);
async fn environment_reports_the_settings(db: Db) {
    let app = TestApp::with(&db, |c| {
        c.instance_name = "Acme".into();
        c.sign_in_strategies = vec!["email_code".into(), "password".into()];
        c.sign_up_requires_verified_email = true;
    })
    .await;
    let res = app.call(Method::GET, paths::ENVIRONMENT, &[("origin", "http://localhost:3000")], None).await;
    assert_eq!(res.header("access-control-allow-origin"), Some("http://localhost:3000"));
    let env: hallpass_protocol::Environment = serde_json::from_slice(&res.body).unwrap();
    assert_eq!(env.instance_name, "Acme");
    assert_eq!(
        env.sign_in.first_factors,
        [hallpass_protocol::Strategy::EmailCode, hallpass_protocol::Strategy::Password]
    );
    assert!(env.sign_up.requires_verified_email && !env.sign_up.password_required);
    assert_eq!(env.sign_up.verification_strategies, [hallpass_protocol::Strategy::EmailCode]);
    assert_eq!((env.password.min_length, env.password.max_length), (8, 256));
    assert!(env.development_mailbox);
}

db_test!(a_password_sign_up_without_required_verification_completes_at_once_unverified);
async fn a_password_sign_up_without_required_verification_completes_at_once_unverified(db: Db) {
    let app = TestApp::new(&db).await;
    let res =
        app.post(paths::SIGN_UPS, json!({"email_address": "ada@example.com", "password": PASSWORD})).await;
    let body = res.json();
    assert_eq!(body["sign_up"]["status"], "complete");
    let auth = res.auth();
    assert_eq!(body["sign_up"]["created_session_id"], auth.session.id.as_str());
    assert_eq!(auth.user.email_addresses[0].verification, None, "not verified");
    assert_eq!(db.scalar("SELECT COUNT(*) FROM emails").await, 0, "no mail on this path");
    assert_eq!(db.scalar("SELECT COUNT(*) FROM sign_up_attempts").await, 0, "nothing stored for it");
}

db_test!(sign_up_with_required_verification_completes_by_code_once);
async fn sign_up_with_required_verification_completes_by_code_once(db: Db) {
    let app = verified_app(&db).await;
    let res = app
        .post(
            paths::SIGN_UPS,
            json!({"email_address": "ada@example.com", "password": PASSWORD, "first_name": "Ada"}),
        )
        .await;
    assert_eq!(res.status, 200);
    let body = res.json();
    let sign_up = &body["sign_up"];
    assert!(body.get("jwt").is_none(), "no session before verification: {body}");
    assert_eq!(sign_up["status"], "missing_requirements");
    assert_eq!(sign_up["unverified_fields"], json!(["email_address"]));
    assert_eq!(sign_up["verifications"]["email_address"], Value::Null);
    let id = sign_up["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("sua_"));
    assert_eq!(db.scalar("SELECT COUNT(*) FROM users").await, 0);

    // Attempting before anything was sent.
    app.post(&path(paths::SIGN_UP_ATTEMPT_VERIFICATION, &id), json!({"code": "123456"}))
        .await
        .assert_error(422, "verification_missing");

    let res =
        app.post(&path(paths::SIGN_UP_PREPARE_VERIFICATION, &id), json!({"strategy": "email_code"})).await;
    let v = &res.json()["sign_up"]["verifications"]["email_address"];
    assert_eq!(
        (v["status"].as_str(), v["strategy"].as_str(), v["attempts"].as_i64()),
        (Some("unverified"), Some("email_code"), Some(0))
    );
    assert_eq!(v["expire_at"], app.clock_now() + 600_000);
    let email = newest_email(&app, "ada@example.com").await;
    assert_eq!(
        (email["slug"].as_str(), email["status"].as_str()),
        (Some("verification_code"), Some("development"))
    );
    let code = code_for(&app, "ada@example.com").await;
    assert!(email["subject"].as_str().unwrap().starts_with(&code));
    assert!(!res.json().to_string().contains(&code), "the code is never in an answer");

    let wrong = if code == "000000" { "000001" } else { "000000" };
    let res = app.post(&path(paths::SIGN_UP_ATTEMPT_VERIFICATION, &id), json!({"code": wrong})).await;
    res.assert_error(422, "form_code_incorrect");
    assert_eq!(res.json()["errors"][0]["meta"]["attempts_left"], 4);

    let res = app.post(&path(paths::SIGN_UP_ATTEMPT_VERIFICATION, &id), json!({"code": code})).await;
    let body = res.json();
    assert_eq!(body["sign_up"]["status"], "complete");
    let auth = res.auth();
    assert_eq!(auth.user.first_name.as_deref(), Some("Ada"));
    let verification = auth.user.email_addresses[0].verification.clone().unwrap();
    assert_eq!(verification.status, hallpass_protocol::VerificationStatus::Verified);
    assert_eq!(app.verify(auth.jwt.expose()).sub, auth.user.id);
    assert_eq!(body["sign_up"]["created_user_id"], auth.user.id.as_str());

    // Single use: the same code again, and the password signs in.
    app.post(&path(paths::SIGN_UP_ATTEMPT_VERIFICATION, &id), json!({"code": code}))
        .await
        .assert_error(422, "verification_already_verified");
    app.sign_in_as("ada@example.com").await;
    assert_eq!(db.scalar("SELECT COUNT(*) FROM users").await, 1);
}

db_test!(codes_expire_and_run_out_of_tries);
async fn codes_expire_and_run_out_of_tries(db: Db) {
    let app = verified_app(&db).await;
    let id = app
        .post(paths::SIGN_UPS, json!({"email_address": "bo@example.com", "password": PASSWORD}))
        .await
        .json()["sign_up"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let prepare_path = path(paths::SIGN_UP_PREPARE_VERIFICATION, &id);
    let prepare = || app.post(&prepare_path, json!({"strategy": "email_code"}));
    prepare().await;
    let code = code_for(&app, "bo@example.com").await;
    app.clock.advance_secs(600);
    app.post(&path(paths::SIGN_UP_ATTEMPT_VERIFICATION, &id), json!({"code": code}))
        .await
        .assert_error(422, "verification_expired");

    // A new code has its own five tries; the fifth wrong one fails it, and then even the right one.
    prepare().await;
    let code = code_for(&app, "bo@example.com").await;
    let wrong = if code == "999999" { "999998" } else { "999999" };
    for left in (1..=4).rev() {
        let res = app.post(&path(paths::SIGN_UP_ATTEMPT_VERIFICATION, &id), json!({"code": wrong})).await;
        res.assert_error(422, "form_code_incorrect");
        assert_eq!(res.json()["errors"][0]["meta"]["attempts_left"], left);
    }
    app.post(&path(paths::SIGN_UP_ATTEMPT_VERIFICATION, &id), json!({"code": wrong}))
        .await
        .assert_error(422, "verification_failed");
    app.post(&path(paths::SIGN_UP_ATTEMPT_VERIFICATION, &id), json!({"code": code}))
        .await
        .assert_error(422, "verification_failed");
    let res = app.call(Method::GET, &path(paths::SIGN_UP, &id), &[], None).await;
    assert_eq!(res.json()["sign_up"]["verifications"]["email_address"]["status"], "failed");

    // Garbage is a wrong code, never an error of another kind.
    prepare().await;
    app.post(&path(paths::SIGN_UP_ATTEMPT_VERIFICATION, &id), json!({"code": "１２３４５６"}))
        .await
        .assert_error(422, "form_code_incorrect");
    app.post(&path(paths::SIGN_UP_ATTEMPT_VERIFICATION, &id), json!({"code": ""}))
        .await
        .assert_error(422, "form_param_missing");
    // The attempt is given up after a day.
    app.clock.advance_secs(24 * 3600);
    let res = app.call(Method::GET, &path(paths::SIGN_UP, &id), &[], None).await;
    assert_eq!(res.json()["sign_up"]["status"], "abandoned");
    prepare().await.assert_error(404, "resource_not_found");
}

db_test!(a_passwordless_sign_up_verifies_by_link_and_the_asking_tab_gets_the_session);
async fn a_passwordless_sign_up_verifies_by_link_and_the_asking_tab_gets_the_session(db: Db) {
    let app = TestApp::new(&db).await;
    let res = app.post(paths::SIGN_UPS, json!({"email_address": "cy@example.com"})).await;
    let id = res.json()["sign_up"]["id"].as_str().unwrap().to_owned();
    assert_eq!(res.json()["sign_up"]["password_enabled"], false);
    app.post(
        &path(paths::SIGN_UP_PREPARE_VERIFICATION, &id),
        json!({"strategy": "email_link", "redirect_url": "https://evil.example/"}),
    )
    .await
    .assert_error(422, "form_param_value_invalid");
    app.post(
        &path(paths::SIGN_UP_PREPARE_VERIFICATION, &id),
        json!({"strategy": "email_link", "redirect_url": "http://localhost:3000/verified"}),
    )
    .await;
    let token = link_token_for(&app, "cy@example.com").await;
    let poll_path = path(paths::SIGN_UP, &id);
    let poll = || app.call(Method::GET, &poll_path, &[], None);
    assert_eq!(poll().await.json()["sign_up"]["status"], "missing_requirements");

    // Fetching the page uses nothing; its form does.
    let page = app.call(Method::GET, &format!("{}?token={token}", paths::VERIFY), &[], None).await;
    assert_eq!(page.status, 200);
    assert_eq!(page.header("referrer-policy"), Some("no-referrer"));
    // The form's answer redirects there, and browsers hold a form's redirects to `form-action`.
    let csp = page.header("content-security-policy").unwrap_or_default();
    assert!(csp.contains("form-action 'self' http://localhost:3000;"), "{csp}");
    assert!(csp.starts_with("default-src 'none';"), "{csp}");
    assert!(String::from_utf8_lossy(&page.body).contains("method=\"post\""));
    assert_eq!(poll().await.json()["sign_up"]["status"], "missing_requirements");

    let used = open_link(&app, &token).await;
    assert_eq!(used.status, 303);
    assert_eq!(used.header("location"), Some("http://localhost:3000/verified?hallpass_status=verified"));
    assert!(used.header("set-cookie").is_none(), "the link's browser is not signed in");
    // Opened again (another tab, a scanner after all): used already.
    let reused = open_link(&app, &token).await;
    assert_eq!(reused.header("location"), Some("http://localhost:3000/verified?hallpass_status=failed"));

    let done = poll().await;
    let auth: AuthResponse = done.auth();
    assert_eq!(done.json()["sign_up"]["status"], "complete");
    assert!(!auth.user.password_enabled);
    assert_eq!(
        auth.user.email_addresses[0].verification.as_ref().unwrap().strategy,
        hallpass_protocol::Strategy::EmailLink
    );
    assert_eq!(done.json()["sign_up"]["verifications"]["email_address"]["status"], "verified");
    assert_eq!(done.json()["sign_up"]["verifications"]["email_address"]["strategy"], "email_link");
    // Polled again (its answer may have been lost): the same session, a new refresh token.
    let again = poll().await;
    assert_eq!(again.json()["sign_up"]["status"], "complete");
    assert_eq!(again.json()["sign_up"]["verifications"]["email_address"]["status"], "verified");
    let again = again.auth();
    assert_eq!(again.session.id, auth.session.id);
    assert_ne!(again.refresh_token, auth.refresh_token);
    assert_eq!(app.refresh(again.refresh_token.expose()).await.status, 200);
    // Once the sign-up is complete, its link is gone: the person who opens it reads why, on a page.
    let gone = open_link(&app, &token).await;
    let page_says = |res: &common::Resp, text: &str| {
        assert_eq!(res.header("content-type"), Some("text/html; charset=utf-8"));
        assert_eq!(res.header("referrer-policy"), Some("no-referrer"));
        let body = String::from_utf8_lossy(&res.body);
        assert!(body.contains(text), "{body}");
    };
    assert_eq!(gone.status, 404);
    page_says(&gone, "This link is not valid any more");
    let bogus = open_link(&app, &"A".repeat(43)).await;
    assert_eq!(bogus.status, 404);
    page_says(&bogus, "This link is not valid any more");
    let short = open_link(&app, "short").await;
    assert_eq!(short.status, 400);
    page_says(&short, "Check that you opened the whole link from the email.");
    let shown = app.call(Method::GET, &format!("{}?token=short", paths::VERIFY), &[], None).await;
    assert_eq!(shown.status, 400);
    page_says(&shown, "This link is not valid");
}

db_test!(sign_in_by_email_code_and_by_link);
async fn sign_in_by_email_code_and_by_link(db: Db) {
    let app = TestApp::new(&db).await;
    let user = app.sign_up_as("di@example.com").await.user;
    let created = app.post(paths::SIGN_INS, json!({"identifier": "DI@example.com"})).await.json();
    assert_eq!(created["sign_in"]["status"], "needs_first_factor");
    assert_eq!(created["sign_in"]["first_factor_verification"], Value::Null);
    let id = created["sign_in"]["id"].as_str().unwrap().to_owned();
    let res =
        app.post(&path(paths::SIGN_IN_PREPARE_FIRST_FACTOR, &id), json!({"strategy": "email_code"})).await;
    let body = res.json();
    assert!(body.get("jwt").is_none());
    let sign_in = &body["sign_in"];
    assert_eq!(sign_in["status"], "needs_first_factor");
    assert_eq!(sign_in["identifier"], "di@example.com");
    assert_eq!(sign_in["first_factor_verification"]["strategy"], "email_code");
    let factors: Vec<&str> = sign_in["supported_first_factors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["strategy"].as_str().unwrap())
        .collect();
    assert_eq!(factors, ["password", "email_code", "email_link", "reset_password_email_code"]);
    assert_eq!(sign_in["supported_first_factors"][1]["safe_identifier"], "d***@example.com");
    assert_eq!(sign_in["id"], id.as_str());
    let code = code_for(&app, "di@example.com").await;
    assert_eq!(newest_email(&app, "di@example.com").await["slug"], "sign_in_code");
    let res = app
        .post(
            &path(paths::SIGN_IN_ATTEMPT_FIRST_FACTOR, &id),
            json!({"strategy": "email_code", "code": code}),
        )
        .await;
    assert_eq!(res.json()["sign_in"]["status"], "complete");
    // What completed it stays on the attempt (Clerk keeps it): verified, by the code.
    let verification = &res.json()["sign_in"]["first_factor_verification"];
    assert_eq!(
        (verification["status"].as_str(), verification["strategy"].as_str()),
        (Some("verified"), Some("email_code"))
    );
    let auth = res.auth();
    assert_eq!(auth.user.id, user.id);
    assert!(auth.user.email_addresses[0].verification.is_some(), "the code proved the address");
    // The code is used up: the complete attempt takes it no more.
    app.post(
        &path(paths::SIGN_IN_ATTEMPT_FIRST_FACTOR, &id),
        json!({"strategy": "email_code", "code": code}),
    )
    .await
    .assert_error(422, "verification_missing");

    // The link: prepared on an attempt made with the identifier alone.
    let id = app.post(paths::SIGN_INS, json!({"identifier": "di@example.com"})).await.json()["sign_in"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.post(&path(paths::SIGN_IN_PREPARE_FIRST_FACTOR, &id), json!({"strategy": "email_link"})).await;
    let token = link_token_for(&app, "di@example.com").await;
    let poll_path = path(paths::SIGN_IN, &id);
    let poll = || app.call(Method::GET, &poll_path, &[], None);
    assert!(poll().await.json().get("jwt").is_none());
    let used = open_link(&app, &token).await;
    assert_eq!(used.status, 200, "no redirect_url: the page says it");
    assert!(String::from_utf8_lossy(&used.body).contains("return to the one where you asked"));
    let signed_in = poll().await;
    assert_eq!(signed_in.json()["sign_in"]["first_factor_verification"]["status"], "verified");
    assert_eq!(signed_in.json()["sign_in"]["first_factor_verification"]["strategy"], "email_link");
    assert_eq!(signed_in.auth().user.id, user.id);
    let again = poll().await;
    assert_eq!(again.json()["sign_in"]["first_factor_verification"]["strategy"], "email_link");
    assert_eq!(again.auth().session.id, signed_in.auth().session.id, "the same session, handed again");
    // Attempting a link like a code is refused; a password attempt on a complete one too.
    app.post(&path(paths::SIGN_IN_ATTEMPT_FIRST_FACTOR, &id), json!({"strategy": "email_link"}))
        .await
        .assert_error(422, "form_param_value_invalid");
}

db_test!(a_lost_poll_answer_is_handed_again_and_retires_the_lost_token_without_revoking);
async fn a_lost_poll_answer_is_handed_again_and_retires_the_lost_token_without_revoking(db: Db) {
    let app = TestApp::new(&db).await;
    let user = app.sign_up_as("fay@example.com").await.user;
    let (id, _) = app.start_sign_in("fay@example.com", "email_link").await;
    let token = link_token_for(&app, "fay@example.com").await;
    open_link(&app, &token).await;
    let poll_path = path(paths::SIGN_IN, &id);
    let poll = || app.call(Method::GET, &poll_path, &[], None);

    // The poll that completes the sign-in: its answer is dropped on the way (the server committed).
    let dropped = poll().await.auth();
    // The tab asks again and gets the session.
    let handed = poll().await;
    assert_eq!(handed.json()["sign_in"]["status"], "complete");
    assert_eq!(handed.json()["sign_in"]["created_session_id"], dropped.session.id.as_str());
    let handed = handed.auth();
    assert_eq!(
        (handed.session.id.as_str(), handed.user.id.as_str()),
        (dropped.session.id.as_str(), user.id.as_str())
    );
    assert_eq!(app.verify(handed.jwt.expose()).sid, handed.session.id);

    // The lost token is retired: unknown, not reuse — the session lives on with the handed one.
    app.refresh(dropped.refresh_token.expose()).await.assert_error(401, "refresh_token_invalid");
    let refreshed = app.refresh(handed.refresh_token.expose()).await.auth();
    assert_eq!(refreshed.session.id, handed.session.id);
    assert_eq!(refreshed.session.status, hallpass_protocol::SessionStatus::Active);
    let revoked = db.scalar("SELECT COUNT(*) FROM webhook_events WHERE type = 'session.revoked'").await;
    assert_eq!(revoked, 0);
    // A token rotated away is still reuse (past the grace window): detection is intact.
    app.clock.advance_ms(i64::from(app.config.refresh_grace_secs) * 1000 + 1);
    let _live = poll().await.auth();
    app.refresh(handed.refresh_token.expose()).await.assert_error(401, "refresh_token_reused");
    assert!(poll().await.json().get("jwt").is_none(), "a revoked session is not handed out");

    // A signed-out session is not handed out again either; nor after the attempt's lifetime.
    let (id, _) = app.start_sign_in("fay@example.com", "email_link").await;
    open_link(&app, &link_token_for(&app, "fay@example.com").await).await;
    let poll_path = path(paths::SIGN_IN, &id);
    let first = app.call(Method::GET, &poll_path, &[], None).await.auth();
    let second = app.call(Method::GET, &poll_path, &[], None).await.auth();
    assert_eq!(
        app.post(paths::SIGN_OUT, json!({"refresh_token": second.refresh_token.expose()})).await.status,
        200
    );
    let after = app.call(Method::GET, &poll_path, &[], None).await.json();
    assert_eq!(after["sign_in"]["status"], "complete");
    assert!(after.get("jwt").is_none());
    app.refresh(first.refresh_token.expose()).await.assert_error(401, "refresh_token_invalid");

    let (id, _) = app.start_sign_in("fay@example.com", "email_link").await;
    open_link(&app, &link_token_for(&app, "fay@example.com").await).await;
    let poll_path = path(paths::SIGN_IN, &id);
    let first = app.call(Method::GET, &poll_path, &[], None).await.auth();
    // An hour later the attempt is past its lifetime (the session is not): nothing more is handed.
    app.clock.advance_ms(hallpass_server::store::sign_in_attempts::LIFETIME_MS);
    let late = app.call(Method::GET, &poll_path, &[], None).await;
    assert!(late.json().get("jwt").is_none(), "{}", String::from_utf8_lossy(&late.body));
    assert_eq!(app.refresh(first.refresh_token.expose()).await.status, 200);
}

/// The attempt's JSON without what legitimately differs between two attempts (ids, times, the
/// address).
fn shape(mut v: Value) -> Value {
    for key in ["id", "identifier", "abandon_at"] {
        v["sign_in"][key] = Value::Null;
    }
    if v["sign_in"]["first_factor_verification"].is_object() {
        v["sign_in"]["first_factor_verification"]["expire_at"] = Value::Null;
    }
    for f in v["sign_in"]["supported_first_factors"].as_array_mut().into_iter().flatten() {
        f["safe_identifier"] = json!(f["safe_identifier"].is_string());
    }
    v
}

db_test!(unknown_addresses_get_the_same_answers);
async fn unknown_addresses_get_the_same_answers(db: Db) {
    let app = TestApp::with(&db, |c| c.email_sends_per_address = 10).await;
    app.sign_up_as("known@example.com").await;
    for strategy in ["email_code", "email_link", "reset_password_email_code"] {
        let created = |who: &'static str| app.post(paths::SIGN_INS, json!({"identifier": who}));
        let (a, b) = (created("known@example.com").await, created("nobody@example.com").await);
        assert_eq!((a.status, shape(a.json())), (b.status, shape(b.json())), "{strategy}");
        let (known_id, known) = app.start_sign_in("known@example.com", strategy).await;
        let (unknown_id, unknown) = app.start_sign_in("nobody@example.com", strategy).await;
        assert_eq!(known.status, unknown.status, "{strategy}");
        assert_eq!(shape(known.json()), shape(unknown.json()), "{strategy}");
        // Preparing again, and a wrong code, answer alike.
        let again = |id: &str| path(paths::SIGN_IN_PREPARE_FIRST_FACTOR, id);
        let a = app.post(&again(&known_id), json!({"strategy": strategy})).await;
        let b = app.post(&again(&unknown_id), json!({"strategy": strategy})).await;
        assert_eq!((a.status, shape(a.json())), (b.status, shape(b.json())), "{strategy}");
        if strategy != "email_link" {
            let wrong = json!({"strategy": strategy, "code": "12345x"});
            let a = app.post(&path(paths::SIGN_IN_ATTEMPT_FIRST_FACTOR, &known_id), wrong.clone()).await;
            let b = app.post(&path(paths::SIGN_IN_ATTEMPT_FIRST_FACTOR, &unknown_id), wrong).await;
            assert_eq!((a.status, a.json()), (b.status, b.json()), "{strategy}");
        }
    }
    // The unknown address got nothing sent: its emails are suppressed, and have no event.
    let unknown = newest_email(&app, "nobody@example.com").await;
    assert_eq!(unknown["status"], "suppressed");
    assert_eq!(newest_email(&app, "known@example.com").await["status"], "development");
    // Events come just after the requests (the webhook worker writes them: the requests of both
    // addresses ran the same statements), one per known email, and never twice.
    let events = || db.scalar("SELECT COUNT(*) FROM webhook_events WHERE type = 'email.created'");
    assert_eq!(events().await, 0, "no event is written by the request");
    assert_eq!(app.state.store.write_email_events().await.unwrap(), 6);
    let known_emails = db.scalar("SELECT COUNT(*) FROM emails WHERE status <> 'suppressed'").await;
    assert_eq!(events().await, known_emails);
    assert_eq!(known_emails, 6);
    assert_eq!(app.state.store.write_email_events().await.unwrap(), 0, "each once");
    assert_eq!(events().await, 6);
}

db_test!(email_events_are_written_once_across_replicas);
async fn email_events_are_written_once_across_replicas(db: Db) {
    let app = TestApp::with(&db, |c| c.email_sends_per_address = 50).await;
    // A second replica on the same database, its worker racing this one's for the same emails.
    let other = TestApp::new(&db).await;
    app.sign_up_as("known@example.com").await;
    for i in 0..12 {
        let who = if i % 3 == 0 { "nobody@example.com" } else { "known@example.com" };
        app.start_sign_in(who, "email_code").await;
    }
    let known = db.scalar("SELECT COUNT(*) FROM emails WHERE status <> 'suppressed'").await;
    assert_eq!(known, 8);
    let (a, b) = tokio::join!(app.state.store.write_email_events(), other.state.store.write_email_events());
    assert_eq!(a.unwrap() + b.unwrap(), 8, "each email's event once between the two");
    assert_eq!(db.scalar("SELECT COUNT(*) FROM webhook_events WHERE type = 'email.created'").await, 8);
    assert_eq!(db.scalar("SELECT COUNT(*) FROM emails WHERE event_pending <> 0").await, 0);
    let suppressed = db.scalar("SELECT COUNT(*) FROM emails WHERE status = 'suppressed'").await;
    assert_eq!(suppressed, 4, "written, and never an event");
}

db_test!(reset_password_revokes_every_other_session);
async fn reset_password_revokes_every_other_session(db: Db) {
    let app = TestApp::new(&db).await;
    let first = app.sign_up_as("ed@example.com").await;
    let second = app.sign_in_as("ed@example.com").await;
    let (id, _) = app.start_sign_in("ed@example.com", "reset_password_email_code").await;
    // Not before the code.
    app.post(&path(paths::SIGN_IN_RESET_PASSWORD, &id), json!({"password": "a brand new passphrase"}))
        .await
        .assert_error(422, "verification_missing");
    let code = code_for(&app, "ed@example.com").await;
    assert_eq!(newest_email(&app, "ed@example.com").await["slug"], "reset_password_code");
    let res = app.post(&path(paths::SIGN_IN_ATTEMPT_FIRST_FACTOR, &id), json!({"code": code})).await;
    assert_eq!(res.json()["sign_in"]["status"], "needs_new_password");
    assert!(res.json().get("jwt").is_none());
    // The new password meets the rules.
    app.post(&path(paths::SIGN_IN_RESET_PASSWORD, &id), json!({"password": "password"}))
        .await
        .assert_error(422, "form_password_pwned");
    let res = app
        .post(&path(paths::SIGN_IN_RESET_PASSWORD, &id), json!({"password": "a brand new passphrase"}))
        .await;
    assert_eq!(res.json()["sign_in"]["status"], "complete");
    let fresh = res.auth();
    for old in [&first, &second] {
        app.refresh(old.refresh_token.expose()).await.assert_error(401, "session_revoked");
    }
    assert_eq!(app.refresh(fresh.refresh_token.expose()).await.status, 200);
    let revoked = db.scalar("SELECT COUNT(*) FROM webhook_events WHERE type = 'session.revoked'").await;
    assert_eq!(revoked, 2);
    app.post(paths::SIGN_INS, json!({"identifier": "ed@example.com", "password": PASSWORD}))
        .await
        .assert_error(422, "form_password_incorrect");
    app.post(paths::SIGN_INS, json!({"identifier": "ed@example.com", "password": "a brand new passphrase"}))
        .await
        .auth();
    // The attempt is done.
    app.post(&path(paths::SIGN_IN_RESET_PASSWORD, &id), json!({"password": "another new passphrase"}))
        .await
        .assert_error(422, "verification_missing");
}

db_test!(sends_are_limited_per_address_and_per_client);
async fn sends_are_limited_per_address_and_per_client(db: Db) {
    let app = TestApp::with(&db, |c| {
        c.email_sends_per_address = 2;
        c.email_sends_per_ip = 3;
    })
    .await;
    let app = &app;
    let send = |email: &'static str| async move { app.start_sign_in(email, "email_code").await.1 };
    assert_eq!(send("a@example.com").await.status, 200);
    assert_eq!(send("a@example.com").await.status, 200);
    let limited = send("a@example.com").await;
    limited.assert_error(429, "rate_limited");
    assert!(limited.header("retry-after").is_some());
    // The client's own budget: one more address, then nothing.
    assert_eq!(send("b@example.com").await.status, 200);
    send("c@example.com").await.assert_error(429, "rate_limited");
    // A password sign-in sends nothing and is not limited by it.
    app.sign_up_as("d@example.com").await;
    app.sign_in_as("d@example.com").await;
}

db_test!(a_second_address_is_added_verified_used_and_removed);
async fn a_second_address_is_added_verified_used_and_removed(db: Db) {
    let app = TestApp::new(&db).await;
    let auth = app.sign_up_as("fay@example.com").await;
    let jwt = auth.jwt.expose().to_owned();
    let res = app
        .with_token(
            Method::POST,
            paths::MY_EMAIL_ADDRESSES,
            &jwt,
            Some(json!({"email_address": "Fay@Work.example"})),
        )
        .await;
    let added = res.json();
    assert_eq!(added["email_address"], "fay@work.example");
    assert_eq!(added["verification"], Value::Null);
    let id = added["id"].as_str().unwrap().to_owned();
    // Not hers yet: another account can still sign up with it, and she cannot sign in with it.
    let me = app.get_bearer(paths::ME, &jwt).await.json();
    assert_eq!(me["user"]["email_addresses"].as_array().unwrap().len(), 1);
    app.post(paths::SIGN_INS, json!({"identifier": "fay@work.example", "password": PASSWORD}))
        .await
        .assert_error(422, "form_password_incorrect");

    let prepared = app
        .with_token(
            Method::POST,
            &path(paths::MY_EMAIL_ADDRESS_PREPARE_VERIFICATION, &id),
            &jwt,
            Some(json!({"strategy": "email_code"})),
        )
        .await
        .json();
    assert_eq!(prepared["verification"]["status"], "unverified");
    let code = code_for(&app, "fay@work.example").await;
    let verified = app
        .with_token(
            Method::POST,
            &path(paths::MY_EMAIL_ADDRESS_ATTEMPT_VERIFICATION, &id),
            &jwt,
            Some(json!({"code": code})),
        )
        .await
        .json();
    assert_eq!(verified["verification"]["status"], "verified");
    let me = app.get_bearer(paths::ME, &jwt).await.json();
    let addresses: Vec<&str> = me["user"]["email_addresses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["email_address"].as_str().unwrap())
        .collect();
    assert_eq!(addresses, ["fay@example.com", "fay@work.example"]);
    assert_eq!(me["user"]["primary_email_address_id"], auth.user.email_addresses[0].id.as_str());
    let by_second = app
        .post(paths::SIGN_INS, json!({"identifier": "fay@work.example", "password": PASSWORD}))
        .await
        .auth();
    assert_eq!(by_second.user.id, auth.user.id);
    app.post(paths::SIGN_UPS, json!({"email_address": "fay@work.example", "password": PASSWORD}))
        .await
        .assert_error(422, "form_identifier_exists");

    let primary = auth.user.email_addresses[0].id.clone();
    app.with_token(Method::DELETE, &path(paths::MY_EMAIL_ADDRESS, &primary), &jwt, None)
        .await
        .assert_error(422, "form_param_value_invalid");
    let removed =
        app.with_token(Method::DELETE, &path(paths::MY_EMAIL_ADDRESS, &id), &jwt, None).await.json();
    assert_eq!(removed["deleted"], true);
    let me = app.get_bearer(paths::ME, &jwt).await.json();
    assert_eq!(me["user"]["email_addresses"].as_array().unwrap().len(), 1);
    // Someone else's address id is not hers to see.
    let other = app.sign_up_as("gus@example.com").await;
    app.with_token(
        Method::GET,
        &path(paths::MY_EMAIL_ADDRESS, &other.user.email_addresses[0].id),
        &jwt,
        None,
    )
    .await
    .assert_error(404, "resource_not_found");
}

/// Adds `email` to the signed-in user of `jwt` and verifies it with the code sent to it; its id.
async fn add_verified(app: &TestApp, jwt: &str, email: &str) -> String {
    let added = app
        .with_token(Method::POST, paths::MY_EMAIL_ADDRESSES, jwt, Some(json!({"email_address": email})))
        .await;
    let id = added.json()["id"].as_str().unwrap_or_else(|| panic!("not added: {}", added.json())).to_owned();
    let prepare = path(paths::MY_EMAIL_ADDRESS_PREPARE_VERIFICATION, &id);
    app.with_token(Method::POST, &prepare, jwt, Some(json!({"strategy": "email_code"}))).await;
    let code = code_for(app, email).await;
    let attempt = path(paths::MY_EMAIL_ADDRESS_ATTEMPT_VERIFICATION, &id);
    let verified = app.with_token(Method::POST, &attempt, jwt, Some(json!({"code": code}))).await.json();
    assert_eq!(verified["verification"]["status"], "verified", "{verified}");
    id
}

/// `PATCH /v1/client/me` with `primary_email_address_id`.
async fn set_primary(app: &TestApp, jwt: &str, id: &str) -> Resp {
    app.with_token(Method::PATCH, paths::ME, jwt, Some(json!({"primary_email_address_id": id}))).await
}

/// The user's primary address id and their addresses in the order the answer lists them.
fn primary_of(user: &Value) -> (String, Vec<String>) {
    let addresses = user["email_addresses"].as_array().unwrap();
    let primary = user["primary_email_address_id"].as_str().unwrap().to_owned();
    (primary, addresses.iter().map(|e| e["email_address"].as_str().unwrap().to_owned()).collect())
}

async fn user_updated_events(db: &Db) -> i64 {
    db.scalar("SELECT COUNT(*) FROM webhook_events WHERE type = 'user.updated'").await
}

db_test!(a_verified_address_becomes_primary_and_everything_that_reads_the_primary_follows);
async fn a_verified_address_becomes_primary_and_everything_that_reads_the_primary_follows(db: Db) {
    let app = TestApp::new(&db).await;
    // A password sign-up on an instance that does not ask: its address is primary, not verified.
    let auth = app.sign_up_as("hal@example.com").await;
    let jwt = auth.jwt.expose().to_owned();
    let first = auth.user.email_addresses[0].id.clone();
    let second = add_verified(&app, &jwt, "hal@work.example").await;
    let before = user_updated_events(&db).await;

    let res = set_primary(&app, &jwt, &second).await;
    assert_eq!(res.status, 200, "{}", String::from_utf8_lossy(&res.body));
    let answer = &res.json()["user"];
    assert_eq!(answer["primary_email_address_id"], second.as_str());
    // The primary is listed first, the old one after it (still hers, still unverified).
    assert_eq!(primary_of(answer).1, ["hal@work.example", "hal@example.com"]);
    assert_eq!(answer["email_addresses"][0]["verification"]["status"], "verified");
    assert_eq!(answer["email_addresses"][1]["verification"], Value::Null);
    assert_eq!(user_updated_events(&db).await, before + 1, "user.updated once");
    // The event carries the new primary, as the answer does.
    let sql = "SELECT COUNT(*) FROM webhook_events WHERE type = 'user.updated' AND seq = \
               (SELECT MAX(seq) FROM webhook_events) AND data LIKE '%\"primary_email_address_id\":\"' || $1 || '\"%'";
    assert_eq!(db.scalar_with(sql, &second).await, 1);

    // Read again, by either API; the sign-in answer and the JWT templates' shortcode say it too.
    let me = app.get_bearer(paths::ME, &jwt).await.json();
    assert_eq!(primary_of(&me["user"]), primary_of(answer));
    let by_old = app.sign_in_as("hal@example.com").await;
    assert_eq!(by_old.user.primary_email_address_id.as_deref(), Some(second.as_str()));
    let template = app
        .backend(
            Method::POST,
            paths::JWT_TEMPLATES,
            Some(json!({"name": "mail", "claims": {"mail": "{{user.primary_email_address}}"}})),
        )
        .await;
    assert_eq!(template.status, 200, "{}", String::from_utf8_lossy(&template.body));
    let token_path = paths::fill(paths::SESSION_TEMPLATE_TOKEN, &[&auth.session.id, "mail"]);
    let token = app.with_token(Method::POST, &token_path, &jwt, None).await.json();
    let claims = token["jwt"].as_str().unwrap().split('.').nth(1).unwrap().to_owned();
    let claims: Value = serde_json::from_slice(
        &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, claims).unwrap(),
    )
    .unwrap();
    assert_eq!(claims["mail"], "hal@work.example");

    // The old primary is not verified: it cannot be made primary again, and nothing changes.
    let events = user_updated_events(&db).await;
    let refused = set_primary(&app, &jwt, &first).await;
    refused.assert_error(422, "email_address_not_verified");
    assert_eq!(refused.json()["errors"][0]["meta"]["param_name"], "primary_email_address_id");
    let user_path = format!("{}/{}", paths::USERS, auth.user.id);
    let backend =
        app.backend(Method::PATCH, &user_path, Some(json!({"primary_email_address_id": first}))).await;
    backend.assert_error(422, "email_address_not_verified");
    assert_eq!(primary_of(&app.get_bearer(paths::ME, &jwt).await.json()["user"]).0, second);
    assert_eq!(user_updated_events(&db).await, events, "nothing written");
    // A code sign-in through the old address proves it (the address the code went to, not the primary).
    let (attempt, _) = app.start_sign_in("hal@example.com", "email_code").await;
    let code = code_for(&app, "hal@example.com").await;
    app.post(
        &path(paths::SIGN_IN_ATTEMPT_FIRST_FACTOR, &attempt),
        json!({"strategy": "email_code", "code": code}),
    )
    .await
    .auth();
    // Verified now: the Backend API makes it primary again, with a name change in the same request.
    let back = app
        .backend(
            Method::PATCH,
            &user_path,
            Some(json!({"primary_email_address_id": first, "first_name": "Hal"})),
        )
        .await;
    assert_eq!(back.status, 200, "{}", String::from_utf8_lossy(&back.body));
    let back = back.json();
    assert_eq!(primary_of(&back), (first.clone(), vec!["hal@example.com".into(), "hal@work.example".into()]));
    assert_eq!(back["first_name"], "Hal");
    assert_eq!(back["email_addresses"][0]["verification"]["strategy"], "email_code");
    assert_eq!(user_updated_events(&db).await, events + 1, "one event for the one request");
    // The current primary again: accepted, nothing to change.
    assert_eq!(set_primary(&app, &jwt, &first).await.status, 200);

    // Now the second one is removable and the first is not.
    set_primary(&app, &jwt, &second).await;
    app.with_token(Method::DELETE, &path(paths::MY_EMAIL_ADDRESS, &second), &jwt, None)
        .await
        .assert_error(422, "form_param_value_invalid");
    let removed =
        app.with_token(Method::DELETE, &path(paths::MY_EMAIL_ADDRESS, &first), &jwt, None).await.json();
    assert_eq!(removed["deleted"], true);
    let me = app.get_bearer(paths::ME, &jwt).await.json();
    assert_eq!(primary_of(&me["user"]), (second.clone(), vec!["hal@work.example".into()]));
    // The removed address signs in no more; the primary one does.
    app.post(paths::SIGN_INS, json!({"identifier": "hal@example.com", "password": PASSWORD}))
        .await
        .assert_error(422, "form_password_incorrect");
    assert_eq!(app.sign_in_as("hal@work.example").await.user.id, auth.user.id);
}

db_test!(only_the_users_own_verified_addresses_can_become_primary);
async fn only_the_users_own_verified_addresses_can_become_primary(db: Db) {
    let app = TestApp::new(&db).await;
    let auth = app.sign_up_as("ida@example.com").await;
    let jwt = auth.jwt.expose().to_owned();
    let mine = auth.user.email_addresses[0].id.clone();
    let other = app.sign_up_as("jon@example.com").await;
    let theirs = add_verified(&app, other.jwt.expose(), "jon@work.example").await;
    // Added, not verified yet (still pending): hers, but not usable.
    let pending = app
        .with_token(
            Method::POST,
            paths::MY_EMAIL_ADDRESSES,
            &jwt,
            Some(json!({"email_address": "ida@work.example"})),
        )
        .await
        .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let events = user_updated_events(&db).await;

    for (id, status, code) in [
        (theirs.as_str(), 404, "resource_not_found"),
        (other.user.email_addresses[0].id.as_str(), 404, "resource_not_found"),
        ("idn_no_such_address", 404, "resource_not_found"),
        ("", 404, "resource_not_found"),
        (pending.as_str(), 422, "email_address_not_verified"),
    ] {
        let res = set_primary(&app, &jwt, id).await;
        res.assert_error(status, code);
        assert_eq!(res.json()["errors"][0]["meta"]["param_name"], "primary_email_address_id");
        // The Backend API answers the same for this user.
        let user_path = format!("{}/{}", paths::USERS, auth.user.id);
        app.backend(Method::PATCH, &user_path, Some(json!({"primary_email_address_id": id})))
            .await
            .assert_error(status, code);
    }
    // A refused address refuses the whole request: the name given with it is not saved either.
    set_primary(&app, &jwt, &theirs).await.assert_error(404, "resource_not_found");
    app.with_token(
        Method::PATCH,
        paths::ME,
        &jwt,
        Some(json!({"first_name": "Changed", "primary_email_address_id": theirs})),
    )
    .await
    .assert_error(404, "resource_not_found");
    app.with_token(Method::PATCH, paths::ME, &jwt, Some(json!({"primary_email_address_id": 7})))
        .await
        .assert_error(400, "request_body_invalid");
    let me = app.get_bearer(paths::ME, &jwt).await.json();
    assert_eq!(primary_of(&me["user"]), (mine, vec!["ida@example.com".into()]));
    assert_eq!(me["user"]["first_name"], Value::Null);
    let jon = app.backend(Method::GET, &format!("{}/{}", paths::USERS, other.user.id), None).await.json();
    assert_eq!(jon["primary_email_address_id"], other.user.email_addresses[0].id.as_str());
    assert_eq!(user_updated_events(&db).await, events, "nothing written");
}

/// Runs the requests at once (released together by a barrier) and returns their answers in order.
async fn race(app: &Arc<TestApp>, jwt: &str, calls: Vec<(Method, String, Option<Value>)>) -> Vec<Resp> {
    let barrier = Arc::new(Barrier::new(calls.len()));
    let tasks: Vec<_> = calls
        .into_iter()
        .map(|(method, path, body)| {
            let (app, barrier, jwt) = (app.clone(), barrier.clone(), jwt.to_owned());
            tokio::spawn(async move {
                barrier.wait().await;
                app.with_token(method, &path, &jwt, body).await
            })
        })
        .collect();
    let mut out = Vec::new();
    for task in tasks {
        out.push(task.await.unwrap());
    }
    out
}

db_test!(concurrent_changes_of_primary_and_removals_end_in_one_consistent_primary);
async fn concurrent_changes_of_primary_and_removals_end_in_one_consistent_primary(db: Db) {
    const ROUNDS: usize = 6;
    let app = Arc::new(TestApp::with(&db, |c| c.email_sends_per_ip = 1000).await);
    let auth = app.sign_up_as("kim@example.com").await;
    let jwt = auth.jwt.expose().to_owned();
    for round in 0..ROUNDS {
        let b = add_verified(&app, &jwt, &format!("kim.b{round}@example.com")).await;
        let c = add_verified(&app, &jwt, &format!("kim.c{round}@example.com")).await;
        let primary_before = primary_of(&app.get_bearer(paths::ME, &jwt).await.json()["user"]).0;
        let events = user_updated_events(&db).await;
        // Two changes of primary, to different addresses, and the removal of one of them.
        let answers = race(
            &app,
            &jwt,
            vec![
                (Method::PATCH, paths::ME.to_owned(), Some(json!({"primary_email_address_id": b}))),
                (Method::PATCH, paths::ME.to_owned(), Some(json!({"primary_email_address_id": c}))),
                (Method::DELETE, path(paths::MY_EMAIL_ADDRESS, &b), None),
            ],
        )
        .await;
        let (to_b, to_c, remove_b) = (&answers[0], &answers[1], &answers[2]);
        assert_eq!(to_c.status, 200, "round {round}: {}", String::from_utf8_lossy(&to_c.body));
        let user = app.get_bearer(paths::ME, &jwt).await.json()["user"].clone();
        let (primary, listed) = primary_of(&user);
        let ids: Vec<&str> =
            user["email_addresses"].as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap()).collect();
        assert_eq!(ids[0], primary, "round {round}: the primary is listed first");
        assert!(ids.iter().filter(|id| **id == primary).count() == 1, "round {round}: {listed:?}");
        match (remove_b.status.as_u16(), to_b.status.as_u16()) {
            // B went first, then the change to it found nothing.
            (200, 404) => {
                assert_eq!(primary, c, "round {round}");
                assert!(!ids.contains(&b.as_str()), "round {round}");
            }
            // B made primary, then C, then B (no longer primary) removed.
            (200, 200) => {
                assert_eq!(primary, c, "round {round}: {listed:?}");
                assert!(!ids.contains(&b.as_str()), "round {round}");
            }
            // B was primary when its removal came: refused, B stays.
            (422, 200) => {
                assert!(primary == b || primary == c, "round {round}");
                assert!(ids.contains(&b.as_str()), "round {round}");
            }
            other => panic!("round {round}: {other:?}, {}", String::from_utf8_lossy(&remove_b.body)),
        }
        // The stored answer agrees with the last change that was made.
        let written = answers.iter().take(2).filter(|r| r.status == 200).count() as i64;
        let removed = i64::from(remove_b.status == 200);
        assert_eq!(user_updated_events(&db).await, events + written + removed, "round {round}");
        assert_ne!(primary, primary_before, "round {round}: one of the changes was made");
    }
}

db_test!(invitations_are_emailed_with_the_configured_accept_link);
async fn invitations_are_emailed_with_the_configured_accept_link(db: Db) {
    let app = TestApp::with(&db, |c| {
        c.organization_invitation_url = Some("https://app.example/accept?from=mail".into())
    })
    .await;
    let admin = app
        .post(
            paths::SIGN_UPS,
            json!({"email_address": "ann@example.com", "password": PASSWORD, "first_name": "Ann"}),
        )
        .await
        .auth();
    let jwt = admin.jwt.expose().to_owned();
    let org = app
        .with_token(Method::POST, paths::CLIENT_ORGANIZATIONS, &jwt, Some(json!({"name": "Acme <Labs>"})))
        .await
        .json();
    let org_id = org["id"].as_str().unwrap();
    let inv = app
        .with_token(
            Method::POST,
            &paths::fill(paths::CLIENT_ORGANIZATION_INVITATIONS, &[org_id]),
            &jwt,
            Some(json!({"email_address": "ben@example.com"})),
        )
        .await
        .json();
    let email = newest_email(&app, "ben@example.com").await;
    assert_eq!(email["slug"], "organization_invitation");
    assert_eq!(email["subject"], "Ann has invited you to join Acme <Labs> on Hallpass");
    let url = format!("https://app.example/accept?from=mail&invitation_id={}", inv["id"].as_str().unwrap());
    assert_eq!(email["data"]["action_url"], url.as_str());
    assert!(email["body"].as_str().unwrap().contains("Acme &lt;Labs&gt;"));
    assert!(email["body_plain"].as_str().unwrap().contains(&url));
    app.state.store.write_email_events().await.unwrap();
    let events = db.scalar("SELECT COUNT(*) FROM webhook_events WHERE type = 'email.created'").await;
    assert_eq!(events, 1);
}
