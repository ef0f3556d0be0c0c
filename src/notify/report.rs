//! Reports for the agency's assessment (考核): each incident, its clock start, each deadline,
//! when it was met, and whether it was met or missed and by how much.

use crate::notify::mail::local;
use crate::rules::deadline::zh_span;
use crate::store::{DeadlineRow, IncidentRow};
use crate::vocab::clock::from_secs;
use crate::vocab::severity::Severity;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;

/// One line of the report: one deadline of one incident.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub incident: i64,
    pub topic: String,
    pub severity: String,
    pub opened: String,
    pub clock_start: String,
    pub deadline: String,
    pub due: String,
    pub met: String,
    pub outcome: String,
    /// The incident's state (立案/已确认/…/已结案/已并入 #N).
    pub state: String,
}

pub const HEADER: [&str; 10] = [
    "事件编号",
    "专题",
    "级别",
    "立案时间",
    "计时起点",
    "时限",
    "截止时间",
    "完成时间",
    "结果",
    "事件状态",
];

impl Line {
    /// The fields in the order of [`HEADER`].
    pub fn record(&self) -> [String; 10] {
        [
            format!("#{}", self.incident),
            self.topic.clone(),
            self.severity.clone(),
            self.opened.clone(),
            self.clock_start.clone(),
            self.deadline.clone(),
            self.due.clone(),
            self.met.clone(),
            self.outcome.clone(),
            self.state.clone(),
        ]
    }
}

/// The outcome of a deadline as of `now`: met on time, met late by, missed by, pending.
pub fn outcome(d: &DeadlineRow, now: DateTime<Utc>) -> String {
    let due = from_secs(d.due_at);
    match (d.met_at.map(from_secs), d.cancelled_at) {
        (Some(met), _) if met <= due => format!("按时完成（提前 {}）", zh_span(due - met)),
        (Some(met), _) => format!("超时完成（超时 {}）", zh_span(met - due)),
        (None, Some(_)) => "因级别调整取消".to_string(),
        (None, None) if now == due => "未完成（已到期）".to_string(),
        (None, None) if now > due => format!("未完成（已超时 {}）", zh_span(now - due)),
        (None, None) => format!("进行中（剩余 {}）", zh_span(due - now)),
    }
}

/// When a closed or merged incident stopped counting; `None` while it is active. An unmet
/// deadline of an ended incident is overdue by the time to its close, not to today.
pub fn ended_at(i: &IncidentRow) -> Option<DateTime<Utc>> {
    match i.status.as_str() {
        "closed" | "merged" => i.closed_at.map(from_secs),
        _ => None,
    }
}

/// The incident `d` was merged into when the merge cancelled `d` (a deadline cancelled
/// earlier, by a regrade, keeps that reason).
pub fn merged_cancel(i: &IncidentRow, d: &DeadlineRow) -> Option<i64> {
    match (i.merged_into, d.met_at, d.cancelled_at) {
        (Some(into), None, Some(c)) if c >= i.closed_at.unwrap_or(c) => Some(into),
        _ => None,
    }
}

/// The outcome of deadline `d` of incident `i`: as [`outcome`], but a merged incident's
/// cancelled deadline says so, and an ended incident's unmet deadline is counted to its
/// close ("结案时已超时 55秒").
pub fn outcome_of(i: &IncidentRow, d: &DeadlineRow, now: DateTime<Utc>) -> String {
    if let Some(into) = merged_cancel(i, d) {
        return format!("因并入 #{into} 取消");
    }
    match (ended_at(i), d.met_at, d.cancelled_at) {
        (Some(end), None, None) => {
            let due = from_secs(d.due_at);
            if end > due {
                format!("未完成（结案时已超时 {}）", zh_span(end - due))
            } else if end == due {
                "未完成（结案时已到期）".to_string()
            } else {
                format!("未完成（结案时剩余 {}）", zh_span(due - end))
            }
        }
        _ => outcome(d, now),
    }
}

/// An incident's state in Chinese, for reports and listings.
pub fn state_zh(i: &IncidentRow) -> String {
    match i.status.as_str() {
        "open" => "待确认".to_string(),
        "acknowledged" => "已确认".to_string(),
        "released" => "已发布/已回应".to_string(),
        "press_conference" => "已召开发布会".to_string(),
        "monitoring" => "监测中".to_string(),
        "closed" => "已结案".to_string(),
        "merged" => format!("已并入 #{}", i.merged_into.unwrap_or(0)),
        other => other.to_string(),
    }
}

