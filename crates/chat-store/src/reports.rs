//! Reports, computed by the database: one statement per grouping (the
//! whole period, per agent, per local day), each reading the tenant's
//! conversations started in the period through `idx_sessions_tenant_created`.
//!
//! Percentiles are nearest-rank, written with window functions that
//! SQLite, MySQL 8 / MariaDB 10.2 and PostgreSQL share: every duration is
//! numbered within its group (`ROW_NUMBER() OVER (PARTITION BY … ORDER BY
//! …)`, empty durations last), counted (`COUNT(x) OVER (PARTITION BY …)`),
//! and the p-th percentile is the smallest value whose number `r` has
//! `r ≥ p·n`. A conversation's local day is `(created_at + offset) / day`
//! with the offset chosen by a `CASE` over the period's clock changes.
//!
//! The business-hours durations are computed here when they happen (the
//! first answer, the close), from the tenant's hours and zone of the time,
//! in the transaction of the change.

use async_trait::async_trait;
use chat_domain::repo::ReportRepository;
use chat_domain::report::{
    AgentFigures, DayFigures, Figures, OffsetSpan, Percentiles, Period, Report, ReportQuery,
};
use chat_domain::{AgentId, RepoResult, TenantId};
use sea_orm::{
    ConnectionTrait, DbBackend, EntityTrait, FromQueryResult, QuerySelect, Statement, Value,
};

use crate::entity::tenant;
use crate::{SeaOrmStore, convert, map_err};

/// The business-hours microseconds of `from .. to` by the tenant's hours
/// now (read in `db`, the transaction of the change).
pub(crate) async fn business_micros<C: ConnectionTrait>(
    db: &C,
    tenant_id: &TenantId,
    from: i64,
    to: i64,
) -> RepoResult<i64> {
    let row: Option<(String, String)> = tenant::Entity::find_by_id(tenant_id.as_str())
        .select_only()
        .column(tenant::Column::BusinessHours)
        .column(tenant::Column::TimeZone)
        .into_tuple()
        .one(db)
        .await
        .map_err(map_err)?;
    let Some((hours, zone)) = row else {
        return Ok(to - from);
    };
    let hours = serde_json::from_str(&hours)
        .ok()
        .and_then(|v| chat_domain::widget::BusinessHours::from_json(&v).ok())
        .unwrap_or_default();
    let zone = chat_domain::TimeZone::parse(&zone).unwrap_or_default();
    let open = hours.open_within(zone, convert::from_micros(from)?, convert::from_micros(to)?);
    Ok(open.num_microseconds().unwrap_or(i64::MAX))
}

/// SQL text with bound values and the backend's placeholders.
struct Sql {
    backend: DbBackend,
    text: String,
    values: Vec<Value>,
}

impl Sql {
    fn new(backend: DbBackend) -> Self {
        Self {
            backend,
            text: String::new(),
            values: Vec::new(),
        }
    }

    fn push(&mut self, s: &str) -> &mut Self {
        self.text.push_str(s);
        self
    }

    fn bind(&mut self, v: impl Into<Value>) -> &mut Self {
        self.values.push(v.into());
        if self.backend == DbBackend::Postgres {
            self.text.push_str(&format!("${}", self.values.len()));
        } else {
            self.text.push('?');
        }
        self
    }

    fn statement(self) -> Statement {
        Statement::from_sql_and_values(self.backend, self.text, self.values)
    }
}

/// The durations a report takes percentiles of, as columns of `base`.
const DURATIONS: [&str; 4] = ["frw", "frb", "rsw", "rsb"];

#[derive(Debug, FromQueryResult)]
struct Row {
    k: Option<String>,
    conversations: i64,
    bot_only: i64,
    handed_off: i64,
    assigned: i64,
    frw50: Option<i64>,
    frw90: Option<i64>,
    frb50: Option<i64>,
    frb90: Option<i64>,
    rsw50: Option<i64>,
    rsw90: Option<i64>,
    rsb50: Option<i64>,
    rsb90: Option<i64>,
    rating_sum: Option<i64>,
    rating_count: i64,
}

impl Row {
    fn figures(&self) -> Figures {
        let p = |a: Option<i64>, b: Option<i64>| Percentiles { p50: a, p90: b };
        let count = |n: i64| u64::try_from(n).unwrap_or(0);
        Figures {
            conversations: count(self.conversations),
            bot_only: count(self.bot_only),
            handed_off: count(self.handed_off),
            assigned: count(self.assigned),
            first_response: p(self.frw50, self.frw90),
            first_response_business: p(self.frb50, self.frb90),
            resolution: p(self.rsw50, self.rsw90),
            resolution_business: p(self.rsb50, self.rsb90),
            rating_average: (self.rating_count > 0)
                .then(|| self.rating_sum.unwrap_or(0) as f64 / self.rating_count as f64),
            rating_count: count(self.rating_count),
        }
    }
}

/// How rows are grouped.
enum Group<'a> {
    All,
    Agent,
    Day(&'a [OffsetSpan]),
}

/// `expr` as a whole number on every backend (`SUM` and `COUNT` are
/// decimals or 64-bit integers depending on the backend).
fn int(backend: DbBackend, expr: &str) -> String {
    match backend {
        DbBackend::MySql => format!("CAST({expr} AS SIGNED)"),
        DbBackend::Postgres => format!("CAST({expr} AS BIGINT)"),
        _ => expr.to_owned(),
    }
}

