//! The one way events leave the service.
//!
//! Every function here takes what a repository write returned (an
//! [`AppendOutcome`] or a [`Committed`] session), so an event about a change
//! that is not stored yet cannot be written down: persist first, then
//! broadcast is kept by the types, not by habit. Typing is the exception
//! that proves the rule: nothing is stored for it, and it is published from
//! a session read back from the store.
//!
//! Audiences: a session's customer gets the events of that session; the
//! tenant's agents get every session's; an assigned agent also gets a
//! `chat.agent.joined` of their own.

use std::sync::Arc;

use chat_domain::{
    Agent, AgentRef, AppendOutcome, ChatEvent, ChatSession, Committed, Note, ReceiptChange,
    ReceiptSide, SenderType, SessionId, TenantId, WebSocketHub,
};

#[derive(Clone)]
pub(crate) struct Publisher {
    hub: Arc<dyn WebSocketHub>,
}

impl Publisher {
    pub(crate) fn new(hub: Arc<dyn WebSocketHub>) -> Self {
        Self { hub }
    }

    /// A new conversation, to the tenant's agents.
    pub(crate) async fn session_started(&self, session: &Committed<ChatSession>) {
        let event = ChatEvent::SessionStarted(ChatSession::clone(session));
        self.hub
            .broadcast_to_tenant(&session.tenant_id, event)
            .await;
    }

    /// A stored message, to the session's customer and the tenant's agents.
    /// A retry (the message already existed) publishes nothing.
    pub(crate) async fn message(&self, outcome: &AppendOutcome) {
        if let AppendOutcome::Created(m) = outcome {
            metrics::counter!("chat_messages_total", "sender_type" => m.sender_type.as_str())
                .increment(1);
            let event = ChatEvent::MessageNew(m.clone());
            self.to_session_and_agents(&m.tenant_id, &m.session_id, event)
                .await;
        }
    }

    /// An assignment or transfer: everyone hears of it, and the new
    /// assignee and the customer learn who joined.
    pub(crate) async fn assigned(
        &self,
        session: &Committed<ChatSession>,
        agent: AgentRef,
        previous_agent: Option<AgentRef>,
    ) {
        let tenant = &session.tenant_id;
        let assigned = ChatEvent::SessionAssigned {
            session: ChatSession::clone(session),
            agent: agent.clone(),
            previous_agent,
        };
        self.hub.broadcast_to_tenant(tenant, assigned.clone()).await;
        self.hub
            .send_to_session(tenant, &session.id, assigned)
            .await;
        let joined = ChatEvent::AgentJoined {
            session_id: session.id.clone(),
            agent: agent.clone(),
        };
        self.hub
            .broadcast_to_user(tenant, &agent.id, joined.clone())
            .await;
        self.hub.send_to_session(tenant, &session.id, joined).await;
    }

    pub(crate) async fn closed(&self, session: &Committed<ChatSession>) {
        let event = ChatEvent::SessionClosed(ChatSession::clone(session));
        self.to_session_and_agents(&session.tenant_id, &session.id, event)
            .await;
    }

    pub(crate) async fn reopened(&self, session: &Committed<ChatSession>) {
        let event = ChatEvent::SessionReopened(ChatSession::clone(session));
        self.to_session_and_agents(&session.tenant_id, &session.id, event)
            .await;
    }

    /// The bot's hand-off, after its hand-off message was stored.
    pub(crate) async fn bot_handoff(
        &self,
        handoff_message: &AppendOutcome,
        reason: &'static str,
        suggestions: Vec<chat_domain::BotSuggestion>,
    ) {
        if let AppendOutcome::Created(m) = handoff_message {
            let event = ChatEvent::BotHandoff {
                session_id: m.session_id.clone(),
                reason,
                suggestions,
            };
            self.hub.broadcast_to_tenant(&m.tenant_id, event).await;
        }
    }

