//! `/report?from=…&to=…`: the 考核 report in the browser, the same lines as `yuqing report
//! incidents`, with `&format=csv` giving the same CSV; charts of incidents per day by
//! severity and of deadlines met versus missed.

use super::charts;
use super::pages::{self, Answer, Layout, Viewer};
use super::words;
use super::Console;
use crate::notify::report::{self, Line};
use crate::vocab::clock::{from_secs, midnight, secs};
use crate::vocab::ids::IncidentId;
use crate::vocab::severity::Severity;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use chrono::{Datelike, Duration, NaiveDate};

#[derive(serde::Deserialize, Default)]
pub struct Params {
    from: Option<String>,
    to: Option<String>,
    format: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "report.html")]
struct ReportPage {
    layout: Layout,
    from: String,
    to: String,
    error: Option<String>,
    header: Vec<&'static str>,
    lines: Vec<Line>,
    incidents: usize,
    per_day: String,
    met_missed: String,
    csv_link: String,
    /// Incidents of the period this version cannot read: named above the table, not
    /// counted (`report::UNREADABLE`).
    unreadable: Vec<(IncidentId, String)>,
    unreadable_note: &'static str,
}

/// A column a day from `from` to `to` (92 at most) of the incidents `opened` (when, how
/// severe), each in a part per severity: 一般 (`Severity::ALL`'s first) at the bottom.
fn per_day(
    opened: impl Iterator<Item = (i64, Severity)>,
    from: NaiveDate,
    to: NaiveDate,
    tz: chrono_tz::Tz,
) -> Vec<(String, Vec<(i64, &'static str)>)> {
    let days = (to - from).num_days().clamp(0, 92) + 1;
    let mut columns: Vec<(String, Vec<(i64, &'static str)>)> = (0..days)
        .map(|k| {
            let d = from + Duration::days(k);
            (
                d.format("%m-%d").to_string(),
                Severity::ALL
                    .map(|s| (0, words::severity_class(s)))
                    .to_vec(),
            )
        })
        .collect();
    for (at, severity) in opened {
        let d = from_secs(at).with_timezone(&tz).date_naive();
        let day = usize::try_from((d - from).num_days())
            .ok()
            .and_then(|k| columns.get_mut(k));
        let slot = Severity::ALL.iter().position(|&s| s == severity);
        if let (Some((_, parts)), Some(slot)) = (day, slot) {
            parts[slot].0 += 1;
        }
    }
    columns
}

pub async fn page(State(c): State<Console>, v: Viewer, Query(p): Query<Params>) -> Answer {
    let (tz, now, today) = (v.tz, v.now, v.today());
    let month_start = today.with_day(1).unwrap_or(today);
    let from_s = p.from.clone().unwrap_or_else(|| month_start.to_string());
    let to_s = p.to.clone().unwrap_or_else(|| today.to_string());
    let (from, to) = match (pages::date(&from_s), pages::date(&to_s)) {
        (Some(f), Some(t)) if f <= t => (f, t),
        _ => {
            let page = ReportPage {
                layout: v.layout("考核报表", "/report"),
                error: Some("日期格式为 2026-11-01，且起始日期不晚于结束日期。".into()),
                from: from_s,
                to: to_s,
                header: report::HEADER.to_vec(),
                lines: vec![],
                incidents: 0,
                per_day: String::new(),
                met_missed: String::new(),
                csv_link: String::new(),
                unreadable: vec![],
                unreadable_note: report::UNREADABLE,
            };
            return Ok((StatusCode::BAD_REQUEST, v.token, page).into_response());
        }
    };
    let at = |d: NaiveDate| midnight(d, tz).timestamp();
    let (start, end) = (at(from), at(to + Duration::days(1)));
    let mut rows = Vec::new();
    let (readable, unreadable) = c.store.incidents_opened_between(start, end).await?;
    for (id, why) in &unreadable {
        tracing::error!(incident_id = id.0, error = %why, "an incident this version cannot read is named, not counted, in the report");
    }
    for i in readable {
        let d = c.store.deadlines_of(c.store.pool(), i.id).await?;
        rows.push((i, d));
    }
    let lines = report::lines(&rows, now, tz);
    if p.format.as_deref() == Some("csv") {
        let mut w = csv::Writer::from_writer(Vec::new());
        let _ = w.write_record(report::HEADER);
        for l in &lines {
            let _ = w.write_record(l.csv_record());
        }
        for (id, why) in &unreadable {
            let _ = w.write_record(report::unreadable_record(*id, why));
        }
        let body = w.into_inner().map_err(|e| anyhow::anyhow!("{e}"))?;
        // A byte order mark first, as the CLI's CSV: Excel then reads the Chinese right.
        let mut out = "\u{feff}".as_bytes().to_vec();
        out.extend(body);
        let name = format!("yuqing-report-{from}-{to}.csv");
        return Ok(pages::attachment(&name, "text/csv; charset=utf-8", out));
    }
    let per_day = per_day(
        rows.iter().map(|(i, _)| (i.opened_at, i.severity)),
        from,
        to,
        tz,
    );
    let (mut met, mut late, mut missed, mut pending) = (0, 0, 0, 0);
    for (i, ds) in &rows {
        for d in ds {
            match (d.met_at, d.cancelled_at) {
                (Some(m), _) if m <= d.due_at => met += 1,
                (Some(_), _) => late += 1,
                (None, Some(_)) => {}
                (None, None) => {
                    let end = i.ended_at().map(secs).unwrap_or(secs(now));
                    if end > d.due_at {
                        missed += 1
                    } else {
                        pending += 1
                    }
                }
            }
        }
    }
    let met_missed = charts::columns(
        "时限完成情况",
        &[
            ("按时完成".into(), vec![(met, "ok")]),
            ("超时完成".into(), vec![(late, "soon")]),
            ("未完成（超时）".into(), vec![(missed, "overdue")]),
            ("进行中".into(), vec![(pending, "bar")]),
        ],
    );
    let (from, to) = (from.to_string(), to.to_string());
    let csv_link = pages::href(
        "/report",
        [("from", from.as_str()), ("to", &to), ("format", "csv")],
    );
    let page = ReportPage {
        layout: v.layout("考核报表", "/report"),
        from,
        to,
        error: None,
        header: report::HEADER.to_vec(),
        incidents: rows.len(),
        lines,
        per_day: charts::columns("每日新增事件（按级别）", &per_day),
        met_missed,
        csv_link,
        unreadable,
        unreadable_note: report::UNREADABLE,
    };
    Ok((v.token, page).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_day_counts_its_incidents_by_severity_the_ordinary_at_the_bottom() {
        let tz = chrono_tz::Asia::Shanghai;
        let day = |d: u32| NaiveDate::from_ymd_opt(2026, 11, d).unwrap();
        // 2026-11-01 23:30 and 2026-11-02 00:30 in Shanghai; one before the period.
        let (late, early, before) = (1_793_547_000, 1_793_550_600, 1_793_419_200);
        let opened = [
            (late, Severity::Major),
            (early, Severity::Ordinary),
            (early, Severity::EspeciallyMajor),
            (before, Severity::Major),
        ];
        let columns = per_day(opened.into_iter(), day(1), day(3), tz);
        let shown: Vec<(&str, Vec<(i64, &str)>)> = columns
            .iter()
            .map(|(d, parts)| (d.as_str(), parts.clone()))
            .collect();
        assert_eq!(
            shown,
            [
                (
                    "11-01",
                    vec![(0, "sev-4"), (0, "sev-3"), (1, "sev-2"), (0, "sev-1")]
                ),
                (
                    "11-02",
                    vec![(1, "sev-4"), (0, "sev-3"), (0, "sev-2"), (1, "sev-1")]
                ),
                (
                    "11-03",
                    vec![(0, "sev-4"), (0, "sev-3"), (0, "sev-2"), (0, "sev-1")]
                ),
            ]
        );
    }
}
