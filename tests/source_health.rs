//! A monitor must never stop seeing a source silently: a source failing for longer than
//! `source_alert_after`, or a list page whose selectors suddenly find nothing, mails the
//! operators once, and again when it recovers. Other sources keep being polled.

use crate::common;

use chrono::{Duration, TimeZone, Utc};
use common::{fixture, rss, HttpServer, Response, TempDirs};
use yuqing::daemon::scheduler::Daemon;
use yuqing::vocab::clock::ManualClock;

async fn deployment(
    dirs: &TempDirs,
    http: &HttpServer,
    clock: &ManualClock,
    backend: &Option<String>,
) -> Daemon {
    let sources = format!(
        r#"[[source]]
id = "portal"
name = "市政府门户"
kind = "feed"
url = "{feed}"

[[source]]
id = "forum"
name = "本地论坛"
kind = "page"
url = "{page}"
item = "ul.threads > li"
title = "a.title"
link = "a.title@href"
date = "span.time"
"#,
        feed = http.url("/portal.xml"),
        page = http.url("/forum.html"),
    );
    deploy(dirs, clock, backend, &sources).await.0
}

/// `sources` on a database, with a watchlist and the operators to mail; the daemon and its
/// config file.
async fn deploy(
    dirs: &TempDirs,
    clock: &ManualClock,
    backend: &Option<String>,
    sources: &str,
) -> (Daemon, std::path::PathBuf) {
    dirs.write(
        "watchlists/w.toml",
        "[[topic]]\nid = \"t\"\nname = \"测试\"\nany = [\"踩踏\"]\n",
    );
    let config = dirs.config(&format!(
        "{db}\n[people]\noperators = [\"运维 <ops@example.gov.cn>\"]\n\n{sources}",
        db = common::db::config_line(backend),
    ));
    (common::start(&config, clock).await, config)
}

async fn operator_mail(d: &Daemon) -> Vec<String> {
    common::mail_to(&d.store, "ops@example.gov.cn")
        .await
        .into_iter()
        .map(|m| format!("{}\n{}", m.subject, m.body_text))
        .collect()
}

backend_test!(a_source_failing_for_six_hours_is_reported_once_and_its_recovery_too);
async fn a_source_failing_for_six_hours_is_reported_once_and_its_recovery_too(
    backend: Option<String>,
) {
    let (dirs, http) = (TempDirs::new(), HttpServer::start().await);
    let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 11, 24, 0, 0, 0).unwrap());
    http.set("/portal.xml", Response::status(503));
    http.set(
        "/forum.html",
        Response::ok("text/html; charset=gbk", fixture("pages/gbk-list.html")),
    );
    let d = deployment(&dirs, &http, &clock, &backend).await;

    let results = d.poll_once(None).await.unwrap();
    assert!(results[0].1.is_err(), "portal fails");
    assert!(
        results[1].1.is_ok(),
        "the forum is still polled: {:?}",
        results[1].1
    );
    assert!(
        operator_mail(&d).await.is_empty(),
        "one failure is not yet an alarm"
    );

    clock.advance(Duration::hours(3));
    d.poll_once(Some("portal")).await.unwrap();
    assert!(operator_mail(&d).await.is_empty());

    clock.advance(Duration::hours(3));
    d.poll_once(Some("portal")).await.unwrap();
    let mail = operator_mail(&d).await;
    assert_eq!(mail.len(), 1, "{mail:#?}");
    assert!(
        mail[0].starts_with("【舆情·信息源异常】市政府门户（portal）"),
        "{}",
        mail[0]
    );
    assert_has!(mail[0], "连续 3 次读取失败");
    assert!(
        mail[0].contains("503"),
        "the last error is quoted: {}",
        mail[0]
    );

    clock.advance(Duration::hours(1));
    d.poll_once(Some("portal")).await.unwrap();
    assert_eq!(operator_mail(&d).await.len(), 1, "told once per episode");

    http.set(
        "/portal.xml",
        Response::rss(rss(&[("天气预报", "https://x/1", "1", "")])),
    );
    clock.advance(Duration::hours(1));
    d.poll_once(Some("portal")).await.unwrap();
    let mail = operator_mail(&d).await;
    assert_eq!(mail.len(), 2);
    assert!(
        mail[1].starts_with("【舆情·信息源恢复】市政府门户（portal）"),
        "{}",
        mail[1]
    );
    let state = d.store.source_state("portal").await.unwrap();
    assert_eq!((state.failures, state.alert), (0, None));
}

