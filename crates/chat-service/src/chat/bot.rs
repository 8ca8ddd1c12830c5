//! The bot's part of a conversation: while a session is pending and no
//! agent is assigned, each customer message is offered to the tenant's
//! responder. A confident answer goes out as a `bot` message through the
//! same path as every other message; otherwise (or when the customer asks
//! for a person) the bot hands off once and stays silent.

use std::sync::Arc;

use chat_domain::{
    AppendOutcome, Article, BotAnswer, BotMode, BotQuestion, BotSuggestion, ChatSession,
    ClientMsgId, Language, Message, MessageBody, NewMessage, Responder, SenderType, SessionStatus,
    Tenant, TenantId,
};
use tracing::instrument;

use super::ChatService;
use crate::Result;

#[derive(Debug, Clone)]
pub struct BotSettings {
    /// Phrases (lowercase) by which a customer asks for a person, in every
    /// language the tenants use.
    pub handoff_phrases: Vec<String>,
    /// What the bot says when it hands off; by default the tenant's
    /// language's sentence ([`Language::handoff_message`]).
    pub handoff_message: Option<String>,
    /// How many recent messages an LLM sees.
    pub history: u64,
    /// Answers the bot gives in one session before it hands off: a cap on
    /// what one visitor can make it (and, in `llm` mode, a paid model) do.
    pub max_answers_per_session: u64,
}

impl Default for BotSettings {
    fn default() -> Self {
        Self {
            handoff_phrases: [
                "human",
                "agent",
                "real person",
                "a person",
                "talk to someone",
                "speak to someone",
                "talk with someone",
                "speak with someone",
                "representative",
                "operator",
                "someone real",
                "mensch",
                "einem menschen",
                "mitarbeiter",
                "mitarbeiterin",
                "echte person",
                "mit jemandem sprechen",
                "jemanden sprechen",
                "berater",
            ]
            .iter()
            .map(|s| (*s).to_owned())
            .collect(),
            handoff_message: None,
            history: 10,
            max_answers_per_session: 10,
        }
    }
}

/// The responders a tenant's bot mode can pick from.
#[derive(Clone)]
pub struct Responders {
    /// The built-in ranker: answers, suggestions for agents, article
    /// vectors.
    pub kb: Arc<chat_kb::KnowledgeBase>,
    pub knowledge_base: Arc<dyn Responder>,
    /// An OpenAI-compatible model, when one is configured.
    pub llm: Option<Arc<dyn Responder>>,
}

/// What the bot did with a customer message.
#[derive(Debug, Clone, PartialEq)]
pub enum BotOutcome {
    /// The tenant's bot is off.
    Off,
    /// An agent has the session, it is not pending, or the bot handed off
    /// earlier.
    Silent,
    Answered(Box<Message>),
    HandedOff,
}

/// A small per-tenant memory of this node.
pub type TenantMap<V> = crate::memo::Memo<TenantId, V, CACHED_TENANTS>;

/// A tenant's articles as the bot last read them, with the stamps (id and
/// update time of each) they were read at: a question costs one read of
/// the stamps, and the articles with their vectors are read again only
/// when one was added, changed or deleted (on any node).
pub type ArticleCache = TenantMap<(Vec<(String, chat_domain::Timestamp)>, Arc<Vec<Article>>)>;

/// Tenants whose bot was last seen off, and when. A customer's message to
/// such a tenant spawns no bot turn (which would read the tenant) for
/// [`BOT_OFF_FRESH`]: at 200 messages a second that read was one statement
/// in nine. Switching the bot on through this node clears the entry at
/// once; through another node (or the command line) it takes effect within
/// that second.
#[derive(Default)]
pub struct BotOff(TenantMap<std::time::Instant>);

const BOT_OFF_FRESH: std::time::Duration = std::time::Duration::from_secs(1);

impl BotOff {
    fn fresh(&self, tenant: &TenantId) -> bool {
        self.0
            .get(tenant)
            .is_some_and(|seen| seen.elapsed() < BOT_OFF_FRESH)
    }

    fn seen(&self, tenant: &TenantId, mode: BotMode) {
        if mode == BotMode::Off {
            self.0.insert(tenant.clone(), std::time::Instant::now());
        } else {
            self.0.remove(tenant);
        }
    }

    pub(super) fn clear(&self, tenant: &TenantId) {
        self.0.remove(tenant);
    }
}

