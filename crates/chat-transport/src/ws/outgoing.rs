//! What a WebSocket writes: the response body the HTTP dispatcher drains.
//!
//! Two sources feed it. The connection task's own frames (replies, replays,
//! pings, the close) go through its session (`framing.rs`) and always come
//! first.
//! The hub's frames come straight from the connection's bounded queue: the
//! dispatcher pulls every frame waiting there and writes them in one go, so
//! a fan-out wakes one task per recipient, not two, and crosses one queue.
//!
//! [`Delivered`] remembers which messages this socket has written, shared
//! with the connection task so that neither a replay nor a live copy repeats
//! one, and holds live frames back while a `chat.resume` replays, so that a
//! client sees the replay in order before anything newer.

use std::cell::RefCell;
use std::collections::HashMap;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use actix_http::ws::Codec;
use actix_web::body::{BodySize, MessageBody};
use bytes::{Bytes, BytesMut};

use super::framing::OwnFrames;
use crate::hub::local::QueueRx;
use crate::hub::{KeyHash, Outbound};

/// Frames gathered into one chunk before the dispatcher gets to write.
const CHUNK: usize = 16 * 1024;

pub struct Outgoing {
    session: OwnFrames,
    hub: Option<QueueRx>,
    delivered: Rc<RefCell<Delivered>>,
    codec: Codec,
    /// `chat_delivery_seconds`, looked up once per socket rather than once
    /// per frame.
    delivery: metrics::Histogram,
}

impl Outgoing {
    pub fn new(session: OwnFrames, hub: QueueRx, delivered: Rc<RefCell<Delivered>>) -> Self {
        Self {
            session,
            hub: Some(hub),
            delivered,
            codec: Codec::new(),
            delivery: metrics::histogram!("chat_delivery_seconds"),
        }
    }
}

impl MessageBody for Outgoing {
    type Error = Box<dyn std::error::Error>;

    fn size(&self) -> BodySize {
        BodySize::Stream
    }

    fn poll_next(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        let this = self.get_mut();
        // The connection task's frames first; its close ends the body.
        match this.session.poll_frames(cx, &mut this.codec) {
            Poll::Ready(chunk) => return Poll::Ready(chunk.map(|c| c.map_err(Into::into))),
            Poll::Pending => {}
        }
        let Some(hub) = this.hub.as_mut() else {
            return Poll::Pending;
        };
        let mut delivered = this.delivered.borrow_mut();
        if delivered.resuming {
            // The replay's last frame wakes this body again.
            return Poll::Pending;
        }
        let mut chunk = Chunk::default();
        loop {
            match hub.poll_recv(cx) {
                Poll::Ready(Some(frame)) => {
                    if !delivered.first_time(&frame) {
                        continue;
                    }
                    chunk.push(frame.wire());
                    if frame.message().is_some() {
                        this.delivery
                            .record(frame.published().elapsed().as_secs_f64());
                    }
                    if chunk.len() >= CHUNK {
                        break;
                    }
                }
                // The hub let go of this connection (a kick, or shutdown);
                // the connection task writes the close.
                Poll::Ready(None) => {
                    this.hub = None;
                    break;
                }
                Poll::Pending => break,
            }
        }
        match chunk.finish() {
            Some(bytes) => Poll::Ready(Some(Ok(bytes))),
            None => Poll::Pending,
        }
    }
}

/// The hub's frames gathered for one write. A single frame (a fan-out
/// reaches most sockets with one) goes out as the bytes every recipient
/// shares; only several are copied together.
#[derive(Default)]
struct Chunk {
    one: Option<Bytes>,
    many: BytesMut,
}

impl Chunk {
    fn push(&mut self, wire: &Bytes) {
        if self.one.is_none() && self.many.is_empty() {
            self.one = Some(wire.clone());
            return;
        }
        if let Some(first) = self.one.take() {
            self.many.extend_from_slice(&first);
        }
        self.many.extend_from_slice(wire);
    }

    fn len(&self) -> usize {
        self.one.as_ref().map_or(self.many.len(), Bytes::len)
    }

    fn finish(self) -> Option<Bytes> {
        match self.one {
            Some(one) => Some(one),
            None if self.many.is_empty() => None,
            None => Some(self.many.freeze()),
        }
    }
}

/// The messages a socket has written, and whether a replay is under way.
#[derive(Default)]
pub struct Delivered {
    /// Set while `chat.resume` replays: live frames wait in the queue.
    pub resuming: bool,
    /// Per session (at most [`SESSIONS_CAP`], the least recently written
    /// forgotten first, [`FORGOTTEN_AT_ONCE`] at a time): what went out.
    sessions: HashMap<u64, Written, KeyHash>,
    /// Counts writes, to tell which session was written least recently.
    clock: u64,
}

/// What a socket wrote of one session: the newest `seq` and which of the
/// [`WINDOW`] before it (a live message can go out between the upgrade and
/// the client's `chat.resume`, and concurrent sends can arrive out of
/// order), and how far a replay went (live copies at or below it are
/// already on the wire). 48 bytes, where a log of every message was a hash
/// set and a queue missing the cache on every delivery.
#[derive(Clone, Copy, Default)]
struct Written {
    top: i64,
    /// Bit `i` set: `top - i` went out.
    bits: u128,
    replayed: i64,
    used: u64,
}

