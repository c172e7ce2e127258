//! Values across the JS boundary: options and sign-up parameters in, auth snapshots and errors out.
//! Hand-written with `Reflect` rather than serde derives: it is smaller in the wasm and lets the JS
//! side have Clerk's camelCase names while the wire keeps snake_case.

use hallpass_protocol::{ErrorCode, Metadata};
use js_sys::{Array, Object, Reflect};
use wasm_bindgen::JsValue;

use crate::client::{Options, SignUp};
use crate::core::error::Error;
use crate::platform::storage::StorageKind;

fn invalid(message: &'static str) -> Error {
    Error::new(ErrorCode::InvalidOptions, message)
}

fn get(obj: &JsValue, key: &str) -> JsValue {
    if obj.is_object() {
        Reflect::get(obj, &JsValue::from_str(key)).unwrap_or_default()
    } else {
        JsValue::UNDEFINED
    }
}

fn set(obj: &Object, key: &str, value: impl Into<JsValue>) {
    let _ = Reflect::set(obj, &JsValue::from_str(key), &value.into());
}

fn ms(value: i64) -> JsValue {
    JsValue::from_f64(value as f64)
}

/// A required string property.
pub fn str_prop(obj: &JsValue, key: &'static str) -> Result<String, Error> {
    get(obj, key).as_string().ok_or_else(|| {
        let mut message = String::from(key);
        message.push_str(" must be a string");
        Error::with_message(ErrorCode::FormParamMissing, message)
    })
}

/// An optional string property (`undefined`/`null` → `None`; another type is an error).
fn opt_str_prop(obj: &JsValue, key: &'static str) -> Result<Option<String>, Error> {
    let value = get(obj, key);
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    value.as_string().map(Some).ok_or_else(|| {
        let mut message = String::from(key);
        message.push_str(" must be a string");
        Error::with_message(ErrorCode::FormParamFormatInvalid, message)
    })
}

/// `{ frontendApi | publishableKey, storage?, minTokenLifetimeMs? }`
pub fn options_from_js(value: &JsValue) -> Result<Options, Error> {
    if !value.is_object() {
        return Err(invalid("Hallpass.load needs an options object"));
    }
    let api = match (opt_str_prop(value, "frontendApi")?, opt_str_prop(value, "publishableKey")?) {
        (Some(api), _) | (None, Some(api)) => api,
        (None, None) => return Err(invalid("Hallpass.load needs frontendApi or publishableKey")),
    };
    let mut options = Options::new(api);
    if let Some(kind) = opt_str_prop(value, "storage")? {
        options = options.with_storage(
            StorageKind::parse(&kind)
                .ok_or(invalid("storage must be \"local\", \"session\" or \"memory\""))?,
        );
    }
    if get(value, "debug").as_bool() == Some(true) {
        options = options.with_debug(true);
    }
    let min = get(value, "minTokenLifetimeMs");
    if !min.is_undefined() {
        let ms = min.as_f64().filter(|v| v.is_finite() && *v >= 0.0 && *v <= 3_600_000.0);
        options = options.with_min_token_lifetime_ms(
            ms.ok_or(invalid("minTokenLifetimeMs must be a number of milliseconds (0 to 3600000)"))? as i64,
        );
    }
    Ok(options)
}

/// `{ emailAddress, password, firstName?, lastName?, unsafeMetadata? }`
pub fn sign_up_from_js(value: &JsValue) -> Result<SignUp, Error> {
    let mut sign_up = SignUp::new(str_prop(value, "emailAddress")?, str_prop(value, "password")?)
        .with_name(opt_str_prop(value, "firstName")?, opt_str_prop(value, "lastName")?);
    let metadata = get(value, "unsafeMetadata");
    if !metadata.is_undefined() && !metadata.is_null() {
        if !metadata.is_object() || Array::is_array(&metadata) {
            return Err(Error::new(ErrorCode::FormParamFormatInvalid, "unsafeMetadata must be an object"));
        }
        sign_up = sign_up.with_unsafe_metadata(Metadata(metadata));
    }
    Ok(sign_up)
}

/// A JS `Error` named `HallpassError` with `code`, `status` and `retryAfter`.
pub fn error_to_js(error: &Error) -> JsValue {
    let e = js_sys::Error::new(&error.message);
    e.set_name("HallpassError");
    set(&e, "code", error.code.as_str());
    if let Some(status) = error.status {
        set(&e, "status", status);
    }
    if let Some(retry_after) = error.retry_after {
        set(&e, "retryAfter", retry_after);
    }
    e.into()
}

/// `{ firstName?, lastName?, unsafeMetadata? }` → the wire body of `PATCH /v1/client/me`. A name set
/// to `null` is cleared; an absent one stays.
pub fn profile_from_js(value: &JsValue) -> Result<JsValue, Error> {
    if !value.is_object() {
        return Err(Error::new(ErrorCode::FormParamFormatInvalid, "updateUser needs an object"));
    }
    let body = Object::new();
    for (js, wire) in [("firstName", "first_name"), ("lastName", "last_name")] {
        let v = get(value, js);
        if v.is_null() || v.as_string().is_some() {
            set(&body, wire, v);
        } else if !v.is_undefined() {
            return Err(Error::new(ErrorCode::FormParamFormatInvalid, "names must be strings or null"));
        }
    }
    let metadata = get(value, "unsafeMetadata");
    if !metadata.is_undefined() {
        if !metadata.is_object() || Array::is_array(&metadata) {
            return Err(Error::new(ErrorCode::FormParamFormatInvalid, "unsafeMetadata must be an object"));
        }
        set(&body, "unsafe_metadata", metadata);
    }
    Ok(body.into())
}

/// The `debug` option's refresh trace.
pub fn trace_to_js(trace: &[crate::client::TraceEntry]) -> JsValue {
    let out = Array::new();
    for entry in trace {
        let o = Object::new();
        set(&o, "tab", entry.tab.as_str());
        set(&o, "reason", entry.reason);
        set(&o, "at", ms(entry.at));
        set(&o, "outcome", entry.outcome);
        out.push(&o);
    }
    out.into()
}
