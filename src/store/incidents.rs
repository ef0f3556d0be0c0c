//! Incidents, the items that belong to them, their deadlines and the record of who did what.

use super::query;
use super::{Store, Tx};
use crate::rules::deadline;
use crate::vocab::action::ActionKind;
use crate::vocab::clock::from_secs;
use crate::vocab::ids::{IncidentId, TopicId};
use crate::vocab::severity::Severity;
use crate::vocab::state::{CancelledBy, DeadlineKind, DeadlineState, IncidentStatus};
use anyhow::Result;
use chrono::{DateTime, Utc};
use sqlx::{Any, Executor};

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct IncidentRow {
    pub id: IncidentId,
    pub topic_id: TopicId,
    pub topic_name: String,
    /// What happened, in a line: the first item's title cut cleanly, or what the duty
    /// officer set (`incident title`). Every list, page, mail and report names the
    /// incident by it, with the topic beside it.
    pub title: String,
    pub severity: Severity,
    pub status: IncidentStatus,
    pub opened_at: i64,
    pub clock_start: i64,
    pub first_item_id: i64,
    pub acknowledged_at: Option<i64>,
    pub acknowledged_by: Option<String>,
    pub closed_at: Option<i64>,
    pub closed_by: Option<String>,
    /// While `status` is `monitoring`: when monitoring ends and the incident closes.
    pub monitoring_until: Option<i64>,
    /// When a resurgence (回温) last reopened it.
    pub reopened_at: Option<i64>,
    /// `status` `merged`: the incident it was merged into.
    pub merged_into: Option<IncidentId>,
    /// The incident it was split from.
    pub split_from: Option<IncidentId>,
    /// When the surge rule raised it (once).
    pub surged_at: Option<i64>,
}

/// SQL condition: the incident is still being handled (not closed, not merged). The
/// partial index `incidents_active` (migration 0030) is on this very condition: change both.
pub const ACTIVE: &str = "status NOT IN ('closed', 'merged', 'dismissed')";

/// The incidents still being handled, as a subquery for `incident_id IN`: read from the
/// partial index `incidents_active` (the `ORDER BY` is what makes SQLite's planner take it),
/// so that a query about their deadlines or items costs what is being handled now. A join
/// or an `EXISTS` per row let SQLite walk every deadline or incident item of the years
/// behind them instead (issue 29).
pub fn active_ids() -> String {
    format!("(SELECT id FROM incidents WHERE {ACTIVE} ORDER BY id)")
}

/// SQL condition on `incidents`: the incident holds the item `$1`.
const HOLDS_ITEM: &str = "id IN (SELECT incident_id FROM incident_items WHERE item_id = $1)";

/// SQL condition: the deadline still runs (neither met nor cancelled).
pub(super) const RUNNING: &str = "met_at IS NULL AND cancelled_at IS NULL";

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct DeadlineRow {
    pub id: i64,
    pub incident_id: IncidentId,
    pub kind: DeadlineKind,
    pub due_at: i64,
    pub met_at: Option<i64>,
    pub met_by: Option<String>,
    pub evidence: Option<String>,
    pub cancelled_at: Option<i64>,
    pub breach_mailed_at: Option<i64>,
    pub reminded_before: Option<i64>,
    /// A working-day obligation's duty (e.g. 网民留言答复); None for the hour deadlines.
    pub duty: Option<String>,
    /// Years the working-day count crossed without calendar data, comma-separated.
    pub uncertain: Option<String>,
}

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct Action {
    pub at: i64,
    pub actor: String,
    pub action: ActionKind,
    pub detail: Option<String>,
}

pub struct NewIncident<'a> {
    pub topic_id: &'a str,
    pub topic_name: &'a str,
    pub title: &'a str,
    pub severity: Severity,
    pub opened_at: i64,
    pub clock_start: i64,
    pub first_item_id: i64,
}

pub(super) const INCIDENT: &str =
    "id, topic_id, topic_name, title, severity, status, opened_at, clock_start, \
                        first_item_id, acknowledged_at, acknowledged_by, closed_at, closed_by, \
                        monitoring_until, reopened_at, merged_into, split_from, surged_at";
