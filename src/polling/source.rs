//! Polling one source: fetch, store what is new, classify it, open or join incidents.
//!
//! The new items of one fetch are hashed and classified first, outside any transaction
//! (folding and matching are most of a new item's CPU, and the write lock is one for all
//! polls), then stored and turned into incidents and mail in
//! transactions of `ITEMS_PER_TRANSACTION` items (not one per item: taking the write lock
//! dominated in the poll bench; not one per page: a page of huge items held the lock long
//! enough to stall every other source). The source's new HTTP validators are saved only
//! after the last commit, so a crash mid-poll re-reads the same page next time and loses
//! nothing; the store's de-duplication makes the second reading harmless.

use crate::classify::grouping::ItemSignature;
use crate::classify::normalize::normalize_text;
use crate::classify::Classification;
use crate::config::settings::Settings;
use crate::config::Source;
use crate::fetch::feed::Entry;
use crate::fetch::{Fetcher, Polled, SourceError, Validators};
use crate::incident::{self, Outcome};
use crate::notify::alert::queue;
use crate::notify::operator_mail::{self, SourceHealth, SourceView};
use crate::store::{Incoming, NewItem, Store, Stored};
use crate::store::{PollSuccess, SourceState, Tx};
use crate::vocab::clock::{from_secs, secs, Clock};
use anyhow::Result;
use chrono::{DateTime, Duration, Utc};
use sha2::{Digest, Sha256};

/// Items older than this when first seen are recorded but open no incident: a new source's
/// archive is history, not news.
pub const MAX_AGE_DAYS: i64 = 7;

/// What one poll of one source did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Report {
    pub fetched: usize,
    pub new: usize,
    pub updated: usize,
    pub matched: usize,
    pub opened: Vec<i64>,
    pub joined: Vec<i64>,
    pub not_modified: bool,
    /// The clock starts this poll moved back, so that it mails one 计时提前 per incident.
    pub clock_moves: incident::ClockMoves,
}

