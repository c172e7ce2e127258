//! `setTimeout` owned by a Rust value: dropping the [`Timeout`] cancels it and frees its closure.

use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};

/// A pending `setTimeout`. Dropping it cancels the callback.
#[must_use = "dropping a Timeout cancels it"]
pub struct Timeout {
    id: i32,
    _callback: Closure<dyn FnMut(JsValue) -> JsValue>,
}

impl Timeout {
    /// Calls `callback` once after `delay_ms`; `None` when there is no window to time with.
    pub fn new(delay_ms: u32, callback: impl FnOnce() + 'static) -> Option<Timeout> {
        let mut callback = Some(callback);
        // The same closure signature as every DOM listener (see `events`): one shim for both.
        let closure = Closure::wrap(Box::new(move |_: JsValue| {
            if let Some(f) = callback.take() {
                f();
            }
            JsValue::UNDEFINED
        }) as Box<dyn FnMut(JsValue) -> JsValue>);
        let delay = i32::try_from(delay_ms).unwrap_or(i32::MAX);
        let id = web_sys::window()?
            .set_timeout_with_callback_and_timeout_and_arguments_0(closure.as_ref().unchecked_ref(), delay)
            .ok()?;
        Some(Timeout { id, _callback: closure })
    }
}

impl Drop for Timeout {
    fn drop(&mut self) {
        if let Some(window) = web_sys::window() {
            window.clear_timeout_with_handle(self.id);
        }
    }
}

/// Resolves after `ms` (a `setTimeout` promise).
pub async fn sleep(ms: u32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(window) = web_sys::window() {
            let delay = i32::try_from(ms).unwrap_or(i32::MAX);
            let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, delay);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}
