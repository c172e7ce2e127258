//! Helpers shared by the browser suites: the server's address (compiled in by `cargo xtask test`),
//! the test proxy's control endpoints, unique accounts, sleeping, and recording console warnings.

#![allow(dead_code)]

use js_sys::{Array, Function, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// The Frontend API as the SDK sees it: the counting, fault-injecting proxy in front of the server.
pub fn api() -> &'static str {
    match option_env!("HALLPASS_TEST_FRONTEND_API") {
        Some(url) => url,
        None => {
            panic!("HALLPASS_TEST_FRONTEND_API is not set: run the browser suites with `cargo xtask test`")
        }
    }
}

/// The server without the proxy.
pub fn server() -> &'static str {
    match option_env!("HALLPASS_TEST_SERVER") {
        Some(url) => url,
        None => panic!("HALLPASS_TEST_SERVER is not set: run the browser suites with `cargo xtask test`"),
    }
}

pub fn js(body: &str) -> JsValue {
    Function::new_no_args(body).call0(&JsValue::NULL).unwrap()
}

async fn request(method: &str, url: &str) -> JsValue {
    let init = web_sys::RequestInit::new();
    init.set_method(method);
    let window = web_sys::window().unwrap();
    let response: web_sys::Response =
        JsFuture::from(window.fetch_with_str_and_init(url, &init)).await.unwrap().dyn_into().unwrap();
    assert!(response.ok(), "{method} {url} answered {}", response.status());
    JsFuture::from(response.json().unwrap()).await.unwrap()
}

/// Sends a control command to the test proxy (`reset`, `fault?…`, `revoke?session=…`).
pub async fn control(command: &str) -> JsValue {
    let path = command.split('?').next().unwrap();
    let method = if path == "counts" { "GET" } else { "POST" };
    request(method, &format!("{}/__control/{command}", api())).await
}

/// Calls the server's Backend API (through the proxy, which holds the secret key): `(status, body)`.
pub async fn backend(method: &str, path: &str, body: &str) -> (u16, JsValue) {
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_body(&JsValue::from_str(body));
    let headers = web_sys::Headers::new().unwrap();
    headers.set("content-type", "application/json").unwrap();
    init.set_headers(&headers);
    let url = format!("{}/__control/backend?method={method}&path={path}", api());
    let window = web_sys::window().unwrap();
    let response: web_sys::Response =
        JsFuture::from(window.fetch_with_str_and_init(&url, &init)).await.unwrap().dyn_into().unwrap();
    let json = JsFuture::from(response.json().unwrap()).await.unwrap_or(JsValue::NULL);
    (response.status(), json)
}

/// The claims of a JWT, decoded without any check (for assertions).
pub fn jwt_claims(jwt: &str) -> JsValue {
    let payload = jwt.split('.').nth(1).unwrap().replace('-', "+").replace('_', "/");
    let padded = format!("{payload}{}", "=".repeat((4 - payload.len() % 4) % 4));
    let json = web_sys::window().unwrap().atob(&padded).unwrap();
    js_sys::JSON::parse(&json).unwrap()
}

/// Requests the proxy has passed for `method_and_path` (e.g. `"POST /v1/client/refresh"`) since the
/// last reset.
pub async fn count(method_and_path: &str) -> u32 {
    let counts = control("counts").await;
    Reflect::get(&counts, &method_and_path.into()).unwrap().as_f64().unwrap_or(0.0) as u32
}

pub async fn refreshes() -> u32 {
    count("POST /v1/client/refresh").await
}

/// An email address no other test uses.
pub fn unique_email(tag: &str) -> String {
    let n = js_sys::Math::random().to_bits() % 1_000_000_000;
    format!("{tag}-{}-{n}@example.com", js_sys::Date::now() as u64)
}

pub const PASSWORD: &str = "correct horse battery staple";

pub async fn sleep(ms: i32) {
    let promise = Promise::new(&mut |resolve, _| {
        web_sys::window()
            .unwrap()
            .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms)
            .unwrap();
    });
    JsFuture::from(promise).await.unwrap();
}

/// Replaces `console.warn` with a recorder; returns the array the warnings go to.
pub fn record_warnings() -> Array {
    js("globalThis.__warnings = []; globalThis.__origWarn ??= console.warn; \
        console.warn = (...a) => globalThis.__warnings.push(a.map(String).join(' ')); \
        return globalThis.__warnings;")
    .unchecked_into()
}

pub fn restore_warnings() {
    js("if (globalThis.__origWarn) console.warn = globalThis.__origWarn; return null;");
}

pub fn local() -> web_sys::Storage {
    web_sys::window().unwrap().local_storage().unwrap().unwrap()
}

pub fn session_storage() -> web_sys::Storage {
    web_sys::window().unwrap().session_storage().unwrap().unwrap()
}

/// Keys in `storage` that Hallpass wrote.
pub fn hallpass_keys(storage: &web_sys::Storage) -> Vec<String> {
    (0..storage.length().unwrap())
        .filter_map(|i| storage.key(i).unwrap())
        .filter(|k| k.starts_with("hallpass:"))
        .collect()
}
