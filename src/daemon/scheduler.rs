//! The daemon's one loop: poll the sources that are due, fire the deadlines that passed,
//! and drain the outbox; reload the operator's files on SIGHUP.
//!
//! Nothing is kept only in memory: what is due is read from the store on every turn, so a
//! restart picks up exactly where the last run stopped, and a deadline that passed while
//! the daemon was down fires on the first turn, once. Polls run as tasks (at most
//! `MAX_CONCURRENT_POLLS` at a time, one per source), so a slow site never delays a
//! deadline. Shutdown is one [`CancellationToken`]: the loop stops starting work, gives the
//! polls in flight a few seconds to store what they read and then cuts them, sends what is
//! queued and gives up its leases, all within `STOP_WITHIN`, half of systemd's stop timeout.

use crate::config::settings::{Current, Settings};
use crate::config::{Channel, Source};
use crate::daemon::metrics;
use crate::fetch::politeness::HostGate;
use crate::fetch::{FetchSettings, Fetcher};
use crate::incident;
use crate::notify::alert::queue;
use crate::notify::dispatch::Dispatcher;
use crate::notify::outbox::{Drained, Sender};
use crate::polling::source::{self, PollError};
use crate::store::{leases, Store};
use crate::vocab::clock::{secs, Clock};
use anyhow::{Context, Result};
use futures_util::future::{BoxFuture, FutureExt};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// The default of `[daemon] max_concurrent_polls`.
pub const MAX_CONCURRENT_POLLS: usize = 16;

/// On SIGTERM: how long polls in flight may take to finish (a page already read is stored),
/// before they are cut; then how long the last mail pass may take; then giving up the
/// leases and closing the database. Together (`STOP_WITHIN`) well inside systemd's
/// `TimeoutStopSec=30s`, which kills what is still running, final mail pass and all.
pub const STOP_POLLS: Duration = Duration::from_secs(4);
pub const STOP_MAIL: Duration = Duration::from_secs(6);
pub const STOP_STORE: Duration = Duration::from_secs(2);
/// The longest a stop takes, at most half of the unit's `TimeoutStopSec=`.
pub const STOP_WITHIN: Duration =
    Duration::from_secs(STOP_POLLS.as_secs() + STOP_MAIL.as_secs() + 2 * STOP_STORE.as_secs());

/// Everything the loop needs, shared by its tasks.
#[derive(Clone)]
pub struct Daemon {
    pub store: Store,
    pub settings: Current,
    pub clock: Arc<dyn Clock>,
    pub fetcher: Fetcher,
    pub sender: Arc<Sender>,
    /// The instant-message sender (`[[notify]]`).
    pub dispatcher: Arc<Dispatcher>,
    /// The WARC files this daemon writes evidence into (`[evidence] dir`).
    pub archive: crate::evidence::capture::Archive,
    /// The config file, for reloads.
    pub config_path: PathBuf,
    /// What the operator's files looked like at the last (re)load.
    files_seen: Arc<Mutex<Fingerprint>>,
    /// Whether this daemon held the housekeeping lease at its last turn (for the log).
    leading: Arc<AtomicBool>,
    /// The last error of each kind the loop logged, and when (see `report`).
    errors: Arc<Mutex<HashMap<&'static str, (String, std::time::Instant)>>>,
    /// The mistakes of the last rejected reload, and whether the operators were mailed them.
    rejected: Arc<Mutex<Rejected>>,
    /// The local day the calendar was last updated from `[daemon] calendar_url`.
    calendar_updated: Arc<Mutex<Option<chrono::NaiveDate>>>,
    /// Retention's state (`[retention] items`): the day it last finished, the batch size.
    pruned: Arc<Mutex<Pruning>>,
    /// The overloaded hosts and settings last reconciled with the operators' mail (see
    /// `polling::hosts`): the store is asked again only when these change.
    hosts_told: Arc<Mutex<Option<Vec<String>>>>,
}

/// Evidence rows claimed at a time, and fetched at once (each through the host gate).
const EVIDENCE_BATCH: i64 = 8;
pub const EVIDENCE_AT_ONCE: usize = 4;

/// The daemon's daily retention (`Daemon::prune`).
#[derive(Default)]
struct Pruning {
    /// The local day whose pruning is done.
    day: Option<chrono::NaiveDate>,
    /// Items deleted so far in the pruning under way.
    items: i64,
    /// The size of the next batch.
    batch: crate::store::PruneBatch,
    /// The longest a batch of it held the write lock.
    longest: std::time::Duration,
}

/// A rejected reload, mailed to the operators once per set of mistakes.
#[derive(Default)]
struct Rejected {
    /// The mistakes last mailed; cleared by a reload that succeeds.
    mailed: Option<Vec<String>>,
    /// Mistakes to mail at the next loop turn.
    pending: Option<Vec<String>>,
}

/// How long the loop keeps quiet about an error it just logged.
const REPEAT_QUIET: Duration = Duration::from_secs(60);