backend_test!(a_page_whose_layout_changed_is_reported);
async fn a_page_whose_layout_changed_is_reported(backend: Option<String>) {
    let (dirs, http) = (TempDirs::new(), HttpServer::start().await);
    let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 11, 24, 0, 0, 0).unwrap());
    http.set("/portal.xml", Response::rss(rss(&[])));
    http.set(
        "/forum.html",
        Response::ok("text/html; charset=gbk", fixture("pages/gbk-list.html")),
    );
    let d = deployment(&dirs, &http, &clock, &backend).await;
    d.poll_once(Some("forum")).await.unwrap();
    assert!(operator_mail(&d).await.is_empty());

    http.set(
        "/forum.html",
        Response::ok(
            "text/html; charset=gbk",
            fixture("pages/gbk-list-redesigned.html"),
        ),
    );
    clock.advance(Duration::minutes(10));
    d.poll_once(Some("forum")).await.unwrap();
    clock.advance(Duration::minutes(10));
    d.poll_once(Some("forum")).await.unwrap();
    let mail = operator_mail(&d).await;
    assert_eq!(mail.len(), 1, "{mail:#?}");
    assert_has!(mail[0], "选择器");

    http.set(
        "/forum.html",
        Response::ok("text/html; charset=gbk", fixture("pages/gbk-list.html")),
    );
    clock.advance(Duration::minutes(10));
    d.poll_once(Some("forum")).await.unwrap();
    let mail = operator_mail(&d).await;
    assert_eq!(mail.len(), 2);
    assert_has!(mail[1], "信息源恢复");
}

backend_test!(a_database_failure_during_a_poll_is_not_blamed_on_the_website);
async fn a_database_failure_during_a_poll_is_not_blamed_on_the_website(backend: Option<String>) {
    let dirs = TempDirs::new();
    let http = HttpServer::start().await;
    let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 11, 24, 2, 0, 0).unwrap());
    let d = deployment(&dirs, &http, &clock, &backend).await;
    http.set(
        "/portal.xml",
        Response::rss(rss(&[(
            "文旅局发布出行提示",
            "https://gov.example.cn/1",
            "1",
            "",
        )])),
    );
    // The items table is gone for a moment (a botched manual repair): storing the page
    // fails in the database, while the website answered well.
    sqlx::query("ALTER TABLE items RENAME TO items_away")
        .execute(d.store.pool())
        .await
        .unwrap();
    let polled = d.poll_once(Some("portal")).await.unwrap();
    assert!(polled[0].1.is_err(), "{polled:?}");
    let state = d.store.source_state("portal").await.unwrap();
    assert_eq!(state.last_error, None, "the website is not blamed");
    assert_eq!(state.failures, 0);
    assert_eq!(state.failing_since, None);
    let retry_in =
        state.next_poll - yuqing::vocab::clock::secs(yuqing::vocab::clock::Clock::now(&clock));
    assert!(
        (1..=60).contains(&retry_in),
        "tried again soon: {retry_in}s"
    );

    // The database is back: the page is read again and its item stored once.
    sqlx::query("ALTER TABLE items_away RENAME TO items")
        .execute(d.store.pool())
        .await
        .unwrap();
    clock.advance(Duration::minutes(1));
    let polled = d.poll_once(Some("portal")).await.unwrap();
    assert_eq!(polled[0].1.as_ref().map(|r| r.new), Ok(1), "{polled:?}");
    let state = d.store.source_state("portal").await.unwrap();
    assert_eq!(state.last_error, None);
}

