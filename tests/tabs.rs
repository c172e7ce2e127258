//! Browser suite: many tabs and flaky networks, with two `Hallpass` instances on one `localStorage`
//! standing in for two tabs (BroadcastChannel delivers between them as between tabs), against the real
//! server behind the fault-injecting proxy. Real tabs are in `tests/e2e/tabs.test.mjs`.

#![cfg(target_arch = "wasm32")]

mod common;

use std::rc::Rc;

use common::*;
use hallpass::client::{GetTokenOptions, Hallpass, Options, SignUp};
use hallpass::core::clock::FakeClock;
use hallpass::core::state::{AuthState, SignOutReason};
use hallpass::platform::storage::StorageKind;
use hallpass_protocol::{ErrorCode, UpdateProfileRequest};
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn options(clock: &FakeClock) -> Options {
    Options::new(api())
        .with_storage(StorageKind::Local)
        .with_min_token_lifetime_ms(2_000)
        .with_clock(Rc::new(clock.clone()))
        .with_debug(true)
}

async fn reset() {
    local().clear().unwrap();
    control("reset").await;
}

/// Waits (bounded: 5 s) until the proxy's count for `key` reaches `n`.
async fn wait_for_count(key: &str, n: u32) {
    for _ in 0..100 {
        if count(key).await >= n {
            return;
        }
        sleep(50).await;
    }
    panic!("timed out waiting for {n} × {key} at the proxy");
}

/// Answers to requests for `path` that this page has received in full (Resource Timing).
fn responses_received(path: &str) -> u32 {
    let script = format!(
        "return performance.getEntriesByType('resource').filter((e) => e.name.endsWith('{path}') && e.responseEnd > 0).length;"
    );
    common::js(&script).as_f64().unwrap_or(0.0) as u32
}

/// Waits (bounded: 2 s) until `f` holds.
async fn eventually(what: &str, f: impl Fn() -> bool) {
    for _ in 0..100 {
        if f() {
            return;
        }
        sleep(20).await;
    }
    panic!("timed out waiting until {what}");
}

/// Two tabs of one app, the first signed up.
async fn two_tabs(clock: &FakeClock) -> (Hallpass, Hallpass) {
    let a = Hallpass::load(options(clock)).await.unwrap();
    let b = Hallpass::load(options(clock)).await.unwrap();
    a.sign_up(SignUp::new(unique_email("tabs"), PASSWORD)).await.unwrap();
    let expected = a.state().session_id().map(str::to_owned);
    eventually("the second tab is signed in", || b.state().session_id().map(str::to_owned) == expected).await;
    (a, b)
}

async fn sign_out_all(tabs: &[&Hallpass]) {
    for tab in tabs {
        tab.sign_out().await.unwrap();
    }
}

#[wasm_bindgen_test]
async fn sign_in_and_sign_out_reach_the_other_tab() {
    reset().await;
    let clock = FakeClock::new(js_sys::Date::now() as i64);
    let (a, b) = two_tabs(&clock).await;
    assert_eq!(b.state().user_id(), a.state().user_id());
    a.sign_out().await.unwrap();
    eventually("the second tab is signed out", || !b.state().is_signed_in()).await;
    assert_eq!(b.state(), AuthState::SignedOut { reason: Some(SignOutReason::OtherTab) });
    assert!(hallpass_keys(&local()).is_empty());
}

#[wasm_bindgen_test]
async fn one_refresh_serves_both_tabs() {
    reset().await;
    let clock = FakeClock::new(js_sys::Date::now() as i64);
    let (a, b) = two_tabs(&clock).await;
    control("reset").await;
    clock.advance(3_500);
    // Both tabs need a new token at the same moment: the lock lets one ask, the other reads its token.
    let (ta, tb) =
        futures_join(a.get_token(GetTokenOptions::default()), b.get_token(GetTokenOptions::default())).await;
    assert_eq!(ta.unwrap(), tb.unwrap(), "both tabs hand out the same token");
    assert_eq!(refreshes().await, 1, "one refresh request for two tabs");
    let outcomes: Vec<String> =
        a.refresh_trace().iter().chain(b.refresh_trace().iter()).map(|e| e.outcome.to_string()).collect();
    assert!(
        outcomes.iter().any(|o| o == "network") && outcomes.iter().any(|o| o == "other_tab"),
        "{outcomes:?}"
    );
    // A later refresh in one tab reaches the other without a request of its own.
    control("reset").await;
    let newer = a.get_token(GetTokenOptions::skip_cache()).await.unwrap().unwrap();
    eventually("the token reached the other tab", || {
        futures_now(b.get_token(GetTokenOptions::default())).and_then(|r| r.ok().flatten()).as_deref()
            == Some(newer.as_str())
    })
    .await;
    assert_eq!(refreshes().await, 1);
    sign_out_all(&[&a, &b]).await;
}

