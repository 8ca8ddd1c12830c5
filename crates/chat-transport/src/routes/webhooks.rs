//! Webhook endpoints, their delivery log and redelivery (admins).

use actix_web::{HttpResponse, web};
use validator::Validate;

use crate::AppState;
use crate::error::ApiResult;
use crate::extract::Agent;
use crate::wire::{
    CreateWebhookRequest, CreateWebhookResponse, DeliveriesQuery, DeliveryListResponse,
    DeliveryResponse, UpdateWebhookRequest, WebhookListResponse, WebhookResponse,
};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/api/v1/webhooks")
            .route("", web::get().to(list))
            .route("", web::post().to(create))
            .route("/{id}", web::get().to(get))
            .route("/{id}", web::patch().to(update))
            .route("/{id}", web::delete().to(delete))
            .route("/{id}/deliveries", web::get().to(deliveries))
            .route(
                "/{id}/deliveries/{delivery_id}/redeliver",
                web::post().to(redeliver),
            ),
    );
}

#[utoipa::path(
    get,
    path = "/api/v1/webhooks",
    tag = "webhooks",
    summary = "Webhook endpoints (admins)",
    responses((status = 200, body = crate::wire::WebhookListResponse))
)]
pub async fn list(state: web::Data<AppState>, Agent(ctx): Agent) -> ApiResult<HttpResponse> {
    let webhooks = state.chat.webhooks(&ctx).await?;
    Ok(HttpResponse::Ok().json(WebhookListResponse {
        webhooks: webhooks.iter().map(Into::into).collect(),
    }))
}

#[utoipa::path(
    post,
    path = "/api/v1/webhooks",
    tag = "webhooks",
    summary = "Add an endpoint; its signing secret is in this answer only (admins)",
    request_body = crate::wire::CreateWebhookRequest,
    responses((status = 201, body = crate::wire::CreateWebhookResponse))
)]
pub async fn create(
    state: web::Data<AppState>,
    Agent(ctx): Agent,
    body: web::Json<CreateWebhookRequest>,
) -> ApiResult<HttpResponse> {
    body.validate()?;
    let (webhook, secret) = state
        .chat
        .create_webhook(&ctx, &body.url, &body.events, body.active)
        .await?;
    Ok(HttpResponse::Created().json(CreateWebhookResponse {
        webhook: (&webhook).into(),
        secret,
    }))
}

#[utoipa::path(
    get,
    path = "/api/v1/webhooks/{id}",
    tag = "webhooks",
    summary = "One endpoint (admins)",
    params(("id" = String, Path)),
    responses((status = 200, body = crate::wire::WebhookResponse))
)]
pub async fn get(
    state: web::Data<AppState>,
    Agent(ctx): Agent,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let webhook = state.chat.webhook(&ctx, &id).await?;
    Ok(HttpResponse::Ok().json(WebhookResponse {
        webhook: (&webhook).into(),
    }))
}

#[utoipa::path(
    patch,
    path = "/api/v1/webhooks/{id}",
    tag = "webhooks",
    summary = "Change URL, events or active (admins)",
    request_body = crate::wire::UpdateWebhookRequest,
    params(("id" = String, Path)),
    responses((status = 200, body = crate::wire::WebhookResponse))
)]
pub async fn update(
    state: web::Data<AppState>,
    Agent(ctx): Agent,
    id: web::Path<String>,
    body: web::Json<UpdateWebhookRequest>,
) -> ApiResult<HttpResponse> {
    body.validate()?;
    let webhook = state
        .chat
        .update_webhook(
            &ctx,
            &id,
            body.url.as_deref(),
            body.events.as_deref(),
            body.active,
        )
        .await?;
    Ok(HttpResponse::Ok().json(WebhookResponse {
        webhook: (&webhook).into(),
    }))
}

#[utoipa::path(
    delete,
    path = "/api/v1/webhooks/{id}",
    tag = "webhooks",
    summary = "Delete an endpoint and its deliveries (admins)",
    params(("id" = String, Path)),
    responses((status = 204))
)]
pub async fn delete(
    state: web::Data<AppState>,
    Agent(ctx): Agent,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    state.chat.delete_webhook(&ctx, &id).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(
    get,
    path = "/api/v1/webhooks/{id}/deliveries",
    tag = "webhooks",
    summary = "The endpoint's delivery log, newest first (admins)",
    params(("id" = String, Path), crate::wire::DeliveriesQuery),
    responses((status = 200, body = crate::wire::DeliveryListResponse))
)]
pub async fn deliveries(
    state: web::Data<AppState>,
    Agent(ctx): Agent,
    id: web::Path<String>,
    query: web::Query<DeliveriesQuery>,
) -> ApiResult<HttpResponse> {
    let deliveries = state
        .chat
        .webhook_deliveries(&ctx, &id, query.limit)
        .await?;
    Ok(HttpResponse::Ok().json(DeliveryListResponse {
        deliveries: deliveries.iter().map(Into::into).collect(),
    }))
}

#[utoipa::path(
    post,
    path = "/api/v1/webhooks/{id}/deliveries/{delivery_id}/redeliver",
    tag = "webhooks",
    summary = "Send a delivery again now (admins)",
    params(("id" = String, Path), ("delivery_id" = String, Path)),
    responses((status = 202, body = crate::wire::DeliveryResponse))
)]
pub async fn redeliver(
    state: web::Data<AppState>,
    Agent(ctx): Agent,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (id, delivery_id) = path.into_inner();
    let delivery = state.chat.redeliver(&ctx, &id, &delivery_id).await?;
    state.webhooks_wake();
    Ok(HttpResponse::Accepted().json(DeliveryResponse {
        delivery: (&delivery).into(),
    }))
}
