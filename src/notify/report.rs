//! Reports for the agency's assessment (考核): each incident, its clock start, each deadline,
//! when it was met, and whether it was met or missed and by how much.

use crate::store::{DeadlineRow, IncidentRow};
use crate::vocab::clock::from_secs;
use crate::vocab::clock::local;
use crate::vocab::ids::IncidentId;
use crate::vocab::span::zh_span;
use crate::vocab::state::{CancelledBy, DeadlineKind, DeadlineState, IncidentStatus};
use crate::vocab::text::one_line;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;

/// One line of the report: one deadline of one incident.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub incident: i64,
    /// The incident's title: what happened, as every list names it.
    pub title: String,
    pub topic: String,
    pub severity: String,
    pub opened: String,
    /// How long after opening it was acknowledged (确认用时), or 未确认.
    pub acknowledged: String,
    pub clock_start: String,
    pub deadline: String,
    pub due: String,
    pub met: String,
    pub outcome: String,
    /// The incident's state (立案/已确认/…/已结案/已并入 #N/误报).
    pub state: String,
    /// Dismissed as a false positive: listed apart, never counted as unmet.
    pub dismissed: bool,
    /// Dismissed after this deadline was already missed (超时后认定误报): listed apart
    /// from both the counted lines and the plain false positives.
    pub dismissed_late: bool,
}

pub const HEADER: [&str; 12] = [
    "事件编号",
    "标题",
    "专题",
    "级别",
    "立案时间",
    "确认用时",
    "计时起点",
    "时限",
    "截止时间",
    "完成时间",
    "结果",
    "事件状态",
];

impl Line {
    /// The fields in the order of [`HEADER`].
    pub fn record(&self) -> [String; 12] {
        [
            format!("#{}", self.incident),
            self.title.clone(),
            self.topic.clone(),
            self.severity.clone(),
            self.opened.clone(),
            self.acknowledged.clone(),
            self.clock_start.clone(),
            self.deadline.clone(),
            self.due.clone(),
            self.met.clone(),
            self.outcome.clone(),
            self.state.clone(),
        ]
    }

    /// [`Line::record`] for a CSV file: a title from the web that begins like a formula
    /// (`=`, `+`, `-`, `@`) is not run by the spreadsheet that opens it.
    pub fn csv_record(&self) -> [String; 12] {
        let mut r = self.record();
        r[1] = crate::notify::duty_mail::spreadsheet_safe(&r[1]);
        r
    }
}

/// What a report says of incidents it cannot read, above its table: they are not counted.
pub const UNREADABLE: &str = "本报表不完整：以下事件的记录无法读取（可能由较新版本写入），未计入统计；请联系运维修复后重新查看或导出。";

/// The row of an incident the report cannot read (`why`), in the order of [`HEADER`]: its
/// number, and in place of its title that it is not counted and why; so that an exported
/// file shows the gap instead of a list that looks complete.
pub fn unreadable_record(id: IncidentId, why: &str) -> [String; 12] {
    let mut r: [String; 12] = Default::default();
    r[0] = format!("#{id}");
    r[1] = format!("（记录无法读取，未计入：{}）", one_line(why, 200));
    r[10] = "无法读取".to_string();
    r
}

/// The outcome of deadline `d` of incident `i` as of `now`, in the report's words: met on
/// time or late by, cancelled (by a regrade, or a merge into #N), pending, or missed by —
/// an ended incident's unmet deadline counted to its close ("结案时已超时 55秒").
pub fn outcome_of(i: &IncidentRow, d: &DeadlineRow, now: DateTime<Utc>) -> String {
    let zero = chrono::Duration::zero();
    match d.state(i, now) {
        DeadlineState::Met {
            late_by, early_by, ..
        } if late_by == zero => {
            format!("按时完成（提前 {}）", zh_span(early_by))
        }
        DeadlineState::Met { late_by, .. } => format!("超时完成（超时 {}）", zh_span(late_by)),
        DeadlineState::Cancelled {
            by: CancelledBy::Merge(into),
        } => format!("因并入 #{into} 取消"),
        DeadlineState::Cancelled {
            by: CancelledBy::Regrade,
        } => "因级别调整取消".to_string(),
        DeadlineState::Cancelled {
            by: CancelledBy::Dismissal,
        } => match overdue_when_dismissed(i, d) {
            Some(by) => format!(
                "超时后认定误报（认定时已超时 {}，{} 认定）",
                zh_span(by),
                i.closed_by.as_deref().unwrap_or("未记录")
            ),
            None => "误报撤销（不计入考核）".to_string(),
        },
        DeadlineState::Missed { overdue_by, ended } => {
            let when = if ended { "结案时" } else { "" };
            if overdue_by == zero {
                format!("未完成（{when}已到期）")
            } else {
                format!("未完成（{when}已超时 {}）", zh_span(overdue_by))
            }
        }
        DeadlineState::Unmet { left } => format!("未完成（结案时剩余 {}）", zh_span(left)),
        DeadlineState::Pending { left } => format!("进行中（剩余 {}）", zh_span(left)),
    }
}

