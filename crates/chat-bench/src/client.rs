//! Clients that behave like the widget and the dashboard: HTTP for starting
//! sessions and sending, WebSockets for receiving.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use anyhow::{Context, Result};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::handshake::client::{Request, Response};
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

/// A receipt: which benchmark message reached which socket, when.
pub type Receipt = (u64, Instant);

pub struct Http {
    pub client: reqwest::Client,
    pub base: String,
}

impl Http {
    pub fn new(base: &str) -> Result<Self> {
        Ok(Self {
            client: reqwest::Client::builder()
                .pool_max_idle_per_host(256)
                .build()?,
            base: base.to_owned(),
        })
    }

    pub async fn login(&self, email: &str, password: &str) -> Result<String> {
        let v: Value = self
            .client
            .post(format!("{}/api/v1/auth/login", self.base))
            .json(&json!({ "email": email, "password": password }))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        v["token"].as_str().map(str::to_owned).context("no token")
    }

    /// Returns `(session_key, session_id)`.
    pub async fn start_session(&self, tenant: &str) -> Result<(String, String)> {
        let v: Value = self
            .client
            .post(format!("{}/api/v1/public/chat/sessions", self.base))
            .json(&json!({ "tenant_id": tenant, "customer": { "name": "Bench" } }))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        Ok((
            v["session_key"].as_str().unwrap_or_default().to_owned(),
            v["session"]["id"].as_str().unwrap_or_default().to_owned(),
        ))
    }

    /// Sends a customer message whose body carries the benchmark id and
    /// the send time.
    pub async fn send(&self, key: &str, id: u64) -> Result<()> {
        self.client
            .post(format!(
                "{}/api/v1/public/chat/sessions/{key}/messages",
                self.base
            ))
            .json(&json!({ "body": mark(id), "client_msg_id": format!("b{id}") }))
            .send()
            .await?
            .error_for_status()?;
        Ok(())
    }

    pub async fn stored_seqs(&self, key: &str) -> Result<Vec<i64>> {
        let mut all = Vec::new();
        loop {
            let after = all.last().copied().unwrap_or(0);
            let v: Value = self
                .client
                .get(format!(
                    "{}/api/v1/public/chat/sessions/{key}/messages?after_seq={after}",
                    self.base
                ))
                .send()
                .await?
                .json()
                .await?;
            let page: Vec<i64> = v["messages"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|m| m["seq"].as_i64())
                .collect();
            if page.is_empty() {
                return Ok(all);
            }
            all.extend(page);
        }
    }
}

/// The load generator's clock: microseconds since it started.
pub fn now_micros() -> u64 {
    static EPOCH: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    EPOCH.get_or_init(Instant::now).elapsed().as_micros() as u64
}

/// The text every benchmark message carries, whatever the server: its id
/// and its send time on the load generator's clock.
pub fn mark(id: u64) -> String {
    format!("bench:{id}:{}", now_micros())
}

/// Finds the benchmark id in one of our message frames without parsing the
/// whole JSON: the load generator must stay cheaper than the server it
/// measures. Other events (typing, session updates) are not receipts.
pub fn bench_id(frame: &str) -> Option<u64> {
    if !frame.starts_with(r#"{"type":"chat.message.new""#) {
        return None;
    }
    any_bench_id(frame)
}

/// Finds the benchmark id anywhere in a frame (the peers' frames).
pub fn any_bench_id(frame: &str) -> Option<u64> {
    let start = frame.find("bench:")? + 6;
    let end = frame[start..].find(':')? + start;
    frame[start..end].parse().ok()
}

pub fn agent_request(ws_base: &str, token: &str) -> Result<Request> {
    let mut req = format!("{ws_base}/ws").into_client_request()?;
    req.headers_mut().insert(
        "authorization",
        HeaderValue::from_str(&format!("Bearer {token}"))?,
    );
    Ok(req)
}

pub fn customer_request(ws_base: &str, key: &str) -> Result<Request> {
    Ok(format!("{ws_base}/ws/public/{key}").into_client_request()?)
}

/// Where a socket records its receipts: its own uncontended list, plus a
/// shared counter so that waiting for "everything arrived" is cheap.
#[derive(Clone, Default)]
pub struct Slot {
    pub receipts: Arc<Mutex<Vec<Receipt>>>,
    pub count: Arc<AtomicU64>,
}

/// How a subscriber socket talks: which frames are receipts, and what it
/// must say before broadcasts reach it (wait for a frame containing the
/// first text, send the second, wait for a frame containing the third).
#[derive(Clone)]
pub struct Listen {
    pub parse: fn(&str) -> Option<u64>,
    pub handshake: Option<(&'static str, String, &'static str)>,
}

impl Listen {
    pub fn ours() -> Self {
        Self {
            parse: bench_id,
            handshake: None,
        }
    }
}

/// Opens a socket and records every benchmark receipt until it closes.
/// Resolves once the socket is open.
pub async fn listen(req: Request, slot: Slot) -> Result<tokio::task::JoinHandle<()>> {
    listen_with(req, slot, Listen::ours()).await
}

