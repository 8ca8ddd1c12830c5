//! The semantic half of the ranker: the sentence-embedding transformer
//! all-MiniLM-L6-v2 (6 BERT layers, 12 heads, 384 dimensions, mean
//! pooling), its weights quantized to int8 (`model/minilm-l6-q8.bin`,
//! exported by `model/export.py`) and compiled into the binary. The forward
//! pass is written out below; the matrix products are `ndarray`'s (the
//! `matrixmultiply` kernels, which pick AVX/FMA at run time). Nothing is
//! downloaded; the layers' int8 weights are read the first time a text is
//! embedded (about 11 MB, only in a process whose bot is asked) and unpacked
//! a matrix at a time while a text is embedded, and a question takes a few
//! milliseconds on one core.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::LazyLock;

use ndarray::{Array1, Array2, ArrayView2, Axis, Slice};
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Names the vectors this model makes; stored with an article's vectors so
/// that a new model recomputes them.
pub const MODEL_ID: &str = "all-minilm-l6-v2-q8";

static BYTES: &[u8] = include_bytes!("../model/minilm-l6-q8.bin");

static MODEL: LazyLock<Option<Model>> = LazyLock::new(|| Model::parse(BYTES));

/// The model compiled into the binary (`None` only if its file is corrupt,
/// which the crate's tests rule out).
pub fn model() -> Option<&'static Model> {
    MODEL.as_ref()
}

/// The longest text the model reads, in WordPiece tokens; the rest of a
/// longer text is cut off, as sentence-transformers cuts it.
const MAX_TOKENS: usize = 256;
const LAYER_NORM_EPS: f32 = 1e-12;

pub struct Model {
    vocab: HashMap<Box<str>, u32>,
    unk: u32,
    cls: u32,
    sep: u32,
    hidden: usize,
    heads: usize,
    words: QuantRows,
    positions: Array2<f32>,
    token_type: Array1<f32>,
    norm: Norm,
    layers: Vec<Layer>,
}

/// Token embeddings: int8 rows with a scale each, read from the bytes
/// compiled into the binary (only the rows a text uses are touched).
struct QuantRows {
    cols: usize,
    scales: Vec<f32>,
    data: &'static [u8],
}

impl QuantRows {
    fn add_row(&self, row: usize, into: &mut [f32]) {
        let scale = self.scales[row];
        let bytes = &self.data[row * self.cols..(row + 1) * self.cols];
        for (v, b) in into.iter_mut().zip(bytes) {
            *v += f32::from(i8::from_le_bytes([*b])) * scale;
        }
    }
}

struct Linear {
    /// Inputs × outputs, row-major, in int8: the transpose of how the
    /// model's Linear layers hold them, so that the matrix product reads it
    /// in order (the kernel copies the whole matrix into its panels at every
    /// call, which for a sentence of a few tokens costs more than the
    /// arithmetic). Unpacked to f32 into a scratch buffer at each product:
    /// about a millisecond a sentence, against 42 MB kept unpacked.
    weight: Vec<i8>,
    /// One per output.
    scales: Vec<f32>,
    outputs: usize,
    bias: Array1<f32>,
}