/// One grouping's statement.
fn statement(backend: DbBackend, tenant: &TenantId, q: &ReportQuery, group: Group) -> Statement {
    let (start, end) = (
        q.period.start().timestamp_micros(),
        q.period.end().timestamp_micros(),
    );
    let mut sql = Sql::new(backend);
    sql.push("WITH base AS (SELECT ");
    match group {
        Group::All => {
            sql.push("'all'");
        }
        Group::Agent => {
            sql.push("assigned_agent_id");
        }
        Group::Day(spans) => {
            // The local day number, as text like the other keys.
            sql.push("CAST(((created_at + CASE");
            for s in spans.iter().rev() {
                sql.push(" WHEN created_at >= ").bind(s.start);
                sql.push(" THEN ").bind(s.offset);
            }
            sql.push(" ELSE ")
                .bind(spans.first().map(|s| s.offset).unwrap_or_default());
            sql.push(" END) ");
            sql.push(if backend == DbBackend::MySql {
                "DIV"
            } else {
                "/"
            });
            sql.push(if backend == DbBackend::MySql {
                " 86400000000) AS CHAR(20))"
            } else {
                " 86400000000) AS VARCHAR(20))"
            });
        }
    }
    sql.push(
        " AS k, \
         CASE WHEN bot_answered AND NOT bot_handed_off AND assigned_agent_id IS NULL \
              AND first_response_at IS NULL THEN 1 ELSE 0 END AS bot_only, \
         CASE WHEN bot_handed_off THEN 1 ELSE 0 END AS handed_off, \
         CASE WHEN assigned_agent_id IS NOT NULL THEN 1 ELSE 0 END AS assigned, \
         first_response_at - COALESCE(handed_off_at, created_at) AS frw, \
         first_response_business AS frb, \
         resolved_at - created_at AS rsw, \
         resolution_business AS rsb, \
         rating_score AS rating \
         FROM chat_sessions WHERE tenant_id = ",
    );
    sql.bind(tenant.as_str());
    sql.push(" AND created_at >= ").bind(start);
    sql.push(" AND created_at < ").bind(end);
    if let Some(agent) = &q.agent {
        sql.push(" AND assigned_agent_id = ").bind(agent.as_str());
    }
    if matches!(group, Group::Agent) {
        sql.push(" AND assigned_agent_id IS NOT NULL");
    }
    sql.push("), ranked AS (SELECT k, bot_only, handed_off, assigned, rating");
    for d in DURATIONS {
        sql.push(&format!(
            ", {d}, ROW_NUMBER() OVER (PARTITION BY k ORDER BY CASE WHEN {d} IS NULL THEN 1 ELSE 0 END, {d}) AS {d}_r, \
             COUNT({d}) OVER (PARTITION BY k) AS {d}_n"
        ));
    }
    sql.push(" FROM base) SELECT k");
    for (expr, name) in [
        ("COUNT(*)", "conversations"),
        ("SUM(bot_only)", "bot_only"),
        ("SUM(handed_off)", "handed_off"),
        ("SUM(assigned)", "assigned"),
        ("SUM(rating)", "rating_sum"),
        ("COUNT(rating)", "rating_count"),
    ] {
        sql.push(&format!(", {} AS {name}", int(backend, expr)));
    }
    for d in DURATIONS {
        sql.push(&format!(
            ", MIN(CASE WHEN {d} IS NOT NULL AND {d}_r * 2 >= {d}_n THEN {d} END) AS {d}50, \
             MIN(CASE WHEN {d} IS NOT NULL AND {d}_r * 10 >= {d}_n * 9 THEN {d} END) AS {d}90"
        ));
    }
    sql.push(" FROM ranked GROUP BY k");
    sql.statement()
}

#[async_trait]
impl ReportRepository for SeaOrmStore {
    async fn summary(&self, tenant: &TenantId, query: &ReportQuery) -> RepoResult<Report> {
        let db = self.db()?;
        let backend = db.get_database_backend();
        let spans = query.period.offsets();
        let run = |group: Group| {
            let stmt = statement(backend, tenant, query, group);
            async move { Row::find_by_statement(stmt).all(db).await.map_err(map_err) }
        };
        let (all, agents, days) =
            tokio::try_join!(run(Group::All), run(Group::Agent), run(Group::Day(&spans)))?;
        let totals = all.first().map(Row::figures).unwrap_or_default();
        let mut agents: Vec<AgentFigures> = agents
            .iter()
            .filter_map(|r| {
                Some(AgentFigures {
                    agent_id: AgentId::new(r.k.clone()?),
                    figures: r.figures(),
                })
            })
            .collect();
        agents.sort_by(|a, b| {
            b.figures
                .conversations
                .cmp(&a.figures.conversations)
                .then_with(|| a.agent_id.as_str().cmp(b.agent_id.as_str()))
        });
        let by_day: std::collections::HashMap<i64, Figures> = days
            .iter()
            .filter_map(|r| Some((r.k.as_deref()?.trim().parse().ok()?, r.figures())))
            .collect();
        let days = query
            .period
            .days()
            .into_iter()
            .map(|date| DayFigures {
                date,
                figures: by_day
                    .get(
                        &date
                            .signed_duration_since(Period::date_of_day_number(0))
                            .num_days(),
                    )
                    .cloned()
                    .unwrap_or_default(),
            })
            .collect();
        Ok(Report {
            period: query.period,
            totals,
            agents,
            days,
        })
    }
}
