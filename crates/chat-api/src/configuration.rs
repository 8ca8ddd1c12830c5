//! Settings: defaults, then an optional `chat.toml` (or the file named by
//! `CHAT_CONFIG`), then `CHAT__SECTION__KEY` environment overrides.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default)]
pub struct Settings {
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub demo: DemoSettings,
    pub log: LogSettings,
    pub auth: AuthSettings,
    pub ws: WsSettings,
    pub bot: BotConfig,
    /// Request limits of the public edge (`CHAT__LIMITS__…`), each so many
    /// per minute, up to half of it at once.
    pub limits: chat_transport::RateLimitSettings,
    pub metrics: MetricsSettings,
    pub webhooks: WebhookConfig,
    pub redis: RedisSettings,
    pub node: NodeSettings,
    pub visitors: VisitorSettings,
    pub attachments: AttachmentSettings,
    pub smtp: SmtpSettings,
    pub email: EmailConfig,
}

/// The SMTP server of outgoing email (`CHAT__SMTP__…`); without a URL no
/// email is sent.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default)]
pub struct SmtpSettings {
    /// `smtp://user:pass@host:587` (STARTTLS), `smtps://user:pass@host:465`,
    /// or `smtp://host:25?tls=none` for a relay that speaks no TLS.
    pub url: Option<SecretString>,
    /// The sender's address, e.g. `Support <help@example.com>`.
    pub from: String,
}

/// Outgoing email (`CHAT__EMAIL__…`).
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct EmailConfig {
    /// An agent's reply the customer has not received this long after is
    /// emailed to them.
    pub unseen_delay_secs: u64,
    /// This server as customers reach it, for the links in emails
    /// (default: `http://host:port` of the listener).
    pub public_url: String,
    /// A folder whose files replace the shipped templates of the same name.
    pub templates_dir: String,
    /// How long the link back into a conversation works.
    pub link_ttl_days: u64,
    /// Run the email sender on this node.
    pub sender: bool,
    /// How often the sender looks for due emails and unseen replies.
    pub poll_interval_ms: u64,
}

impl Default for EmailConfig {
    fn default() -> Self {
        Self {
            unseen_delay_secs: 120,
            public_url: String::new(),
            templates_dir: String::new(),
            link_ttl_days: 7,
            sender: true,
            poll_interval_ms: 5000,
        }
    }
}

impl EmailConfig {
    /// The service's email settings, with `listener` (host:port) as the
    /// public URL where none is set.
    pub fn service_settings(&self, from: &str, listener: &str) -> chat_service::EmailSettings {
        let public = if self.public_url.trim().is_empty() {
            format!("http://{listener}")
        } else {
            self.public_url.trim().trim_end_matches('/').to_owned()
        };
        chat_service::EmailSettings {
            unseen_delay: Duration::from_secs(self.unseen_delay_secs),
            public_url: public,
            link_ttl: Duration::from_secs(self.link_ttl_days.clamp(1, 90) * 86_400),
            from: from.to_owned(),
        }
    }
}

/// Files sent in conversations (`CHAT__ATTACHMENTS__…`): on local disk by
/// default, or in an S3-compatible bucket when `s3.bucket` is set
/// (credentials from the environment: `AWS_ACCESS_KEY_ID`,
/// `AWS_SECRET_ACCESS_KEY`).
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct AttachmentSettings {
    pub dir: String,
    /// One file's limit in bytes (default 10 MiB).
    pub max_bytes: u64,
    pub max_per_session: u64,
    pub max_bytes_per_session: u64,
    /// Download URLs under another origin (a CDN or a cookieless domain
    /// that forwards `/api/v1/files/` here); empty: this server's.
    pub public_base_url: String,
    pub s3: S3Settings,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default)]
pub struct S3Settings {
    pub bucket: Option<String>,
    pub endpoint: Option<String>,
    pub region: Option<String>,
    /// Otherwise `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY` (or the
    /// instance's role).
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<SecretString>,
}

impl Default for AttachmentSettings {
    fn default() -> Self {
        let limits = chat_domain::AttachmentLimits::default();
        Self {
            dir: "./data/files".into(),
            max_bytes: limits.max_bytes,
            max_per_session: limits.max_per_session,
            max_bytes_per_session: limits.max_bytes_per_session,
            public_base_url: String::new(),
            s3: S3Settings::default(),
        }
    }
}

