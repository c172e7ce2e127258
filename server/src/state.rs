//! [`AppState`]: everything a request needs — config, store, keys, secrets, clock, rate limiters, the
//! webhook client.
//! Cheap to clone (one `Arc`).

use std::net::SocketAddr;
use std::sync::{Arc, RwLock};

use hallpass_protocol::id_prefix;
use hallpass_protocol::keys::{encode_publishable_key, is_secret_key};

use crate::at_rest::{SealError, Sealer, unseal};
use crate::client_addr::TrustedProxies;
use crate::clock::{Clock, SystemClock};
use crate::config::Config;
use crate::jwt::SigningKey;
use crate::jwt_template::signer::KeyCache;
use crate::keyring::{Keyring, KeyringError};
use crate::origins::OriginList;
use crate::password::{HashParams, Hasher};
use crate::ratelimit::{Limits, counters_for};
use crate::refresh::SuccessorKey;
use crate::secret::{Password, SecretKey, b64url, b64url_decode, new_id, random_base62, random_bytes};
use crate::store::{Store, StoreError};

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Keys(#[from] KeyringError),
    #[error(transparent)]
    Sealed(#[from] SealError),
    #[error("HALLPASS_SECRET_KEY must start with sk_test_ or sk_live_ and be at least 32 characters")]
    BadSecretKey,
    #[error("stored instance secret `{0}` is corrupt")]
    CorruptSecret(&'static str),
    #[error("invalid configuration: {0}")]
    Config(String),
    #[error("startup task failed: {0}")]
    Task(String),
}

/// Where the Backend API secret key came from (the banner prints it only when it was just made).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SecretKeySource {
    /// `HALLPASS_SECRET_KEY` / `--secret-key`.
    Config,
    /// Generated at this start and stored.
    Generated,
    /// Generated at an earlier start, read from the database.
    Stored,
}

/// Shared server state.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub config: Config,
    pub store: Store,
    /// The signing keys, reloaded from the database while the server runs (see [`crate::keyring`]).
    pub keys: Keyring,
    pub secret_key: SecretKey,
    pub secret_key_source: SecretKeySource,
    pub successor_key: SuccessorKey,
    pub clock: Arc<dyn Clock>,
    pub hash_params: HashParams,
    /// Argon2id, bounded (see [`crate::password`]).
    pub hasher: Hasher,
    pub origins: OriginList,
    pub trusted_proxies: TrustedProxies,
    pub limits: Limits,
    /// A hash of a password nobody has, verified on sign-in for unknown emails (equal timing).
    pub dummy_hash: String,
    /// JWT templates' custom signing keys, loaded once each.
    pub template_keys: KeyCache,
    /// This instance's id (`ins_…`, the webhook events' `instance_id`), the same for every replica.
    pub instance_id: String,
    /// The webhook delivery client (`crate::webhooks::client`).
    pub webhook_client: crate::webhooks::client::Client,
    /// Who this process is when it leases webhook endpoints (`wrk_…`, new at every start).
    pub webhook_owner: String,
    /// Sign-up and sign-in settings in force (`GET /v1/environment`, `GET`/`PATCH /v1/instance`): read
    /// them with [`AppState::auth`].
    pub settings: crate::instance_settings::InstanceSettings,
    /// The mail server, when one is configured (`crate::email::transport`).
    pub mailer: Option<crate::email::transport::Mailer>,
    /// Who this process is when it leases emails (`wrk_…`, new at every start).
    pub mail_owner: String,
    /// The key one-time codes are stored with (`crate::verification`).
    pub code_key: crate::verification::CodeKey,
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
        let trusted_proxies = TrustedProxies::parse(&config.trusted_proxies).map_err(StartError::Config)?;
        let sealer = config.key_encryption_key.as_ref().map(|k| Sealer::new(k.expose())).transpose()?;
        crate::organization_rules::check_config(&config).map_err(StartError::Config)?;
        let store =
            Store::open_with(&config.database_url, config.database_max_connections, config.refresh_batch_max)
                .await?;
        check_organization_roles(&store, &config).await?;

        let (secret_key, secret_key_source) = match &config.secret_key {
            Some(k) if is_secret_key(k.expose()) && k.expose().len() >= 32 => {
                (k.clone(), SecretKeySource::Config)
            }
            Some(_) => return Err(StartError::BadSecretKey),
            None => {
                let fresh =
                    format!("sk_test_{}", random_base62(40).map_err(|e| StartError::Task(e.to_string()))?);
                let (value, generated) =
                    instance_secret(&store, sealer.as_ref(), "secret_key", fresh, now).await?;
                let source = if generated { SecretKeySource::Generated } else { SecretKeySource::Stored };
                (SecretKey::new(value), source)
            }
        };

        let fresh: [u8; 32] = random_bytes().map_err(|e| StartError::Task(e.to_string()))?;
        let (stored, _) =
            instance_secret(&store, sealer.as_ref(), "refresh_successor_key", b64url(&fresh), now).await?;
        let successor_key = b64url_decode(&stored)
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .map(SuccessorKey::new)
            .ok_or(StartError::CorruptSecret("refresh_successor_key"))?;

        let auth = crate::auth_settings::AuthSettings::from_config(&config).map_err(StartError::Config)?;
        let mailer = crate::email::transport::Mailer::from_config(&config).map_err(StartError::Config)?;
        let fresh: [u8; 32] = random_bytes().map_err(|e| StartError::Task(e.to_string()))?;
        let (stored, _) =
            instance_secret(&store, sealer.as_ref(), "verification_code_key", b64url(&fresh), now).await?;
        let code_key = b64url_decode(&stored)
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .map(crate::verification::CodeKey::new)
            .ok_or(StartError::CorruptSecret("verification_code_key"))?;
        let mail_owner = new_id("wrk_").map_err(|e| StartError::Task(e.to_string()))?;

        // A key stored before leases may have signed session tokens and template tokens: its lease
        // covers the longest either lives.
        let longest_template = store.longest_instance_key_template_lifetime().await?.unwrap_or(0);
        let longest_secs = longest_template.max(i64::from(config.token_lifetime_secs));
        let keys = Keyring::open(store.clone(), sealer, now, longest_secs.saturating_mul(1000)).await?;
        let template_keys =
            KeyCache::new(config.key_encryption_key.as_ref().map(|k| Sealer::new(k.expose())).transpose()?);
        seal_template_keys(&store, &template_keys, config.key_encryption_key.is_some()).await?;

        let fresh_instance = new_id(id_prefix::INSTANCE).map_err(|e| StartError::Task(e.to_string()))?;
        let instance_id = store.secret_or_insert("instance_id", fresh_instance, now).await?;
        let webhook_client = crate::webhooks::client::Client::new(config.webhooks_allow_private_networks)
            .map_err(StartError::Config)?;
        let webhook_owner = new_id("wrk_").map_err(|e| StartError::Task(e.to_string()))?;

        let hash_params = HashParams {
            memory_kib: config.argon2_memory_kib,
            iterations: config.argon2_iterations,
            parallelism: config.argon2_parallelism,
        };
        let hasher = Hasher::new(hash_params, config.hash_concurrency, config.hash_queue);
        let dummy_hash = hasher
            .hash(Password::new("hallpass dummy password, never valid"))
            .await
            .map_err(|e| StartError::Config(e.to_string()))?;

        let limits = Limits::new(&config, counters_for(&store));
        let public_url = config.public_url.clone().unwrap_or_else(|| format!("http://{}", config.addr));
        Ok(AppState(Arc::new(Inner {
            origins: OriginList::new(&config.allowed_origins),
            public_url: RwLock::new(public_url.trim_end_matches('/').to_owned()),
            config,
            store,
            keys,
            secret_key,
            secret_key_source,
            successor_key,
            clock,
            hash_params,
            hasher,
            trusted_proxies,
            limits,
            dummy_hash,
            template_keys,
            instance_id,
            webhook_client,
            webhook_owner,
            settings: crate::instance_settings::InstanceSettings::new(auth),
            mailer,
            mail_owner,
            code_key,
        })))
    }

    /// The sign-up and sign-in settings in force (see [`crate::instance_settings`]).
    pub async fn auth(&self) -> Result<Arc<crate::auth_settings::AuthSettings>, StoreError> {
        Ok(self.settings.current(&self.store).await?.0)
    }

    /// Now, in milliseconds, on the state's clock.
    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    /// The server's public URL (the tokens' `iss`, the Frontend API URL).
    pub fn public_url(&self) -> String {
        self.public_url.read().map(|u| u.clone()).unwrap_or_default()
    }

    /// The public URL of `path` on this server (`path` from `hallpass_protocol::paths`, filled): what
    /// email links and image addresses are made of.
    pub fn url_of(&self, path: &str) -> String {
        format!("{}{path}", self.public_url())
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

    /// The key that signs now (benchmarks sign with it directly; requests go through
    /// [`Keyring::sign`], which leases it first).
    pub fn signing_key(&self) -> Arc<SigningKey> {
        self.keys.signing_key(self.now_ms())
    }
}

