//! Tenants, agents and tokens.

use async_trait::async_trait;
use chat_domain::repo::{
    AgentRepository, ApiTokenRepository, TenantRepository, TokenKind, TokenRecord, TokenRepository,
};
use chat_domain::{
    Agent, AgentId, AgentPatch, AgentStatus, ApiToken, AssignmentMode, AssignmentSettings, BotMode,
    Email, NewAgent, NewApiToken, NewTenant, RepoError, RepoResult, Role, Scope, Tenant, TenantId,
    TenantSlug, TimeZone, Timestamp,
};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, TransactionTrait,
};

use crate::convert::{self, corrupt, from_micros, new_id, now_micros, to_micros};
use crate::entity::{agent, api_token, auth_token, tenant};
use crate::{SeaOrmStore, map_err};

/// A unique violation reported as the object it is about.
pub(crate) fn conflict_as(what: &str) -> impl Fn(RepoError) -> RepoError + '_ {
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
            time_zone: Set(TimeZone::default().name().to_owned()),
            created_at: Set(now_micros()),
            assignment: Set(AssignmentMode::Manual.as_str().to_owned()),
            default_max_concurrent: Set(chat_domain::assignment::DEFAULT_MAX_CONCURRENT as i32),
            widget_settings: Set("{}".to_owned()),
            business_hours: Set("{\"enabled\":false}".to_owned()),
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

    async fn set_time_zone(&self, id: &TenantId, zone: TimeZone) -> RepoResult<Tenant> {
        tenant::Entity::update_many()
            .col_expr(tenant::Column::TimeZone, Expr::val(zone.name()))
            .filter(tenant::Column::Id.eq(id.as_str()))
            .exec(self.db()?)
            .await
            .map_err(map_err)?;
        TenantRepository::find(self, id)
            .await?
            .ok_or(RepoError::NotFound)
    }

    async fn set_assignment(
        &self,
        id: &TenantId,
        settings: AssignmentSettings,
    ) -> RepoResult<Tenant> {
        tenant::Entity::update_many()
            .col_expr(
                tenant::Column::Assignment,
                Expr::val(settings.mode.as_str()),
            )
            .col_expr(
                tenant::Column::DefaultMaxConcurrent,
                Expr::val(settings.default_max_concurrent as i32),
            )
            .filter(tenant::Column::Id.eq(id.as_str()))
            .exec(self.db()?)
            .await
            .map_err(map_err)?;
        TenantRepository::find(self, id)
            .await?
            .ok_or(RepoError::NotFound)
    }

    async fn set_widget(
        &self,
        id: &TenantId,
        widget: chat_domain::widget::WidgetSettings,
    ) -> RepoResult<Tenant> {
        self.set_tenant_json(id, tenant::Column::WidgetSettings, widget.to_json())
            .await
    }

    async fn set_business_hours(
        &self,
        id: &TenantId,
        hours: chat_domain::widget::BusinessHours,
    ) -> RepoResult<Tenant> {
        self.set_tenant_json(id, tenant::Column::BusinessHours, hours.to_json())
            .await
    }
}

