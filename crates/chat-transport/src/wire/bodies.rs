//! REST request and response bodies. Requests are strict (unknown fields
//! are refused); every response is an object with one named member, so a
//! field can be added later without breaking a client.

use serde::{Deserialize, Serialize};
use ts_rs::TS;
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use super::views::{
    Agent, ApiToken, Article, BotSetting, Delivery, Message, PublicSession, Session, Webhook,
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
}

#[derive(Debug, Deserialize, Validate, TS, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SendMessageRequest {
    /// Checked by `MessageBody::parse` after trimming; this bound only stops
    /// absurd inputs early (4,000 characters of 4 bytes each).
    #[validate(length(max = 16000))]
    pub body: String,
    #[validate(length(min = 1, max = 64))]
    #[ts(optional)]
    pub client_msg_id: Option<String>,
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
    pub session: PublicSession,
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
