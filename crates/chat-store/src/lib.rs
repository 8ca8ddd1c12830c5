//! Persistence for the chat platform: SeaORM entities and the
//! implementations of `chat-domain`'s repository ports, for SQLite (the
//! embedded default), MySQL/MariaDB and PostgreSQL alike.
//!
//! Nothing here decides chat rules; it stores and loads. SeaORM models never
//! leave this crate. Driver errors are mapped to [`chat_domain::RepoError`]
//! (a unique-constraint violation becomes `Conflict`).

mod accounts;
mod assignment;
mod attachments;
mod convert;
mod desk;
mod email;
mod entity;
mod health;
mod kb;
mod messages;
mod reader;
mod reports;
mod search;
mod sessions;
mod sql;
mod webhooks;
mod writer;

use std::sync::Arc;
use std::time::Duration;

use chat_domain::{RepoError, RepoResult};
use migration::MigratorTrait;
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbErr, RuntimeErr, SqlErr};

/// How long [`SeaOrmStore::connect`] keeps trying to open the first
/// connection before the node gives up starting.
pub const STARTUP_WAIT: Duration = Duration::from_secs(15);

pub use sea_orm::DatabaseConnection as Connection;

/// How the database connection is opened.
#[derive(Debug, Clone)]
pub struct StoreSettings {
    pub url: String,
    pub max_connections: u32,
    /// SQLite only: `FULL` (default) fsyncs every commit so that nothing
    /// acknowledged is lost even to a power cut; `NORMAL` survives process
    /// crashes only.
    pub sqlite_synchronous_full: bool,
    /// How long a query waits for a pooled connection before it fails as
    /// unavailable: bounds how long a request can hang on a database that
    /// went away before the health probe noticed.
    pub acquire_timeout: Duration,
}

impl StoreSettings {
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            max_connections: 16,
            sqlite_synchronous_full: true,
            acquire_timeout: Duration::from_secs(1),
        }
    }
}

/// Every repository, over one connection pool.
#[derive(Clone)]
pub struct SeaOrmStore {
    inner: Arc<Inner>,
}

struct Inner {
    db: DatabaseConnection,
    health: health::Health,
    /// Renders webhook bodies inside the transaction of their change; until
    /// one is set, no deliveries are written.
    webhooks: Arc<std::sync::OnceLock<Arc<dyn chat_domain::WebhookRenderer>>>,
    /// SQLite files only: the thread that stores customers' and the bot's
    /// messages (`writer.rs`).
    writer: Option<writer::Writer>,
    /// SQLite files only: the thread that finds customers' sessions by
    /// their keys (`reader.rs`).
    reader: Option<reader::Reader>,
    /// SQLite files only: how the migrations' own connection is opened
    /// (`SeaOrmStore::migrate`).
    migrations: Option<ConnectOptions>,
}

