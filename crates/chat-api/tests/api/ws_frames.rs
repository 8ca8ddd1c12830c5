//! Client frames: sending, resuming, and everything malformed.

use futures_util::SinkExt;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::{ok, spawn_app, spawn_app_with};

#[tokio::test]
async fn a_customer_sends_over_the_socket_and_gets_an_ack_before_the_broadcast() {
    let app = spawn_app().await;
    app.create_tenant("acme", &[]).await;
    let a = app.create_agent("acme", "a@acme.test", "Alex").await;
    let (key, sid) = app.start_session("acme", "Ada").await;
    let mut agent = app.agent_ws(&a).await;
    let mut ws = app.customer_ws(&key).await;
    ws.send(
        "chat.message.send",
        json!({ "body": " hi there ", "client_msg_id": "w-1" }),
    )
    .await;
    let ack = ws.expect("chat.message.ack").await;
    assert_eq!(ack["client_msg_id"], "w-1");
    assert_eq!(
        (
            ack["message"]["seq"].as_i64(),
            ack["message"]["body"].as_str()
        ),
        (Some(1), Some("hi there"))
    );
    assert_eq!(
        ws.expect("chat.message.new").await["id"],
        ack["message"]["id"]
    );
    assert_eq!(
        agent.expect("chat.message.new").await["session_id"],
        sid.as_str()
    );

    // A retry is acknowledged with the stored message and not broadcast again.
    ws.send(
        "chat.message.send",
        json!({ "body": "hi there", "client_msg_id": "w-1" }),
    )
    .await;
    assert_eq!(
        ws.expect("chat.message.ack").await["message"]["id"],
        ack["message"]["id"]
    );
    ws.send(
        "chat.message.send",
        json!({ "body": "second", "client_msg_id": "w-2" }),
    )
    .await;
    ws.expect("chat.message.ack").await;
    assert_eq!(ws.expect("chat.message.new").await["seq"], 2);
    assert_eq!(app.customer_messages(&key, 0).await.len(), 2);
}

#[tokio::test]
async fn an_agent_sends_over_the_socket_with_a_session_id() {
    let app = spawn_app().await;
    app.create_tenant("acme", &[]).await;
    let a = app.create_agent("acme", "a@acme.test", "Alex").await;
    let (key, sid) = app.start_session("acme", "Ada").await;
    let mut customer = app.customer_ws(&key).await;
    let mut agent = app.agent_ws(&a).await;
    agent
        .send(
            "chat.message.send",
            json!({ "session_id": sid, "body": "hello", "client_msg_id": "a-1" }),
        )
        .await;
    assert_eq!(
        agent.expect("chat.message.ack").await["message"]["sender_type"],
        "agent"
    );
    assert_eq!(customer.expect("chat.message.new").await["body"], "hello");
    assert_eq!(agent.expect("chat.message.new").await["body"], "hello");
    agent
        .send(
            "chat.message.send",
            json!({ "body": "no session", "client_msg_id": "a-2" }),
        )
        .await;
    let err = agent.expect("error").await;
    assert_eq!(
        (err["code"].as_str(), err["client_msg_id"].as_str()),
        (Some("invalid_payload"), Some("a-2"))
    );
}

#[tokio::test]
async fn resume_replays_everything_after_the_given_seq_in_order() {
    let app = spawn_app().await;
    app.create_tenant("acme", &[]).await;
    let a = app.create_agent("acme", "a@acme.test", "Alex").await;
    let (key, sid) = app.start_session("acme", "Ada").await;
    for i in 1..=5 {
        app.post_message(&key, &format!("m{i}"), None).await;
    }
    let mut ws = app.customer_ws(&key).await;
    ws.send("chat.resume", json!({ "after_seq": 2 })).await;
    for seq in 3..=5 {
        assert_eq!(ws.expect("chat.message.new").await["seq"], seq);
    }
    assert_eq!(
        ws.expect("chat.resume.done").await,
        json!({ "session_id": sid, "last_seq": 5, "more": false })
    );

    let mut agent = app.agent_ws(&a).await;
    agent
        .send("chat.resume", json!({ "session_id": sid, "after_seq": 4 }))
        .await;
    assert_eq!(agent.expect("chat.message.new").await["body"], "m5");
    assert_eq!(agent.expect("chat.resume.done").await["last_seq"], 5);
    // The HTTP endpoint gives the same answer.
    let http: Vec<i64> = app
        .customer_messages(&key, 2)
        .await
        .iter()
        .filter_map(|m| m["seq"].as_i64())
        .collect();
    assert_eq!(http, vec![3, 4, 5]);
}

