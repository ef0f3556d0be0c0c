//! Rows this version cannot read (a value written by a newer version, or by hand): an
//! incident whose stored severity is unknown, an item whose tone is. Each holds back only
//! what it must (a poll's filing, a page kept as evidence, its recheck), is named where the
//! operators look (the log, `/healthz`, the console and mail), and what it held back goes
//! through once the row is repaired.

use crate::common;
use crate::evidence::{article, capturing_all, gate, gone_at_the_recheck, TOPICS};

use chrono::Duration as ChronoDuration;
use common::{rss, Response};
use yuqing::vocab::clock::Clock;

/// The scenic item that opens incident #1 in the fault tests below.
const FIRST: common::RssItem = (
    "某景区栈道坍塌 多名游客受伤",
    "https://news.example.cn/1",
    "t1",
    "Tue, 24 Nov 2026 09:00:00 +0800",
);

/// A scenario watching the scenic topic and a museum topic (失窃 at a 博物馆), which has
/// polled `items` once, every source well.
async fn scenic_and_museum(
    items: &[common::RssItem<'_>],
    backend: &Option<String>,
) -> common::Scenario {
    let watchlist = format!(
        "{}\n[[topic]]\nid = \"museum\"\nname = \"博物馆安全\"\nseverity = \"major\"\nany = [\"失窃\"]\nall = [\"博物馆\"]\n",
        common::SCENIC_MAJOR
    );
    let s = common::scenario(&watchlist, items, "", backend).await;
    for (id, r) in s.daemon.poll_once(None).await.expect("poll") {
        r.unwrap_or_else(|e| panic!("{id}: {e}"));
    }
    s
}

/// The subjects of the mail in `outbox` that contain `word`.
fn subjects_with<'a>(outbox: &'a [yuqing::store::OutboxRow], word: &str) -> Vec<&'a str> {
    outbox
        .iter()
        .filter(|m| m.subject.contains(word))
        .map(|m| m.subject.as_str())
        .collect()
}

backend_test!(a_row_that_stops_one_timed_step_does_not_hold_back_the_mail);
/// A timed step that fails every turn (here: an incident whose stored severity this
/// version cannot read, so the unacknowledged check stops on it once it is due) used to
/// end the turn before the mail was sent: one bad row silenced every alert, a new
/// incident's too. Now the step is reported, the other steps run, and the queued mail
/// goes out.
async fn a_row_that_stops_one_timed_step_does_not_hold_back_the_mail(backend: Option<String>) {
    let s = scenic_and_museum(&[FIRST], &backend).await;
    let d = &s.daemon;
    let sent =
        |rows: &[yuqing::store::OutboxRow]| rows.iter().filter(|r| r.sent_at.is_some()).count();
    assert_eq!(
        sent(&d.store.outbox().await.unwrap()),
        1,
        "incident #1's alert"
    );
    sqlx::query("UPDATE incidents SET severity = 'catastrophic' WHERE id = 1")
        .execute(d.store.pool())
        .await
        .unwrap();

    // Half an hour later, when #1 is due to be reported unacknowledged, a second event, of
    // another topic: a new incident, whose alert the poll queues.
    s.clock.advance(ChronoDuration::minutes(30));
    let second: common::RssItem = (
        "某博物馆展品失窃 警方已介入",
        "https://news.example.cn/2",
        "t2",
        "Tue, 24 Nov 2026 09:10:00 +0800",
    );
    s.http
        .set("/news.xml", Response::rss(rss(&[FIRST, second])));
    let e = d.poll_once(None).await.unwrap_err();
    let text = format!("{e:#}");
    assert_has!(text, "cannot queue unacknowledged-incident mail");
    assert_has!(text, "catastrophic");
    let mail = d.store.outbox().await.unwrap();
    assert_eq!(mail.len(), 2, "{mail:#?}");
    assert_eq!(
        sent(&mail),
        2,
        "incident #2's alert went out anyway: {mail:#?}"
    );
    assert!(mail[1].subject.contains("#2"), "{}", mail[1].subject);
    // The next turns say the same and send nothing twice.
    s.clock.advance(ChronoDuration::minutes(10));
    assert!(d.housekeeping().await.is_err());
    assert_eq!(d.store.outbox().await.unwrap().len(), 2);

    // Inside one step, too. Two hours before #2's release deadline (due 14:10), the duty
    // officer is reminded of #2, though #1 (due 14:00) cannot be read.
    s.clock.advance(ChronoDuration::minutes(150));
    let e = d.housekeeping().await.unwrap_err();
    let mail = d.store.outbox().await.unwrap();
    let reminders = subjects_with(&mail, "提醒");
    assert!(
        reminders.iter().any(|s| s.contains("#2")),
        "#2's reminder is mailed: {reminders:?} ({e:#})"
    );
    assert!(!reminders.iter().any(|s| s.contains("#1")), "{reminders:?}");
    // Both 5-hour release deadlines pass. #1's breach is skipped and named; #2's leaders
    // are still told.
    s.clock.advance(ChronoDuration::hours(3));
    let e = d.housekeeping().await.unwrap_err();
    let mail = d.store.outbox().await.unwrap();
    let breaches = subjects_with(&mail, "时限已过");
    assert!(
        breaches.iter().any(|s| s.contains("#2")),
        "#2's breach is mailed: {breaches:?} ({e:#})"
    );
    assert!(!breaches.iter().any(|s| s.contains("#1")), "{breaches:?}");
    assert_eq!(sent(&mail), mail.len(), "and sent: {mail:#?}");
    let actions = d
        .store
        .actions_of(yuqing::vocab::ids::IncidentId(2))
        .await
        .unwrap();
    assert!(
        actions
            .iter()
            .any(|a| a.action == yuqing::vocab::action::ActionKind::Escalated),
        "{actions:#?}"
    );
}

