//! The browser: everything that touches web-sys, js-sys or gloo lives here and only here.
//!
//! - [`storage`]: `localStorage` / `sessionStorage` / memory, probed before use, falling back to
//!   memory whenever the browser's storage is missing or throws.

pub mod storage;
