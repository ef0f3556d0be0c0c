//! Tables of watchlist files and what `yuqing check` must say about them.

use super::*;

fn parse(src: &str) -> Result<Vec<Topic>, Diagnostics> {
    parse_file(Path::new("w/scenic.toml"), src)
}

/// Every diagnostic as `line: message`.
fn errors(src: &str) -> Vec<(Option<usize>, String)> {
    match parse(src) {
        Ok(_) => Vec::new(),
        Err(d) => d.0.into_iter().map(|d| (d.line, d.message)).collect(),
    }
}

#[test]
fn parses_design_example_with_implicit_rule() {
    let src = r#"
[[topic]]
id = "scenic-safety"
name = "景区安全"
severity = "major"
any = ["踩踏", "坍塌"]
all = ["景区"]
none = ["演练"]
regex = ['死亡\d+人']
sources = ["gov-news"]
"#;
    let topics = parse(src).expect("valid");
    assert_eq!(topics.len(), 1);
    let t = &topics[0];
    assert_eq!(
        (t.id.as_str(), t.name.as_str(), t.line),
        ("scenic-safety", "景区安全", 3)
    );
    assert_eq!(t.sources.as_deref(), Some(&["gov-news".to_string()][..]));
    assert_eq!(t.rules.len(), 1);
    let r = &t.rules[0];
    assert_eq!(r.severity, Severity::Major);
    assert_eq!(r.any, ["踩踏", "坍塌"]);
    assert_eq!(r.regex, [r"死亡\d+人"]);
    assert_eq!(r.line, 3);
}

#[test]
fn parses_rules_near_and_examples() {
    let src = r#"
[[topic]]
id = "hotel"
severity = "large"

[[topic.rule]]
any = ["火灾"]

[[topic.rule]]
severity = "especially_major"
near = { terms = ["酒店", "死亡"], within = 10 }

[[topic.example]]
text = "某酒店发生火灾"
expect = true
source = "forum"
"#;
    let t = &parse(src).expect("valid")[0];
    assert_eq!(t.name, "hotel");
    assert_eq!(t.rules.len(), 2);
    assert_eq!((t.rules[0].severity, t.rules[0].line), (Severity::Large, 6));
    assert_eq!(
        (t.rules[1].severity, t.rules[1].line),
        (Severity::EspeciallyMajor, 9)
    );
    let near = t.rules[1].near.as_ref().expect("near");
    assert_eq!((near.terms.len(), near.within), (2, 10));
    assert_eq!(t.examples.len(), 1);
    assert_eq!(t.examples[0].line, 13);
    assert!(t.examples[0].expect);
    assert_eq!(t.examples[0].source.as_deref(), Some("forum"));
}

#[test]
fn rejections_name_the_line() {
    // (file, expected line, a phrase the message must contain)
    let table: &[(&str, usize, &str)] = &[
        (
            "[[topic]]\nid = \"a\"\nany = [\"x\"]\nevry = 1\n",
            4,
            "unknown field `evry`",
        ),
        (
            "[[topic]]\nid = \"a\"\n[[topic.rule]]\nany = [\"x\"]\nseverty = \"major\"\n",
            5,
            "unknown field `severty`",
        ),
        (
            "[[topic]]\nid = \"a\"\nany = [\"x\"]\nregex = [\n  'ok',\n  '死亡(\\d+人',\n]\n",
            6,
            "invalid regex",
        ),
        (
            "[[topic]]\nid = \"a\"\nany = [\"x\"]\n\n[[topic]]\nid = \"a\"\nany = [\"y\"]\n",
            6,
            "duplicate topic id `a`",
        ),
        (
            "[[topic]]\nid = \"a\"\nany = [\"x\", \"\u{200B} \"]\n",
            3,
            "empty once folded",
        ),
        (
            "[[topic]]\nid = \"a\"\nall = [\"景区\"]\nnone = [\n \"景區\"]\n",
            5,
            "both `all` and `none`",
        ),
        (
            "[[topic]]\nid = \"a\"\nnone = [\"演练\"]\n",
            2,
            "no positive clause",
        ),
        (
            "[[topic]]\nid = \"a\"\n\n[[topic.rule]]\nnone = [\"演练\"]\n",
            4,
            "no positive clause",
        ),
        (
            "[[topic]]\nid = \"a\"\nany = [\"x\"]\nseverity = \"severe\"\n",
            4,
            "unknown severity `severe`",
        ),
        (
            "[[topic]]\nid = \"a\"\nany = [\"x\"]\n[[topic.rule]]\nany = [\"y\"]\n",
            2,
            "both top-level clauses and [[topic.rule]]",
        ),
        (
            "[[topic]]\nid = \"a\"\nnear = { terms = [\"x\"], within = 3 }\n",
            3,
            "at least two terms",
        ),
        ("[[topic]]\nid = \"\"\nany = [\"x\"]\n", 2, "`id` is empty"),
        (
            "[[topic]]\nid = \"x\"\nany = [\"a\"]\ntone = \"angry\"\n",
            4,
            "unknown tone",
        ),
    ];
    for (src, line, phrase) in table {
        let errs = errors(src);
        assert!(
            errs.iter()
                .any(|(l, m)| *l == Some(*line) && m.contains(phrase)),
            "expected line {line} with {phrase:?} for\n{src}\ngot {errs:?}"
        );
    }
}

