//! `cargo bench --bench huge_titles`: the real `yuqing run` against four sites whose feeds
//! each carry one 10 MB title (just under the 10 MiB body cap) and one healthy feed polled
//! every second; peak memory, and whether the healthy feed is still polled on time.
//!
//! The daemon is the release binary built for the bench, on an SQLite file in a temp dir,
//! polling for `RUN` seconds; the four feeds are polled every two seconds, so their titles
//! stay in the feed as a hostile site would keep them (issue 16 measured 692 MB). The
//! baseline is the same run in the same process with 100-byte titles. Peak RSS is `VmHWM`
//! of the daemon process; the healthy feed's largest gap between two requests is read from
//! the loopback server's log.
//!
//! Prints a few lines for people on stderr and, last, one JSON line on stdout:
//! `{"peak_rss_mb", "baseline_rss_mb", "ratio", "healthy_max_gap_s", "healthy_every_s"}`.

use axum::extract::{Path as UrlPath, State};
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const RUN: Duration = Duration::from_secs(20);
const TITLE_BYTES: usize = 10_000_000;

struct Site {
    feeds: Vec<Arc<Vec<u8>>>,
    healthy: Mutex<Vec<Instant>>,
}

fn feed(title: &str, guid: &str) -> Vec<u8> {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\"><channel>\
         <title>t</title><link>http://127.0.0.1/</link><description>d</description>\
         <item><title>{title}</title><link>http://127.0.0.1/{guid}</link>\
         <guid isPermaLink=\"false\">{guid}</guid></item></channel></rss>\n"
    )
    .into_bytes()
}

async fn serve(State(site): State<Arc<Site>>, UrlPath(name): UrlPath<String>) -> impl IntoResponse {
    let body = match name.as_str() {
        "healthy.xml" => {
            site.healthy.lock().unwrap().push(Instant::now());
            feed("文旅局发布周末出行提示", "healthy-1")
        }
        other => {
            let n: usize = other.trim_end_matches(".xml").parse().unwrap_or(0);
            site.feeds[n % site.feeds.len()].as_ref().clone()
        }
    };
    (
        [(header::CONTENT_TYPE, "application/rss+xml; charset=utf-8")],
        body,
    )
}

/// Peak resident memory (`VmHWM`) of `pid`, in MB.
fn peak_rss_mb(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// One run: the daemon against four feeds with titles of `title_bytes`; peak RSS and the
/// healthy feed's largest gap.
fn run(rt: &tokio::runtime::Runtime, title_bytes: usize) -> (f64, f64) {
    // The title starts with words a watchlist matches, so it is classified and opens an
    // incident, as a hostile site's would.
    let head = "某景区栈道坍塌 游客受伤 ";
    let filler = "景".repeat((title_bytes.saturating_sub(head.len())) / 3);
    let feeds: Vec<Arc<Vec<u8>>> = (0..4)
        .map(|n| Arc::new(feed(&format!("{head}{filler}{n}"), &format!("huge-{n}"))))
        .collect();
    let site = Arc::new(Site {
        feeds,
        healthy: Mutex::new(Vec::new()),
    });
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let port = listener.local_addr().unwrap().port();
    let app = Router::new()
        .route("/{name}", get(serve))
        .with_state(site.clone());
    let server = rt.spawn(async move { axum::serve(listener, app).await });

    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    std::fs::create_dir_all(root.join("watchlists")).unwrap();
    std::fs::write(
        root.join("watchlists/w.toml"),
        "[[topic]]\nid = \"scenic\"\nname = \"景区安全\"\nseverity = \"major\"\nany = [\"坍塌\"]\nall = [\"景区\"]\n",
    )
    .unwrap();
    let mut config = format!(
        "[daemon]\nwatchlists = \"{r}/watchlists\"\nstate_dir = \"{r}/var\"\ntick = \"200ms\"\n\
         host_delay = \"0s\"\nper_host = 8\n\n[web]\nlisten = \"off\"\n\n\
         [[source]]\nid = \"healthy\"\nkind = \"feed\"\nurl = \"http://127.0.0.1:{port}/healthy.xml\"\nevery = \"1s\"\n",
        r = root.display()
    );
    for n in 0..4 {
        config.push_str(&format!(
            "\n[[source]]\nid = \"huge-{n}\"\nkind = \"feed\"\nurl = \"http://127.0.0.1:{port}/{n}.xml\"\nevery = \"2s\"\n"
        ));
    }
    let config_path = root.join("yuqing.toml");
    std::fs::write(&config_path, config).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_yuqing"))
        .current_dir(root)
        .env("RUST_LOG", "warn")
        .args(["run", "--config"])
        .arg(&config_path)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start yuqing run");
    let started = Instant::now();
    let mut peak = 0.0f64;
    while started.elapsed() < RUN {
        peak = peak.max(peak_rss_mb(child.id()));
        std::thread::sleep(Duration::from_millis(100));
    }
    peak = peak.max(peak_rss_mb(child.id()));
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
    let _ = child.wait();
    server.abort();
    let times = site.healthy.lock().unwrap().clone();
    assert!(
        times.len() >= 2,
        "the healthy feed was polled {} times",
        times.len()
    );
    let gap = times
        .windows(2)
        .map(|w| w[1].duration_since(w[0]).as_secs_f64())
        .fold(0.0, f64::max);
    (peak, gap)
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let (baseline, baseline_gap) = run(&rt, 100);
    eprintln!("baseline (100-byte titles): peak {baseline:.0} MB, healthy feed's largest gap {baseline_gap:.1}s");
    let (peak, gap) = run(&rt, TITLE_BYTES);
    eprintln!("four 10 MB titles: peak {peak:.0} MB, healthy feed's largest gap {gap:.1}s");
    println!(
        "{{\"peak_rss_mb\": {peak:.0}, \"baseline_rss_mb\": {baseline:.0}, \"ratio\": {:.2}, \
         \"healthy_max_gap_s\": {gap:.1}, \"baseline_max_gap_s\": {baseline_gap:.1}, \"healthy_every_s\": 1}}",
        peak / baseline
    );
}
