//! The incident lifecycle after the response: state changes, monitoring, resurgence
//! (回温), merge and split, working-day obligations.

use super::incidents::{actions, active_ids, ACTIVE, INCIDENT, RUNNING};
use super::query;
use super::{IncidentRow, Store, Tx};
use crate::vocab::action::ActionKind;
use crate::vocab::ids::IncidentId;
use anyhow::Result;
use sqlx::{Any, Executor};

impl Store {
    /// Incidents of `topic_id` an item may belong to: the active ones, and the ones closed
    /// at or after `closed_since` (a resurgence reopens those). Newest first.
    pub async fn grouping_candidates(
        &self,
        tx: &mut Tx,
        topic_id: &str,
        closed_since: i64,
    ) -> Result<Vec<IncidentRow>> {
        Ok(query::all(
            &mut **tx,
            &format!(
                "SELECT {INCIDENT} FROM incidents WHERE topic_id = $1 \
                   AND ({ACTIVE} OR (status IN ('closed', 'dismissed') AND closed_at >= $2)) \
                 ORDER BY id DESC"
            ),
            (topic_id, closed_since),
        )
        .await?)
    }

    /// Moves an active incident to `status` (any short of closed) and records the change
    /// in its record (留痕), by whom, when and why (`detail`).
    pub async fn set_status(
        &self,
        tx: &mut Tx,
        incident: IncidentId,
        status: crate::vocab::state::IncidentStatus,
        now: i64,
        by: &str,
        detail: &str,
    ) -> Result<()> {
        query::execute(
            &mut **tx,
            &format!("UPDATE incidents SET status = $2 WHERE id = $1 AND {ACTIVE}"),
            (incident, status),
        )
        .await?;
        self.record_action(tx, incident, now, by, ActionKind::State, Some(detail))
            .await
    }

    /// Starts monitoring until `until`; false when already monitoring or not active.
    pub async fn start_monitoring(
        &self,
        tx: &mut Tx,
        incident: IncidentId,
        until: i64,
    ) -> Result<bool> {
        let done = query::execute(
            &mut **tx,
            &format!(
                "UPDATE incidents SET status = 'monitoring', monitoring_until = $2 \
                 WHERE id = $1 AND status <> 'monitoring' AND {ACTIVE}"
            ),
            (incident, until),
        )
        .await?;
        Ok(done > 0)
    }

