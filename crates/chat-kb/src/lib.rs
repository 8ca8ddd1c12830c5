//! The built-in knowledge-base bot: a hybrid ranker over a tenant's
//! articles. Its lexical half is BM25 over stemmed titles, keywords and
//! bodies, with the words customers use for the same thing (the lexicon)
//! and misspellings mapped to the words the articles use; its semantic
//! half is the sentence transformer all-MiniLM-L6-v2 run in-process, its
//! int8 weights compiled into the binary ([`embed`]), compared with vectors
//! computed when each article is saved.
//! A confident best article is quoted (its most relevant passage); an
//! unconfident one hands off, and the top three go to the agents as
//! suggestions. In English a question also hands off unless its best
//! article is clearly closer to it than any common support topic that none
//! of the tenant's articles covers (`lexicon/topics-en.txt`: store pick-up,
//! a phone number, instalments…), and an article sentence that reads like
//! many of those topics at once counts for less. Works offline, in the
//! tenant's language.

pub mod embed;
pub mod text;

use std::collections::hash_map::DefaultHasher;
use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use async_trait::async_trait;
use chat_domain::{
    Article, ArticleEmbedding, ArticleInput, BotAnswer, BotQuestion, BotSuggestion, Language,
    Responder, ResponderError,
};
use ndarray::{Array2, ArrayView2};
pub use text::Analyzer;

/// Bonus for a multi-word keyword that the question contains verbatim
/// ("where is my order"): such phrases are the strongest signal there is.
const PHRASE_BONUS: f64 = 3.0;
const MIN_CORPUS: f64 = 20.0;
/// Field weights: a word in the title or keywords says more than one in
/// the body.
const TITLE_WEIGHT: f64 = 3.0;
const KEYWORD_WEIGHT: f64 = 3.0;
const K1: f64 = 1.2;
const B: f64 = 0.75;
/// A lexicon word the question did not use itself weighs this much.
const RELATED_WEIGHT: f64 = 0.4;
/// At most this many sentences of an article get a vector of their own.
const MAX_SENTENCES: usize = 200;
/// Indexes kept (one per tenant and version of its articles).
const CACHE_SIZE: usize = 256;

/// Where the confidence lines lie. `score` mixes the two halves:
/// `lexical_weight * bm25 / (bm25 + lexical_half) + semantic_weight * cosine`.
#[derive(Debug, Clone, Copy)]
pub struct Thresholds {
    pub lexical_half: f64,
    pub lexical_weight: f64,
    pub semantic_weight: f64,
    /// The mix in a language the model was not trained on (German): the
    /// lexical half, which follows the tenant's language, carries more.
    pub other_lexical_weight: f64,
    pub other_semantic_weight: f64,
    /// The best article must reach this score to be quoted…
    pub answer: f64,
    /// …and lead the next one by this much: two articles that fit about
    /// equally well mean the question is unclear, and a person decides…
    pub margin: f64,
    /// …unless it reaches this score (a tie is never answered)…
    pub sure: f64,
    /// …and its closest sentence, less the question's cosine to the nearest
    /// topic the help centre does not cover, must reach this (negative: it
    /// may trail that topic by so much; English: `lexicon/topics-en.txt`).
    pub topic_lead: f64,
    /// A topic counts as covered when an article's title or sentence comes
    /// this close to it (cosine).
    pub topic_covered: f64,
    /// An uncovered topic that sits near the articles (its closest title or
    /// sentence above `topic_near`) weighs less, by `topic_near_weight`
    /// times the difference: a loose question about an article's subject
    /// ("how can I pay") lands about as close to a neighbouring topic the
    /// articles leave out ("pay later in instalments") as to the article,
    /// while a question about that topic itself lands much closer to it.
    pub topic_near: f64,
    pub topic_near_weight: f64,
    /// A sentence that reads like many common support topics at once
    /// ("You can also follow the parcel from the Orders page in your
    /// account" is close to ordering by phone, picking up an order, order
    /// history…) draws questions it does not answer: its cosines lose
    /// `hub_weight` times how far the mean of its `hub_neighbours` closest
    /// topics (covered or not) lies above `hub_base`, that mean for a
    /// typical help-centre sentence (0.31 over the demo's; a fixed line, so
    /// that a small help centre is not measured against itself); a sentence
    /// below it gains as much. English only, as the topics are.
    pub hub_neighbours: usize,
    pub hub_weight: f64,
    pub hub_base: f64,
    /// The answer line and the lead in a language without topics (German),
    /// where only those two decide.
    pub other_answer: f64,
    pub other_margin: f64,
    /// Agents are shown suggestions down to this score.
    pub suggest: f64,
    /// An agent's reply this close (cosine) to an article's passage is
    /// covered by it.
    pub covered: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            lexical_half: 6.0,
            lexical_weight: 0.2,
            semantic_weight: 0.8,
            other_lexical_weight: 0.6,
            other_semantic_weight: 0.4,
            answer: 0.28,
            margin: 0.02,
            sure: 0.45,
            topic_lead: -0.025,
            topic_covered: 0.5,
            topic_near: 0.35,
            topic_near_weight: 0.5,
            hub_neighbours: 20,
            hub_weight: 0.3,
            hub_base: 0.3,
            other_answer: 0.35,
            other_margin: 0.04,
            suggest: 0.2,
            covered: 0.75,
        }
    }
}

