//! Automatic answers: the tenant's bot setting, knowledge-base articles and
//! the `Responder` port that turns a customer's question into an answer.

use async_trait::async_trait;

use crate::{Message, TenantId, Timestamp, ValidationError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BotMode {
    Off,
    KnowledgeBase,
    Llm,
}

impl BotMode {
    pub fn as_str(self) -> &'static str {
        match self {
            BotMode::Off => "off",
            BotMode::KnowledgeBase => "knowledge_base",
            BotMode::Llm => "llm",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        match raw {
            "off" => Ok(Self::Off),
            "knowledge_base" => Ok(Self::KnowledgeBase),
            "llm" => Ok(Self::Llm),
            _ => Err(ValidationError::new(
                "mode",
                "must be 'off', 'knowledge_base' or 'llm'",
            )),
        }
    }
}

/// The language a tenant's bot reads and answers in: the widget's
/// `locale` (`de`, `de-AT` → German), English otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Language {
    #[default]
    English,
    German,
}

impl Language {
    pub fn from_locale(locale: Option<&str>) -> Self {
        let primary = locale
            .unwrap_or_default()
            .split(['-', '_'])
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        match primary.as_str() {
            "de" => Self::German,
            _ => Self::English,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Self::English => "en",
            Self::German => "de",
        }
    }

    /// What the bot says when it hands a conversation to a person.
    pub fn handoff_message(self) -> &'static str {
        match self {
            Self::English => {
                "I'll connect you with a member of our team. Someone will reply here shortly."
            }
            Self::German => {
                "Ich verbinde Sie mit unserem Team. Gleich antwortet Ihnen hier jemand."
            }
        }
    }

    /// The line under a quoted passage that names its article.
    pub fn source_line(self, title: &str) -> String {
        match self {
            Self::English => format!("(From our help centre: “{title}”)"),
            Self::German => format!("(Aus unserem Hilfe-Center: „{title}“)"),
        }
    }
}

/// An article's vectors from the bot's embedding model, computed when the
/// article is saved: the title with the keywords first, then one per
/// sentence of the body, `dims` floats each.
#[derive(Debug, Clone, PartialEq)]
pub struct ArticleEmbedding {
    /// Which model made them: vectors of another model are recomputed.
    pub model: String,
    pub dims: usize,
    pub vectors: Vec<f32>,
}

/// An article agents are shown when the bot hands a question to them:
/// its most relevant passage, to insert into a reply.
#[derive(Debug, Clone, PartialEq)]
pub struct BotSuggestion {
    pub article_id: String,
    pub title: String,
    pub passage: String,
    /// The ranker's score, 0 to 1.
    pub score: f64,
}

/// A help-centre article the bot may quote.
#[derive(Debug, Clone, PartialEq)]
pub struct Article {
    pub id: String,
    pub tenant_id: TenantId,
    pub title: String,
    pub body: String,
    pub keywords: Vec<String>,
    /// A draft (say an agent's reply turned into an article) waits for an
    /// admin: the bot does not use it.
    pub draft: bool,
    pub embedding: Option<ArticleEmbedding>,
    pub updated_at: Timestamp,
}

/// A new or replaced article: title 1–200 characters, body 1–20,000,
/// at most 20 keywords of at most 50 characters.
#[derive(Debug, Clone)]
pub struct ArticleInput {
    pub title: String,
    pub body: String,
    pub keywords: Vec<String>,
    pub draft: bool,
    /// Filled in by the service before the article is stored.
    pub embedding: Option<ArticleEmbedding>,
}

impl ArticleInput {
    pub fn parse(title: &str, body: &str, keywords: &[String]) -> Result<Self, ValidationError> {
        let title = title.trim();
        let body = body.trim();
        if title.is_empty() || title.chars().count() > 200 {
            return Err(ValidationError::new("title", "must be 1 to 200 characters"));
        }
        if body.is_empty() || body.chars().count() > 20_000 {
            return Err(ValidationError::new(
                "body",
                "must be 1 to 20000 characters",
            ));
        }
        if keywords.len() > 20
            || keywords
                .iter()
                .any(|k| k.trim().is_empty() || k.chars().count() > 50)
        {
            return Err(ValidationError::new(
                "keywords",
                "at most 20 keywords of 1 to 50 characters",
            ));
        }
        Ok(Self {
            title: title.to_owned(),
            body: body.to_owned(),
            keywords: keywords.iter().map(|k| k.trim().to_owned()).collect(),
            draft: false,
            embedding: None,
        })
    }
}

/// What a responder is asked.
#[derive(Clone, Copy)]
pub struct BotQuestion<'a> {
    pub bot_name: &'a str,
    pub question: &'a str,
    /// The conversation so far, oldest first.
    pub recent: &'a [Message],
    /// The tenant's published articles.
    pub articles: &'a [Article],
    pub language: Language,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BotAnswer {
    /// A confident answer, to be sent as a `bot` message.
    Answer(String),
    /// Nothing good enough: hand off to a person.
    NotConfident,
}

/// Why a responder could not answer at all (the caller falls back).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponderError(pub String);

#[async_trait]
pub trait Responder: Send + Sync {
    async fn answer(&self, q: BotQuestion<'_>) -> Result<BotAnswer, ResponderError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_round_trip() {
        for m in [BotMode::Off, BotMode::KnowledgeBase, BotMode::Llm] {
            assert_eq!(BotMode::parse(m.as_str()), Ok(m));
        }
        assert!(BotMode::parse("magic").is_err());
    }

    #[test]
    fn the_language_follows_the_locale() {
        assert_eq!(Language::from_locale(Some("de-AT")), Language::German);
        assert_eq!(Language::from_locale(Some("DE")), Language::German);
        assert_eq!(Language::from_locale(Some("en-GB")), Language::English);
        assert_eq!(Language::from_locale(Some("fr")), Language::English);
        assert_eq!(Language::from_locale(None), Language::English);
    }

    #[test]
    fn empty_titles_and_bodies_are_rejected() {
        assert!(ArticleInput::parse(" ", "b", &[]).is_err());
        assert!(ArticleInput::parse("t", "", &[]).is_err());
        assert!(ArticleInput::parse("t", "b", &["".into()]).is_err());
        assert!(ArticleInput::parse("t", "b", &["hours".into()]).is_ok());
    }
}
