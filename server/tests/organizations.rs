//! Organizations through both APIs, on both engines: creating and switching (the session token's
//! `o`/`fea` claims, decoded as Clerk's parser does, and the decoded organization beside them), role
//! changes and removals in the next token, slugs, invitations, the membership limit, the Backend API's
//! organizations, memberships, metadata, roles and permissions. Who may call what is
//! `organizations_matrix.rs`; races are `organization_races.rs`.

mod common;

use axum::http::{Method, StatusCode};
use common::{Db, Resp, TestApp, db_test};
use hallpass_protocol::{
    AuthResponse, OrgClaims, Organization, OrganizationInvitation, OrganizationMembership,
    SessionTokenResponse, TemplateTokenResponse, paths,
};
use serde_json::{Value, json};

#[track_caller]
fn ok<T: serde::de::DeserializeOwned>(res: &Resp) -> T {
    assert_eq!(res.status, StatusCode::OK, "{}", String::from_utf8_lossy(&res.body));
    serde_json::from_slice(&res.body).unwrap()
}

async fn create_org(app: &TestApp, jwt: &str, body: Value) -> Organization {
    ok(&app.with_token(Method::POST, paths::CLIENT_ORGANIZATIONS, jwt, Some(body)).await)
}

async fn touch(app: &TestApp, auth: &AuthResponse, org: Value) -> Resp {
    let p = paths::fill(paths::SESSION_TOUCH, &[&auth.session.id]);
    app.with_token(Method::POST, &p, auth.jwt.expose(), Some(json!({ "active_organization_id": org }))).await
}

/// The organization a session token carries, decoded as Clerk's parser does.
fn org_of(app: &TestApp, jwt: &str) -> Option<OrgClaims> {
    app.verify(jwt).organization()
}

async fn add_member(app: &TestApp, org: &str, user_id: &str, role: &str) -> OrganizationMembership {
    let p = paths::fill(paths::ORGANIZATION_MEMBERSHIPS, &[org]);
    ok(&app.backend(Method::POST, &p, Some(json!({ "user_id": user_id, "role": role }))).await)
}

async fn refreshed(app: &TestApp, auth: &AuthResponse) -> AuthResponse {
    app.refresh(auth.refresh_token.expose()).await.auth()
}

const ADMIN_PERMISSIONS: [&str; 4] = [
    "org:sys_memberships:manage",
    "org:sys_memberships:read",
    "org:sys_profile:delete",
    "org:sys_profile:manage",
];

db_test!(creating_and_switching_puts_the_organization_in_the_token);
async fn creating_and_switching_puts_the_organization_in_the_token(db: Db) {
    let app = TestApp::new(&db).await;
    let ada = app.sign_up_as("ada@example.com").await;
    assert!(ada.organization.is_none() && app.verify(ada.jwt.expose()).o.is_none());

    let org = create_org(&app, ada.jwt.expose(), json!({"name": "  Acme Inc. "})).await;
    assert_eq!((org.name.as_str(), org.slug.as_str(), org.members_count), ("Acme Inc.", "acme-inc", 1));
    assert_eq!(org.created_by.as_deref(), Some(ada.user.id.as_str()));
    assert!(org.id.starts_with("org_") && org.private_metadata.is_none());
    let mine: Value = ok(&app.get_bearer(paths::MY_ORGANIZATION_MEMBERSHIPS, ada.jwt.expose()).await);
    assert_eq!(mine["total_count"], 1);
    assert_eq!(mine["data"][0]["role"], "org:admin");
    assert_eq!(mine["data"][0]["permissions"], json!(ADMIN_PERMISSIONS));
    assert_eq!(mine["data"][0]["public_user_data"]["identifier"], "ada@example.com");

    // Switching by slug answers a token carrying it at once.
    let switched: SessionTokenResponse = ok(&touch(&app, &ada, json!("acme-inc")).await);
    assert_eq!(switched.session.last_active_organization_id.as_deref(), Some(org.id.as_str()));
    let claims = app.verify(switched.jwt.expose());
    let o = claims.o.clone().expect("an o claim");
    assert_eq!((o.id.as_str(), o.slg.as_str(), o.rol.as_str()), (org.id.as_str(), "acme-inc", "admin"));
    assert_eq!(claims.fea.as_deref(), Some("o:sys_memberships,o:sys_profile"));
    assert_eq!((o.per.as_str(), o.fpm.as_str()), ("delete,manage,read", "6,3"));
    let decoded = claims.organization().unwrap();
    let mut per = decoded.per.clone();
    per.sort();
    assert_eq!(decoded.rol, "org:admin");
    assert_eq!(per, ADMIN_PERMISSIONS);
    let sent = switched.organization.clone().expect("the organization beside the token");
    assert_eq!(
        (sent.id.as_str(), sent.slg.as_str(), sent.rol.as_str()),
        (org.id.as_str(), "acme-inc", "org:admin")
    );
    assert_eq!(sent.per, ADMIN_PERMISSIONS);

    // Every refresh carries it; so does /me's session.
    let ada = refreshed(&app, &ada).await;
    assert_eq!(org_of(&app, ada.jwt.expose()).map(|o| o.id), Some(org.id.clone()));
    assert_eq!(ada.organization.as_ref().map(|o| o.rol.as_str()), Some("org:admin"));
    let me: Value = ok(&app.get_bearer(paths::ME, ada.jwt.expose()).await);
    assert_eq!(me["session"]["last_active_organization_id"], json!(org.id));

    // Tokens for another organization (or none) without changing the active one.
    let tokens = paths::fill(paths::SESSION_TOKENS, &[&ada.session.id]);
    let mint = |body: Value| {
        let (app, tokens, jwt) = (&app, tokens.clone(), ada.jwt.expose().to_owned());
        async move { ok::<TemplateTokenResponse>(&app.with_token(Method::POST, &tokens, &jwt, Some(body)).await) }
    };
    assert!(app.verify(mint(json!({"organization_id": null})).await.jwt.expose()).o.is_none());
    let active = mint(json!({})).await;
    assert_eq!(org_of(&app, active.jwt.expose()).map(|o| o.id), Some(org.id.clone()));
    assert!(org_of(&app, refreshed(&app, &ada).await.jwt.expose()).is_some(), "still active");
    let fresh = app.sign_in_as("ada@example.com").await;
    assert!(fresh.organization.is_none(), "a new session starts on the personal account");
    let fresh_tokens = paths::fill(paths::SESSION_TOKENS, &[&fresh.session.id]);
    let body = json!({"organization_id": org.id});
    let named: TemplateTokenResponse =
        ok(&app.with_token(Method::POST, &fresh_tokens, fresh.jwt.expose(), Some(body)).await);
    assert_eq!(org_of(&app, named.jwt.expose()).map(|o| o.rol), Some("org:admin".into()));
    assert!(refreshed(&app, &fresh).await.organization.is_none(), "the active one did not change");

    // The personal account again: no `o`.
    let ada = refreshed(&app, &ada).await;
    let back: SessionTokenResponse = ok(&touch(&app, &ada, Value::Null).await);
    assert!(back.session.last_active_organization_id.is_none() && back.organization.is_none());
    assert!(app.verify(back.jwt.expose()).o.is_none() && app.verify(back.jwt.expose()).fea.is_none());
    // Another session's token may not switch this one.
    let other = app.sign_in_as("ada@example.com").await;
    let p = paths::fill(paths::SESSION_TOUCH, &[&ada.session.id]);
    app.with_token(Method::POST, &p, other.jwt.expose(), Some(json!({"active_organization_id": org.id})))
        .await
        .assert_error(401, "authentication_invalid");
    // Unknown organizations look like ones the user is not in.
    touch(&app, &ada, json!("org_nope")).await.assert_error(404, "resource_not_found");
    touch(&app, &ada, json!(12)).await.assert_error(400, "request_body_invalid");
}

