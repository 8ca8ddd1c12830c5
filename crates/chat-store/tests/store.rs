//! The SeaORM store against a real database: SQLite by default, MariaDB or
//! PostgreSQL when `CHAT_TEST_DATABASE` says so.

#![allow(
    clippy::expect_used,
    reason = "helpers outside #[test] functions fail loudly, naming the call"
)]

use std::sync::Arc;

use chat_domain::repo::{
    AgentRepository, MessageRepository, SessionRepository, TenantRepository, TokenKind,
    TokenRepository,
};
use chat_domain::{
    AppendOutcome, AssigneeFilter, ClientMsgId, Email, MessageBody, NewAgent, NewCustomer,
    NewMessage, NewSession, NewTenant, PageContext, ReceiptSide, ReceiptUpdate, RepoError, Role,
    SenderType, SessionFilter, SessionKeyHash, SessionStatus, Tenant, TenantSlug, VisitorLink,
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
        .expect("SeaOrmStore::connect");
    store.migrate().await.expect("migrate");
    Fixture {
        store: Arc::new(store),
        _db: db,
    }
}

async fn tenant(store: &SeaOrmStore, slug: &str) -> Tenant {
    TenantRepository::create(
        store,
        NewTenant {
            slug: TenantSlug::parse(slug).expect("TenantSlug::parse"),
            name: slug.into(),
            allowed_origins: vec![],
        },
    )
    .await
    .expect("TenantRepository::create")
}

/// A fresh store with the tenant "acme" and one conversation in it.
async fn one_conversation() -> (Fixture, Tenant, chat_domain::ChatSession) {
    let f = fixture().await;
    let t = tenant(&f.store, "acme").await;
    let s = SessionRepository::create(&*f.store, &t.id, new_session("k1", "Ada"))
        .await
        .expect("SessionRepository::create");
    let s = (*s).clone();
    (f, t, s)
}

/// Appends a customer's text to the conversation, which must succeed.
async fn say(
    f: &Fixture,
    t: &Tenant,
    s: &chat_domain::ChatSession,
    body: &str,
    client_msg_id: Option<&str>,
) -> AppendOutcome {
    f.store
        .append(&t.id, &s.id, text(body, client_msg_id))
        .await
        .expect("MessageRepository::append")
}

fn new_agent() -> NewAgent {
    NewAgent {
        name: "A".into(),
        email: Email::parse("a@acme.test").expect("Email::parse"),
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
        visitor: VisitorLink::New(SessionKeyHash(format!("visitor-{key}"))),
        queued: true,
        offline: false,
    }
}

fn text(body: &str, client_msg_id: Option<&str>) -> NewMessage {
    NewMessage {
        sender_type: SenderType::Customer,
        sender_id: None,
        sender_name: "Ada".into(),
        body: MessageBody::parse(body).expect("MessageBody::parse"),
        client_msg_id: client_msg_id.map(|c| ClientMsgId::parse(c).expect("ClientMsgId::parse")),
        attachment_ids: Vec::new(),
    }
}

#[tokio::test]
async fn fifty_concurrent_appends_get_seq_one_to_fifty_without_gaps() {
    let (f, t, s) = one_conversation().await;
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
            .expect("the call succeeds")
            .expect("the message is stored");
        assert!(matches!(outcome, AppendOutcome::Created(_)));
    }
    let stored = MessageRepository::list(&*f.store, &t.id, &s.id, 0, 200)
        .await
        .expect("MessageRepository::list");
    assert_eq!(
        stored.iter().map(|m| m.seq).collect::<Vec<_>>(),
        (1..=50).collect::<Vec<_>>()
    );
    let session = SessionRepository::find(&*f.store, &t.id, &s.id)
        .await
        .expect("SessionRepository::find");
    assert_eq!(session.map(|s| s.last_seq), Some(50));
}