/// Name, size and modification time of the config file, every watchlist file and every
/// calendar file: when it changes, the daemon reloads, as it does on SIGHUP (so next year's
/// calendar, dropped into the folder, is used without a restart).
type Fingerprint = Vec<(PathBuf, u64, Option<SystemTime>)>;

fn fingerprint(config: &Path, watchlists: &Path, calendar: &Path) -> std::io::Result<Fingerprint> {
    // A folder or file that is not there is part of the picture (it may come later); any
    // other failure to look (out of file handles, say) says nothing about the files, and
    // must not look like an edit that triggers a reload.
    let missing = |e: &std::io::Error| e.kind() == std::io::ErrorKind::NotFound;
    let mut files = vec![config.to_path_buf()];
    for (dir, ext) in [(watchlists, "toml"), (calendar, "json")] {
        match std::fs::read_dir(dir) {
            Ok(dir) => {
                for e in dir {
                    let p = e?.path();
                    if p.extension().is_some_and(|x| x == ext) {
                        files.push(p);
                    }
                }
            }
            Err(e) if missing(&e) => {}
            Err(e) => return Err(e),
        }
    }
    files.sort();
    files
        .into_iter()
        .map(|p| match std::fs::metadata(&p) {
            Ok(m) => Ok((p, m.len(), m.modified().ok())),
            Err(e) if missing(&e) => Ok((p, 0, None)),
            Err(e) => Err(e),
        })
        .collect()
}

impl Daemon {
    /// Opens the store and builds the HTTP client and mail sender for `settings`.
    pub async fn start(
        config_path: PathBuf,
        settings: Settings,
        clock: Arc<dyn Clock>,
    ) -> Result<Daemon> {
        crate::daemon::memory::return_large_buffers();
        let store = Store::open(&settings.config.daemon.database).await?;
        let fetcher = Fetcher::new(FetchSettings::new(
            settings.config.daemon.user_agent.clone(),
        ))
        .context("cannot build the HTTP client")?;
        let lease = settings.config.daemon.lease.std();
        let sender = Arc::new(Sender::new(&settings.config.mail)?.with_lease(lease));
        let dispatcher = Arc::new(Dispatcher::new(&settings.config)?);
        match store.free_dead_local(leases::identity()).await {
            Ok(freed) if !freed.is_empty() => {
                tracing::info!(?freed, "freed the leases of daemons of this host that died")
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %format!("{e:#}"), "cannot check for stale leases"),
        }
        sync_source_urls(&store, &settings.config).await;
        let archive = crate::evidence::capture::Archive::new(&settings);
        let d = &settings.config.daemon;
        let seen = fingerprint(&config_path, &d.watchlists, &d.calendar).unwrap_or_default();
        Ok(Daemon {
            files_seen: Arc::new(Mutex::new(seen)),
            calendar_updated: Arc::new(Mutex::new(None)),
            pruned: Default::default(),
            hosts_told: Arc::default(),
            rejected: Arc::default(),
            leading: Arc::new(AtomicBool::new(false)),
            errors: Arc::default(),
            store,
            settings: Current::new(settings),
            clock,
            fetcher,
            sender,
            dispatcher,
            archive,
            config_path,
        })
    }

    /// Claims the evidence work that is due (captures of new items, rechecks of kept pages)
    /// and does it, [`EVIDENCE_AT_ONCE`] rows at a time, each request through `gate`, the
    /// polls' host gate; returns what each row came to. A row the database failed to record
    /// is let go, to be tried again a minute later.
    pub async fn keep_evidence(
        &self,
        gate: &HostGate,
    ) -> Result<Vec<(i64, crate::evidence::capture::Done)>> {
        use futures_util::StreamExt;
        let settings = self.settings.get();
        let now = self.clock.now();
        let until = leases::lease_end(secs(now), settings.config.daemon.lease.std());
        let tasks = self
            .store
            .claim_evidence(leases::identity(), secs(now), until, EVIDENCE_BATCH)
            .await?;
        let ctx = crate::evidence::capture::Ctx {
            store: &self.store,
            fetcher: &self.fetcher,
            settings: &settings,
            archive: &self.archive,
            gate,
            clock: &*self.clock,
        };
        let ctx = &ctx;
        let done: Vec<_> = futures_util::stream::iter(tasks)
            .map(|task| async move {
                let result = crate::evidence::capture::work(ctx, &task).await;
                (task, result)
            })
            .buffer_unordered(EVIDENCE_AT_ONCE)
            .collect()
            .await;
        let mut out = Vec::new();
        for (task, result) in done {
            match result {
                Ok(d) => out.push((task.item_id, d)),
                Err(e) => {
                    tracing::error!(item_id = task.item_id, error = %format!("{e:#}"), "cannot record the evidence; trying again in a minute");
                    let retry = secs(self.clock.now()) + 60;
                    if let Err(e) = self.store.retry_evidence(task.id, retry).await {
                        tracing::warn!(item_id = task.item_id, error = %format!("{e:#}"), "cannot let go of the evidence row; its lease runs out");
                    }
                }
            }
        }
        Ok(out)
    }

