//! Outgoing email: deciding what to send (agents' replies the customer has
//! not received, transcripts, conversations given to an agent who is
//! away), sending the outbox, and the signed links emails carry (back into
//! the conversation, and out of further email).
//!
//! Nothing here blocks a request: decisions queue a row in the outbox, and
//! the binary's tasks call [`ChatService::queue_unseen_emails`] and
//! [`ChatService::send_due_emails`]. Without a mailer every part is off.

use std::sync::Arc;
use std::time::Duration;

use chat_domain::email::{
    Brand, ClaimedEmail, EmailContent, EmailKind, EmailOutcome, MailError, Mailer, NewEmail,
    OutgoingEmail, next_email_attempt,
};
use chat_domain::{
    AgentRef, ChatSession, CustomerId, Scope, SenderType, SessionId, TenantId, Timestamp,
};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use tracing::instrument;

use super::ChatService;
use crate::keys::{hash_secret, new_secret};
use crate::{AgentCtx, Error, Result, SessionStarted};

/// How email behaves.
#[derive(Debug, Clone)]
pub struct EmailSettings {
    /// How long an agent's reply may stay unreceived before it is emailed.
    pub unseen_delay: Duration,
    /// This server as customers' browsers reach it (unsubscribe links),
    /// without a trailing slash.
    pub public_url: String,
    /// How long the link back into a conversation works.
    pub link_ttl: Duration,
    /// The sender's address, shown in the settings.
    pub from: String,
}

/// Email, once a mailer is set.
pub(crate) struct Emailing {
    mailer: Arc<dyn Mailer>,
    settings: EmailSettings,
    /// The HMAC key of the links (shared by every node).
    key: Vec<u8>,
}

/// Replies older than this are never emailed (a server that was down for
/// a week does not send last week's).
const UNSEEN_HORIZON: chrono::Duration = chrono::Duration::days(2);
const LEASE: Duration = Duration::from_secs(60);
const BATCH: u64 = 20;
/// The parameter that carries the link's token on the site's page.
pub const RESUME_PARAM: &str = "parley_resume";

impl Emailing {
    fn sign(&self, payload: &str) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.key)
            .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
        mac.update(payload.as_bytes());
        let tag = mac.finalize().into_bytes();
        tag.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// `payload.signature`, if the signature is this server's.
    fn verify<'a>(&self, token: &'a str) -> Option<&'a str> {
        let (payload, sig) = token.rsplit_once('.')?;
        let bytes: Vec<u8> = (0..sig.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(sig.get(i..i + 2)?, 16).ok())
            .collect::<Option<_>>()?;
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.key).ok()?;
        mac.update(payload.as_bytes());
        mac.verify_slice(&bytes).ok()?;
        Some(payload)
    }
}

/// The token's parts, split on `.`, when there are exactly `n`.
fn parts(payload: &str, n: usize) -> Option<Vec<&str>> {
    let p: Vec<&str> = payload.split('.').collect();
    (p.len() == n).then_some(p)
}

impl ChatService {
    /// Sends email through `mailer`; `key` signs the links (the same on
    /// every node: see `EmailRepository::shared_secret`).
    pub fn with_email(
        mut self,
        mailer: Arc<dyn Mailer>,
        settings: EmailSettings,
        key: String,
    ) -> Self {
        self.email = Some(Arc::new(Emailing {
            mailer,
            settings,
            key: key.into_bytes(),
        }));
        self
    }

    /// The key links are signed with: made by the first node, read by the
    /// others.
    pub async fn email_link_key(&self) -> Result<String> {
        Ok(self
            .repos
            .email
            .shared_secret("email_links", new_secret())
            .await?)
    }

    /// Whether outgoing email is set up, and how (the settings page).
    pub fn email_setup(&self, ctx: &AgentCtx) -> Result<Option<EmailSettings>> {
        ctx.require(Scope::SettingsRead)?;
        Ok(self.email.as_ref().map(|e| e.settings.clone()))
    }

    /// Whether the signed-in agent wants an email for a conversation given
    /// to them while away.
    pub async fn email_when_offline(&self, ctx: &AgentCtx) -> Result<bool> {
        ctx.require(Scope::AgentsRead)?;
        Ok(self
            .repos
            .email
            .email_when_offline(ctx.tenant_id(), &ctx.agent.id)
            .await?)
    }

