//! SQLite's message writer: one thread, with its own connection to the
//! database file, that stores customers' and the bot's messages.
//!
//! Through the pool an append is six round trips to sqlx's per-connection
//! threads (begin, the session's bump, the insert, the webhook lookup,
//! commit), each a wake-up of another thread; here it is one. And the
//! messages that queue up while a transaction commits are stored together
//! in the next one (group commit): one fsync and one full-text flush for
//! all of them, each in its own savepoint, so one that fails (a retry of a
//! stored client id, a closed session) leaves the others stored. A message
//! is answered only after the transaction that holds it committed.
//!
//! The rules are those of [`crate::messages`]: the bump of the session's
//! `last_seq` is the first write, a failed message gives its number back,
//! a stored `client_msg_id` answers with the stored message, the webhook
//! deliveries are written in the same transaction. Agents' messages (the
//! first answer reads the business hours) and messages with files take the
//! pool's path.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use chat_domain::message::preview;
use chat_domain::{
    AppendOutcome, ChatEvent, NewMessage, RepoError, RepoResult, SenderType, SessionId,
    SessionStatus, TenantId, WebhookRenderer,
};
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use tokio::sync::{mpsc, oneshot};

use crate::convert::{self, new_id, now_micros};
use crate::entity::message;

/// The most messages one transaction stores.
const MAX_BATCH: usize = 64;
/// Appends that may wait for the writer; a sender waits for room beyond.
const QUEUE: usize = 1024;

type Renderer = Arc<OnceLock<Arc<dyn WebhookRenderer>>>;

struct Job {
    tenant: TenantId,
    session: SessionId,
    new: NewMessage,
    reply: oneshot::Sender<RepoResult<AppendOutcome>>,
}

pub(crate) struct Writer {
    /// `None` ends the thread (the tests' way to see the pool take over).
    jobs: mpsc::Sender<Option<Job>>,
    closed: AtomicBool,
    stats: Arc<Stats>,
}

/// Transactions and the messages they stored, for the tests' view of the
/// grouping.
#[derive(Default)]
pub(crate) struct Stats {
    pub(crate) commits: AtomicU64,
    pub(crate) messages: AtomicU64,
}

impl Writer {
    /// Opens the writer's connection to the database file and starts its
    /// thread; the thread ends when the store is dropped.
    pub(crate) fn start(
        path: &str,
        synchronous_full: bool,
        renderer: Renderer,
    ) -> RepoResult<Self> {
        let conn = open(
            path,
            if synchronous_full {
                "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;"
            } else {
                "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;"
            },
        )?;
        let (jobs, rx) = mpsc::channel(QUEUE);
        let stats = Arc::new(Stats::default());
        let counted = stats.clone();
        std::thread::Builder::new()
            .name("chat-sqlite-writer".into())
            .spawn(move || run(conn, rx, renderer, counted))
            .map_err(|e| RepoError::Unavailable(format!("starting the message writer: {e}")))?;
        Ok(Self {
            jobs,
            closed: AtomicBool::new(false),
            stats,
        })
    }

    /// Whether this writer stores the message (the pool's path otherwise).
    pub(crate) fn takes(new: &NewMessage) -> bool {
        matches!(new.sender_type, SenderType::Customer | SenderType::Bot)
            && new.attachment_ids.is_empty()
    }

    /// Stores the message, or hands it back when the writer's thread is
    /// gone (it never is but for a bug): the caller then takes the pool's
    /// path, so a broken writer cannot stop a node's customers.
    pub(crate) async fn append(
        &self,
        tenant: &TenantId,
        session: &SessionId,
        new: NewMessage,
    ) -> Result<RepoResult<AppendOutcome>, NewMessage> {
        if self.closed.load(Ordering::Acquire) {
            return Ok(Err(RepoError::Unavailable("the store is closed".into())));
        }
        let (reply, answer) = oneshot::channel();
        let job = Job {
            tenant: tenant.clone(),
            session: session.clone(),
            new,
            reply,
        };
        if let Err(mpsc::error::SendError(refused)) = self.jobs.send(Some(job)).await {
            tracing::error!("the message writer stopped; storing through the pool");
            if let Some(job) = refused {
                return Err(job.new);
            }
        }
        // Taken but not answered: the thread ended in the middle, and the
        // message may or may not be stored (a retry with its client id
        // tells).
        Ok(answer
            .await
            .unwrap_or_else(|_| Err(RepoError::Unavailable("the message writer stopped".into()))))
    }

    /// Ends the writer's thread, as a bug would: later appends take the
    /// pool's path.
    #[cfg(feature = "testing")]
    pub(crate) async fn stop(&self) {
        let _ = self.jobs.send(None).await;
        self.jobs.closed().await;
    }

    /// Refuses every later append (the pool is closed beside it).
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::Release);
    }

    #[cfg_attr(not(feature = "testing"), allow(dead_code))]
    pub(crate) fn stats(&self) -> (u64, u64) {
        (
            self.stats.commits.load(Ordering::Relaxed),
            self.stats.messages.load(Ordering::Relaxed),
        )
    }
}

