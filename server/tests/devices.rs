//! The device each session was started on, on both engines: every sign-in and sign-up keeps its
//! request's `User-Agent` (bounded) and client address (trusted proxies only) with the session, and
//! `GET /v1/client/sessions` (and the Backend API's `GET /v1/sessions…`) lists each session's
//! `latest_activity` (Clerk's `SessionActivity`).

mod common;

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderValue, Method, Request};
use common::{Db, PASSWORD, Resp, TestApp, db_test};
use hallpass_protocol::{AuthResponse, ListResponse, SessionWithActivities, paths};
use hallpass_server::user_agent::MAX_USER_AGENT_BYTES;
use serde_json::{Value, json};

const MAC_CHROME: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) \
                          Chrome/131.0.0.0 Safari/537.36";
const IPHONE_SAFARI: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, \
                             like Gecko) Version/18.1 Mobile/15E148 Safari/604.1";

/// A Frontend API `POST` as it arrives on a socket from `peer`, with `headers` (values as raw bytes).
async fn post_from(app: &TestApp, peer: &str, path: &str, headers: &[(&str, &[u8])], body: Value) -> Resp {
    let mut req =
        Request::builder().method(Method::POST).uri(path).header("content-type", "application/json");
    for (name, value) in headers {
        req = req.header(*name, HeaderValue::from_bytes(value).unwrap());
    }
    let mut req = req.body(Body::from(serde_json::to_vec(&body).unwrap())).unwrap();
    req.extensions_mut().insert(ConnectInfo(peer.parse::<SocketAddr>().unwrap()));
    app.send(req).await
}

async fn sign_in_from(app: &TestApp, peer: &str, headers: &[(&str, &[u8])]) -> AuthResponse {
    let body = json!({"identifier": "ada@example.com", "password": PASSWORD});
    post_from(app, peer, paths::SIGN_INS, headers, body).await.auth()
}

async fn sessions(app: &TestApp, jwt: &str) -> Vec<SessionWithActivities> {
    let res = app.get_bearer(paths::SESSIONS, jwt).await;
    assert_eq!(res.status, 200, "{}", String::from_utf8_lossy(&res.body));
    serde_json::from_slice::<ListResponse<SessionWithActivities>>(&res.body).unwrap().data
}

fn of<'a>(list: &'a [SessionWithActivities], id: &str) -> &'a SessionWithActivities {
    list.iter().find(|s| s.session.id == id).unwrap_or_else(|| panic!("{id} not listed"))
}

db_test!(each_session_lists_the_device_and_address_it_was_started_from);
async fn each_session_lists_the_device_and_address_it_was_started_from(db: Db) {
    let app = TestApp::new(&db).await;
    // In-process, without a socket or a `User-Agent`: nothing is known of the device.
    let signed_up = app.sign_up_as("ada@example.com").await;
    let laptop = sign_in_from(&app, "203.0.113.7:50000", &[("user-agent", MAC_CHROME.as_bytes())]).await;
    let phone = sign_in_from(&app, "[2001:db8::42]:443", &[("user-agent", IPHONE_SAFARI.as_bytes())]).await;

    let raw = app.get_bearer(paths::SESSIONS, phone.jwt.expose()).await.json();
    let listed = raw["data"].as_array().unwrap();
    assert_eq!(listed.len(), 3);
    let laptop_json = listed.iter().find(|s| s["id"] == laptop.session.id.as_str()).unwrap();
    // Clerk's snake_case shape, beside the session's own fields.
    assert_eq!(
        laptop_json["latest_activity"],
        json!({
            "object": "session_activity",
            "id": laptop.session.id,
            "browser_name": "Chrome",
            "browser_version": "131",
            "os_name": "macOS",
            "device_type": "desktop",
            "is_mobile": false,
            "ip_address": "203.0.113.7",
            "city": null,
            "country": null,
        })
    );
    assert_eq!(laptop_json["object"], "session");
    assert_eq!(laptop_json["status"], "active");

    let list = sessions(&app, laptop.jwt.expose()).await;
    let phone_activity = of(&list, &phone.session.id).latest_activity.clone().unwrap();
    assert_eq!(phone_activity.browser_name.as_deref(), Some("Safari"));
    assert_eq!(phone_activity.browser_version.as_deref(), Some("18"));
    assert_eq!(phone_activity.os_name.as_deref(), Some("iOS"));
    assert_eq!(phone_activity.device_type, Some(hallpass_protocol::DeviceType::Mobile));
    assert!(phone_activity.is_mobile);
    assert_eq!(phone_activity.ip_address.as_deref(), Some("2001:db8::42"));
    assert_eq!(of(&list, &signed_up.session.id).latest_activity, None);
    // The Backend API's sessions carry it too, as Clerk's do.
    let one =
        app.backend(Method::GET, &paths::fill(paths::BACKEND_SESSION, &[&laptop.session.id]), None).await;
    assert_eq!(one.json()["latest_activity"], laptop_json["latest_activity"]);
    let all = app
        .backend(Method::GET, &format!("{}?user_id={}", paths::BACKEND_SESSIONS, laptop.user.id), None)
        .await;
    let all: ListResponse<SessionWithActivities> = serde_json::from_slice(&all.body).unwrap();
    assert_eq!(of(&all.data, &phone.session.id).latest_activity.as_ref(), Some(&phone_activity));

    // Revoking answers the session as the list shows it; the revoked one leaves the list.
    let revoke = paths::fill(paths::SESSION_REVOKE, &[&phone.session.id]);
    let revoked = app.with_token(Method::POST, &revoke, laptop.jwt.expose(), None).await.json();
    assert_eq!(revoked["status"], "revoked");
    assert_eq!(revoked["latest_activity"]["os_name"], "iOS");
    let list = sessions(&app, laptop.jwt.expose()).await;
    assert_eq!(list.len(), 2);
    // A refresh from elsewhere does not move a session's device: it is the sign-in's.
    app.refresh(laptop.refresh_token.expose()).await.auth();
    let list = sessions(&app, laptop.jwt.expose()).await;
    assert_eq!(
        of(&list, &laptop.session.id).latest_activity.as_ref().unwrap().ip_address.as_deref(),
        Some("203.0.113.7")
    );
}

