//! One task per connection: its life cycle. It reads client frames and
//! hands each to its handler (`frames.rs`), keeps the heartbeat, closes on
//! kick, expiry, flood or silence, and orders a resume's replay against
//! live frames. It writes only its own frames (replies, replays, pings, the
//! close); the hub's frames go out through the response body
//! (`outgoing.rs`), which takes them from the connection's queue itself.

use std::cell::RefCell;
use std::future::Future;
use std::rc::Rc;
use std::time::{Duration, Instant};

use actix_http::ws::{CloseCode, CloseReason};
use chat_domain::ChatSession;
use chat_service::AgentCtx;
use futures_util::StreamExt;
use tokio::sync::oneshot;

use super::close_code;
use super::framing::{Inbound, InboundError, Incoming, Session};
use super::outgoing::Delivered;
use super::rate::{RateLimit, Refused};
use actix_web::web;

use crate::AppState;
use crate::hub::{ConnId, HubHandle, Kick, session_key};
use crate::wire::frames::message_frame;

/// How long a peer has to take its close frame (and close) before its
/// connection is reset.
const CLOSE_GRACE: Duration = Duration::from_secs(5);

pub enum Who {
    Agent(AgentCtx),
    Customer(Box<ChatSession>),
}

/// Unregisters from the hub however the task ends, and keeps the
/// connection gauge.
struct Registered {
    hub: HubHandle,
    id: ConnId,
    kind: &'static str,
}

impl Registered {
    fn new(hub: HubHandle, id: ConnId, kind: &'static str) -> Self {
        metrics::counter!("chat_ws_connects_total").increment(1);
        metrics::gauge!("chat_ws_connections", "kind" => kind).increment(1.0);
        Self { hub, id, kind }
    }
}

impl Drop for Registered {
    fn drop(&mut self) {
        metrics::gauge!("chat_ws_connections", "kind" => self.kind).decrement(1.0);
        self.hub.unregister(self.id);
    }
}

pub struct Conn {
    /// The worker's shared state: a pointer, not a copy of its handles.
    pub state: web::Data<AppState>,
    pub who: Who,
    /// The client's address, for the send limits.
    pub address: std::net::IpAddr,
    pub session: Session,
    pub stream: Inbound,
    /// Shared with the response body, which writes the hub's frames.
    pub delivered: Rc<RefCell<Delivered>>,
    pub kick: oneshot::Receiver<Kick>,
    pub id: ConnId,
    /// Its place under the cluster-wide socket cap, held for its life.
    pub place: Option<crate::cluster::Place>,
}

pub(super) enum Flow {
    Continue,
    Close(Option<CloseReason>),
}

impl Flow {
    /// The client kept sending past its frame budget (1008).
    pub(super) fn flood() -> Self {
        Flow::Close(reason(close_code::POLICY, "too many frames"))
    }
}

pub(super) fn reason(code: u16, description: &str) -> Option<CloseReason> {
    Some(CloseReason {
        code: CloseCode::from(code),
        description: Some(description.to_owned()),
    })
}

