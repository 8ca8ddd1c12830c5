//! Reports: the summary of a period over the real server, its figures
//! checked against conversations with known times, per agent and per
//! local day across a clock change; the CSV export; who may see what.

use chrono::{DateTime, Utc};
use reqwest::{Method, StatusCode};
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

use crate::helpers::{TestAgent, TestApp, ok, spawn_app_with, without_request_limits};

async fn setup() -> (TestApp, TestAgent, TestAgent, TestAgent) {
    let app = spawn_app_with(without_request_limits).await;
    app.create_tenant("acme", &[]).await;
    let admin = app
        .create_agent_with_role("acme", "boss@acme.test", "Boss", chat_domain::Role::Admin)
        .await;
    let alex = app.create_agent("acme", "alex@acme.test", "Alex").await;
    let bea = app.create_agent("acme", "bea@acme.test", "Bea").await;
    (app, admin, alex, bea)
}

async fn set_hours(app: &TestApp, admin: &TestAgent, hours: Value) {
    let (code, v) = app
        .call(
            admin,
            Method::PUT,
            "/api/v1/settings/business-hours",
            Some(hours),
        )
        .await;
    assert_eq!(code, StatusCode::OK, "{v}");
}

async fn report(app: &TestApp, who: &TestAgent, query: &str) -> (StatusCode, Value) {
    app.call(
        who,
        Method::GET,
        &format!("/api/v1/reports/summary{query}"),
        None,
    )
    .await
}

