//! A real webhook receiver for the tests: `webhook_receiver.py`, which
//! verifies each delivery with the `standardwebhooks` package from PyPI.
//! The interpreter is `CHAT_TEST_PYTHON` (scripts/test.sh points it at a
//! venv that has the package), else `python3`.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

pub struct Receiver {
    child: Child,
    pub url: String,
    client: reqwest::Client,
}

impl Receiver {
    pub async fn start() -> Self {
        let python = std::env::var("CHAT_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
        let script = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/support/webhook_receiver.py"
        );
        let mut child = Command::new(&python)
            .arg(script)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {python} {script}: {e}"));
        let stdout = child.stdout.take().expect("receiver stdout");
        let line = tokio::task::spawn_blocking(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            line
        })
        .await
        .expect("reading the receiver's port");
        let port = line.trim().strip_prefix("PORT ").unwrap_or_else(|| {
            panic!(
                "the webhook receiver did not start (is `standardwebhooks` installed for \
                 {python}? scripts/test.sh sets CHAT_TEST_PYTHON to a venv with it): {line:?}"
            )
        });
        Self {
            url: format!("http://127.0.0.1:{port}"),
            child,
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .expect("client"),
        }
    }

    /// The signing secret to verify with, and how many first attempts of
    /// each delivery to answer with 500.
    pub async fn configure(&self, secret: &str, fail_first: u32) {
        self.control(json!({ "secret": secret, "fail_first": fail_first }))
            .await;
    }

    /// Any of the receiver's settings (`redirect`, `delay` in seconds …).
    pub async fn control(&self, settings: Value) {
        let res = self
            .client
            .post(format!("{}/_control", self.url))
            .json(&settings)
            .send()
            .await
            .expect("configuring the receiver");
        assert_eq!(res.status().as_u16(), 204);
    }

    /// Every attempt the receiver saw, in order.
    pub async fn log(&self) -> Vec<Value> {
        self.client
            .get(format!("{}/_log", self.url))
            .send()
            .await
            .expect("reading the receiver's log")
            .json()
            .await
            .expect("a JSON log")
    }

    /// Polls the log until `done` holds for it (within `patience`).
    pub async fn wait_for(
        &self,
        patience: Duration,
        done: impl Fn(&[Value]) -> bool,
    ) -> Vec<Value> {
        let deadline = tokio::time::Instant::now() + patience;
        loop {
            let log = self.log().await;
            if done(&log) {
                return log;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the receiver never saw what was expected; it saw {log:#?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The verified deliveries that were answered 200.
    pub fn accepted(log: &[Value]) -> Vec<&Value> {
        log.iter()
            .filter(|e| e["verified"] == true && e["answered"] == 200)
            .collect()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
