//! Webhooks, end to end, on both engines: changes emit events in their own transaction, the delivery
//! worker sends them over real HTTP to a receiver that verifies them with the real `svix` package
//! exactly as a Clerk app's handler does (`common::receiver`), and the test clock drives the retry
//! schedule. The worker is driven with `worker::tick` (one round, to completion); the last tests run
//! the real binary with its background worker, and SIGKILL it.

mod common;

use std::collections::HashSet;
use std::time::Duration;

use axum::http::{Method, StatusCode};
use common::receiver::Receiver;
use common::{Db, TestApp, db_test};
use hallpass_protocol::paths;
use hallpass_server::webhooks::{js_json, schedule, worker};
use serde_json::{Value, json};

/// Creates an endpoint for `url` with `extra` fields; returns its id and secret.
async fn endpoint(app: &TestApp, url: &str, extra: Value) -> (String, String) {
    let mut body = json!({"url": url});
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        b.extend(e.clone());
    }
    let res = app.backend(Method::POST, paths::WEBHOOK_ENDPOINTS, Some(body)).await;
    assert_eq!(res.status, StatusCode::OK, "{}", String::from_utf8_lossy(&res.body));
    let v = res.json();
    (v["id"].as_str().unwrap().to_owned(), v["secret"].as_str().unwrap().to_owned())
}

/// One delivery round, to the end; the attempts made.
async fn deliver(app: &TestApp) -> u32 {
    worker::tick(&app.state).await.unwrap()
}

/// Moves the test clock, and the receiver's with it (svix compares timestamps with its own clock).
async fn advance(app: &TestApp, receiver: &Receiver, ms: i64) {
    app.clock.advance_ms(ms);
    receiver.set_now(app.clock_now()).await;
}

fn path(template: &str, id: &str) -> String {
    template.replace("{id}", id)
}

/// The endpoint's deliveries (newest event first).
async fn deliveries(app: &TestApp, id: &str) -> Vec<Value> {
    let res = app
        .backend(Method::GET, &format!("{}?limit=500", path(paths::WEBHOOK_ENDPOINT_DELIVERIES, id)), None)
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", String::from_utf8_lossy(&res.body));
    res.json()["data"].as_array().unwrap().clone()
}

/// The endpoint's attempts (newest first).
async fn attempts(app: &TestApp, id: &str) -> Vec<Value> {
    let res = app
        .backend(Method::GET, &format!("{}?limit=500", path(paths::WEBHOOK_ENDPOINT_ATTEMPTS, id)), None)
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", String::from_utf8_lossy(&res.body));
    res.json()["data"].as_array().unwrap().clone()
}

async fn get_endpoint(app: &TestApp, id: &str) -> Value {
    let res = app.backend(Method::GET, &path(paths::WEBHOOK_ENDPOINT, id), None).await;
    assert_eq!(res.status, StatusCode::OK, "{}", String::from_utf8_lossy(&res.body));
    res.json()
}

/// The body of a received delivery, parsed.
fn event(record: &Value) -> Value {
    serde_json::from_str(record["body"].as_str().unwrap()).unwrap()
}

fn types(records: &[Value]) -> Vec<String> {
    records.iter().map(|r| event(r)["type"].as_str().unwrap().to_owned()).collect()
}

fn ids(records: &[Value]) -> Vec<String> {
    records.iter().map(|r| r["headers"]["svix-id"].as_str().unwrap().to_owned()).collect()
}

async fn sign_out(app: &TestApp, refresh_token: &str) -> common::Resp {
    app.post(paths::SIGN_OUT, json!({"refresh_token": refresh_token})).await
}

