//! One task per connection: writes queued frames, reads client frames,
//! keeps the heartbeat, and closes on kick, expiry, flood or silence.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use actix_ws::{AggregatedMessage, AggregatedMessageStream, CloseCode, CloseReason, Session};
use chat_domain::{ChatSession, Message};
use chat_service::AgentCtx;
use futures_util::StreamExt;
use tokio::sync::oneshot;

use super::outgoing::Delivered;
use super::protocol::{ClientFrame, decode, envelope, error_frame};
use super::{WsLimits, close_code};
use crate::AppState;
use crate::dto::MessageDto;
use crate::error::ApiError;
use crate::hub::{ConnId, HubHandle, Kick, session_key};

/// How long a close frame may take to be written.
const CLOSE_GRACE: Duration = Duration::from_secs(5);

pub enum Who {
    Agent(AgentCtx),
    Customer(Box<ChatSession>),
}

/// Unregisters from the hub however the task ends.
struct Registered {
    hub: HubHandle,
    id: ConnId,
}

impl Drop for Registered {
    fn drop(&mut self) {
        self.hub.unregister(self.id);
    }
}

/// A token bucket, plus a count of refusals to spot floods.
struct RateLimit {
    tokens: f64,
    last: Instant,
    refused: Vec<Instant>,
}

impl RateLimit {
    fn new(burst: u32) -> Self {
        Self {
            tokens: f64::from(burst),
            last: Instant::now(),
            refused: Vec::new(),
        }
    }

    /// `Ok(())` to accept; `Err(true)` when the flood tolerance is exceeded.
    fn take(&mut self, limits: &WsLimits) -> Result<(), bool> {
        let now = Instant::now();
        let refill =
            now.duration_since(self.last).as_secs_f64() * f64::from(limits.frames_per_second);
        self.tokens = (self.tokens + refill).min(f64::from(limits.burst));
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            return Ok(());
        }
        self.refused
            .retain(|t| now.duration_since(*t) < Duration::from_secs(10));
        self.refused.push(now);
        Err(self.refused.len() > limits.flood_tolerance as usize)
    }
}

pub struct Conn {
    pub state: AppState,
    pub who: Who,
    pub session: Session,
    pub stream: AggregatedMessageStream,
    /// Shared with the response body, which writes the hub's frames.
    pub delivered: Rc<RefCell<Delivered>>,
    pub kick: oneshot::Receiver<Kick>,
    pub id: ConnId,
}

enum Flow {
    Continue,
    Close(Option<CloseReason>),
}

fn reason(code: u16, description: &str) -> Option<CloseReason> {
    Some(CloseReason {
        code: CloseCode::from(code),
        description: Some(description.to_owned()),
    })
}

impl Conn {
    pub async fn run(self) {
        let Conn {
            state,
            who,
            mut session,
            mut stream,
            delivered,
            mut kick,
            id,
        } = self;
        let _registered = Registered {
            hub: state.hub.clone(),
            id,
        };
        let limits = state.ws_limits;
        let mut handler = Handler {
            state: state.clone(),
            who,
            rate: RateLimit::new(limits.burst),
            delivered,
            last_typing: None,
        };
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
                    if session.ping(b"").await.is_err() { break None }
                }
                msg = stream.next() => {
                    let flow = match msg {
                        None => break None,
                        Some(Err(e)) => {
                            tracing::debug!(error = %e, "websocket protocol error");
                            let too_big = matches!(e, actix_ws::ProtocolError::Overflow);
                            Flow::Close(if too_big {
                                reason(close_code::TOO_BIG, "frame too large")
                            } else {
                                reason(1002, "protocol error")
                            })
                        }
                        Some(Ok(AggregatedMessage::Ping(bytes))) => {
                            last_pong = Instant::now();
                            if session.pong(&bytes).await.is_err() { break None }
                            Flow::Continue
                        }
                        Some(Ok(AggregatedMessage::Pong(_))) => {
                            last_pong = Instant::now();
                            Flow::Continue
                        }
                        Some(Ok(AggregatedMessage::Close(_))) => break None,
                        // Boxed: the request paths hold large futures (the
                        // service and the store), which would otherwise
                        // sit in every idle connection's task.
                        Some(Ok(AggregatedMessage::Binary(_))) => {
                            Box::pin(handler.refuse(&mut session, "binary_not_supported", "only JSON text frames are accepted")).await
                        }
                        Some(Ok(AggregatedMessage::Text(text))) => {
                            last_pong = Instant::now();
                            Box::pin(handler.on_text(&mut session, &text)).await
                        }
                    };
                    if let Flow::Close(r) = flow {
                        break r;
                    }
                }
            }
        };
        // A client that stopped reading cannot take a close frame either;
        // past the grace period the socket is simply dropped.
        let _ = tokio::time::timeout(CLOSE_GRACE, session.close(close)).await;
    }
}