backend_test!(an_incident_that_cannot_be_read_holds_back_no_other_incident);
/// The timed steps that go over every open incident at once (nobody acknowledged it, items
/// joined it, its monitoring ended) used to stop on the first one they could not read: one
/// incident whose stored severity this version does not know (#1) kept the leaders from
/// hearing that #2 went unacknowledged, the duty officer from #2's new items, and #2 from
/// ever closing. Now #1 is skipped and named, every turn, and #2 goes on as it would.
async fn an_incident_that_cannot_be_read_holds_back_no_other_incident(backend: Option<String>) {
    let items: [common::RssItem; 4] = [
        (
            "某景区栈道坍塌 多名游客受伤",
            "https://news.example.cn/1",
            "t1",
            "Tue, 24 Nov 2026 09:00:00 +0800",
        ),
        (
            "某景区栈道坍塌 多名游客受伤 伤者已送医",
            "https://news.example.cn/2",
            "t2",
            "Tue, 24 Nov 2026 09:01:00 +0800",
        ),
        (
            "某博物馆展品失窃 警方已介入",
            "https://news.example.cn/3",
            "t3",
            "Tue, 24 Nov 2026 09:02:00 +0800",
        ),
        (
            "某博物馆展品失窃 警方已介入调查",
            "https://news.example.cn/4",
            "t4",
            "Tue, 24 Nov 2026 09:03:00 +0800",
        ),
    ];
    let s = scenic_and_museum(&items, &backend).await;
    let d = &s.daemon;
    // Two incidents of two items each: each has one new item for the duty officer.
    for id in [1, 2] {
        let joined = common::items_of(&d.store, id).await;
        assert_eq!(joined.len(), 2, "#{id}: {joined:#?}");
    }
    sqlx::query("UPDATE incidents SET severity = 'catastrophic' WHERE id = 1")
        .execute(d.store.pool())
        .await
        .unwrap();
    let of = |kind: &'static str| async move {
        let mail = common::mail(&d.store, kind).await;
        let subjects: Vec<String> = mail.iter().map(|m| m.subject.clone()).collect();
        assert!(mail.iter().all(|m| m.sent_at.is_some()), "sent: {mail:#?}");
        subjects
    };

    // Past the 30 minutes of `unacknowledged_after` and of `[mail] new_items_every`.
    s.clock.advance(ChronoDuration::minutes(31));
    let e = format!("{:#}", d.housekeeping().await.unwrap_err());
    assert_has!(e, "incident #1");
    assert_has!(e, "catastrophic");
    let unacknowledged = of("unacknowledged").await;
    assert_eq!(unacknowledged.len(), 1, "{unacknowledged:?} ({e})");
    assert_has!(unacknowledged[0], "#2");
    let new_items = of("new_items").await;
    assert_eq!(new_items.len(), 1, "{new_items:?} ({e})");
    assert_has!(new_items[0], "#2");
    // The next turn says the same and mails nothing twice.
    s.clock.advance(ChronoDuration::minutes(10));
    assert!(d.housekeeping().await.is_err());
    assert_eq!(of("unacknowledged").await.len(), 1);
    assert_eq!(of("new_items").await.len(), 1);

    // #2 is handled and monitored; #1 reached monitoring too (written by hand: this
    // version cannot act on it). Both monitoring periods end.
    let config = d.settings.get().config.clone();
    for step in [
        yuqing::incident::Step::Release {
            url: "https://gov.example.cn/notice/2".into(),
            at: None,
        },
        yuqing::incident::Step::PressConference { note: None },
    ] {
        let id = yuqing::vocab::ids::IncidentId(2);
        yuqing::incident::act(&d.store, &config, id, &step, "duty", s.clock.now())
            .await
            .unwrap_or_else(|e| panic!("{e:#}"));
    }
    let until = common::incident(&d.store, 2).await.monitoring_until;
    assert!(until.is_some(), "#2 is monitored");
    sqlx::query("UPDATE incidents SET status = 'monitoring', monitoring_until = $1 WHERE id = 1")
        .bind(until)
        .execute(d.store.pool())
        .await
        .unwrap();
    s.clock
        .advance(ChronoDuration::days(7) + ChronoDuration::minutes(1));
    let e = format!("{:#}", d.housekeeping().await.unwrap_err());
    assert_has!(e, "incident #1");
    assert_eq!(common::incident(&d.store, 2).await.status, "closed");
    let closed = of("closed").await;
    assert_eq!(closed.len(), 1, "{closed:?} ({e})");
    assert_has!(closed[0], "#2");
    let (status,): (String,) = sqlx::query_as("SELECT status FROM incidents WHERE id = 1")
        .fetch_one(d.store.pool())
        .await
        .unwrap();
    assert_eq!(status, "monitoring", "#1 is left as it was");
}

