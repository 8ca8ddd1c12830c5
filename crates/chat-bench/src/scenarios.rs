//! The scenarios. Each returns a JSON report and a Markdown section.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::Mutex;
use tokio_tungstenite::tungstenite::Message;

use crate::client::{Http, Slot, agent_request, customer_request, listen};
use crate::server::{Server, cpu_micros, rss_kib};
use crate::stats::{HEADER, Summary, summarize};
use crate::target::{Conversations, Publish, Room};

pub struct Report {
    pub json: Value,
    pub markdown: String,
}

pub fn progress(label: &str, done: usize, total: usize) {
    let width = 30;
    let filled = (done * width).checked_div(total).unwrap_or(width);
    eprint!(
        "\r[{label}] [{}{}] {done}/{total}   ",
        "#".repeat(filled),
        ".".repeat(width - filled)
    );
    if done >= total {
        eprintln!();
    }
}

/// Tracks sent benchmark messages and their receipts. Each socket writes
/// into its own slot; nothing on the receive path is shared but a counter.
#[derive(Default)]
struct Ledger {
    sent: std::sync::Mutex<HashMap<u64, (Instant, usize)>>,
    slots: std::sync::Mutex<Vec<Slot>>,
    count: Arc<AtomicU64>,
}

impl Ledger {
    fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    fn slot(&self) -> Slot {
        let slot = Slot {
            receipts: Default::default(),
            count: self.count.clone(),
        };
        self.slots
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(slot.clone());
        slot
    }

    fn sent(&self, id: u64, at: Instant, expected: usize) {
        self.sent
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id, (at, expected));
    }

    fn expected(&self) -> u64 {
        self.sent
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .map(|(_, n)| *n as u64)
            .sum()
    }

    /// Forgets everything sent and received (between ramp steps).
    fn clear(&self) {
        self.sent.lock().unwrap_or_else(|p| p.into_inner()).clear();
        for slot in self.slots.lock().unwrap_or_else(|p| p.into_inner()).iter() {
            slot.receipts
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clear();
        }
        self.count.store(0, Ordering::SeqCst);
    }

    /// Waits until every expected receipt arrived, or `grace` ends.
    async fn settle(&self, grace: Duration) {
        let until = Instant::now() + grace;
        let want = self.expected();
        while Instant::now() < until && self.count.load(Ordering::Relaxed) < want {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    fn receipts(&self) -> HashMap<u64, Vec<Instant>> {
        let mut all: HashMap<u64, Vec<Instant>> = HashMap::new();
        for slot in self.slots.lock().unwrap_or_else(|p| p.into_inner()).iter() {
            for (id, at) in slot
                .receipts
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .iter()
            {
                all.entry(*id).or_default().push(*at);
            }
        }
        all
    }

    /// (per-delivery µs, last-recipient µs, messages with a missing receipt)
    fn results(&self) -> (Vec<u64>, Vec<u64>, usize) {
        let receipts = self.receipts();
        let sent = self.sent.lock().unwrap_or_else(|p| p.into_inner());
        let mut each = Vec::new();
        let mut last = Vec::new();
        let mut lost = 0;
        for (id, (t0, expected)) in sent.iter() {
            let got = receipts.get(id).map(Vec::as_slice).unwrap_or(&[]);
            if got.len() < *expected {
                lost += 1;
                continue;
            }
            let lat: Vec<u64> = got
                .iter()
                .map(|t| t.duration_since(*t0).as_micros() as u64)
                .collect();
            last.push(lat.iter().copied().max().unwrap_or(0));
            each.extend(lat);
        }
        (each, last, lost)
    }
}

/// Benchmark message ids, unique across rounds.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// Sends at a fixed open-loop rate for `duration`; returns POST latencies.
async fn send_open_loop(
    target: Arc<dyn Publish>,
    conversations: usize,
    expected: Arc<dyn Fn(usize) -> usize + Send + Sync>,
    ledger: Arc<Ledger>,
    rate: u32,
    duration: Duration,
    label: &str,
) -> Result<Vec<u64>> {
    let total = (u64::from(rate) * duration.as_millis() as u64 / 1000) as usize;
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / f64::from(rate.max(1))));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let post_lat = Arc::new(Mutex::new(Vec::with_capacity(total)));
    let mut tasks = Vec::with_capacity(total);
    for i in 0..total {
        tick.tick().await;
        let (target, ledger, post_lat, expected) = (
            target.clone(),
            ledger.clone(),
            post_lat.clone(),
            expected.clone(),
        );
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        tasks.push(tokio::spawn(async move {
            let k = i % conversations.max(1);
            let t0 = Instant::now();
            ledger.sent(id, t0, expected(k));
            if target.publish(k, id).await.is_ok() {
                post_lat.lock().await.push(t0.elapsed().as_micros() as u64);
            }
        }));
        if i % 200 == 0 {
            progress(label, i, total);
        }
    }
    for t in tasks {
        let _ = t.await;
    }
    progress(label, total, total);
    let lat = post_lat.lock().await.clone();
    Ok(lat)
}

