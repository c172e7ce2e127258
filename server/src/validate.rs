//! Input rules for what users type: email normalisation and look-alike checks, password rules
//! (length, whitespace, the common-password list), name and metadata limits.

use hallpass_protocol::{ErrorCode, Metadata};
use unicode_normalization::UnicodeNormalization;
use unicode_security::{
    GeneralSecurityProfile, RestrictionLevel, RestrictionLevelDetection,
    is_potential_mixed_script_confusable_char,
};

use crate::common_passwords;
use crate::error::ApiError;

pub const MAX_EMAIL_LEN: usize = 254;
pub const MIN_PASSWORD_CHARS: usize = 8;
/// Bounded so hashing cost and memory stay bounded too.
pub const MAX_PASSWORD_CHARS: usize = 256;
/// Fewer different characters than this (`aaaaaaaa`, `abababab`) is refused at sign-up.
pub const MIN_DISTINCT_CHARS: usize = 4;
pub const MAX_NAME_CHARS: usize = 256;
/// Serialised size limit of one metadata object (Clerk's limit).
pub const MAX_METADATA_BYTES: usize = 8 * 1024;

/// Normalises an email address and checks its shape; `form_param_format_invalid` otherwise, and
/// `form_identifier_confusable` for an address that could pass for another one.
///
/// Normalisation: trimmed, NFKC (so full-width `ａ` and the `ﬁ` ligature become `a` and `fi`),
/// lower-cased; the domain through IDNA (UTS #46: `BÜCHER.de` and `xn--bcher-kva.de` are the same
/// `bücher.de`, which is how it is stored). The shape is deliberately simple (one `@`, a dotted
/// domain, no spaces or control characters): the real proof of an address is a verification mail.
///
/// Look-alikes (UTS #39): outside ASCII, only characters allowed in identifiers (no zero-width or
/// other invisible characters, no symbols); the letters of the local part and of each domain label
/// must be of one script (Latin with Han, Kana or Hangul is fine; Latin with Cyrillic is not); and
/// a label in another script than Latin made only of letters that look Latin (Cyrillic `аре`) is
/// refused too. Sign-in normalises the same way, so an address is found however it is typed.
pub fn email(raw: &str, param: &str) -> Result<String, ApiError> {
    let invalid = || {
        ApiError::unprocessable(ErrorCode::FormParamFormatInvalid, "Enter a valid email address")
            .with_long_message(format!("`{param}` must be a valid email address."))
            .param(param)
    };
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err(
            ApiError::unprocessable(ErrorCode::FormParamMissing, "Enter an email address").param(param)
        );
    }
    // Bounded before any Unicode work (NFKC can grow a string, so the limit is checked again).
    if trimmed.len() > 4 * MAX_EMAIL_LEN {
        return Err(invalid());
    }
    let email: String = trimmed.nfkc().collect::<String>().to_lowercase();
    let (local, domain) = email.split_once('@').ok_or_else(invalid)?;
    if let Some(why) = confusable(local).or_else(|| domain.split('.').find_map(confusable)) {
        return Err(ApiError::unprocessable(
            ErrorCode::FormIdentifierConfusable,
            "This email address contains characters that make it look like another one",
        )
        .with_long_message(format!(
            "`{param}` {why}; type the address in one script, without invisible characters."
        ))
        .param(param));
    }
    let (ascii, mapped) = idna::domain_to_unicode(domain);
    let domain = match mapped {
        Ok(()) if !ascii.is_empty() && idna::domain_to_ascii_strict(&ascii).is_ok() => ascii,
        _ => return Err(invalid()),
    };
    if let Some(why) = domain.split('.').find_map(confusable) {
        return Err(ApiError::unprocessable(
            ErrorCode::FormIdentifierConfusable,
            "This email address contains characters that make it look like another one",
        )
        .with_long_message(format!("`{param}` {why}."))
        .param(param));
    }
    let email = format!("{local}@{domain}");
    if email.len() > MAX_EMAIL_LEN {
        return Err(invalid());
    }
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

/// Why `part` (a local part or one domain label, already NFKC and lower-case) could pass for
/// another string, if it could.
fn confusable(part: &str) -> Option<&'static str> {
    if part.is_ascii() {
        return None;
    }
    if part.chars().any(|c| !c.is_ascii() && !c.identifier_allowed()) {
        return Some("contains an invisible or unusual character");
    }
    let letters: String = part.chars().filter(|c| c.is_alphanumeric()).collect();
    if letters.as_str().detect_restriction_level() > RestrictionLevel::HighlyRestrictive {
        return Some("mixes letters of different scripts");
    }
    let latin = letters.chars().any(|c| c.is_ascii_alphabetic());
    if !latin
        && letters.chars().any(char::is_alphabetic)
        && letters.chars().filter(|c| c.is_alphabetic()).all(is_potential_mixed_script_confusable_char)
    {
        return Some("is written in letters that look like Latin ones");
    }
    None
}

