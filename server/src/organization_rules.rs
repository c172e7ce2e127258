//! Input rules for organizations, roles and permissions: names, slugs (checked, or made from a name),
//! role and permission keys, invitation expiry, list searches; and the instance's organization
//! settings as the Backend API reports them.

use hallpass_protocol::{ErrorCode, OrganizationSettings};
use unicode_normalization::UnicodeNormalization;

use crate::config::Config;
use crate::error::ApiError;
use crate::store::roles::{MAX_PERMISSIONS, MAX_ROLES};

/// Longest organization, role or permission name.
pub const MAX_NAME_CHARS: usize = 256;
/// Longest role or permission description.
pub const MAX_DESCRIPTION_CHARS: usize = 1024;
pub const MIN_SLUG_LEN: usize = 2;
pub const MAX_SLUG_LEN: usize = 64;
/// Longest part of a key (`org:<part>` or `org:<part>:<part>`).
pub const MAX_KEY_PART_LEN: usize = 64;
/// Longest search string of a list.
pub const MAX_QUERY_CHARS: usize = 256;
/// Largest `max_allowed_memberships` (a bound, not a plan: `0` means no limit).
pub const MAX_MEMBERSHIPS_LIMIT: i64 = 1_000_000;
/// The range of an invitation's `expires_in_days`.
pub const INVITATION_DAYS: std::ops::RangeInclusive<i64> = 1..=365;

/// A name (of an organization, role or permission): trimmed, 1 to 256 characters, no control
/// characters.
pub fn name(raw: &str, param: &str) -> Result<String, ApiError> {
    let v = raw.trim();
    if v.is_empty() {
        return Err(ApiError::unprocessable(ErrorCode::FormParamMissing, format!("`{param}` is required"))
            .param(param));
    }
    if v.chars().count() > MAX_NAME_CHARS {
        return Err(too_long(param, MAX_NAME_CHARS));
    }
    if v.chars().any(char::is_control) {
        return Err(format_invalid(param, "must not contain control characters"));
    }
    Ok(v.to_owned())
}

/// A description: trimmed, at most 1024 characters, no control characters but line breaks.
pub fn description(raw: &str, param: &str) -> Result<String, ApiError> {
    let v = raw.trim();
    if v.chars().count() > MAX_DESCRIPTION_CHARS {
        return Err(too_long(param, MAX_DESCRIPTION_CHARS));
    }
    if v.chars().any(|c| c.is_control() && c != '\n') {
        return Err(format_invalid(param, "must not contain control characters"));
    }
    Ok(v.to_owned())
}

