#!/usr/bin/env python3
"""Writes the tone's second untuned evaluation set (see tests/fixtures/tone/README.md):
SMP2020-EWECT's general-domain Weibo test split, as UER-py ships it
(datasets/smp2020-ewect/usual/test.tsv: `label`, `text_a`; 0 neutral, 1 angry, 2 happy,
3 sad, 4 fear, 5 surprise), turned into the `label`, `text` rows of untuned.tsv:

    angry, sad, fear  -> negative
    neutral, surprise -> neutral
    happy             -> positive

The set is not kept in the repository; `cargo bench --bench tone` reads it from
$YUQING_TONE_SECOND_SET, else ~/.cache/yuqing-tone-eval/smp2020-usual-test.tsv.

    python3 scripts/tone_second_set.py path/to/usual/test.tsv [OUT]
"""

import hashlib
import os
import sys

SHA256 = "154ac29c733b4448defa07f8601473f199d6cc1fc55f9317b64cb0d75f55cd77"
LABELS = {"0": "neutral", "1": "negative", "2": "positive", "3": "negative",
          "4": "negative", "5": "neutral"}


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    src = sys.argv[1]
    out = sys.argv[2] if len(sys.argv) == 3 else os.path.expanduser(
        "~/.cache/yuqing-tone-eval/smp2020-usual-test.tsv")
    data = open(src, "rb").read()
    digest = hashlib.sha256(data).hexdigest()
    if digest != SHA256 and not os.environ.get("TONE_ACCEPT_SHA"):
        sys.exit(f"{src}: sha256 {digest}, expected {SHA256} (TONE_ACCEPT_SHA=1 to accept)")
    lines = data.decode("utf-8").splitlines()
    if lines[0].split("\t") != ["label", "text_a"]:
        sys.exit(f"{src}:1: expected the header label<TAB>text_a")
    rows = []
    for n, line in enumerate(lines[1:], start=2):
        label, _, text = line.partition("\t")
        if label not in LABELS or not text.strip():
            sys.exit(f"{src}:{n}: label `{label}` or an empty text")
        text = " ".join(text.split())  # one line, no tabs
        rows.append(f"{LABELS[label]}\t{text}")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w", encoding="utf-8") as f:
        f.write("label\ttext\n" + "\n".join(rows) + "\n")
    print(f"{out}: {len(rows)} rows")


if __name__ == "__main__":
    main()
