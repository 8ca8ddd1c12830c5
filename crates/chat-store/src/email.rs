//! The email outbox, the unseen-reply scan, unsubscribes, the agents'
//! email setting and the secrets the nodes share.

use std::time::Duration;

use async_trait::async_trait;
use chat_domain::email::{ClaimedEmail, EmailKind, EmailOutcome, NewEmail, UnseenDue};
use chat_domain::repo::EmailRepository;
use chat_domain::{
    AgentId, CustomerId, Email, RepoError, RepoResult, SessionId, SessionKeyHash, TenantId,
    Timestamp,
};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, JoinType, QueryFilter, QueryOrder,
    QuerySelect, RelationTrait, TransactionTrait,
};

use crate::convert::{from_micros, new_id, now_micros, to_micros};
use crate::entity::{agent, chat_session, customer, email_outbox, server_secret};
use crate::{SeaOrmStore, map_err};

const PENDING: &str = "pending";

async fn insert<C: ConnectionTrait>(
    db: &C,
    tenant: &TenantId,
    new: NewEmail,
    now: i64,
) -> RepoResult<bool> {
    let model = email_outbox::Model {
        id: new_id(),
        tenant_id: tenant.as_str().to_owned(),
        kind: new.kind.as_str().to_owned(),
        session_id: new.session_id.as_str().to_owned(),
        agent_id: new.agent_id.map(|a| a.as_str().to_owned()),
        from_seq: new.from_seq,
        to_seq: new.to_seq,
        dedupe_key: new.dedupe_key,
        status: PENDING.to_owned(),
        attempts: 0,
        next_attempt_at: now,
        lease_until: 0,
        last_error: None,
        created_at: now,
        sent_at: None,
    };
    // A key queued already is a conflict: nothing new (the unique index
    // decides, on every backend alike).
    let res = email_outbox::Entity::insert(email_outbox::ActiveModel::from(model))
        .exec_without_returning(db)
        .await
        .map_err(map_err);
    match res {
        Ok(_) => Ok(true),
        Err(RepoError::Conflict(_)) => Ok(false),
        Err(e) => Err(e),
    }
}

fn claimed(m: email_outbox::Model) -> RepoResult<ClaimedEmail> {
    Ok(ClaimedEmail {
        kind: EmailKind::parse(&m.kind)
            .ok_or_else(|| RepoError::Other(format!("stored email kind {:?}", m.kind)))?,
        id: m.id,
        tenant_id: TenantId::new(m.tenant_id),
        session_id: SessionId::new(m.session_id),
        agent_id: m.agent_id.map(AgentId::new),
        from_seq: m.from_seq,
        to_seq: m.to_seq,
        attempts: u32::try_from(m.attempts).unwrap_or(0),
        created_at: from_micros(m.created_at)?,
    })
}

#[async_trait]
impl EmailRepository for SeaOrmStore {
    async fn enqueue(&self, tenant: &TenantId, new: NewEmail) -> RepoResult<bool> {
        insert(self.db()?, tenant, new, now_micros()).await
    }

    async fn unseen_due(
        &self,
        since: Timestamp,
        until: Timestamp,
        limit: u64,
    ) -> RepoResult<Vec<UnseenDue>> {
        let rows: Vec<(String, String, i64, i64, i64)> = chat_session::Entity::find()
            .select_only()
            .column(chat_session::Column::TenantId)
            .column(chat_session::Column::Id)
            .column(chat_session::Column::CustomerDeliveredSeq)
            .column(chat_session::Column::EmailedSeq)
            .column(chat_session::Column::LastAgentSeq)
            .join(JoinType::InnerJoin, chat_session::Relation::Customer.def())
            .filter(chat_session::Column::LastAgentAt.gt(to_micros(since)))
            .filter(chat_session::Column::LastAgentAt.lte(to_micros(until)))
            .filter(
                Expr::col((chat_session::Entity, chat_session::Column::LastAgentSeq)).gt(
                    Expr::col((
                        chat_session::Entity,
                        chat_session::Column::CustomerDeliveredSeq,
                    )),
                ),
            )
            .filter(
                Expr::col((chat_session::Entity, chat_session::Column::LastAgentSeq)).gt(
                    Expr::col((chat_session::Entity, chat_session::Column::EmailedSeq)),
                ),
            )
            .filter(customer::Column::Email.is_not_null())
            .filter(customer::Column::EmailUnsubscribedAt.is_null())
            .order_by_asc(chat_session::Column::LastAgentAt)
            .limit(limit)
            .into_tuple()
            .all(self.db()?)
            .await
            .map_err(map_err)?;
        Ok(rows
            .into_iter()
            .map(|(tenant, id, delivered, emailed, upto)| UnseenDue {
                tenant_id: TenantId::new(tenant),
                session_id: SessionId::new(id),
                after_seq: Ord::max(delivered, emailed),
                upto_seq: upto,
            })
            .collect())
    }

