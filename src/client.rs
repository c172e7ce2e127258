//! The Rust API: [`Hallpass`], a cheap `Clone` handle on one SDK instance. The JS facade and the Yew
//! bindings are thin layers over it.
//!
//! All decisions are the core's ([`SessionStore`] decides what a sign-in, refresh or failure means);
//! this module performs the I/O the core asks for — storage, HTTP, listeners, timers — and nothing
//! else. Nothing here panics on data from outside: storage, server answers and JS values all arrive
//! as `Result`s.
//!
//! ```no_run
//! # async fn demo() -> Result<(), hallpass::core::error::Error> {
//! use hallpass::client::{Hallpass, Options, GetTokenOptions};
//!
//! let hp = Hallpass::load(Options::new("http://localhost:8787")).await?;
//! if !hp.state().is_signed_in() {
//!     hp.sign_in("ada@example.com", "correct horse battery staple").await?;
//! }
//! let token = hp.get_token(GetTokenOptions::default()).await?; // Some("eyJ…")
//! # Ok(()) }
//! ```

use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};

use hallpass_protocol::keys::decode_publishable_key;
use hallpass_protocol::{AuthResponse, ErrorCode, Metadata, Secret, Session, SignUpRequest, User, paths};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{JsFuture, spawn_local};

use crate::core::backoff::{Backoff, Decision, XorShift32};
use crate::core::clock::Clock;
use crate::core::error::Error;
use crate::core::schedule::DEFAULT_MIN_REMAINING_MS;
use crate::core::single_flight::SingleFlight;
use crate::core::state::{AuthState, Check, Effect, Event, SessionStore, SignOutReason, StoredSession};
use crate::core::token_cache::TokenKey;
use crate::platform::clock::DeviceClock;
use crate::platform::events::Listener as DomListener;
use crate::platform::http::{self, Failure};
use crate::platform::storage::{StorageKind, Store};
use crate::platform::tabs::{self, TabChannel, TabMessage};
use crate::platform::timer::{Timeout, sleep};
use crate::platform::wire;

/// The storage name of the session snapshot; the store versions it (`StoredSession::v`).
const SESSION_KEY: &str = "session";

/// How to load an instance. Grows with `with_*` builders, so adding an option breaks nobody.
#[derive(Clone)]
#[non_exhaustive]
pub struct Options {
    /// The Frontend API URL, or a publishable key (`pk_…`) that encodes it.
    pub frontend_api: String,
    pub storage: StorageKind,
    /// `getToken()` never hands out a token with less than this left (milliseconds).
    pub min_token_lifetime_ms: i64,
    /// The device clock (tests inject a shifted or fake one).
    pub clock: Option<Rc<dyn Clock>>,
    /// Record a trace of every refresh (which tab, why, what came of it): [`Hallpass::refresh_trace`].
    pub debug: bool,
}

impl Options {
    /// Options for a Frontend API URL or a publishable key.
    pub fn new(frontend_api: impl Into<String>) -> Options {
        Options {
            frontend_api: frontend_api.into(),
            storage: StorageKind::Local,
            min_token_lifetime_ms: DEFAULT_MIN_REMAINING_MS,
            clock: None,
            debug: false,
        }
    }

    pub fn with_storage(mut self, storage: StorageKind) -> Options {
        self.storage = storage;
        self
    }

    pub fn with_min_token_lifetime_ms(mut self, ms: i64) -> Options {
        self.min_token_lifetime_ms = ms.max(0);
        self
    }

    pub fn with_clock(mut self, clock: Rc<dyn Clock>) -> Options {
        self.clock = Some(clock);
        self
    }

    pub fn with_debug(mut self, debug: bool) -> Options {
        self.debug = debug;
        self
    }
}

/// Options of [`Hallpass::get_token`].
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct GetTokenOptions {
    /// Ignore the cache and fetch a new token.
    pub skip_cache: bool,
    /// A token from this JWT template (made on the server with the Backend API) instead of the
    /// session token, like Clerk's `getToken({ template })`.
    pub template: Option<String>,
}

impl GetTokenOptions {
    pub fn skip_cache() -> GetTokenOptions {
        GetTokenOptions { skip_cache: true, template: None }
    }

