//! The OpenAPI 3.1 document of the REST API, generated from the handlers'
//! `#[utoipa::path]` annotations and the wire types, served at
//! `GET /api/openapi.json` with a browsable UI at `/api/docs`.
//!
//! Every operation is listed with its success responses; [`Errors`] adds
//! the error statuses every operation can answer (all with the one error
//! body) and [`Security`] the bearer scheme of the agent API. The
//! committed copy, `docs/openapi.json`, is checked against this by a test.

use std::sync::OnceLock;

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{Content, HttpMethod, Ref, RefOr, ResponseBuilder};
use utoipa::{Modify, OpenApi};

use crate::wire::ErrorResponse;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Parley chat API",
        description = "The REST API of Parley, the self-hostable customer-support chat.             The WebSocket protocol (`/ws`, `/ws/public/{session_key}`) is described in             docs/protocol.md. Every error is `{\"error\":{\"code\",\"message\",\"request_id\"}}`.",
        license(name = "AGPL-3.0-or-later"),
    ),
    paths(
        crate::routes::health::healthz,
        crate::routes::health::readyz,
        crate::routes::public::start,
        crate::routes::public::get,
        crate::routes::public::messages,
        crate::routes::public::send,
        crate::routes::public::read,
        crate::routes::public::transcript,
        crate::routes::public::visitor_sessions,
        crate::routes::public::visitor_messages,
        crate::routes::auth::login,
        crate::routes::auth::logout,
        crate::routes::auth::ticket,
        crate::routes::agents::me,
        crate::routes::agents::change_password,
        crate::routes::agents::list,
        crate::routes::agents::create,
        crate::routes::agents::update,
        crate::routes::agents::set_status,
        crate::routes::agents::assignment,
        crate::routes::agents::set_assignment,
        crate::routes::agents::queue,
        crate::routes::attachments::customer_upload,
        crate::routes::attachments::agent_upload,
        crate::routes::attachments::session_files,
        crate::routes::attachments::download,
        crate::routes::attachments::erase_session,
        crate::routes::attachments::erase_customer,
        crate::routes::widget::public_widget,
        crate::routes::widget::widget,
        crate::routes::widget::set_widget,
        crate::routes::widget::hours,
        crate::routes::widget::set_hours,
        crate::routes::widget::customer_close,
        crate::routes::widget::rate,
        crate::routes::sessions::list,
        crate::routes::sessions::get,
        crate::routes::sessions::history,
        crate::routes::sessions::messages,
        crate::routes::sessions::send,
        crate::routes::sessions::assign,
        crate::routes::sessions::close,
        crate::routes::sessions::reopen,
        crate::routes::sessions::read,
        crate::routes::sessions::transcript,
        crate::routes::search::messages,
        crate::routes::search::tenant,
        crate::routes::search::update_tenant,
        crate::routes::reports::summary,
        crate::routes::email::resume,
        crate::routes::email::unsubscribe_page,
        crate::routes::email::unsubscribe,
        crate::routes::email::settings,
        crate::routes::email::notifications,
        crate::routes::email::set_notifications,
        crate::routes::desk::canned_list,
        crate::routes::desk::canned_create,
        crate::routes::desk::canned_update,
        crate::routes::desk::canned_delete,
        crate::routes::desk::labels,
        crate::routes::desk::label_create,
        crate::routes::desk::set_labels,
        crate::routes::desk::notes,
        crate::routes::desk::add_note,
        crate::routes::kb::list,
        crate::routes::kb::create,
        crate::routes::kb::get,
        crate::routes::kb::update,
        crate::routes::kb::delete,
        crate::routes::kb::suggestions,
        crate::routes::kb::coverage,
        crate::routes::kb::draft,
        crate::routes::kb::get_bot,
        crate::routes::kb::put_bot,
        crate::routes::api_tokens::list,
        crate::routes::api_tokens::create,
        crate::routes::api_tokens::revoke,
        crate::routes::webhooks::list,
        crate::routes::webhooks::create,
        crate::routes::webhooks::get,
        crate::routes::webhooks::update,
        crate::routes::webhooks::delete,
        crate::routes::webhooks::deliveries,
        crate::routes::webhooks::redeliver,
    ),
    components(schemas(ErrorResponse)),
    modifiers(&Security, &Errors),
    tags(
        (name = "public", description = "The widget's side: no credentials but the session key"),
        (name = "auth", description = "Logins, logouts and WebSocket tickets"),
        (name = "agents", description = "The team"),
        (name = "sessions", description = "Conversations, as agents see them"),
        (name = "kb", description = "The knowledge base the bot answers from"),
        (name = "bot", description = "The tenant's bot"),
        (name = "api-tokens", description = "Scoped tokens for integrations"),
        (name = "webhooks", description = "Signed deliveries of stored changes"),
        (name = "settings", description = "The tenant's settings"),
        (name = "desk", description = "Canned replies, labels and private notes"),
        (name = "reports", description = "Figures of a period of conversations"),
        (name = "health", description = "Liveness and readiness"),
    )
)]
struct ApiDoc;

/// The document, built once.
pub fn document() -> &'static str {
    static DOC: OnceLock<String> = OnceLock::new();
    DOC.get_or_init(|| {
        ApiDoc::openapi()
            .to_pretty_json()
            .unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    })
}

/// Operations that need no bearer token.
fn is_public(path: &str, method: &HttpMethod) -> bool {
    path.starts_with("/api/v1/public/")
        || path == "/healthz"
        || path == "/readyz"
        || (path == "/api/v1/auth/login" && *method == HttpMethod::Post)
}

