//! The database goes away and comes back, behind a TCP proxy this test
//! controls (the shared database server itself is never touched): the
//! server answers 503 fast while it is away, says so on `/readyz`, and
//! recovers by itself when it is back, with nothing acknowledged lost.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chat_store::testing::Backend;
use secrecy::ExposeSecret;
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::AbortHandle;

use crate::helpers::{TestApp, ok, spawn_app_with};

/// Forwards 127.0.0.1:`port` to the database; `cut` drops every piped
/// connection and refuses new ones until `restore`.
pub(crate) struct TcpProxy {
    pub(crate) port: u16,
    cut: Arc<AtomicBool>,
    /// Connections refused while cut.
    refused: Arc<AtomicUsize>,
    pipes: Arc<Mutex<Vec<AbortHandle>>>,
    accept: AbortHandle,
}

impl TcpProxy {
    pub(crate) async fn start(target: SocketAddr) -> Self {
        let listener = ok(TcpListener::bind("127.0.0.1:0").await);
        let port = ok(listener.local_addr()).port();
        let cut = Arc::new(AtomicBool::new(false));
        let refused = Arc::new(AtomicUsize::new(0));
        let pipes: Arc<Mutex<Vec<AbortHandle>>> = Arc::default();
        let accept = tokio::spawn({
            let (cut, refused, pipes) = (cut.clone(), refused.clone(), pipes.clone());
            async move {
                while let Ok((mut inbound, _)) = listener.accept().await {
                    if cut.load(Ordering::SeqCst) {
                        refused.fetch_add(1, Ordering::SeqCst);
                        continue; // dropped: the connection is refused
                    }
                    let pipe = tokio::spawn(async move {
                        if let Ok(mut outbound) = TcpStream::connect(target).await {
                            let _ =
                                tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                        }
                    });
                    pipes.lock().expect("lock").push(pipe.abort_handle());
                }
            }
        })
        .abort_handle();
        Self {
            port,
            cut,
            refused,
            pipes,
            accept,
        }
    }

    pub(crate) fn cut(&self) {
        self.cut.store(true, Ordering::SeqCst);
        for pipe in self.pipes.lock().expect("lock").drain(..) {
            pipe.abort();
        }
    }

    pub(crate) fn restore(&self) {
        self.cut.store(false, Ordering::SeqCst);
    }

    pub(crate) fn refused(&self) -> usize {
        self.refused.load(Ordering::SeqCst)
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        self.cut();
        self.accept.abort();
    }
}

/// The `host:port` of a database URL, and the URL with it replaced.
fn split_authority(url: &str) -> (String, String, String) {
    let start = url.find("://").map_or(0, |i| i + 3);
    let rest = &url[start..];
    let end = rest.find('/').unwrap_or(rest.len());
    let hostport_start = rest[..end].rfind('@').map_or(0, |i| i + 1);
    (
        format!("{}{}", &url[..start], &rest[..hostport_start]),
        rest[hostport_start..end].to_owned(),
        rest[end..].to_owned(),
    )
}

async fn timed<T>(f: impl std::future::Future<Output = T>) -> (T, Duration) {
    let t0 = Instant::now();
    let out = f.await;
    (out, t0.elapsed())
}

async fn ready_status(app: &TestApp) -> u16 {
    app.get("/readyz").await.status().as_u16()
}

/// Fast failure means an answer within this, whatever it is.
const FAST: Duration = Duration::from_secs(1);
/// The server must be serving again within this of the database's return.
const RECOVERY: Duration = Duration::from_secs(2);

/// A proxy to the database server of the backend under test (`None` on
/// SQLite, which has no server).
async fn database_proxy() -> Option<TcpProxy> {
    let admin_url = match Backend::from_env() {
        Backend::Sqlite => {
            println!(
                "the outage tests need a database over the network: they run on MariaDB and PostgreSQL"
            );
            return None;
        }
        Backend::MySql => std::env::var("CHAT_TEST_MYSQL_URL").expect("CHAT_TEST_MYSQL_URL"),
        Backend::Postgres => {
            std::env::var("CHAT_TEST_POSTGRES_URL").expect("CHAT_TEST_POSTGRES_URL")
        }
    };
    let (_, server, _) = split_authority(&admin_url);
    let target: SocketAddr = ok(tokio::net::lookup_host(server.as_str()).await)
        .next()
        .expect("the database server has an address");
    Some(TcpProxy::start(target).await)
}

