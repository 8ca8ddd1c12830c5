//! Tenant administration through the agent API: the knowledge base's
//! articles and the bot's mode and name. Admins only.

use chat_domain::webhook::parse_events;
use chat_domain::{
    Article, ArticleInput, BotMode, Delivery, NewWebhookEndpoint, Scope, Tenant, WebhookEndpoint,
    WebhookPatch, WebhookUrl,
};

use super::ChatService;
use crate::{AgentCtx, Error, Result};

/// An article with its vectors for the bot, as every article is stored:
/// computed once when it is saved, never at a question. The transformer
/// takes a few milliseconds a sentence, so it runs on a blocking thread,
/// not on the workers that serve sockets.
pub async fn with_vectors(mut input: ArticleInput) -> Result<ArticleInput> {
    crate::blocking("embedding", move || {
        input.embedding = chat_kb::embed_article(&input);
        input
    })
    .await
}

impl ChatService {
    pub async fn articles(&self, ctx: &AgentCtx) -> Result<Vec<Article>> {
        ctx.require_admin()?;
        ctx.require(Scope::KbRead)?;
        Ok(self.repos.articles.list(ctx.tenant_id()).await?)
    }

    pub async fn article(&self, ctx: &AgentCtx, id: &str) -> Result<Article> {
        ctx.require_admin()?;
        ctx.require(Scope::KbRead)?;
        self.repos
            .articles
            .find(ctx.tenant_id(), id)
            .await?
            .ok_or(Error::NotFound("article"))
    }

    /// Stores an article with its vectors for the bot, computed here once
    /// rather than at every question.
    pub async fn create_article(&self, ctx: &AgentCtx, input: ArticleInput) -> Result<Article> {
        ctx.require_admin()?;
        ctx.require(Scope::KbWrite)?;
        Ok(self
            .repos
            .articles
            .create(ctx.tenant_id(), with_vectors(input).await?)
            .await?)
    }

    pub async fn update_article(
        &self,
        ctx: &AgentCtx,
        id: &str,
        input: ArticleInput,
    ) -> Result<Article> {
        ctx.require_admin()?;
        ctx.require(Scope::KbWrite)?;
        self.repos
            .articles
            .update(ctx.tenant_id(), id, with_vectors(input).await?)
            .await
            .map_err(Error::missing("article"))
    }

    pub async fn delete_article(&self, ctx: &AgentCtx, id: &str) -> Result<()> {
        ctx.require_admin()?;
        ctx.require(Scope::KbWrite)?;
        if self.repos.articles.delete(ctx.tenant_id(), id).await? {
            Ok(())
        } else {
            Err(Error::NotFound("article"))
        }
    }

    pub async fn set_bot(&self, ctx: &AgentCtx, mode: BotMode, name: &str) -> Result<Tenant> {
        ctx.require_admin()?;
        ctx.require(Scope::SettingsWrite)?;
        let name = chat_domain::agent::parse_display_name("name", name)?;
        let tenant = self
            .repos
            .tenants
            .set_bot(ctx.tenant_id(), mode, &name)
            .await?;
        self.bot_off.clear(&tenant.id);
        if mode == BotMode::Off {
            // The conversations the bot had now wait for people.
            self.repos.assignment.queue_bot_sessions(&tenant.id).await?;
            self.spawn_drain(&tenant.id);
        }
        Ok(tenant)
    }

    pub async fn webhooks(&self, ctx: &AgentCtx) -> Result<Vec<WebhookEndpoint>> {
        ctx.require_admin()?;
        ctx.require(Scope::WebhooksRead)?;
        Ok(self.repos.webhooks.list(ctx.tenant_id()).await?)
    }

    pub async fn webhook(&self, ctx: &AgentCtx, id: &str) -> Result<WebhookEndpoint> {
        ctx.require_admin()?;
        ctx.require(Scope::WebhooksRead)?;
        self.repos
            .webhooks
            .find(ctx.tenant_id(), id)
            .await?
            .ok_or(Error::NotFound("webhook"))
    }

    /// A new endpoint and its signing secret, which is shown this once.
    pub async fn create_webhook(
        &self,
        ctx: &AgentCtx,
        url: &str,
        events: &[String],
        active: Option<bool>,
    ) -> Result<(WebhookEndpoint, String)> {
        ctx.require_admin()?;
        ctx.require(Scope::WebhooksWrite)?;
        let secret = crate::keys::new_webhook_secret();
        let endpoint = self
            .repos
            .webhooks
            .create(
                ctx.tenant_id(),
                NewWebhookEndpoint {
                    url: WebhookUrl::parse(url)?,
                    events: parse_events(events)?,
                    active: active.unwrap_or(true),
                    secret: secret.clone(),
                },
            )
            .await?;
        Ok((endpoint, secret))
    }

    pub async fn update_webhook(
        &self,
        ctx: &AgentCtx,
        id: &str,
        url: Option<&str>,
        events: Option<&[String]>,
        active: Option<bool>,
    ) -> Result<WebhookEndpoint> {
        ctx.require_admin()?;
        ctx.require(Scope::WebhooksWrite)?;
        let patch = WebhookPatch {
            url: url.map(WebhookUrl::parse).transpose()?,
            events: events.map(parse_events).transpose()?,
            active,
        };
        self.repos
            .webhooks
            .update(ctx.tenant_id(), id, patch)
            .await
            .map_err(Error::missing("webhook"))
    }

    pub async fn delete_webhook(&self, ctx: &AgentCtx, id: &str) -> Result<()> {
        ctx.require_admin()?;
        ctx.require(Scope::WebhooksWrite)?;
        if self.repos.webhooks.delete(ctx.tenant_id(), id).await? {
            Ok(())
        } else {
            Err(Error::NotFound("webhook"))
        }
    }

    /// The endpoint's newest deliveries.
    pub async fn webhook_deliveries(
        &self,
        ctx: &AgentCtx,
        id: &str,
        limit: Option<u64>,
    ) -> Result<Vec<Delivery>> {
        let endpoint = self.webhook(ctx, id).await?;
        Ok(self
            .repos
            .webhooks
            .deliveries(ctx.tenant_id(), &endpoint.id, super::page_size(limit))
            .await?)
    }

    /// Sends a delivery again, now.
    pub async fn redeliver(
        &self,
        ctx: &AgentCtx,
        endpoint: &str,
        delivery: &str,
    ) -> Result<Delivery> {
        ctx.require_admin()?;
        ctx.require(Scope::WebhooksWrite)?;
        self.repos
            .webhooks
            .redeliver(ctx.tenant_id(), endpoint, delivery)
            .await
            .map_err(Error::missing("delivery"))
    }
}
