//! Shared by the test binaries that run the real `chat-api` executable as
//! a process (crash.rs, logs.rs).

use std::process::Command;
use std::time::Duration;

/// How long a test waits for the process to be ready.
pub const PATIENCE: Duration = Duration::from_secs(20);

/// A port nothing listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// `chat-api serve` on `port` and the database `db_url`, with no config
/// file and the metrics on a port of their own; callers add the rest.
pub fn serve(db_url: &str, port: u16) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_chat-api"));
    cmd.arg("serve")
        .env("CHAT_CONFIG", "/nonexistent/chat.toml")
        .env("CHAT__SERVER__PORT", port.to_string())
        .env("CHAT__DATABASE__URL", db_url)
        .env(
            "CHAT__ATTACHMENTS__DIR",
            std::env::temp_dir().join(format!("chat-test-files-{port}")),
        )
        .env("CHAT__METRICS__LISTEN", "127.0.0.1:0");
    cmd
}

/// Waits until `/readyz` answers 200.
pub async fn wait_ready(client: &reqwest::Client, base: &str) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let res = client.get(format!("{base}/readyz")).send().await;
        if res.is_ok_and(|r| r.status().is_success()) {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "server not ready");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
