//! Several daemons on one PostgreSQL database share the work: three real `yuqing run`
//! processes, three loopback feeds, one loopback SMTP server. Each due source is fetched by
//! one daemon at a time, each mail arrives once, and when the daemon holding the
//! housekeeping lease is killed (-9) another fires its deadline mail within the lease time.
//!
//! Runs only when `YUQING_TEST_POSTGRES` names a server (SQLite is one host's file, where
//! one daemon is the deployment).

use crate::common;

use common::process::{self, Running};
use common::{rss, HttpServer, ReceivedMail, Response, SmtpServer, TempDirs};
use sqlx::Connection;
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

const WATCHLIST: &str = r#"
[[topic]]
id = "scenic"
name = "景区安全"
severity = "major"
any = ["踩踏", "坍塌"]
all = ["景区"]

[[topic]]
id = "food"
name = "食品安全"
severity = "major"
any = ["中毒"]
all = ["食堂"]

[[topic]]
id = "fire"
name = "厂房火灾"
severity = "major"
any = ["火灾"]
all = ["厂房"]
"#;

const LEASE_S: u64 = 3;
const EVERY_S: u64 = 2;
const FEEDS: [&str; 3] = ["/a.xml", "/b.xml", "/c.xml"];

struct Cluster {
    dirs: TempDirs,
    http: HttpServer,
    smtp: SmtpServer,
    config: PathBuf,
    db: String,
}

impl Cluster {
    async fn new(db: String) -> Cluster {
        let dirs = TempDirs::new();
        let http = HttpServer::start().await;
        let smtp = SmtpServer::start().await;
        for (i, path) in FEEDS.iter().enumerate() {
            // A slow answer widens the window in which two daemons could poll at once.
            http.set(path, feed(&[("文旅局发布周末出行提示", &format!("q-{i}"))]));
        }
        dirs.write("watchlists/w.toml", WATCHLIST);
        let sources: String = FEEDS
            .iter()
            .map(|p| {
                format!(
                    "[[source]]\nid = \"{id}\"\nname = \"站点{id}\"\nkind = \"feed\"\nurl = \"{url}\"\nevery = \"{EVERY_S}s\"\n\n",
                    id = &p[1..2],
                    url = http.url(p)
                )
            })
            .collect();
        let config = dirs.config(&format!(
            r#"database = "{db}"
tick = "200ms"
lease = "{LEASE_S}s"
host_delay = "200ms"

{mail}retry_min = "1s"

[people]
duty = ["值班员 <duty@example.gov.cn>"]
leaders = ["分管领导 <deputy@example.gov.cn>"]

[deadlines]
major_release = "6s"
major_press_conference = "1h"
release_reminders = []
press_conference_reminders = []

{sources}"#,
            mail = smtp.mail_section(),
        ));
        Cluster {
            dirs,
            http,
            smtp,
            config,
            db,
        }
    }

    fn start(&self, n: usize) -> Running {
        let log = self.dirs.root().join(format!("daemon-{n}.log"));
        process::run(self.dirs.root(), &self.config, &log)
    }

    async fn query_pairs(&self, sql: &str) -> Vec<(String, i64)> {
        let mut c = sqlx::PgConnection::connect(&self.db).await.unwrap();
        sqlx::query_as(sql).fetch_all(&mut c).await.unwrap()
    }

    async fn leader(&self) -> Option<(String, i64)> {
        self.query_pairs("SELECT holder, held_until FROM leases WHERE name = 'housekeeping'")
            .await
            .into_iter()
            .next()
    }

    /// Waits for the missed-release mail of the incident that `opened` announced (it
    /// answers that mail: one thread per incident).
    async fn breach_of(&self, opened: &ReceivedMail) -> ReceivedMail {
        let root = opened.message_id.clone();
        let found = self
            .smtp
            .wait_for(
                |m| m.subject.contains("发布权威信息时限已过") && m.in_reply_to == root,
                Duration::from_secs(20),
            )
            .await;
        found.unwrap_or_else(|| {
            panic!(
                "no breach mail for {}; got {:#?}",
                opened.subject,
                subjects(&self.smtp)
            )
        })
    }

