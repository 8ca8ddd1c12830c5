//! SQLite's message writer: one thread, with its own connection to the
//! database file, that stores customers' and the bot's messages.
//!
//! Through the pool an append is six round trips to sqlx's per-connection
//! threads (begin, the session's bump, the insert, the webhook lookup,
//! commit), each a wake-up of another thread; here it is one. And the
//! messages that queue up while a transaction commits are stored together
//! in the next one (group commit): one fsync and one full-text segment for
//! all of them. A message to a closed session writes nothing and is
//! answered so; when one is a retry of a stored client id (or fails), the
//! batch is stored again with each message in a savepoint of its own, so
//! that it leaves the others stored. A message is answered only after the
//! transaction that holds it committed.
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
        // The statements it runs, and an `INSERT` for each size of batch.
        conn.set_prepared_statement_cache_capacity(MAX_BATCH + 16);
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
///
/// The messages' rows go in with one statement: when a statement that
/// writes begins (and at every savepoint), FTS5 writes what it has indexed
/// so far as a segment of its own, so a statement for each message would
/// write a segment for each message instead of one for the transaction,
/// and the merges that follow. Only when one of them is not stored that
/// way (a retry of a stored client id, an error) is the transaction undone
/// and the batch stored again, each message in a savepoint of its own, so
/// that the others are kept.
fn store(
    conn: &Connection,
    batch: &[Job],
    renderer: Option<&dyn WebhookRenderer>,
) -> Vec<RepoResult<AppendOutcome>> {
    let stored = begin(conn).and_then(|()| {
        store_together(conn, batch, renderer).or_else(|_| {
            // Nothing of it is answered: it is all stored again.
            let _ = conn.execute_batch("ROLLBACK");
            begin(conn)?;
            store_each(conn, batch, renderer)
        })
    });
    match stored {
        Ok(results) => commit(conn, batch, results),
        Err(e) => failed(batch, e),
    }
}

fn begin(conn: &Connection) -> RepoResult<()> {
    conn.execute_batch("BEGIN IMMEDIATE").map_err(unavailable)
}

/// The batch in the open transaction: every session's number taken first,
/// then the rows in one `INSERT`, then their webhook deliveries. Any error
/// leaves the transaction to be undone.
fn store_together(
    conn: &Connection,
    batch: &[Job],
    renderer: Option<&dyn WebhookRenderer>,
) -> RepoResult<Vec<RepoResult<AppendOutcome>>> {
    let mut bumped = Vec::with_capacity(batch.len());
    for job in batch {
        let now = now_micros();
        bumped.push(match bump(conn, job, now)? {
            Bump::Taken(seq) => Ok(row(job, seq, now)),
            Bump::Refused(answer) => Err(*answer),
        });
    }
    let rows: Vec<&message::Model> = bumped.iter().filter_map(|b| b.as_ref().ok()).collect();
    if !rows.is_empty() {
        insert(conn, &rows).map_err(other)?;
    }
    batch
        .iter()
        .zip(bumped)
        .map(|(job, bumped)| match bumped {
            Ok(model) => created(conn, renderer, &job.tenant, model).map(Ok),
            Err(answer) => Ok(answer),
        })
        .collect()
}

/// The batch in the open transaction, every message in a savepoint of its
/// own: one that is not stored leaves the others stored. An error undoes
/// the transaction.
fn store_each(
    conn: &Connection,
    batch: &[Job],
    renderer: Option<&dyn WebhookRenderer>,
) -> RepoResult<Vec<RepoResult<AppendOutcome>>> {
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
            return Err(other(e));
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
    Ok(results)
}

/// Commits the open transaction: `results`, or every message an error when
/// it does not commit.
fn commit(
    conn: &Connection,
    batch: &[Job],
    results: Vec<RepoResult<AppendOutcome>>,
) -> Vec<RepoResult<AppendOutcome>> {
    if let Err(e) = conn.execute_batch("COMMIT") {
        let _ = conn.execute_batch("ROLLBACK");
        return failed(batch, unavailable(e));
    }
    results
}

