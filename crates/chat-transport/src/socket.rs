//! The accepted TCP socket of each connection: options set once at accept.
//!
//! A peer that stops reading leaves the server's writes waiting on a full
//! send buffer (its receive window closed), and actix's dispatcher waits
//! with them; no close frame can reach such a peer. `TCP_USER_TIMEOUT`
//! lets the kernel give such a connection up: once sent data has waited
//! that long for an acknowledgement, or queued data for the peer's window
//! to open, the kernel drops the connection, the waiting write fails and
//! the dispatcher lets go of it (the peer, when it next reads, gets a
//! reset). This needs no second descriptor per connection, so a process
//! allowed 20,000 files can hold nearly 20,000 sockets.

use std::any::Any;
use std::time::Duration;

use actix_web::dev::Extensions;
use socket2::SockRef;

/// Options for every accepted socket.
#[derive(Debug, Clone, Copy)]
pub struct SocketOptions {
    /// `SO_SNDBUF`: what the kernel may hold unsent for one connection
    /// (Linux doubles it for bookkeeping). `None` keeps the kernel's
    /// autotuning.
    pub send_buffer: Option<usize>,
    /// `TCP_USER_TIMEOUT`: how long data may wait for a peer that neither
    /// acknowledges nor opens its window before the connection is dropped.
    /// `None` keeps the kernel's retransmission rules (a peer that keeps
    /// its window closed is then held for as long as it answers probes).
    pub stalled_peer_timeout: Option<Duration>,
}

/// For `HttpServer::on_connect`: `TCP_NODELAY` (small frames go out at
/// once instead of waiting for the previous one's acknowledgement), the
/// send buffer and the stalled-peer timeout.
pub fn on_connect(options: SocketOptions) -> impl Fn(&dyn Any, &mut Extensions) + Clone {
    move |conn, _ext| {
        let Some(stream) = conn.downcast_ref::<actix_web::rt::net::TcpStream>() else {
            return;
        };
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!(error = %e, "TCP_NODELAY not set");
        }
        let sock = SockRef::from(stream);
        if let Some(Err(e)) = options.send_buffer.map(|b| sock.set_send_buffer_size(b)) {
            tracing::debug!(error = %e, "SO_SNDBUF not set");
        }
        if let Some(Err(e)) = options
            .stalled_peer_timeout
            .map(|t| sock.set_tcp_user_timeout(Some(t)))
        {
            tracing::debug!(error = %e, "TCP_USER_TIMEOUT not set");
        }
    }
}
