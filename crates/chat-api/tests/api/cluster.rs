//! Two nodes on one database and the real Redis, each test under a Redis
//! prefix of its own: events cross nodes once, presence and caps are
//! cluster-wide, and a lost bridge resyncs the sockets.

use std::time::Duration;

use chat_api::configuration::Settings;
use chat_domain::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestAgent, TestApp, WsClient, ok, spawn_app_with, spawn_node_on};

pub use crate::redis_keys::redis_url;

/// A Redis prefix for one test, and its keys deleted at the end.
pub struct Prefix(pub String);

impl Prefix {
    pub fn new() -> Self {
        Self(format!("test{}", &chat_service::new_secret()[..10]))
    }

    pub fn configure(&self, url: &str) -> impl Fn(&mut Settings) + Clone + use<> {
        let prefix = self.0.clone();
        let url = url.to_owned();
        move |s: &mut Settings| {
            s.redis.url = Some(url.clone().into());
            s.redis.prefix = prefix.clone();
            s.redis.heartbeat_ms = 200;
            s.redis.dead_after_secs = 5;
            s.redis.give_up_secs = 2;
        }
    }
}

impl Drop for Prefix {
    fn drop(&mut self) {
        crate::redis_keys::forget_prefix(&self.0);
    }
}

async fn ready_body(app: &TestApp) -> Value {
    ok(app.get("/readyz").await.json().await)
}

/// Waits until the node's bridge is up.
pub async fn bridge_up(app: &TestApp) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while ready_body(app).await["redis"] != "ok" {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the bridge never came up"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub async fn two_nodes(
    prefix: &Prefix,
    tweak: impl Fn(&mut Settings) + Clone,
) -> (TestApp, TestApp) {
    let cfg = prefix.configure(&redis_url());
    let (c1, t1) = (cfg.clone(), tweak.clone());
    let a = spawn_app_with(move |s| {
        c1(s);
        t1(s);
    })
    .await;
    let b = spawn_node_on(&a, move |s| {
        cfg(s);
        tweak(s);
    })
    .await;
    bridge_up(&a).await;
    bridge_up(&b).await;
    (a, b)
}

/// Sockets are registered once they answer a ping.
async fn settled(ws: &mut WsClient) {
    ws.send("ping", json!({})).await;
    ws.expect("pong").await;
}

/// The next frame of `kind`, skipping presence notices of others.
async fn expect_only(ws: &mut WsClient, kind: &str) -> Value {
    ws.expect(kind).await
}