/// Sends that arrive together are stored together on SQLite (one
/// transaction, each message in its own savepoint): a retry or a closed
/// session among them fails alone, and every session stays gapless.
#[tokio::test]
async fn concurrent_sends_with_retries_and_a_closed_session_each_get_their_own_answer() {
    let f = fixture().await;
    let t = tenant(&f.store, "acme").await;
    let mut open = Vec::new();
    for k in 0..4 {
        let s = SessionRepository::create(&*f.store, &t.id, new_session(&format!("k{k}"), "Ada"))
            .await
            .expect("SessionRepository::create");
        open.push(s.id.clone());
    }
    let closed = SessionRepository::create(&*f.store, &t.id, new_session("gone", "Bo"))
        .await
        .expect("SessionRepository::create");
    f.store
        .update_state(
            &t.id,
            &closed.id,
            SessionStatus::Pending,
            SessionStatus::Closed,
            None,
            chat_domain::SessionChange::Closed,
        )
        .await
        .expect("update_state");
    let before = f.store.group_commits();
    // Every client id twice, interleaved across the sessions, and the
    // closed session's sends among them.
    let mut sends = Vec::new();
    for i in 0..30 {
        for copy in 0..2 {
            for sid in &open {
                sends.push((sid.clone(), format!("c{i}"), copy));
            }
        }
        sends.push((closed.id.clone(), format!("x{i}"), 0));
    }
    let tasks: Vec<_> = sends
        .into_iter()
        .map(|(sid, cid, copy)| {
            let (store, tid) = (f.store.clone(), t.id.clone());
            tokio::spawn(async move {
                let r = store
                    .append(&tid, &sid, text(&format!("m {cid}"), Some(&cid)))
                    .await;
                (sid, cid, copy, r)
            })
        })
        .collect();
    let mut created = std::collections::HashMap::new();
    let mut existing = std::collections::HashMap::new();
    for task in tasks {
        let (sid, cid, _, r) = task.await.expect("the call succeeds");
        if sid == closed.id {
            assert!(
                matches!(r, Err(RepoError::Conflict(ref c)) if c == "session_closed"),
                "a send to the closed session: {r:?}"
            );
            continue;
        }
        match r.expect("stored, or found stored") {
            AppendOutcome::Created(m) => {
                assert!(created.insert((sid, cid), m.id).is_none(), "stored twice");
            }
            AppendOutcome::Existing(m) => {
                assert!(existing.insert((sid, cid), m.id).is_none(), "found twice");
            }
        }
    }
    assert_eq!(created.len(), 120, "each client id stored once");
    assert_eq!(
        created, existing,
        "each retry answered with the stored message"
    );
    for sid in &open {
        let stored = MessageRepository::list(&*f.store, &t.id, sid, 0, 200)
            .await
            .expect("MessageRepository::list");
        assert_eq!(
            stored.iter().map(|m| m.seq).collect::<Vec<_>>(),
            (1..=30).collect::<Vec<_>>()
        );
    }
    let none = MessageRepository::list(&*f.store, &t.id, &closed.id, 0, 200)
        .await
        .expect("MessageRepository::list");
    assert!(none.is_empty());
    if let (Some((c0, m0)), Some((c1, m1))) = (before, f.store.group_commits()) {
        assert_eq!(m1 - m0, 120, "the writer stored every message");
        assert!(
            c1 - c0 < m1 - m0,
            "messages that queued up shared a transaction ({} commits)",
            c1 - c0
        );
    }
}

/// A node whose message writer stopped (a bug) keeps storing its
/// customers' messages, through the pool.
#[tokio::test]
async fn sends_after_the_message_writer_stopped_are_stored_through_the_pool() {
    let (f, t, s) = one_conversation().await;
    let first = say(&f, &t, &s, "one", Some("c1")).await;
    f.store.stop_message_writer().await;
    let before = f.store.group_commits();
    let second = say(&f, &t, &s, "two", Some("c2")).await;
    let retry = say(&f, &t, &s, "one", Some("c1")).await;
    assert_eq!(
        (first.message().seq, second.message().seq),
        (1, 2),
        "gapless across the change of path"
    );
    assert!(matches!(retry, AppendOutcome::Existing(m) if m.id == first.message().id));
    assert_eq!(
        f.store.group_commits(),
        before,
        "the stopped writer stored nothing"
    );
}

