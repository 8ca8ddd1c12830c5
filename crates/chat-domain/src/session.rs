//! Chat sessions: one conversation between a customer and the tenant's
//! agents, and the rules of its life cycle (`pending` → `open` → `closed`).

use crate::{
    AgentId, AgentRef, CustomerId, Email, SessionId, TenantId, Timestamp, ValidationError,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionStatus {
    /// Started by a customer, no agent assigned yet.
    Pending,
    /// An agent is assigned.
    Open,
    /// Ended by an agent; can be reopened.
    Closed,
}

impl SessionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SessionStatus::Pending => "pending",
            SessionStatus::Open => "open",
            SessionStatus::Closed => "closed",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        match raw {
            "pending" => Ok(Self::Pending),
            "open" => Ok(Self::Open),
            "closed" => Ok(Self::Closed),
            _ => Err(ValidationError::new(
                "status",
                "must be 'pending', 'open' or 'closed'",
            )),
        }
    }
}

/// Where the customer was when the chat started. Every field is optional
/// and capped so a hostile page cannot store megabytes per session.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageContext {
    pub page_url: Option<String>,
    pub referrer: Option<String>,
    pub user_agent: Option<String>,
    pub locale: Option<String>,
}

impl PageContext {
    pub const MAX_URL: usize = 2048;
    pub const MAX_USER_AGENT: usize = 512;
    pub const MAX_LOCALE: usize = 35;

    pub fn parse(
        page_url: Option<&str>,
        referrer: Option<&str>,
        user_agent: Option<&str>,
        locale: Option<&str>,
    ) -> Result<Self, ValidationError> {
        Ok(Self {
            page_url: capped("context.page_url", page_url, Self::MAX_URL)?,
            referrer: capped("context.referrer", referrer, Self::MAX_URL)?,
            // The user agent comes from a header, not the client's JSON: a
            // long one is cut rather than refused.
            user_agent: user_agent
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| s.chars().take(Self::MAX_USER_AGENT).collect()),
            locale: capped("context.locale", locale, Self::MAX_LOCALE)?,
        })
    }
}

fn capped(
    field: &'static str,
    raw: Option<&str>,
    max: usize,
) -> Result<Option<String>, ValidationError> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) if s.chars().count() > max => Err(ValidationError::new(
            field,
            format!("must be at most {max} characters"),
        )),
        Some(s) => Ok(Some(s.to_owned())),
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Customer {
    pub id: CustomerId,
    pub name: Option<String>,
    pub email: Option<Email>,
    /// Free-form attributes the site owner attaches (plan, order id …).
    pub attributes: serde_json::Value,
}

impl Customer {
    /// What agents and events call the customer: the name, or "Visitor".
    pub fn display_name(&self) -> String {
        self.name.clone().unwrap_or_else(|| "Visitor".to_owned())
    }
}

#[derive(Debug, Clone, Default)]
pub struct NewCustomer {
    pub name: Option<String>,
    pub email: Option<Email>,
    pub attributes: serde_json::Value,
}

/// The SHA-256 hex digest of a session key. Only the digest is stored, so a
/// database leak does not hand out customers' credentials.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SessionKeyHash(pub String);

#[derive(Debug, Clone, PartialEq)]
pub struct ChatSession {
    pub id: SessionId,
    pub tenant_id: TenantId,
    pub customer: Customer,
    pub status: SessionStatus,
    pub assigned_agent: Option<AgentRef>,
    pub context: PageContext,
    pub created_at: Timestamp,
    pub last_activity_at: Timestamp,
    /// The `seq` of the newest message (0 before the first).
    pub last_seq: i64,
    pub last_message_preview: Option<String>,
    /// The bot has handed this conversation to people and stays silent.
    pub bot_handed_off: bool,
    /// How far each side has received and read.
    pub receipts: Receipts,
    /// Customer messages after the agents' read pointer.
    pub unread_count: i64,
    /// The labels agents put on it, by name, sorted.
    pub labels: Vec<String>,
    /// Since when it waits for a person (pending, and not with the bot).
    pub queued_at: Option<Timestamp>,
    /// The customer's rating, once given.
    pub rating: Option<crate::widget::Rating>,
    /// It came in while nobody was there.
    pub offline: bool,
}

/// The delivered and read pointers of both sides of a session: each is the
/// highest `seq` that side's client has received (or a person has seen),
/// and never goes down.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Receipts {
    pub customer_delivered_seq: i64,
    pub customer_read_seq: i64,
    pub agent_delivered_seq: i64,
    pub agent_read_seq: i64,
}

/// Why a life-cycle change is not allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransitionError {
    AlreadyClosed,
    NotClosed,
    AlreadyAssigned,
}

impl ChatSession {
    /// Assigning (or transferring) is allowed unless the session is closed
    /// or already with that very agent.
    pub fn check_assign(&self, to: &AgentId) -> Result<(), TransitionError> {
        if self.status == SessionStatus::Closed {
            return Err(TransitionError::AlreadyClosed);
        }
        if self.assigned_agent.as_ref().is_some_and(|a| &a.id == to) {
            return Err(TransitionError::AlreadyAssigned);
        }
        Ok(())
    }

