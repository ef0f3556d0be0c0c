//! Feed dates, as sites really write them.
//!
//! Read in this order, the first that succeeds winning:
//! 1. RFC 3339 / ISO 8601 (`2026-11-24T10:30:00+08:00`, also `+0800`, a space for `T`,
//!    no seconds, `Z`, `UTC`);
//! 2. RFC 822 as feeds write it: the weekday optional and never checked (hand-made feeds
//!    get it wrong), full month names (`12 August 2012`), two-digit years, seconds optional,
//!    the zone as an offset (`+0800`, `+08:00`, `GMT+8`) or a name (`GMT`, `UT`, `UTC`, `Z`,
//!    the US zones, `BJT`/`CCT`/`HKT` +08:00, `JST` +09:00). **`CST` is China Standard Time
//!    (+08:00) when the configured zone is eight hours ahead of UTC (`Asia/Shanghai`), and US
//!    Central (−06:00) otherwise**;
//! 3. Chinese dates (`2026年11月24日 10:30`, `3小时前`, see [`crate::fetch::chinese_date`]).
//!
//! A date without a zone is read in the configured zone (UTC without one). An impossible
//! date (`30 Feb`, `25:00`) or an unknown zone name is unreadable: `None`, never a guess.

use std::sync::LazyLock;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeZone, Utc};
use chrono_tz::Tz;
use regex::Regex;

use crate::fetch::chinese_date;
use crate::fetch::page::collapse;

/// Reads dates for one feed: in the configured zone, relative ones against `now`.
#[derive(Debug, Clone, Copy)]
pub struct Reader {
    zone: Option<(DateTime<Utc>, Tz)>,
}

impl Reader {
    pub fn new(zone: Option<(DateTime<Utc>, Tz)>) -> Reader {
        Reader { zone }
    }

    pub fn read(&self, text: &str) -> Option<DateTime<Utc>> {
        parse(text, self.zone)
    }

    /// The first readable date of several, in the order given; unreadable ones are
    /// skipped with a debug log.
    pub fn first<'a>(&self, texts: impl Iterator<Item = &'a str>) -> Option<DateTime<Utc>> {
        for text in texts {
            if let Some(t) = self.read(text) {
                return Some(t);
            }
            if !text.trim().is_empty() {
                tracing::debug!(date = %text.trim(), "unreadable date skipped");
            }
        }
        None
    }
}

/// The instant `text` denotes; zone-less and Chinese dates are read in the zone of `zone`
/// (UTC without one), relative ones against its `now`.
pub fn parse(text: &str, zone: Option<(DateTime<Utc>, Tz)>) -> Option<DateTime<Utc>> {
    let text = collapse(text);
    if text.is_empty() {
        return None;
    }
    let tz = zone.map(|(_, tz)| tz);
    if let Ok(t) = DateTime::parse_from_rfc3339(&text) {
        return Some(t.with_timezone(&Utc));
    }
    if let Some(t) = iso(&text, tz).or_else(|| rfc822(&text, tz)) {
        return Some(t);
    }
    let (now, tz) = zone?;
    chinese_date::parse(&text, now, tz)
}

static ISO: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?)?\s*(Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?$",
    )
    .expect("ISO pattern")
});

fn iso(text: &str, tz: Option<Tz>) -> Option<DateTime<Utc>> {
    let c = ISO.captures(text)?;
    let n = |i: usize| c.get(i).map_or(Some(0), |m| m.as_str().parse::<u32>().ok());
    let date = NaiveDate::from_ymd_opt(c[1].parse().ok()?, n(2)?, n(3)?)?;
    let time = NaiveTime::from_hms_opt(n(4)?, n(5)?, n(6)?)?;
    let offset = match c.get(7).map(|m| m.as_str()) {
        None => None,
        Some("Z" | "UTC" | "GMT") => Some(0),
        Some(o) => Some(numeric_offset(o)?),
    };
    at(date.and_time(time), offset, tz)
}

