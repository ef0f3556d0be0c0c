//! Being a good guest on the sites we watch: at most a few requests at a time to one host,
//! and a minimum pause between two requests to it.
//!
//! Many sources are list pages of one government portal; polled together, they would look
//! like an attack and get the agency's address blocked, which is the worst outcome for a
//! monitor. The gate is per host name, in memory (one daemon); the scheduler enters it
//! before each poll. A host's limits are `[daemon] per_host` and `host_delay`, or its own
//! `[[host]]` entry's.
//!
//! Politeness has a price: a host can only be asked so often. [`host_loads`] works out,
//! from the config alone, whether each host's sources can all be polled within their
//! `every` under the gate (`yuqing sources`, `yuqing check`, `/metrics` and one mail to the
//! operators show the hosts that cannot).

use crate::config::{Config, Politeness};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

#[derive(Debug)]
struct Host {
    slots: Arc<Semaphore>,
    /// The earliest moment the next request may start.
    next_start: Instant,
}

/// Per-host concurrency limit and minimum delay.
#[derive(Debug)]
pub struct HostGate {
    per_host: usize,
    delay: Duration,
    /// Hosts with their own limits (`[[host]]`).
    own: BTreeMap<String, Politeness>,
    hosts: Mutex<HashMap<String, Host>>,
}

/// Held while a request to the host runs.
pub struct Pass {
    _slot: OwnedSemaphorePermit,
}

impl HostGate {
    pub fn new(per_host: usize, delay: Duration) -> HostGate {
        HostGate {
            per_host: per_host.max(1),
            delay,
            own: BTreeMap::new(),
            hosts: Mutex::new(HashMap::new()),
        }
    }

    /// The gate of `config`: `[daemon] per_host` and `host_delay`, and the `[[host]]`
    /// entries' own.
    pub fn of(config: &Config) -> HostGate {
        HostGate {
            own: config.hosts.clone(),
            ..HostGate::new(config.daemon.per_host, config.daemon.host_delay.std())
        }
    }

    /// Whether this gate keeps `config`'s limits (else a reload changed them).
    pub fn keeps(&self, config: &Config) -> bool {
        self.per_host == config.daemon.per_host.max(1)
            && self.delay == config.daemon.host_delay.std()
            && self.own == config.hosts
    }

    fn limits(&self, host: &str) -> (usize, Duration) {
        match self.own.get(host) {
            Some(p) => (p.per_host.max(1), p.delay.std()),
            None => (self.per_host, self.delay),
        }
    }

    /// Waits for a free slot for `host` and for its minimum delay, then lets one request in.
    pub async fn enter(&self, host: &str) -> Pass {
        self.enter_after(host, async {}).await.0
    }

    /// As [`enter`](Self::enter), awaiting `first` once the host has a free slot and before
    /// its start time is reserved. The scheduler waits there for a poll permit: a poll
    /// queued behind a busy host holds no permit (at most `per_host` of a host's polls do,
    /// for at most `delay`), so one overloaded host cannot stall the others; and the pause
    /// between two requests to a host holds however long the permit took.
    pub async fn enter_after<T>(
        &self,
        host: &str,
        first: impl std::future::Future<Output = T>,
    ) -> (Pass, T) {
        let (per_host, delay) = self.limits(host);
        let slots = {
            let mut hosts = self.hosts.lock().unwrap_or_else(|e| e.into_inner());
            hosts
                .entry(host.to_string())
                .or_insert_with(|| Host {
                    slots: Arc::new(Semaphore::new(per_host)),
                    next_start: Instant::now(),
                })
                .slots
                .clone()
        };
        let slot = slots
            .acquire_owned()
            .await
            .expect("the gate never closes its semaphores");
        let first = first.await;
        // Reserve a start time under the lock, then wait for it outside the lock.
        let start = {
            let mut hosts = self.hosts.lock().unwrap_or_else(|e| e.into_inner());
            let h = hosts.get_mut(host).expect("entry created above");
            let start = h.next_start.max(Instant::now());
            h.next_start = start + delay;
            start
        };
        tokio::time::sleep_until(start).await;
        (Pass { _slot: slot }, first)
    }
}

// ---------------------------------------------------------------------------------------
// Whether a host's sources fit its politeness

