//! Protocol types to and from the JS values the browser's `JSON.parse` makes, by hand.
//!
//! Why not serde-wasm-bindgen's `from_value` for these: serde's derived deserializers report
//! mismatches with messages that format floats (`invalid type: floating point …`), which links
//! `<f64 as Display>` and the float tables (~14 KiB raw) plus one deserializer per type; reading the
//! handful of response types field by field with `Reflect` costs a fraction of that and fails the
//! same way — `None` for anything that is not the expected shape, never a panic.
//! Request bodies are built the same way; serde-wasm-bindgen stays in the dependency graph for
//! `Metadata` (the protocol crate carries the JS value through serde with it, for apps that serialise
//! protocol types themselves) but the SDK's own paths do not need its (de)serializers.
//!
//! Field names are the wire's (snake_case), so the stored session reads with the same code as the
//! server's answers.

use hallpass_protocol::{
    ApiError, AuthResponse, EmailAddress, ErrorBody, Metadata, Session, SessionStatus, SignUpRequest, User,
};
use js_sys::{Array, Object, Reflect};
use wasm_bindgen::JsValue;

use crate::core::state::StoredSession;

fn get(obj: &JsValue, key: &str) -> JsValue {
    Reflect::get(obj, &JsValue::from_str(key)).unwrap_or_default()
}

fn set(obj: &Object, key: &str, value: JsValue) {
    let _ = Reflect::set(obj, &JsValue::from_str(key), &value);
}

fn string(obj: &JsValue, key: &str) -> Option<String> {
    get(obj, key).as_string()
}

/// A string, or `None` for `null`/absent; a value of another type is malformed (`Err`).
fn opt_string(obj: &JsValue, key: &str) -> Result<Option<String>, ()> {
    let v = get(obj, key);
    if v.is_null() || v.is_undefined() {
        return Ok(None);
    }
    v.as_string().map(Some).ok_or(())
}

/// An integer that a JS number holds exactly.
fn int(obj: &JsValue, key: &str) -> Option<i64> {
    let n = get(obj, key).as_f64()?;
    (n.is_finite() && n.fract() == 0.0 && n.abs() <= 9_007_199_254_740_991.0).then_some(n as i64)
}

fn int_or_zero(obj: &JsValue, key: &str) -> i64 {
    int(obj, key).unwrap_or(0)
}

fn metadata(obj: &JsValue, key: &str) -> Metadata {
    let v = get(obj, key);
    if v.is_object() && !Array::is_array(&v) { Metadata(v) } else { Metadata::default() }
}

fn object(v: &JsValue) -> Option<&JsValue> {
    (v.is_object() && !Array::is_array(v)).then_some(v)
}

fn js_str(s: &str) -> JsValue {
    JsValue::from_str(s)
}

fn js_opt_str(s: Option<&str>) -> JsValue {
    s.map(JsValue::from_str).unwrap_or(JsValue::NULL)
}

fn js_int(n: i64) -> JsValue {
    JsValue::from_f64(n as f64)
}

pub fn user(v: &JsValue) -> Option<User> {
    let v = object(v)?;
    let emails = get(v, "email_addresses");
    let mut email_addresses = Vec::new();
    if Array::is_array(&emails) {
        for e in Array::from(&emails).iter() {
            let e = object(&e)?;
            email_addresses.push(EmailAddress {
                object: "email_address".into(),
                id: string(e, "id")?,
                email_address: string(e, "email_address")?,
            });
        }
    }
    Some(User {
        object: "user".into(),
        id: string(v, "id").filter(|id| !id.is_empty())?,
        first_name: opt_string(v, "first_name").ok()?,
        last_name: opt_string(v, "last_name").ok()?,
        image_url: string(v, "image_url").unwrap_or_default(),
        email_addresses,
        primary_email_address_id: opt_string(v, "primary_email_address_id").ok()?,
        public_metadata: metadata(v, "public_metadata"),
        unsafe_metadata: metadata(v, "unsafe_metadata"),
        private_metadata: None,
        password_enabled: get(v, "password_enabled").as_bool().unwrap_or(false),
        last_sign_in_at: int(v, "last_sign_in_at"),
        created_at: int_or_zero(v, "created_at"),
        updated_at: int_or_zero(v, "updated_at"),
    })
}

pub fn session(v: &JsValue) -> Option<Session> {
    let v = object(v)?;
    Some(Session {
        object: "session".into(),
        id: string(v, "id").filter(|id| !id.is_empty())?,
        user_id: string(v, "user_id")?,
        status: match get(v, "status").as_string() {
            Some(s) => SessionStatus::parse(&s)?,
            None => SessionStatus::Active,
        },
        expire_at: int_or_zero(v, "expire_at"),
        abandon_at: int_or_zero(v, "abandon_at"),
        last_active_at: int_or_zero(v, "last_active_at"),
        created_at: int_or_zero(v, "created_at"),
        updated_at: int_or_zero(v, "updated_at"),
    })
}

/// The answer to sign-up, sign-in and refresh.
pub fn auth_response(v: &JsValue) -> Option<AuthResponse> {
    let v = object(v)?;
    Some(AuthResponse {
        user: user(&get(v, "user"))?,
        session: session(&get(v, "session"))?,
        jwt: string(v, "jwt")?.into(),
        expires_in: u32::try_from(int(v, "expires_in")?).ok()?,
        refresh_token: string(v, "refresh_token")?.into(),
        server_time: int(v, "server_time")?,
    })
}

