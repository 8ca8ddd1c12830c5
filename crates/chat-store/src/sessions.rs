//! Customers and chat sessions.

use async_trait::async_trait;
use chat_domain::repo::SessionRepository;
use chat_domain::{
    AgentRef, AssigneeFilter, ChatEvent, ChatSession, Committed, CustomerId, NewSession,
    ReceiptChange, ReceiptSide, ReceiptUpdate, RepoError, RepoResult, SessionChange, SessionFilter,
    SessionId, SessionKeyHash, SessionStatus, TenantId, Timestamp, VisitorLink,
};
use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr, Query};
use sea_orm::{
    ActiveValue::{NotSet, Set},
    ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect, TransactionTrait,
};

use crate::convert::{self, new_id, now_micros};
use crate::entity::{chat_session, customer, label, message, session_label};
use crate::{SeaOrmStore, map_err};

/// Escape character for LIKE patterns. Not a backslash, which MySQL would
/// also treat as an escape inside string literals.
const LIKE_ESCAPE: char = '!';

/// `%q%` with the wildcards of `q` made literal, lowercased.
pub(crate) fn contains_pattern(q: &str) -> String {
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
        let txn = self.db()?.begin().await.map_err(map_err)?;
        let customer = match new.visitor {
            VisitorLink::New(token_hash) => {
                let customer = customer::Model {
                    id: new_id(),
                    tenant_id: tenant.as_str().to_owned(),
                    name: new.customer.name,
                    email: new.customer.email.map(|e| e.as_str().to_owned()),
                    attributes: new.customer.attributes.to_string(),
                    created_at: now,
                    visitor_token_hash: Some(token_hash.0),
                    visitor_seen_at: Some(now),
                    email_unsubscribed_at: None,
                };
                customer::Entity::insert(customer::ActiveModel::from(customer.clone()))
                    .exec_without_returning(&txn)
                    .await
                    .map_err(map_err)?;
                customer
            }
            VisitorLink::Returning(id) => {
                returning_customer(&txn, tenant, &id, new.customer, now).await?
            }
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
            customer_delivered_seq: 0,
            customer_read_seq: 0,
            agent_delivered_seq: 0,
            agent_read_seq: 0,
            unread_count: 0,
            labels: "[]".to_owned(),
            queued_at: new.queued.then_some(now),
            rating_score: None,
            rating_comment: None,
            rated_at: None,
            handed_off_at: None,
            first_response_at: None,
            first_response_business: None,
            resolved_at: None,
            resolution_business: None,
            bot_answered: false,
            last_agent_seq: 0,
            last_agent_at: None,
            emailed_seq: 0,
            offline: new.offline,
        };
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
        // SQLite: the reader thread's prepared statement (`reader.rs`),
        // unless it is busy.
        if let Some(reader) = self.reader()?
            && let Some(found) = reader.session_by_key(&key_hash.0).await
        {
            return joined(found?.map(|(s, c)| (s, Some(c))));
        }
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
        if let Some(name) = &filter.label {
            let tagged = Query::select()
                .column((session_label::Entity, session_label::Column::SessionId))
                .from(session_label::Entity)
                .inner_join(
                    label::Entity,
                    Expr::col((label::Entity, label::Column::Id))
                        .equals((session_label::Entity, session_label::Column::LabelId)),
                )
                .and_where(Expr::col((label::Entity, label::Column::TenantId)).eq(tenant.as_str()))
                .and_where(Expr::col((label::Entity, label::Column::Name)).eq(name.as_str()))
                .to_owned();
            cond = cond.add(chat_session::Column::Id.in_subquery(tagged));
        }
        if let Some(customer_id) = &filter.customer_id {
            cond = cond.add(chat_session::Column::CustomerId.eq(customer_id.as_str()));
        }
        if let Some(q) = &filter.query {
            let pattern = contains_pattern(q);
            let mut any = Condition::any()
                .add(lower_like(
                    (customer::Entity, customer::Column::Name),
                    &pattern,
                ))
                .add(lower_like(
                    (customer::Entity, customer::Column::Email),
                    &pattern,
                ));
            let backend = self.db()?.get_database_backend();
            if let Some(in_messages) = filter
                .message_query
                .as_ref()
                .and_then(|mq| crate::search::sessions_matching(backend, tenant, mq))
            {
                any = any.add(in_messages);
            }
            cond = cond.add(any);
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
        let txn = self.db()?.begin().await.map_err(map_err)?;
        match self
            .apply_state(&txn, tenant, id, expected, status, assigned, change)
            .await?
        {
            Some(current) => {
                txn.commit().await.map_err(map_err)?;
                Ok(Committed::new(current))
            }
            None => {
                txn.rollback().await.map_err(map_err)?;
                Err(RepoError::Conflict("stale_state".into()))
            }
        }
    }

    async fn advance_receipt(
        &self,
        tenant: &TenantId,
        id: &SessionId,
        side: ReceiptSide,
        update: ReceiptUpdate,
    ) -> RepoResult<Option<Committed<ReceiptChange>>> {
        let db = self.db()?;
        let find = || {
            chat_session::Entity::find_by_id(id.as_str())
                .filter(chat_session::Column::TenantId.eq(tenant.as_str()))
        };
        let before = find()
            .one(db)
            .await
            .map_err(map_err)?
            .ok_or(RepoError::NotFound)?;
        let update = update.capped(before.last_seq);
        let (old_delivered, old_read) = pointers(&before, side);
        if update.delivered <= old_delivered && update.read <= old_read {
            return Ok(None);
        }
        let (delivered_col, read_col) = receipt_columns(side);
        let mut stmt = chat_session::Entity::update_many();
        if side == ReceiptSide::Agent && update.read > old_read {
            // First, while the read pointer is still the old one (MySQL
            // assigns left to right).
            let unread = Query::select()
                .expr(Expr::col(message::Column::Id).count())
                .from(message::Entity)
                .and_where(Expr::col(message::Column::SessionId).eq(id.as_str()))
                .and_where(Expr::col(message::Column::SenderType).eq("customer"))
                .and_where(Expr::col(message::Column::Seq).gt(update.read))
                .to_owned();
            stmt = stmt.col_expr(
                chat_session::Column::UnreadCount,
                Expr::case(
                    Expr::col(read_col).lt(update.read),
                    Expr::SubQuery(None, Box::new(unread.into())),
                )
                .finally(Expr::col(chat_session::Column::UnreadCount))
                .into(),
            );
        }
        let res = stmt
            .col_expr(delivered_col, raised(delivered_col, update.delivered))
            .col_expr(read_col, raised(read_col, update.read))
            .filter(chat_session::Column::Id.eq(id.as_str()))
            .filter(chat_session::Column::TenantId.eq(tenant.as_str()))
            .filter(
                Condition::any()
                    .add(Expr::col(delivered_col).lt(update.delivered))
                    .add(Expr::col(read_col).lt(update.read)),
            )
            .exec(db)
            .await
            .map_err(map_err)?;
        if res.rows_affected == 0 {
            return Ok(None);
        }
        let after = find()
            .one(db)
            .await
            .map_err(map_err)?
            .ok_or(RepoError::NotFound)?;
        let (delivered_seq, read_seq) = pointers(&after, side);
        let mut newly_delivered = Vec::new();
        if delivered_seq > old_delivered {
            let sender = Expr::col(message::Column::SenderType);
            let received = match side {
                ReceiptSide::Customer => sender.ne("customer"),
                ReceiptSide::Agent => sender.eq("customer"),
            };
            let times: Vec<i64> = message::Entity::find()
                .select_only()
                .column(message::Column::CreatedAt)
                .filter(message::Column::SessionId.eq(id.as_str()))
                .filter(message::Column::Seq.gt(old_delivered))
                .filter(message::Column::Seq.lte(delivered_seq))
                .filter(received)
                .order_by_desc(message::Column::Seq)
                .limit(MEASURED_PER_RECEIPT)
                .into_tuple()
                .all(db)
                .await
                .map_err(map_err)?;
            newly_delivered = times
                .into_iter()
                .map(convert::from_micros)
                .collect::<RepoResult<Vec<Timestamp>>>()?;
        }
        Ok(Some(Committed::new(ReceiptChange {
            tenant_id: tenant.clone(),
            session_id: id.clone(),
            side,
            delivered_seq,
            read_seq,
            unread_count: after.unread_count,
            newly_delivered,
        })))
    }

    async fn find_visitor(
        &self,
        tenant: &TenantId,
        token_hash: &SessionKeyHash,
        seen_after: Timestamp,
    ) -> RepoResult<Option<CustomerId>> {
        let found: Option<String> = customer::Entity::find()
            .select_only()
            .column(customer::Column::Id)
            .filter(customer::Column::TenantId.eq(tenant.as_str()))
            .filter(customer::Column::VisitorTokenHash.eq(token_hash.0.as_str()))
            .filter(customer::Column::VisitorSeenAt.gte(convert::to_micros(seen_after)))
            .into_tuple()
            .one(self.db()?)
            .await
            .map_err(map_err)?;
        Ok(found.map(CustomerId::new))
    }

    async fn rate(
        &self,
        tenant: &TenantId,
        id: &SessionId,
        score: u8,
        comment: Option<String>,
    ) -> RepoResult<Committed<ChatSession>> {
        let txn = self.db()?.begin().await.map_err(map_err)?;
        let res = chat_session::Entity::update_many()
            .col_expr(
                chat_session::Column::RatingScore,
                Expr::val(i16::from(score)),
            )
            .col_expr(chat_session::Column::RatingComment, Expr::val(comment))
            .col_expr(chat_session::Column::RatedAt, Expr::val(now_micros()))
            .filter(chat_session::Column::Id.eq(id.as_str()))
            .filter(chat_session::Column::TenantId.eq(tenant.as_str()))
            .filter(chat_session::Column::Status.eq(SessionStatus::Closed.as_str()))
            .filter(chat_session::Column::RatingScore.is_null())
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
            return Err(RepoError::Conflict(
                if current.rating.is_some() {
                    "rated"
                } else {
                    "not_closed"
                }
                .into(),
            ));
        }
        self.record_event(&txn, tenant, &ChatEvent::SessionRated(current.clone()))
            .await?;
        txn.commit().await.map_err(map_err)?;
        Ok(Committed::new(current))
    }

    async fn erase_session(&self, tenant: &TenantId, id: &SessionId) -> RepoResult<Vec<String>> {
        let txn = self.db()?.begin().await.map_err(map_err)?;
        // A write first (a no-op on the session's row): it takes the row
        // lock (PostgreSQL, MySQL) or the write lock (SQLite) before the
        // file keys are read, so SQLite never upgrades a read snapshot to
        // a write (`SQLITE_BUSY` at once when another write came between),
        // and no file is attached after its key list was read.
        let locked = chat_session::Entity::update_many()
            .col_expr(
                chat_session::Column::LastSeq,
                Expr::col(chat_session::Column::LastSeq),
            )
            .filter(chat_session::Column::Id.eq(id.as_str()))
            .filter(chat_session::Column::TenantId.eq(tenant.as_str()))
            .exec(&txn)
            .await
            .map_err(map_err)?;
        if locked.rows_affected == 0 {
            txn.rollback().await.map_err(map_err)?;
            return Err(RepoError::NotFound);
        }
        let keys =
            crate::attachments::storage_keys(&txn, tenant, &[id.as_str().to_owned()]).await?;
        // Locked above, so it is there to delete.
        chat_session::Entity::delete_many()
            .filter(chat_session::Column::Id.eq(id.as_str()))
            .exec(&txn)
            .await
            .map_err(map_err)?;
        txn.commit().await.map_err(map_err)?;
        Ok(keys)
    }

    async fn erase_customer(&self, tenant: &TenantId, id: &CustomerId) -> RepoResult<Vec<String>> {
        let txn = self.db()?.begin().await.map_err(map_err)?;
        // The customer's row first, for the same reason as above: the
        // write lock before any read, and no conversation started for
        // this customer between the list and the delete.
        let locked = customer::Entity::update_many()
            .col_expr(
                customer::Column::CreatedAt,
                Expr::col(customer::Column::CreatedAt),
            )
            .filter(customer::Column::Id.eq(id.as_str()))
            .filter(customer::Column::TenantId.eq(tenant.as_str()))
            .exec(&txn)
            .await
            .map_err(map_err)?;
        if locked.rows_affected == 0 {
            txn.rollback().await.map_err(map_err)?;
            return Err(RepoError::NotFound);
        }
        let sessions: Vec<String> = chat_session::Entity::find()
            .select_only()
            .column(chat_session::Column::Id)
            .filter(chat_session::Column::TenantId.eq(tenant.as_str()))
            .filter(chat_session::Column::CustomerId.eq(id.as_str()))
            .into_tuple()
            .all(&txn)
            .await
            .map_err(map_err)?;
        let keys = crate::attachments::storage_keys(&txn, tenant, &sessions).await?;
        chat_session::Entity::delete_many()
            .filter(chat_session::Column::TenantId.eq(tenant.as_str()))
            .filter(chat_session::Column::CustomerId.eq(id.as_str()))
            .exec(&txn)
            .await
            .map_err(map_err)?;
        customer::Entity::delete_many()
            .filter(customer::Column::Id.eq(id.as_str()))
            .exec(&txn)
            .await
            .map_err(map_err)?;
        txn.commit().await.map_err(map_err)?;
        Ok(keys)
    }

    async fn mark_handed_off(
        &self,
        tenant: &TenantId,
        id: &SessionId,
        reason: &'static str,
    ) -> RepoResult<bool> {
        let now = now_micros();
        let txn = self.db()?.begin().await.map_err(map_err)?;
        let res = chat_session::Entity::update_many()
            .col_expr(chat_session::Column::BotHandedOff, Expr::val(true))
            .col_expr(chat_session::Column::QueuedAt, Expr::val(now))
            .col_expr(chat_session::Column::HandedOffAt, Expr::val(now))
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
            suggestions: Vec::new(),
        };
        self.record_event(&txn, tenant, &event).await?;
        txn.commit().await.map_err(map_err)?;
        Ok(true)
    }
}

