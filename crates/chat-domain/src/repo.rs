//! Repository ports. Every query on tenant-owned data takes the tenant as
//! its first parameter, so a query without a tenant does not compile.
//!
//! Implementations: `chat-store` (SeaORM, SQLite / MySQL / PostgreSQL) and
//! the in-memory fakes in `chat-testkit`. Writes whose result is published
//! return [`Committed`] values.

use async_trait::async_trait;

use std::time::Duration;

use crate::session::SessionChange;
use crate::{
    Agent, AgentId, AgentPatch, AgentRef, ApiToken, AppendOutcome, Article, ArticleInput,
    AttemptOutcome, BotMode, CannedInput, CannedReply, ChatSession, ClaimedDelivery, Color,
    Committed, CustomerId, Delivery, Email, Label, LabelName, Message, MessageSearch, NewAgent,
    NewApiToken, NewMessage, NewNote, NewSession, NewTenant, NewWebhookEndpoint, Note,
    ReceiptChange, ReceiptSide, ReceiptUpdate, RepoResult, SearchPage, SenderType, SessionFilter,
    SessionId, SessionKeyHash, SessionStatus, Tenant, TenantId, TenantSlug, TimeZone, Timestamp,
    WebhookEndpoint, WebhookPatch,
};

#[async_trait]
pub trait TenantRepository: Send + Sync {
    /// Fails with [`crate::RepoError::Conflict`] when the slug is taken.
    async fn create(&self, new: NewTenant) -> RepoResult<Tenant>;
    async fn find_by_slug(&self, slug: &TenantSlug) -> RepoResult<Option<Tenant>>;
    async fn find(&self, id: &TenantId) -> RepoResult<Option<Tenant>>;
    async fn set_bot(&self, id: &TenantId, mode: BotMode, name: &str) -> RepoResult<Tenant>;
    async fn set_time_zone(&self, id: &TenantId, zone: TimeZone) -> RepoResult<Tenant>;
    async fn set_assignment(
        &self,
        id: &TenantId,
        settings: crate::AssignmentSettings,
    ) -> RepoResult<Tenant>;
    async fn set_widget(
        &self,
        id: &TenantId,
        widget: crate::widget::WidgetSettings,
    ) -> RepoResult<Tenant>;
    async fn set_business_hours(
        &self,
        id: &TenantId,
        hours: crate::widget::BusinessHours,
    ) -> RepoResult<Tenant>;
}

#[async_trait]
pub trait ArticleRepository: Send + Sync {
    async fn list(&self, tenant: &TenantId) -> RepoResult<Vec<Article>>;
    /// Each article's id and last update, in `list`'s order: whether the
    /// articles changed, without reading them.
    async fn stamps(&self, tenant: &TenantId) -> RepoResult<Vec<(String, Timestamp)>>;
    async fn find(&self, tenant: &TenantId, id: &str) -> RepoResult<Option<Article>>;
    async fn create(&self, tenant: &TenantId, input: ArticleInput) -> RepoResult<Article>;
    async fn update(&self, tenant: &TenantId, id: &str, input: ArticleInput)
    -> RepoResult<Article>;
    /// Returns whether it existed.
    async fn delete(&self, tenant: &TenantId, id: &str) -> RepoResult<bool>;
}

