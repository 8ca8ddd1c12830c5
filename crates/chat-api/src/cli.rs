//! The command line: `serve` (the default) and the admin commands.

use clap::{Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "chat-api",
    version,
    about = "Self-hostable real-time customer-support chat"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the server (the default).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Manage tenants.
    Tenant {
        #[command(subcommand)]
        action: TenantAction,
    },
    /// Manage agents.
    Agent {
        #[command(subcommand)]
        action: AgentAction,
    },
}

#[derive(Subcommand, Debug)]
pub enum TenantAction {
    /// Create a tenant with a public slug such as `acme`.
    Create {
        slug: String,
        #[arg(long)]
        name: String,
        /// An origin allowed to embed the widget; repeatable. None: any.
        #[arg(long = "allowed-origin")]
        allowed_origins: Vec<String>,
    },
}

#[derive(Subcommand, Debug)]
pub enum AgentAction {
    /// Create an agent in a tenant.
    Create {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        password: String,
        /// `agent` (default) or `admin`.
        #[arg(long, default_value = "agent")]
        role: String,
    },
}
