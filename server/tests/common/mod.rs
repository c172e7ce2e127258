//! Shared helpers for the integration tests: an app on a fresh database of either engine (see [`db`]),
//! driven in-process with `oneshot`, on a manual clock.
#![allow(dead_code)]

pub mod certs;
pub mod db;
pub mod receiver;
pub mod smtp;

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use hallpass_protocol::{AuthResponse, paths};
use hallpass_server::clock::ManualClock;
use hallpass_server::{AppState, Config, app};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

pub(crate) use db::{Db, db_test};

pub const PASSWORD: &str = "correct horse battery";

pub struct TestApp {
    pub state: AppState,
    pub clock: ManualClock,
    pub config: Config,
    router: Router,
}

pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    /// The first error's code.
    pub fn code(&self) -> String {
        self.json()["errors"][0]["code"].as_str().unwrap_or_default().to_owned()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn auth(&self) -> AuthResponse {
        assert_eq!(self.status, StatusCode::OK, "{}", String::from_utf8_lossy(&self.body));
        serde_json::from_slice(&self.body).unwrap()
    }

    #[track_caller]
    pub fn assert_error(&self, status: u16, code: &str) {
        assert_eq!(self.status.as_u16(), status, "{}", String::from_utf8_lossy(&self.body));
        assert_eq!(self.code(), code, "{}", String::from_utf8_lossy(&self.body));
        assert!(self.header(hallpass_protocol::SERVER_TIME_HEADER).is_some(), "server time header missing");
    }
}

impl TestApp {
    /// The app with test settings on `db`.
    pub async fn new(db: &Db) -> TestApp {
        TestApp::with(db, |_| {}).await
    }

    /// The app on `db` with test settings changed by `edit`.
    pub async fn with(db: &Db, edit: impl FnOnce(&mut Config)) -> TestApp {
        let mut config = db.config();
        edit(&mut config);
        TestApp::open(config, ManualClock::default()).await
    }

    /// An app with this config and clock: on a database another `TestApp` uses, a second replica.
    pub async fn open(config: Config, clock: ManualClock) -> TestApp {
        let state = AppState::with_clock(config.clone(), Arc::new(clock.clone())).await.unwrap();
        let router = app(state.clone());
        TestApp { state, clock, config, router }
    }

    /// Closes the database and starts a fresh `AppState` on it.
    pub async fn restart(self) -> TestApp {
        self.state.store.close().await;
        let TestApp { config, clock, .. } = self;
        TestApp::open(config, clock).await
    }

    pub async fn send(&self, req: Request<Body>) -> Resp {
        let res = self.router.clone().oneshot(req).await.unwrap();
        let (parts, body) = res.into_parts();
        let body = body.collect().await.unwrap().to_bytes().to_vec();
        Resp { status: parts.status, headers: parts.headers, body }
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<Value>,
    ) -> Resp {
        let mut req = Request::builder().method(method).uri(path);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let body = match body {
            Some(v) => {
                req = req.header("content-type", "application/json");
                Body::from(serde_json::to_vec(&v).unwrap())
            }
            None => Body::empty(),
        };
        self.send(req.body(body).unwrap()).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Resp {
        self.call(Method::POST, path, &[], Some(body)).await
    }

    pub async fn get_bearer(&self, path: &str, token: &str) -> Resp {
        self.call(Method::GET, path, &[("authorization", &format!("Bearer {token}"))], None).await
    }

    /// A Frontend API call with a session token (and a JSON body when given).
    pub async fn with_token(&self, method: Method, path: &str, token: &str, body: Option<Value>) -> Resp {
        self.call(method, path, &[("authorization", &format!("Bearer {token}"))], body).await
    }

    pub async fn sign_up_as(&self, email: &str) -> AuthResponse {
        self.post(paths::SIGN_UPS, json!({"email_address": email, "password": PASSWORD})).await.auth()
    }

    pub async fn sign_in_as(&self, email: &str) -> AuthResponse {
        self.post(paths::SIGN_INS, json!({"identifier": email, "password": PASSWORD})).await.auth()
    }

    /// A multi-step sign-in: `POST …/sign_ins {identifier}`, then `prepare_first_factor {strategy}`.
    /// The attempt's id and the answer to the prepare.
    pub async fn start_sign_in(&self, identifier: &str, strategy: &str) -> (String, Resp) {
        let created = self.post(paths::SIGN_INS, json!({"identifier": identifier})).await;
        assert_eq!(created.status, StatusCode::OK, "{}", String::from_utf8_lossy(&created.body));
        let id = created.json()["sign_in"]["id"].as_str().unwrap().to_owned();
        let prepare = paths::fill(paths::SIGN_IN_PREPARE_FIRST_FACTOR, &[&id]);
        (id, self.post(&prepare, json!({"strategy": strategy})).await)
    }

    pub async fn refresh(&self, token: &str) -> Resp {
        self.post(paths::REFRESH, json!({"refresh_token": token})).await
    }

    pub fn secret_key(&self) -> String {
        self.state.secret_key.expose().to_owned()
    }

    pub async fn backend(&self, method: Method, path: &str, body: Option<Value>) -> Resp {
        let auth = format!("Bearer {}", self.secret_key());
        self.call(method, path, &[("authorization", &auth)], body).await
    }
}

impl TestApp {
    pub fn clock_now(&self) -> i64 {
        use hallpass_server::clock::Clock;
        self.clock.now_ms()
    }

    /// Verifies a session token the way the server does, on the test clock.
    pub fn verify(&self, jwt: &str) -> hallpass_protocol::SessionClaims {
        self.state.keys.verify(jwt, self.clock_now(), &self.state.public_url()).unwrap()
    }
}

/// Whether `jwt`'s RS256 signature verifies with the key its `kid` names in the JWKS document `jwks`,
/// as a third-party backend checks it (time is the test's to judge).
pub fn verifies_with_jwks(jwks: &[u8], jwt: &str) -> bool {
    use jsonwebtoken::{Algorithm, DecodingKey, Validation};
    let Ok(jwks) = serde_json::from_slice::<jsonwebtoken::jwk::JwkSet>(jwks) else { return false };
    let Some(kid) = jsonwebtoken::decode_header(jwt).ok().and_then(|h| h.kid) else { return false };
    let Some(key) = jwks.find(&kid).and_then(|jwk| DecodingKey::from_jwk(jwk).ok()) else { return false };
    let mut v = Validation::new(Algorithm::RS256);
    v.validate_exp = false;
    v.validate_nbf = false;
    v.validate_aud = false;
    v.required_spec_claims.clear();
    jsonwebtoken::decode::<Value>(jwt, &key, &v).is_ok()
}
