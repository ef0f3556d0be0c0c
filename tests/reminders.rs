//! Before each deadline the duty officer is reminded (release −2h, −1h, −30m; press
//! conference −4h, −1h); after it, the leaders are mailed again every hour until it is met.
//! A 24-hour incident runs in milliseconds on a manual clock.

use crate::common;
use yuqing::vocab::ids::IncidentId;

use chrono::{Duration, TimeZone, Utc};
use common::{rss, Response};
use yuqing::daemon::scheduler::Daemon;
use yuqing::incident::{self, Step};

async fn subjects(d: &Daemon) -> Vec<String> {
    d.store
        .outbox()
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.subject)
        .collect()
}

backend_test!(reminders_before_and_repeated_escalation_after);
async fn reminders_before_and_repeated_escalation_after(backend: Option<String>) {
    let sc = common::scenario(
        common::SCENIC_MAJOR,
        &[("某景区发生坍塌 游客被困", "https://n.example.cn/1", "1", "")],
        "",
        &backend,
    )
    .await;
    let clock = sc.clock.clone();
    let d = &sc.daemon;
    d.poll_once(None).await.unwrap();
    assert_eq!(subjects(d).await.len(), 1, "the opening mail only");

    // Walk the clock in 10-minute steps through the first six hours.
    for _ in 0..36 {
        clock.advance(Duration::minutes(10));
        d.housekeeping().await.unwrap();
    }
    let s = subjects(d).await;
    let reminders: Vec<&String> = s.iter().filter(|x| x.contains("【舆情·提醒】")).collect();
    assert_eq!(reminders.len(), 3, "release −2h, −1h, −30m: {s:#?}");
    assert!(reminders[0].contains("发布权威信息时限剩余2小时"), "{s:#?}");
    assert!(reminders[2].contains("剩余30分钟"), "{s:#?}");
    let escalations = s
        .iter()
        .filter(|x| x.contains("发布权威信息时限已过"))
        .count();
    assert_eq!(escalations, 2, "at 5h and again at 6h: {s:#?}");
    assert!(s.iter().any(|x| x.contains("【舆情·超时·再次提醒】")));

    // Recording the release stops its escalation; the press conference is reminded at −4h.
    incident::act(
        &d.store,
        &d.settings.get().config,
        yuqing::vocab::ids::IncidentId(1),
        &Step::Release {
            url: "https://gov.example.cn/r".into(),
            at: None,
        },
        "duty",
        yuqing::vocab::clock::Clock::now(&clock),
    )
    .await
    .unwrap();
    for _ in 0..102 {
        clock.advance(Duration::minutes(10));
        d.housekeeping().await.unwrap();
    }
    let s = subjects(d).await;
    assert_eq!(
        s.iter()
            .filter(|x| x.contains("发布权威信息时限已过"))
            .count(),
        2,
        "{s:#?}"
    );
    let press: Vec<&String> = s
        .iter()
        .filter(|x| x.contains("召开新闻发布会时限剩余"))
        .collect();
    assert_eq!(press.len(), 2, "press conference −4h and −1h: {s:#?}");
}

backend_test!(after_a_long_pause_only_the_latest_reminder_goes_out);
async fn after_a_long_pause_only_the_latest_reminder_goes_out(backend: Option<String>) {
    let sc = common::scenario(
        common::SCENIC_MAJOR,
        &[("某景区发生坍塌 游客被困", "https://n.example.cn/1", "1", "")],
        "",
        &backend,
    )
    .await;
    let clock = sc.clock.clone();
    let d = &sc.daemon;
    d.poll_once(None).await.unwrap();
    clock.advance(Duration::minutes(4 * 60 + 40)); // 20 minutes left
    d.housekeeping().await.unwrap();
    d.housekeeping().await.unwrap();
    let s = subjects(d).await;
    let reminders: Vec<&String> = s.iter().filter(|x| x.contains("【舆情·提醒】")).collect();
    assert_eq!(reminders.len(), 1, "{s:#?}");
    assert!(reminders[0].contains("剩余20分钟"), "{s:#?}");
}