    /// Serves the duty console on `[web] listen` (see `web::serve`) until `shutdown`.
    pub async fn serve_console(
        &self,
        shutdown: CancellationToken,
    ) -> Result<Option<(std::net::SocketAddr, tokio::task::JoinHandle<()>)>> {
        // An eighth of the console's slots is kept for people logged in.
        let limits = crate::web::listener::Limits::new(
            crate::daemon::handles::budget(crate::daemon::handles::raise_limit()).console,
            self.settings.get().config.daemon.header_timeout.std(),
        )
        .keeping_for_logged_in();
        crate::web::serve(
            self.store.clone(),
            self.settings.clone(),
            self.clock.clone(),
            limits,
            shutdown,
        )
        .await
    }

    /// Polls every source (or only `only`) once, now, then fires deadlines and sends mail.
    pub async fn poll_once(
        &self,
        only: Option<&str>,
    ) -> Result<Vec<(String, Result<source::Report, String>)>> {
        let settings = self.settings.get();
        // As the loop polls: `max_concurrent_polls` at a time, each host no more than
        // `per_host` at a time with `host_delay` between requests. Results in config order.
        let d = &settings.config.daemon;
        let permits = Arc::new(Semaphore::new(d.max_concurrent_polls));
        let gate = Arc::new(HostGate::of(&settings.config));
        let (sources, channels): (Vec<_>, Vec<_>) = poll_targets(&settings.config)
            .filter(|(s, _)| only.is_none_or(|id| id == s.id))
            .partition(|(_, channel)| channel.is_none());
        // The sources first, then the own channels, as a pass always went: a release
        // posted on a channel is matched against the incidents this pass opened.
        let mut out = Vec::new();
        for targets in [sources, channels] {
            let mut polls = JoinSet::new();
            for (n, (source, channel)) in targets.into_iter().enumerate() {
                let (me, settings) = (self.clone(), settings.clone());
                let (permits, gate) = (permits.clone(), gate.clone());
                polls.spawn(async move {
                    let channel = channel.as_ref();
                    let r = me.poll_admitted(&settings, &source, channel, permits, &gate);
                    (n, source.id.clone(), r.await.map_err(|e| e.to_string()))
                });
            }
            let mut done = Vec::new();
            while let Some(d) = polls.join_next().await {
                done.push(d.context("a poll task panicked")?);
            }
            done.sort_by_key(|(n, _, _)| *n);
            out.extend(done.into_iter().map(|(_, id, r)| (id, r)));
        }
        self.housekeeping().await?;
        // A one-off command lets go of the housekeeping lead at once, not after the lease.
        self.store.release_leases(leases::identity()).await?;
        Ok(out)
    }

    /// [`poll_one`](Self::poll_one) once the source's host has a slot, then a permit: a
    /// poll queued behind a busy host holds no permit that another host's poll could use.
    async fn poll_admitted(
        &self,
        settings: &Settings,
        source: &Source,
        channel: Option<&Channel>,
        permits: Arc<Semaphore>,
        gate: &HostGate,
    ) -> Result<source::Report, PollError> {
        let host = source.url.host_str().unwrap_or("");
        let (_pass, _permit) = gate.enter_after(host, permits.acquire_owned()).await;
        self.poll_one(settings, source, channel).await
    }

    /// Polls one source, or one own channel (`channel`, whose source is `source`), and
    /// hands the poll's duration and counts to the metrics.
    async fn poll_one(
        &self,
        settings: &Settings,
        source: &Source,
        channel: Option<&Channel>,
    ) -> Result<source::Report, PollError> {
        let started = std::time::Instant::now();
        let clock = &*self.clock;
        let result = match channel {
            None => source::poll(&self.store, &self.fetcher, settings, source, clock).await,
            Some(c) => {
                crate::polling::channel::poll(&self.store, &self.fetcher, settings, c, clock).await
            }
        };
        let took = started.elapsed();
        match &result {
            Ok(r) => metrics::record_poll(
                &source.id,
                took,
                Some(metrics::PollCounts {
                    fetched: r.fetched as u64,
                    new: r.new as u64,
                    matched: r.matched as u64,
                }),
            ),
            Err(PollError::Source(_)) => metrics::record_poll(&source.id, took, None),
            // The database's failure, not the source's.
            Err(PollError::Store(_)) => metrics::record_store_failure(),
        }
        result
    }

