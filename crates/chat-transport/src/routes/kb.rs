//! Knowledge-base articles and the tenant's bot setting (admins only).

use actix_web::{HttpResponse, web};
use chat_domain::{Article, ArticleInput, BotMode, Tenant};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::AppState;
use crate::dto::rfc3339;
use crate::error::ApiResult;
use crate::extract::Agent;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/api/v1/kb/articles")
            .route("", web::get().to(list))
            .route("", web::post().to(create))
            .route("/{id}", web::get().to(get))
            .route("/{id}", web::put().to(update))
            .route("/{id}", web::delete().to(delete)),
    )
    .route("/api/v1/bot", web::get().to(get_bot))
    .route("/api/v1/bot", web::put().to(put_bot));
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ArticleRequest {
    title: String,
    body: String,
    #[serde(default)]
    keywords: Vec<String>,
}

impl TryFrom<&ArticleRequest> for ArticleInput {
    type Error = chat_service::Error;
    fn try_from(r: &ArticleRequest) -> Result<Self, Self::Error> {
        Ok(ArticleInput::parse(&r.title, &r.body, &r.keywords)?)
    }
}

#[derive(Serialize)]
struct ArticleDto {
    id: String,
    title: String,
    body: String,
    keywords: Vec<String>,
    updated_at: String,
}

impl From<&Article> for ArticleDto {
    fn from(a: &Article) -> Self {
        Self {
            id: a.id.clone(),
            title: a.title.clone(),
            body: a.body.clone(),
            keywords: a.keywords.clone(),
            updated_at: rfc3339(&a.updated_at),
        }
    }
}

async fn list(state: web::Data<AppState>, Agent(ctx): Agent) -> ApiResult<HttpResponse> {
    let articles = state.chat.articles(&ctx).await?;
    let articles: Vec<ArticleDto> = articles.iter().map(ArticleDto::from).collect();
    Ok(HttpResponse::Ok().json(json!({ "articles": articles })))
}

async fn get(
    state: web::Data<AppState>,
    Agent(ctx): Agent,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let a = state.chat.article(&ctx, &id).await?;
    Ok(HttpResponse::Ok().json(json!({ "article": ArticleDto::from(&a) })))
}

async fn create(
    state: web::Data<AppState>,
    Agent(ctx): Agent,
    body: web::Json<ArticleRequest>,
) -> ApiResult<HttpResponse> {
    ctx.require_admin()?;
    let a = state
        .chat
        .create_article(&ctx, ArticleInput::try_from(&*body)?)
        .await?;
    Ok(HttpResponse::Created().json(json!({ "article": ArticleDto::from(&a) })))
}

async fn update(
    state: web::Data<AppState>,
    Agent(ctx): Agent,
    id: web::Path<String>,
    body: web::Json<ArticleRequest>,
) -> ApiResult<HttpResponse> {
    ctx.require_admin()?;
    let a = state
        .chat
        .update_article(&ctx, &id, ArticleInput::try_from(&*body)?)
        .await?;
    Ok(HttpResponse::Ok().json(json!({ "article": ArticleDto::from(&a) })))
}

async fn delete(
    state: web::Data<AppState>,
    Agent(ctx): Agent,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    state.chat.delete_article(&ctx, &id).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BotRequest {
    mode: String,
    name: Option<String>,
}

fn bot_json(t: &Tenant) -> serde_json::Value {
    json!({ "bot": { "mode": t.bot_mode.as_str(), "name": t.bot_name } })
}

async fn get_bot(state: web::Data<AppState>, Agent(ctx): Agent) -> ApiResult<HttpResponse> {
    ctx.require_admin()?;
    Ok(HttpResponse::Ok().json(bot_json(&state.chat.tenant(ctx.tenant_id()).await?)))
}

async fn put_bot(
    state: web::Data<AppState>,
    Agent(ctx): Agent,
    body: web::Json<BotRequest>,
) -> ApiResult<HttpResponse> {
    ctx.require_admin()?;
    let mode = BotMode::parse(&body.mode).map_err(chat_service::Error::from)?;
    let current = state.chat.tenant(ctx.tenant_id()).await?;
    let name = body.name.clone().unwrap_or(current.bot_name);
    Ok(HttpResponse::Ok().json(bot_json(&state.chat.set_bot(&ctx, mode, &name).await?)))
}