backend_test!(raising_an_old_incident_to_major_is_overdue_at_once_and_says_so);
async fn raising_an_old_incident_to_major_is_overdue_at_once_and_says_so(backend: Option<String>) {
    let sc = common::scenario(
        "[[topic]]\nid = \"queue\"\nname = \"景区服务\"\nany = [\"投诉\"]\nall = [\"景区\"]\n",
        &[("景区游客投诉排队太久", "https://n.example.cn/2", "2", "")],
        "",
        &backend,
    )
    .await;
    let clock = sc.clock.clone();
    let d = &sc.daemon;
    d.poll_once(None).await.unwrap();
    let kinds = |dl: Vec<yuqing::store::DeadlineRow>| -> Vec<(String, bool)> {
        dl.into_iter()
            .map(|x| (x.kind.to_string(), x.cancelled_at.is_none()))
            .collect()
    };
    assert_eq!(
        kinds(
            d.store
                .deadlines_of(d.store.pool(), IncidentId(1))
                .await
                .unwrap()
        ),
        [("response".to_string(), true)]
    );

    // Six hours later the facts say 重大: the 5-hour release deadline has already passed.
    clock.advance(Duration::hours(6));
    let cfg = d.settings.get().config.clone();
    let now = yuqing::vocab::clock::Clock::now(&clock);
    incident::act(
        &d.store,
        &cfg,
        yuqing::vocab::ids::IncidentId(1),
        &Step::Severity(yuqing::vocab::severity::Severity::Major),
        "duty",
        now,
    )
    .await
    .unwrap();
    let mail = d.store.outbox().await.unwrap();
    let regraded = mail
        .iter()
        .find(|m| m.kind == "regraded")
        .expect("a regrade mail");
    assert!(
        regraded
            .subject
            .starts_with("【舆情·重大·已超时】#1 级别调整为重大"),
        "{}",
        regraded.subject
    );
    assert_has!(
        regraded.body_text,
        "发布权威信息：2026-11-24 14:00 前，已超时 1小时"
    );
    assert!(
        regraded.recipients.contains("leaders@"),
        "leaders hear of a raise to 重大: {}",
        regraded.recipients
    );
    d.housekeeping().await.unwrap();
    let subjects: Vec<String> = d
        .store
        .outbox()
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.subject)
        .collect();
    assert!(
        subjects.iter().any(|s| s.contains("发布权威信息时限已过")),
        "{subjects:#?}"
    );

    // Down and up again: the deadlines follow, none is lost.
    incident::act(
        &d.store,
        &cfg,
        yuqing::vocab::ids::IncidentId(1),
        &Step::Severity(yuqing::vocab::severity::Severity::Ordinary),
        "duty",
        now,
    )
    .await
    .unwrap();
    let k = kinds(
        d.store
            .deadlines_of(d.store.pool(), IncidentId(1))
            .await
            .unwrap(),
    );
    assert!(
        k.contains(&("response".to_string(), true)) && k.contains(&("release".to_string(), false)),
        "{k:?}"
    );
    incident::act(
        &d.store,
        &cfg,
        yuqing::vocab::ids::IncidentId(1),
        &Step::Severity(yuqing::vocab::severity::Severity::Major),
        "duty",
        now,
    )
    .await
    .unwrap();
    let k = kinds(
        d.store
            .deadlines_of(d.store.pool(), IncidentId(1))
            .await
            .unwrap(),
    );
    assert!(
        k.contains(&("release".to_string(), true)) && k.contains(&("response".to_string(), false)),
        "{k:?}"
    );
}

#[tokio::test]
async fn items_joining_an_incident_are_batched_into_one_mail_per_half_hour() {
    let sc = common::scenario(common::SCENIC_MAJOR, &[], "", &None).await;
    let clock = sc.clock.clone();
    let d = &sc.daemon;
    let http = &sc.http;
    let feed = |n: usize| {
        let items: Vec<(String, String, String)> = (1..=n)
            .map(|i| {
                (
                    format!("某景区发生坍塌 第{i}报"),
                    format!("https://n.example.cn/{i}"),
                    i.to_string(),
                )
            })
            .collect();
        let refs: Vec<(&str, &str, &str, &str)> = items
            .iter()
            .map(|(t, l, g)| (t.as_str(), l.as_str(), g.as_str(), ""))
            .collect();
        Response::rss(rss(&refs))
    };
    http.set("/news.xml", feed(1));
    let batches = |d: &Daemon| {
        let store = d.store.clone();
        async move {
            common::mail(&store, "new_items")
                .await
                .into_iter()
                .map(|m| (m.subject, m.body_text))
                .collect::<Vec<_>>()
        }
    };
    d.poll_once(None).await.unwrap();
    for (minutes, items) in [(5, 2), (10, 3)] {
        clock.set(Utc.with_ymd_and_hms(2026, 11, 24, 1, minutes, 0).unwrap());
        http.set("/news.xml", feed(items));
        d.poll_once(None).await.unwrap();
    }
    assert!(
        batches(d).await.is_empty(),
        "not within half an hour of the opening mail"
    );

    clock.set(Utc.with_ymd_and_hms(2026, 11, 24, 1, 30, 0).unwrap());
    d.housekeeping().await.unwrap();
    let b = batches(d).await;
    assert_eq!(b.len(), 1, "{b:#?}");
    assert_has!(b[0].0, "新增 2 条相关信息");
    assert!(
        b[0].1.contains("第2报") && b[0].1.contains("第3报") && b[0].1.contains("累计 3 条"),
        "{}",
        b[0].1
    );

    clock.set(Utc.with_ymd_and_hms(2026, 11, 24, 1, 35, 0).unwrap());
    http.set("/news.xml", feed(4));
    d.poll_once(None).await.unwrap();
    clock.set(Utc.with_ymd_and_hms(2026, 11, 24, 1, 45, 0).unwrap());
    d.housekeeping().await.unwrap();
    assert_eq!(batches(d).await.len(), 1, "at most one mail per half hour");
    clock.set(Utc.with_ymd_and_hms(2026, 11, 24, 2, 0, 0).unwrap());
    d.housekeeping().await.unwrap();
    let b = batches(d).await;
    assert_eq!(b.len(), 2);
    assert!(
        b[1].0.contains("新增 1 条") && b[1].1.contains("第4报") && !b[1].1.contains("第2报"),
        "{b:#?}"
    );
}

