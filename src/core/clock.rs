//! Time: the device clock behind a trait, a fake clock for tests, and the server clock learnt from
//! responses.
//!
//! Token expiry is judged on the **server's** clock. A device clock that is wrong by an hour (or a
//! year) must change nothing, so the SDK never compares a server timestamp with `Date.now()` directly:
//! it learns `offset = server_time - device_time` from each response and works with
//! `server_now = device_now + offset`. All times are integer milliseconds since the Unix epoch.

use std::cell::Cell;
use std::rc::Rc;

/// The device's wall clock. The platform implements it with `Date.now()`.
pub trait Clock {
    /// Milliseconds since the Unix epoch, as the device believes.
    fn now_ms(&self) -> i64;
}

/// A clock that stands still until told to move. Clones share the same time, so a test can keep one
/// handle and give another to the code under test (browser tests use it to fake a shifted device
/// clock).
///
/// ```
/// use hallpass::core::clock::{Clock, FakeClock};
///
/// let clock = FakeClock::new(1_000);
/// let shared = clock.clone();
/// clock.advance(500);
/// assert_eq!(shared.now_ms(), 1_500);
/// ```
#[derive(Clone, Debug, Default)]
pub struct FakeClock(Rc<Cell<i64>>);

impl FakeClock {
    /// A clock showing `now_ms`.
    pub fn new(now_ms: i64) -> Self {
        FakeClock(Rc::new(Cell::new(now_ms)))
    }

    /// Sets the time (it may go backwards, as real device clocks do).
    pub fn set(&self, now_ms: i64) {
        self.0.set(now_ms);
    }

    /// Moves the time by `delta_ms` (negative goes back).
    pub fn advance(&self, delta_ms: i64) {
        self.0.set(self.0.get().saturating_add(delta_ms));
    }
}

impl Clock for FakeClock {
    fn now_ms(&self) -> i64 {
        self.0.get()
    }
}

/// What the SDK knows about the server's clock: the offset from the device clock.
///
/// Each response carries the server's time. The server stamped it somewhere between the moment the
/// request left and the moment the answer arrived, so one sample puts the true offset in the interval
/// `[server_time - received_at, server_time - sent_at]`; the midpoint is off by at most half the round
/// trip. [`observe`](Self::observe) adopts the new midpoint unless the current estimate lies inside the
/// new sample's interval *and* came from a shorter round trip (so a slow answer cannot degrade a
/// precise estimate). When the current estimate falls outside the interval the device clock has jumped
/// (manual change, NTP correction, sleep), and the new sample wins whatever its round trip.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ServerClock {
    offset_ms: i64,
    /// Round trip of the sample behind `offset_ms`; `None` before any sample (or when restored).
    rtt_ms: Option<i64>,
}

impl ServerClock {
    /// No knowledge yet: server time is assumed to equal device time.
    pub const fn new() -> Self {
        ServerClock { offset_ms: 0, rtt_ms: None }
    }

    /// An offset restored from storage. Its precision is unknown, so the next sample replaces it.
    pub const fn with_offset(offset_ms: i64) -> Self {
        ServerClock { offset_ms, rtt_ms: None }
    }

    /// Learns from one response: the request left at device time `sent_at_ms`, the answer arrived at
    /// `received_at_ms`, and the server said its clock read `server_time_ms`. Returns the offset now in
    /// use. Nonsense samples (a server time of zero or less) are ignored.
    pub fn observe(&mut self, sent_at_ms: i64, received_at_ms: i64, server_time_ms: i64) -> i64 {
        if server_time_ms <= 0 {
            return self.offset_ms;
        }
        // A device clock that went backwards during the request leaves no usable interval; trust the
        // arrival time alone.
        let sent = if received_at_ms < sent_at_ms { received_at_ms } else { sent_at_ms };
        let rtt = received_at_ms.saturating_sub(sent);
        let midpoint = sent.saturating_add(rtt / 2);
        let candidate = server_time_ms.saturating_sub(midpoint);
        let lo = server_time_ms.saturating_sub(received_at_ms);
        let hi = server_time_ms.saturating_sub(sent);
        let keep = match self.rtt_ms {
            Some(best) => best < rtt && (lo..=hi).contains(&self.offset_ms),
            None => false,
        };
        if !keep {
            self.offset_ms = candidate;
            self.rtt_ms = Some(rtt);
        }
        self.offset_ms
    }

    /// `server_time - device_time`, in milliseconds.
    pub const fn offset_ms(&self) -> i64 {
        self.offset_ms
    }

    /// True once a response has been observed in this page's life.
    pub const fn is_synced(&self) -> bool {
        self.rtt_ms.is_some()
    }

    /// The server's clock now.
    pub fn server_now(&self, clock: &dyn Clock) -> i64 {
        self.to_server(clock.now_ms())
    }

