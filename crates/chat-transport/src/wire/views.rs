//! How the domain's objects look on the wire, for every audience: agents
//! see whole sessions, customers a public view.

use chat_domain::{AgentRef, ChatSession};
use serde::Serialize;
use ts_rs::TS;
use utoipa::ToSchema;

use super::rfc3339;

#[derive(Debug, Clone, Copy, Serialize, TS, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SessionStatus {
    Pending,
    Open,
    Closed,
}

impl From<chat_domain::SessionStatus> for SessionStatus {
    fn from(s: chat_domain::SessionStatus) -> Self {
        match s {
            chat_domain::SessionStatus::Pending => Self::Pending,
            chat_domain::SessionStatus::Open => Self::Open,
            chat_domain::SessionStatus::Closed => Self::Closed,
        }
    }
}

#[derive(Debug, Clone, Copy, Serialize, TS, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SenderType {
    Customer,
    Agent,
    Bot,
    System,
}

impl From<chat_domain::SenderType> for SenderType {
    fn from(s: chat_domain::SenderType) -> Self {
        match s {
            chat_domain::SenderType::Customer => Self::Customer,
            chat_domain::SenderType::Agent => Self::Agent,
            chat_domain::SenderType::Bot => Self::Bot,
            chat_domain::SenderType::System => Self::System,
        }
    }
}

#[derive(Debug, Clone, Copy, Serialize, TS, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Agent,
}

impl From<chat_domain::Role> for Role {
    fn from(r: chat_domain::Role) -> Self {
        match r {
            chat_domain::Role::Admin => Self::Admin,
            chat_domain::Role::Agent => Self::Agent,
        }
    }
}

#[derive(Debug, Clone, Serialize, TS, ToSchema)]
pub struct Message {
    pub id: String,
    pub session_id: String,
    pub seq: i64,
    pub sender_type: SenderType,
    pub sender_id: Option<String>,
    pub sender_name: String,
    pub body: String,
    pub created_at: String,
    pub client_msg_id: Option<String>,
    /// The files sent with it (empty for most messages).
    pub attachments: Vec<AttachmentView>,
}

/// Where download URLs point: `CHAT__ATTACHMENTS__PUBLIC_BASE_URL`, or
/// the API's own origin (relative URLs) when unset. Set once at start.
static FILES_BASE: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// Sets the origin of download URLs (once, at start).
pub fn set_files_base(base: &str) {
    let _ = FILES_BASE.set(base.trim_end_matches('/').to_owned());
}

/// A file as clients see it. `url` is a capability: 256 random bits, no
/// header needed, so an `<img>` can load it.
#[derive(Debug, Clone, Serialize, TS, ToSchema)]
pub struct AttachmentView {
    pub id: String,
    pub name: String,
    /// What the bytes are (sniffed), not what the uploader said.
    pub content_type: String,
    pub size: u64,
    /// `/api/v1/files/{token}/{name}`, under the files origin when one is
    /// configured.
    pub url: String,
    /// Whether it is shown inline (verified PNG, JPEG, GIF or WebP).
    pub inline: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub width: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub height: Option<u32>,
}

