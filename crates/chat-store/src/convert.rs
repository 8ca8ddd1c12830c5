//! Conversions between SeaORM models and domain types, and time columns.

use chat_domain::tenant::AllowedOrigin;
use chat_domain::{
    Agent, AgentId, AgentRef, Article, ArticleEmbedding, BotMode, ChatSession, ClientMsgId,
    Customer, CustomerId, Email, Message, MessageId, PageContext, Receipts, RepoError, RepoResult,
    Role, SenderType, SessionId, SessionStatus, Tenant, TenantId, TenantSlug, TimeZone, Timestamp,
};

use crate::entity::{agent, attachment, chat_session, customer, kb_article, message, tenant};

pub fn to_micros(t: Timestamp) -> i64 {
    t.timestamp_micros()
}

pub fn from_micros(v: i64) -> RepoResult<Timestamp> {
    chrono::DateTime::from_timestamp_micros(v).ok_or_else(|| corrupt("timestamp", &v.to_string()))
}

pub fn now_micros() -> i64 {
    to_micros(chrono::Utc::now())
}

pub(crate) fn corrupt(what: &str, value: &str) -> RepoError {
    RepoError::Other(format!("stored {what} is invalid: {value:?}"))
}

pub fn tenant(m: tenant::Model) -> RepoResult<Tenant> {
    let origins: Vec<String> = serde_json::from_str(&m.allowed_origins)
        .map_err(|_| corrupt("allowed_origins", &m.allowed_origins))?;
    Ok(Tenant {
        id: TenantId::new(m.id),
        slug: TenantSlug::parse(&m.slug).map_err(|_| corrupt("slug", &m.slug))?,
        name: m.name,
        allowed_origins: origins
            .iter()
            .map(|o| AllowedOrigin::parse(o).map_err(|_| corrupt("origin", o)))
            .collect::<RepoResult<_>>()?,
        bot_mode: BotMode::parse(&m.bot_mode).map_err(|_| corrupt("bot_mode", &m.bot_mode))?,
        bot_name: m.bot_name,
        time_zone: TimeZone::parse(&m.time_zone).map_err(|_| corrupt("time_zone", &m.time_zone))?,
        created_at: from_micros(m.created_at)?,
        assignment: chat_domain::AssignmentSettings {
            mode: chat_domain::AssignmentMode::parse(&m.assignment)
                .map_err(|_| corrupt("assignment", &m.assignment))?,
            default_max_concurrent: u32::try_from(m.default_max_concurrent).map_err(|_| {
                corrupt(
                    "default_max_concurrent",
                    &m.default_max_concurrent.to_string(),
                )
            })?,
        },
        widget: serde_json::from_str(&m.widget_settings)
            .ok()
            .and_then(|v| chat_domain::widget::WidgetSettings::from_json(&v).ok())
            .ok_or_else(|| corrupt("widget_settings", &m.widget_settings))?,
        business_hours: serde_json::from_str(&m.business_hours)
            .ok()
            .and_then(|v| chat_domain::widget::BusinessHours::from_json(&v).ok())
            .ok_or_else(|| corrupt("business_hours", &m.business_hours))?,
    })
}

pub fn article(m: kb_article::Model) -> RepoResult<Article> {
    Ok(Article {
        keywords: serde_json::from_str(&m.keywords)
            .map_err(|_| corrupt("keywords", &m.keywords))?,
        id: m.id,
        tenant_id: TenantId::new(m.tenant_id),
        title: m.title,
        body: m.body,
        draft: m.draft,
        embedding: m
            .embedding_model
            .zip(m.embedding)
            .and_then(|(model, bytes)| embedding_from_bytes(model, &bytes)),
        updated_at: from_micros(m.updated_at)?,
    })
}

