//! `search`: one tenant with a million messages over a hundred thousand
//! conversations, written straight into the server's database with a
//! Zipf-distributed vocabulary (how word frequencies fall in real text),
//! then queries of one to three words (a third typed as a prefix) through
//! `GET /api/v1/search/messages`, and the insert rate of customer POSTs
//! with the full-text index and with it dropped.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use sea_orm::{
    ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement, TransactionTrait,
};
use serde_json::{Value, json};

use crate::client::Http;
use crate::scenarios::{Report, progress};
use crate::server::Server;
use crate::stats::{HEADER, summarize};

pub struct Search {
    pub messages: usize,
    pub sessions: usize,
    pub queries: usize,
    /// Seconds of closed-loop POSTs for each insert-rate run.
    pub insert_seconds: u64,
}

/// splitmix64: a small, fast, deterministic generator; every run writes
/// the same corpus and asks the same queries.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    pub(crate) fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// A vocabulary of distinct pronounceable words, ranked, with Zipf's
/// cumulative weights (s = 1.07, as measured for English).
struct Vocabulary {
    words: Vec<String>,
    cumulative: Vec<f64>,
}

const SIZE: usize = 20_000;

impl Vocabulary {
    fn new() -> Self {
        const ONSETS: [&str; 20] = [
            "b", "c", "d", "f", "g", "h", "j", "k", "l", "m", "n", "p", "r", "s", "t", "v", "w",
            "z", "st", "tr",
        ];
        const VOWELS: [&str; 6] = ["a", "e", "i", "o", "u", "ou"];
        let mut rng = Rng(7);
        let mut seen = std::collections::HashSet::new();
        let mut words = Vec::with_capacity(SIZE);
        while words.len() < SIZE {
            // Frequent words are short, as in real text.
            let syllables =
                1 + (words.len() > 200) as usize + (words.len() > 3000) as usize + rng.below(2);
            let mut w = String::new();
            for _ in 0..syllables {
                w.push_str(ONSETS[rng.below(ONSETS.len())]);
                w.push_str(VOWELS[rng.below(VOWELS.len())]);
            }
            if rng.below(3) == 0 {
                w.push_str(["n", "r", "s", "t", "nd", "ck"][rng.below(6)]);
            }
            if w.len() >= 3 && seen.insert(w.clone()) {
                words.push(w);
            }
        }
        let mut total = 0.0;
        let cumulative = (1..=SIZE)
            .map(|rank| {
                total += 1.0 / (rank as f64).powf(1.07);
                total
            })
            .collect();
        Self { words, cumulative }
    }

    /// A word drawn with Zipf's weights, among ranks `from..`.
    fn draw(&self, rng: &mut Rng, from: usize) -> &str {
        let lo = self.cumulative[from.saturating_sub(1)] * (from > 0) as u8 as f64;
        let hi = self.cumulative[SIZE - 1];
        let x = lo + rng.unit() * (hi - lo);
        let i = self.cumulative.partition_point(|&c| c < x).min(SIZE - 1);
        &self.words[i]
    }

    fn sentence(&self, rng: &mut Rng) -> String {
        let n = 5 + rng.below(20);
        let mut s = String::new();
        for i in 0..n {
            if i > 0 {
                s.push(' ');
            }
            s.push_str(self.draw(rng, 0));
        }
        s
    }

    /// One to three words a person would search for, taken from a stored
    /// message (so that something matches, as when people look for what
    /// they remember) but not among the commonest hundred, the last a
    /// four-letter prefix a third of the time.
    fn query(&self, rng: &mut Rng, message: &str) -> String {
        let common: std::collections::HashSet<&str> =
            self.words[..100].iter().map(String::as_str).collect();
        let candidates: Vec<&str> = message.split(' ').filter(|w| !common.contains(w)).collect();
        let n = (1 + rng.below(3)).min(candidates.len()).max(1);
        let at = rng.below(candidates.len().saturating_sub(n) + 1);
        let mut words: Vec<String> = candidates
            .get(at..at + n)
            .unwrap_or(&[])
            .iter()
            .map(|w| (*w).to_owned())
            .collect();
        if words.is_empty() {
            words.push(self.draw(rng, 100).to_owned());
        }
        if rng.below(3) == 0
            && let Some(last) = words.last_mut()
            && last.len() > 4
        {
            last.truncate(4);
            last.push('*');
        }
        words.join(" ")
    }
}

