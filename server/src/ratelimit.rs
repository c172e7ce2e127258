//! Rate limits and sign-in lockout.
//!
//! Budgets are GCRA (a token bucket kept as one "theoretical arrival time" per key), on the injected
//! clock so tests need no sleeping. A unit may be taken when `tat - tolerance <= now` and taking it
//! moves `tat` to `max(tat, now) + interval` ([`gcra`]), where `interval = window / burst` and
//! `tolerance = interval × (burst - 1)`. Where the counters live is behind [`Counters`]:
//! - [`DatabaseCounters`] on PostgreSQL: one row per key in the shared database, so the replicas on
//!   it spend one budget together. Taking a unit is one upsert (one round trip, no transaction; see
//!   `store::rate_limits`), a refusal one more read; housekeeping deletes the rows whose budget is
//!   full again.
//! - [`MemoryCounters`] on SQLite, whose database serves one process: the same rule in a map. In the
//!   database every Frontend API request would take SQLite's one write lock, queueing behind (and
//!   holding up) every sign-in and refresh; `cargo xtask bench` measures both, side by side.
//!
//! The policy ([`Limits`]):
//! - every Frontend API request counts against its client address (`requests_per_ip`), and every
//!   sign-up and sign-in attempt against `auth_per_ip` — flood control, before any hashing;
//! - sign-in **failures only** count towards lockout, keyed by (account, address): after
//!   `failures_per_account_and_ip` of them, that address is refused for that account until the
//!   budget refills. A correct password from another address is never refused because of them;
//! - a looser per-account budget of failures from all addresses together: once spent (a distributed
//!   guessing attack), any address that has failed for the account even once is refused, so each
//!   attacking address gets one guess per refill instead of a full budget, while an address without
//!   failures — the owner's, typically — still gets its answer. The trade-off: people behind one
//!   shared address (NAT, one IPv6 /64) share its budget.
//! - a successful sign-in clears its (account, address) failures;
//! - every code or link sent by email counts against the address it goes to
//!   (`email_sends_per_address`) and the client that asked (`email_sends_per_ip`), both over 15
//!   minutes, whether or not the address has an account (the answer must not tell them apart).

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;

use crate::store::{Engine, Store};

/// The most keys [`MemoryCounters`] tracks before pruning idle ones.
pub const MAX_KEYS: usize = 100_000;

/// Lockout budgets refill over this window.
pub const LOCKOUT_WINDOW_MS: i64 = 15 * 60 * 1000;

/// A budget: `burst` units, refilled evenly over `window_ms`. A burst of 0 disables it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rate {
    pub burst: u32,
    pub window_ms: i64,
}

impl Rate {
    pub fn per_minute(n: u32) -> Rate {
        Rate { burst: n, window_ms: 60_000 }
    }

    /// Milliseconds between two units.
    fn interval_ms(self) -> i64 {
        self.window_ms / i64::from(self.burst.max(1))
    }

    /// How far ahead of now the arrival time may run.
    fn tolerance_ms(self) -> i64 {
        self.interval_ms() * (i64::from(self.burst.max(1)) - 1)
    }
}

/// `Err(ms)`: refused, a unit is available again in `ms` milliseconds.
pub type Decision = Result<(), i64>;

/// A counter store failed (a database-backed one can; the memory one cannot).
#[derive(Debug, thiserror::Error)]
#[error("rate-limit counters failed: {0}")]
pub struct CounterError(pub String);

/// What a [`Counters`] call returns.
pub type CounterFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, CounterError>> + Send + 'a>>;

/// Where budgets are kept. Keys are opaque strings; a rate is passed with every call, so one store
/// serves every limit.
pub trait Counters: Send + Sync + 'static {
    /// Takes one unit of `key`'s budget if there is one.
    fn take<'a>(&'a self, key: &'a str, rate: Rate, now_ms: i64) -> CounterFuture<'a, Decision>;
    /// Whether a unit is available, without taking it.
    fn peek<'a>(&'a self, key: &'a str, rate: Rate, now_ms: i64) -> CounterFuture<'a, Decision>;
    /// Refills `key`'s budget completely.
    fn reset<'a>(&'a self, key: &'a str) -> CounterFuture<'a, ()>;
}

