//! The instance's signing keys at run time: which keys are published, which one signs, how every
//! replica learns of a rotation without a restart, and signing as a bounded resource.
//!
//! # Rotation, as every replica sees it
//!
//! `hallpass-server keys rotate` ([`crate::key_rotation`]) stores a new key whose `active_from` is
//! `now + delay`, while the replicas run:
//! - **Published before it signs.** Every replica reloads the keys from the database every
//!   [`POLL_INTERVAL`] and publishes every key that is not retired, so the new key is in every
//!   replica's JWKS within [`POLL_INTERVAL`] of the command, and the delay is at least
//!   [`MIN_DELAY_SECS`].
//! - **Switches after the delay.** Each replica signs with the latest key whose `active_from` has come,
//!   by its own clock ([`KeySet::active`]).
//! - **Signs only under a lease.** A key's `signed_until` is a promise stored with it: no token it
//!   signed expires later. Before signing a token that would outlive it, a replica extends it to the
//!   token's `exp` plus [`LEASE_AHEAD_MS`] (one `UPDATE`: for 60 s session tokens, one write per
//!   replica every five minutes). The database refuses once a newer key signs or the key is retired,
//!   and the replica then reloads and signs with the newer key — so even a replica that missed its
//!   polls stops using an old key at its next lease. Template tokens signed by the instance key lease
//!   their own, longer, `exp` the same way.
//! - **Retired once nothing it signed can be valid.** Housekeeping retires a key that a newer one
//!   replaced once its lease ended more than [`RETIRE_SKEW_MS`] ago (the clock skew verifiers allow,
//!   and replicas' clocks may differ by); it leaves every JWKS at the next reload and its private key
//!   is erased.
//!
//! # Signing is a bounded resource
//!
//! An RS256 signature is about a millisecond of CPU. [`Keyring::sign`] and [`Keyring::blocking`] run
//! it on the blocking pool, at most one per core at once: a burst of refreshes queues there instead of
//! stalling the async workers that accept connections and commit rotations.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use serde::Serialize;
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;

use crate::at_rest::{SealError, Sealer, unseal};
use crate::housekeeping::Stop;
use crate::jwt::{KeyEntry, KeyError, KeySet, SigningKey, VerifyError};
use crate::secret::{b64url, b64url_decode};
use crate::state::AppState;
use crate::store::{Store, StoreError, StoredSigningKey};

/// How often every replica reloads the keys from the database.
pub const POLL_INTERVAL: Duration = Duration::from_secs(5);

/// The shortest delay between adding a key and its first signature: two polls, so that every
/// replica publishes it first.
pub const MIN_DELAY_SECS: u64 = 2 * POLL_INTERVAL.as_secs();

/// How far past a token's `exp` a lease is extended (fewer writes; a later retirement).
pub const LEASE_AHEAD_MS: i64 = 5 * 60 * 1000;

/// How long after its lease a replaced key is retired: the largest `allowed_clock_skew` a JWT
/// template may give verifiers, and room for replicas' clocks to disagree.
pub const RETIRE_SKEW_MS: i64 = 5 * 60 * 1000;

/// Why keys could not be loaded or used.
#[derive(Debug, thiserror::Error)]
pub enum KeyringError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error(transparent)]
    Sealed(#[from] SealError),
    #[error("stored signing key `{0}` is corrupt")]
    Corrupt(String),
    #[error("no signing key is stored")]
    Empty,
    #[error("no signing key may sign now (its lease was refused after a reload)")]
    NoLease,
    #[error("the signing task failed: {0}")]
    Task(String),
}

/// The associated data a signing key is sealed under (see `crate::at_rest`).
pub fn seal_label(kid: &str) -> String {
    format!("signing_keys:{kid}")
}

/// The keys, reloaded from the database; the leases known to be stored; the signing slots.
pub struct Keyring {
    store: Store,
    sealer: Option<Sealer>,
    set: RwLock<Arc<KeySet>>,
    /// kid → `signed_until` known to be committed.
    leases: Mutex<HashMap<String, i64>>,
    /// One lease extension at a time: a burst of requests past the lease writes it once.
    leasing: tokio::sync::Mutex<()>,
    slots: Semaphore,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keyring").field("set", &self.current()).finish_non_exhaustive()
    }
}

