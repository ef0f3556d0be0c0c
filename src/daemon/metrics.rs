//! What the daemon is doing, for Prometheus and for a liveness probe: `GET /metrics` (the
//! Prometheus text format) and `GET /healthz`, served on `[daemon] metrics`.
//!
//! Counters and the poll-duration histogram are process-wide (one daemon per process); the
//! scheduler hands them numbers after each poll and each outbox drain (`record_poll`,
//! `record_mail`), so nothing below the daemon knows of them. The gauges
//! that live in the database (open incidents, unmet deadlines, the outbox) are read at
//! scrape time, with a timeout, so a locked or unreachable database never hangs a scrape:
//! the last values stay and `yuqing_store_up` drops to 0. Liveness is the monotonic time
//! of the scheduler's last completed loop turn (see `systemd::Notifier::turn_done`).

use crate::daemon::scheduler::Daemon;
use crate::store::{HeldBack, Store};
use crate::vocab::clock::secs;
use crate::vocab::severity::Severity;
use crate::vocab::state::DeadlineKind;
use anyhow::{Context, Result};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// How long a scrape or a health check waits for the database.
pub const STORE_TIMEOUT: Duration = Duration::from_secs(3);

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SourceLabel {
    pub source: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HostLabel {
    pub host: String,
}

/// At most this many hosts get their own `yuqing_host_…` series (the most loaded), so a
/// config of many small sites cannot blow up the label set.
pub const MAX_HOST_SERIES: usize = 20;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SeverityLabel {
    pub severity: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct KindLabel {
    pub kind: String,
}

type Seconds = Gauge<f64, AtomicU64>;

/// Every metric the daemon exports; names are `yuqing_…` (see README, "Metrics").
pub struct Metrics {
    registry: Registry,
    pub items_fetched: Family<SourceLabel, Counter>,
    pub items_new: Family<SourceLabel, Counter>,
    pub items_matched: Family<SourceLabel, Counter>,
    pub source_failures: Family<SourceLabel, Counter>,
    pub poll_duration: Family<SourceLabel, Histogram, fn() -> Histogram>,
    pub mail_sent: Counter,
    pub mail_failures: Counter,
    pub loop_turns: Counter,
    pub last_turn_age: Seconds,
    pub incidents_open: Family<SeverityLabel, Gauge>,
    pub deadlines_at_risk: Family<KindLabel, Gauge>,
    pub deadlines_missed: Family<KindLabel, Gauge>,
    pub outbox_depth: Gauge,
    pub outbox_oldest_age: Seconds,
    pub store_up: Gauge,
    pub store_failures: Counter,
    /// Instant messages (`[[notify]]`): delivered, retried, mailed instead; queued.
    pub notify_delivered: Counter,
    pub notify_retries: Counter,
    pub notify_fallbacks: Counter,
    pub notify_queue: Gauge,
    /// Hosts whose sources cannot all be polled within their intervals (see
    /// `fetch::politeness::host_loads`): how many, and for each (at most
    /// `MAX_HOST_SERIES`) the least time one round takes and the shortest interval.
    pub hosts_overloaded: Gauge,
    pub host_pass: Family<HostLabel, Seconds>,
    pub host_shortest_interval: Family<HostLabel, Seconds>,
}

fn poll_histogram() -> Histogram {
    // 50ms … ~100s.
    Histogram::new(exponential_buckets(0.05, 2.0, 12))
}

impl Metrics {
    fn new() -> Metrics {
        let m = Metrics {
            registry: Registry::with_prefix("yuqing"),
            items_fetched: Family::default(),
            items_new: Family::default(),
            items_matched: Family::default(),
            source_failures: Family::default(),
            poll_duration: Family::new_with_constructor(poll_histogram),
            mail_sent: Counter::default(),
            mail_failures: Counter::default(),
            loop_turns: Counter::default(),
            last_turn_age: Seconds::default(),
            incidents_open: Family::default(),
            deadlines_at_risk: Family::default(),
            deadlines_missed: Family::default(),
            outbox_depth: Gauge::default(),
            outbox_oldest_age: Seconds::default(),
            store_up: Gauge::default(),
            store_failures: Counter::default(),
            notify_delivered: Counter::default(),
            notify_retries: Counter::default(),
            notify_fallbacks: Counter::default(),
            notify_queue: Gauge::default(),
            hosts_overloaded: Gauge::default(),
            host_pass: Family::default(),
            host_shortest_interval: Family::default(),
        };
        let mut r = Registry::with_prefix("yuqing");
        r.register(
            "items_fetched",
            "Entries read from sources (an unchanged page read again counts again)",
            m.items_fetched.clone(),
        );
        r.register(
            "items_new",
            "Items stored for the first time",
            m.items_new.clone(),
        );
        r.register(
            "items_matched",
            "New or changed items that matched a watchlist topic",
            m.items_matched.clone(),
        );
        r.register(
            "source_failures",
            "Polls that failed because of the source (HTTP, timeout, unreadable content)",
            m.source_failures.clone(),
        );
        r.register(
            "poll_duration_seconds",
            "Time of one poll of one source, fetch to commit",
            m.poll_duration.clone(),
        );
        r.register(
            "mail_sent",
            "Messages the mail transport accepted",
            m.mail_sent.clone(),
        );
        r.register(
            "mail_failures",
            "Send attempts that failed (the message stays queued and is retried)",
            m.mail_failures.clone(),
        );
        r.register(
            "loop_turns",
            "Completed turns of the scheduler loop",
            m.loop_turns.clone(),
        );
        r.register(
            "last_turn_age_seconds",
            "Seconds since the scheduler loop last completed a turn",
            m.last_turn_age.clone(),
        );
        r.register(
            "incidents_open",
            "Incidents not closed (open or acknowledged), by severity",
            m.incidents_open.clone(),
        );
        r.register(
            "deadlines_at_risk",
            "Unmet deadlines due within their kind's earliest reminder",
            m.deadlines_at_risk.clone(),
        );
        r.register(
            "deadlines_missed",
            "Unmet deadlines past due, of incidents not closed",
            m.deadlines_missed.clone(),
        );
        r.register(
            "outbox_depth",
            "Messages queued and not yet sent",
            m.outbox_depth.clone(),
        );
        r.register(
            "outbox_oldest_age_seconds",
            "Age of the oldest unsent message (0 when none)",
            m.outbox_oldest_age.clone(),
        );
        r.register(
            "store_up",
            "1 when the last scrape could read the database, else 0",
            m.store_up.clone(),
        );
        r.register(
            "store_failures",
            "Polls that the database failed (not counted against their source)",
            m.store_failures.clone(),
        );
        r.register(
            "notify_delivered",
            "Instant messages the services accepted (alone or in a digest)",
            m.notify_delivered.clone(),
        );
        r.register(
            "notify_retries",
            "Instant messages not delivered and queued again (throttled, network, server)",
            m.notify_retries.clone(),
        );
        r.register(
            "notify_fallbacks",
            "Instant messages a service refused for good, mailed instead",
            m.notify_fallbacks.clone(),
        );
        r.register(
            "notify_queue",
            "Instant messages queued, neither delivered nor refused",
            m.notify_queue.clone(),
        );
        r.register(
            "hosts_overloaded",
            "Hosts whose sources cannot all be polled within their intervals under per_host and host_delay",
            m.hosts_overloaded.clone(),
        );
        r.register(
            "host_pass_seconds",
            "Least time one round of an overloaded host's sources takes (sources x host_delay)",
            m.host_pass.clone(),
        );
        r.register(
            "host_shortest_interval_seconds",
            "Shortest every among an overloaded host's sources",
            m.host_shortest_interval.clone(),
        );
        Metrics { registry: r, ..m }
    }

    /// The registry in the Prometheus text format (version 0.0.4).
    pub fn encode(&self) -> String {
        let mut out = String::new();
        prometheus_client::encoding::prometheus_text::encode(&mut out, &self.registry)
            .expect("writing to a String cannot fail");
        out
    }
}

static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::new);

/// The process-wide metrics.
pub fn get() -> &'static Metrics {
    &METRICS
}