/// `+0800`, `-05:00`, `+8`, `+08` → seconds east of UTC.
fn numeric_offset(o: &str) -> Option<i32> {
    let (sign, digits) = match o.as_bytes().first()? {
        b'+' => (1, &o[1..]),
        b'-' => (-1, &o[1..]),
        _ => return None,
    };
    let digits: String = digits.chars().filter(|c| *c != ':').collect();
    if !digits.chars().all(|c| c.is_ascii_digit()) || digits.is_empty() {
        return None;
    }
    let (h, m) = match digits.len() {
        1 | 2 => (digits.parse::<i32>().ok()?, 0),
        3 => (
            digits[..1].parse::<i32>().ok()?,
            digits[1..].parse::<i32>().ok()?,
        ),
        4 => (
            digits[..2].parse::<i32>().ok()?,
            digits[2..].parse::<i32>().ok()?,
        ),
        _ => return None,
    };
    (h <= 14 && m < 60).then_some(sign * (h * 3600 + m * 60))
}

/// The naive time at `offset` (seconds east), or in `tz` (UTC without one).
fn at(naive: NaiveDateTime, offset: Option<i32>, tz: Option<Tz>) -> Option<DateTime<Utc>> {
    match offset {
        Some(o) => FixedOffset::east_opt(o)?
            .from_local_datetime(&naive)
            .single()
            .map(|t| t.with_timezone(&Utc)),
        None => match tz {
            Some(tz) => crate::vocab::clock::local_instant(tz, naive),
            None => Some(Utc.from_utc_datetime(&naive)),
        },
    }
}

/// A month by its English name or its first three letters (any case, trailing dots
/// allowed; also `Sept`), as 1 to 12. The names are chrono's, which takes exactly these two
/// forms (`janu` and `septem` are no month).
fn month(word: &str) -> Option<u32> {
    let w = word.trim_end_matches('.');
    if w.eq_ignore_ascii_case("sept") {
        return Some(9);
    }
    w.parse::<chrono::Month>()
        .ok()
        .map(|m| m.number_from_month())
}

fn is_weekday(word: &str) -> bool {
    let w = word.trim_end_matches('.').to_ascii_lowercase();
    const DAYS: [&str; 7] = [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ];
    w.len() >= 3 && DAYS.iter().any(|d| *d == w || d.starts_with(&w))
}

/// Seconds east of UTC of a zone name, for a wall-clock time `naive`; `CST` by `tz`.
fn named_zone(name: &str, naive: NaiveDateTime, tz: Option<Tz>) -> Option<i32> {
    let h = 3600;
    Some(match name.to_ascii_uppercase().as_str() {
        "GMT" | "UT" | "UTC" | "Z" | "Z." => 0,
        "EST" => -5 * h,
        "EDT" => -4 * h,
        "CDT" => -5 * h,
        "MST" => -7 * h,
        "MDT" => -6 * h,
        "PST" => -8 * h,
        "PDT" => -7 * h,
        "BJT" | "CCT" | "HKT" | "AWST" => 8 * h,
        "JST" | "KST" => 9 * h,
        "CST" => {
            let china = tz.and_then(|tz| {
                tz.offset_from_local_datetime(&naive)
                    .earliest()
                    .map(|o| o.fix().local_minus_utc())
            }) == Some(8 * h);
            if china {
                8 * h
            } else {
                -6 * h
            }
        }
        upper => {
            // GMT+8, UTC+08:00
            let rest = upper
                .strip_prefix("GMT")
                .or_else(|| upper.strip_prefix("UTC"))?;
            numeric_offset(rest)?
        }
    })
}

