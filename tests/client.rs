//! Browser suite: the Rust API (`hallpass::client::Hallpass`) in headless Chromium against a real
//! `hallpass-server` (5 s session tokens) behind the test proxy, which counts requests and injects
//! faults. Every test signs its instances out at the end, so no late answer leaks into the next one.

#![cfg(target_arch = "wasm32")]

mod common;

use std::cell::RefCell;
use std::rc::Rc;

use common::*;
use hallpass::client::{GetTokenOptions, Hallpass, Options, SignUp};
use hallpass::core::clock::FakeClock;
use hallpass::core::state::{AuthState, SignOutReason};
use hallpass::platform::storage::StorageKind;
use hallpass_protocol::ErrorCode;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::future_to_promise;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// Tokens live 5 s on the test server; asking for 2 s left means a token is refreshed once the
/// (fake) clock has moved 3 s or more past its issue.
const MIN_LIFETIME_MS: i64 = 2_000;

fn options(storage: StorageKind, clock: Option<&FakeClock>) -> Options {
    let mut o = Options::new(api()).with_storage(storage).with_min_token_lifetime_ms(MIN_LIFETIME_MS);
    if let Some(clock) = clock {
        o = o.with_clock(Rc::new(clock.clone()));
    }
    o
}

async fn signed_up(storage: StorageKind, clock: Option<&FakeClock>) -> Hallpass {
    let hp = Hallpass::load(options(storage, clock)).await.unwrap();
    hp.sign_up(
        SignUp::new(unique_email("client"), PASSWORD).with_name(Some("Ada".into()), Some("Lovelace".into())),
    )
    .await
    .unwrap();
    hp
}

fn now() -> i64 {
    js_sys::Date::now() as i64
}

async fn reset() {
    local().clear().unwrap();
    session_storage().clear().unwrap();
    control("reset").await;
}

#[wasm_bindgen_test]
async fn sign_up_signs_in_and_persists_the_session() {
    reset().await;
    let email = unique_email("signup");
    let hp = Hallpass::load(options(StorageKind::Local, None)).await.unwrap();
    assert_eq!(hp.state(), AuthState::SignedOut { reason: None });
    hp.sign_up(SignUp::new(&email, PASSWORD)).await.unwrap();
    let state = hp.state();
    let user = state.user().unwrap();
    assert_eq!(user.email_addresses[0].email_address, email);
    assert!(state.session_id().unwrap().starts_with("sess_"));
    assert_eq!(hallpass_keys(&local()).len(), 1, "one versioned key per instance");
    let auth = hp.auth();
    assert!(auth.is_loaded && auth.is_signed_in);
    assert_eq!(auth.user_id.as_deref(), hp.user().map(|u| u.id).as_deref());
    assert_eq!(auth.session_id.as_deref(), hp.session().map(|s| s.id).as_deref());
    hp.sign_out().await.unwrap();
    assert_eq!((hp.user(), hp.session()), (None, None));
    assert!(!hp.auth().is_signed_in);
}

#[wasm_bindgen_test]
async fn sign_in_with_a_wrong_password_is_a_typed_error() {
    reset().await;
    let email = unique_email("wrongpw");
    let hp = Hallpass::load(options(StorageKind::Memory, None)).await.unwrap();
    hp.sign_up(SignUp::new(&email, PASSWORD)).await.unwrap();
    hp.sign_out().await.unwrap();
    let err = hp.sign_in(&email, "not the password").await.unwrap_err();
    assert_eq!(err.code, ErrorCode::FormPasswordIncorrect);
    assert!(!hp.state().is_signed_in());
    hp.sign_in(&email, PASSWORD).await.unwrap();
    assert!(hp.state().is_signed_in());
    hp.sign_out().await.unwrap();
}

