use serde_json::{Value, json};

use crate::helpers::{ok, spawn_app};

#[tokio::test]
async fn a_customer_message_reaches_an_agent_who_assigns_replies_and_both_see_the_history() {
    let app = spawn_app().await;
    app.create_tenant("acme", &[]).await;
    let alex = app.create_agent("acme", "alex@acme.test", "Alex").await;

    let (key, session_id) = app.start_session("acme", "Ada").await;
    let res = app
        .post_message(&key, "Hello, my order is late", Some("c-1"))
        .await;
    assert_eq!(res.status().as_u16(), 201);
    let sent: Value = ok(res.json().await);
    assert_eq!(sent["message"]["seq"], 1);
    assert_eq!(sent["message"]["sender_type"], "customer");

    let list: Value = ok(app
        .agent_get(&alex.token, "/api/v1/chat/sessions?status=pending")
        .await
        .json()
        .await);
    assert_eq!(list["sessions"][0]["id"], session_id.as_str());
    assert_eq!(
        list["sessions"][0]["last_message_preview"],
        "Hello, my order is late"
    );

    let res = app
        .agent_post(
            &alex.token,
            &format!("/api/v1/chat/sessions/{session_id}/assign"),
            None,
        )
        .await;
    assert_eq!(res.status().as_u16(), 200);
    let assigned: Value = ok(res.json().await);
    assert_eq!(assigned["session"]["status"], "open");
    assert_eq!(assigned["session"]["assigned_agent"]["name"], "Alex");

    let reply = app
        .agent_message(&alex, &session_id, "Sorry! Checking now.")
        .await;
    assert_eq!(reply["message"]["seq"], 2);
    assert_eq!(reply["message"]["sender_name"], "Alex");

    let public: Value = ok(app
        .get(&format!("/api/v1/public/chat/sessions/{key}"))
        .await
        .json()
        .await);
    assert_eq!(public["session"]["status"], "open");
    assert_eq!(public["session"]["assigned_agent_name"], "Alex");

    let history = app.customer_messages(&key, 0).await;
    let bodies: Vec<&str> = history.iter().filter_map(|m| m["body"].as_str()).collect();
    assert_eq!(
        bodies,
        vec!["Hello, my order is late", "Sorry! Checking now."]
    );
    let agent_view: Value = ok(app
        .agent_get(
            &alex.token,
            &format!("/api/v1/chat/sessions/{session_id}/messages?after_seq=1"),
        )
        .await
        .json()
        .await);
    assert_eq!(agent_view["messages"].as_array().map(Vec::len), Some(1));
    assert_eq!(agent_view["messages"][0]["seq"], 2);
}

#[tokio::test]
async fn starting_a_session_for_an_unknown_tenant_is_404() {
    let app = spawn_app().await;
    let res = app
        .post_json(
            "/api/v1/public/chat/sessions",
            &json!({ "tenant_id": "nobody-here" }),
        )
        .await;
    assert_eq!(res.status().as_u16(), 404);
}

#[tokio::test]
async fn the_session_key_is_long_random_and_opens_only_its_session() {
    let app = spawn_app().await;
    app.create_tenant("acme", &[]).await;
    let (k1, s1) = app.start_session("acme", "Ada").await;
    let (k2, _) = app.start_session("acme", "Bob").await;
    assert_ne!(k1, k2);
    assert!(k1.len() >= 32, "key too short: {k1}");
    let body: Value = ok(app
        .get(&format!("/api/v1/public/chat/sessions/{k1}"))
        .await
        .json()
        .await);
    assert_eq!(body["session"]["id"], s1.as_str());
    assert_eq!(
        app.get("/api/v1/public/chat/sessions/not-a-key")
            .await
            .status()
            .as_u16(),
        404
    );
}

