//! Webhook deliveries are durable: written with their change, they survive
//! `kill -9` of the server before their first attempt and between retries,
//! and arrive after a restart with the same `webhook-id`. Against the real
//! binary and a receiver that verifies with the `standardwebhooks` package.

#![allow(
    clippy::expect_used,
    reason = "helpers outside #[test] functions fail loudly, naming the call"
)]

use std::collections::BTreeSet;
use std::process::{Child, Stdio};
use std::sync::Arc;
use std::time::Duration;

mod common;
#[path = "support/receiver.rs"]
mod receiver;

use chat_domain::{NewWebhookEndpoint, WebhookUrl};
use chat_service::Repositories;
use chat_store::testing::{Backend, TestDatabase};
use chat_store::{SeaOrmStore, StoreSettings};
use receiver::Receiver;
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(30);

fn start(db_url: &str, port: u16, sender: bool) -> Child {
    common::serve(db_url, port)
        .env("CHAT__LOG__FILTER", "warn")
        .env("CHAT__WEBHOOKS__ALLOW_PRIVATE", "true")
        .env("CHAT__WEBHOOKS__SENDER", sender.to_string())
        .env("CHAT__WEBHOOKS__FIRST_RETRY_MS", "100")
        .env("CHAT__WEBHOOKS__POLL_INTERVAL_MS", "50")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chat-api serve")
}

fn kill(mut server: Child) {
    server.kill().expect("SIGKILL");
    server.wait().expect("reaped");
}

async fn start_sessions(client: &reqwest::Client, base: &str, n: usize) -> Vec<String> {
    let mut ids = Vec::new();
    for i in 0..n {
        let res = client
            .post(format!("{base}/api/v1/public/chat/sessions"))
            .json(&json!({ "tenant_id": "acme", "customer": { "name": format!("C{i}") } }))
            .send()
            .await
            .expect("start a session");
        assert_eq!(res.status().as_u16(), 201);
        let v: Value = res.json().await.expect("a session");
        ids.push(v["session"]["id"].as_str().expect("an id").to_owned());
    }
    ids
}

#[tokio::test]
async fn deliveries_survive_kill_9_before_and_between_attempts() {
    let receiver = Receiver::start().await;
    let db = TestDatabase::create(Backend::from_env()).await;
    let secret = chat_service::new_webhook_secret();
    {
        let store = SeaOrmStore::connect(&StoreSettings::new(db.url.clone()))
            .await
            .expect("SeaOrmStore::connect");
        store.migrate().await.expect("migrate");
        let repos = Repositories::from_store(Arc::new(store));
        let tenant = chat_api::admin::create_tenant(&repos, "acme", "Acme", &[])
            .await
            .expect("create_tenant");
        repos
            .webhooks
            .create(
                &tenant.id,
                NewWebhookEndpoint {
                    url: WebhookUrl::parse(&format!("{}/hook", receiver.url)).expect("url"),
                    events: vec!["chat.session.started".into()],
                    active: true,
                    secret: secret.clone(),
                },
            )
            .await
            .expect("an endpoint");
    }
    // Every attempt fails until the last phase.
    receiver.configure(&secret, 1_000_000).await;
    let port = common::free_port();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .expect("a client");

    // 1. No sender: the deliveries are only in the outbox when it dies.
    let server = start(&db.url, port, false);
    common::wait_ready(&client, &base).await;
    let mut sessions = start_sessions(&client, &base, 3).await;
    kill(server);
    assert!(receiver.log().await.is_empty());

    // 2. A sender that keeps failing; killed between retries.
    let server = start(&db.url, port, true);
    common::wait_ready(&client, &base).await;
    sessions.extend(start_sessions(&client, &base, 2).await);
    let log = receiver
        .wait_for(WAIT, |log| {
            log.iter()
                .filter_map(|e| e["id"].as_str())
                .collect::<BTreeSet<_>>()
                .len()
                == 5
        })
        .await;
    kill(server);
    let ids_before: BTreeSet<String> = log
        .iter()
        .filter_map(|e| e["id"].as_str().map(str::to_owned))
        .collect();
    assert!(Receiver::accepted(&log).is_empty());

    // 3. The receiver recovers; after a restart everything arrives.
    receiver.configure(&secret, 0).await;
    let server = start(&db.url, port, true);
    common::wait_ready(&client, &base).await;
    let log = receiver
        .wait_for(WAIT, |log| {
            Receiver::accepted(log)
                .iter()
                .filter_map(|e| e["id"].as_str())
                .collect::<BTreeSet<_>>()
                .len()
                == 5
        })
        .await;
    kill(server);
    let accepted = Receiver::accepted(&log);
    let ids_after: BTreeSet<String> = accepted
        .iter()
        .filter_map(|e| e["id"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(ids_after, ids_before, "the same webhook-id across restarts");
    let delivered: BTreeSet<&str> = accepted
        .iter()
        .filter_map(|e| e["payload"]["data"]["id"].as_str())
        .collect();
    let started: BTreeSet<&str> = sessions.iter().map(String::as_str).collect();
    assert_eq!(delivered, started, "every session's start arrived");
}
