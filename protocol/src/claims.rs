//! Session token claims, shaped like Clerk's v2 session token, and the encoding of the active
//! organization in them — written by the server ([`OrgClaimsV2::encode`]) and read back
//! ([`SessionClaims::organization`]) exactly as Clerk's own backend libraries read it.
//!
//! Whoever reads claims must verify the signature first (the server, an app's backend). The SDK
//! does not read tokens: the server sends the decoded organization ([`OrgClaims`]) beside every
//! session token it hands out (`AuthResponse::organization`).
//!
//! # The active organization in a v2 token
//!
//! Clerk's v2 token (`v: 2`) carries the active organization as `o: { id, slg, rol, per, fpm }`
//! ([`OrgClaimsV2`]) plus a top-level `fea`, and `@clerk/shared`'s `jwtPayloadParser` derives from
//! them:
//! - `orgId` = `o.id`, `orgSlug` = `o.slg`, `orgRole` = `"org:" + o.rol` (`rol` has no prefix);
//! - `orgPermissions`: `fea` lists features with a scope (`o:invoices,u:beta`; `o`, `ou` and `uo`
//!   are the organization's), `per` lists permission actions (`read,manage`), and `fpm` holds one
//!   decimal bitmask per organization feature, in `fea` order: bit `i` (least significant first) set
//!   means `org:<feature>:<per[i]>` is granted.
//!
//! So `org:invoices:read`, `org:invoices:manage` and `org:members:read` become `fea: "o:invoices,
//! o:members"`, `per: "manage,read"`, `fpm: "3,2"`.
//!
//! **System permissions go into the token** (`org:sys_profile:manage` as feature `sys_profile`, action
//! `manage`), unlike Clerk's tokens. In Clerk the browser sees them (from the membership it fetches)
//! while `auth().has()` on the app's backend answers false for them; Hallpass's browser sees them
//! too (in [`OrgClaims`], from the server), and with them in the token an app's backend agrees with
//! its browser — a `<Protect permission="org:sys_memberships:manage">` around an "Invite" button and
//! the backend route behind it give the same answer. The cost is about 60 bytes a token, and
//! `has({ feature: "sys_memberships" })` is true on a backend using Clerk's parser (features double
//! as permission groups in Clerk's encoding; Hallpass has no billing features for it to collide
//! with). Nothing is granted by the token alone: the server checks the membership in its database on
//! every organization call.

use serde::{Deserialize, Serialize};

use crate::Wire;

/// The claims of a session token.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionClaims {
    /// The user id.
    pub sub: String,
    /// The session id.
    pub sid: String,
    /// The issuer: the server's Frontend API URL.
    pub iss: String,
    /// Authorised party: the Origin of the request that minted the token, when there was one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub azp: Option<String>,
    /// Expiry, in seconds since the epoch.
    pub exp: i64,
    pub iat: i64,
    pub nbf: i64,
    pub jti: String,
    /// Token version: 2.
    #[serde(default)]
    pub v: u8,
    /// Features, each with its scope (`o:invoices,o:sys_memberships`): the features of the active
    /// organization's permissions (see the module doc). Absent without an active organization.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fea: Option<String>,
    /// The active organization, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub o: Option<OrgClaimsV2>,
}

/// The `o` claim: the session's active organization, in Clerk's v2 encoding (see the module doc).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgClaimsV2 {
    /// `org_…`
    pub id: String,
    /// The slug.
    #[serde(default)]
    pub slg: String,
    /// The role key without its `org:` prefix (`admin`).
    #[serde(default)]
    pub rol: String,
    /// Permission actions, comma-separated (`manage,read`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub per: String,
    /// One decimal bitmask over `per` for each organization feature of `fea`, comma-separated.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub fpm: String,
}

