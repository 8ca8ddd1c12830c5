//! The WebSocket protocol: JSON text frames `{"type","payload"}` in both
//! directions (see `docs/protocol.md`).
//!
//! [`ServerFrame`] is every frame the server writes; its `type` names are
//! the events' names ([`chat_domain::ChatEvent::event_type`], checked by a
//! test below). It is generic over the session view, because agents get
//! whole sessions and customers the public view: the dashboard's type is
//! `ServerFrame<Session>`, the widget's `ServerFrame<PublicSession>`.

use chat_domain::{ChatEvent, ChatSession};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::views::{Message, Note, PublicSession, SenderType, Session, SessionStatus};

/// Who a frame is written for. Customers get the public view of a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    Agent,
    Customer,
}

// ----- server → client -------------------------------------------------------

#[derive(Debug, Serialize, TS)]
#[serde(tag = "type", content = "payload")]
pub enum ServerFrame<S: TS> {
    #[serde(rename = "chat.session.started")]
    SessionStarted(S),
    #[serde(rename = "chat.message.new")]
    MessageNew(Message),
    #[serde(rename = "chat.session.assigned")]
    SessionAssigned(AssignedPayload<S>),
    #[serde(rename = "chat.agent.joined")]
    AgentJoined(JoinedPayload),
    #[serde(rename = "chat.session.closed")]
    SessionClosed(StatePayload<S>),
    #[serde(rename = "chat.session.reopened")]
    SessionReopened(StatePayload<S>),
    #[serde(rename = "chat.typing")]
    Typing(TypingPayload),
    #[serde(rename = "chat.bot.handoff")]
    BotHandoff(HandoffPayload),
    #[serde(rename = "agent.presence")]
    AgentPresence(PresencePayload),
    #[serde(rename = "chat.receipt")]
    Receipt(ReceiptPayload),
    /// Labels changed (agents only).
    #[serde(rename = "chat.session.updated")]
    SessionUpdated(UpdatedPayload<S>),
    /// The customer rated a closed conversation (agents only).
    #[serde(rename = "chat.session.rated")]
    SessionRated(UpdatedPayload<S>),
    /// A private note (agents only).
    #[serde(rename = "chat.note.new")]
    NoteNew(Note),
    /// A note mentions this agent.
    #[serde(rename = "chat.mention")]
    Mention(MentionPayload),
    /// The reply to the client's own `chat.message.send`.
    #[serde(rename = "chat.message.ack")]
    MessageAck(AckPayload),
    #[serde(rename = "chat.resume.done")]
    ResumeDone(ResumeDonePayload),
    #[serde(rename = "pong")]
    Pong(Empty),
    /// The cluster bridge came back: events may have been missed; answer
    /// with `chat.resume` from the last `seq` (and reload lists).
    #[serde(rename = "chat.resync")]
    Resync(ResyncPayload),
    #[serde(rename = "error")]
    Error(ErrorPayload),
}

#[derive(Debug, Serialize, TS)]
pub struct AssignedPayload<S: TS> {
    pub session_id: String,
    pub agent_id: String,
    pub agent_name: String,
    pub previous_agent_id: Option<String>,
    pub session: S,
}

#[derive(Debug, Serialize, TS)]
pub struct JoinedPayload {
    pub session_id: String,
    pub agent_id: String,
    pub agent_name: String,
}

#[derive(Debug, Serialize, TS)]
pub struct StatePayload<S: TS> {
    pub session_id: String,
    pub status: SessionStatus,
    pub session: S,
}

#[derive(Debug, Serialize, TS)]
pub struct TypingPayload {
    pub session_id: String,
    pub sender_type: SenderType,
    pub name: String,
    pub is_typing: bool,
}

#[derive(Debug, Serialize, TS)]
pub struct HandoffPayload {
    pub session_id: String,
    /// `requested` (the customer asked for a person), `not_confident` or
    /// `budget`.
    pub reason: String,
    /// Up to three articles closest to the customer's question, best
    /// first (agents only; empty when none comes close).
    pub suggestions: Vec<super::views::Suggestion>,
}

#[derive(Debug, Serialize, TS)]
pub struct PresencePayload {
    pub agent_id: String,
    pub name: String,
    /// A socket of the agent is open.
    pub online: bool,
    /// `online` (taking new conversations), `away` or `busy`.
    pub status: String,
}