fn table(rows: &[(&str, &Summary)]) -> String {
    let mut s = String::from(HEADER);
    for (name, sum) in rows {
        s.push('\n');
        s.push_str(&sum.row(name));
    }
    s
}

pub struct E2e {
    pub tenants: usize,
    pub agents: usize,
    pub widgets: usize,
    pub rate: u32,
    pub duration: Duration,
}

pub async fn e2e(server: &Server, p: E2e) -> Result<Report> {
    e2e_split(server, server, p).await
}

/// As [`e2e`], with the POSTs to `server` and every socket on `receivers`.
pub async fn e2e_split(server: &Server, receivers: &Server, p: E2e) -> Result<Report> {
    let http = Arc::new(Http::new(&server.url)?);
    let ledger = Ledger::new();
    let mut handles = Vec::new();
    for t in 0..p.tenants {
        let slug = format!("bench-t{t:03}");
        server.admin(&["tenant", "create", &slug, "--name", &slug])?;
        for a in 0..p.agents {
            let email = format!("a{a}@{slug}.test");
            server.admin(&[
                "agent",
                "create",
                "--tenant",
                &slug,
                "--email",
                &email,
                "--name",
                &format!("Agent {a}"),
                "--password",
                "bench-password",
            ])?;
            let token = http.login(&email, "bench-password").await?;
            handles.push(listen(agent_request(&receivers.ws, &token)?, ledger.slot()).await?);
        }
        progress("e2e setup", t + 1, p.tenants);
    }
    let mut keys = Vec::new();
    for w in 0..p.widgets {
        let slug = format!("bench-t{:03}", w % p.tenants);
        let (key, _) = http.start_session(&slug).await?;
        handles.push(listen(customer_request(&receivers.ws, &key)?, ledger.slot()).await?);
        keys.push(key);
    }
    let agents = p.agents;
    let conversations = keys.len();
    // Server CPU over the sending window and the settling after it: per
    // customer message, stored and delivered to every recipient.
    let pids = if std::ptr::eq(server, receivers) {
        vec![server.pid()]
    } else {
        vec![server.pid(), receivers.pid()]
    };
    let cpu_all = |pids: &[u32]| pids.iter().map(|p| cpu_micros(*p)).sum::<u64>();
    let cpu0 = cpu_all(&pids);
    let window = Instant::now();
    let post = send_open_loop(
        Arc::new(Conversations { http, keys }),
        conversations,
        Arc::new(move |_| agents + 1),
        ledger.clone(),
        p.rate,
        p.duration,
        "e2e",
    )
    .await?;
    ledger.settle(Duration::from_secs(5)).await;
    let cpu = cpu_all(&pids).saturating_sub(cpu0);
    // How busy the server was over the same window: its share of one core
    // (it is pinned to one in the benchmark runs).
    let busy = cpu as f64 / window.elapsed().as_micros().max(1) as f64;
    let (_, last, lost) = ledger.results();
    let sent = ledger.sent.lock().unwrap_or_else(|p| p.into_inner()).len();
    let cpu_per_message_us = cpu as f64 / sent.max(1) as f64;
    let (last, post) = (summarize(last), summarize(post));
    for h in handles {
        h.abort();
    }
    let achieved = sent as f64 / p.duration.as_secs_f64();
    Ok(Report {
        json: json!({ "scenario": "e2e", "tenants": p.tenants, "agents_per_tenant": p.agents, "widgets": p.widgets,
            "rate": p.rate, "achieved_rate": achieved, "sent": sent, "lost": lost, "post_to_last_recipient": last, "post": post,
            "server_cpu_us_per_message": cpu_per_message_us, "server_cores_busy": busy }),
        markdown: format!(
            "### e2e\n\n{} tenants × {} agents, {} widgets, {} messages/s offered for {} s; achieved {:.0}/s; {} sent, **{} lost**; **{:.0} µs server CPU per message** (stored and delivered to its {} recipients), the server busy {:.0}% of one core.\n\n{}\n",
            p.tenants,
            p.agents,
            p.widgets,
            p.rate,
            p.duration.as_secs(),
            achieved,
            sent,
            lost,
            cpu_per_message_us,
            p.agents + 1,
            busy * 100.0,
            table(&[("POST → last recipient", &last), ("POST response", &post)])
        ),
    })
}

