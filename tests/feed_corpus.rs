//! The feed corpus (`tests/fixtures/feeds/corpus`, issue 15): over a hundred documents in the
//! shapes real feeds take (every dialect, title types, links from guid and enclosure,
//! malformed XML, XHTML wrappers, JSON Feed with wrong-typed fields, UTF-16/32, GBK, Big5,
//! dates as Chinese sites write them, and documents that are not feeds). `expected.json`
//! records each one's origin and licence and the titles, links and dates it must yield —
//! feedparser's reading, except where a `deviation` says why yuqing reads it differently —
//! or the error it must give. `generate.py` writes them.

use chrono::{DateTime, TimeZone, Utc};
use serde_json::Value;
use std::path::{Path, PathBuf};
use url::Url;
use yuqing::fetch::charset;
use yuqing::fetch::feed::{self, FeedError, Read};

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/feeds/corpus")
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 12, 0, 0).unwrap()
}

fn expected() -> Value {
    let text = std::fs::read_to_string(corpus().join("expected.json")).expect("expected.json");
    serde_json::from_str(&text).expect("expected.json is JSON")
}

fn read(
    path: &Path,
    content_type: Option<&str>,
    base: &Url,
    zone: &str,
) -> Result<Read, FeedError> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let decoded = charset::decode(&bytes, content_type);
    let tz: chrono_tz::Tz = zone.parse().expect("zone");
    feed::read(&decoded, base, Some((now(), tz)))
}

fn reading(read: &Read) -> Value {
    Value::Array(
        read.entries
            .iter()
            .map(|e| {
                serde_json::json!({
                    "title": e.title,
                    "link": e.link,
                    "published": e.published.map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string()),
                })
            })
            .collect(),
    )
}

#[test]
fn every_fixture_is_read_as_expected() {
    let expected = expected();
    let base = expected["base"].as_str().unwrap();
    let fixtures = expected["fixtures"].as_array().unwrap();
    assert!(
        fixtures.len() >= 100,
        "the corpus has {} documents",
        fixtures.len()
    );
    let mut wrong = Vec::new();
    let (mut as_feedparser, mut deviations) = (0, 0);
    for f in fixtures {
        let file = f["file"].as_str().unwrap();
        assert!(
            f["origin"].is_string() && f["licence"].is_string() && f["modelled_on"].is_string(),
            "{file}: origin and licence are recorded"
        );
        let stem = file.rsplit_once('.').map_or(file, |(s, _)| s);
        let base = Url::parse(&format!("{base}{stem}")).unwrap();
        let got = read(
            &corpus().join(file),
            f["content_type"].as_str(),
            &base,
            f["zone"].as_str().unwrap(),
        );
        let ok = match (&got, f.get("error")) {
            (Err(e), Some(want)) => {
                let text = e.to_string();
                let one_line = !text.contains('\n') && !text.chars().any(|c| c.is_control());
                text.contains(want.as_str().unwrap()) && one_line
            }
            (Ok(r), None) => {
                let warns = f["warns"].as_bool().unwrap();
                reading(r) == f["entries"] && r.warnings.is_empty() != warns
            }
            _ => false,
        };
        if ok {
            if f.get("deviation").is_some() {
                deviations += 1;
            } else {
                as_feedparser += 1;
            }
        } else {
            wrong.push(format!(
                "{file}:\n  want {}\n  got  {}",
                f.get("error").unwrap_or(&f["entries"]),
                match &got {
                    Ok(r) => format!("{} warnings {:?}", reading(r), r.warnings),
                    Err(e) => format!("error: {e}"),
                }
            ));
        }
    }
    eprintln!(
        "feed corpus: {} documents; {as_feedparser} read exactly as feedparser (errors included), {deviations} \
         as expected where yuqing deviates on purpose, {} wrong",
        fixtures.len(),
        wrong.len()
    );
    assert!(
        wrong.is_empty(),
        "{} read wrongly:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

/// The gravest failure: a document with entries that yields none and says nothing. Every
/// feed fixture of the repository (the corpus and the others) either yields entries or
/// fails with an error.
#[test]
fn no_document_with_entries_yields_zero_items_without_an_error() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut files = Vec::new();
    for dir in ["feeds", "feeds/corpus", "charset"] {
        for e in std::fs::read_dir(root.join(dir)).unwrap() {
            let path = e.unwrap().path();
            if matches!(
                path.extension().and_then(|x| x.to_str()),
                Some("xml" | "json" | "rss" | "atom")
            ) {
                files.push(path);
            }
        }
    }
    assert!(files.len() >= 100, "{} files", files.len());
    let base = Url::parse("http://example.gov.cn/feed").unwrap();
    let mut silent = Vec::new();
    for path in &files {
        let bytes = std::fs::read(path).unwrap();
        let text = charset::decode(&bytes, None).text;
        let has_entries = text.contains("<item")
            || text.contains("<entry")
            || text.contains(":item")
            || text.contains(":entry")
            || text.contains("\"items\": [{")
            || text.contains("\"items\":[{");
        if let Ok(r) = read(path, None, &base, "Asia/Shanghai") {
            if has_entries && r.entries.is_empty() {
                silent.push(path.display().to_string());
            }
        }
    }
    assert!(silent.is_empty(), "zero items and no error: {silent:#?}");
}
