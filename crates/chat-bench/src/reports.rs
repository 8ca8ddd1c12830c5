//! `reports`: one tenant with a hundred thousand conversations over the
//! past 30 days, written straight into the server's database (a mix of
//! bot-only, handed-off and assigned conversations with first answers,
//! closes and ratings), then `GET /api/v1/reports/summary` over the whole
//! period through the API: the team's report, one agent's, and the CSV.

use std::time::Instant;

use anyhow::{Context, Result, bail};
use sea_orm::{
    ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement, TransactionTrait,
};
use serde_json::{Value, json};

use crate::client::Http;
use crate::scenarios::{Report, progress};
use crate::search::{Rng, id, now_micros, on_fresh_database};
use crate::server::Server;
use crate::stats::{HEADER, summarize};

pub struct Reports {
    pub sessions: usize,
    pub queries: usize,
}

const DAY: i64 = 86_400_000_000;
const SEC: i64 = 1_000_000;

/// Writes `n` conversations spread over the last 30 days, held by the
/// given agents in turn.
async fn seed(
    db: &DatabaseConnection,
    tenant: &str,
    agents: &[(String, String)],
    n: usize,
) -> Result<()> {
    let backend = db.get_database_backend();
    let (t, f) = if backend == DbBackend::Postgres {
        ("true", "false")
    } else {
        ("1", "0")
    };
    let mut rng = Rng(4242);
    let start = now_micros() - 30 * DAY;
    let step = 30 * DAY / n as i64;
    let batch = 1000;
    for first in (0..n).step_by(batch) {
        let mut customers = Vec::new();
        let mut sessions = Vec::new();
        for i in first..(first + batch).min(n) {
            let cid = id(&mut rng);
            let sid = id(&mut rng);
            let created = start + i as i64 * step;
            customers.push(format!(
                "('{cid}','{tenant}','Customer {i}',NULL,'{{}}',{created},NULL,NULL)"
            ));
            // 40% the bot alone, 30% handed off to a person, 30% straight
            // to a person; of those with a person, 90% answered and 70%
            // closed; 20% of the closed rated.
            let kind = rng.below(10);
            let bot = kind < 7;
            let handed = (4..7).contains(&kind);
            let person = kind >= 4;
            let handed_at = handed.then(|| created + (5 + rng.below(60)) as i64 * SEC);
            let waited = handed_at.unwrap_or(created);
            let (agent, answered, closed) = if person {
                let (aid, aname) = &agents[i % agents.len()];
                let answered =
                    (rng.below(10) < 9).then(|| waited + (10 + rng.below(900)) as i64 * SEC);
                let closed =
                    (rng.below(10) < 7).then(|| waited + (60 + rng.below(7200)) as i64 * SEC);
                (Some((aid.clone(), aname.clone())), answered, closed)
            } else {
                (None, None, None)
            };
            let rating = closed
                .filter(|_| rng.below(5) == 0)
                .map(|_| 1 + rng.below(5) as i64);
            let opt = |v: Option<i64>| v.map_or("NULL".to_owned(), |x| x.to_string());
            let (aid, aname) = agent
                .map(|(a, n)| (format!("'{a}'"), format!("'{n}'")))
                .unwrap_or(("NULL".into(), "NULL".into()));
            let status = if closed.is_some() {
                "closed"
            } else if person {
                "open"
            } else {
                "pending"
            };
            sessions.push(format!(
                "('{sid}','{tenant}','{cid}','{}','{status}',{aid},{aname},NULL,NULL,NULL,NULL,{created},{created},2,NULL,{},0,0,0,0,0,{},{},{},{},{},{},{})",
                id(&mut rng),
                if handed { t } else { f },
                opt(rating),
                opt(handed_at),
                opt(answered),
                opt(answered.map(|a| (a - waited) / 2)),
                opt(closed),
                opt(closed.map(|c| (c - created) / 3)),
                if bot { t } else { f },
            ));
        }
        let txn = db.begin().await?;
        txn.execute_unprepared(&format!(
            "INSERT INTO customers (id, tenant_id, name, email, attributes, created_at, visitor_token_hash, visitor_seen_at) VALUES {}",
            customers.join(",")
        ))
        .await?;
        txn.execute_unprepared(&format!(
            "INSERT INTO chat_sessions (id, tenant_id, customer_id, key_hash, status, assigned_agent_id, assigned_agent_name, page_url, referrer, user_agent, locale, created_at, last_activity_at, last_seq, last_message_preview, bot_handed_off, customer_delivered_seq, customer_read_seq, agent_delivered_seq, agent_read_seq, unread_count, rating_score, handed_off_at, first_response_at, first_response_business, resolved_at, resolution_business, bot_answered) VALUES {}",
            sessions.join(",")
        ))
        .await?;
        txn.commit().await?;
        progress("seeding conversations", (first + batch).min(n), n);
    }
    eprintln!();
    let analyze = match backend {
        DbBackend::MySql => "ANALYZE TABLE chat_sessions",
        _ => "ANALYZE",
    };
    db.execute_unprepared(analyze).await?;
    Ok(())
}

