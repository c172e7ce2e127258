//! One refresh at a time: shared by concurrent callers (single flight), elected across tabs by a Web
//! Lock (an optimisation only), answered by another tab's token when one arrived meanwhile, retried
//! with backoff, and a failure applied only after the shared request has resolved.

use std::borrow::Cow;
use std::rc::Rc;

use hallpass_protocol::wire::js::ToJs;
use hallpass_protocol::{ErrorCode, RefreshRequest, Secret, paths};
use wasm_bindgen_futures::spawn_local;

use super::{Inner, auth_response};
use crate::core::backoff::Decision;
use crate::core::error::Error;
use crate::core::state::Event;
use crate::core::token_cache::TokenKey;
use crate::platform::http;
use crate::platform::tabs;
use crate::platform::timer::sleep;

/// How long a tab waits for the refresh lock before taking it over.
const LOCK_TIMEOUT_MS: u32 = 5_000;

/// After waiting for the lock: how often to look for the other tab's token (10 looks, 300 ms at most).
const OTHER_TAB_POLL_MS: u32 = 30;

impl Inner {
    /// Joins or starts the refresh for `key`, then applies its failure, if any.
    ///
    /// The failure is applied here, after the shared request has resolved, not inside it: an ending
    /// session cancels in-flight requests, and doing that from inside the request would hand its own
    /// callers `signed_out_during_request` instead of the server's answer. Every caller applies it;
    /// the reducer ignores all but the first.
    pub(super) async fn refresh_shared(
        self: &Rc<Self>,
        key: TokenKey,
        reason: &'static str,
    ) -> Result<String, Error> {
        let inner = self.clone();
        let result = self.flight.run(key, move || refresh(inner, reason)).await;
        match &result {
            Ok(_) => self.backoff.borrow_mut().on_success(),
            Err(error) if !error.is_signed_out_during_request() => {
                self.apply(Event::RefreshFailed(error.clone()));
                let now = self.clock.now_ms();
                let decision = self.backoff.borrow_mut().on_failure(error, now, &mut *self.rng.borrow_mut());
                if let (Decision::RetryIn(delay_ms), true) =
                    (decision, self.session.borrow().state().is_signed_in())
                {
                    self.schedule(delay_ms, "retry");
                }
            }
            Err(_) => {}
        }
        result
    }

    /// Refreshes now, nobody awaiting: failures are applied inside (an ended session signs out).
    pub(super) fn refresh_in_background(self: &Rc<Self>, reason: &'static str) {
        let inner = self.clone();
        spawn_local(async move {
            if reason == "load" {
                // After `load()` has resolved and the app has rendered: none of this is on that path.
                sleep(0).await;
            }
            let key = inner.session.borrow().session_key();
            if let Some(key) = key {
                let _ = inner.refresh_shared(key, reason).await;
            }
        });
    }
}

/// One refresh: presents the refresh token, applies a successful answer, returns the new session
/// token. A failure is applied by [`Inner::refresh_shared`].
pub(super) async fn refresh(inner: Rc<Inner>, reason: &'static str) -> Result<String, Error> {
    let started = inner.clock.now_ms();
    let current = |inner: &Inner| {
        let session = inner.session.borrow();
        session.session_key().and_then(|k| session.tokens().entry(&k).map(|t| t.jwt.expose().to_owned()))
    };
    let before = current(&inner);
    // One tab refreshes; the others wait here, then find its token in storage. The lock is an
    // optimisation only: without it (or after the timeout) the server's grace window keeps every
    // tab signed in.
    let shared = inner.tabs.borrow().is_some();
    let _lock = if shared { tabs::lock(&inner.url(":refresh"), LOCK_TIMEOUT_MS).await } else { None };
    // Another tab's token, if one arrived meanwhile. When this tab had to wait for the lock, the tab
    // before it has probably just refreshed — but Chromium propagates localStorage between tabs'
    // processes asynchronously, and the broadcast may still be on its way, so look a few times.
    let polls = if _lock.as_ref().is_some_and(|l| l.waited) { 10 } else { 1 };
    for poll in 0..polls {
        if poll > 0 {
            sleep(OTHER_TAB_POLL_MS).await;
        }
        if shared {
            let stored = inner.read_stored_session();
            if stored.is_some() {
                inner.apply(Event::FromOtherTab(stored));
            }
        }
        let fresh = inner.session.borrow().session_token(inner.clock.now_ms()).map(str::to_owned);
        if let Some(token) = fresh
            && Some(&token) != before.as_ref()
        {
            inner.record(reason, started, Cow::Borrowed("other_tab"));
            return Ok(token);
        }
    }
    let result = refresh_over_network(&inner).await;
    inner.record(
        reason,
        started,
        match &result {
            Ok(_) => Cow::Borrowed("network"),
            Err(e) => e.code.clone().into_inner(),
        },
    );
    result
}

/// Presents the refresh token to the server and applies a successful answer.
async fn refresh_over_network(inner: &Rc<Inner>) -> Result<String, Error> {
    let refresh_token = inner.session.borrow().refresh_token().map(Secret::new);
    let Some(refresh_token) = refresh_token else {
        return Err(Error::new(ErrorCode::NotSignedIn, "not signed in"));
    };
    let body = RefreshRequest { refresh_token }.to_js();
    let url = inner.url(paths::REFRESH);
    match http::call("POST", &url, Some(&body), None, &*inner.clock, inner.request_timeout_ms).await {
        Ok(answer) => {
            let response = auth_response(&answer.body)?;
            let jwt = response.jwt.expose().to_owned();
            inner.apply(Event::Refreshed {
                response: Box::new(response),
                sent_at_ms: answer.sent_at,
                received_at_ms: answer.received_at,
            });
            // The token held now, not necessarily the one just received: when a token minted later
            // arrived meanwhile (another tab's refresh, a `setActive` here or in another tab), the
            // answer was stale and was not applied — handing it out would give the caller the
            // organization from before a switch that has already resolved.
            let held = inner.session.borrow().session_token_until().map(|(t, ..)| t.to_owned());
            Ok(held.unwrap_or(jwt))
        }
        Err(failure) => {
            inner.observe(&failure);
            Err(failure.error)
        }
    }
}