backend_test!(a_held_filing_whose_item_no_longer_matches_is_dropped);
/// A filing held back for an item that no longer matches its topic (the watchlist changed
/// while it waited) or that is gone is dropped, not tried for ever, and `/healthz` is well.
async fn a_held_filing_whose_item_no_longer_matches_is_dropped(backend: Option<String>) {
    let weather: common::RssItem = (
        "今日天气晴好",
        "https://news.example.cn/4",
        "t4",
        "Tue, 24 Nov 2026 09:02:00 +0800",
    );
    let s = scenic_and_museum(&[FIRST, weather], &backend).await;
    let d = &s.daemon;
    let (weather_id,): (i64,) = sqlx::query_as("SELECT id FROM items WHERE guid = 't4'")
        .fetch_one(d.store.pool())
        .await
        .unwrap();
    common::hold_filing(&d.store, "news", weather_id, 1, "held by hand").await;
    common::hold_filing(&d.store, "news", 999, 1, "an item that is gone").await;
    assert!(yuqing::daemon::metrics::store_health(&d.store)
        .await
        .is_some());
    d.housekeeping().await.expect("nothing left to file");
    assert_eq!(d.store.held_filings().await.unwrap(), []);
    assert!(yuqing::daemon::metrics::store_health(&d.store)
        .await
        .is_none());
    assert_eq!(common::items_of(&d.store, 1).await.len(), 1, "not filed");
}

/// Three items after FIRST: two more of the scenic topic and one of the museum's.
const SECOND: common::RssItem = (
    "某景区观景台坍塌 游客被困",
    "https://news.example.cn/2",
    "t2",
    "Tue, 24 Nov 2026 09:01:00 +0800",
);
const THIRD: common::RssItem = (
    "某景区护栏坍塌 一人落水",
    "https://news.example.cn/4",
    "t4",
    "Tue, 24 Nov 2026 09:03:00 +0800",
);
const MUSEUM: common::RssItem = (
    "某博物馆文物失窃",
    "https://news.example.cn/3",
    "t3",
    "Tue, 24 Nov 2026 09:02:00 +0800",
);

/// The id of the stored item with `guid`.
async fn item_id(store: &yuqing::store::Store, guid: &str) -> i64 {
    let (id,): (i64,) = sqlx::query_as("SELECT id FROM items WHERE guid = $1")
        .bind(guid)
        .fetch_one(store.pool())
        .await
        .unwrap();
    id
}

