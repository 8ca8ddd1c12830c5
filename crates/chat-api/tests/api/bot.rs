//! The bot and its knowledge base over the real server.

use chat_domain::Role;
use serde_json::{Value, json};

use crate::helpers::{TestAgent, TestApp, ok, spawn_app_with};

async fn app_with_bot() -> (TestApp, TestAgent) {
    app_with_bot_and(|_| {}).await
}

async fn app_with_bot_and(
    configure: impl FnOnce(&mut chat_api::configuration::Settings),
) -> (TestApp, TestAgent) {
    let app = spawn_app_with(configure).await;
    app.create_tenant("acme", &[]).await;
    let admin = app
        .create_agent_with_role("acme", "boss@acme.test", "Boss", Role::Admin)
        .await;
    let res = app
        .agent_post(&admin.token, "/api/v1/kb/articles", Some(&json!({
            "title": "Opening hours",
            "body": "We are open Monday to Friday from 8:00 to 20:00. We are closed on Sundays.",
            "keywords": ["hours", "open"]
        })))
        .await;
    assert_eq!(res.status().as_u16(), 201);
    let put = ok(app
        .client
        .put(format!("{}/api/v1/bot", app.address))
        .bearer_auth(&admin.token)
        .json(&json!({ "mode": "knowledge_base", "name": "Robo" }))
        .send()
        .await);
    assert_eq!(put.status().as_u16(), 200);
    (app, admin)
}

#[tokio::test]
async fn the_customer_is_acknowledged_first_and_the_bot_answer_follows_as_its_own_event() {
    let (app, admin) = app_with_bot().await;
    let (key, _) = app.start_session("acme", "Ada").await;
    let mut agent = app.agent_ws(&admin).await;
    let mut ws = app.customer_ws(&key).await;
    ws.send(
        "chat.message.send",
        json!({ "body": "What are your opening hours?", "client_msg_id": "q1" }),
    )
    .await;
    assert_eq!(ws.expect("chat.message.ack").await["message"]["seq"], 1);
    assert_eq!(ws.expect("chat.message.new").await["seq"], 1);
    let bot = ws.expect("chat.message.new").await;
    assert_eq!(
        (
            bot["sender_type"].as_str(),
            bot["sender_name"].as_str(),
            bot["seq"].as_i64()
        ),
        (Some("bot"), Some("Robo"), Some(2))
    );
    assert!(
        bot["body"]
            .as_str()
            .is_some_and(|b| b.contains("Monday to Friday") && b.contains("Opening hours")),
        "{bot}"
    );
    assert_eq!(agent.expect("chat.message.new").await["seq"], 1);
    assert_eq!(agent.expect("chat.message.new").await["sender_type"], "bot");
    // It survives reconnects like every message.
    let stored = app.customer_messages(&key, 1).await;
    assert_eq!(stored[0]["sender_type"], "bot");
}

#[tokio::test]
async fn asking_for_a_person_hands_off_once_and_notifies_the_agents() {
    let (app, admin) = app_with_bot().await;
    let (key, sid) = app.start_session("acme", "Ada").await;
    let mut agent = app.agent_ws(&admin).await;
    let mut ws = app.customer_ws(&key).await;
    app.post_message(&key, "I want to talk to a human", None)
        .await;
    assert_eq!(ws.expect("chat.message.new").await["seq"], 1);
    let handoff = ws.expect("chat.message.new").await;
    assert_eq!(handoff["sender_type"], "bot");
    assert_eq!(agent.expect("chat.message.new").await["seq"], 1);
    assert_eq!(agent.expect("chat.message.new").await["sender_type"], "bot");
    let note = agent.expect("chat.bot.handoff").await;
    assert_eq!(note, json!({ "session_id": sid, "reason": "requested" }));
    // Silent from now on, even for a question it could answer; the session
    // waits for an agent.
    app.post_message(&key, "What are your opening hours?", None)
        .await;
    assert_eq!(ws.expect("chat.message.new").await["seq"], 3);
    let session: Value = ok(app
        .agent_get(&admin.token, &format!("/api/v1/chat/sessions/{sid}"))
        .await
        .json()
        .await);
    assert_eq!(session["session"]["status"], "pending");
    // A fence: the next thing the customer sees is an agent's message, not a bot's.
    app.agent_message(&admin, &sid, "Hi, I'm here").await;
    assert_eq!(ws.expect("chat.message.new").await["sender_type"], "agent");
}

