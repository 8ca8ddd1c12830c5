//! Outgoing email against a real SMTP server (aiosmtpd, started by each
//! test): agents' replies the customer did not receive, batched and
//! emailed once with a link back into the conversation, transcripts on
//! close, unsubscribing, agents away, and nothing sent twice across a
//! restart.

use std::path::PathBuf;
use std::time::Instant;

use reqwest::{Method, StatusCode};
use secrecy::SecretString;
use serde_json::{Value, json};

use crate::helpers::{
    PATIENCE, TestAgent, TestApp, ok, spawn_app_with, spawn_node_on, without_request_limits,
};

/// aiosmtpd on a free port, storing what it accepts as files.
struct SmtpSink {
    port: u16,
    dir: PathBuf,
    child: std::process::Child,
}

/// One email as the server received it.
#[derive(Debug)]
struct Mail {
    to: String,
    subject: String,
    headers: Vec<(String, String)>,
    text: String,
    html: String,
}

impl Mail {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The first URL in the text part that starts with `prefix`.
    fn link(&self, prefix: &str) -> String {
        let at = self
            .text
            .find(prefix)
            .unwrap_or_else(|| panic!("no {prefix} link in {}", self.text));
        self.text[at..]
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_owned()
    }
}

impl SmtpSink {
    async fn start() -> Self {
        use std::io::BufRead;
        let python = std::env::var("CHAT_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/smtp_server.py");
        let dir = std::env::temp_dir().join(format!("chat-test-mail-{}", uuid::Uuid::now_v7()));
        let mut child = std::process::Command::new(&python)
            .arg(script)
            .arg(&dir)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {python} {script}: {e}"));
        let stdout = child.stdout.take().expect("the SMTP server's stdout");
        let line = tokio::task::spawn_blocking(move || {
            let mut line = String::new();
            let _ = std::io::BufReader::new(stdout).read_line(&mut line);
            line
        })
        .await
        .expect("reading the SMTP server's port");
        let port = line
            .trim()
            .strip_prefix("PORT ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| {
                panic!("aiosmtpd did not start (is it installed for {python}? scripts/test.sh sets CHAT_TEST_PYTHON): {line:?}")
            });
        Self { port, dir, child }
    }

    fn configure(&self, s: &mut chat_api::configuration::Settings) {
        without_request_limits(s);
        s.smtp.url = Some(SecretString::from(format!(
            "smtp://127.0.0.1:{}?tls=none",
            self.port
        )));
        s.smtp.from = "Support <help@acme.test>".into();
        s.email.unseen_delay_secs = 1;
        s.email.poll_interval_ms = 50;
    }

    fn received(&self) -> Vec<Mail> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&self.dir)
            .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        files.retain(|p| p.extension().is_some_and(|e| e == "eml"));
        files.sort();
        files
            .iter()
            .map(|p| {
                let raw = ok(std::fs::read(p));
                let parsed = ok(mailparse::parse_mail(&raw));
                let part = |mime: &str| {
                    parsed
                        .subparts
                        .iter()
                        .find(|s| s.ctype.mimetype == mime)
                        .map(|s| ok(s.get_body()))
                        .unwrap_or_default()
                };
                let headers: Vec<(String, String)> = parsed
                    .headers
                    .iter()
                    .map(|h| (h.get_key(), h.get_value()))
                    .collect();
                let get = |k: &str| {
                    headers
                        .iter()
                        .find(|(n, _)| n.eq_ignore_ascii_case(k))
                        .map(|(_, v)| v.clone())
                        .unwrap_or_default()
                };
                Mail {
                    to: get("X-Envelope-To"),
                    subject: get("Subject"),
                    text: part("text/plain"),
                    html: part("text/html"),
                    headers,
                }
            })
            .collect()
    }

    /// Waits until `n` emails have arrived (failing after the patience).
    async fn wait_for(&self, n: usize) -> Vec<Mail> {
        let until = Instant::now() + PATIENCE;
        loop {
            let got = self.received();
            if got.len() >= n {
                return got;
            }
            assert!(
                Instant::now() < until,
                "{n} emails expected, {} arrived: {got:?}",
                got.len()
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A conversation of a customer who left their address, on `page`,
/// assigned to `agent`; returns (key, id).
async fn conversation(
    app: &TestApp,
    name: &str,
    email: &str,
    agent: &TestAgent,
) -> (String, String) {
    let res = app
        .post_json(
            "/api/v1/public/chat/sessions",
            &json!({ "tenant_id": "acme", "customer": { "name": name, "email": email },
                     "context": { "page_url": "https://shop.test/help?topic=orders#chat" } }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let body: Value = ok(res.json().await);
    let (key, id) = (
        body["session_key"].as_str().unwrap_or_default().to_owned(),
        body["session"]["id"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    );
    let res = app
        .agent_post(
            &agent.token,
            &format!("/api/v1/chat/sessions/{id}/assign"),
            None,
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    (key, id)
}

async fn setup(sink: &SmtpSink) -> (TestApp, TestAgent) {
    let app = spawn_app_with(|s| sink.configure(s)).await;
    app.create_tenant("acme", &[]).await;
    let alex = app.create_agent("acme", "alex@acme.test", "Alex").await;
    (app, alex)
}

#[tokio::test]
async fn unseen_replies_are_emailed_once_in_one_email_with_a_link_back_that_works_once_per_browser()
{
    let sink = SmtpSink::start().await;
    let (app, alex) = setup(&sink).await;
    let (old_key, sid) = conversation(&app, "Ann", "ann@example.com", &alex).await;
    app.post_message(&old_key, "Where is my parcel?", None)
        .await;
    app.agent_message(&alex, &sid, "It left our warehouse today.")
        .await;
    app.agent_message(&alex, &sid, "Here is the <tracking> number: 42")
        .await;

    let mail = sink.wait_for(1).await;
    let m = &mail[0];
    assert_eq!(m.to, "ann@example.com");
    assert_eq!(m.subject, "acme: 2 replies to your conversation");
    assert!(
        m.text.contains("It left our warehouse today."),
        "{}",
        m.text
    );
    assert!(m.text.contains("Here is the <tracking> number: 42"));
    assert!(!m.text.contains("Where is my parcel?"), "only the replies");
    assert!(
        m.html.contains("Here is the &lt;tracking&gt; number: 42"),
        "{}",
        m.html
    );
    assert!(!m.html.contains("<img"), "no tracking pixels");
    let unsubscribe = m.link("http://127.0.0.1");
    assert_eq!(
        m.header("List-Unsubscribe"),
        Some(format!("<{unsubscribe}>").as_str())
    );
    assert_eq!(
        m.header("List-Unsubscribe-Post"),
        Some("List-Unsubscribe=One-Click")
    );

    // The link: the page the chat started on, with the token.
    let link = m.link("https://shop.test/help");
    let token = link
        .split_once("?topic=orders&parley_resume=")
        .map(|(_, t)| t.to_owned())
        .unwrap_or_else(|| panic!("the link keeps the page's query: {link}"));
    let res = app
        .post_json("/api/v1/public/chat/resume", &json!({ "token": token }))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let resumed: Value = ok(res.json().await);
    assert_eq!(resumed["session"]["id"], json!(sid));
    let key = resumed["session_key"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let history = app.customer_messages(&key, 0).await;
    assert_eq!(history.len(), 3);
    // The browser keeps the new key; the one before stops working.
    let res = app
        .get(&format!("/api/v1/public/chat/sessions/{old_key}"))
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    // A forged or altered token opens nothing.
    for bad in [
        format!("{token}0"),
        token.replacen("r.", "u.", 1),
        "r.x.y.99999999999.00".to_owned(),
    ] {
        let res = app
            .post_json("/api/v1/public/chat/resume", &json!({ "token": bad }))
            .await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{bad}");
    }

    // A reply the customer receives is not emailed: read it at once.
    let sent = app.agent_message(&alex, &sid, "Anything else?").await;
    let seq = sent["message"]["seq"].as_i64().unwrap_or_default();
    let res = app
        .post_json(
            &format!("/api/v1/public/chat/sessions/{key}/read"),
            &json!({ "seq": seq }),
        )
        .await;
    assert!(res.status().is_success(), "{}", res.status());
    // The agent closes with the transcript: the next email is that.
    let (code, v) = app
        .call(
            &alex,
            Method::POST,
            &format!("/api/v1/chat/sessions/{sid}/close"),
            Some(json!({ "send_transcript": true })),
        )
        .await;
    assert_eq!(code, StatusCode::OK, "{v}");
    let mail = sink.wait_for(2).await;
    assert_eq!(mail.len(), 2, "the read reply was not emailed: {mail:?}");
    let t = &mail[1];
    assert_eq!(t.subject, "acme: the transcript of your conversation");
    for line in [
        "Where is my parcel?",
        "It left our warehouse today.",
        "Anything else?",
    ] {
        assert!(t.text.contains(line), "{line}: {}", t.text);
    }
}

#[tokio::test]
async fn nothing_is_sent_twice_across_a_restart_and_an_unsubscribed_customer_gets_nothing() {
    let sink = SmtpSink::start().await;
    let (first, alex) = setup(&sink).await;
    let (_, sid) = conversation(&first, "Ann", "ann@example.com", &alex).await;
    first.agent_message(&alex, &sid, "First reply").await;
    let mail = sink.wait_for(1).await;
    assert!(mail[0].text.contains("First reply"));
    let unsubscribe = mail[0].link("http://127.0.0.1");

    // The node stops; another takes over the same database.
    first.stopper.stop().await;
    let second = spawn_node_on(&first, |s| sink.configure(s)).await;
    second.agent_message(&alex, &sid, "Second reply").await;
    let mail = sink.wait_for(2).await;
    assert!(mail[1].text.contains("Second reply"), "{}", mail[1].text);
    assert!(!mail[1].text.contains("First reply"), "{}", mail[1].text);

    // Unsubscribing: the page, and the one-click POST mail clients send
    // (to the node that runs now: links are signed with a key every node
    // shares).
    let path = &unsubscribe[unsubscribe.find("/api/").unwrap_or_default()..];
    let unsubscribe = format!("{}{path}", second.address);
    let res = ok(second.client.get(&unsubscribe).send().await);
    assert_eq!(res.status(), StatusCode::OK);
    assert!(ok(res.text().await).contains("You are unsubscribed"));
    let res = ok(second.client.post(&unsubscribe).send().await);
    assert_eq!(res.status(), StatusCode::OK);
    let res = ok(second
        .client
        .get(format!(
            "{}/api/v1/public/email/unsubscribe?token=u.nobody.00",
            second.address
        ))
        .send()
        .await);
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    second.agent_message(&alex, &sid, "Third reply").await;
    let (code, _) = second
        .call(
            &alex,
            Method::POST,
            &format!("/api/v1/chat/sessions/{sid}/close"),
            Some(json!({ "send_transcript": true })),
        )
        .await;
    assert_eq!(code, StatusCode::OK);
    // Another customer's transcript is the fence: once it is here, Ann's
    // would have been too.
    let (bob_key, bob) = conversation(&second, "Bob", "bob@example.com", &alex).await;
    second.post_message(&bob_key, "Hi", None).await;
    let res = second
        .post_json(
            &format!("/api/v1/public/chat/sessions/{bob_key}/close"),
            &json!({ "send_transcript": true }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let mail = sink.wait_for(3).await;
    assert_eq!(mail.len(), 3, "{mail:?}");
    assert_eq!(mail[2].to, "bob@example.com");
    assert!(mail[2].subject.contains("transcript"));
    let _ = bob;
}

#[tokio::test]
async fn agents_away_are_emailed_a_conversation_given_to_them_unless_they_turned_it_off() {
    let sink = SmtpSink::start().await;
    let (app, alex) = setup(&sink).await;
    let admin = app
        .create_agent_with_role("acme", "boss@acme.test", "Boss", chat_domain::Role::Admin)
        .await;
    let bea = app.create_agent("acme", "bea@acme.test", "Bea").await;
    let carl = app.create_agent("acme", "carl@acme.test", "Carl").await;
    let _alex_online = app.agent_ws(&alex).await;
    let (code, v) = app
        .call(&bea, Method::GET, "/api/v1/agents/me/notifications", None)
        .await;
    assert_eq!(code, StatusCode::OK, "{v}");
    assert_eq!(
        v,
        json!({ "notifications": { "email_when_offline": true } })
    );

    let give = |to: &TestAgent| {
        let (app, admin, to) = (&app, &admin, to.clone());
        async move {
            let (_, sid) = app.start_session("acme", "Cleo").await;
            let (code, v) = app
                .call(
                    admin,
                    Method::POST,
                    &format!("/api/v1/chat/sessions/{sid}/assign"),
                    Some(json!({ "agent_id": to.id })),
                )
                .await;
            assert_eq!(code, StatusCode::OK, "{v}");
            sid
        }
    };
    // Alex is online: no email. Bea is away: one, with the link.
    give(&alex).await;
    let sid = give(&bea).await;
    let mail = sink.wait_for(1).await;
    assert_eq!(mail[0].to, "bea@acme.test");
    assert_eq!(mail[0].subject, "acme: Cleo is waiting for you");
    assert!(
        mail[0].text.contains(&format!("/?session={sid}")),
        "{}",
        mail[0].text
    );
    assert_eq!(mail[0].header("List-Unsubscribe"), None);

    let (code, v) = app
        .call(
            &bea,
            Method::PUT,
            "/api/v1/agents/me/notifications",
            Some(json!({ "email_when_offline": false })),
        )
        .await;
    assert_eq!(code, StatusCode::OK, "{v}");
    let (code, v) = app
        .call(
            &bea,
            Method::PUT,
            "/api/v1/agents/me/notifications",
            Some(json!({ "email_when_offline": "no" })),
        )
        .await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    give(&bea).await;
    // Carl is away too and has it on: his email is the fence.
    give(&carl).await;
    let mail = sink.wait_for(2).await;
    assert_eq!(mail.len(), 2, "{mail:?}");
    assert_eq!(mail[1].to, "carl@acme.test");
}

#[tokio::test]
async fn the_settings_say_whether_email_is_on_and_conversations_in_quiet_hours_are_flagged() {
    let sink = SmtpSink::start().await;
    let (app, alex) = setup(&sink).await;
    let (code, v) = app
        .call(&alex, Method::GET, "/api/v1/settings/email", None)
        .await;
    assert_eq!(code, StatusCode::OK, "{v}");
    assert_eq!(
        v,
        json!({ "email": { "enabled": true, "from": "Support <help@acme.test>", "unseen_delay_secs": 1 } })
    );
    // Nobody online: flagged. Alex online (and no business hours set):
    // not flagged.
    let (_, quiet) = app.start_session("acme", "Night owl").await;
    let _ws = app.agent_ws(&alex).await;
    let (_, busy) = app.start_session("acme", "Day bird").await;
    for (sid, offline) in [(quiet, true), (busy, false)] {
        let (code, v) = app
            .call(
                &alex,
                Method::GET,
                &format!("/api/v1/chat/sessions/{sid}"),
                None,
            )
            .await;
        assert_eq!(code, StatusCode::OK, "{v}");
        assert_eq!(v["session"]["offline"], offline, "{v}");
    }

    let plain = spawn_app_with(without_request_limits).await;
    plain.create_tenant("acme", &[]).await;
    let agent = plain.create_agent("acme", "a@acme.test", "A").await;
    let (code, v) = plain
        .call(&agent, Method::GET, "/api/v1/settings/email", None)
        .await;
    assert_eq!(code, StatusCode::OK, "{v}");
    assert_eq!(
        v,
        json!({ "email": { "enabled": false, "from": null, "unseen_delay_secs": null } })
    );
    let res = plain
        .post_json(
            "/api/v1/public/chat/resume",
            &json!({ "token": "r.a.b.1.00" }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = plain.get("/api/v1/public/email/unsubscribe").await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn two_nodes_sending_at_once_send_each_email_once() {
    let sink = SmtpSink::start().await;
    let (first, alex) = setup(&sink).await;
    let second = spawn_node_on(&first, |s| sink.configure(s)).await;
    // Replies on both nodes, to five customers who are not there.
    for i in 0..5 {
        let app = if i % 2 == 0 { &first } else { &second };
        let (_, sid) =
            conversation(app, &format!("C{i}"), &format!("c{i}@example.com"), &alex).await;
        app.agent_message(&alex, &sid, &format!("Reply to C{i}"))
            .await;
    }
    let mail = sink.wait_for(5).await;
    // A transcript queued after them is the fence: once it is here, any
    // second copy of the five would have been too.
    let (key, _) = conversation(&second, "Fence", "fence@example.com", &alex).await;
    second.post_message(&key, "bye", None).await;
    let res = second
        .post_json(
            &format!("/api/v1/public/chat/sessions/{key}/close"),
            &json!({ "send_transcript": true }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let all = sink.wait_for(6).await;
    let mut to: Vec<&str> = all.iter().map(|m| m.to.as_str()).collect();
    to.sort_unstable();
    assert_eq!(
        to,
        vec![
            "c0@example.com",
            "c1@example.com",
            "c2@example.com",
            "c3@example.com",
            "c4@example.com",
            "fence@example.com"
        ],
        "{mail:?}"
    );
}
