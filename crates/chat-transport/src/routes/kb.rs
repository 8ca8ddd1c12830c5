//! Knowledge-base articles and the tenant's bot setting (admins only),
//! and the knowledge base's help for agents: suggestions for a handed-off
//! question, whether a reply is covered by an article, and a reply turned
//! into a draft article.

use actix_web::{HttpResponse, web};
use chat_domain::{ArticleInput, BotMode, Tenant};

use crate::AppState;
use crate::error::{ApiResult, session_id};
use crate::extract::Agent;
use crate::wire::{
    ArticleDraftRequest, ArticleListResponse, ArticleRequest, ArticleResponse, BotRequest,
    BotResponse, CoverageRequest, CoverageResponse, CoveringArticle, SuggestionsResponse,
};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/api/v1/kb/articles")
            .route("", web::get().to(list))
            .route("", web::post().to(create))
            .route("/{id}", web::get().to(get))
            .route("/{id}", web::put().to(update))
            .route("/{id}", web::delete().to(delete)),
    )
    .route("/api/v1/kb/coverage", web::post().to(coverage))
    .route("/api/v1/kb/drafts", web::post().to(draft))
    .route("/api/v1/bot", web::get().to(get_bot))
    .route("/api/v1/bot", web::put().to(put_bot));
}

fn input(r: &ArticleRequest) -> Result<ArticleInput, chat_service::Error> {
    let mut input = ArticleInput::parse(&r.title, &r.body, &r.keywords)?;
    input.draft = r.draft;
    Ok(input)
}

fn one(a: &chat_domain::Article) -> ArticleResponse {
    ArticleResponse { article: a.into() }
}

#[utoipa::path(
    get,
    path = "/api/v1/kb/articles",
    tag = "kb",
    summary = "The knowledge base's articles (admins)",
    responses((status = 200, body = crate::wire::ArticleListResponse))
)]
pub async fn list(state: web::Data<AppState>, Agent(ctx): Agent) -> ApiResult<HttpResponse> {
    let articles = state.chat.articles(&ctx).await?;
    Ok(HttpResponse::Ok().json(ArticleListResponse {
        articles: articles.iter().map(Into::into).collect(),
    }))
}

#[utoipa::path(
    get,
    path = "/api/v1/kb/articles/{id}",
    tag = "kb",
    summary = "One article (admins)",
    params(("id" = String, Path)),
    responses((status = 200, body = crate::wire::ArticleResponse))
)]
pub async fn get(
    state: web::Data<AppState>,
    Agent(ctx): Agent,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(one(&state.chat.article(&ctx, &id).await?)))
}

#[utoipa::path(
    post,
    path = "/api/v1/kb/articles",
    tag = "kb",
    summary = "Add an article (admins)",
    request_body = crate::wire::ArticleRequest,
    responses((status = 201, body = crate::wire::ArticleResponse))
)]
pub async fn create(
    state: web::Data<AppState>,
    Agent(ctx): Agent,
    body: web::Json<ArticleRequest>,
) -> ApiResult<HttpResponse> {
    ctx.require_admin()?;
    let a = state.chat.create_article(&ctx, input(&body)?).await?;
    Ok(HttpResponse::Created().json(one(&a)))
}

#[utoipa::path(
    put,
    path = "/api/v1/kb/articles/{id}",
    tag = "kb",
    summary = "Replace an article (admins)",
    request_body = crate::wire::ArticleRequest,
    params(("id" = String, Path)),
    responses((status = 200, body = crate::wire::ArticleResponse))
)]
pub async fn update(
    state: web::Data<AppState>,
    Agent(ctx): Agent,
    id: web::Path<String>,
    body: web::Json<ArticleRequest>,
) -> ApiResult<HttpResponse> {
    ctx.require_admin()?;
    let a = state.chat.update_article(&ctx, &id, input(&body)?).await?;
    Ok(HttpResponse::Ok().json(one(&a)))
}