/// Why a poll yielded nothing, by cause.
#[derive(Debug, thiserror::Error)]
pub enum PollError {
    /// The website failed, or what it sent could not be read: recorded in the source's
    /// health (`last_error`, failures in a row) and, when it lasts, mailed to operators.
    #[error(transparent)]
    Source(#[from] SourceError),
    /// The database failed while the poll read or stored: the website is not blamed; the
    /// page is read again on the next try, and the dedupe makes that harmless.
    #[error("database: {0:#}")]
    Store(anyhow::Error),
}

/// Items stored (and classified, and their incidents opened) per write transaction.
const ITEMS_PER_TRANSACTION: usize = 20;

/// The longest error text stored in a source's `last_error` or logged for a failed poll.
pub const MAX_ERROR_BYTES: usize = 1000;

/// How soon a poll that the database failed is tried again, at the most.
const STORE_RETRY: i64 = 60;

/// Polls `source` once and records the outcome (success or failure) in its health row.
/// `clock` is read when the poll starts and again when it fails: a failure's backoff and
/// `last_error_at` count from the failure, not from a start 30 seconds of timeout ago.
#[tracing::instrument(name = "poll", skip_all, fields(source_id = %source.id))]
pub async fn poll(
    store: &Store,
    fetcher: &Fetcher,
    settings: &Settings,
    source: &Source,
    clock: &dyn Clock,
) -> Result<Report, PollError> {
    poll_into(store, fetcher, settings, source, clock, Sink::Items).await
}

/// Where the entries of a poll go: monitored items (classified, may open incidents), or
/// the posts of one of the agency's own channels (never classified).
#[derive(Clone, Copy)]
pub(crate) enum Sink<'a> {
    Items,
    Posts(&'a crate::config::Channel),
}

/// Polls `source` once into `sink`, with the same fetching, health and operator mail for
/// sources and channels.
pub(crate) async fn poll_into(
    store: &Store,
    fetcher: &Fetcher,
    settings: &Settings,
    source: &Source,
    clock: &dyn Clock,
    sink: Sink<'_>,
) -> Result<Report, PollError> {
    let now = clock.now();
    let state = store.source_state(&source.id).await.map_err(|e| {
        tracing::error!(source_id = %source.id, error = %format!("{e:#}"), "cannot read the source's state; not polled");
        PollError::Store(e)
    })?;
    let validators = Validators {
        etag: state.etag.clone(),
        last_modified: state.last_modified.clone(),
    };
    let tz = settings.config.daemon.timezone;
    let polled = no_longer_listed(
        fetcher.fetch_source(source, &validators, now, tz).await,
        &state,
    );
    let next_ok =
        secs(now) + source.every.as_secs() as i64 + jitter(&source.id, now, source.every.as_secs());
    match polled {
        Err(e) => {
            let now = clock.now();
            let wait = retry_wait(&e, state.failures + 1, source.every.as_secs());
            // Bounded: an error quoting a URL or a page could be megabytes long.
            let error = e.to_string();
            let error = crate::vocab::text::bounded(&error, MAX_ERROR_BYTES);
            let failures = store
                .record_poll_failure(&source.id, secs(now), &error, secs(now) + wait)
                .await
                .unwrap_or(state.failures + 1);
            tracing::warn!(source_id = %source.id, failures, retry_in_s = wait, error = %error, "poll failed");
            let after = settings.config.daemon.source_alert_after.as_secs() as i64;
            if let Ok(st) = store.source_state(&source.id).await {
                let long = st.failing_since.is_some_and(|t| secs(now) - t >= after);
                if long && st.alert.is_none() {
                    tell_operators(
                        store,
                        settings,
                        source,
                        &st,
                        SourceHealth::Failing,
                        now,
                        sink,
                    )
                    .await;
                }
            }
            Err(PollError::Source(e))
        }
        Ok(Polled::NotModified) => {
            let next_ok = next_poll(store, source, now, next_ok).await;
            record_success(store, source, now, PollSuccess::default(), next_ok).await;
            watch_silence(store, settings, source, &state, false, now, sink).await;
            if state.alert.as_deref() == Some("failing") {
                tell_operators(
                    store,
                    settings,
                    source,
                    &state,
                    SourceHealth::Recovered,
                    now,
                    sink,
                )
                .await;
            }
            tracing::debug!(source_id = %source.id, "not modified");
            Ok(Report {
                not_modified: true,
                ..Report::default()
            })
        }
        Ok(Polled::Entries {
            mut entries,
            validators,
            page_items_matched,
            warnings,
            ..
        }) => {
            let warning = (!warnings.is_empty()).then(|| warnings.join("; "));
            if let Some(w) = &warning {
                tracing::warn!(source_id = %source.id, warning = %w, "read, but the document needed repair");
            }
            if let Some(selector) = &source.body {
                follow_up(store, fetcher, source, selector, &mut entries).await;
            }
            let mut report = Report {
                fetched: entries.len(),
                ..Report::default()
            };
            // Items, the incidents they open and the mail those cause land together, a few
            // items at a time; on a crash the page is read again and the dedupe skips what
            // was stored.
            let stored = async {
                let mut posts = Vec::new();
                // A few items per transaction: the write lock is held for milliseconds, so a
                // page of thousands of items cannot stall the other sources' polls.
                for chunk in entries.chunks(ITEMS_PER_TRANSACTION) {
                    let tx = match sink {
                        Sink::Items => {
                            let prepared = prepare(store, settings, &source.id, chunk).await?;
                            let mut tx = store.begin().await?;
                            let stored = store
                                .store_items(&mut tx, &source.id, &incoming(&source.id, chunk, &prepared), secs(now))
                                .await?;
                            for ((entry, prepared), stored) in chunk.iter().zip(prepared).zip(stored) {
                                ingest(
                                    store,
                                    &mut tx,
                                    settings,
                                    &source.id,
                                    entry,
                                    prepared,
                                    stored,
                                    now,
                                    &mut report,
                                )
                                .await?
                            }
                            tx
                        }
                        Sink::Posts(_) => {
                            let mut tx = store.begin().await?;
                            for entry in chunk {
                                if let Some(id) =
                                    crate::polling::channel::store_post(store, &mut tx, &source.id, entry, now)
                                        .await?
                                {
                                    report.new += 1;
                                    posts.push(id);
                                }
                            }
                            tx
                        }
                    };
                    tx.commit().await?;
                }
                match sink {
                    Sink::Posts(channel) => {
                        crate::polling::channel::after_new_posts(store, settings, channel, &posts, now)
                            .await
                    }
                    Sink::Items => {
                        // Logged, not returned: the items and incidents are stored.
                        if let Err(e) =
                            crate::incident::release::after_opened(store, settings, &report.opened, now)
                                .await
                        {
                            tracing::error!(source_id = %source.id, error = %format!("{e:#}"), "cannot look for releases of the incidents just opened");
                        }
                    }
                }
                anyhow::Ok(())
            }
            .await;
            if let Err(e) = stored {
                // The database failed, not the website: its health stays as it was. The
                // validators are not saved, so the next try reads the page again.
                let retry = secs(now) + STORE_RETRY.min(source.every.as_secs() as i64).max(1);
                tracing::error!(source_id = %source.id, error = %format!("{e:#}"), "cannot store the items; poll aborted");
                if let Err(e) = store.defer_poll(&source.id, secs(now), retry).await {
                    tracing::warn!(source_id = %source.id, error = %format!("{e:#}"), "cannot set the source's next poll");
                }
                return Err(PollError::Store(e));
            }
            let count = page_items_matched.unwrap_or(entries.len()) as i64;
            let success = PollSuccess {
                etag: validators.etag.as_deref(),
                last_modified: validators.last_modified.as_deref(),
                count: Some(count),
                new_items: report.new > 0,
                warning: Some(warning.as_deref()),
            };
            let next_ok = next_poll(store, source, now, next_ok).await;
            record_success(store, source, now, success, next_ok).await;
            watch_silence(store, settings, source, &state, report.new > 0, now, sink).await;
            if report.new > 0 && matches!(sink, Sink::Items) {
                watch_lag(store, settings, source, &state, now).await;
            }
            let layout_broke = page_items_matched == Some(0) && state.last_count.unwrap_or(0) > 0;
            let change = match state.alert.as_deref() {
                None if layout_broke => Some(SourceHealth::Empty),
                Some("empty") if count > 0 => Some(SourceHealth::Recovered),
                Some("failing") if page_items_matched != Some(0) => Some(SourceHealth::Recovered),
                _ => None,
            };
            if let Some(health) = change {
                tell_operators(store, settings, source, &state, health, now, sink).await;
            }
            tracing::info!(
                source_id = %source.id,
                fetched = report.fetched,
                new = report.new,
                matched = report.matched,
                "polled"
            );
            Ok(report)
        }
    }
}

async fn record_success(
    store: &Store,
    source: &Source,
    now: DateTime<Utc>,
    success: PollSuccess<'_>,
    next: i64,
) {
    if let Err(e) = store
        .record_poll_success(&source.id, secs(now), &success, next)
        .await
    {
        tracing::error!(source_id = %source.id, error = %format!("{e:#}"), "cannot record poll");
    }
}

/// A feed that listed entries before and now lists none is not quiet but broken (a bridge
/// whose login expired, a CMS template that lost its loop): a source error, counted and
/// mailed like any other. A list page's selectors finding nothing is told apart (`Empty`).
fn no_longer_listed(
    polled: Result<Polled, SourceError>,
    before: &SourceState,
) -> Result<Polled, SourceError> {
    match polled {
        Ok(Polled::Entries {
            ref entries,
            page_items_matched: None,
            ..
        }) if entries.is_empty() && before.last_count.unwrap_or(0) > 0 => {
            Err(SourceError::NoLongerListed {
                before: before.last_count.unwrap_or(0),
            })
        }
        other => other,
    }
}

/// After a successful poll: a source with `stale_after` that brought nothing new for that
/// long is reported silent (once), and reported again when a new item comes.
async fn watch_silence(
    store: &Store,
    settings: &Settings,
    source: &Source,
    before: &SourceState,
    new_items: bool,
    now: DateTime<Utc>,
    sink: Sink<'_>,
) {
    let Some(stale_after) = source.stale_after else {
        return;
    };
    let last_new = if new_items {
        Some(secs(now))
    } else {
        before.last_new_at.or(Some(secs(now)))
    };
    let silent = last_new.is_some_and(|t| secs(now) - t >= stale_after.as_secs() as i64);
    let health = match before.silent_since {
        None if silent => SourceHealth::Silent,
        Some(_) if new_items => SourceHealth::Resumed,
        _ => return,
    };
    let mut state = before.clone();
    state.last_new_at = last_new;
    tell_operators(store, settings, source, &state, health, now, sink).await;
}

/// After a poll that brought new items: a source with `max_lag` whose items, over the
/// last 7 days, are first seen later than that at the 95th percentile mails the operators
/// once, and may be mailed again once it has come back within it. A database failure is
/// logged; the next poll looks again.
async fn watch_lag(
    store: &Store,
    settings: &Settings,
    source: &Source,
    before: &SourceState,
    now: DateTime<Utc>,
) {
    let Some(max) = source.max_lag else {
        return;
    };
    let config = &settings.config;
    let result = async {
        let lag = store
            .source_lag(&source.id, secs(now) - crate::rules::lag::WINDOW_S)
            .await?;
        let over = lag.is_some_and(|l| l.p95_s > max.as_secs() as i64);
        match (over, before.lag_alerted_at) {
            (true, None) => {
                let Some(lag) = lag else { return anyhow::Ok(()) };
                let draft = operator_mail::source_lagging(
                    &source.name,
                    &source.id,
                    &lag,
                    max,
                    config.daemon.timezone,
                    &config.people.operators,
                );
                let mut tx = store.begin().await?;
                store.set_lag_alert(&mut tx, &source.id, Some(secs(now))).await?;
                queue(store, &mut tx, config, &draft, now).await?;
                tx.commit().await?;
                tracing::warn!(source_id = %source.id, p95_s = lag.p95_s, max_lag = %max, "operators mailed: the source is heard late");
            }
            (false, Some(_)) => {
                let mut tx = store.begin().await?;
                store.set_lag_alert(&mut tx, &source.id, None).await?;
                tx.commit().await?;
                tracing::info!(source_id = %source.id, "the source's lag is back within max_lag");
            }
            _ => {}
        }
        anyhow::Ok(())
    }
    .await;
    if let Err(e) = result {
        tracing::error!(source_id = %source.id, error = %format!("{e:#}"), "cannot check the source's lag");
    }
}

/// Most follow-up fetches per poll: a source that suddenly lists hundreds of new links is
/// read a page at a time, not all at once.
const MAX_FOLLOW_UPS: usize = 20;

/// Fetches the own page of each entry not seen before and uses the text under `selector`
/// as its summary. A page that cannot be read leaves the entry as listed (classified on
/// its title), and says so in the log.
async fn follow_up(
    store: &Store,
    fetcher: &Fetcher,
    source: &Source,
    selector: &str,
    entries: &mut [Entry],
) {
    let mut done = 0;
    for entry in entries.iter_mut() {
        if done >= MAX_FOLLOW_UPS {
            break;
        }
        let Some(link) = entry.link.clone() else {
            continue;
        };
        let guid = entry.guid.clone().unwrap_or_else(|| link.clone());
        if store.item_known(&source.id, &guid).await.unwrap_or(true) {
            continue;
        }
        let Ok(url) = url::Url::parse(&link) else {
            continue;
        };
        done += 1;
        let got = fetcher
            .fetch(
                &url,
                &source.headers,
                source.timeout.std(),
                &Validators::default(),
            )
            .await;
        match got {
            Ok(crate::fetch::Fetched::Body {
                bytes,
                content_type,
                ..
            }) => {
                let decoded = crate::fetch::charset::decode(&bytes, content_type.as_deref());
                let mut text = crate::fetch::page::body_text(&decoded.text, Some(selector));
                crate::fetch::bounds::cut(&mut text, crate::fetch::bounds::MAX_SUMMARY);
                if !text.is_empty() {
                    entry.summary = text;
                }
            }
            Ok(crate::fetch::Fetched::NotModified) => {}
            Err(e) => {
                tracing::warn!(source_id = %source.id, link = %link, error = %e, "cannot read the item's page; classifying its title only")
            }
        }
    }
}

/// Mails the operators about a source's health and records the alert (or its end) in the
/// same transaction, so they are told once per episode, and again when it ends.
async fn tell_operators(
    store: &Store,
    settings: &Settings,
    source: &Source,
    before: &SourceState,
    health: SourceHealth,
    now: DateTime<Utc>,
    sink: Sink<'_>,
) {
    let config = &settings.config;
    let result = async {
        let st = store.source_state(&source.id).await?;
        let view = SourceView {
            id: &source.id,
            name: &source.name,
            url: source.url.as_str(),
            failing_since: st.failing_since.or(before.failing_since).map(from_secs),
            failures: st.failures.max(before.failures),
            last_error: st.last_error.as_deref(),
            last_new: before.last_new_at.map(from_secs),
            tz: config.daemon.timezone,
            now,
        };
        let mut draft = operator_mail::source_health(&view, health, &config.people.operators);
        if matches!(
            health,
            SourceHealth::Failing | SourceHealth::Empty | SourceHealth::Silent
        ) {
            draft.notify = config.people.notify.operators.clone();
        }
        let draft = match sink {
            Sink::Items => draft,
            Sink::Posts(_) => crate::notify::duty_mail::as_channel_health(draft),
        };
        let mut tx = store.begin().await?;
        match health {
            SourceHealth::Silent => {
                store
                    .set_source_silent(&mut tx, &source.id, Some(secs(now)))
                    .await?
            }
            SourceHealth::Resumed => store.set_source_silent(&mut tx, &source.id, None).await?,
            _ => {
                let alert = match health {
                    SourceHealth::Failing => Some("failing"),
                    SourceHealth::Empty => Some("empty"),
                    _ => None,
                };
                store
                    .set_source_alert(&mut tx, &source.id, alert, secs(now))
                    .await?
            }
        }
        queue(store, &mut tx, config, &draft, now).await?;
        tx.commit().await?;
        anyhow::Ok(())
    }
    .await;
    match result {
        Ok(()) => {
            tracing::warn!(source_id = %source.id, health = ?health, "operators mailed about source health")
        }
        Err(e) => {
            tracing::error!(source_id = %source.id, error = %format!("{e:#}"), "cannot queue the source health mail")
        }
    }
}

/// When to poll again after a successful poll: `fixed` for a fixed `every`; for
/// `every = "auto"`, after the interval `rules::cadence` gives for the items the source
/// carried in the last quarter hour, hour and day (this poll's included), jittered like a fixed one. If
/// the store cannot say, after `every_max`.
async fn next_poll(store: &Store, source: &Source, now: DateTime<Utc>, fixed: i64) -> i64 {
    let Some(auto) = source.auto else {
        return fixed;
    };
    let interval = match store.recent_item_counts(&source.id, secs(now)).await {
        Ok(recent) => auto.interval(recent),
        Err(e) => {
            tracing::warn!(source_id = %source.id, error = %format!("{e:#}"), "cannot count the source's recent items; next poll after every_max");
            auto.max.as_secs()
        }
    };
    tracing::debug!(source_id = %source.id, interval_s = interval, "automatic interval");
    secs(now) + interval as i64 + jitter(&source.id, now, interval)
}

/// Up to a tenth of the interval, different per source and per poll, so that sources
/// configured alike do not fire in lockstep.
fn jitter(source_id: &str, now: DateTime<Utc>, every: u64) -> i64 {
    use std::hash::{Hash, Hasher};
    let spread = every / 10;
    if spread == 0 {
        return 0;
    }
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (source_id, now.timestamp()).hash(&mut h);
    (h.finish() % (spread + 1)) as i64
}

/// Seconds to wait before the next try: what the server asked for, else exponential
/// backoff from the source's interval, capped at an hour (or the interval, if longer).
fn retry_wait(e: &SourceError, failures: i64, every: u64) -> i64 {
    if let SourceError::Fetch(crate::fetch::FetchError::Status {
        retry_after: Some(d),
        ..
    }) = e
    {
        return d.as_secs().max(1) as i64;
    }
    let cap = every.max(3600);
    let factor = 2u64.saturating_pow(failures.clamp(0, 16) as u32 - 1);
    every.saturating_mul(factor).min(cap) as i64
}

/// What an entry needs before its write transaction, computed outside it.
struct Prepared {
    hash: String,
    guid: String,
    /// Title and summary, as classified.
    text: String,
    /// `None` when the store knew the entry's GUID already (it is then classified only if
    /// it turns out new after all).
    classification: Option<Classification>,
    /// The ids of the topics it matched, as the JSON array stored with it, and its grouping
    /// signature; `None` when it matched none or was not classified.
    topics: Option<String>,
    signature: Option<String>,
}

/// Hashes each entry of `chunk` and classifies the ones whose GUID the store does not
/// know, before the write transaction: so that polls fold and match in parallel instead
/// of one at a time under the write lock, and an unchanged entry is not classified.
async fn prepare(
    store: &Store,
    settings: &Settings,
    source_id: &str,
    chunk: &[Entry],
) -> Result<Vec<Prepared>> {
    let mut out: Vec<Prepared> = chunk
        .iter()
        .map(|entry| {
            let hash = content_hash(entry);
            let guid = entry
                .guid
                .clone()
                .or_else(|| entry.link.clone())
                .unwrap_or_else(|| hash.clone());
            Prepared {
                hash,
                guid,
                text: format!("{}\n{}", entry.title, entry.summary),
                classification: None,
                topics: None,
                signature: None,
            }
        })
        .collect();
    let guids: Vec<&str> = out.iter().map(|p| p.guid.as_str()).collect();
    let known = store.known_guids(source_id, &guids).await?;
    for (p, entry) in out.iter_mut().zip(chunk) {
        if !known.contains(&p.guid) {
            let c = settings.classifier.classify(&p.text, Some(source_id));
            if !c.topics.is_empty() {
                let ids: Vec<&str> = c.topics.iter().map(|t| t.id.as_str()).collect();
                p.topics = Some(serde_json::to_string(&ids)?);
                // Grouping compares it: computed here, outside the write lock.
                p.signature = Some(ItemSignature::of(&entry.title, &entry.summary).to_text());
            }
            p.classification = Some(c);
        }
    }
    Ok(out)
}

/// The chunk's entries as the store takes them, with what `prepare` learnt of each.
fn incoming<'a>(
    source_id: &'a str,
    chunk: &'a [Entry],
    prepared: &'a [Prepared],
) -> Vec<Incoming<'a>> {
    chunk
        .iter()
        .zip(prepared)
        .map(|(entry, p)| Incoming {
            item: NewItem {
                source_id,
                guid: &p.guid,
                link: entry.link.as_deref(),
                title: &entry.title,
                summary: &entry.summary,
                published_at: entry.published.map(secs),
                content_hash: &p.hash,
            },
            tone: p.classification.as_ref().map(|c| c.tone),
            topics: p.topics.as_deref(),
            signature: p.signature.as_deref(),
        })
        .collect()
}

