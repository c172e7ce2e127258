//! Reading a JWT's payload: the session token's claims ([`SessionClaims`]) and, for any token
//! (templates included), its issue and expiry times.
//!
//! The SDK reads claims for `exp`, `sid` and display (`o` — the active organization) only. It never
//! verifies the signature and never makes a security decision from what it reads here; the server and
//! the app's backend do. The token comes from outside, so every step — three segments, base64url,
//! UTF-8, JSON, field types — fails with an `invalid_response` [`Error`] instead of panicking, and no
//! error message ever quotes the token.

use hallpass_protocol::{ErrorCode, OrgClaims, SessionClaims};

use super::error::Error;
use super::json::{self, Value};

/// Longest token accepted, in bytes: a payload of `json::MAX_INPUT` bytes plus room for the header
/// and signature.
pub const MAX_TOKEN_LEN: usize = json::MAX_INPUT / 3 * 4 + 4096;

/// When a token was issued and when it expires, in milliseconds since the epoch (server clock).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TokenTimes {
    /// From `iat`, when present.
    pub issued_at_ms: Option<i64>,
    /// From `exp`.
    pub expires_at_ms: i64,
}

fn malformed(message: &'static str) -> Error {
    Error::new(ErrorCode::InvalidResponse, message)
}

/// Decodes the payload of a compact JWT (`header.payload.signature`) into a JSON value.
pub fn decode_payload(jwt: &str) -> Result<Value, Error> {
    if jwt.len() > MAX_TOKEN_LEN {
        return Err(malformed("session token is too long"));
    }
    let mut parts = jwt.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(malformed("session token does not have three segments"));
    };
    if header.is_empty() || payload.is_empty() || signature.is_empty() {
        return Err(malformed("session token has an empty segment"));
    }
    let bytes = base64url_decode(payload).ok_or(malformed("session token payload is not base64url"))?;
    let text = String::from_utf8(bytes).map_err(|_| malformed("session token payload is not UTF-8"))?;
    let value = json::parse(&text).map_err(|e| malformed(e.0))?;
    match value {
        Value::Object(_) => Ok(value),
        _ => Err(malformed("session token payload is not a JSON object")),
    }
}

/// Decodes a session token's claims. Required: `sub`, `sid`, `iss`, `exp`, `iat`, `nbf`, `jti`; the
/// optional ones may be absent or `null`; every present claim must have its type.
///
/// ```
/// use hallpass::core::claims::decode_claims;
///
/// assert!(decode_claims("not.a-token").is_err());
/// ```
pub fn decode_claims(jwt: &str) -> Result<SessionClaims, Error> {
    let v = decode_payload(jwt)?;
    let o = match v.get("o") {
        None | Some(Value::Null) => None,
        Some(o @ Value::Object(_)) => Some(OrgClaims {
            id: req_str(o, "id")?,
            slg: opt_str(o, "slg")?.unwrap_or_default(),
            rol: opt_str(o, "rol")?.unwrap_or_default(),
            per: match o.get("per") {
                None | Some(Value::Null) => Vec::new(),
                Some(Value::Array(items)) => items
                    .iter()
                    .map(|p| p.as_str().map(str::to_owned))
                    .collect::<Option<Vec<_>>>()
                    .ok_or(malformed("claim `o.per` has the wrong type"))?,
                Some(_) => return Err(malformed("claim `o.per` has the wrong type")),
            },
        }),
        Some(_) => return Err(malformed("claim `o` has the wrong type")),
    };
    let version = match v.get("v") {
        None | Some(Value::Null) => 0,
        Some(n) => {
            n.as_i64().and_then(|n| u8::try_from(n).ok()).ok_or(malformed("claim `v` has the wrong type"))?
        }
    };
    Ok(SessionClaims {
        sub: req_str(&v, "sub")?,
        sid: req_str(&v, "sid")?,
        iss: req_str(&v, "iss")?,
        azp: opt_str(&v, "azp")?,
        exp: req_int(&v, "exp")?,
        iat: req_int(&v, "iat")?,
        nbf: req_int(&v, "nbf")?,
        jti: req_str(&v, "jti")?,
        v: version,
        o,
    })
}

/// Reads `exp` (required) and `iat` (optional) of any JWT — session or template token — as
/// milliseconds.
pub fn decode_times(jwt: &str) -> Result<TokenTimes, Error> {
    let v = decode_payload(jwt)?;
    let to_ms = |s: i64| s.checked_mul(1000).ok_or(malformed("token time out of range"));
    let expires_at_ms = to_ms(req_int(&v, "exp")?)?;
    let issued_at_ms = match v.get("iat") {
        None | Some(Value::Null) => None,
        Some(_) => Some(to_ms(req_int(&v, "iat")?)?),
    };
    Ok(TokenTimes { issued_at_ms, expires_at_ms })
}

