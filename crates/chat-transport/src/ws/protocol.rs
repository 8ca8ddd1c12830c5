//! The WebSocket protocol: JSON text frames `{"type","payload"}` in both
//! directions. See `docs/protocol.md`.

use chat_domain::ChatEvent;
use serde::{Deserialize, Serialize};

use crate::dto::{MessageDto, PublicSessionDto, SessionDto};

/// Who a frame is written for. Customers get the public view of a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    Agent,
    Customer,
}

#[derive(Serialize)]
struct Envelope<'a, T: Serialize> {
    #[serde(rename = "type")]
    kind: &'a str,
    payload: T,
}

/// Serialises any frame. Serialising these plain structs cannot fail; should
/// it ever, an `error` frame is sent rather than nothing.
pub fn envelope<T: Serialize>(kind: &str, payload: T) -> String {
    serde_json::to_string(&Envelope { kind, payload }).unwrap_or_else(|e| {
        tracing::error!(error = %e, kind, "frame serialisation failed");
        r#"{"type":"error","payload":{"code":"internal","message":"internal error"}}"#.to_owned()
    })
}

#[derive(Serialize)]
#[serde(untagged)]
enum SessionView {
    Agent(Box<SessionDto>),
    Customer(PublicSessionDto),
}

fn session_view(s: &chat_domain::ChatSession, audience: Audience) -> SessionView {
    match audience {
        Audience::Agent => SessionView::Agent(Box::new(s.into())),
        Audience::Customer => SessionView::Customer(s.into()),
    }
}

#[derive(Serialize)]
struct AssignedPayload {
    session_id: String,
    agent_id: String,
    agent_name: String,
    previous_agent_id: Option<String>,
    session: SessionView,
}

#[derive(Serialize)]
struct JoinedPayload {
    session_id: String,
    agent_id: String,
    agent_name: String,
}

#[derive(Serialize)]
struct StatePayload {
    session_id: String,
    status: &'static str,
    session: SessionView,
}

#[derive(Serialize)]
struct TypingPayload<'a> {
    session_id: &'a str,
    sender_type: &'static str,
    name: &'a str,
    is_typing: bool,
}

#[derive(Serialize)]
struct PresencePayload<'a> {
    agent_id: &'a str,
    name: &'a str,
    online: bool,
}

/// The frame for a domain event.
pub fn encode(event: &ChatEvent, audience: Audience) -> String {
    let kind = event.event_type();
    match event {
        ChatEvent::SessionStarted(s) => envelope(kind, session_view(s, audience)),
        ChatEvent::MessageNew(m) => envelope(kind, MessageDto::from(m)),
        ChatEvent::SessionAssigned {
            session,
            agent,
            previous_agent,
        } => envelope(
            kind,
            AssignedPayload {
                session_id: session.id.to_string(),
                agent_id: agent.id.to_string(),
                agent_name: agent.name.clone(),
                previous_agent_id: previous_agent.as_ref().map(|a| a.id.to_string()),
                session: session_view(session, audience),
            },
        ),
        ChatEvent::AgentJoined { session_id, agent } => envelope(
            kind,
            JoinedPayload {
                session_id: session_id.to_string(),
                agent_id: agent.id.to_string(),
                agent_name: agent.name.clone(),
            },
        ),
        ChatEvent::SessionClosed(s) | ChatEvent::SessionReopened(s) => envelope(
            kind,
            StatePayload {
                session_id: s.id.to_string(),
                status: s.status.as_str(),
                session: session_view(s, audience),
            },
        ),
        ChatEvent::Typing {
            session_id,
            sender_type,
            name,
            is_typing,
        } => envelope(
            kind,
            TypingPayload {
                session_id: session_id.as_str(),
                sender_type: sender_type.as_str(),
                name,
                is_typing: *is_typing,
            },
        ),
        ChatEvent::BotHandoff { session_id, reason } => envelope(
            kind,
            serde_json::json!({ "session_id": session_id.as_str(), "reason": reason }),
        ),
        ChatEvent::AgentPresence {
            agent_id,
            name,
            online,
        } => envelope(
            kind,
            PresencePayload {
                agent_id: agent_id.as_str(),
                name,
                online: *online,
            },
        ),
    }
}

