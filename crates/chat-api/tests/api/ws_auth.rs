//! Who may open which socket, checked before the upgrade.

use serde_json::Value;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::helpers::{WsClient, ok, spawn_app};

#[tokio::test]
async fn an_agent_socket_without_a_valid_credential_is_refused_with_401() {
    let app = spawn_app().await;
    assert_eq!(app.ws_refusal("/ws", &[]).await, 401);
    assert_eq!(
        app.ws_refusal("/ws", &[("authorization", "Bearer nope")])
            .await,
        401
    );
    assert_eq!(app.ws_refusal("/ws?ticket=nope", &[]).await, 401);
}

#[tokio::test]
async fn a_ticket_opens_one_agent_socket_once() {
    let app = spawn_app().await;
    app.create_tenant("acme", &[]).await;
    let a = app.create_agent("acme", "a@acme.test", "Alex").await;
    let res = app.agent_post(&a.token, "/api/v1/ws/ticket", None).await;
    assert_eq!(res.status().as_u16(), 201);
    let body: Value = ok(res.json().await);
    let ticket = body["ticket"].as_str().unwrap_or_default().to_owned();
    let req = ok(format!("{}/ws?ticket={ticket}", app.ws_address).into_client_request());
    let _socket = WsClient::connect(req).await;
    assert_eq!(
        app.ws_refusal(&format!("/ws?ticket={ticket}"), &[]).await,
        401
    );
}

#[tokio::test]
async fn an_unknown_session_key_is_404_before_the_upgrade() {
    let app = spawn_app().await;
    assert_eq!(app.ws_refusal("/ws/public/unknown", &[]).await, 404);
    let made_up = "a".repeat(64);
    assert_eq!(
        app.ws_refusal(&format!("/ws/public/{made_up}"), &[]).await,
        404
    );
}

#[tokio::test]
async fn a_tenants_allowed_origins_gate_browser_upgrades() {
    let app = spawn_app().await;
    app.create_tenant("acme", &["https://shop.acme.test"]).await;
    let (key, _) = app.start_session("acme", "Ada").await;
    let path = format!("/ws/public/{key}");
    assert_eq!(
        app.ws_refusal(&path, &[("origin", "https://evil.test")])
            .await,
        403
    );
    let mut req = ok(format!("{}{path}", app.ws_address).into_client_request());
    req.headers_mut()
        .insert("origin", ok("https://shop.acme.test".parse()));
    let _browser = WsClient::connect(req).await;
    let _no_origin = app.customer_ws(&key).await;
}

#[tokio::test]
async fn starting_a_session_from_a_disallowed_origin_is_403() {
    let app = spawn_app().await;
    app.create_tenant("acme", &["https://shop.acme.test"]).await;
    let res = ok(app
        .client
        .post(format!("{}/api/v1/public/chat/sessions", app.address))
        .header("origin", "https://evil.test")
        .json(&serde_json::json!({ "tenant_id": "acme" }))
        .send()
        .await);
    assert_eq!(res.status().as_u16(), 403);
}

#[tokio::test]
async fn logout_closes_the_agents_sockets() {
    let app = spawn_app().await;
    app.create_tenant("acme", &[]).await;
    let a = app.create_agent("acme", "a@acme.test", "Alex").await;
    let mut tab1 = app.agent_ws(&a).await;
    let mut tab2 = app.agent_ws(&a).await;
    assert_eq!(
        app.agent_post(&a.token, "/api/v1/auth/logout", None)
            .await
            .status()
            .as_u16(),
        204
    );
    for tab in [&mut tab1, &mut tab2] {
        let closed = tab.closed().await;
        assert_eq!(closed.code, Some(4001));
        assert_eq!(closed.reason, "logged out");
    }
}

#[tokio::test]
async fn a_socket_closes_when_its_token_expires() {
    let app = spawn_app().await;
    app.create_tenant("acme", &[]).await;
    let a = app.create_agent("acme", "a@acme.test", "Alex").await;
    let soon = chrono::Utc::now() + chrono::Duration::milliseconds(800);
    let short = app.token_expiring_at(&a, soon).await;
    let mut ws = app
        .agent_ws(&crate::helpers::TestAgent { token: short, ..a })
        .await;
    let closed = ws.closed().await;
    assert_eq!(closed.code, Some(4001));
    assert_eq!(closed.reason, "token expired");
}

#[tokio::test]
async fn sockets_beyond_the_per_session_and_per_agent_caps_are_refused_with_429() {
    let app = crate::helpers::spawn_app_with(|s| {
        s.ws.max_sockets_per_session = 2;
        s.ws.max_sockets_per_agent = 2;
    })
    .await;
    app.create_tenant("acme", &[]).await;
    let a = app.create_agent("acme", "a@acme.test", "Alex").await;
    let (key, _) = app.start_session("acme", "Ada").await;
    let _c1 = app.customer_ws(&key).await;
    let _c2 = app.customer_ws(&key).await;
    assert_eq!(app.ws_refusal(&format!("/ws/public/{key}"), &[]).await, 429);
    let _a1 = app.agent_ws(&a).await;
    let _a2 = app.agent_ws(&a).await;
    let bearer = format!("Bearer {}", a.token);
    assert_eq!(
        app.ws_refusal("/ws", &[("authorization", bearer.as_str())])
            .await,
        429
    );
}

#[tokio::test]
async fn a_client_that_never_answers_pings_is_closed_after_two_missed_pongs() {
    let app = crate::helpers::spawn_app_with(|s| s.ws.heartbeat_secs = 1).await;
    app.create_tenant("acme", &[]).await;
    let (key, _) = app.start_session("acme", "Ada").await;
    // A socket that is never read never answers a ping.
    let silent = app.customer_ws(&key).await;
    let ready: Value = ok(app.get("/readyz").await.json().await);
    assert_eq!(ready["connections"], 1);
    let started = std::time::Instant::now();
    loop {
        let ready: Value = ok(app.get("/readyz").await.json().await);
        if ready["connections"] == 0 {
            break;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "silent socket still registered"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    // Closed between the second and third missed interval.
    assert!(
        started.elapsed() >= std::time::Duration::from_millis(1500),
        "closed too early: {:?}",
        started.elapsed()
    );
    drop(silent);
}
