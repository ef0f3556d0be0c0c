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
    use yuqing::vocab::clock::Clock;
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

backend_test!(a_held_item_that_cannot_be_read_holds_back_no_other_filing);
/// A held-back filing whose item's own row cannot be read (an unknown tone, written by a
/// newer version) used to stop the step at that item, every turn: the filings after it
/// waited until the row was repaired, another topic's too. Now it waits alone, named, and
/// the others are filed.
async fn a_held_item_that_cannot_be_read_holds_back_no_other_filing(backend: Option<String>) {
    const SECOND: common::RssItem = (
        "某景区观景台坍塌 游客被困",
        "https://news.example.cn/2",
        "t2",
        "Tue, 24 Nov 2026 09:01:00 +0800",
    );
    const MUSEUM: common::RssItem = (
        "某博物馆文物失窃",
        "https://news.example.cn/3",
        "t3",
        "Tue, 24 Nov 2026 09:02:00 +0800",
    );
    let s = scenic_and_museum(&[FIRST, SECOND, MUSEUM], &backend).await;
    let d = &s.daemon;
    let pool = d.store.pool();
    let id = |guid: &'static str| async move {
        let (id,): (i64,) = sqlx::query_as("SELECT id FROM items WHERE guid = $1")
            .bind(guid)
            .fetch_one(pool)
            .await
            .unwrap();
        id
    };
    let (second, museum) = (id("t2").await, id("t3").await);
    // Both as if their filings had been held back at the poll: not in their incidents,
    // and held (the unreadable one first, as the step takes them oldest item first).
    for item in [second, museum] {
        sqlx::query("DELETE FROM incident_items WHERE item_id = $1")
            .bind(item)
            .execute(pool)
            .await
            .unwrap();
    }
    assert!(second < museum);
    let mut tx = d.store.begin().await.unwrap();
    for (item, topic) in [(second, "scenic"), (museum, "museum")] {
        let held = yuqing::store::HeldFiling {
            item_id: item,
            topic_id: topic.into(),
            source_id: "news".into(),
            held_at: 1,
            error: "held by hand".into(),
        };
        d.store.hold_filing(&mut tx, &held).await.unwrap();
    }
    tx.commit().await.unwrap();
    sqlx::query("UPDATE items SET tone = 'furious' WHERE id = $1")
        .bind(second)
        .execute(pool)
        .await
        .unwrap();
    // Whether `item` is in an incident of `topic`.
    let filed = |item: i64, topic: &'static str| async move {
        let (n,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM incident_items i JOIN incidents n ON n.id = i.incident_id \
             WHERE i.item_id = $1 AND n.topic_id = $2",
        )
        .bind(item)
        .bind(topic)
        .fetch_one(pool)
        .await
        .unwrap();
        n == 1
    };
    assert!(!filed(second, "scenic").await && !filed(museum, "museum").await);

    let e = d
        .housekeeping()
        .await
        .expect_err("the unreadable item is reported");
    let shown = format!("{e:#}");
    assert!(
        shown.contains(&format!("cannot file item {second} under topic scenic")),
        "{shown}"
    );
    assert!(
        filed(museum, "museum").await,
        "the museum item is filed: {shown}"
    );
    let held = d.store.held_filings().await.unwrap();
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
        .execute(pool)
        .await
        .unwrap();
    d.housekeeping().await.expect("filed");
    assert_eq!(d.store.held_filings().await.unwrap(), []);
    assert!(filed(second, "scenic").await);
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
    use yuqing::vocab::clock::Clock;
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