fn kick_reason(why: Option<Kick>) -> Option<CloseReason> {
    match why {
        Some(Kick::SlowConsumer) => reason(
            close_code::SLOW_CONSUMER,
            "slow consumer: outbound queue full",
        ),
        Some(Kick::LoggedOut) => reason(close_code::UNAUTHORIZED, "logged out"),
        Some(Kick::Shutdown) | None => reason(close_code::GOING_AWAY, "server shutting down"),
    }
}

struct Handler {
    state: AppState,
    who: Who,
    rate: RateLimit,
    /// What this socket has written; shared with the response body.
    delivered: Rc<RefCell<Delivered>>,
    last_typing: Option<(bool, Instant)>,
}

impl Handler {
    async fn send(session: &mut Session, text: String) -> Flow {
        if session.text(text).await.is_err() {
            return Flow::Close(None);
        }
        Flow::Continue
    }

    async fn refuse(&mut self, session: &mut Session, code: &str, message: &str) -> Flow {
        if let Err(flood) = self.rate.take(&self.state.ws_limits) {
            if flood {
                return Flow::Close(reason(close_code::POLICY, "too many frames"));
            }
            return Flow::Continue;
        }
        Self::send(session, error_frame(code, message, None)).await
    }

    async fn on_text(&mut self, session: &mut Session, text: &str) -> Flow {
        if let Err(flood) = self.rate.take(&self.state.ws_limits) {
            if flood {
                return Flow::Close(reason(close_code::POLICY, "too many frames"));
            }
            return Self::send(
                session,
                error_frame("rate_limited", "too many frames; slow down", None),
            )
            .await;
        }
        let frame = match decode(text) {
            Ok(f) => f,
            Err((code, message)) => {
                return Self::send(session, error_frame(code, &message, None)).await;
            }
        };
        match frame {
            ClientFrame::Ping => Self::send(session, envelope("pong", serde_json::json!({}))).await,
            ClientFrame::Typing(t) => {
                let now = Instant::now();
                let throttled = self.last_typing.is_some_and(|(state, at)| {
                    state == t.is_typing
                        && now.duration_since(at) < self.state.ws_limits.typing_interval
                });
                if throttled {
                    return Flow::Continue;
                }
                self.last_typing = Some((t.is_typing, now));
                let res = match &self.who {
                    Who::Agent(ctx) => match t.session_id.as_deref() {
                        Some(id) => self.state.chat.agent_typing(ctx, id, t.is_typing).await,
                        None => return Self::send(session, missing_session_id(None)).await,
                    },
                    Who::Customer(s) => match own_session(s, t.session_id.as_deref()) {
                        Ok(()) => {
                            self.state.chat.customer_typing(s, t.is_typing).await;
                            Ok(())
                        }
                        Err(frame) => return Self::send(session, frame).await,
                    },
                };
                match res {
                    Ok(()) => Flow::Continue,
                    Err(e) => Self::send(session, service_error(e, None)).await,
                }
            }
            ClientFrame::Send(f) => {
                let cid = f.client_msg_id.clone();
                let res = match &self.who {
                    Who::Agent(ctx) => match f.session_id.as_deref() {
                        Some(id) => {
                            self.state
                                .chat
                                .send_as_agent(ctx, id, &f.body, Some(&cid))
                                .await
                        }
                        None => return Self::send(session, missing_session_id(Some(&cid))).await,
                    },
                    Who::Customer(s) => match own_session(s, f.session_id.as_deref()) {
                        Ok(()) => {
                            self.state
                                .chat
                                .send_as_customer(s, &f.body, Some(&cid))
                                .await
                        }
                        Err(frame) => return Self::send(session, frame).await,
                    },
                };
                match res {
                    // The ack goes out before the queued chat.message.new.
                    Ok((message, _)) => Self::send(session, ack(&cid, &message)).await,
                    Err(e) => Self::send(session, service_error(e, Some(&cid))).await,
                }
            }
            ClientFrame::Resume(r) => {
                self.resume(session, r.session_id.as_deref(), r.after_seq)
                    .await
            }
        }
    }

