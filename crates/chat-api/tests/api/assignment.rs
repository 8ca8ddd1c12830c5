//! Availability, capacity and automatic assignment: the status switch and
//! its presence events, caps and the tenant default, the queue, and the
//! assignment rules (fewest open first, least recently assigned on a tie,
//! capacity, FIFO drain, exactly once under concurrency).

use std::collections::{HashMap, HashSet};

use futures_util::future::join_all;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestAgent, TestApp, WsClient, ok, spawn_app_with, without_request_limits};

async fn set_status(app: &TestApp, who: &TestAgent, status: &str) -> Value {
    let (code, body) = app
        .call(
            who,
            Method::PUT,
            "/api/v1/agents/me/status",
            Some(json!({ "status": status })),
        )
        .await;
    assert_eq!(code, StatusCode::OK, "{body}");
    body
}

async fn settings(app: &TestApp, admin: &TestAgent, body: Value) -> Value {
    let (code, v) = app
        .call(
            admin,
            Method::PUT,
            "/api/v1/settings/assignment",
            Some(body),
        )
        .await;
    assert_eq!(code, StatusCode::OK, "{v}");
    v
}

async fn agents(app: &TestApp, who: &TestAgent) -> HashMap<String, Value> {
    let (code, v) = app.call(who, Method::GET, "/api/v1/agents", None).await;
    assert_eq!(code, StatusCode::OK, "{v}");
    v["agents"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .map(|a| (a["id"].as_str().unwrap_or_default().to_owned(), a))
        .collect()
}

async fn queue(app: &TestApp, who: &TestAgent) -> Vec<String> {
    let (code, v) = app.call(who, Method::GET, "/api/v1/queue", None).await;
    assert_eq!(code, StatusCode::OK, "{v}");
    let entries = v["queue"].as_array().cloned().unwrap_or_default();
    for (i, e) in entries.iter().enumerate() {
        assert_eq!(e["position"], json!(i + 1), "{e}");
        assert!(e["waiting_seconds"].as_i64().is_some_and(|s| s >= 0), "{e}");
        assert!(e["session"]["queued_at"].is_string(), "{e}");
    }
    entries
        .iter()
        .map(|e| e["session"]["id"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// The next `agent.presence` about this agent.
async fn presence_of(ws: &mut WsClient, agent: &TestAgent) -> Value {
    loop {
        let p = ws.until("agent.presence").await;
        if p["agent_id"] == agent.id.as_str() {
            return p;
        }
    }
}

/// The next assignment an agents' socket hears of: `(session, agent)`.
async fn next_assignment(ws: &mut WsClient) -> (String, String) {
    let p = ws.until("chat.session.assigned").await;
    (
        p["session_id"].as_str().unwrap_or_default().to_owned(),
        p["agent_id"].as_str().unwrap_or_default().to_owned(),
    )
}

struct Team {
    app: TestApp,
    admin: TestAgent,
    alex: TestAgent,
    bea: TestAgent,
    /// An admin who stays away: a socket that watches without taking work.
    watch: WsClient,
}

async fn team(auto: bool, default_max: u32) -> Team {
    let app = spawn_app_with(without_request_limits).await;
    app.create_tenant("acme", &[]).await;
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
    set_status(&app, &admin, "away").await;
    settings(
        &app,
        &admin,
        json!({ "assignment": if auto { "auto" } else { "manual" }, "default_max_concurrent": default_max }),
    )
    .await;
    let watch = app.agent_ws(&admin).await;
    Team {
        app,
        admin,
        alex,
        bea,
        watch,
    }
}

#[tokio::test]
async fn the_status_switch_is_announced_with_presence_and_listed() {
    let mut t = team(false, 5).await;
    let mut alex_ws = t.app.agent_ws(&t.alex).await;
    let came = presence_of(&mut t.watch, &t.alex).await;
    assert_eq!(
        (&came["agent_id"], &came["online"], &came["status"]),
        (&json!(t.alex.id), &json!(true), &json!("online"))
    );

    let me = set_status(&t.app, &t.alex, "away").await;
    assert_eq!(me["agent"]["status"], "away");
    let away = presence_of(&mut t.watch, &t.alex).await;
    assert_eq!(
        (&away["agent_id"], &away["online"], &away["status"]),
        (&json!(t.alex.id), &json!(true), &json!("away"))
    );
    let listed = agents(&t.app, &t.bea).await;
    assert_eq!(listed[&t.alex.id]["status"], "away");
    assert_eq!(listed[&t.alex.id]["online"], true);
    assert_eq!(listed[&t.bea.id]["status"], "online");
    assert_eq!(listed[&t.bea.id]["online"], false);

    // Away a second time after a socket opened: the socket's later
    // goodbye still says away.
    set_status(&t.app, &t.alex, "busy").await;
    assert_eq!(presence_of(&mut t.watch, &t.alex).await["status"], "busy");
    drop(alex_ws.stream.close(None).await);
    let gone = presence_of(&mut t.watch, &t.alex).await;
    assert_eq!(
        (&gone["agent_id"], &gone["online"], &gone["status"]),
        (&json!(t.alex.id), &json!(false), &json!("busy"))
    );
    // Status survives reconnecting: it belongs to the agent, not the socket.
    let _again = t.app.agent_ws(&t.alex).await;
    let back = presence_of(&mut t.watch, &t.alex).await;
    assert_eq!(
        (&back["online"], &back["status"]),
        (&json!(true), &json!("busy"))
    );

    for bad in [
        json!({ "status": "offline" }),
        json!({ "status": "Online" }),
        json!({}),
        json!({ "status": 1 }),
    ] {
        let (code, e) = t
            .app
            .call(
                &t.alex,
                Method::PUT,
                "/api/v1/agents/me/status",
                Some(bad.clone()),
            )
            .await;
        assert!(code.is_client_error(), "{bad}: {code}");
        assert!(e["error"]["code"].is_string(), "{e}");
    }
}

#[tokio::test]
async fn admins_set_each_agents_cap_and_the_tenants_default() {
    let t = team(false, 5).await;
    let (code, v) = t
        .app
        .call(&t.alex, Method::GET, "/api/v1/settings/assignment", None)
        .await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(
        v,
        json!({ "assignment": "manual", "default_max_concurrent": 5 })
    );

    let path = format!("/api/v1/agents/{}", t.alex.id);
    let (code, v) = t
        .app
        .call(
            &t.admin,
            Method::PATCH,
            &path,
            Some(json!({ "max_concurrent": 2 })),
        )
        .await;
    assert_eq!(code, StatusCode::OK, "{v}");
    assert_eq!(v["agent"]["max_concurrent"], 2);
    let listed = agents(&t.app, &t.bea).await;
    assert_eq!(listed[&t.alex.id]["max_concurrent"], 2);
    assert_eq!(listed[&t.alex.id]["max_concurrent_is_default"], false);
    assert_eq!(listed[&t.bea.id]["max_concurrent"], 5);
    assert_eq!(listed[&t.bea.id]["max_concurrent_is_default"], true);
    assert_eq!(listed[&t.bea.id]["open_conversations"], 0);

    settings(&t.app, &t.admin, json!({ "default_max_concurrent": 3 })).await;
    let (_, v) = t
        .app
        .call(&t.bea, Method::GET, "/api/v1/agents", None)
        .await;
    assert_eq!(v["default_max_concurrent"], 3);
    let listed = agents(&t.app, &t.bea).await;
    assert_eq!(listed[&t.bea.id]["max_concurrent"], 3);
    assert_eq!(listed[&t.alex.id]["max_concurrent"], 2);
    // `null` goes back to the default.
    let (code, _) = t
        .app
        .call(
            &t.admin,
            Method::PATCH,
            &path,
            Some(json!({ "max_concurrent": null })),
        )
        .await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(
        agents(&t.app, &t.bea).await[&t.alex.id]["max_concurrent"],
        3
    );

    for (who, body, want) in [
        (
            &t.alex,
            json!({ "assignment": "auto" }),
            StatusCode::FORBIDDEN,
        ),
        (
            &t.admin,
            json!({ "assignment": "round-robin" }),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            &t.admin,
            json!({ "default_max_concurrent": 0 }),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            &t.admin,
            json!({ "default_max_concurrent": 101 }),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            &t.admin,
            json!({ "default_max_concurrent": "5" }),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ] {
        let (code, e) = t
            .app
            .call(
                who,
                Method::PUT,
                "/api/v1/settings/assignment",
                Some(body.clone()),
            )
            .await;
        assert_eq!(code, want, "{body}: {e}");
        assert!(e["error"]["code"].is_string(), "{e}");
    }
    for (who, body, want) in [
        (
            &t.bea,
            json!({ "max_concurrent": 4 }),
            StatusCode::FORBIDDEN,
        ),
        (
            &t.admin,
            json!({ "max_concurrent": 0 }),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            &t.admin,
            json!({ "max_concurrent": -3 }),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            &t.admin,
            json!({ "max_concurrent": "2" }),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ] {
        let (code, e) = t
            .app
            .call(who, Method::PATCH, &path, Some(body.clone()))
            .await;
        assert_eq!(code, want, "{body}: {e}");
        assert!(e["error"]["code"].is_string(), "{e}");
    }
    let (_, v) = t
        .app
        .call(&t.alex, Method::GET, "/api/v1/settings/assignment", None)
        .await;
    assert_eq!(
        v,
        json!({ "assignment": "manual", "default_max_concurrent": 3 })
    );
}

#[tokio::test]
async fn fewest_open_first_ties_to_the_least_recently_assigned_and_caps_hold() {
    let mut t = team(true, 2).await;
    let _alex_ws = t.app.agent_ws(&t.alex).await;
    let _bea_ws = t.app.agent_ws(&t.bea).await;
    // Alex was created first: on the first tie (nobody assigned yet) the
    // lower id goes first, so the order is deterministic.
    let mut got = Vec::new();
    for i in 0..4 {
        let (key, id) = t.app.start_session("acme", &format!("c{i}")).await;
        let (session, agent) = next_assignment(&mut t.watch).await;
        assert_eq!(session, id);
        got.push((key, id, agent));
    }
    let order: Vec<&str> = got.iter().map(|(_, _, a)| a.as_str()).collect();
    assert_eq!(
        order,
        [&t.alex.id, &t.bea.id, &t.alex.id, &t.bea.id].map(String::as_str)
    );
    let listed = agents(&t.app, &t.admin).await;
    assert_eq!(listed[&t.alex.id]["open_conversations"], 2);
    assert_eq!(listed[&t.bea.id]["open_conversations"], 2);

    // Everyone is at the cap: the fifth waits, and its customer is told
    // the moment Alex has room.
    let (key5, id5) = t.app.start_session("acme", "c4").await;
    assert_eq!(queue(&t.app, &t.alex).await, std::slice::from_ref(&id5));
    let mut customer = t.app.customer_ws(&key5).await;
    let (code, _) = t
        .app
        .call(
            &t.alex,
            Method::POST,
            &format!("/api/v1/chat/sessions/{}/close", got[0].1),
            None,
        )
        .await;
    assert_eq!(code, StatusCode::OK);
    let joined = customer.until("chat.agent.joined").await;
    assert_eq!(joined["agent_name"], "Alex Kim");
    let (session, agent) = next_assignment(&mut t.watch).await;
    assert_eq!((session, agent), (id5.clone(), t.alex.id.clone()));
    assert!(queue(&t.app, &t.alex).await.is_empty());
    let (_, s) = t
        .app
        .call(
            &t.admin,
            Method::GET,
            &format!("/api/v1/chat/sessions/{id5}"),
            None,
        )
        .await;
    assert_eq!(s["session"]["status"], "open");
    assert_eq!(s["session"]["queued_at"], Value::Null);
}

#[tokio::test]
async fn the_queue_drains_in_arrival_order_and_only_to_online_agents() {
    let mut t = team(false, 2).await;
    let mut ids = Vec::new();
    for i in 0..3 {
        ids.push(t.app.start_session("acme", &format!("c{i}")).await.1);
    }
    // Manual: nobody is given anything, the queue just shows the order.
    let _bea_ws = t.app.agent_ws(&t.bea).await;
    set_status(&t.app, &t.bea, "busy").await;
    assert_eq!(queue(&t.app, &t.admin).await, ids);

    // Auto with Bea busy: the switch drains nothing until Alex arrives.
    settings(&t.app, &t.admin, json!({ "assignment": "auto" })).await;
    let (code, q) = t
        .app
        .call(&t.admin, Method::GET, "/api/v1/queue", None)
        .await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(q["assignment"], "auto");
    let _alex_ws = t.app.agent_ws(&t.alex).await;
    let first = next_assignment(&mut t.watch).await;
    let second = next_assignment(&mut t.watch).await;
    assert_eq!(
        [first, second],
        [
            (ids[0].clone(), t.alex.id.clone()),
            (ids[1].clone(), t.alex.id.clone())
        ]
    );
    assert_eq!(queue(&t.app, &t.admin).await, &ids[2..]);

    // Bea switches to online: the third goes to her.
    set_status(&t.app, &t.bea, "online").await;
    assert_eq!(
        next_assignment(&mut t.watch).await,
        (ids[2].clone(), t.bea.id.clone())
    );

    // A reopened conversation whose agent went away goes to the next one
    // with room.
    let path = |id: &str, what: &str| format!("/api/v1/chat/sessions/{id}/{what}");
    let (code, _) = t
        .app
        .call(&t.alex, Method::POST, &path(&ids[0], "close"), None)
        .await;
    assert_eq!(code, StatusCode::OK);
    set_status(&t.app, &t.alex, "away").await;
    let (code, v) = t
        .app
        .call(&t.alex, Method::POST, &path(&ids[0], "reopen"), None)
        .await;
    assert_eq!(code, StatusCode::OK, "{v}");
    assert_eq!(v["session"]["status"], "pending");
    assert_eq!(v["session"]["assigned_agent"], Value::Null);
    assert_eq!(
        next_assignment(&mut t.watch).await,
        (ids[0].clone(), t.bea.id.clone())
    );
}

#[tokio::test]
async fn a_conversation_the_bot_hands_off_is_assigned() {
    let mut t = team(true, 5).await;
    let _alex_ws = t.app.agent_ws(&t.alex).await;
    let put = ok(t
        .app
        .client
        .put(format!("{}/api/v1/bot", t.app.address))
        .bearer_auth(&t.admin.token)
        .json(&json!({ "mode": "knowledge_base", "name": "Robo" }))
        .send()
        .await);
    assert_eq!(put.status(), StatusCode::OK);
    let (key, id) = t.app.start_session("acme", "Ann").await;
    // With the bot on, a new conversation is the bot's, not the queue's.
    assert!(queue(&t.app, &t.admin).await.is_empty());
    let res = t
        .app
        .post_message(&key, "I want to talk to a human", None)
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(next_assignment(&mut t.watch).await, (id, t.alex.id.clone()));
}

#[tokio::test]
async fn fifty_arrivals_and_three_agents_at_once_assign_each_conversation_once_within_caps() {
    let mut t = team(true, 5).await;
    let app = &t.app;
    let names: Vec<String> = (0..50).map(|i| format!("c{i}")).collect();
    let started = join_all(names.iter().map(|n| app.start_session("acme", n))).await;
    let waiting = queue(app, &t.admin).await;
    assert_eq!(waiting.len(), 50);
    let all: HashSet<String> = started.into_iter().map(|(_, id)| id).collect();
    assert_eq!(waiting.iter().cloned().collect::<HashSet<_>>(), all);

    let mut team_members = Vec::new();
    for i in 0..3 {
        team_members.push(
            app.create_agent("acme", &format!("a{i}@acme.test"), &format!("Agent {i}"))
                .await,
        );
    }
    // Alex and Bea stay out of it.
    set_status(app, &t.alex, "away").await;
    set_status(app, &t.bea, "away").await;
    let _sockets = join_all(team_members.iter().map(|a| app.agent_ws(a))).await;

    let mut seen: HashMap<String, String> = HashMap::new();
    for _ in 0..15 {
        let (session, agent) = next_assignment(&mut t.watch).await;
        assert!(
            seen.insert(session.clone(), agent).is_none(),
            "{session} assigned twice"
        );
    }
    // The fifteen who waited longest, each agent at exactly the cap.
    let served: HashSet<String> = seen.keys().cloned().collect();
    assert_eq!(served, waiting[..15].iter().cloned().collect());
    let listed = agents(app, &t.admin).await;
    for a in &team_members {
        assert_eq!(listed[&a.id]["open_conversations"], 5, "{}", listed[&a.id]);
    }
    assert_eq!(queue(app, &t.admin).await, waiting[15..].to_vec());

    // One more place: exactly the next one in line.
    let (code, _) = app
        .call(
            &t.admin,
            Method::PATCH,
            &format!("/api/v1/agents/{}", team_members[0].id),
            Some(json!({ "max_concurrent": 6 })),
        )
        .await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(
        next_assignment(&mut t.watch).await,
        (waiting[15].clone(), team_members[0].id.clone())
    );
    assert_eq!(queue(app, &t.admin).await, waiting[16..].to_vec());
}

#[tokio::test]
async fn two_nodes_draining_one_queue_assign_each_conversation_once() {
    let prefix = crate::cluster::Prefix::new();
    let (a, b) = crate::cluster::two_nodes(&prefix, without_request_limits).await;
    a.create_tenant("acme", &[]).await;
    let admin = a
        .create_agent_with_role("acme", "boss@acme.test", "Boss", chat_domain::Role::Admin)
        .await;
    set_status(&a, &admin, "away").await;
    settings(
        &a,
        &admin,
        json!({ "assignment": "auto", "default_max_concurrent": 4 }),
    )
    .await;
    let mut watch = a.agent_ws(&admin).await;
    let names: Vec<String> = (0..30).map(|i| format!("c{i}")).collect();
    // Arrivals on both nodes.
    join_all(names.iter().enumerate().map(|(i, n)| {
        let node = if i % 2 == 0 { &a } else { &b };
        node.start_session("acme", n)
    }))
    .await;
    let waiting = queue(&a, &admin).await;
    assert_eq!(waiting.len(), 30);
    let mut members = Vec::new();
    for i in 0..4 {
        members.push(
            a.create_agent("acme", &format!("a{i}@acme.test"), &format!("Agent {i}"))
                .await,
        );
    }
    // Two agents come online on each node at once: both nodes drain.
    let _sockets = join_all(members.iter().enumerate().map(|(i, m)| {
        let node = if i % 2 == 0 { &a } else { &b };
        node.agent_ws(m)
    }))
    .await;
    let mut seen: HashMap<String, String> = HashMap::new();
    for _ in 0..16 {
        let (session, agent) = next_assignment(&mut watch).await;
        assert!(
            seen.insert(session.clone(), agent).is_none(),
            "{session} assigned twice"
        );
    }
    assert_eq!(
        seen.keys().cloned().collect::<HashSet<_>>(),
        waiting[..16].iter().cloned().collect()
    );
    let listed = agents(&b, &admin).await;
    for m in &members {
        assert_eq!(listed[&m.id]["open_conversations"], 4, "{}", listed[&m.id]);
    }
    assert_eq!(queue(&b, &admin).await, waiting[16..].to_vec());
}
