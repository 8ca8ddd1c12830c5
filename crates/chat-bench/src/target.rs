//! What a broadcast scenario runs against: our server, or one of the peers
//! (the floor relay, Node.js `ws`, soketi), all behind one interface so the
//! same client measures each of them the same way.

use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use futures_util::future::BoxFuture;
use hmac::{Hmac, KeyInit, Mac};
use md5::{Digest, Md5};
use serde_json::json;
use sha2::Sha256;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::client::{
    Http, Listen, Slot, agent_request, any_bench_id, customer_request, listen_with, mark,
};
use crate::server::{Server, free_port, pinned, terminate};

/// Sends benchmark message `id` (to the `k`-th conversation, where a target
/// has several).
pub trait Publish: Send + Sync {
    fn publish(&self, k: usize, id: u64) -> BoxFuture<'_, Result<()>>;
}

/// One broadcast room: every subscriber receives every published message.
pub trait Room: Publish {
    fn name(&self) -> &str;
    /// The process to measure (CPU, RSS).
    fn pid(&self) -> u32;
    /// Every process whose CPU a delivery costs (the nodes of a cluster).
    fn pids(&self) -> Vec<u32> {
        vec![self.pid()]
    }
    /// Opens the `i`-th subscriber; resolves once broadcasts reach it.
    fn subscribe(&self, i: usize, slot: Slot) -> BoxFuture<'_, Result<JoinHandle<()>>>;
}

/// Our server's customer conversations, as the widget sends.
pub struct Conversations {
    pub http: Arc<Http>,
    pub keys: Vec<String>,
}

impl Publish for Conversations {
    fn publish(&self, k: usize, id: u64) -> BoxFuture<'_, Result<()>> {
        Box::pin(async move { self.http.send(&self.keys[k % self.keys.len()], id).await })
    }
}

/// Our server: one demo-tenant conversation; subscribers are agent
/// dashboards (both demo agents, alternately) and, when `customers` is set,
/// every other one is that many customers' widgets on sessions of their own.
pub struct Ours {
    pid: u32,
    pids: Vec<u32>,
    ws: String,
    tokens: [String; 2],
    room: Conversations,
    customer_keys: Vec<String>,
}

impl Ours {
    pub async fn new(server: &Server, customers: usize) -> Result<Self> {
        Self::split(server, server, customers).await
    }

    /// Messages posted to `senders`, subscribers on `receivers`: with two
    /// cluster nodes, every delivery crosses the bridge.
    pub async fn split(senders: &Server, receivers: &Server, customers: usize) -> Result<Self> {
        let server = receivers;
        let http = Arc::new(Http::new(&senders.url)?);
        let tokens = [
            http.login("agent@demo.com", "Test@1234").await?,
            http.login("alex@demo.com", "Test@1234").await?,
        ];
        let (key, _) = http.start_session("demo-tenant").await?;
        let mut customer_keys = Vec::with_capacity(customers);
        for i in 0..customers {
            customer_keys.push(http.start_session("demo-tenant").await?.0);
            if i % 500 == 0 {
                crate::scenarios::progress("sessions", i, customers);
            }
        }
        let mut pids = vec![senders.pid()];
        if receivers.pid() != senders.pid() {
            pids.push(receivers.pid());
        }
        Ok(Self {
            pid: server.pid(),
            pids,
            ws: server.ws.clone(),
            tokens,
            room: Conversations {
                http,
                keys: vec![key],
            },
            customer_keys,
        })
    }
}

impl Publish for Ours {
    fn publish(&self, k: usize, id: u64) -> BoxFuture<'_, Result<()>> {
        self.room.publish(k, id)
    }
}

impl Room for Ours {
    fn name(&self) -> &str {
        "ours"
    }

    fn pid(&self) -> u32 {
        self.pid
    }

    fn pids(&self) -> Vec<u32> {
        self.pids.clone()
    }

