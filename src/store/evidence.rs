//! Evidence: the versions of an item's page kept as WARC records, and the work of capturing
//! and re-checking them (migration 0027, issue 23).
//!
//! The work is rows: an item's capture is queued in the transaction that stored the item
//! (and queued its alert), each recheck as a row due at a time. A daemon claims due rows
//! with a lease, as it claims sources and mail (`store::leases`), so that of several
//! daemons sharing PostgreSQL exactly one fetches a given item; a daemon that dies mid-way
//! lets its lease run out and another does the work again.

use super::leases::Queue;
use super::query;
use super::{Store, Tx};
use crate::vocab::ids::IncidentId;
use crate::vocab::state::EvidenceState;
use anyhow::{Context, Result};

/// What a due row asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EvidenceWork {
    /// The item's first capture.
    Capture,
    /// A check of a captured page: still there, changed, or gone.
    Recheck,
}

impl EvidenceWork {
    pub const ALL: [EvidenceWork; 2] = [EvidenceWork::Capture, EvidenceWork::Recheck];

    /// The name in `evidence_tasks.kind`.
    pub(super) fn as_str(self) -> &'static str {
        match self {
            EvidenceWork::Capture => "capture",
            EvidenceWork::Recheck => "recheck",
        }
    }
}

crate::vocab::state::stored_by_name!(EvidenceWork, "evidence work");

/// A claimed row of `evidence_tasks`.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct EvidenceTask {
    pub id: i64,
    pub item_id: i64,
    #[sqlx(rename = "kind")]
    pub work: EvidenceWork,
    pub due_at: i64,
    /// Tries before this one (a database failure leaves the row to be tried again).
    pub attempts: i64,
}

/// One version of an item's page, as stored; the latest carries the item's state.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, sqlx::FromRow)]
pub struct EvidenceRow {
    pub id: i64,
    pub item_id: i64,
    pub version: i64,
    pub url: String,
    pub final_url: Option<String>,
    pub captured_at: i64,
    pub checked_at: i64,
    pub state: EvidenceState,
    /// The HTTP status of the last hop, when there was an answer.
    pub status: Option<i64>,
    /// The payload's SHA-256 in hex; `None` when the capture could not fetch the page.
    pub sha256: Option<String>,
    pub title: Option<String>,
    /// The article's text as extracted.
    pub text: Option<String>,
    /// The topics the page matched, and where (JSON, `[{"id", "found_in": [...]}]`).
    pub topics: Option<String>,
    pub warc_file: Option<String>,
    pub warc_offset: Option<i64>,
    pub warc_length: Option<i64>,
    pub error: Option<String>,
}

const COLUMNS: &str = "id, item_id, version, url, final_url, captured_at, checked_at, state, \
                       status, sha256, title, text, topics, warc_file, warc_offset, \
                       warc_length, error";

/// A version to store: a capture, successful or not.
#[derive(Debug, Clone, Default)]
pub struct NewEvidence<'a> {
    pub item_id: i64,
    pub url: &'a str,
    pub final_url: Option<&'a str>,
    pub at: i64,
    pub state: Option<EvidenceState>,
    pub status: Option<i64>,
    pub sha256: Option<&'a str>,
    pub title: Option<&'a str>,
    pub text: Option<&'a str>,
    pub topics: Option<&'a str>,
    /// File name (within `[evidence] dir`), offset and length of the version's records.
    pub warc: Option<(&'a str, i64, i64)>,
    pub error: Option<&'a str>,
}

impl Store {
    /// Queues the capture of `item`, due at `due` (now: the poll's commit makes it
    /// claimable, after the alert it queued).
    pub async fn queue_capture(&self, tx: &mut Tx, item: i64, due: i64) -> Result<()> {
        self.queue_evidence(tx, item, EvidenceWork::Capture, due)
            .await
    }

    /// Queues the checks of `item`'s page at the times `dues`.
    pub async fn queue_rechecks(&self, tx: &mut Tx, item: i64, dues: &[i64]) -> Result<()> {
        for due in dues {
            self.queue_evidence(tx, item, EvidenceWork::Recheck, *due)
                .await?;
        }
        Ok(())
    }