db_test!(a_forwarded_address_counts_only_from_a_trusted_proxy);
async fn a_forwarded_address_counts_only_from_a_trusted_proxy(db: Db) {
    let app = TestApp::with(&db, |c| c.trusted_proxies = vec!["10.0.0.1".into()]).await;
    app.sign_up_as("ada@example.com").await;
    let xff = |client: &'static str| {
        [("user-agent", MAC_CHROME.as_bytes()), ("x-forwarded-for", client.as_bytes())]
    };
    let proxied = sign_in_from(&app, "10.0.0.1:5000", &xff("198.51.100.1")).await;
    // A client that is not the proxy cannot name its own address.
    let direct = sign_in_from(&app, "192.0.2.9:5000", &xff("198.51.100.66")).await;
    let list = sessions(&app, proxied.jwt.expose()).await;
    let ip = |id: &str| of(&list, id).latest_activity.as_ref().unwrap().ip_address.clone();
    assert_eq!(ip(&proxied.session.id).as_deref(), Some("198.51.100.1"));
    assert_eq!(ip(&direct.session.id).as_deref(), Some("192.0.2.9"));
}

db_test!(an_oversized_or_odd_user_agent_is_kept_bounded_and_never_refused);
async fn an_oversized_or_odd_user_agent_is_kept_bounded_and_never_refused(db: Db) {
    let app = TestApp::new(&db).await;
    app.sign_up_as("ada@example.com").await;
    let long = format!("{MAC_CHROME} {}", "x".repeat(20_000));
    let big = sign_in_from(&app, "192.0.2.1:1", &[("user-agent", long.as_bytes())]).await;
    let odd = sign_in_from(&app, "192.0.2.2:1", &[("user-agent", b"\xff\xfe not\ta browser \x80")]).await;
    let empty = sign_in_from(&app, "192.0.2.3:1", &[("user-agent", b"")]).await;

    let stored = app.state.store.session(&big.session.id).await.unwrap().unwrap();
    assert_eq!(stored.user_agent.as_deref().map(str::len), Some(MAX_USER_AGENT_BYTES));
    let list = sessions(&app, big.jwt.expose()).await;
    let activity = |id: &str| of(&list, id).latest_activity.clone().unwrap();
    // Cut, still read: the browser's tokens come first.
    assert_eq!(activity(&big.session.id).browser_name.as_deref(), Some("Chrome"));
    let odd_activity = activity(&odd.session.id);
    assert_eq!(
        (odd_activity.browser_name, odd_activity.os_name, odd_activity.device_type),
        (None, None, None)
    );
    assert_eq!(odd_activity.ip_address.as_deref(), Some("192.0.2.2"));
    let stored = app.state.store.session(&odd.session.id).await.unwrap().unwrap();
    assert_eq!(stored.user_agent.as_deref(), Some("\u{fffd}\u{fffd} not a browser \u{fffd}"));
    let empty_activity = activity(&empty.session.id);
    assert_eq!(
        (empty_activity.browser_name, empty_activity.ip_address.as_deref()),
        (None, Some("192.0.2.3"))
    );
}

db_test!(a_sign_in_by_emailed_code_keeps_the_device_of_the_request_that_completes_it);
async fn a_sign_in_by_emailed_code_keeps_the_device_of_the_request_that_completes_it(db: Db) {
    let app = TestApp::new(&db).await;
    app.sign_up_as("ada@example.com").await;
    let (id, prepared) = app.start_sign_in("ada@example.com", "email_code").await;
    assert_eq!(prepared.status, 200, "{}", String::from_utf8_lossy(&prepared.body));
    let emails =
        app.backend(Method::GET, &format!("{}?to=ada@example.com", paths::EMAILS), None).await.json();
    let code = emails["data"][0]["data"]["otp_code"].as_str().unwrap().to_owned();
    let attempt = paths::fill(paths::SIGN_IN_ATTEMPT_FIRST_FACTOR, &[&id]);
    let body = json!({"strategy": "email_code", "code": code});
    let done = post_from(&app, "198.51.100.9:1", &attempt, &[("user-agent", IPHONE_SAFARI.as_bytes())], body)
        .await
        .auth();
    let list = sessions(&app, done.jwt.expose()).await;
    let activity = of(&list, &done.session.id).latest_activity.clone().unwrap();
    assert_eq!(activity.os_name.as_deref(), Some("iOS"));
    assert_eq!(activity.ip_address.as_deref(), Some("198.51.100.9"));
}
