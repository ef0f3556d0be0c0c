//! Working days (工作日) on the official Chinese calendar, as data.
//!
//! Several duties are counted in working days (see [`Obligation`]): weekends and statutory
//! holidays are off and the make-up weekend days (调休) are on. The State Council publishes
//! each year's schedule in November or December and has changed one mid-year, so the
//! schedule is data — one holiday-cn JSON file per year in the calendar folder
//! (`[daemon] calendar`, default `config/calendar`) — and never code. A year with no file
//! is not guessed silently: arithmetic that reaches it counts Monday–Friday and says so
//! (`WorkingDeadline::uncertain_years`, [`MissingYear`]), and from 1 December
//! [`Calendar::next_year_missing_warning`] tells the operator to add next year's file.
//!
//! Everything here is pure: loading takes file contents (or reads one folder), and the
//! arithmetic takes dates and a time zone.

mod holiday_cn;
mod obligation;

pub use obligation::Obligation;

use crate::diagnostic::{Diagnostic, Diagnostics};
use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc, Weekday};
use chrono_tz::Tz;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The folder the daemon reads calendars from when `[daemon] calendar` is not set.
pub const DEFAULT_DIR: &str = "config/calendar";

/// Where next year's file comes from, for messages.
const HOLIDAY_CN: &str = "https://github.com/NateScarlet/holiday-cn";

/// The official working-day calendar for the years that have data.
#[derive(Debug, Clone)]
pub struct Calendar {
    /// The folder the files came from, named in warnings.
    dir: PathBuf,
    /// Year → the file that defines it.
    years: BTreeMap<i32, PathBuf>,
    /// Years whose file lists no days at all: holiday-cn publishes such a file before the
    /// State Council has announced the schedule, so it is not data about that year.
    placeholders: BTreeMap<i32, PathBuf>,
    /// Statutory holidays, including those that fall on a weekend.
    off_days: BTreeSet<NaiveDate>,
    /// Make-up working weekend days (调休).
    make_up_days: BTreeSet<NaiveDate>,
}

/// A year for which the calendar has no data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("no working-day calendar for {0}; add {0}.json from {HOLIDAY_CN}")]
pub struct MissingYear(pub i32);

/// A deadline counted in working days.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkingDeadline {
    pub due: DateTime<Utc>,
    /// Years without calendar data that the count crossed, ascending. Their days were counted
    /// Monday–Friday, so the deadline may be wrong; callers must show this, never drop it.
    pub uncertain_years: Vec<i32>,
}

impl WorkingDeadline {
    /// True when every day counted came from calendar data.
    pub fn is_certain(&self) -> bool {
        self.uncertain_years.is_empty()
    }
}

impl Calendar {
    /// Reads every `*.json` in `dir`, each a holiday-cn file for one year.
    ///
    /// Every mistake in every file is reported, each with its file and, where it has one,
    /// its line: unreadable or malformed JSON, a date that is not `YYYY-MM-DD` or lies
    /// outside the file's year, a year defined by two files, or a folder with no file.
    pub fn load_dir(dir: &Path) -> Result<Calendar, Diagnostics> {
        let entries = std::fs::read_dir(dir).map_err(|e| {
            Diagnostic::new(
                dir,
                None,
                format!("cannot read the calendar folder: {e}"),
            )
        })?;
        let mut errs = Diagnostics::default();
        let mut paths = Vec::new();
        for entry in entries {
            match entry {
                Ok(e) => {
                    let path = e.path();
                    if path.extension().is_some_and(|x| x == "json") && path.is_file() {
                        paths.push(path);
                    }
                }
                Err(e) => errs.push(Diagnostic::new(dir, None, format!("cannot list: {e}"))),
            }
        }
        // Sorted so that a duplicate year is always reported on the same file.
        paths.sort();
        let mut files = Vec::new();
        for path in paths {
            match std::fs::read_to_string(&path) {
                Ok(text) => files.push((path, text)),
                Err(e) => errs.push(Diagnostic::new(&path, None, format!("cannot read: {e}"))),
            }
        }
        let calendar = Calendar::build(dir, &files);
        match calendar {
            Ok(c) => errs.into_result(c),
            Err(more) => {
                errs.extend(more);
                Err(errs)
            }
        }
    }

    /// Builds a calendar from `(path, contents)` pairs, as `load_dir` does after reading;
    /// the folder named in warnings is the first file's.
    pub fn from_files(files: &[(PathBuf, String)]) -> Result<Calendar, Diagnostics> {
        let dir = files
            .first()
            .and_then(|(p, _)| p.parent())
            .filter(|p| !p.as_os_str().is_empty())
            .map_or_else(|| PathBuf::from(DEFAULT_DIR), Path::to_path_buf);
        Calendar::build(&dir, files)
    }

    fn build(dir: &Path, files: &[(PathBuf, String)]) -> Result<Calendar, Diagnostics> {
        let mut errs = Diagnostics::default();
        let mut cal = Calendar {
            dir: dir.to_path_buf(),
            years: BTreeMap::new(),
            placeholders: BTreeMap::new(),
            off_days: BTreeSet::new(),
            make_up_days: BTreeSet::new(),
        };
        if files.is_empty() {
            errs.push(Diagnostic::new(
                dir,
                None,
                format!(
                    "no calendar: add one holiday-cn file per year (e.g. 2026.json from \
                     {HOLIDAY_CN}) to this folder"
                ),
            ));
        }
        for (path, text) in files {
            let year = match holiday_cn::parse(path, text) {
                Ok(y) => y,
                Err(e) => {
                    errs.extend(e);
                    continue;
                }
            };
            if let Some(first) = cal
                .years
                .get(&year.year)
                .or_else(|| cal.placeholders.get(&year.year))
            {
                errs.push(Diagnostic::new(
                    path,
                    year.year_line,
                    format!("year {} is already defined in {}", year.year, first.display()),
                ));
                continue;
            }
            if year.days.is_empty() {
                cal.placeholders.insert(year.year, path.clone());
                continue;
            }
            cal.years.insert(year.year, path.clone());
            for (date, (_name, off)) in year.days {
                if off {
                    cal.off_days.insert(date);
                } else {
                    cal.make_up_days.insert(date);
                }
            }
        }
        errs.into_result(cal)
    }