db_test!(role_changes_removals_and_deletion_show_in_the_next_token);
async fn role_changes_removals_and_deletion_show_in_the_next_token(db: Db) {
    let app = TestApp::new(&db).await;
    let ada = app.sign_up_as("ada@example.com").await;
    let bob = app.sign_up_as("bob@example.com").await;
    let org = create_org(&app, ada.jwt.expose(), json!({"name": "Acme"})).await;
    add_member(&app, &org.id, &bob.user.id, "org:member").await;

    let bob_in: SessionTokenResponse = ok(&touch(&app, &bob, json!(org.id)).await);
    let claims = app.verify(bob_in.jwt.expose());
    let o = claims.o.clone().unwrap();
    assert_eq!((o.rol.as_str(), o.per.as_str(), o.fpm.as_str()), ("member", "read", "1"));
    assert_eq!(claims.fea.as_deref(), Some("o:sys_memberships"));
    assert_eq!(bob_in.organization.unwrap().per, ["org:sys_memberships:read"]);

    // Promoted by an admin: the next token says so.
    let member = paths::fill(paths::CLIENT_ORGANIZATION_MEMBERSHIP, &[&org.id, &bob.user.id]);
    let promoted: OrganizationMembership = ok(&app
        .with_token(Method::PATCH, &member, ada.jwt.expose(), Some(json!({"role": "org:admin"})))
        .await);
    assert_eq!((promoted.role.as_str(), promoted.role_name.as_str()), ("org:admin", "Admin"));
    let bob = refreshed(&app, &bob).await;
    assert_eq!(org_of(&app, bob.jwt.expose()).unwrap().rol, "org:admin");
    app.with_token(Method::PATCH, &member, ada.jwt.expose(), Some(json!({"role": "org:nope"})))
        .await
        .assert_error(422, "form_param_value_invalid");

    // Removed: the next token has no `o`, the session has no active organization, and switching
    // back is refused as for any outsider.
    let removed: OrganizationMembership =
        ok(&app.with_token(Method::DELETE, &member, ada.jwt.expose(), None).await);
    assert_eq!(removed.public_user_data.user_id, bob.user.id);
    let bob = refreshed(&app, &bob).await;
    assert!(bob.organization.is_none() && app.verify(bob.jwt.expose()).o.is_none());
    assert!(bob.session.last_active_organization_id.is_none());
    touch(&app, &bob, json!(org.id)).await.assert_error(404, "resource_not_found");
    app.with_token(Method::DELETE, &member, ada.jwt.expose(), None)
        .await
        .assert_error(404, "resource_not_found");

    // The last admin can neither leave nor be demoted; deleting the organization clears it
    // everywhere.
    let ada_in: SessionTokenResponse = ok(&touch(&app, &ada, json!(org.id)).await);
    assert!(ada_in.organization.is_some());
    let leave = paths::fill(paths::MY_ORGANIZATION_MEMBERSHIP, &[&org.id]);
    app.with_token(Method::DELETE, &leave, ada.jwt.expose(), None)
        .await
        .assert_error(403, "organization_minimum_permissions_needed");
    let ada_member = paths::fill(paths::CLIENT_ORGANIZATION_MEMBERSHIP, &[&org.id, &ada.user.id]);
    app.with_token(Method::PATCH, &ada_member, ada.jwt.expose(), Some(json!({"role": "org:member"})))
        .await
        .assert_error(403, "organization_minimum_permissions_needed");
    let org_path = paths::fill(paths::CLIENT_ORGANIZATION, &[&org.slug]);
    let deleted: Value = ok(&app.with_token(Method::DELETE, &org_path, ada.jwt.expose(), None).await);
    assert_eq!(deleted, json!({"object": "organization", "id": org.id, "deleted": true}));
    let ada = refreshed(&app, &ada).await;
    assert!(ada.organization.is_none() && ada.session.last_active_organization_id.is_none());
    assert!(app.verify(ada.jwt.expose()).o.is_none());
    app.get_bearer(&org_path, ada.jwt.expose()).await.assert_error(404, "resource_not_found");
}