    /// Monitoring incidents whose monitoring period ended at or before `now`.
    pub async fn monitoring_ended<'c>(
        &self,
        ex: impl Executor<'c, Database = Any>,
        now: i64,
    ) -> Result<Vec<IncidentId>> {
        Ok(query::scalars(
            ex,
            "SELECT id FROM incidents WHERE status = 'monitoring' AND monitoring_until <= $1 \
             ORDER BY id",
            (now,),
        )
        .await?)
    }

    /// A closed incident live again after a resurgence: it must be acknowledged again, and
    /// the unacknowledged rule counts from now.
    pub async fn reopen(&self, tx: &mut Tx, incident: IncidentId, now: i64) -> Result<()> {
        query::execute(
            &mut **tx,
            "UPDATE incidents SET status = 'open', closed_at = NULL, closed_by = NULL, \
                    acknowledged_at = NULL, acknowledged_by = NULL, monitoring_until = NULL, \
                    unack_mailed_at = NULL, reopened_at = $2, resurged_at = $2 \
             WHERE id = $1 AND status = 'closed'",
            (incident, now),
        )
        .await?;
        Ok(())
    }

    /// Marks a resurgence as mailed; false when one already was since monitoring began
    /// (`since`), so a wave of items mails 回温 once and then joins the new-items batches.
    pub async fn mark_resurged(
        &self,
        tx: &mut Tx,
        incident: IncidentId,
        since: i64,
        now: i64,
    ) -> Result<bool> {
        let done = query::execute(
            &mut **tx,
            "UPDATE incidents SET resurged_at = $3 \
             WHERE id = $1 AND (resurged_at IS NULL OR resurged_at < $2)",
            (incident, since, now),
        )
        .await?;
        Ok(done > 0)
    }

    /// When the incident's current monitoring period began (its last response duty met).
    pub async fn last_met_at(&self, tx: &mut Tx, incident: IncidentId) -> Result<Option<i64>> {
        let at: Option<i64> = query::scalar(
            &mut **tx,
            "SELECT MAX(met_at) FROM deadlines WHERE incident_id = $1",
            (incident,),
        )
        .await?;
        Ok(at)
    }

    /// Deadlines still running (neither met nor cancelled).
    pub async fn open_deadline_count(&self, tx: &mut Tx, incident: IncidentId) -> Result<i64> {
        let n: i64 = query::scalar(
            &mut **tx,
            &format!("SELECT COUNT(*) FROM deadlines WHERE incident_id = $1 AND {RUNNING}"),
            (incident,),
        )
        .await?;
        Ok(n)
    }

    /// Sets the due time of a deadline after a merge or split moved the clock start. A
    /// deadline already met moves too, so that met or missed is judged against the
    /// incident's clock as it now stands; one still running is reminded afresh.
    pub async fn reschedule_deadline(
        &self,
        tx: &mut Tx,
        incident: IncidentId,
        kind: crate::vocab::state::DeadlineKind,
        due_at: i64,
    ) -> Result<()> {
        query::execute(
            &mut **tx,
            "UPDATE deadlines SET due_at = $3, \
               reminded_before = CASE WHEN met_at IS NULL THEN NULL ELSE reminded_before END \
             WHERE incident_id = $1 AND kind = $2 AND cancelled_at IS NULL",
            (incident, kind, due_at),
        )
        .await?;
        Ok(())
    }

    /// Adds a working-day obligation's deadline with its duty and uncertain years.
    pub async fn insert_obligation(
        &self,
        tx: &mut Tx,
        incident: IncidentId,
        due_at: i64,
        duty: &str,
        uncertain: Option<&str>,
    ) -> Result<()> {
        query::execute(
            &mut **tx,
            "INSERT INTO deadlines (incident_id, kind, due_at, duty, uncertain) \
             VALUES ($1, 'obligation', $2, $3, $4) ON CONFLICT (incident_id, kind) DO NOTHING",
            (incident, due_at, duty, uncertain),
        )
        .await?;
        Ok(())
    }

    pub async fn set_clock_start(
        &self,
        tx: &mut Tx,
        incident: IncidentId,
        start: i64,
    ) -> Result<()> {
        query::execute(
            &mut **tx,
            "UPDATE incidents SET clock_start = $2 WHERE id = $1",
            (incident, start),
        )
        .await?;
        Ok(())
    }

    /// Moves items from one incident to another (merge, split); the first item of the
    /// source becomes its oldest remaining one.
    /// Moves `items` of incident `from` into `to`; returns how many were not already in
    /// `to` (an item in both is only taken out of `from`).
    pub async fn move_items(
        &self,
        tx: &mut Tx,
        from: IncidentId,
        to: IncidentId,
        items: &[i64],
    ) -> Result<usize> {
        let mut moved = 0;
        for item in items {
            moved += query::execute(
                &mut **tx,
                "UPDATE incident_items SET incident_id = $2 WHERE incident_id = $1 AND item_id = $3 \
                   AND NOT EXISTS (SELECT 1 FROM incident_items x WHERE x.incident_id = $2 \
                                   AND x.item_id = $3)",
                (from, to, item),
            )
            .await? as usize;
            query::execute(
                &mut **tx,
                "DELETE FROM incident_items WHERE incident_id = $1 AND item_id = $2",
                (from, item),
            )
            .await?;
        }
        query::execute(
            &mut **tx,
            "UPDATE incidents SET first_item_id = COALESCE( \
               (SELECT MIN(item_id) FROM incident_items WHERE incident_id = $1), first_item_id) \
             WHERE id = $1",
            (from,),
        )
        .await?;
        Ok(moved)
    }

    /// Ends an incident merged into `into`: its running deadlines are cancelled.
    pub async fn mark_merged(
        &self,
        tx: &mut Tx,
        incident: IncidentId,
        into: IncidentId,
        now: i64,
        by: &str,
    ) -> Result<()> {
        query::execute(
            &mut **tx,
            "UPDATE incidents SET status = 'merged', merged_into = $2, closed_at = $3, \
                    closed_by = $4 WHERE id = $1",
            (incident, into, now, by),
        )
        .await?;
        self.cancel_running_deadlines(tx, incident, now).await
    }

    /// Copies the record of actions of `from` into `to`, each marked with its origin.
    pub async fn copy_actions(&self, tx: &mut Tx, from: IncidentId, to: IncidentId) -> Result<()> {
        for a in actions(&mut **tx, from).await? {
            let detail = format!("(from #{from}) {}", a.detail.unwrap_or_default());
            self.record_action(tx, to, a.at, &a.actor, a.action, Some(detail.trim_end()))
                .await?;
        }
        Ok(())
    }

    pub async fn set_split_from(
        &self,
        tx: &mut Tx,
        incident: IncidentId,
        from: IncidentId,
    ) -> Result<()> {
        query::execute(
            &mut **tx,
            "UPDATE incidents SET split_from = $2 WHERE id = $1",
            (incident, from),
        )
        .await?;
        Ok(())
    }

    /// The record of actions, in a transaction (for mail written with the change).
    pub async fn actions_in(
        &self,
        tx: &mut Tx,
        incident: IncidentId,
    ) -> Result<Vec<super::Action>> {
        actions(&mut **tx, incident).await
    }

    /// Running working-day deadlines of active incidents counted without calendar data:
    /// (incident, duty, due, years), for `yuqing check`.
    pub async fn uncertain_deadlines(&self) -> Result<Vec<(i64, String, i64, String)>> {
        Ok(query::all(
            self.pool(),
            &format!(
                "SELECT incident_id, COALESCE(duty, kind), due_at, uncertain FROM deadlines \
                 WHERE uncertain IS NOT NULL AND uncertain <> '' AND {RUNNING} \
                   AND incident_id IN {} ORDER BY due_at",
                active_ids()
            ),
            (),
        )
        .await?)
    }
}
