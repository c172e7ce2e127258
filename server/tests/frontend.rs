//! Frontend API (`/v1/client/…`): every endpoint's happy path and its bad inputs.

mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use common::{Db, PASSWORD, TestApp, db_test};
use hallpass_protocol::{MeResponse, SERVER_TIME_HEADER, SessionClaims, paths};
use hallpass_server::jwt::SigningKey;
use serde_json::json;

db_test!(sign_up_returns_user_session_jwt_and_refresh_token);
async fn sign_up_returns_user_session_jwt_and_refresh_token(db: Db) {
    let app = TestApp::new(&db).await;
    let res = app
        .post(
            paths::SIGN_UPS,
            json!({"email_address": "  Ada@Example.COM ", "password": PASSWORD, "first_name": "Ada",
                   "last_name": "Lovelace", "unsafe_metadata": {"theme": "dark"}}),
        )
        .await;
    let server_time: i64 = res.header(SERVER_TIME_HEADER).unwrap().parse().unwrap();
    assert_eq!(server_time, app.clock_now());
    let raw = res.json();
    assert!(raw["user"].get("private_metadata").is_none(), "private_metadata must never reach the browser");
    assert!(raw["user"].get("password_hash").is_none());
    let auth = res.auth();
    assert!(auth.user.id.starts_with("user_"));
    assert!(auth.session.id.starts_with("sess_"));
    assert_eq!(auth.session.user_id, auth.user.id);
    let email = auth.user.primary_email_address().unwrap();
    assert_eq!(email.email_address, "ada@example.com");
    assert!(email.id.starts_with("idn_"));
    assert_eq!(auth.user.first_name.as_deref(), Some("Ada"));
    assert_eq!(auth.user.unsafe_metadata["theme"], "dark");
    assert!(auth.user.password_enabled);
    assert_eq!(auth.refresh_token.expose().len(), 43);
    assert_eq!(auth.server_time, server_time);
    assert!(auth.expires_in <= 60 && auth.expires_in >= 59);

    let claims = app.verify(auth.jwt.expose());
    assert_eq!(claims.sub, auth.user.id);
    assert_eq!(claims.sid, auth.session.id);
    assert_eq!(claims.v, 2);
    assert_eq!(claims.exp - claims.iat, 60);
    assert_eq!(claims.azp, None, "no Origin header, no azp");
}

db_test!(azp_is_the_request_origin);
async fn azp_is_the_request_origin(db: Db) {
    let app = TestApp::new(&db).await;
    let res = app
        .call(
            Method::POST,
            paths::SIGN_UPS,
            &[("origin", "http://localhost:5173")],
            Some(json!({"email_address": "a@example.com", "password": PASSWORD})),
        )
        .await;
    assert_eq!(res.header("access-control-allow-origin"), Some("http://localhost:5173"));
    let exposed = res.header("access-control-expose-headers").unwrap().to_ascii_lowercase();
    assert!(exposed.contains(SERVER_TIME_HEADER) && exposed.contains("retry-after"), "{exposed}");
    assert_eq!(app.verify(res.auth().jwt.expose()).azp.as_deref(), Some("http://localhost:5173"));
}