#[wasm_bindgen_test]
async fn a_reload_is_signed_in_before_any_request_completes() {
    reset().await;
    let hp = signed_up(StorageKind::Local, None).await;
    let user_id = hp.state().user_id().unwrap().to_owned();
    // Every refresh now takes 3 s: load must not wait for the background revalidation.
    control("fault?mode=delay&ms=3000&path=/v1/client/refresh").await;
    let reloaded = Hallpass::load(options(StorageKind::Local, None)).await.unwrap();
    assert_eq!(reloaded.state().user_id(), Some(user_id.as_str()), "signed in at once from storage");
    assert!(reloaded.state().is_loaded());
    reloaded.sign_out().await.unwrap();
    hp.sign_out().await.unwrap();
}

#[wasm_bindgen_test]
async fn sign_out_empties_storage_in_all_three_kinds() {
    for kind in [StorageKind::Local, StorageKind::Session, StorageKind::Memory] {
        reset().await;
        let hp = signed_up(kind, None).await;
        assert!(hp.storage().get("session").is_some(), "{kind:?}: the session is stored");
        let browser_keys = hallpass_keys(&local()).len() + hallpass_keys(&session_storage()).len();
        assert_eq!(browser_keys, usize::from(kind != StorageKind::Memory), "{kind:?}");
        hp.sign_out().await.unwrap();
        assert_eq!(hp.state(), AuthState::SignedOut { reason: Some(SignOutReason::SignedOut) });
        assert_eq!(hp.storage().get("session"), None, "{kind:?}");
        assert!(
            hallpass_keys(&local()).is_empty() && hallpass_keys(&session_storage()).is_empty(),
            "{kind:?}"
        );
        assert_eq!(hp.get_token(GetTokenOptions::default()).await.unwrap(), None, "no token when signed out");
    }
}

#[wasm_bindgen_test]
async fn get_token_is_served_from_the_cache_while_fresh() {
    reset().await;
    let hp = signed_up(StorageKind::Memory, None).await;
    control("reset").await;
    let a = hp.get_token(GetTokenOptions::default()).await.unwrap().unwrap();
    let b = hp.get_token(GetTokenOptions::default()).await.unwrap().unwrap();
    assert_eq!(a, b);
    assert_eq!(refreshes().await, 0, "no request while the token is fresh");
    let c = hp.get_token(GetTokenOptions::skip_cache()).await.unwrap().unwrap();
    assert_ne!(a, c, "skipCache fetches a new token");
    assert_eq!(refreshes().await, 1);
    hp.sign_out().await.unwrap();
}

#[wasm_bindgen_test]
async fn a_token_close_to_expiry_is_refreshed_before_it_is_handed_out() {
    reset().await;
    let clock = FakeClock::new(now());
    let hp = signed_up(StorageKind::Memory, Some(&clock)).await;
    let first = hp.get_token(GetTokenOptions::default()).await.unwrap().unwrap();
    control("reset").await;
    clock.advance(1_000);
    assert_eq!(hp.get_token(GetTokenOptions::default()).await.unwrap().as_deref(), Some(first.as_str()));
    assert_eq!(refreshes().await, 0, "4 s left is more than the 2 s minimum");
    clock.advance(2_500);
    let second = hp.get_token(GetTokenOptions::default()).await.unwrap().unwrap();
    assert_ne!(first, second);
    assert_eq!(refreshes().await, 1, "1.5 s left is less than the minimum: one refresh");
    hp.sign_out().await.unwrap();
}

#[wasm_bindgen_test]
async fn twenty_concurrent_get_token_calls_make_exactly_one_refresh() {
    reset().await;
    let clock = FakeClock::new(now());
    let hp = signed_up(StorageKind::Memory, Some(&clock)).await;
    control("reset").await;
    clock.advance(3_500);
    let promises = js_sys::Array::new();
    for _ in 0..20 {
        let hp = hp.clone();
        promises.push(&future_to_promise(async move {
            let token =
                hp.get_token(GetTokenOptions::default()).await.map_err(|e| JsValue::from_str(&e.message))?;
            Ok(JsValue::from_str(&token.unwrap_or_default()))
        }));
    }
    let tokens: js_sys::Array =
        wasm_bindgen_futures::JsFuture::from(js_sys::Promise::all(&promises)).await.unwrap().into();
    let first = tokens.get(0).as_string().unwrap();
    assert!(!first.is_empty());
    assert!(tokens.iter().all(|t| t.as_string().as_deref() == Some(first.as_str())), "all share one token");
    assert_eq!(refreshes().await, 1);
    hp.sign_out().await.unwrap();
}

