//! Over a real socket with `run(listener, state, shutdown)`: an independent verifier built only from
//! the JWKS document, CORS, and graceful shutdown. Plus persistence across a restart.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::{Db, PASSWORD, TestApp, db_test};
use hallpass_protocol::{AuthResponse, SERVER_TIME_HEADER, SessionClaims, paths};
use hallpass_server::store::StoreError;
use hallpass_server::{AppState, Config, StartError, run};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

struct Raw {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Raw {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// A minimal HTTP/1.1 client (one request per connection), bounded by a timeout.
async fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&Value>,
) -> Raw {
    let body = body.map(|b| serde_json::to_string(b).unwrap()).unwrap_or_default();
    let mut req = format!("{method} {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    if !body.is_empty() {
        req.push_str(&format!("content-type: application/json\r\ncontent-length: {}\r\n", body.len()));
    }
    req.push_str("\r\n");
    req.push_str(&body);
    let fut = async {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream.write_all(req.as_bytes()).await.unwrap();
        let mut out = Vec::new();
        stream.read_to_end(&mut out).await.unwrap();
        out
    };
    let out = tokio::time::timeout(Duration::from_secs(20), fut).await.expect("request timed out");
    let text = String::from_utf8(out).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let mut lines = head.lines();
    let status = lines.next().unwrap().split(' ').nth(1).unwrap().parse().unwrap();
    let headers =
        lines.filter_map(|l| l.split_once(": ")).map(|(k, v)| (k.to_owned(), v.to_owned())).collect();
    Raw { status, headers, body: body.to_owned() }
}

db_test!(a_session_token_verifies_with_a_verifier_built_only_from_the_jwks);
async fn a_session_token_verifies_with_a_verifier_built_only_from_the_jwks(db: Db) {
    let state = AppState::new(db.config()).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(run(listener, state, async {
        let _ = stopped.await;
    }));

    let origin = "http://127.0.0.1:39999";
    let up = http(
        addr,
        "POST",
        paths::SIGN_UPS,
        &[("origin", origin)],
        Some(&json!({"email_address": "ada@example.com", "password": PASSWORD})),
    )
    .await;
    assert_eq!(up.status, 200, "{}", up.body);
    assert!(up.header(SERVER_TIME_HEADER).is_some());
    assert_eq!(up.header("access-control-allow-origin"), Some(origin));
    let auth: AuthResponse = serde_json::from_str(&up.body).unwrap();

    let jwks = http(addr, "GET", paths::JWKS, &[], None).await;
    assert_eq!(jwks.status, 200);
    assert!(jwks.header(SERVER_TIME_HEADER).is_some());
    let jwks: Value = serde_json::from_str(&jwks.body).unwrap();
    let key = &jwks["keys"][0];
    assert_eq!(key["kty"], "RSA");
    assert_eq!(key["alg"], "RS256");
    assert_eq!(key["use"], "sig");
    assert_eq!(key["e"], "AQAB");

    // The independent verifier: nothing but the JWKS document and a stock JWT library.
    let header = jsonwebtoken::decode_header(auth.jwt.expose()).unwrap();
    assert_eq!(header.alg, Algorithm::RS256);
    assert_eq!(header.kid.as_deref(), key["kid"].as_str());
    let decoding =
        DecodingKey::from_rsa_components(key["n"].as_str().unwrap(), key["e"].as_str().unwrap()).unwrap();
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_issuer(&[format!("http://{addr}")]);
    validation.set_required_spec_claims(&["exp", "nbf", "iss", "sub"]);
    validation.validate_nbf = true;
    let data = jsonwebtoken::decode::<SessionClaims>(auth.jwt.expose(), &decoding, &validation).unwrap();
    assert_eq!(data.claims.sub, auth.user.id);
    assert_eq!(data.claims.sid, auth.session.id);
    assert_eq!(data.claims.azp.as_deref(), Some(origin));
    assert_eq!(data.claims.v, 2);
    // A tampered payload fails the same verifier.
    let mut parts: Vec<&str> = auth.jwt.expose().split('.').collect();
    let evil = hallpass_server::secret::b64url(br#"{"sub":"user_evil"}"#);
    parts[1] = &evil;
    assert!(jsonwebtoken::decode::<Value>(parts.join("."), &decoding, &validation).is_err());

    // Preflight over the wire, and the Backend API has no CORS.
    let pre = http(
        addr,
        "OPTIONS",
        paths::REFRESH,
        &[
            ("origin", origin),
            ("access-control-request-method", "POST"),
            ("access-control-request-headers", "content-type"),
        ],
        None,
    )
    .await;
    assert_eq!(pre.header("access-control-allow-origin"), Some(origin));
    let back = http(addr, "GET", paths::USERS, &[("origin", origin)], None).await;
    assert_eq!(back.status, 401);
    assert_eq!(back.header("access-control-allow-origin"), None);

    // Refresh over the wire, then a clean shutdown.
    let r =
        http(addr, "POST", paths::REFRESH, &[], Some(&json!({"refresh_token": auth.refresh_token}))).await;
    assert_eq!(r.status, 200, "{}", r.body);
    stop.send(()).unwrap();
    let res = tokio::time::timeout(Duration::from_secs(20), server).await.expect("server did not shut down");
    res.unwrap().unwrap();
    assert!(TcpStream::connect(addr).await.is_err(), "listener closed after shutdown");
}

db_test!(keys_users_and_sessions_survive_a_restart);
async fn keys_users_and_sessions_survive_a_restart(db: Db) {
    let app = TestApp::new(&db).await;
    let auth = app.sign_up_as("ada@example.com").await;
    let kid = app.state.signing_key().kid().to_owned();
    let secret = app.secret_key();
    let jwks = app.state.keys.jwks();

    let app = app.restart().await;
    assert_eq!(app.state.signing_key().kid(), kid);
    assert_eq!(app.secret_key(), secret);
    assert_eq!(app.state.keys.jwks(), jwks);
    // The old session token still verifies, the refresh token still rotates, the password still works.
    assert_eq!(
        app.get_bearer(paths::ME, auth.jwt.expose()).await.json()["user"]["id"],
        auth.user.id.as_str()
    );
    let r = app.refresh(auth.refresh_token.expose()).await.auth();
    assert_eq!(r.session.id, auth.session.id);
    app.sign_in_as("ada@example.com").await;
    app.post(paths::SIGN_UPS, json!({"email_address": "ada@example.com", "password": PASSWORD}))
        .await
        .assert_error(422, "form_identifier_exists");

    // The grace window survives too: the successor is derived, not held in memory.
    let app = app.restart().await;
    let again = app.refresh(auth.refresh_token.expose()).await.auth();
    assert_eq!(again.refresh_token, r.refresh_token);
}

db_test!(a_configured_secret_key_is_used_and_a_bad_one_refused);
async fn a_configured_secret_key_is_used_and_a_bad_one_refused(db: Db) {
    let key = "sk_test_0123456789abcdefghijklmnopqrstuv";
    let app = TestApp::with(&db, |c| c.secret_key = Some(key.parse().unwrap())).await;
    assert_eq!(app.secret_key(), key);
    assert!(app.state.publishable_key().starts_with("pk_test_"));
    let mut config = db.config();
    config.secret_key = Some("pk_test_nope".parse().unwrap());
    assert!(matches!(AppState::new(config).await, Err(StartError::BadSecretKey)));
}

#[tokio::test]
async fn unknown_and_unreachable_databases_are_clear_errors() {
    let mut config = Config::for_tests("unused.db");
    config.database_url = "mysql://localhost/x".into();
    let err = AppState::new(config.clone()).await.unwrap_err();
    assert!(matches!(err, StartError::Store(StoreError::UnsupportedUrl(_))), "{err}");
    assert!(err.to_string().contains("sqlite:// or postgres://"), "{err}");
    // A PostgreSQL URL where nothing listens: refused at once, not a hang or a panic.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    config.database_url = format!("postgres://postgres@127.0.0.1:{closed}/hallpass");
    let started = tokio::time::timeout(Duration::from_secs(30), AppState::new(config)).await;
    assert!(matches!(started, Ok(Err(StartError::Store(StoreError::Db(_))))), "{started:?}");
}
