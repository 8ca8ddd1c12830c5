//! The bot against the in-memory fakes.

#![allow(
    clippy::expect_used,
    reason = "helpers outside #[test] functions fail loudly, naming the call"
)]

use std::sync::Arc;

use async_trait::async_trait;
use chat_domain::repo::{ArticleRepository, MessageRepository, TenantRepository};
use chat_domain::{
    ArticleInput, BotAnswer, BotMode, BotQuestion, ChatEvent, NewTenant, Responder, ResponderError,
    Role, SenderType, TenantSlug,
};
use chat_service::auth::NewAgentInput;
use chat_service::{
    AuthService, AuthSettings, BotOutcome, ChatService, Repositories, StartSession,
};
use chat_testkit::{InMemoryStore, RecordingHub};

struct World {
    chat: ChatService,
    auth: AuthService,
    hub: Arc<RecordingHub>,
    tenant: chat_domain::Tenant,
    store: Arc<InMemoryStore>,
}

fn ok<T, E: std::fmt::Debug>(r: Result<T, E>) -> T {
    r.expect("the call succeeds")
}

async fn world(mode: BotMode, llm: Option<Arc<dyn Responder>>) -> World {
    let store = Arc::new(InMemoryStore::new());
    let hub = Arc::new(RecordingHub::new());
    let repos = Repositories::from_store(store.clone());
    let mut chat = ChatService::new(repos.clone(), hub.clone());
    if let Some(llm) = llm {
        chat = chat.with_llm(llm);
    }
    let tenant = ok(TenantRepository::create(
        &*store,
        NewTenant {
            slug: ok(TenantSlug::parse("acme")),
            name: "Acme".into(),
            allowed_origins: vec![],
        },
    )
    .await);
    let tenant = ok(store.set_bot(&tenant.id, mode, "Robo").await);
    ok(ArticleRepository::create(
        &*store,
        &tenant.id,
        ok(ArticleInput::parse(
            "Opening hours",
            "We are open Monday to Friday from 8:00 to 20:00. We are closed on Sundays.",
            &["hours".into(), "open".into()],
        )),
    )
    .await);
    World {
        auth: ok(AuthService::new(repos, AuthSettings::default()).await),
        chat,
        hub,
        tenant,
        store,
    }
}

impl World {
    /// The suggestions of the hand-off with this reason.
    async fn handoff_suggestions(&self, reason: &str) -> Vec<chat_domain::BotSuggestion> {
        self.hub
            .wait_for(|_, e| matches!(e, ChatEvent::BotHandoff { reason: r, .. } if *r == reason))
            .await
            .and_then(|(_, e)| match e {
                ChatEvent::BotHandoff { suggestions, .. } => Some(suggestions),
                _ => None,
            })
            .expect("a hand-off")
    }

    async fn customer_says(&self, text: &str) -> (chat_domain::ChatSession, chat_domain::Message) {
        let session = ok(self
            .chat
            .start_session(StartSession {
                tenant: "acme".into(),
                ..StartSession::default()
            })
            .await)
        .session;
        let m = self.stored_customer_message(&session, text).await;
        (session, m)
    }

    /// A customer's message stored without the bot turn that sending it
    /// spawns: each test runs the turn itself, so no second turn races it.
    async fn stored_customer_message(
        &self,
        session: &chat_domain::ChatSession,
        text: &str,
    ) -> chat_domain::Message {
        let new = chat_domain::NewMessage {
            sender_type: SenderType::Customer,
            sender_id: Some(session.customer.id.to_string()),
            sender_name: session.customer.display_name(),
            body: ok(chat_domain::MessageBody::parse(text)),
            client_msg_id: None,
            attachment_ids: Vec::new(),
        };
        match ok(
            MessageRepository::append(&*self.store, &session.tenant_id, &session.id, new).await,
        ) {
            chat_domain::AppendOutcome::Created(m) | chat_domain::AppendOutcome::Existing(m) => m,
        }
    }
}

#[tokio::test]
async fn a_confident_answer_is_stored_and_broadcast_as_a_bot_message() {
    let w = world(BotMode::KnowledgeBase, None).await;
    let (session, question) = w.customer_says("What are your opening hours?").await;
    let outcome = ok(w.chat.bot_turn(&session, &question).await);
    let BotOutcome::Answered(reply) = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(
        (reply.sender_type, reply.sender_name.as_str(), reply.seq),
        (SenderType::Bot, "Robo", 2)
    );
    assert!(reply.body.contains("Monday to Friday"), "{}", reply.body);
    // The background turn and this one stored one reply between them.
    let stored = ok(w
        .chat
        .messages_after(&w.tenant.id, &session.id, 0, None)
        .await);
    assert_eq!(
        stored
            .iter()
            .filter(|m| m.sender_type == SenderType::Bot)
            .count(),
        1
    );
    let seen = w
        .hub
        .wait_for(|_, e| matches!(e, ChatEvent::MessageNew(m) if m.sender_type == SenderType::Bot))
        .await;
    assert!(seen.is_some());
}