/// The active organization, decoded: what Clerk's parser derives from a v2 token's `o` and `fea`
/// claims, and what `useAuth()` and `auth()` report as `orgId` (`id`), `orgSlug` (`slg`), `orgRole`
/// (`rol`, with its `org:` prefix) and `orgPermissions` (`per`). The server sends it beside each
/// session token it hands out, so the browser never decodes a token.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, Wire)]
pub struct OrgClaims {
    /// `org_…`
    pub id: String,
    /// The slug.
    #[serde(default)]
    pub slg: String,
    /// The role key with its prefix (`org:admin`); empty when the token names no role.
    #[serde(default)]
    pub rol: String,
    /// The permissions, `org:<feature>:<action>`, system ones included.
    #[serde(default)]
    pub per: Vec<String>,
}

/// Longest decimal bitmask read (digits). Clerk's parser takes any length; a bound keeps decoding a
/// hostile token linear. 600 digits is about 2000 actions, far beyond any real `per`.
const MAX_MASK_DIGITS: usize = 600;

impl SessionClaims {
    /// The active organization, decoded as Clerk's `jwtPayloadParser` does for `v: 2` tokens (see the
    /// module doc); `None` without an `o` claim. Malformed `fea`/`per`/`fpm` yield no permissions
    /// (fail closed) rather than an error.
    pub fn organization(&self) -> Option<OrgClaims> {
        let o = self.o.as_ref()?;
        Some(OrgClaims {
            id: o.id.clone(),
            slg: o.slg.clone(),
            rol: if o.rol.is_empty() { String::new() } else { format!("org:{}", o.rol) },
            per: decode_permissions(self.fea.as_deref(), &o.per, &o.fpm),
        })
    }
}

impl OrgClaimsV2 {
    /// The `o` claim and the `fea` claim for a membership of organization `id` (slug `slug`) with the
    /// role `role_key` (`org:admin`) granting `permissions` (`org:<feature>:<action>`; anything else
    /// is left out). Features and actions are sorted, so the same grant always encodes the same way.
    pub fn encode(
        id: &str,
        slug: &str,
        role_key: &str,
        permissions: &[impl AsRef<str>],
    ) -> (OrgClaimsV2, Option<String>) {
        let mut parsed: Vec<(&str, &str)> =
            permissions.iter().filter_map(|p| split_permission(p.as_ref())).collect();
        parsed.sort_unstable();
        parsed.dedup();
        let mut features: Vec<&str> = parsed.iter().map(|(f, _)| *f).collect();
        features.dedup();
        let mut actions: Vec<&str> = parsed.iter().map(|(_, a)| *a).collect();
        actions.sort_unstable();
        actions.dedup();
        let masks: Vec<String> = features
            .iter()
            .map(|feature| {
                let bits: Vec<bool> = actions.iter().map(|a| parsed.contains(&(*feature, *a))).collect();
                bits_to_decimal(&bits)
            })
            .collect();
        let fea = (!features.is_empty())
            .then(|| features.iter().map(|f| format!("o:{f}")).collect::<Vec<_>>().join(","));
        let claims = OrgClaimsV2 {
            id: id.to_owned(),
            slg: slug.to_owned(),
            rol: role_key.strip_prefix("org:").unwrap_or(role_key).to_owned(),
            per: actions.join(","),
            fpm: masks.join(","),
        };
        (claims, fea)
    }
}

/// `org:<feature>:<action>` → `(feature, action)`; neither may be empty or hold `,` or `:` (they are
/// list separators in the token).
fn split_permission(key: &str) -> Option<(&str, &str)> {
    let rest = key.strip_prefix("org:")?;
    let (feature, action) = rest.split_once(':')?;
    let ok = |s: &str| !s.is_empty() && !s.contains([',', ':']) && s.trim() == s;
    (ok(feature) && ok(action)).then_some((feature, action))
}

