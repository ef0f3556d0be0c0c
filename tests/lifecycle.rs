//! An incident's whole life on a manual clock, in milliseconds: grouping by text, a
//! regrade, a missed release escalated by the policy, a press conference in time,
//! monitoring, 回温 while monitored, closing when monitoring ends, reopening by a later
//! resurgence, a restart in the middle; merge and split through the real binary; working-day
//! obligations across the 2026 National Day holiday and into a year without calendar data.

use crate::common;
use yuqing::vocab::ids::IncidentId;

use chrono::{DateTime, Duration, TimeZone, Utc};
use common::{rss, Response};
use std::process::Command;
use yuqing::daemon::scheduler::Daemon;
use yuqing::incident::{self, Step};
use yuqing::store::OutboxRow;
use yuqing::vocab::clock::Clock;
use yuqing::vocab::severity::Severity;

const TOPIC: &str = "[[topic]]\nid = \"scenic\"\nname = \"景区安全\"\nseverity = \"ordinary\"\n\
                     any = [\"坍塌\", \"故障\"]\n";

const PEOPLE: &str = "[people]\nduty = [\"值班员 <duty@example.gov.cn>\"]\n\
                      leaders = [\"分管领导 <leader@example.gov.cn>\"]\n\
                      principal = [\"主要负责人 <head@example.gov.cn>\"]\n\n";

async fn mails(d: &Daemon, kind: &str) -> Vec<OutboxRow> {
    common::mail(&d.store, kind).await
}

async fn status(d: &Daemon, id: i64) -> yuqing::vocab::state::IncidentStatus {
    common::incident(&d.store, id).await.status
}

fn feed(items: &[&str]) -> Response {
    let rows: Vec<(String, String, String)> = items
        .iter()
        .enumerate()
        .map(|(i, t)| {
            (
                t.to_string(),
                format!("https://n.example.cn/{i}"),
                i.to_string(),
            )
        })
        .collect();
    let refs: Vec<(&str, &str, &str, &str)> = rows
        .iter()
        .map(|(t, l, g)| (t.as_str(), l.as_str(), g.as_str(), ""))
        .collect();
    Response::rss(rss(&refs))
}

async fn act(d: &Daemon, id: i64, step: Step, now: DateTime<Utc>) -> String {
    let cfg = d.settings.get().config.clone();
    incident::act(
        &d.store,
        &cfg,
        yuqing::vocab::ids::IncidentId(id),
        &step,
        "duty",
        now,
    )
    .await
    .unwrap_or_else(|e| panic!("{e:#}"))
}