/// Counts one stored entry and, when it is new and recent, files it into incidents, in the
/// caller's transaction.
#[allow(clippy::too_many_arguments)]
async fn ingest(
    store: &Store,
    tx: &mut Tx,
    settings: &Settings,
    source_id: &str,
    entry: &Entry,
    prepared: Prepared,
    stored: Stored,
    now: DateTime<Utc>,
    report: &mut Report,
) -> Result<()> {
    let Prepared {
        text,
        classification,
        ..
    } = prepared;
    let mut row = match stored {
        // Another source carried it first: filed then, under that source.
        Stored::Seen | Stored::Sighted(_) => return Ok(()),
        Stored::Updated(_) => {
            report.updated += 1;
            return Ok(());
        }
        Stored::New(row) => row,
    };
    let id = row.id;
    report.new += 1;
    // Classified before the transaction when the GUID looked new, and stored with its tone
    // and topics; otherwise (the GUID was known, yet the item is new) classified now.
    let (classification, stored_topics) = match classification {
        Some(c) => (c, true),
        None => {
            let c = settings.classifier.classify(&text, Some(source_id));
            store.set_item_tone(tx, id, c.tone).await?;
            row.tone = Some(c.tone);
            (c, false)
        }
    };
    // Its page is kept as evidence after this transaction commits, and so after the alert
    // it queues (`evidence::capture`): a row due now, claimed apart from the polls.
    let capture = settings.config.evidence.capture;
    if entry.link.is_some() && capture.wants(!classification.topics.is_empty()) {
        store.queue_capture(tx, id, secs(now)).await?;
    }
    if !classification.topics.is_empty() {
        let ids: Vec<String> = classification.topics.iter().map(|t| t.id.clone()).collect();
        if !stored_topics {
            store.set_item_topics(tx, id, &ids).await?;
            row.topics = crate::store::Topics(ids);
        }
        report.matched += 1;
        let too_old = entry
            .published
            .is_some_and(|p| now - p > Duration::days(MAX_AGE_DAYS));
        if too_old {
            tracing::info!(
                item_id = id,
                "matched, but published too long ago to open an incident"
            );
        } else {
            for m in &classification.topics {
                let chars: Vec<char> = text.chars().collect();
                let mut words: Vec<String> = Vec::new();
                for ev in &m.evidence {
                    let w: String = chars[ev.start.min(chars.len())..ev.end.min(chars.len())]
                        .iter()
                        .collect();
                    if !words.contains(&w) {
                        words.push(w);
                    }
                }
                match incident::on_match(
                    store,
                    tx,
                    settings,
                    &row,
                    &m.id,
                    &m.name,
                    m.severity,
                    &words,
                    now,
                    &mut report.clock_moves,
                )
                .await?
                {
                    Outcome::Opened(i) => report.opened.push(i),
                    Outcome::Joined(i) => report.joined.push(i),
                }
            }
        }
    }
    Ok(())
}

