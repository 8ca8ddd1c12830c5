//! Files: an upload streamed to the file store with its type sniffed from
//! its first bytes, the record written once the bytes are stored, the
//! download by capability token, and the expiry of files never sent.

use std::sync::Arc;

use chat_domain::attachment::{ACCEPTED_BINARY_TYPES, file_name, is_inline};
use chat_domain::{
    Attachment, AttachmentId, AttachmentLimits, ChatSession, FileDownload, FileStore, FileUpload,
    MessageBody, NewAttachment, Scope, SenderType, SessionId, TenantId,
};
use tracing::instrument;

use super::ChatService;
use crate::{AgentCtx, Error, Result};

/// How much of a file is read before its type is decided (and before
/// anything is stored): enough for a JPEG's header behind its EXIF block.
const SNIFF_BYTES: usize = 64 * 1024;

/// Unsent files are deleted this long after their upload.
pub const UNSENT_TTL_HOURS: i64 = 24;

/// The file store and the limits, once configured.
#[derive(Clone)]
pub(crate) struct Files {
    pub(crate) store: Arc<dyn FileStore>,
    pub(crate) limits: AttachmentLimits,
}

/// The ids a send names: at most [`AttachmentLimits::max_per_message`]
/// (checked again by the limits), well formed, each once.
pub(super) fn parse_ids(raw: &[String]) -> Result<Vec<AttachmentId>> {
    if raw.len() > AttachmentLimits::default().max_per_message {
        return Err(chat_domain::ValidationError::new(
            "attachment_ids",
            format!(
                "at most {} files per message",
                AttachmentLimits::default().max_per_message
            ),
        )
        .into());
    }
    let mut ids: Vec<AttachmentId> = Vec::with_capacity(raw.len());
    for r in raw {
        if !chat_domain::ids::is_well_formed_id(r) {
            return Err(Error::Conflict {
                code: "attachment_unavailable",
                message: "an attachment is not an unsent file of this session".into(),
            });
        }
        let id = AttachmentId::new(r.clone());
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    Ok(ids)
}

/// A message's text: required unless it carries files.
pub(super) fn body(raw: &str, attachments: &[AttachmentId]) -> Result<MessageBody> {
    Ok(if attachments.is_empty() {
        MessageBody::parse(raw)?
    } else {
        MessageBody::parse_optional(raw)?
    })
}

/// What the first bytes of a file say it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sniffed {
    pub content_type: String,
    pub width: Option<u32>,
    pub height: Option<u32>,
}

/// The type of a file from its bytes alone: an accepted binary type
/// (raster images with their dimensions, PDF, office documents), or text
/// (plain, CSV by its name, and HTML or SVG recognised as what they are, to
/// be served only as downloads). Anything else is refused.
pub fn sniff(head: &[u8], name: &str, max_side: u32) -> Result<Sniffed> {
    let refused = |why: &str| Error::UnsupportedType(why.to_owned());
    if let Some(kind) = infer::get(head) {
        let mime = kind.mime_type();
        if ACCEPTED_BINARY_TYPES.contains(&mime) {
            let (width, height) = if is_inline(mime) {
                let size = imagesize::blob_size(head)
                    .map_err(|_| refused("the image could not be read"))?;
                let (w, h) = (size.width as u64, size.height as u64);
                if w == 0 || h == 0 || w > u64::from(max_side) || h > u64::from(max_side) {
                    return Err(refused(&format!(
                        "images may be at most {max_side} pixels wide and high"
                    )));
                }
                (Some(w as u32), Some(h as u32))
            } else {
                (None, None)
            };
            return Ok(Sniffed {
                content_type: mime.to_owned(),
                width,
                height,
            });
        }
        if !mime.starts_with("text/") && mime != "application/xml" {
            return Err(refused(
                "this type of file is not accepted (images, PDF, text, CSV and office documents are)",
            ));
        }
    }
    if !is_text(head) {
        return Err(refused(
            "this type of file is not accepted (images, PDF, text, CSV and office documents are)",
        ));
    }
    let start: String = String::from_utf8_lossy(&head[..head.len().min(1024)])
        .trim_start_matches('\u{feff}')
        .trim_start()
        .to_ascii_lowercase();
    let content_type = if start.contains("<svg") {
        "image/svg+xml"
    } else if [
        "<!doctype html",
        "<html",
        "<head",
        "<body",
        "<script",
        "<iframe",
    ]
    .iter()
    .any(|t| start.contains(t))
    {
        "text/html"
    } else if name.to_ascii_lowercase().ends_with(".csv") {
        "text/csv"
    } else {
        "text/plain"
    };
    Ok(Sniffed {
        content_type: content_type.to_owned(),
        width: None,
        height: None,
    })
}