    /// A receipt: the customer's to the tenant's agents, the agents' to
    /// the customer and the other agents. Every message it newly
    /// acknowledged as delivered is measured from its commit to now.
    pub(crate) async fn receipt(
        &self,
        change: &Committed<ReceiptChange>,
        agent_name: Option<String>,
    ) {
        let now = chrono::Utc::now();
        for stored in &change.newly_delivered {
            let secs = (now - *stored).num_microseconds().unwrap_or(i64::MAX) as f64 / 1e6;
            metrics::histogram!("chat_delivery_ack_seconds", "side" => change.side.as_str())
                .record(secs.max(0.0));
        }
        let event = ChatEvent::Receipt {
            change: ReceiptChange::clone(change),
            agent_name,
        };
        match change.side {
            ReceiptSide::Customer => self.hub.broadcast_to_tenant(&change.tenant_id, event).await,
            ReceiptSide::Agent => {
                self.to_session_and_agents(&change.tenant_id, &change.session_id, event)
                    .await
            }
        }
    }

    /// A change only agents see (labels), to the tenant's agents.
    pub(crate) async fn session_updated(&self, session: &Committed<ChatSession>) {
        let event = ChatEvent::SessionUpdated(ChatSession::clone(session));
        self.hub
            .broadcast_to_tenant(&session.tenant_id, event)
            .await;
    }

    /// A private note: to the tenant's agents and, as `chat.mention`, to
    /// each mentioned agent's own sockets. Never to the customer.
    pub(crate) async fn note(&self, note: &Committed<Note>, mentioned: &[&Agent], by: &str) {
        let tenant = &note.tenant_id;
        self.hub
            .broadcast_to_tenant(tenant, ChatEvent::NoteNew(Note::clone(note)))
            .await;
        for agent in mentioned {
            let event = ChatEvent::Mention {
                note: Note::clone(note),
                by: by.to_owned(),
            };
            self.hub.broadcast_to_user(tenant, &agent.id, event).await;
        }
    }

    /// A customer's rating, to the tenant's agents.
    pub(crate) async fn rated(&self, session: &Committed<ChatSession>) {
        let event = ChatEvent::SessionRated(ChatSession::clone(session));
        self.hub
            .broadcast_to_tenant(&session.tenant_id, event)
            .await;
    }

    /// An agent's new availability, to the tenant's agents.
    pub(crate) async fn status_changed(&self, agent: &Agent) {
        let online = self
            .online_agents(&agent.tenant_id)
            .await
            .contains(&agent.id);
        let event = ChatEvent::AgentPresence {
            agent_id: agent.id.clone(),
            name: agent.name.clone(),
            online,
            status: agent.status,
        };
        self.hub.broadcast_to_tenant(&agent.tenant_id, event).await;
    }

    /// Who has a socket open, from the hub (a read, not an event).
    pub(crate) async fn online_agents(&self, tenant: &TenantId) -> Vec<chat_domain::AgentId> {
        self.hub.online_agents(tenant).await
    }

    /// A customer's typing state, to the tenant's agents.
    pub(crate) async fn customer_typing(&self, session: &ChatSession, is_typing: bool) {
        let event = ChatEvent::Typing {
            session_id: session.id.clone(),
            sender_type: SenderType::Customer,
            name: session.customer.display_name(),
            is_typing,
        };
        self.hub
            .broadcast_to_tenant(&session.tenant_id, event)
            .await;
    }

    /// An agent's typing state, to the customer and the other agents.
    pub(crate) async fn agent_typing(&self, session: &ChatSession, name: &str, is_typing: bool) {
        let event = ChatEvent::Typing {
            session_id: session.id.clone(),
            sender_type: SenderType::Agent,
            name: name.to_owned(),
            is_typing,
        };
        self.to_session_and_agents(&session.tenant_id, &session.id, event)
            .await;
    }

    async fn to_session_and_agents(
        &self,
        tenant: &TenantId,
        session: &SessionId,
        event: ChatEvent,
    ) {
        self.hub
            .send_to_session(tenant, session, event.clone())
            .await;
        self.hub.broadcast_to_tenant(tenant, event).await;
    }
}
