//! The server under test: spawned with a fresh SQLite database (or a given
//! URL), provisioned through its own admin commands, measured through /proc.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

pub struct Server {
    pub url: String,
    pub ws: String,
    /// The database it runs on (a second node joins the same).
    pub db_url: String,
    child: Child,
    bin: PathBuf,
    env: Vec<(String, String)>,
    dir: PathBuf,
}

pub fn free_port() -> Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?.port())
}

/// `program`, pinned to `cpu` with `taskset` when one is given.
pub fn pinned(program: &Path, cpu: Option<&str>) -> Command {
    match cpu {
        Some(core) => {
            let mut c = Command::new("taskset");
            c.arg("-c").arg(core).arg(program);
            c
        }
        None => Command::new(program),
    }
}

/// Asks a process to stop (SIGTERM, as a service manager would) and reaps it.
pub fn terminate(child: &mut Child) {
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
    let _ = child.wait();
}

impl Server {
    /// Starts `bin serve` and waits until it answers /healthz.
    pub async fn start(bin: &Path, database_url: Option<&str>, cpu: Option<&str>) -> Result<Self> {
        Self::start_with(bin, database_url, cpu, &[]).await
    }

    /// As [`Server::start`], with more settings (a cluster node's); a
    /// setting given here replaces the default of the same name.
    pub async fn start_with(
        bin: &Path,
        database_url: Option<&str>,
        cpu: Option<&str>,
        extra: &[(String, String)],
    ) -> Result<Self> {
        let port = free_port()?;
        let dir = std::env::temp_dir().join(format!("chat-bench-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let db = database_url
            .map(str::to_owned)
            .unwrap_or_else(|| format!("sqlite://{}/chat.db?mode=rwc", dir.display()));
        let db_url = db.clone();
        let mut env = vec![
            // As deployed (deploy/Dockerfile, deploy/parley.service).
            ("MALLOC_ARENA_MAX".to_owned(), "2".to_owned()),
            ("CHAT__SERVER__PORT".to_owned(), port.to_string()),
            ("CHAT__DATABASE__URL".to_owned(), db),
            (
                "CHAT__ATTACHMENTS__DIR".to_owned(),
                dir.join("files").display().to_string(),
            ),
            ("CHAT__DEMO__ENABLED".to_owned(), "true".to_owned()),
            ("CHAT__LOG__FILTER".to_owned(), "warn".to_owned()),
            ("CHAT__METRICS__LISTEN".to_owned(), "127.0.0.1:0".to_owned()),
            (
                "CHAT__WS__MAX_SOCKETS_PER_AGENT".to_owned(),
                "100000".to_owned(),
            ),
            (
                "CHAT__WS__MAX_SOCKETS_PER_SESSION".to_owned(),
                "100000".to_owned(),
            ),
            ("CHAT__WS__OUTBOUND_QUEUE".to_owned(), "4096".to_owned()),
            (
                "CHAT__AUTH__MAX_FAILURES_PER_CLIENT".to_owned(),
                "1000000".to_owned(),
            ),
            // The load is the point: the request limits stay out of the way.
            (
                "CHAT__LIMITS__STARTS_PER_ADDRESS".to_owned(),
                "100000000".to_owned(),
            ),
            (
                "CHAT__LIMITS__STARTS_PER_TENANT".to_owned(),
                "100000000".to_owned(),
            ),
            (
                "CHAT__LIMITS__SENDS_PER_ADDRESS".to_owned(),
                "100000000".to_owned(),
            ),
            (
                "CHAT__LIMITS__SENDS_PER_TENANT".to_owned(),
                "100000000".to_owned(),
            ),
            (
                "CHAT__LIMITS__SENDS_PER_SESSION".to_owned(),
                "100000000".to_owned(),
            ),
            (
                "CHAT__LIMITS__SENDS_PER_AGENT".to_owned(),
                "100000000".to_owned(),
            ),
            (
                "CHAT__LIMITS__READS_PER_ADDRESS".to_owned(),
                "100000000".to_owned(),
            ),
            (
                "CHAT__LIMITS__SEARCHES_PER_AGENT".to_owned(),
                "100000000".to_owned(),
            ),
            (
                "CHAT_CONFIG".to_owned(),
                "/nonexistent/chat.toml".to_owned(),
            ),
        ];
        env.retain(|(k, _)| !extra.iter().any(|(e, _)| e == k));
        env.extend(extra.iter().cloned());
        let demo = !extra
            .iter()
            .any(|(k, v)| k == "CHAT__DEMO__ENABLED" && v == "false");
        let mut cmd = pinned(bin, cpu);
        cmd.arg("serve")
            .envs(env.iter().cloned())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        let child = cmd
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?;
        let server = Self {
            url: format!("http://127.0.0.1:{port}"),
            ws: format!("ws://127.0.0.1:{port}"),
            db_url,
            child,
            bin: bin.to_path_buf(),
            env,
            dir,
        };
        server.wait_ready(Duration::from_secs(30)).await?;
        // Demo data makes the demo tenant's bot answer; benchmarks measure
        // people talking.
        if demo {
            server.admin(&["tenant", "set-bot", "demo-tenant", "off"])?;
        }
        Ok(server)
    }

    pub async fn wait_ready(&self, limit: Duration) -> Result<Duration> {
        let started = Instant::now();
        let client = reqwest::Client::new();
        while started.elapsed() < limit {
            let ok = client.get(format!("{}/healthz", self.url)).send().await;
            if ok.is_ok_and(|r| r.status().is_success()) {
                return Ok(started.elapsed());
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        bail!("server did not become ready within {limit:?}")
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Runs an admin command of the same binary against the same database.
    pub fn admin(&self, args: &[&str]) -> Result<String> {
        let out = Command::new(&self.bin)
            .args(args)
            .envs(self.env.iter().cloned())
            .output()?;
        if !out.status.success() {
            bail!("{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    pub fn stop(mut self) {
        terminate(&mut self.child);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Resident memory of a process, in KiB.
pub fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// User + system CPU time of a process, in microseconds.
pub fn cpu_micros(pid: u32) -> u64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0;
    };
    // Fields after the parenthesised command name; utime and stime are the
    // 12th and 13th of those.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or_default();
    // Indexing the raw fields: the state letter is one of them.
    let field = |i: usize| {
        rest.split_whitespace()
            .nth(i)
            .and_then(|x| x.parse::<u64>().ok())
            .unwrap_or(0)
    };
    let ticks = field(11) + field(12);
    // Linux reports in USER_HZ, which is 100 on every mainstream build.
    ticks * 10_000
}