/// Every message of the batch answered with `e`.
fn failed(batch: &[Job], e: RepoError) -> Vec<RepoResult<AppendOutcome>> {
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

/// What the first write of an append found.
enum Bump {
    /// The session's next number, taken.
    Taken(i64),
    /// Closed or missing: the answer (boxed: the rare case), and nothing
    /// written.
    Refused(Box<RepoResult<AppendOutcome>>),
}

/// The bump of the session's `last_seq`, an append's first write.
fn bump(conn: &Connection, job: &Job, now: i64) -> RepoResult<Bump> {
    let new = &job.new;
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
            return Ok(Bump::Refused(Box::new(Err(RepoError::NotFound))));
        }
        return Ok(Bump::Refused(Box::new(match existing(conn, job)? {
            Some(m) => Ok(AppendOutcome::Existing(m)),
            None => Err(RepoError::Conflict("session_closed".into())),
        })));
    };
    if owner != job.tenant.as_str() {
        return Err(RepoError::NotFound);
    }
    Ok(Bump::Taken(seq))
}

/// The message's row, numbered `seq`.
fn row(job: &Job, seq: i64, now: i64) -> message::Model {
    let new = &job.new;
    message::Model {
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
    }
}

/// The rows, with one statement.
fn insert(conn: &Connection, rows: &[&message::Model]) -> rusqlite::Result<()> {
    let sql = format!(
        "INSERT INTO messages (id, tenant_id, session_id, seq, sender_type, sender_id, \
         sender_name, body, client_msg_id, created_at, attachments) VALUES {}",
        vec!["(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"; rows.len()].join(", ")
    );
    let mut values: Vec<&dyn rusqlite::ToSql> = Vec::with_capacity(rows.len() * 11);
    for m in rows {
        values.extend([
            &m.id as &dyn rusqlite::ToSql,
            &m.tenant_id,
            &m.session_id,
            &m.seq,
            &m.sender_type,
            &m.sender_id,
            &m.sender_name,
            &m.body,
            &m.client_msg_id,
            &m.created_at,
            &m.attachments,
        ]);
    }
    conn.prepare_cached(&sql)?
        .execute(rusqlite::params_from_iter(values))?;
    Ok(())
}

/// A stored row as the message it is, with its webhook deliveries
/// written.
fn created(
    conn: &Connection,
    renderer: Option<&dyn WebhookRenderer>,
    tenant: &TenantId,
    model: message::Model,
) -> RepoResult<AppendOutcome> {
    let stored = convert::message(model)?;
    if let Some(renderer) = renderer {
        record_event(
            conn,
            renderer,
            tenant,
            &ChatEvent::MessageNew(stored.clone()),
        )?;
    }
    Ok(AppendOutcome::Created(stored))
}

/// One message, on its own: for [`store_each`].
fn append(
    conn: &Connection,
    job: &Job,
    renderer: Option<&dyn WebhookRenderer>,
) -> Result<AppendOutcome, Undone> {
    let now = now_micros();
    let seq = match bump(conn, job, now)? {
        Bump::Taken(seq) => seq,
        Bump::Refused(answer) => return (*answer).map_err(Failed),
    };
    let model = row(job, seq, now);
    match insert(conn, &[&model]) {
        Ok(()) => {}
        // A duplicate client id is a retry of a stored message.
        Err(e) if unique_violation(&e) && model.client_msg_id.is_some() => return Err(Retry),
        Err(e) => return Err(Failed(other(e))),
    }
    Ok(created(conn, renderer, &job.tenant, model)?)
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
#[cfg(test)]
#[allow(
    clippy::expect_used,
    reason = "a failed step fails the test, naming the call"
)]
mod tests {
    use chat_domain::repo::{SessionRepository, TenantRepository};
    use chat_domain::{
        ClientMsgId, MessageBody, NewCustomer, NewSession, NewTenant, PageContext, SessionKeyHash,
        TenantSlug, VisitorLink,
    };

    use super::*;
    use crate::testing::{Backend, TestDatabase};
    use crate::{SeaOrmStore, StoreSettings};

    /// A migrated SQLite file with one tenant and one conversation, and a
    /// connection of the writer's kind to it.
    async fn conversation() -> (TestDatabase, SeaOrmStore, Connection, TenantId, SessionId) {
        let db = TestDatabase::create(Backend::Sqlite).await;
        let store = SeaOrmStore::connect(&StoreSettings::new(db.url.clone()))
            .await
            .expect("SeaOrmStore::connect");
        store.migrate().await.expect("migrate");
        let tenant = TenantRepository::create(
            &store,
            NewTenant {
                slug: TenantSlug::parse("acme").expect("TenantSlug::parse"),
                name: "Acme".into(),
                allowed_origins: vec![],
            },
        )
        .await
        .expect("TenantRepository::create");
        let session = SessionRepository::create(
            &store,
            &tenant.id,
            NewSession {
                customer: NewCustomer {
                    name: Some("Ada".into()),
                    email: None,
                    attributes: serde_json::json!({}),
                },
                context: PageContext::default(),
                key_hash: SessionKeyHash("k1".into()),
                visitor: VisitorLink::New(SessionKeyHash("v1".into())),
                queued: true,
                offline: false,
            },
        )
        .await
        .expect("SessionRepository::create");
        let path = crate::sqlite_file(&db.url).expect("a SQLite file");
        let conn = open(path, "PRAGMA journal_mode = WAL;").expect("open");
        let (tenant, session) = (tenant.id.clone(), session.id.clone());
        (db, store, conn, tenant, session)
    }