    /// Fires due deadlines (when this daemon holds the housekeeping lease) and drains the
    /// outbox.
    pub async fn housekeeping(&self) -> Result<()> {
        let settings = self.settings.get();
        let now = self.clock.now();
        // A timed step that failed is returned at the end: the mail already queued (an
        // incident's opening alert) still goes out this turn.
        let mut fired = Ok(());
        if self.lead(&settings, now).await? {
            fired = self.fire_timed(&settings, now).await;
            // A file written now is read on the next turn's reload; until then the
            // calendar in force would still call it missing.
            if !self.update_calendar(&settings, now).await {
                if let Err(e) = crate::obligations::fire_calendar_missing(
                    &self.store,
                    &settings.config,
                    &settings.calendar,
                    now,
                )
                .await
                {
                    self.report(
                        "cannot queue the mail about a missing calendar; will retry",
                        &e,
                    );
                }
            }
            if let Err(e) = self.prune(&settings, now).await {
                self.report("cannot prune old items; will retry", &e);
            }
        }
        self.tell_overloaded_hosts(&settings, now).await;
        // Instant messages first (they wake people; a mail relay timing out must not hold
        // them back), then mail, including any fallback the messages just queued.
        let messaged = self
            .dispatcher
            .drain(&self.store, &settings.config, now)
            .await;
        if let Ok(m) = &messaged {
            metrics::record_notify(m.delivered as u64, m.retried as u64, m.fell_back as u64);
        }
        let mut drained = Drained::default();
        self.sender
            .drain_into(&self.store, now, &mut drained, &mut |sent| {
                metrics::record_mail(u64::from(sent), u64::from(!sent))
            })
            .await
            .context("cannot send mail")?;
        messaged.context("cannot send instant messages")?;
        fired
    }

    /// With `[retention] items`: once a local day, deletes the items older than that which no
    /// incident holds, one batch per turn, sized to hold the write lock about
    /// `store::PRUNE_HOLD` at most (`store::PruneBatch`), so polls go on between batches.
    async fn prune(&self, settings: &Settings, now: chrono::DateTime<chrono::Utc>) -> Result<()> {
        let Some(keep) = settings.config.retention.items else {
            return Ok(());
        };
        let today = now
            .with_timezone(&settings.config.daemon.timezone)
            .date_naive();
        let size = {
            let p = self.pruned.lock().unwrap_or_else(|e| e.into_inner());
            if p.day == Some(today) {
                return Ok(());
            }
            p.batch.size()
        };
        let before = crate::vocab::clock::secs(now) - keep.as_secs() as i64;
        let batch = self.store.prune_items(before, size).await?;
        let mut p = self.pruned.lock().unwrap_or_else(|e| e.into_inner());
        p.items += batch.deleted;
        p.batch.after(batch.deleted, batch.held);
        p.longest = p.longest.max(batch.held);
        if !batch.more {
            tracing::info!(
                items = p.items,
                before,
                longest_hold_ms = p.longest.as_millis() as u64,
                "pruned old items"
            );
            *p = Pruning {
                day: Some(today),
                batch: p.batch,
                ..Pruning::default()
            };
        }
        Ok(())
    }

    /// Tells the operators, once, about each host whose sources cannot all be polled within
    /// their intervals (`polling::hosts`); a database failure is retried next turn.
    async fn tell_overloaded_hosts(&self, settings: &Settings, now: chrono::DateTime<chrono::Utc>) {
        let keys: Vec<String> = crate::polling::hosts::overloaded(settings)
            .into_iter()
            .map(|(h, key)| format!("{} {key}", h.host))
            .collect();
        if self
            .hosts_told
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            == Some(&keys)
        {
            return;
        }
        match crate::polling::hosts::tell_operators(&self.store, settings, now).await {
            Ok(_) => *self.hosts_told.lock().unwrap_or_else(|e| e.into_inner()) = Some(keys),
            Err(e) => self.report(
                "cannot queue the mail about overloaded hosts; will retry",
                &e,
            ),
        }
    }

    /// Once a local day, with `[daemon] calendar_url` set: this year's and next year's
    /// holiday-cn files, as `yuqing calendar update` does. A written file changes the
    /// calendar folder's fingerprint, so the next turn's `reload_if_changed` reads it.
    /// Returns whether it wrote a file.
    async fn update_calendar(
        &self,
        settings: &Settings,
        now: chrono::DateTime<chrono::Utc>,
    ) -> bool {
        use crate::polling::calendar::YearUpdate;
        use chrono::Datelike;
        let Some(base) = &settings.config.daemon.calendar_url else {
            return false;
        };
        let today = now
            .with_timezone(&settings.config.daemon.timezone)
            .date_naive();
        {
            let mut done = self
                .calendar_updated
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            if *done == Some(today) {
                return false;
            }
            *done = Some(today);
        }
        let dir = &settings.config.daemon.calendar;
        let year = today.year();
        let mut wrote = false;
        for r in crate::polling::calendar::update(&self.fetcher, base, dir, &[year, year + 1]).await
        {
            match r {
                YearUpdate::Written { year, changes, .. } => {
                    wrote = true;
                    tracing::warn!(year, changes = ?changes, "working-day calendar updated");
                }
                YearUpdate::Unchanged { year } => {
                    tracing::debug!(year, "working-day calendar unchanged")
                }
                YearUpdate::NotPublished { year, why } => {
                    tracing::info!(year, why = %why, "working-day calendar not published yet")
                }
                YearUpdate::Failed { year, error } => {
                    tracing::warn!(year, error = %error, "cannot update the working-day calendar; keeping the copy")
                }
            }
        }
        wrote
    }

