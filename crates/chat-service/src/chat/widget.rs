//! What the widget shows, decided here: the tenant's widget settings,
//! whether anyone is there (presence and availability) and whether the
//! business hours are open; the customer's end of a conversation and their
//! rating of it.

use chat_domain::widget::{BusinessHours, WidgetSettings, parse_rating};
use chat_domain::{ChatSession, Scope, Tenant, TenantSlug, Timestamp};
use tracing::instrument;

use super::ChatService;
use crate::{AgentCtx, Error, Result};

/// The widget's view of a tenant right now.
#[derive(Debug, Clone)]
pub struct PublicWidget {
    pub tenant: Tenant,
    /// Someone is reachable and taking conversations.
    pub online: bool,
    pub business_hours_open: bool,
    /// When the team is back, if closed now.
    pub next_open: Option<Timestamp>,
}

impl ChatService {
    pub async fn widget_settings(&self, ctx: &AgentCtx) -> Result<Tenant> {
        ctx.require(Scope::SettingsRead)?;
        self.tenant(ctx.tenant_id()).await
    }

    /// Admins replace the widget's settings (validated as a whole).
    #[instrument(skip_all, fields(tenant = %ctx.tenant_id()))]
    pub async fn set_widget_settings(
        &self,
        ctx: &AgentCtx,
        raw: &serde_json::Value,
    ) -> Result<Tenant> {
        ctx.require(Scope::SettingsWrite)?;
        ctx.require_admin()?;
        let settings = WidgetSettings::from_json(raw)?;
        Ok(self
            .repos
            .tenants
            .set_widget(ctx.tenant_id(), settings)
            .await?)
    }

    /// Admins replace the business hours; a `time_zone` given sets the
    /// tenant's zone too.
    #[instrument(skip_all, fields(tenant = %ctx.tenant_id()))]
    pub async fn set_business_hours(
        &self,
        ctx: &AgentCtx,
        raw: &serde_json::Value,
    ) -> Result<Tenant> {
        ctx.require(Scope::SettingsWrite)?;
        ctx.require_admin()?;
        let hours = BusinessHours::from_json(raw)?;
        let zone = match raw.get("time_zone") {
            None | Some(serde_json::Value::Null) => None,
            Some(serde_json::Value::String(z)) => Some(chat_domain::TimeZone::parse(z)?),
            Some(_) => {
                return Err(chat_domain::ValidationError::new(
                    "time_zone",
                    "must be an IANA time zone name",
                )
                .into());
            }
        };
        if let Some(zone) = zone {
            self.repos
                .tenants
                .set_time_zone(ctx.tenant_id(), zone)
                .await?;
        }
        Ok(self
            .repos
            .tenants
            .set_business_hours(ctx.tenant_id(), hours)
            .await?)
    }

    /// The widget's settings of a tenant by its public id, with who is
    /// there now.
    pub async fn public_widget(&self, slug: &str, now: Timestamp) -> Result<PublicWidget> {
        let slug = TenantSlug::parse(slug).map_err(|_| Error::NotFound("tenant"))?;
        let tenant = self
            .repos
            .tenants
            .find_by_slug(&slug)
            .await?
            .ok_or(Error::NotFound("tenant"))?;
        let online = self.someone_available(&tenant.id).await?;
        let hours = &tenant.business_hours;
        Ok(PublicWidget {
            online,
            business_hours_open: hours.is_open(tenant.time_zone, now),
            next_open: hours.next_open(tenant.time_zone, now),
            tenant,
        })
    }

    /// Whether an agent is reachable and taking conversations.
    pub(crate) async fn someone_available(&self, tenant: &chat_domain::TenantId) -> Result<bool> {
        let reachable = self.reachable(tenant).await;
        Ok(!reachable.is_empty()
            && self
                .repos
                .agents
                .list(tenant)
                .await?
                .iter()
                .any(|a| a.available(&reachable)))
    }

    /// Nobody is there for a conversation starting now: no agent taking
    /// conversations, or outside the business hours.
    pub(crate) async fn nobody_there(&self, tenant: &Tenant, now: Timestamp) -> Result<bool> {
        Ok(!tenant.business_hours.is_open(tenant.time_zone, now)
            || !self.someone_available(&tenant.id).await?)
    }

    /// The customer ends their conversation.
    #[instrument(skip_all, fields(tenant = %session.tenant_id, session = %session.id))]
    pub async fn customer_close(
        &self,
        session: &ChatSession,
        send_transcript: bool,
    ) -> Result<ChatSession> {
        self.close_session(session, send_transcript).await
    }

    /// The customer rates the closed conversation, once.
    #[instrument(skip_all, fields(tenant = %session.tenant_id, session = %session.id))]
    pub async fn rate(
        &self,
        session: &ChatSession,
        score: i64,
        comment: Option<&str>,
    ) -> Result<ChatSession> {
        let (score, comment) = parse_rating(score, comment)?;
        let rated = self
            .repos
            .sessions
            .rate(&session.tenant_id, &session.id, score, comment)
            .await?;
        self.publish.rated(&rated).await;
        Ok(rated.into_inner())
    }
}
