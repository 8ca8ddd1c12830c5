//! Operator actions shared by the command line, demo mode and tests.

use std::path::Path;

use chat_domain::tenant::AllowedOrigin;
use chat_domain::{
    Agent, AgentPatch, ArticleInput, BotMode, Email, NewTenant, Role, Tenant, TenantSlug,
};
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
    let tenant = tenant_by_slug(repos, spec.tenant).await?;
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

/// A tenant's agents, by name.
pub async fn list_agents(repos: &Repositories, tenant: &str) -> Result<Vec<Agent>, Error> {
    let tenant = tenant_by_slug(repos, tenant).await?;
    Ok(repos.agents.list(&tenant.id).await?)
}

/// The agent with this address in the tenant.
pub async fn agent_by_email(
    repos: &Repositories,
    tenant: &str,
    email: &str,
) -> Result<(Tenant, Agent), Error> {
    let tenant = tenant_by_slug(repos, tenant).await?;
    let email = Email::parse(email)?;
    let agent = repos
        .agents
        .list(&tenant.id)
        .await?
        .into_iter()
        .find(|a| a.email == email)
        .ok_or(Error::NotFound("agent"))?;
    Ok((tenant, agent))
}

/// Role or activation, as an admin would change them (the last active
/// admin stays one).
pub async fn update_agent(
    repos: &Repositories,
    auth: &AuthService,
    tenant: &str,
    email: &str,
    patch: AgentPatch,
) -> Result<Agent, Error> {
    let (tenant, agent) = agent_by_email(repos, tenant, email).await?;
    auth.operator_update_agent(&tenant.id, &agent.id, patch)
        .await
}

async fn tenant_by_slug(repos: &Repositories, slug: &str) -> Result<Tenant, Error> {
    repos
        .tenants
        .find_by_slug(&TenantSlug::parse(slug)?)
        .await?
        .ok_or(Error::NotFound("tenant"))
}

pub async fn set_bot(
    repos: &Repositories,
    slug: &str,
    mode: &str,
    name: Option<&str>,
) -> Result<Tenant, Error> {
    let tenant = tenant_by_slug(repos, slug).await?;
    let mode = BotMode::parse(mode)?;
    let name = match name {
        Some(n) => chat_domain::agent::parse_display_name("name", n)?,
        None => tenant.bot_name.clone(),
    };
    Ok(repos.tenants.set_bot(&tenant.id, mode, &name).await?)
}

/// Articles from a `.jsonl` file (`{"title","body","keywords"?}` per line)
/// or a folder of `.md` files (title from the first `# ` heading, else the
/// file name).
pub fn read_articles(path: &Path) -> Result<Vec<ArticleInput>, Error> {
    let bad = |m: String| Error::Validation(chat_domain::ValidationError::new("file", m));
    let mut out = Vec::new();
    if path.is_dir() {
        let mut files: Vec<_> = std::fs::read_dir(path)
            .map_err(|e| bad(format!("{}: {e}", path.display())))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "md"))
            .collect();
        files.sort();
        for file in files {
            let text = std::fs::read_to_string(&file)
                .map_err(|e| bad(format!("{}: {e}", file.display())))?;
            let (title, body) = match text.trim_start().strip_prefix("# ") {
                Some(rest) => rest.split_once('\n').unwrap_or((rest, "")),
                None => (
                    file.file_stem()
                        .and_then(|s| s.to_str())
                        .unwrap_or("Untitled"),
                    text.as_str(),
                ),
            };
            out.push(
                ArticleInput::parse(title, body, &[])
                    .map_err(|e| bad(format!("{}: {e}", file.display())))?,
            );
        }
        return Ok(out);
    }
    let text =
        std::fs::read_to_string(path).map_err(|e| bad(format!("{}: {e}", path.display())))?;
    parse_jsonl(&text)
}

/// Articles from JSON lines (`{"title","body","keywords"?}` per line).
pub fn parse_jsonl(text: &str) -> Result<Vec<ArticleInput>, Error> {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Line {
        title: String,
        body: String,
        #[serde(default)]
        keywords: Vec<String>,
    }
    let bad = |m: String| Error::Validation(chat_domain::ValidationError::new("file", m));
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, line)| {
            let l: Line =
                serde_json::from_str(line).map_err(|e| bad(format!("line {}: {e}", i + 1)))?;
            ArticleInput::parse(&l.title, &l.body, &l.keywords)
                .map_err(|e| bad(format!("line {}: {e}", i + 1)))
        })
        .collect()
}

pub async fn import_articles(
    repos: &Repositories,
    slug: &str,
    articles: Vec<ArticleInput>,
) -> Result<usize, Error> {
    let tenant = tenant_by_slug(repos, slug).await?;
    let n = articles.len();
    for a in articles {
        // Stored with their vectors, as articles saved through the API are.
        repos
            .articles
            .create(&tenant.id, chat_service::with_vectors(a).await?)
            .await?;
    }
    Ok(n)
}
