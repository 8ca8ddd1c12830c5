//! What every handler and connection shares.

use std::sync::Arc;

use chat_service::{AuthService, ChatService};

use crate::hub::HubHandle;
use crate::ws::WsLimits;

/// Everything a handler needs; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub chat: Arc<ChatService>,
    pub auth: Arc<AuthService>,
    pub hub: HubHandle,
    pub ws_limits: WsLimits,
}
