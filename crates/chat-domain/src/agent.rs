//! Support agents and their roles.

use crate::{AgentId, TenantId, Timestamp, ValidationError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Admin,
    Agent,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Agent => "agent",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        match raw {
            "admin" => Ok(Role::Admin),
            "agent" => Ok(Role::Agent),
            _ => Err(ValidationError::new("role", "must be 'admin' or 'agent'")),
        }
    }
}

/// An email address, trimmed and lowercased. The check is deliberately
/// shallow (one `@`, a dot in the domain, no spaces): the only real test of an
/// address is sending to it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let s = raw.trim().to_ascii_lowercase();
        let valid = s.len() <= 254
            && !s.chars().any(char::is_whitespace)
            && s.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty()
                    && domain.contains('.')
                    && !domain.contains('@')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
            });
        if valid {
            Ok(Self(s))
        } else {
            Err(ValidationError::new(
                "email",
                "is not a valid email address",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Whether an agent takes new conversations. Sockets decide whether an
/// agent is reachable at all; this decides whether a reachable agent is
/// given more work.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum AgentStatus {
    /// Taking new conversations.
    #[default]
    Online,
    Away,
    Busy,
}

impl AgentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AgentStatus::Online => "online",
            AgentStatus::Away => "away",
            AgentStatus::Busy => "busy",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        match raw {
            "online" => Ok(Self::Online),
            "away" => Ok(Self::Away),
            "busy" => Ok(Self::Busy),
            _ => Err(ValidationError::new(
                "status",
                "must be 'online', 'away' or 'busy'",
            )),
        }
    }

    pub fn takes_conversations(self) -> bool {
        self == AgentStatus::Online
    }
}

/// The most conversations an agent may be given at once, as admins set it.
pub const MAX_CONCURRENT_LIMIT: u32 = 100;

/// A capacity: 1 to [`MAX_CONCURRENT_LIMIT`].
pub fn parse_max_concurrent(field: &'static str, n: i64) -> Result<u32, ValidationError> {
    if (1..=i64::from(MAX_CONCURRENT_LIMIT)).contains(&n) {
        Ok(n as u32)
    } else {
        Err(ValidationError::new(
            field,
            format!("must be 1 to {MAX_CONCURRENT_LIMIT}"),
        ))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agent {
    pub id: AgentId,
    pub tenant_id: TenantId,
    pub name: String,
    pub email: Email,
    pub role: Role,
    /// A deactivated agent cannot log in and holds no tokens.
    pub active: bool,
    pub created_at: Timestamp,
    pub status: AgentStatus,
    /// The agent's own cap on open conversations; `None`: the tenant's
    /// default.
    pub max_concurrent: Option<u32>,
    /// When the agent was last given a conversation.
    pub last_assigned_at: Option<Timestamp>,
}

impl Agent {
    /// Whether new conversations may go to the agent now: active, `online`,
    /// and reachable (a socket open somewhere).
    pub fn available(&self, reachable: &std::collections::HashSet<AgentId>) -> bool {
        self.active && self.status.takes_conversations() && reachable.contains(&self.id)
    }

    /// The cap that applies: the agent's own, or the tenant's default.
    pub fn capacity(&self, default: u32) -> u32 {
        self.max_concurrent.unwrap_or(default)
    }

    pub fn as_ref(&self) -> AgentRef {
        AgentRef {
            id: self.id.clone(),
            name: self.name.clone(),
        }
    }
}

/// The part of an agent that other objects show: id and display name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentRef {
    pub id: AgentId,
    pub name: String,
}

#[derive(Debug, Clone)]
pub struct NewAgent {
    pub name: String,
    pub email: Email,
    pub role: Role,
    /// The argon2id PHC string; the domain never sees a plain password.
    pub password_hash: String,
}

/// What an admin may change of an agent; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AgentPatch {
    pub name: Option<String>,
    pub role: Option<Role>,
    pub active: Option<bool>,
    /// `Some(None)` goes back to the tenant's default.
    pub max_concurrent: Option<Option<u32>>,
}

impl AgentPatch {
    /// Whether applying it to `agent` leaves the agent an active admin no
    /// longer: the change the last active admin may not make.
    pub fn removes_admin(&self, agent: &Agent) -> bool {
        let admin_before = agent.active && agent.role == Role::Admin;
        let admin_after =
            self.active.unwrap_or(agent.active) && self.role.unwrap_or(agent.role) == Role::Admin;
        admin_before && !admin_after
    }
}

/// A display name: trimmed, 1 to 100 characters.
pub fn parse_display_name(field: &'static str, raw: &str) -> Result<String, ValidationError> {
    let name = raw.trim();
    let len = name.chars().count();
    if len == 0 || len > 100 {
        return Err(ValidationError::new(field, "must be 1 to 100 characters"));
    }
    Ok(name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_lowercased_and_trimmed() {
        assert_eq!(
            Email::parse("  Agent@Demo.com ").map(|e| e.0),
            Ok("agent@demo.com".into())
        );
    }

    #[test]
    fn malformed_emails_are_rejected() {
        for bad in ["", "a", "a@b", "@b.c", "a b@c.d", "a@b.c@d.e", "a@.c"] {
            assert!(Email::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn unknown_roles_are_rejected() {
        assert!(Role::parse("root").is_err());
        assert_eq!(Role::parse("admin"), Ok(Role::Admin));
    }
}