pub struct Fanout {
    pub agents: usize,
    pub rate: u32,
    pub duration: Duration,
    pub ramp: bool,
}

async fn fanout_round(
    room: &Arc<dyn Room>,
    ledger: Arc<Ledger>,
    n: usize,
    rate: u32,
    duration: Duration,
) -> Result<(Summary, Summary, usize, f64, f64)> {
    let cpu_all = |pids: &[u32]| pids.iter().map(|p| cpu_micros(*p)).sum::<u64>();
    let pids = room.pids();
    let cpu0 = cpu_all(&pids);
    let t0 = Instant::now();
    send_open_loop(
        room.clone(),
        1,
        Arc::new(move |_| n),
        ledger.clone(),
        rate,
        duration,
        "fanout",
    )
    .await?;
    ledger.settle(Duration::from_secs(5)).await;
    let elapsed = t0.elapsed().as_secs_f64();
    let cpu = cpu_all(&pids).saturating_sub(cpu0);
    let (each, last, lost) = ledger.results();
    let deliveries = each.len();
    let per_delivery = if deliveries > 0 {
        cpu as f64 / deliveries as f64
    } else {
        0.0
    };
    Ok((
        summarize(each),
        summarize(last),
        lost,
        deliveries as f64 / elapsed.min(duration.as_secs_f64() + 0.5),
        per_delivery,
    ))
}

pub async fn fanout(room: Arc<dyn Room>, p: Fanout) -> Result<Report> {
    let ledger = Ledger::new();
    let mut handles = Vec::new();
    for i in 0..p.agents {
        handles.push(room.subscribe(i, ledger.slot()).await?);
        if i % 100 == 0 {
            progress("fanout connect", i, p.agents);
        }
    }
    progress("fanout connect", p.agents, p.agents);
    let (each, last, lost, dps, cpu) =
        fanout_round(&room, ledger.clone(), p.agents, p.rate, p.duration).await?;
    let mut ramp = Vec::new();
    if p.ramp {
        // From well below the steady rate upwards, ×1.25 a step, until p99
        // passes 50 ms: the highest rate that held is the capacity.
        let mut rate = (p.rate / 4).max(5);
        loop {
            // Same sockets, a clean ledger; ids of earlier rounds are not
            // reused, so a late receipt cannot be miscounted.
            ledger.clear();
            let (e, _, l, d, c) = fanout_round(
                &room,
                ledger.clone(),
                p.agents,
                rate,
                Duration::from_secs(4),
            )
            .await?;
            ramp.push(json!({ "rate": rate, "deliveries_per_s": d, "p99_ms": e.p99_ms, "lost": l, "cpu_us_per_delivery": c }));
            if e.p99_ms > 50.0 || l > 0 || rate > 3200 {
                break;
            }
            rate = (rate * 5 / 4).max(rate + 1);
        }
    }
    for h in handles {
        h.abort();
    }
    let best = ramp
        .iter()
        .filter(|r| r["p99_ms"].as_f64().unwrap_or(f64::MAX) <= 50.0 && r["lost"] == 0)
        .filter_map(|r| r["deliveries_per_s"].as_f64())
        .fold(if each.p99_ms <= 50.0 { dps } else { 0.0 }, f64::max);
    let ramp_md: String = ramp
        .iter()
        .map(|r| {
            format!(
                "| {} | {:.0} | {:.2} | {} | {:.1} |\n",
                r["rate"],
                r["deliveries_per_s"].as_f64().unwrap_or(0.0),
                r["p99_ms"].as_f64().unwrap_or(0.0),
                r["lost"],
                r["cpu_us_per_delivery"].as_f64().unwrap_or(0.0)
            )
        })
        .collect();
    Ok(Report {
        json: json!({ "scenario": "fanout", "target": room.name(), "agents": p.agents, "rate": p.rate, "per_delivery": each, "last_subscriber": last,
            "lost": lost, "deliveries_per_s": dps, "cpu_us_per_delivery": cpu, "ramp": ramp, "max_deliveries_per_s_p99_under_50ms": best }),
        markdown: format!(
            "### fanout ({})\n\n{} subscriber sockets, {} messages/s for {} s: {:.0} deliveries/s, **{:.1} µs server CPU per delivery**, {} lost.\n\n{}\n\n{}Highest deliveries/s with p99 ≤ 50 ms: **{:.0}**.\n",
            room.name(),
            p.agents,
            p.rate,
            p.duration.as_secs(),
            dps,
            cpu,
            lost,
            table(&[("per delivery", &each), ("last subscriber", &last)]),
            if ramp.is_empty() {
                String::new()
            } else {
                format!(
                    "Ramp:\n\n| rate | deliveries/s | p99 ms | lost | CPU µs/delivery |\n| --- | --- | --- | --- | --- |\n{ramp_md}\n"
                )
            },
            best
        ),
    })
}