/// How long deadline `d` was already overdue when its incident `i` was dismissed as a false
/// positive; `None` when it was not (or the incident was not dismissed). Such a deadline is
/// not hidden by the dismissal: the report lists it apart as 超时后认定误报 with who
/// decided, and the briefing shows it among the deadlines missed (issue 28).
pub fn overdue_when_dismissed(i: &IncidentRow, d: &DeadlineRow) -> Option<chrono::Duration> {
    let cancelled = d.cancelled_at?;
    let by_dismissal = i.status == IncidentStatus::Dismissed
        && d.met_at.is_none()
        && cancelled >= i.closed_at.unwrap_or(cancelled);
    (by_dismissal && cancelled > d.due_at).then(|| from_secs(cancelled) - from_secs(d.due_at))
}

/// The on-time rate per kind of deadline, as the report's last line says it:
/// `按时完成率：发布权威信息 1/2（50%）；回应社会关切 3/3（100%）`. Counted are the deadlines
/// that were met, or are overdue; not those still running, cancelled, or of a false
/// positive.
pub fn on_time_summary(
    incidents: &[(IncidentRow, Vec<DeadlineRow>)],
    now: DateTime<Utc>,
) -> String {
    let mut per: Vec<(DeadlineKind, usize, usize)> = Vec::new();
    for (i, deadlines) in incidents {
        for d in deadlines {
            let on_time = match d.state(i, now) {
                DeadlineState::Met { late_by, .. } => late_by.is_zero(),
                DeadlineState::Missed { .. } => false,
                _ => continue,
            };
            match per.iter_mut().find(|(k, _, _)| *k == d.kind) {
                Some((_, met, all)) => {
                    *met += usize::from(on_time);
                    *all += 1;
                }
                None => per.push((d.kind, usize::from(on_time), 1)),
            }
        }
    }
    if per.is_empty() {
        return "按时完成率：无已到期或已完成的时限".to_string();
    }
    per.sort_by_key(|(k, _, _)| *k as u8);
    let parts: Vec<String> = per
        .iter()
        .map(|(k, met, all)| format!("{} {met}/{all}（{}%）", k.zh(), met * 100 / all))
        .collect();
    format!("按时完成率：{}", parts.join("；"))
}

/// An incident's state in Chinese, for reports and listings.
pub fn state_zh(i: &IncidentRow) -> String {
    match i.status {
        IncidentStatus::Open => "待确认".to_string(),
        IncidentStatus::Acknowledged => "已确认".to_string(),
        IncidentStatus::Released => "已发布/已回应".to_string(),
        IncidentStatus::PressConference => "已召开发布会".to_string(),
        IncidentStatus::Monitoring => "监测中".to_string(),
        IncidentStatus::Closed => "已结案".to_string(),
        IncidentStatus::Merged => format!("已并入 #{}", i.merged_into.map_or(0, |m| m.0)),
        IncidentStatus::Dismissed => "误报".to_string(),
    }
}

/// The report lines of `incidents` with their deadlines; false positives (误报) last.
pub fn lines(
    incidents: &[(IncidentRow, Vec<DeadlineRow>)],
    now: DateTime<Utc>,
    tz: Tz,
) -> Vec<Line> {
    let mut out = Vec::new();
    for (i, deadlines) in incidents {
        let severity = i.severity.zh().to_string();
        for d in deadlines {
            out.push(Line {
                incident: i.id.0,
                title: i.title.clone(),
                topic: i.topic_name.clone(),
                severity: severity.clone(),
                opened: local(from_secs(i.opened_at), tz),
                acknowledged: match i.acknowledged_at {
                    Some(at) => zh_span(from_secs(at) - from_secs(i.opened_at)),
                    None => "未确认".to_string(),
                },
                clock_start: local(from_secs(i.clock_start), tz),
                deadline: format!("{}{}", d.what(), d.uncertain_note()),
                due: local(from_secs(d.due_at), tz),
                met: d
                    .met_at
                    .map(|t| local(from_secs(t), tz))
                    .unwrap_or_default(),
                outcome: outcome_of(i, d, now),
                state: state_zh(i),
                dismissed: i.status == IncidentStatus::Dismissed,
                dismissed_late: overdue_when_dismissed(i, d).is_some(),
            });
        }
    }
    // Stable: the incidents keep their order within each group. Counted lines first, then
    // the false positives decided after a deadline was missed, then the other false
    // positives.
    out.sort_by_key(|l| (l.dismissed, !l.dismissed_late));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The outcome of `d` of an incident still being handled.
    fn outcome(d: &DeadlineRow, now: DateTime<Utc>) -> String {
        outcome_of(&incident("open", None, None), d, now)
    }

    fn dl(due: i64, met: Option<i64>, cancelled: Option<i64>) -> DeadlineRow {
        DeadlineRow {
            met_at: met,
            cancelled_at: cancelled,
            ..crate::notify::fixtures::deadline(1, 1, DeadlineKind::Release, due)
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
            topic_id: "scenic".into(),
            title: "某景区栈道坍塌 多名游客受伤".into(),
            status: status.parse().unwrap(),
            closed_at,
            closed_by: closed_at.map(|_| "duty".into()),
            merged_into: merged_into.map(crate::vocab::ids::IncidentId),
            ..crate::notify::fixtures::incident(2, 0)
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
            "按时完成（提前 16分40秒）"
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