impl AttachmentSettings {
    pub fn limits(&self) -> chat_domain::AttachmentLimits {
        chat_domain::AttachmentLimits {
            max_bytes: self.max_bytes.max(1),
            max_per_session: self.max_per_session.max(1),
            max_bytes_per_session: self.max_bytes_per_session.max(1),
            ..chat_domain::AttachmentLimits::default()
        }
    }

    /// The file store these settings name.
    pub fn store(&self) -> anyhow::Result<std::sync::Arc<dyn chat_domain::FileStore>> {
        let files = match self.s3.bucket.as_deref().filter(|b| !b.is_empty()) {
            Some(bucket) => chat_files::ObjectFiles::s3(chat_files::S3 {
                bucket,
                endpoint: self.s3.endpoint.as_deref().filter(|e| !e.is_empty()),
                region: self.s3.region.as_deref().filter(|r| !r.is_empty()),
                credentials: match (&self.s3.access_key_id, &self.s3.secret_access_key) {
                    (Some(id), Some(secret)) => Some((id.as_str(), secret.expose_secret())),
                    _ => None,
                },
            }),
            None => chat_files::ObjectFiles::local(std::path::Path::new(&self.dir)),
        }
        .map_err(|e| anyhow::anyhow!("CHAT__ATTACHMENTS: {e}"))?;
        Ok(std::sync::Arc::new(files))
    }
}

/// The cluster bridge (`CHAT__REDIS__…`): off without a URL.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct RedisSettings {
    /// `redis://127.0.0.1:6379/0`; unset: the node runs alone.
    pub url: Option<SecretString>,
    /// Of every key and channel.
    pub prefix: String,
    pub heartbeat_ms: u64,
    /// A node silent this long is dead (its presence and caps stop counting).
    pub dead_after_secs: u64,
    /// A bridge down this long closes the node's sockets with 1012.
    pub give_up_secs: u64,
}

impl Default for RedisSettings {
    fn default() -> Self {
        Self {
            url: None,
            prefix: "chat".into(),
            heartbeat_ms: 3000,
            dead_after_secs: 15,
            give_up_secs: 30,
        }
    }
}

/// Returning visitors (`CHAT__VISITORS__…`): a browser that comes back
/// within `remember_days` of its last conversation is the same customer.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct VisitorSettings {
    pub remember_days: u64,
}

impl Default for VisitorSettings {
    fn default() -> Self {
        Self {
            remember_days: chat_service::VISITOR_MEMORY_DAYS as u64,
        }
    }
}

impl VisitorSettings {
    pub fn memory(&self) -> Duration {
        Duration::from_secs(self.remember_days.clamp(1, 3650) * 86_400)
    }
}

/// This node (`CHAT__NODE__ID`, default a random id, logged at start).
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default)]
pub struct NodeSettings {
    pub id: Option<String>,
}

impl Settings {
    /// The cluster settings, when a Redis URL is set.
    pub fn cluster(&self, node_id: &str) -> Option<chat_transport::cluster::ClusterSettings> {
        let url = self.redis.url.as_ref()?.expose_secret().to_owned();
        Some(chat_transport::cluster::ClusterSettings {
            url,
            prefix: self.redis.prefix.clone(),
            node_id: node_id.to_owned(),
            heartbeat: Duration::from_millis(self.redis.heartbeat_ms.clamp(100, 60_000)),
            dead_after: Duration::from_secs(self.redis.dead_after_secs.max(1)),
            give_up: Duration::from_secs(self.redis.give_up_secs.max(1)),
            max_sockets_per_session: self.ws.max_sockets_per_session,
            max_sockets_per_agent: self.ws.max_sockets_per_agent,
        })
    }
}