#[derive(Debug, Serialize, TS)]
pub struct UpdatedPayload<S: TS> {
    pub session_id: String,
    pub session: S,
}

#[derive(Debug, Serialize, TS)]
pub struct MentionPayload {
    pub session_id: String,
    pub note: Note,
    /// The name of the agent who wrote it.
    pub by: String,
}

/// A side's delivered and read pointers after a receipt moved one.
#[derive(Debug, Serialize, TS)]
pub struct ReceiptPayload {
    pub session_id: String,
    /// Whose pointers: `customer` or `agent`.
    pub side: String,
    pub delivered_seq: i64,
    pub read_seq: i64,
    /// The agent who read, on the agents' side.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub agent_name: Option<String>,
    /// The agents' unread count after it (agents' side only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub unread_count: Option<i64>,
}

#[derive(Debug, Serialize, TS)]
pub struct ResyncPayload {
    /// `bridge_reconnected`.
    pub reason: String,
}

#[derive(Debug, Serialize, TS)]
pub struct AckPayload {
    pub client_msg_id: String,
    pub message: Message,
}

#[derive(Debug, Serialize, TS)]
pub struct ResumeDonePayload {
    pub session_id: String,
    /// The last `seq` the replay covered.
    pub last_seq: i64,
    /// One resume replays at most a page of messages (500 by default);
    /// `true` means more follow: resume again from `last_seq`.
    pub more: bool,
}

#[derive(Debug, Serialize, TS)]
pub struct Empty {}

#[derive(Debug, Serialize, TS)]
pub struct ErrorPayload {
    pub code: String,
    pub message: String,
    /// Set when the error answers a `chat.message.send`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub client_msg_id: Option<String>,
}

impl<S: TS + Serialize> ServerFrame<S> {
    /// The frame as text. Serialising these plain structs cannot fail;
    /// should it ever, an `error` frame is sent rather than nothing.
    pub fn to_text(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|e| {
            tracing::error!(error = %e, "frame serialisation failed");
            r#"{"type":"error","payload":{"code":"internal","message":"internal error"}}"#
                .to_owned()
        })
    }
}

/// A frame that carries no session view, written the same for everyone.
pub type PlainFrame = ServerFrame<Session>;

pub fn error_frame(code: &str, message: &str, client_msg_id: Option<&str>) -> String {
    PlainFrame::Error(ErrorPayload {
        code: code.to_owned(),
        message: message.to_owned(),
        client_msg_id: client_msg_id.map(str::to_owned),
    })
    .to_text()
}

pub fn ack_frame(client_msg_id: &str, message: &chat_domain::Message) -> String {
    PlainFrame::MessageAck(AckPayload {
        client_msg_id: client_msg_id.to_owned(),
        message: message.into(),
    })
    .to_text()
}

pub fn message_frame(message: &chat_domain::Message) -> String {
    PlainFrame::MessageNew(message.into()).to_text()
}

pub fn resume_done_frame(session_id: &str, last_seq: i64, more: bool) -> String {
    PlainFrame::ResumeDone(ResumeDonePayload {
        session_id: session_id.to_owned(),
        last_seq,
        more,
    })
    .to_text()
}

pub fn resync_frame(reason: &str) -> String {
    PlainFrame::Resync(ResyncPayload {
        reason: reason.to_owned(),
    })
    .to_text()
}

pub fn pong_frame() -> String {
    PlainFrame::Pong(Empty {}).to_text()
}

/// The frame for a domain event, in the view its audience is allowed.
pub fn encode(event: &ChatEvent, audience: Audience) -> String {
    match audience {
        Audience::Agent => frame_for::<Session>(event).to_text(),
        Audience::Customer => frame_for::<PublicSession>(event).to_text(),
    }
}

/// The `payload` of the frame for an event, as a JSON value (the `data`
/// of a webhook delivery).
pub fn frame_payload<S>(event: &ChatEvent) -> serde_json::Value
where
    S: TS + Serialize + super::views::SessionView,
{
    match serde_json::to_value(frame_for::<S>(event)) {
        Ok(serde_json::Value::Object(mut frame)) => {
            frame.remove("payload").unwrap_or(serde_json::Value::Null)
        }
        _ => serde_json::Value::Null,
    }
}