/// The GCRA rule: with the key's stored arrival time (`None`: a full budget), `Ok(new tat)` if a
/// unit may be taken at `now_ms`, or `Err(ms)` until one may. `store::rate_limits` spells the same
/// rule in SQL.
pub fn gcra(stored_tat: Option<i64>, rate: Rate, now_ms: i64) -> Result<i64, i64> {
    let tat = stored_tat.unwrap_or(now_ms).max(now_ms);
    let allow_at = tat - rate.tolerance_ms();
    if now_ms < allow_at { Err(allow_at - now_ms) } else { Ok(tat + rate.interval_ms()) }
}

/// Counters in this process's memory. Bounded: past [`MAX_KEYS`] keys, idle ones are dropped.
#[derive(Debug, Default)]
pub struct MemoryCounters {
    tats: Mutex<HashMap<String, i64>>,
}

impl MemoryCounters {
    fn decide(&self, key: &str, rate: Rate, now_ms: i64, take: bool) -> Decision {
        // A poisoned lock only means another request panicked mid-update; the map is still usable.
        let mut tats = self.tats.lock().unwrap_or_else(|p| p.into_inner());
        let next = gcra(tats.get(key).copied(), rate, now_ms)?;
        if take {
            if tats.len() >= MAX_KEYS {
                tats.retain(|_, t| *t > now_ms);
            }
            tats.insert(key.to_owned(), next);
        }
        Ok(())
    }
}

impl Counters for MemoryCounters {
    fn take<'a>(&'a self, key: &'a str, rate: Rate, now_ms: i64) -> CounterFuture<'a, Decision> {
        let d = self.decide(key, rate, now_ms, true);
        Box::pin(async move { Ok(d) })
    }

    fn peek<'a>(&'a self, key: &'a str, rate: Rate, now_ms: i64) -> CounterFuture<'a, Decision> {
        let d = self.decide(key, rate, now_ms, false);
        Box::pin(async move { Ok(d) })
    }

    fn reset<'a>(&'a self, key: &'a str) -> CounterFuture<'a, ()> {
        self.tats.lock().unwrap_or_else(|p| p.into_inner()).remove(key);
        Box::pin(async { Ok(()) })
    }
}

/// Counters in the database every replica shares (see the module doc and `store::rate_limits`).
#[derive(Debug)]
pub struct DatabaseCounters(pub Store);

fn db_error(e: crate::store::StoreError) -> CounterError {
    CounterError(e.to_string())
}

impl Counters for DatabaseCounters {
    fn take<'a>(&'a self, key: &'a str, rate: Rate, now_ms: i64) -> CounterFuture<'a, Decision> {
        Box::pin(async move {
            self.0
                .rate_limit_take(key, now_ms, rate.interval_ms(), rate.tolerance_ms())
                .await
                .map_err(db_error)
        })
    }

    fn peek<'a>(&'a self, key: &'a str, rate: Rate, now_ms: i64) -> CounterFuture<'a, Decision> {
        Box::pin(async move {
            let tat = self.0.rate_limit_peek(key).await.map_err(db_error)?;
            Ok(gcra(tat, rate, now_ms).map(|_| ()))
        })
    }

    fn reset<'a>(&'a self, key: &'a str) -> CounterFuture<'a, ()> {
        Box::pin(async move { self.0.rate_limit_reset(key).await.map_err(db_error) })
    }
}

/// The counters for a server on `store`: in the database on PostgreSQL (replicas share them), in
/// memory on SQLite (one process; see the module doc).
pub fn counters_for(store: &Store) -> Box<dyn Counters> {
    match store.engine() {
        Engine::Postgres => Box::new(DatabaseCounters(store.clone())),
        Engine::Sqlite => Box::<MemoryCounters>::default(),
    }
}

