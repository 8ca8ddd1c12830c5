//! Messages, with gapless per-session `seq`.
//!
//! `append` runs one transaction whose first statement is the write that
//! bumps the session's `last_seq`. That statement takes the session's row
//! lock (PostgreSQL, MySQL) or the database write lock (SQLite) before
//! anything is read, so concurrent senders to one session queue up instead
//! of reading the same `last_seq`, and SQLite never has to upgrade a read
//! snapshot to a write (which would fail with `SQLITE_BUSY` at once instead
//! of waiting). A rolled-back transaction gives its number back, so there are
//! no gaps. On SQLite, customers' and the bot's messages without files are
//! stored by the writer thread (`writer.rs`) under the same rules.

use async_trait::async_trait;
use chat_domain::message::preview;
use chat_domain::repo::MessageRepository;
use chat_domain::{
    AppendOutcome, ChatEvent, Message, MessageSearch, NewMessage, RepoError, RepoResult,
    SearchPage, SenderType, SessionId, SessionStatus, TenantId,
};
use sea_orm::sea_query::{Expr, ExprTrait, Func, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait, SqlErr, TransactionTrait,
};

use crate::convert::{self, new_id, now_micros};
use crate::entity::{chat_session, message};
use crate::{SeaOrmStore, map_err};

async fn existing<C: ConnectionTrait>(
    txn: &C,
    session: &SessionId,
    client_msg_id: Option<&str>,
) -> RepoResult<Option<message::Model>> {
    let Some(cid) = client_msg_id else {
        return Ok(None);
    };
    message::Entity::find()
        .filter(message::Column::SessionId.eq(session.as_str()))
        .filter(message::Column::ClientMsgId.eq(cid))
        .one(txn)
        .await
        .map_err(map_err)
}

