//! One poll of what the daemon reads on the web: a monitored source, or one of the
//! agency's own channels read like a source of its kind. Fetching (conditional GET, the
//! entries' own pages), the source's health (failures, back-off, the next poll) and the
//! operators' mail (`health`) are the same for both and live here; what the entries become
//! is the [`Target`]'s: `source` files them as items (classified, may open incidents),
//! `channel` as the channel's posts (checked against its duties, never classified). Neither
//! target imports the other. `hosts`: the hosts whose sources cannot all be polled within
//! their intervals, mailed once; `calendar`: the working-day calendar's yearly update.

pub mod calendar;
pub mod channel;
mod health;
pub mod hosts;
pub mod source;

use crate::classify::normalize::normalize_text;
use crate::config::settings::Settings;
use crate::config::Source;
use crate::fetch::feed::Entry;
use crate::fetch::{Fetcher, Polled, SourceError, Validators};
use crate::incident;
use crate::notify::operator_mail::SourceHealth;
use crate::store::{Draft, PollSuccess, SourceState, Store};
use crate::vocab::clock::{secs, Clock};
use crate::vocab::ids::IncidentId;
use anyhow::Result;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use std::future::Future;

/// What one poll of one source did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Report {
    pub fetched: usize,
    pub new: usize,
    pub updated: usize,
    pub matched: usize,
    pub opened: Vec<IncidentId>,
    pub joined: Vec<IncidentId>,
    pub not_modified: bool,
    /// The clock starts this poll moved back, so that it mails one 计时提前 per incident.
    pub clock_moves: incident::ClockMoves,
    /// Filings of new items held back: a row this version cannot read was in the way
    /// (`held_filings`).
    pub held: usize,
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

/// Entries stored (and, for a source, classified and filed into incidents) per write
/// transaction.
const ITEMS_PER_TRANSACTION: usize = 20;

/// The longest error text stored in a source's `last_error` or logged for a failed poll.
pub const MAX_ERROR_BYTES: usize = 1000;

/// How soon a poll that the database failed is tried again, at the most.
const STORE_RETRY: i64 = 60;

/// One poll under way: what each of its steps reads.
#[derive(Clone, Copy)]
pub(crate) struct Poll<'a> {
    pub store: &'a Store,
    pub settings: &'a Settings,
    pub source: &'a Source,
    /// The source's health row as it was before this poll.
    pub before: &'a SourceState,
    /// When the poll began: what it stores and mails is dated by it.
    pub now: DateTime<Utc>,
}

/// What a poll's entries become: a source's items (`source::Items`) or a channel's posts
/// (`channel::Posts`). The poll hands over its entries a few at a time and says when all
/// are stored; fetching, health and the operators' mail stay the poll's.
pub(crate) trait Target {
    /// Stores `chunk` in one write transaction, committed before it returns (with what
    /// it causes: incidents, mail), and counts it into `report`. A failure aborts the poll
    /// without blaming the website.
    fn store(
        &mut self,
        poll: &Poll<'_>,
        chunk: &[Entry],
        report: &mut Report,
    ) -> impl Future<Output = Result<()>> + Send;

