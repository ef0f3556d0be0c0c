//! Reading the dates that Chinese sites print next to items.
//!
//! HTML list pages and forums rarely give machine dates: they print `2026年11月24日`,
//! `11-24`, `昨天 08:00` or `3小时前`, in Beijing time, relative to when the page was
//! fetched. An item's published time decides which incident it joins and whether a
//! publication duty was met, so a wrong guess is worse than none: anything this module cannot
//! read with confidence is `None` (unknown), and the caller falls back to the time it first
//! saw the item. It is pure: the time zone and `now` are parameters.

use std::sync::LazyLock;

use crate::vocab::clock::local_instant;
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;
use regex::Regex;

/// An optional time of day after a date: `10:30`, `10:30:05`, `10时30分`, `10点30分05秒`.
const TIME: &str =
    r"(?:[\sT]*(\d{1,2})\s*[:时点]\s*(\d{1,2})(?:\s*[:分]\s*(\d{1,2})\s*秒?|\s*分)?)?";

/// `2026-11-24`, `2026/11/24`, `2026.11.24`, `2026年11月24日`, each with an optional time.
static FULL: LazyLock<Regex> = LazyLock::new(|| {
    let pattern =
        format!(r"^(\d{{4}})\s*[-/.年]\s*(\d{{1,2}})\s*[-/.月]\s*(\d{{1,2}})\s*日?{TIME}$");
    Regex::new(&pattern).expect("FULL date pattern")
});

/// `11-24`, `11/24`, `11月24日`, with an optional time: the year is implied.
static MONTH_DAY: LazyLock<Regex> = LazyLock::new(|| {
    let pattern = format!(r"^(\d{{1,2}})\s*[-/.月]\s*(\d{{1,2}})\s*日?{TIME}$");
    Regex::new(&pattern).expect("MONTH_DAY date pattern")
});

/// `今天 10:30`, `昨天`, `前天 08:00`.
static NAMED_DAY: LazyLock<Regex> = LazyLock::new(|| {
    let pattern = format!(r"^(今天|今日|昨天|昨日|前天)\s*{TIME}$");
    Regex::new(&pattern).expect("NAMED_DAY date pattern")
});

/// `3小时前`, `5分钟前`, `2天前`, `半小时前`.
static AGO: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(\d{1,6}|半)\s*(秒钟|秒|分钟|分|个小时|小时|天|日|周|星期)\s*(?:以)?前$")
        .expect("AGO date pattern")
});

