//! Abuse limits and the server's edges, tried as an attacker would.

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};

use crate::helpers::{PASSWORD, PATIENCE, TestApp, ok, spawn_app, spawn_app_with};

async fn login_status(app: &TestApp, email: &str, password: &str) -> u16 {
    app.post_json(
        "/api/v1/auth/login",
        &json!({ "email": email, "password": password }),
    )
    .await
    .status()
    .as_u16()
}

#[tokio::test]
async fn parallel_wrong_passwords_on_one_account_cannot_race_past_the_limit() {
    let app = spawn_app_with(|s| {
        s.auth.max_failures_per_client = 5;
        s.auth.max_concurrent_hashes = 64;
    })
    .await;
    app.create_tenant("acme", &[]).await;
    app.create_agent("acme", "a@acme.test", "Alex").await;
    let attempts = (0..40).map(|_| login_status(&app, "a@acme.test", "wrong-wrong"));
    let statuses = futures_util::future::join_all(attempts).await;
    let unauthorized = statuses.iter().filter(|s| **s == 401).count();
    let limited = statuses.iter().filter(|s| **s == 429).count();
    assert!(unauthorized <= 5, "{unauthorized} guesses were checked");
    assert_eq!(unauthorized + limited, 40, "{statuses:?}");
}

#[tokio::test]
async fn one_address_is_limited_whatever_the_accounts_it_tries() {
    let app = spawn_app_with(|s| s.auth.max_failures_per_address = 6).await;
    app.create_tenant("acme", &[]).await;
    let mut statuses = Vec::new();
    for i in 0..10 {
        statuses.push(login_status(&app, &format!("u{i}@acme.test"), PASSWORD).await);
    }
    assert_eq!(&statuses[..6], &[401; 6], "{statuses:?}");
    assert_eq!(&statuses[6..], &[429; 4], "{statuses:?}");
}

#[tokio::test]
async fn password_hashes_beyond_the_cap_are_refused_with_retry_after() {
    let app = spawn_app_with(|s| {
        s.auth.max_concurrent_hashes = 1;
        s.auth.max_failures_per_address = 1000;
    })
    .await;
    app.create_tenant("acme", &[]).await;
    let attempts = (0..20).map(|i| {
        app.client
            .post(format!("{}/api/v1/auth/login", app.address))
            .json(&json!({ "email": format!("u{i}@acme.test"), "password": PASSWORD }))
            .send()
    });
    let responses: Vec<reqwest::Response> = futures_util::future::join_all(attempts)
        .await
        .into_iter()
        .map(ok)
        .collect();
    let refused: Vec<&reqwest::Response> = responses.iter().filter(|r| r.status() == 429).collect();
    assert!(!refused.is_empty(), "twenty logins at once all hashed");
    assert!(
        refused
            .iter()
            .all(|r| r.headers().contains_key("retry-after"))
    );
    assert!(
        responses
            .iter()
            .all(|r| matches!(r.status().as_u16(), 401 | 429))
    );
}

#[tokio::test]
async fn a_protocol_ping_flood_is_closed_with_1008() {
    let app = spawn_app_with(|s| s.ws.flood_tolerance = 30).await;
    app.create_tenant("acme", &[]).await;
    let (key, _) = app.start_session("acme", "Ada").await;
    let mut ws = app.customer_ws(&key).await;
    for _ in 0..3000 {
        if ws.stream.send(Message::Ping(vec![1].into())).await.is_err() {
            break;
        }
    }
    let mut pongs = 0;
    let code = loop {
        match tokio::time::timeout(PATIENCE, ws.stream.next()).await {
            Ok(Some(Ok(Message::Pong(_)))) => pongs += 1,
            Ok(Some(Ok(Message::Close(f)))) => break f.map(|f| u16::from(f.code)),
            Ok(Some(Ok(_))) => {}
            other => panic!("socket ended without a close frame: {other:?}"),
        }
    };
    assert_eq!(code, Some(1008));
    assert!(pongs < 100, "{pongs} pongs answered");
}

#[tokio::test]
async fn alternating_typing_states_do_not_flood_the_agents() {
    let app = spawn_app_with(|_| {}).await;
    app.create_tenant("acme", &[]).await;
    let agent = app.create_agent("acme", "a@acme.test", "Alex").await;
    let mut agent_ws = app.agent_ws(&agent).await;
    let mut keys = Vec::new();
    for i in 0..5 {
        let (key, _) = app.start_session("acme", &format!("C{i}")).await;
        agent_ws.expect("chat.session.started").await;
        keys.push(key);
    }
    for key in &keys {
        let mut ws = app.customer_ws(key).await;
        for i in 0..30 {
            ws.send("chat.typing", json!({ "is_typing": i % 2 == 0 }))
                .await;
        }
        // A socket handles its frames in order: the pong comes after every
        // typing change above was relayed or dropped.
        ws.send("ping", json!({})).await;
        ws.expect("pong").await;
    }
    // A message after the flood: every typing notice relayed came before it.
    app.post_message(&keys[0], "done", None).await;
    let mut typing = 0;
    loop {
        let f = agent_ws.next_event().await;
        match f["type"].as_str() {
            Some("chat.typing") => typing += 1,
            Some("chat.message.new") => break,
            _ => {}
        }
    }
    assert!(
        typing >= 5,
        "each session's first change is relayed ({typing})"
    );
    // A session's burst is 4, plus 2 a second of refill.
    assert!(typing <= 5 * 8, "150 changes became {typing} notices");
}

