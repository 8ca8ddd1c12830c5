//! The chat itself, split by who acts: the customer's side
//! ([`customer`]), the agent's side ([`agent`]), the bot ([`bot`]) and the
//! tenant administration of the bot and its articles ([`admin`]). Every
//! change goes through a repository first and reaches clients only through
//! [`crate::publish`].

pub mod admin;
mod agent;
mod assign;
pub mod attachments;
pub mod bot;
mod customer;
mod desk;
pub mod email;
mod history;
mod reports;
mod suggest;
mod widget;

use std::sync::Arc;

use chat_domain::{AppendOutcome, Message, NewMessage, SessionId, TenantId, WebSocketHub};

pub use assign::{AgentLoad, MAX_QUEUE_VIEW};
pub use customer::{SessionStarted, StartSession};
pub use history::{MAX_TRANSCRIPT, SearchParams, SearchResults, Transcript};
pub use reports::{ReportParams, TeamReport};
pub use widget::PublicWidget;

use crate::publish::Publisher;
use crate::{Repositories, Result};
use bot::{BotSettings, Responders};

/// The largest page of messages one request returns.
pub const MAX_PAGE: u64 = 200;

/// Cheap to clone: everything inside is shared.
#[derive(Clone)]
pub struct ChatService {
    pub(crate) repos: Repositories,
    publish: Publisher,
    responders: Responders,
    bot_settings: Arc<BotSettings>,
    typing: Arc<crate::throttle::TypingThrottle>,
    /// How long a returning visitor's browser is remembered.
    visitor_memory: chrono::Duration,
    drains: Arc<assign::Drains>,
    files: Option<attachments::Files>,
    email: Option<Arc<email::Emailing>>,
    articles: Arc<bot::ArticleCache>,
    bot_off: Arc<bot::BotOff>,
}

/// How long a visitor token is remembered by default.
pub const VISITOR_MEMORY_DAYS: i64 = 90;

impl ChatService {
    /// With the built-in knowledge-base bot and no model.
    pub fn new(repos: Repositories, hub: Arc<dyn WebSocketHub>) -> Self {
        Self {
            repos,
            publish: Publisher::new(hub),
            responders: {
                let kb = Arc::new(chat_kb::KnowledgeBase::default());
                Responders {
                    knowledge_base: kb.clone(),
                    kb,
                    llm: None,
                }
            },
            bot_settings: Arc::new(BotSettings::default()),
            typing: Arc::default(),
            visitor_memory: chrono::Duration::days(VISITOR_MEMORY_DAYS),
            drains: Arc::default(),
            files: None,
            email: None,
            articles: Arc::default(),
            bot_off: Arc::default(),
        }
    }

    /// How long after its last conversation a browser's visitor token
    /// still makes it the same customer.
    pub fn with_visitor_memory(mut self, memory: std::time::Duration) -> Self {
        self.visitor_memory = chrono::Duration::from_std(memory)
            .unwrap_or(chrono::Duration::days(VISITOR_MEMORY_DAYS));
        self
    }

    pub fn with_llm(mut self, llm: Arc<dyn chat_domain::Responder>) -> Self {
        self.responders.llm = Some(llm);
        self
    }

    pub fn with_bot_settings(mut self, settings: BotSettings) -> Self {
        self.bot_settings = Arc::new(settings);
        self
    }

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
    async fn append(
        &self,
        tenant: &TenantId,
        session: &SessionId,
        new: NewMessage,
    ) -> Result<AppendOutcome> {
        let outcome = self.repos.messages.append(tenant, session, new).await?;
        self.publish.message(&outcome).await;
        Ok(outcome)
    }

    pub async fn tenant(&self, id: &TenantId) -> Result<chat_domain::Tenant> {
        self.repos
            .tenants
            .find(id)
            .await?
            .ok_or(crate::Error::NotFound("tenant"))
    }

    pub async fn ready(&self) -> Result<()> {
        Ok(self.repos.health.ping().await?)
    }
}

/// `(message, created)`: what the send endpoints answer with.
fn sent(outcome: AppendOutcome) -> (Message, bool) {
    match outcome {
        AppendOutcome::Created(m) => (m, true),
        AppendOutcome::Existing(m) => (m, false),
    }
}

/// A requested page size, defaulted and capped.
fn page_size(limit: Option<u64>) -> u64 {
    limit.unwrap_or(MAX_PAGE).clamp(1, MAX_PAGE)
}
