//! `cargo bench --bench poll`: one full polling cycle of 2,000 feeds through the real
//! fetch → parse → store → classify path, then a second cycle in which every feed is 304.
//!
//! An axum server on its own thread and current-thread runtime serves 2,000 RSS 2.0 feeds
//! of 20 items each on loopback (real UTF-8 bytes built once before the clock starts, each
//! feed with a strong ETag, `304 Not Modified` on a matching `If-None-Match`). The polling
//! side is the daemon's own: `Settings::load` on a generated config with 2,000 `[[source]]`s
//! and three starter watchlists, `Store::open` on an SQLite file in a temp dir, one shared
//! `Fetcher`, and `yuqing::polling::source::poll` for every source as a task holding one of
//! `scheduler::MAX_CONCURRENT_POLLS` (16) permits, as the scheduler runs them. One item in
//! 400 carries a sentence a watchlist matches, so classification opens and joins incidents.
//!
//! Prints a few lines for people on stderr, then, last, one JSON line on stdout:
//! `{"feeds", "cycle_s", "cycle_304_s", "items_per_s", "peak_rss_mb"}`. Peak RSS is
//! `VmHWM` of the whole process, so it includes the server's 2,000 prepared bodies
//! (`rss_before_mb` on stderr is the resident size just before the first cycle).
//! Deterministic data; a benchmark, not a timed test: it fails only if a poll fails or the
//! counts are not what the feeds hold.

use axum::extract::{Path as UrlPath, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use std::fmt::Write as _;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use yuqing::config::settings::Settings;
use yuqing::daemon::scheduler::MAX_CONCURRENT_POLLS;
use yuqing::fetch::{FetchSettings, Fetcher};
use yuqing::polling::source::{self, Report};
use yuqing::store::Store;
use yuqing::vocab::clock::SystemClock;

const FEEDS: usize = 2_000;
const ITEMS: usize = 20;
/// One item in this many carries a sentence a watchlist matches.
const MATCH_EVERY: usize = 400;
const WATCHLISTS: &[&str] = &["scenic-safety.toml", "tourism-market.toml", "hotels.toml"];

/// Sentences the starter watchlists match (their own `expect = true` examples).
const MATCHING: &[&str] = &[
    "某景区发生踩踏事件 3人受伤 景区已临时限流",
    "景区索道突发故障 40余名游客被困空中 消防正在救援",
    "跟团游被导游带进玉器店 不买不让走 游客:这就是强制购物",
    "游客吐槽景区门口餐馆天价烤串 一串羊肉38元",
    "演唱会门票开售后 周边酒店坐地起价 单方面取消订单",
    "女子入住民宿发现针孔摄像头 已报警",
];

/// Common characters with none of the watchlists' trigger words (no 游, 景, 火, 伤, 店…),
/// so that only the planted sentences match.
const POOL: &str = "的一是在了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主年动同工也\
能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当\
使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又\
么利比或但质气第向道命此变条只没结解问意建月公无系很情者最立代想已通并提直题党程展五果料象员位入常文总次\
品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别手角期根论运农指几九区强放决西被干做必先回则";

/// xorshift64*: reproducible without a dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// `min` to `min + spread - 1` characters of pool text with commas and full stops.
fn filler(rng: &mut Rng, pool: &[char], min: usize, spread: usize, out: &mut String) {
    let chars = min + rng.below(spread);
    for i in 0..chars {
        if i > 0 && i % (8 + rng.below(12)) == 0 {
            out.push(if rng.below(4) == 0 { '。' } else { '，' });
        } else {
            out.push(pool[rng.below(pool.len())]);
        }
    }
}

/// One feed as a site would serve it: RSS 2.0, UTF-8, newest first, dates within the last
/// hours (so matches open incidents rather than being filed as history).
fn feed_body(
    n: usize,
    rng: &mut Rng,
    pool: &[char],
    now: chrono::DateTime<chrono::Utc>,
) -> Vec<u8> {
    let mut out = String::with_capacity(16 * 1024);
    let _ = write!(
        out,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\">\n<channel>\n\
         <title>区县政务论坛 {n}</title>\n<link>http://127.0.0.1/forum/{n}</link>\n\
         <description>留言板</description>\n<language>zh-cn</language>\n"
    );
    for j in 0..ITEMS {
        let k = n * ITEMS + j;
        let published = now - chrono::Duration::minutes((j * 7 + n % 60) as i64);
        let mut title = String::new();
        let mut summary = String::new();
        if k % MATCH_EVERY == 0 {
            title.push_str(MATCHING[(k / MATCH_EVERY) % MATCHING.len()]);
        } else {
            filler(rng, pool, 12, 14, &mut title);
        }
        let _ = write!(title, "（第{k}号）");
        filler(rng, pool, 80, 160, &mut summary);
        let _ = write!(
            out,
            "<item>\n  <title>{title}</title>\n  <link>http://127.0.0.1/forum/{n}/thread/{k}</link>\n  \
             <guid isPermaLink=\"false\">forum-{n}-{k}</guid>\n  <pubDate>{}</pubDate>\n  \
             <description>{summary}</description>\n</item>\n",
            published.to_rfc2822()
        );
    }
    out.push_str("</channel>\n</rss>\n");
    out.into_bytes()
}

struct Feed {
    etag: String,
    body: axum::body::Bytes,
}

async fn serve(
    State(feeds): State<Arc<Vec<Feed>>>,
    UrlPath(n): UrlPath<usize>,
    request: HeaderMap,
) -> Response {
    let Some(feed) = feeds.get(n) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let etag = [(header::ETAG, feed.etag.clone())];
    let matches = request
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == feed.etag));
    if matches {
        return (StatusCode::NOT_MODIFIED, etag).into_response();
    }
    (
        StatusCode::OK,
        etag,
        [(header::CONTENT_TYPE, "application/rss+xml; charset=utf-8")],
        feed.body.clone(),
    )
        .into_response()
}

