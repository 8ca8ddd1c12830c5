//! Another tenant's objects look exactly like missing ones.

use chat_domain::Role;
use serde_json::{Value, json};

use crate::helpers::{ok, spawn_app, without_request_id};

#[tokio::test]
async fn every_agent_endpoint_answers_another_tenants_ids_like_missing_ones() {
    let app = spawn_app().await;
    app.create_tenant("acme", &[]).await;
    app.create_tenant("globex", &[]).await;
    let owner = app.create_agent("acme", "a@acme.test", "Alex").await;
    let intruder = app.create_agent("globex", "g@globex.test", "Gil").await;
    let (_, sid) = app.start_session("acme", "Ada").await;
    let missing = "01900000-0000-7000-8000-000000000000";

    let gets = ["", "/messages", "/history"];
    for suffix in gets {
        for id in [sid.as_str(), missing] {
            let res = app
                .agent_get(
                    &intruder.token,
                    &format!("/api/v1/chat/sessions/{id}{suffix}"),
                )
                .await;
            assert_eq!(res.status().as_u16(), 404, "GET {suffix} with {id}");
            let body: Value = without_request_id(ok(res.json().await));
            assert_eq!(
                body,
                json!({"error": {"code": "not_found", "message": "session not found"}})
            );
        }
    }
    let posts: [(&str, Option<Value>); 4] = [
        ("/messages", Some(json!({ "body": "hi" }))),
        ("/assign", None),
        ("/close", None),
        ("/reopen", None),
    ];
    for (suffix, body) in &posts {
        for id in [sid.as_str(), missing] {
            let res = app
                .agent_post(
                    &intruder.token,
                    &format!("/api/v1/chat/sessions/{id}{suffix}"),
                    body.as_ref(),
                )
                .await;
            assert_eq!(res.status().as_u16(), 404, "POST {suffix} with {id}");
            let body: Value = ok(res.json().await);
            assert_eq!(body["error"]["code"], "not_found");
        }
    }
    // Nothing leaked into the intruder's lists, and nothing was changed.
    let list: Value = ok(app
        .agent_get(&intruder.token, "/api/v1/chat/sessions")
        .await
        .json()
        .await);
    assert_eq!(list["sessions"], json!([]));
    let agents: Value = ok(app
        .agent_get(&intruder.token, "/api/v1/agents")
        .await
        .json()
        .await);
    assert_eq!(agents["agents"].as_array().map(Vec::len), Some(1));
    let still: Value = ok(app
        .agent_get(&owner.token, &format!("/api/v1/chat/sessions/{sid}"))
        .await
        .json()
        .await);
    assert_eq!(still["session"]["status"], "pending");
    assert_eq!(still["session"]["last_seq"], 0);
}

#[tokio::test]
async fn a_transfer_to_another_tenants_agent_is_404() {
    let app = spawn_app().await;
    app.create_tenant("acme", &[]).await;
    app.create_tenant("globex", &[]).await;
    let a = app.create_agent("acme", "a@acme.test", "Alex").await;
    let g = app.create_agent("globex", "g@globex.test", "Gil").await;
    let (_, sid) = app.start_session("acme", "Ada").await;
    let res = app
        .agent_post(
            &a.token,
            &format!("/api/v1/chat/sessions/{sid}/assign"),
            Some(&json!({ "agent_id": g.id })),
        )
        .await;
    assert_eq!(res.status().as_u16(), 404);
}

#[tokio::test]
async fn forbidden_is_only_for_a_role_the_agent_lacks() {
    let app = spawn_app().await;
    app.create_tenant("acme", &[]).await;
    let agent = app.create_agent("acme", "a@acme.test", "Alex").await;
    let admin = app
        .create_agent_with_role("acme", "boss@acme.test", "Boss", Role::Admin)
        .await;
    let new = json!({ "name": "Nia", "email": "nia@acme.test", "password": "long enough pw" });
    let refused = app
        .agent_post(&agent.token, "/api/v1/agents", Some(&new))
        .await;
    assert_eq!(refused.status().as_u16(), 403);
    let created = app
        .agent_post(&admin.token, "/api/v1/agents", Some(&new))
        .await;
    assert_eq!(created.status().as_u16(), 201);
    let duplicate = app
        .agent_post(&admin.token, "/api/v1/agents", Some(&new))
        .await;
    assert_eq!(duplicate.status().as_u16(), 409);
}

#[tokio::test]
async fn an_address_used_at_another_tenant_is_never_revealed_and_both_accounts_work() {
    let app = spawn_app().await;
    app.create_tenant("acme", &[]).await;
    app.create_tenant("globex", &[]).await;
    app.create_agent("globex", "sam@shared.test", "Sam at Globex")
        .await;
    let admin = app
        .create_agent_with_role("acme", "boss@acme.test", "Boss", Role::Admin)
        .await;
    let taken_elsewhere =
        json!({ "name": "Sam", "email": "sam@shared.test", "password": "acme password" });
    let unused = json!({ "name": "Uma", "email": "uma@acme.test", "password": "acme password" });
    let a = app
        .agent_post(&admin.token, "/api/v1/agents", Some(&taken_elsewhere))
        .await;
    let b = app
        .agent_post(&admin.token, "/api/v1/agents", Some(&unused))
        .await;
    // The same answer whether or not another tenant has the address.
    assert_eq!((a.status().as_u16(), b.status().as_u16()), (201, 201));
    // Each password opens its own tenant's account; a tenant can be named.
    let login = |password: &'static str, tenant: Option<&'static str>| {
        let mut body = json!({ "email": "sam@shared.test", "password": password });
        if let Some(t) = tenant {
            body["tenant_id"] = json!(t);
        }
        let app = &app;
        async move {
            let res = app.post_json("/api/v1/auth/login", &body).await;
            let status = res.status().as_u16();
            let v: Value = ok(res.json().await);
            (status, v["agent"]["name"].as_str().map(str::to_owned))
        }
    };
    assert_eq!(
        login("acme password", None).await,
        (200, Some("Sam".to_owned()))
    );
    assert_eq!(
        login(crate::helpers::PASSWORD, None).await,
        (200, Some("Sam at Globex".to_owned()))
    );
    assert_eq!(
        login(crate::helpers::PASSWORD, Some("acme")).await.0,
        401,
        "the Globex password does not open the Acme account"
    );
    // Within one tenant an address is still one account.
    let again = app
        .agent_post(&admin.token, "/api/v1/agents", Some(&taken_elsewhere))
        .await;
    assert_eq!(again.status().as_u16(), 409);
}
