//! API tokens for integrations (admins, signed in: a token cannot make
//! tokens).

use actix_web::{HttpResponse, web};
use validator::Validate;

use crate::AppState;
use crate::error::ApiResult;
use crate::extract::Agent;
use crate::wire::{ApiTokenListResponse, CreateApiTokenRequest, CreateApiTokenResponse};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/api-tokens", web::get().to(list))
        .route("/api/v1/api-tokens", web::post().to(create))
        .route("/api/v1/api-tokens/{id}", web::delete().to(revoke));
}

#[utoipa::path(
    get,
    path = "/api/v1/api-tokens",
    tag = "api-tokens",
    summary = "The tenant's API tokens, never their secrets (admins)",
    responses((status = 200, body = crate::wire::ApiTokenListResponse))
)]
pub async fn list(state: web::Data<AppState>, Agent(ctx): Agent) -> ApiResult<HttpResponse> {
    let tokens = state.auth.api_tokens(&ctx).await?;
    Ok(HttpResponse::Ok().json(ApiTokenListResponse {
        api_tokens: tokens.iter().map(Into::into).collect(),
    }))
}

#[utoipa::path(
    post,
    path = "/api/v1/api-tokens",
    tag = "api-tokens",
    summary = "Make an API token; its secret is in this answer only (admins)",
    request_body = crate::wire::CreateApiTokenRequest,
    responses((status = 201, body = crate::wire::CreateApiTokenResponse))
)]
pub async fn create(
    state: web::Data<AppState>,
    Agent(ctx): Agent,
    body: web::Json<CreateApiTokenRequest>,
) -> ApiResult<HttpResponse> {
    body.validate()?;
    let (token, secret) = state
        .auth
        .create_api_token(&ctx, &body.name, &body.scopes)
        .await?;
    Ok(HttpResponse::Created().json(CreateApiTokenResponse {
        api_token: (&token).into(),
        token: secret,
    }))
}

#[utoipa::path(
    delete,
    path = "/api/v1/api-tokens/{id}",
    tag = "api-tokens",
    summary = "Revoke an API token (admins)",
    params(("id" = String, Path)),
    responses((status = 204))
)]
pub async fn revoke(
    state: web::Data<AppState>,
    Agent(ctx): Agent,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    state.auth.revoke_api_token(&ctx, &id).await?;
    Ok(HttpResponse::NoContent().finish())
}