#[wasm_bindgen_test]
async fn a_session_revoked_through_the_backend_api_signs_out_and_notifies() {
    reset().await;
    let clock = FakeClock::new(now());
    let hp = signed_up(StorageKind::Local, Some(&clock)).await;
    let seen: Rc<RefCell<Vec<AuthState>>> = Rc::default();
    let handle = hp.add_listener({
        let seen = seen.clone();
        move |state| seen.borrow_mut().push(state.clone())
    });
    let sid = hp.state().session_id().unwrap().to_owned();
    control(&format!("revoke?session={sid}")).await;
    clock.advance(3_500);
    let err = hp.get_token(GetTokenOptions::default()).await.unwrap_err();
    assert!(err.ends_session(), "{err:?}");
    let expected = AuthState::SignedOut { reason: err.ending().map(SignOutReason::SessionEnded) };
    assert_eq!(hp.state(), expected);
    assert_eq!(seen.borrow().as_slice(), &[expected], "listeners hear the sign-out once");
    assert!(hallpass_keys(&local()).is_empty(), "the revoked session is wiped from storage");
    drop(handle);
}

#[wasm_bindgen_test]
async fn a_device_clock_off_by_an_hour_changes_nothing() {
    for shift in [3_600_000_i64, -3_600_000] {
        reset().await;
        let clock = FakeClock::new(now() + shift);
        let hp = signed_up(StorageKind::Memory, Some(&clock)).await;
        control("reset").await;
        hp.get_token(GetTokenOptions::default()).await.unwrap().unwrap();
        assert_eq!(refreshes().await, 0, "shift {shift}: the fresh token is not mistaken for an expired one");
        clock.advance(3_500);
        hp.get_token(GetTokenOptions::default()).await.unwrap().unwrap();
        assert_eq!(refreshes().await, 1, "shift {shift}: refreshed when the server's clock says so");
        hp.sign_out().await.unwrap();
    }
}

#[wasm_bindgen_test]
async fn corrupt_or_foreign_storage_loads_signed_out_with_a_warning() {
    for garbage in ["{not json", r#"{"v":1,"user":42}"#, r#"{"v":99,"something":"else"}"#, "null", "[]"] {
        reset().await;
        let key = format!("hallpass:{}:session", api().replace([':', '/'], "_"));
        local().set_item(&key, garbage).unwrap();
        let warnings = record_warnings();
        let hp = Hallpass::load(options(StorageKind::Local, None)).await.unwrap();
        restore_warnings();
        assert_eq!(hp.state(), AuthState::SignedOut { reason: None }, "{garbage}");
        assert_eq!(local().get_item(&key).unwrap(), None, "{garbage}: cleared");
        assert!(warnings.length() >= 1 || garbage == "null", "{garbage}: a console warning says so");
    }
}

#[wasm_bindgen_test]
async fn a_server_that_is_down_gives_a_typed_error_and_keeps_the_session() {
    reset().await;
    let hp = signed_up(StorageKind::Local, None).await;
    let user_id = hp.state().user_id().unwrap().to_owned();
    control("fault?mode=down").await;
    let err = hp.get_token(GetTokenOptions::skip_cache()).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::NetworkError);
    assert!(!err.ends_session());
    assert_eq!(hp.state().user_id(), Some(user_id.as_str()), "still signed in");
    assert_eq!(hallpass_keys(&local()).len(), 1, "still stored");
    control("fault?mode=status&code=503").await;
    let err = hp.get_token(GetTokenOptions::skip_cache()).await.unwrap_err();
    assert_eq!((err.code, err.status), (ErrorCode::InternalError.into(), Some(503)));
    assert!(hp.state().is_signed_in());
    control("reset").await;
    assert!(hp.get_token(GetTokenOptions::skip_cache()).await.unwrap().is_some(), "recovers");
    hp.sign_out().await.unwrap();
}