    pub async fn set_email_when_offline(&self, ctx: &AgentCtx, on: bool) -> Result<bool> {
        ctx.require_login()?;
        if !self
            .repos
            .email
            .set_email_when_offline(ctx.tenant_id(), &ctx.agent.id, on)
            .await?
        {
            return Err(Error::NotFound("agent"));
        }
        Ok(on)
    }

    /// The link that brings the customer back to the conversation: the
    /// page it started on with the signed token as a parameter, or `None`
    /// when the page is unknown.
    fn resume_url(&self, session: &ChatSession, now: Timestamp) -> Option<String> {
        let email = self.email.as_ref()?;
        let page = session.context.page_url.as_deref()?;
        if !(page.starts_with("https://") || page.starts_with("http://")) {
            return None;
        }
        let expires = now.timestamp()
            + i64::try_from(email.settings.link_ttl.as_secs()).unwrap_or(i64::MAX / 4);
        let payload = format!(
            "r.{}.{}.{expires}",
            session.tenant_id.as_str(),
            session.id.as_str()
        );
        let token = format!("{payload}.{}", email.sign(&payload));
        let page = page.split('#').next().unwrap_or(page);
        let sep = if page.contains('?') { '&' } else { '?' };
        Some(format!("{page}{sep}{RESUME_PARAM}={token}"))
    }

    fn unsubscribe_url(&self, customer: &CustomerId) -> Option<String> {
        let email = self.email.as_ref()?;
        let payload = format!("u.{}", customer.as_str());
        Some(format!(
            "{}/api/v1/public/email/unsubscribe?token={payload}.{}",
            email.settings.public_url,
            email.sign(&payload)
        ))
    }

    /// The customer follows the link of an email: the conversation gets a
    /// new key for this browser (the old one stops working).
    #[instrument(skip_all)]
    pub async fn resume_from_link(&self, token: &str, now: Timestamp) -> Result<SessionStarted> {
        let email = self.email.as_ref().ok_or(Error::NotFound("link"))?;
        let payload = email.verify(token.trim()).ok_or(Error::NotFound("link"))?;
        let p = parts(payload, 4)
            .filter(|p| p[0] == "r")
            .ok_or(Error::NotFound("link"))?;
        let expires: i64 = p[3].parse().map_err(|_| Error::NotFound("link"))?;
        if now.timestamp() > expires {
            return Err(Error::Gone("this link has expired"));
        }
        let (tenant, id) = (TenantId::new(p[1]), SessionId::new(p[2]));
        let key = new_secret();
        let found = self
            .repos
            .email
            .rekey_session(&tenant, &id, chat_domain::SessionKeyHash(hash_secret(&key)))
            .await?;
        if !found {
            return Err(Error::NotFound("link"));
        }
        let session = self
            .repos
            .sessions
            .find(&tenant, &id)
            .await?
            .ok_or(Error::NotFound("link"))?;
        Ok(SessionStarted {
            session_key: key,
            visitor_token: String::new(),
            session,
        })
    }

    /// The customer's unsubscribe link: no more email to them.
    #[instrument(skip_all)]
    pub async fn unsubscribe(&self, token: &str) -> Result<()> {
        let email = self.email.as_ref().ok_or(Error::NotFound("link"))?;
        let payload = email.verify(token.trim()).ok_or(Error::NotFound("link"))?;
        let p = parts(payload, 2)
            .filter(|p| p[0] == "u")
            .ok_or(Error::NotFound("link"))?;
        if !self.repos.email.unsubscribe(&CustomerId::new(p[1])).await? {
            return Err(Error::NotFound("link"));
        }
        Ok(())
    }

    /// Queues the transcript for the customer of a closed conversation, if
    /// email is set up and they left an address they did not unsubscribe.
    pub(crate) async fn queue_transcript(&self, session: &ChatSession) -> Result<()> {
        if self.email.is_none() {
            return Ok(());
        }
        let address = self
            .repos
            .email
            .customer_address(&session.tenant_id, &session.customer.id)
            .await?;
        if address.is_some() {
            self.repos
                .email
                .enqueue(
                    &session.tenant_id,
                    NewEmail {
                        kind: EmailKind::Transcript,
                        session_id: session.id.clone(),
                        agent_id: None,
                        from_seq: 0,
                        to_seq: session.last_seq,
                        dedupe_key: format!(
                            "transcript:{}:{}",
                            session.id.as_str(),
                            session.last_activity_at.timestamp_micros()
                        ),
                    },
                )
                .await?;
        }
        Ok(())
    }

