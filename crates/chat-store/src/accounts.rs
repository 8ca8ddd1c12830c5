//! Tenants, agents and tokens.

use async_trait::async_trait;
use chat_domain::repo::{
    AgentRepository, TenantRepository, TokenKind, TokenRecord, TokenRepository,
};
use chat_domain::{
    Agent, AgentId, BotMode, Email, NewAgent, NewTenant, RepoError, RepoResult, Tenant, TenantId,
    TenantSlug, Timestamp,
};
use sea_orm::{ActiveValue::Set, ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder};

use crate::convert::{self, new_id, now_micros, to_micros};
use crate::entity::{agent, auth_token, tenant};
use crate::{SeaOrmStore, map_err};

fn conflict_as(what: &str) -> impl Fn(RepoError) -> RepoError + '_ {
    move |e| match e {
        RepoError::Conflict(_) => RepoError::Conflict(what.to_owned()),
        other => other,
    }
}

#[async_trait]
impl TenantRepository for SeaOrmStore {
    async fn create(&self, new: NewTenant) -> RepoResult<Tenant> {
        let origins: Vec<&str> = new.allowed_origins.iter().map(|o| o.as_str()).collect();
        let id = new_id();
        let model = tenant::ActiveModel {
            id: Set(id.clone()),
            slug: Set(new.slug.as_str().to_owned()),
            name: Set(new.name),
            allowed_origins: Set(
                serde_json::to_string(&origins).map_err(|e| RepoError::Other(e.to_string()))?
            ),
            bot_mode: Set(BotMode::Off.as_str().to_owned()),
            bot_name: Set("Assistant".to_owned()),
            created_at: Set(now_micros()),
        };
        tenant::Entity::insert(model)
            .exec_without_returning(self.db()?)
            .await
            .map_err(map_err)
            .map_err(conflict_as("tenant"))?;
        TenantRepository::find(self, &TenantId::new(id))
            .await?
            .ok_or(RepoError::NotFound)
    }

    async fn find_by_slug(&self, slug: &TenantSlug) -> RepoResult<Option<Tenant>> {
        tenant::Entity::find()
            .filter(tenant::Column::Slug.eq(slug.as_str()))
            .one(self.db()?)
            .await
            .map_err(map_err)?
            .map(convert::tenant)
            .transpose()
    }

    async fn find(&self, id: &TenantId) -> RepoResult<Option<Tenant>> {
        tenant::Entity::find_by_id(id.as_str())
            .one(self.db()?)
            .await
            .map_err(map_err)?
            .map(convert::tenant)
            .transpose()
    }

    async fn set_bot(&self, id: &TenantId, mode: BotMode, name: &str) -> RepoResult<Tenant> {
        tenant::Entity::update_many()
            .set(tenant::ActiveModel {
                bot_mode: Set(mode.as_str().to_owned()),
                bot_name: Set(name.to_owned()),
                ..Default::default()
            })
            .filter(tenant::Column::Id.eq(id.as_str()))
            .exec(self.db()?)
            .await
            .map_err(map_err)?;
        TenantRepository::find(self, id)
            .await?
            .ok_or(RepoError::NotFound)
    }
}

#[async_trait]
impl AgentRepository for SeaOrmStore {
    async fn create(&self, tenant: &TenantId, new: NewAgent) -> RepoResult<Agent> {
        let id = new_id();
        let model = agent::ActiveModel {
            id: Set(id.clone()),
            tenant_id: Set(tenant.as_str().to_owned()),
            name: Set(new.name),
            tenant_email: Set(migration::tenant_email_key(
                tenant.as_str(),
                new.email.as_str(),
            )),
            address: Set(new.email.as_str().to_owned()),
            role: Set(new.role.as_str().to_owned()),
            password_hash: Set(new.password_hash),
            created_at: Set(now_micros()),
        };
        agent::Entity::insert(model)
            .exec_without_returning(self.db()?)
            .await
            .map_err(map_err)
            .map_err(conflict_as("agent"))?;
        AgentRepository::find(self, tenant, &AgentId::new(id))
            .await?
            .ok_or(RepoError::NotFound)
    }

    async fn find(&self, tenant: &TenantId, id: &AgentId) -> RepoResult<Option<Agent>> {
        agent::Entity::find_by_id(id.as_str())
            .filter(agent::Column::TenantId.eq(tenant.as_str()))
            .one(self.db()?)
            .await
            .map_err(map_err)?
            .map(convert::agent)
            .transpose()
    }