/// Takes each `(item, topic)` out of its incident and holds its filing back since time
/// 1, as a poll does when a row is in the way.
async fn held_back(store: &yuqing::store::Store, filings: &[(i64, &str)]) {
    let mut tx = store.begin().await.unwrap();
    for &(item, topic) in filings {
        sqlx::query("DELETE FROM incident_items WHERE item_id = $1")
            .bind(item)
            .execute(&mut *tx)
            .await
            .unwrap();
        let held = yuqing::store::HeldFiling {
            item_id: item,
            topic_id: topic.into(),
            source_id: "news".into(),
            held_at: 1,
            error: "held by hand".into(),
        };
        store.hold_filing(&mut tx, &held).await.unwrap();
    }
    tx.commit().await.unwrap();
}

/// Whether `item` is in an incident of `topic`.
async fn filed(store: &yuqing::store::Store, item: i64, topic: &str) -> bool {
    let (n,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM incident_items i JOIN incidents n ON n.id = i.incident_id \
         WHERE i.item_id = $1 AND n.topic_id = $2",
    )
    .bind(item)
    .bind(topic)
    .fetch_one(store.pool())
    .await
    .unwrap();
    n == 1
}

/// Sets a text column of `table`'s row `id` to a raw value, as a newer version, or a
/// hand, may have written it.
async fn set_raw(store: &yuqing::store::Store, table: &str, column: &str, id: i64, value: &str) {
    sqlx::query(&format!("UPDATE {table} SET {column} = $2 WHERE id = $1"))
        .bind(id)
        .bind(value)
        .execute(store.pool())
        .await
        .unwrap();
}

backend_test!(a_held_item_that_cannot_be_read_holds_back_no_other_filing);
/// A held-back filing whose item's own row cannot be read (an unknown tone, written by a
/// newer version) used to stop the step at that item, every turn: the filings after it
/// waited until the row was repaired, another topic's too. Now it waits alone, named, and
/// the others are filed.
async fn a_held_item_that_cannot_be_read_holds_back_no_other_filing(backend: Option<String>) {
    let s = scenic_and_museum(&[FIRST, SECOND, MUSEUM], &backend).await;
    let store = &s.daemon.store;
    let (second, museum) = (item_id(store, "t2").await, item_id(store, "t3").await);
    // The unreadable one first, as the step takes them oldest item first.
    assert!(second < museum);
    held_back(store, &[(second, "scenic"), (museum, "museum")]).await;
    set_raw(store, "items", "tone", second, "furious").await;
    assert!(!filed(store, second, "scenic").await && !filed(store, museum, "museum").await);

    let e = s
        .daemon
        .housekeeping()
        .await
        .expect_err("the unreadable item is reported");
    let shown = format!("{e:#}");
    assert_has!(
        shown,
        &format!("cannot file item {second} under topic scenic")
    );
    assert!(
        filed(store, museum, "museum").await,
        "the museum item is filed: {shown}"
    );
    let held = store.held_filings().await.unwrap();
    assert_eq!(held.len(), 1, "{held:?}");
    assert_eq!((held[0].item_id, held[0].held_at), (second, 1));
    assert!(
        held[0].error.contains("furious") && held[0].error.contains(&format!("item {second}")),
        "the hold names the row to repair: {}",
        held[0].error
    );

    // Repaired, it is filed into the scenic incident on the next turn.
    sqlx::query("UPDATE items SET tone = NULL, tone_score = NULL WHERE id = $1")
        .bind(second)
        .execute(store.pool())
        .await
        .unwrap();
    s.daemon.housekeeping().await.expect("filed");
    assert_eq!(store.held_filings().await.unwrap(), []);
    assert!(filed(store, second, "scenic").await);
}

