//! One piece of evidence work, claimed from the store: the capture of an item's page, or a
//! recheck of a page kept.
//!
//! A capture fetches the item's link with the daemon's own fetcher (its user agent, body
//! cap, redirect limit and page timeout) through the polls' host gate, writes every hop as
//! WARC records, reads the article (`fetch::article`), classifies title, summary and body
//! again, and stores the version, in one transaction with the end of the work row and the
//! rechecks it schedules. A link that cannot be fetched, and a folder that cannot be
//! written, are errors on the item's evidence row; what was fetched is stored even when
//! the WARC file could not take it, so nothing fetched is lost.
//!
//! A recheck of an item of an open incident fetches the page again: gone (404, 410, a
//! notice page) is `deleted`, other text is `changed` and captured as a new version, and
//! either is told to the duty officer in the incident's thread (`notify::mail::
//! original_changed`), by mail and on the duty role's instant-message channels.

use super::verdict;
use super::warc::{CaptureMeta, HopRecord, Writer};
use crate::classify::parts::Parts;
use crate::config::evidence::Capture;
use crate::config::settings::Settings;
use crate::fetch::exchange::Exchange;
use crate::fetch::politeness::HostGate;
use crate::fetch::Fetcher;
use crate::incident::{self, ClockMoves, Snapshot};
use crate::notify::mail;
use crate::rules::escalation::Audience;
use crate::store::{EvidenceRow, EvidenceTask, EvidenceWork, ItemRow, NewEvidence, Store, Tx};
use crate::vocab::clock::{from_secs, secs, Clock};
use crate::vocab::ids::IncidentId;
use crate::vocab::state::EvidenceState;
use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use std::sync::{Arc, Mutex};

/// Items published longer ago than this open no incident from their page either (as a
/// poll's `MAX_AGE_DAYS`: an archive is history, not news).
const MAX_AGE_DAYS: i64 = 7;

/// The longest error text kept on an evidence row.
const MAX_ERROR_BYTES: usize = 1000;

/// The WARC files of this daemon, shared by its capture tasks (one writes at a time).
#[derive(Clone)]
pub struct Archive {
    writer: Arc<Mutex<Writer>>,
}

impl Archive {
    pub fn new(settings: &Settings) -> Archive {
        let e = &settings.config.evidence;
        Archive {
            writer: Arc::new(Mutex::new(Writer::new(
                &e.dir,
                e.max_file_bytes,
                e.daily,
                settings.config.daemon.timezone,
            ))),
        }
    }

    /// Writes one capture's records off the async threads (gzip of a 10 MB page takes a
    /// while); returns the file, offset and length, or the error naming the file.
    async fn write(
        &self,
        exchange: Arc<Exchange>,
        meta: CaptureMeta,
        now: DateTime<Utc>,
    ) -> Result<super::warc::Written, String> {
        let writer = self.writer.clone();
        tokio::task::spawn_blocking(move || {
            let hops: Vec<HopRecord<'_>> = exchange.hops.iter().map(hop_record).collect();
            let mut w = writer.lock().unwrap_or_else(|e| e.into_inner());
            w.write(&hops, &meta, now).map_err(|e| e.to_string())
        })
        .await
        .unwrap_or_else(|e| Err(format!("the WARC writer failed: {e}")))
    }
}

/// A hop of an exchange as the WARC writer takes it.
pub fn hop_record(h: &crate::fetch::exchange::Hop) -> HopRecord<'_> {
    HopRecord {
        url: &h.url,
        at: h.at,
        ip: h.ip,
        request_head: &h.request_head,
        response_head: &h.response_head,
        body: &h.body,
    }
}

/// Everything a piece of evidence work needs.
pub struct Ctx<'a> {
    pub store: &'a Store,
    pub fetcher: &'a Fetcher,
    pub settings: &'a Settings,
    pub archive: &'a Archive,
    pub gate: &'a HostGate,
    pub clock: &'a dyn Clock,
}

