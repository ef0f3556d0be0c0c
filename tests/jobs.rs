//! The scheduled jobs of `[jobs]`, on a manual clock in Asia/Shanghai: the monthly work
//! report reminder (before the 20th) and the publication ledger (before the 25th, CSV
//! attached) fire once each, also across a restart and after a downtime; the weekly
//! compliance report lists each channel's posts of the past week and its state; the daily
//! digest tells the duty officer of new items and open incidents. Mail goes to the mail
//! folder and is read back as a mail client would.

use crate::common;

use chrono::{DateTime, Utc};
use common::{pub_date, rss, sh, HttpServer, Response, TempDirs};
use std::path::PathBuf;
use yuqing::daemon::scheduler::Daemon;
use yuqing::vocab::clock::ManualClock;

struct Deployment {
    dirs: TempDirs,
    http: HttpServer,
    clock: ManualClock,
    config: PathBuf,
}

async fn deployment(start: DateTime<Utc>, jobs: &str, backend: &Option<String>) -> Deployment {
    let dirs = TempDirs::new();
    let http = HttpServer::start().await;
    let posts = [
        (
            "十月第一条：国庆假期旅游安全提示",
            "https://mp.example.cn/s/1",
            "1",
            sh(2026, 10, 1, 9, 0),
        ),
        (
            "十月最后一条，含逗号, 和\"引号\"",
            "https://mp.example.cn/s/2",
            "2",
            sh(2026, 10, 31, 23, 59),
        ),
        (
            "十一月第一条",
            "https://mp.example.cn/s/3",
            "3",
            sh(2026, 11, 1, 0, 0),
        ),
        (
            "九月的旧文",
            "https://mp.example.cn/s/0",
            "0",
            sh(2026, 9, 30, 23, 59),
        ),
    ];
    let items: Vec<(String, String, String, String)> = posts
        .iter()
        .map(|(t, l, g, p)| (t.to_string(), l.to_string(), g.to_string(), pub_date(*p)))
        .collect();
    let refs: Vec<(&str, &str, &str, &str)> = items
        .iter()
        .map(|(a, b, c, d)| (a.as_str(), b.as_str(), c.as_str(), d.as_str()))
        .collect();
    http.set("/wechat.xml", Response::rss(rss(&refs)));
    http.set(
        "/news.xml",
        Response::rss(rss(&[(
            "某景区发生踩踏 多人受伤",
            "https://news.example.cn/1",
            "n1",
            "",
        )])),
    );
    dirs.write(
        "watchlists/w.toml",
        "[[topic]]\nid = \"scenic\"\nname = \"景区安全\"\nseverity = \"large\"\nany = [\"踩踏\"]\n",
    );
    let config = dirs.config(&format!(
        r#"{db}
[people]
duty = ["值班员 <duty@example.gov.cn>"]
office = ["办公室 <office@example.gov.cn>"]

[jobs]
{jobs}

[[source]]
id = "news"
kind = "feed"
url = "{news}"

[[channel]]
id = "wechat-wenlv"
name = "银川文旅"
kind = "wechat"
feed = "{feed}"
owner = "media@example.gov.cn"
duty = "weekly"
"#,
        feed = http.url("/wechat.xml"),
        news = http.url("/news.xml"),
        db = common::db::config_line(backend),
    ));
    Deployment {
        dirs,
        http,
        clock: ManualClock::new(start),
        config,
    }
}

/// Job mail so far: (kind, recipients, subject, body).
async fn job_mail(d: &Daemon, kind: &str) -> Vec<(String, String, String)> {
    common::mail(&d.store, kind)
        .await
        .into_iter()
        .map(|m| (m.recipients, m.subject, m.body_text))
        .collect()
}

/// The `.eml` files of the mail folder, parsed.
fn mail_files(dirs: &TempDirs) -> Vec<Vec<u8>> {
    let mut paths: Vec<_> = std::fs::read_dir(dirs.mail())
        .map(|d| d.filter_map(|e| e.ok()).map(|e| e.path()).collect())
        .unwrap_or_default();
    paths.sort();
    paths
        .into_iter()
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .map(|p| std::fs::read(p).unwrap())
        .collect()
}

