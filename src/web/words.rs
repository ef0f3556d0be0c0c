//! What the console adds to the domain's words (`vocab`: status, severity, actions, spans,
//! all in Chinese): a severity's colour, a countdown and its colour, a time ago.

use crate::store::DeadlineRow;
use crate::vocab::clock::{from_secs, secs};
use crate::vocab::severity::Severity;
use crate::vocab::span::zh_span;
use chrono::{DateTime, Utc};

/// CSS class of a severity: `sev-1` (特别重大) … `sev-4` (一般).
pub fn severity_class(s: Severity) -> &'static str {
    match s {
        Severity::EspeciallyMajor => "sev-1",
        Severity::Major => "sev-2",
        Severity::Large => "sev-3",
        Severity::Ordinary => "sev-4",
    }
}

/// Neither met nor cancelled.
pub fn is_open(d: &DeadlineRow) -> bool {
    d.met_at.is_none() && d.cancelled_at.is_none()
}

/// The countdown's colour: `ok`, `soon` (under an hour left) or `overdue`.
pub fn urgency(due: i64, now: DateTime<Utc>) -> &'static str {
    let left = due - secs(now);
    if left < 0 {
        "overdue"
    } else if left < 3600 {
        "soon"
    } else {
        "ok"
    }
}

/// The countdown as the script writes it too: `剩余 4:59:30`, `已超时 0:05:00`, with days
/// as `1天 02:03:04`.
pub fn countdown(due: i64, now: DateTime<Utc>) -> String {
    let left = due - secs(now);
    let s = left.abs();
    let (d, h, m, sec) = (s / 86_400, s % 86_400 / 3600, s % 3600 / 60, s % 60);
    let clock = if d > 0 {
        format!("{d}天 {h:02}:{m:02}:{sec:02}")
    } else {
        format!("{h}:{m:02}:{sec:02}")
    };
    if left < 0 {
        format!("已超时 {clock}")
    } else {
        format!("剩余 {clock}")
    }
}

pub use crate::vocab::words::{action_zh, detail_zh};

/// "3小时20分前" for a past time.
pub fn ago(t: i64, now: DateTime<Utc>) -> String {
    format!("{}前", zh_span(now - from_secs(t)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn countdowns_read_as_the_script_writes_them() {
        let now = Utc.with_ymd_and_hms(2026, 11, 24, 1, 0, 0).unwrap();
        let t = secs(now);
        assert_eq!(countdown(t + 5 * 3600, now), "剩余 5:00:00");
        assert_eq!(countdown(t - 300, now), "已超时 0:05:00");
        assert_eq!(countdown(t + 86_400 + 61, now), "剩余 1天 00:01:01");
        assert_eq!(urgency(t + 3600, now), "ok");
        assert_eq!(urgency(t + 3599, now), "soon");
        assert_eq!(urgency(t - 1, now), "overdue");
    }
}