/// What a piece of work found, for the log and the tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Done {
    /// The item is gone (pruned), or no incident still holds it: nothing fetched.
    Skipped,
    /// A version was stored (the first, or a changed page's), in this state.
    Captured { state: EvidenceState, version: i64 },
    /// A kept page was checked; its state now.
    Checked(EvidenceState),
}

/// Does one claimed row; the row is ended in the transaction that stores what it found.
/// An `Err` is the database's: the caller lets go of the row to be tried again.
#[tracing::instrument(name = "evidence", skip_all, fields(item_id = task.item_id, work = ?task.work))]
pub async fn work(ctx: &Ctx<'_>, task: &EvidenceTask) -> Result<Done> {
    let Some(item) = ctx.store.item(task.item_id).await? else {
        finish_only(ctx, task).await?;
        return Ok(Done::Skipped);
    };
    match task.work {
        EvidenceWork::Capture => capture(ctx, task, &item, None).await,
        EvidenceWork::Recheck => recheck(ctx, task, &item).await,
    }
}

async fn finish_only(ctx: &Ctx<'_>, task: &EvidenceTask) -> Result<()> {
    let mut tx = ctx.store.begin().await?;
    ctx.store
        .finish_evidence(&mut tx, task.id, secs(ctx.clock.now()))
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Fetches `link` through the host gate.
async fn fetch(ctx: &Ctx<'_>, link: &str, now: DateTime<Utc>) -> Result<Exchange, String> {
    let host = url::Url::parse(link)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_default();
    let _pass = ctx.gate.enter(&host).await;
    ctx.fetcher
        .exchange(link, now)
        .await
        .map_err(|e| e.to_string())
}

/// What was read of a page's final answer.
struct Reading {
    status: u16,
    title: String,
    text: String,
    sha256: String,
    state: EvidenceState,
}

fn read(ctx: &Ctx<'_>, ex: &Exchange, now: DateTime<Utc>) -> Reading {
    let last = ex.last();
    let ok = (200..300).contains(&last.status);
    let article = ok
        .then(|| {
            // A bug on some hostile page (in yuqing or the readability port) must not lose
            // the page: it is kept as fetched, like a page with no readable article.
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                crate::fetch::article::read(
                    &last.body,
                    ex.content_type().as_deref(),
                    &ex.final_url,
                    now,
                    ctx.settings.config.daemon.timezone,
                )
            }))
            .unwrap_or_else(|_| {
                tracing::error!(url = %ex.final_url, "reading the article hit an internal error (a panic, logged above); the page is kept as fetched");
                Err(crate::fetch::article::ArticleError::Internal)
            })
        })
        .and_then(|r| match r {
            Ok(a) => Some(a),
            Err(e) => {
                tracing::info!(url = %ex.final_url, error = %e, "the page holds no readable article; kept as fetched");
                None
            }
        });
    let (title, text) = article.map(|a| (a.title, a.text)).unwrap_or_default();
    Reading {
        status: last.status,
        state: verdict::judge(Some(last.status), &title, &text),
        sha256: hex::encode(Sha256::digest(&last.body)),
        title,
        text,
    }
}

/// The topics of title, summary and article text (`Classifier::classify_parts`), and where
/// each matched (`title`, `summary`, `body`), as JSON for the evidence row; the joined text
/// the matches' offsets point into; and the topics that matched only in the body.
fn reclassify(
    settings: &Settings,
    item: &ItemRow,
    text: &str,
) -> (String, String, Vec<crate::classify::TopicMatch>) {
    let parts = Parts {
        title: &item.title,
        summary: &item.summary,
        body: text,
    };
    let found = settings
        .classifier
        .classify_parts(&parts, Some(item.source_id.as_str()));
    let topics: Vec<serde_json::Value> = found
        .matches
        .iter()
        .map(|m| {
            let found_in: Vec<&str> = m.found_in.iter().map(|p| p.as_str()).collect();
            serde_json::json!({"id": m.id, "name": m.name, "found_in": found_in})
        })
        .collect();
    let body_only = found
        .classification
        .topics
        .iter()
        .filter(|t| found.matches.iter().any(|m| m.id == t.id && m.body_only))
        .cloned()
        .collect();
    (
        serde_json::Value::Array(topics).to_string(),
        parts.joined(),
        body_only,
    )
}

