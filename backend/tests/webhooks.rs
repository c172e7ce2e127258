//! `verify_webhook` on deliveries of a real `hallpass-server`: an endpoint pointed at a receiver on
//! loopback gets the server's signed events, which verify into the protocol's `WebhookEvent`; the
//! same bytes with a changed body, another secret, or no headers do not.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::TestServer;
use hallpass_backend::{Error, verify_webhook};
use hallpass_protocol::{EventType, WebhookEvent};
use http::HeaderMap;
use serde_json::json;

type Received = Arc<Mutex<Vec<(HeaderMap, Vec<u8>)>>>;

/// A receiver that keeps every delivery (headers and raw body) and answers 204.
async fn receiver() -> (String, Received) {
    let received: Received = Arc::default();
    let keep = received.clone();
    let app = axum::Router::new().route(
        "/webhooks",
        axum::routing::post(move |headers: HeaderMap, body: axum::body::Bytes| {
            let keep = keep.clone();
            async move {
                keep.lock().unwrap().push((headers, body.to_vec()));
                axum::http::StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/webhooks", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, received)
}

#[tokio::test]
async fn the_servers_deliveries_verify_into_its_events() {
    let server = TestServer::start(60);
    let (url, received) = receiver().await;
    let (status, endpoint) = server
        .backend(
            reqwest::Method::POST,
            "/v1/webhook_endpoints",
            Some(json!({ "url": url, "event_types": ["user.created", "user.updated", "user.deleted"] })),
        )
        .await;
    assert_eq!(status, 200, "{endpoint}");
    let secret = endpoint["secret"].as_str().expect("the signing secret").to_owned();

    let user = server.sign_up("http://localhost:3000").await;
    let user_id = user["user"]["id"].as_str().unwrap().to_owned();
    let path = format!("/v1/users/{user_id}");
    let (status, _) =
        server.backend(reqwest::Method::PATCH, &path, Some(json!({ "first_name": "Renamed" }))).await;
    assert_eq!(status, 200);
    assert_eq!(server.backend(reqwest::Method::DELETE, &path, None).await.0, 200);

    // Three deliveries, in commit order (bounded wait: the worker sends at once).
    let deadline = Instant::now() + Duration::from_secs(30);
    while received.lock().unwrap().len() < 3 {
        assert!(
            Instant::now() < deadline,
            "3 deliveries within 30 s; got {}",
            received.lock().unwrap().len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let deliveries = received.lock().unwrap().clone();
    let events: Vec<WebhookEvent> = deliveries
        .iter()
        .map(|(headers, body)| verify_webhook(&secret, headers, body).expect("a delivery of the server"))
        .collect();
    let types: Vec<EventType> = events.iter().map(|e| e.event_type).collect();
    assert_eq!(types, [EventType::UserCreated, EventType::UserUpdated, EventType::UserDeleted]);
    assert!(events.iter().all(|e| e.data["id"] == user_id.as_str() && e.object == "event"));
    assert_eq!(events[1].data["first_name"], "Renamed");
    assert!(events[0].instance_id.starts_with("ins_"));

    // The same delivery altered, or checked with another secret, or without its headers: refused.
    let (headers, body) = &deliveries[0];
    let mut altered = body.clone();
    let at = altered.iter().position(|&b| b == b'{').unwrap();
    altered.insert(at + 1, b' ');
    assert!(matches!(
        verify_webhook::<WebhookEvent>(&secret, headers, &altered),
        Err(Error::WebhookInvalid(_))
    ));
    let other = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    assert!(matches!(verify_webhook::<WebhookEvent>(other, headers, body), Err(Error::WebhookInvalid(_))));
    assert!(matches!(
        verify_webhook::<WebhookEvent>(&secret, &HeaderMap::new(), body),
        Err(Error::WebhookInvalid(_))
    ));
}
