//! The chat logic against the in-memory fakes: no database, no network.

#![allow(
    clippy::expect_used,
    reason = "helpers outside #[test] functions fail loudly, naming the call"
)]

use std::sync::Arc;

use chat_domain::repo::TenantRepository;
use chat_domain::{NewTenant, Role, SessionStatus, TenantSlug};
use chat_service::auth::NewAgentInput;
use chat_service::{
    AgentCtx, AuthService, AuthSettings, ChatService, Error, Repositories, StartSession,
};
use chat_testkit::{InMemoryStore, RecordingHub, Target};

struct World {
    chat: ChatService,
    auth: AuthService,
    hub: Arc<RecordingHub>,
    store: Arc<InMemoryStore>,
}

async fn world() -> World {
    let store = Arc::new(InMemoryStore::new());
    let hub = Arc::new(RecordingHub::new());
    let repos = Repositories::from_store(store.clone());
    let settings = AuthSettings {
        max_failures_per_client: 3,
        ..AuthSettings::default()
    };
    World {
        chat: ChatService::new(repos.clone(), hub.clone()),
        auth: AuthService::new(repos, settings)
            .await
            .expect("AuthService::new"),
        hub,
        store,
    }
}

impl World {
    async fn tenant_with_agent(&self, slug: &str, email: &str, role: Role) -> AgentCtx {
        let tenant = match self
            .store
            .find_by_slug(&TenantSlug::parse(slug).expect("TenantSlug::parse"))
            .await
            .expect("find_by_slug")
        {
            Some(t) => t,
            None => TenantRepository::create(
                &*self.store,
                NewTenant {
                    slug: TenantSlug::parse(slug).expect("TenantSlug::parse"),
                    name: slug.into(),
                    allowed_origins: vec![],
                },
            )
            .await
            .expect("TenantRepository::create"),
        };
        let input = NewAgentInput {
            name: email,
            email,
            password: "correct horse",
            role,
        };
        self.auth
            .create_agent(None, &tenant.id, input)
            .await
            .expect("create_agent");
        let login = self
            .auth
            .login(email, "correct horse", "127.0.0.1")
            .await
            .expect("login");
        self.auth
            .authenticate(&login.token)
            .await
            .expect("authenticate")
    }

    async fn start(&self, slug: &str) -> (String, chat_domain::ChatSession) {
        let started = self
            .chat
            .start_session(StartSession {
                tenant: slug.into(),
                customer_name: Some("Ada".into()),
                ..StartSession::default()
            })
            .await
            .expect("start_session");
        (started.session_key, started.session)
    }
}

#[tokio::test]
async fn starting_a_session_announces_it_to_the_tenant_only() {
    let w = world().await;
    let agent = w
        .tenant_with_agent("acme", "a@acme.test", Role::Agent)
        .await;
    let (key, session) = w.start("acme").await;
    assert_eq!(key.len(), 64);
    assert_eq!(session.status, SessionStatus::Pending);
    assert_eq!(
        w.hub.sent(),
        vec![(
            Target::Tenant(agent.tenant_id().clone()),
            "chat.session.started"
        )]
    );
}

#[tokio::test]
async fn an_unknown_tenant_is_not_found() {
    let w = world().await;
    let err = w
        .chat
        .start_session(StartSession {
            tenant: "nobody".into(),
            ..StartSession::default()
        })
        .await;
    assert!(matches!(err, Err(Error::NotFound("tenant"))));
}

#[tokio::test]
async fn a_customer_message_is_stored_then_sent_to_the_session_and_the_agents() {
    let w = world().await;
    w.tenant_with_agent("acme", "a@acme.test", Role::Agent)
        .await;
    let (key, _) = w.start("acme").await;
    w.hub.clear();
    let session = w
        .chat
        .customer_session(&chat_domain::SessionKey::parse(&key).expect("a well-formed key"))
        .await
        .expect("customer_session");
    let (msg, created) = w
        .chat
        .send_as_customer(&session, "  hello  ", Some("c1"))
        .await
        .expect("send_as_customer");
    assert!(created);
    assert_eq!((msg.seq, msg.body.as_str()), (1, "hello"));
    let types: Vec<_> = w.hub.sent().into_iter().map(|(_, t)| t).collect();
    assert_eq!(types, vec!["chat.message.new", "chat.message.new"]);
}

#[tokio::test]
async fn a_retried_send_returns_the_stored_message_and_publishes_nothing() {
    let w = world().await;
    w.tenant_with_agent("acme", "a@acme.test", Role::Agent)
        .await;
    let (_, session) = w.start("acme").await;
    let (first, _) = w
        .chat
        .send_as_customer(&session, "hi", Some("c1"))
        .await
        .expect("send_as_customer");
    w.hub.clear();
    let (again, created) = w
        .chat
        .send_as_customer(&session, "hi", Some("c1"))
        .await
        .expect("send_as_customer");
    assert!(!created);
    assert_eq!(first.id, again.id);
    assert!(w.hub.sent().is_empty());
}

