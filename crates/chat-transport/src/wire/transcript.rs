//! Transcripts of a conversation as files: plain text, a standalone HTML
//! page, or JSON (agents only). Times are given in the tenant's time zone;
//! every message is in `seq` order.

use chat_service::Transcript;
use serde::Serialize;
use ts_rs::TS;
use utoipa::ToSchema;

use chat_domain::search::escape_html as escape;

use super::views::{Message, Session};

/// The formats a transcript comes in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TranscriptFormat {
    Text,
    Html,
    Json,
}

impl TranscriptFormat {
    pub fn parse(raw: Option<&str>) -> Option<Self> {
        match raw.unwrap_or("txt") {
            "txt" | "text" => Some(Self::Text),
            "html" => Some(Self::Html),
            "json" => Some(Self::Json),
            _ => None,
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Self::Text => "text/plain; charset=utf-8",
            Self::Html => "text/html; charset=utf-8",
            Self::Json => "application/json",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Self::Text => "txt",
            Self::Html => "html",
            Self::Json => "json",
        }
    }
}

const TIME: &str = "%Y-%m-%d %H:%M:%S %Z";

#[derive(Debug, Serialize, TS, ToSchema)]
pub struct TranscriptMessage {
    #[serde(flatten)]
    pub message: Message,
    /// `created_at` in the tenant's time zone.
    pub local_time: String,
}

/// `?format=json`.
#[derive(Debug, Serialize, TS, ToSchema)]
pub struct TranscriptJson {
    pub tenant_name: String,
    pub time_zone: String,
    pub session: Session,
    pub messages: Vec<TranscriptMessage>,
}

fn title(t: &Transcript) -> String {
    format!(
        "Conversation with {} ({})",
        t.session.customer.display_name(),
        t.tenant.name
    )
}

fn local(t: &Transcript, at: &chat_domain::Timestamp) -> String {
    t.time_zone().format(at, TIME)
}

fn who(m: &chat_domain::Message) -> String {
    match m.sender_type {
        chat_domain::SenderType::Customer => m.sender_name.clone(),
        other => format!("{} ({})", m.sender_name, other.as_str()),
    }
}

pub fn text(t: &Transcript) -> String {
    let mut out = format!(
        "{}\nStarted {}\nTimes in {}\n\n",
        title(t),
        local(t, &t.session.created_at),
        t.time_zone().name()
    );
    for m in &t.messages {
        out.push_str(&format!("[{}] {}:\n", local(t, &m.created_at), who(m)));
        for line in m.body.lines() {
            out.push_str("  ");
            out.push_str(line);
            out.push('\n');
        }
        for a in &m.attachments {
            let v = super::AttachmentView::from(a);
            out.push_str(&format!(
                "  [file] {} ({} bytes) {}\n",
                v.name, v.size, v.url
            ));
        }
        out.push('\n');
    }
    out
}

pub fn html(t: &Transcript) -> String {
    let mut out = String::from(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width\">",
    );
    out.push_str(&format!("<title>{}</title>", escape(&title(t))));
    out.push_str(
        "<style>body{font:15px/1.5 system-ui,sans-serif;max-width:44rem;margin:2rem auto;\
         padding:0 1rem;color:#1f2937}.m{margin:0 0 1rem}.h{color:#6b7280;font-size:13px}\
         .b{white-space:pre-wrap;margin:.2rem 0 0}.customer .b{color:#111827}\
         .agent .b,.bot .b{color:#1d4ed8}</style></head><body>",
    );
    out.push_str(&format!(
        "<h1>{}</h1><p class=\"h\">Started {} · times in {}</p>",
        escape(&title(t)),
        escape(&local(t, &t.session.created_at)),
        escape(t.time_zone().name())
    ));
    for m in &t.messages {
        let files: String = m
            .attachments
            .iter()
            .map(|a| {
                let v = super::AttachmentView::from(a);
                format!(
                    "<p class=\"b\">[file] <a href=\"{}\">{}</a> ({} bytes)</p>",
                    escape(&v.url),
                    escape(&v.name),
                    v.size
                )
            })
            .collect();
        out.push_str(&format!(
            "<div class=\"m {}\" data-seq=\"{}\"><div class=\"h\">{} · {}</div><p class=\"b\">{}</p>{}</div>",
            m.sender_type.as_str(),
            m.seq,
            escape(&who(m)),
            escape(&local(t, &m.created_at)),
            escape(&m.body),
            files
        ));
    }
    out.push_str("</body></html>\n");
    out
}

pub fn json(t: &Transcript) -> TranscriptJson {
    TranscriptJson {
        tenant_name: t.tenant.name.clone(),
        time_zone: t.time_zone().name().to_owned(),
        session: (&t.session).into(),
        messages: t
            .messages
            .iter()
            .map(|m| TranscriptMessage {
                message: m.into(),
                local_time: local(t, &m.created_at),
            })
            .collect(),
    }
}
