//! Outgoing email: what is sent, to whom, and the durable outbox that
//! sends it once.
//!
//! Three kinds: an agent's replies the customer has not received within
//! the delay (with a link back into the conversation), a conversation's
//! transcript when it is closed, and a note to an agent given a
//! conversation while away from the dashboard. An email is queued in the
//! `email_outbox` (by the transaction that decides it, where one does),
//! claimed by one sender at a time with a lease, and marked sent after the
//! SMTP server accepted it; failures are retried with backoff.
//!
//! The content of an email is data here ([`EmailContent`]); its text and
//! HTML are written by the adapter that sends it (templates), behind the
//! [`Mailer`] port.

use std::time::Duration;

use async_trait::async_trait;

use crate::{AgentId, ChatSession, Email, Message, SessionId, TenantId, TimeZone, Timestamp};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmailKind {
    /// Agents' replies the customer has not received.
    Unseen,
    /// The conversation's transcript, at its close.
    Transcript,
    /// A conversation given to an agent who is away.
    Assigned,
}

impl EmailKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EmailKind::Unseen => "unseen",
            EmailKind::Transcript => "transcript",
            EmailKind::Assigned => "assigned",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [
            EmailKind::Unseen,
            EmailKind::Transcript,
            EmailKind::Assigned,
        ]
        .into_iter()
        .find(|k| k.as_str() == raw)
    }
}

/// An email to queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEmail {
    pub kind: EmailKind,
    pub session_id: SessionId,
    /// The agent it is for (`Assigned`).
    pub agent_id: Option<AgentId>,
    /// Unseen replies: the messages after `from_seq` up to `to_seq`.
    pub from_seq: i64,
    pub to_seq: i64,
    /// Makes queuing idempotent: the outbox holds one email per key.
    pub dedupe_key: String,
}

/// A queued email claimed by a sender.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedEmail {
    pub id: String,
    pub tenant_id: TenantId,
    pub kind: EmailKind,
    pub session_id: SessionId,
    pub agent_id: Option<AgentId>,
    pub from_seq: i64,
    pub to_seq: i64,
    pub attempts: u32,
    pub created_at: Timestamp,
}

/// What one sending attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EmailOutcome {
    Sent,
    /// Retry at `retry_at` (`None`: give up).
    Failed {
        error: String,
        retry_at: Option<Timestamp>,
    },
    /// Nothing to send any more (the customer unsubscribed or left no
    /// address, the conversation is gone).
    Dropped(&'static str),
}

/// The retry schedule of email: 30 s, then five times longer each time,
/// at most an hour apart, for a day.
pub fn next_email_attempt(created: Timestamp, attempts: u32, now: Timestamp) -> Option<Timestamp> {
    let first = Duration::from_secs(30);
    let delay = first
        .saturating_mul(5u32.saturating_pow(attempts.saturating_sub(1).min(6)))
        .min(Duration::from_secs(3600));
    let at = now + chrono::Duration::from_std(delay).ok()?;
    (at - created < chrono::Duration::days(1)).then_some(at)
}

/// How a tenant's emails look.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Brand {
    pub name: String,
    /// `#rrggbb`.
    pub color: String,
}

/// What an email says, as data; the adapter writes it out.
#[derive(Debug, Clone, PartialEq)]
pub enum EmailContent {
    /// Replies the customer has not seen, and the link that brings them
    /// back to the conversation.
    Unseen {
        messages: Vec<Message>,
        resume_url: Option<String>,
    },
    /// The whole conversation, times in the tenant's zone.
    Transcript {
        session: Box<ChatSession>,
        messages: Vec<Message>,
        zone: TimeZone,
    },
    /// A conversation given to the agent while away.
    Assigned {
        session: Box<ChatSession>,
        dashboard_url: String,
    },
}

/// An email ready to be written and sent.
#[derive(Debug, Clone, PartialEq)]
pub struct OutgoingEmail {
    pub to: Email,
    pub to_name: Option<String>,
    pub brand: Brand,
    pub content: EmailContent,
    /// Customers' emails carry one (the `List-Unsubscribe` header and a
    /// link in the footer); agents' do not.
    pub unsubscribe_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MailError {
    /// Worth trying again (the server was away, a 4xx reply).
    #[error("temporary: {0}")]
    Temporary(String),
    /// Will not work (a 5xx reply, a bad address).
    #[error("permanent: {0}")]
    Permanent(String),
}

/// Writes and sends an email.
#[async_trait]
pub trait Mailer: Send + Sync {
    async fn send(&self, email: &OutgoingEmail) -> Result<(), MailError>;
}

/// A session's unseen replies that are due: agents' messages after both
/// the customer's delivered pointer and what was already emailed, the
/// last of them older than the delay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnseenDue {
    pub tenant_id: TenantId,
    pub session_id: SessionId,
    /// The highest seq already received or emailed.
    pub after_seq: i64,
    /// The last agent message's seq.
    pub upto_seq: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Timestamp {
        chrono::DateTime::parse_from_rfc3339(s)
            .unwrap()
            .with_timezone(&chrono::Utc)
    }

    #[test]
    fn retries_back_off_and_stop_after_a_day() {
        let created = at("2026-12-06T10:00:00Z");
        let now = at("2026-12-06T10:00:00Z");
        assert_eq!(
            next_email_attempt(created, 1, now),
            Some(at("2026-12-06T10:00:30Z"))
        );
        assert_eq!(
            next_email_attempt(created, 2, now),
            Some(at("2026-12-06T10:02:30Z"))
        );
        assert_eq!(
            next_email_attempt(created, 9, now),
            Some(at("2026-12-06T11:00:00Z"))
        );
        assert_eq!(
            next_email_attempt(created, 9, at("2026-12-07T09:30:00Z")),
            None
        );
    }

    #[test]
    fn kinds_round_trip() {
        for k in [
            EmailKind::Unseen,
            EmailKind::Transcript,
            EmailKind::Assigned,
        ] {
            assert_eq!(EmailKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(EmailKind::parse("spam"), None);
    }
}
