//! WebSocket endpoints: `/ws` for agents and `/ws/public/{session_key}` for
//! the customer's widget, and the per-connection task they share.
//!
//! - `endpoints`: the upgrade, with every check before it;
//! - `conn`: one connection's life cycle (heartbeat, expiry, kicks, close)
//!   and the ordering of a resume's replay against live frames;
//! - `frames`: one handler per client frame type, the twin of `routes/`;
//! - `rate`: the per-socket frame budget;
//! - `outgoing`: the response body that writes the hub's frames.

mod conn;
mod endpoints;
mod frames;
mod framing;
mod outgoing;
mod rate;

use std::time::Duration;

pub use endpoints::configure;

/// Ping interval; a connection that misses [`WsLimits::missed_pongs`] in a
/// row is closed.
pub const HEARTBEAT_INTERVAL: Duration = Duration::from_secs(20);
pub const MISSED_PONGS: u32 = 2;

/// Close codes the server uses (RFC 6455 §7.4.1 and the 4000 range).
pub mod close_code {
    /// Policy violation: the client flooded the server with frames.
    pub const POLICY: u16 = 1008;
    pub const TOO_BIG: u16 = 1009;
    /// The frames broke the protocol.
    pub const PROTOCOL_ERROR: u16 = 1002;
    /// A text message that is not UTF-8.
    pub const INVALID_PAYLOAD: u16 = 1007;
    pub const GOING_AWAY: u16 = 1001;
    pub const HEARTBEAT_TIMEOUT: u16 = 4000;
    /// The agent's token expired or was revoked by logout.
    pub const UNAUTHORIZED: u16 = 4001;
    /// The node lost the cluster bridge for too long: reconnect elsewhere.
    pub const SERVICE_RESTART: u16 = 1012;
    /// The client did not read fast enough and its queue filled up.
    pub const SLOW_CONSUMER: u16 = 4008;
}

/// Per-connection limits, all configurable.
#[derive(Debug, Clone, Copy)]
pub struct WsLimits {
    pub max_frame_bytes: usize,
    pub frames_per_second: u32,
    pub burst: u32,
    /// Refused (rate-limited) frames tolerated within ten seconds before the
    /// socket is closed as a flood.
    pub flood_tolerance: u32,
    pub outbound_queue: usize,
    pub heartbeat: Duration,
    pub missed_pongs: u32,
    /// A repeated typing state is relayed at most this often.
    pub typing_interval: Duration,
    /// How long one of the connection's own writes (a reply, a replayed
    /// message) may wait for the client to read before the socket is cut
    /// as a slow consumer (4008).
    pub write_deadline: Duration,
    /// Messages one `chat.resume` replays; past that, `chat.resume.done`
    /// says `more` and the client resumes again from its `last_seq`.
    pub max_replay: usize,
}

impl Default for WsLimits {
    fn default() -> Self {
        Self {
            max_frame_bytes: 64 * 1024,
            frames_per_second: 20,
            burst: 40,
            flood_tolerance: 100,
            outbound_queue: 512,
            heartbeat: HEARTBEAT_INTERVAL,
            missed_pongs: MISSED_PONGS,
            typing_interval: Duration::from_secs(2),
            write_deadline: Duration::from_secs(10),
            max_replay: 500,
        }
    }
}
