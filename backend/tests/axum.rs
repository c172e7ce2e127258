//! The axum integration through real HTTP: an app with `HallpassLayer` (public routes as in Clerk's
//! guide) and `ProtectLayer`s, served on loopback, called with tokens of a real `hallpass-server` —
//! the same protect/has matrix as hallpass/express's suite.

mod common;

use axum::Router;
use axum::extract::Query;
use axum::routing::get;
use common::TestServer;
use hallpass_backend::axum::{HallpassLayer, ProtectLayer};
use hallpass_backend::{Auth, Check, RouteMatcher, SignedIn, Verifier};
use serde_json::{Value, json};

fn app(verifier: Verifier) -> Router {
    let has = |auth: Auth, Query(check): Query<std::collections::HashMap<String, String>>| async move {
        let check = Check {
            role: check.get("role").cloned(),
            permission: check.get("permission").cloned(),
            feature: check.get("feature").cloned(),
        };
        axum::response::Json(json!({ "has": auth.has(&check) }))
    };
    Router::new()
        .route("/", get(|auth: Auth| async move { format!("home, signed in: {}", auth.is_signed_in()) }))
        .route("/pricing", get(|| async { "pricing" }))
        .route("/api/me", get(|user: SignedIn| async move { user.user_id }))
        .route("/api/has", get(has))
        .route(
            "/api/admin",
            get(|| async { "admin" }).route_layer(ProtectLayer::new(Check::role("org:admin"))),
        )
        .route(
            "/api/members",
            get(|| async { "members" })
                .route_layer(ProtectLayer::new(Check::permission("org:sys_memberships:manage"))),
        )
        .layer(HallpassLayer::new(verifier).protect_all_except(RouteMatcher::new([
            "/",
            "/pricing",
            "/sign-in(.*)",
            "/api/has",
        ])))
}

async fn serve(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

/// `GET url` with the token as Bearer (or as the session cookie): status and body.
async fn get_as(url: &str, token: Option<&str>, cookie: bool) -> (u16, String) {
    let mut request = reqwest::Client::new().get(url);
    if let Some(token) = token {
        request = if cookie {
            request.header("cookie", format!("__session={token}"))
        } else {
            request.bearer_auth(token)
        };
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

#[tokio::test]
async fn the_protect_and_has_matrix_through_real_http() {
    let server = TestServer::start(60);
    let user = server.sign_up("http://localhost:3000").await;
    let token = user["jwt"].as_str().unwrap();
    let user_id = user["user"]["id"].as_str().unwrap();
    let (admin, member) =
        (server.sign_up("http://localhost:3000").await, server.sign_up("http://localhost:3000").await);
    let org = server.organization(&admin, &[&member]).await;
    let admin_token = server.with_active_organization(&admin, Some(&org)).await;
    let member_token = server.with_active_organization(&member, Some(&org)).await;
    let url = serve(app(Verifier::frontend_api(&server.url).unwrap().build())).await;

    // (path, signed out, signed in without an organization, org member, org admin)
    let matrix: [(&str, u16, u16, u16, u16); 7] = [
        ("/", 200, 200, 200, 200),
        ("/pricing", 200, 200, 200, 200),
        ("/sign-in/factor-one", 404, 404, 404, 404), // public, so the router answers: no such route
        ("/api/me", 401, 200, 200, 200),
        ("/api/admin", 401, 404, 404, 200),
        ("/api/members", 401, 404, 404, 200),
        ("/dashboard", 401, 404, 404, 404),
    ];
    for (path, out, signed_in, as_member, as_admin) in matrix {
        let at = format!("{url}{path}");
        assert_eq!(get_as(&at, None, false).await.0, out, "signed out {path}");
        assert_eq!(get_as(&at, Some(token), false).await.0, signed_in, "Bearer {path}");
        assert_eq!(get_as(&at, Some(token), true).await.0, signed_in, "cookie {path}");
        assert_eq!(get_as(&at, Some(&member_token), false).await.0, as_member, "member {path}");
        assert_eq!(get_as(&at, Some(&admin_token), true).await.0, as_admin, "admin {path}");
    }
    assert_eq!(get_as(&format!("{url}/api/me"), Some(token), false).await.1, user_id);
    assert_eq!(get_as(&format!("{url}/"), Some(token), true).await.1, "home, signed in: true");

    // Refusals are the server's error shape, with the reason.
    let (status, body) = get_as(&format!("{url}/api/me"), Some("not.a.token"), false).await;
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (status, body["errors"][0]["code"].as_str(), body["errors"][0]["meta"]["reason"].as_str()),
        (401, Some("authentication_invalid"), Some("token-invalid"))
    );
    let (_, body) = get_as(&format!("{url}/api/me"), None, false).await;
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["errors"][0]["meta"]["reason"],
        "session-token-and-uat-missing"
    );

    // has(): nothing without an organization or signed out; the member's and the admin's grants.
    let has = |token: Option<String>, query: &'static str| {
        let url = url.clone();
        async move {
            let (status, body) = get_as(&format!("{url}/api/has?{query}"), token.as_deref(), false).await;
            assert_eq!(status, 200);
            serde_json::from_str::<Value>(&body).unwrap()["has"].as_bool().unwrap()
        }
    };
    // (query, no organization, member, admin)
    let checks = [
        ("role=org:admin", false, false, true),
        ("role=admin", false, false, true),
        ("role=org:member", false, true, false),
        ("permission=org:sys_memberships:manage", false, false, true),
        ("permission=org:sys_memberships:read", false, true, true),
        ("role=org:admin&permission=org:sys_profile:delete", false, false, true),
        ("feature=sys_memberships", false, true, true),
        ("feature=u:sys_memberships", false, false, false),
        ("", false, false, false),
    ];
    for (query, plain, as_member, as_admin) in checks {
        assert!(!has(None, query).await, "signed out {query}");
        assert_eq!(has(Some(token.to_owned()), query).await, plain, "no organization {query}");
        assert_eq!(has(Some(member_token.clone()), query).await, as_member, "member {query}");
        assert_eq!(has(Some(admin_token.clone()), query).await, as_admin, "admin {query}");
    }
    // The organization on the auth object.
    let signed_in = Verifier::frontend_api(&server.url).unwrap().build().verify(&admin_token).await.unwrap();
    assert_eq!(
        signed_in.claims.organization().map(|o| (o.id, o.rol)),
        Some((org.clone(), "org:admin".to_owned()))
    );
}

#[tokio::test]
async fn an_expired_token_is_signed_out_with_its_reason() {
    let server = TestServer::start(1);
    let user = server.sign_up("http://localhost:3000").await;
    let token = user["jwt"].as_str().unwrap();
    let verifier = Verifier::frontend_api(&server.url).unwrap().clock_skew(std::time::Duration::ZERO).build();
    let url = serve(app(verifier)).await;
    let exp = common::claims_of(token)["exp"].as_u64().unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    tokio::time::sleep(std::time::Duration::from_secs(exp.saturating_sub(now) + 1)).await;
    let (status, body) = get_as(&format!("{url}/api/me"), Some(token), false).await;
    assert_eq!(status, 401);
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["errors"][0]["meta"]["reason"], "token-expired");
}