    /// After the last chunk was committed, before the source's validators are saved.
    /// Failures are the target's to log: what was stored stays stored.
    fn committed(&mut self, poll: &Poll<'_>, report: &Report) -> impl Future<Output = ()> + Send;

    /// After the poll's success and health were recorded.
    fn polled(&mut self, _poll: &Poll<'_>, _report: &Report) -> impl Future<Output = ()> + Send {
        async {}
    }

    /// The operators' mail about the health of what is polled, worded for this target.
    fn health_mail(&self, draft: Draft) -> Draft {
        draft
    }
}

/// Polls `source` once into `target` and records the outcome (success or failure) in its
/// health row. `clock` is read when the poll starts and again when it fails: a failure's
/// backoff and `last_error_at` count from the failure, not from a start 30 seconds of
/// timeout ago.
pub(crate) async fn poll<T: Target + Send>(
    store: &Store,
    fetcher: &Fetcher,
    settings: &Settings,
    source: &Source,
    clock: &dyn Clock,
    target: &mut T,
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
    let fetched = caught(fetcher.fetch_source(source, &validators, now, tz)).await;
    let polled = no_longer_listed(fetched, &state);
    let poll = Poll {
        store,
        settings,
        source,
        before: &state,
        now,
    };
    let next_ok =
        secs(now) + source.every.as_secs() as i64 + jitter(&source.id, now, source.every.as_secs());
    match polled {
        Err(e) => Err(failed(&poll, clock.now(), e, target).await),
        Ok(Polled::NotModified) => {
            let next_ok = next_poll(store, source, now, next_ok).await;
            record_success(store, source, now, PollSuccess::default(), next_ok).await;
            health::watch_silence(&poll, false, target).await;
            if state.alert.as_deref() == Some("failing") {
                health::tell_operators(&poll, &state, SourceHealth::Recovered, now, target).await;
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
            let report = store_entries(&poll, &entries, target).await?;
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
            health::watch_silence(&poll, report.new > 0, target).await;
            target.polled(&poll, &report).await;
            let layout_broke = page_items_matched == Some(0) && state.last_count.unwrap_or(0) > 0;
            let change = match state.alert.as_deref() {
                None if layout_broke => Some(SourceHealth::Empty),
                Some("empty") if count > 0 => Some(SourceHealth::Recovered),
                Some("failing") if page_items_matched != Some(0) => Some(SourceHealth::Recovered),
                _ => None,
            };
            if let Some(health) = change {
                health::tell_operators(&poll, &state, health, now, target).await;
            }
            tracing::info!(
                source_id = %source.id,
                fetched = report.fetched,
                new = report.new,
                matched = report.matched,
                held = report.held,
                "polled"
            );
            Ok(report)
        }
    }
}

/// A poll the website failed (at `now`, after the attempt): the failure is counted, the
/// next try put off, and the operators told once it has lasted `source_alert_after`.
async fn failed(
    poll: &Poll<'_>,
    now: DateTime<Utc>,
    e: SourceError,
    target: &impl Target,
) -> PollError {
    let Poll {
        store,
        settings,
        source,
        before,
        ..
    } = *poll;
    let wait = retry_wait(&e, before.failures + 1, source.every.as_secs());
    // Bounded: an error quoting a URL or a page could be megabytes long.
    let error = e.to_string();
    let error = crate::vocab::text::bounded(&error, MAX_ERROR_BYTES);
    let failures = store
        .record_poll_failure(&source.id, secs(now), &error, secs(now) + wait)
        .await
        .unwrap_or(before.failures + 1);
    tracing::warn!(source_id = %source.id, failures, retry_in_s = wait, error = %error, "poll failed");
    let after = settings.config.daemon.source_alert_after.as_secs() as i64;
    if let Ok(st) = store.source_state(&source.id).await {
        let long = st.failing_since.is_some_and(|t| secs(now) - t >= after);
        if long && st.alert.is_none() {
            health::tell_operators(poll, &st, SourceHealth::Failing, now, target).await;
        }
    }
    PollError::Source(e)
}

/// Hands the entries to `target` a few at a time: the write lock is held for milliseconds,
/// so a page of thousands of entries cannot stall the other sources' polls. On a crash the
/// page is read again and the dedupe skips what was stored. When the database fails, the
/// source's health stays as it was and its validators are not saved, so the next try
/// reads the page again.
async fn store_entries(
    poll: &Poll<'_>,
    entries: &[Entry],
    target: &mut impl Target,
) -> Result<Report, PollError> {
    let mut report = Report {
        fetched: entries.len(),
        ..Report::default()
    };
    let stored = async {
        for chunk in entries.chunks(ITEMS_PER_TRANSACTION) {
            target.store(poll, chunk, &mut report).await?;
        }
        anyhow::Ok(())
    }
    .await;
    if let Err(e) = stored {
        let Poll {
            store, source, now, ..
        } = *poll;
        let retry = secs(now) + STORE_RETRY.min(source.every.as_secs() as i64).max(1);
        tracing::error!(source_id = %source.id, error = %format!("{e:#}"), "cannot store the items; poll aborted");
        if let Err(e) = store.defer_poll(&source.id, secs(now), retry).await {
            tracing::warn!(source_id = %source.id, error = %format!("{e:#}"), "cannot set the source's next poll");
        }
        return Err(PollError::Store(e));
    }
    target.committed(poll, &report).await;
    Ok(report)
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
/// `read`, with a panic inside it (a bug on some hostile page, in yuqing or a parser it
/// uses) turned into a failed poll of that one source: counted, retried with backoff and
/// told to the operators like any failure, while the daemon and the other sources go on.
async fn caught<T>(read: impl Future<Output = Result<T, SourceError>>) -> Result<T, SourceError> {
    use futures_util::FutureExt;
    match std::panic::AssertUnwindSafe(read).catch_unwind().await {
        Ok(result) => result,
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic".into());
            Err(SourceError::Internal(what))
        }
    }
}

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
    #[tokio::test]
    async fn a_panic_while_reading_is_a_failed_poll_of_that_source() {
        let read = async {
            if true {
                panic!("index out of bounds: the len is 3 but the index is 7");
            }
            Ok(1)
        };
        let e = super::caught(read).await.unwrap_err();
        assert!(matches!(e, super::SourceError::Internal(_)), "{e:?}");
        let text = e.to_string();
        assert!(text.contains("the len is 3 but the index is 7"), "{text}");
        assert_eq!(
            crate::fetch::failure_zh(&text),
            "读取时遇到本系统的内部错误（已记入日志，请报告运维）"
        );
        assert_eq!(super::caught(async { Ok(2) }).await.unwrap(), 2);
    }

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