pub async fn burst(room: Arc<dyn Room>, sizes: &[usize]) -> Result<Report> {
    let mut rows = Vec::new();
    let mut md = format!(
        "### burst ({})\n\nOne message to every connected subscriber socket.\n\n| sockets | time to last delivery ms | lost |\n| --- | --- | --- |\n",
        room.name()
    );
    let mut next_id = 1_000_000u64;
    for &n in sizes {
        let ledger = Ledger::new();
        let mut handles = Vec::new();
        for i in 0..n {
            handles.push(room.subscribe(i, ledger.slot()).await?);
            if i % 500 == 0 {
                progress("burst connect", i, n);
            }
        }
        progress("burst connect", n, n);
        let mut times = Vec::new();
        let mut lost = 0;
        for _ in 0..3 {
            next_id += 1;
            let t0 = Instant::now();
            ledger.sent(next_id, t0, n);
            room.publish(0, next_id).await?;
            ledger.settle(Duration::from_secs(10)).await;
            let receipts = ledger.receipts();
            let got = receipts.get(&next_id).map(Vec::as_slice).unwrap_or(&[]);
            if got.len() < n {
                lost += n - got.len();
            }
            times.push(
                got.iter()
                    .map(|t| t.duration_since(t0))
                    .max()
                    .unwrap_or_default()
                    .as_secs_f64()
                    * 1000.0,
            );
        }
        times.sort_by(f64::total_cmp);
        let median = times[times.len() / 2];
        md.push_str(&format!(
            "| {n} | {median:.1} (median of 3: {:.1} / {:.1} / {:.1}) | {lost} |\n",
            times[0], times[1], times[2]
        ));
        rows.push(
            json!({ "sockets": n, "last_delivery_ms": times, "median_ms": median, "lost": lost }),
        );
        for h in handles {
            h.abort();
        }
    }
    Ok(Report {
        json: json!({ "scenario": "burst", "target": room.name(), "runs": rows }),
        markdown: md,
    })
}

/// Handshakes the idle scenario keeps in flight.
const IDLE_CONNECTING: usize = 64;

/// `n` idle subscriber sockets (for our server, half customers' widgets
/// and half agents' dashboards, with the production heartbeat).
pub async fn idle(room: Arc<dyn Room>, n: usize) -> Result<Report> {
    // Let the allocator settle after any set-up traffic, then measure.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let pid = room.pid();
    let rss0 = rss_kib(pid);
    let ledger = Ledger::new();
    let t0 = Instant::now();
    let mut handles = Vec::with_capacity(n);
    let step = (n / 10).max(1);
    let mut curve = vec![json!({ "sockets": 0, "rss_kib": rss0 })];
    // Clients arrive together, as after a deploy or a network blip: a few
    // dozen handshakes in flight, so that the server's own pace is measured
    // rather than one client's round trips.
    let mut connecting = futures_util::stream::iter(0..n)
        .map(|i| room.subscribe(i, ledger.slot()))
        .buffer_unordered(IDLE_CONNECTING);
    while let Some(handle) = connecting.next().await {
        handles.push(handle?);
        if handles.len() % step == 0 {
            curve.push(json!({ "sockets": handles.len(), "rss_kib": rss_kib(pid) }));
            progress("idle connect", handles.len(), n);
        }
    }
    drop(connecting);
    progress("idle connect", n, n);
    let connect_s = t0.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss1 = rss_kib(pid);
    let cpu0 = cpu_micros(pid);
    // Longer than the heartbeat interval (20 s), so every socket of ours is
    // pinged and answers within the window.
    let window = Duration::from_secs(25);
    tokio::time::sleep(window).await;
    let idle_cores = cpu_micros(pid).saturating_sub(cpu0) as f64 / window.as_micros() as f64;
    let per_socket_kib = rss1.saturating_sub(rss0) as f64 / n.max(1) as f64;
    for h in handles {
        h.abort();
    }
    Ok(Report {
        json: json!({ "scenario": "idle", "target": room.name(), "sockets": n, "rss_before_kib": rss0, "rss_after_kib": rss1,
            "rss_per_socket_kib": per_socket_kib, "idle_cpu_cores": idle_cores, "connect_all_s": connect_s, "rss_curve": curve }),
        markdown: format!(
            "### idle ({})\n\n{n} idle sockets{}: RSS {rss0} → {rss1} KiB, **{per_socket_kib:.1} KiB per socket**; idle CPU {idle_cores:.3} cores over {} s; connecting them all took {connect_s:.2} s.\n",
            room.name(),
            if room.name() == "ours" {
                " (half customers, half agents)"
            } else {
                ""
            },
            window.as_secs()
        ),
    })
}

