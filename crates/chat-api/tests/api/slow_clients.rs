//! Clients that stop reading: a replay they do not read, and a socket cut
//! as a slow consumer, must not hold the server's connection or memory.

use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio_tungstenite::MaybeTlsStream;
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::{
    PATIENCE, TestAgent, TestApp, WsClient, ok, spawn_app_with, without_request_limits,
};

/// A message body close to the 4,000-character limit.
fn long_body(i: usize) -> String {
    format!("{i:05} {}", "x".repeat(3900))
}

async fn fill(app: &TestApp, agent: &TestAgent, sid: &str, count: usize) {
    let bodies: Vec<String> = (0..count).map(long_body).collect();
    for chunk in bodies.chunks(20) {
        let sends = chunk.iter().map(|b| app.agent_message(agent, sid, b));
        futures_util::future::join_all(sends).await;
    }
}

/// Reads to the close frame; returns the replayed messages seen and the code.
async fn read_to_close(ws: &mut WsClient) -> (usize, Option<u16>) {
    let mut messages = 0;
    loop {
        match tokio::time::timeout(PATIENCE, ws.stream.next()).await {
            Ok(Some(Ok(Message::Text(t)))) => {
                let v: Value = ok(serde_json::from_str(t.as_str()));
                if v["type"] == "chat.message.new" {
                    messages += 1;
                }
            }
            Ok(Some(Ok(Message::Close(f)))) => return (messages, f.map(|f| u16::from(f.code))),
            Ok(Some(Ok(_))) => {}
            other => panic!("socket ended without a close frame: {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_long_absence_is_replayed_a_page_per_resume() {
    let app = spawn_app_with(|s| {
        without_request_limits(s);
        s.ws.max_replay = 5;
    })
    .await;
    app.create_tenant("acme", &[]).await;
    let agent = app.create_agent("acme", "a@acme.test", "Alex").await;
    let (key, sid) = app.start_session("acme", "Ada").await;
    for i in 0..12 {
        app.agent_message(&agent, &sid, &format!("m{i}")).await;
    }
    let mut ws = app.customer_ws(&key).await;
    let mut after = 0;
    let mut pages = Vec::new();
    loop {
        ws.send("chat.resume", json!({ "after_seq": after })).await;
        let mut seqs = Vec::new();
        let done = loop {
            let f = ws.next_event().await;
            match f["type"].as_str() {
                Some("chat.message.new") => seqs.push(f["payload"]["seq"].as_i64().unwrap_or(-1)),
                Some("chat.resume.done") => break f["payload"].clone(),
                _ => panic!("unexpected {f}"),
            }
        };
        after = done["last_seq"].as_i64().unwrap_or(-1);
        pages.push((seqs, after, done["more"] == true));
        if done["more"] != true {
            break;
        }
    }
    assert_eq!(
        pages,
        vec![
            ((1..=5).collect(), 5, true),
            ((6..=10).collect(), 10, true),
            (vec![11, 12], 12, false),
        ]
    );
}

#[tokio::test]
async fn logging_out_cuts_a_replay_the_client_does_not_read() {
    let app = spawn_app_with(without_request_limits).await;
    app.create_tenant("acme", &[]).await;
    let agent = app.create_agent("acme", "a@acme.test", "Alex").await;
    let (_, sid) = app.start_session("acme", "Ada").await;
    fill(&app, &agent, &sid, 600).await;
    let mut ws = app.agent_ws(&agent).await;
    ws.send("chat.resume", json!({ "session_id": sid, "after_seq": 0 }))
        .await;
    // The replay is under way; then the client stops reading and logs out.
    assert_eq!(ws.expect("chat.message.new").await["seq"], 1);
    let res = app
        .agent_post(&agent.token, "/api/v1/auth/logout", None)
        .await;
    assert_eq!(res.status().as_u16(), 204);
    let (replayed, code) = read_to_close(&mut ws).await;
    assert_eq!(code, Some(4001));
    assert!(
        replayed < 499,
        "the whole page of 500 was replayed after the logout ({replayed} more)"
    );
}

async fn connections(app: &TestApp) -> i64 {
    let v: Value = ok(app.get("/readyz").await.json().await);
    v["connections"].as_i64().unwrap_or(-1)
}

/// Whether the kernel still has a TCP connection from `local` to `remote`
/// (ports on 127.0.0.1), from `/proc/net/tcp`.
fn kernel_has_connection(local: u16, remote: u16) -> bool {
    let table = std::fs::read_to_string("/proc/net/tcp").unwrap_or_default();
    let port = |addr: &str| {
        addr.rsplit(':')
            .next()
            .and_then(|p| u16::from_str_radix(p, 16).ok())
    };
    table.lines().skip(1).any(|line| {
        let mut fields = line.split_whitespace().skip(1);
        let (Some(l), Some(r)) = (fields.next(), fields.next()) else {
            return false;
        };
        port(l) == Some(local) && port(r) == Some(remote)
    })
}

#[tokio::test]
async fn a_slow_consumer_that_never_reads_has_its_connection_torn_down() {
    let app = spawn_app_with(|s| {
        without_request_limits(s);
        s.ws.outbound_queue = 8;
        s.server.stalled_peer_timeout_secs = 1;
    })
    .await;
    app.create_tenant("acme", &[]).await;
    let agent = app.create_agent("acme", "a@acme.test", "Alex").await;
    let (key, sid) = app.start_session("acme", "Ada").await;
    let mut stalled = app.customer_ws(&key).await;
    let before = connections(&app).await;
    assert_eq!(before, 1);
    // Push until the hub cuts it (4008 and out of the registry).
    let mut sent = 0;
    while connections(&app).await == before {
        assert!(sent < 5000, "never cut as a slow consumer");
        fill(&app, &agent, &sid, 20).await;
        sent += 20;
    }
    // It cannot take the close frame; the server's side of the connection
    // goes (the kernel gives up on a peer whose window stays closed)
    // instead of holding it and its buffers.
    let MaybeTlsStream::Plain(tcp) = stalled.stream.get_ref() else {
        panic!("a plain TCP test connection");
    };
    let (client, server) = (ok(tcp.local_addr()).port(), ok(tcp.peer_addr()).port());
    assert!(
        kernel_has_connection(server, client),
        "no server side to watch"
    );
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while kernel_has_connection(server, client) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the server still holds the connection after {sent} messages"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    // Reading again, the client gets what its own kernel held, then a reset:
    // no close frame ever made it.
    let end = loop {
        match tokio::time::timeout(PATIENCE, stalled.stream.next()).await {
            Ok(Some(Ok(Message::Close(f)))) => panic!("a close frame reached it: {f:?}"),
            Ok(Some(Ok(_))) => {}
            other => break other,
        }
    };
    let reset = matches!(
        &end,
        Ok(Some(Err(tokio_tungstenite::tungstenite::Error::Io(e))))
            if e.kind() == std::io::ErrorKind::ConnectionReset
    );
    assert!(reset, "the socket ended with {end:?}");
}
