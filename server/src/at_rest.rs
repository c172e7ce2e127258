//! Secrets at rest: who may read the server's files, and (optionally) encryption of the keys inside
//! the database.
//!
//! Files: the data directory is created `0700`; the SQLite file is created `0600` before SQLite
//! opens it (SQLite gives its `-wal` and `-shm` files the database file's mode), and an existing
//! database, `-wal` or `-shm` that others could read is narrowed to `0600` at start. The ready file
//! (it holds the secret key) is written `0600`. A data directory that already existed is left as it
//! is, with a warning when others can enter it.
//!
//! Keys: with `HALLPASS_KEY_ENCRYPTION_KEY` (32 random bytes, base64url) the RSA signing keys, the
//! instance secrets (the Backend API secret key, the refresh-successor key) and the JWT templates'
//! custom signing keys (`jwt_template::signer::KeyCache`) are stored sealed with
//! AES-256-GCM ([`Sealer`]): `sealed:v1:` + base64url(nonce ‖ ciphertext ‖ tag), with the row's
//! identity as associated data, so a sealed value cannot be moved to another row. Values stored in
//! the clear are sealed at the next start with the key; an encrypted database refuses to start
//! without it (or with another one). A database dump alone then yields no usable key.

use std::io::Write as _;
use std::path::Path;

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};

use crate::secret::{b64url, b64url_decode, random_bytes};

/// The prefix of a sealed value.
pub const SEALED_PREFIX: &str = "sealed:v1:";

/// Creates `dir` (and its parents) if missing, the created ones `0700`. An existing directory is not
/// changed; a warning says so when group or others can enter it.
pub fn private_dir(dir: &Path) -> std::io::Result<()> {
    if dir.as_os_str().is_empty() {
        return Ok(());
    }
    if dir.is_dir() {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(dir)?.permissions().mode();
            if mode & 0o077 != 0 {
                tracing::warn!(
                    dir = %dir.display(),
                    mode = format!("{:o}", mode & 0o777),
                    "the data directory is open to other users; `chmod 700` it (the database files themselves are 0600)"
                );
            }
        }
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt as _;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// Makes sure `file` exists and only its owner can read or write it (`0600`), before anyone else
/// (SQLite) opens it. Its `-wal` and `-shm` companions, when present, are narrowed too.
pub fn private_sqlite_file(file: &Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    drop(options.open(file)?);
    for suffix in ["", "-wal", "-shm"] {
        let mut path = file.as_os_str().to_owned();
        path.push(suffix);
        narrow(Path::new(&path))?;
    }
    Ok(())
}

#[cfg(unix)]
fn narrow(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    match std::fs::metadata(path) {
        Ok(meta) if meta.permissions().mode() & 0o077 != 0 => {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
        }
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(not(unix))]
fn narrow(_: &Path) -> std::io::Result<()> {
    Ok(())
}

/// Writes `bytes` to `path` readable by the owner only (`0600`): to `path.<pid>.tmp`, then renamed,
/// so a reader never sees a partial file.
pub fn write_private_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".{}.tmp", std::process::id()));
    let tmp = Path::new(&tmp);
    let _ = std::fs::remove_file(tmp);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(tmp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(tmp, path)
}

/// Why a sealed value could not be opened or made.
#[derive(Debug, thiserror::Error)]
pub enum SealError {
    #[error("HALLPASS_KEY_ENCRYPTION_KEY must be 32 bytes, base64url (43 characters)")]
    BadKey,
    #[error("`{0}` is encrypted at rest: set HALLPASS_KEY_ENCRYPTION_KEY to the key it was sealed with")]
    KeyMissing(String),
    #[error("`{0}` does not open with this HALLPASS_KEY_ENCRYPTION_KEY (another key, or a damaged value)")]
    WrongKey(String),
    #[error("sealing failed: {0}")]
    Crypto(String),
}

/// Seals and opens values with the key encryption key.
pub struct Sealer {
    key: LessSafeKey,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer([redacted])")
    }
}

impl Sealer {
    /// The sealer of a base64url 32-byte key.
    pub fn new(key_b64url: &str) -> Result<Sealer, SealError> {
        let bytes = b64url_decode(key_b64url.trim()).filter(|b| b.len() == 32).ok_or(SealError::BadKey)?;
        let key = UnboundKey::new(&AES_256_GCM, &bytes).map_err(|_| SealError::BadKey)?;
        Ok(Sealer { key: LessSafeKey::new(key) })
    }

