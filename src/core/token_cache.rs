//! The session-token cache behind `getToken()`: one token per session + template + organization.
//!
//! Expiry is on the **server's** clock (see `clock`). The cache is written from two directions — this
//! tab's own refreshes and tokens other tabs broadcast — in any order, so [`TokenCache::insert`] keeps
//! whichever token lives longer: a newer token is never overwritten by an older one. It is small and
//! bounded: a linear scan over a handful of entries is less code (and less wasm) than a hash map.

use hallpass_protocol::Secret;

/// What a token is cached under.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TokenKey {
    pub session_id: String,
    /// A JWT template name (`getToken({ template })`), `None` for the session token itself.
    pub template: Option<String>,
    /// An organization other than the active one (`getToken({ organizationId })`).
    pub organization_id: Option<String>,
}

impl TokenKey {
    /// The key of a session's own token (no template, active organization).
    pub fn session(session_id: &str) -> Self {
        TokenKey { session_id: session_id.to_owned(), template: None, organization_id: None }
    }

    /// True for a session's own token: the one that refreshes come from and that every template
    /// token is minted with.
    pub fn is_session(&self) -> bool {
        self.template.is_none() && self.organization_id.is_none()
    }
}

/// A cached token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CachedToken {
    pub jwt: Secret,
    /// Expiry, milliseconds since the epoch on the server's clock.
    pub expires_at_ms: i64,
    /// Issue time, server clock.
    pub issued_at_ms: i64,
}

impl CachedToken {
    /// Milliseconds of validity left at `server_now_ms` (negative once expired).
    pub fn remaining_ms(&self, server_now_ms: i64) -> i64 {
        self.expires_at_ms.saturating_sub(server_now_ms)
    }

    /// True when `self` should replace `other`: it expires later, or at the same time but was issued
    /// later.
    pub fn supersedes(&self, other: &CachedToken) -> bool {
        (self.expires_at_ms, self.issued_at_ms) > (other.expires_at_ms, other.issued_at_ms)
    }
}

/// How many tokens the cache holds at most. A page uses one session and perhaps a template or two.
pub const DEFAULT_CAPACITY: usize = 16;

/// Bounded cache of session tokens.
///
/// ```
/// use hallpass::core::token_cache::{CachedToken, TokenCache, TokenKey};
///
/// let mut cache = TokenCache::new();
/// let key = TokenKey::session("sess_1");
/// cache.insert(key.clone(), CachedToken { jwt: "a.b.c".into(), expires_at_ms: 60_000, issued_at_ms: 0 });
/// assert_eq!(cache.get(&key, 45_000, 10_000), Some("a.b.c"));
/// assert_eq!(cache.get(&key, 55_000, 10_000), None); // less than 10 s left
/// ```
#[derive(Clone, Debug, Default)]
pub struct TokenCache {
    entries: Vec<(TokenKey, CachedToken)>,
}

impl TokenCache {
    pub const fn new() -> Self {
        TokenCache { entries: Vec::new() }
    }

    /// The token for `key` if it has at least `min_remaining_ms` left at `server_now_ms`.
    pub fn get(&self, key: &TokenKey, server_now_ms: i64, min_remaining_ms: i64) -> Option<&str> {
        self.entry(key).filter(|t| t.remaining_ms(server_now_ms) >= min_remaining_ms).map(|t| t.jwt.expose())
    }

    /// The cached token for `key`, however little time it has left.
    pub fn entry(&self, key: &TokenKey) -> Option<&CachedToken> {
        self.entries.iter().find(|(k, _)| k == key).map(|(_, t)| t)
    }

    /// Stores `token` unless the cache already holds one for `key` that lives at least as long.
    /// Returns true when stored. When full, the template (or organization) token that expires first
    /// makes room; a session's own token never does for another kind — a template token that finds
    /// no other kind to replace is not cached (it is still handed out).
    pub fn insert(&mut self, key: TokenKey, token: CachedToken) -> bool {
        self.put(key, token, false)
    }

    /// [`insert`](Self::insert), where with `tie_wins` a token that expires and was issued exactly
    /// when the held one was replaces it.
    pub fn put(&mut self, key: TokenKey, token: CachedToken, tie_wins: bool) -> bool {
        if let Some((_, existing)) = self.entries.iter_mut().find(|(k, _)| *k == key) {
            if token.supersedes(existing) || (tie_wins && !existing.supersedes(&token)) {
                *existing = token;
                return true;
            }
            return false;
        }
        if self.entries.len() >= DEFAULT_CAPACITY {
            let evictable = |k: &TokenKey| !k.is_session() || key.is_session();
            let oldest = self
                .entries
                .iter()
                .enumerate()
                .filter(|(_, (k, _))| evictable(k))
                .min_by_key(|(_, (_, t))| t.expires_at_ms)
                .map(|(i, _)| i);
            match oldest {
                Some(i) => drop(self.entries.swap_remove(i)),
                None => return false,
            }
        }
        self.entries.push((key, token));
        true
    }