backend_test!(monthly_jobs_fire_once_each_also_across_a_restart);
async fn monthly_jobs_fire_once_each_also_across_a_restart(backend: Option<String>) {
    let dep = deployment(
        sh(2026, 11, 10, 8, 0),
        "weekly_report = \"off\"\ndaily_digest = \"off\"",
        &backend,
    )
    .await;
    let d = common::start(&dep.config, &dep.clock).await;
    d.poll_once(None).await.unwrap();
    assert!(job_mail(&d, "work_report_reminder").await.is_empty());

    // The 15th 09:00: the work-report reminder, once, whatever the number of turns.
    dep.clock.set(sh(2026, 11, 15, 8, 59));
    d.housekeeping().await.unwrap();
    assert!(job_mail(&d, "work_report_reminder").await.is_empty());
    dep.clock.set(sh(2026, 11, 15, 9, 0));
    d.housekeeping().await.unwrap();
    d.housekeeping().await.unwrap();
    let r = job_mail(&d, "work_report_reminder").await;
    assert_eq!(r.len(), 1, "{r:#?}");
    assert_has!(r[0].0, "office@example.gov.cn");
    assert_eq!(
        r[0].1,
        "【报送提醒】本月重要工作情况及下月工作计划请于 2026-11-20 前报送"
    );

    // A restart an hour later does not send it again.
    drop(d);
    dep.clock.set(sh(2026, 11, 15, 10, 0));
    let d = common::start(&dep.config, &dep.clock).await;
    d.housekeeping().await.unwrap();
    assert_eq!(job_mail(&d, "work_report_reminder").await.len(), 1);

    // Down from the 23rd to the 26th: the ledger due on the 24th fires once on start.
    drop(d);
    dep.clock.set(sh(2026, 11, 26, 7, 30));
    let d = common::start(&dep.config, &dep.clock).await;
    d.housekeeping().await.unwrap();
    d.housekeeping().await.unwrap();
    let l = job_mail(&d, "ledger").await;
    assert_eq!(l.len(), 1, "{l:#?}");
    assert!(l[0].0.contains("office@example.gov.cn"));
    assert_eq!(l[0].1, "【发布信息台账】2026-10：共 2 条");
    assert_has!(l[0].2, "微信公众号「银川文旅」（wechat-wenlv）：2 条");
    assert_has!(l[0].2, "25 日前");
    drop(d);
    let d = common::start(&dep.config, &dep.clock).await;
    d.housekeeping().await.unwrap();
    assert_eq!(
        job_mail(&d, "ledger").await.len(),
        1,
        "once, across restarts"
    );

    // The ledger as the office receives it: a CSV attachment with October's posts only.
    let files = mail_files(&dep.dirs);
    let ledger = files
        .iter()
        .map(|b| mailparse::parse_mail(b).unwrap())
        .find(|m| {
            m.headers
                .iter()
                .any(|h| h.get_key() == "Subject" && h.get_value().contains("发布信息台账"))
        })
        .expect("the ledger was written to the mail folder");
    let attachment = ledger
        .subparts
        .iter()
        .find(|p| p.get_content_disposition().disposition == mailparse::DispositionType::Attachment)
        .expect("an attachment");
    assert_eq!(
        attachment
            .get_content_disposition()
            .params
            .get("filename")
            .map(String::as_str),
        Some("ledger-2026-10.csv")
    );
    assert_eq!(attachment.ctype.mimetype, "text/csv");
    let csv_text = attachment.get_body().unwrap();
    let csv_text = csv_text.trim_start_matches('\u{feff}');
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(
        header,
        [
            "渠道编号",
            "渠道名称",
            "渠道类型",
            "标题",
            "链接",
            "发布时间"
        ]
    );
    let rows: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect();
    assert_eq!(
        rows,
        vec![
            vec![
                "wechat-wenlv",
                "银川文旅",
                "微信公众号",
                "十月第一条：国庆假期旅游安全提示",
                "https://mp.example.cn/s/1",
                "2026-10-01 09:00"
            ],
            vec![
                "wechat-wenlv",
                "银川文旅",
                "微信公众号",
                "十月最后一条，含逗号, 和\"引号\"",
                "https://mp.example.cn/s/2",
                "2026-10-31 23:59"
            ],
        ]
    );

    // December: each fires again, once.
    dep.clock.set(sh(2026, 12, 24, 9, 0));
    d.housekeeping().await.unwrap();
    assert_eq!(job_mail(&d, "ledger").await.len(), 2);
    assert_eq!(job_mail(&d, "work_report_reminder").await.len(), 2);
    let l = job_mail(&d, "ledger").await;
    assert_eq!(l[1].1, "【发布信息台账】2026-11：共 1 条");
}