db_test!(malformed_bodies_are_refused_with_precise_codes);
async fn malformed_bodies_are_refused_with_precise_codes(db: Db) {
    let app = TestApp::new(&db).await;
    let raw = |body: &'static str, ct: &'static str| {
        Request::builder()
            .method("POST")
            .uri(paths::SIGN_UPS)
            .header("content-type", ct)
            .body(Body::from(body))
            .unwrap()
    };
    app.send(raw("{not json", "application/json")).await.assert_error(400, "request_body_invalid");
    app.send(raw(r#"{"email_address":"a@b.co","password":1234567890}"#, "application/json"))
        .await
        .assert_error(400, "request_body_invalid");
    app.send(raw(r#"{"email_address":"a@b.co","password":"x"}"#, "text/plain"))
        .await
        .assert_error(415, "unsupported_media_type");
    let no_ct = Request::builder().method("POST").uri(paths::SIGN_INS).body(Body::from("{}")).unwrap();
    app.send(no_ct).await.assert_error(415, "unsupported_media_type");

    // A password is required where no passwordless first factor is on (otherwise leaving it out
    // starts a passwordless sign-up: tests/email_flows.rs).
    let password_only = TestApp::with(&db, |c| c.sign_in_strategies = vec!["password".into()]).await;
    let missing = password_only.post(paths::SIGN_UPS, json!({"email_address": "a@example.com"})).await;
    missing.assert_error(422, "form_param_missing");
    assert_eq!(missing.json()["errors"][0]["meta"]["param_name"], "password");

    let extra = app
        .post(paths::SIGN_UPS, json!({"email_address": "a@example.com", "password": PASSWORD, "admin": true}))
        .await;
    extra.assert_error(422, "form_param_unknown");
    assert_eq!(extra.json()["errors"][0]["meta"]["param_name"], "admin");

    app.post(paths::SIGN_INS, json!({"identifier": "a@example.com", "password": PASSWORD, "x": 1}))
        .await
        .assert_error(422, "form_param_unknown");
    app.post(paths::REFRESH, json!({})).await.assert_error(422, "form_param_missing");
}

db_test!(ten_megabyte_bodies_are_refused);
async fn ten_megabyte_bodies_are_refused(db: Db) {
    let app = TestApp::new(&db).await;
    let big = format!(r#"{{"email_address":"a@example.com","password":"{}"}}"#, "x".repeat(10 * 1024 * 1024));
    // With a Content-Length: refused before the body is read.
    let req = Request::builder()
        .method("POST")
        .uri(paths::SIGN_UPS)
        .header("content-type", "application/json")
        .header("content-length", big.len())
        .header("origin", "http://localhost:3000")
        .body(Body::from(big.clone()))
        .unwrap();
    let res = app.send(req).await;
    res.assert_error(413, "request_body_too_large");
    assert_eq!(
        res.header("access-control-allow-origin"),
        Some("http://localhost:3000"),
        "the SDK can read it"
    );
    // Streamed without a length: refused once the limit is crossed.
    let stream = futures_stream(big.into_bytes());
    let req = Request::builder()
        .method("POST")
        .uri(paths::SIGN_UPS)
        .header("content-type", "application/json")
        .body(stream)
        .unwrap();
    app.send(req).await.assert_error(413, "request_body_too_large");
    // Overlong single fields within the body limit are refused by the field rules.
    app.post(
        paths::SIGN_UPS,
        json!({"email_address": "a@example.com", "password": PASSWORD, "first_name": "x".repeat(300)}),
    )
    .await
    .assert_error(422, "form_param_too_long");
    app.post(
        paths::SIGN_UPS,
        json!({"email_address": "a@example.com", "password": PASSWORD,
        "unsafe_metadata": {"blob": "x".repeat(9000)}}),
    )
    .await
    .assert_error(422, "form_param_too_long");
}

fn futures_stream(bytes: Vec<u8>) -> Body {
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        bytes.chunks(64 * 1024).map(|c| Ok(c.to_vec())).collect();
    Body::from_stream(tokio_stream_iter(chunks))
}

fn tokio_stream_iter(
    items: Vec<Result<Vec<u8>, std::io::Error>>,
) -> impl futures_core::Stream<Item = Result<Vec<u8>, std::io::Error>> + Send + 'static {
    struct Iter(std::vec::IntoIter<Result<Vec<u8>, std::io::Error>>);
    impl futures_core::Stream for Iter {
        type Item = Result<Vec<u8>, std::io::Error>;
        fn poll_next(
            mut self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Option<Self::Item>> {
            std::task::Poll::Ready(self.0.next())
        }
    }
    Iter(items.into_iter())
}

db_test!(sign_up_validates_email_and_password_and_refuses_duplicates);
async fn sign_up_validates_email_and_password_and_refuses_duplicates(db: Db) {
    let app = TestApp::new(&db).await;
    for bad in ["not-an-email", "a@b", "a b@example.com", "@example.com"] {
        let res = app.post(paths::SIGN_UPS, json!({"email_address": bad, "password": PASSWORD})).await;
        res.assert_error(422, "form_param_format_invalid");
        assert_eq!(res.json()["errors"][0]["meta"]["param_name"], "email_address");
    }
    app.post(paths::SIGN_UPS, json!({"email_address": "a@example.com", "password": "short"}))
        .await
        .assert_error(422, "form_password_length_too_short");
    app.post(paths::SIGN_UPS, json!({"email_address": "a@example.com", "password": "A@Example.com"}))
        .await
        .assert_error(422, "form_password_validation_failed");

    app.sign_up_as("dup@example.com").await;
    let again =
        app.post(paths::SIGN_UPS, json!({"email_address": " DUP@Example.com", "password": PASSWORD})).await;
    again.assert_error(422, "form_identifier_exists");
}

db_test!(sign_in_with_right_and_wrong_credentials);
async fn sign_in_with_right_and_wrong_credentials(db: Db) {
    let app = TestApp::new(&db).await;
    let up = app.sign_up_as("ada@example.com").await;
    let in1 = app
        .post(paths::SIGN_INS, json!({"identifier": "ADA@example.com ", "password": PASSWORD}))
        .await
        .auth();
    assert_eq!(in1.user.id, up.user.id);
    assert_ne!(in1.session.id, up.session.id, "every sign-in is a new session");
    assert!(in1.user.last_sign_in_at.is_some());

    let wrong = app
        .post(paths::SIGN_INS, json!({"identifier": "ada@example.com", "password": "wrong password"}))
        .await;
    wrong.assert_error(422, "form_password_incorrect");
    let unknown =
        app.post(paths::SIGN_INS, json!({"identifier": "nobody@example.com", "password": PASSWORD})).await;
    unknown.assert_error(422, "form_password_incorrect");
    assert_eq!(wrong.json(), unknown.json(), "unknown email and wrong password must be indistinguishable");
    app.post(paths::SIGN_INS, json!({"identifier": "ada@example.com", "password": "x".repeat(1000)}))
        .await
        .assert_error(422, "form_password_incorrect");
    app.post(paths::SIGN_INS, json!({"identifier": "nope", "password": PASSWORD}))
        .await
        .assert_error(422, "form_param_format_invalid");
}

db_test!(me_get_and_patch);
async fn me_get_and_patch(db: Db) {
    let app = TestApp::new(&db).await;
    let auth = app.sign_up_as("ada@example.com").await;
    let me = app.get_bearer(paths::ME, auth.jwt.expose()).await;
    assert_eq!(me.status, StatusCode::OK);
    assert!(me.json()["user"].get("private_metadata").is_none());
    let me: MeResponse = serde_json::from_slice(&me.body).unwrap();
    assert_eq!(me.user.id, auth.user.id);
    assert_eq!(me.session.id, auth.session.id);

    let bearer = format!("Bearer {}", auth.jwt.expose());
    let patched = app
        .call(
            Method::PATCH,
            paths::ME,
            &[("authorization", &bearer)],
            Some(json!({"first_name": "Ada", "last_name": "King", "unsafe_metadata": {"step": 2}})),
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", String::from_utf8_lossy(&patched.body));
    let patched: MeResponse = serde_json::from_slice(&patched.body).unwrap();
    assert_eq!(patched.user.first_name.as_deref(), Some("Ada"));
    assert_eq!(patched.user.last_name.as_deref(), Some("King"));
    assert_eq!(patched.user.unsafe_metadata["step"], 2);

    // `null` clears a name; absent fields stay.
    let cleared = app
        .call(Method::PATCH, paths::ME, &[("authorization", &bearer)], Some(json!({"last_name": null})))
        .await;
    let cleared: MeResponse = serde_json::from_slice(&cleared.body).unwrap();
    assert_eq!(cleared.user.last_name, None);
    assert_eq!(cleared.user.first_name.as_deref(), Some("Ada"));

    // public_metadata is never writable from the browser.
    app.call(
        Method::PATCH,
        paths::ME,
        &[("authorization", &bearer)],
        Some(json!({"public_metadata": {"role": "admin"}})),
    )
    .await
    .assert_error(422, "form_param_unknown");
    app.call(
        Method::PATCH,
        paths::ME,
        &[("authorization", &bearer)],
        Some(json!({"first_name": "x".repeat(300)})),
    )
    .await
    .assert_error(422, "form_param_too_long");
    app.call(Method::PATCH, paths::ME, &[], Some(json!({"first_name": "Eve"})))
        .await
        .assert_error(401, "authentication_invalid");
}

db_test!(session_tokens_are_checked_strictly);
async fn session_tokens_are_checked_strictly(db: Db) {
    let app = TestApp::new(&db).await;
    let auth = app.sign_up_as("ada@example.com").await;
    app.call(Method::GET, paths::ME, &[], None).await.assert_error(401, "authentication_invalid");
    app.get_bearer(paths::ME, "garbage").await.assert_error(401, "authentication_invalid");
    app.call(Method::GET, paths::ME, &[("authorization", &format!("Basic {}", auth.jwt.expose()))], None)
        .await
        .assert_error(401, "authentication_invalid");

    // The secret key is refused on the Frontend API with its own code.
    app.get_bearer(paths::ME, &app.secret_key()).await.assert_error(403, "secret_key_not_allowed");
    app.get_bearer(paths::SESSIONS, "sk_live_whatever").await.assert_error(403, "secret_key_not_allowed");

    // Same claims, signed by another key: with its own kid and with ours.
    let claims = app.verify(auth.jwt.expose());
    let (other, _) = SigningKey::generate().unwrap();
    app.get_bearer(paths::ME, &other.mint(&claims).unwrap())
        .await
        .assert_error(401, "authentication_invalid");
    let forged = forge_with_kid(&other, app.state.signing_key().kid(), &claims);
    app.get_bearer(paths::ME, &forged).await.assert_error(401, "authentication_invalid");

    // alg: none, with our kid.
    let none = format!(
        "{}.{}.",
        b64(&json!({"alg": "none", "kid": app.state.signing_key().kid(), "typ": "JWT"})),
        b64(&serde_json::to_value(&claims).unwrap())
    );
    app.get_bearer(paths::ME, &none).await.assert_error(401, "authentication_invalid");

    // Expired (past exp + leeway on the server's clock).
    app.clock.advance_secs(66);
    app.get_bearer(paths::ME, auth.jwt.expose()).await.assert_error(401, "authentication_invalid");
}

fn b64(v: &serde_json::Value) -> String {
    hallpass_server::secret::b64url(&serde_json::to_vec(v).unwrap())
}

fn forge_with_kid(key: &SigningKey, kid: &str, claims: &SessionClaims) -> String {
    let head = b64(&json!({"alg": "RS256", "kid": kid, "typ": "JWT"}));
    let body = b64(&serde_json::to_value(claims).unwrap());
    let signing_input = format!("{head}.{body}");
    let sig = key.sign_rs256(signing_input.as_bytes()).unwrap();
    format!("{signing_input}.{}", hallpass_server::secret::b64url(&sig))
}

db_test!(list_and_revoke_own_sessions);
async fn list_and_revoke_own_sessions(db: Db) {
    let app = TestApp::new(&db).await;
    let a1 = app.sign_up_as("ada@example.com").await;
    let a2 = app.sign_in_as("ada@example.com").await;
    let b = app.sign_up_as("bob@example.com").await;

    let list = app.get_bearer(paths::SESSIONS, a1.jwt.expose()).await;
    assert_eq!(list.status, StatusCode::OK);
    let ids: Vec<String> = list.json()["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(list.json()["total_count"], 2);
    assert!(ids.contains(&a1.session.id) && ids.contains(&a2.session.id) && !ids.contains(&b.session.id));

    let bearer = format!("Bearer {}", a1.jwt.expose());
    // Someone else's session is not found (not "forbidden": no existence oracle).
    let path = paths::SESSION_REVOKE.replace("{id}", &b.session.id);
    app.call(Method::POST, &path, &[("authorization", &bearer)], None)
        .await
        .assert_error(404, "resource_not_found");
    let path = paths::SESSION_REVOKE.replace("{id}", "sess_nope");
    app.call(Method::POST, &path, &[("authorization", &bearer)], None)
        .await
        .assert_error(404, "resource_not_found");

    let path = paths::SESSION_REVOKE.replace("{id}", &a2.session.id);
    let revoked = app.call(Method::POST, &path, &[("authorization", &bearer)], None).await;
    assert_eq!(revoked.status, StatusCode::OK);
    assert_eq!(revoked.json()["status"], "revoked");
    app.refresh(a2.refresh_token.expose()).await.assert_error(401, "session_revoked");
    app.get_bearer(paths::ME, a2.jwt.expose()).await.assert_error(401, "session_revoked");
    assert_eq!(app.get_bearer(paths::SESSIONS, a1.jwt.expose()).await.json()["total_count"], 1);
    // Bob is untouched.
    assert_eq!(app.get_bearer(paths::ME, b.jwt.expose()).await.status, StatusCode::OK);
}

db_test!(sign_out_ends_the_session_idempotently_even_with_an_expired_jwt);
async fn sign_out_ends_the_session_idempotently_even_with_an_expired_jwt(db: Db) {
    let app = TestApp::new(&db).await;
    let auth = app.sign_up_as("ada@example.com").await;
    app.clock.advance_secs(120); // the JWT is long expired; sign-out needs only the refresh token
    let out = app.post(paths::SIGN_OUT, json!({"refresh_token": auth.refresh_token})).await;
    assert_eq!(out.status, StatusCode::OK, "{}", String::from_utf8_lossy(&out.body));
    assert_eq!(out.json()["status"], "ended");
    let again = app.post(paths::SIGN_OUT, json!({"refresh_token": auth.refresh_token})).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.json()["status"], "ended");
    app.refresh(auth.refresh_token.expose()).await.assert_error(401, "session_ended");
    app.post(paths::SIGN_OUT, json!({"refresh_token": "garbage"}))
        .await
        .assert_error(401, "refresh_token_invalid");
    let unknown = hallpass_server::refresh::generate().unwrap();
    app.post(paths::SIGN_OUT, json!({"refresh_token": unknown.expose()}))
        .await
        .assert_error(401, "refresh_token_invalid");
}

db_test!(unknown_paths_and_methods_get_the_error_shape);
async fn unknown_paths_and_methods_get_the_error_shape(db: Db) {
    let app = TestApp::new(&db).await;
    app.call(Method::GET, "/v1/client/nope", &[], None).await.assert_error(404, "resource_not_found");
    let res = app.call(Method::PUT, paths::REFRESH, &[], None).await;
    res.assert_error(405, "method_not_allowed");
    app.call(Method::DELETE, paths::JWKS, &[], None).await.assert_error(405, "method_not_allowed");
}

db_test!(cors_preflight_from_allowed_and_disallowed_origins);
async fn cors_preflight_from_allowed_and_disallowed_origins(db: Db) {
    let app = TestApp::new(&db).await;
    let preflight = |origin: &'static str| {
        Request::builder()
            .method("OPTIONS")
            .uri(paths::REFRESH)
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type")
            .body(Body::empty())
            .unwrap()
    };
    let ok = app.send(preflight("http://127.0.0.1:41234")).await;
    assert!(ok.status.is_success());
    assert_eq!(ok.header("access-control-allow-origin"), Some("http://127.0.0.1:41234"));
    let methods = ok.header("access-control-allow-methods").unwrap();
    assert!(methods.contains("POST") && methods.contains("PATCH") && methods.contains("DELETE"));
    let headers = ok.header("access-control-allow-headers").unwrap().to_ascii_lowercase();
    assert!(headers.contains("authorization") && headers.contains("content-type"));
    assert_eq!(ok.header("access-control-allow-credentials"), None);
    assert!(ok.header(SERVER_TIME_HEADER).is_some());

    let bad = app.send(preflight("http://evil.example")).await;
    assert_eq!(bad.header("access-control-allow-origin"), None);
    assert!(bad.header(SERVER_TIME_HEADER).is_some());

    // An actual request from a disallowed origin is refused outright.
    app.call(
        Method::POST,
        paths::SIGN_UPS,
        &[("origin", "http://evil.example")],
        Some(json!({"email_address": "a@example.com", "password": PASSWORD})),
    )
    .await
    .assert_error(403, "origin_not_allowed");
}

db_test!(allowed_origins_are_configurable);
async fn allowed_origins_are_configurable(db: Db) {
    let app = TestApp::with(&db, |c| c.allowed_origins = vec!["https://app.example.com".into()]).await;
    let res = app.call(Method::GET, paths::ME, &[("origin", "http://localhost:3000")], None).await;
    res.assert_error(403, "origin_not_allowed");
    let res = app.call(Method::GET, paths::ME, &[("origin", "https://app.example.com")], None).await;
    res.assert_error(401, "authentication_invalid");
    assert_eq!(res.header("access-control-allow-origin"), Some("https://app.example.com"));
}

db_test!(failed_sign_ins_lock_the_address_out_of_the_account_and_attempts_are_limited_per_ip);
async fn failed_sign_ins_lock_the_address_out_of_the_account_and_attempts_are_limited_per_ip(db: Db) {
    let app = TestApp::with(&db, |c| c.sign_in_failures_per_account_and_ip = 3).await;
    app.sign_up_as("ada@example.com").await;
    for _ in 0..3 {
        app.post(paths::SIGN_INS, json!({"identifier": "ada@example.com", "password": "wrong password"}))
            .await
            .assert_error(422, "form_password_incorrect");
    }
    let limited =
        app.post(paths::SIGN_INS, json!({"identifier": "Ada@example.com", "password": PASSWORD})).await;
    limited.assert_error(429, "rate_limited");
    let retry: u64 = limited.header("retry-after").unwrap().parse().unwrap();
    assert!(retry >= 1);
    assert_eq!(limited.json()["errors"][0]["meta"]["retry_after"], retry);
    // Another account from the same client is not affected.
    app.sign_up_as("bob@example.com").await;
    app.sign_in_as("bob@example.com").await;
    // After the wait, the right password works again.
    app.clock.advance_secs(retry as i64);
    app.sign_in_as("ada@example.com").await;

    // Each app below is a fresh process on the same database. On PostgreSQL they share the budgets
    // (rows of the database, as replicas do): each starts an hour later, when every budget is full.
    let app = TestApp::with(&db, |c| c.rate_limit_auth_per_ip = 2).await;
    app.clock.advance_secs(3600);
    app.sign_up_as("a@example.com").await;
    app.sign_in_as("a@example.com").await;
    let limited =
        app.post(paths::SIGN_INS, json!({"identifier": "a@example.com", "password": PASSWORD})).await;
    limited.assert_error(429, "rate_limited");
    assert!(limited.header("retry-after").is_some());

    let app = TestApp::with(&db, |c| c.rate_limit_requests_per_ip = 2).await;
    app.clock.advance_secs(2 * 3600);
    app.get_bearer(paths::ME, "x").await.assert_error(401, "authentication_invalid");
    app.get_bearer(paths::ME, "x").await.assert_error(401, "authentication_invalid");
    app.get_bearer(paths::ME, "x").await.assert_error(429, "rate_limited");

    // Limits off: never refused, whatever the budgets say.
    let app = TestApp::with(&db, |c| {
        c.rate_limit_auth_per_ip = 1;
        c.disable_rate_limits = true;
    })
    .await;
    app.sign_up_as("c@example.com").await;
    app.sign_in_as("c@example.com").await;
    app.sign_in_as("c@example.com").await;
}

db_test!(owasp_argon2_defaults_work_end_to_end);
async fn owasp_argon2_defaults_work_end_to_end(db: Db) {
    let app = TestApp::with(&db, |c| {
        let d = hallpass_server::Config::defaults();
        c.argon2_memory_kib = d.argon2_memory_kib;
        c.argon2_iterations = d.argon2_iterations;
        c.argon2_parallelism = d.argon2_parallelism;
    })
    .await;
    assert_eq!(app.state.hash_params, hallpass_server::password::HashParams::OWASP);
    assert!(app.state.dummy_hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
    app.sign_up_as("ada@example.com").await;
    app.sign_in_as("ada@example.com").await;
    app.post(paths::SIGN_INS, json!({"identifier": "ada@example.com", "password": "wrong password"}))
        .await
        .assert_error(422, "form_password_incorrect");
}

db_test!(sign_out_takes_a_rotated_token_only_within_the_grace_window);
async fn sign_out_takes_a_rotated_token_only_within_the_grace_window(db: Db) {
    let app = TestApp::new(&db).await;
    // Within the window: a client whose refresh answer was lost signs out with the token it holds.
    let a = app.sign_up_as("ada@example.com").await;
    app.refresh(a.refresh_token.expose()).await.auth();
    app.clock.advance_secs(i64::from(app.config.refresh_grace_secs));
    let out = app.post(paths::SIGN_OUT, json!({"refresh_token": a.refresh_token})).await;
    assert_eq!(out.status, StatusCode::OK, "{}", String::from_utf8_lossy(&out.body));
    assert_eq!(out.json()["status"], "ended");

    // Past it: a rotated token is a copy someone kept; as on /refresh, the session is revoked.
    let b = app.sign_up_as("bob@example.com").await;
    let next = app.refresh(b.refresh_token.expose()).await.auth();
    app.clock.advance_secs(i64::from(app.config.refresh_grace_secs) + 1);
    app.post(paths::SIGN_OUT, json!({"refresh_token": b.refresh_token}))
        .await
        .assert_error(401, "refresh_token_reused");
    app.refresh(next.refresh_token.expose()).await.assert_error(401, "session_revoked");
    // The live token still signs out an already-ended session fine (idempotent).
    let out = app.post(paths::SIGN_OUT, json!({"refresh_token": next.refresh_token})).await;
    assert_eq!(out.status, StatusCode::OK);
    assert_eq!(out.json()["status"], "revoked");
}

db_test!(proxied_requests_are_limited_per_forwarded_client);
async fn proxied_requests_are_limited_per_forwarded_client(db: Db) {
    use std::net::SocketAddr;
    let app = TestApp::with(&db, |c| {
        c.trusted_proxies = vec!["10.0.0.1".into()];
        c.rate_limit_auth_per_ip = 2;
    })
    .await;
    let via_proxy = |client: &str| {
        let mut req = axum::http::Request::builder()
            .method(Method::POST)
            .uri(paths::SIGN_INS)
            .header("content-type", "application/json")
            .header("x-forwarded-for", client)
            .body(axum::body::Body::from(r#"{"identifier":"x@example.com","password":"wrong password"}"#))
            .unwrap();
        req.extensions_mut()
            .insert(axum::extract::ConnectInfo("10.0.0.1:5000".parse::<SocketAddr>().unwrap()));
        req
    };
    for _ in 0..2 {
        app.send(via_proxy("198.51.100.1")).await.assert_error(422, "form_password_incorrect");
    }
    app.send(via_proxy("198.51.100.1")).await.assert_error(429, "rate_limited");
    app.send(via_proxy("198.51.100.2")).await.assert_error(422, "form_password_incorrect");
}