    /// Waits for the mail whose subject has all of `needles`.
    async fn mail(&self, needles: &[&str], within: Duration) -> ReceivedMail {
        let found = self
            .smtp
            .wait_for(|m| needles.iter().all(|n| m.subject.contains(n)), within)
            .await;
        found.unwrap_or_else(|| {
            panic!(
                "no mail with {needles:?} within {within:?}; got {:#?}",
                subjects(&self.smtp)
            )
        })
    }
}

fn feed(items: &[(&str, &str)]) -> Response {
    let items: Vec<(&str, String, &str, &str)> = items
        .iter()
        .map(|(title, guid)| {
            (
                *title,
                format!("https://bbs.example.cn/{guid}.html"),
                *guid,
                "",
            )
        })
        .collect();
    let borrowed: Vec<common::RssItem<'_>> = items
        .iter()
        .map(|(t, l, g, d)| (*t, l.as_str(), *g, *d))
        .collect();
    Response::rss(rss(&borrowed)).delay(Duration::from_millis(300))
}

fn subjects(smtp: &SmtpServer) -> Vec<String> {
    smtp.messages().into_iter().map(|m| m.subject).collect()
}

fn pid_of(holder: &str) -> u32 {
    holder.rsplit(':').nth(1).unwrap().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_daemons_share_sources_and_mail_and_survive_losing_the_leader() {
    let Some(db) = common::db::fresh_postgres().await else {
        return common::db::skipped(
            "cluster::three_daemons_share_sources_and_mail_and_survive_losing_the_leader",
            common::db::NO_SERVER,
        );
    };
    let c = Cluster::new(db).await;
    let mut daemons: Vec<Running> = (0..3).map(|n| c.start(n)).collect();
    let pids: Vec<u32> = daemons.iter().map(|d| d.pid()).collect();

    // Two incidents, one of them reported by two sites (the same event in other words):
    // one incident for it, not two, though two daemons may read the two sites at once.
    tokio::time::sleep(Duration::from_secs(2)).await;
    c.http.set(
        "/a.xml",
        feed(&[
            ("某5A景区发生踩踏 多名游客受伤", "a-1"),
            ("文旅局发布周末出行提示", "q-0"),
        ]),
    );
    c.http
        .set("/b.xml", feed(&[("某中学食堂疑似集体中毒", "b-1")]));
    c.http.set(
        "/c.xml",
        feed(&[("某5A景区踩踏事件 多名游客受伤送医", "c-1")]),
    );
    let scenic = c
        .mail(&["【舆情·重大】", "景区安全"], Duration::from_secs(20))
        .await;
    let food = c
        .mail(&["【舆情·重大】", "食品安全"], Duration::from_secs(20))
        .await;
    c.breach_of(&scenic).await;
    c.breach_of(&food).await;

    // Kill -9 the daemon that fires deadlines, then let a third incident fall due.
    let (holder, _) = c
        .leader()
        .await
        .expect("someone holds the housekeeping lease");
    let victim = pids
        .iter()
        .position(|&p| p == pid_of(&holder))
        .unwrap_or_else(|| panic!("the lease holder {holder} is none of {pids:?}"));
    c.http.set(
        "/b.xml",
        feed(&[
            ("某厂房发生火灾 浓烟滚滚", "b-2"),
            ("某中学食堂疑似集体中毒", "b-1"),
        ]),
    );
    let opened = c
        .mail(&["【舆情·重大】", "厂房火灾"], Duration::from_secs(20))
        .await;
    // Not at the very moment the mail arrived: that is the sender's window between the
    // relay's acceptance and marking the row sent (see ARCHITECTURE.md); tests/faults.rs
    // covers kills there.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let killed_at = (Instant::now(), SystemTime::now());
    daemons[victim].kill9();
    eprintln!(
        "killed daemon {victim} (pid {}), the housekeeping leader",
        pids[victim]
    );

    // Another daemon holds the lease within the lease time, and fires the deadline once.
    let took_over = loop {
        if let Some((h, _)) = c.leader().await {
            if h != holder && pids.contains(&pid_of(&h)) {
                break killed_at.0.elapsed();
            }
        }
        assert!(
            killed_at.0.elapsed() < Duration::from_secs(LEASE_S + 3),
            "no daemon took the housekeeping lease over within {LEASE_S}s (+3s slack)"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    eprintln!("housekeeping taken over after {took_over:?}");
    let breach = c.breach_of(&opened).await;
    let late = breach_delay(&breach, &opened);
    assert!(
        late <= Duration::from_secs(6 + LEASE_S + 3),
        "the breach came {late:?} after the opening mail; deadline 6s, lease {LEASE_S}s"
    );

    // Let the survivors run a few poll intervals, then stop them cleanly.
    tokio::time::sleep(Duration::from_secs(3 * EVERY_S)).await;
    for d in daemons.iter_mut() {
        d.terminate();
    }

    // Each mail exactly once: by Message-ID, and by what it says to whom.
    let got = c.smtp.messages();
    let mut by_id: HashMap<String, usize> = HashMap::new();
    let mut by_content: HashMap<(String, Vec<String>), usize> = HashMap::new();
    for m in &got {
        *by_id
            .entry(m.message_id.clone().expect("Message-ID"))
            .or_default() += 1;
        *by_content
            .entry((m.subject.clone(), m.to.clone()))
            .or_default() += 1;
    }
    assert!(
        by_id.values().all(|&n| n == 1),
        "a Message-ID arrived twice: {by_id:?}"
    );
    assert!(
        by_content.values().all(|&n| n == 1),
        "a mail arrived twice: {by_content:#?}"
    );
    for topic in ["景区安全", "食品安全", "厂房火灾"] {
        let opening: Vec<&ReceivedMail> = got
            .iter()
            .filter(|m| m.subject.contains("【舆情·重大】") && m.subject.contains(topic))
            .collect();
        assert_eq!(opening.len(), 1, "{topic}: {:#?}", subjects(&c.smtp));
        let breaches = got
            .iter()
            .filter(|m| m.subject.contains("发布权威信息时限已过"))
            .filter(|m| m.in_reply_to == opening[0].message_id)
            .count();
        assert_eq!(breaches, 1, "{topic}: {:#?}", subjects(&c.smtp));
    }
    assert_eq!(got.len(), 6, "{:#?}", subjects(&c.smtp));
    let queued = c
        .query_pairs(
            "SELECT message_id, COUNT(*) FROM outbox WHERE sent_at IS NOT NULL GROUP BY message_id",
        )
        .await;
    assert_eq!(
        queued.len(),
        got.len(),
        "every sent row arrived, nothing else did"
    );
    let unsent = c
        .query_pairs("SELECT message_id, id FROM outbox WHERE sent_at IS NULL")
        .await;
    assert!(unsent.is_empty(), "mail left unsent: {unsent:?}");

    // One incident per topic although two sites reported the scenic one.
    let incidents = c
        .query_pairs("SELECT topic_id, COUNT(*) FROM incidents GROUP BY topic_id ORDER BY topic_id")
        .await;
    assert_eq!(
        incidents,
        [
            ("fire".to_string(), 1),
            ("food".to_string(), 1),
            ("scenic".to_string(), 1)
        ]
    );
    let items: BTreeMap<String, i64> = c
        .query_pairs("SELECT guid, COUNT(*) FROM items GROUP BY guid")
        .await
        .into_iter()
        .collect();
    for guid in ["a-1", "b-1", "b-2", "c-1"] {
        assert_eq!(items.get(guid), Some(&1), "{guid} stored once: {items:?}");
    }

    // No source was fetched twice in one interval: consecutive fetches of a feed are at
    // least (almost) an interval apart, and the killed daemon's feeds kept being fetched.
    for path in FEEDS {
        let times: Vec<SystemTime> = c.http.requests(path).iter().map(|r| r.at).collect();
        let gaps: Vec<Duration> = times
            .windows(2)
            .map(|w| w[1].duration_since(w[0]).unwrap_or_default())
            .collect();
        let min = gaps.iter().min().copied().unwrap_or_default();
        assert!(
            min >= Duration::from_millis(900),
            "{path} was fetched twice within {min:?} (every {EVERY_S}s): {gaps:?}"
        );
        let after_kill: Vec<&SystemTime> = times.iter().filter(|t| **t > killed_at.1).collect();
        assert!(
            after_kill.len() >= 2,
            "{path} was not polled after the kill: {gaps:?}"
        );
        let max = gaps.iter().max().copied().unwrap_or_default();
        assert!(
            max <= Duration::from_secs(EVERY_S + LEASE_S + 3),
            "{path} went unpolled for {max:?}: {gaps:?}"
        );
    }

    // The work was shared: more than one daemon polled, each named in its own log.
    let mut polls: BTreeMap<usize, usize> = BTreeMap::new();
    for (n, d) in daemons.iter().enumerate() {
        let log = d.log_text();
        assert!(
            log.contains("yuqing running") && log.contains(&format!(":{}:", pids[n])),
            "daemon {n} logs its identity:\n{log}"
        );
        polls.insert(n, log.lines().filter(|l| l.contains(" polled")).count());
    }
    eprintln!("polls per daemon: {polls:?}");
    assert!(
        polls.values().filter(|&&n| n > 0).count() >= 2,
        "one daemon did all the polling: {polls:?}"
    );
}

/// How long after the opening mail's Date the breach was sent (both on the daemon clock).
fn breach_delay(breach: &ReceivedMail, opened: &ReceivedMail) -> Duration {
    // The Date header is the outbox row's creation time: when the mail was queued.
    let at = |m: &ReceivedMail| {
        chrono::DateTime::parse_from_rfc2822(m.header("Date").expect("Date header"))
            .expect("Date parses")
            .timestamp()
    };
    Duration::from_secs((at(breach) - at(opened)).max(0) as u64)
}

/// Two daemons polling two sites that report the same event at the same moment open one
/// incident, not two: write transactions take one lock row first on PostgreSQL too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_daemons_reading_one_event_on_two_sites_open_one_incident() {
    let Some(db) = common::db::fresh_postgres().await else {
        return common::db::skipped(
            "cluster::two_daemons_reading_one_event_on_two_sites_open_one_incident",
            common::db::NO_SERVER,
        );
    };
    const KEYWORDS: [&str; 8] = [
        "踩踏", "坍塌", "落水", "火灾", "中毒", "爆炸", "停电", "塌方",
    ];
    let dirs = TempDirs::new();
    let http = HttpServer::start().await;
    let topics: String = KEYWORDS
        .iter()
        .enumerate()
        .map(|(i, k)| {
            format!("[[topic]]\nid = \"k{i}\"\nname = \"专题{i}\"\nseverity = \"major\"\nany = [\"{k}\"]\nall = [\"景区\"]\n\n")
        })
        .collect();
    dirs.write("watchlists/w.toml", topics);
    let config = dirs.config(&format!(
        "database = \"{db}\"\n\n\
             [[source]]\nid = \"a\"\nkind = \"feed\"\nurl = \"{a}\"\n\n\
             [[source]]\nid = \"b\"\nkind = \"feed\"\nurl = \"{b}\"\n",
        a = http.url("/a.xml"),
        b = http.url("/b.xml"),
    ));
    let clock = yuqing::vocab::clock::ManualClock::new(chrono::Utc::now());
    let (one, two) = (
        common::start(&config, &clock).await,
        common::start(&config, &clock).await,
    );
    for (round, k) in KEYWORDS.iter().enumerate() {
        for site in ["a", "b"] {
            let guid = format!("{site}-{round}");
            http.set(
                &format!("/{site}.xml"),
                feed(&[(&format!("景区{k} 第{round}起 {site}站报道"), &guid)]),
            );
        }
        let (x, y) = tokio::join!(one.poll_once(Some("a")), two.poll_once(Some("b")));
        x.unwrap();
        y.unwrap();
    }
    let mut c = sqlx::PgConnection::connect(&db).await.unwrap();
    let per_topic: Vec<(String, i64)> = sqlx::query_as(
        "SELECT topic_id, COUNT(*) FROM incidents GROUP BY topic_id ORDER BY topic_id",
    )
    .fetch_all(&mut c)
    .await
    .unwrap();
    assert_eq!(per_topic.len(), KEYWORDS.len(), "{per_topic:?}");
    assert!(
        per_topic.iter().all(|(_, n)| *n == 1),
        "a duplicate incident: {per_topic:?}"
    );
}
