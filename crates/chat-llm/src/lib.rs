//! An OpenAI-compatible `/v1/chat/completions` model as a
//! [`chat_domain::Responder`]. The model is given the best knowledge-base
//! passages and the recent conversation, and told to answer only from those
//! passages or to reply `HANDOFF`. Errors, rate limits and timeouts are
//! returned as `ResponderError` so that the service falls back; the customer
//! never sees them.

use std::time::Duration;

use async_trait::async_trait;
use chat_domain::{BotAnswer, BotQuestion, Responder, ResponderError, SenderType};
use chat_kb::KnowledgeBase;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone)]
pub struct LlmSettings {
    /// E.g. `https://api.openai.com` or `http://127.0.0.1:11434/v1`.
    pub base_url: String,
    pub model: String,
    pub api_key: Option<String>,
    pub timeout: Duration,
    pub max_tokens: u32,
    /// How many knowledge-base passages the model sees.
    pub passages: usize,
}

/// Articles up to this many characters go to the model whole.
const WHOLE_ARTICLE: usize = 1500;

pub struct OpenAiResponder {
    settings: LlmSettings,
    endpoint: String,
    http: reqwest::Client,
    kb: KnowledgeBase,
}

/// The word the model is told to answer with when the passages do not hold
/// the answer.
pub const HANDOFF: &str = "HANDOFF";

#[derive(Serialize)]
struct ChatRequest<'a> {
    model: &'a str,
    messages: Vec<ChatMessage>,
    max_tokens: u32,
    temperature: f32,
}

#[derive(Serialize, Deserialize)]
struct ChatMessage {
    role: String,
    content: String,
}

#[derive(Deserialize)]
struct ChatResponse {
    choices: Vec<Choice>,
}

#[derive(Deserialize)]
struct Choice {
    message: ChatMessage,
}

impl OpenAiResponder {
    pub fn new(settings: LlmSettings) -> Result<Self, ResponderError> {
        let base = settings.base_url.trim_end_matches('/');
        let endpoint = if base.ends_with("/v1") {
            format!("{base}/chat/completions")
        } else {
            format!("{base}/v1/chat/completions")
        };
        let http = reqwest::Client::builder()
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout)
            .build()
            .map_err(|e| ResponderError(format!("building the HTTP client: {e}")))?;
        Ok(Self {
            settings,
            endpoint,
            http,
            kb: KnowledgeBase::default(),
        })
    }

    fn prompt(&self, q: &BotQuestion<'_>, passages: &[(&str, String)]) -> Vec<ChatMessage> {
        let mut system = format!(
            "You are {}, a customer-support assistant. Answer the customer's last message using ONLY the \
             help-centre passages below. Quote or paraphrase them briefly and name the article you used. If the \
             passages do not contain the answer, reply with exactly {HANDOFF} and nothing else. Never invent \
             policies, prices or dates.\n\n",
            q.bot_name
        );
        for (i, (title, text)) in passages.iter().enumerate() {
            system.push_str(&format!("[{}] {title}\n{text}\n\n", i + 1));
        }
        let mut messages = vec![ChatMessage {
            role: "system".into(),
            content: system,
        }];
        for m in q.recent {
            let role = if m.sender_type == SenderType::Customer {
                "user"
            } else {
                "assistant"
            };
            messages.push(ChatMessage {
                role: role.into(),
                content: m.body.clone(),
            });
        }
        if q.recent.last().is_none_or(|m| m.body != q.question) {
            messages.push(ChatMessage {
                role: "user".into(),
                content: q.question.to_owned(),
            });
        }
        messages
    }
}

#[async_trait]
impl Responder for OpenAiResponder {
    async fn answer(&self, q: BotQuestion<'_>) -> Result<BotAnswer, ResponderError> {
        // The hybrid ranker's best articles: whole when short, otherwise
        // the passage that matches the question best.
        let passages: Vec<(&str, String)> = self
            .kb
            .rank_off_thread(q.question, q.language, q.articles)
            .await
            .into_iter()
            .filter(|h| h.score >= self.kb.thresholds.suggest)
            .take(self.settings.passages)
            .map(|h| {
                let text = if h.article.body.chars().count() <= WHOLE_ARTICLE {
                    h.article.body.clone()
                } else {
                    h.passage.clone()
                };
                (h.article.title.as_str(), text)
            })
            .collect();
        // Nothing in the knowledge base relates: the model could only guess.
        if passages.is_empty() {
            return Ok(BotAnswer::NotConfident);
        }
        let request = ChatRequest {
            model: &self.settings.model,
            messages: self.prompt(&q, &passages),
            max_tokens: self.settings.max_tokens,
            temperature: 0.0,
        };
        let mut call = self.http.post(&self.endpoint).json(&request);
        if let Some(key) = &self.settings.api_key {
            call = call.bearer_auth(key);
        }
        let send = async {
            let res = call
                .send()
                .await
                .map_err(|e| ResponderError(format!("request failed: {e}")))?;
            let status = res.status();
            if !status.is_success() {
                return Err(ResponderError(format!("model answered {status}")));
            }
            res.json::<ChatResponse>()
                .await
                .map_err(|e| ResponderError(format!("unreadable answer: {e}")))
        };
        let body = tokio::time::timeout(self.settings.timeout, send)
            .await
            .map_err(|_| ResponderError("model timed out".into()))??;
        let text = body
            .choices
            .into_iter()
            .next()
            .map(|c| c.message.content.trim().to_owned())
            .unwrap_or_default();
        if text.is_empty() || text.contains(HANDOFF) {
            return Ok(BotAnswer::NotConfident);
        }
        Ok(BotAnswer::Answer(text))
    }
}
