//! The browser: everything that touches web-sys, js-sys or gloo lives here and only here.
//!
//! - [`storage`]: `localStorage` / `sessionStorage` / memory, probed before use, falling back to
//!   memory whenever the browser's storage is missing or throws.
//! - [`http`]: calls to the Frontend API (gloo-net, the browser's JSON), with clock samples.
//! - [`clock`]: `Date.now()` as the core's `Clock`.
//! - [`timer`]: `setTimeout` released on drop.
//! - [`wire`]: protocol types to and from the browser's parsed JSON, without serde's error path.

pub mod clock;
pub mod http;
pub mod storage;
pub mod timer;
pub mod wire;
