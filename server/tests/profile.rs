//! The signed-in user's own account through the Frontend API, on both engines: changing and setting
//! the password (`POST /v1/client/me/change_password`), deleting the account (`DELETE /v1/client/me`,
//! and the instance setting that turns it off), and the profile image (`POST`/`DELETE
//! /v1/client/me/profile_image`, served at `GET /v1/images/{id}`) — with the events each emits.

mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use common::{Db, PASSWORD, Resp, TestApp, db_test};
use hallpass_protocol::{AuthResponse, DeletedObject, Image, MeResponse, User, paths};
use serde_json::{Value, json};

const NEW_PASSWORD: &str = "a brand new passphrase";

async fn change(app: &TestApp, token: &str, body: Value) -> Resp {
    app.with_token(Method::POST, paths::MY_PASSWORD, token, Some(body)).await
}

async fn me(app: &TestApp, token: &str) -> User {
    let res = app.get_bearer(paths::ME, token).await;
    assert_eq!(res.status, StatusCode::OK, "{}", String::from_utf8_lossy(&res.body));
    serde_json::from_slice::<MeResponse>(&res.body).unwrap().user
}

async fn events(db: &Db, event: &str) -> i64 {
    // `event` is one of ours, spliced into a literal we own.
    let sql: &'static str = match event {
        "user.updated" => "SELECT COUNT(*) FROM webhook_events WHERE type = 'user.updated'",
        "user.deleted" => "SELECT COUNT(*) FROM webhook_events WHERE type = 'user.deleted'",
        "session.revoked" => "SELECT COUNT(*) FROM webhook_events WHERE type = 'session.revoked'",
        "session.removed" => "SELECT COUNT(*) FROM webhook_events WHERE type = 'session.removed'",
        other => panic!("no query for {other}"),
    };
    db.scalar(sql).await
}

fn sign_in(app: &TestApp, email: &str, password: &str) -> impl Future<Output = Resp> {
    app.post(paths::SIGN_INS, json!({"identifier": email, "password": password}))
}

db_test!(a_password_is_changed_with_the_current_one_and_other_sessions_are_signed_out_on_request);
async fn a_password_is_changed_with_the_current_one_and_other_sessions_are_signed_out_on_request(db: Db) {
    let app = TestApp::new(&db).await;
    let mine = app.sign_up_as("ann@example.com").await;
    let other = app.sign_in_as("ann@example.com").await;
    let third = app.sign_in_as("ann@example.com").await;
    let token = mine.jwt.expose();

    // The current password is required, and checked; the new one meets the sign-up rules.
    change(&app, token, json!({"new_password": NEW_PASSWORD})).await.assert_error(422, "form_param_missing");
    let wrong =
        change(&app, token, json!({"current_password": "not it at all", "new_password": NEW_PASSWORD})).await;
    wrong.assert_error(422, "form_password_incorrect");
    assert_eq!(wrong.json()["errors"][0]["meta"]["param_name"], "current_password");
    let weak = change(&app, token, json!({"current_password": PASSWORD, "new_password": "password"})).await;
    weak.assert_error(422, "form_password_pwned");
    assert_eq!(weak.json()["errors"][0]["meta"]["param_name"], "new_password");
    change(&app, token, json!({"current_password": PASSWORD, "new_password": "short"}))
        .await
        .assert_error(422, "form_password_length_too_short");
    change(&app, token, json!({"current_password": PASSWORD, "new_password": "ann@example.com"}))
        .await
        .assert_error(422, "form_password_validation_failed");
    change(&app, token, json!({"new_password": NEW_PASSWORD, "sign_out_other_sessions": true}))
        .await
        .assert_error(422, "form_param_unknown");
    app.call(Method::POST, paths::MY_PASSWORD, &[], Some(json!({"new_password": NEW_PASSWORD})))
        .await
        .assert_error(401, "authentication_invalid");

    // Changed, keeping the other sessions.
    let updated_before = events(&db, "user.updated").await;
    let res = change(&app, token, json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD})).await;
    assert_eq!(res.status, StatusCode::OK, "{}", String::from_utf8_lossy(&res.body));
    let user: User = serde_json::from_slice(&res.body).unwrap();
    assert!(user.password_enabled && user.private_metadata.is_none());
    assert_eq!(events(&db, "user.updated").await, updated_before + 1);
    sign_in(&app, "ann@example.com", PASSWORD).await.assert_error(422, "form_password_incorrect");
    sign_in(&app, "ann@example.com", NEW_PASSWORD).await.auth();
    let other = app.refresh(other.refresh_token.expose()).await.auth();

    // Again, signing out of the other sessions: they are revoked, this one is not.
    let res = change(
        &app,
        token,
        json!({"current_password": NEW_PASSWORD, "new_password": "yet another passphrase",
               "sign_out_of_other_sessions": true}),
    )
    .await;
    assert_eq!(res.status, StatusCode::OK, "{}", String::from_utf8_lossy(&res.body));
    app.refresh(other.refresh_token.expose()).await.assert_error(401, "session_revoked");
    app.refresh(third.refresh_token.expose()).await.assert_error(401, "session_revoked");
    let mine = app.refresh(mine.refresh_token.expose()).await.auth();
    assert_eq!(me(&app, mine.jwt.expose()).await.id, user.id);
    // The two others and the one the sign-in above made.
    assert_eq!(events(&db, "session.revoked").await, 3);
    let sessions = app.get_bearer(paths::SESSIONS, mine.jwt.expose()).await.json();
    assert_eq!(sessions["total_count"], 1);
}

