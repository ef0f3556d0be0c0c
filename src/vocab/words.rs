//! The record's words (留痕) in Chinese: one table for the mail, the console and the text
//! output, so that the three never name a step differently.
//!
//! The record keeps codes where the workflow wrote a code (an action, a state, a deadline
//! kind, a regrade `major -> especially_major`) and Chinese where it wrote a sentence.
//! Records written before the sentences were Chinese (`first item 7`, `until …`) are
//! translated here too, so an old database reads the same.

use crate::vocab::action::ActionKind;
use crate::vocab::severity::Severity;
use crate::vocab::state::{DeadlineKind, IncidentStatus};

/// A recorded action in Chinese.
pub fn action_zh(action: ActionKind) -> &'static str {
    match action {
        ActionKind::Opened => "立案",
        ActionKind::Acknowledged => "确认接报",
        ActionKind::Release => "记录发布权威信息",
        ActionKind::Response => "记录回应",
        ActionKind::Obligation => "记录履行时限义务",
        ActionKind::PressConference => "记录召开新闻发布会",
        ActionKind::Severity => "调整级别",
        ActionKind::Note => "备注",
        ActionKind::Title => "修改标题",
        ActionKind::State => "状态变为",
        ActionKind::Escalated => "通报领导",
        ActionKind::Closed => "结案",
        ActionKind::Merged => "合并",
        ActionKind::Split => "拆分",
        ActionKind::Monitoring => "进入监测期",
        ActionKind::Reopened => "回温，重新打开",
        ActionKind::Resurgence => "回温",
        ActionKind::Linked => "关联",
        ActionKind::ReleaseCandidate => "发现本单位渠道疑似权威发布",
        ActionKind::Dismissed => "判定误报并撤销",
        ActionKind::ClockStart => "计时起点提前",
    }
}

/// A recorded action's detail in Chinese: codes are named, old English sentences
/// translated, and anything a person wrote (a note, a URL, a reason) kept as written.
pub fn detail_zh(action: ActionKind, detail: &str) -> String {
    // `(from #3) …`: a record copied from a merged incident.
    if let Some(rest) = detail.strip_prefix("(from #") {
        if let Some((n, rest)) = rest.split_once(") ") {
            // `原 #6：首条信息 #4`, not `（原 #6）…`: the detail is shown in brackets
            // already, and brackets in brackets read 立案（（原 #6）首条信息 #4）.
            return format!("原 #{n}：{}", detail_zh(action, rest));
        }
    }
    let item = |s: &str| s.strip_prefix("item ").map(|n| format!("信息 #{n}"));
    match (action, detail) {
        (ActionKind::State, d) => {
            let code = d.split_once(' ').map_or(d, |(c, _)| c);
            let status = code
                .parse::<IncidentStatus>()
                .map_or_else(|_| d.to_string(), |s| s.zh().to_string());
            if d.contains("monitoring ended: new deadline") {
                format!("{status}（监测期内出现新时限）")
            } else {
                status
            }
        }
        (ActionKind::Escalated, d) => d
            .parse::<DeadlineKind>()
            .map(|k| format!("{}未按时完成", k.zh()))
            .unwrap_or_else(|_| match d {
                "unacknowledged" => "逾时无人确认".to_string(),
                other => other.to_string(),
            }),
        (ActionKind::Opened, d) => d
            .strip_prefix("first item ")
            .map(|n| format!("首条信息 #{n}"))
            .unwrap_or_else(|| d.to_string()),
        (ActionKind::Severity, d) => match d.split_once(" -> ") {
            Some((a, b)) => match (a.parse::<Severity>(), b.parse::<Severity>()) {
                (Ok(a), Ok(b)) => format!("{} → {}", a.zh(), b.zh()),
                _ => d.to_string(),
            },
            None => d.to_string(),
        },
        (ActionKind::Acknowledged, "by acting") => "因记录处置而确认".to_string(),
        (ActionKind::Closed, "monitoring ended") => "监测期满".to_string(),
        (ActionKind::Monitoring, d) => d
            .strip_prefix("until ")
            .map(|t| format!("至 {t}"))
            .unwrap_or_else(|| d.to_string()),
        (ActionKind::Resurgence, d) => item(d).unwrap_or_else(|| d.to_string()),
        // `item 12: also opened #4 (景区安全)` / `item 12 also matches 景区安全; merged`
        (ActionKind::Linked, d) => {
            if let Some((n, rest)) = d
                .strip_prefix("item ")
                .and_then(|r| r.split_once(": also opened #"))
            {
                let (other, topic) = rest.split_once(" (").unwrap_or((rest, ""));
                format!(
                    "同一信息 #{n} 亦立案 #{other}（{}），两事件各自计时",
                    topic.trim_end_matches(')')
                )
            } else if let Some((n, rest)) = d
                .strip_prefix("item ")
                .and_then(|r| r.split_once(" also matches "))
            {
                format!(
                    "信息 #{n} 亦命中专题「{}」，按 [grouping] same_item = \"merge\" 并入本事件",
                    rest.trim_end_matches("; merged")
                )
            } else {
                d.to_string()
            }
        }
        (ActionKind::Reopened, d) => match d.split_once(", closed ") {
            Some((i, t)) => format!("{}，原结案于 {t}", item(i).unwrap_or_else(|| i.into())),
            None => d.to_string(),
        },
        (ActionKind::Merged, d) if d.starts_with("into #") => format!("并入 {}", &d[5..]),
        (ActionKind::Merged, d) if d.contains(" merged in (") => {
            // `#4 merged in (3 items); clock start 2026-…`
            let (from, rest) = d.split_once(" merged in (").unwrap_or((d, ""));
            let (n, rest) = rest.split_once(" items)").unwrap_or(("?", rest));
            let start = rest.strip_prefix("; clock start ").unwrap_or(rest);
            format!("{from} 并入（{n} 条信息），计时起点 {start}")
        }
        (ActionKind::Split, d) if d.starts_with("from #") => match d.split_once(": items ") {
            Some((from, list)) => format!("自 {} 拆出信息 {list}", &from[5..]),
            None => d.to_string(),
        },
        (ActionKind::Split, d) if d.starts_with("items ") => match d[6..].split_once(" to ") {
            Some((list, to)) => format!("信息 {list} 拆至 {to}"),
            None => d.to_string(),
        },
        (ActionKind::ClockStart, d) => match d.split_once(" (item ") {
            Some((span, rest)) => {
                let n = rest.trim_end_matches(", published earlier)");
                format!("{}（信息 #{n} 发布更早）", span.replace(" -> ", " → "))
            }
            None => d.replace(" -> ", " → "),
        },
        (_, d) => d.to_string(),
    }
}