#[async_trait]
impl MessageRepository for SeaOrmStore {
    async fn append(
        &self,
        tenant: &TenantId,
        session: &SessionId,
        new: NewMessage,
    ) -> RepoResult<AppendOutcome> {
        let new = match &self.inner.writer {
            Some(writer) if crate::writer::Writer::takes(&new) => {
                self.db()?;
                match writer.append(tenant, session, new).await {
                    Ok(answer) => return answer,
                    Err(new) => new,
                }
            }
            _ => new,
        };
        let now = now_micros();
        let client_msg_id = new.client_msg_id.as_ref().map(|c| c.as_str().to_owned());
        let txn = self.db()?.begin().await.map_err(map_err)?;
        let mut bump = chat_session::Entity::update_many();
        match new.sender_type {
            SenderType::Customer => {
                bump = bump.col_expr(
                    chat_session::Column::UnreadCount,
                    Expr::col(chat_session::Column::UnreadCount).add(1),
                );
            }
            SenderType::Bot => {
                bump = bump.col_expr(chat_session::Column::BotAnswered, Expr::val(true));
            }
            SenderType::Agent => {
                // An agent's latest message, what the unseen-reply email
                // looks for. Set before `last_seq` in the statement: MySQL
                // assigns left to right (and reads the new value), the
                // others read the old one everywhere; both give the new seq.
                bump = bump
                    .col_expr(
                        chat_session::Column::LastAgentSeq,
                        Expr::col(chat_session::Column::LastSeq).add(1),
                    )
                    .col_expr(chat_session::Column::LastAgentAt, Expr::val(now));
            }
            _ => {}
        }
        let bump = bump
            .col_expr(
                chat_session::Column::LastSeq,
                Expr::col(chat_session::Column::LastSeq).add(1),
            )
            .col_expr(chat_session::Column::LastActivityAt, Expr::val(now))
            .col_expr(
                chat_session::Column::LastMessagePreview,
                Expr::val(preview(new.body.as_str())),
            )
            // By the primary key alone (the tenant is checked below, in
            // this transaction): with the tenant in the condition too,
            // MariaDB may lock its way through a secondary index that
            // starts with the tenant, and concurrent appends deadlock.
            .filter(chat_session::Column::Id.eq(session.as_str()))
            .filter(chat_session::Column::Status.ne(SessionStatus::Closed.as_str()));
        // What the append needs of the session: its new `seq`, its tenant,
        // and when (and since when) a person first answered.
        let wanted = || -> [Expr; 4] {
            [
                Expr::col(chat_session::Column::LastSeq),
                Expr::col(chat_session::Column::TenantId),
                Expr::col(chat_session::Column::FirstResponseAt),
                Func::coalesce([
                    Expr::col(chat_session::Column::HandedOffAt),
                    Expr::col(chat_session::Column::CreatedAt),
                ])
                .into(),
            ]
        };
        // In the update's own answer where the database gives one
        // (`RETURNING`: SQLite, PostgreSQL), read back after it otherwise
        // (MySQL/MariaDB).
        let bumped: Option<(i64, String, Option<i64>, i64)> = if txn.support_returning() {
            let mut update = bump.into_query();
            update.returning(Query::returning().exprs(wanted()));
            txn.query_one_raw(txn.get_database_backend().build(&update))
                .await
                .map_err(map_err)?
                .map(|r| {
                    Ok::<_, sea_orm::DbErr>((
                        r.try_get_by_index(0)?,
                        r.try_get_by_index(1)?,
                        r.try_get_by_index(2)?,
                        r.try_get_by_index(3)?,
                    ))
                })
                .transpose()
                .map_err(map_err)?
        } else if bump.exec(&txn).await.map_err(map_err)?.rows_affected == 0 {
            None
        } else {
            Some(
                chat_session::Entity::find_by_id(session.as_str())
                    .select_only()
                    .exprs(wanted())
                    .into_tuple()
                    .one(&txn)
                    .await
                    .map_err(map_err)?
                    .ok_or(RepoError::NotFound)?,
            )
        };

        let Some((seq, owner, answered, waited_from)) = bumped else {
            // Closed or missing. A retry of a message stored before the
            // session closed still gets its message back.
            let found = existing(&txn, session, client_msg_id.as_deref()).await?;
            let exists = chat_session::Entity::find_by_id(session.as_str())
                .filter(chat_session::Column::TenantId.eq(tenant.as_str()))
                .one(&txn)
                .await
                .map_err(map_err)?
                .is_some();
            txn.rollback().await.map_err(map_err)?;
            return match found {
                Some(m) if exists => Ok(AppendOutcome::Existing(convert::message(m)?)),
                _ if exists => Err(RepoError::Conflict("session_closed".into())),
                _ => Err(RepoError::NotFound),
            };
        };
        if owner != tenant.as_str() {
            txn.rollback().await.map_err(map_err)?;
            return Err(RepoError::NotFound);
        }
        // A retry of a stored `client_msg_id` is found by the insert below
        // (the unique index on session and client id): one statement fewer
        // for every first send, which is nearly every send.

        if new.sender_type == SenderType::Agent && answered.is_none() {
            // The first answer of a person: when, and how much of the
            // wait fell into the business hours.
            let business = crate::reports::business_micros(
                &txn,
                tenant,
                waited_from,
                Ord::max(now, waited_from),
            )
            .await?;
            chat_session::Entity::update_many()
                .col_expr(chat_session::Column::FirstResponseAt, Expr::val(now))
                .col_expr(
                    chat_session::Column::FirstResponseBusiness,
                    Expr::val(business),
                )
                .filter(chat_session::Column::Id.eq(session.as_str()))
                .exec(&txn)
                .await
                .map_err(map_err)?;
        }

        let message_id = new_id();
        let files = crate::attachments::take_for_message(
            &txn,
            tenant,
            session,
            &message_id,
            new.sender_type,
            &new.attachment_ids,
        )
        .await;
        let files = match files {
            Ok(f) => f,
            Err(e) => {
                txn.rollback().await.map_err(map_err)?;
                return Err(e);
            }
        };
        if let ("", Some(f)) = (new.body.as_str(), files.first()) {
            // A message of files alone: the list shows the first file.
            chat_session::Entity::update_many()
                .col_expr(
                    chat_session::Column::LastMessagePreview,
                    Expr::val(preview(&format!("📎 {}", f.name))),
                )
                .filter(chat_session::Column::Id.eq(session.as_str()))
                .exec(&txn)
                .await
                .map_err(map_err)?;
        }
        let model = message::Model {
            id: message_id,
            tenant_id: tenant.as_str().to_owned(),
            session_id: session.as_str().to_owned(),
            seq,
            sender_type: new.sender_type.as_str().to_owned(),
            sender_id: new.sender_id,
            sender_name: new.sender_name,
            body: new.body.into_string(),
            client_msg_id: client_msg_id.clone(),
            created_at: now,
            attachments: convert::attachments_json(&files),
        };
        let inserted = message::Entity::insert(message::ActiveModel::from(model.clone()))
            .exec_without_returning(&txn)
            .await;
        if let Err(e) = inserted {
            // Rolled back whatever the error: the session's `seq` stays
            // gapless. A duplicate client id is a retry of a stored message.
            let duplicate = matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)));
            txn.rollback().await.map_err(map_err)?;
            if duplicate
                && let Some(m) =
                    existing(self.db()?, session, model.client_msg_id.as_deref()).await?
            {
                return Ok(AppendOutcome::Existing(convert::message(m)?));
            }
            return Err(map_err(e));
        }
        let stored = convert::message(model)?;
        self.record_event(&txn, tenant, &ChatEvent::MessageNew(stored.clone()))
            .await?;
        txn.commit().await.map_err(map_err)?;
        Ok(AppendOutcome::Created(stored))
    }

    async fn list(
        &self,
        tenant: &TenantId,
        session: &SessionId,
        after_seq: i64,
        limit: u64,
    ) -> RepoResult<Vec<Message>> {
        message::Entity::find()
            .filter(message::Column::TenantId.eq(tenant.as_str()))
            .filter(message::Column::SessionId.eq(session.as_str()))
            .filter(message::Column::Seq.gt(after_seq))
            .order_by_asc(message::Column::Seq)
            .limit(limit)
            .all(self.db()?)
            .await
            .map_err(map_err)?
            .into_iter()
            .map(convert::message)
            .collect()
    }

    async fn count_by_sender(
        &self,
        tenant: &TenantId,
        session: &SessionId,
        sender: SenderType,
    ) -> RepoResult<u64> {
        message::Entity::find()
            .filter(message::Column::TenantId.eq(tenant.as_str()))
            .filter(message::Column::SessionId.eq(session.as_str()))
            .filter(message::Column::SenderType.eq(sender.as_str()))
            .count(self.db()?)
            .await
            .map_err(map_err)
    }

    async fn search(&self, tenant: &TenantId, search: &MessageSearch) -> RepoResult<SearchPage> {
        self.search_messages(tenant, search).await
    }

    async fn list_before(
        &self,
        tenant: &TenantId,
        session: &SessionId,
        before_seq: i64,
        limit: u64,
    ) -> RepoResult<Vec<Message>> {
        let mut rows = message::Entity::find()
            .filter(message::Column::TenantId.eq(tenant.as_str()))
            .filter(message::Column::SessionId.eq(session.as_str()))
            .filter(message::Column::Seq.lt(before_seq))
            .order_by_desc(message::Column::Seq)
            .limit(limit)
            .all(self.db()?)
            .await
            .map_err(map_err)?;
        rows.reverse();
        rows.into_iter().map(convert::message).collect()
    }
}