#[wasm_bindgen_test]
async fn fetch_adds_the_bearer_token_and_retries_once_after_a_401() {
    reset().await;
    let hp = signed_up(StorageKind::Memory, None).await;
    control("reset").await;
    control("fault?mode=status&code=401&path=/v1/client/me&times=1").await;
    let request = web_sys::Request::new_with_str(&format!("{}/v1/client/me", api())).unwrap();
    let response = hp.fetch(&request).await.unwrap();
    assert_eq!(response.status(), 200, "the retry with a new token succeeds");
    assert_eq!(count("GET /v1/client/me").await, 2);
    assert_eq!(refreshes().await, 1, "one forced refresh between the tries");
    let body = wasm_bindgen_futures::JsFuture::from(response.json().unwrap()).await.unwrap();
    let user = js_sys::Reflect::get(&body, &"user".into()).unwrap();
    let id = js_sys::Reflect::get(&user, &"id".into()).unwrap().as_string();
    assert_eq!(id.as_deref(), hp.state().user_id());
    hp.sign_out().await.unwrap();
}

#[wasm_bindgen_test]
async fn sign_out_succeeds_offline() {
    reset().await;
    let hp = signed_up(StorageKind::Local, None).await;
    control("fault?mode=down").await;
    hp.sign_out().await.unwrap();
    assert!(!hp.state().is_signed_in());
    assert!(hallpass_keys(&local()).is_empty());
    control("reset").await;
}

#[wasm_bindgen_test]
async fn invalid_options_are_a_typed_error() {
    for bad in ["", "ftp://x", "pk_test_garbage", "localhost:8787"] {
        let err = Hallpass::load(Options::new(bad)).await.err().unwrap();
        assert_eq!(err.code, ErrorCode::InvalidOptions, "{bad}");
    }
    let pk = hallpass_protocol::keys::encode_publishable_key(api(), false);
    let hp =
        Hallpass::load(Options::new(format!(" {pk}\n")).with_storage(StorageKind::Memory)).await.unwrap();
    assert_eq!(hp.frontend_api(), api());
    // Surrounding whitespace and trailing slashes are not part of the address.
    let padded = format!("\t{}///  ", api());
    let hp = Hallpass::load(Options::new(padded).with_storage(StorageKind::Memory)).await.unwrap();
    assert_eq!(hp.frontend_api(), api());
}

