//! The accepted TCP socket of each connection: options set once at accept,
//! and a handle that lets a WebSocket's task tear its connection down.
//!
//! A peer that stops reading leaves the server's writes waiting on a full
//! send buffer, and actix's dispatcher waits with them; no close frame can
//! reach such a peer. After its grace period the connection task aborts
//! the socket itself: `SO_LINGER` 0 and a shutdown, so the waiting write
//! fails, the dispatcher drops the connection and the kernel discards what
//! it still held (the peer sees a reset).

use std::any::Any;
use std::sync::Arc;
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
}

/// A second handle on a connection's socket, kept in its connection data.
#[derive(Clone)]
pub struct ConnSocket(Arc<socket2::Socket>);

impl ConnSocket {
    /// Resets the connection and drops whatever is still unsent.
    pub fn abort(&self) {
        let _ = self.0.set_linger(Some(Duration::ZERO));
        let _ = self.0.shutdown(std::net::Shutdown::Both);
    }
}

/// For `HttpServer::on_connect`: `TCP_NODELAY` (small frames go out at
/// once instead of waiting for the previous one's acknowledgement), the
/// send buffer, and the handle that [`ConnSocket::abort`] uses.
pub fn on_connect(options: SocketOptions) -> impl Fn(&dyn Any, &mut Extensions) + Clone {
    move |conn, ext| {
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
        match sock.try_clone() {
            Ok(handle) => {
                ext.insert(ConnSocket(Arc::new(handle)));
            }
            Err(e) => tracing::debug!(error = %e, "no abort handle for this connection"),
        }
    }
}
