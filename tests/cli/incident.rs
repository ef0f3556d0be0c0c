//! `yuqing incident` and `yuqing incidents`, reading and regrouping: what a closed
//! incident's missed deadline says weeks later, item ids to split by, why a merged
//! incident's deadlines were cancelled, exit code 2 for a user's mistake, the most urgent
//! incident listed first, one item under two topics, and the title the duty officer sets.

use super::{
    act_on_first, collapse, collapse_polled, deadline_of_first, text, yq, yq_env, CABLE_CAR,
    REPORT_OF_THE_DAY, SCENIC_ORDINARY,
};
use crate::common;

use std::process::Command;
use yuqing::incident::Step;

backend_test!(a_closed_incident_is_overdue_by_the_time_to_its_close_not_to_today);
async fn a_closed_incident_is_overdue_by_the_time_to_its_close_not_to_today(
    backend: Option<String>,
) {
    let sc = collapse_polled(common::SCENIC_MAJOR, &backend).await;
    let release = deadline_of_first(&sc, "release").await;
    let press = deadline_of_first(&sc, "press_conference").await;
    // Closed 55 s after the release deadline passed unmet, and long before the press one.
    let closed_at = yuqing::vocab::clock::from_secs(release.due_at + 55);
    act_on_first(&sc, &Step::Close, "duty", closed_at).await;
    assert!(
        press.due_at - (release.due_at + 55) > 18 * 3600,
        "{release:?} {press:?}"
    );

    // The report for the assessment (考核), run any time later, says the same.
    let o = yq(&sc, &[&REPORT_OF_THE_DAY[..], &["--csv"]].concat());
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
    let o = yq(&sc, &REPORT_OF_THE_DAY);
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
    let sc = common::scenario(SCENIC_ORDINARY, &[collapse(""), CABLE_CAR], "", &backend).await;
    let d = &sc.daemon;
    d.poll_once(None).await.unwrap();
    let two = common::items_of(&d.store, 2).await;
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
    let sc = collapse_polled(&watchlist, &None).await;
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
            collapse(""),
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
            CABLE_CAR,
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
    let cable = common::items_of(&d.store, 1).await[1].id;
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