db_test!(every_user_and_session_event_reaches_a_clerk_style_handler_with_the_right_data);
async fn every_user_and_session_event_reaches_a_clerk_style_handler_with_the_right_data(db: Db) {
    let receiver = Receiver::start();
    let app = TestApp::new(&db).await;
    let (ep, secret) = endpoint(&app, &receiver.url("app"), json!({})).await;
    receiver.accept("app", &secret).await;

    let ada = app.sign_up_as("ada@example.com").await;
    let auth = format!("Bearer {}", ada.jwt.expose());
    let me = app
        .call(Method::PATCH, paths::ME, &[("authorization", &auth)], Some(json!({"first_name": "Ada"})))
        .await;
    assert_eq!(me.status, StatusCode::OK);
    // Metadata JSON.stringify writes differently from serde_json: big integers, exponents, -0,
    // index-like keys, escapes, U+2028 and non-ASCII.
    let tricky = json!({
        "big": 12345678901234567890u64, "huge": 1e21, "tiny": 1e-7, "neg0": -0.0, "float": 0.1,
        "10": "ten", "2": "two", "b": 1, "a": 2,
        "text": "q\" \\ / \u{2028}\u{2029} é 😀 \u{1} \u{7f} </script>",
    });
    let metadata = app
        .backend(
            Method::PATCH,
            &path(paths::USER_METADATA, &ada.user.id),
            Some(json!({"public_metadata": {"plan": "pro"}, "private_metadata": tricky})),
        )
        .await;
    assert_eq!(metadata.status, StatusCode::OK);
    let second = app.sign_in_as("ada@example.com").await;
    let ended = sign_out(&app, second.refresh_token.expose()).await;
    assert_eq!(ended.status, StatusCode::OK);
    let third = app.sign_in_as("ada@example.com").await;
    let revoked =
        app.backend(Method::POST, &path(paths::BACKEND_SESSION_REVOKE, &third.session.id), None).await;
    assert_eq!(revoked.status, StatusCode::OK);
    // A rotated refresh token presented again after the grace window: reuse, the session is revoked.
    let fourth = app.sign_in_as("ada@example.com").await;
    assert_eq!(app.refresh(fourth.refresh_token.expose()).await.status, StatusCode::OK);
    advance(&app, &receiver, 11_000).await;
    app.refresh(fourth.refresh_token.expose()).await.assert_error(401, "refresh_token_reused");
    // Ada's first session is still live when she is deleted: `session.removed`, then `user.deleted`.
    let deleted = app.backend(Method::DELETE, &path(paths::USER, &ada.user.id), None).await;
    assert_eq!(deleted.status, StatusCode::OK);

    assert_eq!(deliver(&app).await, 12);
    let got = receiver.received("app").await;
    assert_eq!(
        types(&got),
        [
            "user.created",
            "session.created",
            "user.updated",
            "user.updated",
            "session.created",
            "session.ended",
            "session.created",
            "session.revoked",
            "session.created",
            "session.revoked",
            "session.removed",
            "user.deleted",
        ]
    );
    let mut seen = HashSet::new();
    let now_secs = app.clock_now() / 1000;
    for r in &got {
        // Verified as Clerk's handler verifies, on the re-serialised body too, and by the Standard
        // Webhooks package on the webhook-* headers alone; the body is what JSON.stringify writes.
        assert_eq!(r["verified"], true, "{r}");
        assert_eq!(r["verified_reserialized"], true, "{r}");
        assert_eq!(r["verified_standard"], true, "{r}");
        assert_eq!(r["stringify_stable"], true, "{r}");
        assert_eq!(r["answered"], 200);
        assert_eq!(r["content_type"], "application/json");
        let h = &r["headers"];
        let id = h["svix-id"].as_str().unwrap();
        assert!(id.starts_with("evt_"), "{id}");
        assert!(seen.insert(id.to_owned()), "one delivery per event: {id}");
        assert_eq!(h["webhook-id"], h["svix-id"]);
        assert_eq!(h["webhook-timestamp"], h["svix-timestamp"]);
        assert_eq!(h["webhook-signature"], h["svix-signature"]);
        let ts: i64 = h["svix-timestamp"].as_str().unwrap().parse().unwrap();
        assert!((now_secs - ts).abs() <= 60, "integer seconds of the delivery: {ts} vs {now_secs}");
        assert!(h["svix-signature"].as_str().unwrap().starts_with("v1,"));
        let e = event(r);
        assert_eq!(e["object"], "event");
        assert!(e["instance_id"].as_str().unwrap().starts_with("ins_"));
        assert_eq!(e["instance_id"], event(&got[0])["instance_id"]);
        assert!(e["timestamp"].as_i64().unwrap() > 1_600_000_000_000, "milliseconds");
        assert_eq!(e.as_object().unwrap().len(), 5, "{e}");
    }

    // `data` is the resource as the Backend API shows it.
    let data: Vec<Value> = got.iter().map(|r| event(r)["data"].clone()).collect();
    assert_eq!(data[0]["id"], ada.user.id.as_str());
    assert_eq!(data[0]["object"], "user");
    assert_eq!(data[0]["email_addresses"][0]["email_address"], "ada@example.com");
    assert_eq!(data[0]["private_metadata"], json!({}));
    assert_eq!(data[1], serde_json::to_value(&ada.session).unwrap());
    assert_eq!(data[2]["first_name"], "Ada");
    // The user as the Backend API answered, as JavaScript reads both (the body spells numbers as
    // JavaScript does: 12345678901234567890 is 12345678901234567000 to any JavaScript reader).
    assert_eq!(
        js_json::to_string(&data[3]),
        js_json::to_string(&metadata.json()),
        "user.updated carries the user"
    );
    assert_eq!(data[3]["public_metadata"], json!({"plan": "pro"}));
    assert_eq!(data[4], serde_json::to_value(&second.session).unwrap());
    assert_eq!(data[5], ended.json());
    assert_eq!(data[5]["status"], "ended");
    // The session as the Backend API answered it, without the device it was started on (events
    // carry the session alone).
    let mut revoked = revoked.json();
    assert!(revoked.as_object_mut().unwrap().remove("latest_activity").is_some());
    assert_eq!(data[7], revoked);
    assert_eq!(data[7]["status"], "revoked");
    assert_eq!(
        (data[9]["id"].as_str(), data[9]["status"].as_str()),
        (Some(fourth.session.id.as_str()), Some("revoked"))
    );
    assert_eq!(
        (data[10]["id"].as_str(), data[10]["status"].as_str()),
        (Some(ada.session.id.as_str()), Some("removed"))
    );
    assert_eq!(data[11], deleted.json());
    assert_eq!(data[11], json!({"object": "user", "id": ada.user.id, "deleted": true}));
    // JavaScript's view of the tricky metadata, which the body spells exactly.
    let body = got[3]["body"].as_str().unwrap();
    assert!(body.contains(r#""big":12345678901234567000"#), "{body}");
    for spelled in [r#""huge":1e+21,"#, r#""tiny":1e-7"#, r#""neg0":0,"#, r#""float":0.1,"#] {
        assert!(body.contains(spelled), "{spelled} in {body}");
    }
    assert!(body.contains(r#"{"2":"two","10":"ten","#), "index keys first: {body}");
    assert!(body.contains("\u{2028}") && body.contains(" / ") && body.contains("\\u0001"), "{body}");

    // The Backend API's view of the same.
    let listed = deliveries(&app, &ep).await;
    assert_eq!(listed.len(), 12);
    for d in &listed {
        assert_eq!((d["status"].as_str(), d["attempts"].as_i64()), (Some("succeeded"), Some(1)), "{d}");
        assert_eq!(d["next_attempt_at"], Value::Null);
    }
    let listed_ids: Vec<&str> = listed.iter().rev().map(|d| d["event_id"].as_str().unwrap()).collect();
    assert_eq!(listed_ids, ids(&got));
    let tried = attempts(&app, &ep).await;
    assert_eq!(tried.len(), 12);
    for a in &tried {
        assert_eq!((a["status_code"].as_i64(), a["succeeded"].as_bool()), (Some(200), Some(true)), "{a}");
        assert_eq!(a["response_excerpt"], "ok");
        assert_eq!(a["error"], Value::Null);
        assert!(a["id"].as_str().unwrap().starts_with("atmpt_"));
    }
    assert_eq!(deliver(&app).await, 0, "nothing left");
}

db_test!(organization_membership_and_invitation_events_reach_the_handler);
async fn organization_membership_and_invitation_events_reach_the_handler(db: Db) {
    use hallpass_protocol::paths::fill;
    let receiver = Receiver::start();
    let app = TestApp::new(&db).await;
    let ada = app.sign_up_as("ada@example.com").await;
    let bob = app.sign_up_as("bob@example.com").await;
    let cleo = app.sign_up_as("cleo@example.com").await;
    let org_types: Vec<&str> = hallpass_protocol::EventType::ALL
        .iter()
        .map(|t| t.as_str())
        .filter(|t| t.starts_with("organization"))
        .collect();
    assert_eq!(org_types.len(), 9);
    let (_, secret) = endpoint(&app, &receiver.url("orgs"), json!({"event_types": org_types})).await;
    receiver.accept("orgs", &secret).await;
    let ok = |res: common::Resp| {
        assert!(res.status.is_success(), "{}", String::from_utf8_lossy(&res.body));
        res.json()
    };

    let org = ok(app
        .backend(Method::POST, paths::ORGANIZATIONS, Some(json!({"name": "Acme", "created_by": ada.user.id})))
        .await);
    let org_id = org["id"].as_str().unwrap();
    let renamed = ok(app
        .backend(Method::PATCH, &fill(paths::ORGANIZATION, &[org_id]), Some(json!({"name": "Acme Inc"})))
        .await);
    let members = fill(paths::ORGANIZATION_MEMBERSHIPS, &[org_id]);
    let bob_joined = ok(app
        .backend(Method::POST, &members, Some(json!({"user_id": bob.user.id, "role": "org:member"})))
        .await);
    let bob_path = fill(paths::ORGANIZATION_MEMBERSHIP, &[org_id, &bob.user.id]);
    let bob_promoted = ok(app.backend(Method::PATCH, &bob_path, Some(json!({"role": "org:admin"}))).await);
    let invitations = fill(paths::ORGANIZATION_INVITATIONS, &[org_id]);
    let to_cleo =
        ok(app.backend(Method::POST, &invitations, Some(json!({"email_address": "cleo@example.com"}))).await);
    let accept = fill(paths::MY_ORGANIZATION_INVITATION_ACCEPT, &[to_cleo["id"].as_str().unwrap()]);
    let auth = format!("Bearer {}", cleo.jwt.expose());
    let cleo_joined = ok(app.call(Method::POST, &accept, &[("authorization", &auth)], None).await);
    let to_dave =
        ok(app.backend(Method::POST, &invitations, Some(json!({"email_address": "dave@example.com"}))).await);
    let revoke = fill(paths::ORGANIZATION_INVITATION_REVOKE, &[org_id, to_dave["id"].as_str().unwrap()]);
    let revoked = ok(app.backend(Method::POST, &revoke, None).await);
    let bob_removed = ok(app.backend(Method::DELETE, &bob_path, None).await);
    ok(app.backend(Method::DELETE, &path(paths::USER, &cleo.user.id), None).await);
    let deleted = ok(app.backend(Method::DELETE, &fill(paths::ORGANIZATION, &[org_id]), None).await);

    deliver(&app).await;
    let got = receiver.received("orgs").await;
    assert_eq!(
        types(&got),
        [
            "organization.created",
            "organizationMembership.created",
            "organization.updated",
            "organizationMembership.created",
            "organizationMembership.updated",
            "organizationInvitation.created",
            "organizationInvitation.accepted",
            "organizationMembership.created",
            "organizationInvitation.created",
            "organizationInvitation.revoked",
            "organizationMembership.deleted",
            "organizationMembership.deleted",
            "organization.deleted",
        ]
    );
    assert!(got.iter().all(|r| r["verified"] == true && r["verified_reserialized"] == true), "{got:?}");
    let data: Vec<Value> = got.iter().map(|r| event(r)["data"].clone()).collect();
    assert_eq!(data[0], org, "the organization as the Backend API answered");
    assert_eq!(
        (data[1]["public_user_data"]["user_id"].as_str(), data[1]["role"].as_str()),
        (Some(ada.user.id.as_str()), Some("org:admin"))
    );
    assert_eq!(data[2], renamed);
    assert_eq!(data[3], bob_joined);
    assert_eq!(data[4], bob_promoted);
    assert_eq!(data[4]["role"], "org:admin");
    assert_eq!(data[5], to_cleo);
    assert_eq!(
        (data[6]["id"].clone(), data[6]["status"].clone()),
        (to_cleo["id"].clone(), json!("accepted"))
    );
    assert_eq!(data[7]["id"], cleo_joined["id"]);
    assert_eq!(data[7]["public_user_data"]["user_id"], cleo.user.id);
    assert_eq!(data[8], to_dave);
    assert_eq!(data[9]["status"], "revoked");
    assert_eq!(data[9]["id"], revoked["id"]);
    assert_eq!(data[10]["id"], bob_removed["id"], "the membership as it was");
    assert_eq!(data[10]["public_user_data"]["user_id"], bob.user.id);
    assert_eq!(data[11]["public_user_data"]["user_id"], cleo.user.id, "cleo's membership went with her");
    assert_eq!(data[12], deleted);
    assert_eq!(data[12], json!({"object": "organization", "id": org_id, "deleted": true}));
}

db_test!(an_event_exists_exactly_when_its_change_committed);
async fn an_event_exists_exactly_when_its_change_committed(db: Db) {
    let app = TestApp::new(&db).await;
    let (ep, _) = endpoint(&app, "http://127.0.0.1:9/hooks", json!({})).await;
    let count = || db.scalar("SELECT COUNT(*) FROM webhook_events");

    let ada = app.sign_up_as("ada@example.com").await;
    assert_eq!(count().await, 2);
    // A sign-up that fails on the unique address rolls back: no user, no event.
    app.post(paths::SIGN_UPS, json!({"email_address": "ada@example.com", "password": common::PASSWORD}))
        .await
        .assert_error(422, "form_identifier_exists");
    assert_eq!(count().await, 2);
    // An edit refused by its own rule writes nothing.
    let too_big = json!({"public_metadata": {"x": "y".repeat(9000)}});
    let refused = app.backend(Method::PATCH, &path(paths::USER_METADATA, &ada.user.id), Some(too_big)).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(count().await, 2);
    // A status change that finds the session already moved emits nothing.
    assert_eq!(sign_out(&app, ada.refresh_token.expose()).await.status, StatusCode::OK);
    assert_eq!(sign_out(&app, ada.refresh_token.expose()).await.status, StatusCode::OK);
    assert_eq!(count().await, 3);

    // At the store: a transaction dropped without commit writes none of its events.
    let now = app.clock_now();
    let mut tx = app.state.store.write_tx().await.unwrap();
    tx.emit(hallpass_protocol::EventType::UserUpdated, &json!({"id": "user_x"}), now).unwrap();
    drop(tx);
    assert_eq!(count().await, 3);
    let mut tx = app.state.store.write_tx().await.unwrap();
    assert!(
        tx.emit(hallpass_protocol::EventType::UserUpdated, &json!([1]), now).is_err(),
        "data is an object"
    );
    tx.emit(hallpass_protocol::EventType::UserUpdated, &json!({"id": "user_x"}), now).unwrap();
    tx.commit().await.unwrap();
    assert_eq!(count().await, 4);
    // Each event queued one delivery for the endpoint.
    assert_eq!(deliveries(&app, &ep).await.len(), 4);
    assert_eq!(db.scalar("SELECT MAX(seq) FROM webhook_events").await, 4, "no number lost to the rollbacks");
}

db_test!(event_numbers_are_in_commit_order_and_never_seen_with_a_gap);
async fn event_numbers_are_in_commit_order_and_never_seen_with_a_gap(db: Db) {
    let app = TestApp::new(&db).await;
    let writers: Vec<_> = (0..8u64)
        .map(|w| {
            let store = app.state.store.clone();
            tokio::spawn(async move {
                for i in 0..12u64 {
                    let mut tx = store.write_tx().await.unwrap();
                    let data = json!({"id": format!("w{w}_{i}")});
                    tx.emit(hallpass_protocol::EventType::UserUpdated, &data, 1).unwrap();
                    // Transactions of different lengths overlap and commit out of their start order.
                    tokio::time::sleep(Duration::from_millis((w * 7 + i * 3) % 11)).await;
                    tx.commit().await.unwrap();
                }
            })
        })
        .collect();
    // A reader that looks while they commit never sees number n+1 without n: numbers are taken in
    // commit order, so a delivery in number order is a delivery in commit order.
    let mut looks = 0;
    while writers.iter().any(|w| !w.is_finished()) && looks < 2000 {
        assert_eq!(db.scalar("SELECT COALESCE(MAX(seq), 0) - COUNT(*) FROM webhook_events").await, 0);
        looks += 1;
    }
    for w in writers {
        w.await.unwrap();
    }
    assert_eq!(db.scalar("SELECT COUNT(*) FROM webhook_events").await, 96);
    assert_eq!(db.scalar("SELECT MAX(seq) FROM webhook_events").await, 96);
}

db_test!(a_transaction_emitting_many_events_writes_them_all_in_order);
async fn a_transaction_emitting_many_events_writes_them_all_in_order(db: Db) {
    let app = TestApp::new(&db).await;
    let (ep, _) =
        endpoint(&app, "http://127.0.0.1:9/hooks", json!({"event_types": ["session.removed"]})).await;
    endpoint(&app, "http://127.0.0.1:9/other", json!({"event_types": ["user.deleted"]})).await;
    // A user deleted with 1,201 live sessions, say: more rows than one statement takes.
    let mut tx = app.state.store.write_tx().await.unwrap();
    for i in 0..1201 {
        let data = json!({"id": format!("sess_{i}"), "status": "removed"});
        tx.emit(hallpass_protocol::EventType::SessionRemoved, &data, app.clock_now()).unwrap();
    }
    tx.emit(hallpass_protocol::EventType::UserDeleted, &json!({"id": "user_1"}), app.clock_now()).unwrap();
    tx.commit().await.unwrap();
    assert_eq!(db.scalar("SELECT COUNT(*) FROM webhook_events").await, 1202);
    assert_eq!(db.scalar("SELECT MAX(seq) FROM webhook_events").await, 1202);
    assert_eq!(db.scalar("SELECT COUNT(*) FROM webhook_deliveries").await, 1202, "each to its subscriber");
    let queued = deliveries(&app, &ep).await;
    assert_eq!(queued.len(), 500, "a page of them");
    assert_eq!(queued[0]["event_type"], "session.removed");
    let last = db.scalar("SELECT seq FROM webhook_events WHERE type = 'user.deleted'").await;
    assert_eq!(last, 1202, "in emission order");
}

db_test!(failed_deliveries_are_retried_on_svix_schedule_then_given_up_and_resent_by_hand);
async fn failed_deliveries_are_retried_on_svix_schedule_then_given_up_and_resent_by_hand(db: Db) {
    let receiver = Receiver::start();
    let app = TestApp::new(&db).await;
    let (ep, secret) = endpoint(&app, &receiver.url("down"), json!({"event_types": ["user.created"]})).await;
    receiver.configure("down", json!({"secrets": [secret], "status": 500})).await;
    app.sign_up_as("ada@example.com").await;

    assert_eq!(deliver(&app).await, 1, "the first attempt at once");
    let mut last_attempt = app.clock_now();
    for (i, delay_s) in schedule::RETRY_DELAYS_SECS.iter().enumerate() {
        let d = &deliveries(&app, &ep).await[0];
        assert_eq!(
            (d["status"].as_str(), d["attempts"].as_u64()),
            (Some("pending"), Some(i as u64 + 1)),
            "{d}"
        );
        let due = d["next_attempt_at"].as_i64().unwrap();
        let delay = due - last_attempt;
        let (low, high) = ((*delay_s as f64 * 900.0) as i64, (*delay_s as f64 * 1100.0) as i64);
        assert!((low..=high).contains(&delay), "retry {} after {delay} ms, not {delay_s} s ± 10 %", i + 1);
        advance(&app, &receiver, due - 1 - app.clock_now()).await;
        assert_eq!(deliver(&app).await, 0, "retry {} not before it is due", i + 1);
        advance(&app, &receiver, 1).await;
        assert_eq!(deliver(&app).await, 1, "retry {} when due", i + 1);
        last_attempt = app.clock_now();
    }
    let d = &deliveries(&app, &ep).await[0];
    assert_eq!((d["status"].as_str(), d["attempts"].as_u64()), (Some("failed"), Some(8)), "given up: {d}");
    assert_eq!(d["next_attempt_at"], Value::Null);
    advance(&app, &receiver, 24 * 3600 * 1000).await;
    assert_eq!(deliver(&app).await, 0);

    let got = receiver.received("down").await;
    assert_eq!(got.len(), 8);
    assert!(got.iter().all(|r| r["verified"] == true && r["answered"] == 500));
    assert_eq!(ids(&got).into_iter().collect::<HashSet<_>>().len(), 1, "one message id on every attempt");
    let stamps: HashSet<&str> =
        got.iter().map(|r| r["headers"]["svix-timestamp"].as_str().unwrap()).collect();
    assert_eq!(stamps.len(), 8, "each attempt signed at its own time");
    let tried = attempts(&app, &ep).await;
    assert_eq!(tried.len(), 8);
    assert!(
        tried
            .iter()
            .all(|a| a["status_code"] == 500 && a["succeeded"] == false && a["response_excerpt"] == "ok")
    );

    // A resend queues it again, due at once, with a fresh schedule.
    receiver.accept("down", &secret).await;
    let event_id = d["event_id"].as_str().unwrap();
    let resend = path(paths::WEBHOOK_DELIVERY_RESEND, &ep).replace("{event_id}", event_id);
    let queued = app.backend(Method::POST, &resend, None).await.json();
    assert_eq!(
        (queued["status"].as_str(), queued["attempts"].as_u64()),
        (Some("pending"), Some(0)),
        "{queued}"
    );
    assert_eq!(deliver(&app).await, 1);
    assert_eq!(deliveries(&app, &ep).await[0]["status"], "succeeded");
    assert_eq!(receiver.received("down").await.len(), 9);
    let missing = path(paths::WEBHOOK_DELIVERY_RESEND, &ep).replace("{event_id}", "evt_missing");
    app.backend(Method::POST, &missing, None).await.assert_error(404, "resource_not_found");
}

db_test!(a_receiver_down_for_a_while_gets_everything_in_order_once_back);
async fn a_receiver_down_for_a_while_gets_everything_in_order_once_back(db: Db) {
    let receiver = Receiver::start();
    let app = TestApp::new(&db).await;
    let (_, up_secret) = endpoint(&app, &receiver.url("up"), json!({})).await;
    let (down, down_secret) = endpoint(&app, &receiver.url("down"), json!({})).await;
    receiver.accept("up", &up_secret).await;
    receiver.configure("down", json!({"secrets": [down_secret], "mode": "reset"})).await;
    for i in 0..5 {
        app.sign_up_as(&format!("user{i}@example.com")).await;
    }

    deliver(&app).await;
    let up = receiver.received("up").await;
    assert_eq!(up.len(), 10, "a failing endpoint holds no other endpoint back");
    assert_eq!(receiver.received("down").await.len(), 1, "only the head of the line is attempted");
    let pending = deliveries(&app, &down).await;
    assert_eq!(pending.iter().filter(|d| d["attempts"] == 0).count(), 9);
    let tried = attempts(&app, &down).await;
    assert_eq!((tried.len(), tried[0]["status_code"].clone()), (1, Value::Null));
    assert!(!tried[0]["error"].as_str().unwrap().is_empty(), "{}", tried[0]);

    advance(&app, &receiver, 5_600).await;
    deliver(&app).await;
    assert_eq!(receiver.received("down").await.len(), 2, "the head again, after 5 s");

    receiver.accept("down", &down_secret).await;
    advance(&app, &receiver, 5 * 60 * 1000 + 31_000).await;
    assert_eq!(deliver(&app).await, 10, "once the head is through, the rest follow at once");
    let got = receiver.received("down").await;
    let delivered: Vec<Value> = got.into_iter().filter(|r| r["answered"] == 200).collect();
    assert_eq!(ids(&delivered), ids(&up), "everything, once each, in commit order");
    assert!(delivered.iter().all(|r| r["verified"] == true));
    assert!(deliveries(&app, &down).await.iter().all(|d| d["status"] == "succeeded"));
}

db_test!(gone_disables_the_endpoint_and_enabling_it_resumes_its_deliveries);
async fn gone_disables_the_endpoint_and_enabling_it_resumes_its_deliveries(db: Db) {
    let receiver = Receiver::start();
    let app = TestApp::new(&db).await;
    let (ep, secret) = endpoint(&app, &receiver.url("gone"), json!({})).await;
    receiver.configure("gone", json!({"secrets": [secret], "status": 410})).await;
    app.sign_up_as("ada@example.com").await;
    assert_eq!(deliver(&app).await, 1);
    let e = get_endpoint(&app, &ep).await;
    assert_eq!((e["enabled"].as_bool(), e["disabled_reason"].as_str()), (Some(false), Some("gone")), "{e}");
    // Disabled: nothing is attempted, and new events are not queued for it.
    advance(&app, &receiver, 3600 * 1000).await;
    assert_eq!(deliver(&app).await, 0);
    app.sign_up_as("bob@example.com").await;
    assert_eq!(deliveries(&app, &ep).await.len(), 2);

    receiver.accept("gone", &secret).await;
    let enabled =
        app.backend(Method::PATCH, &path(paths::WEBHOOK_ENDPOINT, &ep), Some(json!({"enabled": true}))).await;
    assert_eq!(
        (enabled.json()["enabled"].as_bool(), enabled.json()["disabled_reason"].clone()),
        (Some(true), Value::Null)
    );
    assert_eq!(deliver(&app).await, 2, "its pending deliveries resume");
    assert_eq!(types(&receiver.received("gone").await[1..]), ["user.created", "session.created"]);
}

db_test!(an_endpoint_failing_for_five_days_is_disabled);
async fn an_endpoint_failing_for_five_days_is_disabled(db: Db) {
    let receiver = Receiver::start();
    let app = TestApp::new(&db).await;
    let (ep, secret) =
        endpoint(&app, &receiver.url("broken"), json!({"event_types": ["user.created"]})).await;
    receiver.configure("broken", json!({"secrets": [secret], "status": 503})).await;
    for i in 0..8 {
        app.sign_up_as(&format!("user{i}@example.com")).await;
    }
    deliver(&app).await;
    let first_failure = app.clock_now();
    let mut hours = 0;
    while get_endpoint(&app, &ep).await["enabled"] == true {
        assert!(hours < 24 * 7, "still enabled after a week of failures");
        advance(&app, &receiver, 3600 * 1000).await;
        deliver(&app).await;
        hours += 1;
    }
    let e = get_endpoint(&app, &ep).await;
    assert_eq!(e["disabled_reason"], "failing");
    let failing_for = app.clock_now() - first_failure;
    let five_days = schedule::DISABLE_AFTER_FAILING_MS;
    assert!(
        (five_days..five_days + 12 * 3600 * 1000).contains(&failing_for),
        "disabled after {failing_for} ms"
    );
    // Given-up events were followed by the next ones all along: more than one event was tried.
    let tried_events: HashSet<String> =
        attempts(&app, &ep).await.iter().map(|a| a["event_id"].as_str().unwrap().to_owned()).collect();
    assert!(tried_events.len() >= 4, "{tried_events:?}");
}

db_test!(a_rotated_secret_keeps_signing_beside_the_new_one_for_a_day);
async fn a_rotated_secret_keeps_signing_beside_the_new_one_for_a_day(db: Db) {
    let receiver = Receiver::start();
    let app = TestApp::new(&db).await;
    let (ep, old) = endpoint(&app, &receiver.url("r"), json!({"event_types": ["session.created"]})).await;
    receiver.accept("r", &old).await;
    app.sign_up_as("ada@example.com").await;
    deliver(&app).await;

    let rotate = path(paths::WEBHOOK_ENDPOINT_ROTATE_SECRET, &ep);
    let rotated = app.backend(Method::POST, &rotate, None).await.json();
    let new = rotated["secret"].as_str().unwrap().to_owned();
    assert!(new.starts_with("whsec_") && new != old);
    let expires = rotated["previous_secret_expires_at"].as_i64().unwrap();
    assert_eq!(expires, app.clock_now() + 24 * 3600 * 1000);
    let shown = get_endpoint(&app, &ep).await;
    assert!(shown.get("secret").is_none(), "the secret is shown only by create and rotate: {shown}");
    assert_eq!(shown["previous_secret_expires_at"], expires);

    // Both signatures: a handler that has the new secret verifies, and so does one still on the old.
    receiver.configure("r", json!({"secrets": [new, old]})).await;
    app.sign_in_as("ada@example.com").await;
    deliver(&app).await;
    let got = receiver.received("r").await;
    let during = got.last().unwrap();
    assert_eq!(
        (during["verified"].clone(), during["verified_by"].clone()),
        (json!(true), json!([0, 1])),
        "{during}"
    );
    assert_eq!(during["headers"]["svix-signature"].as_str().unwrap().split(' ').count(), 2);
    assert_eq!(got[0]["verified_by"], json!([0]), "before the rotation: the old secret alone");
    assert_eq!(got[0]["headers"]["svix-signature"].as_str().unwrap().split(' ').count(), 1);

    // A day later the old one is gone.
    advance(&app, &receiver, 24 * 3600 * 1000 + 1000).await;
    app.sign_in_as("ada@example.com").await;
    deliver(&app).await;
    let after = receiver.received("r").await.last().unwrap().clone();
    assert_eq!(after["verified_by"], json!([0]), "{after}");
    assert_eq!(after["headers"]["svix-signature"].as_str().unwrap().split(' ').count(), 1);
    assert_eq!(get_endpoint(&app, &ep).await["previous_secret_expires_at"], Value::Null);

    // Rotating twice: the secret rotated out first stops at once.
    let second = app.backend(Method::POST, &rotate, None).await.json()["secret"].as_str().unwrap().to_owned();
    let third = app.backend(Method::POST, &rotate, None).await.json()["secret"].as_str().unwrap().to_owned();
    receiver.configure("r", json!({"secrets": [third, second, new]})).await;
    app.sign_in_as("ada@example.com").await;
    deliver(&app).await;
    assert_eq!(receiver.received("r").await.last().unwrap()["verified_by"], json!([0, 1]));
}

db_test!(svix_refuses_a_tampered_body_a_wrong_secret_and_a_stale_timestamp);
async fn svix_refuses_a_tampered_body_a_wrong_secret_and_a_stale_timestamp(db: Db) {
    let receiver = Receiver::start();
    let app = TestApp::new(&db).await;
    let (ep, secret) = endpoint(&app, &receiver.url("t"), json!({"event_types": ["user.created"]})).await;
    receiver.accept("t", &secret).await;
    app.sign_up_as("ada@example.com").await;
    deliver(&app).await;
    let r = receiver.received("t").await[0].clone();
    let body = r["body"].as_str().unwrap();
    let headers = json!({
        "svix-id": r["headers"]["svix-id"], "svix-timestamp": r["headers"]["svix-timestamp"],
        "svix-signature": r["headers"]["svix-signature"],
    });
    assert_eq!(receiver.verify(&secret, body, &headers).await, Ok(()));

    let tampered = body.replace("ada@example.com", "eve@example.com");
    assert_ne!(tampered, body);
    let err = receiver.verify(&secret, &tampered, &headers).await.unwrap_err();
    assert!(err.contains("No matching signature"), "{err}");
    let wrong = hallpass_server::webhooks::signature::new_secret().unwrap().expose().to_owned();
    let err = receiver.verify(&wrong, body, &headers).await.unwrap_err();
    assert!(err.contains("No matching signature"), "{err}");
    let mut moved = headers.clone();
    let ts: i64 = headers["svix-timestamp"].as_str().unwrap().parse().unwrap();
    moved["svix-timestamp"] = json!((ts - 1).to_string());
    assert!(receiver.verify(&secret, body, &moved).await.unwrap_err().contains("No matching signature"));
    // The same delivery replayed six minutes later: too old.
    receiver.set_now(app.clock_now() + 6 * 60 * 1000).await;
    let err = receiver.verify(&secret, body, &headers).await.unwrap_err();
    assert!(err.contains("too old"), "{err}");
    receiver.set_now(app.clock_now()).await;

    // A handler holding another secret refuses the deliveries (400), which then count as failed.
    receiver.accept("t", &wrong).await;
    app.sign_up_as("bob@example.com").await;
    deliver(&app).await;
    let refused = receiver.received("t").await.last().unwrap().clone();
    assert_eq!((refused["verified"].clone(), refused["answered"].clone()), (json!(false), json!(400)));
    let d = &deliveries(&app, &ep).await[0];
    assert_eq!((d["status"].as_str(), d["attempts"].as_u64()), (Some("pending"), Some(1)));
    let a = &attempts(&app, &ep).await[0];
    assert_eq!(a["status_code"], 400);
    assert!(a["response_excerpt"].as_str().unwrap().starts_with("Verification error"), "{a}");
}

/// A deterministic generator of JSON values full of what JavaScript writes differently.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn pick<'a, T>(&mut self, from: &'a [T]) -> &'a T {
        &from[(self.next() % from.len() as u64) as usize]
    }

    fn number(&mut self) -> Value {
        match self.next() % 8 {
            0 => json!(self.next() as i64),
            1 => json!(self.next()),
            2 => json!((self.next() % 20_000) as i64 - 10_000),
            3 => {
                let x = f64::from_bits(self.next());
                if x.is_finite() { json!(x) } else { json!(0.5) }
            }
            4 => json!(*self.pick(&[
                1e21,
                1e20,
                1e-6,
                1e-7,
                1.5e-7,
                -0.0,
                5e-324,
                f64::MAX,
                0.1 + 0.2,
                123e-20
            ])),
            5 => json!((self.next() % 1_000_000) as f64 / 1000.0),
            6 => json!(9_007_199_254_740_993u64 + self.next() % 1000),
            _ => json!((self.next() >> 11) as f64 * 10f64.powi((self.next() % 60) as i32 - 30)),
        }
    }

    fn string(&mut self) -> String {
        const PIECES: &[&str] = &[
            "a",
            "Z",
            "0",
            " ",
            "\"",
            "\\",
            "/",
            "\u{0}",
            "\u{8}",
            "\u{9}",
            "\n",
            "\u{b}",
            "\u{c}",
            "\r",
            "\u{1f}",
            "\u{7f}",
            "\u{80}",
            "\u{2028}",
            "\u{2029}",
            "é",
            "ß",
            "中",
            "😀",
            "\u{fffd}",
            "\u{feff}",
            "</script>",
            "&amp;",
            "'",
        ];
        let len = self.next() % 12;
        (0..len).map(|_| *self.pick(PIECES)).collect()
    }

    fn value(&mut self, depth: u32) -> Value {
        match self.next() % if depth >= 3 { 5 } else { 7 } {
            0 => Value::Null,
            1 => json!(self.next().is_multiple_of(2)),
            2 | 3 => self.number(),
            4 => json!(self.string()),
            5 => Value::Array((0..self.next() % 5).map(|_| self.value(depth + 1)).collect()),
            _ => {
                const KEYS: &[&str] =
                    &["0", "1", "2", "10", "01", "-1", "1.5", "4294967294", "4294967295", "b", "a"];
                let mut map = serde_json::Map::new();
                for _ in 0..self.next() % 6 {
                    let key = if self.next().is_multiple_of(2) {
                        self.pick(KEYS).to_string()
                    } else {
                        self.string()
                    };
                    map.insert(key, self.value(depth + 1));
                }
                Value::Object(map)
            }
        }
    }
}

/// The body writer against Node's own `JSON.stringify(JSON.parse(…))`, on 400 generated values.
#[test]
fn bodies_are_byte_identical_to_what_json_stringify_writes() {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let receiver = Receiver::start();
        let mut g = Gen(0x9e37_79b9_7f4a_7c15);
        let values: Vec<Value> = (0..400).map(|_| json!({"data": g.value(0), "object": "event"})).collect();
        let all = Value::Array(values.clone());
        let node = receiver.stringify(&serde_json::to_string(&all).unwrap()).await;
        if js_json::to_string(&all) != node {
            for v in &values {
                let text = serde_json::to_string(v).unwrap();
                assert_eq!(js_json::to_string(v), receiver.stringify(&text).await, "for {text}");
            }
            panic!("the arrays differ though no element does");
        }
        // The generator does reach the cases that matter.
        for needle in ["\u{2028}", "e+", "e-", "\"10\":", "\\u0000", "\\b", "😀"] {
            assert!(node.contains(needle), "no {needle} generated");
        }
    });
}

