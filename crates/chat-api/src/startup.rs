//! Building and running the server: store, services, hub, HTTP.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::{Server, ServerHandle};
use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, web};
use anyhow::Context;
use chat_domain::WebSocketHub;
use chat_service::{AuthService, ChatService, Repositories};
use chat_store::SeaOrmStore;
use chat_transport::{AppState, HubHandle};

use crate::configuration::Settings;
use crate::http;

/// The store and services, without the HTTP server (for admin commands).
pub struct Services {
    pub store: Arc<SeaOrmStore>,
    pub repos: Repositories,
    pub auth: Arc<AuthService>,
    pub chat: Arc<ChatService>,
}

impl Services {
    /// Connects, migrates and builds the services around `hub`. `listener`
    /// (host:port) is where this server answers, the default of the links
    /// in emails.
    pub async fn build(
        settings: &Settings,
        hub: Arc<dyn WebSocketHub>,
        listener: Option<&str>,
    ) -> anyhow::Result<Self> {
        let store = SeaOrmStore::connect(&settings.database.store_settings())
            .await
            .with_context(|| format!("connecting to {}", settings.database.redacted_url()))?;
        store.migrate().await.context("applying migrations")?;
        // Every stored change an endpoint subscribed to writes its delivery
        // in the same transaction.
        store.set_webhook_renderer(Arc::new(chat_transport::webhooks::WireWebhooks));
        let store = Arc::new(store);
        let repos = Repositories::from_store(store.clone());
        let auth = AuthService::new(repos.clone(), settings.auth.service_settings()).await?;
        let mut chat = ChatService::new(repos.clone(), hub)
            .with_bot_settings(settings.bot.service_settings())
            .with_visitor_memory(settings.visitors.memory())
            .with_files(settings.attachments.store()?, settings.attachments.limits());
        chat_transport::wire::set_files_base(&settings.attachments.public_base_url);
        if let Some(llm) = settings.bot.llm.settings() {
            let responder =
                chat_llm::OpenAiResponder::new(llm).map_err(|e| anyhow::anyhow!(e.0))?;
            chat = chat.with_llm(Arc::new(responder));
        }
        if let Some(url) = &settings.smtp.url {
            use secrecy::ExposeSecret;
            let dir = Some(settings.email.templates_dir.trim())
                .filter(|d| !d.is_empty())
                .map(std::path::Path::new);
            let templates = chat_mail::Templates::load(dir).map_err(|e| anyhow::anyhow!(e))?;
            let mailer =
                chat_mail::SmtpMailer::new(url.expose_secret(), &settings.smtp.from, templates)
                    .map_err(|e| anyhow::anyhow!(e))?;
            let configured = format!("{}:{}", settings.server.host, settings.server.port);
            let email = settings
                .email
                .service_settings(&settings.smtp.from, listener.unwrap_or(&configured));
            let key = chat
                .email_link_key()
                .await
                .context("reading the key of email links")?;
            chat = chat.with_email(Arc::new(mailer), email, key);
        }
        Ok(Self {
            store,
            repos,
            auth: Arc::new(auth),
            chat: Arc::new(chat),
        })
    }
}

pub struct Application {
    port: u16,
    server: Server,
    metrics: Option<(u16, Server)>,
    hub: HubHandle,
    services: Services,
    webhooks: Option<chat_transport::webhooks::WebhookSender>,
    /// How often the email sender runs, when it runs on this node.
    email_every: Option<Duration>,
    stop_webhooks: tokio::sync::watch::Sender<bool>,
}

