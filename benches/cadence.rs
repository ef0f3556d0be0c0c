//! `cargo bench --bench cadence`: how late items are first seen when sources are polled at a
//! fixed interval and with `every = "auto"` (issue 24 §5, `rules::cadence`), for the same
//! number of requests.
//!
//! An axum server on loopback serves one RSS 2.0 feed per source. Each source publishes on
//! its own Poisson schedule (reproducible: a seeded xorshift), and its feed holds the 20
//! newest items published up to the simulated moment. The mix is what an agency watches:
//! two busy keyword searches (20 and 12 posts an hour), two middling ones (2 an hour) and
//! forty government sites that publish twice a day, one of which has a story break on it
//! (10 posts an hour for two hours, from hour 30).
//!
//! The polling side is the daemon's own: `Settings::load` on a generated config,
//! `Store::open` on an SQLite file, `polling::source::poll` for each source when it is due,
//! and the next poll read back from the store as the scheduler reads it. Time is a
//! `ManualClock` moved from one due poll to the next over 48 simulated hours, so the run
//! takes seconds, not days.
//!
//! First `auto` (`every_min = "2m"`, `every_max = "30m"`, the defaults) runs and its requests are counted
//! at the server; then a fixed `every` is chosen to make the same number of requests (its
//! jitter included: one calibration run, then the interval corrected by the ratio of
//! requests), and runs on a fresh database. The lag of an item is when it was first
//! seen minus when it was published; items published in the last two simulated hours are
//! left out (neither policy has had its chance to see them).
//!
//! Prints a few lines for people on stderr, then one JSON line on stdout:
//! `{"sources", "hours", "items", "auto": {"requests", "p50_s", "p95_s", "story_p50_s",
//! "story_p95_s"}, "fixed": {"every_s", …the same}, "requests_ratio", "p50_ratio", "p95_ratio",
//! "story_p95_ratio"}`, the ratios being auto over fixed; `story_*` are the lags of the items
//! the quiet site published while its story broke. Aim (issue 24): `p95_ratio` at most 0.5.
//! A benchmark, not a timed test: it fails only if a poll fails or an item is never seen.

use axum::extract::{Path as UrlPath, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use chrono::{DateTime, TimeZone, Utc};
use std::fmt::Write as _;
use std::path::Path;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::Arc;
use yuqing::config::settings::Settings;
use yuqing::fetch::{FetchSettings, Fetcher};
use yuqing::polling::source;
use yuqing::store::Store;
use yuqing::vocab::clock::ManualClock;

const HOURS: i64 = 48;
/// Items published this close to the end are not counted.
const TAIL_S: i64 = 2 * 3_600;
const FEED_ITEMS: usize = 20;

/// (sources, posts per hour).
const MIX: &[(usize, f64)] = &[(1, 20.0), (1, 12.0), (2, 2.0), (40, 2.0 / 24.0)];
/// The story that breaks on a quiet site: (its index among the quiet ones, from hour, for
/// hours, posts per hour).
const BURST: (usize, i64, i64, f64) = (7, 30, 2, 10.0);

/// xorshift64*: reproducible without a dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Uniform in (0, 1].
    fn unit(&mut self) -> f64 {
        ((self.next() >> 11) as f64 + 1.0) / (1u64 << 53) as f64
    }
}

/// Publication times (seconds after the start) of a Poisson process of `per_hour` between
/// `from` and `to`.
fn poisson(rng: &mut Rng, per_hour: f64, from: i64, to: i64, out: &mut Vec<i64>) {
    let mut t = from as f64;
    loop {
        t += -rng.unit().ln() * 3_600.0 / per_hour;
        if t >= to as f64 {
            return;
        }
        out.push(t as i64);
    }
}

/// Every source's publication times, in order, and which source the story breaks on.
fn schedules() -> (Vec<Vec<i64>>, usize) {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut out = Vec::new();
    let mut quiet = 0;
    let mut breaking = 0;
    for &(n, per_hour) in MIX {
        for _ in 0..n {
            let mut times = Vec::new();
            poisson(&mut rng, per_hour, 0, HOURS * 3_600, &mut times);
            if per_hour < 1.0 {
                if quiet == BURST.0 {
                    breaking = out.len();
                    let (_, from, hours, rate) = BURST;
                    poisson(
                        &mut rng,
                        rate,
                        from * 3_600,
                        (from + hours) * 3_600,
                        &mut times,
                    );
                    times.sort_unstable();
                }
                quiet += 1;
            }
            out.push(times);
        }
    }
    (out, breaking)
}

struct Sim {
    start: i64,
    /// The source the story breaks on.
    breaking: usize,
    /// The simulated moment, in seconds after `start`.
    now: AtomicI64,
    schedules: Vec<Vec<i64>>,
    requests: AtomicUsize,
}

