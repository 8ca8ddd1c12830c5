//! Availability, capacity and automatic assignment.
//!
//! In a tenant set to `auto`, a conversation that needs a person waits in
//! the queue (pending sessions by `queued_at`) and is given to the best
//! candidate of [`chat_domain::assignment::candidates`]. The choice is a
//! snapshot; the repository's [`try_assign`] is what makes it stick, once,
//! under the agent's cap, whichever node tries. The queue is drained on
//! every event that can free or add capacity or add work: a conversation
//! arriving, handed off, reopened, closed or transferred; an agent coming
//! online (socket or status) or getting a higher cap; the mode turned on.
//!
//! [`try_assign`]: chat_domain::repo::AssignmentRepository::try_assign

use std::collections::{HashMap, HashSet};

use chat_domain::agent::parse_max_concurrent;
use chat_domain::assignment::candidates;
use chat_domain::{
    Agent, AgentId, AgentStatus, AssignAttempt, AssignmentMode, AssignmentSettings, ChatSession,
    Scope, TenantId,
};
use tracing::instrument;

use super::ChatService;
use crate::{AgentCtx, Result};

/// The most conversations one drain assigns before it yields (it runs
/// again at the next trigger).
const MAX_PER_DRAIN: usize = 500;

/// The most waiting conversations the queue view shows.
pub const MAX_QUEUE_VIEW: u64 = 200;

/// One node's drains, one per tenant at a time: a trigger during a drain
/// makes it run once more instead of starting a second one.
#[derive(Default)]
pub(crate) struct Drains(std::sync::Mutex<HashMap<TenantId, bool>>);

impl Drains {
    /// `true` if the caller should run the drain; otherwise the running
    /// one is told to go round again.
    fn start(&self, tenant: &TenantId) -> bool {
        let mut running = self.0.lock().unwrap_or_else(|p| p.into_inner());
        match running.get_mut(tenant) {
            Some(again) => {
                *again = true;
                false
            }
            None => {
                running.insert(tenant.clone(), false);
                true
            }
        }
    }

    /// `true` if a trigger came meanwhile and the drain must run again.
    fn finish(&self, tenant: &TenantId) -> bool {
        let mut running = self.0.lock().unwrap_or_else(|p| p.into_inner());
        match running.get_mut(tenant) {
            Some(again) if *again => {
                *again = false;
                true
            }
            _ => {
                running.remove(tenant);
                false
            }
        }
    }
}

/// An agent as the team sees them: availability, cap and load.
#[derive(Debug, Clone)]
pub struct AgentLoad {
    pub agent: Agent,
    pub online: bool,
    /// Open conversations assigned to them.
    pub open: u32,
    /// The cap that applies (their own or the tenant's default).
    pub capacity: u32,
}

impl ChatService {
    /// The signed-in agent's availability; `online` may bring them work at
    /// once.
    #[instrument(skip_all, fields(tenant = %ctx.tenant_id()))]
    pub async fn set_status(&self, ctx: &AgentCtx, status: &str) -> Result<Agent> {
        ctx.require_login()?;
        let status = AgentStatus::parse(status)?;
        let agent = self
            .repos
            .agents
            .set_status(ctx.tenant_id(), &ctx.agent.id, status)
            .await?;
        self.publish.status_changed(&agent).await;
        if status.takes_conversations() {
            self.spawn_drain(ctx.tenant_id());
        }
        Ok(agent)
    }

    /// The team with each agent's presence, cap and load, and the tenant's
    /// default cap.
    pub async fn agent_loads(&self, ctx: &AgentCtx) -> Result<(Vec<AgentLoad>, u32)> {
        ctx.require(Scope::AgentsRead)?;
        let tenant = self.tenant(ctx.tenant_id()).await?;
        let agents = self.repos.agents.list(&tenant.id).await?;
        let online = self.reachable(&tenant.id).await;
        let open = self.repos.assignment.open_counts(&tenant.id).await?;
        let default = tenant.assignment.default_max_concurrent;
        let loads = agents
            .into_iter()
            .map(|agent| AgentLoad {
                online: online.contains(&agent.id),
                open: open.get(&agent.id).copied().unwrap_or(0),
                capacity: agent.capacity(default),
                agent,
            })
            .collect();
        Ok((loads, default))
    }

    pub async fn assignment_settings(&self, ctx: &AgentCtx) -> Result<AssignmentSettings> {
        ctx.require(Scope::SettingsRead)?;
        Ok(self.tenant(ctx.tenant_id()).await?.assignment)
    }