fn req_str(v: &Value, key: &'static str) -> Result<String, Error> {
    opt_str(v, key)?.ok_or(malformed("a required claim is missing"))
}

fn opt_str(v: &Value, key: &'static str) -> Result<Option<String>, Error> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(malformed("a claim has the wrong type")),
    }
}

fn req_int(v: &Value, key: &'static str) -> Result<i64, Error> {
    match v.get(key) {
        None | Some(Value::Null) => Err(malformed("a required claim is missing")),
        Some(n) => n.as_i64().ok_or(malformed("a claim has the wrong type")),
    }
}

/// Decodes unpadded base64url (RFC 4648 §5), as JWTs use it. Strict: no padding, no other alphabet,
/// no impossible length, no stray bits in the last character.
pub fn base64url_decode(input: &str) -> Option<Vec<u8>> {
    if input.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(input.len() / 4 * 3 + 2);
    let mut acc: u32 = 0;
    let mut bits: u32 = 0;
    for c in input.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' => 62,
            b'_' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    // Leftover bits must be zero, or two different strings would decode to the same bytes.
    if acc != 0 {
        return None;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::core::test_util::{b64url, jwt as token};

    const FULL: &str = r#"{"sub":"user_1","sid":"sess_1","iss":"http://localhost:8787","azp":"http://localhost:3000",
        "exp":1764000060,"iat":1764000000,"nbf":1763999990,"jti":"abc","v":2,
        "o":{"id":"org_1","slg":"acme","rol":"org:admin","per":["org:sys_memberships:manage"]}}"#;

    #[test]
    fn decodes_a_session_token() {
        let c = decode_claims(&token(FULL)).unwrap();
        assert_eq!(
            (c.sub.as_str(), c.sid.as_str(), c.exp, c.iat, c.nbf, c.v),
            ("user_1", "sess_1", 1_764_000_060, 1_764_000_000, 1_763_999_990, 2)
        );
        assert_eq!(c.azp.as_deref(), Some("http://localhost:3000"));
        let o = c.o.unwrap();
        assert_eq!((o.id.as_str(), o.slg.as_str(), o.rol.as_str()), ("org_1", "acme", "org:admin"));
        assert_eq!(o.per, vec!["org:sys_memberships:manage".to_owned()]);
    }

    #[test]
    fn agrees_with_serde_on_valid_claims() {
        let expected: SessionClaims = serde_json::from_str(FULL).unwrap();
        assert_eq!(decode_claims(&token(FULL)).unwrap(), expected);
        let minimal = r#"{"sub":"u","sid":"s","iss":"i","exp":2,"iat":1,"nbf":1,"jti":"j"}"#;
        let expected: SessionClaims = serde_json::from_str(minimal).unwrap();
        assert_eq!(decode_claims(&token(minimal)).unwrap(), expected);
        let with_nulls = r#"{"sub":"u","sid":"s","iss":"i","exp":2,"iat":1,"nbf":1,"jti":"j","azp":null,"o":null,"v":null}"#;
        assert_eq!(decode_claims(&token(with_nulls)).unwrap(), expected);
    }

    #[test]
    fn times_of_any_token() {
        let t = decode_times(&token(r#"{"exp":100,"iat":40,"custom":{"x":[1.5]}}"#)).unwrap();
        assert_eq!(t, TokenTimes { issued_at_ms: Some(40_000), expires_at_ms: 100_000 });
        let t = decode_times(&token(r#"{"exp":100}"#)).unwrap();
        assert_eq!(t.issued_at_ms, None);
        assert!(decode_times(&token(r#"{"iat":100}"#)).is_err());
        assert!(decode_times(&token(r#"{"exp":9223372036854775807}"#)).is_err(), "ms overflow");
        assert!(decode_times(&token(r#"{"exp":1.5}"#)).is_err());
        assert_eq!(decode_times(&token(r#"{"exp":1.5e1}"#)).unwrap().expires_at_ms, 15_000);
    }

    #[test]
    fn wrong_types_and_missing_claims_are_errors() {
        let bad = [
            r#"{"sid":"s","iss":"i","exp":2,"iat":1,"nbf":1,"jti":"j"}"#,
            r#"{"sub":1,"sid":"s","iss":"i","exp":2,"iat":1,"nbf":1,"jti":"j"}"#,
            r#"{"sub":"u","sid":"s","iss":"i","exp":"2","iat":1,"nbf":1,"jti":"j"}"#,
            r#"{"sub":"u","sid":"s","iss":"i","exp":2.5,"iat":1,"nbf":1,"jti":"j"}"#,
            r#"{"sub":"u","sid":"s","iss":"i","exp":1e30,"iat":1,"nbf":1,"jti":"j"}"#,
            r#"{"sub":"u","sid":"s","iss":"i","exp":2,"iat":1,"nbf":1,"jti":"j","v":256}"#,
            r#"{"sub":"u","sid":"s","iss":"i","exp":2,"iat":1,"nbf":1,"jti":"j","v":-1}"#,
            r#"{"sub":"u","sid":"s","iss":"i","exp":2,"iat":1,"nbf":1,"jti":"j","azp":5}"#,
            r#"{"sub":"u","sid":"s","iss":"i","exp":2,"iat":1,"nbf":1,"jti":"j","o":"org_1"}"#,
            r#"{"sub":"u","sid":"s","iss":"i","exp":2,"iat":1,"nbf":1,"jti":"j","o":{"slg":"x"}}"#,
            r#"{"sub":"u","sid":"s","iss":"i","exp":2,"iat":1,"nbf":1,"jti":"j","o":{"id":"o","per":[1]}}"#,
            r#"{"sub":"u","sid":"s","iss":"i","exp":2,"iat":1,"nbf":1,"jti":"j","o":{"id":"o","per":"a"}}"#,
            r#"{"sub":"u","sub":"v","sid":"s","iss":"i","exp":2,"iat":1,"nbf":1,"jti":"j"}"#,
            r#"["sub"]"#,
            r#""sub""#,
            "null",
        ];
        for payload in bad {
            let e = decode_claims(&token(payload)).unwrap_err();
            assert_eq!(e.code, ErrorCode::InvalidResponse, "{payload}");
        }
    }

    #[test]
    fn malformed_tokens_are_errors() {
        let good = token(FULL);
        let mut cases: Vec<String> = vec![
            String::new(),
            ".".into(),
            "..".into(),
            "a.b".into(),
            "a.b.c.d".into(),
            ".e30.x".into(),
            "e30..x".into(),
            "e30.e30=.x".into(),
            "e30.e3+.x".into(),
            "e30.e30/.x".into(),
            "e30.eyJ.x".into(),
            "e30.e31.x".into(), // stray bits
            "e30.e.x".into(),   // impossible length
            "e30.e30.".into(),  // unsigned
            format!("e30.{}.x", b64url(&[0xff, 0xfe, 0x80])),
            format!("e30.{}.x", "A".repeat(MAX_TOKEN_LEN)),
        ];
        let last_dot = good.rfind('.').unwrap();
        for cut in 0..=last_dot + 1 {
            cases.push(good[..cut].to_owned());
        }
        for t in &cases {
            assert!(decode_claims(t).is_err(), "{t}");
        }
        // An error never quotes the token.
        let e = decode_claims("e30.eyJzZWNyZXQiOiJodW50ZXIyIn0.sig").unwrap_err();
        assert!(!e.message.contains("hunter2") && !e.message.contains("eyJ"));
    }

    #[test]
    fn base64url_round_trips_and_is_strict() {
        for len in 0..40 {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 37 + 11) as u8).collect();
            assert_eq!(base64url_decode(&b64url(&bytes)), Some(bytes));
        }
        assert_eq!(base64url_decode("e30"), Some(b"{}".to_vec()));
        assert_eq!(base64url_decode("_-8"), Some(vec![0xff, 0xef]));
        for bad in ["e", "e30=", "e3 0", "e31", "ab+/", "é"] {
            assert_eq!(base64url_decode(bad), None, "{bad}");
        }
    }

    #[test]
    fn fuzz_never_panics() {
        let mut x: u32 = 0x1234_5678;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x
        };
        let good = token(FULL).into_bytes();
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/";
        for round in 0..20_000 {
            let mut t = good.clone();
            for _ in 0..(1 + next() % 4) {
                let pos = next() as usize % t.len();
                t[pos] = alphabet[next() as usize % alphabet.len()];
            }
            if round % 3 == 0 {
                t.truncate(next() as usize % t.len());
            }
            let s = String::from_utf8(t).unwrap();
            let _ = decode_claims(&s);
            let _ = decode_times(&s);
        }
    }
}
