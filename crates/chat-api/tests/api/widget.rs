//! The widget's settings from the server, business hours, the customer's
//! close and the satisfaction rating.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestAgent, TestApp, ok, spawn_app_with, without_request_limits};

async fn public(app: &TestApp) -> (reqwest::header::HeaderMap, Value) {
    let res = app.get("/api/v1/public/tenants/acme/widget").await;
    assert_eq!(res.status(), StatusCode::OK);
    let headers = res.headers().clone();
    (headers, ok(res.json().await))
}

async fn setup() -> (TestApp, TestAgent, TestAgent) {
    let app = spawn_app_with(without_request_limits).await;
    app.create_tenant("acme", &[]).await;
    let admin = app
        .create_agent_with_role("acme", "boss@acme.test", "Boss", chat_domain::Role::Admin)
        .await;
    let agent = app.create_agent("acme", "alex@acme.test", "Alex").await;
    (app, admin, agent)
}

#[tokio::test]
async fn admins_set_what_the_widget_shows_and_the_public_answer_follows_at_once() {
    let (app, admin, agent) = setup().await;
    let (headers, w) = public(&app).await;
    assert_eq!(headers["cache-control"], "public, max-age=60");
    assert_eq!(
        (
            &w["name"],
            &w["online"],
            &w["business_hours_open"],
            &w["csat"]
        ),
        (&json!("acme"), &json!(false), &json!(true), &json!(true))
    );
    assert_eq!(w["prechat"]["email_when_offline"], true);

    let settings = json!({ "name": "Acme help", "greeting": "Hi there!", "primary_color": "#0F766E", "position": "bottom-left", "locale": "de", "expected_reply": "in a few minutes", "offline_message": "We are away", "csat": false,
        "prechat": { "name": "required", "email": "optional", "fields": [{ "key": "order", "label": "Order number" }] } });
    let (code, v) = app
        .call(
            &agent,
            Method::PUT,
            "/api/v1/settings/widget",
            Some(settings.clone()),
        )
        .await;
    assert_eq!(code, StatusCode::FORBIDDEN, "{v}");
    let (code, v) = app
        .call(
            &admin,
            Method::PUT,
            "/api/v1/settings/widget",
            Some(settings),
        )
        .await;
    assert_eq!(code, StatusCode::OK, "{v}");
    assert_eq!(v["widget"]["primary_color"], "#0f766e");
    let (_, w) = public(&app).await;
    assert_eq!(
        (
            &w["name"],
            &w["greeting"],
            &w["primary_color"],
            &w["position"],
            &w["locale"],
            &w["csat"]
        ),
        (
            &json!("Acme help"),
            &json!("Hi there!"),
            &json!("#0f766e"),
            &json!("bottom-left"),
            &json!("de"),
            &json!(false)
        )
    );
    assert_eq!(w["prechat"]["name"], "required");
    assert_eq!(w["prechat"]["fields"][0]["key"], "order");
    let (code, got) = app
        .call(&agent, Method::GET, "/api/v1/settings/widget", None)
        .await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(got["widget"]["offline_message"], "We are away");

    // The form's required name is checked when a conversation starts.
    let res = app
        .post_json(
            "/api/v1/public/chat/sessions",
            &json!({ "tenant_id": "acme" }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let e: Value = ok(res.json().await);
    assert_eq!(e["error"]["field"], "customer.name");
    app.start_session("acme", "Ada").await;

    for bad in [
        json!({ "primary_color": "teal" }),
        json!({ "position": "top-left" }),
        json!({ "prechat": { "fields": [{ "key": "Bad Key", "label": "x" }] } }),
        json!([1]),
    ] {
        let (code, e) = app
            .call(
                &admin,
                Method::PUT,
                "/api/v1/settings/widget",
                Some(bad.clone()),
            )
            .await;
        assert!(code.is_client_error(), "{bad}: {code}");
        assert!(e["error"]["code"].is_string(), "{e}");
    }
    assert_eq!(
        app.get("/api/v1/public/tenants/nobody/widget")
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn online_means_someone_connected_and_available() {
    let (app, _admin, agent) = setup().await;
    assert_eq!(public(&app).await.1["online"], false);
    let mut ws = app.agent_ws(&agent).await;
    ws.send("ping", json!({})).await;
    ws.until("pong").await;
    assert_eq!(public(&app).await.1["online"], true);
    let (code, _) = app
        .call(
            &agent,
            Method::PUT,
            "/api/v1/agents/me/status",
            Some(json!({ "status": "away" })),
        )
        .await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(public(&app).await.1["online"], false, "away does not count");
}

#[tokio::test]
async fn business_hours_are_stored_in_the_tenants_zone_and_judged_now() {
    let (app, admin, agent) = setup().await;
    let closed_all_week =
        json!({ "time_zone": "Europe/Berlin", "enabled": true, "weekly": {}, "exceptions": [] });
    let (code, v) = app
        .call(
            &admin,
            Method::PUT,
            "/api/v1/settings/business-hours",
            Some(closed_all_week),
        )
        .await;
    assert_eq!(code, StatusCode::OK, "{v}");
    assert_eq!(
        (&v["time_zone"], &v["open_now"], &v["next_open"]),
        (&json!("Europe/Berlin"), &json!(false), &Value::Null)
    );
    assert_eq!(public(&app).await.1["business_hours_open"], false);

    let all_day = json!([{ "open": "00:00", "close": "23:59" }]);
    let week = json!({ "enabled": true, "weekly": { "mon": all_day, "tue": all_day, "wed": all_day, "thu": all_day, "fri": all_day, "sat": all_day, "sun": all_day } });
    let (code, v) = app
        .call(
            &admin,
            Method::PUT,
            "/api/v1/settings/business-hours",
            Some(week),
        )
        .await;
    assert_eq!(code, StatusCode::OK, "{v}");
    assert_eq!(v["business_hours"]["weekly"]["sun"][0]["close"], "23:59");
    let (code, got) = app
        .call(&agent, Method::GET, "/api/v1/settings/business-hours", None)
        .await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(got["time_zone"], "Europe/Berlin", "the zone stays");
    for bad in [
        json!({ "time_zone": "Mars/Base" }),
        json!({ "weekly": { "mon": [{ "open": "18:00", "close": "09:00" }] } }),
        json!({ "exceptions": [{ "date": "yesterday" }] }),
    ] {
        let (code, e) = app
            .call(
                &admin,
                Method::PUT,
                "/api/v1/settings/business-hours",
                Some(bad.clone()),
            )
            .await;
        assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {e}");
    }
    let (code, _) = app
        .call(
            &agent,
            Method::PUT,
            "/api/v1/settings/business-hours",
            Some(json!({})),
        )
        .await;
    assert_eq!(code, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_customer_closes_and_rates_once_and_agents_hear_of_it() {
    let (app, admin, _agent) = setup().await;
    let mut agents = app.agent_ws(&admin).await;
    let (key, id) = app.start_session("acme", "Ada").await;
    let rating = |body: Value| {
        let path = format!("/api/v1/public/chat/sessions/{key}/rating");
        let app = &app;
        async move {
            let res = app.post_json(&path, &body).await;
            let status = res.status();
            (status, res.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let (code, e) = rating(json!({ "score": 5 })).await;
    assert_eq!(
        (code, &e["error"]["code"]),
        (StatusCode::CONFLICT, &json!("not_closed"))
    );

    let res = app
        .post_json(
            &format!("/api/v1/public/chat/sessions/{key}/close"),
            &json!({ "send_transcript": false }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let closed: Value = ok(res.json().await);
    assert_eq!(closed["session"]["status"], "closed");
    assert_eq!(
        agents.until("chat.session.closed").await["session_id"],
        id.as_str()
    );
    let res = app
        .post_json(
            &format!("/api/v1/public/chat/sessions/{key}/close"),
            &json!({}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);

    for bad in [
        json!({ "score": 0 }),
        json!({ "score": 6 }),
        json!({ "score": 3, "comment": "x".repeat(1001) }),
        json!({}),
    ] {
        let (code, e) = rating(bad.clone()).await;
        assert!(
            code.is_client_error() && code != StatusCode::CONFLICT,
            "{bad}: {code}"
        );
        assert!(e["error"]["code"].is_string());
    }
    let (code, v) = rating(json!({ "score": 4, "comment": "quick and kind" })).await;
    assert_eq!(code, StatusCode::CREATED, "{v}");
    assert_eq!(v["session"]["rated"], true);
    let rated = agents.until("chat.session.rated").await;
    assert_eq!(
        (
            &rated["session_id"],
            &rated["session"]["rating"]["score"],
            &rated["session"]["rating"]["comment"]
        ),
        (&json!(id), &json!(4), &json!("quick and kind"))
    );
    let (code, e) = rating(json!({ "score": 1 })).await;
    assert_eq!(
        (code, &e["error"]["code"]),
        (StatusCode::CONFLICT, &json!("already_rated"))
    );
    // Agents see it in the thread and the list.
    let (_, s) = app
        .call(
            &admin,
            Method::GET,
            &format!("/api/v1/chat/sessions/{id}"),
            None,
        )
        .await;
    assert_eq!(s["session"]["rating"]["score"], 4);
    let (_, list) = app
        .call(&admin, Method::GET, "/api/v1/chat/sessions", None)
        .await;
    assert_eq!(list["sessions"][0]["rating"]["score"], 4);
}

#[tokio::test]
async fn while_nobody_is_there_a_browser_must_leave_an_email_and_a_server_need_not() {
    let app = spawn_app_with(without_request_limits).await;
    app.create_tenant("acme", &["https://shop.test"]).await;
    let admin = app
        .create_agent_with_role("acme", "boss@acme.test", "Boss", chat_domain::Role::Admin)
        .await;
    let start = |origin: Option<&'static str>, email: Option<&'static str>| {
        let app = &app;
        async move {
            let mut customer = json!({ "name": "Ann" });
            if let Some(e) = email {
                customer["email"] = json!(e);
            }
            let mut req = app
                .client
                .post(format!("{}/api/v1/public/chat/sessions", app.address))
                .json(&json!({ "tenant_id": "acme", "customer": customer }));
            if let Some(o) = origin {
                req = req.header("origin", o);
            }
            let res = ok(req.send().await);
            let status = res.status();
            (status, res.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    // Nobody online: the widget's page must give the address.
    let (code, body) = start(Some("https://shop.test"), None).await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["field"], "customer.email");
    let (code, body) = start(Some("https://shop.test"), Some("ann@example.com")).await;
    assert_eq!(code, StatusCode::CREATED, "{body}");
    assert_eq!(body["session"]["customer"]["email"], "ann@example.com");
    // A server's integration is not refused.
    let (code, body) = start(None, None).await;
    assert_eq!(code, StatusCode::CREATED, "{body}");
    // Someone online: no address needed.
    let _online = app.agent_ws(&admin).await;
    let (code, body) = start(Some("https://shop.test"), None).await;
    assert_eq!(code, StatusCode::CREATED, "{body}");
    drop(_online);
    // Turned off by the admin: not required while away either.
    let (code, v) = app
        .call(
            &admin,
            Method::PUT,
            "/api/v1/settings/widget",
            Some(json!({ "prechat": { "name": "optional", "email": "optional", "email_when_offline": false } })),
        )
        .await;
    assert_eq!(code, StatusCode::OK, "{v}");
    let wait = std::time::Instant::now() + crate::helpers::PATIENCE;
    loop {
        // The socket's goodbye is announced asynchronously: wait until
        // the widget's own answer says nobody is there.
        let w: Value = ok(app
            .get("/api/v1/public/tenants/acme/widget")
            .await
            .json()
            .await);
        if w["online"] == false {
            break;
        }
        assert!(
            std::time::Instant::now() < wait,
            "the agent is still online: {w}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let (code, body) = start(Some("https://shop.test"), None).await;
    assert_eq!(code, StatusCode::CREATED, "{body}");
}