fn sources_json(config: &std::path::Path) -> serde_json::Value {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_yuqing"))
        .args(["sources", "--json", "--config", config.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    serde_json::from_slice(&out.stdout).unwrap()
}

backend_test!(
    a_source_that_brings_nothing_new_past_stale_after_is_reported_silent_then_back,
    multi_thread
);
async fn a_source_that_brings_nothing_new_past_stale_after_is_reported_silent_then_back(
    backend: Option<String>,
) {
    let (dirs, http) = (TempDirs::new(), HttpServer::start().await);
    let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 11, 24, 0, 0, 0).unwrap());
    let first = rss(&[("市政府发布天气提示", "https://weibo.example/1", "1", "")]);
    http.set("/weibo/user/1234567890", Response::rss(first.clone()));
    // One feed that has `stale_after = "12h"`.
    let sources = format!(
        r#"[[source]]
id = "weibo-city"
name = "市政府微博（RSSHub）"
kind = "feed"
url = "{feed}"
every = "10m"
stale_after = "12h"
"#,
        feed = http.url("/weibo/user/1234567890"),
    );
    let (d, config) = deploy(&dirs, &clock, &backend, &sources).await;
    d.poll_once(None).await.unwrap();

    // The same feed again and again: it answers, but nothing is new.
    for _ in 0..2 {
        clock.advance(Duration::hours(6));
        let polled = d.poll_once(None).await.unwrap();
        assert!(polled[0].1.is_ok(), "{polled:?}");
    }
    let mail = operator_mail(&d).await;
    assert_eq!(mail.len(), 1, "silent after 12h: {mail:#?}");
    assert!(
        mail[0].starts_with("【舆情·信息源无新内容】市政府微博（RSSHub）（weibo-city）"),
        "{}",
        mail[0]
    );
    assert!(
        mail[0].contains("能正常访问"),
        "not unreachable: {}",
        mail[0]
    );
    assert_has!(mail[0], "12小时");
    if backend.is_none() {
        let json = sources_json(&config);
        assert_eq!(json["sources"][0]["state"], "silent", "{json:#}");
        assert_eq!(json["sources"][0]["stale_after"], "12h", "{json:#}");
    }

    clock.advance(Duration::hours(1));
    d.poll_once(None).await.unwrap();
    assert_eq!(operator_mail(&d).await.len(), 1, "told once");

    http.set(
        "/weibo/user/1234567890",
        Response::rss(rss(&[
            ("市政府发布天气提示", "https://weibo.example/1", "1", ""),
            ("景区恢复开放", "https://weibo.example/2", "2", ""),
        ])),
    );
    clock.advance(Duration::minutes(10));
    d.poll_once(None).await.unwrap();
    let mail = operator_mail(&d).await;
    assert_eq!(mail.len(), 2, "{mail:#?}");
    assert!(
        mail[1].starts_with("【舆情·信息源恢复】") && mail[1].contains("又有新内容"),
        "{}",
        mail[1]
    );
    let state = d.store.source_state("weibo-city").await.unwrap();
    assert_eq!(state.silent_since, None);
    if backend.is_none() {
        assert_eq!(sources_json(&config)["sources"][0]["state"], "ok");
    }
}

backend_test!(a_feed_that_had_items_and_now_lists_none_is_a_source_error);
async fn a_feed_that_had_items_and_now_lists_none_is_a_source_error(backend: Option<String>) {
    let (dirs, http) = (TempDirs::new(), HttpServer::start().await);
    let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 11, 24, 0, 0, 0).unwrap());
    http.set(
        "/portal.xml",
        Response::rss(rss(&[("天气预报", "https://x/1", "1", "")])),
    );
    http.set(
        "/forum.html",
        Response::ok("text/html; charset=gbk", fixture("pages/gbk-list.html")),
    );
    let d = deployment(&dirs, &http, &clock, &backend).await;
    assert!(d.poll_once(Some("portal")).await.unwrap()[0].1.is_ok());

    // An RSSHub route whose cookie expired: a well-formed feed with no items.
    http.set("/portal.xml", Response::rss(rss(&[])));
    for _ in 0..3 {
        clock.advance(Duration::hours(3));
        let polled = d.poll_once(Some("portal")).await.unwrap();
        let err = polled[0].1.as_ref().expect_err("an error, not quiet");
        assert!(err.to_string().contains("lists no entries"), "{err}");
    }
    let state = d.store.source_state("portal").await.unwrap();
    assert_eq!(state.failures, 3);
    assert!(
        state
            .last_error
            .as_deref()
            .unwrap()
            .contains("listed 1 on the last poll"),
        "{:?}",
        state.last_error
    );
    let mail = operator_mail(&d).await;
    assert_eq!(mail.len(), 1, "{mail:#?}");
    assert_has!(mail[0], "lists no entries");

    // A feed whose items cannot be read is an error from the first poll.
    http.set(
        "/portal.xml",
        Response::rss(
            "<rss version=\"2.0\"><channel><title>t</title><item></item><item> </item></channel></rss>"
                .to_string(),
        ),
    );
    clock.advance(Duration::hours(1));
    let polled = d.poll_once(Some("portal")).await.unwrap();
    let err = polled[0].1.as_ref().expect_err("unreadable items");
    assert!(
        err.to_string()
            .contains("2 <item>/<entry> elements but none could be read"),
        "{err}"
    );

    // Items again: recovered.
    http.set(
        "/portal.xml",
        Response::rss(rss(&[("天气预报", "https://x/1", "1", "")])),
    );
    clock.advance(Duration::hours(1));
    assert!(d.poll_once(Some("portal")).await.unwrap()[0].1.is_ok());
    let mail = operator_mail(&d).await;
    assert_eq!(mail.len(), 2);
    assert_has!(mail[1], "信息源恢复");
}

