//! SQLite's session reader: one thread, with its own connection to the
//! database file, that finds a customer's session by its key.
//!
//! Every request a widget makes starts with that read (the session and its
//! customer, by the key's hash), and each customer message pays it once.
//! Through SeaORM and sqlx it is the query built anew, its 50 columns
//! bound and decoded by name, on another thread; here it is one prepared
//! statement, its columns read by position. When the reader is busy (its
//! queue full) or gone, the read takes the pool's path, so it can only
//! speed a read up, never hold one back or fail it.

use std::sync::atomic::{AtomicBool, Ordering};

use chat_domain::{RepoError, RepoResult};
use rusqlite::{Connection, OptionalExtension, Row};
use sea_orm::{IdenStatic, Iterable};
use tokio::sync::{mpsc, oneshot};

use crate::entity::{chat_session, customer};

/// Reads that may wait for the reader; beyond, reads take the pool.
const QUEUE: usize = 256;

type Found = RepoResult<Option<(chat_session::Model, customer::Model)>>;

struct Job {
    key_hash: String,
    reply: oneshot::Sender<Found>,
}

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
            .map_err(|e| RepoError::Unavailable(format!("starting the session reader: {e}")))?;
        Ok(Self {
            jobs,
            closed: AtomicBool::new(false),
        })
    }

    /// The session with this key hash and its customer; `None` when the
    /// reader cannot take the read now (the caller asks the pool).
    pub(crate) async fn session_by_key(&self, key_hash: &str) -> Option<Found> {
        if self.closed.load(Ordering::Acquire) {
            return Some(Err(RepoError::Unavailable("the store is closed".into())));
        }
        let (reply, answer) = oneshot::channel();
        let job = Job {
            key_hash: key_hash.to_owned(),
            reply,
        };
        self.jobs.try_send(job).ok()?;
        answer.await.ok()
    }

    /// Refuses every later read (the pool is closed beside it).
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::Release);
    }
}

fn run(conn: Connection, mut jobs: mpsc::Receiver<Job>) {
    let sql = by_key_sql();
    while let Some(job) = jobs.blocking_recv() {
        let found = conn
            .prepare_cached(&sql)
            .and_then(|mut s| s.query_row([job.key_hash.as_str()], joined).optional())
            .map_err(|e| RepoError::Other(e.to_string()));
        let _ = job.reply.send(found);
    }
}

/// The session's columns then the customer's, each in its model's order
/// (the order [`joined`] reads them in).
fn by_key_sql() -> String {
    let columns: Vec<String> = chat_session::Column::iter()
        .map(|c| format!("s.{}", c.as_str()))
        .chain(customer::Column::iter().map(|c| format!("c.{}", c.as_str())))
        .collect();
    format!(
        "SELECT {} FROM chat_sessions s JOIN customers c ON c.id = s.customer_id \
         WHERE s.key_hash = ?1",
        columns.join(", ")
    )
}

/// A row of [`by_key_sql`]: its columns by position, in the models' order.
fn joined(r: &Row<'_>) -> rusqlite::Result<(chat_session::Model, customer::Model)> {
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