    /// A token from JWT template `name`.
    pub fn template(name: impl Into<String>) -> GetTokenOptions {
        GetTokenOptions { skip_cache: false, template: Some(name.into()) }
    }

    /// The same, ignoring the cache.
    pub fn skipping_cache(mut self) -> GetTokenOptions {
        self.skip_cache = true;
        self
    }
}

/// A sign-up.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct SignUp {
    pub email_address: String,
    pub password: Secret,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub unsafe_metadata: Option<Metadata>,
}

impl SignUp {
    pub fn new(email_address: impl Into<String>, password: impl Into<String>) -> SignUp {
        SignUp { email_address: email_address.into(), password: Secret::new(password), ..SignUp::default() }
    }

    pub fn with_name(mut self, first: Option<String>, last: Option<String>) -> SignUp {
        self.first_name = first;
        self.last_name = last;
        self
    }

    pub fn with_unsafe_metadata(mut self, metadata: Metadata) -> SignUp {
        self.unsafe_metadata = Some(metadata);
        self
    }
}

type Listener = Rc<dyn Fn(&AuthState)>;

/// Removes its listener when dropped (or when [`ListenerHandle::remove`] is called).
#[must_use = "dropping the handle removes the listener; call `forget()` to keep it for the page's life"]
pub struct ListenerHandle {
    inner: Weak<Inner>,
    id: u32,
}

impl ListenerHandle {
    /// Removes the listener now.
    pub fn remove(self) {}

    /// Keeps the listener for as long as the instance lives.
    pub fn forget(mut self) {
        self.inner = Weak::new();
    }
}

impl Drop for ListenerHandle {
    fn drop(&mut self) {
        if let Some(inner) = self.inner.upgrade() {
            inner.listeners.borrow_mut().retain(|(id, _)| *id != self.id);
        }
    }
}

/// One SDK instance. Clones share it.
#[derive(Clone)]
pub struct Hallpass {
    inner: Rc<Inner>,
}

struct Inner {
    api: String,
    store: Store,
    clock: Rc<dyn Clock>,
    session: RefCell<SessionStore>,
    /// One refresh at a time per token key, shared by every concurrent `get_token`.
    flight: SingleFlight<TokenKey, String>,
    listeners: RefCell<Vec<(u32, Listener)>>,
    next_listener: Cell<u32>,
    /// Bumped on every visible change: the JS snapshot keeps its identity until it moves.
    version: Cell<u32>,
    refresh_timer: RefCell<Option<Timeout>>,
    /// The rest of `load`, due in a moment (see [`Inner::start`]).
    setup: RefCell<Option<Timeout>>,
    /// Told `(token or null, last device ms to hand it out)` after every change (the JS facade's
    /// `getToken` answers from it without entering the wasm).
    token_sink: RefCell<Option<js_sys::Function>>,
    /// The other tabs of this instance (shared `localStorage` only).
    tabs: RefCell<Option<TabChannel>>,
    /// `visibilitychange`, `focus`, `pageshow`, `online`.
    page: RefCell<Vec<DomListener>>,
    backoff: RefCell<Backoff>,
    rng: RefCell<XorShift32>,
    /// `Some` with the `debug` option: this tab's name in the trace, and the trace.
    trace: Option<(String, RefCell<Vec<TraceEntry>>)>,
}

/// `useAuth()` for Rust: a snapshot of who is signed in and in which organization.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Auth {
    pub is_loaded: bool,
    pub is_signed_in: bool,
    pub user_id: Option<String>,
    pub session_id: Option<String>,
    pub org_id: Option<String>,
    pub org_role: Option<String>,
    pub org_slug: Option<String>,
    pub org_permissions: Vec<String>,
}

impl Auth {
    /// Clerk's `has({ role })` / `has({ permission })`: false without an active organization.
    pub fn has(&self, check: Check<'_>) -> bool {
        match check {
            Check::Role(role) => self.org_role.as_deref() == Some(role),
            Check::Permission(p) => self.org_permissions.iter().any(|x| x == p),
        }
    }
}