db_test!(urls_of_private_networks_are_refused_when_set_and_when_delivering);
async fn urls_of_private_networks_are_refused_when_set_and_when_delivering(db: Db) {
    let receiver = Receiver::start();
    let strict = TestApp::with(&db, |c| c.webhooks_allow_private_networks = false).await;
    for url in [
        "http://127.0.0.1:9/x",
        "http://[::1]/x",
        "http://[::ffff:127.0.0.1]/x",
        "http://10.1.2.3/x",
        "http://169.254.169.254/latest/meta-data",
        "http://[fd00::1]/x",
        "http://0x7f.1/x",
        "http://localhost:9/x",
    ] {
        let res = strict.backend(Method::POST, paths::WEBHOOK_ENDPOINTS, Some(json!({"url": url}))).await;
        res.assert_error(422, "form_param_value_invalid");
        assert_eq!(res.json()["errors"][0]["meta"]["param_name"], "url");
        assert!(
            res.json()["errors"][0]["long_message"]
                .as_str()
                .unwrap()
                .contains("HALLPASS_WEBHOOKS_ALLOW_PRIVATE_NETWORKS")
        );
    }
    for url in ["ftp://example.com/", "https://user:pw@example.com/", "not a url", "https://example.com/#x"] {
        let res = strict.backend(Method::POST, paths::WEBHOOK_ENDPOINTS, Some(json!({"url": url}))).await;
        res.assert_error(422, "form_param_format_invalid");
    }
    let long = format!("https://example.com/{}", "a".repeat(3000));
    strict
        .backend(Method::POST, paths::WEBHOOK_ENDPOINTS, Some(json!({"url": long})))
        .await
        .assert_error(422, "form_param_too_long");

    // A replica allowed private networks sets one up by name; the strict one refuses to deliver to
    // it, on the address the name resolves to at delivery time.
    let port = receiver.base.rsplit(':').next().unwrap().to_owned();
    let lenient = TestApp::open(db.config(), strict.clock.clone()).await;
    let (ep, secret) = endpoint(&lenient, &format!("http://localhost:{port}/hooks/named"), json!({})).await;
    receiver.accept("named", &secret).await;
    strict.sign_up_as("ada@example.com").await;
    assert_eq!(deliver(&strict).await, 1);
    assert!(receiver.received("named").await.is_empty(), "nothing reached the private address");
    let a = &attempts(&strict, &ep).await[0];
    assert_eq!(a["status_code"], Value::Null);
    assert!(a["error"].as_str().unwrap().contains("non-public"), "{a}");
    advance(&strict, &receiver, 6_000).await;
    assert_eq!(deliver(&lenient).await, 2);
    assert_eq!(receiver.received("named").await.len(), 2);
}