pub(super) const DEADLINE: &str =
    "id, incident_id, kind, due_at, met_at, met_by, evidence, cancelled_at, \
                        breach_mailed_at, reminded_before, duty, uncertain";

impl IncidentRow {
    /// When a closed or merged incident stopped counting; `None` while it is active. An
    /// unmet deadline of an ended incident is overdue by the time to its end, not to today.
    pub fn ended_at(&self) -> Option<DateTime<Utc>> {
        if self.status.has_ended() {
            self.closed_at.map(from_secs)
        } else {
            None
        }
    }
}

impl DeadlineRow {
    /// What it asks, in the words everyone reads (`vocab::words::deadline_zh`).
    pub fn what(&self) -> String {
        crate::vocab::words::deadline_zh(self.kind, self.duty.as_deref())
    }

    /// The flag of one counted without calendar data, empty otherwise.
    pub fn uncertain_note(&self) -> String {
        crate::vocab::words::uncertain_zh(self.uncertain.as_deref())
    }

    /// The incident a merge of `incident` cancelled this deadline into (a deadline that a
    /// regrade cancelled earlier keeps that reason).
    pub fn merged_into(&self, incident: &IncidentRow) -> Option<IncidentId> {
        match (incident.merged_into, self.met_at, self.cancelled_at) {
            (Some(into), None, Some(c)) if c >= incident.closed_at.unwrap_or(c) => Some(into),
            _ => None,
        }
    }

    /// Where this deadline of `incident` stands at `now` (`rules::deadline::state`): the
    /// one computation behind the terminal, JSON, mail and the 考核 report.
    pub fn state(&self, incident: &IncidentRow, now: DateTime<Utc>) -> DeadlineState {
        let cancelled = self
            .cancelled_at
            .map(|at| match self.merged_into(incident) {
                Some(into) => CancelledBy::Merge(into),
                None if incident.status == IncidentStatus::Dismissed
                    && at >= incident.closed_at.unwrap_or(at) =>
                {
                    CancelledBy::Dismissal
                }
                None => CancelledBy::Regrade,
            });
        deadline::state(
            from_secs(self.due_at),
            self.met_at.map(from_secs),
            cancelled,
            incident.ended_at(),
            now,
        )
    }
}

/// How many of an incident's latest items the surge rule counts (see `recent_spread`).
pub const SPREAD_SCAN: i64 = 200;

/// The due time of the nearest deadline `incident` still owes at `now`, pending or already
/// overdue; `None` when it owes nothing more.
pub fn nearest_owed(
    incident: &IncidentRow,
    deadlines: &[DeadlineRow],
    now: DateTime<Utc>,
) -> Option<i64> {
    deadlines
        .iter()
        .filter(|d| {
            matches!(
                d.state(incident, now),
                DeadlineState::Pending { .. } | DeadlineState::Missed { ended: false, .. }
            )
        })
        .map(|d| d.due_at)
        .min()
}

/// The order in which incidents are listed, on the dashboard and by `yuqing incidents`: the
/// nearest deadline owed first (the most overdue at the top), then those owing nothing more,
/// newest first. `nearest` is [`nearest_owed`].
pub fn urgency(nearest: Option<i64>, id: IncidentId) -> (bool, i64, i64) {
    (nearest.is_none(), nearest.unwrap_or(0), -id.0)
}

impl Store {
    /// The incidents of `topic_id` still being handled, newest first (at most `limit`).
    pub async fn active_incidents_of_topic(
        &self,
        tx: &mut Tx,
        topic_id: &str,
        limit: i64,
    ) -> Result<Vec<IncidentRow>> {
        Ok(query::all(
            &mut **tx,
            &format!(
                "SELECT {INCIDENT} FROM incidents WHERE topic_id = $1 \
                   AND {ACTIVE} ORDER BY id DESC LIMIT $2"
            ),
            (topic_id, limit),
        )
        .await?)
    }

    /// The incidents still being handled that `item` is in, of topics other than `topic_id`:
    /// the same item opened them under another topic (two statutory clocks for one report).
    pub async fn active_incidents_with_item(
        &self,
        tx: &mut Tx,
        item: i64,
        topic_id: &str,
    ) -> Result<Vec<IncidentRow>> {
        Ok(query::all(
            &mut **tx,
            &format!(
                "SELECT {INCIDENT} FROM incidents WHERE topic_id <> $2 AND {ACTIVE} \
                   AND {HOLDS_ITEM} ORDER BY id"
            ),
            (item, topic_id),
        )
        .await?)
    }

