//! The built-in bot's retrieval over the demo help centre: paraphrased
//! questions must find the right article, unrelated ones nothing.

#![allow(
    clippy::expect_used,
    reason = "helpers outside #[test] functions fail loudly, naming the call"
)]

use chat_api::admin::parse_jsonl;
use chat_api::demo::HELP_CENTRE;
use chat_domain::{Article, Language, TenantId};

const EN: Language = Language::English;
use chat_kb::KnowledgeBase;

fn articles() -> Vec<Article> {
    parse_jsonl(HELP_CENTRE)
        .expect("parse_jsonl")
        .into_iter()
        .map(|a| Article {
            id: a.title.clone(),
            tenant_id: TenantId::new("demo"),
            title: a.title,
            body: a.body,
            keywords: a.keywords,
            draft: false,
            embedding: None,
            updated_at: chrono::Utc::now(),
        })
        .collect()
}

const QUESTIONS: &[(&str, &str)] = &[
    ("What are your opening hours?", "Opening hours"),
    ("When is your support team available?", "Opening hours"),
    ("Are you open on Sundays?", "Opening hours"),
    ("Can I reach you on the weekend?", "Opening hours"),
    ("How do I reset my password?", "Reset your password"),
    (
        "I forgot my password and can't sign in",
        "Reset your password",
    ),
    (
        "My account is locked after too many login attempts",
        "Reset your password",
    ),
    ("How long does delivery take?", "Shipping times and costs"),
    ("How much does shipping cost?", "Shipping times and costs"),
    ("Do you offer express delivery?", "Shipping times and costs"),
    ("Is shipping free?", "Shipping times and costs"),
    ("How can I return an item?", "Returns and refunds"),
    ("When will I get my refund?", "Returns and refunds"),
    ("I want my money back", "Returns and refunds"),
    ("Where is my order?", "Track your order"),
    ("How do I track my parcel?", "Track your order"),
    ("I didn't get a tracking number", "Track your order"),
    (
        "Can I change the delivery address of my order?",
        "Change your delivery address",
    ),
    (
        "I entered the wrong address",
        "Change your delivery address",
    ),
    ("Which payment methods do you accept?", "Payment methods"),
    ("Can I pay with PayPal?", "Payment methods"),
    ("Do you take American Express cards?", "Payment methods"),
    ("How do I cancel my order?", "Cancel an order"),
    (
        "I ordered by mistake, can I stop the order?",
        "Cancel an order",
    ),
    ("How can I delete my account?", "Delete your account"),
    (
        "What happens to my personal data if I close my account?",
        "Delete your account",
    ),
    ("Do you ship to the UK?", "International shipping"),
    (
        "Will I pay customs fees for delivery abroad?",
        "International shipping",
    ),
    (
        "Which countries do you deliver to?",
        "International shipping",
    ),
    ("My product arrived broken", "Warranty and repairs"),
    ("How long is the warranty?", "Warranty and repairs"),
    ("Can you repair a faulty item?", "Warranty and repairs"),
    (
        "How do I use a discount code?",
        "Discount codes and gift cards",
    ),
    (
        "Can I combine two promo codes?",
        "Discount codes and gift cards",
    ),
    (
        "How long is a gift card valid?",
        "Discount codes and gift cards",
    ),
];

#[test]
fn paraphrased_questions_find_the_right_article() {
    let articles = articles();
    let kb = KnowledgeBase::default();
    let mut misses = Vec::new();
    for (q, expected) in QUESTIONS {
        let got = kb.best(q, EN, &articles).map(|h| h.article.title.clone());
        if got.as_deref() != Some(*expected) {
            let top: Vec<_> = kb
                .rank(q, EN, &articles)
                .into_iter()
                .take(2)
                .map(|h| (h.article.title.clone(), h.score, h.coverage))
                .collect();
            println!("  ranked {q:?}: {top:?}");
            misses.push(format!("{q:?}: expected {expected:?}, got {got:?}"));
        }
    }
    let hits = QUESTIONS.len() - misses.len();
    let rate = hits as f64 / QUESTIONS.len() as f64;
    println!(
        "top-1 hit rate: {hits}/{} = {:.1}%",
        QUESTIONS.len(),
        rate * 100.0
    );
    for m in &misses {
        println!("  miss {m}");
    }
    assert!(QUESTIONS.len() >= 30);
    assert!(rate >= 0.9, "hit rate {rate:.2}: {misses:#?}");
}

#[test]
fn unrelated_questions_stay_below_the_threshold() {
    let articles = articles();
    let kb = KnowledgeBase::default();
    for q in [
        "What is the capital of Mongolia?",
        "Tell me a joke about penguins",
        "Is the stock market going up tomorrow?",
        "asdf qwerty",
        "Hello",
    ] {
        let best = kb.best(q, EN, &articles);
        assert!(
            best.is_none(),
            "{q:?} matched {:?}",
            best.map(|h| (h.article.title.clone(), h.score, h.coverage))
        );
    }
}

#[test]
fn the_answer_quotes_the_most_relevant_passage_and_names_the_article() {
    let articles = articles();
    let kb = KnowledgeBase::default();
    let q = "Are you open on Sundays?";
    let hit = kb
        .best(q, EN, &articles)
        .unwrap_or_else(|| panic!("no hit"));
    let answer = kb.compose(q, EN, &hit);
    assert!(answer.contains("closed on Sundays"), "{answer}");
    assert!(answer.contains("“Opening hours”"), "{answer}");
}

#[test]
fn a_question_that_is_the_articles_subject_gets_its_lead() {
    let articles = articles();
    let kb = KnowledgeBase::default();
    let q = "What are your opening hours?";
    let hit = kb
        .best(q, EN, &articles)
        .unwrap_or_else(|| panic!("no hit"));
    let answer = kb.compose(q, EN, &hit);
    assert!(
        answer.starts_with("Our support team is available Monday to Friday"),
        "{answer}"
    );
}
