//! What the HTTP server adds around the API: CORS, security headers, the
//! built widget and dashboard, and keeping API paths out of the page
//! fallback.

use std::path::Path;

use actix_cors::Cors;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpRequest, Responder, http, web};
use chat_transport::error::ApiError;

/// The dashboard's policy: nothing from elsewhere, never in a frame.
const DASHBOARD_CSP: &str = "default-src 'self'; frame-ancestors 'none'";
/// The demo pages run small inline scripts and styles of their own.
const DEMO_CSP: &str = "default-src 'self'; script-src 'self' 'unsafe-inline'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'";

/// Path prefixes that are never answered with the dashboard's page.
const NOT_PAGES: &[&str] = &["/api", "/ws", "/metrics"];

/// The agent API answers the dashboard's own origin (which needs no CORS)
/// and the origins an operator lists; the widget's public API answers any
/// origin here, because each tenant's allowed origins are checked by the
/// service when a session starts and a socket opens.
pub fn cors(extra_origins: &[String]) -> Cors {
    let allowed: Vec<HeaderValue> = extra_origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o.trim_end_matches('/')).ok())
        .collect();
    Cors::default()
        .allowed_origin_fn(move |origin, req| {
            req.uri.path().starts_with("/api/v1/public/") || allowed.contains(origin)
        })
        .allowed_methods(vec!["GET", "POST", "PUT", "DELETE"])
        .allowed_headers(vec![
            http::header::AUTHORIZATION,
            http::header::CONTENT_TYPE,
        ])
        .max_age(3600)
}

/// `nosniff` and a referrer policy on every response; a content security
/// policy and `X-Frame-Options` on every page that does not set its own.
pub async fn security_headers(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let mut res = next.call(req).await?;
    let is_html = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    let headers = res.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("strict-origin-when-cross-origin"),
    );
    if is_html {
        if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
            headers.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(DASHBOARD_CSP),
            );
        }
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
    Ok(res)
}

/// `http_requests_total{route,method,status}` and
/// `http_request_duration_seconds{route,method}`, by route pattern (never
/// the raw path, which would carry ids and keys).
pub async fn request_metrics(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = std::time::Instant::now();
    let method = req.method().as_str().to_owned();
    let res = next.call(req).await?;
    let route = res
        .request()
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_owned());
    let status = res.status().as_u16().to_string();
    metrics::counter!(
        "http_requests_total",
        "route" => route.clone(),
        "method" => method.clone(),
        "status" => status
    )
    .increment(1);
    metrics::histogram!("http_request_duration_seconds", "route" => route, "method" => method)
        .record(started.elapsed().as_secs_f64());
    Ok(res)
}

/// Vite's content-hashed assets: a new build gets new names.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// Pages and the widget loader keep their names across builds: browsers
/// revalidate them (their ETag makes that a 304).
const REVALIDATE: &str = "no-cache";

/// Caching of the built front ends: hashed assets for a year, the pages
/// and the widget loader revalidated on every use.
pub async fn cache_headers(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let path = req.path().to_owned();
    let mut res = next.call(req).await?;
    let served = res.status().is_success() || res.status() == http::StatusCode::NOT_MODIFIED;
    let is_page = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    let policy = if path.starts_with("/assets/") {
        Some(IMMUTABLE)
    } else if is_page || path == "/chat-widget.js" {
        Some(REVALIDATE)
    } else {
        None
    };
    if let Some(policy) = policy.filter(|_| served) {
        res.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static(policy));
    }
    Ok(res)
}

/// The widget, its pages and the dashboard, when they have been built.
pub fn static_files(cfg: &mut web::ServiceConfig, widget_dir: &str, dashboard_dir: &str) {
    if Path::new(widget_dir).is_dir() {
        for file in ["chat-widget.js", "widget-demo.html", "websocket-test.html"] {
            let path = Path::new(widget_dir).join(file);
            let csp = file.ends_with(".html").then_some(DEMO_CSP);
            cfg.route(
                &format!("/{file}"),
                web::get().to(move |req: HttpRequest| {
                    let path = path.clone();
                    async move {
                        let file = actix_files::NamedFile::open_async(path).await?;
                        let mut res = file.respond_to(&req).map_into_boxed_body();
                        if let Some(csp) = csp {
                            res.headers_mut().insert(
                                header::CONTENT_SECURITY_POLICY,
                                HeaderValue::from_static(csp),
                            );
                        }
                        Ok::<_, actix_web::Error>(res)
                    }
                }),
            );
        }
    }
    if Path::new(dashboard_dir).is_dir() {
        let index = Path::new(dashboard_dir).join("index.html");
        cfg.service(
            actix_files::Files::new("/", dashboard_dir)
                .index_file("index.html")
                .default_handler(web::to(move |req: HttpRequest| {
                    let index = index.clone();
                    async move { page_or_not_found(&req, &index).await }
                })),
        );
    }
}

/// The dashboard's page for its own client-side routes; a JSON 404 for an
/// unknown API, socket or metrics path.
async fn page_or_not_found(
    req: &HttpRequest,
    index: &Path,
) -> Result<actix_web::HttpResponse, actix_web::Error> {
    let path = req.path();
    let reserved = NOT_PAGES
        .iter()
        .any(|p| path == *p || path.starts_with(&format!("{p}/")));
    if reserved {
        let e = ApiError::new(http::StatusCode::NOT_FOUND, "not_found", "no such endpoint");
        return Err(e.into());
    }
    let file = actix_files::NamedFile::open_async(index).await?;
    Ok(file.respond_to(req).map_into_boxed_body())
}