/// On SQLite a customer's session is read by its key on a thread of its
/// own (`reader.rs`), its columns by position: it must read what the pool
/// reads, field by field, for a session whose fields all hold values.
#[tokio::test]
async fn a_session_read_by_its_key_is_the_session_read_by_its_id() {
    let f = fixture().await;
    let t = tenant(&f.store, "acme").await;
    let mut new = new_session("k-full", "Ada");
    new.customer.email = Some(Email::parse("ada@acme.test").expect("Email::parse"));
    new.context = PageContext {
        page_url: Some("https://acme.test/pricing".into()),
        referrer: Some("https://search.test/?q=acme".into()),
        user_agent: Some("Mozilla/5.0 (X11; Linux x86_64)".into()),
        locale: Some("de-DE".into()),
    };
    new.offline = true;
    let s = (*SessionRepository::create(&*f.store, &t.id, new)
        .await
        .expect("SessionRepository::create"))
    .clone();
    for body in ["one", "two", "three"] {
        say(&f, &t, &s, body, None).await;
    }
    for (side, delivered, read) in [(ReceiptSide::Customer, 3, 2), (ReceiptSide::Agent, 2, 1)] {
        f.store
            .advance_receipt(&t.id, &s.id, side, ReceiptUpdate { delivered, read })
            .await
            .expect("advance_receipt");
    }
    let agent = AgentRepository::create(&*f.store, &t.id, new_agent())
        .await
        .expect("AgentRepository::create");
    let assigned = chat_domain::AgentRef {
        id: agent.id.clone(),
        name: "Agent Bea".into(),
    };
    for (from, to, with, change) in [
        (
            SessionStatus::Pending,
            SessionStatus::Open,
            Some(assigned.clone()),
            chat_domain::SessionChange::Assigned { previous: None },
        ),
        (
            SessionStatus::Open,
            SessionStatus::Closed,
            Some(assigned),
            chat_domain::SessionChange::Closed,
        ),
    ] {
        f.store
            .update_state(&t.id, &s.id, from, to, with, change)
            .await
            .expect("update_state");
    }
    f.store
        .rate(&t.id, &s.id, 4, Some("quick".into()))
        .await
        .expect("rate");

    let by_key = f
        .store
        .find_by_key_hash(&SessionKeyHash("k-full".into()))
        .await
        .expect("find_by_key_hash")
        .expect("the session by its key");
    let by_id = SessionRepository::find(&*f.store, &t.id, &s.id)
        .await
        .expect("find")
        .expect("the session by its id");
    assert_eq!(by_key, by_id);
    assert_eq!(by_key.receipts.customer_read_seq, 2);
    assert_eq!(
        by_key.assigned_agent.as_ref().map(|a| a.name.as_str()),
        Some("Agent Bea")
    );
    assert_eq!(by_key.rating.as_ref().map(|r| r.score), Some(4));
    assert_eq!(
        by_key.customer.email.as_ref().map(Email::as_str),
        Some("ada@acme.test")
    );
    assert!(
        f.store
            .find_by_key_hash(&SessionKeyHash("k-unknown".into()))
            .await
            .expect("find_by_key_hash")
            .is_none()
    );

    // More reads at once than the reader queues: the rest take the pool,
    // and every one finds the session.
    let mut reads = tokio::task::JoinSet::new();
    for _ in 0..600 {
        let store = f.store.clone();
        reads.spawn(async move {
            store
                .find_by_key_hash(&SessionKeyHash("k-full".into()))
                .await
        });
    }
    let mut found = 0;
    while let Some(read) = reads.join_next().await {
        let read = read.expect("a read task").expect("find_by_key_hash");
        assert_eq!(read.as_ref(), Some(&by_id));
        found += 1;
    }
    assert_eq!(found, 600);
}

