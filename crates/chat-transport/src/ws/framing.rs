//! A socket's WebSocket framing on actix-http's codec: the client's frames
//! in ([`Inbound`], continuations put together), and the connection task's
//! own frames out ([`Session`]: replies, replays, pings, the close), which
//! the response body (`outgoing.rs`) writes before the hub's.
//!
//! The two ends share one small record per socket ([`Shared`]): the frames
//! waiting to go out and the wakers of whoever waits on the other side. It
//! stands where actix-ws's session channel stood, whose first block (32
//! slots, allocated with the channel) cost every idle socket 1.8 KiB;
//! actix-ws's stream cannot be built without that channel.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::poll_fn;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use actix_codec::{Decoder, Encoder};
use actix_http::ws::{CloseReason, Codec, Frame, Item, Message, ProtocolError};
use bytes::{Bytes, BytesMut};
use bytestring::ByteString;
use futures_util::Stream;

/// Own frames that may wait for the body before a send waits for room (as
/// actix-ws's channel held), so a client that stops reading holds a reply
/// until its write deadline, not the task's memory.
const QUEUE: usize = 32;
/// RFC 6455 §5.5: a control frame carries at most 125 bytes; a close's
/// reason, after its two-byte code, 123.
const MAX_CONTROL: usize = 125;

/// What both ends of one socket share.
#[derive(Default)]
pub struct Shared {
    frames: VecDeque<Message>,
    /// The task let go of its session: the body ends once `frames` is out.
    session_gone: bool,
    /// The body was dropped (the connection is over): sends fail and the
    /// inbound stream ends.
    body_gone: bool,
    body: Option<Waker>,
    sender: Option<Waker>,
    reader: Option<Waker>,
}

fn wake(slot: &mut Option<Waker>) {
    if let Some(w) = slot.take() {
        w.wake();
    }
}

fn park(slot: &mut Option<Waker>, cx: &Context<'_>) {
    match slot {
        Some(w) if w.will_wake(cx.waker()) => {}
        _ => *slot = Some(cx.waker().clone()),
    }
}

/// The three ends of a new socket's framing.
pub fn split(
    payload: actix_web::dev::Payload,
    max_frame: usize,
    max_message: usize,
) -> (Session, Inbound, OwnFrames) {
    let shared = Rc::new(RefCell::new(Shared::default()));
    (
        Session {
            shared: shared.clone(),
        },
        Inbound {
            payload,
            shared: shared.clone(),
            buf: BytesMut::new(),
            codec: Codec::new().max_size(max_frame),
            closing: false,
            parts: Vec::new(),
            parts_len: 0,
            parts_text: false,
            overflowed: false,
            max_message,
        },
        OwnFrames {
            shared,
            ended: false,
        },
    )
}

/// The connection is over; nothing more can be sent.
#[derive(Debug)]
pub struct Closed;

/// The connection task's writing end.
pub struct Session {
    shared: Rc<RefCell<Shared>>,
}

impl Session {
    pub async fn text(&mut self, text: impl Into<ByteString>) -> Result<(), Closed> {
        self.push(Message::Text(text.into())).await
    }

    pub async fn ping(&mut self, payload: &[u8]) -> Result<(), Closed> {
        let payload = &payload[..payload.len().min(MAX_CONTROL)];
        self.push(Message::Ping(Bytes::copy_from_slice(payload)))
            .await
    }

    pub async fn pong(&mut self, payload: &[u8]) -> Result<(), Closed> {
        let payload = &payload[..payload.len().min(MAX_CONTROL)];
        self.push(Message::Pong(Bytes::copy_from_slice(payload)))
            .await
    }

    /// Sends the close frame; the body ends after it.
    pub async fn close(mut self, reason: Option<CloseReason>) -> Result<(), Closed> {
        let reason = reason.map(|mut r| {
            if let Some(d) = r.description.as_mut() {
                let mut end = d.len().min(MAX_CONTROL - 2);
                while !d.is_char_boundary(end) {
                    end -= 1;
                }
                d.truncate(end);
            }
            r
        });
        self.push(Message::Close(reason)).await
    }

