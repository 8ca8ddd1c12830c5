//! What every handler and connection shares.

use std::net::IpAddr;
use std::sync::Arc;

use chat_service::{AuthService, ChatService};

use crate::hub::HubHandle;
use crate::limits::RateLimits;
use crate::ws::WsLimits;

/// Everything a handler needs; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub chat: Arc<ChatService>,
    pub auth: Arc<AuthService>,
    pub hub: HubHandle,
    pub ws_limits: WsLimits,
    pub limits: Arc<RateLimits>,
    /// Peers whose `X-Forwarded-For` is believed (the operator's proxies).
    pub trusted_proxies: Arc<[IpAddr]>,
    /// Wakes the webhook sender (after a redelivery is asked for).
    pub webhooks: crate::webhooks::Wake,
}

impl AppState {
    /// The client's address as the limits see it.
    pub fn client_address(&self, req: &actix_web::HttpRequest) -> IpAddr {
        crate::limits::client_address(req, &self.trusted_proxies)
    }

    pub fn webhooks_wake(&self) {
        self.webhooks.wake();
    }
}