#[tokio::test]
async fn events_cross_nodes_exactly_once() {
    let prefix = Prefix::new();
    let (a, b) = two_nodes(&prefix, |_| {}).await;
    a.create_tenant("acme", &[]).await;
    let x: TestAgent = a.create_agent("acme", "x@acme.test", "Xena").await;
    let y: TestAgent = a
        .create_agent_with_role("acme", "y@acme.test", "Yuri", Role::Admin)
        .await;
    let mut x_on_b = b.agent_ws(&x).await;
    let mut y_on_a = a.agent_ws(&y).await;
    let mut y_on_b = b.agent_ws(&y).await;
    for ws in [&mut x_on_b, &mut y_on_a, &mut y_on_b] {
        settled(ws).await;
    }

    let (key, session_id) = a.start_session("acme", "Carla").await;
    for ws in [&mut x_on_b, &mut y_on_a, &mut y_on_b] {
        let started = expect_only(ws, "chat.session.started").await;
        assert_eq!(started["id"], session_id.as_str());
    }
    let mut customer_on_a = a.customer_ws(&key).await;
    settled(&mut customer_on_a).await;
    assert_eq!(
        a.post_message(&key, "hello from A", None).await.status(),
        StatusCode::CREATED
    );
    for ws in [&mut x_on_b, &mut y_on_a, &mut y_on_b] {
        let m = expect_only(ws, "chat.message.new").await;
        assert_eq!(m["body"], "hello from A");
        assert_eq!(m["seq"], 1);
    }
    assert_eq!(
        expect_only(&mut customer_on_a, "chat.message.new").await["seq"],
        1
    );

    // An agent on B answers: the customer on A hears it once.
    b.agent_message(&x, &session_id, "hi from B").await;
    let m = expect_only(&mut customer_on_a, "chat.message.new").await;
    assert_eq!(m["body"], "hi from B");
    assert_eq!(m["seq"], 2);
    for ws in [&mut x_on_b, &mut y_on_a, &mut y_on_b] {
        assert_eq!(expect_only(ws, "chat.message.new").await["seq"], 2);
    }
    // Typing from the customer on A reaches the agents on both nodes.
    customer_on_a
        .send("chat.typing", json!({ "is_typing": true }))
        .await;
    for ws in [&mut x_on_b, &mut y_on_a, &mut y_on_b] {
        assert_eq!(
            expect_only(ws, "chat.typing").await["sender_type"],
            "customer"
        );
    }
    // Xena on B takes the conversation: the customer on A sees who joined,
    // Xena's own socket on B gets her chat.agent.joined, everyone the
    // assignment.
    let res = b
        .agent_post(
            &x.token,
            &format!("/api/v1/chat/sessions/{session_id}/assign"),
            None,
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let assigned = expect_only(&mut customer_on_a, "chat.session.assigned").await;
    assert_eq!(assigned["agent_name"], "Xena");
    assert_eq!(
        expect_only(&mut customer_on_a, "chat.agent.joined").await["agent_name"],
        "Xena"
    );
    for ws in [&mut y_on_a, &mut y_on_b] {
        assert_eq!(
            expect_only(ws, "chat.session.assigned").await["agent_name"],
            "Xena"
        );
    }
    assert_eq!(
        expect_only(&mut x_on_b, "chat.session.assigned").await["agent_name"],
        "Xena"
    );
    assert_eq!(
        expect_only(&mut x_on_b, "chat.agent.joined").await["agent_name"],
        "Xena"
    );
    // Yuri on A closes and reopens it.
    for action in ["close", "reopen"] {
        let res = a
            .agent_post(
                &y.token,
                &format!("/api/v1/chat/sessions/{session_id}/{action}"),
                None,
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        let kind = if action == "close" {
            "chat.session.closed"
        } else {
            "chat.session.reopened"
        };
        for ws in [&mut x_on_b, &mut y_on_a, &mut y_on_b, &mut customer_on_a] {
            assert_eq!(
                expect_only(ws, kind).await["session_id"],
                session_id.as_str()
            );
        }
    }
    // Nothing else is queued: a ping's pong is the next frame everywhere.
    for ws in [&mut x_on_b, &mut y_on_a, &mut y_on_b, &mut customer_on_a] {
        ws.send("ping", json!({})).await;
        assert_eq!(ws.next_event().await["type"], "pong", "no duplicate");
    }
}

#[tokio::test]
async fn presence_is_one_per_agent_across_nodes() {
    let prefix = Prefix::new();
    let (a, b) = two_nodes(&prefix, |_| {}).await;
    a.create_tenant("acme", &[]).await;
    let watcher = a.create_agent("acme", "w@acme.test", "Wanda").await;
    let zoe = a.create_agent("acme", "z@acme.test", "Zoe").await;
    let mut watch_a = a.agent_ws(&watcher).await;
    settled(&mut watch_a).await;
    let mut watch_b = b.agent_ws(&watcher).await;
    settled(&mut watch_b).await;
    // The watcher's own presence notices are not what this test is about.
    let presence = |f: &Value| f["type"] == "agent.presence" && f["payload"]["name"] == "Zoe";
    let mut zoe_a = a.agent_ws(&zoe).await;
    settled(&mut zoe_a).await;
    let mut zoe_b = b.agent_ws(&zoe).await;
    settled(&mut zoe_b).await;
    for node in [&a, &b] {
        let list: Value = ok(node
            .agent_get(&watcher.token, "/api/v1/agents")
            .await
            .json()
            .await);
        let z = list["agents"]
            .as_array()
            .and_then(|l| l.iter().find(|x| x["name"] == "Zoe"))
            .cloned()
            .unwrap_or_default();
        assert_eq!(z["online"], true, "on every node");
    }
    zoe_a.stream.close(None).await.ok();
    // Still online through B; then B's tab closes too.
    zoe_b.send("ping", json!({})).await;
    zoe_b.expect("pong").await;
    zoe_b.stream.close(None).await.ok();
    for ws in [&mut watch_a, &mut watch_b] {
        let mut seen = Vec::new();
        loop {
            let f = ws.next_frame().await;
            if presence(&f) {
                seen.push(f["payload"]["online"].clone());
                if f["payload"]["online"] == false {
                    break;
                }
            }
        }
        assert_eq!(
            seen,
            vec![json!(true), json!(false)],
            "once online, once offline"
        );
    }
    for node in [&a, &b] {
        let list: Value = ok(node
            .agent_get(&watcher.token, "/api/v1/agents")
            .await
            .json()
            .await);
        let z = list["agents"]
            .as_array()
            .and_then(|l| l.iter().find(|x| x["name"] == "Zoe"))
            .cloned()
            .unwrap_or_default();
        assert_eq!(z["online"], false);
    }
}

#[tokio::test]
async fn socket_caps_hold_across_nodes() {
    let prefix = Prefix::new();
    let (a, b) = two_nodes(&prefix, |s| s.ws.max_sockets_per_session = 2).await;
    a.create_tenant("acme", &[]).await;
    let (key, _) = a.start_session("acme", "Carla").await;
    let mut one = a.customer_ws(&key).await;
    settled(&mut one).await;
    let mut two = b.customer_ws(&key).await;
    settled(&mut two).await;
    for node in [&a, &b] {
        assert_eq!(
            node.ws_refusal(&format!("/ws/public/{key}"), &[]).await,
            429
        );
    }
    one.stream.close(None).await.ok();
    // The place is given back: a new socket fits again (soon).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let req = ok(
            tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(
                format!("{}/ws/public/{key}", b.ws_address),
            ),
        );
        if tokio_tungstenite::connect_async(req).await.is_ok() {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the place was never given back"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn readiness_reports_the_bridge() {
    let prefix = Prefix::new();
    let (a, _b) = two_nodes(&prefix, |_| {}).await;
    let body = ready_body(&a).await;
    assert_eq!(body["status"], "ok");
    assert_eq!(body["database"], "ok");
    assert_eq!(body["redis"], "ok");
    let alone = crate::helpers::spawn_app().await;
    let body = ready_body(&alone).await;
    assert_eq!(body["redis"], "disabled");
    assert_eq!(body["status"], "ok");
}

/// Kills the bridge's Redis connections of one test's prefix (only those).
pub async fn kill_bridge_connections(prefix: &str) -> usize {
    let client = ok(redis::Client::open(redis_url()));
    let mut conn = ok(client.get_multiplexed_async_connection().await);
    let list: String = ok(redis::cmd("CLIENT")
        .arg("LIST")
        .query_async(&mut conn)
        .await);
    let mut killed = 0;
    for line in list.lines() {
        let field = |name: &str| {
            line.split(' ')
                .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
                .map(str::to_owned)
        };
        if field("name").is_some_and(|n| n.starts_with(&format!("{prefix}:")))
            && let Some(id) = field("id")
        {
            let _: redis::RedisResult<i64> = redis::cmd("CLIENT")
                .arg("KILL")
                .arg("ID")
                .arg(id)
                .query_async(&mut conn)
                .await;
            killed += 1;
        }
    }
    killed
}

#[tokio::test]
async fn a_cut_bridge_resyncs_every_socket_and_nothing_is_lost() {
    let prefix = Prefix::new();
    let (a, b) = two_nodes(&prefix, |_| {}).await;
    a.create_tenant("acme", &[]).await;
    let agent = a.create_agent("acme", "x@acme.test", "Xena").await;
    let (key, session_id) = a.start_session("acme", "Carla").await;
    let mut customer = a.customer_ws(&key).await;
    settled(&mut customer).await;
    let mut agent_b = b.agent_ws(&agent).await;
    settled(&mut agent_b).await;

    // Every connection of this test's nodes is named with its prefix.
    let killed = kill_bridge_connections(&prefix.0).await;
    assert_eq!(killed, 4, "two named connections per node");
    // Meanwhile messages keep being stored (and delivered on their node).
    for i in 0..5 {
        a.post_message(&key, &format!("during {i}"), None).await;
    }
    for ws in [&mut customer, &mut agent_b] {
        let mut got_resync = false;
        while !got_resync {
            let f = ws.next_frame().await;
            if f["type"] == "chat.resync" {
                assert_eq!(f["payload"]["reason"], "bridge_reconnected");
                got_resync = true;
            }
        }
    }
    bridge_up(&a).await;
    bridge_up(&b).await;
    // The agent resumes from what it had (nothing, here) and gets exactly
    // the stored history: 5 messages, in order, once.
    agent_b
        .send(
            "chat.resume",
            json!({ "session_id": session_id, "after_seq": 0 }),
        )
        .await;
    let mut seqs = Vec::new();
    loop {
        let f = agent_b.next_event().await;
        match f["type"].as_str() {
            Some("chat.message.new") => seqs.push(f["payload"]["seq"].as_i64().unwrap_or(-1)),
            Some("chat.resume.done") => break,
            _ => {}
        }
    }
    let mut unique = seqs.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique, vec![1, 2, 3, 4, 5], "all stored messages: {seqs:?}");
}

#[tokio::test]
async fn request_limits_hold_across_nodes() {
    let prefix = Prefix::new();
    let tweak = |s: &mut Settings| s.limits.sends_per_session = 4;
    let (a, b) = two_nodes(&prefix, tweak).await;
    let cfg = prefix.configure(&redis_url());
    let c = spawn_node_on(&a, move |s| {
        cfg(s);
        tweak(s);
    })
    .await;
    bridge_up(&c).await;
    a.create_tenant("acme", &[]).await;
    let (key, _) = a.start_session("acme", "Carla").await;
    // Each node alone lets 2 through at once (half the minute's 4): 6 on
    // three nodes. Counted once for the cluster, 2.
    let mut accepted = 0;
    for node in [&a, &b, &c] {
        for i in 0..2 {
            let res = node.post_message(&key, &format!("m{i}"), None).await;
            match res.status() {
                StatusCode::CREATED => accepted += 1,
                StatusCode::TOO_MANY_REQUESTS => {
                    assert!(res.headers().get("retry-after").is_some());
                }
                other => panic!("unexpected {other}"),
            }
        }
    }
    // Had a bridge gone down meanwhile, the nodes would have fallen back
    // to their own limits (as they should): say so rather than miscount.
    let mut bridges = Vec::new();
    for node in [&a, &b, &c] {
        bridges.push(ready_body(node).await["redis"].clone());
    }
    assert_eq!(accepted, 2, "bridges: {bridges:?}");
}

#[tokio::test]
async fn failed_logins_are_counted_across_nodes() {
    let prefix = Prefix::new();
    let (a, b) = two_nodes(&prefix, |s| s.auth.max_failures_per_client = 3).await;
    a.create_tenant("acme", &[]).await;
    a.create_agent("acme", "x@acme.test", "Xena").await;
    let wrong = json!({ "email": "x@acme.test", "password": "not the password" });
    for node in [&a, &a, &b] {
        let res = node.post_json("/api/v1/auth/login", &wrong).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    // Node A has seen two failures of its own; the cluster has seen three.
    let res = a.post_json("/api/v1/auth/login", &wrong).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let res = a
        .post_json(
            "/api/v1/auth/login",
            &json!({ "email": "x@acme.test", "password": crate::helpers::PASSWORD }),
        )
        .await;
    assert_eq!(
        res.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "even with the right password"
    );
}

/// Many messages in a row on one node, eight in flight at a time, reach a
/// socket on the other, every one of them, once.
#[tokio::test]
async fn a_stream_of_messages_crosses_nodes_without_a_gap() {
    let prefix = Prefix::new();
    let (a, b) = two_nodes(&prefix, crate::helpers::without_request_limits).await;
    a.create_tenant("acme", &[]).await;
    let agent = a.create_agent("acme", "x@acme.test", "Xena").await;
    let mut on_b = b.agent_ws(&agent).await;
    settled(&mut on_b).await;
    let (key, _) = a.start_session("acme", "Carla").await;
    expect_only(&mut on_b, "chat.session.started").await;
    const N: i64 = 300;
    let sends = (0..N).map(|i| {
        let a = &a;
        let key = key.clone();
        async move {
            let res = a.post_message(&key, &format!("m{i}"), None).await;
            (res.status(), res.text().await.unwrap_or_default())
        }
    });
    // Eight at a time: the pool of a test node (8 connections, 1 s to get
    // one) is not what this test is about.
    let answers: Vec<_> = futures_util::StreamExt::collect(
        futures_util::StreamExt::buffer_unordered(futures_util::stream::iter(sends), 8),
    )
    .await;
    for (status, body) in answers {
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let mut seqs = Vec::new();
    while seqs.len() < usize::try_from(N).unwrap_or(0) {
        let f = on_b.next_event().await;
        assert_eq!(f["type"], "chat.message.new", "{f}");
        seqs.push(f["payload"]["seq"].as_i64().unwrap_or(-1));
    }
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=N).collect::<Vec<_>>());
}

/// Redis lost and back, through a TCP proxy this test controls: the node
/// keeps serving its own sockets and REST, says `"redis":"down"` while
/// staying ready, closes its sockets with 1012 once the bridge has been down
/// too long, and comes back by itself.
#[tokio::test]
async fn with_redis_away_a_node_serves_alone_then_closes_its_sockets_with_1012() {
    let proxy = crate::outage::TcpProxy::start(ok("127.0.0.1:6379".parse())).await;
    let prefix = Prefix::new();
    let cfg = prefix.configure(&format!("redis://127.0.0.1:{}", proxy.port));
    let a = spawn_app_with(move |s| {
        cfg(s);
        s.redis.give_up_secs = 2;
    })
    .await;
    bridge_up(&a).await;
    a.create_tenant("acme", &[]).await;
    let agent = a.create_agent("acme", "x@acme.test", "Xena").await;
    let (key, _) = a.start_session("acme", "Carla").await;
    let mut on_a = a.agent_ws(&agent).await;
    settled(&mut on_a).await;

    proxy.cut();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let res = a.get("/readyz").await;
        assert_eq!(res.status(), StatusCode::OK, "readiness is the database");
        let body: Value = ok(res.json().await);
        if body["redis"] == "down" {
            assert_eq!(body["status"], "degraded");
            assert_eq!(body["database"], "ok");
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the bridge never noticed"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Alone, the node still stores and delivers to its own sockets.
    assert_eq!(
        a.post_message(&key, "still here", None).await.status(),
        StatusCode::CREATED
    );
    assert_eq!(
        expect_only(&mut on_a, "chat.message.new").await["body"],
        "still here"
    );
    assert_eq!(
        a.agent_get(&agent.token, "/api/v1/chat/sessions")
            .await
            .status(),
        StatusCode::OK
    );
    // Too long without the bridge: reconnect elsewhere.
    let closed = on_a.closed().await;
    assert_eq!(closed.code, Some(1012));

    proxy.restore();
    bridge_up(&a).await;
}