/// On SQLite an access token is read with its agent on the reader's
/// thread too (`reader.rs`): it must find what the pool finds, field by
/// field, and nothing the pool would not (another kind, an inactive agent).
#[tokio::test]
async fn a_token_read_finds_its_agent_as_stored_and_nothing_else() {
    let f = fixture().await;
    let t = tenant(&f.store, "acme").await;
    let created = AgentRepository::create(&*f.store, &t.id, new_agent())
        .await
        .expect("AgentRepository::create");
    let patch = chat_domain::AgentPatch {
        max_concurrent: Some(Some(3)),
        ..Default::default()
    };
    AgentRepository::update(&*f.store, &t.id, &created.id, patch)
        .await
        .expect("AgentRepository::update");
    let agent = f
        .store
        .set_status(&t.id, &created.id, chat_domain::AgentStatus::Away)
        .await
        .expect("set_status");
    let expires = chrono::Utc::now() + chrono::Duration::minutes(5);
    let now = chrono::Utc::now();
    f.store
        .insert(TokenKind::Access, "p", &agent, expires, None)
        .await
        .expect("insert");
    f.store
        .insert(TokenKind::WsTicket, "t", &agent, expires, Some("p"))
        .await
        .expect("insert");

    let found = TokenRepository::find(&*f.store, TokenKind::Access, "p", now)
        .await
        .expect("TokenRepository::find")
        .expect("the access token");
    let stored = AgentRepository::find(&*f.store, &t.id, &agent.id)
        .await
        .expect("AgentRepository::find")
        .expect("the agent");
    assert_eq!(found.agent, stored);
    assert_eq!(found.agent.max_concurrent, Some(3));
    assert_eq!(found.agent.status, chat_domain::AgentStatus::Away);
    assert_eq!(
        found.expires_at.timestamp_micros(),
        expires.timestamp_micros()
    );
    assert_eq!(found.parent_hash, None);
    let ticket = TokenRepository::find(&*f.store, TokenKind::WsTicket, "t", now)
        .await
        .expect("TokenRepository::find")
        .expect("the ticket");
    assert_eq!(ticket.parent_hash.as_deref(), Some("p"));
    for (kind, hash) in [(TokenKind::Access, "t"), (TokenKind::WsTicket, "p")] {
        assert!(
            TokenRepository::find(&*f.store, kind, hash, now)
                .await
                .expect("TokenRepository::find")
                .is_none(),
            "a token is found as its own kind only"
        );
    }

    // More reads at once than the reader queues: every one finds it.
    let mut reads = tokio::task::JoinSet::new();
    for _ in 0..600 {
        let store = f.store.clone();
        reads.spawn(
            async move { TokenRepository::find(&*store, TokenKind::Access, "p", now).await },
        );
    }
    let mut found_all = 0;
    while let Some(read) = reads.join_next().await {
        let read = read.expect("a read task").expect("TokenRepository::find");
        assert_eq!(read.map(|r| r.agent), Some(stored.clone()));
        found_all += 1;
    }
    assert_eq!(found_all, 600);

    let patch = chat_domain::AgentPatch {
        active: Some(false),
        ..Default::default()
    };
    AgentRepository::update(&*f.store, &t.id, &agent.id, patch)
        .await
        .expect("AgentRepository::update");
    assert!(
        TokenRepository::find(&*f.store, TokenKind::Access, "p", now)
            .await
            .expect("TokenRepository::find")
            .is_none(),
        "an inactive agent's token acts as no one"
    );
}

#[tokio::test]
async fn a_retry_with_the_same_client_id_returns_the_stored_message() {
    let (f, t, s) = one_conversation().await;
    let first = say(&f, &t, &s, "hi", Some("c1")).await;
    let again = say(&f, &t, &s, "hi", Some("c1")).await;
    assert!(matches!(again, AppendOutcome::Existing(_)));
    assert_eq!(first.message().id, again.message().id);
    let next = say(&f, &t, &s, "next", None).await;
    assert_eq!(next.message().seq, 2, "a retry must not consume a seq");
}

#[tokio::test]
async fn appending_to_a_closed_session_is_a_conflict_and_to_another_tenants_is_not_found() {
    let f = fixture().await;
    let t = tenant(&f.store, "acme").await;
    let other = tenant(&f.store, "globex").await;
    let s = SessionRepository::create(&*f.store, &t.id, new_session("k1", "Ada"))
        .await
        .expect("SessionRepository::create");
    let foreign = f.store.append(&other.id, &s.id, text("x", None)).await;
    assert!(matches!(foreign, Err(RepoError::NotFound)));
    f.store
        .update_state(
            &t.id,
            &s.id,
            SessionStatus::Pending,
            SessionStatus::Closed,
            None,
            chat_domain::SessionChange::Closed,
        )
        .await
        .expect("update_state");
    let closed = f.store.append(&t.id, &s.id, text("x", None)).await;
    assert!(matches!(closed, Err(RepoError::Conflict(c)) if c == "session_closed"));
}

