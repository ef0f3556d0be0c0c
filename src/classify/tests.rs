//! Tables of texts and what classification must say about them.

use super::*;
use std::path::Path;

fn classifier(src: &str) -> Classifier {
    Classifier::new(&Watchlists::of_file("t.toml", src)).unwrap_or_else(|d| panic!("{d}"))
}

const SCENIC: &str = r#"
[[topic]]
id = "scenic-safety"
name = "景区安全"
severity = "major"
any = ["踩踏", "坍塌", "落水", "火灾"]
all = ["景区"]
none = ["演练", "应急预案"]

[[topic]]
id = "casualties"
name = "伤亡"
severity = "large"

[[topic.rule]]
regex = ['死亡\d+人']

[[topic.rule]]
severity = "especially_major"
regex = ['死亡\d{2,}人']

[[topic]]
id = "hotel"
name = "酒店火情"
near = { terms = ["酒店", "起火"], within = 4 }

[[topic]]
id = "forum-only"
name = "论坛"
sources = ["forum"]
any = ["宰客"]
"#;

/// (text, source, expected `(topic, severity)`s)
type Case<'a> = (&'a str, Option<&'a str>, &'a [(&'a str, Severity)]);

#[test]
fn classifies_table() {
    let c = classifier(SCENIC);
    use Severity::*;
    let table: &[Case] = &[
        ("景區發生踩踏", None, &[("scenic-safety", Major)]),
        ("景 区\u{200B}发生坍 塌", None, &[("scenic-safety", Major)]),
        ("景区举行踩踏应急演练", None, &[]),
        ("发生踩踏", None, &[]),
        ("事故造成死亡3人", None, &[("casualties", Large)]),
        (
            "事故造成死亡１２人",
            None,
            &[("casualties", EspeciallyMajor)],
        ),
        ("某酒店今晨起火", None, &[("hotel", Ordinary)]),
        ("酒店附近的一栋居民楼起火", None, &[]),
        ("起火的是酒店", None, &[("hotel", Ordinary)]),
        ("景区宰客", Some("forum"), &[("forum-only", Ordinary)]),
        ("景区宰客", Some("gov-news"), &[]),
        ("景区宰客", None, &[("forum-only", Ordinary)]),
        (
            "景区火灾，死亡12人",
            None,
            &[("scenic-safety", Major), ("casualties", EspeciallyMajor)],
        ),
        ("", None, &[]),
    ];
    for (text, source, want) in table {
        let got = c.classify(text, *source);
        let got: Vec<_> = got
            .topics
            .iter()
            .map(|t| (t.id.as_str(), t.severity))
            .collect();
        assert_eq!(&got, want, "text {text:?} source {source:?}");
    }
}

#[test]
fn evidence_points_into_the_text_as_given() {
    let c = classifier(SCENIC);
    let text = "據報，盤(pán)山縣某景&#21306;發生踩\u{200B}踏";
    let got = c.classify(text, None);
    assert_eq!(got.severity, Some(Severity::Major));
    let chars: Vec<char> = text.chars().collect();
    let quotes: Vec<(String, String)> = got.topics[0]
        .evidence
        .iter()
        .map(|e| (e.term.clone(), chars[e.start..e.end].iter().collect()))
        .collect();
    assert_eq!(
        quotes,
        [
            ("景区".to_string(), "景&#21306;".to_string()),
            ("踩踏".to_string(), "踩\u{200B}踏".to_string())
        ]
    );
}

#[test]
fn pinyin_annotated_place_names_match() {
    let c = classifier("[[topic]]\nid = \"p\"\nany = [\"盘山县\"]\n");
    let text = "盤(pán)山縣人民政府";
    let got = c.classify(text, None);
    assert_eq!(got.topics.len(), 1);
    let e = &got.topics[0].evidence[0];
    assert_eq!((e.start, e.end), (0, 8));
}

#[test]
fn json_has_design_shape() {
    let c = classifier(SCENIC);
    let json = serde_json::to_string(&c.classify("景区踩踏", None)).expect("json");
    assert_eq!(
        json,
        r#"{"topics":[{"id":"scenic-safety","name":"景区安全","severity":"major","evidence":[{"term":"景区","start":0,"end":2},{"term":"踩踏","start":2,"end":4}]}],"severity":"major","tone":{"label":"negative","score":-0.89}}"#
    );
    let none = serde_json::to_string(&c.classify("景区门票价格公示", None)).expect("json");
    assert_eq!(
        none,
        r#"{"topics":[],"severity":null,"tone":{"label":"neutral","score":0.17}}"#
    );
}

#[test]
fn explain_names_rule_words_and_exclusion() {
    let c = classifier(SCENIC);
    let e = c.explain("景区举行踩踏应急演练", None);
    assert!(e.classification.topics.is_empty());
    let text = e.to_string();
    assert!(text.contains("未命中任何专题。"), "{text}");
    assert!(
        text.contains("专题 scenic-safety（景区安全）[t.toml]：未命中"),
        "{text}"
    );
    assert!(
        text.contains("规则 1（第 3 行，重大）：被排除：none \"演练\" 第 9–10 字「演练」"),
        "{text}"
    );
    assert!(
        text.contains("找到 any \"踩踏\" 第 5–6 字「踩踏」"),
        "{text}"
    );
    // People read Chinese; the watchlist's own words stay as written.
    assert!(
        !text.contains("matched") && !text.contains("rule "),
        "{text}"
    );

    let e = c.explain("酒店附近的一栋居民楼起火", None);
    assert!(e.to_string().contains("相距 8 字，超过 4 字"), "{e}");
    // The diagnostics of `check` (file:line: message) keep the English.
    assert!(
        e.topics
            .iter()
            .any(|t| t.summary().contains("are 8 characters apart, more than 4")),
        "{e}"
    );

    let e = c.explain("景区宰客", Some("gov-news"));
    assert!(
        e.to_string().contains("跳过：该专题不监测来源 `gov-news`"),
        "{e}"
    );
}

#[test]
fn overlapping_terms_are_all_found() {
    let c = classifier("[[topic]]\nid = \"a\"\nall = [\"景区\", \"景区安全\", \"安全事故\"]\n");
    assert_eq!(c.classify("景区安全事故", None).topics.len(), 1);
}

#[test]
fn examples_report_their_line() {
    let src = r#"[[topic]]
id = "s"
any = ["踩踏"]
none = ["演练"]

[[topic.example]]
text = "发生踩踏"
expect = true

[[topic.example]]
text = "踩踏演练"
expect = true

[[topic.example]]
text = "天气晴"
expect = true
"#;
    let w = Watchlists::of_file("t.toml", src);
    let c = Classifier::new(&w).expect("compiles");
    let d = c.run_examples(&w);
    let got: Vec<_> = d.0.iter().map(|d| (d.line, d.message.as_str())).collect();
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(got[0].0, Some(10));
    assert!(
        got[0].1.contains("excluded by none \"演练\""),
        "{}",
        got[0].1
    );
    assert_eq!(got[1].0, Some(14));
    assert!(got[1].1.contains("none of its terms"), "{}", got[1].1);
}

#[test]
fn fixture_examples_hold() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/watchlists");
    let w = crate::classify::watchlist::load_dir(&dir).unwrap_or_else(|d| panic!("{d}"));
    let c = Classifier::new(&w).unwrap_or_else(|d| panic!("{d}"));
    let d = c.run_examples(&w);
    assert!(d.is_empty(), "{d}");
}

#[test]
fn classifier_is_shareable() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Classifier>();
}

