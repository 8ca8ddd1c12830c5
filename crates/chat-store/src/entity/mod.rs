//! SeaORM entities. They never leave this crate: the repositories convert
//! them to domain types.

pub mod agent;
pub mod api_token;
pub mod auth_token;
pub mod chat_session;
pub mod customer;
pub mod kb_article;
pub mod message;
pub mod tenant;
pub mod webhook_delivery;
pub mod webhook_endpoint;
