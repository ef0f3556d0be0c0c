//! The agency's own channels must post: a WeChat account at least once a calendar week, a
//! website column within 45 working days. An office worker used to check each account by
//! hand every week; now the owner hears when a week is at risk (Thursday), the owner and
//! the leaders when it was missed (Monday 00:00), and the owner when it is back. Channels
//! are served as real RSS / HTML on loopback, time is a manual clock, and
//! `yuqing obligations --json` is asked through the real binary.

use crate::common;

use chrono::{DateTime, Duration, Utc};
use common::{pub_date, rss, sh, HttpServer, Response, TempDirs};
use std::path::PathBuf;
use std::process::Command;
use yuqing::daemon::scheduler::Daemon;
use yuqing::vocab::clock::ManualClock;

struct Deployment {
    dirs: TempDirs,
    http: HttpServer,
    clock: ManualClock,
    config: PathBuf,
    daemon: Daemon,
}

/// A city bureau with one WeChat account (`weekly`) and one website column
/// (`working_days = 45`, an HTML list page); the scheduled jobs are off here (tests/jobs.rs).
async fn deployment(start: DateTime<Utc>, backend: &Option<String>) -> Deployment {
    let dirs = TempDirs::new();
    let http = HttpServer::feed("/wechat.xml", &[]).await;
    http.set(
        "/column.html",
        Response::ok("text/html; charset=utf-8", "<ul class=\"list\"></ul>"),
    );
    dirs.write(
        "watchlists/w.toml",
        "[[topic]]\nid = \"t\"\nname = \"测试\"\nany = [\"踩踏\"]\n",
    );
    let config = dirs.config(&format!(
        r#"calendar = "{calendar}"
source_alert_after = "1h"
{db}
[people]
leaders = ["分管领导 <deputy@example.gov.cn>"]
operators = ["运维 <ops@example.gov.cn>"]

[jobs]
weekly_report = "off"
ledger = "off"
work_report_reminder = "off"
daily_digest = "off"

[[channel]]
id = "wechat-wenlv"
name = "银川文旅"
kind = "wechat"
feed = "{feed}"
owner = "新媒体科 <media@example.gov.cn>"
duty = "weekly"

[[channel]]
id = "column-zwgk"
name = "政务公开专栏"
kind = "column"
url = "{page}"
item = "ul.list > li"
title = "a"
link = "a@href"
date = "span.date"
owner = ["办公室 <office@example.gov.cn>"]
working_days = 45
"#,
        calendar = concat!(env!("CARGO_MANIFEST_DIR"), "/config/calendar"),
        feed = http.url("/wechat.xml"),
        page = http.url("/column.html"),
        db = common::db::config_line(backend),
    ));
    let clock = ManualClock::new(start);
    let daemon = common::start(&config, &clock).await;
    Deployment {
        dirs,
        http,
        clock,
        config,
        daemon,
    }
}

/// Duty mail so far: (kind, recipients, subject, body).
async fn duty_mail(d: &Daemon) -> Vec<(String, String, String, String)> {
    d.store
        .outbox()
        .await
        .unwrap()
        .into_iter()
        .filter(|m| m.kind.starts_with("duty_"))
        .map(|m| (m.kind, m.recipients, m.subject, m.body_text))
        .collect()
}

/// `yuqing obligations --json --at AT` through the real binary.
fn obligations(dep: &Deployment, at: &str) -> serde_json::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_yuqing"))
        .current_dir(dep.dirs.root())
        .args(["obligations", "--json", "--at", at, "--config"])
        .arg(&dep.config)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("{e}: {}", String::from_utf8_lossy(&out.stdout));
    })
}

fn state_of<'a>(json: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    json["duties"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["id"] == id)
        .unwrap_or_else(|| panic!("no duty of {id} in {json:#}"))
}