/// Clerk's `buildOrgPermissions(splitByScope(fea).org, parsePermissions({ per, fpm }))`.
fn decode_permissions(fea: Option<&str>, per: &str, fpm: &str) -> Vec<String> {
    if per.is_empty() || fpm.is_empty() {
        return Vec::new();
    }
    let Some(features) = org_features(fea.unwrap_or_default()) else { return Vec::new() };
    let actions: Vec<&str> = per.split(',').map(str::trim).collect();
    let masks: Vec<Vec<bool>> =
        fpm.split(',').map(|m| decimal_to_bits(m.trim()).unwrap_or_default()).collect();
    let mut out = Vec::new();
    for (feature, bits) in features.iter().zip(&masks) {
        for (action, set) in actions.iter().zip(bits) {
            if *set {
                out.push(format!("org:{feature}:{action}"));
            }
        }
    }
    out
}

/// The organization-scoped features of `fea` (scopes `o`, `ou`, `uo`), in order; `None` when an
/// element has no scope (Clerk's `splitByScope` throws there).
fn org_features(fea: &str) -> Option<Vec<&str>> {
    let mut org = Vec::new();
    if fea.is_empty() {
        return Some(org);
    }
    for part in fea.split(',') {
        let (scope, value) = part.trim().split_once(':')?;
        if matches!(scope, "o" | "ou" | "uo") {
            org.push(value);
        }
    }
    Some(org)
}

/// A non-negative decimal as bits, least significant first; `None` unless it is all ASCII digits
/// (and not absurdly long).
fn decimal_to_bits(decimal: &str) -> Option<Vec<bool>> {
    if decimal.is_empty() || decimal.len() > MAX_MASK_DIGITS || !decimal.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut digits: Vec<u8> = decimal.bytes().map(|b| b - b'0').skip_while(|d| *d == 0).collect();
    let mut bits = Vec::new();
    // Long division by two, most significant digit first, until nothing is left.
    while !digits.is_empty() {
        let mut remainder = 0u8;
        let mut quotient = Vec::with_capacity(digits.len());
        for d in &digits {
            let value = remainder * 10 + d;
            if !(quotient.is_empty() && value / 2 == 0) {
                quotient.push(value / 2);
            }
            remainder = value % 2;
        }
        bits.push(remainder == 1);
        digits = quotient;
    }
    Some(bits)
}

