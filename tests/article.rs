//! Reading articles (`fetch::article::read`) from real Chinese news pages, against a peer's
//! reading: the 20 pages of GeneralNewsExtractor's test set that GNE's own `result.txt`
//! reads (MIT, `tests/fixtures/article/gne/`, see its README). For each page the title, the
//! publication time and the body are compared with GNE's; the body by character overlap
//! (below). And `yuqing article` through the real binary against a loopback server serving
//! a GBK government notice.

use crate::common;

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;

use chrono::{DateTime, Datelike, TimeZone, Timelike, Utc};
use common::{fixture, HttpServer, Response};
use yuqing::fetch::article;

const TZ: chrono_tz::Tz = chrono_tz::Asia::Shanghai;

/// When the pages are read: after every one of them was published.
fn now() -> DateTime<Utc> {
    TZ.with_ymd_and_hms(2026, 11, 24, 14, 0, 0)
        .unwrap()
        .with_timezone(&Utc)
}

/// `yuqing COMMAND ARGS --config CONFIG` as of [`now`], to its end.
fn yuqing(config: &Path, command: &str, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_yuqing"))
        .arg(command)
        .args(args)
        .arg("--config")
        .arg(config)
        .env("NO_COLOR", "1")
        .env("YUQING_NOW", now().to_rfc3339())
        .output()
        .unwrap_or_else(|e| panic!("run yuqing {command}: {e}"))
}

/// The body's agreement with GNE's: the F1 of the two texts' character multisets, spaces and
/// punctuation left out. 1.0 is the same characters; a reading that adds a sidebar loses
/// precision, one that misses paragraphs loses recall.
fn overlap(ours: &str, theirs: &str) -> (f64, f64, f64) {
    let count = |s: &str| {
        let mut m: HashMap<char, usize> = HashMap::new();
        for c in s.chars().filter(|c| c.is_alphanumeric()) {
            *m.entry(c).or_default() += 1;
        }
        m
    };
    let (a, b) = (count(ours), count(theirs));
    let common: usize = a
        .iter()
        .map(|(c, n)| (*n).min(b.get(c).copied().unwrap_or(0)))
        .sum();
    let (na, nb) = (a.values().sum::<usize>(), b.values().sum::<usize>());
    if na == 0 || nb == 0 {
        return (0.0, 0.0, 0.0);
    }
    let precision = common as f64 / na as f64;
    let recall = common as f64 / nb as f64;
    let f1 = if common == 0 {
        0.0
    } else {
        2.0 * precision * recall / (precision + recall)
    };
    (precision, recall, f1)
}

/// Each page's body must agree with GNE's at least this much (F1 of characters).
const BODY_F1: f64 = 0.80;

/// Where GNE itself misread the publication time (checked by opening the page).
const GNE_MISREAD_TIME: [(&str, &str); 2] = [
    (
        "readhub-readhub",
        "the page shows only `昨天` under the headline, relative to a day it does not give; \
         GNE's `09月07日` is a listed article's date. yuqing gives no time",
    ),
    (
        "sina-3",
        "GNE's 21:38:04 is from a list in the sidebar; the page shows 2019年09月09日 20:52 under \
         the headline, as its meta tags say",
    ),
];

/// GNE's time as it printed it, in Beijing time: `2019-09-07 13:43:45`, `2019年09月07日
/// 08:05:32`, `2019-9-5 9:38:01`, or without a year (`09月07日`, readhub): then only the
/// month and day are compared.
fn same_time(ours: Option<DateTime<Utc>>, gne: &str) -> bool {
    let Some(ours) = ours.map(|t| t.with_timezone(&TZ)) else {
        return false;
    };
    let digits: Vec<u32> = gne
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().unwrap())
        .collect();
    let fields = [
        ours.year() as u32,
        ours.month(),
        ours.day(),
        ours.hour(),
        ours.minute(),
        ours.second(),
    ];
    match digits.len() {
        2 => digits[..] == fields[1..3],
        n @ 3..=6 => digits[..] == fields[..n],
        _ => false,
    }
}

struct Reading {
    name: String,
    title: bool,
    time: bool,
    precision: f64,
    recall: f64,
    f1: f64,
}

