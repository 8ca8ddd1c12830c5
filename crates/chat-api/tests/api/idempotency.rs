use std::collections::HashSet;

use serde_json::{Value, json};

use crate::helpers::{ok, spawn_app, spawn_app_with, without_request_limits};

#[tokio::test]
async fn a_retried_send_returns_the_stored_message_instead_of_a_copy() {
    let app = spawn_app().await;
    app.create_tenant("acme", &[]).await;
    let (key, _) = app.start_session("acme", "Ada").await;
    let first = app.post_message(&key, "hi", Some("retry-1")).await;
    assert_eq!(first.status().as_u16(), 201);
    let first: Value = ok(first.json().await);
    let retry = app.post_message(&key, "hi", Some("retry-1")).await;
    assert_eq!(retry.status().as_u16(), 200);
    let retry: Value = ok(retry.json().await);
    assert_eq!(first["message"]["id"], retry["message"]["id"]);
    assert_eq!(app.customer_messages(&key, 0).await.len(), 1);
}

#[tokio::test]
async fn an_agents_retried_send_is_idempotent_too() {
    let app = spawn_app().await;
    app.create_tenant("acme", &[]).await;
    let a = app.create_agent("acme", "a@acme.test", "Alex").await;
    let (key, sid) = app.start_session("acme", "Ada").await;
    let path = format!("/api/v1/chat/sessions/{sid}/messages");
    let body = json!({ "body": "hello", "client_msg_id": "a-1" });
    let one: Value = ok(app
        .agent_post(&a.token, &path, Some(&body))
        .await
        .json()
        .await);
    let two: Value = ok(app
        .agent_post(&a.token, &path, Some(&body))
        .await
        .json()
        .await);
    assert_eq!(one["message"]["id"], two["message"]["id"]);
    assert_eq!(app.customer_messages(&key, 0).await.len(), 1);
}

#[tokio::test]
async fn fifty_concurrent_senders_get_gapless_unique_seqs() {
    let app = spawn_app_with(without_request_limits).await;
    app.create_tenant("acme", &[]).await;
    let a = app.create_agent("acme", "a@acme.test", "Alex").await;
    let (key, sid) = app.start_session("acme", "Ada").await;
    let mut tasks = Vec::new();
    for i in 0..50 {
        let client = app.client.clone();
        let url = if i % 2 == 0 {
            format!("{}/api/v1/public/chat/sessions/{key}/messages", app.address)
        } else {
            format!("{}/api/v1/chat/sessions/{sid}/messages", app.address)
        };
        let token = a.token.clone();
        tasks.push(tokio::spawn(async move {
            let res = client
                .post(url)
                .bearer_auth(token)
                .json(&json!({ "body": format!("m{i}"), "client_msg_id": format!("c{i}") }))
                .send()
                .await;
            ok(res).status().as_u16()
        }));
    }
    for t in tasks {
        assert_eq!(ok(t.await), 201);
    }
    let stored = app.customer_messages(&key, 0).await;
    let seqs: Vec<i64> = stored.iter().filter_map(|m| m["seq"].as_i64()).collect();
    assert_eq!(seqs, (1..=50).collect::<Vec<_>>());
    let bodies: HashSet<&str> = stored.iter().filter_map(|m| m["body"].as_str()).collect();
    assert_eq!(bodies.len(), 50);
}