/// True for a well-formed slug: 2 to 64 of lower-case ASCII letters and digits, in groups joined by
/// single hyphens (`acme`, `acme-inc-2`). Never `_`, so a slug can never be mistaken for an id.
pub fn is_slug(s: &str) -> bool {
    (MIN_SLUG_LEN..=MAX_SLUG_LEN).contains(&s.len())
        && s.split('-').all(|group| {
            !group.is_empty() && group.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

/// A slug as given: trimmed and lower-cased, then it must be [`is_slug`].
pub fn slug(raw: &str) -> Result<String, ApiError> {
    let v = raw.trim().to_ascii_lowercase();
    if is_slug(&v) {
        return Ok(v);
    }
    Err(format_invalid(
        "slug",
        "must be 2 to 64 lower-case letters and digits, in groups joined by single hyphens (acme-inc)",
    ))
}

/// The slug made from a name when none is given: letters (accents dropped) and digits, lower-case,
/// everything else a hyphen (`Ünïcode & Co.` → `unicode-co`), at most 48 characters (room for the
/// suffix [`slug_with_suffix`] adds); `org` when nothing usable is left.
pub fn slug_from_name(name: &str) -> String {
    let mut out = String::new();
    for c in name.nfkd() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if is_combining_mark(c) {
            // The accent NFKD split off its letter (`é` → `e` + U+0301): dropped.
        } else if !out.ends_with('-') {
            // Anything else (spaces, punctuation, letters without an ASCII base) separates.
            out.push('-');
        }
        if out.len() >= 48 {
            break;
        }
    }
    let trimmed = out.trim_matches('-').to_owned();
    if trimmed.len() < MIN_SLUG_LEN { "org".to_owned() } else { trimmed }
}

/// `base-xxxxxx`: a made-up slug that collided, with six random characters after it.
pub fn slug_with_suffix(base: &str, random: &str) -> String {
    let keep = MAX_SLUG_LEN - 1 - random.len();
    let base = base.get(..keep.min(base.len())).unwrap_or(base).trim_end_matches('-');
    format!("{base}-{}", random.to_ascii_lowercase())
}

fn is_combining_mark(c: char) -> bool {
    matches!(c, '\u{0300}'..='\u{036f}' | '\u{1ab0}'..='\u{1aff}' | '\u{1dc0}'..='\u{1dff}' | '\u{20d0}'..='\u{20ff}' | '\u{fe20}'..='\u{fe2f}')
}

/// One part of a key: 1 to 64 of lower-case ASCII letters, digits, `_` and `-`.
fn is_key_part(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_KEY_PART_LEN
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

/// A role key: `org:<name>`.
pub fn role_key(raw: &str, param: &str) -> Result<String, ApiError> {
    let v = raw.trim();
    match v.strip_prefix("org:") {
        Some(name) if is_key_part(name) => Ok(v.to_owned()),
        _ => Err(format_invalid(
            param,
            "must be `org:` and 1 to 64 lower-case letters, digits, `_` or `-` (org:billing)",
        )),
    }
}

/// A custom permission key: `org:<feature>:<action>`, the feature not starting with `sys_` (those
/// are the system permissions').
pub fn permission_key(raw: &str, param: &str) -> Result<String, ApiError> {
    let v = raw.trim();
    let parts = v.strip_prefix("org:").and_then(|rest| rest.split_once(':'));
    match parts {
        Some((feature, _)) if feature.starts_with("sys_") => Err(ApiError::unprocessable(
            ErrorCode::OrganizationSystemPermissionImmutable,
            "Permissions under `org:sys_` are the system's",
        )
        .with_long_message("Custom permissions need a feature that does not start with `sys_`.")
        .param(param)),
        Some((feature, action)) if is_key_part(feature) && is_key_part(action) => Ok(v.to_owned()),
        _ => Err(format_invalid(
            param,
            "must be `org:<feature>:<action>`, each part 1 to 64 lower-case letters, digits, `_` or `-`",
        )),
    }
}

/// `max_allowed_memberships`: 0 (no limit) to 1,000,000.
pub fn max_allowed_memberships(v: i64) -> Result<i64, ApiError> {
    if (0..=MAX_MEMBERSHIPS_LIMIT).contains(&v) {
        return Ok(v);
    }
    Err(ApiError::unprocessable(
        ErrorCode::FormParamValueInvalid,
        format!("`max_allowed_memberships` must be 0 (no limit) to {MAX_MEMBERSHIPS_LIMIT}"),
    )
    .param("max_allowed_memberships"))
}

/// `expires_in_days` of an invitation: 1 to 365.
pub fn expires_in_days(v: i64) -> Result<i64, ApiError> {
    if INVITATION_DAYS.contains(&v) {
        return Ok(v);
    }
    Err(ApiError::unprocessable(ErrorCode::FormParamValueInvalid, "`expires_in_days` must be 1 to 365")
        .param("expires_in_days"))
}

/// A list's search string as the store's `LIKE` pattern: trimmed, lower-cased, `%`, `_` and `\`
/// escaped (with `\`), between `%…%`; `None` for no search.
pub fn search_pattern(query: Option<&str>) -> Result<Option<String>, ApiError> {
    let Some(q) = query.map(str::trim).filter(|q| !q.is_empty()) else { return Ok(None) };
    if q.chars().count() > MAX_QUERY_CHARS {
        return Err(too_long("query", MAX_QUERY_CHARS));
    }
    let mut pattern = String::with_capacity(q.len() + 2);
    pattern.push('%');
    for c in q.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    Ok(Some(pattern))
}

/// The instance's organization settings, from its configuration.
pub fn settings(config: &Config) -> OrganizationSettings {
    OrganizationSettings {
        object: "organization_settings".into(),
        enabled: true,
        max_allowed_memberships: config.organization_max_allowed_memberships,
        max_allowed_roles: MAX_ROLES,
        max_allowed_permissions: MAX_PERMISSIONS,
        creator_role: config.organization_creator_role.clone(),
        default_role: config.organization_default_role.clone(),
        domains_default_role: config.organization_default_role.clone(),
        admin_delete_enabled: config.organization_admin_delete_enabled,
        create_organizations_limit: config.organization_create_limit,
        invitation_expiry_days: config.organization_invitation_expiry_days,
        domains_enabled: false,
        slug_disabled: false,
        domains_enrollment_modes: Vec::new(),
    }
}

/// Checks the organization settings of a configuration (at start): limits in range. Whether the
/// named roles exist is checked against the database (`AppState::new`).
pub fn check_config(config: &Config) -> Result<(), String> {
    if !(0..=MAX_MEMBERSHIPS_LIMIT).contains(&config.organization_max_allowed_memberships) {
        return Err(format!(
            "HALLPASS_ORGANIZATION_MAX_ALLOWED_MEMBERSHIPS must be 0 to {MAX_MEMBERSHIPS_LIMIT}"
        ));
    }
    if config.organization_create_limit < 0 {
        return Err("HALLPASS_ORGANIZATION_CREATE_LIMIT must be 0 (no limit) or more".into());
    }
    if !INVITATION_DAYS.contains(&config.organization_invitation_expiry_days) {
        return Err("HALLPASS_ORGANIZATION_INVITATION_EXPIRY_DAYS must be 1 to 365".into());
    }
    for (value, var) in [
        (&config.organization_creator_role, "HALLPASS_ORGANIZATION_CREATOR_ROLE"),
        (&config.organization_default_role, "HALLPASS_ORGANIZATION_DEFAULT_ROLE"),
    ] {
        if role_key(value, var).is_err() {
            return Err(format!("{var} must be a role key (org:<name>), not `{value}`"));
        }
    }
    Ok(())
}

fn format_invalid(param: &str, rule: &str) -> ApiError {
    ApiError::unprocessable(ErrorCode::FormParamFormatInvalid, format!("`{param}` is invalid"))
        .with_long_message(format!("`{param}` {rule}."))
        .param(param)
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
    fn slugs_are_lower_case_groups_joined_by_single_hyphens() {
        for ok in ["ab", "acme", "acme-inc", "a1-b2-c3", &"a".repeat(64)] {
            assert!(is_slug(ok), "{ok}");
        }
        for bad in
            ["", "a", "-acme", "acme-", "ac--me", "Acme", "ac_me", "org_1", "ac me", "é", &"a".repeat(65)]
        {
            assert!(!is_slug(bad), "{bad}");
        }
        assert_eq!(slug("  Acme-Inc ").unwrap(), "acme-inc");
        assert_eq!(slug("acme_inc").unwrap_err().code, ErrorCode::FormParamFormatInvalid);
    }

    #[test]
    fn slugs_made_from_names_are_valid_slugs() {
        for (name, expected) in [
            ("Acme Inc.", "acme-inc"),
            ("Ünïcode & Co", "unicode-co"),
            ("  --Hello,   World--  ", "hello-world"),
            ("東京", "org"),
            ("!", "org"),
            ("A", "org"),
            ("Café Crème 2", "cafe-creme-2"),
        ] {
            let s = slug_from_name(name);
            assert_eq!(s, expected, "{name}");
            assert!(is_slug(&s), "{s}");
        }
        let long = slug_from_name(&"x y ".repeat(100));
        assert!(is_slug(&long) && long.len() <= 48, "{long}");
        let suffixed = slug_with_suffix(&"a".repeat(64), "Q1w2E3");
        assert!(is_slug(&suffixed) && suffixed.ends_with("-q1w2e3"), "{suffixed}");
        assert_eq!(slug_with_suffix("acme", "x1y2z3"), "acme-x1y2z3");
    }

    #[test]
    fn keys_are_checked_and_sys_features_are_the_systems() {
        assert_eq!(role_key("org:billing-admin", "key").unwrap(), "org:billing-admin");
        for bad in
            ["billing", "org:", "org:Billing", "org:a:b", "org:a b", &format!("org:{}", "a".repeat(65))]
        {
            assert_eq!(role_key(bad, "key").unwrap_err().code, ErrorCode::FormParamFormatInvalid, "{bad}");
        }
        assert_eq!(permission_key("org:invoices:read", "key").unwrap(), "org:invoices:read");
        for bad in ["org:invoices", "invoices:read", "org::read", "org:a:b:c", "org:a,b:read"] {
            assert_eq!(
                permission_key(bad, "key").unwrap_err().code,
                ErrorCode::FormParamFormatInvalid,
                "{bad}"
            );
        }
        assert_eq!(
            permission_key("org:sys_profile:manage", "key").unwrap_err().code,
            ErrorCode::OrganizationSystemPermissionImmutable
        );
    }

    #[test]
    fn names_searches_and_limits() {
        assert_eq!(name("  Acme ", "name").unwrap(), "Acme");
        assert_eq!(name("  ", "name").unwrap_err().code, ErrorCode::FormParamMissing);
        assert_eq!(name("a\u{0}b", "name").unwrap_err().code, ErrorCode::FormParamFormatInvalid);
        assert_eq!(name(&"x".repeat(257), "name").unwrap_err().code, ErrorCode::FormParamTooLong);
        assert_eq!(search_pattern(Some(" 50%_A\\ ")).unwrap().as_deref(), Some("%50\\%\\_a\\\\%"));
        assert_eq!(search_pattern(Some("  ")).unwrap(), None);
        assert_eq!(search_pattern(None).unwrap(), None);
        assert!(search_pattern(Some(&"q".repeat(257))).is_err());
        assert!(max_allowed_memberships(-1).is_err() && max_allowed_memberships(0).is_ok());
        assert!(expires_in_days(0).is_err() && expires_in_days(365).is_ok() && expires_in_days(366).is_err());
        let mut config = Config::defaults();
        assert_eq!(check_config(&config), Ok(()));
        config.organization_creator_role = "admin".into();
        assert!(check_config(&config).is_err());
    }
}