/// Why a sign-in was refused before its password was checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lockout {
    /// This address failed too often for this account.
    AccountAndAddress { retry_after_ms: i64 },
    /// The account is under a distributed attack and this address has failed for it.
    Account { retry_after_ms: i64 },
}

impl Lockout {
    pub fn retry_after_ms(self) -> i64 {
        match self {
            Lockout::AccountAndAddress { retry_after_ms } | Lockout::Account { retry_after_ms } => {
                retry_after_ms
            }
        }
    }

    /// For the security log.
    pub fn scope(self) -> &'static str {
        match self {
            Lockout::AccountAndAddress { .. } => "account_and_address",
            Lockout::Account { .. } => "account",
        }
    }
}

/// The server's limits (see the module doc).
pub struct Limits {
    counters: Box<dyn Counters>,
    enabled: bool,
    pub requests_per_ip: Rate,
    pub auth_per_ip: Rate,
    pub failures_per_account_and_ip: Rate,
    pub failures_per_account: Rate,
    /// Codes and links sent to one address.
    pub email_sends_per_address: Rate,
    /// Codes and links requested from one client address.
    pub email_sends_per_ip: Rate,
}

impl std::fmt::Debug for Limits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Limits")
            .field("enabled", &self.enabled)
            .field("requests_per_ip", &self.requests_per_ip)
            .field("auth_per_ip", &self.auth_per_ip)
            .field("failures_per_account_and_ip", &self.failures_per_account_and_ip)
            .field("failures_per_account", &self.failures_per_account)
            .field("email_sends_per_address", &self.email_sends_per_address)
            .field("email_sends_per_ip", &self.email_sends_per_ip)
            .finish_non_exhaustive()
    }
}

impl Limits {
    /// Limits from the configuration, kept in `counters`.
    pub fn new(config: &crate::Config, counters: Box<dyn Counters>) -> Limits {
        let lockout = |n: u32| Rate { burst: n, window_ms: LOCKOUT_WINDOW_MS };
        Limits {
            counters,
            enabled: !config.disable_rate_limits,
            requests_per_ip: Rate::per_minute(config.rate_limit_requests_per_ip),
            auth_per_ip: Rate::per_minute(config.rate_limit_auth_per_ip),
            failures_per_account_and_ip: lockout(config.sign_in_failures_per_account_and_ip),
            failures_per_account: lockout(config.sign_in_failures_per_account),
            email_sends_per_address: lockout(config.email_sends_per_address),
            email_sends_per_ip: lockout(config.email_sends_per_ip),
        }
    }

    async fn take(&self, key: &str, rate: Rate, now_ms: i64) -> Result<Decision, CounterError> {
        if !self.enabled || rate.burst == 0 {
            return Ok(Ok(()));
        }
        self.counters.take(key, rate, now_ms).await
    }

    async fn peek(&self, key: &str, rate: Rate, now_ms: i64) -> Result<Decision, CounterError> {
        if !self.enabled || rate.burst == 0 {
            return Ok(Ok(()));
        }
        self.counters.peek(key, rate, now_ms).await
    }

    /// One Frontend API request from `addr` (a [`crate::client_addr::ClientAddr::limit_key`]).
    pub async fn request(&self, addr: &str, now_ms: i64) -> Result<Decision, CounterError> {
        self.take(&format!("req|{addr}"), self.requests_per_ip, now_ms).await
    }

    /// One sign-up or sign-in attempt from `addr`.
    pub async fn auth_attempt(&self, addr: &str, now_ms: i64) -> Result<Decision, CounterError> {
        self.take(&format!("auth|{addr}"), self.auth_per_ip, now_ms).await
    }

