//! Full-text search: `GET /api/v1/search/messages` and the inbox's `?q=`,
//! through each database's own index.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{TestAgent, TestApp, ok, spawn_app_with, without_request_limits};

async fn search(app: &TestApp, agent: &TestAgent, query: &str) -> Value {
    let res = app
        .agent_get(&agent.token, &format!("/api/v1/search/messages?{query}"))
        .await;
    assert_eq!(res.status(), StatusCode::OK, "{query}");
    ok(res.json().await)
}

fn bodies(v: &Value) -> Vec<String> {
    v["hits"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|h| h["message"]["body"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

fn q(raw: &str) -> String {
    format!("q={}", urlencode(raw))
}

fn urlencode(raw: &str) -> String {
    raw.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

struct Fixture {
    app: TestApp,
    ann: TestAgent,
    gus: TestAgent,
    acme_sid: String,
}

async fn fixture() -> Fixture {
    let app = spawn_app_with(without_request_limits).await;
    app.create_tenant("acme", &[]).await;
    app.create_tenant("globex", &[]).await;
    let ann = app.create_agent("acme", "a@acme.test", "Ann").await;
    let gus = app.create_agent("globex", "g@globex.test", "Gus").await;
    let (key, acme_sid) = app.start_session("acme", "Ada").await;
    for body in [
        "Where is my refund for the kettle?",
        "The delivery was late and the box was damaged",
        "Refunds take five days",
        "late night delivery please",
        "100% sure about the invoice_number",
    ] {
        assert_eq!(
            app.post_message(&key, body, None).await.status(),
            StatusCode::CREATED
        );
    }
    let (other, _) = app.start_session("globex", "Gus's customer").await;
    app.post_message(&other, "globex refund kettle secret", None)
        .await;
    Fixture {
        app,
        ann,
        gus,
        acme_sid,
    }
}

#[tokio::test]
async fn words_prefixes_and_phrases_match_within_the_tenant_only() {
    let f = fixture().await;
    let hits = search(&f.app, &f.ann, &q("kettle")).await;
    assert_eq!(bodies(&hits), vec!["Where is my refund for the kettle?"]);
    let hit = &hits["hits"][0];
    assert_eq!(hit["session"]["id"], f.acme_sid.as_str());
    assert_eq!(hit["message"]["seq"], 1);
    assert_eq!(
        hit["snippet"],
        "Where is my refund for the <mark>kettle</mark>?"
    );

    // A prefix: newest first.
    let hits = search(&f.app, &f.ann, &q("refun*")).await;
    assert_eq!(
        bodies(&hits),
        vec![
            "Refunds take five days",
            "Where is my refund for the kettle?"
        ]
    );
    // Every word must match; case does not matter.
    let hits = search(&f.app, &f.ann, &q("DELIVERY damaged")).await;
    assert_eq!(
        bodies(&hits),
        vec!["The delivery was late and the box was damaged"]
    );
    // A phrase needs its words in order.
    let hits = search(&f.app, &f.ann, &q("\"late delivery\"")).await;
    assert!(bodies(&hits).is_empty(), "{hits}");
    let hits = search(&f.app, &f.ann, &q("\"night delivery\"")).await;
    assert_eq!(bodies(&hits), vec!["late night delivery please"]);

    // The other tenant finds its own message only.
    let hits = search(&f.app, &f.gus, &q("kettle")).await;
    assert_eq!(bodies(&hits), vec!["globex refund kettle secret"]);
    let hits = search(&f.app, &f.ann, &q("secret")).await;
    assert!(bodies(&hits).is_empty());
}

#[tokio::test]
async fn pages_follow_the_cursor_and_filters_apply() {
    let f = fixture().await;
    let first = search(&f.app, &f.ann, &format!("{}&limit=1", q("refun*"))).await;
    assert_eq!(bodies(&first), vec!["Refunds take five days"]);
    let cursor = first["next_cursor"].as_str().unwrap_or_default().to_owned();
    assert!(!cursor.is_empty(), "{first}");
    let second = search(
        &f.app,
        &f.ann,
        &format!("{}&limit=1&cursor={}", q("refun*"), urlencode(&cursor)),
    )
    .await;
    assert_eq!(bodies(&second), vec!["Where is my refund for the kettle?"]);
    assert!(second["next_cursor"].is_null(), "{second}");

    // Status, assignee and time filters.
    let closed = search(&f.app, &f.ann, &format!("{}&status=closed", q("kettle"))).await;
    assert!(bodies(&closed).is_empty());
    let pending = search(
        &f.app,
        &f.ann,
        &format!("{}&status=pending&assigned=unassigned", q("kettle")),
    )
    .await;
    assert_eq!(bodies(&pending).len(), 1);
    let mine = search(&f.app, &f.ann, &format!("{}&assigned=me", q("kettle"))).await;
    assert!(bodies(&mine).is_empty());
    let future = search(&f.app, &f.ann, &format!("{}&from=2999-01-01", q("kettle"))).await;
    assert!(bodies(&future).is_empty());
    let past = search(
        &f.app,
        &f.ann,
        &format!("{}&to=2000-01-01T00:00:00Z", q("kettle")),
    )
    .await;
    assert!(bodies(&past).is_empty());
    let window = search(
        &f.app,
        &f.ann,
        &format!("{}&from=2000-01-01&to=2999-01-01", q("kettle")),
    )
    .await;
    assert_eq!(bodies(&window).len(), 1);

    // The inbox's `q` finds conversations by their messages, too.
    let res = f
        .app
        .agent_get(
            &f.ann.token,
            &format!("/api/v1/chat/sessions?{}", q("damaged")),
        )
        .await;
    let list: Value = ok(res.json().await);
    assert_eq!(list["sessions"].as_array().map(Vec::len), Some(1));
    assert_eq!(list["sessions"][0]["id"], f.acme_sid.as_str());
    let res = f
        .app
        .agent_get(
            &f.ann.token,
            &format!("/api/v1/chat/sessions?{}", q("secret")),
        )
        .await;
    let list: Value = ok(res.json().await);
    assert_eq!(list["sessions"].as_array().map(Vec::len), Some(0));
}

#[tokio::test]
async fn query_syntax_of_like_or_the_indexes_is_inert() {
    let f = fixture().await;
    for raw in [
        "%",
        "_",
        "%%",
        "' OR 1=1 --",
        "\"",
        "*",
        "NEAR(refund kettle)",
        "refund OR secret",
        "a:* | b",
        "+secret -x",
        "\\",
    ] {
        let hits = search(&f.app, &f.ann, &q(raw)).await;
        for body in bodies(&hits) {
            assert!(!body.contains("secret"), "{raw:?} crossed tenants");
        }
    }
    // Wildcards of LIKE or the indexes alone match nothing.
    for raw in ["%", "_", "%%", "\"", "*", "\\", "' --"] {
        let hits = search(&f.app, &f.ann, &q(raw)).await;
        assert!(bodies(&hits).is_empty(), "{raw:?}: {hits}");
    }
    let inbox = f
        .app
        .agent_get(&f.ann.token, &format!("/api/v1/chat/sessions?{}", q("%")))
        .await;
    assert_eq!(inbox.status(), StatusCode::OK);
    let list: Value = ok(inbox.json().await);
    assert_eq!(list["sessions"].as_array().map(Vec::len), Some(0), "{list}");

    for bad in [
        "".to_owned(),
        q(""),
        q(&"x".repeat(201)),
        format!("{}&cursor=nonsense", q("kettle")),
        format!("{}&from=yesterday", q("kettle")),
        format!("{}&from=2030-01-01&to=2020-01-01", q("kettle")),
        format!("{}&status=nope", q("kettle")),
        format!("{}&limit=x", q("kettle")),
    ] {
        let res = f
            .app
            .agent_get(&f.ann.token, &format!("/api/v1/search/messages?{bad}"))
            .await;
        assert!(res.status().is_client_error(), "{bad}: {}", res.status());
        let e: Value = ok(res.json().await);
        assert!(e["error"]["code"].is_string(), "{bad}: {e}");
    }
    let res = f.app.get("/api/v1/search/messages?q=kettle").await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}