#[tokio::test]
async fn garbage_frames_get_errors_and_the_server_keeps_serving() {
    let app = spawn_app().await;
    app.create_tenant("acme", &[]).await;
    app.create_tenant("globex", &[]).await;
    let a = app.create_agent("acme", "a@acme.test", "Alex").await;
    let (key, _) = app.start_session("acme", "Ada").await;
    let (_, other_sid) = app.start_session("acme", "Bob").await;
    let (_, foreign_sid) = app.start_session("globex", "Cyd").await;
    let mut ws = app.customer_ws(&key).await;
    let mut agent = app.agent_ws(&a).await;

    let code = |v: Value| v["code"].as_str().unwrap_or_default().to_owned();
    ok(ws.stream.send(Message::Text("{not json".into())).await);
    assert_eq!(code(ws.expect("error").await), "invalid_frame");
    ws.send("chat.teleport", json!({})).await;
    assert_eq!(code(ws.expect("error").await), "unknown_type");
    ws.send("chat.message.send", json!({ "body": 42 })).await;
    assert_eq!(code(ws.expect("error").await), "invalid_payload");
    ok(ws
        .stream
        .send(Message::Binary(vec![1u8, 2, 3].into()))
        .await);
    assert_eq!(code(ws.expect("error").await), "binary_not_supported");
    ws.send(
        "chat.message.send",
        json!({ "session_id": other_sid, "body": "x", "client_msg_id": "x1" }),
    )
    .await;
    assert_eq!(code(ws.expect("error").await), "not_found");
    ws.send(
        "chat.resume",
        json!({ "session_id": other_sid, "after_seq": 0 }),
    )
    .await;
    assert_eq!(code(ws.expect("error").await), "not_found");
    ws.send(
        "chat.message.send",
        json!({ "body": "   ", "client_msg_id": "x2" }),
    )
    .await;
    assert_eq!(code(ws.expect("error").await), "validation_failed");
    agent
        .send(
            "chat.message.send",
            json!({ "session_id": foreign_sid, "body": "x", "client_msg_id": "x3" }),
        )
        .await;
    assert_eq!(code(agent.expect("error").await), "not_found");
    agent
        .send(
            "chat.resume",
            json!({ "session_id": foreign_sid, "after_seq": 0 }),
        )
        .await;
    assert_eq!(code(agent.expect("error").await), "not_found");

    // Still up, for this socket and for everyone else.
    ws.send(
        "chat.message.send",
        json!({ "body": "still here", "client_msg_id": "ok-1" }),
    )
    .await;
    ws.expect("chat.message.ack").await;
    assert_eq!(agent.expect("chat.message.new").await["body"], "still here");
    assert_eq!(app.customer_messages(&key, 0).await.len(), 1);
}

#[tokio::test]
async fn an_oversized_frame_closes_the_socket_with_1009() {
    let app = spawn_app().await;
    app.create_tenant("acme", &[]).await;
    let (key, _) = app.start_session("acme", "Ada").await;
    let mut ws = app.customer_ws(&key).await;
    let mut other = app.customer_ws(&key).await;
    let huge = json!({ "type": "chat.message.send", "payload": { "body": "x".repeat(70_000), "client_msg_id": "big" } });
    ok(ws.stream.send(Message::Text(huge.to_string().into())).await);
    assert_eq!(ws.closed().await.code, Some(1009));
    other.send("ping", json!({})).await;
    assert_eq!(other.next_frame().await["type"], "pong");
}

#[tokio::test]
async fn a_frame_flood_is_rate_limited_then_closed_with_1008() {
    let app = spawn_app_with(|s| s.ws.flood_tolerance = 30).await;
    app.create_tenant("acme", &[]).await;
    let (key, _) = app.start_session("acme", "Ada").await;
    let mut ws = app.customer_ws(&key).await;
    for _ in 0..200 {
        if ws
            .stream
            .send(Message::Text(r#"{"type":"ping","payload":{}}"#.into()))
            .await
            .is_err()
        {
            break;
        }
    }
    let mut pongs = 0;
    let mut limited = 0;
    let closed = loop {
        match tokio::time::timeout(
            crate::helpers::PATIENCE,
            futures_util::StreamExt::next(&mut ws.stream),
        )
        .await
        {
            Ok(Some(Ok(Message::Text(t)))) => {
                let v: Value = ok(serde_json::from_str(t.as_str()));
                match v["type"].as_str() {
                    Some("pong") => pongs += 1,
                    Some("error") if v["payload"]["code"] == "rate_limited" => limited += 1,
                    _ => panic!("unexpected {v}"),
                }
            }
            Ok(Some(Ok(Message::Close(f)))) => break f.map(|f| u16::from(f.code)),
            Ok(Some(Ok(_))) => {}
            other => panic!("socket ended without a close frame: {other:?}"),
        }
    };
    assert_eq!(closed, Some(1008));
    assert!(
        (40..=60).contains(&pongs),
        "burst of 40 (plus refill) answered, got {pongs}"
    );
    assert!(limited >= 1, "rate_limited errors before the close");
}
