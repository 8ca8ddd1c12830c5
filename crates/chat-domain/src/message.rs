//! Messages and the rules on their bodies and client ids.

use crate::{MessageId, SessionId, TenantId, Timestamp, ValidationError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SenderType {
    Customer,
    Agent,
    Bot,
    System,
}

impl SenderType {
    pub fn as_str(self) -> &'static str {
        match self {
            SenderType::Customer => "customer",
            SenderType::Agent => "agent",
            SenderType::Bot => "bot",
            SenderType::System => "system",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "customer" => Some(Self::Customer),
            "agent" => Some(Self::Agent),
            "bot" => Some(Self::Bot),
            "system" => Some(Self::System),
            _ => None,
        }
    }
}

/// A message body: trimmed, 1 to 4,000 characters. Stored exactly as sent
/// otherwise (HTML included); escaping is the renderer's job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageBody(String);

impl MessageBody {
    pub const MAX_CHARS: usize = 4000;

    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let body = raw.trim();
        if body.is_empty() {
            return Err(ValidationError::new("body", "must not be empty"));
        }
        if body.chars().count() > Self::MAX_CHARS {
            return Err(ValidationError::new(
                "body",
                format!("must be at most {} characters", Self::MAX_CHARS),
            ));
        }
        Ok(Self(body.to_owned()))
    }

    /// As [`MessageBody::parse`], but empty is allowed: a message that
    /// carries files needs no text.
    pub fn parse_optional(raw: &str) -> Result<Self, ValidationError> {
        if raw.trim().is_empty() {
            return Ok(Self(String::new()));
        }
        Self::parse(raw)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// The id a client gives a message so that a retried send is recognised.
/// 1 to 64 visible ASCII characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ClientMsgId(String);

impl ClientMsgId {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        if (1..=64).contains(&raw.len()) && raw.bytes().all(|b| b.is_ascii_graphic()) {
            Ok(Self(raw.to_owned()))
        } else {
            Err(ValidationError::new(
                "client_msg_id",
                "must be 1 to 64 visible ASCII characters",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub id: MessageId,
    pub tenant_id: TenantId,
    pub session_id: SessionId,
    /// 1, 2, 3 … per session, with no gaps, assigned at insert.
    pub seq: i64,
    pub sender_type: SenderType,
    pub sender_id: Option<String>,
    pub sender_name: String,
    pub body: String,
    pub client_msg_id: Option<ClientMsgId>,
    pub created_at: Timestamp,
    /// The files sent with it.
    pub attachments: Vec<crate::Attachment>,
}

#[derive(Debug, Clone)]
pub struct NewMessage {
    pub sender_type: SenderType,
    pub sender_id: Option<String>,
    pub sender_name: String,
    pub body: MessageBody,
    pub client_msg_id: Option<ClientMsgId>,
    /// Files uploaded to the same session and not sent yet; the append
    /// fails with `Conflict("attachment")` otherwise.
    pub attachment_ids: Vec<crate::AttachmentId>,
}

/// The result of appending: a new row, or the one already stored under the
/// same `client_msg_id` (a retry).
#[derive(Debug, Clone)]
pub enum AppendOutcome {
    Created(Message),
    Existing(Message),
}

impl AppendOutcome {
    pub fn message(&self) -> &Message {
        match self {
            AppendOutcome::Created(m) | AppendOutcome::Existing(m) => m,
        }
    }

    pub fn into_message(self) -> Message {
        match self {
            AppendOutcome::Created(m) | AppendOutcome::Existing(m) => m,
        }
    }
}

/// The first characters of a body, for conversation lists.
pub fn preview(body: &str) -> String {
    const MAX: usize = 140;
    let mut out: String = body.chars().take(MAX).collect();
    if body.chars().nth(MAX).is_some() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_trimmed() {
        assert_eq!(MessageBody::parse("  hi \n").map(|b| b.0), Ok("hi".into()));
    }

    #[test]
    fn blank_and_overlong_bodies_are_rejected() {
        assert!(MessageBody::parse(" \n\t ").is_err());
        assert!(MessageBody::parse(&"é".repeat(4001)).is_err());
        assert!(MessageBody::parse(&"é".repeat(4000)).is_ok());
    }

    #[test]
    fn html_is_kept_verbatim() {
        let raw = "<img src=x onerror=alert(1)>";
        assert_eq!(MessageBody::parse(raw).map(|b| b.0), Ok(raw.to_owned()));
    }

    #[test]
    fn client_msg_ids_must_be_short_visible_ascii() {
        assert!(ClientMsgId::parse("c-1").is_ok());
        assert!(ClientMsgId::parse("").is_err());
        assert!(ClientMsgId::parse("a b").is_err());
        assert!(ClientMsgId::parse(&"a".repeat(65)).is_err());
    }

    #[test]
    fn previews_are_cut_with_an_ellipsis() {
        assert_eq!(preview("short"), "short");
        assert_eq!(preview(&"a".repeat(200)).chars().count(), 141);
    }
}
