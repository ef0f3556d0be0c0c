//! Items fetched from sources, each stored once.

use super::{Store, Tx};
use anyhow::Result;

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

/// What storing an item found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    /// Never seen: classify it.
    New(i64),
    /// Same item, changed title or text.
    Updated(i64),
    /// Seen before (same GUID or same content under another URL): nothing to do.
    Seen,
}

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct ItemRow {
    pub id: i64,
    pub source_id: String,
    pub guid: String,
    pub link: Option<String>,
    pub title: String,
    pub summary: String,
    pub published_at: Option<i64>,
    pub fetched_at: i64,
    pub topics: String,
    /// `negative`, `neutral` or `positive`; `None` for items stored before tone existed
    /// (and from queries that do not select it).
    #[sqlx(default)]
    pub tone: Option<String>,
    /// The tone's score in hundredths (-100..=100).
    #[sqlx(default)]
    pub tone_score: Option<i64>,
}

impl ItemRow {
    /// The stored tone, decoded; an unknown stored value is an error.
    pub fn tone(&self) -> Result<Option<crate::classify::tone::Tone>> {
        let (Some(label), Some(score)) = (&self.tone, self.tone_score) else {
            return Ok(None);
        };
        let label = label
            .parse::<crate::classify::tone::ToneLabel>()
            .map_err(|e| anyhow::anyhow!("item {}: {e}", self.id))?;
        Ok(Some(crate::classify::tone::Tone {
            label,
            score: score as f64 / 100.0,
        }))
    }
}

/// One item as the briefing counts it: when it was fetched, from where, which topics and
/// which tone.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ItemTally {
    pub fetched_at: i64,
    pub source_id: String,
    /// A JSON array of topic ids.
    pub topics: String,
    #[sqlx(default)]
    pub tone: Option<String>,
}

const COLUMNS: &str =
    "id, source_id, guid, link, title, summary, published_at, fetched_at, topics, tone, tone_score";

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
        tone: Option<crate::classify::tone::Tone>,
        now: i64,
    ) -> Result<Stored> {
        // The same GUID, else the same content under another URL of the source: one
        // statement, each half on its own index (an `OR` would scan the source's items).
        let found: Vec<(i64, String, String)> = sqlx::query_as(
            "SELECT id, guid, content_hash FROM items WHERE source_id = $1 AND guid = $2 \
             UNION ALL \
             SELECT id, guid, content_hash FROM items WHERE source_id = $1 AND content_hash = $3",
        )
        .bind(item.source_id)
        .bind(item.guid)
        .bind(item.content_hash)
        .fetch_all(&mut **tx)
        .await?;
        if let Some((id, _, hash)) = found.iter().find(|(_, guid, _)| guid == item.guid) {
            if hash == item.content_hash {
                return Ok(Stored::Seen);
            }
            sqlx::query(
                "UPDATE items SET title = $2, summary = $3, content_hash = $4, updated_at = $5 \
                 WHERE id = $1",
            )
            .bind(id)
            .bind(item.title)
            .bind(item.summary)
            .bind(item.content_hash)
            .bind(now)
            .execute(&mut **tx)
            .await?;
            return Ok(Stored::Updated(*id));
        }
        if !found.is_empty() {
            return Ok(Stored::Seen);
        }
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO items (source_id, guid, link, title, summary, published_at, fetched_at, \
                                content_hash, tone, tone_score) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
        )
        .bind(item.source_id)
        .bind(item.guid)
        .bind(item.link)
        .bind(item.title)
        .bind(item.summary)
        .bind(item.published_at)
        .bind(now)
        .bind(item.content_hash)
        .bind(tone.map(|t| t.label.as_str()))
        .bind(tone.map(|t| (t.score * 100.0).round() as i64))
        .fetch_one(&mut **tx)
        .await?;
        Ok(Stored::New(id))
    }

    /// Which of `guids` the source already has items for: read outside any write
    /// transaction, so that a poll prepares (hashes, classifies) only what looks new
    /// before it takes the write lock. `store_item` decides again inside the transaction.
    pub async fn known_guids(
        &self,
        source_id: &str,
        guids: &[&str],
    ) -> Result<std::collections::HashSet<String>> {
        if guids.is_empty() {
            return Ok(Default::default());
        }
        let marks: Vec<String> = (0..guids.len()).map(|i| format!("${}", i + 2)).collect();
        let sql = format!(
            "SELECT guid FROM items WHERE source_id = $1 AND guid IN ({})",
            marks.join(", ")
        );
        let mut q = sqlx::query_as::<_, (String,)>(&sql).bind(source_id);
        for g in guids {
            q = q.bind(*g);
        }
        Ok(q.fetch_all(self.pool())
            .await?
            .into_iter()
            .map(|(g,)| g)
            .collect())
    }

    /// Whether the source already has an item with this GUID (or link).
    pub async fn item_known(&self, source_id: &str, guid: &str) -> Result<bool> {
        let row: Option<(i64,)> =
            sqlx::query_as("SELECT id FROM items WHERE source_id = $1 AND guid = $2")
                .bind(source_id)
                .bind(guid)
                .fetch_optional(self.pool())
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
        sqlx::query("UPDATE items SET topics = $2 WHERE id = $1")
            .bind(item_id)
            .bind(serde_json::to_string(topics)?)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    /// An item, read in the transaction `tx`.
    pub async fn item_in(&self, tx: &mut Tx, id: i64) -> Result<Option<ItemRow>> {
        Ok(
            sqlx::query_as(&format!("SELECT {COLUMNS} FROM items WHERE id = $1"))
                .bind(id)
                .fetch_optional(&mut **tx)
                .await?,
        )
    }

    /// Records an item's tone, as the classifier scored it.
    pub async fn set_item_tone(
        &self,
        tx: &mut Tx,
        item_id: i64,
        tone: crate::classify::tone::Tone,
    ) -> Result<()> {
        sqlx::query("UPDATE items SET tone = $2, tone_score = $3 WHERE id = $1")
            .bind(item_id)
            .bind(tone.label.as_str())
            .bind((tone.score * 100.0).round() as i64)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    pub async fn item(&self, id: i64) -> Result<Option<ItemRow>> {
        Ok(
            sqlx::query_as(&format!("SELECT {COLUMNS} FROM items WHERE id = $1"))
                .bind(id)
                .fetch_optional(self.pool())
                .await?,
        )
    }

    /// Items fetched since `since`, newest first, optionally of one source.
    pub async fn items(
        &self,
        source: Option<&str>,
        since: i64,
        limit: i64,
    ) -> Result<Vec<ItemRow>> {
        let filter = if source.is_some() {
            "AND source_id = $3"
        } else {
            ""
        };
        let sql = format!(
            "SELECT {COLUMNS} FROM items WHERE fetched_at >= $1 {filter} \
             ORDER BY fetched_at DESC, id DESC LIMIT $2"
        );
        let mut q = sqlx::query_as(&sql).bind(since).bind(limit);
        if let Some(source) = source {
            q = q.bind(source);
        }
        Ok(q.fetch_all(self.pool()).await?)
    }

    /// Every item fetched in [`from`, `to`), slim, for the briefing's counts.
    pub async fn item_tallies(&self, from: i64, to: i64) -> Result<Vec<ItemTally>> {
        Ok(sqlx::query_as(
            "SELECT fetched_at, source_id, topics, tone FROM items \
             WHERE fetched_at >= $1 AND fetched_at < $2 ORDER BY fetched_at, id",
        )
        .bind(from)
        .bind(to)
        .fetch_all(self.pool())
        .await?)
    }
}
