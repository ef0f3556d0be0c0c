//! The duty officer's and operator's commands through the real binary, as a user sees
//! them: what a closed incident's missed deadline says weeks later, item ids to split by,
//! why a merged incident's deadlines were cancelled, exit code 2 for a user's mistake, a
//! record that always names a person, and output that a spreadsheet or a script can read.

use crate::common;

use std::process::{Command, Output};
use yuqing::incident::{self, Step};
use yuqing::vocab::ids::IncidentId;

const SCENIC_ORDINARY: &str = "[[topic]]\nid = \"scenic\"\nname = \"景区安全\"\n\
                               severity = \"ordinary\"\nany = [\"坍塌\", \"故障\"]\n";

/// `yuqing ARGS --config CONFIG` of scenario `sc` acting as `tester`, as of the scenario's
/// clock (`YUQING_NOW`: the commands read the database's time, not today's), with `env`
/// on top.
fn yq_env(sc: &common::Scenario, args: &[&str], env: &[(&str, &str)]) -> Output {
    use yuqing::vocab::clock::Clock;
    let mut c = Command::new(env!("CARGO_BIN_EXE_yuqing"));
    c.args(args)
        .arg("--config")
        .arg(&sc.config)
        .env_remove("YUQING_USER")
        .env("USER", "tester")
        .env("NO_COLOR", "1")
        .env("YUQING_NOW", sc.clock.now().to_rfc3339());
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("run yuqing")
}

fn yq(sc: &common::Scenario, args: &[&str]) -> Output {
    yq_env(sc, args, &[])
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

backend_test!(a_closed_incident_is_overdue_by_the_time_to_its_close_not_to_today);
async fn a_closed_incident_is_overdue_by_the_time_to_its_close_not_to_today(
    backend: Option<String>,
) {
    let sc = common::scenario(
        common::SCENIC_MAJOR,
        &[("某景区发生坍塌 游客被困", "https://n.example.cn/1", "1", "")],
        "",
        &backend,
    )
    .await;
    let d = &sc.daemon;
    d.poll_once(None).await.unwrap();
    let deadlines = d
        .store
        .deadlines_of(d.store.pool(), IncidentId(1))
        .await
        .unwrap();
    let release = deadlines.iter().find(|x| x.kind == "release").unwrap();
    let press = deadlines
        .iter()
        .find(|x| x.kind == "press_conference")
        .unwrap();
    // Closed 55 s after the release deadline passed unmet, and long before the press one.
    let closed_at = yuqing::vocab::clock::from_secs(release.due_at + 55);
    let cfg = d.settings.get().config.clone();
    incident::act(
        &d.store,
        &cfg,
        IncidentId(1),
        &Step::Close,
        "duty",
        closed_at,
    )
    .await
    .unwrap();
    assert!(
        press.due_at - (release.due_at + 55) > 18 * 3600,
        "{deadlines:?}"
    );

    // The report for the assessment (考核), run any time later, says the same.
    let o = yq(
        &sc,
        &[
            "report",
            "incidents",
            "--from",
            "2026-11-24",
            "--to",
            "2026-11-24",
            "--csv",
        ],
    );
    let (csv, err) = text(&o);
    assert!(o.status.success(), "{err}");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 3, "{csv}");
    assert!(
        lines[1].contains("发布权威信息")
            && lines[1].contains(",未完成（结案时已超时 55秒）,")
            && lines[1].ends_with(",已结案"),
        "{csv}"
    );
    assert!(
        lines[2].contains("召开新闻发布会")
            && lines[2].contains(",未完成（结案时剩余 18小时59分）,"),
        "{csv}"
    );
    let o = yq(
        &sc,
        &[
            "report",
            "incidents",
            "--from",
            "2026-11-24",
            "--to",
            "2026-11-24",
        ],
    );
    let (report, _) = text(&o);
    assert_has!(report, "\t未完成（结案时已超时 55秒）\t已结案");

    // `incident show` and `incidents --all` count to the close too.
    let (shown, err) = text(&yq(&sc, &["incident", "show", "1"]));
    assert!(
        shown.contains("发布权威信息：2026-11-24 14:00 前，未完成（结案时已超时 55秒）")
            && shown
                .contains("召开新闻发布会：2026-11-25 09:00 前，未完成（结案时剩余 18小时59分）"),
        "{shown}{err}"
    );
    let (all, _) = text(&yq(&sc, &["incidents", "--all"]));
    assert_has!(
        all,
        "发布权威信息：2026-11-24 14:00 前，未完成（结案时已超时 55秒）"
    );
    let (json, _) = text(&yq(&sc, &["incident", "show", "1", "--json"]));
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let dl = &v["deadlines"];
    let of = |kind: &str| {
        dl.as_array()
            .unwrap()
            .iter()
            .find(|x| x["kind"] == kind)
            .unwrap()
            .clone()
    };
    assert_eq!(of("release")["state"], "missed", "{v:#}");
    assert_eq!(of("release")["seconds_left"], -55, "{v:#}");
    assert_eq!(of("press_conference")["state"], "unmet", "{v:#}");
}