/// One refresh, as the `debug` option records it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceEntry {
    /// The tab that did it (random per instance).
    pub tab: String,
    /// What asked: `load`, `get_token`, `timer`, `retry`, `visibilitychange`, `focus`, `pageshow`,
    /// `online`, `user_update`.
    pub reason: &'static str,
    /// Device time it started.
    pub at: i64,
    /// `network` (this tab asked the server), `other_tab` (another tab's token arrived meanwhile), or
    /// the error code.
    pub outcome: &'static str,
}

/// How long a tab waits for the refresh lock before taking it over.
const LOCK_TIMEOUT_MS: u32 = 5_000;

/// After waiting for the lock: how often to look for the other tab's token (10 looks, 300 ms at most).
const OTHER_TAB_POLL_MS: u32 = 30;

impl Hallpass {
    /// Loads an instance: reads storage and is signed in (or out) before any request completes. With
    /// a stored session it revalidates in the background. Fails only on invalid options.
    pub async fn load(options: Options) -> Result<Hallpass, Error> {
        Self::load_now(options)
    }

    /// [`Hallpass::load`] without the `async`: everything `load` does before it resolves is
    /// synchronous (storage, not the network), so this returns the loaded instance at once.
    pub fn load_now(options: Options) -> Result<Hallpass, Error> {
        let api = resolve_frontend_api(&options.frontend_api)?;
        let store = Store::open(options.storage, &api);
        let clock: Rc<dyn Clock> = options.clock.unwrap_or_else(|| Rc::new(DeviceClock));
        let random = (js_sys::Math::random() * 4_294_967_295.0) as u32;
        let hp = Hallpass {
            inner: Rc::new(Inner {
                api,
                store,
                clock,
                session: RefCell::new(
                    SessionStore::new(options.min_token_lifetime_ms).with_claims_decoder(no_claims),
                ),
                flight: SingleFlight::new(),
                listeners: RefCell::new(Vec::new()),
                next_listener: Cell::new(0),
                version: Cell::new(0),
                refresh_timer: RefCell::new(None),
                setup: RefCell::new(None),
                token_sink: RefCell::new(None),
                tabs: RefCell::new(None),
                page: RefCell::new(Vec::new()),
                backoff: RefCell::new(Backoff::default()),
                rng: RefCell::new(XorShift32::new(random | 1)),
                trace: options.debug.then(|| (tab_id(random), RefCell::new(Vec::new()))),
            }),
        };
        let stored = hp.inner.read_stored_session();
        let effects =
            hp.inner.session.borrow_mut().apply(Event::LoadedFromStorage(stored), hp.inner.clock.now_ms());
        let mut revalidate = false;
        for effect in effects {
            match effect {
                Effect::Revalidate => revalidate = true,
                // Nobody listens yet: the new version is all a notification does (saves compiling
                // `run` on this path; see `start`).
                Effect::Notify => hp.inner.version.set(hp.inner.version.get().wrapping_add(1)),
                effect => hp.inner.run(effect),
            }
        }
        // The rest waits for a task of its own: `load()` resolves and the app renders first. Joining
        // the other tabs and the page's events, and the background revalidation, cost milliseconds
        // on a first call (the browser compiles wasm functions lazily) and need nothing from now.
        match hp.inner.timer(0, if revalidate { "load" } else { "start" }) {
            Some(timer) => *hp.inner.setup.borrow_mut() = Some(timer),
            None => hp.inner.start(revalidate),
        }
        Ok(hp)
    }

    /// The current auth state (a clone; cheap next to any render).
    pub fn state(&self) -> AuthState {
        self.inner.session.borrow().state().clone()
    }

    /// The signed-in user (`useUser().user`), if any.
    pub fn user(&self) -> Option<User> {
        self.with_state(|s| s.user().cloned())
    }

    /// The current session, if signed in.
    pub fn session(&self) -> Option<Session> {
        self.with_state(|s| s.session().cloned())
    }

    /// What `useAuth()` shows: ids, the active organization, and `has()`.
    pub fn auth(&self) -> Auth {
        self.with_state(|s| Auth {
            is_loaded: s.is_loaded(),
            is_signed_in: s.is_signed_in(),
            user_id: s.user_id().map(str::to_owned),
            session_id: s.session_id().map(str::to_owned),
            org_id: s.org_id().map(str::to_owned),
            org_role: s.org_role().map(str::to_owned),
            org_slug: s.org_slug().map(str::to_owned),
            org_permissions: s.org_permissions().to_vec(),
        })
    }