#[wasm_bindgen_test]
async fn a_profile_update_reaches_the_other_tab() {
    reset().await;
    let clock = FakeClock::new(js_sys::Date::now() as i64);
    let (a, b) = two_tabs(&clock).await;
    let profile = UpdateProfileRequest {
        first_name: Some(Some("Grace".into())),
        last_name: Some(Some("Hopper".into())),
        ..UpdateProfileRequest::default()
    };
    a.update_user(&profile).await.unwrap();
    assert_eq!(a.state().user().unwrap().first_name.as_deref(), Some("Grace"));
    eventually("the other tab sees the new name", || {
        b.state().user().and_then(|u| u.last_name.clone()).as_deref() == Some("Hopper")
    })
    .await;
    sign_out_all(&[&a, &b]).await;
}

#[wasm_bindgen_test]
async fn a_refresh_answer_after_sign_out_is_dropped() {
    reset().await;
    let clock = FakeClock::new(js_sys::Date::now() as i64);
    let a = Hallpass::load(options(&clock)).await.unwrap();
    a.sign_up(SignUp::new(unique_email("late"), PASSWORD)).await.unwrap();
    control("reset").await;
    common::js("performance.clearResourceTimings(); return null;");
    control("fault?mode=delay&ms=800&path=/v1/client/refresh").await;
    let pending = {
        let a = a.clone();
        wasm_bindgen_futures::future_to_promise(async move {
            let r = a.get_token(GetTokenOptions::skip_cache()).await;
            Ok(JsValue::from_str(r.err().as_ref().map(|e| e.code.as_str()).unwrap_or("ok")))
        })
    };
    sleep(100).await;
    a.sign_out().await.unwrap();
    let outcome = wasm_bindgen_futures::JsFuture::from(pending).await.unwrap().as_string().unwrap();
    assert_eq!(outcome, ErrorCode::SignedOutDuringRequest.as_str());
    // The server's answer has been passed on by the proxy and received by this page, in full.
    wait_for_count("answered POST /v1/client/refresh", 1).await;
    eventually("the late answer arrived", || responses_received("/v1/client/refresh") >= 1).await;
    assert!(!a.state().is_signed_in(), "the late answer did not sign anyone back in");
    assert!(hallpass_keys(&local()).is_empty(), "nor did it write storage");
}

#[wasm_bindgen_test]
async fn a_refresh_nobody_answers_times_out_frees_the_lock_and_recovers() {
    reset().await;
    let clock = FakeClock::new(js_sys::Date::now() as i64);
    let options = || options(&clock).with_request_timeout_ms(1_000);
    let a = Hallpass::load(options()).await.unwrap();
    let b = Hallpass::load(options()).await.unwrap();
    a.sign_up(SignUp::new(unique_email("hang"), PASSWORD)).await.unwrap();
    let expected = a.state().session_id().map(str::to_owned);
    eventually("the second tab is signed in", || b.state().session_id().map(str::to_owned) == expected).await;
    control("reset").await;
    // The next refresh's connection is accepted and never answered (the proxy holds it up to 60 s).
    control("fault?mode=hang&path=/v1/client/refresh&times=1").await;
    clock.advance(3_500);
    let started = js_sys::Date::now();
    let (first, second) =
        futures_join(a.get_token(GetTokenOptions::default()), a.get_token(GetTokenOptions::default())).await;
    // Both callers shared the one refresh, and both got the clear, transient error — not a hang, and
    // not the `network_error` the proxy's 60 s bound would end in.
    for result in [&first, &second] {
        let error = result.as_ref().expect_err("no answer, no token");
        assert_eq!(error.code, ErrorCode::RequestTimeout, "{error:?}");
        assert!(error.is_retryable() && !error.ends_session());
    }
    assert!(js_sys::Date::now() - started < 30_000.0, "failed with the 1 s timeout, not after the hang");
    assert_eq!(refreshes().await, 1, "one request for both callers");
    assert!(a.state().is_signed_in() && b.state().is_signed_in(), "nobody is signed out");
    // The refresh lock was let go (the backoff's retry may hold it for a moment; a lock that was
    // never released would be held for good).
    let mut released = false;
    for _ in 0..100 {
        let held = common::js(
            "return navigator.locks.query().then((s) => s.held.filter((l) => l.name.endsWith(':refresh')).length);",
        );
        let held = wasm_bindgen_futures::JsFuture::from(js_sys::Promise::from(held)).await.unwrap();
        if held.as_f64() == Some(0.0) {
            released = true;
            break;
        }
        sleep(50).await;
    }
    assert!(released, "the refresh lock is released");
    // The server answers again: the backoff's retry, or the next call, refreshes at once.
    assert!(a.get_token(GetTokenOptions::default()).await.expect("recovered").is_some());
    assert!(b.get_token(GetTokenOptions::default()).await.expect("recovered").is_some());
    let outcomes: Vec<String> = a.refresh_trace().iter().map(|e| e.outcome.to_string()).collect();
    assert!(
        outcomes.iter().any(|o| o == "request_timeout") && outcomes.iter().any(|o| o == "network"),
        "{outcomes:?}"
    );
    sign_out_all(&[&a, &b]).await;
}

