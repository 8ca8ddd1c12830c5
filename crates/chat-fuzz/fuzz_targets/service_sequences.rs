//! Random command sequences against the chat service over the in-memory
//! store and the recording hub, checking after every step:
//! - every session's stored `seq`s are 1, 2, 3 … with no gap;
//! - no event before commit: every `chat.message.new` published is stored;
//! - no event crosses tenants: each goes to the tenant it is about.

#![no_main]

use std::sync::Arc;

use arbitrary::Arbitrary;
use chat_domain::repo::{AgentRepository, MessageRepository, TenantRepository};
use chat_domain::{
    AgentId, ChatEvent, ChatSession, Email, NewAgent, NewTenant, Role, TenantId, TenantSlug,
};
use chat_service::{AgentCtx, ChatService, Repositories, StartSession};
use chat_testkit::{InMemoryStore, RecordingHub, Target};
use libfuzzer_sys::fuzz_target;

#[derive(Debug, Arbitrary)]
enum Command {
    Start {
        tenant: u8,
        name: String,
    },
    CustomerSends {
        session: u8,
        body: String,
        client_msg_id: Option<u8>,
    },
    AgentSends {
        agent: u8,
        session: u8,
        body: String,
    },
    Assign {
        agent: u8,
        session: u8,
        to: Option<u8>,
    },
    Close {
        agent: u8,
        session: u8,
    },
    Reopen {
        agent: u8,
        session: u8,
    },
    Typing {
        agent: u8,
        session: u8,
        is_typing: bool,
    },
    CustomerTyping {
        session: u8,
        is_typing: bool,
    },
}

struct World {
    chat: ChatService,
    store: Arc<InMemoryStore>,
    hub: Arc<RecordingHub>,
    agents: Vec<AgentCtx>,
    sessions: Vec<ChatSession>,
}

const TENANTS: [&str; 2] = ["acme", "globex"];

async fn world() -> World {
    let store = Arc::new(InMemoryStore::new());
    let hub = Arc::new(RecordingHub::new());
    let repos = Repositories::from_store(store.clone());
    let mut agents = Vec::new();
    for slug in TENANTS {
        let tenant = TenantRepository::create(
            &*store,
            NewTenant {
                slug: TenantSlug::parse(slug).expect("a slug"),
                name: slug.into(),
                allowed_origins: vec![],
            },
        )
        .await
        .expect("a tenant");
        for i in 0..2 {
            let agent = AgentRepository::create(
                &*store,
                &tenant.id,
                NewAgent {
                    name: format!("{slug} {i}"),
                    email: Email::parse(&format!("a{i}@{slug}.test")).expect("an email"),
                    role: Role::Agent,
                    password_hash: "unused".into(),
                },
            )
            .await
            .expect("an agent");
            agents.push(AgentCtx {
                agent,
                credential: format!("{slug}-{i}"),
                expires_at: chrono::Utc::now() + chrono::Duration::hours(1),
                scopes: None,
            });
        }
    }
    World {
        chat: ChatService::new(repos, hub.clone()),
        store,
        hub,
        agents,
        sessions: Vec::new(),
    }
}

impl World {
    fn agent(&self, i: u8) -> &AgentCtx {
        &self.agents[usize::from(i) % self.agents.len()]
    }

    fn session(&self, i: u8) -> Option<&ChatSession> {
        (!self.sessions.is_empty()).then(|| &self.sessions[usize::from(i) % self.sessions.len()])
    }

