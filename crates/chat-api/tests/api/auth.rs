use serde_json::{Value, json};

use crate::helpers::{PASSWORD, ok, spawn_app, spawn_app_with, without_request_id};

#[tokio::test]
async fn a_wrong_password_and_an_unknown_email_get_the_same_401() {
    let app = spawn_app().await;
    app.create_tenant("acme", &[]).await;
    app.create_agent("acme", "a@acme.test", "Alex").await;
    let wrong_pw = app
        .post_json(
            "/api/v1/auth/login",
            &json!({ "email": "a@acme.test", "password": "nope-nope" }),
        )
        .await;
    let wrong_mail = app
        .post_json(
            "/api/v1/auth/login",
            &json!({ "email": "x@acme.test", "password": PASSWORD }),
        )
        .await;
    assert_eq!(wrong_pw.status().as_u16(), 401);
    assert_eq!(wrong_mail.status().as_u16(), 401);
    let a: Value = without_request_id(ok(wrong_pw.json().await));
    let b: Value = without_request_id(ok(wrong_mail.json().await));
    assert_eq!(a, b);
}

#[tokio::test]
async fn agent_endpoints_need_a_valid_token() {
    let app = spawn_app().await;
    let none = app.get("/api/v1/agents/me").await;
    assert_eq!(none.status().as_u16(), 401);
    let garbage = app.agent_get("garbage", "/api/v1/agents/me").await;
    assert_eq!(garbage.status().as_u16(), 401);
    let body: Value = ok(garbage.json().await);
    assert_eq!(body["error"]["code"], "unauthorized");
}

#[tokio::test]
async fn logout_revokes_the_token() {
    let app = spawn_app().await;
    app.create_tenant("acme", &[]).await;
    let a = app.create_agent("acme", "a@acme.test", "Alex").await;
    assert_eq!(
        app.agent_get(&a.token, "/api/v1/agents/me")
            .await
            .status()
            .as_u16(),
        200
    );
    assert_eq!(
        app.agent_post(&a.token, "/api/v1/auth/logout", None)
            .await
            .status()
            .as_u16(),
        204
    );
    assert_eq!(
        app.agent_get(&a.token, "/api/v1/agents/me")
            .await
            .status()
            .as_u16(),
        401
    );
}

#[tokio::test]
async fn an_expired_token_is_refused() {
    let app = spawn_app().await;
    app.create_tenant("acme", &[]).await;
    let a = app.create_agent("acme", "a@acme.test", "Alex").await;
    let past = chrono::Utc::now() - chrono::Duration::seconds(1);
    let stale = app.token_expiring_at(&a, past).await;
    let res = app.agent_get(&stale, "/api/v1/agents/me").await;
    assert_eq!(res.status().as_u16(), 401);
}

#[tokio::test]
async fn repeated_failed_logins_are_429_with_retry_after() {
    let app = spawn_app_with(|s| s.auth.max_failures_per_client = 3).await;
    app.create_tenant("acme", &[]).await;
    app.create_agent("acme", "a@acme.test", "Alex").await;
    for _ in 0..3 {
        let res = app
            .post_json(
                "/api/v1/auth/login",
                &json!({ "email": "a@acme.test", "password": "wrong-wrong" }),
            )
            .await;
        assert_eq!(res.status().as_u16(), 401);
    }
    let res = app
        .post_json(
            "/api/v1/auth/login",
            &json!({ "email": "a@acme.test", "password": PASSWORD }),
        )
        .await;
    assert_eq!(res.status().as_u16(), 429);
    assert!(res.headers().get("retry-after").is_some());
    let body: Value = ok(res.json().await);
    assert_eq!(body["error"]["code"], "rate_limited");
}

#[tokio::test]
async fn me_and_the_agent_list_show_the_tenants_agents() {
    let app = spawn_app().await;
    app.create_tenant("acme", &[]).await;
    let a = app.create_agent("acme", "a@acme.test", "Alex").await;
    app.create_agent("acme", "b@acme.test", "Bea").await;
    let me: Value = ok(app
        .agent_get(&a.token, "/api/v1/agents/me")
        .await
        .json()
        .await);
    assert_eq!(me["agent"]["email"], "a@acme.test");
    assert_eq!(me["agent"]["role"], "agent");
    assert!(me["agent"].get("password_hash").is_none());
    let list: Value = ok(app.agent_get(&a.token, "/api/v1/agents").await.json().await);
    let names: Vec<&str> = list["agents"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|x| x["name"].as_str())
        .collect();
    assert_eq!(names, vec!["Alex", "Bea"]);
}