    /// Forgets everything (sign-out).
    pub fn clear(&mut self) {
        self.entries.clear();
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tok(jwt: &str, issued: i64, expires: i64) -> CachedToken {
        CachedToken { jwt: jwt.into(), issued_at_ms: issued, expires_at_ms: expires }
    }

    fn key(sid: &str, template: Option<&str>, org: Option<&str>) -> TokenKey {
        TokenKey {
            session_id: sid.into(),
            template: template.map(Into::into),
            organization_id: org.map(Into::into),
        }
    }

    #[test]
    fn get_honours_the_minimum_remaining_lifetime() {
        let mut c = TokenCache::new();
        let k = TokenKey::session("sess_1");
        assert!(c.insert(k.clone(), tok("t1", 0, 60_000)));
        assert_eq!(c.get(&k, 0, 10_000), Some("t1"));
        assert_eq!(c.get(&k, 50_000, 10_000), Some("t1"), "exactly the minimum is enough");
        assert_eq!(c.get(&k, 50_001, 10_000), None);
        assert_eq!(c.get(&k, 59_999, 0), Some("t1"));
        assert_eq!(c.get(&k, 60_000, 0), Some("t1"));
        assert_eq!(c.get(&k, 60_001, 0), None);
        assert_eq!(c.entry(&k).map(|t| t.remaining_ms(70_000)), Some(-10_000));
    }

    #[test]
    fn keys_are_session_template_and_organization() {
        let mut c = TokenCache::new();
        c.insert(key("s", None, None), tok("plain", 0, 60_000));
        c.insert(key("s", Some("supabase"), None), tok("supa", 0, 60_000));
        c.insert(key("s", None, Some("org_2")), tok("org2", 0, 60_000));
        c.insert(key("s2", None, None), tok("other", 0, 60_000));
        assert_eq!(c.get(&key("s", None, None), 0, 0), Some("plain"));
        assert_eq!(c.get(&key("s", Some("supabase"), None), 0, 0), Some("supa"));
        assert_eq!(c.get(&key("s", None, Some("org_2")), 0, 0), Some("org2"));
        assert_eq!(c.get(&key("s", Some("supabase"), Some("org_2")), 0, 0), None);
        c.clear();
        assert!(c.is_empty());
    }

    #[test]
    fn an_older_token_never_replaces_a_newer_one() {
        let mut c = TokenCache::new();
        let k = TokenKey::session("s");
        assert!(c.insert(k.clone(), tok("new", 40_000, 100_000)));
        // A late broadcast from another tab with an older token.
        assert!(!c.insert(k.clone(), tok("old", 0, 60_000)));
        assert_eq!(c.get(&k, 0, 0), Some("new"));
        // The same token echoed back changes nothing.
        assert!(!c.insert(k.clone(), tok("new", 40_000, 100_000)));
        // Same expiry, issued later: replaces.
        assert!(c.insert(k.clone(), tok("newer", 41_000, 100_000)));
        assert!(c.insert(k.clone(), tok("newest", 0, 100_001)));
        assert_eq!(c.get(&k, 0, 0), Some("newest"));
    }

    #[test]
    fn bounded_and_evicts_the_first_to_expire() {
        let mut c = TokenCache::new();
        for i in 0..DEFAULT_CAPACITY as i64 {
            c.insert(key("s", Some(&i.to_string()), None), tok("t", 0, 100_000 + i));
        }
        assert_eq!(c.len(), DEFAULT_CAPACITY);
        c.insert(key("s", Some("extra"), None), tok("x", 0, 50));
        assert_eq!(c.len(), DEFAULT_CAPACITY);
        assert_eq!(c.get(&key("s", Some("0"), None), 0, 0), None, "earliest expiry evicted");
        assert_eq!(c.get(&key("s", Some("extra"), None), 0, 0), Some("x"));
    }

    #[test]
    fn the_session_token_is_never_evicted_for_template_tokens() {
        let mut c = TokenCache::new();
        let session = TokenKey::session("s");
        // The session token expires before every template token.
        c.insert(session.clone(), tok("session", 0, 10));
        for i in 0..(DEFAULT_CAPACITY as i64 + 5) {
            assert!(c.insert(key("s", Some(&i.to_string()), None), tok("t", 0, 100_000 + i)));
        }
        assert_eq!(c.len(), DEFAULT_CAPACITY);
        assert_eq!(c.get(&session, 0, 0), Some("session"), "still there");
        assert_eq!(c.get(&key("s", Some("0"), None), 0, 0), None, "template tokens made room instead");
        // A cache of session tokens only: a template token is not cached rather than evict one.
        let mut only = TokenCache::new();
        for i in 0..DEFAULT_CAPACITY {
            only.insert(TokenKey::session(&format!("s{i}")), tok("s", 0, 50));
        }
        assert!(!only.insert(key("s0", Some("t"), None), tok("t", 0, 100)));
        assert_eq!(only.len(), DEFAULT_CAPACITY);
        assert!(only.insert(TokenKey::session("new"), tok("n", 0, 100)), "a session token may replace one");
    }

    #[test]
    fn debug_redacts_the_token() {
        let s = format!("{:?}", tok("eyJsecret", 1, 2));
        assert!(!s.contains("eyJsecret") && s.contains("redacted"));
    }
}
