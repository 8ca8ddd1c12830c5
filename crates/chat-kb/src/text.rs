//! Words: per language a stemmer, a stop list and a lexicon of the words
//! customers use for the same thing (`lexicon/*.txt`), and a spelling
//! layer that maps a word no article contains to the nearest one that some
//! article does.

use std::collections::{HashMap, HashSet};

use chat_domain::Language;
use rust_stemmers::{Algorithm, Stemmer};

const EN_STOP: &[&str] = &[
    "a", "about", "am", "an", "and", "any", "are", "as", "at", "be", "been", "but", "by", "can",
    "could", "do", "does", "for", "from", "get", "got", "had", "has", "have", "hello", "hi", "how",
    "i", "if", "in", "is", "it", "its", "just", "me", "my", "need", "of", "on", "or", "our",
    "please", "should", "so", "that", "the", "their", "there", "this", "to", "u", "us", "was",
    "we", "what", "when", "where", "which", "who", "why", "will", "with", "would", "you", "your",
    "want", "hey", "thanks", "thank", "know", "tell", "im", "ive", "id", "r", "ur", "pls", "plz",
    "guys", "folks", "yet", "now", "still", "already", "some", "one",
    // Pieces of contractions once apostrophes are split off.
    "t", "s", "d", "m", "ll", "re", "ve", "didn", "don", "doesn", "isn", "wasn", "won", "couldn",
    "haven", "hasnt", "hasn", "dont", "didnt", "doesnt", "isnt", "wasnt", "cant",
];

const DE_STOP: &[&str] = &[
    "aber", "alle", "als", "also", "am", "an", "auch", "auf", "aus", "bei", "bin", "bis", "bitte",
    "da", "damit", "dann", "das", "dass", "dem", "den", "der", "des", "die", "dies", "diese",
    "dieser", "doch", "dort", "du", "durch", "ein", "eine", "einem", "einen", "einer", "eines",
    "er", "es", "etwas", "euch", "für", "hab", "habe", "haben", "hallo", "hat", "hier", "ich",
    "ihr", "ihre", "im", "in", "ist", "ja", "kann", "können", "man", "mein", "meine", "meinem",
    "meinen", "meiner", "mich", "mir", "mit", "muss", "nach", "nicht", "noch", "nun", "nur", "ob",
    "oder", "schon", "sehr", "sein", "sich", "sie", "sind", "so", "um", "und", "uns", "unser",
    "von", "vor", "war", "was", "weil", "wenn", "wer", "werden", "wie", "wieso", "will", "wir",
    "wird", "wo", "zu", "zum", "zur", "danke", "gibt", "ihnen", "euer", "eure", "mal", "gerne",
    "möchte", "würde", "wann", "warum", "welche", "welcher", "welches",
];

const EN_LEXICON: &str = include_str!("../lexicon/en.txt");
const DE_LEXICON: &str = include_str!("../lexicon/de.txt");

/// One language's analysis: terms are lowercased, stop words dropped,
/// stemmed.
pub struct Analyzer {
    stemmer: Stemmer,
    stop: HashSet<&'static str>,
    /// Per stemmed word or phrase of the lexicon, its group.
    groups_of: HashMap<Vec<String>, Vec<usize>>,
    /// The stemmed single-word terms of each group.
    group_terms: Vec<Vec<String>>,
    longest_phrase: usize,
}

impl Analyzer {
    pub fn new(language: Language) -> Self {
        let (algorithm, stop, lexicon) = match language {
            Language::English => (Algorithm::English, EN_STOP, EN_LEXICON),
            Language::German => (Algorithm::German, DE_STOP, DE_LEXICON),
        };
        let mut a = Self {
            stemmer: Stemmer::create(algorithm),
            stop: stop.iter().copied().collect(),
            groups_of: HashMap::new(),
            group_terms: Vec::new(),
            longest_phrase: 1,
        };
        for line in lexicon
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
        {
            let group = a.group_terms.len();
            let mut terms = Vec::new();
            for entry in line.split(',') {
                let words = a.words(entry);
                if words.is_empty() {
                    continue;
                }
                a.longest_phrase = a.longest_phrase.max(words.len());
                let content = a.terms(entry);
                if words.len() == 1 && content.len() == 1 {
                    terms.extend(content);
                }
                a.groups_of.entry(words).or_default().push(group);
            }
            terms.sort();
            terms.dedup();
            a.group_terms.push(terms);
        }
        a
    }