/// The client's own limits: redirects not followed, a bounded excerpt, a 15 s deadline. They do not
/// depend on the engine.
#[test]
fn redirects_are_not_followed_answers_are_cut_and_a_hanging_receiver_times_out() {
    common::db::run(common::db::Engine::Sqlite, |db: Db| async move {
        let receiver = Receiver::start();
        let app = TestApp::new(&db).await;
        let types = json!({"event_types": ["user.created"]});
        let (moved, s1) = endpoint(&app, &receiver.url("moved"), types.clone()).await;
        let (big, s2) = endpoint(&app, &receiver.url("big"), types.clone()).await;
        let (slow, s3) = endpoint(&app, &receiver.url("slow"), types.clone()).await;
        let location = receiver.url("target");
        receiver
            .configure("moved", json!({"secrets": [s1], "status": 307, "headers": {"location": location}}))
            .await;
        receiver.configure("big", json!({"secrets": [s2], "body_bytes": 4 * 1024 * 1024})).await;
        receiver.configure("slow", json!({"secrets": [s3], "mode": "hang"})).await;
        receiver.accept("target", &s1).await;
        app.sign_up_as("ada@example.com").await;

        let started = std::time::Instant::now();
        assert_eq!(deliver(&app).await, 3);
        let took = started.elapsed();

        let a = &attempts(&app, &moved).await[0];
        assert_eq!((a["status_code"].as_i64(), a["succeeded"].as_bool()), (Some(307), Some(false)), "{a}");
        assert!(receiver.received("target").await.is_empty(), "the redirect was not followed");
        let a = &attempts(&app, &big).await[0];
        assert_eq!(a["status_code"], 200);
        assert_eq!(a["response_excerpt"].as_str().unwrap().len(), 1024, "at most 1 KiB is kept");
        let a = &attempts(&app, &slow).await[0];
        assert_eq!(a["status_code"], Value::Null);
        assert!(a["error"].as_str().unwrap().contains("timeout"), "{a}");
        let ms = a["duration_ms"].as_i64().unwrap();
        assert!((14_500..30_000).contains(&ms), "the attempt lasted {ms} ms");
        assert!(took < Duration::from_secs(60), "{took:?}");
        assert_eq!(deliveries(&app, &slow).await[0]["status"], "pending");
    });
}

