//! The incident page and its actions, as the duty officer, a leader and an operator use
//! them: acknowledging and recording the release, pressing, severity, merge, split, close
//! and dismissal through the workflow, each role's limits, the title, the mail sent and to
//! whom, and a page that stays whole however many items and notes it holds.

use crate::common;
use crate::common::console::{
    first_items, logged_in, site, site_with, DUTY, FIRST, LEADER, OPERATOR,
};
use yuqing::vocab::ids::IncidentId;

use chrono::{Duration, TimeZone, Utc};
use std::process::Command;

/// A second event beside the first report, reported half an hour before it: incident #2.
const LANDSLIDE: common::RssItem = (
    "另一处山体塌方导致景区道路坍塌中断",
    "https://bbs.example.cn/t/2",
    "t2",
    "Tue, 24 Nov 2026 08:30:00 +0800",
);

backend_test!(the_duty_officer_acknowledges_and_records_the_release_and_the_cli_names_them);
async fn the_duty_officer_acknowledges_and_records_the_release_and_the_cli_names_them(
    backend: Option<String>,
) {
    let site = site(&backend).await;
    let b = logged_in(&site, DUTY).await;
    site.s.clock.advance(Duration::minutes(12));
    b.get("/incidents/1").await;
    let p = b.post("/incidents/1/ack", &[]).await;
    assert_eq!(p.status, 303);
    assert_eq!(p.location(), "/incidents/1");
    let page = b.get("/incidents/1").await;
    assert!(
        page.body.contains("事件 #1 已由 张三 确认接报"),
        "the flash"
    );
    assert_has!(page.body, "张三（2026-11-24 09:12）");
    site.s.clock.advance(Duration::minutes(30));
    let p = b
        .post(
            "/incidents/1/release",
            &[("url", "https://www.example.gov.cn/notice/1")],
        )
        .await;
    assert_eq!(p.status, 303);
    let page = b.get("/incidents/1").await;
    assert_has!(page.body, "按时完成");
    // The timeline: who and when, for the acknowledgement and the release.
    let timeline = &page.body[page.body.find("id=\"timeline\"").unwrap()..];
    assert_has!(timeline, "<time>2026-11-24 09:12</time> <b class=\"who\">张三</b> <span class=\"what\">确认接报</span>");
    assert!(
        timeline.contains("<b class=\"who\">张三</b> <span class=\"what\">记录发布权威信息</span>")
    );
    assert!(timeline.contains("https://www.example.gov.cn/notice/1"));
    assert!(
        timeline.contains("class=\"mail\""),
        "the opening mail is on the timeline"
    );

    let store = &site.s.daemon.store;
    let list = store.actions_of(IncidentId(1)).await.unwrap();
    assert_eq!(common::actors(&list, "acknowledged"), [DUTY]);
    assert_eq!(common::actors(&list, "release"), [DUTY]);
    // The command line shows the same record.
    let text = common::process::stdout_of(
        Command::new(env!("CARGO_BIN_EXE_yuqing"))
            .args(["incident", "show", "1", "--config"])
            .arg(&site.s.config),
    );
    assert_has!(text, "张三 确认接报");
    assert_has!(
        text,
        "张三 记录发布权威信息（https://www.example.gov.cn/notice/1）"
    );
}