    /// Takes or renews the housekeeping lease; returns whether this daemon holds it. Only
    /// its holder fires deadlines and other timed mail, so several daemons on one database
    /// queue each such mail once; when the holder dies another takes over within the lease.
    async fn lead(&self, settings: &Settings, now: chrono::DateTime<chrono::Utc>) -> Result<bool> {
        let until = leases::lease_end(secs(now), settings.config.daemon.lease.std());
        let me = leases::identity();
        let leading = self
            .store
            .take_lease(leases::HOUSEKEEPING, me, secs(now), until)
            .await
            .context("cannot take the housekeeping lease")?;
        if leading != self.leading.swap(leading, Ordering::Relaxed) {
            if leading {
                tracing::info!(
                    holder = me,
                    "took the housekeeping lease: this daemon fires deadlines"
                );
            } else {
                let other = self.store.lease(leases::HOUSEKEEPING).await.ok().flatten();
                tracing::info!(holder = ?other.map(|(h, _)| h), "another daemon fires deadlines");
            }
        }
        Ok(leading)
    }

    async fn fire_timed(
        &self,
        settings: &Settings,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<()> {
        let config = &settings.config;
        // Each step on its own: one that fails (a database error, a stored value this
        // version cannot read) is reported and returned at the end, and the others, and
        // the mail after them, still go out.
        let mut first: Option<anyhow::Error> = None;
        let mut step = |result: Result<()>, what: &'static str| {
            if let Err(e) = result {
                self.report(what, &e);
                first.get_or_insert(e.context(what));
            }
        };
        // In this order: a future does nothing until it is awaited.
        let incident_mail: [(BoxFuture<'_, Result<usize>>, &'static str); 5] = [
            // First: an item filed now is in the new-items mail and the escalations below.
            (
                incident::fire_held(&self.store, settings, now).boxed(),
                "cannot file items held back by a row that cannot be read",
            ),
            (
                incident::fire_unacknowledged(&self.store, config, now).boxed(),
                "cannot queue unacknowledged-incident mail",
            ),
            (
                incident::fire_new_items(&self.store, config, now).boxed(),
                "cannot queue new-item mail",
            ),
            (
                incident::fire_reminders(&self.store, config, now).boxed(),
                "cannot queue deadline reminders",
            ),
            (
                incident::fire_breaches(&self.store, config, now).boxed(),
                "cannot fire due deadlines",
            ),
        ];
        for (fire, what) in incident_mail {
            step(fire.await.map(drop), what);
        }
        // The own channels' publication duties and the scheduled reports.
        let calendar = crate::obligations::needs_calendar(&settings.config)
            .then_some(&settings.calendar)
            .filter(|c| c.years().next().is_some());
        // Logged, not returned: a failure here must not hold back the incident mail below.
        if let Err(e) = crate::obligations::fire(&self.store, &settings.config, calendar, now).await
        {
            self.report("cannot queue publication duty mail; will retry", &e);
        }
        if let Err(e) =
            crate::obligations::reports::fire(&self.store, settings, calendar, now).await
        {
            self.report("cannot run scheduled jobs; will retry", &e);
        }
        step(
            incident::fire_lifecycle(&self.store, config, now)
                .await
                .map(drop),
            "cannot close incidents whose monitoring ended",
        );
        first.map_or(Ok(()), Err)
    }

    /// Runs until `shutdown` is cancelled.
    pub async fn run(self, shutdown: CancellationToken) -> Result<()> {
        let mut polls = Polls::new(&self.settings.get().config);
        // One batch of evidence work at a time, beside the polls and never before them in
        // a turn: an item's alert was queued when its poll committed.
        let mut evidence: Option<tokio::task::JoinHandle<()>> = None;
        let mut reload = reload_signal()?;
        let mut sd = crate::daemon::systemd::Notifier::from_env();
        {
            let s = self.settings.get();
            tracing::info!(
                sources = s.config.sources.len(),
                topics = s.watchlists.topics.len(),
                database = %s.config.daemon.database,
                holder = leases::identity(),
                lease_s = s.config.daemon.lease.as_secs(),
                mail = %self.sender.describe(),
                "yuqing running"
            );
        }
        let mut synced = self.settings.get();
        loop {
            self.reload_if_changed();
            let settings = self.settings.get();
            if !Arc::ptr_eq(&settings, &synced) {
                // A reload (a file change or SIGHUP) may have moved a source.
                sync_source_urls(&self.store, &settings.config).await;
                synced = settings.clone();
            }
            polls.keep_up_with(&settings.config);
            let now = self.clock.now();
            self.mail_rejected_reload().await;
            sd.turn_started();
            let until = leases::lease_end(secs(now), settings.config.daemon.lease.std());
            let me = leases::identity();
            self.start_due_polls(&settings, &mut polls, now, until)
                .await;

            if evidence.as_ref().is_none_or(|h| h.is_finished()) {
                let (d, gate) = (self.clone(), polls.gate.clone());
                evidence = Some(tokio::spawn(async move {
                    if let Err(e) = d.keep_evidence(&gate).await {
                        d.report("cannot claim due evidence work", &e);
                    }
                }));
            } else if let Err(e) = self.store.renew_evidence(me, until).await {
                self.report("cannot renew the claims on evidence work", &e);
            }

            let turn = self.housekeeping().await;
            if let Err(e) = &turn {
                self.report("housekeeping failed; will retry", e);
            }
            sd.turn_done(&self, polls.in_flight.len(), &turn).await;

            let tick = settings
                .config
                .daemon
                .tick
                .std()
                .max(Duration::from_millis(50))
                .min(sd.max_sleep());
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = tokio::time::sleep(tick) => {}
                Some(done) = polls.set.join_next_with_id(), if !polls.set.is_empty() => {
                    polls.finished(done);
                }
                _ = reload.recv() => sd.reloading(|| self.reload()),
            }
            // The rest that finished meanwhile.
            polls.reap();
        }