#[async_trait]
pub trait AgentRepository: Send + Sync {
    /// Fails with [`crate::RepoError::Conflict`] when the email is taken in
    /// this tenant. Other tenants may use the same address: whether they do
    /// is never told.
    async fn create(&self, tenant: &TenantId, new: NewAgent) -> RepoResult<Agent>;
    async fn find(&self, tenant: &TenantId, id: &AgentId) -> RepoResult<Option<Agent>>;
    async fn list(&self, tenant: &TenantId) -> RepoResult<Vec<Agent>>;
    /// Every active agent with this address (one per tenant at most) and
    /// its argon2id PHC hash, for login; oldest first.
    async fn find_credentials(&self, email: &Email) -> RepoResult<Vec<(Agent, String)>>;
    /// The agent's stored password hash.
    async fn password_hash(&self, tenant: &TenantId, id: &AgentId) -> RepoResult<String>;
    /// Applies the patch. Fails with `Conflict("last_admin")` when it would
    /// leave the tenant without an active admin; two admins demoting each
    /// other at once cannot both succeed.
    async fn update(&self, tenant: &TenantId, id: &AgentId, patch: AgentPatch)
    -> RepoResult<Agent>;
    async fn set_password(
        &self,
        tenant: &TenantId,
        id: &AgentId,
        password_hash: String,
    ) -> RepoResult<()>;
    async fn set_status(
        &self,
        tenant: &TenantId,
        id: &AgentId,
        status: crate::AgentStatus,
    ) -> RepoResult<Agent>;
}

/// The queue of conversations waiting for a person, and taking one.
#[async_trait]
pub trait AssignmentRepository: Send + Sync {
    /// Pending sessions with a `queued_at`, longest waiting first.
    async fn queue(&self, tenant: &TenantId, limit: u64) -> RepoResult<Vec<ChatSession>>;
    /// Open conversations per agent (agents with none are left out).
    async fn open_counts(
        &self,
        tenant: &TenantId,
    ) -> RepoResult<std::collections::HashMap<AgentId, u32>>;
    /// Gives the waiting session to the agent, in one transaction that
    /// first locks the agent's row (still active and `online`), then counts
    /// the agent's open conversations against `capacity`, then moves the
    /// session from `pending` to `open` only if it is still pending;
    /// records `chat.session.assigned`. Concurrent attempts on any node
    /// cannot exceed a cap or assign a session twice.
    async fn try_assign(
        &self,
        tenant: &TenantId,
        session: &SessionId,
        agent: &crate::AgentRef,
        capacity: u32,
    ) -> RepoResult<crate::AssignAttempt>;
    /// Puts the tenant's pending sessions that the bot had into the queue
    /// (when the bot is turned off), by arrival.
    async fn queue_bot_sessions(&self, tenant: &TenantId) -> RepoResult<u64>;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// A bearer token for the REST API and `/ws`.
    Access,
    /// A short-lived single-use ticket for a browser's `/ws?ticket=`.
    WsTicket,
}

impl TokenKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenKind::Access => "access",
            TokenKind::WsTicket => "ws_ticket",
        }
    }
}

/// A stored token as the services see it.
#[derive(Debug, Clone)]
pub struct TokenRecord {
    pub agent: Agent,
    pub expires_at: Timestamp,
    /// For a ticket: the digest of the access token it was issued from, so
    /// that revoking that token also ends what the ticket opened.
    pub parent_hash: Option<String>,
}

#[async_trait]
pub trait TokenRepository: Send + Sync {
    /// Stores the SHA-256 digest of a token; the token itself is never stored.
    async fn insert(
        &self,
        kind: TokenKind,
        token_hash: &str,
        agent: &Agent,
        expires_at: Timestamp,
        parent_hash: Option<&str>,
    ) -> RepoResult<()>;
    /// An unexpired, unrevoked token of that kind.
    async fn find(
        &self,
        kind: TokenKind,
        token_hash: &str,
        now: Timestamp,
    ) -> RepoResult<Option<TokenRecord>>;
    /// Deletes the token and returns it if it was valid: a ticket can be
    /// used once only, even by two racing requests.
    async fn consume(
        &self,
        kind: TokenKind,
        token_hash: &str,
        now: Timestamp,
    ) -> RepoResult<Option<TokenRecord>>;
    /// Revokes a token and the tickets issued from it. Returns whether the
    /// token existed.
    async fn revoke(&self, token_hash: &str) -> RepoResult<bool>;
    /// Revokes every token and ticket of an agent but `keep` (and the
    /// tickets issued from it).
    async fn revoke_agent(&self, agent: &AgentId, keep: Option<&str>) -> RepoResult<()>;
}