    async fn queue_unseen(&self, due: &UnseenDue) -> RepoResult<bool> {
        let txn = self.db()?.begin().await.map_err(map_err)?;
        // The conditional write decides: of several scanners, the one whose
        // update still sees the replies unsent queues them.
        let res = chat_session::Entity::update_many()
            .col_expr(chat_session::Column::EmailedSeq, Expr::val(due.upto_seq))
            .filter(chat_session::Column::Id.eq(due.session_id.as_str()))
            .filter(chat_session::Column::EmailedSeq.lt(due.upto_seq))
            .filter(chat_session::Column::CustomerDeliveredSeq.lt(due.upto_seq))
            .exec(&txn)
            .await
            .map_err(map_err)?;
        if res.rows_affected == 0 {
            txn.rollback().await.map_err(map_err)?;
            return Ok(false);
        }
        let new = NewEmail {
            kind: EmailKind::Unseen,
            session_id: due.session_id.clone(),
            agent_id: None,
            from_seq: due.after_seq,
            to_seq: due.upto_seq,
            dedupe_key: format!("unseen:{}:{}", due.session_id.as_str(), due.upto_seq),
        };
        let queued = insert(&txn, &due.tenant_id, new, now_micros()).await?;
        txn.commit().await.map_err(map_err)?;
        Ok(queued)
    }

    async fn claim_emails(
        &self,
        now: Timestamp,
        limit: u64,
        lease: Duration,
    ) -> RepoResult<Vec<ClaimedEmail>> {
        let now = to_micros(now);
        let lease_until = now + i64::try_from(lease.as_micros()).unwrap_or(i64::MAX / 2);
        let due = email_outbox::Entity::find()
            .filter(email_outbox::Column::Status.eq(PENDING))
            .filter(email_outbox::Column::NextAttemptAt.lte(now))
            .filter(email_outbox::Column::LeaseUntil.lt(now))
            .order_by_asc(email_outbox::Column::NextAttemptAt)
            .limit(limit)
            .all(self.db()?)
            .await
            .map_err(map_err)?;
        let mut out = Vec::with_capacity(due.len());
        for m in due {
            // Only the sender whose update still sees the old lease wins.
            let won = email_outbox::Entity::update_many()
                .col_expr(email_outbox::Column::LeaseUntil, Expr::val(lease_until))
                .filter(email_outbox::Column::Id.eq(m.id.as_str()))
                .filter(email_outbox::Column::LeaseUntil.eq(m.lease_until))
                .filter(email_outbox::Column::Status.eq(PENDING))
                .exec(self.db()?)
                .await
                .map_err(map_err)?
                .rows_affected
                == 1;
            if won {
                out.push(claimed(m)?);
            }
        }
        Ok(out)
    }

