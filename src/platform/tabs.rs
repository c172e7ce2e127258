//! Many tabs, one session: a channel that carries the session between the tabs of one origin, and a
//! Web Lock that elects the tab that refreshes.
//!
//! - [`TabChannel`] sends every change of the stored session (refreshed tokens, sign-in, user updates)
//!   and every sign-out to the other tabs. It uses a `BroadcastChannel` named `hallpass:<instance>`,
//!   and where that is missing it falls back to the `storage` event of `localStorage`, which the
//!   browser fires in every other tab when a key changes.
//! - [`lock`] takes a Web Lock (`navigator.locks`, bound here by hand: web-sys hides it behind
//!   `web_sys_unstable_apis`, which a library cannot turn on for its users). It is feature-detected
//!   and always bounded by a timeout, after which it *steals* the lock, so a frozen tab can never block
//!   the others. Nothing depends on the lock for correctness: the server's grace window covers every
//!   race; the lock only saves requests.

use js_sys::{Function, Object, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use super::events::Listener;

/// What another tab said.
pub enum TabMessage {
    /// The stored session changed: the parsed JS object (read with `StoredSession::from_js`).
    Session(JsValue),
    SignedOut,
}

/// The channel to the other tabs of this instance.
pub struct TabChannel {
    channel: Option<web_sys::BroadcastChannel>,
    _listener: Option<Listener>,
}

impl TabChannel {
    /// Opens the channel for `instance`; `storage_key` is the localStorage key of the session, for
    /// the storage-event fallback. `on_message` runs for every message from another tab.
    pub fn open(
        instance: &str,
        storage_key: String,
        on_message: impl Fn(TabMessage) + 'static,
    ) -> Option<TabChannel> {
        let global = js_sys::global();
        let has_channel = Reflect::get(&global, &JsValue::from_str("BroadcastChannel"))
            .map(|c| c.is_function())
            .unwrap_or(false);
        if has_channel {
            let mut name = String::from("hallpass:");
            name.push_str(instance);
            let channel = web_sys::BroadcastChannel::new(&name).ok()?;
            let listener = Listener::new(&channel, "message", move |event| {
                if let Ok(data) = Reflect::get(&event, &JsValue::from_str("data")) {
                    let kind = Reflect::get(&data, &JsValue::from_str("t")).ok().and_then(|t| t.as_string());
                    match kind.as_deref() {
                        Some("session") => {
                            on_message(TabMessage::Session(
                                Reflect::get(&data, &JsValue::from_str("s")).unwrap_or_default(),
                            ));
                        }
                        Some("out") => on_message(TabMessage::SignedOut),
                        _ => {}
                    }
                }
            });
            return Some(TabChannel { channel: Some(channel), _listener: listener });
        }
        let window = web_sys::window()?;
        let listener = Listener::new(&window, "storage", move |event: JsValue| {
            let Some(event) = event.dyn_ref::<web_sys::StorageEvent>() else { return };
            if event.key().as_deref() != Some(storage_key.as_str()) {
                return;
            }
            match event.new_value() {
                None => on_message(TabMessage::SignedOut),
                Some(text) => {
                    if let Ok(value) = js_sys::JSON::parse(&text) {
                        on_message(TabMessage::Session(value));
                    }
                }
            }
        });
        Some(TabChannel { channel: None, _listener: listener })
    }

    /// Tells the other tabs about a new stored session (the JS object that was stored).
    pub fn post_session(&self, stored: &JsValue) {
        self.post("session", stored);
    }

    /// Tells the other tabs that this one signed out.
    pub fn post_signed_out(&self) {
        self.post("out", &JsValue::UNDEFINED);
    }

    fn post(&self, kind: &str, payload: &JsValue) {
        // With the storage-event fallback the write to localStorage is the message.
        let Some(channel) = &self.channel else { return };
        let message = Object::new();
        let _ = Reflect::set(&message, &JsValue::from_str("t"), &JsValue::from_str(kind));
        let _ = Reflect::set(&message, &JsValue::from_str("s"), payload);
        let _ = channel.post_message(&message);
    }
}

impl Drop for TabChannel {
    fn drop(&mut self) {
        if let Some(channel) = &self.channel {
            channel.close();
        }
    }
}

/// A held Web Lock; dropping it releases the lock (and the takeover lock, if one was needed).
pub struct LockGuard {
    release: Vec<Function>,
    /// True when another tab held the lock first: it has probably just refreshed.
    pub waited: bool,
}

impl Drop for LockGuard {
    fn drop(&mut self) {
        for release in &self.release {
            let _ = release.call0(&JsValue::NULL);
        }
    }
}

/// A promise and the functions that settle it.
fn deferred() -> (Promise, Function, Function) {
    let mut settle = (JsValue::UNDEFINED, JsValue::UNDEFINED);
    let promise = Promise::new(&mut |resolve, reject| settle = (resolve.into(), reject.into()));
    (promise, settle.0.unchecked_into(), settle.1.unchecked_into())
}

/// Takes the Web Lock `name`, waiting at most `timeout_ms`; after that it takes the lock over (a tab
/// that froze while holding it must not block the others). Takeovers go one at a time through a second
/// lock, `<name>:takeover`: tabs that gave up waiting together would otherwise steal the lock from each
/// other mid-refresh, and each would send its own request. `None` where Web Locks are missing or fail:
/// the caller goes on without the lock.
pub async fn lock(name: &str, timeout_ms: u32) -> Option<LockGuard> {
    let navigator = Reflect::get(&js_sys::global(), &JsValue::from_str("navigator")).ok()?;
    let locks = Reflect::get(&navigator, &JsValue::from_str("locks")).ok().filter(|l| l.is_object())?;
    let request: Function = Reflect::get(&locks, &JsValue::from_str("request")).ok()?.dyn_into().ok()?;
    let waited = |name: &str| {
        let options = Object::new();
        let _ = Reflect::set(
            &options,
            &JsValue::from_str("signal"),
            &web_sys::AbortSignal::timeout_with_u32(timeout_ms),
        );
        try_lock(&locks, &request, name.to_owned(), options)
    };
    let stolen = |name: &str| {
        let options = Object::new();
        let _ = Reflect::set(&options, &JsValue::from_str("steal"), &JsValue::TRUE);
        try_lock(&locks, &request, name.to_owned(), options)
    };
    let at_once = {
        let options = Object::new();
        let _ = Reflect::set(&options, &JsValue::from_str("ifAvailable"), &JsValue::TRUE);
        try_lock(&locks, &request, name.to_owned(), options).await
    };
    if let Some(release) = at_once {
        return Some(LockGuard { release: vec![release], waited: false });
    }
    if let Some(release) = waited(name).await {
        return Some(LockGuard { release: vec![release], waited: true });
    }
    let mut takeover = String::from(name);
    takeover.push_str(":takeover");
    let mut release = Vec::new();
    // The takeover lock is free unless another tab is taking over right now; if that tab froze too,
    // it is stolen in turn.
    match waited(&takeover).await {
        Some(r) => release.push(r),
        None => release.extend(stolen(&takeover).await),
    }
    release.insert(0, stolen(name).await?);
    Some(LockGuard { release, waited: true })
}

/// Requests `name` with `options`; the function that releases it, once granted.
async fn try_lock(locks: &JsValue, request: &Function, name: String, options: Object) -> Option<Function> {
    let (acquired, resolve_acquired, reject_acquired) = deferred();
    let (held, release, _) = deferred();
    let held: JsValue = held.into();
    // The SDK's one callback signature (see `events`); kept alive until the lock is settled.
    let callback = Closure::<dyn FnMut(JsValue) -> JsValue>::new(move |lock: JsValue| {
        // `ifAvailable` calls back with `null` when the lock is taken: nothing is held then.
        let granted = !lock.is_null();
        let _ = resolve_acquired.call1(&JsValue::NULL, &JsValue::from_bool(granted));
        if granted { held.clone() } else { JsValue::UNDEFINED }
    });
    let pending: Promise = request
        .call3(locks, &JsValue::from_str(&name), &options, callback.as_ref().unchecked_ref())
        .ok()?
        .dyn_into()
        .ok()?;
    // A timeout (AbortError) or a stolen lock rejects the request: stop waiting for it.
    let then: Function = Reflect::get(&pending, &JsValue::from_str("then")).ok()?.dyn_into().ok()?;
    let _ = then.call2(&pending, &JsValue::UNDEFINED, &reject_acquired);
    let acquired = JsFuture::from(acquired).await.ok().and_then(|v| v.as_bool()) == Some(true);
    drop(callback);
    acquired.then_some(release)
}
