//! Agents' view of conversations.

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;
use validator::Validate;

use super::sent;
use crate::AppState;
use crate::dto::{
    AssignRequest, MessageDto, MessagesQuery, SendMessageRequest, SessionDto, SessionsQuery,
};
use crate::error::ApiResult;
use crate::extract::Agent;
use crate::json::optional_body;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/api/v1/chat/sessions")
            .route("", web::get().to(list))
            .route("/{id}", web::get().to(get))
            .route("/{id}/history", web::get().to(history))
            .route("/{id}/messages", web::get().to(messages))
            .route("/{id}/messages", web::post().to(send))
            .route("/{id}/assign", web::post().to(assign))
            .route("/{id}/close", web::post().to(close))
            .route("/{id}/reopen", web::post().to(reopen)),
    );
}

fn one(session: &chat_domain::ChatSession) -> HttpResponse {
    HttpResponse::Ok().json(json!({ "session": SessionDto::from(session) }))
}

async fn list(
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
        )
        .await?;
    let sessions: Vec<SessionDto> = sessions.iter().map(SessionDto::from).collect();
    Ok(HttpResponse::Ok().json(json!({ "sessions": sessions })))
}

async fn get(
    state: web::Data<AppState>,
    Agent(ctx): Agent,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    Ok(one(&state.chat.agent_session(&ctx, &id).await?))
}

/// The same customer's other conversations.
async fn history(
    state: web::Data<AppState>,
    Agent(ctx): Agent,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let session = state.chat.agent_session(&ctx, &id).await?;
    let others = state.chat.customer_history(&ctx, &session).await?;
    let sessions: Vec<SessionDto> = others.iter().map(SessionDto::from).collect();
    Ok(HttpResponse::Ok().json(json!({ "sessions": sessions })))
}

async fn messages(
    state: web::Data<AppState>,
    Agent(ctx): Agent,
    id: web::Path<String>,
    q: web::Query<MessagesQuery>,
) -> ApiResult<HttpResponse> {
    let messages = state
        .chat
        .agent_messages(&ctx, &id, q.after_seq, q.before_seq, q.limit)
        .await?;
    let messages: Vec<MessageDto> = messages.iter().map(MessageDto::from).collect();
    Ok(HttpResponse::Ok().json(json!({ "messages": messages })))
}

async fn send(
    state: web::Data<AppState>,
    Agent(ctx): Agent,
    id: web::Path<String>,
    body: web::Json<SendMessageRequest>,
) -> ApiResult<HttpResponse> {
    body.validate()?;
    let (message, created) = state
        .chat
        .send_as_agent(&ctx, &id, &body.body, body.client_msg_id.as_deref())
        .await?;
    Ok(sent(&message, created))
}

async fn assign(
    req: HttpRequest,
    state: web::Data<AppState>,
    Agent(ctx): Agent,
    id: web::Path<String>,
    body: web::Bytes,
) -> ApiResult<HttpResponse> {
    let body: AssignRequest = optional_body(&req, &body)?;
    Ok(one(&state
        .chat
        .assign(&ctx, &id, body.agent_id.as_deref())
        .await?))
}

async fn close(
    state: web::Data<AppState>,
    Agent(ctx): Agent,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    Ok(one(&state.chat.close(&ctx, &id).await?))
}

async fn reopen(
    state: web::Data<AppState>,
    Agent(ctx): Agent,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    Ok(one(&state.chat.reopen(&ctx, &id).await?))
}
