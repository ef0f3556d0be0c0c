//! `Type=notify` as systemd sees it: the real `yuqing` binary with `NOTIFY_SOCKET` and
//! `WATCHDOG_USEC` set, and the datagrams it sends read from a socket bound here.

use crate::common;

use common::{process, rss, HttpServer, Response, TempDirs};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tokio::net::UnixDatagram;

/// A `yuqing run` started here, logging to `ROOT/yuqing.log`.
/// `yuqing run` of `config` in `ROOT`, logging to `ROOT/yuqing.log`, its environment set by
/// `env`.
fn run(
    dirs: &TempDirs,
    config: &std::path::Path,
    env: impl FnOnce(&mut Command) -> &mut Command,
) -> process::Running {
    let mut command = Command::new(env!("CARGO_BIN_EXE_yuqing"));
    command
        .current_dir(dirs.root())
        .args(["run", "--config"])
        .arg(config)
        .stdout(Stdio::null())
        .stderr(common::log_file(dirs.root()));
    let child = env(&mut command).spawn().expect("start yuqing run");
    process::Running::from_child(child, &dirs.root().join("yuqing.log"))
}

/// What systemd would read on its notification socket.
struct Systemd {
    socket: UnixDatagram,
}

impl Systemd {
    /// The next message within `within`, or `None`.
    async fn next(&self, within: Duration) -> Option<String> {
        let mut buf = vec![0u8; 4096];
        let len = tokio::time::timeout(within, self.socket.recv(&mut buf))
            .await
            .ok()?
            .expect("read the notify socket");
        Some(String::from_utf8_lossy(&buf[..len]).into_owned())
    }

    /// Messages until one has the line `line`; fails after `within`.
    async fn until(&self, line: &str, within: Duration) -> Vec<String> {
        let deadline = Instant::now() + within;
        let mut seen = Vec::new();
        while let Some(m) = self
            .next(deadline.saturating_duration_since(Instant::now()))
            .await
        {
            let found = m.lines().any(|l| l == line);
            seen.push(m);
            if found {
                return seen;
            }
        }
        panic!("no `{line}` within {within:?}; got {seen:?}");
    }

    /// Every message during `span`.
    async fn during(&self, span: Duration) -> Vec<String> {
        let deadline = Instant::now() + span;
        let mut seen = Vec::new();
        while let Some(m) = self
            .next(deadline.saturating_duration_since(Instant::now()))
            .await
        {
            seen.push(m);
        }
        seen
    }
}

fn count(messages: &[String], line: &str) -> usize {
    messages
        .iter()
        .filter(|m| m.lines().any(|l| l == line))
        .count()
}