thread_local! {
    /// The f32 weights of the product under way (at most 2.4 MB).
    static SCRATCH: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

impl Linear {
    fn forward(&self, x: &ArrayView2<'_, f32>) -> Array2<f32> {
        let inputs = self.weight.len() / self.outputs.max(1);
        let mut y = SCRATCH.with_borrow_mut(|w| {
            w.clear();
            for row in self.weight.chunks_exact(self.outputs) {
                w.extend(row.iter().zip(&self.scales).map(|(q, s)| f32::from(*q) * s));
            }
            match ArrayView2::from_shape((inputs, self.outputs), w.as_slice()) {
                Ok(w) => x.dot(&w),
                Err(_) => Array2::zeros((x.nrows(), self.outputs)),
            }
        });
        y += &self.bias;
        y
    }
}

struct Norm {
    weight: Array1<f32>,
    bias: Array1<f32>,
}

impl Norm {
    fn apply(&self, x: &mut Array2<f32>) {
        for mut row in x.rows_mut() {
            let n = row.len() as f32;
            let mean = row.sum() / n;
            let var = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / n;
            let inv = 1.0 / (var + LAYER_NORM_EPS).sqrt();
            for ((v, w), b) in row.iter_mut().zip(&self.weight).zip(&self.bias) {
                *v = (*v - mean) * inv * w + b;
            }
        }
    }
}

struct Layer {
    query: Linear,
    key: Linear,
    value: Linear,
    attention_out: Linear,
    attention_norm: Norm,
    up: Linear,
    down: Linear,
    out_norm: Norm,
}

/// Reads the exported file front to back.
struct Reader {
    file: &'static [u8],
    at: usize,
}

impl Reader {
    fn bytes(&mut self, n: usize) -> Option<&'static [u8]> {
        let b = self.file.get(self.at..self.at.checked_add(n)?)?;
        self.at += n;
        Some(b)
    }

    fn u32(&mut self) -> Option<usize> {
        Some(u32::from_le_bytes(self.bytes(4)?.try_into().ok()?) as usize)
    }

    fn f32s(&mut self, n: usize) -> Option<Vec<f32>> {
        self.bytes(n.checked_mul(4)?)?
            .chunks_exact(4)
            .map(|c| c.try_into().ok().map(f32::from_le_bytes))
            .collect()
    }

    fn vector(&mut self, n: usize) -> Option<Array1<f32>> {
        self.f32s(n).map(Array1::from)
    }

    fn quant(&mut self, rows: usize, cols: usize) -> Option<QuantRows> {
        let scales = self.f32s(rows)?;
        let data = self.bytes(rows.checked_mul(cols)?)?;
        Some(QuantRows { cols, scales, data })
    }

    /// A Linear layer: its matrix (one int8 row and scale per output) turned
    /// inputs × outputs, and its bias.
    fn linear(&mut self, outputs: usize, inputs: usize) -> Option<Linear> {
        let q = self.quant(outputs, inputs)?;
        let mut weight = vec![0i8; q.data.len()];
        for (o, row) in q.data.chunks_exact(inputs).enumerate() {
            for (i, b) in row.iter().enumerate() {
                weight[i * outputs + o] = i8::from_le_bytes([*b]);
            }
        }
        Some(Linear {
            weight,
            scales: q.scales,
            outputs,
            bias: self.vector(outputs)?,
        })
    }

    fn norm(&mut self, n: usize) -> Option<Norm> {
        Some(Norm {
            weight: self.vector(n)?,
            bias: self.vector(n)?,
        })
    }
}

impl Model {
    fn parse(bytes: &'static [u8]) -> Option<Self> {
        let mut r = Reader { file: bytes, at: 0 };
        if r.bytes(4)? != b"PTR2" {
            return None;
        }
        let tokens = r.u32()?;
        let hidden = r.u32()?;
        let layer_count = r.u32()?;
        let heads = r.u32()?;
        let inter = r.u32()?;
        let positions = r.u32()?;
        if heads == 0 || hidden == 0 || inter == 0 || hidden % heads != 0 || positions < MAX_TOKENS
        {
            return None;
        }
        let mut vocab = HashMap::with_capacity(tokens);
        for id in 0..tokens {
            let len = usize::from(r.bytes(1)?[0]);
            let word = std::str::from_utf8(r.bytes(len)?).ok()?;
            vocab.insert(word.into(), u32::try_from(id).ok()?);
        }
        let words = r.quant(tokens, hidden)?;
        let positions =
            Array2::from_shape_vec((positions, hidden), r.f32s(positions * hidden)?).ok()?;
        let token_type = r.vector(hidden)?;
        let norm = r.norm(hidden)?;
        let mut layers = Vec::with_capacity(layer_count);
        for _ in 0..layer_count {
            layers.push(Layer {
                query: r.linear(hidden, hidden)?,
                key: r.linear(hidden, hidden)?,
                value: r.linear(hidden, hidden)?,
                attention_out: r.linear(hidden, hidden)?,
                attention_norm: r.norm(hidden)?,
                up: r.linear(inter, hidden)?,
                down: r.linear(hidden, inter)?,
                out_norm: r.norm(hidden)?,
            });
        }
        (r.at == bytes.len()).then_some(())?;
        Some(Self {
            unk: *vocab.get("[UNK]")?,
            cls: *vocab.get("[CLS]")?,
            sep: *vocab.get("[SEP]")?,
            vocab,
            hidden,
            heads,
            words,
            positions,
            token_type,
            norm,
            layers,
        })
    }

