//! Retry timing for failed refreshes: capped exponential backoff with full jitter, `Retry-After`, and a
//! circuit breaker.
//!
//! - **Full jitter** (a uniformly random delay in `[0, min(cap, base * 2^(n-1))]` after the `n`th
//!   consecutive failure) spreads the retries of many tabs and many users that failed together, so a
//!   recovering server is not hit by a synchronised wave. The randomness comes from an injected
//!   [`Rng`], deterministic in tests. Integer maths only.
//! - **`Retry-After`** is a floor: no retry, automatic or explicit, happens before it has passed.
//! - **Circuit breaker**: after [`BackoffPolicy::breaker_after`] consecutive failures the automatic
//!   retries stop ([`Decision::Wait`]) until something outside says it is worth trying again — the
//!   `online` or `visibilitychange` event, or an explicit `getToken()` — which calls
//!   [`Backoff::reset`]. A failing server then costs a handful of requests per trigger, not a stream.
//!
//! Times are device-clock milliseconds: only differences matter here.

use super::error::Error;

/// A source of random 32-bit numbers.
pub trait Rng {
    fn next_u32(&mut self) -> u32;
}

/// xorshift32 (Marsaglia): tiny and good enough for spreading retries (not for secrets). The platform
/// seeds it from `crypto.getRandomValues` or the clock.
#[derive(Clone, Debug)]
pub struct XorShift32(u32);

impl XorShift32 {
    /// A generator from `seed`; zero (a fixed point of xorshift) is replaced by a constant.
    pub const fn new(seed: u32) -> Self {
        XorShift32(if seed == 0 { 0x9e37_79b9 } else { seed })
    }
}

impl Rng for XorShift32 {
    fn next_u32(&mut self) -> u32 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.0 = x;
        x
    }
}

/// The knobs of [`Backoff`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct BackoffPolicy {
    /// Ceiling of the first retry's delay.
    pub base_ms: u32,
    /// Largest ceiling.
    pub cap_ms: u32,
    /// Consecutive failures after which automatic retries stop until [`Backoff::reset`].
    pub breaker_after: u32,
}

impl Default for BackoffPolicy {
    fn default() -> Self {
        BackoffPolicy { base_ms: 1_000, cap_ms: 60_000, breaker_after: 5 }
    }
}

impl BackoffPolicy {
    pub const fn with_base_ms(mut self, ms: u32) -> Self {
        self.base_ms = ms;
        self
    }

    pub const fn with_cap_ms(mut self, ms: u32) -> Self {
        self.cap_ms = ms;
        self
    }

    pub const fn with_breaker_after(mut self, failures: u32) -> Self {
        self.breaker_after = failures;
        self
    }
}

/// What to do after a failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Retry automatically after this many milliseconds.
    RetryIn(u32),
    /// No automatic retry: wait for an outside trigger (`online`, `visibilitychange`, `getToken()`).
    /// Returned when the breaker is open, when offline, and for errors a retry cannot fix.
    Wait,
}

/// Backoff state for one kind of request (the platform keeps one per session's refresh).
#[derive(Clone, Debug)]
pub struct Backoff {
    policy: BackoffPolicy,
    failures: u32,
    /// Device time before which no retry may happen (`Retry-After`).
    not_before_ms: Option<i64>,
}

/// Longest delay handed to a timer: `setTimeout` treats more than `i32::MAX` ms as zero.
const MAX_TIMER_MS: u64 = i32::MAX as u64;

impl Backoff {
    pub const fn new(policy: BackoffPolicy) -> Self {
        Backoff { policy, failures: 0, not_before_ms: None }
    }

    /// Consecutive failures so far.
    pub const fn failures(&self) -> u32 {
        self.failures
    }

    /// True when the breaker has stopped automatic retries.
    pub const fn is_open(&self) -> bool {
        self.failures >= self.policy.breaker_after
    }

    /// A success: everything starts afresh.
    pub fn on_success(&mut self) {
        self.failures = 0;
        self.not_before_ms = None;
    }

    /// An outside trigger (`online`, `visibilitychange`, explicit `getToken()`): closes the breaker so
    /// that automatic retries may start again. A pending `Retry-After` still holds.
    pub fn reset(&mut self) {
        self.failures = 0;
    }

    /// Milliseconds until a request may be sent at device time `now_ms` (0 = now). An explicit
    /// `getToken()` that meets a non-zero wait fails fast with `rate_limited` instead of sending.
    pub fn wait_ms(&self, now_ms: i64) -> u32 {
        match self.not_before_ms {
            Some(t) => clamp_to_timer(t.saturating_sub(now_ms)),
            None => 0,
        }
    }

    /// Records a failure at device time `now_ms` and decides about the next automatic attempt.
    pub fn on_failure(&mut self, error: &Error, now_ms: i64, rng: &mut dyn Rng) -> Decision {
        self.failures = self.failures.saturating_add(1);
        let retry_after_ms = error.retry_after.map(|s| u64::from(s) * 1000);
        if let Some(ms) = retry_after_ms {
            let until = now_ms.saturating_add(i64::try_from(ms).unwrap_or(i64::MAX));
            self.not_before_ms = Some(self.not_before_ms.map_or(until, |t| t.max(until)));
        }
        if !error.is_retryable() || self.is_open() {
            return Decision::Wait;
        }
        let exp = self.failures.saturating_sub(1).min(31);
        let ceiling = (u64::from(self.policy.base_ms) << exp).min(u64::from(self.policy.cap_ms));
        let jittered = u64::from(rng.next_u32()) % (ceiling + 1);
        let floor = u64::from(self.wait_ms(now_ms));
        Decision::RetryIn(jittered.max(floor).min(MAX_TIMER_MS) as u32)
    }
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff::new(BackoffPolicy::default())
    }
}