/// UTF-8 without NUL bytes (a character cut at the end of the sample is
/// allowed).
fn is_text(head: &[u8]) -> bool {
    if head.contains(&0) {
        return false;
    }
    match std::str::from_utf8(head) {
        Ok(_) => true,
        Err(e) => e.error_len().is_none() && head.len() - e.valid_up_to() < 4,
    }
}

/// A file on its way in: the first bytes are held until its type is known,
/// then everything streams to the store. Dropped without `finish`, the
/// stored part is deleted by `abort` (the handler calls it on every error).
pub struct Upload {
    files: Files,
    chat: ChatService,
    tenant: TenantId,
    session: SessionId,
    uploader: SenderType,
    name: String,
    id: AttachmentId,
    key: String,
    head: Vec<u8>,
    sink: Option<Box<dyn FileUpload>>,
    sniffed: Option<Sniffed>,
    size: u64,
    /// What the session held before this file.
    used_bytes: u64,
}

impl Upload {
    /// Takes the next chunk; fails as soon as a limit is passed.
    pub async fn write(&mut self, chunk: &[u8]) -> Result<()> {
        self.size += chunk.len() as u64;
        let limits = self.files.limits;
        if self.size > limits.max_bytes {
            return Err(Error::TooLarge(format!(
                "files are limited to {} bytes",
                limits.max_bytes
            )));
        }
        if self.used_bytes + self.size > limits.max_bytes_per_session {
            return Err(Error::TooLarge(format!(
                "a conversation holds at most {} bytes of files",
                limits.max_bytes_per_session
            )));
        }
        if let Some(sink) = &mut self.sink {
            return sink.write(chunk.to_vec()).await.map_err(unavailable);
        }
        self.head.extend_from_slice(chunk);
        if self.head.len() >= SNIFF_BYTES {
            self.start().await?;
        }
        Ok(())
    }

    /// Decides the type from the held bytes and opens the store.
    async fn start(&mut self) -> Result<()> {
        let sniffed = sniff(&self.head, &self.name, self.files.limits.max_image_side)?;
        let mut sink = self
            .files
            .store
            .create(&self.key)
            .await
            .map_err(unavailable)?;
        sink.write(std::mem::take(&mut self.head))
            .await
            .map_err(unavailable)?;
        self.sniffed = Some(sniffed);
        self.sink = Some(sink);
        Ok(())
    }

    /// Stores the rest and writes the record.
    pub async fn finish(mut self) -> Result<Attachment> {
        if self.size == 0 {
            return Err(chat_domain::ValidationError::new("file", "is empty").into());
        }
        if self.sink.is_none() {
            self.start().await?;
        }
        let (Some(sink), Some(sniffed)) = (self.sink.take(), self.sniffed.take()) else {
            return Err(Error::Internal("upload without a store".into()));
        };
        sink.finish().await.map_err(unavailable)?;
        let new = NewAttachment {
            id: self.id.clone(),
            uploader: self.uploader,
            name: self.name.clone(),
            content_type: sniffed.content_type,
            size: self.size,
            width: sniffed.width,
            height: sniffed.height,
            token: crate::new_secret(),
            storage_key: self.key.clone(),
        };
        match self
            .chat
            .repos
            .attachments
            .create_attachment(&self.tenant, &self.session, new)
            .await
        {
            Ok(a) => Ok(a),
            Err(e) => {
                let _ = self.files.store.delete(&self.key).await;
                Err(e.into())
            }
        }
    }

