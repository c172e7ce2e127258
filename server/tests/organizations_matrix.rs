//! The permission matrix: every organization endpoint of the Frontend API (the table
//! `routes::org_access::RULES`) called by each kind of caller — an admin, a member, a custom role, an
//! outsider, a removed member, and no one signed in — on a fresh organization each time. Each gets
//! exactly what its role's permissions allow (the call succeeds), and otherwise `403
//! organization_permission_missing` (members), `404 resource_not_found` (outsiders and removed
//! members, as for an organization that does not exist) or `401 authentication_invalid`.
//!
//! The table itself is checked against what the issue and Clerk say each call needs, so a route
//! cannot quietly need less.

mod common;

use axum::http::{Method, StatusCode};
use common::{Db, TestApp, db_test};
use hallpass_protocol::organizations::system;
use hallpass_protocol::{AuthResponse, paths};
use hallpass_server::routes::org_access::{Need, RULES, Rule};
use serde_json::{Value, json};

/// What each call must need: Clerk's system permissions for what they guard.
fn expected_need(method: &Method, path: &str) -> Need {
    let p = |perm| Need::Permission(perm);
    match (method.as_str(), path) {
        ("GET", paths::CLIENT_ORGANIZATION) => Need::Member,
        ("PATCH", paths::CLIENT_ORGANIZATION) => p(system::PROFILE_MANAGE),
        ("DELETE", paths::CLIENT_ORGANIZATION) => p(system::PROFILE_DELETE),
        ("GET", paths::CLIENT_ORGANIZATION_MEMBERSHIPS) => p(system::MEMBERSHIPS_READ),
        ("PATCH", paths::CLIENT_ORGANIZATION_MEMBERSHIP) => p(system::MEMBERSHIPS_MANAGE),
        ("DELETE", paths::CLIENT_ORGANIZATION_MEMBERSHIP) => p(system::MEMBERSHIPS_MANAGE),
        ("GET", paths::CLIENT_ORGANIZATION_INVITATIONS) => p(system::MEMBERSHIPS_READ),
        ("POST", paths::CLIENT_ORGANIZATION_INVITATIONS) => p(system::MEMBERSHIPS_MANAGE),
        ("POST", paths::CLIENT_ORGANIZATION_INVITATION_REVOKE) => p(system::MEMBERSHIPS_MANAGE),
        ("GET", paths::CLIENT_ORGANIZATION_ROLES) => p(system::MEMBERSHIPS_READ),
        ("DELETE", paths::MY_ORGANIZATION_MEMBERSHIP) => Need::Member,
        ("POST", paths::SESSION_TOUCH) => Need::Member,
        ("POST", paths::SESSION_TOKENS) => Need::Member,
        other => panic!("no expectation for {other:?}: add the new route here"),
    }
}

