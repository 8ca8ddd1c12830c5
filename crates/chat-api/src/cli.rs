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
    /// Manage the knowledge base.
    Kb {
        #[command(subcommand)]
        action: KbAction,
    },
}

#[derive(Subcommand, Debug)]
pub enum KbAction {
    /// Import articles from a .jsonl file or a folder of .md files.
    Import {
        tenant: String,
        path: std::path::PathBuf,
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
    /// Set the tenant's bot: `off`, `knowledge_base` or `llm`.
    SetBot {
        slug: String,
        mode: String,
        /// The name bot messages are sent under.
        #[arg(long)]
        name: Option<String>,
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
    /// List a tenant's agents.
    List {
        #[arg(long)]
        tenant: String,
    },
    /// Make an agent `admin` or `agent`. The last active admin stays one.
    SetRole {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        email: String,
        role: String,
    },
    /// Deactivate an agent: no more logins, every token revoked.
    Deactivate {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        email: String,
    },
    /// Let a deactivated agent log in again.
    Activate {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        email: String,
    },
    /// Set a new password; every login of the agent ends.
    ResetPassword {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        email: String,
        /// Also read from CHAT_NEW_PASSWORD, to keep it out of the shell's
        /// history.
        #[arg(long, env = "CHAT_NEW_PASSWORD", hide_env_values = true)]
        password: String,
    },
}
