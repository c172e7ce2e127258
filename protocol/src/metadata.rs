//! Free-form JSON metadata (`public_metadata`, `unsafe_metadata`, `private_metadata`).
//!
//! Natively (the server, native tests) it is a `serde_json` object. In the browser it is the JS value
//! itself, carried through `serde-wasm-bindgen` untouched: the SDK never needs a JSON parser of its own
//! (serde_json costs ~20 KiB gzip in the wasm), and apps read it with `serde_wasm_bindgen::from_value`
//! into their own types. The choice is made by target, not by feature, so feature unification in a
//! workspace can never change the type under a crate's feet.

#[cfg(not(target_arch = "wasm32"))]
mod imp {
    /// A JSON object.
    pub type Metadata = serde_json::Map<String, serde_json::Value>;
}

#[cfg(target_arch = "wasm32")]
mod imp {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use wasm_bindgen::JsValue;

    /// A JSON object, kept as the JS value the browser parsed.
    #[derive(Clone, Debug, PartialEq)]
    pub struct Metadata(pub JsValue);

    impl Default for Metadata {
        fn default() -> Self {
            Metadata(js_sys::Object::new().into())
        }
    }

    impl Metadata {
        /// The JS value.
        pub fn as_js(&self) -> &JsValue {
            &self.0
        }
    }

    impl Serialize for Metadata {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            serde_wasm_bindgen::preserve::serialize(&self.0, s)
        }
    }

    impl<'de> Deserialize<'de> for Metadata {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            serde_wasm_bindgen::preserve::deserialize(d).map(Metadata)
        }
    }
}

pub use imp::Metadata;
