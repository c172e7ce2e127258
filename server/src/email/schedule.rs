//! When a failed send is tried again: after 5 s, 30 s, 2 min, 10 min, 30 min and 1 h (seven tries over
//! about two hours), each delay moved by up to 10 % at random so that a mail server coming back is not
//! met by every retry at once. A permanent refusal (an SMTP 5xx: no such mailbox, relaying denied) is
//! not retried. Codes and links stop working after 10 minutes, so the later tries matter for
//! invitations, and for the operator, who sees the failure either way.

/// The delay before each retry, after the attempt of the same index failed.
pub const RETRY_DELAYS_SECS: [i64; 6] = [5, 30, 120, 600, 1800, 3600];

/// Tries before an email is given up.
pub const MAX_ATTEMPTS: u32 = RETRY_DELAYS_SECS.len() as u32 + 1;

/// When to try again after the `attempts`-th try (counting from 1) failed at `now`; `None`: give up.
/// `unit` is a random number in `[0, 1)`.
pub fn next_attempt_at(now: i64, attempts: u32, unit: f64) -> Option<i64> {
    let index = usize::try_from(attempts.checked_sub(1)?).ok()?;
    let delay_ms = RETRY_DELAYS_SECS.get(index)? * 1000;
    let factor = 1.0 + 0.1 * (2.0 * unit.clamp(0.0, 1.0) - 1.0);
    Some(now + (delay_ms as f64 * factor).round() as i64)
}

/// The largest delay after the `attempts`-th failure (tests move the clock by this much).
pub fn max_delay_ms(attempts: u32) -> i64 {
    let index = attempts.saturating_sub(1) as usize;
    RETRY_DELAYS_SECS.get(index).map_or(0, |s| (*s as f64 * 1100.0).ceil() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seven_tries_then_give_up_with_bounded_jitter() {
        assert_eq!(MAX_ATTEMPTS, 7);
        let mut at = 0;
        for (i, secs) in RETRY_DELAYS_SECS.iter().enumerate() {
            let next = next_attempt_at(at, i as u32 + 1, 0.5).unwrap();
            assert_eq!(next - at, secs * 1000);
            at = next;
        }
        assert_eq!(next_attempt_at(at, MAX_ATTEMPTS, 0.5), None);
        assert_eq!(next_attempt_at(at, 0, 0.5), None);
        for unit in [0.0, 0.999, -1.0, 5.0] {
            let d = next_attempt_at(0, 2, unit).unwrap();
            assert!((27_000..=33_000).contains(&d) && d <= max_delay_ms(2), "{d}");
        }
    }
}
