//! The rows the notifiers' unit tests read: one open incident and one running deadline,
//! each test changing only the fields its story is about (`..fixtures::incident(…)`).

use crate::store::{DeadlineRow, IncidentRow};
use crate::vocab::ids::IncidentId;
use crate::vocab::severity::Severity;
use crate::vocab::state::{DeadlineKind, IncidentStatus};

/// Incident `id` of topic 景区安全, 重大, open since `opened` (UTC seconds), whose clock
/// started then; nobody has acknowledged it.
pub fn incident(id: i64, opened: i64) -> IncidentRow {
    IncidentRow {
        id: IncidentId(id),
        topic_id: "scenic-safety".into(),
        topic_name: "景区安全".into(),
        title: format!("第 {id} 起事件"),
        severity: Severity::Major,
        status: IncidentStatus::Open,
        opened_at: opened,
        clock_start: opened,
        first_item_id: 1,
        acknowledged_at: None,
        acknowledged_by: None,
        closed_at: None,
        closed_by: None,
        monitoring_until: None,
        reopened_at: None,
        merged_into: None,
        split_from: None,
        surged_at: None,
    }
}

/// Deadline `id` of incident `incident`: `kind`, due at `due` (UTC seconds), neither met nor
/// cancelled.
pub fn deadline(id: i64, incident: i64, kind: DeadlineKind, due: i64) -> DeadlineRow {
    DeadlineRow {
        id,
        incident_id: IncidentId(incident),
        kind,
        due_at: due,
        met_at: None,
        met_by: None,
        evidence: None,
        cancelled_at: None,
        breach_mailed_at: None,
        reminded_before: None,
        duty: None,
        uncertain: None,
    }
}