/// Tenants a [`TenantMap`] keeps.
const CACHED_TENANTS: usize = 1000;

/// How many articles agents are shown when the bot hands off.
pub const SUGGESTIONS: usize = 3;

/// The language the tenant's bot reads and answers in.
pub fn language(tenant: &Tenant) -> Language {
    Language::from_locale(tenant.widget.locale.as_deref())
}

/// Whether the text asks for a person: a phrase matched on word boundaries.
pub fn asks_for_human(text: &str, phrases: &[String]) -> bool {
    let words: Vec<String> = text
        .to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect();
    let joined = format!(" {} ", words.join(" "));
    phrases
        .iter()
        .any(|p| joined.contains(&format!(" {} ", p.trim())))
}

impl ChatService {
    /// Runs the bot for a new customer message, off the request path.
    pub(super) fn spawn_bot(&self, session: ChatSession, message: Message) {
        if self.bot_off.fresh(&session.tenant_id) {
            metrics::counter!("chat_bot_answers_total", "outcome" => "off").increment(1);
            return;
        }
        let this = self.clone();
        tokio::spawn(async move {
            let started = std::time::Instant::now();
            let outcome = match this.bot_turn(&session, &message).await {
                Ok(BotOutcome::Off) => "off",
                Ok(BotOutcome::Silent) => "silent",
                Ok(BotOutcome::Answered(_)) => "answered",
                Ok(BotOutcome::HandedOff) => "handed_off",
                Err(e) => {
                    tracing::warn!(error = %e, session = %session.id, "bot turn failed");
                    "failed"
                }
            };
            tracing::debug!(
                outcome,
                session = %session.id,
                elapsed_ms = started.elapsed().as_millis() as u64,
                "bot turn"
            );
            metrics::counter!("chat_bot_answers_total", "outcome" => outcome).increment(1);
        });
    }

    /// Offers a customer message to the tenant's bot. Idempotent: a second
    /// turn for the same message stores and publishes nothing new.
    #[instrument(skip_all, fields(tenant = %session.tenant_id, session = %session.id))]
    pub async fn bot_turn(&self, session: &ChatSession, message: &Message) -> Result<BotOutcome> {
        let tenant = self.tenant(&session.tenant_id).await?;
        self.bot_off.seen(&tenant.id, tenant.bot_mode);
        if tenant.bot_mode == BotMode::Off {
            return Ok(BotOutcome::Off);
        }
        // Fresh state: an agent may have taken over since.
        let Some(current) = self.repos.sessions.find(&tenant.id, &session.id).await? else {
            return Ok(BotOutcome::Silent);
        };
        if current.status != SessionStatus::Pending
            || current.assigned_agent.is_some()
            || current.bot_handed_off
        {
            return Ok(BotOutcome::Silent);
        }
        if asks_for_human(&message.body, &self.bot_settings.handoff_phrases) {
            return self
                .hand_off(&tenant, &current, "requested", Some(&message.body))
                .await;
        }
        let answered = self
            .repos
            .messages
            .count_by_sender(&tenant.id, &current.id, SenderType::Bot)
            .await?;
        if answered >= self.bot_settings.max_answers_per_session {
            return self
                .hand_off(&tenant, &current, "budget", Some(&message.body))
                .await;
        }
        let articles = self.bot_articles(&tenant.id).await?;
        // Only a model reads the conversation; the knowledge base ranks the
        // question alone.
        let recent = if self.responders.llm.is_some() && tenant.bot_mode == BotMode::Llm {
            self.repos
                .messages
                .list_before(
                    &tenant.id,
                    &current.id,
                    message.seq + 1,
                    self.bot_settings.history,
                )
                .await?
        } else {
            Vec::new()
        };
        let question = BotQuestion {
            bot_name: &tenant.bot_name,
            question: &message.body,
            recent: &recent,
            articles: &articles,
            language: language(&tenant),
        };
        let answer = self.ask(&tenant, question).await;
        match answer {
            BotAnswer::Answer(text) => {
                let reply = self
                    .bot_message(&tenant, &current, &text, &format!("bot-{}", message.id))
                    .await?;
                Ok(BotOutcome::Answered(Box::new(reply.into_message())))
            }
            BotAnswer::NotConfident => {
                self.hand_off(&tenant, &current, "not_confident", Some(&message.body))
                    .await
            }
        }
    }

