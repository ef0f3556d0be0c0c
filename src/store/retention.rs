//! Retention (issue 29 §1): deleting the items that no incident holds once they are older
//! than `[retention] items`, a small batch per transaction so that the write lock is never
//! held long. What the briefings and reports count of them stays in `item_counts` (one row
//! per hour, source, topics and tone, kept for every item as it is stored: migration 0029),
//! so a pruned period reads the same numbers.
//!
//! Kept for good: every item an incident holds (open or closed, its first item included)
//! or waits to hold (a filing held back),
//! the record of actions, the mail, the channel posts. SQLite reuses the freed pages; only
//! `yuqing prune` gives them back to the file system (`VACUUM`). PostgreSQL's autovacuum
//! makes the deleted rows' space reusable.

use super::query;
use super::{Backend, Store};
use anyhow::{Context, Result};
use std::time::{Duration, Instant};

/// How long one prune transaction may hold the write lock: a poll's insert waiting behind
/// it waits about this long at most. Deleting an item updates each of its seven indexes
/// (three on random keys: the link, the content hash, the GUID), so what a batch of a
/// given size costs depends on the store's size, the page cache and the disk: the size
/// adapts ([`PruneBatch`]), and a batch that runs long stops early (see
/// [`Store::prune_items`]).
pub const PRUNE_HOLD: Duration = Duration::from_millis(250);

/// How long at least a caller deleting batch after batch leaves the write lock free between
/// two: SQLite's busy handler tries again after at most 100 ms, so a poll waiting for the
/// lock takes it in that pause.
pub const PRUNE_PAUSE: Duration = Duration::from_millis(100);

/// Items deleted by one statement of a prune transaction: between two, the transaction
/// looks at the time it has held the lock.
const PRUNE_CHUNK: usize = 50;

/// The first prune batch's size, by the daemon and by `yuqing prune` alike; later batches
/// are sized by how long the last one held the lock ([`PruneBatch`]).
pub const PRUNE_BATCH: i64 = 500;

/// The size of the next prune batch, from how long the last one held the write lock: aimed
/// at four fifths of [`PRUNE_HOLD`], halved at least after a batch that held it longer,
/// at most doubled after one that deleted all it was asked to in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PruneBatch {
    size: i64,
}

impl Default for PruneBatch {
    fn default() -> Self {
        PruneBatch { size: PRUNE_BATCH }
    }
}

impl PruneBatch {
    pub const MIN: i64 = 10;
    pub const MAX: i64 = 5_000;

    /// How many items the next batch asks for.
    pub fn size(&self) -> i64 {
        self.size
    }

    /// Takes in a batch that deleted `deleted` items holding the lock for `held`.
    pub fn after(&mut self, deleted: i64, held: Duration) {
        if deleted <= 0 {
            return;
        }
        // How many would have taken four fifths of the hold at this batch's pace.
        let aim = PRUNE_HOLD.as_nanos() * 4 / 5;
        let fits = (aim * deleted as u128 / held.as_nanos().max(1)).min(Self::MAX as u128) as i64;
        let next = if held > PRUNE_HOLD {
            fits.min(self.size / 2)
        } else if deleted < self.size {
            // The last of the old items, or a batch stopped on time: no reason to grow.
            fits.min(self.size)
        } else {
            fits.min(self.size * 2)
        };
        self.size = next.clamp(Self::MIN, Self::MAX);
    }
}

/// What one prune transaction did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pruned {
    /// Items deleted.
    pub deleted: i64,
    /// How long the transaction held the write lock (from taking it to its commit).
    pub held: Duration,
    /// Whether old items may be left: the batch found as many as it asked for, or stopped
    /// on time.
    pub more: bool,
}

/// An item no incident holds and none waits to hold (`items` aliased as itself).
const UNHELD: &str = "NOT EXISTS (SELECT 1 FROM incident_items ii WHERE ii.item_id = items.id) \
     AND NOT EXISTS (SELECT 1 FROM incidents inc WHERE inc.first_item_id = items.id) \
     AND NOT EXISTS (SELECT 1 FROM held_filings hf WHERE hf.item_id = items.id)";

