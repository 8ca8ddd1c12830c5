//! `chat-bench`: drives a chat server exactly as widgets and dashboards do
//! (HTTP + WebSocket) and reports latency, fan-out, connection cost and
//! memory. It starts the server under test itself, on a fresh database.

mod client;
mod scenarios;
mod server;
mod stats;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Result;
use clap::{Parser, Subcommand};
use serde_json::json;

use scenarios::{E2e, Fanout, Report};
use server::{Server, rss_kib};

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
}

#[tokio::main]
async fn main() -> Result<()> {
    let cli = Cli::parse();
    let report = match cli.scenario {
        Scenario::Startup => startup(&cli.server_bin).await?,
        ref s => {
            let server = Server::start(
                &cli.server_bin,
                cli.database_url.as_deref(),
                cli.server_cpu.as_deref(),
            )
            .await?;
            let r = match *s {
                Scenario::E2e {
                    tenants,
                    agents,
                    widgets,
                    rate,
                    seconds,
                } => {
                    scenarios::e2e(
                        &server,
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
                Scenario::Fanout {
                    agents,
                    rate,
                    seconds,
                    ramp,
                } => {
                    scenarios::fanout(
                        &server,
                        Fanout {
                            agents,
                            rate,
                            duration: Duration::from_secs(seconds),
                            ramp,
                        },
                    )
                    .await
                }
                Scenario::Burst { ref sizes } => scenarios::burst(&server, sizes).await,
                Scenario::Idle { sockets } => scenarios::idle(&server, sockets).await,
                Scenario::ReconnectStorm {
                    clients,
                    messages,
                    rate,
                } => scenarios::reconnect_storm(&server, clients, messages, rate).await,
                Scenario::Startup => unreachable_startup(),
            };
            server.stop();
            r?
        }
    };
    println!("{}", report.markdown);
    if let Some(path) = &cli.json {
        append(path, &format!("{}\n", report.json))?;
    }
    if let Some(path) = &cli.markdown {
        append(path, &format!("{}\n", report.markdown))?;
    }
    Ok(())
}

fn unreachable_startup() -> Result<Report> {
    anyhow::bail!("startup is handled before a server is started")
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
            let port = std::net::TcpListener::bind("127.0.0.1:0")?
                .local_addr()?
                .port();
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
            let _ = std::process::Command::new("kill")
                .arg("-TERM")
                .arg(child.id().to_string())
                .status();
            let _ = child.wait();
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