#[async_trait]
pub trait ApiTokenRepository: Send + Sync {
    async fn create(&self, tenant: &TenantId, new: NewApiToken) -> RepoResult<ApiToken>;
    async fn list(&self, tenant: &TenantId) -> RepoResult<Vec<ApiToken>>;
    /// Returns whether it existed.
    async fn delete(&self, tenant: &TenantId, id: &str) -> RepoResult<bool>;
    /// The token under this digest and the active agent it acts as; notes
    /// the use.
    async fn find_by_hash(
        &self,
        token_hash: &str,
        now: Timestamp,
    ) -> RepoResult<Option<(ApiToken, Agent)>>;
    /// Deletes every token an agent made.
    async fn revoke_agent(&self, tenant: &TenantId, agent: &AgentId) -> RepoResult<()>;
}

#[async_trait]
pub trait WebhookRepository: Send + Sync {
    async fn create(
        &self,
        tenant: &TenantId,
        new: NewWebhookEndpoint,
    ) -> RepoResult<WebhookEndpoint>;
    async fn list(&self, tenant: &TenantId) -> RepoResult<Vec<WebhookEndpoint>>;
    async fn find(&self, tenant: &TenantId, id: &str) -> RepoResult<Option<WebhookEndpoint>>;
    async fn update(
        &self,
        tenant: &TenantId,
        id: &str,
        patch: WebhookPatch,
    ) -> RepoResult<WebhookEndpoint>;
    /// Deletes the endpoint and its deliveries. Returns whether it existed.
    async fn delete(&self, tenant: &TenantId, id: &str) -> RepoResult<bool>;
    /// An endpoint's deliveries, newest first.
    async fn deliveries(
        &self,
        tenant: &TenantId,
        endpoint: &str,
        limit: u64,
    ) -> RepoResult<Vec<Delivery>>;
    /// Schedules a delivery again now, whatever its status.
    async fn redeliver(&self, tenant: &TenantId, endpoint: &str, id: &str) -> RepoResult<Delivery>;
    /// Claims up to `limit` due deliveries for `lease`: a claimed delivery
    /// is not handed to another sender (or node) until the lease runs out.
    async fn claim_due(
        &self,
        now: Timestamp,
        limit: u64,
        lease: Duration,
    ) -> RepoResult<Vec<ClaimedDelivery>>;
    async fn record_attempt(
        &self,
        id: &str,
        now: Timestamp,
        outcome: AttemptOutcome,
    ) -> RepoResult<()>;
}

/// Canned replies, labels and private notes.
#[async_trait]
pub trait DeskRepository: Send + Sync {
    async fn canned_list(&self, tenant: &TenantId) -> RepoResult<Vec<CannedReply>>;
    /// Fails with `Conflict("shortcut")` when the shortcut is taken.
    async fn canned_create(&self, tenant: &TenantId, input: CannedInput)
    -> RepoResult<CannedReply>;
    async fn canned_update(
        &self,
        tenant: &TenantId,
        id: &str,
        input: CannedInput,
    ) -> RepoResult<CannedReply>;
    /// Returns whether it existed.
    async fn canned_delete(&self, tenant: &TenantId, id: &str) -> RepoResult<bool>;
    async fn labels(&self, tenant: &TenantId) -> RepoResult<Vec<Label>>;
    /// Fails with `Conflict("label")` when the name is taken.
    async fn label_create(
        &self,
        tenant: &TenantId,
        name: LabelName,
        color: Color,
    ) -> RepoResult<Label>;
    /// Replaces a session's labels; every name must be a label of the
    /// tenant (`Conflict("unknown_label")` otherwise).
    async fn set_session_labels(
        &self,
        tenant: &TenantId,
        session: &SessionId,
        labels: &[LabelName],
    ) -> RepoResult<Committed<ChatSession>>;
    /// Stores a note after the session's newest message (`after_seq` is
    /// its `last_seq` in the same transaction); the session's `seq` is
    /// untouched.
    async fn add_note(
        &self,
        tenant: &TenantId,
        session: &SessionId,
        new: NewNote,
    ) -> RepoResult<Committed<Note>>;
    /// Notes with `after_seq >= from_seq`, oldest first.
    async fn notes(
        &self,
        tenant: &TenantId,
        session: &SessionId,
        from_seq: i64,
    ) -> RepoResult<Vec<Note>>;
}

