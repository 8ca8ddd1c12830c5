//! No log line of a scripted flow carries a secret: not a session key, an
//! access token, a WebSocket ticket, a password or a message body. The real
//! binary, JSON logs at debug level, everything it prints read back.

#![allow(
    clippy::expect_used,
    reason = "helpers outside #[test] functions fail loudly, naming the call"
)]

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::Duration;

mod common;

use chat_store::testing::{Backend, TestDatabase};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

const PASSWORD: &str = "a long secret passphrase";
const CUSTOMER_SAYS: &str = "my card number is 4111-secret-body";
const AGENT_SAYS: &str = "thanks, that was confidential-reply";

async fn post(client: &reqwest::Client, url: String, token: Option<&str>, body: Value) -> Value {
    let mut req = client.post(url).json(&body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let res = req.send().await.expect("a request");
    assert!(res.status().is_success(), "{}", res.status());
    res.json().await.expect("JSON")
}

#[tokio::test]
async fn no_log_line_of_a_flow_carries_a_secret() {
    let db = TestDatabase::create(Backend::from_env()).await;
    // Provisioned by the operator's commands, not demo mode (whose banner
    // prints its demo password on purpose).
    let admin = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_chat-api"))
            .args(args)
            .env("CHAT_CONFIG", "/nonexistent/chat.toml")
            .env("CHAT__DATABASE__URL", &db.url)
            .output()
            .expect("an admin command");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    };
    admin(&["migrate"]);
    admin(&["tenant", "create", "acme", "--name", "Acme"]);
    let printed = admin(&[
        "agent",
        "create",
        "--tenant",
        "acme",
        "--email",
        "a@acme.test",
        "--name",
        "Alex",
        "--password",
        PASSWORD,
        "--role",
        "admin",
    ]);
    assert!(
        !printed.contains(PASSWORD),
        "agent create printed the password"
    );
    let port = common::free_port();
    let mut server = common::serve(&db.url, port)
        .env("CHAT__LOG__FORMAT", "json")
        .env("CHAT__LOG__FILTER", "debug")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("chat-api serve");
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .expect("a client");
    common::wait_ready(&client, &base).await;

    // The flow: a visitor, an agent by token and by ticket, both sockets.
    let login = post(
        &client,
        format!("{base}/api/v1/auth/login"),
        None,
        json!({ "email": "a@acme.test", "password": PASSWORD }),
    )
    .await;
    let token = login["token"].as_str().expect("a token").to_owned();
    let ticket = post(
        &client,
        format!("{base}/api/v1/ws/ticket"),
        Some(&token),
        json!({}),
    )
    .await["ticket"]
        .as_str()
        .expect("a ticket")
        .to_owned();
    let (mut agent_ws, _) =
        tokio_tungstenite::connect_async(format!("ws://127.0.0.1:{port}/ws?ticket={ticket}"))
            .await
            .expect("the agent's socket");
    let started = post(
        &client,
        format!("{base}/api/v1/public/chat/sessions"),
        None,
        json!({ "tenant_id": "acme", "customer": { "name": "Ada" } }),
    )
    .await;
    let key = started["session_key"].as_str().expect("a key").to_owned();
    let sid = started["session"]["id"].as_str().expect("an id").to_owned();
    let (mut customer_ws, _) =
        tokio_tungstenite::connect_async(format!("ws://127.0.0.1:{port}/ws/public/{key}"))
            .await
            .expect("the customer's socket");
    let send = json!({ "type": "chat.message.send",
        "payload": { "body": CUSTOMER_SAYS, "client_msg_id": "c1" } });
    customer_ws
        .send(Message::Text(send.to_string().into()))
        .await
        .expect("a send");
    post(
        &client,
        format!("{base}/api/v1/chat/sessions/{sid}/messages"),
        Some(&token),
        json!({ "body": AGENT_SAYS }),
    )
    .await;
    // The agent's socket saw both messages: the flow is complete.
    let mut seen = 0;
    while seen < 2 {
        let msg = tokio::time::timeout(common::PATIENCE, agent_ws.next())
            .await
            .expect("a frame in time")
            .expect("an open socket")
            .expect("a frame");
        let v: Value = serde_json::from_str(msg.to_text().unwrap_or("{}")).unwrap_or_default();
        if v["type"] == "chat.message.new" {
            seen += 1;
        }
    }
    // A wrong password and a bad key: failures are logged too.
    let _ = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({ "email": "a@acme.test", "password": "wrong-secret-pw" }))
        .send()
        .await;
    drop((agent_ws, customer_ws));

    // Stop it and read everything it printed.
    let pid = server.id().to_string();
    Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill -TERM");
    let mut out = String::new();
    let mut err = String::new();
    server
        .stdout
        .take()
        .expect("stdout")
        .read_to_string(&mut out)
        .expect("stdout");
    server
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut err)
        .expect("stderr");
    server.wait().expect("the stopped server");
    let logs = format!("{out}{err}");
    assert!(
        logs.contains("\"request_id\""),
        "the logs were read: {logs}"
    );
    for (what, secret) in [
        ("a session key", key.as_str()),
        ("an access token", token.as_str()),
        ("a ticket", ticket.as_str()),
        ("a password", PASSWORD),
        ("a wrong password", "wrong-secret-pw"),
        ("a customer's message", CUSTOMER_SAYS),
        ("an agent's message", AGENT_SAYS),
    ] {
        let line = logs.lines().find(|l| l.contains(secret));
        assert!(line.is_none(), "{what} in the logs: {line:?}");
    }
}