backend_test!(item_ids_merge_reasons_and_exit_codes);
async fn item_ids_merge_reasons_and_exit_codes(backend: Option<String>) {
    let sc = common::scenario(
        SCENIC_ORDINARY,
        &[
            ("某景区发生坍塌 游客被困", "https://n.example.cn/1", "1", ""),
            (
                "山顶索道突发故障停运 滞留游客已转移",
                "https://n.example.cn/2",
                "2",
                "",
            ),
        ],
        "",
        &backend,
    )
    .await;
    let d = &sc.daemon;
    d.poll_once(None).await.unwrap();
    let two = d
        .store
        .incident_items(d.store.pool(), IncidentId(2))
        .await
        .unwrap();
    let cable = two[0].id;

    // Item ids in text, as `incident split ID ITEM…` needs them.
    let (shown, _) = text(&yq(&sc, &["incident", "show", "2"]));
    assert!(
        shown.contains(&format!("  #{cable} ")) && shown.contains("索道"),
        "{shown}"
    );
    let (items, _) = text(&yq(&sc, &["items", "--since", "2026-11-01"]));
    let line = items.lines().find(|l| l.contains("索道")).unwrap_or("");
    assert!(line.starts_with(&format!("{cable}\t")), "{items}");
    // A header row naming the zone, and topics by name, not as JSON.
    assert!(
        items.starts_with("编号\t抓取时间（Asia/Shanghai, UTC+08:00）\t来源\t"),
        "{items}"
    );
    assert!(line.ends_with("\t景区安全\t负面 -0.93"), "{items}");
    // One shape of an item in JSON: `items --json` and `incident show --json` give the
    // same object, apart from the search's marks and the evidence.
    let (listed, _) = text(&yq(&sc, &["items", "--since", "2026-11-01", "--json"]));
    let listed: serde_json::Value = serde_json::from_str(&listed).unwrap();
    let mut listed = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == cable)
        .unwrap()
        .clone();
    let (shown, _) = text(&yq(&sc, &["incident", "show", "2", "--json"]));
    let shown: serde_json::Value = serde_json::from_str(&shown).unwrap();
    let mut shown = shown["items"][0].clone();
    assert!(listed.as_object_mut().unwrap().remove("marks").is_some());
    assert!(shown.as_object_mut().unwrap().remove("evidence").is_some());
    assert_eq!(listed, shown);
    assert_eq!(shown["tone"]["label"], "negative", "{shown:#}");
    assert_eq!(
        shown["topics"].as_array().map(Vec::len),
        Some(1),
        "{shown:#}"
    );

    // A merged incident's deadlines say why they were cancelled.
    let o = yq(&sc, &["incident", "merge", "1", "2"]);
    assert!(o.status.success(), "{:?}", text(&o));
    let (shown, _) = text(&yq(&sc, &["incident", "show", "2"]));
    assert!(
        shown.contains("，因并入 #1 取消") && !shown.contains("级别调整"),
        "{shown}"
    );
    let (all, _) = text(&yq(&sc, &["incidents", "--all"]));
    assert_has!(all, "，因并入 #1 取消");

    // A user's mistake exits 2, with what to do; nothing changes.
    let refused = |args: &[&str], says: &[&str]| {
        let o = yq(&sc, args);
        let (out, err) = text(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {out}{err}");
        for s in says {
            assert!(err.contains(s), "{args:?}: {err}");
        }
    };
    refused(&["incident", "show", "99"], &["没有事件 #99"]);
    refused(&["incident", "ack", "99"], &["没有事件 #99"]);
    refused(&["incident", "merge", "1", "1"], &["并入它自己"]);
    refused(&["incident", "merge", "1", "99"], &["没有事件 #99"]);
    refused(
        &["incident", "split", "1", "999"],
        &["信息 #999 不属于事件 #1"],
    );
    refused(&["incident", "ack", "2"], &["已并入 #1"]);
    refused(
        &[
            "report",
            "incidents",
            "--from",
            "2026-11-30",
            "--to",
            "2026-11-01",
        ],
        &["--from 2026-11-30 is after --to 2026-11-01"],
    );
    refused(
        &["items", "--source", "nosuch"],
        &["defines no source `nosuch`; known: news"],
    );
    refused(
        &["poll", "--source", "nosuch"],
        &["defines no source `nosuch`; known: news"],
    );
    let o = Command::new(env!("CARGO_BIN_EXE_yuqing"))
        .args(["classify", "--source", "nosuch", "--config"])
        .arg(&sc.config)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{:?}", text(&o));
    assert!(
        text(&o)
            .1
            .contains("defines no source `nosuch`; known: news"),
        "{:?}",
        text(&o)
    );
    assert_eq!(common::incident(&d.store, 2).await.status, "merged");
}