db_test!(a_dead_workers_lease_expires_and_its_endpoint_is_delivered_again);
async fn a_dead_workers_lease_expires_and_its_endpoint_is_delivered_again(db: Db) {
    use hallpass_server::store::webhook_deliveries::LEASE_MS;
    let receiver = Receiver::start();
    let app = TestApp::new(&db).await;
    let (ep, secret) = endpoint(&app, &receiver.url("l"), json!({})).await;
    receiver.accept("l", &secret).await;
    app.sign_up_as("ada@example.com").await;
    // A worker claims the endpoint and dies before delivering.
    let claimed = app.state.store.claim_webhook_endpoints("wrk_dead", app.clock_now(), 10).await.unwrap();
    assert_eq!(claimed, [ep]);
    assert_eq!(deliver(&app).await, 0, "leased to another worker");
    advance(&app, &receiver, LEASE_MS - 1).await;
    assert_eq!(deliver(&app).await, 0, "the lease still holds");
    advance(&app, &receiver, 1).await;
    assert_eq!(deliver(&app).await, 2, "the lease expired: taken over");
    assert_eq!(receiver.received("l").await.len(), 2);
}

db_test!(replicas_delivering_at_once_send_each_event_once_and_in_order);
async fn replicas_delivering_at_once_send_each_event_once_and_in_order(db: Db) {
    let receiver = Receiver::start();
    let first = TestApp::new(&db).await;
    let others = [
        TestApp::open(db.config(), first.clock.clone()).await,
        TestApp::open(db.config(), first.clock.clone()).await,
    ];
    let mut names = Vec::new();
    for i in 0..4 {
        let name = format!("ep{i}");
        let (_, secret) = endpoint(&first, &receiver.url(&name), json!({})).await;
        receiver.accept(&name, &secret).await;
        names.push(name);
    }
    for i in 0..15 {
        first.sign_up_as(&format!("user{i}@example.com")).await;
    }
    for _ in 0..10 {
        let (a, b, c) = tokio::join!(deliver(&first), deliver(&others[0]), deliver(&others[1]));
        if a + b + c == 0 {
            break;
        }
    }
    let reference = ids(&receiver.received(&names[0]).await);
    assert_eq!(reference.len(), 30);
    assert_eq!(reference.iter().collect::<HashSet<_>>().len(), 30, "each event once");
    for name in &names[1..] {
        assert_eq!(ids(&receiver.received(name).await), reference, "{name}: once each, in the same order");
    }
    let events = db.scalar("SELECT COUNT(*) FROM webhook_attempts").await;
    assert_eq!(events, 120, "one attempt per delivery, none doubled");
}

