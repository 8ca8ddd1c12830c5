//! The agents' daily tools: canned replies, labels and private notes with
//! mentions. Notes reach agents only: they are published to the tenant's
//! agents and the mentioned agents' own sockets, never to a session's
//! customer, and no customer-facing read (messages, resume, transcript,
//! the bot) ever loads them.

use chat_domain::{
    CannedInput, CannedReply, ChatSession, Color, Label, LabelName, MessageBody, NewNote, Note,
    Scope, SessionId,
};
use tracing::instrument;

use super::ChatService;
use crate::{AgentCtx, Error, Result};

impl ChatService {
    pub async fn canned_replies(&self, ctx: &AgentCtx) -> Result<Vec<CannedReply>> {
        ctx.require(Scope::SettingsRead)?;
        Ok(self.repos.desk.canned_list(ctx.tenant_id()).await?)
    }

    fn canned_input(shortcut: &str, title: &str, body: &str) -> Result<CannedInput> {
        Ok(CannedInput::parse(shortcut, title, body)?)
    }

    pub async fn create_canned(
        &self,
        ctx: &AgentCtx,
        shortcut: &str,
        title: &str,
        body: &str,
    ) -> Result<CannedReply> {
        ctx.require(Scope::SettingsWrite)?;
        ctx.require_admin()?;
        let input = Self::canned_input(shortcut, title, body)?;
        Ok(self
            .repos
            .desk
            .canned_create(ctx.tenant_id(), input)
            .await?)
    }

    pub async fn update_canned(
        &self,
        ctx: &AgentCtx,
        id: &str,
        shortcut: &str,
        title: &str,
        body: &str,
    ) -> Result<CannedReply> {
        ctx.require(Scope::SettingsWrite)?;
        ctx.require_admin()?;
        let input = Self::canned_input(shortcut, title, body)?;
        self.repos
            .desk
            .canned_update(ctx.tenant_id(), id, input)
            .await
            .map_err(Error::missing("canned reply"))
    }

    pub async fn delete_canned(&self, ctx: &AgentCtx, id: &str) -> Result<()> {
        ctx.require(Scope::SettingsWrite)?;
        ctx.require_admin()?;
        if !self.repos.desk.canned_delete(ctx.tenant_id(), id).await? {
            return Err(Error::NotFound("canned reply"));
        }
        Ok(())
    }

    pub async fn labels(&self, ctx: &AgentCtx) -> Result<Vec<Label>> {
        ctx.require(Scope::SessionsRead)?;
        Ok(self.repos.desk.labels(ctx.tenant_id()).await?)
    }

    pub async fn create_label(&self, ctx: &AgentCtx, name: &str, color: &str) -> Result<Label> {
        ctx.require(Scope::SettingsWrite)?;
        ctx.require_admin()?;
        let name = LabelName::parse(name)
            .map_err(|e| chat_domain::ValidationError::new("name", e.message))?;
        let color = Color::parse(color)?;
        Ok(self
            .repos
            .desk
            .label_create(ctx.tenant_id(), name, color)
            .await?)
    }

    /// Replaces the session's labels; every agent hears of it.
    #[instrument(skip_all, fields(tenant = %ctx.tenant_id(), session = %id))]
    pub async fn set_labels(
        &self,
        ctx: &AgentCtx,
        id: &SessionId,
        names: &[String],
    ) -> Result<ChatSession> {
        ctx.require(Scope::SessionsWrite)?;
        if names.len() > chat_domain::desk::MAX_LABELS {
            return Err(chat_domain::ValidationError::new(
                "labels",
                format!("at most {} labels", chat_domain::desk::MAX_LABELS),
            )
            .into());
        }
        let labels = names
            .iter()
            .map(|n| LabelName::parse(n))
            .collect::<Result<Vec<_>, _>>()?;
        let updated = self
            .repos
            .desk
            .set_session_labels(ctx.tenant_id(), id, &labels)
            .await
            .map_err(Error::missing("session"))?;
        self.publish.session_updated(&updated).await;
        Ok(updated.into_inner())
    }

    /// Stores a private note after the session's newest message and sends
    /// it to the tenant's agents, and `chat.mention` to each agent it
    /// mentions.
    #[instrument(skip_all, fields(tenant = %ctx.tenant_id(), session = %id))]
    pub async fn add_note(&self, ctx: &AgentCtx, id: &SessionId, body: &str) -> Result<Note> {
        ctx.require(Scope::MessagesWrite)?;
        let body = MessageBody::parse(body)?;
        let note = self
            .repos
            .desk
            .add_note(
                ctx.tenant_id(),
                id,
                NewNote {
                    author_id: ctx.agent.id.clone(),
                    author_name: ctx.agent.name.clone(),
                    body,
                },
            )
            .await
            .map_err(Error::missing("session"))?;
        let agents = if note.body.contains('@') {
            self.repos.agents.list(ctx.tenant_id()).await?
        } else {
            Vec::new()
        };
        let mentioned = chat_domain::desk::mentioned(&note.body, &agents, &ctx.agent.id);
        self.publish.note(&note, &mentioned, &ctx.agent.name).await;
        Ok(note.into_inner())
    }

    /// A session's notes placed after `from_seq` (all of them from 0).
    pub async fn notes(&self, ctx: &AgentCtx, id: &SessionId, from_seq: i64) -> Result<Vec<Note>> {
        let session = self.agent_session(ctx, id).await?;
        self.session_notes(ctx, &session, from_seq).await
    }

    /// The notes of a session the caller has already read (a resume).
    pub async fn session_notes(
        &self,
        ctx: &AgentCtx,
        session: &ChatSession,
        from_seq: i64,
    ) -> Result<Vec<Note>> {
        ctx.require(Scope::MessagesRead)?;
        Ok(self
            .repos
            .desk
            .notes(ctx.tenant_id(), &session.id, from_seq.max(0))
            .await?)
    }
}