fn frame_for<S>(event: &ChatEvent) -> ServerFrame<S>
where
    S: TS + super::views::SessionView,
{
    match event {
        ChatEvent::SessionStarted(s) => ServerFrame::SessionStarted(S::from(s)),
        ChatEvent::MessageNew(m) => ServerFrame::MessageNew(m.into()),
        ChatEvent::SessionAssigned {
            session,
            agent,
            previous_agent,
        } => ServerFrame::SessionAssigned(AssignedPayload {
            session_id: session.id.to_string(),
            agent_id: agent.id.to_string(),
            agent_name: agent.name.clone(),
            previous_agent_id: previous_agent.as_ref().map(|a| a.id.to_string()),
            session: S::from(session),
        }),
        ChatEvent::AgentJoined { session_id, agent } => ServerFrame::AgentJoined(JoinedPayload {
            session_id: session_id.to_string(),
            agent_id: agent.id.to_string(),
            agent_name: agent.name.clone(),
        }),
        ChatEvent::SessionClosed(s) => ServerFrame::SessionClosed(state(s)),
        ChatEvent::SessionReopened(s) => ServerFrame::SessionReopened(state(s)),
        ChatEvent::Typing {
            session_id,
            sender_type,
            name,
            is_typing,
        } => ServerFrame::Typing(TypingPayload {
            session_id: session_id.to_string(),
            sender_type: (*sender_type).into(),
            name: name.clone(),
            is_typing: *is_typing,
        }),
        ChatEvent::BotHandoff {
            session_id,
            reason,
            suggestions,
        } => ServerFrame::BotHandoff(HandoffPayload {
            session_id: session_id.to_string(),
            reason: (*reason).to_owned(),
            suggestions: suggestions.iter().map(Into::into).collect(),
        }),
        ChatEvent::AgentPresence {
            agent_id,
            name,
            online,
            status,
        } => ServerFrame::AgentPresence(PresencePayload {
            agent_id: agent_id.to_string(),
            name: name.clone(),
            online: *online,
            status: status.as_str().to_owned(),
        }),
        ChatEvent::Receipt { change, agent_name } => ServerFrame::Receipt(ReceiptPayload {
            session_id: change.session_id.to_string(),
            side: change.side.as_str().to_owned(),
            delivered_seq: change.delivered_seq,
            read_seq: change.read_seq,
            agent_name: agent_name.clone(),
            unread_count: S::AGENTS.then_some(change.unread_count),
        }),
        ChatEvent::SessionUpdated(s) => ServerFrame::SessionUpdated(UpdatedPayload {
            session_id: s.id.to_string(),
            session: S::from(s),
        }),
        ChatEvent::SessionRated(s) => ServerFrame::SessionRated(UpdatedPayload {
            session_id: s.id.to_string(),
            session: S::from(s),
        }),
        ChatEvent::NoteNew(n) => ServerFrame::NoteNew(n.into()),
        ChatEvent::Mention { note, by } => ServerFrame::Mention(MentionPayload {
            session_id: note.session_id.to_string(),
            note: note.into(),
            by: by.clone(),
        }),
    }
}

fn state<S: TS + for<'a> From<&'a ChatSession>>(s: &ChatSession) -> StatePayload<S> {
    StatePayload {
        session_id: s.id.to_string(),
        status: s.status.into(),
        session: S::from(s),
    }
}

// ----- client → server -------------------------------------------------------

#[derive(Debug, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct TypingFrame {
    /// Required on agent sockets; a customer's socket knows its session.
    #[ts(optional)]
    pub session_id: Option<String>,
    pub is_typing: bool,
}

#[derive(Debug, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct SendFrame {
    #[ts(optional)]
    pub session_id: Option<String>,
    #[serde(default)]
    #[ts(as = "Option<String>", optional)]
    pub body: String,
    pub client_msg_id: String,
    /// Files uploaded to this session and not sent yet (at most 5).
    #[serde(default)]
    #[ts(as = "Option<Vec<String>>", optional)]
    pub attachment_ids: Vec<String>,
}

/// `chat.note.send` (agents): a private note on a session.
#[derive(Debug, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct NoteFrame {
    pub session_id: String,
    pub body: String,
}

/// `chat.message.delivered` and `chat.message.read`: the client has
/// received (or a person has seen) everything up to `seq`.
#[derive(Debug, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct ReceiptFrame {
    #[ts(optional)]
    pub session_id: Option<String>,
    pub seq: i64,
}

