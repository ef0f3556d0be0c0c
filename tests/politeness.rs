//! Politeness that scales, made visible (issue 18): a host whose sources cannot all be
//! polled within their intervals under `per_host` and `host_delay` is shown by
//! `yuqing sources` (text and `--json`) and `yuqing check`, exported on `/metrics`, and
//! mailed to the operators once per host and settings, not per turn nor per restart; a
//! `[[host]]` entry gives one host its own limits.

use crate::common;

use common::{HttpServer, TempDirs};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};
use yuqing::daemon::scheduler::Daemon;
use yuqing::vocab::clock::ManualClock;

/// 30 sources on the loopback server's host (127.0.0.1) every `every`, and 2 on
/// `localhost` every hour; `daemon` is extra `[daemon]` lines, `tail` goes at the end.
fn write_config(
    dirs: &TempDirs,
    http: &HttpServer,
    every: &str,
    daemon: &str,
    tail: &str,
    backend: &Option<String>,
) -> PathBuf {
    dirs.write(
        "watchlists/w.toml",
        "[[topic]]\nid = \"t\"\nname = \"测试\"\nany = [\"踩踏\"]\n",
    );
    let mut config = format!(
        "[daemon]\nwatchlists = \"{root}/watchlists\"\nstate_dir = \"{root}/var\"\n{db}{daemon}\n\
         [people]\noperators = [\"运维 <ops@example.gov.cn>\"]\n\n",
        root = dirs.root().display(),
        db = common::db::config_line(backend),
    );
    for n in 0..30 {
        config.push_str(&format!(
            "[[source]]\nid = \"county-{n:02}\"\nname = \"县政府 {n}\"\nkind = \"feed\"\n\
             url = \"{}\"\nevery = \"{every}\"\n\n",
            http.url(&format!("/county/{n}.xml"))
        ));
    }
    for n in 0..2 {
        config.push_str(&format!(
            "[[source]]\nid = \"local-{n}\"\nname = \"本地 {n}\"\nkind = \"feed\"\n\
             url = \"http://localhost:{}/local/{n}.xml\"\nevery = \"1h\"\n\n",
            http.port()
        ));
    }
    config.push_str(tail);
    dirs.write("yuqing.toml", config)
}

async fn start(config: &Path, clock: &ManualClock) -> Daemon {
    common::start(config, clock).await
}

async fn host_mail(d: &Daemon) -> Vec<String> {
    common::mail(&d.store, "host_overloaded")
        .await
        .into_iter()
        .inspect(|m| assert!(m.recipients.contains("ops@example.gov.cn"), "{m:?}"))
        .map(|m| format!("{}\n{}", m.subject, m.body_text))
        .collect()
}

