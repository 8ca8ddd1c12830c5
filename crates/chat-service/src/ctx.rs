//! Who is acting: the tenant context of every agent operation.

use chat_domain::{Agent, Role, Scope, TenantId, Timestamp};

use crate::{Error, Result};

/// An authenticated agent: the tenant context of every agent operation.
#[derive(Debug, Clone)]
pub struct AgentCtx {
    pub agent: Agent,
    /// Digest of the access token this request or connection rides on.
    pub credential: String,
    pub expires_at: Timestamp,
    /// `None` for an agent who logged in; an API token's scopes otherwise.
    pub scopes: Option<Vec<Scope>>,
}

impl AgentCtx {
    pub fn tenant_id(&self) -> &TenantId {
        &self.agent.tenant_id
    }

    /// Whether this is an API token rather than a logged-in agent.
    pub fn is_api_token(&self) -> bool {
        self.scopes.is_some()
    }

    /// An API token must carry the scope; a logged-in agent has them all.
    pub fn require(&self, scope: Scope) -> Result<()> {
        match &self.scopes {
            Some(scopes) if !scopes.contains(&scope) => Err(Error::MissingScope(scope)),
            _ => Ok(()),
        }
    }

    /// Things only a person signed in may do (sockets, passwords, tokens).
    pub fn require_login(&self) -> Result<()> {
        if self.is_api_token() {
            return Err(Error::Forbidden("an API token cannot do this"));
        }
        Ok(())
    }

    pub fn require_admin(&self) -> Result<()> {
        match self.agent.role {
            Role::Admin => Ok(()),
            Role::Agent => Err(Error::Forbidden("this needs the admin role")),
        }
    }
}