    /// One code or link to `email` requested from `addr`: the address's budget is checked first
    /// (and taken only if the client's is not spent), so one client cannot use up someone else's
    /// address for nothing. `Err(ms)` names which limit refused in the `&str`.
    pub async fn email_send(
        &self,
        email: &str,
        addr: &str,
        now_ms: i64,
    ) -> Result<Result<(), (&'static str, i64)>, CounterError> {
        let ip_key = format!("mail|ip|{addr}");
        let to_key = format!("mail|to|{email}");
        if let Err(ms) = self.peek(&ip_key, self.email_sends_per_ip, now_ms).await? {
            return Ok(Err(("email_per_ip", ms)));
        }
        if let Err(ms) = self.take(&to_key, self.email_sends_per_address, now_ms).await? {
            return Ok(Err(("email_per_address", ms)));
        }
        self.take(&ip_key, self.email_sends_per_ip, now_ms).await?.ok();
        Ok(Ok(()))
    }

    /// Whether `addr` may try a password for `account` now.
    pub async fn sign_in_allowed(
        &self,
        account: &str,
        addr: &str,
        now_ms: i64,
    ) -> Result<Result<(), Lockout>, CounterError> {
        let pair = pair_key(account, addr);
        if let Err(ms) = self.peek(&pair, self.failures_per_account_and_ip, now_ms).await? {
            return Ok(Err(Lockout::AccountAndAddress { retry_after_ms: ms }));
        }
        if let Err(ms) = self.peek(&account_key(account), self.failures_per_account, now_ms).await? {
            // Under attack: only addresses with no failure for this account still get an answer. A
            // budget of one unit is available exactly when no failure is outstanding.
            let clean = Rate { burst: 1, ..self.failures_per_account_and_ip };
            if let Err(own) = self.peek(&pair, clean, now_ms).await? {
                return Ok(Err(Lockout::Account { retry_after_ms: own.min(ms) }));
            }
        }
        Ok(Ok(()))
    }

    /// A wrong password for `account` from `addr` (unknown accounts count too: the answer must not
    /// tell them apart).
    pub async fn sign_in_failed(&self, account: &str, addr: &str, now_ms: i64) -> Result<(), CounterError> {
        self.take(&pair_key(account, addr), self.failures_per_account_and_ip, now_ms).await?.ok();
        self.take(&account_key(account), self.failures_per_account, now_ms).await?.ok();
        Ok(())
    }

    /// A correct password: the address's failures for the account are forgotten.
    pub async fn sign_in_succeeded(&self, account: &str, addr: &str) -> Result<(), CounterError> {
        if self.enabled {
            self.counters.reset(&pair_key(account, addr)).await?;
        }
        Ok(())
    }
}

fn pair_key(account: &str, addr: &str) -> String {
    format!("fail|{addr}|{account}")
}

fn account_key(account: &str) -> String {
    format!("fail|*|{account}")
}