/// Outgoing webhooks (`CHAT__WEBHOOKS__…`).
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct WebhookConfig {
    /// Also deliver to private, loopback and link-local addresses.
    pub allow_private: bool,
    /// Per attempt, connecting included.
    pub timeout_secs: u64,
    pub poll_interval_ms: u64,
    pub concurrency: usize,
    /// The delay before the first retry; each later one is five times the
    /// one before, up to ten hours.
    pub first_retry_ms: u64,
    /// No retries once a delivery is this old.
    pub give_up_after_secs: u64,
    /// Run the sender on this node (every node may; each delivery is sent
    /// by one).
    pub sender: bool,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        let d = chat_transport::webhooks::WebhookSettings::default();
        Self {
            allow_private: d.allow_private,
            timeout_secs: d.timeout.as_secs(),
            poll_interval_ms: u64::try_from(d.poll_interval.as_millis()).unwrap_or(500),
            concurrency: d.concurrency,
            first_retry_ms: u64::try_from(d.retry.first_retry.as_millis()).unwrap_or(10_000),
            give_up_after_secs: d.retry.give_up_after.as_secs(),
            sender: true,
        }
    }
}

impl WebhookConfig {
    pub fn sender_settings(&self) -> chat_transport::webhooks::WebhookSettings {
        chat_transport::webhooks::WebhookSettings {
            allow_private: self.allow_private,
            timeout: Duration::from_secs(self.timeout_secs.clamp(1, 60)),
            poll_interval: Duration::from_millis(self.poll_interval_ms.clamp(10, 60_000)),
            concurrency: self.concurrency.clamp(1, 256),
            retry: chat_domain::RetryPolicy {
                first_retry: Duration::from_millis(self.first_retry_ms.clamp(10, 30_000)),
                give_up_after: Duration::from_secs(self.give_up_after_secs.max(1)),
            },
        }
    }
}

/// Where Prometheus scrapes (`CHAT__METRICS__LISTEN`).
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct MetricsSettings {
    /// `host:port` of the metrics listener (port 0 picks one and logs it),
    /// or `off`.
    pub listen: String,
}

impl Default for MetricsSettings {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:9464".into(),
        }
    }
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default)]
pub struct BotConfig {
    /// Replaces the built-in English phrases by which customers ask for a
    /// person (add every language your tenants use).
    pub handoff_phrases: Option<Vec<String>>,
    pub handoff_message: Option<String>,
    /// Bot answers per session before it hands off (`CHAT__BOT__MAX_ANSWERS_PER_SESSION`).
    pub max_answers_per_session: Option<u64>,
    pub llm: LlmConfig,
}