impl Store {
    /// How many items fetched before `before` retention would delete, and how many of that
    /// age it keeps because incidents hold them.
    pub async fn prunable_items(&self, before: i64) -> Result<(i64, i64)> {
        let old: i64 = query::scalar(
            self.pool(),
            "SELECT COUNT(*) FROM items WHERE fetched_at < $1",
            (before,),
        )
        .await?;
        let unheld: i64 = query::scalar(
            self.pool(),
            &format!("SELECT COUNT(*) FROM items WHERE fetched_at < $1 AND {UNHELD}"),
            (before,),
        )
        .await?;
        Ok((unheld, old - unheld))
    }

    /// Deletes up to `batch` of the oldest items fetched before `before` that no incident
    /// holds, in one transaction: their entries leave the search index, their counts stay
    /// in `item_counts`. The items go [`PRUNE_CHUNK`] to a statement, and once the
    /// transaction has held the write lock for half of [`PRUNE_HOLD`] it commits what it
    /// deleted (the commit writes the pages the deletes changed, about as long again), so a
    /// batch that finds the disk slow holds the lock about that long, not its whole size's
    /// worth. On SQLite the commit only appends to the WAL: the checkpoint that copies the
    /// pages into the file and syncs it runs after the lock is released (writers go on
    /// meanwhile), not inside the hold. Callers size the next batch with
    /// [`PruneBatch::after`] and leave the lock free between batches, so that polls get in.
    pub async fn prune_items(&self, before: i64, batch: i64) -> Result<Pruned> {
        let mut conn = self.pool().acquire().await?;
        let sqlite = self.backend == Backend::Sqlite;
        if sqlite {
            query::execute(&mut *conn, "PRAGMA wal_autocheckpoint = 0", ()).await?;
        }
        let pruned = self.prune_batch(&mut conn, before, batch).await;
        if sqlite {
            let checkpoint = query::execute(&mut *conn, "PRAGMA wal_checkpoint(PASSIVE)", ()).await;
            // SQLite's default, as on every other connection.
            query::execute(&mut *conn, "PRAGMA wal_autocheckpoint = 1000", ()).await?;
            checkpoint?;
        }
        pruned
    }

    async fn prune_batch(
        &self,
        conn: &mut sqlx::AnyConnection,
        before: i64,
        batch: i64,
    ) -> Result<Pruned> {
        let mut tx = sqlx::Connection::begin(conn)
            .await
            .context("cannot start a transaction")?;
        super::take_write_lock(&mut tx).await?;
        // The lock is taken (after any wait for it): the hold starts now.
        let start = Instant::now();
        let ids: Vec<i64> = query::scalars(
            &mut *tx,
            &format!(
                "SELECT id FROM items WHERE fetched_at < $1 AND {UNHELD} \
                 ORDER BY fetched_at LIMIT $2"
            ),
            (before, batch),
        )
        .await?;
        let mut more = ids.len() as i64 >= batch;
        let mut deleted = 0;
        for chunk in ids.chunks(PRUNE_CHUNK) {
            if deleted > 0 && start.elapsed() >= PRUNE_HOLD / 2 {
                more = true;
                break;
            }
            // Numbers the store chose itself, so written into the statement.
            let list = chunk
                .iter()
                .map(|id| id.to_string())
                .collect::<Vec<_>>()
                .join(", ");
            // Their counts stay in `item_counts`, where they were kept since they were stored.
            self.unindex_items(&mut tx, chunk).await?;
            query::execute(
                &mut *tx,
                &format!("DELETE FROM items WHERE id IN ({list})"),
                (),
            )
            .await?;
            deleted += chunk.len() as i64;
        }
        tx.commit().await?;
        Ok(Pruned {
            deleted,
            held: start.elapsed(),
            more,
        })
    }

