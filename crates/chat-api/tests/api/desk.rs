//! The agents' daily tools: canned replies, labels, private notes and
//! mentions.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestAgent, TestApp, WsClient, ok, spawn_app_with, without_request_limits};

async fn nothing_pending(ws: &mut WsClient) {
    ws.send("ping", json!({})).await;
    let f = ws.next_event().await;
    assert_eq!(f["type"], "pong", "unexpected frame {f}");
}

struct Team {
    app: TestApp,
    admin: TestAgent,
    alex: TestAgent,
    bea: TestAgent,
    stranger: TestAgent,
}

async fn team() -> Team {
    let app = spawn_app_with(without_request_limits).await;
    app.create_tenant("acme", &[]).await;
    app.create_tenant("globex", &[]).await;
    let admin = app
        .create_agent_with_role(
            "acme",
            "boss@acme.test",
            "Boss Hogg",
            chat_domain::Role::Admin,
        )
        .await;
    let alex = app.create_agent("acme", "alex@acme.test", "Alex Kim").await;
    let bea = app.create_agent("acme", "bea@acme.test", "Bea Lu").await;
    let stranger = app
        .create_agent_with_role("globex", "gus@globex.test", "Gus", chat_domain::Role::Admin)
        .await;
    Team {
        app,
        admin,
        alex,
        bea,
        stranger,
    }
}

