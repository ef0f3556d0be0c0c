//! Faults the daemon survives, each shown with real parts: `kill -9` at random points while
//! incidents open and deadlines pass, SIGTERM in the middle of a slow poll, a long SMTP
//! outage (manual clock), a SQLite database locked by another process, and a full disk
//! under the mail folder or the database.

use crate::common;

use chrono::Duration as ChronoDuration;
use common::process::{self, Running};
use common::{rss, HttpServer, ReceivedMail, Response, SmtpServer, TempDirs};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};
use yuqing::store::Store;

/// Keywords of the topics `k0`, `k1`, …: an item titled `景区<keyword>` opens the topic.
const KEYWORDS: [&str; 8] = [
    "踩踏", "坍塌", "落水", "火灾", "中毒", "爆炸", "停电", "塌方",
];

fn watchlist() -> String {
    KEYWORDS
        .iter()
        .enumerate()
        .map(|(i, k)| {
            format!(
                "[[topic]]\nid = \"k{i}\"\nname = \"专题{i}\"\nseverity = \"major\"\nany = [\"{k}\"]\nall = [\"景区\"]\n\n"
            )
        })
        .collect()
}

/// A small deterministic generator (xorshift64*): the seed is printed, so a failing
/// round can be replayed with `YUQING_FAULT_SEED`.
struct Rng(u64);

impl Rng {
    fn from_env() -> Rng {
        let seed = std::env::var("YUQING_FAULT_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                SystemTime::now()
                    .duration_since(SystemTime::UNIX_EPOCH)
                    .unwrap()
                    .as_nanos() as u64
            });
        eprintln!("fault seed: YUQING_FAULT_SEED={seed}");
        Rng(seed | 1)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n
    }
}

/// A deployment of the real binary: feeds `/a.xml` and `/b.xml` (every second), SMTP on
/// loopback, deadlines of seconds.
struct Site {
    dirs: TempDirs,
    http: HttpServer,
    smtp: SmtpServer,
    config: PathBuf,
    database: String,
}

impl Site {
    async fn new(backend: &Option<String>, extra_daemon: &str) -> Site {
        let dirs = TempDirs::new();
        let http = HttpServer::start().await;
        let smtp = SmtpServer::start().await;
        for p in ["/a.xml", "/b.xml"] {
            http.set(p, Response::rss(rss(&[])));
        }
        dirs.write("watchlists/w.toml", watchlist());
        let config = dirs.config(&format!(
            r#"tick = "200ms"
lease = "2s"
host_delay = "200ms"
{db}{extra_daemon}

[mail]
transport = "smtp"
from = "舆情值班 <yuqing@example.gov.cn>"
smtp = {{ host = "127.0.0.1", port = {port}, tls = "none", timeout = "2s" }}
retry_min = "1s"
retry_max = "2s"

[people]
duty = ["值班员 <duty@example.gov.cn>"]
leaders = ["分管领导 <deputy@example.gov.cn>"]

[deadlines]
major_release = "4s"
major_press_conference = "1h"
release_reminders = []
press_conference_reminders = []

[[source]]
id = "a"
kind = "feed"
url = "{a}"
every = "1s"

[[source]]
id = "b"
kind = "feed"
url = "{b}"
every = "1s"
"#,
            db = common::db::config_line(backend),
            port = smtp.port(),
            a = http.url("/a.xml"),
            b = http.url("/b.xml"),
        ));
        let database = backend.clone().unwrap_or_else(|| dirs.database_url());
        Site {
            dirs,
            http,
            smtp,
            config,
            database,
        }
    }

    fn log(&self) -> PathBuf {
        self.dirs.root().join("yuqing.log")
    }

    fn start(&self) -> Running {
        process::run(self.dirs.root(), &self.config, &self.log())
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(self.log()).unwrap_or_default()
    }