    fn job(tenant: &TenantId, session: &SessionId, body: &str, cid: &str) -> Job {
        Job {
            tenant: tenant.clone(),
            session: session.clone(),
            new: NewMessage {
                sender_type: SenderType::Customer,
                sender_id: None,
                sender_name: "Ada".into(),
                body: MessageBody::parse(body).expect("MessageBody::parse"),
                client_msg_id: Some(ClientMsgId::parse(cid).expect("ClientMsgId::parse")),
                attachment_ids: Vec::new(),
            },
            reply: oneshot::channel().0,
        }
    }

    /// The full-text index's segments (FTS5 numbers them in the rowids of
    /// its data table; 0 is its own bookkeeping).
    fn segments(conn: &Connection) -> i64 {
        conn.query_row(
            "SELECT count(DISTINCT id >> 37) FROM messages_fts_data WHERE id >> 37 > 0",
            [],
            |r| r.get(0),
        )
        .expect("counting segments")
    }

    fn seqs(results: &[RepoResult<AppendOutcome>]) -> Vec<(bool, i64)> {
        results
            .iter()
            .map(|r| match r {
                Ok(AppendOutcome::Created(m)) => (true, m.seq),
                Ok(AppendOutcome::Existing(m)) => (false, m.seq),
                Err(e) => panic!("not stored: {e}"),
            })
            .collect()
    }

    /// A batch is indexed as one segment, not one a message: FTS5 writes
    /// a segment at every savepoint, so a batch that stores every message
    /// takes none.
    #[tokio::test]
    async fn a_batch_is_indexed_in_one_full_text_segment() {
        let (_db, _store, conn, t, s) = conversation().await;
        // No merging, so that every segment written stays countable.
        conn.execute_batch(
            "INSERT INTO messages_fts(messages_fts, rank) VALUES ('automerge', 0); \
             INSERT INTO messages_fts(messages_fts, rank) VALUES ('crisismerge', 64);",
        )
        .expect("FTS5 settings");
        let before = segments(&conn);
        let batch: Vec<Job> = (0..10)
            .map(|i| job(&t, &s, &format!("parcel {i} refund"), &format!("c{i}")))
            .collect();
        let results = store(&conn, &batch, None);
        assert_eq!(
            seqs(&results),
            (1..=10).map(|seq| (true, seq)).collect::<Vec<_>>()
        );
        assert_eq!(segments(&conn) - before, 1, "one segment for the batch");
        let found: i64 = conn
            .query_row(
                "SELECT count(*) FROM messages_fts WHERE messages_fts MATCH 'refund'",
                [],
                |r| r.get(0),
            )
            .expect("searching");
        assert_eq!(found, 10, "every message of the batch is searchable");
    }

    /// A batch in which one message is a retry of a stored one is stored
    /// again message by message: the retry gets the stored message back,
    /// the others are stored, `seq` stays gapless.
    #[tokio::test]
    async fn a_retry_in_a_batch_leaves_the_others_stored() {
        let (_db, _store, conn, t, s) = conversation().await;
        let first = store(&conn, &[job(&t, &s, "one", "c1")], None);
        assert_eq!(seqs(&first), [(true, 1)]);
        let batch = [
            job(&t, &s, "two", "c2"),
            job(&t, &s, "one", "c1"),
            job(&t, &s, "three", "c3"),
        ];
        let results = store(&conn, &batch, None);
        assert_eq!(seqs(&results), [(true, 2), (false, 1), (true, 3)]);
        let stored: Vec<(i64, String)> = conn
            .prepare("SELECT seq, body FROM messages ORDER BY seq")
            .and_then(|mut q| {
                q.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                    .collect::<Result<_, _>>()
            })
            .expect("reading the messages");
        assert_eq!(
            stored,
            [(1, "one"), (2, "two"), (3, "three")].map(|(q, b)| (q, b.to_owned()))
        );
    }
}