#[utoipa::path(
    delete,
    path = "/api/v1/kb/articles/{id}",
    tag = "kb",
    summary = "Delete an article (admins)",
    params(("id" = String, Path)),
    responses((status = 204))
)]
pub async fn delete(
    state: web::Data<AppState>,
    Agent(ctx): Agent,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    state.chat.delete_article(&ctx, &id).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(
    get,
    path = "/api/v1/chat/sessions/{id}/suggestions",
    tag = "kb",
    summary = "The articles closest to the customer's latest message, with the passage to insert",
    params(("id" = String, Path)),
    responses((status = 200, body = crate::wire::SuggestionsResponse))
)]
pub async fn suggestions(
    state: web::Data<AppState>,
    Agent(ctx): Agent,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    state.limit_agent_search(&ctx.agent.id).await?;
    let (question, suggestions) = state
        .chat
        .session_suggestions(&ctx, &session_id(&id)?)
        .await?;
    Ok(HttpResponse::Ok().json(SuggestionsResponse {
        question,
        suggestions: suggestions.iter().map(Into::into).collect(),
    }))
}

#[utoipa::path(
    post,
    path = "/api/v1/kb/coverage",
    tag = "kb",
    summary = "Whether a published article already says what a reply says",
    request_body = crate::wire::CoverageRequest,
    responses((status = 200, body = crate::wire::CoverageResponse))
)]
pub async fn coverage(
    state: web::Data<AppState>,
    Agent(ctx): Agent,
    body: web::Json<CoverageRequest>,
) -> ApiResult<HttpResponse> {
    state.limit_agent_search(&ctx.agent.id).await?;
    let article = state.chat.covering_article(&ctx, &body.body).await?;
    Ok(HttpResponse::Ok().json(CoverageResponse {
        covered: article.is_some(),
        article: article.map(|a| CoveringArticle {
            id: a.id,
            title: a.title,
        }),
    }))
}

#[utoipa::path(
    post,
    path = "/api/v1/kb/drafts",
    tag = "kb",
    summary = "Turn an agent's reply into a draft article for the admins",
    request_body = crate::wire::ArticleDraftRequest,
    responses((status = 201, body = crate::wire::ArticleResponse))
)]
pub async fn draft(
    state: web::Data<AppState>,
    Agent(ctx): Agent,
    body: web::Json<ArticleDraftRequest>,
) -> ApiResult<HttpResponse> {
    state.limit_agent_search(&ctx.agent.id).await?;
    let a = state
        .chat
        .draft_article(&ctx, &session_id(&body.session_id)?, &body.body)
        .await?;
    Ok(HttpResponse::Created().json(one(&a)))
}

fn bot(t: &Tenant) -> BotResponse {
    BotResponse { bot: t.into() }
}

#[utoipa::path(
    get,
    path = "/api/v1/bot",
    tag = "bot",
    summary = "The tenant's bot (admins)",
    responses((status = 200, body = crate::wire::BotResponse))
)]
pub async fn get_bot(state: web::Data<AppState>, Agent(ctx): Agent) -> ApiResult<HttpResponse> {
    ctx.require_admin()?;
    ctx.require(chat_domain::Scope::SettingsRead)?;
    Ok(HttpResponse::Ok().json(bot(&state.chat.tenant(ctx.tenant_id()).await?)))
}

#[utoipa::path(
    put,
    path = "/api/v1/bot",
    tag = "bot",
    summary = "Set the tenant's bot mode and name (admins)",
    request_body = crate::wire::BotRequest,
    responses((status = 200, body = crate::wire::BotResponse))
)]
pub async fn put_bot(
    state: web::Data<AppState>,
    Agent(ctx): Agent,
    body: web::Json<BotRequest>,
) -> ApiResult<HttpResponse> {
    ctx.require_admin()?;
    let mode = BotMode::parse(&body.mode).map_err(chat_service::Error::from)?;
    let current = state.chat.tenant(ctx.tenant_id()).await?;
    let name = body.name.clone().unwrap_or(current.bot_name);
    Ok(HttpResponse::Ok().json(bot(&state.chat.set_bot(&ctx, mode, &name).await?)))
}
