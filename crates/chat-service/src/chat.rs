//! The chat itself: sessions and messages, for customers and for agents.

use std::sync::Arc;

use chat_domain::agent::parse_display_name;
use chat_domain::{
    Agent, AgentId, AppendOutcome, AssigneeFilter, ChatEvent, ChatSession, ClientMsgId, Email,
    Message, MessageBody, NewCustomer, NewMessage, NewSession, PageContext, Role, SenderType,
    SessionFilter, SessionId, SessionKeyHash, SessionStatus, TenantId, TenantSlug, Timestamp,
    WebSocketHub,
};
use tracing::instrument;

use crate::bot::{BotSettings, Responders};
use crate::keys::{hash_secret, is_well_formed_secret, new_secret};
use crate::{Error, Repositories, Result};

/// An authenticated agent: the tenant context of every agent operation.
#[derive(Debug, Clone)]
pub struct AgentCtx {
    pub agent: Agent,
    /// Digest of the access token this request or connection rides on.
    pub credential: String,
    pub expires_at: Timestamp,
}

impl AgentCtx {
    pub fn tenant_id(&self) -> &TenantId {
        &self.agent.tenant_id
    }

    pub fn require_admin(&self) -> Result<()> {
        match self.agent.role {
            Role::Admin => Ok(()),
            Role::Agent => Err(Error::Forbidden("this needs the admin role")),
        }
    }
}

/// What a widget sends to start a conversation.
#[derive(Debug, Default, Clone)]
pub struct StartSession {
    pub tenant: String,
    pub customer_name: Option<String>,
    pub customer_email: Option<String>,
    pub attributes: Option<serde_json::Value>,
    pub page_url: Option<String>,
    pub referrer: Option<String>,
    pub locale: Option<String>,
    pub user_agent: Option<String>,
    /// The browser's `Origin`, checked against the tenant's allowed origins.
    pub origin: Option<String>,
}

/// The largest page of messages one request returns.
pub const MAX_PAGE: u64 = 200;
const MAX_ATTRIBUTES_BYTES: usize = 4096;

/// Cheap to clone: everything inside is shared.
#[derive(Clone)]
pub struct ChatService {
    pub(crate) repos: Repositories,
    pub(crate) hub: Arc<dyn WebSocketHub>,
    pub(crate) responders: Responders,
    pub(crate) bot_settings: Arc<BotSettings>,
}

impl ChatService {
    /// With the built-in knowledge-base bot and no model.
    pub fn new(repos: Repositories, hub: Arc<dyn WebSocketHub>) -> Self {
        Self {
            repos,
            hub,
            responders: Responders {
                knowledge_base: Arc::new(crate::kb::KnowledgeBase::default()),
                llm: None,
            },
            bot_settings: Arc::new(BotSettings::default()),
        }
    }

    pub fn with_llm(mut self, llm: Arc<dyn chat_domain::Responder>) -> Self {
        self.responders.llm = Some(llm);
        self
    }

    pub fn with_bot_settings(mut self, settings: BotSettings) -> Self {
        self.bot_settings = Arc::new(settings);
        self
    }

    // ----- customers -------------------------------------------------------

    /// Starts a session and returns its key, the customer's only credential.
    #[instrument(skip_all, fields(tenant = %input.tenant))]
    pub async fn start_session(&self, input: StartSession) -> Result<(String, ChatSession)> {
        let slug = TenantSlug::parse(&input.tenant).map_err(|_| Error::NotFound("tenant"))?;
        let customer = NewCustomer {
            name: input
                .customer_name
                .as_deref()
                .filter(|n| !n.trim().is_empty())
                .map(|n| parse_display_name("customer.name", n))
                .transpose()?,
            email: input
                .customer_email
                .as_deref()
                .filter(|e| !e.trim().is_empty())
                .map(Email::parse)
                .transpose()?,
            attributes: check_attributes(input.attributes)?,
        };
        let context = PageContext::parse(
            input.page_url.as_deref(),
            input.referrer.as_deref(),
            input.user_agent.as_deref(),
            input.locale.as_deref(),
        )?;
        let tenant = self
            .repos
            .tenants
            .find_by_slug(&slug)
            .await?
            .ok_or(Error::NotFound("tenant"))?;
        if input
            .origin
            .as_deref()
            .is_some_and(|o| !tenant.allows_origin(o))
        {
            return Err(Error::Forbidden(
                "this site is not allowed to open the chat",
            ));
        }
        let key = new_secret();
        let session = self
            .repos
            .sessions
            .create(
                &tenant.id,
                NewSession {
                    customer,
                    context,
                    key_hash: SessionKeyHash(hash_secret(&key)),
                },
            )
            .await?;
        self.hub
            .broadcast_to_tenant(&tenant.id, ChatEvent::SessionStarted(session.clone()))
            .await;
        Ok((key, session))
    }

