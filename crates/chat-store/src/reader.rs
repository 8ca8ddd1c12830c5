//! SQLite's reader: one thread, with its own connection to the database
//! file, for the two reads that nearly every request starts with: a
//! customer's session by its key, and an agent's access token with the
//! agent it belongs to.
//!
//! Every request a widget makes starts with the first (the session and its
//! customer, by the key's hash), and each customer message pays it once;
//! every agent request and every agent socket's handshake starts with the
//! second. Through SeaORM and sqlx each is a query built anew, its columns
//! bound and decoded by name, on another thread; here each is one prepared
//! statement, its columns read by position. When the reader is busy (its
//! queue full) or gone, the read takes the pool's path, so it can only
//! speed a read up, never hold one back or fail it.

use std::sync::LazyLock;
use std::sync::atomic::{AtomicBool, Ordering};

use chat_domain::{RepoError, RepoResult};
use rusqlite::{Connection, OptionalExtension, Row};
use sea_orm::{IdenStatic, Iterable};
use tokio::sync::{mpsc, oneshot};

use crate::entity::{agent, auth_token, chat_session, customer};

/// Reads that may wait for the reader; beyond, reads take the pool.
const QUEUE: usize = 256;

static SESSION_BY_KEY: LazyLock<String> = LazyLock::new(session_by_key_sql);
static TOKEN: LazyLock<String> = LazyLock::new(token_sql);

/// A read, run on the reader's connection; it answers through the channel
/// it captured.
type Job = Box<dyn FnOnce(&Connection) + Send>;

pub(crate) struct Reader {
    jobs: mpsc::Sender<Job>,
    closed: AtomicBool,
}

impl Reader {
    /// Opens the reader's connection and starts its thread; the thread ends
    /// when the store is dropped.
    pub(crate) fn start(path: &str) -> RepoResult<Self> {
        let conn = crate::writer::open(path, "PRAGMA query_only = ON;")?;
        let (jobs, rx) = mpsc::channel(QUEUE);
        std::thread::Builder::new()
            .name("chat-sqlite-reader".into())
            .spawn(move || run(conn, rx))
            .map_err(|e| RepoError::Unavailable(format!("starting the reader: {e}")))?;
        Ok(Self {
            jobs,
            closed: AtomicBool::new(false),
        })
    }

    /// The session with this key hash and its customer; `None` when the
    /// reader cannot take the read now (the caller asks the pool).
    pub(crate) async fn session_by_key(
        &self,
        key_hash: &str,
    ) -> Option<RepoResult<Option<(chat_session::Model, customer::Model)>>> {
        let key_hash = key_hash.to_owned();
        self.read(move |conn| {
            conn.prepare_cached(&SESSION_BY_KEY)?
                .query_row([key_hash.as_str()], session_and_customer)
                .optional()
        })
        .await
    }

    /// The unexpired token of that kind under this digest and its agent
    /// (whether active or not: the caller decides); `None` when the reader
    /// cannot take the read now (the caller asks the pool).
    pub(crate) async fn token(
        &self,
        kind: &'static str,
        token_hash: &str,
        now_micros: i64,
    ) -> Option<RepoResult<Option<(auth_token::Model, agent::Model)>>> {
        let token_hash = token_hash.to_owned();
        self.read(move |conn| {
            conn.prepare_cached(&TOKEN)?
                .query_row(
                    rusqlite::params![token_hash, kind, now_micros],
                    token_and_agent,
                )
                .optional()
        })
        .await
    }

    /// Runs `read` on the reader's thread; `None` when its queue is full or
    /// the thread is gone.
    async fn read<T: Send + 'static>(
        &self,
        read: impl FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> Option<RepoResult<T>> {
        if self.closed.load(Ordering::Acquire) {
            return Some(Err(RepoError::Unavailable("the store is closed".into())));
        }
        let (reply, answer) = oneshot::channel();
        let job: Job = Box::new(move |conn| {
            let _ = reply.send(read(conn).map_err(|e| RepoError::Other(e.to_string())));
        });
        self.jobs.try_send(job).ok()?;
        answer.await.ok()
    }

    /// Refuses every later read (the pool is closed beside it).
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::Release);
    }
}

fn run(conn: Connection, mut jobs: mpsc::Receiver<Job>) {
    while let Some(job) = jobs.blocking_recv() {
        job(&conn);
    }
}

