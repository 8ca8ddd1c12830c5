//! The records of uploaded files, and their hand-over to a message.

use async_trait::async_trait;
use chat_domain::attachment::AttachmentRepository;
use chat_domain::{
    Attachment, AttachmentId, NewAttachment, RepoError, RepoResult, SenderType, SessionId,
    TenantId, Timestamp,
};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

use crate::convert::{self, now_micros, to_micros};
use crate::entity::attachment;
use crate::{SeaOrmStore, map_err};

/// Marks the files as sent with `message_id`, inside the append's
/// transaction: each must be an unsent file of this session uploaded by
/// the same side, or nothing is taken (`Conflict("attachment")`). Returns
/// them in the order named.
pub(crate) async fn take_for_message(
    txn: &DatabaseTransaction,
    tenant: &TenantId,
    session: &SessionId,
    message_id: &str,
    sender: SenderType,
    ids: &[AttachmentId],
) -> RepoResult<Vec<attachment::Model>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let id_strs: Vec<&str> = ids.iter().map(AttachmentId::as_str).collect();
    let taken = attachment::Entity::update_many()
        .col_expr(attachment::Column::MessageId, Expr::val(message_id))
        .filter(attachment::Column::Id.is_in(id_strs.clone()))
        .filter(attachment::Column::TenantId.eq(tenant.as_str()))
        .filter(attachment::Column::SessionId.eq(session.as_str()))
        .filter(attachment::Column::UploaderType.eq(sender.as_str()))
        .filter(attachment::Column::MessageId.is_null())
        .exec(txn)
        .await
        .map_err(map_err)?;
    if taken.rows_affected != ids.len() as u64 {
        return Err(RepoError::Conflict("attachment".into()));
    }
    let mut rows = attachment::Entity::find()
        .filter(attachment::Column::Id.is_in(id_strs.clone()))
        .all(txn)
        .await
        .map_err(map_err)?;
    rows.sort_by_key(|r| id_strs.iter().position(|i| *i == r.id));
    Ok(rows)
}

/// Where the files of these sessions are stored.
pub(crate) async fn storage_keys(
    txn: &DatabaseTransaction,
    tenant: &TenantId,
    sessions: &[String],
) -> RepoResult<Vec<String>> {
    if sessions.is_empty() {
        return Ok(Vec::new());
    }
    attachment::Entity::find()
        .select_only()
        .column(attachment::Column::StorageKey)
        .filter(attachment::Column::TenantId.eq(tenant.as_str()))
        .filter(attachment::Column::SessionId.is_in(sessions.iter().map(String::as_str)))
        .into_tuple()
        .all(txn)
        .await
        .map_err(map_err)
}

#[async_trait]
impl AttachmentRepository for SeaOrmStore {
    async fn create_attachment(
        &self,
        tenant: &TenantId,
        session: &SessionId,
        new: NewAttachment,
    ) -> RepoResult<Attachment> {
        let model = attachment::Model {
            id: new.id.as_str().to_owned(),
            tenant_id: tenant.as_str().to_owned(),
            session_id: session.as_str().to_owned(),
            message_id: None,
            uploader_type: new.uploader.as_str().to_owned(),
            name: new.name,
            content_type: new.content_type,
            size: i64::try_from(new.size).map_err(|_| RepoError::Other("size".into()))?,
            width: new.width.and_then(|w| i32::try_from(w).ok()),
            height: new.height.and_then(|h| i32::try_from(h).ok()),
            token: new.token,
            storage_key: new.storage_key,
            created_at: now_micros(),
        };
        attachment::Entity::insert(attachment::ActiveModel::from(model.clone()))
            .exec_without_returning(self.db()?)
            .await
            .map_err(map_err)?;
        convert::attachment(model)
    }

    async fn session_usage(
        &self,
        tenant: &TenantId,
        session: &SessionId,
    ) -> RepoResult<(u64, u64)> {
        // A session holds a handful of files (the limit is small), and a
        // SUM's type differs per database: the sizes are added up here.
        let sizes: Vec<i64> = attachment::Entity::find()
            .select_only()
            .column(attachment::Column::Size)
            .filter(attachment::Column::TenantId.eq(tenant.as_str()))
            .filter(attachment::Column::SessionId.eq(session.as_str()))
            .into_tuple()
            .all(self.db()?)
            .await
            .map_err(map_err)?;
        let bytes: i64 = sizes.iter().map(|s| (*s).max(0)).sum();
        Ok((sizes.len() as u64, bytes as u64))
    }

    async fn attachment_by_token(&self, token: &str) -> RepoResult<Option<Attachment>> {
        attachment::Entity::find()
            .filter(attachment::Column::Token.eq(token))
            .one(self.db()?)
            .await
            .map_err(map_err)?
            .map(convert::attachment)
            .transpose()
    }

    async fn attachment(
        &self,
        tenant: &TenantId,
        id: &AttachmentId,
    ) -> RepoResult<Option<Attachment>> {
        attachment::Entity::find_by_id(id.as_str())
            .filter(attachment::Column::TenantId.eq(tenant.as_str()))
            .one(self.db()?)
            .await
            .map_err(map_err)?
            .map(convert::attachment)
            .transpose()
    }

    async fn session_attachments(
        &self,
        tenant: &TenantId,
        session: &SessionId,
    ) -> RepoResult<Vec<Attachment>> {
        attachment::Entity::find()
            .filter(attachment::Column::TenantId.eq(tenant.as_str()))
            .filter(attachment::Column::SessionId.eq(session.as_str()))
            .filter(attachment::Column::MessageId.is_not_null())
            .order_by_asc(attachment::Column::CreatedAt)
            .order_by_asc(attachment::Column::Id)
            .all(self.db()?)
            .await
            .map_err(map_err)?
            .into_iter()
            .map(convert::attachment)
            .collect()
    }

    async fn unsent_before(&self, before: Timestamp, limit: u64) -> RepoResult<Vec<Attachment>> {
        attachment::Entity::find()
            .filter(attachment::Column::MessageId.is_null())
            .filter(attachment::Column::CreatedAt.lt(to_micros(before)))
            .order_by_asc(attachment::Column::CreatedAt)
            .limit(limit)
            .all(self.db()?)
            .await
            .map_err(map_err)?
            .into_iter()
            .map(convert::attachment)
            .collect()
    }

    async fn delete_attachment(&self, id: &AttachmentId) -> RepoResult<()> {
        attachment::Entity::delete_by_id(id.as_str())
            .filter(attachment::Column::MessageId.is_null())
            .exec(self.db()?)
            .await
            .map_err(map_err)?;
        Ok(())
    }
}