    /// The session a key opens. An unknown or malformed key is "not found".
    pub async fn customer_session(&self, key: &str) -> Result<ChatSession> {
        if !is_well_formed_secret(key) {
            return Err(Error::NotFound("session"));
        }
        self.repos
            .sessions
            .find_by_key_hash(&SessionKeyHash(hash_secret(key)))
            .await?
            .ok_or(Error::NotFound("session"))
    }

    #[instrument(skip_all, fields(tenant = %session.tenant_id, session = %session.id))]
    pub async fn send_as_customer(
        &self,
        session: &ChatSession,
        body: &str,
        client_msg_id: Option<&str>,
    ) -> Result<(Message, bool)> {
        let new = NewMessage {
            sender_type: SenderType::Customer,
            sender_id: Some(session.customer.id.to_string()),
            sender_name: session.customer.display_name(),
            body: MessageBody::parse(body)?,
            client_msg_id: client_msg_id.map(ClientMsgId::parse).transpose()?,
        };
        let (message, created) = self.append(&session.tenant_id, &session.id, new).await?;
        // Acknowledged first; the bot's answer follows as its own event.
        if created && session.assigned_agent.is_none() && !session.bot_handed_off {
            self.spawn_bot(session.clone(), message.clone());
        }
        Ok((message, created))
    }