    /// A device instant on the server's clock.
    pub const fn to_server(&self, device_ms: i64) -> i64 {
        device_ms.saturating_add(self.offset_ms)
    }

    /// A server instant on the device's clock.
    pub const fn to_device(&self, server_ms: i64) -> i64 {
        server_ms.saturating_sub(self.offset_ms)
    }
}

/// Parses the `x-hallpass-server-time` header (integer milliseconds). `None` for anything else.
pub fn parse_server_time(value: &str) -> Option<i64> {
    let v = value.trim_ascii();
    if v.is_empty() || v.len() > 18 || !v.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // At most 18 digits cannot overflow an i64; a fold is much smaller in wasm than `str::parse`.
    Some(v.bytes().fold(0i64, |n, b| n * 10 + i64::from(b - b'0'))).filter(|&t| t > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_764_000_000_000;
    const HOUR: i64 = 3_600_000;

    #[test]
    fn fake_clock_is_shared_and_settable() {
        let c = FakeClock::new(T0);
        let other = c.clone();
        c.advance(250);
        assert_eq!(other.now_ms(), T0 + 250);
        c.set(5);
        assert_eq!(other.now_ms(), 5);
        c.advance(-10);
        assert_eq!(other.now_ms(), -5);
    }

    #[test]
    fn midpoint_of_the_round_trip() {
        let mut s = ServerClock::new();
        assert!(!s.is_synced());
        // Device says T0, request takes 400 ms, server stamped T0 + 200 on its own (correct) clock.
        assert_eq!(s.observe(T0, T0 + 400, T0 + 200), 0);
        assert!(s.is_synced());
        let clock = FakeClock::new(T0 + 1000);
        assert_eq!(s.server_now(&clock), T0 + 1000);
    }

    #[test]
    fn a_device_clock_wrong_by_an_hour_changes_nothing() {
        for skew in [HOUR, -HOUR, 365 * 24 * HOUR] {
            let device = FakeClock::new(T0 + skew);
            let mut s = ServerClock::new();
            let sent = device.now_ms();
            device.advance(300);
            s.observe(sent, device.now_ms(), T0 + 150);
            assert_eq!(s.offset_ms(), -skew);
            device.advance(60_000);
            // True server time is T0 + 60_300.
            assert_eq!(s.server_now(&device), T0 + 60_300);
            assert_eq!(s.to_device(T0 + 60_300), device.now_ms());
        }
    }

    #[test]
    fn a_slow_sample_does_not_degrade_a_precise_estimate() {
        let mut s = ServerClock::new();
        s.observe(T0, T0 + 100, T0 + 5_050); // offset 5000 ± 50
        // A 4 s round trip whose midpoint suggests 5000 - 1500, but 5000 lies inside its interval.
        s.observe(T0 + 10_000, T0 + 14_000, T0 + 10_500 + 5_000);
        assert_eq!(s.offset_ms(), 5_000);
        // A faster sample replaces it.
        s.observe(T0 + 20_000, T0 + 20_020, T0 + 25_015);
        assert_eq!(s.offset_ms(), 5_005);
    }

    #[test]
    fn a_device_clock_jump_is_followed_at_once() {
        let mut s = ServerClock::new();
        s.observe(T0, T0 + 100, T0 + 50);
        assert_eq!(s.offset_ms(), 0);
        // The user sets the device clock an hour ahead; the next answer is slow but conclusive.
        s.observe(T0 + HOUR, T0 + HOUR + 3_000, T0 + 1_500);
        assert_eq!(s.offset_ms(), -HOUR);
    }

    #[test]
    fn backwards_device_clock_and_nonsense_samples() {
        let mut s = ServerClock::new();
        s.observe(T0 + 1_000, T0, T0 + 7_000); // received before sent: use arrival only
        assert_eq!(s.offset_ms(), 7_000);
        s.observe(T0, T0 + 10, 0);
        s.observe(T0, T0 + 10, -5);
        assert_eq!(s.offset_ms(), 7_000);
        s.observe(i64::MIN, i64::MAX, i64::MAX); // no overflow panic
        let restored = ServerClock::with_offset(42);
        assert_eq!((restored.offset_ms(), restored.is_synced()), (42, false));
        assert_eq!(ServerClock::with_offset(i64::MAX).to_server(i64::MAX), i64::MAX);
    }

    #[test]
    fn server_time_header() {
        assert_eq!(parse_server_time("1764000000000"), Some(1_764_000_000_000));
        assert_eq!(parse_server_time(" 12 "), Some(12));
        for bad in ["", "0", "-5", "1.5", "abc", "99999999999999999999", "12 34"] {
            assert_eq!(parse_server_time(bad), None, "{bad}");
        }
    }
}
