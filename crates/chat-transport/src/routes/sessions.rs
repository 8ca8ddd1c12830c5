//! Agents' view of conversations.

use actix_web::{HttpRequest, HttpResponse, web};
use validator::Validate;

use super::{sent, transcript_file};
use crate::AppState;
use crate::error::{ApiError, ApiResult, agent_id, session_id};
use crate::extract::Agent;
use crate::json::optional_body;
use crate::wire::transcript::TranscriptFormat;
use crate::wire::{
    AssignRequest, MessageListResponse, MessagesQuery, SendMessageRequest, SessionListResponse,
    SessionResponse, SessionsQuery,
};
use crate::wire::{ReadRequest, TranscriptQuery};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        super::attachments::agent_routes(web::scope("/api/v1/chat/sessions"))
            .route("", web::get().to(list))
            .route("/{id}", web::get().to(get))
            .route("/{id}/history", web::get().to(history))
            .route("/{id}/messages", web::get().to(messages))
            .route("/{id}/messages", web::post().to(send))
            .route("/{id}/assign", web::post().to(assign))
            .route("/{id}/close", web::post().to(close))
            .route("/{id}/reopen", web::post().to(reopen))
            .route("/{id}/read", web::post().to(read))
            .route("/{id}/transcript", web::get().to(transcript))
            .route("/{id}/labels", web::put().to(super::desk::set_labels))
            .route("/{id}/notes", web::get().to(super::desk::notes))
            .route("/{id}/notes", web::post().to(super::desk::add_note))
            .route("/{id}/suggestions", web::get().to(super::kb::suggestions)),
    );
}

fn one(session: &chat_domain::ChatSession) -> HttpResponse {
    HttpResponse::Ok().json(SessionResponse {
        session: session.into(),
    })
}

fn many(sessions: &[chat_domain::ChatSession]) -> HttpResponse {
    HttpResponse::Ok().json(SessionListResponse {
        sessions: sessions.iter().map(Into::into).collect(),
    })
}

#[utoipa::path(
    get,
    path = "/api/v1/chat/sessions",
    tag = "sessions",
    summary = "The inbox",
    params(crate::wire::SessionsQuery),
    responses((status = 200, body = crate::wire::SessionListResponse))
)]
pub async fn list(
    state: web::Data<AppState>,
    Agent(ctx): Agent,
    q: web::Query<SessionsQuery>,
) -> ApiResult<HttpResponse> {
    let sessions = state
        .chat
        .list_sessions(
            &ctx,
            q.status.as_deref(),
            q.assigned.as_deref(),
            q.q.as_deref(),
            q.label.as_deref(),
        )
        .await?;
    Ok(many(&sessions))
}

#[utoipa::path(
    get,
    path = "/api/v1/chat/sessions/{id}",
    tag = "sessions",
    summary = "One conversation",
    params(("id" = String, Path)),
    responses((status = 200, body = crate::wire::SessionResponse))
)]
pub async fn get(
    state: web::Data<AppState>,
    Agent(ctx): Agent,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    Ok(one(&state
        .chat
        .agent_session(&ctx, &session_id(&id)?)
        .await?))
}

/// The same customer's other conversations.
#[utoipa::path(
    get,
    path = "/api/v1/chat/sessions/{id}/history",
    tag = "sessions",
    summary = "The customer's other conversations",
    params(("id" = String, Path)),
    responses((status = 200, body = crate::wire::SessionListResponse))
)]
pub async fn history(
    state: web::Data<AppState>,
    Agent(ctx): Agent,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let session = state.chat.agent_session(&ctx, &session_id(&id)?).await?;
    Ok(many(&state.chat.customer_history(&ctx, &session).await?))
}

#[utoipa::path(
    get,
    path = "/api/v1/chat/sessions/{id}/messages",
    tag = "sessions",
    summary = "A conversation's messages",
    params(("id" = String, Path), crate::wire::MessagesQuery),
    responses((status = 200, body = crate::wire::MessageListResponse))
)]
pub async fn messages(
    state: web::Data<AppState>,
    Agent(ctx): Agent,
    id: web::Path<String>,
    q: web::Query<MessagesQuery>,
) -> ApiResult<HttpResponse> {
    let messages = state
        .chat
        .agent_messages(&ctx, &session_id(&id)?, q.after_seq, q.before_seq, q.limit)
        .await?;
    Ok(HttpResponse::Ok().json(MessageListResponse {
        messages: messages.iter().map(Into::into).collect(),
    }))
}