    /// The ids of the incidents still being handled that hold `item` (its evidence is
    /// kept for them); in a transaction, an incident it opened counts.
    pub async fn active_incidents_holding<'c>(
        &self,
        ex: impl Executor<'c, Database = Any>,
        item: i64,
    ) -> Result<Vec<i64>> {
        Ok(query::scalars(
            ex,
            &format!("SELECT id FROM incidents WHERE {ACTIVE} AND {HOLDS_ITEM} ORDER BY id"),
            (item,),
        )
        .await?)
    }

    /// The ids of every incident that holds `item`, ended ones too.
    pub async fn incidents_of_item(&self, item: i64) -> Result<Vec<i64>> {
        Ok(query::scalars(
            self.pool(),
            "SELECT incident_id FROM incident_items WHERE item_id = $1 ORDER BY incident_id",
            (item,),
        )
        .await?)
    }

    pub async fn insert_incident(&self, tx: &mut Tx, new: &NewIncident<'_>) -> Result<IncidentId> {
        let id: IncidentId = query::scalar(
            &mut **tx,
            "INSERT INTO incidents (topic_id, topic_name, severity, status, opened_at, clock_start, \
                                    first_item_id, title) \
             VALUES ($1, $2, $3, 'open', $4, $5, $6, $7) RETURNING id",
            (
                new.topic_id,
                new.topic_name,
                new.severity,
                new.opened_at,
                new.clock_start,
                new.first_item_id,
                new.title,
            ),
        )
        .await?;
        self.add_incident_item(tx, id, new.first_item_id, new.opened_at)
            .await?;
        Ok(id)
    }

    pub async fn add_incident_item(
        &self,
        tx: &mut Tx,
        incident: IncidentId,
        item: i64,
        now: i64,
    ) -> Result<()> {
        query::execute(
            &mut **tx,
            "INSERT INTO incident_items (incident_id, item_id, added_at, source_id, fetched_at, \
                                         negative) \
             SELECT $1, id, $3, source_id, fetched_at, \
                    CASE WHEN tone = 'negative' THEN 1 ELSE 0 END FROM items WHERE id = $2 \
             ON CONFLICT DO NOTHING",
            (incident, item, now),
        )
        .await?;
        Ok(())
    }

    /// Renames an incident; false when its title already was `title` (nothing to record).
    pub async fn set_title(&self, tx: &mut Tx, incident: IncidentId, title: &str) -> Result<bool> {
        let done = query::execute(
            &mut **tx,
            "UPDATE incidents SET title = $2 WHERE id = $1 AND title <> $2",
            (incident, title),
        )
        .await?;
        Ok(done > 0)
    }

    pub async fn set_severity(
        &self,
        tx: &mut Tx,
        incident: IncidentId,
        severity: Severity,
    ) -> Result<()> {
        query::execute(
            &mut **tx,
            "UPDATE incidents SET severity = $2 WHERE id = $1",
            (incident, severity),
        )
        .await?;
        Ok(())
    }

    /// Adds a deadline; one of that kind that a regrade cancelled is restored, one that is
    /// already running or met is left as it is.
    pub async fn insert_deadline(
        &self,
        tx: &mut Tx,
        incident: IncidentId,
        kind: DeadlineKind,
        due_at: i64,
    ) -> Result<()> {
        query::execute(
            &mut **tx,
            "INSERT INTO deadlines (incident_id, kind, due_at) VALUES ($1, $2, $3) \
             ON CONFLICT (incident_id, kind) DO UPDATE SET due_at = $3, cancelled_at = NULL \
             WHERE deadlines.met_at IS NULL AND deadlines.cancelled_at IS NOT NULL",
            (incident, kind, due_at),
        )
        .await?;
        Ok(())
    }

    /// Ends a deadline that a regrade made moot (a 48-hour response once 5 hours apply).
    pub async fn cancel_deadline(
        &self,
        tx: &mut Tx,
        incident: IncidentId,
        kind: DeadlineKind,
        now: i64,
    ) -> Result<()> {
        query::execute(
            &mut **tx,
            &format!(
                "UPDATE deadlines SET cancelled_at = $3 \
                 WHERE incident_id = $1 AND kind = $2 AND {RUNNING}"
            ),
            (incident, kind, now),
        )
        .await?;
        Ok(())
    }

    /// Records a deadline as met; returns false when it was already met, cancelled or absent.
    pub async fn meet_deadline(
        &self,
        tx: &mut Tx,
        incident: IncidentId,
        kind: DeadlineKind,
        now: i64,
        by: &str,
        evidence: Option<&str>,
    ) -> Result<bool> {
        let done = query::execute(
            &mut **tx,
            &format!(
                "UPDATE deadlines SET met_at = $3, met_by = $4, evidence = $5 \
                 WHERE incident_id = $1 AND kind = $2 AND {RUNNING}"
            ),
            (incident, kind, now, by, evidence),
        )
        .await?;
        Ok(done > 0)
    }

    /// Deadlines that have passed unmet on open incidents and whose breach was not mailed
    /// yet, or last mailed at or before `repeat_before`.
    pub async fn breached_deadlines<'c>(
        &self,
        ex: impl Executor<'c, Database = Any>,
        now: i64,
        repeat_before: i64,
    ) -> Result<Vec<DeadlineRow>> {
        self.running_deadlines(
            ex,
            "due_at <= $1 AND (breach_mailed_at IS NULL OR breach_mailed_at <= $2)",
            (now, repeat_before),
        )
        .await
    }

    /// Unmet deadlines of open incidents that fall due within (`now`, `until`].
    pub async fn upcoming_deadlines<'c>(
        &self,
        ex: impl Executor<'c, Database = Any>,
        now: i64,
        until: i64,
    ) -> Result<Vec<DeadlineRow>> {
        self.running_deadlines(ex, "due_at > $1 AND due_at <= $2", (now, until))
            .await
    }

    /// The running deadlines of the incidents still being handled that `due` (a condition
    /// on `$1` and `$2`, the `times`) selects, by due time.
    async fn running_deadlines<'c>(
        &self,
        ex: impl Executor<'c, Database = Any>,
        due: &str,
        times: (i64, i64),
    ) -> Result<Vec<DeadlineRow>> {
        Ok(query::all(
            ex,
            &format!(
                "SELECT {DEADLINE} FROM deadlines WHERE {due} AND {RUNNING} \
                   AND incident_id IN {} ORDER BY due_at, id",
                active_ids()
            ),
            times,
        )
        .await?)
    }

    pub async fn mark_reminded(&self, tx: &mut Tx, deadline: i64, before_s: i64) -> Result<()> {
        query::execute(
            &mut **tx,
            "UPDATE deadlines SET reminded_before = $2 WHERE id = $1",
            (deadline, before_s),
        )
        .await?;
        Ok(())
    }

    pub async fn mark_breach_mailed(&self, tx: &mut Tx, deadline: i64, now: i64) -> Result<()> {
        query::execute(
            &mut **tx,
            "UPDATE deadlines SET breach_mailed_at = $2 WHERE id = $1",
            (deadline, now),
        )
        .await?;
        Ok(())
    }

    pub async fn acknowledge(
        &self,
        tx: &mut Tx,
        incident: IncidentId,
        now: i64,
        by: &str,
    ) -> Result<bool> {
        let done = query::execute(
            &mut **tx,
            &format!(
                "UPDATE incidents \
                 SET status = CASE WHEN status = 'open' THEN 'acknowledged' ELSE status END, \
                     acknowledged_at = $2, acknowledged_by = $3 \
                 WHERE id = $1 AND acknowledged_at IS NULL AND {ACTIVE}"
            ),
            (incident, now, by),
        )
        .await?;
        Ok(done > 0)
    }

    /// Ends an active incident as a false positive (误报), and cancels its deadlines not
    /// yet met; false when it was not active.
    pub async fn dismiss_incident(
        &self,
        tx: &mut Tx,
        incident: IncidentId,
        now: i64,
        by: &str,
    ) -> Result<bool> {
        if !self
            .end_incident(tx, incident, IncidentStatus::Dismissed, now, by)
            .await?
        {
            return Ok(false);
        }
        self.cancel_running_deadlines(tx, incident, now).await?;
        Ok(true)
    }

    /// Cancels the deadlines of `incident` still running: it ended (dismissed, merged).
    pub(super) async fn cancel_running_deadlines(
        &self,
        tx: &mut Tx,
        incident: IncidentId,
        now: i64,
    ) -> Result<()> {
        query::execute(
            &mut **tx,
            &format!("UPDATE deadlines SET cancelled_at = $2 WHERE incident_id = $1 AND {RUNNING}"),
            (incident, now),
        )
        .await?;
        Ok(())
    }

    /// Closes an active incident (结案); false when it was not active.
    pub async fn close_incident(
        &self,
        tx: &mut Tx,
        incident: IncidentId,
        now: i64,
        by: &str,
    ) -> Result<bool> {
        self.end_incident(tx, incident, IncidentStatus::Closed, now, by)
            .await
    }

    /// Ends an active incident as `status` (closed or dismissed), by whom and when;
    /// false when it was not active.
    async fn end_incident(
        &self,
        tx: &mut Tx,
        incident: IncidentId,
        status: IncidentStatus,
        now: i64,
        by: &str,
    ) -> Result<bool> {
        let done = query::execute(
            &mut **tx,
            &format!(
                "UPDATE incidents SET status = $4, closed_at = $2, closed_by = $3 \
                 WHERE id = $1 AND {ACTIVE}"
            ),
            (incident, now, by, status),
        )
        .await?;
        Ok(done > 0)
    }

    /// 留痕: records who did what to an incident, in the transaction that did it.
    pub async fn record_action(
        &self,
        tx: &mut Tx,
        incident: IncidentId,
        now: i64,
        actor: &str,
        action: ActionKind,
        detail: Option<&str>,
    ) -> Result<()> {
        query::execute(
            &mut **tx,
            "INSERT INTO actions (incident_id, at, actor, action, detail) \
             VALUES ($1, $2, $3, $4, $5)",
            (incident.0, now, actor, action, detail),
        )
        .await?;
        Ok(())
    }

    pub async fn incident<'c>(
        &self,
        ex: impl Executor<'c, Database = Any>,
        id: IncidentId,
    ) -> Result<Option<IncidentRow>> {
        Ok(query::optional(
            ex,
            &format!("SELECT {INCIDENT} FROM incidents WHERE id = $1"),
            (id,),
        )
        .await?)
    }

    /// Open incidents (or all of them), newest first.
    pub async fn incidents(&self, include_closed: bool) -> Result<Vec<IncidentRow>> {
        Ok(query::all(self.pool(), &incidents_sql(include_closed), ()).await?)
    }

    /// [`incidents`](Self::incidents) for a page that shows what it can: the incidents
    /// this version can read, and those it cannot (a value written by a newer version)
    /// with why, so that one such row hides no other incident from the duty officer.
    pub async fn readable_incidents(&self, include_closed: bool) -> Result<Readable> {
        readable(query::each(self.pool(), &incidents_sql(include_closed), ()).await?)
    }

    /// The items that joined incident `id` after item `upto` (0: all of them; see
    /// [`with_new_items`](Self::with_new_items)), oldest first, for a mail that must go
    /// out: those this version can read, and the ids of those it cannot (a value written by
    /// a newer version) with why.
    pub async fn readable_items_of<'c>(
        &self,
        ex: impl Executor<'c, Database = Any>,
        id: IncidentId,
        upto: i64,
    ) -> Result<ReadableItems> {
        let sql = items_of_incident("AND i.id > $2 ORDER BY i.id");
        Ok(query::each(ex, &sql, (id, upto)).await?)
    }

    /// Open incidents that items joined after the last "new items" mail (or after the
    /// first item), when that mail (or the opening) was at or before `mailed_before`; each
    /// with the last item mailed (or its first item). Ids only: each incident is then read
    /// on its own, so that one this version cannot read holds back no other.
    pub async fn with_new_items<'c>(
        &self,
        ex: impl Executor<'c, Database = Any>,
        mailed_before: i64,
    ) -> Result<Vec<(IncidentId, i64)>> {
        Ok(query::all(
            ex,
            &format!(
                "SELECT i.id, COALESCE(i.items_mailed_upto, i.first_item_id) FROM incidents i \
                 WHERE i.{ACTIVE} AND COALESCE(i.items_mailed_at, i.opened_at) <= $1 \
                   AND EXISTS (SELECT 1 FROM incident_items ii WHERE ii.incident_id = i.id \
                               AND ii.item_id > COALESCE(i.items_mailed_upto, i.first_item_id)) \
                 ORDER BY i.id"
            ),
            (mailed_before,),
        )
        .await?)
    }

    /// Whether anyone was told of an escalation of incident `id`: a missed deadline, or
    /// nobody acknowledging it.
    pub async fn was_escalated(&self, tx: &mut Tx, id: IncidentId) -> Result<bool> {
        let n: i64 = query::scalar(
            &mut **tx,
            "SELECT (SELECT COUNT(*) FROM deadlines WHERE incident_id = $1 \
                       AND breach_mailed_at IS NOT NULL) \
                  + (SELECT COUNT(*) FROM incidents WHERE id = $1 AND unack_mailed_at IS NOT NULL)",
            (id,),
        )
        .await?;
        Ok(n > 0)
    }

    /// Open incidents nobody acknowledged and whose leaders were not yet told, opened (or
    /// reopened) at or before `since`: those the unacknowledged rule may be due for, each by
    /// its own severity's time. Ids only: each incident is then read on its own, so that
    /// one this version cannot read holds back no other.
    pub async fn unacknowledged<'c>(
        &self,
        ex: impl Executor<'c, Database = Any>,
        since: i64,
    ) -> Result<Vec<IncidentId>> {
        Ok(query::scalars(
            ex,
            "SELECT id FROM incidents WHERE status = 'open' AND unack_mailed_at IS NULL \
               AND COALESCE(reopened_at, opened_at) <= $1 ORDER BY id",
            (since,),
        )
        .await?)
    }

    /// Marks the leaders of incident `id` told that nobody acknowledged it; false when it
    /// is no longer open or they were told already.
    pub async fn mark_unacknowledged_mailed(
        &self,
        tx: &mut Tx,
        id: IncidentId,
        now: i64,
    ) -> Result<bool> {
        let done = query::execute(
            &mut **tx,
            "UPDATE incidents SET unack_mailed_at = $2 \
             WHERE id = $1 AND status = 'open' AND unack_mailed_at IS NULL",
            (id, now),
        )
        .await?;
        Ok(done > 0)
    }

    /// Items of the incident fetched since `since`, and from how many distinct sources,
    /// counted over its latest `SPREAD_SCAN` items: the surge rule asks whether a few
    /// (default 10 items, 3 sources) arrived lately, and a bound keeps that question as
    /// cheap for an event of 10,000 items as for one of 10.
    pub async fn recent_spread(
        &self,
        tx: &mut Tx,
        incident: IncidentId,
        since: i64,
        negative_only: bool,
    ) -> Result<(i64, i64)> {
        // The link rows carry the item's source, time and tone (migration 0019): no join
        // with the items themselves.
        let tone = if negative_only {
            " AND negative = 1"
        } else {
            ""
        };
        Ok(query::one(
            &mut **tx,
            &format!(
                "SELECT COUNT(*), COUNT(DISTINCT source_id) FROM (\
                   SELECT source_id FROM incident_items \
                   WHERE incident_id = $1 AND fetched_at >= $2{tone} \
                   ORDER BY item_id DESC LIMIT $3) AS recent"
            ),
            (incident, since, SPREAD_SCAN),
        )
        .await?)
    }

    /// Marks the incident as raised by the surge rule; false when it already was.
    pub async fn mark_surged(&self, tx: &mut Tx, incident: IncidentId, now: i64) -> Result<bool> {
        let done = query::execute(
            &mut **tx,
            "UPDATE incidents SET surged_at = $2 WHERE id = $1 AND surged_at IS NULL",
            (incident, now),
        )
        .await?;
        Ok(done > 0)
    }

    /// Records that the items of `incident` up to `upto` were mailed at `now`.
    pub async fn mark_items_mailed(
        &self,
        tx: &mut Tx,
        incident: IncidentId,
        upto: i64,
        now: i64,
    ) -> Result<()> {
        query::execute(
            &mut **tx,
            "UPDATE incidents SET items_mailed_at = $2, items_mailed_upto = $3 WHERE id = $1",
            (incident, now, upto),
        )
        .await?;
        Ok(())
    }

    /// Incidents opened in [`from`, `to`), oldest first, for reports; those this version
    /// cannot read apart, with why (see [`readable_incidents`](Self::readable_incidents)),
    /// so that a report names them instead of failing whole.
    pub async fn incidents_opened_between(&self, from: i64, to: i64) -> Result<Readable> {
        let sql = format!(
            "SELECT {INCIDENT} FROM incidents WHERE opened_at >= $1 AND opened_at < $2 ORDER BY id"
        );
        readable(query::each(self.pool(), &sql, (from, to)).await?)
    }

    pub async fn deadlines_of<'c>(
        &self,
        ex: impl Executor<'c, Database = Any>,
        incident: IncidentId,
    ) -> Result<Vec<DeadlineRow>> {
        Ok(query::all(
            ex,
            &format!("SELECT {DEADLINE} FROM deadlines WHERE incident_id = $1 ORDER BY due_at, id"),
            (incident,),
        )
        .await?)
    }

    /// Up to `limit` items of an incident with ids below `before`, highest id first, as
    /// grouping compares them: id, fetched at, and the stored signature (`None` until first
    /// compared). Reads `limit` rows through the primary key however large the incident is.
    pub async fn latest_signatures(
        &self,
        tx: &mut Tx,
        incident: IncidentId,
        before: i64,
        limit: i64,
    ) -> Result<Vec<(i64, i64, Option<String>)>> {
        Ok(query::all(
            &mut **tx,
            "SELECT i.id, i.fetched_at, i.signature \
             FROM incident_items ii JOIN items i ON i.id = ii.item_id \
             WHERE ii.incident_id = $1 AND ii.item_id < $2 \
             ORDER BY ii.item_id DESC LIMIT $3",
            (incident, before, limit),
        )
        .await?)
    }

    /// Stores an item's grouping signature (`ItemSignature::to_text`).
    pub async fn set_signature(&self, tx: &mut Tx, item: i64, signature: &str) -> Result<()> {
        query::execute(
            &mut **tx,
            "UPDATE items SET signature = $2 WHERE id = $1",
            (item, signature),
        )
        .await?;
        Ok(())
    }

    pub async fn incident_items<'c>(
        &self,
        ex: impl Executor<'c, Database = Any>,
        incident: IncidentId,
    ) -> Result<Vec<super::ItemRow>> {
        Ok(query::all(ex, &items_of_incident("ORDER BY i.id"), (incident,)).await?)
    }

    /// One page of an incident's items, oldest first: at most `limit`, skipping `offset`;
    /// those this version cannot read apart, with why, so that the page shows the others.
    pub async fn incident_items_page(
        &self,
        incident: IncidentId,
        offset: i64,
        limit: i64,
    ) -> Result<ReadableItems> {
        let sql = items_of_incident("ORDER BY i.id LIMIT $2 OFFSET $3");
        Ok(query::each(self.pool(), &sql, (incident, limit, offset)).await?)
    }

    /// Each item of an incident as its charts count it, oldest first: its source and when
    /// it was published (else fetched); none of its text, however large the incident.
    pub async fn incident_item_times(&self, incident: IncidentId) -> Result<Vec<(String, i64)>> {
        Ok(query::all(
            self.pool(),
            "SELECT i.source_id, COALESCE(i.published_at, i.fetched_at) \
             FROM items i JOIN incident_items ii ON ii.item_id = i.id \
             WHERE ii.incident_id = $1 ORDER BY i.id",
            (incident,),
        )
        .await?)
    }

    /// The record of actions (留痕) of an incident, oldest first.
    pub async fn actions_of(&self, incident: IncidentId) -> Result<Vec<Action>> {
        actions(self.pool(), incident).await
    }

    /// Incidents that were open at some time in [`from`, `to`): opened before `to` and not
    /// ended before `from`; oldest first; those this version cannot read apart, with why.
    pub async fn incidents_touching(&self, from: i64, to: i64) -> Result<Readable> {
        let sql = format!(
            "SELECT {INCIDENT} FROM incidents \
             WHERE opened_at < $2 AND (closed_at IS NULL OR closed_at >= $1) ORDER BY id"
        );
        readable(query::each(self.pool(), &sql, (from, to)).await?)
    }

    /// The source of the incident's earliest item (by publication, else first seen).
    pub async fn incident_first_source(&self, incident: IncidentId) -> Result<Option<String>> {
        // Another source that carried one of its items counts at its own time, after the
        // item's source at the same time (as `notify::spread` orders them).
        Ok(query::optional_scalar(
            self.pool(),
            &format!("SELECT source_id FROM ({CARRIERS}) t ORDER BY at, id, k, source_id LIMIT 1"),
            (incident,),
        )
        .await?)
    }

    /// How many items, and from how many sources (those that found them after another source
    /// included), an incident holds.
    pub async fn incident_spread(&self, incident: IncidentId) -> Result<(i64, i64)> {
        let (items, sources): (i64, i64) = query::one(
            self.pool(),
            &format!(
                "SELECT (SELECT COUNT(*) FROM incident_items WHERE incident_id = $1), \
                        COUNT(DISTINCT source_id) FROM ({CARRIERS}) t"
            ),
            (incident,),
        )
        .await?;
        Ok((items, sources))
    }
}