/// The path segment of a file name in its URL: percent-encoded bytes
/// beyond unreserved ASCII.
fn url_segment(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl From<&chat_domain::Attachment> for AttachmentView {
    fn from(a: &chat_domain::Attachment) -> Self {
        let base = FILES_BASE.get().map(String::as_str).unwrap_or_default();
        Self {
            id: a.id.to_string(),
            name: a.name.clone(),
            content_type: a.content_type.clone(),
            size: a.size,
            url: format!("{base}/api/v1/files/{}/{}", a.token, url_segment(&a.name)),
            inline: a.inline(),
            width: a.width,
            height: a.height,
        }
    }
}

impl From<&chat_domain::Message> for Message {
    fn from(m: &chat_domain::Message) -> Self {
        Self {
            id: m.id.to_string(),
            session_id: m.session_id.to_string(),
            seq: m.seq,
            sender_type: m.sender_type.into(),
            sender_id: m.sender_id.clone(),
            sender_name: m.sender_name.clone(),
            body: m.body.clone(),
            created_at: rfc3339(&m.created_at),
            client_msg_id: m.client_msg_id.as_ref().map(|c| c.as_str().to_owned()),
            attachments: m.attachments.iter().map(AttachmentView::from).collect(),
        }
    }
}

#[derive(Debug, Clone, Serialize, TS, ToSchema)]
pub struct AgentRefView {
    pub id: String,
    pub name: String,
}

impl From<&AgentRef> for AgentRefView {
    fn from(a: &AgentRef) -> Self {
        Self {
            id: a.id.to_string(),
            name: a.name.clone(),
        }
    }
}

#[derive(Debug, Clone, Serialize, TS, ToSchema)]
pub struct Customer {
    pub id: String,
    pub name: Option<String>,
    pub email: Option<String>,
    #[ts(type = "Record<string, unknown>")]
    pub attributes: serde_json::Value,
}

#[derive(Debug, Clone, Serialize, TS, ToSchema)]
pub struct PageContext {
    pub page_url: Option<String>,
    pub referrer: Option<String>,
    pub user_agent: Option<String>,
    pub locale: Option<String>,
}

/// The view of a session an audience gets, and whether that audience is
/// the team (which also sees internal counts such as `unread_count`).
pub trait SessionView: for<'a> From<&'a ChatSession> {
    const AGENTS: bool;
}

impl SessionView for Session {
    const AGENTS: bool = true;
}

impl SessionView for PublicSession {
    const AGENTS: bool = false;
}

/// A session as agents see it.
#[derive(Debug, Clone, Serialize, TS, ToSchema)]
pub struct Session {
    pub id: String,
    pub status: SessionStatus,
    pub customer: Customer,
    pub assigned_agent: Option<AgentRefView>,
    pub context: PageContext,
    pub created_at: String,
    pub last_activity_at: String,
    pub last_seq: i64,
    pub last_message_preview: Option<String>,
    /// The customer's client has received up to this `seq`.
    pub customer_delivered_seq: i64,
    /// The customer has seen up to this `seq`.
    pub customer_read_seq: i64,
    /// An agent's client has received up to this `seq`.
    pub agent_delivered_seq: i64,
    /// An agent has seen up to this `seq`.
    pub agent_read_seq: i64,
    /// Customer messages after `agent_read_seq`.
    pub unread_count: i64,
    /// Label names, sorted.
    pub labels: Vec<String>,
    /// Since when it waits for a person (pending and not with the bot);
    /// `null` otherwise.
    pub queued_at: Option<String>,
    /// The customer's rating once given.
    pub rating: Option<RatingView>,
    /// It came in while nobody was there (no agent taking conversations,
    /// or outside the business hours).
    pub offline: bool,
}

#[derive(Debug, Clone, Serialize, TS, ToSchema)]
pub struct RatingView {
    /// 1 to 5.
    pub score: u8,
    pub comment: Option<String>,
    pub rated_at: String,
}

impl From<&chat_domain::widget::Rating> for RatingView {
    fn from(r: &chat_domain::widget::Rating) -> Self {
        Self {
            score: r.score,
            comment: r.comment.clone(),
            rated_at: rfc3339(&r.rated_at),
        }
    }
}

impl From<&ChatSession> for Session {
    fn from(s: &ChatSession) -> Self {
        Self {
            id: s.id.to_string(),
            status: s.status.into(),
            customer: Customer {
                id: s.customer.id.to_string(),
                name: s.customer.name.clone(),
                email: s.customer.email.as_ref().map(|e| e.as_str().to_owned()),
                attributes: s.customer.attributes.clone(),
            },
            assigned_agent: s.assigned_agent.as_ref().map(AgentRefView::from),
            context: PageContext {
                page_url: s.context.page_url.clone(),
                referrer: s.context.referrer.clone(),
                user_agent: s.context.user_agent.clone(),
                locale: s.context.locale.clone(),
            },
            created_at: rfc3339(&s.created_at),
            last_activity_at: rfc3339(&s.last_activity_at),
            last_seq: s.last_seq,
            last_message_preview: s.last_message_preview.clone(),
            customer_delivered_seq: s.receipts.customer_delivered_seq,
            customer_read_seq: s.receipts.customer_read_seq,
            agent_delivered_seq: s.receipts.agent_delivered_seq,
            agent_read_seq: s.receipts.agent_read_seq,
            unread_count: s.unread_count,
            labels: s.labels.clone(),
            queued_at: s.queued_at.as_ref().map(rfc3339),
            rating: s.rating.as_ref().map(RatingView::from),
            offline: s.offline,
        }
    }
}

/// A session as its customer sees it: no internal ids of agents beyond the
/// display name, no other customers' data.
#[derive(Debug, Clone, Serialize, TS, ToSchema)]
pub struct PublicSession {
    pub id: String,
    pub status: SessionStatus,
    pub assigned_agent_name: Option<String>,
    pub customer: PublicCustomer,
    pub created_at: String,
    pub last_seq: i64,
    /// The newest message's first characters (the visitor's history list).
    pub last_message_preview: Option<String>,
    pub last_activity_at: String,
    pub customer_delivered_seq: i64,
    pub customer_read_seq: i64,
    /// The team's clients have received up to this `seq` (two ticks).
    pub agent_delivered_seq: i64,
    /// Someone of the team has seen up to this `seq` (coloured ticks).
    pub agent_read_seq: i64,
    /// Whether the customer has rated it.
    pub rated: bool,
}

#[derive(Debug, Clone, Serialize, TS, ToSchema)]
pub struct PublicCustomer {
    pub name: Option<String>,
    pub email: Option<String>,
}

impl From<&ChatSession> for PublicSession {
    fn from(s: &ChatSession) -> Self {
        Self {
            id: s.id.to_string(),
            status: s.status.into(),
            assigned_agent_name: s.assigned_agent.as_ref().map(|a| a.name.clone()),
            customer: PublicCustomer {
                name: s.customer.name.clone(),
                email: s.customer.email.as_ref().map(|e| e.as_str().to_owned()),
            },
            created_at: rfc3339(&s.created_at),
            last_seq: s.last_seq,
            last_message_preview: s.last_message_preview.clone(),
            last_activity_at: rfc3339(&s.last_activity_at),
            customer_delivered_seq: s.receipts.customer_delivered_seq,
            customer_read_seq: s.receipts.customer_read_seq,
            agent_delivered_seq: s.receipts.agent_delivered_seq,
            agent_read_seq: s.receipts.agent_read_seq,
            rated: s.rating.is_some(),
        }
    }
}

/// A tenant's settings as its agents see them.
#[derive(Debug, Clone, Serialize, TS, ToSchema)]
pub struct TenantSettings {
    pub id: String,
    pub slug: String,
    pub name: String,
    /// IANA time zone of transcripts (and business hours).
    pub time_zone: String,
}

impl From<&chat_domain::Tenant> for TenantSettings {
    fn from(t: &chat_domain::Tenant) -> Self {
        Self {
            id: t.id.to_string(),
            slug: t.slug.as_str().to_owned(),
            name: t.name.clone(),
            time_zone: t.time_zone.name().to_owned(),
        }
    }
}

/// One search hit: the message, its session, and the part of the body
/// around the match, HTML-escaped, with every matching word in
/// `<mark>…</mark>`.
#[derive(Debug, Clone, Serialize, TS, ToSchema)]
pub struct SearchHit {
    pub message: Message,
    pub session: Session,
    pub snippet: String,
}

#[derive(Debug, Clone, Serialize, TS, ToSchema)]
pub struct Agent {
    pub id: String,
    pub name: String,
    pub email: String,
    pub role: Role,
    /// A deactivated agent cannot log in.
    pub active: bool,
    pub created_at: String,
    /// Only in the agent list: whether the agent has a socket open now.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub online: Option<bool>,
    /// `online` (taking new conversations), `away` or `busy`.
    pub status: String,
    /// The most open conversations automatic assignment gives the agent:
    /// their own cap, or the tenant's `default_max_concurrent`.
    pub max_concurrent: u32,
    /// Whether `max_concurrent` is the tenant's default (no cap of their
    /// own).
    pub max_concurrent_is_default: bool,
    /// Only in the agent list: open conversations assigned to them.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub open_conversations: Option<u32>,
}

impl Agent {
    /// The view with the cap that applies under the tenant's default.
    pub fn with_default(a: &chat_domain::Agent, default_max_concurrent: u32) -> Self {
        Self {
            max_concurrent: a.capacity(default_max_concurrent),
            ..a.into()
        }
    }
}

impl From<&chat_domain::Agent> for Agent {
    fn from(a: &chat_domain::Agent) -> Self {
        Self {
            id: a.id.to_string(),
            name: a.name.clone(),
            email: a.email.as_str().to_owned(),
            role: a.role.into(),
            active: a.active,
            created_at: rfc3339(&a.created_at),
            online: None,
            status: a.status.as_str().to_owned(),
            max_concurrent: a
                .max_concurrent
                .unwrap_or(chat_domain::assignment::DEFAULT_MAX_CONCURRENT),
            max_concurrent_is_default: a.max_concurrent.is_none(),
            open_conversations: None,
        }
    }
}

#[derive(Debug, Clone, Serialize, TS, ToSchema)]
pub struct Article {
    pub id: String,
    pub title: String,
    pub body: String,
    pub keywords: Vec<String>,
    /// Waits for an admin; the bot does not use it.
    pub draft: bool,
    pub updated_at: String,
}

impl From<&chat_domain::Article> for Article {
    fn from(a: &chat_domain::Article) -> Self {
        Self {
            id: a.id.clone(),
            title: a.title.clone(),
            body: a.body.clone(),
            keywords: a.keywords.clone(),
            draft: a.draft,
            updated_at: rfc3339(&a.updated_at),
        }
    }
}

/// An article suggested to the agents for a question: the passage is what
/// the dashboard inserts into the reply.
#[derive(Debug, Clone, Serialize, TS, ToSchema)]
pub struct Suggestion {
    pub article_id: String,
    pub title: String,
    pub passage: String,
    /// 0 to 1; higher is closer.
    pub score: f64,
}

impl From<&chat_domain::BotSuggestion> for Suggestion {
    fn from(s: &chat_domain::BotSuggestion) -> Self {
        Self {
            article_id: s.article_id.clone(),
            title: s.title.clone(),
            passage: s.passage.clone(),
            score: (s.score * 1000.0).round() / 1000.0,
        }
    }
}

/// `GET /api/v1/chat/sessions/{id}/suggestions`.
#[derive(Debug, Serialize, TS, ToSchema)]
pub struct SuggestionsResponse {
    /// The customer's latest message, which the suggestions are for.
    pub question: Option<String>,
    pub suggestions: Vec<Suggestion>,
}

/// The article an agent's reply is covered by.
#[derive(Debug, Serialize, TS, ToSchema)]
pub struct CoveringArticle {
    pub id: String,
    pub title: String,
}

/// `POST /api/v1/kb/coverage`.
#[derive(Debug, Serialize, TS, ToSchema)]
pub struct CoverageResponse {
    pub covered: bool,
    pub article: Option<CoveringArticle>,
}

#[derive(Debug, Clone, Copy, Serialize, TS, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BotMode {
    Off,
    KnowledgeBase,
    Llm,
}

