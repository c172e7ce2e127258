//! Hallpass: authentication for browser apps, in Rust compiled to WebAssembly.
//!
//! Module map (dependencies point one way: `protocol ← core ← platform ← client ← js`):
//! - `core`: pure logic — auth state, token cache, refresh schedule, claims, backoff, errors.
//!   No web-sys; unit-tested natively with a fake clock.
//! - `platform` (wasm32 only): the browser — storage, HTTP, timers.
//! - `client` (wasm32 only): the Rust API, `client::Hallpass`.
//! - `js` (wasm32 only): the JavaScript facade (`Hallpass` class, TypeScript declarations).
//! - `yew` (wasm32, feature `yew`): `<HallpassProvider>` and the hooks `use_user()`, `use_auth()`,
//!   `use_session()`.

#[cfg(target_arch = "wasm32")]
pub mod client;
pub mod core;
#[cfg(target_arch = "wasm32")]
mod js;
#[cfg(target_arch = "wasm32")]
pub mod platform;
#[cfg(all(target_arch = "wasm32", feature = "yew"))]
pub mod yew;

/// The npm package's allocator: a free list instead of dlmalloc, ~3 KiB less wasm. Sound because the
/// package is built without wasm threads (no `atomics` target feature), so there is one thread.
#[cfg(all(target_arch = "wasm32", feature = "small-alloc"))]
#[global_allocator]
static ALLOCATOR: lol_alloc::AssumeSingleThreaded<lol_alloc::FreeListAllocator> =
    // SAFETY: single-threaded wasm (see above).
    unsafe { lol_alloc::AssumeSingleThreaded::new(lol_alloc::FreeListAllocator::new()) };