#[tokio::test]
async fn a_leader_sees_and_notes_but_changes_nothing_and_an_operator_only_reads_incidents() {
    let site = site(&None).await;
    let leader = logged_in(&site, LEADER).await;
    let page = leader.get("/incidents/1").await;
    assert_eq!(page.status, 200);
    // How it spread (issue 24 §3), under the heading.
    assert_has!(
        page.body,
        "<div>传播：首发 【news】 2026-11-24 09:00；来源 1 个，转载 0 条</div>"
    );
    assert!(
        !page.body.contains("id=\"do-ack\""),
        "no act buttons for a leader"
    );
    assert!(page.body.contains("id=\"do-note\""));
    for (action, fields) in [
        ("ack", vec![]),
        ("release", vec![("url", "https://www.example.gov.cn/n/1")]),
        ("press", vec![]),
        ("severity", vec![("level", "ordinary")]),
        ("close", vec![]),
        ("merge", vec![("from", "2")]),
        ("split", vec![("item", "1")]),
        ("dismiss", vec![("reason", "误报")]),
    ] {
        let p = leader
            .post(&format!("/incidents/1/{action}"), &fields)
            .await;
        assert_eq!(p.status, 403, "a leader's {action}");
    }
    let p = leader
        .post("/incidents/1/note", &[("text", "请尽快发布通报")])
        .await;
    assert_eq!(p.status, 303);

    let operator = logged_in(&site, OPERATOR).await;
    assert_eq!(operator.get("/incidents/1").await.status, 200);
    operator.get("/classify").await;
    let p = operator
        .post("/incidents/1/note", &[("text", "运维备注")])
        .await;
    assert_eq!(p.status, 403);
    let p = operator.post("/incidents/1/ack", &[]).await;
    assert_eq!(p.status, 403);

    let store = &site.s.daemon.store;
    let list = store.actions_of(IncidentId(1)).await.unwrap();
    assert_eq!(common::actors(&list, "note"), [LEADER]);
    let i = common::incident(store, 1).await;
    assert_eq!((i.status.as_str(), i.severity.as_str()), ("open", "major"));
    assert!(i.acknowledged_by.is_none());
}

#[tokio::test]
async fn press_severity_merge_split_and_close_go_through_the_workflow() {
    let items = [first_items()[0], LANDSLIDE];
    let site = site_with(&None, "", &items).await;
    let store = &site.s.daemon.store;
    assert_eq!(
        store.incidents(false).await.unwrap().len(),
        2,
        "two events, two incidents"
    );
    let b = logged_in(&site, DUTY).await;
    b.get("/incidents/1").await;

    let p = b
        .post("/incidents/1/press", &[("note", "市政府新闻办 10:00")])
        .await;
    assert_eq!(p.status, 303);
    let p = b
        .post("/incidents/1/severity", &[("level", "especially_major")])
        .await;
    assert_eq!(p.status, 303);
    // A refused step is shown on the page, not a failure.
    let p = b.post("/incidents/1/merge", &[("from", "1")]).await;
    assert_eq!(p.status, 303);
    assert!(b
        .get("/incidents/1")
        .await
        .body
        .contains("未执行：不能把事件 #1 并入它自己"));
    let p = b.post("/incidents/1/merge", &[("from", "#2")]).await;
    assert_eq!(p.status, 303);
    let two = common::incident(store, 2).await;
    assert_eq!(
        (two.status.as_str(), two.merged_into),
        ("merged", Some(IncidentId(1)))
    );
    let one = common::incident(store, 1).await;
    assert_eq!(one.severity, "especially_major");
    assert_eq!(
        one.clock_start,
        Utc.with_ymd_and_hms(2026, 11, 24, 0, 30, 0)
            .unwrap()
            .timestamp(),
        "the earlier clock start"
    );

    // Split item 2 back out: the new incident's page is where the officer lands.
    let p = b.post("/incidents/1/split", &[("item", "2")]).await;
    assert_eq!(p.status, 303);
    assert_eq!(p.location(), "/incidents/3");
    let three = b.get("/incidents/3").await;
    assert_has!(three.body, "拆分自");
    let p = b.post("/incidents/3/close", &[]).await;
    assert_eq!(p.status, 303);
    let three = common::incident(store, 3).await;
    assert_eq!(three.status, "closed");
    assert_eq!(three.closed_by.as_deref(), Some(DUTY));
    let page = b.get("/incidents/3").await;
    assert!(page.body.contains("不能再处置"));
    assert!(!page.body.contains("id=\"do-ack\""));
    let list = store.actions_of(IncidentId(1)).await.unwrap();
    for action in ["press_conference", "severity", "merged", "split"] {
        assert!(
            common::actors(&list, action).contains(&DUTY.to_string()),
            "{action}: {list:?}"
        );
    }
    // Closed: an action is refused with the workflow's reason.
    let p = b.post("/incidents/3/ack", &[]).await;
    assert_eq!(p.status, 303);
    assert!(b
        .get("/incidents/3")
        .await
        .body
        .contains("未执行：事件 #3 已结案"));
    // A bad URL and an unknown action.
    b.get("/incidents/1").await;
    b.post("/incidents/1/release", &[("url", "not a url")])
        .await;
    assert!(b.get("/incidents/1").await.body.contains("不是网址"));
    // Any scheme but http and https is refused (issue 26 §2.7): it would be a link.
    for hostile in [
        "javascript:alert(1)",
        "data:text/html,x",
        "ftp://gov.example.cn/n",
    ] {
        b.get("/incidents/1").await;
        b.post("/incidents/1/release", &[("url", hostile)]).await;
        let page = b.get("/incidents/1").await.body;
        assert!(
            page.contains("只接受 http:// 或 https:// 开头的链接"),
            "{hostile}: {page}"
        );
    }
    let store = &site.s.daemon.store;
    let recorded = store.actions_of(IncidentId(1)).await.unwrap();
    assert!(
        recorded.iter().all(|a| {
            let d = a.detail.as_deref().unwrap_or("");
            !d.contains("javascript:") && !d.contains("data:") && !d.contains("ftp:")
        }),
        "{recorded:#?}"
    );
    assert_eq!(b.post("/incidents/1/explode", &[]).await.status, 404);
    assert_eq!(b.get("/incidents/99").await.status, 404);
}