impl SeaOrmStore {
    async fn set_tenant_json(
        &self,
        id: &TenantId,
        col: tenant::Column,
        value: serde_json::Value,
    ) -> RepoResult<Tenant> {
        tenant::Entity::update_many()
            .col_expr(col, Expr::val(value.to_string()))
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
            active: Set(true),
            created_at: Set(now_micros()),
            status: Set(AgentStatus::Online.as_str().to_owned()),
            max_concurrent: Set(None),
            last_assigned_at: Set(None),
            email_when_offline: Set(true),
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
            .filter(agent::Column::Active.eq(true))
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

    async fn password_hash(&self, tenant: &TenantId, id: &AgentId) -> RepoResult<String> {
        agent::Entity::find_by_id(id.as_str())
            .filter(agent::Column::TenantId.eq(tenant.as_str()))
            .one(self.db()?)
            .await
            .map_err(map_err)?
            .map(|m| m.password_hash)
            .ok_or(RepoError::NotFound)
    }

    async fn update(
        &self,
        tenant: &TenantId,
        id: &AgentId,
        patch: AgentPatch,
    ) -> RepoResult<Agent> {
        let txn = self.db()?.begin().await.map_err(map_err)?;
        // A no-op write to the tenant's row: it takes that row's lock
        // (PostgreSQL, MySQL) or the write lock (SQLite) first, so that two
        // admins demoting each other are serialised and the second sees the
        // first's change when it counts the admins left.
        tenant::Entity::update_many()
            .col_expr(tenant::Column::Name, Expr::col(tenant::Column::Name))
            .filter(tenant::Column::Id.eq(tenant.as_str()))
            .exec(&txn)
            .await
            .map_err(map_err)?;
        let current = agent::Entity::find_by_id(id.as_str())
            .filter(agent::Column::TenantId.eq(tenant.as_str()))
            .one(&txn)
            .await
            .map_err(map_err)?
            .ok_or(RepoError::NotFound)
            .and_then(convert::agent)?;
        if patch.removes_admin(&current) {
            let others = agent::Entity::find()
                .filter(agent::Column::TenantId.eq(tenant.as_str()))
                .filter(agent::Column::Role.eq(Role::Admin.as_str()))
                .filter(agent::Column::Active.eq(true))
                .filter(agent::Column::Id.ne(id.as_str()))
                .count(&txn)
                .await
                .map_err(map_err)?;
            if others == 0 {
                txn.rollback().await.map_err(map_err)?;
                return Err(RepoError::Conflict("last_admin".into()));
            }
        }
        let mut model = <agent::ActiveModel as Default>::default();
        if let Some(name) = patch.name {
            model.name = Set(name);
        }
        if let Some(role) = patch.role {
            model.role = Set(role.as_str().to_owned());
        }
        if let Some(active) = patch.active {
            model.active = Set(active);
        }
        if let Some(cap) = patch.max_concurrent {
            model.max_concurrent = Set(cap.map(|n| n as i32));
        }
        if model.is_changed() {
            agent::Entity::update_many()
                .set(model)
                .filter(agent::Column::Id.eq(id.as_str()))
                .exec(&txn)
                .await
                .map_err(map_err)?;
        }
        txn.commit().await.map_err(map_err)?;
        AgentRepository::find(self, tenant, id)
            .await?
            .ok_or(RepoError::NotFound)
    }

    async fn set_password(
        &self,
        tenant: &TenantId,
        id: &AgentId,
        password_hash: String,
    ) -> RepoResult<()> {
        let res = agent::Entity::update_many()
            .col_expr(agent::Column::PasswordHash, Expr::val(password_hash))
            .filter(agent::Column::Id.eq(id.as_str()))
            .filter(agent::Column::TenantId.eq(tenant.as_str()))
            .exec(self.db()?)
            .await
            .map_err(map_err)?;
        if res.rows_affected == 0 {
            return Err(RepoError::NotFound);
        }
        Ok(())
    }

    async fn set_status(
        &self,
        tenant: &TenantId,
        id: &AgentId,
        status: AgentStatus,
    ) -> RepoResult<Agent> {
        agent::Entity::update_many()
            .col_expr(agent::Column::Status, Expr::val(status.as_str()))
            .filter(agent::Column::Id.eq(id.as_str()))
            .filter(agent::Column::TenantId.eq(tenant.as_str()))
            .exec(self.db()?)
            .await
            .map_err(map_err)?;
        AgentRepository::find(self, tenant, id)
            .await?
            .ok_or(RepoError::NotFound)
    }
}

fn record(
    token: auth_token::Model,
    agent: Option<agent::Model>,
) -> RepoResult<Option<TokenRecord>> {
    let Some(agent) = agent.filter(|a| a.active) else {
        return Ok(None);
    };
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
        // SQLite: the reader thread's prepared statement (`reader.rs`),
        // unless it is busy.
        if let Some(reader) = self.reader()?
            && let Some(found) = reader
                .token(kind.as_str(), token_hash, to_micros(now))
                .await
        {
            return match found? {
                Some((token, agent)) => record(token, Some(agent)),
                None => Ok(None),
            };
        }
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

    async fn revoke_agent(&self, agent: &AgentId, keep: Option<&str>) -> RepoResult<()> {
        let mut cond = Condition::all().add(auth_token::Column::AgentId.eq(agent.as_str()));
        if let Some(keep) = keep {
            cond = cond.add(auth_token::Column::TokenHash.ne(keep)).add(
                Condition::any()
                    .add(auth_token::Column::ParentHash.is_null())
                    .add(auth_token::Column::ParentHash.ne(keep)),
            );
        }
        auth_token::Entity::delete_many()
            .filter(cond)
            .exec(self.db()?)
            .await
            .map_err(map_err)?;
        Ok(())
    }
}

fn api_token(m: api_token::Model) -> RepoResult<ApiToken> {
    let names: Vec<String> =
        serde_json::from_str(&m.scopes).map_err(|_| corrupt("scopes", &m.scopes))?;
    Ok(ApiToken {
        scopes: Scope::parse_list(&names).map_err(|_| corrupt("scopes", &m.scopes))?,
        id: m.id,
        tenant_id: TenantId::new(m.tenant_id),
        agent_id: AgentId::new(m.agent_id),
        name: m.name,
        created_at: from_micros(m.created_at)?,
        last_used_at: m.last_used_at.map(from_micros).transpose()?,
    })
}

/// A token's last use is written at most this often (microseconds), not at
/// every request.
const LAST_USED_RESOLUTION: i64 = 60_000_000;

#[async_trait]
impl ApiTokenRepository for SeaOrmStore {
    async fn create(&self, tenant: &TenantId, new: NewApiToken) -> RepoResult<ApiToken> {
        let names: Vec<&str> = new.scopes.iter().map(|s| s.as_str()).collect();
        let model = api_token::Model {
            id: new_id(),
            tenant_id: tenant.as_str().to_owned(),
            agent_id: new.agent_id.as_str().to_owned(),
            name: new.name,
            scopes: serde_json::to_string(&names).map_err(|e| RepoError::Other(e.to_string()))?,
            token_hash: new.token_hash,
            created_at: now_micros(),
            last_used_at: None,
        };
        api_token::Entity::insert(api_token::ActiveModel::from(model.clone()))
            .exec_without_returning(self.db()?)
            .await
            .map_err(map_err)?;
        api_token(model)
    }

