//! REST request and response bodies. Requests are strict (unknown fields
//! are refused); every response is an object with one named member, so a
//! field can be added later without breaking a client.

use serde::{Deserialize, Serialize};
use ts_rs::TS;
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use super::views::{
    Agent, ApiToken, Article, AttachmentView, BotSetting, CannedReply, Delivery, Label, Message,
    Note, PublicSession, SearchHit, Session, TenantSettings, Webhook,
};

// ----- requests --------------------------------------------------------------

#[derive(Debug, Deserialize, Validate, Default, TS, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomerInput {
    #[validate(length(max = 200))]
    #[ts(optional)]
    pub name: Option<String>,
    #[validate(length(max = 254))]
    #[ts(optional)]
    pub email: Option<String>,
    #[ts(optional, type = "Record<string, unknown>")]
    pub attributes: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize, Validate, Default, TS, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContextInput {
    #[validate(length(max = 2048))]
    #[ts(optional)]
    pub page_url: Option<String>,
    #[validate(length(max = 2048))]
    #[ts(optional)]
    pub referrer: Option<String>,
    #[validate(length(max = 35))]
    #[ts(optional)]
    pub locale: Option<String>,
}

#[derive(Debug, Deserialize, Validate, TS, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartSessionRequest {
    #[validate(length(min = 1, max = 64))]
    pub tenant_id: String,
    #[validate(nested)]
    #[ts(optional)]
    pub customer: Option<CustomerInput>,
    #[validate(nested)]
    #[ts(optional)]
    pub context: Option<ContextInput>,
    /// The token a previous session gave this browser: the new session
    /// then belongs to the same customer (a returning visitor).
    #[validate(length(max = 128))]
    #[ts(optional)]
    pub visitor_token: Option<String>,
}

#[derive(Debug, Deserialize, TS, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CannedReplyRequest {
    pub shortcut: String,
    pub title: String,
    pub body: String,
}

#[derive(Debug, Deserialize, TS, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LabelRequest {
    pub name: String,
    /// `#rrggbb`; default `#6b7280`.
    #[ts(optional)]
    pub color: Option<String>,
}

#[derive(Debug, Deserialize, TS, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SessionLabelsRequest {
    pub labels: Vec<String>,
}

#[derive(Debug, Deserialize, TS, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteRequest {
    pub body: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NotesQuery {
    /// Notes placed after this `seq` or later (default 0: all).
    pub after_seq: Option<i64>,
}

/// A receipt over REST: everything up to `seq` has been seen.
#[derive(Debug, Deserialize, TS, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReadRequest {
    pub seq: i64,
}

/// A returning visitor's credentials. In the body, so that the token stays
/// out of URLs and logs.
#[derive(Debug, Deserialize, Validate, TS, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VisitorRequest {
    #[validate(length(min = 1, max = 64))]
    pub tenant_id: String,
    #[validate(length(min = 1, max = 128))]
    pub visitor_token: String,
}

#[derive(Debug, Deserialize, Validate, TS, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VisitorMessagesRequest {
    #[validate(length(min = 1, max = 64))]
    pub tenant_id: String,
    #[validate(length(min = 1, max = 128))]
    pub visitor_token: String,
    #[ts(optional)]
    pub after_seq: Option<i64>,
    #[ts(optional)]
    pub limit: Option<u64>,
}

#[derive(Debug, Deserialize, TS, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TenantSettingsRequest {
    /// An IANA time zone name such as `Europe/Berlin`.
    #[ts(optional)]
    pub time_zone: Option<String>,
}