fn source(id: &str) -> SourceLabel {
    SourceLabel {
        source: id.to_string(),
    }
}

/// What one successful poll found, counted for the metrics.
#[derive(Debug, Clone, Copy, Default)]
pub struct PollCounts {
    pub fetched: u64,
    pub new: u64,
    pub matched: u64,
}

/// One poll of `id` took `took`; `counts` are what it found, `None` when it failed.
pub fn record_poll(id: &str, took: Duration, counts: Option<PollCounts>) {
    let m = get();
    let label = source(id);
    m.poll_duration
        .get_or_create(&label)
        .observe(took.as_secs_f64());
    match counts {
        Some(c) => {
            m.items_fetched.get_or_create(&label).inc_by(c.fetched);
            m.items_new.get_or_create(&label).inc_by(c.new);
            m.items_matched.get_or_create(&label).inc_by(c.matched);
            // Present at 0, so that a rate() over it works from the first failure.
            let _ = m.source_failures.get_or_create(&label);
        }
        None => {
            m.source_failures.get_or_create(&label).inc();
        }
    }
}

/// A poll that the database failed (not counted against its source).
pub fn record_store_failure() {
    get().store_failures.inc();
}

/// What one pass of the instant-message sender did.
pub fn record_notify(delivered: u64, retried: u64, fell_back: u64) {
    let m = get();
    m.notify_delivered.inc_by(delivered);
    m.notify_retries.inc_by(retried);
    m.notify_fallbacks.inc_by(fell_back);
}

