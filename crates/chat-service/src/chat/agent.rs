//! The agent's side: the inbox, reading and answering conversations,
//! assignment and transfer, closing and reopening. Every call carries the
//! agent's [`AgentCtx`], which scopes it to one tenant.

use chat_domain::{
    Agent, AgentId, AssigneeFilter, ChatSession, ClientMsgId, Message, NewMessage, Scope,
    SearchQuery, SenderType, SessionChange, SessionFilter, SessionId, SessionStatus,
};

/// The `assigned` filter of lists and searches: `me`, `unassigned` or
/// `any` (the default).
pub(super) fn assignee(
    ctx: &AgentCtx,
    assigned: Option<&str>,
) -> Result<(AssigneeFilter, Option<AgentId>)> {
    Ok(match assigned.unwrap_or("any") {
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
    })
}
use tracing::instrument;

use super::{ChatService, MAX_PAGE, page_size, sent};
use crate::{AgentCtx, Error, Result};

impl ChatService {
    /// A session by id within a tenant (for tools and tests that act
    /// without an agent).
    pub async fn agent_session_by_id(
        &self,
        tenant: &chat_domain::TenantId,
        id: &SessionId,
    ) -> Result<ChatSession> {
        self.repos
            .sessions
            .find(tenant, id)
            .await?
            .ok_or(Error::NotFound("session"))
    }

    pub async fn agent_session(&self, ctx: &AgentCtx, id: &SessionId) -> Result<ChatSession> {
        ctx.require(Scope::SessionsRead)?;
        self.agent_session_by_id(ctx.tenant_id(), id).await
    }

    /// The session a change or a message is about, under the scope that
    /// change needs rather than `sessions:read`.
    async fn session_for(
        &self,
        ctx: &AgentCtx,
        id: &SessionId,
        scope: Scope,
    ) -> Result<ChatSession> {
        ctx.require(scope)?;
        self.agent_session_by_id(ctx.tenant_id(), id).await
    }

