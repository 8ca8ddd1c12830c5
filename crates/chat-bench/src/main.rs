//! `chat-bench`: drives a chat server exactly as widgets and dashboards do
//! (HTTP + WebSocket) and reports latency, fan-out, connection cost and
//! memory. It starts the server under test itself, on a fresh database.

mod bot;
mod client;
mod compare;
mod reports;
mod scenarios;
mod search;
mod server;
mod stats;
mod target;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Result;
use clap::{Parser, Subcommand};
use serde_json::json;

use scenarios::{E2e, Fanout, Report};
use server::{Server, rss_kib};
use target::{Ours, Peer, PeerKind, Room};

#[derive(Parser)]
#[command(name = "chat-bench", about = "Load generator for the chat server")]
struct Cli {
    /// The chat-api binary to start and measure.
    #[arg(long, default_value = "target/release/chat-api")]
    server_bin: PathBuf,
    /// A database URL instead of a fresh SQLite file (PostgreSQL, MariaDB).
    #[arg(long)]
    database_url: Option<String>,
    /// Pin the server to this CPU (`taskset -c`).
    #[arg(long)]
    server_cpu: Option<String>,
    /// Run `fanout`, `burst` or `idle` against a peer server instead of ours.
    #[arg(long, value_enum)]
    peer: Option<PeerKind>,
    /// Where the peers live (`npm install` done there).
    #[arg(long, default_value = "bench/peers")]
    peers_dir: PathBuf,
    /// The floor relay's binary.
    #[arg(long, default_value = "target/release/bench-floor")]
    floor_bin: PathBuf,
    /// A label for alternating rounds, recorded in the JSON.
    #[arg(long, default_value_t = 0)]
    round: u32,
    /// `2`: two nodes on one database and Redis; messages are posted to
    /// the first and every socket is on the second (e2e, fanout).
    #[arg(long, default_value_t = 1)]
    nodes: u8,
    /// The Redis of a two-node run.
    #[arg(long, default_value = "redis://127.0.0.1:6379")]
    redis_url: String,
    /// Append the JSON report to this file.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Append the Markdown section to this file.
    #[arg(long)]
    markdown: Option<PathBuf>,
    #[command(subcommand)]
    scenario: Scenario,
}

#[derive(Subcommand)]
enum Scenario {
    /// Tenants × agents, idle widgets, an open-loop rate of customer POSTs.
    E2e {
        #[arg(long, default_value_t = 20)]
        tenants: usize,
        #[arg(long, default_value_t = 10)]
        agents: usize,
        #[arg(long, default_value_t = 1000)]
        widgets: usize,
        #[arg(long, default_value_t = 200)]
        rate: u32,
        #[arg(long, default_value_t = 20)]
        seconds: u64,
    },
    /// One tenant, N agent sockets, a steady rate; optionally a rate ramp.
    Fanout {
        #[arg(long, default_value_t = 1000)]
        agents: usize,
        #[arg(long, default_value_t = 100)]
        rate: u32,
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        #[arg(long)]
        ramp: bool,
    },
    /// One message to N sockets.
    Burst {
        #[arg(long, value_delimiter = ',', default_values_t = vec![5000usize, 10000])]
        sizes: Vec<usize>,
    },
    /// N idle sockets: memory per socket, idle CPU, time to connect.
    Idle {
        #[arg(long, default_value_t = 10000)]
        sockets: usize,
    },
    /// Clients dropped and reconnected under load must end with the stored
    /// history exactly.
    ReconnectStorm {
        #[arg(long, default_value_t = 50)]
        clients: usize,
        #[arg(long, default_value_t = 500)]
        messages: usize,
        #[arg(long, default_value_t = 100)]
        rate: u32,
    },
    /// Time from exec to accepting connections, fresh and existing database.
    Startup,
    /// Full-text search over one tenant's million messages: query
    /// latency, and the insert rate with and without the index. With
    /// `--database-url` (an admin URL) it runs in a fresh database there.
    Search {
        #[arg(long, default_value_t = 1_000_000)]
        messages: usize,
        #[arg(long, default_value_t = 100_000)]
        sessions: usize,
        #[arg(long, default_value_t = 100)]
        queries: usize,
        #[arg(long, default_value_t = 10)]
        insert_seconds: u64,
    },
    /// Reports over one tenant's hundred thousand conversations of 30
    /// days: the summary's latency through the API (team, one agent,
    /// CSV). With `--database-url` (an admin URL) it runs in a fresh
    /// database there.
    Reports {
        #[arg(long, default_value_t = 100_000)]
        sessions: usize,
        #[arg(long, default_value_t = 20)]
        queries: usize,
    },
    /// The knowledge-base bot on a tenant with many articles: the
    /// customer's ack and the bot's message (answer or hand-off) after a
    /// question, one at a time.
    Bot {
        #[arg(long, default_value_t = 500)]
        articles: usize,
        #[arg(long, default_value_t = 400)]
        questions: usize,
    },
    /// Reads the JSON lines of a run and writes the side-by-side section
    /// (rounds, median ratios ours / peer) and the SVG charts.
    Compare {
        #[arg(long)]
        input: PathBuf,
        /// Where the SVG files go; the Markdown links to them by file name
        /// relative to the Markdown's folder.
        #[arg(long)]
        svg_dir: PathBuf,
    },
}

