//! The semantic half of the ranker: a static sentence-embedding model
//! (`model/static-minilm.bin`, distilled from all-MiniLM-L6-v2 by
//! `model/distill.py`), compiled into the binary. A text's vector is the
//! mean of its WordPiece tokens' rows, normalised: no neural runtime, a few
//! microseconds a sentence.

use std::collections::HashMap;
use std::sync::LazyLock;

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Names the vectors this model makes; stored with an article's vectors so
/// that a new model recomputes them.
pub const MODEL_ID: &str = "static-minilm-l6-v2-256-q8";

static BYTES: &[u8] = include_bytes!("../model/static-minilm.bin");

static MODEL: LazyLock<Option<StaticModel>> = LazyLock::new(|| StaticModel::parse(BYTES));

/// The model compiled into the binary (`None` only if its file is corrupt,
/// which the crate's tests rule out).
pub fn model() -> Option<&'static StaticModel> {
    MODEL.as_ref()
}

pub struct StaticModel {
    vocab: HashMap<Box<str>, u32>,
    dims: usize,
    scales: Vec<f32>,
    rows: Vec<i8>,
}

impl StaticModel {
    fn parse(bytes: &[u8]) -> Option<Self> {
        let rest = bytes.strip_prefix(b"PSE1")?;
        let u32_at = |b: &[u8], i: usize| -> Option<usize> {
            Some(u32::from_le_bytes(b.get(i..i + 4)?.try_into().ok()?) as usize)
        };
        let tokens = u32_at(rest, 0)?;
        let dims = u32_at(rest, 4)?;
        let mut at = 8;
        let mut vocab = HashMap::with_capacity(tokens);
        for id in 0..tokens {
            let len = *rest.get(at)? as usize;
            let word = std::str::from_utf8(rest.get(at + 1..at + 1 + len)?).ok()?;
            vocab.insert(word.into(), u32::try_from(id).ok()?);
            at += 1 + len;
        }
        let scales = rest
            .get(at..at + tokens * 4)?
            .chunks_exact(4)
            .map(|c| c.try_into().map(f32::from_le_bytes))
            .collect::<Result<Vec<f32>, _>>()
            .ok()?;
        at += tokens * 4;
        let rows: Vec<i8> = rest
            .get(at..at + tokens * dims)?
            .iter()
            .map(|b| i8::from_le_bytes([*b]))
            .collect();
        Some(Self {
            vocab,
            dims,
            scales,
            rows,
        })
    }

    /// Whether the vocabulary holds the word whole: a common English word,
    /// not a misspelling.
    pub fn is_word(&self, word: &str) -> bool {
        self.vocab.contains_key(word)
    }

    pub fn dims(&self) -> usize {
        self.dims
    }

    /// The WordPiece ids of a text, as BERT's uncased tokenizer cuts it
    /// (lowercased, accents stripped, punctuation split off); a word with
    /// no pieces in the vocabulary is left out.
    pub fn tokens(&self, text: &str) -> Vec<u32> {
        let clean: String = text
            .nfd()
            .filter(|c| !is_combining_mark(*c))
            .flat_map(char::to_lowercase)
            .collect();
        let mut ids = Vec::new();
        for word in clean
            .split(|c: char| c.is_whitespace() || c.is_ascii_punctuation())
            .filter(|w| !w.is_empty())
        {
            self.word_pieces(word, &mut ids);
        }
        ids
    }

    fn word_pieces(&self, word: &str, ids: &mut Vec<u32>) {
        if word.chars().count() > 100 {
            return;
        }
        let mut pieces = Vec::new();
        // A continuation is looked up as "##" + piece, in one buffer.
        let mut continued = String::with_capacity(word.len() + 2);
        let mut start = 0;
        while start < word.len() {
            let mut end = word.len();
            let mut found = None;
            while end > start {
                if word.is_char_boundary(end) {
                    let piece = &word[start..end];
                    let id = if start == 0 {
                        self.vocab.get(piece)
                    } else {
                        continued.clear();
                        continued.push_str("##");
                        continued.push_str(piece);
                        self.vocab.get(continued.as_str())
                    };
                    if let Some(id) = id {
                        found = Some(*id);
                        break;
                    }
                }
                end -= 1;
            }
            let Some(id) = found else { return };
            pieces.push(id);
            start = end;
        }
        ids.extend(pieces);
    }

    /// The unit vector of a text, or `None` when no token is known.
    pub fn embed(&self, text: &str) -> Option<Vec<f32>> {
        let ids = self.tokens(text);
        if ids.is_empty() {
            return None;
        }
        let mut sum = vec![0f32; self.dims];
        for id in &ids {
            let i = *id as usize;
            let scale = self.scales[i];
            let row = &self.rows[i * self.dims..(i + 1) * self.dims];
            for (s, r) in sum.iter_mut().zip(row) {
                *s += f32::from(*r) * scale;
            }
        }
        normalise(&mut sum).then_some(sum)
    }
}

fn normalise(v: &mut [f32]) -> bool {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm <= f32::EPSILON {
        return false;
    }
    v.iter_mut().for_each(|x| *x /= norm);
    true
}

/// Cosine similarity of two unit vectors.
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m() -> &'static StaticModel {
        model().unwrap_or_else(|| panic!("the model compiled into the crate must load"))
    }

    #[test]
    fn the_model_loads_and_cuts_words_into_pieces() {
        let m = m();
        assert_eq!(m.dims(), 256);
        assert!(m.vocab.len() > 20_000);
        assert_eq!(m.tokens("Hello, World!").len(), 2);
        // An unknown long word is cut into pieces rather than dropped.
        assert!(m.tokens("unrefundable").len() >= 2);
        // Accents are stripped as BERT's uncased tokenizer does.
        assert_eq!(m.tokens("café"), m.tokens("cafe"));
    }

    #[test]
    fn paraphrases_are_closer_than_unrelated_sentences() {
        let m = m();
        let e = |t: &str| m.embed(t).unwrap_or_else(|| panic!("no vector for {t}"));
        let refund = e("I want my money back");
        let policy = e("Your refund is issued to the original payment method");
        let weather = e("is it going to rain in berlin tomorrow");
        assert!(cosine(&refund, &policy) > cosine(&refund, &weather));
        assert!((cosine(&refund, &refund) - 1.0).abs() < 1e-4);
        assert_eq!(m.embed("!!! ???"), None);
    }
}
