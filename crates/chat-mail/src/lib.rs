//! Outgoing email behind the domain's `Mailer` port: templates (plain
//! text and simple HTML, in `templates/`, the HTML ones extending
//! `layout.html`; each overridable by a file of the same name in a folder
//! of the operator's) write an `OutgoingEmail`,
//! and lettre sends it over SMTP.
//!
//! `CHAT__SMTP__URL` is `smtp://user:pass@host:587` (STARTTLS, required),
//! `smtps://user:pass@host:465` (TLS from the start), or
//! `smtp://host:25?tls=none` for a relay on a trusted network that speaks
//! no TLS.

use std::path::Path;
use std::time::Duration;

use async_trait::async_trait;
use chat_domain::email::{EmailContent, MailError, Mailer, OutgoingEmail};
use chat_domain::{Message, SenderType};
use lettre::message::header::{Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use minijinja::{Environment, Value, context};

/// Every template, by name, with the text shipped in the repository.
const TEMPLATES: [(&str, &str); 10] = [
    ("layout.html", include_str!("../templates/layout.html")),
    (
        "unseen.subject.txt",
        include_str!("../templates/unseen.subject.txt"),
    ),
    ("unseen.txt", include_str!("../templates/unseen.txt")),
    ("unseen.html", include_str!("../templates/unseen.html")),
    (
        "transcript.subject.txt",
        include_str!("../templates/transcript.subject.txt"),
    ),
    (
        "transcript.txt",
        include_str!("../templates/transcript.txt"),
    ),
    (
        "transcript.html",
        include_str!("../templates/transcript.html"),
    ),
    (
        "assigned.subject.txt",
        include_str!("../templates/assigned.subject.txt"),
    ),
    ("assigned.txt", include_str!("../templates/assigned.txt")),
    ("assigned.html", include_str!("../templates/assigned.html")),
];

/// An email written out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// The templates, with HTML escaped by name (`.html`).
pub struct Templates {
    env: Environment<'static>,
}

impl Templates {
    /// The shipped templates, each replaced by the file of the same name
    /// in `dir` where there is one.
    pub fn load(dir: Option<&Path>) -> Result<Self, String> {
        let mut env = Environment::new();
        for (name, shipped) in TEMPLATES {
            let source = match dir.map(|d| d.join(name)).filter(|p| p.is_file()) {
                Some(path) => std::fs::read_to_string(&path)
                    .map_err(|e| format!("template {}: {e}", path.display()))?,
                None => shipped.to_owned(),
            };
            env.add_template_owned(name, source)
                .map_err(|e| format!("template {name}: {e}"))?;
        }
        Ok(Self { env })
    }

    fn render_one(&self, name: &str, ctx: &Value) -> Result<String, String> {
        self.env
            .get_template(name)
            .and_then(|t| t.render(ctx))
            .map_err(|e| format!("template {name}: {e}"))
    }

    pub fn render(&self, email: &OutgoingEmail) -> Result<Rendered, String> {
        let brand = context! { name => &email.brand.name, color => &email.brand.color };
        let unsubscribe = email.unsubscribe_url.clone().unwrap_or_default();
        let (kind, ctx) = match &email.content {
            EmailContent::Unseen {
                messages,
                resume_url,
            } => (
                "unseen",
                context! {
                    brand, name => &email.to_name, unsubscribe_url => unsubscribe,
                    resume_url, messages => lines(messages, None),
                },
            ),
            EmailContent::Transcript {
                session,
                messages,
                zone,
            } => (
                "transcript",
                context! {
                    brand, name => &email.to_name, unsubscribe_url => unsubscribe,
                    started => zone.format(&session.created_at, "%Y-%m-%d %H:%M"),
                    zone => zone.name(),
                    messages => lines(messages, Some(*zone)),
                },
            ),
            EmailContent::Assigned {
                session,
                dashboard_url,
            } => (
                "assigned",
                context! {
                    brand, name => &email.to_name, dashboard_url,
                    customer => session.customer.name.clone().unwrap_or_else(|| "A customer".into()),
                    preview => &session.last_message_preview,
                },
            ),
        };
        let subject = self.render_one(&format!("{kind}.subject.txt"), &ctx)?;
        Ok(Rendered {
            // One line: a template's newline ends nothing here.
            subject: subject.split_whitespace().collect::<Vec<_>>().join(" "),
            text: self.render_one(&format!("{kind}.txt"), &ctx)?,
            html: self.render_one(&format!("{kind}.html"), &ctx)?,
        })
    }
}

/// Messages as the templates see them: who, when (UTC, or in the zone),
/// what, and the files' names.
fn lines(messages: &[Message], zone: Option<chat_domain::TimeZone>) -> Vec<Value> {
    messages
        .iter()
        .map(|m| {
            let time = match zone {
                Some(z) => z.format(&m.created_at, "%Y-%m-%d %H:%M"),
                None => m.created_at.format("%Y-%m-%d %H:%M UTC").to_string(),
            };
            let sender = match m.sender_type {
                SenderType::Customer => "You".to_owned(),
                _ => m.sender_name.clone(),
            };
            context! {
                sender, time, body => &m.body,
                files => m.attachments.iter().map(|a| a.name.clone()).collect::<Vec<_>>(),
            }
        })
        .collect()
}

#[derive(Clone)]
struct ListUnsubscribe(String);

impl Header for ListUnsubscribe {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe")
    }
    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self(s.to_owned()))
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), format!("<{}>", self.0))
    }
}