#[derive(Debug, Deserialize, Validate, TS, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SendMessageRequest {
    /// Checked by `MessageBody::parse` after trimming; this bound only stops
    /// absurd inputs early (4,000 characters of 4 bytes each).
    #[validate(length(max = 16000))]
    #[serde(default)]
    #[ts(as = "Option<String>", optional)]
    pub body: String,
    #[validate(length(min = 1, max = 64))]
    #[ts(optional)]
    pub client_msg_id: Option<String>,
    /// Files uploaded to this session and not sent yet (at most 5); then
    /// `body` may be empty.
    #[serde(default)]
    #[validate(length(max = 5))]
    #[ts(as = "Option<Vec<String>>", optional)]
    pub attachment_ids: Vec<String>,
}

#[derive(Debug, Deserialize, TS, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RatingRequest {
    /// 1 to 5.
    pub score: i64,
    #[ts(optional)]
    pub comment: Option<String>,
}

#[derive(Debug, Deserialize, Default, TS, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseRequest {
    /// Email the transcript to the customer, when outgoing email is set
    /// up and the customer left an address (and did not unsubscribe).
    #[ts(optional)]
    pub send_transcript: Option<bool>,
}

/// What the widget shows, from the server. `null` fields leave the
/// widget's own default (or the snippet's option).
#[derive(Debug, Serialize, TS, ToSchema)]
pub struct PublicWidgetResponse {
    pub name: String,
    pub greeting: Option<String>,
    pub primary_color: Option<String>,
    pub position: Option<String>,
    pub locale: Option<String>,
    /// An agent is reachable and taking conversations.
    pub online: bool,
    pub business_hours_open: bool,
    /// When the team is back (RFC 3339), while closed.
    pub next_open: Option<String>,
    pub time_zone: String,
    pub expected_reply: Option<String>,
    /// `{"name","email": "off"|"optional"|"required", "email_when_offline", "fields": [{"key","label","required","choices"}]}`
    #[ts(
        type = "{ name: string, email: string, email_when_offline: boolean, fields: Array<{ key: string, label: string, required: boolean, choices: string[] }> }"
    )]
    #[schema(value_type = Object)]
    pub prechat: serde_json::Value,
    pub offline_message: Option<String>,
    pub csat: bool,
}

/// The widget settings as admins edit them (the shape `PUT` takes).
#[derive(Debug, Serialize, TS, ToSchema)]
pub struct WidgetSettingsResponse {
    #[ts(
        type = "{ name: string | null, greeting: string | null, primary_color: string | null, position: string | null, locale: string | null, expected_reply: string | null, offline_message: string | null, csat: boolean, prechat: PublicWidgetResponse['prechat'] }"
    )]
    #[schema(value_type = Object)]
    pub widget: serde_json::Value,
}

/// The business hours as admins edit them, with what they mean now.
#[derive(Debug, Serialize, TS, ToSchema)]
pub struct BusinessHoursResponse {
    pub time_zone: String,
    /// `{"enabled", "weekly": {"mon": [{"open":"09:00","close":"17:00"}], …}, "exceptions": [{"date","intervals"}]}`
    #[ts(
        type = "{ enabled: boolean, weekly: Record<string, Array<{ open: string, close: string }>>, exceptions: Array<{ date: string, intervals: Array<{ open: string, close: string }> }> }"
    )]
    #[schema(value_type = Object)]
    pub business_hours: serde_json::Value,
    pub open_now: bool,
    pub next_open: Option<String>,
}

#[derive(Debug, Serialize, TS, ToSchema)]
pub struct AttachmentResponse {
    pub attachment: AttachmentView,
}

#[derive(Debug, Serialize, TS, ToSchema)]
pub struct AttachmentListResponse {
    pub attachments: Vec<AttachmentView>,
}

#[derive(Debug, Deserialize, Validate, TS, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    #[validate(length(min = 1, max = 254))]
    pub email: String,
    #[validate(length(min = 1, max = 1024))]
    pub password: String,
    /// The tenant's slug, for an address with accounts at several tenants;
    /// without it the password picks the account.
    #[validate(length(min = 1, max = 64))]
    #[ts(optional)]
    pub tenant_id: Option<String>,
}