db_test!(a_user_without_a_password_sets_one_and_signs_in_with_it);
async fn a_user_without_a_password_sets_one_and_signs_in_with_it(db: Db) {
    let app = TestApp::new(&db).await;
    // A passwordless sign-up, verified by its code from the development mailbox.
    let res = app.post(paths::SIGN_UPS, json!({"email_address": "bo@example.com"})).await;
    let id = res.json()["sign_up"]["id"].as_str().unwrap().to_owned();
    app.post(&paths::fill(paths::SIGN_UP_PREPARE_VERIFICATION, &[&id]), json!({"strategy": "email_code"}))
        .await;
    let mail = app.backend(Method::GET, &format!("{}?to=bo@example.com", paths::EMAILS), None).await.json();
    let code = mail["data"][0]["data"]["otp_code"].as_str().unwrap().to_owned();
    let auth: AuthResponse = app
        .post(&paths::fill(paths::SIGN_UP_ATTEMPT_VERIFICATION, &[&id]), json!({"code": code}))
        .await
        .auth();
    assert!(!auth.user.password_enabled);
    sign_in(&app, "bo@example.com", NEW_PASSWORD).await.assert_error(422, "form_password_incorrect");

    // No current password to give; one given anyway is ignored.
    let res = change(
        &app,
        auth.jwt.expose(),
        json!({"current_password": "whatever", "new_password": NEW_PASSWORD}),
    )
    .await;
    assert_eq!(res.status, StatusCode::OK, "{}", String::from_utf8_lossy(&res.body));
    assert_eq!(res.json()["password_enabled"], true);
    assert!(me(&app, auth.jwt.expose()).await.password_enabled);
    sign_in(&app, "bo@example.com", NEW_PASSWORD).await.auth();
    // From now on the password is needed to change it.
    change(&app, auth.jwt.expose(), json!({"new_password": "yet another passphrase"}))
        .await
        .assert_error(422, "form_param_missing");
}

db_test!(wrong_current_passwords_count_against_the_sign_in_lockout);
async fn wrong_current_passwords_count_against_the_sign_in_lockout(db: Db) {
    let app = TestApp::new(&db).await;
    let auth = app.sign_up_as("cy@example.com").await;
    let token = auth.jwt.expose();
    let budget = app.config.sign_in_failures_per_account_and_ip;
    for _ in 0..budget {
        change(&app, token, json!({"current_password": "not it at all", "new_password": NEW_PASSWORD}))
            .await
            .assert_error(422, "form_password_incorrect");
    }
    // Locked out: even the right password is refused before any hashing, here and at sign-in.
    let locked =
        change(&app, token, json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD})).await;
    locked.assert_error(429, "rate_limited");
    assert!(locked.header("retry-after").is_some());
    sign_in(&app, "cy@example.com", PASSWORD).await.assert_error(429, "rate_limited");
    sign_in(&app, "cy@example.com", NEW_PASSWORD).await.assert_error(429, "rate_limited");
}