    async fn record_email(
        &self,
        id: &str,
        now: Timestamp,
        outcome: EmailOutcome,
    ) -> RepoResult<()> {
        let now = to_micros(now);
        let mut model = email_outbox::ActiveModel {
            lease_until: Set(0),
            ..Default::default()
        };
        let (status, error) = match outcome {
            EmailOutcome::Sent => {
                model.sent_at = Set(Some(now));
                ("sent", None)
            }
            EmailOutcome::Dropped(why) => ("dropped", Some(why.to_owned())),
            EmailOutcome::Failed {
                error,
                retry_at: Some(at),
            } => {
                model.next_attempt_at = Set(to_micros(at));
                (PENDING, Some(error))
            }
            EmailOutcome::Failed {
                error,
                retry_at: None,
            } => ("failed", Some(error)),
        };
        model.status = Set(status.to_owned());
        model.last_error = Set(error.map(|e| e.chars().take(500).collect()));
        email_outbox::Entity::update_many()
            .set(model)
            .col_expr(
                email_outbox::Column::Attempts,
                Expr::col(email_outbox::Column::Attempts).add(1),
            )
            .filter(email_outbox::Column::Id.eq(id))
            .exec(self.db()?)
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn customer_address(
        &self,
        tenant: &TenantId,
        customer_id: &CustomerId,
    ) -> RepoResult<Option<Email>> {
        let row: Option<(Option<String>, Option<i64>)> =
            customer::Entity::find_by_id(customer_id.as_str())
                .select_only()
                .column(customer::Column::Email)
                .column(customer::Column::EmailUnsubscribedAt)
                .filter(customer::Column::TenantId.eq(tenant.as_str()))
                .into_tuple()
                .one(self.db()?)
                .await
                .map_err(map_err)?;
        Ok(match row {
            Some((Some(email), None)) => Email::parse(&email).ok(),
            _ => None,
        })
    }

    async fn unsubscribe(&self, customer_id: &CustomerId) -> RepoResult<bool> {
        let res = customer::Entity::update_many()
            .col_expr(
                customer::Column::EmailUnsubscribedAt,
                Expr::val(now_micros()),
            )
            .filter(customer::Column::Id.eq(customer_id.as_str()))
            .filter(customer::Column::EmailUnsubscribedAt.is_null())
            .exec(self.db()?)
            .await
            .map_err(map_err)?;
        if res.rows_affected == 1 {
            return Ok(true);
        }
        // Unsubscribed already, or no such customer.
        Ok(customer::Entity::find_by_id(customer_id.as_str())
            .one(self.db()?)
            .await
            .map_err(map_err)?
            .is_some())
    }

    async fn email_when_offline(&self, tenant: &TenantId, id: &AgentId) -> RepoResult<bool> {
        let on: Option<bool> = agent::Entity::find_by_id(id.as_str())
            .select_only()
            .column(agent::Column::EmailWhenOffline)
            .filter(agent::Column::TenantId.eq(tenant.as_str()))
            .into_tuple()
            .one(self.db()?)
            .await
            .map_err(map_err)?;
        on.ok_or(RepoError::NotFound)
    }

    async fn set_email_when_offline(
        &self,
        tenant: &TenantId,
        id: &AgentId,
        on: bool,
    ) -> RepoResult<bool> {
        let res = agent::Entity::update_many()
            .col_expr(agent::Column::EmailWhenOffline, Expr::val(on))
            .filter(agent::Column::Id.eq(id.as_str()))
            .filter(agent::Column::TenantId.eq(tenant.as_str()))
            .exec(self.db()?)
            .await
            .map_err(map_err)?;
        Ok(res.rows_affected == 1)
    }

    async fn shared_secret(&self, name: &str, fresh: String) -> RepoResult<String> {
        let row = server_secret::Model {
            name: name.to_owned(),
            value: fresh,
        };
        // The first node to get here stores its secret; every node then
        // reads the one stored.
        let res = server_secret::Entity::insert(server_secret::ActiveModel::from(row))
            .exec_without_returning(self.db()?)
            .await
            .map_err(map_err);
        match res {
            Ok(_) | Err(RepoError::Conflict(_)) => {}
            Err(e) => return Err(e),
        }
        server_secret::Entity::find_by_id(name)
            .one(self.db()?)
            .await
            .map_err(map_err)?
            .map(|m| m.value)
            .ok_or(RepoError::NotFound)
    }

    async fn rekey_session(
        &self,
        tenant: &TenantId,
        id: &SessionId,
        key_hash: SessionKeyHash,
    ) -> RepoResult<bool> {
        let res = chat_session::Entity::update_many()
            .col_expr(chat_session::Column::KeyHash, Expr::val(key_hash.0))
            .filter(chat_session::Column::Id.eq(id.as_str()))
            .filter(chat_session::Column::TenantId.eq(tenant.as_str()))
            .exec(self.db()?)
            .await
            .map_err(map_err)?;
        Ok(res.rows_affected == 1)
    }
}
