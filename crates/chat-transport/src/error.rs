//! The one place where errors become HTTP statuses and the JSON body
//! `{"error":{"code","message"}}`. A 500 logs the whole cause chain and
//! returns none of it.

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpResponse, ResponseError};
use chat_service::Error as ServiceError;

use crate::wire::{ErrorDetail, ErrorResponse};

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub field: Option<&'static str>,
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            field: None,
            retry_after: None,
        }
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("{what} not found"),
        )
    }

    pub fn unauthorized(message: &str) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    pub fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field: Some(field),
            ..Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
                message,
            )
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status.as_u16(),
            self.code,
            self.message
        )
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut res = HttpResponse::build(self.status);
        if let Some(secs) = self.retry_after {
            res.insert_header((header::RETRY_AFTER, secs.to_string()));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            res.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
        }
        res.json(ErrorResponse {
            error: ErrorDetail {
                code: self.code.to_owned(),
                message: self.message.clone(),
                field: self.field.map(str::to_owned),
                request_id: crate::request_id::current(),
            },
        })
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::Validation(v) => ApiError::invalid(v.field, v.to_string()),
            ServiceError::NotFound(what) => ApiError::not_found(what),
            ServiceError::Conflict { code, message } => {
                ApiError::new(StatusCode::CONFLICT, code, message)
            }
            ServiceError::Unauthorized(m) => ApiError::unauthorized(m),
            ServiceError::Forbidden(m) => ApiError::new(StatusCode::FORBIDDEN, "forbidden", m),
            ServiceError::TooLarge(m) => {
                ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", m)
            }
            ServiceError::Gone(m) => ApiError::new(StatusCode::GONE, "gone", m),
            ServiceError::UnsupportedType(m) => ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                m,
            ),
            e @ ServiceError::MissingScope(_) => {
                ApiError::new(StatusCode::FORBIDDEN, "insufficient_scope", e.to_string())
            }
            ServiceError::RateLimited { retry_after } => ApiError {
                retry_after: Some(retry_after.as_secs().max(1)),
                ..ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "rate_limited",
                    format!(
                        "too many attempts; retry in {} s",
                        retry_after.as_secs().max(1)
                    ),
                )
            },
            ServiceError::Unavailable(detail) => {
                tracing::warn!(error = %detail, "storage unavailable");
                ApiError {
                    retry_after: Some(1),
                    ..ApiError::new(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "unavailable",
                        "the service is temporarily unavailable",
                    )
                }
            }
            ServiceError::Internal(detail) => {
                tracing::error!(error = %detail, "internal error");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "internal error",
                )
            }
        }
    }
}

impl From<validator::ValidationErrors> for ApiError {
    fn from(e: validator::ValidationErrors) -> Self {
        let field = e.field_errors().keys().next().map(|k| k.to_string());
        let message = e.to_string().replace('\n', "; ");
        match field {
            // validator's field names are the DTO's own static names.
            Some(f) => ApiError {
                field: leak_free_field(&f),
                ..ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "validation_failed",
                    message,
                )
            },
            None => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
                message,
            ),
        }
    }
}

/// Maps a validator field name to a static string for the `field` member.
fn leak_free_field(name: &str) -> Option<&'static str> {
    const KNOWN: &[&str] = &[
        "body",
        "client_msg_id",
        "email",
        "password",
        "name",
        "tenant_id",
        "customer",
        "context",
        "agent_id",
        "role",
        "page_url",
        "referrer",
        "locale",
        "attributes",
    ];
    KNOWN.iter().copied().find(|k| *k == name)
}

pub type ApiResult<T> = Result<T, ApiError>;

/// A session id from a path or a frame; a malformed one is "not found",
/// exactly like a missing or another tenant's session.
pub fn session_id(raw: &str) -> ApiResult<chat_domain::SessionId> {
    chat_domain::SessionId::parse(raw).ok_or_else(|| ApiError::not_found("session"))
}

/// A customer's session key from a path; a malformed one is "not found".
pub fn session_key(raw: &str) -> ApiResult<chat_domain::SessionKey> {
    chat_domain::SessionKey::parse(raw).ok_or_else(|| ApiError::not_found("session"))
}

/// An agent id from a body; a malformed one is "not found".
pub fn agent_id(raw: &str) -> ApiResult<chat_domain::AgentId> {
    chat_domain::AgentId::parse(raw).ok_or_else(|| ApiError::not_found("agent"))
}
