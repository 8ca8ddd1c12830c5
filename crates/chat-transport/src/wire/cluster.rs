//! What nodes tell each other over the cluster bridge (Redis pub/sub). Not
//! a client contract: every node of one deployment runs the same version.

use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, Deserialize)]
pub struct Envelope {
    /// The node that published it; it skips its own.
    pub node: String,
    #[serde(flatten)]
    pub body: EnvelopeBody,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EnvelopeBody {
    /// An encoded frame for the sockets of `to` on every other node.
    Frame {
        to: EnvelopeTarget,
        event: String,
        /// For `chat.message.new`: which message, so that sockets skip
        /// copies of one they already wrote.
        #[serde(default)]
        message: Option<(String, i64)>,
        text: String,
    },
    /// Close the sockets opened with this credential (its digest).
    KickCredential { credential: String },
    /// Close an agent's sockets, but those opened with `keep`.
    KickAgent {
        tenant: String,
        agent: String,
        keep: Option<String>,
    },
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case")]
pub enum EnvelopeTarget {
    Tenant { tenant: String },
    Agent { tenant: String, agent: String },
    Session { tenant: String, session: String },
}
