//! The one test harness (style habit 8): real servers on loopback and a temp state dir, so
//! each integration test reads as a story of a duty officer's night rather than a pile of
//! mocks. `tests/tests.rs` declares it once; a test module reaches it as `crate::common`.
//!
//! A few parts are there for the tests to come (`HttpServer::remove`, `Browser::forget`,
//! `Request::method`), hence the `dead_code` allowance.
#![allow(dead_code)]

/// `assert_has!(text, needle)`: `text` contains `needle` (a `&str`, a `char` or a pattern),
/// or the test fails showing what was looked for and the whole text.
macro_rules! assert_has {
    ($text:expr, $needle:expr $(,)?) => {{
        let text = &$text;
        let needle = $needle;
        assert!(text.contains(needle), "expected {:?} in:\n{}", needle, text);
    }};
}

/// A behaviour test written once that runs on each database, as two tests:
/// `NAME::sqlite` on a fresh SQLite file under the test's state dir, and `NAME::postgres`
/// on a fresh PostgreSQL database ([`db::fresh_postgres`]). Without a server the
/// PostgreSQL test says SKIPPED, NOT PASSED on the terminal ([`db::skipped`]) and
/// `tests/postgres_notice.rs` lists it, since libtest counts it as passed.
///
/// Beside it stands `async fn NAME(backend: Option<String>)`, the story itself (`None`
/// means SQLite, as [`scenario`] and [`db::config_line`] take it); a module and a function
/// may share a name. Add `, multi_thread` for a runtime of two worker threads:
///
/// ```ignore
/// backend_test!(a_deadline_missed_while_down_fires_once_on_start);
/// async fn a_deadline_missed_while_down_fires_once_on_start(backend: Option<String>) {
///     let sc = common::scenario(common::SCENIC_MAJOR, &[], "", &backend).await;
///     …
/// }
/// ```
macro_rules! backend_test {
    ($name:ident) => {
        backend_test!(@tests $name, #[tokio::test]);
    };
    ($name:ident, multi_thread) => {
        backend_test!(@tests $name, #[tokio::test(flavor = "multi_thread", worker_threads = 2)]);
    };
    (@tests $name:ident, #[$runtime:meta]) => {
        mod $name {
            #[$runtime]
            async fn sqlite() {
                super::$name(None).await;
            }

            #[$runtime]
            async fn postgres() {
                match $crate::common::db::fresh_postgres().await {
                    Some(url) => super::$name(Some(url)).await,
                    None => $crate::common::db::skipped(
                        &$crate::common::db::test_name(module_path!(), "postgres"),
                        $crate::common::db::NO_SERVER,
                    ),
                }
            }
        }
    };
}

pub mod console;
pub mod db;
pub mod http;
pub mod im;
pub mod process;
pub mod smtp;

pub use http::{HttpServer, Response};
pub use smtp::{ReceivedMail, SmtpServer};

use std::path::{Path, PathBuf};

/// One RSS item: `(title, link, guid, pubDate)`, pubDate in RFC 2822 (may be empty to leave
/// the element out, as some sites do).
pub type RssItem<'a> = (&'a str, &'a str, &'a str, &'a str);

/// A real RSS 2.0 document (UTF-8, escaped) with these items, newest first as sites list them.
pub fn rss(items: &[RssItem<'_>]) -> String {
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <rss version=\"2.0\">\n<channel>\n\
         <title>测试站点</title>\n<link>http://127.0.0.1/</link>\n\
         <description>yuqing test feed</description>\n<language>zh-cn</language>\n",
    );
    for (title, link, guid, pub_date) in items {
        out.push_str("<item>\n");
        out.push_str(&format!("  <title>{}</title>\n", xml_escape(title)));
        out.push_str(&format!("  <link>{}</link>\n", xml_escape(link)));
        out.push_str(&format!(
            "  <guid isPermaLink=\"false\">{}</guid>\n",
            xml_escape(guid)
        ));
        if !pub_date.is_empty() {
            out.push_str(&format!("  <pubDate>{}</pubDate>\n", xml_escape(pub_date)));
        }
        out.push_str("</item>\n");
    }
    out.push_str("</channel>\n</rss>\n");
    out
}

/// Escapes text for an XML element or attribute value.
pub fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// Where a daemon started by a test writes what it logs: `ROOT/yuqing.log`, appended to, so
/// that the test run's own output shows no daemon's errors (those a test provokes on
/// purpose, such as a port in use or a held database lock).
pub fn log_file(root: &Path) -> std::process::Stdio {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(root.join("yuqing.log"))
        .map(std::process::Stdio::from)
        .expect("open the daemon's log file")
}

/// A bare item of source `news` as a poll would hand it to `store_items`: no summary, no
/// publication time, no tone, topics or signature; its content hash is its GUID.
pub fn news_item<'a>(
    guid: &'a str,
    title: &'a str,
    link: Option<&'a str>,
) -> yuqing::store::Incoming<'a> {
    yuqing::store::Incoming {
        item: yuqing::store::NewItem {
            source_id: "news",
            guid,
            link,
            title,
            summary: "",
            published_at: None,
            content_hash: guid,
        },
        tone: None,
        topics: Default::default(),
        signature: None,
    }
}