fn clamp_to_timer(ms: i64) -> u32 {
    ms.clamp(0, MAX_TIMER_MS as i64) as u32
}

#[cfg(test)]
mod tests {
    use hallpass_protocol::ErrorCode;

    use super::*;

    /// Always returns the same number.
    struct Fixed(u32);
    impl Rng for Fixed {
        fn next_u32(&mut self) -> u32 {
            self.0
        }
    }

    fn delays(b: &mut Backoff, err: &Error, rng: &mut dyn Rng, n: usize) -> Vec<Decision> {
        (0..n).map(|_| b.on_failure(err, 0, rng)).collect()
    }

    #[test]
    fn ceiling_doubles_up_to_the_cap() {
        let mut b = Backoff::new(BackoffPolicy::default().with_breaker_after(100));
        let mut rng = Fixed(u32::MAX);
        let got = delays(&mut b, &Error::network(), &mut rng, 8);
        let ceilings = [1_000u32, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000];
        for (d, c) in got.iter().zip(ceilings) {
            let Decision::RetryIn(ms) = *d else { panic!("expected retry, got {d:?}") };
            assert!(ms <= c, "{ms} > {c}");
        }
        assert_eq!(got[7], Decision::RetryIn(u32::MAX % 60_001));
    }

    #[test]
    fn full_jitter_covers_the_range_and_is_deterministic() {
        let run = |seed| {
            let mut b = Backoff::new(BackoffPolicy::default().with_breaker_after(1000));
            let mut rng = XorShift32::new(seed);
            delays(&mut b, &Error::network(), &mut rng, 200)
        };
        assert_eq!(run(7), run(7));
        assert_ne!(run(7), run(8));
        let all: Vec<u32> = run(7)
            .into_iter()
            .map(|d| match d {
                Decision::RetryIn(ms) => ms,
                Decision::Wait => panic!("unexpected wait"),
            })
            .collect();
        assert!(all[10..].iter().all(|&ms| ms <= 60_000));
        assert!(all[10..].iter().any(|&ms| ms < 15_000), "low end reached");
        assert!(all[10..].iter().any(|&ms| ms > 45_000), "high end reached");
    }

    #[test]
    fn retry_after_is_a_floor_for_automatic_and_explicit_retries() {
        let mut b = Backoff::default();
        let mut rng = Fixed(0); // jitter would say "retry at once"
        let err = Error::new(ErrorCode::RateLimited, "slow down").with_status(429).with_retry_after(Some(30));
        assert_eq!(b.on_failure(&err, 1_000, &mut rng), Decision::RetryIn(30_000));
        assert_eq!(b.wait_ms(1_000), 30_000);
        assert_eq!(b.wait_ms(21_000), 10_000);
        // Even after an outside trigger resets the breaker.
        b.reset();
        assert_eq!(b.wait_ms(21_000), 10_000);
        assert_eq!(b.wait_ms(31_000), 0);
        // A later, shorter Retry-After does not shorten an earlier, longer one.
        let short = err.clone().with_retry_after(Some(1));
        assert_eq!(b.on_failure(&short, 2_000, &mut rng), Decision::RetryIn(29_000));
        b.on_success();
        assert_eq!(b.wait_ms(2_000), 0);
        // Enormous values saturate instead of overflowing.
        let huge = err.with_retry_after(Some(u32::MAX));
        assert_eq!(b.on_failure(&huge, 0, &mut rng), Decision::RetryIn(i32::MAX as u32));
        assert_eq!(b.wait_ms(i64::MIN), i32::MAX as u32);
    }

    #[test]
    fn breaker_opens_after_n_failures_and_an_outside_trigger_closes_it() {
        let mut b = Backoff::new(BackoffPolicy::default().with_breaker_after(3));
        let mut rng = XorShift32::new(1);
        let err = Error::network();
        assert!(matches!(b.on_failure(&err, 0, &mut rng), Decision::RetryIn(_)));
        assert!(matches!(b.on_failure(&err, 0, &mut rng), Decision::RetryIn(_)));
        assert_eq!(b.on_failure(&err, 0, &mut rng), Decision::Wait);
        assert!(b.is_open());
        assert_eq!(b.on_failure(&err, 0, &mut rng), Decision::Wait, "stays open");
        b.reset();
        assert!(!b.is_open());
        assert_eq!(b.failures(), 0);
        assert!(matches!(b.on_failure(&err, 0, &mut rng), Decision::RetryIn(ms) if ms <= 1_000));
    }

    #[test]
    fn non_retryable_errors_wait() {
        let mut b = Backoff::default();
        let mut rng = XorShift32::new(1);
        assert_eq!(b.on_failure(&Error::offline(), 0, &mut rng), Decision::Wait);
        let revoked = Error::new(ErrorCode::SessionRevoked, "revoked").with_status(401);
        assert_eq!(b.on_failure(&revoked, 0, &mut rng), Decision::Wait);
        let server = Error::new(ErrorCode::InternalError, "boom").with_status(500);
        assert!(matches!(b.on_failure(&server, 0, &mut rng), Decision::RetryIn(_)));
    }

    #[test]
    fn xorshift_never_sticks_at_zero() {
        let mut r = XorShift32::new(0);
        assert!((0..1000).all(|_| r.next_u32() != 0));
    }
}