backend_test!(a_silent_week_is_at_risk_on_thursday_missed_on_monday_and_recovers_with_a_post);
async fn a_silent_week_is_at_risk_on_thursday_missed_on_monday_and_recovers_with_a_post(
    backend: Option<String>,
) {
    // Monday 2026-11-16 10:00; the account last posted on Thursday of the week before.
    let dep = deployment(sh(2026, 11, 16, 10, 0), &backend).await;
    let last = sh(2026, 11, 12, 10, 0);
    dep.http.set(
        "/wechat.xml",
        Response::rss(rss(&[(
            "银川文旅：冬季旅游线路发布",
            "https://mp.example.cn/s/1",
            "wx-1",
            &pub_date(last),
        )])),
    );
    let d = &dep.daemon;
    d.poll_once(Some("wechat-wenlv")).await.unwrap();
    let posts = d.store.posts_since(Some("wechat-wenlv"), 0).await.unwrap();
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0].title, "银川文旅：冬季旅游线路发布");
    assert!(
        d.store.items(None, 0, 10).await.unwrap().is_empty(),
        "own posts are not monitored items"
    );
    assert!(duty_mail(d).await.is_empty(), "Monday: nothing to say yet");

    // Wednesday 23:59: still fine. Thursday 00:00: at risk, the owner is told once.
    dep.clock.set(sh(2026, 11, 18, 23, 59));
    d.housekeeping().await.unwrap();
    assert!(duty_mail(d).await.is_empty());
    dep.clock.set(sh(2026, 11, 19, 0, 0));
    d.housekeeping().await.unwrap();
    dep.clock.advance(Duration::hours(5));
    d.housekeeping().await.unwrap();
    let mail = duty_mail(d).await;
    assert_eq!(mail.len(), 1, "{mail:#?}");
    let (kind, to, subject, body) = &mail[0];
    assert_eq!(kind, "duty_at_risk");
    assert!(
        to.contains("media@example.gov.cn") && !to.contains("deputy@"),
        "{to}"
    );
    assert_eq!(
        subject,
        "【发布提醒】微信公众号「银川文旅」（wechat-wenlv） 本周期尚未达到发布要求"
    );
    for needle in [
        "本周期已发布 0 条",
        "最近一次发布：2026-11-12 10:00",
        "本周期截止：2026-11-23 00:00",
        "每周（周一至周日）至少发布 1 条",
    ] {
        assert!(body.contains(needle), "missing {needle:?} in\n{body}");
    }

    // A restart does not repeat it.
    let d = common::start(&dep.config, &dep.clock).await;
    d.housekeeping().await.unwrap();
    assert_eq!(duty_mail(&d).await.len(), 1);

    // Sunday 23:59 still at risk; Monday 00:00 missed: owner and leaders, once.
    dep.clock.set(sh(2026, 11, 22, 23, 59));
    d.housekeeping().await.unwrap();
    assert_eq!(duty_mail(&d).await.len(), 1);
    dep.clock.set(sh(2026, 11, 23, 0, 0));
    d.housekeeping().await.unwrap();
    dep.clock.advance(Duration::hours(1));
    d.housekeeping().await.unwrap();
    let mail = duty_mail(&d).await;
    assert_eq!(mail.len(), 2, "{mail:#?}");
    let (kind, to, subject, body) = &mail[1];
    assert_eq!(kind, "duty_missed");
    assert!(
        to.contains("media@example.gov.cn") && to.contains("deputy@example.gov.cn"),
        "{to}"
    );
    assert!(
        subject.starts_with("【发布违规】微信公众号「银川文旅」"),
        "{subject}"
    );
    assert_has!(
        body,
        "在 2026-11-16（周一）至 2026-11-22（周日）这一周发布不足 1 条，已构成违规"
    );

    // What the office sees, as of any time.
    let json = obligations(&dep, "2026-11-18 23:59");
    assert_eq!(state_of(&json, "wechat-wenlv")["state"], "ok");
    let json = obligations(&dep, "2026-11-19T00:00:00+08:00");
    let w = state_of(&json, "wechat-wenlv");
    assert_eq!(w["state"], "at_risk");
    assert_eq!(w["due"], "2026-11-23T00:00:00+08:00");
    assert_eq!(w["last_post"], "2026-11-12T10:00:00+08:00");
    let json = obligations(&dep, "2026-11-23 00:00");
    assert_eq!(state_of(&json, "wechat-wenlv")["state"], "missed");
    assert_eq!(
        state_of(&json, "wechat-wenlv")["missed_period"]["from"],
        "2026-11-16T00:00:00+08:00"
    );

    // Tuesday a post appears: back in compliance, the owner is told.
    dep.clock.set(sh(2026, 11, 24, 15, 0));
    dep.http.set(
        "/wechat.xml",
        Response::rss(rss(&[
            (
                "银川文旅：雪后景区开放公告",
                "https://mp.example.cn/s/2",
                "wx-2",
                &pub_date(sh(2026, 11, 24, 14, 30)),
            ),
            (
                "银川文旅：冬季旅游线路发布",
                "https://mp.example.cn/s/1",
                "wx-1",
                &pub_date(last),
            ),
        ])),
    );
    d.poll_once(Some("wechat-wenlv")).await.unwrap();
    let mail = duty_mail(&d).await;
    assert_eq!(mail.len(), 3, "{mail:#?}");
    let (kind, to, subject, _) = &mail[2];
    assert_eq!(kind, "duty_recovered");
    assert!(
        to.contains("media@example.gov.cn") && !to.contains("deputy@"),
        "{to}"
    );
    assert!(subject.starts_with("【发布恢复】"), "{subject}");
    d.housekeeping().await.unwrap();
    assert_eq!(duty_mail(&d).await.len(), 3, "told once");
    let posts_after = d
        .store
        .posts_since(
            Some("wechat-wenlv"),
            yuqing::vocab::clock::secs(sh(2026, 11, 23, 0, 0)),
        )
        .await
        .unwrap();
    assert_eq!(
        posts_after.len(),
        1,
        "posts since T, for the incidents hook"
    );
}

