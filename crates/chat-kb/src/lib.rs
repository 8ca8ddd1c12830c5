//! The built-in knowledge-base bot: BM25 ranking with English stemming over
//! titles, keywords and bodies, a confidence threshold, and an answer that
//! quotes the best article's most relevant passage. Works offline.

use std::collections::{HashMap, HashSet};

use async_trait::async_trait;
use chat_domain::{Article, BotAnswer, BotQuestion, Responder, ResponderError};
use rust_stemmers::{Algorithm, Stemmer};

const STOPWORDS: &[&str] = &[
    "a", "about", "am", "an", "and", "any", "are", "as", "at", "be", "been", "but", "by", "can",
    "could", "do", "does", "for", "from", "get", "got", "had", "has", "have", "hello", "hi", "how",
    "i", "if", "in", "is", "it", "its", "just", "me", "my", "need", "of", "on", "or", "our",
    "please", "should", "so", "that", "the", "their", "there", "this", "to", "u", "us", "was",
    "we", "what", "when", "where", "which", "who", "why", "will", "with", "would", "you", "your",
    "want", "hey", "thanks", "thank", "know", "tell", "im", "ive", "id",
    // Pieces of contractions once apostrophes are split off.
    "t", "s", "d", "m", "ll", "re", "ve", "didn", "don", "doesn", "isn", "wasn", "won", "can",
    "couldn", "haven",
];

/// Bonus for a multi-word keyword that the question contains verbatim
/// ("where is my order"): such phrases are the strongest signal there is.
const PHRASE_BONUS: f64 = 3.0;
const MIN_CORPUS: f64 = 20.0;
/// Words no article contains weigh half in the coverage: they are often
/// filler the stop list missed, but a question made mostly of them is about
/// something else.
const UNKNOWN_WEIGHT: f64 = 0.5;

/// Field weights: a word in the title or keywords says more than one in
/// the body.
const TITLE_WEIGHT: f64 = 3.0;
const KEYWORD_WEIGHT: f64 = 3.0;
const K1: f64 = 1.2;
const B: f64 = 0.75;

pub struct Analyzer {
    stemmer: Stemmer,
    stop: HashSet<&'static str>,
}

impl Default for Analyzer {
    fn default() -> Self {
        Self {
            stemmer: Stemmer::create(Algorithm::English),
            stop: STOPWORDS.iter().copied().collect(),
        }
    }
}

impl Analyzer {
    /// Lowercased, stop words dropped, stemmed.
    pub fn terms(&self, text: &str) -> Vec<String> {
        text.to_lowercase()
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty() && !self.stop.contains(w))
            .map(|w| self.stemmer.stem(w).into_owned())
            .collect()
    }

    /// Every word, stemmed, stop words kept: for phrase matching.
    pub fn words(&self, text: &str) -> Vec<String> {
        text.to_lowercase()
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(|w| self.stemmer.stem(w).into_owned())
            .collect()
    }
}

/// A ranked article.
#[derive(Debug, Clone)]
pub struct Hit<'a> {
    pub article: &'a Article,
    pub score: f64,
    /// Share of the question's weight (by idf) that the article matches.
    pub coverage: f64,
}

pub struct KnowledgeBase {
    analyzer: Analyzer,
    /// Minimum BM25 score of the best article.
    pub min_score: f64,
    /// Minimum share of the question the best article must cover.
    pub min_coverage: f64,
}

impl Default for KnowledgeBase {
    fn default() -> Self {
        Self {
            analyzer: Analyzer::default(),
            min_score: 2.0,
            min_coverage: 0.45,
        }
    }
}

