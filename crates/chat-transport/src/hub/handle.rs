//! The cloneable handle that hides the hub's channel and implements the
//! domain's [`WebSocketHub`] port.

use async_trait::async_trait;
use chat_domain::{AgentId, ChatEvent, SessionId, TenantId, WebSocketHub};
use tokio::sync::{mpsc, oneshot};

use super::registry::Registry;
use super::{
    COMMAND_QUEUE, Command, ConnId, HubLimits, HubStats, Kick, Outbound, PresenceChange,
    RegisterError, Registered, Registration,
};

/// Whose sockets a frame is for.
#[derive(Debug, Clone)]
pub enum Target {
    Tenant(TenantId),
    Agent(TenantId, AgentId),
    Session(TenantId, SessionId),
}
use crate::wire::{Audience, encode};

#[derive(Clone)]
pub struct HubHandle {
    tx: mpsc::Sender<Command>,
}

impl HubHandle {
    /// Starts the hub on a thread of its own, so that it runs the same
    /// whichever runtime (server workers, tests) its handles are used from.
    /// It stops when the last handle is dropped.
    pub fn start(limits: HubLimits) -> std::io::Result<Self> {
        let (tx, rx) = mpsc::channel(COMMAND_QUEUE);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        std::thread::Builder::new().name("chat-hub".into()).spawn({
            let weak = tx.downgrade();
            move || runtime.block_on(Registry::new(limits, weak).run(rx))
        })?;
        Ok(Self { tx })
    }

    async fn send(&self, cmd: Command) {
        // Only fails once the hub has stopped, when nobody is listening.
        let _ = self.tx.send(cmd).await;
    }

    pub async fn register(&self, reg: Registration) -> Result<Registered, RegisterError> {
        let (reply, rx) = oneshot::channel();
        self.send(Command::Register { reg, reply }).await;
        rx.await.unwrap_or(Err(RegisterError::ShuttingDown))
    }

    /// Best effort and never blocking, so that it can run from a `Drop`.
    /// On the connection's own thread (it also detaches its queue there).
    pub fn unregister(&self, id: ConnId) {
        super::local::detach(id);
        let tx = self.tx.clone();
        if let Err(mpsc::error::TrySendError::Full(cmd)) = tx.try_send(Command::Unregister { id }) {
            tokio::spawn(async move {
                let _ = tx.send(cmd).await;
            });
        }
    }

    /// Closes every connection opened with this credential (on logout).
    pub async fn kick_credential(&self, credential: &str) {
        self.send(Command::KickCredential {
            credential: credential.to_owned(),
        })
        .await;
    }

    /// Closes every connection of an agent (deactivated), or every one but
    /// those opened with `keep` (a password change signs out the others).
    pub async fn kick_agent(&self, tenant: &TenantId, agent: &AgentId, keep: Option<&str>) {
        self.send(Command::KickAgent {
            tenant: tenant.clone(),
            agent: agent.clone(),
            keep: keep.map(str::to_owned),
        })
        .await;
    }

    /// A frame another node published, to this node's sockets of `target`.
    pub async fn deliver(&self, target: Target, frame: Outbound) {
        let cmd = match target {
            Target::Tenant(tenant) => Command::ToTenantAgents { tenant, frame },
            Target::Agent(tenant, agent) => Command::ToAgent {
                tenant,
                agent,
                frame,
            },
            Target::Session(tenant, session) => Command::ToSession {
                tenant,
                session,
                frame,
            },
        };
        self.send(cmd).await;
    }

    /// A frame to every socket on this node.
    pub async fn to_all(&self, frame: Outbound) {
        self.send(Command::ToAll { frame }).await;
    }

    /// Closes every socket on this node.
    pub async fn kick_all(&self, why: Kick) {
        self.send(Command::KickAll { why }).await;
    }

    /// Hands presence changes to `to` instead of announcing them here.
    pub async fn observe_presence(&self, to: mpsc::UnboundedSender<PresenceChange>) {
        self.send(Command::ObservePresence { to }).await;
    }

    /// Remembers an agent's new availability for this node's later
    /// presence announcements.
    pub async fn set_status(
        &self,
        tenant: &TenantId,
        agent: &AgentId,
        status: chat_domain::AgentStatus,
    ) {
        self.send(Command::SetStatus {
            tenant: tenant.clone(),
            agent: agent.clone(),
            status,
        })
        .await;
    }

    /// The agents with a socket on this node.
    pub async fn local_presence(&self) -> Vec<PresenceChange> {
        let (reply, rx) = oneshot::channel();
        self.send(Command::LocalPresence { reply }).await;
        rx.await.unwrap_or_default()
    }

    pub async fn online_agents(&self, tenant: &TenantId) -> Vec<AgentId> {
        let (reply, rx) = oneshot::channel();
        self.send(Command::OnlineAgents {
            tenant: tenant.clone(),
            reply,
        })
        .await;
        rx.await.unwrap_or_default()
    }

    /// Closes every connection with "going away" (on server shutdown).
    pub async fn shutdown(&self) {
        self.send(Command::Shutdown).await;
    }

    pub async fn stats(&self) -> HubStats {
        let (reply, rx) = oneshot::channel();
        self.send(Command::Stats { reply }).await;
        rx.await.unwrap_or_default()
    }
}

pub(crate) fn frame(event: &ChatEvent, audience: Audience) -> Outbound {
    let message = match event {
        ChatEvent::MessageNew(m) => Some((super::session_key(&m.session_id), m.seq)),
        _ => None,
    };
    Outbound::new(encode(event, audience).into(), message, event.event_type())
}

#[async_trait]
impl WebSocketHub for HubHandle {
    async fn broadcast_to_tenant(&self, tenant: &TenantId, event: ChatEvent) {
        self.send(Command::ToTenantAgents {
            tenant: tenant.clone(),
            frame: frame(&event, Audience::Agent),
        })
        .await;
    }

    async fn broadcast_to_user(&self, tenant: &TenantId, agent: &AgentId, event: ChatEvent) {
        self.send(Command::ToAgent {
            tenant: tenant.clone(),
            agent: agent.clone(),
            frame: frame(&event, Audience::Agent),
        })
        .await;
    }

    async fn send_to_session(&self, tenant: &TenantId, session: &SessionId, event: ChatEvent) {
        self.send(Command::ToSession {
            tenant: tenant.clone(),
            session: session.clone(),
            frame: frame(&event, Audience::Customer),
        })
        .await;
    }

    async fn online_agents(&self, tenant: &TenantId) -> Vec<AgentId> {
        HubHandle::online_agents(self, tenant).await
    }
}