backend_test!(an_overloaded_host_is_mailed_once_per_settings_across_turns_and_restarts);
async fn an_overloaded_host_is_mailed_once_per_settings_across_turns_and_restarts(
    backend: Option<String>,
) {
    let dirs = TempDirs::new();
    let http = HttpServer::start().await;
    let clock = ManualClock::new(chrono::Utc::now());
    // 30 sources every 10s at one request a second: a round takes 30s.
    let config = write_config(&dirs, &http, "10s", "", "", &backend);
    let d = start(&config, &clock).await;
    d.housekeeping().await.unwrap();
    clock.advance(chrono::Duration::seconds(30));
    d.housekeeping().await.unwrap();
    let mail = host_mail(&d).await;
    assert_eq!(mail.len(), 1, "one mail, not one per turn: {mail:#?}");
    let m = &mail[0];
    assert!(
        m.starts_with("【舆情·抓取跟不上】主机 127.0.0.1：30 个信息源一轮需 30秒"),
        "{m}"
    );
    for part in [
        "主机 127.0.0.1 上有 30 个信息源",
        "每 1秒 最多发起 1 次请求（host_delay = \"1s\"）",
        "同时最多 2 个",
        "至少需要 30秒，超过这些信息源中最短的抓取间隔 10秒",
        // 1s / (30 × 1s / 10s) = 333ms; a round of 30s fits in a minute.
        "      [[host]]\n      name = \"127.0.0.1\"\n      host_delay = \"333ms\"\n",
        "将该主机信息源的 every 延长到至少 \"1m\"",
    ] {
        assert!(m.contains(part), "missing `{part}` in:\n{m}");
    }
    assert!(
        !m.contains("localhost"),
        "the host that keeps up is not named"
    );

    // A restart with the same settings does not tell them again.
    drop(d);
    let d = start(&config, &clock).await;
    d.housekeeping().await.unwrap();
    assert_eq!(host_mail(&d).await.len(), 1, "not again after a restart");

    // The host's own delay, shorter but still too long, is news.
    let own = |delay: &str| format!("[[host]]\nname = \"127.0.0.1\"\nhost_delay = \"{delay}\"\n");
    let config = write_config(&dirs, &http, "10s", "", &own("500ms"), &backend);
    let d = start(&config, &clock).await;
    d.housekeeping().await.unwrap();
    d.housekeeping().await.unwrap();
    let mail = host_mail(&d).await;
    assert_eq!(mail.len(), 2, "{mail:#?}");
    assert_has!(mail[1], "每 500毫秒 最多发起 1 次请求");
    assert_has!(mail[1], "至少需要 15秒");
    assert_has!(mail[1], "host_delay = \"333ms\"\n");

    // Fixed, as the mail said: nothing is sent and the host is forgotten ...
    let config = write_config(&dirs, &http, "10s", "", &own("333ms"), &backend);
    let d = start(&config, &clock).await;
    d.housekeeping().await.unwrap();
    assert_eq!(host_mail(&d).await.len(), 2);
    assert!(d.store.host_alerts().await.unwrap().is_empty());
    // ... so that overloading it again later is told again; a longer every fixes it too.
    let config = write_config(&dirs, &http, "10s", "", "", &backend);
    let d = start(&config, &clock).await;
    d.housekeeping().await.unwrap();
    assert_eq!(host_mail(&d).await.len(), 3);
    let config = write_config(&dirs, &http, "1m", "", "", &backend);
    let d = start(&config, &clock).await;
    d.housekeeping().await.unwrap();
    assert_eq!(host_mail(&d).await.len(), 3);
    assert!(d.store.host_alerts().await.unwrap().is_empty());
}

fn yq(config: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_yuqing"))
        .args(args)
        .arg("--config")
        .arg(config)
        .env("NO_COLOR", "1")
        .env("USER", "tester")
        .output()
        .expect("run yuqing")
}