impl KnowledgeBase {
    /// Every article that matches at all, best first.
    pub fn rank<'a>(&self, question: &str, articles: &'a [Article]) -> Vec<Hit<'a>> {
        let query: Vec<String> = {
            let mut seen = HashSet::new();
            self.analyzer
                .terms(question)
                .into_iter()
                .filter(|t| seen.insert(t.clone()))
                .collect()
        };
        if query.is_empty() || articles.is_empty() {
            return Vec::new();
        }
        let docs: Vec<HashMap<String, f64>> =
            articles.iter().map(|a| self.weighted_terms(a)).collect();
        let lengths: Vec<f64> = docs.iter().map(|d| d.values().sum()).collect();
        let avg = lengths.iter().sum::<f64>() / lengths.len() as f64;
        // A small help centre would make every word look common; idf is
        // computed as if there were at least MIN_CORPUS articles, the others
        // not containing the term.
        let n = (docs.len() as f64).max(MIN_CORPUS);
        let idf: HashMap<&str, f64> = query
            .iter()
            .map(|t| {
                let df = docs.iter().filter(|d| d.contains_key(t)).count() as f64;
                (t.as_str(), (1.0 + (n - df + 0.5) / (df + 0.5)).ln())
            })
            .collect();
        let total_idf: f64 = query
            .iter()
            .map(|t| {
                let w = idf.get(t.as_str()).copied().unwrap_or(0.0);
                if docs.iter().any(|d| d.contains_key(t)) {
                    w
                } else {
                    w * UNKNOWN_WEIGHT
                }
            })
            .sum();
        let question_words = self.analyzer.words(question);
        let mut hits: Vec<Hit<'a>> = docs
            .iter()
            .zip(articles)
            .zip(&lengths)
            .filter_map(|((doc, article), len)| {
                let mut score = 0.0;
                let mut covered = 0.0;
                for t in &query {
                    let Some(tf) = doc.get(t) else { continue };
                    let w = idf.get(t.as_str()).copied().unwrap_or(0.0);
                    score += w * tf * (K1 + 1.0) / (tf + K1 * (1.0 - B + B * len / avg.max(1.0)));
                    covered += w;
                }
                let mut coverage = if total_idf > 0.0 {
                    covered / total_idf
                } else {
                    0.0
                };
                if self.has_phrase(&question_words, article) {
                    score += PHRASE_BONUS;
                    coverage = 1.0;
                }
                (score > 0.0).then_some(Hit {
                    article,
                    score,
                    coverage,
                })
            })
            .collect();
        hits.sort_by(|a, b| b.score.total_cmp(&a.score));
        hits
    }

    /// The best article if it clears the confidence threshold.
    pub fn best<'a>(&self, question: &str, articles: &'a [Article]) -> Option<Hit<'a>> {
        self.rank(question, articles)
            .into_iter()
            .next()
            .filter(|h| h.score >= self.min_score && h.coverage >= self.min_coverage)
    }

    fn has_phrase(&self, question: &[String], a: &Article) -> bool {
        a.keywords.iter().any(|k| {
            let phrase = self.analyzer.words(k);
            // Long enough to be specific: three words, or two content words
            // ("tracking number", not "how long").
            let specific =
                phrase.len() >= 3 || (phrase.len() == 2 && self.analyzer.terms(k).len() == 2);
            specific
                && question
                    .windows(phrase.len())
                    .any(|w| w == phrase.as_slice())
        })
    }

    fn weighted_terms(&self, a: &Article) -> HashMap<String, f64> {
        let mut tf: HashMap<String, f64> = HashMap::new();
        for t in self.analyzer.terms(&a.title) {
            *tf.entry(t).or_default() += TITLE_WEIGHT;
        }
        for k in &a.keywords {
            for t in self.analyzer.terms(k) {
                *tf.entry(t).or_default() += KEYWORD_WEIGHT;
            }
        }
        for t in self.analyzer.terms(&a.body) {
            *tf.entry(t).or_default() += 1.0;
        }
        tf
    }

    /// The one or two consecutive sentences of the body that share the most
    /// with the question.
    pub fn passage(&self, question: &str, body: &str) -> String {
        let q: HashSet<String> = self.analyzer.terms(question).into_iter().collect();
        let sentences: Vec<&str> = split_sentences(body);
        let overlap = |s: &str| {
            self.analyzer
                .terms(s)
                .iter()
                .filter(|t| q.contains(*t))
                .count()
        };
        let mut best = (0usize, 0usize, 1usize); // (overlap, start, len)
        for i in 0..sentences.len() {
            for len in 1..=2 {
                if i + len > sentences.len() {
                    continue;
                }
                let o: usize = sentences[i..i + len].iter().map(|s| overlap(s)).sum();
                if o > best.0 {
                    best = (o, i, len);
                }
            }
        }
        let (_, start, len) = best;
        sentences
            .get(start..start + len)
            .map(|s| s.join(" "))
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| body.chars().take(400).collect())
    }

    pub fn compose(&self, question: &str, hit: &Hit<'_>) -> String {
        let q: HashSet<String> = self.analyzer.terms(question).into_iter().collect();
        let title: HashSet<String> = self
            .analyzer
            .terms(&hit.article.title)
            .into_iter()
            .collect();
        // A question that is exactly the article's subject gets the article's
        // lead, which states the essentials; otherwise the best-matching
        // sentences.
        let passage = if !q.is_empty() && q.is_subset(&title) {
            split_sentences(&hit.article.body)
                .into_iter()
                .take(2)
                .collect::<Vec<_>>()
                .join(" ")
        } else {
            self.passage(question, &hit.article.body)
        };
        format!(
            "{passage}\n\n(From our help centre: “{}”)",
            hit.article.title
        )
    }
}

fn split_sentences(body: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let bytes: Vec<(usize, char)> = body.char_indices().collect();
    for (idx, (i, c)) in bytes.iter().enumerate() {
        let end_of_sentence = matches!(c, '.' | '!' | '?')
            && bytes.get(idx + 1).is_none_or(|(_, n)| n.is_whitespace());
        if end_of_sentence || *c == '\n' {
            let s = body[start..i + c.len_utf8()].trim();
            if !s.is_empty() {
                out.push(s);
            }
            start = i + c.len_utf8();
        }
    }
    let rest = body[start..].trim();
    if !rest.is_empty() {
        out.push(rest);
    }
    out
}

#[async_trait]
impl Responder for KnowledgeBase {
    async fn answer(&self, q: BotQuestion<'_>) -> Result<BotAnswer, ResponderError> {
        Ok(match self.best(q.question, q.articles) {
            Some(hit) => BotAnswer::Answer(self.compose(q.question, &hit)),
            None => BotAnswer::NotConfident,
        })
    }
}