/// The incident page lists the mail sent about it, to whom; a row whose recipients cannot
/// be read says so instead of showing mail to nobody.
#[tokio::test]
async fn the_incident_page_names_whom_mail_went_to_and_never_shows_nobody() {
    let site = site_with(
        &None,
        "[people]\nduty = [\"值班室 <duty@x.cn>\"]\n",
        &first_items(),
    )
    .await;
    let b = logged_in(&site, DUTY).await;
    let page = b.get("/incidents/1").await;
    assert_has!(page.body, "》 致 值班室 &#60;duty@x.cn&#62;（已发送");
    sqlx::query("UPDATE outbox SET recipients = 'duty@x.cn' WHERE incident_id = 1")
        .execute(site.s.daemon.store.pool())
        .await
        .unwrap();
    let page = b.get("/incidents/1").await;
    assert_eq!(page.status, 200);
    assert_has!(page.body, "收件人记录无法读取（邮件 1，详见日志）");
    assert!(!page.body.contains("》 致 （"), "{}", page.body);
}

#[tokio::test]
async fn the_duty_officer_dismisses_a_false_positive_with_a_reason() {
    let site = site(&None).await;
    let b = logged_in(&site, DUTY).await;
    let page = b.get("/incidents/1").await;
    assert_has!(page.body, "id=\"do-dismiss\"");
    // No reason: refused with the workflow's words, nothing changes.
    let p = b.post("/incidents/1/dismiss", &[("reason", " ")]).await;
    assert_eq!(p.status, 303);
    assert!(b
        .get("/incidents/1")
        .await
        .body
        .contains("请说明为何判定为误报"));
    let store = &site.s.daemon.store;
    assert_eq!(common::incident(store, 1).await.status, "open");
    let p = b
        .post(
            "/incidents/1/dismiss",
            &[("reason", "艺术展览名称，非安全事件")],
        )
        .await;
    assert_eq!(p.status, 303);
    let one = common::incident(store, 1).await;
    assert_eq!(one.status, "dismissed");
    assert_eq!(one.closed_by.as_deref(), Some(DUTY));
    let list = store.actions_of(IncidentId(1)).await.unwrap();
    assert!(
        common::actors(&list, "dismissed").contains(&DUTY.to_string()),
        "{list:?}"
    );
    let page = b.get("/incidents/1").await.body;
    assert!(
        page.contains("判定误报并撤销") && page.contains("艺术展览名称，非安全事件"),
        "the timeline says what was done and why"
    );
}