backend_test!(a_full_day_and_a_week_of_one_incident);
async fn a_full_day_and_a_week_of_one_incident(backend: Option<String>) {
    let started = std::time::Instant::now();
    let extra = format!(
        "{PEOPLE}[deadlines]\nmonitoring = \"2d\"\n\n\
         [escalation.major]\nbreach = [\"leaders\", \"新闻办 <press@example.gov.cn>\"]\n\n\
         [escalation.ordinary]\nunacknowledged_after = \"2h\"\n"
    );
    let first = "某景区发生坍塌 游客被困";
    let other = "山顶索道突发故障停运 滞留游客已转移";
    let common::Scenario {
        dirs,
        http,
        clock,
        daemon,
        config,
    } = common::scenario(TOPIC, &[], &extra, &backend).await;
    let mut published = vec![first, other];
    http.set("/news.xml", feed(&published));
    daemon.poll_once(None).await.unwrap();

    // Same topic, different event: two incidents, each with its own opening mail.
    let opened = mails(&daemon, "opened").await;
    assert_eq!(opened.len(), 2, "{opened:#?}");
    assert!(opened[0].subject.contains("#1") && opened[0].subject.contains(first));
    assert!(opened[1].subject.contains("#2") && opened[1].subject.contains("索道"));
    let t0 = clock.now();
    act(&daemon, 1, Step::Acknowledge, t0 + Duration::minutes(10)).await;
    assert_eq!(status(&daemon, 1).await, "acknowledged");

    // 30 minutes in the duty officer raises #1 to 重大: release by 06:00, press by +24h.
    clock.advance(Duration::minutes(30));
    act(&daemon, 1, Step::Severity(Severity::Major), clock.now()).await;
    let regraded = mails(&daemon, "regraded").await;
    assert!(regraded[0].recipients.contains("leader@"), "{regraded:#?}");
    // And names it: reminders and escalations are about 「景区坍塌 游客被困救援」 from now on.
    let said = act(
        &daemon,
        1,
        Step::Title("景区坍塌 游客被困救援".into()),
        clock.now(),
    )
    .await;
    assert_eq!(said, "事件 #1 标题改为：景区坍塌 游客被困救援");

    // Walk to 03:00, then the daemon goes down and a new one starts on the same database.
    for _ in 0..9 {
        clock.advance(Duration::minutes(10));
        daemon.housekeeping().await.unwrap();
    }
    // #2 (一般), never acknowledged, reaches the leaders after the policy's 2 hours.
    let unack = mails(&daemon, "unacknowledged").await;
    assert_eq!(unack.len(), 1, "{unack:#?}");
    assert!(
        unack[0].incident_id == Some(2)
            && unack[0]
                .subject
                .ends_with("立案 2小时 仍无人确认：山顶索道突发故障停运 滞留游客已转移"),
        "{}",
        unack[0].subject
    );
    daemon.store.close().await;
    drop(daemon);
    let d = common::start(&config, &clock).await;

    // The release is missed at 06:00 UTC+0 +5h: the policy mails leaders and 新闻办, not the
    // principal.
    for _ in 0..21 {
        clock.advance(Duration::minutes(10));
        d.housekeeping().await.unwrap();
    }
    let breached = mails(&d, "breached").await;
    assert_eq!(breached.len(), 1, "{breached:#?}");
    assert_eq!(
        breached[0].subject,
        "【舆情·超时】#1 发布权威信息时限已过：景区坍塌 游客被困救援"
    );
    assert_has!(breached[0].body_text, "标题：景区坍塌 游客被困救援");
    assert!(
        breached[0]
            .body_text
            .contains("确认情况：duty 于 2026-11-24 09:10 确认接报"),
        "the leaders see who took it up: {}",
        breached[0].body_text
    );
    let to = &breached[0].recipients;
    assert!(
        to.contains("leader@") && to.contains("press@") && !to.contains("head@"),
        "{to}"
    );
    let reminders = mails(&d, "reminder").await;
    assert!(
        reminders
            .iter()
            .any(|m| m.subject.contains("#1 发布权威信息")
                && m.subject.ends_with("：景区坍塌 游客被困救援")),
        "reminded before the release: {reminders:#?}"
    );

    // Released late at 06:30; the press conference at 10:00, in time.
    let said = act(
        &d,
        1,
        Step::Release {
            url: "https://gov.example.cn/notice/1".into(),
            at: None,
        },
        clock.now(),
    )
    .await;
    assert_has!(said, "已记录发布权威信息");
    assert_eq!(status(&d, 1).await, "released");
    // The leaders and 新闻办, told of the breach, hear that it is handled, and how late.
    let handled = mails(&d, "handled").await;
    assert_eq!(handled.len(), 1, "{handled:#?}");
    assert!(
        handled[0]
            .subject
            .starts_with("【舆情·已处置】#1 已发布权威信息"),
        "{}",
        handled[0].subject
    );
    let to = &handled[0].recipients;
    assert!(to.contains("leader@") && to.contains("press@"), "{to}");
    assert_has!(
        handled[0].body_text,
        "发布权威信息：2026-11-24 14:00 前，超时完成（超时 30分钟），2026-11-24 14:30 记录"
    );
    assert!(mails(&d, "monitoring").await.is_empty());
    clock.set(t0 + Duration::hours(9));
    act(&d, 1, Step::PressConference { note: None }, clock.now()).await;
    assert_eq!(status(&d, 1).await, "monitoring");
    let monitoring = mails(&d, "monitoring").await;
    assert_eq!(monitoring.len(), 1);
    assert!(
        monitoring[0].subject.starts_with("【舆情·监测】#1"),
        "{}",
        monitoring[0].subject
    );
    let body = &monitoring[0].body_text;
    assert!(
        body.contains("发布权威信息：2026-11-24 14:00 前，超时完成")
            && body.contains("召开新闻发布会：2026-11-25 09:00 前，按时完成"),
        "{body}"
    );
    assert!(
        monitoring[0].in_reply_to.as_deref() == Some(opened[0].message_id.as_str()),
        "in the incident's thread"
    );

    // 回温 while monitored: the item joins #1 and duty and leaders (重大) hear of it once.
    clock.advance(Duration::hours(3));
    published.push("某景区发生坍塌 游客被困 最新进展");
    http.set("/news.xml", feed(&published));
    d.poll_once(None).await.unwrap();
    published.push("某景区发生坍塌 游客被困 更多细节");
    http.set("/news.xml", feed(&published));
    d.poll_once(None).await.unwrap();
    let back = mails(&d, "resurgence").await;
    assert_eq!(back.len(), 1, "once per monitoring period: {back:#?}");
    assert!(
        back[0]
            .subject
            .starts_with("【舆情·回温】#1 景区安全（监测期内）"),
        "{}",
        back[0].subject
    );
    assert!(back[0].recipients.contains("leader@") && back[0].recipients.contains("duty@"));
    assert_has!(back[0].body_text, "最新进展");
    assert_eq!(status(&d, 1).await, "monitoring");
    assert_eq!(mails(&d, "opened").await.len(), 2, "no new incident");

    // Two days after the press conference monitoring ends and #1 closes by itself.
    clock.set(t0 + Duration::hours(9) + Duration::days(2) - Duration::minutes(1));
    d.housekeeping().await.unwrap();
    assert_eq!(status(&d, 1).await, "monitoring");
    clock.advance(Duration::minutes(1));
    d.housekeeping().await.unwrap();
    assert_eq!(status(&d, 1).await, "closed");
    let closed = mails(&d, "closed").await;
    assert_eq!(closed.len(), 1);
    assert!(
        closed[0].recipients.contains("leader@") && closed[0].recipients.contains("duty@"),
        "the leaders told of the breach hear it closed: {}",
        closed[0].recipients
    );
    assert_eq!(
        mails(&d, "handled").await.len(),
        2,
        "and that the press conference was held"
    );
    assert_has!(closed[0].body_text, "监测期满");

    // A week later the event comes back: #1 reopens, and the mail carries its record.
    clock.advance(Duration::days(7));
    published.push("某景区发生坍塌 游客被困 一周后再引热议");
    http.set("/news.xml", feed(&published));
    d.poll_once(None).await.unwrap();
    assert_eq!(status(&d, 1).await, "open");
    let back = mails(&d, "resurgence").await;
    assert_eq!(back.len(), 2, "{back:#?}");
    assert!(back[1].subject.contains("#1 景区安全（已重新打开）"));
    let text = &back[1].body_text;
    assert!(
        text.contains("已关闭的舆情事件 #1") && text.contains("已重新打开"),
        "{text}"
    );
    assert!(
        text.contains("duty 确认接报")
            && text.contains("duty 记录召开新闻发布会")
            && text.contains("yuqing 结案（监测期满）"),
        "the record: {text}"
    );
    // Reopened means someone must acknowledge again: the leaders hear of it if nobody does.
    clock.advance(Duration::minutes(31));
    d.housekeeping().await.unwrap();
    assert_eq!(
        mails(&d, "unacknowledged")
            .await
            .iter()
            .filter(|m| m.incident_id == Some(1))
            .count(),
        1
    );

    // Acknowledged again, it owes nothing new and is monitored again.
    act(&d, 1, Step::Acknowledge, clock.now()).await;
    assert_eq!(status(&d, 1).await, "monitoring");
    assert_eq!(mails(&d, "monitoring").await.len(), 2);

    // The record shows every step with who and when; the CLI shows the state.
    let actions: Vec<String> = d
        .store
        .actions_of(IncidentId(1))
        .await
        .unwrap()
        .into_iter()
        .map(|a| format!("{} {}", a.actor, a.action))
        .collect();
    for step in [
        "yuqing opened",
        "duty acknowledged",
        "duty severity",
        "yuqing escalated",
        "duty release",
        "duty press_conference",
        "yuqing monitoring",
        "yuqing resurgence",
        "yuqing closed",
        "yuqing reopened",
    ] {
        assert!(actions.iter().any(|a| a == step), "{step}: {actions:#?}");
    }
    let shown = common::process::stdout_of(
        Command::new(env!("CARGO_BIN_EXE_yuqing"))
            .args(["incident", "show", "1", "--config"])
            .arg(&config),
    );
    assert!(
        shown.contains("状态：监测中") && shown.contains("因回温于"),
        "{shown}"
    );
    // Every message was really delivered (file transport), one .eml each.
    d.housekeeping().await.unwrap();
    let sent = d.store.outbox().await.unwrap();
    assert!(sent.iter().all(|m| m.sent_at.is_some()), "all sent");
    let files = std::fs::read_dir(dirs.mail())
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "eml")
        })
        .count();
    assert_eq!(files, sent.len());
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "a simulated week runs in {:?}",
        started.elapsed()
    );
}

