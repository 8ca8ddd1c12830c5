//! Full-text search of messages through each database's own index: FTS5 on
//! SQLite, a `tsvector` with a GIN index on PostgreSQL, `FULLTEXT` on
//! MySQL/MariaDB (see the migration that creates them).
//!
//! The query's terms are letters and digits only (`SearchQuery` makes
//! them so), and the match expression built from them is always a bound
//! parameter, never SQL text. The tenant is a condition of the same
//! statement.

use chat_domain::{
    AssigneeFilter, MessageHit, MessageSearch, RepoError, RepoResult, SearchCursor, SearchPage,
    SearchQuery, SearchTerm, TenantId,
};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DbBackend, EntityTrait, FromQueryResult, QueryFilter, Statement};

use crate::convert;
use crate::entity::{chat_session, customer, message};
use crate::sql::Sql;
use crate::{SeaOrmStore, map_err};

/// Words InnoDB's full-text index leaves out (its default stopword list):
/// a term made of one can never match there, so it is dropped.
const INNODB_STOPWORDS: &[&str] = &[
    "a", "about", "an", "are", "as", "at", "be", "by", "com", "de", "en", "for", "from", "how",
    "i", "in", "is", "it", "la", "of", "on", "or", "that", "the", "this", "to", "was", "what",
    "when", "where", "who", "will", "with", "und", "www",
];
/// InnoDB's `innodb_ft_min_token_size` default.
const INNODB_MIN_TOKEN: usize = 3;

/// How a query is matched on a backend: its full-text expression, and on
/// MySQL the terms its index cannot hold (words shorter than its minimum
/// token size, stopwords), matched with an escaped `LIKE` instead.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Match {
    text: Option<String>,
    like: Vec<String>,
}

/// How the query matches on the backend, or `None` when it has no terms.
pub(crate) fn match_of(backend: DbBackend, query: &SearchQuery) -> Option<Match> {
    if query.is_empty() {
        return None;
    }
    let mut like = Vec::new();
    if backend == DbBackend::MySql {
        for t in query.terms() {
            let words = t.words();
            let short_prefix = matches!(t, SearchTerm::Word { word, prefix: true } if word.chars().count() < INNODB_MIN_TOKEN);
            let unindexed = matches!(
                t,
                SearchTerm::Word { prefix: false, .. } | SearchTerm::Phrase(_)
            ) && words.iter().any(|w| !innodb_indexes(w));
            if short_prefix || unindexed {
                like.push(words.join(" "));
            }
        }
    }
    Some(Match {
        text: match_text(backend, query, &like),
        like,
    })
}

/// The backend's full-text expression of the terms not in `like`.
fn match_text(backend: DbBackend, query: &SearchQuery, like: &[String]) -> Option<String> {
    let parts: Vec<String> = query
        .terms()
        .iter()
        .filter(|t| !like.contains(&t.words().join(" ")))
        .map(|t| match (backend, t) {
            (DbBackend::Sqlite, SearchTerm::Word { word, prefix }) => {
                format!("\"{word}\"{}", if *prefix { "*" } else { "" })
            }
            (DbBackend::Sqlite, SearchTerm::Phrase(words)) => format!("\"{}\"", words.join(" ")),
            (DbBackend::Postgres, SearchTerm::Word { word, prefix }) => {
                format!("{word}{}", if *prefix { ":*" } else { "" })
            }
            (DbBackend::Postgres, SearchTerm::Phrase(words)) => {
                format!("({})", words.join(" <-> "))
            }
            (_, SearchTerm::Word { word, prefix }) => {
                format!("+{word}{}", if *prefix { "*" } else { "" })
            }
            (_, SearchTerm::Phrase(words)) => format!("+\"{}\"", words.join(" ")),
        })
        .collect();
    if parts.is_empty() {
        return None;
    }
    Some(match backend {
        DbBackend::Postgres => parts.join(" & "),
        _ => parts.join(" "),
    })
}

fn innodb_indexes(word: &str) -> bool {
    word.chars().count() >= INNODB_MIN_TOKEN && !INNODB_STOPWORDS.contains(&word)
}