/// A ranked article.
#[derive(Debug, Clone)]
pub struct Hit<'a> {
    pub article: &'a Article,
    /// The two halves mixed, 0 to 1.
    pub score: f64,
    /// BM25 with the lexicon's words and the phrase bonus.
    pub lexical: f64,
    /// The mean of the two best cosines between the question and the
    /// article's title or its sentences: an article that says the thing
    /// twice beats one with a single sentence that happens to be close.
    pub semantic: f64,
    /// The best of those cosines alone.
    pub closest: f64,
    /// The question's cosine to the nearest topic that none of the
    /// tenant's articles covers (0 without topics); the same for every hit
    /// of a question.
    pub topic: f64,
    /// Share of the question's weight (by idf) that the article matches.
    pub coverage: f64,
    /// The most relevant passage of the body; empty below the
    /// suggestion line (`thresholds.suggest`), where nothing is quoted.
    pub passage: String,
}

struct Doc {
    terms: HashMap<String, f64>,
    len: f64,
    /// The specific keyword phrases, as stemmed words.
    phrases: Vec<Vec<String>>,
    sentences: Vec<String>,
    /// Title with keywords, then one per sentence.
    vectors: Vec<Vec<f32>>,
    /// What each vector's cosines lose for reading like many topics
    /// (`Thresholds::hub_weight`); empty where nothing is taken off.
    hubness: Vec<f64>,
    sentence_terms: Vec<HashSet<String>>,
}

/// A tenant's articles, analysed once per version of them.
struct Index {
    docs: Vec<Doc>,
    df: HashMap<String, usize>,
    avg_len: f64,
    /// Every word the articles use, for the spelling layer.
    known: HashSet<String>,
    /// The vectors of the topics none of the articles covers, each with
    /// what its nearness to the articles takes off a question's cosine.
    uncovered: Vec<(&'static [f32], f64)>,
}

pub struct KnowledgeBase {
    english: Analyzer,
    german: Analyzer,
    pub thresholds: Thresholds,
    cache: Mutex<HashMap<u64, Arc<Index>>>,
    /// The vectors of the last questions ranked off the async threads
    /// (`QUESTIONS_KEPT`), each computed once: a hand-off's suggestions
    /// reuse the vector its answer just computed, and two callers asking
    /// at once share one computation.
    questions: Mutex<VecDeque<(String, QuestionVector)>>,
}

type QuestionVector = Arc<tokio::sync::OnceCell<Option<Arc<Vec<f32>>>>>;

/// Question vectors kept (about 1.5 KB each).
const QUESTIONS_KEPT: usize = 64;

impl Default for KnowledgeBase {
    fn default() -> Self {
        Self {
            english: Analyzer::new(Language::English),
            german: Analyzer::new(Language::German),
            thresholds: Thresholds::default(),
            cache: Mutex::new(HashMap::new()),
            questions: Mutex::new(VecDeque::new()),
        }
    }
}

/// The vectors of an article, as stored with it.
pub fn embed_article(input: &ArticleInput) -> Option<ArticleEmbedding> {
    vectors(&input.title, &input.keywords, &input.body)
}

fn vectors(title: &str, keywords: &[String], body: &str) -> Option<ArticleEmbedding> {
    let model = embed::model()?;
    // The first article a process embeds (on a blocking thread, as every
    // article is) also embeds the topics, so no question waits for them.
    topic_vectors();
    let dims = model.dims();
    let head = format!("{title}. {}", keywords.join(", "));
    let mut vectors = model.embed(&head).unwrap_or_else(|| vec![0.0; dims]);
    for s in sentences(body) {
        vectors.extend(model.embed(s).unwrap_or_else(|| vec![0.0; dims]));
    }
    Some(ArticleEmbedding {
        model: embed::MODEL_ID.to_owned(),
        dims,
        vectors,
    })
}

/// Whether an article lacks vectors of this model (stored before vectors
/// were, or by another model): [`article_vectors`] computes them.
pub fn needs_vectors(a: &Article) -> bool {
    stored_vectors(a, sentences(&a.body).count() + 1).is_none()
}

/// The vectors of a stored article, computed afresh.
pub fn article_vectors(a: &Article) -> Option<ArticleEmbedding> {
    vectors(&a.title, &a.keywords, &a.body)
}

/// The sentences of a body that get vectors (and can be quoted).
fn sentences(body: &str) -> impl Iterator<Item = &str> {
    split_sentences(body).into_iter().take(MAX_SENTENCES)
}

impl KnowledgeBase {
    pub fn analyzer(&self, language: Language) -> &Analyzer {
        match language {
            Language::English => &self.english,
            Language::German => &self.german,
        }
    }

    fn index(&self, language: Language, articles: &[Article]) -> Arc<Index> {
        let mut h = DefaultHasher::new();
        language.hash(&mut h);
        for a in articles {
            a.id.hash(&mut h);
            a.updated_at.timestamp_micros().hash(&mut h);
            a.title.hash(&mut h);
            a.embedding.as_ref().map(|e| &e.model).hash(&mut h);
        }
        let key = h.finish();
        if let Some(index) = self.cache.lock().ok().and_then(|c| c.get(&key).cloned()) {
            return index;
        }
        let index = Arc::new(self.build(language, articles));
        if let Ok(mut c) = self.cache.lock() {
            if c.len() >= CACHE_SIZE {
                c.clear();
            }
            c.insert(key, index.clone());
        }
        index
    }