async fn assign(app: &TestApp, admin: &TestAgent, sid: &str, agent: &TestAgent) {
    let res = app
        .agent_post(
            &admin.token,
            &format!("/api/v1/chat/sessions/{sid}/assign"),
            Some(&json!({ "agent_id": agent.id })),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
}

async fn close(app: &TestApp, who: &TestAgent, sid: &str) {
    let res = app
        .agent_post(
            &who.token,
            &format!("/api/v1/chat/sessions/{sid}/close"),
            None,
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
}

fn micros(at: &str) -> i64 {
    ok(DateTime::parse_from_rfc3339(at))
        .with_timezone(&Utc)
        .timestamp_micros()
}

async fn sql(app: &TestApp, statements: &[String]) {
    let db = ok(sea_orm::Database::connect(app.db_url.as_str()).await);
    for s in statements {
        ok(db.execute_unprepared(s).await);
    }
    ok(db.close().await);
}

#[tokio::test]
async fn a_period_of_conversations_is_summed_up_for_admins_and_for_each_agent_alone() {
    let (app, admin, alex, bea) = setup().await;
    // The hours are closed all week: every business-hours figure is zero,
    // the wall-clock ones are not.
    set_hours(
        &app,
        &admin,
        json!({ "time_zone": "Europe/Berlin", "enabled": true, "weekly": {}, "exceptions": [] }),
    )
    .await;
    let res = app
        .agent_post(&admin.token, "/api/v1/kb/articles", Some(&json!({
            "title": "Opening hours",
            "body": "We are open Monday to Friday from 8:00 to 20:00. We are closed on Sundays.",
            "keywords": ["hours", "open"]
        })))
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let (code, v) = app
        .call(
            &admin,
            Method::PUT,
            "/api/v1/bot",
            Some(json!({ "mode": "knowledge_base", "name": "Robo" })),
        )
        .await;
    assert_eq!(code, StatusCode::OK, "{v}");

    // The bot answers one alone.
    let (key, _) = app.start_session("acme", "Ann").await;
    let mut ws = app.customer_ws(&key).await;
    app.post_message(&key, "What are your opening hours?", None)
        .await;
    ws.expect("chat.message.new").await;
    assert_eq!(ws.expect("chat.message.new").await["sender_type"], "bot");
    // It hands one to a person, whom Alex answers and closes.
    let (key, handed) = app.start_session("acme", "Ben").await;
    let mut ws = app.customer_ws(&key).await;
    app.post_message(&key, "I want to talk to a human", None)
        .await;
    ws.expect("chat.message.new").await;
    ws.expect("chat.message.new").await;
    assign(&app, &admin, &handed, &alex).await;
    app.agent_message(&alex, &handed, "Hello Ben").await;
    close(&app, &alex, &handed).await;
    // Alex answers another, closes it, and the customer rates it.
    let (key, rated) = app.start_session("acme", "Cleo").await;
    assign(&app, &admin, &rated, &alex).await;
    app.agent_message(&alex, &rated, "Hi Cleo").await;
    close(&app, &alex, &rated).await;
    let res = app
        .post_json(
            &format!("/api/v1/public/chat/sessions/{key}/rating"),
            &json!({ "score": 4 }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    // Bea holds one, open.
    let (_, open) = app.start_session("acme", "Dan").await;
    assign(&app, &admin, &open, &bea).await;
    app.agent_message(&bea, &open, "Hi Dan").await;
    // Another tenant's conversation counts nowhere here.
    app.create_tenant("other", &[]).await;
    app.start_session("other", "Eve").await;

    let (code, r) = report(&app, &admin, "").await;
    assert_eq!(code, StatusCode::OK, "{r}");
    let r = &r["report"];
    assert_eq!(r["time_zone"], "Europe/Berlin");
    assert_eq!(r["agent_id"], Value::Null);
    let t = &r["totals"];
    assert_eq!(
        (
            &t["conversations"],
            &t["bot_only"],
            &t["handed_off"],
            &t["assigned"],
            &t["rating_average"],
            &t["rating_count"]
        ),
        (
            &json!(4),
            &json!(1),
            &json!(1),
            &json!(3),
            &json!(4.0),
            &json!(1)
        )
    );
    for business in [
        "first_response_business_p50_secs",
        "first_response_business_p90_secs",
        "resolution_business_p50_secs",
        "resolution_business_p90_secs",
    ] {
        assert_eq!(t[business], json!(0.0), "{business}: {t}");
    }
    for wall in ["first_response_p90_secs", "resolution_p90_secs"] {
        assert!(
            t[wall].as_f64().is_some_and(|s| (0.0..60.0).contains(&s)),
            "{wall}: {t}"
        );
    }
    let agents: Vec<(Value, Value, Value)> = r["agents"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|x| {
                    (
                        x["agent_id"].clone(),
                        x["agent_name"].clone(),
                        x["conversations"].clone(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(
        agents,
        vec![
            (json!(alex.id), json!("Alex"), json!(2)),
            (json!(bea.id), json!("Bea"), json!(1))
        ]
    );
    let days = r["days"].as_array().cloned().unwrap_or_default();
    assert_eq!(days.len(), 7);
    assert_eq!(days[6]["date"], r["to"]);
    assert_eq!(days[6]["conversations"], 4);
    assert_eq!(
        days.iter()
            .filter_map(|d| d["conversations"].as_u64())
            .sum::<u64>(),
        4
    );

    // An agent sees their own figures, and only theirs.
    let (code, mine) = report(&app, &alex, "").await;
    assert_eq!(code, StatusCode::OK, "{mine}");
    assert_eq!(mine["report"]["agent_id"], json!(alex.id));
    assert_eq!(mine["report"]["totals"]["conversations"], 2);
    assert_eq!(mine["report"]["totals"]["rating_count"], 1);
    let (code, body) = report(&app, &alex, &format!("?agent_id={}", bea.id)).await;
    assert_eq!(code, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["error"]["code"], "forbidden");
    // Admins pick an agent.
    let (code, hers) = report(&app, &admin, &format!("?agent_id={}", bea.id)).await;
    assert_eq!(code, StatusCode::OK, "{hers}");
    assert_eq!(hers["report"]["totals"]["conversations"], 1);

    // The CSV: a header, the whole, each agent, each day.
    let res = app
        .agent_get(&admin.token, "/api/v1/reports/summary?format=csv")
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "text/csv; charset=utf-8");
    assert!(
        res.headers()["content-disposition"]
            .to_str()
            .is_ok_and(|d| d.starts_with("attachment; filename=\"report-"))
    );
    let text = ok(res.text().await);
    let lines: Vec<&str> = text.split_terminator("\r\n").collect();
    assert_eq!(lines.len(), 1 + 1 + 2 + 7, "{text}");
    assert!(lines[0].starts_with("scope,key,name,conversations,bot_only,handed_off,assigned,"));
    assert!(lines[1].starts_with("total,"), "{text}");
    assert!(lines[1].contains(",4,1,1,3,"), "{text}");
    assert_eq!(
        lines[2].split(',').take(4).collect::<Vec<_>>(),
        vec!["agent", alex.id.as_str(), "Alex", "2"]
    );
    assert!(lines[10].starts_with("day,"));
}

#[tokio::test]
async fn figures_match_conversations_with_known_times_across_a_clock_change() {
    let (app, admin, alex, bea) = setup().await;
    set_hours(
        &app,
        &admin,
        json!({ "time_zone": "Europe/Berlin", "enabled": false }),
    )
    .await;
    // Twelve conversations: ten an hour apart from 20:00 UTC on Saturday
    // 2026-03-28 (21:00 in Berlin, winter time), one at 21:30 UTC and one
    // at 22:30 UTC on Sunday (23:30 and 00:30 on Monday in Berlin, summer
    // time since 01:00 UTC that Sunday).
    let mut ids = Vec::new();
    for i in 0..12 {
        let (_, sid) = app.start_session("acme", &format!("C{i}")).await;
        if i < 6 {
            assign(&app, &admin, &sid, &alex).await;
        } else if i < 10 {
            assign(&app, &admin, &sid, &bea).await;
        }
        ids.push(sid);
    }
    app.create_tenant("other", &[]).await;
    let (_, foreign) = app.start_session("other", "Eve").await;
    let base = micros("2026-03-28T20:00:00Z");
    let hour = 3_600_000_000_i64;
    let sec = 1_000_000_i64;
    let mut statements = Vec::new();
    for (i, sid) in ids.iter().enumerate().take(10) {
        let i = i as i64;
        let created = base + i * hour;
        // First answers after 10, 20 … 100 s (business: half of it);
        // every other one closed after 60, 180 … 540 s.
        let resolved = if i % 2 == 0 {
            format!(
                "resolved_at = {}, resolution_business = {}",
                created + (i + 1) * 60 * sec,
                (i + 1) * 30 * sec
            )
        } else {
            "resolved_at = NULL, resolution_business = NULL".to_owned()
        };
        statements.push(format!(
            "UPDATE chat_sessions SET created_at = {created}, first_response_at = {}, \
             first_response_business = {}, {resolved} WHERE id = '{sid}'",
            created + (i + 1) * 10 * sec,
            (i + 1) * 5 * sec,
        ));
    }
    statements.push(format!(
        "UPDATE chat_sessions SET created_at = {} WHERE id = '{}'",
        micros("2026-03-29T21:30:00Z"),
        ids[10]
    ));
    statements.push(format!(
        "UPDATE chat_sessions SET created_at = {} WHERE id = '{}'",
        micros("2026-03-29T22:30:00Z"),
        ids[11]
    ));
    statements.push(format!(
        "UPDATE chat_sessions SET created_at = {base} WHERE id = '{foreign}'"
    ));
    statements.push(format!(
        "UPDATE chat_sessions SET rating_score = 5 WHERE id = '{}'",
        ids[0]
    ));
    statements.push(format!(
        "UPDATE chat_sessions SET rating_score = 2 WHERE id = '{}'",
        ids[7]
    ));
    sql(&app, &statements).await;

    let (code, r) = report(&app, &admin, "?from=2026-03-28&to=2026-03-30").await;
    assert_eq!(code, StatusCode::OK, "{r}");
    let r = &r["report"];
    let figures = |f: &Value| {
        [
            "conversations",
            "first_response_p50_secs",
            "first_response_p90_secs",
            "first_response_business_p50_secs",
            "first_response_business_p90_secs",
            "resolution_p50_secs",
            "resolution_p90_secs",
            "resolution_business_p50_secs",
            "resolution_business_p90_secs",
            "rating_average",
            "rating_count",
        ]
        .map(|k| f[k].clone())
    };
    assert_eq!(
        figures(&r["totals"]),
        [
            json!(12),
            json!(50.0),
            json!(90.0),
            json!(25.0),
            json!(45.0),
            json!(300.0),
            json!(540.0),
            json!(150.0),
            json!(270.0),
            json!(3.5),
            json!(2)
        ]
    );
    assert_eq!(r["totals"]["assigned"], 10);
    let agents = r["agents"].as_array().cloned().unwrap_or_default();
    assert_eq!(agents.len(), 2);
    assert_eq!(agents[0]["agent_id"], json!(alex.id));
    assert_eq!(
        figures(&agents[0])[..3],
        [json!(6), json!(30.0), json!(60.0)]
    );
    assert_eq!(agents[1]["agent_id"], json!(bea.id));
    assert_eq!(
        figures(&agents[1])[..3],
        [json!(4), json!(80.0), json!(100.0)]
    );
    // Days by the Berlin clock: three on the 28th, eight on the 29th, the
    // last (00:30 summer time) on the 30th.
    let days: Vec<(Value, Value, Value)> = r["days"]
        .as_array()
        .map(|d| {
            d.iter()
                .map(|x| {
                    (
                        x["date"].clone(),
                        x["conversations"].clone(),
                        x["first_response_p50_secs"].clone(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(
        days,
        vec![
            (json!("2026-03-28"), json!(3), json!(20.0)),
            (json!("2026-03-29"), json!(8), json!(70.0)),
            (json!("2026-03-30"), json!(1), Value::Null),
        ]
    );
    // The period's edges are local midnights.
    let (_, one) = report(&app, &admin, "?from=2026-03-30&to=2026-03-30").await;
    assert_eq!(one["report"]["totals"]["conversations"], 1);
    let (_, bea_only) = report(
        &app,
        &admin,
        &format!("?from=2026-03-28&to=2026-03-30&agent_id={}", bea.id),
    )
    .await;
    assert_eq!(bea_only["report"]["totals"]["conversations"], 4);
    assert_eq!(bea_only["report"]["totals"]["rating_average"], 2.0);
}

#[tokio::test]
async fn bad_report_requests_get_clear_errors() {
    let (app, admin, _alex, _bea) = setup().await;
    for (query, field) in [
        ("?from=yesterday", "from"),
        ("?to=2026-13-01", "to"),
        ("?from=2026-02-01&to=2026-01-01", "from"),
        ("?from=2024-01-01&to=2026-01-01", "to"),
        ("?format=xml", "format"),
        ("?agent_id=not%20an%20id", "agent_id"),
    ] {
        let (code, body) = report(&app, &admin, query).await;
        assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{query}: {body}");
        assert_eq!(
            body["error"]["code"], "validation_failed",
            "{query}: {body}"
        );
        assert_eq!(body["error"]["field"], field, "{query}: {body}");
    }
    let res = app.get("/api/v1/reports/summary").await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}