impl Keyring {
    /// Loads the stored keys, first creating the instance's first key on an empty database (of the
    /// processes starting on it at once, one key is kept and all of them load it). Keys stored in the
    /// clear are sealed when `sealer` is given. Keys stored before leases existed get one covering
    /// `longest_lifetime_ms` from `now`: whatever they signed before this start.
    pub async fn open(
        store: Store,
        sealer: Option<Sealer>,
        now: i64,
        longest_lifetime_ms: i64,
    ) -> Result<Keyring, KeyringError> {
        if store.signing_keys().await?.is_empty() {
            let (key, der) = tokio::task::spawn_blocking(SigningKey::generate)
                .await
                .map_err(|e| KeyringError::Task(e.to_string()))??;
            let material = match &sealer {
                Some(s) => s.seal(&seal_label(key.kid()), &b64url(&der))?,
                None => b64url(&der),
            };
            store.insert_first_signing_key(key.kid(), &material, now).await?;
        }
        store.lease_unleased_signing_keys(now.saturating_add(longest_lifetime_ms)).await?;
        let stored = store.signing_keys().await?;
        let mut entries = Vec::with_capacity(stored.len());
        let mut leases = HashMap::new();
        for row in &stored {
            let (key, needs_sealing) = parse(row, sealer.as_ref())?;
            if let (true, Some(s)) = (needs_sealing, &sealer) {
                // In the clear, the stored value is the key's base64url DER itself.
                let sealed = s.seal(&seal_label(&row.kid), &row.private_key)?;
                store.set_signing_key_material(&row.kid, &sealed).await?;
                tracing::info!(kid = %row.kid, "signing key sealed at rest with HALLPASS_KEY_ENCRYPTION_KEY");
            }
            leases.insert(row.kid.clone(), row.signed_until.unwrap_or(0));
            entries.push(KeyEntry { key: Arc::new(key), active_from: row.active_from });
        }
        let set = KeySet::new(entries).ok_or(KeyringError::Empty)?;
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
        Ok(Keyring {
            store,
            sealer,
            set: RwLock::new(Arc::new(set)),
            leases: Mutex::new(leases),
            leasing: tokio::sync::Mutex::new(()),
            slots: Semaphore::new(cores),
        })
    }

    /// Reads the keys from the database again: new keys are parsed (the others kept as they are),
    /// retired ones dropped, leases updated. What every replica does every [`POLL_INTERVAL`].
    pub async fn reload(&self) -> Result<(), KeyringError> {
        let stored = self.store.signing_keys().await?;
        let previous = self.current();
        let mut entries = Vec::with_capacity(stored.len());
        for row in &stored {
            let known = previous.entries().iter().find(|e| e.key.kid() == row.kid);
            let key = match known {
                Some(e) => e.key.clone(),
                None => Arc::new(parse(row, self.sealer.as_ref())?.0),
            };
            entries.push(KeyEntry { key, active_from: row.active_from });
        }
        let set = KeySet::new(entries).ok_or(KeyringError::Empty)?;
        {
            let mut leases = self.leases.lock().unwrap_or_else(|p| p.into_inner());
            leases.retain(|kid, _| stored.iter().any(|r| &r.kid == kid));
            for row in &stored {
                let lease = leases.entry(row.kid.clone()).or_insert(0);
                *lease = (*lease).max(row.signed_until.unwrap_or(0));
            }
        }
        let changed = {
            let kids = |s: &KeySet| {
                s.entries().iter().map(|e| (e.key.kid().to_owned(), e.active_from)).collect::<Vec<_>>()
            };
            kids(&previous) != kids(&set)
        };
        if changed {
            let published: Vec<&str> = set.entries().iter().map(|e| e.key.kid()).collect();
            tracing::info!(?published, "signing keys reloaded");
        }
        *self.set.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(set);
        Ok(())
    }

