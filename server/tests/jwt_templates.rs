//! JWT templates: the Backend API resource (`/v1/jwt_templates…`) with every validation rule, and
//! the Frontend API token endpoint (`/v1/client/sessions/{session_id}/tokens/{template_name}`),
//! with tokens verified by real crypto (the JWKS for the instance key, the secret or public key for
//! custom ones).

mod common;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::{KeyPair as RsaKeyPair, KeySize};
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _};
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use base64::Engine as _;
use common::{Db, Resp, TestApp, db_test};
use hallpass_protocol::{AuthResponse, JwtTemplate, SERVER_TIME_HEADER, TemplateTokenResponse, paths};
use hallpass_server::jwt::SigningKey;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Value, json};

const ORIGIN: &str = "http://localhost:5173";
const SUPABASE_SECRET: &str = "super-secret-jwt-token-with-at-least-32-characters-long";

/// A deliberately weak RSA-1024 key (made with `openssl genpkey` for this test only): too small to
/// be accepted.
const RSA_1024_PKCS8: &str = "-----BEGIN PRIVATE KEY-----
MIICdwIBADANBgkqhkiG9w0BAQEFAASCAmEwggJdAgEAAoGBAM2QmG6nJ1JhoywZ
5wzNDZr26C/CuDYaYJksCJNwqiFw5HSMOv981iK6gw8b2YkP8gmCdqg4+5PPWEAc
uxtzhEi+AJgr4Iy8fV+scd3THRwCO1YuUWPXrUrg+eUNb9BS5w/SVax+snFDdKfX
v9+pBm+uBJ0F5xSHuqkuonhpYUNJAgMBAAECgYBt9rW0K7K7PQO+qbSRgneOuBoI
wo8sUfvutEF6LcC01uE+/2zoEu2x8jf9sxYxXdhKAgJbhu/9Z+N7mGL3ElpmYcQd
t6hNDoIJ+7Ra4ShicSZp4WSBrVVOAX366C2mulcm5m6ZVwOOUKMyhqAD5gcyekpD
xvEAewY5OzYbEegRAQJBAOwyWbYkAhUguqW3Wq7z44Kon/95L+YUHeFZkf7Rb1R5
R7fQ4vyaKjy7qKQtph6DI5AqUM1S6Iort77aNiPO5jECQQDezMXQmtCeDQhaO9+e
o33Mqc7o24ocVpHwKQwyDzSj9KTaB4qu2caQl2m2YOql35ucqDRKTYUmYxWWKtnV
+LCZAkB30qc+RpAj5cGqVhUUEjgFzcO1V+ZbwzLRYp409kyTPx+J+dddLFxnCRBp
kZrnecGt3jm1n+zGQ51oncy/Z7PRAkEAm4BWbGMxSa6U7s2tJL69NZQrCpD30xGE
6BbuIR5Fwk0kpdvvqlvq384eBSGdhEoOBQfM/zMdxI4Rae7cfSAGuQJBAMDqCGly
5imI9TFIcN2RiX2oAcrubnOXkSPVdvxf7AGsuBDI7rGi8MFr3Fx4V+IYTCvdpXsk
/lZ7+aTViaZR4iM=
-----END PRIVATE KEY-----
";

// ------------------------------------------------------------------------------------------ helpers

async fn create(app: &TestApp, body: Value) -> Resp {
    app.backend(Method::POST, paths::JWT_TEMPLATES, Some(body)).await
}

#[track_caller]
fn template(res: &Resp) -> JwtTemplate {
    assert_eq!(res.status, StatusCode::OK, "{}", String::from_utf8_lossy(&res.body));
    serde_json::from_slice(&res.body).unwrap()
}

fn template_path(id: &str) -> String {
    paths::JWT_TEMPLATE.replace("{id}", id)
}

fn token_path(session_id: &str, name: &str) -> String {
    paths::SESSION_TEMPLATE_TOKEN.replace("{session_id}", session_id).replace("{template_name}", name)
}

/// `POST` the token endpoint for `auth`'s own session, with its session token.
async fn mint(app: &TestApp, auth: &AuthResponse, name: &str) -> Resp {
    mint_with(app, auth.jwt.expose(), &auth.session.id, name, &[]).await
}

async fn mint_with(app: &TestApp, jwt: &str, session_id: &str, name: &str, extra: &[(&str, &str)]) -> Resp {
    let bearer = format!("Bearer {jwt}");
    let mut headers = vec![("authorization", bearer.as_str())];
    headers.extend_from_slice(extra);
    app.call(Method::POST, &token_path(session_id, name), &headers, None).await
}

#[track_caller]
fn token(res: &Resp) -> TemplateTokenResponse {
    assert_eq!(res.status, StatusCode::OK, "{}", String::from_utf8_lossy(&res.body));
    assert!(res.header(SERVER_TIME_HEADER).is_some());
    serde_json::from_slice(&res.body).unwrap()
}

