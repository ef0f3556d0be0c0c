//! Items fetched from sources, each stored once.

use super::query::{self, Params};
use super::{Store, Tx};
use crate::classify::tone::{Tone, ToneLabel};
use crate::vocab::ids::{IncidentId, TopicId};
use anyhow::Result;
use sqlx::any::AnyRow;
use sqlx::Row;

/// An item as a parser produced it, ready to store.
#[derive(Debug, Clone)]
pub struct NewItem<'a> {
    pub source_id: &'a str,
    /// GUID, else link, else content hash: what makes the item the same item next time.
    pub guid: &'a str,
    pub link: Option<&'a str>,
    pub title: &'a str,
    pub summary: &'a str,
    pub published_at: Option<i64>,
    pub content_hash: &'a str,
}

/// A new entry of a page with what the poll learnt of it before storing it: its tone and
/// the topics it matched (none: empty).
#[derive(Debug, Clone)]
pub struct Incoming<'a> {
    pub item: NewItem<'a>,
    pub tone: Option<Tone>,
    pub topics: Topics,
    /// Its grouping signature (`ItemSignature::to_text`), for an item that matched topics:
    /// stored with it, so that grouping neither computes nor writes it under the lock.
    pub signature: Option<&'a str>,
}

/// At most this many items per statement in `store_items` (12 parameters each).
const STORE_BATCH: usize = 500;

/// What storing an item found.
#[derive(Debug, Clone, PartialEq)]
pub enum Stored {
    /// Never seen: classify it. The row as stored (read back from the insert), tone, topics
    /// and grouping signature included, so the caller files it without rebuilding it.
    New(Box<ItemRow>),
    /// Same item, changed title or text.
    Updated(i64),
    /// Seen before (same GUID or same content under another URL): nothing to do.
    Seen,
    /// Another source stored it first (the same link, or the same text under another link):
    /// recorded as that item's sighting by this source (issue 24 §2), nothing else to do.
    Sighted(i64),
}

/// Another source's item counts as the same story by its text only while it is this recent,
/// and only when the text is at least this long: two agencies' 通知公告 are not one story.
const SAME_TEXT_WINDOW_S: i64 = 7 * 86_400;
const SAME_TEXT_MIN_CHARS: usize = 10;

/// Another source carrying an item: its link and publication time as that source gave
/// them, and when yuqing saw it there.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, serde::Serialize)]
pub struct Sighting {
    pub item_id: i64,
    pub source_id: String,
    pub link: Option<String>,
    pub published_at: Option<i64>,
    pub seen_at: i64,
}

/// An item as stored, decoded at the store's edge (`FromRow` below): its topics and tone
/// typed, a stored value that does not decode an error naming it and the item.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemRow {
    pub id: i64,
    pub source_id: String,
    pub guid: String,
    pub link: Option<String>,
    pub title: String,
    pub summary: String,
    pub published_at: Option<i64>,
    pub fetched_at: i64,
    pub topics: Topics,
    /// As the classifier scored it when the item was stored; `None` for items stored
    /// before tone existed. Stored as a label and a score in hundredths (-100..=100).
    pub tone: Option<Tone>,
    /// The grouping signature when the caller stored it with the item (a poll does);
    /// `None` as the store reads items, and grouping then computes and stores it.
    pub signature: Option<String>,
}

