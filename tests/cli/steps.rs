//! The steps a duty officer records from the command line: a record that always names a
//! person, a release that must be a web address, a release recorded late that reads late
//! everywhere, and a false positive dismissed with a reason, counted apart and never
//! alerting again.

use super::{act_on_first, collapse_polled, deadline_of_first, text, yq, yq_env, SCENIC_ORDINARY};
use crate::common;

use std::process::Command;
use yuqing::incident::Step;
use yuqing::vocab::ids::IncidentId;

#[tokio::test]
async fn the_record_names_a_person_or_the_step_is_refused() {
    let sc = collapse_polled(SCENIC_ORDINARY, &None).await;
    let d = &sc.daemon;
    let nobody = |args: &[&str]| {
        let o = Command::new(env!("CARGO_BIN_EXE_yuqing"))
            .args(args)
            .arg("--config")
            .arg(&sc.config)
            .env_remove("YUQING_USER")
            .env_remove("USER")
            .output()
            .unwrap();
        let (out, err) = text(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {out}{err}");
        assert!(
            err.contains("pass --by NAME or set YUQING_USER"),
            "{args:?}: {err}"
        );
    };
    nobody(&["incident", "ack", "1"]);
    nobody(&["incident", "note", "1", "已电话核实"]);
    nobody(&["incident", "split", "1", "1"]);
    let actions = d.store.actions_of(IncidentId(1)).await.unwrap();
    assert!(
        actions
            .iter()
            .all(|a| a.action != "acknowledged" && a.action != "note"),
        "nothing recorded: {actions:#?}"
    );
    assert!(actions.iter().all(|a| a.actor != "unknown"), "{actions:#?}");

    let o = yq_env(&sc, &["incident", "ack", "1"], &[("YUQING_USER", "李值班")]);
    assert!(o.status.success(), "{:?}", text(&o));
    let actions = d.store.actions_of(IncidentId(1)).await.unwrap();
    assert_eq!(
        common::actors(&actions, "acknowledged"),
        ["李值班"],
        "{actions:#?}"
    );
}

#[tokio::test]
async fn a_release_url_must_be_http_or_https() {
    let sc = collapse_polled(SCENIC_ORDINARY, &None).await;
    let d = &sc.daemon;
    for url in [
        "javascript:alert(1)",
        "data:text/html,x",
        "file:///etc/passwd",
        "gov.cn/n/1",
    ] {
        let o = yq_env(
            &sc,
            &["incident", "release", "1", "--url", url],
            &[("YUQING_USER", "李值班")],
        );
        let (out, err) = text(&o);
        assert_eq!(o.status.code(), Some(2), "{url}: {out}{err}");
        assert!(
            err.contains("is not an http:// or https:// address"),
            "{url}: {err}"
        );
    }
    let actions = d.store.actions_of(IncidentId(1)).await.unwrap();
    assert!(
        actions.iter().all(|a| a.actor != "李值班"),
        "nothing recorded: {actions:#?}"
    );
    let o = yq_env(
        &sc,
        &[
            "incident",
            "release",
            "1",
            "--url",
            "https://gov.example.cn/n/1",
        ],
        &[("YUQING_USER", "李值班")],
    );
    assert!(o.status.success(), "{:?}", text(&o));
}

backend_test!(a_late_release_reads_late_everywhere_and_recording_it_acknowledges);
async fn a_late_release_reads_late_everywhere_and_recording_it_acknowledges(
    backend: Option<String>,
) {
    let sc = collapse_polled(common::SCENIC_MAJOR, &backend).await;
    let d = &sc.daemon;
    let release = deadline_of_first(&sc, "release").await;
    // Nobody acknowledged; the release is recorded 61 s after its deadline.
    let late = yuqing::vocab::clock::from_secs(release.due_at + 61);
    let step = Step::Release {
        url: "https://gov.example.cn/notice/1".into(),
        at: None,
    };
    act_on_first(&sc, &step, "王值班", late).await;
    sc.clock.set(late);

    let i = common::incident(&d.store, 1).await;
    assert_eq!(
        i.acknowledged_by.as_deref(),
        Some("王值班"),
        "acting acknowledges"
    );
    let actions = d.store.actions_of(IncidentId(1)).await.unwrap();
    assert_eq!(
        common::actors(&actions, "acknowledged"),
        ["王值班"],
        "{actions:?}"
    );

    let (shown, err) = text(&yq(&sc, &["incident", "show", "1"]));
    assert!(
        shown.contains(
            "发布权威信息：2026-11-24 14:00 前，超时完成（超时 1分1秒），2026-11-24 14:01:01 王值班 记录"
        ),
        "{shown}{err}"
    );
    let (json, _) = text(&yq(&sc, &["incident", "show", "1", "--json"]));
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let release = v["deadlines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["kind"] == "release")
        .unwrap()
        .clone();
    assert_eq!(release["state"], "met");
    assert_eq!(release["met_late_by_seconds"], 61);
    // `--from` alone reports up to now: a day later, when the press conference is
    // overdue too.
    sc.clock.set(late + chrono::Duration::days(1));
    let (report, err) = text(&yq(&sc, &["report", "incidents", "--from", "2026-11-01"]));
    assert!(report.contains("超时完成（超时 1分1秒）"), "{report}{err}");
    let header: Vec<&str> = report.lines().next().unwrap().split('\t').collect();
    assert_eq!(header[1], "标题", "{report}");
    assert_eq!(header[5], "确认用时", "{report}");
    let row: Vec<&str> = report
        .lines()
        .find(|l| l.starts_with("#1\t") && l.contains("发布权威信息"))
        .unwrap()
        .split('\t')
        .collect();
    assert_eq!(row[1], "某景区发生坍塌 游客被困", "{row:?}");
    assert_ne!(row[5], "未确认", "acknowledged by acting: {row:?}");
    // A day after this story the press conference is overdue too, and neither counts as
    // on time.
    assert_has!(
        report,
        "按时完成率：发布权威信息 0/1（0%）；召开新闻发布会 0/1（0%）\n"
    );
}

backend_test!(a_false_positive_is_dismissed_counted_apart_and_never_alerts_again);
async fn a_false_positive_is_dismissed_counted_apart_and_never_alerts_again(
    backend: Option<String>,
) {
    let title = "景区美术馆新展《坍塌之美》开幕";
    let sc = common::scenario(
        common::SCENIC_MAJOR,
        &[(title, "https://n.example.cn/1", "1", "")],
        "",
        &backend,
    )
    .await;
    let d = &sc.daemon;
    d.poll_once(None).await.unwrap();
    let kinds = |rows: &[yuqing::store::OutboxRow]| -> Vec<String> {
        rows.iter().map(|m| m.kind.clone()).collect()
    };
    assert_eq!(kinds(&d.store.outbox().await.unwrap()), ["opened"]);

    // A reason is required, and the record names a person.
    let o = yq(&sc, &["incident", "dismiss", "1", "--reason", " "]);
    assert_eq!(o.status.code(), Some(2), "{:?}", text(&o));
    let o = yq(&sc, &["incident", "dismiss", "1"]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "clap wants --reason: {:?}",
        text(&o)
    );
    let o = yq(
        &sc,
        &[
            "incident",
            "dismiss",
            "1",
            "--reason",
            "艺术展览的名称，不是安全事件",
            "--by",
            "王值班",
        ],
    );
    assert!(o.status.success(), "{:?}", text(&o));
    // It says which words matched, where, and the exclusion that would have stopped it.
    let (said, _) = text(&o);
    assert!(
        said.contains("命中原因：专题“景区安全”（")
            && said.contains("w.toml:")
            && said.contains("命中了 “景区”、“坍塌”"),
        "{said}"
    );
    assert_has!(said, "none = [\"景区美术馆新展\", \"坍塌之美\"]");
    let o = yq(&sc, &["incident", "dismiss", "1", "--reason", "again"]);
    assert_eq!(o.status.code(), Some(2), "{:?}", text(&o));
    assert!(
        text(&o).1.contains("事件 #1 已判定为误报并撤销"),
        "{:?}",
        text(&o)
    );

    let (shown, _) = text(&yq(&sc, &["incident", "show", "1"]));
    assert_has!(shown, "状态：误报");
    assert_has!(shown, "误报撤销（不计入考核）");
    let (json, _) = text(&yq(&sc, &["incident", "show", "1", "--json"]));
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    for dl in v["deadlines"].as_array().unwrap() {
        assert_eq!(dl["state"], "cancelled", "{dl}");
        assert_eq!(dl["cancelled_because"], "dismissal", "{dl}");
    }
    let mail = d.store.outbox().await.unwrap();
    assert_eq!(kinds(&mail), ["opened", "dismissed"]);
    assert!(
        mail[1].subject.starts_with("【舆情·误报撤销】#1"),
        "{}",
        mail[1].subject
    );
    assert!(mail[1].body_text.contains("艺术展览的名称，不是安全事件"));

    // The report lists it apart and never as unmet.
    let (report, _) = text(&yq(
        &sc,
        &[
            "report",
            "incidents",
            "--from",
            "2026-01-01",
            "--to",
            "2099-12-31",
        ],
    ));
    let (before, after) = report
        .split_once("误报（已撤销，不计入考核）：")
        .unwrap_or_else(|| panic!("{report}"));
    assert!(!before.contains("#1\t"), "{report}");
    assert!(after.contains("误报撤销（不计入考核）\t误报"), "{report}");
    assert!(!report.contains("未完成"), "{report}");

    // More of the same, and the deadlines passing, tell nobody.
    sc.http.set(
        "/news.xml",
        common::Response::rss(common::rss(&[
            (title, "https://n.example.cn/1", "1", ""),
            (
                "景区美术馆新展《坍塌之美》开幕 观众如潮",
                "https://n.example.cn/2",
                "2",
                "",
            ),
        ])),
    );
    sc.clock.advance(chrono::Duration::hours(6));
    d.poll_once(None).await.unwrap();
    d.housekeeping().await.unwrap();
    assert_eq!(
        kinds(&d.store.outbox().await.unwrap()),
        ["opened", "dismissed"]
    );
    let items = common::items_of(&d.store, 1).await;
    assert_eq!(items.len(), 2, "kept with the dismissed incident");
    let (open, _) = text(&yq(&sc, &["incidents"]));
    assert_has!(open, "没有处置中的事件");
}