    async fn run(&mut self, cmd: Command) {
        match cmd {
            Command::Start { tenant, name } => {
                let input = StartSession {
                    tenant: TENANTS[usize::from(tenant) % TENANTS.len()].into(),
                    customer_name: Some(name),
                    ..StartSession::default()
                };
                if let Ok(started) = self.chat.start_session(input).await {
                    let s = started.session;
                    self.sessions.push(s);
                }
            }
            Command::CustomerSends {
                session,
                body,
                client_msg_id,
            } => {
                let Some(s) = self.session(session).cloned() else {
                    return;
                };
                // The customer's view of its session, as a key lookup gives.
                let Ok(s) = self.chat.agent_session_by_id(&s.tenant_id, &s.id).await else {
                    return;
                };
                let cid = client_msg_id.map(|c| format!("c{c}"));
                let _ = self.chat.send_as_customer(&s, &body, cid.as_deref()).await;
            }
            Command::AgentSends {
                agent,
                session,
                body,
            } => {
                let Some(s) = self.session(session).cloned() else {
                    return;
                };
                let _ = self
                    .chat
                    .send_as_agent(self.agent(agent), &s.id, &body, None)
                    .await;
            }
            Command::Assign { agent, session, to } => {
                let Some(s) = self.session(session).cloned() else {
                    return;
                };
                let to: Option<AgentId> = to.map(|t| self.agent(t).agent.id.clone());
                let _ = self
                    .chat
                    .assign(self.agent(agent), &s.id, to.as_ref())
                    .await;
            }
            Command::Close { agent, session } => {
                let Some(s) = self.session(session).cloned() else {
                    return;
                };
                let _ = self.chat.close(self.agent(agent), &s.id, false).await;
            }
            Command::Reopen { agent, session } => {
                let Some(s) = self.session(session).cloned() else {
                    return;
                };
                let _ = self.chat.reopen(self.agent(agent), &s.id).await;
            }
            Command::Typing {
                agent,
                session,
                is_typing,
            } => {
                let Some(s) = self.session(session).cloned() else {
                    return;
                };
                let _ = self
                    .chat
                    .agent_typing(self.agent(agent), &s.id, is_typing)
                    .await;
            }
            Command::CustomerTyping { session, is_typing } => {
                let Some(s) = self.session(session).cloned() else {
                    return;
                };
                self.chat.customer_typing(&s, is_typing).await;
            }
        }
    }

    async fn check(&self) {
        for s in &self.sessions {
            let stored = MessageRepository::list(&*self.store, &s.tenant_id, &s.id, 0, 10_000)
                .await
                .expect("messages");
            let seqs: Vec<i64> = stored.iter().map(|m| m.seq).collect();
            let gapless: Vec<i64> = (1..=i64::try_from(seqs.len()).expect("a count")).collect();
            assert_eq!(seqs, gapless, "seq has a gap in {}", s.id);
        }
        for (target, event) in self.hub.events() {
            let tenant: &TenantId = match &target {
                Target::Tenant(t) | Target::Agent(t, _) | Target::Session(t, _) => t,
            };
            let about = match &event {
                ChatEvent::MessageNew(m) => {
                    let stored = MessageRepository::list(
                        &*self.store,
                        &m.tenant_id,
                        &m.session_id,
                        m.seq - 1,
                        1,
                    )
                    .await
                    .expect("messages");
                    assert!(
                        stored.first().is_some_and(|s| s.id == m.id),
                        "published before it was stored: {m:?}"
                    );
                    Some(&m.tenant_id)
                }
                ChatEvent::SessionStarted(s)
                | ChatEvent::SessionClosed(s)
                | ChatEvent::SessionReopened(s)
                | ChatEvent::SessionAssigned { session: s, .. } => Some(&s.tenant_id),
                _ => None,
            };
            if let Some(about) = about {
                assert_eq!(tenant, about, "an event crossed tenants: {event:?}");
            }
            match &target {
                Target::Session(t, sid) => assert!(
                    self.sessions
                        .iter()
                        .any(|s| &s.id == sid && &s.tenant_id == t),
                    "a customer of another tenant got {event:?}"
                ),
                Target::Agent(t, aid) => assert!(
                    self.agents
                        .iter()
                        .any(|a| &a.agent.id == aid && a.tenant_id() == t),
                    "an agent of another tenant got {event:?}"
                ),
                Target::Tenant(_) => {}
            }
        }
    }
}

fuzz_target!(|commands: Vec<Command>| {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let mut w = world().await;
        for cmd in commands.into_iter().take(64) {
            w.run(cmd).await;
            w.check().await;
        }
    });
});