    async fn list(&self, tenant: &TenantId) -> RepoResult<Vec<Agent>> {
        agent::Entity::find()
            .filter(agent::Column::TenantId.eq(tenant.as_str()))
            .order_by_asc(agent::Column::Name)
            .all(self.db()?)
            .await
            .map_err(map_err)?
            .into_iter()
            .map(convert::agent)
            .collect()
    }

    async fn find_credentials(&self, email: &Email) -> RepoResult<Vec<(Agent, String)>> {
        agent::Entity::find()
            .filter(agent::Column::Address.eq(email.as_str()))
            .order_by_asc(agent::Column::CreatedAt)
            .all(self.db()?)
            .await
            .map_err(map_err)?
            .into_iter()
            .map(|model| {
                let hash = model.password_hash.clone();
                Ok((convert::agent(model)?, hash))
            })
            .collect()
    }
}

fn record(
    token: auth_token::Model,
    agent: Option<agent::Model>,
) -> RepoResult<Option<TokenRecord>> {
    let Some(agent) = agent else { return Ok(None) };
    Ok(Some(TokenRecord {
        agent: convert::agent(agent)?,
        expires_at: convert::from_micros(token.expires_at)?,
        parent_hash: token.parent_hash,
    }))
}

#[async_trait]
impl TokenRepository for SeaOrmStore {
    async fn insert(
        &self,
        kind: TokenKind,
        token_hash: &str,
        agent: &Agent,
        expires_at: Timestamp,
        parent_hash: Option<&str>,
    ) -> RepoResult<()> {
        let model = auth_token::ActiveModel {
            token_hash: Set(token_hash.to_owned()),
            kind: Set(kind.as_str().to_owned()),
            agent_id: Set(agent.id.as_str().to_owned()),
            tenant_id: Set(agent.tenant_id.as_str().to_owned()),
            parent_hash: Set(parent_hash.map(str::to_owned)),
            expires_at: Set(to_micros(expires_at)),
            created_at: Set(now_micros()),
        };
        auth_token::Entity::insert(model)
            .exec_without_returning(self.db()?)
            .await
            .map_err(map_err)?;
        // Expired rows are swept at each login, not at each ticket (one per
        // browser socket): tickets are deleted when used, and the sweep
        // scans the table.
        if kind == TokenKind::Access {
            auth_token::Entity::delete_many()
                .filter(auth_token::Column::ExpiresAt.lt(now_micros()))
                .exec(self.db()?)
                .await
                .map_err(map_err)?;
        }
        Ok(())
    }

    async fn find(
        &self,
        kind: TokenKind,
        token_hash: &str,
        now: Timestamp,
    ) -> RepoResult<Option<TokenRecord>> {
        let found = auth_token::Entity::find_by_id(token_hash)
            .filter(auth_token::Column::Kind.eq(kind.as_str()))
            .filter(auth_token::Column::ExpiresAt.gt(to_micros(now)))
            .find_also_related(agent::Entity)
            .one(self.db()?)
            .await
            .map_err(map_err)?;
        match found {
            Some((token, agent)) => record(token, agent),
            None => Ok(None),
        }
    }

    async fn consume(
        &self,
        kind: TokenKind,
        token_hash: &str,
        now: Timestamp,
    ) -> RepoResult<Option<TokenRecord>> {
        let Some((token, agent)) = auth_token::Entity::find_by_id(token_hash)
            .find_also_related(agent::Entity)
            .one(self.db()?)
            .await
            .map_err(map_err)?
        else {
            return Ok(None);
        };
        // The delete is the single point of use: of two racing requests only
        // one sees its row deleted, and only that one gets the record.
        let deleted = auth_token::Entity::delete_many()
            .filter(auth_token::Column::TokenHash.eq(token_hash))
            .filter(auth_token::Column::Kind.eq(kind.as_str()))
            .filter(auth_token::Column::ExpiresAt.gt(to_micros(now)))
            .exec(self.db()?)
            .await
            .map_err(map_err)?;
        if deleted.rows_affected != 1 {
            return Ok(None);
        }
        record(token, agent)
    }

    async fn revoke(&self, token_hash: &str) -> RepoResult<bool> {
        let res = auth_token::Entity::delete_many()
            .filter(
                Condition::any()
                    .add(auth_token::Column::TokenHash.eq(token_hash))
                    .add(auth_token::Column::ParentHash.eq(token_hash)),
            )
            .exec(self.db()?)
            .await
            .map_err(map_err)?;
        Ok(res.rows_affected > 0)
    }
}