impl<'r> sqlx::FromRow<'r, AnyRow> for ItemRow {
    fn from_row(row: &'r AnyRow) -> sqlx::Result<Self> {
        let id: i64 = row.try_get("id")?;
        // A value that does not decode names the item it belongs to.
        let bad = |column: &str, why: String| sqlx::Error::ColumnDecode {
            index: column.to_string(),
            source: format!("item {id}: {why}").into(),
        };
        let topics = match row.try_get::<String, _>("topics") {
            Ok(text) => Topics::try_from(text).map_err(|e| bad("topics", e.to_string()))?,
            Err(e) => return Err(e),
        };
        let label: Option<String> = row.try_get("tone")?;
        let score: Option<i64> = row.try_get("tone_score")?;
        let tone = decode_tone(label, score).map_err(|why| bad("tone", why))?;
        // Only the insert that stores an item reads its signature back.
        let signature = match row.try_get("signature") {
            Ok(s) => s,
            Err(sqlx::Error::ColumnNotFound(_)) => None,
            Err(e) => return Err(e),
        };
        Ok(ItemRow {
            id,
            source_id: row.try_get("source_id")?,
            guid: row.try_get("guid")?,
            link: row.try_get("link")?,
            title: row.try_get("title")?,
            summary: row.try_get("summary")?,
            published_at: row.try_get("published_at")?,
            fetched_at: row.try_get("fetched_at")?,
            topics,
            tone,
            signature,
        })
    }
}

/// A stored tone: a label and a score in hundredths, both or neither.
fn decode_tone(label: Option<String>, score: Option<i64>) -> Result<Option<Tone>, String> {
    match (label, score) {
        (None, None) => Ok(None),
        (Some(label), Some(score)) if (-100..=100).contains(&score) => Ok(Some(Tone {
            label: label.parse::<ToneLabel>()?,
            score: score as f64 / 100.0,
        })),
        (label, score) => Err(format!(
            "stored tone `{}` with score `{}` is not a tone (a label with a score in -100..=100)",
            label.as_deref().unwrap_or("NULL"),
            score.map_or_else(|| "NULL".to_string(), |s| s.to_string())
        )),
    }
}

/// A tone as stored: its label, and its score in hundredths.
fn tone_columns(tone: Option<Tone>) -> (Option<&'static str>, Option<i64>) {
    match tone {
        Some(t) => (
            Some(t.label.as_str()),
            Some((t.score * 100.0).round() as i64),
        ),
        None => (None, None),
    }
}

/// The ids of the topics an item matched, decoded at the store's edge from the JSON array
/// stored with it: a stored value that is not such an array is an error naming it, never
/// read as "no topic".
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[serde(transparent)]
pub struct Topics(pub Vec<TopicId>);

impl From<Vec<String>> for Topics {
    fn from(ids: Vec<String>) -> Self {
        Topics(ids.into_iter().map(TopicId::from).collect())
    }
}

/// Stored topics that are not a JSON list of topic ids.
#[derive(Debug, thiserror::Error)]
#[error("stored topics `{text}` are not a list of topic ids: {why}")]
pub struct BadTopics {
    text: String,
    why: serde_json::Error,
}

impl TryFrom<String> for Topics {
    type Error = BadTopics;
    fn try_from(text: String) -> std::result::Result<Self, BadTopics> {
        serde_json::from_str(&text)
            .map(Topics)
            .map_err(|why| BadTopics { text, why })
    }
}

impl std::ops::Deref for Topics {
    type Target = [TopicId];
    fn deref(&self) -> &[TopicId] {
        &self.0
    }
}

/// Items as the briefing counts them: the hour they were fetched in, from where, which
/// topics and which tone, and how many (an hour's items of one source, topics and tone,
/// stored or pruned, are one tally).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ItemTally {
    /// The start of the UTC hour they were fetched in.
    pub fetched_at: i64,
    pub source_id: String,
    pub topics: Topics,
    pub tone: Option<ToneLabel>,
    pub n: i64,
}

/// What an [`ItemRow`] reads, of `items`, and of `items i` in a join: every query of items
/// reads them all, so an item's tone and topics are never missing for want of a column.
pub(super) const COLUMNS: &str =
    "id, source_id, guid, link, title, summary, published_at, fetched_at, topics, tone, tone_score";
pub(super) const COLUMNS_OF_I: &str = "i.id, i.source_id, i.guid, i.link, i.title, i.summary, \
     i.published_at, i.fetched_at, i.topics, i.tone, i.tone_score";

impl Store {
    /// Stores an item unless it is already known by GUID/link, or by content under another
    /// URL of the same source.
    pub async fn store_item(&self, tx: &mut Tx, item: &NewItem<'_>, now: i64) -> Result<Stored> {
        self.store_item_with_tone(tx, item, None, now).await
    }

