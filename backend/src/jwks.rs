//! The instance's public keys, from its JWKS document, behind a cache with the same rules as
//! `hallpass/server`'s:
//! - keys are reused for [`JwksOptions::max_age`] (5 min) after a successful fetch, then fetched again;
//! - a `kid` the cache does not know fetches at once (a key rotated in), but such fetches happen at
//!   most once per [`JwksOptions::cooldown`] (5 s), so tokens naming made-up `kid`s cannot make the
//!   app hammer the server;
//! - concurrent verifications share one fetch;
//! - a fetch that fails keeps the keys already cached: they go on verifying (stale-if-error) until a
//!   fetch succeeds, and stale keys are retried at most once per cooldown;
//! - every fetch has a deadline ([`JwksOptions::timeout`], 5 s) and a size limit.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use jsonwebtoken::DecodingKey;
use jsonwebtoken::jwk::JwkSet;

use crate::error::{Error, Result};
use crate::http::{Http, read_limited};

/// A JWKS document larger than this is refused (ours is about 500 bytes a key).
const MAX_JWKS_BYTES: usize = 256 * 1024;

/// The cache's timings.
#[derive(Clone, Copy, Debug)]
pub struct JwksOptions {
    /// How long fetched keys are used before the document is fetched again.
    pub max_age: Duration,
    /// The least time between two fetches caused by unknown `kid`s, and between two attempts to
    /// refresh keys past their max age.
    pub cooldown: Duration,
    /// How long a fetch may take.
    pub timeout: Duration,
}

impl Default for JwksOptions {
    fn default() -> Self {
        JwksOptions {
            max_age: Duration::from_secs(300),
            cooldown: Duration::from_secs(5),
            timeout: Duration::from_secs(5),
        }
    }
}

#[derive(Default)]
struct CacheState {
    keys: HashMap<String, DecodingKey>,
    fetched_at: Option<Instant>,
    attempted_at: Option<Instant>,
    /// When a `kid` the cache did not know last made it fetch.
    missed_at: Option<Instant>,
    /// Why the last fetch failed (`None` after a success).
    failure: Option<String>,
    /// Counts fetch attempts: a caller that waited for another's fetch does not fetch again.
    generation: u64,
}

/// The keys of a JWKS URL, cached.
pub(crate) struct RemoteJwks {
    url: String,
    http: Http,
    options: JwksOptions,
    state: Mutex<CacheState>,
    fetching: tokio::sync::Mutex<()>,
}

impl RemoteJwks {
    pub(crate) fn new(url: String, http: Http, options: JwksOptions) -> RemoteJwks {
        RemoteJwks { url, http, options, state: Mutex::default(), fetching: tokio::sync::Mutex::new(()) }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, CacheState> {
        // A panic elsewhere while holding the lock leaves plain data behind: still usable.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The key to verify a token whose header names `kid` with.
    pub(crate) async fn key(&self, kid: &str) -> Result<DecodingKey> {
        let generation = {
            let s = self.state();
            let fresh = s.fetched_at.is_some_and(|t| t.elapsed() < self.options.max_age);
            if let (Some(key), true) = (s.keys.get(kid), fresh) {
                return Ok(key.clone());
            }
            s.generation
        };
        {
            let _single_flight = self.fetching.lock().await;
            let due = {
                let mut s = self.state();
                let known = s.keys.contains_key(kid);
                let last = if known { s.attempted_at } else { s.missed_at };
                let due =
                    s.generation == generation && last.is_none_or(|t| t.elapsed() >= self.options.cooldown);
                if due && !known && !s.keys.is_empty() {
                    s.missed_at = Some(Instant::now());
                }
                due
            };
            if due {
                self.state().attempted_at = Some(Instant::now());
                let fetched = self.fetch().await;
                let mut s = self.state();
                s.generation = s.generation.wrapping_add(1);
                match fetched {
                    Ok(keys) => {
                        s.keys = keys;
                        s.fetched_at = Some(Instant::now());
                        s.failure = None;
                    }
                    Err(why) => s.failure = Some(why),
                }
            }
        }
        let s = self.state();
        if let Some(key) = s.keys.get(kid) {
            return Ok(key.clone());
        }
        match &s.failure {
            Some(why) => Err(Error::JwksUnavailable(format!("{}: {why}", self.url))),
            None => Err(Error::KidMismatch(kid.to_owned())),
        }
    }

    /// The document's keys by `kid`; a description of the failure otherwise.
    async fn fetch(&self) -> std::result::Result<HashMap<String, DecodingKey>, String> {
        let request = self.http.client().get(&self.url).header(http::header::ACCEPT, "application/json");
        let response = match tokio::time::timeout(self.options.timeout, request.send()).await {
            Err(_) => return Err(format!("no answer within {} ms", self.options.timeout.as_millis())),
            Ok(Err(e)) => return Err(crate::http::describe(&e)),
            Ok(Ok(response)) => response,
        };
        if response.status() != http::StatusCode::OK {
            return Err(format!("HTTP {}", response.status().as_u16()));
        }
        let body = tokio::time::timeout(self.options.timeout, read_limited(response, MAX_JWKS_BYTES))
            .await
            .map_err(|_| format!("no whole answer within {} ms", self.options.timeout.as_millis()))??;
        let jwks: JwkSet = serde_json::from_slice(&body).map_err(|e| format!("not a JWKS document: {e}"))?;
        let keys = keys_by_kid(&jwks);
        if keys.is_empty() { Err("the document has no usable keys".into()) } else { Ok(keys) }
    }
}

/// The RSA keys of a JWKS that have a `kid`, by `kid` (others are skipped).
pub(crate) fn keys_by_kid(jwks: &JwkSet) -> HashMap<String, DecodingKey> {
    jwks.keys
        .iter()
        .filter_map(|jwk| {
            let kid = jwk.common.key_id.clone()?;
            DecodingKey::from_jwk(jwk).ok().map(|key| (kid, key))
        })
        .collect()
}
