//! Secrets and the randomness they are made from.
//!
//! Every secret is a [`Secret`] (from `hallpass-protocol`, shared with the SDK): `Debug` prints
//! `Secret([redacted])` and the value comes out only through `.expose()`, so a secret cannot reach a
//! log line by accident. Comparisons of secrets are constant-time ([`ct_eq`]).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Every secret is the protocol crate's one redacting type; these names say which secret a value is.
pub use hallpass_protocol::Secret;
/// The instance's Backend API secret key (`sk_test_…` / `sk_live_…`).
pub type SecretKey = Secret;
/// An opaque refresh token as the client holds it (43 base64url characters, 256 bits).
pub type RefreshToken = Secret;
/// A password as the user typed it.
pub type Password = Secret;
/// A JWT template's custom signing key as stored: base64url of the PKCS#8 DER (RS256) or of the
/// shared secret's bytes (HS256/384/512), sealed with the key encryption key when there is one.
/// Never returned by the API, never logged.
pub type TemplateKey = Secret;
/// The key that seals signing keys and instance secrets at rest (`HALLPASS_KEY_ENCRYPTION_KEY`, 32
/// bytes base64url; see `crate::at_rest`).
pub type KeyEncryptionKey = Secret;
/// The mail server's URL (it may hold a password) or its password.
pub type SmtpSecret = Secret;

/// Fills a fresh array with bytes from the operating system's CSPRNG.
///
/// The OS RNG failing is not something a server can carry on from, so this aborts the request
/// with an error instead of returning weak bytes.
pub fn random_bytes<const N: usize>() -> Result<[u8; N], getrandom::Error> {
    let mut out = [0u8; N];
    getrandom::fill(&mut out)?;
    Ok(out)
}

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// A random base62 string of `len` characters (rejection sampling, so no modulo bias).
pub fn random_base62(len: usize) -> Result<String, getrandom::Error> {
    let mut out = String::with_capacity(len);
    while out.len() < len {
        let buf: [u8; 32] = random_bytes()?;
        for b in buf {
            // 248 = 4 * 62: values at or above it would bias the first characters.
            if b < 248 && out.len() < len {
                out.push(BASE62[usize::from(b % 62)] as char);
            }
        }
    }
    Ok(out)
}

/// A new prefixed id such as `user_2bXk…` (22 base62 characters ≈ 131 random bits).
pub fn new_id(prefix: &str) -> Result<String, getrandom::Error> {
    Ok(format!("{prefix}{}", random_base62(22)?))
}

/// base64url without padding.
pub fn b64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes base64url without padding; `None` for anything else.
pub fn b64url_decode(s: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(s).ok()
}

/// SHA-256 of `data`, lower-case hex.
pub fn sha256_hex(data: &[u8]) -> String {
    let digest = Sha256::digest(data);
    let mut out = String::with_capacity(64);
    for b in digest {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// Constant-time equality of two secrets of possibly different lengths: both sides are hashed first,
/// so neither the content nor the length of the expected value leaks through timing.
pub fn ct_eq(a: &str, b: &str) -> bool {
    let ha = Sha256::digest(a.as_bytes());
    let hb = Sha256::digest(b.as_bytes());
    ha.as_slice().ct_eq(hb.as_slice()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted() {
        let s = SecretKey::new("sk_test_supersecret");
        assert_eq!(format!("{s:?}"), "Secret([redacted])");
        assert!(!format!("{:?}", Password::new("hunter22")).contains("hunter"));
    }

    #[test]
    fn ids_are_prefixed_random_and_base62() {
        let a = new_id("user_").unwrap();
        let b = new_id("user_").unwrap();
        assert_ne!(a, b);
        assert_eq!(a.len(), 5 + 22);
        assert!(a[5..].bytes().all(|c| c.is_ascii_alphanumeric()));
    }

    #[test]
    fn ct_eq_compares_content() {
        assert!(ct_eq("sk_test_a", "sk_test_a"));
        assert!(!ct_eq("sk_test_a", "sk_test_b"));
        assert!(!ct_eq("sk_test_a", "sk_test_a2"));
        assert!(!ct_eq("", "x"));
    }

    #[test]
    fn sha256_hex_known_answer() {
        assert_eq!(sha256_hex(b"abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
