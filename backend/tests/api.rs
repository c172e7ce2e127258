//! The Backend API client against a real `hallpass-server`: the signed-in user, metadata deep merge,
//! the list, deletion, the instance's settings, and failures — the server's codes, a wrong key, no
//! server, no answer.

mod common;

use std::time::Duration;

use common::TestServer;
use hallpass_backend::{Error, HallpassClient, Verifier};
use hallpass_protocol::{
    Environment, SessionStatus, Strategy, UpdateInstanceRequest, UpdateMetadataRequest, UpdateUserRequest,
};
use http::{HeaderMap, HeaderValue};
use serde_json::json;

fn metadata(value: serde_json::Value) -> Option<hallpass_protocol::Metadata> {
    serde_json::from_value(value).ok()
}

#[tokio::test]
async fn current_user_metadata_list_and_delete() {
    let server = TestServer::start(60);
    let user = server.sign_up("http://localhost:3000").await;
    let client = HallpassClient::new(&server.url, server.secret_key.clone()).unwrap();
    let mut headers = HeaderMap::new();
    headers.insert(
        "authorization",
        HeaderValue::from_str(&format!("Bearer {}", user["jwt"].as_str().unwrap())).unwrap(),
    );
    let auth = Verifier::frontend_api(&server.url).unwrap().build().authenticate(&headers).await;

    let me = client.current_user(&auth).await.unwrap().expect("signed in");
    assert_eq!(me.id, user["user"]["id"].as_str().unwrap());
    assert_eq!(me.first_name.as_deref(), Some("Ferris"));
    let signed_out =
        Verifier::frontend_api(&server.url).unwrap().build().authenticate(&HeaderMap::new()).await;
    assert!(client.current_user(&signed_out).await.unwrap().is_none());

    let first = UpdateMetadataRequest {
        public_metadata: metadata(json!({ "role": "admin", "plan": { "tier": 1 } })),
        private_metadata: metadata(json!({ "stripe": "cus_1" })),
        ..Default::default()
    };
    client.update_user_metadata(&me.id, &first).await.unwrap();
    let second = UpdateMetadataRequest {
        public_metadata: metadata(json!({ "plan": { "seats": 3 }, "role": null })),
        ..Default::default()
    };
    let merged = client.update_user_metadata(&me.id, &second).await.unwrap();
    assert_eq!(
        serde_json::to_value(&merged.public_metadata).unwrap(),
        json!({ "plan": { "tier": 1, "seats": 3 } })
    );
    assert_eq!(serde_json::to_value(&merged.private_metadata).unwrap(), json!({ "stripe": "cus_1" }));

    // update_user: names set or cleared, metadata replaced whole (the merge's `plan` is gone).
    let renamed = UpdateUserRequest {
        first_name: Some(Some("Ferris".into())),
        last_name: Some(Some("the Crab".into())),
        public_metadata: metadata(json!({ "role": "member" })),
        ..Default::default()
    };
    let updated = client.update_user(&me.id, &renamed).await.unwrap();
    assert_eq!(
        (updated.first_name.as_deref(), updated.last_name.as_deref()),
        (Some("Ferris"), Some("the Crab"))
    );
    assert_eq!(serde_json::to_value(&updated.public_metadata).unwrap(), json!({ "role": "member" }));
    assert_eq!(serde_json::to_value(&updated.private_metadata).unwrap(), json!({ "stripe": "cus_1" }));
    let cleared = UpdateUserRequest { last_name: Some(None), ..Default::default() };
    let updated = client.update_user(&me.id, &cleared).await.unwrap();
    assert_eq!((updated.first_name.as_deref(), updated.last_name), (Some("Ferris"), None));
    let too_long = UpdateUserRequest { first_name: Some(Some("x".repeat(300))), ..Default::default() };
    let refused = client.update_user(&me.id, &too_long).await.unwrap_err();
    assert_eq!(refused.api_code(), Some("form_param_too_long"), "{refused:?}");

    // get_session: the session of the request, as it stands on the server.
    let session = client.get_session(auth.session_id().expect("signed in")).await.unwrap();
    assert_eq!((session.user_id.as_str(), session.status), (me.id.as_str(), SessionStatus::Active));
    let missing = client.get_session("sess_nope").await.unwrap_err();
    assert!(matches!(missing, Error::Api { status: 404, .. }), "{missing:?}");

    server.sign_up("http://localhost:3000").await;
    let page = client.list_users(1, 0).await.unwrap();
    assert_eq!((page.data.len(), page.total_count), (1, 2));
    assert_ne!(page.data[0].id, client.list_users(1, 1).await.unwrap().data[0].id);

    assert!(client.delete_user(&me.id).await.unwrap().deleted);
    let gone = client.get_user(&me.id).await.unwrap_err();
    assert!(matches!(gone, Error::Api { status: 404, .. }), "{gone:?}");
    assert_eq!(gone.api_code(), Some("resource_not_found"));
    assert!(matches!(client.get_user("../users").await, Err(Error::Config(_))));
}

