//! Files: uploads by the customer and by agents (`multipart/form-data`,
//! one field `file`, streamed to the file store), the capability download,
//! and a conversation's files for the agents.

use actix_multipart::Multipart;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use futures_util::StreamExt;

use crate::AppState;
use crate::error::{ApiError, ApiResult, session_id, session_key};
use crate::extract::Agent;
use crate::wire::{AttachmentListResponse, AttachmentResponse, AttachmentView};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/files/{token}/{name}", web::get().to(download))
        .route("/api/v1/customers/{id}", web::delete().to(erase_customer));
}

/// The customer's upload (registered inside the public sessions scope).
pub fn public_routes(scope: actix_web::Scope) -> actix_web::Scope {
    scope.route(
        "/{session_key}/attachments",
        web::post().to(customer_upload),
    )
}

/// The session-scoped agent routes (registered inside the sessions scope).
pub fn agent_routes(scope: actix_web::Scope) -> actix_web::Scope {
    scope
        .route("/{id}", web::delete().to(erase_session))
        .route("/{id}/attachments", web::post().to(agent_upload))
        .route("/{id}/attachments", web::get().to(session_files))
}

/// The form's one field, `file`, and the file name it gives.
async fn file_field(form: &mut Multipart) -> ApiResult<(actix_multipart::Field, String)> {
    let field = match form.next().await {
        Some(Ok(f)) => f,
        Some(Err(e)) => return Err(bad_form(&e.to_string())),
        None => return Err(bad_form("the form has no `file` field")),
    };
    if field.name() != Some("file") {
        return Err(bad_form("the form has one field, `file`"));
    }
    let name = field
        .content_disposition()
        .and_then(|d| d.get_filename())
        .unwrap_or("file")
        .to_owned();
    Ok((field, name))
}

/// Streams the field into the upload; on any error what was stored is
/// deleted.
async fn receive(
    mut field: actix_multipart::Field,
    mut upload: chat_service::chat::attachments::Upload,
) -> ApiResult<HttpResponse> {
    while let Some(chunk) = field.next().await {
        let step = match chunk {
            Ok(bytes) => upload.write(&bytes).await.map_err(ApiError::from),
            Err(e) => Err(bad_form(&e.to_string())),
        };
        if let Err(e) = step {
            upload.abort().await;
            drain(&mut field).await;
            return Err(e);
        }
    }
    let attachment = upload.finish().await?;
    Ok(HttpResponse::Created().json(AttachmentResponse {
        attachment: AttachmentView::from(&attachment),
    }))
}

/// Reads (and drops) what the client is still sending after a refusal, up
/// to a bound, so that it gets to read the answer instead of a reset
/// connection; past the bound the connection is closed.
async fn drain(field: &mut actix_multipart::Field) {
    const DRAIN_BYTES: usize = 16 * 1024 * 1024;
    let mut seen = 0;
    while let Some(Ok(chunk)) = field.next().await {
        seen += chunk.len();
        if seen > DRAIN_BYTES {
            return;
        }
    }
}

fn bad_form(why: &str) -> ApiError {
    ApiError::new(
        actix_web::http::StatusCode::BAD_REQUEST,
        "invalid_form",
        format!("expected multipart/form-data with one field `file`: {why}"),
    )
}

#[utoipa::path(
    post,
    path = "/api/v1/public/chat/sessions/{session_key}/attachments",
    tag = "public",
    summary = "Upload a file to your conversation (multipart/form-data, field `file`)",
    params(("session_key" = String, Path)),
    request_body(content_type = "multipart/form-data", description = "one field `file`"),
    responses((status = 201, body = crate::wire::AttachmentResponse))
)]
pub async fn customer_upload(
    req: HttpRequest,
    state: web::Data<AppState>,
    key: web::Path<String>,
    mut form: Multipart,
) -> ApiResult<HttpResponse> {
    let session = state.chat.customer_session(&session_key(&key)?).await?;
    state
        .limit_customer_send(state.client_address(&req), &session.tenant_id, &session.id)
        .await?;
    let (field, name) = file_field(&mut form).await?;
    let upload = state.chat.customer_upload(&session, &name).await?;
    receive(field, upload).await
}

