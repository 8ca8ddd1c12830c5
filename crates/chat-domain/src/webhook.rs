//! Webhooks: endpoints that want to hear of a tenant's changes, and the
//! deliveries that tell them, at least once.

use std::net::IpAddr;
use std::time::Duration;

use crate::{ChatEvent, TenantId, Timestamp, ValidationError};

/// The events a webhook can subscribe to: the stored changes. (Typing and
/// presence are not stored and never leave through webhooks.)
pub const WEBHOOK_EVENTS: [&str; 6] = [
    "chat.session.started",
    "chat.message.new",
    "chat.session.assigned",
    "chat.session.closed",
    "chat.session.reopened",
    "chat.bot.handoff",
];

/// Writes the body of a webhook delivery: the wire format belongs to the
/// transport, but the store calls this inside the transaction of the
/// change, so that the delivery is stored with the change or not at all.
pub trait WebhookRenderer: Send + Sync {
    fn body(&self, event_id: &str, tenant: &TenantId, at: Timestamp, event: &ChatEvent) -> String;
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookEndpoint {
    pub id: String,
    pub tenant_id: TenantId,
    pub url: WebhookUrl,
    pub events: Vec<String>,
    pub active: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl WebhookEndpoint {
    pub fn wants(&self, event_type: &str) -> bool {
        self.active && self.events.iter().any(|e| e == event_type)
    }
}

#[derive(Debug, Clone)]
pub struct NewWebhookEndpoint {
    pub url: WebhookUrl,
    pub events: Vec<String>,
    pub active: bool,
    /// `whsec_<base64>`: the key deliveries are signed with.
    pub secret: String,
}

#[derive(Debug, Clone, Default)]
pub struct WebhookPatch {
    pub url: Option<WebhookUrl>,
    pub events: Option<Vec<String>>,
    pub active: Option<bool>,
}

/// An `http` or `https` URL with a host, at most 2048 bytes. Whether the
/// host is allowed is decided when it is resolved, at each delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookUrl(String);

impl WebhookUrl {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let url = raw.trim();
        let invalid = || ValidationError::new("url", "must be an http or https URL with a host");
        if url.len() > 2048 || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid());
        }
        let rest = url
            .strip_prefix("https://")
            .or_else(|| url.strip_prefix("http://"))
            .ok_or_else(invalid)?;
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        if authority.contains('@') {
            return Err(ValidationError::new("url", "must not carry credentials"));
        }
        let host = match authority.strip_prefix('[') {
            Some(v6) => v6.split(']').next().unwrap_or_default(),
            None => authority.split(':').next().unwrap_or_default(),
        };
        if host.is_empty() {
            return Err(invalid());
        }
        Ok(Self(url.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The subscribed events: at least one, each one of [`WEBHOOK_EVENTS`].
pub fn parse_events<S: AsRef<str>>(raw: &[S]) -> Result<Vec<String>, ValidationError> {
    if raw.is_empty() {
        return Err(ValidationError::new(
            "events",
            "must name at least one event",
        ));
    }
    let mut events = Vec::with_capacity(raw.len());
    for e in raw {
        let e = e.as_ref();
        if !WEBHOOK_EVENTS.contains(&e) {
            return Err(ValidationError::new(
                "events",
                format!("unknown event {e:?}; known: {}", WEBHOOK_EVENTS.join(", ")),
            ));
        }
        if !events.iter().any(|known: &String| known == e) {
            events.push(e.to_owned());
        }
    }
    Ok(events)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryStatus {
    /// Waiting for its first or next attempt.
    Pending,
    /// The receiver answered 2xx.
    Delivered,
    /// Every retry failed within the retry window.
    Failed,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Failed => "failed",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "pending" => Some(DeliveryStatus::Pending),
            "delivered" => Some(DeliveryStatus::Delivered),
            "failed" => Some(DeliveryStatus::Failed),
            _ => None,
        }
    }
}

/// One event on its way to one endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// Stable across retries: the `webhook-id` header.
    pub id: String,
    pub endpoint_id: String,
    pub tenant_id: TenantId,
    pub event_id: String,
    pub event_type: String,
    /// The exact body sent (and signed) at every attempt.
    pub payload: String,
    pub status: DeliveryStatus,
    pub attempts: u32,
    pub next_attempt_at: Timestamp,
    pub last_status: Option<u16>,
    pub last_error: Option<String>,
    pub created_at: Timestamp,
    pub delivered_at: Option<Timestamp>,
}

/// A due delivery, claimed by one sender, with where it goes.
#[derive(Debug, Clone)]
pub struct ClaimedDelivery {
    pub delivery: Delivery,
    pub url: String,
    pub secret: String,
}

/// What one attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptOutcome {
    Delivered {
        status: u16,
    },
    /// Try again at `retry_at`, or give up when it is `None`.
    Failed {
        status: Option<u16>,
        error: String,
        retry_at: Option<Timestamp>,
    },
}

