//! The address check of outgoing webhooks: a receiver's name is resolved
//! here, and only public addresses are handed to the connection, so the
//! address checked is the address connected to (no DNS rebinding between
//! the two).

use std::net::{IpAddr, SocketAddr};

use chat_domain::webhook::is_public_address;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Resolves with the system resolver and drops every private, loopback and
/// link-local address unless `allow_private`.
#[derive(Debug, Clone, Copy)]
pub struct GuardedResolver {
    pub allow_private: bool,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|a| allow_private || is_public_address(a.ip()))
                .collect();
            if found.is_empty() {
                return Err(format!("{host} resolves to no public address").into());
            }
            let addrs: Addrs = Box::new(found.into_iter());
            Ok(addrs)
        })
    }
}

/// A URL whose host is an IP literal skips the resolver: it is checked
/// here instead.
pub fn literal_allowed(url: &reqwest::Url, allow_private: bool) -> bool {
    let ip = url.host_str().and_then(|h| {
        h.trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .ok()
    });
    allow_private || ip.is_none_or(is_public_address)
}