/// A source's feed as of the simulated moment: its 20 newest items, newest first.
async fn serve(State(sim): State<Arc<Sim>>, UrlPath(n): UrlPath<usize>) -> Response {
    sim.requests.fetch_add(1, Ordering::Relaxed);
    let Some(times) = sim.schedules.get(n) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let now = sim.now.load(Ordering::SeqCst);
    let published = times.partition_point(|&t| t <= now);
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\">\n<channel>\n\
         <title>来源 {n}</title>\n<link>http://127.0.0.1/s/{n}</link>\n<description>-</description>\n"
    );
    for k in (published.saturating_sub(FEED_ITEMS)..published).rev() {
        let at = Utc
            .timestamp_opt(sim.start + times[k], 0)
            .single()
            .expect("time");
        let _ = writeln!(
            out,
            "<item><title>来源{n}发布的第{k}条消息</title><link>http://127.0.0.1/s/{n}/{k}</link>\
             <guid isPermaLink=\"false\">s{n}-{k}</guid><pubDate>{}</pubDate>\
             <description>第{k}条消息的正文</description></item>",
            at.to_rfc2822()
        );
    }
    out.push_str("</channel>\n</rss>\n");
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/rss+xml; charset=utf-8")],
        out,
    )
        .into_response()
}

fn start_server(sim: Arc<Sim>) -> u16 {
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
                let app = Router::new().route("/s/{n}", get(serve)).with_state(sim);
                axum::serve(listener, app).await.expect("serve");
            });
        })
        .expect("server thread");
    rx.recv().expect("server port")
}

/// A config of every source polled with `every` (and its bounds), in `dir`.
fn write_config(dir: &Path, port: u16, sources: usize, every: &str) -> std::path::PathBuf {
    std::fs::create_dir_all(dir.join("watchlists")).expect("folder");
    std::fs::write(
        dir.join("watchlists/w.toml"),
        "[[topic]]\nid = \"none\"\nname = \"无\"\nseverity = \"ordinary\"\nany = [\"不会出现的词\"]\n",
    )
    .expect("watchlist");
    let mut config = format!(
        "[daemon]\nwatchlists = \"{}\"\nstate_dir = \"{}\"\n\n[mail]\ntransport = \"file\"\n\n",
        dir.join("watchlists").display(),
        dir.join("var").display()
    );
    for n in 0..sources {
        let _ = write!(
            config,
            "[[source]]\nid = \"s{n:02}\"\nkind = \"feed\"\nurl = \"http://127.0.0.1:{port}/s/{n}\"\n{every}\n\n"
        );
    }
    let path = dir.join("yuqing.toml");
    std::fs::write(&path, config).expect("config");
    path
}

struct Run {
    requests: usize,
    /// Lags of the counted items, in seconds, sorted.
    lags: Vec<i64>,
    /// Lags of the breaking story's items (those its source published during the burst).
    story: Vec<i64>,
}