#[derive(Debug, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct ResumeFrame {
    #[ts(optional)]
    pub session_id: Option<String>,
    pub after_seq: i64,
}

/// Every frame a client may send. Decoded by [`decode`], which tells a
/// malformed envelope, an unknown type and a bad payload apart.
#[derive(Debug, TS)]
#[ts(tag = "type", content = "payload")]
pub enum ClientFrame {
    #[ts(rename = "chat.typing")]
    Typing(TypingFrame),
    #[ts(rename = "chat.message.send")]
    Send(SendFrame),
    #[ts(rename = "chat.resume")]
    Resume(ResumeFrame),
    #[ts(rename = "chat.message.delivered")]
    Delivered(ReceiptFrame),
    #[ts(rename = "chat.message.read")]
    Read(ReceiptFrame),
    #[ts(rename = "chat.note.send")]
    Note(NoteFrame),
    /// Application-level keep-alive for clients (browsers) that cannot send
    /// protocol pings; answered with `pong`.
    #[ts(rename = "ping")]
    Ping,
}

#[derive(Deserialize)]
struct RawFrame {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    payload: serde_json::Value,
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
        "chat.message.delivered" => Ok(ClientFrame::Delivered(payload(raw.payload, &raw.kind)?)),
        "chat.message.read" => Ok(ClientFrame::Read(payload(raw.payload, &raw.kind)?)),
        "chat.note.send" => Ok(ClientFrame::Note(payload(raw.payload, &raw.kind)?)),
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
            status: chat_domain::AgentStatus::Away,
        };
        assert_eq!(
            encode(&event, Audience::Agent),
            r#"{"type":"agent.presence","payload":{"agent_id":"a1","name":"Alex","online":true,"status":"away"}}"#
        );
    }

    #[test]
    fn every_event_is_written_under_its_domain_name() {
        let session = crate::wire::tests::sample_session();
        let note = chat_domain::Note {
            id: "n1".into(),
            tenant_id: session.tenant_id.clone(),
            session_id: session.id.clone(),
            after_seq: 0,
            author_id: chat_domain::AgentId::new("a1"),
            author_name: "Alex".into(),
            body: "internal".into(),
            created_at: chrono::Utc::now(),
        };
        let agent = chat_domain::AgentRef {
            id: chat_domain::AgentId::new("a1"),
            name: "Alex".into(),
        };
        let events = [
            ChatEvent::SessionStarted(session.clone()),
            ChatEvent::MessageNew(crate::wire::tests::sample_message()),
            ChatEvent::SessionAssigned {
                session: session.clone(),
                agent: agent.clone(),
                previous_agent: None,
            },
            ChatEvent::AgentJoined {
                session_id: session.id.clone(),
                agent,
            },
            ChatEvent::SessionClosed(session.clone()),
            ChatEvent::SessionReopened(session.clone()),
            ChatEvent::Typing {
                session_id: session.id.clone(),
                sender_type: chat_domain::SenderType::Agent,
                name: "Alex".into(),
                is_typing: true,
            },
            ChatEvent::BotHandoff {
                session_id: session.id.clone(),
                reason: "requested",
                suggestions: vec![],
            },
            ChatEvent::AgentPresence {
                agent_id: chat_domain::AgentId::new("a1"),
                name: "Alex".into(),
                online: false,
                status: chat_domain::AgentStatus::Online,
            },
            ChatEvent::Receipt {
                change: chat_domain::ReceiptChange {
                    tenant_id: session.tenant_id.clone(),
                    session_id: session.id.clone(),
                    side: chat_domain::ReceiptSide::Agent,
                    delivered_seq: 1,
                    read_seq: 1,
                    unread_count: 0,
                    newly_delivered: vec![],
                },
                agent_name: Some("Alex".into()),
            },
            ChatEvent::SessionUpdated(session.clone()),
            ChatEvent::SessionRated(session.clone()),
            ChatEvent::NoteNew(note.clone()),
            ChatEvent::Mention {
                note,
                by: "Alex".into(),
            },
        ];
        for event in &events {
            for audience in [Audience::Agent, Audience::Customer] {
                let v: serde_json::Value =
                    serde_json::from_str(&encode(event, audience)).expect("frames are JSON");
                assert_eq!(v["type"], event.event_type(), "{event:?}");
            }
        }
    }
}