#[tokio::test]
async fn the_bot_is_off_when_the_tenant_turns_it_off() {
    let w = world(BotMode::Off, None).await;
    let (session, question) = w.customer_says("What are your opening hours?").await;
    assert_eq!(
        ok(w.chat.bot_turn(&session, &question).await),
        BotOutcome::Off
    );
}

#[tokio::test]
async fn below_the_threshold_it_hands_off_once_and_then_stays_silent() {
    let w = world(BotMode::KnowledgeBase, None).await;
    let (session, question) = w
        .customer_says("Can you explain quantum chromodynamics?")
        .await;
    let first = ok(w.chat.bot_turn(&session, &question).await);
    let again = ok(w.chat.bot_turn(&session, &question).await);
    assert!(
        matches!(
            (&first, &again),
            (BotOutcome::HandedOff, BotOutcome::Silent) | (BotOutcome::Silent, BotOutcome::Silent)
        ),
        "{first:?} {again:?}"
    );
    let handoff = w
        .hub
        .wait_for(|_, e| {
            matches!(
                e,
                ChatEvent::BotHandoff {
                    reason: "not_confident",
                    ..
                }
            )
        })
        .await;
    assert!(handoff.is_some(), "agents are told");
    let m = w
        .stored_customer_message(&session, "What are your opening hours?")
        .await;
    assert_eq!(ok(w.chat.bot_turn(&session, &m).await), BotOutcome::Silent);
    let stored = ok(w
        .chat
        .messages_after(&w.tenant.id, &session.id, 0, None)
        .await);
    let bot: Vec<_> = stored
        .iter()
        .filter(|m| m.sender_type == SenderType::Bot)
        .collect();
    assert_eq!(bot.len(), 1, "exactly one hand-off message");
}

#[tokio::test]
async fn asking_for_a_person_hands_off() {
    let w = world(BotMode::KnowledgeBase, None).await;
    let (session, question) = w
        .customer_says("Can I talk to a human about my opening hours question?")
        .await;
    let outcome = ok(w.chat.bot_turn(&session, &question).await);
    assert!(
        matches!(outcome, BotOutcome::HandedOff | BotOutcome::Silent),
        "{outcome:?}"
    );
    let handoff = w
        .hub
        .wait_for(|_, e| {
            matches!(
                e,
                ChatEvent::BotHandoff {
                    reason: "requested",
                    ..
                }
            )
        })
        .await;
    assert!(handoff.is_some());
    assert!(ok(w.chat.agent_session_by_id(&w.tenant.id, &session.id).await).bot_handed_off);
}

#[tokio::test]
async fn once_an_agent_is_assigned_the_bot_is_silent() {
    let w = world(BotMode::KnowledgeBase, None).await;
    ok(w.auth
        .create_agent(
            None,
            &w.tenant.id,
            NewAgentInput {
                name: "Alex",
                email: "a@acme.test",
                password: "long enough",
                role: Role::Agent,
            },
        )
        .await);
    let login = ok(w.auth.login("a@acme.test", "long enough", "x").await);
    let ctx = ok(w.auth.authenticate(&login.token).await);
    let (session, _) = w.customer_says("hello").await;
    ok(w.chat.assign(&ctx, &session.id, None).await);
    let m = w
        .stored_customer_message(&session, "What are your opening hours?")
        .await;
    assert_eq!(ok(w.chat.bot_turn(&session, &m).await), BotOutcome::Silent);
}

struct Failing;

#[async_trait]
impl Responder for Failing {
    async fn answer(&self, _: BotQuestion<'_>) -> Result<BotAnswer, ResponderError> {
        Err(ResponderError("model answered 500".into()))
    }
}