/// How one host's sources fare under the gate (with its `[[host]]` limits, if any).
///
/// The gate starts a request to a host at most once per `host_delay`, whatever `per_host`
/// is (which only bounds how many run at once). So in steady state a host serves at most
/// one request per `host_delay`, and its sources need
/// `load = Σ host_delay / every` of that capacity. Above 1 they cannot all be polled within
/// their intervals, however the polls are ordered: the backlog grows every round. One round
/// of every source (`pass`) takes at least `sources × host_delay`; when `load > 1` it is
/// longer than the shortest `every` (since `load ≤ pass / shortest`).
///
/// Conservative by design: the fetch time is left out. A request that takes longer than
/// `per_host × host_delay` makes the real rate `per_host / fetch`, lower still, so `pass`
/// is a lower bound and a host reported overloaded is overloaded.
#[derive(Debug, Clone, PartialEq)]
pub struct HostLoad {
    /// The URL's host name, as the gate keys it (the port is not part of it).
    pub host: String,
    /// Sources and own channels polled from this host.
    pub sources: usize,
    /// `per_host` of the host (`[[host]]`, else `[daemon]`).
    pub per_host: usize,
    /// `host_delay` of the host (`[[host]]`, else `[daemon]`).
    pub delay: Duration,
    /// The shortest `every` (or a channel's `poll_every`) among them.
    pub shortest: Duration,
    /// The least time one round of all of them takes: `sources × delay`.
    pub pass: Duration,
    /// The share of the host's capacity they need: `Σ delay / every`.
    pub load: f64,
}

impl HostLoad {
    /// Its sources cannot all be polled within their intervals (a host asked exactly as
    /// often as it may be is not, rounding aside).
    pub fn overloaded(&self) -> bool {
        self.load > 1.0 + 1e-9
    }

    /// The longest `host_delay` with which they fit (`delay / load`, whole milliseconds,
    /// rounded down); the current delay when they fit already.
    pub fn delay_to_fit(&self) -> Duration {
        if !self.overloaded() {
            return self.delay;
        }
        let ms = (self.delay.as_secs_f64() * 1000.0 / self.load).floor();
        Duration::from_millis(ms as u64)
    }

    /// The `every` which, given to each of the host's sources, makes them fit: the pass,
    /// rounded up to a whole minute (then `load ≤ pass / every ≤ 1`).
    pub fn every_to_fit(&self) -> Duration {
        let secs = self.pass.as_secs() + u64::from(self.pass.subsec_nanos() > 0);
        Duration::from_secs(secs.div_ceil(60).max(1) * 60)
    }

    /// The settings the verdict rests on, as the operators were told about them: a change
    /// of any of them (not a source more or less) is news.
    pub fn settings_key(&self) -> String {
        format!(
            "per_host={} host_delay={}ms shortest_every={}ms",
            self.per_host,
            self.delay.as_millis(),
            self.shortest.as_millis()
        )
    }
}

/// Every host of the config's sources and own channels, most loaded first.
pub fn host_loads(config: &Config) -> Vec<HostLoad> {
    let channels: Vec<crate::config::Source> =
        config.channels.iter().map(|c| c.as_source()).collect();
    loads(
        config
            .sources
            .iter()
            .chain(&channels)
            .map(|s| (s.url.host_str().unwrap_or(""), s.shortest_every().std())),
        &|host| config.politeness(host),
    )
}

