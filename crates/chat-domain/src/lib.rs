//! The chat platform's domain: tenants, agents, customers, chat sessions,
//! messages and the events they produce, with the rules that keep them valid.
//!
//! This crate is pure. It knows nothing of SQL, HTTP or WebSockets and does no
//! IO: it defines the types, the parsing rules that make invalid states
//! unrepresentable, and the ports ([`repo`] traits and [`hub::WebSocketHub`])
//! that the outer crates implement. It derives no wire format either; the
//! transport crate owns the JSON shapes.

pub mod access;
pub mod agent;
pub mod assignment;
pub mod attachment;
pub mod bot;
pub mod committed;
pub mod desk;
pub mod email;
pub mod error;
pub mod event;
pub mod hub;
pub mod ids;
pub mod message;
pub mod receipt;
pub mod repo;
pub mod report;
pub mod search;
pub mod session;
pub mod tenant;
pub mod webhook;
pub mod widget;

pub use access::{ApiToken, NewApiToken, Scope};
pub use agent::{Agent, AgentPatch, AgentRef, AgentStatus, Email, NewAgent, Role};
pub use assignment::{AssignAttempt, AssignmentMode, AssignmentSettings, Candidate};
pub use attachment::{
    Attachment, AttachmentLimits, FileDownload, FileError, FileStore, FileUpload, NewAttachment,
};
pub use bot::{
    Article, ArticleEmbedding, ArticleInput, BotAnswer, BotMode, BotQuestion, BotSuggestion,
    Language, Responder, ResponderError,
};
pub use committed::Committed;
pub use desk::{CannedInput, CannedReply, Color, Label, LabelName, NewNote, Note, Shortcut};
pub use error::{RepoError, RepoResult, ValidationError};
pub use event::ChatEvent;
pub use hub::WebSocketHub;
pub use ids::{AgentId, AttachmentId, CustomerId, MessageId, SessionId, SessionKey, TenantId};
pub use message::{AppendOutcome, ClientMsgId, Message, MessageBody, NewMessage, SenderType};
pub use receipt::{ReceiptChange, ReceiptSide, ReceiptUpdate};
pub use report::{Figures, Period, Report, ReportQuery};
pub use search::{MessageHit, MessageSearch, SearchCursor, SearchPage, SearchQuery, SearchTerm};
pub use session::{
    AssigneeFilter, ChatSession, Customer, NewCustomer, NewSession, PageContext, Receipts,
    SessionChange, SessionFilter, SessionKeyHash, SessionStatus, VisitorLink,
};
pub use tenant::{NewTenant, Tenant, TenantSlug, TimeZone};
pub use webhook::{
    AttemptOutcome, ClaimedDelivery, Delivery, DeliveryStatus, NewWebhookEndpoint, RetryPolicy,
    WebhookEndpoint, WebhookPatch, WebhookRenderer, WebhookUrl,
};

/// Timestamps everywhere in the domain are UTC.
pub type Timestamp = chrono::DateTime<chrono::Utc>;