/// The instant `text` denotes, reading wall-clock times in `tz`, or `None` when it cannot be
/// read without guessing.
pub fn parse(text: &str, now: DateTime<Utc>, tz: Tz) -> Option<DateTime<Utc>> {
    let raw = text.trim();
    if raw.is_empty() {
        return None;
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(raw) {
        return Some(t.with_timezone(&Utc));
    }
    if let Ok(t) = DateTime::parse_from_rfc2822(raw) {
        return Some(t.with_timezone(&Utc));
    }

    let text = clean(raw);
    if text == "刚刚" || text == "刚才" {
        return Some(now);
    }
    if let Some(c) = FULL.captures(&text) {
        let date = NaiveDate::from_ymd_opt(number(&c, 1)?, number(&c, 2)?, number(&c, 3)?)?;
        return local_instant(tz, date.and_time(time_of(&c, 4)?));
    }
    if let Some(c) = MONTH_DAY.captures(&text) {
        let (month, day) = (number(&c, 1)?, number(&c, 2)?);
        let time = time_of(&c, 3)?;
        let year = now.with_timezone(&tz).year();
        // A list page shows last December's items in January without a year: a date more
        // than a day ahead of now must be from the year before.
        let this_year = NaiveDate::from_ymd_opt(year, month, day)
            .and_then(|d| local_instant(tz, d.and_time(time)));
        if let Some(t) = this_year {
            if t <= now + Duration::days(1) {
                return Some(t);
            }
        }
        let date = NaiveDate::from_ymd_opt(year - 1, month, day)?;
        return local_instant(tz, date.and_time(time));
    }
    if let Some(c) = NAMED_DAY.captures(&text) {
        let back = match c.get(1)?.as_str() {
            "今天" | "今日" => 0,
            "昨天" | "昨日" => 1,
            _ => 2,
        };
        let today = now.with_timezone(&tz).date_naive();
        let date = today.checked_sub_signed(Duration::days(back))?;
        return local_instant(tz, date.and_time(time_of(&c, 2)?));
    }
    if let Some(c) = AGO.captures(&text) {
        let amount = c.get(1)?.as_str();
        let unit = c.get(2)?.as_str();
        let ago = if amount == "半" {
            match unit {
                "个小时" | "小时" => Duration::minutes(30),
                _ => return None,
            }
        } else {
            let n: i64 = amount.parse().ok()?;
            match unit {
                "秒钟" | "秒" => Duration::try_seconds(n)?,
                "分钟" | "分" => Duration::try_minutes(n)?,
                "个小时" | "小时" => Duration::try_hours(n)?,
                "天" | "日" => Duration::try_days(n)?,
                _ => Duration::try_weeks(n)?,
            }
        };
        return now.checked_sub_signed(ago);
    }
    None
}

/// Folds full-width digits and punctuation to ASCII, drops a leading label such as
/// `发布时间：` and surrounding brackets, and collapses runs of white space.
fn clean(text: &str) -> String {
    let folded: String = text
        .chars()
        .map(|c| match c {
            '\u{ff01}'..='\u{ff5e}' => char::from_u32(c as u32 - 0xfee0).unwrap_or(c),
            '\u{3000}' | '\u{a0}' => ' ',
            c => c,
        })
        .collect();
    let mut rest = folded.trim();
    // `发布时间: 2026-11-24`, `日期：11-24`: a label of a few non-digits before a colon.
    if let Some((label, after)) = rest.split_once(':') {
        let label = label.trim();
        if !label.is_empty()
            && label.chars().count() <= 8
            && !label.chars().any(|c| c.is_ascii_digit())
            && !NAMED_DAY_WORDS.iter().any(|w| label.ends_with(w))
        {
            rest = after.trim();
        }
    }
    let rest = rest
        .trim_matches(|c: char| "[]()【】〔〕<>《》".contains(c))
        .trim();
    rest.split_whitespace().collect::<Vec<_>>().join(" ")
}

const NAMED_DAY_WORDS: [&str; 5] = ["今天", "今日", "昨天", "昨日", "前天"];

fn number<T: std::str::FromStr>(c: &regex::Captures<'_>, group: usize) -> Option<T> {
    c.get(group)?.as_str().parse().ok()
}

/// The time of day captured from `first` on (hour, minute, second), midnight if absent.
fn time_of(c: &regex::Captures<'_>, first: usize) -> Option<NaiveTime> {
    if c.get(first).is_none() {
        return Some(NaiveTime::MIN);
    }
    let second = match c.get(first + 2) {
        Some(s) => s.as_str().parse().ok()?,
        None => 0,
    };
    NaiveTime::from_hms_opt(number(c, first)?, number(c, first + 1)?, second)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use chrono_tz::Asia::Shanghai;

    /// 2026-11-24 10:00 in Beijing.
    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 24, 2, 0, 0).unwrap()
    }

    /// Beijing wall time as an instant, for readable expectations.
    fn bj(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> Option<DateTime<Utc>> {
        Some(
            Shanghai
                .with_ymd_and_hms(y, mo, d, h, mi, s)
                .unwrap()
                .with_timezone(&Utc),
        )
    }

    #[test]
    fn table() {
        let n = now();
        let cases: &[(&str, Option<DateTime<Utc>>)] = &[
            // Absolute dates and times.
            ("2026-11-24 10:30", bj(2026, 11, 24, 10, 30, 0)),
            ("2026-11-24 10:30:05", bj(2026, 11, 24, 10, 30, 5)),
            ("2026-11-24", bj(2026, 11, 24, 0, 0, 0)),
            ("2026-1-5 9:05", bj(2026, 1, 5, 9, 5, 0)),
            ("2026/11/24", bj(2026, 11, 24, 0, 0, 0)),
            ("2026.11.24", bj(2026, 11, 24, 0, 0, 0)),
            ("2026年11月24日", bj(2026, 11, 24, 0, 0, 0)),
            ("2026年11月24日 10:30", bj(2026, 11, 24, 10, 30, 0)),
            ("2026年11月24日10时30分", bj(2026, 11, 24, 10, 30, 0)),
            ("2026年11月24日 10点30分05秒", bj(2026, 11, 24, 10, 30, 5)),
            ("2026-11-24T10:30:00", bj(2026, 11, 24, 10, 30, 0)),
            (
                "２０２６－１１－２４　１０：３０",
                bj(2026, 11, 24, 10, 30, 0),
            ),
            ("发布时间：2026-11-24 10:30", bj(2026, 11, 24, 10, 30, 0)),
            ("[2026-11-24]", bj(2026, 11, 24, 0, 0, 0)),
            ("（2026年11月24日）", bj(2026, 11, 24, 0, 0, 0)),
            ("  2026-11-24   10:30  ", bj(2026, 11, 24, 10, 30, 0)),
            // Month and day: this year, or last year when that would be in the future.
            ("11-24", bj(2026, 11, 24, 0, 0, 0)),
            ("11-25", bj(2026, 11, 25, 0, 0, 0)),
            ("11-26", bj(2025, 11, 26, 0, 0, 0)),
            ("11月24日", bj(2026, 11, 24, 0, 0, 0)),
            ("11月20日 08:15", bj(2026, 11, 20, 8, 15, 0)),
            ("12-31", bj(2025, 12, 31, 0, 0, 0)),
            ("01/03", bj(2026, 1, 3, 0, 0, 0)),
            // Named days.
            ("今天 10:30", bj(2026, 11, 24, 10, 30, 0)),
            ("今天", bj(2026, 11, 24, 0, 0, 0)),
            ("昨天", bj(2026, 11, 23, 0, 0, 0)),
            ("昨天 08:00", bj(2026, 11, 23, 8, 0, 0)),
            ("昨天08:00", bj(2026, 11, 23, 8, 0, 0)),
            ("前天", bj(2026, 11, 22, 0, 0, 0)),
            ("前天 23:59:59", bj(2026, 11, 22, 23, 59, 59)),
            // Relative to now.
            ("刚刚", Some(n)),
            ("3小时前", bj(2026, 11, 24, 7, 0, 0)),
            ("3个小时前", bj(2026, 11, 24, 7, 0, 0)),
            ("半小时前", bj(2026, 11, 24, 9, 30, 0)),
            ("5分钟前", bj(2026, 11, 24, 9, 55, 0)),
            ("30秒前", bj(2026, 11, 24, 9, 59, 30)),
            ("2天前", bj(2026, 11, 22, 10, 0, 0)),
            ("1周前", bj(2026, 11, 17, 10, 0, 0)),
            ("１０分钟前", bj(2026, 11, 24, 9, 50, 0)),
            // Machine formats carry their own offset.
            (
                "Tue, 24 Nov 2026 10:30:00 +0800",
                bj(2026, 11, 24, 10, 30, 0),
            ),
            ("Tue, 24 Nov 2026 02:30:00 GMT", bj(2026, 11, 24, 10, 30, 0)),
            ("2026-11-24T10:30:00+08:00", bj(2026, 11, 24, 10, 30, 0)),
            ("2026-11-24T02:30:00Z", bj(2026, 11, 24, 10, 30, 0)),
            // Unreadable: unknown, never a guess.
            ("", None),
            ("   ", None),
            ("置顶", None),
            ("2026-13-01", None),
            ("2026-02-30", None),
            ("2026-11-24 24:00", None),
            ("2026-11-24 10:61", None),
            ("13-01", None),
            ("02-30", None),
            ("3个月前", None),
            ("半天前", None),
            ("99999999999小时前", None),
            ("明天", None),
            ("24", None),
            ("2026", None),
            ("26-11-24", None),
            ("2026-11-24 10", None),
            ("约3小时前左右", None),
        ];
        for (text, want) in cases {
            assert_eq!(parse(text, n, Shanghai), *want, "parse({text:?})");
        }
    }

    #[test]
    fn month_day_across_new_year() {
        // 2027-01-02 09:00 in Beijing.
        let n = Utc.with_ymd_and_hms(2027, 1, 2, 1, 0, 0).unwrap();
        assert_eq!(parse("12-30", n, Shanghai), bj(2026, 12, 30, 0, 0, 0));
        assert_eq!(parse("01-02", n, Shanghai), bj(2027, 1, 2, 0, 0, 0));
        // Tomorrow is within a day's slack (clock skew, time zones): kept in this year.
        assert_eq!(parse("01-03", n, Shanghai), bj(2027, 1, 3, 0, 0, 0));
    }

    #[test]
    fn named_days_follow_the_local_date_not_utc() {
        // 2026-11-24 23:30 UTC is already the 25th in Beijing.
        let n = Utc.with_ymd_and_hms(2026, 11, 24, 23, 30, 0).unwrap();
        assert_eq!(parse("今天", n, Shanghai), bj(2026, 11, 25, 0, 0, 0));
        assert_eq!(parse("昨天 08:00", n, Shanghai), bj(2026, 11, 24, 8, 0, 0));
    }

    #[test]
    fn the_time_zone_is_a_parameter() {
        let n = now();
        let utc = parse("2026-11-24 10:30", n, chrono_tz::UTC);
        assert_eq!(utc, Utc.with_ymd_and_hms(2026, 11, 24, 10, 30, 0).single());
    }
}