backend_test!(a_source_whose_url_changed_starts_fresh_after_a_restart);
/// Issue 28: after the README's first run against addresses that do not resolve, the
/// operator fixes the URL and restarts. The source must not keep the old failure (and
/// wait out its back-off): a source whose URL changed starts fresh and is due at once. A
/// source whose URL did not change keeps its state across the restart.
async fn a_source_whose_url_changed_starts_fresh_after_a_restart(backend: Option<String>) {
    let (dirs, http) = (TempDirs::new(), HttpServer::start().await);
    let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 11, 24, 0, 0, 0).unwrap());
    http.set("/portal.xml", Response::status(503));
    http.set("/forum.html", Response::status(503));
    let d = deployment(&dirs, &http, &clock, &backend).await;
    d.poll_once(None).await.unwrap();
    d.poll_once(None).await.unwrap();
    for id in ["portal", "forum"] {
        let state = d.store.source_state(id).await.unwrap();
        assert_eq!((state.health(), state.failures), ("unreachable", 2), "{id}");
    }
    drop(d);

    // The operator fixes the portal's URL and restarts; the forum's stays as it was.
    let config = dirs.root().join("yuqing.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    let fixed = text.replace(&http.url("/portal.xml"), &http.url("/portal-new.xml"));
    assert_ne!(fixed, text);
    std::fs::write(&config, fixed).unwrap();
    let d = common::start(&config, &clock).await;
    let portal = d.store.source_state("portal").await.unwrap();
    assert_eq!(portal.health(), "new", "{portal:?}");
    assert_eq!((portal.failures, portal.last_error), (0, None));
    use yuqing::vocab::clock::Clock;
    assert!(portal.next_poll <= clock.now().timestamp(), "due at once");
    let forum = d.store.source_state("forum").await.unwrap();
    assert_eq!((forum.health(), forum.failures), ("unreachable", 2));

    http.set(
        "/portal-new.xml",
        Response::rss(rss(&[("天气预报", "https://x/1", "1", "")])),
    );
    d.poll_once(Some("portal")).await.unwrap();
    assert_eq!(d.store.source_state("portal").await.unwrap().health(), "ok");
}

/// Issue 24 §4: `max_lag`. A source whose items are heard three hours after publication,
/// against a `max_lag` of one hour, mails the operators once; more late items do not mail
/// again; once its 95th percentile is back within the hour the alert is cleared, and the
/// next crossing is mailed again.
#[tokio::test]
async fn a_source_heard_later_than_its_max_lag_is_mailed_once_per_crossing() {
    use yuqing::vocab::clock::Clock;
    let t0 = Utc.with_ymd_and_hms(2026, 11, 24, 1, 0, 0).unwrap();
    let item = |k: i64, published: chrono::DateTime<Utc>| {
        (
            format!("天气预报第{k}期"),
            format!("https://x/{k}"),
            format!("g{k}"),
            published.to_rfc2822(),
        )
    };
    let feed = |items: &[(String, String, String, String)]| {
        let refs: Vec<common::RssItem<'_>> = items
            .iter()
            .map(|(a, b, c, d)| (a.as_str(), b.as_str(), c.as_str(), d.as_str()))
            .collect();
        Response::rss(rss(&refs))
    };
    let sc = common::scenario(common::SCENIC_MAJOR, &[], "max_lag = \"1h\"\n", &None).await;
    let d = &sc.daemon;
    let lag_mail = || async { common::mail(&d.store, "source_lag").await };
    let mut items = vec![item(0, t0 - Duration::hours(3))];
    sc.http.set("/news.xml", feed(&items));
    d.poll_once(None).await.unwrap();
    let mail = lag_mail().await;
    assert_eq!(mail.len(), 1, "{mail:#?}");
    assert!(
        mail[0]
            .subject
            .starts_with("【舆情·信息源延迟】news（news）近7天 95% 的信息发现时已过 3小时"),
        "{}",
        mail[0].subject
    );
    assert_has!(mail[0].body_text, "max_lag（1h）");

    // Another late item: still over, not mailed again.
    sc.clock.advance(Duration::minutes(10));
    items.push(item(1, sc.clock.now() - Duration::hours(2)));
    sc.http.set("/news.xml", feed(&items));
    d.poll_once(None).await.unwrap();
    assert_eq!(lag_mail().await.len(), 1);

    // Forty items heard as they are published: the 95th percentile is back within the hour.
    sc.clock.advance(Duration::minutes(10));
    for k in 2..42 {
        items.push(item(k, sc.clock.now()));
    }
    sc.http.set("/news.xml", feed(&items));
    d.poll_once(None).await.unwrap();
    assert_eq!(
        d.store.source_state("news").await.unwrap().lag_alerted_at,
        None
    );
    assert_eq!(lag_mail().await.len(), 1);

    // Late again, enough to pass it: the second crossing is mailed.
    sc.clock.advance(Duration::minutes(10));
    for k in 42..62 {
        items.push(item(k, sc.clock.now() - Duration::hours(4)));
    }
    sc.http.set("/news.xml", feed(&items));
    d.poll_once(None).await.unwrap();
    assert_eq!(lag_mail().await.len(), 2);
}
