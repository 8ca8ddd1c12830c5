//! Outgoing webhooks: the body of each delivery (rendered by the store
//! inside the change's transaction through [`WireWebhooks`]), its Standard
//! Webhooks signature, and the sender that works the outbox.
//!
//! At least once: a delivery is claimed with a lease, sent, and only then
//! marked delivered; a crash in between sends it again after the lease.
//! The claim is a conditional update, so of several nodes exactly one
//! sends a given attempt.

mod guard;
mod sender;
mod sign;

use std::sync::Arc;

use chat_domain::{ChatEvent, TenantId, Timestamp, WebhookRenderer};
use serde::Serialize;

use crate::wire::{Session, frames::frame_payload, rfc3339};

pub use guard::GuardedResolver;
pub use sender::{WebhookSender, WebhookSettings};
pub use sign::{sign, signing_key};

/// The envelope every delivery carries.
#[derive(Serialize)]
struct Envelope<'a> {
    id: &'a str,
    #[serde(rename = "type")]
    kind: &'a str,
    created_at: String,
    tenant_id: &'a str,
    /// The payload of the agents' WebSocket frame for the same event.
    data: serde_json::Value,
}

/// Renders deliveries with the wire types: `data` is exactly what an
/// agent's socket receives as the event's `payload`.
pub struct WireWebhooks;

impl WebhookRenderer for WireWebhooks {
    fn body(&self, event_id: &str, tenant: &TenantId, at: Timestamp, event: &ChatEvent) -> String {
        let envelope = Envelope {
            id: event_id,
            kind: event.event_type(),
            created_at: rfc3339(&at),
            tenant_id: tenant.as_str(),
            data: frame_payload::<Session>(event),
        };
        serde_json::to_string(&envelope).unwrap_or_default()
    }
}

/// Wakes the sender before its next poll (a redelivery was asked for).
#[derive(Clone, Default)]
pub struct Wake(Arc<tokio::sync::Notify>);

impl Wake {
    pub fn wake(&self) {
        self.0.notify_one();
    }

    pub(crate) async fn woken(&self) {
        self.0.notified().await;
    }
}