#[tokio::test]
async fn after_seq_and_limit_page_through_messages() {
    let app = spawn_app().await;
    app.create_tenant("acme", &[]).await;
    let (key, _) = app.start_session("acme", "Ada").await;
    for i in 1..=5 {
        app.post_message(&key, &format!("m{i}"), None).await;
    }
    let page: Value = ok(app
        .get(&format!(
            "/api/v1/public/chat/sessions/{key}/messages?after_seq=2&limit=2"
        ))
        .await
        .json()
        .await);
    let seqs: Vec<i64> = page["messages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| m["seq"].as_i64())
        .collect();
    assert_eq!(seqs, vec![3, 4]);
}

#[tokio::test]
async fn a_transfer_moves_the_session_to_another_agent() {
    let app = spawn_app().await;
    app.create_tenant("acme", &[]).await;
    let a = app.create_agent("acme", "a@acme.test", "Alex").await;
    let b = app.create_agent("acme", "b@acme.test", "Bea").await;
    let (_, sid) = app.start_session("acme", "Ada").await;
    app.agent_post(
        &a.token,
        &format!("/api/v1/chat/sessions/{sid}/assign"),
        None,
    )
    .await;
    let res = app
        .agent_post(
            &a.token,
            &format!("/api/v1/chat/sessions/{sid}/assign"),
            Some(&json!({ "agent_id": b.id })),
        )
        .await;
    assert_eq!(res.status().as_u16(), 200);
    let body: Value = ok(res.json().await);
    assert_eq!(body["session"]["assigned_agent"]["id"], b.id.as_str());
    let mine: Value = ok(app
        .agent_get(&b.token, "/api/v1/chat/sessions?assigned=me")
        .await
        .json()
        .await);
    assert_eq!(mine["sessions"].as_array().map(Vec::len), Some(1));
    let a_mine: Value = ok(app
        .agent_get(&a.token, "/api/v1/chat/sessions?assigned=me")
        .await
        .json()
        .await);
    assert_eq!(a_mine["sessions"].as_array().map(Vec::len), Some(0));
}

#[tokio::test]
async fn a_closed_session_refuses_messages_until_reopened() {
    let app = spawn_app().await;
    app.create_tenant("acme", &[]).await;
    let a = app.create_agent("acme", "a@acme.test", "Alex").await;
    let (key, sid) = app.start_session("acme", "Ada").await;
    let closed = app
        .agent_post(
            &a.token,
            &format!("/api/v1/chat/sessions/{sid}/close"),
            None,
        )
        .await;
    assert_eq!(closed.status().as_u16(), 200);
    let again = app
        .agent_post(
            &a.token,
            &format!("/api/v1/chat/sessions/{sid}/close"),
            None,
        )
        .await;
    assert_eq!(again.status().as_u16(), 409);
    let refused = app.post_message(&key, "hello?", None).await;
    assert_eq!(refused.status().as_u16(), 409);
    let body: Value = ok(refused.json().await);
    assert_eq!(body["error"]["code"], "session_closed");
    let reopened: Value = ok(app
        .agent_post(
            &a.token,
            &format!("/api/v1/chat/sessions/{sid}/reopen"),
            None,
        )
        .await
        .json()
        .await);
    assert_eq!(reopened["session"]["status"], "pending");
    assert_eq!(
        app.post_message(&key, "hello?", None)
            .await
            .status()
            .as_u16(),
        201
    );
}

#[tokio::test]
async fn search_finds_by_name_email_and_message_text_with_literal_wildcards() {
    let app = spawn_app().await;
    app.create_tenant("acme", &[]).await;
    let a = app.create_agent("acme", "a@acme.test", "Alex").await;
    let (k1, s1) = app.start_session("acme", "Ada Lovelace").await;
    let (k2, s2) = app.start_session("acme", "Bob").await;
    app.post_message(&k1, "I want a refund", None).await;
    app.post_message(&k2, "50% discount?", None).await;
    let ids = |v: Value| -> Vec<String> {
        v["sessions"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| s["id"].as_str().map(str::to_owned))
            .collect()
    };
    let by_name = ids(ok(app
        .agent_get(&a.token, "/api/v1/chat/sessions?q=lovelace")
        .await
        .json()
        .await));
    assert_eq!(by_name, vec![s1.clone()]);
    let by_text = ids(ok(app
        .agent_get(&a.token, "/api/v1/chat/sessions?q=REFUND")
        .await
        .json()
        .await));
    assert_eq!(by_text, vec![s1.clone()]);
    let literal = ids(ok(app
        .agent_get(&a.token, "/api/v1/chat/sessions?q=50%25")
        .await
        .json()
        .await));
    assert_eq!(literal, vec![s2.clone()]);
    let none = ids(ok(app
        .agent_get(&a.token, "/api/v1/chat/sessions?q=_")
        .await
        .json()
        .await));
    assert!(none.is_empty(), "{none:?}");
    let sorted = ids(ok(app
        .agent_get(&a.token, "/api/v1/chat/sessions")
        .await
        .json()
        .await));
    assert_eq!(sorted, vec![s2, s1], "newest activity first");
}