#[derive(Serialize)]
pub struct ErrorPayload<'a> {
    pub code: &'a str,
    pub message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_msg_id: Option<&'a str>,
}

pub fn error_frame(code: &str, message: &str, client_msg_id: Option<&str>) -> String {
    envelope(
        "error",
        ErrorPayload {
            code,
            message,
            client_msg_id,
        },
    )
}

// ----- client → server ------------------------------------------------------

#[derive(Deserialize)]
struct RawFrame {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    payload: serde_json::Value,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct TypingFrame {
    pub session_id: Option<String>,
    pub is_typing: bool,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct SendFrame {
    pub session_id: Option<String>,
    pub body: String,
    pub client_msg_id: String,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct ResumeFrame {
    pub session_id: Option<String>,
    pub after_seq: i64,
}

#[derive(Debug)]
pub enum ClientFrame {
    Typing(TypingFrame),
    Send(SendFrame),
    Resume(ResumeFrame),
    /// Application-level keep-alive for clients (browsers) that cannot send
    /// protocol pings; answered with `pong`.
    Ping,
}

/// Why a client frame was refused: `(code, message)`.
pub type FrameError = (&'static str, String);

pub fn decode(text: &str) -> Result<ClientFrame, FrameError> {
    let raw: RawFrame = serde_json::from_str(text).map_err(|e| {
        (
            "invalid_frame",
            format!("expected {{\"type\",\"payload\"}} JSON: {e}"),
        )
    })?;
    fn payload<T: serde::de::DeserializeOwned>(
        v: serde_json::Value,
        kind: &str,
    ) -> Result<T, FrameError> {
        serde_json::from_value(v).map_err(|e| ("invalid_payload", format!("{kind}: {e}")))
    }
    match raw.kind.as_str() {
        "chat.typing" => Ok(ClientFrame::Typing(payload(raw.payload, &raw.kind)?)),
        "chat.message.send" => Ok(ClientFrame::Send(payload(raw.payload, &raw.kind)?)),
        "chat.resume" => Ok(ClientFrame::Resume(payload(raw.payload, &raw.kind)?)),
        "ping" => Ok(ClientFrame::Ping),
        other => Err((
            "unknown_type",
            format!(
                "unknown frame type {:?}",
                other.chars().take(64).collect::<String>()
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_send_frame_decodes() {
        let f =
            decode(r#"{"type":"chat.message.send","payload":{"body":"hi","client_msg_id":"c1"}}"#);
        assert!(matches!(f, Ok(ClientFrame::Send(SendFrame { ref body, .. })) if body == "hi"));
    }

    #[test]
    fn garbage_unknown_types_and_bad_payloads_get_distinct_codes() {
        assert_eq!(decode("{nope").err().map(|e| e.0), Some("invalid_frame"));
        assert_eq!(
            decode(r#"{"type":"x.y","payload":{}}"#).err().map(|e| e.0),
            Some("unknown_type")
        );
        assert_eq!(
            decode(r#"{"type":"chat.resume","payload":{"after_seq":"x"}}"#)
                .err()
                .map(|e| e.0),
            Some("invalid_payload")
        );
        assert_eq!(
            decode(r#"{"type":"chat.typing","payload":{"is_typing":true,"sender_type":"agent"}}"#)
                .err()
                .map(|e| e.0),
            Some("invalid_payload")
        );
    }

    #[test]
    fn events_are_wrapped_in_the_envelope() {
        let event = ChatEvent::AgentPresence {
            agent_id: chat_domain::AgentId::new("a1"),
            name: "Alex".into(),
            online: true,
        };
        assert_eq!(
            encode(&event, Audience::Agent),
            r#"{"type":"agent.presence","payload":{"agent_id":"a1","name":"Alex","online":true}}"#
        );
    }
}
