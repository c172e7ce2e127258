//! When to refresh the session token proactively, so that `getToken()` finds a fresh one in the cache.
//!
//! # The rule
//!
//! With `L` the token's lifetime (`exp - iat`) and `M` the minimum remaining lifetime `getToken()`
//! demands, the refresh is due at
//!
//! ```text
//! refresh_at = max(exp - M - lead,  iat + L/2)        lead = clamp(L/6, 2 s, 30 s)
//! ```
//!
//! - `exp - M` is the instant the cached token stops being good enough for `getToken()`; refreshing
//!   `lead` earlier leaves time for the request (and a late timer) so callers never wait. `L/6` scales
//!   with short-lived tokens (10 s for the default 60 s token: a refresh every 40 s with `M` = 10 s),
//!   the clamp keeps it sensible for very short and very long ones.
//! - `iat + L/2` is a floor: a token is never refreshed before half its life, whatever `M` says. If
//!   `M` is configured close to or above `L`, this is what keeps the SDK from refreshing in a loop;
//!   `getToken()` then refreshes just in time as usual.
//!
//! Instants are on the server's clock. A timer needs a delay, which is the same on both clocks (the
//! offset cancels out); [`timer_delay_ms`] clamps it to at least [`MIN_DELAY_MS`] (an instant in the
//! past never turns into a busy loop) and at most [`MAX_DELAY_MS`] (timers in hidden tabs and sleeping
//! laptops are not trusted, so a long wait is broken into re-checks). The platform also re-checks
//! with [`needs_refresh`] on `visibilitychange`, `focus`, `pageshow` and `online`.

use super::clock::ServerClock;
use super::token_cache::CachedToken;

/// The minimum remaining lifetime `getToken()` demands unless told otherwise.
pub const DEFAULT_MIN_REMAINING_MS: i64 = 10_000;
/// Shortest timer delay.
pub const MIN_DELAY_MS: u32 = 2_000;
/// Longest timer delay before re-checking.
pub const MAX_DELAY_MS: u32 = 10 * 60_000;
const MIN_LEAD_MS: i64 = 2_000;
const MAX_LEAD_MS: i64 = 30_000;

/// The server-clock instant at which a token issued at `issued_at_ms` and expiring at `expires_at_ms`
/// should be refreshed (see the module doc). A nonsensical lifetime (`exp <= iat`) skips the floor.
///
/// ```
/// use hallpass::core::schedule::refresh_at;
///
/// // A 60 s token with a 10 s minimum is refreshed 40 s after issue.
/// assert_eq!(refresh_at(0, 60_000, 10_000), 40_000);
/// ```
pub fn refresh_at(issued_at_ms: i64, expires_at_ms: i64, min_remaining_ms: i64) -> i64 {
    let lifetime = expires_at_ms.saturating_sub(issued_at_ms);
    let lead = (lifetime / 6).clamp(MIN_LEAD_MS, MAX_LEAD_MS);
    let due = expires_at_ms.saturating_sub(min_remaining_ms.max(0)).saturating_sub(lead);
    if lifetime > 0 { due.max(issued_at_ms.saturating_add(lifetime / 2)) } else { due }
}

/// [`refresh_at`] for a cached token.
pub fn token_refresh_at(token: &CachedToken, min_remaining_ms: i64) -> i64 {
    refresh_at(token.issued_at_ms, token.expires_at_ms, min_remaining_ms)
}

/// True when the token's refresh is due at `server_now_ms`.
pub fn needs_refresh(token: &CachedToken, server_now_ms: i64, min_remaining_ms: i64) -> bool {
    server_now_ms >= token_refresh_at(token, min_remaining_ms)
}

/// The timer delay, in milliseconds, from device time `device_now_ms` until the server-clock instant
/// `refresh_at_ms`, clamped to `[MIN_DELAY_MS, MAX_DELAY_MS]`.
pub fn timer_delay_ms(refresh_at_ms: i64, server_clock: &ServerClock, device_now_ms: i64) -> u32 {
    let delay = refresh_at_ms.saturating_sub(server_clock.to_server(device_now_ms));
    // Clamped into u32 range first, so the cast cannot truncate.
    delay.clamp(i64::from(MIN_DELAY_MS), i64::from(MAX_DELAY_MS)) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: i64 = 1_764_000_000_000;

    fn tok(issued: i64, expires: i64) -> CachedToken {
        CachedToken { jwt: Default::default(), issued_at_ms: issued, expires_at_ms: expires }
    }

    #[test]
    fn default_token_is_refreshed_before_get_token_would_need_to() {
        let at = refresh_at(T, T + 60_000, DEFAULT_MIN_REMAINING_MS);
        assert_eq!(at, T + 40_000);
        // At that instant the token still satisfies getToken's minimum, with the lead to spare.
        assert!(T + 60_000 - at >= DEFAULT_MIN_REMAINING_MS + 10_000);
        assert!(!needs_refresh(&tok(T, T + 60_000), T + 39_999, DEFAULT_MIN_REMAINING_MS));
        assert!(needs_refresh(&tok(T, T + 60_000), T + 40_000, DEFAULT_MIN_REMAINING_MS));
    }

    #[test]
    fn lead_is_clamped_for_short_and_long_tokens() {
        // 6 s token, no minimum: lead 2 s, but never before half its life.
        assert_eq!(refresh_at(0, 6_000, 0), 4_000);
        assert_eq!(refresh_at(0, 12_000, 0), 10_000);
        // One hour token: lead capped at 30 s.
        assert_eq!(refresh_at(0, 3_600_000, 10_000), 3_600_000 - 40_000);
    }

    #[test]
    fn a_minimum_as_long_as_the_token_does_not_loop() {
        // M = L: without the floor the refresh would be due at issue time, forever.
        assert_eq!(refresh_at(T, T + 60_000, 60_000), T + 30_000);
        assert_eq!(refresh_at(T, T + 60_000, i64::MAX), T + 30_000);
        // Negative minimum is treated as zero.
        assert_eq!(refresh_at(0, 60_000, -5), refresh_at(0, 60_000, 0));
    }

    #[test]
    fn nonsense_lifetimes_do_not_panic() {
        assert_eq!(refresh_at(100, 100, 0), 100 - MIN_LEAD_MS);
        assert_eq!(refresh_at(100, 50, 0), 50 - MIN_LEAD_MS);
        let _ = refresh_at(i64::MIN, i64::MAX, i64::MAX);
        let _ = refresh_at(i64::MAX, i64::MIN, i64::MIN);
    }

    #[test]
    fn timer_delay_uses_the_server_clock_and_is_clamped() {
        // Device clock one hour behind the server.
        let clock = ServerClock::with_offset(3_600_000);
        let device_now = T - 3_600_000;
        assert_eq!(timer_delay_ms(T + 40_000, &clock, device_now), 40_000);
        assert_eq!(timer_delay_ms(T - 5_000, &clock, device_now), MIN_DELAY_MS, "past instant");
        assert_eq!(timer_delay_ms(T, &clock, device_now), MIN_DELAY_MS);
        assert_eq!(timer_delay_ms(T + 86_400_000, &clock, device_now), MAX_DELAY_MS);
        assert_eq!(timer_delay_ms(i64::MAX, &clock, i64::MIN), MAX_DELAY_MS);
        assert_eq!(timer_delay_ms(i64::MIN, &clock, i64::MAX), MIN_DELAY_MS);
    }
}
