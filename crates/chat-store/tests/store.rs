//! The SeaORM store against a real database: SQLite by default, MariaDB or
//! PostgreSQL when `CHAT_TEST_DATABASE` says so.

use std::sync::Arc;

use chat_domain::repo::{
    AgentRepository, MessageRepository, SessionRepository, TenantRepository, TokenKind,
    TokenRepository,
};
use chat_domain::{
    AppendOutcome, AssigneeFilter, ClientMsgId, Email, MessageBody, NewAgent, NewCustomer,
    NewMessage, NewSession, NewTenant, PageContext, RepoError, Role, SenderType, SessionFilter,
    SessionKeyHash, SessionStatus, Tenant, TenantSlug,
};
use chat_store::testing::{Backend, TestDatabase};
use chat_store::{SeaOrmStore, StoreSettings};

struct Fixture {
    store: Arc<SeaOrmStore>,
    _db: TestDatabase,
}

async fn fixture() -> Fixture {
    let db = TestDatabase::create(Backend::from_env()).await;
    let store = SeaOrmStore::connect(&StoreSettings::new(db.url.clone()))
        .await
        .unwrap_or_else(|e| panic!("connect: {e}"));
    store
        .migrate()
        .await
        .unwrap_or_else(|e| panic!("migrate: {e}"));
    Fixture {
        store: Arc::new(store),
        _db: db,
    }
}