    fn build(&self, language: Language, articles: &[Article]) -> Index {
        let an = self.analyzer(language);
        let mut known = HashSet::new();
        let mut df: HashMap<String, usize> = HashMap::new();
        let mut docs: Vec<Doc> = articles
            .iter()
            .map(|a| {
                let mut terms: HashMap<String, f64> = HashMap::new();
                for t in an.terms(&a.title) {
                    *terms.entry(t).or_default() += TITLE_WEIGHT;
                }
                for k in &a.keywords {
                    for t in an.terms(k) {
                        *terms.entry(t).or_default() += KEYWORD_WEIGHT;
                    }
                }
                for t in an.terms(&a.body) {
                    *terms.entry(t).or_default() += 1.0;
                }
                for t in terms.keys() {
                    *df.entry(t.clone()).or_default() += 1;
                }
                for text in std::iter::once(&a.title)
                    .chain(&a.keywords)
                    .chain(std::iter::once(&a.body))
                {
                    known.extend(an.raw_words(text));
                }
                let sentences: Vec<String> = sentences(&a.body).map(str::to_owned).collect();
                let vectors = stored_vectors(a, sentences.len() + 1).unwrap_or_else(|| {
                    vectors(&a.title, &a.keywords, &a.body)
                        .and_then(|e| split_vectors(&e, sentences.len() + 1))
                        .unwrap_or_default()
                });
                Doc {
                    len: terms.values().sum(),
                    terms,
                    // Long enough to be specific: three words, or two
                    // content words ("tracking number", not "how long").
                    phrases: a
                        .keywords
                        .iter()
                        .map(|k| (an.words(k), an.terms(k).len()))
                        .filter(|(w, content)| w.len() >= 3 || (w.len() == 2 && *content == 2))
                        .map(|(w, _)| w)
                        .collect(),
                    sentence_terms: sentences
                        .iter()
                        .map(|s| an.terms(s).into_iter().collect())
                        .collect(),
                    sentences,
                    vectors,
                    hubness: Vec::new(),
                }
            })
            .collect();
        let avg_len = if docs.is_empty() {
            1.0
        } else {
            (docs.iter().map(|d| d.len).sum::<f64>() / docs.len() as f64).max(1.0)
        };
        let uncovered = match language {
            Language::English => topics(&mut docs, &self.thresholds),
            Language::German => Vec::new(),
        };
        Index {
            docs,
            df,
            avg_len,
            known,
            uncovered,
        }
    }

