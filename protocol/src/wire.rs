//! What `#[derive(Wire)]` generates for every wire type, and the pieces the generated code calls.
//!
//! Each wire type is defined once, with serde's attributes; the derive (crate
//! `hallpass-protocol-derive`) reads the same definition and adds:
//! - [`Wire::NAMES`], the field names on the wire (the SDK's tests check its TypeScript
//!   declarations against them);
//! - in wasm32, [`js::FromJs`] and [`js::ToJs`]: the type from and to the JS value of the browser's
//!   own `JSON.parse` / `JSON.stringify`, with serde's semantics.
//!
//! Why not serde in the browser: serde's derived deserializers report a mismatch with messages that
//! format floats (`invalid type: floating point …`), which links `<f64 as Display>` and its tables
//! (~14 KiB of wasm) plus a generic deserializer per type; reading the fields through `Reflect` costs a
//! fraction of that and fails the same way — `None` for anything that is not the expected shape,
//! never a panic.

/// The names a wire type uses on the wire: a struct's fields, an enum's variants.
pub trait Wire {
    const NAMES: &'static [&'static str];
}

#[cfg(target_arch = "wasm32")]
pub mod js {
    //! The JS side of `#[derive(Wire)]`: [`FromJs`] / [`ToJs`] and their implementations for the
    //! field types the protocol uses.

    pub use js_sys::Object;
    use js_sys::{Array, Reflect};
    pub use wasm_bindgen::JsValue;

    use crate::{Metadata, Secret};

    /// A value read from what the browser's `JSON.parse` made; `None` for any other shape.
    pub trait FromJs: Sized {
        fn from_js(v: &JsValue) -> Option<Self>;

        /// Reads `obj[key]` into `out`, where the generated readers keep their fields: absent
        /// (`undefined`) leaves `out` as it is. One instance per field type, so a generated reader is
        /// one call per field.
        #[inline(never)]
        fn read_field(obj: &JsValue, key: &str, out: &mut Self) -> Read {
            let v = get(obj, key);
            if v.is_undefined() {
                return Read::Absent;
            }
            match Self::from_js(&v) {
                Some(value) => {
                    *out = value;
                    Read::Done
                }
                None => Read::Invalid,
            }
        }
    }