    /// Admins switch between manual and automatic assignment and set the
    /// default cap; fields left out keep their value.
    #[instrument(skip_all, fields(tenant = %ctx.tenant_id()))]
    pub async fn set_assignment_settings(
        &self,
        ctx: &AgentCtx,
        mode: Option<&str>,
        default_max_concurrent: Option<i64>,
    ) -> Result<AssignmentSettings> {
        ctx.require(Scope::SettingsWrite)?;
        ctx.require_admin()?;
        let current = self.tenant(ctx.tenant_id()).await?.assignment;
        let settings = AssignmentSettings {
            mode: mode
                .map(AssignmentMode::parse)
                .transpose()?
                .unwrap_or(current.mode),
            default_max_concurrent: default_max_concurrent
                .map(|n| parse_max_concurrent("default_max_concurrent", n))
                .transpose()?
                .unwrap_or(current.default_max_concurrent),
        };
        let tenant = self
            .repos
            .tenants
            .set_assignment(ctx.tenant_id(), settings)
            .await?;
        self.spawn_drain(&tenant.id);
        Ok(tenant.assignment)
    }

    /// The conversations waiting for a person, longest waiting first.
    pub async fn queue(&self, ctx: &AgentCtx) -> Result<Vec<ChatSession>> {
        ctx.require(Scope::SessionsRead)?;
        Ok(self
            .repos
            .assignment
            .queue(ctx.tenant_id(), MAX_QUEUE_VIEW)
            .await?)
    }

    /// Something that can change who gets the next conversation happened
    /// outside this service (an agent's socket opened, an admin raised a
    /// cap): the queue is drained again.
    pub fn queue_may_move(&self, tenant: &TenantId) {
        self.spawn_drain(tenant);
    }

    /// Drains the tenant's queue off the request path.
    pub(crate) fn spawn_drain(&self, tenant: &TenantId) {
        if !self.drains.start(tenant) {
            return;
        }
        let this = self.clone();
        let tenant = tenant.clone();
        tokio::spawn(async move {
            loop {
                if let Err(e) = this.drain_queue(&tenant).await {
                    tracing::warn!(error = %e, tenant = %tenant, "assignment drain failed");
                }
                if !this.drains.finish(&tenant) {
                    break;
                }
            }
        });
    }

    /// Gives waiting conversations, oldest first, to the best candidates
    /// until the queue is empty or nobody has room. Returns how many it
    /// assigned. Safe to run on several nodes at once.
    #[instrument(skip_all, fields(tenant = %tenant_id))]
    pub async fn drain_queue(&self, tenant_id: &TenantId) -> Result<usize> {
        let tenant = self.tenant(tenant_id).await?;
        if tenant.assignment.mode != AssignmentMode::Auto {
            return Ok(0);
        }
        let default = tenant.assignment.default_max_concurrent;
        let mut assigned = 0;
        // Lost races count too, so a drain always ends.
        let mut rounds = 0;
        'queue: while assigned < MAX_PER_DRAIN && rounds < 2 * MAX_PER_DRAIN {
            rounds += 1;
            let Some(next) = self
                .repos
                .assignment
                .queue(&tenant.id, 1)
                .await?
                .into_iter()
                .next()
            else {
                break;
            };
            let reachable = self.reachable(&tenant.id).await;
            if reachable.is_empty() {
                break;
            }
            let agents = self.repos.agents.list(&tenant.id).await?;
            let open = self.repos.assignment.open_counts(&tenant.id).await?;
            for candidate in candidates(&agents, &reachable, &open, default) {
                match self
                    .repos
                    .assignment
                    .try_assign(&tenant.id, &next.id, &candidate.agent, candidate.capacity)
                    .await?
                {
                    AssignAttempt::Assigned(session) => {
                        metrics::counter!("chat_auto_assignments_total").increment(1);
                        self.publish.assigned(&session, candidate.agent, None).await;
                        assigned += 1;
                        continue 'queue;
                    }
                    // Another node (or an agent) was first: look again.
                    AssignAttempt::SessionTaken => continue 'queue,
                    AssignAttempt::AgentFull => {}
                }
            }
            // Nobody has room for the oldest: the rest wait behind it.
            break;
        }
        Ok(assigned)
    }

    /// Whether an agent would be given new work now: active, `online` and
    /// with a socket open.
    pub(super) async fn takes_conversations(&self, agent: &Agent) -> bool {
        agent.available(&self.reachable(&agent.tenant_id).await)
    }

    /// The tenant's agents with a socket open on any node.
    pub(super) async fn reachable(&self, tenant: &TenantId) -> HashSet<AgentId> {
        self.publish
            .online_agents(tenant)
            .await
            .into_iter()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trigger_during_a_drain_runs_it_once_more_not_twice_at_once() {
        let drains = Drains::default();
        let t = TenantId::new("t");
        assert!(drains.start(&t));
        assert!(!drains.start(&t));
        assert!(!drains.start(&t));
        assert!(
            drains.finish(&t),
            "the triggers meanwhile ask for one more round"
        );
        assert!(!drains.finish(&t));
        assert!(
            drains.start(&t),
            "finished: the next trigger starts a drain"
        );
    }
}
