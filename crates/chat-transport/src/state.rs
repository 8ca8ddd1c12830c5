//! What every handler and connection shares.

use std::net::IpAddr;
use std::sync::Arc;

use chat_service::{AuthService, ChatService};

use crate::hub::HubHandle;
use crate::limits::RateLimits;
use crate::ws::WsLimits;

/// Everything a handler needs; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub chat: Arc<ChatService>,
    pub auth: Arc<AuthService>,
    pub hub: HubHandle,
    pub ws_limits: WsLimits,
    pub limits: Arc<RateLimits>,
    /// Peers whose `X-Forwarded-For` is believed (the operator's proxies).
    pub trusted_proxies: Arc<[IpAddr]>,
    /// Wakes the webhook sender (after a redelivery is asked for).
    pub webhooks: crate::webhooks::Wake,
    /// The cluster bridge, when `CHAT__REDIS__URL` is set.
    pub cluster: Option<crate::cluster::Cluster>,
}

impl AppState {
    /// The client's address as the limits see it.
    pub fn client_address(&self, req: &actix_web::HttpRequest) -> IpAddr {
        crate::limits::client_address(req, &self.trusted_proxies)
    }

    /// Closes the sockets of a credential on every node.
    pub async fn kick_credential(&self, credential: &str) {
        match &self.cluster {
            Some(c) => c.kick_credential(credential).await,
            None => self.hub.kick_credential(credential).await,
        }
    }

    /// Closes an agent's sockets (but `keep`'s) on every node.
    pub async fn kick_agent(
        &self,
        tenant: &chat_domain::TenantId,
        agent: &chat_domain::AgentId,
        keep: Option<&str>,
    ) {
        match &self.cluster {
            Some(c) => c.kick_agent(tenant, agent, keep).await,
            None => self.hub.kick_agent(tenant, agent, keep).await,
        }
    }

    /// The tenant's agents with a socket open on any node.
    pub async fn online_agents(&self, tenant: &chat_domain::TenantId) -> Vec<chat_domain::AgentId> {
        match &self.cluster {
            Some(c) => c.online_agents(tenant).await,
            None => self.hub.online_agents(tenant).await,
        }
    }

    pub fn webhooks_wake(&self) {
        self.webhooks.wake();
    }
}
