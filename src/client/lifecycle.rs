//! An instance's life: `load` (storage only, synchronous inside), then — in a task of its own — joining
//! the other tabs and the page's events and revalidating a stored session; the refresh timer; and
//! the wake-ups (timer, `visibilitychange`, `focus`, `pageshow`, `online`) that re-check the token.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use super::options::resolve_frontend_api;
use super::trace::tab_id;
use super::{Hallpass, Inner, Options, SESSION_KEY, warn};
use crate::core::backoff::{Backoff, XorShift32};
use crate::core::clock::Clock;
use crate::core::error::Error;
use crate::core::single_flight::SingleFlight;
use crate::core::state::{Effect, Event, SessionStore, StoredSession};
use crate::platform::clock::DeviceClock;
use crate::platform::events::Listener as DomListener;
use crate::platform::storage::{StorageKind, Store};
use crate::platform::tabs::{TabChannel, TabMessage};
use crate::platform::timer::Timeout;
use hallpass_protocol::wire::js::FromJs;

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
                request_timeout_ms: options.request_timeout_ms,
                store,
                clock,
                session: RefCell::new(SessionStore::new(options.min_token_lifetime_ms)),
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
}

impl Inner {
    /// (Re)arms the refresh timer. When it fires in a hidden tab it does nothing: hidden tabs do not
    /// poll, and the tab re-checks the moment it becomes visible again.
    pub(super) fn schedule(self: &Rc<Self>, delay_ms: u32, reason: &'static str) {
        *self.refresh_timer.borrow_mut() = self.timer(delay_ms, reason);
    }

    /// Every timer of the instance: one closure type, so one shim in the wasm. `reason` says what is
    /// due: the rest of `load` (`load` with a revalidation, `start` without) or a [`Inner::wake`].
    pub(super) fn timer(self: &Rc<Self>, delay_ms: u32, reason: &'static str) -> Option<Timeout> {
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
    pub(super) fn start(self: &Rc<Self>, revalidate: bool) {
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
                    TabMessage::Session(value) => match StoredSession::from_js(&value) {
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

    pub(super) fn read_stored_session(&self) -> Option<StoredSession> {
        let value = self.store.get_json(SESSION_KEY)?;
        match StoredSession::from_js(&value) {
            Some(stored) => Some(stored),
            None => {
                warn("hallpass: cleared a stored session it cannot read");
                self.store.clear();
                None
            }
        }
    }
}

/// True when the page is in a background tab (or minimised).
fn is_hidden() -> bool {
    web_sys::window()
        .and_then(|w| w.document())
        .is_some_and(|d| d.visibility_state() == web_sys::VisibilityState::Hidden)
}
