use crate::AppState;
use crate::error::ApiResult;
use crate::wire::{HealthResponse, ReadyResponse};
use actix_web::{HttpResponse, web};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(healthz))
        .route("/readyz", web::get().to(readyz));
}

/// The process is up.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "health",
    summary = "The process is up",
    responses((status = 200, body = crate::wire::HealthResponse))
)]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(HealthResponse { status: "ok" })
}

/// The database answers; 503 otherwise.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "health",
    summary = "The database answers",
    responses((status = 200, body = crate::wire::ReadyResponse))
)]
pub async fn readyz(state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    state.chat.ready().await?;
    let stats = state.hub.stats().await;
    Ok(HttpResponse::Ok().json(ReadyResponse {
        status: "ready",
        connections: stats.connections,
    }))
}
