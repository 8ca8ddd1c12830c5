//! Whether the database answers, kept by a probe so that a request never
//! waits on a database already known to be away.
//!
//! The probe pings every [`PROBE_INTERVAL`] with a [`PING_TIMEOUT`]; a
//! failed or late ping marks the database down, a good one marks it up
//! again, so the server fails fast during an outage and recovers by itself
//! within an interval or two of the database coming back. It stops when the
//! store it watches is dropped.

use std::sync::Weak;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use chat_domain::{RepoError, RepoResult};
use sea_orm::DatabaseConnection;

use super::{Inner, map_err};

pub const PROBE_INTERVAL: Duration = Duration::from_millis(250);
pub const PING_TIMEOUT: Duration = Duration::from_millis(500);

#[derive(Default)]
pub struct Health {
    down: AtomicBool,
}

impl Health {
    pub fn is_down(&self) -> bool {
        self.down.load(Ordering::Relaxed)
    }

    pub fn set_down(&self, down: bool) {
        let was = self.down.swap(down, Ordering::Relaxed);
        if was != down {
            if down {
                tracing::warn!("database unreachable: failing fast until it answers");
            } else {
                tracing::info!("database reachable again");
            }
        }
    }
}

/// One ping, bounded in time.
pub async fn ping(db: &DatabaseConnection) -> RepoResult<()> {
    match tokio::time::timeout(PING_TIMEOUT, db.ping()).await {
        Ok(res) => res.map_err(map_err),
        Err(_) => Err(RepoError::Unavailable(
            "the database did not answer in time".into(),
        )),
    }
}

pub fn spawn_probe(store: Weak<Inner>) {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(PROBE_INTERVAL).await;
            let Some(inner) = store.upgrade() else { return };
            let ok = ping(&inner.db).await.is_ok();
            inner.health.set_down(!ok);
            pool_gauges(&inner.db);
        }
    });
}

/// The pool's size and use, for the metrics.
fn pool_gauges(db: &DatabaseConnection) {
    use sea_orm::DatabaseConnectionType as Pool;
    let (size, idle) = match &db.inner {
        Pool::SqlxSqlitePoolConnection(_) => {
            let p = db.get_sqlite_connection_pool();
            (p.size(), p.num_idle())
        }
        Pool::SqlxMySqlPoolConnection(_) => {
            let p = db.get_mysql_connection_pool();
            (p.size(), p.num_idle())
        }
        Pool::SqlxPostgresPoolConnection(_) => {
            let p = db.get_postgres_connection_pool();
            (p.size(), p.num_idle())
        }
        _ => return,
    };
    let idle = u32::try_from(idle).unwrap_or(u32::MAX);
    metrics::gauge!("chat_db_pool_connections").set(f64::from(size));
    metrics::gauge!("chat_db_pool_in_use").set(f64::from(size.saturating_sub(idle)));
}
