//! Keeping the working-day calendar current: `yuqing calendar update` (and the daemon once
//! a day when `[daemon] calendar_url` is set) fetches this year's and next year's holiday-cn
//! files from that base URL (`<calendar_url>/2027.json`).
//!
//! A conditional GET with the ETag of the last copy (kept beside it as `.2027.json.etag`);
//! a file is accepted only when it is a holiday-cn file of that year whose `days` and
//! `papers` are both non-empty: holiday-cn keeps an empty placeholder for next year until
//! the State Council announces the schedule, and an empty year must never be read as "no
//! holidays". An accepted file is written atomically (a temporary file in the folder, then
//! renamed over the old one), and what changed is listed day by day.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::fetch::{FetchError, Fetched, Fetcher, Validators};
use crate::rules::calendar::Calendar;
use url::Url;

/// What an update did to one year's file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum YearUpdate {
    /// Written: new, or different. `changes` lists each day added, removed or changed
    /// (`2027-10-08 上班 → 休息`), empty for a new file.
    Written {
        year: i32,
        new: bool,
        changes: Vec<String>,
    },
    /// 304, or the same content.
    Unchanged { year: i32 },
    /// The server has no file for the year (404), or only a placeholder with no days or
    /// papers: the copy on disk (if any) is kept.
    NotPublished { year: i32, why: String },
    /// Fetching or checking failed; the copy on disk is kept.
    Failed { year: i32, error: String },
}

/// Updates `years` in `dir` from `base`.
pub async fn update(fetcher: &Fetcher, base: &Url, dir: &Path, years: &[i32]) -> Vec<YearUpdate> {
    let mut out = Vec::new();
    for &year in years {
        let result = update_year(fetcher, base, dir, year).await;
        out.push(result.unwrap_or_else(|error| YearUpdate::Failed { year, error }));
    }
    out
}

fn etag_path(dir: &Path, year: i32) -> PathBuf {
    dir.join(format!(".{year}.json.etag"))
}

async fn update_year(
    fetcher: &Fetcher,
    base: &Url,
    dir: &Path,
    year: i32,
) -> Result<YearUpdate, String> {
    let base = if base.path().ends_with('/') {
        base.clone()
    } else {
        let mut b = base.clone();
        b.set_path(&format!("{}/", base.path()));
        b
    };
    let url = base
        .join(&format!("{year}.json"))
        .map_err(|e| format!("{base}: {e}"))?;
    let path = dir.join(format!("{year}.json"));
    let old = std::fs::read_to_string(&path).ok();
    let validators = Validators {
        etag: old
            .as_ref()
            .and_then(|_| std::fs::read_to_string(etag_path(dir, year)).ok())
            .map(|e| e.trim().to_string())
            .filter(|e| !e.is_empty()),
        last_modified: None,
    };
    let fetched = fetcher
        .fetch(
            &url,
            &Default::default(),
            std::time::Duration::from_secs(30),
            &validators,
        )
        .await;
    let (bytes, etag) = match fetched {
        Ok(Fetched::NotModified) => return Ok(YearUpdate::Unchanged { year }),
        Ok(Fetched::Body {
            bytes, validators, ..
        }) => (bytes, validators.etag),
        Err(FetchError::Status { status: 404, .. }) => {
            return Ok(YearUpdate::NotPublished {
                year,
                why: format!("{url} answers 404"),
            })
        }
        Err(e) => return Err(format!("{url}: {e}")),
    };
    let text = String::from_utf8(bytes).map_err(|_| format!("{url}: not UTF-8"))?;
    if let Some(why) = placeholder(&text) {
        return Ok(YearUpdate::NotPublished {
            year,
            why: format!("{url}: {why}"),
        });
    }
    // The same checks as loading: a holiday-cn file of that year, with valid dates.
    let calendar = Calendar::from_files(&[(path.clone(), text.clone())])
        .map_err(|d| d.to_string().trim().replace('\n', "; "))?;
    if !calendar.covers(year) {
        return Err(format!("{url} is not the calendar of {year}"));
    }
    let changes = match &old {
        Some(old) if days(old) == days(&text) => {
            save_etag(dir, year, etag.as_deref());
            return Ok(YearUpdate::Unchanged { year });
        }
        Some(old) => diff(&days(old), &days(&text)),
        None => Vec::new(),
    };
    write_atomically(dir, &path, &text).map_err(|e| format!("{}: {e}", path.display()))?;
    save_etag(dir, year, etag.as_deref());
    Ok(YearUpdate::Written {
        year,
        new: old.is_none(),
        changes,
    })
}

