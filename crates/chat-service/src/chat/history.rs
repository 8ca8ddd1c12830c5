//! Receipts, returning visitors' history, transcripts and search: what a
//! conversation leaves behind and who has seen it.

use chat_domain::{
    ChatSession, CustomerId, Message, MessageHit, MessageSearch, ReceiptSide, ReceiptUpdate, Scope,
    SearchCursor, SearchQuery, SessionFilter, SessionId, SessionKeyHash, SessionStatus, Tenant,
    TenantId, TenantSlug, TimeZone, Timestamp,
};
use tracing::instrument;

use super::{ChatService, page_size};
use crate::keys::hash_secret;
use crate::{AgentCtx, Error, Result};

/// At most this many messages go into one transcript.
pub const MAX_TRANSCRIPT: usize = 10_000;

/// What an agent's message search asks for, as the request gave it.
#[derive(Debug, Default, Clone)]
pub struct SearchParams {
    pub q: String,
    pub status: Option<String>,
    pub assigned: Option<String>,
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
    pub limit: Option<u64>,
    pub cursor: Option<String>,
}

/// A page of hits, each with its highlighted snippet.
#[derive(Debug, Clone, Default)]
pub struct SearchResults {
    pub hits: Vec<(MessageHit, String)>,
    pub next_cursor: Option<String>,
}

/// A whole conversation, for a transcript.
#[derive(Debug, Clone)]
pub struct Transcript {
    pub tenant: Tenant,
    pub session: ChatSession,
    pub messages: Vec<Message>,
}

impl Transcript {
    pub fn time_zone(&self) -> TimeZone {
        self.tenant.time_zone
    }
}

impl ChatService {
    /// The customer's client has received (or the customer has read) the
    /// session up to a `seq`. Monotonic: a lower value changes nothing.
    pub async fn customer_receipt(
        &self,
        session: &ChatSession,
        update: ReceiptUpdate,
    ) -> Result<()> {
        let change = self
            .repos
            .sessions
            .advance_receipt(
                &session.tenant_id,
                &session.id,
                ReceiptSide::Customer,
                update,
            )
            .await
            .map_err(Error::missing("session"))?;
        if let Some(change) = change {
            self.publish.receipt(&change, None).await;
        }
        Ok(())
    }

    /// An agent's client has received (or the agent has read) the session
    /// up to a `seq`, for every agent of the tenant: the agents share one
    /// pair of pointers and one unread count.
    #[instrument(skip_all, fields(tenant = %ctx.tenant_id(), session = %id))]
    pub async fn agent_receipt(
        &self,
        ctx: &AgentCtx,
        id: &SessionId,
        update: ReceiptUpdate,
    ) -> Result<()> {
        ctx.require(Scope::MessagesRead)?;
        let change = self
            .repos
            .sessions
            .advance_receipt(ctx.tenant_id(), id, ReceiptSide::Agent, update)
            .await
            .map_err(Error::missing("session"))?;
        if let Some(change) = change {
            self.publish
                .receipt(&change, Some(ctx.agent.name.clone()))
                .await;
        }
        Ok(())
    }

    /// The customer a visitor token names in a tenant, if it is still
    /// remembered.
    pub(super) async fn visitor(
        &self,
        tenant: &TenantId,
        token: &str,
    ) -> Result<Option<CustomerId>> {
        if !crate::keys::is_well_formed_secret(token) {
            return Ok(None);
        }
        let since = chrono::Utc::now() - self.visitor_memory;
        Ok(self
            .repos
            .sessions
            .find_visitor(tenant, &SessionKeyHash(hash_secret(token)), since)
            .await?)
    }

    /// The tenant of a widget's `tenant_id` and the visitor's customer
    /// there; an unknown tenant or token is "not found" alike.
    async fn visitor_in(&self, slug: &str, token: &str) -> Result<(Tenant, CustomerId)> {
        let slug = TenantSlug::parse(slug).map_err(|_| Error::NotFound("visitor"))?;
        let tenant = self
            .repos
            .tenants
            .find_by_slug(&slug)
            .await?
            .ok_or(Error::NotFound("visitor"))?;
        let customer = self
            .visitor(&tenant.id, token)
            .await?
            .ok_or(Error::NotFound("visitor"))?;
        Ok((tenant, customer))
    }