    /// Lowercased words, split at apostrophes too ("didn't" → "didn",
    /// "t", both on the stop list).
    fn pieces(text: &str) -> impl Iterator<Item = String> + '_ {
        text.split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase)
    }

    fn stem(&self, word: &str) -> String {
        self.stemmer.stem(word).into_owned()
    }

    /// Lowercased, stop words dropped, stemmed.
    pub fn terms(&self, text: &str) -> Vec<String> {
        self.raw_words(text).iter().map(|w| self.stem(w)).collect()
    }

    /// Every word, stemmed, stop words kept: for phrase matching.
    pub fn words(&self, text: &str) -> Vec<String> {
        Self::pieces(text).map(|w| self.stem(&w)).collect()
    }

    /// Lowercased words, unstemmed, stop words dropped: what the spelling
    /// layer compares.
    pub fn raw_words(&self, text: &str) -> Vec<String> {
        Self::pieces(text)
            .filter(|w| !self.stop.contains(w.as_str()))
            .collect()
    }

    /// The stemmed terms the lexicon adds to a question: the other words of
    /// every group one of its words or phrases belongs to.
    pub fn related_terms(&self, text: &str) -> Vec<String> {
        let words = self.words(text);
        let mut groups = HashSet::new();
        for len in 1..=self.longest_phrase.min(words.len()) {
            for w in words.windows(len) {
                if let Some(g) = self.groups_of.get(w) {
                    groups.extend(g.iter().copied());
                }
            }
        }
        let mut out: Vec<String> = groups
            .into_iter()
            .flat_map(|g| self.group_terms[g].iter().cloned())
            .collect();
        out.sort();
        out.dedup();
        out
    }

    /// Whether the lexicon knows the word (then it is no misspelling).
    pub fn in_lexicon(&self, word: &str) -> bool {
        self.groups_of.contains_key(&self.words(word))
    }

    pub fn stem_word(&self, word: &str) -> String {
        self.stem(&word.to_lowercase())
    }
}

/// The word of `known` nearest to `word` when `word` itself is unknown:
/// one edit away for words of 4 to 7 letters, two for longer ones (a
/// transposition counts as one edit); `None` for short words, known words
/// and ties.
pub fn correct<'a>(word: &str, known: &'a HashSet<String>) -> Option<&'a str> {
    let len = word.chars().count();
    if len < 4 || known.contains(word) || word.chars().any(|c| c.is_ascii_digit()) {
        return None;
    }
    let max = if len >= 8 { 2 } else { 1 };
    let mut best: Option<(&str, usize)> = None;
    let mut tie = false;
    for k in known {
        if k.chars().count().abs_diff(len) > max {
            continue;
        }
        let d = strsim::damerau_levenshtein(word, k);
        if d > max {
            continue;
        }
        match best {
            Some((_, b)) if d > b => {}
            Some((_, b)) if d == b => tie = true,
            _ => {
                best = Some((k, d));
                tie = false;
            }
        }
    }
    best.filter(|_| !tie).map(|(k, _)| k)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_are_stemmed_without_stop_words_in_each_language() {
        let en = Analyzer::new(Language::English);
        assert_eq!(en.terms("Where is my parcel?"), vec!["parcel"]);
        assert_eq!(en.terms("I didn't get the refunds"), vec!["refund"]);
        let de = Analyzer::new(Language::German);
        assert_eq!(de.terms("Wo ist mein Paket?"), vec!["paket"]);
        assert_eq!(de.terms("Rücksendungen"), de.terms("Rücksendung"));
    }

    #[test]
    fn the_lexicon_adds_the_words_customers_use_for_the_same_thing() {
        let en = Analyzer::new(Language::English);
        let rel = en.related_terms("my kettle died");
        assert!(rel.contains(&en.stem_word("broken")), "{rel:?}");
        assert!(rel.contains(&en.stem_word("defect")), "{rel:?}");
        // A phrase of several words matches as a phrase only.
        assert!(
            en.related_terms("I want my money back")
                .contains(&en.stem_word("refund"))
        );
        assert!(
            !en.related_terms("my money")
                .contains(&en.stem_word("refund"))
        );
        let de = Analyzer::new(Language::German);
        assert!(
            de.related_terms("Mein Wasserkocher ist kaputt")
                .contains(&de.stem_word("defekt"))
        );
    }

    #[test]
    fn misspellings_map_to_the_nearest_known_word() {
        let known: HashSet<String> = ["password", "address", "delivery", "track", "trace"]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        assert_eq!(correct("pasword", &known), Some("password"));
        assert_eq!(correct("adress", &known), Some("address"));
        assert_eq!(correct("delivry", &known), Some("delivery"));
        assert_eq!(correct("deilvery", &known), Some("delivery"));
        // Short words are left alone, as are known ones and ties.
        assert_eq!(correct("pwd", &known), None);
        assert_eq!(correct("track", &known), None);
        assert_eq!(correct("trac", &known), None);
        assert_eq!(correct("kettle", &known), None);
    }
}