#[tokio::test]
async fn a_stale_state_update_is_refused() {
    let (f, t, s) = one_conversation().await;
    let res = f
        .store
        .update_state(
            &t.id,
            &s.id,
            SessionStatus::Open,
            SessionStatus::Closed,
            None,
            chat_domain::SessionChange::Closed,
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
        .expect("SessionRepository::create");
    let b = SessionRepository::create(&*f.store, &t.id, new_session("k2", "Bob"))
        .await
        .expect("SessionRepository::create");
    f.store
        .append(&t.id, &b.id, text("Refund 100% please", None))
        .await
        .expect("append");
    let search = |q: &str| SessionFilter {
        status: None,
        assignee: AssigneeFilter::Any,
        agent_id: None,
        query: Some(q.into()),
        message_query: chat_domain::SearchQuery::parse(q).ok(),
        label: None,
        customer_id: None,
        limit: 50,
    };
    let ids = |v: Vec<chat_domain::ChatSession>| v.into_iter().map(|s| s.id).collect::<Vec<_>>();
    let by_name = SessionRepository::list(&*f.store, &t.id, &search("LOVELACE"))
        .await
        .expect("SessionRepository::list");
    assert_eq!(ids(by_name), vec![a.id.clone()]);
    let by_text = SessionRepository::list(&*f.store, &t.id, &search("100%"))
        .await
        .expect("SessionRepository::list");
    assert_eq!(ids(by_text), vec![b.id.clone()]);
    let wildcard = SessionRepository::list(&*f.store, &t.id, &search("%"))
        .await
        .expect("SessionRepository::list");
    // Neither a wildcard of LIKE nor a word of the full-text index.
    assert!(wildcard.is_empty());
    let underscore = SessionRepository::list(&*f.store, &t.id, &search("B_b"))
        .await
        .expect("SessionRepository::list");
    assert!(underscore.is_empty());
}

#[tokio::test]
async fn a_duplicate_slug_or_email_is_a_conflict() {
    let f = fixture().await;
    let t = tenant(&f.store, "acme").await;
    let again = TenantRepository::create(
        &*f.store,
        NewTenant {
            slug: TenantSlug::parse("acme").expect("TenantSlug::parse"),
            name: "x".into(),
            allowed_origins: vec![],
        },
    )
    .await;
    assert!(matches!(again, Err(RepoError::Conflict(c)) if c == "tenant"));
    AgentRepository::create(&*f.store, &t.id, new_agent())
        .await
        .expect("AgentRepository::create");
    let dup = AgentRepository::create(&*f.store, &t.id, new_agent()).await;
    assert!(matches!(dup, Err(RepoError::Conflict(c)) if c == "agent"));
}

#[tokio::test]
async fn a_ticket_is_consumed_once_and_revoking_the_parent_removes_it() {
    let f = fixture().await;
    let t = tenant(&f.store, "acme").await;
    let agent = AgentRepository::create(&*f.store, &t.id, new_agent())
        .await
        .expect("AgentRepository::create");
    let later = chrono::Utc::now() + chrono::Duration::minutes(5);
    let now = chrono::Utc::now();
    f.store
        .insert(TokenKind::Access, "p", &agent, later, None)
        .await
        .expect("insert");
    f.store
        .insert(TokenKind::WsTicket, "t1", &agent, later, Some("p"))
        .await
        .expect("insert");
    f.store
        .insert(TokenKind::WsTicket, "t2", &agent, later, Some("p"))
        .await
        .expect("insert");
    let first = f
        .store
        .consume(TokenKind::WsTicket, "t1", now)
        .await
        .expect("consume");
    assert_eq!(first.and_then(|r| r.parent_hash), Some("p".to_owned()));
    assert!(
        f.store
            .consume(TokenKind::WsTicket, "t1", now)
            .await
            .expect("consume")
            .is_none()
    );
    assert!(f.store.revoke("p").await.expect("revoke"));
    assert!(
        f.store
            .consume(TokenKind::WsTicket, "t2", now)
            .await
            .expect("consume")
            .is_none()
    );
    assert!(
        TokenRepository::find(&*f.store, TokenKind::Access, "p", now)
            .await
            .expect("TokenRepository::find")
            .is_none()
    );
}

#[tokio::test]
async fn an_expired_token_is_not_found() {
    let f = fixture().await;
    let t = tenant(&f.store, "acme").await;
    let agent = AgentRepository::create(&*f.store, &t.id, new_agent())
        .await
        .expect("AgentRepository::create");
    let soon = chrono::Utc::now() + chrono::Duration::seconds(1);
    f.store
        .insert(TokenKind::Access, "p", &agent, soon, None)
        .await
        .expect("insert");
    let after = soon + chrono::Duration::seconds(1);
    assert!(
        TokenRepository::find(&*f.store, TokenKind::Access, "p", after)
            .await
            .expect("TokenRepository::find")
            .is_none()
    );
}

#[tokio::test]
async fn agents_stored_before_per_tenant_addresses_keep_their_address_and_login() {
    use migration::{Alias, Migrator, MigratorTrait, Query};
    use sea_orm::ConnectionTrait;

    let db = TestDatabase::create(Backend::from_env()).await;
    let conn = sea_orm::Database::connect(db.url.as_str())
        .await
        .expect("Database::connect");
    // The schema as it was before the address became unique per tenant.
    Migrator::up(&conn, Some(2)).await.expect("Migrator::up");
    let old_tenant = Query::insert()
        .into_table(Alias::new("tenants"))
        .columns(["id", "slug", "name", "allowed_origins", "created_at"].map(Alias::new))
        .values_panic([
            "t-old".into(),
            "acme".into(),
            "Acme".into(),
            "[]".into(),
            0i64.into(),
        ])
        .to_owned();
    conn.execute(&old_tenant).await.expect("insert tenant");
    let agent = Query::insert()
        .into_table(Alias::new("agents"))
        .columns(
            [
                "id",
                "tenant_id",
                "name",
                "email",
                "role",
                "password_hash",
                "created_at",
            ]
            .map(Alias::new),
        )
        .values_panic([
            "a-old".into(),
            "t-old".into(),
            "Old Timer".into(),
            "old@acme.test".into(),
            "agent".into(),
            "x".into(),
            0i64.into(),
        ])
        .to_owned();
    conn.execute(&agent).await.expect("insert agent");
    conn.close().await.expect("close");

    let store = SeaOrmStore::connect(&StoreSettings::new(db.url.clone()))
        .await
        .expect("SeaOrmStore::connect");
    store.migrate().await.expect("migrate");
    let email = Email::parse("old@acme.test").expect("Email::parse");
    let found = store
        .find_credentials(&email)
        .await
        .expect("find_credentials");
    let who: Vec<(&str, &str, &str)> = found
        .iter()
        .map(|(a, _)| (a.id.as_str(), a.tenant_id.as_str(), a.email.as_str()))
        .collect();
    assert_eq!(who, vec![("a-old", "t-old", "old@acme.test")]);
    // Another tenant may now use the same address.
    let other = tenant(&store, "globex").await;
    AgentRepository::create(
        &store,
        &other.id,
        NewAgent {
            email,
            ..new_agent()
        },
    )
    .await
    .expect("the same address at another tenant");
}

#[tokio::test]
async fn concurrent_assignments_never_exceed_a_cap_or_take_a_session_twice() {
    use chat_domain::AssignAttempt;
    use chat_domain::repo::AssignmentRepository;
    let f = fixture().await;
    let t = tenant(&f.store, "acme").await;
    let mut agents = Vec::new();
    for email in ["a@acme.test", "b@acme.test"] {
        let mut spec = new_agent();
        spec.email = Email::parse(email).expect("Email::parse");
        agents.push(
            AgentRepository::create(f.store.as_ref(), &t.id, spec)
                .await
                .expect("create agent")
                .as_ref(),
        );
    }
    let mut sessions = Vec::new();
    for i in 0..12 {
        let s =
            SessionRepository::create(f.store.as_ref(), &t.id, new_session(&format!("k{i}"), "c"))
                .await
                .expect("create session");
        sessions.push(s.id.clone());
    }
    // Every session offered to both agents at once, each capped at 3.
    let mut tasks = Vec::new();
    for s in &sessions {
        for a in &agents {
            let store = f.store.clone();
            let (tenant, s, a) = (t.id.clone(), s.clone(), a.clone());
            tasks.push(tokio::spawn(async move {
                store.try_assign(&tenant, &s, &a, 3).await
            }));
        }
    }
    let mut assigned = Vec::new();
    for task in tasks {
        match task.await.expect("task").expect("try_assign") {
            AssignAttempt::Assigned(s) => assigned.push((*s).into_inner()),
            AssignAttempt::SessionTaken | AssignAttempt::AgentFull => {}
        }
    }
    assert_eq!(assigned.len(), 6, "two agents, three each");
    let mut ids: Vec<_> = assigned.iter().map(|s| s.id.clone()).collect();
    ids.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    ids.dedup();
    assert_eq!(ids.len(), 6, "no session twice");
    let open = f.store.open_counts(&t.id).await.expect("open_counts");
    assert_eq!(open.values().copied().collect::<Vec<_>>(), [3, 3]);
    assert_eq!(f.store.queue(&t.id, 100).await.expect("queue").len(), 6);
}

#[tokio::test]
async fn erasing_conversations_and_customers_while_others_write_never_fails() {
    // An erase that read before its first write could not upgrade its
    // snapshot on SQLite once another write had committed (SQLITE_BUSY at
    // once, a 500 to the admin).
    let f = fixture().await;
    let t = tenant(&f.store, "acme").await;
    let busy = SessionRepository::create(&*f.store, &t.id, new_session("busy", "Ada"))
        .await
        .expect("SessionRepository::create");
    for round in 0..10 {
        let gone =
            SessionRepository::create(&*f.store, &t.id, new_session(&format!("g{round}"), "Bo"))
                .await
                .expect("SessionRepository::create");
        let other =
            SessionRepository::create(&*f.store, &t.id, new_session(&format!("o{round}"), "Cy"))
                .await
                .expect("SessionRepository::create");
        let mut writers = Vec::new();
        for i in 0..8 {
            let (store, tid, sid) = (f.store.clone(), t.id.clone(), busy.id.clone());
            writers.push(tokio::spawn(async move {
                store
                    .append(&tid, &sid, text(&format!("m{round}-{i}"), None))
                    .await
            }));
        }
        let (store, tid, sid) = (f.store.clone(), t.id.clone(), gone.id.clone());
        let erase_session = tokio::spawn(async move { store.erase_session(&tid, &sid).await });
        let (store, tid, cid) = (f.store.clone(), t.id.clone(), other.customer.id.clone());
        let erase_customer = tokio::spawn(async move { store.erase_customer(&tid, &cid).await });
        for erased in [erase_session, erase_customer] {
            let r = erased.await.expect("the call succeeds");
            assert!(
                matches!(&r, Ok(keys) if keys.is_empty()),
                "round {round}: {r:?}"
            );
        }
        for w in writers {
            w.await
                .expect("the call succeeds")
                .expect("the message is stored");
        }
        for id in [&gone.id, &other.id] {
            let found = SessionRepository::find(&*f.store, &t.id, id).await;
            assert!(matches!(found, Ok(None)), "round {round}: {found:?}");
        }
    }
    let first = SessionRepository::erase_session(&*f.store, &t.id, &busy.id).await;
    assert!(matches!(&first, Ok(k) if k.is_empty()), "{first:?}");
    let again = SessionRepository::erase_session(&*f.store, &t.id, &busy.id).await;
    assert!(matches!(again, Err(RepoError::NotFound)), "{again:?}");
}

#[tokio::test]
async fn an_articles_vectors_and_draft_flag_are_stored_and_read_back() {
    use chat_domain::repo::ArticleRepository;
    use chat_domain::{ArticleEmbedding, ArticleInput};
    let f = fixture().await;
    let t = tenant(&f.store, "acme").await;
    // 201 vectors of 256 (title and 200 sentences): the largest an article
    // gets, which must fit MySQL's BLOB.
    let dims = 256;
    let vectors: Vec<f32> = (0..201 * dims)
        .map(|i| ((i % 97) as f32 - 48.0) / 48.0)
        .collect();
    let mut input = ArticleInput::parse("Hours", "Open daily.", &["hours".into()]).expect("input");
    input.draft = true;
    input.embedding = Some(ArticleEmbedding {
        model: "m1".into(),
        dims,
        vectors: vectors.clone(),
    });
    let created = ArticleRepository::create(&*f.store, &t.id, input)
        .await
        .expect("create");
    let read = ArticleRepository::find(&*f.store, &t.id, &created.id)
        .await
        .expect("find")
        .expect("found");
    assert!(read.draft);
    let e = read.embedding.expect("vectors");
    assert_eq!(
        (e.model.as_str(), e.dims, e.vectors.len()),
        ("m1", dims, vectors.len())
    );
    // One signed byte a value: within half a 127th of each vector's largest.
    let worst = e
        .vectors
        .iter()
        .zip(&vectors)
        .map(|(a, b)| (a - b).abs())
        .fold(0f32, f32::max);
    assert!(worst <= 0.5 / 127.0 + 1e-6, "{worst}");
    // Publishing without vectors clears them.
    let mut publish = ArticleInput::parse("Hours", "Open daily.", &[]).expect("input");
    publish.draft = false;
    let updated = ArticleRepository::update(&*f.store, &t.id, &created.id, publish)
        .await
        .expect("update");
    assert!(!updated.draft);
    assert!(updated.embedding.is_none());
}

#[tokio::test]
async fn article_stamps_follow_every_change_in_the_lists_order() {
    use chat_domain::ArticleInput;
    use chat_domain::repo::ArticleRepository;
    let f = fixture().await;
    let t = tenant(&f.store, "acme").await;
    let other = tenant(&f.store, "globex").await;
    let input = |title: &str| ArticleInput::parse(title, "Body.", &[]).expect("input");
    let b = ArticleRepository::create(&*f.store, &t.id, input("B"))
        .await
        .expect("create");
    let a = ArticleRepository::create(&*f.store, &t.id, input("A"))
        .await
        .expect("create");
    ArticleRepository::create(&*f.store, &other.id, input("C"))
        .await
        .expect("create");
    let stamps = ArticleRepository::stamps(&*f.store, &t.id)
        .await
        .expect("stamps");
    let listed: Vec<(String, chat_domain::Timestamp)> = ArticleRepository::list(&*f.store, &t.id)
        .await
        .expect("list")
        .into_iter()
        .map(|x| (x.id, x.updated_at))
        .collect();
    assert_eq!(stamps, listed);
    assert_eq!(
        stamps.iter().map(|(id, _)| id.clone()).collect::<Vec<_>>(),
        vec![a.id.clone(), b.id.clone()]
    );
    let updated = ArticleRepository::update(&*f.store, &t.id, &b.id, input("B2"))
        .await
        .expect("update");
    let after = ArticleRepository::stamps(&*f.store, &t.id)
        .await
        .expect("stamps");
    assert_ne!(after, stamps, "an update changes the stamps");
    assert!(after.contains(&(b.id.clone(), updated.updated_at)));
    ArticleRepository::delete(&*f.store, &t.id, &a.id)
        .await
        .expect("delete");
    let after_delete = ArticleRepository::stamps(&*f.store, &t.id)
        .await
        .expect("stamps");
    assert_eq!(after_delete, vec![(b.id, updated.updated_at)]);
}

/// Migrating is idempotent everywhere; a SQLite file's schema is in the
/// database file itself once `migrate` returns (its migrations skip the
/// fsync per statement and end with a checkpoint), not only in the
/// write-ahead log.
#[tokio::test]
async fn a_migrated_sqlite_file_holds_its_schema_outside_the_log() {
    let f = fixture().await;
    f.store
        .migrate()
        .await
        .expect("a second migrate applies nothing");
    tenant(&f.store, "acme").await;
    let Some(path) = f
        ._db
        .url
        .strip_prefix("sqlite://")
        .and_then(|u| u.split('?').next())
    else {
        assert_ne!(f._db.backend, Backend::Sqlite);
        return;
    };
    // `immutable=1` reads the file as it is on disk, ignoring the log.
    let file = rusqlite::Connection::open_with_flags(
        format!("file:{path}?immutable=1"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_URI,
    )
    .expect("open the file");
    let tables: i64 = file
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'chat_sessions'",
            [],
            |r| r.get(0),
        )
        .expect("read the schema");
    assert_eq!(tables, 1, "the schema is only in the log");
}