    /// A returning visitor's conversations, newest first.
    pub async fn visitor_sessions(&self, slug: &str, token: &str) -> Result<Vec<ChatSession>> {
        let (tenant, customer) = self.visitor_in(slug, token).await?;
        let filter = SessionFilter::of_customer(customer, 50);
        let mut sessions = self.repos.sessions.list(&tenant.id, &filter).await?;
        sessions.sort_by_key(|s| std::cmp::Reverse(s.created_at));
        Ok(sessions)
    }

    /// The messages of one of a returning visitor's conversations.
    pub async fn visitor_messages(
        &self,
        slug: &str,
        token: &str,
        id: &SessionId,
        after_seq: i64,
        limit: Option<u64>,
    ) -> Result<Vec<Message>> {
        let (tenant, customer) = self.visitor_in(slug, token).await?;
        let session = self
            .repos
            .sessions
            .find(&tenant.id, id)
            .await?
            .filter(|s| s.customer.id == customer)
            .ok_or(Error::NotFound("session"))?;
        self.messages_after(&tenant.id, &session.id, after_seq, limit)
            .await
    }

    async fn transcript_of(&self, session: ChatSession) -> Result<Transcript> {
        let tenant = self.tenant(&session.tenant_id).await?;
        let messages = self
            .repos
            .messages
            .list(&session.tenant_id, &session.id, 0, MAX_TRANSCRIPT as u64)
            .await?;
        Ok(Transcript {
            tenant,
            session,
            messages,
        })
    }

    /// The whole conversation for its customer. Only what the customer saw
    /// is in it.
    pub async fn customer_transcript(&self, session: &ChatSession) -> Result<Transcript> {
        self.transcript_of(session.clone()).await
    }

    pub async fn agent_transcript(&self, ctx: &AgentCtx, id: &SessionId) -> Result<Transcript> {
        ctx.require(Scope::MessagesRead)?;
        let session = self.agent_session_by_id(ctx.tenant_id(), id).await?;
        self.transcript_of(session).await
    }

    /// Messages matching a query through the database's full-text index,
    /// newest first, a page at a time.
    #[instrument(skip_all, fields(tenant = %ctx.tenant_id()))]
    pub async fn search_messages(
        &self,
        ctx: &AgentCtx,
        params: SearchParams,
    ) -> Result<SearchResults> {
        ctx.require(Scope::MessagesRead)?;
        let query = SearchQuery::parse(&params.q)?;
        let status = params
            .status
            .as_deref()
            .filter(|s| !s.is_empty())
            .map(SessionStatus::parse)
            .transpose()?;
        let (assignee, agent_id) = super::agent::assignee(ctx, params.assigned.as_deref())?;
        if let (Some(from), Some(to)) = (params.from, params.to)
            && from > to
        {
            return Err(chat_domain::ValidationError::new("from", "must not be after 'to'").into());
        }
        let search = MessageSearch {
            query,
            status,
            assignee,
            agent_id,
            from: params.from,
            to: params.to,
            limit: page_size(Some(params.limit.unwrap_or(20))).min(50),
            cursor: params
                .cursor
                .as_deref()
                .filter(|c| !c.is_empty())
                .map(SearchCursor::parse)
                .transpose()?,
        };
        let page = self.repos.messages.search(ctx.tenant_id(), &search).await?;
        Ok(SearchResults {
            hits: page
                .hits
                .into_iter()
                .map(|hit| {
                    let snippet = chat_domain::search::snippet(&hit.message.body, &search.query);
                    (hit, snippet)
                })
                .collect(),
            next_cursor: page.next_cursor.map(|c| c.encode()),
        })
    }

    /// The tenant the agent works in, with its settings.
    pub async fn tenant_settings(&self, ctx: &AgentCtx) -> Result<Tenant> {
        ctx.require(Scope::SettingsRead)?;
        self.tenant(ctx.tenant_id()).await
    }

    /// Sets the tenant's time zone (admins).
    pub async fn set_time_zone(&self, ctx: &AgentCtx, zone: &str) -> Result<Tenant> {
        ctx.require(Scope::SettingsWrite)?;
        ctx.require_admin()?;
        let zone = TimeZone::parse(zone)?;
        Ok(self
            .repos
            .tenants
            .set_time_zone(ctx.tenant_id(), zone)
            .await?)
    }
}
