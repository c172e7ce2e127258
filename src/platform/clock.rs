//! The device clock: `Date.now()`.

use crate::core::clock::Clock;

/// `Date.now()`, in whole milliseconds.
#[derive(Clone, Copy, Debug, Default)]
pub struct DeviceClock;

impl Clock for DeviceClock {
    fn now_ms(&self) -> i64 {
        js_sys::Date::now() as i64
    }
}
