//! Who may call each organization endpoint of the Frontend API: the one table ([`RULES`]) that the
//! handlers authorise with, that server/README.md prints, and that the permission-matrix test
//! (`tests/organizations_matrix.rs`) runs every actor through.
//!
//! The caller is the session token's user; the organization is the one the path names (by id or
//! slug), whatever the session's active one is. Their membership is read from the database on every
//! call — never from the token, which may be a minute old. Outsiders (and removed members) get `404
//! resource_not_found`, exactly as for an organization that does not exist, so an id or slug reveals
//! nothing; members whose role lacks the permission get `403 organization_permission_missing`.

use axum::http::{HeaderMap, Method};
use hallpass_protocol::organizations::system;
use hallpass_protocol::{ErrorCode, paths};

use super::session_auth::authenticate;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::{MemberGrant, SessionRecord};

/// What a call needs of the caller's membership of the organization.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Need {
    /// Any membership.
    Member,
    /// A role granting this permission.
    Permission(&'static str),
}

/// One organization endpoint and what it needs.
#[derive(Clone, Debug)]
pub struct Rule {
    pub method: Method,
    pub path: &'static str,
    pub need: Need,
}

const fn rule(method: Method, path: &'static str, need: Need) -> Rule {
    Rule { method, path, need }
}

pub const GET_ORGANIZATION: Rule = rule(Method::GET, paths::CLIENT_ORGANIZATION, Need::Member);
pub const UPDATE_ORGANIZATION: Rule =
    rule(Method::PATCH, paths::CLIENT_ORGANIZATION, Need::Permission(system::PROFILE_MANAGE));
pub const DELETE_ORGANIZATION: Rule =
    rule(Method::DELETE, paths::CLIENT_ORGANIZATION, Need::Permission(system::PROFILE_DELETE));
pub const LIST_MEMBERS: Rule =
    rule(Method::GET, paths::CLIENT_ORGANIZATION_MEMBERSHIPS, Need::Permission(system::MEMBERSHIPS_READ));
pub const CHANGE_ROLE: Rule =
    rule(Method::PATCH, paths::CLIENT_ORGANIZATION_MEMBERSHIP, Need::Permission(system::MEMBERSHIPS_MANAGE));
/// Removing another member. Removing oneself is [`LEAVE`].
pub const REMOVE_MEMBER: Rule =
    rule(Method::DELETE, paths::CLIENT_ORGANIZATION_MEMBERSHIP, Need::Permission(system::MEMBERSHIPS_MANAGE));
pub const LIST_INVITATIONS: Rule =
    rule(Method::GET, paths::CLIENT_ORGANIZATION_INVITATIONS, Need::Permission(system::MEMBERSHIPS_READ));
pub const INVITE: Rule =
    rule(Method::POST, paths::CLIENT_ORGANIZATION_INVITATIONS, Need::Permission(system::MEMBERSHIPS_MANAGE));
pub const REVOKE_INVITATION: Rule = rule(
    Method::POST,
    paths::CLIENT_ORGANIZATION_INVITATION_REVOKE,
    Need::Permission(system::MEMBERSHIPS_MANAGE),
);
pub const LIST_ROLES: Rule =
    rule(Method::GET, paths::CLIENT_ORGANIZATION_ROLES, Need::Permission(system::MEMBERSHIPS_READ));
/// Leaving (also `DELETE` of one's own membership on [`paths::CLIENT_ORGANIZATION_MEMBERSHIP`]).
pub const LEAVE: Rule = rule(Method::DELETE, paths::MY_ORGANIZATION_MEMBERSHIP, Need::Member);
/// Making it the session's active organization (the body names it).
pub const SET_ACTIVE: Rule = rule(Method::POST, paths::SESSION_TOUCH, Need::Member);
/// A session token for it (the body names it).
pub const TOKEN_FOR: Rule = rule(Method::POST, paths::SESSION_TOKENS, Need::Member);

/// Every rule, in the order server/README.md lists them.
pub const RULES: &[Rule] = &[
    GET_ORGANIZATION,
    UPDATE_ORGANIZATION,
    DELETE_ORGANIZATION,
    LIST_MEMBERS,
    CHANGE_ROLE,
    REMOVE_MEMBER,
    LIST_INVITATIONS,
    INVITE,
    REVOKE_INVITATION,
    LIST_ROLES,
    LEAVE,
    SET_ACTIVE,
    TOKEN_FOR,
];

/// The signed-in caller (by session token) and their membership of `organization` (an id or slug),
/// if it is enough for `rule`; otherwise the error the module doc describes.
pub async fn authorize(
    state: &AppState,
    headers: &HeaderMap,
    organization: &str,
    rule: &Rule,
) -> ApiResult<(SessionRecord, MemberGrant)> {
    let session = authenticate(state, headers).await?;
    let grant = membership(state, &session, organization, rule).await?;
    Ok((session, grant))
}

/// [`authorize`] for a caller already authenticated.
pub async fn membership(
    state: &AppState,
    session: &SessionRecord,
    organization: &str,
    rule: &Rule,
) -> ApiResult<MemberGrant> {
    let grant = state
        .store
        .member_grant_by_ref(organization, &session.user_id)
        .await?
        .ok_or_else(|| ApiError::not_found("Organization"))?;
    match rule.need {
        Need::Member => Ok(grant),
        Need::Permission(p) if grant.has(p) => Ok(grant),
        Need::Permission(p) => Err(permission_missing(p)),
    }
}

fn permission_missing(permission: &str) -> ApiError {
    ApiError::new(
        axum::http::StatusCode::FORBIDDEN,
        ErrorCode::OrganizationPermissionMissing,
        "You do not have permission to do this in this organization",
    )
    .with_long_message(format!("This needs the permission `{permission}`, which your role does not grant."))
    .with_meta("permission", permission)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_is_listed_once_and_names_a_system_permission() {
        let mut seen = std::collections::HashSet::new();
        for r in RULES {
            assert!(seen.insert((r.method.clone(), r.path)), "{} {} twice", r.method, r.path);
            if let Need::Permission(p) = r.need {
                assert!(system::ALL.contains(&p), "{p}");
            }
        }
        assert_eq!(RULES.len(), 13);
    }
}
