//! Automatic assignment: who gets the next waiting conversation.
//!
//! The choice is made here, from a snapshot (who is reachable, how many open
//! conversations each agent has); whether it still holds is decided by the
//! repository, which takes a conversation and a place under the agent's cap
//! in one transaction, so two nodes choosing at once cannot both win.

use std::collections::{HashMap, HashSet};

use crate::{Agent, AgentId, AgentRef, ChatSession, Committed, Timestamp, ValidationError};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum AssignmentMode {
    /// Agents pick conversations themselves.
    #[default]
    Manual,
    /// Waiting conversations go to the least busy online agent.
    Auto,
}

impl AssignmentMode {
    pub fn as_str(self) -> &'static str {
        match self {
            AssignmentMode::Manual => "manual",
            AssignmentMode::Auto => "auto",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        match raw {
            "manual" => Ok(Self::Manual),
            "auto" => Ok(Self::Auto),
            _ => Err(ValidationError::new(
                "assignment",
                "must be 'manual' or 'auto'",
            )),
        }
    }
}

/// A tenant's assignment settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AssignmentSettings {
    pub mode: AssignmentMode,
    /// The cap of agents without one of their own.
    pub default_max_concurrent: u32,
}

impl Default for AssignmentSettings {
    fn default() -> Self {
        Self {
            mode: AssignmentMode::Manual,
            default_max_concurrent: DEFAULT_MAX_CONCURRENT,
        }
    }
}

pub const DEFAULT_MAX_CONCURRENT: u32 = 5;

/// An agent who could take the next conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub agent: AgentRef,
    pub open: u32,
    pub capacity: u32,
    pub last_assigned_at: Option<Timestamp>,
}

/// The agents who may be given a conversation now, best first: active,
/// reachable (a socket open somewhere), `online`, below their cap; fewest
/// open conversations first, then the one assigned least recently (never
/// before counts as longest ago), then by id so every node agrees.
pub fn candidates(
    agents: &[Agent],
    reachable: &HashSet<AgentId>,
    open: &HashMap<AgentId, u32>,
    default_max_concurrent: u32,
) -> Vec<Candidate> {
    let mut out: Vec<Candidate> = agents
        .iter()
        .filter(|a| a.available(reachable))
        .map(|a| Candidate {
            agent: a.as_ref(),
            open: open.get(&a.id).copied().unwrap_or(0),
            capacity: a.capacity(default_max_concurrent),
            last_assigned_at: a.last_assigned_at,
        })
        .filter(|c| c.open < c.capacity)
        .collect();
    out.sort_by(|a, b| {
        a.open
            .cmp(&b.open)
            .then(a.last_assigned_at.cmp(&b.last_assigned_at))
            .then(a.agent.id.as_str().cmp(b.agent.id.as_str()))
    });
    out
}

/// What became of one attempt to give a waiting conversation to an agent.
#[derive(Debug, Clone)]
pub enum AssignAttempt {
    Assigned(Box<Committed<ChatSession>>),
    /// Someone else took (or closed) the conversation first.
    SessionTaken,
    /// The agent reached the cap meanwhile, or is no longer online.
    AgentFull,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AgentStatus, Email, Role, TenantId};

    fn agent(id: &str, status: AgentStatus, cap: Option<u32>, last: Option<i64>) -> Agent {
        Agent {
            id: AgentId::new(id),
            tenant_id: TenantId::new("t"),
            name: id.into(),
            email: Email::parse(&format!("{id}@x.test")).expect("Email::parse"),
            role: Role::Agent,
            active: true,
            created_at: chrono::Utc::now(),
            status,
            max_concurrent: cap,
            last_assigned_at: last.and_then(chrono::DateTime::from_timestamp_micros),
        }
    }

    fn ids(c: &[Candidate]) -> Vec<&str> {
        c.iter().map(|c| c.agent.id.as_str()).collect()
    }

    #[test]
    fn fewest_open_first_then_least_recently_assigned() {
        let agents = [
            agent("a", AgentStatus::Online, None, Some(30)),
            agent("b", AgentStatus::Online, None, Some(10)),
            agent("c", AgentStatus::Online, None, None),
            agent("d", AgentStatus::Online, None, Some(5)),
        ];
        let reachable = agents.iter().map(|a| a.id.clone()).collect();
        let open = HashMap::from([(AgentId::new("d"), 2), (AgentId::new("a"), 1)]);
        let got = candidates(&agents, &reachable, &open, 5);
        assert_eq!(ids(&got), ["c", "b", "a", "d"]);
    }

    #[test]
    fn away_busy_unreachable_inactive_and_full_agents_are_left_out() {
        let mut inactive = agent("e", AgentStatus::Online, None, None);
        inactive.active = false;
        let agents = [
            agent("a", AgentStatus::Away, None, None),
            agent("b", AgentStatus::Busy, None, None),
            agent("c", AgentStatus::Online, None, None),
            agent("d", AgentStatus::Online, Some(2), None),
            inactive,
            agent("f", AgentStatus::Online, None, None),
        ];
        let reachable: HashSet<AgentId> = ["a", "b", "d", "e", "f"]
            .into_iter()
            .map(AgentId::new)
            .collect();
        let open = HashMap::from([(AgentId::new("d"), 2), (AgentId::new("f"), 4)]);
        assert_eq!(ids(&candidates(&agents, &reachable, &open, 5)), ["f"]);
        assert!(candidates(&agents, &reachable, &open, 4).is_empty());
    }

    #[test]
    fn modes_parse_strictly() {
        assert_eq!(AssignmentMode::parse("auto"), Ok(AssignmentMode::Auto));
        assert!(AssignmentMode::parse("Auto").is_err());
        assert!(crate::agent::parse_max_concurrent("n", 0).is_err());
        assert_eq!(crate::agent::parse_max_concurrent("n", 100), Ok(100));
    }
}