/// A site with one feed `/news.xml` holding `title`, and a config with `tick` and `extra`
/// (more sections) around the one source `news`.
async fn site(title: &str, tick: &str, extra: &str) -> (TempDirs, HttpServer, PathBuf) {
    let dirs = TempDirs::new();
    let http = HttpServer::feed(
        "/news.xml",
        &[(title, "https://news.example.cn/1.html", "n-1", "")],
    )
    .await;
    dirs.write("watchlists/w.toml", common::SCENIC_MAJOR);
    let config = dirs.config(&format!(
        "\
             tick = \"{tick}\"\n\n{extra}\
             [[source]]\nid = \"news\"\nkind = \"feed\"\nurl = \"{url}\"\nevery = \"1h\"\n",
        url = http.url("/news.xml"),
    ));
    (dirs, http, config)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ready_watchdog_reload_and_stopping_reach_systemd() {
    // A tick of a minute: the loop must still wake often enough to feed the watchdog.
    let (dirs, _http, config) = site("文旅局发布周末出行提示", "60s", "").await;
    // The source due every second: an idle turn only reads, and the hung loop below needs
    // a write to wait on (claiming the due source).
    let text = std::fs::read_to_string(&config).unwrap();
    assert!(text.contains("every = \"1h\""), "{text}");
    std::fs::write(&config, text.replace("every = \"1h\"", "every = \"1s\"")).unwrap();
    let socket_path = dirs.root().join("notify.sock");
    let systemd = Systemd {
        socket: UnixDatagram::bind(&socket_path).expect("bind the notify socket"),
    };
    let mut daemon = run(&dirs, &config, |c| {
        c.env("RUST_LOG", "info")
            .env("NOTIFY_SOCKET", &socket_path)
            .env("WATCHDOG_USEC", "800000")
    });

    // READY=1 first, then the status line and the watchdog.
    let first = systemd
        .next(Duration::from_secs(20))
        .await
        .expect("a first message");
    assert!(first.lines().any(|l| l == "READY=1"), "{first:?}");
    systemd.until("WATCHDOG=1", Duration::from_secs(5)).await;
    // The first completed turn also says what the daemon does, for `systemctl status`.
    let status = systemd
        .next(Duration::from_secs(5))
        .await
        .expect("a status line");
    assert!(
        status.starts_with("STATUS=polling 1 sources (")
            && status.contains("0 open incidents, 0 mail queued"),
        "{status:?}"
    );
    // Fed every half interval (400ms), although the tick is 60s.
    let steady = systemd.during(Duration::from_secs(3)).await;
    let pings = count(&steady, "WATCHDOG=1");
    assert!((3..=8).contains(&pings), "{pings} pings in 3s: {steady:?}");

    // A hung loop stops feeding: another process holds the database's write lock, so the
    // loop's next write (claiming the source, due again within a second) waits (busy
    // timeout 15s) and no turn completes.
    let mut holder = common::db::hold_write_lock(&dirs.database_url()).await;
    let _ = systemd.during(Duration::from_secs(1)).await;
    let held = systemd.during(Duration::from_secs(3)).await;
    assert_eq!(count(&held, "WATCHDOG=1"), 0, "fed while hung: {held:?}");
    sqlx::query("ROLLBACK")
        .execute(&mut holder)
        .await
        .expect("release the write lock");
    systemd.until("WATCHDOG=1", Duration::from_secs(20)).await;

    // systemctl reload: RELOADING=1, then READY=1 once the files are read again.
    daemon.signal("HUP");
    let reload = systemd.until("RELOADING=1", Duration::from_secs(5)).await;
    assert_eq!(count(&reload, "READY=1"), 0, "{reload:?}");
    systemd.until("READY=1", Duration::from_secs(5)).await;

    // systemctl stop: STOPPING=1, and a clean exit.
    daemon.signal("TERM");
    systemd.until("STOPPING=1", Duration::from_secs(10)).await;
    let status = daemon.wait();
    assert!(status.success(), "{status:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_notify_socket_the_daemon_runs_as_before() {
    // A plain `yuqing run` outside systemd must not depend on it: with NOTIFY_SOCKET unset
    // (and a stray WATCHDOG_USEC) the daemon starts, polls and stops cleanly.
    let (dirs, http, config) = site("文旅局发布周末出行提示", "100ms", "").await;
    let mut daemon = run(&dirs, &config, |c| {
        c.env_remove("NOTIFY_SOCKET").env("WATCHDOG_USEC", "100000")
    });
    let deadline = Instant::now() + Duration::from_secs(20);
    while http.requests("/news.xml").is_empty() {
        assert!(Instant::now() < deadline, "the daemon never polled");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    daemon.signal("TERM");
    assert!(daemon.wait().success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_smtp_password_comes_from_the_systemd_credential() {
    // LoadCredential=smtp-password:/etc/yuqing/smtp-password gives the daemon the file
    // $CREDENTIALS_DIRECTORY/smtp-password; the config names only the user.
    let smtp = common::SmtpServer::start().await;
    let (dirs, _http, config) = site(
        "某景区栈道坍塌 游客受伤",
        "100ms",
        &format!(
            "[mail]\ntransport = \"smtp\"\n\
             smtp = {{ host = \"127.0.0.1\", port = {}, tls = \"none\", user = \"yuqing\" }}\n\n\
             [people]\nduty = [\"值班员 <duty@example.gov.cn>\"]\n\n",
            smtp.port()
        ),
    )
    .await;
    let credentials = dirs.root().join("credentials");
    dirs.write("credentials/smtp-password", "s3cret-from-systemd\n");
    let _daemon = run(&dirs, &config, |c| {
        c.env_remove("YUQING_SMTP_PASSWORD")
            .env("CREDENTIALS_DIRECTORY", &credentials)
    });
    let mail = smtp
        .wait_for(|m| m.subject.contains("景区安全"), Duration::from_secs(20))
        .await
        .expect("the duty officer is mailed");
    let auth = mail.auth.expect("the daemon authenticated");
    assert_eq!(auth.user, "yuqing");
    assert_eq!(auth.password, "s3cret-from-systemd");
}

/// `TimeoutStopSec=` of the shipped unit: how long systemd waits after SIGTERM before it
/// kills the daemon, final mail pass and all.
fn unit_stop_timeout() -> Duration {
    let unit = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/systemd/yuqing.service"
    ))
    .expect("read systemd/yuqing.service");
    let value = unit
        .lines()
        .find_map(|l| l.trim().strip_prefix("TimeoutStopSec="))
        .expect("the unit sets TimeoutStopSec=");
    let (number, unit) = value.split_at(
        value
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(value.len()),
    );
    let n: u64 = number
        .parse()
        .expect("TimeoutStopSec= is a number of seconds or minutes");
    match unit {
        "" | "s" => Duration::from_secs(n),
        "min" => Duration::from_secs(60 * n),
        other => panic!("TimeoutStopSec= unit `{other}` not understood here"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_while_a_site_hangs_ends_well_inside_the_units_stop_timeout() {
    use yuqing::store::Store;
    let smtp = common::SmtpServer::start().await;
    let hung = HttpServer::start().await;
    let (dirs, http, config) = site(
        "某景区栈道坍塌 游客受伤",
        "200ms",
        &format!(
            "[mail]\ntransport = \"smtp\"\nfrom = \"舆情值班 <yuqing@example.gov.cn>\"\n\
             smtp = {{ host = \"127.0.0.1\", port = {}, tls = \"none\" }}\n\n\
             [people]\nduty = [\"值班员 <duty@example.gov.cn>\"]\n\n\
             [[source]]\nid = \"hung\"\nkind = \"feed\"\nurl = \"{}\"\nevery = \"1h\"\n\n",
            smtp.port(),
            hung.url("/hung.xml"),
        ),
    )
    .await;
    // One site answers in two seconds with an item that opens an incident; the other
    // hangs for a minute, longer than its 30-second timeout.
    http.set(
        "/news.xml",
        Response::rss(rss(&[(
            "某景区栈道坍塌 游客受伤",
            "https://news.example.cn/1.html",
            "n-1",
            "",
        )]))
        .delay(Duration::from_secs(2)),
    );
    hung.set(
        "/hung.xml",
        Response::rss(rss(&[])).delay(Duration::from_secs(60)),
    );
    let log = dirs.root().join("daemon.log");
    let mut daemon = common::process::run(dirs.root(), &config, &log);
    let deadline = Instant::now() + Duration::from_secs(20);
    while !daemon.log_text().contains("yuqing running") {
        assert!(Instant::now() < deadline, "{}", daemon.log_text());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(800)).await;

    // systemctl stop: SIGTERM, then a kill after TimeoutStopSec.
    let timeout = unit_stop_timeout();
    let asked = Instant::now();
    let status = daemon.terminate().expect("the daemon was running");
    let took = asked.elapsed();
    let text = daemon.log_text();
    assert!(status.success(), "{status:?}\n{text}");
    assert!(
        took * 2 <= timeout,
        "the stop took {took:?}; systemd kills at {timeout:?}\n{text}"
    );
    assert!(
        took >= Duration::from_secs(1),
        "the poll that was reading its page had time to finish: {took:?}"
    );
    // The hung poll was cut; the other one's page was stored and its mail flushed.
    assert_has!(text, "stopping them");
    let mail = smtp.messages();
    assert!(
        mail.iter().any(|m| m.subject.contains("景区安全")),
        "the incident's mail went out before the exit: {:?}\n{text}",
        mail.iter().map(|m| &m.subject).collect::<Vec<_>>()
    );
    let store = Store::open(&dirs.database_url()).await.unwrap();
    assert!(
        store.lease("housekeeping").await.unwrap().is_none(),
        "{text}"
    );
    let (held,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM source_state WHERE lease_holder IS NOT NULL")
            .fetch_one(store.pool())
            .await
            .unwrap();
    assert_eq!(held, 0, "the sources' claims were given up\n{text}");
}
