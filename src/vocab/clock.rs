//! Wall time as a parameter.
//!
//! The daemon reads the time only through a [`Clock`], so a test can run a 24-hour
//! incident in milliseconds by moving a [`ManualClock`] instead of sleeping.

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use std::sync::{Arc, Mutex};

pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;
}

/// The real clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        // Whole seconds: the store keeps seconds, and comparing a row's due time with a
        // clock that has sub-second precision would make "due" depend on rounding.
        let now = Utc::now();
        DateTime::from_timestamp(now.timestamp(), 0).unwrap_or(now)
    }
}

/// A clock that only moves when told to.
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<Mutex<DateTime<Utc>>>);

impl ManualClock {
    pub fn new(at: DateTime<Utc>) -> Self {
        ManualClock(Arc::new(Mutex::new(at)))
    }
    pub fn set(&self, at: DateTime<Utc>) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = at;
    }
    pub fn advance(&self, by: chrono::Duration) {
        let mut t = self.0.lock().unwrap_or_else(|e| e.into_inner());
        *t += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Seconds since the epoch, as the store keeps times.
pub fn secs(t: DateTime<Utc>) -> i64 {
    t.timestamp()
}

/// The inverse of [`secs`].
pub fn from_secs(s: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(s, 0).unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// A wall-clock time in `tz` as an instant; in a DST overlap the earlier one, in a gap none.
pub fn local_instant(tz: Tz, naive: NaiveDateTime) -> Option<DateTime<Utc>> {
    tz.from_local_datetime(&naive)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
}

/// Local midnight of `date` in `tz`, as UTC (the earliest instant of that day).
pub fn midnight(date: NaiveDate, tz: Tz) -> DateTime<Utc> {
    let naive = date.and_hms_opt(0, 0, 0).expect("midnight exists");
    local_instant(tz, naive).unwrap_or_else(|| {
        // A zone that skips midnight (DST): the first instant of the day.
        local_instant(tz, naive + Duration::hours(1)).unwrap_or_else(|| naive.and_utc())
    })
}

/// A time as people read it in mail, reports and on the console: `2026-11-24 09:00` in the
/// configured zone, with seconds only when they are not zero.
pub fn local(t: DateTime<Utc>, tz: Tz) -> String {
    use chrono::Timelike;
    // Minutes are what a person reads; seconds only when they are not zero, which in
    // practice means deadlines of seconds (the demo, tests) stay readable too.
    let fmt = if t.second() == 0 {
        "%Y-%m-%d %H:%M"
    } else {
        "%Y-%m-%d %H:%M:%S"
    };
    t.with_timezone(&tz).format(fmt).to_string()
}

/// A time in RFC 3339, in `tz`, as JSON output gives it.
pub fn rfc3339(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz).to_rfc3339()
}

/// A time a person typed on the command line (`--at`, `--since`, `--from`, `--to`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Typed {
    pub at: DateTime<Utc>,
    /// A date without a time (`2026-11-24`): `at` is its local midnight.
    pub whole_day: bool,
}

/// Reads a time as people type it: RFC 3339, or `YYYY-MM-DD HH:MM[:SS]`,
/// `YYYY-MM-DDTHH:MM` or `YYYY-MM-DD` in the configured zone `tz`. The one parser behind
/// every option that takes a time.
pub fn parse_typed(text: &str, tz: Tz) -> Option<Typed> {
    let text = text.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(Typed {
            at: t.with_timezone(&Utc),
            whole_day: false,
        });
    }
    if let Ok(d) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Some(Typed {
            at: midnight(d, tz),
            whole_day: true,
        });
    }
    let naive = ["%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(text, f).ok())?;
    Some(Typed {
        at: local_instant(tz, naive)?,
        whole_day: false,
    })
}

/// A wall time in Beijing, for tests: `beijing(2026, 11, 24, 10, 30)`.
#[cfg(test)]
pub fn beijing(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    chrono_tz::Asia::Shanghai
        .with_ymd_and_hms(y, m, d, h, min, 0)
        .unwrap()
        .with_timezone(&Utc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::Asia::Shanghai;

    #[test]
    fn typed_times_are_read_in_the_configured_zone() {
        let utc = |h, m| Utc.with_ymd_and_hms(2026, 11, 19, h, m, 0).unwrap();
        let at = |text| parse_typed(text, Shanghai).map(|t| (t.at, t.whole_day));
        assert_eq!(at("2026-11-19 09:00"), Some((utc(1, 0), false)));
        assert_eq!(at("2026-11-19T09:30"), Some((utc(1, 30), false)));
        assert_eq!(at(" 2026-11-19 09:00:00 "), Some((utc(1, 0), false)));
        assert_eq!(at("2026-11-19T09:00:00+08:00"), Some((utc(1, 0), false)));
        assert_eq!(at("2026-11-19T01:00:00Z"), Some((utc(1, 0), false)));
        assert_eq!(
            at("2026-11-20"),
            Some((utc(16, 0), true)),
            "a date is its local midnight"
        );
        for bad in [
            "",
            "yesterday",
            "2026-13-01",
            "2026-11-19 25:00",
            "19/11/2026",
        ] {
            assert_eq!(at(bad), None, "{bad:?}");
        }
    }
}
