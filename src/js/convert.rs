//! Values across the JS boundary: options and sign-up parameters in, auth snapshots and errors out.
//! Hand-written with `Reflect` rather than serde derives: it is smaller in the wasm and lets the JS
//! side have Clerk's camelCase names while the wire keeps snake_case.

use hallpass_protocol::{ErrorCode, Metadata, Session, User};
use js_sys::{Array, Object, Reflect};
use wasm_bindgen::{JsCast, JsValue};

use crate::client::{Options, SignUp};
use crate::core::error::Error;
use crate::core::state::AuthState;
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

fn opt_str(value: Option<&str>) -> JsValue {
    value.map(JsValue::from_str).unwrap_or(JsValue::NULL)
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

/// `new Request(input, init)`, reporting a bad input as an error instead of throwing.
pub fn request_from_js(input: &JsValue, init: &JsValue) -> Result<web_sys::Request, Error> {
    let bad = |_| invalid("fetch: invalid input or init");
    let init: web_sys::RequestInit =
        if init.is_object() { init.clone().unchecked_into() } else { web_sys::RequestInit::new() };
    if let Some(request) = input.dyn_ref::<web_sys::Request>() {
        return web_sys::Request::new_with_request_and_init(request, &init).map_err(bad);
    }
    let url = match input.as_string() {
        Some(url) => url,
        None => js_sys::JsString::from(input.clone()).into(),
    };
    web_sys::Request::new_with_str_and_init(&url, &init).map_err(bad)
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

fn user_to_js(user: &User) -> JsValue {
    let o = Object::new();
    set(&o, "id", user.id.as_str());
    set(&o, "firstName", opt_str(user.first_name.as_deref()));
    set(&o, "lastName", opt_str(user.last_name.as_deref()));
    let full = match (user.first_name.as_deref(), user.last_name.as_deref()) {
        (Some(f), Some(l)) => {
            let mut s = String::from(f);
            s.push(' ');
            s.push_str(l);
            Some(s)
        }
        (Some(n), None) | (None, Some(n)) => Some(n.to_owned()),
        (None, None) => None,
    };
    set(&o, "fullName", opt_str(full.as_deref()));
    set(&o, "imageUrl", user.image_url.as_str());
    let emails = Array::new();
    let mut primary = JsValue::NULL;
    for e in &user.email_addresses {
        let email = Object::new();
        set(&email, "id", e.id.as_str());
        set(&email, "emailAddress", e.email_address.as_str());
        if user.primary_email_address_id.as_deref() == Some(e.id.as_str()) {
            primary = email.clone().into();
        }
        emails.push(&email);
    }
    set(&o, "emailAddresses", emails);
    set(&o, "primaryEmailAddressId", opt_str(user.primary_email_address_id.as_deref()));
    set(&o, "primaryEmailAddress", primary);
    set(&o, "publicMetadata", user.public_metadata.0.clone());
    set(&o, "unsafeMetadata", user.unsafe_metadata.0.clone());
    set(&o, "passwordEnabled", user.password_enabled);
    set(&o, "createdAt", ms(user.created_at));
    set(&o, "updatedAt", ms(user.updated_at));
    set(&o, "lastSignInAt", user.last_sign_in_at.map(ms).unwrap_or(JsValue::NULL));
    o.into()
}

fn session_to_js(session: &Session) -> JsValue {
    let o = Object::new();
    set(&o, "id", session.id.as_str());
    set(&o, "userId", session.user_id.as_str());
    set(&o, "status", session.status.as_str());
    set(&o, "expireAt", ms(session.expire_at));
    set(&o, "abandonAt", ms(session.abandon_at));
    set(&o, "lastActiveAt", ms(session.last_active_at));
    set(&o, "createdAt", ms(session.created_at));
    set(&o, "updatedAt", ms(session.updated_at));
    o.into()
}

/// The `AuthState` object of the TypeScript declarations.
pub fn snapshot_to_js(state: &AuthState) -> JsValue {
    let o = Object::new();
    let loaded = state.is_loaded();
    set(&o, "isLoaded", loaded);
    let absent = if loaded { JsValue::NULL } else { JsValue::UNDEFINED };
    set(&o, "isSignedIn", if loaded { JsValue::from_bool(state.is_signed_in()) } else { JsValue::UNDEFINED });
    set(&o, "user", state.user().map(user_to_js).unwrap_or_else(|| absent.clone()));
    set(&o, "session", state.session().map(session_to_js).unwrap_or_else(|| absent.clone()));
    let id = |v: Option<&str>| v.map(JsValue::from_str).unwrap_or_else(|| absent.clone());
    set(&o, "userId", id(state.user_id()));
    set(&o, "sessionId", id(state.session_id()));
    set(&o, "orgId", id(state.org_id()));
    set(&o, "orgRole", id(state.org_role()));
    set(&o, "orgSlug", id(state.org_slug()));
    let _ = Object::freeze(&o);
    o.into()
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
