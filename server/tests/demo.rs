//! The demo's server side (`--demo-dir`): static files and package on one origin, and the protected
//! endpoint that verifies session tokens with the JWKS.

mod common;

use std::fs;

use axum::http::Method;
use common::{Db, TestApp, db_test};
use hallpass_protocol::paths;
use hallpass_server::routes::demo::WHOAMI;
use hallpass_server::routes::demo_mailbox::MAILBOX;
use serde_json::json;

/// The app with a demo folder; the folder lives as long as the returned guard.
async fn demo_app(db: &Db) -> (TestApp, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let www = dir.path().to_path_buf();
    fs::write(www.join("index.html"), "<!doctype html><title>demo</title>").unwrap();
    let package = www.join("pkg");
    fs::create_dir_all(&package).unwrap();
    fs::write(package.join("index.js"), "export {};").unwrap();
    fs::write(package.join("hallpass_bg.wasm"), b"\0asm\x01\0\0\0").unwrap();
    let app = TestApp::with(db, |c| {
        c.demo_dir = Some(www.clone());
        c.demo_package_dir = Some(package.clone());
    })
    .await;
    (app, dir)
}

db_test!(whoami_answers_401_without_a_token_and_with_a_bad_one);
async fn whoami_answers_401_without_a_token_and_with_a_bad_one(db: Db) {
    let (app, _www) = demo_app(&db).await;
    let none = app.call(Method::GET, WHOAMI, &[], None).await;
    none.assert_error(401, "authentication_invalid");
    app.get_bearer(WHOAMI, "not.a.jwt").await.assert_error(401, "authentication_invalid");

    // A real token with one signature byte changed.
    let auth = app.sign_up_as("mallory@example.com").await;
    let mut forged = auth.jwt.expose().to_owned();
    let last = forged.pop().unwrap();
    forged.push(if last == 'A' { 'B' } else { 'A' });
    app.get_bearer(WHOAMI, &forged).await.assert_error(401, "authentication_invalid");
}

db_test!(whoami_verifies_a_session_token_with_the_jwks);
async fn whoami_verifies_a_session_token_with_the_jwks(db: Db) {
    let (app, _www) = demo_app(&db).await;
    let auth = app.sign_up_as("ada@example.com").await;
    let res = app.get_bearer(WHOAMI, auth.jwt.expose()).await;
    assert_eq!(res.status, 200, "{}", String::from_utf8_lossy(&res.body));
    let body = res.json();
    assert_eq!(body["object"], "whoami");
    assert_eq!(body["user_id"], auth.user.id);
    assert_eq!(body["session_id"], auth.session.id);
    assert_eq!(body["key_id"], app.state.signing_key().kid());
    assert_eq!(body["org_id"], serde_json::Value::Null, "the personal account");
    assert_eq!(body["org_role"], serde_json::Value::Null);

    // Expired (beyond the leeway) on the server's clock: refused.
    app.clock.advance_secs(app.config.token_lifetime_secs as i64 + 10);
    let expired = app.get_bearer(WHOAMI, auth.jwt.expose()).await;
    expired.assert_error(401, "authentication_invalid");
    assert!(expired.json()["errors"][0]["message"].as_str().unwrap().contains("expired"));
}

db_test!(whoami_refuses_a_jwt_template_token_signed_by_the_same_key);
async fn whoami_refuses_a_jwt_template_token_signed_by_the_same_key(db: Db) {
    let (app, _www) = demo_app(&db).await;
    let auth = app.sign_up_as("grace@example.com").await;
    let template = serde_json::json!({ "name": "long", "claims": { "role": "x" }, "lifetime": 86_400 });
    let created = app.backend(Method::POST, "/v1/jwt_templates", Some(template)).await;
    assert_eq!(created.status, 200, "{}", String::from_utf8_lossy(&created.body));
    let bearer = format!("Bearer {}", auth.jwt.expose());
    let path = format!("/v1/client/sessions/{}/tokens/long", auth.session.id);
    let minted = app.call(Method::POST, &path, &[("authorization", bearer.as_str())], None).await;
    assert_eq!(minted.status, 200, "{}", String::from_utf8_lossy(&minted.body));
    let jwt = minted.json()["jwt"].as_str().unwrap().to_owned();
    let refused = app.get_bearer(WHOAMI, &jwt).await;
    refused.assert_error(401, "authentication_invalid");
    assert!(refused.json()["errors"][0]["message"].as_str().unwrap().contains("not a session token"));
}

