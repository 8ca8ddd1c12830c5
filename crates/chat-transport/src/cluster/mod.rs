//! Several nodes, one cluster: the bridge that fans events out over Redis
//! pub/sub, cluster-wide presence and socket caps.
//!
//! [`Cluster`] implements the domain's `WebSocketHub`, so the service does
//! not know whether it runs alone. A node delivers its own events to its own
//! sockets at once (through its [`HubHandle`]) and publishes them once; every
//! node delivers what it receives to its own sockets and skips what it
//! published itself. So a node's sockets get its events even while Redis is
//! away, with no round trip added, and no socket gets one twice.
//!
//! Redis is a fast path, never the source of truth: when the bridge breaks
//! (a failed publish, a dropped subscription) the node keeps serving its own
//! sockets, reconnects, and on return sends every socket `chat.resync`, which
//! clients answer with `chat.resume` from their last `seq`. If the bridge
//! stays down for [`ClusterSettings::give_up`], the node closes its sockets
//! with 1012 so that clients reconnect (to a node that has one) and resume.

mod bridge;
mod scripts;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use chat_domain::{AgentId, ChatEvent, SessionId, TenantId, WebSocketHub};
use redis::aio::MultiplexedConnection;
use tokio::sync::{Notify, mpsc};

use crate::hub::{HubHandle, Outbound, Peer, PresenceChange, Target, session_key};
use crate::limits::SharedLimit;
use crate::wire::Audience;
use crate::wire::cluster::{Envelope, EnvelopeBody, EnvelopeTarget};

#[derive(Debug, Clone)]
pub struct ClusterSettings {
    pub url: String,
    /// Prefixes every key and channel, so deployments (and tests) can
    /// share one Redis.
    pub prefix: String,
    pub node_id: String,
    /// How often the node says it is alive and looks for dead ones.
    pub heartbeat: Duration,
    /// A node silent this long is dead: its presence and caps stop counting.
    pub dead_after: Duration,
    /// A bridge down this long closes the node's sockets with 1012.
    pub give_up: Duration,
    pub max_sockets_per_session: usize,
    pub max_sockets_per_agent: usize,
}

#[derive(Clone)]
pub struct Cluster {
    inner: Arc<Inner>,
}

struct Inner {
    settings: ClusterSettings,
    hub: HubHandle,
    client: redis::Client,
    /// The command connection while the bridge is up.
    conn: std::sync::Mutex<Option<MultiplexedConnection>>,
    up: AtomicBool,
    /// Rung by whoever sees the bridge fail; the supervisor reconnects.
    broken: Notify,
    publish: mpsc::Sender<String>,
    /// Told of each agent this node saw come online, once the cluster knows.
    on_agent_online: std::sync::OnceLock<AgentOnline>,
}

/// What runs when an agent's socket opened and the cluster recorded it.
pub type AgentOnline = Arc<dyn Fn(&TenantId) + Send + Sync>;

/// Published envelopes waiting for the publisher; beyond that the bridge
/// counts as broken (and the sockets are resynced when it is back).
const PUBLISH_QUEUE: usize = 16 * 1024;

impl Cluster {
    /// Starts the bridge's tasks on the current runtime. The node serves at
    /// once; the bridge connects in the background.
    pub async fn start(settings: ClusterSettings, hub: HubHandle) -> Result<Self, String> {
        let mut url = settings.url.clone();
        if !url.contains("protocol=") {
            url.push(if url.contains('?') { '&' } else { '?' });
            url.push_str("protocol=resp3");
        }
        let client = redis::Client::open(url).map_err(|e| format!("CHAT__REDIS__URL: {e}"))?;
        let (publish, to_publish) = mpsc::channel(PUBLISH_QUEUE);
        let cluster = Self {
            inner: Arc::new(Inner {
                settings,
                hub: hub.clone(),
                client,
                conn: std::sync::Mutex::new(None),
                up: AtomicBool::new(false),
                broken: Notify::new(),
                publish,
                on_agent_online: std::sync::OnceLock::new(),
            }),
        };
        let (presence_tx, presence_rx) = mpsc::unbounded_channel();
        hub.observe_presence(presence_tx).await;
        tokio::spawn(cluster.clone().supervise());
        tokio::spawn(cluster.clone().publisher(to_publish));
        tokio::spawn(cluster.clone().presence(presence_rx));
        tracing::info!(
            node = %cluster.inner.settings.node_id,
            prefix = %cluster.inner.settings.prefix,
            "cluster bridge starting"
        );
        Ok(cluster)
    }