/// A JWT template with a name no other test uses, made through the Backend API.
async fn template(claims: &str) -> String {
    let name = format!("t{}", js_sys::Math::random().to_bits() % 1_000_000_000);
    let body = format!(r#"{{"name":"{name}","claims":{claims},"lifetime":60}}"#);
    let (status, answer) = backend("POST", "/v1/jwt_templates", &body).await;
    assert_eq!(status, 200, "{answer:?}");
    name
}

fn claim(claims: &JsValue, name: &str) -> JsValue {
    js_sys::Reflect::get(claims, &name.into()).unwrap()
}

#[wasm_bindgen_test]
async fn a_template_token_is_minted_from_the_session_then_served_from_the_cache() {
    reset().await;
    let name =
        template(r#"{"aud":"tests","email":"{{user.primary_email_address}}","name":"{{user.full_name}}"}"#)
            .await;
    let hp = signed_up(StorageKind::Memory, None).await;
    let path = format!("POST /v1/client/sessions/{}/tokens/{name}", hp.state().session_id().unwrap());
    control("reset").await;
    let token = hp.get_token(GetTokenOptions::template(&name)).await.unwrap().unwrap();
    let claims = jwt_claims(&token);
    assert_eq!(claim(&claims, "aud").as_string().as_deref(), Some("tests"));
    assert_eq!(claim(&claims, "name").as_string().as_deref(), Some("Ada Lovelace"));
    assert_eq!(
        claim(&claims, "email").as_string(),
        hp.user().map(|u| u.email_addresses[0].email_address.clone())
    );
    assert_eq!(claim(&claims, "sid").as_string().as_deref(), hp.state().session_id());
    assert_ne!(Some(token.as_str()), hp.get_token(GetTokenOptions::default()).await.unwrap().as_deref());
    // Cached: the same token, no second request.
    assert_eq!(hp.get_token(GetTokenOptions::template(&name)).await.unwrap(), Some(token.clone()));
    assert_eq!(count(&path).await, 1);
    // Ten concurrent calls that skip the cache share one request.
    let promises = js_sys::Array::new();
    for _ in 0..10 {
        let (hp, name) = (hp.clone(), name.clone());
        promises.push(&future_to_promise(async move {
            let token = hp
                .get_token(GetTokenOptions::template(name).skipping_cache())
                .await
                .map_err(|e| JsValue::from_str(&e.message))?;
            Ok(JsValue::from_str(&token.unwrap_or_default()))
        }));
    }
    let tokens: js_sys::Array =
        wasm_bindgen_futures::JsFuture::from(js_sys::Promise::all(&promises)).await.unwrap().into();
    let fresh = tokens.get(0).as_string().unwrap();
    assert_ne!(fresh, token, "skipCache mints a new one");
    assert!(tokens.iter().all(|t| t.as_string().as_deref() == Some(fresh.as_str())));
    assert_eq!(count(&path).await, 2);
    hp.sign_out().await.unwrap();
    assert_eq!(hp.get_token(GetTokenOptions::template(&name)).await.unwrap(), None, "signed out: null");
}

#[wasm_bindgen_test]
async fn template_errors_are_typed_and_only_an_ended_session_signs_out() {
    reset().await;
    let name = template(r#"{"role":"authenticated"}"#).await;
    let hp = signed_up(StorageKind::Memory, None).await;
    control("reset").await;
    // A name that cannot exist never reaches the network.
    for bad in ["", "../me", "a b", "é", &"x".repeat(65)] {
        let err = hp.get_token(GetTokenOptions::template(bad)).await.unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidOptions, "{bad:?}");
    }
    let unknown = hp.get_token(GetTokenOptions::template("no_such_template")).await.unwrap_err();
    assert_eq!(unknown.code, ErrorCode::ResourceNotFound);
    assert_eq!(unknown.status, Some(404));
    assert!(hp.state().is_signed_in(), "an unknown template keeps the session");
    let sid = hp.state().session_id().unwrap().to_owned();
    control(&format!("fault?mode=down&path=/v1/client/sessions/{sid}/tokens/{name}")).await;
    let down = hp.get_token(GetTokenOptions::template(&name)).await.unwrap_err();
    assert_eq!(down.code, ErrorCode::NetworkError);
    assert!(hp.state().is_signed_in(), "a network failure keeps the session");
    control("reset").await;
    control(&format!("revoke?session={sid}")).await;
    let revoked = hp.get_token(GetTokenOptions::template(&name)).await.unwrap_err();
    assert!(revoked.ends_session(), "{revoked:?}");
    assert!(!hp.state().is_signed_in(), "a revoked session signs out");
}

/// What the Yew provider reloads on: every option by value, the clock by identity.
#[wasm_bindgen_test]
fn options_compare_every_option_and_the_clock_by_identity() {
    let base = Options::new("http://x");
    assert!(base == Options::new("http://x"));
    for changed in [
        Options::new("http://y"),
        base.clone().with_storage(StorageKind::Memory),
        base.clone().with_min_token_lifetime_ms(1),
        base.clone().with_debug(true),
        base.clone().with_request_timeout_ms(5),
    ] {
        assert!(base != changed);
    }
    let clock: Rc<dyn hallpass::core::clock::Clock> = Rc::new(FakeClock::new(0));
    let with_clock = base.clone().with_clock(clock.clone());
    assert!(with_clock == base.clone().with_clock(clock));
    assert!(with_clock != base.clone().with_clock(Rc::new(FakeClock::new(0))), "another clock");
    assert!(with_clock != base);
}
