//! The in-memory store: every repository in one object.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use chat_domain::repo::{
    AgentRepository, ApiTokenRepository, ArticleRepository, TenantRepository, TokenKind,
    TokenRecord, TokenRepository, WebhookRepository,
};
use chat_domain::{
    Agent, AgentId, AgentPatch, ApiToken, Article, ArticleInput, AttemptOutcome, BotMode,
    ChatSession, ClaimedDelivery, Customer, Delivery, Email, Message, NewAgent, NewApiToken,
    NewTenant, NewWebhookEndpoint, RepoError, RepoResult, Role, SessionKeyHash, Tenant, TenantId,
    TenantSlug, Timestamp, WebhookEndpoint, WebhookPatch,
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
    pub(crate) api_tokens: Vec<(ApiToken, String)>,
    pub(crate) webhooks: Vec<WebhookEndpoint>,
    /// Visitor token digests: (tenant, digest, customer, last seen).
    pub(crate) visitors: Vec<(TenantId, SessionKeyHash, Customer, Timestamp)>,
    pub(crate) canned: Vec<chat_domain::CannedReply>,
    pub(crate) labels: Vec<chat_domain::Label>,
    pub(crate) notes: Vec<chat_domain::Note>,
    pub(crate) attachments: Vec<chat_domain::Attachment>,
    /// Queued emails with their status.
    pub(crate) emails: Vec<(TenantId, chat_domain::email::NewEmail, &'static str)>,
    pub(crate) unsubscribed: Vec<chat_domain::CustomerId>,
    pub(crate) secrets: HashMap<String, String>,
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

fn tenant_mut<'a>(s: &'a mut State, id: &TenantId) -> RepoResult<&'a mut Tenant> {
    s.tenants
        .iter_mut()
        .find(|t| &t.id == id)
        .ok_or(RepoError::NotFound)
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
                time_zone: chat_domain::TimeZone::default(),
                created_at: chrono::Utc::now(),
                assignment: chat_domain::AssignmentSettings::default(),
                widget: Default::default(),
                business_hours: Default::default(),
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
            let t = tenant_mut(s, id)?;
            t.bot_mode = mode;
            t.bot_name = name.to_owned();
            Ok(t.clone())
        })
    }

    async fn set_time_zone(
        &self,
        id: &TenantId,
        zone: chat_domain::TimeZone,
    ) -> RepoResult<Tenant> {
        self.with(|s| {
            let t = tenant_mut(s, id)?;
            t.time_zone = zone;
            Ok(t.clone())
        })
    }

    async fn set_widget(
        &self,
        id: &TenantId,
        widget: chat_domain::widget::WidgetSettings,
    ) -> RepoResult<Tenant> {
        self.with(|s| {
            let t = tenant_mut(s, id)?;
            t.widget = widget;
            Ok(t.clone())
        })
    }

    async fn set_business_hours(
        &self,
        id: &TenantId,
        hours: chat_domain::widget::BusinessHours,
    ) -> RepoResult<Tenant> {
        self.with(|s| {
            let t = tenant_mut(s, id)?;
            t.business_hours = hours;
            Ok(t.clone())
        })
    }

    async fn set_assignment(
        &self,
        id: &TenantId,
        settings: chat_domain::AssignmentSettings,
    ) -> RepoResult<Tenant> {
        self.with(|s| {
            let t = tenant_mut(s, id)?;
            t.assignment = settings;
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

    async fn stamps(&self, tenant: &TenantId) -> RepoResult<Vec<(String, chat_domain::Timestamp)>> {
        Ok(self.with(|s| {
            s.articles
                .iter()
                .filter(|a| &a.tenant_id == tenant)
                .map(|a| (a.id.clone(), a.updated_at))
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
            draft: input.draft,
            embedding: input.embedding,
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
            a.draft = input.draft;
            a.embedding = input.embedding;
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
                active: true,
                created_at: chrono::Utc::now(),
                status: chat_domain::AgentStatus::Online,
                max_concurrent: None,
                last_assigned_at: None,
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
                .filter(|(a, _)| &a.email == email && a.active)
                .cloned()
                .collect()
        }))
    }

    async fn password_hash(&self, tenant: &TenantId, id: &AgentId) -> RepoResult<String> {
        self.with(|s| {
            s.agents
                .iter()
                .find(|(a, _)| &a.tenant_id == tenant && &a.id == id)
                .map(|(_, h)| h.clone())
                .ok_or(RepoError::NotFound)
        })
    }

    async fn update(
        &self,
        tenant: &TenantId,
        id: &AgentId,
        patch: AgentPatch,
    ) -> RepoResult<Agent> {
        self.with(|s| {
            let others = s
                .agents
                .iter()
                .filter(|(a, _)| {
                    &a.tenant_id == tenant && &a.id != id && a.active && a.role == Role::Admin
                })
                .count();
            let (agent, _) = s
                .agents
                .iter_mut()
                .find(|(a, _)| &a.tenant_id == tenant && &a.id == id)
                .ok_or(RepoError::NotFound)?;
            if patch.removes_admin(agent) && others == 0 {
                return Err(RepoError::Conflict("last_admin".into()));
            }
            if let Some(name) = patch.name {
                agent.name = name;
            }
            if let Some(role) = patch.role {
                agent.role = role;
            }
            if let Some(active) = patch.active {
                agent.active = active;
            }
            if let Some(cap) = patch.max_concurrent {
                agent.max_concurrent = cap;
            }
            Ok(agent.clone())
        })
    }

    async fn set_password(
        &self,
        tenant: &TenantId,
        id: &AgentId,
        password_hash: String,
    ) -> RepoResult<()> {
        self.with(|s| {
            let (_, hash) = s
                .agents
                .iter_mut()
                .find(|(a, _)| &a.tenant_id == tenant && &a.id == id)
                .ok_or(RepoError::NotFound)?;
            *hash = password_hash;
            Ok(())
        })
    }

    async fn set_status(
        &self,
        tenant: &TenantId,
        id: &AgentId,
        status: chat_domain::AgentStatus,
    ) -> RepoResult<Agent> {
        self.with(|s| {
            let (agent, _) = s
                .agents
                .iter_mut()
                .find(|(a, _)| &a.tenant_id == tenant && &a.id == id)
                .ok_or(RepoError::NotFound)?;
            agent.status = status;
            Ok(agent.clone())
        })
    }
}

#[async_trait]
impl ApiTokenRepository for InMemoryStore {
    async fn create(&self, tenant: &TenantId, new: NewApiToken) -> RepoResult<ApiToken> {
        let token = ApiToken {
            id: new_id(),
            tenant_id: tenant.clone(),
            agent_id: new.agent_id,
            name: new.name,
            scopes: new.scopes,
            created_at: chrono::Utc::now(),
            last_used_at: None,
        };
        self.with(|s| s.api_tokens.push((token.clone(), new.token_hash)));
        Ok(token)
    }

    async fn list(&self, tenant: &TenantId) -> RepoResult<Vec<ApiToken>> {
        Ok(self.with(|s| {
            s.api_tokens
                .iter()
                .filter(|(t, _)| &t.tenant_id == tenant)
                .map(|(t, _)| t.clone())
                .collect()
        }))
    }

    async fn delete(&self, tenant: &TenantId, id: &str) -> RepoResult<bool> {
        Ok(self.with(|s| {
            let before = s.api_tokens.len();
            s.api_tokens
                .retain(|(t, _)| !(&t.tenant_id == tenant && t.id == id));
            s.api_tokens.len() != before
        }))
    }

    async fn find_by_hash(
        &self,
        token_hash: &str,
        _now: Timestamp,
    ) -> RepoResult<Option<(ApiToken, Agent)>> {
        Ok(self.with(|s| {
            let (token, _) = s.api_tokens.iter().find(|(_, h)| h == token_hash)?;
            let (agent, _) = s
                .agents
                .iter()
                .find(|(a, _)| a.id == token.agent_id && a.active)?;
            Some((token.clone(), agent.clone()))
        }))
    }

    async fn revoke_agent(&self, tenant: &TenantId, agent: &AgentId) -> RepoResult<()> {
        self.with(|s| {
            s.api_tokens
                .retain(|(t, _)| !(&t.tenant_id == tenant && &t.agent_id == agent))
        });
        Ok(())
    }
}

/// Endpoints only: the in-memory store keeps no outbox, so it never has
/// deliveries to claim.
#[async_trait]
impl WebhookRepository for InMemoryStore {
    async fn create(
        &self,
        tenant: &TenantId,
        new: NewWebhookEndpoint,
    ) -> RepoResult<WebhookEndpoint> {
        let now = chrono::Utc::now();
        let endpoint = WebhookEndpoint {
            id: new_id(),
            tenant_id: tenant.clone(),
            url: new.url,
            events: new.events,
            active: new.active,
            created_at: now,
            updated_at: now,
        };
        self.with(|s| s.webhooks.push(endpoint.clone()));
        Ok(endpoint)
    }

    async fn list(&self, tenant: &TenantId) -> RepoResult<Vec<WebhookEndpoint>> {
        Ok(self.with(|s| {
            s.webhooks
                .iter()
                .filter(|w| &w.tenant_id == tenant)
                .cloned()
                .collect()
        }))
    }

    async fn find(&self, tenant: &TenantId, id: &str) -> RepoResult<Option<WebhookEndpoint>> {
        Ok(self.with(|s| {
            s.webhooks
                .iter()
                .find(|w| &w.tenant_id == tenant && w.id == id)
                .cloned()
        }))
    }

    async fn update(
        &self,
        tenant: &TenantId,
        id: &str,
        patch: WebhookPatch,
    ) -> RepoResult<WebhookEndpoint> {
        self.with(|s| {
            let w = s
                .webhooks
                .iter_mut()
                .find(|w| &w.tenant_id == tenant && w.id == id)
                .ok_or(RepoError::NotFound)?;
            if let Some(url) = patch.url {
                w.url = url;
            }
            if let Some(events) = patch.events {
                w.events = events;
            }
            if let Some(active) = patch.active {
                w.active = active;
            }
            w.updated_at = chrono::Utc::now();
            Ok(w.clone())
        })
    }

    async fn delete(&self, tenant: &TenantId, id: &str) -> RepoResult<bool> {
        Ok(self.with(|s| {
            let before = s.webhooks.len();
            s.webhooks
                .retain(|w| !(&w.tenant_id == tenant && w.id == id));
            s.webhooks.len() != before
        }))
    }

    async fn deliveries(&self, _: &TenantId, _: &str, _: u64) -> RepoResult<Vec<Delivery>> {
        Ok(Vec::new())
    }

    async fn redeliver(&self, _: &TenantId, _: &str, _: &str) -> RepoResult<Delivery> {
        Err(RepoError::NotFound)
    }

    async fn claim_due(
        &self,
        _: Timestamp,
        _: u64,
        _: std::time::Duration,
    ) -> RepoResult<Vec<ClaimedDelivery>> {
        Ok(Vec::new())
    }

    async fn record_attempt(&self, _: &str, _: Timestamp, _: AttemptOutcome) -> RepoResult<()> {
        Ok(())
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

    async fn revoke_agent(&self, agent: &AgentId, keep: Option<&str>) -> RepoResult<()> {
        self.with(|s| {
            s.tokens.retain(|hash, (_, r)| {
                &r.agent.id != agent
                    || keep.is_some_and(|k| hash == k || r.parent_hash.as_deref() == Some(k))
            })
        });
        Ok(())
    }

    async fn revoke(&self, token_hash: &str) -> RepoResult<bool> {
        Ok(self.with(|s| {
            s.tokens
                .retain(|_, (_, r)| r.parent_hash.as_deref() != Some(token_hash));
            s.tokens.remove(token_hash).is_some()
        }))
    }
}