db_test!(slugs_are_unique_valid_and_made_from_names);
async fn slugs_are_unique_valid_and_made_from_names(db: Db) {
    let app = TestApp::new(&db).await;
    let ada = app.sign_up_as("ada@example.com").await;
    let jwt = ada.jwt.expose();
    let first = create_org(&app, jwt, json!({"name": "Acme"})).await;
    assert_eq!(first.slug, "acme");
    let second = create_org(&app, jwt, json!({"name": "ACME!"})).await;
    assert!(second.slug.starts_with("acme-") && second.slug.len() == 11, "{}", second.slug);
    let given = app.with_token(
        Method::POST,
        paths::CLIENT_ORGANIZATIONS,
        jwt,
        Some(json!({"name": "X", "slug": "acme"})),
    );
    let res = given.await;
    res.assert_error(422, "form_identifier_exists");
    assert_eq!(res.json()["errors"][0]["meta"]["param_name"], "slug");
    for (body, code) in [
        (json!({"name": "X", "slug": "not a slug"}), "form_param_format_invalid"),
        (json!({"name": "X", "slug": "org_123"}), "form_param_format_invalid"),
        (json!({"name": "  "}), "form_param_missing"),
        (json!({"name": "x".repeat(257)}), "form_param_too_long"),
        (json!({"slug": "abc"}), "form_param_missing"),
        (json!({"name": "X", "public_metadata": {}}), "form_param_unknown"),
    ] {
        app.with_token(Method::POST, paths::CLIENT_ORGANIZATIONS, jwt, Some(body.clone()))
            .await
            .assert_error(422, code);
    }
    // Renaming onto a taken slug is refused; upper case is lowered.
    let p = paths::fill(paths::CLIENT_ORGANIZATION, &[&second.id]);
    app.with_token(Method::PATCH, &p, jwt, Some(json!({"slug": "acme"})))
        .await
        .assert_error(422, "form_identifier_exists");
    let renamed: Organization =
        ok(&app.with_token(Method::PATCH, &p, jwt, Some(json!({"slug": "Acme-Two", "name": "Two"}))).await);
    assert_eq!((renamed.slug.as_str(), renamed.name.as_str()), ("acme-two", "Two"));
    let by_slug: Organization =
        ok(&app.backend(Method::GET, &paths::fill(paths::ORGANIZATION, &["acme-two"]), None).await);
    assert_eq!(by_slug.id, second.id);
    assert!(by_slug.private_metadata.is_some(), "the Backend API sees private metadata");
    // A create limit counts memberships.
    let limited = TestApp::with(&db, |c| c.organization_create_limit = 2).await;
    let res = limited
        .with_token(Method::POST, paths::CLIENT_ORGANIZATIONS, jwt, Some(json!({"name": "Third"})))
        .await;
    res.assert_error(403, "organization_create_limit_exceeded");
    // Signed out: no.
    app.post(paths::CLIENT_ORGANIZATIONS, json!({"name": "X"}))
        .await
        .assert_error(401, "authentication_invalid");
}

