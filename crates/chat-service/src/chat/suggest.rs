//! Help for agents from the knowledge base: the articles closest to a
//! handed-off question (with the passage to insert), whether an agent's
//! answer is covered by an article, and an uncovered answer turned into a
//! draft article for the admins.

use chat_domain::{
    Article, ArticleInput, BotSuggestion, ChatSession, Message, Scope, SenderType, SessionId,
};

use super::ChatService;
use super::bot::language;
use crate::{AgentCtx, Result};

/// How far back the customer's question is looked for.
const LOOKBACK: u64 = 50;

impl ChatService {
    /// The customer's latest message in the session (the question the bot
    /// handed off, or asked since), and the articles closest to it.
    pub async fn session_suggestions(
        &self,
        ctx: &AgentCtx,
        id: &SessionId,
    ) -> Result<(Option<String>, Vec<BotSuggestion>)> {
        let session = self.agent_session(ctx, id).await?;
        let Some(question) = self.customer_question(&session).await? else {
            return Ok((None, Vec::new()));
        };
        let tenant = self.tenant(ctx.tenant_id()).await?;
        let suggestions = self.suggest(&tenant, &question.body).await?;
        Ok((Some(question.body), suggestions))
    }

    async fn customer_question(&self, session: &ChatSession) -> Result<Option<Message>> {
        let recent = self
            .repos
            .messages
            .list_before(
                &session.tenant_id,
                &session.id,
                session.last_seq + 1,
                LOOKBACK,
            )
            .await?;
        Ok(recent
            .into_iter()
            .rev()
            .find(|m| m.sender_type == SenderType::Customer))
    }

    /// The published article that already says what `text` says, if any.
    pub async fn covering_article(&self, ctx: &AgentCtx, text: &str) -> Result<Option<Article>> {
        ctx.require(Scope::SessionsRead)?;
        let text = chat_domain::MessageBody::parse(text)?;
        let tenant = self.tenant(ctx.tenant_id()).await?;
        let articles = self.bot_articles(&tenant.id).await?;
        Ok(self
            .responders
            .kb
            .covering(text.as_str(), language(&tenant), &articles)
            .await
            .map(|h| h.article.clone()))
    }

    /// An agent's answer to a conversation's question as a draft article:
    /// the question as its title, the answer as its body. The bot does not
    /// use it until an admin edits and publishes it.
    pub async fn draft_article(
        &self,
        ctx: &AgentCtx,
        id: &SessionId,
        answer: &str,
    ) -> Result<Article> {
        ctx.require(Scope::MessagesWrite)?;
        let session = self.agent_session(ctx, id).await?;
        let title: String = match self.customer_question(&session).await? {
            Some(q) => q.body.split_whitespace().collect::<Vec<_>>().join(" "),
            None => String::new(),
        };
        let title: String = title.chars().take(200).collect();
        let mut input = ArticleInput::parse(&title, answer, &[])?;
        input.draft = true;
        Ok(self
            .repos
            .articles
            .create(ctx.tenant_id(), super::admin::with_vectors(input).await?)
            .await?)
    }
}
