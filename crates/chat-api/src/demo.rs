//! Demo mode: a tenant and two agents so that the product can be tried at
//! once. Idempotent; production mode never calls it.

use chat_domain::{Role, TenantSlug};
use chat_service::{AuthService, Error, Repositories};

use crate::admin::{AgentSpec, create_agent, create_tenant, import_articles, parse_jsonl, set_bot};

/// The demo tenant's help centre, answered by the built-in bot.
pub const HELP_CENTRE: &str = include_str!("../demo/help-centre.jsonl");

pub const TENANT: &str = "demo-tenant";
pub const AGENT_EMAIL: &str = "agent@demo.com";
pub const AGENT_PASSWORD: &str = "Test@1234";

pub async fn seed(repos: &Repositories, auth: &AuthService) -> Result<(), Error> {
    let slug = TenantSlug::parse(TENANT)?;
    if repos.tenants.find_by_slug(&slug).await?.is_none() {
        let tenant = create_tenant(repos, TENANT, "Demo Company", &[]).await?;
        set_bot(repos, TENANT, "knowledge_base", Some("Assistant")).await?;
        let articles = parse_jsonl(HELP_CENTRE)?;
        import_articles(repos, tenant.slug.as_str(), articles).await?;
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