    /// Waits until the daemon logged `needle` (counting from `after` occurrences).
    async fn wait_log(&self, needle: &str, after: usize, within: Duration) {
        let start = Instant::now();
        while self.log_text().matches(needle).count() <= after {
            assert!(
                start.elapsed() < within,
                "the daemon did not log {needle:?} within {within:?}:\n{}",
                self.log_text()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

async fn pairs(store: &Store, sql: &str) -> Vec<(String, i64)> {
    sqlx::query_as(sql)
        .fetch_all(store.pool())
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

fn feed_of(items: &[(String, String)]) -> Response {
    let full: Vec<(String, String, String)> = items
        .iter()
        .map(|(title, guid)| {
            (
                title.clone(),
                format!("https://bbs.example.cn/{guid}.html"),
                guid.clone(),
            )
        })
        .collect();
    let borrowed: Vec<common::RssItem<'_>> = full
        .iter()
        .rev()
        .map(|(t, l, g)| (t.as_str(), l.as_str(), g.as_str(), ""))
        .collect();
    Response::rss(rss(&borrowed))
}

backend_test!(
    kill_9_at_random_points_loses_no_item_and_sends_each_mail_once,
    multi_thread
);
async fn kill_9_at_random_points_loses_no_item_and_sends_each_mail_once(backend: Option<String>) {
    const ROUNDS: usize = 6;
    let mut rng = Rng::from_env();
    let site = Site::new(&backend, "").await;
    let mut feeds: [Vec<(String, String)>; 2] = [Vec::new(), Vec::new()];
    let mut guids = Vec::new();
    // Messages a killed daemon held (claimed, not marked sent) when it died, with how many
    // kills found them so: the only ones that may reach the relay more than once, with one
    // Message-ID (the sender's honest window: one more copy at most for each such kill).
    let mut in_flight: HashMap<String, usize> = HashMap::new();
    let mut store: Option<Store> = None;

    for round in 0..ROUNDS {
        let mut daemon = site.start();
        // Each round a new incident, and a second report of the previous round's event
        // (the same words and more: the same event, so it joins that incident).
        let f = round % 2;
        let guid = format!("r{round}");
        feeds[f].push((
            format!("景区{}事件 第{round}轮", KEYWORDS[round]),
            guid.clone(),
        ));
        guids.push(guid);
        if round > 0 {
            let guid = format!("r{round}-join");
            feeds[1 - f].push((
                format!("景区{}事件 第{}轮 后续报道", KEYWORDS[round - 1], round - 1),
                guid.clone(),
            ));
            guids.push(guid);
        }
        // Slow answers, so that many kills land in the middle of a poll.
        let slow = Duration::from_millis(400);
        site.http.set("/a.xml", feed_of(&feeds[0]).delay(slow));
        site.http.set("/b.xml", feed_of(&feeds[1]).delay(slow));
        let wait = 200 + rng.below(2800);
        tokio::time::sleep(Duration::from_millis(wait)).await;
        let pid = daemon.pid();
        daemon.kill9();
        let s = match &store {
            Some(s) => s,
            None => store.insert(Store::open(&site.database).await.expect("open the store")),
        };
        let held = pairs(
            s,
            &format!(
                "SELECT message_id, id FROM outbox WHERE sent_at IS NULL AND lease_holder LIKE '%:{pid}:%'"
            ),
        )
        .await;
        eprintln!("round {round}: killed after {wait}ms; sending at the kill: {held:?}");
        for (m, _) in held {
            *in_flight.entry(m).or_default() += 1;
        }
    }

    // The last start runs until every deadline has fired and the outbox is empty.
    let mut daemon = site.start();
    let store = store.expect("store");
    let start = Instant::now();
    loop {
        let breached = pairs(
            &store,
            "SELECT kind, COUNT(*) FROM outbox WHERE kind = 'breached' GROUP BY kind",
        )
        .await;
        let unsent = pairs(
            &store,
            "SELECT kind, COUNT(*) FROM outbox WHERE sent_at IS NULL GROUP BY kind",
        )
        .await;
        if breached.first().map_or(0, |(_, n)| *n) >= ROUNDS as i64 && unsent.is_empty() {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(40),
            "mail still due after 40s: breached {breached:?}, unsent {unsent:?}\n{}",
            site.log_text()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(daemon.terminate().is_some_and(|s| s.success()));

    // No item lost, none stored twice; one incident per topic.
    let items: BTreeMap<String, i64> =
        pairs(&store, "SELECT guid, COUNT(*) FROM items GROUP BY guid")
            .await
            .into_iter()
            .collect();
    for g in &guids {
        assert_eq!(items.get(g), Some(&1), "item {g}: {items:?}");
    }
    let incidents = pairs(
        &store,
        "SELECT topic_id, COUNT(*) FROM incidents GROUP BY topic_id",
    )
    .await;
    assert_eq!(incidents.len(), ROUNDS, "{incidents:?}");
    assert!(
        incidents.iter().all(|(_, n)| *n == 1),
        "a duplicate incident: {incidents:?}"
    );
    let joined = pairs(
        &store,
        "SELECT CAST(incident_id AS TEXT), COUNT(*) FROM incident_items GROUP BY incident_id",
    )
    .await;
    assert_eq!(
        joined.iter().map(|(_, n)| n).sum::<i64>() as usize,
        guids.len(),
        "every report is in its incident: {joined:?}"
    );

    // Each incident: one opening mail and one missed-release mail queued…
    let kinds = pairs(
        &store,
        "SELECT kind || ' ' || CAST(incident_id AS TEXT), COUNT(*) FROM outbox \
         WHERE kind IN ('opened', 'breached') GROUP BY kind, incident_id",
    )
    .await;
    assert_eq!(kinds.len(), 2 * ROUNDS, "{kinds:?}");
    assert!(
        kinds.iter().all(|(_, n)| *n == 1),
        "queued twice: {kinds:?}"
    );

    // …and every queued message arrived once, with its own subject; only a message the
    // killed daemon was sending at the kill may have arrived twice, as the same message.
    let rows = store.outbox().await.unwrap();
    let got = site.smtp.messages();
    let mut by_id: HashMap<String, Vec<&ReceivedMail>> = HashMap::new();
    for m in &got {
        by_id
            .entry(m.message_id.clone().expect("Message-ID"))
            .or_default()
            .push(m);
    }
    for row in &rows {
        let copies = by_id.remove(&row.message_id).unwrap_or_default();
        assert!(
            !copies.is_empty(),
            "{} ({}) never arrived",
            row.subject,
            row.kind
        );
        // The same message: subject, recipients and text (MIME boundaries differ).
        for m in &copies {
            assert_eq!(m.subject, row.subject);
            assert_eq!((&m.to, &m.text), (&copies[0].to, &copies[0].text));
        }
        if copies.len() > 1 {
            let kills = in_flight.get(&row.message_id).copied().unwrap_or(0);
            assert!(
                copies.len() <= 1 + kills,
                "{} arrived {} times but was being sent at {kills} kill(s)",
                row.subject,
                copies.len()
            );
            eprintln!(
                "resent after a kill mid-send (same Message-ID): {}",
                row.subject
            );
        }
    }
    assert!(by_id.is_empty(), "mail nobody queued: {:?}", by_id.keys());
}

backend_test!(sigterm_during_a_slow_poll_finishes_its_write, multi_thread);
async fn sigterm_during_a_slow_poll_finishes_its_write(backend: Option<String>) {
    let site = Site::new(&backend, "").await;
    // This story is about the poll's write, not the 4-second release deadline: on a busy
    // machine the stop's last pass could come after it and mail a breach as well.
    let text = std::fs::read_to_string(&site.config).unwrap();
    std::fs::write(
        &site.config,
        text.replace("major_release = \"4s\"", "major_release = \"1h\""),
    )
    .unwrap();
    let items = vec![
        ("景区踩踏 多人受伤".to_string(), "s-1".to_string()),
        ("文旅局发布周末出行提示".to_string(), "s-2".to_string()),
    ];
    site.http
        .set("/a.xml", feed_of(&items).delay(Duration::from_secs(3)));
    let mut daemon = site.start();
    site.wait_log("yuqing running", 0, Duration::from_secs(20))
        .await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    let term_at = SystemTime::now();
    let status = daemon.terminate().expect("the daemon was running");
    assert!(status.success(), "{status:?}\n{}", site.log_text());
    let answered = site.http.requests("/a.xml");
    assert!(
        answered.first().is_some_and(|r| r.at > term_at),
        "the feed answered after SIGTERM, so the poll was in flight: {answered:?}"
    );
    let log = site.log_text();
    assert_has!(log, "finishing polls in flight");

    // The in-flight poll stored its page, recorded itself, and the mail it caused went out.
    let store = Store::open(&site.database).await.unwrap();
    let stored = pairs(
        &store,
        "SELECT guid, COUNT(*) FROM items GROUP BY guid ORDER BY guid",
    )
    .await;
    assert_eq!(stored, [("s-1".to_string(), 1), ("s-2".to_string(), 1)]);
    let state = store.source_state("a").await.unwrap();
    assert!(state.last_success.is_some(), "{state:?}");
    assert_eq!(state.last_count, Some(2));
    let mail = site.smtp.messages();
    assert_eq!(
        mail.len(),
        1,
        "{:?}",
        mail.iter().map(|m| &m.subject).collect::<Vec<_>>()
    );
    assert_has!(mail[0].subject, "景区踩踏");
    let rows = store.outbox().await.unwrap();
    assert!(
        rows.iter().all(|r| r.sent_at.is_some()),
        "nothing left half-done: {rows:?}"
    );
    assert!(
        store.lease("housekeeping").await.unwrap().is_none(),
        "a clean stop gives its leases up"
    );
}

backend_test!(a_long_smtp_outage_delivers_everything_afterwards_once);
async fn a_long_smtp_outage_delivers_everything_afterwards_once(backend: Option<String>) {
    let smtp = SmtpServer::start().await;
    smtp.set_down(true);
    let sc = common::scenario(
        common::SCENIC_MAJOR,
        &[("某景区发生坍塌 游客被困", "https://n.example.cn/1", "1", "")],
        &format!(
            "[mail]\ntransport = \"smtp\"\nfrom = \"舆情值班 <yuqing@example.gov.cn>\"\n\
             smtp = {{ host = \"127.0.0.1\", port = {}, tls = \"none\", timeout = \"2s\" }}\n\
             retry_min = \"1m\"\nretry_max = \"30m\"\n\n\
             [people]\nduty = [\"值班员 <duty@example.gov.cn>\"]\n\
             leaders = [\"分管领导 <deputy@example.gov.cn>\"]\n",
            smtp.port()
        ),
        &backend,
    )
    .await;
    let d = &sc.daemon;
    d.poll_once(None).await.unwrap();
    // Ten hours without a relay: the release deadline (5h) passes, reminders fall due.
    for _ in 0..60 {
        sc.clock.advance(ChronoDuration::minutes(10));
        d.housekeeping().await.unwrap();
    }
    assert!(smtp.messages().is_empty());
    assert!(smtp.connections() > 0, "the sender kept trying");
    let queued = d.store.outbox().await.unwrap();
    let kinds: HashSet<&str> = queued.iter().map(|r| r.kind.as_str()).collect();
    assert!(
        kinds.contains("opened") && kinds.contains("breached"),
        "{kinds:?}"
    );
    for row in &queued {
        assert!(row.sent_at.is_none());
        assert!(
            row.last_error
                .as_deref()
                .is_some_and(|e| e.contains("SMTP")),
            "{row:?}"
        );
    }
    let first = &queued[0];
    assert!(
        (10..=60).contains(&first.attempts),
        "retried with backoff up to 30m over 10h, not given up nor hammered: {}",
        first.attempts
    );

    // The relay is back: everything goes out within one retry_max, once.
    smtp.set_down(false);
    sc.clock.advance(ChronoDuration::minutes(30));
    d.housekeeping().await.unwrap();
    for _ in 0..6 {
        sc.clock.advance(ChronoDuration::minutes(10));
        d.housekeeping().await.unwrap();
    }
    let rows = d.store.outbox().await.unwrap();
    let got = smtp.messages();
    assert!(rows.iter().all(|r| r.sent_at.is_some()), "{rows:?}");
    let ids: HashSet<String> = got.iter().filter_map(|m| m.message_id.clone()).collect();
    assert_eq!(got.len(), rows.len(), "each queued message once");
    assert_eq!(ids.len(), rows.len(), "each Message-ID once");
    for row in &rows {
        let m = got
            .iter()
            .find(|m| m.message_id.as_deref() == Some(row.message_id.as_str()))
            .unwrap_or_else(|| panic!("{} missing", row.subject));
        assert_eq!(m.subject, row.subject);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_sqlite_database_is_waited_for_not_failed() {
    use sqlx::{Connection, Executor};
    let site = Site::new(&None, "").await;
    let mut daemon = site.start();
    site.http.set(
        "/a.xml",
        feed_of(&[("景区踩踏 多人受伤".to_string(), "x-1".to_string())]),
    );
    site.smtp
        .wait_for(|m| m.subject.contains("景区踩踏"), Duration::from_secs(20))
        .await
        .expect("the incident opens");

    // Another process holds the write lock for two seconds: well past the busy handler's
    // first tries, and far enough inside the 15 s busy timeout that the daemon's own writes
    // after it (it waited too) leave the command its turn on a loaded machine.
    let url = format!("{}?mode=rw", site.database);
    let mut other = sqlx::SqliteConnection::connect(&url).await.unwrap();
    other.execute("BEGIN EXCLUSIVE").await.unwrap();
    let locked_at = Instant::now();
    site.http.set(
        "/a.xml",
        feed_of(&[
            ("景区踩踏 多人受伤".to_string(), "x-1".to_string()),
            ("景区踩踏 又有游客受伤".to_string(), "x-2".to_string()),
        ]),
    );
    let log = site.dirs.root().join("cli.log");
    let cli = tokio::task::spawn_blocking({
        let (root, config, log) = (
            site.dirs.root().to_path_buf(),
            site.config.clone(),
            log.clone(),
        );
        move || {
            let status = process::yuqing(&root, &config, &["incident", "ack", "1"], &log)
                .status()
                .unwrap();
            (status, Instant::now())
        }
    });
    tokio::time::sleep(Duration::from_secs(2)).await;
    other.execute("COMMIT").await.unwrap();
    drop(other);
    let (status, cli_done) = cli.await.unwrap();
    let cli_log = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(
        status.success(),
        "the command waited for the lock: {cli_log}\n--- the daemon's log:\n{}",
        site.log_text()
    );
    assert!(
        cli_done.duration_since(locked_at) >= Duration::from_millis(1500),
        "it could not have written while the lock was held"
    );

    // The daemon waited too and went on: the second report joins the incident.
    let store = Store::open(&site.database).await.unwrap();
    let start = Instant::now();
    while !pairs(&store, "SELECT guid, COUNT(*) FROM items GROUP BY guid")
        .await
        .iter()
        .any(|(g, _)| g == "x-2")
    {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "{}",
            site.log_text()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let acked = pairs(&store, "SELECT status, id FROM incidents").await;
    assert_eq!(acked, [("acknowledged".to_string(), 1)]);
    assert!(daemon.terminate().is_some_and(|s| s.success()));
    let log = site.log_text();
    assert!(!log.contains("poll aborted"), "no poll gave up: {log}");
}

/// A tmpfs of `size` at `dir`, or `None` (with a note) where mounting is not permitted.
pub(crate) fn small_disk(dir: &Path, size: &str) -> Option<Mount> {
    std::fs::create_dir_all(dir).unwrap();
    let ok = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
        .arg(dir)
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        eprintln!("note: cannot mount a tmpfs (not root?); skipping the full-disk story");
        return None;
    }
    Some(Mount(dir.to_path_buf()))
}

pub(crate) struct Mount(PathBuf);

impl Mount {
    /// Fills the disk to the last byte; returns the filler to remove later.
    pub(crate) fn fill(&self) -> PathBuf {
        use std::io::Write;
        let path = self.0.join("filler");
        let mut f = std::fs::File::create(&path).unwrap();
        let block = vec![0u8; 4096];
        while f.write_all(&block).is_ok() {}
        let _ = f.write_all(&[0u8; 1]);
        let _ = f.sync_all();
        path
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.0)
            .status();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_mail_folder_is_reported_and_the_mail_waits() {
    let dirs = TempDirs::new();
    let Some(disk) = small_disk(&dirs.mail(), "256k") else {
        return;
    };
    let http = HttpServer::start().await;
    dirs.write("watchlists/w.toml", watchlist());
    let config = dirs.write(
        "yuqing.toml",
        format!(
            "[daemon]\nwatchlists = \"watchlists\"\nstate_dir = \"var\"\ntick = \"200ms\"\n\n\
             [mail]\ntransport = \"file\"\ndir = \"var/mail\"\nretry_min = \"1s\"\nretry_max = \"1s\"\n\n\
             [people]\nduty = [\"值班员 <duty@example.gov.cn>\"]\n\n\
             [[source]]\nid = \"a\"\nkind = \"feed\"\nurl = \"{}\"\nevery = \"1s\"\n",
            http.url("/a.xml")
        ),
    );
    let filler = disk.fill();
    http.set(
        "/a.xml",
        feed_of(&[("景区踩踏 多人受伤".to_string(), "f-1".to_string())]),
    );
    let log = dirs.root().join("yuqing.log");
    let mut daemon = process::run(dirs.root(), &config, &log);
    let read = || std::fs::read_to_string(&log).unwrap_or_default();
    let start = Instant::now();
    while !read().contains("mail not sent") {
        assert!(start.elapsed() < Duration::from_secs(20), "{}", read());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let text = read();
    assert!(
        text.contains("No space left on device"),
        "the cause is named: {text}"
    );
    assert!(text.contains("var/mail"), "the folder is named: {text}");
    let eml = |dir: &Path| -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n != "filler")
            .collect();
        v.sort();
        v
    };
    assert!(
        eml(&dirs.mail()).iter().all(|n| !n.ends_with(".eml")),
        "{:?}",
        eml(&dirs.mail())
    );

    // Space is back: the message goes out once, and no half-written file is left.
    std::fs::remove_file(filler).unwrap();
    let start = Instant::now();
    while eml(&dirs.mail()).is_empty() || eml(&dirs.mail()).iter().any(|n| n.ends_with(".tmp")) {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "{:?}\n{}",
            eml(&dirs.mail()),
            read()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(daemon.terminate().is_some_and(|s| s.success()));
    assert_eq!(eml(&dirs.mail()), ["00000001.eml"]);
    let body = std::fs::read_to_string(dirs.mail().join("00000001.eml")).unwrap();
    assert_has!(body, "Message-ID: <yuqing.1@localhost>");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_database_disk_is_reported_and_nothing_is_lost() {
    let dirs = TempDirs::new();
    // Room, once the filler is gone, for the 301 reports with their search index (each
    // report's ~200 characters are ~200 tokens) and the link and text indexes.
    let Some(disk) = small_disk(&dirs.state().join("db"), "4m") else {
        return;
    };
    let http = HttpServer::start().await;
    let smtp = SmtpServer::start().await;
    dirs.write("watchlists/w.toml", watchlist());
    let config = dirs.write(
        "yuqing.toml",
        format!(
            "[daemon]\nwatchlists = \"watchlists\"\nstate_dir = \"var\"\ntick = \"200ms\"\n\
             database = \"sqlite://var/db/yuqing.db\"\n\n\
             [mail]\ntransport = \"smtp\"\nsmtp = {{ host = \"127.0.0.1\", port = {}, tls = \"none\" }}\nretry_min = \"1s\"\n\n\
             [people]\nduty = [\"值班员 <duty@example.gov.cn>\"]\n\n\
             [[source]]\nid = \"a\"\nkind = \"feed\"\nurl = \"{}\"\nevery = \"1s\"\n",
            smtp.port(),
            http.url("/a.xml")
        ),
    );
    http.set("/a.xml", Response::rss(rss(&[])));
    let log = dirs.root().join("yuqing.log");
    let read = || std::fs::read_to_string(&log).unwrap_or_default();
    let mut daemon = process::run(dirs.root(), &config, &log);
    let start = Instant::now();
    while !read().contains("polled") {
        assert!(start.elapsed() < Duration::from_secs(20), "{}", read());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The disk fills up; then a page of 300 reports, one of them an incident, is published.
    // Every write fails (claiming the source, taking the lease) and says why in the log.
    let filler = disk.fill();
    let mut items: Vec<(String, String)> = (0..300)
        .map(|i| {
            (
                format!(
                    "文旅局发布第{i}期出行提示：{}",
                    "天气晴好适宜出游。".repeat(20)
                ),
                format!("d-{i}"),
            )
        })
        .collect();
    items.push(("景区踩踏 多人受伤".to_string(), "d-hot".to_string()));
    http.set("/a.xml", feed_of(&items));
    let start = Instant::now();
    while !read().contains("database or disk is full") {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the full disk is reported: {}",
            read()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(smtp.messages().is_empty());
    // Each kind of failure (taking the lease, storing the page, letting go of the source,
    // renewing claims, …) is logged once, not on every turn: a turn is 200ms, so logging
    // every turn would be well over ten lines by now.
    let said = read()
        .lines()
        .filter(|l| l.contains("database or disk is full"))
        .count();
    assert!(
        (1..=6).contains(&said),
        "reported on {said} lines:\n{}",
        read()
    );

    // Space is back: every report is stored once, the incident opens once, one mail.
    std::fs::remove_file(filler).unwrap();
    smtp.wait_for(|m| m.subject.contains("景区踩踏"), Duration::from_secs(20))
        .await
        .unwrap_or_else(|| panic!("no mail after space came back: {}", read()));
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(daemon.terminate().is_some_and(|s| s.success()));
    let store = Store::open(&format!(
        "sqlite://{}",
        dirs.state().join("db/yuqing.db").display()
    ))
    .await
    .unwrap();
    let n = pairs(&store, "SELECT 'items', COUNT(*) FROM items").await;
    assert_eq!(n[0].1, 301, "every report stored");
    let incidents = pairs(
        &store,
        "SELECT topic_id, COUNT(*) FROM incidents GROUP BY topic_id",
    )
    .await;
    assert_eq!(incidents, [("k0".to_string(), 1)]);
    assert_eq!(smtp.messages().len(), 1);
}

backend_test!(a_poll_slower_than_the_lease_is_not_taken_over, multi_thread);
/// Two daemons, a lease of 1s and a feed that takes 3s to answer: the daemon polling it
/// renews its claim while it waits, so the other never fetches it at the same time.
async fn a_poll_slower_than_the_lease_is_not_taken_over(backend: Option<String>) {
    let site = Site::new(&backend, "").await;
    let config = std::fs::read_to_string(&site.config)
        .unwrap()
        .replace("lease = \"2s\"", "lease = \"1s\"");
    std::fs::write(&site.config, config).unwrap();
    let slow = Duration::from_secs(3);
    site.http.set(
        "/a.xml",
        feed_of(&[("景区踩踏 多人受伤".to_string(), "l-1".to_string())]).delay(slow),
    );
    let first = site.start();
    let second = process::run(
        site.dirs.root(),
        &site.config,
        &site.dirs.root().join("second.log"),
    );
    site.smtp
        .wait_for(|m| m.subject.contains("景区踩踏"), Duration::from_secs(30))
        .await
        .expect("the incident opens");
    tokio::time::sleep(Duration::from_secs(8)).await;
    drop((first, second));
    let answered: Vec<SystemTime> = site.http.requests("/a.xml").iter().map(|r| r.at).collect();
    assert!(answered.len() >= 2, "{answered:?}");
    for w in answered.windows(2) {
        let gap = w[1].duration_since(w[0]).unwrap_or_default();
        assert!(
            gap >= slow - Duration::from_millis(200),
            "two fetches of the slow feed overlapped ({gap:?} apart): {answered:?}\n{}\n{}",
            site.log_text(),
            std::fs::read_to_string(site.dirs.root().join("second.log")).unwrap()
        );
    }
    let got: Vec<(String, Option<String>)> = site
        .smtp
        .messages()
        .into_iter()
        .map(|m| (m.subject, m.message_id))
        .collect();
    let opening = got
        .iter()
        .filter(|(s, _)| s.contains("【舆情·重大】"))
        .count();
    assert_eq!(opening, 1, "one opening mail: {got:?}\n{}", site.log_text());
    let second = std::fs::read_to_string(site.dirs.root().join("second.log")).unwrap();
    for log in [site.log_text(), second] {
        assert!(
            log.contains("yuqing running") && !log.contains("Error"),
            "both daemons ran:\n{log}"
        );
    }
}