/// The items of incident `$1` as an [`ItemRow`](super::ItemRow) reads them, `rest` (more
/// conditions on `i`, the order, a page) after the condition.
fn items_of_incident(rest: &str) -> String {
    format!(
        "SELECT {} FROM items i JOIN incident_items ii ON ii.item_id = i.id \
         WHERE ii.incident_id = $1 {rest}",
        super::items::COLUMNS_OF_I
    )
}

/// Every source that carried an item of incident `$1`, and when: the item's own source at
/// the item's time (`k` 0), and each source that found it after another at its own time
/// (`k` 1, a sighting). `id` is the item's.
const CARRIERS: &str = "\
    SELECT i.source_id, COALESCE(i.published_at, i.fetched_at) AS at, i.id, 0 AS k \
    FROM incident_items ii JOIN items i ON i.id = ii.item_id WHERE ii.incident_id = $1 \
    UNION ALL \
    SELECT s.source_id, COALESCE(s.published_at, s.seen_at), s.item_id, 1 \
    FROM incident_items ii JOIN item_sightings s ON s.item_id = ii.item_id \
    WHERE ii.incident_id = $1";

/// The record of actions of `incident`, oldest first, on `ex` (the pool, or a transaction
/// that is writing more).
pub(super) async fn actions<'c>(
    ex: impl Executor<'c, Database = Any>,
    incident: IncidentId,
) -> Result<Vec<Action>> {
    Ok(query::all(
        ex,
        "SELECT at, actor, action, detail FROM actions WHERE incident_id = $1 ORDER BY at, id",
        (incident,),
    )
    .await?)
}

/// Items as a page or a mail that shows what it can reads them: the rows this version can
/// read, and the ids of those it cannot (a value written by a newer version) with why.
pub type ReadableItems = (Vec<super::ItemRow>, Vec<(i64, String)>);

/// Incidents as a list that shows what it can reads them: the rows this version can read,
/// and the ids of those it cannot (a value written by a newer version) with why.
pub type Readable = (Vec<IncidentRow>, Vec<(IncidentId, String)>);

fn readable((read, unread): (Vec<IncidentRow>, Vec<(i64, String)>)) -> Result<Readable> {
    let unread = unread.into_iter().map(|(id, why)| (IncidentId(id), why));
    Ok((read, unread.collect()))
}

/// The incidents, newest first; only those still being handled unless `include_closed`.
fn incidents_sql(include_closed: bool) -> String {
    let filter = if include_closed {
        String::new()
    } else {
        // Answered by the partial index `incidents_active`.
        format!("WHERE {ACTIVE}")
    };
    format!("SELECT {INCIDENT} FROM incidents {filter} ORDER BY id DESC")
}
