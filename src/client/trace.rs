//! The `debug` option's refresh trace: which tab refreshed, why, and what came of it.

use std::borrow::Cow;

use super::{Hallpass, Inner};

/// One refresh, as the `debug` option records it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceEntry {
    /// The tab that did it (random per instance).
    pub tab: String,
    /// What asked: `load`, `get_token`, `timer`, `retry`, `visibilitychange`, `focus`, `pageshow`,
    /// `online`, `user_update`.
    pub reason: &'static str,
    /// Device time it started.
    pub at: i64,
    /// `network` (this tab asked the server), `other_tab` (another tab's token arrived meanwhile), or
    /// the error code.
    pub outcome: Cow<'static, str>,
}

impl Hallpass {
    /// The refreshes recorded with the `debug` option, oldest first, at most the last 1000 (empty
    /// without it).
    pub fn refresh_trace(&self) -> Vec<TraceEntry> {
        self.inner.trace.as_ref().map(|(_, t)| t.borrow().clone()).unwrap_or_default()
    }
}

impl Inner {
    pub(super) fn record(&self, reason: &'static str, at: i64, outcome: Cow<'static, str>) {
        if let Some((tab, trace)) = &self.trace {
            let mut trace = trace.borrow_mut();
            // A debugging aid, not a log: bounded by starting over.
            if trace.len() >= 1000 {
                trace.clear();
            }
            trace.push(TraceEntry { tab: tab.clone(), reason, at, outcome });
        }
    }
}

/// A short random id for this tab, for traces.
pub(super) fn tab_id(random: u32) -> String {
    let mut id = String::from("tab-");
    let mut n = random;
    for _ in 0..6 {
        let d = (n % 36) as u8;
        id.push(char::from(if d < 10 { b'0' + d } else { b'a' + d - 10 }));
        n /= 36;
    }
    id
}