/// Starts the server on its own thread and runtime; returns its port.
fn start_server(feeds: Vec<Feed>) -> u16 {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("feed-server".into())
        .spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("server runtime");
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                    .await
                    .expect("listen on loopback");
                tx.send(listener.local_addr().expect("local address").port())
                    .expect("send port");
                let app = Router::new()
                    .route("/feed/{n}", get(serve))
                    .with_state(Arc::new(feeds));
                axum::serve(listener, app).await.expect("serve");
            });
        })
        .expect("server thread");
    rx.recv().expect("server port")
}

/// A `/proc/self/status` field in MB (Linux; 0 elsewhere).
fn proc_status_mb(field: &str) -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// Writes the config (2,000 sources) and three starter watchlists into `dir`.
fn write_config(dir: &Path, port: u16) -> std::path::PathBuf {
    let watchlists = dir.join("watchlists");
    std::fs::create_dir_all(&watchlists).expect("watchlists folder");
    let starter = Path::new(env!("CARGO_MANIFEST_DIR")).join("watchlists");
    for name in WATCHLISTS {
        std::fs::copy(starter.join(name), watchlists.join(name)).expect("copy watchlist");
    }
    let mut config = format!(
        "[daemon]\nwatchlists = \"{}\"\nstate_dir = \"{}\"\n\n\
         [mail]\ntransport = \"file\"\n\n",
        watchlists.display(),
        dir.join("var").display()
    );
    for n in 0..FEEDS {
        let _ = write!(
            config,
            "[[source]]\nid = \"forum-{n:04}\"\nname = \"区县政务论坛 {n}\"\nkind = \"feed\"\n\
             url = \"http://127.0.0.1:{port}/feed/{n}\"\nevery = \"5m\"\n\n"
        );
    }
    let path = dir.join("yuqing.toml");
    std::fs::write(&path, config).expect("write config");
    path
}

#[derive(Default, Debug)]
struct Totals {
    fetched: usize,
    new: usize,
    matched: usize,
    opened: usize,
    joined: usize,
    not_modified: usize,
    failed: usize,
}

