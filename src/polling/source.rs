//! A source's entries become items: hashed and classified, stored, and filed into
//! incidents.
//!
//! The new items of one fetch are hashed and classified first, outside any transaction
//! (folding and matching are most of a new item's CPU, and the write lock is one for all
//! polls), then stored and turned into incidents and mail in
//! transactions of `ITEMS_PER_TRANSACTION` items (not one per item: taking the write lock
//! dominated in the poll bench; not one per page: a page of huge items held the lock long
//! enough to stall every other source). The source's new HTTP validators are saved only
//! after the last commit, so a crash mid-poll re-reads the same page next time and loses
//! nothing; the store's de-duplication makes the second reading harmless. An item whose
//! filing under a topic meets a row this version cannot read (an incident of that topic)
//! is stored all the same, and only that filing waits (`held_filings`, savepoint by
//! savepoint): the other items and topics are filed and alerted, and the timed steps file
//! it once the row can be read (`incident::fire_held`), even after it leaves the feed.
//! Fetching, health and the operators' mail are the poll's (`polling`).

use super::{content_hash, Poll, Target};
pub use super::{PollError, Report};
use crate::classify::grouping::ItemSignature;
use crate::classify::Classification;
use crate::classify::TopicMatch;
use crate::config::settings::Settings;
use crate::config::Source;
use crate::fetch::feed::Entry;
use crate::fetch::Fetcher;
use crate::incident::{self, Filing, Outcome};
use crate::store::{Incoming, ItemRow, NewItem, Store, Stored, Topics, Tx};
use crate::vocab::clock::{secs, Clock};
use anyhow::Result;
use chrono::Duration;

/// Items older than this when first seen are recorded but open no incident: a new source's
/// archive is history, not news.
pub const MAX_AGE_DAYS: i64 = 7;

/// Polls `source` once, its entries filed as items, and records the outcome (success or
/// failure) in its health row.
#[tracing::instrument(name = "poll", skip_all, fields(source_id = %source.id))]
pub async fn poll(
    store: &Store,
    fetcher: &Fetcher,
    settings: &Settings,
    source: &Source,
    clock: &dyn Clock,
) -> Result<Report, PollError> {
    super::poll(store, fetcher, settings, source, clock, &mut Items).await
}

/// A source's entries as items: classified outside the write lock, then stored and filed
/// into incidents, with the mail they cause, in one transaction per chunk.
pub(crate) struct Items;

impl Target for Items {
    async fn store(&mut self, poll: &Poll<'_>, chunk: &[Entry], report: &mut Report) -> Result<()> {
        file(poll, chunk, report).await
    }

    /// Looks for releases of the incidents just opened; logged, not returned: the items and
    /// incidents are stored.
    async fn committed(&mut self, poll: &Poll<'_>, report: &Report) {
        let opened = &report.opened;
        if let Err(e) =
            crate::incident::release::after_opened(poll.store, poll.settings, opened, poll.now)
                .await
        {
            tracing::error!(source_id = %poll.source.id, error = %format!("{e:#}"), "cannot look for releases of the incidents just opened");
        }
    }

    /// A poll that brought new items checks how late the source is heard (`max_lag`).
    async fn polled(&mut self, poll: &Poll<'_>, report: &Report) {
        if report.new > 0 {
            super::health::watch_lag(poll).await;
        }
    }
}

/// Stores `chunk`'s entries and files them into incidents, in one transaction.
async fn file(poll: &Poll<'_>, chunk: &[Entry], report: &mut Report) -> Result<()> {
    let Poll {
        store,
        settings,
        source,
        now,
        ..
    } = *poll;
    let prepared = prepare(store, settings, &source.id, chunk).await?;
    let mut tx = store.begin().await?;
    let stored = store
        .store_items(
            &mut tx,
            &source.id,
            &incoming(&source.id, chunk, &prepared),
            secs(now),
        )
        .await?;
    for ((entry, prepared), stored) in chunk.iter().zip(prepared).zip(stored) {
        ingest(poll, &mut tx, entry, prepared, stored, report).await?
    }
    tx.commit().await?;
    Ok(())
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
    /// The topics it matched, stored with it, and its grouping signature; none when it
    /// matched none or was not classified.
    topics: Topics,
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
                topics: Topics::default(),
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
                p.topics = Topics(c.topics.iter().map(|t| t.id.as_str().into()).collect());
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
            topics: p.topics.clone(),
            signature: p.signature.as_deref(),
        })
        .collect()
}

/// Counts one stored entry and, when it is new and recent, files it into incidents, in the
/// caller's transaction.
async fn ingest(
    poll: &Poll<'_>,
    tx: &mut Tx,
    entry: &Entry,
    prepared: Prepared,
    stored: Stored,
    report: &mut Report,
) -> Result<()> {
    let Poll {
        store,
        settings,
        now,
        ..
    } = *poll;
    let source_id = poll.source.id.as_str();
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
            row.topics = ids.into();
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
                file_under(poll, tx, &row, m, &text, report).await?;
            }
        }
    }
    Ok(())
}

/// Files stored item `row` under the topic it matched, or holds the filing back while a
/// row this version cannot read is in the way (`incident::file_or_hold`).
async fn file_under(
    poll: &Poll<'_>,
    tx: &mut Tx,
    row: &ItemRow,
    m: &TopicMatch,
    text: &str,
    report: &mut Report,
) -> Result<()> {
    let matched = incident::Match::new(row, m, text);
    let found_by = incident::FoundBy {
        id: &poll.source.id,
        name: &poll.source.name,
    };
    let filing = incident::file_or_hold(
        poll.store,
        tx,
        poll.settings,
        &matched,
        found_by,
        poll.now,
        &mut report.clock_moves,
    )
    .await?;
    match filing {
        Filing::Filed(Outcome::Opened(i)) => report.opened.push(i),
        Filing::Filed(Outcome::Joined(i)) => report.joined.push(i),
        Filing::Held => report.held += 1,
    }
    Ok(())
}
