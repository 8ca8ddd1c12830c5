//! The widget's settings from the server, the business hours, and the
//! customer's end of a conversation and their rating.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};

use crate::AppState;
use crate::error::{ApiResult, session_key};
use crate::extract::Agent;
use crate::wire::{
    BusinessHoursResponse, CloseRequest, PublicSessionResponse, PublicWidgetResponse,
    RatingRequest, WidgetSettingsResponse, rfc3339,
};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/api/v1/public/tenants/{tenant_id}/widget",
        web::get().to(public_widget),
    )
    .route("/api/v1/settings/widget", web::get().to(widget))
    .route("/api/v1/settings/widget", web::put().to(set_widget))
    .route("/api/v1/settings/business-hours", web::get().to(hours))
    .route("/api/v1/settings/business-hours", web::put().to(set_hours));
}

/// The customer's close and rating (registered inside the public sessions
/// scope).
pub fn public_routes(scope: actix_web::Scope) -> actix_web::Scope {
    scope
        .route("/{session_key}/close", web::post().to(customer_close))
        .route("/{session_key}/rating", web::post().to(rate))
}

/// What the widget shows. Browsers may keep it a minute; the server
/// answers a change at once.
#[utoipa::path(
    get,
    path = "/api/v1/public/tenants/{tenant_id}/widget",
    tag = "public",
    summary = "The widget's settings, and whether anyone is there",
    params(("tenant_id" = String, Path)),
    responses((status = 200, body = crate::wire::PublicWidgetResponse))
)]
pub async fn public_widget(
    req: HttpRequest,
    state: web::Data<AppState>,
    tenant: web::Path<String>,
) -> ApiResult<HttpResponse> {
    state.limit_public_read(state.client_address(&req)).await?;
    let w = state
        .chat
        .public_widget(&tenant, chrono::Utc::now())
        .await?;
    let s = &w.tenant.widget;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "public, max-age=60"))
        .json(PublicWidgetResponse {
            name: s.title.clone().unwrap_or_else(|| w.tenant.name.clone()),
            greeting: s.greeting.clone(),
            primary_color: s.primary_color.as_ref().map(|c| c.as_str().to_owned()),
            position: s.position.clone(),
            locale: s.locale.clone(),
            online: w.online,
            business_hours_open: w.business_hours_open,
            next_open: w.next_open.as_ref().map(rfc3339),
            time_zone: w.tenant.time_zone.name().to_owned(),
            expected_reply: s.expected_reply.clone(),
            prechat: s.to_json()["prechat"].clone(),
            offline_message: s.offline_message.clone(),
            csat: s.csat,
        }))
}

fn widget_answer(t: &chat_domain::Tenant) -> HttpResponse {
    HttpResponse::Ok().json(WidgetSettingsResponse {
        widget: t.widget.to_json(),
    })
}

#[utoipa::path(
    get,
    path = "/api/v1/settings/widget",
    tag = "settings",
    summary = "The widget's settings",
    responses((status = 200, body = crate::wire::WidgetSettingsResponse))
)]
pub async fn widget(state: web::Data<AppState>, Agent(ctx): Agent) -> ApiResult<HttpResponse> {
    Ok(widget_answer(&state.chat.widget_settings(&ctx).await?))
}

/// Admins replace the widget's settings: `{"name","greeting","primary_color",
/// "position","locale","expected_reply","offline_message","csat","prechat"}`,
/// each optional.
#[utoipa::path(
    put,
    path = "/api/v1/settings/widget",
    tag = "settings",
    summary = "Replace the widget's settings (admins)",
    request_body(content = Object, content_type = "application/json"),
    responses((status = 200, body = crate::wire::WidgetSettingsResponse))
)]
pub async fn set_widget(
    state: web::Data<AppState>,
    Agent(ctx): Agent,
    body: web::Json<serde_json::Value>,
) -> ApiResult<HttpResponse> {
    Ok(widget_answer(
        &state.chat.set_widget_settings(&ctx, &body).await?,
    ))
}