pub async fn reconnect_storm(
    server: &Server,
    clients: usize,
    messages: usize,
    rate: u32,
) -> Result<Report> {
    let http = Arc::new(Http::new(&server.url)?);
    let (key, _) = http.start_session("demo-tenant").await?;
    let finished = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut tasks = Vec::new();
    for c in 0..clients {
        let (ws_base, key, finished) = (server.ws.clone(), key.clone(), finished.clone());
        tasks.push(tokio::spawn(async move {
            let mut seen = BTreeSet::new();
            // A duplicate is a message delivered twice on one connection;
            // a replay is one a client had from an earlier connection and
            // asked for again by resuming from its last gap-free `seq`.
            let (mut dups, mut replays) = (0usize, 0usize);
            let mut cycles = 0usize;
            let mut rng = 0x9E37_79B9_7F4A_7C15u64 ^ (c as u64 + 1);
            loop {
                let last_round = finished.load(std::sync::atomic::Ordering::SeqCst);
                let Ok(req) = customer_request(&ws_base, &key) else {
                    break;
                };
                let Ok((ws, _)) = crate::client::connect(req).await else {
                    continue;
                };
                let (mut tx, mut rx) = ws.split();
                let contiguous = seen
                    .iter()
                    .enumerate()
                    .take_while(|(i, s)| **s == *i as i64 + 1)
                    .count() as i64;
                let _ = tx
                    .send(Message::Text(
                        json!({ "type": "chat.resume", "payload": { "after_seq": contiguous } })
                            .to_string()
                            .into(),
                    ))
                    .await;
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                let budget = if last_round {
                    usize::MAX
                } else {
                    (rng % 8) as usize
                };
                let mut read = 0;
                let mut on_this = BTreeSet::new();
                while read < budget {
                    let Ok(Some(Ok(Message::Text(t)))) =
                        tokio::time::timeout(Duration::from_secs(5), rx.next()).await
                    else {
                        break;
                    };
                    let v: Value = serde_json::from_str(t.as_str()).unwrap_or_default();
                    match v["type"].as_str() {
                        Some("chat.message.new") => {
                            let seq = v["payload"]["seq"].as_i64().unwrap_or(0);
                            if !on_this.insert(seq) {
                                dups += 1;
                            } else if !seen.insert(seq) {
                                replays += 1;
                            }
                        }
                        Some("chat.resume.done") if last_round => {
                            return (seen, dups, replays, cycles);
                        }
                        _ => {}
                    }
                    read += 1;
                }
                cycles += 1;
            }
            (seen, dups, replays, cycles)
        }));
    }
    let ledger = Ledger::new();
    let secs = messages as f64 / f64::from(rate.max(1));
    send_open_loop(
        Arc::new(Conversations {
            http: http.clone(),
            keys: vec![key.clone()],
        }),
        1,
        Arc::new(|_| 0),
        ledger,
        rate,
        Duration::from_secs_f64(secs),
        "storm",
    )
    .await?;
    finished.store(true, std::sync::atomic::Ordering::SeqCst);
    let stored: BTreeSet<i64> = http.stored_seqs(&key).await?.into_iter().collect();
    let (mut missing, mut extra, mut dup_total, mut replay_total, mut cycles) = (0, 0, 0, 0, 0);
    for t in tasks {
        let (seen, dups, replays, c) = t.await?;
        missing += stored.difference(&seen).count();
        extra += seen.difference(&stored).count();
        dup_total += dups;
        replay_total += replays;
        cycles += c;
    }
    if stored.len() != messages {
        bail!("{} stored, {messages} sent", stored.len());
    }
    Ok(Report {
        json: json!({ "scenario": "reconnect-storm", "clients": clients, "messages": messages, "reconnect_cycles": cycles,
            "missing": missing, "not_stored": extra, "duplicated": dup_total, "replays": replay_total }),
        markdown: format!(
            "### reconnect-storm\n\n{clients} clients dropped and reconnected {cycles} times in all while {messages} messages were sent at {rate}/s: every client ended with the stored history, **{missing} missing, {dup_total} duplicated** (a message twice on one connection), {extra} not in the store; {replay_total} frames were replays a client asked for by resuming from its last gap-free `seq`.\n"
        ),
    })
}
