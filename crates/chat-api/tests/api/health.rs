use serde_json::Value;

use crate::helpers::{ok, spawn_app};

#[tokio::test]
async fn healthz_answers_ok() {
    let app = spawn_app().await;
    let res = app.get("/healthz").await;
    assert_eq!(res.status().as_u16(), 200);
    let body: Value = ok(res.json().await);
    assert_eq!(body["status"], "ok");
}

#[tokio::test]
async fn readyz_is_ready_while_the_database_answers_and_503_after() {
    let app = spawn_app().await;
    assert_eq!(app.get("/readyz").await.status().as_u16(), 200);
    ok(app.store.close().await);
    let res = app.get("/readyz").await;
    assert_eq!(res.status().as_u16(), 503);
    let body: Value = ok(res.json().await);
    assert_eq!(body["status"], "degraded");
    assert_eq!(body["database"], "down");
    assert_eq!(body["redis"], "disabled");
}

#[tokio::test]
async fn an_unknown_route_is_a_json_404() {
    let app = spawn_app().await;
    let res = app.get("/api/v1/nothing-here").await;
    assert_eq!(res.status().as_u16(), 404);
    let body: Value = ok(res.json().await);
    assert_eq!(body["error"]["code"], "not_found");
}

#[tokio::test]
async fn a_wrong_method_is_a_json_error() {
    let app = spawn_app().await;
    let res = ok(app
        .client
        .delete(format!("{}/api/v1/auth/login", app.address))
        .send()
        .await);
    assert!(res.status().is_client_error());
    let body: Value = ok(res.json().await);
    assert!(body["error"]["code"].is_string(), "{body}");
}
