//! `/metrics` after a scripted flow shows exactly what the flow caused. Its
//! own test binary: the recorder is process-wide, so no other test's
//! traffic may share it.

#![allow(
    clippy::expect_used,
    reason = "helpers outside #[test] functions fail loudly, naming the call"
)]

use std::collections::BTreeMap;
use std::time::Duration;

use chat_api::admin::{AgentSpec, create_agent, create_tenant};
use chat_api::configuration::Settings;
use chat_api::startup::Application;
use chat_domain::Role;
use chat_store::testing::{Backend, TestDatabase};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

const PASSWORD: &str = "correct horse battery";
const PATIENCE: Duration = Duration::from_secs(10);

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// One sample: name, labels, value.
type Sample = (String, BTreeMap<String, String>, f64);

fn parse(text: &str) -> Vec<Sample> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| {
            let (series, value) = l.rsplit_once(' ')?;
            let value: f64 = value.parse().ok()?;
            let (name, labels) = match series.split_once('{') {
                Some((n, rest)) => (n, rest.trim_end_matches('}')),
                None => (series, ""),
            };
            let labels = labels
                .split("\",")
                .filter(|p| !p.is_empty())
                .filter_map(|p| {
                    let (k, v) = p.split_once("=\"")?;
                    Some((k.to_owned(), v.trim_end_matches('"').to_owned()))
                })
                .collect();
            Some((name.to_owned(), labels, value))
        })
        .collect()
}