/// When to retry: the first retry after `first_retry`, each later one five
/// times as long after the one before (capped at ten hours), and none once
/// `give_up_after` has passed since the delivery was created.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub first_retry: Duration,
    pub give_up_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            first_retry: Duration::from_secs(10),
            give_up_after: Duration::from_secs(24 * 3600),
        }
    }
}

impl RetryPolicy {
    const MAX_DELAY: Duration = Duration::from_secs(10 * 3600);

    /// The delay after the `attempts`-th failed attempt (1-based).
    pub fn delay(&self, attempts: u32) -> Duration {
        let factor = 5u32.saturating_pow(attempts.saturating_sub(1).min(12));
        self.first_retry
            .checked_mul(factor)
            .unwrap_or(Self::MAX_DELAY)
            .min(Self::MAX_DELAY)
    }

    /// When to try again after `attempts` failures, or `None` to give up.
    pub fn next_attempt(
        &self,
        created_at: Timestamp,
        attempts: u32,
        now: Timestamp,
    ) -> Option<Timestamp> {
        let at = now + chrono::Duration::from_std(self.delay(attempts)).ok()?;
        let deadline = created_at + chrono::Duration::from_std(self.give_up_after).ok()?;
        (at <= deadline).then_some(at)
    }
}

/// Whether a webhook may be sent to this address: not loopback, private,
/// link-local, shared (CGNAT), multicast, broadcast, documentation or
/// unspecified, in IPv4 or IPv6 (IPv4-mapped IPv6 judged as IPv4).
pub fn is_public_address(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_multicast()
                || v4.is_broadcast()
                || v4.is_documentation()
                || v4.is_unspecified()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
                || (a == 198 && (b == 18 || b == 19))
                || a >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public_address(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || first == 0x2001 && v6.segments()[1] == 0x0db8)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_need_a_scheme_and_host_and_no_credentials() {
        assert!(WebhookUrl::parse("https://example.com/hook").is_ok());
        assert!(WebhookUrl::parse("http://[::1]:8080/x").is_ok());
        for bad in [
            "ftp://example.com",
            "https://",
            "https:///path",
            "example.com",
            "https://user:pw@example.com/",
            "https://exa mple.com",
        ] {
            assert!(WebhookUrl::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn events_must_be_known() {
        assert!(parse_events(&["chat.typing"]).is_err());
        assert!(parse_events::<&str>(&[]).is_err());
        assert_eq!(
            parse_events(&["chat.message.new", "chat.message.new"]),
            Ok(vec!["chat.message.new".to_owned()])
        );
    }

    #[test]
    fn retries_back_off_and_stop_after_the_window() {
        let policy = RetryPolicy::default();
        assert_eq!(policy.delay(1), Duration::from_secs(10));
        assert_eq!(policy.delay(2), Duration::from_secs(50));
        assert_eq!(policy.delay(3), Duration::from_secs(250));
        assert_eq!(policy.delay(30), Duration::from_secs(36_000));
        let created = chrono::Utc::now();
        assert!(policy.next_attempt(created, 1, created).is_some());
        let late = created + chrono::Duration::hours(23);
        assert_eq!(policy.next_attempt(created, 9, late), None);
    }

    #[test]
    fn private_and_special_addresses_are_not_public() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(
                !is_public_address(ip.parse().unwrap_or(IpAddr::from([0; 4]))),
                "{ip}"
            );
        }
        for ip in ["93.184.216.34", "2606:2800:220:1::1"] {
            let parsed: IpAddr = ip.parse().unwrap_or(IpAddr::from([0; 4]));
            assert!(is_public_address(parsed), "{ip}");
        }
    }
}
