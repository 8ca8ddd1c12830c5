//! The events the chat produces. They are published only after the change
//! that caused them is committed.

use crate::{AgentId, AgentRef, ChatSession, Message, Note, ReceiptChange, SenderType, SessionId};

#[derive(Debug, Clone)]
pub enum ChatEvent {
    SessionStarted(ChatSession),
    MessageNew(Message),
    SessionAssigned {
        session: ChatSession,
        agent: AgentRef,
        previous_agent: Option<AgentRef>,
    },
    AgentJoined {
        session_id: SessionId,
        agent: AgentRef,
    },
    SessionClosed(ChatSession),
    SessionReopened(ChatSession),
    Typing {
        session_id: SessionId,
        sender_type: SenderType,
        name: String,
        is_typing: bool,
    },
    /// The bot stopped answering a session and wants a person; the
    /// articles that come closest to the question go with it for the
    /// agents (empty when none comes close).
    BotHandoff {
        session_id: SessionId,
        reason: &'static str,
        suggestions: Vec<crate::BotSuggestion>,
    },
    /// An agent's first socket opened or last one closed (`online`), or
    /// their availability changed (`status`).
    AgentPresence {
        agent_id: AgentId,
        name: String,
        online: bool,
        status: crate::AgentStatus,
    },
    /// A side's delivered or read pointer moved; `agent_name` names the
    /// agent who read, for the agents' side.
    Receipt {
        change: ReceiptChange,
        agent_name: Option<String>,
    },
    /// Labels (or another agents-only attribute) changed.
    SessionUpdated(ChatSession),
    /// The customer rated the closed conversation.
    SessionRated(ChatSession),
    /// A private note: agents only, never the customer.
    NoteNew(Note),
    /// A note that mentions the agent it is sent to.
    Mention {
        note: Note,
        by: String,
    },
}

impl ChatEvent {
    /// The `type` of the event on the wire.
    pub fn event_type(&self) -> &'static str {
        match self {
            ChatEvent::SessionStarted(_) => "chat.session.started",
            ChatEvent::MessageNew(_) => "chat.message.new",
            ChatEvent::SessionAssigned { .. } => "chat.session.assigned",
            ChatEvent::AgentJoined { .. } => "chat.agent.joined",
            ChatEvent::SessionClosed(_) => "chat.session.closed",
            ChatEvent::SessionReopened(_) => "chat.session.reopened",
            ChatEvent::Typing { .. } => "chat.typing",
            ChatEvent::BotHandoff { .. } => "chat.bot.handoff",
            ChatEvent::AgentPresence { .. } => "agent.presence",
            ChatEvent::Receipt { .. } => "chat.receipt",
            ChatEvent::SessionUpdated(_) => "chat.session.updated",
            ChatEvent::SessionRated(_) => "chat.session.rated",
            ChatEvent::NoteNew(_) => "chat.note.new",
            ChatEvent::Mention { .. } => "chat.mention",
        }
    }
}
