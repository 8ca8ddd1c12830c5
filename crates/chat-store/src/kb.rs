//! Knowledge-base articles.

use async_trait::async_trait;
use chat_domain::repo::ArticleRepository;
use chat_domain::{Article, ArticleInput, RepoError, RepoResult, TenantId, Timestamp};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::convert::{self, new_id, now_micros};
use crate::entity::kb_article;
use crate::{SeaOrmStore, map_err};

/// The model's name and the stored bytes of an article's vectors.
fn embedding(input: &ArticleInput) -> (Option<String>, Option<Vec<u8>>) {
    let e = input.embedding.as_ref();
    (
        e.map(|e| e.model.clone()),
        e.and_then(convert::embedding_to_bytes),
    )
}

fn keywords(input: &ArticleInput) -> RepoResult<String> {
    serde_json::to_string(&input.keywords).map_err(|e| RepoError::Other(e.to_string()))
}

#[async_trait]
impl ArticleRepository for SeaOrmStore {
    async fn list(&self, tenant: &TenantId) -> RepoResult<Vec<Article>> {
        kb_article::Entity::find()
            .filter(kb_article::Column::TenantId.eq(tenant.as_str()))
            .order_by_asc(kb_article::Column::Title)
            .order_by_asc(kb_article::Column::Id)
            .all(self.db()?)
            .await
            .map_err(map_err)?
            .into_iter()
            .map(convert::article)
            .collect()
    }

    async fn stamps(&self, tenant: &TenantId) -> RepoResult<Vec<(String, Timestamp)>> {
        let rows: Vec<(String, i64)> = kb_article::Entity::find()
            .select_only()
            .column(kb_article::Column::Id)
            .column(kb_article::Column::UpdatedAt)
            .filter(kb_article::Column::TenantId.eq(tenant.as_str()))
            .order_by_asc(kb_article::Column::Title)
            .order_by_asc(kb_article::Column::Id)
            .into_tuple()
            .all(self.db()?)
            .await
            .map_err(map_err)?;
        rows.into_iter()
            .map(|(id, at)| Ok((id, convert::from_micros(at)?)))
            .collect()
    }

    async fn find(&self, tenant: &TenantId, id: &str) -> RepoResult<Option<Article>> {
        kb_article::Entity::find_by_id(id)
            .filter(kb_article::Column::TenantId.eq(tenant.as_str()))
            .one(self.db()?)
            .await
            .map_err(map_err)?
            .map(convert::article)
            .transpose()
    }

    async fn create(&self, tenant: &TenantId, input: ArticleInput) -> RepoResult<Article> {
        let now = now_micros();
        let (embedding_model, embedding) = embedding(&input);
        let model = kb_article::Model {
            id: new_id(),
            tenant_id: tenant.as_str().to_owned(),
            keywords: keywords(&input)?,
            draft: input.draft,
            embedding_model,
            embedding,
            title: input.title,
            body: input.body,
            created_at: now,
            updated_at: now,
        };
        kb_article::Entity::insert(kb_article::ActiveModel::from(model.clone()))
            .exec_without_returning(self.db()?)
            .await
            .map_err(map_err)?;
        convert::article(model)
    }

    async fn update(
        &self,
        tenant: &TenantId,
        id: &str,
        input: ArticleInput,
    ) -> RepoResult<Article> {
        let (embedding_model, embedding) = embedding(&input);
        let res = kb_article::Entity::update_many()
            .set(kb_article::ActiveModel {
                keywords: Set(keywords(&input)?),
                draft: Set(input.draft),
                embedding_model: Set(embedding_model),
                embedding: Set(embedding),
                title: Set(input.title),
                body: Set(input.body),
                updated_at: Set(now_micros()),
                ..Default::default()
            })
            .filter(kb_article::Column::Id.eq(id))
            .filter(kb_article::Column::TenantId.eq(tenant.as_str()))
            .exec(self.db()?)
            .await
            .map_err(map_err)?;
        if res.rows_affected == 0 {
            return Err(RepoError::NotFound);
        }
        ArticleRepository::find(self, tenant, id)
            .await?
            .ok_or(RepoError::NotFound)
    }

    async fn delete(&self, tenant: &TenantId, id: &str) -> RepoResult<bool> {
        let res = kb_article::Entity::delete_many()
            .filter(kb_article::Column::Id.eq(id))
            .filter(kb_article::Column::TenantId.eq(tenant.as_str()))
            .exec(self.db()?)
            .await
            .map_err(map_err)?;
        Ok(res.rows_affected > 0)
    }
}