    async fn queue_evidence(
        &self,
        tx: &mut Tx,
        item: i64,
        work: EvidenceWork,
        due: i64,
    ) -> Result<()> {
        query::execute(
            &mut **tx,
            "INSERT INTO evidence_tasks (item_id, kind, due_at) VALUES ($1, $2, $3) \
             ON CONFLICT (item_id, kind, due_at) DO NOTHING",
            (item, work, due),
        )
        .await
        .with_context(|| format!("cannot queue the {} of item {item}", work.as_str()))?;
        Ok(())
    }

    /// Claims, for `holder` until `until`, up to `limit` due rows that no live lease holds,
    /// captures before rechecks, the oldest first.
    pub async fn claim_evidence(
        &self,
        holder: &str,
        now: i64,
        until: i64,
        limit: i64,
    ) -> Result<Vec<EvidenceTask>> {
        let tasks = Queue {
            table: "evidence_tasks",
            due: "done_at IS NULL AND due_at <= $1",
            now: "$1",
            returning: "id, item_id, kind, due_at, attempts",
        };
        let order = "ORDER BY kind, due_at, id LIMIT $4";
        let mut tasks: Vec<EvidenceTask> = self
            .claim_due(&tasks, (now,), (holder, until), order, (limit,))
            .await
            .context("cannot claim due evidence work")?;
        tasks.sort_by_key(|t| (t.work != EvidenceWork::Capture, t.due_at, t.id));
        Ok(tasks)
    }

    /// Ends a claimed row, in the transaction that stored what it found.
    pub async fn finish_evidence(&self, tx: &mut Tx, task: i64, now: i64) -> Result<()> {
        query::execute(
            &mut **tx,
            "UPDATE evidence_tasks SET done_at = $2, attempts = attempts + 1, \
                                       lease_holder = NULL, lease_until = NULL WHERE id = $1",
            (task, now),
        )
        .await?;
        Ok(())
    }

    /// Lets go of a claimed row that could not be recorded (the database failed), to be
    /// tried again at `retry_at`.
    pub async fn retry_evidence(&self, task: i64, retry_at: i64) -> Result<()> {
        query::execute(
            self.pool(),
            "UPDATE evidence_tasks SET due_at = $2, attempts = attempts + 1, \
                                       lease_holder = NULL, lease_until = NULL \
             WHERE id = $1 AND done_at IS NULL",
            (task, retry_at),
        )
        .await?;
        Ok(())
    }

    /// Extends the claims of `holder` on the rows it is working on.
    pub async fn renew_evidence(&self, holder: &str, until: i64) -> Result<()> {
        query::execute(
            self.pool(),
            "UPDATE evidence_tasks SET lease_until = $2 WHERE lease_holder = $1 AND done_at IS NULL",
            (holder, until),
        )
        .await?;
        Ok(())
    }

    /// Stores a new version of an item's page (the next number); returns its row id.
    pub async fn insert_evidence(&self, tx: &mut Tx, new: &NewEvidence<'_>) -> Result<i64> {
        let last: Option<i64> = query::scalar(
            &mut **tx,
            "SELECT MAX(version) FROM evidence WHERE item_id = $1",
            (new.item_id,),
        )
        .await?;
        let state = new.state.unwrap_or(EvidenceState::Online);
        let (file, offset, length) = match new.warc {
            Some((f, o, l)) => (Some(f), Some(o), Some(l)),
            None => (None, None, None),
        };
        let id: i64 = query::scalar(
            &mut **tx,
            "INSERT INTO evidence (item_id, version, url, final_url, captured_at, checked_at, \
                                   state, status, sha256, title, text, topics, warc_file, \
                                   warc_offset, warc_length, error) \
             VALUES ($1, $2, $3, $4, $5, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) \
             RETURNING id",
            (
                new.item_id,
                last.unwrap_or(0) + 1,
                new.url,
                new.final_url,
                new.at,
                state,
                new.status,
                new.sha256,
                new.title,
                new.text,
                new.topics,
                file,
                offset,
                length,
                new.error,
            ),
        )
        .await
        .with_context(|| format!("cannot store the evidence of item {}", new.item_id))?;
        Ok(id)
    }

    /// Records a check of the version `id`: its state now, when, and why it failed.
    pub async fn record_evidence_check(
        &self,
        tx: &mut Tx,
        id: i64,
        state: EvidenceState,
        at: i64,
        status: Option<i64>,
        error: Option<&str>,
    ) -> Result<()> {
        query::execute(
            &mut **tx,
            "UPDATE evidence SET state = $2, checked_at = $3, status = COALESCE($4, status), \
                                 error = $5 WHERE id = $1",
            (id, state, at, status, error),
        )
        .await?;
        Ok(())
    }