#[utoipa::path(
    post,
    path = "/api/v1/chat/sessions/{id}/messages",
    tag = "sessions",
    summary = "Answer as the agent (200: a retry of a stored client_msg_id)",
    request_body = crate::wire::SendMessageRequest,
    params(("id" = String, Path)),
    responses((status = 201, body = crate::wire::MessageResponse), (status = 200, body = crate::wire::MessageResponse))
)]
pub async fn send(
    state: web::Data<AppState>,
    Agent(ctx): Agent,
    id: web::Path<String>,
    body: web::Json<SendMessageRequest>,
) -> ApiResult<HttpResponse> {
    body.validate()?;
    state.limit_agent_send(&ctx.agent.id).await?;
    let (message, created) = state
        .chat
        .send_as_agent_with(
            &ctx,
            &session_id(&id)?,
            &body.body,
            body.client_msg_id.as_deref(),
            &body.attachment_ids,
        )
        .await?;
    Ok(sent(&message, created))
}

#[utoipa::path(
    post,
    path = "/api/v1/chat/sessions/{id}/assign",
    tag = "sessions",
    summary = "Accept (no body), or assign or transfer to an agent",
    request_body(content = Option<crate::wire::AssignRequest>, content_type = "application/json"),
    params(("id" = String, Path)),
    responses((status = 200, body = crate::wire::SessionResponse))
)]
pub async fn assign(
    req: HttpRequest,
    state: web::Data<AppState>,
    Agent(ctx): Agent,
    id: web::Path<String>,
    body: web::Bytes,
) -> ApiResult<HttpResponse> {
    let body: AssignRequest = optional_body(&req, &body)?;
    let id = session_id(&id)?;
    let to = body.agent_id.as_deref().map(agent_id).transpose()?;
    Ok(one(&state.chat.assign(&ctx, &id, to.as_ref()).await?))
}

#[utoipa::path(
    post,
    path = "/api/v1/chat/sessions/{id}/close",
    tag = "sessions",
    summary = "Close a conversation (optionally emailing the customer its transcript)",
    params(("id" = String, Path)),
    request_body(content = Option<crate::wire::CloseRequest>, content_type = "application/json"),
    responses((status = 200, body = crate::wire::SessionResponse))
)]
pub async fn close(
    state: web::Data<AppState>,
    Agent(ctx): Agent,
    id: web::Path<String>,
    body: Option<web::Json<crate::wire::CloseRequest>>,
) -> ApiResult<HttpResponse> {
    let send_transcript = body.and_then(|b| b.send_transcript).unwrap_or(false);
    Ok(one(&state
        .chat
        .close(&ctx, &session_id(&id)?, send_transcript)
        .await?))
}

#[utoipa::path(
    post,
    path = "/api/v1/chat/sessions/{id}/reopen",
    tag = "sessions",
    summary = "Reopen a closed conversation",
    params(("id" = String, Path)),
    responses((status = 200, body = crate::wire::SessionResponse))
)]
pub async fn reopen(
    state: web::Data<AppState>,
    Agent(ctx): Agent,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    Ok(one(&state.chat.reopen(&ctx, &session_id(&id)?).await?))
}

#[utoipa::path(
    post,
    path = "/api/v1/chat/sessions/{id}/read",
    tag = "sessions",
    summary = "The team has seen the session up to seq (a read receipt without a socket)",
    request_body = crate::wire::ReadRequest,
    params(("id" = String, Path)),
    responses((status = 200, body = crate::wire::SessionResponse))
)]
pub async fn read(
    state: web::Data<AppState>,
    Agent(ctx): Agent,
    id: web::Path<String>,
    body: web::Json<ReadRequest>,
) -> ApiResult<HttpResponse> {
    let update = chat_domain::ReceiptUpdate::read(body.seq).map_err(chat_service::Error::from)?;
    let id = session_id(&id)?;
    state.chat.agent_receipt(&ctx, &id, update).await?;
    Ok(one(&state.chat.agent_session(&ctx, &id).await?))
}

#[utoipa::path(
    get,
    path = "/api/v1/chat/sessions/{id}/transcript",
    tag = "sessions",
    summary = "The conversation as a file (txt, html or json)",
    params(("id" = String, Path), crate::wire::TranscriptQuery),
    responses((status = 200, description = "the transcript file", content_type = "text/plain"))
)]
pub async fn transcript(
    state: web::Data<AppState>,
    Agent(ctx): Agent,
    id: web::Path<String>,
    q: web::Query<TranscriptQuery>,
) -> ApiResult<HttpResponse> {
    let format = TranscriptFormat::parse(q.format.as_deref())
        .ok_or_else(|| ApiError::invalid("format", "must be 'txt', 'html' or 'json'"))?;
    state.limit_agent_search(&ctx.agent.id).await?;
    let transcript = state.chat.agent_transcript(&ctx, &session_id(&id)?).await?;
    Ok(transcript_file(&transcript, format))
}
