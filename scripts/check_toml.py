#!/usr/bin/env python3
"""Checks the starter files without building the crate.

- config/yuqing.toml parses, uses only the keys src/config.rs accepts, and its ids, URLs,
  page selectors and channel kinds are sane;
- every watchlists/*.toml parses, uses only the keys the watchlist parser accepts, names
  valid severities, has compilable regexes (Python `re`, close to Rust `regex` for the
  patterns used here) and only `sources` ids that the config defines;
- every `[[topic.example]]` comes out as stated, under an approximation of the classifier
  (NFKC + lower-case + spaces next to CJK dropped; no Traditional → Simplified fold), and
  every expect = true example contains at least one `any` term of its topic literally;
- the demo feeds parse, and which topics each demo item matches is printed.

The Rust test (yuqing::watchlist::load_dir, yuqing check) is the authority; this is a
quick pre-merge check. Usage: python3 scripts/check_toml.py [REPO_ROOT]
"""

import re
import sys
import tomllib
import unicodedata
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent)
SEVERITIES = ["ordinary", "large", "major", "especially_major"]
errors: list[str] = []


def err(where: str, msg: str) -> None:
    errors.append(f"{where}: {msg}")


# --- config ------------------------------------------------------------------------------

CONFIG_KEYS = {
    "": {"daemon", "mail", "people", "deadlines", "source", "channel"},
    "daemon": {"watchlists", "timezone", "database", "calendar", "state_dir", "tick", "user_agent"},
    "mail": {"transport", "dir", "from", "smtp", "retry_min", "retry_max"},
    "smtp": {"host", "port", "tls", "user", "timeout"},
    "people": {"duty", "leaders", "principal", "operators"},
    "deadlines": {"major_release", "major_press_conference", "ordinary_response"},
    "source": {"id", "name", "kind", "url", "every", "timeout", "headers",
               "item", "title", "link", "date", "summary"},
    "channel": {"id", "name", "kind", "feed", "url", "owner", "duty"},
}
SPAN = re.compile(r"^(\d+[smhdw])+$")
MAIL = re.compile(r"^(?:[^<>]*<)?[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+>?$")


def unknown(where: str, table: dict, section: str) -> None:
    for k in table:
        if k not in CONFIG_KEYS[section]:
            err(where, f"unknown key `{k}` in [{section or 'top level'}] (config.rs rejects it)")


def check_config(path: Path) -> set[str]:
    where = str(path.relative_to(ROOT))
    try:
        cfg = tomllib.loads(path.read_text(encoding="utf-8"))
    except Exception as e:  # noqa: BLE001
        err(where, f"does not parse: {e}")
        return set()
    unknown(where, cfg, "")
    for section in ("daemon", "mail", "people", "deadlines"):
        unknown(where, cfg.get(section, {}), section)
    if "smtp" in cfg.get("mail", {}):
        unknown(where, cfg["mail"]["smtp"], "smtp")
    for key in ("tick",):
        v = cfg.get("daemon", {}).get(key)
        if v is not None and not SPAN.match(v):
            err(where, f"daemon.{key} `{v}` is not a duration")
    for table in ("mail", "deadlines"):
        for k, v in cfg.get(table, {}).items():
            if k in ("retry_min", "retry_max") or table == "deadlines":
                if not SPAN.match(v):
                    err(where, f"{table}.{k} `{v}` is not a duration")
    for k, people in cfg.get("people", {}).items():
        for p in people:
            if not MAIL.match(p.strip()):
                err(where, f"people.{k}: `{p}` is not a mail address")
    ids: set[str] = set()
    for s in cfg.get("source", []):
        unknown(where, s, "source")
        sid = s.get("id", "")
        if not re.fullmatch(r"[A-Za-z0-9._-]+", sid) or sid in ids:
            err(where, f"source id `{sid}` is invalid or duplicate")
        ids.add(sid)
        if not re.match(r"^https?://", s.get("url", "")):
            err(where, f"source `{sid}`: url must be http(s)")
        for k in ("every", "timeout"):
            if k in s and not SPAN.match(s[k]):
                err(where, f"source `{sid}`: {k} `{s[k]}` is not a duration")
        if s.get("kind") == "page":
            for k in ("item", "title", "link"):
                if k not in s:
                    err(where, f"source `{sid}`: a page needs `{k}`")
        elif s.get("kind") == "feed":
            for k in ("item", "title", "link", "date", "summary"):
                if k in s:
                    err(where, f"source `{sid}`: a feed takes no `{k}` selector")
        else:
            err(where, f"source `{sid}`: unknown kind `{s.get('kind')}`")
    for c in cfg.get("channel", []):
        unknown(where, c, "channel")
        cid = c.get("id", "")
        if not re.fullmatch(r"[A-Za-z0-9._-]+", cid) or cid in ids:
            err(where, f"channel id `{cid}` is invalid or duplicate")
        ids.add(cid)
        if c.get("kind") not in ("website", "column", "wechat", "weibo", "app"):
            err(where, f"channel `{cid}`: unknown kind `{c.get('kind')}`")
        if not re.match(r"^https?://", c.get("feed", c.get("url", ""))):
            err(where, f"channel `{cid}`: needs an http(s) feed or url")
        owners = c.get("owner", [])
        for o in [owners] if isinstance(owners, str) else owners:
            if not MAIL.match(o.strip()):
                err(where, f"channel `{cid}`: owner `{o}` is not a mail address")
        duty = c.get("duty")
        if duty is not None and not re.fullmatch(r"weekly|working_days:\d+|every:\d+[dw]", duty):
            err(where, f"channel `{cid}`: duty `{duty}` is not weekly or working_days:N")
    return ids


