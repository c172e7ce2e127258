//! Signing deliveries exactly as Svix does (the Standard Webhooks scheme), so that the `svix` package
//! — `new Webhook(secret).verify(body, headers)` — verifies them:
//!
//! - a secret is `whsec_` + base64 of 24 random bytes; the HMAC key is the decoded bytes;
//! - the signed content is `{msg_id}.{timestamp}.{body}`, the timestamp in whole seconds;
//! - a signature is `v1,` + base64(HMAC-SHA256(key, content)); while a rotated-out secret still
//!   signs, the header holds both, space-separated;
//! - the headers are sent twice, as `svix-id` / `svix-timestamp` / `svix-signature` and as
//!   `webhook-id` / `webhook-timestamp` / `webhook-signature`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::secret::{Secret, random_bytes};

/// A webhook signing secret, `whsec_<base64>`.
pub type WebhookSecret = Secret;

/// What every signing secret starts with.
pub const SECRET_PREFIX: &str = "whsec_";

/// How many random bytes a new secret holds (Svix's 24: 192 bits).
const SECRET_BYTES: usize = 24;

/// The header names, Svix's and Standard Webhooks', in the order `(id, timestamp, signature)`.
pub const HEADERS: [(&str, &str, &str); 2] = [
    ("svix-id", "svix-timestamp", "svix-signature"),
    ("webhook-id", "webhook-timestamp", "webhook-signature"),
];

/// A fresh signing secret.
pub fn new_secret() -> Result<WebhookSecret, getrandom::Error> {
    let bytes: [u8; SECRET_BYTES] = random_bytes()?;
    Ok(Secret::new(format!("{SECRET_PREFIX}{}", STANDARD.encode(bytes))))
}

/// The HMAC key of `secret` (its base64 part, decoded); `None` if it is not `whsec_<base64>`.
pub fn key(secret: &WebhookSecret) -> Option<Vec<u8>> {
    let b64 = secret.expose().strip_prefix(SECRET_PREFIX)?;
    STANDARD.decode(b64).ok().filter(|k| !k.is_empty())
}

/// `v1,<base64 signature>` of one delivery under one key.
pub fn sign(key: &[u8], msg_id: &str, timestamp_secs: i64, body: &str) -> String {
    // HMAC takes keys of any length; `new_from_slice` cannot fail for it.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else {
        return String::new();
    };
    mac.update(msg_id.as_bytes());
    mac.update(b".");
    mac.update(timestamp_secs.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

/// The signature header's value: one `v1,…` per key, space-separated.
pub fn header(keys: &[Vec<u8>], msg_id: &str, timestamp_secs: i64, body: &str) -> String {
    keys.iter().map(|k| sign(k, msg_id, timestamp_secs, body)).collect::<Vec<_>>().join(" ")
}

/// How far a delivery's timestamp may be from the receiver's clock (Svix's five minutes).
pub const TOLERANCE_SECS: i64 = 5 * 60;

/// What a receiver checks, as `svix`'s `Webhook.verify` does: the timestamp within
/// [`TOLERANCE_SECS`] of `now_secs`, and one of the header's `v1,` signatures made by `key`
/// (compared in constant time). For receivers written in Rust (the demo's).
pub fn verify(key: &[u8], msg_id: &str, timestamp: &str, body: &str, header: &str, now_secs: i64) -> bool {
    let Ok(ts) = timestamp.parse::<i64>() else { return false };
    if (now_secs - ts).abs() > TOLERANCE_SECS {
        return false;
    }
    let expected = sign(key, msg_id, ts, body);
    header
        .split(' ')
        .filter(|s| s.starts_with("v1,"))
        .any(|given| bool::from(given.as_bytes().ct_eq(expected.as_bytes())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_whsec_and_24_random_bytes() {
        let a = new_secret().unwrap();
        let b = new_secret().unwrap();
        assert_ne!(a, b);
        assert!(a.expose().starts_with("whsec_") && a.expose().len() == 6 + 32, "{}", a.expose());
        assert_eq!(key(&a).unwrap().len(), 24);
        assert_eq!(key(&Secret::new("whsec_not base64!")), None);
        assert_eq!(key(&Secret::new("sk_test_abc")), None);
        assert_eq!(key(&Secret::new("whsec_")), None);
    }

    /// The example of the Standard Webhooks specification (and of Svix's own test suites).
    #[test]
    fn known_answer_from_the_standard_webhooks_spec() {
        let secret = Secret::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
        let body = r#"{"test": 2432232314}"#;
        let sig = sign(&key(&secret).unwrap(), "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body);
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn verify_takes_any_matching_signature_within_the_tolerance() {
        let (key, other) = (vec![7u8; 24], vec![8u8; 24]);
        let header = header(&[other.clone(), key.clone()], "evt_1", 1000, "{}");
        assert!(verify(&key, "evt_1", "1000", "{}", &header, 1000 + TOLERANCE_SECS));
        assert!(verify(&other, "evt_1", "1000", "{}", &header, 1000 - TOLERANCE_SECS));
        assert!(!verify(&key, "evt_1", "1000", "{}", &header, 1001 + TOLERANCE_SECS), "too old");
        assert!(!verify(&key, "evt_1", "1000", "{}", &header, 999 - TOLERANCE_SECS), "too new");
        assert!(!verify(&key, "evt_1", "1000", "{} ", &header, 1000), "body");
        assert!(!verify(&key, "evt_2", "1000", "{}", &header, 1000), "id");
        assert!(!verify(&key, "evt_1", "1001", "{}", &header, 1000), "timestamp");
        assert!(!verify(&[9u8; 24], "evt_1", "1000", "{}", &header, 1000), "key");
        assert!(!verify(&key, "evt_1", "x", "{}", &header, 1000));
        assert!(!verify(&key, "evt_1", "1000", "{}", &header.replace("v1,", "v2,"), 1000), "v1 only");
    }

    #[test]
    fn header_holds_one_signature_per_key() {
        let keys = vec![vec![1u8; 24], vec![2u8; 24]];
        let h = header(&keys, "evt_1", 5, "{}");
        let parts: Vec<&str> = h.split(' ').collect();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0], sign(&keys[0], "evt_1", 5, "{}"));
        assert_ne!(parts[0], parts[1]);
    }
}