/// The match condition for a message table aliased `m`.
fn push_match(sql: &mut Sql, m: Match) {
    let mut first = true;
    if let Some(text) = m.text {
        match sql.backend {
            DbBackend::Sqlite => sql.push("messages_fts MATCH ").bind(text),
            DbBackend::Postgres => sql
                .push("m.body_tsv @@ to_tsquery('simple', ")
                .bind(text)
                .push(")"),
            _ => sql
                .push("MATCH(m.body) AGAINST (")
                .bind(text)
                .push(" IN BOOLEAN MODE)"),
        };
        first = false;
    }
    // MySQL's default collations compare case-insensitively.
    for words in m.like {
        if !first {
            sql.push(" AND ");
        }
        sql.push("m.body LIKE ")
            .bind(crate::sessions::contains_pattern(&words))
            .push(" ESCAPE '!'");
        first = false;
    }
}

/// The condition "one of the session's messages matches", for the
/// sessions list (`chat_sessions` unaliased), or `None` when nothing can
/// match.
pub(crate) fn sessions_matching(
    backend: DbBackend,
    tenant: &TenantId,
    query: &SearchQuery,
) -> Option<Expr> {
    let m = match_of(backend, query)?;
    let mut sql = Sql::new(backend);
    sql.push("chat_sessions.id IN (SELECT m.session_id FROM ");
    if backend == DbBackend::Sqlite {
        sql.push("messages_fts JOIN messages m ON m.rowid = messages_fts.rowid");
    } else {
        sql.push("messages m");
    }
    sql.push(" WHERE m.tenant_id = ")
        .bind(tenant.as_str())
        .push(" AND ");
    push_match(&mut sql, m);
    sql.push(")");
    // The subquery is written for `?` placeholders (or `$n` on
    // PostgreSQL) and bound by the statement it is part of.
    Some(Expr::cust_with_values(sql.text, sql.values))
}

#[derive(Debug, FromQueryResult)]
struct HitRow {
    id: String,
    sort_key: i64,
}

