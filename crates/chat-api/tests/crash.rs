//! `kill -9` of the real server binary under send load, then a restart on
//! the same database: every message that was acknowledged is there, and
//! every session's `seq` is gapless. Runs on each test database (SQLite by
//! default, MariaDB and PostgreSQL per `CHAT_TEST_DATABASE`).

#![allow(
    clippy::expect_used,
    reason = "helpers outside #[test] functions fail loudly, naming the call"
)]

use std::collections::HashMap;
use std::process::{Child, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

mod common;

use chat_service::Repositories;
use chat_store::testing::{Backend, TestDatabase};
use chat_store::{SeaOrmStore, StoreSettings};
use serde_json::{Value, json};
use tokio::sync::Mutex;

const SENDERS: usize = 6;
/// Acknowledged messages to wait for before the kill.
const ACKED_BEFORE_KILL: usize = 300;

fn start(db_url: &str, port: u16) -> Child {
    common::serve(db_url, port)
        .env("CHAT__LOG__FILTER", "warn")
        .env("CHAT__LIMITS__SENDS_PER_SESSION", "100000000")
        .env("CHAT__LIMITS__SENDS_PER_ADDRESS", "100000000")
        .env("CHAT__LIMITS__SENDS_PER_TENANT", "100000000")
        .env("CHAT__LIMITS__STARTS_PER_ADDRESS", "100000000")
        .env("CHAT__LIMITS__READS_PER_ADDRESS", "100000000")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chat-api serve")
}

#[tokio::test]
async fn a_killed_server_loses_no_acknowledged_message() {
    let db = TestDatabase::create(Backend::from_env()).await;
    {
        let store = SeaOrmStore::connect(&StoreSettings::new(db.url.clone()))
            .await
            .expect("SeaOrmStore::connect");
        store.migrate().await.expect("migrate");
        let repos = Repositories::from_store(Arc::new(store));
        chat_api::admin::create_tenant(&repos, "acme", "Acme", &[])
            .await
            .expect("create_tenant");
    }
    let port = common::free_port();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .expect("a client");
    let mut server = start(&db.url, port);
    common::wait_ready(&client, &base).await;

    let mut keys = Vec::new();
    for i in 0..SENDERS {
        let res = client
            .post(format!("{base}/api/v1/public/chat/sessions"))
            .json(&json!({ "tenant_id": "acme", "customer": { "name": format!("C{i}") } }))
            .send()
            .await
            .expect("start a session");
        let v: Value = res.json().await.expect("a session");
        keys.push(v["session_key"].as_str().expect("a key").to_owned());
    }
    // Acknowledged client ids per session key.
    let acked: Arc<Mutex<HashMap<String, Vec<String>>>> = Arc::default();
    let count = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let killed = Arc::new(AtomicBool::new(false));
    let mut senders = Vec::new();
    for key in keys.clone() {
        let (client, base, acked, count, killed) = (
            client.clone(),
            base.clone(),
            acked.clone(),
            count.clone(),
            killed.clone(),
        );
        senders.push(tokio::spawn(async move {
            for n in 0..10_000 {
                if killed.load(Ordering::SeqCst) {
                    break;
                }
                let cid = format!("m{n}");
                let res = client
                    .post(format!("{base}/api/v1/public/chat/sessions/{key}/messages"))
                    .json(&json!({ "body": format!("message {n}"), "client_msg_id": cid }))
                    .send()
                    .await;
                match res {
                    Ok(r) if r.status().is_success() => {
                        acked.lock().await.entry(key.clone()).or_default().push(cid);
                        count.fetch_add(1, Ordering::SeqCst);
                    }
                    // Refused or cut by the kill: not acknowledged, not counted.
                    _ => break,
                }
            }
        }));
    }
    let deadline = tokio::time::Instant::now() + common::PATIENCE;
    while count.load(Ordering::SeqCst) < ACKED_BEFORE_KILL {
        assert!(
            tokio::time::Instant::now() < deadline,
            "too few messages acknowledged"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    server.kill().expect("kill -9");
    server.wait().expect("the killed server");
    killed.store(true, Ordering::SeqCst);
    for s in senders {
        s.await.expect("a sender");
    }

    let mut server = start(&db.url, port);
    common::wait_ready(&client, &base).await;
    let acked = acked.lock().await.clone();
    let mut total = 0;
    for key in &keys {
        let mut stored: Vec<Value> = Vec::new();
        loop {
            let after = stored.last().and_then(|m| m["seq"].as_i64()).unwrap_or(0);
            let v: Value = client
                .get(format!(
                    "{base}/api/v1/public/chat/sessions/{key}/messages?after_seq={after}"
                ))
                .send()
                .await
                .expect("messages")
                .json()
                .await
                .expect("a message list");
            let page = v["messages"].as_array().cloned().unwrap_or_default();
            if page.is_empty() {
                break;
            }
            stored.extend(page);
        }
        let seqs: Vec<i64> = stored.iter().filter_map(|m| m["seq"].as_i64()).collect();
        let gapless: Vec<i64> = (1..=i64::try_from(seqs.len()).expect("a count")).collect();
        assert_eq!(seqs, gapless, "seq has a gap after the restart");
        let ids: std::collections::HashSet<&str> = stored
            .iter()
            .filter_map(|m| m["client_msg_id"].as_str())
            .collect();
        for cid in acked.get(key).into_iter().flatten() {
            assert!(ids.contains(cid.as_str()), "acknowledged {cid} is gone");
            total += 1;
        }
    }
    assert!(total >= ACKED_BEFORE_KILL);
    println!("{total} acknowledged messages, all present after kill -9 and restart");
    server.kill().expect("stop the server");
    let _ = server.wait();
}
