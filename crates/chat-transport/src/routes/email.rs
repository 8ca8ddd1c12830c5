//! Outgoing email's endpoints: the customer's way back into a
//! conversation from an email, unsubscribing, the email settings and an
//! agent's notification setting.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::Agent;
use crate::wire::{
    EmailSettingsResponse, EmailSettingsView, NotificationSettings, NotificationSettingsResponse,
    ResumeRequest, StartSessionResponse, UnsubscribeQuery, UnsubscribeResponse,
};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/public/chat/resume", web::post().to(resume))
        .route(
            "/api/v1/public/email/unsubscribe",
            web::get().to(unsubscribe_page),
        )
        .route(
            "/api/v1/public/email/unsubscribe",
            web::post().to(unsubscribe),
        )
        .route("/api/v1/settings/email", web::get().to(settings))
        .route(
            "/api/v1/agents/me/notifications",
            web::get().to(notifications),
        )
        .route(
            "/api/v1/agents/me/notifications",
            web::put().to(set_notifications),
        );
}

/// The widget exchanges the token of an email's link for the
/// conversation: a new session key for this browser (the key the
/// conversation had before stops working).
#[utoipa::path(
    post,
    path = "/api/v1/public/chat/resume",
    tag = "public",
    summary = "Open a conversation from the link of an email",
    request_body = crate::wire::ResumeRequest,
    responses(
        (status = 200, body = crate::wire::StartSessionResponse),
        (status = 410, description = "the link has expired", body = crate::wire::ErrorResponse)
    )
)]
pub async fn resume(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<ResumeRequest>,
) -> ApiResult<HttpResponse> {
    state.limit_public_read(state.client_address(&req)).await?;
    if body.token.len() > 512 {
        return Err(ApiError::not_found("link"));
    }
    let started = state
        .chat
        .resume_from_link(&body.token, chrono::Utc::now())
        .await?;
    Ok(HttpResponse::Ok().json(StartSessionResponse {
        session_key: started.session_key,
        visitor_token: started.visitor_token,
        session: (&started.session).into(),
    }))
}

fn token(q: &UnsubscribeQuery) -> ApiResult<&str> {
    q.token
        .as_deref()
        .filter(|t| !t.is_empty() && t.len() <= 512)
        .ok_or_else(|| ApiError::invalid("token", "is required"))
}

/// The unsubscribe link of an email, opened in a browser.
#[utoipa::path(
    get,
    path = "/api/v1/public/email/unsubscribe",
    tag = "public",
    summary = "Unsubscribe from email (the link in an email's footer)",
    params(crate::wire::UnsubscribeQuery),
    responses((status = 200, content_type = "text/html", description = "a page saying so"))
)]
pub async fn unsubscribe_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    q: web::Query<UnsubscribeQuery>,
) -> ApiResult<HttpResponse> {
    state.limit_public_read(state.client_address(&req)).await?;
    state.chat.unsubscribe(token(&q)?).await?;
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CONTENT_SECURITY_POLICY, "default-src 'none'; style-src 'unsafe-inline'"))
        .body(
            "<!doctype html><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">\
             <title>Unsubscribed</title><body style=\"font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem\">\
             <h1>You are unsubscribed</h1><p>You will get no more emails about your conversations.</p></body>",
        ))
}

/// One-click unsubscribe (RFC 8058), what mail clients send for
/// `List-Unsubscribe-Post`.
#[utoipa::path(
    post,
    path = "/api/v1/public/email/unsubscribe",
    tag = "public",
    summary = "Unsubscribe from email in one click (List-Unsubscribe-Post)",
    params(crate::wire::UnsubscribeQuery),
    responses((status = 200, body = crate::wire::UnsubscribeResponse))
)]
pub async fn unsubscribe(
    req: HttpRequest,
    state: web::Data<AppState>,
    q: web::Query<UnsubscribeQuery>,
) -> ApiResult<HttpResponse> {
    state.limit_public_read(state.client_address(&req)).await?;
    state.chat.unsubscribe(token(&q)?).await?;
    Ok(HttpResponse::Ok().json(UnsubscribeResponse { unsubscribed: true }))
}

#[utoipa::path(
    get,
    path = "/api/v1/settings/email",
    tag = "settings",
    summary = "Whether outgoing email is set up, and how",
    responses((status = 200, body = crate::wire::EmailSettingsResponse))
)]
pub async fn settings(state: web::Data<AppState>, Agent(ctx): Agent) -> ApiResult<HttpResponse> {
    let settings = state.chat.email_setup(&ctx)?;
    Ok(HttpResponse::Ok().json(EmailSettingsResponse {
        email: EmailSettingsView {
            enabled: settings.is_some(),
            from: settings.as_ref().map(|s| s.from.clone()),
            unseen_delay_secs: settings.as_ref().map(|s| s.unseen_delay.as_secs()),
        },
    }))
}

#[utoipa::path(
    get,
    path = "/api/v1/agents/me/notifications",
    tag = "agents",
    summary = "Your notification settings",
    responses((status = 200, body = crate::wire::NotificationSettingsResponse))
)]
pub async fn notifications(
    state: web::Data<AppState>,
    Agent(ctx): Agent,
) -> ApiResult<HttpResponse> {
    let on = state.chat.email_when_offline(&ctx).await?;
    Ok(HttpResponse::Ok().json(NotificationSettingsResponse {
        notifications: NotificationSettings {
            email_when_offline: on,
        },
    }))
}

#[utoipa::path(
    put,
    path = "/api/v1/agents/me/notifications",
    tag = "agents",
    summary = "Change your notification settings",
    request_body = crate::wire::NotificationSettings,
    responses((status = 200, body = crate::wire::NotificationSettingsResponse))
)]
pub async fn set_notifications(
    state: web::Data<AppState>,
    Agent(ctx): Agent,
    body: web::Json<NotificationSettings>,
) -> ApiResult<HttpResponse> {
    let on = state
        .chat
        .set_email_when_offline(&ctx, body.email_when_offline)
        .await?;
    Ok(HttpResponse::Ok().json(NotificationSettingsResponse {
        notifications: NotificationSettings {
            email_when_offline: on,
        },
    }))
}