    async fn push(&mut self, message: Message) -> Result<(), Closed> {
        let mut message = Some(message);
        poll_fn(|cx| {
            let mut s = self.shared.borrow_mut();
            if s.body_gone {
                return Poll::Ready(Err(Closed));
            }
            if s.frames.len() >= QUEUE {
                park(&mut s.sender, cx);
                return Poll::Pending;
            }
            if let Some(m) = message.take() {
                s.frames.push_back(m);
            }
            wake(&mut s.body);
            Poll::Ready(Ok(()))
        })
        .await
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let mut s = self.shared.borrow_mut();
        s.session_gone = true;
        wake(&mut s.body);
    }
}

/// The response body's view of the session's frames.
pub struct OwnFrames {
    shared: Rc<RefCell<Shared>>,
    /// The close went out (or the session was let go): nothing follows.
    ended: bool,
}

impl OwnFrames {
    /// Every frame waiting, encoded in one chunk; `Ready(None)` once the
    /// close has gone out or the session was let go with nothing waiting.
    /// Encoded with the body's codec, which writes the hub's frames too.
    pub fn poll_frames(
        &mut self,
        cx: &Context<'_>,
        codec: &mut Codec,
    ) -> Poll<Option<Result<Bytes, ProtocolError>>> {
        if self.ended {
            return Poll::Ready(None);
        }
        let mut s = self.shared.borrow_mut();
        if s.frames.is_empty() {
            if s.session_gone {
                self.ended = true;
                return Poll::Ready(None);
            }
            park(&mut s.body, cx);
            return Poll::Pending;
        }
        let mut buf = BytesMut::new();
        while let Some(m) = s.frames.pop_front() {
            let close = matches!(m, Message::Close(_));
            if let Err(e) = codec.encode(m, &mut buf) {
                return Poll::Ready(Some(Err(e)));
            }
            if close {
                // Terminal: whatever was queued after it is not written.
                self.ended = true;
                s.frames.clear();
                break;
            }
        }
        wake(&mut s.sender);
        Poll::Ready(Some(Ok(buf.freeze())))
    }
}

impl Drop for OwnFrames {
    fn drop(&mut self) {
        let mut s = self.shared.borrow_mut();
        s.body_gone = true;
        s.frames.clear();
        wake(&mut s.sender);
        wake(&mut s.reader);
    }
}

/// A client frame, continuations put together.
#[derive(Debug, PartialEq, Eq)]
pub enum Incoming {
    Text(ByteString),
    Binary(Bytes),
    Ping(Bytes),
    Pong(Bytes),
    Close(Option<CloseReason>),
}

/// Why the client's frames cannot be read on.
#[derive(Debug)]
pub enum InboundError {
    /// A frame, or the codec's reading of one, broke the protocol (a frame
    /// over the size limit is `ProtocolError::Overflow`).
    Protocol(ProtocolError),
    /// A message in continuation frames grew past the limit.
    MessageTooLarge,
    /// A text message that is not UTF-8.
    NotUtf8,
    /// The connection failed under the frames.
    Io(String),
}

impl std::fmt::Display for InboundError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Protocol(e) => write!(f, "{e}"),
            Self::MessageTooLarge => f.write_str("message over the size limit"),
            Self::NotUtf8 => f.write_str("text that is not UTF-8"),
            Self::Io(e) => write!(f, "connection: {e}"),
        }
    }
}

/// The client's frames.
pub struct Inbound {
    payload: actix_web::dev::Payload,
    shared: Rc<RefCell<Shared>>,
    buf: BytesMut,
    codec: Codec,
    closing: bool,
    /// A message in continuation frames so far.
    parts: Vec<Bytes>,
    parts_len: usize,
    parts_text: bool,
    /// The message in progress went past the limit: its rest is skipped.
    overflowed: bool,
    max_message: usize,
}