db_test!(invitations_are_sent_accepted_declined_revoked_and_expire);
async fn invitations_are_sent_accepted_declined_revoked_and_expire(db: Db) {
    let app = TestApp::new(&db).await;
    let ada = app.sign_up_as("ada@example.com").await;
    let org = create_org(&app, ada.jwt.expose(), json!({"name": "Acme"})).await;
    let invitations = paths::fill(paths::CLIENT_ORGANIZATION_INVITATIONS, &[&org.id]);
    let invite = |email: &str, role: Option<&str>| {
        let body = match role {
            Some(r) => json!({"email_address": email, "role": r}),
            None => json!({"email_address": email}),
        };
        app.with_token(Method::POST, &invitations, ada.jwt.expose(), Some(body))
    };

    // Invited before signing up, with the address in another case.
    let inv: OrganizationInvitation = ok(&invite(" Carol@Example.com ", None).await);
    assert_eq!((inv.email_address.as_str(), inv.role.as_str()), ("carol@example.com", "org:member"));
    assert_eq!((inv.status.as_str(), inv.organization_id.as_str()), ("pending", org.id.as_str()));
    assert_eq!(inv.expires_at, app.clock_now() + 30 * 24 * 3600 * 1000);
    assert!(inv.id.starts_with("orginv_") && inv.private_metadata.is_none());
    invite("carol@example.com", None).await.assert_error(409, "duplicate_record");
    invite("ada@example.com", None).await.assert_error(422, "already_a_member_in_organization");
    invite("not-an-address", None).await.assert_error(422, "form_param_format_invalid");
    invite("x@example.com", Some("org:nope")).await.assert_error(422, "form_param_value_invalid");
    let org_now: Organization =
        ok(&app.get_bearer(&paths::fill(paths::CLIENT_ORGANIZATION, &[&org.id]), ada.jwt.expose()).await);
    assert_eq!(org_now.pending_invitations_count, 1);

    let carol = app.sign_up_as("carol@example.com").await;
    let mine: Value = ok(&app.get_bearer(paths::MY_ORGANIZATION_INVITATIONS, carol.jwt.expose()).await);
    assert_eq!(mine["total_count"], 1);
    assert_eq!(mine["data"][0]["public_organization_data"]["slug"], "acme");
    let accept = paths::fill(paths::MY_ORGANIZATION_INVITATION_ACCEPT, &[&inv.id]);
    let joined: OrganizationMembership =
        ok(&app.with_token(Method::POST, &accept, carol.jwt.expose(), None).await);
    assert_eq!((joined.role.as_str(), joined.organization.members_count), ("org:member", 2));
    app.with_token(Method::POST, &accept, carol.jwt.expose(), None)
        .await
        .assert_error(422, "organization_invitation_not_pending");
    let listed: Value =
        ok(&app.get_bearer(&format!("{invitations}?status=accepted"), ada.jwt.expose()).await);
    assert_eq!((listed["total_count"].clone(), listed["data"][0]["id"].clone()), (json!(1), json!(inv.id)));

    // Someone else's invitation is not found; declining revokes; revoked ones cannot be accepted.
    let dave_inv: OrganizationInvitation = ok(&invite("dave@example.com", Some("org:admin")).await);
    let dave = app.sign_up_as("dave@example.com").await;
    let dave_accept = paths::fill(paths::MY_ORGANIZATION_INVITATION_ACCEPT, &[&dave_inv.id]);
    app.with_token(Method::POST, &dave_accept, carol.jwt.expose(), None)
        .await
        .assert_error(404, "resource_not_found");
    let decline = paths::fill(paths::MY_ORGANIZATION_INVITATION_DECLINE, &[&dave_inv.id]);
    let declined: OrganizationInvitation =
        ok(&app.with_token(Method::POST, &decline, dave.jwt.expose(), None).await);
    assert_eq!(declined.status.as_str(), "revoked");
    app.with_token(Method::POST, &dave_accept, dave.jwt.expose(), None)
        .await
        .assert_error(422, "organization_invitation_not_pending");
    let erin_inv: OrganizationInvitation = ok(&invite("erin@example.com", None).await);
    let revoke = paths::fill(paths::CLIENT_ORGANIZATION_INVITATION_REVOKE, &[&org.id, &erin_inv.id]);
    let revoked: OrganizationInvitation =
        ok(&app.with_token(Method::POST, &revoke, ada.jwt.expose(), None).await);
    assert_eq!(revoked.status.as_str(), "revoked");
    app.with_token(Method::POST, &revoke, ada.jwt.expose(), None)
        .await
        .assert_error(422, "organization_invitation_not_pending");

    // Expiry: a one-day invitation from the Backend API reads as expired a day later, cannot be
    // accepted, and the address can be invited again.
    let backend_invitations = paths::fill(paths::ORGANIZATION_INVITATIONS, &[&org.slug]);
    let body = json!({"email_address": "frank@example.com", "expires_in_days": 1, "private_metadata": {"src": "crm"}});
    let frank_inv: OrganizationInvitation =
        ok(&app.backend(Method::POST, &backend_invitations, Some(body)).await);
    assert_eq!(frank_inv.private_metadata.as_ref().unwrap()["src"], "crm");
    app.backend(
        Method::POST,
        &backend_invitations,
        Some(json!({"email_address": "x@example.com", "expires_in_days": 0})),
    )
    .await
    .assert_error(422, "form_param_value_invalid");
    app.clock.advance_secs(24 * 3600 + 1);
    let frank = app.sign_up_as("frank@example.com").await;
    let frank_accept = paths::fill(paths::MY_ORGANIZATION_INVITATION_ACCEPT, &[&frank_inv.id]);
    let res = app.with_token(Method::POST, &frank_accept, frank.jwt.expose(), None).await;
    res.assert_error(422, "organization_invitation_not_pending");
    assert_eq!(res.json()["errors"][0]["meta"]["status"], "expired");
    let ada = app.sign_in_as("ada@example.com").await;
    let expired: Value =
        ok(&app.get_bearer(&format!("{invitations}?status=expired"), ada.jwt.expose()).await);
    assert_eq!(expired["total_count"], 1);
    let again = app.with_token(
        Method::POST,
        &invitations,
        ada.jwt.expose(),
        Some(json!({"email_address": "frank@example.com"})),
    );
    assert_eq!(ok::<OrganizationInvitation>(&again.await).status.as_str(), "pending");
    let one: OrganizationInvitation = ok(&app
        .backend(Method::GET, &paths::fill(paths::ORGANIZATION_INVITATION, &[&org.id, &frank_inv.id]), None)
        .await);
    assert_eq!(one.status.as_str(), "expired");
}