/// The answer to a template token request: `(jwt, expires_in)`.
pub fn template_token(v: &JsValue) -> Option<(String, i64)> {
    let v = object(v)?;
    Some((string(v, "jwt")?, int(v, "expires_in").filter(|&s| s > 0)?))
}

/// `{"errors":[{code, message, long_message, meta}]}`; errors without a string code are skipped.
pub fn error_body(v: &JsValue) -> Option<ErrorBody> {
    let errors = get(object(v)?, "errors");
    if !Array::is_array(&errors) {
        return None;
    }
    let errors = Array::from(&errors)
        .iter()
        .filter_map(|e| {
            let e = object(&e)?;
            Some(ApiError {
                code: string(e, "code")?,
                message: string(e, "message").unwrap_or_default(),
                long_message: string(e, "long_message").unwrap_or_default(),
                meta: metadata(e, "meta"),
            })
        })
        .collect();
    Some(ErrorBody { errors })
}

/// The stored session; `None` for anything else (another version, another app's data, garbage).
pub fn stored_session(v: &JsValue) -> Option<StoredSession> {
    let v = object(v)?;
    Some(StoredSession {
        v: u32::try_from(int(v, "v")?).ok()?,
        user: user(&get(v, "user"))?,
        session: session(&get(v, "session"))?,
        refresh_token: string(v, "refresh_token")?.into(),
        jwt: string(v, "jwt")?.into(),
        jwt_expires_at: int(v, "jwt_expires_at")?,
        jwt_issued_at: int_or_zero(v, "jwt_issued_at"),
        server_offset_ms: int(v, "server_offset_ms")?,
        saved_at: int_or_zero(v, "saved_at"),
    })
}

/// A user as the wire (and storage) shape it: snake_case.
pub fn user_to_js(u: &User) -> JsValue {
    let o = Object::new();
    set(&o, "id", js_str(&u.id));
    set(&o, "first_name", js_opt_str(u.first_name.as_deref()));
    set(&o, "last_name", js_opt_str(u.last_name.as_deref()));
    set(&o, "image_url", js_str(&u.image_url));
    let emails = Array::new();
    for e in &u.email_addresses {
        let eo = Object::new();
        set(&eo, "id", js_str(&e.id));
        set(&eo, "email_address", js_str(&e.email_address));
        emails.push(&eo);
    }
    set(&o, "email_addresses", emails.into());
    set(&o, "primary_email_address_id", js_opt_str(u.primary_email_address_id.as_deref()));
    set(&o, "public_metadata", u.public_metadata.0.clone());
    set(&o, "unsafe_metadata", u.unsafe_metadata.0.clone());
    set(&o, "password_enabled", JsValue::from_bool(u.password_enabled));
    set(&o, "last_sign_in_at", u.last_sign_in_at.map(js_int).unwrap_or(JsValue::NULL));
    set(&o, "created_at", js_int(u.created_at));
    set(&o, "updated_at", js_int(u.updated_at));
    o.into()
}

/// A session in its wire shape.
pub fn session_to_js(s: &Session) -> JsValue {
    let o = Object::new();
    set(&o, "id", js_str(&s.id));
    set(&o, "user_id", js_str(&s.user_id));
    set(&o, "status", js_str(s.status.as_str()));
    set(&o, "expire_at", js_int(s.expire_at));
    set(&o, "abandon_at", js_int(s.abandon_at));
    set(&o, "last_active_at", js_int(s.last_active_at));
    set(&o, "created_at", js_int(s.created_at));
    set(&o, "updated_at", js_int(s.updated_at));
    o.into()
}

/// The stored session as a JS object for `JSON.stringify`.
pub fn stored_session_to_js(s: &StoredSession) -> JsValue {
    let o = Object::new();
    set(&o, "v", JsValue::from_f64(f64::from(s.v)));
    set(&o, "user", user_to_js(&s.user));
    set(&o, "session", session_to_js(&s.session));
    set(&o, "refresh_token", js_str(s.refresh_token.expose()));
    set(&o, "jwt", js_str(s.jwt.expose()));
    set(&o, "jwt_expires_at", js_int(s.jwt_expires_at));
    set(&o, "jwt_issued_at", js_int(s.jwt_issued_at));
    set(&o, "server_offset_ms", js_int(s.server_offset_ms));
    set(&o, "saved_at", js_int(s.saved_at));
    o.into()
}

/// A flat object of string fields (sign-in and refresh bodies).
pub fn string_object(fields: &[(&str, &str)]) -> JsValue {
    let o = Object::new();
    for (k, v) in fields {
        set(&o, k, js_str(v));
    }
    o.into()
}

/// The sign-up body; absent optional fields are left out, as the server expects.
pub fn sign_up_request(r: &SignUpRequest) -> JsValue {
    let o = Object::new();
    set(&o, "email_address", js_str(&r.email_address));
    set(&o, "password", js_str(r.password.expose()));
    if let Some(first) = &r.first_name {
        set(&o, "first_name", js_str(first));
    }
    if let Some(last) = &r.last_name {
        set(&o, "last_name", js_str(last));
    }
    if let Some(metadata) = &r.unsafe_metadata {
        set(&o, "unsafe_metadata", metadata.0.clone());
    }
    o.into()
}