#[tokio::test]
async fn an_incident_nobody_acknowledges_reaches_the_leaders_once() {
    let sc = common::scenario(
        common::SCENIC_MAJOR,
        &[("某景区发生坍塌 游客被困", "https://n.example.cn/1", "1", "")],
        "",
        &None,
    )
    .await;
    let clock = sc.clock.clone();
    let d = &sc.daemon;
    d.poll_once(None).await.unwrap();
    let unack = |d: &Daemon| {
        let store = d.store.clone();
        async move { common::mail(&store, "unacknowledged").await }
    };
    clock.advance(Duration::minutes(29));
    d.housekeeping().await.unwrap();
    assert!(unack(d).await.is_empty());
    clock.advance(Duration::minutes(1));
    d.housekeeping().await.unwrap();
    clock.advance(Duration::minutes(30));
    d.housekeeping().await.unwrap();
    let mail = unack(d).await;
    assert_eq!(mail.len(), 1, "once");
    assert_has!(mail[0].subject, "立案 30分钟 仍无人确认");
    assert_has!(mail[0].recipients, "leaders@");
}

backend_test!(an_item_published_before_the_clock_start_moves_it_back_and_says_so);
async fn an_item_published_before_the_clock_start_moves_it_back_and_says_so(
    backend: Option<String>,
) {
    let first = ("某景区发生坍塌 游客被困", "https://n.example.cn/1", "1", "");
    let sc = common::scenario(common::SCENIC_MAJOR, &[first], "", &backend).await;
    let d = &sc.daemon;
    d.poll_once(None).await.unwrap();
    let t0 = yuqing::vocab::clock::Clock::now(&sc.clock);
    let due = |d: &yuqing::daemon::scheduler::Daemon| {
        let d = d.clone();
        async move {
            let dl = d
                .store
                .deadlines_of(d.store.pool(), IncidentId(1))
                .await
                .unwrap();
            let i = common::incident(&d.store, 1).await;
            (
                i.clock_start,
                dl.iter().find(|x| x.kind == "release").unwrap().due_at,
            )
        }
    };
    let (start, release) = due(d).await;
    assert_eq!(
        start,
        t0.timestamp(),
        "no publication time: the clock starts at detection"
    );
    assert_eq!(release, start + 5 * 3600);

    // Half an hour later a repost turns up that the forum published an hour before the
    // first report was seen: the statutory clock started then.
    sc.clock.advance(Duration::minutes(30));
    let earlier = (t0 - Duration::hours(1)).to_rfc2822();
    sc.http.set(
        "/news.xml",
        common::Response::rss(common::rss(&[
            first,
            (
                "某景区发生坍塌 游客被困 现场视频",
                "https://n.example.cn/2",
                "2",
                &earlier,
            ),
        ])),
    );
    d.poll_once(None).await.unwrap();
    let (start, release) = due(d).await;
    assert_eq!(start, (t0 - Duration::hours(1)).timestamp());
    assert_eq!(
        release,
        start + 5 * 3600,
        "the deadline follows the clock start"
    );
    let mail: Vec<_> = common::mail(&d.store, "clock_moved").await;
    assert_eq!(mail.len(), 1, "told once");
    assert_has!(mail[0].subject, "计时起点提前至");
    assert_has!(mail[0].body_text, "早于原计时起点");
    let actions = d.store.actions_of(IncidentId(1)).await.unwrap();
    assert!(
        actions.iter().any(|a| a.action == "clock_start"),
        "{actions:?}"
    );

    // A later item moves nothing.
    sc.clock.advance(Duration::minutes(30));
    let later = yuqing::vocab::clock::Clock::now(&sc.clock).to_rfc2822();
    sc.http.set(
        "/news.xml",
        common::Response::rss(common::rss(&[
            first,
            (
                "某景区发生坍塌 游客被困 现场视频",
                "https://n.example.cn/2",
                "2",
                &earlier,
            ),
            (
                "某景区发生坍塌 游客被困 最新进展",
                "https://n.example.cn/3",
                "3",
                &later,
            ),
        ])),
    );
    d.poll_once(None).await.unwrap();
    assert_eq!(due(d).await.0, start);
    let moved = common::mail(&d.store, "clock_moved").await.len();
    assert_eq!(moved, 1);
}

