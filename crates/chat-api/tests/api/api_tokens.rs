//! API tokens: made by admins, shown once, stored hashed, acting with only
//! their scopes, never on `/ws`, revocable, and gone with their maker.

use chat_domain::Role;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestAgent, TestApp, ok, spawn_app, without_request_id};

async fn setup() -> (TestApp, TestAgent) {
    let app = spawn_app().await;
    app.create_tenant("acme", &[]).await;
    let admin = app
        .create_agent_with_role("acme", "admin@acme.test", "Ada", Role::Admin)
        .await;
    (app, admin)
}

async fn make_token(app: &TestApp, admin: &TestAgent, scopes: &[&str]) -> (String, String) {
    let res = app
        .agent_post(
            &admin.token,
            "/api/v1/api-tokens",
            Some(&json!({ "name": "CRM sync", "scopes": scopes })),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let body: Value = ok(res.json().await);
    let secret = body["token"].as_str().unwrap_or_default().to_owned();
    assert!(secret.starts_with("plt_"), "{secret}");
    assert_eq!(body["api_token"]["name"], "CRM sync");
    (
        body["api_token"]["id"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        secret,
    )
}

#[tokio::test]
async fn a_token_is_shown_once_and_listed_without_its_secret() {
    let (app, admin) = setup().await;
    let (id, secret) = make_token(&app, &admin, &["sessions:read", "messages:read"]).await;
    let res = app.agent_get(&admin.token, "/api/v1/api-tokens").await;
    assert_eq!(res.status(), StatusCode::OK);
    let text = ok(res.text().await);
    assert!(!text.contains(&secret), "the list never shows a secret");
    assert!(!text.contains(&secret[4..]));
    let body: Value = ok(serde_json::from_str(&text));
    assert_eq!(body["api_tokens"][0]["id"], id.as_str());
    assert_eq!(
        body["api_tokens"][0]["scopes"],
        json!(["sessions:read", "messages:read"])
    );
    assert_eq!(body["api_tokens"][0]["agent_id"], admin.id.as_str());
    // Stored as a digest: the secret is nowhere in the database.
    let stored = chat_service::hash_secret(&secret);
    let found = ok(app
        .repos
        .api_tokens
        .find_by_hash(&stored, chrono::Utc::now())
        .await);
    assert!(found.is_some());
}

#[tokio::test]
async fn a_token_does_what_its_scopes_allow_and_nothing_else() {
    let (app, admin) = setup().await;
    let (_key, session_id) = app.start_session("acme", "Carla").await;
    let (_, reader) = make_token(&app, &admin, &["sessions:read", "messages:read"]).await;

    let list = app.agent_get(&reader, "/api/v1/chat/sessions").await;
    assert_eq!(list.status(), StatusCode::OK);
    let messages = app
        .agent_get(
            &reader,
            &format!("/api/v1/chat/sessions/{session_id}/messages"),
        )
        .await;
    assert_eq!(messages.status(), StatusCode::OK);

    let send = app
        .agent_post(
            &reader,
            &format!("/api/v1/chat/sessions/{session_id}/messages"),
            Some(&json!({ "body": "hello" })),
        )
        .await;
    assert_eq!(send.status(), StatusCode::FORBIDDEN);
    let body = without_request_id(ok(send.json().await));
    assert_eq!(body["error"]["code"], "insufficient_scope");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("messages:write"),
        "{body}"
    );
    for (method, path) in [
        (
            Method::POST,
            format!("/api/v1/chat/sessions/{session_id}/close"),
        ),
        (Method::GET, "/api/v1/agents".to_owned()),
        (Method::GET, "/api/v1/kb/articles".to_owned()),
        (Method::GET, "/api/v1/webhooks".to_owned()),
        (Method::GET, "/api/v1/bot".to_owned()),
    ] {
        let res = app
            .agent_request(method.clone(), &reader, &path, None)
            .await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{method} {path}");
    }

    let (_, writer) = make_token(&app, &admin, &["messages:write"]).await;
    let send = app
        .agent_post(
            &writer,
            &format!("/api/v1/chat/sessions/{session_id}/messages"),
            Some(&json!({ "body": "from the CRM" })),
        )
        .await;
    assert_eq!(send.status(), StatusCode::CREATED);
    let body: Value = ok(send.json().await);
    assert_eq!(body["message"]["sender_type"], "agent");
    assert_eq!(
        body["message"]["sender_name"], "Ada",
        "a token acts as its maker"
    );
}

#[tokio::test]
async fn tokens_are_not_for_sockets_tokens_or_logins() {
    let (app, admin) = setup().await;
    let (_, token) = make_token(&app, &admin, &["sessions:read"]).await;
    let status = app
        .ws_refusal("/ws", &[("authorization", &format!("Bearer {token}"))])
        .await;
    assert_eq!(status, 403);
    for path in [
        "/api/v1/ws/ticket",
        "/api/v1/auth/logout",
        "/api/v1/api-tokens",
    ] {
        let body = json!({ "name": "x", "scopes": ["sessions:read"] });
        let res = app.agent_post(&token, path, Some(&body)).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{path}");
    }
}

#[tokio::test]
async fn unknown_scopes_and_agents_are_refused() {
    let (app, admin) = setup().await;
    let agent = app.create_agent("acme", "bob@acme.test", "Bob").await;
    let res = app
        .agent_post(
            &agent.token,
            "/api/v1/api-tokens",
            Some(&json!({ "name": "x", "scopes": ["sessions:read"] })),
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    for scopes in [json!(["sessions:delete"]), json!([])] {
        let res = app
            .agent_post(
                &admin.token,
                "/api/v1/api-tokens",
                Some(&json!({ "name": "x", "scopes": scopes })),
            )
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{scopes}");
    }
}

#[tokio::test]
async fn revoked_tokens_and_tokens_of_deactivated_admins_stop_working() {
    let (app, admin) = setup().await;
    let (id, token) = make_token(&app, &admin, &["sessions:read"]).await;
    let res = app
        .agent_request(
            Method::DELETE,
            &admin.token,
            &format!("/api/v1/api-tokens/{id}"),
            None,
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = app.agent_get(&token, "/api/v1/chat/sessions").await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = app
        .agent_request(
            Method::DELETE,
            &admin.token,
            &format!("/api/v1/api-tokens/{id}"),
            None,
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);

    // A second admin deactivates the first: the first's tokens die too.
    let other = app
        .create_agent_with_role("acme", "root@acme.test", "Root", Role::Admin)
        .await;
    let (_, token) = make_token(&app, &admin, &["sessions:read"]).await;
    assert_eq!(
        app.agent_get(&token, "/api/v1/chat/sessions")
            .await
            .status(),
        StatusCode::OK
    );
    let res = app
        .agent_request(
            Method::PATCH,
            &other.token,
            &format!("/api/v1/agents/{}", admin.id),
            Some(&json!({ "active": false })),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        app.agent_get(&token, "/api/v1/chat/sessions")
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
}