    /// The latest version of `item`'s page (its state), if it was ever captured.
    pub async fn latest_evidence(&self, item: i64) -> Result<Option<EvidenceRow>> {
        self.one_evidence("item_id = $1 ORDER BY version DESC LIMIT 1", item)
            .await
    }

    /// The latest version that holds a payload (the page as last kept), if any.
    pub async fn latest_kept_evidence(&self, item: i64) -> Result<Option<EvidenceRow>> {
        self.one_evidence(
            "item_id = $1 AND sha256 IS NOT NULL ORDER BY version DESC LIMIT 1",
            item,
        )
        .await
    }

    /// One stored version by its row id.
    pub async fn evidence_version(&self, id: i64) -> Result<Option<EvidenceRow>> {
        self.one_evidence("id = $1", id).await
    }

    /// The version that `filter` (on `$1` = `key`) finds first.
    async fn one_evidence(&self, filter: &str, key: i64) -> Result<Option<EvidenceRow>> {
        let sql = format!("SELECT {COLUMNS} FROM evidence WHERE {filter}");
        Ok(query::optional(self.pool(), &sql, (key,)).await?)
    }

    /// Every version of the pages of `incident`'s items, by item then version.
    pub async fn incident_evidence(&self, incident: IncidentId) -> Result<Vec<EvidenceRow>> {
        Ok(query::all(
            self.pool(),
            &format!(
                "SELECT {COLUMNS} FROM evidence \
                 WHERE item_id IN (SELECT item_id FROM incident_items WHERE incident_id = $1) \
                 ORDER BY item_id, version"
            ),
            (incident,),
        )
        .await?)
    }

    /// Evidence work not done yet, for tests and health: (captures, rechecks).
    pub async fn evidence_backlog(&self) -> Result<(i64, i64)> {
        let rows: Vec<(String, i64)> = query::all(
            self.pool(),
            "SELECT kind, COUNT(*) FROM evidence_tasks WHERE done_at IS NULL GROUP BY kind",
            (),
        )
        .await?;
        let n = |k: &str| rows.iter().find(|(x, _)| x == k).map_or(0, |(_, n)| *n);
        Ok((n("capture"), n("recheck")))
    }

    /// When the next evidence row falls due (claimed or not), if any is left.
    pub async fn next_evidence_due(&self) -> Result<Option<i64>> {
        let due: Option<i64> = query::scalar(
            self.pool(),
            "SELECT MIN(due_at) FROM evidence_tasks WHERE done_at IS NULL",
            (),
        )
        .await?;
        Ok(due)
    }
}

/// What an item's evidence comes to: its state and last check (from the latest version),
/// and the page last kept (the latest version with a payload).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvidenceSummary {
    pub state: EvidenceState,
    /// When the page last kept was captured (or the failed capture was tried).
    pub captured_at: i64,
    pub checked_at: i64,
    /// The last kept payload's SHA-256; `None` while none could be fetched.
    pub sha256: Option<String>,
    /// Versions kept (with a payload).
    pub versions: i64,
    /// The latest version's error (why it could not be fetched or written).
    pub error: Option<String>,
    /// The row of the page last kept, for the console's text view.
    pub kept_id: Option<i64>,
}

/// Each item's [`EvidenceSummary`] of `rows` (versions by item then version, as
/// `incident_evidence` gives them).
pub fn summaries(rows: &[EvidenceRow]) -> std::collections::BTreeMap<i64, EvidenceSummary> {
    let mut out = std::collections::BTreeMap::new();
    for r in rows {
        let s = out.entry(r.item_id).or_insert(EvidenceSummary {
            state: r.state,
            captured_at: r.captured_at,
            checked_at: r.checked_at,
            sha256: None,
            versions: 0,
            error: None,
            kept_id: None,
        });
        s.state = r.state;
        s.checked_at = r.checked_at;
        s.error = r.error.clone();
        if r.sha256.is_some() {
            s.captured_at = r.captured_at;
            s.sha256 = r.sha256.clone();
            s.versions += 1;
            s.kept_id = Some(r.id);
        } else if s.sha256.is_none() {
            s.captured_at = r.captured_at;
        }
    }
    out
}