backend_test!(every_incident_is_named_by_its_title_which_the_duty_officer_can_set);
async fn every_incident_is_named_by_its_title_which_the_duty_officer_can_set(
    backend: Option<String>,
) {
    let items = [first_items()[0], LANDSLIDE];
    let site = site_with(&backend, "", &items).await;
    let store = &site.s.daemon.store;
    let b = logged_in(&site, DUTY).await;

    // The dashboard's cards: the title is the main line, the topic a tag beside it.
    let dash = b.get("/").await;
    assert!(
        dash.body.contains(&format!(
            "href=\"/incidents/1\" title=\"{FIRST}\">#1 {FIRST}</a>"
        )) && dash
            .body
            .contains("<span class=\"tag topic\">景区安全</span>"),
        "{}",
        dash.body
    );
    // The incident page's heading, the rename field, and the merge form naming the other
    // incident by its title.
    let page = b.get("/incidents/1").await;
    assert_has!(page.body, &format!("<span class=\"incident-title\" id=\"incident-title\">#1 {FIRST}</span> <span class=\"tag topic\">景区安全</span>"));
    assert_has!(page.body, &format!("<title>#1 {FIRST}"));
    assert_has!(
        page.body,
        &format!("name=\"title\" id=\"title-text\" value=\"{FIRST}\" maxlength=\"100\"")
    );
    assert_has!(
        page.body,
        "<option value=\"2\">#2 另一处山体塌方导致景区道路坍塌中断（景区安全）</option>"
    );

    // The duty officer renames it; the record says who; the live marker moves, so open
    // dashboards fetch the card again.
    let before = store.change_marker().await.unwrap();
    let p = b
        .post("/incidents/1/title", &[("title", "栈道坍塌 12 名游客受伤")])
        .await;
    assert_eq!((p.status, p.location()), (303, "/incidents/1"));
    assert_ne!(store.change_marker().await.unwrap(), before);
    let page = b.get("/incidents/1").await;
    assert_has!(page.body, "事件 #1 标题改为：栈道坍塌 12 名游客受伤");
    assert!(page.body.contains("#1 栈道坍塌 12 名游客受伤</span>"));
    assert!(page.body.contains("<span class=\"what\">修改标题</span>"));
    let list = store.actions_of(IncidentId(1)).await.unwrap();
    assert_eq!(common::actors(&list, "title"), [DUTY]);
    assert!(b
        .get("/")
        .await
        .body
        .contains("#1 栈道坍塌 12 名游客受伤</a>"));

    // Too long, empty, or a note past the limit: said on the page, nothing changes.
    for (path, field, text, says) in [
        (
            "/incidents/1/title",
            "title",
            "题".repeat(101),
            "未执行：标题过长：101 个字，最多 100 个字",
        ),
        (
            "/incidents/1/title",
            "title",
            "   ".to_string(),
            "标题不能为空。",
        ),
        (
            "/incidents/1/note",
            "text",
            "注".repeat(10_001),
            "未执行：备注过长：10001 个字，最多 10000 个字",
        ),
    ] {
        let p = b.post(path, &[(field, text.as_str())]).await;
        assert_eq!(p.status, 303, "{path}");
        let page = b.get("/incidents/1").await;
        assert!(page.body.contains(says), "{path}: {}", page.body);
    }
    assert_eq!(
        common::incident(store, 1).await.title,
        "栈道坍塌 12 名游客受伤"
    );
    assert!(common::actors(&store.actions_of(IncidentId(1)).await.unwrap(), "note").is_empty());

    // A leader reads the title but cannot change it.
    let leader = logged_in(&site, LEADER).await;
    let page = leader.get("/incidents/1").await;
    assert!(page.body.contains("#1 栈道坍塌 12 名游客受伤</span>"));
    assert!(!page.body.contains("id=\"do-title\""));
    assert_eq!(
        leader
            .post("/incidents/1/title", &[("title", "领导改的")])
            .await
            .status,
        403
    );

    // Merged, INTO keeps its title; split, the new one takes its first item's.
    b.get("/incidents/1").await;
    assert_eq!(
        b.post("/incidents/1/merge", &[("from", "2")]).await.status,
        303
    );
    assert_eq!(
        common::incident(store, 1).await.title,
        "栈道坍塌 12 名游客受伤"
    );
    let page = b.get("/incidents/1").await;
    assert_has!(page.body, "标题仍为「栈道坍塌 12 名游客受伤」");
    let p = b.post("/incidents/1/split", &[("item", "2")]).await;
    assert_eq!(p.location(), "/incidents/3");
    let three = b.get("/incidents/3").await;
    assert_has!(three.body, "#3 另一处山体塌方导致景区道路坍塌中断</span>");
}