db_test!(serves_the_app_and_the_package_on_the_same_origin);
async fn serves_the_app_and_the_package_on_the_same_origin(db: Db) {
    let (app, _www) = demo_app(&db).await;
    let root = app.call(Method::GET, "/", &[], None).await;
    assert_eq!(root.status, 307);
    assert_eq!(root.header("location"), Some("/demo/"));
    let index = app.call(Method::GET, "/demo/", &[], None).await;
    assert_eq!(index.status, 200);
    assert!(String::from_utf8_lossy(&index.body).contains("<title>demo</title>"));
    assert_eq!(index.header("cache-control"), Some("no-cache"));
    let wasm = app.call(Method::GET, "/demo/hallpass/hallpass_bg.wasm", &[], None).await;
    assert_eq!(wasm.status, 200);
    assert_eq!(wasm.header("content-type"), Some("application/wasm"));
    app.call(Method::GET, "/demo/missing.js", &[], None).await.assert_error(404, "resource_not_found");
}

db_test!(without_demo_dir_nothing_of_the_demo_is_served);
async fn without_demo_dir_nothing_of_the_demo_is_served(db: Db) {
    let app = TestApp::new(&db).await;
    app.call(Method::GET, "/demo/", &[], None).await.assert_error(404, "resource_not_found");
    app.call(Method::GET, WHOAMI, &[], None).await.assert_error(404, "resource_not_found");
}

#[cfg(unix)]
db_test!(dotfiles_and_symlinks_out_of_the_folder_are_not_served);
async fn dotfiles_and_symlinks_out_of_the_folder_are_not_served(db: Db) {
    let (app, www) = demo_app(&db).await;
    let outside = tempfile::tempdir().unwrap();
    fs::write(outside.path().join("secret.txt"), "outside").unwrap();
    fs::write(www.path().join(".env"), "SECRET=1").unwrap();
    fs::create_dir_all(www.path().join(".git")).unwrap();
    fs::write(www.path().join(".git/config"), "[core]").unwrap();
    std::os::unix::fs::symlink(outside.path().join("secret.txt"), www.path().join("leak.txt")).unwrap();
    std::os::unix::fs::symlink(outside.path(), www.path().join("leakdir")).unwrap();
    std::os::unix::fs::symlink(www.path().join("index.html"), www.path().join("inside.html")).unwrap();
    for path in [
        "/demo/.env",
        "/demo/%2eenv",
        "/demo/.git/config",
        "/demo/leak.txt",
        "/demo/leakdir/secret.txt",
        "/demo/pkg/../.env",
    ] {
        let res = app.call(Method::GET, path, &[], None).await;
        res.assert_error(404, "resource_not_found");
        assert!(
            !String::from_utf8_lossy(&res.body).contains("SECRET")
                && !String::from_utf8_lossy(&res.body).contains("outside"),
            "{path}"
        );
    }
    // A link that stays inside the folder is fine.
    let inside = app.call(Method::GET, "/demo/inside.html", &[], None).await;
    assert_eq!(inside.status, 200);
}

