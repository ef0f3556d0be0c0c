//! `cargo bench --bench poll`: one full polling cycle of 2,000 feeds through the real
//! fetch → parse → store → classify path, then a second cycle in which every feed is 304,
//! then a surge: the same 2,000 feeds again on a fresh database, with 5% of the items
//! (2,000) about one event, all joining one incident (issue 18).
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
//! The surge feeds replace the quiet ones on the server (one set in memory at a time), and
//! are polled into a new SQLite file as the quiet ones were: every item new, the first
//! about the event opens the incident and the other 1,999 join it, so the cycle pays for
//! 2,000 joins into an incident that grows to 2,000 items. `join_cost_ratio` is the time of
//! one `incident::on_match` join into an incident of 10,000 items over one into an incident
//! of 10 (the medians of 15 alternating blocks of 20 joins each, on its own SQLite file).
//!
//! Prints a few lines for people on stderr, then, last, one JSON line on stdout:
//! `{"feeds", "cycle_s", "cycle_304_s", "items_per_s", "surge_cycle_s", "surge_ratio",
//! "surge_joined", "join_cost_ratio", "vs_rss2email", "peak_rss_mb"}`: `surge_ratio` is the
//! surge cycle over the quiet one, `vs_rss2email` is rss2email's first pass of the same
//! 40,000 items (73 s, measured in issue 18) over the quiet cycle. Peak RSS is `VmHWM` of the
//! whole process, so it includes the server's 2,000 prepared bodies (`rss_before_mb` on
//! stderr is the resident size just before the first cycle).
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
/// In the surge, one item in this many (5%) is about the one event.
const SURGE_EVERY: usize = 20;
/// rss2email's first pass of the same 40,000 items, single-threaded (issue 18).
const RSS2EMAIL_FIRST_PASS_S: f64 = 73.0;