    fn subscribe(&self, i: usize, slot: Slot) -> BoxFuture<'_, Result<JoinHandle<()>>> {
        Box::pin(async move {
            let req = match self.customer_keys.get(i / 2) {
                Some(key) if i % 2 == 1 => customer_request(&self.ws, key)?,
                _ => agent_request(&self.ws, &self.tokens[i % 2])?,
            };
            listen_with(req, slot, Listen::ours()).await
        })
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug, clap::ValueEnum)]
pub enum PeerKind {
    /// The minimal tokio-tungstenite relay in bench/peers/floor.
    Floor,
    /// Node.js with the `ws` package (bench/peers/node-ws).
    NodeWs,
    /// soketi 1.6.1, the Pusher-protocol server.
    Soketi,
}

impl PeerKind {
    pub fn name(self) -> &'static str {
        match self {
            Self::Floor => "floor",
            Self::NodeWs => "node-ws",
            Self::Soketi => "soketi",
        }
    }
}

/// A peer server, started on 127.0.0.1 only and stopped when dropped.
pub struct Peer {
    kind: PeerKind,
    port: u16,
    child: Child,
    http: reqwest::Client,
}

const SOKETI_APP: (&str, &str, &str) = ("app-id", "app-key", "app-secret");

impl Peer {
    /// Starts the peer, pinned to `cpu` when given, and waits until it
    /// answers HTTP.
    pub async fn start(
        kind: PeerKind,
        peers_dir: &Path,
        floor_bin: &Path,
        cpu: Option<&str>,
    ) -> Result<Self> {
        let port = free_port()?;
        let node_modules = peers_dir.join("node_modules");
        let (program, args, env): (PathBuf, Vec<String>, Vec<(&str, String)>) = match kind {
            PeerKind::Floor => (
                floor_bin.to_owned(),
                vec![],
                vec![("PORT", port.to_string())],
            ),
            PeerKind::NodeWs => (
                "node".into(),
                vec![peers_dir.join("node-ws/server.js").display().to_string()],
                vec![
                    ("PORT", port.to_string()),
                    ("NODE_PATH", node_modules.display().to_string()),
                ],
            ),
            PeerKind::Soketi => (
                "node".into(),
                vec![
                    node_modules
                        .join("@soketi/soketi/bin/server.js")
                        .display()
                        .to_string(),
                    "start".into(),
                    format!("--config={}", peers_dir.join("soketi.json").display()),
                ],
                vec![
                    // Never announce beyond this host.
                    ("SOKETI_HOST", "127.0.0.1".into()),
                    ("SOKETI_METRICS_HOST", "127.0.0.1".into()),
                    ("SOKETI_CLUSTER_HOST", "127.0.0.1".into()),
                    ("SOKETI_CLUSTER_BROADCAST_ADDRESS", "127.0.0.1".into()),
                    ("SOKETI_PORT", port.to_string()),
                    ("SOKETI_METRICS_SERVER_PORT", free_port()?.to_string()),
                    ("SOKETI_CLUSTER_PORT", free_port()?.to_string()),
                    ("SOKETI_DEFAULT_APP_ID", SOKETI_APP.0.into()),
                    ("SOKETI_DEFAULT_APP_KEY", SOKETI_APP.1.into()),
                    ("SOKETI_DEFAULT_APP_SECRET", SOKETI_APP.2.into()),
                ],
            ),
        };
        let mut cmd = pinned(&program, cpu);
        cmd.args(&args)
            .envs(env)
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let child = cmd
            .spawn()
            .with_context(|| format!("starting {}", program.display()))?;
        let peer = Self {
            kind,
            port,
            child,
            http: reqwest::Client::builder()
                .pool_max_idle_per_host(256)
                .build()?,
        };
        // Ready once the listener accepts: the peers open it last.
        let started = Instant::now();
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            if started.elapsed() > Duration::from_secs(30) {
                bail!("{} did not start", kind.name());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Ok(peer)
    }

    fn soketi_publish_url(&self, body: &str) -> String {
        let (app, key, secret) = SOKETI_APP;
        let path = format!("/apps/{app}/events");
        let md5: String = Md5::digest(body.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let ts = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let query = format!("auth_key={key}&auth_timestamp={ts}&auth_version=1.0&body_md5={md5}");
        let signature = pusher_signature(secret, &format!("POST\n{path}\n{query}"));
        format!(
            "http://127.0.0.1:{}{path}?{query}&auth_signature={signature}",
            self.port
        )
    }
}

/// HMAC-SHA256 of the Pusher HTTP API's string to sign, in hex.
fn pusher_signature(secret: &str, to_sign: &str) -> String {
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(m) => m,
        Err(_) => return String::new(),
    };
    mac.update(to_sign.as_bytes());
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// What the relays broadcast: a frame shaped and sized like our
/// `chat.message.new`, so every server moves the same bytes.
pub fn relay_frame(id: u64) -> String {
    format!(
        r#"{{"type":"chat.message.new","payload":{{"id":"019ac6f2-7b4e-7c31-9a55-3f0e2d1c4b5a","session_id":"019ac6f2-6a10-7e42-8b21-0c9d8e7f6a5b","seq":{id},"sender_type":"customer","sender_id":null,"sender_name":"Bench","body":"{}","created_at":"2026-11-27T17:00:00.000000Z","client_msg_id":"b{id}"}}}}"#,
        mark(id)
    )
}

impl Publish for Peer {
    fn publish(&self, _k: usize, id: u64) -> BoxFuture<'_, Result<()>> {
        Box::pin(async move {
            let frame = relay_frame(id);
            let req = match self.kind {
                PeerKind::Floor | PeerKind::NodeWs => self
                    .http
                    .post(format!("http://127.0.0.1:{}/publish", self.port))
                    .body(frame),
                PeerKind::Soketi => {
                    let body =
                        json!({ "name": "msg", "channels": ["fanout"], "data": frame }).to_string();
                    self.http
                        .post(self.soketi_publish_url(&body))
                        .header("content-type", "application/json")
                        .body(body)
                }
            };
            req.send().await?.error_for_status()?;
            Ok(())
        })
    }
}

impl Room for Peer {
    fn name(&self) -> &str {
        self.kind.name()
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn subscribe(&self, _i: usize, slot: Slot) -> BoxFuture<'_, Result<JoinHandle<()>>> {
        Box::pin(async move {
            let (url, handshake) = match self.kind {
                PeerKind::Floor | PeerKind::NodeWs => {
                    (format!("ws://127.0.0.1:{}/ws", self.port), None)
                }
                PeerKind::Soketi => (
                    format!(
                        "ws://127.0.0.1:{}/app/{}?protocol=7&client=chat-bench&version=1.0",
                        self.port, SOKETI_APP.1
                    ),
                    Some((
                        "pusher:connection_established",
                        json!({ "event": "pusher:subscribe", "data": { "channel": "fanout" } })
                            .to_string(),
                        "pusher_internal:subscription_succeeded",
                    )),
                ),
            };
            listen_with(
                url.into_client_request()?,
                slot,
                Listen {
                    parse: any_bench_id,
                    handshake,
                },
            )
            .await
        })
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        terminate(&mut self.child);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pusher_signatures_match_the_protocol_example() {
        // The worked example of the Pusher HTTP API reference.
        let to_sign = "POST\n/apps/3/events\nauth_key=278d425bdf160c739803&auth_timestamp=1353088179&auth_version=1.0&body_md5=ec365a775a4cd0599faeb73354201b6f";
        assert_eq!(
            pusher_signature("7ad3773142a6692b25b8", to_sign),
            "da454824c97ba181a32ccc17a72625ba02771f50b50e1e7430e47a1f3f457e6c"
        );
    }

    #[test]
    fn relay_frames_carry_the_mark() {
        let f = relay_frame(5);
        assert_eq!(any_bench_id(&f), Some(5));
        assert_eq!(crate::client::bench_id(&f), Some(5));
    }
}