    /// A conversation was given to `agent`: if they are away from the
    /// dashboard and want it, they get an email.
    pub(crate) async fn notify_assigned(&self, session: &ChatSession, agent: &AgentRef) {
        if self.email.is_none() {
            return;
        }
        let reachable = self.reachable(&session.tenant_id).await;
        if reachable.contains(&agent.id) {
            return;
        }
        let wanted = self
            .repos
            .email
            .email_when_offline(&session.tenant_id, &agent.id)
            .await
            .unwrap_or(false);
        if !wanted {
            return;
        }
        let queued = self
            .repos
            .email
            .enqueue(
                &session.tenant_id,
                NewEmail {
                    kind: EmailKind::Assigned,
                    session_id: session.id.clone(),
                    agent_id: Some(agent.id.clone()),
                    from_seq: 0,
                    to_seq: session.last_seq,
                    dedupe_key: format!(
                        "assigned:{}:{}:{}",
                        session.id.as_str(),
                        agent.id.as_str(),
                        session.last_activity_at.timestamp_micros()
                    ),
                },
            )
            .await;
        if let Err(e) = queued {
            tracing::warn!(error = %e, "the assignment email was not queued");
        }
    }

    /// Queues the emails of agents' replies that customers have not
    /// received within the delay; returns how many.
    #[instrument(skip_all)]
    pub async fn queue_unseen_emails(&self, now: Timestamp) -> Result<usize> {
        let Some(email) = self.email.as_ref() else {
            return Ok(0);
        };
        let delay = chrono::Duration::from_std(email.settings.unseen_delay)
            .unwrap_or(chrono::Duration::seconds(120));
        let due = self
            .repos
            .email
            .unseen_due(now - UNSEEN_HORIZON, now - delay, 100)
            .await?;
        let mut queued = 0;
        for d in &due {
            if self.repos.email.queue_unseen(d).await? {
                queued += 1;
            }
        }
        Ok(queued)
    }

    /// Sends what is due in the outbox; returns how many were sent.
    #[instrument(skip_all)]
    pub async fn send_due_emails(&self, now: Timestamp) -> Result<usize> {
        let Some(email) = self.email.clone() else {
            return Ok(0);
        };
        let claimed = self.repos.email.claim_emails(now, BATCH, LEASE).await?;
        let mut sent = 0;
        for job in claimed {
            let outcome = match self.compose(&job, now).await {
                Ok(Some(out)) => match email.mailer.send(&out).await {
                    Ok(()) => EmailOutcome::Sent,
                    Err(MailError::Temporary(e)) => EmailOutcome::Failed {
                        retry_at: next_email_attempt(job.created_at, job.attempts + 1, now),
                        error: e,
                    },
                    Err(MailError::Permanent(e)) => EmailOutcome::Failed {
                        error: e,
                        retry_at: None,
                    },
                },
                Ok(None) => EmailOutcome::Dropped("nothing to send"),
                Err(e) => EmailOutcome::Failed {
                    retry_at: next_email_attempt(job.created_at, job.attempts + 1, now),
                    error: e.to_string(),
                },
            };
            if outcome == EmailOutcome::Sent {
                sent += 1;
            }
            let kind = job.kind.as_str();
            let result = match &outcome {
                EmailOutcome::Sent => "sent",
                EmailOutcome::Dropped(_) => "dropped",
                EmailOutcome::Failed {
                    retry_at: Some(_), ..
                } => "retry",
                EmailOutcome::Failed { retry_at: None, .. } => "failed",
            };
            metrics::counter!("chat_emails_total", "kind" => kind, "result" => result).increment(1);
            if let EmailOutcome::Failed { error, .. } = &outcome {
                tracing::warn!(email = %job.id, kind, error = %error, "an email was not sent");
            }
            self.repos.email.record_email(&job.id, now, outcome).await?;
        }
        Ok(sent)
    }