#[derive(Debug, Deserialize, Default, TS, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignRequest {
    #[ts(optional)]
    pub agent_id: Option<String>,
}

#[derive(Debug, Deserialize, Validate, TS, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAgentRequest {
    #[validate(length(min = 1, max = 100))]
    pub name: String,
    #[validate(length(min = 3, max = 254))]
    pub email: String,
    #[validate(length(min = 8, max = 256))]
    pub password: String,
    #[ts(optional)]
    pub role: Option<String>,
}

#[derive(Debug, Deserialize, TS, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ArticleRequest {
    pub title: String,
    pub body: String,
    #[serde(default)]
    #[ts(as = "Option<Vec<String>>", optional)]
    pub keywords: Vec<String>,
    /// A draft waits for an admin: the bot does not use it (default false:
    /// saving publishes).
    #[serde(default)]
    #[ts(as = "Option<bool>", optional)]
    pub draft: bool,
}

/// An agent's reply, checked against the published articles.
#[derive(Debug, Deserialize, TS, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CoverageRequest {
    pub body: String,
}

/// An agent's reply to a conversation's question, to become a draft
/// article (the question is its title).
#[derive(Debug, Deserialize, TS, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ArticleDraftRequest {
    pub session_id: String,
    pub body: String,
}

#[derive(Debug, Deserialize, TS, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BotRequest {
    pub mode: String,
    #[ts(optional)]
    pub name: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MessagesQuery {
    pub after_seq: Option<i64>,
    pub before_seq: Option<i64>,
    pub limit: Option<u64>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SessionsQuery {
    pub status: Option<String>,
    pub assigned: Option<String>,
    pub q: Option<String>,
    /// Only conversations carrying this label.
    pub label: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TranscriptQuery {
    /// `txt` (default), `html`, or `json` (agents only).
    pub format: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchMessagesQuery {
    /// Words, `prefix*` words and `"quoted phrases"`; all must match.
    pub q: Option<String>,
    pub status: Option<String>,
    /// `me`, `unassigned` or `any`.
    pub assigned: Option<String>,
    /// Messages at or after this time (RFC 3339 or `YYYY-MM-DD`, UTC).
    pub from: Option<String>,
    /// Messages before this time (RFC 3339 or `YYYY-MM-DD`, UTC).
    pub to: Option<String>,
    /// 1 to 50, default 20.
    pub limit: Option<u64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TicketQuery {
    pub ticket: Option<String>,
}

// ----- responses -------------------------------------------------------------

#[derive(Debug, Serialize, TS, ToSchema)]
pub struct StartSessionResponse {
    pub session_key: String,
    /// Kept by the browser and sent with its next start: the same
    /// customer, with their earlier conversations.
    pub visitor_token: String,
    pub session: PublicSession,
}

#[derive(Debug, Serialize, TS, ToSchema)]
pub struct CannedReplyResponse {
    pub canned_reply: CannedReply,
}

#[derive(Debug, Serialize, TS, ToSchema)]
pub struct CannedReplyListResponse {
    pub canned_replies: Vec<CannedReply>,
}

#[derive(Debug, Serialize, TS, ToSchema)]
pub struct LabelResponse {
    pub label: Label,
}

#[derive(Debug, Serialize, TS, ToSchema)]
pub struct LabelListResponse {
    pub labels: Vec<Label>,
}

#[derive(Debug, Serialize, TS, ToSchema)]
pub struct NoteResponse {
    pub note: Note,
}

#[derive(Debug, Serialize, TS, ToSchema)]
pub struct NoteListResponse {
    pub notes: Vec<Note>,
}

#[derive(Debug, Serialize, TS, ToSchema)]
pub struct PublicSessionListResponse {
    pub sessions: Vec<PublicSession>,
}

#[derive(Debug, Serialize, TS, ToSchema)]
pub struct SearchResponse {
    pub hits: Vec<SearchHit>,
    /// Pass as `cursor` for the next page; `null` on the last.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize, TS, ToSchema)]
pub struct TenantSettingsResponse {
    pub tenant: TenantSettings,
}

#[derive(Debug, Serialize, TS, ToSchema)]
pub struct PublicSessionResponse {
    pub session: PublicSession,
}

#[derive(Debug, Serialize, TS, ToSchema)]
pub struct SessionResponse {
    pub session: Session,
}

#[derive(Debug, Serialize, TS, ToSchema)]
pub struct SessionListResponse {
    pub sessions: Vec<Session>,
}

#[derive(Debug, Serialize, TS, ToSchema)]
pub struct MessageResponse {
    pub message: Message,
}

#[derive(Debug, Serialize, TS, ToSchema)]
pub struct MessageListResponse {
    pub messages: Vec<Message>,
}

#[derive(Debug, Serialize, TS, ToSchema)]
pub struct LoginResponse {
    pub token: String,
    pub expires_at: String,
    pub agent: Agent,
}

#[derive(Debug, Serialize, TS, ToSchema)]
pub struct TicketResponse {
    pub ticket: String,
    pub expires_at: String,
}

#[derive(Debug, Serialize, TS, ToSchema)]
pub struct AgentResponse {
    pub agent: Agent,
}

#[derive(Debug, Serialize, TS, ToSchema)]
pub struct AgentListResponse {
    pub agents: Vec<Agent>,
    /// The cap of agents without one of their own.
    pub default_max_concurrent: u32,
}

#[derive(Debug, Deserialize, TS, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgentStatusRequest {
    /// `online` (taking new conversations), `away` or `busy`.
    pub status: String,
}

#[derive(Debug, Deserialize, TS, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignmentSettingsRequest {
    /// `manual` (agents pick conversations) or `auto`.
    #[ts(optional)]
    pub assignment: Option<String>,
    /// 1 to 100: the cap of agents without one of their own.
    #[ts(optional)]
    pub default_max_concurrent: Option<i64>,
}

#[derive(Debug, Serialize, TS, ToSchema)]
pub struct AssignmentSettingsResponse {
    /// `manual` or `auto`.
    pub assignment: String,
    pub default_max_concurrent: u32,
}

impl From<chat_domain::AssignmentSettings> for AssignmentSettingsResponse {
    fn from(s: chat_domain::AssignmentSettings) -> Self {
        Self {
            assignment: s.mode.as_str().to_owned(),
            default_max_concurrent: s.default_max_concurrent,
        }
    }
}

/// A conversation waiting for a person.
#[derive(Debug, Serialize, TS, ToSchema)]
pub struct QueueEntry {
    /// 1 for the next to be served.
    pub position: u32,
    /// Seconds since it joined the queue.
    pub waiting_seconds: i64,
    pub session: Session,
}

#[derive(Debug, Serialize, TS, ToSchema)]
pub struct QueueResponse {
    /// `manual` or `auto`: whether the queue drains by itself.
    pub assignment: String,
    /// Longest waiting first.
    pub queue: Vec<QueueEntry>,
}

#[derive(Debug, Serialize, TS, ToSchema)]
pub struct ArticleResponse {
    pub article: Article,
}

#[derive(Debug, Serialize, TS, ToSchema)]
pub struct ArticleListResponse {
    pub articles: Vec<Article>,
}

#[derive(Debug, Serialize, TS, ToSchema)]
pub struct BotResponse {
    pub bot: BotSetting,
}

#[derive(Debug, Serialize, TS, ToSchema)]
pub struct HealthResponse {
    pub status: &'static str,
}

#[derive(Debug, Serialize, TS, ToSchema)]
pub struct ReadyResponse {
    /// `ok`, or `degraded` while the database or the cluster bridge is down.
    pub status: &'static str,
    /// `ok` or `down`: readiness means the database (503 when it is down).
    pub database: &'static str,
    /// `ok`, `down` or `disabled` (no `CHAT__REDIS__URL`); a node whose
    /// bridge is down still serves its own sockets and REST, so it stays
    /// ready.
    pub redis: &'static str,
    pub connections: usize,
}

/// Every error: `{"error":{"code","message"}}`, with the offending field
/// when a validation names one.
#[derive(Debug, Serialize, TS, ToSchema)]
pub struct ErrorResponse {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, TS, ToSchema)]
pub struct ErrorDetail {
    pub code: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub field: Option<String>,
    /// The request's `X-Request-Id`, to quote when reporting a problem.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub request_id: Option<String>,
}

// ----- team, API tokens, webhooks ---------------------------------------------

#[derive(Debug, Deserialize, Validate, TS, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateAgentRequest {
    #[validate(length(min = 1, max = 200))]
    #[ts(optional)]
    pub name: Option<String>,
    /// `admin` or `agent`.
    #[validate(length(max = 16))]
    #[ts(optional)]
    pub role: Option<String>,
    /// `false` deactivates: the agent's tokens are revoked and their
    /// sockets closed at once.
    #[ts(optional)]
    pub active: Option<bool>,
    /// 1 to 100: the most open conversations automatic assignment gives
    /// the agent; `null` goes back to the tenant's default.
    #[serde(default, deserialize_with = "crate::json::present")]
    #[ts(optional, type = "number | null")]
    #[schema(value_type = Option<i64>, nullable)]
    pub max_concurrent: Option<Option<i64>>,
}

#[derive(Debug, Deserialize, Validate, TS, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordRequest {
    #[validate(length(min = 1, max = 1024))]
    pub current_password: String,
    #[validate(length(min = 1, max = 1024))]
    pub new_password: String,
}