backend_test!(a_blocked_topics_filings_wait_in_their_order);
/// While an incident row of a topic cannot be read, the step tries only the topic's oldest
/// held filing each turn (the same row is in the way of all of them): it takes the new
/// error, the later ones are left as they were, and another topic's filing goes through.
/// Once the row is repaired, all are filed, the oldest first.
async fn a_blocked_topics_filings_wait_in_their_order(backend: Option<String>) {
    let s = scenic_and_museum(&[FIRST, SECOND, MUSEUM, THIRD], &backend).await;
    let store = &s.daemon.store;
    let (second, third, museum) = (
        item_id(store, "t2").await,
        item_id(store, "t4").await,
        item_id(store, "t3").await,
    );
    assert!(second < third);
    held_back(
        store,
        &[(second, "scenic"), (third, "scenic"), (museum, "museum")],
    )
    .await;
    set_raw(store, "incidents", "severity", 1, "catastrophic").await;

    let e = s.daemon.housekeeping().await.expect_err("#1 is reported");
    assert_has!(format!("{e:#}"), "catastrophic");
    assert!(
        filed(store, museum, "museum").await,
        "another topic goes on"
    );
    let held = store.held_filings().await.unwrap();
    let errors: Vec<(i64, &str)> = held.iter().map(|h| (h.item_id, h.error.as_str())).collect();
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert_eq!(errors[0].0, second);
    assert_has!(errors[0].1, "incident #1 cannot be read");
    assert_eq!(
        errors[1],
        (third, "held by hand"),
        "not tried while the first waits"
    );

    set_raw(store, "incidents", "severity", 1, "major").await;
    s.daemon.housekeeping().await.expect("both filed");
    assert_eq!(store.held_filings().await.unwrap(), []);
    assert!(filed(store, second, "scenic").await && filed(store, third, "scenic").await);
}