fn yuqing(config: &std::path::Path, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_yuqing"))
        .args(args)
        .arg("--config")
        .arg(config)
        .args(["--by", "张值班"])
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

backend_test!(the_duty_officer_merges_and_splits_incidents_with_the_cli);
async fn the_duty_officer_merges_and_splits_incidents_with_the_cli(backend: Option<String>) {
    let sc = common::scenario(
        TOPIC,
        &[
            ("某景区发生坍塌 游客被困", "https://n.example.cn/1", "1", ""),
            (
                "山顶索道突发故障停运 滞留游客已转移",
                "https://n.example.cn/2",
                "2",
                "Mon, 23 Nov 2026 22:00:00 +0000",
            ),
        ],
        PEOPLE,
        &backend,
    )
    .await;
    let d = &sc.daemon;
    d.poll_once(None).await.unwrap();
    assert_eq!(mails(d, "opened").await.len(), 2);
    let clock_start = |id: i64| {
        let store = d.store.clone();
        async move { common::incident(&store, id).await.clock_start }
    };
    let (c1, c2) = (clock_start(1).await, clock_start(2).await);
    assert!(
        c2 < clock_start(1).await,
        "#2 was published three hours earlier"
    );

    // #2 opened while #1 of the same topic was open: its mail says they may be one event,
    // links #1 and gives the merge command, which works as printed.
    let opened = mails(d, "opened").await;
    let text = &opened[1].body_text;
    assert!(
        opened[1].subject.ends_with("（或与 #1 为同一事件）"),
        "{}",
        opened[1].subject
    );
    assert!(
        text.contains("可能与 #1 为同一事件（同一专题，一般，") && text.contains("/incidents/1）"),
        "{text}"
    );
    assert!(!opened[0].body_text.contains("同一事件"), "#1 had no other");
    let merge = text
        .split("如是请合并：")
        .nth(1)
        .and_then(|t| t.split('。').next())
        .unwrap_or_default();
    assert_eq!(merge, "yuqing incident merge 1 2", "{text}");

    // The duty officer judges the cable car failure part of the same event.
    let args: Vec<&str> = merge.split(' ').skip(1).collect();
    let (ok, out, err) = yuqing(&sc.config, &args);
    assert!(ok, "{out}{err}");
    assert_has!(out, "事件 #2 已并入 #1（移入 1 条信息）");
    assert_eq!(status(d, 2).await, "merged");
    assert_eq!(clock_start(1).await, c2, "the earlier clock start is kept");
    let dl = d
        .store
        .deadlines_of(d.store.pool(), IncidentId(1))
        .await
        .unwrap();
    assert_eq!(
        (dl[0].kind.as_str(), dl[0].due_at),
        ("response", c2 + 48 * 3600),
        "recomputed from it"
    );
    let items = common::items_of(&d.store, 1).await;
    assert_eq!(items.len(), 2);
    let merged = mails(d, "merged").await;
    assert_eq!(merged.len(), 1);
    assert_has!(merged[0].subject, "#2 并入 #1");
    assert_has!(merged[0].body_text, "张值班");
    let opened = mails(d, "opened").await;
    assert_eq!(
        merged[0].in_reply_to.as_deref(),
        Some(opened[0].message_id.as_str()),
        "in #1's thread"
    );
    let (ok, _, err) = yuqing(&sc.config, &["incident", "ack", "2"]);
    assert!(!ok && err.contains("已并入 #1"), "{err}");
    let actions = d.store.actions_of(IncidentId(1)).await.unwrap();
    assert!(
        actions.iter().any(
            |a| a.action == "opened" && a.detail.as_deref().unwrap_or("").contains("(from #2)")
        ),
        "#2's history moved into #1: {actions:#?}"
    );

    // The assessment report says what became of #2's deadline.
    let out = Command::new(env!("CARGO_BIN_EXE_yuqing"))
        .args([
            "report",
            "incidents",
            "--from",
            "2026-11-24",
            "--to",
            "2026-11-24",
            "--csv",
        ])
        .arg("--config")
        .arg(&sc.config)
        .output()
        .unwrap();
    let csv = String::from_utf8_lossy(&out.stdout);
    let two = csv.lines().find(|l| l.starts_with("#2,")).unwrap_or("");
    assert!(
        two.contains("因并入 #1 取消") && two.ends_with("已并入 #1"),
        "{csv}"
    );

    // Then changes their mind: the cable car item goes to a new incident of its own.
    let cable = items.iter().find(|i| i.title.contains("索道")).unwrap().id;
    let (ok, out, err) = yuqing(&sc.config, &["incident", "split", "1", &cable.to_string()]);
    assert!(ok, "{out}{err}");
    assert_has!(out, "已拆分为新事件 #3");
    assert_eq!(common::items_of(&d.store, 1).await.len(), 1);
    let three = common::items_of(&d.store, 3).await;
    assert_eq!(three.len(), 1);
    assert!(three[0].title.contains("索道"));
    let dl = d
        .store
        .deadlines_of(d.store.pool(), IncidentId(3))
        .await
        .unwrap();
    assert_eq!(dl.len(), 1, "{dl:?}");
    assert_eq!(dl[0].kind, "response");
    assert_eq!(
        dl[0].due_at,
        three[0].published_at.unwrap() + 48 * 3600,
        "counted from the item's own clock start"
    );
    assert_eq!(
        clock_start(1).await,
        c1,
        "#1 is back to its own clock start"
    );
    let dl = d
        .store
        .deadlines_of(d.store.pool(), IncidentId(1))
        .await
        .unwrap();
    assert_eq!(dl[0].due_at, c1 + 48 * 3600);
    let split = mails(d, "split").await;
    assert_eq!(split.len(), 1);
    assert_has!(split[0].subject, "#1 拆分出新事件 #3");
    assert!(split[0].recipients.contains("duty@"));
    assert_eq!(
        split[0].in_reply_to.as_deref(),
        Some(opened[0].message_id.as_str()),
        "told in #1's thread"
    );
    let opened = mails(d, "opened").await;
    assert!(
        opened
            .iter()
            .any(|m| m.incident_id == Some(3) && m.subject.contains("索道")),
        "#3 starts its own thread: {opened:#?}"
    );

    // Bad input loses nothing and says why.
    let (ok, _, err) = yuqing(&sc.config, &["incident", "split", "1", "999"]);
    assert!(!ok && err.contains("信息 #999 不属于事件 #1"), "{err}");
    let (ok, _, err) = yuqing(&sc.config, &["incident", "merge", "1", "1"]);
    assert!(!ok && err.contains("并入它自己"), "{err}");
}

const MESSAGES: &str = "[[topic]]\nid = \"messages\"\nname = \"市长信箱留言\"\n\
                        obligation = \"netizen_message_reply\"\nany = [\"留言\"]\n";

backend_test!(a_netizen_message_is_due_in_five_working_days_across_national_day);
async fn a_netizen_message_is_due_in_five_working_days_across_national_day(
    backend: Option<String>,
) {
    let sc = common::scenario(MESSAGES, &[], PEOPLE, &backend).await;
    let (d, clock) = (&sc.daemon, &sc.clock);
    // Wednesday 2026-09-30 10:00 in Shanghai, the day before the National Day holiday.
    clock.set(Utc.with_ymd_and_hms(2026, 9, 30, 2, 0, 0).unwrap());
    sc.http.set(
        "/news.xml",
        feed(&["市民留言：景区周边停车难 希望增设停车位"]),
    );
    d.poll_once(None).await.unwrap();
    // Oct 1–7 off; Thu 8, Fri 9, Sat 10 (调休 make-up day), Mon 12, Tue 13.
    let opened = mails(d, "opened").await;
    assert_eq!(opened.len(), 1);
    assert_has!(
        opened[0].body_text,
        "网民留言答复（5个工作日）：2026-10-13 23:59:59 前"
    );
    assert!(!opened[0].body_text.contains("日历缺少"));

    // Answered on Monday 12th: both the 48-hour response (late) and the 5 working days (met).
    clock.set(Utc.with_ymd_and_hms(2026, 10, 12, 2, 0, 0).unwrap());
    d.housekeeping().await.unwrap();
    assert!(
        !mails(d, "breached")
            .await
            .iter()
            .any(|m| m.subject.contains("网民留言答复")),
        "not due yet"
    );
    let said = act(
        d,
        1,
        Step::Release {
            url: "https://gov.example.cn/reply/1".into(),
            at: None,
        },
        clock.now(),
    )
    .await;
    assert_has!(said, "已记录回应社会关切，并履行时限义务");
    assert_eq!(status(d, 1).await, "monitoring");
    clock.set(Utc.with_ymd_and_hms(2026, 10, 14, 2, 0, 0).unwrap());
    d.housekeeping().await.unwrap();
    assert!(!mails(d, "breached")
        .await
        .iter()
        .any(|m| m.subject.contains("网民留言答复")));
}

backend_test!(an_incident_split_off_owes_its_topics_working_days_too);
async fn an_incident_split_off_owes_its_topics_working_days_too(backend: Option<String>) {
    let sc = common::scenario(MESSAGES, &[], PEOPLE, &backend).await;
    let (d, clock) = (&sc.daemon, &sc.clock);
    // Wednesday 2026-09-30 10:00 in Shanghai, as above: due Tuesday 2026-10-13.
    clock.set(Utc.with_ymd_and_hms(2026, 9, 30, 2, 0, 0).unwrap());
    sc.http.set(
        "/news.xml",
        feed(&[
            "市民留言：景区周边停车难 希望增设停车位",
            "网友留言：博物馆预约系统无法登录",
        ]),
    );
    d.poll_once(None).await.unwrap();
    let (ok, out, err) = yuqing(&sc.config, &["incident", "merge", "1", "2"]);
    assert!(ok, "{out}{err}");
    let museum = common::items_of(&d.store, 1)
        .await
        .into_iter()
        .find(|i| i.title.contains("博物馆"))
        .unwrap()
        .id;
    // Split off by the command line, which reads the watchlists and the calendar itself.
    let (ok, out, err) = yuqing(&sc.config, &["incident", "split", "1", &museum.to_string()]);
    assert!(ok, "{out}{err}");
    assert_has!(out, "已拆分为新事件 #3");
    let owed: Vec<_> = d
        .store
        .deadlines_of(d.store.pool(), IncidentId(3))
        .await
        .unwrap()
        .into_iter()
        .filter(|dl| dl.kind == yuqing::vocab::state::DeadlineKind::Obligation)
        .map(|dl| (dl.duty, dl.due_at))
        .collect();
    let due = Utc.with_ymd_and_hms(2026, 10, 13, 15, 59, 59).unwrap();
    assert_eq!(
        owed,
        vec![(
            Some("网民留言答复（5个工作日）".to_string()),
            due.timestamp()
        )]
    );
}

backend_test!(a_working_day_deadline_in_a_year_without_calendar_is_flagged);
async fn a_working_day_deadline_in_a_year_without_calendar_is_flagged(backend: Option<String>) {
    let sc = common::scenario(MESSAGES, &[], PEOPLE, &backend).await;
    let (d, clock) = (&sc.daemon, &sc.clock);
    // Monday 2026-12-28: five working days reach into 2027, which has no calendar yet.
    clock.set(Utc.with_ymd_and_hms(2026, 12, 28, 2, 0, 0).unwrap());
    sc.http
        .set("/news.xml", feed(&["网友留言：博物馆预约系统无法登录"]));
    d.poll_once(None).await.unwrap();
    let opened = mails(d, "opened").await;
    assert_has!(
        opened[0].body_text,
        "（日历缺少2027年数据，截止时间按周末推算，请核对）"
    );
    // Unanswered, it escalates like any deadline, still flagged.
    clock.set(Utc.with_ymd_and_hms(2027, 1, 5, 0, 0, 0).unwrap());
    d.housekeeping().await.unwrap();
    let late: Vec<OutboxRow> = mails(d, "breached")
        .await
        .into_iter()
        .filter(|m| m.subject.contains("网民留言答复（5个工作日）时限已过"))
        .collect();
    assert_eq!(late.len(), 1);
    assert!(late[0].body_text.contains("日历缺少2027年数据"));
    assert!(late[0].recipients.contains("leader@"));

    // `yuqing check` names the incident whose deadline was guessed.
    let text = common::process::stdout_of(
        Command::new(env!("CARGO_BIN_EXE_yuqing"))
            .arg("check")
            .arg("--config")
            .arg(&sc.config)
            .current_dir(env!("CARGO_MANIFEST_DIR")),
    );
    assert!(
        text.contains("升级通知（[escalation]）：")
            && text.contains("ordinary: opened=duty reminder=duty breach=leaders+principal+duty"),
        "{text}"
    );
    assert!(
        text.contains("警告：事件 #1：网民留言答复（5个工作日） 的截止时间")
            && text.contains("没有 2027 年工作日日历"),
        "{text}"
    );
}

backend_test!(a_merge_moves_met_deadlines_with_the_clock_start);
/// A merge moves the clock start earlier: a deadline already met is judged against the new
/// due time too, so the report cannot call a late press conference "met".
async fn a_merge_moves_met_deadlines_with_the_clock_start(backend: Option<String>) {
    let sc = common::scenario(
        common::SCENIC_MAJOR,
        &[
            ("某景区发生坍塌 游客被困", "https://n.example.cn/1", "1", ""),
            (
                "景区栈道坍塌引发连锁事故 另有游客受伤",
                "https://n.example.cn/2",
                "2",
                "Mon, 23 Nov 2026 22:00:00 +0000",
            ),
        ],
        "[grouping]\nsimilarity = 0.9\n",
        &backend,
    )
    .await;
    let d = &sc.daemon;
    d.poll_once(None).await.unwrap();
    let store = &d.store;
    let c2 = common::incident(store, 2).await.clock_start;
    let (ok, out, err) = yuqing(&sc.config, &["incident", "press", "1"]);
    assert!(ok, "{out}{err}");
    let (ok, out, err) = yuqing(&sc.config, &["incident", "merge", "1", "2"]);
    assert!(ok, "{out}{err}");
    let deadlines = store
        .deadlines_of(store.pool(), IncidentId(1))
        .await
        .unwrap();
    let due = |kind: &str| {
        deadlines
            .iter()
            .find(|d| d.kind == kind)
            .map(|d| (d.due_at, d.met_at.is_some()))
            .unwrap()
    };
    assert_eq!(due("release"), (c2 + 5 * 3600, false));
    assert_eq!(
        due("press_conference"),
        (c2 + 24 * 3600, true),
        "the met press conference is due from the merged clock start too"
    );
}