fn dashboard_dir() -> String {
    let dir = std::env::temp_dir().join(format!("chat-dashboard-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("fs::create_dir_all");
    std::fs::write(
        dir.join("index.html"),
        "<!doctype html><title>Inbox</title>",
    )
    .expect("fs::write");
    dir.to_string_lossy().into_owned()
}

#[tokio::test]
async fn unknown_api_paths_are_json_404s_while_pages_fall_back_to_the_dashboard() {
    let dir = dashboard_dir();
    let app = spawn_app_with(|s| s.server.dashboard_dir = dir.clone()).await;
    for path in ["/api/v1/nope", "/api", "/ws/nope", "/metrics"] {
        let res = app.get(path).await;
        assert_eq!(res.status().as_u16(), 404, "{path}");
        let body: Value = ok(res.json().await);
        assert_eq!(body["error"]["code"], "not_found", "{path}");
    }
    let page = app.get("/inbox/some-session").await;
    assert_eq!(page.status().as_u16(), 200);
    assert!(ok(page.text().await).contains("<title>Inbox</title>"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn the_dashboard_cannot_be_framed_and_nothing_is_sniffed() {
    let dir = dashboard_dir();
    let app = spawn_app_with(|s| s.server.dashboard_dir = dir.clone()).await;
    let page = app.get("/").await;
    let h = page.headers();
    assert_eq!(h["x-frame-options"], "DENY");
    let csp = h["content-security-policy"].to_str().unwrap_or_default();
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(csp.contains("default-src 'self'"), "{csp}");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert!(h.contains_key("referrer-policy"));
    let api = app.get("/healthz").await;
    assert_eq!(api.headers()["x-content-type-options"], "nosniff");
    let _ = std::fs::remove_dir_all(&dir);
}

async fn preflight(app: &TestApp, path: &str, origin: &str) -> reqwest::Response {
    ok(app
        .client
        .request(reqwest::Method::OPTIONS, format!("{}{path}", app.address))
        .header("Origin", origin)
        .header("Access-Control-Request-Method", "POST")
        .header("Access-Control-Request-Headers", "content-type")
        .send()
        .await)
}

#[tokio::test]
async fn the_agent_api_answers_only_listed_origins_and_the_widget_api_any() {
    let app = spawn_app_with(|s| s.server.cors_origins = "https://ops.acme.test".into()).await;
    let foreign = preflight(&app, "/api/v1/auth/login", "https://evil.test").await;
    assert!(
        !foreign
            .headers()
            .contains_key("access-control-allow-origin"),
        "a foreign origin may not call the agent API"
    );
    let listed = preflight(&app, "/api/v1/auth/login", "https://ops.acme.test").await;
    assert_eq!(
        listed.headers()["access-control-allow-origin"],
        "https://ops.acme.test"
    );
    let widget = preflight(&app, "/api/v1/public/chat/sessions", "https://shop.test").await;
    assert_eq!(
        widget.headers()["access-control-allow-origin"],
        "https://shop.test"
    );
}

fn raw_frame(payload: Vec<u8>, opcode: Data, is_final: bool) -> Message {
    Message::Frame(Frame::message(payload, OpCode::Data(opcode), is_final))
}

#[tokio::test]
async fn a_message_over_the_limit_in_continuation_frames_closes_with_1009() {
    let app = spawn_app_with(|s| s.ws.max_frame_bytes = 4096).await;
    app.create_tenant("acme", &[]).await;
    let (key, _) = app.start_session("acme", "Ada").await;
    let mut ws = app.customer_ws(&key).await;
    ok(ws
        .stream
        .send(raw_frame(vec![b'x'; 3000], Data::Text, false))
        .await);
    for _ in 0..3 {
        if ws
            .stream
            .send(raw_frame(vec![b'x'; 3000], Data::Continue, false))
            .await
            .is_err()
        {
            break;
        }
    }
    assert_eq!(ws.closed().await.code, Some(1009));
}

#[tokio::test]
async fn text_that_is_not_utf8_closes_with_1007() {
    let app = spawn_app_with(|_| {}).await;
    app.create_tenant("acme", &[]).await;
    let (key, _) = app.start_session("acme", "Ada").await;
    let mut ws = app.customer_ws(&key).await;
    ok(ws
        .stream
        .send(raw_frame(vec![0xff, 0xfe, 0xfd], Data::Text, true))
        .await);
    assert_eq!(ws.closed().await.code, Some(1007));
}

/// A connection the server has accepted and answered once, kept open.
async fn kept_alive_connection(app: &TestApp) -> tokio::net::TcpStream {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = app.address.trim_start_matches("http://");
    let mut stream = ok(tokio::net::TcpStream::connect(addr).await);
    ok(stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await);
    let mut seen = Vec::new();
    let mut buf = [0u8; 1024];
    while !String::from_utf8_lossy(&seen).contains("\"status\"") {
        let n = ok(tokio::time::timeout(PATIENCE, stream.read(&mut buf)).await);
        let n = ok(n);
        assert!(n > 0, "the server closed the connection");
        seen.extend_from_slice(&buf[..n]);
    }
    stream
}

#[tokio::test]
async fn once_shutdown_starts_upgrades_are_refused_with_503() {
    let app = spawn_app_with(|s| s.server.shutdown_timeout_secs = 30).await;
    app.create_tenant("acme", &[]).await;
    let (key, _) = app.start_session("acme", "Ada").await;
    let mut ws = app.customer_ws(&key).await;
    let early = kept_alive_connection(&app).await;
    let stopper = app.stopper.clone();
    let stopping = tokio::spawn(async move { stopper.stop().await });
    assert_eq!(ws.closed().await.code, Some(1001));
    let req = ok(format!("{}/ws/public/{key}", app.ws_address).into_client_request());
    match tokio_tungstenite::client_async(req, early).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(res)) => {
            assert_eq!(res.status().as_u16(), 503);
            assert!(res.headers().contains_key("retry-after"));
        }
        Ok(_) => panic!("a socket was accepted after shutdown began"),
        Err(other) => panic!("unexpected {other:?}"),
    }
    ok(ok(tokio::time::timeout(PATIENCE, stopping).await));
}

#[tokio::test]
async fn every_response_names_its_request_and_errors_quote_it() {
    let app = spawn_app_with(|s| s.server.trusted_proxies = "127.0.0.1".into()).await;
    let ok_res = app.get("/healthz").await;
    let id = ok_res.headers()["x-request-id"]
        .to_str()
        .unwrap_or_default()
        .to_owned();
    assert!(!id.is_empty());
    let missing = app.get("/api/v1/public/chat/sessions/nope").await;
    let header = missing.headers()["x-request-id"]
        .to_str()
        .unwrap_or_default()
        .to_owned();
    assert_ne!(header, id, "each request has its own id");
    let body: Value = ok(missing.json().await);
    assert_eq!(body["error"]["request_id"], header.as_str());
    // A trusted proxy's id is kept.
    let forwarded = ok(app
        .client
        .get(format!("{}/healthz", app.address))
        .header("X-Request-Id", "edge-1234")
        .send()
        .await);
    assert_eq!(forwarded.headers()["x-request-id"], "edge-1234");
}

#[tokio::test]
async fn a_request_id_from_an_untrusted_peer_is_replaced() {
    let app = spawn_app_with(|_| {}).await;
    let res = ok(app
        .client
        .get(format!("{}/healthz", app.address))
        .header("X-Request-Id", "forged")
        .send()
        .await);
    let id = res.headers()["x-request-id"].to_str().unwrap_or_default();
    assert!(!id.is_empty() && id != "forged", "{id}");
}

/// The server reads a request whatever the pieces it arrives in: a head
/// longer than its first read, a body written 700 bytes at a time, and a
/// second request in the same writes as the first one's end, on one
/// kept-alive connection.
#[tokio::test]
async fn requests_arriving_in_pieces_and_back_to_back_are_read_whole() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = spawn_app().await;
    app.create_tenant("acme", &[]).await;
    let (key, _) = app.start_session("acme", "Ada").await;
    let text = "é".repeat(3000);
    let body = json!({ "body": text }).to_string();
    let mut request = format!(
        "POST /api/v1/public/chat/sessions/{key}/messages HTTP/1.1\r\nHost: localhost\r\n\
         Content-Type: application/json\r\nX-Padding: {}\r\nContent-Length: {}\r\n\r\n",
        "p".repeat(2500),
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(body.as_bytes());
    request.extend_from_slice(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n");
    let addr = app.address.trim_start_matches("http://");
    let mut stream = ok(tokio::net::TcpStream::connect(addr).await);
    for piece in request.chunks(700) {
        ok(stream.write_all(piece).await);
        ok(stream.flush().await);
    }
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let answered = String::from_utf8_lossy(&seen);
        let mut responses = answered.split("HTTP/1.1 ").skip(1);
        if let (Some(first), Some(second)) = (responses.next(), responses.next()) {
            assert!(first.starts_with("201"), "the message: {first}");
            assert!(second.starts_with("200"), "the health check: {second}");
            if second.contains("\"status\"") {
                break;
            }
        }
        let n = ok(ok(
            tokio::time::timeout(PATIENCE, stream.read(&mut buf)).await
        ));
        assert!(n > 0, "the server closed the connection after {answered}");
        seen.extend_from_slice(&buf[..n]);
    }
    let stored = app.customer_messages(&key, 0).await;
    assert!(
        stored
            .iter()
            .any(|m| m["body"].as_str() == Some(text.as_str())),
        "the message was stored whole"
    );
}
