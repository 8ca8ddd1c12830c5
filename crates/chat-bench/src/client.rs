//! Clients that behave like the widget and the dashboard: HTTP for starting
//! sessions and sending, WebSockets for receiving.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use anyhow::{Context, Result};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

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

pub fn agent_request(
    ws_base: &str,
    token: &str,
) -> Result<tokio_tungstenite::tungstenite::handshake::client::Request> {
    let mut req = format!("{ws_base}/ws").into_client_request()?;
    req.headers_mut().insert(
        "authorization",
        HeaderValue::from_str(&format!("Bearer {token}"))?,
    );
    Ok(req)
}

pub fn customer_request(
    ws_base: &str,
    key: &str,
) -> Result<tokio_tungstenite::tungstenite::handshake::client::Request> {
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
pub async fn listen(
    req: tokio_tungstenite::tungstenite::handshake::client::Request,
    slot: Slot,
) -> Result<tokio::task::JoinHandle<()>> {
    listen_with(req, slot, Listen::ours()).await
}

/// [`listen`], for any server: resolves once the handshake is done.
pub async fn listen_with(
    req: tokio_tungstenite::tungstenite::handshake::client::Request,
    slot: Slot,
    how: Listen,
) -> Result<tokio::task::JoinHandle<()>> {
    let (ws, _) = tokio_tungstenite::connect_async(req).await?;
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
