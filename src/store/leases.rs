//! Leases: how several daemons on one database share the work.
//!
//! Each daemon has an identity, `host:pid:random` ([`identity`]). Shared work is claimed
//! with a lease that lasts until a time unless renewed:
//!
//! - the **housekeeping lead** (a row of `leases`): only its holder fires deadlines,
//!   reminders and the other timed mail, so none is queued twice;
//! - a **source** being polled (`source_state.lease_*`): a due source is claimed by one
//!   daemon, which polls it, records the next poll time and lets go;
//! - a **message** being sent (`outbox.lease_*`): claimed just before it is handed to the
//!   transport, marked sent just after.
//!
//! On PostgreSQL due rows are claimed with `SELECT … FOR UPDATE SKIP LOCKED`, so daemons
//! claiming at the same moment take different rows instead of waiting on each other; on
//! SQLite the single writer serialises the same statement. When a daemon dies its leases
//! run out and the others take its work over; a daemon starting on the same host frees at
//! once the leases of local processes that no longer exist ([`Store::free_dead_local`]).

use super::query::{self, Params};
use super::{Backend, OutboxRow, Store};
use anyhow::{Context, Result};
use std::sync::OnceLock;

/// The name of the lease whose holder fires deadlines and other timed mail.
pub const HOUSEKEEPING: &str = "housekeeping";

/// This process's identity as a lease holder: `host:pid:random`. Every daemon in one
/// process shares it (tests restart a daemon in-process and it keeps its leases).
pub fn identity() -> &'static str {
    static ID: OnceLock<String> = OnceLock::new();
    ID.get_or_init(|| {
        use std::hash::{BuildHasher, Hasher};
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0),
        );
        format!(
            "{}:{}:{:08x}",
            hostname(),
            std::process::id(),
            h.finish() as u32
        )
    })
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().replace(':', "-"))
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_string())
}

/// The pid of a holder on this host, if it is one.
fn local_pid(holder: &str) -> Option<u32> {
    let mut parts = holder.rsplitn(3, ':');
    let _random = parts.next()?;
    let pid = parts.next()?.parse().ok()?;
    (parts.next()? == hostname()).then_some(pid)
}

/// Whether the process `pid` of this host is gone (or a zombie). Only Linux can tell;
/// elsewhere every process is taken to be alive and its leases simply run out.
fn process_gone(pid: u32) -> bool {
    if cfg!(target_os = "linux") {
        match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            Err(_) => true,
            // `pid (comm) S …`: the state follows the last ')'.
            Ok(stat) => stat
                .rsplit_once(')')
                .is_some_and(|(_, rest)| rest.trim_start().starts_with(['Z', 'X'])),
        }
    } else {
        false
    }
}

/// When a lease of `lease` taken at `now` (UTC seconds, whole) ends. Times are whole
/// seconds, so it ends one second later than `now + lease`: a claim taken at 10.9s with a
/// lease of 1s must not be free at 11.0s.
pub fn lease_end(now: i64, lease: std::time::Duration) -> i64 {
    now + lease.as_secs().max(1) as i64 + 1
}

/// A table of work rows claimed with a lease (`outbox`, `notifications`,
/// `evidence_tasks`), as [`Store::claim_due`] reads it: `due` selects the rows that are
/// due, with parameters `$1`…`$n`, and `now` is the one of them that is the present moment
/// (a lease that ran out by then is free); a claim answers `returning` of each row it
/// takes. The claim binds the holder and the lease's end after `due`'s parameters (`$n+1`,
/// `$n+2`).
pub(super) struct Queue<'s> {
    pub table: &'s str,
    pub due: &'s str,
    pub now: &'s str,
    pub returning: &'s str,
}

/// The highest `$k` that `sql` names (0 for none).
fn highest_placeholder(sql: &str) -> usize {
    sql.split('$')
        .skip(1)
        .filter_map(|rest| {
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            rest[..digits].parse().ok()
        })
        .max()
        .unwrap_or(0)
}

/// How many sources one claiming statement names.
const CLAIM_CHUNK: usize = 500;