fn hours_answer(t: &chat_domain::Tenant) -> HttpResponse {
    let now = chrono::Utc::now();
    HttpResponse::Ok().json(BusinessHoursResponse {
        time_zone: t.time_zone.name().to_owned(),
        business_hours: t.business_hours.to_json(),
        open_now: t.business_hours.is_open(t.time_zone, now),
        next_open: t
            .business_hours
            .next_open(t.time_zone, now)
            .as_ref()
            .map(rfc3339),
    })
}

#[utoipa::path(
    get,
    path = "/api/v1/settings/business-hours",
    tag = "settings",
    summary = "The business hours, in the tenant's time zone",
    responses((status = 200, body = crate::wire::BusinessHoursResponse))
)]
pub async fn hours(state: web::Data<AppState>, Agent(ctx): Agent) -> ApiResult<HttpResponse> {
    Ok(hours_answer(&state.chat.widget_settings(&ctx).await?))
}

/// Admins replace the business hours: `{"time_zone"?, "enabled",
/// "weekly": {"mon": [{"open":"09:00","close":"17:00"}], …},
/// "exceptions": [{"date":"2026-12-24","intervals":[…]}]}` (a date without
/// intervals is closed all day).
#[utoipa::path(
    put,
    path = "/api/v1/settings/business-hours",
    tag = "settings",
    summary = "Replace the business hours (admins)",
    request_body(content = Object, content_type = "application/json"),
    responses((status = 200, body = crate::wire::BusinessHoursResponse))
)]
pub async fn set_hours(
    state: web::Data<AppState>,
    Agent(ctx): Agent,
    body: web::Json<serde_json::Value>,
) -> ApiResult<HttpResponse> {
    Ok(hours_answer(
        &state.chat.set_business_hours(&ctx, &body).await?,
    ))
}

/// The customer ends the conversation; with `send_transcript` the
/// transcript goes to their address by email.
#[utoipa::path(
    post,
    path = "/api/v1/public/chat/sessions/{session_key}/close",
    tag = "public",
    summary = "End your conversation",
    params(("session_key" = String, Path)),
    request_body(content = Option<crate::wire::CloseRequest>, content_type = "application/json"),
    responses((status = 200, body = crate::wire::PublicSessionResponse))
)]
pub async fn customer_close(
    req: HttpRequest,
    state: web::Data<AppState>,
    key: web::Path<String>,
    body: Option<web::Json<CloseRequest>>,
) -> ApiResult<HttpResponse> {
    let send_transcript = body.and_then(|b| b.send_transcript).unwrap_or(false);
    let session = state.chat.customer_session(&session_key(&key)?).await?;
    state
        .limit_customer_send(state.client_address(&req), &session.tenant_id, &session.id)
        .await?;
    let closed = state.chat.customer_close(&session, send_transcript).await?;
    Ok(HttpResponse::Ok().json(PublicSessionResponse {
        session: (&closed).into(),
    }))
}

/// The customer rates the closed conversation, once (a second is 409).
#[utoipa::path(
    post,
    path = "/api/v1/public/chat/sessions/{session_key}/rating",
    tag = "public",
    summary = "Rate your closed conversation, 1 to 5",
    params(("session_key" = String, Path)),
    request_body = crate::wire::RatingRequest,
    responses((status = 201, body = crate::wire::PublicSessionResponse))
)]
pub async fn rate(
    req: HttpRequest,
    state: web::Data<AppState>,
    key: web::Path<String>,
    body: web::Json<RatingRequest>,
) -> ApiResult<HttpResponse> {
    let session = state.chat.customer_session(&session_key(&key)?).await?;
    state
        .limit_customer_send(state.client_address(&req), &session.tenant_id, &session.id)
        .await?;
    let rated = state
        .chat
        .rate(&session, body.score, body.comment.as_deref())
        .await?;
    Ok(HttpResponse::Created().json(PublicSessionResponse {
        session: (&rated).into(),
    }))
}