    /// Every article that relates at all, best first.
    pub fn rank<'a>(
        &self,
        question: &str,
        language: Language,
        articles: &'a [Article],
    ) -> Vec<Hit<'a>> {
        let Some((index, corrected)) = self.prepare(question, language, articles) else {
            return Vec::new();
        };
        let qvec = embed::model().and_then(|m| m.embed(&corrected));
        self.score(&index, &corrected, qvec.as_deref(), language, articles)
    }

    /// As [`KnowledgeBase::rank`], with the question's vector computed on
    /// a blocking thread: the transformer takes milliseconds, which must
    /// not hold up the sockets served by the calling worker.
    pub async fn rank_off_thread<'a>(
        &self,
        question: &str,
        language: Language,
        articles: &'a [Article],
    ) -> Vec<Hit<'a>> {
        if language == Language::English && TOPICS.get().is_none() {
            // The topics' vectors, once a process, off the async thread.
            let _ = tokio::task::spawn_blocking(|| topic_vectors().nrows()).await;
        }
        let Some((index, corrected)) = self.prepare(question, language, articles) else {
            return Vec::new();
        };
        let qvec = self.question_vector(&corrected).await;
        self.score(
            &index,
            &corrected,
            qvec.as_deref().map(Vec::as_slice),
            language,
            articles,
        )
    }

    /// A question's vector, computed on a blocking thread the first time
    /// it is asked for (the transformer takes milliseconds, which must not
    /// hold up the sockets served by the calling worker).
    async fn question_vector(&self, text: &str) -> Option<Arc<Vec<f32>>> {
        let cell = {
            let mut kept = self
                .questions
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            match kept.iter().find(|(t, _)| t == text) {
                Some((_, cell)) => cell.clone(),
                None => {
                    let cell = QuestionVector::default();
                    if kept.len() >= QUESTIONS_KEPT {
                        kept.pop_front();
                    }
                    kept.push_back((text.to_owned(), cell.clone()));
                    cell
                }
            }
        };
        let text = text.to_owned();
        cell.get_or_init(|| async move {
            tokio::task::spawn_blocking(move || {
                embed::model().and_then(|m| m.embed(&text)).map(Arc::new)
            })
            .await
            .ok()
            .flatten()
        })
        .await
        .clone()
    }

    /// The index of the published articles and the question with the
    /// spelling layer's corrections added (`None` when nothing is published).
    fn prepare(
        &self,
        question: &str,
        language: Language,
        articles: &[Article],
    ) -> Option<(Arc<Index>, String)> {
        if articles.iter().all(|a| a.draft) {
            return None;
        }
        let an = self.analyzer(language);
        let index = self.index(language, articles);
        // The spelling layer: a word that no article uses and that is not an
        // English word either gets the nearest word the articles use.
        let mut corrected = question.to_owned();
        for w in an.raw_words(question) {
            let real_word =
                language == Language::English && embed::model().is_some_and(|m| m.is_word(&w));
            if real_word || an.in_lexicon(&w) {
                continue;
            }
            if let Some(fix) = text::correct(&w, &index.known) {
                corrected.push(' ');
                corrected.push_str(fix);
            }
        }
        Some((index, corrected))
    }

    fn score<'a>(
        &self,
        index: &Index,
        corrected: &str,
        qvec: Option<&[f32]>,
        language: Language,
        articles: &'a [Article],
    ) -> Vec<Hit<'a>> {
        let an = self.analyzer(language);
        let mut seen = HashSet::new();
        let query: Vec<String> = an
            .terms(corrected)
            .into_iter()
            .filter(|t| seen.insert(t.clone()))
            .collect();
        let related: Vec<String> = an
            .related_terms(corrected)
            .into_iter()
            .filter(|t| !seen.contains(t))
            .collect();
        if query.is_empty() && qvec.is_none() {
            return Vec::new();
        }
        let n = (index.docs.len() as f64).max(MIN_CORPUS);
        let idf = |t: &str| {
            let df = index.df.get(t).copied().unwrap_or(0) as f64;
            (1.0 + (n - df + 0.5) / (df + 0.5)).ln()
        };
        let total_idf: f64 = query
            .iter()
            .map(|t| {
                // Words no article contains weigh half: often filler the
                // stop list missed, but a question made mostly of them is
                // about something else.
                if index.df.contains_key(t) {
                    idf(t)
                } else {
                    idf(t) * 0.5
                }
            })
            .sum();
        let question_words = an.words(corrected);
        let t = self.thresholds;
        let (lexical_weight, semantic_weight) = match language {
            Language::English => (t.lexical_weight, t.semantic_weight),
            Language::German => (t.other_lexical_weight, t.other_semantic_weight),
        };
        // The question's nearest topic that no article covers.
        let topic = match qvec {
            Some(q) => index
                .uncovered
                .iter()
                .map(|(t, near)| f64::from(embed::cosine(q, t)) - near)
                .fold(0.0, f64::max),
            None => 0.0,
        };
        let mut scored: Vec<(Hit<'a>, usize, Vec<f64>)> = (0..articles.len())
            .filter(|i| !articles[*i].draft)
            .filter_map(|i| {
                let doc = &index.docs[i];
                let bm25 = |term: &str| {
                    let tf = doc.terms.get(term)?;
                    Some(
                        idf(term) * tf * (K1 + 1.0)
                            / (tf + K1 * (1.0 - B + B * doc.len / index.avg_len)),
                    )
                };
                let mut lexical = 0.0;
                let mut covered = 0.0;
                for term in &query {
                    if let Some(s) = bm25(term) {
                        lexical += s;
                        covered += idf(term);
                    }
                }
                for term in &related {
                    if let Some(s) = bm25(term) {
                        lexical += RELATED_WEIGHT * s;
                    }
                }
                let mut coverage = if total_idf > 0.0 {
                    covered / total_idf
                } else {
                    0.0
                };
                if has_phrase(&question_words, &doc.phrases) {
                    lexical += PHRASE_BONUS;
                    coverage = 1.0;
                }
                let cosines: Vec<f64> = match qvec {
                    Some(q) => doc
                        .vectors
                        .iter()
                        .enumerate()
                        .map(|(j, v)| {
                            f64::from(embed::cosine(q, v))
                                - doc.hubness.get(j).copied().unwrap_or(0.0)
                        })
                        .collect(),
                    None => Vec::new(),
                };
                let (closest, semantic) = two_best(&cosines);
                let score = lexical_weight * lexical / (lexical + t.lexical_half)
                    + semantic_weight * semantic;
                (score > 0.0).then(|| {
                    let hit = Hit {
                        article: &articles[i],
                        score,
                        lexical,
                        semantic,
                        closest,
                        topic,
                        coverage,
                        passage: String::new(),
                    };
                    (hit, i, cosines)
                })
            })
            .collect();
        scored.sort_by(|a, b| b.0.score.total_cmp(&a.0.score));
        scored
            .into_iter()
            .map(|(mut hit, i, cosines)| {
                // Only what is quoted or shown needs its passage.
                if hit.score >= t.suggest {
                    hit.passage = passage(&index.docs[i], &related, &cosines, &seen);
                }
                hit
            })
            .collect()
    }

    /// The best article if it clears the confidence threshold.
    pub fn best<'a>(
        &self,
        question: &str,
        language: Language,
        articles: &'a [Article],
    ) -> Option<Hit<'a>> {
        self.pick(self.rank(question, language, articles), language)
    }

    /// Whether the best hit is good enough to answer from: its score, its
    /// lead over the second's score and (in English) its closeness against
    /// the nearest topic the help centre does not cover.
    pub fn confident(&self, language: Language, best: &Hit<'_>, second: f64) -> bool {
        let t = self.thresholds;
        match language {
            Language::English => {
                let lead = best.score - second;
                best.score >= t.answer
                    && (lead >= t.margin || (best.score >= t.sure && lead > 0.0))
                    && best.closest - best.topic >= t.topic_lead
            }
            Language::German => {
                best.score >= t.other_answer && best.score - second >= t.other_margin
            }
        }
    }

    fn pick<'a>(&self, ranked: Vec<Hit<'a>>, language: Language) -> Option<Hit<'a>> {
        let mut ranked = ranked.into_iter();
        let first = ranked.next()?;
        let second = ranked.next().map_or(0.0, |h| h.score);
        self.confident(language, &first, second).then_some(first)
    }

    /// Up to `n` articles for the agents who take over a question (the
    /// question's vector computed on a blocking thread).
    pub async fn suggest(
        &self,
        question: &str,
        language: Language,
        articles: &[Article],
        n: usize,
    ) -> Vec<BotSuggestion> {
        let ranked = self.rank_off_thread(question, language, articles).await;
        self.suggestions(ranked, n)
    }

    fn suggestions(&self, ranked: Vec<Hit<'_>>, n: usize) -> Vec<BotSuggestion> {
        ranked
            .into_iter()
            .filter(|h| h.score >= self.thresholds.suggest)
            .take(n)
            .map(|h| BotSuggestion {
                article_id: h.article.id.clone(),
                title: h.article.title.clone(),
                passage: h.passage,
                score: h.score,
            })
            .collect()
    }

    /// The article whose title or passage says what `reply` says, if any:
    /// an agent's answer that none covers could become an article. The
    /// reply's vector is computed on a blocking thread.
    pub async fn covering<'a>(
        &self,
        reply: &str,
        language: Language,
        articles: &'a [Article],
    ) -> Option<Hit<'a>> {
        self.rank_off_thread(reply, language, articles)
            .await
            .into_iter()
            .next()
            .filter(|h| h.closest >= self.thresholds.covered || h.coverage >= 0.8)
    }

    /// The answer quoted from a hit: the passage, then the article's title.
    pub fn compose(&self, question: &str, language: Language, hit: &Hit<'_>) -> String {
        let an = self.analyzer(language);
        let q: HashSet<String> = an.terms(question).into_iter().collect();
        let title: HashSet<String> = an.terms(&hit.article.title).into_iter().collect();
        // A question that is exactly the article's subject gets the article's
        // lead, which states the essentials; otherwise the best passage.
        let passage = if !q.is_empty() && q.is_subset(&title) {
            split_sentences(&hit.article.body)
                .into_iter()
                .take(2)
                .collect::<Vec<_>>()
                .join(" ")
        } else {
            hit.passage.clone()
        };
        format!("{passage}\n\n{}", language.source_line(&hit.article.title))
    }
}