pub(crate) fn backend_of(url: &str) -> DbBackend {
    if url.starts_with("postgres") {
        DbBackend::Postgres
    } else if url.starts_with("mysql") {
        DbBackend::MySql
    } else {
        DbBackend::Sqlite
    }
}

/// A fresh database on the server of `admin` (dropped again by `drop`).
pub(crate) async fn fresh_database(admin: &str) -> Result<(String, String)> {
    let name = format!("chat_bench_search_{}", std::process::id());
    let (base, _) = admin
        .rsplit_once('/')
        .context("a database URL ends in /name")?;
    let conn = Database::connect(admin).await?;
    conn.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name}"))
        .await?;
    conn.execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await?;
    Ok((format!("{base}/{name}"), name))
}

pub(crate) async fn drop_database(admin: &str, name: &str) -> Result<()> {
    let conn = Database::connect(admin).await?;
    if backend_of(admin) == DbBackend::Postgres {
        conn.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .await?;
    } else {
        conn.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name}"))
            .await?;
    }
    Ok(())
}

pub(crate) fn id(rng: &mut Rng) -> String {
    let (a, b) = (rng.next(), rng.next());
    format!(
        "{:08x}-{:04x}-7{:03x}-8{:03x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        b >> 52,
        b & 0xffff_ffff_ffff
    )
}

/// Writes the corpus: `sessions` conversations of `messages / sessions`
/// messages each, alternating customer and agent, over the past year.
/// Returns a sample of the stored bodies, for the queries.
async fn seed(
    db: &DatabaseConnection,
    tenant: &str,
    p: &Search,
    vocab: &Vocabulary,
) -> Result<Vec<String>> {
    let every = (p.messages / p.queries.max(1)).max(1);
    let mut sample = Vec::new();
    let backend = db.get_database_backend();
    let per = (p.messages / p.sessions).max(1);
    let mut rng = Rng(42);
    let year = 365 * 86_400 * 1_000_000i64;
    let start = now_micros() - year;
    let step = year / p.messages as i64;
    let batch = 500;
    let mut written = 0usize;
    for first in (0..p.sessions).step_by(batch) {
        let mut customers = Vec::new();
        let mut sessions = Vec::new();
        let mut messages = Vec::new();
        for i in first..(first + batch).min(p.sessions) {
            let cid = id(&mut rng);
            let sid = id(&mut rng);
            let t0 = start + (i * per) as i64 * step;
            customers.push(format!(
                "('{cid}','{tenant}','Customer {i}',NULL,'{{}}',{t0},NULL,NULL)"
            ));
            let last = t0 + per as i64 * step;
            sessions.push(format!(
                "('{sid}','{tenant}','{cid}','{}','closed',NULL,NULL,NULL,NULL,NULL,NULL,{t0},{last},{per},NULL,{f},0,0,0,0,0)",
                id(&mut rng),
                f = if backend == DbBackend::Postgres { "false" } else { "0" },
            ));
            for seq in 1..=per {
                let (kind, name) = if seq % 2 == 1 {
                    ("customer", "Customer")
                } else {
                    ("agent", "Agent")
                };
                let body = vocab.sentence(&mut rng);
                if (i * per + seq).is_multiple_of(every) {
                    sample.push(body.clone());
                }
                messages.push(format!(
                    "('{}','{tenant}','{sid}',{seq},'{kind}',NULL,'{name}','{body}',NULL,{})",
                    id(&mut rng),
                    t0 + seq as i64 * step
                ));
            }
        }
        let txn = db.begin().await?;
        {
            txn.execute_unprepared(&format!(
                "INSERT INTO customers (id, tenant_id, name, email, attributes, created_at, visitor_token_hash, visitor_seen_at) VALUES {}",
                customers.join(",")
            ))
            .await?;
            txn.execute_unprepared(&format!(
                "INSERT INTO chat_sessions (id, tenant_id, customer_id, key_hash, status, assigned_agent_id, assigned_agent_name, page_url, referrer, user_agent, locale, created_at, last_activity_at, last_seq, last_message_preview, bot_handed_off, customer_delivered_seq, customer_read_seq, agent_delivered_seq, agent_read_seq, unread_count) VALUES {}",
                sessions.join(",")
            ))
            .await?;
            for chunk in messages.chunks(1000) {
                txn.execute_unprepared(&format!(
                    "INSERT INTO messages (id, tenant_id, session_id, seq, sender_type, sender_id, sender_name, body, client_msg_id, created_at) VALUES {}",
                    chunk.join(",")
                ))
                .await?;
            }
        }
        txn.commit().await?;
        written += messages.len();
        progress("seeding messages", written, p.messages);
    }
    eprintln!();
    let analyze = match backend {
        DbBackend::MySql => "ANALYZE TABLE messages, chat_sessions",
        _ => "ANALYZE",
    };
    db.execute_unprepared(analyze).await?;
    Ok(sample)
}

