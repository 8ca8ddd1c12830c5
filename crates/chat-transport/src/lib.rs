//! The chat platform's transport: actix-web REST handlers, the two
//! WebSocket endpoints, and the hub that fans events out to connections.
//!
//! It maps HTTP and WebSocket frames to `chat-service` calls and service
//! errors to HTTP statuses, and owns the wire format (`dto`, `ws::protocol`).
//! It holds no chat rules and names no database.

pub mod dto;
pub mod error;
mod extract;
pub mod hub;
mod json;
mod routes;
pub mod ws;

use std::sync::Arc;

use actix_web::web;
use chat_service::{AuthService, ChatService};

pub use hub::{HubHandle, HubLimits};
pub use json::json_errors;
pub use ws::WsLimits;

/// Everything a handler needs; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub chat: Arc<ChatService>,
    pub auth: Arc<AuthService>,
    pub hub: HubHandle,
    pub ws_limits: WsLimits,
}

/// The largest request body accepted.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Registers every route and the extractor configuration.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.app_data(json::json_config())
        .app_data(json::query_config())
        .app_data(web::PayloadConfig::new(MAX_BODY_BYTES))
        .configure(routes::health::configure)
        .configure(routes::public::configure)
        .configure(routes::auth::configure)
        .configure(routes::agents::configure)
        .configure(routes::sessions::configure)
        .configure(routes::kb::configure)
        .configure(ws::configure);
}
