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

    /// A per-minute limit across the cluster, on top of this node's own.
    async fn within(
        &self,
        what: &'static str,
        label: &str,
        key: String,
        per_minute: u32,
    ) -> Result<(), crate::error::ApiError> {
        if let Some(cluster) = &self.cluster
            && let Some(Err(wait)) = cluster.within(&format!("{label}:{key}"), per_minute).await
        {
            metrics::counter!("chat_rate_limited_total", "what" => label.to_owned()).increment(1);
            return Err(crate::limits::refused(what, wait.as_secs() + 1));
        }
        Ok(())
    }

    /// A widget starting a chat: this node's limits, then the cluster's.
    pub async fn limit_session_start(
        &self,
        address: IpAddr,
        slug: &str,
    ) -> Result<(), crate::error::ApiError> {
        self.limits.session_start(address, slug)?;
        let s = *self.limits.settings();
        self.within(
            "new chats from this address",
            "starts_per_address",
            address.to_string(),
            s.starts_per_address,
        )
        .await?;
        self.within(
            "new chats for this site",
            "starts_per_tenant",
            slug.to_owned(),
            s.starts_per_tenant,
        )
        .await
    }

    /// A customer's message: this node's limits, then the cluster's.
    pub async fn limit_customer_send(
        &self,
        address: IpAddr,
        tenant: &chat_domain::TenantId,
        session: &chat_domain::SessionId,
    ) -> Result<(), crate::error::ApiError> {
        self.limits.customer_send(address, tenant, session)?;
        let s = *self.limits.settings();
        self.within(
            "messages in this chat",
            "sends_per_session",
            session.to_string(),
            s.sends_per_session,
        )
        .await?;
        self.within(
            "messages from this address",
            "sends_per_address",
            address.to_string(),
            s.sends_per_address,
        )
        .await?;
        self.within(
            "messages for this site",
            "sends_per_tenant",
            tenant.to_string(),
            s.sends_per_tenant,
        )
        .await
    }

    /// A widget read or socket open: this node's limit, then the cluster's.
    pub async fn limit_public_read(&self, address: IpAddr) -> Result<(), crate::error::ApiError> {
        self.limits.public_read(address)?;
        let per_minute = self.limits.settings().reads_per_address;
        self.within(
            "requests from this address",
            "reads_per_address",
            address.to_string(),
            per_minute,
        )
        .await
    }

    /// An agent's message: this node's limit, then the cluster's.
    pub async fn limit_agent_send(
        &self,
        agent: &chat_domain::AgentId,
    ) -> Result<(), crate::error::ApiError> {
        self.limits.agent_send(agent)?;
        let per_minute = self.limits.settings().sends_per_agent;
        self.within(
            "messages from this agent",
            "sends_per_agent",
            agent.to_string(),
            per_minute,
        )
        .await
    }

    pub fn webhooks_wake(&self) {
        self.webhooks.wake();
    }
}