#[test]
fn reports_every_mistake_of_a_file() {
    let src = "[[topic]]\nid = \"a\"\nany = [\"\"]\nregex = ['(']\n";
    let lines: Vec<_> = errors(src).into_iter().map(|(l, _)| l).collect();
    assert_eq!(lines, [Some(3), Some(4)]);
}

#[test]
fn load_dir_reads_sorted_toml_and_finds_duplicates_across_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let write = |name: &str, body: &str| {
        std::fs::write(dir.path().join(name), body).expect("write");
    };
    write("b.toml", "[[topic]]\nid = \"x\"\nany = [\"火灾\"]\n");
    write("a.toml", "[[topic]]\nid = \"y\"\nany = [\"踩踏\"]\n");
    write("notes.txt", "not a watchlist");
    let w = load_dir(dir.path()).expect("valid");
    let ids: Vec<_> = w.topics.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(ids, ["y", "x"]);
    assert_eq!(w.files.len(), 2);

    write("c.toml", "\n[[topic]]\nid = \"x\"\nany = [\"落水\"]\n");
    let err = load_dir(dir.path()).expect_err("duplicate");
    assert_eq!(err.0.len(), 1);
    assert_eq!(err.0[0].file, dir.path().join("c.toml"));
    assert_eq!(err.0[0].line, Some(3));
    assert!(
        err.0[0].message.contains("b.toml:2"),
        "{}",
        err.0[0].message
    );
}

#[test]
fn missing_dir_is_a_diagnostic() {
    let err = load_dir(Path::new("/nonexistent/watchlists")).expect_err("missing");
    assert_eq!(err.0[0].file, Path::new("/nonexistent/watchlists"));
    assert!(err.0[0]
        .message
        .contains("cannot read the watchlist folder"));
}

#[test]
fn fixtures_load() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/watchlists");
    let w = load_dir(&dir).unwrap_or_else(|d| panic!("{d}"));
    assert!(w.topics.len() >= 3);
}

#[test]
fn a_topic_may_owe_a_working_day_obligation() {
    let ok = "[[topic]]\nid = \"m\"\nobligation = \"netizen_message_reply\"\nany = [\"留言\"]\n";
    let topics = parse(ok).expect("valid");
    assert_eq!(
        topics[0].obligation,
        Some(crate::rules::calendar::Obligation::NetizenMessageReply)
    );
    let bad = "[[topic]]\nid = \"m\"\nobligation = \"reply_soon\"\nany = [\"留言\"]\n";
    let errs = errors(bad);
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert_eq!(errs[0].0, Some(3));
    assert!(
        errs[0].1.contains("unknown obligation `reply_soon`")
            && errs[0].1.contains("netizen_message_reply"),
        "{errs:?}"
    );
}
