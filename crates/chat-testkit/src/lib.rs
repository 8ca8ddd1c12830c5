//! Test doubles: in-memory implementations of every port, so that the chat
//! logic can be exercised without a database or a network. Only tests
//! depend on this crate; it is never part of a build of the server. They follow the contracts of
//! the real store (tenant scoping, gapless `seq`, idempotent appends,
//! optimistic state updates) but persist nothing.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use chat_domain::message::preview;
use chat_domain::repo::{
    AgentRepository, ArticleRepository, HealthCheck, MessageRepository, SessionRepository,
    TenantRepository, TokenKind, TokenRecord, TokenRepository,
};
use chat_domain::{
    Agent, AgentId, AgentRef, AppendOutcome, Article, ArticleInput, AssigneeFilter, BotMode,
    ChatEvent, ChatSession, Committed, Customer, CustomerId, Email, Message, MessageId, NewAgent,
    NewMessage, NewSession, NewTenant, RepoError, RepoResult, SessionFilter, SessionId,
    SessionKeyHash, SessionStatus, Tenant, TenantId, TenantSlug, Timestamp, WebSocketHub,
};

/// A new time-ordered id, as the real store makes them.
fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

#[derive(Default)]
struct State {
    tenants: Vec<Tenant>,
    agents: Vec<(Agent, String)>,
    tokens: HashMap<String, (TokenKind, TokenRecord)>,
    articles: Vec<Article>,
    sessions: Vec<(ChatSession, SessionKeyHash)>,
    messages: Vec<Message>,
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

    fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
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
            if s.agents.iter().any(|(a, _)| a.email == new.email) {
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

    async fn find_credentials(&self, email: &Email) -> RepoResult<Option<(Agent, String)>> {
        Ok(self.with(|s| s.agents.iter().find(|(a, _)| &a.email == email).cloned()))
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

fn matches(session: &ChatSession, messages: &[Message], f: &SessionFilter) -> bool {
    let status_ok = f.status.is_none_or(|st| session.status == st);
    let assignee_ok = match f.assignee {
        AssigneeFilter::Any => true,
        AssigneeFilter::Unassigned => session.assigned_agent.is_none(),
        AssigneeFilter::Agent => {
            session.assigned_agent.as_ref().map(|a| &a.id) == f.agent_id.as_ref()
        }
    };
    let customer_ok = f
        .customer_id
        .as_ref()
        .is_none_or(|c| &session.customer.id == c);
    let query_ok = f.query.as_ref().is_none_or(|q| {
        let q = q.to_lowercase();
        let hit = |s: &str| s.to_lowercase().contains(&q);
        session.customer.name.as_deref().is_some_and(hit)
            || session
                .customer
                .email
                .as_ref()
                .is_some_and(|e| hit(e.as_str()))
            || messages
                .iter()
                .any(|m| m.session_id == session.id && hit(&m.body))
    });
    status_ok && assignee_ok && customer_ok && query_ok
}

/// A tenant's session, for changing it in place.
fn session_mut<'a>(
    sessions: &'a mut [(ChatSession, SessionKeyHash)],
    tenant: &TenantId,
    id: &SessionId,
) -> RepoResult<&'a mut ChatSession> {
    sessions
        .iter_mut()
        .map(|(sess, _)| sess)
        .find(|sess| &sess.tenant_id == tenant && &sess.id == id)
        .ok_or(RepoError::NotFound)
}

#[async_trait]
impl SessionRepository for InMemoryStore {
    async fn create(
        &self,
        tenant: &TenantId,
        new: NewSession,
    ) -> RepoResult<Committed<ChatSession>> {
        let now = chrono::Utc::now();
        let session = ChatSession {
            id: SessionId::new(new_id()),
            tenant_id: tenant.clone(),
            customer: Customer {
                id: CustomerId::new(new_id()),
                name: new.customer.name,
                email: new.customer.email,
                attributes: new.customer.attributes,
            },
            status: SessionStatus::Pending,
            assigned_agent: None,
            context: new.context,
            created_at: now,
            last_activity_at: now,
            last_seq: 0,
            last_message_preview: None,
            bot_handed_off: false,
        };
        self.with(|s| s.sessions.push((session.clone(), new.key_hash)));
        Ok(Committed::new(session))
    }

    async fn find_by_key_hash(&self, key_hash: &SessionKeyHash) -> RepoResult<Option<ChatSession>> {
        Ok(self.with(|s| {
            s.sessions
                .iter()
                .find(|(_, k)| k == key_hash)
                .map(|(sess, _)| sess.clone())
        }))
    }

    async fn find(&self, tenant: &TenantId, id: &SessionId) -> RepoResult<Option<ChatSession>> {
        Ok(self.with(|s| {
            s.sessions
                .iter()
                .map(|(sess, _)| sess)
                .find(|sess| &sess.tenant_id == tenant && &sess.id == id)
                .cloned()
        }))
    }

    async fn list(
        &self,
        tenant: &TenantId,
        filter: &SessionFilter,
    ) -> RepoResult<Vec<ChatSession>> {
        Ok(self.with(|s| {
            let mut v: Vec<ChatSession> = s
                .sessions
                .iter()
                .map(|(sess, _)| sess)
                .filter(|sess| &sess.tenant_id == tenant && matches(sess, &s.messages, filter))
                .cloned()
                .collect();
            v.sort_by(|a, b| {
                b.last_activity_at
                    .cmp(&a.last_activity_at)
                    .then(b.id.cmp(&a.id))
            });
            v.truncate(usize::try_from(filter.limit).unwrap_or(usize::MAX));
            v
        }))
    }