#[utoipa::path(
    post,
    path = "/api/v1/chat/sessions/{id}/attachments",
    tag = "sessions",
    summary = "Upload a file to a conversation (multipart/form-data, field `file`)",
    params(("id" = String, Path)),
    request_body(content_type = "multipart/form-data", description = "one field `file`"),
    responses((status = 201, body = crate::wire::AttachmentResponse))
)]
pub async fn agent_upload(
    state: web::Data<AppState>,
    Agent(ctx): Agent,
    id: web::Path<String>,
    mut form: Multipart,
) -> ApiResult<HttpResponse> {
    let id = session_id(&id)?;
    state.limit_agent_send(&ctx.agent.id).await?;
    let (field, name) = file_field(&mut form).await?;
    let upload = state.chat.agent_upload(&ctx, &id, &name).await?;
    receive(field, upload).await
}

#[utoipa::path(
    get,
    path = "/api/v1/chat/sessions/{id}/attachments",
    tag = "sessions",
    summary = "The files sent in a conversation, oldest first",
    params(("id" = String, Path)),
    responses((status = 200, body = crate::wire::AttachmentListResponse))
)]
pub async fn session_files(
    state: web::Data<AppState>,
    Agent(ctx): Agent,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let files = state.chat.session_files(&ctx, &session_id(&id)?).await?;
    Ok(HttpResponse::Ok().json(AttachmentListResponse {
        attachments: files.iter().map(AttachmentView::from).collect(),
    }))
}

/// Admins delete a conversation and everything in it, files included.
#[utoipa::path(
    delete,
    path = "/api/v1/chat/sessions/{id}",
    tag = "sessions",
    summary = "Delete a conversation with its messages, notes and files (admins)",
    params(("id" = String, Path)),
    responses((status = 204))
)]
pub async fn erase_session(
    state: web::Data<AppState>,
    Agent(ctx): Agent,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    state.chat.erase_session(&ctx, &session_id(&id)?).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Admins delete a customer with all their conversations and files.
#[utoipa::path(
    delete,
    path = "/api/v1/customers/{id}",
    tag = "sessions",
    summary = "Delete a customer with all their conversations and files (admins)",
    params(("id" = String, Path)),
    responses((status = 204))
)]
pub async fn erase_customer(
    state: web::Data<AppState>,
    Agent(ctx): Agent,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    if !chat_domain::ids::is_well_formed_id(&id) {
        return Err(ApiError::not_found("customer"));
    }
    state
        .chat
        .erase_customer(&ctx, &chat_domain::CustomerId::new(id.into_inner()))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `filename*=UTF-8''…` of RFC 6266 / 5987.
fn disposition(kind: &str, name: &str) -> String {
    let mut enc = String::new();
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            enc.push(b as char);
        } else {
            enc.push_str(&format!("%{b:02X}"));
        }
    }
    format!("{kind}; filename*=UTF-8''{enc}")
}

/// A file by its capability URL. Raster images whose type was verified
/// from their bytes are `inline`; everything else is a download. Every
/// answer forbids sniffing and runs nothing.
#[utoipa::path(
    get,
    path = "/api/v1/files/{token}/{name}",
    tag = "public",
    summary = "Download a file by its URL (the token is the capability)",
    params(("token" = String, Path), ("name" = String, Path)),
    responses((status = 200, description = "the file"))
)]
pub async fn download(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    state.limit_public_read(state.client_address(&req)).await?;
    let (attachment, bytes) = state.chat.download(&path.0).await?;
    let kind = if attachment.inline() {
        "inline"
    } else {
        "attachment"
    };
    let content_type = if attachment.content_type.starts_with("text/")
        || attachment.content_type == "image/svg+xml"
    {
        format!("{}; charset=utf-8", attachment.content_type)
    } else {
        attachment.content_type.clone()
    };
    let size = bytes.size();
    let body = futures_util::stream::unfold(bytes, |mut b| async move {
        b.next().await.map(|chunk| {
            (
                chunk.map(web::Bytes::from).map_err(std::io::Error::other),
                b,
            )
        })
    });
    Ok(HttpResponse::Ok()
        .content_type(content_type)
        .no_chunking(size)
        .insert_header((
            header::CONTENT_DISPOSITION,
            disposition(kind, &attachment.name),
        ))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; sandbox",
        ))
        .insert_header((header::CACHE_CONTROL, "private, max-age=86400"))
        .insert_header(("Cross-Origin-Resource-Policy", "cross-origin"))
        .streaming(body))
}
