//! Instant messages in the outbox: one `notifications` row per notifier a message goes to,
//! written by [`Store::enqueue`] in the transaction of the mail row, and the state the
//! notify sender keeps per notifier (its rolling-minute request log, a pause the service
//! imposed, whether the operators were told that it fails for good).

use super::leases::Queue;
use super::query::{self, Params};
use super::{Draft, Store, Tx};
use anyhow::{Context, Result};

/// A queued instant message, with the text of the mail it accompanies.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct NotificationRow {
    pub id: i64,
    pub outbox_id: i64,
    pub notifier: String,
    pub incident_id: Option<i64>,
    pub created_at: i64,
    pub attempts: i64,
    /// A request carrying this row began and was never marked: its outcome is unknown.
    pub started_at: Option<i64>,
    pub sent_at: Option<i64>,
    pub digest_of: Option<i64>,
    pub failed_at: Option<i64>,
    pub last_error: Option<String>,
    pub answer: Option<String>,
    pub maybe_doubled: i64,
    /// From the outbox row.
    pub kind: String,
    pub subject: String,
    pub body_text: String,
    /// The mail's recipients (JSON), for the fallback.
    pub recipients: String,
}

/// What a [`NotificationRow`] reads: the row `n` with its outbox row `o`.
const SELECT: &str = "SELECT n.id, n.outbox_id, n.notifier, n.incident_id, n.created_at, \
                      n.attempts, n.started_at, n.sent_at, n.digest_of, n.failed_at, \
                      n.last_error, n.answer, n.maybe_doubled, \
                      o.kind, o.subject, o.body_text, o.recipients \
                      FROM notifications n JOIN outbox o ON o.id = n.outbox_id";

/// What a notifier's state row says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NotifierState {
    /// No request before this time (UTC seconds): the service asked for a pause.
    pub blocked_until: Option<i64>,
    /// Since when the operators know that it fails for good (`None`: it works, or they
    /// were not told yet).
    pub broken_since: Option<i64>,
}

impl Store {
    /// Queues one notification per notifier of `draft`, in the transaction that queued its
    /// mail row `outbox_id`.
    pub(super) async fn enqueue_notifications(
        &self,
        tx: &mut Tx,
        draft: &Draft,
        outbox_id: i64,
        now: i64,
    ) -> Result<()> {
        for notifier in &draft.notify {
            query::execute(
                &mut **tx,
                "INSERT INTO notifications (outbox_id, notifier, incident_id, created_at, \
                                            next_attempt_at) VALUES ($1, $2, $3, $4, $4)",
                (outbox_id, notifier, draft.incident_id, now),
            )
            .await?;
        }
        Ok(())
    }

    /// The notifiers with something due at `now`, in the order of their oldest row.
    pub async fn notifiers_due(&self, now: i64) -> Result<Vec<String>> {
        let rows: Vec<(String, i64)> = query::all(
            self.pool(),
            "SELECT notifier, MIN(id) FROM notifications \
             WHERE sent_at IS NULL AND failed_at IS NULL AND next_attempt_at <= $1 \
               AND (lease_until IS NULL OR lease_until <= $1) \
             GROUP BY notifier ORDER BY 2",
            (now,),
        )
        .await?;
        Ok(rows.into_iter().map(|(n, _)| n).collect())
    }

    /// Claims up to `limit` due rows of `notifier` for `holder` until `until`, oldest first.
    pub async fn claim_notifications(
        &self,
        notifier: &str,
        holder: &str,
        now: i64,
        until: i64,
        limit: i64,
    ) -> Result<Vec<NotificationRow>> {
        let due = Queue {
            table: "notifications",
            due:
                "notifier = $1 AND sent_at IS NULL AND failed_at IS NULL AND next_attempt_at <= $2",
            now: "$2",
            returning: "id",
        };
        let ids: Vec<(i64,)> = self
            .claim_due(
                &due,
                (notifier, now),
                (holder, until),
                "ORDER BY id LIMIT $5",
                (limit,),
            )
            .await
            .with_context(|| format!("cannot claim the messages due for notifier {notifier}"))?;
        let mut out = Vec::with_capacity(ids.len());
        for (id,) in ids {
            if let Some(row) = self.notification(id).await? {
                out.push(row);
            }
        }
        out.sort_by_key(|r| r.id);
        Ok(out)
    }

