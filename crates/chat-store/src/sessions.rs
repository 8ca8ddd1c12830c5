//! Customers and chat sessions.

use async_trait::async_trait;
use chat_domain::repo::SessionRepository;
use chat_domain::{
    AgentRef, AssigneeFilter, ChatEvent, ChatSession, Committed, NewSession, RepoError, RepoResult,
    SessionChange, SessionFilter, SessionId, SessionKeyHash, SessionStatus, TenantId,
};
use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr, Query};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    TransactionTrait,
};

use crate::convert::{self, new_id, now_micros};
use crate::entity::{chat_session, customer, message};
use crate::{SeaOrmStore, map_err};

/// Escape character for LIKE patterns. Not a backslash, which MySQL would
/// also treat as an escape inside string literals.
const LIKE_ESCAPE: char = '!';

/// `%q%` with the wildcards of `q` made literal, lowercased.
fn contains_pattern(q: &str) -> String {
    let mut p = String::with_capacity(q.len() + 2);
    p.push('%');
    for c in q.to_lowercase().chars() {
        if matches!(c, '%' | '_' | LIKE_ESCAPE) {
            p.push(LIKE_ESCAPE);
        }
        p.push(c);
    }
    p.push('%');
    p
}

fn lower_like<C: sea_orm::sea_query::IntoColumnRef>(
    col: C,
    pattern: &str,
) -> sea_orm::sea_query::Expr {
    Expr::expr(Func::lower(Expr::col(col))).like(LikeExpr::new(pattern).escape(LIKE_ESCAPE))
}

#[async_trait]
impl SessionRepository for SeaOrmStore {
    async fn create(
        &self,
        tenant: &TenantId,
        new: NewSession,
    ) -> RepoResult<Committed<ChatSession>> {
        let now = now_micros();
        let customer = customer::Model {
            id: new_id(),
            tenant_id: tenant.as_str().to_owned(),
            name: new.customer.name,
            email: new.customer.email.map(|e| e.as_str().to_owned()),
            attributes: new.customer.attributes.to_string(),
            created_at: now,
        };
        let session = chat_session::Model {
            id: new_id(),
            tenant_id: tenant.as_str().to_owned(),
            customer_id: customer.id.clone(),
            key_hash: new.key_hash.0,
            status: SessionStatus::Pending.as_str().to_owned(),
            assigned_agent_id: None,
            assigned_agent_name: None,
            page_url: new.context.page_url,
            referrer: new.context.referrer,
            user_agent: new.context.user_agent,
            locale: new.context.locale,
            created_at: now,
            last_activity_at: now,
            last_seq: 0,
            last_message_preview: None,
            bot_handed_off: false,
        };
        let txn = self.db()?.begin().await.map_err(map_err)?;
        customer::Entity::insert(customer::ActiveModel::from(customer.clone()))
            .exec_without_returning(&txn)
            .await
            .map_err(map_err)?;
        chat_session::Entity::insert(chat_session::ActiveModel::from(session.clone()))
            .exec_without_returning(&txn)
            .await
            .map_err(map_err)?;
        let created = convert::session(session, customer)?;
        self.record_event(&txn, tenant, &ChatEvent::SessionStarted(created.clone()))
            .await?;
        txn.commit().await.map_err(map_err)?;
        Ok(Committed::new(created))
    }

    async fn find_by_key_hash(&self, key_hash: &SessionKeyHash) -> RepoResult<Option<ChatSession>> {
        let found = chat_session::Entity::find()
            .filter(chat_session::Column::KeyHash.eq(key_hash.0.as_str()))
            .find_also_related(customer::Entity)
            .one(self.db()?)
            .await
            .map_err(map_err)?;
        joined(found)
    }

    async fn find(&self, tenant: &TenantId, id: &SessionId) -> RepoResult<Option<ChatSession>> {
        let found = chat_session::Entity::find_by_id(id.as_str())
            .filter(chat_session::Column::TenantId.eq(tenant.as_str()))
            .find_also_related(customer::Entity)
            .one(self.db()?)
            .await
            .map_err(map_err)?;
        joined(found)
    }

