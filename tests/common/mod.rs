//! The one test harness (style habit 8): real servers on loopback and a temp state dir, so
//! each integration test reads as a story of a duty officer's night rather than a pile of
//! mocks. Include it with `mod common;` from a file under `tests/`.
//!
//! Each test binary uses a different part of it, hence the blanket `dead_code` allowance.
#![allow(dead_code, unused_imports)]

pub mod console;
pub mod db;
pub mod http;
pub mod im;
pub mod process;
pub mod smtp;

pub use http::{HttpServer, Request, Response};
pub use smtp::{Auth, ReceivedMail, SmtpServer};

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

/// The bytes of a fixture under `tests/fixtures/`, e.g. `fixture("charset/gbk-meta.html")`.
pub fn fixture(relative: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(relative);
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
    let settings =
        yuqing::config::settings::Settings::load(config).unwrap_or_else(|e| panic!("{e}"));
    yuqing::daemon::scheduler::Daemon::start(
        config.to_path_buf(),
        settings,
        std::sync::Arc::new(clock.clone()),
    )
    .await
    .expect("start the daemon")
}

/// A major scenic-safety topic, as most deadline stories use.
pub const SCENIC_MAJOR: &str =
    "[[topic]]\nid = \"scenic\"\nname = \"景区安全\"\nseverity = \"major\"\nany = [\"坍塌\"]\nall = [\"景区\"]\n";
