//! Files sent in a conversation: what is accepted, what a browser may show
//! inline, the limits, and the ports to the stored bytes and their records.
//!
//! The type of a file is what its bytes are (sniffed by the service), never
//! what the client said. Only raster images whose type was verified are
//! shown inline; everything else, SVG and HTML included, is a download.

use async_trait::async_trait;

use crate::{AttachmentId, MessageId, RepoResult, SenderType, SessionId, TenantId, Timestamp};

/// The types a browser may render from our origin: raster images only.
pub const INLINE_TYPES: [&str; 4] = ["image/png", "image/jpeg", "image/gif", "image/webp"];

/// Binary types taken (besides text, which is recognised separately).
pub const ACCEPTED_BINARY_TYPES: [&str; 15] = [
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "application/pdf",
    "application/msword",
    "application/vnd.ms-excel",
    "application/vnd.ms-powerpoint",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.spreadsheet",
    "application/vnd.oasis.opendocument.presentation",
    "application/rtf",
];

/// A stored file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub id: AttachmentId,
    pub tenant_id: TenantId,
    pub session_id: SessionId,
    /// Set once it is sent with a message.
    pub message_id: Option<MessageId>,
    pub uploader: SenderType,
    /// The client's file name, made safe to show ([`file_name`]).
    pub name: String,
    /// What the bytes are.
    pub content_type: String,
    pub size: u64,
    pub width: Option<u32>,
    pub height: Option<u32>,
    /// The capability in its URL: 256 random bits, hex.
    pub token: String,
    /// Where the bytes are in the file store.
    pub storage_key: String,
    pub created_at: Timestamp,
}

impl Attachment {
    /// Whether a browser may show it inline (a verified raster image).
    pub fn inline(&self) -> bool {
        is_inline(&self.content_type)
    }
}

pub fn is_inline(content_type: &str) -> bool {
    INLINE_TYPES.contains(&content_type)
}

#[derive(Debug, Clone)]
pub struct NewAttachment {
    pub id: AttachmentId,
    pub uploader: SenderType,
    pub name: String,
    pub content_type: String,
    pub size: u64,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub token: String,
    pub storage_key: String,
}

/// What one session may hold, and the bounds of one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttachmentLimits {
    pub max_bytes: u64,
    pub max_per_session: u64,
    pub max_bytes_per_session: u64,
    /// Images wider or taller than this are refused.
    pub max_image_side: u32,
    /// At most this many attachments on one message.
    pub max_per_message: usize,
}

impl Default for AttachmentLimits {
    fn default() -> Self {
        Self {
            max_bytes: 10 * 1024 * 1024,
            max_per_session: 20,
            max_bytes_per_session: 50 * 1024 * 1024,
            max_image_side: 16_384,
            max_per_message: 5,
        }
    }
}

/// A client's file name as it may be shown and sent back in a
/// `Content-Disposition`: the last path segment, without control
/// characters, at most 200 characters; `file` when nothing is left.
pub fn file_name(raw: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = base
        .chars()
        .filter(|c| !c.is_control())
        .collect::<String>()
        .trim()
        .trim_start_matches('.')
        .chars()
        .take(200)
        .collect();
    if cleaned.is_empty() {
        "file".to_owned()
    } else {
        cleaned
    }
}

/// A failure of the file store.
#[derive(Debug, Clone, thiserror::Error)]
#[error("file store: {0}")]
pub struct FileError(pub String);

/// Where the bytes of files live (a directory, an S3 bucket).
#[async_trait]
pub trait FileStore: Send + Sync {
    /// Starts writing `key`; nothing is visible under it until `finish`.
    async fn create(&self, key: &str) -> Result<Box<dyn FileUpload>, FileError>;
    /// The bytes of `key`, or `None` when there are none.
    async fn open(&self, key: &str) -> Result<Option<Box<dyn FileDownload>>, FileError>;
    /// Deletes `key`; a missing key is not an error.
    async fn delete(&self, key: &str) -> Result<(), FileError>;
}

/// A file being written, chunk by chunk (never whole in memory).
#[async_trait]
pub trait FileUpload: Send {
    async fn write(&mut self, chunk: Vec<u8>) -> Result<(), FileError>;
    async fn finish(self: Box<Self>) -> Result<(), FileError>;
    /// Drops what was written.
    async fn abort(self: Box<Self>);
}

/// A stored file being read.
#[async_trait]
pub trait FileDownload: Send {
    fn size(&self) -> u64;
    /// The next chunk, `None` at the end.
    async fn next(&mut self) -> Option<Result<Vec<u8>, FileError>>;
}

/// The records of files.
#[async_trait]
pub trait AttachmentRepository: Send + Sync {
    async fn create_attachment(
        &self,
        tenant: &TenantId,
        session: &SessionId,
        new: NewAttachment,
    ) -> RepoResult<Attachment>;
    /// How many files and bytes a session holds.
    async fn session_usage(&self, tenant: &TenantId, session: &SessionId)
    -> RepoResult<(u64, u64)>;
    /// The file a download URL names.
    async fn attachment_by_token(&self, token: &str) -> RepoResult<Option<Attachment>>;
    async fn attachment(
        &self,
        tenant: &TenantId,
        id: &AttachmentId,
    ) -> RepoResult<Option<Attachment>>;
    /// A session's files (sent ones first by time), for the agents' panel.
    async fn session_attachments(
        &self,
        tenant: &TenantId,
        session: &SessionId,
    ) -> RepoResult<Vec<Attachment>>;
    /// Files never sent and uploaded before `before`, at most `limit`.
    async fn unsent_before(&self, before: Timestamp, limit: u64) -> RepoResult<Vec<Attachment>>;
    async fn delete_attachment(&self, id: &AttachmentId) -> RepoResult<()>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_lose_paths_control_characters_and_leading_dots() {
        assert_eq!(file_name("C:\\Users\\me\\report.pdf"), "report.pdf");
        assert_eq!(file_name("../../etc/passwd"), "passwd");
        assert_eq!(file_name("a\u{0}b\r\n.png"), "ab.png");
        assert_eq!(file_name(".htaccess"), "htaccess");
        assert_eq!(file_name("   "), "file");
        assert_eq!(file_name(&"x".repeat(500)).chars().count(), 200);
        assert_eq!(
            file_name("<img src=x onerror=alert(1)>.png"),
            "<img src=x onerror=alert(1)>.png"
        );
    }

    #[test]
    fn only_raster_images_are_inline() {
        assert!(is_inline("image/png"));
        assert!(!is_inline("image/svg+xml"));
        assert!(!is_inline("text/html"));
        assert!(!is_inline("application/pdf"));
    }
}