db_test!(of_two_concurrent_changes_from_one_password_exactly_one_is_made);
async fn of_two_concurrent_changes_from_one_password_exactly_one_is_made(db: Db) {
    let app = TestApp::new(&db).await;
    let auth = app.sign_up_as("di@example.com").await;
    let token = auth.jwt.expose();
    let (a, b) = tokio::join!(
        change(&app, token, json!({"current_password": PASSWORD, "new_password": "first new passphrase"})),
        change(&app, token, json!({"current_password": PASSWORD, "new_password": "second new passphrase"})),
    );
    let mut statuses = [a.status.as_u16(), b.status.as_u16()];
    statuses.sort();
    assert_eq!(
        statuses,
        [200, 422],
        "{} / {}",
        String::from_utf8_lossy(&a.body),
        String::from_utf8_lossy(&b.body)
    );
    let (winner, loser) =
        if a.status == 200 { ("first new passphrase", &b) } else { ("second new passphrase", &a) };
    assert_eq!(loser.code(), "form_password_incorrect");
    sign_in(&app, "di@example.com", winner).await.auth();
}

db_test!(an_account_is_deleted_by_its_user_as_by_the_backend_api_unless_the_instance_forbids_it);
async fn an_account_is_deleted_by_its_user_as_by_the_backend_api_unless_the_instance_forbids_it(db: Db) {
    let app = TestApp::new(&db).await;
    let env = app.call(Method::GET, paths::ENVIRONMENT, &[], None).await.json();
    assert_eq!(env["delete_self_enabled"], true);
    let mine = app.sign_up_as("ed@example.com").await;
    let other = app.sign_in_as("ed@example.com").await;
    let keeper = app.sign_up_as("fi@example.com").await;
    // A membership, to see it go with the user.
    let org = app
        .with_token(
            Method::POST,
            paths::CLIENT_ORGANIZATIONS,
            mine.jwt.expose(),
            Some(json!({"name": "Acme"})),
        )
        .await;
    assert_eq!(org.status, StatusCode::OK, "{}", String::from_utf8_lossy(&org.body));
    upload(&app, mine.jwt.expose(), "image/png", png(64)).await;

    // Turned off through the Backend API: refused, nothing deleted; the environment says so.
    let res = app.backend(Method::PATCH, paths::INSTANCE, Some(json!({"delete_self_enabled": false}))).await;
    assert_eq!(res.status, StatusCode::OK, "{}", String::from_utf8_lossy(&res.body));
    assert_eq!(res.json()["delete_self_enabled"], false);
    assert!(res.json()["overridden"].as_array().unwrap().contains(&json!("delete_self_enabled")));
    let env = app.call(Method::GET, paths::ENVIRONMENT, &[], None).await.json();
    assert_eq!(env["delete_self_enabled"], false);
    let refused = app.with_token(Method::DELETE, paths::ME, mine.jwt.expose(), None).await;
    refused.assert_error(403, "delete_self_disabled");
    assert_eq!(me(&app, mine.jwt.expose()).await.id, mine.user.id);

    // Back to the flag (on): deleted, with what the Backend API's deletion takes.
    app.backend(Method::PATCH, paths::INSTANCE, Some(json!({"delete_self_enabled": null}))).await;
    let res = app.with_token(Method::DELETE, paths::ME, mine.jwt.expose(), None).await;
    assert_eq!(res.status, StatusCode::OK, "{}", String::from_utf8_lossy(&res.body));
    let deleted: DeletedObject = serde_json::from_slice(&res.body).unwrap();
    assert_eq!(deleted, DeletedObject { object: "user".into(), id: mine.user.id.clone(), deleted: true });
    app.backend(Method::GET, &paths::fill(paths::USER, &[&mine.user.id]), None)
        .await
        .assert_error(404, "resource_not_found");
    for gone in [&mine, &other] {
        let res = app.refresh(gone.refresh_token.expose()).await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED, "{}", String::from_utf8_lossy(&res.body));
        app.get_bearer(paths::ME, gone.jwt.expose()).await.assert_error(401, "authentication_invalid");
    }
    sign_in(&app, "ed@example.com", PASSWORD).await.assert_error(422, "form_password_incorrect");
    assert_eq!(db.scalar("SELECT COUNT(*) FROM images").await, 0, "the profile image went with the user");
    assert_eq!(db.scalar("SELECT COUNT(*) FROM organization_memberships").await, 0);
    assert_eq!(events(&db, "user.deleted").await, 1);
    assert_eq!(events(&db, "session.removed").await, 2);
    let membership_events =
        db.scalar("SELECT COUNT(*) FROM webhook_events WHERE type = 'organizationMembership.deleted'").await;
    assert_eq!(membership_events, 1);
    // Deleting again: the session is gone.
    app.with_token(Method::DELETE, paths::ME, mine.jwt.expose(), None)
        .await
        .assert_error(401, "authentication_invalid");
    assert_eq!(me(&app, keeper.jwt.expose()).await.id, keeper.user.id, "other users are untouched");
}