fn b64url_json(part: &str) -> Value {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(part).unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

fn header_of(jwt: &str) -> Value {
    b64url_json(jwt.split('.').next().unwrap())
}

/// Signature checks only: time is judged by the tests on the manual clock.
fn validation(alg: Algorithm) -> Validation {
    let mut v = Validation::new(alg);
    v.validate_exp = false;
    v.validate_nbf = false;
    v.validate_aud = false;
    v.required_spec_claims.clear();
    v
}

/// Verifies `jwt` the way a third-party backend does: with the key of the published JWKS named by
/// the token's `kid`.
async fn verify_with_jwks(app: &TestApp, jwt: &str) -> Value {
    let jwks: JwkSet =
        serde_json::from_slice(&app.call(Method::GET, paths::JWKS, &[], None).await.body).unwrap();
    let kid = jsonwebtoken::decode_header(jwt).unwrap().kid.expect("instance-key tokens carry a kid");
    let key = DecodingKey::from_jwk(jwks.find(&kid).expect("kid is in the JWKS")).unwrap();
    jsonwebtoken::decode::<Value>(jwt, &key, &validation(Algorithm::RS256)).unwrap().claims
}

fn pem(label: &str, der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<String> =
        b64.as_bytes().chunks(64).map(|c| String::from_utf8_lossy(c).into_owned()).collect();
    format!("-----BEGIN {label}-----\n{}\n-----END {label}-----\n", lines.join("\n"))
}

/// One DER TLV at `at`: (tag, start of content, content length).
fn tlv(der: &[u8], at: usize) -> (u8, usize, usize) {
    let first = der[at + 1];
    if first < 0x80 {
        return (der[at], at + 2, usize::from(first));
    }
    let n = usize::from(first & 0x7f);
    let len = der[at + 2..at + 2 + n].iter().fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
    (der[at], at + 2 + n, len)
}

/// The PKCS#1 `RSAPrivateKey` inside a PKCS#8 `PrivateKeyInfo` (version, algorithm, OCTET STRING).
fn pkcs1_of(pkcs8: &[u8]) -> Vec<u8> {
    let (tag, start, _) = tlv(pkcs8, 0);
    assert_eq!(tag, 0x30);
    let (_, v_start, v_len) = tlv(pkcs8, start);
    let (_, a_start, a_len) = tlv(pkcs8, v_start + v_len);
    let (tag, k_start, k_len) = tlv(pkcs8, a_start + a_len);
    assert_eq!(tag, 0x04, "OCTET STRING");
    pkcs8[k_start..k_start + k_len].to_vec()
}

fn rsa_public(pair: &RsaKeyPair) -> DecodingKey {
    let public = pair.public_key();
    DecodingKey::from_rsa_raw_components(
        public.modulus().big_endian_without_leading_zero(),
        public.exponent().big_endian_without_leading_zero(),
    )
}

/// A signed-up user with names, public, private and unsafe metadata.
async fn ada(app: &TestApp) -> AuthResponse {
    let auth = app
        .post(
            paths::SIGN_UPS,
            json!({"email_address": "ada@example.com", "password": common::PASSWORD, "first_name": "Ada",
                   "unsafe_metadata": {"theme": "dark"}}),
        )
        .await
        .auth();
    let meta = paths::USER_METADATA.replace("{id}", &auth.user.id);
    let res = app
        .backend(
            Method::PATCH,
            &meta,
            Some(json!({"public_metadata": {"role": "admin", "plan": {"tier": "pro", "seats": 5}},
                        "private_metadata": {"stripe_id": "cus_TOPSECRET"}})),
        )
        .await;
    assert_eq!(res.status, StatusCode::OK);
    auth
}

// ------------------------------------------------------------------------------- Backend API CRUD

db_test!(create_get_list_update_delete);
async fn create_get_list_update_delete(db: Db) {
    let app = TestApp::new(&db).await;
    let created = create(&app, json!({"name": "hasura", "claims": {"aud": "hasura"}})).await;
    let raw = created.json();
    let t = template(&created);
    assert!(t.id.starts_with("jtmp_"), "{}", t.id);
    assert_eq!(
        raw,
        json!({"object": "jwt_template", "id": t.id, "name": "hasura", "claims": {"aud": "hasura"},
               "lifetime": 60, "allowed_clock_skew": 5, "custom_signing_key": false,
               "signing_algorithm": "RS256", "created_at": app.clock_now(), "updated_at": app.clock_now()})
    );

    let got = app.backend(Method::GET, &template_path(&t.id), None).await;
    assert_eq!(got.json(), raw);

    app.clock.advance_secs(1);
    let second = template(
        &create(&app, json!({"name": "convex", "claims": {}, "lifetime": 3600, "allowed_clock_skew": 0}))
            .await,
    );
    assert_eq!((second.lifetime, second.allowed_clock_skew), (3600, 0));
    let list = app.backend(Method::GET, paths::JWT_TEMPLATES, None).await.json();
    assert_eq!(list["total_count"], 2);
    assert_eq!(list["data"][0]["name"], "convex", "newest first");
    let page = app.backend(Method::GET, "/v1/jwt_templates?limit=1&offset=1", None).await.json();
    assert_eq!(page["total_count"], 2);
    assert_eq!(page["data"].as_array().unwrap().len(), 1);
    assert_eq!(page["data"][0]["name"], "hasura");
    app.backend(Method::GET, "/v1/jwt_templates?limit=abc", None)
        .await
        .assert_error(400, "request_body_invalid");

    // A partial update changes only what it names.
    app.clock.advance_secs(1);
    let patched =
        template(&app.backend(Method::PATCH, &template_path(&t.id), Some(json!({"lifetime": 120}))).await);
    assert_eq!((patched.lifetime, patched.name.as_str()), (120, "hasura"));
    assert_eq!(Value::Object(patched.claims.clone()), json!({"aud": "hasura"}));
    assert_eq!(patched.created_at, t.created_at);
    assert_eq!(patched.updated_at, app.clock_now());
    let renamed = template(
        &app.backend(
            Method::PATCH,
            &template_path(&t.id),
            Some(json!({"name": "hasura-v2", "claims": {"x": "{{user.id}}"}, "allowed_clock_skew": 10})),
        )
        .await,
    );
    assert_eq!((renamed.name.as_str(), renamed.allowed_clock_skew, renamed.lifetime), ("hasura-v2", 10, 120));
    assert_eq!(Value::Object(renamed.claims), json!({"x": "{{user.id}}"}));

    let deleted = app.backend(Method::DELETE, &template_path(&t.id), None).await;
    assert_eq!(deleted.json(), json!({"object": "jwt_template", "id": t.id, "deleted": true}));
    for method in [Method::GET, Method::DELETE] {
        app.backend(method, &template_path(&t.id), None).await.assert_error(404, "resource_not_found");
    }
    app.backend(Method::PATCH, &template_path(&t.id), Some(json!({"lifetime": 90})))
        .await
        .assert_error(404, "resource_not_found");
    app.backend(Method::GET, &template_path("jtmp_nope"), None).await.assert_error(404, "resource_not_found");
    assert_eq!(app.backend(Method::GET, paths::JWT_TEMPLATES, None).await.json()["total_count"], 1);
}

db_test!(the_backend_api_needs_the_secret_key_and_sends_no_cors);
async fn the_backend_api_needs_the_secret_key_and_sends_no_cors(db: Db) {
    let app = TestApp::new(&db).await;
    let auth = app.sign_up_as("ada@example.com").await;
    let body = json!({"name": "x", "claims": {}});
    app.call(Method::POST, paths::JWT_TEMPLATES, &[], Some(body.clone()))
        .await
        .assert_error(401, "secret_key_required");
    let bearer = format!("Bearer {}", auth.jwt.expose());
    app.call(
        Method::POST,
        paths::JWT_TEMPLATES,
        &[("authorization", &bearer), ("origin", ORIGIN)],
        Some(body),
    )
    .await
    .assert_error(401, "secret_key_required");
    let res = app.call(Method::GET, paths::JWT_TEMPLATES, &[("origin", ORIGIN)], None).await;
    res.assert_error(401, "secret_key_required");
    assert_eq!(res.header("access-control-allow-origin"), None);
    let wrong = format!("Bearer {}x", app.secret_key());
    app.call(Method::GET, paths::JWT_TEMPLATES, &[("authorization", &wrong)], None)
        .await
        .assert_error(401, "authentication_invalid");
}

db_test!(names_are_checked_and_unique);
async fn names_are_checked_and_unique(db: Db) {
    let app = TestApp::new(&db).await;
    let name_error = |res: Resp, status: u16, code: &str| {
        res.assert_error(status, code);
        assert_eq!(res.json()["errors"][0]["meta"]["param_name"], "name");
        res
    };
    name_error(create(&app, json!({"name": "", "claims": {}})).await, 422, "form_param_missing");
    name_error(create(&app, json!({"name": "x".repeat(65), "claims": {}})).await, 422, "form_param_too_long");
    let huge = "é".repeat(10_000);
    let res = name_error(create(&app, json!({"name": huge, "claims": {}})).await, 422, "form_param_too_long");
    assert!(res.body.len() < 1000, "the name is not echoed back");
    for hostile in [
        "../../etc/passwd",
        "a/b",
        "..",
        "%2e%2e",
        "a b",
        "café",
        "名前",
        "ｓｕｐａｂａｓｅ",
        "<script>",
        "a\u{0}b",
        "a\nb",
        "a.b",
        "\u{202e}esab",
    ] {
        let res = create(&app, json!({"name": hostile, "claims": {}})).await;
        name_error(res, 422, "form_param_format_invalid");
    }
    template(&create(&app, json!({"name": "x".repeat(64), "claims": {}})).await);
    template(&create(&app, json!({"name": "Sup_a-base9", "claims": {}})).await);

    let dup = name_error(
        create(&app, json!({"name": "Sup_a-base9", "claims": {"a": 1}})).await,
        409,
        "duplicate_record",
    );
    assert!(dup.json()["errors"][0]["long_message"].as_str().unwrap().contains("unique"));
    // Names are compared exactly.
    let lower = template(&create(&app, json!({"name": "sup_a-base9", "claims": {}})).await);
    name_error(
        app.backend(Method::PATCH, &template_path(&lower.id), Some(json!({"name": "Sup_a-base9"}))).await,
        409,
        "duplicate_record",
    );
    name_error(
        app.backend(Method::PATCH, &template_path(&lower.id), Some(json!({"name": "a/../b"}))).await,
        422,
        "form_param_format_invalid",
    );
    // Renaming to its own name is fine.
    template(
        &app.backend(Method::PATCH, &template_path(&lower.id), Some(json!({"name": "sup_a-base9"}))).await,
    );
}

db_test!(claims_are_checked);
async fn claims_are_checked(db: Db) {
    let app = TestApp::new(&db).await;
    for not_an_object in [json!([1, 2]), json!("{{user.id}}"), json!(null), json!(42), json!(true)] {
        let res = create(&app, json!({"name": "t", "claims": not_an_object})).await;
        res.assert_error(400, "request_body_invalid");
        assert_eq!(res.json()["errors"][0]["meta"]["param_name"], "claims");
    }
    let missing = create(&app, json!({"name": "t"})).await;
    missing.assert_error(422, "form_param_missing");
    assert_eq!(missing.json()["errors"][0]["meta"]["param_name"], "claims");
    let missing = create(&app, json!({"claims": {}})).await;
    missing.assert_error(422, "form_param_missing");
    assert_eq!(missing.json()["errors"][0]["meta"]["param_name"], "name");

    let big = create(&app, json!({"name": "t", "claims": {"blob": "x".repeat(8200)}})).await;
    big.assert_error(422, "form_param_too_long");
    assert_eq!(big.json()["errors"][0]["meta"]["param_name"], "claims");

    let mut nested = json!("leaf");
    for _ in 0..9 {
        nested = json!({"k": nested});
    }
    template(&create(&app, json!({"name": "deep10", "claims": {"k": nested.clone()}})).await);
    let res = create(&app, json!({"name": "deep11", "claims": {"k": [nested]}})).await;
    res.assert_error(422, "form_param_value_invalid");
    assert_eq!(res.json()["errors"][0]["meta"]["param_name"], "claims");

    for reserved in ["sub", "iat", "exp", "nbf", "iss", "azp", "sid", "jti", "v", "o"] {
        let res = create(&app, json!({"name": "r", "claims": {"aud": "x", reserved: "mine"}})).await;
        res.assert_error(422, "jwt_template_reserved_claim");
        let meta = &res.json()["errors"][0]["meta"];
        assert_eq!((meta["param_name"].as_str(), meta["claim"].as_str()), (Some("claims"), Some(reserved)));
    }
    // Reserved names deeper down, or spelt differently, are just data.
    let ok =
        create(&app, json!({"name": "r", "claims": {"nested": {"sub": 1, "exp": 2}, "SUB": 3, "Iat": 4}}))
            .await;
    let ok = template(&ok);
    app.backend(Method::PATCH, &template_path(&ok.id), Some(json!({"claims": {"exp": 1}})))
        .await
        .assert_error(422, "jwt_template_reserved_claim");
    app.backend(Method::PATCH, &template_path(&ok.id), Some(json!({"claims": [1]})))
        .await
        .assert_error(400, "request_body_invalid");
}

db_test!(lifetime_and_clock_skew_ranges);
async fn lifetime_and_clock_skew_ranges(db: Db) {
    let app = TestApp::new(&db).await;
    let check = |res: Resp, status: u16, code: &str, param: &str| {
        res.assert_error(status, code);
        assert_eq!(res.json()["errors"][0]["meta"]["param_name"], param);
    };
    for bad in [29, 315_360_001, 0, -60, i64::MAX] {
        check(
            create(&app, json!({"name": "t", "claims": {}, "lifetime": bad})).await,
            422,
            "form_param_value_invalid",
            "lifetime",
        );
    }
    for bad in [json!("60"), json!(60.5), json!([60]), json!(1e30)] {
        check(
            create(&app, json!({"name": "t", "claims": {}, "lifetime": bad})).await,
            400,
            "request_body_invalid",
            "lifetime",
        );
    }
    for bad in [301, -1] {
        check(
            create(&app, json!({"name": "t", "claims": {}, "allowed_clock_skew": bad})).await,
            422,
            "form_param_value_invalid",
            "allowed_clock_skew",
        );
    }
    let low = template(
        &create(&app, json!({"name": "low", "claims": {}, "lifetime": 30, "allowed_clock_skew": 0})).await,
    );
    assert_eq!((low.lifetime, low.allowed_clock_skew), (30, 0));
    let high = template(
        &create(
            &app,
            json!({"name": "high", "claims": {}, "lifetime": 315_360_000, "allowed_clock_skew": 300}),
        )
        .await,
    );
    assert_eq!((high.lifetime, high.allowed_clock_skew), (315_360_000, 300));
    let nulls = template(
        &create(&app, json!({"name": "nulls", "claims": {}, "lifetime": null, "allowed_clock_skew": null}))
            .await,
    );
    assert_eq!((nulls.lifetime, nulls.allowed_clock_skew), (60, 5), "null means the default");
    check(
        app.backend(Method::PATCH, &template_path(&low.id), Some(json!({"lifetime": 10}))).await,
        422,
        "form_param_value_invalid",
        "lifetime",
    );
    check(
        app.backend(Method::PATCH, &template_path(&low.id), Some(json!({"allowed_clock_skew": 1000}))).await,
        422,
        "form_param_value_invalid",
        "allowed_clock_skew",
    );
}

db_test!(malformed_and_oversized_requests);
async fn malformed_and_oversized_requests(db: Db) {
    let app = TestApp::new(&db).await;
    let auth = format!("Bearer {}", app.secret_key());
    let raw = |body: String, ct: &'static str| {
        Request::builder()
            .method("POST")
            .uri(paths::JWT_TEMPLATES)
            .header("authorization", auth.clone())
            .header("content-type", ct)
            .body(Body::from(body))
            .unwrap()
    };
    app.send(raw("{not json".into(), "application/json")).await.assert_error(400, "request_body_invalid");
    app.send(raw(r#"{"name":"t","claims":{}}"#.into(), "text/plain"))
        .await
        .assert_error(415, "unsupported_media_type");
    app.send(raw(String::new(), "application/json")).await.assert_error(400, "request_body_invalid");
    let unknown = create(&app, json!({"name": "t", "claims": {}, "audience": "x"})).await;
    unknown.assert_error(422, "form_param_unknown");
    assert_eq!(unknown.json()["errors"][0]["meta"]["param_name"], "audience");
    for wrong in [
        json!({"name": 5, "claims": {}}),
        json!({"name": "t", "claims": {}, "custom_signing_key": "yes"}),
        json!({"name": "t", "claims": {}, "signing_key": 123}),
    ] {
        create(&app, wrong).await.assert_error(400, "request_body_invalid");
    }
    for alg in ["ES256", "none", "rs256", "HS1024", ""] {
        let res = create(&app, json!({"name": "t", "claims": {}, "signing_algorithm": alg})).await;
        res.assert_error(422, "form_param_value_invalid");
        assert_eq!(res.json()["errors"][0]["meta"]["param_name"], "signing_algorithm");
    }
    let big = format!(r#"{{"name":"t","claims":{{"blob":"{}"}}}}"#, "x".repeat(100 * 1024));
    app.send(raw(big, "application/json")).await.assert_error(413, "request_body_too_large");
    app.backend(Method::PATCH, &template_path("jtmp_x"), Some(json!({"nope": 1})))
        .await
        .assert_error(422, "form_param_unknown");
    assert_eq!(app.backend(Method::GET, paths::JWT_TEMPLATES, None).await.json()["total_count"], 0);
}

db_test!(custom_signing_keys_are_checked_and_never_shown);
async fn custom_signing_keys_are_checked_and_never_shown(db: Db) {
    let app = TestApp::new(&db).await;
    let value_invalid = |res: Resp, param: &str| {
        res.assert_error(422, "form_param_value_invalid");
        assert_eq!(
            res.json()["errors"][0]["meta"]["param_name"],
            param,
            "{}",
            String::from_utf8_lossy(&res.body)
        );
        res.json()["errors"][0]["long_message"].as_str().unwrap_or_default().to_owned()
    };
    let custom = |alg: &str, key: &str| json!({"name": "c", "claims": {}, "custom_signing_key": true, "signing_algorithm": alg, "signing_key": key});

    let short = "s".repeat(31);
    let long = value_invalid(create(&app, custom("HS256", &short)).await, "signing_key");
    assert!(long.contains("32 bytes") && !long.contains(&short), "{long}");
    let res = create(
        &app,
        json!({"name": "c", "claims": {}, "custom_signing_key": true, "signing_key": SUPABASE_SECRET}),
    )
    .await;
    res.assert_error(422, "form_param_missing");
    assert_eq!(res.json()["errors"][0]["meta"]["param_name"], "signing_algorithm");
    let res = create(
        &app,
        json!({"name": "c", "claims": {}, "custom_signing_key": true, "signing_algorithm": "HS256"}),
    )
    .await;
    res.assert_error(422, "form_param_missing");
    assert_eq!(res.json()["errors"][0]["meta"]["param_name"], "signing_key");
    value_invalid(
        create(&app, json!({"name": "c", "claims": {}, "signing_key": SUPABASE_SECRET})).await,
        "signing_key",
    );
    value_invalid(
        create(
            &app,
            json!({"name": "c", "claims": {}, "signing_algorithm": "HS256", "signing_key": SUPABASE_SECRET}),
        )
        .await,
        "signing_key",
    );
    value_invalid(
        create(&app, json!({"name": "c", "claims": {}, "signing_algorithm": "HS512"})).await,
        "signing_algorithm",
    );

    let long = value_invalid(create(&app, custom("RS256", "not a pem")).await, "signing_key");
    assert!(long.contains("PEM"), "{long}");
    let long = value_invalid(create(&app, custom("RS256", RSA_1024_PKCS8)).await, "signing_key");
    assert!(long.contains("2048"), "{long}");
    assert!(!long.contains("MIIC"), "no key material in errors");
    let rsa = RsaKeyPair::generate(KeySize::Rsa2048).unwrap();
    let pkcs8 = rsa.as_der().unwrap();
    let public = pem(
        "PUBLIC KEY",
        AsDer::<aws_lc_rs::encoding::PublicKeyX509Der>::as_der(rsa.public_key()).unwrap().as_ref(),
    );
    let long = value_invalid(create(&app, custom("RS256", &public)).await, "signing_key");
    assert!(long.contains("public key"), "{long}");
    let rng = aws_lc_rs::rand::SystemRandom::new();
    let ec = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
    value_invalid(create(&app, custom("RS256", &pem("PRIVATE KEY", ec.as_ref()))).await, "signing_key");
    // An RSA key is no HMAC secret's stand-in and vice versa: an HS secret of 32+ bytes is any bytes,
    // but RS256 needs a key.
    value_invalid(create(&app, custom("RS256", SUPABASE_SECRET)).await, "signing_key");
    assert_eq!(app.backend(Method::GET, paths::JWT_TEMPLATES, None).await.json()["total_count"], 0);

    // Accepted keys: the resource says there is one, and nothing more, anywhere.
    let pkcs8_pem = pem("PRIVATE KEY", pkcs8.as_ref());
    let pkcs1_pem = pem("RSA PRIVATE KEY", &pkcs1_of(pkcs8.as_ref()));
    let mut bodies = Vec::new();
    for (name, alg, key) in [
        ("hs256", "HS256", SUPABASE_SECRET),
        ("hs384", "HS384", SUPABASE_SECRET),
        ("hs512", "HS512", SUPABASE_SECRET),
        ("rs-pkcs8", "RS256", pkcs8_pem.as_str()),
        ("rs-pkcs1", "RS256", pkcs1_pem.as_str()),
    ] {
        let res = create(&app, json!({"name": name, "claims": {}, "custom_signing_key": true, "signing_algorithm": alg, "signing_key": key})).await;
        let t = template(&res);
        assert!(t.custom_signing_key);
        assert_eq!(t.signing_algorithm.as_str(), alg);
        assert!(res.json().get("signing_key").is_none());
        bodies.push(res.body);
        bodies.push(app.backend(Method::GET, &template_path(&t.id), None).await.body);
        let stored = app.state.store.jwt_template(&t.id).await.unwrap().unwrap();
        assert!(
            !format!("{stored:?}").contains(&stored.signing_key.as_ref().unwrap().expose()[..16]),
            "Debug is redacted"
        );
    }
    bodies.push(app.backend(Method::GET, paths::JWT_TEMPLATES, None).await.body);
    let rsa_body_line = pkcs8_pem.lines().nth(2).unwrap();
    for body in &bodies {
        let text = String::from_utf8_lossy(body);
        assert!(
            !text.contains("super-secret") && !text.contains(rsa_body_line) && !text.contains("PRIVATE"),
            "{text}"
        );
    }
}

// --------------------------------------------------------------------------- Frontend API: tokens

db_test!(instance_key_tokens_verify_with_the_jwks_and_render_shortcodes);
async fn instance_key_tokens_verify_with_the_jwks_and_render_shortcodes(db: Db) {
    let app = TestApp::new(&db).await;
    let auth = ada(&app).await;
    template(
        &create(
            &app,
            json!({
                "name": "app-api",
                "lifetime": 120,
                "allowed_clock_skew": 7,
                "claims": {
                    "aud": "my-api",
                    "static": {"n": 1, "b": true, "nothing": null, "list": ["x", 2]},
                    "uid": "{{user.id}}",
                    "first": "{{user.first_name}}",
                    "last": "{{user.last_name}}",
                    "full": "{{user.full_name}}",
                    "greeting": "{{user.first_name}} {{user.last_name}}",
                    "email": "{{user.primary_email_address}}",
                    "verified": "{{user.email_verified}}",
                    "image": "{{user.image_url}}",
                    "created": "{{user.created_at}}",
                    "updated": "{{user.updated_at}}",
                    "public": "{{user.public_metadata}}",
                    "tier": "{{user.public_metadata.plan.tier}}",
                    "seats": "{{user.public_metadata.plan.seats}}",
                    "tier_text": "plan={{user.public_metadata.plan.tier}}/{{user.public_metadata.plan.seats}}",
                    "theme": "{{user.unsafe_metadata.theme}}",
                    "unsafe": "{{user.unsafe_metadata}}",
                    "session": "{{session.id}}",
                    "nested": {"deep": ["{{user.public_metadata.role}}", {"again": "{{user.id}}"}]},
                    "fallback": "{{user.last_name || 'Unknown'}}",
                    "private": "{{user.private_metadata}}",
                    "private_path": "{{user.private_metadata.stripe_id}}",
                    "private_text": "[{{user.private_metadata.stripe_id}}]",
                    "unknown": "{{user.password_hash}}",
                },
            }),
        )
        .await,
    );

    let res = mint_with(&app, auth.jwt.expose(), &auth.session.id, "app-api", &[("origin", ORIGIN)]).await;
    assert_eq!(res.header("access-control-allow-origin"), Some(ORIGIN));
    let server_time: i64 = res.header(SERVER_TIME_HEADER).unwrap().parse().unwrap();
    assert_eq!(res.json()["object"], "token");
    let t = token(&res);
    assert!(!t.jwt.expose().contains("TOPSECRET"));

    let header = header_of(t.jwt.expose());
    assert_eq!(
        (header["alg"].as_str(), header["kid"].as_str()),
        (Some("RS256"), Some(app.state.signing_key().kid()))
    );
    let claims = verify_with_jwks(&app, t.jwt.expose()).await;
    assert!(!claims.to_string().contains("TOPSECRET"), "private metadata never reaches a token");
    let iat = server_time / 1000;
    let user = app.backend(Method::GET, &paths::USER.replace("{id}", &auth.user.id), None).await.json();
    let jti = claims["jti"].as_str().unwrap().to_owned();
    assert!(jti.len() >= 16);
    assert_eq!(
        claims,
        json!({
            "sub": auth.user.id, "sid": auth.session.id, "iss": app.state.public_url(), "azp": ORIGIN,
            "iat": iat, "nbf": iat - 7, "exp": iat + 120, "jti": jti,
            "aud": "my-api",
            "static": {"n": 1, "b": true, "nothing": null, "list": ["x", 2]},
            "uid": auth.user.id,
            "first": "Ada",
            "last": null,
            "full": "Ada",
            "greeting": "Ada ",
            "email": "ada@example.com",
            "verified": false,
            "image": null,
            "created": user["created_at"].as_i64().unwrap() / 1000,
            "updated": user["updated_at"].as_i64().unwrap() / 1000,
            "public": {"role": "admin", "plan": {"tier": "pro", "seats": 5}},
            "tier": "pro",
            "seats": 5,
            "tier_text": "plan=pro/5",
            "theme": "dark",
            "unsafe": {"theme": "dark"},
            "session": auth.session.id,
            "nested": {"deep": ["admin", {"again": auth.user.id}]},
            "fallback": "Unknown",
            "private": null,
            "private_path": null,
            "private_text": "[]",
            "unknown": null,
        })
    );
    assert!(claims.get("v").is_none(), "not a session token");
    // Whole seconds from the server time to exp, rounded down (as for session tokens).
    assert_eq!(i64::from(t.expires_in), ((iat + 120) * 1000 - server_time).div_euclid(1000));
    assert!(matches!(t.expires_in, 119 | 120));

    // Every token is new; without an Origin there is no azp.
    let again = token(&mint(&app, &auth, "app-api").await);
    let claims2 = verify_with_jwks(&app, again.jwt.expose()).await;
    assert_ne!(claims2["jti"], claims["jti"]);
    assert!(claims2.get("azp").is_none());

    // A template token is not a session token: the Frontend API refuses it as one.
    app.get_bearer(paths::ME, t.jwt.expose()).await.assert_error(401, "authentication_invalid");
    mint_with(&app, t.jwt.expose(), &auth.session.id, "app-api", &[])
        .await
        .assert_error(401, "authentication_invalid");
}

db_test!(supabase_style_hs256_tokens_verify_with_the_secret);
async fn supabase_style_hs256_tokens_verify_with_the_secret(db: Db) {
    let app = TestApp::new(&db).await;
    let auth = ada(&app).await;
    template(
        &create(
            &app,
            json!({
                "name": "supabase",
                "custom_signing_key": true,
                "signing_algorithm": "HS256",
                "signing_key": SUPABASE_SECRET,
                "claims": {
                    "role": "authenticated",
                    "aud": "authenticated",
                    "email": "{{user.primary_email_address}}",
                    "app_metadata": {"provider": "email", "providers": ["email"], "role": "{{user.public_metadata.role}}"},
                    "user_metadata": "{{user.public_metadata}}",
                },
            }),
        )
        .await,
    );
    let t = token(&mint(&app, &auth, "supabase").await);
    assert!(matches!(t.expires_in, 59 | 60), "{}", t.expires_in);
    assert_eq!(header_of(t.jwt.expose()), json!({"alg": "HS256", "typ": "JWT"}), "no kid: not a JWKS key");

    let mut v = Validation::new(Algorithm::HS256);
    v.set_audience(&["authenticated"]);
    v.set_required_spec_claims(&["exp", "sub", "aud"]);
    // The manual clock starts at the real time, so jsonwebtoken's own exp/nbf checks apply here.
    let claims = jsonwebtoken::decode::<Value>(
        t.jwt.expose(),
        &DecodingKey::from_secret(SUPABASE_SECRET.as_bytes()),
        &v,
    )
    .unwrap()
    .claims;
    assert_eq!(claims["role"], "authenticated");
    assert_eq!(claims["email"], "ada@example.com");
    assert_eq!(claims["sub"], auth.user.id.as_str());
    assert_eq!(claims["app_metadata"], json!({"provider": "email", "providers": ["email"], "role": "admin"}));
    assert_eq!(claims["user_metadata"], json!({"role": "admin", "plan": {"tier": "pro", "seats": 5}}));
    assert_eq!(claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(), 60);
    assert_eq!(claims["iat"].as_i64().unwrap() - claims["nbf"].as_i64().unwrap(), 5);

    // Only that secret verifies it; the JWKS key does not.
    let wrong = DecodingKey::from_secret(b"another-secret-that-is-at-least-32-bytes!!");
    assert!(jsonwebtoken::decode::<Value>(t.jwt.expose(), &wrong, &v).is_err());
    assert!(app.get_bearer(paths::ME, t.jwt.expose()).await.status == StatusCode::UNAUTHORIZED);

    for (name, alg, jwt_alg) in [("hs384", "HS384", Algorithm::HS384), ("hs512", "HS512", Algorithm::HS512)] {
        create(
            &app,
            json!({"name": name, "claims": {"n": "{{user.id}}"}, "custom_signing_key": true,
                   "signing_algorithm": alg, "signing_key": SUPABASE_SECRET}),
        )
        .await;
        let t = token(&mint(&app, &auth, name).await);
        assert_eq!(header_of(t.jwt.expose())["alg"], alg);
        let claims = jsonwebtoken::decode::<Value>(
            t.jwt.expose(),
            &DecodingKey::from_secret(SUPABASE_SECRET.as_bytes()),
            &validation(jwt_alg),
        )
        .unwrap()
        .claims;
        assert_eq!(claims["n"], auth.user.id.as_str());
    }
}

/// Template `id`'s key as the database holds it.
async fn stored(app: &TestApp, id: &str) -> hallpass_server::secret::TemplateKey {
    app.state.store.jwt_template(id).await.unwrap().unwrap().signing_key.unwrap()
}

db_test!(custom_keys_are_sealed_at_rest_with_the_key_encryption_key);
async fn custom_keys_are_sealed_at_rest_with_the_key_encryption_key(db: Db) {
    // A template key stored in the clear (no key encryption key yet)…
    let app = TestApp::new(&db).await;
    let auth = ada(&app).await;
    let hs = |name: &str, secret: &str| {
        json!({"name": name, "claims": {"n": "{{user.id}}"}, "custom_signing_key": true,
               "signing_algorithm": "HS256", "signing_key": secret})
    };
    let before = template(&create(&app, hs("before", SUPABASE_SECRET)).await);
    let in_the_clear = app.state.store.jwt_template(&before.id).await.unwrap().unwrap().signing_key.unwrap();
    let clear_form = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(SUPABASE_SECRET);
    assert_eq!(in_the_clear.expose(), clear_form);
    // …is sealed at the next start with one; the keys written from then on are sealed as written.
    app.state.store.close().await;
    let mut config = app.config.clone();
    config.key_encryption_key = Some("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY".parse().unwrap());
    let app = TestApp::open(config, app.clock.clone()).await;
    let other_secret = "another-shared-secret-of-at-least-32-bytes";
    let after = template(&create(&app, hs("after", other_secret)).await);
    for (id, secret) in [(&before.id, SUPABASE_SECRET), (&after.id, other_secret)] {
        let key = stored(&app, id).await;
        assert!(key.expose().starts_with("sealed:v1:"), "{id}: sealed");
        let clear = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret);
        assert!(!key.expose().contains(&clear[..20]), "{id}: no part of the secret in the clear");
    }
    // They sign as before, verified with the app's secret.
    let verify = |jwt: &str, secret: &str| {
        jsonwebtoken::decode::<Value>(
            jwt,
            &DecodingKey::from_secret(secret.as_bytes()),
            &validation(Algorithm::HS256),
        )
        .map(|d| d.claims["n"].clone())
    };
    let t = token(&mint(&app, &auth, "before").await);
    assert_eq!(verify(t.jwt.expose(), SUPABASE_SECRET).unwrap(), auth.user.id.as_str());
    let t = token(&mint(&app, &auth, "after").await);
    assert_eq!(verify(t.jwt.expose(), other_secret).unwrap(), auth.user.id.as_str());
    // An edit that keeps the key stores it as it was; a new key is sealed for this template.
    let sealed = stored(&app, &after.id).await;
    let path = template_path(&after.id);
    let renamed = app.backend(Method::PATCH, &path, Some(json!({"claims": {"m": "{{user.id}}"}}))).await;
    assert_eq!(renamed.status, StatusCode::OK, "{}", String::from_utf8_lossy(&renamed.body));
    assert_eq!(stored(&app, &after.id).await.expose(), sealed.expose());
    let rekeyed = app.backend(Method::PATCH, &path, Some(json!({"signing_key": SUPABASE_SECRET}))).await;
    assert_eq!(rekeyed.status, StatusCode::OK, "{}", String::from_utf8_lossy(&rekeyed.body));
    let key = stored(&app, &after.id).await;
    assert!(key.expose().starts_with("sealed:v1:") && key.expose() != sealed.expose());
    let t = token(&mint(&app, &auth, "after").await);
    assert!(verify(t.jwt.expose(), SUPABASE_SECRET).is_ok());
    assert!(verify(t.jwt.expose(), other_secret).is_err());
    // A sealed key copied onto another template's row does not open there: that mint fails, says
    // nothing of the key, and the template's own key is untouched.
    let before_key = stored(&app, &before.id).await;
    assert!(app.state.store.replace_template_key(&before.id, &before_key, &key).await.unwrap());
    let moved = mint(&app, &auth, "before").await;
    assert_eq!(moved.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(!String::from_utf8_lossy(&moved.body).contains("sealed:v1:"));
    // Restarted with the same key: nothing to seal again, every key still opens.
    assert!(app.state.store.replace_template_key(&before.id, &key, &before_key).await.unwrap());
    let app = app.restart().await;
    assert_eq!(stored(&app, &before.id).await.expose(), before_key.expose());
    let t = token(&mint(&app, &auth, "before").await);
    assert_eq!(verify(t.jwt.expose(), SUPABASE_SECRET).unwrap(), auth.user.id.as_str());
}

db_test!(custom_rsa_keys_sign_in_pkcs8_and_pkcs1_form);
async fn custom_rsa_keys_sign_in_pkcs8_and_pkcs1_form(db: Db) {
    let app = TestApp::new(&db).await;
    let auth = app.sign_up_as("ada@example.com").await;
    let rsa = RsaKeyPair::generate(KeySize::Rsa2048).unwrap();
    let pkcs8 = rsa.as_der().unwrap();
    let mut ids = Vec::new();
    for (name, key) in [
        ("pkcs8", pem("PRIVATE KEY", pkcs8.as_ref())),
        ("pkcs1", pem("RSA PRIVATE KEY", &pkcs1_of(pkcs8.as_ref()))),
    ] {
        let created = template(
            &create(
                &app,
                json!({"name": name, "claims": {"k": name}, "custom_signing_key": true,
                       "signing_algorithm": "RS256", "signing_key": key}),
            )
            .await,
        );
        ids.push(created.id);
        let t = token(&mint(&app, &auth, name).await);
        assert_eq!(header_of(t.jwt.expose()), json!({"alg": "RS256", "typ": "JWT"}));
        let claims =
            jsonwebtoken::decode::<Value>(t.jwt.expose(), &rsa_public(&rsa), &validation(Algorithm::RS256))
                .unwrap()
                .claims;
        assert_eq!((claims["k"].as_str(), claims["sub"].as_str()), (Some(name), Some(auth.user.id.as_str())));
        // Not the instance key's token: the JWKS key does not verify it.
        let jwks = app.state.keys.jwks();
        let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(jwks["keys"][0].clone()).unwrap();
        let instance = DecodingKey::from_jwk(&jwk).unwrap();
        assert!(
            jsonwebtoken::decode::<Value>(t.jwt.expose(), &instance, &validation(Algorithm::RS256)).is_err()
        );
    }
    // A rotated key signs the very next token (the server keeps loaded keys, by key, not by template).
    let verifies = |jwt: &str, pair: &RsaKeyPair| {
        jsonwebtoken::decode::<Value>(jwt, &rsa_public(pair), &validation(Algorithm::RS256)).is_ok()
    };
    let before = token(&mint(&app, &auth, "pkcs8").await).jwt;
    assert!(verifies(before.expose(), &rsa));
    let rotated = RsaKeyPair::generate(KeySize::Rsa2048).unwrap();
    let key = pem("PRIVATE KEY", rotated.as_der().unwrap().as_ref());
    template(&app.backend(Method::PATCH, &template_path(&ids[0]), Some(json!({"signing_key": key}))).await);
    for _ in 0..2 {
        let after = token(&mint(&app, &auth, "pkcs8").await).jwt;
        assert!(verifies(after.expose(), &rotated) && !verifies(after.expose(), &rsa));
    }
}

db_test!(lifetime_and_clock_skew_shape_each_token);
async fn lifetime_and_clock_skew_shape_each_token(db: Db) {
    let app = TestApp::new(&db).await;
    let auth = app.sign_up_as("ada@example.com").await;
    create(&app, json!({"name": "short", "claims": {}, "lifetime": 30, "allowed_clock_skew": 0})).await;
    create(&app, json!({"name": "decade", "claims": {}, "lifetime": 315_360_000, "allowed_clock_skew": 300}))
        .await;
    // A time 0.7 s past a whole second.
    app.clock.advance_ms((700 - app.clock_now()).rem_euclid(1000));
    let now = app.clock_now();
    assert_eq!(now % 1000, 700);

    let short = token(&mint(&app, &auth, "short").await);
    let c = verify_with_jwks(&app, short.jwt.expose()).await;
    assert_eq!(c["iat"].as_i64(), Some(now / 1000));
    assert_eq!((c["exp"].as_i64().unwrap() - c["iat"].as_i64().unwrap(), c["nbf"] == c["iat"]), (30, true));
    assert_eq!(short.expires_in, 29, "whole seconds from the server time, rounded down");

    let decade = token(&mint(&app, &auth, "decade").await);
    let c = verify_with_jwks(&app, decade.jwt.expose()).await;
    assert_eq!(c["exp"].as_i64().unwrap() - c["iat"].as_i64().unwrap(), 315_360_000);
    assert_eq!(c["iat"].as_i64().unwrap() - c["nbf"].as_i64().unwrap(), 300);
    assert_eq!(decade.expires_in, 315_359_999);
}

db_test!(the_bearer_must_be_a_valid_session_token_of_that_session);
async fn the_bearer_must_be_a_valid_session_token_of_that_session(db: Db) {
    let app = TestApp::with(&db, |c| c.session_idle_timeout_secs = 40).await;
    let auth = app.sign_up_as("ada@example.com").await;
    create(&app, json!({"name": "t", "claims": {}})).await;
    let path = token_path(&auth.session.id, "t");

    app.call(Method::POST, &path, &[], None).await.assert_error(401, "authentication_invalid");
    mint_with(&app, "garbage", &auth.session.id, "t", &[]).await.assert_error(401, "authentication_invalid");
    app.call(Method::POST, &path, &[("authorization", &format!("Basic {}", auth.jwt.expose()))], None)
        .await
        .assert_error(401, "authentication_invalid");
    mint_with(&app, &app.secret_key(), &auth.session.id, "t", &[])
        .await
        .assert_error(403, "secret_key_not_allowed");
    // Same claims, another key.
    let (other, _) = SigningKey::generate().unwrap();
    let forged = other.mint(&app.verify(auth.jwt.expose())).unwrap();
    mint_with(&app, &forged, &auth.session.id, "t", &[]).await.assert_error(401, "authentication_invalid");

    // The session token names another session than the path: the same user's, or someone else's.
    let second = app.sign_in_as("ada@example.com").await;
    let bob = app.sign_up_as("bob@example.com").await;
    for other_session in [&second.session.id, &bob.session.id, &"sess_nope".to_owned()] {
        let res = mint_with(&app, auth.jwt.expose(), other_session, "t", &[]).await;
        res.assert_error(401, "authentication_invalid");
    }
    token(&mint(&app, &second, "t").await);

    // Expired session token (past exp + leeway on the server's clock), session still active.
    app.clock.advance_secs(35);
    token(&mint(&app, &auth, "t").await);
    let fresh = app.refresh(auth.refresh_token.expose()).await.auth();
    app.clock.advance_secs(31);
    mint(&app, &auth, "t").await.assert_error(401, "authentication_invalid");
    token(&mint(&app, &fresh, "t").await);

    // Sessions that are over answer the codes that sign the SDK out.
    app.backend(Method::POST, &paths::BACKEND_SESSION_REVOKE.replace("{id}", &fresh.session.id), None).await;
    mint(&app, &fresh, "t").await.assert_error(401, "session_revoked");
    let dan = app.sign_up_as("dan@example.com").await;
    token(&mint(&app, &dan, "t").await);
    app.post(paths::SIGN_OUT, json!({"refresh_token": dan.refresh_token})).await;
    mint(&app, &dan, "t").await.assert_error(401, "session_ended");
    // Idle timeout (40 s) passes while the session token (60 s) is still valid.
    let carol = app.sign_up_as("carol@example.com").await;
    app.clock.advance_secs(41);
    mint(&app, &carol, "t").await.assert_error(401, "session_expired");
}

db_test!(unknown_deleted_and_hostile_template_names_are_not_found);
async fn unknown_deleted_and_hostile_template_names_are_not_found(db: Db) {
    let app = TestApp::new(&db).await;
    let auth = app.sign_up_as("ada@example.com").await;
    let t = template(&create(&app, json!({"name": "t", "claims": {"v1": true}})).await);
    token(&mint(&app, &auth, "t").await);

    for name in [
        "nope",
        "T",
        "..%2F..%2Fetc%2Fpasswd",
        "a%2Fb",
        "caf%C3%A9",
        "%00",
        "t%20",
        &"x".repeat(1000),
        "%F0%9F%92%A9",
    ] {
        let res = mint(&app, &auth, name).await;
        res.assert_error(404, "resource_not_found");
    }
    // A path that leaves the route entirely.
    let res = app
        .call(
            Method::POST,
            &format!("/v1/client/sessions/{}/tokens/../../me", auth.session.id),
            &[("authorization", &format!("Bearer {}", auth.jwt.expose()))],
            None,
        )
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);

    app.backend(Method::DELETE, &template_path(&t.id), None).await;
    mint(&app, &auth, "t").await.assert_error(404, "resource_not_found");
    // An unknown template with a bad session token is still an authentication error first.
    mint_with(&app, "garbage", &auth.session.id, "nope", &[])
        .await
        .assert_error(401, "authentication_invalid");
}

db_test!(updated_templates_change_the_next_tokens);
async fn updated_templates_change_the_next_tokens(db: Db) {
    let app = TestApp::new(&db).await;
    let auth = ada(&app).await;
    let t = template(&create(&app, json!({"name": "t", "claims": {"a": "{{user.first_name}}"}})).await);
    let first = verify_with_jwks(&app, token(&mint(&app, &auth, "t").await).jwt.expose()).await;
    assert_eq!(first["a"], "Ada");

    let patch = |body: Value| {
        let path = template_path(&t.id);
        let app = &app;
        async move { template(&app.backend(Method::PATCH, &path, Some(body)).await) }
    };
    patch(json!({"claims": {"b": "{{user.public_metadata.role}}"}, "lifetime": 300})).await;
    let second = token(&mint(&app, &auth, "t").await);
    let claims = verify_with_jwks(&app, second.jwt.expose()).await;
    assert_eq!((claims.get("a"), claims["b"].as_str()), (None, Some("admin")));
    assert_eq!(claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(), 300);
    assert!(matches!(second.expires_in, 299 | 300), "{}", second.expires_in);

    // To a custom HS256 key, then HS512 with the same secret, then back to the instance key.
    patch(json!({"custom_signing_key": true, "signing_algorithm": "HS256", "signing_key": SUPABASE_SECRET}))
        .await;
    let hs = token(&mint(&app, &auth, "t").await).jwt;
    jsonwebtoken::decode::<Value>(
        hs.expose(),
        &DecodingKey::from_secret(SUPABASE_SECRET.as_bytes()),
        &validation(Algorithm::HS256),
    )
    .unwrap();
    let res =
        app.backend(Method::PATCH, &template_path(&t.id), Some(json!({"signing_algorithm": "RS256"}))).await;
    res.assert_error(422, "form_param_missing");
    assert_eq!(res.json()["errors"][0]["meta"]["param_name"], "signing_key", "an HMAC secret is no RSA key");
    let hs512 = patch(json!({"signing_algorithm": "HS512"})).await;
    assert!(hs512.custom_signing_key);
    let hs = token(&mint(&app, &auth, "t").await).jwt;
    assert_eq!(header_of(hs.expose())["alg"], "HS512");
    jsonwebtoken::decode::<Value>(
        hs.expose(),
        &DecodingKey::from_secret(SUPABASE_SECRET.as_bytes()),
        &validation(Algorithm::HS512),
    )
    .unwrap();
    let back = patch(json!({"custom_signing_key": false})).await;
    assert_eq!((back.custom_signing_key, back.signing_algorithm.as_str()), (false, "RS256"));
    let rs = token(&mint(&app, &auth, "t").await).jwt;
    assert_eq!(verify_with_jwks(&app, rs.expose()).await["b"], "admin");
    assert!(
        app.state.store.jwt_template(&t.id).await.unwrap().unwrap().signing_key.is_none(),
        "the key is dropped"
    );

    // The name is what tokens are minted by.
    patch(json!({"name": "renamed"})).await;
    mint(&app, &auth, "t").await.assert_error(404, "resource_not_found");
    token(&mint(&app, &auth, "renamed").await);
    // Metadata changes show in the next token at once.
    let meta = paths::USER_METADATA.replace("{id}", &auth.user.id);
    app.backend(Method::PATCH, &meta, Some(json!({"public_metadata": {"role": "viewer"}}))).await;
    assert_eq!(
        verify_with_jwks(&app, token(&mint(&app, &auth, "renamed").await).jwt.expose()).await["b"],
        "viewer"
    );
}

db_test!(cors_rate_limits_and_restarts);
async fn cors_rate_limits_and_restarts(db: Db) {
    let app = TestApp::with(&db, |c| c.rate_limit_requests_per_ip = 4).await;
    let auth = app.sign_up_as("ada@example.com").await; // the first of 4 Frontend API requests
    create(
        &app,
        json!({"name": "s", "claims": {"e": "{{user.primary_email_address}}"}, "custom_signing_key": true,
               "signing_algorithm": "HS256", "signing_key": SUPABASE_SECRET}),
    )
    .await;

    let preflight = Request::builder()
        .method("OPTIONS")
        .uri(token_path(&auth.session.id, "s"))
        .header("origin", ORIGIN)
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "authorization")
        .body(Body::empty())
        .unwrap();
    // Neither counts: CORS answers preflights, and the guard refuses a foreign origin, before the
    // request budget is charged.
    let ok = app.send(preflight).await;
    assert!(ok.status.is_success());
    assert_eq!(ok.header("access-control-allow-origin"), Some(ORIGIN));
    assert!(ok.header("access-control-allow-methods").unwrap().contains("POST"));
    assert!(
        ok.header("access-control-allow-headers").unwrap().to_ascii_lowercase().contains("authorization")
    );
    mint_with(&app, auth.jwt.expose(), &auth.session.id, "s", &[("origin", "http://evil.example")])
        .await
        .assert_error(403, "origin_not_allowed");

    for _ in 0..3 {
        token(&mint(&app, &auth, "s").await);
    }
    let limited = mint(&app, &auth, "s").await;
    limited.assert_error(429, "rate_limited");
    assert!(limited.header("retry-after").is_some());

    // Templates and their keys survive a restart (and on PostgreSQL so do the request budgets, which
    // are rows of the database: one unit is back after 15 s).
    let app = app.restart().await;
    app.clock.advance_secs(15);
    let t = token(&mint(&app, &auth, "s").await);
    let claims = jsonwebtoken::decode::<Value>(
        t.jwt.expose(),
        &DecodingKey::from_secret(SUPABASE_SECRET.as_bytes()),
        &validation(Algorithm::HS256),
    )
    .unwrap()
    .claims;
    assert_eq!(claims["e"], "ada@example.com");
}