    pub async fn notification(&self, id: i64) -> Result<Option<NotificationRow>> {
        Ok(query::optional(self.pool(), &format!("{SELECT} WHERE n.id = $1"), (id,)).await?)
    }

    /// Every notification, oldest first (for tests and `yuqing notify`).
    pub async fn notifications(&self) -> Result<Vec<NotificationRow>> {
        Ok(query::all(self.pool(), &format!("{SELECT} ORDER BY n.id"), ()).await?)
    }

    /// Marks that a request carrying `ids` begins now, and records it in the notifier's
    /// request log (at `at_ms`). One statement each, outside the write lock, like
    /// `mark_sent` of mail.
    pub async fn start_request(
        &self,
        notifier: &str,
        ids: &[i64],
        now: i64,
        at_ms: i64,
    ) -> Result<()> {
        // A row already begun and never marked was maybe delivered: say it may double.
        self.update_each(
            ids,
            "UPDATE notifications SET maybe_doubled = CASE WHEN started_at IS NULL \
                    THEN maybe_doubled ELSE 1 END, started_at = $2 WHERE id = $1",
            (now,),
        )
        .await?;
        query::execute(
            self.pool(),
            "INSERT INTO notify_requests (notifier, at_ms) VALUES ($1, $2)",
            (notifier, at_ms),
        )
        .await?;
        Ok(())
    }

    /// Requests made to `notifier` at or after `since_ms`.
    pub async fn requests_since(&self, notifier: &str, since_ms: i64) -> Result<Vec<i64>> {
        Ok(query::scalars(
            self.pool(),
            "SELECT at_ms FROM notify_requests WHERE notifier = $1 AND at_ms >= $2 ORDER BY at_ms",
            (notifier, since_ms),
        )
        .await?)
    }

    /// Forgets requests older than `before_ms` (the log only ever needs the last minute).
    /// Read first: on SQLite a `DELETE` takes the write lock even when it deletes nothing,
    /// and the dispatcher asks every turn.
    pub async fn prune_requests(&self, before_ms: i64) -> Result<()> {
        let old: Option<i64> = query::optional_scalar(
            self.pool(),
            "SELECT at_ms FROM notify_requests WHERE at_ms < $1 LIMIT 1",
            (before_ms,),
        )
        .await?;
        if old.is_none() {
            return Ok(());
        }
        query::execute(
            self.pool(),
            "DELETE FROM notify_requests WHERE at_ms < $1",
            (before_ms,),
        )
        .await?;
        Ok(())
    }

    /// The service accepted the request carrying `ids`; the first is the one that carried
    /// the rest when there are several (a digest).
    pub async fn mark_notified(&self, ids: &[i64], now: i64, answer: &str) -> Result<()> {
        let digest_of = ids.first().copied().filter(|_| ids.len() > 1);
        self.update_each(
            ids,
            "UPDATE notifications SET sent_at = $2, attempts = attempts + 1, answer = $3, \
                    last_error = NULL, digest_of = $4, started_at = NULL, \
                    lease_holder = NULL, lease_until = NULL WHERE id = $1",
            (now, answer, digest_of),
        )
        .await
    }

    /// The request failed in a way worth retrying at `next`. `doubled`: its outcome is
    /// unknown (the service may have acted on it), so a retry may deliver it twice.
    pub async fn mark_notify_retry(
        &self,
        ids: &[i64],
        error: &str,
        answer: Option<&str>,
        next: i64,
        doubled: bool,
    ) -> Result<()> {
        self.update_each(
            ids,
            "UPDATE notifications SET attempts = attempts + 1, last_error = $2, \
                    answer = COALESCE($3, answer), next_attempt_at = $4, started_at = NULL, \
                    maybe_doubled = CASE WHEN $5 THEN 1 ELSE maybe_doubled END, \
                    lease_holder = NULL, lease_until = NULL WHERE id = $1",
            (error, answer, next, doubled),
        )
        .await
    }