#[tokio::main]
async fn main() -> Result<()> {
    let cli = Cli::parse();
    let mut report = match cli.scenario {
        Scenario::Startup => startup(&cli.server_bin).await?,
        Scenario::Search {
            messages,
            sessions,
            queries,
            insert_seconds,
        } => {
            search::search(
                &cli.server_bin,
                cli.database_url.as_deref(),
                cli.server_cpu.as_deref(),
                search::Search {
                    messages,
                    sessions,
                    queries,
                    insert_seconds,
                },
            )
            .await?
        }
        Scenario::Reports { sessions, queries } => {
            reports::reports(
                &cli.server_bin,
                cli.database_url.as_deref(),
                cli.server_cpu.as_deref(),
                reports::Reports { sessions, queries },
            )
            .await?
        }
        Scenario::Bot {
            articles,
            questions,
        } => {
            bot::bot(
                &cli.server_bin,
                cli.server_cpu.as_deref(),
                bot::Bot {
                    articles,
                    questions,
                },
            )
            .await?
        }
        Scenario::Compare {
            ref input,
            ref svg_dir,
        } => compare::compare(input, svg_dir)?,
        ref s => match cli.peer {
            Some(kind) => {
                let peer = Peer::start(
                    kind,
                    &cli.peers_dir,
                    &cli.floor_bin,
                    cli.server_cpu.as_deref(),
                )
                .await?;
                broadcast(Arc::new(peer), s).await?
            }
            None if cli.nodes >= 2 => two_nodes(&cli, s).await?,
            None => {
                let server = Server::start(
                    &cli.server_bin,
                    cli.database_url.as_deref(),
                    cli.server_cpu.as_deref(),
                )
                .await?;
                let r = ours(&server, s).await;
                server.stop();
                r?
            }
        },
    };
    if let Some(obj) = report.json.as_object_mut() {
        obj.insert("round".into(), json!(cli.round));
        obj.entry("target").or_insert(json!("ours"));
    }
    // Which database ours ran on, where a scenario can run on several.
    if matches!(
        cli.scenario,
        Scenario::E2e { .. } | Scenario::ReconnectStorm { .. }
    ) {
        let database = match cli.database_url.as_deref() {
            Some(u) if u.starts_with("postgres") => "PostgreSQL",
            Some(u) if u.starts_with("mysql") => "MariaDB",
            _ => "SQLite",
        };
        report.json["database"] = json!(database);
        if let Some((title, rest)) = report.markdown.split_once('\n') {
            report.markdown = format!("{title} ({database})\n{rest}");
        }
    }
    println!("{}", report.markdown);
    // `compare` reads the JSON lines; it does not add to them.
    if let (Some(path), false) = (&cli.json, matches!(cli.scenario, Scenario::Compare { .. })) {
        append(path, &format!("{}\n", report.json))?;
    }
    if let Some(path) = &cli.markdown {
        append(path, &format!("{}\n", report.markdown))?;
    }
    Ok(())
}

/// The scenarios every server runs: one broadcast room.
async fn broadcast(room: Arc<dyn Room>, scenario: &Scenario) -> Result<Report> {
    match *scenario {
        Scenario::Fanout {
            agents,
            rate,
            seconds,
            ramp,
        } => {
            let params = Fanout {
                agents,
                rate,
                duration: Duration::from_secs(seconds),
                ramp,
            };
            scenarios::fanout(room, params).await
        }
        Scenario::Burst { ref sizes } => scenarios::burst(room, sizes).await,
        Scenario::Idle { sockets } => scenarios::idle(room, sockets).await,
        _ => anyhow::bail!("the peers run fanout, burst and idle"),
    }
}

/// Runs a scenario against our server.
async fn ours(server: &Server, scenario: &Scenario) -> Result<Report> {
    match *scenario {
        Scenario::E2e {
            tenants,
            agents,
            widgets,
            rate,
            seconds,
        } => {
            scenarios::e2e(
                server,
                E2e {
                    tenants,
                    agents,
                    widgets,
                    rate,
                    duration: Duration::from_secs(seconds),
                },
            )
            .await
        }
        Scenario::Fanout { .. } | Scenario::Burst { .. } => {
            broadcast(Arc::new(Ours::new(server, 0).await?), scenario).await
        }
        // Half the idle sockets are customers' widgets, each on a session.
        Scenario::Idle { sockets } => {
            broadcast(Arc::new(Ours::new(server, sockets / 2).await?), scenario).await
        }
        Scenario::ReconnectStorm {
            clients,
            messages,
            rate,
        } => scenarios::reconnect_storm(server, clients, messages, rate).await,
        Scenario::Startup
        | Scenario::Compare { .. }
        | Scenario::Search { .. }
        | Scenario::Bot { .. }
        | Scenario::Reports { .. } => {
            anyhow::bail!("not a scenario against a running server")
        }
    }
}

