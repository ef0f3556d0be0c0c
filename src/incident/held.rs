//! Filings held back (`held_filings`): an item stored while a row this version cannot
//! read (an incident of its topic) was in the way of its filing. Each turn of the timed
//! steps tries them again and files those whose way is clear, whether or not their source
//! still lists them: the incident's clock counts from the item, not from the filing.

use super::{on_match, ClockMoves, Match, Outcome};
use crate::config::settings::Settings;
use crate::store::{HeldFiling, Store};
use anyhow::{Context, Result};
use chrono::{DateTime, Utc};

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
        let text = row.as_ref().map(|r| format!("{}\n{}", r.title, r.summary));
        let classified = row
            .as_ref()
            .zip(text.as_deref())
            .map(|(r, text)| settings.classifier.classify(text, Some(&r.source_id)));
        let m = classified
            .as_ref()
            .and_then(|c| c.topics.iter().find(|m| m.id == topic));
        let mut tx = store.begin().await?;
        let (Some(row), Some(text), Some(m)) = (&row, &text, m) else {
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