/// Messages the outbox sender delivered and failed to deliver.
pub fn record_mail(sent: u64, failed: u64) {
    let m = get();
    m.mail_sent.inc_by(sent);
    m.mail_failures.inc_by(failed);
}

// ---------------------------------------------------------------------------------------
// Liveness

struct Liveness {
    started: Instant,
    last_turn: Option<Instant>,
    /// The error of the last turn's store work, if it failed.
    store_error: Option<String>,
}

static LIVENESS: LazyLock<Mutex<Liveness>> = LazyLock::new(|| {
    Mutex::new(Liveness {
        started: Instant::now(),
        last_turn: None,
        store_error: None,
    })
});

/// Hook of the scheduler loop: a turn completed; `store_error` is why its store work
/// failed, if it did.
pub fn turn_completed(store_error: Option<String>) {
    get().loop_turns.inc();
    let mut l = LIVENESS.lock().unwrap_or_else(|e| e.into_inner());
    l.last_turn = Some(Instant::now());
    l.store_error = store_error;
}

/// What `/healthz` answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Health {
    /// The last loop turn completed this long ago.
    Ok(Duration),
    /// No turn completed yet, and the daemon started less than `stuck_after` ago.
    Starting,
    /// No turn completed for this long.
    Stuck(Duration),
    /// The loop turns, but its last turn's database work failed.
    TurnFailed(String),
    /// The database does not answer.
    StoreDown(String),
    /// Sources with items whose filing is held back: a stored row this version cannot
    /// read (an incident of their topic) keeps them out of incidents until it is repaired
    /// (the items are stored; the timed steps file them then).
    HeldBack(Vec<HeldBack>),
}

impl Health {
    pub fn is_ok(&self) -> bool {
        matches!(self, Health::Ok(_))
    }
}

impl std::fmt::Display for Health {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Health::Ok(age) => write!(f, "ok: last loop turn {:.1}s ago", age.as_secs_f64()),
            Health::Starting => write!(f, "starting: no loop turn completed yet"),
            Health::Stuck(age) => write!(
                f,
                "stuck: no loop turn completed for {:.0}s",
                age.as_secs_f64()
            ),
            Health::TurnFailed(e) => write!(f, "last loop turn failed: {e}"),
            Health::StoreDown(e) => write!(f, "database unreachable: {e}"),
            Health::HeldBack(held) => {
                write!(f, "items held back in {} source(s)", held.len())?;
                for h in held {
                    // One line a source, whatever the stored error holds.
                    let error = h.error.replace(['\r', '\n'], " ");
                    write!(
                        f,
                        "\nsource `{}`: {} filing(s) held back since {}: {error}",
                        h.source_id,
                        h.filings,
                        crate::vocab::clock::from_secs(h.since).to_rfc3339(),
                    )?;
                }
                Ok(())
            }
        }
    }
}