fn read_all() -> Vec<Reading> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/article/gne");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().into_string().unwrap();
            name.strip_suffix(".json").map(str::to_string)
        })
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|name| {
            let html = fixture(&format!("article/gne/{name}.html"));
            let expected: serde_json::Value =
                serde_json::from_slice(&fixture(&format!("article/gne/{name}.json"))).unwrap();
            let a = article::read(
                &html,
                Some("text/html"),
                "https://news.example.cn/a.html",
                now(),
                TZ,
            )
            .unwrap_or_else(|e| panic!("{name}: {e}"));
            let (precision, recall, f1) = overlap(&a.text, expected["content"].as_str().unwrap());
            Reading {
                title: a.title == expected["title"].as_str().unwrap().trim(),
                time: same_time(a.published, expected["publish_time"].as_str().unwrap()),
                name,
                precision,
                recall,
                f1,
            }
        })
        .collect()
}

#[test]
fn gne_test_pages_read_as_gne_reads_them() {
    let readings = read_all();
    assert_eq!(readings.len(), 20);
    let mut table = String::from(
        "| page | title | time | precision | recall | F1 |\n|---|---|---|---|---|---|\n",
    );
    for r in &readings {
        table += &format!(
            "| {} | {} | {} | {:.2} | {:.2} | {:.2} |\n",
            r.name,
            if r.title { "same" } else { "differs" },
            if r.time { "same" } else { "differs" },
            r.precision,
            r.recall,
            r.f1
        );
    }
    let titles = readings.iter().filter(|r| r.title).count();
    let times = readings.iter().filter(|r| r.time).count();
    let mean_f1 = readings.iter().map(|r| r.f1).sum::<f64>() / readings.len() as f64;
    table += &format!("\ntitles {titles}/20, times {times}/20, mean body F1 {mean_f1:.3}\n");
    println!("{table}");
    for r in &readings {
        assert!(r.title, "{}: title differs\n{table}", r.name);
        let misread = GNE_MISREAD_TIME.iter().any(|(n, _)| *n == r.name);
        assert!(r.time || misread, "{}: time differs\n{table}", r.name);
        assert!(
            r.f1 >= BODY_F1,
            "{}: body F1 {:.2} < {BODY_F1}\n{table}",
            r.name,
            r.f1
        );
    }
}