        sd.stopping();
        self.stop(polls.set, evidence).await;
        Ok(())
    }

    /// Sources and the own channels (read the same way, into posts) whose next poll is due
    /// and that no daemon is polling: claimed with a lease until `until` (see
    /// `store::leases`), polled in `polls`, and let go once the poll is recorded. The claims
    /// on those still in flight are renewed first.
    async fn start_due_polls(
        &self,
        settings: &Arc<Settings>,
        polls: &mut Polls,
        now: chrono::DateTime<chrono::Utc>,
        until: i64,
    ) {
        let targets: Vec<(Source, Option<Channel>)> = poll_targets(&settings.config)
            .filter(|(s, _)| !polls.in_flight.contains(&s.id))
            .collect();
        let ids: Vec<String> = targets.iter().map(|(s, _)| s.id.clone()).collect();
        let me = leases::identity();
        if !polls.in_flight.is_empty() {
            if let Err(e) = self.store.renew_sources(me, until).await {
                self.report("cannot renew the claims on sources being polled", &e);
            }
        }
        let claimed = match self.store.claim_sources(&ids, me, secs(now), until).await {
            Ok(claimed) => claimed,
            Err(e) => return self.report("cannot claim due sources", &e),
        };
        for (source, channel) in targets {
            if !claimed.contains(&source.id) {
                continue;
            }
            let (d, settings) = (self.clone(), settings.clone());
            let (permits, gate) = (polls.permits.clone(), polls.gate.clone());
            polls.spawn(source.id.clone(), async move {
                let channel = channel.as_ref();
                let _ = d
                    .poll_admitted(&settings, &source, channel, permits, &gate)
                    .await;
                if let Err(e) = d.store.release_source(&source.id, me).await {
                    tracing::warn!(source_id = %source.id, error = %format!("{e:#}"), "cannot let go of the source; its lease runs out");
                }
                source.id
            });
        }
    }

    /// Stops: evidence work is cut, polls in flight get [`STOP_POLLS`] to finish (their
    /// claims kept alive meanwhile), queued mail one last pass, and the leases are given
    /// up for other daemons.
    async fn stop(
        &self,
        mut polls: JoinSet<String>,
        mut evidence: Option<tokio::task::JoinHandle<()>>,
    ) {
        let stop_started = std::time::Instant::now();
        // Evidence work in flight is cut: its rows are let go with the leases below, and
        // done again on the next start (a WARC file keeps whole records only).
        if let Some(h) = evidence.take() {
            h.abort();
        }
        tracing::info!(
            in_flight = polls.len(),
            grace_s = STOP_POLLS.as_secs(),
            "shutting down: finishing polls in flight"
        );
        // Keep the claims on those sources alive meanwhile, or another daemon would start
        // polling them too.
        let finish = async {
            let every = self.settings.get().config.daemon.tick.std();
            let every = every.max(Duration::from_millis(50));
            loop {
                tokio::select! {
                    done = polls.join_next() => if done.is_none() { break },
                    _ = tokio::time::sleep(every) => {
                        let lease = self.settings.get().config.daemon.lease.std();
                        let until = leases::lease_end(secs(self.clock.now()), lease);
                        if let Err(e) = self.store.renew_sources(leases::identity(), until).await {
                            self.report("cannot renew the claims on sources being polled", &e);
                        }
                    }
                }
            }
        };
        if tokio::time::timeout(STOP_POLLS, finish).await.is_err() {
            // Cut: an open transaction rolls back, the validators were not saved, so the
            // next start reads the same page again and the dedupe makes that harmless.
            tracing::warn!(
                cut = polls.len(),
                "polls still running after {}s; stopping them (their pages are read again next start)",
                STOP_POLLS.as_secs()
            );
            polls.shutdown().await;
        }
        match tokio::time::timeout(STOP_MAIL, self.housekeeping()).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                tracing::error!(error = %format!("{e:#}"), "final mail pass failed; mail stays queued")
            }
            Err(_) => tracing::error!(
                "final mail pass took over {}s; the rest stays queued for the next start",
                STOP_MAIL.as_secs()
            ),
        }
        match tokio::time::timeout(STOP_STORE, self.store.release_leases(leases::identity())).await
        {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => {
                tracing::warn!(error = %format!("{e:#}"), "cannot give up the leases; they run out")
            }
            Err(_) => tracing::warn!("giving up the leases took too long; they run out"),
        }
        let _ = tokio::time::timeout(STOP_STORE, self.store.close()).await;
        tracing::info!(
            took_ms = stop_started.elapsed().as_millis() as u64,
            "yuqing stopped"
        );
    }

    /// Logs an error of the loop; the same cause again within a minute (a full disk, a
    /// database that is down: every turn fails alike) is logged at debug level only.
    fn report(&self, what: &'static str, e: &anyhow::Error) {
        let error = crate::vocab::text::error_chain(e);
        // The same cause may surface through different statements turn by turn.
        let cause = e.root_cause().to_string();
        let now = std::time::Instant::now();
        let mut last = self.errors.lock().unwrap_or_else(|p| p.into_inner());
        let repeat = last
            .get(what)
            .is_some_and(|(prev, at)| *prev == cause && now.duration_since(*at) < REPEAT_QUIET);
        if repeat {
            tracing::debug!(error = %error, "{what}");
        } else {
            tracing::error!(error = %error, "{what}");
            last.insert(what, (cause, now));
        }
    }

    /// Queues the operators' mail about a rejected reload, if one is waiting; kept waiting
    /// while the database cannot take it. The loop calls it at every turn.
    pub async fn mail_rejected_reload(&self) {
        let (settings, now) = (self.settings.get(), self.clock.now());
        let Some(mistakes) = self
            .rejected
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pending
            .take()
        else {
            return;
        };
        let c = &settings.config;
        let draft = crate::notify::operator_mail::reload_rejected(
            &self.config_path,
            &mistakes,
            c.daemon.timezone,
            now,
            &c.people.operators,
        );
        let queued = async {
            let mut tx = self.store.begin().await?;
            queue(&self.store, &mut tx, c, &draft, now).await?;
            tx.commit().await?;
            anyhow::Ok(())
        }
        .await;
        if let Err(e) = queued {
            self.report("cannot queue the mail about a rejected reload", &e);
            self.rejected
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .pending = Some(mistakes);
        }
    }

    /// Reloads when the config file or a watchlist file changed since the last load;
    /// returns whether anything changed.
    pub fn reload_if_changed(&self) -> bool {
        let settings = self.settings.get();
        let d = &settings.config.daemon;
        let now = match fingerprint(&self.config_path, &d.watchlists, &d.calendar) {
            Ok(f) => f,
            Err(e) => {
                tracing::debug!(error = %e, "cannot look at the config files; compared next turn");
                return false;
            }
        };
        {
            let mut seen = self.files_seen.lock().unwrap_or_else(|e| e.into_inner());
            if *seen == now {
                return false;
            }
            // Remember it even if the reload fails, so a bad file is logged once per edit.
            *seen = now;
        }
        tracing::info!("config, watchlist or calendar files changed; reloading");
        self.reload();
        true
    }

    /// Re-reads config and watchlists; a bad file keeps the running set. The database
    /// and the mail transport are kept: changing those needs a restart.
    pub fn reload(&self) {
        // What is loaded now is what the file watcher compares against next, so an edit
        // followed by SIGHUP (as `systemctl reload` does) is loaded and logged once.
        {
            let settings = self.settings.get();
            let d = &settings.config.daemon;
            if let Ok(now) = fingerprint(&self.config_path, &d.watchlists, &d.calendar) {
                *self.files_seen.lock().unwrap_or_else(|e| e.into_inner()) = now;
            }
        }
        match Settings::load(&self.config_path) {
            Ok(s) => {
                let topics = s.watchlists.topics.len();
                self.settings.replace(s);
                self.rejected
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .mailed = None;
                tracing::info!(topics, "reloaded config and watchlists");
            }
            Err(errs) => {
                for e in &errs.0 {
                    tracing::error!(error = %e, "reload rejected; keeping the running configuration");
                }
                let mistakes: Vec<String> = errs.0.iter().map(|e| e.to_string()).collect();
                let mut r = self.rejected.lock().unwrap_or_else(|e| e.into_inner());
                if r.mailed.as_ref() != Some(&mistakes) {
                    r.mailed = Some(mistakes.clone());
                    r.pending = Some(mistakes);
                }
            }
        }
    }
}

