//! Filings held back (migration 0034): an item that matched a topic whose incident row
//! this version cannot read is stored like any other, and its filing under that topic
//! waits here, one row per item and topic, until `incident::fire_held` files it. The
//! console, `yuqing sources` and `/healthz` read a source's hold from here.

use super::query;
use super::{Store, Tx};
use crate::vocab::ids::{IncidentId, TopicId};
use anyhow::Result;

/// The longest error text kept with a held-back filing.
const MAX_ERROR_BYTES: usize = 1000;

/// One item's filing under one topic, waiting for a row that can be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldFiling {
    pub item_id: i64,
    pub topic_id: TopicId,
    pub source_id: String,
    /// When it was first held back; kept while it waits.
    pub held_at: i64,
    /// Why, as the latest attempt said (it names the item, the topic and the incident).
    pub error: String,
}

/// A source with filings held back, as `/healthz` names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldBack {
    pub source_id: String,
    /// How many of its items' filings wait.
    pub filings: usize,
    /// When the oldest was held back.
    pub since: i64,
    /// The oldest one's latest error.
    pub error: String,
}

impl Store {
    /// Holds back the filing of item `item_id` under `topic`, in the caller's transaction
    /// (the one that stored the item); held again, it keeps its first time and takes the
    /// new error (cut to `MAX_ERROR_BYTES`).
    pub async fn hold_filing(&self, tx: &mut Tx, held: &HeldFiling) -> Result<()> {
        query::execute(
            &mut **tx,
            "INSERT INTO held_filings (item_id, topic_id, source_id, held_at, error) \
             VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (item_id, topic_id) DO UPDATE SET error = excluded.error",
            (
                held.item_id,
                held.topic_id.as_str(),
                held.source_id.as_str(),
                held.held_at,
                crate::vocab::text::bounded(&held.error, MAX_ERROR_BYTES).as_ref(),
            ),
        )
        .await?;
        Ok(())
    }

    /// Whether a filing under `topic` is held back already (a hold of the topic is under
    /// way, and was told).
    pub async fn topic_held(&self, tx: &mut Tx, topic: &str) -> Result<bool> {
        let any: Option<i64> = query::optional_scalar(
            &mut **tx,
            "SELECT 1 FROM held_filings WHERE topic_id = $1 LIMIT 1",
            (topic,),
        )
        .await?;
        Ok(any.is_some())
    }

    /// The incidents of `topic` this version cannot read, each with why, read one by one:
    /// what a held filing's error names, so that the operators know which row to repair
    /// (the statement that failed read them all, and its error names none).
    pub async fn unreadable_incidents(
        &self,
        tx: &mut Tx,
        topic: &str,
    ) -> Result<Vec<(IncidentId, String)>> {
        let ids: Vec<IncidentId> = query::scalars(
            &mut **tx,
            "SELECT id FROM incidents WHERE topic_id = $1 ORDER BY id",
            (topic,),
        )
        .await?;
        let mut out = Vec::new();
        for id in ids {
            if let Err(e) = self.incident(&mut **tx, id).await {
                if !super::unreadable(&e) {
                    return Err(e);
                }
                out.push((id, crate::vocab::text::error_chain(&e)));
            }
        }
        Ok(out)
    }

    /// Why item `item` cannot be filed under `topic`, `e` being the attempt's error: the
    /// incidents of the topic that cannot be read, by number, each with its reason, or `e`
    /// itself when none of them is the cause.
    pub async fn why_held(
        &self,
        tx: &mut Tx,
        item: i64,
        topic: &str,
        e: &anyhow::Error,
    ) -> Result<String> {
        let named = self.unreadable_incidents(tx, topic).await?;
        if named.is_empty() {
            return Ok(crate::vocab::text::error_chain(e));
        }
        let rows: Vec<String> = named
            .iter()
            .map(|(id, why)| format!("incident #{id} cannot be read: {why}"))
            .collect();
        Ok(format!(
            "cannot file item {item} under topic {topic}: {}",
            rows.join("; ")
        ))
    }

    /// Every filing held back, oldest item first.
    pub async fn held_filings(&self) -> Result<Vec<HeldFiling>> {
        let rows: Vec<(i64, String, String, i64, String)> = query::all(
            self.pool(),
            "SELECT item_id, topic_id, source_id, held_at, error FROM held_filings \
             ORDER BY item_id, topic_id",
            (),
        )
        .await?;
        Ok(rows
            .into_iter()
            .map(|(item_id, topic, source_id, held_at, error)| HeldFiling {
                item_id,
                topic_id: topic.into(),
                source_id,
                held_at,
                error,
            })
            .collect())
    }

    /// Ends the hold of item `item_id` under `topic`: filed, or no longer matching it.
    pub async fn release_filing(&self, tx: &mut Tx, item_id: i64, topic: &str) -> Result<()> {
        query::execute(
            &mut **tx,
            "DELETE FROM held_filings WHERE item_id = $1 AND topic_id = $2",
            (item_id, topic),
        )
        .await?;
        Ok(())
    }

    /// The sources with filings held back, by id, each with its oldest hold.
    pub async fn held_back(&self) -> Result<Vec<HeldBack>> {
        let mut out: Vec<HeldBack> = Vec::new();
        let rows: Vec<(String, i64, String)> = query::all(
            self.pool(),
            "SELECT source_id, held_at, error FROM held_filings \
             ORDER BY source_id, held_at, item_id, topic_id",
            (),
        )
        .await?;
        for (source_id, since, error) in rows {
            match out.last_mut() {
                Some(last) if last.source_id == source_id => last.filings += 1,
                _ => out.push(HeldBack {
                    source_id,
                    filings: 1,
                    since,
                    error,
                }),
            }
        }
        Ok(out)
    }
}