#[tokio::test]
async fn a_post_on_sunday_2359_counts_for_that_week() {
    let dep = deployment(sh(2026, 11, 23, 8, 0), &None).await;
    dep.http.set(
        "/wechat.xml",
        Response::rss(rss(&[(
            "周日夜间发布",
            "https://mp.example.cn/s/9",
            "wx-9",
            &pub_date(sh(2026, 11, 22, 23, 59)),
        )])),
    );
    dep.daemon.poll_once(Some("wechat-wenlv")).await.unwrap();
    let json = obligations(&dep, "2026-11-23 00:00");
    let w = state_of(&json, "wechat-wenlv");
    assert_eq!(w["state"], "ok", "{w:#}");
    assert_eq!(w["posts_this_period"], 0);
    let json = obligations(&dep, "2026-11-22 23:59");
    assert_eq!(state_of(&json, "wechat-wenlv")["posts_this_period"], 1);
    assert!(duty_mail(&dep.daemon).await.is_empty());
}

backend_test!(a_column_45_working_days_without_update_across_national_day);
async fn a_column_45_working_days_without_update_across_national_day(backend: Option<String>) {
    // Last update Friday 2026-08-21. Working days after it: 中秋 (9-25..27) and 国庆
    // (10-1..7) are off, the make-up days Sunday 9-20 and Saturday 10-10 are on, so the
    // 40th working day is 10-22 and the 45th is Thursday 10-29.
    let dep = deployment(sh(2026, 10, 22, 12, 0), &backend).await;
    dep.http.set(
        "/column.html",
        Response::ok(
            "text/html; charset=utf-8",
            "<html><body><ul class=\"list\">\
             <li><a href=\"/zwgk/2026/0821.html\">关于2026年第三季度政务公开工作的通知</a><span class=\"date\">2026-08-21</span></li>\
             <li><a href=\"/zwgk/2026/0701.html\">上半年工作总结</a><span class=\"date\">2026-07-01</span></li>\
             </ul></body></html>",
        ),
    );
    let d = &dep.daemon;
    let r = d.poll_once(Some("column-zwgk")).await.unwrap();
    assert!(r[0].1.is_ok(), "{r:?}");
    let column_mail = |m: &Vec<(String, String, String, String)>| {
        m.iter()
            .filter(|x| x.2.contains("column-zwgk"))
            .cloned()
            .collect::<Vec<_>>()
    };
    d.housekeeping().await.unwrap();
    assert!(
        column_mail(&duty_mail(d).await).is_empty(),
        "10-22: 40 days used, not yet at risk"
    );

    dep.clock.set(sh(2026, 10, 23, 0, 0));
    d.housekeeping().await.unwrap();
    let mail = column_mail(&duty_mail(d).await);
    assert_eq!(mail.len(), 1, "{mail:#?}");
    assert_eq!(mail[0].0, "duty_at_risk");
    assert!(mail[0].1.contains("office@example.gov.cn"));
    for needle in [
        "网站专题栏目「政务公开专栏」（column-zwgk） 距上次更新已接近规定期限",
        "最近一次发布：2026-08-21 00:00",
        "本周期截止：2026-10-30 00:00",
        "超过 45 个工作日未更新即违规",
    ] {
        assert!(
            mail[0].3.contains(needle),
            "missing {needle:?} in\n{}",
            mail[0].3
        );
    }

    dep.clock.set(sh(2026, 10, 29, 23, 59));
    d.housekeeping().await.unwrap();
    assert_eq!(column_mail(&duty_mail(d).await).len(), 1);
    let json = obligations(&dep, "2026-10-29 23:59");
    let c = state_of(&json, "column-zwgk");
    assert_eq!(c["state"], "at_risk");
    assert_eq!(c["due"], "2026-10-30T00:00:00+08:00");
    assert_eq!(c["last_post"], "2026-08-21T00:00:00+08:00");

    dep.clock.set(sh(2026, 10, 30, 0, 0));
    d.housekeeping().await.unwrap();
    let mail = column_mail(&duty_mail(d).await);
    assert_eq!(mail.len(), 2, "{mail:#?}");
    assert_eq!(mail[1].0, "duty_missed");
    assert!(
        mail[1].1.contains("office@example.gov.cn") && mail[1].1.contains("deputy@example.gov.cn")
    );
    assert!(
        mail[1]
            .2
            .starts_with("【发布违规】网站专题栏目「政务公开专栏」"),
        "{}",
        mail[1].2
    );
    assert_has!(
        mail[1].3,
        "自上次发布（2026-08-21 00:00）起已超过 45 个工作日未更新"
    );
}

