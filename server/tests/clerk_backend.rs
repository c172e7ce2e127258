//! Session tokens with an active organization, read by a Clerk app's backend: the server on a real
//! socket, and `tests/clerk_backend/verify.mjs` in Node verifying each token with the real `jose`
//! package against the JWKS and with @clerk/backend's `verifyToken`, then deriving orgId, orgRole,
//! orgSlug and orgPermissions with @clerk/backend's own parser — which must be what the user's
//! membership says (admin, a custom role with custom permissions, a member, and no organization).
//!
//! It needs `jose` and `@clerk/backend` from the Node tools `cargo xtask setup` installs
//! (`.tools/node_modules`, or `HALLPASS_TOOLS`): without them the test fails and says so.

mod common;

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use axum::http::Method;
use common::{Db, TestApp, db_test};
use hallpass_protocol::{AuthResponse, OrganizationMembership, SessionTokenResponse, paths};
use hallpass_server::run;
use serde_json::{Value, json};

const ORIGIN: &str = "http://localhost:3000";

/// The Node modules folder holding `jose` and `@clerk/backend`.
fn tools() -> PathBuf {
    let dir = std::env::var_os("HALLPASS_TOOLS").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..").join(".tools").join("node_modules")
    });
    for package in ["jose", "@clerk/backend"] {
        assert!(
            dir.join(package).join("package.json").exists(),
            "this test verifies tokens with the `{package}` npm package, which is not in {}: run \
             `cargo xtask setup` (or set HALLPASS_TOOLS to a node_modules folder that has it)",
            dir.display()
        );
    }
    dir
}

/// Switches `auth`'s session to `org` (with an Origin, as a browser would) and returns the token.
async fn token_in(app: &TestApp, auth: &AuthResponse, org: &str) -> String {
    let p = paths::fill(paths::SESSION_TOUCH, &[&auth.session.id]);
    let bearer = format!("Bearer {}", auth.jwt.expose());
    let headers = [("authorization", bearer.as_str()), ("origin", ORIGIN)];
    let res = app.call(Method::POST, &p, &headers, Some(json!({"active_organization_id": org}))).await;
    let switched: SessionTokenResponse = serde_json::from_slice(&res.body).unwrap();
    switched.jwt.expose().to_owned()
}

/// What a backend must derive for a member: from the membership the API reports.
fn expect(m: &OrganizationMembership, not_granted: &[&str]) -> Value {
    json!({"orgId": m.organization.id, "orgRole": m.role, "orgSlug": m.organization.slug,
           "orgPermissions": m.permissions, "notGranted": not_granted})
}

async fn membership_of(app: &TestApp, auth: &AuthResponse) -> OrganizationMembership {
    let list = app.get_bearer(paths::MY_ORGANIZATION_MEMBERSHIPS, auth.jwt.expose()).await.json();
    serde_json::from_value(list["data"][0].clone()).unwrap()
}

db_test!(a_clerk_backend_verifies_the_token_and_derives_the_membership);
async fn a_clerk_backend_verifies_the_token_and_derives_the_membership(db: Db) {
    let tools = tools();
    let app = TestApp::new(&db).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(run(listener, app.state.clone(), async {
        let _ = stopped.await;
    }));

    for (key, name) in [("org:invoices:read", "Read invoices"), ("org:invoices:manage", "Manage invoices")] {
        let res = app
            .backend(Method::POST, paths::ORGANIZATION_PERMISSIONS, Some(json!({"key": key, "name": name})))
            .await;
        assert_eq!(res.status, 200);
    }
    let billing = json!({"key": "org:billing", "name": "Billing",
                         "permissions": ["org:invoices:read", "org:invoices:manage", "org:sys_memberships:read"]});
    assert_eq!(app.backend(Method::POST, paths::ORGANIZATION_ROLES, Some(billing)).await.status, 200);
    let ada = app.sign_up_as("ada@example.com").await;
    let bob = app.sign_up_as("bob@example.com").await;
    let carol = app.sign_up_as("carol@example.com").await;
    let body = json!({"name": "Acme Inc", "created_by": ada.user.id});
    let org = app.backend(Method::POST, paths::ORGANIZATIONS, Some(body)).await.json();
    let org_id = org["id"].as_str().unwrap();
    let members = paths::fill(paths::ORGANIZATION_MEMBERSHIPS, &[org_id]);
    for (who, role) in [(&bob, "org:billing"), (&carol, "org:member")] {
        let res =
            app.backend(Method::POST, &members, Some(json!({"user_id": who.user.id, "role": role}))).await;
        assert_eq!(res.status, 200);
    }

    let cases = json!([
        {"name": "admin", "jwt": token_in(&app, &ada, org_id).await,
         "expect": expect(&membership_of(&app, &ada).await, &["org:invoices:read"])},
        {"name": "custom role", "jwt": token_in(&app, &bob, org_id).await,
         "expect": expect(&membership_of(&app, &bob).await, &["org:sys_memberships:manage", "org:sys_profile:manage"])},
        {"name": "member", "jwt": token_in(&app, &carol, "acme-inc").await,
         "expect": expect(&membership_of(&app, &carol).await, &["org:sys_memberships:manage", "org:invoices:read"])},
        {"name": "personal account", "jwt": ada.jwt.expose(),
         "expect": {"orgId": null, "orgRole": null, "orgSlug": null, "orgPermissions": [], "notGranted": ["org:sys_memberships:read"]}},
    ]);
    let input = json!({"jwks_url": format!("http://{addr}{}", paths::JWKS), "issuer": app.state.public_url(), "cases": cases});
    let script =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests").join("clerk_backend").join("verify.mjs");
    // Node fetches the JWKS from this runtime's server, so it runs on a blocking thread, bounded.
    let output = tokio::task::spawn_blocking(move || {
        let mut child = Command::new("timeout")
            .args(["--kill-after=5", "60", "node"])
            .arg(&script)
            .arg(&tools)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("starting node");
        child.stdin.take().unwrap().write_all(input.to_string().as_bytes()).unwrap();
        child.wait_with_output().unwrap()
    })
    .await
    .unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "verify.mjs failed:\n{stdout}\n{stderr}");
    assert_eq!(stdout.lines().filter(|l| l.contains(": verified")).count(), 4, "{stdout}");
    println!("{stdout}");

    let _ = stop.send(());
    server.await.unwrap().unwrap();
}