impl BotConfig {
    pub fn service_settings(&self) -> chat_service::BotSettings {
        let mut s = chat_service::BotSettings::default();
        if let Some(p) = &self.handoff_phrases {
            s.handoff_phrases = p.iter().map(|x| x.to_lowercase()).collect();
        }
        if let Some(m) = &self.handoff_message {
            s.handoff_message = Some(m.clone());
        }
        if let Some(n) = self.max_answers_per_session {
            s.max_answers_per_session = n;
        }
        s
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct LlmConfig {
    /// Empty: no model; tenants in `llm` mode use the knowledge base.
    pub base_url: String,
    pub model: String,
    /// The environment variable that holds the API key.
    pub api_key_env: String,
    pub timeout_ms: u64,
    pub max_tokens: u32,
}

impl Default for LlmConfig {
    fn default() -> Self {
        Self {
            base_url: String::new(),
            model: "gpt-4o-mini".into(),
            api_key_env: "CHAT_LLM_API_KEY".into(),
            timeout_ms: 8000,
            max_tokens: 300,
        }
    }
}

impl LlmConfig {
    pub fn settings(&self) -> Option<chat_llm::LlmSettings> {
        if self.base_url.trim().is_empty() {
            return None;
        }
        Some(chat_llm::LlmSettings {
            base_url: self.base_url.clone(),
            model: self.model.clone(),
            api_key: std::env::var(&self.api_key_env)
                .ok()
                .filter(|k| !k.is_empty()),
            timeout: Duration::from_millis(self.timeout_ms.max(100)),
            max_tokens: self.max_tokens.max(16),
            passages: 3,
        })
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct ServerSettings {
    pub host: String,
    pub port: u16,
    /// HTTP worker threads; 0 means one per core.
    pub workers: usize,
    /// Folder with the built widget (`chat-widget.js` and its pages).
    pub widget_dir: String,
    /// Folder with the built dashboard, served at `/`.
    pub dashboard_dir: String,
    pub shutdown_timeout_secs: u64,
    /// Comma-separated origins, besides the dashboard's own, whose pages
    /// may call the agent API.
    pub cors_origins: String,
    /// Comma-separated addresses of the reverse proxies in front of the
    /// server, whose `X-Forwarded-For` is believed; none by default.
    pub trusted_proxies: String,
    /// `SO_SNDBUF` of every accepted socket, bounding what the kernel holds
    /// for a client that does not read; 0 keeps the kernel's autotuning.
    pub send_buffer_bytes: usize,
    /// `TCP_USER_TIMEOUT` of every accepted socket: a connection whose
    /// peer has, for this long, neither acknowledged what was sent nor
    /// opened its window for what waits is dropped by the kernel; 0 keeps
    /// the kernel's rules.
    pub stalled_peer_timeout_secs: u64,
}

impl ServerSettings {
    pub fn cors_origin_list(&self) -> Vec<String> {
        self.cors_origins
            .split(',')
            .map(str::trim)
            .filter(|o| !o.is_empty())
            .map(str::to_owned)
            .collect()
    }

    /// The trusted proxies' addresses; an entry that is not one is ignored
    /// with a warning.
    pub fn trusted_proxy_list(&self) -> Vec<std::net::IpAddr> {
        self.trusted_proxies
            .split(',')
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .filter_map(|a| match a.parse() {
                Ok(ip) => Some(ip),
                Err(_) => {
                    tracing::warn!(entry = a, "CHAT__SERVER__TRUSTED_PROXIES: not an address");
                    None
                }
            })
            .collect()
    }
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            host: "127.0.0.1".into(),
            port: 8080,
            workers: 0,
            widget_dir: "widget/dist".into(),
            dashboard_dir: "frontend/dist".into(),
            shutdown_timeout_secs: 10,
            cors_origins: String::new(),
            trusted_proxies: String::new(),
            send_buffer_bytes: 256 * 1024,
            stalled_peer_timeout_secs: 30,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct DatabaseSettings {
    /// May hold a password, so it is never printed.
    pub url: SecretString,
    pub max_connections: u32,
    /// SQLite only: `full` (default) or `normal`.
    pub sqlite_synchronous: String,
    /// How long a query may wait for a pooled connection (or a new one)
    /// before it fails as 503.
    pub acquire_timeout_ms: u64,
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        Self {
            url: SecretString::from("sqlite://./data/chat.db?mode=rwc"),
            max_connections: 16,
            sqlite_synchronous: "full".into(),
            acquire_timeout_ms: 1000,
        }
    }
}

impl DatabaseSettings {
    pub fn store_settings(&self) -> chat_store::StoreSettings {
        chat_store::StoreSettings {
            url: self.url.expose_secret().to_owned(),
            max_connections: self.max_connections.max(1),
            sqlite_synchronous_full: !self.sqlite_synchronous.eq_ignore_ascii_case("normal"),
            acquire_timeout: Duration::from_millis(self.acquire_timeout_ms.max(50)),
        }
    }

    /// The URL with any password masked, for logs.
    pub fn redacted_url(&self) -> String {
        let url = self.url.expose_secret();
        match (url.find("://"), url.rfind('@')) {
            (Some(s), Some(at)) if at > s => {
                let creds = &url[s + 3..at];
                let user = creds.split(':').next().unwrap_or_default();
                format!("{}{}:***{}", &url[..s + 3], user, &url[at..])
            }
            _ => url.to_owned(),
        }
    }
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default)]
pub struct DemoSettings {
    /// Seeds the demo tenant and agents on start. Never on in production.
    pub enabled: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct LogSettings {
    /// `pretty` or `json`.
    pub format: String,
    /// A `tracing` filter; `RUST_LOG` wins when set.
    pub filter: String,
}

impl Default for LogSettings {
    fn default() -> Self {
        Self {
            format: "pretty".into(),
            filter: "info,sqlx=warn,sea_orm=warn".into(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct AuthSettings {
    pub token_ttl_secs: u64,
    pub ticket_ttl_secs: u64,
    pub max_failures_per_client: usize,
    pub max_failures_per_account: usize,
    pub max_failures_per_address: usize,
    pub failure_window_secs: u64,
    pub max_concurrent_hashes: usize,
}

impl Default for AuthSettings {
    fn default() -> Self {
        let d = chat_service::AuthSettings::default();
        Self {
            token_ttl_secs: d.token_ttl.as_secs(),
            ticket_ttl_secs: d.ticket_ttl.as_secs(),
            max_failures_per_client: d.max_failures_per_client,
            max_failures_per_account: d.max_failures_per_account,
            max_failures_per_address: d.max_failures_per_address,
            failure_window_secs: d.failure_window.as_secs(),
            max_concurrent_hashes: d.max_concurrent_hashes,
        }
    }
}

impl AuthSettings {
    pub fn service_settings(&self) -> chat_service::AuthSettings {
        chat_service::AuthSettings {
            token_ttl: Duration::from_secs(self.token_ttl_secs.max(1)),
            ticket_ttl: Duration::from_secs(self.ticket_ttl_secs.max(1)),
            max_failures_per_client: self.max_failures_per_client.max(1),
            max_failures_per_account: self.max_failures_per_account.max(1),
            max_failures_per_address: self.max_failures_per_address.max(1),
            failure_window: Duration::from_secs(self.failure_window_secs.max(1)),
            max_concurrent_hashes: self.max_concurrent_hashes.max(1),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct WsSettings {
    pub max_frame_bytes: usize,
    pub frames_per_second: u32,
    pub burst: u32,
    pub flood_tolerance: u32,
    pub outbound_queue: usize,
    pub heartbeat_secs: u64,
    pub missed_pongs: u32,
    pub typing_interval_ms: u64,
    pub max_sockets_per_session: usize,
    pub max_sockets_per_agent: usize,
    pub write_deadline_ms: u64,
    pub max_replay: usize,
}

impl Default for WsSettings {
    fn default() -> Self {
        let d = chat_transport::WsLimits::default();
        Self {
            max_frame_bytes: d.max_frame_bytes,
            frames_per_second: d.frames_per_second,
            burst: d.burst,
            flood_tolerance: d.flood_tolerance,
            outbound_queue: d.outbound_queue,
            heartbeat_secs: d.heartbeat.as_secs(),
            missed_pongs: d.missed_pongs,
            typing_interval_ms: u64::try_from(d.typing_interval.as_millis()).unwrap_or(2000),
            max_sockets_per_session: 20,
            max_sockets_per_agent: 50,
            write_deadline_ms: u64::try_from(d.write_deadline.as_millis()).unwrap_or(10_000),
            max_replay: d.max_replay,
        }
    }
}

impl WsSettings {
    pub fn limits(&self) -> chat_transport::WsLimits {
        chat_transport::WsLimits {
            max_frame_bytes: self.max_frame_bytes.max(1024),
            frames_per_second: self.frames_per_second.max(1),
            burst: self.burst.max(1),
            flood_tolerance: self.flood_tolerance,
            outbound_queue: self.outbound_queue.max(1),
            heartbeat: Duration::from_secs(self.heartbeat_secs.max(1)),
            missed_pongs: self.missed_pongs.max(1),
            typing_interval: Duration::from_millis(self.typing_interval_ms),
            write_deadline: Duration::from_millis(self.write_deadline_ms.max(10)),
            max_replay: self.max_replay.max(1),
        }
    }

    pub fn hub_limits(&self) -> chat_transport::HubLimits {
        chat_transport::HubLimits {
            max_sockets_per_session: self.max_sockets_per_session.max(1),
            max_sockets_per_agent: self.max_sockets_per_agent.max(1),
        }
    }
}

/// Loads the settings from file and environment.
pub fn load() -> Result<Settings, config::ConfigError> {
    let file = std::env::var("CHAT_CONFIG").unwrap_or_else(|_| "chat.toml".into());
    config::Config::builder()
        .add_source(config::File::with_name(&file).required(false))
        .add_source(
            config::Environment::with_prefix("CHAT")
                .prefix_separator("__")
                .separator("__")
                .try_parsing(true),
        )
        .build()?
        .try_deserialize()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_in_database_urls_are_masked() {
        let db = DatabaseSettings {
            url: SecretString::from("postgres://chat:s3cret@db:5432/chat"),
            ..DatabaseSettings::default()
        };
        assert_eq!(db.redacted_url(), "postgres://chat:***@db:5432/chat");
    }

    #[test]
    fn the_default_database_is_sqlite_under_data() {
        let url = Settings::default().database.store_settings().url;
        assert!(url.starts_with("sqlite://./data/"), "{url}");
    }
}
