//! A fresh database per test, on the backend the environment names, removed
//! again when the test ends, so that parallel runs never collide.
//!
//! `CHAT_TEST_DATABASE` = `sqlite` (default), `mysql` or `postgres`; the
//! server backends need `CHAT_TEST_MYSQL_URL` / `CHAT_TEST_POSTGRES_URL`
//! (an admin connection such as `mysql://root@127.0.0.1:3306/test`). A
//! backend that is asked for but not reachable fails the test.

use std::path::PathBuf;

use sea_orm::{ConnectionTrait, Database};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    MySql,
    Postgres,
}

impl Backend {
    pub fn from_env() -> Self {
        match std::env::var("CHAT_TEST_DATABASE").as_deref() {
            Ok("mysql") | Ok("mariadb") => Backend::MySql,
            Ok("postgres") => Backend::Postgres,
            _ => Backend::Sqlite,
        }
    }

    fn admin_url(self) -> Option<String> {
        let var = match self {
            Backend::Sqlite => return None,
            Backend::MySql => "CHAT_TEST_MYSQL_URL",
            Backend::Postgres => "CHAT_TEST_POSTGRES_URL",
        };
        match std::env::var(var) {
            Ok(url) if !url.is_empty() => Some(url),
            _ => panic!("CHAT_TEST_DATABASE asks for {self:?} but {var} is not set"),
        }
    }
}

/// A database that exists for the life of this value.
pub struct TestDatabase {
    pub url: String,
    pub backend: Backend,
    cleanup: Cleanup,
}

enum Cleanup {
    Dir(PathBuf),
    Drop { admin_url: String, name: String },
}

fn with_database(url: &str, name: &str) -> String {
    // Replace the path of scheme://authority/path?query.
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let authority_end = base.find("://").map_or(0, |i| i + 3);
    let path_start = base[authority_end..]
        .find('/')
        .map_or(base.len(), |i| authority_end + i);
    let mut out = format!("{}/{name}", &base[..path_start]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

impl TestDatabase {
    pub async fn create(backend: Backend) -> Self {
        let name = format!("chat_t_{}", uuid::Uuid::new_v4().simple());
        match backend.admin_url() {
            None => {
                let dir = std::env::temp_dir().join(&name);
                if let Err(e) = std::fs::create_dir_all(&dir) {
                    panic!("creating {}: {e}", dir.display());
                }
                let url = format!("sqlite://{}/chat.db?mode=rwc", dir.display());
                Self {
                    url,
                    backend,
                    cleanup: Cleanup::Dir(dir),
                }
            }
            Some(admin_url) => {
                let admin = Database::connect(admin_url.as_str())
                    .await
                    .unwrap_or_else(|e| panic!("connecting to {backend:?} at {admin_url}: {e}"));
                admin
                    .execute_unprepared(&format!("CREATE DATABASE {name}"))
                    .await
                    .unwrap_or_else(|e| panic!("creating database {name}: {e}"));
                let _ = admin.close().await;
                Self {
                    url: with_database(&admin_url, &name),
                    backend,
                    cleanup: Cleanup::Drop { admin_url, name },
                }
            }
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::Dir(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Cleanup::Drop { admin_url, name } => {
                let sql = match self.backend {
                    Backend::Postgres => format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
                    _ => format!("DROP DATABASE IF EXISTS {name}"),
                };
                let admin_url = admin_url.clone();
                let backend = self.backend;
                // Drop runs inside the test's runtime, which must not be
                // blocked on; a thread with its own runtime does the work.
                let worker = std::thread::spawn(move || {
                    let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                    else {
                        return;
                    };
                    rt.block_on(async move {
                        if let Ok(admin) = Database::connect(admin_url.as_str()).await {
                            if backend == Backend::MySql {
                                // A test that failed mid-transaction may
                                // leave a pooled connection holding a
                                // lock: give up on the drop rather than
                                // hang the test binary.
                                let _ = admin
                                    .execute_unprepared("SET SESSION lock_wait_timeout = 10")
                                    .await;
                            }
                            let _ = admin.execute_unprepared(&sql).await;
                            let _ = admin.close().await;
                        }
                    });
                });
                let _ = worker.join();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn the_database_name_replaces_the_urls_path() {
        assert_eq!(
            with_database("mysql://root@127.0.0.1:3306/test", "x"),
            "mysql://root@127.0.0.1:3306/x"
        );
        assert_eq!(
            with_database("postgres://h:5432/test?sslmode=disable", "x"),
            "postgres://h:5432/x?sslmode=disable"
        );
        assert_eq!(
            with_database("postgres://h:5432", "x"),
            "postgres://h:5432/x"
        );
    }
}