/// What the daemon polls: each source, then each own channel read as a source (with the
/// channel, whose poll keeps posts).
fn poll_targets(
    config: &crate::config::Config,
) -> impl Iterator<Item = (Source, Option<Channel>)> + '_ {
    let sources = config.sources.iter().map(|s| (s.clone(), None));
    let channels = config
        .channels
        .iter()
        .map(|c| (c.as_source(), Some(c.clone())));
    sources.chain(channels)
}

/// A source or own channel whose URL an operator changed starts fresh: its failures, last
/// error and back-off belonged to the old address (issue 28: a fixed URL kept showing the
/// old DNS error for up to two hours). A database failure here is logged, not fatal.
async fn sync_source_urls(store: &Store, config: &crate::config::Config) {
    let current: Vec<(&str, &str)> = config.polled().map(|p| (p.id, p.url.as_str())).collect();
    match store.sync_source_urls(&current).await {
        Ok(moved) => {
            for id in moved {
                tracing::info!(source_id = %id, "the source's URL changed: its health starts fresh");
            }
        }
        Err(e) => {
            tracing::warn!(error = %format!("{e:#}"), "cannot compare the sources' URLs with the store")
        }
    }
}

/// SIGHUP on Unix; never fires elsewhere.
fn reload_signal() -> Result<ReloadSignal> {
    #[cfg(unix)]
    {
        let s = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
            .context("cannot listen for SIGHUP")?;
        Ok(ReloadSignal(s))
    }
    #[cfg(not(unix))]
    Ok(ReloadSignal(()))
}