/// Why a holiday-cn file is only a placeholder, if it is one.
fn placeholder(text: &str) -> Option<String> {
    let value: serde_json::Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(_) => return None, // reported by the full check
    };
    let empty = |key: &str| {
        value
            .get(key)
            .and_then(|v| v.as_array())
            .is_none_or(|a| a.is_empty())
    };
    match (empty("days"), empty("papers")) {
        (false, false) => None,
        (true, true) => Some("a placeholder with no days and no papers yet".into()),
        (true, false) => Some("no days yet".into()),
        (false, true) => Some("no papers (the State Council notice) yet".into()),
    }
}

/// Date → (name, off) of a holiday-cn file.
fn days(text: &str) -> BTreeMap<String, (String, bool)> {
    let value: serde_json::Value = serde_json::from_str(text).unwrap_or_default();
    value
        .get("days")
        .and_then(|d| d.as_array())
        .map(|days| {
            days.iter()
                .filter_map(|d| {
                    Some((
                        d.get("date")?.as_str()?.to_string(),
                        (
                            d.get("name")
                                .and_then(|n| n.as_str())
                                .unwrap_or("")
                                .to_string(),
                            d.get("isOffDay")?.as_bool()?,
                        ),
                    ))
                })
                .collect()
        })
        .unwrap_or_default()
}

fn word(off: bool) -> &'static str {
    if off {
        "休息"
    } else {
        "上班"
    }
}

fn diff(
    old: &BTreeMap<String, (String, bool)>,
    new: &BTreeMap<String, (String, bool)>,
) -> Vec<String> {
    let mut out = Vec::new();
    for (date, (name, off)) in new {
        match old.get(date) {
            None => out.push(format!("{date} {name} 新增：{}", word(*off))),
            Some((_, was)) if was != off => {
                out.push(format!("{date} {name} {} → {}", word(*was), word(*off)))
            }
            _ => {}
        }
    }
    for (date, (name, off)) in old {
        if !new.contains_key(date) {
            out.push(format!("{date} {name} 删除（原为{}）", word(*off)));
        }
    }
    out.sort();
    out
}

fn write_atomically(dir: &Path, path: &Path, text: &str) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        path.file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("calendar"),
        std::process::id()
    ));
    std::fs::write(&tmp, text)?;
    std::fs::File::open(&tmp)?.sync_all()?;
    std::fs::rename(&tmp, path)
}

fn save_etag(dir: &Path, year: i32, etag: Option<&str>) {
    let path = etag_path(dir, year);
    let result = match etag {
        Some(e) => std::fs::write(&path, e),
        None => std::fs::remove_file(&path).or(Ok(())),
    };
    if let Err(e) = result {
        tracing::warn!(path = %path.display(), error = %e, "cannot save the calendar's ETag");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_without_days_or_papers_is_a_placeholder() {
        assert!(placeholder(r#"{"year":2027,"papers":[],"days":[]}"#).is_some());
        assert!(placeholder(r#"{"year":2027,"papers":["x"],"days":[]}"#).is_some());
        assert!(placeholder(
            r#"{"year":2027,"papers":["x"],"days":[{"name":"元旦","date":"2027-01-01","isOffDay":true}]}"#
        )
        .is_none());
    }

    #[test]
    fn changes_are_listed_day_by_day() {
        let old = days(
            r#"{"days":[{"name":"国庆节","date":"2027-10-08","isOffDay":false},{"name":"元旦","date":"2027-01-01","isOffDay":true}]}"#,
        );
        let new = days(
            r#"{"days":[{"name":"国庆节","date":"2027-10-08","isOffDay":true},{"name":"春节","date":"2027-02-06","isOffDay":true}]}"#,
        );
        assert_eq!(
            diff(&old, &new),
            [
                "2027-01-01 元旦 删除（原为休息）",
                "2027-02-06 春节 新增：休息",
                "2027-10-08 国庆节 上班 → 休息"
            ]
        );
    }
}
