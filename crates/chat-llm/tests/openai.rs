//! The real client code path against a local stand-in that speaks the
//! OpenAI wire format: an answer, a hand-off, a 500 and a timeout.

#![allow(
    clippy::expect_used,
    reason = "helpers outside #[test] functions fail loudly, naming the call"
)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chat_domain::{Article, BotAnswer, BotQuestion, Responder, TenantId};
use chat_llm::{LlmSettings, OpenAiResponder};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

#[derive(Clone, Copy)]
enum Behaviour {
    Answer,
    Handoff,
    ServerError,
    Slow,
}

/// Serves one behaviour; records the request bodies it received.
async fn stand_in(behaviour: Behaviour) -> (String, Arc<Mutex<Vec<Value>>>) {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("TcpListener::bind");
    let url = format!("http://{}", listener.local_addr().expect("local_addr"));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let record = record.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                let body = loop {
                    let Ok(n) = sock.read(&mut chunk).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    let text = String::from_utf8_lossy(&buf).to_string();
                    if let Some(end) = text.find("\r\n\r\n") {
                        let len: usize = text[..end]
                            .lines()
                            .find_map(|l| {
                                l.to_ascii_lowercase()
                                    .strip_prefix("content-length:")
                                    .map(|v| v.trim().parse().unwrap_or(0))
                            })
                            .unwrap_or(0);
                        if buf.len() >= end + 4 + len {
                            break buf[end + 4..end + 4 + len].to_vec();
                        }
                    }
                };
                if let Ok(v) = serde_json::from_slice::<Value>(&body) {
                    record.lock().unwrap_or_else(|p| p.into_inner()).push(v);
                }
                let (status, content) = match behaviour {
                    Behaviour::Answer => (
                        "200 OK",
                        "We are open Monday to Friday, 8:00 to 20:00 (Opening hours).",
                    ),
                    Behaviour::Handoff => ("200 OK", "HANDOFF"),
                    Behaviour::ServerError => ("500 Internal Server Error", ""),
                    Behaviour::Slow => {
                        tokio::time::sleep(Duration::from_secs(5)).await;
                        ("200 OK", "too late")
                    }
                };
                let json = serde_json::json!({
                    "id": "chatcmpl-1", "object": "chat.completion",
                    "choices": [{ "index": 0, "message": { "role": "assistant", "content": content }, "finish_reason": "stop" }]
                })
                .to_string();
                let reply = format!(
                    "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{json}",
                    json.len()
                );
                let _ = sock.write_all(reply.as_bytes()).await;
            });
        }
    });
    (url, seen)
}

fn articles() -> Vec<Article> {
    let a = |title: &str, body: &str| Article {
        id: title.into(),
        tenant_id: TenantId::new("t"),
        title: title.into(),
        body: body.into(),
        keywords: vec![],
        draft: false,
        embedding: None,
        updated_at: chrono::Utc::now(),
    };
    vec![
        a(
            "Opening hours",
            "Our support team is open Monday to Friday from 8:00 to 20:00.",
        ),
        a(
            "Returns",
            "You can return any item within 30 days of delivery.",
        ),
    ]
}

fn responder(url: &str, timeout_ms: u64) -> OpenAiResponder {
    OpenAiResponder::new(LlmSettings {
        base_url: url.into(),
        model: "test-model".into(),
        api_key: Some("sk-test".into()),
        timeout: Duration::from_millis(timeout_ms),
        max_tokens: 200,
        passages: 3,
    })
    .expect("OpenAiResponder::new")
}

fn question<'a>(q: &'a str, articles: &'a [Article]) -> BotQuestion<'a> {
    BotQuestion {
        bot_name: "Assistant",
        question: q,
        recent: &[],
        articles,
        language: chat_domain::Language::English,
    }
}

#[tokio::test]
async fn an_answer_is_grounded_in_the_best_passages() {
    let (url, seen) = stand_in(Behaviour::Answer).await;
    let arts = articles();
    let answer = responder(&url, 2000)
        .answer(question("when are you open?", &arts))
        .await;
    assert!(
        matches!(answer, Ok(BotAnswer::Answer(ref t)) if t.contains("Monday to Friday")),
        "{answer:?}"
    );
    let requests = seen.lock().unwrap_or_else(|p| p.into_inner()).clone();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0]["model"], "test-model");
    let system = requests[0]["messages"][0]["content"]
        .as_str()
        .unwrap_or_default();
    assert!(
        system.contains("Opening hours") && system.contains("HANDOFF"),
        "{system}"
    );
    assert_eq!(requests[0]["messages"][1]["content"], "when are you open?");
}

#[tokio::test]
async fn handoff_from_the_model_means_not_confident() {
    let (url, _) = stand_in(Behaviour::Handoff).await;
    let arts = articles();
    let answer = responder(&url, 2000)
        .answer(question("when are you open?", &arts))
        .await;
    assert_eq!(answer, Ok(BotAnswer::NotConfident));
}

#[tokio::test]
async fn a_server_error_is_an_error_for_the_caller_to_fall_back_on() {
    let (url, _) = stand_in(Behaviour::ServerError).await;
    let arts = articles();
    let answer = responder(&url, 2000)
        .answer(question("when are you open?", &arts))
        .await;
    assert!(
        matches!(answer, Err(ref e) if e.0.contains("500")),
        "{answer:?}"
    );
}

#[tokio::test]
async fn a_slow_model_times_out_within_the_configured_limit() {
    let (url, _) = stand_in(Behaviour::Slow).await;
    let arts = articles();
    let started = std::time::Instant::now();
    let answer = responder(&url, 300)
        .answer(question("when are you open?", &arts))
        .await;
    assert!(answer.is_err(), "{answer:?}");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "waited {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_question_unrelated_to_any_article_never_reaches_the_model() {
    let (url, seen) = stand_in(Behaviour::Answer).await;
    let arts = articles();
    let answer = responder(&url, 2000)
        .answer(question("quantum chromodynamics", &arts))
        .await;
    assert_eq!(answer, Ok(BotAnswer::NotConfident));
    assert!(seen.lock().unwrap_or_else(|p| p.into_inner()).is_empty());
}
