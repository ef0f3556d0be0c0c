//! Filings held back (`held_filings`): an item stored while a row this version cannot
//! read (an incident of its topic) was in the way of its filing. Each turn of the timed
//! steps tries them again and files those whose way is clear, whether or not their source
//! still lists them: the incident's clock counts from the item, not from the filing.

use super::{on_match, ClockMoves, Ctx, Match, Outcome};
use crate::classify::parts::Parts;
use crate::classify::TopicMatch;
use crate::config::settings::Settings;
use crate::store::{HeldFiling, ItemRow, Store, Tx};
use crate::vocab::clock::secs;
use anyhow::{Context, Result};
use chrono::{DateTime, Utc};

/// What [`file_or_hold`] did with a match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filing {
    Filed(Outcome),
    /// A row this version cannot read is in the way: the filing waits in `held_filings`.
    Held,
}

/// Where a filed item was found, for its held filing's row and mail: a source's id and
/// name.
#[derive(Debug, Clone, Copy)]
pub struct FoundBy<'a> {
    pub id: &'a str,
    pub name: &'a str,
}

/// Files `matched` (a stored item under a topic it matched) in a savepoint of `tx`: a poll
/// and the capture of a page (`capture = "all"`) file the same way. When a stored row
/// this version cannot read is in the way (an incident of the topic), the attempt is
/// taken back and the filing held back, named in the log: the item stays stored, the
/// caller's other items and topics go on, and [`fire_held`] files it once the row can be
/// read. The first filing of a hold names the row to repair and is told at once to the
/// duty officers (mail and their instant-message notifiers) and the operators; the ones
/// after it wait with it. On a hold `moves` is as it was before.
pub async fn file_or_hold(
    store: &Store,
    tx: &mut Tx,
    settings: &Settings,
    matched: &Match<'_>,
    found_by: FoundBy<'_>,
    now: DateTime<Utc>,
    moves: &mut ClockMoves,
) -> Result<Filing> {
    let (item, topic) = (matched.item.id, matched.topic_id);
    let before = moves.clone();
    store.begin_one(tx).await?;
    let filed = on_match(store, tx, settings, matched, now, moves)
        .await
        .with_context(|| format!("cannot file item {item} under topic {topic}"));
    match filed {
        Ok(outcome) => {
            store.keep_one(tx).await?;
            Ok(Filing::Filed(outcome))
        }
        Err(e) if crate::store::unreadable(&e) => {
            store.undo_one(tx).await?;
            *moves = before;
            // The first item of a hold names the row to repair (reading the topic's
            // incidents one by one) and is told; the ones after it wait with it.
            let first = !store.topic_held(tx, topic).await?;
            let error = if first {
                store.why_held(tx, item, topic, &e).await?
            } else {
                crate::vocab::text::error_chain(&e)
            };
            tracing::error!(source_id = found_by.id, item_id = item, topic, error = %error, "filing held back until the row can be read; the item is stored");
            if first {
                let ctx = Ctx {
                    store,
                    config: &settings.config,
                    now,
                };
                tell_held(ctx, tx, matched, found_by, &error).await?;
            }
            let held = HeldFiling {
                item_id: item,
                topic_id: topic.into(),
                source_id: found_by.id.to_string(),
                held_at: secs(now),
                error,
            };
            store.hold_filing(tx, &held).await?;
            Ok(Filing::Held)
        }
        Err(e) => Err(e),
    }
}

/// The text item `r` matches `topic` in, and the match: its title and summary, as a poll
/// classifies them, or with its kept page's text after them, as the capture of its page
/// does (`capture = "all"` files an item by its page); `None` when neither matches now.
async fn matched_in(
    store: &Store,
    settings: &Settings,
    r: &ItemRow,
    topic: &str,
) -> Result<Option<(String, TopicMatch)>> {
    let classifier = &settings.classifier;
    let text = format!("{}\n{}", r.title, r.summary);
    let by_title = classifier.classify(&text, Some(&r.source_id));
    if let Some(m) = by_title.topics.into_iter().find(|m| m.id == topic) {
        return Ok(Some((text, m)));
    }
    let Some(body) = store.latest_kept_evidence(r.id).await?.and_then(|e| e.text) else {
        return Ok(None);
    };
    let parts = Parts {
        title: &r.title,
        summary: &r.summary,
        body: &body,
    };
    let by_page = classifier.classify_parts(&parts, Some(&r.source_id));
    let m = by_page
        .classification
        .topics
        .into_iter()
        .find(|m| m.id == topic);
    Ok(m.map(|m| (parts.joined(), m)))
}

