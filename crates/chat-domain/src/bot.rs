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

/// A help-centre article the bot may quote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Article {
    pub id: String,
    pub tenant_id: TenantId,
    pub title: String,
    pub body: String,
    pub keywords: Vec<String>,
    pub updated_at: Timestamp,
}

/// A new or replaced article: title 1–200 characters, body 1–20,000,
/// at most 20 keywords of at most 50 characters.
#[derive(Debug, Clone)]
pub struct ArticleInput {
    pub title: String,
    pub body: String,
    pub keywords: Vec<String>,
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
    pub articles: &'a [Article],
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
    fn empty_titles_and_bodies_are_rejected() {
        assert!(ArticleInput::parse(" ", "b", &[]).is_err());
        assert!(ArticleInput::parse("t", "", &[]).is_err());
        assert!(ArticleInput::parse("t", "b", &["".into()]).is_err());
        assert!(ArticleInput::parse("t", "b", &["hours".into()]).is_ok());
    }
}
