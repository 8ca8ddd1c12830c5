//! Errors of the domain: parse failures and what a repository can report.

use thiserror::Error;

/// Input that does not satisfy a domain rule. `field` names the offending
/// input so that clients can point at it.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{field}: {message}")]
pub struct ValidationError {
    pub field: &'static str,
    pub message: String,
}

impl ValidationError {
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}

/// What a repository implementation may report. Implementations map their
/// driver's errors into these so that no layer above knows the database.
#[derive(Debug, Error)]
pub enum RepoError {
    /// The row does not exist for this tenant.
    #[error("not found")]
    NotFound,
    /// A uniqueness rule was violated; the string says which.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The database could not be reached or is overloaded.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// Anything else; carries the driver's message for the logs only.
    #[error("storage error: {0}")]
    Other(String),
}

pub type RepoResult<T> = Result<T, RepoError>;