pub async fn reports(
    bin: &std::path::Path,
    admin_url: Option<&str>,
    cpu: Option<&str>,
    p: Reports,
) -> Result<Report> {
    on_fresh_database(bin, admin_url, cpu, async |server: &Server| {
        run(server, &p).await
    })
    .await
}

async fn run(server: &Server, p: &Reports) -> Result<Report> {
    let db = Database::connect(&server.db_url).await?;
    let backend = db.get_database_backend();
    let one = |sql: &str| Statement::from_string(backend, sql.to_owned());
    let tenant = db
        .query_one_raw(one("SELECT id FROM tenants WHERE slug = 'demo-tenant'"))
        .await?
        .context("the demo tenant")?
        .try_get::<String>("", "id")?;
    let mut agents = Vec::new();
    for row in db
        .query_all_raw(one(&format!(
            "SELECT id, name FROM agents WHERE tenant_id = '{tenant}' ORDER BY email"
        )))
        .await?
    {
        agents.push((
            row.try_get::<String>("", "id")?,
            row.try_get::<String>("", "name")?,
        ));
    }
    if agents.is_empty() {
        bail!("the demo tenant has no agents");
    }
    let seeding = Instant::now();
    seed(&db, &tenant, &agents, p.sessions).await?;
    let seed_secs = seeding.elapsed().as_secs_f64();

    let http = Http::new(&server.url)?;
    let token = http.login("agent@demo.com", "Test@1234").await?;
    let today = chrono_free_today();
    let from = chrono_free_day(now_micros() - 31 * DAY);
    let time = |query: Vec<(&'static str, String)>| {
        let req = http
            .client
            .get(format!("{}/api/v1/reports/summary", http.base))
            .query(&query)
            .bearer_auth(&token);
        async move {
            let started = Instant::now();
            let res = req.send().await?.error_for_status()?;
            let csv = res
                .headers()
                .get("content-type")
                .is_some_and(|c| c.as_bytes().starts_with(b"text/csv"));
            let body = res.text().await?;
            let conversations = if csv {
                body.lines().count() as u64
            } else {
                serde_json::from_str::<Value>(&body)?["report"]["totals"]["conversations"]
                    .as_u64()
                    .unwrap_or(0)
            };
            anyhow::Ok((started.elapsed(), conversations))
        }
    };
    let period = || vec![("from", from.clone()), ("to", today.clone())];
    let (_, counted) = time(period()).await?;
    if counted as usize != p.sessions {
        bail!(
            "the report counted {counted} conversations of {}",
            p.sessions
        );
    }
    let mut rows = Vec::new();
    let mut json_rows = serde_json::Map::new();
    for (name, extra) in [
        ("the team, 31 days", None),
        (
            "one agent, 31 days",
            Some(("agent_id", agents[0].0.clone())),
        ),
        ("CSV, 31 days", Some(("format", "csv".to_owned()))),
    ] {
        let mut micros = Vec::new();
        for _ in 0..p.queries {
            let mut q = period();
            q.extend(extra.clone());
            let (took, _) = time(q).await?;
            micros.push(took.as_micros() as u64);
        }
        let s = summarize(micros);
        rows.push(s.row(name));
        json_rows.insert(name.to_owned(), json!(s));
    }
    let database = match backend {
        DbBackend::Postgres => "PostgreSQL",
        DbBackend::MySql => "MariaDB",
        _ => "SQLite",
    };
    let markdown = format!(
        "### reports: {} conversations of one tenant over 30 days ({database})\n\n\
         Seeded in {seed_secs:.0} s. `GET /api/v1/reports/summary` over the whole period (totals, \
         {} agents, 32 days), {} requests each, one at a time.\n\n{HEADER}\n{}\n",
        p.sessions,
        agents.len(),
        p.queries,
        rows.join("\n"),
    );
    Ok(Report {
        json: json!({
            "scenario": "reports",
            "database": database,
            "sessions": p.sessions,
            "queries": p.queries,
            "seed_seconds": seed_secs,
            "latency": json_rows,
        }),
        markdown,
    })
}

/// `YYYY-MM-DD` (UTC) of a time in microseconds, without a date crate:
/// days since the epoch to a civil date (Howard Hinnant's algorithm).
fn chrono_free_day(micros: i64) -> String {
    let z = micros.div_euclid(DAY) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

fn chrono_free_today() -> String {
    chrono_free_day(now_micros())
}

#[cfg(test)]
mod tests {
    #[test]
    fn civil_dates_from_epoch_days() {
        assert_eq!(super::chrono_free_day(0), "1970-01-01");
        assert_eq!(super::chrono_free_day(1_774_746_000_000_000), "2026-03-29");
        assert_eq!(super::chrono_free_day(951_782_400_000_000), "2000-02-29");
    }
}
