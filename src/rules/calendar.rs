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

use crate::vocab::diagnostic::{read_folder, Diagnostic, Diagnostics};
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
        // In name order, so that a duplicate year is always reported on the same file.
        let mut files = Vec::new();
        let (_, mut errs) = read_folder(dir, "json", "calendar folder", |path, text| {
            files.push((path.to_path_buf(), text));
            Ok(())
        })?;
        let calendar = Calendar::build(dir, &files);
        match calendar {
            Ok(c) => errs.into_result(c),
            Err(more) => {
                errs.extend(more);
                Err(errs)
            }
        }
    }

    /// A calendar with no data (the folder is absent): every count is Monday–Friday and
    /// flagged as uncertain.
    pub fn empty(dir: &Path) -> Calendar {
        Calendar {
            dir: dir.to_path_buf(),
            years: BTreeMap::new(),
            placeholders: BTreeMap::new(),
            off_days: BTreeSet::new(),
            make_up_days: BTreeSet::new(),
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
                    format!(
                        "year {} is already defined in {}",
                        year.year,
                        first.display()
                    ),
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
    /// The year whose file should be here by `today` and is not: this year at any time,
    /// next year from 1 December.
    pub fn missing_year(&self, today: NaiveDate) -> Option<i32> {
        if !self.covers(today.year()) {
            Some(today.year())
        } else if today.month() == 12 && !self.covers(today.year() + 1) {
            Some(today.year() + 1)
        } else {
            None
        }
    }

    /// Whether the file of `year` is an empty holiday-cn placeholder.
    pub fn is_placeholder(&self, year: i32) -> bool {
        self.placeholders.contains_key(&year)
    }

    /// The folder the files were read from.
    pub fn dir(&self) -> &std::path::Path {
        &self.dir
    }

    pub fn next_year_missing_warning(&self, today: NaiveDate) -> Option<String> {
        let year = self.missing_year(today)?;
        let placeholder = match self.placeholders.get(&year) {
            Some(p) => format!(
                "（{} 里还没有日期：节假日安排公布前 holiday-cn 发布的是空文件）",
                p.display()
            ),
            None => String::new(),
        };
        Some(format!(
            "缺少 {year} 年的工作日日历{placeholder}：国务院公布 {year} 年节假日安排后，把 {HOLIDAY_CN} \
             的 {year}.json 放入 {dir}；在此之前，跨入 {year} 年的工作日时限按周一至周五计算并标为不确定",
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

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::Asia::Shanghai;

    const Y2025: &str = include_str!("../../config/calendar/2025.json");
    const Y2026: &str = include_str!("../../config/calendar/2026.json");

    /// The calendar as shipped: 2025 and 2026, no 2027.
    fn shipped() -> Calendar {
        let files = [
            (
                PathBuf::from("config/calendar/2025.json"),
                Y2025.to_string(),
            ),
            (
                PathBuf::from("config/calendar/2026.json"),
                Y2026.to_string(),
            ),
        ];
        match Calendar::from_files(&files) {
            Ok(c) => c,
            Err(e) => panic!("shipped calendar does not load:\n{e}"),
        }
    }

    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("test date")
    }

    /// A local time in Asia/Shanghai as an instant.
    fn local(s: &str) -> DateTime<Utc> {
        let naive = chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").expect("test time");
        Shanghai
            .from_local_datetime(&naive)
            .single()
            .expect("Shanghai has no gaps")
            .with_timezone(&Utc)
    }

    /// The end of `day` in Asia/Shanghai.
    fn end_of(day: &str) -> DateTime<Utc> {
        local(&format!("{day} 23:59")) + Duration::seconds(59)
    }

    #[test]
    fn working_days_follow_the_official_schedule() {
        let cal = shipped();
        let table = [
            ("2026-11-20", true, "an ordinary Friday"),
            ("2026-11-21", false, "an ordinary Saturday"),
            ("2026-11-22", false, "an ordinary Sunday"),
            ("2026-01-01", false, "元旦"),
            ("2026-01-04", true, "Sunday made up for 元旦"),
            ("2026-02-14", true, "Saturday made up for 春节"),
            ("2026-02-23", false, "Monday, last day of 春节"),
            ("2026-02-28", true, "Saturday made up for 春节"),
            ("2026-05-09", true, "Saturday made up for 劳动节"),
            ("2026-09-20", true, "Sunday made up for 国庆节"),
            ("2026-09-25", false, "Friday, 中秋节"),
            ("2026-10-03", false, "Saturday inside 国庆节"),
            ("2026-10-07", false, "Wednesday, last day of 国庆节"),
            ("2026-10-08", true, "Thursday after 国庆节"),
            ("2026-10-10", true, "Saturday made up for 国庆节"),
            ("2025-10-08", false, "Wednesday, 国庆节、中秋节 2025"),
            ("2025-10-11", true, "Saturday made up in 2025"),
        ];
        for (day, working, why) in table {
            assert_eq!(cal.is_working_day(date(day)), Ok(working), "{day}: {why}");
        }
    }

    #[test]
    fn a_year_without_data_is_an_error_not_a_guess() {
        let cal = shipped();
        assert!(cal.covers(2026));
        assert!(!cal.covers(2027));
        assert_eq!(
            cal.is_working_day(date("2027-01-04")),
            Err(MissingYear(2027))
        );
        assert_eq!(
            cal.is_working_day(date("2024-06-03")),
            Err(MissingYear(2024))
        );
    }

    #[test]
    fn deadlines_in_working_days() {
        let cal = shipped();
        // (received, local time in Asia/Shanghai; working days; due at the end of; why)
        let table = [
            ("2026-11-20 10:00", 5, "2026-11-27", "over one weekend"),
            (
                "2026-11-26 09:00",
                3,
                "2026-12-01",
                "Thursday + 3 skips the weekend",
            ),
            (
                "2026-11-23 23:59",
                1,
                "2026-11-24",
                "the day of receipt never counts",
            ),
            (
                "2026-11-23 08:00",
                0,
                "2026-11-23",
                "zero days: end of the day of receipt",
            ),
            // 中秋 Sep 25–27, then 国庆 Oct 1–7: Sep 28, 29, 30, Oct 8, 9.
            (
                "2026-09-25 15:00",
                5,
                "2026-10-09",
                "a netizen message over 国庆节",
            ),
            (
                "2026-09-25 15:00",
                6,
                "2026-10-10",
                "the make-up Saturday counts",
            ),
            (
                "2026-09-25 15:00",
                7,
                "2026-10-12",
                "a penalty decision over 国庆节",
            ),
            (
                "2026-09-18 11:00",
                1,
                "2026-09-20",
                "the make-up Sunday counts",
            ),
            (
                "2026-09-18 11:00",
                5,
                "2026-09-24",
                "make-up Sunday, then Mon–Thu",
            ),
            // 春节 Feb 15–23 with make-up Saturdays Feb 14 and Feb 28.
            (
                "2026-02-13 16:00",
                1,
                "2026-02-14",
                "make-up Saturday before 春节",
            ),
            (
                "2026-02-13 16:00",
                5,
                "2026-02-27",
                "a netizen message over 春节",
            ),
            (
                "2026-02-13 16:00",
                6,
                "2026-02-28",
                "make-up Saturday after 春节",
            ),
            (
                "2026-02-13 16:00",
                20,
                "2026-03-19",
                "proactive disclosure over 春节",
            ),
            // 2025 into 2026: 元旦 Jan 1–3 off, Sunday Jan 4 worked.
            (
                "2025-12-30 10:00",
                3,
                "2026-01-05",
                "over 元旦 2026 into its make-up Sunday",
            ),
        ];
        for (received, days, due, why) in table {
            let got = cal.add_working_days(local(received), days, Shanghai);
            assert_eq!(got.due, end_of(due), "{received} + {days}: {why}");
            assert!(got.is_certain(), "{received} + {days}: {why}");
            let start = local(received).with_timezone(&Shanghai).date_naive();
            assert_eq!(
                cal.working_days_between(start, date(due)),
                Ok(i64::from(days)),
                "between {received} and {due}: {why}"
            );
        }
    }

    #[test]
    fn the_day_of_receipt_is_the_local_day() {
        // 2026-09-24 17:00 UTC is already Friday 2026-09-25 01:00 in Beijing.
        let received = Utc
            .with_ymd_and_hms(2026, 9, 24, 17, 0, 0)
            .single()
            .expect("valid");
        let got = shipped().add_working_days(received, 5, Shanghai);
        assert_eq!(got.due, end_of("2026-10-09"));
        assert_eq!(
            got.due,
            Utc.with_ymd_and_hms(2026, 10, 9, 15, 59, 59)
                .single()
                .expect("valid")
        );
    }

    #[test]
    fn deadlines_reaching_a_year_without_data_are_flagged() {
        let cal = shipped();
        let table: [(&str, u32, &str, &[i32]); 5] = [
            // Dec 25, 28, 29, 30, 31, then 2027-01-01 and 01-04 counted Monday–Friday.
            ("2026-12-24 10:00", 7, "2027-01-04", &[2027]),
            ("2026-12-24 10:00", 5, "2026-12-31", &[]),
            // Friday Dec 31: the next day is already in 2027, even though it is a weekend.
            ("2026-12-31 10:00", 1, "2027-01-01", &[2027]),
            ("2024-12-30 10:00", 3, "2025-01-03", &[2024]),
            ("2026-06-01 10:00", 20, "2026-06-30", &[]),
        ];
        for (received, days, due, years) in table {
            let got = cal.add_working_days(local(received), days, Shanghai);
            assert_eq!(got.due, end_of(due), "{received} + {days}");
            assert_eq!(got.uncertain_years, years, "{received} + {days}");
        }
        assert_eq!(
            cal.working_days_between(date("2026-12-24"), date("2027-01-04")),
            Err(MissingYear(2027))
        );
    }

    #[test]
    fn working_days_between_counts_after_the_first_date() {
        let cal = shipped();
        let table = [
            ("2026-09-25", "2026-10-09", Ok(5)),
            ("2026-10-09", "2026-09-25", Ok(-5)),
            ("2026-11-23", "2026-11-23", Ok(0)),
            ("2026-11-21", "2026-11-22", Ok(0)),
            // A column last updated on Sep 21 is 45 working days old on Nov 30 (国庆 skipped).
            ("2026-09-21", "2026-11-27", Ok(44)),
            ("2026-09-21", "2026-11-30", Ok(45)),
            ("2025-12-31", "2026-01-05", Ok(2)),
            ("2024-12-31", "2025-01-02", Ok(1)),
            ("2024-12-30", "2025-01-02", Err(MissingYear(2024))),
            ("2026-12-31", "2026-12-31", Ok(0)),
        ];
        for (from, to, want) in table {
            assert_eq!(
                cal.working_days_between(date(from), date(to)),
                want,
                "{from} → {to}"
            );
        }
    }

    fn load(files: &[(&str, &str)]) -> Result<Calendar, Diagnostics> {
        let files: Vec<(PathBuf, String)> = files
            .iter()
            .map(|(p, t)| (PathBuf::from(p), t.to_string()))
            .collect();
        Calendar::from_files(&files)
    }

    fn errors(files: &[(&str, &str)]) -> Vec<String> {
        match load(files) {
            Ok(_) => panic!("expected errors"),
            Err(d) => d.0.iter().map(ToString::to_string).collect(),
        }
    }

    #[test]
    fn load_errors_name_file_and_line() {
        let syntax = "{\n  \"year\": 2026,\n  \"days\": [\n    {\"name\": \"元旦\" \"date\": \"2026-01-01\"}\n  ]\n}\n";
        let bad_date = "{\"year\": 2026, \"days\": [\n  {\"name\": \"元旦\", \"date\": \"2026-01-01\", \"isOffDay\": true},\n  {\"name\": \"x\", \"date\": \"2026-13-01\", \"isOffDay\": true}\n]}";
        let outside = "{\"year\": 2026, \"days\": [\n  {\"name\": \"元旦\", \"date\": \"2026-01-01\", \"isOffDay\": true},\n\n  {\"name\": \"元旦\", \"date\": \"2027-01-01\", \"isOffDay\": true}\n]}";
        let weekday = "{\"year\": 2026, \"days\": [\n  {\"name\": \"国庆节\", \"date\": \"2026-09-21\", \"isOffDay\": false}\n]}";
        let missing_field =
            "{\"year\": 2026,\n \"days\": [\n  {\"name\": \"元旦\", \"date\": \"2026-01-01\"}\n]}";
        let table: [(&str, &str, &str); 6] = [
            (
                "config/calendar/2026.json",
                syntax,
                "config/calendar/2026.json:4: not a holiday-cn calendar file: expected `,` or `}`",
            ),
            (
                "config/calendar/2026.json",
                missing_field,
                "config/calendar/2026.json:3: not a holiday-cn calendar file: missing field `isOffDay`",
            ),
            (
                "config/calendar/2026.json",
                bad_date,
                "config/calendar/2026.json:3: `2026-13-01` is not a date written YYYY-MM-DD",
            ),
            (
                "config/calendar/2026.json",
                outside,
                "config/calendar/2026.json:4: 2027-01-01 is outside the file's year 2026",
            ),
            (
                "config/calendar/2026.json",
                weekday,
                "config/calendar/2026.json:2: 2026-09-21 is a Mon, already a working day",
            ),
            (
                "config/calendar/2027.json",
                Y2026,
                "config/calendar/2027.json:4: the file is named for 2027 but says \"year\": 2026",
            ),
        ];
        for (path, text, want) in table {
            let got = errors(&[(path, text)]);
            assert!(
                got.iter().any(|e| e.starts_with(want)),
                "want {want:?}, got {got:?}"
            );
        }
    }

    #[test]
    fn a_year_defined_twice_is_an_error_on_the_second_file() {
        let got = errors(&[
            ("config/calendar/2026.json", Y2026),
            ("config/calendar/2026-copy.json", Y2026),
        ]);
        assert_eq!(
            got,
            ["config/calendar/2026-copy.json:4: year 2026 is already defined in config/calendar/2026.json"]
        );
    }

    #[test]
    fn every_mistake_is_reported_at_once() {
        let bad = "{\"year\": 2026, \"days\": [\n{\"name\": \"a\", \"date\": \"2026-02-30\", \"isOffDay\": true},\n{\"name\": \"b\", \"date\": \"2025-12-31\", \"isOffDay\": true}\n]}";
        let got = errors(&[
            ("config/calendar/2025.json", "{\"year\": 2025"),
            ("config/calendar/2026.json", bad),
        ]);
        assert_eq!(got.len(), 3, "{got:?}");
    }

    #[test]
    fn an_empty_folder_is_an_error() {
        let dir = tempfile::tempdir().expect("temp dir");
        let got = match Calendar::load_dir(dir.path()) {
            Ok(_) => panic!("an empty folder must not load"),
            Err(d) => d.to_string(),
        };
        assert!(got.contains("no calendar"), "{got}");
        assert!(Calendar::load_dir(&dir.path().join("absent")).is_err());
    }

    #[test]
    fn load_dir_reads_every_json_and_names_the_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let write = |name: &str, text: &str| {
            std::fs::write(dir.path().join(name), text).expect("write fixture");
        };
        write("2026.json", Y2026);
        write("2025.json", Y2025);
        write("README.md", "not a calendar");
        let cal = match Calendar::load_dir(dir.path()) {
            Ok(c) => c,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(cal.years().collect::<Vec<_>>(), [2025, 2026]);

        write("2027.json", "{\"year\": 2027,\n\"days\": [}");
        let got = match Calendar::load_dir(dir.path()) {
            Ok(_) => panic!("a broken file must not load"),
            Err(d) => d.to_string(),
        };
        let want = format!("{}:2: ", dir.path().join("2027.json").display());
        assert!(got.starts_with(&want), "{got}");
    }

    #[test]
    fn the_shipped_folder_loads() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(DEFAULT_DIR);
        let cal = match Calendar::load_dir(&dir) {
            Ok(c) => c,
            Err(e) => panic!("{e}"),
        };
        assert!(cal.covers(2025) && cal.covers(2026));
    }

    #[test]
    fn the_december_warning() {
        let cal = shipped();
        let with_2027 = load(&[
            ("config/calendar/2026.json", Y2026),
            (
                "config/calendar/2027.json",
                "{\"year\": 2027, \"days\": [{\"name\": \"元旦\", \"date\": \"2027-01-01\", \"isOffDay\": true}]}",
            ),
        ])
        .expect("loads");
        let placeholder = load(&[
            ("config/calendar/2026.json", Y2026),
            (
                "config/calendar/2027.json",
                "{\"year\": 2027, \"papers\": [], \"days\": []}",
            ),
        ])
        .expect("loads");
        assert!(!placeholder.covers(2027), "an empty file is no data");

        let table: [(&Calendar, &str, Option<&[&str]>); 7] = [
            (&cal, "2026-11-25", None),
            (&cal, "2026-11-30", None),
            (
                &cal,
                "2026-12-01",
                Some(&[
                    "缺少 2027 年的工作日日历",
                    "的 2027.json 放入 config/calendar",
                    HOLIDAY_CN,
                ]),
            ),
            (&cal, "2026-12-31", Some(&["2027"])),
            (&with_2027, "2026-12-01", None),
            (
                &placeholder,
                "2026-12-01",
                Some(&["2027.json 里还没有日期"]),
            ),
            // In a year with no data at all the warning does not wait for December.
            (
                &with_2027,
                "2028-03-01",
                Some(&["缺少 2028 年的工作日日历"]),
            ),
        ];
        for (cal, today, want) in table {
            let got = cal.next_year_missing_warning(date(today));
            match (want, &got) {
                (None, None) => {}
                (Some(parts), Some(msg)) => {
                    for part in parts {
                        assert!(msg.contains(part), "{today}: {part:?} not in {msg:?}");
                    }
                }
                _ => panic!("{today}: got {got:?}"),
            }
        }
    }
}
