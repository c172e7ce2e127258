//! The routes of the Frontend API that the SDK sends through its one path for calls with the session
//! token (the organization calls and `updateUser`): each one's method, the protocol's path and the
//! kind of answer ([`ROUTES`]), and what may be put into a path ([`is_path_id`]). The JS facade
//! keeps the same table (`src/js/facade.js`; `tests/typescript.rs` checks that they agree).

use hallpass_protocol::paths;

/// The routes sent with the session token through the one path (the organization calls and
/// `updateUser`): method, path (each `{…}` filled with an id, in order) and the kind of answer.
/// facade.js has the same table (`ROUTES`, with the kinds as 0, 1, 2): `tests/typescript.rs` checks
/// that the two agree, so the protocol's paths stay the one definition.
pub const ROUTES: [(&str, &str, Answer); 18] = [
    ("POST", paths::CLIENT_ORGANIZATIONS, One),
    ("GET", paths::MY_ORGANIZATION_MEMBERSHIPS, Page),
    ("GET", paths::MY_ORGANIZATION_INVITATIONS, Page),
    ("POST", paths::MY_ORGANIZATION_INVITATION_ACCEPT, One),
    ("POST", paths::MY_ORGANIZATION_INVITATION_DECLINE, One),
    ("GET", paths::CLIENT_ORGANIZATION, One),
    ("PATCH", paths::CLIENT_ORGANIZATION, One),
    ("DELETE", paths::CLIENT_ORGANIZATION, One),
    ("GET", paths::CLIENT_ORGANIZATION_MEMBERSHIPS, Page),
    ("PATCH", paths::CLIENT_ORGANIZATION_MEMBERSHIP, One),
    ("DELETE", paths::CLIENT_ORGANIZATION_MEMBERSHIP, One),
    ("GET", paths::CLIENT_ORGANIZATION_INVITATIONS, Page),
    ("POST", paths::CLIENT_ORGANIZATION_INVITATIONS, One),
    ("POST", paths::CLIENT_ORGANIZATION_INVITATION_REVOKE, One),
    ("GET", paths::CLIENT_ORGANIZATION_ROLES, Page),
    ("DELETE", paths::MY_ORGANIZATION_MEMBERSHIP, One),
    // The session's own (its id is filled in here): `setActive`.
    ("POST", paths::SESSION_TOUCH, Touch),
    // The user's own profile: `updateUser` (a refresh then carries it to every tab).
    ("PATCH", paths::ME, One),
];

/// `ROUTES` index of `setActive` (`POST …/sessions/{session_id}/touch`).
pub const TOUCH: usize = 16;

/// `ROUTES` index of `updateUser` (`PATCH /v1/client/me`).
pub const UPDATE_ME: usize = 17;

// `ROUTES` indexes of the other routes, by what they do (the Rust API's names for them).
pub const CREATE_ORGANIZATION: usize = 0;
pub const MY_MEMBERSHIPS: usize = 1;
pub const MY_INVITATIONS: usize = 2;
pub const ACCEPT_INVITATION: usize = 3;
pub const DECLINE_INVITATION: usize = 4;
pub const GET_ORGANIZATION: usize = 5;
pub const UPDATE_ORGANIZATION: usize = 6;
pub const DELETE_ORGANIZATION: usize = 7;
pub const MEMBERSHIPS: usize = 8;
pub const UPDATE_MEMBER: usize = 9;
pub const REMOVE_MEMBER: usize = 10;
pub const INVITATIONS: usize = 11;
pub const INVITE: usize = 12;
pub const REVOKE_INVITATION: usize = 13;
pub const ROLES: usize = 14;
pub const LEAVE: usize = 15;

/// True when a successful call of `method` with `ids` in its path changed the active organization
/// `active` or its membership of it — a `PATCH` or `DELETE` of it or in it (its profile, a member's
/// role, a removal, leaving, deleting it) — so that the token's `o` claim (`orgRole`, `orgSlug`,
/// `has()`) may be stale: the caller then gets a fresh session token. (facade.js `call` applies the
/// same rule to its URL.)
pub fn changes_active(method: &str, ids: &[&str], active: Option<&str>) -> bool {
    !matches!(method, "GET" | "POST") && active.is_some_and(|active| ids.contains(&active))
}

