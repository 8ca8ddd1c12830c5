//! One id per request: returned as `X-Request-Id`, carried by the request's
//! tracing span (so every log line of the request names it), and put into
//! every error body as `request_id`. An id sent by one of the operator's
//! trusted proxies is kept, so a request can be followed across them; any
//! other is replaced.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::web;
use tracing::Instrument;

use crate::AppState;

pub const HEADER: HeaderName = HeaderName::from_static("x-request-id");

tokio::task_local! {
    static REQUEST_ID: String;
}

/// The id of the request being served, if any.
pub fn current() -> Option<String> {
    REQUEST_ID.try_with(String::clone).ok()
}

/// An incoming id worth keeping: short, visible ASCII.
fn acceptable(id: &str) -> bool {
    !id.is_empty() && id.len() <= 128 && id.bytes().all(|b| b.is_ascii_graphic())
}

pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let trusted = req.app_data::<web::Data<AppState>>().is_some_and(|s| {
        req.peer_addr()
            .is_some_and(|p| s.trusted_proxies.contains(&p.ip()))
    });
    let incoming = req
        .headers()
        .get(&HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|id| trusted && acceptable(id))
        .map(str::to_owned);
    let id = incoming.unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method = %req.method(),
        route = tracing::field::Empty,
        status = tracing::field::Empty,
        latency_ms = tracing::field::Empty,
    );
    let started = Instant::now();
    let mut res = REQUEST_ID
        .scope(id.clone(), next.call(req).instrument(span.clone()))
        .await?;
    if let Some(route) = res.request().match_pattern() {
        span.record("route", route.as_str());
    }
    span.record("status", res.status().as_u16());
    span.record("latency_ms", started.elapsed().as_secs_f64() * 1000.0);
    if let Ok(value) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(HEADER, value);
    }
    Ok(res)
}
