//! Hallpass: authentication for browser apps, in Rust compiled to WebAssembly.
//!
//! Module map (dependencies point one way: `protocol ← core ← platform ← client ← js`):
//! - `core`: pure logic — auth state, token cache, refresh schedule, claims, backoff, errors.
//!   No web-sys; unit-tested natively with a fake clock.
//! - `platform` (wasm32 only): the browser — storage, HTTP, timers.
//! - `client` (wasm32 only): the Rust API, `client::Hallpass`.
//! - `js` (wasm32 only): the JavaScript facade (`Hallpass` class, TypeScript declarations).

#[cfg(target_arch = "wasm32")]
pub mod client;
pub mod core;
#[cfg(target_arch = "wasm32")]
mod js;
#[cfg(target_arch = "wasm32")]
pub mod platform;