db_test!(endpoints_are_managed_through_the_backend_api);
async fn endpoints_are_managed_through_the_backend_api(db: Db) {
    let receiver = Receiver::start();
    let app = TestApp::new(&db).await;
    let create = |body: Value| app.backend(Method::POST, paths::WEBHOOK_ENDPOINTS, Some(body));
    create(json!({})).await.assert_error(422, "form_param_missing");
    create(json!({"url": receiver.url("a"), "event_types": ["user.exploded"]}))
        .await
        .assert_error(422, "form_param_value_invalid");
    create(json!({"url": receiver.url("a"), "event_types": []}))
        .await
        .assert_error(422, "form_param_value_invalid");
    create(json!({"url": receiver.url("a"), "secret": "whsec_mine"}))
        .await
        .assert_error(422, "form_param_unknown");
    create(json!({"url": receiver.url("a"), "description": "d".repeat(1025)}))
        .await
        .assert_error(422, "form_param_too_long");
    let unauthenticated = app.post(paths::WEBHOOK_ENDPOINTS, json!({"url": receiver.url("a")})).await;
    unauthenticated.assert_error(401, "secret_key_required");

    let created = create(json!({
        "url": receiver.url("a"), "event_types": ["user.created", "user.created"], "description": "CRM sync",
    }))
    .await;
    assert_eq!(created.status, StatusCode::OK);
    let a = created.json();
    let id = a["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("ep_"));
    assert_eq!(a["object"], "webhook_endpoint");
    assert_eq!(a["event_types"], json!(["user.created"]));
    assert_eq!((a["enabled"].clone(), a["disabled_reason"].clone()), (json!(true), Value::Null));
    assert_eq!(a["description"], "CRM sync");
    let secret = a["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_") && secret.len() == 38, "{secret}");

    let listed = app.backend(Method::GET, paths::WEBHOOK_ENDPOINTS, None).await.json();
    assert_eq!(listed["total_count"], 1);
    assert!(listed["data"][0].get("secret").is_none());
    assert!(!listed.to_string().contains(&secret), "the secret is never listed");

    let endpoint_path = path(paths::WEBHOOK_ENDPOINT, &id);
    let patch = |body: Value| app.backend(Method::PATCH, &endpoint_path, Some(body));
    let off = patch(json!({"enabled": false})).await.json();
    assert_eq!((off["enabled"].clone(), off["disabled_reason"].clone()), (json!(false), json!("manual")));
    let on = patch(json!({"enabled": true, "event_types": null, "description": ""})).await.json();
    assert_eq!(
        (on["enabled"].clone(), on["disabled_reason"].clone(), on["event_types"].clone()),
        (json!(true), Value::Null, Value::Null)
    );
    patch(json!({"url": "gopher://x"})).await.assert_error(422, "form_param_format_invalid");
    patch(json!({"secret": "x"})).await.assert_error(422, "form_param_unknown");
    let bogus = format!("{}?status=bogus", path(paths::WEBHOOK_ENDPOINT_DELIVERIES, &id));
    app.backend(Method::GET, &bogus, None).await.assert_error(422, "form_param_value_invalid");

    // What an endpoint receives: its subscribed types only.
    let (b, b_secret) = endpoint(&app, &receiver.url("b"), json!({"event_types": ["session.created"]})).await;
    receiver.accept("a", &secret).await;
    receiver.accept("b", &b_secret).await;
    app.sign_up_as("ada@example.com").await;
    deliver(&app).await;
    assert_eq!(types(&receiver.received("a").await), ["user.created", "session.created"]);
    assert_eq!(types(&receiver.received("b").await), ["session.created"]);

    let gone = app.backend(Method::DELETE, &path(paths::WEBHOOK_ENDPOINT, &b), None).await.json();
    assert_eq!(gone, json!({"object": "webhook_endpoint", "id": b, "deleted": true}));
    app.backend(Method::GET, &path(paths::WEBHOOK_ENDPOINT, &b), None)
        .await
        .assert_error(404, "resource_not_found");
    app.backend(Method::GET, &path(paths::WEBHOOK_ENDPOINT_DELIVERIES, &b), None)
        .await
        .assert_error(404, "resource_not_found");
    app.backend(Method::DELETE, &path(paths::WEBHOOK_ENDPOINT, &b), None)
        .await
        .assert_error(404, "resource_not_found");
    assert_eq!(db.scalar("SELECT COUNT(*) FROM webhook_deliveries").await, 2, "its deliveries went with it");
}