    /// `plaintext` sealed for the row called `label`.
    pub fn seal(&self, label: &str, plaintext: &str) -> Result<String, SealError> {
        let nonce: [u8; NONCE_LEN] = random_bytes().map_err(|e| SealError::Crypto(e.to_string()))?;
        let mut buf = plaintext.as_bytes().to_vec();
        self.key
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), aad(label), &mut buf)
            .map_err(|_| SealError::Crypto("AES-GCM seal".into()))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&buf);
        Ok(format!("{SEALED_PREFIX}{}", b64url(&out)))
    }

    /// The plaintext of a value sealed for `label`.
    pub fn open(&self, label: &str, sealed: &str) -> Result<String, SealError> {
        let wrong = || SealError::WrongKey(label.to_owned());
        let bytes = sealed.strip_prefix(SEALED_PREFIX).and_then(b64url_decode).ok_or_else(wrong)?;
        if bytes.len() < NONCE_LEN {
            return Err(wrong());
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| wrong())?;
        let mut buf = ciphertext.to_vec();
        let plain = self.key.open_in_place(nonce, aad(label), &mut buf).map_err(|_| wrong())?;
        String::from_utf8(plain.to_vec()).map_err(|_| wrong())
    }
}

fn aad(label: &str) -> Aad<Vec<u8>> {
    Aad::from(format!("hallpass at rest v1\0{label}").into_bytes())
}

/// A stored value as the server uses it: opened when sealed, as it is otherwise. `Ok((plain,
/// needs_sealing))`: true when a sealer is configured and the value is still in the clear.
pub fn unseal(sealer: Option<&Sealer>, label: &str, stored: &str) -> Result<(String, bool), SealError> {
    match (stored.starts_with(SEALED_PREFIX), sealer) {
        (true, Some(s)) => Ok((s.open(label, stored)?, false)),
        (true, None) => Err(SealError::KeyMissing(label.to_owned())),
        (false, Some(_)) => Ok((stored.to_owned(), true)),
        (false, None) => Ok((stored.to_owned(), false)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> String {
        b64url(&[7u8; 32])
    }

    #[test]
    fn seal_open_round_trip_bound_to_the_label_and_the_key() {
        let s = Sealer::new(&key()).unwrap();
        let sealed = s.seal("instance_secrets:secret_key", "sk_test_abc").unwrap();
        assert!(sealed.starts_with(SEALED_PREFIX) && !sealed.contains("sk_test_abc"));
        assert_ne!(sealed, s.seal("instance_secrets:secret_key", "sk_test_abc").unwrap(), "fresh nonce");
        assert_eq!(s.open("instance_secrets:secret_key", &sealed).unwrap(), "sk_test_abc");
        assert!(matches!(s.open("signing_keys:k1", &sealed), Err(SealError::WrongKey(_))), "label bound");
        let other = Sealer::new(&b64url(&[8u8; 32])).unwrap();
        assert!(matches!(other.open("instance_secrets:secret_key", &sealed), Err(SealError::WrongKey(_))));
        let mut tampered = sealed.clone();
        tampered.push('A');
        assert!(s.open("instance_secrets:secret_key", &tampered).is_err());
        assert!(matches!(Sealer::new("short"), Err(SealError::BadKey)));
        assert_eq!(format!("{s:?}"), "Sealer([redacted])");
    }

    #[test]
    fn unseal_migrates_clear_values_and_refuses_sealed_ones_without_the_key() {
        let s = Sealer::new(&key()).unwrap();
        assert_eq!(unseal(None, "x", "plain").unwrap(), ("plain".into(), false));
        assert_eq!(unseal(Some(&s), "x", "plain").unwrap(), ("plain".into(), true));
        let sealed = s.seal("x", "v").unwrap();
        assert_eq!(unseal(Some(&s), "x", &sealed).unwrap(), ("v".into(), false));
        assert!(matches!(unseal(None, "x", &sealed), Err(SealError::KeyMissing(_))));
    }

    #[cfg(unix)]
    #[test]
    fn files_and_directories_are_private() {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("a/b");
        private_dir(&dir).unwrap();
        assert_eq!(mode(&dir), 0o700);
        let db = dir.join("x.db");
        private_sqlite_file(&db).unwrap();
        assert_eq!(mode(&db), 0o600);
        // An existing world-readable database and WAL are narrowed.
        std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
        let wal = dir.join("x.db-wal");
        std::fs::write(&wal, b"").unwrap();
        std::fs::set_permissions(&wal, std::fs::Permissions::from_mode(0o644)).unwrap();
        private_sqlite_file(&db).unwrap();
        assert_eq!((mode(&db), mode(&wal)), (0o600, 0o600));
        let ready = dir.join("ready.json");
        write_private_atomically(&ready, b"{}").unwrap();
        assert_eq!(mode(&ready), 0o600);
        assert_eq!(std::fs::read(&ready).unwrap(), b"{}");
    }
}
