//! The bot and its knowledge base over the real server.

use chat_domain::Role;
use reqwest::Method;
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
    assert_eq!(
        (&note["session_id"], &note["reason"]),
        (&json!(sid), &json!("requested"))
    );
    assert!(note["suggestions"].is_array(), "{note}");
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

/// The demo help centre's articles, saved through the API.
async fn help_centre(app: &TestApp, admin: &TestAgent) {
    for a in chat_api::admin::parse_jsonl(chat_api::demo::HELP_CENTRE).unwrap_or_default() {
        let (status, _) = app
            .call(
                admin,
                Method::POST,
                "/api/v1/kb/articles",
                Some(json!({ "title": a.title, "body": a.body, "keywords": a.keywords })),
            )
            .await;
        assert_eq!(status.as_u16(), 201);
    }
}

#[tokio::test]
async fn a_handoff_brings_the_agents_suggested_articles_with_passages_to_insert() {
    let (app, admin) = app_with_bot().await;
    help_centre(&app, &admin).await;
    let (key, sid) = app.start_session("acme", "Ada").await;
    let mut agent = app.agent_ws(&admin).await;
    app.post_message(
        &key,
        "can I talk to a person about getting my money back",
        None,
    )
    .await;
    let handoff = loop {
        let f = agent.next_event().await;
        if f["type"] == "chat.bot.handoff" {
            break f["payload"].clone();
        }
    };
    assert_eq!(handoff["reason"], "requested");
    let suggestions = handoff["suggestions"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!((1..=3).contains(&suggestions.len()), "{handoff}");
    assert_eq!(suggestions[0]["title"], "Returns and refunds", "{handoff}");
    assert!(
        suggestions[0]["passage"]
            .as_str()
            .is_some_and(|p| p.contains("refund")),
        "{handoff}"
    );
    // The same, asked for when the conversation is opened later.
    let (status, body) = app
        .call(
            &admin,
            Method::GET,
            &format!("/api/v1/chat/sessions/{sid}/suggestions"),
            None,
        )
        .await;
    assert_eq!(status.as_u16(), 200);
    assert_eq!(
        body["question"],
        "can I talk to a person about getting my money back"
    );
    assert_eq!(
        body["suggestions"][0]["article_id"],
        suggestions[0]["article_id"]
    );
    assert!(
        body["suggestions"][0]["score"]
            .as_f64()
            .is_some_and(|s| s > 0.0 && s <= 1.0)
    );

    // Another tenant's conversation is not found; a malformed id is 422.
    app.create_tenant("globex", &[]).await;
    let other = app.create_agent("globex", "g@globex.test", "Gil").await;
    let (status, err) = app
        .call(
            &other,
            Method::GET,
            &format!("/api/v1/chat/sessions/{sid}/suggestions"),
            None,
        )
        .await;
    assert_eq!(status.as_u16(), 404, "{err}");
    assert!(err["error"]["code"].is_string());
}

#[tokio::test]
async fn an_uncovered_reply_becomes_a_draft_the_bot_ignores_until_an_admin_publishes_it() {
    let (app, admin) = app_with_bot().await;
    let agent = app.create_agent("acme", "a@acme.test", "Alex").await;
    // A reply that the opening-hours article says is covered; one about
    // something no article says is not.
    let (status, covered) = app
        .call(
            &agent,
            Method::POST,
            "/api/v1/kb/coverage",
            Some(json!({ "body": "We're open Monday to Friday 8 to 20, closed on Sundays." })),
        )
        .await;
    assert_eq!(status.as_u16(), 200);
    assert_eq!(covered["covered"], true, "{covered}");
    assert_eq!(covered["article"]["title"], "Opening hours");
    let answer = "Yes, we gift-wrap any order for 3.50: tick the gift box option at checkout.";
    let (_, uncovered) = app
        .call(
            &agent,
            Method::POST,
            "/api/v1/kb/coverage",
            Some(json!({ "body": answer })),
        )
        .await;
    assert_eq!(uncovered, json!({ "covered": false, "article": null }));
    let (status, err) = app
        .call(
            &agent,
            Method::POST,
            "/api/v1/kb/coverage",
            Some(json!({ "body": " " })),
        )
        .await;
    assert_eq!(status.as_u16(), 422, "{err}");

    // The question the agent answered becomes the draft's title.
    let (key, sid) = app.start_session("acme", "Ada").await;
    app.post_message(&key, "do you do gift wrapping?", None)
        .await;
    let (status, draft) = app
        .call(
            &agent,
            Method::POST,
            "/api/v1/kb/drafts",
            Some(json!({ "session_id": sid, "body": answer })),
        )
        .await;
    assert_eq!(status.as_u16(), 201, "{draft}");
    assert_eq!(draft["article"]["title"], "do you do gift wrapping?");
    assert_eq!(draft["article"]["draft"], true);
    let id = draft["article"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let (status, _) = app
        .call(
            &agent,
            Method::POST,
            "/api/v1/kb/drafts",
            Some(json!({ "session_id": "not-a-session", "body": answer })),
        )
        .await;
    assert!(matches!(status.as_u16(), 404 | 422));

    // A draft is not used by the bot: the same question hands off.
    let (key2, _) = app.start_session("acme", "Bo").await;
    let mut ws = app.customer_ws(&key2).await;
    app.post_message(&key2, "do you do gift wrapping?", None)
        .await;
    ws.expect("chat.message.new").await;
    let reply = ws.expect("chat.message.new").await;
    assert!(
        !reply["body"]
            .as_str()
            .unwrap_or_default()
            .contains("gift box"),
        "{reply}"
    );

    // The admin edits and publishes it; now the bot answers from it.
    let (status, published) = app
        .call(
            &admin,
            Method::PUT,
            &format!("/api/v1/kb/articles/{id}"),
            Some(json!({
                "title": "Gift wrapping",
                "body": answer,
                "keywords": ["gift wrap", "gift wrapping"],
                "draft": false
            })),
        )
        .await;
    assert_eq!(status.as_u16(), 200);
    assert_eq!(published["article"]["draft"], false);
    let (key3, _) = app.start_session("acme", "Cy").await;
    let mut ws = app.customer_ws(&key3).await;
    app.post_message(&key3, "can you gift wrap my order?", None)
        .await;
    ws.expect("chat.message.new").await;
    let reply = ws.expect("chat.message.new").await;
    assert_eq!(reply["sender_type"], "bot");
    assert!(
        reply["body"]
            .as_str()
            .unwrap_or_default()
            .contains("gift box"),
        "{reply}"
    );
}

#[tokio::test]
async fn a_german_tenants_bot_reads_and_answers_in_german() {
    let app = spawn_app_with(|_| {}).await;
    app.create_tenant("hallo", &[]).await;
    let admin = app
        .create_agent_with_role("hallo", "chef@hallo.test", "Chef", Role::Admin)
        .await;
    for (path, body) in [
        ("/api/v1/settings/widget", json!({ "locale": "de-DE" })),
        (
            "/api/v1/bot",
            json!({ "mode": "knowledge_base", "name": "Robo" }),
        ),
    ] {
        let (status, b) = app.call(&admin, Method::PUT, path, Some(body)).await;
        assert_eq!(status.as_u16(), 200, "{b}");
    }
    for (title, body, keywords) in [
        (
            "Rücksendungen und Erstattungen",
            "Sie können jeden Artikel innerhalb von 30 Tagen zurückschicken. Die Erstattung erfolgt innerhalb von 5 Werktagen auf die ursprüngliche Zahlungsart.",
            json!(["rücksendung", "erstattung"]),
        ),
        (
            "Öffnungszeiten",
            "Unser Team ist montags bis freitags von 8 bis 20 Uhr für Sie da. Sonntags und an Feiertagen haben wir geschlossen.",
            json!(["öffnungszeiten", "erreichbar"]),
        ),
    ] {
        let (status, _) = app
            .call(
                &admin,
                Method::POST,
                "/api/v1/kb/articles",
                Some(json!({ "title": title, "body": body, "keywords": keywords })),
            )
            .await;
        assert_eq!(status.as_u16(), 201);
    }
    let (key, _) = app.start_session("hallo", "Anna").await;
    let mut ws = app.customer_ws(&key).await;
    // German stemming ("Rücksendungen" → "rücksend") and the German lexicon
    // ("Geld zurück" → "Erstattung").
    app.post_message(
        &key,
        "Ich möchte mein Geld zurück, wie lange dauert die Erstattung?",
        None,
    )
    .await;
    ws.expect("chat.message.new").await;
    let answer = ws.expect("chat.message.new").await;
    assert_eq!(answer["sender_type"], "bot");
    let text = answer["body"].as_str().unwrap_or_default();
    assert!(text.contains("5 Werktagen"), "{text}");
    assert!(text.contains("Aus unserem Hilfe-Center"), "{text}");
    // A request for a person, in German, is handed off in German.
    app.post_message(&key, "Ich will mit einem Menschen sprechen", None)
        .await;
    ws.expect("chat.message.new").await;
    let handoff = ws.expect("chat.message.new").await;
    assert_eq!(
        handoff["body"],
        chat_domain::Language::German.handoff_message()
    );
}
