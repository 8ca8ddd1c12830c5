//! Tenant administration through the agent API: the knowledge base's
//! articles and the bot's mode and name. Admins only.

use chat_domain::{Article, ArticleInput, BotMode, Tenant};

use super::ChatService;
use crate::{AgentCtx, Error, Result};

impl ChatService {
    pub async fn articles(&self, ctx: &AgentCtx) -> Result<Vec<Article>> {
        ctx.require_admin()?;
        Ok(self.repos.articles.list(ctx.tenant_id()).await?)
    }

    pub async fn article(&self, ctx: &AgentCtx, id: &str) -> Result<Article> {
        ctx.require_admin()?;
        self.repos
            .articles
            .find(ctx.tenant_id(), id)
            .await?
            .ok_or(Error::NotFound("article"))
    }

    pub async fn create_article(&self, ctx: &AgentCtx, input: ArticleInput) -> Result<Article> {
        ctx.require_admin()?;
        Ok(self.repos.articles.create(ctx.tenant_id(), input).await?)
    }

    pub async fn update_article(
        &self,
        ctx: &AgentCtx,
        id: &str,
        input: ArticleInput,
    ) -> Result<Article> {
        ctx.require_admin()?;
        self.repos
            .articles
            .update(ctx.tenant_id(), id, input)
            .await
            .map_err(|e| match Error::from(e) {
                Error::NotFound(_) => Error::NotFound("article"),
                other => other,
            })
    }

    pub async fn delete_article(&self, ctx: &AgentCtx, id: &str) -> Result<()> {
        ctx.require_admin()?;
        if self.repos.articles.delete(ctx.tenant_id(), id).await? {
            Ok(())
        } else {
            Err(Error::NotFound("article"))
        }
    }

    pub async fn set_bot(&self, ctx: &AgentCtx, mode: BotMode, name: &str) -> Result<Tenant> {
        ctx.require_admin()?;
        let name = chat_domain::agent::parse_display_name("name", name)?;
        Ok(self
            .repos
            .tenants
            .set_bot(ctx.tenant_id(), mode, &name)
            .await?)
    }
}