/// Each vector as its largest magnitude (f32, little endian) and then its
/// values in 127ths of that, one signed byte each: a quarter of the floats'
/// size, which keeps an article of 200 sentences within MySQL's 64 KiB BLOB.
pub fn embedding_to_bytes(e: &ArticleEmbedding) -> Option<Vec<u8>> {
    if e.dims == 0 || e.dims > 0xffff || !e.vectors.len().is_multiple_of(e.dims) {
        return None;
    }
    let mut out = Vec::with_capacity(2 + e.vectors.len() / e.dims * (4 + e.dims));
    out.extend_from_slice(&u16::try_from(e.dims).ok()?.to_le_bytes());
    for v in e.vectors.chunks(e.dims) {
        let max = v.iter().fold(0f32, |m, x| m.max(x.abs()));
        let scale = if max > 0.0 { max / 127.0 } else { 1.0 };
        out.extend_from_slice(&scale.to_le_bytes());
        for x in v {
            // In -127..=127 by construction.
            #[allow(clippy::cast_possible_truncation, reason = "rounded and clamped first")]
            let q = (x / scale).round().clamp(-127.0, 127.0) as i8;
            out.extend_from_slice(&q.to_le_bytes());
        }
    }
    Some(out)
}

/// `None` for bytes that are not a whole number of vectors (the article's
/// vectors are then recomputed in memory).
pub fn embedding_from_bytes(model: String, bytes: &[u8]) -> Option<ArticleEmbedding> {
    let dims = usize::from(u16::from_le_bytes(bytes.get(..2)?.try_into().ok()?));
    let rest = &bytes[2..];
    if dims == 0 || !rest.len().is_multiple_of(4 + dims) {
        return None;
    }
    let mut vectors = Vec::with_capacity(rest.len() / (4 + dims) * dims);
    for chunk in rest.chunks(4 + dims) {
        let scale = f32::from_le_bytes(chunk[..4].try_into().ok()?);
        vectors.extend(
            chunk[4..]
                .iter()
                .map(|b| f32::from(i8::from_le_bytes([*b])) * scale),
        );
    }
    Some(ArticleEmbedding {
        model,
        dims,
        vectors,
    })
}

pub fn agent(m: agent::Model) -> RepoResult<Agent> {
    Ok(Agent {
        id: AgentId::new(m.id),
        tenant_id: TenantId::new(m.tenant_id),
        name: m.name,
        email: Email::parse(&m.address).map_err(|_| corrupt("email", &m.address))?,
        role: Role::parse(&m.role).map_err(|_| corrupt("role", &m.role))?,
        active: m.active,
        created_at: from_micros(m.created_at)?,
        status: chat_domain::AgentStatus::parse(&m.status)
            .map_err(|_| corrupt("status", &m.status))?,
        max_concurrent: m.max_concurrent.and_then(|n| u32::try_from(n).ok()),
        last_assigned_at: m.last_assigned_at.map(from_micros).transpose()?,
    })
}

pub fn session(s: chat_session::Model, c: customer::Model) -> RepoResult<ChatSession> {
    let assigned_agent = match (s.assigned_agent_id, s.assigned_agent_name) {
        (Some(id), Some(name)) => Some(AgentRef {
            id: AgentId::new(id),
            name,
        }),
        _ => None,
    };
    Ok(ChatSession {
        id: SessionId::new(s.id),
        tenant_id: TenantId::new(s.tenant_id),
        customer: Customer {
            id: CustomerId::new(c.id),
            name: c.name,
            email: c
                .email
                .map(|e| Email::parse(&e).map_err(|_| corrupt("email", &e)))
                .transpose()?,
            attributes: serde_json::from_str(&c.attributes)
                .map_err(|_| corrupt("attributes", &c.attributes))?,
        },
        status: SessionStatus::parse(&s.status).map_err(|_| corrupt("status", &s.status))?,
        assigned_agent,
        context: PageContext {
            page_url: s.page_url,
            referrer: s.referrer,
            user_agent: s.user_agent,
            locale: s.locale,
        },
        created_at: from_micros(s.created_at)?,
        last_activity_at: from_micros(s.last_activity_at)?,
        last_seq: s.last_seq,
        last_message_preview: s.last_message_preview,
        bot_handed_off: s.bot_handed_off,
        receipts: Receipts {
            customer_delivered_seq: s.customer_delivered_seq,
            customer_read_seq: s.customer_read_seq,
            agent_delivered_seq: s.agent_delivered_seq,
            agent_read_seq: s.agent_read_seq,
        },
        unread_count: s.unread_count,
        labels: serde_json::from_str(&s.labels).map_err(|_| corrupt("labels", &s.labels))?,
        queued_at: s.queued_at.map(from_micros).transpose()?,
        rating: match (s.rating_score, s.rated_at) {
            (Some(score), Some(at)) => Some(chat_domain::widget::Rating {
                score: u8::try_from(score)
                    .map_err(|_| corrupt("rating_score", &score.to_string()))?,
                comment: s.rating_comment,
                rated_at: from_micros(at)?,
            }),
            _ => None,
        },
        offline: s.offline,
    })
}

