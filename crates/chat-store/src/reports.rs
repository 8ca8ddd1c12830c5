//! Reports, computed by the database in two statements over the tenant's
//! conversations started in the period (read through
//! `idx_sessions_tenant_created`):
//!
//! - the counts (conversations, bot alone, handed off, assigned, ratings)
//!   grouped by agent and local day: additive, so the whole period, each
//!   agent and each day are summed from these few rows;
//! - the percentiles, which do not add up: each duration is put in a
//!   bucket ([`BUCKETS`]: steps of at most 5% of the value from 10 s on), the buckets are
//!   counted per agent and day, those counts are summed per grouping (the
//!   whole period, each agent, each day), and the p-th percentile is the
//!   lowest bucket whose running count (`SUM(c) OVER (PARTITION BY …
//!   ORDER BY bucket)`) reaches p of the group's count: nearest-rank,
//!   reported as the bucket's lower edge. Sorting every duration with
//!   window functions instead gave exact values but took 1–2 s at 100,000
//!   conversations on every database; the buckets sort a few thousand
//!   counts.
//!
//! A conversation's local day is `(created_at + offset) / day` with the
//! offset chosen by a `CASE` over the period's clock changes.
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
use std::collections::BTreeMap;

use sea_orm::{ConnectionTrait, DbBackend, EntityTrait, FromQueryResult, QuerySelect, Statement};

use crate::entity::tenant;
use crate::sql::Sql;
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

/// Bucket steps: below `up` seconds a duration is counted in steps of
/// `step` milliseconds (beyond the last, in hours). From 10 s on, a step is
/// at most 5% of the durations it holds.
const BUCKETS: [(i64, i64); 7] = [
    (30, 500),
    (60, 1_000),
    (300, 2_000),
    (1_200, 15_000),
    (3_600, 60_000),
    (18_000, 180_000),
    (86_400, 900_000),
];

/// The durations a report takes percentiles of, by name, in microseconds.
const DURATIONS: [(&str, &str); 4] = [
    (
        "frw",
        "first_response_at - COALESCE(handed_off_at, created_at)",
    ),
    ("frb", "first_response_business"),
    ("rsw", "resolved_at - created_at"),
    ("rsb", "resolution_business"),
];

/// Integer division on every backend (`/` is a decimal division on MySQL).
fn div(backend: DbBackend) -> &'static str {
    if backend == DbBackend::MySql {
        "DIV"
    } else {
        "/"
    }
}

