//! The customer's side: starting a conversation from the widget, sending,
//! typing. A customer is known only by the session key.

use chat_domain::agent::parse_display_name;
use chat_domain::{
    ChatSession, ClientMsgId, Email, Message, NewCustomer, NewMessage, NewSession, PageContext,
    SenderType, SessionKey, SessionKeyHash, TenantSlug, VisitorLink,
};
use tracing::instrument;

use super::{ChatService, sent};
use crate::keys::{hash_secret, new_secret};
use crate::{Error, Result};

/// What a widget sends to start a conversation.
#[derive(Debug, Default, Clone)]
pub struct StartSession {
    pub tenant: String,
    pub customer_name: Option<String>,
    pub customer_email: Option<String>,
    pub attributes: Option<serde_json::Value>,
    pub page_url: Option<String>,
    pub referrer: Option<String>,
    pub locale: Option<String>,
    pub user_agent: Option<String>,
    /// The browser's `Origin`, checked against the tenant's allowed origins.
    pub origin: Option<String>,
    /// The token an earlier session gave this browser: when it is still
    /// remembered in the tenant, the session belongs to the same customer.
    pub visitor_token: Option<String>,
}

/// A started session with the customer's credentials: the session key,
/// and the visitor token the browser keeps for its next conversations.
#[derive(Debug, Clone)]
pub struct SessionStarted {
    pub session_key: String,
    pub visitor_token: String,
    pub session: ChatSession,
}

const MAX_ATTRIBUTES_BYTES: usize = 4096;

impl ChatService {
    /// Starts a session and returns its key, the customer's only credential.
    #[instrument(skip_all, fields(tenant = %input.tenant))]
    pub async fn start_session(&self, input: StartSession) -> Result<SessionStarted> {
        let slug = TenantSlug::parse(&input.tenant).map_err(|_| Error::NotFound("tenant"))?;
        let customer = NewCustomer {
            name: input
                .customer_name
                .as_deref()
                .filter(|n| !n.trim().is_empty())
                .map(|n| parse_display_name("customer.name", n))
                .transpose()?,
            email: input
                .customer_email
                .as_deref()
                .filter(|e| !e.trim().is_empty())
                .map(Email::parse)
                .transpose()?,
            attributes: check_attributes(input.attributes)?,
        };
        let context = PageContext::parse(
            input.page_url.as_deref(),
            input.referrer.as_deref(),
            input.user_agent.as_deref(),
            input.locale.as_deref(),
        )?;
        let tenant = self
            .repos
            .tenants
            .find_by_slug(&slug)
            .await?
            .ok_or(Error::NotFound("tenant"))?;
        if input
            .origin
            .as_deref()
            .is_some_and(|o| !tenant.allows_origin(o))
        {
            return Err(Error::Forbidden(
                "this site is not allowed to open the chat",
            ));
        }
        // The pre-chat form's required answers, with the API's rules. The
        // email the form requires while nobody is there is required of
        // browsers (the widget, which sends its page's `Origin`); an
        // integration starting a conversation from its own server is not
        // refused for lack of an address.
        let offline = self.nobody_there(&tenant, chrono::Utc::now()).await?;
        tenant.widget.prechat.check(
            customer.name.as_deref(),
            customer.email.as_ref().map(|e| e.as_str()),
            &customer.attributes,
            offline && input.origin.is_some(),
        )?;
        let key = new_secret();
        let returning = match input.visitor_token.as_deref() {
            Some(token) => self
                .visitor(&tenant.id, token)
                .await?
                .map(|customer| (token.to_owned(), customer)),
            None => None,
        };
        let (visitor_token, visitor) = match returning {
            Some((token, customer)) => (token, VisitorLink::Returning(customer)),
            None => {
                let token = new_secret();
                let hash = SessionKeyHash(hash_secret(&token));
                (token, VisitorLink::New(hash))
            }
        };
        let session = self
            .repos
            .sessions
            .create(
                &tenant.id,
                NewSession {
                    customer,
                    context,
                    key_hash: SessionKeyHash(hash_secret(&key)),
                    visitor,
                    queued: tenant.bot_mode == chat_domain::BotMode::Off,
                    offline,
                },
            )
            .await?;
        self.publish.session_started(&session).await;
        if session.queued_at.is_some() {
            self.spawn_drain(&tenant.id);
        }
        Ok(SessionStarted {
            session_key: key,
            visitor_token,
            session: session.into_inner(),
        })
    }

    /// The session a key opens; an unknown key is "not found".
    pub async fn customer_session(&self, key: &SessionKey) -> Result<ChatSession> {
        self.repos
            .sessions
            .find_by_key_hash(&SessionKeyHash(hash_secret(key.as_str())))
            .await?
            .ok_or(Error::NotFound("session"))
    }

    #[instrument(skip_all, fields(tenant = %session.tenant_id, session = %session.id))]
    pub async fn send_as_customer(
        &self,
        session: &ChatSession,
        body: &str,
        client_msg_id: Option<&str>,
    ) -> Result<(Message, bool)> {
        self.send_as_customer_with(session, body, client_msg_id, &[])
            .await
    }

    /// As [`ChatService::send_as_customer`], with files the customer
    /// uploaded to this session (then the text may be empty).
    #[instrument(skip_all, fields(tenant = %session.tenant_id, session = %session.id))]
    pub async fn send_as_customer_with(
        &self,
        session: &ChatSession,
        body: &str,
        client_msg_id: Option<&str>,
        attachment_ids: &[String],
    ) -> Result<(Message, bool)> {
        let attachment_ids = super::attachments::parse_ids(attachment_ids)?;
        let new = NewMessage {
            sender_type: SenderType::Customer,
            sender_id: Some(session.customer.id.to_string()),
            sender_name: session.customer.display_name(),
            body: super::attachments::body(body, &attachment_ids)?,
            client_msg_id: client_msg_id.map(ClientMsgId::parse).transpose()?,
            attachment_ids,
        };
        let (message, created) = sent(self.append(&session.tenant_id, &session.id, new).await?);
        // Acknowledged first; the bot's answer follows as its own event.
        if created && session.assigned_agent.is_none() && !session.bot_handed_off {
            self.spawn_bot(session.clone(), message.clone());
        }
        Ok((message, created))
    }

    /// Publishes typing state, within the session's and the tenant's
    /// typing limits. Nothing is stored.
    pub async fn customer_typing(&self, session: &ChatSession, is_typing: bool) {
        if self.typing.allow(&session.tenant_id, &session.id) {
            self.publish.customer_typing(session, is_typing).await;
        }
    }
}

fn check_attributes(raw: Option<serde_json::Value>) -> Result<serde_json::Value> {
    let value = raw.unwrap_or(serde_json::Value::Object(Default::default()));
    if !value.is_object() {
        return Err(
            chat_domain::ValidationError::new("customer.attributes", "must be an object").into(),
        );
    }
    if value.to_string().len() > MAX_ATTRIBUTES_BYTES {
        return Err(chat_domain::ValidationError::new(
            "customer.attributes",
            format!("must be at most {MAX_ATTRIBUTES_BYTES} bytes of JSON"),
        )
        .into());
    }
    Ok(value)
}
