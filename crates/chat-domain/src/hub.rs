//! The port through which the service publishes events to connected clients.

use async_trait::async_trait;

use crate::{AgentId, ChatEvent, SessionId, TenantId};

/// Delivers events to live connections. Implementations must never block the
/// caller on a slow client and never deliver across tenants.
#[async_trait]
pub trait WebSocketHub: Send + Sync {
    /// Every agent connection of the tenant.
    async fn broadcast_to_tenant(&self, tenant: &TenantId, event: ChatEvent);
    /// Every connection (all tabs) of one agent.
    async fn broadcast_to_user(&self, tenant: &TenantId, agent: &AgentId, event: ChatEvent);
    /// Every connection (all tabs) of the customer of one session.
    async fn send_to_session(&self, tenant: &TenantId, session: &SessionId, event: ChatEvent);
    /// The tenant's agents with a socket open (on any node): who is
    /// reachable at all.
    async fn online_agents(&self, tenant: &TenantId) -> Vec<AgentId>;
}

/// A hub that delivers nothing, for tools that run the service without any
/// connected clients (admin commands, imports).
#[derive(Debug, Default, Clone, Copy)]
pub struct NoopHub;

#[async_trait]
impl WebSocketHub for NoopHub {
    async fn broadcast_to_tenant(&self, _: &TenantId, _: ChatEvent) {}
    async fn broadcast_to_user(&self, _: &TenantId, _: &AgentId, _: ChatEvent) {}
    async fn send_to_session(&self, _: &TenantId, _: &SessionId, _: ChatEvent) {}
    async fn online_agents(&self, _: &TenantId) -> Vec<AgentId> {
        Vec::new()
    }
}
