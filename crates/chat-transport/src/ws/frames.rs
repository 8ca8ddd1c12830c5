//! One handler per client frame type, the twin of `routes/`: each parses
//! what it needs, calls the service, and answers with a frame.

use std::time::Instant;

use super::framing::Session;
use chat_domain::{ChatSession, SessionId};

use super::conn::{Flow, Handler, Who};
use super::rate::Refused;
use crate::error::ApiError;
use crate::wire::frames::{
    NoteFrame, ReceiptFrame, ResumeFrame, SendFrame, TypingFrame, ack_frame, error_frame,
    pong_frame, resume_done_frame,
};
use crate::wire::{Audience, ClientFrame, decode, encode};
use chat_domain::ChatEvent;

impl Handler {
    /// A frame the server does not take (binary): an error, within the
    /// frame budget.
    pub(super) async fn refuse(
        &mut self,
        session: &mut Session,
        code: &str,
        message: &str,
    ) -> Flow {
        match self.rate.take(&self.state.ws_limits) {
            Ok(()) => self.send(session, error_frame(code, message, None)).await,
            Err(Refused::Slow) => Flow::Continue,
            Err(Refused::Flood) => Flow::flood(),
        }
    }

    /// A text frame: within the budget, decoded and dispatched by type.
    pub(super) async fn on_text(&mut self, session: &mut Session, text: &str) -> Flow {
        match self.rate.take(&self.state.ws_limits) {
            Ok(()) => {}
            Err(Refused::Slow) => {
                let frame = error_frame("rate_limited", "too many frames; slow down", None);
                return self.send(session, frame).await;
            }
            Err(Refused::Flood) => return Flow::flood(),
        }
        match decode(text) {
            Ok(ClientFrame::Ping) => self.send(session, pong_frame()).await,
            Ok(ClientFrame::Typing(f)) => self.typing(session, f).await,
            Ok(ClientFrame::Send(f)) => self.send_message(session, f).await,
            Ok(ClientFrame::Resume(f)) => self.resume(session, f).await,
            Ok(ClientFrame::Delivered(f)) => {
                self.receipt(session, f, chat_domain::ReceiptUpdate::delivered)
                    .await
            }
            Ok(ClientFrame::Note(f)) => self.note(session, f).await,
            Ok(ClientFrame::Read(f)) => {
                self.receipt(session, f, chat_domain::ReceiptUpdate::read)
                    .await
            }
            Err((code, message)) => self.send(session, error_frame(code, &message, None)).await,
        }
    }

    /// `chat.typing`: relayed, at most once per interval for a repeated
    /// state.
    async fn typing(&mut self, session: &mut Session, f: TypingFrame) -> Flow {
        let now = Instant::now();
        let throttled = self.last_typing.is_some_and(|(state, at)| {
            state == f.is_typing && now.duration_since(at) < self.state.ws_limits.typing_interval
        });
        if throttled {
            return Flow::Continue;
        }
        self.last_typing = Some((f.is_typing, now));
        let res = match &self.who {
            Who::Agent(ctx) => match agent_target(f.session_id.as_deref(), None) {
                Ok(id) => self.state.chat.agent_typing(ctx, &id, f.is_typing).await,
                Err(frame) => return self.send(session, frame).await,
            },
            Who::Customer(s) => match own_session(s, f.session_id.as_deref()) {
                Ok(()) => {
                    self.state.chat.customer_typing(s, f.is_typing).await;
                    Ok(())
                }
                Err(frame) => return self.send(session, frame).await,
            },
        };
        match res {
            Ok(()) => Flow::Continue,
            Err(e) => self.send(session, service_error(e, None)).await,
        }
    }

    /// `chat.message.send`: stored, then acknowledged with
    /// `chat.message.ack` before the queued `chat.message.new` goes out.
    async fn send_message(&mut self, session: &mut Session, f: SendFrame) -> Flow {
        let cid = f.client_msg_id.as_str();
        let res = match &self.who {
            Who::Agent(ctx) => match agent_target(f.session_id.as_deref(), Some(cid)) {
                Ok(id) => {
                    if let Err(e) = self.state.limit_agent_send(&ctx.agent.id).await {
                        return self.send(session, api_error(&e, Some(cid))).await;
                    }
                    self.state
                        .chat
                        .send_as_agent_with(ctx, &id, &f.body, Some(cid), &f.attachment_ids)
                        .await
                }
                Err(frame) => return self.send(session, frame).await,
            },
            Who::Customer(s) => match own_session(s, f.session_id.as_deref()) {
                Ok(()) => {
                    if let Err(e) = self
                        .state
                        .limit_customer_send(self.address, &s.tenant_id, &s.id)
                        .await
                    {
                        return self.send(session, api_error(&e, Some(cid))).await;
                    }
                    self.state
                        .chat
                        .send_as_customer_with(s, &f.body, Some(cid), &f.attachment_ids)
                        .await
                }
                Err(frame) => return self.send(session, frame).await,
            },
        };
        match res {
            Ok((message, _)) => self.send(session, ack_frame(cid, &message)).await,
            Err(e) => self.send(session, service_error(e, Some(cid))).await,
        }
    }