impl Store {
    pub(super) fn skip_locked(&self) -> &'static str {
        match self.backend {
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        }
    }

    /// Claims, for `holder` until `until`, rows of `queue` that are due (`params` are its
    /// `due`'s) and held by no live lease, in the order and number of `order_limit` (`more`
    /// are its parameters, numbered after the lease's); answers the queue's `returning` of
    /// each.
    ///
    /// A read comes first, and when it finds nothing free nothing is written: the daemon
    /// asks every turn, and an UPDATE takes SQLite's write lock even when it claims nothing
    /// (a command waiting for the lock could starve behind an idle daemon).
    pub(super) async fn claim_due<'q, T: query::Row>(
        &self,
        queue: &Queue<'_>,
        params: impl Params<'q> + Clone,
        (holder, until): (&'q str, i64),
        order_limit: &str,
        more: impl Params<'q>,
    ) -> sqlx::Result<Vec<T>> {
        let Queue {
            table,
            due,
            now,
            returning,
        } = queue;
        let unclaimed = format!(
            "SELECT id FROM {table} WHERE {due} AND (lease_until IS NULL OR lease_until <= {now})"
        );
        let probe = format!("{unclaimed} LIMIT 1");
        let free: Option<i64> = query::optional_scalar(self.pool(), &probe, params.clone()).await?;
        if free.is_none() {
            return Ok(Vec::new());
        }
        let n = highest_placeholder(due);
        let claim = format!(
            "UPDATE {table} SET lease_holder = ${}, lease_until = ${} \
             WHERE id IN ({unclaimed} {order_limit}{}) \
             RETURNING {returning}",
            n + 1,
            n + 2,
            self.skip_locked()
        );
        let params = params.then((holder, until)).then(more);
        query::all(self.pool(), &claim, params).await
    }

    /// Takes or renews the lease `name` for `holder` until `until`; returns whether
    /// `holder` has it. It is free when nobody holds it or the holder's time ran out.
    pub async fn take_lease(&self, name: &str, holder: &str, now: i64, until: i64) -> Result<bool> {
        // A read first: the daemon asks every turn, and a write takes SQLite's write lock
        // (a command waiting for it could starve). A live lease of another holder is not
        // taken; this holder's own is renewed once less than half of it is left, so it
        // still runs out within one lease of this holder's last turn.
        if let Some((current, held_until)) = self.lease(name).await? {
            if current != holder && held_until > now {
                return Ok(false);
            }
            if current == holder && held_until - now >= (until - now) / 2 {
                return Ok(true);
            }
        }
        let done = query::execute(
            self.pool(),
            "INSERT INTO leases (name, holder, held_until) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO UPDATE SET holder = $2, held_until = $3 \
             WHERE leases.holder = $2 OR leases.held_until <= $4",
            (name, holder, until, now),
        )
        .await?;
        Ok(done == 1)
    }

    /// Who holds the lease `name` and until when (also after it ran out).
    pub async fn lease(&self, name: &str) -> Result<Option<(String, i64)>> {
        Ok(query::optional(
            self.pool(),
            "SELECT holder, held_until FROM leases WHERE name = $1",
            (name,),
        )
        .await?)
    }

    /// Claims, for `holder` until `until`, those of `sources` that are due and not claimed
    /// by a live lease; returns the ids claimed. A source never polled is due.
    /// A source this holder still holds is claimed again: the caller never asks for one it
    /// is polling, so such a lease is one whose release failed (a full disk), and waiting
    /// for it to run out would leave the source unpolled for a whole lease.
    pub async fn claim_sources(
        &self,
        sources: &[String],
        holder: &str,
        now: i64,
        until: i64,
    ) -> Result<Vec<String>> {
        // Claims need rows: a source never polled gets its (due) row first, once per
        // process. Statements go in chunks: tens of thousands of sources would pass the
        // databases' limits on bound parameters (SQLite 32,766, PostgreSQL 65,535).
        let fresh: Vec<&String> = {
            let known = self.known_sources.lock().unwrap_or_else(|e| e.into_inner());
            sources.iter().filter(|s| !known.contains(*s)).collect()
        };
        for chunk in fresh.chunks(CLAIM_CHUNK) {
            let sql = format!(
                "INSERT INTO source_state (source_id) VALUES {} ON CONFLICT (source_id) DO NOTHING",
                (1..=chunk.len())
                    .map(|i| format!("(${i})"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            query::execute(self.pool(), &sql, chunk.to_vec()).await?;
            let mut known = self.known_sources.lock().unwrap_or_else(|e| e.into_inner());
            known.extend(chunk.iter().map(|s| (*s).clone()));
        }
        // Which of `chunk` are due for `holder` at `now` (parameters named by the caller).
        let due = |holder: &str, now: &str, chunk: &[String], first: usize| {
            format!(
                "next_poll <= {now} AND (lease_until IS NULL OR lease_until <= {now} \
                                         OR lease_holder = {holder}) \
                 AND source_id IN ({})",
                query::placeholders(first, chunk.len())
            )
        };
        let mut claimed: Vec<String> = Vec::new();
        for chunk in sources.chunks(CLAIM_CHUNK) {
            // A read first, as for every claim: most turns find nothing due, and an
            // `UPDATE` takes SQLite's write lock even when it changes no row.
            let any = format!(
                "SELECT source_id FROM source_state WHERE {} LIMIT 1",
                due("$1", "$2", chunk, 3)
            );
            let params = (holder, now).then(chunk.to_vec());
            if query::optional_scalar::<String>(self.pool(), &any, params)
                .await?
                .is_none()
            {
                continue;
            }
            let sql = format!(
                "UPDATE source_state SET lease_holder = $1, lease_until = $2 \
                 WHERE source_id IN (SELECT source_id FROM source_state WHERE {}{}) \
                 RETURNING source_id",
                due("$1", "$3", chunk, 4),
                self.skip_locked()
            );
            let params = (holder, until, now).then(chunk.to_vec());
            claimed.extend(query::scalars::<String>(self.pool(), &sql, params).await?);
        }
        claimed.sort();
        Ok(claimed)
    }

    /// Extends the claims of `holder` on the sources it is polling, so a poll slower than
    /// the lease is not taken over while it runs.
    pub async fn renew_sources(&self, holder: &str, until: i64) -> Result<()> {
        query::execute(
            self.pool(),
            "UPDATE source_state SET lease_until = $2 WHERE lease_holder = $1",
            (holder, until),
        )
        .await?;
        Ok(())
    }

    /// Lets go of a source after its poll was recorded.
    pub async fn release_source(&self, source_id: &str, holder: &str) -> Result<()> {
        query::execute(
            self.pool(),
            "UPDATE source_state SET lease_holder = NULL, lease_until = NULL \
             WHERE source_id = $1 AND lease_holder = $2",
            (source_id, holder),
        )
        .await?;
        Ok(())
    }

    /// Claims, for `holder` until `until`, the oldest message that is due and not claimed
    /// by a live lease. Marking it sent or failed lets go of it.
    pub async fn claim_mail(
        &self,
        holder: &str,
        now: i64,
        until: i64,
    ) -> Result<Option<OutboxRow>> {
        let outbox = Queue {
            table: "outbox",
            due: "sent_at IS NULL AND next_attempt_at <= $1",
            now: "$1",
            returning: super::outbox::COLUMNS,
        };
        let claimed: Vec<OutboxRow> = self
            .claim_due(&outbox, (now,), (holder, until), "ORDER BY id LIMIT 1", ())
            .await
            .context("cannot claim mail due from the outbox")?;
        Ok(claimed.into_iter().next())
    }

    /// Gives up every lease of `holder` (on a clean shutdown), so another daemon takes
    /// over at once rather than when the leases run out.
    pub async fn release_leases(&self, holder: &str) -> Result<()> {
        let mut tx = self.pool().begin().await?;
        query::execute(&mut *tx, "DELETE FROM leases WHERE holder = $1", (holder,)).await?;
        for table in ["source_state", "outbox", "notifications", "evidence_tasks"] {
            query::execute(
                &mut *tx,
                &format!(
                    "UPDATE {table} SET lease_holder = NULL, lease_until = NULL \
                     WHERE lease_holder = $1"
                ),
                (holder,),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Frees the leases held by processes of this host that no longer exist (a daemon
    /// killed and restarted need not wait for its own leases to run out); returns the
    /// holders freed. Runs when a daemon starts.
    pub async fn free_dead_local(&self, me: &str) -> Result<Vec<String>> {
        let holders: Vec<String> = query::scalars(
            self.pool(),
            "SELECT holder FROM leases \
             UNION SELECT lease_holder FROM source_state WHERE lease_holder IS NOT NULL \
             UNION SELECT lease_holder FROM outbox WHERE lease_holder IS NOT NULL \
             UNION SELECT lease_holder FROM notifications WHERE lease_holder IS NOT NULL \
             UNION SELECT lease_holder FROM evidence_tasks WHERE lease_holder IS NOT NULL",
            (),
        )
        .await?;
        let mut freed = Vec::new();
        for holder in holders {
            if holder == me {
                continue;
            }
            if local_pid(&holder).is_some_and(process_gone) {
                self.release_leases(&holder).await?;
                freed.push(holder);
            }
        }
        Ok(freed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_is_host_pid_random_and_stable() {
        let id = identity();
        assert_eq!(id, identity());
        assert_eq!(local_pid(id), Some(std::process::id()));
        assert!(!process_gone(std::process::id()));
        assert_eq!(local_pid("elsewhere:1:abcd"), None);
    }

    #[test]
    fn the_claim_binds_the_lease_after_the_highest_placeholder_of_due() {
        assert_eq!(highest_placeholder("sent_at IS NULL"), 0);
        assert_eq!(highest_placeholder("due_at <= $1"), 1);
        assert_eq!(
            highest_placeholder("notifier = $1 AND x <= $12 AND y = $2"),
            12
        );
        assert_eq!(highest_placeholder("price = '$' AND a = $3"), 3);
    }
}