pub fn message(m: message::Model) -> RepoResult<Message> {
    let attachments = message_attachments(&m.attachments, &m.tenant_id, &m.session_id, &m.id)?;
    Ok(Message {
        id: MessageId::new(m.id),
        tenant_id: TenantId::new(m.tenant_id),
        session_id: SessionId::new(m.session_id),
        seq: m.seq,
        sender_type: SenderType::parse(&m.sender_type)
            .ok_or_else(|| corrupt("sender_type", &m.sender_type))?,
        sender_id: m.sender_id,
        sender_name: m.sender_name,
        body: m.body,
        client_msg_id: m
            .client_msg_id
            .map(|c| ClientMsgId::parse(&c).map_err(|_| corrupt("client_msg_id", &c)))
            .transpose()?,
        created_at: from_micros(m.created_at)?,
        attachments,
    })
}

pub fn attachment(m: attachment::Model) -> RepoResult<chat_domain::Attachment> {
    Ok(chat_domain::Attachment {
        id: chat_domain::AttachmentId::new(m.id),
        tenant_id: TenantId::new(m.tenant_id),
        session_id: SessionId::new(m.session_id),
        message_id: m.message_id.map(MessageId::new),
        uploader: SenderType::parse(&m.uploader_type)
            .ok_or_else(|| corrupt("uploader_type", &m.uploader_type))?,
        name: m.name,
        content_type: m.content_type,
        size: u64::try_from(m.size).map_err(|_| corrupt("size", &m.size.to_string()))?,
        width: m.width.and_then(|w| u32::try_from(w).ok()),
        height: m.height.and_then(|h| u32::try_from(h).ok()),
        token: m.token,
        storage_key: m.storage_key,
        created_at: from_micros(m.created_at)?,
    })
}

/// The JSON kept on a message row for its files.
pub fn attachments_json(list: &[attachment::Model]) -> String {
    serde_json::Value::Array(
        list.iter()
            .map(|a| {
                serde_json::json!({
                    "id": a.id, "uploader": a.uploader_type, "name": a.name,
                    "content_type": a.content_type, "size": a.size, "width": a.width,
                    "height": a.height, "token": a.token, "storage_key": a.storage_key,
                    "created_at": a.created_at,
                })
            })
            .collect(),
    )
    .to_string()
}

fn message_attachments(
    raw: &str,
    tenant: &str,
    session: &str,
    message: &str,
) -> RepoResult<Vec<chat_domain::Attachment>> {
    let items: Vec<serde_json::Value> =
        serde_json::from_str(raw).map_err(|_| corrupt("attachments", raw))?;
    items
        .into_iter()
        .map(|v| {
            let s = |k: &str| {
                v[k].as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| corrupt("attachments", raw))
            };
            let int = |k: &str| v[k].as_i64().and_then(|n| i32::try_from(n).ok());
            attachment(attachment::Model {
                id: s("id")?,
                tenant_id: tenant.to_owned(),
                session_id: session.to_owned(),
                message_id: Some(message.to_owned()),
                uploader_type: s("uploader")?,
                name: s("name")?,
                content_type: s("content_type")?,
                size: v["size"]
                    .as_i64()
                    .ok_or_else(|| corrupt("attachments", raw))?,
                width: int("width"),
                height: int("height"),
                token: s("token")?,
                storage_key: s("storage_key")?,
                created_at: v["created_at"]
                    .as_i64()
                    .ok_or_else(|| corrupt("attachments", raw))?,
            })
        })
        .collect()
}

pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}