#[async_trait]
pub trait SessionRepository: Send + Sync {
    /// Creates the customer and the session (status `pending`, `last_seq` 0).
    async fn create(
        &self,
        tenant: &TenantId,
        new: NewSession,
    ) -> RepoResult<Committed<ChatSession>>;
    /// The session a customer's key opens. The key is the customer's only
    /// credential, so this is the one lookup without a tenant.
    async fn find_by_key_hash(&self, key_hash: &SessionKeyHash) -> RepoResult<Option<ChatSession>>;
    async fn find(&self, tenant: &TenantId, id: &SessionId) -> RepoResult<Option<ChatSession>>;
    /// Sorted by last activity, newest first.
    async fn list(&self, tenant: &TenantId, filter: &SessionFilter)
    -> RepoResult<Vec<ChatSession>>;
    /// Sets status and assignee if the status is still `expected`; fails
    /// with [`crate::RepoError::Conflict`] when another change came first.
    async fn update_state(
        &self,
        tenant: &TenantId,
        id: &SessionId,
        expected: SessionStatus,
        status: SessionStatus,
        assigned: Option<AgentRef>,
        change: SessionChange,
    ) -> RepoResult<Committed<ChatSession>>;
    /// Moves a side's delivered and read pointers up to the update (capped
    /// at the session's `last_seq`); a lower value than stored is ignored.
    /// Returns the change when a pointer moved, `None` when none did. The
    /// agents' read pointer also sets the unread count.
    async fn advance_receipt(
        &self,
        tenant: &TenantId,
        id: &SessionId,
        side: ReceiptSide,
        update: ReceiptUpdate,
    ) -> RepoResult<Option<Committed<ReceiptChange>>>;
    /// The customer a visitor token (its digest) belongs to, if it was seen
    /// in this tenant since `seen_after`.
    async fn find_visitor(
        &self,
        tenant: &TenantId,
        token_hash: &SessionKeyHash,
        seen_after: Timestamp,
    ) -> RepoResult<Option<CustomerId>>;
    /// Stores the customer's rating of a closed conversation, once:
    /// `Conflict("rated")` for a second, `Conflict("not_closed")` while it
    /// is open; records `chat.session.rated`.
    async fn rate(
        &self,
        tenant: &TenantId,
        id: &SessionId,
        score: u8,
        comment: Option<String>,
    ) -> RepoResult<Committed<ChatSession>>;
    /// Deletes a conversation and everything in it (messages, notes,
    /// labels, file records); returns the storage keys of its files, for
    /// the caller to delete from the file store.
    async fn erase_session(&self, tenant: &TenantId, id: &SessionId) -> RepoResult<Vec<String>>;
    /// Deletes a customer and all their conversations; returns the storage
    /// keys of their files.
    async fn erase_customer(
        &self,
        tenant: &TenantId,
        id: &crate::CustomerId,
    ) -> RepoResult<Vec<String>>;
    /// Marks the session as handed off by the bot. Returns `true` only for
    /// the call that changed it, so the hand-off message is sent once.
    async fn mark_handed_off(
        &self,
        tenant: &TenantId,
        id: &SessionId,
        reason: &'static str,
    ) -> RepoResult<bool>;
}

