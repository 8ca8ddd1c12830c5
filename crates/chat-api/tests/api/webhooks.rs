//! Webhooks against a real receiver (`tests/support/webhook_receiver.py`)
//! that verifies every delivery with the `standardwebhooks` package.

use std::time::Duration;

use chat_api::configuration::Settings;
use chat_domain::Role;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestAgent, TestApp, ok, spawn_app_with, without_request_id};
use crate::receiver::Receiver;

const WAIT: Duration = Duration::from_secs(20);

fn quick_retries(s: &mut Settings) {
    s.webhooks.allow_private = true;
    s.webhooks.first_retry_ms = 100;
    s.webhooks.poll_interval_ms = 50;
}

async fn setup(configure: impl FnOnce(&mut Settings)) -> (TestApp, TestAgent) {
    let app = spawn_app_with(configure).await;
    app.create_tenant("acme", &[]).await;
    let admin = app
        .create_agent_with_role("acme", "admin@acme.test", "Ada", Role::Admin)
        .await;
    (app, admin)
}

async fn create(app: &TestApp, admin: &TestAgent, body: Value) -> (String, String) {
    let res = app
        .agent_post(&admin.token, "/api/v1/webhooks", Some(&body))
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let body: Value = ok(res.json().await);
    (
        body["webhook"]["id"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        body["secret"].as_str().unwrap_or_default().to_owned(),
    )
}

/// The delivery log once every entry is `delivered`: the sender records an
/// attempt after the receiver answered, so the receiver's log can be ahead
/// of the stored one by a moment (there is no event to await).
async fn delivered_log(app: &TestApp, admin: &TestAgent, id: &str, n: usize) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let log = deliveries(app, admin, id).await;
        if (log.len() == n && log.iter().all(|d| d["status"] == "delivered"))
            || tokio::time::Instant::now() >= deadline
        {
            return log;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

async fn deliveries(app: &TestApp, admin: &TestAgent, id: &str) -> Vec<Value> {
    let res = app
        .agent_get(&admin.token, &format!("/api/v1/webhooks/{id}/deliveries"))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = ok(res.json().await);
    body["deliveries"].as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn endpoints_are_managed_by_admins_and_never_show_their_secret_again() {
    let (app, admin) = setup(|_| {}).await;
    let (id, secret) = create(
        &app,
        &admin,
        json!({ "url": "https://hooks.example.com/parley", "events": ["chat.message.new"] }),
    )
    .await;
    assert!(secret.starts_with("whsec_"), "{secret}");
    let listed = ok(app
        .agent_get(&admin.token, "/api/v1/webhooks")
        .await
        .text()
        .await);
    assert!(!listed.contains(&secret));
    let listed: Value = ok(serde_json::from_str(&listed));
    assert_eq!(
        listed["webhooks"][0]["url"],
        "https://hooks.example.com/parley"
    );
    assert_eq!(listed["webhooks"][0]["active"], true);

    let res = app
        .agent_request(
            Method::PATCH,
            &admin.token,
            &format!("/api/v1/webhooks/{id}"),
            Some(
                &json!({ "events": ["chat.session.closed", "chat.bot.handoff"], "active": false }),
            ),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = ok(res.json().await);
    assert_eq!(
        body["webhook"]["events"],
        json!(["chat.session.closed", "chat.bot.handoff"])
    );
    assert_eq!(body["webhook"]["active"], false);
    let one: Value = ok(app
        .agent_get(&admin.token, &format!("/api/v1/webhooks/{id}"))
        .await
        .json()
        .await);
    assert_eq!(one["webhook"]["active"], false);

    let res = app
        .agent_request(
            Method::DELETE,
            &admin.token,
            &format!("/api/v1/webhooks/{id}"),
            None,
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = app
        .agent_get(&admin.token, &format!("/api/v1/webhooks/{id}"))
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn bad_endpoints_are_refused() {
    let (app, admin) = setup(|_| {}).await;
    let agent = app.create_agent("acme", "bob@acme.test", "Bob").await;
    let good = json!({ "url": "https://hooks.example.com/", "events": ["chat.message.new"] });
    let res = app
        .agent_post(&agent.token, "/api/v1/webhooks", Some(&good))
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    for (body, field) in [
        (
            json!({ "url": "ftp://x.example.com/", "events": ["chat.message.new"] }),
            "url",
        ),
        (
            json!({ "url": "https://u:p@x.example.com/", "events": ["chat.message.new"] }),
            "url",
        ),
        (
            json!({ "url": "https://x.example.com/", "events": ["chat.typing"] }),
            "events",
        ),
        (
            json!({ "url": "https://x.example.com/", "events": [] }),
            "events",
        ),
    ] {
        let res = app
            .agent_post(&admin.token, "/api/v1/webhooks", Some(&body))
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        let err = without_request_id(ok(res.json().await));
        assert_eq!(err["error"]["field"], field, "{err}");
    }
}

#[tokio::test]
async fn deliveries_are_signed_retried_logged_and_redelivered() {
    let receiver = Receiver::start().await;
    let (app, admin) = setup(quick_retries).await;
    let events = json!(["chat.session.started", "chat.message.new"]);
    let (id, secret) = create(
        &app,
        &admin,
        json!({ "url": format!("{}/hooks/parley", receiver.url), "events": events }),
    )
    .await;
    let (idle, _) = create(
        &app,
        &admin,
        json!({ "url": format!("{}/idle", receiver.url), "events": events, "active": false }),
    )
    .await;
    receiver.configure(&secret, 2).await;

    let (key, session_id) = app.start_session("acme", "Carla").await;
    let res = app.post_message(&key, "my parcel is late", None).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let message: Value = ok(res.json().await);
    // Not subscribed: no delivery for the close.
    let close = app
        .agent_post(
            &admin.token,
            &format!("/api/v1/chat/sessions/{session_id}/close"),
            None,
        )
        .await;
    assert_eq!(close.status(), StatusCode::OK);

    let log = receiver
        .wait_for(WAIT, |log| Receiver::accepted(log).len() >= 2)
        .await;
    let accepted = Receiver::accepted(&log);
    assert_eq!(accepted.len(), 2, "{log:#?}");
    let types: Vec<&str> = accepted
        .iter()
        .filter_map(|e| e["payload"]["type"].as_str())
        .collect();
    assert!(types.contains(&"chat.session.started") && types.contains(&"chat.message.new"));
    for e in &accepted {
        assert_eq!(e["attempt"], 3, "two 500s, then accepted: {e}");
        assert_eq!(e["path"], "/hooks/parley");
        let tries = log.iter().filter(|x| x["id"] == e["id"]).count();
        assert_eq!(tries, 3, "one webhook-id across the retries");
        let body = &e["payload"];
        assert!(body["id"].is_string() && body["created_at"].is_string());
        assert_eq!(body["tenant_id"].as_str().map(str::len), Some(36));
    }
    assert!(log.iter().all(|e| e["verified"] == true), "{log:#?}");
    let new = accepted
        .iter()
        .find(|e| e["payload"]["type"] == "chat.message.new")
        .map(|e| e["payload"]["data"].clone())
        .unwrap_or_default();
    assert_eq!(new["id"], message["message"]["id"]);
    assert_eq!(new["body"], "my parcel is late");
    assert_eq!(new["session_id"], session_id.as_str());

    let logged = delivered_log(&app, &admin, &id, 2).await;
    assert_eq!(logged.len(), 2, "{logged:#?}");
    for d in &logged {
        assert_eq!(d["status"], "delivered");
        assert_eq!(d["attempts"], 3);
        assert_eq!(d["last_status"], 200);
    }
    assert!(
        deliveries(&app, &admin, &idle).await.is_empty(),
        "an inactive endpoint gets nothing"
    );

    let delivery = logged[0]["id"].as_str().unwrap_or_default().to_owned();
    let res = app
        .agent_post(
            &admin.token,
            &format!("/api/v1/webhooks/{id}/deliveries/{delivery}/redeliver"),
            None,
        )
        .await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let log = receiver
        .wait_for(WAIT, |log| {
            log.iter().filter(|e| e["id"] == delivery.as_str()).count() == 4
        })
        .await;
    let again = log
        .iter()
        .rfind(|e| e["id"] == delivery.as_str())
        .cloned()
        .unwrap_or_default();
    assert_eq!(again["answered"], 200);
    assert_eq!(again["verified"], true);
    let res = app
        .agent_post(
            &admin.token,
            &format!(
                "/api/v1/webhooks/{id}/deliveries/00000000-0000-7000-8000-000000000000/redeliver"
            ),
            None,
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn private_addresses_are_refused_unless_allowed() {
    let receiver = Receiver::start().await;
    let (app, admin) = setup(|s| {
        s.webhooks.poll_interval_ms = 50;
        s.webhooks.first_retry_ms = 100;
    })
    .await;
    let local = format!("{}/hook", receiver.url);
    let named = local.replace("127.0.0.1", "localhost");
    let (literal, secret) = create(
        &app,
        &admin,
        json!({ "url": local, "events": ["chat.session.started"] }),
    )
    .await;
    let (by_name, _) = create(
        &app,
        &admin,
        json!({ "url": named, "events": ["chat.session.started"] }),
    )
    .await;
    receiver.configure(&secret, 0).await;
    app.start_session("acme", "Carla").await;

    for id in [&literal, &by_name] {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let logged = deliveries(&app, &admin, id).await;
            if logged
                .first()
                .is_some_and(|d| d["attempts"].as_u64() >= Some(1))
            {
                let d = &logged[0];
                assert_eq!(d["status"], "pending", "retried later: {d}");
                let error = d["last_error"].as_str().unwrap_or_default();
                assert!(
                    error.contains("private") || error.contains("public"),
                    "{error}"
                );
                assert!(d["last_status"].is_null());
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "no attempt logged: {logged:#?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    assert!(
        receiver.log().await.is_empty(),
        "nothing reached the private address"
    );
}

#[tokio::test]
async fn endpoints_and_deliveries_of_another_tenant_are_not_found() {
    let (app, admin) = setup(|_| {}).await;
    app.create_tenant("other", &[]).await;
    let stranger = app
        .create_agent_with_role("other", "eve@other.test", "Eve", Role::Admin)
        .await;
    let (id, _) = create(
        &app,
        &admin,
        json!({ "url": "https://hooks.example.com/", "events": ["chat.message.new"] }),
    )
    .await;
    for (method, path) in [
        (Method::GET, format!("/api/v1/webhooks/{id}")),
        (Method::DELETE, format!("/api/v1/webhooks/{id}")),
        (Method::GET, format!("/api/v1/webhooks/{id}/deliveries")),
    ] {
        let res = app
            .agent_request(method.clone(), &stranger.token, &path, None)
            .await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{method} {path}");
    }
    let list: Value = ok(app
        .agent_get(&stranger.token, "/api/v1/webhooks")
        .await
        .json()
        .await);
    assert_eq!(list["webhooks"], json!([]));
}

/// Two nodes on one database, both running the sender: every delivery is
/// attempted exactly once (the claim is a conditional update one wins).
#[tokio::test]
async fn with_two_nodes_each_delivery_is_sent_by_one() {
    let receiver = Receiver::start().await;
    let (first, admin) = setup(quick_retries).await;
    let second = crate::helpers::spawn_node_on(&first, quick_retries).await;
    let (id, secret) = create(
        &first,
        &admin,
        json!({ "url": format!("{}/hook", receiver.url), "events": ["chat.session.started", "chat.message.new"] }),
    )
    .await;
    receiver.configure(&secret, 0).await;
    const SESSIONS: usize = 15;
    for i in 0..SESSIONS {
        let node = if i % 2 == 0 { &first } else { &second };
        let (key, _) = node.start_session("acme", &format!("C{i}")).await;
        assert_eq!(
            node.post_message(&key, "hello", None).await.status(),
            StatusCode::CREATED
        );
    }
    let log = receiver
        .wait_for(WAIT, |log| Receiver::accepted(log).len() >= 2 * SESSIONS)
        .await;
    let mut ids: Vec<&str> = log.iter().filter_map(|e| e["id"].as_str()).collect();
    ids.sort_unstable();
    let total = ids.len();
    ids.dedup();
    assert_eq!(ids.len(), 2 * SESSIONS);
    assert_eq!(total, 2 * SESSIONS, "no delivery was sent twice");
    // Each delivery was attempted once: a second sender's attempt would
    // have been counted in the log of the delivery. A sender records its
    // attempt after the receiver answered, so wait for the records.
    let deadline = tokio::time::Instant::now() + WAIT;
    let logged = loop {
        let logged = deliveries(&first, &admin, &id).await;
        if logged.iter().all(|d| d["status"] != "pending") || tokio::time::Instant::now() > deadline
        {
            break logged;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    assert_eq!(logged.len(), 2 * SESSIONS);
    assert!(
        logged
            .iter()
            .all(|d| d["attempts"] == 1 && d["status"] == "delivered"),
        "{logged:#?}"
    );
}

/// Waits until the endpoint's first delivery has been attempted once.
async fn first_attempt(app: &TestApp, admin: &TestAgent, id: &str) -> Value {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let logged = deliveries(app, admin, id).await;
        if let Some(d) = logged.first().filter(|d| d["attempts"].as_u64() >= Some(1)) {
            return d.clone();
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no attempt logged: {logged:#?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn redirects_are_not_followed_and_slow_receivers_time_out() {
    let receiver = Receiver::start().await;
    let (app, admin) = setup(|s| {
        quick_retries(s);
        s.webhooks.first_retry_ms = 30_000;
        s.webhooks.timeout_secs = 1;
    })
    .await;
    let (id, secret) = create(
        &app,
        &admin,
        json!({ "url": format!("{}/hook", receiver.url), "events": ["chat.session.started"] }),
    )
    .await;
    receiver
        .control(json!({ "secret": secret, "fail_first": 0, "redirect": true }))
        .await;
    app.start_session("acme", "Carla").await;
    let d = first_attempt(&app, &admin, &id).await;
    assert_eq!(d["last_status"], 302);
    assert_eq!(
        d["status"], "pending",
        "a redirect is a failure, retried later"
    );
    let log = receiver.log().await;
    assert!(
        log.iter().all(|e| e["path"] == "/hook"),
        "the redirect was not followed: {log:#?}"
    );

    // A receiver slower than the timeout: the attempt fails as timed out.
    let res = app
        .agent_request(
            Method::DELETE,
            &admin.token,
            &format!("/api/v1/webhooks/{id}"),
            None,
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let (id, secret) = create(
        &app,
        &admin,
        json!({ "url": format!("{}/slow", receiver.url), "events": ["chat.session.started"] }),
    )
    .await;
    receiver
        .control(json!({ "secret": secret, "fail_first": 0, "redirect": false, "delay": 3 }))
        .await;
    app.start_session("acme", "Dana").await;
    let d = first_attempt(&app, &admin, &id).await;
    assert!(d["last_status"].is_null(), "{d}");
    assert_eq!(d["last_error"], "timed out");
    assert_eq!(d["status"], "pending");
}