    async fn list(&self, tenant: &TenantId) -> RepoResult<Vec<ApiToken>> {
        api_token::Entity::find()
            .filter(api_token::Column::TenantId.eq(tenant.as_str()))
            .order_by_asc(api_token::Column::CreatedAt)
            .all(self.db()?)
            .await
            .map_err(map_err)?
            .into_iter()
            .map(api_token)
            .collect()
    }

    async fn delete(&self, tenant: &TenantId, id: &str) -> RepoResult<bool> {
        let res = api_token::Entity::delete_many()
            .filter(api_token::Column::Id.eq(id))
            .filter(api_token::Column::TenantId.eq(tenant.as_str()))
            .exec(self.db()?)
            .await
            .map_err(map_err)?;
        Ok(res.rows_affected > 0)
    }

    async fn find_by_hash(
        &self,
        token_hash: &str,
        now: Timestamp,
    ) -> RepoResult<Option<(ApiToken, Agent)>> {
        let found = api_token::Entity::find()
            .filter(api_token::Column::TokenHash.eq(token_hash))
            .find_also_related(agent::Entity)
            .one(self.db()?)
            .await
            .map_err(map_err)?;
        let Some((token, Some(agent))) = found else {
            return Ok(None);
        };
        if !agent.active {
            return Ok(None);
        }
        let now = to_micros(now);
        if token
            .last_used_at
            .is_none_or(|at| now - at >= LAST_USED_RESOLUTION)
        {
            api_token::Entity::update_many()
                .col_expr(api_token::Column::LastUsedAt, Expr::val(now))
                .filter(api_token::Column::Id.eq(token.id.as_str()))
                .exec(self.db()?)
                .await
                .map_err(map_err)?;
        }
        Ok(Some((api_token(token)?, convert::agent(agent)?)))
    }

    async fn revoke_agent(&self, tenant: &TenantId, agent: &AgentId) -> RepoResult<()> {
        api_token::Entity::delete_many()
            .filter(api_token::Column::TenantId.eq(tenant.as_str()))
            .filter(api_token::Column::AgentId.eq(agent.as_str()))
            .exec(self.db()?)
            .await
            .map_err(map_err)?;
        Ok(())
    }
}