    /// True when `year` has calendar data.
    pub fn covers(&self, year: i32) -> bool {
        self.years.contains_key(&year)
    }

    /// The years with calendar data, ascending.
    pub fn years(&self) -> impl Iterator<Item = i32> + '_ {
        self.years.keys().copied()
    }

    /// Whether `date` is a working day: Monday–Friday unless a statutory holiday, and the
    /// make-up weekend days. A date in a year without data is an error, not a guess.
    pub fn is_working_day(&self, date: NaiveDate) -> Result<bool, MissingYear> {
        if !self.covers(date.year()) {
            return Err(MissingYear(date.year()));
        }
        Ok(self.working_or_weekday(date))
    }

    /// The calendar's answer where it has data, Monday–Friday elsewhere.
    fn working_or_weekday(&self, date: NaiveDate) -> bool {
        if self.off_days.contains(&date) {
            false
        } else if self.make_up_days.contains(&date) {
            true
        } else {
            !matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
        }
    }

    /// The end (23:59:59 local time in `tz`) of the `days`-th working day after `start`.
    ///
    /// Convention: the day of receipt does not count, whatever the hour — "within 5 working
    /// days" of a message received on Friday 2026-09-25 15:00 in Asia/Shanghai starts with
    /// the next working day and, skipping 中秋 (Sep 25–27) and 国庆 (Oct 1–7), is due at the
    /// end of Friday 2026-10-09. Make-up weekend days count as working days. `days == 0`
    /// gives the end of the day of receipt.
    ///
    /// Days in a year without data are counted Monday–Friday and that year is listed in
    /// `uncertain_years`, so that the caller can flag the deadline.
    pub fn add_working_days(&self, start: DateTime<Utc>, days: u32, tz: Tz) -> WorkingDeadline {
        let mut date = start.with_timezone(&tz).date_naive();
        let mut uncertain = BTreeSet::new();
        let mut counted = 0;
        while counted < days {
            // Terminates: only finitely many holidays are listed, so working days recur.
            date = match date.succ_opt() {
                Some(d) => d,
                None => break,
            };
            if !self.covers(date.year()) {
                uncertain.insert(date.year());
            }
            if self.working_or_weekday(date) {
                counted += 1;
            }
        }
        WorkingDeadline {
            due: end_of_day(date, tz),
            uncertain_years: uncertain.into_iter().collect(),
        }
    }

    /// The number of working days after `from` up to and including `to` (negative when `to`
    /// is before `from`), under the same convention as [`Calendar::add_working_days`]: the
    /// working days between a receipt date and its due date equal the days allowed. For the
    /// 45-working-day freshness rule of a website column (seed 000 六(三)).
    ///
    /// Fails with the first year in the range that has no data.
    pub fn working_days_between(&self, from: NaiveDate, to: NaiveDate) -> Result<i64, MissingYear> {
        let (lo, hi, sign) = if from <= to {
            (from, to, 1)
        } else {
            (to, from, -1)
        };
        // The days examined are those after `lo` up to `hi`; `lo` itself needs no data.
        if let Some(first) = lo.succ_opt().filter(|d| *d <= hi) {
            if let Some(year) = (first.year()..=hi.year()).find(|y| !self.covers(*y)) {
                return Err(MissingYear(year));
            }
        }
        let mut count = 0;
        let mut date = lo;
        while date < hi {
            date += Duration::days(1);
            if self.working_or_weekday(date) {
                count += 1;
            }
        }
        Ok(sign * count)
    }

    /// From 1 December, a warning when next year's calendar is absent; at any time of year,
    /// one when this year's is. In English, for the operator's log and `yuqing check`,
    /// naming the folder and the holiday-cn file to add.
    pub fn next_year_missing_warning(&self, today: NaiveDate) -> Option<String> {
        let year = if !self.covers(today.year()) {
            today.year()
        } else if today.month() == 12 && !self.covers(today.year() + 1) {
            today.year() + 1
        } else {
            return None;
        };
        let placeholder = match self.placeholders.get(&year) {
            Some(p) => format!(
                " ({} lists no days yet: holiday-cn publishes an empty file until the \
                 schedule is announced)",
                p.display()
            ),
            None => String::new(),
        };
        Some(format!(
            "the working-day calendar for {year} is missing{placeholder}: add {year}.json from \
             {HOLIDAY_CN} to {dir} once the State Council has published the {year} holiday \
             schedule; until then working-day deadlines that reach {year} are counted \
             Monday–Friday and flagged as uncertain",
            dir = self.dir.display()
        ))
    }
}

/// The last second (23:59:59) of `date` in `tz`, as an instant.
fn end_of_day(date: NaiveDate, tz: Tz) -> DateTime<Utc> {
    let last = date.and_hms_opt(23, 59, 59).unwrap_or_default();
    // In a zone with daylight saving the last second may be ambiguous (take the later) or
    // skipped (step back until it exists); Asia/Shanghai has neither.
    (0..48)
        .find_map(|back| {
            tz.from_local_datetime(&(last - Duration::minutes(30 * back)))
                .latest()
        })
        .map_or_else(|| last.and_utc(), |t| t.with_timezone(&Utc))
}