    /// Calls `f` with the current state without cloning it.
    pub fn with_state<R>(&self, f: impl FnOnce(&AuthState) -> R) -> R {
        f(self.inner.session.borrow().state())
    }

    /// Calls `sink(token, until)` now and after every change: the session token (or `null`) and the
    /// last device time (`Date.now()` ms) at which [`get_token`](Self::get_token) would hand it out
    /// from the cache. For the JS facade's fast path.
    pub(crate) fn set_token_sink(&self, sink: js_sys::Function) {
        *self.inner.token_sink.borrow_mut() = Some(sink);
        self.inner.publish_token();
    }

    /// A number that changes whenever the visible state changes.
    pub fn version(&self) -> u32 {
        self.inner.version.get()
    }

    /// The Frontend API URL in use.
    pub fn frontend_api(&self) -> &str {
        &self.inner.api
    }

    /// The storage in use (the kind asked for may have fallen back to memory).
    pub fn storage(&self) -> &Store {
        &self.inner.store
    }

    /// Creates an account and signs in.
    pub async fn sign_up(&self, sign_up: SignUp) -> Result<(), Error> {
        let body = wire::sign_up_request(&SignUpRequest {
            email_address: sign_up.email_address,
            password: sign_up.password,
            first_name: sign_up.first_name,
            last_name: sign_up.last_name,
            unsafe_metadata: sign_up.unsafe_metadata,
        });
        self.authenticate(paths::SIGN_UPS, &body).await
    }

    /// Signs in with an email address and password.
    pub async fn sign_in(&self, identifier: &str, password: &str) -> Result<(), Error> {
        let body = wire::string_object(&[("identifier", identifier), ("password", password)]);
        self.authenticate(paths::SIGN_INS, &body).await
    }

    /// Signs out. Always succeeds, offline too: the local session is gone at once, and the server is
    /// told in the background (if that fails, the session still ends at its idle timeout).
    pub async fn sign_out(&self) -> Result<(), Error> {
        let refresh_token = self.inner.session.borrow().refresh_token().map(str::to_owned);
        self.apply(Event::SignedOut(SignOutReason::SignedOut));
        if let Some(refresh_token) = refresh_token {
            let body = refresh_body(&refresh_token);
            let url = self.url(paths::SIGN_OUT);
            let clock = self.inner.clock.clone();
            spawn_local(async move {
                let _ = http::call("POST", &url, Some(&body), None, &*clock).await;
            });
        }
        Ok(())
    }

    /// A session token with at least the minimum lifetime left, from the cache or refreshed (one
    /// request however many callers ask at once). `None` when signed out.
    pub async fn get_token(&self, options: GetTokenOptions) -> Result<Option<String>, Error> {
        // One flow for both kinds (one state machine in the wasm): the session token, then, for a
        // template, the template's token minted against it.
        if let Some(name) = &options.template {
            // The server's own rule for names; anything else cannot exist and must not reach a URL.
            let valid = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
            if name.is_empty() || name.len() > 64 || !name.chars().all(valid) {
                return Err(invalid("template must be a JWT template's name"));
            }
        }
        let skip_session = options.skip_cache && options.template.is_none();
        let (key, cached) = {
            let session = self.inner.session.borrow();
            let Some(key) = session.session_key() else { return Ok(None) };
            let cached = if skip_session { None } else { session.session_token(self.inner.clock.now_ms()) };
            (key, cached.map(str::to_owned))
        };
        let token = match cached {
            Some(token) => token,
            None => {
                // An explicit call is an outside trigger: it closes the breaker, but a `Retry-After`
                // holds.
                let wait_ms = {
                    let mut backoff = self.inner.backoff.borrow_mut();
                    backoff.reset();
                    backoff.wait_ms(self.inner.clock.now_ms())
                };
                if wait_ms > 0 {
                    return Err(Error::new(
                        ErrorCode::RateLimited,
                        "the server asked to wait before retrying",
                    )
                    .with_retry_after(Some(wait_ms.div_ceil(1000))));
                }
                self.inner.refresh_shared(key, "get_token").await?
            }
        };
        let Some(name) = &options.template else { return Ok(Some(token)) };
        // A template's token: cached per session and template like the session token, one request
        // for concurrent calls.
        let key = {
            let session = self.inner.session.borrow();
            let Some(key) = session.template_key(name) else { return Ok(None) };
            if !options.skip_cache
                && let Some(cached) = session.token(&key, self.inner.clock.now_ms())
            {
                return Ok(Some(cached.to_owned()));
            }
            key
        };
        let inner = self.inner.clone();
        let work_key = key.clone();
        let result = self.inner.flight.run(key, move || mint_template_token(inner, work_key, token)).await;
        // Applied after the shared request (see `refresh_shared`): an ended session signs out.
        if let Err(error) = &result
            && error.ends_session()
        {
            self.apply(Event::RefreshFailed(error.clone()));
        }
        result.map(Some)
    }