db_test!(the_delete_self_flag_turns_it_off_from_the_start);
async fn the_delete_self_flag_turns_it_off_from_the_start(db: Db) {
    let app = TestApp::with(&db, |c| c.delete_self_enabled = false).await;
    let env = app.call(Method::GET, paths::ENVIRONMENT, &[], None).await.json();
    assert_eq!(env["delete_self_enabled"], false);
    let auth = app.sign_up_as("gus@example.com").await;
    app.with_token(Method::DELETE, paths::ME, auth.jwt.expose(), None)
        .await
        .assert_error(403, "delete_self_disabled");
    // The Backend API still deletes.
    let res = app.backend(Method::DELETE, &paths::fill(paths::USER, &[&auth.user.id]), None).await;
    assert_eq!(res.json()["deleted"], true);
}

/// A body sent as chunks, without a `Content-Length`.
struct Chunks(std::vec::IntoIter<Vec<u8>>);

impl futures_core::Stream for Chunks {
    type Item = Result<Vec<u8>, std::io::Error>;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        std::task::Poll::Ready(self.0.next().map(Ok))
    }
}

/// A body whose first read fails (a client gone mid-upload).
struct Failing;

impl futures_core::Stream for Failing {
    type Item = Result<Vec<u8>, std::io::Error>;

    fn poll_next(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        std::task::Poll::Ready(Some(Err(std::io::Error::other("the client went away"))))
    }
}

/// A PNG of `len` bytes: the signature, then filler (the server reads the signature only).
fn png(len: usize) -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    bytes.resize(len, 7);
    bytes
}

async fn upload(app: &TestApp, token: &str, content_type: &str, bytes: Vec<u8>) -> Resp {
    let req = Request::builder()
        .method("POST")
        .uri(paths::MY_PROFILE_IMAGE)
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", content_type)
        .header("content-length", bytes.len())
        .body(Body::from(bytes))
        .unwrap();
    app.send(req).await
}

