//! Keyed rate limits (per client IP, per account) with GCRA — a token bucket kept as one timestamp
//! per key. Runs on the injected clock, so tests need no sleeping.
//!
//! In-process state: with several replicas each enforces its own share. Memory is bounded: past
//! [`MAX_KEYS`] keys, idle entries are dropped.

use std::collections::HashMap;
use std::sync::Mutex;

/// The most keys one limiter tracks before pruning idle ones.
pub const MAX_KEYS: usize = 100_000;

/// `per_minute` requests per key per minute, with bursts of up to `per_minute`. Zero disables it.
#[derive(Debug)]
pub struct RateLimiter {
    interval_ms: i64,
    tolerance_ms: i64,
    enabled: bool,
    tats: Mutex<HashMap<String, i64>>,
}

impl RateLimiter {
    pub fn per_minute(per_minute: u32) -> Self {
        let n = i64::from(per_minute.max(1));
        let interval_ms = 60_000 / n;
        RateLimiter {
            interval_ms,
            tolerance_ms: interval_ms * (n - 1),
            enabled: per_minute > 0,
            tats: Mutex::new(HashMap::new()),
        }
    }

    pub fn disabled() -> Self {
        let mut l = RateLimiter::per_minute(0);
        l.enabled = false;
        l
    }

    /// Counts one request for `key`. `Err(secs)` when over the limit: retry after `secs` seconds.
    pub fn check(&self, key: &str, now_ms: i64) -> Result<(), u64> {
        if !self.enabled {
            return Ok(());
        }
        // A poisoned lock only means another request panicked mid-update; the map is still usable.
        let mut tats = self.tats.lock().unwrap_or_else(|p| p.into_inner());
        if tats.len() >= MAX_KEYS {
            tats.retain(|_, tat| *tat > now_ms);
        }
        let tat = tats.get(key).copied().unwrap_or(now_ms).max(now_ms);
        let allow_at = tat - self.tolerance_ms;
        if now_ms < allow_at {
            let wait_ms = allow_at - now_ms;
            return Err(u64::try_from((wait_ms + 999) / 1000).unwrap_or(1).max(1));
        }
        tats.insert(key.to_owned(), tat + self.interval_ms);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allows_a_burst_then_refuses_with_a_retry_after_then_recovers() {
        let l = RateLimiter::per_minute(3);
        let t = 1_000_000;
        assert!(l.check("ip", t).is_ok());
        assert!(l.check("ip", t).is_ok());
        assert!(l.check("ip", t).is_ok());
        let wait = l.check("ip", t).unwrap_err();
        assert_eq!(wait, 20);
        assert!(l.check("other", t).is_ok(), "keys are independent");
        assert!(l.check("ip", t + 20_000).is_ok());
    }

    #[test]
    fn disabled_never_refuses() {
        let l = RateLimiter::disabled();
        for _ in 0..1000 {
            assert!(l.check("k", 0).is_ok());
        }
        let zero = RateLimiter::per_minute(0);
        assert!((0..100).all(|_| zero.check("k", 0).is_ok()));
    }
}