#[test]
fn terms_of_every_chinese_char_still_match() {
    // Every CJK (and extension A) char in 2-char terms: some 27,000 distinct chars, a
    // root of as many children in the dictionary's trie.
    let chars: Vec<char> = (0x3400u32..0x4DC0)
        .chain(0x4E00..0xA000)
        .filter_map(char::from_u32)
        .filter(|&c| normalize_term(&c.to_string()) == c.to_string())
        .collect();
    let terms: Vec<String> = chars
        .chunks(2)
        .map(|p| format!("\"{}\"", p.iter().collect::<String>()))
        .collect();
    let src = format!("[[topic]]\nid = \"big\"\nany = [{}]\n", terms.join(", "));
    let c = classifier(&src);
    let last: String = chars[chars.len() - 2..].iter().collect();
    let text = format!("前言：{last}");
    let got = c.classify(&text, None);
    assert_eq!(got.topics.len(), 1);
    assert_eq!(
        (
            got.topics[0].evidence[0].start,
            got.topics[0].evidence[0].end
        ),
        (3, 5)
    );
}

#[test]
fn a_dismissal_is_explained_with_the_phrase_to_exclude() {
    let w = Watchlists::of_file(
        "w/fire.toml",
        "[[topic]]\nid = \"fire\"\nname = \"火灾\"\nseverity = \"major\"\nany = [\"起火\"]\n",
    );
    let c = crate::classify::Classifier::new(&w).unwrap();
    let text = "美术馆新展\"起火的颜色\"开幕";
    let hint = c.explain(text, None).dismissal_hint(text, "fire");
    assert!(
        hint[0].starts_with("命中原因：专题“火灾”（w/fire.toml:")
            && hint[0].ends_with("第 1 条规则）命中了 “起火”"),
        "{hint:?}"
    );
    assert!(hint[1].ends_with("none = [\"起火的颜色\"]"), "{hint:?}");
    assert!(c
        .explain("一般新闻", None)
        .dismissal_hint("一般新闻", "fire")
        .is_empty());
}

