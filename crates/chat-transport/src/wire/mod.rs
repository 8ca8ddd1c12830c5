//! The wire format, all of it: every REST request and response body
//! ([`bodies`]), every view of a domain object ([`views`]), and every
//! WebSocket frame and event payload with the event names ([`frames`]).
//!
//! Domain types derive no serde; this module is the only place that decides
//! what JSON looks like. The dashboard's and the widget's TypeScript types
//! are generated from these types with ts-rs (see `typescript.rs`); a test
//! fails when the committed TypeScript differs from what they generate.
//! Handlers build no JSON of their own.

pub mod bodies;
pub mod cluster;
pub mod email;
pub mod frames;
pub mod reports;
pub mod transcript;
#[cfg(test)]
mod typescript;
pub mod views;

pub use bodies::*;
pub use email::*;
pub use frames::{Audience, ClientFrame, decode, encode};
pub use reports::*;
pub use views::*;

use chrono::SecondsFormat;

/// Every time on the wire: RFC 3339 in UTC with milliseconds.
pub fn rfc3339(t: &chat_domain::Timestamp) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

#[cfg(test)]
pub(crate) mod tests {
    use chat_domain::{
        ChatSession, Customer, CustomerId, MessageId, PageContext, SenderType, SessionId,
        SessionStatus, TenantId,
    };

    pub fn sample_session() -> ChatSession {
        let now = chrono::Utc::now();
        ChatSession {
            id: SessionId::new("s1"),
            tenant_id: TenantId::new("t1"),
            customer: Customer {
                id: CustomerId::new("c1"),
                name: Some("Ada".into()),
                email: None,
                attributes: serde_json::json!({}),
            },
            status: SessionStatus::Pending,
            assigned_agent: None,
            context: PageContext::default(),
            created_at: now,
            last_activity_at: now,
            last_seq: 0,
            last_message_preview: None,
            bot_handed_off: false,
            receipts: Default::default(),
            unread_count: 0,
            labels: Vec::new(),
            queued_at: None,
            rating: None,
            offline: false,
        }
    }

    pub fn sample_message() -> chat_domain::Message {
        chat_domain::Message {
            id: MessageId::new("m1"),
            tenant_id: TenantId::new("t1"),
            session_id: SessionId::new("s1"),
            seq: 1,
            sender_type: SenderType::Customer,
            sender_id: None,
            sender_name: "Ada".into(),
            body: "hi".into(),
            client_msg_id: None,
            created_at: chrono::Utc::now(),
            attachments: Vec::new(),
        }
    }
}
