//! Backend API (`/v1/users…`, `/v1/sessions…`): secret key only, private metadata, no CORS.

mod common;

use axum::http::{Method, StatusCode};
use common::{Db, TestApp, db_test};
use hallpass_protocol::{User, paths};
use serde_json::json;

db_test!(the_backend_api_requires_the_secret_key);
async fn the_backend_api_requires_the_secret_key(db: Db) {
    let app = TestApp::new(&db).await;
    app.call(Method::GET, paths::USERS, &[], None).await.assert_error(401, "secret_key_required");
    let pk = format!("Bearer {}", app.state.publishable_key());
    app.call(Method::GET, paths::USERS, &[("authorization", &pk)], None)
        .await
        .assert_error(401, "secret_key_required");
    let jwt = app.sign_up_as("ada@example.com").await.jwt;
    app.get_bearer(paths::USERS, jwt.expose()).await.assert_error(401, "secret_key_required");
    let wrong = format!("Bearer {}x", app.secret_key());
    app.call(Method::GET, paths::USERS, &[("authorization", &wrong)], None)
        .await
        .assert_error(401, "authentication_invalid");
    app.call(Method::GET, paths::USERS, &[("authorization", "Bearer sk_test_short")], None)
        .await
        .assert_error(401, "authentication_invalid");

    // No CORS on the Backend API, whatever the origin.
    let res = app
        .call(Method::GET, paths::USERS, &[("origin", "http://localhost:3000"), ("authorization", &pk)], None)
        .await;
    assert_eq!(res.header("access-control-allow-origin"), None);
    let ok = app.backend(Method::GET, paths::USERS, None).await;
    assert_eq!(ok.status, StatusCode::OK);
}

