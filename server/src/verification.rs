//! One-time codes and link tokens, and how they are kept.
//!
//! - A **code** is 6 digits from the OS CSPRNG (rejection sampling: every code equally likely). It is
//!   stored as `HMAC-SHA256(instance verification key, owner id ‖ code)`: a stolen database does not
//!   give the codes away (a million candidates are nothing against a plain hash, but the key is not in
//!   the row), and the owner id in the MAC stops a hash being moved to another attempt. Checking
//!   recomputes the MAC and compares in constant time.
//! - A **link token** is 256 random bits (base64url); only its SHA-256 is stored, as for refresh
//!   tokens (it is unguessable, so no key is needed), and the link is found by that hash.
//!
//! Neither ever appears in an API answer or a log line: they travel in the email only.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::secret::{Secret, b64url, random_bytes, sha256_hex};

/// A code as sent (6 ASCII digits).
pub type Code = Secret;
/// A link's token as sent.
pub type LinkToken = Secret;

/// The key codes are MACed with (an instance secret, the same on every replica).
#[derive(Clone)]
pub struct CodeKey([u8; 32]);

impl std::fmt::Debug for CodeKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CodeKey([redacted])")
    }
}

impl CodeKey {
    pub fn new(bytes: [u8; 32]) -> Self {
        CodeKey(bytes)
    }

    /// The stored form of `code` for the verification owned by `owner_id` (hex).
    pub fn hash(&self, owner_id: &str, code: &str) -> String {
        // HMAC accepts keys of any length: this cannot fail for a 32-byte key.
        let mut mac = match <Hmac<Sha256> as Mac>::new_from_slice(&self.0) {
            Ok(mac) => mac,
            Err(_) => unreachable!("HMAC takes keys of any length"),
        };
        mac.update(owner_id.as_bytes());
        mac.update(b"\0");
        mac.update(code.as_bytes());
        let digest = mac.finalize().into_bytes();
        digest.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Whether `candidate` is the code stored as `stored`, in constant time. Anything that is not
    /// six ASCII digits is wrong without a MAC (it can never have been sent).
    pub fn matches(&self, owner_id: &str, candidate: &str, stored: &str) -> bool {
        let well_formed = candidate.len() == CODE_DIGITS && candidate.bytes().all(|b| b.is_ascii_digit());
        let computed = self.hash(owner_id, if well_formed { candidate } else { "------" });
        let equal: bool = computed.as_bytes().ct_eq(stored.as_bytes()).into();
        equal && well_formed
    }
}

/// Digits in a code.
pub const CODE_DIGITS: usize = hallpass_protocol::Verification::CODE_DIGITS;

/// A new code: 6 digits, uniformly.
pub fn new_code() -> Result<Code, getrandom::Error> {
    loop {
        let n = u32::from_le_bytes(random_bytes::<4>()?);
        // 4_294_000_000 = 4294 × 10^6: values at or above it would make low codes likelier.
        if n < 4_294_000_000 {
            return Ok(Secret::new(format!("{:06}", n % 1_000_000)));
        }
    }
}

/// A new link token and the hash that is stored.
pub fn new_link_token() -> Result<(LinkToken, String), getrandom::Error> {
    let token = Secret::new(b64url(&random_bytes::<32>()?));
    let hash = link_hash(token.expose());
    Ok((token, hash))
}

/// The stored form of a link token.
pub fn link_hash(token: &str) -> String {
    sha256_hex(token.as_bytes())
}

/// Whether `s` can be a link token (43 base64url characters): anything else is refused before a
/// lookup.
pub fn link_token_well_formed(s: &str) -> bool {
    s.len() == 43 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// `ada@example.com` → `a***@example.com`: enough for the user to recognise the address a code went
/// to, not enough to read it off a screen.
pub fn mask_email(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => "***".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_six_digits_and_vary() {
        let mut seen = std::collections::HashSet::new();
        for _ in 0..200 {
            let c = new_code().unwrap();
            assert_eq!(c.expose().len(), 6);
            assert!(c.expose().bytes().all(|b| b.is_ascii_digit()));
            seen.insert(c.expose().to_owned());
        }
        assert!(seen.len() > 190, "codes repeat too often: {}", seen.len());
    }

    #[test]
    fn a_code_matches_only_its_own_owner_and_value() {
        let key = CodeKey::new([7; 32]);
        let stored = key.hash("sua_1", "123456");
        assert!(key.matches("sua_1", "123456", &stored));
        assert!(!key.matches("sua_1", "123457", &stored));
        assert!(!key.matches("sua_2", "123456", &stored), "bound to its owner");
        assert!(!CodeKey::new([8; 32]).matches("sua_1", "123456", &stored), "bound to the key");
        for bad in ["", "12345", "1234567", "12345a", " 123456", "１２３４５６"] {
            assert!(!key.matches("sua_1", bad, &stored), "{bad:?}");
        }
        assert!(!format!("{key:?}").contains('7'));
    }

    #[test]
    fn link_tokens_are_long_hashed_and_checked_for_shape() {
        let (token, hash) = new_link_token().unwrap();
        assert!(link_token_well_formed(token.expose()));
        assert_eq!(link_hash(token.expose()), hash);
        assert_ne!(hash, token.expose());
        assert!(!link_token_well_formed("short"));
        assert!(!link_token_well_formed(&"a".repeat(42)));
        assert!(!link_token_well_formed(&format!("{}=", "a".repeat(42))));
    }

    #[test]
    fn masking_keeps_the_first_letter_and_the_domain() {
        assert_eq!(mask_email("ada@example.com"), "a***@example.com");
        assert_eq!(mask_email("é@bücher.de"), "é***@bücher.de");
        assert_eq!(mask_email("nope"), "***");
    }
}