/// Captures the item's page as a new version; `recheck` is the kept version a recheck
/// found changed (`None` for the first capture, and for a recheck of a page never kept).
async fn capture(
    ctx: &Ctx<'_>,
    task: &EvidenceTask,
    item: &ItemRow,
    changed_from: Option<&EvidenceRow>,
) -> Result<Done> {
    let now = ctx.clock.now();
    let store = ctx.store;
    let fetched = match item.link.as_deref() {
        None => Err("the item has no link to fetch".to_string()),
        Some(link) => fetch(ctx, link, now).await,
    };
    let link = item.link.clone().unwrap_or_default();
    let ex = match fetched {
        Ok(ex) => Arc::new(ex),
        Err(error) => {
            let error = crate::vocab::text::bounded(&error, MAX_ERROR_BYTES);
            tracing::warn!(item_id = item.id, link = %link, error = %error, "cannot fetch the item's page; the evidence row says why");
            let mut tx = store.begin().await?;
            let version = match store.latest_evidence(item.id).await? {
                // A recheck of a page never kept, failing again: the same failed version.
                Some(last) if last.sha256.is_none() => {
                    store
                        .record_evidence_check(
                            &mut tx,
                            last.id,
                            EvidenceState::Unreachable,
                            secs(now),
                            None,
                            Some(&error),
                        )
                        .await?;
                    last.version
                }
                _ => {
                    let id = store
                        .insert_evidence(
                            &mut tx,
                            &NewEvidence {
                                item_id: item.id,
                                url: &link,
                                at: secs(now),
                                state: Some(EvidenceState::Unreachable),
                                error: Some(&error),
                                ..NewEvidence::default()
                            },
                        )
                        .await?;
                    store.evidence_version(id).await?.map_or(1, |r| r.version)
                }
            };
            schedule_rechecks(ctx, &mut tx, task, item, now).await?;
            store.finish_evidence(&mut tx, task.id, secs(now)).await?;
            tx.commit().await?;
            return Ok(Done::Captured {
                state: EvidenceState::Unreachable,
                version,
            });
        }
    };
    let reading = read(ctx, &ex, now);
    let (topics, joined, body_only) = reclassify(ctx.settings, item, &reading.text);
    let incidents = store
        .active_incidents_holding(store.pool(), item.id)
        .await?;
    let version = store
        .latest_evidence(item.id)
        .await?
        .map_or(0, |r| r.version)
        + 1;
    let meta = CaptureMeta {
        item_id: item.id,
        incidents: incidents.clone(),
        source_id: item.source_id.clone(),
        version,
        link: link.clone(),
        title: reading.title.clone(),
        sha256: reading.sha256.clone(),
    };
    let written = ctx.archive.write(ex.clone(), meta, now).await;
    if let Err(e) = &written {
        tracing::error!(item_id = item.id, error = %e, "cannot write the WARC records; the page's text and digest are kept in the database");
    }
    let state = match (changed_from, reading.state) {
        (Some(_), EvidenceState::Online) => EvidenceState::Changed,
        (_, s) => s,
    };
    let error = written
        .as_ref()
        .err()
        .map(|e| crate::vocab::text::bounded(e, MAX_ERROR_BYTES).into_owned());
    let warc = written
        .as_ref()
        .ok()
        .map(|w| (w.file.as_str(), w.offset as i64, w.length as i64));
    let mut tx = store.begin().await?;
    // `capture = "all"`: an item whose title matched nothing, but whose page does, is
    // filed like any other matched item; its alert is queued in this transaction.
    if ctx.settings.config.evidence.capture == Capture::All
        && changed_from.is_none()
        && item.topics.is_empty()
        && !body_only.is_empty()
    {
        file_by_body(ctx, &mut tx, item, &body_only, &joined, now).await?;
    }
    let row = store
        .insert_evidence(
            &mut tx,
            &NewEvidence {
                item_id: item.id,
                url: &link,
                final_url: Some(&ex.final_url),
                at: secs(now),
                state: Some(state),
                status: Some(i64::from(reading.status)),
                sha256: Some(&reading.sha256),
                title: Some(&reading.title),
                text: Some(&reading.text),
                topics: Some(&topics),
                warc,
                error: error.as_deref(),
            },
        )
        .await?;
    if changed_from.is_none() {
        schedule_rechecks(ctx, &mut tx, task, item, now).await?;
    }
    if let Some(kept) = changed_from {
        tell_duty(
            ctx,
            &mut tx,
            item,
            EvidenceState::Changed,
            kept,
            version,
            now,
        )
        .await?;
    }
    store.finish_evidence(&mut tx, task.id, secs(now)).await?;
    tx.commit().await?;
    tracing::info!(item_id = item.id, evidence_id = row, version, state = %state, "page kept as evidence");
    Ok(Done::Captured { state, version })
}