#[derive(Clone)]
struct ListUnsubscribePost;

impl Header for ListUnsubscribePost {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe-Post")
    }
    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self)
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "List-Unsubscribe=One-Click".to_owned())
    }
}

/// Sends over SMTP.
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    templates: Templates,
}

/// lettre's URL for ours: plain `smtp://` means STARTTLS, required;
/// `tls=none` means no TLS at all.
fn lettre_url(url: &str) -> String {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let mut params: Vec<&str> = query.split('&').filter(|p| !p.is_empty()).collect();
    let tls = params.iter().find_map(|p| p.strip_prefix("tls="));
    if tls == Some("none") {
        params.retain(|p| !p.starts_with("tls="));
    } else if tls.is_none() && base.starts_with("smtp://") {
        params.push("tls=required");
    }
    if params.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", params.join("&"))
    }
}

impl SmtpMailer {
    pub fn new(url: &str, from: &str, templates: Templates) -> Result<Self, String> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(&lettre_url(url))
            .map_err(|e| format!("CHAT__SMTP__URL: {e}"))?
            .timeout(Some(Duration::from_secs(20)))
            .build();
        let from: Mailbox = from
            .parse()
            .map_err(|e| format!("CHAT__SMTP__FROM {from:?}: {e}"))?;
        Ok(Self {
            transport,
            from,
            templates,
        })
    }
}