/// The same article under another URL, or re-ordered on a list page, hashes the same.
pub(crate) fn content_hash(entry: &Entry) -> String {
    let mut h = Sha256::new();
    // The folded text alone (the same as `normalize(…).text`, without the offsets).
    h.update(normalize_text(&entry.title).as_bytes());
    h.update(b"\n");
    h.update(normalize_text(&entry.summary).as_bytes());
    let digest = h.finalize();
    digest.iter().take(16).map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fetch::FetchError;

    #[test]
    fn backoff_doubles_and_honours_retry_after() {
        let timeout = SourceError::Fetch(FetchError::Timeout);
        assert_eq!(retry_wait(&timeout, 1, 300), 300);
        assert_eq!(retry_wait(&timeout, 2, 300), 600);
        assert_eq!(retry_wait(&timeout, 10, 300), 3600);
        let limited = SourceError::Fetch(FetchError::Status {
            status: 429,
            retry_after: Some(std::time::Duration::from_secs(120)),
        });
        assert_eq!(retry_wait(&limited, 1, 300), 120);
    }

    #[test]
    fn jitter_spreads_sources_within_a_tenth() {
        let now = chrono::Utc::now();
        let all: std::collections::HashSet<i64> = (0..50)
            .map(|i| jitter(&format!("s{i}"), now, 600))
            .collect();
        assert!(all.iter().all(|j| (0..=60).contains(j)));
        assert!(all.len() > 10, "sources do not fire in lockstep: {all:?}");
        assert_eq!(jitter("s", now, 5), 0, "short intervals stay exact");
    }

    #[test]
    fn republished_text_hashes_the_same() {
        let e = |title: &str, link: &str| Entry {
            guid: None,
            link: Some(link.into()),
            title: title.into(),
            summary: "摘要".into(),
            published: None,
        };
        assert_eq!(
            content_hash(&e("景区发生踩踏", "https://a/1")),
            content_hash(&e("景區發生踩踏", "https://a/2"))
        );
        assert_ne!(
            content_hash(&e("景区发生踩踏", "x")),
            content_hash(&e("景区发生火灾", "x"))
        );
    }
}