fn run(
    conn: Connection,
    mut jobs: mpsc::Receiver<Option<Job>>,
    renderer: Renderer,
    stats: Arc<Stats>,
) {
    while let Some(Some(first)) = jobs.blocking_recv() {
        let mut batch = vec![first];
        let mut stop = false;
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(Some(job)) => batch.push(job),
                Ok(None) => {
                    stop = true;
                    break;
                }
                Err(_) => break,
            }
        }
        let results = store(&conn, &batch, renderer.get().map(|r| r.as_ref()));
        let created = results
            .iter()
            .filter(|r| matches!(r, Ok(AppendOutcome::Created(_))))
            .count() as u64;
        if created > 0 {
            stats.commits.fetch_add(1, Ordering::Relaxed);
            stats.messages.fetch_add(created, Ordering::Relaxed);
        }
        for (job, result) in batch.into_iter().zip(results) {
            let _ = job.reply.send(result);
        }
        if stop {
            break;
        }
    }
}

/// Stores a batch in one transaction: each message's answer, every one an
/// error when the transaction did not commit.
fn store(
    conn: &Connection,
    batch: &[Job],
    renderer: Option<&dyn WebhookRenderer>,
) -> Vec<RepoResult<AppendOutcome>> {
    let failed = |e: RepoError| {
        let unavailable = matches!(e, RepoError::Unavailable(_));
        let text = e.to_string();
        batch
            .iter()
            .map(|_| {
                Err(if unavailable {
                    RepoError::Unavailable(text.clone())
                } else {
                    RepoError::Other(text.clone())
                })
            })
            .collect()
    };
    if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
        return failed(unavailable(e));
    }
    let mut results = Vec::with_capacity(batch.len());
    for job in batch {
        let result = conn
            .execute_batch("SAVEPOINT message")
            .map_err(|e| Failed(other(e)))
            .and_then(|()| append(conn, job, renderer));
        let kept = matches!(result, Ok(AppendOutcome::Created(_)));
        let end = if kept {
            conn.execute_batch("RELEASE message")
        } else {
            conn.execute_batch("ROLLBACK TO message; RELEASE message")
        };
        if let Err(e) = end {
            let _ = conn.execute_batch("ROLLBACK");
            return failed(other(e));
        }
        // A retry of a stored client id, read once its attempt is undone.
        let result = match result {
            Err(Retry) => match existing(conn, job) {
                Ok(Some(m)) => Ok(AppendOutcome::Existing(m)),
                Ok(None) => Err(RepoError::Conflict("client_msg_id".into())),
                Err(e) => Err(e),
            },
            Err(Failed(e)) => Err(e),
            Ok(outcome) => Ok(outcome),
        };
        results.push(result);
    }
    if let Err(e) = conn.execute_batch("COMMIT") {
        let _ = conn.execute_batch("ROLLBACK");
        return failed(unavailable(e));
    }
    results
}

/// Why one message was not stored.
enum Undone {
    /// Its client id is stored already.
    Retry,
    Failed(RepoError),
}
use Undone::{Failed, Retry};

impl From<RepoError> for Undone {
    fn from(e: RepoError) -> Self {
        Failed(e)
    }
}

