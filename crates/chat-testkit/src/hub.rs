//! A hub that records what it was asked to deliver.

use std::sync::Mutex;

use async_trait::async_trait;
use chat_domain::{AgentId, ChatEvent, SessionId, TenantId, WebSocketHub};

/// Where a recorded event was sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Tenant(TenantId),
    Agent(TenantId, AgentId),
    Session(TenantId, SessionId),
}

/// A hub that records what it was asked to deliver.
#[derive(Default)]
pub struct RecordingHub {
    sent: Mutex<Vec<(Target, ChatEvent)>>,
    published: tokio::sync::Notify,
    online: Mutex<Vec<(TenantId, AgentId)>>,
}

impl RecordingHub {
    pub fn new() -> Self {
        Self::default()
    }

    /// `(target, event type)` pairs in the order they were published.
    pub fn sent(&self) -> Vec<(Target, &'static str)> {
        self.sent
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .map(|(t, e)| (t.clone(), e.event_type()))
            .collect()
    }

    pub fn events(&self) -> Vec<(Target, ChatEvent)> {
        self.sent.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Makes an agent reachable (as if a socket of theirs were open).
    pub fn connect(&self, tenant: &TenantId, agent: &AgentId) {
        self.online
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((tenant.clone(), agent.clone()));
    }

    pub fn clear(&self) {
        self.sent.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }

    fn push(&self, target: Target, event: ChatEvent) {
        self.sent
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((target, event));
        self.published.notify_waiters();
    }

    /// Waits (up to ten seconds) until a recorded event satisfies `pred`,
    /// for work the service does off the request path.
    pub async fn wait_for(
        &self,
        pred: impl Fn(&Target, &ChatEvent) -> bool,
    ) -> Option<(Target, ChatEvent)> {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let notified = self.published.notified();
            if let Some(hit) = self.events().into_iter().find(|(t, e)| pred(t, e)) {
                return Some(hit);
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return None;
            }
        }
    }
}

#[async_trait]
impl WebSocketHub for RecordingHub {
    async fn broadcast_to_tenant(&self, tenant: &TenantId, event: ChatEvent) {
        self.push(Target::Tenant(tenant.clone()), event);
    }
    async fn broadcast_to_user(&self, tenant: &TenantId, agent: &AgentId, event: ChatEvent) {
        self.push(Target::Agent(tenant.clone(), agent.clone()), event);
    }
    async fn send_to_session(&self, tenant: &TenantId, session: &SessionId, event: ChatEvent) {
        self.push(Target::Session(tenant.clone(), session.clone()), event);
    }
    async fn online_agents(&self, tenant: &TenantId) -> Vec<AgentId> {
        self.online
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .filter(|(t, _)| t == tenant)
            .map(|(_, a)| a.clone())
            .collect()
    }
}
