//! The built front ends as a browser gets them: compressed as asked,
//! hashed assets cached for a year, pages and the widget loader
//! revalidated.

use crate::helpers::{TestApp, ok, spawn_app_with};

/// A dashboard build and a widget build in temporary folders.
fn builds() -> (String, String) {
    let root = std::env::temp_dir().join(format!("chat-serving-{}", uuid::Uuid::new_v4()));
    let dashboard = root.join("dashboard");
    let widget = root.join("widget");
    std::fs::create_dir_all(dashboard.join("assets")).expect("fs::create_dir_all");
    std::fs::create_dir_all(&widget).expect("fs::create_dir_all");
    std::fs::write(
        dashboard.join("index.html"),
        "<!doctype html><title>Inbox</title><script src=\"/assets/index-3f9a1c.js\"></script>",
    )
    .expect("fs::write");
    let script = "console.log('the dashboard');\n".repeat(400);
    std::fs::write(dashboard.join("assets/index-3f9a1c.js"), &script).expect("fs::write");
    let loader = "(function(){/* the widget */})();\n".repeat(400);
    std::fs::write(widget.join("chat-widget.js"), loader).expect("fs::write");
    for page in ["widget-demo.html", "websocket-test.html"] {
        std::fs::write(widget.join(page), "<!doctype html><title>demo</title>").expect("fs::write");
    }
    (
        dashboard.to_string_lossy().into_owned(),
        widget.to_string_lossy().into_owned(),
    )
}

async fn get(app: &TestApp, path: &str, encoding: Option<&str>) -> reqwest::Response {
    let mut req = app.client.get(format!("{}{path}", app.address));
    if let Some(e) = encoding {
        req = req.header("Accept-Encoding", e);
    }
    ok(req.send().await)
}

fn header<'a>(res: &'a reqwest::Response, name: &str) -> &'a str {
    res.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

#[tokio::test]
async fn hashed_assets_are_immutable_and_pages_and_the_loader_revalidate() {
    let (dashboard, widget) = builds();
    let app = spawn_app_with(|s| {
        s.server.dashboard_dir = dashboard.clone();
        s.server.widget_dir = widget.clone();
    })
    .await;
    let asset = get(&app, "/assets/index-3f9a1c.js", None).await;
    assert_eq!(asset.status().as_u16(), 200);
    assert_eq!(
        header(&asset, "cache-control"),
        "public, max-age=31536000, immutable"
    );
    for path in [
        "/",
        "/inbox/some-session",
        "/chat-widget.js",
        "/widget-demo.html",
    ] {
        let res = get(&app, path, None).await;
        assert_eq!(res.status().as_u16(), 200, "{path}");
        assert_eq!(header(&res, "cache-control"), "no-cache", "{path}");
        assert!(!header(&res, "etag").is_empty(), "{path} has no ETag");
    }
    // Revalidation is cheap: the same ETag answers 304.
    let loader = get(&app, "/chat-widget.js", None).await;
    let etag = header(&loader, "etag").to_owned();
    let again = ok(app
        .client
        .get(format!("{}/chat-widget.js", app.address))
        .header("If-None-Match", etag)
        .send()
        .await);
    assert_eq!(again.status().as_u16(), 304);
}

#[tokio::test]
async fn the_loader_assets_and_json_are_compressed_as_the_client_asks() {
    let (dashboard, widget) = builds();
    let app = spawn_app_with(|s| {
        s.server.dashboard_dir = dashboard.clone();
        s.server.widget_dir = widget.clone();
    })
    .await;
    let plain = ok(get(&app, "/chat-widget.js", None).await.bytes().await).len();
    for (asked, got) in [("br", "br"), ("gzip", "gzip"), ("gzip, deflate, br", "br")] {
        let res = get(&app, "/chat-widget.js", Some(asked)).await;
        assert_eq!(header(&res, "content-encoding"), got, "asked for {asked}");
        let on_the_wire = ok(res.bytes().await).len();
        assert!(
            on_the_wire * 4 < plain,
            "{got}: {on_the_wire} of {plain} bytes"
        );
    }
    let asset = get(&app, "/assets/index-3f9a1c.js", Some("gzip")).await;
    assert_eq!(header(&asset, "content-encoding"), "gzip");
    let json = get(&app, "/readyz", Some("gzip")).await;
    assert_eq!(header(&json, "content-encoding"), "gzip");
    assert_eq!(
        header(&get(&app, "/readyz", None).await, "content-encoding"),
        ""
    );
}

#[tokio::test]
async fn the_openapi_document_and_its_reference_page_are_served() {
    let app = crate::helpers::spawn_app().await;
    let res = app.get("/api/openapi.json").await;
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(
        res.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/json")
    );
    let doc: serde_json::Value = res.json().await.expect("JSON");
    assert_eq!(doc["openapi"], "3.1.0");
    let committed: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../docs/openapi.json"
        ))
        .expect("docs/openapi.json"),
    )
    .expect("JSON");
    assert_eq!(doc, committed, "the server serves the committed document");
    for path in [
        "/api/v1/agents/{id}",
        "/api/v1/api-tokens",
        "/api/v1/webhooks/{id}/deliveries",
    ] {
        assert!(doc["paths"].get(path).is_some(), "{path}");
    }

    let page = app.get("/api/docs").await;
    assert_eq!(page.status().as_u16(), 200);
    let csp = page
        .headers()
        .get("content-security-policy")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(csp.starts_with("default-src 'self'"), "{csp}");
    let html = page.text().await.expect("text");
    assert!(html.contains("/docs-ui/swagger-ui-bundle.js"));
    assert!(!html.contains("https://"), "no outside resources");
    let init = app
        .get("/api/docs/init.js")
        .await
        .text()
        .await
        .expect("text");
    assert!(init.contains("/api/openapi.json"));
}