/// The other Chinese pages of GNE's test set, which GNE's `result.txt` does not read:
/// government and local news sites (`tests/fixtures/article/gov/`). Each one's title, time
/// and source are what the page shows, checked by hand (`expected.json` quotes where).
#[test]
fn government_and_local_news_pages_read_as_they_show() {
    let expected: serde_json::Value =
        serde_json::from_slice(&fixture("article/gov/expected.json")).unwrap();
    let mut wrong = Vec::new();
    for (name, want) in expected.as_object().unwrap() {
        let a = article::read(
            &fixture(&format!("article/gov/{name}.html")),
            Some("text/html"),
            "http://www.example.gov.cn/a.html",
            now(),
            TZ,
        )
        .unwrap_or_else(|e| panic!("{name}: {e}"));
        let published = a.published.map(|t| t.with_timezone(&TZ).to_rfc3339());
        let got = serde_json::json!({
            "title": a.title,
            "published": published,
            "site": a.site,
        });
        for key in ["title", "published", "site"] {
            if got[key] != want[key] {
                wrong.push(format!("{name} {key}: got {} want {}", got[key], want[key]));
            }
        }
        assert!(a.text.chars().count() > 100, "{name}: {}", a.text);
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn a_gbk_government_notice_reads_fully() {
    let a = article::read(
        &fixture("article/gbk-notice.html"),
        Some("text/html"),
        "http://www.example.gov.cn/tzgg/1.html",
        now(),
        TZ,
    )
    .unwrap();
    assert_eq!(a.title, "关于镕城区供水管网改造期间临时停水的通告");
    assert_eq!(
        a.published,
        Some(
            TZ.with_ymd_and_hms(2026, 11, 24, 10, 56, 0)
                .unwrap()
                .with_timezone(&Utc)
        )
    );
    assert_eq!(a.site.as_deref(), Some("镕城区水务局"));
    assert_eq!(a.byline.as_deref(), Some("李明"));
    assert_has!(a.text, "堃山路段供水主管网");
    assert_has!(a.text, "特此通告。");
    assert!(
        !a.text.contains("网站标识码"),
        "the footer is not the article: {}",
        a.text
    );
    assert!(
        !a.text.contains("互动交流"),
        "the menu is not the article: {}",
        a.text
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn yuqing_article_reads_a_gbk_page_from_a_server() {
    let server = HttpServer::start().await;
    server.set("/old", Response::redirect(301, "/tzgg/1.html"));
    server.set(
        "/tzgg/1.html",
        Response::ok("text/html", fixture("article/gbk-notice.html")).gzip(),
    );
    let dirs = common::TempDirs::new();
    let config = dirs.config("");
    let run = |args: &[&str]| yuqing(&config, "article", args);
    let out = run(&["--json", &server.url("/old")]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["url"], server.url("/old"));
    assert_eq!(json["final_url"], server.url("/tzgg/1.html"));
    assert_eq!(json["title"], "关于镕城区供水管网改造期间临时停水的通告");
    assert_eq!(json["published"], "2026-11-24T10:56:00+08:00");
    assert_eq!(json["site"], "镕城区水务局");
    assert!(json["text"].as_str().unwrap().contains("堃山社区服务中心"));

    let out = run(&[&server.url("/tzgg/1.html")]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.starts_with("标题：关于镕城区供水管网改造期间临时停水的通告\n"),
        "{text}"
    );
    assert_has!(text, "发布时间：2026-11-24 10:56:00 +08:00\n");
    assert_has!(text, "来源：镕城区水务局\n");
    assert_has!(text, "临时供水点三处");

    let out = run(&["ftp://example.gov.cn/a.html"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("不是 HTTP 链接"));

    let out = run(&[&server.url("/gone")]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("HTTP 404"));
}

/// `classify --explain --url`: the article is read and classified with its title; each
/// topic says where it matched, and one that only the body holds says so.
#[tokio::test(flavor = "multi_thread")]
async fn classify_says_where_each_topic_matched() {
    let server = HttpServer::serving(
        "/tzgg/1.html",
        Response::ok("text/html", fixture("article/gbk-notice.html")),
    )
    .await;
    let dirs = common::TempDirs::new();
    dirs.write(
        "watchlists/city.toml",
        "[[topic]]\nid = \"water\"\nname = \"停水\"\nseverity = \"ordinary\"\nany = [\"停水\"]\n\n\
         [[topic]]\nid = \"school\"\nname = \"校园周边\"\nseverity = \"large\"\nany = [\"小学\"]\n",
    );
    let config = dirs.config("");
    let classify = |args: &[&str]| {
        let out = yuqing(&config, "classify", args);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let url = server.url("/tzgg/1.html");
    let explained = classify(&["--explain", "--url", &url]);
    assert!(
        explained.contains("专题 water（停水）") && explained.contains("命中位置：标题、正文"),
        "{explained}"
    );
    assert_has!(
        explained,
        "命中位置：正文（标题和摘要本身不命中，因正文命中）"
    );
    assert_has!(explained, "字「停水」（标题）");
    assert_has!(explained, "字「小学」（正文）");

    let json: serde_json::Value = serde_json::from_str(&classify(&[
        "--json",
        "--url",
        &url,
        "--summary",
        "明日停水",
    ]))
    .unwrap();
    let topics = json["topics"].as_array().unwrap();
    let water = topics.iter().find(|t| t["id"] == "water").unwrap();
    assert_eq!(
        water["found_in"],
        serde_json::json!(["title", "summary", "body"])
    );
    assert_eq!(water["body_only"], false);
    let school = topics.iter().find(|t| t["id"] == "school").unwrap();
    assert_eq!(school["found_in"], serde_json::json!(["body"]));
    assert_eq!(school["body_only"], true);

    // A feed item's title and summary, the body from a file.
    let body = dirs.write("body.txt", "镕城第二小学门口设临时供水点。");
    let plain = classify(&["--title", "镕城区明日停水", body.to_str().unwrap()]);
    assert_has!(plain, "water\t停水\tordinary\t标题\n");
    assert_has!(plain, "school\t校园周边\tlarge\t正文（仅因正文）\n");
}