    /// As [`store_item`](Self::store_item), recording the item's tone with it when it is
    /// new (a poll classifies before it stores): two statements for a new item, one
    /// lookup by GUID or content and the insert.
    pub async fn store_item_with_tone(
        &self,
        tx: &mut Tx,
        item: &NewItem<'_>,
        tone: Option<Tone>,
        now: i64,
    ) -> Result<Stored> {
        let new = Incoming {
            item: item.clone(),
            tone,
            topics: Topics::default(),
            signature: None,
        };
        self.store_one(tx, &new, now).await
    }

    /// One item, decided on its own: a lookup by GUID or content, then the insert (with
    /// its tone, topics and signature) when it is new.
    async fn store_one(&self, tx: &mut Tx, new: &Incoming<'_>, now: i64) -> Result<Stored> {
        let item = &new.item;
        let found = self
            .own_items(tx, item.source_id, &[item.guid], &[item.content_hash])
            .await?;
        if let Some((id, _, hash)) = found.iter().find(|(_, guid, _)| guid == item.guid) {
            if hash == item.content_hash {
                return Ok(Stored::Seen);
            }
            self.update_item_text(tx, *id, item, now).await?;
            return Ok(Stored::Updated(*id));
        }
        if !found.is_empty()
            || !self
                .sighted_guids(tx, item.source_id, &[item.guid])
                .await?
                .is_empty()
        {
            return Ok(Stored::Seen);
        }
        if let Some(id) = self.elsewhere(tx, item.source_id, &[item], now).await?[0] {
            self.record_sightings(tx, &[(item, id)], now).await?;
            return Ok(Stored::Sighted(id));
        }
        let mut out = [Stored::Seen];
        self.insert_items(tx, std::slice::from_ref(new), &[0], now, &mut out)
            .await?;
        let [stored] = out;
        Ok(stored)
    }

