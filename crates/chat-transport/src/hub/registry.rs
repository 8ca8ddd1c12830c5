//! The hub task and the registry it alone owns.

use std::collections::{HashMap, HashSet};

use chat_domain::{AgentId, AgentStatus, ChatEvent, SessionId, TenantId};
use tokio::sync::{mpsc, oneshot};

use super::local::{Batch, WorkerId};
use super::{
    Command, ConnId, HubLimits, HubStats, KeyHash, Kick, Outbound, Peer, PresenceChange,
    RegisterError, Registered, Registration,
};
use crate::wire::{Audience, encode};

struct Conn {
    peer: Peer,
    worker: WorkerId,
    kick: Option<oneshot::Sender<Kick>>,
}

/// A set of connections.
type Ids = HashSet<ConnId, KeyHash>;

/// Recipients grouped by the worker thread they live on.
type ByWorker = HashMap<WorkerId, Vec<ConnId>, KeyHash>;

/// Groups `ids` by worker (ids no longer registered are left out). A set
/// that is not there (no such tenant, agent or session) is no one.
fn by_worker<'a>(
    conns: &HashMap<ConnId, Conn, KeyHash>,
    ids: impl IntoIterator<Item = &'a ConnId>,
) -> ByWorker {
    let mut per_worker = ByWorker::default();
    for id in ids {
        if let Some(conn) = conns.get(id) {
            per_worker.entry(conn.worker).or_default().push(*id);
        }
    }
    per_worker
}

pub(crate) struct Registry {
    limits: HubLimits,
    /// Handed to workers with each batch, for their slow-consumer reports.
    commands: mpsc::WeakSender<Command>,
    workers: HashMap<WorkerId, mpsc::UnboundedSender<Batch>, KeyHash>,
    conns: HashMap<ConnId, Conn, KeyHash>,
    tenant_agents: HashMap<TenantId, Ids>,
    agents: HashMap<(TenantId, AgentId), Ids>,
    sessions: HashMap<(TenantId, SessionId), Ids>,
    /// Set by `Shutdown`: from then on every registration is refused.
    shutting_down: bool,
    /// The cluster's, when there is one: it announces presence instead.
    presence_observer: Option<mpsc::UnboundedSender<PresenceChange>>,
    /// Names and availability of the agents online here, for presence
    /// announcements and the cluster's re-registration.
    names: HashMap<(TenantId, AgentId), (String, AgentStatus)>,
}

