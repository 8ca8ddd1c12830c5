//! Delivered and read receipts: `chat.message.delivered`,
//! `chat.message.read`, their REST twins, `chat.receipt` to the other side
//! only, monotonic pointers and the agents' unread count.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestAgent, TestApp, WsClient, ok, spawn_app_with, without_request_limits};

async fn session_view(app: &TestApp, agent: &TestAgent, sid: &str) -> Value {
    let body: Value = ok(app
        .agent_get(&agent.token, &format!("/api/v1/chat/sessions/{sid}"))
        .await
        .json()
        .await);
    body["session"].clone()
}

async fn unread_in_list(app: &TestApp, agent: &TestAgent, sid: &str) -> i64 {
    let body: Value = ok(app
        .agent_get(&agent.token, "/api/v1/chat/sessions")
        .await
        .json()
        .await);
    body["sessions"]
        .as_array()
        .and_then(|all| all.iter().find(|s| s["id"] == sid))
        .and_then(|s| s["unread_count"].as_i64())
        .unwrap_or(-1)
}

/// Proves nothing else is queued on a socket: the next frame answers a
/// ping sent now.
async fn nothing_pending(ws: &mut WsClient) {
    ws.send("ping", json!({})).await;
    let f = ws.next_event().await;
    assert_eq!(f["type"], "pong", "unexpected frame {f}");
}

#[tokio::test]
async fn receipts_go_to_the_other_side_and_pointers_only_move_up() {
    let app = spawn_app_with(without_request_limits).await;
    app.create_tenant("acme", &[]).await;
    let agent = app.create_agent("acme", "a@acme.test", "Ann").await;
    let (key, sid) = app.start_session("acme", "Ada").await;
    let mut customer = app.customer_ws(&key).await;
    let mut agents = app.agent_ws(&agent).await;
    for body in ["one", "two"] {
        assert_eq!(
            app.post_message(&key, body, None).await.status(),
            StatusCode::CREATED
        );
    }
    agents.until("chat.message.new").await;
    agents.until("chat.message.new").await;

    // The agents' client received both: the customer hears of it.
    agents
        .send(
            "chat.message.delivered",
            json!({ "session_id": sid, "seq": 2 }),
        )
        .await;
    let r = customer.until("chat.receipt").await;
    assert_eq!(r["session_id"], sid.as_str());
    assert_eq!(r["side"], "agent");
    assert_eq!(
        (r["delivered_seq"].as_i64(), r["read_seq"].as_i64()),
        (Some(2), Some(0))
    );
    assert_eq!(r["agent_name"], "Ann");
    assert!(
        r.get("unread_count").is_none(),
        "internal count sent to the customer: {r}"
    );
    let echo = agents.until("chat.receipt").await;
    assert_eq!(echo["unread_count"], 2);

    // Read up to 1, then an older report: ignored, and nobody hears of it.
    agents
        .send("chat.message.read", json!({ "session_id": sid, "seq": 1 }))
        .await;
    let r = customer.until("chat.receipt").await;
    assert_eq!(
        (r["delivered_seq"].as_i64(), r["read_seq"].as_i64()),
        (Some(2), Some(1))
    );
    agents.until("chat.receipt").await;
    agents
        .send("chat.message.read", json!({ "session_id": sid, "seq": 0 }))
        .await;
    agents
        .send(
            "chat.message.delivered",
            json!({ "session_id": sid, "seq": 1 }),
        )
        .await;
    nothing_pending(&mut agents).await;
    let view = session_view(&app, &agent, &sid).await;
    assert_eq!(view["agent_delivered_seq"], 2);
    assert_eq!(view["agent_read_seq"], 1);
    assert_eq!(view["unread_count"], 1);
    nothing_pending(&mut customer).await;

    // The customer's receipts go to the agents, capped at the last message.
    customer
        .send("chat.message.read", json!({ "seq": 99 }))
        .await;
    let r = agents.until("chat.receipt").await;
    assert_eq!(r["side"], "customer");
    assert_eq!(
        (r["delivered_seq"].as_i64(), r["read_seq"].as_i64()),
        (Some(2), Some(2))
    );
    assert!(r.get("agent_name").is_none());
    nothing_pending(&mut customer).await;
    let view = session_view(&app, &agent, &sid).await;
    assert_eq!(
        (
            view["customer_delivered_seq"].as_i64(),
            view["customer_read_seq"].as_i64()
        ),
        (Some(2), Some(2))
    );

    // The customer's own view shows the team's pointers (for its ticks).
    let public: Value = ok(app
        .get(&format!("/api/v1/public/chat/sessions/{key}"))
        .await
        .json()
        .await);
    assert_eq!(public["session"]["agent_delivered_seq"], 2);
    assert_eq!(public["session"]["agent_read_seq"], 1);
    assert!(public["session"].get("unread_count").is_none());
}