/// Polls every source once, `MAX_CONCURRENT_POLLS` at a time, as the scheduler does.
async fn cycle(store: &Store, fetcher: &Fetcher, settings: &Arc<Settings>) -> (Duration, Totals) {
    let permits = Arc::new(Semaphore::new(MAX_CONCURRENT_POLLS));
    let mut polls: JoinSet<Result<Report, String>> = JoinSet::new();
    let start = Instant::now();
    for s in &settings.config.sources {
        let (store, fetcher, settings, source, permits) = (
            store.clone(),
            fetcher.clone(),
            settings.clone(),
            s.clone(),
            permits.clone(),
        );
        polls.spawn(async move {
            let _permit = permits.acquire_owned().await;
            source::poll(&store, &fetcher, &settings, &source, &SystemClock)
                .await
                .map_err(|e| format!("{}: {e}", source.id))
        });
    }
    let mut t = Totals::default();
    while let Some(done) = polls.join_next().await {
        match done.expect("poll task panicked") {
            Ok(r) => {
                t.fetched += r.fetched;
                t.new += r.new;
                t.matched += r.matched;
                t.opened += r.opened.len();
                t.joined += r.joined.len();
                t.not_modified += usize::from(r.not_modified);
            }
            Err(e) => {
                if t.failed < 5 {
                    eprintln!("poll failed: {e}");
                }
                t.failed += 1;
            }
        }
    }
    (start.elapsed(), t)
}

fn main() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let pool: Vec<char> = POOL.chars().collect();
    let now = chrono::Utc::now();
    let t0 = Instant::now();
    let feeds: Vec<Feed> = (0..FEEDS)
        .map(|n| Feed {
            etag: format!("\"feed-{n}-v1\""),
            body: feed_body(n, &mut rng, &pool, now).into(),
        })
        .collect();
    let feed_bytes: usize = feeds.iter().map(|f| f.body.len()).sum();
    eprintln!(
        "built {FEEDS} feeds x {ITEMS} items, {:.1} MB of RSS, in {:.2?}",
        feed_bytes as f64 / 1e6,
        t0.elapsed()
    );
    let port = start_server(feeds);

    let dir = tempfile::tempdir().expect("temp dir");
    let config = write_config(dir.path(), port);
    let t0 = Instant::now();
    let settings = Arc::new(Settings::load(&config).unwrap_or_else(|e| panic!("{e}")));
    eprintln!(
        "loaded config ({} sources) and {} topics in {:.2?}; database {}",
        settings.config.sources.len(),
        settings.watchlists.topics.len(),
        t0.elapsed(),
        settings.config.daemon.database
    );

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("poll runtime");
    let (cycle_s, cycle_304_s, items_per_s) = rt.block_on(async {
        let store = Store::open(&settings.config.daemon.database)
            .await
            .expect("open store");
        let fetcher = Fetcher::new(FetchSettings::new(
            settings.config.daemon.user_agent.clone(),
        ))
        .expect("HTTP client");
        eprintln!("rss_before_mb: {:.1}", proc_status_mb("VmRSS"));

        let (time, t) = cycle(&store, &fetcher, &settings).await;
        eprintln!("cycle 1: {time:.2?}  {t:?}");
        assert_eq!(t.failed, 0, "every poll succeeds");
        assert_eq!(t.new, FEEDS * ITEMS, "every item is new on the first cycle");
        let cycle_s = time.as_secs_f64();
        let items_per_s = t.new as f64 / cycle_s;

        let (time, t) = cycle(&store, &fetcher, &settings).await;
        eprintln!("cycle 2: {time:.2?}  {t:?}");
        assert_eq!(t.failed, 0, "every poll succeeds");
        assert_eq!(t.not_modified, FEEDS, "every source answers 304");
        store.close().await;
        (cycle_s, time.as_secs_f64(), items_per_s)
    });
    let db = std::fs::metadata(dir.path().join("var/yuqing.db")).map_or(0, |m| m.len());
    eprintln!("database file: {:.1} MB", db as f64 / 1e6);

    println!(
        "{{\"feeds\": {FEEDS}, \"cycle_s\": {cycle_s:.2}, \"cycle_304_s\": {cycle_304_s:.3}, \"items_per_s\": {items_per_s:.0}, \"peak_rss_mb\": {:.1}}}",
        proc_status_mb("VmHWM")
    );
}