    async fn list(
        &self,
        tenant: &TenantId,
        filter: &SessionFilter,
    ) -> RepoResult<Vec<ChatSession>> {
        let mut cond = Condition::all().add(chat_session::Column::TenantId.eq(tenant.as_str()));
        if let Some(status) = filter.status {
            cond = cond.add(chat_session::Column::Status.eq(status.as_str()));
        }
        match filter.assignee {
            AssigneeFilter::Any => {}
            AssigneeFilter::Unassigned => {
                cond = cond.add(chat_session::Column::AssignedAgentId.is_null())
            }
            AssigneeFilter::Agent => {
                let agent = filter.agent_id.as_ref().map(|a| a.as_str().to_owned());
                cond = cond.add(chat_session::Column::AssignedAgentId.eq(agent));
            }
        }
        if let Some(customer_id) = &filter.customer_id {
            cond = cond.add(chat_session::Column::CustomerId.eq(customer_id.as_str()));
        }
        if let Some(q) = &filter.query {
            let pattern = contains_pattern(q);
            let in_messages = Query::select()
                .expr(Expr::val(1))
                .from(message::Entity)
                .and_where(
                    Expr::col((message::Entity, message::Column::SessionId))
                        .equals((chat_session::Entity, chat_session::Column::Id)),
                )
                .and_where(lower_like(
                    (message::Entity, message::Column::Body),
                    &pattern,
                ))
                .to_owned();
            cond = cond.add(
                Condition::any()
                    .add(lower_like(
                        (customer::Entity, customer::Column::Name),
                        &pattern,
                    ))
                    .add(lower_like(
                        (customer::Entity, customer::Column::Email),
                        &pattern,
                    ))
                    .add(Expr::exists(in_messages)),
            );
        }
        let rows = chat_session::Entity::find()
            .find_also_related(customer::Entity)
            .filter(cond)
            .order_by_desc(chat_session::Column::LastActivityAt)
            .order_by_desc(chat_session::Column::Id)
            .limit(filter.limit)
            .all(self.db()?)
            .await
            .map_err(map_err)?;
        rows.into_iter()
            .filter_map(|row| joined(Some(row)).transpose())
            .collect()
    }

    async fn update_state(
        &self,
        tenant: &TenantId,
        id: &SessionId,
        expected: SessionStatus,
        status: SessionStatus,
        assigned: Option<AgentRef>,
        change: SessionChange,
    ) -> RepoResult<Committed<ChatSession>> {
        let (agent_id, agent_name) = match assigned.clone() {
            Some(a) => (Some(a.id.as_str().to_owned()), Some(a.name)),
            None => (None, None),
        };
        let txn = self.db()?.begin().await.map_err(map_err)?;
        let res = chat_session::Entity::update_many()
            .set(chat_session::ActiveModel {
                status: Set(status.as_str().to_owned()),
                assigned_agent_id: Set(agent_id),
                assigned_agent_name: Set(agent_name),
                last_activity_at: Set(now_micros()),
                ..Default::default()
            })
            .filter(chat_session::Column::Id.eq(id.as_str()))
            .filter(chat_session::Column::TenantId.eq(tenant.as_str()))
            .filter(chat_session::Column::Status.eq(expected.as_str()))
            .exec(&txn)
            .await
            .map_err(map_err)?;
        let current = joined(
            chat_session::Entity::find_by_id(id.as_str())
                .filter(chat_session::Column::TenantId.eq(tenant.as_str()))
                .find_also_related(customer::Entity)
                .one(&txn)
                .await
                .map_err(map_err)?,
        )?
        .ok_or(RepoError::NotFound)?;
        if res.rows_affected == 0 {
            txn.rollback().await.map_err(map_err)?;
            return Err(RepoError::Conflict("stale_state".into()));
        }
        let event = match (change, assigned) {
            (SessionChange::Assigned { previous }, Some(agent)) => ChatEvent::SessionAssigned {
                session: current.clone(),
                agent,
                previous_agent: previous,
            },
            (SessionChange::Closed, _) => ChatEvent::SessionClosed(current.clone()),
            (SessionChange::Reopened, _) => ChatEvent::SessionReopened(current.clone()),
            (SessionChange::Assigned { .. }, None) => {
                return Err(RepoError::Other("an assignment needs an agent".into()));
            }
        };
        self.record_event(&txn, tenant, &event).await?;
        txn.commit().await.map_err(map_err)?;
        Ok(Committed::new(current))
    }

    async fn mark_handed_off(
        &self,
        tenant: &TenantId,
        id: &SessionId,
        reason: &'static str,
    ) -> RepoResult<bool> {
        let txn = self.db()?.begin().await.map_err(map_err)?;
        let res = chat_session::Entity::update_many()
            .col_expr(chat_session::Column::BotHandedOff, Expr::val(true))
            .filter(chat_session::Column::Id.eq(id.as_str()))
            .filter(chat_session::Column::TenantId.eq(tenant.as_str()))
            .filter(chat_session::Column::BotHandedOff.eq(false))
            .exec(&txn)
            .await
            .map_err(map_err)?;
        if res.rows_affected != 1 {
            txn.rollback().await.map_err(map_err)?;
            return Ok(false);
        }
        let event = ChatEvent::BotHandoff {
            session_id: id.clone(),
            reason,
        };
        self.record_event(&txn, tenant, &event).await?;
        txn.commit().await.map_err(map_err)?;
        Ok(true)
    }
}

fn joined(
    row: Option<(chat_session::Model, Option<customer::Model>)>,
) -> RepoResult<Option<ChatSession>> {
    match row {
        Some((s, Some(c))) => convert::session(s, c).map(Some),
        Some((s, None)) => Err(RepoError::Other(format!(
            "session {} has no customer",
            s.id
        ))),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_wildcards_in_queries_are_escaped() {
        assert_eq!(contains_pattern("100%_A!"), "%100!%!_a!!%");
    }
}