/// `seq`s remembered below a session's newest.
const WINDOW: i64 = 128;
/// Sessions remembered per socket; enough for any realistic gap between a
/// live write and a resume that would repeat it.
const SESSIONS_CAP: usize = 128;
/// Sessions forgotten together when a new one comes past the cap.
const FORGOTTEN_AT_ONCE: usize = SESSIONS_CAP / 4;

impl Written {
    fn contains(&self, seq: i64) -> bool {
        seq <= self.top && self.top - seq < WINDOW && (self.bits >> (self.top - seq)) & 1 == 1
    }

    fn insert(&mut self, seq: i64) {
        if seq > self.top {
            let shift = seq - self.top;
            self.bits = if shift >= WINDOW {
                0
            } else {
                self.bits << shift
            };
            self.bits |= 1;
            self.top = seq;
        } else if self.top - seq < WINDOW {
            self.bits |= 1 << (self.top - seq);
        }
        // Older than the window: forgotten at once, as the oldest are.
    }
}

impl Delivered {
    /// Whether a live frame is new to this socket; if so it counts as
    /// written from now on.
    fn first_time(&mut self, frame: &Outbound) -> bool {
        let Some((session, seq)) = frame.message() else {
            return true;
        };
        let written = self.entry(session);
        if seq <= written.replayed || written.contains(seq) {
            return false;
        }
        written.insert(seq);
        true
    }

    pub fn contains(&self, session: u64, seq: i64) -> bool {
        self.sessions.get(&session).is_some_and(|w| w.contains(seq))
    }

    pub fn insert(&mut self, session: u64, seq: i64) {
        self.entry(session).insert(seq);
    }

    pub fn replayed_up_to(&mut self, session: u64, seq: i64) {
        self.entry(session).replayed = seq;
    }

    fn entry(&mut self, session: u64) -> &mut Written {
        self.clock += 1;
        if self.sessions.len() >= SESSIONS_CAP && !self.sessions.contains_key(&session) {
            // The least recently written quarter goes at once: an agent of
            // a tenant with more live conversations than the cap misses on
            // most deliveries, and a pass over the map for each miss was a
            // measurable part of the fan-out (`used` values are unique).
            let mut used: Vec<u64> = self.sessions.values().map(|w| w.used).collect();
            let (_, &mut cut, _) = used.select_nth_unstable(FORGOTTEN_AT_ONCE - 1);
            self.sessions.retain(|_, w| w.used > cut);
        }
        let written = self.sessions.entry(session).or_default();
        written.used = self.clock;
        written
    }
}

#[cfg(test)]
mod tests {
    use super::super::framing::{Session, split};
    use super::*;
    use crate::hub::local::QueueTx;

    fn frame(session: u64, seq: i64) -> Outbound {
        Outbound::new("{}".into(), Some((session, seq)), "chat.message.new")
    }

    #[test]
    fn a_message_goes_out_once() {
        let mut d = Delivered::default();
        assert!(d.first_time(&frame(1, 5)));
        assert!(!d.first_time(&frame(1, 5)));
        assert!(d.first_time(&frame(2, 5)));
        d.replayed_up_to(3, 10);
        assert!(!d.first_time(&frame(3, 9)));
        assert!(d.first_time(&frame(3, 11)));
        // Frames that are not messages always go out.
        let typing = Outbound::new("{}".into(), None, "chat.typing");
        assert!(d.first_time(&typing) && d.first_time(&typing));
    }

    /// The body over a session's frames and a hub queue.
    fn body() -> (Outgoing, Session, QueueTx, Rc<RefCell<Delivered>>) {
        let (session, _inbound, own) = split(actix_web::dev::Payload::None, 1024, 1024);
        let (hub_tx, hub_rx) = crate::hub::local::queue(16);
        let delivered = Rc::new(RefCell::new(Delivered::default()));
        let body = Outgoing::new(own, hub_rx, delivered.clone());
        (body, session, hub_tx, delivered)
    }

    fn send(session: &mut Session, text: &'static str) {
        use futures_util::FutureExt;
        assert!(session.text(text).now_or_never().is_some_and(|r| r.is_ok()));
    }

    fn next(body: &mut Outgoing) -> Poll<Option<Bytes>> {
        let mut cx = Context::from_waker(std::task::Waker::noop());
        Pin::new(body)
            .poll_next(&mut cx)
            .map(|c| c.map(|r| r.unwrap_or_else(|_| Bytes::from_static(b"error"))))
    }

    fn text_frame(text: &'static str, seq: i64) -> Outbound {
        Outbound::new(text.into(), Some((1, seq)), "chat.message.new")
    }

    /// The payload of each server (unmasked, short) text frame in a chunk.
    fn payloads(chunk: &Bytes) -> Vec<String> {
        let mut out = Vec::new();
        let mut rest = &chunk[..];
        while rest.len() >= 2 {
            let len = usize::from(rest[1] & 0x7f);
            out.push(String::from_utf8_lossy(&rest[2..2 + len]).into_owned());
            rest = &rest[2 + len..];
        }
        out
    }

