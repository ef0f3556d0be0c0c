//! `yuqing poll` and `yuqing sources`: a one-off poll says which incidents opened already
//! overdue and takes an own channel's id, and the sources say how late their reports were
//! heard.

use super::{collapse, text, yq};
use crate::common;

// Multi-threaded: the feed is served on this runtime while the test waits for the binary.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_one_off_poll_says_which_incidents_opened_already_overdue() {
    // The scenario's clock is 2026-11-24 01:00 UTC; the commands run as of it.
    let two_days_ago = chrono::DateTime::parse_from_rfc3339("2026-11-22T01:00:00Z")
        .unwrap()
        .to_rfc2822();
    let sc = common::scenario(common::SCENIC_MAJOR, &[collapse(&two_days_ago)], "", &None).await;
    let o = yq(&sc, &["poll"]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}{err}");
    assert!(
        out.contains("事件 #1 立案时已超时：发布权威信息应于 ")
            && out.contains("（计时起点是首条信息的发布时间 ")
            && out.contains("已超时 1天19小时；超时通报随立案通知一并发出"),
        "{out}"
    );
    assert_has!(out, "召开新闻发布会应于 ");
}

/// Issue 28: `poll --source` takes an own channel's id too (an operator who fixed a
/// channel's URL polls it now rather than waiting for its next turn).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_one_off_poll_takes_an_own_channel_id() {
    let sc = common::scenario(common::SCENIC_MAJOR, &[], "", &None).await;
    sc.http.set(
        "/own.xml",
        common::Response::rss(common::rss(&[(
            "冬季文旅消费季启动",
            "https://www.example.gov.cn/1",
            "o1",
            "",
        )])),
    );
    let config = std::fs::read_to_string(&sc.config).unwrap();
    std::fs::write(
        &sc.config,
        format!(
            "{config}\n[[channel]]\nid = \"weibo-wenlv\"\nname = \"文旅微博\"\nkind = \"weibo\"\n\
             feed = \"{}\"\nowner = \"新媒体科 <media@example.gov.cn>\"\nduty = \"weekly\"\n",
            sc.http.url("/own.xml")
        ),
    )
    .unwrap();
    let o = yq(&sc, &["poll", "--source", "weibo-wenlv"]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}{err}");
    assert!(out.starts_with("weibo-wenlv："), "{out}");
    assert!(
        !out.contains("news："),
        "only the channel was polled: {out}"
    );
    let o = yq(&sc, &["poll", "--source", "weibo"]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(2));
    assert_has!(err, "known: news, weibo-wenlv");
}

/// Issue 24 §4: how late we heard it. A report published 2小时13分 before yuqing first saw
/// it: the opening mail (and the instant message made from its lead) says how much of the
/// 5-hour clock had gone, and `yuqing sources` gives the source's lag, in text and JSON.
#[tokio::test]
async fn the_opening_mail_and_sources_say_how_late_the_report_was_heard() {
    let published = chrono::DateTime::parse_from_rfc3339("2026-11-23T22:47:00Z")
        .unwrap()
        .to_rfc2822();
    let sc = common::scenario(common::SCENIC_MAJOR, &[collapse(&published)], "", &None).await;
    sc.daemon.poll_once(None).await.unwrap();
    let outbox = sc.daemon.store.outbox().await.unwrap();
    let opened = outbox.iter().find(|m| m.kind == "opened").unwrap();
    assert_has!(
        opened.body_text,
        "首条信息发布于 2026-11-24 06:47，发现时已过 2小时13分。"
    );
    let im = yuqing::notify::im::alert(1, Some(1), &opened.subject, &opened.body_text, None);
    assert!(
        im.lines[0].contains("发现时已过 2小时13分"),
        "{:?}",
        im.lines
    );

    let (text_out, err) = text(&yq(&sc, &["sources"]));
    assert!(
        text_out.contains("发现延迟（近7天 中位/95%，条数）"),
        "{text_out}{err}"
    );
    let news = text_out.lines().find(|l| l.starts_with("news\t")).unwrap();
    assert_has!(news, "中位 2小时13分 / 95% 2小时13分（1 条）");
    let json: serde_json::Value =
        serde_json::from_slice(&yq(&sc, &["sources", "--json"]).stdout).unwrap();
    assert_eq!(
        json["sources"][0]["lag"],
        serde_json::json!({"p50_s": 7980, "p95_s": 7980, "n": 1})
    );
}
