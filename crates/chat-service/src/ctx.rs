//! Who is acting: the tenant context of every agent operation.

use chat_domain::{Agent, Role, TenantId, Timestamp};

use crate::{Error, Result};

/// An authenticated agent: the tenant context of every agent operation.
#[derive(Debug, Clone)]
pub struct AgentCtx {
    pub agent: Agent,
    /// Digest of the access token this request or connection rides on.
    pub credential: String,
    pub expires_at: Timestamp,
}

impl AgentCtx {
    pub fn tenant_id(&self) -> &TenantId {
        &self.agent.tenant_id
    }

    pub fn require_admin(&self) -> Result<()> {
        match self.agent.role {
            Role::Admin => Ok(()),
            Role::Agent => Err(Error::Forbidden("this needs the admin role")),
        }
    }
}