#[tokio::test]
async fn a_channel_that_cannot_be_read_is_unknown_and_the_operators_are_told() {
    let dep = deployment(sh(2026, 11, 16, 10, 0), &None).await;
    dep.http.set("/wechat.xml", Response::status(503));
    let d = &dep.daemon;
    d.poll_once(Some("wechat-wenlv")).await.unwrap();
    dep.clock.set(sh(2026, 11, 19, 12, 0));
    d.poll_once(Some("wechat-wenlv")).await.unwrap();
    let json = obligations(&dep, "2026-11-19 12:00");
    let w = state_of(&json, "wechat-wenlv");
    assert_eq!(w["state"], "unknown", "{w:#}");
    assert_eq!(w["health"]["failures"], 2);
    assert!(
        duty_mail(d).await.is_empty(),
        "the owner is not told a guess"
    );
    let out = Command::new(env!("CARGO_BIN_EXE_yuqing"))
        .args(["sources", "--json", "--config"])
        .arg(&dep.config)
        .output()
        .unwrap();
    let sources: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let wx = sources["channels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "wechat-wenlv")
        .unwrap_or_else(|| panic!("{sources:#}"));
    assert_eq!(wx["failures"], 2);
    assert!(
        wx["last_error"].as_str().unwrap_or("").contains("503"),
        "{wx:#}"
    );
    let ops: Vec<_> = common::mail_to(&d.store, "ops@example.gov.cn").await;
    assert_eq!(ops.len(), 1, "{ops:#?}");
    assert_has!(ops[0].subject, "wechat-wenlv");
}

#[test]
fn yuqing_check_reports_a_bad_duty_with_its_line() {
    let dirs = TempDirs::new();
    dirs.write(
        "watchlists/a.toml",
        "[[topic]]\nid = \"t\"\nname = \"t\"\nany = [\"x\"]\n",
    );
    let config = dirs.write(
        "yuqing.toml",
        "[daemon]\nwatchlists = \"watchlists\"\n\n[[channel]]\nid = \"wx\"\nkind = \"wechat\"\nfeed = \"https://example.cn/f.xml\"\nduty = \"weekly\"\nat_risk = \"someday\"\n",
    );
    let out = common::process::check(&config);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_has!(
        err,
        &format!(
            "{}:9: channel `wx`: `at_risk` for a weekly duty is a weekday",
            config.display()
        )
    );
}