db_test!(max_memberships_counts_members_and_pending_invitations);
async fn max_memberships_counts_members_and_pending_invitations(db: Db) {
    let app = TestApp::new(&db).await;
    let ada = app.sign_up_as("ada@example.com").await;
    let bob = app.sign_up_as("bob@example.com").await;
    let carol = app.sign_up_as("carol@example.com").await;
    let body = json!({"name": "Small", "created_by": ada.user.id, "max_allowed_memberships": 2});
    let org: Organization = ok(&app.backend(Method::POST, paths::ORGANIZATIONS, Some(body)).await);
    assert_eq!((org.members_count, org.max_allowed_memberships), (1, 2));
    let invitations = paths::fill(paths::CLIENT_ORGANIZATION_INVITATIONS, &[&org.id]);
    let inv: OrganizationInvitation = ok(&app
        .with_token(
            Method::POST,
            &invitations,
            ada.jwt.expose(),
            Some(json!({"email_address": "bob@example.com"})),
        )
        .await);
    let res = app
        .with_token(
            Method::POST,
            &invitations,
            ada.jwt.expose(),
            Some(json!({"email_address": "carol@example.com"})),
        )
        .await;
    res.assert_error(403, "organization_membership_quota_exceeded");
    assert_eq!(res.json()["errors"][0]["meta"]["max_allowed_memberships"], 2);
    let accept = paths::fill(paths::MY_ORGANIZATION_INVITATION_ACCEPT, &[&inv.id]);
    assert_eq!(
        ok::<OrganizationMembership>(&app.with_token(Method::POST, &accept, bob.jwt.expose(), None).await)
            .organization
            .members_count,
        2
    );
    let p = paths::fill(paths::ORGANIZATION_MEMBERSHIPS, &[&org.id]);
    app.backend(Method::POST, &p, Some(json!({"user_id": carol.user.id})))
        .await
        .assert_error(403, "organization_membership_quota_exceeded");
    // Raising the limit lets the next one in; lowering it below the count keeps everyone.
    let org_path = paths::fill(paths::ORGANIZATION, &[&org.id]);
    ok::<Organization>(
        &app.backend(Method::PATCH, &org_path, Some(json!({"max_allowed_memberships": 0}))).await,
    );
    let carol_m: OrganizationMembership =
        ok(&app.backend(Method::POST, &p, Some(json!({"user_id": carol.user.id}))).await);
    assert_eq!(carol_m.role, "org:member", "the default role");
    let lowered: Organization =
        ok(&app.backend(Method::PATCH, &org_path, Some(json!({"max_allowed_memberships": 1}))).await);
    assert_eq!(lowered.members_count, 3);
    app.backend(Method::PATCH, &org_path, Some(json!({"max_allowed_memberships": -1})))
        .await
        .assert_error(422, "form_param_value_invalid");
    app.backend(Method::POST, &p, Some(json!({"user_id": carol.user.id})))
        .await
        .assert_error(422, "already_a_member_in_organization");
}