    /// Whether the vocabulary holds the word whole: a common English word,
    /// not a misspelling.
    pub fn is_word(&self, word: &str) -> bool {
        self.vocab.contains_key(word)
    }

    pub fn dims(&self) -> usize {
        self.hidden
    }

    /// The WordPiece ids of a text, as BERT's uncased tokenizer cuts it:
    /// lowercased, accents stripped, punctuation a token of its own, a word
    /// with no pieces in the vocabulary `[UNK]`.
    pub fn tokens(&self, text: &str) -> Vec<u32> {
        let clean: String = text
            .nfd()
            .filter(|c| !is_combining_mark(*c))
            .flat_map(char::to_lowercase)
            .collect();
        let mut ids = Vec::new();
        let mut start = None;
        for (i, c) in clean.char_indices() {
            let punctuation = !c.is_alphanumeric() && !c.is_whitespace();
            if c.is_whitespace() || punctuation {
                if let Some(s) = start.take() {
                    self.word_pieces(&clean[s..i], &mut ids);
                }
                if punctuation {
                    self.word_pieces(&clean[i..i + c.len_utf8()], &mut ids);
                }
            } else if start.is_none() {
                start = Some(i);
            }
        }
        if let Some(s) = start {
            self.word_pieces(&clean[s..], &mut ids);
        }
        ids
    }

    fn word_pieces(&self, word: &str, ids: &mut Vec<u32>) {
        if word.chars().count() > 100 {
            ids.push(self.unk);
            return;
        }
        let before = ids.len();
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
            let Some(id) = found else {
                ids.truncate(before);
                ids.push(self.unk);
                return;
            };
            ids.push(id);
            start = end;
        }
    }

    /// The unit vector of a text, or `None` when it has no letter or digit.
    pub fn embed(&self, text: &str) -> Option<Vec<f32>> {
        if !text.chars().any(char::is_alphanumeric) {
            return None;
        }
        let mut ids = vec![self.cls];
        ids.extend(self.tokens(text).into_iter().take(MAX_TOKENS - 2));
        ids.push(self.sep);
        let mut pooled = self.forward(&ids).to_vec();
        normalise(&mut pooled).then_some(pooled)
    }

    /// The mean of the last layer's token states, as the sentence model
    /// pools them.
    fn forward(&self, ids: &[u32]) -> Array1<f32> {
        let n = ids.len();
        let mut x = Array2::zeros((n, self.hidden));
        for (i, (id, mut row)) in ids.iter().zip(x.rows_mut()).enumerate() {
            row += &self.positions.row(i);
            row += &self.token_type;
            if let Some(row) = row.as_slice_mut() {
                self.words.add_row(*id as usize, row);
            }
        }
        self.norm.apply(&mut x);
        let size = self.hidden / self.heads;
        let scale = 1.0 / (size as f32).sqrt();
        for layer in &self.layers {
            let q = layer.query.forward(&x.view());
            let k = layer.key.forward(&x.view());
            let v = layer.value.forward(&x.view());
            let mut context = Array2::zeros((n, self.hidden));
            for h in 0..self.heads {
                let cols = Slice::from(h * size..(h + 1) * size);
                let mut scores = q
                    .slice_axis(Axis(1), cols)
                    .dot(&k.slice_axis(Axis(1), cols).t());
                for mut row in scores.rows_mut() {
                    let max = row.fold(f32::NEG_INFINITY, |m, v| m.max(*v));
                    row.mapv_inplace(|v| ((v - max) * scale).exp());
                    let sum = row.sum();
                    row /= sum;
                }
                context
                    .slice_axis_mut(Axis(1), cols)
                    .assign(&scores.dot(&v.slice_axis(Axis(1), cols)));
            }
            let mut attended = layer.attention_out.forward(&context.view());
            attended += &x;
            layer.attention_norm.apply(&mut attended);
            let mut up = layer.up.forward(&attended.view());
            up.mapv_inplace(gelu);
            x = layer.down.forward(&up.view());
            x += &attended;
            layer.out_norm.apply(&mut x);
        }
        x.mean_axis(Axis(0))
            .unwrap_or_else(|| Array1::zeros(self.hidden))
    }
}

