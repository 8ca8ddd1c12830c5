//! The hub task and the registry it alone owns.

use std::collections::{HashMap, HashSet};

use chat_domain::{AgentId, ChatEvent, SessionId, TenantId};
use tokio::sync::{mpsc, oneshot};

use super::{
    Command, ConnId, HubLimits, HubStats, Kick, Outbound, Peer, RegisterError, Registration,
};
use crate::ws::protocol::{Audience, encode};

struct Conn {
    peer: Peer,
    outbound: mpsc::Sender<Outbound>,
    kick: Option<oneshot::Sender<Kick>>,
}

/// The recipients as they are now. Delivery may kick (and so unregister)
/// some of them, which must not happen while the set is borrowed.
fn snapshot(set: Option<&HashSet<ConnId>>) -> Vec<ConnId> {
    set.map(|s| s.iter().copied().collect()).unwrap_or_default()
}

pub(crate) struct Registry {
    limits: HubLimits,
    next_id: ConnId,
    conns: HashMap<ConnId, Conn>,
    tenant_agents: HashMap<TenantId, HashSet<ConnId>>,
    agents: HashMap<(TenantId, AgentId), HashSet<ConnId>>,
    sessions: HashMap<(TenantId, SessionId), HashSet<ConnId>>,
}

impl Registry {
    pub(crate) fn new(limits: HubLimits) -> Self {
        Self {
            limits,
            next_id: 1,
            conns: HashMap::new(),
            tenant_agents: HashMap::new(),
            agents: HashMap::new(),
            sessions: HashMap::new(),
        }
    }

    /// Runs until every handle is dropped.
    pub(crate) async fn run(mut self, mut rx: mpsc::Receiver<Command>) {
        while let Some(cmd) = rx.recv().await {
            self.handle(cmd);
        }
        tracing::debug!("hub stopped");
    }

    fn handle(&mut self, cmd: Command) {
        match cmd {
            Command::Register { reg, reply } => {
                let _ = reply.send(self.register(reg));
            }
            Command::Unregister { id } => self.unregister(id),
            Command::ToTenantAgents { tenant, frame } => {
                let ids = snapshot(self.tenant_agents.get(&tenant));
                self.deliver(&ids, &frame);
            }
            Command::ToAgent {
                tenant,
                agent,
                frame,
            } => {
                let ids = snapshot(self.agents.get(&(tenant, agent)));
                self.deliver(&ids, &frame);
            }
            Command::ToSession {
                tenant,
                session,
                frame,
            } => {
                let ids = snapshot(self.sessions.get(&(tenant, session)));
                self.deliver(&ids, &frame);
            }
            Command::KickCredential { credential } => {
                let ids: Vec<ConnId> = self
                    .conns
                    .iter()
                    .filter(|(_, c)| matches!(&c.peer, Peer::Agent { credential: cr, .. } if *cr == credential))
                    .map(|(id, _)| *id)
                    .collect();
                for id in ids {
                    self.kick(id, Kick::LoggedOut);
                }
            }
            Command::OnlineAgents { tenant, reply } => {
                let online = self
                    .agents
                    .keys()
                    .filter(|(t, _)| *t == tenant)
                    .map(|(_, a)| a.clone())
                    .collect();
                let _ = reply.send(online);
            }
            Command::Shutdown => {
                let ids: Vec<ConnId> = self.conns.keys().copied().collect();
                for id in ids {
                    self.kick(id, Kick::Shutdown);
                }
            }
            Command::Stats { reply } => {
                let _ = reply.send(HubStats {
                    connections: self.conns.len(),
                    agents_online: self.agents.len(),
                    sessions_watched: self.sessions.len(),
                });
            }
        }
    }

    fn register(&mut self, reg: Registration) -> Result<ConnId, RegisterError> {
        let id = self.next_id;
        let mut came_online = None;
        match &reg.peer {
            Peer::Agent {
                tenant,
                agent,
                name,
                ..
            } => {
                let key = (tenant.clone(), agent.clone());
                let count = self.agents.get(&key).map_or(0, HashSet::len);
                if count >= self.limits.max_sockets_per_agent {
                    return Err(RegisterError::TooManyConnections);
                }
                if count == 0 {
                    came_online = Some((tenant.clone(), agent.clone(), name.clone()));
                }
                self.agents.entry(key).or_default().insert(id);
                self.tenant_agents
                    .entry(tenant.clone())
                    .or_default()
                    .insert(id);
            }
            Peer::Customer { tenant, session } => {
                let key = (tenant.clone(), session.clone());
                if self.sessions.get(&key).map_or(0, HashSet::len)
                    >= self.limits.max_sockets_per_session
                {
                    return Err(RegisterError::TooManyConnections);
                }
                self.sessions.entry(key).or_default().insert(id);
            }
        }
        self.next_id += 1;
        self.conns.insert(
            id,
            Conn {
                peer: reg.peer,
                outbound: reg.outbound,
                kick: Some(reg.kick),
            },
        );
        if let Some((tenant, agent, name)) = came_online {
            self.presence(tenant, agent, name, true);
        }
        Ok(id)
    }

    fn unregister(&mut self, id: ConnId) {
        let Some(conn) = self.conns.remove(&id) else {
            return;
        };
        match conn.peer {
            Peer::Agent {
                tenant,
                agent,
                name,
                ..
            } => {
                if let Some(set) = self.tenant_agents.get_mut(&tenant) {
                    set.remove(&id);
                    if set.is_empty() {
                        self.tenant_agents.remove(&tenant);
                    }
                }
                let key = (tenant, agent);
                let now_offline = match self.agents.get_mut(&key) {
                    Some(set) => {
                        set.remove(&id);
                        set.is_empty()
                    }
                    None => false,
                };
                if now_offline {
                    self.agents.remove(&key);
                    let (tenant, agent) = key;
                    self.presence(tenant, agent, name, false);
                }
            }
            Peer::Customer { tenant, session } => {
                let key = (tenant, session);
                if let Some(set) = self.sessions.get_mut(&key) {
                    set.remove(&id);
                    if set.is_empty() {
                        self.sessions.remove(&key);
                    }
                }
            }
        }
    }

    fn presence(&mut self, tenant: TenantId, agent_id: AgentId, name: String, online: bool) {
        let event = ChatEvent::AgentPresence {
            agent_id,
            name,
            online,
        };
        let frame = Outbound::new(encode(&event, Audience::Agent).into(), None);
        let ids = snapshot(self.tenant_agents.get(&tenant));
        self.deliver(&ids, &frame);
    }

    fn deliver(&mut self, ids: &[ConnId], frame: &Outbound) {
        let mut slow = Vec::new();
        for id in ids {
            if let Some(conn) = self.conns.get(id) {
                match conn.outbound.try_send(frame.clone()) {
                    Ok(()) => {}
                    Err(mpsc::error::TrySendError::Full(_)) => slow.push(*id),
                    // The connection task is gone; its Unregister is on the way.
                    Err(mpsc::error::TrySendError::Closed(_)) => {}
                }
            }
        }
        for id in slow {
            tracing::warn!(
                conn = id,
                "outbound queue full; disconnecting slow consumer"
            );
            self.kick(id, Kick::SlowConsumer);
        }
    }

    fn kick(&mut self, id: ConnId, why: Kick) {
        if let Some(kick) = self.conns.get_mut(&id).and_then(|c| c.kick.take()) {
            let _ = kick.send(why);
        }
        self.unregister(id);
    }
}