#[tokio::test]
async fn assigning_opens_the_session_and_tells_the_agent_and_customer() {
    let w = world().await;
    let agent = w
        .tenant_with_agent("acme", "a@acme.test", Role::Agent)
        .await;
    let (_, session) = w.start("acme").await;
    w.hub.clear();
    let updated = w
        .chat
        .assign(&agent, &session.id, None)
        .await
        .expect("assign");
    assert_eq!(updated.status, SessionStatus::Open);
    let tenant = agent.tenant_id().clone();
    assert_eq!(
        w.hub.sent(),
        vec![
            (Target::Tenant(tenant.clone()), "chat.session.assigned"),
            (
                Target::Session(tenant.clone(), session.id.clone()),
                "chat.session.assigned"
            ),
            (
                Target::Agent(tenant.clone(), agent.agent.id.clone()),
                "chat.agent.joined"
            ),
            (
                Target::Session(tenant, session.id.clone()),
                "chat.agent.joined"
            ),
        ]
    );
}

#[tokio::test]
async fn a_transfer_to_an_agent_of_another_tenant_is_not_found() {
    let w = world().await;
    let a = w
        .tenant_with_agent("acme", "a@acme.test", Role::Agent)
        .await;
    let other = w
        .tenant_with_agent("globex", "b@globex.test", Role::Agent)
        .await;
    let (_, session) = w.start("acme").await;
    let res = w.chat.assign(&a, &session.id, Some(&other.agent.id)).await;
    assert!(matches!(res, Err(Error::NotFound("agent"))));
}

#[tokio::test]
async fn another_tenants_session_looks_missing() {
    let w = world().await;
    w.tenant_with_agent("acme", "a@acme.test", Role::Agent)
        .await;
    let other = w
        .tenant_with_agent("globex", "b@globex.test", Role::Agent)
        .await;
    let (_, session) = w.start("acme").await;
    let res = w.chat.agent_session(&other, &session.id).await;
    assert!(matches!(res, Err(Error::NotFound("session"))));
}

