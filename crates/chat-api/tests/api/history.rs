//! Returning visitors (visitor tokens and their history endpoints) and
//! transcripts.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, ok, spawn_app_with, without_request_limits};

/// Starts a session, optionally as a returning visitor; returns the whole
/// response body.
async fn start(app: &TestApp, tenant: &str, name: &str, visitor: Option<&str>) -> Value {
    let mut body = json!({ "tenant_id": tenant, "customer": { "name": name } });
    if let Some(token) = visitor {
        body["visitor_token"] = json!(token);
    }
    let res = app.post_json("/api/v1/public/chat/sessions", &body).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    ok(res.json().await)
}

fn s(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn a_returning_visitor_is_the_same_customer_with_their_history() {
    let app = spawn_app_with(without_request_limits).await;
    app.create_tenant("acme", &[]).await;
    let agent = app.create_agent("acme", "a@acme.test", "Ann").await;

    let first = start(&app, "acme", "Ada", None).await;
    let token = s(&first["visitor_token"]);
    assert_eq!(token.len(), 64, "{first}");
    assert!(token.bytes().all(|b| b.is_ascii_hexdigit()));
    let first_key = s(&first["session_key"]);
    let first_id = s(&first["session"]["id"]);
    app.post_message(&first_key, "my kettle broke", None).await;
    app.agent_message(&agent, &first_id, "sorry to hear").await;

    let second = start(&app, "acme", "Ada L.", Some(&token)).await;
    assert_eq!(
        s(&second["visitor_token"]),
        token,
        "the browser keeps its token"
    );
    let second_id = s(&second["session"]["id"]);
    assert_ne!(second_id, first_id);
    let customer_of = |id: String| {
        let app = &app;
        let agent = &agent;
        async move {
            let body: Value = ok(app
                .agent_get(&agent.token, &format!("/api/v1/chat/sessions/{id}"))
                .await
                .json()
                .await);
            body["session"]["customer"].clone()
        }
    };
    let (c1, c2) = (
        customer_of(first_id.clone()).await,
        customer_of(second_id.clone()).await,
    );
    assert_eq!(c1["id"], c2["id"], "one customer");
    assert_eq!(c2["name"], "Ada L.");
    // Agents see the customer's other conversations through the visitor.
    let history: Value = ok(app
        .agent_get(
            &agent.token,
            &format!("/api/v1/chat/sessions/{second_id}/history"),
        )
        .await
        .json()
        .await);
    let ids: Vec<String> = history["sessions"]
        .as_array()
        .map(|a| a.iter().map(|x| s(&x["id"])).collect())
        .unwrap_or_default();
    assert_eq!(ids, vec![first_id.clone()]);

    // The visitor's own list: newest first, with previews.
    let res = app
        .post_json(
            "/api/v1/public/visitor/sessions",
            &json!({ "tenant_id": "acme", "visitor_token": token }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let list: Value = ok(res.json().await);
    let ids: Vec<String> = list["sessions"]
        .as_array()
        .map(|a| a.iter().map(|x| s(&x["id"])).collect())
        .unwrap_or_default();
    assert_eq!(ids, vec![second_id.clone(), first_id.clone()]);
    assert_eq!(list["sessions"][1]["last_message_preview"], "sorry to hear");
    assert!(list["sessions"][1].get("session_key").is_none());

    let res = app
        .post_json(
            &format!("/api/v1/public/visitor/sessions/{first_id}/messages"),
            &json!({ "tenant_id": "acme", "visitor_token": token }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let msgs: Value = ok(res.json().await);
    let bodies: Vec<String> = msgs["messages"]
        .as_array()
        .map(|a| a.iter().map(|m| s(&m["body"])).collect())
        .unwrap_or_default();
    assert_eq!(bodies, vec!["my kettle broke", "sorry to hear"]);
    let res = app
        .post_json(
            &format!("/api/v1/public/visitor/sessions/{first_id}/messages"),
            &json!({ "tenant_id": "acme", "visitor_token": token, "after_seq": 1 }),
        )
        .await;
    let msgs: Value = ok(res.json().await);
    assert_eq!(msgs["messages"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn only_the_browsers_own_token_opens_its_history() {
    let app = spawn_app_with(without_request_limits).await;
    app.create_tenant("acme", &[]).await;
    app.create_tenant("globex", &[]).await;
    let ada = start(&app, "acme", "Ada", None).await;
    let bob = start(&app, "acme", "Bob", None).await;
    let gus = start(&app, "globex", "Gus", None).await;
    let ada_token = s(&ada["visitor_token"]);
    let bob_token = s(&bob["visitor_token"]);
    assert_ne!(ada_token, bob_token);
    let ada_id = s(&ada["session"]["id"]);

    // Another visitor's token, another tenant's, a malformed or unknown one:
    // all 404, the same as a missing session.
    let not_found = [
        (
            format!("/api/v1/public/visitor/sessions/{ada_id}/messages"),
            json!({ "tenant_id": "acme", "visitor_token": bob_token }),
        ),
        (
            format!("/api/v1/public/visitor/sessions/{ada_id}/messages"),
            json!({ "tenant_id": "globex", "visitor_token": ada_token }),
        ),
        (
            "/api/v1/public/visitor/sessions".to_owned(),
            json!({ "tenant_id": "globex", "visitor_token": ada_token }),
        ),
        (
            "/api/v1/public/visitor/sessions".to_owned(),
            json!({ "tenant_id": "acme", "visitor_token": s(&gus["visitor_token"]) }),
        ),
        (
            "/api/v1/public/visitor/sessions".to_owned(),
            json!({ "tenant_id": "acme", "visitor_token": "f".repeat(64) }),
        ),
        (
            "/api/v1/public/visitor/sessions".to_owned(),
            json!({ "tenant_id": "acme", "visitor_token": "' OR 1=1 --" }),
        ),
        (
            "/api/v1/public/visitor/sessions".to_owned(),
            json!({ "tenant_id": "nobody", "visitor_token": ada_token }),
        ),
        (
            format!("/api/v1/public/visitor/sessions/{}/messages", "not-an-id"),
            json!({ "tenant_id": "acme", "visitor_token": ada_token }),
        ),
    ];
    for (path, body) in not_found {
        let res = app.post_json(&path, &body).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{path} {body}");
        let e: Value = ok(res.json().await);
        assert_eq!(e["error"]["code"], "not_found");
    }
    // Bob's list holds Bob's session only.
    let list: Value = ok(app
        .post_json(
            "/api/v1/public/visitor/sessions",
            &json!({ "tenant_id": "acme", "visitor_token": bob_token }),
        )
        .await
        .json()
        .await);
    assert_eq!(list["sessions"].as_array().map(Vec::len), Some(1));
    assert_eq!(list["sessions"][0]["id"], bob["session"]["id"]);
    // A token of another tenant starts a new visitor there.
    let again = start(&app, "globex", "Ada", Some(&ada_token)).await;
    assert_ne!(s(&again["visitor_token"]), ada_token);
    // Missing fields are a validation error, not a 500.
    let res = app
        .post_json(
            "/api/v1/public/visitor/sessions",
            &json!({ "tenant_id": "acme" }),
        )
        .await;
    assert!(res.status().is_client_error());
}

fn header(res: &reqwest::Response, name: &str) -> String {
    res.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn transcripts_are_files_in_the_tenants_time_zone_in_seq_order() {
    let app = spawn_app_with(without_request_limits).await;
    app.create_tenant("acme", &[]).await;
    let admin = app
        .create_agent_with_role("acme", "boss@acme.test", "Boss", chat_domain::Role::Admin)
        .await;
    let agent = app.create_agent("acme", "a@acme.test", "Ann").await;
    // Only admins set the time zone; a bad zone is a validation error.
    let set = |token: String, zone: &'static str| {
        let app = &app;
        async move {
            app.agent_request(
                reqwest::Method::PATCH,
                &token,
                "/api/v1/settings/tenant",
                Some(&json!({ "time_zone": zone })),
            )
            .await
        }
    };
    assert_eq!(
        set(agent.token.clone(), "Europe/Berlin").await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        set(admin.token.clone(), "Mars/Olympus").await.status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let res = set(admin.token.clone(), "Europe/Berlin").await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = ok(res.json().await);
    assert_eq!(body["tenant"]["time_zone"], "Europe/Berlin");

    let (key, sid) = app.start_session("acme", "Ada").await;
    app.post_message(&key, "first <script>alert(1)</script>", None)
        .await;
    app.agent_message(&agent, &sid, "second").await;
    app.post_message(&key, "third", None).await;

    let res = app
        .agent_get(
            &agent.token,
            &format!("/api/v1/chat/sessions/{sid}/transcript?format=txt"),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(header(&res, "content-disposition").starts_with("attachment; filename="));
    assert!(header(&res, "content-type").starts_with("text/plain"));
    let text = ok(res.text().await);
    let (a, b, c) = (text.find("first"), text.find("second"), text.find("third"));
    assert!(a < b && b < c && a.is_some(), "{text}");
    assert!(text.contains("Ann (agent)"), "{text}");
    assert!(text.contains("Europe/Berlin"), "{text}");
    assert!(text.contains(" CET]") || text.contains(" CEST]"), "{text}");

    let res = app
        .agent_get(
            &agent.token,
            &format!("/api/v1/chat/sessions/{sid}/transcript?format=json"),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(header(&res, "content-disposition").contains(".json"));
    let json: Value = ok(res.json().await);
    assert_eq!(json["time_zone"], "Europe/Berlin");
    let seqs: Vec<i64> = json["messages"]
        .as_array()
        .map(|a| a.iter().filter_map(|m| m["seq"].as_i64()).collect())
        .unwrap_or_default();
    assert_eq!(seqs, vec![1, 2, 3]);
    let local = s(&json["messages"][0]["local_time"]);
    assert!(local.ends_with("CET") || local.ends_with("CEST"), "{local}");

    // HTML: escaped, and served so that it can run nothing.
    let res = app
        .get(&format!(
            "/api/v1/public/chat/sessions/{key}/transcript?format=html"
        ))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(header(&res, "content-disposition").starts_with("attachment"));
    assert_eq!(header(&res, "x-content-type-options"), "nosniff");
    assert!(header(&res, "content-security-policy").contains("default-src 'none'"));
    let html = ok(res.text().await);
    assert!(html.contains("&lt;script&gt;"), "{html}");
    assert!(!html.contains("<script>"), "{html}");

    // The customer's transcript: no team internals, no JSON export.
    let res = app
        .get(&format!("/api/v1/public/chat/sessions/{key}/transcript"))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let text = ok(res.text().await);
    assert!(text.contains("third"));
    assert!(
        !text.contains("a@acme.test") && !text.contains(&agent.id),
        "{text}"
    );
    let res = app
        .get(&format!(
            "/api/v1/public/chat/sessions/{key}/transcript?format=json"
        ))
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = app
        .get(&format!(
            "/api/v1/public/chat/sessions/{}/transcript",
            "f".repeat(64)
        ))
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    // Another tenant's agent: 404.
    app.create_tenant("globex", &[]).await;
    let gus = app.create_agent("globex", "g@globex.test", "Gus").await;
    let res = app
        .agent_get(
            &gus.token,
            &format!("/api/v1/chat/sessions/{sid}/transcript"),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = app
        .agent_get(
            &agent.token,
            &format!("/api/v1/chat/sessions/{sid}/transcript?format=pdf"),
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
}