/// The loads of `targets` (host, every), each host under its `politeness`, most loaded
/// first (then by host name).
pub fn loads<'a>(
    targets: impl IntoIterator<Item = (&'a str, Duration)>,
    politeness: &dyn Fn(&str) -> Politeness,
) -> Vec<HostLoad> {
    // Sources per interval, per host: the load is then a sum over the (few) intervals of
    // `count × delay / every`, each a division of integers, so 30 sources every 10s at 1s
    // are a load of exactly 3.
    let mut by_host: HashMap<&str, BTreeMap<Duration, u64>> = HashMap::new();
    for (host, every) in targets {
        // A zero interval asks for the impossible; count it as a millisecond.
        let every = every.max(Duration::from_millis(1));
        *by_host.entry(host).or_default().entry(every).or_default() += 1;
    }
    let mut out: Vec<HostLoad> = by_host
        .into_iter()
        .map(|(host, intervals)| {
            let p = politeness(host);
            let delay = p.delay.std();
            let sources: u64 = intervals.values().sum();
            let load = intervals
                .iter()
                .map(|(every, n)| (*n as f64 * delay.as_nanos() as f64) / every.as_nanos() as f64)
                .sum();
            HostLoad {
                host: host.to_string(),
                sources: sources as usize,
                per_host: p.per_host.max(1),
                delay,
                shortest: intervals.keys().next().copied().unwrap_or_default(),
                pass: delay.saturating_mul(u32::try_from(sources).unwrap_or(u32::MAX)),
                load,
            }
        })
        .collect();
    out.sort_by(|a, b| b.load.total_cmp(&a.load).then_with(|| a.host.cmp(&b.host)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: Duration = Duration::from_secs(60);

    /// Three requests to `host`, one after the other, are let through `delay` apart.
    async fn assert_spaced(gate: &HostGate, host: &str, delay: Duration) {
        let t0 = Instant::now();
        let mut starts = Vec::new();
        for _ in 0..3 {
            let _p = gate.enter(host).await;
            starts.push(Instant::now() - t0);
        }
        assert_eq!(starts, [Duration::ZERO, delay, 2 * delay], "{host}");
    }

    /// `loads` with one politeness for every host.
    fn loads_all<'a>(
        targets: impl IntoIterator<Item = (&'a str, Duration)>,
        per_host: usize,
        delay: Duration,
    ) -> Vec<HostLoad> {
        let p = Politeness {
            per_host,
            delay: crate::vocab::duration::Span(delay),
        };
        loads(targets, &|_| p)
    }

    #[tokio::test(start_paused = true)]
    async fn a_host_with_its_own_limits_is_gated_by_them() {
        let config = crate::config::parse(
            std::path::Path::new("yuqing.toml"),
            "[daemon]\nwatchlists = \"w\"\n\n[[host]]\nname = \"WWW.Gov.Example.CN\"\nper_host = 1\nhost_delay = \"200ms\"\n",
        )
        .unwrap();
        let gate = Arc::new(HostGate::of(&config));
        assert!(gate.keeps(&config));
        assert_spaced(&gate, "www.gov.example.cn", Duration::from_millis(200)).await;
        let other = Instant::now();
        let _a = gate.enter("bbs.example.cn").await;
        let _b = gate.enter("bbs.example.cn").await;
        assert_eq!(
            Instant::now() - other,
            Duration::from_secs(1),
            "[daemon]'s 1s"
        );
        // One slot for the host of its own: a second request waits for the first.
        let g = gate.clone();
        let held = gate.enter("www.gov.example.cn").await;
        let second = tokio::spawn(async move {
            let _p = g.enter("www.gov.example.cn").await;
        });
        tokio::time::sleep(Duration::from_secs(5)).await;
        assert!(!second.is_finished());
        drop(held);
        second.await.unwrap();
    }

    #[test]
    fn two_thousand_sources_every_five_minutes_at_one_a_second_do_not_fit() {
        let targets = (0..2000).map(|_| ("www.gov.example.cn", 5 * MIN));
        let l = loads_all(targets, 2, Duration::from_secs(1));
        assert_eq!(l.len(), 1);
        let h = &l[0];
        assert_eq!(h.sources, 2000);
        assert_eq!(
            h.pass,
            Duration::from_secs(2000),
            "about 33 minutes a round"
        );
        assert_eq!(h.shortest, 5 * MIN);
        assert!((h.load - 2000.0 / 300.0).abs() < 1e-9, "{}", h.load);
        assert!(h.overloaded());
        // Either fix makes them fit: 150ms between requests, or every 34 minutes.
        assert_eq!(h.delay_to_fit(), Duration::from_millis(150));
        assert_eq!(h.every_to_fit(), 34 * MIN);
        let with = |delay, every| {
            let targets = (0..2000).map(move |_| ("www.gov.example.cn", every));
            loads_all(targets, 2, delay)[0].overloaded()
        };
        assert!(!with(h.delay_to_fit(), 5 * MIN));
        assert!(!with(Duration::from_secs(1), h.every_to_fit()));
        assert!(
            with(Duration::from_millis(151), 5 * MIN),
            "the limit is tight"
        );
        assert!(with(Duration::from_secs(1), 33 * MIN), "the limit is tight");
    }

    #[test]
    fn hosts_are_counted_apart_and_mixed_intervals_by_their_rates() {
        // 1 source every 5 minutes and 1,000 daily ones: 1/300 + 1000/86400 ≈ 0.015 of
        // a one-a-second host; a round is 1,001s, over 5 minutes, yet the host keeps up.
        let mut targets = vec![("portal.example.cn", 5 * MIN)];
        targets.extend((0..1000).map(|_| ("portal.example.cn", 24 * 60 * MIN)));
        targets.extend((0..400).map(|_| ("bbs.example.cn", MIN)));
        targets.push(("lone.example.cn", Duration::from_secs(1)));
        let l = loads_all(targets, 2, Duration::from_secs(1));
        let hosts: Vec<(&str, bool)> = l
            .iter()
            .map(|h| (h.host.as_str(), h.overloaded()))
            .collect();
        assert_eq!(
            hosts,
            [
                ("bbs.example.cn", true),
                ("lone.example.cn", false),
                ("portal.example.cn", false)
            ]
        );
        let portal = &l[2];
        assert_eq!(portal.pass, Duration::from_secs(1001));
        assert_eq!(portal.shortest, 5 * MIN);
        assert!(portal.load < 0.02, "{}", portal.load);
        // One source asked once a second of a one-a-second host: exactly full, not over.
        assert_eq!(l[1].load, 1.0);
    }

    #[test]
    fn no_delay_never_overloads_and_the_key_names_the_settings() {
        let l = loads_all((0..5000).map(|_| ("h", MIN)), 2, Duration::ZERO);
        assert!(!l[0].overloaded());
        assert_eq!(l[0].pass, Duration::ZERO);
        let l = loads_all([("h", 5 * MIN), ("h", MIN)], 4, Duration::from_millis(1500));
        assert_eq!(
            l[0].settings_key(),
            "per_host=4 host_delay=1500ms shortest_every=60000ms"
        );
        assert_eq!(
            l[0].every_to_fit(),
            MIN,
            "a pass of 3s rounds up to a minute"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn requests_to_one_host_are_spaced_and_others_are_not() {
        let gate = Arc::new(HostGate::new(2, Duration::from_secs(1)));
        assert_spaced(&gate, "gov.example.cn", Duration::from_secs(1)).await;
        let other = Instant::now();
        let _p = gate.enter("bbs.example.cn").await;
        assert_eq!(
            Instant::now() - other,
            Duration::ZERO,
            "another host does not wait"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_poll_queued_behind_a_busy_host_holds_no_permit() {
        // Two polls at a time over all hosts; six for one host, then one for another.
        let gate = Arc::new(HostGate::new(2, Duration::from_secs(1)));
        let permits = Arc::new(Semaphore::new(2));
        let t0 = Instant::now();
        let mut tasks = Vec::new();
        for host in ["busy", "busy", "busy", "busy", "busy", "busy", "other"] {
            let (gate, permits) = (gate.clone(), permits.clone());
            tasks.push(tokio::spawn(async move {
                let (_pass, _permit) = gate.enter_after(host, permits.acquire_owned()).await;
                let started = Instant::now() - t0;
                tokio::time::sleep(Duration::from_millis(100)).await;
                (host, started)
            }));
            tokio::task::yield_now().await;
        }
        let mut busy = Vec::new();
        for t in tasks {
            match t.await.unwrap() {
                ("other", started) => assert!(
                    started <= Duration::from_millis(100),
                    "the other host waits only for the first poll to end: {started:?}"
                ),
                (_, started) => busy.push(started),
            }
        }
        busy.sort();
        for pair in busy.windows(2) {
            assert!(pair[1] - pair[0] >= Duration::from_secs(1), "{busy:?}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn at_most_per_host_requests_at_once() {
        let gate = Arc::new(HostGate::new(2, Duration::ZERO));
        let a = gate.enter("h").await;
        let _b = gate.enter("h").await;
        let g = gate.clone();
        let third = tokio::spawn(async move {
            let _c = g.enter("h").await;
        });
        tokio::time::sleep(Duration::from_secs(5)).await;
        assert!(!third.is_finished(), "a third request waits for a slot");
        drop(a);
        third.await.unwrap();
    }
}
