//! HTTP to the Frontend API: one non-generic path for every call (each generic instance costs wasm
//! bytes), through gloo-net without its `json` feature — the browser's own `JSON.parse` and
//! `JSON.stringify` do the JSON, so no JSON parser ships in the wasm.
//!
//! Every answer reports when the request left and when the answer came back on the device clock,
//! with the server's clock from `x-hallpass-server-time`, so the caller can learn the clock offset.

use gloo_net::http::{Method, RequestBuilder};
use hallpass_protocol::{ErrorBody, ErrorCode, SERVER_TIME_HEADER};
use serde::de::DeserializeOwned;
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

/// Sends one request. `body` is stringified with `JSON.stringify`; `bearer` becomes
/// `Authorization: Bearer …`. Non-2xx answers become a classified [`Error`].
pub async fn call(
    method: Method,
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
    let mut builder = RequestBuilder::new(url).method(method);
    if let Some(token) = bearer {
        let mut value = String::with_capacity(token.len() + 7);
        value.push_str("Bearer ");
        value.push_str(token);
        builder = builder.header("authorization", &value);
    }
    let request = match body {
        Some(value) => {
            let text = js_sys::JSON::stringify(value).ok().and_then(|s| s.as_string()).unwrap_or_default();
            builder.header("content-type", "application/json").body(text)
        }
        None => builder.build(),
    };
    let request =
        request.map_err(|_| fail(Error::new(ErrorCode::InvalidOptions, "invalid request"), None, sent_at))?;
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
    let error_body: Option<ErrorBody> = serde_wasm_bindgen::from_value(parsed).ok();
    let error = classify(status, error_body.as_ref(), headers.get("retry-after").as_deref());
    Err(fail(error, server_time, received_at))
}

/// Reads a protocol type out of a parsed body.
pub fn decode<T: DeserializeOwned>(body: JsValue) -> Result<T, Error> {
    serde_wasm_bindgen::from_value(body)
        .map_err(|_| Error::new(ErrorCode::InvalidResponse, "the server's answer has an unexpected shape"))
}
