//! Spans of time as people read them: `3小时20分` in mail and reports, `1h20m` in the
//! terminal's English output.

use chrono::{DateTime, Duration, Utc};

/// "3小时20分" for a span of time, as mail shows it; never negative. Under an hour it is
/// exact to the second ("1分30秒"); from an hour on, seconds are left out (minutes are
/// what a person acts on), and from a day on, minutes too.
pub fn zh_span(d: Duration) -> String {
    let secs = d.num_seconds().max(0);
    let (days, hours, mins, s) = (
        secs / 86_400,
        secs % 86_400 / 3600,
        secs % 3600 / 60,
        secs % 60,
    );
    match (days, hours, mins, s) {
        (0, 0, 0, s) => format!("{s}秒"),
        (0, 0, m, 0) => format!("{m}分钟"),
        (0, 0, m, s) => format!("{m}分{s}秒"),
        (0, h, 0, _) => format!("{h}小时"),
        (0, h, m, _) => format!("{h}小时{m}分"),
        (d, 0, _, _) => format!("{d}天"),
        (d, h, _, _) => format!("{d}天{h}小时"),
    }
}

/// "剩余 4小时" before the deadline, "已到期" at it, "已超时 1小时20分" after it.
pub fn zh_left(due: DateTime<Utc>, now: DateTime<Utc>) -> String {
    if now == due {
        "已到期".to_string()
    } else if now < due {
        format!("剩余 {}", zh_span(due - now))
    } else {
        format!("已超时 {}", zh_span(now - due))
    }
}

/// A span for the English output: `55s`, `2m`, `1h20m`, `3d4h`; never negative.
pub fn en_span(d: Duration) -> String {
    let secs = d.num_seconds().max(0);
    let (days, hours, mins) = (secs / 86_400, secs % 86_400 / 3600, secs % 3600 / 60);
    match (days, hours, mins) {
        (0, 0, 0) => format!("{secs}s"),
        (0, 0, m) => format!("{m}m"),
        (0, h, 0) => format!("{h}h"),
        (0, h, m) => format!("{h}h{m}m"),
        (d, 0, _) => format!("{d}d"),
        (d, h, _) => format!("{d}d{h}h"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 24, h, m, 0).unwrap()
    }

    #[test]
    fn spans_read_as_chinese() {
        assert_eq!(zh_span(Duration::minutes(200)), "3小时20分");
        assert_eq!(zh_span(Duration::hours(5)), "5小时");
        assert_eq!(zh_span(Duration::minutes(30)), "30分钟");
        assert_eq!(zh_span(Duration::seconds(9)), "9秒");
        // Exact under an hour: a 90 s setting is not "1分钟".
        assert_eq!(zh_span(Duration::seconds(90)), "1分30秒");
        assert_eq!(zh_span(Duration::seconds(3599)), "59分59秒");
        assert_eq!(zh_span(Duration::hours(49)), "2天1小时");
        assert_eq!(zh_left(t(7, 0), t(5, 0)), "剩余 2小时");
        assert_eq!(zh_left(t(7, 0), t(8, 20)), "已超时 1小时20分");
        assert_eq!(zh_left(t(7, 0), t(7, 0)), "已到期");
    }

    #[test]
    fn english_spans_are_short() {
        assert_eq!(en_span(Duration::seconds(55)), "55s");
        assert_eq!(en_span(Duration::minutes(80)), "1h20m");
        assert_eq!(en_span(Duration::hours(76)), "3d4h");
        assert_eq!(en_span(Duration::seconds(-5)), "0s");
    }
}
