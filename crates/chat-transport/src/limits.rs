//! Request limits for the public edge: how many sessions an address and a
//! tenant may start, and how fast customers and agents may send. One keyed
//! limiter type (governor's GCRA) for every kind of key; a refusal is
//! `429 rate_limited` with `Retry-After`.
//!
//! The client address is the peer's, unless the peer is one of the
//! operator's trusted proxies: then it is the nearest untrusted address of
//! `X-Forwarded-For`, so a client cannot choose its own key.

use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU32, Ordering};

use actix_web::HttpRequest;
use actix_web::http::StatusCode;
use chat_domain::{AgentId, SessionId, TenantId};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::error::ApiError;

/// Every limit as "so many per minute"; up to half of it may come at once.
/// Read from the settings file and `CHAT__LIMITS__…` as it is.
#[derive(Debug, Clone, Copy, serde::Deserialize)]
#[serde(default)]
pub struct RateLimitSettings {
    pub starts_per_address: u32,
    pub starts_per_tenant: u32,
    pub sends_per_address: u32,
    pub sends_per_tenant: u32,
    pub sends_per_session: u32,
    pub sends_per_agent: u32,
    /// The widget's reads (its session, its messages) and socket opens.
    pub reads_per_address: u32,
    /// Full-text searches and transcripts of one agent (or API token's
    /// agent).
    pub searches_per_agent: u32,
}

impl Default for RateLimitSettings {
    fn default() -> Self {
        Self {
            starts_per_address: 30,
            starts_per_tenant: 600,
            sends_per_address: 120,
            sends_per_tenant: 3000,
            sends_per_session: 30,
            sends_per_agent: 300,
            reads_per_address: 600,
            searches_per_agent: 120,
        }
    }
}

/// Every so many checks, idle keys are dropped so that a stream of new
/// keys cannot grow a map without bound.
const PRUNE_EVERY: u32 = 4096;

struct Limiter<K: Hash + Eq + Clone> {
    /// The `what` label of `chat_rate_limited_total`.
    label: &'static str,
    what: &'static str,
    per_minute: u32,
    inner: DefaultKeyedRateLimiter<K>,
}

/// One limit as the cluster checks it: the same rate and burst as the
/// node's, under a key shared by every node.
#[derive(Debug, Clone)]
pub struct SharedLimit {
    pub label: &'static str,
    pub what: &'static str,
    pub key: String,
    pub per_minute: u32,
}

impl SharedLimit {
    /// The refusal, counted under the limit's label.
    pub fn refused(&self, wait: std::time::Duration) -> ApiError {
        metrics::counter!("chat_rate_limited_total", "what" => self.label).increment(1);
        refused(self.what, wait.as_secs() + 1)
    }
}

impl<K: Hash + Eq + Clone> Limiter<K> {
    fn per_minute(label: &'static str, what: &'static str, n: u32) -> Self {
        let rate = NonZeroU32::new(n.max(1)).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new((n / 2).max(1)).unwrap_or(NonZeroU32::MIN);
        Self {
            label,
            what,
            per_minute: n,
            inner: RateLimiter::keyed(Quota::per_minute(rate).allow_burst(burst)),
        }
    }

    fn shared(&self, key: impl std::fmt::Display) -> SharedLimit {
        SharedLimit {
            label: self.label,
            what: self.what,
            key: key.to_string(),
            per_minute: self.per_minute,
        }
    }

    fn check(&self, key: &K) -> Result<(), ApiError> {
        self.inner.check_key(key).map_err(|not_until| {
            metrics::counter!("chat_rate_limited_total", "what" => self.label).increment(1);
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            refused(self.what, wait.as_secs() + 1)
        })
    }
}

pub(crate) fn refused(what: &str, retry_after: u64) -> ApiError {
    ApiError {
        retry_after: Some(retry_after),
        ..ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!("too many {what}; retry in {retry_after} s"),
        )
    }
}

pub struct RateLimits {
    starts_per_address: Limiter<IpAddr>,
    starts_per_tenant: Limiter<String>,
    sends_per_address: Limiter<IpAddr>,
    sends_per_tenant: Limiter<TenantId>,
    sends_per_session: Limiter<SessionId>,
    sends_per_agent: Limiter<AgentId>,
    reads_per_address: Limiter<IpAddr>,
    searches_per_agent: Limiter<AgentId>,
    checks: AtomicU32,
}

impl RateLimits {
    pub fn new(s: RateLimitSettings) -> Self {
        Self {
            starts_per_address: Limiter::per_minute(
                "starts_per_address",
                "new chats from this address",
                s.starts_per_address,
            ),
            starts_per_tenant: Limiter::per_minute(
                "starts_per_tenant",
                "new chats for this site",
                s.starts_per_tenant,
            ),
            sends_per_address: Limiter::per_minute(
                "sends_per_address",
                "messages from this address",
                s.sends_per_address,
            ),
            sends_per_tenant: Limiter::per_minute(
                "sends_per_tenant",
                "messages for this site",
                s.sends_per_tenant,
            ),
            sends_per_session: Limiter::per_minute(
                "sends_per_session",
                "messages in this chat",
                s.sends_per_session,
            ),
            sends_per_agent: Limiter::per_minute(
                "sends_per_agent",
                "messages from this agent",
                s.sends_per_agent,
            ),
            reads_per_address: Limiter::per_minute(
                "reads_per_address",
                "requests from this address",
                s.reads_per_address,
            ),
            searches_per_agent: Limiter::per_minute(
                "searches_per_agent",
                "searches from this agent",
                s.searches_per_agent,
            ),
            checks: AtomicU32::new(0),
        }
    }

