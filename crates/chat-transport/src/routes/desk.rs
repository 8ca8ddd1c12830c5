//! The agents' daily tools: canned replies, labels and private notes.

use actix_web::{HttpResponse, web};

use crate::AppState;
use crate::error::{ApiResult, session_id};
use crate::extract::Agent;
use crate::wire::{
    CannedReplyListResponse, CannedReplyRequest, CannedReplyResponse, LabelListResponse,
    LabelRequest, LabelResponse, NoteListResponse, NoteRequest, NoteResponse, NotesQuery,
    SessionLabelsRequest, SessionResponse,
};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/api/v1/canned-replies")
            .route("", web::get().to(canned_list))
            .route("", web::post().to(canned_create))
            .route("/{id}", web::put().to(canned_update))
            .route("/{id}", web::delete().to(canned_delete)),
    )
    .service(
        web::scope("/api/v1/labels")
            .route("", web::get().to(labels))
            .route("", web::post().to(label_create)),
    );
    // The per-session routes live in the sessions scope (`sessions.rs`).
}

#[utoipa::path(get, path = "/api/v1/canned-replies", tag = "desk", summary = "The tenant's canned replies",
    responses((status = 200, body = crate::wire::CannedReplyListResponse)))]
pub async fn canned_list(state: web::Data<AppState>, Agent(ctx): Agent) -> ApiResult<HttpResponse> {
    let all = state.chat.canned_replies(&ctx).await?;
    Ok(HttpResponse::Ok().json(CannedReplyListResponse {
        canned_replies: all.iter().map(Into::into).collect(),
    }))
}

#[utoipa::path(post, path = "/api/v1/canned-replies", tag = "desk", summary = "Add a canned reply (admins)",
    request_body = crate::wire::CannedReplyRequest,
    responses((status = 201, body = crate::wire::CannedReplyResponse)))]
pub async fn canned_create(
    state: web::Data<AppState>,
    Agent(ctx): Agent,
    body: web::Json<CannedReplyRequest>,
) -> ApiResult<HttpResponse> {
    let c = state
        .chat
        .create_canned(&ctx, &body.shortcut, &body.title, &body.body)
        .await?;
    Ok(HttpResponse::Created().json(CannedReplyResponse {
        canned_reply: (&c).into(),
    }))
}

#[utoipa::path(put, path = "/api/v1/canned-replies/{id}", tag = "desk", summary = "Change a canned reply (admins)",
    params(("id" = String, Path)), request_body = crate::wire::CannedReplyRequest,
    responses((status = 200, body = crate::wire::CannedReplyResponse)))]
pub async fn canned_update(
    state: web::Data<AppState>,
    Agent(ctx): Agent,
    id: web::Path<String>,
    body: web::Json<CannedReplyRequest>,
) -> ApiResult<HttpResponse> {
    let c = state
        .chat
        .update_canned(&ctx, &id, &body.shortcut, &body.title, &body.body)
        .await?;
    Ok(HttpResponse::Ok().json(CannedReplyResponse {
        canned_reply: (&c).into(),
    }))
}

#[utoipa::path(delete, path = "/api/v1/canned-replies/{id}", tag = "desk", summary = "Delete a canned reply (admins)",
    params(("id" = String, Path)), responses((status = 204)))]
pub async fn canned_delete(
    state: web::Data<AppState>,
    Agent(ctx): Agent,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    state.chat.delete_canned(&ctx, &id).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(get, path = "/api/v1/labels", tag = "desk", summary = "The tenant's labels",
    responses((status = 200, body = crate::wire::LabelListResponse)))]
pub async fn labels(state: web::Data<AppState>, Agent(ctx): Agent) -> ApiResult<HttpResponse> {
    let all = state.chat.labels(&ctx).await?;
    Ok(HttpResponse::Ok().json(LabelListResponse {
        labels: all.iter().map(Into::into).collect(),
    }))
}

#[utoipa::path(post, path = "/api/v1/labels", tag = "desk", summary = "Add a label (admins)",
    request_body = crate::wire::LabelRequest,
    responses((status = 201, body = crate::wire::LabelResponse)))]
pub async fn label_create(
    state: web::Data<AppState>,
    Agent(ctx): Agent,
    body: web::Json<LabelRequest>,
) -> ApiResult<HttpResponse> {
    let color = body.color.as_deref().unwrap_or("#6b7280");
    let l = state.chat.create_label(&ctx, &body.name, color).await?;
    Ok(HttpResponse::Created().json(LabelResponse { label: (&l).into() }))
}

#[utoipa::path(put, path = "/api/v1/chat/sessions/{id}/labels", tag = "desk",
    summary = "Replace a conversation's labels (chat.session.updated to agents)",
    params(("id" = String, Path)), request_body = crate::wire::SessionLabelsRequest,
    responses((status = 200, body = crate::wire::SessionResponse)))]
pub async fn set_labels(
    state: web::Data<AppState>,
    Agent(ctx): Agent,
    id: web::Path<String>,
    body: web::Json<SessionLabelsRequest>,
) -> ApiResult<HttpResponse> {
    let s = state
        .chat
        .set_labels(&ctx, &session_id(&id)?, &body.labels)
        .await?;
    Ok(HttpResponse::Ok().json(SessionResponse {
        session: (&s).into(),
    }))
}

#[utoipa::path(get, path = "/api/v1/chat/sessions/{id}/notes", tag = "desk",
    summary = "A conversation's private notes (agents only)",
    params(("id" = String, Path), crate::wire::NotesQuery),
    responses((status = 200, body = crate::wire::NoteListResponse)))]
pub async fn notes(
    state: web::Data<AppState>,
    Agent(ctx): Agent,
    id: web::Path<String>,
    q: web::Query<NotesQuery>,
) -> ApiResult<HttpResponse> {
    let all = state
        .chat
        .notes(&ctx, &session_id(&id)?, q.after_seq.unwrap_or(0))
        .await?;
    Ok(HttpResponse::Ok().json(NoteListResponse {
        notes: all.iter().map(Into::into).collect(),
    }))
}

#[utoipa::path(post, path = "/api/v1/chat/sessions/{id}/notes", tag = "desk",
    summary = "Add a private note (chat.note.new to agents, chat.mention to the mentioned)",
    params(("id" = String, Path)), request_body = crate::wire::NoteRequest,
    responses((status = 201, body = crate::wire::NoteResponse)))]
pub async fn add_note(
    state: web::Data<AppState>,
    Agent(ctx): Agent,
    id: web::Path<String>,
    body: web::Json<NoteRequest>,
) -> ApiResult<HttpResponse> {
    state.limit_agent_send(&ctx.agent.id).await?;
    let n = state
        .chat
        .add_note(&ctx, &session_id(&id)?, &body.body)
        .await?;
    Ok(HttpResponse::Created().json(NoteResponse { note: (&n).into() }))
}