#[test]
fn a_topic_may_require_negative_tone() {
    let c = classifier(
        r#"
[[topic]]
id = "tickets"
name = "门票负面"
tone = "negative"
any = ["门票"]
"#,
    );
    let complaint = c.classify("凭什么门票一年三涨？游客吐槽景区宰客", None);
    assert_eq!(complaint.tone.label, tone::ToneLabel::Negative);
    assert_eq!(complaint.topics.len(), 1, "{complaint:?}");
    let notice = c.classify("关于调整景区门票预约方式的公告", None);
    assert_ne!(notice.tone.label, tone::ToneLabel::Negative);
    assert!(notice.topics.is_empty(), "{notice:?}");
    let why = c
        .explain("关于调整景区门票预约方式的公告", None)
        .to_string();
    assert!(why.contains("只收语气为 `negative` 的信息"), "{why}");
}

#[test]
fn classify_json_has_the_tone() {
    let c = classifier(SCENIC);
    let json = serde_json::to_value(c.classify("景区发生踩踏，多人受伤", None)).unwrap();
    assert_eq!(json["tone"]["label"], "negative", "{json}");
    let score = json["tone"]["score"].as_f64().unwrap();
    assert!((-1.0..=-0.2).contains(&score), "{json}");
}

/// Texts of the tone's and the fold's hard cases: complaint and praise words, negation,
/// quotes (a single praise char quoted), questions, Traditional chars that convert by
/// their neighbours (乾 著 於), full-width forms, entities, spaces and inline pinyin.
pub(super) fn tone_texts() -> Vec<String> {
    let pieces = [
        "景区",
        "太差",
        "失望",
        "不",
        "很好",
        "但是",
        "“",
        "好",
        "”",
        "\"",
        "服务",
        "？",
        "?",
        "吗",
        "凭什么",
        "。",
        "，",
        "！",
        "\n",
        " ",
        "乾",
        "著",
        "於",
        "兒",
        "發",
        "區",
        "ＡＢ",
        "１２",
        "&amp;",
        "&#21306;",
        "盤(pán)",
        "(",
        "整治",
        "演练",
        "宰客",
        "\u{200B}",
        "ﬁ",
    ];
    super::random_texts(&pieces, 2000, 30, 0x2545_F491_4F6C_DD1D)
}

#[test]
fn the_tone_read_inside_the_fold_is_the_tone_of_the_folded_text() {
    // `classify` reads the tone's chars as the fold makes them, in buffers kept from the
    // item before; the scorer alone folds first and reads the folded text afterwards.
    let c = classifier(SCENIC);
    let scorer = c.tone_scorer();
    let texts = tone_texts();
    for (i, text) in texts.iter().enumerate() {
        let fused = c.classify(text, None);
        assert_eq!(fused.tone, scorer.tone(text), "{text:?}");
        // The same verdict again after another item has used the buffers.
        let other = &texts[(i * 7 + 3) % texts.len()];
        c.classify(other, None);
        assert_eq!(c.classify(text, None), fused, "{text:?}");
    }
}
