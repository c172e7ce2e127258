//! Who hears about changes: the app's listeners ([`ListenerHandle`] removes one on drop) and the JS
//! facade's token sink, which lets `getToken()` answer a cached token without entering the wasm.

use std::rc::{Rc, Weak};

use wasm_bindgen::JsValue;

use super::{Hallpass, Inner};
use crate::core::state::AuthState;

pub(super) type Listener = Rc<dyn Fn(&AuthState)>;

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

impl Hallpass {
    /// Calls `sink(token, until, expires)` now and after every change: the session token (or `null`
    /// when signed out), the last device time (`Date.now()` ms) at which
    /// [`get_token`](Self::get_token) would hand it out from the cache, and the device time at which
    /// it expires. For the JS facade's fast path and its session cookie.
    pub(crate) fn set_token_sink(&self, sink: js_sys::Function) {
        *self.inner.token_sink.borrow_mut() = Some(sink);
        self.inner.publish_token();
    }

    /// Calls `listener` after every visible change of the state. A listener may call back into the SDK.
    pub fn add_listener(&self, listener: impl Fn(&AuthState) + 'static) -> ListenerHandle {
        let id = self.inner.next_listener.get();
        self.inner.next_listener.set(id.wrapping_add(1));
        self.inner.listeners.borrow_mut().push((id, Rc::new(listener)));
        ListenerHandle { inner: Rc::downgrade(&self.inner), id }
    }
}

impl Inner {
    /// Tells the token sink (if any) what the cache would hand out, and until when.
    pub(super) fn publish_token(&self) {
        if let Some(sink) = &*self.token_sink.borrow() {
            let (token, until, expires) = match self.session.borrow().session_token_until() {
                Some((token, until, expires)) => (JsValue::from_str(token), until as f64, expires as f64),
                None => (JsValue::NULL, 0.0, 0.0),
            };
            let _ =
                sink.call3(&JsValue::NULL, &token, &JsValue::from_f64(until), &JsValue::from_f64(expires));
        }
    }
}