impl Application {
    /// Binds the listener (port 0 picks a free one) and prepares the server.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let metrics = crate::metrics::start(&settings.metrics.listen)?;
        let hub = HubHandle::start(settings.ws.hub_limits()).context("starting the hub")?;
        let node_id = settings
            .node
            .id
            .clone()
            .unwrap_or_else(|| chat_service::new_secret()[..12].to_owned());
        let cluster = match settings.cluster(&node_id) {
            Some(cs) => Some(
                chat_transport::cluster::Cluster::start(cs, hub.clone())
                    .await
                    .map_err(|e| anyhow::anyhow!(e))?,
            ),
            None => None,
        };
        tracing::info!(node = %node_id, cluster = cluster.is_some(), "node");
        let publish: Arc<dyn WebSocketHub> = match &cluster {
            Some(c) => Arc::new(c.clone()),
            None => Arc::new(hub.clone()),
        };
        let listener = TcpListener::bind((settings.server.host.as_str(), settings.server.port))
            .with_context(|| {
                format!("binding {}:{}", settings.server.host, settings.server.port)
            })?;
        let port = listener.local_addr()?.port();
        let services = Services::build(
            &settings,
            publish,
            Some(&format!("{}:{port}", settings.server.host)),
        )
        .await?;
        if let Some(c) = &cluster {
            let chat = services.chat.clone();
            c.when_agent_online(Arc::new(move |tenant| chat.queue_may_move(tenant)));
        }
        if settings.demo.enabled {
            crate::demo::seed(&services.repos, &services.auth)
                .await
                .context("seeding demo data")?;
        }
        let wake = chat_transport::webhooks::Wake::default();
        let webhooks = if settings.webhooks.sender {
            Some(
                chat_transport::webhooks::WebhookSender::new(
                    services.repos.webhooks.clone(),
                    settings.webhooks.sender_settings(),
                    wake.clone(),
                )
                .map_err(|e| anyhow::anyhow!(e))?,
            )
        } else {
            None
        };
        let state = AppState {
            chat: services.chat.clone(),
            auth: services.auth.clone(),
            hub: hub.clone(),
            ws_limits: settings.ws.limits(),
            limits: Arc::new(chat_transport::RateLimits::new(settings.limits)),
            trusted_proxies: settings.server.trusted_proxy_list().into(),
            webhooks: wake,
            cluster,
        };
        let widget_dir = settings.server.widget_dir.clone();
        let dashboard_dir = settings.server.dashboard_dir.clone();
        let cors_origins = settings.server.cors_origin_list();
        let mut server = HttpServer::new(move || {
            App::new()
                .app_data(web::Data::new(state.clone()))
                .wrap(chat_transport::json_errors())
                .wrap(http::cors(&cors_origins))
                .wrap(from_fn(http::security_headers))
                .wrap(from_fn(http::cache_headers))
                // gzip or brotli as the client asks; the WebSocket upgrades
                // pass through untouched.
                .wrap(actix_web::middleware::Compress::default())
                .wrap(from_fn(http::request_metrics))
                .wrap(from_fn(chat_transport::request_id::middleware))
                .configure(chat_transport::configure)
                .configure(|cfg| http::static_files(cfg, &widget_dir, &dashboard_dir))
        })
        .on_connect(chat_transport::socket::on_connect(
            chat_transport::socket::SocketOptions {
                send_buffer: Some(settings.server.send_buffer_bytes).filter(|b| *b > 0),
                stalled_peer_timeout: Some(settings.server.stalled_peer_timeout_secs)
                    .filter(|s| *s > 0)
                    .map(std::time::Duration::from_secs),
            },
        ))
        .disable_signals()
        .shutdown_timeout(settings.server.shutdown_timeout_secs)
        .listen(listener)?;
        if settings.server.workers > 0 {
            server = server.workers(settings.server.workers);
        }
        Ok(Self {
            port,
            server: server.run(),
            metrics,
            hub,
            email_every: (settings.smtp.url.is_some() && settings.email.sender)
                .then(|| Duration::from_millis(settings.email.poll_interval_ms.clamp(20, 60_000))),
            services,
            webhooks,
            stop_webhooks: tokio::sync::watch::channel(false).0,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn services(&self) -> &Services {
        &self.services
    }

    /// A handle to stop the server gracefully.
    /// The metrics listener's port, when metrics are on.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics.as_ref().map(|(port, _)| *port)
    }

    pub fn stopper(&self) -> Stopper {
        Stopper {
            server: self.server.handle(),
            metrics: self.metrics.as_ref().map(|(_, s)| s.handle()),
            hub: self.hub.clone(),
            webhooks: self.stop_webhooks.clone(),
        }
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        if let Some((_, metrics)) = self.metrics {
            tokio::spawn(metrics);
        }
        if let Some(sender) = self.webhooks {
            tokio::spawn(sender.run(self.stop_webhooks.subscribe()));
        }
        tokio::spawn(expire_unsent_files(
            self.services.chat.clone(),
            self.stop_webhooks.subscribe(),
        ));
        if let Some(every) = self.email_every {
            tokio::spawn(send_email(
                self.services.chat.clone(),
                every,
                self.stop_webhooks.subscribe(),
            ));
        }
        let res = self.server.await;
        let _ = self.stop_webhooks.send(true);
        res
    }
}

#[derive(Clone)]
pub struct Stopper {
    server: ServerHandle,
    metrics: Option<ServerHandle>,
    hub: HubHandle,
    webhooks: tokio::sync::watch::Sender<bool>,
}

impl Stopper {
    /// Stops accepting, closes every WebSocket with 1001 "going away", then
    /// lets in-flight requests finish.
    pub async fn stop(&self) {
        // No new connections from here on; upgrades on connections already
        // open are refused by the hub (503), so nothing joins the drain.
        self.server.pause().await;
        let _ = self.webhooks.send(true);
        self.hub.shutdown().await;
        // Give the close frames a moment to be written before the workers go.
        tokio::time::sleep(Duration::from_millis(100)).await;
        self.server.stop(true).await;
        if let Some(metrics) = &self.metrics {
            metrics.stop(true).await;
        }
    }
}

/// Every `every`: queues the emails of replies customers have not
/// received, then sends what is due; stops with the server.
async fn send_email(
    chat: Arc<ChatService>,
    every: Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {
                let now = chrono::Utc::now();
                if let Err(e) = chat.queue_unseen_emails(now).await {
                    tracing::warn!(error = %e, "looking for unseen replies failed");
                }
                if let Err(e) = chat.send_due_emails(now).await {
                    tracing::warn!(error = %e, "sending email failed");
                }
            }
            _ = stop.changed() => return,
        }
    }
}

/// Every ten minutes (and once at start), deletes the files uploaded more
/// than a day ago and never sent; stops with the server.
async fn expire_unsent_files(chat: Arc<ChatService>, mut stop: tokio::sync::watch::Receiver<bool>) {
    let mut every = tokio::time::interval(Duration::from_secs(600));
    loop {
        tokio::select! {
            _ = every.tick() => {
                match chat.expire_unsent_attachments(chrono::Utc::now()).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(files = n, "unsent files expired"),
                    Err(e) => tracing::warn!(error = %e, "expiring unsent files failed"),
                }
            }
            _ = stop.changed() => return,
        }
    }
}