#[tokio::test]
async fn a_failing_model_falls_back_to_the_knowledge_base() {
    let w = world(BotMode::Llm, Some(Arc::new(Failing))).await;
    let (session, question) = w.customer_says("What are your opening hours?").await;
    let outcome = ok(w.chat.bot_turn(&session, &question).await);
    assert!(
        matches!(outcome, BotOutcome::Answered(ref m) if m.body.contains("Monday")),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn a_handoff_carries_the_closest_articles_and_none_when_nothing_is_close() {
    let w = world(BotMode::KnowledgeBase, None).await;
    let (_, question) = w
        .customer_says("I'd like to talk to a person about when you are open on sundays")
        .await;
    let session = ok(w
        .chat
        .agent_session_by_id(&w.tenant.id, &question.session_id)
        .await);
    ok(w.chat.bot_turn(&session, &question).await);
    let suggestions = w.handoff_suggestions("requested").await;
    assert_eq!(suggestions.len(), 1, "{suggestions:?}");
    assert_eq!(suggestions[0].title, "Opening hours");
    assert!(
        suggestions[0].passage.contains("closed on Sundays"),
        "{suggestions:?}"
    );

    // Far from every article: handed off without suggestions.
    let w = world(BotMode::KnowledgeBase, None).await;
    let (session, question) = w.customer_says("who won the chess final in 1972").await;
    assert_eq!(
        ok(w.chat.bot_turn(&session, &question).await),
        BotOutcome::HandedOff
    );
    let suggestions = w.handoff_suggestions("not_confident").await;
    assert!(suggestions.is_empty(), "{suggestions:?}");
}

#[tokio::test]
async fn a_german_tenant_is_answered_and_handed_off_in_german() {
    let w = world(BotMode::KnowledgeBase, None).await;
    let mut widget = w.tenant.widget.clone();
    widget.locale = Some("de".into());
    ok(w.store.set_widget(&w.tenant.id, widget).await);
    let article = ok(chat_service::with_vectors(ok(ArticleInput::parse(
        "Garantie und Reparatur",
        "Alle Geräte haben zwei Jahre Garantie. Ist ein Gerät defekt, reparieren oder ersetzen wir es kostenlos.",
        &["garantie".into(), "reparatur".into()],
    )))
    .await);
    ok(ArticleRepository::create(&*w.store, &w.tenant.id, article).await);
    let (session, question) = w
        .customer_says("Mein Wasserkocher ist kaputt, gilt da die Garantie?")
        .await;
    let BotOutcome::Answered(answer) = ok(w.chat.bot_turn(&session, &question).await) else {
        panic!("German stemming and the German lexicon (kaputt: defekt) find the article");
    };
    assert!(
        answer.body.contains("Ist ein Gerät defekt"),
        "{}",
        answer.body
    );
    assert!(
        answer
            .body
            .ends_with("(Aus unserem Hilfe-Center: „Garantie und Reparatur“)")
    );
    let m = w
        .stored_customer_message(&session, "Ich möchte mit einem Mitarbeiter sprechen")
        .await;
    assert_eq!(
        ok(w.chat.bot_turn(&session, &m).await),
        BotOutcome::HandedOff
    );
    let stored = ok(w
        .chat
        .messages_after(&w.tenant.id, &session.id, 0, None)
        .await);
    assert_eq!(
        stored.last().map(|m| m.body.as_str()),
        Some(chat_domain::Language::German.handoff_message())
    );
}

#[tokio::test]
async fn a_changed_article_is_answered_from_at_once() {
    let w = world(BotMode::KnowledgeBase, None).await;
    let (session, question) = w.customer_says("What are your opening hours?").await;
    let BotOutcome::Answered(first) = ok(w.chat.bot_turn(&session, &question).await) else {
        panic!("answered");
    };
    assert!(first.body.contains("8:00 to 20:00"), "{}", first.body);
    // The bot keeps the articles it read while their stamps match; a
    // change is read at the next question.
    let id = ok(ArticleRepository::list(&*w.store, &w.tenant.id).await)[0]
        .id
        .clone();
    ok(ArticleRepository::update(
        &*w.store,
        &w.tenant.id,
        &id,
        ok(ArticleInput::parse(
            "Opening hours",
            "We are open Monday to Friday from 9:00 to 17:00. We are closed on Sundays.",
            &["hours".into(), "open".into()],
        )),
    )
    .await);
    let (session, question) = w.customer_says("What are your opening hours?").await;
    let BotOutcome::Answered(second) = ok(w.chat.bot_turn(&session, &question).await) else {
        panic!("answered");
    };
    assert!(second.body.contains("9:00 to 17:00"), "{}", second.body);
}

#[tokio::test]
async fn a_bot_switched_on_answers_the_next_message_though_it_was_just_seen_off() {
    let w = world(BotMode::Off, None).await;
    ok(w.auth
        .create_agent(
            None,
            &w.tenant.id,
            NewAgentInput {
                name: "Ada",
                email: "admin@acme.test",
                password: "long enough",
                role: Role::Admin,
            },
        )
        .await);
    let login = ok(w.auth.login("admin@acme.test", "long enough", "x").await);
    let admin = ok(w.auth.authenticate(&login.token).await);
    let (session, first) = w.customer_says("hello").await;
    // Seen off: for a second, customers' messages spawn no bot turn…
    assert_eq!(ok(w.chat.bot_turn(&session, &first).await), BotOutcome::Off);
    // …unless an admin switches it on, which this node takes at once.
    ok(w.chat.set_bot(&admin, BotMode::KnowledgeBase, "Robo").await);
    ok(w.chat
        .send_as_customer(&session, "What are your opening hours?", None)
        .await);
    let answer = w
        .hub
        .wait_for(|_, e| matches!(e, ChatEvent::MessageNew(m) if m.sender_type == SenderType::Bot))
        .await;
    assert!(
        answer.is_some(),
        "the bot answers the message sent after it was switched on"
    );
}
