//! REST handlers, one module per resource; their twin for WebSocket frames
//! is `ws::frames`.

pub mod agents;
pub mod api_tokens;
pub mod auth;
pub mod health;
pub mod kb;
pub mod public;
pub mod sessions;
pub mod webhooks;

use actix_web::HttpResponse;
use chat_domain::Message;

use crate::wire::MessageResponse;

/// 201 with the new message, or 200 with the one already stored under the
/// same `client_msg_id` (a retry).
pub fn sent(message: &Message, created: bool) -> HttpResponse {
    let mut res = if created {
        HttpResponse::Created()
    } else {
        HttpResponse::Ok()
    };
    res.json(MessageResponse {
        message: message.into(),
    })
}
