//! The knowledge-base bot against its evaluation sets (`eval/`): top-1
//! accuracy, wrong answers and hand-offs on every set, over the demo help
//! centre. The figures are printed; the assertions hold the bot to the
//! targets on the sets it has been tuned on, since the held-out set is for
//! reporting only. `CHAT_KB_EVAL=full` prints the seen sets' misses too.

#![allow(
    clippy::expect_used,
    reason = "the test's own files fail loudly, naming the file"
)]

use chat_domain::{Article, Language, TenantId};
use chat_kb::KnowledgeBase;
use serde_json::Value;

struct Question {
    text: String,
    article: Option<String>,
    half: String,
}

fn load(path: &str) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{path}: {e}: {l}")))
        .collect()
}

fn articles() -> Vec<Article> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../chat-api/demo/help-centre.jsonl"
    );
    load(path)
        .iter()
        .enumerate()
        .map(|(i, a)| Article {
            id: format!("a{i}"),
            tenant_id: TenantId::new("demo"),
            title: a["title"].as_str().unwrap_or_default().to_owned(),
            body: a["body"].as_str().unwrap_or_default().to_owned(),
            keywords: a["keywords"]
                .as_array()
                .map(|k| {
                    k.iter()
                        .filter_map(|x| x.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default(),
            draft: false,
            embedding: None,
            updated_at: chrono::Utc::now(),
        })
        .collect()
}

fn questions(file: &str) -> Vec<Question> {
    load(&format!("{}/eval/{file}", env!("CARGO_MANIFEST_DIR")))
        .iter()
        .map(|q| Question {
            text: q["question"].as_str().unwrap_or_default().to_owned(),
            article: q["article"].as_str().map(str::to_owned),
            half: q["half"].as_str().unwrap_or_default().to_owned(),
        })
        .collect()
}

#[derive(Debug, Default)]
struct Figures {
    related: usize,
    right: usize,
    wrong: usize,
    handed_off: usize,
    unrelated: usize,
    unrelated_handed_off: usize,
}

impl Figures {
    fn pct(n: usize, of: usize) -> f64 {
        if of == 0 {
            0.0
        } else {
            100.0 * n as f64 / of as f64
        }
    }

    fn line(&self, half: &str) -> String {
        format!(
            "{half}: top-1 {:.1}% ({}/{}), wrong {:.1}%, handed off {:.1}%; unrelated handed off {:.1}% ({}/{})",
            Self::pct(self.right, self.related),
            self.right,
            self.related,
            Self::pct(self.wrong, self.related),
            Self::pct(self.handed_off, self.related),
            Self::pct(self.unrelated_handed_off, self.unrelated),
            self.unrelated_handed_off,
            self.unrelated
        )
    }
}

fn evaluate(
    kb: &KnowledgeBase,
    articles: &[Article],
    questions: &[&Question],
    full: bool,
    dump: bool,
) -> Figures {
    let mut f = Figures::default();
    for q in questions {
        if dump {
            let top = kb.rank(&q.text, Language::English, articles);
            for (i, h) in top.iter().enumerate() {
                println!(
                    "HIT\t{}\t{i}\t{}\t{:.4}\t{:.4}\t{:.4}\t{:.4}\t{:.4}\t{}",
                    q.text,
                    h.article.title,
                    h.lexical,
                    h.semantic,
                    h.coverage,
                    h.closest,
                    h.topic,
                    q.article.as_deref().unwrap_or("-")
                );
            }
            let h = top.first();
            let second = top.get(1).map_or(0.0, |h| h.score);
            println!(
                "DUMP\t{}\t{}\t{:.3}\t{:.3}\t{:.3}\t{:.3}\t{:.3}\t{:?}",
                match (&q.article, h) {
                    (Some(w), Some(h)) if *w == h.article.title => "right",
                    (None, _) => "unrelated",
                    _ => "wrongtop",
                },
                h.map_or("-", |h| h.article.title.as_str()),
                h.map_or(0.0, |h| h.score),
                h.map_or(0.0, |h| h.lexical),
                h.map_or(0.0, |h| h.semantic),
                h.map_or(0.0, |h| h.coverage),
                second,
                q.text
            );
        }
        let best = kb
            .best(&q.text, Language::English, articles)
            .map(|h| h.article.title.clone());
        match (&q.article, &best) {
            (Some(want), Some(got)) if want == got => {
                f.related += 1;
                f.right += 1;
            }
            (Some(want), Some(got)) => {
                f.related += 1;
                f.wrong += 1;
                if full {
                    println!("  wrong: {:?} → {got} (wanted {want})", q.text);
                }
            }
            (Some(want), None) => {
                f.related += 1;
                f.handed_off += 1;
                if full {
                    println!("  handed off: {:?} (wanted {want})", q.text);
                }
            }
            (None, None) => {
                f.unrelated += 1;
                f.unrelated_handed_off += 1;
            }
            (None, Some(got)) => {
                f.unrelated += 1;
                if full {
                    println!("  answered unrelated: {:?} → {got}", q.text);
                }
            }
        }
    }
    f
}

/// The sets, in the order they were written. `dev` and `held_out`
/// (`questions.jsonl`) were split before any tuning; every later file was
/// written and committed before the change whose figure it gave, run once
/// for that figure, and is tuning data since. The last set is the held-out
/// one: its figure is printed, never its misses, and tuning (`dump`) does
/// not compute it.
const TUNING: [(&str, &str, &str); 13] = [
    ("questions.jsonl", "dev", "development"),
    (
        "questions.jsonl",
        "held_out",
        "held-out (tuning data since the first hybrid ranker's figure)",
    ),
    (
        "fresh.jsonl",
        "fresh",
        "fresh (tuning data since the tuned hybrid ranker's figure)",
    ),
    (
        "fresh2.jsonl",
        "fresh2",
        "fresh2 (tuning data since the transformer's first figure)",
    ),
    (
        "fresh3.jsonl",
        "fresh3",
        "fresh3 (tuning data since the two-best-cosines figure)",
    ),
    (
        "fresh4.jsonl",
        "fresh4",
        "fresh4 (tuning data since its figure for the same ranker)",
    ),
    (
        "fresh5.jsonl",
        "fresh5",
        "fresh5 (tuning data since its figure for the same ranker)",
    ),
    (
        "fresh6.jsonl",
        "fresh6",
        "fresh6 (tuning data since the uncovered topics' figure)",
    ),
    (
        "fresh7.jsonl",
        "fresh7",
        "fresh7 (tuning data since the stricter topic lead's figure)",
    ),
    (
        "fresh8.jsonl",
        "fresh8",
        "fresh8 (tuning data since its figure for the same ranker)",
    ),
    (
        "fresh9.jsonl",
        "fresh9",
        "fresh9 (tuning data since the wider topic list's figure)",
    ),
    (
        "fresh10.jsonl",
        "fresh10",
        "fresh10 (tuning data since the near topics' figure)",
    ),
    (
        "fresh11.jsonl",
        "fresh11",
        "fresh11 (tuning data since its figure for the ranker before the hubness)",
    ),
];
const HELD_OUT: (&str, &str, &str) = (
    "fresh12.jsonl",
    "fresh12",
    "fresh12 (held out; run once for the hubness correction's figure)",
);

#[test]
fn the_bot_on_its_evaluation_set() {
    let articles = articles();
    assert_eq!(articles.len(), 12);
    let set = |(file, half, _): (&str, &str, &str)| -> Vec<Question> {
        let all: Vec<Question> = questions(file)
            .into_iter()
            .filter(|q| q.half == half)
            .collect();
        assert!(all.len() >= 100, "{file} {half}: {} questions", all.len());
        for a in &articles {
            let about = all
                .iter()
                .filter(|q| q.article.as_deref() == Some(a.title.as_str()))
                .count();
            assert!(
                about >= 7,
                "{file} {half}: every article has its questions: {}",
                a.title
            );
        }
        all
    };
    let mode = std::env::var("CHAT_KB_EVAL").unwrap_or_default();
    let (full, dump) = (mode == "full", mode == "dump");
    let kb = KnowledgeBase::default();
    let mut seen = Vec::new();
    for sample in TUNING {
        let questions = set(sample);
        if dump {
            println!("SET\t{}", sample.1);
        }
        let figures = evaluate(
            &kb,
            &articles,
            &questions.iter().collect::<Vec<_>>(),
            full,
            dump,
        );
        println!("{}", figures.line(sample.2));
        seen.push((sample.2, figures));
    }
    let held_out = set(HELD_OUT);
    assert_eq!(held_out.iter().filter(|q| q.article.is_none()).count(), 24);
    if !dump {
        let figures = evaluate(
            &kb,
            &articles,
            &held_out.iter().collect::<Vec<_>>(),
            false,
            false,
        );
        println!("{}", figures.line(HELD_OUT.2));
    }
    // Unrelated questions over the seen sets together: one set has only 16
    // to 24, where a single near-miss is six points.
    let (unrelated, handed_off) = seen.iter().fold((0, 0), |(u, h), (_, f)| {
        (u + f.unrelated, h + f.unrelated_handed_off)
    });
    assert!(
        Figures::pct(handed_off, unrelated) >= 95.0,
        "unrelated questions answered: {handed_off} of {unrelated} handed off"
    );
    for (name, figures) in &seen {
        assert!(
            Figures::pct(figures.right, figures.related) >= 80.0,
            "top-1 fell: {}",
            figures.line(name)
        );
        assert!(
            Figures::pct(figures.wrong, figures.related) <= 5.0,
            "wrong answers rose: {}",
            figures.line(name)
        );
    }
}