pub(crate) fn now_micros() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or(0)
}

/// Customer POSTs from 8 conversations, closed loop, for `seconds`:
/// messages per second.
async fn insert_rate(http: &Http, seconds: u64) -> Result<f64> {
    let mut keys = Vec::new();
    for _ in 0..8 {
        keys.push(http.start_session("demo-tenant").await?.0);
    }
    let until = Instant::now() + Duration::from_secs(seconds);
    let tasks: Vec<_> = keys
        .into_iter()
        .enumerate()
        .map(|(k, key)| {
            let client = http.client.clone();
            let base = http.base.clone();
            tokio::spawn(async move {
                let mut n = 0u64;
                while Instant::now() < until {
                    client
                        .post(format!("{base}/api/v1/public/chat/sessions/{key}/messages"))
                        .json(
                            &json!({ "body": format!("insert rate probe {k} {n} parcel refund") }),
                        )
                        .send()
                        .await?
                        .error_for_status()?;
                    n += 1;
                }
                anyhow::Ok(n)
            })
        })
        .collect();
    let mut total = 0;
    for t in tasks {
        total += t.await??;
    }
    Ok(total as f64 / seconds as f64)
}

fn drop_index_sql(backend: DbBackend) -> &'static [&'static str] {
    match backend {
        DbBackend::Sqlite => &["DROP TRIGGER messages_fts_insert"],
        DbBackend::Postgres => &[
            "DROP INDEX idx_messages_body_tsv",
            "ALTER TABLE messages DROP COLUMN body_tsv",
        ],
        _ => &["ALTER TABLE messages DROP INDEX ft_messages_body"],
    }
}

/// Runs `run` against a server on a fresh database: a new one on the
/// server of `admin_url` (dropped afterwards), else the server's own
/// SQLite file.
pub(crate) async fn on_fresh_database<F>(
    bin: &std::path::Path,
    admin_url: Option<&str>,
    cpu: Option<&str>,
    run: F,
) -> Result<Report>
where
    F: AsyncFnOnce(&Server) -> Result<Report>,
{
    let (db_url, fresh) = match admin_url {
        Some(admin) => {
            let (url, name) = fresh_database(admin).await?;
            (Some(url), Some((admin.to_owned(), name)))
        }
        None => (None, None),
    };
    let server = Server::start(bin, db_url.as_deref(), cpu).await?;
    let result = run(&server).await;
    server.stop();
    if let Some((admin, name)) = fresh {
        drop_database(&admin, &name).await?;
    }
    result
}

