//! The in-memory store: every repository in one object.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use chat_domain::repo::{
    AgentRepository, ArticleRepository, TenantRepository, TokenKind, TokenRecord, TokenRepository,
};
use chat_domain::{
    Agent, AgentId, Article, ArticleInput, BotMode, ChatSession, Email, Message, NewAgent,
    NewTenant, RepoError, RepoResult, SessionKeyHash, Tenant, TenantId, TenantSlug, Timestamp,
};

/// A new time-ordered id, as the real store makes them.
pub(crate) fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

#[derive(Default)]
pub(crate) struct State {
    pub(crate) tenants: Vec<Tenant>,
    pub(crate) agents: Vec<(Agent, String)>,
    pub(crate) tokens: HashMap<String, (TokenKind, TokenRecord)>,
    pub(crate) articles: Vec<Article>,
    pub(crate) sessions: Vec<(ChatSession, SessionKeyHash)>,
    pub(crate) messages: Vec<Message>,
}

/// Every repository in one in-memory object.
#[derive(Default)]
pub struct InMemoryStore {
    state: Mutex<State>,
}

impl InMemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    pub(crate) fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        let mut guard = self.state.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut guard)
    }
}

#[async_trait]
impl TenantRepository for InMemoryStore {
    async fn create(&self, new: NewTenant) -> RepoResult<Tenant> {
        self.with(|s| {
            if s.tenants.iter().any(|t| t.slug == new.slug) {
                return Err(RepoError::Conflict("tenant".into()));
            }
            let tenant = Tenant {
                id: TenantId::new(new_id()),
                slug: new.slug,
                name: new.name,
                allowed_origins: new.allowed_origins,
                bot_mode: BotMode::Off,
                bot_name: "Assistant".into(),
                created_at: chrono::Utc::now(),
            };
            s.tenants.push(tenant.clone());
            Ok(tenant)
        })
    }

    async fn find_by_slug(&self, slug: &TenantSlug) -> RepoResult<Option<Tenant>> {
        Ok(self.with(|s| s.tenants.iter().find(|t| &t.slug == slug).cloned()))
    }

    async fn find(&self, id: &TenantId) -> RepoResult<Option<Tenant>> {
        Ok(self.with(|s| s.tenants.iter().find(|t| &t.id == id).cloned()))
    }

    async fn set_bot(&self, id: &TenantId, mode: BotMode, name: &str) -> RepoResult<Tenant> {
        self.with(|s| {
            let t = s
                .tenants
                .iter_mut()
                .find(|t| &t.id == id)
                .ok_or(RepoError::NotFound)?;
            t.bot_mode = mode;
            t.bot_name = name.to_owned();
            Ok(t.clone())
        })
    }
}

#[async_trait]
impl ArticleRepository for InMemoryStore {
    async fn list(&self, tenant: &TenantId) -> RepoResult<Vec<Article>> {
        Ok(self.with(|s| {
            s.articles
                .iter()
                .filter(|a| &a.tenant_id == tenant)
                .cloned()
                .collect()
        }))
    }

    async fn find(&self, tenant: &TenantId, id: &str) -> RepoResult<Option<Article>> {
        Ok(self.with(|s| {
            s.articles
                .iter()
                .find(|a| &a.tenant_id == tenant && a.id == id)
                .cloned()
        }))
    }

    async fn create(&self, tenant: &TenantId, input: ArticleInput) -> RepoResult<Article> {
        let article = Article {
            id: new_id(),
            tenant_id: tenant.clone(),
            title: input.title,
            body: input.body,
            keywords: input.keywords,
            updated_at: chrono::Utc::now(),
        };
        self.with(|s| s.articles.push(article.clone()));
        Ok(article)
    }