/// RFC 822 as feeds write it; see the module's documentation.
fn rfc822(text: &str, tz: Option<Tz>) -> Option<DateTime<Utc>> {
    let mut words: Vec<&str> = text
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|w| !w.is_empty())
        .collect();
    if words.first().is_some_and(|w| is_weekday(w)) {
        words.remove(0);
    }
    if words.len() < 3 {
        return None;
    }
    // `12 Aug 2012` or `Aug 12 2012`
    let (day, mon) = match (words[0].parse::<u32>(), month(words[0])) {
        (Ok(d), _) => (d, month(words[1])?),
        (_, Some(m)) => (
            words[1]
                .trim_end_matches(['s', 't', 'h', 'n', 'd', 'r'])
                .parse()
                .ok()?,
            m,
        ),
        _ => return None,
    };
    let year_word = words[2];
    if !year_word.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let mut year: i32 = year_word.parse().ok()?;
    if year_word.len() == 2 {
        year += if year < 50 { 2000 } else { 1900 };
    } else if year_word.len() != 4 {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(year, mon, day)?;
    let mut rest = &words[3..];
    let time = match rest.first() {
        Some(t) if t.contains(':') => {
            rest = &rest[1..];
            let parts: Vec<&str> = t.split(':').collect();
            let num = |i: usize| -> Option<u32> {
                parts.get(i).map_or(Some(0), |p| {
                    p.split('.').next().unwrap_or("").parse::<u32>().ok()
                })
            };
            if parts.len() > 3 {
                return None;
            }
            NaiveTime::from_hms_opt(num(0)?, num(1)?, num(2)?)?
        }
        _ => NaiveTime::MIN,
    };
    let naive = date.and_time(time);
    let offset = match rest {
        [] => None,
        [zone, ..] if zone.starts_with(['+', '-']) => Some(numeric_offset(zone)?),
        // `GMT +0800`: the name, then the offset from it
        [name, off] if off.starts_with(['+', '-']) => {
            Some(named_zone(name, naive, tz)? + numeric_offset(off)?)
        }
        [zone] => Some(named_zone(zone.trim_matches(['(', ')']), naive, tz)?),
        // `+0800 (CST)`: the offset wins
        [zone, ..] => Some(named_zone(zone, naive, tz)?),
    };
    at(naive, offset, tz)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::Asia::Shanghai;

    fn read(text: &str, tz: Tz) -> Option<String> {
        let now = Utc.with_ymd_and_hms(2026, 11, 24, 0, 0, 0).unwrap();
        parse(text, Some((now, tz))).map(|t| t.to_rfc3339())
    }

    #[test]
    fn cst_is_china_standard_time_in_a_china_zone_and_us_central_elsewhere() {
        let t = "Tue, 24 Nov 2026 10:30:00 CST";
        assert_eq!(
            read(t, Shanghai).as_deref(),
            Some("2026-11-24T02:30:00+00:00")
        );
        assert_eq!(
            read(t, chrono_tz::America::Chicago).as_deref(),
            Some("2026-11-24T16:30:00+00:00")
        );
    }

    #[test]
    fn full_month_names_utc_and_a_wrong_weekday_are_read() {
        assert_eq!(
            read("Sun, 12 August 2012 10:00:00 EST", Shanghai).as_deref(),
            Some("2012-08-12T15:00:00+00:00")
        );
        assert_eq!(
            read("Mon, 24 Nov 2026 10:30:00 UTC", Shanghai).as_deref(),
            Some("2026-11-24T10:30:00+00:00"),
            "the 24th is a Tuesday; the weekday is not checked"
        );
        assert_eq!(
            read("24 Nov 26 10:30 +0800", Shanghai).as_deref(),
            Some("2026-11-24T02:30:00+00:00")
        );
        assert_eq!(
            read("2026-11-24T10:30:00+0800", Shanghai).as_deref(),
            Some("2026-11-24T02:30:00+00:00")
        );
        assert_eq!(
            read("2026-11-24 10:30", Shanghai).as_deref(),
            Some("2026-11-24T02:30:00+00:00")
        );
    }

    #[test]
    fn months_by_full_name_or_three_letters() {
        for (word, want) in [
            ("Jan", Some(1)),
            ("january", Some(1)),
            ("FEB.", Some(2)),
            ("May", Some(5)),
            ("Sept", Some(9)),
            ("sept.", Some(9)),
            ("September", Some(9)),
            ("Dec", Some(12)),
            ("janu", None),
            ("Septem", None),
            ("ja", None),
            ("", None),
            ("Mayo", None),
            ("12", None),
        ] {
            assert_eq!(month(word), want, "{word}");
        }
    }

    #[test]
    fn impossible_dates_and_unknown_zones_are_unreadable() {
        for bad in [
            "Mon, 30 Feb 2026 10:00:00 GMT",
            "Tue, 24 Nov 2026 25:00:00 GMT",
            "Tue, 24 Nov 2026 10:00:00 XYZ",
            "2026-13-01T00:00:00Z",
            "tomorrow-ish",
        ] {
            assert_eq!(read(bad, Shanghai), None, "{bad}");
        }
    }

    #[test]
    fn the_first_readable_date_wins() {
        let r = Reader::new(None);
        let got = r.first(["not a date", "Tue, 24 Nov 2026 10:30:00 GMT"].into_iter());
        assert_eq!(
            got.map(|t| t.to_rfc3339()).as_deref(),
            Some("2026-11-24T10:30:00+00:00")
        );
    }
}
