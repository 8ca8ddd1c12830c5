//! Reports: the summary of a period, as JSON or CSV.

use actix_web::http::header;
use actix_web::{HttpResponse, web};

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::Agent;
use crate::wire::{ReportQueryParams, ReportResponse, ReportView};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/reports/summary", web::get().to(summary));
}

#[utoipa::path(
    get,
    path = "/api/v1/reports/summary",
    tag = "reports",
    summary = "Conversations, first response and resolution times, and ratings of a period: in all, per agent and per day (admins; agents get their own)",
    params(crate::wire::ReportQueryParams),
    responses(
        (status = 200, body = crate::wire::ReportResponse),
        (status = 200, content_type = "text/csv", description = "with format=csv")
    )
)]
pub async fn summary(
    state: web::Data<AppState>,
    Agent(ctx): Agent,
    q: web::Query<ReportQueryParams>,
) -> ApiResult<HttpResponse> {
    let q = q.into_inner();
    let csv = match q.format.as_deref().map(str::trim) {
        None | Some("") | Some("json") => false,
        Some("csv") => true,
        Some(_) => return Err(ApiError::invalid("format", "must be json or csv")),
    };
    state.limit_agent_search(&ctx.agent.id).await?;
    let params = chat_service::ReportParams {
        from: q.from.as_deref(),
        to: q.to.as_deref(),
        agent_id: q.agent_id.as_deref(),
    };
    let team = state.chat.report(&ctx, params, chrono::Utc::now()).await?;
    let view = ReportView::new(&team.report, team.agent.as_ref(), &team.names);
    if csv {
        return Ok(HttpResponse::Ok()
            .content_type("text/csv; charset=utf-8")
            .insert_header((
                header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename=\"report-{}-{}.csv\"",
                    view.from, view.to
                ),
            ))
            .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
            .body(view.csv()));
    }
    Ok(HttpResponse::Ok().json(ReportResponse { report: view }))
}
