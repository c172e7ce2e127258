//! Input rules for what users type: email normalisation, password rules, name and metadata limits.

use hallpass_protocol::{ErrorCode, Metadata};

use crate::error::ApiError;

pub const MAX_EMAIL_LEN: usize = 254;
pub const MIN_PASSWORD_CHARS: usize = 8;
/// Bounded so hashing cost and memory stay bounded too.
pub const MAX_PASSWORD_CHARS: usize = 256;
pub const MAX_NAME_CHARS: usize = 256;
/// Serialised size limit of one metadata object (Clerk's limit).
pub const MAX_METADATA_BYTES: usize = 8 * 1024;

/// Trims and lower-cases an email address and checks its shape; `form_param_format_invalid`
/// otherwise. Deliberately simple (one `@`, a dotted domain, no spaces or control characters):
/// the real proof of an address is a verification mail, not a regex.
pub fn email(raw: &str, param: &str) -> Result<String, ApiError> {
    let email = raw.trim().to_lowercase();
    let invalid = || {
        ApiError::unprocessable(ErrorCode::FormParamFormatInvalid, "Enter a valid email address")
            .with_long_message(format!("`{param}` must be a valid email address."))
            .param(param)
    };
    if email.is_empty() {
        return Err(
            ApiError::unprocessable(ErrorCode::FormParamMissing, "Enter an email address").param(param)
        );
    }
    if email.len() > MAX_EMAIL_LEN {
        return Err(invalid());
    }
    let (local, domain) = email.split_once('@').ok_or_else(invalid)?;
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local.chars().all(|c| !c.is_whitespace() && !c.is_control() && !"@()<>[]\\,;:\"".contains(c));
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_alphanumeric() || c == '-')
        });
    if local_ok && domain_ok { Ok(email) } else { Err(invalid()) }
}

/// Password rules for sign-up: 8 to 256 characters, not the email address.
pub fn new_password(password: &str, email: &str) -> Result<(), ApiError> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(ApiError::unprocessable(
            ErrorCode::FormPasswordTooShort,
            format!("Passwords must be {MIN_PASSWORD_CHARS} characters or more"),
        )
        .param("password"));
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err(ApiError::unprocessable(
            ErrorCode::FormParamTooLong,
            format!("Passwords must be {MAX_PASSWORD_CHARS} characters or fewer"),
        )
        .param("password"));
    }
    if password.trim().to_lowercase() == email {
        return Err(ApiError::unprocessable(
            ErrorCode::FormPasswordValidationFailed,
            "Your password must not be your email address",
        )
        .param("password"));
    }
    Ok(())
}

/// A first or last name: trimmed, empty becomes `None`, at most 256 characters.
pub fn name(value: Option<String>, param: &str) -> Result<Option<String>, ApiError> {
    let Some(v) = value else { return Ok(None) };
    let v = v.trim();
    if v.chars().count() > MAX_NAME_CHARS {
        return Err(too_long(param, MAX_NAME_CHARS));
    }
    if v.chars().any(char::is_control) {
        return Err(ApiError::unprocessable(
            ErrorCode::FormParamFormatInvalid,
            format!("`{param}` is invalid"),
        )
        .param(param));
    }
    Ok(if v.is_empty() { None } else { Some(v.to_owned()) })
}

/// A metadata object within the size limit.
pub fn metadata(value: &Metadata, param: &str) -> Result<(), ApiError> {
    let size = serde_json::to_vec(value).map(|v| v.len()).unwrap_or(usize::MAX);
    if size > MAX_METADATA_BYTES {
        return Err(too_long(param, MAX_METADATA_BYTES));
    }
    Ok(())
}

fn too_long(param: &str, max: usize) -> ApiError {
    ApiError::unprocessable(ErrorCode::FormParamTooLong, format!("`{param}` is too long"))
        .with_long_message(format!("`{param}` must be at most {max} characters."))
        .param(param)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_trimmed_lowercased_and_checked() {
        assert_eq!(email("  Ada@Example.COM ", "e").unwrap(), "ada@example.com");
        assert_eq!(email("a.b+tag@sub.example.co", "e").unwrap(), "a.b+tag@sub.example.co");
        for bad in [
            "plain",
            "@example.com",
            "a@",
            "a@b",
            "a b@example.com",
            "a@exa mple.com",
            "a@@b.com",
            "a@-b.com",
            "a..b@c.com",
        ] {
            let e = email(bad, "e").unwrap_err();
            assert_eq!(e.code, ErrorCode::FormParamFormatInvalid, "{bad}");
        }
        assert_eq!(email("   ", "e").unwrap_err().code, ErrorCode::FormParamMissing);
        assert!(email(&format!("{}@example.com", "a".repeat(300)), "e").is_err());
    }

    #[test]
    fn password_rules() {
        assert!(new_password("long enough", "a@b.co").is_ok());
        assert_eq!(new_password("short", "a@b.co").unwrap_err().code, ErrorCode::FormPasswordTooShort);
        assert_eq!(new_password("ééééééé", "a@b.co").unwrap_err().code, ErrorCode::FormPasswordTooShort);
        assert_eq!(new_password(&"x".repeat(257), "a@b.co").unwrap_err().code, ErrorCode::FormParamTooLong);
        assert_eq!(
            new_password("Ada@Example.com", "ada@example.com").unwrap_err().code,
            ErrorCode::FormPasswordValidationFailed
        );
    }

    #[test]
    fn names_and_metadata_are_bounded() {
        assert_eq!(name(Some("  Ada ".into()), "first_name").unwrap().as_deref(), Some("Ada"));
        assert_eq!(name(Some("".into()), "first_name").unwrap(), None);
        assert!(name(Some("x".repeat(257)), "first_name").is_err());
        let mut m = Metadata::new();
        m.insert("k".into(), "v".repeat(9000).into());
        assert_eq!(metadata(&m, "unsafe_metadata").unwrap_err().code, ErrorCode::FormParamTooLong);
    }
}
