//! Canned replies, labels and private notes.

use async_trait::async_trait;
use chat_domain::repo::DeskRepository;
use chat_domain::{
    AgentId, CannedInput, CannedReply, ChatEvent, ChatSession, Color, Committed, Label, LabelName,
    NewNote, Note, RepoError, RepoResult, SessionId, Shortcut, TenantId,
};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    TransactionTrait,
};

use crate::accounts::conflict_as;
use crate::convert::{self, corrupt, from_micros, new_id, now_micros};
use crate::entity::{canned_reply, chat_session, customer, label, note, session_label};
use crate::{SeaOrmStore, map_err};

fn canned(m: canned_reply::Model) -> RepoResult<CannedReply> {
    Ok(CannedReply {
        id: m.id,
        tenant_id: TenantId::new(m.tenant_id),
        shortcut: Shortcut::parse(&m.shortcut).map_err(|_| corrupt("shortcut", &m.shortcut))?,
        title: m.title,
        body: m.body,
        updated_at: from_micros(m.updated_at)?,
    })
}

fn label_of(m: label::Model) -> RepoResult<Label> {
    Ok(Label {
        id: m.id,
        tenant_id: TenantId::new(m.tenant_id),
        name: LabelName::parse(&m.name).map_err(|_| corrupt("label", &m.name))?,
        color: Color::parse(&m.color).map_err(|_| corrupt("color", &m.color))?,
        created_at: from_micros(m.created_at)?,
    })
}

fn note_of(m: note::Model) -> RepoResult<Note> {
    Ok(Note {
        id: m.id,
        tenant_id: TenantId::new(m.tenant_id),
        session_id: SessionId::new(m.session_id),
        after_seq: m.after_seq,
        author_id: AgentId::new(m.author_id),
        author_name: m.author_name,
        body: m.body,
        created_at: from_micros(m.created_at)?,
    })
}

#[async_trait]
impl DeskRepository for SeaOrmStore {
    async fn canned_list(&self, tenant: &TenantId) -> RepoResult<Vec<CannedReply>> {
        canned_reply::Entity::find()
            .filter(canned_reply::Column::TenantId.eq(tenant.as_str()))
            .order_by_asc(canned_reply::Column::Shortcut)
            .all(self.db()?)
            .await
            .map_err(map_err)?
            .into_iter()
            .map(canned)
            .collect()
    }

    async fn canned_create(
        &self,
        tenant: &TenantId,
        input: CannedInput,
    ) -> RepoResult<CannedReply> {
        let now = now_micros();
        let model = canned_reply::Model {
            id: new_id(),
            tenant_id: tenant.as_str().to_owned(),
            shortcut: input.shortcut.as_str().to_owned(),
            title: input.title,
            body: input.body,
            created_at: now,
            updated_at: now,
        };
        canned_reply::Entity::insert(canned_reply::ActiveModel::from(model.clone()))
            .exec_without_returning(self.db()?)
            .await
            .map_err(map_err)
            .map_err(conflict_as("shortcut"))?;
        canned(model)
    }

    async fn canned_update(
        &self,
        tenant: &TenantId,
        id: &str,
        input: CannedInput,
    ) -> RepoResult<CannedReply> {
        let res = canned_reply::Entity::update_many()
            .set(canned_reply::ActiveModel {
                shortcut: Set(input.shortcut.as_str().to_owned()),
                title: Set(input.title),
                body: Set(input.body),
                updated_at: Set(now_micros()),
                ..Default::default()
            })
            .filter(canned_reply::Column::Id.eq(id))
            .filter(canned_reply::Column::TenantId.eq(tenant.as_str()))
            .exec(self.db()?)
            .await
            .map_err(map_err)
            .map_err(conflict_as("shortcut"))?;
        if res.rows_affected == 0 {
            return Err(RepoError::NotFound);
        }
        canned_reply::Entity::find_by_id(id)
            .one(self.db()?)
            .await
            .map_err(map_err)?
            .map(canned)
            .ok_or(RepoError::NotFound)?
    }

    async fn canned_delete(&self, tenant: &TenantId, id: &str) -> RepoResult<bool> {
        let res = canned_reply::Entity::delete_many()
            .filter(canned_reply::Column::Id.eq(id))
            .filter(canned_reply::Column::TenantId.eq(tenant.as_str()))
            .exec(self.db()?)
            .await
            .map_err(map_err)?;
        Ok(res.rows_affected > 0)
    }

    async fn labels(&self, tenant: &TenantId) -> RepoResult<Vec<Label>> {
        label::Entity::find()
            .filter(label::Column::TenantId.eq(tenant.as_str()))
            .order_by_asc(label::Column::Name)
            .all(self.db()?)
            .await
            .map_err(map_err)?
            .into_iter()
            .map(label_of)
            .collect()
    }

    async fn label_create(
        &self,
        tenant: &TenantId,
        name: LabelName,
        color: Color,
    ) -> RepoResult<Label> {
        let model = label::Model {
            id: new_id(),
            tenant_id: tenant.as_str().to_owned(),
            name: name.as_str().to_owned(),
            color: color.as_str().to_owned(),
            created_at: now_micros(),
        };
        label::Entity::insert(label::ActiveModel::from(model.clone()))
            .exec_without_returning(self.db()?)
            .await
            .map_err(map_err)
            .map_err(conflict_as("label"))?;
        label_of(model)
    }