    /// Stores a page's items of one source, deciding for each exactly as
    /// [`store_item_with_tone`](Self::store_item_with_tone) would one after another, in a
    /// few statements instead of two per item: one lookup of all their GUIDs and content
    /// hashes, and one insert of the new ones (each with its tone, and its topics when it
    /// matched some). An entry that repeats one earlier in the same page (same GUID or same
    /// content) first stores those before it, then goes the one-by-one way, so repeats are
    /// decided as they always were. Results are in the order of `items`. Any number of
    /// items: more than `STORE_BATCH` go a batch at a time (each statement's parameters
    /// stay within SQLite's and PostgreSQL's limits).
    pub async fn store_items(
        &self,
        tx: &mut Tx,
        source_id: &str,
        items: &[Incoming<'_>],
        now: i64,
    ) -> Result<Vec<Stored>> {
        let mut out = Vec::with_capacity(items.len());
        for batch in items.chunks(STORE_BATCH) {
            out.extend(self.store_batch(tx, source_id, batch, now).await?);
        }
        Ok(out)
    }

    /// The source's items with one of these GUIDs, or else with one of these contents
    /// under another URL: `(id, guid, content_hash)`. One statement, each half on its own
    /// index (an `OR` would scan the source's items). The content half asks
    /// `items_by_content` alone and leaves other sources' rows out here: with
    /// `source_id = $1` in it SQLite would walk the source's items instead (a content hash
    /// is nearly unique, a source has thousands of items), and an index on
    /// `(source_id, content_hash)` only for this lookup costs every insert and every
    /// prune a page write at a random key (migration 0032).
    async fn own_items(
        &self,
        tx: &mut Tx,
        source_id: &str,
        guids: &[&str],
        hashes: &[&str],
    ) -> Result<Vec<(i64, String, String)>> {
        let sql = format!(
            "SELECT id, guid, content_hash, source_id FROM items \
             WHERE source_id = $1 AND guid IN ({}) \
             UNION ALL \
             SELECT id, guid, content_hash, source_id FROM items WHERE content_hash IN ({})",
            query::placeholders(2, guids.len()),
            query::placeholders(2 + guids.len(), hashes.len()),
        );
        let params = (source_id,).then(guids.to_vec()).then(hashes.to_vec());
        let rows: Vec<(i64, String, String, String)> = query::all(&mut **tx, &sql, params).await?;
        Ok(rows
            .into_iter()
            .filter(|(_, _, _, source)| source == source_id)
            .map(|(id, guid, hash, _)| (id, guid, hash))
            .collect())
    }

    async fn store_batch(
        &self,
        tx: &mut Tx,
        source_id: &str,
        items: &[Incoming<'_>],
        now: i64,
    ) -> Result<Vec<Stored>> {
        if let Some(other) = items.iter().find(|i| i.item.source_id != source_id) {
            anyhow::bail!(
                "store_items for source {source_id:?} was given an item of {:?}",
                other.item.source_id
            );
        }
        let mut out = vec![Stored::Seen; items.len()];
        if items.is_empty() {
            return Ok(out);
        }
        let guids: Vec<&str> = items.iter().map(|i| i.item.guid).collect();
        let hashes: Vec<&str> = items.iter().map(|i| i.item.content_hash).collect();
        let found = self.own_items(tx, source_id, &guids, &hashes).await?;
        // Entries this source found before and were another source's items then.
        let sighted = self.sighted_guids(tx, source_id, &guids).await?;
        // Which entries another source already carries, by link or text.
        let all: Vec<&NewItem> = items.iter().map(|i| &i.item).collect();
        let elsewhere = self.elsewhere(tx, source_id, &all, now).await?;
        let mut sightings: Vec<(&NewItem, i64)> = Vec::new();
        let by_guid: std::collections::HashMap<&str, (i64, &str)> = found
            .iter()
            .map(|(id, g, h)| (g.as_str(), (*id, h.as_str())))
            .collect();
        // Which rows hold each content hash: an update below moves a row off its hash.
        let mut by_hash: std::collections::HashMap<&str, std::collections::HashSet<i64>> =
            Default::default();
        for (id, _, h) in &found {
            by_hash.entry(h.as_str()).or_default().insert(*id);
        }

        // New items not inserted yet; and every item this call inserts or changes, which
        // the lookup above could not see.
        let mut pending: Vec<usize> = Vec::new();
        let mut touched: Vec<usize> = Vec::new();
        for (k, incoming) in items.iter().enumerate() {
            let item = &incoming.item;
            let repeats = touched.iter().any(|&p| {
                items[p].item.guid == item.guid || items[p].item.content_hash == item.content_hash
            });
            if repeats {
                touched.push(k);
                self.insert_items(tx, items, &pending, now, &mut out)
                    .await?;
                pending.clear();
                self.record_sightings(tx, &sightings, now).await?;
                sightings.clear();
                out[k] = self.store_one(tx, incoming, now).await?;
                continue;
            }
            out[k] = match by_guid.get(item.guid) {
                Some(&(_, hash)) if hash == item.content_hash => Stored::Seen,
                Some(&(id, old)) => {
                    self.update_item_text(tx, id, item, now).await?;
                    if let Some(ids) = by_hash.get_mut(old) {
                        ids.remove(&id);
                    }
                    touched.push(k);
                    Stored::Updated(id)
                }
                None if by_hash
                    .get(item.content_hash)
                    .is_some_and(|ids| !ids.is_empty())
                    || sighted.contains(item.guid) =>
                {
                    Stored::Seen
                }
                None if elsewhere[k].is_some() => {
                    let id = elsewhere[k].unwrap_or_default();
                    sightings.push((item, id));
                    // A repeat later in the page is then known by its GUID.
                    touched.push(k);
                    Stored::Sighted(id)
                }
                None => {
                    pending.push(k);
                    touched.push(k);
                    continue;
                }
            };
        }
        self.insert_items(tx, items, &pending, now, &mut out)
            .await?;
        self.record_sightings(tx, &sightings, now).await?;
        Ok(out)
    }

    /// For each of `items` (all of `source_id`), the oldest item of another source with the
    /// same link, else with the same text seen within `SAME_TEXT_WINDOW_S` (a text of at least
    /// `SAME_TEXT_MIN_CHARS`): one statement, each half on its own index.
    async fn elsewhere(
        &self,
        tx: &mut Tx,
        source_id: &str,
        items: &[&NewItem<'_>],
        now: i64,
    ) -> Result<Vec<Option<i64>>> {
        let links: Vec<&str> = items.iter().filter_map(|i| i.link).collect();
        let texts: Vec<&str> = items
            .iter()
            .filter(|i| i.title.chars().count() + i.summary.chars().count() >= SAME_TEXT_MIN_CHARS)
            .map(|i| i.content_hash)
            .collect();
        if links.is_empty() && texts.is_empty() {
            return Ok(vec![None; items.len()]);
        }
        let sql = format!(
            "SELECT id, link, content_hash FROM items WHERE source_id <> $1 AND link IN ({}) \
             UNION ALL \
             SELECT id, link, content_hash FROM items \
             WHERE source_id <> $1 AND fetched_at >= $2 AND content_hash IN ({})",
            query::placeholders(3, links.len()),
            query::placeholders(3 + links.len(), texts.len())
        );
        let params = (source_id, now - SAME_TEXT_WINDOW_S)
            .then(links.clone())
            .then(texts.clone());
        let found: Vec<(i64, Option<String>, String)> = query::all(&mut **tx, &sql, params).await?;
        let mut by_link: std::collections::HashMap<&str, i64> = Default::default();
        let mut by_text: std::collections::HashMap<&str, i64> = Default::default();
        for (id, link, hash) in &found {
            if let Some(l) = link.as_deref().filter(|l| links.contains(l)) {
                let e = by_link.entry(l).or_insert(*id);
                *e = (*e).min(*id);
            }
            if texts.contains(&hash.as_str()) {
                let e = by_text.entry(hash.as_str()).or_insert(*id);
                *e = (*e).min(*id);
            }
        }
        Ok(items
            .iter()
            .map(|i| {
                i.link.and_then(|l| by_link.get(l).copied()).or_else(|| {
                    texts
                        .contains(&i.content_hash)
                        .then(|| by_text.get(i.content_hash).copied())
                        .flatten()
                })
            })
            .collect())
    }

    /// Which of `guids` the source found before as another source's item.
    async fn sighted_guids(
        &self,
        tx: &mut Tx,
        source_id: &str,
        guids: &[&str],
    ) -> Result<std::collections::HashSet<String>> {
        let select = "SELECT guid FROM item_sightings WHERE source_id = $1 AND guid IN ({list})";
        guids_found(&mut **tx, select, source_id, guids).await
    }

    /// Records that each entry's source carried another source's item.
    async fn record_sightings(
        &self,
        tx: &mut Tx,
        sightings: &[(&NewItem<'_>, i64)],
        now: i64,
    ) -> Result<()> {
        for (item, id) in sightings {
            query::execute(
                &mut **tx,
                "INSERT INTO item_sightings (source_id, guid, item_id, link, published_at, seen_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (source_id, guid) DO NOTHING",
                (item.source_id, item.guid, id, item.link, item.published_at, now),
            )
            .await?;
        }
        Ok(())
    }

    /// Every other source that carried an incident's items, in the order they were seen.
    pub async fn incident_sightings<'c>(
        &self,
        db: impl sqlx::Executor<'c, Database = sqlx::Any>,
        incident: IncidentId,
    ) -> Result<Vec<Sighting>> {
        Ok(query::all(
            db,
            "SELECT s.item_id, s.source_id, s.link, s.published_at, s.seen_at \
             FROM item_sightings s JOIN incident_items ii ON ii.item_id = s.item_id \
             WHERE ii.incident_id = $1 ORDER BY s.seen_at, s.source_id",
            (incident,),
        )
        .await?)
    }

    /// Every other source that carried these items, in the order they were seen.
    pub async fn sightings<'c>(
        &self,
        db: impl sqlx::Executor<'c, Database = sqlx::Any>,
        item_ids: &[i64],
    ) -> Result<Vec<Sighting>> {
        if item_ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT item_id, source_id, link, published_at, seen_at FROM item_sightings \
             WHERE item_id IN ({}) ORDER BY seen_at, source_id",
            query::placeholders(1, item_ids.len())
        );
        Ok(query::all(db, &sql, item_ids.to_vec()).await?)
    }

    /// One `INSERT` of the items at `which`, their ids written into `out`.
    async fn insert_items(
        &self,
        tx: &mut Tx,
        items: &[Incoming<'_>],
        which: &[usize],
        now: i64,
        out: &mut [Stored],
    ) -> Result<()> {
        const COLS: usize = 12;
        if which.is_empty() {
            return Ok(());
        }
        let rows: Vec<String> = (0..which.len())
            .map(|r| {
                let marks: Vec<String> = (1..=COLS).map(|c| format!("${}", r * COLS + c)).collect();
                format!("({})", marks.join(", "))
            })
            .collect();
        let sql = format!(
            "INSERT INTO items (source_id, guid, link, title, summary, published_at, fetched_at, \
                                content_hash, tone, tone_score, topics, signature) \
             VALUES {} RETURNING {COLUMNS}, signature",
            rows.join(", ")
        );
        let mut q = sqlx::query_as::<_, ItemRow>(&sql);
        for &k in which {
            let Incoming {
                item,
                tone,
                topics,
                signature,
            } = &items[k];
            q = q
                .bind(item.source_id)
                .bind(item.guid)
                .bind(item.link)
                .bind(item.title)
                .bind(item.summary)
                .bind(item.published_at)
                .bind(now)
                .bind(item.content_hash)
                .bind(tone_columns(*tone).0)
                .bind(tone_columns(*tone).1)
                .bind(topics)
                .bind(*signature);
        }
        // RETURNING's row order is not promised: matched by GUID, unique in the batch.
        let mut rows: std::collections::HashMap<String, ItemRow> = q
            .fetch_all(&mut **tx)
            .await?
            .into_iter()
            .map(|row| (row.guid.clone(), row))
            .collect();
        let mut indexed = Vec::with_capacity(which.len());
        for &k in which {
            let row = rows.remove(items[k].item.guid).ok_or_else(|| {
                anyhow::anyhow!("item {:?} was inserted without an id", items[k].item.guid)
            })?;
            indexed.push((row.id, items[k].item.title, items[k].item.summary));
            out[k] = Stored::New(Box::new(row));
        }
        // Searchable from the transaction that stores it (`store::search`).
        self.index_items(tx, &indexed).await
    }

    /// A known item's new title and text (the same GUID, changed content).
    async fn update_item_text(
        &self,
        tx: &mut Tx,
        id: i64,
        item: &NewItem<'_>,
        now: i64,
    ) -> Result<()> {
        query::execute(
            &mut **tx,
            "UPDATE items SET title = $2, summary = $3, content_hash = $4, updated_at = $5 \
             WHERE id = $1",
            (id, item.title, item.summary, item.content_hash, now),
        )
        .await?;
        self.index_items(tx, &[(id, item.title, item.summary)])
            .await
    }

    /// Which of `guids` the source already has items for: read outside any write
    /// transaction, so that a poll prepares (hashes, classifies) only what looks new
    /// before it takes the write lock. `store_item` decides again inside the transaction.
    pub async fn known_guids(
        &self,
        source_id: &str,
        guids: &[&str],
    ) -> Result<std::collections::HashSet<String>> {
        let select = "SELECT guid FROM items WHERE source_id = $1 AND guid IN ({list}) \
                      UNION SELECT guid FROM item_sightings \
                      WHERE source_id = $1 AND guid IN ({list})";
        guids_found(self.pool(), select, source_id, guids).await
    }

    /// Whether the source already has an item with this GUID (or link).
    pub async fn item_known(&self, source_id: &str, guid: &str) -> Result<bool> {
        let row: Option<(i64,)> = query::optional(
            self.pool(),
            "SELECT id FROM items WHERE source_id = $1 AND guid = $2",
            (source_id, guid),
        )
        .await?;
        Ok(row.is_some())
    }

    /// Records which topics an item matched (a JSON array of topic ids).
    pub async fn set_item_topics(
        &self,
        tx: &mut Tx,
        item_id: i64,
        topics: &[String],
    ) -> Result<()> {
        query::execute(
            &mut **tx,
            "UPDATE items SET topics = $2 WHERE id = $1",
            (item_id, serde_json::to_string(topics)?),
        )
        .await?;
        Ok(())
    }

    /// An item, read in the transaction `tx`.
    pub async fn item_in(&self, tx: &mut Tx, id: i64) -> Result<Option<ItemRow>> {
        Ok(query::optional(
            &mut **tx,
            &format!("SELECT {COLUMNS} FROM items WHERE id = $1"),
            (id,),
        )
        .await?)
    }

    /// Records an item's tone, as the classifier scored it.
    pub async fn set_item_tone(&self, tx: &mut Tx, item_id: i64, tone: Tone) -> Result<()> {
        let (label, score) = tone_columns(Some(tone));
        query::execute(
            &mut **tx,
            "UPDATE items SET tone = $2, tone_score = $3 WHERE id = $1",
            (item_id, label, score),
        )
        .await?;
        Ok(())
    }

    pub async fn item(&self, id: i64) -> Result<Option<ItemRow>> {
        Ok(query::optional(
            self.pool(),
            &format!("SELECT {COLUMNS} FROM items WHERE id = $1"),
            (id,),
        )
        .await?)
    }

    /// Items fetched since `since`, newest first, optionally of one source.
    pub async fn items(
        &self,
        source: Option<&str>,
        since: i64,
        limit: i64,
    ) -> Result<Vec<ItemRow>> {
        // Its own items and those it found after another source (issue 24 §2).
        let filter = if source.is_some() {
            "AND (source_id = $3 OR id IN (SELECT item_id FROM item_sightings WHERE source_id = $3))"
        } else {
            ""
        };
        let sql = format!(
            "SELECT {COLUMNS} FROM items WHERE fetched_at >= $1 {filter} \
             ORDER BY fetched_at DESC, id DESC LIMIT $2"
        );
        // `$3` only with a source.
        let params = (since, limit).then(Vec::from_iter(source));
        Ok(query::all(self.pool(), &sql, params).await?)
    }

    /// The items fetched in [`from`, `to`) as the briefing counts them: an hour's items of
    /// one source, topics and tone are one tally, stored or pruned alike (`item_counts`,
    /// kept by the database as items are stored and changed, migration 0029), so a week
    /// reads its hours' counts, never its item rows. `from` and `to` on whole hours.
    pub async fn item_tallies(&self, from: i64, to: i64) -> Result<Vec<ItemTally>> {
        Ok(query::all(
            self.pool(),
            "SELECT hour AS fetched_at, source_id, topics, NULLIF(tone, '') AS tone, n \
             FROM item_counts WHERE hour >= $1 AND hour < $2 AND n > 0 ORDER BY hour",
            (from, to),
        )
        .await?)
    }
}

/// Which of `guids` the statement `select` finds for the source: it reads one text column,
/// with `$1` the source and `{list}` standing for the GUIDs' placeholders.
async fn guids_found<'c>(
    ex: impl sqlx::Executor<'c, Database = sqlx::Any>,
    select: &str,
    source_id: &str,
    guids: &[&str],
) -> Result<std::collections::HashSet<String>> {
    if guids.is_empty() {
        return Ok(Default::default());
    }
    let sql = select.replace("{list}", &query::placeholders(2, guids.len()));
    let found: Vec<String> = query::scalars(ex, &sql, (source_id,).then(guids.to_vec())).await?;
    Ok(found.into_iter().collect())
}