    async fn update(
        &self,
        tenant: &TenantId,
        id: &str,
        input: ArticleInput,
    ) -> RepoResult<Article> {
        self.with(|s| {
            let a = s
                .articles
                .iter_mut()
                .find(|a| &a.tenant_id == tenant && a.id == id)
                .ok_or(RepoError::NotFound)?;
            a.title = input.title;
            a.body = input.body;
            a.keywords = input.keywords;
            a.updated_at = chrono::Utc::now();
            Ok(a.clone())
        })
    }

    async fn delete(&self, tenant: &TenantId, id: &str) -> RepoResult<bool> {
        Ok(self.with(|s| {
            let before = s.articles.len();
            s.articles
                .retain(|a| !(&a.tenant_id == tenant && a.id == id));
            s.articles.len() != before
        }))
    }
}

#[async_trait]
impl AgentRepository for InMemoryStore {
    async fn create(&self, tenant: &TenantId, new: NewAgent) -> RepoResult<Agent> {
        self.with(|s| {
            if s.agents
                .iter()
                .any(|(a, _)| &a.tenant_id == tenant && a.email == new.email)
            {
                return Err(RepoError::Conflict("agent".into()));
            }
            let agent = Agent {
                id: AgentId::new(new_id()),
                tenant_id: tenant.clone(),
                name: new.name,
                email: new.email,
                role: new.role,
                created_at: chrono::Utc::now(),
            };
            s.agents.push((agent.clone(), new.password_hash));
            Ok(agent)
        })
    }

    async fn find(&self, tenant: &TenantId, id: &AgentId) -> RepoResult<Option<Agent>> {
        Ok(self.with(|s| {
            s.agents
                .iter()
                .map(|(a, _)| a)
                .find(|a| &a.tenant_id == tenant && &a.id == id)
                .cloned()
        }))
    }

    async fn list(&self, tenant: &TenantId) -> RepoResult<Vec<Agent>> {
        Ok(self.with(|s| {
            let mut v: Vec<Agent> = s
                .agents
                .iter()
                .map(|(a, _)| a)
                .filter(|a| &a.tenant_id == tenant)
                .cloned()
                .collect();
            v.sort_by(|a, b| a.name.cmp(&b.name));
            v
        }))
    }

    async fn find_credentials(&self, email: &Email) -> RepoResult<Vec<(Agent, String)>> {
        Ok(self.with(|s| {
            s.agents
                .iter()
                .filter(|(a, _)| &a.email == email)
                .cloned()
                .collect()
        }))
    }
}

#[async_trait]
impl TokenRepository for InMemoryStore {
    async fn insert(
        &self,
        kind: TokenKind,
        token_hash: &str,
        agent: &Agent,
        expires_at: Timestamp,
        parent_hash: Option<&str>,
    ) -> RepoResult<()> {
        let record = TokenRecord {
            agent: agent.clone(),
            expires_at,
            parent_hash: parent_hash.map(str::to_owned),
        };
        self.with(|s| s.tokens.insert(token_hash.to_owned(), (kind, record)));
        Ok(())
    }

    async fn find(
        &self,
        kind: TokenKind,
        token_hash: &str,
        now: Timestamp,
    ) -> RepoResult<Option<TokenRecord>> {
        Ok(self.with(|s| match s.tokens.get(token_hash) {
            Some((k, r)) if *k == kind && r.expires_at > now => Some(r.clone()),
            _ => None,
        }))
    }

    async fn consume(
        &self,
        kind: TokenKind,
        token_hash: &str,
        now: Timestamp,
    ) -> RepoResult<Option<TokenRecord>> {
        Ok(self.with(|s| match s.tokens.remove(token_hash) {
            Some((k, r)) if k == kind && r.expires_at > now => Some(r),
            _ => None,
        }))
    }

    async fn revoke(&self, token_hash: &str) -> RepoResult<bool> {
        Ok(self.with(|s| {
            s.tokens
                .retain(|_, (_, r)| r.parent_hash.as_deref() != Some(token_hash));
            s.tokens.remove(token_hash).is_some()
        }))
    }
}