#[tokio::test]
async fn a_closed_session_refuses_messages_until_reopened() {
    let w = world().await;
    let agent = w
        .tenant_with_agent("acme", "a@acme.test", Role::Agent)
        .await;
    let (_, session) = w.start("acme").await;
    w.chat
        .close(&agent, &session.id, false)
        .await
        .expect("close");
    let refused = w.chat.send_as_agent(&agent, &session.id, "hi", None).await;
    assert!(matches!(
        refused,
        Err(Error::Conflict {
            code: "session_closed",
            ..
        })
    ));
    let reopened = w.chat.reopen(&agent, &session.id).await.expect("reopen");
    assert_eq!(reopened.status, SessionStatus::Pending);
    assert!(
        w.chat
            .send_as_agent(&agent, &session.id, "hi", None)
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_email_fail_alike() {
    let w = world().await;
    w.tenant_with_agent("acme", "a@acme.test", Role::Agent)
        .await;
    let wrong_pw = w
        .auth
        .login("a@acme.test", "nope nope", "1.1.1.1")
        .await
        .err()
        .map(|e| e.to_string());
    let wrong_mail = w
        .auth
        .login("x@acme.test", "correct horse", "1.1.1.1")
        .await
        .err()
        .map(|e| e.to_string());
    assert_eq!(wrong_pw, Some("invalid email or password".into()));
    assert_eq!(wrong_pw, wrong_mail);
}

#[tokio::test]
async fn repeated_failures_are_rate_limited_per_account_and_address() {
    let w = world().await;
    w.tenant_with_agent("acme", "a@acme.test", Role::Agent)
        .await;
    for _ in 0..3 {
        assert!(matches!(
            w.auth.login("a@acme.test", "bad password", "9.9.9.9").await,
            Err(Error::Unauthorized(_))
        ));
    }
    let limited = w
        .auth
        .login("a@acme.test", "correct horse", "9.9.9.9")
        .await;
    assert!(matches!(limited, Err(Error::RateLimited { .. })));
    assert!(
        w.auth
            .login("a@acme.test", "correct horse", "8.8.8.8")
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn logout_revokes_the_token_and_its_tickets() {
    let w = world().await;
    let ctx = w
        .tenant_with_agent("acme", "a@acme.test", Role::Agent)
        .await;
    let (ticket, _) = w.auth.issue_ws_ticket(&ctx).await.expect("issue_ws_ticket");
    w.auth.logout(&ctx).await.expect("logout");
    assert!(matches!(
        w.auth.redeem_ws_ticket(&ticket).await,
        Err(Error::Unauthorized(_))
    ));
}

/// Sockets check their login at each heartbeat; the answer is shared for
/// a while, but a revocation through the service forgets it at once.
#[tokio::test]
async fn a_valid_login_is_remembered_for_a_while_and_forgotten_on_logout() {
    let w = world().await;
    let ctx = w
        .tenant_with_agent("acme", "a@acme.test", Role::Agent)
        .await;
    let minute = std::time::Duration::from_secs(60);
    assert!(matches!(
        w.auth.credential_valid(&ctx.credential, minute).await,
        Ok(true)
    ));
    // Revoked where this service does not see it (the command line).
    let revoked = chat_domain::repo::TokenRepository::revoke(&*w.store, &ctx.credential).await;
    assert!(revoked.is_ok());
    assert!(
        matches!(
            w.auth.credential_valid(&ctx.credential, minute).await,
            Ok(true)
        ),
        "the answer of a moment ago stands"
    );
    assert!(
        matches!(
            w.auth
                .credential_valid(&ctx.credential, std::time::Duration::ZERO)
                .await,
            Ok(false)
        ),
        "an answer older than asked for is read again"
    );

    let other = w
        .tenant_with_agent("acme", "b@acme.test", Role::Agent)
        .await;
    assert!(matches!(
        w.auth.credential_valid(&other.credential, minute).await,
        Ok(true)
    ));
    assert!(w.auth.logout(&other).await.is_ok());
    assert!(
        matches!(
            w.auth.credential_valid(&other.credential, minute).await,
            Ok(false)
        ),
        "a logout through the service is seen at once"
    );
}

#[tokio::test]
async fn a_ticket_works_once() {
    let w = world().await;
    let ctx = w
        .tenant_with_agent("acme", "a@acme.test", Role::Agent)
        .await;
    let (ticket, _) = w.auth.issue_ws_ticket(&ctx).await.expect("issue_ws_ticket");
    let first = w
        .auth
        .redeem_ws_ticket(&ticket)
        .await
        .expect("redeem_ws_ticket");
    assert_eq!(first.credential, ctx.credential);
    assert!(w.auth.redeem_ws_ticket(&ticket).await.is_err());
}

#[tokio::test]
async fn only_admins_create_agents() {
    let w = world().await;
    let agent = w
        .tenant_with_agent("acme", "a@acme.test", Role::Agent)
        .await;
    let input = NewAgentInput {
        name: "New",
        email: "n@acme.test",
        password: "long enough",
        role: Role::Agent,
    };
    let res = w
        .auth
        .create_agent(Some(&agent), agent.tenant_id(), input)
        .await;
    assert!(matches!(res, Err(Error::Forbidden(_))));
}

#[tokio::test]
async fn search_matches_message_text_literally() {
    let w = world().await;
    let agent = w
        .tenant_with_agent("acme", "a@acme.test", Role::Agent)
        .await;
    let (_, s1) = w.start("acme").await;
    let (_, _s2) = w.start("acme").await;
    w.chat
        .send_as_customer(&s1, "my order 100% broke", None)
        .await
        .expect("send_as_customer");
    let hits = w
        .chat
        .list_sessions(&agent, None, None, Some("100%"), None)
        .await
        .expect("list_sessions");
    assert_eq!(
        hits.iter().map(|s| s.id.clone()).collect::<Vec<_>>(),
        vec![s1.id.clone()]
    );
    let none = w
        .chat
        .list_sessions(&agent, None, None, Some("1_0%"), None)
        .await
        .expect("list_sessions");
    assert!(none.is_empty());
}

#[tokio::test]
async fn a_visitor_token_is_remembered_only_within_the_memory() {
    let w = world().await;
    w.tenant_with_agent("acme", "a@acme.test", Role::Agent)
        .await;
    let start = |chat: ChatService, token: Option<String>| async move {
        chat.start_session(StartSession {
            tenant: "acme".into(),
            visitor_token: token,
            ..StartSession::default()
        })
        .await
        .expect("start_session")
    };
    let first = start(w.chat.clone(), None).await;
    let again = start(w.chat.clone(), Some(first.visitor_token.clone())).await;
    assert_eq!(again.visitor_token, first.visitor_token);
    assert_eq!(again.session.customer.id, first.session.customer.id);
    let listed = w
        .chat
        .visitor_sessions("acme", &first.visitor_token)
        .await
        .expect("visitor_sessions");
    assert_eq!(listed.len(), 2);

    // With no memory at all, the same browser is a new visitor.
    let forgetful = w
        .chat
        .clone()
        .with_visitor_memory(std::time::Duration::ZERO);
    let later = start(forgetful.clone(), Some(first.visitor_token.clone())).await;
    assert_ne!(later.visitor_token, first.visitor_token);
    assert_ne!(later.session.customer.id, first.session.customer.id);
    assert!(matches!(
        forgetful
            .visitor_sessions("acme", &first.visitor_token)
            .await,
        Err(Error::NotFound(_))
    ));
}