backend_test!(an_incident_that_cannot_be_read_holds_back_only_its_topics_items);
/// An item of a topic whose incident this version cannot read (#1's severity) cannot be
/// filed: grouping reads the topic's incidents. It used to take its whole batch of items
/// with it, every poll, an item of another topic and its alert too; then it waited
/// unstored for the page to be read again, and was lost if it left the feed first. Now the
/// poll stores every item and files all it can; only that item's filing waits, named in
/// the source's state and `/healthz`, and the timed steps file it once the row is
/// repaired, although the feed no longer lists it.
async fn an_incident_that_cannot_be_read_holds_back_only_its_topics_items(backend: Option<String>) {
    let s = scenic_and_museum(&[FIRST], &backend).await;
    let d = &s.daemon;
    sqlx::query("UPDATE incidents SET severity = 'catastrophic' WHERE id = 1")
        .execute(d.store.pool())
        .await
        .unwrap();
    s.clock.advance(ChronoDuration::minutes(5));
    let museum: common::RssItem = (
        "某博物馆展品失窃 警方已介入",
        "https://news.example.cn/3",
        "t3",
        "Tue, 24 Nov 2026 09:04:00 +0800",
    );
    let weather: common::RssItem = (
        "今日天气晴好",
        "https://news.example.cn/4",
        "t4",
        "Tue, 24 Nov 2026 09:02:00 +0800",
    );
    let collapse: common::RssItem = (
        "某景区栈道坍塌 伤者已送医",
        "https://news.example.cn/2",
        "t2",
        "Tue, 24 Nov 2026 09:03:00 +0800",
    );
    s.http.set(
        "/news.xml",
        Response::rss(rss(&[museum, collapse, weather, FIRST])),
    );
    // The poll succeeds; the turn's timed steps try the filing again at once, and say
    // that it is still blocked.
    let e = format!("{:#}", d.poll_once(None).await.unwrap_err());
    assert_has!(e, "cannot file item 3 under topic scenic");
    let polled_at = s.clock.now().timestamp();
    let st = d.store.source_state("news").await.unwrap();
    assert_eq!(
        (st.last_success, st.failures),
        (Some(polled_at), 0),
        "{st:#?}"
    );
    // The other topic's item opened its incident, and its alert is queued (on PostgreSQL
    // the attempt taken back used up a number); every item is stored, the held one too.
    let topics = || async {
        let rows: Vec<(String,)> = sqlx::query_as("SELECT topic_id FROM incidents ORDER BY id")
            .fetch_all(d.store.pool())
            .await
            .unwrap();
        rows.into_iter().map(|(t,)| t).collect::<Vec<_>>()
    };
    assert_eq!(topics().await, ["scenic", "museum"]);
    let opened = common::mail(&d.store, "opened").await;
    assert_eq!(opened.len(), 2, "{opened:#?}");
    let stored = |link: &'static str| async move {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM items WHERE link = $1")
            .bind(link)
            .fetch_one(d.store.pool())
            .await
            .unwrap();
        n
    };
    assert_eq!(stored("https://news.example.cn/4").await, 1);
    assert_eq!(
        stored("https://news.example.cn/2").await,
        1,
        "stored, filing held"
    );
    assert_eq!(common::items_of(&d.store, 1).await.len(), 1);
    // The duty officers and the operators are told at once: until the row is repaired
    // the topic's items start no clock and alert nobody, so they must judge by hand.
    let told = || async { common::mail(&d.store, "filing_held").await };
    let mail = told().await;
    assert_eq!(mail.len(), 1, "{mail:#?}");
    assert_has!(
        mail[0].subject,
        "【舆情·暂未归入事件】景区安全（重大）：某景区栈道坍塌 伤者已送医"
    );
    for needle in [
        "https://news.example.cn/2",
        "命中词：",
        "请值班员人工研判",
        "incident #1 cannot be read",
    ] {
        assert_has!(mail[0].body_text, needle);
    }
    if std::env::var_os("SHOW_MAIL").is_some() {
        eprintln!(
            "{}\n{}\n{}",
            mail[0].recipients, mail[0].subject, mail[0].body_text
        );
    }
    // Retention keeps it like an incident's item: the two incidents' and the held one.
    let (_, kept) = d.store.prunable_items(i64::MAX).await.unwrap();
    assert_eq!(kept, 3);
    // The wait is the source's to show, not only the log's: since when and why, in its
    // state (the console's sources page) and in /healthz.
    let since = s.clock.now().timestamp();
    let held = |since: i64| async move {
        let st = d.store.source_state("news").await.unwrap();
        assert_eq!(st.held_since, Some(since), "{st:#?}");
        let error = st.held_error.clone().unwrap_or_default();
        // It names the row to repair, and says its reason once.
        assert_has!(
            error,
            "cannot file item 3 under topic scenic: incident #1 cannot be read"
        );
        assert_eq!(
            error.matches("unknown severity `catastrophic`").count(),
            1,
            "{error}"
        );
        let health = yuqing::daemon::metrics::store_health(&d.store)
            .await
            .expect("/healthz is not ok while a filing is held back");
        assert!(!health.is_ok());
        let text = health.to_string();
        for needle in ["items held back", "source `news`: ", "under topic scenic"] {
            assert_has!(text, needle);
        }
        assert_has!(text, &yuqing::vocab::clock::from_secs(since).to_rfc3339());
    };
    held(since).await;
    // The timed steps try it again: still blocked, held since the first time, and named.
    s.clock.advance(ChronoDuration::minutes(1));
    let e = format!("{:#}", d.housekeeping().await.unwrap_err());
    assert_has!(e, "under topic scenic");
    held(since).await;
    // The item leaves the feed before anyone repairs the row: it is not lost. Another
    // item of the topic waits with it, told in the mail already sent.
    let another: common::RssItem = (
        "某景区观景台坍塌 暂无人员受伤",
        "https://news.example.cn/5",
        "t5",
        "Tue, 24 Nov 2026 09:06:00 +0800",
    );
    s.http.set(
        "/news.xml",
        Response::rss(rss(&[another, museum, weather, FIRST])),
    );
    s.clock.advance(ChronoDuration::minutes(1));
    assert!(d.poll_once(None).await.is_err(), "still blocked");
    assert_eq!(
        told().await.len(),
        1,
        "told once for the topic, not each item or turn"
    );
    let st = d.store.source_state("news").await.unwrap();
    assert_eq!(st.last_count, Some(4), "{st:#?}");
    assert_eq!(d.store.held_back().await.unwrap()[0].filings, 2);
    held(since).await;

    sqlx::query("UPDATE incidents SET severity = 'major' WHERE id = 1")
        .execute(d.store.pool())
        .await
        .unwrap();
    s.clock.advance(ChronoDuration::minutes(1));
    d.housekeeping()
        .await
        .expect("the held filing goes through");
    let joined = common::items_of(&d.store, 1).await;
    let links: Vec<_> = joined
        .iter()
        .map(|i| i.link.as_deref().unwrap_or(""))
        .collect();
    assert_eq!(links.len(), 3, "{joined:#?}");
    assert!(links.contains(&"https://news.example.cn/2"), "{links:?}");
    assert!(links.contains(&"https://news.example.cn/5"), "{links:?}");
    assert_eq!(topics().await, ["scenic", "museum"]);
    // Filed: the hold is gone, and /healthz is well again.
    let st = d.store.source_state("news").await.unwrap();
    assert_eq!((st.held_since, st.held_error.as_deref()), (None, None));
    let health = yuqing::daemon::metrics::store_health(&d.store).await;
    assert!(health.is_none(), "{health:?}");
}