/// The topics that no title or sentence of the articles comes
/// `topic_covered` close to, each with its nearness penalty, and each
/// vector's hubness (`Thresholds::hub_weight`), set on the docs: every
/// cosine at once, as one matrix product (a tenant with 500 articles has a
/// few thousand sentences).
fn topics(docs: &mut [Doc], t: &Thresholds) -> Vec<(&'static [f32], f64)> {
    let topics = topic_vectors();
    let dims = topics.ncols();
    let sentences: Vec<f32> = docs
        .iter()
        .flat_map(|d| &d.vectors)
        .filter(|v| v.len() == dims)
        .flatten()
        .copied()
        .collect();
    let Ok(s) = ArrayView2::from_shape((sentences.len() / dims.max(1), dims), &sentences) else {
        return Vec::new();
    };
    // topics × sentences
    let cosines = topics.dot(&s.t());
    set_hubness(docs, &cosines, dims, t);
    topics
        .rows()
        .into_iter()
        .zip(cosines.rows())
        .filter_map(|(topic, row)| {
            let closest = row.iter().copied().fold(f32::MIN, f32::max);
            let closest = if row.is_empty() {
                0.0
            } else {
                f64::from(closest)
            };
            let near = t.topic_near_weight * (closest - t.topic_near).max(0.0);
            (closest < t.topic_covered)
                .then(|| topic.to_slice().map(|v| (v, near)))
                .flatten()
        })
        .collect()
}

/// Each vector's hubness from its column of topic cosines: the mean of its
/// `hub_neighbours` largest, less `hub_base`, times `hub_weight`.
fn set_hubness(docs: &mut [Doc], cosines: &Array2<f32>, dims: usize, t: &Thresholds) {
    let k = t.hub_neighbours.min(cosines.nrows());
    if k == 0 || cosines.ncols() == 0 {
        return;
    }
    let means: Vec<f64> = cosines
        .columns()
        .into_iter()
        .map(|column| {
            let mut c = column.to_vec();
            c.sort_by(|a, b| b.total_cmp(a));
            c[..k].iter().map(|v| f64::from(*v)).sum::<f64>() / k as f64
        })
        .collect();
    let mut column = means.iter();
    for doc in docs {
        doc.hubness = doc
            .vectors
            .iter()
            .map(|v| {
                // Only the vectors of the model's size have a column.
                let m = if v.len() == dims { column.next() } else { None };
                m.map_or(0.0, |m| t.hub_weight * (m - t.hub_base))
            })
            .collect();
    }
}

const TOPICS_EN: &str = include_str!("../lexicon/topics-en.txt");
static TOPICS: OnceLock<Array2<f32>> = OnceLock::new();

/// The vectors of `lexicon/topics-en.txt`, one row a topic (none without
/// the model).
fn topic_vectors() -> &'static Array2<f32> {
    TOPICS.get_or_init(|| {
        let Some(model) = embed::model() else {
            return Array2::zeros((0, 0));
        };
        let rows: Vec<Vec<f32>> = TOPICS_EN
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .filter_map(|l| model.embed(l))
            .collect();
        Array2::from_shape_vec((rows.len(), model.dims()), rows.concat())
            .unwrap_or_else(|_| Array2::zeros((0, 0)))
    })
}

fn stored_vectors(a: &Article, count: usize) -> Option<Vec<Vec<f32>>> {
    let e = a.embedding.as_ref()?;
    let model = embed::model()?;
    (e.model == embed::MODEL_ID && e.dims == model.dims())
        .then(|| split_vectors(e, count))
        .flatten()
}

fn split_vectors(e: &ArticleEmbedding, count: usize) -> Option<Vec<Vec<f32>>> {
    (e.dims > 0 && e.vectors.len() == e.dims * count)
        .then(|| e.vectors.chunks(e.dims).map(<[f32]>::to_vec).collect())
}