db_test!(a_profile_image_is_uploaded_checked_served_replaced_and_removed);
async fn a_profile_image_is_uploaded_checked_served_replaced_and_removed(db: Db) {
    let app = TestApp::new(&db).await;
    let auth = app.sign_up_as("hal@example.com").await;
    let token = auth.jwt.expose();
    assert_eq!(me(&app, token).await.image_url, "");

    // Refused: no session, a type that is not one of the four, bytes that are not the declared type.
    let req =
        Request::builder().method("POST").uri(paths::MY_PROFILE_IMAGE).header("content-type", "image/png");
    app.send(req.body(Body::from(png(100))).unwrap()).await.assert_error(401, "authentication_invalid");
    // Both are said before the body is read: a body that fails when read is never touched.
    let unreadable = || Body::from_stream(Failing);
    let req =
        Request::builder().method("POST").uri(paths::MY_PROFILE_IMAGE).header("content-type", "image/png");
    app.send(req.body(unreadable()).unwrap()).await.assert_error(401, "authentication_invalid");
    let req = Request::builder()
        .method("POST")
        .uri(paths::MY_PROFILE_IMAGE)
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "text/html");
    app.send(req.body(unreadable()).unwrap()).await.assert_error(415, "unsupported_media_type");
    upload(&app, token, "image/svg+xml", b"<svg xmlns='http://www.w3.org/2000/svg'/>".to_vec())
        .await
        .assert_error(415, "unsupported_media_type");
    upload(&app, token, "text/html", b"<html>".to_vec()).await.assert_error(415, "unsupported_media_type");
    let lying = upload(&app, token, "image/png", b"<html><script>alert(1)</script></html>".to_vec()).await;
    lying.assert_error(422, "form_param_format_invalid");
    upload(&app, token, "image/jpeg", png(100)).await.assert_error(422, "form_param_format_invalid");
    upload(&app, token, "image/png", Vec::new()).await.assert_error(422, "form_param_format_invalid");
    assert_eq!(db.scalar("SELECT COUNT(*) FROM images").await, 0);

    // Accepted: the image, its address on this server, the user's image_url.
    let updated_before = db.scalar("SELECT COUNT(*) FROM webhook_events WHERE type = 'user.updated'").await;
    let res = upload(&app, token, "image/png", png(Image::MAX_BYTES)).await;
    assert_eq!(res.status, StatusCode::OK, "{}", String::from_utf8_lossy(&res.body));
    let first: Image = serde_json::from_slice(&res.body).unwrap();
    assert_eq!(first.object, "image");
    assert!(first.id.starts_with("img_") && first.id.len() >= 26, "{}", first.id);
    assert_eq!(first.name, format!("{}.png", first.id));
    let path = paths::fill(paths::IMAGE, &[&first.id]);
    assert_eq!(first.public_url, format!("{}{path}", app.state.public_url()));
    assert_eq!(me(&app, token).await.image_url, first.public_url);
    let updated = db.scalar("SELECT COUNT(*) FROM webhook_events WHERE type = 'user.updated'").await;
    assert_eq!(updated, updated_before + 1);

    // Served to anyone, with its type, unsniffable, inert, cached for good.
    let served = app.call(Method::GET, &path, &[], None).await;
    assert_eq!(served.status, StatusCode::OK);
    assert_eq!(served.body, png(Image::MAX_BYTES));
    assert_eq!(served.header("content-type"), Some("image/png"));
    assert_eq!(served.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(served.header("content-security-policy"), Some("default-src 'none'; sandbox"));
    assert_eq!(served.header("cache-control"), Some("public, max-age=31536000, immutable"));
    for unknown in ["img_doesnotexist000000000", "user_x", "x"] {
        let res = app.call(Method::GET, &paths::fill(paths::IMAGE, &[unknown]), &[], None).await;
        res.assert_error(404, "resource_not_found");
    }

    // Replaced by a JPEG: the first one is gone.
    let mut jpeg = b"\xff\xd8\xff\xe0\0\x10JFIF\0".to_vec();
    jpeg.resize(2048, 1);
    let res = upload(&app, token, "image/jpeg; charset=binary", jpeg.clone()).await;
    let second: Image = serde_json::from_slice(&res.body).unwrap();
    assert_eq!(second.name, format!("{}.jpg", second.id));
    app.call(Method::GET, &path, &[], None).await.assert_error(404, "resource_not_found");
    let served = app.call(Method::GET, &paths::fill(paths::IMAGE, &[&second.id]), &[], None).await;
    assert_eq!((served.header("content-type"), served.body.clone()), (Some("image/jpeg"), jpeg));
    assert_eq!(db.scalar("SELECT COUNT(*) FROM images").await, 1);
    assert_eq!(me(&app, token).await.image_url, second.public_url);

    // Removed: image_url empty, the image gone; removing again finds nothing.
    let res = app.with_token(Method::DELETE, paths::MY_PROFILE_IMAGE, token, None).await;
    assert_eq!(res.status, StatusCode::OK, "{}", String::from_utf8_lossy(&res.body));
    let removed: DeletedObject = serde_json::from_slice(&res.body).unwrap();
    assert_eq!(removed, DeletedObject { object: "image".into(), id: second.id.clone(), deleted: true });
    assert_eq!(me(&app, token).await.image_url, "");
    app.call(Method::GET, &paths::fill(paths::IMAGE, &[&second.id]), &[], None)
        .await
        .assert_error(404, "resource_not_found");
    app.with_token(Method::DELETE, paths::MY_PROFILE_IMAGE, token, None)
        .await
        .assert_error(404, "resource_not_found");
    assert_eq!(db.scalar("SELECT COUNT(*) FROM images").await, 0);
}

db_test!(an_image_over_the_limit_is_refused_whether_announced_or_streamed);
async fn an_image_over_the_limit_is_refused_whether_announced_or_streamed(db: Db) {
    let app = TestApp::new(&db).await;
    let auth = app.sign_up_as("ivy@example.com").await;
    let token = auth.jwt.expose();
    // Announced by Content-Length: refused before the body is read.
    upload(&app, token, "image/png", png(Image::MAX_BYTES + 1))
        .await
        .assert_error(413, "request_body_too_large");
    // Streamed without a length, in 64 KiB chunks: refused once it passes the limit.
    let chunks: Vec<Vec<u8>> = png(Image::MAX_BYTES + 1).chunks(64 * 1024).map(<[u8]>::to_vec).collect();
    let req = Request::builder()
        .method("POST")
        .uri(paths::MY_PROFILE_IMAGE)
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "image/png")
        .body(Body::from_stream(Chunks(chunks.into_iter())))
        .unwrap();
    app.send(req).await.assert_error(413, "request_body_too_large");
    assert_eq!(db.scalar("SELECT COUNT(*) FROM images").await, 0);
    assert_eq!(me(&app, token).await.image_url, "");
    // The JSON routes keep their own, smaller limit.
    let big = json!({"first_name": "x".repeat(app.config.max_body_bytes)});
    app.with_token(Method::PATCH, paths::ME, token, Some(big))
        .await
        .assert_error(413, "request_body_too_large");
}