backend_test!(with_capture_all_an_unreadable_incident_holds_back_the_filing_not_the_page);
/// With `capture = "all"`, a page whose topic's incident this version cannot read (#1's
/// severity) used to fail its whole capture: nothing was kept, and the page was fetched
/// again every minute (a new WARC record each time) until the row was repaired. Now the
/// page is kept, only the filing waits (held, told at once), and the repair files it.
async fn with_capture_all_an_unreadable_incident_holds_back_the_filing_not_the_page(
    backend: Option<String>,
) {
    let (sc, when, (a, b)) = capturing_all(&backend).await;
    sc.http.set(
        "/p/a.html",
        article("某景区栈道坍塌", "某景区栈道今晨坍塌，现场已封闭。"),
    );
    sc.http.set(
        "/p/b.html",
        article(
            "周末出行注意安全",
            "据网友反映，某景区观景台昨晚坍塌，无人受伤。",
        ),
    );
    sc.http.set(
        "/news.xml",
        common::Response::rss(common::rss(&[("某景区栈道坍塌", &a, "ga", &when)])),
    );
    let d = &sc.daemon;
    d.poll_once(None).await.unwrap();
    d.keep_evidence(&gate()).await.unwrap();
    assert_eq!(
        d.store.incidents(true).await.unwrap().len(),
        1,
        "#1, by its title"
    );
    sqlx::query("UPDATE incidents SET severity = 'catastrophic' WHERE id = 1")
        .execute(d.store.pool())
        .await
        .unwrap();
    // An item whose title matches nothing, whose page matches the scenic topic.
    sc.http.set(
        "/news.xml",
        common::Response::rss(common::rss(&[
            ("某景区栈道坍塌", &a, "ga", &when),
            ("市民反映：周末出行注意安全", &b, "gb", &when),
        ])),
    );
    d.poll_once(None).await.unwrap();
    let (item,): (i64,) = sqlx::query_as("SELECT id FROM items WHERE guid = 'gb'")
        .fetch_one(d.store.pool())
        .await
        .unwrap();

    let done = d.keep_evidence(&gate()).await.unwrap();
    assert_eq!(done.len(), 1, "the capture is done, not let go: {done:?}");
    let kept = d
        .store
        .latest_evidence(item)
        .await
        .unwrap()
        .expect("the page is kept");
    assert_has!(kept.text.clone().unwrap_or_default(), "观景台昨晚坍塌");
    assert_eq!(
        d.store.evidence_backlog().await.unwrap().0,
        0,
        "nothing left to capture"
    );
    let held = d.store.held_filings().await.unwrap();
    assert_eq!(held.len(), 1, "{held:?}");
    assert_eq!(
        (held[0].item_id, held[0].topic_id.as_str()),
        (item, "scenic")
    );
    assert_has!(held[0].error, "incident #1 cannot be read");
    let told = common::mail(&d.store, "filing_held").await;
    assert_eq!(told.len(), 1, "told at once");
    assert_has!(told[0].subject, "周末出行注意安全");

    sqlx::query("UPDATE incidents SET severity = 'major' WHERE id = 1")
        .execute(d.store.pool())
        .await
        .unwrap();
    d.housekeeping()
        .await
        .expect("the held filing goes through");
    assert_eq!(d.store.held_filings().await.unwrap(), []);
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM incident_items WHERE item_id = $1")
        .bind(item)
        .fetch_one(d.store.pool())
        .await
        .unwrap();
    assert_eq!(n, 1, "filed once the row is repaired");
}