    /// Drops whatever was stored.
    pub async fn abort(mut self) {
        if let Some(sink) = self.sink.take() {
            sink.abort().await;
        }
        let _ = self.files.store.delete(&self.key).await;
    }
}

fn unavailable(e: chat_domain::FileError) -> Error {
    Error::Unavailable(e.to_string())
}

impl ChatService {
    pub(crate) fn files(&self) -> Result<&Files> {
        self.files
            .as_ref()
            .ok_or_else(|| Error::Unavailable("no file store is configured".into()))
    }

    /// With a file store for attachments, under these limits.
    pub fn with_files(mut self, store: Arc<dyn FileStore>, limits: AttachmentLimits) -> Self {
        self.files = Some(Files { store, limits });
        self
    }

    /// The customer starts uploading a file to their session.
    pub async fn customer_upload(&self, session: &ChatSession, name: &str) -> Result<Upload> {
        if !session.accepts_messages() {
            return Err(Error::Conflict {
                code: "session_closed",
                message: "the session is closed".into(),
            });
        }
        self.begin_upload(session, SenderType::Customer, name).await
    }

    /// An agent starts uploading a file to a conversation.
    pub async fn agent_upload(&self, ctx: &AgentCtx, id: &SessionId, name: &str) -> Result<Upload> {
        ctx.require(Scope::MessagesWrite)?;
        let session = self.agent_session_by_id(ctx.tenant_id(), id).await?;
        self.begin_upload(&session, SenderType::Agent, name).await
    }

    async fn begin_upload(
        &self,
        session: &ChatSession,
        uploader: SenderType,
        name: &str,
    ) -> Result<Upload> {
        let files = self.files()?.clone();
        let (count, bytes) = self
            .repos
            .attachments
            .session_usage(&session.tenant_id, &session.id)
            .await?;
        if count >= files.limits.max_per_session {
            return Err(Error::TooLarge(format!(
                "a conversation holds at most {} files",
                files.limits.max_per_session
            )));
        }
        let id = AttachmentId::new(crate::new_id());
        Ok(Upload {
            key: format!("{}/{}/{}", session.tenant_id, session.id, id),
            files,
            chat: self.clone(),
            tenant: session.tenant_id.clone(),
            session: session.id.clone(),
            uploader,
            name: file_name(name),
            id,
            head: Vec::new(),
            sink: None,
            sniffed: None,
            size: 0,
            used_bytes: bytes,
        })
    }

    /// The file a download URL names, and its bytes. A malformed or
    /// unknown token, and a record whose bytes are gone, are all "not
    /// found".
    pub async fn download(&self, token: &str) -> Result<(Attachment, Box<dyn FileDownload>)> {
        if !chat_domain::ids::is_well_formed_secret(token) {
            return Err(Error::NotFound("file"));
        }
        let attachment = self
            .repos
            .attachments
            .attachment_by_token(token)
            .await?
            .ok_or(Error::NotFound("file"))?;
        let bytes = self
            .files()?
            .store
            .open(&attachment.storage_key)
            .await
            .map_err(unavailable)?
            .ok_or(Error::NotFound("file"))?;
        Ok((attachment, bytes))
    }

    /// The files of a conversation, for the agents' panel.
    pub async fn session_files(&self, ctx: &AgentCtx, id: &SessionId) -> Result<Vec<Attachment>> {
        ctx.require(Scope::MessagesRead)?;
        let session = self.agent_session_by_id(ctx.tenant_id(), id).await?;
        Ok(self
            .repos
            .attachments
            .session_attachments(&session.tenant_id, &session.id)
            .await?)
    }

    /// Deletes a conversation with everything in it, its files included
    /// (admins).
    #[instrument(skip_all, fields(tenant = %ctx.tenant_id(), session = %id))]
    pub async fn erase_session(&self, ctx: &AgentCtx, id: &SessionId) -> Result<()> {
        ctx.require(Scope::SessionsWrite)?;
        ctx.require_admin()?;
        let keys = self
            .repos
            .sessions
            .erase_session(ctx.tenant_id(), id)
            .await
            .map_err(Error::missing("session"))?;
        self.delete_files(keys).await;
        Ok(())
    }