impl Conn {
    /// The connection's task. Its future is as large as its largest await,
    /// and holds every local it keeps across one: the parts are taken apart
    /// here, outside it, and everything but the wait itself (sends, the
    /// token check, the frame's work, the close) is boxed, so that an idle
    /// connection's task holds only what it waits with.
    pub fn run(self) -> impl Future<Output = ()> {
        let Conn {
            state,
            who,
            address,
            mut session,
            mut stream,
            delivered,
            mut kick,
            id,
            place,
        } = self;
        let kind = match &who {
            Who::Agent(_) => "agent",
            Who::Customer(_) => "customer",
        };
        let registered = Registered::new(state.hub.clone(), id, kind);
        let limits = state.ws_limits;
        let mut handler = Handler {
            state,
            who,
            address,
            rate: RateLimit::new(limits.burst),
            delivered,
            last_typing: None,
        };
        let held = (registered, place);
        // Until the connection ends; `held` (the hub registration and the
        // place under the cluster's cap) is let go with it. A block rather
        // than an `async fn` of these parts: the compiler keeps an `async
        // fn`'s arguments twice in its future (as given, and moved into the
        // body's locals); a block's captures are used where they lie.
        async move {
            let expiry = match &handler.who {
                Who::Agent(ctx) => (ctx.expires_at - chrono::Utc::now())
                    .to_std()
                    .unwrap_or(Duration::ZERO),
                // Customers' keys do not expire; a far deadline keeps one select.
                Who::Customer(_) => Duration::from_secs(365 * 24 * 3600),
            };
            let expired = tokio::time::sleep(expiry);
            tokio::pin!(expired);
            let mut heartbeat = tokio::time::interval_at(
                tokio::time::Instant::now() + limits.heartbeat,
                limits.heartbeat,
            );
            let mut last_pong = Instant::now();

            // The hub's frames do not pass through here: the response body
            // (`outgoing.rs`) takes them from the queue itself.
            let close = loop {
                tokio::select! {
                    biased;
                    why = &mut kick => break kick_reason(why.ok()),
                    () = &mut expired => break reason(close_code::UNAUTHORIZED, "token expired"),
                    _ = heartbeat.tick() => {
                        let silent_for = last_pong.elapsed();
                        if silent_for > limits.heartbeat * limits.missed_pongs + limits.heartbeat / 2 {
                            break reason(close_code::HEARTBEAT_TIMEOUT, "heartbeat timeout");
                        }
                        if Box::pin(session.ping(b"")).await.is_err() { break None }
                        // A token revoked where no kick reaches this socket (the
                        // operator's command line, another node) ends it here,
                        // within two heartbeats (a login's sockets share one
                        // read of the token a heartbeat).
                        if let Who::Agent(ctx) = &handler.who
                            && matches!(Box::pin(handler.state.auth.credential_valid(&ctx.credential, limits.heartbeat)).await, Ok(false))
                        {
                            break reason(close_code::UNAUTHORIZED, "token revoked");
                        }
                    }
                    msg = stream.next() => {
                        let flow = match msg {
                            None => break None,
                            Some(Err(e)) => {
                                tracing::debug!(error = %e, "websocket protocol error");
                                Flow::Close(protocol_close(&e))
                            }
                            // Every client frame counts against the budget,
                            // protocol pings too: a ping flood is closed 1008.
                            Some(Ok(Incoming::Ping(bytes))) => {
                                last_pong = Instant::now();
                                match handler.rate.take(&limits) {
                                    Ok(()) => {
                                        if Box::pin(session.pong(&bytes)).await.is_err() { break None }
                                        Flow::Continue
                                    }
                                    Err(Refused::Slow) => Flow::Continue,
                                    Err(Refused::Flood) => Flow::flood(),
                                }
                            }
                            Some(Ok(Incoming::Pong(_))) => {
                                last_pong = Instant::now();
                                Flow::Continue
                            }
                            Some(Ok(Incoming::Close(_))) => break None,
                            // Boxed: the request paths hold large futures (the
                            // service and the store), which would otherwise
                            // sit in every idle connection's task.
                            Some(Ok(Incoming::Binary(_))) => {
                                Box::pin(handler.refuse(&mut session, "binary_not_supported", "only JSON text frames are accepted")).await
                            }
                            Some(Ok(Incoming::Text(text))) => {
                                last_pong = Instant::now();
                                // A frame's work (a resume's replay above all)
                                // still gives way to a kick and to the token's
                                // expiry.
                                let work = Box::pin(handler.on_text(&mut session, &text));
                                tokio::select! {
                                    biased;
                                    why = &mut kick => break kick_reason(why.ok()),
                                    () = &mut expired => break reason(close_code::UNAUTHORIZED, "token expired"),
                                    flow = work => flow,
                                }
                            }
                        };
                        if let Flow::Close(r) = flow {
                            break r;
                        }
                    }
                }
            };
            let code = close
                .as_ref()
                .map_or(String::from("none"), |r| u16::from(r.code).to_string());
            metrics::counter!("chat_ws_disconnects_total", "code" => code).increment(1);
            Box::pin(closing(session, stream, close)).await;
            drop(held);
        }
    }
}

/// Sends the close frame and waits for the connection's end.
async fn closing(session: Session, mut stream: Inbound, close: Option<CloseReason>) {
    // A client that stopped reading cannot take a close frame either:
    // past the grace period the task lets go of the socket. A
    // dispatcher still waiting to write to it is released by the
    // kernel (`TCP_USER_TIMEOUT`, see `crate::socket`).
    let grace = tokio::time::sleep(CLOSE_GRACE);
    tokio::pin!(grace);
    tokio::select! {
        _ = session.close(close) => {}
        () = &mut grace => {}
    }
    // The connection is over when its reading side ends: the client
    // answered the close, or the dispatcher finished and dropped it.
    loop {
        tokio::select! {
            msg = stream.next() => if msg.is_none() { return },
            () = &mut grace => {
                tracing::debug!("peer did not take the close in time; letting go");
                return;
            }
        }
    }
}