#[test]
fn the_table_needs_what_clerk_needs() {
    for rule in RULES {
        assert_eq!(rule.need, expected_need(&rule.method, rule.path), "{} {}", rule.method, rule.path);
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Actor {
    Admin,
    Member,
    /// `org:editor`: `org:sys_profile:manage` and `org:sys_memberships:read`, nothing else.
    Custom,
    Outsider,
    Removed,
    SignedOut,
}

const ACTORS: [Actor; 6] =
    [Actor::Admin, Actor::Member, Actor::Custom, Actor::Outsider, Actor::Removed, Actor::SignedOut];

impl Actor {
    fn permissions(self) -> &'static [&'static str] {
        match self {
            Actor::Admin => &system::ALL,
            Actor::Member => &[system::MEMBERSHIPS_READ],
            Actor::Custom => &[system::PROFILE_MANAGE, system::MEMBERSHIPS_READ],
            _ => &[],
        }
    }

    /// The status and error code (`None`: success) this actor must get for `rule`.
    fn expected(self, rule: &Rule) -> (u16, Option<&'static str>) {
        match self {
            Actor::SignedOut => (401, Some("authentication_invalid")),
            Actor::Outsider | Actor::Removed => (404, Some("resource_not_found")),
            _ => match rule.need {
                Need::Member => (200, None),
                Need::Permission(p) if self.permissions().contains(&p) => (200, None),
                Need::Permission(_) => (403, Some("organization_permission_missing")),
            },
        }
    }
}

struct Cast {
    admin: AuthResponse,
    second_admin: AuthResponse,
    member: AuthResponse,
    custom: AuthResponse,
    outsider: AuthResponse,
    removed: AuthResponse,
    target: AuthResponse,
}

impl Cast {
    fn session(&self, actor: Actor) -> Option<&AuthResponse> {
        match actor {
            Actor::Admin => Some(&self.admin),
            Actor::Member => Some(&self.member),
            Actor::Custom => Some(&self.custom),
            Actor::Outsider => Some(&self.outsider),
            Actor::Removed => Some(&self.removed),
            Actor::SignedOut => None,
        }
    }
}

/// A fresh organization with the whole cast in place (two admins, so an admin may leave), the
/// removed member removed, and one pending invitation; its id and the invitation's.
async fn fresh_org(app: &TestApp, cast: &Cast, n: usize) -> (String, String) {
    let body = json!({"name": format!("Matrix {n}"), "created_by": cast.admin.user.id});
    let org = app.backend(Method::POST, paths::ORGANIZATIONS, Some(body)).await.json();
    let org = org["id"].as_str().unwrap().to_owned();
    let members = paths::fill(paths::ORGANIZATION_MEMBERSHIPS, &[&org]);
    for (who, role) in [
        (&cast.second_admin, "org:admin"),
        (&cast.member, "org:member"),
        (&cast.custom, "org:editor"),
        (&cast.removed, "org:member"),
        (&cast.target, "org:member"),
    ] {
        let res =
            app.backend(Method::POST, &members, Some(json!({"user_id": who.user.id, "role": role}))).await;
        assert_eq!(res.status, StatusCode::OK, "{}", String::from_utf8_lossy(&res.body));
    }
    let removed = paths::fill(paths::ORGANIZATION_MEMBERSHIP, &[&org, &cast.removed.user.id]);
    assert_eq!(app.backend(Method::DELETE, &removed, None).await.status, StatusCode::OK);
    let invitations = paths::fill(paths::ORGANIZATION_INVITATIONS, &[&org]);
    let inv = app
        .backend(
            Method::POST,
            &invitations,
            Some(json!({"email_address": format!("invitee{n}@example.com")})),
        )
        .await;
    (org, inv.json()["id"].as_str().unwrap().to_owned())
}

/// The request `rule` stands for, made by `session` (or, signed out, about the member's session).
fn request(
    rule: &Rule,
    cast: &Cast,
    session: &AuthResponse,
    org: &str,
    invitation: &str,
    n: usize,
) -> (String, Option<Value>) {
    let target = cast.target.user.id.as_str();
    let fill = |values: &[&str]| paths::fill(rule.path, values);
    match (rule.method.as_str(), rule.path) {
        ("PATCH", paths::CLIENT_ORGANIZATION) => (fill(&[org]), Some(json!({"name": "Renamed"}))),
        (_, paths::CLIENT_ORGANIZATION) => (fill(&[org]), None),
        ("PATCH", paths::CLIENT_ORGANIZATION_MEMBERSHIP) => {
            (fill(&[org, target]), Some(json!({"role": "org:admin"})))
        }
        (_, paths::CLIENT_ORGANIZATION_MEMBERSHIP) => (fill(&[org, target]), None),
        ("POST", paths::CLIENT_ORGANIZATION_INVITATIONS) => {
            (fill(&[org]), Some(json!({"email_address": format!("new{n}@example.com")})))
        }
        ("POST", paths::CLIENT_ORGANIZATION_INVITATION_REVOKE) => (fill(&[org, invitation]), None),
        (
            _,
            paths::CLIENT_ORGANIZATION_MEMBERSHIPS
            | paths::CLIENT_ORGANIZATION_INVITATIONS
            | paths::CLIENT_ORGANIZATION_ROLES
            | paths::MY_ORGANIZATION_MEMBERSHIP,
        ) => (fill(&[org]), None),
        (_, paths::SESSION_TOUCH) => {
            (fill(&[&session.session.id]), Some(json!({"active_organization_id": org})))
        }
        (_, paths::SESSION_TOKENS) => (fill(&[&session.session.id]), Some(json!({"organization_id": org}))),
        other => panic!("no request for {other:?}: add the new route here"),
    }
}

db_test!(every_caller_gets_exactly_what_its_permissions_allow);
async fn every_caller_gets_exactly_what_its_permissions_allow(db: Db) {
    let app = TestApp::new(&db).await;
    let body = json!({"key": "org:editor", "name": "Editor", "permissions": [system::PROFILE_MANAGE, system::MEMBERSHIPS_READ]});
    assert_eq!(app.backend(Method::POST, paths::ORGANIZATION_ROLES, Some(body)).await.status, StatusCode::OK);
    let cast = Cast {
        admin: app.sign_up_as("admin@example.com").await,
        second_admin: app.sign_up_as("admin2@example.com").await,
        member: app.sign_up_as("member@example.com").await,
        custom: app.sign_up_as("editor@example.com").await,
        outsider: app.sign_up_as("outsider@example.com").await,
        removed: app.sign_up_as("removed@example.com").await,
        target: app.sign_up_as("target@example.com").await,
    };
    let mut n = 0;
    let mut checked = 0;
    for rule in RULES {
        for actor in ACTORS {
            n += 1;
            let (org, invitation) = fresh_org(&app, &cast, n).await;
            let session = cast.session(actor).unwrap_or(&cast.member);
            let (uri, body) = request(rule, &cast, session, &org, &invitation, n);
            let res = match cast.session(actor) {
                Some(s) => app.with_token(rule.method.clone(), &uri, s.jwt.expose(), body).await,
                None => app.call(rule.method.clone(), &uri, &[], body).await,
            };
            let (status, code) = actor.expected(rule);
            let what =
                format!("{actor:?} {} {}: {}", rule.method, rule.path, String::from_utf8_lossy(&res.body));
            assert_eq!(res.status.as_u16(), status, "{what}");
            if let Some(code) = code {
                assert_eq!(res.code(), code, "{what}");
            }
            checked += 1;
        }
    }
    assert_eq!(checked, RULES.len() * ACTORS.len());
}