fn value(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> f64 {
    samples
        .iter()
        .filter(|(n, l, _)| {
            n == name
                && labels
                    .iter()
                    .all(|(k, v)| l.get(*k).is_some_and(|x| x == v))
        })
        .map(|(_, _, v)| v)
        .sum()
}

struct Flow {
    client: reqwest::Client,
    base: String,
    ws: String,
    metrics: String,
}

impl Flow {
    async fn json(&self, req: reqwest::RequestBuilder) -> Value {
        let res = req.send().await.expect("a request");
        assert!(res.status().is_success(), "{}", res.status());
        res.json().await.expect("JSON")
    }

    async fn start(&self, name: &str) -> (String, String) {
        let v = self
            .json(
                self.client
                    .post(format!("{}/api/v1/public/chat/sessions", self.base))
                    .json(&json!({ "tenant_id": "acme", "customer": { "name": name } })),
            )
            .await;
        (
            v["session_key"].as_str().expect("a key").to_owned(),
            v["session"]["id"].as_str().expect("an id").to_owned(),
        )
    }

    async fn customer_says(&self, key: &str, body: &str) {
        self.json(
            self.client
                .post(format!(
                    "{}/api/v1/public/chat/sessions/{key}/messages",
                    self.base
                ))
                .json(&json!({ "body": body })),
        )
        .await;
    }

    async fn agent_says(&self, token: &str, sid: &str, body: &str) {
        self.json(
            self.client
                .post(format!("{}/api/v1/chat/sessions/{sid}/messages", self.base))
                .bearer_auth(token)
                .json(&json!({ "body": body })),
        )
        .await;
    }

    async fn login(&self, email: &str) -> String {
        let v = self
            .json(
                self.client
                    .post(format!("{}/api/v1/auth/login", self.base))
                    .json(&json!({ "email": email, "password": PASSWORD })),
            )
            .await;
        v["token"].as_str().expect("a token").to_owned()
    }

    async fn socket(&self, path: &str, token: Option<&str>) -> Socket {
        let mut req = format!("{}{path}", self.ws)
            .into_client_request()
            .expect("a request");
        if let Some(t) = token {
            req.headers_mut().insert(
                "authorization",
                HeaderValue::from_str(&format!("Bearer {t}")).expect("a header"),
            );
        }
        tokio_tungstenite::connect_async(req)
            .await
            .expect("a socket")
            .0
    }

    async fn connections(&self) -> i64 {
        let v = self
            .json(self.client.get(format!("{}/readyz", self.base)))
            .await;
        v["connections"].as_i64().unwrap_or(-1)
    }

    async fn scrape(&self) -> Vec<Sample> {
        let text = self
            .client
            .get(&self.metrics)
            .send()
            .await
            .expect("a scrape")
            .text()
            .await
            .expect("text");
        parse(&text)
    }
}

/// Reads until `n` `chat.message.new` frames have arrived.
async fn receive(socket: &mut Socket, n: usize) {
    let mut seen = 0;
    while seen < n {
        let msg = tokio::time::timeout(PATIENCE, socket.next())
            .await
            .expect("a frame in time")
            .expect("an open socket")
            .expect("a frame");
        if let Ok(text) = msg.to_text() {
            let v: Value = serde_json::from_str(text).unwrap_or_default();
            if v["type"] == "chat.message.new" {
                seen += 1;
            }
        }
    }
}

#[tokio::test]
async fn the_metrics_count_exactly_what_a_scripted_flow_did() {
    let db = TestDatabase::create(Backend::from_env()).await;
    let mut settings = Settings::default();
    settings.server.port = 0;
    settings.database.url = db.url.clone().into();
    settings.database.sqlite_synchronous = "normal".into();
    settings.metrics.listen = "127.0.0.1:0".into();
    settings.ws.outbound_queue = 8;
    settings.limits.sends_per_agent = 1_000_000;
    let app = Application::build(settings)
        .await
        .expect("Application::build");
    let (port, metrics_port) = (app.port(), app.metrics_port().expect("metrics on"));
    let repos = app.services().repos.clone();
    let auth = app.services().auth.clone();
    tokio::spawn(app.run_until_stopped());
    create_tenant(&repos, "acme", "Acme", &[])
        .await
        .expect("create_tenant");
    for email in ["a@acme.test", "b@acme.test"] {
        let spec = AgentSpec {
            tenant: "acme",
            email,
            name: email,
            password: PASSWORD,
            role: Role::Agent,
        };
        create_agent(&repos, &auth, spec)
            .await
            .expect("create_agent");
    }
    let flow = Flow {
        client: reqwest::Client::builder()
            .timeout(PATIENCE)
            .build()
            .expect("a client"),
        base: format!("http://127.0.0.1:{port}"),
        ws: format!("ws://127.0.0.1:{port}"),
        metrics: format!("http://127.0.0.1:{metrics_port}/metrics"),
    };
    let a = flow.login("a@acme.test").await;
    let b = flow.login("b@acme.test").await;

    // One slow consumer: a widget that never reads, cut once its queue fills.
    let (slow_key, slow_sid) = flow.start("Slow").await;
    let _slow = flow.socket(&format!("/ws/public/{slow_key}"), None).await;
    let big = "x".repeat(3900);
    let mut pushed = 0;
    while flow.connections().await == 1 {
        assert!(pushed < 5000, "never cut");
        for _ in 0..10 {
            flow.agent_says(&a, &slow_sid, &big).await;
        }
        pushed += 10;
    }

    // Two agents and three customers on sockets; 15 + 5 messages.
    let mut agent_a = flow.socket("/ws", Some(&a)).await;
    let mut agent_b = flow.socket("/ws", Some(&b)).await;
    let mut customers = Vec::new();
    for name in ["Ada", "Bo", "Cy"] {
        let (key, sid) = flow.start(name).await;
        let socket = flow.socket(&format!("/ws/public/{key}"), None).await;
        customers.push((key, sid, socket));
    }
    for (key, sid, _) in &customers {
        for i in 0..5 {
            flow.customer_says(key, &format!("question {i}")).await;
        }
        if sid == &customers[0].1 {
            for i in 0..5 {
                flow.agent_says(&a, sid, &format!("answer {i}")).await;
            }
        }
    }
    receive(&mut agent_a, 20).await;
    receive(&mut agent_b, 20).await;
    for (i, (_, _, socket)) in customers.iter_mut().enumerate() {
        receive(socket, if i == 0 { 10 } else { 5 }).await;
    }

    // The cut socket's task ends within its grace period (it never reads,
    // so its connection is reset).
    let deadline = tokio::time::Instant::now() + PATIENCE;
    let m = loop {
        let m = flow.scrape().await;
        let cut = value(&m, "chat_ws_disconnects_total", &[("code", "4008")]) >= 1.0;
        if cut && value(&m, "chat_ws_connections", &[("kind", "customer")]) == 3.0 {
            break m;
        }
        assert!(tokio::time::Instant::now() < deadline, "no 4008 counted");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let agent_sent = f64::from(pushed) + 5.0;
    assert_eq!(
        value(&m, "chat_messages_total", &[("sender_type", "customer")]),
        15.0
    );
    assert_eq!(
        value(&m, "chat_messages_total", &[("sender_type", "agent")]),
        agent_sent
    );
    assert_eq!(value(&m, "chat_slow_consumer_disconnects_total", &[]), 1.0);
    assert_eq!(
        value(&m, "chat_ws_disconnects_total", &[("code", "4008")]),
        1.0
    );
    assert_eq!(value(&m, "chat_ws_connects_total", &[]), 6.0);
    assert_eq!(value(&m, "chat_ws_connections", &[("kind", "agent")]), 2.0);
    assert_eq!(
        value(&m, "chat_ws_connections", &[("kind", "customer")]),
        3.0
    );
    let public_send = [
        (
            "route",
            "/api/v1/public/chat/sessions/{session_key}/messages",
        ),
        ("method", "POST"),
        ("status", "201"),
    ];
    assert_eq!(value(&m, "http_requests_total", &public_send), 15.0);
    let agent_send = [
        ("route", "/api/v1/chat/sessions/{id}/messages"),
        ("method", "POST"),
        ("status", "201"),
    ];
    assert_eq!(value(&m, "http_requests_total", &agent_send), agent_sent);
    // Each of the 20 reached its customer and both agents; the slow
    // socket took some of the pushed ones before it was cut.
    let delivered = value(
        &m,
        "chat_events_delivered_total",
        &[("event", "chat.message.new")],
    );
    assert!(
        delivered >= 60.0 && delivered <= 60.0 + f64::from(pushed),
        "{delivered}"
    );
    let latencies = value(&m, "chat_delivery_seconds_count", &[]);
    assert!(latencies >= 60.0, "{latencies}");
    assert_eq!(value(&m, "chat_build_info", &[]), 1.0);
    assert!(m.iter().any(|(n, _, _)| n == "chat_db_pool_connections"));

    // Receipts measure delivery end to end: the first customer acknowledges
    // its 10 messages (5 of them the agent's), an agent reads the 5 of the
    // customer.
    let (_, sid0, socket0) = &mut customers[0];
    let frame = |kind: &str, payload: Value| {
        tokio_tungstenite::tungstenite::Message::Text(
            json!({ "type": kind, "payload": payload })
                .to_string()
                .into(),
        )
    };
    socket0
        .send(frame("chat.message.delivered", json!({ "seq": 10 })))
        .await
        .expect("a receipt");
    agent_a
        .send(frame(
            "chat.message.read",
            json!({ "session_id": sid0, "seq": 10 }),
        ))
        .await
        .expect("a receipt");
    let deadline = tokio::time::Instant::now() + PATIENCE;
    let m = loop {
        let m = flow.scrape().await;
        let acks = |side| value(&m, "chat_delivery_ack_seconds_count", &[("side", side)]);
        if acks("customer") >= 5.0 && acks("agent") >= 5.0 {
            break m;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "receipts not measured"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    for side in ["customer", "agent"] {
        assert_eq!(
            value(&m, "chat_delivery_ack_seconds_count", &[("side", side)]),
            5.0,
            "{side}"
        );
    }
}

/// Every metric the Grafana dashboard (deploy/grafana/chat.json) queries
/// is one the server exports.
#[tokio::test]
async fn the_grafana_dashboard_queries_only_exported_metrics() {
    let dashboard: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../deploy/grafana/chat.json"
        ))
        .expect("deploy/grafana/chat.json"),
    )
    .expect("the dashboard is JSON");
    let source = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src/metrics.rs"))
        .expect("metrics.rs");
    let panels = dashboard["panels"].as_array().cloned().unwrap_or_default();
    assert!(panels.len() >= 8);
    let mut queried = 0;
    for panel in &panels {
        for target in panel["targets"].as_array().into_iter().flatten() {
            let expr = target["expr"].as_str().unwrap_or_default();
            let names = expr
                .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .filter(|w| w.starts_with("chat_") || w.starts_with("http_"));
            for name in names {
                let base = name.trim_end_matches("_bucket");
                assert!(
                    source.contains(&format!("\"{base}\"")),
                    "the dashboard queries {name}, which the server does not describe"
                );
                queried += 1;
            }
        }
    }
    assert!(queried >= 12, "{queried}");
}