impl Inbound {
    /// A continuation frame: the whole message once its last part is in.
    fn part(&mut self, item: Item) -> Option<Result<Incoming, InboundError>> {
        let (bytes, last) = match item {
            Item::FirstText(b) => {
                self.parts_text = true;
                (b, false)
            }
            Item::FirstBinary(b) => {
                self.parts_text = false;
                (b, false)
            }
            Item::Continue(b) => (b, false),
            Item::Last(b) => (b, true),
        };
        if self.overflowed {
            if last {
                self.overflowed = false;
            }
            return None;
        }
        self.parts_len += bytes.len();
        if self.parts_len > self.max_message {
            self.parts.clear();
            self.parts_len = 0;
            self.overflowed = !last;
            return Some(Err(InboundError::MessageTooLarge));
        }
        if !bytes.is_empty() {
            self.parts.push(bytes);
        }
        if !last {
            return None;
        }
        let mut whole = BytesMut::with_capacity(self.parts_len);
        for p in self.parts.drain(..) {
            whole.extend_from_slice(&p);
        }
        self.parts_len = 0;
        Some(if self.parts_text {
            ByteString::try_from(whole.freeze())
                .map(Incoming::Text)
                .map_err(|_| InboundError::NotUtf8)
        } else {
            Ok(Incoming::Binary(whole.freeze()))
        })
    }
}

