//! The authoritative release, detected on the agency's own channel: a post that matches an
//! incident awaiting its release is proposed to the duty officer once, who confirms it
//! with `yuqing incident release ID` (the real binary); the release then counts at the
//! post's own time and its reminders stop. With `auto_confirm_release` the daemon records
//! it by itself. Feeds are real RSS on loopback, time is a manual clock, on SQLite and
//! PostgreSQL.

use crate::common;
use yuqing::vocab::ids::IncidentId;

use chrono::{DateTime, Duration, TimeZone, Utc};
use chrono_tz::Asia::Shanghai;
use common::{rss, scenario, Response, Scenario, SCENIC_MAJOR};
use std::process::Command;
use yuqing::store::OutboxRow;
use yuqing::vocab::clock::Clock;

const NEWS_LINK: &str = "https://bbs.example.cn/t/1";
const NOTICE_LINK: &str = "https://www.example.gov.cn/notice/1";

fn utc(h: u32, m: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, h, m, 0).unwrap()
}

fn rfc2822(t: DateTime<Utc>) -> String {
    t.with_timezone(&Shanghai).to_rfc2822()
}

/// A city bureau watching a forum feed and its own Weibo account, with one major incident
/// opened at 01:00 UTC (09:00 in Shanghai) and its release due at 06:00 UTC.
async fn bureau(backend: &Option<String>, auto: bool) -> Scenario {
    bureau_watching(backend, auto, SCENIC_MAJOR).await
}

/// [`bureau`] with its own watchlist.
async fn bureau_watching(backend: &Option<String>, auto: bool, watchlist: &str) -> Scenario {
    let opened = rfc2822(utc(1, 0));
    let news = [(
        "某景区栈道坍塌 多名游客受伤",
        NEWS_LINK,
        "n1",
        opened.as_str(),
    )];
    let s = scenario(SCENIC_MAJOR, &news, "", backend).await;
    // The channel is listed after `scenario` wrote the config: it needs the server's URL.
    let before = rfc2822(utc(0, 0) - Duration::days(1));
    s.http.set(
        "/own.xml",
        Response::rss(rss(&[
            // About the topic, but from before the incident: not its release.
            (
                "关于开展景区坍塌隐患排查的通知",
                "https://www.example.gov.cn/old/9",
                "o9",
                before.as_str(),
            ),
            (
                "冬季文旅消费季启动",
                "https://www.example.gov.cn/old/8",
                "o8",
                before.as_str(),
            ),
        ])),
    );
    let config = std::fs::read_to_string(&s.config).unwrap();
    std::fs::write(
        &s.config,
        format!(
            "{config}\n[[channel]]\nid = \"weibo-wenlv\"\nname = \"银川文旅微博\"\nkind = \"weibo\"\n\
             feed = \"{feed}\"\nowner = \"新媒体科 <media@example.gov.cn>\"\nduty = \"weekly\"\n\n\
             [people]\nduty = [\"值班员 <duty@example.gov.cn>\"]\n\n\
             [deadlines]\nauto_confirm_release = {auto}\n\n\
             [jobs]\nweekly_report = \"off\"\nledger = \"off\"\nwork_report_reminder = \"off\"\n",
            feed = s.http.url("/own.xml"),
        ),
    )
    .unwrap();
    // The watchlist too may name the channel, now that the config defines it.
    s.dirs.write("watchlists/w.toml", watchlist);
    let daemon = common::start(&s.config, &s.clock).await;
    Scenario { daemon, ..s }
}

/// The bureau's notice on the incident, published at 02:30 UTC.
fn publish_notice(s: &Scenario) {
    let at = rfc2822(utc(2, 30));
    let old = rfc2822(utc(0, 0) - Duration::days(1));
    s.http.set(
        "/own.xml",
        Response::rss(rss(&[
            (
                "关于某景区栈道坍塌事件的情况通报",
                NOTICE_LINK,
                "o10",
                at.as_str(),
            ),
            (
                "关于开展景区坍塌隐患排查的通知",
                "https://www.example.gov.cn/old/9",
                "o9",
                old.as_str(),
            ),
        ])),
    );
}

async fn mails(s: &Scenario, kind: &str) -> Vec<OutboxRow> {
    let all = s.daemon.store.outbox().await.unwrap();
    all.into_iter().filter(|m| m.kind == kind).collect()
}

async fn poll(s: &Scenario) {
    for (id, r) in s.daemon.poll_once(None).await.unwrap() {
        r.unwrap_or_else(|e| panic!("{id}: {e}"));
    }
}

async fn release_deadline(s: &Scenario) -> yuqing::store::DeadlineRow {
    let store = &s.daemon.store;
    let all = store
        .deadlines_of(store.pool(), IncidentId(1))
        .await
        .unwrap();
    all.into_iter().find(|d| d.kind == "release").unwrap()
}