/// The close a broken client frame earns, as RFC 6455 §7.4.1 says: 1009
/// for a message over the size limit (one frame or its continuations),
/// 1007 for text that is not UTF-8, 1002 for anything else.
fn protocol_close(e: &InboundError) -> Option<CloseReason> {
    match e {
        InboundError::Protocol(actix_http::ws::ProtocolError::Overflow) => {
            reason(close_code::TOO_BIG, "frame too large")
        }
        InboundError::MessageTooLarge => reason(close_code::TOO_BIG, "message too large"),
        InboundError::NotUtf8 => reason(close_code::INVALID_PAYLOAD, "text frames must be UTF-8"),
        InboundError::Protocol(_) | InboundError::Io(_) => {
            reason(close_code::PROTOCOL_ERROR, "protocol error")
        }
    }
}

fn kick_reason(why: Option<Kick>) -> Option<CloseReason> {
    match why {
        Some(Kick::SlowConsumer) => reason(
            close_code::SLOW_CONSUMER,
            "slow consumer: outbound queue full",
        ),
        Some(Kick::LoggedOut) => reason(close_code::UNAUTHORIZED, "logged out"),
        Some(Kick::Restart) => reason(
            close_code::SERVICE_RESTART,
            "cluster bridge down; reconnect",
        ),
        Some(Kick::Shutdown) | None => reason(close_code::GOING_AWAY, "server shutting down"),
    }
}

pub(super) struct Handler {
    pub(super) state: web::Data<AppState>,
    pub(super) who: Who,
    pub(super) address: std::net::IpAddr,
    pub(super) rate: RateLimit,
    /// What this socket has written; shared with the response body.
    delivered: Rc<RefCell<Delivered>>,
    pub(super) last_typing: Option<(bool, Instant)>,
}

/// How a replay ended early: an error frame to send, or the socket's end.
pub(super) type ReplayError = Result<String, Flow>;

impl Handler {
    /// Writes one of the connection's own frames. A client that does not
    /// take it within the write deadline is cut as a slow consumer, so a
    /// peer that sends but never reads cannot hold the task.
    pub(super) async fn send(&self, session: &mut Session, text: String) -> Flow {
        let deadline = self.state.ws_limits.write_deadline;
        match tokio::time::timeout(deadline, session.text(text)).await {
            Ok(Ok(())) => Flow::Continue,
            Ok(Err(_)) => Flow::Close(None),
            Err(_) => {
                metrics::counter!("chat_slow_consumer_disconnects_total").increment(1);
                Flow::Close(reason(
                    close_code::SLOW_CONSUMER,
                    "slow consumer: a reply was not read",
                ))
            }
        }
    }

    /// Writes the stored messages of `target` after `after_seq` that this
    /// socket has not written yet, in order, at most `max_replay` of them,
    /// and returns the last `seq` covered and whether more follow. Each
    /// write has the write deadline: a client that does not read is cut
    /// (4008) instead of holding the connection.
    /// Live frames wait while the replay goes out; whatever the caller
    /// sends next (the end of the replay) is sent after they are released,
    /// so that frame wakes the response body to write them.
    pub(super) async fn replay(
        &mut self,
        session: &mut Session,
        target: &ChatSession,
        after_seq: i64,
    ) -> Result<(i64, bool), ReplayError> {
        self.delivered.borrow_mut().resuming = true;
        let end = self.replay_pages(session, target, after_seq.max(0)).await;
        self.delivered.borrow_mut().resuming = false;
        end
    }

    async fn replay_pages(
        &mut self,
        session: &mut Session,
        target: &ChatSession,
        mut cursor: i64,
    ) -> Result<(i64, bool), ReplayError> {
        let key = session_key(&target.id);
        let limits = self.state.ws_limits;
        let mut written = 0;
        loop {
            let page = self
                .state
                .chat
                .messages_after(&target.tenant_id, &target.id, cursor, None)
                .await
                .map_err(|e| Ok(super::frames::service_error(e, None)))?;
            if page.is_empty() {
                return Ok((cursor, false));
            }
            for m in &page {
                if written == limits.max_replay {
                    self.delivered.borrow_mut().replayed_up_to(key, cursor);
                    return Ok((cursor, true));
                }
                if !self.delivered.borrow().contains(key, m.seq) {
                    if let Flow::Close(why) = self.send(session, message_frame(m)).await {
                        return Err(Err(Flow::Close(why)));
                    }
                    self.delivered.borrow_mut().insert(key, m.seq);
                    written += 1;
                }
                cursor = m.seq;
            }
            self.delivered.borrow_mut().replayed_up_to(key, cursor);
        }
    }
}