async fn tenant(store: &SeaOrmStore, slug: &str) -> Tenant {
    TenantRepository::create(
        store,
        NewTenant {
            slug: TenantSlug::parse(slug).unwrap_or_else(|e| panic!("{e}")),
            name: slug.into(),
            allowed_origins: vec![],
        },
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"))
}

fn new_agent() -> NewAgent {
    NewAgent {
        name: "A".into(),
        email: Email::parse("a@acme.test").unwrap_or_else(|e| panic!("{e}")),
        role: Role::Agent,
        password_hash: "x".into(),
    }
}

fn new_session(key: &str, name: &str) -> NewSession {
    NewSession {
        customer: NewCustomer {
            name: Some(name.into()),
            email: None,
            attributes: serde_json::json!({"plan": "pro"}),
        },
        context: PageContext::default(),
        key_hash: SessionKeyHash(key.into()),
    }
}

fn text(body: &str, client_msg_id: Option<&str>) -> NewMessage {
    NewMessage {
        sender_type: SenderType::Customer,
        sender_id: None,
        sender_name: "Ada".into(),
        body: MessageBody::parse(body).unwrap_or_else(|e| panic!("{e}")),
        client_msg_id: client_msg_id
            .map(|c| ClientMsgId::parse(c).unwrap_or_else(|e| panic!("{e}"))),
    }
}

#[tokio::test]
async fn fifty_concurrent_appends_get_seq_one_to_fifty_without_gaps() {
    let f = fixture().await;
    let t = tenant(&f.store, "acme").await;
    let s = SessionRepository::create(&*f.store, &t.id, new_session("k1", "Ada"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let mut tasks = Vec::new();
    for i in 0..50 {
        let (store, tid, sid) = (f.store.clone(), t.id.clone(), s.id.clone());
        tasks.push(tokio::spawn(async move {
            store
                .append(&tid, &sid, text(&format!("m{i}"), Some(&format!("c{i}"))))
                .await
        }));
    }
    for t in tasks {
        let outcome = t
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(outcome, AppendOutcome::Created(_)));
    }
    let stored = MessageRepository::list(&*f.store, &t.id, &s.id, 0, 200)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        stored.iter().map(|m| m.seq).collect::<Vec<_>>(),
        (1..=50).collect::<Vec<_>>()
    );
    let session = SessionRepository::find(&*f.store, &t.id, &s.id)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(session.map(|s| s.last_seq), Some(50));
}

#[tokio::test]
async fn a_retry_with_the_same_client_id_returns_the_stored_message() {
    let f = fixture().await;
    let t = tenant(&f.store, "acme").await;
    let s = SessionRepository::create(&*f.store, &t.id, new_session("k1", "Ada"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let first = f
        .store
        .append(&t.id, &s.id, text("hi", Some("c1")))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let again = f
        .store
        .append(&t.id, &s.id, text("hi", Some("c1")))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(matches!(again, AppendOutcome::Existing(_)));
    assert_eq!(first.message().id, again.message().id);
    let next = f
        .store
        .append(&t.id, &s.id, text("next", None))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(next.message().seq, 2, "a retry must not consume a seq");
}

#[tokio::test]
async fn appending_to_a_closed_session_is_a_conflict_and_to_another_tenants_is_not_found() {
    let f = fixture().await;
    let t = tenant(&f.store, "acme").await;
    let other = tenant(&f.store, "globex").await;
    let s = SessionRepository::create(&*f.store, &t.id, new_session("k1", "Ada"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let foreign = f.store.append(&other.id, &s.id, text("x", None)).await;
    assert!(matches!(foreign, Err(RepoError::NotFound)));
    f.store
        .update_state(
            &t.id,
            &s.id,
            SessionStatus::Pending,
            SessionStatus::Closed,
            None,
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let closed = f.store.append(&t.id, &s.id, text("x", None)).await;
    assert!(matches!(closed, Err(RepoError::Conflict(c)) if c == "session_closed"));
}

#[tokio::test]
async fn a_stale_state_update_is_refused() {
    let f = fixture().await;
    let t = tenant(&f.store, "acme").await;
    let s = SessionRepository::create(&*f.store, &t.id, new_session("k1", "Ada"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let res = f
        .store
        .update_state(
            &t.id,
            &s.id,
            SessionStatus::Open,
            SessionStatus::Closed,
            None,
        )
        .await;
    assert!(matches!(res, Err(RepoError::Conflict(c)) if c == "stale_state"));
}

#[tokio::test]
async fn search_treats_wildcards_literally_and_matches_case_insensitively() {
    let f = fixture().await;
    let t = tenant(&f.store, "acme").await;
    let a = SessionRepository::create(&*f.store, &t.id, new_session("k1", "Ada Lovelace"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let b = SessionRepository::create(&*f.store, &t.id, new_session("k2", "Bob"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    f.store
        .append(&t.id, &b.id, text("Refund 100% please", None))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let search = |q: &str| SessionFilter {
        status: None,
        assignee: AssigneeFilter::Any,
        agent_id: None,
        query: Some(q.into()),
        customer_id: None,
        limit: 50,
    };
    let ids = |v: Vec<chat_domain::ChatSession>| v.into_iter().map(|s| s.id).collect::<Vec<_>>();
    let by_name = SessionRepository::list(&*f.store, &t.id, &search("LOVELACE"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(ids(by_name), vec![a.id.clone()]);
    let by_text = SessionRepository::list(&*f.store, &t.id, &search("100%"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(ids(by_text), vec![b.id.clone()]);
    let wildcard = SessionRepository::list(&*f.store, &t.id, &search("%"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(ids(wildcard), vec![b.id.clone()]);
    let underscore = SessionRepository::list(&*f.store, &t.id, &search("B_b"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(underscore.is_empty());
}

#[tokio::test]
async fn a_duplicate_slug_or_email_is_a_conflict() {
    let f = fixture().await;
    let t = tenant(&f.store, "acme").await;
    let again = TenantRepository::create(
        &*f.store,
        NewTenant {
            slug: TenantSlug::parse("acme").unwrap_or_else(|e| panic!("{e}")),
            name: "x".into(),
            allowed_origins: vec![],
        },
    )
    .await;
    assert!(matches!(again, Err(RepoError::Conflict(c)) if c == "tenant"));
    AgentRepository::create(&*f.store, &t.id, new_agent())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let dup = AgentRepository::create(&*f.store, &t.id, new_agent()).await;
    assert!(matches!(dup, Err(RepoError::Conflict(c)) if c == "agent"));
}

#[tokio::test]
async fn a_ticket_is_consumed_once_and_revoking_the_parent_removes_it() {
    let f = fixture().await;
    let t = tenant(&f.store, "acme").await;
    let agent = AgentRepository::create(&*f.store, &t.id, new_agent())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let later = chrono::Utc::now() + chrono::Duration::minutes(5);
    let now = chrono::Utc::now();
    f.store
        .insert(TokenKind::Access, "p", &agent, later, None)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    f.store
        .insert(TokenKind::WsTicket, "t1", &agent, later, Some("p"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    f.store
        .insert(TokenKind::WsTicket, "t2", &agent, later, Some("p"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let first = f
        .store
        .consume(TokenKind::WsTicket, "t1", now)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(first.and_then(|r| r.parent_hash), Some("p".to_owned()));
    assert!(
        f.store
            .consume(TokenKind::WsTicket, "t1", now)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .is_none()
    );
    assert!(f.store.revoke("p").await.unwrap_or_else(|e| panic!("{e}")));
    assert!(
        f.store
            .consume(TokenKind::WsTicket, "t2", now)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .is_none()
    );
    assert!(
        TokenRepository::find(&*f.store, TokenKind::Access, "p", now)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .is_none()
    );
}

#[tokio::test]
async fn an_expired_token_is_not_found() {
    let f = fixture().await;
    let t = tenant(&f.store, "acme").await;
    let agent = AgentRepository::create(&*f.store, &t.id, new_agent())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let soon = chrono::Utc::now() + chrono::Duration::seconds(1);
    f.store
        .insert(TokenKind::Access, "p", &agent, soon, None)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let after = soon + chrono::Duration::seconds(1);
    assert!(
        TokenRepository::find(&*f.store, TokenKind::Access, "p", after)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .is_none()
    );
}