    /// Replays every stored message after `after_seq`, in order, then
    /// `chat.resume.done`.
    async fn resume(
        &mut self,
        session: &mut Session,
        session_id: Option<&str>,
        after_seq: i64,
    ) -> Flow {
        let target = match &self.who {
            Who::Agent(ctx) => match session_id {
                Some(id) => match self.state.chat.agent_session(ctx, id).await {
                    Ok(s) => s,
                    Err(e) => return Self::send(session, service_error(e, None)).await,
                },
                None => return Self::send(session, missing_session_id(None)).await,
            },
            Who::Customer(s) => match own_session(s, session_id) {
                Ok(()) => (**s).clone(),
                Err(frame) => return Self::send(session, frame).await,
            },
        };
        let key = session_key(&target.id);
        // Live frames wait while the replay goes out; whatever ends the
        // replay is sent after they are released, so that frame wakes the
        // response body to write them.
        self.delivered.borrow_mut().resuming = true;
        let end = self.replay(session, &target, key, after_seq.max(0)).await;
        self.delivered.borrow_mut().resuming = false;
        match end {
            Ok(cursor) => {
                let done =
                    serde_json::json!({ "session_id": target.id.as_str(), "last_seq": cursor });
                Self::send(session, envelope("chat.resume.done", done)).await
            }
            Err(Ok(error)) => Self::send(session, error).await,
            Err(Err(closed)) => closed,
        }
    }

    /// Writes every stored message after `cursor` that this socket has not
    /// written yet; returns the last `seq`, or an error frame to send, or
    /// the socket's end.
    async fn replay(
        &mut self,
        session: &mut Session,
        target: &ChatSession,
        key: u64,
        mut cursor: i64,
    ) -> Result<i64, Result<String, Flow>> {
        loop {
            let page = self
                .state
                .chat
                .messages_after(&target.tenant_id, &target.id, cursor, None)
                .await
                .map_err(|e| Ok(service_error(e, None)))?;
            let Some(last) = page.last().map(|m| m.seq) else {
                return Ok(cursor);
            };
            for m in &page {
                if self.delivered.borrow().contains(key, m.seq) {
                    continue;
                }
                if let Flow::Close(r) =
                    Self::send(session, envelope("chat.message.new", MessageDto::from(m))).await
                {
                    return Err(Err(Flow::Close(r)));
                }
                self.delivered.borrow_mut().insert(key, m.seq);
            }
            cursor = last;
            self.delivered.borrow_mut().replayed_up_to(key, cursor);
        }
    }
}

fn ack(client_msg_id: &str, message: &Message) -> String {
    envelope(
        "chat.message.ack",
        serde_json::json!({ "client_msg_id": client_msg_id, "message": MessageDto::from(message) }),
    )
}

fn own_session(s: &ChatSession, requested: Option<&str>) -> Result<(), String> {
    match requested {
        None => Ok(()),
        Some(id) if id == s.id.as_str() => Ok(()),
        Some(_) => Err(error_frame("not_found", "session not found", None)),
    }
}

fn missing_session_id(client_msg_id: Option<&str>) -> String {
    error_frame(
        "invalid_payload",
        "session_id is required on agent connections",
        client_msg_id,
    )
}

fn service_error(e: chat_service::Error, client_msg_id: Option<&str>) -> String {
    let api = ApiError::from(e);
    error_frame(api.code, &api.message, client_msg_id)
}