    /// Gives the space of deleted rows back to the file system: `VACUUM` on SQLite (it
    /// rewrites the file, so it needs as much free disk again and holds the lock while it
    /// runs); nothing on PostgreSQL, where autovacuum makes the space reusable.
    pub async fn compact(&self) -> Result<()> {
        if self.backend == Backend::Sqlite {
            let mut conn = self.pool().acquire().await?;
            query::execute(&mut *conn, "VACUUM", ())
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
        let (pages, size): (i64, i64) = query::one(
            self.pool(),
            "SELECT (SELECT page_count FROM pragma_page_count()), \
                    (SELECT page_size FROM pragma_page_size())",
            (),
        )
        .await?;
        Ok(Some(pages * size))
    }

    /// What the store takes in over [`from`, `to`): how many items were stored then, over
    /// how many seconds of that span the store held items (a store younger than the span
    /// counts from its first item), and the bytes the database takes per item it holds
    /// now (the SQLite file, or the PostgreSQL database, over its items): what `yuqing
    /// check` grows the store by. `None` when the span holds no items.
    pub async fn intake(&self, from: i64, to: i64) -> Result<Option<Intake>> {
        let (n, first): (i64, Option<i64>) = query::one(
            self.pool(),
            "SELECT COUNT(*), MIN(fetched_at) FROM items WHERE fetched_at >= $1 AND fetched_at < $2",
            (from, to),
        )
        .await?;
        let Some(first) = first.filter(|_| n > 0) else {
            return Ok(None);
        };
        let all: i64 = query::scalar(self.pool(), "SELECT COUNT(*) FROM items", ()).await?;
        let bytes = match self.backend {
            Backend::Sqlite => self.file_size().await?.unwrap_or(0),
            Backend::Postgres => {
                let b: i64 = query::scalar(
                    self.pool(),
                    "SELECT CAST(pg_database_size(current_database()) AS BIGINT)",
                    (),
                )
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

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn a_batch_that_held_the_lock_long_halves_the_next_at_least() {
        let mut b = PruneBatch::default();
        assert_eq!(b.size(), 500);
        // 500 in 11.4 s (the bench before this): 0.8 × 250 ms / 22.8 ms an item = 8 → 10.
        b.after(500, ms(11_400));
        assert_eq!(b.size(), PruneBatch::MIN);
        // Just over the hold: halved, although at that pace 400 would nearly fit.
        let mut b = PruneBatch::default();
        b.after(500, ms(260));
        assert_eq!(b.size(), 250);
        // Stopped on time after 300 of 500, at 1 ms an item: 200 fit.
        let mut b = PruneBatch::default();
        b.after(300, ms(300));
        assert_eq!(b.size(), 200);
    }

    #[test]
    fn a_quick_full_batch_at_most_doubles_the_next_and_a_short_one_does_not_grow_it() {
        let mut b = PruneBatch::default();
        // 500 in 50 ms: 2,000 would fit, but the next is at most twice this one.
        b.after(500, ms(50));
        assert_eq!(b.size(), 1_000);
        b.after(1_000, ms(100));
        assert_eq!(b.size(), 2_000);
        // 1 µs an item: capped.
        for _ in 0..5 {
            let n = b.size();
            b.after(n, Duration::from_micros(n as u64));
        }
        assert_eq!(b.size(), PruneBatch::MAX);
        // The last 99 of the old items, quickly: the size stays.
        b.after(99, ms(1));
        assert_eq!(b.size(), PruneBatch::MAX);
        // At 180 ms for 1,000 (a batch aimed right) it settles near 1,111.
        let mut b = PruneBatch { size: 1_000 };
        b.after(1_000, ms(180));
        assert_eq!(b.size(), 1_111);
        b.after(1_111, ms(200));
        assert_eq!(b.size(), 1_111);
        // Nothing deleted says nothing.
        b.after(0, ms(500));
        assert_eq!(b.size(), 1_111);
    }
}