#[derive(Debug, Deserialize, Validate, TS, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateApiTokenRequest {
    #[validate(length(min = 1, max = 200))]
    pub name: String,
    /// Checked by `Scope::parse_list`.
    pub scopes: Vec<String>,
}

#[derive(Debug, Serialize, TS, ToSchema)]
pub struct ApiTokenListResponse {
    pub api_tokens: Vec<ApiToken>,
}

/// The token's secret is in `token`, this once.
#[derive(Debug, Serialize, TS, ToSchema)]
pub struct CreateApiTokenResponse {
    pub api_token: ApiToken,
    pub token: String,
}

#[derive(Debug, Deserialize, Validate, TS, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWebhookRequest {
    #[validate(length(min = 1, max = 2048))]
    pub url: String,
    /// Checked by `parse_events`.
    pub events: Vec<String>,
    #[ts(optional)]
    pub active: Option<bool>,
}

#[derive(Debug, Deserialize, Validate, TS, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateWebhookRequest {
    #[validate(length(min = 1, max = 2048))]
    #[ts(optional)]
    pub url: Option<String>,
    #[ts(optional)]
    pub events: Option<Vec<String>>,
    #[ts(optional)]
    pub active: Option<bool>,
}

#[derive(Debug, Serialize, TS, ToSchema)]
pub struct WebhookResponse {
    pub webhook: Webhook,
}

/// The signing secret (`whsec_...`) is in `secret`, this once.
#[derive(Debug, Serialize, TS, ToSchema)]
pub struct CreateWebhookResponse {
    pub webhook: Webhook,
    pub secret: String,
}

#[derive(Debug, Serialize, TS, ToSchema)]
pub struct WebhookListResponse {
    pub webhooks: Vec<Webhook>,
}

#[derive(Debug, Serialize, TS, ToSchema)]
pub struct DeliveryListResponse {
    pub deliveries: Vec<Delivery>,
}

#[derive(Debug, Serialize, TS, ToSchema)]
pub struct DeliveryResponse {
    pub delivery: Delivery,
}

#[derive(Debug, Deserialize, Default, TS, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DeliveriesQuery {
    #[ts(optional)]
    pub limit: Option<u64>,
}
