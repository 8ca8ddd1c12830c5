//! The widget's API. The session key in the path is the customer's only
//! credential; it is never logged (actix's logger is not installed and the
//! tracing spans carry ids, not keys).

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use chat_service::StartSession;
use validator::Validate;

use super::sent;
use crate::AppState;
use crate::error::{ApiResult, session_key};
use crate::wire::{
    MessageListResponse, MessagesQuery, PublicSessionResponse, SendMessageRequest,
    StartSessionRequest, StartSessionResponse,
};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/api/v1/public/chat/sessions")
            .route("", web::post().to(start))
            .route("/{session_key}", web::get().to(get))
            .route("/{session_key}/messages", web::get().to(messages))
            .route("/{session_key}/messages", web::post().to(send)),
    );
}

fn header_str(req: &HttpRequest, name: header::HeaderName) -> Option<String> {
    req.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

#[utoipa::path(
    post,
    path = "/api/v1/public/chat/sessions",
    tag = "public",
    summary = "Start a conversation (the widget)",
    request_body = crate::wire::StartSessionRequest,
    responses((status = 201, body = crate::wire::StartSessionResponse))
)]
pub async fn start(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<StartSessionRequest>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    body.validate()?;
    state
        .limit_session_start(state.client_address(&req), &body.tenant_id)
        .await?;
    let customer = body.customer.unwrap_or_default();
    let context = body.context.unwrap_or_default();
    let (key, session) = state
        .chat
        .start_session(StartSession {
            tenant: body.tenant_id,
            customer_name: customer.name,
            customer_email: customer.email,
            attributes: customer.attributes,
            page_url: context.page_url,
            referrer: context.referrer,
            locale: context.locale,
            user_agent: header_str(&req, header::USER_AGENT),
            origin: header_str(&req, header::ORIGIN),
        })
        .await?;
    Ok(HttpResponse::Created().json(StartSessionResponse {
        session_key: key,
        session: (&session).into(),
    }))
}

#[utoipa::path(
    get,
    path = "/api/v1/public/chat/sessions/{session_key}",
    tag = "public",
    summary = "The customer's session",
    params(("session_key" = String, Path)),
    responses((status = 200, body = crate::wire::PublicSessionResponse))
)]
pub async fn get(
    req: HttpRequest,
    state: web::Data<AppState>,
    key: web::Path<String>,
) -> ApiResult<HttpResponse> {
    state.limit_public_read(state.client_address(&req)).await?;
    let session = state.chat.customer_session(&session_key(&key)?).await?;
    Ok(HttpResponse::Ok().json(PublicSessionResponse {
        session: (&session).into(),
    }))
}

#[utoipa::path(
    get,
    path = "/api/v1/public/chat/sessions/{session_key}/messages",
    tag = "public",
    summary = "The customer's messages",
    params(("session_key" = String, Path), crate::wire::MessagesQuery),
    responses((status = 200, body = crate::wire::MessageListResponse))
)]
pub async fn messages(
    req: HttpRequest,
    state: web::Data<AppState>,
    key: web::Path<String>,
    q: web::Query<MessagesQuery>,
) -> ApiResult<HttpResponse> {
    state.limit_public_read(state.client_address(&req)).await?;
    let session = state.chat.customer_session(&session_key(&key)?).await?;
    let messages = state
        .chat
        .messages_after(
            &session.tenant_id,
            &session.id,
            q.after_seq.unwrap_or(0),
            q.limit,
        )
        .await?;
    Ok(HttpResponse::Ok().json(MessageListResponse {
        messages: messages.iter().map(Into::into).collect(),
    }))
}

#[utoipa::path(
    post,
    path = "/api/v1/public/chat/sessions/{session_key}/messages",
    tag = "public",
    summary = "Send as the customer (200: a retry of a stored client_msg_id)",
    request_body = crate::wire::SendMessageRequest,
    params(("session_key" = String, Path)),
    responses((status = 201, body = crate::wire::MessageResponse), (status = 200, body = crate::wire::MessageResponse))
)]
pub async fn send(
    req: HttpRequest,
    state: web::Data<AppState>,
    key: web::Path<String>,
    body: web::Json<SendMessageRequest>,
) -> ApiResult<HttpResponse> {
    body.validate()?;
    let session = state.chat.customer_session(&session_key(&key)?).await?;
    state
        .limit_customer_send(state.client_address(&req), &session.tenant_id, &session.id)
        .await?;
    let (message, created) = state
        .chat
        .send_as_customer(&session, &body.body, body.client_msg_id.as_deref())
        .await?;
    Ok(sent(&message, created))
}
