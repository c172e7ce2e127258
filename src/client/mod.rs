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
//!
//! Module map: [`options`] (how to load, what to ask `get_token` for), `lifecycle` (loading, joining
//! the other tabs and the page's events, timers), `actions` (sign-up, sign-in, sign-out, profile,
//! `fetch`), `organizations` (`set_active` and the one path of every other organization call),
//! `tokens` (`get_token`: the cache, template tokens and tokens for another organization), `refresh` (one refresh at a time,
//! across tabs, with backoff), `listeners` (change listeners and the JS fast path's token sink), and
//! `trace` (the `debug` option's refresh trace).

mod actions;
mod lifecycle;
mod listeners;
mod options;
mod organizations;
mod refresh;
mod tokens;
mod trace;

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use hallpass_protocol::wire::js::{FromJs, ToJs};
use hallpass_protocol::{AuthResponse, ErrorCode, Session, User};
use wasm_bindgen::prelude::*;

use crate::core::backoff::{Backoff, XorShift32};
use crate::core::clock::Clock;
use crate::core::error::Error;
use crate::core::single_flight::SingleFlight;
use crate::core::state::{AuthState, Check, Effect, Event, SessionStore};
use crate::core::token_cache::TokenKey;
use crate::platform::events::Listener as DomListener;
use crate::platform::http::Failure;
use crate::platform::storage::Store;
use crate::platform::tabs::TabChannel;
use crate::platform::timer::Timeout;

use listeners::Listener;
pub use listeners::ListenerHandle;
pub use options::{DEFAULT_REQUEST_TIMEOUT_MS, GetTokenOptions, MAX_REQUEST_TIMEOUT_MS, Options, SignUp};
pub use organizations::{Page, PageParams};
pub use trace::TraceEntry;

/// The storage name of the session snapshot; the store versions it (`StoredSession::v`).
const SESSION_KEY: &str = "session";

/// One SDK instance. Clones share it.
#[derive(Clone)]
pub struct Hallpass {
    inner: Rc<Inner>,
}

struct Inner {
    api: String,
    /// Every request's deadline, milliseconds.
    request_timeout_ms: u32,
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

impl Hallpass {
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

    /// A number that changes whenever the visible state changes.
    pub fn version(&self) -> u32 {
        self.inner.version.get()
    }

    /// Every request's deadline, milliseconds.
    pub fn request_timeout_ms(&self) -> u32 {
        self.inner.request_timeout_ms
    }

    /// The Frontend API URL in use.
    pub fn frontend_api(&self) -> &str {
        &self.inner.api
    }

    /// The storage in use (the kind asked for may have fallen back to memory).
    pub fn storage(&self) -> &Store {
        &self.inner.store
    }

    fn url(&self, path: &str) -> String {
        self.inner.url(path)
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

    fn run(self: &Rc<Self>, effect: Effect) {
        match effect {
            Effect::Persist(stored) => {
                let value = stored.to_js();
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

    fn url(&self, path: &str) -> String {
        let mut url = String::with_capacity(self.api.len() + path.len());
        url.push_str(&self.api);
        url.push_str(path);
        url
    }

    /// Learns the server clock from a failed answer that carried it.
    fn observe(&self, failure: &Failure) {
        if let Some(server_time) = failure.server_time {
            self.session.borrow_mut().observe_server_time(failure.sent_at, failure.received_at, server_time);
            self.publish_token();
        }
    }
}

/// Reads and checks a sign-in / sign-up / refresh answer.
fn auth_response(body: &JsValue) -> Result<AuthResponse, Error> {
    let response = AuthResponse::from_js(body).ok_or_else(Error::invalid_response)?;
    crate::core::state::check_auth_response(&response)?;
    Ok(response)
}

fn invalid(message: &'static str) -> Error {
    Error::new(ErrorCode::InvalidOptions, message)
}

fn warn(message: &str) {
    web_sys::console::warn_1(&JsValue::from_str(message));
}
