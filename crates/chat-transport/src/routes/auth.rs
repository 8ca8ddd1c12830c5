use actix_web::{HttpRequest, HttpResponse, web};
use validator::Validate;

use crate::AppState;
use crate::error::ApiResult;
use crate::extract::Agent;
use crate::wire::{LoginRequest, LoginResponse, TicketResponse, rfc3339};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/auth/login", web::post().to(login))
        .route("/api/v1/auth/logout", web::post().to(logout))
        .route("/api/v1/ws/ticket", web::post().to(ticket));
}

#[utoipa::path(
    post,
    path = "/api/v1/auth/login",
    tag = "auth",
    summary = "Log in with email and password",
    request_body = crate::wire::LoginRequest,
    responses((status = 200, body = crate::wire::LoginResponse))
)]
pub async fn login(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<LoginRequest>,
) -> ApiResult<HttpResponse> {
    body.validate()?;
    // The peer address, or the one a trusted proxy saw: never a forwarded
    // header that a client could forge.
    let client = state.client_address(&req).to_string();
    // With several nodes, failures are also counted across the cluster, so
    // that adding nodes does not multiply the guesses allowed.
    let account = body.email.trim().to_ascii_lowercase();
    let s = state.auth.settings().clone();
    let keys = [
        format!("login-client:{account}|{client}"),
        format!("login-account:{account}"),
        format!("login-address:{client}"),
    ];
    let maxima = [
        s.max_failures_per_client,
        s.max_failures_per_account,
        s.max_failures_per_address,
    ];
    if let Some(counts) = match &state.cluster {
        Some(cluster) => cluster.failures(&keys).await,
        None => None,
    } && counts
        .iter()
        .zip(maxima)
        .any(|(n, max)| *n >= i64::try_from(max).unwrap_or(i64::MAX))
    {
        metrics::counter!("chat_rate_limited_total", "what" => "logins").increment(1);
        return Err(crate::limits::refused(
            "failed logins",
            s.failure_window.as_secs().max(1),
        ));
    }
    let outcome = state
        .auth
        .login_to(
            &body.email,
            &body.password,
            &client,
            body.tenant_id.as_deref(),
        )
        .await;
    if let Some(cluster) = &state.cluster {
        match &outcome {
            Err(chat_service::Error::Unauthorized(_)) => {
                cluster.fail(&keys, s.failure_window).await;
            }
            // A success forgives the account's failures, not the address's.
            Ok(_) => cluster.forgive(&keys[..2]).await,
            Err(_) => {}
        }
    }
    let outcome = outcome?;
    Ok(HttpResponse::Ok().json(LoginResponse {
        token: outcome.token,
        expires_at: rfc3339(&outcome.expires_at),
        agent: (&outcome.agent).into(),
    }))
}

/// Revokes the token and closes every socket opened with it.
#[utoipa::path(
    post,
    path = "/api/v1/auth/logout",
    tag = "auth",
    summary = "Revoke this token and close its sockets",
    responses((status = 204))
)]
pub async fn logout(state: web::Data<AppState>, Agent(ctx): Agent) -> ApiResult<HttpResponse> {
    state.auth.logout(&ctx).await?;
    state.kick_credential(&ctx.credential).await;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(
    post,
    path = "/api/v1/ws/ticket",
    tag = "auth",
    summary = "A single-use ticket for a browser's /ws upgrade",
    responses((status = 201, body = crate::wire::TicketResponse))
)]
pub async fn ticket(state: web::Data<AppState>, Agent(ctx): Agent) -> ApiResult<HttpResponse> {
    let (ticket, expires_at) = state.auth.issue_ws_ticket(&ctx).await?;
    Ok(HttpResponse::Created().json(TicketResponse {
        ticket,
        expires_at: rfc3339(&expires_at),
    }))
}