/// Judges liveness at `now` (pure, for tests): stuck beats a database error, since a
/// stuck loop sends nothing at all.
pub fn judge(
    now: Instant,
    started: Instant,
    last_turn: Option<Instant>,
    stuck_after: Duration,
    store_error: Option<&str>,
) -> Health {
    let age = now.saturating_duration_since(last_turn.unwrap_or(started));
    if age > stuck_after {
        return Health::Stuck(age);
    }
    if last_turn.is_none() {
        return Health::Starting;
    }
    match store_error {
        Some(e) => Health::TurnFailed(e.to_string()),
        None => Health::Ok(age),
    }
}

/// The daemon's health now: the loop's last turn, then what the database says
/// ([`store_health`]).
pub async fn health(d: &Daemon) -> Health {
    let settings = d.settings.get();
    let stuck_after = settings.config.daemon.stuck_after.std();
    let judged = {
        let l = LIVENESS.lock().unwrap_or_else(|e| e.into_inner());
        judge(
            Instant::now(),
            l.started,
            l.last_turn,
            stuck_after,
            l.store_error.as_deref(),
        )
    };
    if !judged.is_ok() {
        return judged;
    }
    store_health(&d.store).await.unwrap_or(judged)
}

/// What the database adds to a live loop's health, or `None` when all is well: it does
/// not answer within `STORE_TIMEOUT`, or a source has items whose filing is held back
/// (whether or not it is still configured: the timed steps file its items all the same).
/// The round trip that asks is the ping.
pub async fn store_health(store: &Store) -> Option<Health> {
    match tokio::time::timeout(STORE_TIMEOUT, store.held_back()).await {
        Ok(Ok(held)) => (!held.is_empty()).then_some(Health::HeldBack(held)),
        Ok(Err(e)) => Some(Health::StoreDown(format!("{e:#}"))),
        Err(_) => Some(Health::StoreDown(format!(
            "no answer within {}s",
            STORE_TIMEOUT.as_secs()
        ))),
    }
}

// ---------------------------------------------------------------------------------------
// Gauges from the store

/// Reads the database gauges now; on failure or timeout the last values stay and
/// `yuqing_store_up` is 0.
pub async fn refresh(d: &Daemon) {
    let m = get();
    let up = match tokio::time::timeout(STORE_TIMEOUT, read_gauges(d)).await {
        Ok(Ok(())) => 1,
        Ok(Err(e)) => {
            tracing::warn!(error = %format!("{e:#}"), "metrics: cannot read the database");
            0
        }
        Err(_) => {
            tracing::warn!("metrics: the database did not answer in time");
            0
        }
    };
    m.store_up.set(up);
    record_hosts(&d.settings.get());
    let age = LIVENESS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .last_turn
        .map_or(0.0, |t| t.elapsed().as_secs_f64());
    m.last_turn_age.set(age);
}

/// The overloaded hosts of the running settings (computed from the config, no database).
fn record_hosts(settings: &crate::config::settings::Settings) {
    let m = get();
    let over = crate::polling::hosts::overloaded(settings);
    m.hosts_overloaded.set(over.len() as i64);
    // Hosts that fit again (after a reload) lose their series.
    m.host_pass.clear();
    m.host_shortest_interval.clear();
    for (h, _) in over.iter().take(MAX_HOST_SERIES) {
        let label = HostLabel {
            host: h.host.clone(),
        };
        m.host_pass.get_or_create(&label).set(h.pass.as_secs_f64());
        m.host_shortest_interval
            .get_or_create(&label)
            .set(h.shortest.as_secs_f64());
    }
}