/// `a.x, a.y, …, b.u, …`: every column of model `A` then of model `B`, each
/// in its model's order (the order the row functions read them in).
fn columns<A: Iterable + IdenStatic, B: Iterable + IdenStatic>(a: &str, b: &str) -> String {
    let a = A::iter().map(|c| format!("{a}.{}", c.as_str()));
    let b = B::iter().map(|c| format!("{b}.{}", c.as_str()));
    a.chain(b).collect::<Vec<_>>().join(", ")
}

fn session_by_key_sql() -> String {
    format!(
        "SELECT {} FROM chat_sessions s JOIN customers c ON c.id = s.customer_id \
         WHERE s.key_hash = ?1",
        columns::<chat_session::Column, customer::Column>("s", "c")
    )
}

fn token_sql() -> String {
    format!(
        "SELECT {} FROM auth_tokens t JOIN agents a ON a.id = t.agent_id \
         WHERE t.token_hash = ?1 AND t.kind = ?2 AND t.expires_at > ?3",
        columns::<auth_token::Column, agent::Column>("t", "a")
    )
}

/// A row of [`token_sql`]: its columns by position, in the models' order.
fn token_and_agent(r: &Row<'_>) -> rusqlite::Result<(auth_token::Model, agent::Model)> {
    let mut at = 0..;
    let mut i = || at.next().unwrap_or_default();
    let token = auth_token::Model {
        token_hash: r.get(i())?,
        kind: r.get(i())?,
        agent_id: r.get(i())?,
        tenant_id: r.get(i())?,
        parent_hash: r.get(i())?,
        expires_at: r.get(i())?,
        created_at: r.get(i())?,
    };
    let agent = agent::Model {
        id: r.get(i())?,
        tenant_id: r.get(i())?,
        name: r.get(i())?,
        tenant_email: r.get(i())?,
        address: r.get(i())?,
        role: r.get(i())?,
        password_hash: r.get(i())?,
        active: r.get(i())?,
        created_at: r.get(i())?,
        status: r.get(i())?,
        max_concurrent: r.get(i())?,
        last_assigned_at: r.get(i())?,
        email_when_offline: r.get(i())?,
    };
    Ok((token, agent))
}

/// A row of [`session_by_key_sql`]: its columns by position, in the
/// models' order.
fn session_and_customer(r: &Row<'_>) -> rusqlite::Result<(chat_session::Model, customer::Model)> {
    let mut at = 0..;
    let mut i = || at.next().unwrap_or_default();
    let session = chat_session::Model {
        id: r.get(i())?,
        tenant_id: r.get(i())?,
        customer_id: r.get(i())?,
        key_hash: r.get(i())?,
        status: r.get(i())?,
        assigned_agent_id: r.get(i())?,
        assigned_agent_name: r.get(i())?,
        page_url: r.get(i())?,
        referrer: r.get(i())?,
        user_agent: r.get(i())?,
        locale: r.get(i())?,
        created_at: r.get(i())?,
        last_activity_at: r.get(i())?,
        last_seq: r.get(i())?,
        last_message_preview: r.get(i())?,
        bot_handed_off: r.get(i())?,
        customer_delivered_seq: r.get(i())?,
        customer_read_seq: r.get(i())?,
        agent_delivered_seq: r.get(i())?,
        agent_read_seq: r.get(i())?,
        unread_count: r.get(i())?,
        labels: r.get(i())?,
        queued_at: r.get(i())?,
        rating_score: r.get(i())?,
        rating_comment: r.get(i())?,
        rated_at: r.get(i())?,
        handed_off_at: r.get(i())?,
        first_response_at: r.get(i())?,
        first_response_business: r.get(i())?,
        resolved_at: r.get(i())?,
        resolution_business: r.get(i())?,
        bot_answered: r.get(i())?,
        last_agent_seq: r.get(i())?,
        last_agent_at: r.get(i())?,
        emailed_seq: r.get(i())?,
        offline: r.get(i())?,
    };
    let customer = customer::Model {
        id: r.get(i())?,
        tenant_id: r.get(i())?,
        name: r.get(i())?,
        email: r.get(i())?,
        attributes: r.get(i())?,
        created_at: r.get(i())?,
        visitor_token_hash: r.get(i())?,
        visitor_seen_at: r.get(i())?,
        email_unsubscribed_at: r.get(i())?,
    };
    Ok((session, customer))
}
