//! The widget's API. The session key in the path is the customer's only
//! credential; it is never logged (actix's logger is not installed and the
//! tracing spans carry ids, not keys).

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use chat_service::StartSession;
use validator::Validate;

use super::sent;
use super::transcript_file;
use crate::AppState;
use crate::error::{ApiError, ApiResult, session_id, session_key};
use crate::wire::transcript::TranscriptFormat;
use crate::wire::{
    MessageListResponse, MessagesQuery, PublicSessionListResponse, PublicSessionResponse,
    ReadRequest, SendMessageRequest, StartSessionRequest, StartSessionResponse, TranscriptQuery,
    VisitorMessagesRequest, VisitorRequest,
};

pub fn configure(cfg: &mut web::ServiceConfig) {
    // The customers' send first, one resource for both of its methods: the
    // router tries each pattern registered before it on every request.
    let sessions = web::scope("/api/v1/public/chat/sessions").service(
        web::resource("/{session_key}/messages")
            .route(web::post().to(send))
            .route(web::get().to(messages)),
    );
    cfg.service(
        super::widget::public_routes(super::attachments::public_routes(sessions))
            .route("", web::post().to(start))
            .route("/{session_key}", web::get().to(get))
            .route("/{session_key}/read", web::post().to(read))
            .route("/{session_key}/transcript", web::get().to(transcript)),
    )
    .service(
        web::scope("/api/v1/public/visitor/sessions")
            .route("", web::post().to(visitor_sessions))
            .route("/{id}/messages", web::post().to(visitor_messages)),
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
    let started = state
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
            visitor_token: body.visitor_token,
        })
        .await?;
    Ok(HttpResponse::Created().json(StartSessionResponse {
        session_key: started.session_key,
        visitor_token: started.visitor_token,
        session: (&started.session).into(),
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
        .send_as_customer_with(
            &session,
            &body.body,
            body.client_msg_id.as_deref(),
            &body.attachment_ids,
        )
        .await?;
    Ok(sent(&message, created))
}

#[utoipa::path(
    post,
    path = "/api/v1/public/chat/sessions/{session_key}/read",
    tag = "public",
    summary = "The customer has seen the session up to seq (a read receipt without a socket)",
    request_body = crate::wire::ReadRequest,
    params(("session_key" = String, Path)),
    responses((status = 200, body = crate::wire::PublicSessionResponse))
)]
pub async fn read(
    req: HttpRequest,
    state: web::Data<AppState>,
    key: web::Path<String>,
    body: web::Json<ReadRequest>,
) -> ApiResult<HttpResponse> {
    state.limit_public_read(state.client_address(&req)).await?;
    let session = state.chat.customer_session(&session_key(&key)?).await?;
    let update = chat_domain::ReceiptUpdate::read(body.seq).map_err(chat_service::Error::from)?;
    state.chat.customer_receipt(&session, update).await?;
    let session = state.chat.customer_session(&session_key(&key)?).await?;
    Ok(HttpResponse::Ok().json(PublicSessionResponse {
        session: (&session).into(),
    }))
}

#[utoipa::path(
    get,
    path = "/api/v1/public/chat/sessions/{session_key}/transcript",
    tag = "public",
    summary = "The customer's transcript as a file (txt or html)",
    params(("session_key" = String, Path), crate::wire::TranscriptQuery),
    responses((status = 200, description = "the transcript file", content_type = "text/plain"))
)]
pub async fn transcript(
    req: HttpRequest,
    state: web::Data<AppState>,
    key: web::Path<String>,
    q: web::Query<TranscriptQuery>,
) -> ApiResult<HttpResponse> {
    state.limit_public_read(state.client_address(&req)).await?;
    let format = match TranscriptFormat::parse(q.format.as_deref()) {
        Some(f @ (TranscriptFormat::Text | TranscriptFormat::Html)) => f,
        _ => return Err(ApiError::invalid("format", "must be 'txt' or 'html'")),
    };
    let session = state.chat.customer_session(&session_key(&key)?).await?;
    let transcript = state.chat.customer_transcript(&session).await?;
    Ok(transcript_file(&transcript, format))
}

#[utoipa::path(
    post,
    path = "/api/v1/public/visitor/sessions",
    tag = "public",
    summary = "A returning visitor's conversations, newest first",
    request_body = crate::wire::VisitorRequest,
    responses((status = 200, body = crate::wire::PublicSessionListResponse))
)]
pub async fn visitor_sessions(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<VisitorRequest>,
) -> ApiResult<HttpResponse> {
    body.validate()?;
    state.limit_public_read(state.client_address(&req)).await?;
    let sessions = state
        .chat
        .visitor_sessions(&body.tenant_id, &body.visitor_token)
        .await?;
    Ok(HttpResponse::Ok().json(PublicSessionListResponse {
        sessions: sessions.iter().map(Into::into).collect(),
    }))
}

#[utoipa::path(
    post,
    path = "/api/v1/public/visitor/sessions/{id}/messages",
    tag = "public",
    summary = "The messages of one of a returning visitor's conversations",
    request_body = crate::wire::VisitorMessagesRequest,
    params(("id" = String, Path)),
    responses((status = 200, body = crate::wire::MessageListResponse))
)]
pub async fn visitor_messages(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
    body: web::Json<VisitorMessagesRequest>,
) -> ApiResult<HttpResponse> {
    body.validate()?;
    state.limit_public_read(state.client_address(&req)).await?;
    let messages = state
        .chat
        .visitor_messages(
            &body.tenant_id,
            &body.visitor_token,
            &session_id(&id)?,
            body.after_seq.unwrap_or(0),
            body.limit,
        )
        .await?;
    Ok(HttpResponse::Ok().json(MessageListResponse {
        messages: messages.iter().map(Into::into).collect(),
    }))
}
