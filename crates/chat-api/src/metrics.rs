//! Prometheus metrics, on a listener of their own (`CHAT__METRICS__LISTEN`,
//! default `127.0.0.1:9464`) so that a public reverse proxy in front of the
//! API never exposes them by accident. `GET /metrics` there answers in the
//! Prometheus text format.
//!
//! The crates record through the `metrics` facade; this module installs
//! the one process-wide recorder (the first application built installs it,
//! later ones share it) and serves it.

use std::net::{SocketAddr, TcpListener};
use std::sync::Mutex;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::{App, HttpResponse, HttpServer, web};
use anyhow::Context;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Delivery and request latencies, in seconds.
const LATENCY_BUCKETS: &[f64] = &[
    0.000_25, 0.000_5, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];
/// How often histograms are folded and idle series dropped.
const UPKEEP: Duration = Duration::from_secs(5);

static HANDLE: Mutex<Option<PrometheusHandle>> = Mutex::new(None);

/// The process's recorder, installed on first use.
fn handle() -> anyhow::Result<PrometheusHandle> {
    let mut slot = HANDLE.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(h) = slot.as_ref() {
        return Ok(h.clone());
    }
    let recorder = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), LATENCY_BUCKETS)
        .context("metric buckets")?
        .build_recorder();
    let handle = recorder.handle();
    metrics::set_global_recorder(recorder).context("installing the metrics recorder")?;
    metrics::gauge!("chat_build_info", "version" => env!("CARGO_PKG_VERSION")).set(1.0);
    describe();
    *slot = Some(handle.clone());
    Ok(handle)
}

fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram};
    describe_gauge!("chat_ws_connections", "Open WebSocket connections by kind");
    describe_counter!("chat_ws_connects_total", "WebSocket connections accepted");
    describe_counter!(
        "chat_ws_disconnects_total",
        "WebSocket connections ended, by close code"
    );
    describe_counter!("chat_messages_total", "Messages stored, by sender type");
    describe_counter!(
        "chat_events_delivered_total",
        "Event frames queued to sockets, by event"
    );
    describe_histogram!(
        "chat_delivery_seconds",
        "From a message's commit to its write to each socket"
    );
    describe_histogram!(
        "chat_delivery_ack_seconds",
        "From a message's commit to the other side's client acknowledging it (chat.message.delivered), by the side that acknowledged"
    );
    describe_counter!(
        "chat_slow_consumer_disconnects_total",
        "Sockets cut because their client did not read"
    );
    describe_counter!(
        "chat_rate_limited_total",
        "Requests and frames refused by a limit"
    );
    describe_gauge!(
        "chat_cluster_bridge_up",
        "1 while this node's Redis bridge is connected and subscribed"
    );
    describe_counter!(
        "chat_cluster_resyncs_total",
        "Times the bridge came back and every socket was sent chat.resync"
    );
    describe_counter!(
        "chat_webhook_attempts_total",
        "Webhook delivery attempts, by outcome (delivered, retry, failed)"
    );
    describe_counter!(
        "http_requests_total",
        "HTTP requests by route pattern, method, status"
    );
    describe_histogram!(
        "http_request_duration_seconds",
        "HTTP request latency by route"
    );
    describe_gauge!(
        "chat_db_pool_connections",
        "Database connections open in the pool"
    );
    describe_gauge!("chat_db_pool_in_use", "Database connections in use");
    describe_counter!("chat_bot_answers_total", "Bot turns by outcome");
    describe_counter!(
        "chat_emails_total",
        "Outgoing emails by kind and result (sent, retry, failed, dropped)"
    );
    describe_gauge!("chat_build_info", "The running build");
}

/// What `listen` says: off, or an address to bind (port 0 picks one).
pub fn parse_listen(listen: &str) -> anyhow::Result<Option<SocketAddr>> {
    if listen.trim().eq_ignore_ascii_case("off") {
        return Ok(None);
    }
    listen
        .trim()
        .parse()
        .map(Some)
        .with_context(|| format!("CHAT__METRICS__LISTEN: {listen:?} is neither an address nor off"))
}

/// The recorder, and the metrics server when one is asked for: its port
/// and the server to run.
pub fn start(listen: &str) -> anyhow::Result<Option<(u16, Server)>> {
    let handle = handle()?;
    let Some(addr) = parse_listen(listen)? else {
        return Ok(None);
    };
    let listener = TcpListener::bind(addr).with_context(|| format!("binding metrics on {addr}"))?;
    let port = listener.local_addr()?.port();
    let upkeep = handle.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(UPKEEP);
        loop {
            tick.tick().await;
            upkeep.run_upkeep();
        }
    });
    let server = HttpServer::new(move || {
        let handle = handle.clone();
        App::new().route(
            "/metrics",
            web::get().to(move || {
                let body = handle.render();
                async move {
                    HttpResponse::Ok()
                        .content_type("text/plain; version=0.0.4")
                        .body(body)
                }
            }),
        )
    })
    .workers(1)
    .disable_signals()
    .listen(listener)?
    .run();
    tracing::info!(%addr, port, "metrics served");
    Ok(Some((port, server)))
}
