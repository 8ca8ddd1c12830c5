//! Full-text search of messages, and the tenant's settings.

use actix_web::{HttpResponse, web};

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::Agent;
use crate::wire::{
    SearchHit, SearchMessagesQuery, SearchResponse, TenantSettingsRequest, TenantSettingsResponse,
};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/search/messages", web::get().to(messages))
        .route("/api/v1/settings/tenant", web::get().to(tenant))
        .route("/api/v1/settings/tenant", web::patch().to(update_tenant));
}

/// `from`/`to`: RFC 3339, or a date (midnight UTC).
fn time(field: &'static str, raw: Option<&str>) -> ApiResult<Option<chat_domain::Timestamp>> {
    let Some(raw) = raw.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(raw) {
        return Ok(Some(t.with_timezone(&chrono::Utc)));
    }
    chrono::NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| Some(t.and_utc()))
        .ok_or_else(|| ApiError::invalid(field, "must be an RFC 3339 time or YYYY-MM-DD"))
}

#[utoipa::path(
    get,
    path = "/api/v1/search/messages",
    tag = "sessions",
    summary = "Messages matching a full-text query, newest first, with snippets",
    params(crate::wire::SearchMessagesQuery),
    responses((status = 200, body = crate::wire::SearchResponse))
)]
pub async fn messages(
    state: web::Data<AppState>,
    Agent(ctx): Agent,
    q: web::Query<SearchMessagesQuery>,
) -> ApiResult<HttpResponse> {
    let q = q.into_inner();
    let params = chat_service::SearchParams {
        q: q.q.ok_or_else(|| ApiError::invalid("q", "is required"))?,
        status: q.status,
        assigned: q.assigned,
        from: time("from", q.from.as_deref())?,
        to: time("to", q.to.as_deref())?,
        limit: q.limit,
        cursor: q.cursor,
    };
    state.limit_agent_search(&ctx.agent.id).await?;
    let results = state.chat.search_messages(&ctx, params).await?;
    Ok(HttpResponse::Ok().json(SearchResponse {
        hits: results
            .hits
            .iter()
            .map(|(hit, snippet)| SearchHit {
                message: (&hit.message).into(),
                session: (&hit.session).into(),
                snippet: snippet.clone(),
            })
            .collect(),
        next_cursor: results.next_cursor,
    }))
}

#[utoipa::path(
    get,
    path = "/api/v1/settings/tenant",
    tag = "settings",
    summary = "The tenant's settings",
    responses((status = 200, body = crate::wire::TenantSettingsResponse))
)]
pub async fn tenant(state: web::Data<AppState>, Agent(ctx): Agent) -> ApiResult<HttpResponse> {
    let tenant = state.chat.tenant_settings(&ctx).await?;
    Ok(HttpResponse::Ok().json(TenantSettingsResponse {
        tenant: (&tenant).into(),
    }))
}

#[utoipa::path(
    patch,
    path = "/api/v1/settings/tenant",
    tag = "settings",
    summary = "Change the tenant's settings (admins): its time zone",
    request_body = crate::wire::TenantSettingsRequest,
    responses((status = 200, body = crate::wire::TenantSettingsResponse))
)]
pub async fn update_tenant(
    state: web::Data<AppState>,
    Agent(ctx): Agent,
    body: web::Json<TenantSettingsRequest>,
) -> ApiResult<HttpResponse> {
    let mut tenant = state.chat.tenant_settings(&ctx).await?;
    if let Some(zone) = &body.time_zone {
        tenant = state.chat.set_time_zone(&ctx, zone).await?;
    }
    Ok(HttpResponse::Ok().json(TenantSettingsResponse {
        tenant: (&tenant).into(),
    }))
}
