//! What every handler and connection shares.

use std::net::IpAddr;
use std::sync::Arc;

use chat_service::{AuthService, ChatService};

use crate::error::ApiError;
use crate::hub::HubHandle;
use crate::limits::{RateLimits, SharedLimit};
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

    /// The limits a request passed on this node, checked once more for the
    /// whole cluster (one round trip); nothing more without a cluster.
    async fn shared(&self, limits: Vec<SharedLimit>) -> Result<(), ApiError> {
        let Some(cluster) = &self.cluster else {
            return Ok(());
        };
        match cluster.within(&limits).await {
            Some(Err((i, wait))) => Err(limits[i].refused(wait)),
            _ => Ok(()),
        }
    }

    /// A widget starting a chat: this node's limits, then the cluster's.
    pub async fn limit_session_start(&self, address: IpAddr, slug: &str) -> Result<(), ApiError> {
        let shared = self.limits.session_start(address, slug)?;
        self.shared(shared).await
    }

    /// A customer's message: this node's limits, then the cluster's.
    pub async fn limit_customer_send(
        &self,
        address: IpAddr,
        tenant: &chat_domain::TenantId,
        session: &chat_domain::SessionId,
    ) -> Result<(), ApiError> {
        let shared = self.limits.customer_send(address, tenant, session)?;
        self.shared(shared).await
    }

    /// A widget read or socket open: this node's limit, then the cluster's.
    pub async fn limit_public_read(&self, address: IpAddr) -> Result<(), ApiError> {
        let shared = self.limits.public_read(address)?;
        self.shared(shared).await
    }

    /// An agent's message: this node's limit, then the cluster's.
    pub async fn limit_agent_send(&self, agent: &chat_domain::AgentId) -> Result<(), ApiError> {
        let shared = self.limits.agent_send(agent)?;
        self.shared(shared).await
    }

    /// An agent's search or transcript: this node's limit, then the
    /// cluster's.
    pub async fn limit_agent_search(&self, agent: &chat_domain::AgentId) -> Result<(), ApiError> {
        let shared = self.limits.agent_search(agent)?;
        self.shared(shared).await
    }

    pub fn webhooks_wake(&self) {
        self.webhooks.wake();
    }
}