backend_test!(the_duty_officer_confirms_a_release_found_on_the_own_weibo);
async fn the_duty_officer_confirms_a_release_found_on_the_own_weibo(backend: Option<String>) {
    let s = bureau(&backend, false).await;
    poll(&s).await;
    assert_eq!(mails(&s, "opened").await.len(), 1, "the incident opened");
    assert!(
        mails(&s, "release_candidate").await.is_empty(),
        "an old notice on the topic, from before the incident, is not its release"
    );

    s.clock.set(utc(3, 0));
    publish_notice(&s);
    poll(&s).await;
    poll(&s).await; // polled again: still proposed once
    let proposed = mails(&s, "release_candidate").await;
    assert_eq!(proposed.len(), 1, "one proposal for one post");
    let m = &proposed[0];
    assert_eq!(m.incident_id, Some(1));
    assert_has!(m.recipients, "duty@example.gov.cn");
    assert_has!(m.subject, "疑似发布");
    assert_has!(m.subject, "关于某景区栈道坍塌事件的情况通报");
    assert_has!(m.body_text, "银川文旅微博");
    assert!(
        m.body_text
            .contains(&format!("yuqing incident release 1 --url {NOTICE_LINK}")),
        "the mail gives the command that confirms it:\n{}",
        m.body_text
    );
    assert!(
        m.in_reply_to.is_some(),
        "in the incident's thread: {:?}",
        m.in_reply_to
    );
    assert_eq!(
        release_deadline(&s).await.met_at,
        None,
        "not recorded before the duty officer confirms"
    );

    // The duty officer confirms with the real binary, without retyping the link.
    let stdout = common::process::stdout_of(
        Command::new(env!("CARGO_BIN_EXE_yuqing"))
            .args(["incident", "release", "1", "--config"])
            .arg(&s.config)
            .args(["--by", "张值班"]),
    );
    assert_has!(stdout, "已记录发布权威信息");
    let d = release_deadline(&s).await;
    assert_eq!(
        d.met_at,
        Some(utc(2, 30).timestamp()),
        "met when the notice was published, not when it was confirmed"
    );
    assert_eq!(d.met_by.as_deref(), Some("张值班"));
    assert_eq!(d.evidence.as_deref(), Some(NOTICE_LINK));
    let shown = Command::new(env!("CARGO_BIN_EXE_yuqing"))
        .args(["incident", "show", "1", "--config"])
        .arg(&s.config)
        .output()
        .unwrap();
    let shown = String::from_utf8_lossy(&shown.stdout);
    assert!(
        shown.contains(NOTICE_LINK) && shown.contains("（已确认）"),
        "{shown}"
    );

    // Past every release reminder and the deadline itself: nothing more about the release.
    s.clock.set(utc(6, 30));
    s.daemon.housekeeping().await.unwrap();
    assert!(mails(&s, "reminder").await.is_empty(), "reminders stopped");
    assert!(mails(&s, "breach").await.is_empty(), "no escalation");
    assert_eq!(s.clock.now(), utc(6, 30));
}

backend_test!(with_auto_confirm_the_daemon_records_the_release_itself);
async fn with_auto_confirm_the_daemon_records_the_release_itself(backend: Option<String>) {
    let s = bureau(&backend, true).await;
    poll(&s).await;
    s.clock.set(utc(3, 0));
    publish_notice(&s);
    poll(&s).await;
    let d = release_deadline(&s).await;
    assert_eq!(d.met_at, Some(utc(2, 30).timestamp()));
    assert_eq!(d.met_by.as_deref(), Some("yuqing (channel weibo-wenlv)"));
    let store = &s.daemon.store;
    let incident = common::incident(store, 1).await;
    assert_eq!(incident.status, "released");
    let told = mails(&s, "release_candidate").await;
    assert_eq!(told.len(), 1);
    assert_has!(told[0].subject, "已发布");
    assert_has!(told[0].body_text, "已按配置自动记录为权威信息发布");
    s.clock.set(utc(6, 30));
    s.daemon.housekeeping().await.unwrap();
    assert!(mails(&s, "reminder").await.is_empty(), "reminders stopped");
    assert!(mails(&s, "breach").await.is_empty(), "no escalation");
}