db_test!(the_demo_backend_receives_verified_webhooks_about_the_signed_in_user);
async fn the_demo_backend_receives_verified_webhooks_about_the_signed_in_user(db: Db) {
    use std::time::{Duration, Instant};

    use hallpass_server::routes::demo_webhooks::WEBHOOKS;
    let (app, _www) = demo_app(&db).await;
    // The real server, with its delivery worker: it points the demo's endpoint at itself. The page's
    // requests go through its listener (the inbox is the served app's).
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(hallpass_server::run(listener, app.state.clone(), async {
        let _ = stopped.await;
    }));
    let http = reqwest::Client::builder().timeout(Duration::from_secs(20)).build().unwrap();
    // Sign-ups here bypass the listener: wait until the server has set the endpoint up.
    let deadline = Instant::now() + Duration::from_secs(20);
    while app.backend(Method::GET, "/v1/webhook_endpoints", None).await.json()["total_count"] != 1 {
        assert!(Instant::now() < deadline, "no demo endpoint within 20 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let ada = app.sign_up_as("ada@example.com").await;
    let bob = app.sign_up_as("bob@example.com").await;
    let inbox = format!("{base}{WEBHOOKS}");
    let mine = loop {
        let res = http.get(&inbox).bearer_auth(ada.jwt.expose()).send().await.unwrap();
        assert_eq!(res.status(), 200);
        let body: serde_json::Value = serde_json::from_slice(&res.bytes().await.unwrap()).unwrap();
        let data = body["data"].as_array().unwrap().clone();
        if data.len() >= 2 {
            break data;
        }
        assert!(Instant::now() < deadline, "no webhooks within 20 s: {data:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    // Ada sees her own events only (newest first), never Bob's.
    let types: Vec<&str> = mine.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["session.created", "user.created"]);
    assert_eq!(mine[1]["data"]["id"], ada.user.id);
    assert_eq!(mine[0]["data"]["user_id"], ada.user.id);
    assert!(mine.iter().all(|e| e["id"].as_str().unwrap().starts_with("evt_")));
    assert!(!serde_json::Value::Array(mine).to_string().contains(&bob.user.id));

    // A delivery that does not verify is refused; without a session token, nothing is listed.
    let forged = http
        .post(&inbox)
        .header("content-type", "application/json")
        .header("svix-id", "evt_forged")
        .header("svix-timestamp", (app.clock_now() / 1000).to_string())
        .header("svix-signature", "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
        .body(serde_json::json!({"type": "user.deleted", "data": {"id": ada.user.id}}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 400);
    assert_eq!(http.get(&inbox).send().await.unwrap().status(), 401);
    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
}

db_test!(whoami_reports_the_active_organization_and_role_the_token_carries);
async fn whoami_reports_the_active_organization_and_role_the_token_carries(db: Db) {
    let (app, _www) = demo_app(&db).await;
    let auth = app.sign_up_as("ada@example.com").await;
    let jwt = auth.jwt.expose();
    let org =
        app.with_token(Method::POST, paths::CLIENT_ORGANIZATIONS, jwt, Some(json!({ "name": "Acme" }))).await;
    assert_eq!(org.status, 200, "{}", String::from_utf8_lossy(&org.body));
    let org_id = org.json()["id"].as_str().unwrap().to_owned();
    let touch = paths::fill(paths::SESSION_TOUCH, &[&auth.session.id]);
    let set =
        app.with_token(Method::POST, &touch, jwt, Some(json!({ "active_organization_id": org_id }))).await;
    assert_eq!(set.status, 200, "{}", String::from_utf8_lossy(&set.body));
    let token = set.json()["jwt"].as_str().unwrap().to_owned();
    let body = app.get_bearer(WHOAMI, &token).await.json();
    assert_eq!(body["org_id"], org_id.as_str());
    assert_eq!(body["org_slug"], "acme");
    assert_eq!(body["org_role"], "org:admin");
    let permissions = body["org_permissions"].as_array().unwrap();
    assert!(permissions.iter().any(|p| p == "org:sys_memberships:manage"), "{permissions:?}");
}

db_test!(the_demo_backend_shows_the_development_mailbox_of_one_address);
async fn the_demo_backend_shows_the_development_mailbox_of_one_address(db: Db) {
    let (app, _www) = demo_app(&db).await;
    let res = app.post(paths::SIGN_UPS, json!({"email_address": "cy@example.com"})).await;
    let id = res.json()["sign_up"]["id"].as_str().unwrap().to_owned();
    let prepare = paths::fill(paths::SIGN_UP_PREPARE_VERIFICATION, &[&id]);
    assert_eq!(app.post(&prepare, json!({"strategy": "email_code"})).await.status, 200);
    app.post(paths::SIGN_UPS, json!({"email_address": "other@example.com"})).await;

    let listed = app.call(Method::GET, &format!("{MAILBOX}?to=Cy@Example.com"), &[], None).await;
    assert_eq!(listed.status, 200, "{}", String::from_utf8_lossy(&listed.body));
    let page = listed.json();
    assert_eq!(page["total_count"], 1, "{page}");
    assert_eq!(page["data"][0]["to_email_address"], "cy@example.com");
    assert_eq!(page["data"][0]["data"]["otp_code"].as_str().map(str::len), Some(6));
    // One address at a time, named: never the whole mailbox.
    app.call(Method::GET, MAILBOX, &[], None).await.assert_error(422, "form_param_missing");
    let bad = app.call(Method::GET, &format!("{MAILBOX}?to=nobody"), &[], None).await;
    assert_eq!(bad.status, 422);
}

db_test!(with_a_mail_server_the_demo_shows_no_mailbox);
async fn with_a_mail_server_the_demo_shows_no_mailbox(db: Db) {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("index.html"), "<!doctype html>").unwrap();
    let app = TestApp::with(&db, |c| {
        c.demo_dir = Some(dir.path().to_path_buf());
        c.email_delivery = "app".into();
    })
    .await;
    app.call(Method::GET, &format!("{MAILBOX}?to=cy@example.com"), &[], None)
        .await
        .assert_error(404, "resource_not_found");
}
