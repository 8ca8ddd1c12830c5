//! The chat platform's transport: actix-web REST handlers, the two
//! WebSocket endpoints, and the hub that fans events out to connections.
//!
//! It maps HTTP and WebSocket frames to `chat-service` calls and service
//! errors to HTTP statuses, and owns the wire format (`wire`). It holds no
//! chat rules and names no database.
//!
//! Layers inside: `wire` at the bottom (JSON shapes only); `hub` and `ws`
//! both build on it and `ws` registers with `hub`; `routes` (REST, one
//! module per resource) and `ws::frames` (one function per client frame)
//! are the twins that call the services.

pub mod cluster;
pub mod error;
mod extract;
pub mod hub;
mod json;
pub mod limits;
pub mod openapi;
pub mod request_id;
mod routes;
pub mod socket;
mod state;
pub mod webhooks;
pub mod wire;
pub mod ws;

use actix_web::web;

pub use hub::{HubHandle, HubLimits};
pub use json::json_errors;
pub use limits::{RateLimitSettings, RateLimits};
pub use state::AppState;
pub use ws::WsLimits;

/// The largest request body accepted.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Registers every route and the extractor configuration.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.app_data(json::json_config())
        .app_data(json::query_config())
        .app_data(web::PayloadConfig::new(MAX_BODY_BYTES))
        // The sockets first: the router tries every pattern registered
        // before a path's own on each request, the dynamic ones by regular
        // expression, and a node with thousands of sockets to (re)open
        // matches `/ws` more often than anything else. Nothing else lives
        // under `/ws`.
        .configure(ws::configure)
        .configure(routes::health::configure)
        .configure(routes::public::configure)
        .configure(routes::auth::configure)
        .configure(routes::agents::configure)
        .configure(routes::sessions::configure)
        .configure(routes::search::configure)
        .configure(routes::reports::configure)
        .configure(routes::email::configure)
        .configure(routes::desk::configure)
        .configure(routes::attachments::configure)
        .configure(routes::widget::configure)
        .configure(routes::kb::configure)
        .configure(routes::api_tokens::configure)
        .configure(routes::webhooks::configure)
        .configure(openapi::configure);
}