impl Registry {
    pub(crate) fn new(limits: HubLimits, commands: mpsc::WeakSender<Command>) -> Self {
        Self {
            limits,
            commands,
            workers: HashMap::default(),
            conns: HashMap::default(),
            tenant_agents: HashMap::new(),
            agents: HashMap::new(),
            sessions: HashMap::new(),
            shutting_down: false,
            presence_observer: None,
            names: HashMap::new(),
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
            Command::SlowConsumer { id } => {
                metrics::counter!("chat_slow_consumer_disconnects_total").increment(1);
                self.kick(id, Kick::SlowConsumer);
            }
            Command::ToTenantAgents { tenant, frame } => {
                let to = by_worker(
                    &self.conns,
                    self.tenant_agents.get(&tenant).into_iter().flatten(),
                );
                self.deliver(to, &frame);
            }
            Command::ToAgent {
                tenant,
                agent,
                frame,
            } => {
                let to = by_worker(
                    &self.conns,
                    self.agents.get(&(tenant, agent)).into_iter().flatten(),
                );
                self.deliver(to, &frame);
            }
            Command::ToSession {
                tenant,
                session,
                frame,
            } => {
                let to = by_worker(
                    &self.conns,
                    self.sessions.get(&(tenant, session)).into_iter().flatten(),
                );
                self.deliver(to, &frame);
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
            Command::KickAgent {
                tenant,
                agent,
                keep,
            } => {
                let ids: Vec<ConnId> = self
                    .conns
                    .iter()
                    .filter(|(_, c)| {
                        matches!(&c.peer, Peer::Agent { tenant: t, agent: a, credential, .. }
                            if *t == tenant && *a == agent && keep.as_ref() != Some(credential))
                    })
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
            Command::ToAll { frame } => {
                let to = by_worker(&self.conns, self.conns.keys());
                self.deliver(to, &frame);
            }
            Command::KickAll { why } => {
                let ids: Vec<ConnId> = self.conns.keys().copied().collect();
                for id in ids {
                    self.kick(id, why);
                }
            }
            Command::SetStatus {
                tenant,
                agent,
                status,
            } => {
                if let Some((_, s)) = self.names.get_mut(&(tenant, agent)) {
                    *s = status;
                }
            }
            Command::ObservePresence { to } => self.presence_observer = Some(to),
            Command::LocalPresence { reply } => {
                let online = self
                    .names
                    .iter()
                    .map(|((tenant, agent), (name, status))| PresenceChange {
                        tenant: tenant.clone(),
                        agent: agent.clone(),
                        name: name.clone(),
                        online: true,
                        status: *status,
                    })
                    .collect();
                let _ = reply.send(online);
            }
            Command::Shutdown => {
                self.shutting_down = true;
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

    fn register(&mut self, reg: Registration) -> Result<Registered, RegisterError> {
        if self.shutting_down {
            return Err(RegisterError::ShuttingDown);
        }
        let id = reg.id;
        self.workers.insert(reg.worker, reg.batches);
        let mut came_online = None;
        match &reg.peer {
            Peer::Agent {
                tenant,
                agent,
                name,
                status,
                ..
            } => {
                let key = (tenant.clone(), agent.clone());
                let count = self.agents.get(&key).map_or(0, Ids::len);
                if count >= self.limits.max_sockets_per_agent {
                    return Err(RegisterError::TooManyConnections);
                }
                if count == 0 {
                    came_online = Some((tenant.clone(), agent.clone(), name.clone(), *status));
                }
                self.agents.entry(key).or_default().insert(id);
                self.tenant_agents
                    .entry(tenant.clone())
                    .or_default()
                    .insert(id);
            }
            Peer::Customer { tenant, session } => {
                let key = (tenant.clone(), session.clone());
                if self.sessions.get(&key).map_or(0, Ids::len)
                    >= self.limits.max_sockets_per_session
                {
                    return Err(RegisterError::TooManyConnections);
                }
                self.sessions.entry(key).or_default().insert(id);
            }
        }
        self.conns.insert(
            id,
            Conn {
                peer: reg.peer,
                worker: reg.worker,
                kick: Some(reg.kick),
            },
        );
        let registered = Registered {
            came_online: came_online.is_some(),
        };
        if let Some((tenant, agent, name, status)) = came_online {
            self.presence(tenant, agent, name, true, status);
        }
        Ok(registered)
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
                status,
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
                    let status = self.names.get(&key).map_or(status, |(_, s)| *s);
                    let (tenant, agent) = key;
                    self.presence(tenant, agent, name, false, status);
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

    fn presence(
        &mut self,
        tenant: TenantId,
        agent_id: AgentId,
        name: String,
        online: bool,
        status: AgentStatus,
    ) {
        let key = (tenant.clone(), agent_id.clone());
        if online {
            self.names.insert(key, (name.clone(), status));
        } else {
            self.names.remove(&key);
        }
        if let Some(to) = &self.presence_observer {
            let _ = to.send(PresenceChange {
                tenant,
                agent: agent_id,
                name,
                online,
                status,
            });
            return;
        }
        let event = ChatEvent::AgentPresence {
            agent_id,
            name,
            online,
            status,
        };
        let frame = Outbound::new(
            encode(&event, Audience::Agent).into(),
            None,
            event.event_type(),
        );
        let to = by_worker(
            &self.conns,
            self.tenant_agents.get(&tenant).into_iter().flatten(),
        );
        self.deliver(to, &frame);
    }

    /// One batch per worker thread with recipients; the worker's own task
    /// fills the queues (`local.rs`).
    fn deliver(&mut self, to: ByWorker, frame: &Outbound) {
        for (worker, ids) in to {
            let Some(batches) = self.workers.get(&worker) else {
                continue;
            };
            let batch = Batch {
                frame: frame.clone(),
                ids,
                hub: self.commands.clone(),
            };
            if batches.send(batch).is_err() {
                // The worker's runtime is gone, and its connections with it.
                self.workers.remove(&worker);
            }
        }
    }

    fn kick(&mut self, id: ConnId, why: Kick) {
        if let Some(kick) = self.conns.get_mut(&id).and_then(|c| c.kick.take()) {
            let _ = kick.send(why);
        }
        self.unregister(id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agent(registry: &mut Registry, id: ConnId, who: &str) -> Result<Registered, RegisterError> {
        let (batches, _) = mpsc::unbounded_channel();
        let (kick, _) = oneshot::channel();
        registry.register(Registration {
            id,
            worker: 0,
            batches,
            peer: Peer::Agent {
                tenant: TenantId::new("t".to_owned()),
                agent: AgentId::new(who.to_owned()),
                name: who.to_owned(),
                credential: format!("token of {who}"),
                status: AgentStatus::Online,
            },
            kick,
        })
    }

    #[test]
    fn only_an_agents_first_socket_here_brings_them_online() {
        let (tx, _rx) = mpsc::channel(8);
        let mut registry = Registry::new(
            HubLimits {
                max_sockets_per_session: 5,
                max_sockets_per_agent: 5,
            },
            tx.downgrade(),
        );
        let online = |r: Result<Registered, RegisterError>| r.map(|r| r.came_online);
        assert_eq!(online(agent(&mut registry, 1, "alex")), Ok(true));
        assert_eq!(
            online(agent(&mut registry, 2, "alex")),
            Ok(false),
            "a second tab"
        );
        assert_eq!(online(agent(&mut registry, 3, "bea")), Ok(true));
        registry.unregister(1);
        assert_eq!(online(agent(&mut registry, 4, "alex")), Ok(false));
        registry.unregister(2);
        registry.unregister(4);
        assert_eq!(
            online(agent(&mut registry, 5, "alex")),
            Ok(true),
            "after the last socket closed, the next one brings them back"
        );
    }
}