/// GELU with erf by Abramowitz and Stegun 7.1.26 (error below 1.5e-7).
fn gelu(x: f32) -> f32 {
    let z = (x / std::f32::consts::SQRT_2).abs();
    let t = 1.0 / (1.0 + 0.327_591_1 * z);
    let poly = t
        * (0.254_829_6
            + t * (-0.284_496_74 + t * (1.421_413_7 + t * (-1.453_152 + t * 1.061_405_4))));
    let erf = (1.0 - poly * (-z * z).exp()).copysign(x);
    0.5 * x * (1.0 + erf)
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

    fn m() -> &'static Model {
        model().unwrap_or_else(|| panic!("the model compiled into the crate must load"))
    }

    #[test]
    fn the_model_loads_and_cuts_words_into_pieces() {
        let m = m();
        assert_eq!(m.dims(), 384);
        assert!(m.vocab.len() > 20_000);
        // Punctuation is a token of its own, as BERT's tokenizer makes it.
        assert_eq!(m.tokens("Hello, World!").len(), 4);
        // An unknown long word is cut into pieces rather than dropped.
        assert!(m.tokens("unrefundable").len() >= 2);
        // Accents are stripped as BERT's uncased tokenizer does.
        assert_eq!(m.tokens("café"), m.tokens("cafe"));
        // A word with no pieces at all is [UNK], not dropped.
        assert_eq!(m.tokens("日本 ок"), vec![m.unk, m.unk]);
    }

    #[test]
    fn a_truncated_or_foreign_file_is_refused() {
        assert!(Model::parse(&BYTES[..BYTES.len() - 1]).is_none());
        assert!(Model::parse(&BYTES[..4096]).is_none());
        let mut other = BYTES.to_vec();
        other[..4].copy_from_slice(b"PSE1");
        assert!(Model::parse(Box::leak(other.into_boxed_slice())).is_none());
    }

    #[test]
    fn the_erf_approximation_is_close() {
        // GELU(1) = 0.8413447, GELU(-1) = -0.1586553, GELU(0) = 0.
        assert!((gelu(1.0) - 0.841_344_7).abs() < 1e-5);
        assert!((gelu(-1.0) + 0.158_655_3).abs() < 1e-5);
        assert_eq!(gelu(0.0), 0.0);
    }

    #[test]
    fn it_gives_the_vectors_of_the_transformer() {
        // Reference values from the float model in numpy (model/export.py's
        // forward pass): the first components of "I want my money back".
        let v = m()
            .embed("I want my money back")
            .unwrap_or_else(|| panic!("a vector"));
        let reference = [
            -0.0588, 0.0724, -0.0302, -0.0127, -0.0371, -0.029, 0.0857, -0.0156,
        ];
        assert_eq!(v.len(), 384);
        for (got, want) in v.iter().zip(reference) {
            assert!((got - want).abs() < 0.004, "{got} vs {want}");
        }
        let norm: f32 = v.iter().map(|x| x * x).sum();
        assert!((norm - 1.0).abs() < 1e-4);
    }

    #[test]
    fn paraphrases_are_closer_than_unrelated_sentences() {
        let m = m();
        let e = |t: &str| m.embed(t).unwrap_or_else(|| panic!("no vector for {t}"));
        let refund = e("I want my money back");
        let policy = e("Your refund is issued to the original payment method");
        let weather = e("is it going to rain in berlin tomorrow");
        assert!(cosine(&refund, &policy) > cosine(&refund, &weather) + 0.2);
        assert!((cosine(&refund, &refund) - 1.0).abs() < 1e-4);
        assert_eq!(m.embed("!!! ???"), None);
        // A very long text is cut, not refused.
        assert!(m.embed(&"refund ".repeat(1000)).is_some());
    }
}