    #[test]
    fn session_frames_come_first_and_the_hub_waits_for_a_replay() {
        let (mut body, mut session, hub, delivered) = body();
        assert!(next(&mut body).is_pending());

        // Hub frames are written together, each message once.
        for (text, seq) in [("a", 1), ("b", 2), ("a", 1)] {
            hub.push(text_frame(text, seq)).ok();
        }
        let Poll::Ready(Some(chunk)) = next(&mut body) else {
            panic!("hub frames were not written");
        };
        assert_eq!(payloads(&chunk), ["a", "b"]);

        // While a replay runs, live frames stay queued.
        delivered.borrow_mut().resuming = true;
        hub.push(text_frame("c", 3)).ok();
        assert!(next(&mut body).is_pending());
        send(&mut session, "replayed");
        let Poll::Ready(Some(chunk)) = next(&mut body) else {
            panic!("the session's frame was not written");
        };
        assert_eq!(payloads(&chunk), ["replayed"]);
        assert!(next(&mut body).is_pending());

        // Once it ends, the session's frame first, then the held frames.
        delivered.borrow_mut().resuming = false;
        send(&mut session, "done");
        let Poll::Ready(Some(chunk)) = next(&mut body) else {
            panic!("the session's frame was not written");
        };
        assert_eq!(payloads(&chunk), ["done"]);
        let Poll::Ready(Some(chunk)) = next(&mut body) else {
            panic!("held frames were not released");
        };
        assert_eq!(payloads(&chunk), ["c"]);

        // The session's end is the body's end.
        drop(session);
        assert_eq!(next(&mut body), Poll::Ready(None));
    }

    #[test]
    fn one_waiting_frame_goes_out_as_the_bytes_every_recipient_shares() {
        let (mut first, _session, hub, _) = body();
        let (mut other, _other_session, other_hub, _) = body();
        let frame = text_frame("hello", 1);
        hub.push(frame.clone()).ok();
        other_hub.push(frame.clone()).ok();
        for body in [&mut first, &mut other] {
            let Poll::Ready(Some(chunk)) = next(body) else {
                panic!("the frame was not written");
            };
            assert_eq!(payloads(&chunk), ["hello"]);
            assert_eq!(
                chunk.as_ptr(),
                frame.wire().as_ptr(),
                "not copied for each socket"
            );
        }
    }

    #[test]
    fn a_session_remembers_its_window_out_of_order_and_a_replay() {
        let mut d = Delivered::default();
        // Out of order within the window: each once.
        for seq in [5, 3, 4, 3, 5] {
            d.first_time(&frame(1, seq));
        }
        assert!(d.contains(1, 3) && d.contains(1, 4) && d.contains(1, 5));
        assert!(!d.contains(1, 2) && !d.contains(1, 6));
        assert!(d.first_time(&frame(1, 2)), "a gap filled late goes out");
        assert!(!d.first_time(&frame(1, 2)));
        // The newest moves on; what falls out of the window is forgotten.
        d.insert(1, 4 + WINDOW);
        assert!(d.contains(1, 5) && !d.contains(1, 4), "the window's edge");
        assert!(d.contains(1, 4 + WINDOW));
        d.insert(1, 1000 + WINDOW * 3);
        assert!(!d.contains(1, 4 + WINDOW) && d.contains(1, 1000 + WINDOW * 3));
        assert!(
            d.first_time(&frame(1, 1000 + WINDOW)),
            "older than the window: not known, so written (never dropped)"
        );
        // A replay covers everything up to where it went.
        d.replayed_up_to(2, 50);
        assert!(!d.first_time(&frame(2, 1)) && !d.first_time(&frame(2, 50)));
        assert!(d.first_time(&frame(2, 51)));
    }

    #[test]
    fn the_least_recently_written_sessions_are_forgotten_past_the_cap() {
        let mut d = Delivered::default();
        for session in 0..SESSIONS_CAP as u64 {
            d.insert(session, 1);
        }
        // Session 0 written again: sessions 1 to 32 are now the oldest.
        d.insert(0, 2);
        let new = SESSIONS_CAP as u64;
        d.insert(new, 1);
        assert_eq!(d.sessions.len(), SESSIONS_CAP - FORGOTTEN_AT_ONCE + 1);
        assert!(d.contains(0, 1) && d.contains(0, 2));
        for gone in 1..=FORGOTTEN_AT_ONCE as u64 {
            assert!(
                !d.contains(gone, 1),
                "session {gone}, among the least recently written, went"
            );
        }
        for kept in FORGOTTEN_AT_ONCE as u64 + 1..new {
            assert!(d.contains(kept, 1), "session {kept} is kept");
        }
        assert!(d.contains(new, 1));
        // Below the cap again: the next new sessions forget nothing.
        for more in new + 1..new + FORGOTTEN_AT_ONCE as u64 {
            d.insert(more, 1);
        }
        assert_eq!(d.sessions.len(), SESSIONS_CAP);
        assert!(d.contains(FORGOTTEN_AT_ONCE as u64 + 1, 1));
    }
}