fn stdout(o: &Output) -> String {
    assert!(
        o.status.success(),
        "{:?}: {}",
        o.status,
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[tokio::test]
async fn sources_and_check_show_the_host_that_cannot_keep_up_and_json_carries_it() {
    let dirs = TempDirs::new();
    let http = HttpServer::start().await;
    let config = write_config(&dirs, &http, "10s", "", "", &None);

    let text = stdout(&yq(&config, &["sources"]));
    let expected = "  主机 127.0.0.1：30 个信息源，按每 1秒 1 次、同时 2 个，一轮需 30秒，超过最短间隔 10秒。\
                    可为该主机加 [[host]]：name = \"127.0.0.1\"、host_delay = \"333ms\" 或更短（只影响该主机），\
                    或将其信息源的 every 延长到至少 \"1m\"。";
    assert_has!(text, "以下主机的信息源无法在设定的间隔内抓完一轮：");
    assert!(
        text.lines().any(|l| l == expected),
        "no line\n{expected}\nin\n{text}"
    );
    assert!(!text.contains("主机 localhost"), "{text}");

    let json: serde_json::Value =
        serde_json::from_str(&stdout(&yq(&config, &["sources", "--json"]))).unwrap();
    let hosts = json["hosts"].as_array().unwrap();
    assert_eq!(hosts.len(), 2, "{hosts:#?}");
    let h = &hosts[0];
    assert_eq!(h["host"], "127.0.0.1");
    assert_eq!(h["sources"], 30);
    assert_eq!(h["per_host"], 2);
    assert_eq!(h["host_delay_ms"], 1000);
    assert_eq!(h["pass_s"], 30.0);
    assert_eq!(h["shortest_every_s"], 10.0);
    assert_eq!(h["load"], 3.0);
    assert_eq!(h["overloaded"], true);
    assert_eq!(h["host_delay_to_fit_ms"], 333);
    assert_eq!(h["every_to_fit_s"], 60);
    let l = &hosts[1];
    assert_eq!(l["host"], "localhost");
    assert_eq!(l["overloaded"], false);
    assert!(l["host_delay_to_fit_ms"].is_null());

    let check = stdout(&yq(&config, &["check"]));
    assert_has!(check, "警告：以下主机的信息源无法在设定的间隔内抓完一轮：");
    assert!(check.lines().any(|l| l == expected), "{check}");

    // Once it fits, neither says anything.
    let config = write_config(&dirs, &http, "30s", "", "", &None);
    assert!(!stdout(&yq(&config, &["sources"])).contains("主机"));
    assert!(!stdout(&yq(&config, &["check"])).contains("主机"));
    // Nor when the host has limits of its own that fit, which JSON shows.
    let own = "[[host]]\nname = \"127.0.0.1\"\nper_host = 4\nhost_delay = \"300ms\"\n";
    let config = write_config(&dirs, &http, "10s", "", own, &None);
    assert!(!stdout(&yq(&config, &["check"])).contains("主机"));
    let json: serde_json::Value =
        serde_json::from_str(&stdout(&yq(&config, &["sources", "--json"]))).unwrap();
    let h = &json["hosts"][0];
    assert_eq!(
        (
            &h["host"],
            &h["per_host"],
            &h["host_delay_ms"],
            &h["overloaded"]
        ),
        (&"127.0.0.1".into(), &4.into(), &300.into(), &false.into()),
        "{h:#}"
    );
}

#[tokio::test]
async fn a_host_entry_that_is_not_a_host_name_is_refused_at_its_line() {
    let dirs = TempDirs::new();
    let http = HttpServer::start().await;
    let tail = "[[host]]\nname = \"127.0.0.1\"\n\n[[host]]\nname = \"http://127.0.0.1:8080/\"\n\n\
                [[host]]\nname = \"127.0.0.1\"\nhost_delay = \"2s\"\n";
    let config = write_config(&dirs, &http, "10s", "", tail, &None);
    let lines = std::fs::read_to_string(&config).unwrap();
    let line_of = |n: usize| {
        lines
            .lines()
            .enumerate()
            .filter(|(_, l)| l.starts_with("name = "))
            .nth(n)
            .map(|(i, _)| i + 1)
            .unwrap()
    };
    let o = yq(&config, &["check"]);
    assert_eq!(o.status.code(), Some(2), "{o:?}");
    let err = String::from_utf8_lossy(&o.stderr);
    // Past the 32 sources' names, the three hosts' names.
    let (bad, twice) = (line_of(33), line_of(34));
    assert_has!(
        err,
        &format!("yuqing.toml:{bad}: [[host]] name `http://127.0.0.1:8080/` is not a host name")
    );
    assert_has!(
        err,
        &format!("yuqing.toml:{twice}: [[host]] `127.0.0.1` is given twice")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_export_the_overloaded_host_and_only_it() {
    let dirs = TempDirs::new();
    let http = HttpServer::start().await;
    let port = common::free_port();
    let config = write_config(
        &dirs,
        &http,
        "10s",
        &format!("metrics = \"127.0.0.1:{port}\"\n"),
        "",
        &None,
    );
    let log = dirs.root().join("daemon.log");
    let _daemon = common::process::run(dirs.root(), &config, &log);
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    let text = loop {
        if let Ok(r) = client
            .get(format!("http://127.0.0.1:{port}/metrics"))
            .send()
            .await
        {
            break r.text().await.unwrap();
        }
        assert!(
            Instant::now() < deadline,
            "no /metrics; log:\n{}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let series: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("yuqing_host"))
        .collect();
    assert_eq!(
        series,
        [
            "yuqing_hosts_overloaded 1",
            "yuqing_host_pass_seconds{host=\"127.0.0.1\"} 30.0",
            "yuqing_host_shortest_interval_seconds{host=\"127.0.0.1\"} 10.0",
        ],
        "{text}"
    );
}