impl From<chat_domain::BotMode> for BotMode {
    fn from(m: chat_domain::BotMode) -> Self {
        match m {
            chat_domain::BotMode::Off => Self::Off,
            chat_domain::BotMode::KnowledgeBase => Self::KnowledgeBase,
            chat_domain::BotMode::Llm => Self::Llm,
        }
    }
}

#[derive(Debug, Clone, Serialize, TS, ToSchema)]
pub struct BotSetting {
    pub mode: BotMode,
    pub name: String,
}

impl From<&chat_domain::Tenant> for BotSetting {
    fn from(t: &chat_domain::Tenant) -> Self {
        Self {
            mode: t.bot_mode.into(),
            name: t.bot_name.clone(),
        }
    }
}

/// An API token as it is listed: never its secret.
#[derive(Debug, Clone, Serialize, TS, ToSchema)]
pub struct ApiToken {
    pub id: String,
    pub name: String,
    pub scopes: Vec<String>,
    /// The admin who made it; the token acts as them.
    pub agent_id: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
}

impl From<&chat_domain::ApiToken> for ApiToken {
    fn from(t: &chat_domain::ApiToken) -> Self {
        Self {
            id: t.id.clone(),
            name: t.name.clone(),
            scopes: t.scopes.iter().map(|s| s.as_str().to_owned()).collect(),
            agent_id: t.agent_id.to_string(),
            created_at: rfc3339(&t.created_at),
            last_used_at: t.last_used_at.as_ref().map(rfc3339),
        }
    }
}

