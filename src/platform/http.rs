//! HTTP to the Frontend API: one non-generic path for every call (each generic instance costs wasm
//! bytes), through gloo-net without its `json` feature — the browser's own `JSON.parse` and
//! `JSON.stringify` do the JSON, so no JSON parser ships in the wasm.
//!
//! Every answer reports when the request left and when the answer came back on the device clock,
//! with the server's clock from `x-hallpass-server-time`, so the caller can learn the clock offset.

use gloo_net::http::Request;
use hallpass_protocol::wire::js::FromJs;
use hallpass_protocol::{ErrorBody, ErrorCode, SERVER_TIME_HEADER};
use wasm_bindgen::JsValue;

use crate::core::clock::{Clock, parse_server_time};
use crate::core::error::{Error, classify};

/// A successful (2xx) answer.
pub struct Answer {
    pub status: u16,
    /// The parsed JSON body, or `null` for an empty one.
    pub body: JsValue,
    /// The server's clock when it answered, if it said.
    pub server_time: Option<i64>,
    /// Device time when the request left.
    pub sent_at: i64,
    /// Device time when the answer arrived.
    pub received_at: i64,
}

/// The outcome of a failed call, with the clock sample when the server answered at all.
pub struct Failure {
    pub error: Error,
    pub server_time: Option<i64>,
    pub sent_at: i64,
    pub received_at: i64,
}

/// True when the browser says it is offline (`navigator.onLine === false`).
pub fn is_offline() -> bool {
    web_sys::window().map(|w| !w.navigator().on_line()).unwrap_or(false)
}

/// The `web_sys::Request` for a call, made directly: gloo-net's `RequestBuilder` re-parses the URL to
/// merge query parameters and formats strings to do it, which costs wasm for nothing we use.
fn build(method: &str, url: &str, body: Option<&JsValue>, bearer: Option<&str>) -> Result<Request, JsValue> {
    let init = web_sys::RequestInit::new();
    init.set_method(method);
    let headers = web_sys::Headers::new()?;
    if let Some(token) = bearer {
        let mut value = String::with_capacity(token.len() + 7);
        value.push_str("Bearer ");
        value.push_str(token);
        headers.set("authorization", &value)?;
    }
    if let Some(value) = body {
        headers.set("content-type", "application/json")?;
        init.set_body(&js_sys::JSON::stringify(value)?.into());
    }
    init.set_headers(&headers);
    web_sys::Request::new_with_str_and_init(url, &init).map(Request::from)
}

/// Sends one request. `body` is stringified with `JSON.stringify`; `bearer` becomes
/// `Authorization: Bearer …`. Non-2xx answers become a classified [`Error`].
pub async fn call(
    method: &str,
    url: &str,
    body: Option<&JsValue>,
    bearer: Option<&str>,
    clock: &dyn Clock,
) -> Result<Answer, Failure> {
    let sent_at = clock.now_ms();
    let fail = |error: Error, server_time: Option<i64>, received_at: i64| Failure {
        error,
        server_time,
        sent_at,
        received_at,
    };
    if is_offline() {
        return Err(fail(Error::offline(), None, sent_at));
    }
    let request = build(method, url, body, bearer)
        .map_err(|_| fail(Error::new(ErrorCode::InvalidOptions, "invalid request"), None, sent_at))?;
    let response = match request.send().await {
        Ok(r) => r,
        Err(_) => return Err(fail(Error::network(), None, clock.now_ms())),
    };
    let received_at = clock.now_ms();
    let headers = response.headers();
    let server_time = headers.get(SERVER_TIME_HEADER).and_then(|v| parse_server_time(&v));
    let status = response.status();
    // A body that cannot be read or parsed is `undefined`: fine for errors, invalid for successes.
    let parsed = match response.text().await {
        Ok(text) if text.is_empty() => JsValue::NULL,
        Ok(text) => js_sys::JSON::parse(&text).unwrap_or(JsValue::UNDEFINED),
        Err(_) => JsValue::UNDEFINED,
    };
    if (200..300).contains(&status) {
        if parsed.is_undefined() {
            let error =
                Error::new(ErrorCode::InvalidResponse, "the server's answer is not JSON").with_status(status);
            return Err(fail(error, server_time, received_at));
        }
        return Ok(Answer { status, body: parsed, server_time, sent_at, received_at });
    }
    let error_body = ErrorBody::from_js(&parsed);
    let error = classify(status, error_body.as_ref(), headers.get("retry-after").as_deref());
    Err(fail(error, server_time, received_at))
}