impl Stream for Inbound {
    type Item = Result<Incoming, InboundError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            match this.codec.decode(&mut this.buf) {
                Ok(Some(frame)) => {
                    let message = match frame {
                        Frame::Text(b) => ByteString::try_from(b)
                            .map(Incoming::Text)
                            .map_err(|_| InboundError::NotUtf8),
                        Frame::Binary(b) => Ok(Incoming::Binary(b)),
                        Frame::Ping(b) => Ok(Incoming::Ping(b)),
                        Frame::Pong(b) => Ok(Incoming::Pong(b)),
                        Frame::Close(r) => Ok(Incoming::Close(r)),
                        Frame::Continuation(item) => match this.part(item) {
                            Some(m) => m,
                            None => continue,
                        },
                    };
                    return Poll::Ready(Some(message));
                }
                Ok(None) => {}
                Err(e) => {
                    this.closing = true;
                    this.buf.clear();
                    return Poll::Ready(Some(Err(InboundError::Protocol(e))));
                }
            }
            if this.closing {
                return Poll::Ready(None);
            }
            {
                let mut s = this.shared.borrow_mut();
                if s.body_gone {
                    this.closing = true;
                    continue;
                }
                park(&mut s.reader, cx);
            }
            match Pin::new(&mut this.payload).poll_next(cx) {
                Poll::Ready(Some(Ok(bytes))) => {
                    if this.buf.is_empty() {
                        // No copy: with the dispatcher's reads sized to what
                        // arrived, this holds no more than the frame.
                        this.buf = BytesMut::from(bytes);
                    } else {
                        this.buf.extend_from_slice(&bytes);
                    }
                }
                Poll::Ready(Some(Err(e))) => {
                    this.closing = true;
                    return Poll::Ready(Some(Err(InboundError::Io(e.to_string()))));
                }
                Poll::Ready(None) => this.closing = true,
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::{FutureExt, StreamExt};

    /// A masked client frame.
    fn client_frame(opcode: u8, fin: bool, payload: &[u8]) -> Vec<u8> {
        let mut out = vec![opcode | if fin { 0x80 } else { 0 }];
        assert!(payload.len() < 126, "short frames only");
        out.push(0x80 | payload.len() as u8);
        let mask = [1u8, 2, 3, 4];
        out.extend_from_slice(&mask);
        out.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        out
    }

    /// The three ends over a payload of `chunks` that then ends.
    fn inbound(chunks: Vec<Vec<u8>>, max: usize) -> (Session, Inbound, OwnFrames) {
        let (mut tx, payload) = actix_http::h1::Payload::create(false);
        for c in chunks {
            tx.feed_data(Bytes::from(c));
        }
        tx.feed_eof();
        split(actix_web::dev::Payload::from(payload), max, max)
    }

    fn read_all(stream: &mut Inbound) -> Vec<Result<Incoming, String>> {
        let mut out = Vec::new();
        while let Some(m) = stream.next().now_or_never().flatten() {
            out.push(m.map_err(|e| e.to_string()));
        }
        out
    }

    #[test]
    fn frames_split_anywhere_are_read_whole_and_continuations_put_together() {
        let mut bytes = client_frame(0x1, true, b"hello");
        bytes.extend(client_frame(0x9, true, b"p"));
        bytes.extend(client_frame(0x1, false, "h\u{e9}".as_bytes()));
        bytes.extend(client_frame(0x0, false, b""));
        bytes.extend(client_frame(0x0, true, b"llo"));
        // Three chunks cutting frames in the middle.
        let chunks = vec![
            bytes[..3].to_vec(),
            bytes[3..12].to_vec(),
            bytes[12..].to_vec(),
        ];
        let (_session, mut stream, _own) = inbound(chunks, 64);
        assert_eq!(
            read_all(&mut stream),
            vec![
                Ok(Incoming::Text("hello".into())),
                Ok(Incoming::Ping(Bytes::from_static(b"p"))),
                Ok(Incoming::Text("h\u{e9}llo".into())),
            ]
        );
    }

    #[test]
    fn a_message_past_the_limit_and_text_that_is_not_utf8_are_errors() {
        let mut bytes = client_frame(0x1, false, &[b'a'; 40]);
        bytes.extend(client_frame(0x0, false, &[b'a'; 40]));
        bytes.extend(client_frame(0x0, true, &[b'a'; 40]));
        bytes.extend(client_frame(0x1, true, &[0xff, 0xfe]));
        let (_session, mut stream, _own) = inbound(vec![bytes], 64);
        let got = read_all(&mut stream);
        assert!(
            matches!(got[0], Err(ref e) if e.contains("size limit")),
            "{got:?}"
        );
        assert!(
            matches!(got[1], Err(ref e) if e.contains("UTF-8")),
            "{got:?}"
        );
        assert_eq!(got.len(), 2, "the rest of the long message is skipped");

        let (_session, mut stream, _own) = inbound(vec![client_frame(0x2, true, &[0; 100])], 64);
        let got = stream.next().now_or_never().flatten();
        assert!(
            matches!(
                got,
                Some(Err(InboundError::Protocol(ProtocolError::Overflow)))
            ),
            "a frame over the limit: {got:?}"
        );
    }

    #[test]
    fn own_frames_wait_for_room_end_with_the_close_and_fail_once_the_body_is_gone() {
        let (mut session, _stream, mut own) = inbound(Vec::new(), 64);
        let cx = Context::from_waker(Waker::noop());
        let mut codec = Codec::new();
        assert!(own.poll_frames(&cx, &mut codec).is_pending());
        for _ in 0..QUEUE {
            assert!(session.text("x").now_or_never().is_some_and(|r| r.is_ok()));
        }
        assert!(
            session.text("one too many").now_or_never().is_none(),
            "a full queue makes the sender wait"
        );
        let Poll::Ready(Some(Ok(chunk))) = own.poll_frames(&cx, &mut codec) else {
            panic!("the queued frames were not written");
        };
        assert_eq!(
            chunk.len(),
            QUEUE * 3,
            "32 frames of one byte, 3 bytes each"
        );
        let close = session.close(None).now_or_never();
        assert!(close.is_some_and(|r| r.is_ok()));
        assert!(matches!(
            own.poll_frames(&cx, &mut codec),
            Poll::Ready(Some(Ok(_)))
        ));
        assert!(
            matches!(own.poll_frames(&cx, &mut codec), Poll::Ready(None)),
            "the close ends the body"
        );

        // A payload still open: only the body's end ends the stream.
        let (_tx, payload) = actix_http::h1::Payload::create(false);
        let (mut session, mut stream, own) = split(actix_web::dev::Payload::from(payload), 64, 64);
        assert!(stream.next().now_or_never().is_none(), "waiting for frames");
        drop(own);
        assert!(session.ping(b"").now_or_never().is_some_and(|r| r.is_err()));
        assert!(
            matches!(stream.next().now_or_never(), Some(None)),
            "no frames after the body"
        );
    }
}