/// The surge's event as its reports title it: the headline (a starter watchlist's own
/// example) with each report's own words after it; all match `scenic-safety` only.
fn surge_title(k: usize) -> String {
    const TAILS: &[&str] = &[
        "现场视频",
        "最新进展",
        "网友热议",
        "官方通报",
        "目击者讲述",
        "被困游客已全部获救",
    ];
    format!(
        "景区索道突发故障 40余名游客被困空中 消防正在救援 {}",
        TAILS[k % TAILS.len()]
    )
}

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
    surge: bool,
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
        if surge {
            if k.is_multiple_of(SURGE_EVERY) {
                title.push_str(&surge_title(k / SURGE_EVERY));
            } else {
                filler(rng, pool, 12, 14, &mut title);
            }
        } else if k.is_multiple_of(MATCH_EVERY) {
            title.push_str(MATCHING[(k / MATCH_EVERY) % MATCHING.len()]);
        } else {
            filler(rng, pool, 12, 14, &mut title);
        }
        let _ = write!(title, "（第{k}号）");
        filler(rng, pool, 80, 160, &mut summary);
        // The surge's items link to pages this server serves (relative, resolved against
        // the feed's URL), so that capture fetches real pages.
        let link = if surge {
            format!("/thread/{n}/{k}")
        } else {
            format!("http://127.0.0.1/forum/{n}/thread/{k}")
        };
        let _ = write!(
            out,
            "<item>\n  <title>{title}</title>\n  <link>{link}</link>\n  \
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

/// What the server serves; replaced between scenarios (one set of bodies in memory).
type Feeds = Arc<std::sync::RwLock<Arc<Vec<Feed>>>>;

async fn serve(
    State(feeds): State<Feeds>,
    UrlPath(n): UrlPath<usize>,
    request: HeaderMap,
) -> Response {
    let feeds = feeds.read().expect("feeds lock").clone();
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

/// An item's own page: a news article of about 3 KB, its text about the surge's event.
async fn article(UrlPath((n, k)): UrlPath<(usize, usize)>) -> Response {
    let mut body = String::with_capacity(4096);
    let _ = write!(
        body,
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{} - 区县政务论坛 {n}</title>\
         <meta name=\"publishdate\" content=\"2026-11-24 09:00\"></head><body>\
         <div class=\"nav\">首页 > 论坛 > 民生</div><div class=\"article\"><h1>{}</h1>\
         <div class=\"info\">发布时间：2026-11-24 09:00　来源：区县政务论坛</div>",
        surge_title(k / SURGE_EVERY),
        surge_title(k / SURGE_EVERY)
    );
    for p in 0..8 {
        let _ = write!(
            body,
            "<p>第{p}段：今日上午，某景区索道突发故障，40余名游客被困空中。景区管理方已启动应急预案，\
             消防、公安等部门赶赴现场开展救援，被困游客正陆续转移至安全地带，具体原因正在调查中（第{k}号）。</p>"
        );
    }
    body.push_str("</div><div class=\"footer\">版权所有</div></body></html>");
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        body,
    )
        .into_response()
}

/// Starts the server on its own thread and runtime; returns its port.
fn start_server(feeds: Feeds) -> u16 {
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
                    .route("/thread/{n}/{k}", get(article))
                    .with_state(feeds);
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

/// Writes the config (2,000 sources) and three starter watchlists (or all of them, see
/// `YUQING_BENCH_WATCHLISTS`) into `dir`.
fn write_config(dir: &Path, port: u16) -> std::path::PathBuf {
    std::fs::create_dir_all(dir).expect("config folder");
    let watchlists = dir.join("watchlists");
    std::fs::create_dir_all(&watchlists).expect("watchlists folder");
    let starter = Path::new(env!("CARGO_MANIFEST_DIR")).join("watchlists");
    // `YUQING_BENCH_WATCHLISTS=all`: every starter watchlist, as `yuqing poll` runs with the
    // shipped config, to see what the other topics cost.
    let all = std::env::var("YUQING_BENCH_WATCHLISTS").is_ok_and(|v| v == "all");
    let names: Vec<String> = if all {
        std::fs::read_dir(&starter)
            .expect("starter watchlists")
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".toml"))
            .collect()
    } else {
        WATCHLISTS.iter().map(|s| s.to_string()).collect()
    };
    for name in &names {
        std::fs::copy(starter.join(name), watchlists.join(name)).expect("copy watchlist");
    }
    let mut config = format!(
        "[daemon]\nwatchlists = \"{}\"\nstate_dir = \"{}\"\n\n\
         [mail]\ntransport = \"file\"\n\n",
        watchlists.display(),
        dir.join("var").display()
    );
    for n in 0..FEEDS {
        // With every watchlist, the 12345-hotline topic needs its sources: the last feeds.
        let id = match FEEDS - 1 - n {
            0 if all => "hotline-12345".to_string(),
            1 if all => "mayor-mailbox".to_string(),
            _ => format!("forum-{n:04}"),
        };
        let _ = write!(
            config,
            "[[source]]\nid = \"{id}\"\nname = \"区县政务论坛 {n}\"\nkind = \"feed\"\n\
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
    let mut build = |surge: bool| -> Arc<Vec<Feed>> {
        let t0 = Instant::now();
        let feeds: Vec<Feed> = (0..FEEDS)
            .map(|n| Feed {
                etag: format!("\"feed-{n}-v1-{surge}\""),
                body: feed_body(n, &mut rng, &pool, now, surge).into(),
            })
            .collect();
        let feed_bytes: usize = feeds.iter().map(|f| f.body.len()).sum();
        eprintln!(
            "built {FEEDS} feeds x {ITEMS} items{}, {:.1} MB of RSS, in {:.2?}",
            if surge { " (surge)" } else { "" },
            feed_bytes as f64 / 1e6,
            t0.elapsed()
        );
        Arc::new(feeds)
    };
    let feeds: Feeds = Arc::new(std::sync::RwLock::new(build(false)));
    let port = start_server(feeds.clone());

    let root = tempfile::tempdir().expect("temp dir");
    let config = write_config(&root.path().join("quiet"), port);
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
    let db = std::fs::metadata(root.path().join("quiet/var/yuqing.db")).map_or(0, |m| m.len());
    eprintln!(
        "database file: {:.1} MB; peak RSS so far (quiet and 304 cycles): {:.1} MB",
        db as f64 / 1e6,
        proc_status_mb("VmHWM")
    );

    // The surge: the same feeds with 5% of the items about one event, on a fresh database.
    *feeds.write().expect("feeds lock") = Arc::new(Vec::new());
    *feeds.write().expect("feeds lock") = build(true);
    let config = write_config(&root.path().join("surge"), port);
    let settings = Arc::new(Settings::load(&config).unwrap_or_else(|e| panic!("{e}")));
    let (surge_cycle_s, surge_joined) = rt.block_on(async {
        let store = Store::open(&settings.config.daemon.database)
            .await
            .expect("open store");
        let fetcher = Fetcher::new(FetchSettings::new(
            settings.config.daemon.user_agent.clone(),
        ))
        .expect("HTTP client");
        let (time, t) = cycle(&store, &fetcher, &settings).await;
        eprintln!("surge cycle: {time:.2?}  {t:?}");
        assert_eq!(t.failed, 0, "every poll succeeds");
        assert_eq!(t.new, FEEDS * ITEMS, "every item is new");
        assert_eq!(
            t.matched,
            FEEDS * ITEMS / SURGE_EVERY,
            "the event's items match"
        );
        // With every starter watchlist some of the event's reports are also an emergency
        // (another topic, another incident), so only the three-watchlist run is exact.
        if !std::env::var("YUQING_BENCH_WATCHLISTS").is_ok_and(|v| v == "all") {
            assert_eq!(
                (t.opened, t.joined),
                (1, FEEDS * ITEMS / SURGE_EVERY - 1),
                "the event's first item opens one incident and the others join it"
            );
        }
        store.close().await;
        (time.as_secs_f64(), t.joined)
    });
    let join_cost_ratio = rt.block_on(join_cost_ratio(&root.path().join("joins")));
    // Issue 23 §8: the surge again, as the daemon runs it (housekeeping sending mail every
    // 50 ms beside the polls), with capture off and then on for the matched items; the
    // time from the cycle's start to the event's alert being sent, in the same run.
    let off = rt.block_on(alert_latency(&root.path().join("alert-off"), port, false));
    let on = rt.block_on(alert_latency(&root.path().join("alert-on"), port, true));
    eprintln!("alert latency, capture off: {off:?}");
    eprintln!("alert latency, capture on:  {on:?}");

    println!(
        "{{\"feeds\": {FEEDS}, \"cycle_s\": {cycle_s:.2}, \"cycle_304_s\": {cycle_304_s:.3}, \"items_per_s\": {items_per_s:.0}, \"surge_cycle_s\": {surge_cycle_s:.2}, \"surge_ratio\": {:.2}, \"surge_joined\": {surge_joined}, \"join_cost_ratio\": {join_cost_ratio:.2}, \"vs_rss2email\": {:.1}, \"alert_s_capture_off\": {:.3}, \"alert_s_capture_on\": {:.3}, \"alert_ratio\": {:.2}, \"surge_cycle_s_capture_off\": {:.2}, \"surge_cycle_s_capture_on\": {:.2}, \"captured\": {}, \"capture_s\": {:.2}, \"peak_rss_mb\": {:.1}}}",
        surge_cycle_s / cycle_s,
        RSS2EMAIL_FIRST_PASS_S / cycle_s,
        off.alert_s,
        on.alert_s,
        on.alert_s / off.alert_s,
        off.cycle_s,
        on.cycle_s,
        on.captured,
        on.capture_s,
        proc_status_mb("VmHWM")
    );
}

/// The time of one join into an incident of 10,000 items over one into an incident of 10:
/// items stored and joined through the store and `incident::on_match`, each in its own
/// transaction, on an SQLite file in `dir`. Timed in blocks of 20 joins (one into each of
/// 20 incidents of 10 items, or 20 into the large one), 15 blocks of each alternating;
/// the medians of the blocks' means.
async fn join_cost_ratio(dir: &Path) -> f64 {
    use chrono::TimeZone;
    use yuqing::incident::{self, Outcome};
    use yuqing::store::{NewItem, Stored};
    use yuqing::vocab::severity::Severity;

    const ROUNDS: usize = 15;
    /// Incidents of 10 items, each joined once per round: a block of `SMALL` joins is
    /// timed against `SMALL` joins into the large one, so that one slow wake-up of a
    /// thread does not decide a sub-millisecond figure.
    const SMALL: usize = 20;
    std::fs::create_dir_all(dir.join("watchlists")).expect("folder");
    std::fs::write(
        dir.join("watchlists/w.toml"),
        (0..SMALL)
            .map(|k| format!("small{k}"))
            .chain(["large".to_string()])
            .map(|id| {
                format!("[[topic]]\nid = \"{id}\"\nname = \"景区安全\"\nany = [\"景区\"]\n\n")
            })
            .collect::<String>(),
    )
    .expect("watchlist");
    let config = dir.join("yuqing.toml");
    std::fs::write(
        &config,
        format!(
            "[daemon]\nwatchlists = \"{0}/watchlists\"\nstate_dir = \"{0}/var\"\n\n\
             [mail]\ntransport = \"file\"\n\n[grouping]\nwindow = \"3650d\"\n",
            dir.display()
        ),
    )
    .expect("config");
    let settings = Settings::load(&config).unwrap_or_else(|e| panic!("{e}"));
    let store = Store::open(&settings.config.daemon.database)
        .await
        .expect("open store");
    let now = chrono::Utc.with_ymd_and_hms(2026, 11, 24, 1, 0, 0).unwrap();
    let title = |topic: &str, n: usize| {
        let base = if topic.starts_with("small") {
            "示例山景区索道故障 游客被困空中"
        } else {
            "古城景区一碗面卖98元 网友称被宰客"
        };
        format!("{base} 第{n}条 现场视频 网友热议 {}", n * 7919 % 10_007)
    };
    // Joins `count` items (from `from`) to the topic's incident, `batch` per transaction.
    let add = |topic: &str, from: usize, count: usize, batch: usize| {
        let topic = topic.to_string();
        let (store, settings, title) = (&store, &settings, &title);
        async move {
            let mut last = None;
            for chunk in (from..from + count).collect::<Vec<_>>().chunks(batch) {
                let mut tx = store.begin().await.expect("begin");
                for &n in chunk {
                    let (guid, hash, t) = (
                        format!("{topic}-{n}"),
                        format!("h-{topic}-{n}"),
                        title(&topic, n),
                    );
                    let item = NewItem {
                        source_id: &topic,
                        guid: &guid,
                        link: None,
                        title: &t,
                        summary: "",
                        published_at: None,
                        content_hash: &hash,
                    };
                    let Stored::New(row) = store
                        .store_item(&mut tx, &item, now.timestamp())
                        .await
                        .expect("store")
                    else {
                        panic!("a new item")
                    };
                    let at = now + chrono::Duration::seconds(n as i64 % 1000);
                    let matched = incident::Match {
                        item: &row,
                        topic_id: &topic,
                        topic_name: "景区安全",
                        severity: Severity::Major,
                        words: Vec::new(),
                    };
                    last = Some(
                        incident::on_match(
                            store,
                            &mut tx,
                            settings,
                            &matched,
                            at,
                            &mut Default::default(),
                        )
                        .await
                        .expect("on_match"),
                    );
                }
                tx.commit().await.expect("commit");
            }
            last.expect("at least one item")
        }
    };
    let t0 = Instant::now();
    let small_topics: Vec<String> = (0..SMALL).map(|k| format!("small{k}")).collect();
    for topic in &small_topics {
        add(topic, 0, 10, 10).await;
    }
    add("large", 0, 10_000, 250).await;
    eprintln!(
        "built {SMALL} incidents of 10 items and one of 10,000 in {:.1?}",
        t0.elapsed()
    );
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (mut small, mut large) = (Vec::new(), Vec::new());
    // Each join is its own transaction, as a poll's page is; the two blocks alternate
    // which goes first, so that drift in the machine's load falls on both.
    let block = |topics: Vec<String>, from: usize| {
        let add = &add;
        async move {
            let t = Instant::now();
            for (k, topic) in topics.iter().enumerate() {
                let o = add(topic, from + k, 1, 1).await;
                assert!(matches!(o, Outcome::Joined(_)), "{o:?}");
            }
            t.elapsed().as_secs_f64() / topics.len() as f64
        }
    };
    for r in 0..ROUNDS {
        let into_large = vec!["large".to_string(); SMALL];
        let from = 100_000 + r * SMALL;
        if r % 2 == 0 {
            small.push(block(small_topics.clone(), from).await);
            large.push(block(into_large, from).await);
        } else {
            large.push(block(into_large, from).await);
            small.push(block(small_topics.clone(), from).await);
        }
    }
    store.close().await;
    let (small, large) = (median(small), median(large));
    eprintln!(
        "one join into 10 to {} items: {:.2} ms; into 10,000 to {}: {:.2} ms",
        10 + ROUNDS,
        small * 1e3,
        10_000 + ROUNDS * SMALL,
        large * 1e3
    );
    large / small
}

/// What one surge run with the daemon's housekeeping (and evidence work) beside the polls
/// measured.
#[derive(Debug, Default)]
struct Alert {
    /// From the cycle's start until the event's `opened` mail was sent.
    alert_s: f64,
    /// The polling cycle alone.
    cycle_s: f64,
    /// Pages kept, and from the cycle's start until the last was.
    captured: usize,
    capture_s: f64,
}

/// The surge polled into a fresh database in `dir` by a started `Daemon` (`[evidence]
/// capture` "matched" or "off"), its housekeeping (mail) every 50 ms and, with capture, its
/// evidence work in a loop beside the polls, as `Daemon::run` spawns them.
async fn alert_latency(dir: &Path, port: u16, capture: bool) -> Alert {
    use yuqing::daemon::scheduler::Daemon;
    use yuqing::fetch::politeness::HostGate;
    let config = write_config(dir, port);
    let mut text = std::fs::read_to_string(&config).expect("config");
    text = text.replacen(
        "[mail]\n",
        &format!(
            "[evidence]\ncapture = \"{}\"\n\n[people]\nduty = [\"duty@example.gov.cn\"]\n\n[mail]\n",
            if capture { "matched" } else { "off" }
        ),
        1,
    );
    std::fs::write(&config, text).expect("config");
    let settings = Settings::load(&config).unwrap_or_else(|e| panic!("{e}"));
    let daemon = Daemon::start(config.clone(), settings, Arc::new(SystemClock))
        .await
        .expect("start the daemon");
    let settings = daemon.settings.get();
    let gate = Arc::new(HostGate::of(&settings.config));
    let started = Instant::now();
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mail = {
        let (d, done) = (daemon.clone(), done.clone());
        tokio::spawn(async move {
            let mut sent_at = None;
            while !done.load(std::sync::atomic::Ordering::Relaxed) || sent_at.is_none() {
                d.housekeeping().await.expect("housekeeping");
                if sent_at.is_none() {
                    let out = d.store.outbox().await.expect("outbox");
                    if out
                        .iter()
                        .any(|m| m.kind == "opened" && m.sent_at.is_some())
                    {
                        sent_at = Some(started.elapsed());
                    }
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            sent_at.expect("the alert was sent")
        })
    };
    let evidence = {
        let (d, done, gate) = (daemon.clone(), done.clone(), gate.clone());
        tokio::spawn(async move {
            let (mut captured, mut last) = (0, Duration::ZERO);
            loop {
                let batch = d.keep_evidence(&gate).await.expect("evidence");
                captured += batch.len();
                if !batch.is_empty() {
                    last = started.elapsed();
                }
                let idle = batch.is_empty();
                if idle && done.load(std::sync::atomic::Ordering::Relaxed) {
                    let (captures, _rechecks) = d.store.evidence_backlog().await.expect("backlog");
                    if captures == 0 {
                        break;
                    }
                }
                if idle {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
            (captured, last)
        })
    };
    let (time, t) = cycle(&daemon.store, &daemon.fetcher, &settings).await;
    assert_eq!(t.failed, 0, "every poll succeeds");
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    let alert = mail.await.expect("mail task");
    let (captured, last) = evidence.await.expect("evidence task");
    if capture {
        assert_eq!(
            captured,
            FEEDS * ITEMS / SURGE_EVERY,
            "every matched item's page is kept"
        );
    } else {
        assert_eq!(captured, 0);
    }
    daemon.store.close().await;
    Alert {
        alert_s: alert.as_secs_f64(),
        cycle_s: time.as_secs_f64(),
        captured,
        capture_s: last.as_secs_f64(),
    }
}