async fn read_gauges(d: &Daemon) -> Result<()> {
    let settings = d.settings.get();
    let now = secs(d.clock.now());
    let open = d.store.open_incidents_by_severity().await?;
    let unmet = d.store.unmet_deadlines().await?;
    let (depth, oldest) = d.store.outbox_depth().await?;
    let queued = d.store.notifications_pending().await?;
    let m = get();
    m.notify_queue.set(queued);
    for s in Severity::ALL {
        let n = open
            .iter()
            .filter(|(sev, _)| sev == s.as_str())
            .map(|(_, n)| n)
            .sum();
        m.incidents_open
            .get_or_create(&SeverityLabel {
                severity: s.as_str().to_string(),
            })
            .set(n);
    }
    let d = &settings.config.deadlines;
    for kind in [
        DeadlineKind::Release,
        DeadlineKind::PressConference,
        DeadlineKind::Response,
    ] {
        // At risk: inside the earliest reminder's lead (an hour when there is none).
        let window = d
            .reminders(kind)
            .iter()
            .map(|s| s.as_secs() as i64)
            .max()
            .unwrap_or(3600);
        let of_kind = unmet.iter().filter(|u| u.kind == kind);
        let missed = of_kind.clone().filter(|u| u.due_at <= now).count();
        let at_risk = of_kind
            .filter(|u| u.due_at > now && u.due_at - now <= window)
            .count();
        let label = KindLabel {
            kind: kind.to_string(),
        };
        m.deadlines_missed.get_or_create(&label).set(missed as i64);
        m.deadlines_at_risk
            .get_or_create(&label)
            .set(at_risk as i64);
    }
    m.outbox_depth.set(depth);
    m.outbox_oldest_age
        .set(oldest.map_or(0, |t| (now - t).max(0)) as f64);
    Ok(())
}

// ---------------------------------------------------------------------------------------
// The endpoint

/// Serves `/metrics` and `/healthz` on `[daemon] metrics` until `shutdown`; does nothing
/// when that is unset. Fails at once when the address cannot be bound. The address is
/// read at start: changing it needs a restart.
pub async fn serve(
    d: &Daemon,
    shutdown: CancellationToken,
) -> Result<Option<tokio::task::JoinHandle<()>>> {
    use axum::routing::get;
    let Some(addr) = d.settings.get().config.daemon.metrics else {
        return Ok(None);
    };
    let handles = crate::daemon::handles::raise_limit();
    let limits = crate::web::listener::Limits::new(
        crate::daemon::handles::budget(handles).metrics,
        d.settings.get().config.daemon.header_timeout.std(),
    );
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on [daemon] metrics = \"{addr}\""))?;
    let addr = listener.local_addr().unwrap_or(addr);
    let app = axum::Router::new()
        .route("/metrics", get(metrics_page))
        .route("/healthz", get(healthz_page))
        .with_state(d.clone());
    tracing::info!(
        address = %addr,
        max_connections = limits.max_connections,
        file_handles = handles,
        "serving /metrics and /healthz"
    );
    Ok(Some(tokio::spawn(crate::web::listener::serve(
        listener, app, limits, shutdown, "metrics",
    ))))
}

async fn metrics_page(
    axum::extract::State(d): axum::extract::State<Daemon>,
) -> impl axum::response::IntoResponse {
    refresh(&d).await;
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        get().encode(),
    )
}