/// After an item's first capture, its rechecks, when an incident still being handled holds
/// it (read in `tx`, so an incident the capture itself opened counts).
async fn schedule_rechecks(
    ctx: &Ctx<'_>,
    tx: &mut Tx,
    task: &EvidenceTask,
    item: &ItemRow,
    now: DateTime<Utc>,
) -> Result<()> {
    if task.work != EvidenceWork::Capture {
        return Ok(());
    }
    let held = ctx
        .store
        .active_incidents_holding(&mut **tx, item.id)
        .await?;
    if held.is_empty() {
        return Ok(());
    }
    let dues: Vec<i64> = ctx
        .settings
        .config
        .evidence
        .recheck
        .iter()
        .map(|s| secs(now) + s.as_secs() as i64)
        .collect();
    ctx.store.queue_rechecks(tx, item.id, &dues).await
}

/// Files an item by the topics its page matched (`capture = "all"`); `text` is the joined
/// title, summary and body the topics' evidence points into.
async fn file_by_body(
    ctx: &Ctx<'_>,
    tx: &mut Tx,
    item: &ItemRow,
    topics: &[crate::classify::TopicMatch],
    text: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    let ids: Vec<String> = topics.iter().map(|t| t.id.clone()).collect();
    ctx.store.set_item_topics(tx, item.id, &ids).await?;
    let too_old = item
        .published_at
        .is_some_and(|p| secs(now) - p > MAX_AGE_DAYS * 86_400);
    if too_old {
        tracing::info!(
            item_id = item.id,
            "its page matched, but it was published too long ago to open an incident"
        );
        return Ok(());
    }
    let mut row = item.clone();
    row.topics = ids.into();
    let mut moves = ClockMoves::default();
    let name = incident::source_name(&ctx.settings.config, &item.source_id);
    let found_by = incident::FoundBy {
        id: &item.source_id,
        name: &name,
    };
    for m in topics {
        let matched = incident::Match::new(&row, m, text);
        // A row this version cannot read in the way holds back this filing only: the page
        // is kept all the same, and not fetched again every minute.
        let filing = incident::file_or_hold(
            ctx.store,
            tx,
            ctx.settings,
            &matched,
            found_by,
            now,
            &mut moves,
        )
        .await?;
        tracing::info!(item_id = item.id, topic = %m.id, filing = ?filing, "filed by the text of its page");
    }
    Ok(())
}