/// The lower edge of the bucket of `v` (microseconds), NULL for NULL.
fn bucket(backend: DbBackend, v: &str) -> String {
    let d = div(backend);
    let mut s = String::from("(CASE");
    for (up, step) in BUCKETS {
        let step = step * 1_000;
        s.push_str(&format!(
            " WHEN ({v}) < {} THEN (({v}) {d} {step}) * {step}",
            up * 1_000_000
        ));
    }
    s.push_str(&format!(" ELSE (({v}) {d} 3600000000) * 3600000000 END)"));
    s
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

/// The local day number of `created_at`, with the period's offsets.
fn day(sql: &mut Sql, spans: &[OffsetSpan]) {
    let backend = sql.backend;
    sql.push("((created_at + CASE");
    for s in spans.iter().rev() {
        sql.push(" WHEN created_at >= ").bind(s.start);
        sql.push(" THEN ").bind(s.offset);
    }
    sql.push(" ELSE ")
        .bind(spans.first().map(|s| s.offset).unwrap_or_default());
    sql.push(&format!(" END) {} 86400000000)", div(backend)));
}

/// `WHERE` the tenant, the period and the agent.
fn filter(sql: &mut Sql, tenant: &TenantId, q: &ReportQuery) {
    sql.push(" WHERE tenant_id = ").bind(tenant.as_str());
    sql.push(" AND created_at >= ")
        .bind(q.period.start().timestamp_micros());
    sql.push(" AND created_at < ")
        .bind(q.period.end().timestamp_micros());
    if let Some(agent) = &q.agent {
        sql.push(" AND assigned_agent_id = ").bind(agent.as_str());
    }
}

#[derive(Debug, FromQueryResult)]
struct CountRow {
    agent: Option<String>,
    day: i64,
    conversations: i64,
    bot_only: i64,
    handed_off: i64,
    assigned: i64,
    rating_sum: Option<i64>,
    rating_count: i64,
}

/// The counts per agent and local day.
fn counts(
    backend: DbBackend,
    tenant: &TenantId,
    q: &ReportQuery,
    spans: &[OffsetSpan],
) -> Statement {
    let mut sql = Sql::new(backend);
    sql.push("SELECT assigned_agent_id AS agent, ");
    day(&mut sql, spans);
    sql.push(" AS day");
    for (expr, name) in [
        ("COUNT(*)", "conversations"),
        (
            "SUM(CASE WHEN bot_answered AND NOT bot_handed_off AND assigned_agent_id IS NULL \
             AND first_response_at IS NULL THEN 1 ELSE 0 END)",
            "bot_only",
        ),
        (
            "SUM(CASE WHEN bot_handed_off THEN 1 ELSE 0 END)",
            "handed_off",
        ),
        (
            "SUM(CASE WHEN assigned_agent_id IS NOT NULL THEN 1 ELSE 0 END)",
            "assigned",
        ),
        ("SUM(rating_score)", "rating_sum"),
        ("COUNT(rating_score)", "rating_count"),
    ] {
        sql.push(&format!(", {} AS {name}", int(backend, expr)));
    }
    sql.push(" FROM chat_sessions");
    filter(&mut sql, tenant, q);
    sql.push(" GROUP BY assigned_agent_id, day");
    sql.statement()
}

#[derive(Debug, FromQueryResult)]
struct PercentileRow {
    /// `all`, `agent` or `day`.
    g: String,
    /// The duration's name.
    m: String,
    /// The agent's id or the day number.
    k: String,
    p50: Option<i64>,
    p90: Option<i64>,
}

/// Every percentile of every grouping, from bucket counts.
fn percentiles(
    backend: DbBackend,
    tenant: &TenantId,
    q: &ReportQuery,
    spans: &[OffsetSpan],
) -> Statement {
    let text = if backend == DbBackend::MySql {
        "CHAR"
    } else {
        "TEXT"
    };
    let mut sql = Sql::new(backend);
    if backend == DbBackend::MySql {
        // MariaDB and MySQL inline a CTE at every reference, so each one
        // is referenced once: the durations are unpivoted by a join with
        // their names, the groupings by a join with theirs.
        let names: Vec<String> = DURATIONS
            .iter()
            .map(|(name, _)| format!("SELECT '{name}' AS m"))
            .collect();
        let cases: Vec<String> = DURATIONS
            .iter()
            .map(|(name, expr)| format!("WHEN '{name}' THEN {}", bucket(backend, expr)))
            .collect();
        sql.push("WITH h AS (SELECT mm.m AS m, assigned_agent_id AS a, ");
        day(&mut sql, spans);
        sql.push(&format!(
            " AS d, CASE mm.m {} END AS b, COUNT(*) AS c",
            cases.join(" ")
        ));
        sql.push(" FROM chat_sessions CROSS JOIN (");
        sql.push(&names.join(" UNION ALL "));
        sql.push(") mm");
        filter(&mut sql, tenant, q);
        sql.push(&format!(
            " GROUP BY mm.m, a, d, b), g AS (SELECT s.g AS g, m, \
             CASE s.g WHEN 'all' THEN '' WHEN 'agent' THEN a ELSE CAST(d AS {text}) END AS k, \
             b, SUM(c) AS c FROM h CROSS JOIN (SELECT 'all' AS g UNION ALL SELECT 'agent' \
             UNION ALL SELECT 'day') s WHERE b IS NOT NULL AND (s.g <> 'agent' OR a IS NOT NULL) \
             GROUP BY s.g, m, k, b), "
        ));
    } else {
        sql.push("WITH base AS (SELECT assigned_agent_id AS a, ");
        day(&mut sql, spans);
        sql.push(" AS d");
        for (name, expr) in DURATIONS {
            sql.push(&format!(", {} AS {name}", bucket(backend, expr)));
        }
        sql.push(" FROM chat_sessions");
        filter(&mut sql, tenant, q);
        sql.push("), h AS (");
        let per_duration: Vec<String> = DURATIONS
            .iter()
            .map(|(name, _)| {
                format!(
                    "SELECT '{name}' AS m, a, d, {name} AS b, COUNT(*) AS c FROM base \
                     WHERE {name} IS NOT NULL GROUP BY a, d, {name}"
                )
            })
            .collect();
        sql.push(&per_duration.join(" UNION ALL "));
        sql.push(&format!(
            "), g AS (SELECT 'all' AS g, m, '' AS k, b, SUM(c) AS c FROM h GROUP BY m, b \
             UNION ALL SELECT 'agent', m, a, b, SUM(c) FROM h WHERE a IS NOT NULL GROUP BY m, a, b \
             UNION ALL SELECT 'day', m, CAST(d AS {text}), b, SUM(c) FROM h GROUP BY m, d, b), "
        ));
    }
    sql.push(
        "cu AS (SELECT g, m, k, b, SUM(c) OVER (PARTITION BY g, m, k ORDER BY b) AS cum, \
         SUM(c) OVER (PARTITION BY g, m, k) AS n FROM g) \
         SELECT g, m, k, MIN(CASE WHEN cum * 2 >= n THEN b END) AS p50, \
         MIN(CASE WHEN cum * 10 >= n * 9 THEN b END) AS p90 FROM cu GROUP BY g, m, k",
    );
    sql.statement()
}

/// Adds one counts row into figures.
fn add(f: &mut Figures, r: &CountRow) {
    let n = |v: i64| u64::try_from(v).unwrap_or(0);
    f.conversations += n(r.conversations);
    f.bot_only += n(r.bot_only);
    f.handed_off += n(r.handed_off);
    f.assigned += n(r.assigned);
    let before = f.rating_average.unwrap_or(0.0) * f.rating_count as f64;
    f.rating_count += n(r.rating_count);
    if f.rating_count > 0 {
        f.rating_average =
            Some((before + r.rating_sum.unwrap_or(0) as f64) / f.rating_count as f64);
    }
}

/// Puts one percentile row into figures.
fn set(f: &mut Figures, r: &PercentileRow) {
    let p = Percentiles {
        p50: r.p50,
        p90: r.p90,
    };
    match r.m.as_str() {
        "frw" => f.first_response = p,
        "frb" => f.first_response_business = p,
        "rsw" => f.resolution = p,
        _ => f.resolution_business = p,
    }
}

#[async_trait]
impl ReportRepository for SeaOrmStore {
    async fn summary(&self, tenant: &TenantId, query: &ReportQuery) -> RepoResult<Report> {
        let db = self.db()?;
        let backend = db.get_database_backend();
        let spans = query.period.offsets();
        let (counted, ranked) = tokio::try_join!(
            async {
                CountRow::find_by_statement(counts(backend, tenant, query, &spans))
                    .all(db)
                    .await
                    .map_err(map_err)
            },
            async {
                PercentileRow::find_by_statement(percentiles(backend, tenant, query, &spans))
                    .all(db)
                    .await
                    .map_err(map_err)
            }
        )?;
        let epoch = Period::date_of_day_number(0);
        let mut totals = Figures::default();
        let mut agents: BTreeMap<String, Figures> = BTreeMap::new();
        let mut days: BTreeMap<i64, Figures> = BTreeMap::new();
        for r in &counted {
            add(&mut totals, r);
            if let Some(a) = &r.agent {
                add(agents.entry(a.clone()).or_default(), r);
            }
            add(days.entry(r.day).or_default(), r);
        }
        for r in &ranked {
            match r.g.as_str() {
                "all" => set(&mut totals, r),
                "agent" => set(agents.entry(r.k.clone()).or_default(), r),
                _ => {
                    if let Ok(d) = r.k.trim().parse::<i64>() {
                        set(days.entry(d).or_default(), r);
                    }
                }
            }
        }
        let mut agents: Vec<AgentFigures> = agents
            .into_iter()
            .map(|(id, figures)| AgentFigures {
                agent_id: AgentId::new(id),
                figures,
            })
            .collect();
        agents.sort_by(|a, b| {
            b.figures
                .conversations
                .cmp(&a.figures.conversations)
                .then_with(|| a.agent_id.as_str().cmp(b.agent_id.as_str()))
        });
        let days = query
            .period
            .days()
            .into_iter()
            .map(|date| DayFigures {
                date,
                figures: days
                    .remove(&date.signed_duration_since(epoch).num_days())
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

#[cfg(test)]
mod tests {
    use super::BUCKETS;

    #[test]
    fn buckets_are_within_five_percent_from_ten_seconds_on() {
        let mut lower = 10_000;
        for (up, step) in BUCKETS {
            assert!(step * 20 <= lower, "{step} ms steps from {lower} ms");
            lower = up * 1_000;
        }
        assert!(3_600_000 * 20 <= lower, "hours from {lower} ms");
    }
}
