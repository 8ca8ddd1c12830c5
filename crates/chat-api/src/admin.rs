//! Operator actions shared by the command line, demo mode and tests.

use chat_domain::tenant::AllowedOrigin;
use chat_domain::{Agent, NewTenant, Role, Tenant, TenantSlug};
use chat_service::auth::NewAgentInput;
use chat_service::{AuthService, Error, Repositories};

pub async fn create_tenant(
    repos: &Repositories,
    slug: &str,
    name: &str,
    origins: &[String],
) -> Result<Tenant, Error> {
    let name = chat_domain::agent::parse_display_name("name", name)?;
    let new = NewTenant {
        slug: TenantSlug::parse(slug)?,
        name,
        allowed_origins: origins
            .iter()
            .map(|o| AllowedOrigin::parse(o))
            .collect::<Result<_, _>>()?,
    };
    repos
        .tenants
        .create(new)
        .await
        .map_err(|e| match Error::from(e) {
            Error::Conflict { .. } => Error::Conflict {
                code: "conflict",
                message: format!("a tenant with slug {slug:?} already exists"),
            },
            other => other,
        })
}

pub struct AgentSpec<'a> {
    pub tenant: &'a str,
    pub email: &'a str,
    pub name: &'a str,
    pub password: &'a str,
    pub role: Role,
}

pub async fn create_agent(
    repos: &Repositories,
    auth: &AuthService,
    spec: AgentSpec<'_>,
) -> Result<(Tenant, Agent), Error> {
    let slug = TenantSlug::parse(spec.tenant)?;
    let tenant = repos
        .tenants
        .find_by_slug(&slug)
        .await?
        .ok_or(Error::NotFound("tenant"))?;
    let agent = auth
        .create_agent(
            None,
            &tenant.id,
            NewAgentInput {
                name: spec.name,
                email: spec.email,
                password: spec.password,
                role: spec.role,
            },
        )
        .await
        .map_err(|e| match e {
            Error::Conflict { .. } => Error::Conflict {
                code: "conflict",
                message: format!("an agent with email {:?} already exists", spec.email.trim()),
            },
            other => other,
        })?;
    Ok((tenant, agent))
}
