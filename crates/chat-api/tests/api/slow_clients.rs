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

#[tokio::test]
async fn a_slow_consumer_that_never_reads_has_its_connection_torn_down() {
    let app = spawn_app_with(|s| {
        without_request_limits(s);
        s.ws.outbound_queue = 8;
    })
    .await;
    app.create_tenant("acme", &[]).await;
    let agent = app.create_agent("acme", "a@acme.test", "Alex").await;
    let (key, sid) = app.start_session("acme", "Ada").await;
    let stalled = app.customer_ws(&key).await;
    let before = connections(&app).await;
    assert_eq!(before, 1);
    // Push until the hub cuts it (4008 and out of the registry).
    let mut sent = 0;
    while connections(&app).await == before {
        assert!(sent < 5000, "never cut as a slow consumer");
        fill(&app, &agent, &sid, 20).await;
        sent += 20;
    }
    // It cannot take the close frame; after the grace period the server
    // resets the connection instead of holding it (and its buffers).
    let MaybeTlsStream::Plain(tcp) = stalled.stream.get_ref() else {
        panic!("a plain TCP test connection");
    };
    let deadline = tokio::time::Instant::now() + PATIENCE;
    let reset = loop {
        match tcp.take_error() {
            Ok(Some(e)) => break Some(e.kind()),
            Ok(None) if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            _ => break None,
        }
    };
    assert_eq!(
        reset,
        Some(std::io::ErrorKind::ConnectionReset),
        "after {sent} messages"
    );
}