/// Issue 26 §3: one poll of 320 reports of one event, listed newest first as feeds list
/// them, moves the clock start back item by item; it once sent 71 计时提前 mails. Now the
/// poll mails one, from where the clock stood before it to where it ends; a later poll
/// that brings 50 still older reports mails one more.
#[tokio::test]
async fn a_page_of_older_reports_moves_the_clock_once_not_once_per_item() {
    // The scenario's clock starts here.
    let t0 = Utc.with_ymd_and_hms(2026, 11, 24, 1, 0, 0).unwrap();
    let reports = |from: i64, n: i64| -> Vec<(String, String, String, String)> {
        (from..from + n)
            .map(|k| {
                (
                    format!("某景区发生坍塌 游客被困 现场续报第{k}条"),
                    format!("https://n.example.cn/{k}"),
                    format!("g{k}"),
                    (t0 - Duration::minutes(k)).to_rfc2822(),
                )
            })
            .collect()
    };
    let as_items = |r: &[(String, String, String, String)]| {
        r.iter()
            .map(|(a, b, c, d)| (a.clone(), b.clone(), c.clone(), d.clone()))
            .collect::<Vec<_>>()
    };
    let page = reports(0, 320);
    let owned = as_items(&page);
    let items: Vec<common::RssItem<'_>> = owned
        .iter()
        .map(|(a, b, c, d)| (a.as_str(), b.as_str(), c.as_str(), d.as_str()))
        .collect();
    let sc = common::scenario(common::SCENIC_MAJOR, &items, "", &None).await;
    let d = &sc.daemon;
    d.poll_once(None).await.unwrap();
    let incidents = d.store.incidents(true).await.unwrap();
    assert_eq!(incidents.len(), 1, "one event");
    assert_eq!(
        incidents[0].clock_start,
        (t0 - Duration::minutes(319)).timestamp(),
        "the clock starts at the earliest report"
    );
    let moved = |d: &yuqing::daemon::scheduler::Daemon| {
        let d = d.store.clone();
        async move { common::mail(&d, "clock_moved").await.len() }
    };
    assert_eq!(
        moved(d).await,
        1,
        "one 计时提前 for the poll, not one per item"
    );
    let mail = d.store.outbox().await.unwrap();
    let mail = mail.iter().find(|m| m.kind == "clock_moved").unwrap();
    assert!(
        mail.body_text
            .contains("早于原计时起点 2026-11-24 09:00。计时起点提前至 2026-11-24 03:41"),
        "from where it was before the poll to where it ended: {}",
        mail.body_text
    );

    // Fifty older reports, newest first again, in one later poll: one 计时提前.
    let older = as_items(&reports(320, 50));
    let all: Vec<common::RssItem<'_>> = owned
        .iter()
        .chain(older.iter())
        .map(|(a, b, c, d)| (a.as_str(), b.as_str(), c.as_str(), d.as_str()))
        .collect();
    sc.clock.advance(Duration::minutes(10));
    sc.http
        .set("/news.xml", common::Response::rss(common::rss(&all)));
    d.poll_once(None).await.unwrap();
    assert_eq!(
        moved(d).await,
        2,
        "one more for the second poll, not one per item"
    );
    let i = common::incident(&d.store, incidents[0].id.0).await;
    assert_eq!(i.clock_start, (t0 - Duration::minutes(369)).timestamp());
}