    /// What a queued email says now (`None`: nothing any more).
    async fn compose(&self, job: &ClaimedEmail, now: Timestamp) -> Result<Option<OutgoingEmail>> {
        let Some(session) = self
            .repos
            .sessions
            .find(&job.tenant_id, &job.session_id)
            .await?
        else {
            return Ok(None);
        };
        let tenant = self.tenant(&job.tenant_id).await?;
        let brand = Brand {
            name: tenant
                .widget
                .title
                .clone()
                .filter(|n| !n.trim().is_empty())
                .unwrap_or_else(|| tenant.name.clone()),
            color: tenant
                .widget
                .primary_color
                .as_ref()
                .map(|c| c.as_str().to_owned())
                .unwrap_or_else(|| "#4f46e5".to_owned()),
        };
        if job.kind == EmailKind::Assigned {
            let Some(agent_id) = &job.agent_id else {
                return Ok(None);
            };
            let Some(agent) = self.repos.agents.find(&job.tenant_id, agent_id).await? else {
                return Ok(None);
            };
            if !agent.active {
                return Ok(None);
            }
            let public = self
                .email
                .as_ref()
                .map(|e| e.settings.public_url.clone())
                .unwrap_or_default();
            return Ok(Some(OutgoingEmail {
                to: agent.email.clone(),
                to_name: Some(agent.name.clone()),
                brand,
                content: EmailContent::Assigned {
                    dashboard_url: format!("{public}/?session={}", session.id.as_str()),
                    session: Box::new(session),
                },
                unsubscribe_url: None,
            }));
        }
        let Some(to) = self
            .repos
            .email
            .customer_address(&job.tenant_id, &session.customer.id)
            .await?
        else {
            return Ok(None);
        };
        let content = match job.kind {
            EmailKind::Unseen => {
                // What the customer received since it was queued is left
                // out; all of it received: nothing to send.
                let after = job.from_seq.max(session.receipts.customer_delivered_seq);
                let messages: Vec<_> = self
                    .repos
                    .messages
                    .list(&job.tenant_id, &job.session_id, after, super::MAX_PAGE)
                    .await?
                    .into_iter()
                    .filter(|m| m.sender_type == SenderType::Agent && m.seq <= job.to_seq)
                    .collect();
                if messages.is_empty() {
                    return Ok(None);
                }
                EmailContent::Unseen {
                    messages,
                    resume_url: self.resume_url(&session, now),
                }
            }
            _ => {
                let messages = self
                    .repos
                    .messages
                    .list(
                        &job.tenant_id,
                        &job.session_id,
                        0,
                        u64::try_from(super::MAX_TRANSCRIPT).unwrap_or(u64::MAX),
                    )
                    .await?;
                EmailContent::Transcript {
                    session: Box::new(session.clone()),
                    messages,
                    zone: tenant.time_zone,
                }
            }
        };
        Ok(Some(OutgoingEmail {
            to,
            to_name: session.customer.name.clone(),
            brand,
            content,
            unsubscribe_url: self.unsubscribe_url(&session.customer.id),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn emailing() -> Emailing {
        struct Nobody;
        #[async_trait::async_trait]
        impl Mailer for Nobody {
            async fn send(&self, _: &OutgoingEmail) -> std::result::Result<(), MailError> {
                Ok(())
            }
        }
        Emailing {
            mailer: Arc::new(Nobody),
            settings: EmailSettings {
                unseen_delay: Duration::from_secs(120),
                public_url: "http://chat.test".into(),
                link_ttl: Duration::from_secs(3600),
                from: "help@chat.test".into(),
            },
            key: b"key".to_vec(),
        }
    }

    #[test]
    fn only_this_servers_signatures_verify() {
        let e = emailing();
        let token = format!("u.c1.{}", e.sign("u.c1"));
        assert_eq!(e.verify(&token), Some("u.c1"));
        assert_eq!(e.verify(&token.replace("u.c1", "u.c2")), None);
        assert_eq!(e.verify("u.c1"), None);
        assert_eq!(e.verify("u.c1.zz"), None);
        let other = Emailing {
            key: b"other".to_vec(),
            ..emailing()
        };
        assert_eq!(other.verify(&token), None);
    }
}
