//! Reading one holiday-cn JSON file (https://github.com/NateScarlet/holiday-cn).
//!
//! The format is the data set's own, so that updating a year is copying a file: `{"year":
//! 2026, "days": [{"name": "国庆节", "date": "2026-10-01", "isOffDay": true}, …]}`, with
//! only the exceptions to Monday–Friday listed. Fields we do not use (`$schema`, `$id`,
//! `papers`) are accepted. serde_json reports syntax and type errors with a line; mistakes
//! inside a valid file (a bad or out-of-year date) are located by finding the date's text,
//! so that `yuqing check` can still point at the line.

use crate::vocab::diagnostic::{line_of, Diagnostic, Diagnostics};
use chrono::{Datelike, NaiveDate, Weekday};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

/// One year's exceptions, as read from one file.
#[derive(Debug)]
pub(super) struct YearFile {
    pub year: i32,
    /// 1-based line of the `"year"` key, for a duplicate-year message.
    pub year_line: Option<usize>,
    /// Date → (holiday name, is it an off day).
    pub days: BTreeMap<NaiveDate, (String, bool)>,
}

#[derive(Deserialize)]
struct RawFile {
    year: i32,
    days: Vec<RawDay>,
}

#[derive(Deserialize)]
struct RawDay {
    name: String,
    date: String,
    #[serde(rename = "isOffDay")]
    is_off_day: bool,
}

/// Parses `source`, the text of `file`, reporting every mistake found.
pub(super) fn parse(file: &Path, source: &str) -> Result<YearFile, Diagnostics> {
    let raw: RawFile = serde_json::from_str(source).map_err(|e| json_error(file, &e))?;
    let mut errs = Diagnostics::default();
    let year_line = source.find("\"year\"").map(|o| line_of(source, o));

    if let Some(stem_year) = file
        .file_stem()
        .and_then(|s| s.to_str())
        .and_then(|s| s.parse::<i32>().ok())
    {
        if stem_year != raw.year {
            errs.push(Diagnostic::new(
                file,
                year_line,
                format!(
                    "the file is named for {stem_year} but says \"year\": {}",
                    raw.year
                ),
            ));
        }
    }

    let mut days = BTreeMap::new();
    // Entries are found in file order, so searching on from the last one finds each
    // entry's own text even when two entries share a date.
    let mut cursor = 0;
    for day in raw.days {
        let quoted = format!("\"{}\"", day.date);
        let line = match source[cursor..].find(&quoted) {
            Some(o) => {
                cursor += o + quoted.len();
                Some(line_of(source, cursor))
            }
            None => None,
        };
        let date = match NaiveDate::parse_from_str(&day.date, "%Y-%m-%d") {
            Ok(d) => d,
            Err(_) => {
                errs.push(Diagnostic::new(
                    file,
                    line,
                    format!("`{}` is not a date written YYYY-MM-DD", day.date),
                ));
                continue;
            }
        };
        if date.year() != raw.year {
            errs.push(Diagnostic::new(
                file,
                line,
                format!("{date} is outside the file's year {}", raw.year),
            ));
            continue;
        }
        if !day.is_off_day && !matches!(date.weekday(), Weekday::Sat | Weekday::Sun) {
            errs.push(Diagnostic::new(
                file,
                line,
                format!(
                    "{date} is a {:?}, already a working day; \"isOffDay\": false marks a \
                     make-up working weekend day (调休)",
                    date.weekday()
                ),
            ));
            continue;
        }
        match days.get(&date) {
            Some((_, off)) if *off != day.is_off_day => errs.push(Diagnostic::new(
                file,
                line,
                format!("{date} is listed both as an off day and as a working day"),
            )),
            _ => {
                days.insert(date, (day.name, day.is_off_day));
            }
        }
    }
    errs.into_result(YearFile {
        year: raw.year,
        year_line,
        days,
    })
}

fn json_error(file: &Path, e: &serde_json::Error) -> Diagnostics {
    // serde_json's Display ends with " at line L column C"; we give the line ourselves.
    let full = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    let message = full.strip_suffix(&suffix).unwrap_or(&full);
    let line = (e.line() > 0).then_some(e.line());
    Diagnostic::new(
        file,
        line,
        format!(
            "not a holiday-cn calendar file: {message} (column {})",
            e.column()
        ),
    )
    .into()
}
