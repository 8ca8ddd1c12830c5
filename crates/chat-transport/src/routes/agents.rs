use actix_web::{HttpResponse, web};
use chat_domain::Role;
use chat_service::auth::NewAgentInput;
use validator::Validate;

use crate::AppState;
use crate::error::ApiResult;
use crate::extract::Agent;
use crate::wire::{
    AgentListResponse, AgentResponse, ChangePasswordRequest, CreateAgentRequest, UpdateAgentRequest,
};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/agents/me", web::get().to(me))
        .route(
            "/api/v1/agents/me/password",
            web::post().to(change_password),
        )
        .route("/api/v1/agents", web::get().to(list))
        .route("/api/v1/agents", web::post().to(create))
        .route("/api/v1/agents/{id}", web::patch().to(update));
}

#[utoipa::path(
    get,
    path = "/api/v1/agents/me",
    tag = "agents",
    summary = "The signed-in agent",
    responses((status = 200, body = crate::wire::AgentResponse))
)]
pub async fn me(Agent(ctx): Agent) -> ApiResult<HttpResponse> {
    ctx.require(chat_domain::Scope::AgentsRead)?;
    Ok(HttpResponse::Ok().json(AgentResponse {
        agent: (&ctx.agent).into(),
    }))
}

/// Admins rename, change the role of, deactivate or reactivate an agent.
/// A deactivated agent's sockets are closed at once (4001).
#[utoipa::path(
    patch,
    path = "/api/v1/agents/{id}",
    tag = "agents",
    summary = "Rename, change the role of, deactivate or reactivate an agent (admins)",
    request_body = crate::wire::UpdateAgentRequest,
    params(("id" = String, Path)),
    responses((status = 200, body = crate::wire::AgentResponse))
)]
pub async fn update(
    state: web::Data<AppState>,
    Agent(ctx): Agent,
    id: web::Path<String>,
    body: web::Json<UpdateAgentRequest>,
) -> ApiResult<HttpResponse> {
    body.validate()?;
    let id = crate::error::agent_id(&id)?;
    let agent = state
        .auth
        .update_agent(
            &ctx,
            &id,
            body.name.as_deref(),
            body.role.as_deref(),
            body.active,
        )
        .await?;
    if !agent.active {
        state.kick_agent(&agent.tenant_id, &agent.id, None).await;
    }
    Ok(HttpResponse::Ok().json(AgentResponse {
        agent: (&agent).into(),
    }))
}

/// The signed-in agent's own password; their other logins end, and the
/// sockets those opened are closed.
#[utoipa::path(
    post,
    path = "/api/v1/agents/me/password",
    tag = "agents",
    summary = "Change your password; your other logins end",
    request_body = crate::wire::ChangePasswordRequest,
    responses((status = 204))
)]
pub async fn change_password(
    state: web::Data<AppState>,
    Agent(ctx): Agent,
    body: web::Json<ChangePasswordRequest>,
) -> ApiResult<HttpResponse> {
    body.validate()?;
    state
        .auth
        .change_password(&ctx, &body.current_password, &body.new_password)
        .await?;
    state
        .kick_agent(ctx.tenant_id(), &ctx.agent.id, Some(&ctx.credential))
        .await;
    Ok(HttpResponse::NoContent().finish())
}

/// The tenant's agents, with who is online right now.
#[utoipa::path(
    get,
    path = "/api/v1/agents",
    tag = "agents",
    summary = "The tenant's agents, with who is online",
    responses((status = 200, body = crate::wire::AgentListResponse))
)]
pub async fn list(state: web::Data<AppState>, Agent(ctx): Agent) -> ApiResult<HttpResponse> {
    let agents = state.chat.list_agents(&ctx).await?;
    let online = state.online_agents(ctx.tenant_id()).await;
    let agents = agents
        .iter()
        .map(|a| crate::wire::Agent {
            online: Some(online.contains(&a.id)),
            ..a.into()
        })
        .collect();
    Ok(HttpResponse::Ok().json(AgentListResponse { agents }))
}

/// Admins add agents to their own tenant.
#[utoipa::path(
    post,
    path = "/api/v1/agents",
    tag = "agents",
    summary = "Add an agent (admins)",
    request_body = crate::wire::CreateAgentRequest,
    responses((status = 201, body = crate::wire::AgentResponse))
)]
pub async fn create(
    state: web::Data<AppState>,
    Agent(ctx): Agent,
    body: web::Json<CreateAgentRequest>,
) -> ApiResult<HttpResponse> {
    ctx.require_admin()?;
    body.validate()?;
    let role = match body.role.as_deref() {
        None => Role::Agent,
        Some(r) => Role::parse(r).map_err(chat_service::Error::from)?,
    };
    let agent = state
        .auth
        .create_agent(
            Some(&ctx),
            ctx.tenant_id(),
            NewAgentInput {
                name: &body.name,
                email: &body.email,
                password: &body.password,
                role,
            },
        )
        .await?;
    Ok(HttpResponse::Created().json(AgentResponse {
        agent: (&agent).into(),
    }))
}