# --- the classifier, approximately --------------------------------------------------------

CJK = r"\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"


def fold(text: str) -> str:
    t = unicodedata.normalize("NFKC", text).lower()
    t = re.sub("[\u200b-\u200d\u2060\ufeff]", "", t)
    t = re.sub(rf"(?<=[{CJK}])\s+|\s+(?=[{CJK}])", "", t)
    return re.sub(r"\s+", " ", t)


def positions(text: str, term: str) -> list[tuple[int, int]]:
    term = fold(term)
    out, i = [], text.find(term)
    while i >= 0:
        out.append((i, i + len(term)))
        i = text.find(term, i + 1)
    return out


def rule_matches(rule: dict, text: str) -> bool:
    if any(not positions(text, t) for t in rule.get("all", [])):
        return False
    anys = rule.get("any", [])
    if anys and not any(positions(text, t) for t in anys):
        return False
    if any(positions(text, t) for t in rule.get("none", [])):
        return False
    near = rule.get("near")
    if near:
        occ = [positions(text, t) for t in near["terms"]]
        if any(not o for o in occ):
            return False
        # smallest gap between the earliest end and the latest start over all choices
        best = None
        flat = sorted((s, e, k) for k, o in enumerate(occ) for s, e in o)
        last_end: dict[int, int] = {}
        for s, e, k in flat:
            last_end[k] = max(last_end.get(k, -1), e)
            if len(last_end) == len(occ):
                gap = s - min(last_end[j] if j != k else e for j in last_end)
                best = gap if best is None else min(best, gap)
        if best is None or best > near["within"]:
            return False
    regexes = rule.get("regex", [])
    if regexes and not any(re.search(r, text, re.I) for r in regexes):
        return False
    return True


def rules_of(topic: dict) -> list[dict]:
    if "rule" in topic:
        return [{**r, "severity": r.get("severity", topic.get("severity", "ordinary"))}
                for r in topic["rule"]]
    return [{k: topic[k] for k in ("any", "all", "none", "regex", "near", "severity") if k in topic}]


def classify(topics: list[dict], text: str, source: str | None = None) -> list[tuple[str, str]]:
    folded = fold(text)
    out = []
    for t in topics:
        if source and t.get("sources") and source not in t["sources"]:
            continue
        sev = [r.get("severity", "ordinary") for r in rules_of(t) if rule_matches(r, folded)]
        if sev:
            out.append((t["id"], max(sev, key=SEVERITIES.index)))
    return out


# --- watchlists ----------------------------------------------------------------------------

TOPIC_KEYS = {"id", "name", "severity", "sources", "any", "all", "none", "regex", "near",
              "rule", "example"}
RULE_KEYS = {"severity", "any", "all", "none", "regex", "near"}
EXAMPLE_KEYS = {"text", "expect", "source"}


def line_of(source: str, needle: str) -> int:
    i = source.find(needle)
    return source.count("\n", 0, i) + 1 if i >= 0 else 0