/// Checks a kept page again, while an incident still being handled holds its item.
async fn recheck(ctx: &Ctx<'_>, task: &EvidenceTask, item: &ItemRow) -> Result<Done> {
    let store = ctx.store;
    if store
        .active_incidents_holding(store.pool(), item.id)
        .await?
        .is_empty()
    {
        finish_only(ctx, task).await?;
        return Ok(Done::Skipped);
    }
    let Some(kept) = store.latest_kept_evidence(item.id).await? else {
        // Never kept (the first capture could not fetch it): try to keep it now.
        return capture(ctx, task, item, None).await;
    };
    let Some(latest) = store.latest_evidence(item.id).await? else {
        return capture(ctx, task, item, None).await;
    };
    let now = ctx.clock.now();
    let link = item.link.clone().unwrap_or_else(|| kept.url.clone());
    let (state, status, error) = match fetch(ctx, &link, now).await {
        Err(e) => (EvidenceState::Unreachable, None, Some(e)),
        Ok(ex) => {
            let reading = read(ctx, &ex, now);
            let edited = reading.state == EvidenceState::Online
                && verdict::differs(kept.text.as_deref().unwrap_or(""), &reading.text);
            if edited {
                return capture(ctx, task, item, Some(&kept)).await;
            }
            let state = match (reading.state, latest.state) {
                // Unchanged since the edit that was seen: still the changed page.
                (EvidenceState::Online, EvidenceState::Changed) => EvidenceState::Changed,
                (s, _) => s,
            };
            let error =
                (state == EvidenceState::Unreachable).then(|| format!("HTTP {}", reading.status));
            (state, Some(i64::from(reading.status)), error)
        }
    };
    let error = error.map(|e| crate::vocab::text::bounded(&e, MAX_ERROR_BYTES).into_owned());
    let mut tx = store.begin().await?;
    store
        .record_evidence_check(
            &mut tx,
            latest.id,
            state,
            secs(now),
            status,
            error.as_deref(),
        )
        .await?;
    if state == EvidenceState::Deleted && latest.state != EvidenceState::Deleted {
        tell_duty(ctx, &mut tx, item, state, &kept, kept.version, now).await?;
    }
    store.finish_evidence(&mut tx, task.id, secs(now)).await?;
    tx.commit().await?;
    tracing::info!(item_id = item.id, state = %state, "kept page checked");
    Ok(Done::Checked(state))
}

/// Tells the duty officer, in the thread of each incident still being handled that holds
/// the item, that its page was deleted or edited.
async fn tell_duty(
    ctx: &Ctx<'_>,
    tx: &mut Tx,
    item: &ItemRow,
    state: EvidenceState,
    kept: &EvidenceRow,
    version: i64,
    now: DateTime<Utc>,
) -> Result<()> {
    let config = &ctx.settings.config;
    let incident_ctx = incident::Ctx {
        store: ctx.store,
        config,
        now,
    };
    let held = ctx
        .store
        .active_incidents_holding(&mut **tx, item.id)
        .await?;
    for incident in held {
        // An incident this version cannot read holds back no other's mail, nor the page:
        // the change is kept, and the row is named for the operators. (Reading is done
        // in this process, so the transaction is left as it was.)
        let snap = match Snapshot::read(incident_ctx, tx, IncidentId(incident)).await {
            Ok(snap) => snap,
            Err(e) if crate::store::unreadable(&e) => {
                let error = crate::vocab::text::error_chain(&e);
                tracing::error!(incident_id = incident, item_id = item.id, state = %state, error = %error, "the original post changed, but the incident cannot be read: its duty officer is not told; the page is kept");
                continue;
            }
            Err(e) => return Err(e),
        };
        let view = snap.view();
        let duty = Audience {
            mailboxes: config.people.duty.clone(),
            notifiers: config
                .people
                .notify
                .of(crate::rules::escalation::Group::Duty)
                .to_vec(),
        };
        crate::notify::alert::alert(ctx.store, tx, config, duty, now, |to| {
            mail::original_changed(&view, item, state, from_secs(kept.captured_at), version, to)
        })
        .await
        .context("cannot queue the mail about the original post")?;
        tracing::warn!(incident_id = incident, item_id = item.id, state = %state, "the original post changed; duty officer told");
    }
    Ok(())
}