    /// The tenant's responder, falling back to the knowledge base (and then
    /// to a hand-off) when the model fails or times out.
    async fn ask(&self, tenant: &Tenant, q: BotQuestion<'_>) -> BotAnswer {
        let llm = self
            .responders
            .llm
            .as_ref()
            .filter(|_| tenant.bot_mode == BotMode::Llm);
        if let Some(llm) = llm {
            match llm.answer(q).await {
                Ok(a) => return a,
                Err(e) => tracing::warn!(error = %e.0, "model failed; using the knowledge base"),
            }
        }
        self.responders
            .knowledge_base
            .answer(q)
            .await
            .unwrap_or(BotAnswer::NotConfident)
    }

    async fn hand_off(
        &self,
        tenant: &Tenant,
        session: &ChatSession,
        reason: &'static str,
        question: Option<&str>,
    ) -> Result<BotOutcome> {
        if !self
            .repos
            .sessions
            .mark_handed_off(&tenant.id, &session.id, reason)
            .await?
        {
            return Ok(BotOutcome::Silent);
        }
        let language = language(tenant);
        let text = self
            .bot_settings
            .handoff_message
            .clone()
            .unwrap_or_else(|| language.handoff_message().to_owned());
        let stored = self
            .bot_message(
                tenant,
                session,
                &text,
                &format!("bot-handoff-{}", session.id),
            )
            .await?;
        let suggestions = match question {
            Some(q) => self.suggest(tenant, q).await?,
            None => Vec::new(),
        };
        self.publish.bot_handoff(&stored, reason, suggestions).await;
        self.spawn_drain(&tenant.id);
        Ok(BotOutcome::HandedOff)
    }

    /// The articles closest to a question, for the agents who answer it.
    pub(super) async fn suggest(
        &self,
        tenant: &Tenant,
        question: &str,
    ) -> Result<Vec<BotSuggestion>> {
        let articles = self.bot_articles(&tenant.id).await?;
        Ok(self
            .responders
            .kb
            .suggest(question, language(tenant), &articles, SUGGESTIONS)
            .await)
    }

    /// The tenant's articles, from the cache while their stamps match.
    pub(super) async fn bot_articles(&self, tenant: &TenantId) -> Result<Arc<Vec<Article>>> {
        let stamps = self.repos.articles.stamps(tenant).await?;
        if let Some((_, articles)) = self.articles.get(tenant).filter(|(s, _)| *s == stamps) {
            return Ok(articles);
        }
        let mut list = self.repos.articles.list(tenant).await?;
        if list.iter().any(chat_kb::needs_vectors) {
            // Stored before vectors were, or by another model: computed once
            // here, off the workers, and kept with the cached articles.
            list = crate::blocking("embedding", move || {
                for a in list.iter_mut().filter(|a| chat_kb::needs_vectors(a)) {
                    a.embedding = chat_kb::article_vectors(a);
                }
                list
            })
            .await?;
        }
        let articles = Arc::new(list);
        // Stamps read before the list: a change in between is seen by the
        // next question, never missed.
        self.articles
            .insert(tenant.clone(), (stamps, articles.clone()));
        Ok(articles)
    }

    async fn bot_message(
        &self,
        tenant: &Tenant,
        session: &ChatSession,
        text: &str,
        client_msg_id: &str,
    ) -> Result<AppendOutcome> {
        let body: String = text.chars().take(MessageBody::MAX_CHARS).collect();
        let new = NewMessage {
            sender_type: SenderType::Bot,
            sender_id: None,
            sender_name: tenant.bot_name.clone(),
            body: MessageBody::parse(&body)?,
            attachment_ids: Vec::new(),
            client_msg_id: Some(ClientMsgId::parse(
                &client_msg_id.chars().take(64).collect::<String>(),
            )?),
        };
        self.append(&tenant.id, &session.id, new).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_for_a_person_are_recognised_on_word_boundaries() {
        let phrases = BotSettings::default().handoff_phrases;
        assert!(asks_for_human("Can I talk to a HUMAN please?", &phrases));
        assert!(asks_for_human("I want to speak to someone", &phrases));
        assert!(asks_for_human("agent!", &phrases));
        assert!(!asks_for_human("what are your opening hours", &phrases));
        assert!(!asks_for_human("my user agentname is x", &phrases));
    }
}