/// e2e or fanout across two nodes: both on the same database and Redis (a
/// prefix of this run's own, deleted after), the first taking the posts,
/// the second holding every socket.
async fn two_nodes(cli: &Cli, scenario: &Scenario) -> Result<Report> {
    let prefix = format!("bench{}", std::process::id());
    let node = |id: &str, demo: bool| {
        vec![
            ("CHAT__REDIS__URL".to_owned(), cli.redis_url.clone()),
            ("CHAT__REDIS__PREFIX".to_owned(), prefix.clone()),
            ("CHAT__NODE__ID".to_owned(), id.to_owned()),
            ("CHAT__DEMO__ENABLED".to_owned(), demo.to_string()),
        ]
    };
    let a = Server::start_with(
        &cli.server_bin,
        cli.database_url.as_deref(),
        cli.server_cpu.as_deref(),
        &node("a", true),
    )
    .await?;
    let b = Server::start_with(
        &cli.server_bin,
        Some(&a.db_url),
        cli.server_cpu.as_deref(),
        &node("b", false),
    )
    .await?;
    // Both bridges up before the load starts.
    let client = reqwest::Client::new();
    for s in [&a, &b] {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let ready: serde_json::Value = client
                .get(format!("{}/readyz", s.url))
                .send()
                .await?
                .json()
                .await?;
            if ready["redis"] == "ok" {
                break;
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "the bridge of {} never came up",
                s.url
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    let result = match *scenario {
        Scenario::E2e {
            tenants,
            agents,
            widgets,
            rate,
            seconds,
        } => {
            scenarios::e2e_split(
                &a,
                &b,
                E2e {
                    tenants,
                    agents,
                    widgets,
                    rate,
                    duration: Duration::from_secs(seconds),
                },
            )
            .await
        }
        Scenario::Fanout { .. } => {
            broadcast(Arc::new(Ours::split(&a, &b, 0).await?), scenario).await
        }
        _ => Err(anyhow::anyhow!("--nodes 2 runs e2e and fanout")),
    };
    a.stop();
    b.stop();
    if let Err(e) = redis_cleanup(&cli.redis_url, &prefix).await {
        eprintln!("could not delete the run's Redis keys ({prefix}:*): {e}");
    }
    let mut report = result?;
    report.json["nodes"] = json!(2);
    if let Some((title, rest)) = report.markdown.split_once('\n') {
        report.markdown = format!("{title}, 2 nodes (posts to one, sockets on the other)\n{rest}");
    }
    Ok(report)
}

/// Deletes the run's Redis keys.
async fn redis_cleanup(url: &str, prefix: &str) -> Result<()> {
    let client = redis::Client::open(url)?;
    let mut conn = client.get_multiplexed_async_connection().await?;
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}:*"))
        .query_async(&mut conn)
        .await?;
    for key in keys {
        let _: i64 = redis::cmd("DEL").arg(key).query_async(&mut conn).await?;
    }
    Ok(())
}

fn append(path: &PathBuf, text: &str) -> Result<()> {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    f.write_all(text.as_bytes())?;
    Ok(())
}

async fn startup(bin: &PathBuf) -> Result<Report> {
    let dir = std::env::temp_dir().join(format!("chat-bench-startup-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let mut rows = Vec::new();
    for (label, runs) in [("fresh database", 1), ("existing database", 3)] {
        for _ in 0..runs {
            let port = server::free_port()?;
            let t0 = Instant::now();
            let mut child = std::process::Command::new(bin)
                .arg("serve")
                .env("CHAT__SERVER__PORT", port.to_string())
                .env(
                    "CHAT__DATABASE__URL",
                    format!("sqlite://{}/chat.db?mode=rwc", dir.display()),
                )
                .env("CHAT__LOG__FILTER", "warn")
                .env("CHAT_CONFIG", "/nonexistent/chat.toml")
                .stdout(std::process::Stdio::null())
                .spawn()?;
            let client = reqwest::Client::new();
            let ready = loop {
                let ok = client
                    .get(format!("http://127.0.0.1:{port}/healthz"))
                    .send()
                    .await;
                if ok.is_ok_and(|r| r.status().is_success()) {
                    break t0.elapsed();
                }
                if t0.elapsed() > Duration::from_secs(30) {
                    anyhow::bail!("server did not start");
                }
                tokio::time::sleep(Duration::from_millis(1)).await;
            };
            let rss = rss_kib(child.id());
            server::terminate(&mut child);
            rows.push(json!({ "database": label, "ready_ms": ready.as_secs_f64() * 1000.0, "rss_kib": rss }));
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    let md: String = rows
        .iter()
        .map(|r| {
            format!(
                "| {} | {:.1} | {:.1} |\n",
                r["database"].as_str().unwrap_or(""),
                r["ready_ms"].as_f64().unwrap_or(0.0),
                r["rss_kib"].as_f64().unwrap_or(0.0) / 1024.0
            )
        })
        .collect();
    Ok(Report {
        json: json!({ "scenario": "startup", "runs": rows }),
        markdown: format!(
            "### startup\n\nFrom exec to answering on the listener that also takes WebSocket upgrades.\n\n| database | ready ms | RSS MiB |\n| --- | --- | --- |\n{md}"
        ),
    })
}