/// A webhook endpoint: never its secret.
#[derive(Debug, Clone, Serialize, TS, ToSchema)]
pub struct Webhook {
    pub id: String,
    pub url: String,
    pub events: Vec<String>,
    pub active: bool,
    pub created_at: String,
    pub updated_at: String,
}

impl From<&chat_domain::WebhookEndpoint> for Webhook {
    fn from(w: &chat_domain::WebhookEndpoint) -> Self {
        Self {
            id: w.id.clone(),
            url: w.url.as_str().to_owned(),
            events: w.events.clone(),
            active: w.active,
            created_at: rfc3339(&w.created_at),
            updated_at: rfc3339(&w.updated_at),
        }
    }
}

#[derive(Debug, Clone, Copy, Serialize, TS, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    Pending,
    Delivered,
    Failed,
}

impl From<chat_domain::DeliveryStatus> for DeliveryStatus {
    fn from(s: chat_domain::DeliveryStatus) -> Self {
        match s {
            chat_domain::DeliveryStatus::Pending => DeliveryStatus::Pending,
            chat_domain::DeliveryStatus::Delivered => DeliveryStatus::Delivered,
            chat_domain::DeliveryStatus::Failed => DeliveryStatus::Failed,
        }
    }
}

/// One event's delivery to one endpoint, in the delivery log.
#[derive(Debug, Clone, Serialize, TS, ToSchema)]
pub struct Delivery {
    /// The `webhook-id` header of every attempt.
    pub id: String,
    pub event_id: String,
    pub event_type: String,
    pub status: DeliveryStatus,
    pub attempts: u32,
    /// When the next attempt is due (while pending).
    pub next_attempt_at: String,
    /// The HTTP status of the last attempt, if it got one.
    pub last_status: Option<u16>,
    pub last_error: Option<String>,
    pub created_at: String,
    pub delivered_at: Option<String>,
}