#[tokio::test]
async fn admins_manage_canned_replies_and_every_agent_reads_them() {
    let t = team().await;
    let reply = json!({ "shortcut": "refund", "title": "Refunds", "body": "Hi {{customer.name}}, refunds take 5 days. {{agent.name}}" });
    let (status, created) = t
        .app
        .call(
            &t.admin,
            Method::POST,
            "/api/v1/canned-replies",
            Some(reply.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["canned_reply"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert_eq!(created["canned_reply"]["shortcut"], "refund");

    let (status, _) = t
        .app
        .call(
            &t.alex,
            Method::POST,
            "/api/v1/canned-replies",
            Some(json!({ "shortcut": "x", "title": "x", "body": "x" })),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, dup) = t
        .app
        .call(
            &t.admin,
            Method::POST,
            "/api/v1/canned-replies",
            Some(reply),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{dup}");
    for bad in [
        json!({ "shortcut": "Has Space", "title": "t", "body": "b" }),
        json!({ "shortcut": "ok", "title": "", "body": "b" }),
        json!({ "shortcut": "ok", "title": "t" }),
    ] {
        let (status, e) = t
            .app
            .call(
                &t.admin,
                Method::POST,
                "/api/v1/canned-replies",
                Some(bad.clone()),
            )
            .await;
        assert!(status.is_client_error(), "{bad}: {status}");
        assert!(e["error"]["code"].is_string(), "{e}");
    }
    t.app
        .call(
            &t.admin,
            Method::POST,
            "/api/v1/canned-replies",
            Some(json!({ "shortcut": "hello", "title": "Hello", "body": "Hello!" })),
        )
        .await;

    let (status, list) = t
        .app
        .call(&t.alex, Method::GET, "/api/v1/canned-replies", None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let shortcuts: Vec<&str> = list["canned_replies"]
        .as_array()
        .map(|a| a.iter().filter_map(|c| c["shortcut"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(shortcuts, vec!["hello", "refund"]);

    let path = format!("/api/v1/canned-replies/{id}");
    let (status, updated) = t
        .app
        .call(
            &t.admin,
            Method::PUT,
            &path,
            Some(json!({ "shortcut": "refunds", "title": "Refunds", "body": "Five days." })),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(updated["canned_reply"]["shortcut"], "refunds");
    // Another tenant's admin: 404, as for a missing one.
    let (status, _) = t
        .app
        .call(
            &t.stranger,
            Method::PUT,
            &path,
            Some(json!({ "shortcut": "mine", "title": "t", "body": "b" })),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = t.app.call(&t.stranger, Method::DELETE, &path, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = t.app.call(&t.admin, Method::DELETE, &path, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = t.app.call(&t.admin, Method::DELETE, &path, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, theirs) = t
        .app
        .call(&t.stranger, Method::GET, "/api/v1/canned-replies", None)
        .await;
    assert_eq!(theirs["canned_replies"], json!([]));
}

#[tokio::test]
async fn labels_are_set_filtered_and_announced_to_agents_only() {
    let t = team().await;
    for (name, color) in [("billing", "#ff0000"), ("vip", "#00AA00")] {
        let (status, l) = t
            .app
            .call(
                &t.admin,
                Method::POST,
                "/api/v1/labels",
                Some(json!({ "name": name, "color": color })),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{l}");
    }
    let (status, _) = t
        .app
        .call(
            &t.admin,
            Method::POST,
            "/api/v1/labels",
            Some(json!({ "name": "vip" })),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, _) = t
        .app
        .call(
            &t.alex,
            Method::POST,
            "/api/v1/labels",
            Some(json!({ "name": "mine" })),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = t
        .app
        .call(
            &t.admin,
            Method::POST,
            "/api/v1/labels",
            Some(json!({ "name": "Not OK" })),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (_, list) = t
        .app
        .call(&t.alex, Method::GET, "/api/v1/labels", None)
        .await;
    assert_eq!(list["labels"][1]["color"], "#00aa00");

    let (key, sid) = t.app.start_session("acme", "Ada").await;
    let (_, other) = t.app.start_session("acme", "Bob").await;
    let mut customer = t.app.customer_ws(&key).await;
    let mut bea = t.app.agent_ws(&t.bea).await;
    let path = format!("/api/v1/chat/sessions/{sid}/labels");
    let (status, s) = t
        .app
        .call(
            &t.alex,
            Method::PUT,
            &path,
            Some(json!({ "labels": ["vip", "billing", "vip"] })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{s}");
    assert_eq!(s["session"]["labels"], json!(["billing", "vip"]));
    let ev = bea.until("chat.session.updated").await;
    assert_eq!(ev["session_id"], sid.as_str());
    assert_eq!(ev["session"]["labels"], json!(["billing", "vip"]));
    nothing_pending(&mut customer).await;

    let (status, e) = t
        .app
        .call(
            &t.alex,
            Method::PUT,
            &path,
            Some(json!({ "labels": ["nope"] })),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{e}");
    assert_eq!(e["error"]["code"], "unknown_label");
    let (status, _) = t
        .app
        .call(
            &t.stranger,
            Method::PUT,
            &path,
            Some(json!({ "labels": [] })),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let ids = |v: Value| -> Vec<String> {
        v["sessions"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|s| s["id"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let (_, billing) = t
        .app
        .call(
            &t.bea,
            Method::GET,
            "/api/v1/chat/sessions?label=billing",
            None,
        )
        .await;
    assert_eq!(ids(billing), vec![sid.clone()]);
    let (_, all) = t
        .app
        .call(&t.bea, Method::GET, "/api/v1/chat/sessions", None)
        .await;
    assert_eq!(ids(all).len(), 2);
    assert!(!sid.is_empty() && !other.is_empty());
    // Clearing them.
    t.app
        .call(&t.alex, Method::PUT, &path, Some(json!({ "labels": [] })))
        .await;
    let (_, billing) = t
        .app
        .call(
            &t.bea,
            Method::GET,
            "/api/v1/chat/sessions?label=billing",
            None,
        )
        .await;
    assert!(ids(billing).is_empty());
    // The customer's view has no labels.
    let public: Value = ok(t
        .app
        .get(&format!("/api/v1/public/chat/sessions/{key}"))
        .await
        .json()
        .await);
    assert!(public["session"].get("labels").is_none(), "{public}");
}

#[tokio::test]
async fn a_note_never_reaches_the_customer_and_leaves_seq_gapless() {
    let t = team().await;
    let (key, sid) = t.app.start_session("acme", "Ada").await;
    t.app.post_message(&key, "first", None).await;
    let mut customer = t.app.customer_ws(&key).await;
    let mut alex = t.app.agent_ws(&t.alex).await;
    let mut bea = t.app.agent_ws(&t.bea).await;

    // Over REST, mentioning Bea; and over the socket.
    let (status, n) = t
        .app
        .call(
            &t.alex,
            Method::POST,
            &format!("/api/v1/chat/sessions/{sid}/notes"),
            Some(json!({ "body": "INTERNAL: refund approved, @bea please check" })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{n}");
    assert_eq!(n["note"]["after_seq"], 1);
    assert_eq!(n["note"]["author_name"], "Alex Kim");
    let mention = bea.until("chat.mention").await;
    assert_eq!(mention["session_id"], sid.as_str());
    assert_eq!(mention["by"], "Alex Kim");
    assert_eq!(mention["note"]["id"], n["note"]["id"]);
    let seen = alex.until("chat.note.new").await;
    assert_eq!(seen["body"], "INTERNAL: refund approved, @bea please check");
    alex.send(
        "chat.note.send",
        json!({ "session_id": sid, "body": "INTERNAL two" }),
    )
    .await;
    assert_eq!(alex.until("chat.note.new").await["body"], "INTERNAL two");
    nothing_pending(&mut alex).await; // no mention of its own author

    // The customer: no event, and the thread goes on at seq 2.
    nothing_pending(&mut customer).await;
    let res = t.app.post_message(&key, "second", None).await;
    let m: Value = ok(res.json().await);
    assert_eq!(m["message"]["seq"], 2);
    let seqs: Vec<i64> = t
        .app
        .customer_messages(&key, 0)
        .await
        .iter()
        .filter_map(|m| m["seq"].as_i64())
        .collect();
    assert_eq!(seqs, vec![1, 2]);
    let bodies: Vec<String> = t
        .app
        .customer_messages(&key, 0)
        .await
        .iter()
        .map(|m| m["body"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert!(bodies.iter().all(|b| !b.contains("INTERNAL")), "{bodies:?}");
    customer
        .send("chat.resume", json!({ "after_seq": 0 }))
        .await;
    loop {
        let f = customer.next_event().await;
        assert_ne!(f["type"], "chat.note.new", "{f}");
        assert!(!f.to_string().contains("INTERNAL"), "{f}");
        if f["type"] == "chat.resume.done" {
            break;
        }
    }
    let transcript = ok(t
        .app
        .get(&format!("/api/v1/public/chat/sessions/{key}/transcript"))
        .await
        .text()
        .await);
    assert!(
        transcript.contains("second") && !transcript.contains("INTERNAL"),
        "{transcript}"
    );
    customer
        .send(
            "chat.note.send",
            json!({ "session_id": sid, "body": "sneaky" }),
        )
        .await;
    assert_eq!(customer.expect("error").await["code"], "forbidden");

    // Agents: the notes by REST, and in a resume.
    let (_, notes) = t
        .app
        .call(
            &t.bea,
            Method::GET,
            &format!("/api/v1/chat/sessions/{sid}/notes"),
            None,
        )
        .await;
    assert_eq!(notes["notes"].as_array().map(Vec::len), Some(2));
    let mut later = t.app.agent_ws(&t.bea).await;
    later
        .send("chat.resume", json!({ "session_id": sid, "after_seq": 1 }))
        .await;
    let mut replayed = Vec::new();
    loop {
        let f = later.next_event().await;
        if f["type"] == "chat.resume.done" {
            break;
        }
        replayed.push(f["type"].as_str().unwrap_or_default().to_owned());
    }
    assert_eq!(
        replayed,
        vec!["chat.message.new", "chat.note.new", "chat.note.new"]
    );
    // Another tenant: nothing.
    let (status, _) = t
        .app
        .call(
            &t.stranger,
            Method::GET,
            &format!("/api/v1/chat/sessions/{sid}/notes"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = t
        .app
        .call(
            &t.stranger,
            Method::POST,
            &format!("/api/v1/chat/sessions/{sid}/notes"),
            Some(json!({ "body": "x" })),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = t
        .app
        .call(
            &t.alex,
            Method::POST,
            &format!("/api/v1/chat/sessions/{sid}/notes"),
            Some(json!({ "body": "  " })),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn mentions_go_to_the_mentioned_agent_only() {
    let t = team().await;
    let (_, sid) = t.app.start_session("acme", "Ada").await;
    let mut alex = t.app.agent_ws(&t.alex).await;
    let mut bea = t.app.agent_ws(&t.bea).await;
    t.app
        .call(
            &t.admin,
            Method::POST,
            &format!("/api/v1/chat/sessions/{sid}/notes"),
            Some(json!({ "body": "@Alex Kim can you take this?" })),
        )
        .await;
    assert_eq!(alex.until("chat.mention").await["by"], "Boss Hogg");
    // Bea sees the note, and no mention.
    bea.until("chat.note.new").await;
    nothing_pending(&mut bea).await;
}
