//! The verifier against tokens of a real `hallpass-server`: what it accepts, every refusal, and the
//! JWKS cache's rules (counted through a loopback relay of the server's own JWKS, which can also play
//! the server down), across a real signing-key rotation (`hallpass-server keys rotate`).

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::{TestServer, claims_of};
use hallpass_backend::{Auth, Error, Http, JwksOptions, Verifier};
use http::{HeaderMap, HeaderValue};
use serde_json::{Value, json};

const ORIGIN: &str = "http://localhost:3000";

fn at(secs: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs as u64)
}

fn verifier(server: &TestServer) -> Verifier {
    Verifier::frontend_api(&server.url).expect("a verifier").build()
}

/// A JWS over `header` and `claims` signed with a new RSA key (not the server's).
fn forge(header: Value, claims: &Value) -> String {
    let pair = RsaKeyPair::generate(KeySize::Rsa2048).expect("an RSA key");
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let mut signature = vec![0; pair.public_modulus_len()];
    pair.sign(&RSA_PKCS1_SHA256, &SystemRandom::new(), input.as_bytes(), &mut signature).expect("signing");
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

fn kid_of(token: &str) -> String {
    let header: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(token.split('.').next().unwrap()).unwrap()).unwrap();
    header["kid"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_session_token_verifies_and_every_refusal_has_its_reason() {
    let server = TestServer::start(60);
    let user = server.sign_up(ORIGIN).await;
    let token = user["jwt"].as_str().unwrap();
    let claims = claims_of(token);
    let (exp, nbf) = (claims["exp"].as_i64().unwrap(), claims["nbf"].as_i64().unwrap());
    let v = verifier(&server);

    let ok = v.verify(token).await.expect("verifies");
    assert_eq!(ok.claims.sub, user["user"]["id"].as_str().unwrap());
    assert_eq!(ok.claims.sid, user["session"]["id"].as_str().unwrap());
    assert_eq!(ok.claims.azp.as_deref(), Some(ORIGIN));
    assert_eq!(ok.key_id.as_deref(), Some(kid_of(token).as_str()));

    // Time, on this backend's clock, with 5 s of skew by default.
    assert!(matches!(v.verify_at(token, at(exp + 6)).await, Err(Error::TokenExpired)));
    assert!(v.verify_at(token, at(exp + 3)).await.is_ok());
    assert!(matches!(v.verify_at(token, at(nbf - 6)).await, Err(Error::TokenNotActiveYet)));
    assert!(v.verify_at(token, at(nbf - 3)).await.is_ok());
    let lenient = Verifier::frontend_api(&server.url).unwrap().clock_skew(Duration::from_secs(30)).build();
    assert!(lenient.verify_at(token, at(exp + 20)).await.is_ok());

    // Tampered claims or signature.
    let parts: Vec<&str> = token.split('.').collect();
    let mut edited = claims.clone();
    edited["sub"] = json!("user_someone_else");
    let tampered = format!("{}.{}.{}", parts[0], URL_SAFE_NO_PAD.encode(edited.to_string()), parts[2]);
    assert!(matches!(v.verify(&tampered).await, Err(Error::TokenInvalidSignature)));
    let mut sig = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
    sig[10] ^= 1;
    let flipped = format!("{}.{}.{}", parts[0], parts[1], URL_SAFE_NO_PAD.encode(sig));
    assert!(matches!(v.verify(&flipped).await, Err(Error::TokenInvalidSignature)));
    for junk in ["", "a.b", "a.b.c", &"x".repeat(20_000), &format!("{}.{}", parts[0], parts[1])] {
        let e = v.verify(junk).await.unwrap_err();
        assert_eq!(e.code(), "token-invalid", "{junk:.20}");
    }

    // A foreign key under the server's kid; a kid the server never had; not RS256.
    let kid = kid_of(token);
    let foreign = forge(json!({ "alg": "RS256", "kid": kid }), &claims);
    assert!(matches!(v.verify(&foreign).await, Err(Error::TokenInvalidSignature)));
    let unknown = forge(json!({ "alg": "RS256", "kid": "ins_forged" }), &claims);
    assert!(matches!(v.verify(&unknown).await, Err(Error::KidMismatch(_))));
    let none =
        format!("{}.{}.", URL_SAFE_NO_PAD.encode(json!({ "alg": "none", "kid": kid }).to_string()), parts[1]);
    assert!(matches!(v.verify(&none).await, Err(Error::TokenInvalidAlgorithm)));
    let hs = format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(json!({ "alg": "HS256", "kid": kid }).to_string()),
        parts[1],
        parts[2]
    );
    assert!(matches!(v.verify(&hs).await, Err(Error::TokenInvalidAlgorithm)));

    // Authorized parties and the issuer.
    let strict =
        Verifier::frontend_api(&server.url).unwrap().authorized_parties(["https://app.example.com"]).build();
    assert!(
        matches!(strict.verify(token).await, Err(Error::TokenInvalidAuthorizedParty(azp)) if azp == ORIGIN)
    );
    let both = Verifier::frontend_api(&server.url)
        .unwrap()
        .authorized_parties(["https://app.example.com", ORIGIN])
        .build();
    assert!(both.verify(token).await.is_ok());
    let other = Verifier::frontend_api(&server.url).unwrap().issuer("https://auth.example.com").build();
    assert!(matches!(other.verify(token).await, Err(Error::TokenInvalidIssuer(_))));
    let publishable = hallpass_protocol::keys::encode_publishable_key(&server.url, false);
    assert!(Verifier::publishable_key(&publishable).unwrap().build().verify(token).await.is_ok());
    assert!(Verifier::publishable_key("pk_test_nope").is_err());
}

#[tokio::test]
async fn a_template_token_is_signed_by_the_same_key_but_refused() {
    let server = TestServer::start(60);
    let user = server.sign_up(ORIGIN).await;
    let (status, template) = server
        .backend(
            reqwest::Method::POST,
            "/v1/jwt_templates",
            Some(json!({ "name": "rust", "claims": { "aud": "x" } })),
        )
        .await;
    assert_eq!(status, 200, "{template}");
    let minted: Value = reqwest::Client::new()
        .post(format!(
            "{}/v1/client/sessions/{}/tokens/rust",
            server.url,
            user["session"]["id"].as_str().unwrap()
        ))
        .bearer_auth(user["jwt"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let template_token = minted["jwt"].as_str().unwrap();
    assert_eq!(kid_of(template_token), kid_of(user["jwt"].as_str().unwrap()));
    assert!(matches!(verifier(&server).verify(template_token).await, Err(Error::TokenTypeMismatch)));
}

#[tokio::test]
async fn networkless_with_the_jwks_document_or_a_pem_key() {
    let server = TestServer::start(60);
    let user = server.sign_up(ORIGIN).await;
    let token = user["jwt"].as_str().unwrap();
    let jwks =
        reqwest::get(format!("{}/.well-known/jwks.json", server.url)).await.unwrap().text().await.unwrap();
    let local = Verifier::jwt_key(&jwks).unwrap().issuer(server.url.clone()).build();
    drop(server); // nothing to reach from here on
    assert_eq!(local.verify(token).await.unwrap().claims.sub, user["user"]["id"].as_str().unwrap());
    let one: Value = serde_json::from_str::<Value>(&jwks).unwrap()["keys"][0].clone();
    assert!(Verifier::jwt_key(&one.to_string()).unwrap().build().verify(token).await.is_ok());
    assert!(Verifier::jwt_key("-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----").is_err());
    assert!(Verifier::jwt_key("neither").is_err());
}

/// A loopback relay of the server's JWKS that counts fetches and can play the server down.
struct JwksRelay {
    url: String,
    fetches: Arc<AtomicUsize>,
    down: Arc<AtomicBool>,
}

async fn relay(server_url: &str) -> JwksRelay {
    let upstream = format!("{server_url}/.well-known/jwks.json");
    let fetches = Arc::new(AtomicUsize::new(0));
    let down = Arc::new(AtomicBool::new(false));
    let (f, d) = (fetches.clone(), down.clone());
    let app = axum::Router::new().route(
        "/jwks",
        axum::routing::get(move || {
            let (f, d, upstream) = (f.clone(), d.clone(), upstream.clone());
            async move {
                f.fetch_add(1, Ordering::SeqCst);
                if d.load(Ordering::SeqCst) {
                    return (axum::http::StatusCode::SERVICE_UNAVAILABLE, String::new());
                }
                let body = reqwest::get(&upstream).await.unwrap().text().await.unwrap();
                (axum::http::StatusCode::OK, body)
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/jwks", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    JwksRelay { url, fetches, down }
}

#[tokio::test]
async fn the_jwks_cache_one_fetch_a_cooldown_for_unknown_kids_and_stale_keys_when_down() {
    let server = TestServer::start(60);
    let user = server.sign_up(ORIGIN).await;
    let token = user["jwt"].as_str().unwrap().to_owned();
    let claims = claims_of(&token);
    let relay = relay(&server.url).await;
    let options = JwksOptions { cooldown: Duration::from_secs(60), ..JwksOptions::default() };
    let v = Verifier::jwks_url(&relay.url, Http::new().unwrap(), options).issuer(server.url.clone()).build();

    // Many concurrent verifications, one fetch; then the cache answers.
    let all = futures_join(&v, &token, 25).await;
    assert!(all.iter().all(Result::is_ok));
    assert_eq!(relay.fetches.load(Ordering::SeqCst), 1);
    // An unknown kid fetches at once; more unknown kids within the cooldown fetch nothing.
    for i in 0..5 {
        let forged = forge(json!({ "alg": "RS256", "kid": format!("ins_forged_{i}") }), &claims);
        assert!(matches!(v.verify(&forged).await, Err(Error::KidMismatch(_))));
    }
    assert_eq!(relay.fetches.load(Ordering::SeqCst), 2);

    // Keys past their max age with the server down: the refresh is tried, the old keys go on.
    let stale = Verifier::jwks_url(
        &relay.url,
        Http::new().unwrap(),
        JwksOptions { max_age: Duration::ZERO, cooldown: Duration::ZERO, ..JwksOptions::default() },
    )
    .build();
    stale.verify(&token).await.expect("keys cached");
    relay.down.store(true, Ordering::SeqCst);
    let before = relay.fetches.load(Ordering::SeqCst);
    assert_eq!(stale.verify(&token).await.unwrap().claims.sid, user["session"]["id"].as_str().unwrap());
    assert_eq!(relay.fetches.load(Ordering::SeqCst), before + 1, "the refresh was tried");
    // A kid it does not have cannot be checked now, and the error says so.
    let forged = forge(json!({ "alg": "RS256", "kid": "ins_new" }), &claims);
    assert!(matches!(stale.verify(&forged).await, Err(Error::JwksUnavailable(_))));
    // A cache that never got keys.
    let empty = Verifier::jwks_url(&relay.url, Http::new().unwrap(), JwksOptions::default()).build();
    assert!(matches!(empty.verify(&token).await, Err(Error::JwksUnavailable(_))));
}

async fn futures_join(
    v: &Verifier,
    token: &str,
    n: usize,
) -> Vec<hallpass_backend::Result<hallpass_backend::VerifiedToken>> {
    let tasks: Vec<_> = (0..n)
        .map(|_| {
            let (v, token) = (v.clone(), token.to_owned());
            tokio::spawn(async move { v.verify(&token).await })
        })
        .collect();
    let mut out = Vec::new();
    for task in tasks {
        out.push(task.await.unwrap());
    }
    out
}

#[tokio::test]
async fn authenticate_reads_the_bearer_token_then_the_session_cookie() {
    let server = TestServer::start(60);
    let user = server.sign_up(ORIGIN).await;
    let token = user["jwt"].as_str().unwrap();
    let v = verifier(&server);
    let mut headers = HeaderMap::new();
    match v.authenticate(&headers).await {
        Auth::SignedOut(out) => assert_eq!(out.reason, "session-token-and-uat-missing"),
        Auth::SignedIn(_) => panic!("no token is signed out"),
    }
    headers.insert("cookie", HeaderValue::from_str(&format!("a=1; __session={token}")).unwrap());
    let auth = v.authenticate(&headers).await;
    assert_eq!(auth.user_id(), user["user"]["id"].as_str());
    assert_eq!(auth.signed_in().map(|s| s.token()), Some(token));
    // The header wins over the cookie.
    headers.insert("authorization", HeaderValue::from_static("Bearer not.a.token"));
    match v.authenticate(&headers).await {
        Auth::SignedOut(out) => assert_eq!(out.reason, "token-invalid"),
        Auth::SignedIn(_) => panic!("a bad Bearer token is signed out"),
    }
}

async fn jwks_kids(server: &TestServer) -> Vec<String> {
    let jwks: Value =
        reqwest::get(format!("{}/.well-known/jwks.json", server.url)).await.unwrap().json().await.unwrap();
    jwks["keys"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap().to_owned()).collect()
}

/// Polls until `done` holds, for at most `secs` (the server picks key changes up within 5 s).
async fn until(secs: u64, mut done: impl AsyncFnMut() -> bool) -> bool {
    let deadline = std::time::Instant::now() + Duration::from_secs(secs);
    while std::time::Instant::now() < deadline {
        if done().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    false
}

/// A real signing-key rotation (`hallpass-server keys rotate` against the running server's database,
/// as an operator runs it): the old key alone, the new one published beside it before it signs, then
/// signing, then the old one retired. The verifier reads the server's own JWKS through the counting
/// relay.
#[tokio::test]
async fn a_rotated_signing_key_refetches_once_and_the_old_key_verifies_until_retired() {
    let server = TestServer::start(60);
    let before = server.sign_up(ORIGIN).await["jwt"].as_str().unwrap().to_owned();
    let old_kid = kid_of(&before);
    let relay = relay(&server.url).await;
    let options = JwksOptions { cooldown: Duration::ZERO, ..JwksOptions::default() };
    let v = Verifier::jwks_url(&relay.url, Http::new().unwrap(), options).issuer(server.url.clone()).build();
    v.verify(&before).await.expect("the old key");
    assert_eq!(relay.fetches.load(Ordering::SeqCst), 1);

    let printed = server.keys(&["rotate", "--delay-secs", "10"]);
    let new_kid = printed
        .split("New signing key ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .unwrap()
        .to_owned();
    assert_ne!(new_kid, old_kid);
    // Published before it signs; the old key still signs meanwhile, verified from the cache.
    assert!(
        until(30, async || jwks_kids(&server).await.contains(&new_kid)).await,
        "the new key is published"
    );
    let meanwhile = server.sign_up(ORIGIN).await["jwt"].as_str().unwrap().to_owned();
    assert_eq!(kid_of(&meanwhile), old_kid, "the new key waits for its time");
    v.verify(&meanwhile).await.expect("the old key, from the cache");
    assert_eq!(relay.fetches.load(Ordering::SeqCst), 1);

    // Signing: the new kid refetches at once, though the cache is fresh; then both keys verify from it.
    let mut after = String::new();
    let signed = until(40, async || {
        after = server.sign_up(ORIGIN).await["jwt"].as_str().unwrap().to_owned();
        kid_of(&after) == new_kid
    })
    .await;
    assert!(signed, "the new key signs after its delay");
    v.verify(&after).await.expect("the new key, after a refetch");
    assert_eq!(relay.fetches.load(Ordering::SeqCst), 2);
    for token in [&before, &after, &before, &after] {
        v.verify(token).await.expect("both keys, from the cache");
    }
    assert_eq!(relay.fetches.load(Ordering::SeqCst), 2);

    // The old key retired. Housekeeping retires it once no token it signed can still be valid (its
    // lease plus five minutes of skew); the test does now what that sweep does then.
    retire(&server, &old_kid).await;
    assert!(
        until(30, async || !jwks_kids(&server).await.contains(&old_kid)).await,
        "the old key leaves the JWKS"
    );
    // A cache past its max age refetches and refuses the old key's tokens; the cache above, still
    // fresh, keeps verifying them until it refetches.
    let stale = JwksOptions { max_age: Duration::ZERO, cooldown: Duration::ZERO, ..JwksOptions::default() };
    let fresh =
        Verifier::jwks_url(&relay.url, Http::new().unwrap(), stale).issuer(server.url.clone()).build();
    assert!(matches!(fresh.verify(&before).await, Err(Error::KidMismatch(_))), "retired");
    fresh.verify(&after).await.expect("the new key");
    v.verify(&before).await.expect("a cache within its max age keeps the keys it has");
}

/// What housekeeping's retirement writes for `kid` (the key leaves the JWKS, its private key erased).
async fn retire(server: &TestServer, kid: &str) {
    use sqlx::Connection as _;
    let mut db = sqlx::SqliteConnection::connect(&server.database_url).await.unwrap();
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as i64;
    let n = sqlx::query("UPDATE signing_keys SET retired_at = $1, private_key = '' WHERE kid = $2")
        .bind(now)
        .bind(kid)
        .execute(&mut db)
        .await
        .unwrap()
        .rows_affected();
    assert_eq!(n, 1);
}
