use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use chat_api::admin::{
    AgentSpec, create_agent, create_tenant, import_articles, read_articles, set_bot,
};
use chat_api::cli::{AgentAction, Cli, Command, KbAction, TenantAction};
use chat_api::configuration::{self, Settings};
use chat_api::startup::{Application, Services};
use chat_api::{admin, demo, telemetry};
use chat_domain::hub::NoopHub;
use chat_domain::{AgentPatch, Role};
use clap::Parser;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let settings = match configuration::load() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: invalid configuration: {e}");
            return ExitCode::from(2);
        }
    };
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(settings).await,
        other => admin(settings, other).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(settings: Settings) -> anyhow::Result<()> {
    telemetry::init(&settings.log);
    let demo_on = settings.demo.enabled;
    let host = settings.server.host.clone();
    tracing::info!(database = %settings.database.redacted_url(), "starting");
    let app = Application::build(settings).await?;
    let base = format!("http://{host}:{}", app.port());
    tracing::info!(url = %base, "listening");
    if demo_on {
        println!("\n  Dashboard:     {base}/");
        println!("  Widget demo:   {base}/widget-demo.html");
        println!("  WebSocket log: {base}/websocket-test.html");
        println!(
            "  Sign in as {} / {} (tenant {})\n",
            demo::AGENT_EMAIL,
            demo::AGENT_PASSWORD,
            demo::TENANT
        );
    }
    let stopper = app.stopper();
    tokio::spawn(async move {
        shutdown_signal().await;
        tracing::info!("shutting down");
        stopper.stop().await;
    });
    app.run_until_stopped().await.context("server failed")
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

async fn admin(settings: Settings, command: Command) -> anyhow::Result<()> {
    let services = Services::build(&settings, Arc::new(NoopHub), None).await?;
    match command {
        Command::Serve | Command::Migrate => println!("migrations applied"),
        Command::Tenant {
            action:
                TenantAction::Create {
                    slug,
                    name,
                    allowed_origins,
                },
        } => {
            let t = create_tenant(&services.repos, &slug, &name, &allowed_origins).await?;
            let origins: Vec<&str> = t.allowed_origins.iter().map(|o| o.as_str()).collect();
            println!(
                "created tenant {} ({}) id={} allowed_origins={:?}",
                t.slug.as_str(),
                t.name,
                t.id,
                origins
            );
        }
        Command::Tenant {
            action: TenantAction::SetBot { slug, mode, name },
        } => {
            let t = set_bot(&services.repos, &slug, &mode, name.as_deref()).await?;
            println!(
                "tenant {} bot: {} as {:?}",
                t.slug.as_str(),
                t.bot_mode.as_str(),
                t.bot_name
            );
        }
        Command::Kb {
            action: KbAction::Import { tenant, path },
        } => {
            let articles = read_articles(&path)?;
            let n = import_articles(&services.repos, &tenant, articles).await?;
            println!("imported {n} articles into tenant {tenant}");
        }
        Command::Agent {
            action:
                AgentAction::Create {
                    tenant,
                    email,
                    name,
                    password,
                    role,
                },
        } => {
            let role = Role::parse(&role)?;
            let spec = AgentSpec {
                tenant: &tenant,
                email: &email,
                name: &name,
                password: &password,
                role,
            };
            let (t, a) = create_agent(&services.repos, &services.auth, spec).await?;
            println!(
                "created {} {} <{}> in tenant {} id={}",
                a.role.as_str(),
                a.name,
                a.email.as_str(),
                t.slug.as_str(),
                a.id
            );
        }
        Command::Agent {
            action: AgentAction::List { tenant },
        } => {
            for a in admin::list_agents(&services.repos, &tenant).await? {
                println!(
                    "{}\t{}\t{}\t{}\t{}",
                    a.id,
                    a.email.as_str(),
                    a.role.as_str(),
                    if a.active { "active" } else { "deactivated" },
                    a.name
                );
            }
        }
        Command::Agent {
            action:
                AgentAction::SetRole {
                    tenant,
                    email,
                    role,
                },
        } => {
            let patch = AgentPatch {
                role: Some(Role::parse(&role)?),
                ..AgentPatch::default()
            };
            let a = admin::update_agent(&services.repos, &services.auth, &tenant, &email, patch)
                .await?;
            println!("{} is now {}", a.email.as_str(), a.role.as_str());
        }
        Command::Agent {
            action: AgentAction::Deactivate { tenant, email },
        } => {
            let patch = AgentPatch {
                active: Some(false),
                ..AgentPatch::default()
            };
            let a = admin::update_agent(&services.repos, &services.auth, &tenant, &email, patch)
                .await?;
            println!(
                "deactivated {}; every token of theirs is revoked",
                a.email.as_str()
            );
        }
        Command::Agent {
            action: AgentAction::Activate { tenant, email },
        } => {
            let patch = AgentPatch {
                active: Some(true),
                ..AgentPatch::default()
            };
            let a = admin::update_agent(&services.repos, &services.auth, &tenant, &email, patch)
                .await?;
            println!("activated {}", a.email.as_str());
        }
        Command::Agent {
            action:
                AgentAction::ResetPassword {
                    tenant,
                    email,
                    password,
                },
        } => {
            let (t, a) = admin::agent_by_email(&services.repos, &tenant, &email).await?;
            services
                .auth
                .reset_password(&t.id, &a.id, &password)
                .await?;
            println!(
                "set a new password for {}; their logins are ended",
                a.email.as_str()
            );
        }
    }
    Ok(())
}
