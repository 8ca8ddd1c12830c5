//! The queue of conversations waiting for a person, and the transaction
//! that gives one to an agent.

use std::collections::HashMap;

use async_trait::async_trait;
use chat_domain::repo::AssignmentRepository;
use chat_domain::{
    AgentId, AgentRef, AgentStatus, AssignAttempt, ChatSession, Committed, RepoError, RepoResult,
    SessionChange, SessionId, SessionStatus, TenantId,
};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    TransactionTrait,
};

use crate::convert::{self, now_micros};
use crate::entity::{agent, chat_session, customer};
use crate::{SeaOrmStore, map_err};

#[async_trait]
impl AssignmentRepository for SeaOrmStore {
    async fn queue(&self, tenant: &TenantId, limit: u64) -> RepoResult<Vec<ChatSession>> {
        let rows = chat_session::Entity::find()
            .find_also_related(customer::Entity)
            .filter(chat_session::Column::TenantId.eq(tenant.as_str()))
            .filter(chat_session::Column::Status.eq(SessionStatus::Pending.as_str()))
            .filter(chat_session::Column::QueuedAt.is_not_null())
            .order_by_asc(chat_session::Column::QueuedAt)
            .order_by_asc(chat_session::Column::Id)
            .limit(limit)
            .all(self.db()?)
            .await
            .map_err(map_err)?;
        rows.into_iter()
            .map(|(s, c)| match c {
                Some(c) => convert::session(s, c),
                None => Err(RepoError::Other(format!(
                    "session {} has no customer",
                    s.id
                ))),
            })
            .collect()
    }

    async fn open_counts(&self, tenant: &TenantId) -> RepoResult<HashMap<AgentId, u32>> {
        let rows: Vec<(Option<String>, i64)> = chat_session::Entity::find()
            .select_only()
            .column(chat_session::Column::AssignedAgentId)
            .column_as(chat_session::Column::Id.count(), "n")
            .filter(chat_session::Column::TenantId.eq(tenant.as_str()))
            .filter(chat_session::Column::Status.eq(SessionStatus::Open.as_str()))
            .filter(chat_session::Column::AssignedAgentId.is_not_null())
            .group_by(chat_session::Column::AssignedAgentId)
            .into_tuple()
            .all(self.db()?)
            .await
            .map_err(map_err)?;
        Ok(rows
            .into_iter()
            .filter_map(|(agent, n)| Some((AgentId::new(agent?), u32::try_from(n).ok()?)))
            .collect())
    }

    async fn try_assign(
        &self,
        tenant: &TenantId,
        session: &SessionId,
        agent: &AgentRef,
        capacity: u32,
    ) -> RepoResult<AssignAttempt> {
        let txn = self.db()?.begin().await.map_err(map_err)?;
        // The agent's row first: its lock (the write lock on SQLite)
        // serialises every assignment to this agent, so the count below
        // sees the one that came before.
        let locked = agent::Entity::update_many()
            .col_expr(agent::Column::LastAssignedAt, Expr::val(now_micros()))
            .filter(agent::Column::Id.eq(agent.id.as_str()))
            .filter(agent::Column::TenantId.eq(tenant.as_str()))
            .filter(agent::Column::Active.eq(true))
            .filter(agent::Column::Status.eq(AgentStatus::Online.as_str()))
            .exec(&txn)
            .await
            .map_err(map_err)?;
        if locked.rows_affected == 0 {
            txn.rollback().await.map_err(map_err)?;
            return Ok(AssignAttempt::AgentFull);
        }
        let open = chat_session::Entity::find()
            .filter(chat_session::Column::AssignedAgentId.eq(agent.id.as_str()))
            .filter(chat_session::Column::Status.eq(SessionStatus::Open.as_str()))
            .count(&txn)
            .await
            .map_err(map_err)?;
        if open >= u64::from(capacity) {
            txn.rollback().await.map_err(map_err)?;
            return Ok(AssignAttempt::AgentFull);
        }
        let taken = self
            .apply_state(
                &txn,
                tenant,
                session,
                SessionStatus::Pending,
                SessionStatus::Open,
                Some(agent.clone()),
                SessionChange::Assigned { previous: None },
            )
            .await;
        match taken {
            Ok(Some(current)) => {
                txn.commit().await.map_err(map_err)?;
                Ok(AssignAttempt::Assigned(Box::new(Committed::new(current))))
            }
            Ok(None) | Err(RepoError::NotFound) => {
                txn.rollback().await.map_err(map_err)?;
                Ok(AssignAttempt::SessionTaken)
            }
            Err(e) => Err(e),
        }
    }

    async fn queue_bot_sessions(&self, tenant: &TenantId) -> RepoResult<u64> {
        let res = chat_session::Entity::update_many()
            .col_expr(
                chat_session::Column::QueuedAt,
                Expr::col(chat_session::Column::CreatedAt),
            )
            .filter(chat_session::Column::TenantId.eq(tenant.as_str()))
            .filter(chat_session::Column::Status.eq(SessionStatus::Pending.as_str()))
            .filter(chat_session::Column::QueuedAt.is_null())
            .exec(self.db()?)
            .await
            .map_err(map_err)?;
        Ok(res.rows_affected)
    }
}