    async fn set_session_labels(
        &self,
        tenant: &TenantId,
        session: &SessionId,
        labels: &[LabelName],
    ) -> RepoResult<Committed<ChatSession>> {
        let mut names: Vec<String> = labels.iter().map(|l| l.as_str().to_owned()).collect();
        names.sort();
        names.dedup();
        let txn = self.db()?.begin().await.map_err(map_err)?;
        // First the session row: its lock orders concurrent changes.
        let res = chat_session::Entity::update_many()
            .col_expr(
                chat_session::Column::Labels,
                Expr::val(serde_json::to_string(&names).unwrap_or_else(|_| "[]".into())),
            )
            .filter(chat_session::Column::Id.eq(session.as_str()))
            .filter(chat_session::Column::TenantId.eq(tenant.as_str()))
            .exec(&txn)
            .await
            .map_err(map_err)?;
        if res.rows_affected == 0 {
            txn.rollback().await.map_err(map_err)?;
            return Err(RepoError::NotFound);
        }
        let found = label::Entity::find()
            .filter(label::Column::TenantId.eq(tenant.as_str()))
            .filter(label::Column::Name.is_in(names.iter().map(String::as_str)))
            .all(&txn)
            .await
            .map_err(map_err)?;
        if found.len() != names.len() {
            txn.rollback().await.map_err(map_err)?;
            return Err(RepoError::Conflict("unknown_label".into()));
        }
        session_label::Entity::delete_many()
            .filter(session_label::Column::SessionId.eq(session.as_str()))
            .exec(&txn)
            .await
            .map_err(map_err)?;
        if !found.is_empty() {
            session_label::Entity::insert_many(found.iter().map(|l| session_label::ActiveModel {
                session_id: Set(session.as_str().to_owned()),
                label_id: Set(l.id.clone()),
                tenant_id: Set(tenant.as_str().to_owned()),
            }))
            .exec_without_returning(&txn)
            .await
            .map_err(map_err)?;
        }
        let (s, c) = chat_session::Entity::find_by_id(session.as_str())
            .find_also_related(customer::Entity)
            .one(&txn)
            .await
            .map_err(map_err)?
            .ok_or(RepoError::NotFound)?;
        let updated = convert::session(s, c.ok_or(RepoError::NotFound)?)?;
        self.record_event(&txn, tenant, &ChatEvent::SessionUpdated(updated.clone()))
            .await?;
        txn.commit().await.map_err(map_err)?;
        Ok(Committed::new(updated))
    }

    async fn add_note(
        &self,
        tenant: &TenantId,
        session: &SessionId,
        new: NewNote,
    ) -> RepoResult<Committed<Note>> {
        let txn = self.db()?.begin().await.map_err(map_err)?;
        // A write first, so the session's row (or SQLite's database) is
        // locked before `last_seq` is read: a message appended meanwhile
        // comes after the note.
        let res = chat_session::Entity::update_many()
            .col_expr(
                chat_session::Column::LastActivityAt,
                Expr::col(chat_session::Column::LastActivityAt),
            )
            .filter(chat_session::Column::Id.eq(session.as_str()))
            .filter(chat_session::Column::TenantId.eq(tenant.as_str()))
            .exec(&txn)
            .await
            .map_err(map_err)?;
        if res.rows_affected == 0 {
            txn.rollback().await.map_err(map_err)?;
            return Err(RepoError::NotFound);
        }
        let after_seq: i64 = chat_session::Entity::find_by_id(session.as_str())
            .select_only()
            .column(chat_session::Column::LastSeq)
            .into_tuple()
            .one(&txn)
            .await
            .map_err(map_err)?
            .ok_or(RepoError::NotFound)?;
        let model = note::Model {
            id: new_id(),
            tenant_id: tenant.as_str().to_owned(),
            session_id: session.as_str().to_owned(),
            after_seq,
            author_id: new.author_id.as_str().to_owned(),
            author_name: new.author_name,
            body: new.body.into_string(),
            created_at: now_micros(),
        };
        note::Entity::insert(note::ActiveModel::from(model.clone()))
            .exec_without_returning(&txn)
            .await
            .map_err(map_err)?;
        let stored = note_of(model)?;
        self.record_event(&txn, tenant, &ChatEvent::NoteNew(stored.clone()))
            .await?;
        txn.commit().await.map_err(map_err)?;
        Ok(Committed::new(stored))
    }

    async fn notes(
        &self,
        tenant: &TenantId,
        session: &SessionId,
        from_seq: i64,
    ) -> RepoResult<Vec<Note>> {
        note::Entity::find()
            .filter(note::Column::TenantId.eq(tenant.as_str()))
            .filter(note::Column::SessionId.eq(session.as_str()))
            .filter(note::Column::AfterSeq.gte(from_seq))
            .order_by_asc(note::Column::AfterSeq)
            .order_by_asc(note::Column::CreatedAt)
            .order_by_asc(note::Column::Id)
            .limit(1000)
            .all(self.db()?)
            .await
            .map_err(map_err)?
            .into_iter()
            .map(note_of)
            .collect()
    }
}
