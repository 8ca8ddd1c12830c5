use actix_web::{HttpResponse, web};
use chat_domain::Role;
use chat_service::auth::NewAgentInput;
use validator::Validate;

use crate::AppState;
use crate::error::ApiResult;
use crate::extract::Agent;
use crate::wire::{AgentListResponse, AgentResponse, CreateAgentRequest};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/agents/me", web::get().to(me))
        .route("/api/v1/agents", web::get().to(list))
        .route("/api/v1/agents", web::post().to(create));
}

async fn me(Agent(ctx): Agent) -> HttpResponse {
    HttpResponse::Ok().json(AgentResponse {
        agent: (&ctx.agent).into(),
    })
}

/// The tenant's agents, with who is online right now.
async fn list(state: web::Data<AppState>, Agent(ctx): Agent) -> ApiResult<HttpResponse> {
    let agents = state.chat.list_agents(&ctx).await?;
    let online = state.hub.online_agents(ctx.tenant_id()).await;
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
async fn create(
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