fn percentile(sorted: &[i64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let k = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[k] as f64
}

/// Polls every source whenever it is due, from the start to the end of the simulation.
async fn run(sim: &Arc<Sim>, config: &Path) -> Run {
    let settings = Settings::load(config).unwrap_or_else(|e| panic!("{e}"));
    let store = Store::open(&settings.config.daemon.database)
        .await
        .expect("open store");
    let fetcher = Fetcher::new(FetchSettings::new(
        settings.config.daemon.user_agent.clone(),
    ))
    .expect("client");
    let start: DateTime<Utc> = Utc.timestamp_opt(sim.start, 0).single().expect("start");
    let clock = ManualClock::new(start);
    let end = sim.start + HOURS * 3_600;
    sim.requests.store(0, Ordering::SeqCst);
    let sources = &settings.config.sources;
    let mut next: Vec<i64> = vec![sim.start; sources.len()];
    loop {
        let t = *next.iter().min().expect("sources");
        if t >= end {
            break;
        }
        sim.now.store(t - sim.start, Ordering::SeqCst);
        clock.set(Utc.timestamp_opt(t, 0).single().expect("time"));
        for (k, s) in sources.iter().enumerate() {
            if next[k] > t {
                continue;
            }
            source::poll(&store, &fetcher, &settings, s, &clock)
                .await
                .unwrap_or_else(|e| panic!("{}: {e}", s.id));
            next[k] = store.source_state(&s.id).await.expect("state").next_poll;
            assert!(next[k] > t, "{} is polled again later", s.id);
        }
    }
    let requests = sim.requests.load(Ordering::SeqCst);
    let items = store.items(None, 0, 1_000_000).await.expect("items");
    let (from, to) = (
        sim.start + BURST.1 * 3_600,
        sim.start + (BURST.1 + BURST.2) * 3_600,
    );
    let breaking = format!("s{:02}", sim.breaking);
    let mut story: Vec<i64> = items
        .iter()
        .filter(|i| i.source_id == breaking)
        .filter_map(|i| Some((i.published_at?, i.fetched_at)))
        .filter(|&(p, _)| (from..to).contains(&p))
        .map(|(p, f)| f - p)
        .collect();
    story.sort_unstable();
    let mut lags: Vec<i64> = items
        .iter()
        .filter_map(|i| Some((i.published_at?, i.fetched_at)))
        .filter(|&(p, _)| p < end - TAIL_S)
        .map(|(p, f)| f - p)
        .collect();
    lags.sort_unstable();
    let counted: usize = sim
        .schedules
        .iter()
        .map(|s| s.iter().filter(|&&t| sim.start + t < end - TAIL_S).count())
        .sum();
    assert_eq!(lags.len(), counted, "every counted item was seen");
    store.close().await;
    Run {
        requests,
        lags,
        story,
    }
}

fn main() {
    let (schedules, breaking) = schedules();
    let sources = schedules.len();
    let items: usize = schedules.iter().map(Vec::len).sum();
    let sim = Arc::new(Sim {
        start: Utc
            .with_ymd_and_hms(2026, 11, 2, 0, 0, 0)
            .single()
            .expect("start")
            .timestamp(),
        breaking,
        now: AtomicI64::new(0),
        schedules,
        requests: AtomicUsize::new(0),
    });
    let port = start_server(sim.clone());
    let root = tempfile::tempdir().expect("temp dir");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let t0 = std::time::Instant::now();

    let auto = rt.block_on(run(
        &sim,
        &write_config(
            &root.path().join("auto"),
            port,
            sources,
            "every = \"auto\"\nevery_min = \"2m\"\nevery_max = \"30m\"",
        ),
    ));
    // The interval whose requests match auto's: jitter adds up to a tenth (5% on average).
    let budget_s = (sources as i64 * HOURS * 3_600) as f64 / auto.requests as f64;
    let mut every_s = (budget_s / 1.05).round() as u64;
    let mut fixed = rt.block_on(run(
        &sim,
        &write_config(
            &root.path().join("fixed-1"),
            port,
            sources,
            &format!("every = \"{every_s}s\""),
        ),
    ));
    let off = fixed.requests as f64 / auto.requests as f64;
    if (off - 1.0).abs() > 0.02 {
        every_s = (every_s as f64 * off).round() as u64;
        fixed = rt.block_on(run(
            &sim,
            &write_config(
                &root.path().join("fixed-2"),
                port,
                sources,
                &format!("every = \"{every_s}s\""),
            ),
        ));
    }
    let (a50, a95) = (percentile(&auto.lags, 0.5), percentile(&auto.lags, 0.95));
    let (f50, f95) = (percentile(&fixed.lags, 0.5), percentile(&fixed.lags, 0.95));
    let (as50, as95) = (percentile(&auto.story, 0.5), percentile(&auto.story, 0.95));
    let (fs50, fs95) = (
        percentile(&fixed.story, 0.5),
        percentile(&fixed.story, 0.95),
    );
    eprintln!(
        "{sources} sources, {items} items over {HOURS} h ({} counted); simulated in {:.1?}",
        auto.lags.len(),
        t0.elapsed()
    );
    eprintln!(
        "auto:  {} requests, lag p50 {a50:.0} s, p95 {a95:.0} s; the breaking story's {} items p50 {as50:.0} s, p95 {as95:.0} s",
        auto.requests,
        auto.story.len()
    );
    eprintln!(
        "fixed: every {every_s} s, {} requests, lag p50 {f50:.0} s, p95 {f95:.0} s; the breaking story's p50 {fs50:.0} s, p95 {fs95:.0} s",
        fixed.requests
    );
    println!(
        "{{\"sources\": {sources}, \"hours\": {HOURS}, \"items\": {}, \"auto\": {{\"requests\": {}, \"p50_s\": {a50:.0}, \"p95_s\": {a95:.0}, \"story_p50_s\": {as50:.0}, \"story_p95_s\": {as95:.0}}}, \"fixed\": {{\"every_s\": {every_s}, \"requests\": {}, \"p50_s\": {f50:.0}, \"p95_s\": {f95:.0}, \"story_p50_s\": {fs50:.0}, \"story_p95_s\": {fs95:.0}}}, \"requests_ratio\": {:.3}, \"p50_ratio\": {:.3}, \"p95_ratio\": {:.3}, \"story_p95_ratio\": {:.3}}}",
        auto.lags.len(),
        auto.requests,
        fixed.requests,
        auto.requests as f64 / fixed.requests as f64,
        a50 / f50,
        a95 / f95,
        as95 / fs95
    );
}