    /// Deletes a customer, all their conversations and their files
    /// (admins).
    #[instrument(skip_all, fields(tenant = %ctx.tenant_id()))]
    pub async fn erase_customer(&self, ctx: &AgentCtx, id: &chat_domain::CustomerId) -> Result<()> {
        ctx.require(Scope::SessionsWrite)?;
        ctx.require_admin()?;
        let keys = self
            .repos
            .sessions
            .erase_customer(ctx.tenant_id(), id)
            .await
            .map_err(Error::missing("customer"))?;
        self.delete_files(keys).await;
        Ok(())
    }

    /// After the records are gone: a file that cannot be deleted now is
    /// logged (no record points at it any more).
    async fn delete_files(&self, keys: Vec<String>) {
        let Ok(files) = self.files() else { return };
        for key in keys {
            if let Err(e) = files.store.delete(&key).await {
                tracing::warn!(error = %e, key = %key, "a deleted conversation's file stayed in the store");
            }
        }
    }

    /// Deletes files uploaded before `now` minus a day and never sent;
    /// returns how many. Run periodically by the binary.
    #[instrument(skip_all)]
    pub async fn expire_unsent_attachments(&self, now: chat_domain::Timestamp) -> Result<usize> {
        let files = self.files()?.clone();
        let before = now - chrono::Duration::hours(UNSENT_TTL_HOURS);
        let mut n = 0;
        loop {
            let batch = self.repos.attachments.unsent_before(before, 100).await?;
            if batch.is_empty() {
                return Ok(n);
            }
            for a in batch {
                files
                    .store
                    .delete(&a.storage_key)
                    .await
                    .map_err(unavailable)?;
                self.repos.attachments.delete_attachment(&a.id).await?;
                n += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PNG_1X1: &[u8] = &[
        0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, b'I', b'H', b'D', b'R', 0, 0,
        0, 3, 0, 0, 0, 2, 8, 6, 0, 0, 0, 0x9d, 0x14, 0x1a, 0x2e,
    ];

    #[test]
    fn types_come_from_the_bytes_not_the_name() {
        let png = sniff(PNG_1X1, "report.pdf", 100).expect("a png");
        assert_eq!(
            (png.content_type.as_str(), png.width, png.height),
            ("image/png", Some(3), Some(2))
        );
        let html = sniff(b"<!DOCTYPE html><script>alert(1)</script>", "cat.png", 100)
            .expect("html is taken as a download");
        assert_eq!(html.content_type, "text/html");
        let svg = sniff(
            b"<?xml version=\"1.0\"?><svg onload=\"alert(1)\"/>",
            "a.svg",
            100,
        )
        .expect("svg is taken as a download");
        assert_eq!(svg.content_type, "image/svg+xml");
        assert_eq!(
            sniff(b"a,b\n1,2\n", "x.CSV", 100)
                .map(|s| s.content_type)
                .ok(),
            Some("text/csv".into())
        );
        assert_eq!(
            sniff("grüße".as_bytes(), "n", 100)
                .map(|s| s.content_type)
                .ok(),
            Some("text/plain".into())
        );
        assert!(matches!(
            sniff(b"MZ\x90\0\x03\0\0\0", "setup.pdf", 100),
            Err(Error::UnsupportedType(_))
        ));
        assert!(matches!(
            sniff(b"PK\x03\x04\0\0", "x.zip", 100),
            Err(Error::UnsupportedType(_))
        ));
        assert!(matches!(
            sniff(PNG_1X1, "big.png", 2),
            Err(Error::UnsupportedType(_))
        ));
    }

    #[test]
    fn a_send_names_at_most_five_well_formed_files() {
        let six: Vec<String> = (0..6).map(|i| format!("0190-{i}")).collect();
        assert!(matches!(parse_ids(&six), Err(Error::Validation(_))));
        assert!(matches!(
            parse_ids(&["../x".into()]),
            Err(Error::Conflict { .. })
        ));
        assert_eq!(
            parse_ids(&["a-1".into(), "a-1".into()])
                .map(|v| v.len())
                .ok(),
            Some(1)
        );
        assert!(body("", &[]).is_err());
        assert!(body("  ", &[AttachmentId::new("a")]).is_ok());
    }
}
