//! The connection hub: one task owns the registry of live connections (per
//! tenant, per agent, per session); everything else talks to it through a
//! cloneable [`HubHandle`] over a bounded command channel.
//!
//! Delivery never waits on a client: each connection has its own bounded
//! outbound queue, filled without waiting. A connection whose queue is full
//! is told to close (code 4008) and dropped from the registry, so one slow
//! reader never slows the hub or anyone else.

mod handle;
pub mod local;
mod registry;

use chat_domain::{AgentId, AgentStatus, SessionId, TenantId};
use tokio::sync::{mpsc, oneshot};

pub(crate) use handle::frame;
pub use handle::{HubHandle, Target};

/// Capacity of the hub's command channel.
pub const COMMAND_QUEUE: usize = 4096;

pub type ConnId = u64;

/// A frame as it is written to the socket, shared by every recipient. One
/// pointer wide, so that each connection's queue (whose first block of
/// slots is allocated with the socket) stays small.
#[derive(Debug, Clone)]
pub struct Outbound(std::sync::Arc<Frame>);

#[derive(Debug)]
struct Frame {
    text: bytestring::ByteString,
    /// `text` as a WebSocket text frame, encoded once for every recipient
    /// (a server's frames are not masked, so every socket writes the same
    /// bytes).
    wire: bytes::Bytes,
    message: Option<(u64, i64)>,
    /// The event's name, for the delivery counters.
    event: &'static str,
    /// When it was published, right after its commit.
    published: std::time::Instant,
}

impl Outbound {
    /// `message` is `(session_key, seq)` for `chat.message.new`, so a
    /// connection can skip copies of messages it already wrote.
    pub fn new(
        text: bytestring::ByteString,
        message: Option<(u64, i64)>,
        event: &'static str,
    ) -> Self {
        let mut wire = bytes::BytesMut::new();
        actix_http::ws::Parser::write_message(
            &mut wire,
            text.as_bytes(),
            actix_http::ws::OpCode::Text,
            true,
            false,
        );
        Self(std::sync::Arc::new(Frame {
            text,
            wire: wire.freeze(),
            message,
            event,
            published: std::time::Instant::now(),
        }))
    }

    pub fn event(&self) -> &'static str {
        self.0.event
    }

    pub fn published(&self) -> std::time::Instant {
        self.0.published
    }

    pub fn text(&self) -> &bytestring::ByteString {
        &self.0.text
    }

    /// The frame's bytes on the wire.
    pub fn wire(&self) -> &bytes::Bytes {
        &self.0.wire
    }

    pub fn message(&self) -> Option<(u64, i64)> {
        self.0.message
    }
}

/// Keys the server made itself (connection and worker ids, which count
/// up, and session keys, which are already hashes) need no protection
/// against chosen collisions, so a multiply-and-rotate mix is enough; it
/// costs a fraction of SipHash on paths taken once per delivered frame
/// (SipHash was 9% of the instructions of a fan-out to 1,000 sockets).
pub type KeyHash = std::hash::BuildHasherDefault<KeyHasher>;

#[derive(Default)]
pub struct KeyHasher(u64);

impl std::hash::Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.write_u64(u64::from(*b));
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(23) ^ n).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }

    fn write_i64(&mut self, n: i64) {
        self.write_u64(n as u64);
    }

    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }
}

/// A compact key for a session, for per-connection bookkeeping.
pub fn session_key(session: &SessionId) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    session.hash(&mut h);
    h.finish()
}

/// Why the hub closes a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kick {
    /// The outbound queue filled up.
    SlowConsumer,
    /// The token the connection rode on was revoked.
    LoggedOut,
    /// The server is stopping.
    Shutdown,
    /// The cluster bridge stayed down: reconnect (to another node) and
    /// resume.
    Restart,
}

/// An agent's first socket on this node opened, or its last one closed.
#[derive(Debug, Clone)]
pub struct PresenceChange {
    pub tenant: TenantId,
    pub agent: AgentId,
    pub name: String,
    pub online: bool,
    pub status: AgentStatus,
}

#[derive(Debug, Clone)]
pub enum Peer {
    Agent {
        tenant: TenantId,
        agent: AgentId,
        name: String,
        credential: String,
        /// The availability the agent had when the socket opened.
        status: AgentStatus,
    },
    Customer {
        tenant: TenantId,
        session: SessionId,
    },
}

/// What a connection hands the hub when it registers (after
/// [`local::attach`] filed its queue on its worker thread).
pub struct Registration {
    pub id: ConnId,
    pub worker: local::WorkerId,
    pub batches: mpsc::UnboundedSender<local::Batch>,
    pub peer: Peer,
    pub kick: oneshot::Sender<Kick>,
}

/// A connection the hub took (under the id it was registered with).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Registered {
    /// An agent's first socket on this node: they came online here (a
    /// second tab of someone already online changes nobody's availability).
    pub came_online: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegisterError {
    TooManyConnections,
    ShuttingDown,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HubStats {
    pub connections: usize,
    pub agents_online: usize,
    pub sessions_watched: usize,
}

/// Per-peer connection caps.
#[derive(Debug, Clone, Copy)]
pub struct HubLimits {
    pub max_sockets_per_session: usize,
    pub max_sockets_per_agent: usize,
}

pub(crate) enum Command {
    Register {
        reg: Registration,
        reply: oneshot::Sender<Result<Registered, RegisterError>>,
    },
    Unregister {
        id: ConnId,
    },
    /// A worker found this connection's queue full.
    SlowConsumer {
        id: ConnId,
    },
    ToTenantAgents {
        tenant: TenantId,
        frame: Outbound,
    },
    ToAgent {
        tenant: TenantId,
        agent: AgentId,
        frame: Outbound,
    },
    ToSession {
        tenant: TenantId,
        session: SessionId,
        frame: Outbound,
    },
    KickCredential {
        credential: String,
    },
    /// Every connection of an agent, but those opened with `keep`.
    KickAgent {
        tenant: TenantId,
        agent: AgentId,
        keep: Option<String>,
    },
    OnlineAgents {
        tenant: TenantId,
        reply: oneshot::Sender<Vec<AgentId>>,
    },
    Stats {
        reply: oneshot::Sender<HubStats>,
    },
    /// Every connection (the cluster's `chat.resync`).
    ToAll {
        frame: Outbound,
    },
    KickAll {
        why: Kick,
    },
    /// From now on presence changes go to the cluster, which decides what
    /// is announced, instead of being announced here.
    /// The agent's availability changed: later presence announcements of
    /// this node carry it.
    SetStatus {
        tenant: TenantId,
        agent: AgentId,
        status: AgentStatus,
    },
    ObservePresence {
        to: mpsc::UnboundedSender<PresenceChange>,
    },
    /// The agents with a socket on this node, with their names.
    LocalPresence {
        reply: oneshot::Sender<Vec<PresenceChange>>,
    },
    Shutdown,
}