#[async_trait]
pub trait MessageRepository: Send + Sync {
    /// Appends a message with the next `seq` of its session, in one
    /// transaction with the session's `last_seq`, activity time and preview.
    /// A message whose `client_msg_id` is already stored for the session is
    /// returned as [`AppendOutcome::Existing`] and nothing is written.
    /// Fails with `Conflict("session_closed")` on a closed session.
    async fn append(
        &self,
        tenant: &TenantId,
        session: &SessionId,
        new: NewMessage,
    ) -> RepoResult<AppendOutcome>;
    /// Messages with `seq > after_seq`, in `seq` order, at most `limit`.
    async fn list(
        &self,
        tenant: &TenantId,
        session: &SessionId,
        after_seq: i64,
        limit: u64,
    ) -> RepoResult<Vec<Message>>;
    /// How many messages of the session this kind of sender wrote (the
    /// bot's answers, for its budget).
    async fn count_by_sender(
        &self,
        tenant: &TenantId,
        session: &SessionId,
        sender: SenderType,
    ) -> RepoResult<u64>;
    /// Messages matching the query through the database's full-text
    /// index, newest first, with their sessions; the tenant is part of the
    /// query.
    async fn search(&self, tenant: &TenantId, search: &MessageSearch) -> RepoResult<SearchPage>;
    /// The newest messages with `seq < before_seq`, returned in `seq` order
    /// (for loading older history on scroll).
    async fn list_before(
        &self,
        tenant: &TenantId,
        session: &SessionId,
        before_seq: i64,
        limit: u64,
    ) -> RepoResult<Vec<Message>>;
}

/// Database health, for readiness probes.
#[async_trait]
pub trait HealthCheck: Send + Sync {
    async fn ping(&self) -> RepoResult<()>;
}

/// The figures of reports, computed by the database over the stored
/// conversations (never by loading them).
#[async_trait]
pub trait ReportRepository: Send + Sync {
    /// Conversations started in the period (held by `query.agent` when
    /// given): the whole, per agent holding them, per local day.
    async fn summary(
        &self,
        tenant: &TenantId,
        query: &crate::ReportQuery,
    ) -> RepoResult<crate::Report>;
}

/// The outbox of outgoing email and what decides it.
#[async_trait]
pub trait EmailRepository: Send + Sync {
    /// Queues an email; `false` when one with the same key is queued
    /// already.
    async fn enqueue(&self, tenant: &TenantId, new: crate::email::NewEmail) -> RepoResult<bool>;
    /// Conversations whose customer has an address, has not unsubscribed,
    /// and has not received an agent's latest reply, sent between `since`
    /// and `until`.
    async fn unseen_due(
        &self,
        since: Timestamp,
        until: Timestamp,
        limit: u64,
    ) -> RepoResult<Vec<crate::email::UnseenDue>>;
    /// In one transaction: marks the replies up to `due.upto_seq` emailed
    /// and queues their email, if they are still neither received nor
    /// emailed (`false` otherwise). Of several nodes, one queues it.
    async fn queue_unseen(&self, due: &crate::email::UnseenDue) -> RepoResult<bool>;
    /// Due emails, each claimed for `lease` by a conditional update.
    async fn claim_emails(
        &self,
        now: Timestamp,
        limit: u64,
        lease: Duration,
    ) -> RepoResult<Vec<crate::email::ClaimedEmail>>;
    async fn record_email(
        &self,
        id: &str,
        now: Timestamp,
        outcome: crate::email::EmailOutcome,
    ) -> RepoResult<()>;
    /// The customer's address, unless they unsubscribed.
    async fn customer_address(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
    ) -> RepoResult<Option<Email>>;
    /// No more email to this customer; `false` when there is no such
    /// customer.
    async fn unsubscribe(&self, customer: &CustomerId) -> RepoResult<bool>;
    async fn email_when_offline(&self, tenant: &TenantId, agent: &AgentId) -> RepoResult<bool>;
    async fn set_email_when_offline(
        &self,
        tenant: &TenantId,
        agent: &AgentId,
        on: bool,
    ) -> RepoResult<bool>;
    /// A secret the nodes share: `fresh` the first time, what was stored
    /// ever after.
    async fn shared_secret(&self, name: &str, fresh: String) -> RepoResult<String>;
    /// Gives a session a new key (its old one stops working).
    async fn rekey_session(
        &self,
        tenant: &TenantId,
        id: &SessionId,
        key_hash: SessionKeyHash,
    ) -> RepoResult<bool>;
}