#[tokio::test]
async fn the_knowledge_base_is_for_admins_and_tenant_scoped() {
    let (app, admin) = app_with_bot().await;
    let agent = app.create_agent("acme", "a@acme.test", "Alex").await;
    assert_eq!(
        app.agent_get(&agent.token, "/api/v1/kb/articles")
            .await
            .status()
            .as_u16(),
        403
    );
    assert_eq!(
        app.agent_post(
            &agent.token,
            "/api/v1/kb/articles",
            Some(&json!({ "title": "x", "body": "y" }))
        )
        .await
        .status()
        .as_u16(),
        403
    );
    let list: Value = ok(app
        .agent_get(&admin.token, "/api/v1/kb/articles")
        .await
        .json()
        .await);
    let id = list["articles"][0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let put = ok(app
        .client
        .put(format!("{}/api/v1/kb/articles/{id}", app.address))
        .bearer_auth(&admin.token)
        .json(&json!({ "title": "Hours", "body": "Open daily.", "keywords": ["hours"] }))
        .send()
        .await);
    assert_eq!(put.status().as_u16(), 200);
    let bad = app
        .agent_post(
            &admin.token,
            "/api/v1/kb/articles",
            Some(&json!({ "title": "", "body": "y" })),
        )
        .await;
    assert_eq!(bad.status().as_u16(), 422);

    app.create_tenant("globex", &[]).await;
    let other = app
        .create_agent_with_role("globex", "g@globex.test", "Gil", Role::Admin)
        .await;
    assert_eq!(
        app.agent_get(&other.token, &format!("/api/v1/kb/articles/{id}"))
            .await
            .status()
            .as_u16(),
        404
    );
    let del = ok(app
        .client
        .delete(format!("{}/api/v1/kb/articles/{id}", app.address))
        .bearer_auth(&other.token)
        .send()
        .await);
    assert_eq!(del.status().as_u16(), 404);
    let del = ok(app
        .client
        .delete(format!("{}/api/v1/kb/articles/{id}", app.address))
        .bearer_auth(&admin.token)
        .send()
        .await);
    assert_eq!(del.status().as_u16(), 204);
}

#[tokio::test]
async fn the_bot_hands_off_once_its_budget_for_the_session_is_spent() {
    let (app, admin) = app_with_bot_and(|s| s.bot.max_answers_per_session = Some(2)).await;
    let (key, _) = app.start_session("acme", "Ada").await;
    let mut agent = app.agent_ws(&admin).await;
    let mut ws = app.customer_ws(&key).await;
    let mut bot_bodies = Vec::new();
    for i in 0..3 {
        ws.send(
            "chat.message.send",
            json!({ "body": "What are your opening hours?", "client_msg_id": format!("q{i}") }),
        )
        .await;
        ws.expect("chat.message.ack").await;
        ws.expect("chat.message.new").await;
        let bot = ws.expect("chat.message.new").await;
        assert_eq!(bot["sender_type"], "bot");
        bot_bodies.push(bot["body"].as_str().unwrap_or_default().to_owned());
    }
    assert!(
        bot_bodies[..2]
            .iter()
            .all(|b| b.contains("Monday to Friday"))
    );
    assert!(
        !bot_bodies[2].contains("Monday to Friday"),
        "{}",
        bot_bodies[2]
    );
    let handoff = loop {
        let f = agent.next_event().await;
        if f["type"] == "chat.bot.handoff" {
            break f;
        }
    };
    assert_eq!(handoff["payload"]["reason"], "budget");
}