/// Tells the duty officers (mail and their instant-message notifiers) and the operators,
/// in the caller's transaction, that an item matched a topic whose filing is now held
/// back: the topic's items start no clock and send no alert until the row is repaired.
async fn tell_held(
    ctx: Ctx<'_>,
    tx: &mut Tx,
    matched: &Match<'_>,
    found_by: FoundBy<'_>,
    error: &str,
) -> Result<()> {
    use crate::notify::operator_mail::{filing_held, HeldView};
    use crate::rules::escalation::Group;
    let Ctx { store, config, now } = ctx;
    let people = &config.people;
    let mut to = people.mailboxes(Group::Duty).to_vec();
    for m in people.mailboxes(Group::Operators) {
        if !to.contains(m) {
            to.push(m.clone());
        }
    }
    let row = matched.item;
    let view = HeldView {
        topic_name: matched.topic_name,
        severity: matched.severity,
        title: &row.title,
        link: row.link.as_deref(),
        source_name: found_by.name,
        at: crate::vocab::clock::from_secs(row.published_at.unwrap_or(row.fetched_at)),
        words: &matched.words,
        error,
        tz: config.daemon.timezone,
        now,
    };
    let mut draft = filing_held(&view, &to);
    draft.notify = people.notify.of(Group::Duty).to_vec();
    crate::notify::alert::queue(store, tx, config, &draft, now).await?;
    Ok(())
}

/// Files each held-back filing whose row can be read now, one transaction each, oldest
/// item first; returns how many were filed. When a topic's oldest filing is still blocked
/// it keeps its first time and takes the new error, and the topic's later ones wait for
/// the next turn without being tried (the same row is in their way, and their order is
/// kept); the other topics go on, and the first blocked error is returned at the end, for
/// the log. A filing whose item no longer matches its topic (the watchlist changed) or is
/// gone is dropped, and logged. A filing whose item's own row cannot be read waits too,
/// with that error, but holds back nothing else: its topic's later items are filed.
pub async fn fire_held(store: &Store, settings: &Settings, now: DateTime<Utc>) -> Result<usize> {
    let held = store.held_filings().await?;
    let (mut filed, mut opened, mut blocked) = (0, Vec::new(), None);
    let mut moves = ClockMoves::default();
    let mut blocked_topics: Vec<crate::vocab::ids::TopicId> = Vec::new();
    for h in held {
        if blocked_topics.contains(&h.topic_id) {
            continue;
        }
        let (item, topic) = (h.item_id, h.topic_id.as_str());
        let row = match store.item(item).await {
            Ok(row) => row,
            Err(e) if crate::store::unreadable(&e) => {
                let e = e.context(format!("cannot file item {item} under topic {topic}"));
                let again = HeldFiling {
                    error: crate::vocab::text::error_chain(&e),
                    ..h
                };
                let mut tx = store.begin().await?;
                store.hold_filing(&mut tx, &again).await?;
                tx.commit().await?;
                blocked.get_or_insert(e);
                continue;
            }
            Err(e) => return Err(e),
        };
        let found = match &row {
            Some(r) => matched_in(store, settings, r, topic).await?,
            None => None,
        };
        let mut tx = store.begin().await?;
        let (Some(row), Some((text, m))) = (&row, &found) else {
            store.release_filing(&mut tx, item, topic).await?;
            tx.commit().await?;
            tracing::warn!(
                item_id = item,
                topic,
                gone = row.is_none(),
                "held-back filing dropped: the item is gone or no longer matches the topic"
            );
            continue;
        };
        let before = moves.clone();
        let matched = Match::new(row, m, text);
        let done = on_match(store, &mut tx, settings, &matched, now, &mut moves)
            .await
            .with_context(|| format!("cannot file item {item} under topic {topic}"));
        match done {
            Ok(outcome) => {
                store.release_filing(&mut tx, item, topic).await?;
                tx.commit().await?;
                filed += 1;
                tracing::info!(item_id = item, topic, ?outcome, "held-back filing filed");
                if let Outcome::Opened(i) = outcome {
                    opened.push(i);
                }
            }
            Err(e) if crate::store::unreadable(&e) => {
                tx.rollback().await?;
                moves = before;
                let mut tx = store.begin().await?;
                let again = HeldFiling {
                    error: store.why_held(&mut tx, item, topic, &e).await?,
                    ..h
                };
                store.hold_filing(&mut tx, &again).await?;
                tx.commit().await?;
                blocked_topics.push(again.topic_id);
                blocked.get_or_insert(e);
            }
            Err(e) => return Err(e),
        }
    }
    if let Err(e) = super::release::after_opened(store, settings, &opened, now).await {
        tracing::error!(error = %format!("{e:#}"), "cannot look for releases of the incidents just opened");
    }
    blocked.map_or(Ok(filed), Err)
}
