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
    responses(
        (status = 200, body = crate::wire::ReadyResponse),
        (status = 503, body = crate::wire::ReadyResponse, description = "The database is down")
    )
)]
pub async fn readyz(state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let database = state.chat.ready().await.is_ok();
    let redis = match &state.cluster {
        None => "disabled",
        Some(c) if c.is_up() => "ok",
        Some(_) => "down",
    };
    let stats = state.hub.stats().await;
    let body = ReadyResponse {
        status: if database && redis != "down" {
            "ok"
        } else {
            "degraded"
        },
        database: if database { "ok" } else { "down" },
        redis,
        connections: stats.connections,
    };
    // Readiness is the database: a node without its bridge still serves.
    Ok(if database {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    })
}