/// One line of the record: `立案（首条信息 #7）`, or the action alone without a detail.
pub fn record_zh(action: ActionKind, detail: Option<&str>) -> String {
    let what = action_zh(action);
    match detail.map(|d| detail_zh(action, d)) {
        Some(d) if !d.is_empty() => format!("{what}（{d}）"),
        _ => what.to_string(),
    }
}

/// What a deadline asks: the duty of a working-day obligation (网民留言答复), else the
/// kind's words (发布权威信息). Mail, report, briefing, console and terminal name it so.
pub fn deadline_zh(kind: DeadlineKind, duty: Option<&str>) -> String {
    match duty {
        Some(duty) => duty.to_string(),
        None => kind.zh().to_string(),
    }
}

/// The flag of a working-day deadline counted without calendar data for `years`
/// (comma-separated), empty otherwise.
pub fn uncertain_zh(years: Option<&str>) -> String {
    match years.filter(|u| !u.is_empty()) {
        Some(years) => format!(
            "（日历缺少{}年数据，截止时间按周末推算，请核对）",
            years.replace(',', "、")
        ),
        None => String::new(),
    }
}

/// A source's health word (`store::SourceState::health`) as people read it.
pub fn source_health_zh(state: &str) -> &'static str {
    match state {
        "new" => "尚未读取",
        "unreachable" => "无法访问",
        "silent" => "无新内容",
        _ => "正常",
    }
}

/// A source's items whose filing is held back by a stored row that cannot be read, since
/// `since` (local time, as the caller writes times): the items are stored, and filed (with
/// their alerts) once the row is repaired. The console's sources page and `yuqing
/// sources` say it alike, each with the stored error (English, for the operator who
/// repairs the row) beside it.
pub fn held_back_zh(since: &str) -> String {
    format!(
        "有条目暂未归入事件（自 {since}）：条目已保存，相关事件记录无法读取；\
         请联系运维修复，修复后自动归入"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_old_sentences_read_in_chinese() {
        for (action, detail, zh) in [
            (ActionKind::State, "released", "已发布"),
            (
                ActionKind::State,
                "released (monitoring ended: new deadline)",
                "已发布（监测期内出现新时限）",
            ),
            (ActionKind::Opened, "first item 7", "首条信息 #7"),
            (
                ActionKind::Severity,
                "major -> especially_major",
                "重大 → 特别重大",
            ),
            (ActionKind::Escalated, "release", "发布权威信息未按时完成"),
            (ActionKind::Escalated, "unacknowledged", "逾时无人确认"),
            (
                ActionKind::Monitoring,
                "until 2026-12-01 10:00",
                "至 2026-12-01 10:00",
            ),
            (ActionKind::Acknowledged, "by acting", "因记录处置而确认"),
            (ActionKind::Merged, "into #3", "并入 #3"),
            (
                ActionKind::Merged,
                "#4 merged in (3 items); clock start 2026-11-24 09:00",
                "#4 并入（3 条信息），计时起点 2026-11-24 09:00",
            ),
            (
                ActionKind::Split,
                "from #2: items 5, 6",
                "自 #2 拆出信息 5, 6",
            ),
            (ActionKind::Split, "items 5, 6 to #9", "信息 5, 6 拆至 #9"),
            (
                ActionKind::Reopened,
                "item 12, closed 2026-11-20 08:00",
                "信息 #12，原结案于 2026-11-20 08:00",
            ),
            (
                ActionKind::ClockStart,
                "11-24 09:00 -> 11-23 21:00 (item 8, published earlier)",
                "11-24 09:00 → 11-23 21:00（信息 #8 发布更早）",
            ),
            (ActionKind::Note, "(from #3) 请跟进", "原 #3：请跟进"),
            // What a person wrote stays as written, English included.
            (
                ActionKind::Note,
                "call back re release",
                "call back re release",
            ),
        ] {
            assert_eq!(detail_zh(action, detail), zh, "{action:?} {detail:?}");
        }
        assert_eq!(
            record_zh(ActionKind::Opened, Some("first item 7")),
            "立案（首条信息 #7）"
        );
    }
}
