//! The store is the truth, and the only module that speaks SQL.
//!
//! Every state change is one transaction, and the mail it causes is written to the outbox in
//! that same transaction. Deadlines are rows with a due time, never only timers in memory,
//! so a daemon that was down fires what fell due on its next start, once. The daemon and the
//! duty officer's commands open the same database at the same time; SQLite runs in WAL mode
//! with a busy timeout, and every write transaction takes the write lock first.
//!
//! Times are stored as UTC seconds since the epoch.

mod channels;
mod columns;
mod console;
mod evidence;
mod held;
mod incidents;
mod item_json;
mod items;
pub mod leases;
mod lifecycle;
mod metrics;
mod notifications;
mod outbox;
mod query;
mod releases;
mod retention;
mod search;
mod sessions;
mod sources;
mod throttle;
mod users;

pub use channels::{DutyAlert, NewPost, PostRow};
pub use console::{ItemFilter, MailRow};
pub use evidence::{
    summaries as evidence_summaries, EvidenceRow, EvidenceSummary, EvidenceTask, EvidenceWork,
    NewEvidence,
};
pub use held::{HeldBack, HeldFiling};
pub use incidents::{
    nearest_owed, urgency, Action, DeadlineRow, IncidentRow, NewIncident, Readable, ReadableItems,
    ACTIVE,
};
pub use item_json::{ItemJson, SeenByJson};
pub use items::{Incoming, ItemRow, ItemTally, NewItem, Sighting, Stored, Topics};
pub use metrics::UnmetDeadline;
pub use notifications::{NotificationRow, NotifierState};
pub use outbox::{read_recipients, Draft, OutboxPart, OutboxRow};
pub use releases::ReleaseCandidate;
pub use retention::{Intake, PruneBatch, Pruned, PRUNE_BATCH, PRUNE_HOLD, PRUNE_PAUSE};
pub use search::{ItemPage, SearchQuery, COUNT_PAGES_AHEAD};
pub use sources::{PollSuccess, SourceState};
pub use throttle::Claim;
pub use users::UserRow;

use anyhow::{Context, Result};
use sqlx::any::AnyPoolOptions;
use sqlx::{Any, AnyPool, Executor, Transaction};
use std::path::Path;
use std::time::Duration;

/// A write transaction. Commit it or it rolls back when dropped.
pub type Tx = Transaction<'static, Any>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Backend {
    Sqlite,
    Postgres,
}

/// A handle on the database, cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// Sources known to have a `source_state` row (see `leases::claim_sources`).
    known_sources: std::sync::Arc<std::sync::Mutex<std::collections::HashSet<String>>>,
}

/// Whether `e` is a stored value this version cannot read (a row written by a later
/// version, or by hand) rather than the database failing: work that meets one can go on
/// without that row, where a failing database would fail the rest of it too.
pub fn unreadable(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        matches!(
            c.downcast_ref::<sqlx::Error>(),
            Some(sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_))
        )
    })
}