/// Bits (least significant first) as a decimal number of any size.
fn bits_to_decimal(bits: &[bool]) -> String {
    // Little-endian decimal digits; doubled and incremented from the most significant bit down.
    let mut digits: Vec<u8> = vec![0];
    for bit in bits.iter().rev() {
        let mut carry = u8::from(*bit);
        for d in digits.iter_mut() {
            let v = *d * 2 + carry;
            *d = v % 10;
            carry = v / 10;
        }
        if carry > 0 {
            digits.push(carry);
        }
    }
    digits.iter().rev().map(|d| char::from(b'0' + d)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(fea: Option<&str>, o: OrgClaimsV2) -> SessionClaims {
        SessionClaims { v: 2, fea: fea.map(str::to_owned), o: Some(o), ..Default::default() }
    }

    #[test]
    fn decodes_clerks_own_test_vectors() {
        // From @clerk/backend's authObjects.test.ts.
        let o = OrgClaimsV2 {
            id: "org_id".into(),
            slg: "org_slug".into(),
            rol: "admin".into(),
            per: "read,manage".into(),
            fpm: "3".into(),
        };
        let org = claims(Some("o:reservations,o:impersonation"), o.clone()).organization().unwrap();
        assert_eq!(org.rol, "org:admin");
        assert_eq!(org.per, ["org:reservations:read", "org:reservations:manage"]);
        let mixed = OrgClaimsV2 { rol: "member".into(), fpm: "2,3".into(), ..o };
        let org = claims(Some("o:reservations,u:dashboard,uo:support-chat,o:impersonation"), mixed)
            .organization()
            .unwrap();
        assert_eq!(org.per, ["org:reservations:manage", "org:support-chat:read", "org:support-chat:manage"]);
    }

    #[test]
    fn encode_then_decode_gives_the_grant_back() {
        let grant = [
            "org:sys_memberships:read",
            "org:invoices:read",
            "org:sys_profile:manage",
            "org:invoices:manage",
            "org:sys_memberships:manage",
            "org:invoices:read",
            "not-a-permission",
            "org:bad,feature:x",
        ];
        let (o, fea) = OrgClaimsV2::encode("org_1", "acme", "org:admin", &grant);
        assert_eq!(fea.as_deref(), Some("o:invoices,o:sys_memberships,o:sys_profile"));
        assert_eq!((o.rol.as_str(), o.per.as_str(), o.fpm.as_str()), ("admin", "manage,read", "3,3,1"));
        let org = claims(fea.as_deref(), o).organization().unwrap();
        let mut got = org.per.clone();
        got.sort();
        assert_eq!(
            got,
            [
                "org:invoices:manage",
                "org:invoices:read",
                "org:sys_memberships:manage",
                "org:sys_memberships:read",
                "org:sys_profile:manage"
            ]
        );
        assert_eq!((org.id.as_str(), org.slg.as_str(), org.rol.as_str()), ("org_1", "acme", "org:admin"));
        let (none, fea) = OrgClaimsV2::encode("org_1", "acme", "org:viewer", &[] as &[&str]);
        assert_eq!((none.per.as_str(), none.fpm.as_str(), fea), ("", "", None));
        assert!(claims(None, none).organization().unwrap().per.is_empty());
    }

    #[test]
    fn masks_wider_than_any_integer_round_trip() {
        let grant: Vec<String> = (0..150).map(|i| format!("org:f:a{i:03}")).collect();
        let (o, fea) = OrgClaimsV2::encode("org_1", "s", "org:x", &grant);
        assert_eq!(o.fpm.len(), 46, "2^150 - 1 has 46 digits");
        let org = claims(fea.as_deref(), o).organization().unwrap();
        assert_eq!(org.per.len(), 150);
        assert_eq!(bits_to_decimal(&[]), "0");
        assert_eq!(bits_to_decimal(&[false, true, true]), "6");
        assert_eq!(decimal_to_bits("0006"), Some(vec![false, true, true]));
        assert_eq!(decimal_to_bits("0"), Some(vec![]));
        assert_eq!(decimal_to_bits("18446744073709551616").map(|b| b.len()), Some(65));
    }

    #[test]
    fn malformed_claims_grant_nothing() {
        let o = OrgClaimsV2 {
            id: "org_1".into(),
            rol: "admin".into(),
            per: "read".into(),
            fpm: "1".into(),
            ..Default::default()
        };
        for fea in [None, Some(""), Some("reservations"), Some("u:reservations")] {
            assert!(claims(fea, o.clone()).organization().unwrap().per.is_empty(), "{fea:?}");
        }
        for fpm in ["x", "-1", "1.0", "", &"9".repeat(MAX_MASK_DIGITS + 1)] {
            let bad = OrgClaimsV2 { fpm: fpm.to_owned(), ..o.clone() };
            assert!(claims(Some("o:f"), bad).organization().unwrap().per.is_empty(), "{fpm}");
        }
        assert_eq!(claims(Some("o:f"), o.clone()).organization().unwrap().per, ["org:f:read"]);
        let no_role = OrgClaimsV2 { rol: String::new(), ..o };
        assert_eq!(claims(Some("o:f"), no_role).organization().unwrap().rol, "");
        assert_eq!(SessionClaims::default().organization(), None);
    }

    #[test]
    #[cfg(not(target_arch = "wasm32"))]
    fn wire_shape() {
        let (o, fea) = OrgClaimsV2::encode("org_1", "acme", "org:member", &["org:sys_memberships:read"]);
        let c = SessionClaims { sub: "u".into(), v: 2, fea, o: Some(o), ..Default::default() };
        let v = serde_json::to_value(&c).unwrap();
        assert_eq!(v["fea"], "o:sys_memberships");
        assert_eq!(
            v["o"],
            serde_json::json!({"id": "org_1", "slg": "acme", "rol": "member", "per": "read", "fpm": "1"})
        );
        let personal = serde_json::to_value(SessionClaims::default()).unwrap();
        assert!(personal.get("o").is_none() && personal.get("fea").is_none());
    }
}