/// The best cosine and the mean of the two best (the best alone when there
/// is one).
fn two_best(cosines: &[f64]) -> (f64, f64) {
    let (mut first, mut second) = (f64::MIN, f64::MIN);
    for c in cosines {
        if *c > first {
            second = first;
            first = *c;
        } else if *c > second {
            second = *c;
        }
    }
    match (first > f64::MIN, second > f64::MIN) {
        (false, _) => (0.0, 0.0),
        (true, false) => (first.max(0.0), first.max(0.0)),
        (true, true) => (first.max(0.0), ((first + second) / 2.0).max(0.0)),
    }
}

fn has_phrase(question: &[String], phrases: &[Vec<String>]) -> bool {
    phrases.iter().any(|phrase| {
        question
            .windows(phrase.len())
            .any(|w| w == phrase.as_slice())
    })
}

/// The one or two consecutive sentences that say most about the question:
/// its words (the lexicon's count half) and closeness in meaning.
fn passage(doc: &Doc, related: &[String], cosines: &[f64], query_set: &HashSet<String>) -> String {
    let related: HashSet<&String> = related.iter().collect();
    // (the question's words in the sentence, those plus closeness)
    let sentence_score = |i: usize| {
        let words: f64 = doc.sentence_terms[i]
            .iter()
            .map(|t| {
                if query_set.contains(t) {
                    1.0
                } else if related.contains(t) {
                    0.5
                } else {
                    0.0
                }
            })
            .sum();
        (
            words,
            words + 2.0 * cosines.get(i + 1).copied().unwrap_or(0.0),
        )
    };
    let mut best = (f64::MIN, 0usize, 1usize);
    for i in 0..doc.sentences.len() {
        let (one_words, one) = sentence_score(i);
        if one > best.0 {
            best = (one, i, 1);
        }
        if i + 1 < doc.sentences.len() {
            // A second sentence must add words of the question to be worth
            // the length.
            let (next_words, next) = sentence_score(i + 1);
            if next_words > 0.0 && one_words > 0.0 && one + next > best.0 + 1.0 {
                best = (one + next, i, 2);
            }
        }
    }
    let (_, start, len) = best;
    doc.sentences
        .get(start..start + len)
        .map(|s| s.join(" "))
        .filter(|s| !s.is_empty())
        .unwrap_or_default()
}

