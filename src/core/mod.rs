//! The SDK's pure core: everything that decides, nothing that does I/O.
//!
//! No web-sys or js-sys here, and no clock of its own: the platform layer (`crate::platform`)
//! feeds in device times, server answers and browser events, and carries out what the core decides.
//! Everything here is unit-tested natively (`cargo test -p hallpass --lib`) with a [`clock::FakeClock`].
//!
//! Module map:
//! - [`error`]: the SDK's one [`Error`](error::Error) type and the HTTP-answer classifier (which
//!   answers sign the user out).
//! - [`clock`]: the device [`Clock`](clock::Clock) trait, [`FakeClock`](clock::FakeClock), and the
//!   learnt [`ServerClock`](clock::ServerClock) offset.
//! - [`token_cache`]: tokens per session + template + organization; newer never overwritten by older.
//! - [`schedule`]: when to refresh proactively, and the timer delay for it.
//! - [`backoff`]: exponential backoff with full jitter, `Retry-After`, circuit breaker.
//! - [`single_flight`]: concurrent callers share one in-flight request; an epoch drops late results.
//! - [`routes`]: the organization routes the SDK sends (method, protocol path, kind of answer).
//! - [`state`]: `AuthState`, the persisted `StoredSession`, and the `SessionStore` reducer.

pub mod backoff;
pub mod clock;
pub mod error;
pub mod routes;
pub mod schedule;
pub mod single_flight;
pub mod state;
pub mod token_cache;

#[cfg(test)]
mod test_util;