fn append(
    conn: &Connection,
    job: &Job,
    renderer: Option<&dyn WebhookRenderer>,
) -> Result<AppendOutcome, Undone> {
    let new = &job.new;
    let now = now_micros();
    let bump = match new.sender_type {
        SenderType::Customer => {
            "UPDATE chat_sessions SET unread_count = unread_count + 1, last_seq = last_seq + 1, \
             last_activity_at = ?1, last_message_preview = ?2 WHERE id = ?3 AND status <> ?4 \
             RETURNING last_seq, tenant_id"
        }
        _ => {
            "UPDATE chat_sessions SET bot_answered = 1, last_seq = last_seq + 1, \
             last_activity_at = ?1, last_message_preview = ?2 WHERE id = ?3 AND status <> ?4 \
             RETURNING last_seq, tenant_id"
        }
    };
    let bumped: Option<(i64, String)> = conn
        .prepare_cached(bump)
        .and_then(|mut s| {
            s.query_row(
                params![
                    now,
                    preview(new.body.as_str()),
                    job.session.as_str(),
                    SessionStatus::Closed.as_str()
                ],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
        })
        .map_err(other)?;
    let Some((seq, owner)) = bumped else {
        // Closed or missing. A retry of a message stored before the
        // session closed still gets its message back.
        let owned: Option<String> = conn
            .prepare_cached("SELECT tenant_id FROM chat_sessions WHERE id = ?1")
            .and_then(|mut s| s.query_row([job.session.as_str()], |r| r.get(0)).optional())
            .map_err(other)?;
        if owned.as_deref() != Some(job.tenant.as_str()) {
            return Err(Failed(RepoError::NotFound));
        }
        return match existing(conn, job)? {
            Some(m) => Ok(AppendOutcome::Existing(m)),
            None => Err(Failed(RepoError::Conflict("session_closed".into()))),
        };
    };
    if owner != job.tenant.as_str() {
        return Err(Failed(RepoError::NotFound));
    }
    let model = message::Model {
        id: new_id(),
        tenant_id: job.tenant.as_str().to_owned(),
        session_id: job.session.as_str().to_owned(),
        seq,
        sender_type: new.sender_type.as_str().to_owned(),
        sender_id: new.sender_id.clone(),
        sender_name: new.sender_name.clone(),
        body: new.body.as_str().to_owned(),
        client_msg_id: new.client_msg_id.as_ref().map(|c| c.as_str().to_owned()),
        created_at: now,
        attachments: convert::attachments_json(&[]),
    };
    let inserted = conn
        .prepare_cached(
            "INSERT INTO messages (id, tenant_id, session_id, seq, sender_type, sender_id, \
             sender_name, body, client_msg_id, created_at, attachments) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        )
        .and_then(|mut s| {
            s.execute(params![
                model.id,
                model.tenant_id,
                model.session_id,
                model.seq,
                model.sender_type,
                model.sender_id,
                model.sender_name,
                model.body,
                model.client_msg_id,
                model.created_at,
                model.attachments,
            ])
        });
    match inserted {
        Ok(_) => {}
        // A duplicate client id is a retry of a stored message.
        Err(e) if unique_violation(&e) && model.client_msg_id.is_some() => return Err(Retry),
        Err(e) => return Err(Failed(other(e))),
    }
    let stored = convert::message(model)?;
    if let Some(renderer) = renderer {
        record_event(
            conn,
            renderer,
            &job.tenant,
            &ChatEvent::MessageNew(stored.clone()),
        )?;
    }
    Ok(AppendOutcome::Created(stored))
}

/// The message stored under the job's client id, if any.
fn existing(conn: &Connection, job: &Job) -> RepoResult<Option<chat_domain::Message>> {
    let Some(cid) = job.new.client_msg_id.as_ref() else {
        return Ok(None);
    };
    let found = conn
        .prepare_cached(
            "SELECT id, tenant_id, session_id, seq, sender_type, sender_id, sender_name, body, \
             client_msg_id, created_at, attachments FROM messages \
             WHERE session_id = ?1 AND client_msg_id = ?2",
        )
        .and_then(|mut s| {
            s.query_row([job.session.as_str(), cid.as_str()], |r| {
                Ok(message::Model {
                    id: r.get(0)?,
                    tenant_id: r.get(1)?,
                    session_id: r.get(2)?,
                    seq: r.get(3)?,
                    sender_type: r.get(4)?,
                    sender_id: r.get(5)?,
                    sender_name: r.get(6)?,
                    body: r.get(7)?,
                    client_msg_id: r.get(8)?,
                    created_at: r.get(9)?,
                    attachments: r.get(10)?,
                })
            })
            .optional()
        })
        .map_err(other)?;
    found.map(convert::message).transpose()
}

/// The deliveries of a stored message to the tenant's endpoints that want
/// it ([`crate::webhooks::new_deliveries`], as the pool's path writes them).
fn record_event(
    conn: &Connection,
    renderer: &dyn WebhookRenderer,
    tenant: &TenantId,
    event: &ChatEvent,
) -> RepoResult<()> {
    let endpoints = conn
        .prepare_cached(
            "SELECT id, events FROM webhook_endpoints WHERE tenant_id = ?1 AND active = 1",
        )
        .and_then(|mut s| {
            s.query_map([tenant.as_str()], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<Result<Vec<(String, String)>, _>>()
        })
        .map_err(other)?;
    let rows = crate::webhooks::new_deliveries(renderer, tenant, event, endpoints)?;
    if rows.is_empty() {
        return Ok(());
    }
    let mut insert = conn
        .prepare_cached(
            "INSERT INTO webhook_deliveries (id, tenant_id, endpoint_id, event_id, event_type, \
             payload, status, attempts, next_attempt_at, lease_until, last_status, last_error, \
             created_at, updated_at, delivered_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
        )
        .map_err(other)?;
    for d in rows {
        insert
            .execute(params![
                d.id,
                d.tenant_id,
                d.endpoint_id,
                d.event_id,
                d.event_type,
                d.payload,
                d.status,
                d.attempts,
                d.next_attempt_at,
                d.lease_until,
                d.last_status,
                d.last_error,
                d.created_at,
                d.updated_at,
                d.delivered_at,
            ])
            .map_err(other)?;
    }
    Ok(())
}

fn unique_violation(e: &rusqlite::Error) -> bool {
    matches!(
        e,
        rusqlite::Error::SqliteFailure(f, _)
            if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
    )
}

/// A connection of its own to the database file, as the pool's (the same
/// busy timeout), with `pragmas` run on it; the writer's and the reader's.
pub(crate) fn open(path: &str, pragmas: &str) -> RepoResult<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(unavailable)?;
    conn.busy_timeout(Duration::from_secs(10))
        .map_err(unavailable)?;
    conn.execute_batch(pragmas).map_err(unavailable)?;
    Ok(conn)
}

fn unavailable(e: rusqlite::Error) -> RepoError {
    RepoError::Unavailable(e.to_string())
}

fn other(e: rusqlite::Error) -> RepoError {
    RepoError::Other(e.to_string())
}
