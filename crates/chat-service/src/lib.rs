//! The chat logic: starting sessions, sending messages, assigning,
//! transferring, closing, searching, the bot's turn, and agent
//! authentication.
//!
//! It is written only against the ports of `chat-domain` (repositories and
//! the [`chat_domain::WebSocketHub`]), so it runs the same on SQLite, MySQL,
//! PostgreSQL or the in-memory store of `chat-testkit`. Every change is
//! persisted first and broadcast after, through [`publish`], whose functions
//! take only what a write returned. It knows nothing of HTTP, WebSockets or
//! SQL.
//!
//! Layout by who acts: `chat::customer`, `chat::agent`, `chat::bot` and
//! `chat::admin` are one `ChatService`; `auth` is the agents' sign-in.

pub mod auth;
pub mod chat;
mod ctx;
pub mod error;
mod keys;
mod memo;
mod publish;
mod rate_limit;
mod throttle;

use std::sync::Arc;

use chat_domain::repo::{
    AgentRepository, ApiTokenRepository, ArticleRepository, AssignmentRepository, DeskRepository,
    HealthCheck, MessageRepository, SessionRepository, TenantRepository, TokenRepository,
    WebhookRepository,
};

pub use auth::{AuthService, AuthSettings, LoginOutcome};
pub use chat::admin::with_vectors;
pub use chat::bot::{BotOutcome, BotSettings, Responders, asks_for_human};
pub use chat::email::{EmailSettings, RESUME_PARAM};
pub use chat::{
    AgentLoad, ChatService, MAX_PAGE, MAX_QUEUE_VIEW, MAX_TRANSCRIPT, ReportParams, SearchParams,
    SearchResults, SessionStarted, StartSession, TeamReport, Transcript, VISITOR_MEMORY_DAYS,
};
pub use ctx::AgentCtx;
pub use error::{Error, Result};
pub use keys::{hash_secret, new_id, new_secret, new_webhook_secret};
pub use throttle::{TYPING_PER_SESSION, TYPING_PER_TENANT};

/// Runs CPU-heavy work (password hashing, the bot's transformer) on
/// tokio's blocking threads, never on a worker that serves sockets.
pub(crate) async fn blocking<T: Send + 'static>(
    what: &str,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| Error::Internal(format!("{what} task: {e}")))
}

/// The repositories the services use, as trait objects so that the binary
/// alone decides which implementation runs.
#[derive(Clone)]
pub struct Repositories {
    pub tenants: Arc<dyn TenantRepository>,
    pub agents: Arc<dyn AgentRepository>,
    pub tokens: Arc<dyn TokenRepository>,
    pub api_tokens: Arc<dyn ApiTokenRepository>,
    pub webhooks: Arc<dyn WebhookRepository>,
    pub sessions: Arc<dyn SessionRepository>,
    pub messages: Arc<dyn MessageRepository>,
    pub articles: Arc<dyn ArticleRepository>,
    pub desk: Arc<dyn DeskRepository>,
    pub assignment: Arc<dyn AssignmentRepository>,
    pub attachments: Arc<dyn chat_domain::attachment::AttachmentRepository>,
    pub reports: Arc<dyn chat_domain::repo::ReportRepository>,
    pub email: Arc<dyn chat_domain::repo::EmailRepository>,
    pub health: Arc<dyn HealthCheck>,
}

impl Repositories {
    /// All repositories from one object that implements them all.
    pub fn from_store<S>(store: Arc<S>) -> Self
    where
        S: TenantRepository
            + AgentRepository
            + TokenRepository
            + ApiTokenRepository
            + WebhookRepository
            + SessionRepository
            + MessageRepository
            + ArticleRepository
            + DeskRepository
            + AssignmentRepository
            + chat_domain::attachment::AttachmentRepository
            + chat_domain::repo::ReportRepository
            + chat_domain::repo::EmailRepository
            + HealthCheck
            + 'static,
    {
        Self {
            tenants: store.clone(),
            agents: store.clone(),
            tokens: store.clone(),
            api_tokens: store.clone(),
            webhooks: store.clone(),
            sessions: store.clone(),
            messages: store.clone(),
            articles: store.clone(),
            desk: store.clone(),
            assignment: store.clone(),
            attachments: store.clone(),
            reports: store.clone(),
            email: store.clone(),
            health: store,
        }
    }
}
