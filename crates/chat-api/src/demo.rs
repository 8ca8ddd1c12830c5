//! Demo mode: a tenant and two agents so that the product can be tried at
//! once. Idempotent; production mode never calls it.

use chat_domain::{Role, TenantSlug};
use chat_service::{AuthService, Error, Repositories};

use crate::admin::{AgentSpec, create_agent, create_tenant};

pub const TENANT: &str = "demo-tenant";
pub const AGENT_EMAIL: &str = "agent@demo.com";
pub const AGENT_PASSWORD: &str = "Test@1234";

pub async fn seed(repos: &Repositories, auth: &AuthService) -> Result<(), Error> {
    let slug = TenantSlug::parse(TENANT)?;
    if repos.tenants.find_by_slug(&slug).await?.is_none() {
        create_tenant(repos, TENANT, "Demo Company", &[]).await?;
    }
    let agents = [
        (AGENT_EMAIL, "Demo Agent", Role::Admin),
        ("alex@demo.com", "Alex Kim", Role::Agent),
    ];
    for (email, name, role) in agents {
        let spec = AgentSpec {
            tenant: TENANT,
            email,
            name,
            password: AGENT_PASSWORD,
            role,
        };
        match create_agent(repos, auth, spec).await {
            Ok(_) | Err(Error::Conflict { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
