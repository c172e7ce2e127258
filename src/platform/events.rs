//! DOM event listeners owned by Rust values: dropping a [`Listener`] removes it and frees its closure.

use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;

/// An event listener that lives as long as this value.
#[must_use = "dropping a Listener removes it"]
pub struct Listener {
    target: web_sys::EventTarget,
    kind: &'static str,
    callback: Closure<dyn FnMut(web_sys::Event)>,
}

impl Listener {
    /// Listens for `kind` events on `target`; `None` if the browser refuses.
    pub fn new(
        target: &web_sys::EventTarget,
        kind: &'static str,
        f: impl FnMut(web_sys::Event) + 'static,
    ) -> Option<Listener> {
        let callback = Closure::wrap(Box::new(f) as Box<dyn FnMut(web_sys::Event)>);
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
