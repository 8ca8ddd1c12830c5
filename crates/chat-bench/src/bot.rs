//! `bot`: the knowledge-base bot on a tenant with many articles. The demo
//! tenant gets `articles` help-centre articles through the API (the demo's
//! own and generated ones, so the ranker has a realistic vocabulary and
//! every article its stored vectors), the bot in `knowledge_base` mode;
//! then customers ask the evaluation set's questions one at a time, each in
//! a fresh conversation with its socket open. Measured from just before
//! the POST: the POST's answer (the customer's own ack) and the bot's
//! message (answer or hand-off) arriving on the customer's socket.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use futures_util::StreamExt;
use serde_json::{Value, json};

use crate::client::{Http, customer_request};
use crate::scenarios::{Report, progress};
use crate::server::Server;
use crate::stats::{HEADER, summarize};

pub struct Bot {
    pub articles: usize,
    pub questions: usize,
}

const QUESTIONS: &str = include_str!("../../chat-kb/eval/questions.jsonl");
const HELP_CENTRE: &str = include_str!("../../chat-api/demo/help-centre.jsonl");

const PRODUCTS: &[&str] = &[
    "kettle",
    "toaster",
    "blender",
    "coffee machine",
    "vacuum cleaner",
    "hair dryer",
    "headphones",
    "speaker",
    "smartwatch",
    "e-reader",
    "desk lamp",
    "air purifier",
    "rice cooker",
    "juicer",
    "electric toothbrush",
    "baby monitor",
    "router",
    "printer",
    "webcam",
    "keyboard",
];
const TOPICS: &[(&str, &str)] = &[
    (
        "Setting up your {p}",
        "Unpack the {p} and remove every protective film. Plug it in and hold the power button for three seconds until the light turns white. The {p} then walks you through pairing with the app. If the light blinks red, the {p} needs charging first.",
    ),
    (
        "Cleaning and care for the {p}",
        "Unplug the {p} before you clean it. Wipe the outside with a soft damp cloth; never put the {p} in the dishwasher. Descale or dust it once a month to keep it working well. Dry every part before you use it again.",
    ),
    (
        "Troubleshooting the {p}",
        "If the {p} does not turn on, check the socket and the fuse. A reset usually helps: hold the power and minus buttons together for ten seconds. If the {p} still fails, note the error code on the display. Our team can then tell you whether it needs a repair.",
    ),
    (
        "Spare parts for the {p}",
        "Spare parts for the {p} such as filters, lids and cables are sold in our shop under Accessories. Each part lists the models it fits. Parts ship within two working days. Older models are supported for seven years after their release.",
    ),
    (
        "Firmware updates for the {p}",
        "The {p} updates itself overnight when it is connected to Wi-Fi. You can also start an update from the app under Device settings. Do not unplug the {p} while the light pulses blue. Release notes for every version are on our website.",
    ),
];

fn article(i: usize) -> Value {
    let product = PRODUCTS[i % PRODUCTS.len()];
    let (title, body) = TOPICS[(i / PRODUCTS.len()) % TOPICS.len()];
    // Past 100 (products x topics) the same text under a model number:
    // long-tail articles that share most of their words.
    let model = i / (PRODUCTS.len() * TOPICS.len());
    let p = if model == 0 {
        product.to_owned()
    } else {
        format!("{product} model {model}")
    };
    json!({
        "title": title.replace("{p}", &p),
        "body": body.replace("{p}", &p),
        "keywords": [product],
    })
}

pub async fn bot(bin: &std::path::Path, cpu: Option<&str>, p: Bot) -> Result<Report> {
    let server = Server::start(bin, None, cpu).await?;
    let result = run(&server, &p).await;
    server.stop();
    result
}

