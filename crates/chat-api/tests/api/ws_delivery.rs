//! Nothing is lost: reconnects with resume end with exactly the stored
//! history, a socket that is never cut gets every message once, and a
//! client that stops reading is cut loose without slowing anyone else.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::{
    PATIENCE, TestAgent, TestApp, WsClient, ok, spawn_app_with, without_request_limits,
};

/// A small deterministic generator; the seed is printed so a failure can be
/// replayed.
struct XorShift(u64);

impl XorShift {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// The highest seq up to which nothing is missing: where a client resumes.
/// (Live delivery may interleave concurrent messages, so the highest seq
/// seen is not a safe resume point.)
fn contiguous(seen: &BTreeSet<i64>) -> i64 {
    let mut last = 0;
    for seq in seen {
        if *seq != last + 1 {
            break;
        }
        last = *seq;
    }
    last
}

/// What one reconnecting client saw.
#[derive(Default)]
struct Tally {
    /// Distinct seqs, after de-duplication.
    seen: BTreeSet<i64>,
    /// Frames whose seq was already seen (across reconnects).
    raw_duplicates: usize,
    /// Frames repeated within a single connection: must be 0.
    duplicates_within_a_connection: usize,
    cycles: usize,
}

enum Side {
    Customer(String),
    Agent(TestAgent, String),
}

async fn connect(app: &TestApp, side: &Side) -> WsClient {
    match side {
        Side::Customer(key) => app.customer_ws(key).await,
        Side::Agent(agent, _) => app.agent_ws(agent).await,
    }
}

fn resume_frame(side: &Side, after_seq: i64) -> Value {
    match side {
        Side::Customer(_) => json!({ "after_seq": after_seq }),
        Side::Agent(_, sid) => json!({ "session_id": sid, "after_seq": after_seq }),
    }
}

/// Connects, resumes from the last seq it has, reads a random number of
/// frames, and drops the socket; again and again until `done` and at least
/// `min_cycles`, then a last resume that must bring it up to `total`.
async fn reconnect_loop(
    app: &TestApp,
    side: Side,
    seed: u64,
    min_cycles: usize,
    total: i64,
    senders: &tokio::sync::watch::Receiver<bool>,
) -> Tally {
    let mut rng = XorShift(seed);
    let mut t = Tally::default();
    loop {
        let finished = *senders.borrow();
        let mut ws = connect(app, &side).await;
        let after = contiguous(&t.seen);
        ws.send("chat.resume", resume_frame(&side, after)).await;
        let mut this_conn = BTreeSet::new();
        let budget = if finished && t.cycles >= min_cycles {
            u64::MAX
        } else {
            rng.below(6)
        };
        let mut read = 0;
        let mut senders_done = senders.clone();
        while read < budget {
            // Once the senders stop, no more live frames come: cut here.
            let f = tokio::select! {
                f = ws.next_event() => f,
                _ = senders_done.wait_for(|d| *d), if budget != u64::MAX => break,
            };
            match f["type"].as_str() {
                Some("chat.message.new") => {
                    let seq = f["payload"]["seq"].as_i64().unwrap_or_default();
                    if !this_conn.insert(seq) {
                        t.duplicates_within_a_connection += 1;
                    }
                    if !t.seen.insert(seq) {
                        t.raw_duplicates += 1;
                    }
                }
                // The senders are done: the replay must have filled every
                // gap, or a message was lost.
                Some("chat.resume.done") if budget == u64::MAX => {
                    assert_eq!(contiguous(&t.seen), total, "resume left a gap");
                    return t;
                }
                _ => {}
            }
            read += 1;
        }
        drop(ws);
        t.cycles += 1;
    }
}

#[tokio::test]
async fn reconnecting_clients_end_with_exactly_the_stored_history() {
    let app = spawn_app_with(without_request_limits).await;
    app.create_tenant("acme", &[]).await;
    let agent = app.create_agent("acme", "a@acme.test", "Alex").await;
    let watcher = app.create_agent("acme", "w@acme.test", "Wes").await;
    let (key, sid) = app.start_session("acme", "Ada").await;
    let mut steady_customer = app.customer_ws(&key).await;
    let mut steady_agent = app.agent_ws(&watcher).await;

    const SENDERS: usize = 10;
    const PER_SENDER: usize = 30;
    let total = i64::try_from(SENDERS * PER_SENDER).unwrap_or_default();
    let (done_tx, done_rx) = tokio::sync::watch::channel(false);
    let mut senders = Vec::new();
    for s in 0..SENDERS {
        let (client, address, key, sid, token) = (
            app.client.clone(),
            app.address.clone(),
            key.clone(),
            sid.clone(),
            agent.token.clone(),
        );
        senders.push(tokio::spawn(async move {
            for i in 0..PER_SENDER {
                let body =
                    json!({ "body": format!("s{s}-{i}"), "client_msg_id": format!("s{s}-{i}") });
                let req = if s % 2 == 0 {
                    client.post(format!(
                        "{address}/api/v1/public/chat/sessions/{key}/messages"
                    ))
                } else {
                    client
                        .post(format!("{address}/api/v1/chat/sessions/{sid}/messages"))
                        .bearer_auth(&token)
                };
                let status = ok(req.json(&body).send().await).status().as_u16();
                assert_eq!(status, 201);
            }
        }));
    }
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.subsec_nanos());
    let seed = u64::from(nanos).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    println!("reconnect seed {seed:#x}");
    let customer = reconnect_loop(
        &app,
        Side::Customer(key.clone()),
        seed,
        100,
        total,
        &done_rx,
    );
    let agent_side = reconnect_loop(
        &app,
        Side::Agent(agent.clone(), sid.clone()),
        seed.rotate_left(17),
        100,
        total,
        &done_rx,
    );
    let finish = async {
        for s in senders {
            ok(s.await);
        }
        let _ = done_tx.send(true);
    };
    let (customer, agent_tally, ()) = tokio::join!(customer, agent_side, finish);