/// What a route answers, checked before JavaScript gets it: a malformed 200 is `invalid_response`,
/// as for every other call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    /// A resource (or Clerk's `DeletedObject`): an object with a string `id`.
    One,
    /// A page: `{ data: [...], total_count }`.
    Page,
    /// A `SessionTokenResponse`: applied here (the token and organization it carries), answered
    /// as `undefined`.
    Touch,
    /// A sign-in or sign-up step (`SignInResponse` / `SignUpResponse`, or the environment), sent
    /// without a session token: when it carries a session (the `AuthResponse` fields beside the
    /// attempt, handed out once, by the step that completes it) the SDK adopts it exactly as a
    /// password sign-in's; the answer goes on to JavaScript (hallpass/flows) as it is.
    Attempt,
}
use Answer::{One, Page, Touch};

/// Longest id or slug put into a path.
const MAX_ID_LEN: usize = 128;

/// True for what may go into a path segment: an id (`org_…`, `user_…`, `orginv_…`) or a slug —
/// ASCII letters, digits, `_` and `-`, 1 to [`MAX_ID_LEN`] bytes. Anything else could change the
/// path (`..`, `/`, `?`) and cannot name a resource.
pub fn is_path_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_ID_LEN
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_ids_and_slugs_go_into_a_path() {
        for ok in ["org_2abc", "acme-inc", "user_1", "orginv_X9", &"a".repeat(128)] {
            assert!(is_path_id(ok), "{ok}");
        }
        for bad in ["", "..", ".", "a/b", "a?b", "a%2F", "a b", "é", &"a".repeat(129)] {
            assert!(!is_path_id(bad), "{bad}");
        }
    }

    #[test]
    fn the_named_indexes_are_their_routes() {
        let named = [
            (CREATE_ORGANIZATION, "POST", paths::CLIENT_ORGANIZATIONS, One),
            (MY_MEMBERSHIPS, "GET", paths::MY_ORGANIZATION_MEMBERSHIPS, Page),
            (MY_INVITATIONS, "GET", paths::MY_ORGANIZATION_INVITATIONS, Page),
            (ACCEPT_INVITATION, "POST", paths::MY_ORGANIZATION_INVITATION_ACCEPT, One),
            (DECLINE_INVITATION, "POST", paths::MY_ORGANIZATION_INVITATION_DECLINE, One),
            (GET_ORGANIZATION, "GET", paths::CLIENT_ORGANIZATION, One),
            (UPDATE_ORGANIZATION, "PATCH", paths::CLIENT_ORGANIZATION, One),
            (DELETE_ORGANIZATION, "DELETE", paths::CLIENT_ORGANIZATION, One),
            (MEMBERSHIPS, "GET", paths::CLIENT_ORGANIZATION_MEMBERSHIPS, Page),
            (UPDATE_MEMBER, "PATCH", paths::CLIENT_ORGANIZATION_MEMBERSHIP, One),
            (REMOVE_MEMBER, "DELETE", paths::CLIENT_ORGANIZATION_MEMBERSHIP, One),
            (INVITATIONS, "GET", paths::CLIENT_ORGANIZATION_INVITATIONS, Page),
            (INVITE, "POST", paths::CLIENT_ORGANIZATION_INVITATIONS, One),
            (REVOKE_INVITATION, "POST", paths::CLIENT_ORGANIZATION_INVITATION_REVOKE, One),
            (ROLES, "GET", paths::CLIENT_ORGANIZATION_ROLES, Page),
            (LEAVE, "DELETE", paths::MY_ORGANIZATION_MEMBERSHIP, One),
            (TOUCH, "POST", paths::SESSION_TOUCH, Touch),
            (UPDATE_ME, "PATCH", paths::ME, One),
        ];
        assert_eq!(named.len(), ROUTES.len());
        for (index, method, path, answer) in named {
            assert_eq!(ROUTES[index], (method, path, answer), "{index}");
        }
    }

    #[test]
    fn only_changes_of_or_in_the_active_organization_ask_for_a_fresh_token() {
        let active = Some("org_1");
        assert!(changes_active("PATCH", &["org_1"], active));
        assert!(changes_active("DELETE", &["org_1", "user_2"], active));
        assert!(!changes_active("DELETE", &["org_2", "user_2"], active), "another organization");
        assert!(!changes_active("GET", &["org_1"], active));
        assert!(!changes_active("POST", &["org_1"], active), "an invitation changes no membership yet");
        assert!(!changes_active("DELETE", &["org_1"], None), "the personal account");
    }

    #[test]
    fn every_route_has_as_many_ids_as_its_path_names() {
        assert_eq!(ROUTES[TOUCH].1, paths::SESSION_TOUCH);
        assert_eq!(ROUTES[UPDATE_ME], ("PATCH", paths::ME, One));
        for (method, path, _) in ROUTES {
            assert!(["GET", "POST", "PATCH", "DELETE"].contains(&method));
            assert_eq!(path.matches('{').count(), path.matches('}').count());
            assert!(path.starts_with("/v1/client/"));
        }
    }
}
