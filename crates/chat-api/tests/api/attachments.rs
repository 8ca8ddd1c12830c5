//! Files in conversations on the local disk: upload from both sides,
//! sending, the events and views carrying them, capability downloads and
//! their headers, types from the bytes, the limits, and expiry.

use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

use crate::helpers::{TestAgent, TestApp, ok, spawn_app_with, without_request_limits};

/// A 3×2 PNG.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, b'I', b'H', b'D', b'R', 0, 0, 0,
    3, 0, 0, 0, 2, 8, 6, 0, 0, 0, 0x9d, 0x14, 0x1a, 0x2e, 0, 0, 0, 0, b'I', b'E', b'N', b'D', 0xae,
    0x42, 0x60, 0x82,
];

async fn upload(
    app: &TestApp,
    path: &str,
    token: Option<&str>,
    name: &str,
    bytes: Vec<u8>,
    claimed: &str,
) -> (StatusCode, Value) {
    let part = ok(Part::bytes(bytes)
        .file_name(name.to_owned())
        .mime_str(claimed));
    let mut req = app
        .client
        .post(format!("{}{path}", app.address))
        .multipart(Form::new().part("file", part));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let res = ok(req.send().await);
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn customer_upload(
    app: &TestApp,
    key: &str,
    name: &str,
    bytes: Vec<u8>,
    claimed: &str,
) -> (StatusCode, Value) {
    upload(
        app,
        &format!("/api/v1/public/chat/sessions/{key}/attachments"),
        None,
        name,
        bytes,
        claimed,
    )
    .await
}

async fn fetch(app: &TestApp, url: &str) -> reqwest::Response {
    ok(app.client.get(format!("{}{url}", app.address)).send().await)
}

struct Setup {
    app: TestApp,
    agent: TestAgent,
    key: String,
    session: String,
}

async fn setup() -> Setup {
    let app = spawn_app_with(without_request_limits).await;
    app.create_tenant("acme", &[]).await;
    app.create_tenant("globex", &[]).await;
    let agent = app.create_agent("acme", "alex@acme.test", "Alex").await;
    let (key, session) = app.start_session("acme", "Ada").await;
    Setup {
        app,
        agent,
        key,
        session,
    }
}

#[tokio::test]
async fn both_sides_upload_and_send_files_and_every_view_and_event_carries_them() {
    let s = setup().await;
    let mut agent_ws = s.app.agent_ws(&s.agent).await;
    let mut customer_ws = s.app.customer_ws(&s.key).await;

    let (code, up) = customer_upload(&s.app, &s.key, "photo.png", PNG.to_vec(), "image/png").await;
    assert_eq!(code, StatusCode::CREATED, "{up}");
    let a = &up["attachment"];
    assert_eq!(
        (
            &a["name"],
            &a["content_type"],
            &a["size"],
            &a["width"],
            &a["height"],
            &a["inline"]
        ),
        (
            &json!("photo.png"),
            &json!("image/png"),
            &json!(PNG.len()),
            &json!(3),
            &json!(2),
            &json!(true)
        )
    );
    let url = a["url"].as_str().unwrap_or_default().to_owned();
    let token = url.split('/').nth(4).unwrap_or_default();
    assert_eq!(token.len(), 64, "{url}: 256 random bits");

    // Sent with no text.
    let res = s
        .app
        .post_json(
            &format!("/api/v1/public/chat/sessions/{}/messages", s.key),
            &json!({ "attachment_ids": [a["id"]] }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let sent: Value = ok(res.json().await);
    assert_eq!(sent["message"]["attachments"][0]["url"], url.as_str());
    assert_eq!(sent["message"]["body"], "");
    let live = agent_ws.until("chat.message.new").await;
    assert_eq!(live["attachments"][0]["id"], a["id"]);
    assert_eq!(
        customer_ws.until("chat.message.new").await["attachments"][0]["url"],
        url.as_str()
    );
    // Sent once only.
    let again = s
        .app
        .post_json(
            &format!("/api/v1/public/chat/sessions/{}/messages", s.key),
            &json!({ "body": "again", "attachment_ids": [a["id"]] }),
        )
        .await;
    assert_eq!(again.status(), StatusCode::CONFLICT);

    // The agent's side, over the socket.
    let (code, doc) = upload(
        &s.app,
        &format!("/api/v1/chat/sessions/{}/attachments", s.session),
        Some(&s.agent.token),
        "notes.txt",
        b"plain words".to_vec(),
        "application/octet-stream",
    )
    .await;
    assert_eq!(code, StatusCode::CREATED, "{doc}");
    assert_eq!(doc["attachment"]["content_type"], "text/plain");
    agent_ws.send("chat.message.send", json!({ "session_id": s.session, "body": "see the file", "client_msg_id": "f1", "attachment_ids": [doc["attachment"]["id"]] })).await;
    let ack = agent_ws.until("chat.message.ack").await;
    assert_eq!(ack["message"]["attachments"][0]["name"], "notes.txt");
    assert_eq!(
        customer_ws.until("chat.message.new").await["attachments"][0]["name"],
        "notes.txt"
    );

    // History, the agents' file list and the transcript have them.
    let history = s.app.customer_messages(&s.key, 0).await;
    assert_eq!(
        history
            .iter()
            .map(|m| m["attachments"].as_array().map_or(0, Vec::len))
            .collect::<Vec<_>>(),
        [1, 1]
    );
    let files: Value = ok(s
        .app
        .agent_get(
            &s.agent.token,
            &format!("/api/v1/chat/sessions/{}/attachments", s.session),
        )
        .await
        .json()
        .await);
    assert_eq!(files["attachments"].as_array().map(Vec::len), Some(2));
    let (_, list) = (
        0,
        ok(s.app
            .agent_get(&s.agent.token, "/api/v1/chat/sessions")
            .await
            .json::<Value>()
            .await),
    );
    assert!(
        list["sessions"][0]["last_message_preview"]
            .as_str()
            .is_some_and(|p| p.contains("see the file")),
        "{list}"
    );
    let transcript = ok(ok(s
        .app
        .agent_get(
            &s.agent.token,
            &format!("/api/v1/chat/sessions/{}/transcript?format=json", s.session),
        )
        .await
        .json::<Value>()
        .await)
    .get("messages")
    .cloned()
    .ok_or(()));
    assert_eq!(transcript[0]["attachments"][0]["name"], "photo.png");
    let text = ok(ok(s
        .app
        .get(&format!(
            "/api/v1/public/chat/sessions/{}/transcript?format=txt",
            s.key
        ))
        .await
        .text()
        .await)
    .parse::<String>());
    assert!(
        text.contains(&format!("[file] photo.png ({} bytes) {url}", PNG.len())),
        "{text}"
    );
}

#[tokio::test]
async fn downloads_need_the_url_and_are_served_by_what_the_bytes_are() {
    let s = setup().await;
    // A PNG called .pdf, a .png holding HTML, an SVG.
    let (_, png) = customer_upload(
        &s.app,
        &s.key,
        "invoice.pdf",
        PNG.to_vec(),
        "application/pdf",
    )
    .await;
    let (_, html) = customer_upload(
        &s.app,
        &s.key,
        "cat.png",
        b"<!DOCTYPE html><script>alert(1)</script>".to_vec(),
        "image/png",
    )
    .await;
    let (_, svg) = customer_upload(
        &s.app,
        &s.key,
        "logo.svg",
        b"<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"/>".to_vec(),
        "image/svg+xml",
    )
    .await;
    assert_eq!(png["attachment"]["content_type"], "image/png");
    assert_eq!(html["attachment"]["content_type"], "text/html");
    assert_eq!(svg["attachment"]["content_type"], "image/svg+xml");

    let res = fetch(
        &s.app,
        png["attachment"]["url"].as_str().unwrap_or_default(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let h = res.headers().clone();
    assert_eq!(h["content-type"], "image/png");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["content-security-policy"], "default-src 'none'; sandbox");
    assert_eq!(
        h["content-disposition"],
        "inline; filename*=UTF-8''invoice.pdf"
    );
    assert_eq!(ok(res.bytes().await).as_ref(), PNG);

    for (up, name) in [(&html, "cat.png"), (&svg, "logo.svg")] {
        let res = fetch(&s.app, up["attachment"]["url"].as_str().unwrap_or_default()).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(
            res.headers()["content-disposition"],
            format!("attachment; filename*=UTF-8''{name}").as_str()
        );
        assert_eq!(res.headers()["x-content-type-options"], "nosniff");
        assert_eq!(
            res.headers()["content-security-policy"],
            "default-src 'none'; sandbox"
        );
        assert_eq!(up["attachment"]["inline"], false);
    }

    // Without the exact URL: 404 like a missing file.
    let url = png["attachment"]["url"].as_str().unwrap_or_default();
    let token = url.split('/').nth(4).unwrap_or_default();
    let flipped = format!(
        "{}{}",
        &token[..63],
        if token.ends_with('0') { '1' } else { '0' }
    );
    for bad in [
        url.replace(token, &flipped),
        "/api/v1/files/short/x".into(),
        format!("/api/v1/files/{}/x", "z".repeat(64)),
    ] {
        let res = fetch(&s.app, &bad).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{bad}");
        let e: Value = ok(res.json().await);
        assert_eq!(e["error"]["code"], "not_found");
    }
    // Another session's customer cannot send it, another tenant's agent
    // cannot list it.
    let (other_key, _) = s.app.start_session("acme", "Eve").await;
    let res = s
        .app
        .post_json(
            &format!("/api/v1/public/chat/sessions/{other_key}/messages"),
            &json!({ "attachment_ids": [png["attachment"]["id"]] }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let stranger = s.app.create_agent("globex", "gus@globex.test", "Gus").await;
    let res = s
        .app
        .agent_get(
            &stranger.token,
            &format!("/api/v1/chat/sessions/{}/attachments", s.session),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn limits_refuse_with_clear_errors_and_leave_nothing_behind() {
    let s = setup_with_max(1024).await;
    let (code, e) =
        customer_upload(&s.app, &s.key, "big.txt", vec![b'a'; 1025], "text/plain").await;
    assert_eq!(code, StatusCode::PAYLOAD_TOO_LARGE, "{e}");
    assert_eq!(e["error"]["code"], "payload_too_large");
    let (code, _) =
        customer_upload(&s.app, &s.key, "fits.txt", vec![b'a'; 1024], "text/plain").await;
    assert_eq!(code, StatusCode::CREATED);
    let (code, e) = customer_upload(
        &s.app,
        &s.key,
        "setup.png",
        b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xff\xff".to_vec(),
        "image/png",
    )
    .await;
    assert_eq!(code, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{e}");
    assert_eq!(e["error"]["code"], "unsupported_media_type");
    let (code, e) = customer_upload(&s.app, &s.key, "empty.txt", Vec::new(), "text/plain").await;
    assert!(code.is_client_error(), "{code}");
    assert!(e["error"]["code"].is_string());
    // Not a form, or the wrong field.
    let res = s
        .app
        .post_json(
            &format!("/api/v1/public/chat/sessions/{}/attachments", s.key),
            &json!({}),
        )
        .await;
    assert!(res.status().is_client_error());
    let form = Form::new().part("other", Part::bytes(b"x".to_vec()).file_name("x.txt"));
    let res = ok(s
        .app
        .client
        .post(format!(
            "{}/api/v1/public/chat/sessions/{}/attachments",
            s.app.address, s.key
        ))
        .multipart(form)
        .send()
        .await);
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    // Six on one message is too many.
    let res = s
        .app
        .post_json(
            &format!("/api/v1/public/chat/sessions/{}/messages", s.key),
            &json!({ "body": "x", "attachment_ids": ["a","b","c","d","e","f"] }),
        )
        .await;
    assert!(res.status().is_client_error());
    // Only the one that fit is on disk.
    assert_eq!(files_on_disk(&s.app.files_dir), 1);
}

async fn setup_with_max(max: u64) -> Setup {
    let app = spawn_app_with(move |s| {
        without_request_limits(s);
        s.attachments.max_bytes = max;
    })
    .await;
    app.create_tenant("acme", &[]).await;
    let agent = app.create_agent("acme", "alex@acme.test", "Alex").await;
    let (key, session) = app.start_session("acme", "Ada").await;
    Setup {
        app,
        agent,
        key,
        session,
    }
}

fn files_on_disk(dir: &std::path::Path) -> usize {
    fn walk(d: &std::path::Path, n: &mut usize) {
        for e in std::fs::read_dir(d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, n);
            } else {
                *n += 1;
            }
        }
    }
    let mut n = 0;
    walk(dir, &mut n);
    n
}

#[tokio::test]
async fn unsent_files_expire_after_a_day_and_sent_ones_stay() {
    let s = setup().await;
    let (_, kept) = customer_upload(&s.app, &s.key, "kept.png", PNG.to_vec(), "image/png").await;
    let (_, dropped) =
        customer_upload(&s.app, &s.key, "dropped.png", PNG.to_vec(), "image/png").await;
    let res = s
        .app
        .post_json(
            &format!("/api/v1/public/chat/sessions/{}/messages", s.key),
            &json!({ "body": "here", "attachment_ids": [kept["attachment"]["id"]] }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(files_on_disk(&s.app.files_dir), 2);
    // Not yet a day old: nothing goes.
    assert_eq!(
        ok(s.app
            .chat
            .expire_unsent_attachments(chrono::Utc::now())
            .await),
        0
    );
    let later = chrono::Utc::now() + chrono::Duration::hours(25);
    assert_eq!(ok(s.app.chat.expire_unsent_attachments(later).await), 1);
    assert_eq!(
        fetch(
            &s.app,
            dropped["attachment"]["url"].as_str().unwrap_or_default()
        )
        .await
        .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        fetch(
            &s.app,
            kept["attachment"]["url"].as_str().unwrap_or_default()
        )
        .await
        .status(),
        StatusCode::OK
    );
    assert_eq!(files_on_disk(&s.app.files_dir), 1);
    let res = s
        .app
        .post_json(
            &format!("/api/v1/public/chat/sessions/{}/messages", s.key),
            &json!({ "attachment_ids": [dropped["attachment"]["id"]] }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
}

#[tokio::test]
async fn deleting_a_conversation_or_a_customer_deletes_their_files() {
    let app = spawn_app_with(without_request_limits).await;
    app.create_tenant("acme", &[]).await;
    let admin = app
        .create_agent_with_role("acme", "boss@acme.test", "Boss", chat_domain::Role::Admin)
        .await;
    let agent = app.create_agent("acme", "alex@acme.test", "Alex").await;
    let mut urls = Vec::new();
    let mut sessions = Vec::new();
    for name in ["Ada", "Bo"] {
        let (key, id) = app.start_session("acme", name).await;
        let (_, up) = customer_upload(&app, &key, "a.png", PNG.to_vec(), "image/png").await;
        let res = app
            .post_json(
                &format!("/api/v1/public/chat/sessions/{key}/messages"),
                &json!({ "attachment_ids": [up["attachment"]["id"]] }),
            )
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
        urls.push(
            up["attachment"]["url"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        );
        sessions.push((key, id));
    }
    assert_eq!(files_on_disk(&app.files_dir), 2);
    let del = |who: &TestAgent, path: String| {
        let req = app
            .client
            .delete(format!("{}{path}", app.address))
            .bearer_auth(who.token.clone());
        async move { ok(req.send().await).status() }
    };
    assert_eq!(
        del(&agent, format!("/api/v1/chat/sessions/{}", sessions[0].1)).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        del(&admin, format!("/api/v1/chat/sessions/{}", sessions[0].1)).await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(fetch(&app, &urls[0]).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        app.agent_get(
            &admin.token,
            &format!("/api/v1/chat/sessions/{}", sessions[0].1)
        )
        .await
        .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get(&format!("/api/v1/public/chat/sessions/{}", sessions[0].0))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(files_on_disk(&app.files_dir), 1);
    assert_eq!(
        del(&admin, format!("/api/v1/chat/sessions/{}", sessions[0].1)).await,
        StatusCode::NOT_FOUND
    );

    let session: Value = ok(app
        .agent_get(
            &admin.token,
            &format!("/api/v1/chat/sessions/{}", sessions[1].1),
        )
        .await
        .json()
        .await);
    let customer = session["session"]["customer"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert_eq!(
        del(&admin, format!("/api/v1/customers/{customer}")).await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(fetch(&app, &urls[1]).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(files_on_disk(&app.files_dir), 0);
    assert_eq!(
        del(&admin, format!("/api/v1/customers/{customer}")).await,
        StatusCode::NOT_FOUND
    );
}

/// moto in server mode, started for one test: a real S3-compatible server.
struct S3Server {
    url: String,
    _child: std::process::Child,
}

impl S3Server {
    async fn start(bucket: &str) -> Self {
        use std::io::BufRead;
        let python = std::env::var("CHAT_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/s3_server.py");
        let mut child = std::process::Command::new(&python)
            .arg(script)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {python} {script}: {e}"));
        let stdout = child.stdout.take().expect("moto's stdout");
        let line = tokio::task::spawn_blocking(move || {
            let mut line = String::new();
            let _ = std::io::BufReader::new(stdout).read_line(&mut line);
            line
        })
        .await
        .expect("reading moto's port");
        let port = line.trim().strip_prefix("PORT ").unwrap_or_else(|| {
            panic!("moto did not start (is `moto[server]` installed for {python}? scripts/test.sh sets CHAT_TEST_PYTHON): {line:?}")
        });
        let url = format!("http://127.0.0.1:{port}");
        let made = ok(reqwest::Client::new()
            .put(format!("{url}/{bucket}"))
            .send()
            .await);
        assert!(
            made.status().is_success(),
            "creating the bucket: {}",
            made.status()
        );
        Self { url, _child: child }
    }

    /// The keys stored in the bucket.
    async fn keys(&self, bucket: &str) -> usize {
        let body = ok(
            ok(reqwest::get(format!("{}/{bucket}?list-type=2", self.url)).await)
                .text()
                .await,
        );
        body.matches("<Key>").count()
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self._child.kill();
        let _ = self._child.wait();
    }
}

#[tokio::test]
async fn on_an_s3_compatible_server_files_are_stored_served_limited_expired_and_deleted() {
    let s3 = S3Server::start("parley-files").await;
    let endpoint = s3.url.clone();
    let app = spawn_app_with(move |s| {
        without_request_limits(s);
        s.attachments.max_bytes = 64 * 1024;
        s.attachments.s3.bucket = Some("parley-files".into());
        s.attachments.s3.endpoint = Some(endpoint);
        s.attachments.s3.region = Some("us-east-1".into());
        s.attachments.s3.access_key_id = Some("testing".into());
        s.attachments.s3.secret_access_key = Some("testing".to_owned().into());
    })
    .await;
    app.create_tenant("acme", &[]).await;
    let admin = app
        .create_agent_with_role("acme", "boss@acme.test", "Boss", chat_domain::Role::Admin)
        .await;
    let (key, session) = app.start_session("acme", "Ada").await;

    let (code, up) = customer_upload(&app, &key, "photo.png", PNG.to_vec(), "image/png").await;
    assert_eq!(code, StatusCode::CREATED, "{up}");
    let res = app
        .post_json(
            &format!("/api/v1/public/chat/sessions/{key}/messages"),
            &json!({ "attachment_ids": [up["attachment"]["id"]] }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let got = fetch(&app, up["attachment"]["url"].as_str().unwrap_or_default()).await;
    assert_eq!(got.status(), StatusCode::OK);
    assert_eq!(got.headers()["content-type"], "image/png");
    assert_eq!(ok(got.bytes().await).as_ref(), PNG);
    // Larger than a part of the first read, under the limit: streamed up.
    let (code, big) =
        customer_upload(&app, &key, "log.txt", vec![b'x'; 60 * 1024], "text/plain").await;
    assert_eq!(code, StatusCode::CREATED, "{big}");
    assert_eq!(s3.keys("parley-files").await, 2);
    // Over the limit: refused, nothing left in the bucket.
    let (code, _) = customer_upload(
        &app,
        &key,
        "huge.txt",
        vec![b'x'; 64 * 1024 + 1],
        "text/plain",
    )
    .await;
    assert_eq!(code, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(s3.keys("parley-files").await, 2);
    // The unsent one expires; deleting the conversation takes the rest.
    assert_eq!(
        ok(app
            .chat
            .expire_unsent_attachments(chrono::Utc::now() + chrono::Duration::hours(25))
            .await),
        1
    );
    assert_eq!(s3.keys("parley-files").await, 1);
    let res = ok(app
        .client
        .delete(format!("{}/api/v1/chat/sessions/{session}", app.address))
        .bearer_auth(&admin.token)
        .send()
        .await);
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(s3.keys("parley-files").await, 0);
    assert_eq!(
        fetch(&app, up["attachment"]["url"].as_str().unwrap_or_default())
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn ten_mebibytes_and_one_byte_is_refused_by_default_and_a_session_holds_a_bounded_number() {
    let app = spawn_app_with(|s| {
        without_request_limits(s);
        s.attachments.max_per_session = 2;
    })
    .await;
    app.create_tenant("acme", &[]).await;
    let (key, _) = app.start_session("acme", "Ada").await;
    let (code, e) = customer_upload(
        &app,
        &key,
        "big.txt",
        vec![b'a'; 10 * 1024 * 1024 + 1],
        "text/plain",
    )
    .await;
    assert_eq!(code, StatusCode::PAYLOAD_TOO_LARGE, "{e}");
    assert_eq!(e["error"]["code"], "payload_too_large");
    assert_eq!(files_on_disk(&app.files_dir), 0, "nothing stored");
    for i in 0..2 {
        let (code, _) =
            customer_upload(&app, &key, &format!("{i}.txt"), b"x".to_vec(), "text/plain").await;
        assert_eq!(code, StatusCode::CREATED);
    }
    let (code, e) = customer_upload(&app, &key, "third.txt", b"x".to_vec(), "text/plain").await;
    assert_eq!(code, StatusCode::PAYLOAD_TOO_LARGE, "{e}");
    assert!(
        e["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("at most 2 files")),
        "{e}"
    );
    assert_eq!(files_on_disk(&app.files_dir), 2);
}
