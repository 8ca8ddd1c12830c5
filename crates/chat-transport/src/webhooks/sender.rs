//! The background sender: claims due deliveries, posts them, records the
//! outcome and schedules retries.

use std::sync::Arc;
use std::time::Duration;

use chat_domain::repo::WebhookRepository;
use chat_domain::{AttemptOutcome, ClaimedDelivery, RetryPolicy};
use futures_util::StreamExt;
use tokio::sync::watch;

use super::guard::{GuardedResolver, literal_allowed};
use super::{Wake, sign, signing_key};

#[derive(Debug, Clone)]
pub struct WebhookSettings {
    /// Send to private, loopback and link-local addresses too (tests, or a
    /// receiver on the operator's own network).
    pub allow_private: bool,
    /// Per attempt, connecting included.
    pub timeout: Duration,
    /// How often the outbox is looked at.
    pub poll_interval: Duration,
    /// Attempts in flight at once.
    pub concurrency: usize,
    pub retry: RetryPolicy,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        Self {
            allow_private: false,
            timeout: Duration::from_secs(5),
            poll_interval: Duration::from_millis(500),
            concurrency: 8,
            retry: RetryPolicy::default(),
        }
    }
}

pub struct WebhookSender {
    repo: Arc<dyn WebhookRepository>,
    client: reqwest::Client,
    settings: WebhookSettings,
    wake: Wake,
}

impl WebhookSender {
    pub fn new(
        repo: Arc<dyn WebhookRepository>,
        settings: WebhookSettings,
        wake: Wake,
    ) -> Result<Self, String> {
        let client = reqwest::Client::builder()
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout)
            // A redirect could lead anywhere, the private network included.
            .redirect(reqwest::redirect::Policy::none())
            .dns_resolver(Arc::new(GuardedResolver {
                allow_private: settings.allow_private,
            }))
            .user_agent(concat!("Parley-Webhooks/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("webhook client: {e}"))?;
        Ok(Self {
            repo,
            client,
            settings,
            wake,
        })
    }

    /// Works the outbox until `stop` turns true.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        // A claim outlives the slowest attempt it covers, so an attempt in
        // flight is never handed to a second sender.
        let lease = self.settings.timeout * 2 + Duration::from_secs(5);
        let batch = u64::try_from(self.settings.concurrency * 4).unwrap_or(32);
        loop {
            if *stop.borrow() {
                return;
            }
            match self.repo.claim_due(chrono::Utc::now(), batch, lease).await {
                Ok(claimed) if !claimed.is_empty() => {
                    let full = claimed.len() as u64 == batch;
                    futures_util::stream::iter(claimed)
                        .for_each_concurrent(self.settings.concurrency, |d| self.attempt(d))
                        .await;
                    if full {
                        continue;
                    }
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "webhook outbox unreadable"),
            }
            tokio::select! {
                _ = tokio::time::sleep(self.settings.poll_interval) => {}
                _ = self.wake.woken() => {}
                _ = stop.changed() => {}
            }
        }
    }

    async fn attempt(&self, claimed: ClaimedDelivery) {
        let d = &claimed.delivery;
        let now = chrono::Utc::now();
        let outcome = match self.post(&claimed, now.timestamp()).await {
            Ok(status) if (200..300).contains(&status) => AttemptOutcome::Delivered { status },
            Ok(status) => self.failed(&claimed, Some(status), format!("HTTP {status}")),
            Err(error) => self.failed(&claimed, None, error),
        };
        let label = match &outcome {
            AttemptOutcome::Delivered { .. } => "delivered",
            AttemptOutcome::Failed {
                retry_at: Some(_), ..
            } => "retry",
            AttemptOutcome::Failed { retry_at: None, .. } => "failed",
        };
        metrics::counter!("chat_webhook_attempts_total", "outcome" => label).increment(1);
        tracing::info!(
            delivery = %d.id,
            event = %d.event_type,
            attempt = d.attempts + 1,
            outcome = label,
            "webhook attempt"
        );
        if let Err(e) = self
            .repo
            .record_attempt(&d.id, chrono::Utc::now(), outcome)
            .await
        {
            // The lease runs out and the delivery is tried again: at least
            // once, never lost.
            tracing::warn!(delivery = %d.id, error = %e, "webhook outcome not recorded");
        }
    }

    fn failed(
        &self,
        claimed: &ClaimedDelivery,
        status: Option<u16>,
        error: String,
    ) -> AttemptOutcome {
        let d = &claimed.delivery;
        AttemptOutcome::Failed {
            status,
            error,
            retry_at: self.settings.retry.next_attempt(
                d.created_at,
                d.attempts + 1,
                chrono::Utc::now(),
            ),
        }
    }

    async fn post(&self, claimed: &ClaimedDelivery, timestamp: i64) -> Result<u16, String> {
        let d = &claimed.delivery;
        let url = reqwest::Url::parse(&claimed.url).map_err(|e| format!("bad url: {e}"))?;
        if !literal_allowed(&url, self.settings.allow_private) {
            return Err("the address is private, loopback or link-local".into());
        }
        let key = signing_key(&claimed.secret).ok_or("the endpoint's secret is unreadable")?;
        let signature = sign(&key, &d.id, timestamp, &d.payload);
        let res = self
            .client
            .post(url)
            .header("content-type", "application/json")
            .header("webhook-id", &d.id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(d.payload.clone())
            .send()
            .await
            .map_err(describe)?;
        Ok(res.status().as_u16())
    }
}

/// A transport error with its causes, for the delivery log.
fn describe(e: reqwest::Error) -> String {
    if e.is_timeout() {
        return "timed out".to_owned();
    }
    let mut out = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(cause) = source {
        out.push_str(": ");
        out.push_str(&cause.to_string());
        source = cause.source();
    }
    out
}
