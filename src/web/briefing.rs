//! `/briefing?from=…&to=…`: the leaders' 舆情 briefing in the browser, the numbers that
//! `yuqing briefing` prints and the `daily_briefing` / `weekly_briefing` jobs mail
//! (`obligations::briefing::gather`), with SVG charts instead of the mail's PNGs. By
//! default yesterday's 日报; links to the day before and after, and to the week (Monday
//! to Sunday) that holds the day. Read-only: every role may look.

use super::charts;
use super::pages::{self, Answer, Layout, Viewer};
use super::Console;
use crate::notify::briefing::{self, Count, EventLine, Numbers};
use crate::vocab::clock::local;
use crate::vocab::clock::{from_secs, midnight};
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
}

/// A link to another period.
pub struct Link {
    pub id: &'static str,
    pub text: String,
    pub href: String,
}

/// A row of a count table.
pub struct CountRow {
    pub label: String,
    pub total: String,
    pub negative: String,
    pub share: String,
}

/// Events under a heading.
pub struct Section {
    pub head: &'static str,
    pub id: &'static str,
    pub events: Vec<EventLine>,
}

/// A table of counts: by time, topic or source.
pub struct CountTable {
    pub id: &'static str,
    pub first: &'static str,
    pub rows: Vec<CountRow>,
}

/// A failing or silent source as the page words it.
pub struct Failing {
    pub name: String,
    pub what: String,
    pub since: String,
    pub error: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "briefing.html")]
struct BriefingPage {
    layout: Layout,
    from: String,
    to: String,
    error: Option<String>,
    links: Vec<Link>,
    heading: String,
    period: String,
    n: Option<Numbers>,
    sections: Vec<Section>,
    tables: Vec<CountTable>,
    volume_chart: String,
    topic_chart: String,
    source_chart: String,
    failing: Vec<Failing>,
}

fn rows(counts: &[Count]) -> Vec<CountRow> {
    counts
        .iter()
        .map(|c| CountRow {
            label: c.label.clone(),
            total: briefing::thousands(c.total),
            negative: briefing::thousands(c.negative),
            share: c.share(),
        })
        .collect()
}

fn href(from: NaiveDate, to: NaiveDate) -> String {
    let (from, to) = (from.to_string(), to.to_string());
    pages::href("/briefing", [("from", from.as_str()), ("to", to.as_str())])
}

/// The day before and after (or week, for a week from a Monday), and the week that holds
/// the day (or the last day of the week); none that starts after `today`.
fn links(from: NaiveDate, to: NaiveDate, today: NaiveDate) -> Vec<Link> {
    let days = (to - from).num_days() + 1;
    let mut out = Vec::new();
    let mut push = |id, text: &str, f: NaiveDate, t: NaiveDate| {
        if f <= today {
            out.push(Link {
                id,
                text: text.to_string(),
                href: href(f, t),
            })
        }
    };
    let monday = |d: NaiveDate| d - Duration::days(i64::from(d.weekday().num_days_from_monday()));
    if days == 7 && from.weekday() == chrono::Weekday::Mon {
        let week = Duration::days(7);
        push("prev", "上一周", from - week, to - week);
        push("next", "下一周", from + week, to + week);
        let last = to.min(today - Duration::days(1)).max(from);
        push("day", "当周最后一日日报", last, last);
    } else {
        let step = Duration::days(days);
        let (p, n) = if days == 1 {
            ("前一日", "后一日")
        } else {
            ("上一期", "下一期")
        };
        push("prev", p, from - step, to - step);
        push("next", n, from + step, to + step);
        let m = monday(from);
        push("week", "所在周", m, m + Duration::days(6));
    }
    out
}