async fn recover(app: &TestApp, id: &str, body: Value) -> common::Resp {
    app.backend(Method::POST, &path(paths::WEBHOOK_ENDPOINT_RECOVER, id), Some(body)).await
}

db_test!(recovering_queues_every_event_since_a_time_again);
async fn recovering_queues_every_event_since_a_time_again(db: Db) {
    let receiver = Receiver::start();
    let app = TestApp::new(&db).await;
    let start = app.clock_now();
    let (a, secret) = endpoint(&app, &receiver.url("a"), json!({})).await;
    receiver.accept("a", &secret).await;
    app.sign_up_as("ada@example.com").await;
    advance(&app, &receiver, 1000).await;
    let middle = app.clock_now();
    app.sign_up_as("bob@example.com").await;
    deliver(&app).await;
    assert_eq!(receiver.received("a").await.len(), 4);

    recover(&app, &a, json!({"since": middle, "until": middle}))
        .await
        .assert_error(422, "form_param_value_invalid");
    recover(&app, "ep_missing", json!({"since": start})).await.assert_error(404, "resource_not_found");
    let r = recover(&app, &a, json!({"since": middle})).await.json();
    assert_eq!(r, json!({"object": "webhook_recovery", "queued": 2}));
    assert_eq!(deliver(&app).await, 2);
    let got = receiver.received("a").await;
    assert_eq!(ids(&got[4..]), ids(&got[2..4]), "bob's events again, in order");

    // An endpoint created after the events gets them by recovering.
    let (late, late_secret) =
        endpoint(&app, &receiver.url("late"), json!({"event_types": ["user.created"]})).await;
    receiver.accept("late", &late_secret).await;
    let r = recover(&app, &late, json!({"since": start, "until": app.clock_now() + 1})).await.json();
    assert_eq!(r["queued"], 2, "its types only");
    deliver(&app).await;
    let late_got = receiver.received("late").await;
    assert_eq!(types(&late_got), ["user.created", "user.created"]);
    assert_eq!(ids(&late_got), [ids(&got)[0].clone(), ids(&got)[2].clone()]);
}

