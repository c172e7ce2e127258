//! DOM event listeners owned by Rust values: dropping a [`Listener`] removes it and frees its closure.

use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};

/// An event listener that lives as long as this value.
#[must_use = "dropping a Listener removes it"]
pub struct Listener {
    target: web_sys::EventTarget,
    kind: &'static str,
    callback: Closure<dyn FnMut(JsValue) -> JsValue>,
}

impl Listener {
    /// Listens for `kind` events on `target`; `None` if the browser refuses.
    pub fn new(
        target: &web_sys::EventTarget,
        kind: &'static str,
        f: impl FnMut(JsValue) + 'static,
    ) -> Option<Listener> {
        // One closure signature for every listener, timer and callback in the SDK: each distinct one
        // costs its own glue in JS and its own shim in the wasm.
        let mut f = f;
        let callback = Closure::wrap(Box::new(move |event| {
            f(event);
            JsValue::UNDEFINED
        }) as Box<dyn FnMut(JsValue) -> JsValue>);
        target.add_event_listener_with_callback(kind, callback.as_ref().unchecked_ref()).ok()?;
        Some(Listener { target: target.clone(), kind, callback })
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = self
            .target
            .remove_event_listener_with_callback(self.kind, self.callback.as_ref().unchecked_ref());
    }
}