    /// What [`FromJs::read_field`] found.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum Read {
        Done,
        Absent,
        Invalid,
    }

    /// A value as the JS object `JSON.stringify` writes.
    pub trait ToJs {
        fn to_js(&self) -> JsValue;
    }

    /// The first field of a JS API's parameters that is missing (`missing`) or of the wrong type,
    /// by the camelCase name the API uses (empty when the parameters are not an object at all).
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct ParamError {
        pub name: &'static str,
        pub missing: bool,
    }

    /// `v` if it is a plain object (not `null`, not an array).
    pub fn object(v: &JsValue) -> Option<&JsValue> {
        (v.is_object() && !Array::is_array(v)).then_some(v)
    }

    /// `obj[key]` (`undefined` when absent, or when `obj` throws). Not generic, so its code is once
    /// in the wasm, whatever the field types.
    #[inline(never)]
    pub fn get(obj: &JsValue, key: &str) -> JsValue {
        Reflect::get(obj, &JsValue::from_str(key)).unwrap_or_default()
    }

    pub fn set(obj: &Object, key: &str, value: JsValue) {
        let _ = Reflect::set(obj, &JsValue::from_str(key), &value);
    }

    /// `with = "double_option"`: absent leaves `None` (leave the field as it is), `null` is
    /// `Some(None)` (clear it), a value `Some(Some(…))`.
    pub fn double_option<T: FromJs>(obj: &JsValue, key: &str, out: &mut Option<Option<T>>) -> Read {
        // `Option<T>` reads `null` as `None`: exactly the inner level.
        let mut inner = None;
        let read = Option::<T>::read_field(obj, key, &mut inner);
        if read == Read::Done {
            *out = Some(inner);
        }
        read
    }

    impl FromJs for String {
        fn from_js(v: &JsValue) -> Option<Self> {
            v.as_string()
        }
    }

    impl ToJs for String {
        fn to_js(&self) -> JsValue {
            JsValue::from_str(self)
        }
    }

    impl FromJs for Secret {
        fn from_js(v: &JsValue) -> Option<Self> {
            v.as_string().map(Secret::from)
        }
    }

    impl ToJs for Secret {
        fn to_js(&self) -> JsValue {
            JsValue::from_str(self.expose())
        }
    }

    impl FromJs for bool {
        fn from_js(v: &JsValue) -> Option<Self> {
            v.as_bool()
        }
    }

    impl ToJs for bool {
        fn to_js(&self) -> JsValue {
            JsValue::from_bool(*self)
        }
    }

    /// An integer a JS number holds exactly (|n| ≤ 2⁵³ − 1).
    fn integer(v: &JsValue) -> Option<i64> {
        let n = v.as_f64()?;
        (n.fract() == 0.0 && n.abs() <= 9_007_199_254_740_991.0).then_some(n as i64)
    }

    impl FromJs for i64 {
        fn from_js(v: &JsValue) -> Option<Self> {
            integer(v)
        }
    }

    impl ToJs for i64 {
        fn to_js(&self) -> JsValue {
            JsValue::from_f64(*self as f64)
        }
    }

    impl FromJs for u32 {
        fn from_js(v: &JsValue) -> Option<Self> {
            u32::try_from(integer(v)?).ok()
        }
    }

    impl ToJs for u32 {
        fn to_js(&self) -> JsValue {
            JsValue::from_f64(f64::from(*self))
        }
    }

    /// `null` (or absent) is `None`.
    impl<T: FromJs> FromJs for Option<T> {
        fn from_js(v: &JsValue) -> Option<Self> {
            if v.is_null() || v.is_undefined() { Some(None) } else { T::from_js(v).map(Some) }
        }
    }

    impl<T: ToJs> ToJs for Option<T> {
        fn to_js(&self) -> JsValue {
            self.as_ref().map_or(JsValue::NULL, ToJs::to_js)
        }
    }

    /// Every element must read.
    impl<T: FromJs> FromJs for Vec<T> {
        fn from_js(v: &JsValue) -> Option<Self> {
            if !Array::is_array(v) {
                return None;
            }
            let array = Array::from(v);
            let mut out = Vec::new();
            // A counted loop: smaller in the wasm than collecting an iterator of options.
            for i in 0..array.length() {
                out.push(T::from_js(&array.get(i))?);
            }
            Some(out)
        }
    }

    impl<T: ToJs> ToJs for Vec<T> {
        fn to_js(&self) -> JsValue {
            self.iter().map(ToJs::to_js).collect::<Array>().into()
        }
    }

    /// Metadata is the JS object itself, untouched.
    impl FromJs for Metadata {
        fn from_js(v: &JsValue) -> Option<Self> {
            object(v).map(|v| Metadata(v.clone()))
        }
    }

    impl ToJs for Metadata {
        fn to_js(&self) -> JsValue {
            self.0.clone()
        }
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use serde::Serialize;

    use super::Wire;
    use crate::*;

    /// The keys serde writes for `value` (every optional field set, so none is skipped).
    fn serde_keys<T: Serialize>(value: &T) -> Vec<String> {
        let json = serde_json::to_value(value).unwrap();
        json.as_object().unwrap().keys().cloned().collect()
    }

    fn sorted(names: &[&str]) -> Vec<String> {
        let mut v: Vec<String> = names.iter().map(|s| s.to_string()).collect();
        v.sort();
        v
    }

    #[test]
    fn derived_names_are_the_names_serde_writes() {
        let some = || Some(String::from("x"));
        let user = User { private_metadata: Some(Metadata::new()), ..User::default() };
        assert_eq!(sorted(User::NAMES), serde_keys(&user));
        assert_eq!(sorted(Session::NAMES), serde_keys(&Session::default()));
        assert_eq!(sorted(EmailAddress::NAMES), serde_keys(&EmailAddress::default()));
        assert_eq!(sorted(SessionActivity::NAMES), serde_keys(&SessionActivity::default()));
        let sign_up = SignUpRequest {
            first_name: some(),
            last_name: some(),
            unsafe_metadata: Some(Metadata::new()),
            ..SignUpRequest::new("a@b.co", "pw")
        };
        assert_eq!(sorted(SignUpRequest::NAMES), serde_keys(&sign_up));
        assert_eq!(sorted(SignInRequest::NAMES), serde_keys(&SignInRequest::default()));
        assert_eq!(sorted(RefreshRequest::NAMES), serde_keys(&RefreshRequest::default()));
        let profile = UpdateProfileRequest {
            first_name: Some(None),
            last_name: Some(some()),
            unsafe_metadata: Some(Metadata::new()),
            primary_email_address_id: some(),
        };
        assert_eq!(sorted(UpdateProfileRequest::NAMES), serde_keys(&profile));
        let auth = AuthResponse { organization: Some(OrgClaims::default()), ..AuthResponse::default() };
        assert_eq!(sorted(AuthResponse::NAMES), serde_keys(&auth));
        assert_eq!(sorted(OrgClaims::NAMES), serde_keys(&OrgClaims::default()));
        assert_eq!(sorted(TemplateTokenResponse::NAMES), serde_keys(&TemplateTokenResponse::default()));
        assert_eq!(sorted(ErrorBody::NAMES), serde_keys(&ErrorBody::default()));
        assert_eq!(sorted(ApiError::NAMES), serde_keys(&ApiError::default()));
    }

    #[test]
    fn derived_enum_names_are_serdes() {
        for status in [
            SessionStatus::Active,
            SessionStatus::Ended,
            SessionStatus::Revoked,
            SessionStatus::Expired,
            SessionStatus::Removed,
        ] {
            assert_eq!(serde_json::to_value(status).unwrap(), status.as_str());
            assert_eq!(SessionStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(SessionStatus::NAMES, ["active", "ended", "revoked", "expired", "removed"]);
        assert_eq!(JwtAlgorithm::NAMES, ["RS256", "HS256", "HS384", "HS512"]);
        assert_eq!(DeviceType::NAMES, ["desktop", "mobile", "tablet"]);
        assert_eq!(serde_json::to_value(DeviceType::Tablet).unwrap(), "tablet");
        assert_eq!(SessionStatus::parse("Active"), None);
    }
}
