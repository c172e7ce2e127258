//! [`AppState`]: everything a request needs — config, store, keys, secrets, clock, rate limiters.
//! Cheap to clone (one `Arc`).

use std::net::SocketAddr;
use std::sync::{Arc, RwLock};

use hallpass_protocol::keys::{encode_publishable_key, is_secret_key};

use crate::clock::{Clock, SystemClock};
use crate::config::Config;
use crate::jwt::{KeyError, KeySet, SigningKey};
use crate::origins::OriginList;
use crate::password::{self, HashParams};
use crate::ratelimit::RateLimiter;
use crate::refresh::SuccessorKey;
use crate::secret::{Password, SecretKey, b64url, b64url_decode, random_base62, random_bytes};
use crate::store::{Store, StoreError};

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error("HALLPASS_SECRET_KEY must start with sk_test_ or sk_live_ and be at least 32 characters")]
    BadSecretKey,
    #[error("stored instance secret `{0}` is corrupt")]
    CorruptSecret(&'static str),
    #[error("invalid configuration: {0}")]
    Config(String),
    #[error("startup task failed: {0}")]
    Task(String),
}

/// The rate limiters.
#[derive(Debug)]
pub struct Limits {
    pub auth_per_ip: RateLimiter,
    pub sign_in_per_account: RateLimiter,
    pub requests_per_ip: RateLimiter,
}

/// Shared server state.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub config: Config,
    pub store: Store,
    pub keys: KeySet,
    pub secret_key: SecretKey,
    pub successor_key: SuccessorKey,
    pub clock: Arc<dyn Clock>,
    pub hash_params: HashParams,
    pub origins: OriginList,
    pub limits: Limits,
    /// A hash of a password nobody has, verified on sign-in for unknown emails (equal timing).
    pub dummy_hash: String,
    /// JWT templates' custom signing keys, loaded once each.
    pub template_keys: crate::jwt_template::signer::KeyCache,
    public_url: RwLock<String>,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState").field("public_url", &self.public_url()).finish_non_exhaustive()
    }
}

impl AppState {
    /// Opens the database (creating it and applying migrations), then loads or creates the signing
    /// key, the secret key and the refresh-successor key.
    pub async fn new(config: Config) -> Result<AppState, StartError> {
        AppState::with_clock(config, Arc::new(SystemClock)).await
    }

    /// [`AppState::new`] with another clock (tests).
    pub async fn with_clock(config: Config, clock: Arc<dyn Clock>) -> Result<AppState, StartError> {
        let now = clock.now_ms();
        let store = Store::open(&config.database_url).await?;

        let secret_key = match &config.secret_key {
            Some(k) if is_secret_key(k.expose()) && k.expose().len() >= 32 => k.clone(),
            Some(_) => return Err(StartError::BadSecretKey),
            None => {
                let fresh =
                    format!("sk_test_{}", random_base62(40).map_err(|e| StartError::Task(e.to_string()))?);
                SecretKey::new(store.secret_or_insert("secret_key", fresh, now).await?)
            }
        };

        let fresh: [u8; 32] = random_bytes().map_err(|e| StartError::Task(e.to_string()))?;
        let stored = store.secret_or_insert("refresh_successor_key", b64url(&fresh), now).await?;
        let successor_key = b64url_decode(&stored)
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .map(SuccessorKey::new)
            .ok_or(StartError::CorruptSecret("refresh_successor_key"))?;

        let keys = load_or_create_keys(&store, now).await?;

        let hash_params = HashParams {
            memory_kib: config.argon2_memory_kib,
            iterations: config.argon2_iterations,
            parallelism: config.argon2_parallelism,
        };
        let dummy_hash = password::hash(hash_params, Password::new("hallpass dummy password, never valid"))
            .await
            .map_err(|e| StartError::Config(e.to_string()))?;

        let limit = |n: u32| {
            if config.disable_rate_limits { RateLimiter::disabled() } else { RateLimiter::per_minute(n) }
        };
        let limits = Limits {
            auth_per_ip: limit(config.rate_limit_auth_per_ip),
            sign_in_per_account: limit(config.rate_limit_sign_in_per_account),
            requests_per_ip: limit(config.rate_limit_requests_per_ip),
        };
        let public_url = config.public_url.clone().unwrap_or_else(|| format!("http://{}", config.addr));
        Ok(AppState(Arc::new(Inner {
            origins: OriginList::new(&config.allowed_origins),
            public_url: RwLock::new(public_url.trim_end_matches('/').to_owned()),
            config,
            store,
            keys,
            secret_key,
            successor_key,
            clock,
            hash_params,
            limits,
            dummy_hash,
            template_keys: Default::default(),
        })))
    }

    /// Now, in milliseconds, on the state's clock.
    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    /// The server's public URL (the tokens' `iss`, the Frontend API URL).
    pub fn public_url(&self) -> String {
        self.public_url.read().map(|u| u.clone()).unwrap_or_default()
    }

    /// Called by [`crate::run`] once bound: without a configured public URL, it is the bound address.
    pub fn set_bound_addr(&self, addr: SocketAddr) {
        if self.config.public_url.is_none()
            && let Ok(mut url) = self.public_url.write()
        {
            *url = format!("http://{addr}");
        }
    }

    /// The publishable key for this instance (`pk_live_` when the secret key is a live one).
    pub fn publishable_key(&self) -> String {
        encode_publishable_key(&self.public_url(), self.secret_key.expose().starts_with("sk_live_"))
    }

    /// The active signing key (benchmarks sign with it directly).
    pub fn signing_key(&self) -> &SigningKey {
        self.keys.active()
    }
}

async fn load_or_create_keys(store: &Store, now: i64) -> Result<KeySet, StartError> {
    if store.signing_keys().await?.is_empty() {
        let (key, der) = tokio::task::spawn_blocking(SigningKey::generate)
            .await
            .map_err(|e| StartError::Task(e.to_string()))??;
        store.insert_signing_key(key.kid(), &b64url(&der), now).await?;
    }
    let mut keys = Vec::new();
    for (kid, der_b64) in store.signing_keys().await? {
        let der = b64url_decode(&der_b64).ok_or(StartError::CorruptSecret("signing_keys.private_key"))?;
        let key = SigningKey::from_pkcs8(&der)?;
        if key.kid() != kid {
            return Err(StartError::CorruptSecret("signing_keys.kid"));
        }
        keys.push(key);
    }
    KeySet::new(keys).ok_or(StartError::CorruptSecret("signing_keys"))
}
