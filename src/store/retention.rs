//! Retention (issue 29 §1): deleting the items that no incident holds once they are older
//! than `[retention] items`, a small batch per transaction so that the write lock is never
//! held long. What the briefings and reports count of them stays in `item_counts` (one row
//! per hour, source, topics and tone, kept for every item as it is stored: migration 0029),
//! so a pruned period reads the same numbers.
//!
//! Kept for good: every item an incident holds (open or closed, its first item included),
//! the record of actions, the mail, the channel posts. SQLite reuses the freed pages; only
//! `yuqing prune` gives them back to the file system (`VACUUM`). PostgreSQL's autovacuum
//! makes the deleted rows' space reusable.

use super::{Backend, Store};
use anyhow::{Context, Result};

/// An item no incident holds (`items` aliased as itself).
const UNHELD: &str = "NOT EXISTS (SELECT 1 FROM incident_items ii WHERE ii.item_id = items.id) \
     AND NOT EXISTS (SELECT 1 FROM incidents inc WHERE inc.first_item_id = items.id)";

impl Store {
    /// How many items fetched before `before` retention would delete, and how many of that
    /// age it keeps because incidents hold them.
    pub async fn prunable_items(&self, before: i64) -> Result<(i64, i64)> {
        let (old,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM items WHERE fetched_at < $1")
            .bind(before)
            .fetch_one(self.pool())
            .await?;
        let (unheld,): (i64,) = sqlx::query_as(&format!(
            "SELECT COUNT(*) FROM items WHERE fetched_at < $1 AND {UNHELD}"
        ))
        .bind(before)
        .fetch_one(self.pool())
        .await?;
        Ok((unheld, old - unheld))
    }

    /// Deletes up to `batch` of the oldest items fetched before `before` that no incident
    /// holds, in one transaction: their entries leave the search index, their counts stay
    /// in `item_counts`. Returns how many it deleted: 0 when none are left.
    pub async fn prune_items(&self, before: i64, batch: i64) -> Result<i64> {
        let mut tx = self.begin().await?;
        let ids: Vec<(i64,)> = sqlx::query_as(&format!(
            "SELECT id FROM items WHERE fetched_at < $1 AND {UNHELD} \
             ORDER BY fetched_at LIMIT $2"
        ))
        .bind(before)
        .bind(batch)
        .fetch_all(&mut *tx)
        .await?;
        if ids.is_empty() {
            return Ok(0);
        }
        let ids: Vec<i64> = ids.into_iter().map(|(id,)| id).collect();
        // Numbers the store chose itself, so written into the statement.
        let list = ids
            .iter()
            .map(|id| id.to_string())
            .collect::<Vec<_>>()
            .join(", ");
        // Their counts stay in `item_counts`, where they were kept since they were stored.
        self.unindex_items(&mut tx, &ids).await?;
        sqlx::query(&format!("DELETE FROM items WHERE id IN ({list})"))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(ids.len() as i64)
    }

    /// Gives the space of deleted rows back to the file system: `VACUUM` on SQLite (it
    /// rewrites the file, so it needs as much free disk again and holds the lock while it
    /// runs); nothing on PostgreSQL, where autovacuum makes the space reusable.
    pub async fn compact(&self) -> Result<()> {
        if self.backend == Backend::Sqlite {
            let mut conn = self.pool().acquire().await?;
            sqlx::query("VACUUM")
                .execute(&mut *conn)
                .await
                .context("cannot VACUUM the database")?;
        }
        Ok(())
    }

    /// The size of the database file in bytes (SQLite; `None` on PostgreSQL).
    pub async fn file_size(&self) -> Result<Option<i64>> {
        if self.backend != Backend::Sqlite {
            return Ok(None);
        }
        let (pages, size): (i64, i64) = sqlx::query_as(
            "SELECT (SELECT page_count FROM pragma_page_count()), \
                    (SELECT page_size FROM pragma_page_size())",
        )
        .fetch_one(self.pool())
        .await?;
        Ok(Some(pages * size))
    }

    /// What the store takes in over [`from`, `to`): how many items were stored then, over
    /// how many seconds of that span the store held items (a store younger than the span
    /// counts from its first item), and the bytes the database takes per item it holds
    /// now (the SQLite file, or the PostgreSQL database, over its items): what `yuqing
    /// check` grows the store by. `None` when the span holds no items.
    pub async fn intake(&self, from: i64, to: i64) -> Result<Option<Intake>> {
        let (n, first): (i64, Option<i64>) = sqlx::query_as(
            "SELECT COUNT(*), MIN(fetched_at) FROM items WHERE fetched_at >= $1 AND fetched_at < $2",
        )
        .bind(from)
        .bind(to)
        .fetch_one(self.pool())
        .await?;
        let Some(first) = first.filter(|_| n > 0) else {
            return Ok(None);
        };
        let (all,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM items")
            .fetch_one(self.pool())
            .await?;
        let bytes = match self.backend {
            Backend::Sqlite => self.file_size().await?.unwrap_or(0),
            Backend::Postgres => {
                let (b,): (i64,) =
                    sqlx::query_as("SELECT CAST(pg_database_size(current_database()) AS BIGINT)")
                        .fetch_one(self.pool())
                        .await?;
                b
            }
        };
        // The span since the first item, at least an hour, so a store a minute old does not
        // read as a torrent.
        let seconds = (to - first.max(from)).max(3_600);
        Ok(Some(Intake {
            items: n,
            seconds,
            bytes_per_item: bytes as f64 / all.max(1) as f64,
        }))
    }
}

/// What the store took in over a span (`Store::intake`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Intake {
    pub items: i64,
    /// How long the span the items came in over was.
    pub seconds: i64,
    /// The database's size over the items it holds.
    pub bytes_per_item: f64,
}

impl Intake {
    pub fn per_day(&self) -> f64 {
        self.items as f64 * 86_400.0 / self.seconds as f64
    }
}
