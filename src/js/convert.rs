//! Values across the JS boundary that are the SDK's own rather than the protocol's: the options of
//! `Hallpass.load` and `getToken`, parameter errors, thrown errors, the refresh trace. (Request
//! parameters are the protocol's request types, read by their derived `from_js_params`.)

use hallpass_protocol::ErrorCode;
use hallpass_protocol::wire::js::ParamError;
use js_sys::{Array, Object, Reflect};
use wasm_bindgen::JsValue;

use crate::client::{GetTokenOptions, MAX_REQUEST_TIMEOUT_MS, Options};
use crate::core::error::{Code, Error};
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

/// `{ frontendApi | publishableKey, storage?, minTokenLifetimeMs?, requestTimeoutMs?, debug? }`
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
    let timeout = get(value, "requestTimeoutMs");
    if !timeout.is_undefined() {
        let ms = timeout.as_f64().filter(|v| *v >= 1.0 && *v <= f64::from(MAX_REQUEST_TIMEOUT_MS));
        options = options.with_request_timeout_ms(
            ms.ok_or(invalid("requestTimeoutMs must be a number of milliseconds (1 to 600000)"))? as u32,
        );
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

/// The error for parameters that did not read: `form_param_missing` or `form_param_format_invalid`,
/// naming the field as the JS API does.
pub fn param_error(e: ParamError, call: &'static str) -> Error {
    if e.name.is_empty() {
        let mut message = String::from(call);
        message.push_str(" needs an object");
        return Error::with_message(ErrorCode::FormParamFormatInvalid, message);
    }
    let mut message = String::from(e.name);
    message.push_str(if e.missing { " is missing" } else { " has the wrong type" });
    // Each branch names its code (a constant): no lookup of a code chosen at run time.
    let code: Code =
        if e.missing { ErrorCode::FormParamMissing.into() } else { ErrorCode::FormParamFormatInvalid.into() };
    Error::with_message(code, message)
}

/// `getToken`'s options, by the one rule both of its paths use: `undefined`/`null` is a plain call
/// (the JS fast path answers only those, from the cache the wasm published); otherwise `template`
/// must be a string if given, `skipCache: true` skips the cache, and `organizationId` is an id or
/// slug (or `null`: a token without an organization).
pub fn get_token_options_from_js(value: &JsValue) -> Result<GetTokenOptions, Error> {
    let template = get(value, "template");
    let template = match template.as_string() {
        Some(name) => Some(name),
        None if template.is_undefined() => None,
        None => return Err(invalid("template must be a string")),
    };
    let org = get(value, "organizationId");
    let organization_id = match org.as_string() {
        Some(id) => Some(Some(id)),
        None if org.is_null() => Some(None),
        None if org.is_undefined() => None,
        None => return Err(invalid("organizationId must be a string or null")),
    };
    let mut options = GetTokenOptions { template, organization_id, ..GetTokenOptions::default() };
    options.skip_cache = get(value, "skipCache").as_bool() == Some(true);
    Ok(options)
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

/// The `debug` option's refresh trace.
pub fn trace_to_js(trace: &[crate::client::TraceEntry]) -> JsValue {
    let out = Array::new();
    for entry in trace {
        let o = Object::new();
        set(&o, "tab", entry.tab.as_str());
        set(&o, "reason", entry.reason);
        set(&o, "at", ms(entry.at));
        set(&o, "outcome", &*entry.outcome);
        out.push(&o);
    }
    out.into()
}
