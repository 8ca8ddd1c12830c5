//! JSON in and out: extractor error mapping, and a middleware that turns
//! every error response without a JSON body (unknown route, wrong method,
//! oversized payload) into the same `{"error":{"code","message"}}` shape.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::ServiceResponse;
use actix_web::error::{JsonPayloadError, QueryPayloadError};
use actix_web::http::{StatusCode, header};
use actix_web::middleware::{ErrorHandlerResponse, ErrorHandlers};
use actix_web::{HttpResponse, ResponseError, web};

use crate::MAX_BODY_BYTES;
use crate::error::ApiError;

pub fn json_config() -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(MAX_BODY_BYTES)
        .error_handler(|err, _req| {
            let api = match &err {
                JsonPayloadError::OverflowKnownLength { .. }
                | JsonPayloadError::Overflow { .. } => ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "payload_too_large",
                    format!("request bodies are limited to {MAX_BODY_BYTES} bytes"),
                ),
                JsonPayloadError::ContentType => not_json(),
                JsonPayloadError::Deserialize(e) => undecodable(e),
                other => ApiError::new(StatusCode::BAD_REQUEST, "bad_request", other.to_string()),
            };
            api.into()
        })
}

pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|err, _req| {
        let message = match &err {
            QueryPayloadError::Deserialize(e) => e.to_string(),
            other => other.to_string(),
        };
        ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", message).into()
    })
}

/// Parses an optional JSON body strictly: empty means `T::default()`.
pub fn optional_body<T: serde::de::DeserializeOwned + Default>(
    req: &actix_web::HttpRequest,
    bytes: &[u8],
) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    let is_json = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !is_json {
        return Err(not_json());
    }
    serde_json::from_slice(bytes).map_err(|e| undecodable(&e))
}

fn not_json() -> ApiError {
    ApiError::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
        "send Content-Type: application/json",
    )
}

/// Well-formed JSON of the wrong shape (unknown field, wrong type) is 422;
/// anything that is not JSON at all is 400.
fn undecodable(e: &serde_json::Error) -> ApiError {
    if e.is_data() {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_request",
            e.to_string(),
        )
    } else {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid_json", e.to_string())
    }
}

fn code_for(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "bad_request",
        401 => "unauthorized",
        403 => "forbidden",
        404 => "not_found",
        405 => "method_not_allowed",
        413 => "payload_too_large",
        415 => "unsupported_media_type",
        422 => "validation_failed",
        429 => "rate_limited",
        503 => "unavailable",
        s if s >= 500 => "internal",
        _ => "error",
    }
}

/// Rewrites non-JSON error responses into the standard error body.
pub fn json_errors<B: MessageBody + 'static>() -> ErrorHandlers<B> {
    ErrorHandlers::new().default_handler(|res: ServiceResponse<B>| {
        let is_json = res
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        if is_json {
            return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
        }
        let status = res.status();
        let message = match status {
            StatusCode::NOT_FOUND => "no such endpoint".to_owned(),
            StatusCode::PAYLOAD_TOO_LARGE => {
                format!("request bodies are limited to {MAX_BODY_BYTES} bytes")
            }
            s => s.canonical_reason().unwrap_or("error").to_owned(),
        };
        if let Some(err) = res.response().error().filter(|_| status.is_server_error()) {
            tracing::error!(error = ?err, "unhandled error response");
        }
        let api = ApiError::new(status, code_for(status), message);
        let (req, _) = res.into_parts();
        let body: HttpResponse<BoxBody> = api.error_response();
        Ok(ErrorHandlerResponse::Response(
            ServiceResponse::new(req, body).map_into_right_body(),
        ))
    })
}

/// For `Option<Option<T>>` fields with `#[serde(default)]`: a field left
/// out stays `None`, a `null` becomes `Some(None)` (clear it).
pub fn present<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    serde::Deserialize::deserialize(d).map(Some)
}