#[tokio::test]
async fn a_huge_incident_page_shows_its_forms_and_its_items_and_record_a_page_at_a_time() {
    use yuqing::store::Incoming;
    use yuqing::vocab::clock::Clock;
    let site = site(&None).await;
    let store = &site.s.daemon.store;
    // 920 items with 2 KB titles, and six notes of 650,000 characters written before notes
    // had a limit: together over 16 MiB, which once made the page an empty 500.
    let titles: Vec<String> = (0..920)
        .map(|n| format!("某景区栈道坍塌 后续 {n:03} {}", "详".repeat(680)))
        .collect();
    let guids: Vec<String> = (0..920).map(|n| format!("big-{n}")).collect();
    let incoming: Vec<Incoming> = titles
        .iter()
        .zip(&guids)
        .map(|(title, guid)| common::news_item(guid, title, None))
        .collect();
    let now = site.s.clock.now().timestamp();
    let mut tx = store.begin().await.unwrap();
    let stored = store
        .store_items(&mut tx, "news", &incoming, now)
        .await
        .unwrap();
    for s in &stored {
        let yuqing::store::Stored::New(row) = s else {
            panic!("{s:?}")
        };
        store
            .add_incident_item(&mut tx, IncidentId(1), row.id, now)
            .await
            .unwrap();
    }
    for _ in 0..6 {
        store
            .record_action(
                &mut tx,
                yuqing::vocab::ids::IncidentId(1),
                now,
                LEADER,
                yuqing::vocab::action::ActionKind::Note,
                Some(&"注".repeat(650_000)),
            )
            .await
            .unwrap();
    }
    // And 150 short ones: the record has two pages.
    for n in 0..150 {
        let note = format!("备注 {n:03}");
        store
            .record_action(
                &mut tx,
                yuqing::vocab::ids::IncidentId(1),
                now,
                LEADER,
                yuqing::vocab::action::ActionKind::Note,
                Some(&note),
            )
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();

    let b = logged_in(&site, DUTY).await;
    let page = b.get("/incidents/1").await;
    assert_eq!(
        page.status,
        200,
        "{}",
        &page.body[..page.body.len().min(500)]
    );
    assert!(page.body.len() < 2 << 20, "{} bytes", page.body.len());
    for form in [
        "do-title",
        "do-ack",
        "do-release",
        "do-note",
        "do-close",
        "do-dismiss",
    ] {
        assert!(page.body.contains(&format!("id=\"{form}\"")), "{form}");
    }
    assert!(
        page.body.contains("相关信息（921 条）</h2>")
            && page
                .body
                .contains("<nav class=\"pager\"><span>第 1/10 页，共 921 条</span>"),
        "{}",
        &page.body[..2000]
    );
    assert!(page
        .body
        .contains("<a href=\"/incidents/1?items=2#items\">下一页</a>"));
    // The record opens on its latest page.
    assert!(page.body.contains("备注 149") && !page.body.contains("备注 000"));
    assert!(page
        .body
        .contains("<a href=\"/incidents/1?record=1#timeline\">上一页</a>"));
    // The forms come before the lists: however long they are, the actions are at the top.
    assert!(
        page.body.find("id=\"do-close\"").unwrap() < page.body.find("id=\"timeline\"").unwrap()
    );
    // The last page of items, and the first of the record.
    let last = b.get("/incidents/1?items=10&record=1").await;
    assert_eq!(last.status, 200);
    assert!(last.body.len() < 2 << 20, "{} bytes", last.body.len());
    assert!(last.body.contains("<span class=\"what\">立案</span>"));
    assert!(last.body.contains("备注 000") && !last.body.contains("备注 149"));
    // A note stored before the limit is cut on the page, and says where it is whole.
    assert_eq!(
        last.body
            .matches("（共 650000 字，全文见 yuqing incident show 1）")
            .count(),
        6
    );
    assert!(last.body.contains("后续 919"), "the last item");
    assert!(!last.body.contains("后续 000 "), "not the first");
    assert!(last.body.contains("第 10/10 页"));
    // Out of range, or not a number: the nearest page, never an error.
    assert_eq!(b.get("/incidents/1?items=999").await.status, 200);
    assert_eq!(b.get("/incidents/1?items=x&record=-1").await.status, 200);
    // The note form still works on it.
    let p = b.post("/incidents/1/note", &[("text", "已分页查看")]).await;
    assert_eq!(p.status, 303);
    assert!(
        common::actors(&store.actions_of(IncidentId(1)).await.unwrap(), "note")
            .contains(&DUTY.to_string())
    );
}