backend_test!(the_daily_digest_names_an_incident_it_cannot_read);
/// An open incident whose row this version cannot read (a severity written by a newer
/// version) is not listed, but the digest says so in its subject and names it with why,
/// so that "未结事件 0 起" is never read as "nothing open".
async fn the_daily_digest_names_an_incident_it_cannot_read(backend: Option<String>) {
    let dep = deployment(
        sh(2026, 11, 6, 8, 0),
        "ledger = \"off\"\nwork_report_reminder = \"off\"\nweekly_report = \"off\"\ndaily_digest = \"0 8 * * *\"",
        &backend,
    )
    .await;
    let d = common::start(&dep.config, &dep.clock).await;
    d.housekeeping().await.unwrap();
    dep.clock.set(sh(2026, 11, 6, 10, 0));
    d.poll_once(None).await.unwrap();
    sqlx::query("UPDATE incidents SET severity = 'catastrophic' WHERE id = 1")
        .execute(d.store.pool())
        .await
        .unwrap();

    dep.clock.set(sh(2026, 11, 7, 8, 0));
    // The turn reports the steps that stop on the row; the digest goes out all the same.
    let _ = d.housekeeping().await;
    let digest = job_mail(&d, "daily_digest").await;
    assert_eq!(digest.len(), 1, "{digest:#?}");
    assert_eq!(
        digest[0].1,
        "【舆情日报】2026-11-07：新增 1 条（命中 1 条），未结事件 0 起，另 1 起无法读取"
    );
    assert_has!(
        digest[0].2,
        "无法读取的事件（可能由较新版本写入，未列入上面的统计；请联系运维修复）：\n  - 事件 #1："
    );
    assert_has!(digest[0].2, "unknown severity `catastrophic`");
    assert_has!(
        digest[0].2,
        "未结舆情事件 0 起（另有 1 起无法读取，见下）。"
    );
    assert!(
        !digest[0].2.contains("未结事件：\n"),
        "no readable incident is listed: {}",
        digest[0].2
    );
}

#[tokio::test]
async fn weekly_report_and_daily_digest() {
    let dep = deployment(
        sh(2026, 11, 6, 8, 0),
        "ledger = \"off\"\nwork_report_reminder = \"off\"\ndaily_digest = \"0 8 * * *\"",
        &None,
    )
    .await;
    let d = common::start(&dep.config, &dep.clock).await;
    d.housekeeping().await.unwrap();

    // A matched item opens an incident on Friday.
    dep.clock.set(sh(2026, 11, 6, 10, 0));
    d.poll_once(None).await.unwrap();

    // Saturday 08:00: the digest to the duty officer.
    dep.clock.set(sh(2026, 11, 7, 8, 0));
    d.housekeeping().await.unwrap();
    let digest = job_mail(&d, "daily_digest").await;
    assert_eq!(digest.len(), 1, "{digest:#?}");
    assert!(digest[0].0.contains("duty@example.gov.cn"));
    assert_eq!(
        digest[0].1,
        "【舆情日报】2026-11-07：新增 1 条（命中 1 条），未结事件 1 起"
    );
    assert_has!(
        digest[0].2,
        "#1 某景区发生踩踏 多人受伤（景区安全，较大，未确认）"
    );
    assert_has!(digest[0].2, "某景区发生踩踏 多人受伤");

    // Monday 09:00: the weekly report to the office covers the week before, 11-02 .. 11-08,
    // in which the account posted nothing (its 11-01 post, a Sunday, belongs to the week
    // before that); so it has been missed since Monday 00:00.
    dep.clock.set(sh(2026, 11, 9, 9, 0));
    d.housekeeping().await.unwrap();
    let week = job_mail(&d, "weekly_report").await;
    assert_eq!(week.len(), 1, "{week:#?}");
    assert!(week[0].0.contains("office@example.gov.cn"));
    assert_eq!(
        week[0].1,
        "【政务新媒体周报】2026-11-02 至 2026-11-08：1 个渠道，1 个需关注"
    );
    assert_has!(
        week[0].2,
        "微信公众号「银川文旅」（wechat-wenlv）：上周发布 0 条；当前状态：已违规"
    );

    // The next Monday, with a post that week: listed with its time and link.
    dep.http.set(
        "/wechat.xml",
        Response::rss(rss(&[(
            "周三发布的新文章",
            "https://mp.example.cn/s/4",
            "4",
            &pub_date(sh(2026, 11, 11, 15, 0)),
        )])),
    );
    dep.clock.set(sh(2026, 11, 12, 9, 0));
    d.poll_once(Some("wechat-wenlv")).await.unwrap();
    dep.clock.set(sh(2026, 11, 16, 9, 0));
    d.housekeeping().await.unwrap();
    let week = job_mail(&d, "weekly_report").await;
    assert_eq!(week.len(), 2, "{week:#?}");
    assert_has!(week[1].2, "上周发布 1 条；当前状态：正常");
    assert_has!(
        week[1].2,
        "2026-11-11 15:00 周三发布的新文章 https://mp.example.cn/s/4"
    );
    // The daemon only turned on the 7th, 9th, 12th and 16th: each turn sends the latest
    // digest due, never one per day it slept through.
    assert_eq!(job_mail(&d, "daily_digest").await.len(), 4);
}