pub async fn page(State(c): State<Console>, v: Viewer, Query(p): Query<Params>) -> Answer {
    let (tz, now, today) = (v.tz, v.now, v.today());
    let yesterday = today - Duration::days(1);
    let from_s = p.from.clone().unwrap_or_else(|| yesterday.to_string());
    let to_s = p.to.clone().unwrap_or_else(|| from_s.clone());
    let mut page = BriefingPage {
        layout: v.layout("舆情简报", "/briefing"),
        from: from_s.clone(),
        to: to_s.clone(),
        error: None,
        links: Vec::new(),
        heading: "舆情简报".into(),
        period: String::new(),
        n: None,
        sections: Vec::new(),
        tables: Vec::new(),
        volume_chart: String::new(),
        topic_chart: String::new(),
        source_chart: String::new(),
        failing: Vec::new(),
    };
    let (from, to) = match (pages::date(&from_s), pages::date(&to_s)) {
        (Some(f), Some(t)) if f <= t && f <= today && (t - f).num_days() < 92 => (f, t),
        _ => {
            page.error = Some(
                "日期格式为 2026-11-01；起始日期不晚于结束日期，也不晚于今天；一次最多 92 天。"
                    .into(),
            );
            return Ok((StatusCode::BAD_REQUEST, v.token, page).into_response());
        }
    };
    // Up to the end of `to`, or now for a period that has not ended.
    let start = midnight(from, tz);
    let end = midnight(to + Duration::days(1), tz).min(now);
    let settings = &v.settings;
    let calendar =
        crate::obligations::needs_calendar(&settings.config).then_some(&settings.calendar);
    let n =
        crate::obligations::briefing::gather(&c.store, settings, calendar, start, end, now).await?;
    page.links = links(from, to, today);
    page.heading = format!("舆情{}", n.title);
    page.period = briefing::period(&n);
    page.sections = vec![
        Section {
            head: "二、新立案事件",
            id: "opened",
            events: n.opened.clone(),
        },
        Section {
            head: "三、结案事件",
            id: "closed",
            events: n.closed.clone(),
        },
        Section {
            head: "四、主要事件（按信息数）",
            id: "top",
            events: n.top.clone(),
        },
    ];
    page.tables = vec![
        CountTable {
            id: "by-time",
            first: if n.hourly { "时段" } else { "日期" },
            rows: rows(&{
                let mut v = n.by_time.clone();
                v.push(n.total.clone());
                v
            }),
        },
        CountTable {
            id: "by-topic",
            first: "专题",
            rows: rows(&n.by_topic),
        },
        CountTable {
            id: "by-source",
            first: "来源",
            rows: rows(&n.by_source),
        },
    ];
    if n.total.total > 0 {
        (page.volume_chart, page.topic_chart, page.source_chart) = volume_charts(&n);
    }
    page.failing = n.failing.iter().map(|f| Failing::of(f, tz)).collect();
    page.from = from.to_string();
    page.to = to.to_string();
    page.n = Some(n);
    Ok((v.token, page).into_response())
}

/// The period's volume by hour or day, and the ten topics and sources with most items,
/// each as an SVG chart with the negative part in red.
fn volume_charts(n: &Numbers) -> (String, String, String) {
    let cols: Vec<(String, Vec<(i64, &'static str)>)> = n
        .by_time
        .iter()
        .map(|c| {
            (
                c.label.rsplit(' ').next().unwrap_or(&c.label).to_string(),
                vec![
                    (c.negative as i64, "overdue"),
                    ((c.total - c.negative) as i64, "bar"),
                ],
            )
        })
        .collect();
    let volume = charts::columns(
        if n.hourly {
            "按小时信息量（红色为负面）"
        } else {
            "按日信息量（红色为负面）"
        },
        &cols,
    );
    let bars = |title: &str, counts: &[Count]| {
        let rows: Vec<(String, i64, i64)> = counts
            .iter()
            .take(10)
            .map(|c| (c.label.clone(), c.total as i64, c.negative as i64))
            .collect();
        charts::stacked_bars(title, &rows)
    };
    (
        volume,
        bars("按专题信息量（红色为负面）", &n.by_topic),
        bars("按来源信息量（红色为负面）", &n.by_source),
    )
}

impl Failing {
    fn of(f: &briefing::FailingSource, tz: chrono_tz::Tz) -> Failing {
        Failing {
            name: f.name.clone(),
            what: if f.silent {
                "列表读不出条目（可能网站改版）".into()
            } else {
                format!("连续失败 {} 次", f.failures)
            },
            since: f.since.map(|s| local(from_secs(s), tz)).unwrap_or_default(),
            error: f
                .error
                .as_deref()
                .map(|e| crate::vocab::text::one_line(e, 160))
                .unwrap_or_default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, day).unwrap()
    }

    /// Each link's id and where it goes.
    fn hrefs(l: &[Link]) -> Vec<(&str, &str)> {
        l.iter().map(|l| (l.id, l.href.as_str())).collect()
    }

    #[test]
    fn a_day_links_to_its_neighbours_and_its_week_a_week_to_its() {
        assert_eq!(
            hrefs(&links(d(24), d(24), d(26))),
            [
                ("prev", "/briefing?from=2026-11-23&to=2026-11-23"),
                ("next", "/briefing?from=2026-11-25&to=2026-11-25"),
                ("week", "/briefing?from=2026-11-23&to=2026-11-29"),
            ]
        );
        // Today: no link into tomorrow.
        let l = links(d(24), d(24), d(24));
        assert!(!l.iter().any(|l| l.id == "next"), "today is the last day");
        // A week from Monday: the weeks around it and its last day before today.
        assert_eq!(
            hrefs(&links(d(23), d(29), d(26))),
            [
                ("prev", "/briefing?from=2026-11-16&to=2026-11-22"),
                ("day", "/briefing?from=2026-11-25&to=2026-11-25"),
            ]
        );
    }
}