    /// `fetch(request)` with `Authorization: Bearer <token>` added; after a 401 it forces a new token and
    /// retries once. The request's body must be replayable (a `Request` is cloned before each try).
    pub async fn fetch(&self, request: &web_sys::Request) -> Result<web_sys::Response, Error> {
        let mut forced = false;
        loop {
            let token = self
                .get_token(if forced { GetTokenOptions::skip_cache() } else { GetTokenOptions::default() })
                .await?;
            let attempt = request.clone().map_err(|_| invalid("the request body was already used"))?;
            if let Some(token) = &token {
                let mut value = String::with_capacity(token.len() + 7);
                value.push_str("Bearer ");
                value.push_str(token);
                attempt
                    .headers()
                    .set("authorization", &value)
                    .map_err(|_| invalid("cannot set authorization"))?;
            }
            let window = web_sys::window().ok_or_else(|| invalid("no window"))?;
            let response: web_sys::Response = JsFuture::from(window.fetch_with_request(&attempt))
                .await
                .map_err(|_| Error::network())?
                .dyn_into()
                .map_err(|_| Error::network())?;
            if response.status() == 401 && token.is_some() && !forced {
                forced = true;
                continue;
            }
            return Ok(response);
        }
    }

    /// Calls `listener` after every visible change of the state. A listener may call back into the SDK.
    pub fn add_listener(&self, listener: impl Fn(&AuthState) + 'static) -> ListenerHandle {
        let id = self.inner.next_listener.get();
        self.inner.next_listener.set(id.wrapping_add(1));
        self.inner.listeners.borrow_mut().push((id, Rc::new(listener)));
        ListenerHandle { inner: Rc::downgrade(&self.inner), id }
    }

    /// Updates the signed-in user's own profile (`first_name`, `last_name`, `unsafe_metadata`; absent
    /// fields stay), then refreshes so that this tab and every other one sees the new user.
    pub async fn update_user(&self, profile: &JsValue) -> Result<(), Error> {
        let token = self.get_token(GetTokenOptions::default()).await?.ok_or_else(Error::not_signed_in)?;
        let url = self.url(paths::ME);
        http::call("PATCH", &url, Some(profile), Some(&token), &*self.inner.clock)
            .await
            .map_err(|f| f.error)?;
        let key = self.inner.session.borrow().session_key().ok_or_else(Error::not_signed_in)?;
        self.inner.refresh_shared(key, "user_update").await.map(|_| ())
    }

    /// The refreshes recorded with the `debug` option, oldest first, at most the last 1000 (empty
    /// without it).
    pub fn refresh_trace(&self) -> Vec<TraceEntry> {
        self.inner.trace.as_ref().map(|(_, t)| t.borrow().clone()).unwrap_or_default()
    }

    fn url(&self, path: &str) -> String {
        self.inner.url(path)
    }

    async fn authenticate(&self, path: &str, body: &JsValue) -> Result<(), Error> {
        let url = self.url(path);
        let answer = http::call("POST", &url, Some(body), None, &*self.inner.clock).await;
        match answer {
            Ok(answer) => {
                let response = auth_response(&answer.body)?;
                self.apply(Event::SignedIn {
                    response: Box::new(response),
                    sent_at_ms: answer.sent_at,
                    received_at_ms: answer.received_at,
                });
                Ok(())
            }
            Err(failure) => {
                self.inner.observe(&failure);
                Err(failure.error)
            }
        }
    }

    fn apply(&self, event: Event) {
        self.inner.apply(event);
    }
}

