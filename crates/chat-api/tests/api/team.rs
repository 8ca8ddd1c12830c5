//! Team administration: renaming, roles, deactivation (tokens revoked and
//! sockets closed at once), password changes, and the last admin.

use chat_domain::Role;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestAgent, TestApp, ok, spawn_app, without_request_id};

async fn team() -> (TestApp, TestAgent, TestAgent) {
    let app = spawn_app().await;
    app.create_tenant("acme", &[]).await;
    let admin = app
        .create_agent_with_role("acme", "admin@acme.test", "Ada", Role::Admin)
        .await;
    let agent = app.create_agent("acme", "bob@acme.test", "Bob").await;
    (app, admin, agent)
}

async fn patch(app: &TestApp, token: &str, id: &str, body: Value) -> reqwest::Response {
    app.agent_request(
        Method::PATCH,
        token,
        &format!("/api/v1/agents/{id}"),
        Some(&body),
    )
    .await
}

#[tokio::test]
async fn an_admin_renames_and_promotes_an_agent() {
    let (app, admin, agent) = team().await;
    let res = patch(
        &app,
        &admin.token,
        &agent.id,
        json!({ "name": "Robert", "role": "admin" }),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = ok(res.json().await);
    assert_eq!(body["agent"]["name"], "Robert");
    assert_eq!(body["agent"]["role"], "admin");
    assert_eq!(body["agent"]["active"], true);
    let list: Value = ok(app
        .agent_get(&admin.token, "/api/v1/agents")
        .await
        .json()
        .await);
    let bob = list["agents"]
        .as_array()
        .and_then(|a| a.iter().find(|x| x["id"] == agent.id.as_str()))
        .cloned()
        .unwrap_or_default();
    assert_eq!(bob["role"], "admin");
    assert_eq!(bob["name"], "Robert");
}

#[tokio::test]
async fn agents_cannot_change_agents_and_bad_patches_are_refused() {
    let (app, admin, agent) = team().await;
    let res = patch(&app, &agent.token, &admin.id, json!({ "role": "agent" })).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = patch(&app, &admin.token, &agent.id, json!({ "role": "root" })).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = patch(&app, &admin.token, &agent.id, json!({ "colour": "blue" })).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = patch(
        &app,
        &admin.token,
        "00000000-0000-7000-8000-000000000000",
        json!({ "name": "X" }),
    )
    .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let body: Value = ok(res.json().await);
    assert_eq!(without_request_id(body)["error"]["code"], "not_found");
}

#[tokio::test]
async fn deactivation_closes_sockets_revokes_tokens_and_blocks_login() {
    let (app, admin, agent) = team().await;
    let mut socket = app.agent_ws(&agent).await;
    socket.send("ping", json!({})).await;
    socket.expect("pong").await;
    let res = patch(&app, &admin.token, &agent.id, json!({ "active": false })).await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = ok(res.json().await);
    assert_eq!(body["agent"]["active"], false);

    assert_eq!(socket.closed().await.code, Some(4001));
    let me = app.agent_get(&agent.token, "/api/v1/agents/me").await;
    assert_eq!(me.status(), StatusCode::UNAUTHORIZED);
    let login = app
        .post_json(
            "/api/v1/auth/login",
            &json!({ "email": "bob@acme.test", "password": PASSWORD }),
        )
        .await;
    assert_eq!(login.status(), StatusCode::UNAUTHORIZED);

    // Reactivated, the agent logs in again (with a new token).
    let res = patch(&app, &admin.token, &agent.id, json!({ "active": true })).await;
    assert_eq!(res.status(), StatusCode::OK);
    let token = app.login("bob@acme.test", PASSWORD).await;
    assert_eq!(
        app.agent_get(&token, "/api/v1/agents/me").await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn the_last_active_admin_stays_one() {
    let (app, admin, agent) = team().await;
    for body in [json!({ "role": "agent" }), json!({ "active": false })] {
        let res = patch(&app, &admin.token, &admin.id, body).await;
        assert_eq!(res.status(), StatusCode::CONFLICT);
        let body: Value = ok(res.json().await);
        assert_eq!(without_request_id(body)["error"]["code"], "last_admin");
    }
    // With a second admin, the first may step down.
    let res = patch(&app, &admin.token, &agent.id, json!({ "role": "admin" })).await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = patch(&app, &admin.token, &admin.id, json!({ "role": "agent" })).await;
    assert_eq!(res.status(), StatusCode::OK);
    // Now Bob is the last one.
    let res = patch(&app, &agent.token, &agent.id, json!({ "active": false })).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
}

#[tokio::test]
async fn two_admins_stepping_down_at_once_leave_one_admin() {
    let (app, admin, agent) = team().await;
    let res = patch(&app, &admin.token, &agent.id, json!({ "role": "admin" })).await;
    assert_eq!(res.status(), StatusCode::OK);
    for _ in 0..5 {
        // Each sees the other as an admin before the change: only the
        // store's serialisation keeps both from stepping down.
        let (a, b) = tokio::join!(
            patch(&app, &admin.token, &admin.id, json!({ "role": "agent" })),
            patch(&app, &agent.token, &agent.id, json!({ "role": "agent" })),
        );
        let mut statuses = [a.status(), b.status()];
        statuses.sort();
        assert_eq!(statuses, [StatusCode::OK, StatusCode::CONFLICT]);
        let list: Value = ok(app
            .agent_get(&admin.token, "/api/v1/agents")
            .await
            .json()
            .await);
        let admins: Vec<&Value> = list["agents"]
            .as_array()
            .map(|a| a.iter().filter(|x| x["role"] == "admin").collect())
            .unwrap_or_default();
        assert_eq!(admins.len(), 1);
        // Back to two admins for the next round.
        let (stayed, stepped) = if admins[0]["id"] == admin.id.as_str() {
            (&admin, &agent)
        } else {
            (&agent, &admin)
        };
        let res = patch(&app, &stayed.token, &stepped.id, json!({ "role": "admin" })).await;
        assert_eq!(res.status(), StatusCode::OK);
    }
}

#[tokio::test]
async fn a_password_change_signs_out_the_other_logins_only() {
    let (app, _admin, agent) = team().await;
    let other = app.login("bob@acme.test", PASSWORD).await;
    let other_agent = TestAgent {
        id: agent.id.clone(),
        token: other.clone(),
    };
    let mut other_socket = app.agent_ws(&other_agent).await;
    other_socket.send("ping", json!({})).await;
    other_socket.expect("pong").await;

    let wrong = app
        .agent_post(
            &agent.token,
            "/api/v1/agents/me/password",
            Some(&json!({ "current_password": "not it at all", "new_password": "a new long secret" })),
        )
        .await;
    assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let short = app
        .agent_post(
            &agent.token,
            "/api/v1/agents/me/password",
            Some(&json!({ "current_password": PASSWORD, "new_password": "short" })),
        )
        .await;
    assert_eq!(short.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let res = app
        .agent_post(
            &agent.token,
            "/api/v1/agents/me/password",
            Some(&json!({ "current_password": PASSWORD, "new_password": "a new long secret" })),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(other_socket.closed().await.code, Some(4001));
    assert_eq!(
        app.agent_get(&other, "/api/v1/agents/me").await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.agent_get(&agent.token, "/api/v1/agents/me")
            .await
            .status(),
        StatusCode::OK,
        "the login that changed it stays"
    );
    let old = app
        .post_json(
            "/api/v1/auth/login",
            &json!({ "email": "bob@acme.test", "password": PASSWORD }),
        )
        .await;
    assert_eq!(old.status(), StatusCode::UNAUTHORIZED);
    app.login("bob@acme.test", "a new long secret").await;
}

/// A revocation no kick reaches (the operator's command line, another node)
/// still ends the socket, at its next heartbeat.
#[tokio::test]
async fn a_socket_whose_token_was_revoked_elsewhere_closes_at_its_next_heartbeat() {
    let app = crate::helpers::spawn_app_with(|s| s.ws.heartbeat_secs = 1).await;
    app.create_tenant("acme", &[]).await;
    let agent = app.create_agent("acme", "bob@acme.test", "Bob").await;
    let mut socket = app.agent_ws(&agent).await;
    socket.send("ping", json!({})).await;
    socket.expect("pong").await;
    let id = chat_domain::AgentId::new(agent.id.clone());
    ok(app.repos.tokens.revoke_agent(&id, None).await);
    let closed = socket.closed().await;
    assert_eq!(closed.code, Some(4001));
    assert_eq!(closed.reason, "token revoked");
}
