//! API tokens: credentials for integrations, acting for their tenant with
//! only the scopes they were given.

use crate::{AgentId, TenantId, Timestamp, ValidationError};

/// What an API token may do. A logged-in agent may do all of it (within
/// their role); a token only what its scopes name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    SessionsRead,
    SessionsWrite,
    MessagesRead,
    MessagesWrite,
    AgentsRead,
    AgentsWrite,
    KbRead,
    KbWrite,
    SettingsRead,
    SettingsWrite,
    WebhooksRead,
    WebhooksWrite,
    ReportsRead,
}

impl Scope {
    pub const ALL: [Scope; 13] = [
        Scope::SessionsRead,
        Scope::SessionsWrite,
        Scope::MessagesRead,
        Scope::MessagesWrite,
        Scope::AgentsRead,
        Scope::AgentsWrite,
        Scope::KbRead,
        Scope::KbWrite,
        Scope::SettingsRead,
        Scope::SettingsWrite,
        Scope::WebhooksRead,
        Scope::WebhooksWrite,
        Scope::ReportsRead,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::SessionsRead => "sessions:read",
            Scope::SessionsWrite => "sessions:write",
            Scope::MessagesRead => "messages:read",
            Scope::MessagesWrite => "messages:write",
            Scope::AgentsRead => "agents:read",
            Scope::AgentsWrite => "agents:write",
            Scope::KbRead => "kb:read",
            Scope::KbWrite => "kb:write",
            Scope::SettingsRead => "settings:read",
            Scope::SettingsWrite => "settings:write",
            Scope::WebhooksRead => "webhooks:read",
            Scope::WebhooksWrite => "webhooks:write",
            Scope::ReportsRead => "reports:read",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        Scope::ALL
            .into_iter()
            .find(|s| s.as_str() == raw)
            .ok_or_else(|| ValidationError::new("scopes", format!("unknown scope {raw:?}")))
    }

    /// A token's scopes: at least one, each known, duplicates dropped.
    pub fn parse_list<S: AsRef<str>>(raw: &[S]) -> Result<Vec<Scope>, ValidationError> {
        if raw.is_empty() {
            return Err(ValidationError::new(
                "scopes",
                "must name at least one scope",
            ));
        }
        let mut scopes = raw
            .iter()
            .map(|s| Scope::parse(s.as_ref()))
            .collect::<Result<Vec<_>, _>>()?;
        scopes.sort();
        scopes.dedup();
        Ok(scopes)
    }
}

/// A stored API token (never its secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiToken {
    pub id: String,
    pub tenant_id: TenantId,
    /// The admin who made it: the token acts as them, within its scopes,
    /// and dies with their account.
    pub agent_id: AgentId,
    pub name: String,
    pub scopes: Vec<Scope>,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
}

#[derive(Debug, Clone)]
pub struct NewApiToken {
    pub agent_id: AgentId,
    pub name: String,
    pub scopes: Vec<Scope>,
    /// SHA-256 digest of the secret; the secret itself is never stored.
    pub token_hash: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_round_trip_and_unknown_ones_are_refused() {
        for s in Scope::ALL {
            assert_eq!(Scope::parse(s.as_str()), Ok(s));
        }
        assert!(Scope::parse("sessions:delete").is_err());
        assert!(Scope::parse_list::<&str>(&[]).is_err());
        assert_eq!(
            Scope::parse_list(&["kb:read", "kb:read", "agents:read"]),
            Ok(vec![Scope::AgentsRead, Scope::KbRead])
        );
    }
}