impl SeaOrmStore {
    /// A life-cycle change inside `txn`, if the status is still `expected`
    /// (`None` otherwise: the caller rolls back); records its event. The
    /// queue follows: a session reopened without an agent waits from now,
    /// any other change takes it out.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn apply_state(
        &self,
        txn: &sea_orm::DatabaseTransaction,
        tenant: &TenantId,
        id: &SessionId,
        expected: SessionStatus,
        status: SessionStatus,
        assigned: Option<AgentRef>,
        change: SessionChange,
    ) -> RepoResult<Option<ChatSession>> {
        let (agent_id, agent_name) = match assigned.clone() {
            Some(a) => (Some(a.id.as_str().to_owned()), Some(a.name)),
            None => (None, None),
        };
        let now = now_micros();
        let queued = (matches!(change, SessionChange::Reopened)
            && status == SessionStatus::Pending)
            .then_some(now);
        // A close is the conversation's resolution (its business-hours
        // share is added below); a reopening undoes it.
        let resolved = match change {
            SessionChange::Closed => Set(Some(now)),
            SessionChange::Reopened => Set(None),
            SessionChange::Assigned { .. } => NotSet,
        };
        let res = chat_session::Entity::update_many()
            .set(chat_session::ActiveModel {
                status: Set(status.as_str().to_owned()),
                assigned_agent_id: Set(agent_id),
                assigned_agent_name: Set(agent_name),
                last_activity_at: Set(now),
                queued_at: Set(queued),
                resolution_business: if matches!(change, SessionChange::Reopened) {
                    Set(None)
                } else {
                    NotSet
                },
                resolved_at: resolved,
                ..Default::default()
            })
            .filter(chat_session::Column::Id.eq(id.as_str()))
            .filter(chat_session::Column::TenantId.eq(tenant.as_str()))
            .filter(chat_session::Column::Status.eq(expected.as_str()))
            .exec(txn)
            .await
            .map_err(map_err)?;
        if res.rows_affected == 0 {
            // Not found is told apart from a lost race.
            chat_session::Entity::find_by_id(id.as_str())
                .filter(chat_session::Column::TenantId.eq(tenant.as_str()))
                .one(txn)
                .await
                .map_err(map_err)?
                .ok_or(RepoError::NotFound)?;
            return Ok(None);
        }
        let current = joined(
            chat_session::Entity::find_by_id(id.as_str())
                .filter(chat_session::Column::TenantId.eq(tenant.as_str()))
                .find_also_related(customer::Entity)
                .one(txn)
                .await
                .map_err(map_err)?,
        )?
        .ok_or(RepoError::NotFound)?;
        if matches!(change, SessionChange::Closed) {
            let created = convert::to_micros(current.created_at);
            let business =
                crate::reports::business_micros(txn, tenant, created, Ord::max(now, created))
                    .await?;
            chat_session::Entity::update_many()
                .col_expr(
                    chat_session::Column::ResolutionBusiness,
                    Expr::val(business),
                )
                .filter(chat_session::Column::Id.eq(id.as_str()))
                .exec(txn)
                .await
                .map_err(map_err)?;
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
        self.record_event(txn, tenant, &event).await?;
        Ok(Some(current))
    }
}

