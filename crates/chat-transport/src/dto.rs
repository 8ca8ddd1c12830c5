//! The wire format: request and response shapes, and their conversion from
//! domain types. Domain types derive no serde; this module is the only place
//! that decides what JSON looks like.

use chat_domain::{Agent, AgentRef, ChatSession, Message};
use chrono::SecondsFormat;
use serde::{Deserialize, Serialize};
use validator::Validate;

pub fn rfc3339(t: &chat_domain::Timestamp) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

// ----- responses -------------------------------------------------------------

#[derive(Serialize)]
pub struct MessageDto {
    pub id: String,
    pub session_id: String,
    pub seq: i64,
    pub sender_type: &'static str,
    pub sender_id: Option<String>,
    pub sender_name: String,
    pub body: String,
    pub created_at: String,
    pub client_msg_id: Option<String>,
}

impl From<&Message> for MessageDto {
    fn from(m: &Message) -> Self {
        Self {
            id: m.id.to_string(),
            session_id: m.session_id.to_string(),
            seq: m.seq,
            sender_type: m.sender_type.as_str(),
            sender_id: m.sender_id.clone(),
            sender_name: m.sender_name.clone(),
            body: m.body.clone(),
            created_at: rfc3339(&m.created_at),
            client_msg_id: m.client_msg_id.as_ref().map(|c| c.as_str().to_owned()),
        }
    }
}

#[derive(Serialize)]
pub struct AgentRefDto {
    pub id: String,
    pub name: String,
}

impl From<&AgentRef> for AgentRefDto {
    fn from(a: &AgentRef) -> Self {
        Self {
            id: a.id.to_string(),
            name: a.name.clone(),
        }
    }
}

#[derive(Serialize)]
pub struct CustomerDto {
    pub id: String,
    pub name: Option<String>,
    pub email: Option<String>,
    pub attributes: serde_json::Value,
}

#[derive(Serialize)]
pub struct ContextDto {
    pub page_url: Option<String>,
    pub referrer: Option<String>,
    pub user_agent: Option<String>,
    pub locale: Option<String>,
}

/// A session as agents see it.
#[derive(Serialize)]
pub struct SessionDto {
    pub id: String,
    pub status: &'static str,
    pub customer: CustomerDto,
    pub assigned_agent: Option<AgentRefDto>,
    pub context: ContextDto,
    pub created_at: String,
    pub last_activity_at: String,
    pub last_seq: i64,
    pub last_message_preview: Option<String>,
}

impl From<&ChatSession> for SessionDto {
    fn from(s: &ChatSession) -> Self {
        Self {
            id: s.id.to_string(),
            status: s.status.as_str(),
            customer: CustomerDto {
                id: s.customer.id.to_string(),
                name: s.customer.name.clone(),
                email: s.customer.email.as_ref().map(|e| e.as_str().to_owned()),
                attributes: s.customer.attributes.clone(),
            },
            assigned_agent: s.assigned_agent.as_ref().map(AgentRefDto::from),
            context: ContextDto {
                page_url: s.context.page_url.clone(),
                referrer: s.context.referrer.clone(),
                user_agent: s.context.user_agent.clone(),
                locale: s.context.locale.clone(),
            },
            created_at: rfc3339(&s.created_at),
            last_activity_at: rfc3339(&s.last_activity_at),
            last_seq: s.last_seq,
            last_message_preview: s.last_message_preview.clone(),
        }
    }
}

/// A session as its customer sees it: no internal ids of agents beyond the
/// display name, no other customers' data.
#[derive(Serialize)]
pub struct PublicSessionDto {
    pub id: String,
    pub status: &'static str,
    pub assigned_agent_name: Option<String>,
    pub customer: PublicCustomerDto,
    pub created_at: String,
    pub last_seq: i64,
}

#[derive(Serialize)]
pub struct PublicCustomerDto {
    pub name: Option<String>,
    pub email: Option<String>,
}

impl From<&ChatSession> for PublicSessionDto {
    fn from(s: &ChatSession) -> Self {
        Self {
            id: s.id.to_string(),
            status: s.status.as_str(),
            assigned_agent_name: s.assigned_agent.as_ref().map(|a| a.name.clone()),
            customer: PublicCustomerDto {
                name: s.customer.name.clone(),
                email: s.customer.email.as_ref().map(|e| e.as_str().to_owned()),
            },
            created_at: rfc3339(&s.created_at),
            last_seq: s.last_seq,
        }
    }
}

#[derive(Serialize)]
pub struct AgentDto {
    pub id: String,
    pub name: String,
    pub email: String,
    pub role: &'static str,
    pub created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub online: Option<bool>,
}

impl From<&Agent> for AgentDto {
    fn from(a: &Agent) -> Self {
        Self {
            id: a.id.to_string(),
            name: a.name.clone(),
            email: a.email.as_str().to_owned(),
            role: a.role.as_str(),
            created_at: rfc3339(&a.created_at),
            online: None,
        }
    }
}

// ----- requests --------------------------------------------------------------

#[derive(Deserialize, Validate, Default)]
#[serde(deny_unknown_fields)]
pub struct CustomerInput {
    #[validate(length(max = 200))]
    pub name: Option<String>,
    #[validate(length(max = 254))]
    pub email: Option<String>,
    pub attributes: Option<serde_json::Value>,
}

#[derive(Deserialize, Validate, Default)]
#[serde(deny_unknown_fields)]
pub struct ContextInput {
    #[validate(length(max = 2048))]
    pub page_url: Option<String>,
    #[validate(length(max = 2048))]
    pub referrer: Option<String>,
    #[validate(length(max = 35))]
    pub locale: Option<String>,
}

#[derive(Deserialize, Validate)]
#[serde(deny_unknown_fields)]
pub struct StartSessionRequest {
    #[validate(length(min = 1, max = 64))]
    pub tenant_id: String,
    #[validate(nested)]
    pub customer: Option<CustomerInput>,
    #[validate(nested)]
    pub context: Option<ContextInput>,
}

#[derive(Deserialize, Validate)]
#[serde(deny_unknown_fields)]
pub struct SendMessageRequest {
    /// Checked by `MessageBody::parse` after trimming; this bound only stops
    /// absurd inputs early (4,000 characters of 4 bytes each).
    #[validate(length(max = 16000))]
    pub body: String,
    #[validate(length(min = 1, max = 64))]
    pub client_msg_id: Option<String>,
}

#[derive(Deserialize, Validate)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    #[validate(length(min = 1, max = 254))]
    pub email: String,
    #[validate(length(min = 1, max = 1024))]
    pub password: String,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct AssignRequest {
    pub agent_id: Option<String>,
}

#[derive(Deserialize, Validate)]
#[serde(deny_unknown_fields)]
pub struct CreateAgentRequest {
    #[validate(length(min = 1, max = 100))]
    pub name: String,
    #[validate(length(min = 3, max = 254))]
    pub email: String,
    #[validate(length(min = 8, max = 256))]
    pub password: String,
    pub role: Option<String>,
}

#[derive(Deserialize)]
pub struct MessagesQuery {
    pub after_seq: Option<i64>,
    pub before_seq: Option<i64>,
    pub limit: Option<u64>,
}

#[derive(Deserialize)]
pub struct SessionsQuery {
    pub status: Option<String>,
    pub assigned: Option<String>,
    pub q: Option<String>,
}