/// `GET /v1/environment`: what the SDK and the drop-in UI read of the settings.
async fn environment(server: &TestServer) -> Environment {
    let response = reqwest::Client::new()
        .get(format!("{}/v1/environment", server.url))
        .timeout(Duration::from_secs(30))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "environment: {}", response.status());
    response.json().await.unwrap()
}

#[tokio::test]
async fn the_instance_settings_read_changed_handed_back_and_refused() {
    let server = TestServer::start(60);
    let client = HallpassClient::new(&server.url, server.secret_key.clone()).unwrap();
    let start = client.get_instance().await.unwrap();
    assert_eq!((start.object.as_str(), start.environment_type.as_str()), ("instance", "development"));
    assert!(start.id.starts_with("ins_"), "{start:?}");
    assert_eq!(start.instance_name, "Hallpass", "the server's flag");
    assert!(start.overridden.is_empty() && start.updated_at == 0, "{start:?}");
    assert!(!start.sign_up_requires_verified_email);

    // A change is in force from its answer on: the environment clients read, and a sign-up.
    let change = UpdateInstanceRequest {
        instance_name: Some(Some("Acme".into())),
        first_factors: Some(Some(vec![Strategy::EmailCode, Strategy::Password])),
        sign_up_requires_verified_email: Some(Some(true)),
        delete_self_enabled: None,
    };
    let changed = client.update_instance(&change).await.unwrap();
    assert_eq!(changed.instance_name, "Acme");
    assert_eq!(changed.first_factors, [Strategy::EmailCode, Strategy::Password]);
    assert!(changed.sign_up_requires_verified_email && changed.updated_at > 0);
    assert_eq!(changed.overridden, ["instance_name", "first_factors", "sign_up_requires_verified_email"]);
    assert_eq!(client.get_instance().await.unwrap(), changed);
    let env = environment(&server).await;
    assert_eq!(
        (env.instance_name.as_str(), env.sign_in.first_factors.as_slice()),
        ("Acme", changed.first_factors.as_slice())
    );
    assert!(env.sign_up.requires_verified_email);
    let response = reqwest::Client::new()
        .post(format!("{}/v1/client/sign_ups", server.url))
        .header("origin", "http://localhost:3000")
        .json(&json!({ "email_address": "verify-first@example.com", "password": "correct horse battery staple" }))
        .timeout(Duration::from_secs(30))
        .send()
        .await
        .unwrap();
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["sign_up"]["status"], "missing_requirements", "{body}");
    assert!(body.get("jwt").is_none(), "no session before the address is verified: {body}");

    // `Some(None)`: back to the flag; absent fields stay as they are.
    let back = UpdateInstanceRequest { instance_name: Some(None), ..Default::default() };
    let handed_back = client.update_instance(&back).await.unwrap();
    assert_eq!(handed_back.instance_name, "Hallpass");
    assert_eq!(handed_back.first_factors, changed.first_factors);
    assert_eq!(handed_back.overridden, ["first_factors", "sign_up_requires_verified_email"]);

    // A change that leaves no way to sign in, or a reset without passwords, is refused whole.
    for first_factors in [vec![], vec![Strategy::EmailCode, Strategy::ResetPasswordEmailCode]] {
        let unusable = UpdateInstanceRequest {
            instance_name: Some(Some("Never".into())),
            first_factors: Some(Some(first_factors)),
            ..Default::default()
        };
        let refused = client.update_instance(&unusable).await.unwrap_err();
        assert!(matches!(refused, Error::Api { status: 422, .. }), "{refused:?}");
        assert_eq!(refused.api_code(), Some("form_param_value_invalid"), "{refused:?}");
    }
    let name = UpdateInstanceRequest { instance_name: Some(Some("x".repeat(101))), ..Default::default() };
    assert_eq!(client.update_instance(&name).await.unwrap_err().api_code(), Some("form_param_value_invalid"));
    assert_eq!(client.get_instance().await.unwrap(), handed_back, "nothing of a refused change applied");

    let wrong = HallpassClient::new(&server.url, "sk_test_wrong").unwrap();
    assert!(matches!(wrong.get_instance().await, Err(Error::Api { status: 401, .. })));
    assert!(matches!(wrong.update_instance(&back).await, Err(Error::Api { status: 401, .. })));
}

#[tokio::test]
async fn a_wrong_key_no_server_and_no_answer() {
    let server = TestServer::start(60);
    let wrong = HallpassClient::new(&server.url, "sk_test_wrong").unwrap();
    assert!(matches!(wrong.list_users(10, 0).await, Err(Error::Api { status: 401, .. })));
    assert!(HallpassClient::new(&server.url, "pk_test_not_secret").is_err());
    let nowhere = HallpassClient::new("http://127.0.0.1:9", server.secret_key.clone()).unwrap();
    assert!(matches!(nowhere.list_users(10, 0).await, Err(Error::Network(_))));
    // A server that accepts the connection and never answers.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent = format!("http://{}", listener.local_addr().unwrap());
    let _held = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let slow =
        HallpassClient::new(&silent, server.secret_key.clone()).unwrap().timeout(Duration::from_millis(300));
    assert!(matches!(slow.list_users(10, 0).await, Err(Error::Timeout(300))));
}
