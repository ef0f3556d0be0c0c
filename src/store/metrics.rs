//! The counts behind the Prometheus gauges: open incidents, unmet deadlines.

use super::incidents::{active_ids, ACTIVE, RUNNING};
use super::query;
use super::Store;
use anyhow::Result;

/// An unmet deadline of an incident that is not closed.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct UnmetDeadline {
    pub kind: crate::vocab::state::DeadlineKind,
    pub due_at: i64,
}

impl Store {
    /// Incidents still being handled (neither closed nor merged), by severity.
    pub async fn open_incidents_by_severity(&self) -> Result<Vec<(String, i64)>> {
        Ok(query::all(
            self.pool(),
            &format!(
                "SELECT severity, COUNT(*) FROM incidents WHERE {ACTIVE} \
                 GROUP BY severity ORDER BY severity"
            ),
            (),
        )
        .await?)
    }

    /// Deadlines neither met nor cancelled, of incidents not closed.
    pub async fn unmet_deadlines(&self) -> Result<Vec<UnmetDeadline>> {
        Ok(query::all(
            self.pool(),
            &format!(
                "SELECT kind, due_at FROM deadlines \
                 WHERE {RUNNING} AND incident_id IN {} ORDER BY due_at",
                active_ids()
            ),
            (),
        )
        .await?)
    }
}
