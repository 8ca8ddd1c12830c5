//! The bridge's supervisor: connects (two named connections: commands and
//! the subscription), keeps the node's heartbeat, sweeps dead nodes, hands
//! received envelopes to the node, and on any failure reconnects, resyncs
//! the node's sockets when back, and gives up on them after a while.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, PushInfo, PushKind, Value};
use tokio::sync::mpsc;

use super::{Cluster, millis, scripts, unix_ms};
use crate::hub::{Kick, Outbound};
use crate::wire::frames::resync_frame;

/// Between two connection attempts.
const RETRY: Duration = Duration::from_millis(500);
/// Keys of a node outlive its death long enough to be swept.
const NODE_KEYS_TTL_SECS: i64 = 120;

impl Cluster {
    async fn connect_named(
        &self,
        role: &str,
        push: Option<mpsc::UnboundedSender<PushInfo>>,
    ) -> redis::RedisResult<MultiplexedConnection> {
        let mut config = AsyncConnectionConfig::new()
            .set_connection_timeout(Duration::from_secs(2))
            .set_response_timeout(Duration::from_secs(5));
        if let Some(push) = push {
            config = config.set_push_sender(push);
        }
        let mut conn = self
            .inner
            .client
            .get_multiplexed_async_connection_with_config(&config)
            .await?;
        let name = format!(
            "{}:{}:{role}",
            self.inner.settings.prefix, self.inner.settings.node_id
        );
        let _: () = redis::cmd("CLIENT")
            .arg("SETNAME")
            .arg(name)
            .query_async(&mut conn)
            .await?;
        Ok(conn)
    }

    /// Runs for the node's life.
    pub(super) async fn supervise(self) {
        let mut ever_up = false;
        let mut down_since = Instant::now();
        let mut gave_up = false;
        loop {
            let mut was_up = false;
            if let Err(e) = self.session(ever_up, &mut was_up).await {
                tracing::debug!(error = %e, "cluster bridge unavailable");
            }
            self.inner.up.store(false, Ordering::Release);
            *self.inner.conn.lock().unwrap_or_else(|p| p.into_inner()) = None;
            metrics::gauge!("chat_cluster_bridge_up").set(0.0);
            if was_up {
                ever_up = true;
                down_since = Instant::now();
                gave_up = false;
            }
            if !gave_up && down_since.elapsed() >= self.inner.settings.give_up {
                tracing::warn!("cluster bridge down too long: closing sockets with 1012");
                self.inner.hub.kick_all(Kick::Restart).await;
                gave_up = true;
            }
            tokio::time::sleep(RETRY).await;
        }
    }

    /// One connected stretch: returns when the bridge breaks. `was_up` is
    /// set once it got as far as serving.
    async fn session(&self, resync: bool, was_up: &mut bool) -> redis::RedisResult<()> {
        let (push_tx, mut pushes) = mpsc::unbounded_channel();
        let mut sub = self.connect_named("subscribe", Some(push_tx)).await?;
        sub.subscribe(self.channel()).await?;
        let mut conn = self.connect_named("commands", None).await?;
        self.heartbeat(&mut conn).await?;
        self.reregister_presence(&mut conn).await?;
        *self.inner.conn.lock().unwrap_or_else(|p| p.into_inner()) = Some(conn.clone());
        self.inner.up.store(true, Ordering::Release);
        *was_up = true;
        metrics::gauge!("chat_cluster_bridge_up").set(1.0);
        tracing::info!(node = %self.inner.settings.node_id, "cluster bridge up");
        if resync {
            metrics::counter!("chat_cluster_resyncs_total").increment(1);
            let frame = Outbound::new(
                resync_frame("bridge_reconnected").into(),
                None,
                "chat.resync",
            );
            self.inner.hub.to_all(frame).await;
        }
        let mut beat = tokio::time::interval(self.inner.settings.heartbeat);
        beat.tick().await;
        loop {
            tokio::select! {
                push = pushes.recv() => match push {
                    Some(PushInfo { kind: PushKind::Message, data }) => {
                        if let Some(Value::BulkString(bytes)) = data.get(1) {
                            self.received(&String::from_utf8_lossy(bytes)).await;
                        }
                    }
                    Some(PushInfo { kind: PushKind::Disconnection, .. }) | None => {
                        self.mark_broken("subscription lost");
                        return Ok(());
                    }
                    Some(_) => {}
                },
                _ = beat.tick() => {
                    if let Err(e) = self.heartbeat(&mut conn).await {
                        self.mark_broken("heartbeat failed");
                        return Err(e);
                    }
                }
                () = self.inner.broken.notified() => {
                    if !self.is_up() {
                        return Ok(());
                    }
                }
            }
        }
    }

    /// Says this node is alive, keeps its keys, and sweeps dead nodes.
    async fn heartbeat(&self, conn: &mut MultiplexedConnection) -> redis::RedisResult<()> {
        let node = &self.inner.settings.node_id;
        let now = unix_ms();
        let nodes = self.key("nodes");
        let _: () = redis::pipe()
            .cmd("ZADD")
            .arg(&nodes)
            .arg(now)
            .arg(node)
            .ignore()
            .cmd("EXPIRE")
            .arg(self.key(&format!("pn:{node}")))
            .arg(NODE_KEYS_TTL_SECS)
            .ignore()
            .cmd("EXPIRE")
            .arg(self.key(&format!("caps:{node}")))
            .arg(NODE_KEYS_TTL_SECS)
            .ignore()
            .query_async(conn)
            .await?;
        let cutoff = now - millis(self.inner.settings.dead_after);
        let dead: Vec<String> = redis::cmd("ZRANGEBYSCORE")
            .arg(&nodes)
            .arg("-inf")
            .arg(cutoff)
            .query_async(conn)
            .await?;
        for gone_node in dead.iter().filter(|n| *n != node) {
            let gone: Vec<String> = scripts::sweep_dead_node()
                .arg(&self.inner.settings.prefix)
                .arg(gone_node)
                .invoke_async(conn)
                .await?;
            tracing::warn!(node = %gone_node, agents = gone.len(), "swept a dead node");
            for member in gone {
                let mut parts = member.splitn(3, '|');
                let (Some(tenant), Some(agent), Some(name)) =
                    (parts.next(), parts.next(), parts.next())
                else {
                    continue;
                };
                self.announce(
                    &chat_domain::TenantId::new(tenant),
                    chat_domain::AgentId::new(agent),
                    name.to_owned(),
                    false,
                    chat_domain::AgentStatus::default(),
                )
                .await;
            }
        }
        Ok(())
    }

    /// After a reconnect (perhaps to a Redis that lost everything): this
    /// node's online agents, counted again without being announced again.
    async fn reregister_presence(
        &self,
        conn: &mut MultiplexedConnection,
    ) -> redis::RedisResult<()> {
        for change in self.inner.hub.local_presence().await {
            self.record_presence(conn, &change).await?;
        }
        Ok(())
    }
}
