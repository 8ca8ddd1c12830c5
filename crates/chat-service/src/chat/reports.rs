//! Reports over a period of conversations: admins see everyone's, an
//! agent their own.

use chat_domain::report::{Period, Report, ReportQuery};
use chat_domain::{AgentId, Role, Scope, Timestamp};
use tracing::instrument;

use super::ChatService;
use crate::{AgentCtx, Error, Result};

/// A report with the names of the agents in it.
#[derive(Debug, Clone)]
pub struct TeamReport {
    pub report: Report,
    /// The agent it is limited to, if any.
    pub agent: Option<AgentId>,
    /// Agent id → name, of the tenant's agents.
    pub names: std::collections::HashMap<String, String>,
}

/// What a report request names (all optional, as given).
#[derive(Debug, Clone, Default)]
pub struct ReportParams<'a> {
    pub from: Option<&'a str>,
    pub to: Option<&'a str>,
    pub agent_id: Option<&'a str>,
}

impl ChatService {
    /// The summary of conversations started in the period, in the tenant's
    /// time zone. An agent who is not an admin gets their own figures
    /// (asking for another agent's is forbidden).
    #[instrument(skip_all, fields(tenant = %ctx.tenant_id()))]
    pub async fn report(
        &self,
        ctx: &AgentCtx,
        params: ReportParams<'_>,
        now: Timestamp,
    ) -> Result<TeamReport> {
        ctx.require(Scope::ReportsRead)?;
        let tenant = self.tenant(ctx.tenant_id()).await?;
        let today = now.with_timezone(&tenant.time_zone.tz()).date_naive();
        let period = Period::parse(params.from, params.to, tenant.time_zone, today)?;
        let asked = match params.agent_id.map(str::trim).filter(|a| !a.is_empty()) {
            None => None,
            Some(raw) if chat_domain::ids::is_well_formed_id(raw) => {
                Some(AgentId::new(raw.to_owned()))
            }
            Some(_) => {
                return Err(
                    chat_domain::ValidationError::new("agent_id", "must be an agent's id").into(),
                );
            }
        };
        let agent = match (ctx.agent.role, asked) {
            (Role::Admin, asked) => asked,
            (Role::Agent, Some(a)) if a != ctx.agent.id => {
                return Err(Error::Forbidden("agents see their own figures"));
            }
            (Role::Agent, _) => Some(ctx.agent.id.clone()),
        };
        let query = ReportQuery { period, agent };
        let report = self.repos.reports.summary(ctx.tenant_id(), &query).await?;
        let names = self
            .repos
            .agents
            .list(ctx.tenant_id())
            .await?
            .into_iter()
            .map(|a| (a.id.as_str().to_owned(), a.name))
            .collect();
        Ok(TeamReport {
            report,
            agent: query.agent,
            names,
        })
    }
}
