//! The sign-up and sign-in settings in force, for every request of every replica: the flags
//! ([`AuthSettings::from_config`]) with the changes the Backend API stored over them
//! (`crate::store::instance_settings`).
//!
//! **How replicas follow a change.** Each process keeps the settings it last read, for at most
//! [`MAX_AGE`]: the first request after that reads the row again (one at a time: the others wait for
//! that read instead of making their own), and the process that made a change keeps what its `UPDATE
//! … RETURNING` gave at once. So a change is in force on the replica that made it from its answer on,
//! and on every other replica at most [`MAX_AGE`] (plus one read) later. The cost: one primary-key
//! read of one row per process per [`MAX_AGE`] while requests come — none while idle — instead of one
//! per request (a version check on every request would cost a round trip each). A read that fails
//! fails the request that needed it (500), as any other store error: the settings are never guessed.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use tokio::time::Instant;

use crate::auth_settings::AuthSettings;
use crate::store::instance_settings::StoredSettings;
use crate::store::{Store, StoreError};

/// How long a process answers from the settings it read before reading them again.
pub const MAX_AGE: Duration = Duration::from_secs(1);

/// The settings in force (see the module doc).
pub struct InstanceSettings {
    flags: AuthSettings,
    cached: RwLock<Option<Cached>>,
    /// One read of the row at a time.
    reading: tokio::sync::Mutex<()>,
}

#[derive(Clone)]
struct Cached {
    settings: Arc<AuthSettings>,
    stored: Arc<StoredSettings>,
    read_at: Instant,
}

impl InstanceSettings {
    /// Over the settings the flags give.
    pub fn new(flags: AuthSettings) -> InstanceSettings {
        InstanceSettings { flags, cached: RwLock::new(None), reading: tokio::sync::Mutex::new(()) }
    }

    /// The settings the flags give (what applies where nothing was changed through the API).
    pub fn flags(&self) -> &AuthSettings {
        &self.flags
    }

    /// The settings in force, and the stored changes they were made from.
    pub async fn current(
        &self,
        store: &Store,
    ) -> Result<(Arc<AuthSettings>, Arc<StoredSettings>), StoreError> {
        if let Some(c) = self.fresh() {
            return Ok((c.settings, c.stored));
        }
        let _turn = self.reading.lock().await;
        // Whoever held the turn may have just read them.
        if let Some(c) = self.fresh() {
            return Ok((c.settings, c.stored));
        }
        let stored = store.instance_settings().await?;
        Ok(self.keep(stored))
    }

    /// Keeps `stored`, just read or written, unless a later version is kept already (a read that
    /// started before this process's own change and ended after it); the settings that are kept.
    pub fn keep(&self, stored: StoredSettings) -> (Arc<AuthSettings>, Arc<StoredSettings>) {
        let fresh = Cached {
            settings: Arc::new(self.flags.with_stored(&stored)),
            stored: Arc::new(stored),
            read_at: Instant::now(),
        };
        let Ok(mut cached) = self.cached.write() else {
            // Poisoned (a panic while holding it, which nothing here does): answer without caching.
            return (fresh.settings, fresh.stored);
        };
        let kept = match cached.as_ref() {
            Some(old) if old.stored.version > fresh.stored.version => {
                Cached { read_at: fresh.read_at, ..old.clone() }
            }
            _ => fresh,
        };
        *cached = Some(kept.clone());
        (kept.settings, kept.stored)
    }

    fn fresh(&self) -> Option<Cached> {
        let cached = self.cached.read().ok()?;
        cached.as_ref().filter(|c| c.read_at.elapsed() < MAX_AGE).cloned()
    }
}
