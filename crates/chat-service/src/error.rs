//! The service's error type. Only the transport maps it to HTTP statuses.

use std::time::Duration;

use chat_domain::session::TransitionError;
use chat_domain::{RepoError, ValidationError};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum Error {
    #[error(transparent)]
    Validation(#[from] ValidationError),
    /// The object does not exist for this caller. Another tenant's object is
    /// reported exactly like a missing one.
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// Missing, wrong, expired or revoked credentials.
    #[error("{0}")]
    Unauthorized(&'static str),
    /// Authenticated, but the agent's role does not allow this.
    #[error("{0}")]
    Forbidden(&'static str),
    /// An API token without the scope the operation needs.
    #[error("this API token lacks the scope {}", .0.as_str())]
    MissingScope(chat_domain::Scope),
    #[error("too many attempts; retry in {} s", retry_after.as_secs())]
    RateLimited { retry_after: Duration },
    /// A file over a limit (its own size, or the session's total).
    #[error("{0}")]
    TooLarge(String),
    /// It was there once and is no more (an expired link).
    #[error("{0}")]
    Gone(&'static str),
    /// A file whose bytes are not of an accepted type.
    #[error("{0}")]
    UnsupportedType(String),
    #[error("service unavailable: {0}")]
    Unavailable(String),
    #[error("internal error: {0}")]
    Internal(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A repository error, with a missing row reported as `what`.
    pub(crate) fn missing(what: &'static str) -> impl Fn(RepoError) -> Error {
        move |e| match Error::from(e) {
            Error::NotFound(_) => Error::NotFound(what),
            other => other,
        }
    }
}

impl From<RepoError> for Error {
    fn from(e: RepoError) -> Self {
        match e {
            RepoError::NotFound => Error::NotFound("object"),
            RepoError::Conflict(what) if what == "session_closed" => Error::Conflict {
                code: "session_closed",
                message: "the session is closed".into(),
            },
            RepoError::Conflict(what) if what == "last_admin" => Error::Conflict {
                code: "last_admin",
                message: "the tenant's last active admin cannot be demoted or deactivated".into(),
            },
            RepoError::Conflict(what) if what == "stale_state" => Error::Conflict {
                code: "conflict",
                message: "the session was changed by someone else; reload and retry".into(),
            },
            RepoError::Conflict(what) if what == "rated" => Error::Conflict {
                code: "already_rated",
                message: "this conversation has been rated already".into(),
            },
            RepoError::Conflict(what) if what == "not_closed" => Error::Conflict {
                code: "not_closed",
                message: "a conversation is rated once it is closed".into(),
            },
            RepoError::Conflict(what) if what == "attachment" => Error::Conflict {
                code: "attachment_unavailable",
                message:
                    "an attachment is not an unsent file of this session (or was sent already)"
                        .into(),
            },
            RepoError::Conflict(what) if what == "unknown_label" => Error::Conflict {
                code: "unknown_label",
                message: "a label of the request is not one of the tenant's labels".into(),
            },
            RepoError::Conflict(what) => Error::Conflict {
                code: "conflict",
                message: format!("{what} already exists"),
            },
            RepoError::Unavailable(m) => Error::Unavailable(m),
            RepoError::Other(m) => Error::Internal(m),
        }
    }
}

impl From<TransitionError> for Error {
    fn from(e: TransitionError) -> Self {
        let (code, message) = match e {
            TransitionError::AlreadyClosed => ("session_closed", "the session is closed"),
            TransitionError::NotClosed => ("session_not_closed", "the session is not closed"),
            TransitionError::AlreadyAssigned => (
                "already_assigned",
                "the session is already assigned to that agent",
            ),
        };
        Error::Conflict {
            code,
            message: message.into(),
        }
    }
}