    #[instrument(skip_all, fields(tenant = %ctx.tenant_id()))]
    pub async fn list_sessions(
        &self,
        ctx: &AgentCtx,
        status: Option<&str>,
        assigned: Option<&str>,
        query: Option<&str>,
        label: Option<&str>,
    ) -> Result<Vec<ChatSession>> {
        ctx.require(Scope::SessionsRead)?;
        let status = status
            .filter(|s| !s.is_empty())
            .map(SessionStatus::parse)
            .transpose()?;
        let (assignee, agent_id) = assignee(ctx, assigned)?;
        let query = query.map(str::trim).filter(|q| !q.is_empty());
        let message_query = query.map(SearchQuery::parse).transpose()?;
        let filter = SessionFilter {
            status,
            assignee,
            agent_id,
            query: query.map(str::to_owned),
            message_query,
            label: label
                .filter(|l| !l.is_empty())
                .map(chat_domain::LabelName::parse)
                .transpose()?,
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
        ctx.require(Scope::SessionsRead)?;
        let filter = SessionFilter::of_customer(session.customer.id.clone(), 50);
        let mut all = self.repos.sessions.list(ctx.tenant_id(), &filter).await?;
        all.retain(|s| s.id != session.id);
        Ok(all)
    }

    pub async fn agent_messages(
        &self,
        ctx: &AgentCtx,
        id: &SessionId,
        after_seq: Option<i64>,
        before_seq: Option<i64>,
        limit: Option<u64>,
    ) -> Result<Vec<Message>> {
        let session = self.session_for(ctx, id, Scope::MessagesRead).await?;
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
        id: &SessionId,
        body: &str,
        client_msg_id: Option<&str>,
    ) -> Result<(Message, bool)> {
        self.send_as_agent_with(ctx, id, body, client_msg_id, &[])
            .await
    }

    /// As [`ChatService::send_as_agent`], with files uploaded to this
    /// session by an agent (then the text may be empty).
    #[instrument(skip_all, fields(tenant = %ctx.tenant_id(), session = %id))]
    pub async fn send_as_agent_with(
        &self,
        ctx: &AgentCtx,
        id: &SessionId,
        body: &str,
        client_msg_id: Option<&str>,
        attachment_ids: &[String],
    ) -> Result<(Message, bool)> {
        let session = self.session_for(ctx, id, Scope::MessagesWrite).await?;
        let attachment_ids = super::attachments::parse_ids(attachment_ids)?;
        let new = NewMessage {
            sender_type: SenderType::Agent,
            sender_id: Some(ctx.agent.id.to_string()),
            sender_name: ctx.agent.name.clone(),
            body: super::attachments::body(body, &attachment_ids)?,
            client_msg_id: client_msg_id.map(ClientMsgId::parse).transpose()?,
            attachment_ids,
        };
        Ok(sent(self.append(ctx.tenant_id(), &session.id, new).await?))
    }

    /// Assigns to `to` (default: the calling agent). Assigning a session
    /// that has an agent is a transfer.
    #[instrument(skip_all, fields(tenant = %ctx.tenant_id(), session = %id))]
    pub async fn assign(
        &self,
        ctx: &AgentCtx,
        id: &SessionId,
        to: Option<&AgentId>,
    ) -> Result<ChatSession> {
        let session = self.session_for(ctx, id, Scope::SessionsWrite).await?;
        let target = match to {
            None => ctx.agent.clone(),
            Some(agent_id) => self
                .repos
                .agents
                .find(ctx.tenant_id(), agent_id)
                .await?
                .ok_or(Error::NotFound("agent"))?,
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
                SessionChange::Assigned {
                    previous: previous_agent.clone(),
                },
            )
            .await?;
        let freed = previous_agent.is_some();
        self.publish
            .assigned(&updated, target.as_ref(), previous_agent)
            .await;
        if target.id != ctx.agent.id {
            self.notify_assigned(&updated, &target.as_ref()).await;
        }
        if freed {
            self.spawn_drain(ctx.tenant_id());
        }
        Ok(updated.into_inner())
    }

    #[instrument(skip_all, fields(tenant = %ctx.tenant_id(), session = %id))]
    pub async fn close(
        &self,
        ctx: &AgentCtx,
        id: &SessionId,
        send_transcript: bool,
    ) -> Result<ChatSession> {
        let session = self.session_for(ctx, id, Scope::SessionsWrite).await?;
        self.close_session(&session, send_transcript).await
    }

    /// Closes for whoever asked (an agent, the customer); the agent's place
    /// frees up for the queue. With `send_transcript`, the customer gets
    /// the transcript by email (when email is set up and they left an
    /// address).
    pub(super) async fn close_session(
        &self,
        session: &ChatSession,
        send_transcript: bool,
    ) -> Result<ChatSession> {
        session.check_close()?;
        let updated = self
            .repos
            .sessions
            .update_state(
                &session.tenant_id,
                &session.id,
                session.status,
                SessionStatus::Closed,
                session.assigned_agent.clone(),
                SessionChange::Closed,
            )
            .await?;
        self.publish.closed(&updated).await;
        if session.assigned_agent.is_some() {
            self.spawn_drain(&session.tenant_id);
        }
        if send_transcript && let Err(e) = self.queue_transcript(&updated).await {
            tracing::warn!(error = %e, "the transcript email was not queued");
        }
        Ok(updated.into_inner())
    }

    #[instrument(skip_all, fields(tenant = %ctx.tenant_id(), session = %id))]
    pub async fn reopen(&self, ctx: &AgentCtx, id: &SessionId) -> Result<ChatSession> {
        let session = self.session_for(ctx, id, Scope::SessionsWrite).await?;
        let mut status = session.reopened_status()?;
        let mut agent = session.assigned_agent.clone();
        let auto = self.tenant(ctx.tenant_id()).await?.assignment.mode
            == chat_domain::AssignmentMode::Auto;
        if auto && let Some(previous) = &agent {
            // With automatic assignment, a conversation whose agent is gone
            // (deactivated, away or without a socket) waits for the next.
            let there = match self
                .repos
                .agents
                .find(ctx.tenant_id(), &previous.id)
                .await?
            {
                Some(a) => self.takes_conversations(&a).await,
                None => false,
            };
            if !there {
                status = SessionStatus::Pending;
                agent = None;
            }
        }
        let updated = self
            .repos
            .sessions
            .update_state(
                ctx.tenant_id(),
                &session.id,
                SessionStatus::Closed,
                status,
                agent,
                SessionChange::Reopened,
            )
            .await?;
        self.publish.reopened(&updated).await;
        if updated.queued_at.is_some() {
            self.spawn_drain(ctx.tenant_id());
        }
        Ok(updated.into_inner())
    }

    /// Relays an agent's typing state to the customer and the other agents.
    pub async fn agent_typing(
        &self,
        ctx: &AgentCtx,
        id: &SessionId,
        is_typing: bool,
    ) -> Result<()> {
        let session = self.session_for(ctx, id, Scope::MessagesWrite).await?;
        if self.typing.allow(&session.tenant_id, &session.id) {
            self.publish
                .agent_typing(&session, &ctx.agent.name, is_typing)
                .await;
        }
        Ok(())
    }

    pub async fn list_agents(&self, ctx: &AgentCtx) -> Result<Vec<Agent>> {
        ctx.require(Scope::AgentsRead)?;
        Ok(self.repos.agents.list(ctx.tenant_id()).await?)
    }
}
