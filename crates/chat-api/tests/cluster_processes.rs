//! The cluster as it is deployed: `deploy/local-cluster.sh` starts two real
//! `chat-api` processes on one database and the real Redis (a prefix of this
//! test's own) behind Debian's caddy with `deploy/Caddyfile`, round-robin,
//! no sticky sessions. Runs on each test database (`CHAT_TEST_DATABASE`).

#![allow(
    clippy::expect_used,
    reason = "helpers outside #[test] functions fail loudly, naming the call"
)]

use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

#[path = "support/redis_keys.rs"]
mod redis_keys;

use chat_domain::Role;
use chat_service::Repositories;
use chat_store::testing::{Backend, TestDatabase};
use chat_store::{SeaOrmStore, StoreSettings};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

const PATIENCE: Duration = Duration::from_secs(30);
const PASSWORD: &str = "correct horse battery";

struct Cluster {
    dir: PathBuf,
    env: HashMap<String, String>,
    prefix: String,
    _db: TestDatabase,
}

impl Cluster {
    async fn start() -> Self {
        let db = TestDatabase::create(Backend::from_env()).await;
        {
            let store = SeaOrmStore::connect(&StoreSettings::new(db.url.clone()))
                .await
                .expect("connect");
            store.migrate().await.expect("migrate");
            let repos = Repositories::from_store(Arc::new(store));
            let auth = chat_service::AuthService::new(repos.clone(), Default::default())
                .await
                .expect("auth");
            chat_api::admin::create_tenant(&repos, "acme", "Acme", &[])
                .await
                .expect("tenant");
            for (email, name) in [("ana@acme.test", "Ana"), ("zed@acme.test", "Zed")] {
                let spec = chat_api::admin::AgentSpec {
                    tenant: "acme",
                    email,
                    name,
                    password: PASSWORD,
                    role: Role::Admin,
                };
                chat_api::admin::create_agent(&repos, &auth, spec)
                    .await
                    .expect("agent");
            }
        }
        let prefix = format!("ptest{}", &chat_service::new_secret()[..10]);
        let dir = std::env::temp_dir().join(&prefix);
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../deploy/local-cluster.sh");
        let out = Command::new(script)
            .arg("start")
            .arg(&dir)
            .env("CHAT_API_BIN", env!("CARGO_BIN_EXE_chat-api"))
            .env("CLUSTER_DATABASE_URL", &db.url)
            .env("CHAT__REDIS__PREFIX", &prefix)
            .env("CHAT__REDIS__HEARTBEAT_MS", "200")
            .env("CHAT__REDIS__DEAD_AFTER_SECS", "2")
            .env("CHAT__LOG__FILTER", "warn")
            .env("CHAT__LIMITS__SENDS_PER_ADDRESS", "100000")
            .env("CHAT__LIMITS__SENDS_PER_SESSION", "100000")
            .env("CHAT__LIMITS__READS_PER_ADDRESS", "100000")
            .output()
            .expect("deploy/local-cluster.sh");
        assert!(
            out.status.success(),
            "local-cluster.sh failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let env = std::fs::read_to_string(dir.join("cluster.env"))
            .expect("cluster.env")
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        Self {
            dir,
            env,
            prefix,
            _db: db,
        }
    }

    fn url(&self, name: &str) -> String {
        self.env.get(name).cloned().expect("a URL in cluster.env")
    }

    fn kill9(&self, node: &str) {
        let pid = self.env.get(&format!("{node}_PID")).expect("a pid");
        let status = Command::new("kill")
            .args(["-9", pid])
            .status()
            .expect("kill");
        assert!(status.success());
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../deploy/local-cluster.sh");
        let _ = Command::new(script).arg("stop").arg(&self.dir).status();
        redis_keys::forget_prefix(&self.prefix);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client")
}

async fn login(base: &str, email: &str) -> String {
    let v: Value = client()
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({ "email": email, "password": PASSWORD }))
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("json");
    v["token"].as_str().expect("token").to_owned()
}

async fn start_session(base: &str) -> (String, String) {
    let v: Value = client()
        .post(format!("{base}/api/v1/public/chat/sessions"))
        .json(&json!({ "tenant_id": "acme", "customer": { "name": "Carla" } }))
        .send()
        .await
        .expect("start")
        .json()
        .await
        .expect("json");
    (
        v["session_key"].as_str().expect("key").to_owned(),
        v["session"]["id"].as_str().expect("id").to_owned(),
    )
}

async fn connect(url: String, token: Option<&str>) -> Socket {
    let mut req = url.into_client_request().expect("request");
    if let Some(t) = token {
        req.headers_mut().insert(
            "authorization",
            format!("Bearer {t}").parse().expect("header"),
        );
    }
    let (ws, _) = tokio_tungstenite::connect_async(req)
        .await
        .expect("upgrade");
    ws
}

fn ws_url(http: &str) -> String {
    http.replacen("http", "ws", 1)
}

async fn next(ws: &mut Socket) -> Value {
    loop {
        let msg = tokio::time::timeout(PATIENCE, ws.next())
            .await
            .expect("a frame in time")
            .expect("open")
            .expect("a frame");
        if let Message::Text(t) = msg {
            return serde_json::from_str(t.as_str()).expect("json");
        }
    }
}

async fn send(ws: &mut Socket, kind: &str, payload: Value) {
    ws.send(Message::Text(
        json!({ "type": kind, "payload": payload })
            .to_string()
            .into(),
    ))
    .await
    .expect("send");
}

/// Reads until a frame of `kind` (skipping presence), returns its payload.
async fn expect(ws: &mut Socket, kind: &str) -> Value {
    loop {
        let f = next(ws).await;
        if f["type"] == kind {
            return f["payload"].clone();
        }
        assert_eq!(f["type"], "agent.presence", "unexpected {f}");
    }
}

async fn settled(ws: &mut Socket) {
    send(ws, "ping", json!({})).await;
    expect(ws, "pong").await;
}

#[tokio::test]
async fn through_caddy_every_event_reaches_each_socket_once() {
    let cluster = Cluster::start().await;
    let proxy = cluster.url("PROXY_URL");
    let token = login(&proxy, "ana@acme.test").await;
    // Several tabs through the proxy: round-robin spreads them on both nodes.
    let mut tabs = Vec::new();
    for _ in 0..4 {
        let mut ws = connect(format!("{}/ws", ws_url(&proxy)), Some(&token)).await;
        settled(&mut ws).await;
        tabs.push(ws);
    }
    let (key, session_id) = start_session(&proxy).await;
    let mut customer = connect(format!("{}/ws/public/{key}", ws_url(&proxy)), None).await;
    settled(&mut customer).await;
    for tab in &mut tabs {
        assert_eq!(
            expect(tab, "chat.session.started").await["id"],
            session_id.as_str()
        );
    }
    for i in 1..=6 {
        let res = client()
            .post(format!(
                "{proxy}/api/v1/public/chat/sessions/{key}/messages"
            ))
            .json(&json!({ "body": format!("m{i}") }))
            .send()
            .await
            .expect("send");
        assert_eq!(res.status().as_u16(), 201);
    }
    for ws in tabs.iter_mut().chain(std::iter::once(&mut customer)) {
        let mut seqs = Vec::new();
        for _ in 0..6 {
            seqs.push(
                expect(ws, "chat.message.new").await["seq"]
                    .as_i64()
                    .expect("seq"),
            );
        }
        seqs.sort_unstable();
        assert_eq!(seqs, vec![1, 2, 3, 4, 5, 6]);
        settled(ws).await; // nothing else queued: no duplicate
    }
    let body: Value = client()
        .get(format!("{proxy}/readyz"))
        .send()
        .await
        .expect("readyz")
        .json()
        .await
        .expect("json");
    assert_eq!(body["redis"], "ok");
}

#[tokio::test]
async fn a_node_killed_under_load_loses_nothing_and_its_presence_expires() {
    let cluster = Cluster::start().await;
    let (node1, node2, proxy) = (
        cluster.url("NODE1_URL"),
        cluster.url("NODE2_URL"),
        cluster.url("PROXY_URL"),
    );
    let ana = login(&proxy, "ana@acme.test").await;
    let zed = login(&proxy, "zed@acme.test").await;
    let mut watcher = connect(format!("{}/ws", ws_url(&node2)), Some(&ana)).await;
    settled(&mut watcher).await;
    // Zed is online only through node 1.
    let mut zed_ws = connect(format!("{}/ws", ws_url(&node1)), Some(&zed)).await;
    settled(&mut zed_ws).await;
    let (key, _) = start_session(&proxy).await;
    let mut customer = connect(format!("{}/ws/public/{key}", ws_url(&node1)), None).await;
    settled(&mut customer).await;

    let mut acked = BTreeSet::new();
    for i in 0..40 {
        if i == 20 {
            cluster.kill9("NODE1");
        }
        let res = client()
            .post(format!(
                "{proxy}/api/v1/public/chat/sessions/{key}/messages"
            ))
            .json(&json!({ "body": format!("m{i}"), "client_msg_id": format!("c{i}") }))
            .send()
            .await;
        if let Ok(r) = res
            && r.status().as_u16() == 201
        {
            acked.insert(format!("c{i}"));
        }
    }
    assert!(
        acked.len() >= 30,
        "the proxy moved on to node 2: {}",
        acked.len()
    );

    // The customer's socket died with node 1; it reconnects through the
    // proxy (to node 2) and resumes from nothing.
    let mut again = connect(format!("{}/ws/public/{key}", ws_url(&proxy)), None).await;
    send(&mut again, "chat.resume", json!({ "after_seq": 0 })).await;
    let mut seen = Vec::new();
    loop {
        let f = next(&mut again).await;
        match f["type"].as_str() {
            Some("chat.message.new") => seen.push((
                f["payload"]["seq"].as_i64().expect("seq"),
                f["payload"]["client_msg_id"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            )),
            Some("chat.resume.done") => break,
            _ => {}
        }
    }
    let seqs: Vec<i64> = seen.iter().map(|(s, _)| *s).collect();
    let expected: Vec<i64> = (1..=i64::try_from(seen.len()).expect("len")).collect();
    assert_eq!(seqs, expected, "gapless, once each");
    let stored: BTreeSet<String> = seen.into_iter().map(|(_, c)| c).collect();
    assert!(
        acked.is_subset(&stored),
        "every acknowledged message is there"
    );

    // Zed's only node is dead: the cluster says so within 30 s, once.
    loop {
        let f = next(&mut watcher).await;
        if f["type"] == "agent.presence"
            && f["payload"]["name"] == "Zed"
            && f["payload"]["online"] == false
        {
            break;
        }
    }
    let list: Value = client()
        .get(format!("{node2}/api/v1/agents"))
        .bearer_auth(&ana)
        .send()
        .await
        .expect("agents")
        .json()
        .await
        .expect("json");
    let zed_row = list["agents"]
        .as_array()
        .and_then(|a| a.iter().find(|x| x["name"] == "Zed"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(zed_row["online"], false);
    drop(zed_ws);
}
