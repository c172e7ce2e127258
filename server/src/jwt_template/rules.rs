//! Input rules for JWT templates: name, claims, lifetime and clock skew.
//!
//! Messages never echo the offending value: a hostile name or claim could be huge, or be meant for
//! someone's log viewer.

use std::ops::RangeInclusive;

use hallpass_protocol::{ErrorCode, JwtTemplate, Metadata};
use serde_json::Value;

use crate::error::ApiError;
use crate::validate;

pub const MAX_NAME_CHARS: usize = JwtTemplate::MAX_NAME_LEN;
/// Serialised size limit of `claims` (as for metadata).
pub const MAX_CLAIMS_BYTES: usize = validate::MAX_METADATA_BYTES;
/// Nesting limit of `claims`: the object itself is level 1.
pub const MAX_CLAIMS_DEPTH: usize = 10;
/// Seconds (Clerk's bounds).
pub const LIFETIME_SECS: RangeInclusive<i64> = 30..=315_360_000;
pub const DEFAULT_LIFETIME_SECS: u32 = 60;
/// Seconds (Clerk's bounds).
pub const CLOCK_SKEW_SECS: RangeInclusive<i64> = 0..=300;
pub const DEFAULT_CLOCK_SKEW_SECS: u32 = 5;
/// Claims the server sets on every template token (or on session tokens, for `v` and `o`), so a
/// template may not set them.
pub const RESERVED_CLAIMS: [&str; 10] = ["sub", "iat", "exp", "nbf", "iss", "azp", "sid", "jti", "v", "o"];

/// True for a well-formed template name (the protocol's rule, which the SDK checks too).
pub fn is_name(name: &str) -> bool {
    JwtTemplate::is_valid_name(name)
}

/// A template name, checked.
pub fn name(name: &str) -> Result<(), ApiError> {
    if name.is_empty() {
        return Err(
            ApiError::unprocessable(ErrorCode::FormParamMissing, "Enter a template name").param("name")
        );
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(ApiError::unprocessable(ErrorCode::FormParamTooLong, "`name` is too long")
            .with_long_message(format!("`name` must be at most {MAX_NAME_CHARS} characters."))
            .param("name"));
    }
    if !is_name(name) {
        return Err(ApiError::unprocessable(ErrorCode::FormParamFormatInvalid, "`name` is invalid")
            .with_long_message("`name` may contain only letters A-Z and a-z, digits, `_` and `-`.")
            .param("name"));
    }
    Ok(())
}

/// Template claims: at most 8 KiB serialised, 10 levels deep, and no reserved claim at the top.
pub fn claims(claims: &Metadata) -> Result<(), ApiError> {
    validate::metadata(claims, "claims")?;
    if depth_of_object(claims) > MAX_CLAIMS_DEPTH {
        return Err(ApiError::unprocessable(
            ErrorCode::FormParamValueInvalid,
            "`claims` is nested too deeply",
        )
        .with_long_message(format!("`claims` may be at most {MAX_CLAIMS_DEPTH} levels deep."))
        .param("claims"));
    }
    if let Some(reserved) = RESERVED_CLAIMS.iter().find(|c| claims.contains_key(**c)) {
        return Err(ApiError::unprocessable(ErrorCode::JwtTemplateReservedClaim, "Reserved claim used")
            .with_long_message(format!(
                "You can't use the reserved claim `{reserved}`: the server sets it on every token."
            ))
            .param("claims")
            .with_meta("claim", *reserved));
    }
    Ok(())
}

fn depth_of_object(map: &Metadata) -> usize {
    1 + map.values().map(depth).max().unwrap_or(0)
}

/// Levels of objects and arrays in `v` (a scalar is 0). Recursion is bounded by the JSON parser's
/// own nesting limit (128) and the body size limit.
fn depth(v: &Value) -> usize {
    match v {
        Value::Object(map) => depth_of_object(map),
        Value::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

/// `lifetime` in seconds.
pub fn lifetime(secs: i64) -> Result<u32, ApiError> {
    seconds(secs, LIFETIME_SECS, "lifetime")
}

/// `allowed_clock_skew` in seconds.
pub fn clock_skew(secs: i64) -> Result<u32, ApiError> {
    seconds(secs, CLOCK_SKEW_SECS, "allowed_clock_skew")
}

fn seconds(secs: i64, range: RangeInclusive<i64>, param: &str) -> Result<u32, ApiError> {
    let out_of_range = || {
        ApiError::unprocessable(ErrorCode::FormParamValueInvalid, format!("`{param}` is out of range"))
            .with_long_message(format!(
                "`{param}` must be between {} and {} seconds.",
                range.start(),
                range.end()
            ))
            .param(param)
    };
    if !range.contains(&secs) {
        return Err(out_of_range());
    }
    u32::try_from(secs).map_err(|_| out_of_range())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Metadata {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn names() {
        for ok in ["supabase", "a", "A-b_9", &"x".repeat(64)] {
            assert!(name(ok).is_ok(), "{ok}");
        }
        assert_eq!(name("").unwrap_err().code, ErrorCode::FormParamMissing);
        assert_eq!(name(&"x".repeat(65)).unwrap_err().code, ErrorCode::FormParamTooLong);
        assert_eq!(name(&"é".repeat(65)).unwrap_err().code, ErrorCode::FormParamTooLong);
        for bad in ["../etc", "a/b", "a b", "é", "a.b", "%2e", "a\u{0}", "ｓupabase", "a?b"] {
            assert_eq!(name(bad).unwrap_err().code, ErrorCode::FormParamFormatInvalid, "{bad:?}");
            assert!(!is_name(bad));
        }
    }

    #[test]
    fn claims_depth_size_and_reserved_names() {
        let mut deep = json!("leaf");
        for _ in 0..9 {
            deep = json!({ "k": deep });
        }
        assert!(claims(&obj(json!({ "k": deep.clone() }))).is_ok(), "10 levels");
        let too_deep = obj(json!({ "k": [deep] }));
        assert_eq!(claims(&too_deep).unwrap_err().code, ErrorCode::FormParamValueInvalid);
        let big = obj(json!({ "blob": "x".repeat(9000) }));
        assert_eq!(claims(&big).unwrap_err().code, ErrorCode::FormParamTooLong);
        for reserved in RESERVED_CLAIMS {
            let e = claims(&obj(json!({ "aud": "x", reserved: 1 }))).unwrap_err();
            assert_eq!(e.code, ErrorCode::JwtTemplateReservedClaim);
            assert_eq!(e.meta["claim"], reserved);
        }
        assert!(claims(&obj(json!({"nested": {"sub": 1, "exp": 2}, "SUB": 1}))).is_ok());
    }

    #[test]
    fn lifetimes_and_skews() {
        assert_eq!(lifetime(30).unwrap(), 30);
        assert_eq!(lifetime(315_360_000).unwrap(), 315_360_000);
        for bad in [29, 315_360_001, -1, i64::MAX, i64::MIN] {
            assert_eq!(lifetime(bad).unwrap_err().code, ErrorCode::FormParamValueInvalid);
        }
        assert_eq!(clock_skew(0).unwrap(), 0);
        assert_eq!(clock_skew(300).unwrap(), 300);
        assert!(clock_skew(301).is_err() && clock_skew(-1).is_err());
    }
}