/// Incident `#id` as the store holds it now; the test fails if there is none.
pub async fn incident(store: &yuqing::store::Store, id: i64) -> yuqing::store::IncidentRow {
    store
        .incident(store.pool(), yuqing::vocab::ids::IncidentId(id))
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("no incident #{id}"))
}

/// Incident `#id`'s items as the store holds them now, oldest first.
pub async fn items_of(store: &yuqing::store::Store, id: i64) -> Vec<yuqing::store::ItemRow> {
    store
        .incident_items(store.pool(), yuqing::vocab::ids::IncidentId(id))
        .await
        .unwrap()
}

/// Holds back the filing of item `item` of `source` under topic `scenic` since `at`, as a
/// poll does when an incident row of the topic cannot be read.
pub async fn hold_filing(
    store: &yuqing::store::Store,
    source: &str,
    item: i64,
    at: i64,
    error: &str,
) {
    let mut tx = store.begin().await.unwrap();
    let held = yuqing::store::HeldFiling {
        item_id: item,
        topic_id: "scenic".into(),
        source_id: source.into(),
        held_at: at,
        error: error.into(),
    };
    store.hold_filing(&mut tx, &held).await.unwrap();
    tx.commit().await.unwrap();
}

/// Who did `action` in a record, in order (`actors(&store.actions_of(id)…, "note")`).
pub fn actors(actions: &[yuqing::store::Action], action: &str) -> Vec<String> {
    actions
        .iter()
        .filter(|a| a.action == action)
        .map(|a| a.actor.clone())
        .collect()
}

/// The bytes of a fixture under `tests/fixtures/`, e.g. `fixture("charset/gbk-meta.html")`.
/// Third-party pages are kept gzipped (`NAME.html.gz`, see `tests/fixtures/article/README.md`):
/// when `relative` is absent and `relative.gz` exists, its decompressed bytes are returned, so
/// a test sees the page byte for byte as it was published.
pub fn fixture(relative: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(relative);
    let gzipped = path.with_file_name(format!(
        "{}.gz",
        path.file_name().unwrap().to_string_lossy()
    ));
    if !path.exists() && gzipped.exists() {
        let mut bytes = Vec::new();
        let file = std::fs::File::open(&gzipped)
            .unwrap_or_else(|e| panic!("open fixture {}: {e}", gzipped.display()));
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(file), &mut bytes)
            .unwrap_or_else(|e| panic!("gunzip fixture {}: {e}", gzipped.display()));
        return bytes;
    }
    std::fs::read(&path).unwrap_or_else(|e| panic!("read fixture {}: {e}", path.display()))
}

/// A temporary deployment root, removed when dropped: `root/var` is the state dir (database,
/// mail folder), and config files can be written anywhere under `root`.
pub struct TempDirs {
    root: tempfile::TempDir,
}

impl TempDirs {
    pub fn new() -> TempDirs {
        let root = tempfile::Builder::new()
            .prefix("yuqing-test-")
            .tempdir()
            .expect("create temp dir");
        let dirs = TempDirs { root };
        std::fs::create_dir_all(dirs.state()).expect("create state dir");
        dirs
    }

    pub fn root(&self) -> &Path {
        self.root.path()
    }

    /// `root/var`, created.
    pub fn state(&self) -> PathBuf {
        self.root().join("var")
    }

    /// `root/var/mail`, where the file mail transport writes (not created: the daemon does).
    pub fn mail(&self) -> PathBuf {
        self.state().join("mail")
    }

    /// `sqlite://root/var/yuqing.db`.
    pub fn database_url(&self) -> String {
        format!("sqlite://{}", self.state().join("yuqing.db").display())
    }

    /// Writes `root/yuqing.toml`: a `[daemon]` section naming `root/watchlists` and the state
    /// dir, then `rest` (more `[daemon]` keys, other sections); returns its path.
    pub fn config(&self, rest: &str) -> PathBuf {
        let head = format!(
            "[daemon]\nwatchlists = \"{root}/watchlists\"\nstate_dir = \"{root}/var\"\n",
            root = self.root().display()
        );
        self.write("yuqing.toml", head + rest)
    }

    /// Writes `contents` at `root/relative`, creating folders; returns the full path.
    pub fn write(&self, relative: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.root().join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create parent dir");
        }
        std::fs::write(&path, contents).expect("write temp file");
        path
    }
}

impl Default for TempDirs {
    fn default() -> Self {
        TempDirs::new()
    }
}

