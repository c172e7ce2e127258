//! Browser suite: the storage layer against real `localStorage` and `sessionStorage` in Chromium,
//! including storage whose getter throws and storage that is full.

#![cfg(target_arch = "wasm32")]

use hallpass::platform::storage::{StorageKind, Store};
use js_sys::{Array, Function, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn local() -> web_sys::Storage {
    web_sys::window().unwrap().local_storage().unwrap().unwrap()
}

fn session() -> web_sys::Storage {
    web_sys::window().unwrap().session_storage().unwrap().unwrap()
}

fn js(body: &str) -> JsValue {
    Function::new_no_args(body).call0(&JsValue::NULL).unwrap()
}

/// Replaces `console.warn` with a recorder; returns the array the warnings go to.
fn record_warnings() -> Array {
    js("globalThis.__warnings = []; globalThis.__origWarn ??= console.warn; \
        console.warn = (...a) => globalThis.__warnings.push(a.map(String).join(' ')); \
        return globalThis.__warnings;")
    .unchecked_into()
}

fn restore_warnings() {
    js("if (globalThis.__origWarn) console.warn = globalThis.__origWarn; return null;");
}

#[wasm_bindgen_test]
fn local_storage_round_trip_uses_real_local_storage() {
    local().clear().unwrap();
    let store = Store::open(StorageKind::Local, "roundtrip");
    assert!(!store.is_memory());
    store.set("session", "{\"v\":1}");
    assert_eq!(store.get("session").as_deref(), Some("{\"v\":1}"));
    assert_eq!(local().get_item("hallpass:roundtrip:session").unwrap().as_deref(), Some("{\"v\":1}"));
    assert_eq!(session().get_item("hallpass:roundtrip:session").unwrap(), None);
    store.remove("session");
    assert_eq!(store.get("session"), None);
    assert_eq!(local().get_item("hallpass:roundtrip:session").unwrap(), None);
}

#[wasm_bindgen_test]
fn a_new_store_reads_what_an_earlier_one_wrote() {
    local().clear().unwrap();
    Store::open(StorageKind::Local, "reload").set("session", "kept");
    let after_reload = Store::open(StorageKind::Local, "reload");
    assert_eq!(after_reload.get("session").as_deref(), Some("kept"));
}

#[wasm_bindgen_test]
fn session_storage_stays_out_of_local_storage() {
    local().clear().unwrap();
    session().clear().unwrap();
    let store = Store::open(StorageKind::Session, "tab");
    assert!(!store.is_memory());
    store.set("session", "x");
    assert_eq!(session().get_item("hallpass:tab:session").unwrap().as_deref(), Some("x"));
    assert_eq!(local().length().unwrap(), 0);
}

#[wasm_bindgen_test]
fn memory_storage_writes_nothing_to_the_browser() {
    local().clear().unwrap();
    session().clear().unwrap();
    let store = Store::open(StorageKind::Memory, "mem");
    assert!(store.is_memory());
    store.set("session", "x");
    assert_eq!(store.get("session").as_deref(), Some("x"));
    assert_eq!(local().length().unwrap(), 0);
    assert_eq!(session().length().unwrap(), 0);
    assert_eq!(
        Store::open(StorageKind::Memory, "mem").get("session"),
        None,
        "memory does not survive a reload"
    );
}

#[wasm_bindgen_test]
fn clear_wipes_every_key_of_the_instance_and_nothing_else() {
    local().clear().unwrap();
    local().set_item("hallpass:wipe:from-an-earlier-page", "old").unwrap();
    local().set_item("hallpass:other:session", "theirs").unwrap();
    local().set_item("app-key", "the app's").unwrap();
    let store = Store::open(StorageKind::Local, "wipe");
    store.set("session", "x");
    store.set("tokens", "y");
    store.clear();
    assert_eq!(store.get("session"), None);
    assert_eq!(local().get_item("hallpass:wipe:from-an-earlier-page").unwrap(), None);
    assert_eq!(local().get_item("hallpass:other:session").unwrap().as_deref(), Some("theirs"));
    assert_eq!(local().get_item("app-key").unwrap().as_deref(), Some("the app's"));
}

#[wasm_bindgen_test]
fn instance_names_cannot_escape_their_namespace() {
    let a = Store::open(StorageKind::Local, "http://localhost:8787");
    let b = Store::open(StorageKind::Local, "http://localhost:8788");
    assert_ne!(a.key("session"), b.key("session"));
    assert!(a.key("session").starts_with("hallpass:http___localhost_8787:"));
}

#[wasm_bindgen_test]
fn a_throwing_storage_getter_falls_back_to_memory() {
    let warnings = record_warnings();
    // What Safari private mode and blocked third-party storage do: the getter itself throws.
    js("globalThis.__ls = Object.getOwnPropertyDescriptor(window, 'localStorage'); \
        Object.defineProperty(window, 'localStorage', { configurable: true, \
          get() { throw new DOMException('The operation is insecure.', 'SecurityError'); } }); return null;");
    let store = Store::open(StorageKind::Local, "denied");
    js("Object.defineProperty(window, 'localStorage', globalThis.__ls); return null;");
    restore_warnings();
    assert!(store.is_memory());
    store.set("session", "still works");
    assert_eq!(store.get("session").as_deref(), Some("still works"));
    assert_eq!(local().get_item("hallpass:denied:session").unwrap(), None);
    assert_eq!(warnings.length(), 1, "one warning explains the fallback");
    assert!(warnings.get(0).as_string().unwrap().contains("SecurityError"));
}

#[wasm_bindgen_test]
fn a_full_quota_falls_back_to_memory_and_loses_nothing() {
    local().clear().unwrap();
    let store = Store::open(StorageKind::Local, "quota");
    store.set("before", "written while storage worked");
    // Fill localStorage for real until the browser refuses (Chromium: about 5 M characters per origin);
    // what is left is less than one 512 K chunk, so the 600 K value below cannot fit.
    let filled: u32 = js("const chunk = 'x'.repeat(512 * 1024); let i = 0; \
        try { for (; i < 64; i++) localStorage.setItem('filler' + i, chunk); } catch (e) { return i; } \
        return -1;")
    .as_f64()
    .unwrap() as u32;
    assert!(filled < 64, "the quota was reached");
    let warnings = record_warnings();
    store.set("session", &"y".repeat(600 * 1024));
    restore_warnings();
    assert!(store.is_memory(), "a quota error switches to memory");
    assert_eq!(store.get("session").map(|s| s.len()), Some(600 * 1024));
    assert_eq!(store.get("before").as_deref(), Some("written while storage worked"));
    assert_eq!(warnings.length(), 1);
    let warning = warnings.get(0).as_string().unwrap();
    assert!(warning.contains("quota"), "{warning}");
    local().clear().unwrap();
}

#[wasm_bindgen_test]
fn corrupt_json_is_cleared_with_a_warning() {
    local().clear().unwrap();
    local().set_item("hallpass:corrupt:session", "{not json").unwrap();
    let store = Store::open(StorageKind::Local, "corrupt");
    let warnings = record_warnings();
    let value = store.get_json("session");
    restore_warnings();
    assert!(value.is_none());
    assert_eq!(local().get_item("hallpass:corrupt:session").unwrap(), None);
    assert_eq!(warnings.length(), 1);
}

#[wasm_bindgen_test]
fn json_round_trips_through_the_browser() {
    local().clear().unwrap();
    let store = Store::open(StorageKind::Local, "json");
    let value = js("return { a: 1, b: ['x', null], c: { d: true } };");
    assert!(store.set_json("session", &value));
    let back = store.get_json("session").unwrap();
    assert_eq!(Reflect::get(&back, &"a".into()).unwrap().as_f64(), Some(1.0));
    assert_eq!(
        local().get_item("hallpass:json:session").unwrap().as_deref(),
        Some(r#"{"a":1,"b":["x",null],"c":{"d":true}}"#)
    );
    // A value JSON cannot express is refused, not stored half-way.
    assert!(!store.set_json("bad", &js("const o = {}; o.self = o; return o;")));
    assert_eq!(store.get("bad"), None);
}