#[tokio::test]
async fn bad_receipts_are_refused_with_an_error() {
    let app = spawn_app_with(without_request_limits).await;
    app.create_tenant("acme", &[]).await;
    let agent = app.create_agent("acme", "a@acme.test", "Ann").await;
    let (key, sid) = app.start_session("acme", "Ada").await;
    let mut customer = app.customer_ws(&key).await;
    customer
        .send("chat.message.read", json!({ "seq": -1 }))
        .await;
    let e = customer.expect("error").await;
    assert_eq!(e["code"], "validation_failed", "{e}");
    customer
        .send("chat.message.delivered", json!({ "seq": "x" }))
        .await;
    assert_eq!(customer.expect("error").await["code"], "invalid_payload");
    customer
        .send(
            "chat.message.read",
            json!({ "seq": 1, "session_id": "0193a0b2-7c1d-7000-8000-000000000001" }),
        )
        .await;
    assert_eq!(customer.expect("error").await["code"], "not_found");

    let mut agents = app.agent_ws(&agent).await;
    agents.send("chat.message.read", json!({ "seq": 1 })).await;
    assert_eq!(agents.expect("error").await["code"], "invalid_payload");

    for (path, body) in [
        (
            format!("/api/v1/chat/sessions/{sid}/read"),
            json!({ "seq": -5 }),
        ),
        (format!("/api/v1/chat/sessions/{sid}/read"), json!({})),
        (
            format!("/api/v1/chat/sessions/{sid}/read"),
            json!({ "seq": 1, "x": 1 }),
        ),
    ] {
        let res = app.agent_post(&agent.token, &path, Some(&body)).await;
        assert!(
            res.status().is_client_error(),
            "{path} {body}: {}",
            res.status()
        );
        let e: Value = ok(res.json().await);
        assert!(e["error"]["code"].is_string(), "{e}");
    }
    let res = app
        .post_json(
            &format!("/api/v1/public/chat/sessions/{}/read", "f".repeat(64)),
            &json!({ "seq": 1 }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn unread_counts_are_shared_by_the_team_and_survive_reloads() {
    let app = spawn_app_with(without_request_limits).await;
    app.create_tenant("acme", &[]).await;
    let ann = app.create_agent("acme", "a@acme.test", "Ann").await;
    let bob = app.create_agent("acme", "b@acme.test", "Bob").await;
    let (key, sid) = app.start_session("acme", "Ada").await;
    for body in ["one", "two", "three"] {
        app.post_message(&key, body, None).await;
    }
    app.agent_message(&ann, &sid, "hello").await;
    assert_eq!(unread_in_list(&app, &bob, &sid).await, 3);

    let mut bobs = app.agent_ws(&bob).await;
    let mut customer = app.customer_ws(&key).await;
    let res = app
        .agent_post(
            &ann.token,
            &format!("/api/v1/chat/sessions/{sid}/read"),
            Some(&json!({ "seq": 2 })),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = ok(res.json().await);
    assert_eq!(body["session"]["unread_count"], 1);
    assert_eq!(body["session"]["agent_read_seq"], 2);
    let r = bobs.until("chat.receipt").await;
    assert_eq!(
        (r["agent_name"].as_str(), r["unread_count"].as_i64()),
        (Some("Ann"), Some(1))
    );
    assert_eq!(customer.until("chat.receipt").await["read_seq"], 2);
    // Another agent, a reload: the same count.
    assert_eq!(unread_in_list(&app, &bob, &sid).await, 1);
    assert_eq!(unread_in_list(&app, &ann, &sid).await, 1);
    // New customer messages count; the agents' own do not.
    app.post_message(&key, "four", None).await;
    app.agent_message(&bob, &sid, "on it").await;
    assert_eq!(unread_in_list(&app, &ann, &sid).await, 2);
    app.agent_post(
        &bob.token,
        &format!("/api/v1/chat/sessions/{sid}/read"),
        Some(&json!({ "seq": 6 })),
    )
    .await;
    assert_eq!(unread_in_list(&app, &ann, &sid).await, 0);
    let r = bobs.until("chat.receipt").await;
    assert_eq!(
        (r["side"].as_str(), r["agent_name"].as_str()),
        (Some("agent"), Some("Bob"))
    );

    // The customer's REST twin.
    let res = app
        .post_json(
            &format!("/api/v1/public/chat/sessions/{key}/read"),
            &json!({ "seq": 6 }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = ok(res.json().await);
    assert_eq!(body["session"]["customer_read_seq"], 6);
    assert_eq!(body["session"]["customer_delivered_seq"], 6);
    let r = bobs.until("chat.receipt").await;
    assert_eq!(
        (r["side"].as_str(), r["read_seq"].as_i64()),
        (Some("customer"), Some(6))
    );
}

#[tokio::test]
async fn receipts_never_cross_tenants() {
    let app = spawn_app_with(without_request_limits).await;
    app.create_tenant("acme", &[]).await;
    app.create_tenant("globex", &[]).await;
    let ann = app.create_agent("acme", "a@acme.test", "Ann").await;
    let gus = app.create_agent("globex", "g@globex.test", "Gus").await;
    let (key, sid) = app.start_session("acme", "Ada").await;
    app.post_message(&key, "hi", None).await;
    let mut globex = app.agent_ws(&gus).await;
    let mut acme = app.agent_ws(&ann).await;
    let mut customer = app.customer_ws(&key).await;

    customer
        .send("chat.message.read", json!({ "seq": 1 }))
        .await;
    assert_eq!(acme.until("chat.receipt").await["side"], "customer");
    // Another tenant's agent can neither see nor move this session's
    // pointers.
    let res = app
        .agent_post(
            &gus.token,
            &format!("/api/v1/chat/sessions/{sid}/read"),
            Some(&json!({ "seq": 1 })),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    globex
        .send("chat.message.read", json!({ "session_id": sid, "seq": 1 }))
        .await;
    assert_eq!(globex.expect("error").await["code"], "not_found");
    nothing_pending(&mut globex).await;
    nothing_pending(&mut customer).await;
    let view = session_view(&app, &ann, &sid).await;
    assert_eq!(view["agent_read_seq"], 0);
    assert_eq!(view["unread_count"], 1);
}