impl Store {
    /// Opens (creating it if needed) the database at `url` and brings its schema up to date.
    pub async fn open(url: &str) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            Backend::Postgres
        };
        let connect_url = match backend {
            Backend::Sqlite => sqlite_url(url)?,
            Backend::Postgres => url.to_string(),
        };
        let pool = AnyPoolOptions::new()
            .max_connections(match backend {
                Backend::Sqlite => 4,
                Backend::Postgres => 8,
            })
            .acquire_timeout(Duration::from_secs(30))
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // WAL lets the duty officer's commands read while the daemon writes;
                        // the busy timeout makes a second writer wait instead of failing.
                        conn.execute("PRAGMA busy_timeout = 15000").await?;
                        conn.execute("PRAGMA journal_mode = WAL").await?;
                        conn.execute("PRAGMA synchronous = NORMAL").await?;
                        conn.execute("PRAGMA foreign_keys = ON").await?;
                    }
                    Ok(())
                })
            })
            .after_release(move |conn, _| {
                Box::pin(async move {
                    if backend != Backend::Sqlite {
                        return Ok(true);
                    }
                    // A write that failed with "database or disk is full" can leave SQLite's
                    // transaction open on the connection, holding the write lock for every
                    // other process until it is closed. BEGIN fails on such a connection:
                    // close it then (which rolls back); otherwise undo the probe.
                    match conn.execute("BEGIN").await {
                        Ok(_) => Ok(conn.execute("ROLLBACK").await.is_ok()),
                        Err(_) => Ok(false),
                    }
                })
            })
            .connect(&connect_url)
            .await
            .with_context(|| format!("cannot open the database {}", redact(url)))?;
        let migrator = match backend {
            Backend::Sqlite => sqlx::migrate!("./migrations/sqlite"),
            Backend::Postgres => sqlx::migrate!("./migrations/postgres"),
        };
        // Two processes opening a new SQLite file at once (two daemons, or the daemon and a
        // command) both start migrating; sqlx does not lock there as it does on PostgreSQL,
        // so the loser fails ("table … already exists") with its migration rolled back.
        // Trying again then finds the winner's migrations applied.
        let mut attempt = 0;
        loop {
            match migrator.run(&pool).await {
                Ok(()) => break,
                Err(e) if attempt < 5 => {
                    attempt += 1;
                    tracing::debug!(error = %e, attempt, "migration raced another process; retrying");
                    tokio::time::sleep(Duration::from_millis(200 * attempt)).await;
                }
                Err(e) => {
                    return Err(e).with_context(|| {
                        format!("cannot bring the schema of {} up to date", redact(url))
                    })
                }
            }
        }
        let store = Store {
            pool,
            backend,
            known_sources: Default::default(),
        };
        // Once after the upgrade to migration 0025: items stored before it become
        // searchable, newest first (a few seconds per 100,000 items).
        store
            .index_all_backlog()
            .await
            .context("cannot index the stored items for search")?;
        Ok(store)
    }

    /// Marks where the work on one incident starts inside `tx`, so that
    /// [`Store::undo_one`] can take back that work alone when it fails and the rest of the
    /// transaction goes on (an SQL savepoint; SQLite and PostgreSQL alike).
    pub async fn begin_one(&self, tx: &mut Tx) -> Result<()> {
        query::execute(&mut **tx, "SAVEPOINT one_incident", ()).await?;
        Ok(())
    }

    /// Keeps the work since [`Store::begin_one`].
    pub async fn keep_one(&self, tx: &mut Tx) -> Result<()> {
        query::execute(&mut **tx, "RELEASE SAVEPOINT one_incident", ()).await?;
        Ok(())
    }

    /// Takes back the work since [`Store::begin_one`] (on PostgreSQL this also ends the
    /// failed state a statement's error leaves the transaction in).
    pub async fn undo_one(&self, tx: &mut Tx) -> Result<()> {
        query::execute(&mut **tx, "ROLLBACK TO SAVEPOINT one_incident", ()).await?;
        query::execute(&mut **tx, "RELEASE SAVEPOINT one_incident", ()).await?;
        Ok(())
    }

    /// Starts a write transaction holding the write lock.
    pub async fn begin(&self) -> Result<Tx> {
        let mut tx = self
            .pool
            .begin()
            .await
            .context("cannot start a transaction")?;
        take_write_lock(&mut tx).await?;
        Ok(tx)
    }

    /// Runs one statement in a transaction of its own, under the write lock; how many rows
    /// it changed.
    async fn write<'q>(&self, sql: &'q str, params: impl query::Params<'q>) -> Result<u64> {
        let mut tx = self.begin().await?;
        let n = query::execute(&mut *tx, sql, params).await?;
        tx.commit().await?;
        Ok(n)
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Takes the write lock in the transaction on `conn`: on PostgreSQL too (migration 0009),
/// without it two daemons polling sources that match one topic could each open an incident.
async fn take_write_lock(conn: &mut sqlx::AnyConnection) -> Result<()> {
    if let Err(e) = query::execute(&mut *conn, "UPDATE write_lock SET n = n + 1", ()).await {
        let why = write_refused(&e);
        return Err(anyhow::Error::new(e).context(why));
    }
    Ok(())
}

/// Why a write was refused, in words an operator can act on.
fn write_refused(e: &sqlx::Error) -> &'static str {
    let message = e
        .as_database_error()
        .map(|d| d.message().to_ascii_lowercase())
        .unwrap_or_default();
    // SQLite: "attempt to write a readonly database" (SQLITE_READONLY and its extended
    // codes); PostgreSQL: a standby, or default_transaction_read_only (SQLSTATE 25006).
    let pg_read_only = e
        .as_database_error()
        .and_then(|d| d.code())
        .is_some_and(|c| c == "25006");
    if message.contains("readonly") || message.contains("read-only") || pg_read_only {
        "the database is read-only: nothing can be recorded; check the permissions of the \
         database file and its folder (and that the disk is not mounted read-only), or that \
         `database` points at a writable PostgreSQL primary"
    } else if message.contains("locked") || message.contains("busy") {
        "cannot take the database write lock (another process holds it too long?)"
    } else {
        "cannot take the database write lock"
    }
}

/// `sqlite://var/yuqing.db` → a URL that creates the file (and its folder) when missing.
fn sqlite_url(url: &str) -> Result<String> {
    let rest = url.trim_start_matches("sqlite:").trim_start_matches("//");
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if path != ":memory:" && !path.is_empty() {
        if let Some(dir) = Path::new(path)
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
        {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create the database folder {}", dir.display()))?;
        }
    }
    let query = if query.is_empty() {
        "mode=rwc".to_string()
    } else if query.contains("mode=") {
        query.to_string()
    } else {
        format!("{query}&mode=rwc")
    };
    Ok(format!("sqlite://{path}?{query}"))
}

/// A database URL without its password, for messages.
fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_string(),
    }
}
