//! The browser: everything that touches web-sys or js-sys lives here and only here.
//!
//! - [`storage`]: `localStorage` / `sessionStorage` / memory, probed before use, falling back to
//!   memory whenever the browser's storage is missing or throws.
//! - [`http`]: calls to the Frontend API (`fetch` in `http.js`, with a deadline), with clock samples.
//! - [`clock`]: `Date.now()` as the core's `Clock`.
//! - [`timer`]: `setTimeout` released on drop; [`events`]: DOM listeners removed on drop.
//! - [`tabs`]: the channel between the tabs of an origin, and the Web Lock that elects the refresher.
//!
//! Protocol types go to and from the browser's parsed JSON through the readers and writers that
//! `#[derive(Wire)]` generates in `hallpass-protocol` (`hallpass_protocol::wire`).

pub mod clock;
pub mod events;
pub mod http;
pub mod storage;
pub mod tabs;
pub mod timer;