fn operations(
    openapi: &mut utoipa::openapi::OpenApi,
) -> impl Iterator<Item = (String, HttpMethod, &mut Operation)> {
    openapi.paths.paths.iter_mut().flat_map(|(path, item)| {
        [
            (HttpMethod::Get, item.get.as_mut()),
            (HttpMethod::Post, item.post.as_mut()),
            (HttpMethod::Put, item.put.as_mut()),
            (HttpMethod::Patch, item.patch.as_mut()),
            (HttpMethod::Delete, item.delete.as_mut()),
        ]
        .into_iter()
        .filter_map(move |(m, op)| op.map(|op| (path.clone(), m, op)))
    })
}

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let mut bearer = Http::new(HttpAuthScheme::Bearer);
        bearer.description = Some(
            "A login's token (POST /api/v1/auth/login) or an API token (`plt_…`,              POST /api/v1/api-tokens), which may do only what its scopes name."
                .into(),
        );
        components.add_security_scheme("bearer", SecurityScheme::Http(bearer));
        for (path, method, op) in operations(openapi) {
            if !is_public(&path, &method) {
                op.security = Some(vec![SecurityRequirement::new(
                    "bearer",
                    Vec::<String>::new(),
                )]);
            }
        }
    }
}

/// The error statuses, each with the error body, that an operation can
/// answer besides its own.
struct Errors;

impl Modify for Errors {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let mut shared = std::collections::BTreeMap::new();
        for (path, method, op) in operations(openapi) {
            let secured = !is_public(&path, &method);
            let writes = method != HttpMethod::Get;
            let mut statuses = vec![
                ("400", "The request is malformed (bad JSON, a bad query)"),
                (
                    "404",
                    "No such object for this caller (another tenant's is not found either)",
                ),
                ("422", "A field is invalid; `field` names it"),
                ("429", "Rate limited; `Retry-After` says when to retry"),
                (
                    "503",
                    "The database is unreachable or the server is stopping",
                ),
            ];
            if writes {
                statuses.extend([
                    ("409", "The change conflicts with the current state"),
                    ("413", "The body is larger than the limit"),
                    ("415", "The body is not application/json"),
                ]);
            }
            if secured {
                statuses.extend([
                    ("401", "No token, or an invalid, expired or revoked one"),
                    (
                        "403",
                        "The agent's role or the API token's scopes do not allow this",
                    ),
                ]);
            }
            for (status, description) in statuses {
                if op.responses.responses.contains_key(status) {
                    continue;
                }
                let name = format!("Error{status}");
                let response = ResponseBuilder::new()
                    .description(description)
                    .content(
                        "application/json",
                        Content::new(Some(Ref::from_schema_name("ErrorResponse"))),
                    )
                    .build();
                shared.entry(name.clone()).or_insert(response);
                op.responses.responses.insert(
                    status.into(),
                    RefOr::Ref(Ref::new(format!("#/components/responses/{name}"))),
                );
            }
        }
        let components = openapi.components.get_or_insert_with(Default::default);
        for (name, response) in shared {
            components.responses.insert(name, response.into());
        }
    }
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/openapi.json", web::get().to(openapi_json))
        .route("/api/docs", web::get().to(docs_page))
        .route("/api/docs/init.js", web::get().to(docs_init));
}

async fn openapi_json() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(document())
}

/// Swagger UI's own files come with the dashboard's build (`/docs-ui/`,
/// from the `swagger-ui-dist` package); nothing is loaded from elsewhere.
const DOCS_PAGE: &str = r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Parley API</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/docs-ui/swagger-ui.css">
</head>
<body>
<div id="docs"></div>
<script src="/docs-ui/swagger-ui-bundle.js"></script>
<script src="/api/docs/init.js"></script>
</body>
</html>
"#;

const DOCS_INIT: &str = "window.ui = SwaggerUIBundle({ url: '/api/openapi.json', dom_id: '#docs', deepLinking: true, persistAuthorization: false });\n";

async fn docs_page() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:;              frame-ancestors 'none'",
        ))
        .body(DOCS_PAGE)
}

async fn docs_init() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .body(DOCS_INIT)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The committed document is what the code generates; rewrite it with
    /// `UPDATE_WIRE_TYPES=1 cargo test -p chat-transport openapi`.
    #[test]
    fn the_committed_openapi_document_matches_the_code() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/openapi.json");
        let generated = format!("{}\n", document());
        if std::env::var_os("UPDATE_WIRE_TYPES").is_some() {
            std::fs::write(path, &generated).unwrap_or_else(|e| panic!("writing {path}: {e}"));
            return;
        }
        let committed = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            committed == generated,
            "docs/openapi.json is stale: run UPDATE_WIRE_TYPES=1 cargo test -p chat-transport openapi"
        );
    }

    #[test]
    fn every_operation_documents_its_errors_and_security() {
        let doc: serde_json::Value = serde_json::from_str(document()).unwrap_or_default();
        assert_eq!(doc["openapi"], "3.1.0");
        let paths = doc["paths"].as_object().cloned().unwrap_or_default();
        assert!(paths.len() >= 25, "{}", paths.len());
        for (path, item) in &paths {
            for (method, op) in item.as_object().into_iter().flatten() {
                let responses = &op["responses"];
                for status in ["400", "404", "429", "503"] {
                    assert!(
                        responses.get(status).is_some(),
                        "{method} {path} lacks {status}"
                    );
                }
                let public = path.starts_with("/api/v1/public")
                    || path.ends_with("z")
                    || path == "/api/v1/auth/login";
                assert_eq!(op.get("security").is_some(), !public, "{method} {path}");
            }
        }
    }
}
