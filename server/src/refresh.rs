//! Refresh tokens: opaque, 256 bits, stored only as a SHA-256 hash, rotated on every use.
//!
//! # How a grace-window retry gets "the same successor" back
//!
//! A client may present a refresh token the server has already rotated — a lost response, two tabs
//! racing, or Chromium silently re-sending a POST on a dead keep-alive connection. Inside the grace
//! window, while the successor is unused, the server must answer with that very successor. But the
//! server keeps only hashes, so it cannot look the successor's plaintext up.
//!
//! Instead the successor is *derived*, never stored: `successor = HMAC-SHA256(K, "hallpass refresh
//! successor v1" ‖ token)`, base64url, where `K` is a 256-bit key generated once per instance and kept
//! in the database (never sent anywhere, never logged). A retry that presents the parent recomputes
//! the same successor, and the server checks it against the `successor_hash` recorded at rotation.
//!
//! Why this and not storing the successor encrypted:
//! - Nothing recoverable is at rest: a database dump holds hashes and `K`, and without a plaintext
//!   token `K` yields nothing (the first token of every family is fresh randomness).
//! - Whoever can present the parent could already redeem it; deriving the successor from it grants
//!   nothing more. Without `K`, a successor is indistinguishable from random (HMAC is a PRF).
//! - No cleanup job and no decryption key lifecycle: the grace window is enforced by time stamps,
//!   not by deleting ciphertexts.
//! - Two replicas (later: PostgreSQL) racing on the same parent compute the same successor, so the
//!   loser of the conditional `UPDATE` can answer with exactly what the winner stored.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::secret::{RefreshToken, b64url, b64url_decode, random_bytes, sha256_hex};

/// Length of a refresh token on the wire (32 bytes, base64url without padding).
pub const TOKEN_LEN: usize = 43;

const SUCCESSOR_LABEL: &[u8] = b"hallpass refresh successor v1\0";

/// The per-instance key successors are derived with.
#[derive(Clone)]
pub struct SuccessorKey([u8; 32]);

impl std::fmt::Debug for SuccessorKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SuccessorKey([redacted])")
    }
}

impl SuccessorKey {
    pub fn new(bytes: [u8; 32]) -> Self {
        SuccessorKey(bytes)
    }

    /// The deterministic successor of `token`.
    pub fn successor(&self, token: &RefreshToken) -> RefreshToken {
        // HMAC accepts keys of any length: this cannot fail for a 32-byte key.
        let mut mac = match <Hmac<Sha256> as Mac>::new_from_slice(&self.0) {
            Ok(mac) => mac,
            Err(_) => unreachable!("HMAC takes keys of any length"),
        };
        mac.update(SUCCESSOR_LABEL);
        mac.update(token.expose().as_bytes());
        RefreshToken::new(b64url(&mac.finalize().into_bytes()))
    }
}

/// A new random refresh token (the first of a family).
pub fn generate() -> Result<RefreshToken, getrandom::Error> {
    let bytes: [u8; 32] = random_bytes()?;
    Ok(RefreshToken::new(b64url(&bytes)))
}

/// The at-rest form of a token: SHA-256, hex.
pub fn hash(token: &RefreshToken) -> String {
    sha256_hex(token.expose().as_bytes())
}

/// True if `s` has the shape of a refresh token (checked before touching the database).
pub fn well_formed(s: &str) -> bool {
    s.len() == TOKEN_LEN && b64url_decode(s).is_some_and(|b| b.len() == 32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_well_formed_random_and_hash_to_hex() {
        let a = generate().unwrap();
        let b = generate().unwrap();
        assert_ne!(a, b);
        assert!(well_formed(a.expose()));
        assert_eq!(hash(&a).len(), 64);
        assert!(!well_formed("short"));
        assert!(!well_formed(&"!".repeat(TOKEN_LEN)));
    }

    #[test]
    fn successor_is_deterministic_well_formed_and_keyed() {
        let k1 = SuccessorKey::new([1; 32]);
        let k2 = SuccessorKey::new([2; 32]);
        let t = generate().unwrap();
        assert_eq!(k1.successor(&t), k1.successor(&t));
        assert_ne!(k1.successor(&t), k2.successor(&t));
        assert_ne!(k1.successor(&t), t);
        assert!(well_formed(k1.successor(&t).expose()));
        assert_eq!(format!("{k1:?}"), "SuccessorKey([redacted])");
    }
}
