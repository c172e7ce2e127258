//! The security log: one structured event per thing an operator watching for attacks needs to see,
//! all with the target `hallpass::security` and an `event` field, so they can be filtered
//! (`RUST_LOG=hallpass::security=info`) and, with `--log-format json`, shipped as JSON lines.
//!
//! | `event` | fields |
//! |---|---|
//! | `sign_in_failed` | `client_addr`, `identifier`, `user_id` (when the account exists), `reason` |
//! | `sign_in_locked_out` | `client_addr`, `identifier`, `scope` (`account_and_address` / `account`), `retry_after_secs` |
//! | `rate_limited` | `client_addr`, `limit`, `path`, `retry_after_secs` |
//! | `hashing_busy` | `client_addr`, `path` |
//! | `connections_refused` | `client_addr` (the latest), `cap`, `total` (sampled: the 1st, then every 1000th) |
//! | `refresh_token_reused` | `client_addr`, `session_id`, `user_id`, `via` (`refresh` / `sign_out`) |
//!
//! Never a secret: no password, no token, no key. The identifier is the normalised email address that
//! was tried (it names the targeted account); it is logged with `Debug` escaping, so whatever an
//! attacker types cannot forge log lines.

use crate::client_addr::ClientAddr;
use crate::ratelimit::{Lockout, retry_after_secs};

/// The `tracing` target of every event here.
pub const TARGET: &str = "hallpass::security";

pub fn sign_in_failed(addr: ClientAddr, identifier: &str, user_id: Option<&str>, reason: &'static str) {
    tracing::warn!(
        target: TARGET,
        event = "sign_in_failed",
        client_addr = %addr,
        identifier = ?identifier,
        user_id = user_id.unwrap_or(""),
        reason,
        "sign-in failed"
    );
}

pub fn sign_in_locked_out(addr: ClientAddr, identifier: &str, lockout: Lockout) {
    tracing::warn!(
        target: TARGET,
        event = "sign_in_locked_out",
        client_addr = %addr,
        identifier = ?identifier,
        scope = lockout.scope(),
        retry_after_secs = retry_after_secs(lockout.retry_after_ms()),
        "sign-in refused: too many failures"
    );
}

pub fn rate_limited(addr: ClientAddr, limit: &'static str, path: &str, retry_after_secs: u64) {
    tracing::warn!(
        target: TARGET,
        event = "rate_limited",
        client_addr = %addr,
        limit,
        path = ?path,
        retry_after_secs,
        "rate limit hit"
    );
}

pub fn hashing_busy(addr: ClientAddr, path: &str) {
    tracing::warn!(
        target: TARGET,
        event = "hashing_busy",
        client_addr = %addr,
        path = ?path,
        "password hashing at capacity: request refused"
    );
}

pub fn refresh_token_reused(addr: ClientAddr, session_id: &str, user_id: &str, via: &'static str) {
    tracing::warn!(
        target: TARGET,
        event = "refresh_token_reused",
        client_addr = %addr,
        session_id,
        user_id,
        via,
        "refresh token reused outside the grace window: session revoked"
    );
}

pub fn connections_refused(addr: std::net::IpAddr, cap: &'static str, total: u64) {
    tracing::warn!(
        target: TARGET,
        event = "connections_refused",
        client_addr = %addr,
        cap,
        total,
        "connection refused: over a connection cap"
    );
}
