//! Organization invariants under real concurrency, on both engines: requests started together
//! (behind a barrier, on a multi-threaded runtime, each on its own pooled connection on PostgreSQL)
//! where only locks keep the invariant — two admins demoting each other, a role losing its admin
//! permission while an admin is demoted, joins past the membership limit, creates onto one slug or
//! past the create limit, switching to an organization while being removed from it, and one session
//! switched to several organizations at once (each answer's token carries what that switch wrote).
//! Each race is run for several rounds; every round must end with the invariant intact.

mod common;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use axum::http::{Method, StatusCode};
use common::{Db, Resp, TestApp, db_test};
use hallpass_protocol::{AuthResponse, Organization, paths};
use serde_json::{Value, json};
use tokio::sync::Barrier;

const ROUNDS: usize = 12;

/// One request of a race, with its own handle on the app.
type Call = Pin<Box<dyn Future<Output = Resp> + Send>>;

/// `f(app)` as a [`Call`].
fn call<Fut: Future<Output = Resp> + Send + 'static>(
    app: &Arc<TestApp>,
    f: impl FnOnce(Arc<TestApp>) -> Fut,
) -> Call {
    Box::pin(f(app.clone()))
}

/// Runs the calls at once (released together by a barrier) and returns their answers in order.
async fn race(calls: Vec<Call>) -> Vec<Resp> {
    let barrier = Arc::new(Barrier::new(calls.len()));
    let tasks: Vec<_> = calls
        .into_iter()
        .map(|call| {
            let barrier = barrier.clone();
            tokio::spawn(async move {
                barrier.wait().await;
                call.await
            })
        })
        .collect();
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

fn statuses(answers: &[Resp]) -> Vec<u16> {
    let mut s: Vec<u16> = answers.iter().map(|r| r.status.as_u16()).collect();
    s.sort_unstable();
    s
}

async fn org_with_admins(app: &TestApp, round: usize, admins: &[&AuthResponse]) -> Organization {
    let body = json!({"name": format!("Race {round}"), "created_by": admins[0].user.id});
    let org: Organization =
        serde_json::from_slice(&app.backend(Method::POST, paths::ORGANIZATIONS, Some(body)).await.body)
            .unwrap();
    for a in &admins[1..] {
        let p = paths::fill(paths::ORGANIZATION_MEMBERSHIPS, &[&org.id]);
        let res =
            app.backend(Method::POST, &p, Some(json!({"user_id": a.user.id, "role": "org:admin"}))).await;
        assert_eq!(res.status, StatusCode::OK);
    }
    org
}

/// Members of the organization whose role grants `org:sys_memberships:manage`.
async fn admins(app: &TestApp, org: &str) -> usize {
    let p = format!("{}?limit=500", paths::fill(paths::ORGANIZATION_MEMBERSHIPS, &[org]));
    let list = app.backend(Method::GET, &p, None).await.json();
    list["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["permissions"].as_array().unwrap().iter().any(|p| p == "org:sys_memberships:manage"))
        .count()
}

db_test!(two_admins_demoting_each_other_at_once_leave_one);
async fn two_admins_demoting_each_other_at_once_leave_one(db: Db) {
    let app = Arc::new(TestApp::new(&db).await);
    let ada = app.sign_up_as("ada@example.com").await;
    let bob = app.sign_up_as("bob@example.com").await;
    for round in 0..ROUNDS {
        let org = org_with_admins(&app, round, &[&ada, &bob]).await;
        let demote = |by: &AuthResponse, whom: &AuthResponse| {
            let p = paths::fill(paths::CLIENT_ORGANIZATION_MEMBERSHIP, &[&org.id, &whom.user.id]);
            let jwt = by.jwt.expose().to_owned();
            call(&app, |app| async move {
                app.with_token(Method::PATCH, &p, &jwt, Some(json!({"role": "org:member"}))).await
            })
        };
        let answers = race(vec![demote(&ada, &bob), demote(&bob, &ada)]).await;
        assert_eq!(statuses(&answers), [200, 403], "round {round}");
        let refused = answers.iter().find(|r| r.status == StatusCode::FORBIDDEN).unwrap();
        // Refused by the last-admin rule, or — when the other demotion committed before this one was
        // even authorised — because its caller is no admin any more.
        let code = refused.code();
        assert!(
            code == "organization_minimum_permissions_needed" || code == "organization_permission_missing",
            "{code}"
        );
        assert_eq!(admins(&app, &org.id).await, 1, "round {round}");
    }
}

db_test!(a_role_losing_its_admin_permission_while_an_admin_is_demoted_leaves_one);
async fn a_role_losing_its_admin_permission_while_an_admin_is_demoted_leaves_one(db: Db) {
    let app = Arc::new(TestApp::new(&db).await);
    let ada = app.sign_up_as("ada@example.com").await;
    let bob = app.sign_up_as("bob@example.com").await;
    for round in 0..ROUNDS {
        // Ada's only admin role is a custom one; Bob is org:admin.
        let key = format!("org:owner{round}");
        let body = json!({"key": key, "name": "Owner", "permissions": ["org:sys_memberships:manage"]});
        let owner = app.backend(Method::POST, paths::ORGANIZATION_ROLES, Some(body)).await.json();
        let org = org_with_admins(&app, round, &[&ada, &bob]).await;
        let ada_member = paths::fill(paths::ORGANIZATION_MEMBERSHIP, &[&org.id, &ada.user.id]);
        assert_eq!(
            app.backend(Method::PATCH, &ada_member, Some(json!({"role": key}))).await.status,
            StatusCode::OK
        );

        let role = paths::fill(paths::ORGANIZATION_ROLE, &[owner["id"].as_str().unwrap()]);
        let bob_member = paths::fill(paths::ORGANIZATION_MEMBERSHIP, &[&org.id, &bob.user.id]);
        let strip = call(&app, |app| async move {
            app.backend(Method::PATCH, &role, Some(json!({"permissions": []}))).await
        });
        let demote = call(&app, |app| async move {
            app.backend(Method::PATCH, &bob_member, Some(json!({"role": "org:member"}))).await
        });
        let answers = race(vec![strip, demote]).await;
        assert_eq!(statuses(&answers), [200, 403], "round {round}");
        assert_eq!(admins(&app, &org.id).await, 1, "round {round}");
    }
}

db_test!(joins_at_once_stop_at_the_membership_limit);
async fn joins_at_once_stop_at_the_membership_limit(db: Db) {
    let app = Arc::new(TestApp::new(&db).await);
    let mut users = Vec::new();
    for i in 0..6 {
        users.push(app.sign_up_as(&format!("user{i}@example.com")).await.user.id);
    }
    for round in 0..ROUNDS / 2 {
        let body =
            json!({"name": format!("Small {round}"), "created_by": users[0], "max_allowed_memberships": 3});
        let org = app.backend(Method::POST, paths::ORGANIZATIONS, Some(body)).await.json();
        let p = paths::fill(paths::ORGANIZATION_MEMBERSHIPS, &[org["id"].as_str().unwrap()]);
        let joins = users[1..]
            .iter()
            .map(|u| {
                let (p, u) = (p.clone(), u.clone());
                call(
                    &app,
                    |app| async move { app.backend(Method::POST, &p, Some(json!({"user_id": u}))).await },
                )
            })
            .collect();
        let answers = race(joins).await;
        assert_eq!(statuses(&answers), [200, 200, 403, 403, 403], "round {round}");
        let org = app
            .backend(Method::GET, &paths::fill(paths::ORGANIZATION, &[org["id"].as_str().unwrap()]), None)
            .await
            .json();
        assert_eq!(org["members_count"], 3, "round {round}");
    }
}

db_test!(creates_at_once_onto_one_slug_or_past_the_create_limit);
async fn creates_at_once_onto_one_slug_or_past_the_create_limit(db: Db) {
    let app = Arc::new(TestApp::with(&db, |c| c.organization_create_limit = 2).await);
    let ada = app.sign_up_as("ada@example.com").await;
    let bob = app.sign_up_as("bob@example.com").await;
    let create = |jwt: &str, body: Value| {
        let jwt = jwt.to_owned();
        call(&app, |app| async move {
            app.with_token(Method::POST, paths::CLIENT_ORGANIZATIONS, &jwt, Some(body)).await
        })
    };
    // One slug, asked for by five creates at once (the Backend API has no create limit).
    let backend = |n: usize| {
        call(&app, |app| async move {
            app.backend(
                Method::POST,
                paths::ORGANIZATIONS,
                Some(json!({"name": format!("S{n}"), "slug": "same"})),
            )
            .await
        })
    };
    let answers = race((0..5).map(backend).collect()).await;
    assert_eq!(statuses(&answers), [200, 422, 422, 422, 422]);
    assert!(
        answers.iter().filter(|r| r.status != StatusCode::OK).all(|r| r.code() == "form_identifier_exists")
    );
    // One name without a slug: every create gets a slug of its own.
    let answers = race((0..2).map(|_| create(bob.jwt.expose(), json!({"name": "Same"}))).collect()).await;
    let slugs: std::collections::BTreeSet<String> =
        answers.iter().map(|r| r.json()["slug"].as_str().unwrap().to_owned()).collect();
    assert_eq!(slugs.len(), 2, "{slugs:?}");
    // Five creates at once by a user allowed two organizations.
    let answers =
        race((0..5).map(|i| create(ada.jwt.expose(), json!({"name": format!("A{i}")}))).collect()).await;
    assert_eq!(statuses(&answers), [200, 200, 403, 403, 403]);
    let mine = app.get_bearer(paths::MY_ORGANIZATION_MEMBERSHIPS, ada.jwt.expose()).await.json();
    assert_eq!(mine["total_count"], 2);
}

db_test!(switching_to_an_organization_while_being_removed_never_leaves_it_active);
async fn switching_to_an_organization_while_being_removed_never_leaves_it_active(db: Db) {
    let app = Arc::new(TestApp::new(&db).await);
    let ada = app.sign_up_as("ada@example.com").await;
    let bob = app.sign_up_as("bob@example.com").await;
    for round in 0..ROUNDS {
        let org = org_with_admins(&app, round, &[&ada]).await;
        let p = paths::fill(paths::ORGANIZATION_MEMBERSHIPS, &[&org.id]);
        assert_eq!(
            app.backend(Method::POST, &p, Some(json!({"user_id": bob.user.id}))).await.status,
            StatusCode::OK
        );
        let touch = paths::fill(paths::SESSION_TOUCH, &[&bob.session.id]);
        let (jwt, org_id) = (bob.jwt.expose().to_owned(), org.id.clone());
        let switch = call(&app, |app| async move {
            app.with_token(Method::POST, &touch, &jwt, Some(json!({"active_organization_id": org_id}))).await
        });
        let member = paths::fill(paths::ORGANIZATION_MEMBERSHIP, &[&org.id, &bob.user.id]);
        let remove = call(&app, |app| async move { app.backend(Method::DELETE, &member, None).await });
        let answers = race(vec![switch, remove]).await;
        assert_eq!(answers[1].status, StatusCode::OK, "the removal always succeeds");
        assert!(matches!(answers[0].status.as_u16(), 200 | 404), "round {round}");
        let me = app.get_bearer(paths::ME, bob.jwt.expose()).await.json();
        assert_eq!(me["session"]["last_active_organization_id"], Value::Null, "round {round}");
    }
}

db_test!(touches_at_once_each_answer_the_organization_they_wrote);
async fn touches_at_once_each_answer_the_organization_they_wrote(db: Db) {
    let app = Arc::new(TestApp::new(&db).await);
    let ada = app.sign_up_as("ada@example.com").await;
    let mut orgs = Vec::new();
    for i in 0..4 {
        orgs.push(org_with_admins(&app, i, &[&ada]).await);
    }
    let touch = paths::fill(paths::SESSION_TOUCH, &[&ada.session.id]);
    let jwt = ada.jwt.expose().to_owned();
    let mut refresh_token = ada.refresh_token.expose().to_owned();
    // Four organizations (one by its slug) and the personal account, set at once on one session.
    let targets = [json!(orgs[0].id), json!(orgs[1].slug), json!(orgs[2].id), json!(orgs[3].id), Value::Null];
    let wanted: Vec<Option<String>> =
        orgs.iter().map(|o| Some(o.id.clone())).chain(std::iter::once(None)).collect();
    for round in 0..ROUNDS {
        let calls = targets
            .iter()
            .map(|target| {
                let (touch, jwt, body) =
                    (touch.clone(), jwt.clone(), json!({ "active_organization_id": target }));
                call(&app, |app| async move { app.with_token(Method::POST, &touch, &jwt, Some(body)).await })
            })
            .collect();
        let answers = race(calls).await;
        for (answer, want) in answers.iter().zip(&wanted) {
            assert_eq!(answer.status, StatusCode::OK, "{}", String::from_utf8_lossy(&answer.body));
            let body = answer.json();
            let claims = app.verify(body["jwt"].as_str().unwrap());
            assert_eq!(
                claims.o.map(|o| o.id),
                *want,
                "round {round}: the token carries what this touch wrote"
            );
            assert_eq!(
                body["session"]["last_active_organization_id"].as_str().map(str::to_owned),
                *want,
                "round {round}: the session answered is the one this touch left"
            );
            assert_eq!(body["organization"]["id"].as_str().map(str::to_owned), *want, "round {round}");
        }
        // The row holds the last writer's organization, and the next refresh's token carries it.
        let me = app.get_bearer(paths::ME, &jwt).await.json();
        let held = me["session"]["last_active_organization_id"].as_str().map(str::to_owned);
        assert!(wanted.contains(&held), "round {round}: {held:?}");
        let refreshed = app.refresh(&refresh_token).await.auth();
        refresh_token = refreshed.refresh_token.expose().to_owned();
        assert_eq!(app.verify(refreshed.jwt.expose()).o.map(|o| o.id), held, "round {round}");
    }
}