impl From<&chat_domain::Delivery> for Delivery {
    fn from(d: &chat_domain::Delivery) -> Self {
        Self {
            id: d.id.clone(),
            event_id: d.event_id.clone(),
            event_type: d.event_type.clone(),
            status: d.status.into(),
            attempts: d.attempts,
            next_attempt_at: rfc3339(&d.next_attempt_at),
            last_status: d.last_status,
            last_error: d.last_error.clone(),
            created_at: rfc3339(&d.created_at),
            delivered_at: d.delivered_at.as_ref().map(rfc3339),
        }
    }
}

#[derive(Debug, Clone, Serialize, TS, ToSchema)]
pub struct CannedReply {
    pub id: String,
    pub shortcut: String,
    pub title: String,
    /// May hold `{{customer.name}}`, `{{customer.email}}` and
    /// `{{agent.name}}`, filled in by the composer.
    pub body: String,
    pub updated_at: String,
}

impl From<&chat_domain::CannedReply> for CannedReply {
    fn from(c: &chat_domain::CannedReply) -> Self {
        Self {
            id: c.id.clone(),
            shortcut: c.shortcut.as_str().to_owned(),
            title: c.title.clone(),
            body: c.body.clone(),
            updated_at: rfc3339(&c.updated_at),
        }
    }
}

#[derive(Debug, Clone, Serialize, TS, ToSchema)]
pub struct Label {
    pub id: String,
    pub name: String,
    /// `#rrggbb`.
    pub color: String,
    pub created_at: String,
}

impl From<&chat_domain::Label> for Label {
    fn from(l: &chat_domain::Label) -> Self {
        Self {
            id: l.id.clone(),
            name: l.name.as_str().to_owned(),
            color: l.color.as_str().to_owned(),
            created_at: rfc3339(&l.created_at),
        }
    }
}

/// A private note: agents only.
#[derive(Debug, Clone, Serialize, TS, ToSchema)]
pub struct Note {
    pub id: String,
    pub session_id: String,
    /// The `seq` of the last message before it.
    pub after_seq: i64,
    pub author_id: String,
    pub author_name: String,
    pub body: String,
    pub created_at: String,
}

impl From<&chat_domain::Note> for Note {
    fn from(n: &chat_domain::Note) -> Self {
        Self {
            id: n.id.clone(),
            session_id: n.session_id.to_string(),
            after_seq: n.after_seq,
            author_id: n.author_id.to_string(),
            author_name: n.author_name.clone(),
            body: n.body.clone(),
            created_at: rfc3339(&n.created_at),
        }
    }
}
