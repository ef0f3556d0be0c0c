#!/usr/bin/env python3
"""Writes the tone's third untuned evaluation set (see tests/fixtures/tone/README.md):
the labelled training set of CCF BDCI 2019 互联网新闻情感分析 (internet news sentiment;
texts crawled from news sites, WeChat, blogs, Baidu Tieba; 0 positive, 1 neutral,
2 negative), as the GitHub repository U-Help/DS2019 keeps it, cut into five disjoint
folds and cleaned by that repository's preprocess.py (Chinese characters only, title and
content each cut to 30 characters):

    CCF-BDCI-Sentiment-Analysis-Baseline-master/data/data_{0,1,2,3,4}_filt/dev.csv
    (commit d51350c42a2943b3ec40adf3225ebb3af24a4be6; columns: index, id, title,
    content, label)

The label rule, written down before the set was scored:

    2 (负面) -> negative;  1 (中性) -> neutral;  0 (正面) -> positive

and the text is the title and the content as two fields (the bench joins them with a
newline, as for headlines.tsv); a content of 无 (the cleaner's mark for an empty one) or
equal to the title is left out; an item with neither is dropped; the five folds are
joined, and an id seen twice with two labels is dropped.

The data carries no licence (see the README): it is used for evaluation only, is not
kept in the repository, and no weights are derived from it. `cargo bench --bench tone`
reads the output from $YUQING_TONE_THIRD_SET, else
~/.cache/yuqing-tone-eval/bdci2019-news.tsv.

    python3 scripts/tone_third_set.py DIR [OUT]

or, to see what the source's cleaning alone costs, one of our own sets cleaned the same
way (Chinese characters only, each field cut to 30; see `clean` below):

    python3 scripts/tone_third_set.py --clean tests/fixtures/tone/untuned.tsv OUT

where DIR holds data_0_filt/dev.csv … data_4_filt/dev.csv, for instance from a clone
of U-Help/DS2019 at that commit:

    for i in 0 1 2 3 4; do mkdir -p DIR/data_${i}_filt; git show \\
      d51350c:CCF-BDCI-Sentiment-Analysis-Baseline-master/data/data_${i}_filt/dev.csv \\
      > DIR/data_${i}_filt/dev.csv; done
"""

import csv
import hashlib
import io
import os
import re
import sys

SHA256 = {
    0: "9df551267fc50c9de2c09f0b5ab8463915589fe001bb9e5c17b88a0752c4c743",
    1: "db6fffe7ac44d6616e0d94e2b766fa3b2cc583e93a2c842faa34df7314d071eb",
    2: "f3bb07f57e935dac4f16978d7c07893dca0a0fbde3991f8ba6162355185887db",
    3: "673daf64774d0fb5fee7757cc4b9913aab895fb91c005ba67f75806f6dbd5e21",
    4: "6ef9129cf0b0f72bef894100563bd93417c751b26a6f5b0242e2e51c83ac34ea",
}
LABELS = {"0": "positive", "1": "neutral", "2": "negative"}
EMPTY = "无"


def one_line(text):
    return " ".join(text.split())


# The cleaning U-Help/DS2019's preprocess.py applied to the source (title_filter and
# content_filter there, which are the same): bracketed text out, then every char that is
# not a CJK ideograph, then the date and number chars, then cut to 30 chars.
BRACKETS = re.compile(r"\(.*?\)|\{.*?}|\[.*?]|\<.*?>|（.*?）|【.*?】|《.*?》")
NOT_CJK = re.compile("[^\u4E00-\u9FA5]")
DATE_CHARS = re.compile("年|月|日|十|百|千|万|亿|星期|礼拜")


def clean(text):
    text = DATE_CHARS.sub("", NOT_CJK.sub("", BRACKETS.sub("", text)))
    return text[:30]


def clean_own(src, out):
    """Writes one of tests/fixtures/tone's sets (label, then one or two text fields) as the
    third set's rows: each text field cleaned like the source."""
    lines = open(src, encoding="utf-8").read().splitlines()
    rows = []
    for line in lines[1:]:
        label, *fields = line.split("\t")
        fields = [clean(f) for f in fields] + [""] * (2 - len(fields))
        if fields[1] == fields[0]:
            fields[1] = ""
        rows.append("\t".join([label] + fields))
    with open(out, "w", encoding="utf-8") as f:
        f.write("label\ttitle\tcontent\n" + "\n".join(rows) + "\n")
    print(f"{out}: {len(rows)} rows of {src}, cleaned like the third source")


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "--clean":
        return clean_own(sys.argv[2], sys.argv[3])
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    src = sys.argv[1]
    out = sys.argv[2] if len(sys.argv) == 3 else os.path.expanduser(
        "~/.cache/yuqing-tone-eval/bdci2019-news.tsv")
    items = {}  # id -> (label, title, content)
    conflicting = set()
    for fold, expected in SHA256.items():
        path = os.path.join(src, f"data_{fold}_filt", "dev.csv")
        data = open(path, "rb").read()
        digest = hashlib.sha256(data).hexdigest()
        if digest != expected and not os.environ.get("TONE_ACCEPT_SHA"):
            sys.exit(f"{path}: sha256 {digest}, expected {expected} (TONE_ACCEPT_SHA=1 to accept)")
        reader = csv.reader(io.StringIO(data.decode("utf-8")))
        header = next(reader)
        if header[1:] != ["id", "title", "content", "label"]:
            sys.exit(f"{path}:1: expected the header ,id,title,content,label")
        for n, row in enumerate(reader, start=2):
            if len(row) != 5 or row[4] not in LABELS:
                sys.exit(f"{path}:{n}: expected 5 fields and a label 0, 1 or 2")
            _, id_, title, content, label = row
            title, content = one_line(title), one_line(content)
            if id_ in items and items[id_][0] != LABELS[label]:
                conflicting.add(id_)
            items[id_] = (LABELS[label], title, content)
    rows = []
    dropped = 0
    for id_, (label, title, content) in items.items():
        if id_ in conflicting:
            continue
        if title == EMPTY:
            title = ""
        if content in (EMPTY, title):
            content = ""
        if not title and not content:
            dropped += 1
            continue
        rows.append(f"{label}\t{title}\t{content}")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w", encoding="utf-8") as f:
        f.write("label\ttitle\tcontent\n" + "\n".join(rows) + "\n")
    counts = {lab: sum(r.startswith(lab + "\t") for r in rows) for lab in LABELS.values()}
    labels_of = {}
    for r in rows:
        label, _, text = r.partition("\t")
        labels_of.setdefault(text, set()).add(label)
    twice = sum(len(v) > 1 for v in labels_of.values())
    print(f"{twice} texts appear with two or more labels (kept)")
    print(f"{out}: {len(rows)} rows {counts}; dropped {len(conflicting)} ids with two "
          f"labels and {dropped} empty items")


if __name__ == "__main__":
    main()