impl Inner {
    fn apply(self: &Rc<Self>, event: Event) {
        let now = self.clock.now_ms();
        let effects = self.session.borrow_mut().apply(event, now);
        self.publish_token();
        // The borrow is released: effects may call listeners, which may call back in.
        for effect in effects {
            self.run(effect);
        }
    }

    /// Tells the token sink (if any) what the cache would hand out, and until when.
    fn publish_token(&self) {
        if let Some(sink) = &*self.token_sink.borrow() {
            let (token, until) = match self.session.borrow().session_token_until() {
                Some((token, until)) => (JsValue::from_str(token), until as f64),
                None => (JsValue::NULL, 0.0),
            };
            let _ = sink.call2(&JsValue::NULL, &token, &JsValue::from_f64(until));
        }
    }

    fn run(self: &Rc<Self>, effect: Effect) {
        match effect {
            Effect::Persist(stored) => {
                let value = wire::stored_session_to_js(&stored);
                self.store.set_json(SESSION_KEY, &value);
                if let Some(tabs) = &*self.tabs.borrow() {
                    tabs.post_session(&value);
                }
            }
            Effect::ClearStorage => {
                self.store.clear();
                if let Some(tabs) = &*self.tabs.borrow() {
                    tabs.post_signed_out();
                }
            }
            Effect::Notify => {
                self.version.set(self.version.get().wrapping_add(1));
                let listeners: Vec<Listener> =
                    self.listeners.borrow().iter().map(|(_, l)| l.clone()).collect();
                for listener in listeners {
                    // Each listener sees the state as it is when it runs (an earlier one may have moved it).
                    let state = self.session.borrow().state().clone();
                    listener(&state);
                }
            }
            Effect::Warn(message) => warn(message),
            Effect::Revalidate => self.refresh_in_background("load"),
            Effect::ScheduleRefresh { delay_ms } => self.schedule(delay_ms, "timer"),
            Effect::CancelRequests => {
                self.refresh_timer.borrow_mut().take();
                self.flight.bump_epoch();
            }
        }
    }