/// The customer of a returning visitor, seen now; the new session's name,
/// email and attributes replace the stored ones where given.
async fn returning_customer(
    txn: &sea_orm::DatabaseTransaction,
    tenant: &TenantId,
    id: &CustomerId,
    new: chat_domain::NewCustomer,
    now: i64,
) -> RepoResult<customer::Model> {
    let mut update = customer::Entity::update_many()
        .col_expr(customer::Column::VisitorSeenAt, Expr::val(now))
        .filter(customer::Column::Id.eq(id.as_str()))
        .filter(customer::Column::TenantId.eq(tenant.as_str()));
    if let Some(name) = new.name {
        update = update.col_expr(customer::Column::Name, Expr::val(name));
    }
    if let Some(email) = new.email {
        update = update.col_expr(customer::Column::Email, Expr::val(email.as_str()));
    }
    if new.attributes.as_object().is_some_and(|o| !o.is_empty()) {
        update = update.col_expr(
            customer::Column::Attributes,
            Expr::val(new.attributes.to_string()),
        );
    }
    update.exec(txn).await.map_err(map_err)?;
    customer::Entity::find_by_id(id.as_str())
        .filter(customer::Column::TenantId.eq(tenant.as_str()))
        .one(txn)
        .await
        .map_err(map_err)?
        .ok_or(RepoError::NotFound)
}

/// The delivered and read columns of a side.
fn receipt_columns(side: ReceiptSide) -> (chat_session::Column, chat_session::Column) {
    match side {
        ReceiptSide::Customer => (
            chat_session::Column::CustomerDeliveredSeq,
            chat_session::Column::CustomerReadSeq,
        ),
        ReceiptSide::Agent => (
            chat_session::Column::AgentDeliveredSeq,
            chat_session::Column::AgentReadSeq,
        ),
    }
}

fn pointers(row: &chat_session::Model, side: ReceiptSide) -> (i64, i64) {
    match side {
        ReceiptSide::Customer => (row.customer_delivered_seq, row.customer_read_seq),
        ReceiptSide::Agent => (row.agent_delivered_seq, row.agent_read_seq),
    }
}

/// `col = CASE WHEN col < v THEN v ELSE col END`: a pointer only goes up.
fn raised(col: chat_session::Column, v: i64) -> Expr {
    Expr::case(Expr::col(col).lt(v), Expr::val(v))
        .finally(Expr::col(col))
        .into()
}

/// At most this many delivery times are measured per receipt.
const MEASURED_PER_RECEIPT: u64 = 100;

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