def check_watchlists(folder: Path, ids: set[str]) -> list[dict]:
    topics: list[dict] = []
    seen: dict[str, str] = {}
    files = sorted(folder.glob("*.toml"))
    if not files:
        err(str(folder), "no watchlist files")
    for path in files:
        where = str(path.relative_to(ROOT))
        source = path.read_text(encoding="utf-8")
        try:
            data = tomllib.loads(source)
        except Exception as e:  # noqa: BLE001
            err(where, f"does not parse: {e}")
            continue
        for k in data:
            if k != "topic":
                err(where, f"unknown top-level key `{k}`")
        for t in data.get("topic", []):
            tid = t.get("id", "")
            needle = 'id = "' + tid + '"'
            at = f"{where}:{line_of(source, needle)}"
            for k in t:
                if k not in TOPIC_KEYS:
                    err(at, f"topic `{tid}`: unknown key `{k}`")
            if not tid:
                err(at, "topic without id")
            if tid in seen:
                err(at, f"duplicate topic id `{tid}` (first in {seen[tid]})")
            seen[tid] = where
            if "rule" in t and any(k in t for k in ("any", "all", "none", "regex", "near")):
                err(at, f"topic `{tid}`: both top-level clauses and [[topic.rule]]")
            for s in t.get("sources", []):
                if s not in ids:
                    err(at, f"topic `{tid}`: source `{s}` is not in config/yuqing.toml")
            if t.get("severity", "ordinary") not in SEVERITIES:
                err(at, f"topic `{tid}`: bad severity `{t.get('severity')}`")
            for r in t.get("rule", []):
                for k in r:
                    if k not in RULE_KEYS:
                        err(at, f"topic `{tid}`: unknown rule key `{k}`")
                if r.get("severity", "ordinary") not in SEVERITIES:
                    err(at, f"topic `{tid}`: bad rule severity `{r.get('severity')}`")
            for r in rules_of(t):
                if not (r.get("any") or r.get("all") or r.get("regex") or r.get("near")):
                    err(at, f"topic `{tid}`: a rule with no positive clause")
                for p in r.get("regex", []):
                    try:
                        re.compile(p)
                    except re.error as e:
                        err(at, f"topic `{tid}`: regex `{p}` does not compile: {e}")
                for term in r.get("all", []):
                    if term in r.get("none", []):
                        err(at, f"topic `{tid}`: `{term}` both in all and none")
                for clause in ("any", "all", "none"):
                    for term in r.get(clause, []):
                        if not fold(term).strip():
                            err(at, f"topic `{tid}`: empty term in `{clause}`")
                near = r.get("near")
                if near and (set(near) != {"terms", "within"} or len(near["terms"]) < 2):
                    err(at, f"topic `{tid}`: near needs terms (>= 2) and within")
            examples = t.get("example", [])
            if not any(e.get("expect") for e in examples) or all(e.get("expect") for e in examples):
                err(at, f"topic `{tid}`: give examples that match and examples that do not")
            topics.append({**t, "_where": where, "_source": source})
    # Examples, against all topics (as `yuqing check` runs them).
    for t in topics:
        for e in t.get("example", []):
            at = f"{t['_where']}:{line_of(t['_source'], e.get('text', '')[:20])}"
            for k in e:
                if k not in EXAMPLE_KEYS:
                    err(at, f"example: unknown key `{k}`")
            got = [tid for tid, _ in classify(topics, e["text"], e.get("source"))]
            if (t["id"] in got) != e["expect"]:
                err(at, f"example should {'' if e['expect'] else 'not '}match `{t['id']}`; "
                        f"matched {got}")
            if e["expect"]:
                # Some rule must be able to hold on its `any` clause: one of its terms is in
                # the text literally, or the rule has no `any` (regex/all/near only).
                text = fold(e["text"])
                if not any(not r.get("any") or any(fold(a) in text for a in r["any"])
                           for r in rules_of(t)):
                    err(at, f"example of `{t['id']}` contains none of its `any` terms")
    return topics


# --- demo -----------------------------------------------------------------------------------

def check_demo(topics: list[dict]) -> None:
    for path in sorted((ROOT / "demo" / "feeds").glob("*.xml")):
        where = str(path.relative_to(ROOT))
        raw = path.read_bytes()
        m = re.match(rb'<\?xml[^>]*encoding="([^"]+)"', raw)
        enc = m.group(1).decode() if m else "utf-8"
        try:
            # ElementTree reads no multi-byte legacy encodings: decode, drop the declaration.
            text = raw.decode(enc)
            root = ET.fromstring(re.sub(r"^<\?xml[^>]*\?>", "", text))
        except UnicodeDecodeError as e:
            err(where, f"bytes are not {enc}: {e}")
            continue
        except ET.ParseError as e:
            err(where, f"does not parse as XML: {e}")
            continue
        print(f"{where} ({enc}):")
        for item in root.iter("item"):
            title = item.findtext("title") or ""
            desc = item.findtext("description") or ""
            date = item.findtext("pubDate") or ""
            if not re.search(r"\+0800$", date):
                err(where, f"item `{title}`: pubDate `{date}` is not RFC 2822 +0800")
            # The demo serves each file as a source named after it (city-news, forum, later).
            got = classify(topics, f"{title}\n{desc}", path.stem)
            shown = ", ".join(f"{i}({s})" for i, s in got) or "-"
            print(f"  {title[:40]:<42} -> {shown}")


def main() -> int:
    ids = check_config(ROOT / "config" / "yuqing.toml")
    topics = check_watchlists(ROOT / "watchlists", ids)
    examples = sum(len(t.get("example", [])) for t in topics)
    print(f"{len(topics)} topics, {examples} examples")
    if (ROOT / "demo" / "feeds").is_dir():
        check_demo(topics)
    for e in errors:
        print(e, file=sys.stderr)
    print("ok" if not errors else f"{len(errors)} problem(s)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