    async fn update_state(
        &self,
        tenant: &TenantId,
        id: &SessionId,
        expected: SessionStatus,
        status: SessionStatus,
        assigned: Option<AgentRef>,
    ) -> RepoResult<Committed<ChatSession>> {
        self.with(|s| {
            let sess = session_mut(&mut s.sessions, tenant, id)?;
            if sess.status != expected {
                return Err(RepoError::Conflict("stale_state".into()));
            }
            sess.status = status;
            sess.assigned_agent = assigned;
            sess.last_activity_at = chrono::Utc::now();
            Ok(Committed::new(sess.clone()))
        })
    }

    async fn mark_handed_off(&self, tenant: &TenantId, id: &SessionId) -> RepoResult<bool> {
        self.with(|s| {
            let sess = session_mut(&mut s.sessions, tenant, id)?;
            let changed = !sess.bot_handed_off;
            sess.bot_handed_off = true;
            Ok(changed)
        })
    }
}

#[async_trait]
impl MessageRepository for InMemoryStore {
    async fn append(
        &self,
        tenant: &TenantId,
        session: &SessionId,
        new: NewMessage,
    ) -> RepoResult<AppendOutcome> {
        self.with(|s| {
            let sess = session_mut(&mut s.sessions, tenant, session)?;
            let retried = new.client_msg_id.as_ref().and_then(|cid| {
                s.messages
                    .iter()
                    .find(|m| &m.session_id == session && m.client_msg_id.as_ref() == Some(cid))
            });
            if let Some(m) = retried {
                return Ok(AppendOutcome::Existing(m.clone()));
            }
            if !sess.accepts_messages() {
                return Err(RepoError::Conflict("session_closed".into()));
            }
            let now = chrono::Utc::now();
            sess.last_seq += 1;
            sess.last_activity_at = now;
            sess.last_message_preview = Some(preview(new.body.as_str()));
            let message = Message {
                id: MessageId::new(new_id()),
                tenant_id: tenant.clone(),
                session_id: session.clone(),
                seq: sess.last_seq,
                sender_type: new.sender_type,
                sender_id: new.sender_id,
                sender_name: new.sender_name,
                body: new.body.into_string(),
                client_msg_id: new.client_msg_id,
                created_at: now,
            };
            s.messages.push(message.clone());
            Ok(AppendOutcome::Created(message))
        })
    }

    async fn list(
        &self,
        tenant: &TenantId,
        session: &SessionId,
        after_seq: i64,
        limit: u64,
    ) -> RepoResult<Vec<Message>> {
        Ok(self.with(|s| {
            s.messages
                .iter()
                .filter(|m| &m.tenant_id == tenant && &m.session_id == session && m.seq > after_seq)
                .take(usize::try_from(limit).unwrap_or(usize::MAX))
                .cloned()
                .collect()
        }))
    }

    async fn list_before(
        &self,
        tenant: &TenantId,
        session: &SessionId,
        before_seq: i64,
        limit: u64,
    ) -> RepoResult<Vec<Message>> {
        Ok(self.with(|s| {
            let older: Vec<Message> = s
                .messages
                .iter()
                .filter(|m| {
                    &m.tenant_id == tenant && &m.session_id == session && m.seq < before_seq
                })
                .cloned()
                .collect();
            let skip = older
                .len()
                .saturating_sub(usize::try_from(limit).unwrap_or(usize::MAX));
            older.into_iter().skip(skip).collect()
        }))
    }
}

#[async_trait]
impl HealthCheck for InMemoryStore {
    async fn ping(&self) -> RepoResult<()> {
        Ok(())
    }
}

/// Where a recorded event was sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Tenant(TenantId),
    Agent(TenantId, AgentId),
    Session(TenantId, SessionId),
}

/// A hub that records what it was asked to deliver.
#[derive(Default)]
pub struct RecordingHub {
    sent: Mutex<Vec<(Target, ChatEvent)>>,
    published: tokio::sync::Notify,
}

impl RecordingHub {
    pub fn new() -> Self {
        Self::default()
    }

    /// `(target, event type)` pairs in the order they were published.
    pub fn sent(&self) -> Vec<(Target, &'static str)> {
        self.sent
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .map(|(t, e)| (t.clone(), e.event_type()))
            .collect()
    }

    pub fn events(&self) -> Vec<(Target, ChatEvent)> {
        self.sent.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn clear(&self) {
        self.sent.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }

    fn push(&self, target: Target, event: ChatEvent) {
        self.sent
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((target, event));
        self.published.notify_waiters();
    }

    /// Waits (up to ten seconds) until a recorded event satisfies `pred`,
    /// for work the service does off the request path.
    pub async fn wait_for(
        &self,
        pred: impl Fn(&Target, &ChatEvent) -> bool,
    ) -> Option<(Target, ChatEvent)> {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let notified = self.published.notified();
            if let Some(hit) = self.events().into_iter().find(|(t, e)| pred(t, e)) {
                return Some(hit);
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return None;
            }
        }
    }
}

#[async_trait]
impl WebSocketHub for RecordingHub {
    async fn broadcast_to_tenant(&self, tenant: &TenantId, event: ChatEvent) {
        self.push(Target::Tenant(tenant.clone()), event);
    }
    async fn broadcast_to_user(&self, tenant: &TenantId, agent: &AgentId, event: ChatEvent) {
        self.push(Target::Agent(tenant.clone(), agent.clone()), event);
    }
    async fn send_to_session(&self, tenant: &TenantId, session: &SessionId, event: ChatEvent) {
        self.push(Target::Session(tenant.clone(), session.clone()), event);
    }
}
