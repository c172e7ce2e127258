//! `hallpass-server keys rotate` and `hallpass-server keys list`: signing-key rotation against the
//! configured database, while the replicas on it keep running (they pick the change up by themselves:
//! see [`crate::keyring`] for what happens after the command).
//!
//! `rotate` adds a new RS256 key that every replica publishes at once and that starts signing after
//! `--delay-secs` (default [`DEFAULT_DELAY_SECS`]: longer than the JWKS's `max-age`, so that even a
//! verifier that caches the JWKS and never refetches it on an unknown `kid` knows the key before its
//! first token; at least [`crate::keyring::MIN_DELAY_SECS`]). The key it replaces is retired by
//! housekeeping once no token it signed can still be valid. One rotation at a time: while a new key
//! waits for its time, another `rotate` is refused. With `HALLPASS_KEY_ENCRYPTION_KEY` the new key is
//! stored sealed; a database whose keys are sealed refuses a rotation without it.

use crate::at_rest::{SealError, Sealer, unseal};
use crate::jwt::{KeyError, SigningKey};
use crate::keyring::{MIN_DELAY_SECS, RETIRE_SKEW_MS, seal_label};
use crate::secret::b64url;
use crate::store::instance::{AddKeyError, SigningKeyRow};
use crate::store::{Store, StoreError};

/// The default delay between a rotation and the new key's first signature: ten minutes, twice the
/// JWKS document's `max-age` (300 s).
pub const DEFAULT_DELAY_SECS: u64 = 600;

/// Why a rotation did not happen.
#[derive(Debug, thiserror::Error)]
pub enum RotateError {
    #[error(
        "the delay must be at least {MIN_DELAY_SECS} s, so that every replica publishes the key before it signs"
    )]
    DelayTooShort,
    #[error("this database has no signing key yet: start hallpass-server on it once (it makes the first)")]
    NoKeys,
    #[error("key {kid} is already waiting to start signing (at {}); rotate again once it signs", utc(*.at))]
    Pending { kid: String, at: i64 },
    #[error(
        "the stored signing keys do not open: {0} (set HALLPASS_KEY_ENCRYPTION_KEY to the key the replicas use)"
    )]
    Sealed(#[from] SealError),
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("key generation failed: {0}")]
    Task(String),
}

/// What a rotation did.
#[derive(Clone, Debug)]
pub struct Rotation {
    /// The new key, published now.
    pub kid: String,
    /// When it starts signing (ms).
    pub active_from: i64,
    /// The key signing until then.
    pub replaces: Option<String>,
}

/// Adds a new signing key at `now` that starts signing `delay_secs` later (see the module doc).
pub async fn rotate(
    store: &Store,
    sealer: Option<&Sealer>,
    now: i64,
    delay_secs: u64,
) -> Result<Rotation, RotateError> {
    if delay_secs < MIN_DELAY_SECS {
        return Err(RotateError::DelayTooShort);
    }
    // The new key is stored the way the others are: check first that this sealer (or none) opens
    // them, rather than add one the replicas cannot read.
    let stored = store.signing_keys().await?;
    if stored.is_empty() {
        return Err(RotateError::NoKeys);
    }
    for key in &stored {
        unseal(sealer, &seal_label(&key.kid), &key.private_key)?;
    }
    let replaces = stored.iter().filter(|k| k.active_from <= now).max_by_key(|k| k.active_from);
    let replaces = replaces.map(|k| k.kid.clone());
    let (key, der) = tokio::task::spawn_blocking(SigningKey::generate)
        .await
        .map_err(|e| RotateError::Task(e.to_string()))??;
    let material = match sealer {
        Some(s) => s.seal(&seal_label(key.kid()), &b64url(&der))?,
        None => b64url(&der),
    };
    let delay_ms = i64::try_from(delay_secs.saturating_mul(1000)).unwrap_or(i64::MAX / 2);
    let active_from = now.saturating_add(delay_ms);
    store.add_signing_key(key.kid(), &material, now, active_from).await.map_err(|e| match e {
        AddKeyError::Pending(kid, at) => RotateError::Pending { kid, at },
        AddKeyError::Store(e) => RotateError::Store(e),
    })?;
    Ok(Rotation { kid: key.kid().to_owned(), active_from, replaces })
}

/// What `keys rotate` prints.
pub fn describe_rotation(r: &Rotation, now: i64) -> String {
    let mut out = format!(
        "New signing key {} is published: every replica serves it in its JWKS within {} s.\n\
         It signs from {} (in {} s).\n",
        r.kid,
        crate::keyring::POLL_INTERVAL.as_secs(),
        utc(r.active_from),
        (r.active_from - now).div_euclid(1000)
    );
    if let Some(old) = &r.replaces {
        out.push_str(&format!(
            "{old} signs until then; it is retired (and leaves the JWKS) once no token it signed can still be\n\
             valid: {} s after the last expiry it covers. `hallpass-server keys list` shows when.\n",
            RETIRE_SKEW_MS / 1000
        ));
    }
    out
}

/// What `keys list` prints: one line per key, the newest first, with its state at `now`.
pub fn describe_keys(keys: &[SigningKeyRow], now: i64) -> String {
    let signing = keys
        .iter()
        .filter(|k| k.retired_at.is_none() && k.active_from <= now)
        .max_by_key(|k| k.active_from)
        .map(|k| k.kid.as_str());
    let mut out = String::new();
    for k in keys {
        let state = match (k.retired_at, k.active_from > now, Some(k.kid.as_str()) == signing) {
            (Some(at), _, _) => format!("retired {}", utc(at)),
            (None, true, _) => format!("published, signs from {}", utc(k.active_from)),
            (None, false, true) => format!("signing since {}", utc(k.active_from)),
            (None, false, false) => match k.signed_until {
                Some(until) => format!("replaced, published until about {}", utc(until + RETIRE_SKEW_MS)),
                None => "replaced, published (lease not known yet)".to_owned(),
            },
        };
        out.push_str(&format!("{}  {state}  (added {})\n", k.kid, utc(k.created_at)));
    }
    out
}

/// `ms` since the epoch as `YYYY-MM-DD hh:mm:ss UTC`.
pub fn utc(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Howard Hinnant's days-to-civil, for the proleptic Gregorian calendar.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC", rem / 3600, rem % 3600 / 60, rem % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_formats_the_epoch_leap_days_and_now() {
        assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(951_782_400_000), "2000-02-29 00:00:00 UTC");
        assert_eq!(utc(1_764_504_000_000), "2025-11-30 12:00:00 UTC");
        assert_eq!(utc(-1000), "1969-12-31 23:59:59 UTC");
    }

    #[test]
    fn the_list_says_which_key_signs_which_waits_and_which_leave() {
        let row = |kid: &str, active_from, signed_until, retired_at| SigningKeyRow {
            kid: kid.into(),
            created_at: 0,
            active_from,
            signed_until,
            retired_at,
        };
        let now = 1_000_000;
        let text = describe_keys(
            &[
                row("ins_new", now + 60_000, Some(0), None),
                row("ins_cur", now - 60_000, Some(now + 300_000), None),
                row("ins_old", now - 120_000, Some(now - 1000), None),
                row("ins_gone", 0, Some(0), Some(now - 5000)),
            ],
            now,
        );
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("ins_new  published, signs from"), "{text}");
        assert!(lines[1].starts_with("ins_cur  signing since"), "{text}");
        assert!(lines[2].starts_with("ins_old  replaced, published until about"), "{text}");
        assert!(lines[3].starts_with("ins_gone  retired"), "{text}");
    }
}