    /// Joins or starts the refresh for `key`, then applies its failure, if any.
    ///
    /// The failure is applied here, after the shared request has resolved, not inside it: an ending
    /// session cancels in-flight requests, and doing that from inside the request would hand its own
    /// callers `signed_out_during_request` instead of the server's answer. Every caller applies it;
    /// the reducer ignores all but the first.
    async fn refresh_shared(self: &Rc<Self>, key: TokenKey, reason: &'static str) -> Result<String, Error> {
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
    fn refresh_in_background(self: &Rc<Self>, reason: &'static str) {
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

    /// (Re)arms the refresh timer. When it fires in a hidden tab it does nothing: hidden tabs do not
    /// poll, and the tab re-checks the moment it becomes visible again.
    fn schedule(self: &Rc<Self>, delay_ms: u32, reason: &'static str) {
        *self.refresh_timer.borrow_mut() = self.timer(delay_ms, reason);
    }

    /// Every timer of the instance: one closure type, so one shim in the wasm. `reason` says what is
    /// due: the rest of `load` (`load` with a revalidation, `start` without) or a [`Inner::wake`].
    fn timer(self: &Rc<Self>, delay_ms: u32, reason: &'static str) -> Option<Timeout> {
        let weak = Rc::downgrade(self);
        Timeout::new(delay_ms, move || {
            if let Some(inner) = weak.upgrade() {
                match reason {
                    "load" | "start" => inner.start(reason == "load"),
                    _ => inner.wake(reason, reason == "retry"),
                }
            }
        })
    }

    /// Something says it is worth checking the token now (a timer, the tab becoming visible, the
    /// network coming back). Timers in hidden tabs and sleeping laptops are not trusted, so every wake
    /// re-checks against the clock; `force` refreshes even if the token is not due (a retry).
    fn wake(self: &Rc<Self>, reason: &'static str, force: bool) {
        if is_hidden() {
            return;
        }
        if reason != "timer" && reason != "retry" {
            // An outside trigger closes the circuit breaker.
            self.backoff.borrow_mut().reset();
        }
        let due = self.session.borrow().refresh_due(self.clock.now_ms());
        let signed_in = self.session.borrow().state().is_signed_in();
        if signed_in && (due || force) {
            self.refresh_in_background(reason);
        }
    }

    /// What `load` leaves for after it has resolved: joining the other tabs (and catching up with
    /// what they wrote meanwhile), the page's events, and revalidating a stored session.
    fn start(self: &Rc<Self>, revalidate: bool) {
        self.setup.borrow_mut().take();
        self.connect();
        if self.tabs.borrow().is_some() {
            let stored = self.read_stored_session();
            self.apply(Event::FromOtherTab(stored));
        }
        if revalidate {
            self.refresh_in_background("load");
        }
    }

    /// Joins the other tabs (shared storage only) and listens for the page-lifecycle events.
    fn connect(self: &Rc<Self>) {
        if self.store.kind() == StorageKind::Local && !self.store.is_memory() {
            let weak = Rc::downgrade(self);
            let channel = TabChannel::open(&self.api, self.store.key(SESSION_KEY), move |message| {
                let Some(inner) = weak.upgrade() else { return };
                let stored = match message {
                    TabMessage::Session(value) => match wire::stored_session(&value) {
                        Some(stored) => Some(stored),
                        None => return,
                    },
                    TabMessage::SignedOut => None,
                };
                inner.apply(Event::FromOtherTab(stored));
            });
            *self.tabs.borrow_mut() = channel;
        }
        let Some(window) = web_sys::window() else { return };
        let mut page = Vec::new();
        let document = window.document();
        let targets: [(&web_sys::EventTarget, &'static str); 4] = [
            (document.as_ref().map(AsRef::as_ref).unwrap_or(window.as_ref()), "visibilitychange"),
            (window.as_ref(), "focus"),
            (window.as_ref(), "pageshow"),
            (window.as_ref(), "online"),
        ];
        for (target, kind) in targets {
            let weak = Rc::downgrade(self);
            page.extend(DomListener::new(target, kind, move |_| {
                if let Some(inner) = weak.upgrade() {
                    inner.wake(kind, false);
                }
            }));
        }
        *self.page.borrow_mut() = page;
    }

    fn read_stored_session(&self) -> Option<StoredSession> {
        let value = self.store.get_json(SESSION_KEY)?;
        match wire::stored_session(&value) {
            Some(stored) => Some(stored),
            None => {
                warn("hallpass: cleared a stored session it cannot read");
                self.store.clear();
                None
            }
        }
    }

    fn url(&self, path: &str) -> String {
        let mut url = String::with_capacity(self.api.len() + path.len());
        url.push_str(&self.api);
        url.push_str(path);
        url
    }

    fn record(&self, reason: &'static str, at: i64, outcome: &'static str) {
        if let Some((tab, trace)) = &self.trace {
            let mut trace = trace.borrow_mut();
            // A debugging aid, not a log: bounded by starting over.
            if trace.len() >= 1000 {
                trace.clear();
            }
            trace.push(TraceEntry { tab: tab.clone(), reason, at, outcome });
        }
    }

    /// Learns the server clock from a failed answer that carried it.
    fn observe(&self, failure: &Failure) {
        if let Some(server_time) = failure.server_time {
            self.session.borrow_mut().observe_server_time(failure.sent_at, failure.received_at, server_time);
            self.publish_token();
        }
    }
}

/// Asks the server for a token of `key`'s template, with the session token as Bearer, and caches it.
async fn mint_template_token(inner: Rc<Inner>, key: TokenKey, bearer: String) -> Result<String, Error> {
    let mut url = inner.url("/v1/client/sessions/");
    url.push_str(&key.session_id);
    url.push_str("/tokens/");
    url.push_str(key.template.as_deref().unwrap_or_default());
    match http::call("POST", &url, None, Some(&bearer), &*inner.clock).await {
        Ok(answer) => {
            let (jwt, expires_in) = wire::template_token(&answer.body).ok_or_else(Error::invalid_response)?;
            let mut session = inner.session.borrow_mut();
            if let Some(server_time) = answer.server_time {
                session.observe_server_time(answer.sent_at, answer.received_at, server_time);
            }
            session.cache_template_token(
                key,
                Secret::new(jwt.clone()),
                expires_in,
                answer.server_time,
                answer.received_at,
            );
            drop(session);
            // The answer may have moved the server-clock offset, and with it the session token's
            // hand-out deadline.
            inner.publish_token();
            Ok(jwt)
        }
        Err(failure) => {
            inner.observe(&failure);
            Err(failure.error)
        }
    }
}

/// One refresh: presents the refresh token, applies a successful answer, returns the new session
/// token. A failure is applied by [`Inner::refresh_shared`].
async fn refresh(inner: Rc<Inner>, reason: &'static str) -> Result<String, Error> {
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
            inner.record(reason, started, "other_tab");
            return Ok(token);
        }
    }
    let result = refresh_over_network(&inner).await;
    inner.record(
        reason,
        started,
        match &result {
            Ok(_) => "network",
            Err(e) => e.code.as_str(),
        },
    );
    result
}

/// Presents the refresh token to the server and applies a successful answer.
async fn refresh_over_network(inner: &Rc<Inner>) -> Result<String, Error> {
    let refresh_token = inner.session.borrow().refresh_token().map(str::to_owned);
    let Some(refresh_token) = refresh_token else {
        return Err(Error::new(ErrorCode::NotSignedIn, "not signed in"));
    };
    let body = refresh_body(&refresh_token);
    let mut url = String::with_capacity(inner.api.len() + paths::REFRESH.len());
    url.push_str(&inner.api);
    url.push_str(paths::REFRESH);
    match http::call("POST", &url, Some(&body), None, &*inner.clock).await {
        Ok(answer) => {
            let response = auth_response(&answer.body)?;
            let jwt = response.jwt.expose().to_owned();
            inner.apply(Event::Refreshed {
                response: Box::new(response),
                sent_at_ms: answer.sent_at,
                received_at_ms: answer.received_at,
            });
            Ok(jwt)
        }
        Err(failure) => {
            inner.observe(&failure);
            Err(failure.error)
        }
    }
}

/// The browser build reads no JWT claims: expiry and issue time come with every answer and every
/// stored session, and a JWT reader (the core's, or one through `JSON.parse`) costs ~1 KiB gzip of
/// wasm for the `o` claim alone. The server sends no organizations yet; when it does, the active
/// organization comes in the session resource, not from decoding the token.
fn no_claims(_jwt: &str) -> Option<hallpass_protocol::SessionClaims> {
    None
}

/// A short random id for this tab, for traces.
fn tab_id(random: u32) -> String {
    let mut id = String::from("tab-");
    let mut n = random;
    for _ in 0..6 {
        let d = (n % 36) as u8;
        id.push(char::from(if d < 10 { b'0' + d } else { b'a' + d - 10 }));
        n /= 36;
    }
    id
}

/// True when the page is in a background tab (or minimised).
fn is_hidden() -> bool {
    web_sys::window()
        .and_then(|w| w.document())
        .is_some_and(|d| d.visibility_state() == web_sys::VisibilityState::Hidden)
}

/// Reads and checks a sign-in / sign-up / refresh answer.
fn auth_response(body: &JsValue) -> Result<AuthResponse, Error> {
    let response = wire::auth_response(body).ok_or_else(Error::invalid_response)?;
    crate::core::state::check_auth_response(&response)?;
    Ok(response)
}

/// A `pk_…` key decodes to its URL; a URL is taken as it is (without a trailing slash).
fn resolve_frontend_api(value: &str) -> Result<String, Error> {
    let value = value.trim();
    let url = if value.starts_with("pk_") {
        decode_publishable_key(value).ok_or_else(|| invalid("the publishable key is not valid"))?
    } else {
        value.to_owned()
    };
    if !(url.starts_with("http://") || url.starts_with("https://")) || url.len() > 2048 {
        return Err(invalid("frontendApi must be an http(s) URL or a publishable key"));
    }
    Ok(url.trim_end_matches('/').to_owned())
}

fn invalid(message: &'static str) -> Error {
    Error::new(ErrorCode::InvalidOptions, message)
}

/// `{ refresh_token }` (the body of refresh and sign-out).
fn refresh_body(refresh_token: &str) -> JsValue {
    wire::string_object(&[("refresh_token", refresh_token)])
}

fn warn(message: &str) {
    web_sys::console::warn_1(&JsValue::from_str(message));
}