db_test!(old_events_are_purged_unless_still_pending_for_an_enabled_endpoint);
async fn old_events_are_purged_unless_still_pending_for_an_enabled_endpoint(db: Db) {
    use hallpass_server::housekeeping::{self, Settings};
    let receiver = Receiver::start();
    let app = TestApp::with(&db, |c| c.webhook_retention_secs = 3600).await;
    let (_, secret) = endpoint(&app, &receiver.url("ok"), json!({})).await;
    receiver.accept("ok", &secret).await;
    let (stuck, stuck_secret) =
        endpoint(&app, &receiver.url("stuck"), json!({"event_types": ["user.created"]})).await;
    receiver.configure("stuck", json!({"secrets": [stuck_secret], "mode": "reset"})).await;
    app.sign_up_as("ada@example.com").await;
    deliver(&app).await;
    let sweep = || async {
        let (_handle, mut stop) = housekeeping::stop_signal();
        housekeeping::sweep(&app.state, &Settings::from_config(&app.config), &mut stop).await.unwrap()
    };

    assert_eq!(sweep().await.webhook_events, 0, "younger than the retention");
    app.clock.advance_secs(3601);
    assert_eq!(sweep().await.webhook_events, 1, "session.created is delivered everywhere: purged");
    assert_eq!(db.scalar("SELECT COUNT(*) FROM webhook_events").await, 1, "user.created is still pending");
    app.backend(Method::PATCH, &path(paths::WEBHOOK_ENDPOINT, &stuck), Some(json!({"enabled": false}))).await;
    assert_eq!(sweep().await.webhook_events, 1, "pending for a disabled endpoint only: purged");
    assert_eq!(db.scalar("SELECT COUNT(*) FROM webhook_deliveries").await, 0);
    assert_eq!(db.scalar("SELECT COUNT(*) FROM webhook_attempts").await, 0);
}

// The binary with its background worker, on the real clock: an event committed by a server that is
// SIGKILLed before delivering it is delivered, once, by the restarted server; the restarted server
// then delivers new events as they commit.
db_test!(an_event_committed_before_a_sigkill_is_delivered_once_after_restart);
async fn an_event_committed_before_a_sigkill_is_delivered_once_after_restart(db: Db) {
    let receiver = Receiver::start();
    let dir = tempfile::tempdir().unwrap();
    // The first server delivers nothing (no worker), so the kill is surely before the delivery.
    let server = binary::Server::start(&db, dir.path(), &[("HALLPASS_WEBHOOK_CONCURRENCY", "0")]);
    let (ep, secret) = server.create_endpoint(&receiver.url("k")).await;
    receiver.accept("k", &secret).await;
    let ada = server.sign_up("ada@example.com").await;
    let pending = server.deliveries(&ep).await;
    assert_eq!(pending.len(), 2);
    assert!(pending.iter().all(|d| d["status"] == "pending" && d["attempts"] == 0), "{pending:?}");
    server.sigkill();

    let server = binary::Server::start(&db, dir.path(), &[]);
    let got = receiver.wait_for("k", 2, Duration::from_secs(30)).await;
    assert_eq!(types(&got), ["user.created", "session.created"]);
    assert_eq!(event(&got[0])["data"]["id"], ada["user"]["id"]);
    assert!(got.iter().all(|r| r["verified"] == true && r["answered"] == 200));
    // Delivered once: nothing more arrives (two poll intervals later).
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(receiver.received("k").await.len(), 2);
    // New events go out as they commit.
    server.sign_up("bob@example.com").await;
    let got = receiver.wait_for("k", 4, Duration::from_secs(20)).await;
    assert_eq!(types(&got[2..]), ["user.created", "session.created"]);
    server.sigterm();
}

/// The `hallpass-server` binary, for the tests above.
mod binary {
    use std::path::Path;
    use std::process::{Child, Command, Stdio};
    use std::time::{Duration, Instant};

    use hallpass_protocol::paths;
    use serde_json::{Value, json};

    use super::common::Db;
    use super::common::db::Engine;

    pub struct Server {
        child: Child,
        base: String,
        secret_key: String,
        http: reqwest::Client,
    }

    impl Server {
        /// Starts the binary in `dir` (its SQLite database there) on `db`, with `env`.
        pub fn start(db: &Db, dir: &Path, env: &[(&str, &str)]) -> Server {
            let ready = dir.join("ready.json");
            let _ = std::fs::remove_file(&ready);
            let mut command = Command::new(env!("CARGO_BIN_EXE_hallpass-server"));
            match db.engine {
                Engine::Sqlite => command.env_remove("HALLPASS_DATABASE_URL"),
                Engine::Postgres => command.env("HALLPASS_DATABASE_URL", &db.url),
            };
            command
                .current_dir(dir)
                .args(["--addr", "127.0.0.1:0", "--ready-file"])
                .arg(&ready)
                .env("HALLPASS_ARGON2_MEMORY_KIB", "256")
                .env("HALLPASS_ARGON2_ITERATIONS", "1")
                .env("HALLPASS_WEBHOOKS_ALLOW_PRIVATE_NETWORKS", "true")
                .env("HALLPASS_WEBHOOK_POLL_INTERVAL_MS", "1000")
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            for (k, v) in env {
                command.env(k, v);
            }
            let mut child = command.spawn().unwrap();
            let deadline = Instant::now() + Duration::from_secs(60);
            while !ready.exists() {
                assert!(Instant::now() < deadline, "no ready file within 60 s");
                assert!(child.try_wait().unwrap().is_none(), "server exited early");
                std::thread::sleep(Duration::from_millis(50));
            }
            let info: Value = serde_json::from_slice(&std::fs::read(&ready).unwrap()).unwrap();
            let http = reqwest::Client::builder().timeout(Duration::from_secs(20)).build().unwrap();
            Server {
                child,
                base: info["frontend_api"].as_str().unwrap().to_owned(),
                secret_key: info["secret_key"].as_str().unwrap().to_owned(),
                http,
            }
        }

        async fn call(
            &self,
            method: reqwest::Method,
            path: &str,
            body: Option<Value>,
            backend: bool,
        ) -> Value {
            let mut req = self.http.request(method, format!("{}{path}", self.base));
            if backend {
                req = req.bearer_auth(&self.secret_key);
            }
            if let Some(b) = body {
                req = req.header("content-type", "application/json").body(b.to_string());
            }
            let res = req.send().await.unwrap();
            let status = res.status();
            let text = res.text().await.unwrap();
            assert!(status.is_success(), "{path}: {status} {text}");
            serde_json::from_str(&text).unwrap()
        }

        pub async fn create_endpoint(&self, url: &str) -> (String, String) {
            let v = self
                .call(reqwest::Method::POST, paths::WEBHOOK_ENDPOINTS, Some(json!({"url": url})), true)
                .await;
            (v["id"].as_str().unwrap().to_owned(), v["secret"].as_str().unwrap().to_owned())
        }

        pub async fn sign_up(&self, email: &str) -> Value {
            let body = json!({"email_address": email, "password": super::common::PASSWORD});
            self.call(reqwest::Method::POST, paths::SIGN_UPS, Some(body), false).await
        }

        pub async fn deliveries(&self, id: &str) -> Vec<Value> {
            let path = paths::WEBHOOK_ENDPOINT_DELIVERIES.replace("{id}", id);
            self.call(reqwest::Method::GET, &path, None, true).await["data"].as_array().unwrap().clone()
        }

        /// SIGKILL: no shutdown, nothing flushed beyond what committed.
        pub fn sigkill(mut self) {
            self.child.kill().unwrap();
            self.child.wait().unwrap();
        }

        pub fn sigterm(mut self) {
            let pid = self.child.id().to_string();
            assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
            let deadline = Instant::now() + Duration::from_secs(30);
            loop {
                if let Some(exit) = self.child.try_wait().unwrap() {
                    assert!(exit.success(), "{exit:?}");
                    return;
                }
                assert!(Instant::now() < deadline, "no exit within 30 s of SIGTERM");
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }

    impl Drop for Server {
        fn drop(&mut self) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