    let expected: BTreeSet<i64> = (1..=total).collect();
    for (who, t) in [("customer", &customer), ("agent", &agent_tally)] {
        println!(
            "{who}: {} cycles, {} raw duplicates across reconnects",
            t.cycles, t.raw_duplicates
        );
        assert_eq!(t.seen, expected, "{who} is missing messages");
        assert_eq!(
            t.duplicates_within_a_connection, 0,
            "{who} got a repeat within one connection"
        );
    }
    assert!(
        customer.cycles + agent_tally.cycles >= 200,
        "only {} cycles",
        customer.cycles + agent_tally.cycles
    );
    let stored: Vec<i64> = app
        .customer_messages(&key, 0)
        .await
        .iter()
        .filter_map(|m| m["seq"].as_i64())
        .collect();
    assert_eq!(
        stored,
        (1..=total.min(200)).collect::<Vec<_>>(),
        "the first page of the stored history"
    );

    // The sockets that were never cut got every message exactly once.
    for ws in [&mut steady_customer, &mut steady_agent] {
        let mut got = Vec::new();
        while got.len() < expected.len() {
            let f = ws.next_event().await;
            if f["type"] == "chat.message.new" {
                got.push(f["payload"]["seq"].as_i64().unwrap_or_default());
            }
        }
        got.sort_unstable();
        assert_eq!(got, expected.iter().copied().collect::<Vec<_>>());
    }
}

#[tokio::test]
async fn a_client_that_stops_reading_is_disconnected_and_others_keep_receiving() {
    let app = spawn_app_with(|s| {
        without_request_limits(s);
        s.ws.outbound_queue = 8;
    })
    .await;
    app.create_tenant("acme", &[]).await;
    let agent = app.create_agent("acme", "a@acme.test", "Alex").await;
    let (key, sid) = app.start_session("acme", "Ada").await;
    let mut stalled = app.customer_ws(&key).await;
    let healthy = app.customer_ws(&key).await;
    let (count_tx, count_rx) = tokio::sync::watch::channel(0usize);
    let reader = tokio::spawn(async move {
        let mut healthy = healthy;
        let mut seqs = Vec::new();
        loop {
            match healthy.stream.next().await {
                Some(Ok(Message::Text(t))) => {
                    let v: Value = ok(serde_json::from_str(t.as_str()));
                    if v["type"] == "chat.message.new" {
                        seqs.push(v["payload"]["seq"].as_i64().unwrap_or_default());
                        let _ = count_tx.send(seqs.len());
                    }
                }
                Some(Ok(_)) => {}
                _ => return seqs,
            }
        }
    });

    // Large frames fill the socket buffers quickly; keep sending until the
    // hub has dropped the stalled connection (one connection left).
    let big = "😀".repeat(4000);
    let mut sent = 0usize;
    let started = Instant::now();
    loop {
        let ready: Value = ok(app.get("/readyz").await.json().await);
        if ready["connections"] == 1 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "stalled client never disconnected after {sent}"
        );
        let batch = (0..20).map(|_| app.agent_message(&agent, &sid, &big));
        futures_util::future::join_all(batch).await;
        sent += 20;
    }
    // The healthy tab keeps receiving everything, including what follows.
    app.agent_message(&agent, &sid, "after the cut").await;
    sent += 1;
    let mut count_rx = count_rx;
    let _ = ok(tokio::time::timeout(PATIENCE * 3, count_rx.wait_for(|n| *n >= sent)).await);
    let closed = stalled.closed().await;
    assert_eq!(closed.code, Some(4008), "{closed:?}");
    assert!(closed.reason.contains("slow consumer"));
    // Stopping the server closes the healthy socket, which ends the reader.
    app.stopper.stop().await;
    let seqs = ok(reader.await);
    let expected: Vec<i64> = (1..=i64::try_from(sent).unwrap_or_default()).collect();
    let mut got = seqs.clone();
    got.sort_unstable();
    assert_eq!(got, expected);
    println!(
        "stalled client cut after {sent} messages of {} bytes",
        big.len()
    );
}