async fn healthz_page(
    axum::extract::State(d): axum::extract::State<Daemon>,
) -> impl axum::response::IntoResponse {
    let h = health(&d).await;
    let status = if h.is_ok() {
        axum::http::StatusCode::OK
    } else {
        axum::http::StatusCode::SERVICE_UNAVAILABLE
    };
    (status, format!("{h}\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn health_follows_the_last_turn() {
        let t0 = Instant::now();
        let s = Duration::from_secs;
        let stuck = s(60);
        assert_eq!(judge(t0 + s(5), t0, None, stuck, None), Health::Starting);
        assert_eq!(
            judge(t0 + s(61), t0, None, stuck, None),
            Health::Stuck(s(61))
        );
        assert_eq!(
            judge(t0 + s(70), t0, Some(t0 + s(50)), stuck, None),
            Health::Ok(s(20))
        );
        assert_eq!(
            judge(t0 + s(200), t0, Some(t0 + s(50)), stuck, None),
            Health::Stuck(s(150))
        );
        // A database error matters only while the loop turns.
        assert_eq!(
            judge(t0 + s(70), t0, Some(t0 + s(50)), stuck, Some("locked")),
            Health::TurnFailed("locked".into())
        );
        assert_eq!(
            judge(t0 + s(200), t0, Some(t0 + s(50)), stuck, Some("locked")),
            Health::Stuck(s(150))
        );
        assert!(judge(t0 + s(70), t0, Some(t0 + s(50)), stuck, None).is_ok());
        assert_eq!(
            Health::Stuck(s(75)).to_string(),
            "stuck: no loop turn completed for 75s"
        );
    }

    #[test]
    fn held_back_items_are_not_ok_and_named_one_line_a_source() {
        let held = Health::HeldBack(vec![
            HeldBack {
                source_id: "news".into(),
                filings: 2,
                since: 1_795_568_400,
                error:
                    "cannot file item 7 under topic scenic: incident #1:\nseverity `catastrophic`"
                        .into(),
            },
            HeldBack {
                source_id: "forum".into(),
                filings: 1,
                since: 1_795_568_460,
                error: "x".into(),
            },
        ]);
        assert!(!held.is_ok());
        assert_eq!(
            held.to_string(),
            "items held back in 2 source(s)\n\
             source `news`: 2 filing(s) held back since 2026-11-25T01:00:00+00:00: cannot file \
             item 7 under topic scenic: incident #1: severity `catastrophic`\n\
             source `forum`: 1 filing(s) held back since 2026-11-25T01:01:00+00:00: x"
        );
    }

    #[test]
    fn only_loopback_without_opt_in() {
        assert_eq!(
            crate::config::listen_address("127.0.0.1:9464", false),
            Ok("127.0.0.1:9464".parse().unwrap())
        );
        assert!(crate::config::listen_address("[::1]:9464", false).is_ok());
        let e = crate::config::listen_address("0.0.0.0:9464", false).unwrap_err();
        assert!(e.contains("metrics_public = true"), "{e}");
        assert!(crate::config::listen_address("0.0.0.0:9464", true).is_ok());
        let e = crate::config::listen_address("localhost:9464", false).unwrap_err();
        assert!(e.contains("not an address:port"), "{e}");
    }

    #[test]
    fn config_keys() {
        use std::path::Path;
        let c =
            crate::config::parse(Path::new("y.toml"), "[daemon]\nwatchlists = \"w\"\n").unwrap();
        assert_eq!(c.daemon.metrics, None);
        assert_eq!(c.daemon.stuck_after.std(), Duration::from_secs(60));
        let c = crate::config::parse(
            Path::new("y.toml"),
            "[daemon]\ntick = \"30s\"\nmetrics = \"127.0.0.1:9464\"\n",
        )
        .unwrap();
        assert_eq!(c.daemon.metrics, Some("127.0.0.1:9464".parse().unwrap()));
        assert_eq!(c.daemon.stuck_after.std(), Duration::from_secs(90));
        let errs = crate::config::parse(
            Path::new("y.toml"),
            "[daemon]\nwatchlists = \"w\"\nmetrics = \"0.0.0.0:9464\"\n",
        )
        .unwrap_err()
        .to_string();
        assert!(
            errs.contains("y.toml:3:") && errs.contains("metrics_public"),
            "{errs}"
        );
    }

    #[test]
    fn encodes_prometheus_text() {
        record_poll(
            "unit-test-source",
            Duration::from_millis(120),
            Some(PollCounts {
                fetched: 3,
                new: 2,
                matched: 1,
            }),
        );
        let text = get().encode();
        for line in [
            "# TYPE yuqing_items_fetched_total counter",
            "yuqing_items_fetched_total{source=\"unit-test-source\"} 3",
            "yuqing_items_new_total{source=\"unit-test-source\"} 2",
            "yuqing_items_matched_total{source=\"unit-test-source\"} 1",
            "yuqing_source_failures_total{source=\"unit-test-source\"} 0",
            "yuqing_poll_duration_seconds_bucket{source=\"unit-test-source\",le=\"0.2\"} 1",
            "yuqing_poll_duration_seconds_count{source=\"unit-test-source\"} 1",
        ] {
            assert!(text.lines().any(|l| l == line), "no `{line}` in\n{text}");
        }
    }
}
