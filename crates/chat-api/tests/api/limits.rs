//! Request limits of the public edge: session starts and sends, per address
//! (as a trusted proxy reports it), per tenant, per session and per agent.

use serde_json::{Value, json};

use crate::helpers::{TestApp, ok, spawn_app_with};

async fn start_from(app: &TestApp, forwarded_for: Option<&str>) -> reqwest::Response {
    let mut req = app
        .client
        .post(format!("{}/api/v1/public/chat/sessions", app.address))
        .json(&json!({ "tenant_id": "acme" }));
    if let Some(addr) = forwarded_for {
        req = req.header("X-Forwarded-For", addr);
    }
    ok(req.send().await)
}

async fn assert_rate_limited(res: reqwest::Response) {
    assert_eq!(res.status().as_u16(), 429);
    let wait: u64 = res
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("a Retry-After in seconds");
    assert!(wait >= 1);
    let body: Value = ok(res.json().await);
    assert_eq!(body["error"]["code"], "rate_limited");
}

#[tokio::test]
async fn one_address_can_start_only_so_many_sessions() {
    // 4 a minute, 2 at once.
    let app = spawn_app_with(|s| s.limits.starts_per_address = 4).await;
    app.create_tenant("acme", &[]).await;
    for _ in 0..2 {
        assert_eq!(start_from(&app, None).await.status().as_u16(), 201);
    }
    assert_rate_limited(start_from(&app, None).await).await;
}

#[tokio::test]
async fn forwarded_addresses_are_ignored_unless_the_peer_is_a_trusted_proxy() {
    let app = spawn_app_with(|s| s.limits.starts_per_address = 2).await;
    app.create_tenant("acme", &[]).await;
    assert_eq!(
        start_from(&app, Some("198.51.100.1"))
            .await
            .status()
            .as_u16(),
        201
    );
    // A client cannot pick a fresh key by naming another address.
    assert_rate_limited(start_from(&app, Some("198.51.100.2")).await).await;
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_client_address_has_its_own_limit_and_the_tenant_one() {
    let app = spawn_app_with(|s| {
        s.server.trusted_proxies = "127.0.0.1".into();
        s.limits.starts_per_address = 2;
        s.limits.starts_per_tenant = 6;
    })
    .await;
    app.create_tenant("acme", &[]).await;
    assert_eq!(
        start_from(&app, Some("198.51.100.1"))
            .await
            .status()
            .as_u16(),
        201
    );
    assert_rate_limited(start_from(&app, Some("198.51.100.1")).await).await;
    assert_eq!(
        start_from(&app, Some("198.51.100.2"))
            .await
            .status()
            .as_u16(),
        201
    );
    assert_eq!(
        start_from(&app, Some("198.51.100.3"))
            .await
            .status()
            .as_u16(),
        201
    );
    // The tenant's 3 at once are used up, whatever the address.
    assert_rate_limited(start_from(&app, Some("198.51.100.4")).await).await;
}

#[tokio::test]
async fn a_sessions_messages_are_capped_over_http_and_the_socket() {
    let app = spawn_app_with(|s| s.limits.sends_per_session = 6).await;
    app.create_tenant("acme", &[]).await;
    let (key, _) = app.start_session("acme", "Ada").await;
    for i in 0..3 {
        let res = app.post_message(&key, &format!("m{i}"), None).await;
        assert_eq!(res.status().as_u16(), 201);
    }
    assert_rate_limited(app.post_message(&key, "one more", None).await).await;
    let mut ws = app.customer_ws(&key).await;
    ws.send(
        "chat.message.send",
        json!({ "body": "by socket", "client_msg_id": "s1" }),
    )
    .await;
    let err = ws.expect("error").await;
    assert_eq!(err["code"], "rate_limited");
    assert_eq!(err["client_msg_id"], "s1");
    assert_eq!(app.customer_messages(&key, 0).await.len(), 3);
}

#[tokio::test]
async fn the_widgets_reads_and_socket_opens_are_limited_per_address() {
    let app = spawn_app_with(|s| s.limits.reads_per_address = 6).await;
    app.create_tenant("acme", &[]).await;
    let (key, _) = app.start_session("acme", "Ada").await;
    let session = format!("/api/v1/public/chat/sessions/{key}");
    assert_eq!(app.get(&session).await.status().as_u16(), 200);
    assert_eq!(
        app.get(&format!("{session}/messages"))
            .await
            .status()
            .as_u16(),
        200
    );
    let _ws = app.customer_ws(&key).await;
    assert_rate_limited(app.get(&session).await).await;
    assert_eq!(app.ws_refusal(&format!("/ws/public/{key}"), &[]).await, 429);
}

#[tokio::test]
async fn agents_have_a_send_budget_of_their_own() {
    let app = spawn_app_with(|s| s.limits.sends_per_agent = 4).await;
    app.create_tenant("acme", &[]).await;
    let agent = app.create_agent("acme", "a@acme.test", "Alex").await;
    let (key, sid) = app.start_session("acme", "Ada").await;
    let path = format!("/api/v1/chat/sessions/{sid}/messages");
    for i in 0..2 {
        let res = app
            .agent_post(
                &agent.token,
                &path,
                Some(&json!({ "body": format!("a{i}") })),
            )
            .await;
        assert_eq!(res.status().as_u16(), 201);
    }
    let res = app
        .agent_post(&agent.token, &path, Some(&json!({ "body": "a2" })))
        .await;
    assert_rate_limited(res).await;
    // The customer's budget is untouched.
    assert_eq!(
        app.post_message(&key, "still me", None)
            .await
            .status()
            .as_u16(),
        201
    );
}