    /// `chat.message.delivered` / `chat.message.read`: the pointer moves
    /// (never down) and the other side hears of it; nothing is answered
    /// unless it fails.
    async fn receipt(
        &mut self,
        session: &mut Session,
        f: ReceiptFrame,
        update: fn(i64) -> Result<chat_domain::ReceiptUpdate, chat_domain::ValidationError>,
    ) -> Flow {
        let update = match update(f.seq) {
            Ok(u) => u,
            Err(e) => return self.send(session, service_error(e.into(), None)).await,
        };
        let res = match &self.who {
            Who::Agent(ctx) => match agent_target(f.session_id.as_deref(), None) {
                Ok(id) => self.state.chat.agent_receipt(ctx, &id, update).await,
                Err(frame) => return self.send(session, frame).await,
            },
            Who::Customer(s) => match own_session(s, f.session_id.as_deref()) {
                Ok(()) => self.state.chat.customer_receipt(s, update).await,
                Err(frame) => return self.send(session, frame).await,
            },
        };
        match res {
            Ok(()) => Flow::Continue,
            Err(e) => self.send(session, service_error(e, None)).await,
        }
    }

    /// `chat.note.send`: agents only; stored, then `chat.note.new` to the
    /// tenant's agents (this socket included).
    async fn note(&mut self, session: &mut Session, f: NoteFrame) -> Flow {
        let Who::Agent(ctx) = &self.who else {
            let frame = error_frame("forbidden", "notes are for agents", None);
            return self.send(session, frame).await;
        };
        let res = match agent_target(Some(&f.session_id), None) {
            Ok(id) => self.state.chat.add_note(ctx, &id, &f.body).await,
            Err(frame) => return self.send(session, frame).await,
        };
        match res {
            Ok(_) => Flow::Continue,
            Err(e) => self.send(session, service_error(e, None)).await,
        }
    }

    /// `chat.resume`: every stored message after `after_seq`, in order,
    /// then `chat.resume.done`.
    async fn resume(&mut self, session: &mut Session, f: ResumeFrame) -> Flow {
        let target = match &self.who {
            Who::Agent(ctx) => {
                let id = match agent_target(f.session_id.as_deref(), None) {
                    Ok(id) => id,
                    Err(frame) => return self.send(session, frame).await,
                };
                match self.state.chat.agent_session(ctx, &id).await {
                    Ok(s) => s,
                    Err(e) => return self.send(session, service_error(e, None)).await,
                }
            }
            Who::Customer(s) => match own_session(s, f.session_id.as_deref()) {
                Ok(()) => (**s).clone(),
                Err(frame) => return self.send(session, frame).await,
            },
        };
        match self.replay(session, &target, f.after_seq).await {
            Ok((last_seq, more)) => {
                // Agents also get the notes placed in what was replayed.
                if let Who::Agent(ctx) = &self.who {
                    let notes = match self
                        .state
                        .chat
                        .session_notes(ctx, &target, f.after_seq)
                        .await
                    {
                        Ok(n) => n,
                        Err(e) => return self.send(session, service_error(e, None)).await,
                    };
                    for n in notes.iter().filter(|n| n.after_seq <= last_seq) {
                        let frame = encode(&ChatEvent::NoteNew(n.clone()), Audience::Agent);
                        if let Flow::Close(why) = self.send(session, frame).await {
                            return Flow::Close(why);
                        }
                    }
                }
                let done = resume_done_frame(target.id.as_str(), last_seq, more);
                self.send(session, done).await
            }
            Err(Ok(error)) => self.send(session, error).await,
            Err(Err(closed)) => closed,
        }
    }
}

/// The session an agent's frame names: required, and a malformed id is
/// "not found" like a missing one.
fn agent_target(requested: Option<&str>, client_msg_id: Option<&str>) -> Result<SessionId, String> {
    let raw = requested.ok_or_else(|| {
        error_frame(
            "invalid_payload",
            "session_id is required on agent connections",
            client_msg_id,
        )
    })?;
    crate::error::session_id(raw).map_err(|e| error_frame(e.code, &e.message, client_msg_id))
}

/// A customer's socket speaks for its own session only.
fn own_session(s: &ChatSession, requested: Option<&str>) -> Result<(), String> {
    match requested {
        None => Ok(()),
        Some(id) if id == s.id.as_str() => Ok(()),
        Some(_) => Err(error_frame("not_found", "session not found", None)),
    }
}

pub(super) fn service_error(e: chat_service::Error, client_msg_id: Option<&str>) -> String {
    api_error(&ApiError::from(e), client_msg_id)
}

fn api_error(e: &ApiError, client_msg_id: Option<&str>) -> String {
    error_frame(e.code, &e.message, client_msg_id)
}