#[async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, email: &OutgoingEmail) -> Result<(), MailError> {
        let rendered = self.templates.render(email).map_err(MailError::Permanent)?;
        let to = Mailbox::new(
            email.to_name.clone(),
            email
                .to
                .as_str()
                .parse()
                .map_err(|e| MailError::Permanent(format!("address: {e}")))?,
        );
        let from = Mailbox::new(Some(email.brand.name.clone()), self.from.email.clone());
        let mut builder = lettre::Message::builder()
            .from(from)
            .to(to)
            .subject(rendered.subject);
        if let Some(url) = &email.unsubscribe_url {
            builder = builder
                .header(ListUnsubscribe(url.clone()))
                .header(ListUnsubscribePost);
        }
        let message = builder
            .multipart(MultiPart::alternative_plain_html(
                rendered.text,
                rendered.html,
            ))
            .map_err(|e| MailError::Permanent(format!("message: {e}")))?;
        match self.transport.send(message).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_permanent() => Err(MailError::Permanent(e.to_string())),
            Err(e) => Err(MailError::Temporary(e.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chat_domain::email::Brand;
    use chat_domain::{
        ChatSession, Customer, CustomerId, Email, MessageId, PageContext, SessionId, SessionStatus,
        TenantId,
    };

    fn message(seq: i64, sender: SenderType, body: &str) -> Message {
        Message {
            id: MessageId::new(format!("m{seq}")),
            tenant_id: TenantId::new("t"),
            session_id: SessionId::new("s"),
            seq,
            sender_type: sender,
            sender_id: None,
            sender_name: "Alex".into(),
            body: body.into(),
            client_msg_id: None,
            created_at: chrono::DateTime::from_timestamp(1_780_000_000, 0).unwrap_or_default(),
            attachments: Vec::new(),
        }
    }

    fn email(content: EmailContent) -> OutgoingEmail {
        OutgoingEmail {
            to: Email::parse("ann@example.com").expect("an address"),
            to_name: Some("Ann".into()),
            brand: Brand {
                name: "Acme <help>".into(),
                color: "#0f766e".into(),
            },
            content,
            unsubscribe_url: Some(
                "https://chat.test/api/v1/public/email/unsubscribe?token=u.1.ab".into(),
            ),
        }
    }

    #[test]
    fn unseen_replies_are_written_with_html_escaped_and_the_link() {
        let t = Templates::load(None).expect("the shipped templates");
        let r = t
            .render(&email(EmailContent::Unseen {
                messages: vec![
                    message(2, SenderType::Agent, "Your <b>order</b> ships today"),
                    message(3, SenderType::Agent, "Anything else?"),
                ],
                resume_url: Some("https://shop.test/?parley_resume=r.t.s.1.ff".into()),
            }))
            .expect("rendered");
        assert_eq!(r.subject, "Acme <help>: 2 replies to your conversation");
        assert!(
            r.text.contains("Your <b>order</b> ships today"),
            "{}",
            r.text
        );
        assert!(
            r.text
                .contains("Continue the conversation: https://shop.test/?parley_resume=r.t.s.1.ff")
        );
        assert!(
            r.html
                .contains("Your &lt;b&gt;order&lt;&#x2f;b&gt; ships today"),
            "{}",
            r.html
        );
        assert!(r.html.contains("Acme &lt;help&gt;"));
        assert!(r.html.contains("background:#0f766e"));
        assert!(r.html.contains("unsubscribe?token=u.1.ab"));
        assert!(!r.html.contains("<img"), "no tracking pixels");
    }

    #[test]
    fn an_override_folder_replaces_one_template() {
        let dir = std::env::temp_dir().join(format!("chat-mail-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a folder");
        std::fs::write(
            dir.join("transcript.subject.txt"),
            "Ihr Gespräch mit {{ brand.name }}",
        )
        .expect("written");
        let t = Templates::load(Some(&dir)).expect("loaded");
        let session = ChatSession {
            id: SessionId::new("s"),
            tenant_id: TenantId::new("t"),
            customer: Customer {
                id: CustomerId::new("c"),
                name: Some("Ann".into()),
                email: None,
                attributes: serde_json::Value::Null,
            },
            status: SessionStatus::Closed,
            assigned_agent: None,
            context: PageContext::default(),
            created_at: chrono::DateTime::from_timestamp(1_780_000_000, 0).unwrap_or_default(),
            last_activity_at: chrono::DateTime::from_timestamp(1_780_000_000, 0)
                .unwrap_or_default(),
            last_seq: 1,
            last_message_preview: None,
            bot_handed_off: false,
            receipts: Default::default(),
            unread_count: 0,
            labels: Vec::new(),
            queued_at: None,
            rating: None,
            offline: false,
        };
        let r = t
            .render(&email(EmailContent::Transcript {
                session: Box::new(session),
                messages: vec![message(1, SenderType::Customer, "Hi")],
                zone: chat_domain::TimeZone::parse("Europe/Berlin").expect("a zone"),
            }))
            .expect("rendered");
        std::fs::remove_dir_all(&dir).ok();
        assert_eq!(r.subject, "Ihr Gespräch mit Acme <help>");
        assert!(r.text.contains("You (2026-05-28"), "{}", r.text);
        assert!(r.text.contains("(Europe/Berlin)"));
    }

    #[test]
    fn urls_say_how_tls_is_used() {
        assert_eq!(
            lettre_url("smtp://u:p@mail.test:587"),
            "smtp://u:p@mail.test:587?tls=required"
        );
        assert_eq!(lettre_url("smtps://u:p@mail.test"), "smtps://u:p@mail.test");
        assert_eq!(
            lettre_url("smtp://127.0.0.1:2525?tls=none"),
            "smtp://127.0.0.1:2525"
        );
        assert_eq!(
            lettre_url("smtp://mail.test?tls=opportunistic"),
            "smtp://mail.test?tls=opportunistic"
        );
    }
}