impl SeaOrmStore {
    /// Connects (creating a SQLite file and its folder when missing).
    pub async fn connect(settings: &StoreSettings) -> RepoResult<Self> {
        let url = settings.url.clone();
        let sqlite_dir = sqlite_file(&url)
            .and_then(|path| std::path::Path::new(path).parent())
            .filter(|d| !d.as_os_str().is_empty());
        if let Some(dir) = sqlite_dir {
            std::fs::create_dir_all(dir)
                .map_err(|e| RepoError::Unavailable(format!("creating {}: {e}", dir.display())))?;
        }
        let mut opts = ConnectOptions::new(url);
        let full = settings.sqlite_synchronous_full;
        let sqlite = move |synchronous| {
            move |o: sea_orm::sqlx::sqlite::SqliteConnectOptions| {
                o.create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(synchronous)
                    .foreign_keys(true)
                    .busy_timeout(Duration::from_secs(10))
            }
        };
        opts.max_connections(settings.max_connections)
            .min_connections(1)
            .connect_timeout(settings.acquire_timeout)
            .acquire_timeout(settings.acquire_timeout)
            .sqlx_logging(false)
            .map_sqlx_sqlite_opts(sqlite(if full {
                SqliteSynchronous::Full
            } else {
                SqliteSynchronous::Normal
            }));
        // A starting node waits for a database that is busy or still
        // starting, instead of giving up after one acquire timeout.
        let deadline = std::time::Instant::now() + STARTUP_WAIT;
        let db = loop {
            match Database::connect(opts.clone()).await {
                Ok(db) => break db,
                Err(e) if std::time::Instant::now() < deadline => {
                    tracing::warn!(error = %e, "the database does not answer yet; trying again");
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
                Err(e) => return Err(map_err(e)),
            }
        };
        let webhooks = Arc::new(std::sync::OnceLock::new());
        let file = sqlite_file(&settings.url);
        let writer = file
            .map(|path| writer::Writer::start(path, full, webhooks.clone()))
            .transpose()?;
        let reader = file.map(reader::Reader::start).transpose()?;
        let migrations = file.map(|_| {
            let mut o = opts.clone();
            o.max_connections(1)
                .map_sqlx_sqlite_opts(sqlite(SqliteSynchronous::Normal));
            o
        });
        let inner = Arc::new(Inner {
            db,
            health: health::Health::default(),
            webhooks,
            writer,
            reader,
            migrations,
        });
        health::spawn_probe(Arc::downgrade(&inner));
        Ok(Self { inner })
    }

    /// The pool, unless the database is known to be unreachable: then every
    /// query fails at once as unavailable instead of waiting for a
    /// connection, until the probe sees the database answer again.
    fn db(&self) -> RepoResult<&DatabaseConnection> {
        if self.inner.health.is_down() {
            return Err(RepoError::Unavailable("the database is unreachable".into()));
        }
        Ok(&self.inner.db)
    }

    /// SQLite's reader thread (`reader.rs`), if this store has one, unless
    /// the database is known to be unreachable (then the read fails at
    /// once, as through the pool).
    fn reader(&self) -> RepoResult<Option<&reader::Reader>> {
        self.db()?;
        Ok(self.inner.reader.as_ref())
    }

    /// Turns on the webhook outbox: from now on every stored change that
    /// an endpoint subscribed to writes its delivery in the same
    /// transaction. Set once, at wiring; later calls are ignored.
    pub fn set_webhook_renderer(&self, renderer: Arc<dyn chat_domain::WebhookRenderer>) {
        let _ = self.inner.webhooks.set(renderer);
    }

    /// Applies every pending migration. A SQLite file's schema is made on
    /// a connection of its own without an fsync per statement (a fresh
    /// database took about 110 of them, most of its start-up time): WAL
    /// with `synchronous=NORMAL` stays consistent, and the checkpoint at
    /// the end makes the whole schema durable before anything is served.
    /// A database with nothing to apply (every restart) is left alone: no
    /// second connection, no checkpoint of whatever its log holds, and no
    /// second reading of the migrations table by `up`.
    pub async fn migrate(&self) -> RepoResult<()> {
        let Some(opts) = &self.inner.migrations else {
            return migration::Migrator::up(&self.inner.db, None)
                .await
                .map_err(map_err);
        };
        // The check `up` starts with (an applied migration this build does
        // not know is an error too), without creating the table.
        let pending = migration::Migrator::get_pending_migrations_read_only(&self.inner.db)
            .await
            .map_err(map_err)?;
        if pending.is_empty() {
            return Ok(());
        }
        let db = Database::connect(opts.clone()).await.map_err(map_err)?;
        let result = async {
            migration::Migrator::up(&db, None).await?;
            sea_orm::ConnectionTrait::execute_unprepared(&db, "PRAGMA wal_checkpoint(FULL)")
                .await?;
            Ok::<_, DbErr>(())
        }
        .await
        .map_err(map_err);
        let _ = db.close().await;
        result
    }

    /// Closes the pool; later queries fail as unavailable.
    pub async fn close(&self) -> RepoResult<()> {
        if let Some(writer) = &self.inner.writer {
            writer.close();
        }
        if let Some(reader) = &self.inner.reader {
            reader.close();
        }
        self.inner.db.close_by_ref().await.map_err(map_err)
    }

    /// SQLite's message writer: the transactions it committed and the
    /// messages they stored (`None` on the other databases).
    #[cfg(feature = "testing")]
    pub fn group_commits(&self) -> Option<(u64, u64)> {
        self.inner.writer.as_ref().map(writer::Writer::stats)
    }

    /// Ends SQLite's message writer as a bug would (a no-op elsewhere).
    #[cfg(feature = "testing")]
    pub async fn stop_message_writer(&self) {
        if let Some(writer) = &self.inner.writer {
            writer.stop().await;
        }
    }
}

#[async_trait::async_trait]
impl chat_domain::repo::HealthCheck for SeaOrmStore {
    /// A failed ping marks the database down at once, without waiting for
    /// the next probe: the requests after a failed `/readyz` fail fast too.
    async fn ping(&self) -> RepoResult<()> {
        let res = health::ping(self.db()?).await;
        if res.is_err() {
            self.inner.health.set_down(true);
        }
        res
    }
}

fn sqlite_file(url: &str) -> Option<&str> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or(rest);
    (!path.is_empty() && path != ":memory:").then_some(path)
}

