//! HTTP to the Frontend API: one path for every call. The exchange itself is JavaScript
//! (`http.js`: `fetch`, the deadline, `JSON.parse`/`JSON.stringify`), so no HTTP client and no JSON
//! parser ship in the wasm; this side classifies the outcome and keeps the clock samples.
//!
//! Every answer reports when the request left and when the answer came back on the device clock,
//! with the server's clock from `x-hallpass-server-time`, so the caller can learn the clock offset.
//!
//! Every request has a deadline (`AbortSignal.timeout`): a connection that is accepted and never
//! answered — a proxy black-holing it, a half-open TCP connection after a laptop wakes — fails with
//! `request_timeout` instead of holding its callers (and the refresh they share) forever. The
//! deadline covers the whole exchange, the body included.

use hallpass_protocol::wire::js::FromJs;
use hallpass_protocol::{ErrorBody, ErrorCode, SERVER_TIME_HEADER};
use js_sys::{Array, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

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

#[wasm_bindgen(module = "/src/platform/http.js")]
extern "C" {
    fn exchange(
        method: &str,
        url: &str,
        body: Option<&JsValue>,
        bearer: Option<&str>,
        timeout_ms: u32,
        server_time_header: &str,
    ) -> Promise;
}

/// Sends one request and reads its answer, all within `timeout_ms`. `body` is stringified with
/// `JSON.stringify`; `bearer` becomes `Authorization: Bearer …`. Non-2xx answers become a classified
/// [`Error`]; no answer in time is `request_timeout`, and an offline browser sends nothing
/// (`offline`).
pub async fn call(
    method: &str,
    url: &str,
    body: Option<&JsValue>,
    bearer: Option<&str>,
    clock: &dyn Clock,
    timeout_ms: u32,
) -> Result<Answer, Failure> {
    let sent_at = clock.now_ms();
    let outcome = JsFuture::from(exchange(method, url, body, bearer, timeout_ms, SERVER_TIME_HEADER)).await;
    settle(outcome, sent_at, clock.now_ms())
}

/// Reads the outcome of an `exchange` (http.js) — its resolved `[status, body, serverTime,
/// retryAfter]` or its rejection — sent at `sent_at` and settled at `received_at` (device clock).
/// [`call`] uses it, and so do the organization calls the JS facade sends through `exchange`
/// itself (`src/client/organizations.rs`).
pub fn settle(outcome: Result<JsValue, JsValue>, sent_at: i64, received_at: i64) -> Result<Answer, Failure> {
    let fail = |error: Error, server_time: Option<i64>| Failure { error, server_time, sent_at, received_at };
    let answer = match outcome {
        Ok(answer) => Array::from(&answer),
        Err(reason) => {
            return Err(fail(
                match reason.as_f64() {
                    Some(2.0) => Error::offline(),
                    Some(1.0) => Error::timeout(),
                    _ => Error::network(),
                },
                None,
            ));
        }
    };
    // A status outside u16 (none is) reads as 0, which is not a success.
    let status = answer.get(0).as_f64().map_or(0, |s| s as u16);
    let parsed = answer.get(1);
    let server_time = answer.get(2).as_string().and_then(|v| parse_server_time(&v));
    if (200..300).contains(&status) {
        if parsed.is_undefined() {
            let error =
                Error::new(ErrorCode::InvalidResponse, "the server's answer is not JSON").with_status(status);
            return Err(fail(error, server_time));
        }
        return Ok(Answer { status, body: parsed, server_time, sent_at, received_at });
    }
    let error_body = ErrorBody::from_js(&parsed);
    let error = classify(status, error_body.as_ref(), answer.get(3).as_string().as_deref());
    Err(fail(error, server_time))
}
