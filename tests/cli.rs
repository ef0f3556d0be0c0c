//! The duty officer's and operator's commands through the real binary, as a user sees
//! them: what a closed incident's missed deadline says weeks later, item ids to split by,
//! why a merged incident's deadlines were cancelled, exit code 2 for a user's mistake, a
//! record that always names a person, and output that a spreadsheet or a script can read.

mod common;

use std::path::Path;
use std::process::{Command, Output};
use yuqing::incident::{self, Step};
use yuqing::vocab::ids::IncidentId;

const SCENIC_ORDINARY: &str = "[[topic]]\nid = \"scenic\"\nname = \"景区安全\"\n\
                               severity = \"ordinary\"\nany = [\"坍塌\", \"故障\"]\n";

/// `yuqing ARGS --config CONFIG` acting as `tester`, with `env` on top.
fn yq_env(config: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_yuqing"));
    c.args(args)
        .arg("--config")
        .arg(config)
        .env_remove("YUQING_USER")
        .env("USER", "tester")
        .env("NO_COLOR", "1");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("run yuqing")
}

fn yq(config: &Path, args: &[&str]) -> Output {
    yq_env(config, args, &[])
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[tokio::test]
async fn a_closed_incident_is_overdue_by_the_time_to_its_close_not_to_today() {
    for backend in common::db::backends().await {
        closed_overdue_on(backend).await;
    }
}

async fn closed_overdue_on(backend: Option<String>) {
    let sc = common::scenario(
        common::SCENIC_MAJOR,
        &[("某景区发生坍塌 游客被困", "https://n.example.cn/1", "1", "")],
        "",
        &backend,
    )
    .await;
    let d = &sc.daemon;
    d.poll_once(None).await.unwrap();
    let deadlines = d.store.deadlines_of(d.store.pool(), 1).await.unwrap();
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
        &sc.config,
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
        &sc.config,
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
    assert!(
        report.contains("\t未完成（结案时已超时 55秒）\t已结案"),
        "{report}"
    );

    // `incident show` and `incidents --all` count to the close too.
    let (shown, err) = text(&yq(&sc.config, &["incident", "show", "1"]));
    assert!(
        shown.contains("发布权威信息：2026-11-24 14:00 前，未完成（结案时已超时 55秒）")
            && shown
                .contains("召开新闻发布会：2026-11-25 09:00 前，未完成（结案时剩余 18小时59分）"),
        "{shown}{err}"
    );
    let (all, _) = text(&yq(&sc.config, &["incidents", "--all"]));
    assert!(
        all.contains("发布权威信息：2026-11-24 14:00 前，未完成（结案时已超时 55秒）"),
        "{all}"
    );
    let (json, _) = text(&yq(&sc.config, &["incident", "show", "1", "--json"]));
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

#[tokio::test]
async fn item_ids_merge_reasons_and_exit_codes() {
    for backend in common::db::backends().await {
        ids_and_codes_on(backend).await;
    }
}

async fn ids_and_codes_on(backend: Option<String>) {
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
    let two = d.store.incident_items(d.store.pool(), 2).await.unwrap();
    let cable = two[0].id;

    // Item ids in text, as `incident split ID ITEM…` needs them.
    let (shown, _) = text(&yq(&sc.config, &["incident", "show", "2"]));
    assert!(
        shown.contains(&format!("  #{cable} ")) && shown.contains("索道"),
        "{shown}"
    );
    let (items, _) = text(&yq(&sc.config, &["items", "--since", "2026-11-01"]));
    let line = items.lines().find(|l| l.contains("索道")).unwrap_or("");
    assert!(line.starts_with(&format!("{cable}\t")), "{items}");
    // A header row naming the zone, and topics by name, not as JSON.
    assert!(
        items.starts_with("编号\t抓取时间（Asia/Shanghai, UTC+08:00）\t来源\t"),
        "{items}"
    );
    assert!(line.ends_with("\t景区安全\t负面 -0.87"), "{items}");

    // A merged incident's deadlines say why they were cancelled.
    let o = yq(&sc.config, &["incident", "merge", "1", "2"]);
    assert!(o.status.success(), "{:?}", text(&o));
    let (shown, _) = text(&yq(&sc.config, &["incident", "show", "2"]));
    assert!(
        shown.contains("，因并入 #1 取消") && !shown.contains("级别调整"),
        "{shown}"
    );
    let (all, _) = text(&yq(&sc.config, &["incidents", "--all"]));
    assert!(all.contains("，因并入 #1 取消"), "{all}");

    // A user's mistake exits 2, with what to do; nothing changes.
    let refused = |args: &[&str], says: &[&str]| {
        let o = yq(&sc.config, args);
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
    assert_eq!(
        d.store
            .incident(d.store.pool(), 2)
            .await
            .unwrap()
            .unwrap()
            .status,
        "merged"
    );
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
    let actions = d.store.actions_of(1).await.unwrap();
    assert!(
        actions
            .iter()
            .all(|a| a.action != "acknowledged" && a.action != "note"),
        "nothing recorded: {actions:#?}"
    );
    assert!(actions.iter().all(|a| a.actor != "unknown"), "{actions:#?}");

    let o = yq_env(
        &sc.config,
        &["incident", "ack", "1"],
        &[("YUQING_USER", "李值班")],
    );
    assert!(o.status.success(), "{:?}", text(&o));
    let actions = d.store.actions_of(1).await.unwrap();
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
            &sc.config,
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
    let actions = d.store.actions_of(1).await.unwrap();
    assert!(
        actions.iter().all(|a| a.actor != "李值班"),
        "nothing recorded: {actions:#?}"
    );
    let o = yq_env(
        &sc.config,
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
        &sc.config,
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
    let (sources, _) = text(&yq(&sc.config, &["sources"]));
    assert!(
        sources.starts_with(
            "来源\t状态\t上次成功（Asia/Shanghai, UTC+08:00）\t连续失败\t下次抓取\t错误\nnews\t正常\t2026-11-24 09:00\t0 次\t"
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

#[tokio::test]
async fn a_late_release_reads_late_everywhere_and_recording_it_acknowledges() {
    for backend in common::db::backends().await {
        late_release_on(backend).await;
    }
}

async fn late_release_on(backend: Option<String>) {
    let sc = common::scenario(
        common::SCENIC_MAJOR,
        &[("某景区发生坍塌 游客被困", "https://n.example.cn/1", "1", "")],
        "",
        &backend,
    )
    .await;
    let d = &sc.daemon;
    d.poll_once(None).await.unwrap();
    let deadlines = d.store.deadlines_of(d.store.pool(), 1).await.unwrap();
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

    let i = d.store.incident(d.store.pool(), 1).await.unwrap().unwrap();
    assert_eq!(
        i.acknowledged_by.as_deref(),
        Some("王值班"),
        "acting acknowledges"
    );
    let actions = d.store.actions_of(1).await.unwrap();
    assert!(
        actions
            .iter()
            .any(|a| a.action == "acknowledged" && a.actor == "王值班"),
        "{actions:?}"
    );

    let (shown, err) = text(&yq(&sc.config, &["incident", "show", "1"]));
    assert!(
        shown.contains(
            "发布权威信息：2026-11-24 14:00 前，超时完成（超时 1分1秒），2026-11-24 14:01:01 王值班 记录"
        ),
        "{shown}{err}"
    );
    let (json, _) = text(&yq(&sc.config, &["incident", "show", "1", "--json"]));
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
    // `--from` alone reports up to now.
    let (report, err) = text(&yq(
        &sc.config,
        &["report", "incidents", "--from", "2026-11-01"],
    ));
    assert!(report.contains("超时完成（超时 1分1秒）"), "{report}{err}");
    let header: Vec<&str> = report.lines().next().unwrap().split('\t').collect();
    assert_eq!(header[4], "确认用时", "{report}");
    let row: Vec<&str> = report
        .lines()
        .find(|l| l.starts_with("#1\t") && l.contains("发布权威信息"))
        .unwrap()
        .split('\t')
        .collect();
    assert_ne!(row[4], "未确认", "acknowledged by acting: {row:?}");
    // The report runs on today's clock, days after this story: the press conference is
    // overdue too, and neither counts as on time.
    assert!(
        report.contains("按时完成率：发布权威信息 0/1（0%）；召开新闻发布会 0/1（0%）\n"),
        "{report}"
    );
}

#[tokio::test]
async fn a_false_positive_is_dismissed_counted_apart_and_never_alerts_again() {
    for backend in common::db::backends().await {
        dismissed_on(backend).await;
    }
}

async fn dismissed_on(backend: Option<String>) {
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
    let o = yq(&sc.config, &["incident", "dismiss", "1", "--reason", " "]);
    assert_eq!(o.status.code(), Some(2), "{:?}", text(&o));
    let o = yq(&sc.config, &["incident", "dismiss", "1"]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "clap wants --reason: {:?}",
        text(&o)
    );
    let o = yq(
        &sc.config,
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
    assert!(
        said.contains("none = [\"景区美术馆新展\", \"坍塌之美\"]"),
        "{said}"
    );
    let o = yq(
        &sc.config,
        &["incident", "dismiss", "1", "--reason", "again"],
    );
    assert_eq!(o.status.code(), Some(2), "{:?}", text(&o));
    assert!(
        text(&o).1.contains("事件 #1 已判定为误报并撤销"),
        "{:?}",
        text(&o)
    );

    let (shown, _) = text(&yq(&sc.config, &["incident", "show", "1"]));
    assert!(shown.contains("状态：误报"), "{shown}");
    assert!(shown.contains("误报撤销（不计入考核）"), "{shown}");
    let (json, _) = text(&yq(&sc.config, &["incident", "show", "1", "--json"]));
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
        &sc.config,
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
    let items = d.store.incident_items(d.store.pool(), 1).await.unwrap();
    assert_eq!(items.len(), 2, "kept with the dismissed incident");
    let (open, _) = text(&yq(&sc.config, &["incidents"]));
    assert!(open.contains("没有处置中的事件"), "{open}");
}

// Multi-threaded: the feed is served on this runtime while the test waits for the binary.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_one_off_poll_says_which_incidents_opened_already_overdue() {
    let two_days_ago = (chrono::Utc::now() - chrono::Duration::days(2)).to_rfc2822();
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
    let o = yq(&sc.config, &["poll"]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}{err}");
    assert!(
        out.contains("事件 #1 立案时已超时：发布权威信息应于 ")
            && out.contains("（计时起点是首条信息的发布时间 ")
            && out.contains("已超时 1天19小时；超时通报随立案通知一并发出"),
        "{out}"
    );
    assert!(out.contains("召开新闻发布会应于 "), "{out}");
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
        let o = yq_env(&sc.config, args, &[("YUQING_USER", "王值班")]);
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