backend_test!(an_unreadable_incident_does_not_stop_the_recheck_of_its_items_page);
/// A recheck that finds the post deleted tells each incident holding the item. One of them
/// this version cannot read (#1's severity) used to fail the whole recheck: the deletion
/// was not recorded, the other incident's duty officer not told, and the page was fetched
/// again every minute. Now #1 is skipped and named in the log; the rest goes on.
async fn an_unreadable_incident_does_not_stop_the_recheck_of_its_items_page(
    backend: Option<String>,
) {
    let sc = common::scenario(TOPICS, &[], "", &backend).await;
    let when = common::pub_date(sc.clock.now());
    let link = sc.http.url("/p/1.html");
    // One item in two incidents: the scenic one (#1) and the fire's (#2).
    sc.http.set(
        "/news.xml",
        common::Response::rss(common::rss(&[(
            "某景区栈道坍塌 附近商铺起火",
            &link,
            "g1",
            &when,
        )])),
    );
    sc.http.set(
        "/p/1.html",
        article("某景区栈道坍塌", "某景区栈道坍塌，附近商铺随后起火。"),
    );
    let d = &sc.daemon;
    d.poll_once(None).await.unwrap();
    let incidents = d.store.incidents(true).await.unwrap();
    assert_eq!(incidents.len(), 2, "{incidents:?}");
    let done = d.keep_evidence(&gate()).await.unwrap();
    let item = done[0].0;
    let scenic = incidents
        .iter()
        .find(|i| i.topic_id == "scenic")
        .unwrap()
        .id
        .0;
    sqlx::query("UPDATE incidents SET severity = 'catastrophic' WHERE id = $1")
        .bind(scenic)
        .execute(d.store.pool())
        .await
        .unwrap();

    gone_at_the_recheck(&sc, item, chrono::Duration::minutes(31)).await;
    let e = d.store.latest_evidence(item).await.unwrap().unwrap();
    assert_eq!(e.state, yuqing::vocab::state::EvidenceState::Deleted);
    let told: Vec<Option<i64>> = common::mail(&d.store, "evidence_deleted")
        .await
        .iter()
        .map(|m| m.incident_id)
        .collect();
    let fire = incidents
        .iter()
        .find(|i| i.topic_id == "fire")
        .unwrap()
        .id
        .0;
    assert_eq!(
        told,
        [Some(fire)],
        "the readable incident's duty officer is told"
    );
}

backend_test!(a_command_that_meets_an_unreadable_item_says_which_and_why_once);
/// A command that reads an item whose stored tone this version does not know fails with an
/// error naming the item and its value, each cause said once. It used to print the decode
/// error's cause twice (`…: item 1: unknown tone …: item 1: unknown tone …`), since the
/// decode error's own text already ends with it.
async fn a_command_that_meets_an_unreadable_item_says_which_and_why_once(backend: Option<String>) {
    let s = scenic_and_museum(&[FIRST], &backend).await;
    let id = item_id(&s.daemon.store, FIRST.2).await;
    set_raw(&s.daemon.store, "items", "tone", id, "furious").await;
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_yuqing"))
        .args(["incident", "show", "1", "--config"])
        .arg(&s.config)
        .env("YUQING_NOW", s.clock.now().to_rfc3339())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_has!(stderr, &format!("item {id}: unknown tone `furious`"));
    assert_eq!(
        stderr.matches("unknown tone `furious`").count(),
        1,
        "{stderr}"
    );
}

backend_test!(an_item_that_cannot_be_read_holds_back_no_mail_of_its_incident);
/// Incident #1 holds two items; the second's stored tone is one this version does not
/// know. Every mail about #1 reads its items, and the first of them (nobody acknowledging
/// it, half an hour on) used to fail every turn: the leaders were never told. Now the item
/// is counted, not shown, and logged, and the mail goes out.
async fn an_item_that_cannot_be_read_holds_back_no_mail_of_its_incident(backend: Option<String>) {
    let joins: common::RssItem = (
        "某景区栈道坍塌事故 已有3人送医",
        "https://news.example.cn/3",
        "t3",
        "Tue, 24 Nov 2026 09:05:00 +0800",
    );
    let s = scenic_and_museum(&[FIRST, joins], &backend).await;
    let d = &s.daemon;
    let incidents = d.store.incidents(false).await.unwrap();
    assert_eq!(incidents.len(), 1, "{incidents:#?}");
    let items = d
        .store
        .incident_items(d.store.pool(), incidents[0].id)
        .await
        .unwrap();
    assert_eq!(items.len(), 2, "both items are #1's");
    set_raw(&d.store, "items", "tone", items[1].id, "furious").await;

    s.clock.advance(ChronoDuration::minutes(30));
    d.housekeeping()
        .await
        .expect("no step stops on the unreadable item");
    let told = common::mail(&d.store, "unacknowledged").await;
    assert_eq!(told.len(), 1, "the leaders are told #1 is unacknowledged");
    assert_has!(told[0].body_text, FIRST.0);
    // The duty officer's mail of the item that joined says it came and cannot be shown.
    let joined = common::mail(&d.store, "new_items").await;
    assert_eq!(joined.len(), 1, "{joined:#?}");
    assert_has!(joined[0].subject, "新增 1 条相关信息");
    assert_has!(
        joined[0].body_text,
        "另有 1 条无法读取（可能由较新版本写入），请联系运维修复"
    );
    assert!(
        !joined[0].body_text.contains(joins.0),
        "{}",
        joined[0].body_text
    );
}