pub async fn search(
    bin: &std::path::Path,
    admin_url: Option<&str>,
    cpu: Option<&str>,
    p: Search,
) -> Result<Report> {
    on_fresh_database(bin, admin_url, cpu, async |server: &Server| {
        run(server, &p).await
    })
    .await
}

async fn run(server: &Server, p: &Search) -> Result<Report> {
    let db = Database::connect(&server.db_url).await?;
    let backend = db.get_database_backend();
    let tenant = db
        .query_one_raw(Statement::from_string(
            backend,
            "SELECT id FROM tenants WHERE slug = 'demo-tenant'",
        ))
        .await?
        .context("the demo tenant")?
        .try_get::<String>("", "id")?;
    let vocab = Vocabulary::new();
    let seeding = Instant::now();
    let sample = seed(&db, &tenant, p, &vocab).await?;
    let seed_secs = seeding.elapsed().as_secs_f64();

    let http = Http::new(&server.url)?;
    let token = http.login("agent@demo.com", "Test@1234").await?;
    let mut rng = Rng(99);
    let queries: Vec<String> = (0..p.queries)
        .map(|i| vocab.query(&mut rng, &sample[i % sample.len().max(1)]))
        .collect();
    let ask = |q: String| {
        let req = http
            .client
            .get(format!("{}/api/v1/search/messages", http.base))
            .query(&[("q", q.as_str()), ("limit", "20")])
            .bearer_auth(&token);
        async move {
            let started = Instant::now();
            let v: Value = req.send().await?.error_for_status()?.json().await?;
            anyhow::Ok((started.elapsed(), v["hits"].as_array().map_or(0, Vec::len)))
        }
    };
    // Warm the caches as a running server's would be.
    for q in queries.iter().take(10) {
        ask(q.clone()).await?;
    }
    let mut micros = Vec::new();
    let mut hits = 0usize;
    let mut empty = 0usize;
    for q in &queries {
        let (took, n) = ask(q.clone()).await?;
        micros.push(took.as_micros() as u64);
        hits += n;
        empty += (n == 0) as usize;
    }
    let latency = summarize(micros);

    // A first round warms the connections and caches; the second counts.
    insert_rate(&http, p.insert_seconds).await?;
    let with_index = insert_rate(&http, p.insert_seconds).await?;
    for sql in drop_index_sql(backend) {
        db.execute_unprepared(sql).await?;
    }
    let without_index = insert_rate(&http, p.insert_seconds).await?;
    if with_index <= 0.0 {
        bail!("no message was stored");
    }
    let cost = 1.0 - with_index / without_index;
    let database = match backend {
        DbBackend::Postgres => "PostgreSQL",
        DbBackend::MySql => "MariaDB",
        _ => "SQLite",
    };
    let markdown = format!(
        "### search: {} messages in {} conversations of one tenant ({database})\n\n\
         Seeded in {seed_secs:.0} s ({:.0} messages/s, index maintained). {} queries of 1–3 words \
         (a third ending in a 4-letter prefix), 20 hits a page: {hits} hits in all, {empty} queries \
         without any.\n\n{HEADER}\n{}\n\n\
         | customer POSTs, 8 conversations, closed loop | messages/s |\n| --- | --- |\n\
         | with the full-text index | {with_index:.0} |\n| index dropped | {without_index:.0} |\n\
         | cost of the index | {:.1}% |\n",
        p.messages,
        p.sessions,
        p.messages as f64 / seed_secs,
        p.queries,
        latency.row("query → page of hits"),
        cost * 100.0
    );
    Ok(Report {
        json: json!({
            "scenario": "search",
            "database": database,
            "messages": p.messages,
            "sessions": p.sessions,
            "queries": p.queries,
            "seed_seconds": seed_secs,
            "latency": latency,
            "hits": hits,
            "empty_queries": empty,
            "insert_per_sec_with_index": with_index,
            "insert_per_sec_without_index": without_index,
            "index_cost": cost,
        }),
        markdown,
    })
}
