//! [`verify_webhook`]: a delivery from the Hallpass server checked as Standard Webhooks (and Svix,
//! whose scheme it is) define it: HMAC-SHA256 with the endpoint's secret (`whsec_` + base64) over
//! `<id>.<timestamp>.<body>`; any of the space-separated `v1,<base64>` signatures of
//! `webhook-signature` (or `svix-signature`, with `svix-id` / `svix-timestamp`) must match, compared
//! in constant time; and the timestamp must be within five minutes of this clock, so an old
//! delivery cannot be replayed.

use std::time::{SystemTime, UNIX_EPOCH};

use aws_lc_rs::hmac;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use http::HeaderMap;
use serde::de::DeserializeOwned;

use crate::error::{Error, Result};

/// How far a delivery's timestamp may be from this clock, either way (Standard Webhooks: 5 min).
pub const WEBHOOK_TOLERANCE_SECS: i64 = 5 * 60;
/// The most signatures read from one header (a secret being rotated signs twice).
const MAX_SIGNATURES: usize = 16;

/// An endpoint's signing secret, ready to verify deliveries.
#[derive(Clone)]
pub struct WebhookSecret {
    key: hmac::Key,
}

impl std::fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookSecret([redacted])")
    }
}

impl WebhookSecret {
    /// `whsec_` followed by the base64 secret (the prefix is optional).
    pub fn new(secret: &str) -> Result<WebhookSecret> {
        let bytes = STANDARD
            .decode(secret.trim().trim_start_matches("whsec_"))
            .map_err(|_| Error::Config("not a webhook signing secret (whsec_ followed by base64)".into()))?;
        if bytes.is_empty() {
            return Err(Error::Config("the webhook signing secret is empty".into()));
        }
        Ok(WebhookSecret { key: hmac::Key::new(hmac::HMAC_SHA256, &bytes) })
    }

    /// Verifies a delivery (its headers and raw body) now and returns its event.
    pub fn verify<T: DeserializeOwned>(&self, headers: &HeaderMap, body: &[u8]) -> Result<T> {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
        self.verify_at(headers, body, now)
    }

    /// The same as of `now` (seconds since the epoch).
    pub fn verify_at<T: DeserializeOwned>(&self, headers: &HeaderMap, body: &[u8], now: i64) -> Result<T> {
        let refuse = |why: &str| Error::WebhookInvalid(why.to_owned());
        let get = |name: &str| {
            headers
                .get(format!("webhook-{name}"))
                .or_else(|| headers.get(format!("svix-{name}")))
                .and_then(|v| v.to_str().ok())
        };
        let (Some(id), Some(timestamp), Some(signatures)) = (get("id"), get("timestamp"), get("signature"))
        else {
            return Err(refuse("missing webhook-id, webhook-timestamp or webhook-signature header"));
        };
        let sent: i64 = timestamp
            .parse()
            .ok()
            .filter(|_| timestamp.len() <= 12 && timestamp.bytes().all(|b| b.is_ascii_digit()))
            .ok_or_else(|| refuse("invalid webhook-timestamp header"))?;
        if (now - sent).abs() > WEBHOOK_TOLERANCE_SECS {
            return Err(refuse("the delivery's timestamp is too old or too new (a replay?)"));
        }
        let mut signed = Vec::with_capacity(id.len() + timestamp.len() + body.len() + 2);
        signed.extend_from_slice(id.as_bytes());
        signed.push(b'.');
        signed.extend_from_slice(timestamp.as_bytes());
        signed.push(b'.');
        signed.extend_from_slice(body);
        let matched = signatures
            .split(' ')
            .take(MAX_SIGNATURES)
            .filter_map(|s| s.strip_prefix("v1,"))
            .filter_map(|s| STANDARD.decode(s).ok())
            .any(|tag| hmac::verify(&self.key, &signed, &tag).is_ok());
        if !matched {
            return Err(refuse("no matching signature"));
        }
        serde_json::from_slice(body).map_err(|e| refuse(&format!("the body is not the expected JSON: {e}")))
    }
}

/// Verifies a delivery with `secret` (`whsec_…`) and returns its event.
pub fn verify_webhook<T: DeserializeOwned>(secret: &str, headers: &HeaderMap, body: &[u8]) -> Result<T> {
    WebhookSecret::new(secret)?.verify(headers, body)
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

    fn signed(id: &str, ts: i64, body: &str) -> HeaderMap {
        let key =
            hmac::Key::new(hmac::HMAC_SHA256, &STANDARD.decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap());
        let tag = hmac::sign(&key, format!("{id}.{ts}.{body}").as_bytes());
        let mut h = HeaderMap::new();
        h.insert("webhook-id", HeaderValue::from_str(id).unwrap());
        h.insert("webhook-timestamp", HeaderValue::from_str(&ts.to_string()).unwrap());
        h.insert(
            "webhook-signature",
            HeaderValue::from_str(&format!("v1,bm9wZQ== v1,{}", STANDARD.encode(tag))).unwrap(),
        );
        h
    }

    #[test]
    fn standard_webhooks_test_vector() {
        // The example of the Standard Webhooks specification (and Svix's docs).
        let mut h = HeaderMap::new();
        h.insert("webhook-id", HeaderValue::from_static("msg_p5jXN8AQM9LWM0D4loKWxJek"));
        h.insert("webhook-timestamp", HeaderValue::from_static("1614265330"));
        h.insert(
            "webhook-signature",
            HeaderValue::from_static("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="),
        );
        let body = br#"{"test": 2432232314}"#;
        let secret = WebhookSecret::new(SECRET).unwrap();
        let event: serde_json::Value = secret.verify_at(&h, body, 1_614_265_330).unwrap();
        assert_eq!(event["test"], 2432232314u64);
        assert!(
            secret.verify_at::<serde_json::Value>(&h, br#"{"test": 2432232315}"#, 1_614_265_330).is_err()
        );
        assert!(secret.verify_at::<serde_json::Value>(&h, body, 1_614_265_330 + 301).is_err());
        assert!(secret.verify_at::<serde_json::Value>(&h, body, 1_614_265_330 - 301).is_err());
    }

    #[test]
    fn any_listed_signature_and_svix_headers() {
        let secret = WebhookSecret::new(SECRET).unwrap();
        let h = signed("msg_1", 1000, "{}");
        assert!(secret.verify_at::<serde_json::Value>(&h, b"{}", 1000).is_ok());
        let mut svix = HeaderMap::new();
        for (from, to) in [
            ("webhook-id", "svix-id"),
            ("webhook-timestamp", "svix-timestamp"),
            ("webhook-signature", "svix-signature"),
        ] {
            svix.insert(to, h[from].clone());
        }
        assert!(secret.verify_at::<serde_json::Value>(&svix, b"{}", 1000).is_ok());
        assert!(secret.verify_at::<serde_json::Value>(&HeaderMap::new(), b"{}", 1000).is_err());
        assert!(WebhookSecret::new("whsec_!!").is_err());
        assert_eq!(format!("{secret:?}"), "WebhookSecret([redacted])");
    }
}