db_test!(users_list_get_metadata_delete);
async fn users_list_get_metadata_delete(db: Db) {
    let app = TestApp::new(&db).await;
    let ada = app.sign_up_as("ada@example.com").await;
    let bob = app.sign_up_as("bob@example.com").await;

    let list = app.backend(Method::GET, "/v1/users?limit=1", None).await;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(list.json()["total_count"], 2);
    assert_eq!(list.json()["data"].as_array().unwrap().len(), 1);
    assert!(list.json()["data"][0].get("private_metadata").is_some(), "the backend sees private metadata");
    app.backend(Method::GET, "/v1/users?limit=abc", None).await.assert_error(400, "request_body_invalid");

    let path = paths::USER.replace("{id}", &ada.user.id);
    let got = app.backend(Method::GET, &path, None).await;
    let got: User = serde_json::from_slice(&got.body).unwrap();
    assert_eq!(got.id, ada.user.id);
    app.backend(Method::GET, &paths::USER.replace("{id}", "user_nope"), None)
        .await
        .assert_error(404, "resource_not_found");

    let meta = paths::USER_METADATA.replace("{id}", &ada.user.id);
    app.backend(Method::PATCH, &meta, Some(json!({"public_metadata": {"role": "admin", "tier": {"a": 1}}})))
        .await;
    let res = app
        .backend(
            Method::PATCH,
            &meta,
            Some(json!({"public_metadata": {"tier": {"b": 2}}, "private_metadata": {"stripe": "cus_1"}})),
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", String::from_utf8_lossy(&res.body));
    let user: User = serde_json::from_slice(&res.body).unwrap();
    assert_eq!(
        serde_json::Value::Object(user.public_metadata.clone()),
        json!({"role": "admin", "tier": {"a": 1, "b": 2}})
    );
    assert_eq!(user.private_metadata.unwrap()["stripe"], "cus_1");
    app.backend(Method::PATCH, &meta, Some(json!({"private_metadata": {"blob": "x".repeat(9000)}})))
        .await
        .assert_error(422, "form_param_too_long");
    app.backend(Method::PATCH, &meta, Some(json!({"nope": {}})))
        .await
        .assert_error(422, "form_param_unknown");

    // The browser sees public metadata, never private.
    let me = app.get_bearer(paths::ME, ada.jwt.expose()).await.json();
    assert_eq!(me["user"]["public_metadata"]["role"], "admin");
    assert!(me["user"].get("private_metadata").is_none());
    let refreshed = app.refresh(ada.refresh_token.expose()).await;
    assert!(refreshed.json()["user"].get("private_metadata").is_none());
    let ada_token = refreshed.auth().refresh_token;

    let deleted = app.backend(Method::DELETE, &path, None).await;
    assert_eq!(deleted.json(), json!({"object": "user", "id": ada.user.id, "deleted": true}));
    app.backend(Method::DELETE, &path, None).await.assert_error(404, "resource_not_found");
    app.refresh(ada_token.expose()).await.assert_error(401, "refresh_token_invalid");
    app.get_bearer(paths::ME, ada.jwt.expose()).await.assert_error(401, "authentication_invalid");
    // The address is free again.
    app.sign_up_as("ada@example.com").await;
    assert_eq!(app.get_bearer(paths::ME, bob.jwt.expose()).await.status, StatusCode::OK);
}

db_test!(sessions_list_and_revoke);
async fn sessions_list_and_revoke(db: Db) {
    let app = TestApp::new(&db).await;
    let ada = app.sign_up_as("ada@example.com").await;
    let second = app.sign_in_as("ada@example.com").await;
    app.backend(Method::GET, paths::BACKEND_SESSIONS, None).await.assert_error(422, "form_param_missing");
    let list = app.backend(Method::GET, &format!("/v1/sessions?user_id={}", ada.user.id), None).await;
    assert_eq!(list.json()["total_count"], 2);

    let revoke = paths::BACKEND_SESSION_REVOKE.replace("{id}", &second.session.id);
    let res = app.backend(Method::POST, &revoke, None).await;
    assert_eq!(res.json()["status"], "revoked");
    app.refresh(second.refresh_token.expose()).await.assert_error(401, "session_revoked");
    let active =
        app.backend(Method::GET, &format!("/v1/sessions?user_id={}&status=active", ada.user.id), None).await;
    assert_eq!(active.json()["total_count"], 1);
    assert_eq!(active.json()["data"][0]["id"], ada.session.id.as_str());
    app.backend(Method::POST, &paths::BACKEND_SESSION_REVOKE.replace("{id}", "sess_nope"), None)
        .await
        .assert_error(404, "resource_not_found");

    // One session by id, as it stands now.
    let one =
        app.backend(Method::GET, &paths::BACKEND_SESSION.replace("{id}", &second.session.id), None).await;
    assert_eq!(
        (one.json()["id"].as_str(), one.json()["status"].as_str()),
        (Some(second.session.id.as_str()), Some("revoked"))
    );
    let one = app.backend(Method::GET, &paths::BACKEND_SESSION.replace("{id}", &ada.session.id), None).await;
    assert_eq!(one.json()["status"], "active");
    assert_eq!(one.json()["user_id"], ada.user.id.as_str());
    app.backend(Method::GET, &paths::BACKEND_SESSION.replace("{id}", "sess_nope"), None)
        .await
        .assert_error(404, "resource_not_found");
}

db_test!(update_user_sets_names_and_replaces_metadata);
async fn update_user_sets_names_and_replaces_metadata(db: Db) {
    let app = TestApp::new(&db).await;
    let ada = app.sign_up_as("ada@example.com").await;
    let path = paths::USER.replace("{id}", &ada.user.id);
    let meta = paths::USER_METADATA.replace("{id}", &ada.user.id);
    app.backend(Method::PATCH, &meta, Some(json!({"public_metadata": {"role": "admin", "keep": 1}}))).await;

    let res = app
        .backend(
            Method::PATCH,
            &path,
            Some(
                json!({"first_name": " Ada ", "last_name": "Lovelace", "public_metadata": {"role": "member"},
                        "private_metadata": {"stripe": "cus_2"}}),
            ),
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", String::from_utf8_lossy(&res.body));
    let user: User = serde_json::from_slice(&res.body).unwrap();
    assert_eq!((user.first_name.as_deref(), user.last_name.as_deref()), (Some("Ada"), Some("Lovelace")));
    // Replaced whole, not merged: `keep` is gone.
    assert_eq!(serde_json::Value::Object(user.public_metadata), json!({"role": "member"}));
    assert_eq!(user.private_metadata.unwrap()["stripe"], "cus_2");
    assert!(user.updated_at >= ada.user.updated_at);

    // Absent fields stay; null clears a name.
    let res = app.backend(Method::PATCH, &path, Some(json!({"last_name": null}))).await;
    assert_eq!((res.json()["first_name"].as_str(), res.json()["last_name"].as_str()), (Some("Ada"), None));
    assert_eq!(res.json()["public_metadata"], json!({"role": "member"}));
    // The browser sees the change.
    let me = app.get_bearer(paths::ME, ada.jwt.expose()).await.json();
    assert_eq!(me["user"]["first_name"], "Ada");

    app.backend(Method::PATCH, &path, Some(json!({"first_name": "x".repeat(300)})))
        .await
        .assert_error(422, "form_param_too_long");
    app.backend(Method::PATCH, &path, Some(json!({"unsafe_metadata": {"blob": "x".repeat(9000)}})))
        .await
        .assert_error(422, "form_param_too_long");
    app.backend(Method::PATCH, &path, Some(json!({"email_address": "eve@example.com"})))
        .await
        .assert_error(422, "form_param_unknown");
    app.backend(Method::PATCH, &paths::USER.replace("{id}", "user_nope"), Some(json!({"first_name": "X"})))
        .await
        .assert_error(404, "resource_not_found");
}
