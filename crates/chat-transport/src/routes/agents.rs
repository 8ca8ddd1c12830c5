use actix_web::{HttpResponse, web};
use chat_domain::Role;
use chat_service::auth::NewAgentInput;
use validator::Validate;

use crate::AppState;
use crate::error::ApiResult;
use crate::extract::Agent;
use crate::wire::{
    AgentListResponse, AgentResponse, AgentStatusRequest, AssignmentSettingsRequest,
    AssignmentSettingsResponse, ChangePasswordRequest, CreateAgentRequest, QueueEntry,
    QueueResponse, UpdateAgentRequest,
};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/agents/me", web::get().to(me))
        .route(
            "/api/v1/agents/me/password",
            web::post().to(change_password),
        )
        .route("/api/v1/agents/me/status", web::put().to(set_status))
        .route("/api/v1/settings/assignment", web::get().to(assignment))
        .route("/api/v1/settings/assignment", web::put().to(set_assignment))
        .route("/api/v1/queue", web::get().to(queue))
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
pub async fn me(state: web::Data<AppState>, Agent(ctx): Agent) -> ApiResult<HttpResponse> {
    ctx.require(chat_domain::Scope::AgentsRead)?;
    let tenant = state.chat.tenant(ctx.tenant_id()).await?;
    Ok(HttpResponse::Ok().json(AgentResponse {
        agent: crate::wire::Agent::with_default(
            &ctx.agent,
            tenant.assignment.default_max_concurrent,
        ),
    }))
}

/// The signed-in agent's availability: `online` takes new conversations,
/// `away` and `busy` do not. Every agent of the tenant hears of it
/// (`agent.presence` with `status`).
#[utoipa::path(
    put,
    path = "/api/v1/agents/me/status",
    tag = "agents",
    summary = "Set your availability: online, away or busy",
    request_body = crate::wire::AgentStatusRequest,
    responses((status = 200, body = crate::wire::AgentResponse))
)]
pub async fn set_status(
    state: web::Data<AppState>,
    Agent(ctx): Agent,
    body: web::Json<AgentStatusRequest>,
) -> ApiResult<HttpResponse> {
    let agent = state.chat.set_status(&ctx, &body.status).await?;
    state
        .hub
        .set_status(&agent.tenant_id, &agent.id, agent.status)
        .await;
    let tenant = state.chat.tenant(ctx.tenant_id()).await?;
    Ok(HttpResponse::Ok().json(AgentResponse {
        agent: crate::wire::Agent::with_default(&agent, tenant.assignment.default_max_concurrent),
    }))
}

#[utoipa::path(
    get,
    path = "/api/v1/settings/assignment",
    tag = "settings",
    summary = "Manual or automatic assignment, and the default cap",
    responses((status = 200, body = crate::wire::AssignmentSettingsResponse))
)]
pub async fn assignment(state: web::Data<AppState>, Agent(ctx): Agent) -> ApiResult<HttpResponse> {
    let settings = state.chat.assignment_settings(&ctx).await?;
    Ok(HttpResponse::Ok().json(AssignmentSettingsResponse::from(settings)))
}

/// Admins switch assignment to `auto` (waiting conversations go to the
/// least busy online agent below their cap) or `manual`.
#[utoipa::path(
    put,
    path = "/api/v1/settings/assignment",
    tag = "settings",
    summary = "Set manual or automatic assignment and the default cap (admins)",
    request_body = crate::wire::AssignmentSettingsRequest,
    responses((status = 200, body = crate::wire::AssignmentSettingsResponse))
)]
pub async fn set_assignment(
    state: web::Data<AppState>,
    Agent(ctx): Agent,
    body: web::Json<AssignmentSettingsRequest>,
) -> ApiResult<HttpResponse> {
    let settings = state
        .chat
        .set_assignment_settings(
            &ctx,
            body.assignment.as_deref(),
            body.default_max_concurrent,
        )
        .await?;
    Ok(HttpResponse::Ok().json(AssignmentSettingsResponse::from(settings)))
}

/// The conversations waiting for a person, longest waiting first, with
/// their place and wait.
#[utoipa::path(
    get,
    path = "/api/v1/queue",
    tag = "sessions",
    summary = "Conversations waiting for a person, in the order they are served",
    responses((status = 200, body = crate::wire::QueueResponse))
)]
pub async fn queue(state: web::Data<AppState>, Agent(ctx): Agent) -> ApiResult<HttpResponse> {
    let waiting = state.chat.queue(&ctx).await?;
    let settings = state.chat.assignment_settings(&ctx).await?;
    let now = chrono::Utc::now();
    let queue = waiting
        .iter()
        .enumerate()
        .map(|(i, s)| QueueEntry {
            position: u32::try_from(i + 1).unwrap_or(u32::MAX),
            waiting_seconds: s.queued_at.map_or(0, |t| (now - t).num_seconds().max(0)),
            session: s.into(),
        })
        .collect();
    Ok(HttpResponse::Ok().json(QueueResponse {
        assignment: settings.mode.as_str().to_owned(),
        queue,
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
            body.max_concurrent,
        )
        .await?;
    if !agent.active {
        state.kick_agent(&agent.tenant_id, &agent.id, None).await;
    }
    if body.max_concurrent.is_some() {
        state.chat.queue_may_move(&agent.tenant_id);
    }
    let tenant = state.chat.tenant(ctx.tenant_id()).await?;
    Ok(HttpResponse::Ok().json(AgentResponse {
        agent: crate::wire::Agent::with_default(&agent, tenant.assignment.default_max_concurrent),
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
    let (loads, default_max_concurrent) = state.chat.agent_loads(&ctx).await?;
    let agents = loads
        .iter()
        .map(|l| crate::wire::Agent {
            online: Some(l.online),
            max_concurrent: l.capacity,
            open_conversations: Some(l.open),
            ..(&l.agent).into()
        })
        .collect();
    Ok(HttpResponse::Ok().json(AgentListResponse {
        agents,
        default_max_concurrent,
    }))
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