#[cfg(unix)]
struct ReloadSignal(tokio::signal::unix::Signal);
#[cfg(not(unix))]
struct ReloadSignal(());

impl ReloadSignal {
    async fn recv(&mut self) -> Option<()> {
        #[cfg(unix)]
        {
            self.0.recv().await
        }
        #[cfg(not(unix))]
        std::future::pending().await
    }
}

/// The polls a daemon runs at once: the tasks, the sources they poll, the permits that
/// bound them (`[daemon] max_concurrent_polls`) and the politeness gate they go through.
struct Polls {
    set: JoinSet<String>,
    in_flight: HashSet<String>,
    /// The source each task polls, so that a task that panicked still frees its source.
    tasks: HashMap<tokio::task::Id, String>,
    permits: Arc<Semaphore>,
    gate: Arc<HostGate>,
}

impl Polls {
    fn new(config: &crate::config::Config) -> Polls {
        Polls {
            set: JoinSet::new(),
            in_flight: HashSet::new(),
            tasks: HashMap::new(),
            permits: Arc::new(Semaphore::new(config.daemon.max_concurrent_polls)),
            gate: Arc::new(HostGate::of(config)),
        }
    }

    /// A reload changed the politeness: new polls go through a gate of the new limits
    /// (those in flight finish under the old).
    fn keep_up_with(&mut self, config: &crate::config::Config) {
        if !self.gate.keeps(config) {
            self.gate = Arc::new(HostGate::of(config));
        }
    }

    /// Polls `source` in a task of its own; it returns the source's id.
    fn spawn(
        &mut self,
        source: String,
        poll: impl std::future::Future<Output = String> + Send + 'static,
    ) {
        let task = self.set.spawn(poll).id();
        self.in_flight.insert(source.clone());
        self.tasks.insert(task, source);
    }

    /// Forgets a finished poll, so that its source can be polled again. A poll that
    /// panicked is logged with its source; its claim runs out with its lease.
    fn finished(&mut self, done: Result<(tokio::task::Id, String), tokio::task::JoinError>) {
        let task = match done {
            Ok((task, _)) => task,
            Err(e) => {
                let source = self.tasks.get(&e.id()).map_or("?", String::as_str);
                tracing::error!(source_id = %source, error = %e, "a poll failed unexpectedly; the source is polled again when its claim runs out");
                e.id()
            }
        };
        if let Some(source) = self.tasks.remove(&task) {
            self.in_flight.remove(&source);
        }
    }

    /// Forgets every poll that has finished.
    fn reap(&mut self) {
        while let Some(done) = self.set.try_join_next_with_id() {
            self.finished(done);
        }
    }
}

#[cfg(test)]
mod polls_tests {
    use super::*;

    /// A poll that panics (a bug on some hostile page) must not keep its source marked as
    /// in flight, or this daemon would never poll it again.
    #[tokio::test]
    async fn a_poll_that_panics_frees_its_source() {
        let config =
            crate::config::parse(Path::new("yuqing.toml"), "[daemon]\nwatchlists = \"w\"\n")
                .unwrap();
        let mut polls = Polls::new(&config);
        polls.spawn("good".into(), async { "good".to_string() });
        polls.spawn("bad".into(), async { panic!("a bug in a parser") });
        assert_eq!(polls.in_flight.len(), 2);
        while let Some(done) = polls.set.join_next_with_id().await {
            polls.finished(done);
        }
        assert!(polls.in_flight.is_empty(), "{:?}", polls.in_flight);
        assert!(polls.tasks.is_empty());
        // And through `reap`, as the loop does between turns.
        polls.spawn("bad".into(), async { panic!("again") });
        tokio::task::yield_now().await;
        for _ in 0..100 {
            if polls.set.is_empty() {
                break;
            }
            tokio::task::yield_now().await;
            polls.reap();
        }
        assert!(polls.in_flight.is_empty(), "{:?}", polls.in_flight);
    }
}