/// Password rules for sign-up: 8 to 256 characters, not only whitespace, not the email address,
/// not on the common-password list, and at least [`MIN_DISTINCT_CHARS`] different characters.
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
    if password.chars().all(char::is_whitespace) {
        return Err(ApiError::unprocessable(
            ErrorCode::FormPasswordWhitespaceOnly,
            "A password cannot be only spaces",
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
    if common_passwords::contains(password) || common_passwords::contains(password.trim()) {
        return Err(ApiError::unprocessable(
            ErrorCode::FormPasswordPwned,
            "This password is one of the most common ones and has appeared in data breaches",
        )
        .with_long_message(
            "Choose a password that is not on lists of leaked passwords: a few unrelated words work well.",
        )
        .param("password"));
    }
    let mut distinct: Vec<char> = password.chars().collect();
    distinct.sort_unstable();
    distinct.dedup();
    if distinct.len() < MIN_DISTINCT_CHARS {
        return Err(ApiError::unprocessable(
            ErrorCode::FormPasswordNotStrongEnough,
            format!("Use at least {MIN_DISTINCT_CHARS} different characters"),
        )
        .with_long_message("A password made of one or two characters repeated is guessed at once.")
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

/// `(limit, offset)` of a list page: 10 items unless `limit` says, 1 to 500, from `offset` 0 or later.
pub fn page(limit: Option<i64>, offset: Option<i64>) -> (i64, i64) {
    (limit.unwrap_or(10).clamp(1, 500), offset.unwrap_or(0).max(0))
}

/// A metadata object within the size limit.
pub fn metadata(value: &Metadata, param: &str) -> Result<(), ApiError> {
    let size = serde_json::to_vec(value).map(|v| v.len()).unwrap_or(usize::MAX);
    if size > MAX_METADATA_BYTES {
        return Err(too_long(param, MAX_METADATA_BYTES));
    }
    Ok(())
}

/// 422 `form_param_too_long` naming `param` and its limit.
pub fn too_long(param: &str, max: usize) -> ApiError {
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
    fn emails_are_normalised_nfkc_and_idna() {
        // Full-width letters and ligatures are their plain forms; the domain is IDNA-mapped.
        assert_eq!(email("\u{ff21}da@Example.com", "e").unwrap(), "ada@example.com");
        assert_eq!(email("\u{fb01}nn@example.com", "e").unwrap(), "finn@example.com");
        assert_eq!(email("bob@B\u{dc}CHER.de", "e").unwrap(), "bob@b\u{fc}cher.de");
        assert_eq!(email("bob@xn--bcher-kva.de", "e").unwrap(), "bob@b\u{fc}cher.de");
        // Single-script non-Latin addresses are fine.
        assert_eq!(
            email("\u{438}\u{432}\u{430}\u{43d}@example.com", "e").unwrap(),
            "\u{438}\u{432}\u{430}\u{43d}@example.com"
        );
        assert_eq!(email("\u{7530}\u{4e2d}@example.jp", "e").unwrap(), "\u{7530}\u{4e2d}@example.jp");
        assert!(email("bob@xn--zz.de", "e").is_err(), "invalid punycode");
    }

    #[test]
    fn look_alike_emails_are_refused() {
        for bad in [
            "alice\u{200b}@example.com",         // zero-width space
            "ali\u{ad}ce@example.com",           // soft hyphen
            "alice\u{202e}@example.com",         // right-to-left override
            "\u{430}lice@example.com",           // Cyrillic а among Latin
            "alice@ex\u{430}mple.com",           // … in the domain
            "alice@exa\u{200b}mple.com",         // invisible in the domain (IDNA would drop it)
            "\u{430}\u{440}\u{435}@example.com", // all Cyrillic, all Latin look-alikes
            "p\u{430}yp\u{430}l@example.com",
        ] {
            assert_eq!(
                email(bad, "e").unwrap_err().code,
                ErrorCode::FormIdentifierConfusable,
                "{}",
                bad.escape_unicode()
            );
        }
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
        for (pw, code) in [
            ("12345678", ErrorCode::FormPasswordPwned),
            ("PASSWORD", ErrorCode::FormPasswordPwned),
            (" iloveyou ", ErrorCode::FormPasswordPwned),
            ("aaaaaaaa", ErrorCode::FormPasswordNotStrongEnough),
            ("abcabcabcabc", ErrorCode::FormPasswordNotStrongEnough),
            ("        ", ErrorCode::FormPasswordWhitespaceOnly),
            ("\t\n \u{3000}    ", ErrorCode::FormPasswordWhitespaceOnly),
        ] {
            assert_eq!(new_password(pw, "a@b.co").unwrap_err().code, code, "{pw:?}");
        }
        assert!(new_password("  spaces around are fine  ", "a@b.co").is_ok());
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