#[tokio::test]
async fn the_record_names_a_person_or_the_step_is_refused() {
    let sc = common::scenario(
        SCENIC_ORDINARY,
        &[("某景区发生坍塌 游客被困", "https://n.example.cn/1", "1", "")],
        "",
        &None,
    )
    .await;
    let d = &sc.daemon;
    d.poll_once(None).await.unwrap();
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
    assert!(
        actions
            .iter()
            .any(|a| a.action == "acknowledged" && a.actor == "李值班"),
        "{actions:#?}"
    );
}

#[tokio::test]
async fn a_release_url_must_be_http_or_https() {
    let sc = common::scenario(
        SCENIC_ORDINARY,
        &[("某景区发生坍塌 游客被困", "https://n.example.cn/1", "1", "")],
        "",
        &None,
    )
    .await;
    let d = &sc.daemon;
    d.poll_once(None).await.unwrap();
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

#[tokio::test]
async fn output_for_spreadsheets_scripts_and_help() {
    let sc = common::scenario(
        SCENIC_ORDINARY,
        &[("某景区发生坍塌 游客被困", "https://n.example.cn/1", "1", "")],
        "",
        &None,
    )
    .await;
    sc.daemon.poll_once(None).await.unwrap();

    // Excel reads a CSV without a byte order mark as the local code page.
    let o = yq(
        &sc,
        &[
            "report",
            "incidents",
            "--from",
            "2026-11-24",
            "--to",
            "2026-11-24",
            "--csv",
        ],
    );
    assert!(
        o.stdout.starts_with("\u{feff}事件编号,".as_bytes()),
        "{:?}",
        text(&o)
    );

    // No empty column after a healthy source.
    let (sources, _) = text(&yq(&sc, &["sources"]));
    assert!(
        sources.starts_with(
            "来源\t状态\t上次成功（Asia/Shanghai, UTC+08:00）\t连续失败\t下次抓取\t发现延迟（近7天 中位/95%，条数）\t错误\nnews\t正常\t2026-11-24 09:00\t0 次\t"
        ),
        "{sources}"
    );
    assert!(sources.lines().all(|l| !l.ends_with('\t')), "{sources:?}");
    assert!(
        sources.lines().nth(1).unwrap().ends_with("\t-"),
        "no error: {sources:?}"
    );

    // The help of the regrouping and press commands says what each argument is.
    let help = |args: &[&str]| {
        let o = Command::new(env!("CARGO_BIN_EXE_yuqing"))
            .args(args)
            .arg("--help")
            .output()
            .unwrap();
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let merge = help(&["incident", "merge"]);
    assert!(
        merge.contains("The incident that stays") && merge.contains("The incident merged in"),
        "{merge}"
    );
    let split = help(&["incident", "split"]);
    assert!(
        split.contains("The incident to split") && split.contains("The item ids to move"),
        "{split}"
    );
    let press = help(&["incident", "press"]);
    assert!(
        press.contains("--note") && press.contains("What to record about it"),
        "{press}"
    );
}

backend_test!(a_late_release_reads_late_everywhere_and_recording_it_acknowledges);
async fn a_late_release_reads_late_everywhere_and_recording_it_acknowledges(
    backend: Option<String>,
) {
    let sc = common::scenario(
        common::SCENIC_MAJOR,
        &[("某景区发生坍塌 游客被困", "https://n.example.cn/1", "1", "")],
        "",
        &backend,
    )
    .await;
    let d = &sc.daemon;
    d.poll_once(None).await.unwrap();
    let deadlines = d
        .store
        .deadlines_of(d.store.pool(), IncidentId(1))
        .await
        .unwrap();
    let release = deadlines.iter().find(|x| x.kind == "release").unwrap();
    // Nobody acknowledged; the release is recorded 61 s after its deadline.
    let late = yuqing::vocab::clock::from_secs(release.due_at + 61);
    let cfg = d.settings.get().config.clone();
    let step = Step::Release {
        url: "https://gov.example.cn/notice/1".into(),
        at: None,
    };
    incident::act(&d.store, &cfg, IncidentId(1), &step, "王值班", late)
        .await
        .unwrap();
    sc.clock.set(late);

    let i = common::incident(&d.store, 1).await;
    assert_eq!(
        i.acknowledged_by.as_deref(),
        Some("王值班"),
        "acting acknowledges"
    );
    let actions = d.store.actions_of(IncidentId(1)).await.unwrap();
    assert!(
        actions
            .iter()
            .any(|a| a.action == "acknowledged" && a.actor == "王值班"),
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
    let items = d
        .store
        .incident_items(d.store.pool(), IncidentId(1))
        .await
        .unwrap();
    assert_eq!(items.len(), 2, "kept with the dismissed incident");
    let (open, _) = text(&yq(&sc, &["incidents"]));
    assert_has!(open, "没有处置中的事件");
}

// Multi-threaded: the feed is served on this runtime while the test waits for the binary.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_one_off_poll_says_which_incidents_opened_already_overdue() {
    // The scenario's clock is 2026-11-24 01:00 UTC; the commands run as of it.
    let two_days_ago = chrono::DateTime::parse_from_rfc3339("2026-11-22T01:00:00Z")
        .unwrap()
        .to_rfc2822();
    let sc = common::scenario(
        common::SCENIC_MAJOR,
        &[(
            "某景区发生坍塌 游客被困",
            "https://n.example.cn/1",
            "1",
            &two_days_ago,
        )],
        "",
        &None,
    )
    .await;
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

/// The English words left in `text` once what may be English is taken out: addresses,
/// commands and config keys in backticks or brackets, the zone's name, source ids and
/// the actor `yuqing`.
fn english_words(text: &str, allowed: &[&str]) -> Vec<String> {
    let strip =
        regex::Regex::new(r"https?://\S+|`[^`]*`|\[\[?[a-z_.]+\]\]?|Asia/Shanghai|UTC").unwrap();
    let stripped = strip.replace_all(text, " ");
    regex::Regex::new(r"[A-Za-z]{2,}")
        .unwrap()
        .find_iter(&stripped)
        .map(|m| m.as_str().to_string())
        .filter(|w| !allowed.contains(&w.as_str()) && w != "yuqing")
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_the_duty_officer_reads_is_chinese() {
    let sc = common::scenario(
        common::SCENIC_MAJOR,
        &[
            ("某景区发生坍塌 游客被困", "https://n.example.cn/1", "1", ""),
            ("另一景区栈道坍塌", "https://n.example.cn/2", "2", ""),
        ],
        "",
        &None,
    )
    .await;
    let mut seen = Vec::new();
    let mut run = |args: &[&str]| {
        let o = yq_env(&sc, args, &[("YUQING_USER", "王值班")]);
        let (out, err) = text(&o);
        assert!(o.status.success(), "{args:?}: {out}{err}");
        seen.push((args.join(" "), out));
    };
    run(&["poll"]);
    run(&["incidents"]);
    run(&["incident", "ack", "1"]);
    run(&["incident", "note", "1", "已联系景区"]);
    run(&["incident", "severity", "2", "ordinary"]);
    run(&[
        "incident",
        "release",
        "1",
        "--url",
        "https://gov.example.cn/n/1",
    ]);
    run(&["incident", "press", "1"]);
    run(&["incident", "merge", "1", "2"]);
    run(&["incident", "show", "1"]);
    run(&["incident", "show", "2"]);
    run(&["incidents", "--all"]);
    run(&["sources"]);
    run(&["obligations"]);
    run(&["report", "incidents", "--from", "2026-11-01"]);
    run(&["incident", "close", "1"]);
    run(&["incident", "show", "1"]);
    for (args, out) in &seen {
        let words = english_words(out, &["news"]);
        assert!(
            words.is_empty(),
            "`yuqing {args}` printed English {words:?}:\n{out}"
        );
    }
    // The record in `incident show` names each step in Chinese.
    let (_, shown) = seen.last().unwrap();
    for step in [
        "立案（首条信息 #1）",
        "王值班 确认接报",
        "王值班 备注（已联系景区）",
        "王值班 记录发布权威信息（https://gov.example.cn/n/1）",
        "王值班 记录召开新闻发布会",
        "王值班 合并（#2 并入（1 条信息），计时起点 ",
        "王值班 结案",
    ] {
        assert!(shown.contains(step), "{step}: {shown}");
    }
}

/// Issue 28: `yuqing incidents` lists the most urgent incident first, by the nearest
/// deadline owed, as the console's dashboard does, not the newest first. The older major
/// incident (release due in 4 hours) comes before the newer ordinary one (48 hours).
#[tokio::test]
async fn incidents_are_listed_by_the_nearest_deadline_owed() {
    use yuqing::vocab::clock::Clock;
    let watchlist = format!(
        "{}\n[[topic]]\nid = \"hotel\"\nname = \"酒店服务\"\nseverity = \"ordinary\"\nany = [\"酒店\"]\n",
        common::SCENIC_MAJOR
    );
    let collapse = ("某景区发生坍塌 游客被困", "https://n.example.cn/1", "1", "");
    let sc = common::scenario(&watchlist, &[collapse], "", &None).await;
    sc.daemon.poll_once(None).await.unwrap();
    sc.clock.advance(chrono::Duration::hours(1));
    sc.http.set(
        "/news.xml",
        common::Response::rss(common::rss(&[
            (
                "某酒店卫生问题引游客投诉",
                "https://n.example.cn/2",
                "2",
                "",
            ),
            collapse,
        ])),
    );
    sc.daemon.poll_once(None).await.unwrap();
    let now = sc.clock.now().to_rfc3339();
    let env = [("YUQING_NOW", now.as_str())];

    let (list, err) = text(&yq_env(&sc, &["incidents"], &env));
    let at = |id: &str| {
        list.lines()
            .position(|l| l.starts_with(&format!("{id} ")))
            .unwrap_or_else(|| panic!("{id} missing:\n{list}{err}"))
    };
    assert!(at("#1") < at("#2"), "the 5-hour clock first:\n{list}");
    let json: serde_json::Value =
        serde_json::from_slice(&yq_env(&sc, &["incidents", "--json"], &env).stdout).unwrap();
    let ids: Vec<i64> = json["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, vec![1, 2]);
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

/// Issue 28: dismissing an incident after its deadline was missed (and the leaders were
/// mailed) must not hide the breach. The 考核 report lists it apart as 超时后认定误报 with
/// who decided, and the leaders' briefing of the day shows it among the deadlines missed.
#[tokio::test]
async fn a_breach_dismissed_afterwards_is_shown_apart_not_hidden() {
    use yuqing::vocab::clock::Clock;
    let sc = common::scenario(
        common::SCENIC_MAJOR,
        &[("某景区发生坍塌 游客被困", "https://n.example.cn/1", "1", "")],
        "",
        &None,
    )
    .await;
    let d = &sc.daemon;
    d.poll_once(None).await.unwrap();
    // 01:00 UTC opened, release due 06:00: missed at 07:00 and the breach mailed.
    sc.clock.advance(chrono::Duration::hours(6));
    d.housekeeping().await.unwrap();
    let now = sc.clock.now().to_rfc3339();
    let env = [("YUQING_NOW", now.as_str())];
    let o = yq_env(
        &sc,
        &[
            "incident",
            "dismiss",
            "1",
            "--reason",
            "转载的旧闻",
            "--by",
            "王值班",
        ],
        &env,
    );
    assert!(o.status.success(), "{:?}", text(&o));
    // The terminal gets the Chinese line, not an English log line beside it.
    let (said, logged) = text(&o);
    assert_has!(said, "已判定为误报并撤销");
    assert!(!logged.contains("INFO"), "{logged}");

    let (report, err) = text(&yq_env(
        &sc,
        &[
            "report",
            "incidents",
            "--from",
            "2026-11-24",
            "--to",
            "2026-11-24",
        ],
        &env,
    ));
    let apart = report
        .find("超时后认定误报（时限到期未完成")
        .unwrap_or_else(|| panic!("no group of its own:\n{report}{err}"));
    let line = report
        .lines()
        .find(|l| l.contains("发布权威信息") && l.starts_with("#1"))
        .unwrap_or_else(|| panic!("{report}"));
    assert!(
        line.contains("超时后认定误报（认定时已超时 1小时，王值班 认定）"),
        "{report}"
    );
    assert!(report.find(line).unwrap() > apart, "{report}");

    let (briefing, err) = text(&yq_env(&sc, &["briefing", "--from", "2026-11-24"], &env));
    assert!(
        briefing.contains("超时后认定误报（认定时已超时 1小时，王值班 认定）"),
        "{briefing}{err}"
    );
}

/// Issue 28: the briefing counts events, not incident rows. Of four incidents opened one
/// day, one merged into another and one dismissed as a false positive, it says 2 new
/// events and the other two beside them; the merged one (no items left) is not a main
/// event. Without --to it covers the one day of --from, as the console does, and a source
/// failing since after that day is not that day's news.
#[tokio::test]
async fn the_briefing_counts_events_not_rows_and_covers_one_day() {
    use yuqing::vocab::clock::Clock;
    let items = [
        ("某景区发生坍塌 游客被困", "https://n.example.cn/1", "1", ""),
        (
            "山顶索道突发故障停运 滞留游客已转移",
            "https://n.example.cn/2",
            "2",
            "",
        ),
        (
            "景区美术馆新展《坍塌之美》开幕",
            "https://n.example.cn/3",
            "3",
            "",
        ),
        (
            "古镇老街一处民房坍塌 两名过路游客擦伤",
            "https://n.example.cn/4",
            "4",
            "",
        ),
    ];
    let sc = common::scenario(SCENIC_ORDINARY, &items, "", &None).await;
    sc.daemon.poll_once(None).await.unwrap();
    assert_eq!(sc.daemon.store.incidents(true).await.unwrap().len(), 4);
    let now = sc.clock.now().to_rfc3339();
    let env = [("YUQING_NOW", now.as_str())];
    for args in [
        &["incident", "merge", "1", "4", "--by", "王值班"][..],
        &[
            "incident",
            "dismiss",
            "3",
            "--reason",
            "展览名称",
            "--by",
            "王值班",
        ][..],
    ] {
        let o = yq_env(&sc, args, &env);
        assert!(o.status.success(), "{args:?}: {:?}", text(&o));
    }
    // The next day the feed fails: that is not the 24th's news.
    sc.clock.advance(chrono::Duration::days(1));
    sc.http.set("/news.xml", common::Response::status(503));
    sc.daemon.poll_once(None).await.unwrap();
    let now = sc.clock.now().to_rfc3339();
    let env = [("YUQING_NOW", now.as_str())];

    let (b, err) = text(&yq_env(&sc, &["briefing", "--from", "2026-11-24"], &env));
    assert!(b.contains("日报"), "one day without --to:\n{b}{err}");
    assert_has!(
        b,
        "新立案事件 2 起（另有并入其他事件 1 起、判定为误报 1 起，不计入）"
    );
    let top = &b[b.find("四、主要事件").unwrap_or_else(|| panic!("{b}"))..];
    let top = &top[..top.find("\n五、").unwrap_or(top.len())];
    assert!(top.contains("#1") && top.contains("#2"), "{top}");
    assert!(!top.contains("#3") && !top.contains("#4"), "{top}");
    assert!(
        !b.contains("采集失败的信息源 1 个"),
        "failing since the 25th:\n{b}"
    );
    assert!(!b.contains("连续"), "failing since the 25th:\n{b}");
    let (b, _) = text(&yq_env(&sc, &["briefing", "--from", "2026-11-25"], &env));
    assert_has!(b, "采集失败的信息源 1 个");
}

/// Issue 28: one cable-car item matched a new 冰雪旅游安全 topic and the starter scenic
/// topic and opened two incidents with two statutory clocks, and nothing linked them. Now
/// each names the other (record, mail subject and body, `incident show`); `[grouping]
/// same_item = "merge"` keeps one incident at the higher severity; and `check` warns of
/// topics whose examples match each other.
#[tokio::test]
async fn one_item_under_two_topics_links_its_incidents_or_keeps_one() {
    let watchlist = "[[topic]]\nid = \"snow\"\nname = \"冰雪旅游安全\"\nseverity = \"large\"\n\
                     any = [\"索道\"]\n\n[[topic.example]]\ntext = \"滑雪场索道停运\"\nexpect = true\n\n\
                     [[topic]]\nid = \"scenic\"\nname = \"景区安全\"\nseverity = \"major\"\n\
                     any = [\"坍塌\", \"索道\"]\nall = [\"景区\"]\n\n\
                     [[topic.example]]\ntext = \"某景区索道坍塌\"\nexpect = true\n";
    let item = ("某景区索道坍塌 游客被困", "https://n.example.cn/1", "1", "");
    let sc = common::scenario(watchlist, &[item], "", &None).await;
    sc.daemon.poll_once(None).await.unwrap();
    let all = sc.daemon.store.incidents(true).await.unwrap();
    assert_eq!(all.len(), 2, "{all:?}");
    let outbox = sc.daemon.store.outbox().await.unwrap();
    let second = outbox
        .iter()
        .find(|m| m.kind == "opened" && m.incident_id == Some(2))
        .unwrap();
    assert_has!(second.subject, "（同一信息亦立案 #1）");
    assert!(
        second
            .body_text
            .contains("同一信息亦立案 #1（专题「冰雪旅游安全」")
            && second.body_text.contains("yuqing incident merge 1 2"),
        "{}",
        second.body_text
    );
    let (one, _) = text(&yq(&sc, &["incident", "show", "1"]));
    assert_has!(
        one,
        "关联（同一信息 #1 亦立案 #2（景区安全），两事件各自计时）"
    );
    let (two, _) = text(&yq(&sc, &["incident", "show", "2"]));
    assert_has!(two, "亦立案 #1（冰雪旅游安全）");
    let (checked, err) = text(&yq(&sc, &["check"]));
    assert!(
        checked.contains("专题 `scenic` 的示例也命中专题 `snow`"),
        "{checked}{err}"
    );
    // Merged by hand: the item was in #1 already, so nothing moves, and it says so.
    let o = yq(&sc, &["incident", "merge", "1", "2", "--by", "王值班"]);
    let (said, err) = text(&o);
    assert!(o.status.success(), "{said}{err}");
    assert_has!(said, "（移入 0 条信息；另 1 条已在 #1 中）");

    // Declared one event: one incident, at the higher severity, with its 5-hour clock.
    let merge = "\n[grouping]\nsame_item = \"merge\"\n";
    let sc = common::scenario(watchlist, &[item], merge, &None).await;
    sc.daemon.poll_once(None).await.unwrap();
    let all = sc.daemon.store.incidents(true).await.unwrap();
    assert_eq!(all.len(), 1, "{all:?}");
    assert_eq!(all[0].severity, yuqing::vocab::severity::Severity::Major);
    let deadlines = sc
        .daemon
        .store
        .deadlines_of(sc.daemon.store.pool(), all[0].id)
        .await
        .unwrap();
    assert!(
        deadlines.iter().any(|d| d.kind == "release"),
        "{deadlines:?}"
    );
    let (checked, _) = text(&yq(&sc, &["check"]));
    assert!(!checked.contains("的示例也命中"), "{checked}");
}

backend_test!(an_incident_is_named_by_its_title_which_the_duty_officer_can_set);
async fn an_incident_is_named_by_its_title_which_the_duty_officer_can_set(backend: Option<String>) {
    // A headline longer than a title: the default is cut on a character, with `…`.
    let long = format!("某景区发生坍塌 游客被困{}", "现场救援仍在进行".repeat(20));
    let sc = common::scenario(
        SCENIC_ORDINARY,
        &[
            (long.as_str(), "https://n.example.cn/1", "1", ""),
            (
                "山顶索道突发故障停运 滞留游客已转移",
                "https://n.example.cn/2",
                "2",
                "",
            ),
        ],
        "",
        &backend,
    )
    .await;
    let d = &sc.daemon;
    d.poll_once(None).await.unwrap();
    let title_of = |id: i64| async move { common::incident(&d.store, id).await.title };
    let first = title_of(1).await;
    assert_eq!(first.chars().count(), 100, "{first}");
    assert!(
        first.starts_with("某景区发生坍塌 游客被困现场救援") && first.ends_with('…'),
        "{first}"
    );
    assert_eq!(title_of(2).await, "山顶索道突发故障停运 滞留游客已转移");

    // Lists name each incident by its title, the topic beside it; JSON has "title".
    let (list, _) = text(&yq(&sc, &["incidents"]));
    assert!(
        list.lines().any(
            |l| l.starts_with("#2 山顶索道突发故障停运 滞留游客已转移 【")
                && l.contains("景区安全")
        ),
        "{list}"
    );
    let (json, _) = text(&yq(&sc, &["incidents", "--json"]));
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let titles: Vec<&str> = v["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["title"].as_str().unwrap())
        .collect();
    assert_eq!(
        titles,
        ["山顶索道突发故障停运 滞留游客已转移", first.as_str()]
    );

    // The duty officer names it; the record says who did.
    let o = yq(&sc, &["incident", "title", "2", "  索道停运\n游客已转移  "]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}{err}");
    assert_has!(out, "事件 #2 标题改为：索道停运 游客已转移");
    let (shown, _) = text(&yq(&sc, &["incident", "show", "2"]));
    assert!(
        shown.starts_with("#2 索道停运 游客已转移\n专题 景区安全"),
        "{shown}"
    );
    assert_has!(shown, "tester 修改标题（索道停运 游客已转移）");
    let (json, _) = text(&yq(&sc, &["incident", "show", "2", "--json"]));
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["title"], "索道停运 游客已转移");
    assert!(
        v["actions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["action"] == "title" && a["by"] == "tester"),
        "{v:#}"
    );

    // Too long, or empty: refused with what the limit is, nothing changes.
    for (args, says) in [
        (
            vec!["incident", "title", "2", &*"题".repeat(101)],
            "标题过长：101 个字，最多 100 个字",
        ),
        (vec!["incident", "title", "2", " \n "], "标题不能为空"),
        (
            vec!["incident", "note", "2", &*"注".repeat(10_001)],
            "备注过长：10001 个字，最多 10000 个字",
        ),
    ] {
        let o = yq(&sc, &args);
        let (out, err) = text(&o);
        assert_eq!(o.status.code(), Some(2), "{out}{err}");
        assert_has!(err, says);
    }
    assert_eq!(title_of(2).await, "索道停运 游客已转移");
    let o = yq(&sc, &["incident", "note", "2", &"注".repeat(10_000)]);
    assert!(o.status.success(), "{:?}", text(&o));

    // A merged incident keeps INTO's title; a split one takes its first item's.
    let o = yq(&sc, &["incident", "merge", "1", "2"]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}{err}");
    assert_has!(out, &format!("标题仍为「{first}」"));
    assert_eq!(title_of(1).await, first);
    let cable = d
        .store
        .incident_items(d.store.pool(), IncidentId(1))
        .await
        .unwrap()[1]
        .id;
    let o = yq(&sc, &["incident", "split", "1", &cable.to_string()]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}{err}");
    assert_has!(
        out,
        "已拆分为新事件 #3「山顶索道突发故障停运 滞留游客已转移」"
    );
    assert_eq!(title_of(3).await, "山顶索道突发故障停运 滞留游客已转移");
    assert_eq!(title_of(1).await, first);

    // A database from before titles: migration 0021 names each incident by its first item.
    sqlx::query("ALTER TABLE incidents DROP COLUMN title")
        .execute(d.store.pool())
        .await
        .unwrap();
    sqlx::query("DELETE FROM _sqlx_migrations WHERE version = 21")
        .execute(d.store.pool())
        .await
        .unwrap();
    let (json, err) = text(&yq(&sc, &["incidents", "--all", "--json"]));
    let v: serde_json::Value = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}: {err}"));
    let mut titles: Vec<(i64, String)> = v["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["id"].as_i64().unwrap(),
                i["title"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    // Listed by urgency; compared newest first.
    titles.sort_by_key(|(id, _)| -id);
    assert_eq!(
        titles,
        [
            (3, "山顶索道突发故障停运 滞留游客已转移".to_string()),
            (2, "山顶索道突发故障停运 滞留游客已转移".to_string()),
            (1, first.clone()),
        ],
        "the officer's title was not stored before 0021; each takes its first item's"
    );
}

/// Issue 24 §4: how late we heard it. A report published 2小时13分 before yuqing first saw
/// it: the opening mail (and the instant message made from its lead) says how much of the
/// 5-hour clock had gone, and `yuqing sources` gives the source's lag, in text and JSON.
#[tokio::test]
async fn the_opening_mail_and_sources_say_how_late_the_report_was_heard() {
    let published = chrono::DateTime::parse_from_rfc3339("2026-11-23T22:47:00Z")
        .unwrap()
        .to_rfc2822();
    let sc = common::scenario(
        common::SCENIC_MAJOR,
        &[(
            "某景区发生坍塌 游客被困",
            "https://n.example.cn/1",
            "1",
            &published,
        )],
        "",
        &None,
    )
    .await;
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