    /// Runs `f` for each agent that came online on this node, after the
    /// cluster's presence has them (so a reader on any node sees them).
    pub fn when_agent_online(&self, f: AgentOnline) {
        let _ = self.inner.on_agent_online.set(f);
    }

    pub fn node_id(&self) -> &str {
        &self.inner.settings.node_id
    }

    /// Whether the bridge is connected and subscribed.
    pub fn is_up(&self) -> bool {
        self.inner.up.load(Ordering::Acquire)
    }

    fn key(&self, rest: &str) -> String {
        format!("{}:{rest}", self.inner.settings.prefix)
    }

    fn channel(&self) -> String {
        self.key("events")
    }

    fn conn(&self) -> Option<MultiplexedConnection> {
        if !self.is_up() {
            return None;
        }
        self.inner
            .conn
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn mark_broken(&self, why: &str) {
        if self.inner.up.swap(false, Ordering::AcqRel) {
            tracing::warn!(reason = why, "cluster bridge broken");
        }
        self.inner.broken.notify_one();
    }

    fn publish(&self, body: EnvelopeBody) {
        let envelope = Envelope {
            node: self.inner.settings.node_id.clone(),
            body,
        };
        let Ok(text) = serde_json::to_string(&envelope) else {
            return;
        };
        if !self.is_up() {
            // Already broken: the sockets of every node are resynced when
            // it is back.
            return;
        }
        if self.inner.publish.try_send(text).is_err() {
            self.mark_broken("publish queue full");
        }
    }

    /// Sends the published envelopes in order, one connection, no waiting
    /// on the callers.
    async fn publisher(self, mut rx: mpsc::Receiver<String>) {
        let channel = self.channel();
        while let Some(text) = rx.recv().await {
            let Some(mut conn) = self.conn() else {
                continue;
            };
            let sent: redis::RedisResult<i64> = redis::cmd("PUBLISH")
                .arg(&channel)
                .arg(text)
                .query_async(&mut conn)
                .await;
            if let Err(e) = sent {
                tracing::warn!(error = %e, "cluster publish failed");
                self.mark_broken("publish failed");
            }
        }
    }

    async fn deliver_and_publish(&self, target: Target, event: &ChatEvent, audience: Audience) {
        // The frame the node's own hub would have made, and its text for
        // the other nodes.
        let frame = crate::hub::frame(event, audience);
        let text = frame.text().to_string();
        let message = match event {
            ChatEvent::MessageNew(m) => Some((m.session_id.to_string(), m.seq)),
            _ => None,
        };
        let to = match &target {
            Target::Tenant(t) => EnvelopeTarget::Tenant {
                tenant: t.to_string(),
            },
            Target::Agent(t, a) => EnvelopeTarget::Agent {
                tenant: t.to_string(),
                agent: a.to_string(),
            },
            Target::Session(t, s) => EnvelopeTarget::Session {
                tenant: t.to_string(),
                session: s.to_string(),
            },
        };
        self.inner.hub.deliver(target, frame).await;
        self.publish(EnvelopeBody::Frame {
            to,
            event: event.event_type().to_owned(),
            message,
            text,
        });
    }

    /// What another node published, to this node's sockets.
    async fn received(&self, payload: &str) {
        let Ok(envelope) = serde_json::from_str::<Envelope>(payload) else {
            tracing::warn!("unreadable cluster envelope");
            return;
        };
        if envelope.node == self.inner.settings.node_id {
            return;
        }
        let hub = &self.inner.hub;
        match envelope.body {
            EnvelopeBody::Frame {
                to,
                event,
                message,
                text,
            } => {
                let target = match to {
                    EnvelopeTarget::Tenant { tenant } => Target::Tenant(TenantId::new(tenant)),
                    EnvelopeTarget::Agent { tenant, agent } => {
                        Target::Agent(TenantId::new(tenant), AgentId::new(agent))
                    }
                    EnvelopeTarget::Session { tenant, session } => {
                        Target::Session(TenantId::new(tenant), SessionId::new(session))
                    }
                };
                let message = message.map(|(s, seq)| (session_key(&SessionId::new(s)), seq));
                hub.deliver(
                    target,
                    Outbound::new(text.into(), message, event_name(&event)),
                )
                .await;
            }
            EnvelopeBody::KickCredential { credential } => hub.kick_credential(&credential).await,
            EnvelopeBody::KickAgent {
                tenant,
                agent,
                keep,
            } => {
                hub.kick_agent(
                    &TenantId::new(tenant),
                    &AgentId::new(agent),
                    keep.as_deref(),
                )
                .await
            }
        }
    }

    /// Closes the sockets opened with this credential on every node.
    pub async fn kick_credential(&self, credential: &str) {
        self.inner.hub.kick_credential(credential).await;
        self.publish(EnvelopeBody::KickCredential {
            credential: credential.to_owned(),
        });
    }

    /// Closes an agent's sockets (but those of `keep`) on every node.
    pub async fn kick_agent(&self, tenant: &TenantId, agent: &AgentId, keep: Option<&str>) {
        self.inner.hub.kick_agent(tenant, agent, keep).await;
        self.publish(EnvelopeBody::KickAgent {
            tenant: tenant.to_string(),
            agent: agent.to_string(),
            keep: keep.map(str::to_owned),
        });
    }

    /// The tenant's agents online on any node; this node's alone while the
    /// bridge is down.
    pub async fn online_agents(&self, tenant: &TenantId) -> Vec<AgentId> {
        if let Some(mut conn) = self.conn() {
            let key = self.key(&format!("online:{tenant}"));
            let found: redis::RedisResult<Vec<String>> =
                redis::cmd("HKEYS").arg(key).query_async(&mut conn).await;
            match found {
                Ok(agents) => return agents.into_iter().map(AgentId::new).collect(),
                Err(e) => {
                    tracing::warn!(error = %e, "cluster presence unreadable");
                    self.mark_broken("presence read failed");
                }
            }
        }
        self.inner.hub.online_agents(tenant).await
    }

    /// A place for one more socket of `peer` under its cluster-wide cap
    /// (per agent, or per session key): `Ok(None)` when the bridge is down
    /// (the node's own caps still hold), `Err(())` when full.
    pub async fn take_place(&self, peer: &Peer) -> Result<Option<Place>, ()> {
        let settings = &self.inner.settings;
        let (key, cap) = match peer {
            Peer::Agent { tenant, agent, .. } => (
                format!("a:{tenant}:{agent}"),
                settings.max_sockets_per_agent,
            ),
            Peer::Customer { tenant, session } => (
                format!("s:{tenant}:{session}"),
                settings.max_sockets_per_session,
            ),
        };
        let Some(mut conn) = self.conn() else {
            return Ok(None);
        };
        let oldest_live = unix_ms() - millis(self.inner.settings.dead_after);
        let taken: redis::RedisResult<i64> = scripts::take_place()
            .arg(&self.inner.settings.prefix)
            .arg(&self.inner.settings.node_id)
            .arg(&key)
            .arg(cap)
            .arg(oldest_live)
            .invoke_async(&mut conn)
            .await;
        match taken {
            Ok(1) => Ok(Some(Place {
                cluster: self.clone(),
                key,
            })),
            Ok(_) => Err(()),
            Err(e) => {
                tracing::warn!(error = %e, "cluster caps unreadable");
                Ok(None)
            }
        }
    }

    /// One request against each of `limits` (each at its node's rate and
    /// burst), counted once for the whole cluster, in one round trip:
    /// `Some(Ok(()))`, `Some(Err((i, wait)))` when the `i`-th refuses,
    /// `None` while the bridge is down (each node's own limits still hold).
    pub async fn within(&self, limits: &[SharedLimit]) -> Option<Result<(), (usize, Duration)>> {
        if limits.is_empty() {
            return Some(Ok(()));
        }
        let mut conn = self.conn()?;
        let script = scripts::gcra();
        let mut call = script.prepare_invoke();
        for limit in limits {
            let per_minute = u64::from(limit.per_minute.max(1));
            let interval_us = (60_000_000 / per_minute).max(1);
            let burst = (per_minute / 2).max(1);
            call.key(self.key(&format!("rl:{}:{}", limit.label, limit.key)))
                .arg(interval_us)
                .arg(interval_us.saturating_mul(burst - 1));
        }
        let answer: redis::RedisResult<(i64, i64)> = call.invoke_async(&mut conn).await;
        match answer {
            Ok((0, _)) => Some(Ok(())),
            Ok((i, us)) => Some(Err((
                usize::try_from(i - 1).unwrap_or(0),
                Duration::from_micros(u64::try_from(us).unwrap_or(0)),
            ))),
            Err(e) => {
                tracing::warn!(error = %e, "cluster limits unreadable");
                None
            }
        }
    }

    /// The failures counted under each of `keys`, cluster-wide, in one
    /// round trip; `None` while the bridge is down.
    pub async fn failures(&self, keys: &[String]) -> Option<Vec<i64>> {
        let mut conn = self.conn()?;
        let keys: Vec<String> = keys
            .iter()
            .map(|k| self.key(&format!("fail:{k}")))
            .collect();
        let counts: redis::RedisResult<Vec<Option<i64>>> =
            redis::cmd("MGET").arg(&keys).query_async(&mut conn).await;
        counts
            .ok()
            .map(|c| c.into_iter().map(Option::unwrap_or_default).collect())
    }

    /// Counts a failure under each of `keys`; each count lives `window`.
    pub async fn fail(&self, keys: &[String], window: Duration) {
        let Some(mut conn) = self.conn() else { return };
        let mut pipe = redis::pipe();
        for key in keys {
            let key = self.key(&format!("fail:{key}"));
            pipe.cmd("INCR")
                .arg(&key)
                .ignore()
                .cmd("EXPIRE")
                .arg(&key)
                .arg(window.as_secs().max(1))
                .ignore();
        }
        let _: redis::RedisResult<()> = pipe.query_async(&mut conn).await;
    }

    /// Forgets the failures under `keys` (a successful login).
    pub async fn forgive(&self, keys: &[String]) {
        let Some(mut conn) = self.conn() else { return };
        let keys: Vec<String> = keys
            .iter()
            .map(|k| self.key(&format!("fail:{k}")))
            .collect();
        let _: redis::RedisResult<i64> = redis::cmd("DEL").arg(&keys).query_async(&mut conn).await;
    }

    /// Presence changes of this node's sockets, told to the cluster; an
    /// agent's first socket anywhere and last socket everywhere are
    /// announced, once.
    async fn presence(self, mut rx: mpsc::UnboundedReceiver<PresenceChange>) {
        while let Some(change) = rx.recv().await {
            let announce = match self.conn() {
                Some(mut conn) => match self.record_presence(&mut conn, &change).await {
                    Ok(announce) => announce,
                    Err(e) => {
                        tracing::warn!(error = %e, "cluster presence not recorded");
                        self.mark_broken("presence write failed");
                        true
                    }
                },
                // Alone while the bridge is down: announce as a single node.
                None => true,
            };
            if change.online
                && let Some(f) = self.inner.on_agent_online.get()
            {
                f(&change.tenant);
            }
            if announce {
                self.announce(
                    &change.tenant,
                    change.agent,
                    change.name,
                    change.online,
                    change.status,
                )
                .await;
            }
        }
    }

    async fn record_presence(
        &self,
        conn: &mut MultiplexedConnection,
        change: &PresenceChange,
    ) -> redis::RedisResult<bool> {
        let node_set = self.key(&format!("pn:{}", self.inner.settings.node_id));
        let online = self.key(&format!("online:{}", change.tenant));
        let member = format!("{}|{}|{}", change.tenant, change.agent, change.name);
        let script = if change.online {
            scripts::came_online()
        } else {
            scripts::went_offline()
        };
        let n: i64 = script
            .key(node_set)
            .key(online)
            .arg(member)
            .arg(change.agent.as_str())
            .invoke_async(conn)
            .await?;
        Ok(if change.online { n == 1 } else { n == 0 })
    }

    pub(crate) async fn announce(
        &self,
        tenant: &TenantId,
        agent: AgentId,
        name: String,
        online: bool,
        status: chat_domain::AgentStatus,
    ) {
        let event = ChatEvent::AgentPresence {
            agent_id: agent,
            name,
            online,
            status,
        };
        self.deliver_and_publish(Target::Tenant(tenant.clone()), &event, Audience::Agent)
            .await;
    }
}

/// A socket's place under a cluster cap, given back when dropped.
pub struct Place {
    cluster: Cluster,
    key: String,
}

impl Drop for Place {
    fn drop(&mut self) {
        let cluster = self.cluster.clone();
        let key = std::mem::take(&mut self.key);
        tokio::spawn(async move {
            let Some(mut conn) = cluster.conn() else {
                // Redis lost the count with the connection, or will drop it
                // with the node's keys.
                return;
            };
            let caps = cluster.key(&format!("caps:{}", cluster.inner.settings.node_id));
            let _: redis::RedisResult<i64> = scripts::give_place()
                .key(caps)
                .arg(key)
                .invoke_async(&mut conn)
                .await;
        });
    }
}

#[async_trait]
impl WebSocketHub for Cluster {
    async fn broadcast_to_tenant(&self, tenant: &TenantId, event: ChatEvent) {
        self.deliver_and_publish(Target::Tenant(tenant.clone()), &event, Audience::Agent)
            .await;
    }

    async fn broadcast_to_user(&self, tenant: &TenantId, agent: &AgentId, event: ChatEvent) {
        self.deliver_and_publish(
            Target::Agent(tenant.clone(), agent.clone()),
            &event,
            Audience::Agent,
        )
        .await;
    }

    async fn send_to_session(&self, tenant: &TenantId, session: &SessionId, event: ChatEvent) {
        self.deliver_and_publish(
            Target::Session(tenant.clone(), session.clone()),
            &event,
            Audience::Customer,
        )
        .await;
    }

    async fn online_agents(&self, tenant: &TenantId) -> Vec<AgentId> {
        Cluster::online_agents(self, tenant).await
    }
}

/// The event names, as the `'static` strings the delivery counters take.
fn event_name(name: &str) -> &'static str {
    const KNOWN: [&str; 9] = [
        "chat.session.started",
        "chat.message.new",
        "chat.session.assigned",
        "chat.agent.joined",
        "chat.session.closed",
        "chat.session.reopened",
        "chat.typing",
        "chat.bot.handoff",
        "agent.presence",
    ];
    KNOWN.into_iter().find(|k| *k == name).unwrap_or("other")
}

fn unix_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}