#[wasm_bindgen_test]
async fn retry_after_is_honoured_and_the_session_kept() {
    reset().await;
    let clock = FakeClock::new(js_sys::Date::now() as i64);
    let a = Hallpass::load(options(&clock)).await.unwrap();
    a.sign_up(SignUp::new(unique_email("429"), PASSWORD)).await.unwrap();
    control("reset").await;
    control("fault?mode=status&code=429&retry_after=30&path=/v1/client/refresh").await;
    let err = a.get_token(GetTokenOptions::skip_cache()).await.unwrap_err();
    assert_eq!((err.code, err.retry_after), (ErrorCode::RateLimited.into(), Some(30)));
    assert!(a.state().is_signed_in());
    let again = a.get_token(GetTokenOptions::skip_cache()).await.unwrap_err();
    assert_eq!(again.code, ErrorCode::RateLimited);
    assert!(again.retry_after.is_some_and(|s| s <= 30));
    assert_eq!(refreshes().await, 1, "no request while Retry-After holds");
    // The cached token is still handed out meanwhile.
    assert!(a.get_token(GetTokenOptions::default()).await.unwrap().is_some());
    a.sign_out().await.unwrap();
}

#[wasm_bindgen_test]
async fn the_trace_says_which_tab_refreshed_and_why() {
    reset().await;
    let clock = FakeClock::new(js_sys::Date::now() as i64);
    let a = Hallpass::load(options(&clock)).await.unwrap();
    a.sign_up(SignUp::new(unique_email("trace"), PASSWORD)).await.unwrap();
    a.get_token(GetTokenOptions::skip_cache()).await.unwrap();
    let trace = a.refresh_trace();
    let last = trace.last().unwrap();
    assert_eq!((last.reason, &*last.outcome), ("get_token", "network"));
    assert!(last.tab.starts_with("tab-"));
    let plain = Hallpass::load(Options::new(api()).with_storage(StorageKind::Memory)).await.unwrap();
    assert!(plain.refresh_trace().is_empty(), "no trace without the debug option");
    a.sign_out().await.unwrap();
}

/// Polls a future once: `Some` if it completed at once (a cached token), `None` if it would wait.
fn futures_now<F: std::future::Future>(f: F) -> Option<F::Output> {
    let waker = std::task::Waker::noop();
    let mut cx = std::task::Context::from_waker(waker);
    let mut f = std::pin::pin!(f);
    match f.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(v) => Some(v),
        std::task::Poll::Pending => None,
    }
}

/// Runs two futures concurrently on this thread and returns both outputs.
async fn futures_join<A: std::future::Future, B: std::future::Future>(a: A, b: B) -> (A::Output, B::Output) {
    let mut a = std::pin::pin!(a);
    let mut b = std::pin::pin!(b);
    let (mut ra, mut rb) = (None, None);
    std::future::poll_fn(|cx| {
        if ra.is_none()
            && let std::task::Poll::Ready(v) = a.as_mut().poll(cx)
        {
            ra = Some(v);
        }
        if rb.is_none()
            && let std::task::Poll::Ready(v) = b.as_mut().poll(cx)
        {
            rb = Some(v);
        }
        if ra.is_some() && rb.is_some() { std::task::Poll::Ready(()) } else { std::task::Poll::Pending }
    })
    .await;
    (ra.unwrap(), rb.unwrap())
}
