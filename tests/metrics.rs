//! `/metrics` and `/healthz` as an operator's Prometheus sees them: the real `yuqing`
//! binary against a feed and an SMTP server on loopback, scraped over real HTTP.

use crate::common;

use common::{db, process, rss, HttpServer, Response, SmtpServer, TempDirs, SCENIC_MAJOR};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn start(dirs: &TempDirs, config: &PathBuf) -> process::Running {
    let child = Command::new(env!("CARGO_BIN_EXE_yuqing"))
        .current_dir(dirs.root())
        .env("RUST_LOG", "info")
        .args(["run", "--config"])
        .arg(config)
        .stdout(Stdio::null())
        .stderr(common::log_file(dirs.root()))
        .spawn()
        .expect("start yuqing run");
    process::Running::from_child(child, &dirs.root().join("yuqing.log"))
}

/// GET `path`: status and body, or `None` while nothing listens yet.
async fn get(port: u16, path: &str) -> Option<(u16, String)> {
    common::get(port, path, Duration::from_secs(10)).await
}

/// The value of one series (`name{labels}` exactly as exported), if present.
fn value(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|v| v.trim().parse().ok())
}

/// Scrapes `/metrics` until `done` holds, or fails showing the last scrape.
async fn scrape_until(port: u16, what: &str, done: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut last = String::new();
    while Instant::now() < deadline {
        if let Some((200, text)) = get(port, "/metrics").await {
            if done(&text) {
                return text;
            }
            last = text;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("timed out waiting for {what}; last scrape:\n{last}");
}

async fn health_until(port: u16, status: u16, body: &str, within: Duration) -> String {
    let deadline = Instant::now() + within;
    let mut last = None;
    while Instant::now() < deadline {
        if let Some((s, text)) = get(port, "/healthz").await {
            if s == status && text.contains(body) {
                return text;
            }
            last = Some((s, text));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for /healthz {status} `{body}`; last answer: {last:?}");
}

const ITEMS: [(&str, &str, &str, &str); 3] = [
    (
        "某景区栈道坍塌 游客受伤",
        "https://news.example.cn/1.html",
        "n-1",
        "",
    ),
    (
        "文旅局发布周末出行提示",
        "https://news.example.cn/2.html",
        "n-2",
        "",
    ),
    (
        "博物馆延长开放时间",
        "https://news.example.cn/3.html",
        "n-3",
        "",
    ),
];

backend_test!(
    a_scrape_shows_items_incidents_deadlines_and_the_outbox,
    multi_thread
);
async fn a_scrape_shows_items_incidents_deadlines_and_the_outbox(backend: Option<String>) {
    let dirs = TempDirs::new();
    let http = HttpServer::serving("/news.xml", Response::rss(rss(&ITEMS))).await;
    let smtp = SmtpServer::start().await;
    smtp.set_down(true);
    let port = common::free_port();
    dirs.write("watchlists/w.toml", SCENIC_MAJOR);
    let config = dirs.config(&format!(
        r#"{db}
tick = "200ms"
metrics = "127.0.0.1:{port}"

{mail}retry_min = "1s"
retry_max = "1s"

[people]
duty = ["值班员 <duty@example.gov.cn>"]
leaders = ["分管领导 <deputy@example.gov.cn>"]

[deadlines]
major_release = "2s"
major_press_conference = "3h"

[[source]]
id = "news"
kind = "feed"
url = "{news}"
every = "1h"

[[source]]
id = "broken"
kind = "feed"
url = "{broken}"
every = "1h"
"#,
        db = db::config_line(&backend),
        mail = smtp.mail_section(),
        news = http.url("/news.xml"),
        broken = http.url("/gone.xml"),
    ));
    let _daemon = start(&dirs, &config);

    // SMTP is down: the opening mail stays queued and its failures are counted.
    let text = scrape_until(port, "a polled feed and a failed send", |t| {
        value(t, "yuqing_items_fetched_total{source=\"news\"}") == Some(3.0)
            && value(t, "yuqing_mail_failures_total").unwrap_or(0.0) >= 1.0
            && value(t, "yuqing_deadlines_missed{kind=\"release\"}") == Some(1.0)
    })
    .await;
    for (series, want) in [
        ("yuqing_items_new_total{source=\"news\"}", 3.0),
        ("yuqing_items_matched_total{source=\"news\"}", 1.0),
        ("yuqing_source_failures_total{source=\"news\"}", 0.0),
        ("yuqing_source_failures_total{source=\"broken\"}", 1.0),
        ("yuqing_poll_duration_seconds_count{source=\"news\"}", 1.0),
        ("yuqing_incidents_open{severity=\"major\"}", 1.0),
        ("yuqing_incidents_open{severity=\"ordinary\"}", 0.0),
        ("yuqing_incidents_open{severity=\"especially_major\"}", 0.0),
        ("yuqing_deadlines_at_risk{kind=\"press_conference\"}", 1.0),
        ("yuqing_deadlines_at_risk{kind=\"release\"}", 0.0),
        ("yuqing_deadlines_missed{kind=\"press_conference\"}", 0.0),
        ("yuqing_mail_sent_total", 0.0),
        ("yuqing_store_up", 1.0),
    ] {
        assert_eq!(value(&text, series), Some(want), "{series} in\n{text}");
    }
    let depth = value(&text, "yuqing_outbox_depth").unwrap();
    assert!(depth >= 1.0, "the opening mail is queued:\n{text}");
    assert!(value(&text, "yuqing_loop_turns_total").unwrap() >= 1.0);
    assert!(text.contains("# TYPE yuqing_poll_duration_seconds histogram"));
    let oldest = scrape_until(port, "the queued mail to age", |t| {
        value(t, "yuqing_outbox_oldest_age_seconds").unwrap_or(0.0) >= 1.0
    })
    .await;
    assert!(value(&oldest, "yuqing_outbox_oldest_age_seconds").unwrap() < 60.0);
    health_until(port, 200, "ok: last loop turn", Duration::from_secs(5)).await;

    // SMTP back: the queue drains and the sends are counted.
    smtp.set_down(false);
    let text = scrape_until(port, "the outbox to drain", |t| {
        value(t, "yuqing_outbox_depth") == Some(0.0)
    })
    .await;
    let sent = value(&text, "yuqing_mail_sent_total").unwrap();
    assert!(sent >= depth, "{depth} queued, {sent} sent:\n{text}");
    assert_eq!(value(&text, "yuqing_outbox_oldest_age_seconds"), Some(0.0));
    assert!(smtp
        .messages()
        .iter()
        .any(|m| m.to.iter().any(|t| t.contains("duty@")) && m.subject.contains("景区安全")));
}

/// An idle daemon (every source polled, nothing due, no mail queued) turns its loop
/// without writing: on SQLite each write takes the one write lock that the CLI and the
/// console need too (README, "Storage"). `PRAGMA data_version` on another connection
/// changes whenever any other connection commits. The lease is an hour, so the holder
/// has no reason to renew it (it does once less than half is left).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_daemon_turns_without_writing_to_sqlite() {
    use sqlx::{Connection, Row};
    let dirs = TempDirs::new();
    let http = HttpServer::serving("/news.xml", Response::rss(rss(&ITEMS[1..]))).await;
    let port = common::free_port();
    dirs.write("watchlists/w.toml", SCENIC_MAJOR);
    let config = dirs.config(&format!(
        "\
             tick = \"100ms\"\nlease = \"1h\"\nmetrics = \"127.0.0.1:{port}\"\n\n\
             [[source]]\nid = \"news\"\nkind = \"feed\"\nurl = \"{url}\"\nevery = \"1h\"\n",
        url = http.url("/news.xml"),
    ));
    let _daemon = start(&dirs, &config);
    let polled = scrape_until(port, "the first poll", |t| {
        value(t, "yuqing_items_new_total{source=\"news\"}") == Some(2.0)
    })
    .await;
    let turns = |t: &str| value(t, "yuqing_loop_turns_total").unwrap_or(0.0);
    // A few turns more, so that whatever the poll left to do is done.
    let settled = turns(&polled) + 5.0;
    let text = scrape_until(port, "five more turns", |t| turns(t) >= settled).await;

    let url = format!("{}?mode=ro", dirs.database_url());
    let mut reader = sqlx::SqliteConnection::connect(&url).await.unwrap();
    let version = |row: sqlx::sqlite::SqliteRow| row.get::<i64, _>(0);
    let before = version(
        sqlx::query("PRAGMA data_version")
            .fetch_one(&mut reader)
            .await
            .unwrap(),
    );
    let from = turns(&text);
    let idle_since = Instant::now();
    let text = scrape_until(port, "twenty idle turns", |t| turns(t) >= from + 20.0).await;
    let after = version(
        sqlx::query("PRAGMA data_version")
            .fetch_one(&mut reader)
            .await
            .unwrap(),
    );
    assert_eq!(
        before,
        after,
        "{} idle turns in {:?} wrote to the database; the daemon's log:\n{}",
        turns(&text) - from,
        idle_since.elapsed(),
        std::fs::read_to_string(dirs.root().join("yuqing.log")).unwrap_or_default()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthz_fails_while_the_loop_is_held_and_recovers() {
    let dirs = TempDirs::new();
    let http = HttpServer::serving("/news.xml", Response::rss(rss(&ITEMS[1..]))).await;
    let port = common::free_port();
    dirs.write("watchlists/w.toml", SCENIC_MAJOR);
    let config = dirs.config(&format!(
        "\
             tick = \"100ms\"\nstuck_after = \"2s\"\nmetrics = \"127.0.0.1:{port}\"\n\n\
             [[source]]\nid = \"news\"\nkind = \"feed\"\nurl = \"{url}\"\nevery = \"1h\"\n",
        url = http.url("/news.xml"),
    ));
    let _daemon = start(&dirs, &config);
    health_until(port, 200, "ok", Duration::from_secs(20)).await;

    // Another process takes the write lock and keeps it: the loop's next write waits on
    // the busy timeout (15s), so no turn completes.
    let mut holder = common::db::hold_write_lock(&dirs.database_url()).await;
    let body = health_until(
        port,
        503,
        "stuck: no loop turn completed",
        Duration::from_secs(8),
    )
    .await;
    assert!(body.starts_with("stuck"), "{body}");

    // A scrape still answers, promptly, and tells how long the loop has been held.
    let asked = Instant::now();
    let (status, text) = get(port, "/metrics").await.expect("/metrics answers");
    assert_eq!(status, 200);
    assert!(
        asked.elapsed() < Duration::from_secs(5),
        "{:?}",
        asked.elapsed()
    );
    assert!(
        value(&text, "yuqing_last_turn_age_seconds").unwrap() > 2.0,
        "{text}"
    );

    // Past the busy timeout the write fails and the turn completes with that error: the
    // loop is alive but cannot write, and /healthz says so.
    let body = health_until(port, 503, "last loop turn failed", Duration::from_secs(30)).await;
    assert_has!(body, "database is locked");

    sqlx::query("ROLLBACK")
        .execute(&mut holder)
        .await
        .expect("release the write lock");
    health_until(port, 200, "ok", Duration::from_secs(30)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_logs_are_one_object_a_line_with_the_span_of_the_poll() {
    let dirs = TempDirs::new();
    let http = HttpServer::serving("/news.xml", Response::rss(rss(&ITEMS))).await;
    dirs.write("watchlists/w.toml", SCENIC_MAJOR);
    let config = dirs.config(&format!(
        "\n\
             [[source]]\nid = \"news\"\nkind = \"feed\"\nurl = \"{url}\"\n",
        url = http.url("/news.xml"),
    ));
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_yuqing"))
        .current_dir(dirs.root())
        .env("RUST_LOG", "info")
        .args(["--log-format", "json", "poll", "--config"])
        .arg(&config)
        .output()
        .await
        .expect("run yuqing poll");
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<serde_json::Value> = stderr
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let polled = lines
        .iter()
        .find(|l| l["fields"]["message"] == "polled")
        .unwrap_or_else(|| panic!("no `polled` line in {stderr}"));
    assert_eq!(polled["fields"]["fetched"], 3);
    assert_eq!(polled["span"]["name"], "poll");
    assert_eq!(polled["span"]["source_id"], "news");
    let opened = lines
        .iter()
        .find(|l| l["fields"]["message"] == "incident opened")
        .unwrap_or_else(|| panic!("no `incident opened` line in {stderr}"));
    assert_eq!(opened["fields"]["severity"], "major");

    // A misspelt format is refused, not silently taken as text.
    let bad = tokio::process::Command::new(env!("CARGO_BIN_EXE_yuqing"))
        .args(["--log-format", "jsno", "check", "--config"])
        .arg(&config)
        .output()
        .await
        .expect("run yuqing check");
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("jsno"));
}