db_test!(the_backend_api_manages_organizations_memberships_and_metadata);
async fn the_backend_api_manages_organizations_memberships_and_metadata(db: Db) {
    let app = TestApp::new(&db).await;
    let ada = app.sign_up_as("ada@example.com").await;
    let bob = app.sign_up_as("bob@example.com").await;
    for name in ["Beta", "Alpha", "Gamma"] {
        ok::<Organization>(
            &app.backend(Method::POST, paths::ORGANIZATIONS, Some(json!({"name": name}))).await,
        );
        app.clock.advance_ms(1);
    }
    let body = json!({"name": "Acme", "slug": "acme", "created_by": ada.user.id, "admin_delete_enabled": false,
                      "public_metadata": {"plan": "pro"}, "private_metadata": {"stripe": "cus_1"}});
    let org: Organization = ok(&app.backend(Method::POST, paths::ORGANIZATIONS, Some(body)).await);
    assert_eq!(org.private_metadata.as_ref().unwrap()["stripe"], "cus_1");
    let no_one = json!({"name": "X", "created_by": "user_nope"});
    app.backend(Method::POST, paths::ORGANIZATIONS, Some(no_one))
        .await
        .assert_error(404, "resource_not_found");

    // Lists: newest first by default, ordered, searched, paged.
    let list = |q: &str| {
        let p = format!("{}?{q}", paths::ORGANIZATIONS);
        let app = &app;
        async move { app.backend(Method::GET, &p, None).await }
    };
    let names = |v: &Value| {
        v["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["name"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    let all: Value = ok(&list("").await);
    assert_eq!(
        (all["total_count"].clone(), names(&all)),
        (json!(4), vec!["Acme".to_owned(), "Gamma".into(), "Alpha".into(), "Beta".into()])
    );
    assert_eq!(names(&ok(&list("order_by=name&limit=2&offset=1").await)), ["Alpha", "Beta"]);
    assert_eq!(names(&ok(&list("order_by=-members_count&limit=1").await)), ["Acme"]);
    let found: Value = ok(&list("query=M").await);
    assert_eq!(
        (found["total_count"].clone(), names(&found)),
        (json!(2), vec!["Acme".to_owned(), "Gamma".into()])
    );
    assert_eq!(ok::<Value>(&list("query=%25").await)["total_count"], 0, "% is a character, not a wildcard");
    let by_id: Value = ok(&list(&format!("query={}", org.id)).await);
    assert_eq!((by_id["total_count"].clone(), names(&by_id)), (json!(1), vec!["Acme".to_owned()]));
    assert_eq!(
        ok::<Value>(&list(&format!("query={}", &org.id[..8])).await)["total_count"],
        0,
        "ids match whole"
    );
    list("order_by=slug").await.assert_error(422, "form_param_value_invalid");
    list("limit=x").await.assert_error(400, "request_body_invalid");

    // The Frontend API never shows private metadata; admin_delete_enabled: false stops its delete.
    let front: Organization =
        ok(&app.get_bearer(&paths::fill(paths::CLIENT_ORGANIZATION, &[&org.id]), ada.jwt.expose()).await);
    assert!(front.private_metadata.is_none() && front.public_metadata["plan"] == "pro");
    app.with_token(
        Method::DELETE,
        &paths::fill(paths::CLIENT_ORGANIZATION, &[&org.id]),
        ada.jwt.expose(),
        None,
    )
    .await
    .assert_error(403, "organization_admin_delete_disabled");

    // Metadata: PATCH replaces, …/metadata deep-merges and null deletes.
    let org_path = paths::fill(paths::ORGANIZATION, &["acme"]);
    let body = json!({"name": "Acme Corp", "public_metadata": {"tier": 1, "seats": {"max": 5, "used": 1}}});
    let updated: Organization = ok(&app.backend(Method::PATCH, &org_path, Some(body)).await);
    assert_eq!(
        updated.public_metadata,
        serde_json::from_value(json!({"tier": 1, "seats": {"max": 5, "used": 1}})).unwrap()
    );
    let patch =
        json!({"public_metadata": {"tier": null, "seats": {"used": 2}}, "private_metadata": {"note": "x"}});
    let merged: Organization = ok(&app
        .backend(Method::PATCH, &paths::fill(paths::ORGANIZATION_METADATA, &[&org.id]), Some(patch))
        .await);
    assert_eq!(
        serde_json::to_value(&merged.public_metadata).unwrap(),
        json!({"seats": {"max": 5, "used": 2}})
    );
    assert_eq!(
        serde_json::to_value(merged.private_metadata.unwrap()).unwrap(),
        json!({"stripe": "cus_1", "note": "x"})
    );
    let big = json!({"public_metadata": {"x": "y".repeat(9000)}});
    app.backend(Method::PATCH, &org_path, Some(big)).await.assert_error(422, "form_param_too_long");

    // Memberships: create, search, update, metadata, list of a user's, delete.
    let memberships = paths::fill(paths::ORGANIZATION_MEMBERSHIPS, &[&org.id]);
    let m: OrganizationMembership = ok(&app
        .backend(Method::POST, &memberships, Some(json!({"user_id": bob.user.id, "role": "org:member"})))
        .await);
    assert!(m.id.starts_with("orgmem_") && m.private_metadata.is_some());
    app.backend(Method::POST, &memberships, Some(json!({"user_id": "user_nope"})))
        .await
        .assert_error(404, "resource_not_found");
    let searched: Value = ok(&app.backend(Method::GET, &format!("{memberships}?query=BOB"), None).await);
    assert_eq!(
        (searched["total_count"].clone(), searched["data"][0]["public_user_data"]["user_id"].clone()),
        (json!(1), json!(bob.user.id))
    );
    let admins: Value = ok(&app.backend(Method::GET, &format!("{memberships}?role=org:admin"), None).await);
    assert_eq!(admins["data"][0]["public_user_data"]["identifier"], "ada@example.com");
    let bob_path = paths::fill(paths::ORGANIZATION_MEMBERSHIP, &[&org.id, &bob.user.id]);
    let meta = json!({"public_metadata": {"team": "ops"}, "private_metadata": {"salary": 1}});
    let m: OrganizationMembership = ok(&app
        .backend(
            Method::PATCH,
            &paths::fill(paths::ORGANIZATION_MEMBERSHIP_METADATA, &[&org.id, &bob.user.id]),
            Some(meta),
        )
        .await);
    assert_eq!(
        (m.public_metadata["team"].clone(), m.private_metadata.unwrap()["salary"].clone()),
        (json!("ops"), json!(1))
    );
    let theirs: Value = ok(&app.get_bearer(paths::MY_ORGANIZATION_MEMBERSHIPS, bob.jwt.expose()).await);
    assert_eq!(theirs["data"][0]["public_metadata"]["team"], "ops");
    assert!(
        theirs["data"][0].get("private_metadata").is_none()
            && theirs["data"][0]["organization"].get("private_metadata").is_none()
    );
    let users: Value = ok(&app
        .backend(Method::GET, &paths::fill(paths::USER_ORGANIZATION_MEMBERSHIPS, &[&bob.user.id]), None)
        .await);
    assert_eq!(users["data"][0]["private_metadata"]["salary"], 1);
    app.backend(Method::GET, &paths::fill(paths::USER_ORGANIZATION_MEMBERSHIPS, &["user_nope"]), None)
        .await
        .assert_error(404, "resource_not_found");
    ok::<OrganizationMembership>(
        &app.backend(Method::PATCH, &bob_path, Some(json!({"role": "org:admin"}))).await,
    );
    let ada_path = paths::fill(paths::ORGANIZATION_MEMBERSHIP, &[&org.id, &ada.user.id]);
    ok::<OrganizationMembership>(&app.backend(Method::DELETE, &ada_path, None).await);
    let bob_path_gone = app.backend(Method::DELETE, &bob_path, None).await;
    bob_path_gone.assert_error(403, "organization_minimum_permissions_needed");

    // Settings, and the delete.
    let settings: Value = ok(&app.backend(Method::GET, paths::ORGANIZATION_SETTINGS, None).await);
    assert_eq!(
        (settings["creator_role"].clone(), settings["default_role"].clone()),
        (json!("org:admin"), json!("org:member"))
    );
    assert_eq!(
        (settings["invitation_expiry_days"].clone(), settings["enabled"].clone()),
        (json!(30), json!(true))
    );
    let deleted: Value = ok(&app.backend(Method::DELETE, &org_path, None).await);
    assert_eq!(deleted["deleted"], true);
    app.backend(Method::GET, &org_path, None).await.assert_error(404, "resource_not_found");
    app.call(Method::GET, paths::ORGANIZATIONS, &[], None).await.assert_error(401, "secret_key_required");
}

db_test!(roles_and_permissions_shape_what_tokens_carry);
async fn roles_and_permissions_shape_what_tokens_carry(db: Db) {
    let app = TestApp::new(&db).await;
    let roles: Value = ok(&app.backend(Method::GET, paths::ORGANIZATION_ROLES, None).await);
    assert_eq!(roles["total_count"], 2);
    assert_eq!(
        (roles["data"][0]["key"].clone(), roles["data"][0]["is_creator_eligible"].clone()),
        (json!("org:admin"), json!(true))
    );
    let perms: Value = ok(&app.backend(Method::GET, paths::ORGANIZATION_PERMISSIONS, None).await);
    assert_eq!(perms["total_count"], 4);
    assert!(perms["data"].as_array().unwrap().iter().all(|p| p["type"] == "system"));

    // Custom permissions and a role made of them.
    let new_perm = |key: &str| {
        app.backend(Method::POST, paths::ORGANIZATION_PERMISSIONS, Some(json!({"key": key, "name": key})))
    };
    let read: Value = ok(&new_perm("org:invoices:read").await);
    let manage: Value = ok(&new_perm("org:invoices:manage").await);
    assert_eq!((read["type"].clone(), read["object"].clone()), (json!("user"), json!("permission")));
    new_perm("org:invoices:read").await.assert_error(409, "duplicate_record");
    new_perm("org:sys_billing:read").await.assert_error(422, "organization_system_permission_immutable");
    new_perm("invoices").await.assert_error(422, "form_param_format_invalid");
    let body = json!({"key": "org:billing", "name": "Billing", "permissions": ["org:invoices:read", "org:sys_memberships:read"]});
    let billing: Value = ok(&app.backend(Method::POST, paths::ORGANIZATION_ROLES, Some(body)).await);
    assert_eq!(billing["is_creator_eligible"], false);
    let bad = json!({"key": "org:x", "name": "X", "permissions": ["org:nope:read"]});
    app.backend(Method::POST, paths::ORGANIZATION_ROLES, Some(bad))
        .await
        .assert_error(422, "form_param_value_invalid");
    app.backend(Method::POST, paths::ORGANIZATION_ROLES, Some(json!({"key": "org:billing", "name": "B"})))
        .await
        .assert_error(409, "duplicate_record");

    let ada = app.sign_up_as("ada@example.com").await;
    let bob = app.sign_up_as("bob@example.com").await;
    let org = create_org(&app, ada.jwt.expose(), json!({"name": "Acme"})).await;
    add_member(&app, &org.id, &bob.user.id, "org:billing").await;
    let bob_in: SessionTokenResponse = ok(&touch(&app, &bob, json!(org.id)).await);
    let claims = app.verify(bob_in.jwt.expose());
    assert_eq!(claims.fea.as_deref(), Some("o:invoices,o:sys_memberships"));
    let decoded = claims.organization().unwrap();
    assert_eq!(
        (decoded.rol.as_str(), decoded.per.clone()),
        ("org:billing", vec!["org:invoices:read".to_owned(), "org:sys_memberships:read".to_owned()])
    );
    assert_eq!(bob_in.organization.as_ref(), Some(&decoded));

    // Granting one more permission, and deleting one: the next token follows.
    let role_id = billing["id"].as_str().unwrap();
    let grant = paths::fill(paths::ORGANIZATION_ROLE_PERMISSION, &[role_id, manage["id"].as_str().unwrap()]);
    let with_manage: Value = ok(&app.backend(Method::POST, &grant, None).await);
    assert_eq!(with_manage["permissions"].as_array().unwrap().len(), 3);
    let bob = refreshed(&app, &bob).await;
    assert!(org_of(&app, bob.jwt.expose()).unwrap().per.contains(&"org:invoices:manage".to_owned()));
    ok::<Value>(
        &app.backend(
            Method::DELETE,
            &paths::fill(paths::ORGANIZATION_PERMISSION, &[read["id"].as_str().unwrap()]),
            None,
        )
        .await,
    );
    let bob = refreshed(&app, &bob).await;
    assert_eq!(
        org_of(&app, bob.jwt.expose()).unwrap().per,
        ["org:invoices:manage", "org:sys_memberships:read"]
    );
    let renamed: Value = ok(&app
        .backend(
            Method::PATCH,
            &paths::fill(paths::ORGANIZATION_ROLE, &[role_id]),
            Some(json!({"name": "Finance", "description": "Money"})),
        )
        .await);
    assert_eq!((renamed["name"].clone(), renamed["key"].clone()), (json!("Finance"), json!("org:billing")));

    // What cannot change: system permissions, roles in use, the creator role's manage permission, and
    // an organization's only admin role losing it.
    let sys = paths::fill(paths::ORGANIZATION_PERMISSION, &["perm_sys_profile_manage"]);
    app.backend(Method::PATCH, &sys, Some(json!({"name": "x"})))
        .await
        .assert_error(422, "organization_system_permission_immutable");
    app.backend(Method::DELETE, &sys, None)
        .await
        .assert_error(422, "organization_system_permission_immutable");
    app.backend(Method::DELETE, &paths::fill(paths::ORGANIZATION_ROLE, &[role_id]), None)
        .await
        .assert_error(409, "organization_role_in_use");
    app.backend(Method::DELETE, &paths::fill(paths::ORGANIZATION_ROLE, &["role_member"]), None)
        .await
        .assert_error(409, "organization_role_in_use");
    let drop_manage =
        paths::fill(paths::ORGANIZATION_ROLE_PERMISSION, &["role_admin", "perm_sys_memberships_manage"]);
    app.backend(Method::DELETE, &drop_manage, None).await.assert_error(409, "organization_role_in_use");
    let body = json!({"key": "org:owner", "name": "Owner", "permissions": ["org:sys_memberships:manage"]});
    let owner: Value = ok(&app.backend(Method::POST, paths::ORGANIZATION_ROLES, Some(body)).await);
    let member = paths::fill(paths::CLIENT_ORGANIZATION_MEMBERSHIP, &[&org.id, &ada.user.id]);
    ok::<OrganizationMembership>(
        &app.with_token(Method::PATCH, &member, ada.jwt.expose(), Some(json!({"role": "org:owner"}))).await,
    );
    let owner_path = paths::fill(paths::ORGANIZATION_ROLE, &[owner["id"].as_str().unwrap()]);
    app.backend(Method::PATCH, &owner_path, Some(json!({"permissions": []})))
        .await
        .assert_error(403, "organization_minimum_permissions_needed");
    // With another admin in the organization, it may.
    let bob_member = paths::fill(paths::ORGANIZATION_MEMBERSHIP, &[&org.id, &bob.user.id]);
    ok::<OrganizationMembership>(
        &app.backend(Method::PATCH, &bob_member, Some(json!({"role": "org:admin"}))).await,
    );
    let stripped: Value =
        ok(&app.backend(Method::PATCH, &owner_path, Some(json!({"permissions": []}))).await);
    assert_eq!(stripped["permissions"], json!([]));
    let unused = json!({"key": "org:temp", "name": "Temp"});
    let temp: Value = ok(&app.backend(Method::POST, paths::ORGANIZATION_ROLES, Some(unused)).await);
    let temp_path = paths::fill(paths::ORGANIZATION_ROLE, &[temp["id"].as_str().unwrap()]);
    assert_eq!(ok::<Value>(&app.backend(Method::DELETE, &temp_path, None).await)["deleted"], true);
    app.backend(Method::GET, &temp_path, None).await.assert_error(404, "resource_not_found");
}

db_test!(the_settings_roles_must_exist_at_start);
async fn the_settings_roles_must_exist_at_start(db: Db) {
    let mut config = db.config();
    config.organization_creator_role = "org:member".into();
    let err = hallpass_server::AppState::new(config.clone()).await.expect_err("refused");
    assert!(err.to_string().contains("org:sys_memberships:manage"), "{err}");
    config.organization_creator_role = "org:admin".into();
    config.organization_default_role = "org:ghost".into();
    let err = hallpass_server::AppState::new(config).await.expect_err("refused");
    assert!(err.to_string().contains("org:ghost"), "{err}");
    let app = TestApp::with(&db, |c| {
        c.organization_default_role = "org:admin".into();
        c.organization_invitation_expiry_days = 3;
    })
    .await;
    let settings: Value = ok(&app.backend(Method::GET, paths::ORGANIZATION_SETTINGS, None).await);
    assert_eq!(
        (settings["default_role"].clone(), settings["invitation_expiry_days"].clone()),
        (json!("org:admin"), json!(3))
    );
}
