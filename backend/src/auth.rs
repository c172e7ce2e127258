//! [`Auth`]: who a request is from, as Clerk's auth object has it (`user_id`, `session_id`, the active
//! organization), and [`Auth::has`], which answers a [`Check`] as Clerk's `has()` does: every
//! dimension asked must pass (an organization role or permission, a feature of the token's `fea`),
//! at least one must be asked, and a signed-out request has nothing.

use hallpass_protocol::SessionClaims;

use crate::verify::VerifiedToken;

/// The auth state of a request.
#[derive(Clone, Debug)]
pub enum Auth {
    SignedIn(Box<SignedIn>),
    SignedOut(SignedOut),
}

/// A request with a valid session token.
#[derive(Clone, Debug)]
pub struct SignedIn {
    /// `user_…`
    pub user_id: String,
    /// `sess_…`
    pub session_id: String,
    /// The active organization (`org_…`), if any.
    pub org_id: Option<String>,
    /// Its role, with the `org:` prefix (`org:admin`).
    pub org_role: Option<String>,
    pub org_slug: Option<String>,
    /// `org:<feature>:<action>`, …
    pub org_permissions: Vec<String>,
    /// The token's claims.
    pub claims: SessionClaims,
    /// The `fea` claim: features with their scope.
    features: Option<String>,
    /// The session token itself (to call the Frontend API on the user's behalf).
    token: hallpass_protocol::Secret,
}

/// A request without a usable session token, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedOut {
    /// A stable reason: `session-token-and-uat-missing` when there was no token, otherwise the
    /// token's refusal ([`crate::Error::code`]).
    pub reason: String,
    pub message: String,
}

impl SignedIn {
    pub(crate) fn from_token(verified: VerifiedToken, token: &str) -> SignedIn {
        let claims = verified.claims;
        let org = crate::claims::organization(&claims);
        let features = verified.raw_claims.get("fea").and_then(|v| v.as_str()).map(str::to_owned);
        SignedIn {
            user_id: claims.sub.clone(),
            session_id: claims.sid.clone(),
            org_id: org.as_ref().map(|o| o.id.clone()),
            org_role: org.as_ref().map(|o| o.rol.clone()).filter(|r| !r.is_empty()),
            org_slug: org.as_ref().map(|o| o.slg.clone()),
            org_permissions: org.map(|o| o.per).unwrap_or_default(),
            claims,
            features,
            token: hallpass_protocol::Secret::new(token),
        }
    }

    /// The request's session token.
    pub fn token(&self) -> &str {
        self.token.expose()
    }
}

impl Auth {
    pub fn is_signed_in(&self) -> bool {
        matches!(self, Auth::SignedIn(_))
    }

    pub fn user_id(&self) -> Option<&str> {
        match self {
            Auth::SignedIn(s) => Some(&s.user_id),
            Auth::SignedOut(_) => None,
        }
    }

    pub fn session_id(&self) -> Option<&str> {
        match self {
            Auth::SignedIn(s) => Some(&s.session_id),
            Auth::SignedOut(_) => None,
        }
    }

    pub fn signed_in(&self) -> Option<&SignedIn> {
        match self {
            Auth::SignedIn(s) => Some(s),
            Auth::SignedOut(_) => None,
        }
    }

    /// Whether the signed-in user passes every part of `check` (Clerk's `has()`).
    pub fn has(&self, check: &Check) -> bool {
        let Auth::SignedIn(s) = self else { return false };
        let mut asked = false;
        if check.role.is_some() || check.permission.is_some() {
            asked = true;
            if s.org_id.is_none() {
                return false;
            }
            if let Some(role) = &check.role
                && s.org_role.as_deref().is_none_or(|r| prefixed(r) != prefixed(role))
            {
                return false;
            }
            if let Some(permission) = &check.permission
                && !s.org_permissions.iter().any(|p| *p == prefixed(permission))
            {
                return false;
            }
        }
        if let Some(feature) = &check.feature {
            asked = true;
            if !s.features.as_deref().is_some_and(|fea| has_scoped(fea, feature)) {
                return false;
            }
        }
        asked
    }
}

/// `value` with exactly one `org:` prefix, as Clerk compares roles and permissions.
fn prefixed(value: &str) -> String {
    let mut rest = value;
    while let Some(stripped) = rest.strip_prefix("org:") {
        rest = stripped;
    }
    format!("org:{rest}")
}

/// Clerk's feature check: `feature`, `o:feature`/`org:feature` or `u:feature`/`user:feature`
/// against the scoped list `fea`; false when `fea` has an element without a scope.
fn has_scoped(fea: &str, wanted: &str) -> bool {
    let Some((org, user)) = crate::claims::split_by_scope(fea) else { return false };
    match wanted.split_once(':') {
        None => org.contains(&wanted) || user.contains(&wanted),
        Some(("o" | "org" | "organization", id)) => org.contains(&id),
        Some(("u" | "user", id)) => user.contains(&id),
        Some(_) => false,
    }
}

/// What [`Auth::has`] checks: any combination, all of which must hold.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Check {
    pub role: Option<String>,
    pub permission: Option<String>,
    pub feature: Option<String>,
}

impl Check {
    /// An organization role (`org:admin`; the prefix is optional).
    pub fn role(role: impl Into<String>) -> Check {
        Check { role: Some(role.into()), ..Check::default() }
    }

    /// An organization permission (`org:invoices:read`).
    pub fn permission(permission: impl Into<String>) -> Check {
        Check { permission: Some(permission.into()), ..Check::default() }
    }

    /// A feature of the token's `fea` claim (`invoices`, `o:invoices`, `u:beta`).
    pub fn feature(feature: impl Into<String>) -> Check {
        Check { feature: Some(feature.into()), ..Check::default() }
    }

    /// This check and also `role`.
    pub fn and_role(mut self, role: impl Into<String>) -> Check {
        self.role = Some(role.into());
        self
    }

    /// This check and also `permission`.
    pub fn and_permission(mut self, permission: impl Into<String>) -> Check {
        self.permission = Some(permission.into());
        self
    }
}