impl SeaOrmStore {
    pub(crate) async fn search_messages(
        &self,
        tenant: &TenantId,
        search: &MessageSearch,
    ) -> RepoResult<SearchPage> {
        let db = self.db()?;
        let backend = db.get_database_backend();
        let Some(m) = match_of(backend, &search.query) else {
            return Ok(SearchPage::default());
        };
        let mut sql = Sql::new(backend);
        let sqlite = backend == DbBackend::Sqlite;
        if sqlite {
            // FTS5 walks its index newest rowid first, so a page of the
            // newest hits costs no sort.
            sql.push(
                "SELECT m.id AS id, messages_fts.rowid AS sort_key FROM messages_fts \
                 JOIN messages m ON m.rowid = messages_fts.rowid",
            );
        } else {
            sql.push("SELECT m.id AS id, m.created_at AS sort_key FROM messages m");
        }
        // The sessions only when a filter needs them.
        if search.status.is_some() || search.assignee != AssigneeFilter::Any {
            sql.push(" JOIN chat_sessions s ON s.id = m.session_id");
        }
        sql.push(" WHERE ");
        push_match(&mut sql, m);
        sql.push(" AND m.tenant_id = ").bind(tenant.as_str());
        if let Some(status) = search.status {
            sql.push(" AND s.status = ").bind(status.as_str());
        }
        match search.assignee {
            AssigneeFilter::Any => {}
            AssigneeFilter::Unassigned => {
                sql.push(" AND s.assigned_agent_id IS NULL");
            }
            AssigneeFilter::Agent => {
                let agent = search.agent_id.as_ref().map(|a| a.as_str().to_owned());
                sql.push(" AND s.assigned_agent_id = ")
                    .bind(agent.unwrap_or_default());
            }
        }
        if let Some(from) = search.from {
            sql.push(" AND m.created_at >= ")
                .bind(convert::to_micros(from));
        }
        if let Some(to) = search.to {
            sql.push(" AND m.created_at < ")
                .bind(convert::to_micros(to));
        }
        if let Some(c) = &search.cursor {
            if sqlite {
                sql.push(" AND messages_fts.rowid < ").bind(c.key);
            } else {
                sql.push(" AND (m.created_at < ")
                    .bind(c.key)
                    .push(" OR (m.created_at = ")
                    .bind(c.key)
                    .push(" AND m.id < ")
                    .bind(c.id.clone())
                    .push("))");
            }
        }
        if sqlite {
            sql.push(" ORDER BY messages_fts.rowid DESC");
        } else {
            sql.push(" ORDER BY m.created_at DESC, m.id DESC");
        }
        let limit = search.limit.clamp(1, 100);
        sql.push(" LIMIT ").bind(limit as i64 + 1);

        let mut rows = HitRow::find_by_statement(Statement::from_sql_and_values(
            backend, sql.text, sql.values,
        ))
        .all(db)
        .await
        .map_err(map_err)?;
        let next_cursor = if rows.len() as u64 > limit {
            rows.truncate(limit as usize);
            rows.last().map(|r| SearchCursor {
                key: r.sort_key,
                id: r.id.clone(),
            })
        } else {
            None
        };
        let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
        let messages = message::Entity::find()
            .filter(message::Column::TenantId.eq(tenant.as_str()))
            .filter(message::Column::Id.is_in(ids.iter().copied()))
            .all(db)
            .await
            .map_err(map_err)?;
        let session_ids: Vec<&str> = messages.iter().map(|m| m.session_id.as_str()).collect();
        let sessions = chat_session::Entity::find()
            .filter(chat_session::Column::TenantId.eq(tenant.as_str()))
            .filter(chat_session::Column::Id.is_in(session_ids))
            .find_also_related(customer::Entity)
            .all(db)
            .await
            .map_err(map_err)?;
        let mut hits = Vec::with_capacity(rows.len());
        for row in &rows {
            let Some(m) = messages.iter().find(|m| m.id == row.id) else {
                continue;
            };
            let Some((s, Some(c))) = sessions.iter().find(|(s, _)| s.id == m.session_id) else {
                return Err(RepoError::Other(format!("message {} has no session", m.id)));
            };
            hits.push(MessageHit {
                message: convert::message(m.clone())?,
                session: convert::session(s.clone(), c.clone())?,
            });
        }
        Ok(SearchPage { hits, next_cursor })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(raw: &str) -> SearchQuery {
        SearchQuery::parse(raw).expect("SearchQuery::parse")
    }

    fn text(backend: DbBackend, raw: &str) -> Option<String> {
        match_of(backend, &q(raw)).and_then(|m| m.text)
    }

    #[test]
    fn each_backend_gets_its_own_syntax() {
        let raw = r#"refun* "late delivery" kettle"#;
        assert_eq!(
            text(DbBackend::Sqlite, raw).as_deref(),
            Some(r#""refun"* "late delivery" "kettle""#)
        );
        assert_eq!(
            text(DbBackend::Postgres, raw).as_deref(),
            Some("refun:* & (late <-> delivery) & kettle")
        );
        assert_eq!(
            text(DbBackend::MySql, raw).as_deref(),
            Some(r#"+refun* +"late delivery" +kettle"#)
        );
    }

    #[test]
    fn words_innodb_does_not_index_are_matched_with_like_there_only() {
        assert_eq!(
            match_of(DbBackend::MySql, &q("the ox kettle re*")),
            Some(Match {
                text: Some("+kettle".into()),
                like: vec!["the".into(), "ox".into(), "re".into()],
            })
        );
        assert_eq!(
            match_of(DbBackend::Sqlite, &q("the ox kettle")),
            Some(Match {
                text: Some(r#""the" "ox" "kettle""#.into()),
                like: vec![],
            })
        );
        assert_eq!(
            match_of(DbBackend::MySql, &q("50%")),
            Some(Match {
                text: None,
                like: vec!["50".into()],
            })
        );
        assert_eq!(match_of(DbBackend::Sqlite, &q("%")), None);
    }
}