/// How many loopback addresses the sockets to a server on loopback are
/// opened from, in turn. For each new connection the kernel looks for a
/// free source port among those already connected from the same address
/// to the same destination (`__inet_hash_connect`), a walk that lengthens
/// as they fill the port range: from 127.0.0.1 alone, 19,000 sockets spent
/// more than half of the load generator's CPU there, and the generator set
/// the pace of the connect phase instead of the server. From 64 addresses
/// of 127/8, each holds a few hundred.
const LOOPBACK_SOURCES: u32 = 64;

static NEXT_SOURCE: AtomicU32 = AtomicU32::new(0);

/// The source address of the next socket to a server on loopback.
fn loopback_source() -> SocketAddr {
    let n = NEXT_SOURCE.fetch_add(1, Ordering::Relaxed) % LOOPBACK_SOURCES;
    SocketAddr::from((Ipv4Addr::new(127, 0, 1, 1 + n as u8), 0))
}

/// `connect_async` for `ws://` URLs, with the socket opened from one of
/// [`LOOPBACK_SOURCES`] when the server is on loopback.
pub async fn connect(req: Request) -> Result<(WebSocketStream<TcpStream>, Response)> {
    let uri = req.uri();
    let host = uri.host().context("a WebSocket URL without a host")?;
    let port = uri.port_u16().unwrap_or(80);
    let stream = match host.parse::<Ipv4Addr>() {
        Ok(ip) if ip.is_loopback() => {
            let socket = TcpSocket::new_v4()?;
            socket.bind(loopback_source())?;
            socket.connect(SocketAddr::from((ip, port))).await?
        }
        _ => TcpStream::connect((host, port)).await?,
    };
    // tungstenite's default read buffer is 128 KiB, allocated and zeroed
    // for every socket: at 19,000 sockets most of the generator's CPU went
    // to the page faults. The frames measured here are well under 4 KiB.
    let config = WebSocketConfig::default().read_buffer_size(CLIENT_READ_BUFFER);
    Ok(tokio_tungstenite::client_async_with_config(req, stream, Some(config)).await?)
}

/// A client socket's read buffer (tungstenite reads this much at a time).
const CLIENT_READ_BUFFER: usize = 4096;

/// [`listen`], for any server: resolves once the handshake is done.
pub async fn listen_with(
    req: Request,
    slot: Slot,
    how: Listen,
) -> Result<tokio::task::JoinHandle<()>> {
    let (ws, _) = connect(req).await?;
    let (mut tx, mut rx) = ws.split();
    if let Some((first, hello, done)) = how.handshake {
        wait_for(&mut rx, first).await?;
        tx.send(Message::Text(hello.into())).await?;
        wait_for(&mut rx, done).await?;
    }
    Ok(tokio::spawn(async move {
        while let Some(Ok(msg)) = rx.next().await {
            match msg {
                Message::Text(t) => {
                    if let Some(id) = (how.parse)(t.as_str()) {
                        let at = Instant::now();
                        slot.receipts
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .push((id, at));
                        slot.count.fetch_add(1, Ordering::Relaxed);
                    }
                }
                Message::Ping(p) => {
                    let _ = tx.send(Message::Pong(p)).await;
                }
                Message::Close(_) => return,
                _ => {}
            }
        }
    }))
}

async fn wait_for<S>(rx: &mut S, needle: &str) -> Result<()>
where
    S: futures_util::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    loop {
        match tokio::time::timeout(std::time::Duration::from_secs(10), rx.next()).await {
            Ok(Some(Ok(Message::Text(t)))) if t.as_str().contains(needle) => return Ok(()),
            Ok(Some(Ok(_))) => {}
            other => anyhow::bail!("waiting for {needle}: {other:?}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sockets_to_loopback_take_the_source_addresses_in_turn() {
        let sources: std::collections::HashSet<SocketAddr> = (0..2 * LOOPBACK_SOURCES)
            .map(|_| loopback_source())
            .collect();
        assert_eq!(sources.len(), LOOPBACK_SOURCES as usize);
        assert!(
            sources
                .iter()
                .all(|a| a.ip().is_loopback() && a.port() == 0)
        );
    }

    #[tokio::test]
    async fn a_socket_to_loopback_comes_from_another_loopback_address() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("ws://{}/", listener.local_addr().unwrap());
        let server = tokio::spawn(async move {
            let (stream, peer) = listener.accept().await.unwrap();
            let _ws = tokio_tungstenite::accept_async(stream).await.unwrap();
            peer
        });
        let (_ws, response) = connect(url.into_client_request().unwrap()).await.unwrap();
        assert_eq!(response.status(), 101);
        let peer = server.await.unwrap();
        assert_eq!(peer.ip().to_string().rsplit_once('.').unwrap().0, "127.0.1");
    }

    #[test]
    fn the_id_is_found_in_a_message_frame_only() {
        let f = r#"{"type":"chat.message.new","payload":{"body":"bench:42:","seq":1}}"#;
        assert_eq!(bench_id(f), Some(42));
        assert_eq!(
            bench_id(r#"{"type":"chat.typing","payload":{"body":"bench:42:"}}"#),
            None
        );
        let pusher = r#"{"event":"msg","channel":"fanout","data":"{\"body\":\"bench:7:123\"}"}"#;
        assert_eq!(any_bench_id(pusher), Some(7));
        assert_eq!(any_bench_id(&mark(9)), Some(9));
    }
}
