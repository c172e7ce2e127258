//! When a failed delivery is tried again: Svix's schedule — at once, then after 5 s, 5 min, 30 min,
//! 2 h, 5 h, 10 h and 10 h (eight attempts over about 28 hours) — each delay stretched or shrunk by up
//! to 10 % at random, so that the retries of many events failing together do not arrive together.
//! After the eighth failure the delivery is given up (`failed`; a resend queues it again).
//!
//! An endpoint whose attempts have all failed for [`DISABLE_AFTER_FAILING_MS`] is disabled, and one
//! that answers `410 Gone` at once.

/// The delay before each retry, after the attempt of the same index failed (the first attempt is
/// made as soon as the event is committed, or as soon as the endpoint's earlier events are done).
pub const RETRY_DELAYS_SECS: [i64; 7] = [5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 10 * 3600];

/// Attempts before a delivery is given up.
pub const MAX_ATTEMPTS: u32 = RETRY_DELAYS_SECS.len() as u32 + 1;

/// How far a delay may move either way, as a fraction of it.
pub const JITTER: f64 = 0.1;

/// Failing without a single success for this long (5 days, as Svix) disables an endpoint.
pub const DISABLE_AFTER_FAILING_MS: i64 = 5 * 24 * 3600 * 1000;

/// When to try again after the `attempts`-th attempt (counting from 1) failed at `now`; `None`:
/// give up. `unit` is a random number in `[0, 1)` (the jitter).
pub fn next_attempt_at(now: i64, attempts: u32, unit: f64) -> Option<i64> {
    let index = usize::try_from(attempts.checked_sub(1)?).ok()?;
    let delay_ms = RETRY_DELAYS_SECS.get(index)? * 1000;
    let factor = 1.0 + JITTER * (2.0 * unit.clamp(0.0, 1.0) - 1.0);
    Some(now + (delay_ms as f64 * factor).round() as i64)
}

/// The largest delay the schedule may pick after the `attempts`-th failure (tests move the clock by
/// this much).
pub fn max_delay_ms(attempts: u32) -> i64 {
    let index = attempts.saturating_sub(1) as usize;
    RETRY_DELAYS_SECS.get(index).map_or(0, |s| (*s as f64 * 1000.0 * (1.0 + JITTER)).ceil() as i64)
}

/// A random number in `[0, 1)` for the jitter (0.5, no jitter, if the OS cannot give one).
pub fn random_unit() -> f64 {
    crate::secret::random_bytes::<4>().map_or(0.5, |b| f64::from(u32::from_le_bytes(b)) / 4_294_967_296.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eight_attempts_at_svix_intervals_then_give_up() {
        assert_eq!(MAX_ATTEMPTS, 8);
        let mut at = 0;
        let mut total = 0;
        for (i, secs) in RETRY_DELAYS_SECS.iter().enumerate() {
            let next = next_attempt_at(at, i as u32 + 1, 0.5).unwrap();
            assert_eq!(next - at, secs * 1000);
            total += next - at;
            at = next;
        }
        assert_eq!(next_attempt_at(at, MAX_ATTEMPTS, 0.5), None);
        assert_eq!(next_attempt_at(at, 0, 0.5), None);
        assert_eq!(total, (5 + 300 + 1800 + 7200 + 18000 + 36000 + 36000) * 1000);
    }

    #[test]
    fn jitter_stays_within_ten_percent() {
        for unit in [0.0, 0.25, 0.999_999, 1.0, -3.0, 7.0] {
            let d = next_attempt_at(0, 3, unit).unwrap();
            assert!((27 * 60 * 1000..=33 * 60 * 1000).contains(&d), "{d}");
            assert!(d <= max_delay_ms(3));
        }
        assert_ne!(next_attempt_at(0, 2, 0.0), next_attempt_at(0, 2, 0.9));
        let u = random_unit();
        assert!((0.0..1.0).contains(&u));
    }
}