    /// Publishes typing state. Nothing is stored.
    pub async fn customer_typing(&self, session: &ChatSession, is_typing: bool) {
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

    // ----- shared ----------------------------------------------------------

    /// Messages after `after_seq` in `seq` order; the same answer HTTP and
    /// the WebSocket resume give.
    pub async fn messages_after(
        &self,
        tenant: &TenantId,
        session: &SessionId,
        after_seq: i64,
        limit: Option<u64>,
    ) -> Result<Vec<Message>> {
        Ok(self
            .repos
            .messages
            .list(tenant, session, after_seq.max(0), page_size(limit))
            .await?)
    }

    /// Persists, then publishes to the tenant's agents and the customer.
    /// A retry (same `client_msg_id`) publishes nothing new.
    pub(crate) async fn append(
        &self,
        tenant: &TenantId,
        session: &SessionId,
        new: NewMessage,
    ) -> Result<(Message, bool)> {
        match self.repos.messages.append(tenant, session, new).await? {
            AppendOutcome::Created(message) => {
                self.publish_message(&message).await;
                Ok((message, true))
            }
            AppendOutcome::Existing(message) => Ok((message, false)),
        }
    }

    async fn publish_message(&self, message: &Message) {
        let event = ChatEvent::MessageNew(message.clone());
        self.publish(&message.tenant_id, &message.session_id, event)
            .await;
    }

    /// To the session's customer and the tenant's agents.
    async fn publish(&self, tenant: &TenantId, session: &SessionId, event: ChatEvent) {
        self.hub
            .send_to_session(tenant, session, event.clone())
            .await;
        self.hub.broadcast_to_tenant(tenant, event).await;
    }

    // ----- agents ----------------------------------------------------------

    /// A session by id within a tenant (for tools and tests that act
    /// without an agent).
    pub async fn agent_session_by_id(
        &self,
        tenant: &TenantId,
        id: &SessionId,
    ) -> Result<ChatSession> {
        self.repos
            .sessions
            .find(tenant, id)
            .await?
            .ok_or(Error::NotFound("session"))
    }

    pub async fn agent_session(&self, ctx: &AgentCtx, id: &str) -> Result<ChatSession> {
        let id = SessionId::parse(id).ok_or(Error::NotFound("session"))?;
        self.repos
            .sessions
            .find(ctx.tenant_id(), &id)
            .await?
            .ok_or(Error::NotFound("session"))
    }

    #[instrument(skip_all, fields(tenant = %ctx.tenant_id()))]
    pub async fn list_sessions(
        &self,
        ctx: &AgentCtx,
        status: Option<&str>,
        assigned: Option<&str>,
        query: Option<&str>,
    ) -> Result<Vec<ChatSession>> {
        let status = status
            .filter(|s| !s.is_empty())
            .map(SessionStatus::parse)
            .transpose()?;
        let (assignee, agent_id) = match assigned.unwrap_or("any") {
            "any" | "" => (AssigneeFilter::Any, None),
            "unassigned" => (AssigneeFilter::Unassigned, None),
            "me" => (AssigneeFilter::Agent, Some(ctx.agent.id.clone())),
            _ => {
                return Err(chat_domain::ValidationError::new(
                    "assigned",
                    "must be 'me', 'unassigned' or 'any'",
                )
                .into());
            }
        };
        let query = query.map(str::trim).filter(|q| !q.is_empty());
        if query.is_some_and(|q| q.chars().count() > 200) {
            return Err(
                chat_domain::ValidationError::new("q", "must be at most 200 characters").into(),
            );
        }
        let filter = SessionFilter {
            status,
            assignee,
            agent_id,
            query: query.map(str::to_owned),
            customer_id: None,
            limit: MAX_PAGE,
        };
        Ok(self.repos.sessions.list(ctx.tenant_id(), &filter).await?)
    }

    /// The customer's other conversations, newest first.
    pub async fn customer_history(
        &self,
        ctx: &AgentCtx,
        session: &ChatSession,
    ) -> Result<Vec<ChatSession>> {
        let filter = SessionFilter {
            status: None,
            assignee: AssigneeFilter::Any,
            agent_id: None,
            query: None,
            customer_id: Some(session.customer.id.clone()),
            limit: 50,
        };
        let mut all = self.repos.sessions.list(ctx.tenant_id(), &filter).await?;
        all.retain(|s| s.id != session.id);
        Ok(all)
    }

    pub async fn agent_messages(
        &self,
        ctx: &AgentCtx,
        id: &str,
        after_seq: Option<i64>,
        before_seq: Option<i64>,
        limit: Option<u64>,
    ) -> Result<Vec<Message>> {
        let session = self.agent_session(ctx, id).await?;
        match before_seq {
            Some(before) => Ok(self
                .repos
                .messages
                .list_before(ctx.tenant_id(), &session.id, before, page_size(limit))
                .await?),
            None => {
                self.messages_after(ctx.tenant_id(), &session.id, after_seq.unwrap_or(0), limit)
                    .await
            }
        }
    }

    #[instrument(skip_all, fields(tenant = %ctx.tenant_id(), session = %id))]
    pub async fn send_as_agent(
        &self,
        ctx: &AgentCtx,
        id: &str,
        body: &str,
        client_msg_id: Option<&str>,
    ) -> Result<(Message, bool)> {
        let session = self.agent_session(ctx, id).await?;
        let new = NewMessage {
            sender_type: SenderType::Agent,
            sender_id: Some(ctx.agent.id.to_string()),
            sender_name: ctx.agent.name.clone(),
            body: MessageBody::parse(body)?,
            client_msg_id: client_msg_id.map(ClientMsgId::parse).transpose()?,
        };
        self.append(ctx.tenant_id(), &session.id, new).await
    }

    /// Assigns to `to` (default: the calling agent). Assigning a session
    /// that has an agent is a transfer.
    #[instrument(skip_all, fields(tenant = %ctx.tenant_id(), session = %id))]
    pub async fn assign(&self, ctx: &AgentCtx, id: &str, to: Option<&str>) -> Result<ChatSession> {
        let session = self.agent_session(ctx, id).await?;
        let target = match to {
            None => ctx.agent.clone(),
            Some(raw) => {
                let agent_id = AgentId::parse(raw).ok_or(Error::NotFound("agent"))?;
                self.repos
                    .agents
                    .find(ctx.tenant_id(), &agent_id)
                    .await?
                    .ok_or(Error::NotFound("agent"))?
            }
        };
        session.check_assign(&target.id)?;
        let previous_agent = session.assigned_agent.clone();
        let updated = self
            .repos
            .sessions
            .update_state(
                ctx.tenant_id(),
                &session.id,
                session.status,
                SessionStatus::Open,
                Some(target.as_ref()),
            )
            .await?;
        let tenant = ctx.tenant_id();
        let assigned = ChatEvent::SessionAssigned {
            session: updated.clone(),
            agent: target.as_ref(),
            previous_agent,
        };
        self.hub.broadcast_to_tenant(tenant, assigned.clone()).await;
        self.hub
            .send_to_session(tenant, &updated.id, assigned)
            .await;
        let joined = ChatEvent::AgentJoined {
            session_id: updated.id.clone(),
            agent: target.as_ref(),
        };
        self.hub
            .broadcast_to_user(tenant, &target.id, joined.clone())
            .await;
        self.hub.send_to_session(tenant, &updated.id, joined).await;
        Ok(updated)
    }

    #[instrument(skip_all, fields(tenant = %ctx.tenant_id(), session = %id))]
    pub async fn close(&self, ctx: &AgentCtx, id: &str) -> Result<ChatSession> {
        let session = self.agent_session(ctx, id).await?;
        session.check_close()?;
        let updated = self
            .repos
            .sessions
            .update_state(
                ctx.tenant_id(),
                &session.id,
                session.status,
                SessionStatus::Closed,
                session.assigned_agent.clone(),
            )
            .await?;
        self.publish_state(ChatEvent::SessionClosed(updated.clone()), &updated)
            .await;
        Ok(updated)
    }

    #[instrument(skip_all, fields(tenant = %ctx.tenant_id(), session = %id))]
    pub async fn reopen(&self, ctx: &AgentCtx, id: &str) -> Result<ChatSession> {
        let session = self.agent_session(ctx, id).await?;
        let status = session.reopened_status()?;
        let updated = self
            .repos
            .sessions
            .update_state(
                ctx.tenant_id(),
                &session.id,
                SessionStatus::Closed,
                status,
                session.assigned_agent.clone(),
            )
            .await?;
        self.publish_state(ChatEvent::SessionReopened(updated.clone()), &updated)
            .await;
        Ok(updated)
    }

    async fn publish_state(&self, event: ChatEvent, session: &ChatSession) {
        self.publish(&session.tenant_id, &session.id, event).await;
    }

    /// Relays an agent's typing state to the customer and the other agents.
    pub async fn agent_typing(&self, ctx: &AgentCtx, id: &str, is_typing: bool) -> Result<()> {
        let session = self.agent_session(ctx, id).await?;
        let event = ChatEvent::Typing {
            session_id: session.id.clone(),
            sender_type: SenderType::Agent,
            name: ctx.agent.name.clone(),
            is_typing,
        };
        self.publish(ctx.tenant_id(), &session.id, event).await;
        Ok(())
    }

    pub async fn list_agents(&self, ctx: &AgentCtx) -> Result<Vec<Agent>> {
        Ok(self.repos.agents.list(ctx.tenant_id()).await?)
    }

    pub async fn tenant(&self, id: &TenantId) -> Result<chat_domain::Tenant> {
        self.repos
            .tenants
            .find(id)
            .await?
            .ok_or(Error::NotFound("tenant"))
    }

    pub async fn ready(&self) -> Result<()> {
        Ok(self.repos.health.ping().await?)
    }
}

/// A requested page size, defaulted and capped.
fn page_size(limit: Option<u64>) -> u64 {
    limit.unwrap_or(MAX_PAGE).clamp(1, MAX_PAGE)
}

fn check_attributes(raw: Option<serde_json::Value>) -> Result<serde_json::Value> {
    let value = raw.unwrap_or(serde_json::Value::Object(Default::default()));
    if !value.is_object() {
        return Err(
            chat_domain::ValidationError::new("customer.attributes", "must be an object").into(),
        );
    }
    if value.to_string().len() > MAX_ATTRIBUTES_BYTES {
        return Err(chat_domain::ValidationError::new(
            "customer.attributes",
            format!("must be at most {MAX_ATTRIBUTES_BYTES} bytes of JSON"),
        )
        .into());
    }
    Ok(value)
}