    /// Gives rows back unsent and untried (the rate limit left no room for them now).
    pub async fn release_notifications(&self, ids: &[i64]) -> Result<()> {
        self.update_each(
            ids,
            "UPDATE notifications SET lease_holder = NULL, lease_until = NULL WHERE id = $1",
            (),
        )
        .await
    }

    /// Runs `sql`, an UPDATE of the notification `WHERE id = $1`, for each of `ids` (the
    /// rows of one request), each its own statement outside the write lock, with `values`
    /// as `$2`, `$3`, …
    async fn update_each<'q>(
        &self,
        ids: &[i64],
        sql: &'q str,
        values: impl Params<'q> + Clone,
    ) -> Result<()> {
        for id in ids {
            query::execute(self.pool(), sql, (*id,).then(values.clone())).await?;
        }
        Ok(())
    }

    /// The service refused `ids` for good: marks them failed and queues, in the same
    /// transaction, the fallback mail and (when `tell` is given and the operators were not
    /// told yet) the operators' notice. Returns whether the notice was queued.
    #[allow(clippy::too_many_arguments)]
    pub async fn mark_notify_failed(
        &self,
        notifier: &str,
        ids: &[i64],
        error: &str,
        answer: Option<&str>,
        now: i64,
        fallback: &[Draft],
        tell: &Draft,
        domain: &str,
    ) -> Result<bool> {
        let mut tx = self.begin().await?;
        for id in ids {
            query::execute(
                &mut *tx,
                "UPDATE notifications SET attempts = attempts + 1, failed_at = $2, \
                        last_error = $3, answer = COALESCE($4, answer), started_at = NULL, \
                        lease_holder = NULL, lease_until = NULL WHERE id = $1",
                (id, now, error, answer),
            )
            .await?;
        }
        for draft in fallback {
            self.enqueue(&mut tx, draft, now, domain).await?;
        }
        query::execute(
            &mut *tx,
            "INSERT INTO notifier_state (notifier) VALUES ($1) ON CONFLICT (notifier) DO NOTHING",
            (notifier,),
        )
        .await?;
        let told = query::execute(
            &mut *tx,
            "UPDATE notifier_state SET broken_since = $2, broken_error = $3 \
             WHERE notifier = $1 AND broken_since IS NULL",
            (notifier, now, error),
        )
        .await?
            > 0;
        if told {
            self.enqueue(&mut tx, tell, now, domain).await?;
        }
        tx.commit().await?;
        Ok(told)
    }

    /// The notifier worked: the operators are told again if it breaks again.
    pub async fn notifier_works(&self, notifier: &str) -> Result<()> {
        query::execute(
            self.pool(),
            "UPDATE notifier_state SET broken_since = NULL, broken_error = NULL \
             WHERE notifier = $1 AND broken_since IS NOT NULL",
            (notifier,),
        )
        .await?;
        Ok(())
    }

    /// No request to `notifier` before `until` (UTC seconds).
    pub async fn block_notifier(&self, notifier: &str, until: i64) -> Result<()> {
        query::execute(
            self.pool(),
            "INSERT INTO notifier_state (notifier, blocked_until) VALUES ($1, $2) \
             ON CONFLICT (notifier) DO UPDATE SET blocked_until = $2",
            (notifier, until),
        )
        .await?;
        Ok(())
    }

    pub async fn notifier_state(&self, notifier: &str) -> Result<NotifierState> {
        let row: Option<(Option<i64>, Option<i64>)> = query::optional(
            self.pool(),
            "SELECT blocked_until, broken_since FROM notifier_state WHERE notifier = $1",
            (notifier,),
        )
        .await?;
        Ok(row
            .map(|(blocked_until, broken_since)| NotifierState {
                blocked_until,
                broken_since,
            })
            .unwrap_or_default())
    }

    /// Instant messages not yet delivered nor failed, for health reports.
    pub async fn notifications_pending(&self) -> Result<i64> {
        let n: i64 = query::scalar(
            self.pool(),
            "SELECT COUNT(*) FROM notifications WHERE sent_at IS NULL AND failed_at IS NULL",
            (),
        )
        .await?;
        Ok(n)
    }
}