/// Maps a driver error; unique violations become `Conflict(what)`.
pub(crate) fn map_err(e: DbErr) -> RepoError {
    if let Some(SqlErr::UniqueConstraintViolation(detail)) = e.sql_err() {
        return RepoError::Conflict(detail);
    }
    match e {
        DbErr::Conn(_) | DbErr::ConnectionAcquire(_) => RepoError::Unavailable(e.to_string()),
        DbErr::Exec(RuntimeErr::SqlxError(ref x)) | DbErr::Query(RuntimeErr::SqlxError(ref x))
            if lost_connection(x) =>
        {
            RepoError::Unavailable(e.to_string())
        }
        other => RepoError::Other(other.to_string()),
    }
}

/// A query that failed because the connection broke, not because of what
/// it asked: the database is away, and the answer is "unavailable".
fn lost_connection(e: &sea_orm::sqlx::Error) -> bool {
    use sea_orm::sqlx::Error;
    matches!(
        e,
        Error::Io(_)
            | Error::Tls(_)
            | Error::Protocol(_)
            | Error::PoolTimedOut
            | Error::PoolClosed
            | Error::WorkerCrashed
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_yield_their_file() {
        assert_eq!(
            sqlite_file("sqlite://./data/chat.db?mode=rwc"),
            Some("./data/chat.db")
        );
        assert_eq!(sqlite_file("sqlite::memory:"), None);
        assert_eq!(sqlite_file("postgres://x/y"), None);
    }

    /// `.cargo/config.toml` builds SQLite with the planner's stability
    /// guarantee; without it every `LIMIT ?` lookup is planned anew each time.
    #[tokio::test]
    async fn sqlite_keeps_its_plans_whatever_is_bound() {
        use sea_orm::{ConnectionTrait, Statement};
        let Ok(store) = SeaOrmStore::connect(&StoreSettings::new("sqlite::memory:")).await else {
            panic!("no in-memory SQLite");
        };
        let Ok(db) = store.db() else {
            panic!("no pool");
        };
        let query = Statement::from_string(db.get_database_backend(), "PRAGMA compile_options");
        let Ok(rows) = db.query_all_raw(query).await else {
            panic!("PRAGMA compile_options failed");
        };
        let options: Vec<String> = rows
            .iter()
            .filter_map(|r| r.try_get_by_index::<String>(0).ok())
            .collect();
        assert!(
            options.iter().any(|o| o == "ENABLE_QPSG"),
            "SQLite built without SQLITE_ENABLE_QPSG: {options:?}"
        );
    }
}

#[cfg(feature = "testing")]
pub mod testing;