/// Whole seconds to wait, at least 1.
pub fn retry_after_secs(ms: i64) -> u64 {
    u64::try_from((ms + 999) / 1000).unwrap_or(1).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block_on<T>(f: impl Future<Output = T>) -> T {
        tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
    }

    #[test]
    fn allows_a_burst_then_refuses_with_a_retry_after_then_recovers() {
        let c = MemoryCounters::default();
        let rate = Rate::per_minute(3);
        let t = 1_000_000;
        block_on(async {
            for _ in 0..3 {
                assert!(c.take("ip", rate, t).await.unwrap().is_ok());
            }
            let wait = c.take("ip", rate, t).await.unwrap().unwrap_err();
            assert_eq!(retry_after_secs(wait), 20);
            assert!(c.peek("ip", rate, t).await.unwrap().is_err(), "peek agrees and takes nothing");
            assert!(c.take("other", rate, t).await.unwrap().is_ok(), "keys are independent");
            assert!(c.take("ip", rate, t + 20_000).await.unwrap().is_ok());
            c.reset("ip").await.unwrap();
            assert!(c.peek("ip", Rate { burst: 1, window_ms: 60_000 }, t + 20_000).await.unwrap().is_ok());
        });
    }

    fn limits(edit: impl FnOnce(&mut crate::Config)) -> Limits {
        let mut config = crate::Config::defaults();
        edit(&mut config);
        Limits::new(&config, Box::<MemoryCounters>::default())
    }

    #[test]
    fn failures_lock_one_address_out_of_one_account_and_nothing_else() {
        let l = limits(|c| c.sign_in_failures_per_account_and_ip = 3);
        let t = 5_000_000;
        block_on(async {
            for _ in 0..3 {
                assert_eq!(l.sign_in_allowed("ada", "1.1.1.1", t).await.unwrap(), Ok(()));
                l.sign_in_failed("ada", "1.1.1.1", t).await.unwrap();
            }
            let locked = l.sign_in_allowed("ada", "1.1.1.1", t).await.unwrap().unwrap_err();
            assert_eq!(locked.scope(), "account_and_address");
            assert_eq!(retry_after_secs(locked.retry_after_ms()), 300, "one failure refills per 5 min");
            // Another address for the same account, and the same address for another account: fine.
            assert_eq!(l.sign_in_allowed("ada", "2.2.2.2", t).await.unwrap(), Ok(()));
            assert_eq!(l.sign_in_allowed("bob", "1.1.1.1", t).await.unwrap(), Ok(()));
            // The budget refills with time; a success forgets the rest.
            assert_eq!(l.sign_in_allowed("ada", "1.1.1.1", t + 300_000).await.unwrap(), Ok(()));
            l.sign_in_succeeded("ada", "1.1.1.1").await.unwrap();
            for _ in 0..3 {
                l.sign_in_failed("ada", "1.1.1.1", t + 300_000).await.unwrap();
            }
            assert!(l.sign_in_allowed("ada", "1.1.1.1", t + 300_000).await.unwrap().is_err());
        });
    }

    #[test]
    fn a_distributed_attack_gives_each_address_one_guess_and_clean_addresses_their_answer() {
        let l = limits(|c| {
            c.sign_in_failures_per_account_and_ip = 5;
            c.sign_in_failures_per_account = 10;
        });
        let t = 9_000_000;
        block_on(async {
            // Ten addresses fail once each: the account's budget is spent.
            for i in 0..10 {
                let addr = format!("10.0.0.{i}");
                assert_eq!(l.sign_in_allowed("ada", &addr, t).await.unwrap(), Ok(()));
                l.sign_in_failed("ada", &addr, t).await.unwrap();
            }
            // Every one of them is now refused (one guess each), a fresh one still gets its try,
            // and so does the owner's address, however long the attack goes on.
            let refused = l.sign_in_allowed("ada", "10.0.0.3", t).await.unwrap().unwrap_err();
            assert_eq!(refused.scope(), "account");
            assert_eq!(l.sign_in_allowed("ada", "10.0.0.99", t).await.unwrap(), Ok(()));
            for step in 0..100 {
                let now = t + step * 6_000;
                let attacker = format!("10.1.{}.{}", step / 250, step % 250);
                if l.sign_in_allowed("ada", &attacker, now).await.unwrap().is_ok() {
                    l.sign_in_failed("ada", &attacker, now).await.unwrap();
                }
                assert_eq!(l.sign_in_allowed("ada", "192.0.2.7", now).await.unwrap(), Ok(()), "step {step}");
            }
        });
    }

    #[test]
    fn disabled_never_refuses() {
        let l = limits(|c| {
            c.disable_rate_limits = true;
            c.rate_limit_requests_per_ip = 1;
            c.sign_in_failures_per_account_and_ip = 1;
        });
        block_on(async {
            for _ in 0..100 {
                assert!(l.request("k", 0).await.unwrap().is_ok());
                l.sign_in_failed("a", "k", 0).await.unwrap();
                assert!(l.sign_in_allowed("a", "k", 0).await.unwrap().is_ok());
            }
        });
    }
}