    /// The keys as last loaded.
    pub fn current(&self) -> Arc<KeySet> {
        self.set.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The JWKS document: every key that is not retired.
    pub fn jwks(&self) -> serde_json::Value {
        self.current().jwks()
    }

    /// Verifies a session token against every published key (see [`KeySet::verify`]).
    pub fn verify(
        &self,
        token: &str,
        now_ms: i64,
        issuer: &str,
    ) -> Result<hallpass_protocol::SessionClaims, VerifyError> {
        self.current().verify(token, now_ms, issuer)
    }

    /// The key that signs at `now_ms`, without a lease (benchmarks, reports).
    pub fn signing_key(&self, now_ms: i64) -> Arc<SigningKey> {
        self.current().active(now_ms).key.clone()
    }

    fn lease_of(&self, kid: &str) -> i64 {
        self.leases.lock().unwrap_or_else(|p| p.into_inner()).get(kid).copied().unwrap_or(0)
    }

    /// The key that signs at `now_ms`, leased until at least `exp_ms` (see the module doc): a write
    /// only when its lease is shorter; after a refusal, a reload and the key that signs now.
    pub async fn lease(&self, now_ms: i64, exp_ms: i64) -> Result<Arc<SigningKey>, KeyringError> {
        for _ in 0..3 {
            let key = self.signing_key(now_ms);
            if self.lease_of(key.kid()) >= exp_ms {
                return Ok(key);
            }
            let turn = self.leasing.lock().await;
            if self.lease_of(key.kid()) >= exp_ms {
                return Ok(key);
            }
            let until = exp_ms.saturating_add(LEASE_AHEAD_MS);
            match self.store.lease_signing_key(key.kid(), until, now_ms).await? {
                Some(stored) => {
                    let mut leases = self.leases.lock().unwrap_or_else(|p| p.into_inner());
                    let lease = leases.entry(key.kid().to_owned()).or_insert(0);
                    *lease = (*lease).max(stored);
                    return Ok(key);
                }
                None => {
                    drop(turn);
                    tracing::info!(kid = %key.kid(), "signing key replaced or retired: reloading the keys");
                    self.reload().await?;
                }
            }
        }
        Err(KeyringError::NoLease)
    }

    /// Signs `claims` as a compact JWS with the key that signs at `now_ms`, leased past `exp_ms`, on
    /// a signing slot.
    pub async fn sign<C: Serialize + Send + 'static>(
        &self,
        claims: C,
        now_ms: i64,
        exp_ms: i64,
    ) -> Result<String, KeyringError> {
        let key = self.lease(now_ms, exp_ms).await?;
        Ok(self.blocking(move || key.mint(&claims)).await??)
    }

    /// Runs CPU-bound signing work `f` on the blocking pool, at most one per core at once.
    pub async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, KeyringError> {
        let _slot = self.slots.acquire().await.map_err(|e| KeyringError::Task(e.to_string()))?;
        tokio::task::spawn_blocking(f).await.map_err(|e| KeyringError::Task(e.to_string()))
    }
}

/// A stored key parsed (and unsealed); `true` when it is in the clear and a sealer is configured.
fn parse(row: &StoredSigningKey, sealer: Option<&Sealer>) -> Result<(SigningKey, bool), KeyringError> {
    let (der_b64, needs_sealing) = unseal(sealer, &seal_label(&row.kid), &row.private_key)?;
    let der = b64url_decode(&der_b64).ok_or_else(|| KeyringError::Corrupt(row.kid.clone()))?;
    let key = SigningKey::from_pkcs8(&der)?;
    if key.kid() != row.kid {
        return Err(KeyringError::Corrupt(row.kid.clone()));
    }
    Ok((key, needs_sealing))
}

/// Reloads `state`'s keys every [`POLL_INTERVAL`] until stopped (a failed reload keeps the keys it
/// had and is logged).
pub fn spawn_poller(state: AppState, mut stop: Stop) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            if stop.sleep(POLL_INTERVAL).await {
                return;
            }
            if let Err(e) = state.keys.reload().await {
                tracing::warn!("reloading the signing keys: {e}");
            }
        }
    })
}