async fn run(server: &Server, p: &Bot) -> Result<Report> {
    let http = Http::new(&server.url)?;
    let token = http.login("agent@demo.com", "Test@1234").await?;
    let put = |path: &str, body: Value| {
        http.client
            .put(format!("{}{path}", http.base))
            .bearer_auth(&token)
            .json(&body)
            .send()
    };
    put("/api/v1/bot", json!({ "mode": "knowledge_base" }))
        .await?
        .error_for_status()?;
    let existing: Value = http
        .client
        .get(format!("{}/api/v1/kb/articles", http.base))
        .bearer_auth(&token)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let have = existing["articles"].as_array().map_or(0, Vec::len);
    let demo: Vec<Value> = HELP_CENTRE
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()?;
    let saving = Instant::now();
    for i in have..p.articles {
        let body = if have == 0 && i < demo.len() {
            demo[i].clone()
        } else {
            article(i)
        };
        let res = http
            .client
            .post(format!("{}/api/v1/kb/articles", http.base))
            .bearer_auth(&token)
            .json(&body)
            .send()
            .await?;
        if res.status().as_u16() != 201 {
            bail!("saving article {i}: {}", res.status());
        }
        progress("saving articles", i + 1, p.articles);
    }
    eprintln!();
    let save_ms = saving.elapsed().as_secs_f64() * 1000.0 / p.articles.max(1) as f64;

    let questions: Vec<String> = QUESTIONS
        .lines()
        .filter(|l| !l.trim().is_empty())
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter_map(|q| q["question"].as_str().map(str::to_owned))
        .collect();
    if questions.is_empty() {
        bail!("no questions");
    }
    let ws_base = server.url.replace("http://", "ws://");
    let mut acks = Vec::new();
    let mut answers = Vec::new();
    let mut answered = 0;
    for i in 0..p.questions {
        let q = &questions[i % questions.len()];
        let (key, _) = http.start_session("demo-tenant").await?;
        let (mut ws, _) = crate::client::connect(customer_request(&ws_base, &key)?).await?;
        let started = Instant::now();
        http.client
            .post(format!(
                "{}/api/v1/public/chat/sessions/{key}/messages",
                http.base
            ))
            .json(&json!({ "body": q, "client_msg_id": format!("q{i}") }))
            .send()
            .await?
            .error_for_status()?;
        acks.push(started.elapsed().as_micros() as u64);
        let bot = tokio::time::timeout(Duration::from_secs(10), async {
            while let Some(frame) = ws.next().await {
                let frame = frame?;
                let Ok(text) = frame.to_text() else { continue };
                let v: Value = serde_json::from_str(text).unwrap_or_default();
                if v["type"] == "chat.message.new" && v["payload"]["sender_type"] == "bot" {
                    return anyhow::Ok(v);
                }
            }
            bail!("the socket closed before the bot spoke")
        })
        .await
        .context("no bot message within 10 s")??;
        answers.push(started.elapsed().as_micros() as u64);
        if bot["payload"]["body"]
            .as_str()
            .is_some_and(|b| b.contains("(From our help centre"))
        {
            answered += 1;
        }
        progress("asking", i + 1, p.questions);
    }
    eprintln!();
    let ack = summarize(acks);
    let answer = summarize(answers);
    let markdown = format!(
        "### bot: the knowledge-base bot on a tenant with {} articles (SQLite)\n\n\
         Articles saved through the API, vectors included: {save_ms:.1} ms each. {} questions \
         of the evaluation set, one at a time, each in a new conversation with its socket \
         open; {answered} answered from an article, the rest handed off. From just before the \
         POST:\n\n{HEADER}\n{}\n{}\n",
        p.articles,
        p.questions,
        ack.row("the customer's ack (POST answered)"),
        answer.row("the bot's message on the socket"),
    );
    Ok(Report {
        json: json!({
            "scenario": "bot",
            "articles": p.articles,
            "questions": p.questions,
            "answered": answered,
            "save_ms_per_article": save_ms,
            "ack": ack,
            "bot_message": answer,
        }),
        markdown,
    })
}