    pub fn check_close(&self) -> Result<(), TransitionError> {
        if self.status == SessionStatus::Closed {
            return Err(TransitionError::AlreadyClosed);
        }
        Ok(())
    }

    /// The status a reopened session returns to.
    pub fn reopened_status(&self) -> Result<SessionStatus, TransitionError> {
        if self.status != SessionStatus::Closed {
            return Err(TransitionError::NotClosed);
        }
        Ok(if self.assigned_agent.is_some() {
            SessionStatus::Open
        } else {
            SessionStatus::Pending
        })
    }

    pub fn accepts_messages(&self) -> bool {
        self.status != SessionStatus::Closed
    }
}

#[derive(Debug, Clone)]
pub struct NewSession {
    pub customer: NewCustomer,
    pub context: PageContext,
    pub key_hash: SessionKeyHash,
    pub visitor: VisitorLink,
    /// It goes to people at once (the bot is off): it joins the queue.
    pub queued: bool,
    /// Nobody is there to take it (no agent online, or outside the
    /// business hours): agents see it flagged.
    pub offline: bool,
}

/// Who a new session's customer is: a new visitor (with the digest of the
/// token their browser keeps), or a returning one, whose customer row is
/// reused (its name and email updated from the new session's when given).
#[derive(Debug, Clone)]
pub enum VisitorLink {
    New(SessionKeyHash),
    Returning(CustomerId),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssigneeFilter {
    Any,
    Unassigned,
    Agent,
}

/// What an agent's conversation list asks for.
#[derive(Debug, Clone)]
pub struct SessionFilter {
    pub status: Option<SessionStatus>,
    pub assignee: AssigneeFilter,
    /// Set when `assignee` is [`AssigneeFilter::Agent`].
    pub agent_id: Option<AgentId>,
    /// Matched literally (no wildcards) against customer name and email,
    /// and through the full-text index against message text.
    pub query: Option<String>,
    /// The parsed form of `query` for the message index.
    pub message_query: Option<crate::SearchQuery>,
    /// Only sessions carrying this label.
    pub label: Option<crate::LabelName>,
    pub customer_id: Option<CustomerId>,
    pub limit: u64,
}

impl SessionFilter {
    /// Every session of one customer, newest activity first.
    pub fn of_customer(customer: CustomerId, limit: u64) -> Self {
        Self {
            status: None,
            assignee: AssigneeFilter::Any,
            agent_id: None,
            query: None,
            message_query: None,
            label: None,
            customer_id: Some(customer),
            limit,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(status: SessionStatus, agent: Option<&str>) -> ChatSession {
        let now = chrono::Utc::now();
        ChatSession {
            id: SessionId::new("s"),
            tenant_id: TenantId::new("t"),
            customer: Customer {
                id: CustomerId::new("c"),
                name: None,
                email: None,
                attributes: serde_json::Value::Null,
            },
            status,
            assigned_agent: agent.map(|a| AgentRef {
                id: AgentId::new(a),
                name: a.into(),
            }),
            context: PageContext::default(),
            created_at: now,
            last_activity_at: now,
            last_seq: 0,
            last_message_preview: None,
            bot_handed_off: false,
            receipts: Receipts::default(),
            unread_count: 0,
            labels: Vec::new(),
            queued_at: None,
            rating: None,
            offline: false,
        }
    }

    #[test]
    fn a_closed_session_cannot_be_assigned_or_closed_again() {
        let s = session(SessionStatus::Closed, None);
        assert_eq!(
            s.check_assign(&AgentId::new("a")),
            Err(TransitionError::AlreadyClosed)
        );
        assert_eq!(s.check_close(), Err(TransitionError::AlreadyClosed));
    }

    #[test]
    fn assigning_to_the_current_agent_is_refused() {
        let s = session(SessionStatus::Open, Some("a"));
        assert_eq!(
            s.check_assign(&AgentId::new("a")),
            Err(TransitionError::AlreadyAssigned)
        );
        assert_eq!(s.check_assign(&AgentId::new("b")), Ok(()));
    }

    #[test]
    fn reopening_returns_to_open_when_an_agent_was_assigned() {
        assert_eq!(
            session(SessionStatus::Closed, Some("a")).reopened_status(),
            Ok(SessionStatus::Open)
        );
        assert_eq!(
            session(SessionStatus::Closed, None).reopened_status(),
            Ok(SessionStatus::Pending)
        );
        assert_eq!(
            session(SessionStatus::Open, None).reopened_status(),
            Err(TransitionError::NotClosed)
        );
    }

    #[test]
    fn overlong_context_fields_are_rejected_but_user_agents_are_cut() {
        let long = "x".repeat(3000);
        assert!(PageContext::parse(Some(&long), None, None, None).is_err());
        let ctx = PageContext::parse(None, None, Some(&long), Some("en-GB"));
        assert_eq!(
            ctx.map(|c| c.user_agent.map(|u| u.len())),
            Ok(Some(PageContext::MAX_USER_AGENT))
        );
    }
}

/// Which change a state update is, for the events it causes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionChange {
    /// Accepted or transferred; `previous` held it before.
    Assigned {
        previous: Option<AgentRef>,
    },
    Closed,
    Reopened,
}
