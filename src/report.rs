//! Reports for the agency's assessment (考核): each incident, its clock start, each deadline,
//! when it was met, and whether it was met or missed and by how much.

use crate::clock::from_secs;
use crate::deadline::zh_span;
use crate::mail::local;
use crate::severity::Severity;
use crate::store::{DeadlineRow, IncidentRow};
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
                    crate::mail::deadline_what(d),
                    crate::mail::uncertain_note(d)
                ),
                due: local(from_secs(d.due_at), tz),
                met: d
                    .met_at
                    .map(|t| local(from_secs(t), tz))
                    .unwrap_or_default(),
                outcome: match (i.merged_into, d.met_at, d.cancelled_at) {
                    (Some(into), None, Some(_)) => format!("因并入 #{into} 取消"),
                    _ => outcome(d, now),
                },
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
}