/// The report lines of `incidents` with their deadlines.
pub fn lines(
    incidents: &[(IncidentRow, Vec<DeadlineRow>)],
    now: DateTime<Utc>,
    tz: Tz,
) -> Vec<Line> {
    let mut out = Vec::new();
    for (i, deadlines) in incidents {
        let severity = i
            .severity
            .parse::<Severity>()
            .map(|s| s.zh().to_string())
            .unwrap_or_else(|_| i.severity.clone());
        for d in deadlines {
            out.push(Line {
                incident: i.id,
                topic: i.topic_name.clone(),
                severity: severity.clone(),
                opened: local(from_secs(i.opened_at), tz),
                clock_start: local(from_secs(i.clock_start), tz),
                deadline: format!(
                    "{}{}",
                    crate::notify::mail::deadline_what(d),
                    crate::notify::mail::uncertain_note(d)
                ),
                due: local(from_secs(d.due_at), tz),
                met: d
                    .met_at
                    .map(|t| local(from_secs(t), tz))
                    .unwrap_or_default(),
                outcome: outcome_of(i, d, now),
                state: state_zh(i),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dl(due: i64, met: Option<i64>, cancelled: Option<i64>) -> DeadlineRow {
        DeadlineRow {
            id: 1,
            incident_id: 1,
            kind: "release".into(),
            due_at: due,
            met_at: met,
            met_by: None,
            evidence: None,
            cancelled_at: cancelled,
            breach_mailed_at: None,
            reminded_before: None,
            duty: None,
            uncertain: None,
        }
    }

    #[test]
    fn outcomes_say_met_or_missed_and_by_how_much() {
        let now = from_secs(100_000);
        assert_eq!(
            outcome(&dl(90_000, Some(86_400), None), now),
            "按时完成（提前 1小时）"
        );
        assert_eq!(
            outcome(&dl(90_000, Some(91_800), None), now),
            "超时完成（超时 30分钟）"
        );
        assert_eq!(
            outcome(&dl(90_000, None, None), now),
            "未完成（已超时 2小时46分）"
        );
        assert_eq!(
            outcome(&dl(107_200, None, None), now),
            "进行中（剩余 2小时）"
        );
        assert_eq!(outcome(&dl(90_000, None, Some(1)), now), "因级别调整取消");
    }

    fn incident(status: &str, closed_at: Option<i64>, merged_into: Option<i64>) -> IncidentRow {
        IncidentRow {
            id: 2,
            topic_id: "scenic".into(),
            topic_name: "景区安全".into(),
            severity: "major".into(),
            status: status.into(),
            opened_at: 0,
            clock_start: 0,
            first_item_id: 1,
            acknowledged_at: None,
            acknowledged_by: None,
            closed_at,
            closed_by: closed_at.map(|_| "duty".into()),
            monitoring_until: None,
            reopened_at: None,
            merged_into,
            split_from: None,
        }
    }

    #[test]
    fn an_ended_incident_counts_to_its_close_and_says_why_a_deadline_was_cancelled() {
        let a_month_later = from_secs(90_000 + 30 * 86_400);
        let closed = incident("closed", Some(90_055), None);
        assert_eq!(
            outcome_of(&closed, &dl(90_000, None, None), a_month_later),
            "未完成（结案时已超时 55秒）"
        );
        assert_eq!(
            outcome_of(&closed, &dl(97_255, None, None), a_month_later),
            "未完成（结案时剩余 2小时）"
        );
        assert_eq!(
            outcome_of(&closed, &dl(90_000, Some(89_000), None), a_month_later),
            "按时完成（提前 16分钟）"
        );
        let merged = incident("merged", Some(90_055), Some(1));
        assert_eq!(
            outcome_of(&merged, &dl(95_000, None, Some(90_055)), a_month_later),
            "因并入 #1 取消"
        );
        assert_eq!(
            outcome_of(&merged, &dl(95_000, None, Some(80_000)), a_month_later),
            "因级别调整取消",
            "regraded before the merge"
        );
        let active = incident("acknowledged", None, None);
        assert_eq!(
            outcome_of(&active, &dl(90_000, None, None), from_secs(90_120)),
            "未完成（已超时 2分钟）"
        );
    }
}
