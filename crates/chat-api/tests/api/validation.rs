//! Every kind of bad input gets a clear JSON error with the right status.

use serde_json::{Value, json};

use crate::helpers::{TestApp, ok, spawn_app};

async fn error_of(res: reqwest::Response) -> (u16, String) {
    let status = res.status().as_u16();
    let body: Value = ok(res.json().await);
    assert!(body["error"]["message"].is_string(), "no message in {body}");
    (
        status,
        body["error"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    )
}

async fn app_with_session() -> (TestApp, String) {
    let app = spawn_app().await;
    app.create_tenant("acme", &[]).await;
    let (key, _) = app.start_session("acme", "Ada").await;
    (app, key)
}

#[tokio::test]
async fn blank_and_overlong_bodies_are_422() {
    let (app, key) = app_with_session().await;
    assert_eq!(
        error_of(app.post_message(&key, "   ", None).await).await,
        (422, "validation_failed".into())
    );
    let long = "x".repeat(4001);
    assert_eq!(
        error_of(app.post_message(&key, &long, None).await).await,
        (422, "validation_failed".into())
    );
    assert_eq!(
        app.post_message(&key, &"x".repeat(4000), None)
            .await
            .status()
            .as_u16(),
        201
    );
}

#[tokio::test]
async fn bodies_over_64_kib_are_413() {
    let (app, key) = app_with_session().await;
    let huge = "x".repeat(70 * 1024);
    assert_eq!(
        error_of(app.post_message(&key, &huge, None).await).await,
        (413, "payload_too_large".into())
    );
}

#[tokio::test]
async fn a_non_json_content_type_is_415() {
    let (app, key) = app_with_session().await;
    let res = ok(app
        .client
        .post(format!(
            "{}/api/v1/public/chat/sessions/{key}/messages",
            app.address
        ))
        .header("content-type", "text/plain")
        .body("hello")
        .send()
        .await);
    assert_eq!(error_of(res).await, (415, "unsupported_media_type".into()));
}

#[tokio::test]
async fn malformed_json_is_400() {
    let (app, key) = app_with_session().await;
    let res = ok(app
        .client
        .post(format!(
            "{}/api/v1/public/chat/sessions/{key}/messages",
            app.address
        ))
        .header("content-type", "application/json")
        .body("{\"body\": ")
        .send()
        .await);
    assert_eq!(error_of(res).await, (400, "invalid_json".into()));
}

#[tokio::test]
async fn clients_cannot_set_server_owned_fields() {
    let (app, key) = app_with_session().await;
    for field in ["sender_type", "tenant_id", "seq", "id", "created_at"] {
        let mut body = json!({ "body": "hi" });
        body[field] = json!("agent");
        let res = app
            .post_json(
                &format!("/api/v1/public/chat/sessions/{key}/messages"),
                &body,
            )
            .await;
        assert_eq!(
            error_of(res).await,
            (422, "invalid_request".into()),
            "field {field}"
        );
    }
    assert!(app.customer_messages(&key, 0).await.is_empty());
}

#[tokio::test]
async fn bad_customer_and_context_fields_are_422() {
    let app = spawn_app().await;
    app.create_tenant("acme", &[]).await;
    let cases = [
        json!({ "tenant_id": "acme", "customer": { "email": "not-an-email" } }),
        json!({ "tenant_id": "acme", "customer": { "name": "x".repeat(201) } }),
        json!({ "tenant_id": "acme", "context": { "page_url": "x".repeat(3000) } }),
        json!({ "tenant_id": "acme", "customer": { "attributes": [1, 2] } }),
        json!({ "tenant_id": 42 }),
    ];
    for body in cases {
        let (status, _) =
            error_of(app.post_json("/api/v1/public/chat/sessions", &body).await).await;
        assert_eq!(status, 422, "{body}");
    }
}

#[tokio::test]
async fn bad_filters_and_query_types_are_client_errors() {
    let app = spawn_app().await;
    app.create_tenant("acme", &[]).await;
    let a = app.create_agent("acme", "a@acme.test", "Alex").await;
    let (s, c) = error_of(
        app.agent_get(&a.token, "/api/v1/chat/sessions?status=sleeping")
            .await,
    )
    .await;
    assert_eq!((s, c.as_str()), (422, "validation_failed"));
    let (s, _) = error_of(
        app.agent_get(&a.token, "/api/v1/chat/sessions?assigned=everyone")
            .await,
    )
    .await;
    assert_eq!(s, 422);
    let (_, key) = (0, app.start_session("acme", "Ada").await.0);
    let (s, c) = error_of(
        app.get(&format!(
            "/api/v1/public/chat/sessions/{key}/messages?after_seq=abc"
        ))
        .await,
    )
    .await;
    assert_eq!((s, c.as_str()), (400, "invalid_query"));
}

#[tokio::test]
async fn a_long_client_msg_id_is_422() {
    let (app, key) = app_with_session().await;
    let (s, _) = error_of(app.post_message(&key, "hi", Some(&"c".repeat(65))).await).await;
    assert_eq!(s, 422);
}

#[tokio::test]
async fn html_is_stored_verbatim() {
    let (app, key) = app_with_session().await;
    let payload = "<img src=x onerror=alert(1)>";
    app.post_message(&key, payload, None).await;
    assert_eq!(app.customer_messages(&key, 0).await[0]["body"], payload);
}