fn split_sentences(body: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let chars: Vec<(usize, char)> = body.char_indices().collect();
    for (idx, (i, c)) in chars.iter().enumerate() {
        let end_of_sentence = matches!(c, '.' | '!' | '?')
            && chars.get(idx + 1).is_none_or(|(_, n)| n.is_whitespace());
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
        let ranked = self
            .rank_off_thread(q.question, q.language, q.articles)
            .await;
        Ok(match self.pick(ranked, q.language) {
            Some(hit) => BotAnswer::Answer(self.compose(q.question, q.language, &hit)),
            None => BotAnswer::NotConfident,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chat_domain::TenantId;

    fn article(title: &str, body: &str, keywords: &[&str]) -> Article {
        let input = ArticleInput {
            title: title.into(),
            body: body.into(),
            keywords: keywords.iter().map(|k| (*k).to_owned()).collect(),
            draft: false,
            embedding: None,
        };
        Article {
            id: title.into(),
            tenant_id: TenantId::new("t"),
            embedding: embed_article(&input),
            title: input.title,
            body: input.body,
            keywords: input.keywords,
            draft: false,
            updated_at: chrono::DateTime::UNIX_EPOCH,
        }
    }

    fn shop() -> Vec<Article> {
        vec![
            article(
                "Returns and refunds",
                "You can return any item within 30 days. Your refund is issued within 5 working days.",
                &["return", "refund"],
            ),
            article(
                "Opening hours",
                "We are open Monday to Friday from 8:00 to 20:00. We are closed on Sundays.",
                &["hours", "open"],
            ),
        ]
    }

    const EN: Language = Language::English;

    #[test]
    fn the_answer_line_the_lead_and_the_uncovered_topics_decide() {
        let kb = KnowledgeBase::default();
        let t = kb.thresholds;
        let articles = shop();
        let hit = |score: f64, closest: f64, topic: f64| Hit {
            article: &articles[0],
            score,
            lexical: 0.0,
            semantic: closest,
            closest,
            topic,
            coverage: 0.0,
            passage: String::new(),
        };
        let de = Language::German;
        assert!(kb.confident(EN, &hit(t.answer, 0.5, 0.0), 0.0));
        assert!(
            !kb.confident(EN, &hit(t.answer - 0.01, 0.5, 0.0), 0.0),
            "below the line"
        );
        let unsure = t.sure - 0.01;
        assert!(
            !kb.confident(EN, &hit(unsure, 0.5, 0.0), unsure - t.margin / 2.0),
            "two articles about equally close: a person decides"
        );
        assert!(kb.confident(EN, &hit(unsure, 0.5, 0.0), unsure - t.margin));
        // A sure answer needs no lead, but a tie is never answered.
        assert!(kb.confident(EN, &hit(t.sure, 0.5, 0.0), t.sure - t.margin / 2.0));
        assert!(!kb.confident(EN, &hit(0.9, 0.9, 0.0), 0.9));
        // A topic the help centre does not cover, about as close as the
        // article's closest sentence: by at most the topic lead.
        assert!(kb.confident(EN, &hit(0.5, 0.5, 0.49 - t.topic_lead), 0.0));
        assert!(!kb.confident(EN, &hit(0.5, 0.5, 0.51 - t.topic_lead), 0.0));
        // German: the answer line and the lead of its own, no topics.
        assert!(!kb.confident(de, &hit(t.other_answer - 0.01, 0.5, 0.0), 0.0));
        assert!(kb.confident(de, &hit(t.other_answer, 0.5, 0.9), 0.0));
        assert!(!kb.confident(de, &hit(0.9, 0.5, 0.0), 0.9 - t.other_margin / 2.0));
    }

    #[test]
    fn a_topic_the_help_centre_leaves_out_is_handed_off_until_an_article_covers_it() {
        let kb = KnowledgeBase::default();
        let mut articles = shop();
        let q = "can you wrap my order as a gift";
        let before = kb.rank(q, EN, &articles);
        assert!(before[0].closest - before[0].topic < kb.thresholds.topic_lead);
        assert!(kb.best(q, EN, &articles).is_none());
        articles.push(article(
            "Gift wrapping",
            "We wrap any order as a gift for 3 euros. Add a gift message at checkout.",
            &["gift wrap", "gift message"],
        ));
        let hit = kb.best(q, EN, &articles);
        assert_eq!(hit.map(|h| h.article.title.as_str()), Some("Gift wrapping"));
    }

    #[test]
    fn a_topic_next_to_an_article_weighs_less_than_one_far_from_every_article() {
        let mut articles = shop();
        articles.push(article(
            "Payment methods",
            "We accept Visa, Mastercard, PayPal and Apple Pay. Business customers can also pay by invoice within 14 days.",
            &["payment", "pay", "credit card", "paypal"],
        ));
        let kb = KnowledgeBase::default();
        let index = kb.index(EN, &articles);
        let near = |topic: &str| {
            let v = embed::model()
                .and_then(|m| m.embed(topic))
                .unwrap_or_default();
            index
                .uncovered
                .iter()
                .find(|(t, _)| *t == v.as_slice())
                .map(|(_, near)| *near)
        };
        // Paying in instalments sits next to the payment article; the
        // weather sits far from every article.
        assert!(near("pay in instalments with klarna or afterpay").is_some_and(|n| n > 0.0));
        assert_eq!(near("weather forecast"), Some(0.0));
        // A loose question about paying lands near that topic too, which
        // weighs less for it…
        let flat = KnowledgeBase {
            thresholds: Thresholds {
                topic_near_weight: 0.0,
                ..Thresholds::default()
            },
            ..KnowledgeBase::default()
        };
        let topic = |kb: &KnowledgeBase, q: &str| kb.rank(q, EN, &articles)[0].topic;
        let q = "how can I pay";
        assert!(topic(&kb, q) < topic(&flat, q));
        let hit = kb.best(q, EN, &articles);
        assert_eq!(
            hit.map(|h| h.article.title.as_str()),
            Some("Payment methods")
        );
        // …than for a question whose nearest topic is far from the articles.
        let q = "will it rain tomorrow, what is the weather forecast";
        assert_eq!(topic(&kb, q), topic(&flat, q));
        assert!(kb.best(q, EN, &articles).is_none());
        // A question about the topic itself is still handed off.
        assert!(
            kb.best("can i pay in instalments with klarna", EN, &articles)
                .is_none()
        );
    }

    /// The demo's help centre (`chat-api/demo/help-centre.jsonl`).
    fn help_centre() -> Vec<Article> {
        include_str!("../../chat-api/demo/help-centre.jsonl")
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .map(|a| {
                let keywords: Vec<String> = a["keywords"]
                    .as_array()
                    .map(|k| {
                        k.iter()
                            .filter_map(|x| x.as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default();
                let keywords: Vec<&str> = keywords.iter().map(String::as_str).collect();
                article(
                    a["title"].as_str().unwrap_or_default(),
                    a["body"].as_str().unwrap_or_default(),
                    &keywords,
                )
            })
            .collect()
    }

    #[test]
    fn a_sentence_that_reads_like_many_topics_draws_less() {
        let articles = help_centre();
        assert_eq!(articles.len(), 12);
        let kb = KnowledgeBase::default();
        let index = kb.index(EN, &articles);
        let track = articles
            .iter()
            .position(|a| a.title == "Track your order")
            .unwrap_or_else(|| panic!("the demo tracks orders"));
        // "You can also follow the parcel from the Orders page in your
        // account" reads like ordering by phone, order history, picking up
        // an order…; "Tracking information can take up to 24 hours to
        // appear" like little else.
        let hubness = &index.docs[track].hubness;
        assert_eq!(hubness.len(), 4);
        assert!(hubness[2] > 0.03, "{hubness:?}");
        assert!(hubness[3] < 0.0, "{hubness:?}");
        // So a question that only shares "my order" with it is handed off,
        // as it was not without the correction…
        let flat = KnowledgeBase {
            thresholds: Thresholds {
                hub_weight: 0.0,
                ..Thresholds::default()
            },
            ..KnowledgeBase::default()
        };
        let q = "can i collect my order from your warehouse";
        assert!(kb.best(q, EN, &articles).is_none());
        assert_eq!(
            flat.best(q, EN, &articles)
                .map(|h| h.article.title.as_str()),
            Some("Track your order")
        );
        // …while the questions it answers still find it.
        for q in ["where is my parcel", "how do i follow my delivery"] {
            assert_eq!(
                kb.best(q, EN, &articles).map(|h| h.article.title.as_str()),
                Some("Track your order"),
                "{q}"
            );
        }
        // German has no topics and no correction.
        let de = kb.index(Language::German, &articles);
        assert!(de.docs.iter().all(|d| d.hubness.is_empty()));
    }

    #[tokio::test]
    async fn a_question_asked_again_reuses_its_vector() {
        let kb = KnowledgeBase::default();
        let articles = shop();
        let q = "when are you open on saturday";
        let first = kb.rank_off_thread(q, EN, &articles).await;
        // The hand-off's suggestions rank the same question again.
        let again = kb.suggest(q, EN, &articles, 3).await;
        let kept: Vec<(String, bool)> = kb
            .questions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|(t, c)| (t.clone(), c.initialized()))
            .collect();
        assert_eq!(
            kept,
            vec![(q.to_owned(), true)],
            "one vector, computed once"
        );
        assert_eq!(first[0].article.title, again[0].title);
        assert_eq!(first[0].score, again[0].score);
        // The oldest questions make room for new ones.
        for i in 0..QUESTIONS_KEPT {
            kb.rank_off_thread(&format!("question {i}"), EN, &articles)
                .await;
        }
        let kept = kb.questions.lock().unwrap_or_else(PoisonError::into_inner);
        assert_eq!(kept.len(), QUESTIONS_KEPT);
        assert!(kept.iter().all(|(t, _)| t != q));
    }

    #[test]
    fn meaning_and_the_lexicon_find_articles_that_share_no_word_with_the_question() {
        let kb = KnowledgeBase::default();
        let articles = shop();
        // No word in common: the lexicon ("money back" is "refund") and the
        // meaning rank the right article first…
        let ranked = kb.rank("i want my money back", EN, &articles);
        assert_eq!(ranked[0].article.title, "Returns and refunds");
        assert!(ranked[0].lexical > 0.0 && ranked[0].coverage == 0.0);
        assert!(ranked[0].semantic > ranked[1].semantic);
        // …and with a word of its own the question is answered.
        let hit = kb.best("i want my money back, is there a refund", EN, &articles);
        assert_eq!(
            hit.map(|h| h.article.title.as_str()),
            Some("Returns and refunds")
        );
        // Misspelt words reach the article's words.
        let hit = kb.best("when are you opne on sundys", EN, &articles);
        assert_eq!(hit.map(|h| h.article.title.as_str()), Some("Opening hours"));
        assert!(
            kb.best("what is the capital of australia", EN, &articles)
                .is_none()
        );
    }

    #[tokio::test]
    async fn two_articles_that_say_the_same_are_too_close_to_answer_from() {
        let kb = KnowledgeBase::default();
        let mut articles = shop();
        let mut twin = articles[0].clone();
        twin.id = "twin".into();
        articles.push(twin);
        assert!(kb.best("how do I get a refund", EN, &articles).is_none());
        // …but both are suggested to the agents.
        let s = kb.suggest("how do I get a refund", EN, &articles, 3).await;
        assert_eq!(s.len(), 2, "{s:?}");
        assert!(s.iter().all(|s| s.passage.contains("refund")), "{s:?}");
    }

    #[tokio::test]
    async fn drafts_are_never_answered_from_or_suggested() {
        let kb = KnowledgeBase::default();
        let mut articles = shop();
        articles[0].draft = true;
        assert!(kb.best("i want my money back", EN, &articles).is_none());
        assert!(
            kb.suggest("i want my money back", EN, &articles, 3)
                .await
                .iter()
                .all(|s| s.title != "Returns and refunds")
        );
    }

    #[test]
    fn articles_of_another_model_or_none_need_vectors() {
        let mut a = shop().remove(0);
        assert!(!needs_vectors(&a));
        a.embedding = None;
        assert!(needs_vectors(&a));
        a.embedding = article_vectors(&a);
        assert!(!needs_vectors(&a));
        if let Some(e) = &mut a.embedding {
            e.model = "another-model".into();
        }
        assert!(needs_vectors(&a));
        // A body edited since: the count of sentences no longer fits.
        a.embedding = article_vectors(&a);
        a.body.push_str(" One more sentence.");
        assert!(needs_vectors(&a));
    }

    #[test]
    fn stored_vectors_are_used_and_a_stale_model_is_recomputed() {
        let kb = KnowledgeBase::default();
        let mut articles = shop();
        let fresh = kb.rank("refund", EN, &articles)[0].semantic;
        // Vectors of another model are ignored, not compared.
        for a in &mut articles {
            if let Some(e) = &mut a.embedding {
                e.model = "another-model".into();
                e.vectors.iter_mut().for_each(|x| *x = 0.0);
            }
        }
        let recomputed = kb.rank("refund", EN, &articles)[0].semantic;
        assert!((fresh - recomputed).abs() < 1e-6, "{fresh} {recomputed}");
        // An article saved with this model's vectors has one per sentence
        // and one for the title.
        let e = shop()[0]
            .embedding
            .clone()
            .unwrap_or_else(|| panic!("vectors"));
        assert_eq!(e.vectors.len(), e.dims * 3);
        assert_eq!(e.model, embed::MODEL_ID);
    }

    #[test]
    fn the_passage_is_the_sentence_that_answers() {
        let kb = KnowledgeBase::default();
        let articles = shop();
        let hit = kb
            .best("how long until the refund arrives", EN, &articles)
            .unwrap_or_else(|| panic!("no hit"));
        assert_eq!(hit.passage, "Your refund is issued within 5 working days.");
        let answer = kb.compose("how long until the refund arrives", EN, &hit);
        assert!(answer.ends_with("(From our help centre: “Returns and refunds”)"));
        let de = kb.compose("x", Language::German, &hit);
        assert!(de.ends_with("(Aus unserem Hilfe-Center: „Returns and refunds“)"));
    }
}