backend_test!(an_incident_that_cannot_be_read_keeps_no_other_from_its_release);
/// Release matching reads the active incidents; one this version cannot read (a severity
/// written by a newer version) is left out and logged, and the post is still proposed as
/// the release of the incident it is about. Before, the one row failed the whole matching
/// and no release was found on any channel until it was repaired.
async fn an_incident_that_cannot_be_read_keeps_no_other_from_its_release(backend: Option<String>) {
    let watchlist = format!(
        "{SCENIC_MAJOR}\n[[topic]]\nid = \"museum\"\nname = \"博物馆安全\"\nseverity = \"major\"\nany = [\"失窃\"]\nall = [\"博物馆\"]\n"
    );
    let s = bureau_watching(&backend, false, &watchlist).await;
    let opened = rfc2822(utc(1, 0));
    s.http.set(
        "/news.xml",
        Response::rss(rss(&[
            (
                "某景区栈道坍塌 多名游客受伤",
                NEWS_LINK,
                "n1",
                opened.as_str(),
            ),
            (
                "某博物馆文物失窃",
                "https://bbs.example.cn/t/2",
                "n2",
                opened.as_str(),
            ),
        ])),
    );
    poll(&s).await;
    let store = &s.daemon.store;
    let incidents = store.incidents(false).await.unwrap();
    let id_of = |topic: &str| {
        incidents
            .iter()
            .find(|i| i.topic_id.as_str() == topic)
            .unwrap_or_else(|| panic!("an incident of {topic}: {incidents:#?}"))
            .id
    };
    let (scenic, museum) = (id_of("scenic"), id_of("museum"));
    sqlx::query("UPDATE incidents SET severity = 'catastrophic' WHERE id = $1")
        .bind(museum.0)
        .execute(store.pool())
        .await
        .unwrap();

    s.clock.set(utc(3, 0));
    publish_notice(&s);
    // The polls run first; the turn's timed steps then report the row they stop on (the
    // museum incident is unacknowledged past its hour).
    let e = s.daemon.poll_once(None).await.unwrap_err();
    assert_has!(format!("{e:#}"), "unknown severity `catastrophic`");
    let proposed = mails(&s, "release_candidate").await;
    assert_eq!(proposed.len(), 1, "{proposed:#?}");
    assert_eq!(proposed[0].incident_id, Some(scenic.0));
    assert_has!(proposed[0].subject, "关于某景区栈道坍塌事件的情况通报");
}

#[tokio::test]
async fn without_a_detected_release_the_cli_asks_for_the_url() {
    let s = bureau(&None, false).await;
    poll(&s).await;
    let out = Command::new(env!("CARGO_BIN_EXE_yuqing"))
        .args(["incident", "release", "1", "--config"])
        .arg(&s.config)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no detected release") && err.contains("--url"),
        "{err}"
    );
    assert_eq!(release_deadline(&s).await.met_at, None);
}

backend_test!(a_release_published_before_the_opinion_was_detected_is_found_when_it_opens);
async fn a_release_published_before_the_opinion_was_detected_is_found_when_it_opens(
    backend: Option<String>,
) {
    let s = bureau(&backend, false).await;
    // The forum post (01:00) is not in the feed yet; the bureau's notice (02:30) is.
    s.http.set("/news.xml", Response::rss(rss(&[])));
    publish_notice(&s);
    s.clock.set(utc(3, 0));
    poll(&s).await;
    assert!(mails(&s, "opened").await.is_empty());
    assert!(mails(&s, "release_candidate").await.is_empty());

    // The forum post shows up later; the incident's clock starts at its 01:00.
    let opened = rfc2822(utc(1, 0));
    s.http.set(
        "/news.xml",
        Response::rss(rss(&[(
            "某景区栈道坍塌 多名游客受伤",
            NEWS_LINK,
            "n1",
            opened.as_str(),
        )])),
    );
    s.clock.set(utc(3, 30));
    poll(&s).await;
    assert_eq!(mails(&s, "opened").await.len(), 1);
    let proposed = mails(&s, "release_candidate").await;
    assert_eq!(proposed.len(), 1, "the notice already out is proposed");
    assert_has!(proposed[0].body_text, NOTICE_LINK);
    poll(&s).await;
    assert_eq!(mails(&s, "release_candidate").await.len(), 1, "once");
}

/// Issue 28: a topic restricted to some sources takes an own post as its release only when
/// it lists that channel too. An own-site post once matched the 12345 topic by one word and
/// was offered (and, with `auto_confirm_release`, would have been recorded) as the reply to
/// an unrelated complaint.
#[tokio::test]
async fn a_topic_restricted_to_sources_takes_a_release_only_from_a_channel_it_lists() {
    let only_news = format!("{SCENIC_MAJOR}sources = [\"news\"]\n");
    let s = bureau_watching(&None, true, &only_news).await;
    poll(&s).await;
    assert_eq!(mails(&s, "opened").await.len(), 1, "the incident opened");
    s.clock.set(utc(3, 0));
    publish_notice(&s);
    poll(&s).await;
    assert!(
        mails(&s, "release_candidate").await.is_empty(),
        "the own Weibo is not among the topic's sources"
    );
    assert_eq!(release_deadline(&s).await.met_at, None, "nothing recorded");

    let listed = format!("{SCENIC_MAJOR}sources = [\"news\", \"weibo-wenlv\"]\n");
    let s = bureau_watching(&None, false, &listed).await;
    poll(&s).await;
    s.clock.set(utc(3, 0));
    publish_notice(&s);
    poll(&s).await;
    assert_eq!(mails(&s, "release_candidate").await.len(), 1);
}
