//! SeaORM entities. They never leave this crate: the repositories convert
//! them to domain types.

pub mod agent;
pub mod api_token;
pub mod attachment;
pub mod auth_token;
pub mod canned_reply;
pub mod chat_session;
pub mod customer;
pub mod email_outbox;
pub mod kb_article;
pub mod label;
pub mod message;
pub mod note;
pub mod server_secret;
pub mod session_label;
pub mod tenant;
pub mod webhook_delivery;
pub mod webhook_endpoint;