/// One daemon, in-process, on a manual clock, with one watchlist file and one feed source
/// `news` at `/news.xml`: the setting of most deadline stories.
pub struct Scenario {
    pub dirs: TempDirs,
    pub http: HttpServer,
    pub clock: yuqing::vocab::clock::ManualClock,
    pub daemon: yuqing::daemon::scheduler::Daemon,
    pub config: PathBuf,
}

/// A scenario starting at 2026-11-24 01:00 UTC; `extra` is appended to the config file.
pub async fn scenario(
    watchlist: &str,
    items: &[RssItem<'_>],
    extra: &str,
    backend: &Option<String>,
) -> Scenario {
    use chrono::TimeZone;
    let dirs = TempDirs::new();
    let http = HttpServer::start().await;
    http.set("/news.xml", Response::rss(rss(items)));
    dirs.write("watchlists/w.toml", watchlist);
    let config = dirs.write(
        "yuqing.toml",
        format!(
            "[daemon]\nwatchlists = \"{root}/watchlists\"\nstate_dir = \"{root}/var\"\n{db}\n\
             [[source]]\nid = \"news\"\nkind = \"feed\"\nurl = \"{url}\"\n\n{extra}",
            root = dirs.root().display(),
            url = http.url("/news.xml"),
            db = db::config_line(backend),
        ),
    );
    let clock = yuqing::vocab::clock::ManualClock::new(
        chrono::Utc.with_ymd_and_hms(2026, 11, 24, 1, 0, 0).unwrap(),
    );
    let daemon = start(&config, &clock).await;
    Scenario {
        dirs,
        http,
        clock,
        daemon,
        config,
    }
}

/// Starts (or restarts) the daemon of a config file on `clock`.
pub async fn start(
    config: &Path,
    clock: &yuqing::vocab::clock::ManualClock,
) -> yuqing::daemon::scheduler::Daemon {
    start_on(config, std::sync::Arc::new(clock.clone())).await
}

/// [`start`] on any clock (the system's, for a story told in real time).
pub async fn start_on(
    config: &Path,
    clock: std::sync::Arc<dyn yuqing::vocab::clock::Clock>,
) -> yuqing::daemon::scheduler::Daemon {
    let settings =
        yuqing::config::settings::Settings::load(config).unwrap_or_else(|e| panic!("{e}"));
    yuqing::daemon::scheduler::Daemon::start(config.to_path_buf(), settings, clock)
        .await
        .expect("start the daemon")
}

/// A loopback port nothing listens on (a daemon's `metrics` or `[web] listen`, given before
/// it starts).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}

/// `GET http://127.0.0.1:PORT/path`: the status and body, or `None` while nothing answers
/// within `timeout`.
pub async fn get(port: u16, path: &str, timeout: std::time::Duration) -> Option<(u16, String)> {
    let client = reqwest::Client::builder()
        .timeout(timeout)
        .build()
        .expect("an HTTP client");
    let r = client
        .get(format!("http://127.0.0.1:{port}{path}"))
        .send()
        .await
        .ok()?;
    let status = r.status().as_u16();
    Some((status, r.text().await.ok()?))
}

/// A time on the wall clocks of Beijing (`sh(2026, 11, 24, 9, 0)`), in UTC as the store keeps it.
pub fn sh(y: i32, m: u32, d: u32, h: u32, min: u32) -> chrono::DateTime<chrono::Utc> {
    use chrono::TimeZone;
    chrono_tz::Asia::Shanghai
        .with_ymd_and_hms(y, m, d, h, min, 0)
        .unwrap()
        .with_timezone(&chrono::Utc)
}

/// RFC 2822 in +0800, as Chinese feeds write a `pubDate`.
pub fn pub_date(t: chrono::DateTime<chrono::Utc>) -> String {
    t.with_timezone(&chrono_tz::Asia::Shanghai).to_rfc2822()
}

/// The messages the outbox holds for `address` (one of their recipients), oldest first.
pub async fn mail_to(store: &yuqing::store::Store, address: &str) -> Vec<yuqing::store::OutboxRow> {
    let all = store.outbox().await.expect("read the outbox");
    all.into_iter()
        .filter(|m| m.recipients.contains(address))
        .collect()
}

/// The messages of one kind the outbox holds (`opened`, `daily_briefing`, …), oldest first.
pub async fn mail(store: &yuqing::store::Store, kind: &str) -> Vec<yuqing::store::OutboxRow> {
    let all = store.outbox().await.expect("read the outbox");
    all.into_iter().filter(|m| m.kind == kind).collect()
}

/// A major scenic-safety topic, as most deadline stories use.
pub const SCENIC_MAJOR: &str =
    "[[topic]]\nid = \"scenic\"\nname = \"景区安全\"\nseverity = \"major\"\nany = [\"坍塌\"]\nall = [\"景区\"]\n";
