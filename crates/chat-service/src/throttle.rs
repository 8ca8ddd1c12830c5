//! Limits on typing notices, which are relayed to every agent of a tenant
//! and stored nowhere: per session whatever the state (so alternating
//! `true`/`false` cannot flood), and per tenant (so many sessions cannot
//! either). A notice over the limit is dropped; the next one goes through.

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU32, Ordering};

use chat_domain::{SessionId, TenantId};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// Typing changes relayed per session: a sustained rate and a burst.
pub const TYPING_PER_SESSION: (u32, u32) = (2, 4);
/// Typing changes relayed per tenant, across all its sessions.
pub const TYPING_PER_TENANT: (u32, u32) = (20, 40);
/// Every so many checks, keys idle long enough to be full again are
/// dropped, so a stream of new sessions cannot grow the maps forever.
const PRUNE_EVERY: u32 = 4096;

pub struct TypingThrottle {
    per_session: DefaultKeyedRateLimiter<SessionId>,
    per_tenant: DefaultKeyedRateLimiter<TenantId>,
    checks: AtomicU32,
}

fn quota((per_second, burst): (u32, u32)) -> Quota {
    let rate = NonZeroU32::new(per_second.max(1)).unwrap_or(NonZeroU32::MIN);
    let burst = NonZeroU32::new(burst.max(1)).unwrap_or(NonZeroU32::MIN);
    Quota::per_second(rate).allow_burst(burst)
}

impl Default for TypingThrottle {
    fn default() -> Self {
        Self {
            per_session: RateLimiter::keyed(quota(TYPING_PER_SESSION)),
            per_tenant: RateLimiter::keyed(quota(TYPING_PER_TENANT)),
            checks: AtomicU32::new(0),
        }
    }
}

impl TypingThrottle {
    /// Whether a typing change of this session may be relayed now.
    pub fn allow(&self, tenant: &TenantId, session: &SessionId) -> bool {
        if self.checks.fetch_add(1, Ordering::Relaxed) % PRUNE_EVERY == PRUNE_EVERY - 1 {
            self.per_session.retain_recent();
            self.per_tenant.retain_recent();
        }
        let allowed = self.per_session.check_key(session).is_ok()
            && self.per_tenant.check_key(tenant).is_ok();
        if !allowed {
            metrics::counter!("chat_rate_limited_total", "what" => "typing").increment(1);
        }
        allowed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_gets_its_burst_then_nothing_while_others_still_pass() {
        let t = TypingThrottle::default();
        let tenant = TenantId::new("t");
        let (a, b) = (SessionId::new("a"), SessionId::new("b"));
        let passed = (0..50).filter(|_| t.allow(&tenant, &a)).count();
        assert!(passed <= TYPING_PER_SESSION.1 as usize + 1, "{passed}");
        assert!(t.allow(&tenant, &b));
    }

    #[test]
    fn a_tenant_is_capped_across_its_sessions() {
        let t = TypingThrottle::default();
        let tenant = TenantId::new("t");
        let passed = (0..200)
            .filter(|i| t.allow(&tenant, &SessionId::new(format!("s{i}"))))
            .count();
        assert!(passed <= TYPING_PER_TENANT.1 as usize + 2, "{passed}");
        assert!(t.allow(&TenantId::new("other"), &SessionId::new("x")));
    }
}