    fn tick(&self) {
        if self.checks.fetch_add(1, Ordering::Relaxed) % PRUNE_EVERY == PRUNE_EVERY - 1 {
            self.starts_per_address.inner.retain_recent();
            self.starts_per_tenant.inner.retain_recent();
            self.sends_per_address.inner.retain_recent();
            self.sends_per_tenant.inner.retain_recent();
            self.sends_per_session.inner.retain_recent();
            self.sends_per_agent.inner.retain_recent();
            self.reads_per_address.inner.retain_recent();
            self.searches_per_agent.inner.retain_recent();
        }
    }

    /// A widget starting a chat for the tenant `slug`; with the limits the
    /// cluster checks next.
    pub fn session_start(&self, address: IpAddr, slug: &str) -> Result<Vec<SharedLimit>, ApiError> {
        self.tick();
        self.starts_per_address.check(&address)?;
        self.starts_per_tenant.check(&slug.to_owned())?;
        Ok(vec![
            self.starts_per_address.shared(address),
            self.starts_per_tenant.shared(slug),
        ])
    }

    /// A customer's message, over HTTP or the socket.
    pub fn customer_send(
        &self,
        address: IpAddr,
        tenant: &TenantId,
        session: &SessionId,
    ) -> Result<Vec<SharedLimit>, ApiError> {
        self.tick();
        self.sends_per_session.check(session)?;
        self.sends_per_address.check(&address)?;
        self.sends_per_tenant.check(tenant)?;
        Ok(vec![
            self.sends_per_session.shared(session),
            self.sends_per_address.shared(address),
            self.sends_per_tenant.shared(tenant),
        ])
    }

    /// A widget reading its session or messages, or opening its socket.
    pub fn public_read(&self, address: IpAddr) -> Result<Vec<SharedLimit>, ApiError> {
        self.tick();
        self.reads_per_address.check(&address)?;
        Ok(vec![self.reads_per_address.shared(address)])
    }

    /// An agent's message: authenticated, so a generous budget of its own.
    pub fn agent_send(&self, agent: &AgentId) -> Result<Vec<SharedLimit>, ApiError> {
        self.tick();
        self.sends_per_agent.check(agent)?;
        Ok(vec![self.sends_per_agent.shared(agent)])
    }

    pub fn agent_search(&self, agent: &AgentId) -> Result<Vec<SharedLimit>, ApiError> {
        self.tick();
        self.searches_per_agent.check(agent)?;
        Ok(vec![self.searches_per_agent.shared(agent)])
    }
}

/// The client's address as the limits see it.
pub fn client_address(req: &HttpRequest, trusted_proxies: &[IpAddr]) -> IpAddr {
    let peer = req
        .peer_addr()
        .map_or(IpAddr::from([0, 0, 0, 0]), |a| a.ip());
    if !trusted_proxies.contains(&peer) {
        return peer;
    }
    let forwarded = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|a| a.trim().parse::<IpAddr>().ok())
        .collect::<Vec<_>>();
    // Each proxy appends the address it saw: walk back past our own.
    forwarded
        .iter()
        .rev()
        .find(|a| !trusted_proxies.contains(a))
        .copied()
        .unwrap_or(peer)
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn forwarded_addresses_count_only_behind_a_trusted_proxy() {
        let proxy: IpAddr = "10.0.0.1".parse().expect("an address");
        let req = TestRequest::default()
            .peer_addr("10.0.0.1:5000".parse().expect("an address"))
            .insert_header(("x-forwarded-for", "6.6.6.6, 203.0.113.7"))
            .to_http_request();
        assert_eq!(
            client_address(&req, &[proxy]),
            "203.0.113.7".parse::<IpAddr>().expect("ip")
        );
        assert_eq!(client_address(&req, &[]), proxy);
    }

    #[test]
    fn a_session_gets_half_its_minute_at_once_then_429() {
        let limits = RateLimits::new(RateLimitSettings {
            sends_per_session: 4,
            ..RateLimitSettings::default()
        });
        let (addr, tenant, session) = (
            IpAddr::from([127, 0, 0, 1]),
            TenantId::new("t"),
            SessionId::new("s"),
        );
        assert!(limits.customer_send(addr, &tenant, &session).is_ok());
        assert!(limits.customer_send(addr, &tenant, &session).is_ok());
        let refused = limits
            .customer_send(addr, &tenant, &session)
            .expect_err("over the limit");
        assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
        assert!(refused.retry_after.is_some_and(|s| s >= 1));
    }
}