#[tokio::test]
async fn a_node_started_while_the_database_is_away_waits_for_it_and_then_serves() {
    let Some(proxy) = database_proxy().await else {
        return;
    };
    proxy.cut();
    let port = proxy.port;
    let starting = tokio::spawn(spawn_app_with(move |s| {
        let (head, _, tail) = split_authority(s.database.url.expose_secret());
        s.database.url = format!("{head}127.0.0.1:{port}{tail}").into();
    }));
    // The database stays away for more than two of the node's acquire
    // timeouts (1 s), and the node has been refused more than once…
    let waiting = Instant::now();
    while proxy.refused() < 2 || waiting.elapsed() < Duration::from_millis(2500) {
        assert!(
            waiting.elapsed() < Duration::from_secs(10),
            "the starting node never reached for the database"
        );
        assert!(
            !starting.is_finished(),
            "the node gave up or started without a database"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(!starting.is_finished());
    // …and starts once the database answers.
    proxy.restore();
    let app = ok(starting.await);
    assert_eq!(ready_status(&app).await, 200);
    app.create_tenant("acme", &[]).await;
    let (key, _) = app.start_session("acme", "Ada").await;
    assert_eq!(
        app.post_message(&key, "hello", None)
            .await
            .status()
            .as_u16(),
        201
    );
}

#[tokio::test]
async fn with_the_database_away_requests_fail_fast_and_the_server_recovers_by_itself() {
    let Some(proxy) = database_proxy().await else {
        return;
    };
    let port = proxy.port;
    let app = spawn_app_with(move |s| {
        let (head, _, tail) = split_authority(s.database.url.expose_secret());
        s.database.url = format!("{head}127.0.0.1:{port}{tail}").into();
    })
    .await;
    app.create_tenant("acme", &[]).await;
    let (key, _) = app.start_session("acme", "Ada").await;
    let mut ws = app.customer_ws(&key).await;
    assert_eq!(
        app.post_message(&key, "before", None)
            .await
            .status()
            .as_u16(),
        201
    );
    ws.expect("chat.message.new").await;

    proxy.cut();
    // Known down: /readyz says so, and says it fast, from the first probe on.
    let mut down = false;
    for _ in 0..20 {
        let (status, took) = timed(ready_status(&app)).await;
        assert!(took < FAST, "/readyz took {took:?} with the database away");
        if status == 503 {
            down = true;
            break;
        }
    }
    assert!(down, "/readyz never reported the outage");
    let (res, took) = timed(app.post_message(&key, "during", None)).await;
    assert!(took < FAST, "a send took {took:?} with the database away");
    assert_eq!(res.status().as_u16(), 503);
    assert!(res.headers().contains_key("retry-after"));
    let body: Value = ok(res.json().await);
    assert_eq!(body["error"]["code"], "unavailable");
    let (frame, took) = timed(async {
        ws.send(
            "chat.message.send",
            json!({ "body": "during, by socket", "client_msg_id": "ws-1" }),
        )
        .await;
        loop {
            // The bot may still be answering "before": its message is no
            // reply to this send.
            let f = ws.next_event().await;
            if f["type"] != "chat.message.new" {
                break f;
            }
        }
    })
    .await;
    assert!(
        took < FAST,
        "a socket send took {took:?} with the database away"
    );
    assert_eq!(frame["type"], "error");
    assert_eq!(frame["payload"]["code"], "unavailable");
    assert_eq!(frame["payload"]["client_msg_id"], "ws-1");

    proxy.restore();
    let back = Instant::now();
    loop {
        if ready_status(&app).await == 200 {
            break;
        }
        assert!(
            back.elapsed() < RECOVERY,
            "not ready {RECOVERY:?} after the database returned"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(back.elapsed() < RECOVERY);
    assert_eq!(
        app.post_message(&key, "after", None)
            .await
            .status()
            .as_u16(),
        201
    );
    // Exactly what was acknowledged is stored, gapless.
    let stored = app.customer_messages(&key, 0).await;
    let seqs: Vec<i64> = stored.iter().filter_map(|m| m["seq"].as_i64()).collect();
    let expected: Vec<i64> = (1..=i64::try_from(stored.len()).unwrap_or(0)).collect();
    assert_eq!(seqs, expected);
    let from_customer: Vec<&str> = stored
        .iter()
        .filter(|m| m["sender_type"] == "customer")
        .filter_map(|m| m["body"].as_str())
        .collect();
    assert_eq!(from_customer, vec!["before", "after"]);
}