/// The roles the settings name exist, and the creator role grants `org:sys_memberships:manage` (a new
/// organization's only member must be able to administer it). The store keeps it so from then on: it
/// refuses to delete either role or to take that permission from the creator role.
async fn check_organization_roles(store: &Store, config: &Config) -> Result<(), StartError> {
    let creator = store.role_by_key(&config.organization_creator_role).await?;
    match creator {
        None => {
            return Err(StartError::Config(format!(
                "HALLPASS_ORGANIZATION_CREATOR_ROLE: no role `{}` (create it with the Backend API first)",
                config.organization_creator_role
            )));
        }
        Some(role) if !role.manages_memberships() => {
            return Err(StartError::Config(format!(
                "HALLPASS_ORGANIZATION_CREATOR_ROLE: `{}` does not grant org:sys_memberships:manage",
                role.key
            )));
        }
        Some(_) => {}
    }
    if store.role_by_key(&config.organization_default_role).await?.is_none() {
        return Err(StartError::Config(format!(
            "HALLPASS_ORGANIZATION_DEFAULT_ROLE: no role `{}` (create it with the Backend API first)",
            config.organization_default_role
        )));
    }
    Ok(())
}

/// With a key encryption key, the JWT templates' custom keys stored in the clear (before it was set)
/// are sealed now; one sealed with another key (or none given) refuses the start, as the instance
/// secrets do.
async fn seal_template_keys(store: &Store, keys: &KeyCache, sealing: bool) -> Result<(), StartError> {
    if !sealing {
        return Ok(());
    }
    for (id, stored) in store.template_keys().await? {
        if let Some(sealed) = keys.reseal(&id, &stored)?
            && store.replace_template_key(&id, &stored, &sealed).await?
        {
            tracing::info!(template_id = %id, "JWT template key sealed at rest with HALLPASS_KEY_ENCRYPTION_KEY");
        }
    }
    Ok(())
}

/// The instance secret `name` in the clear, created from `fresh` if absent (sealed when a key
/// encryption key is configured; a value stored in the clear is sealed now). `true` when this call
/// created it.
async fn instance_secret(
    store: &Store,
    sealer: Option<&Sealer>,
    name: &str,
    fresh: String,
    now: i64,
) -> Result<(String, bool), StartError> {
    let label = format!("instance_secrets:{name}");
    let candidate = match sealer {
        Some(s) => s.seal(&label, &fresh)?,
        None => fresh,
    };
    let stored = store.secret_or_insert(name, candidate.clone(), now).await?;
    let generated = stored == candidate;
    let (plain, needs_sealing) = unseal(sealer, &label, &stored)?;
    if let (true, Some(s)) = (needs_sealing, sealer) {
        store.set_secret(name, &s.seal(&label, &plain)?).await?;
        tracing::info!(secret = name, "sealed at rest with HALLPASS_KEY_ENCRYPTION_KEY");
    }
    Ok((plain, generated))
}
