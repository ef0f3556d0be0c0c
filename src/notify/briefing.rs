//! The leaders' 舆情 briefing (日报 / 周报): the numbers of a period, computed by one pure
//! function from what the store holds, and their text and HTML.
//!
//! Every sentence is written from the numbers (no invented prose). Items are counted by
//! when they were fetched (监测时间), in the configured zone: by hour for a period of a day
//! or less, by day for a longer one. The HTML part is tables with inline styles (mail
//! clients drop style sheets): incidents and missed deadlines first, missed in red. The
//! text part is complete on its own.

use crate::notify::briefing_charts::{self as charts, Kind as ChartKind};
use crate::notify::report::outcome_of;
use crate::rules::duty::State;
use crate::store::{DeadlineRow, Draft, IncidentRow, ItemTally, OutboxPart};
use crate::vocab::clock::from_secs;
use crate::vocab::clock::local;
use crate::vocab::ids::IncidentId;
use crate::vocab::state::{DeadlineState, IncidentStatus};
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use lettre::message::Mailbox;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// One own channel's publication duty, as the briefing shows it.
#[derive(Debug, Clone)]
pub struct DutyLine {
    pub channel: String,
    pub rule: String,
    pub state: State,
    /// The missed period, worded (`2026-11-02 00:00 – 2026-11-09 00:00`).
    pub missed: Option<String>,
}

/// A source whose latest polls failed, or whose list page reads no items any more.
#[derive(Debug, Clone)]
pub struct FailingSource {
    pub name: String,
    /// Read, but no items (the operators were told: the page may have changed).
    pub silent: bool,
    pub failures: i64,
    pub since: Option<i64>,
    pub error: Option<String>,
}

/// What the numbers are computed from.
pub struct Input<'a> {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// When the briefing is made: deadlines are judged at the end of the period, or now
    /// if that is earlier.
    pub now: DateTime<Utc>,
    pub tz: Tz,
    /// Items fetched in [from, to).
    pub items: &'a [ItemTally],
    /// Topic id → name, and source id → name (ids not found are shown as they are).
    pub topic_names: &'a BTreeMap<String, String>,
    pub source_names: &'a BTreeMap<String, String>,
    /// Incidents open at some time in the period, with their deadlines and how many items
    /// and sources each holds.
    pub incidents: &'a [(IncidentRow, Vec<DeadlineRow>, (i64, i64))],
    /// The source of each incident's earliest item, by incident id (how it spread).
    pub first_sources: &'a BTreeMap<i64, String>,
    pub duties: Vec<DutyLine>,
    pub failing: Vec<FailingSource>,
    /// Incidents of the period whose rows this version cannot read (written by a newer
    /// version), with why: not counted, and said so.
    pub unreadable: Vec<(IncidentId, String)>,
}

/// A count and how many of it are negative.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Count {
    pub label: String,
    pub total: usize,
    pub negative: usize,
}

impl Count {
    /// The negative share, `7.1%` (`-` of nothing).
    pub fn share(&self) -> String {
        share(self.negative, self.total)
    }
}

/// One incident as the briefing lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventLine {
    pub id: i64,
    /// What happened (the incident's title); the topic is named beside it.
    pub title: String,
    pub topic: String,
    pub severity: String,
    pub opened: String,
    pub state: String,
    pub items: i64,
    pub sources: i64,
    /// The source that carried it first, by name; `None` when unknown.
    pub first_source: Option<String>,
    /// Each deadline: what, and its outcome (`按时完成（提前 1小时）`, `未完成（已超时 2小时）`).
    pub deadlines: Vec<(String, String)>,
}

/// A deadline that was missed (or met late) in the period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissedLine {
    pub incident: i64,
    pub title: String,
    pub topic: String,
    pub what: String,
    pub due: String,
    pub outcome: String,
}

/// The numbers of one briefing.
#[derive(Debug, Clone)]
pub struct Numbers {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub tz: Tz,
    /// 日报, 周报 or 简报.
    pub title: &'static str,
    /// 本日, 本周 or 本期.
    pub period_word: &'static str,
    pub hourly: bool,
    pub total: Count,
    pub by_time: Vec<Count>,
    pub by_topic: Vec<Count>,
    pub by_source: Vec<Count>,
    /// Incidents opened in the period that are events of their own: not merged into
    /// another, not dismissed as false positives.
    pub opened: Vec<EventLine>,
    /// Opened in the period but merged into another incident, and dismissed (误报): said
    /// beside the count, not counted as events (issue 28: 6 for 3 events).
    pub opened_merged: usize,
    pub opened_dismissed: usize,
    pub closed: Vec<EventLine>,
    /// The incidents of the period with the most items, then sources (at most five).
    pub top: Vec<EventLine>,
    pub missed: Vec<MissedLine>,
    pub duties: Vec<DutyLine>,
    pub failing: Vec<FailingSource>,
    /// See [`Input::unreadable`]; the summary names them.
    pub unreadable: Vec<(IncidentId, String)>,
    pub summary: String,
}

/// The row of the items that matched no topic.
const UNMATCHED: &str = "（未命中关注专题）";

/// `1,234`.
pub fn thousands(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn share(part: usize, of: usize) -> String {
    if of == 0 {
        "-".into()
    } else {
        format!("{:.1}%", part as f64 * 100.0 / of as f64)
    }
}

fn local_date(t: DateTime<Utc>, tz: Tz) -> NaiveDate {
    t.with_timezone(&tz).date_naive()
}

/// Computes the briefing's numbers.
pub fn compute(input: &Input<'_>) -> Numbers {
    let tz = input.tz;
    let (from, to) = (input.from, input.to);
    let hourly = to - from <= Duration::days(1);
    let (title, period_word) = if hourly {
        ("日报", "本日")
    } else if to - from == Duration::days(7) {
        ("周报", "本周")
    } else {
        ("简报", "本期")
    };
    let mut by_time = buckets(from, to, tz, hourly);
    let (total, by_topic, by_source) = tally(input, &mut by_time);
    let events = events(input);
    let mut n = Numbers {
        from,
        to,
        tz,
        title,
        period_word,
        hourly,
        total,
        by_time: by_time.into_iter().map(|(_, c)| c).collect(),
        by_topic,
        by_source,
        opened: events.opened,
        opened_merged: events.opened_merged,
        opened_dismissed: events.opened_dismissed,
        closed: events.closed,
        top: events.top,
        missed: events.missed,
        duties: input.duties.clone(),
        failing: input.failing.clone(),
        unreadable: input.unreadable.clone(),
        summary: String::new(),
    };
    n.summary = summary(&n);
    n
}

/// A count of nothing yet, under `label`.
fn count(label: impl Into<String>) -> Count {
    Count {
        label: label.into(),
        ..Count::default()
    }
}

/// Every hour (or day) of [`from`, `to`), empty ones included, each with the moment it
/// starts, in order.
fn buckets(
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    tz: Tz,
    hourly: bool,
) -> Vec<(DateTime<Utc>, Count)> {
    let mut by_time = Vec::new();
    if hourly {
        let start = from
            .with_timezone(&tz)
            .with_minute(0)
            .and_then(|t| t.with_second(0))
            .map_or(from, |t| t.with_timezone(&Utc));
        let mut t = start;
        while t < to {
            by_time.push((
                t,
                count(t.with_timezone(&tz).format("%m-%d %H时").to_string()),
            ));
            t += Duration::hours(1);
        }
    } else {
        let last = local_date(to - Duration::seconds(1), tz);
        let mut d = local_date(from, tz);
        while d <= last {
            let at = tz
                .from_local_datetime(&d.and_hms_opt(0, 0, 0).expect("midnight"))
                .earliest()
                .map_or(from, |t| t.with_timezone(&Utc));
            by_time.push((at.max(from), count(d.format("%m-%d").to_string())));
            d = d.succ_opt().expect("a next day");
        }
    }
    by_time
}

/// The items counted in all, into `by_time`'s buckets, by topic (most first, then the
/// unmatched) and by source (most first).
fn tally(
    input: &Input<'_>,
    by_time: &mut [(DateTime<Utc>, Count)],
) -> (Count, Vec<Count>, Vec<Count>) {
    let negative = |i: &ItemTally| i.tone == Some(crate::classify::tone::ToneLabel::Negative);
    let mut total = count("合计");
    let mut topics: BTreeMap<String, Count> = BTreeMap::new();
    let mut unmatched = count(UNMATCHED);
    let mut sources: BTreeMap<String, Count> = BTreeMap::new();
    for item in input.items {
        let n = item.n.max(0) as usize;
        let neg = usize::from(negative(item)) * n;
        let add = |c: &mut Count| {
            c.total += n;
            c.negative += neg;
        };
        add(&mut total);
        let at = from_secs(item.fetched_at);
        // The last bucket that starts at or before the item (the buckets are in order).
        let slot = by_time.partition_point(|(t, _)| *t <= at);
        if let Some((_, c)) = slot.checked_sub(1).and_then(|i| by_time.get_mut(i)) {
            add(c);
        }
        let ids = &item.topics;
        if ids.is_empty() {
            add(&mut unmatched);
        }
        for id in ids.iter() {
            let label = input
                .topic_names
                .get(id.as_str())
                .cloned()
                .unwrap_or_else(|| id.to_string());
            add(topics.entry(id.to_string()).or_insert_with(|| count(label)));
        }
        let label = input
            .source_names
            .get(&item.source_id)
            .cloned()
            .unwrap_or(item.source_id.clone());
        add(sources
            .entry(item.source_id.clone())
            .or_insert_with(|| count(label)));
    }
    let most_first = |m: BTreeMap<String, Count>| {
        let mut v: Vec<Count> = m.into_values().collect();
        v.sort_by(|a, b| b.total.cmp(&a.total).then(b.negative.cmp(&a.negative)));
        v
    };
    let mut by_topic = most_first(topics);
    if unmatched.total > 0 {
        by_topic.push(unmatched);
    }
    (total, by_topic, most_first(sources))
}

/// What the period's incidents come to in the briefing.
struct Events {
    opened: Vec<EventLine>,
    opened_merged: usize,
    opened_dismissed: usize,
    closed: Vec<EventLine>,
    /// The main events, most items first, at most five.
    top: Vec<EventLine>,
    missed: Vec<MissedLine>,
}

/// The incidents opened and closed in the period, the main ones, and the deadlines missed
/// or met late in it: judged at the end of the period (or now, if earlier).
fn events(input: &Input<'_>) -> Events {
    let (from, to, tz) = (input.from, input.to, input.tz);
    let judged = input.now.min(to);
    let in_period = |t: i64| t >= from.timestamp() && t < to.timestamp();
    let event = |i: &IncidentRow, d: &[DeadlineRow], spread: (i64, i64)| EventLine {
        id: i.id.0,
        title: i.title.clone(),
        topic: i.topic_name.clone(),
        severity: i.severity.zh().to_string(),
        opened: local(from_secs(i.opened_at), tz),
        state: i.status.zh().to_string(),
        items: spread.0,
        sources: spread.1,
        first_source: input.first_sources.get(&i.id.0).map(|s| {
            input
                .source_names
                .get(s)
                .cloned()
                .unwrap_or_else(|| s.clone())
        }),
        deadlines: d
            .iter()
            .map(|d| (d.what(), outcome_of(i, d, judged)))
            .collect(),
    };
    let mut e = Events {
        opened: Vec::new(),
        opened_merged: 0,
        opened_dismissed: 0,
        closed: Vec::new(),
        top: Vec::new(),
        missed: Vec::new(),
    };
    for (i, deadlines, spread) in input.incidents {
        let line = event(i, deadlines, *spread);
        if in_period(i.opened_at) {
            match i.status {
                IncidentStatus::Merged => e.opened_merged += 1,
                IncidentStatus::Dismissed => e.opened_dismissed += 1,
                _ => e.opened.push(line.clone()),
            }
        }
        if matches!(i.status, IncidentStatus::Closed) && i.closed_at.is_some_and(in_period) {
            e.closed.push(line.clone());
        }
        // The main events: not false positives, not those merged away (their items are
        // counted in the incident they joined), and only with items in them.
        if !matches!(i.status, IncidentStatus::Dismissed | IncidentStatus::Merged) && line.items > 0
        {
            e.top.push(line);
        }
        for d in deadlines {
            let late = match d.state(i, judged) {
                DeadlineState::Missed { .. } => in_period(d.due_at) || d.due_at < from.timestamp(),
                DeadlineState::Met { late_by, .. } if !late_by.is_zero() => {
                    d.met_at.is_some_and(in_period)
                }
                // Missed, then dismissed as a false positive: the leaders still see it.
                DeadlineState::Cancelled { .. } => {
                    crate::notify::report::overdue_when_dismissed(i, d).is_some()
                        && (in_period(d.due_at) || i.closed_at.is_some_and(in_period))
                }
                _ => false,
            };
            if late {
                e.missed.push(MissedLine {
                    incident: i.id.0,
                    title: i.title.clone(),
                    topic: i.topic_name.clone(),
                    what: d.what(),
                    due: local(from_secs(d.due_at), tz),
                    outcome: outcome_of(i, d, judged),
                });
            }
        }
    }
    e.top
        .sort_by(|a, b| b.items.cmp(&a.items).then(b.sources.cmp(&a.sources)));
    e.top.truncate(5);
    e
}

/// How much of an incident's title the summary quotes, in characters.
const SUMMARY_TITLE_CHARS: usize = 30;

/// The one paragraph, written only from the numbers.
fn summary(n: &Numbers) -> String {
    let p = n.period_word;
    let mut s = if n.total.total == 0 {
        format!("{p}未监测到信息。")
    } else {
        let mut s = format!(
            "{p}监测信息 {} 条，负面 {} 条（{}）",
            thousands(n.total.total),
            thousands(n.total.negative),
            n.total.share()
        );
        if let Some(t) = n.by_topic.iter().find(|c| c.label != UNMATCHED) {
            let _ = write!(
                s,
                "；信息最多的专题为「{}」{} 条（负面 {}）",
                t.label,
                thousands(t.total),
                t.share()
            );
        }
        if let Some(src) = n.by_source.first() {
            let _ = write!(
                s,
                "；信息最多的来源为「{}」{} 条（负面 {}）",
                src.label,
                thousands(src.total),
                src.share()
            );
        }
        s.push('。');
        s
    };
    let _ = write!(s, "新立案事件 {} 起", n.opened.len());
    let aside: Vec<String> = [
        (n.opened_merged, "并入其他事件"),
        (n.opened_dismissed, "判定为误报"),
    ]
    .iter()
    .filter(|(k, _)| *k > 0)
    .map(|(k, what)| format!("{what} {k} 起"))
    .collect();
    if !aside.is_empty() {
        let _ = write!(s, "（另有{}，不计入）", aside.join("、"));
    }
    let _ = write!(s, "，结案 {} 起", n.closed.len());
    // Named only when one stands out: of three incidents of one item each, none does.
    let standing_out = match n.top.as_slice() {
        [e] => Some(e),
        [e, next, ..] if e.items > next.items => Some(e),
        _ => None,
    };
    if let Some(e) = standing_out.filter(|e| e.items > 0) {
        let _ = write!(
            s,
            "，信息最多的事件为 #{}「{}」{} 条",
            e.id,
            crate::vocab::text::one_line(&e.title, SUMMARY_TITLE_CHARS),
            thousands(e.items.max(0) as usize)
        );
    }
    if n.missed.is_empty() {
        s.push_str("，无超时时限。");
    } else {
        // Which incidents missed, by name: leaders act on 「…」, not on a number.
        let mut late: Vec<String> = Vec::new();
        for m in &n.missed {
            let named = format!(
                "#{}「{}」",
                m.incident,
                crate::vocab::text::one_line(&m.title, SUMMARY_TITLE_CHARS)
            );
            if !late.contains(&named) {
                late.push(named);
            }
        }
        let more = if late.len() > 3 {
            format!("等 {} 起事件", late.len())
        } else {
            String::new()
        };
        late.truncate(3);
        let _ = write!(
            s,
            "，超时时限 {} 项（{}{more}）。",
            n.missed.len(),
            late.join("、")
        );
    }
    let violated = n.duties.iter().filter(|d| d.state == State::Missed).count();
    let at_risk = n.duties.iter().filter(|d| d.state == State::AtRisk).count();
    if !n.duties.is_empty() {
        let _ = write!(
            s,
            "本单位发布渠道 {} 个，其中已违规 {} 个、有违规风险 {} 个。",
            n.duties.len(),
            violated,
            at_risk
        );
    }
    let silent = n.failing.iter().filter(|f| f.silent).count();
    if n.failing.len() > silent {
        let _ = write!(s, "采集失败的信息源 {} 个。", n.failing.len() - silent);
    }
    if silent > 0 {
        let _ = write!(s, "读不出条目的信息源 {silent} 个。");
    }
    if !n.unreadable.is_empty() {
        let named: Vec<String> = n
            .unreadable
            .iter()
            .map(|(id, why)| format!("#{id}（{}）", crate::vocab::text::one_line(why, 120)))
            .collect();
        let _ = write!(
            s,
            "另有 {} 起事件的记录无法读取（可能由较新版本写入），未计入本简报：{}；请联系运维修复。",
            n.unreadable.len(),
            named.join("、")
        );
    }
    s
}

/// The period as people read it: `2026-11-23 00:00 至 2026-11-24 00:00`.
pub fn period(n: &Numbers) -> String {
    format!("{} 至 {}", local(n.from, n.tz), local(n.to, n.tz))
}

/// The subject line.
pub fn subject(n: &Numbers) -> String {
    let day = local_date(n.from, n.tz).format("%Y-%m-%d");
    let head = if n.hourly {
        format!("【舆情日报】{day}")
    } else {
        let last = local_date(n.to - Duration::seconds(1), n.tz).format("%Y-%m-%d");
        format!("【舆情{}】{day} 至 {last}", n.title)
    };
    let mut s = format!(
        "{head}：信息 {} 条，负面 {}",
        thousands(n.total.total),
        n.total.share()
    );
    if !n.missed.is_empty() {
        let _ = write!(s, "，超时时限 {} 项", n.missed.len());
    }
    if !n.unreadable.is_empty() {
        let _ = write!(s, "，另 {} 起事件无法读取", n.unreadable.len());
    }
    s
}

fn count_rows(t: &mut String, head: &str, counts: &[Count]) {
    let _ = writeln!(t, "\n{head}（条数 / 负面 / 负面占比）：");
    if counts.is_empty() {
        t.push_str("  无\n");
    }
    for c in counts {
        let _ = writeln!(
            t,
            "  {}\t{}\t{}\t{}",
            c.label,
            thousands(c.total),
            thousands(c.negative),
            c.share()
        );
    }
}

/// The briefing's three sections of incidents, as the text and the HTML head them.
fn event_sections(n: &Numbers) -> [(&'static str, &[EventLine]); 3] {
    [
        ("二、新立案事件", &n.opened),
        ("三、结案事件", &n.closed),
        ("四、主要事件（按信息数）", &n.top),
    ]
}

fn event_text(t: &mut String, e: &EventLine) {
    let _ = writeln!(
        t,
        "  - #{} {}【{}，{}】立案于 {}，{}；信息 {} 条，来源 {} 个",
        e.id,
        crate::vocab::text::one_line(&e.title, 200),
        e.topic,
        e.severity,
        e.opened,
        e.state,
        e.items,
        e.sources
    );
    // Where it broke first, when more than one source carried it.
    if let (Some(first), true) = (&e.first_source, e.sources > 1) {
        t.pop();
        let _ = writeln!(t, "，首发「{first}」");
    }
    for (what, outcome) in &e.deadlines {
        let _ = writeln!(t, "      {what}：{outcome}");
    }
}

/// The text part: complete on its own.
pub fn text(n: &Numbers) -> String {
    let mut t = format!("舆情{}（{}）\n\n{}\n", n.title, period(n), n.summary);
    t.push_str("\n一、超时时限\n");
    if n.missed.is_empty() {
        t.push_str("  无\n");
    }
    for m in &n.missed {
        let _ = writeln!(
            t,
            "  - #{} {}【{}】：{}，截止 {}，{}",
            m.incident,
            crate::vocab::text::one_line(&m.title, 200),
            m.topic,
            m.what,
            m.due,
            m.outcome
        );
    }
    for (head, events) in event_sections(n) {
        let _ = writeln!(t, "\n{head}");
        if events.is_empty() {
            t.push_str("  无\n");
        }
        for e in events {
            event_text(&mut t, e);
        }
    }
    t.push_str("\n五、信息量\n");
    if n.total.total == 0 {
        let _ = writeln!(t, "  {}未监测到信息。", n.period_word);
    } else {
        let _ = writeln!(
            t,
            "  合计 {} 条，负面 {} 条（{}）",
            thousands(n.total.total),
            thousands(n.total.negative),
            n.total.share()
        );
        count_rows(&mut t, if n.hourly { "按小时" } else { "按日" }, &n.by_time);
        count_rows(&mut t, "按专题", &n.by_topic);
        count_rows(&mut t, "按来源", &n.by_source);
    }
    t.push_str("\n六、本单位发布渠道\n");
    if n.duties.is_empty() {
        t.push_str("  无发布义务的渠道\n");
    }
    for d in &n.duties {
        let _ = write!(t, "  - {}：{}（{}）", d.channel, d.state.zh(), d.rule);
        if let Some(m) = &d.missed {
            let _ = write!(t, "，违规期间 {m}");
        }
        t.push('\n');
    }
    t.push_str("\n七、采集失败或读不出条目的信息源\n");
    if n.failing.is_empty() {
        t.push_str("  无\n");
    }
    for f in &n.failing {
        if f.silent {
            let _ = write!(t, "  - {}：列表读不出条目（可能网站改版）", f.name);
        } else {
            let _ = write!(t, "  - {}：连续失败 {} 次", f.name, f.failures);
        }
        if let Some(s) = f.since {
            let _ = write!(t, "，自 {} 起", local(from_secs(s), n.tz));
        }
        if let Some(e) = &f.error {
            let _ = write!(t, "（{}）", crate::vocab::text::one_line(e, 120));
        }
        t.push('\n');
    }
    let _ = write!(
        t,
        "\n信息按监测时间计；负面按系统语气判断。时间均为 {} 时间。此邮件由舆情监测系统 yuqing 自动发送。\n",
        n.tz.name()
    );
    t
}

const RED: &str = "color:#b00020;font-weight:bold";
const TABLE: &str = "border-collapse:collapse;margin:4px 0 16px 0;font-size:14px";
const CELL: &str = "border:1px solid #ccc;padding:4px 8px;text-align:left";
const NUM: &str = "border:1px solid #ccc;padding:4px 8px;text-align:right";

fn esc(s: &str) -> String {
    html_escape::encode_text(s).to_string()
}

fn table(h: &mut String, head: &[&str], rows: &[Vec<(String, bool, bool)>]) {
    let _ = write!(h, "<table style=\"{TABLE}\"><tr>");
    for c in head {
        let _ = write!(
            h,
            "<th style=\"{CELL};background:#f2f2f2;white-space:nowrap\">{}</th>",
            esc(c)
        );
    }
    h.push_str("</tr>");
    for row in rows {
        h.push_str("<tr>");
        for (cell, num, red) in row {
            let style = if *num { NUM } else { CELL };
            let style = if *red {
                format!("{style};{RED}")
            } else {
                style.to_string()
            };
            let _ = write!(h, "<td style=\"{style}\">{}</td>", esc(cell));
        }
        h.push_str("</tr>");
    }
    h.push_str("</table>");
}

fn count_table(h: &mut String, first: &str, counts: &[Count]) {
    let rows: Vec<Vec<(String, bool, bool)>> = counts
        .iter()
        .map(|c| {
            vec![
                (c.label.clone(), false, false),
                (thousands(c.total), true, false),
                (thousands(c.negative), true, false),
                (c.share(), true, false),
            ]
        })
        .collect();
    table(h, &[first, "信息", "负面", "负面占比"], &rows);
}

fn event_table(h: &mut String, events: &[EventLine]) {
    let rows: Vec<Vec<(String, bool, bool)>> = events
        .iter()
        .map(|e| {
            let missed = e.deadlines.iter().any(|(_, o)| o.contains("超时"));
            vec![
                (format!("#{}", e.id), false, false),
                (e.title.clone(), false, false),
                (e.topic.clone(), false, false),
                (e.severity.clone(), false, false),
                (e.opened.clone(), false, false),
                (e.state.clone(), false, false),
                (e.items.to_string(), true, false),
                (
                    match (&e.first_source, e.sources > 1) {
                        (Some(first), true) => format!("{}（首发 {first}）", e.sources),
                        _ => e.sources.to_string(),
                    },
                    true,
                    false,
                ),
                (
                    e.deadlines
                        .iter()
                        .map(|(w, o)| format!("{w}：{o}"))
                        .collect::<Vec<_>>()
                        .join("；"),
                    false,
                    missed,
                ),
            ]
        })
        .collect();
    table(
        h,
        &[
            "事件",
            "标题",
            "专题",
            "级别",
            "立案时间",
            "状态",
            "信息",
            "来源",
            "时限",
        ],
        &rows,
    );
}

fn none(h: &mut String) {
    h.push_str("<p style=\"color:#555\">无</p>");
}

/// An image the HTML shows above a table of section 五: where it is (`cid:…` in mail).
#[derive(Debug, Clone)]
pub struct Figure {
    pub kind: ChartKind,
    pub src: String,
    pub alt: String,
    pub width: u32,
    pub height: u32,
}

fn figure(h: &mut String, figures: &[Figure], kind: ChartKind) {
    if let Some(f) = figures.iter().find(|f| f.kind == kind) {
        let _ = write!(
            h,
            "<p style=\"margin:8px 0 4px 0\"><img src=\"{}\" alt=\"{}\" width=\"{}\" height=\"{}\" \
             style=\"display:block;max-width:100%;height:auto;border:0\"></p>",
            esc(&f.src),
            esc(&f.alt),
            f.width,
            f.height
        );
    }
}

/// The HTML part: the same content, as tables.
pub fn html(n: &Numbers) -> String {
    html_with(n, &[])
}

/// A page on its own (`yuqing briefing --format html`): the mail's HTML with its charts
/// inside as `data:` URIs, so a browser shows what the leaders' mail client shows.
pub fn standalone_html(n: &Numbers) -> String {
    use base64::Engine;
    let figures: Vec<Figure> = charts::draw(n)
        .into_iter()
        .map(|c| Figure {
            kind: c.kind,
            src: format!(
                "data:image/png;base64,{}",
                base64::engine::general_purpose::STANDARD.encode(&c.png)
            ),
            alt: c.title,
            width: c.width,
            height: c.height,
        })
        .collect();
    html_with(n, &figures)
}

/// The HTML part with the charts: each figure above the table it draws (which stays, for
/// mail clients that do not show images).
pub fn html_with(n: &Numbers, figures: &[Figure]) -> String {
    let mut h = String::from(
        "<!DOCTYPE html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"></head>\
         <body style=\"font-family:'PingFang SC','Microsoft YaHei','Noto Sans CJK SC',sans-serif;\
         color:#222;max-width:860px\">",
    );
    let _ = write!(
        h,
        "<h2 style=\"margin-bottom:4px\">舆情{}</h2><p style=\"color:#555;margin-top:0\">{}</p>",
        n.title,
        esc(&period(n))
    );
    let _ = write!(
        h,
        "<p style=\"font-size:15px;line-height:1.6;background:#f7f7f7;padding:8px 12px\">{}</p>",
        esc(&n.summary)
    );
    let _ = write!(
        h,
        "<h3{}>一、超时时限（{}）</h3>",
        if n.missed.is_empty() {
            String::new()
        } else {
            format!(" style=\"{RED}\"")
        },
        n.missed.len()
    );
    if n.missed.is_empty() {
        none(&mut h);
    } else {
        let rows: Vec<Vec<(String, bool, bool)>> = n
            .missed
            .iter()
            .map(|m| {
                vec![
                    (format!("#{}", m.incident), false, false),
                    (m.title.clone(), false, false),
                    (m.topic.clone(), false, false),
                    (m.what.clone(), false, false),
                    (m.due.clone(), false, false),
                    (m.outcome.clone(), false, true),
                ]
            })
            .collect();
        table(
            &mut h,
            &["事件", "标题", "专题", "时限", "截止时间", "结果"],
            &rows,
        );
    }
    for (head, events) in event_sections(n) {
        let _ = write!(h, "<h3>{head}（{}）</h3>", events.len());
        if events.is_empty() {
            none(&mut h);
        } else {
            event_table(&mut h, events);
        }
    }
    h.push_str("<h3>五、信息量</h3>");
    if n.total.total == 0 {
        let _ = write!(h, "<p>{}未监测到信息。</p>", n.period_word);
    } else {
        figure(&mut h, figures, ChartKind::Volume);
        count_table(&mut h, if n.hourly { "时段" } else { "日期" }, &{
            let mut v = n.by_time.clone();
            v.push(n.total.clone());
            v
        });
        figure(&mut h, figures, ChartKind::Topics);
        count_table(&mut h, "专题", &n.by_topic);
        figure(&mut h, figures, ChartKind::Sources);
        count_table(&mut h, "来源", &n.by_source);
    }
    h.push_str("<h3>六、本单位发布渠道</h3>");
    if n.duties.is_empty() {
        h.push_str("<p style=\"color:#555\">无发布义务的渠道</p>");
    } else {
        let rows: Vec<Vec<(String, bool, bool)>> = n
            .duties
            .iter()
            .map(|d| {
                vec![
                    (d.channel.clone(), false, false),
                    (d.rule.clone(), false, false),
                    (d.state.zh().to_string(), false, d.state == State::Missed),
                    (d.missed.clone().unwrap_or_default(), false, false),
                ]
            })
            .collect();
        table(&mut h, &["渠道", "发布义务", "状态", "违规期间"], &rows);
    }
    h.push_str("<h3>七、采集失败或读不出条目的信息源</h3>");
    if n.failing.is_empty() {
        none(&mut h);
    } else {
        let rows: Vec<Vec<(String, bool, bool)>> = n
            .failing
            .iter()
            .map(|f| {
                vec![
                    (f.name.clone(), false, false),
                    (
                        if f.silent {
                            "读不出条目".to_string()
                        } else {
                            format!("连续失败 {} 次", f.failures)
                        },
                        false,
                        false,
                    ),
                    (
                        f.since
                            .map(|s| local(from_secs(s), n.tz))
                            .unwrap_or_default(),
                        false,
                        false,
                    ),
                    (
                        f.error
                            .as_deref()
                            .map(|e| crate::vocab::text::one_line(e, 120))
                            .unwrap_or_default(),
                        false,
                        false,
                    ),
                ]
            })
            .collect();
        table(&mut h, &["信息源", "情况", "失败起于", "错误"], &rows);
    }
    let _ = write!(
        h,
        "<p style=\"color:#777;font-size:12px\">信息按监测时间计；负面按系统语气判断。时间均为 {} 时间。此邮件由舆情监测系统 yuqing 自动发送。</p></body></html>",
        esc(n.tz.name())
    );
    h
}

/// The briefing as mail to `to` (kind `daily_briefing` or `weekly_briefing`), and its
/// charts as inline PNG parts, under Content-IDs made of the chart, the period and
/// `domain` (the same briefing, the same ids).
pub fn mail(n: &Numbers, kind: &str, to: &[Mailbox], domain: &str) -> (Draft, Vec<OutboxPart>) {
    let charts = charts::draw(n);
    let cid = |k: ChartKind| {
        format!(
            "briefing-{}-{}-{}@{domain}",
            k.name(),
            n.from.timestamp(),
            n.to.timestamp()
        )
    };
    let figures: Vec<Figure> = charts
        .iter()
        .map(|c| Figure {
            kind: c.kind,
            src: format!("cid:{}", cid(c.kind)),
            alt: c.title.clone(),
            width: c.width,
            height: c.height,
        })
        .collect();
    let draft = Draft {
        kind: kind.to_string(),
        incident_id: None,
        recipients: to.iter().map(|m| m.to_string()).collect(),
        subject: subject(n),
        text: text(n),
        html: html_with(n, &figures),
        notify: Vec::new(),
    };
    let parts = charts
        .into_iter()
        .map(|c| OutboxPart {
            content_id: cid(c.kind),
            content_type: "image/png".into(),
            bytes: c.png,
        })
        .collect();
    (draft, parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_and_shares() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1234), "1,234");
        assert_eq!(thousands(1234567), "1,234,567");
        assert_eq!(share(87, 1234), "7.1%");
        assert_eq!(share(0, 0), "-");
    }

    fn incident(id: i64, opened: DateTime<Utc>) -> IncidentRow {
        IncidentRow {
            topic_id: "t".into(),
            topic_name: "专题".into(),
            severity: crate::vocab::severity::Severity::Large,
            ..crate::notify::fixtures::incident(id, opened.timestamp())
        }
    }

    fn deadline(incident: i64, due: DateTime<Utc>, met: Option<DateTime<Utc>>) -> DeadlineRow {
        DeadlineRow {
            met_at: met.map(|t| t.timestamp()),
            ..crate::notify::fixtures::deadline(
                incident,
                incident,
                crate::vocab::state::DeadlineKind::Response,
                due.timestamp(),
            )
        }
    }

    #[test]
    fn late_and_missed_deadlines_count_on_time_ones_do_not() {
        use chrono_tz::Asia::Shanghai;
        let at = |d, h| {
            Shanghai
                .with_ymd_and_hms(2026, 11, d, h, 0, 0)
                .unwrap()
                .with_timezone(&Utc)
        };
        let incidents = [
            // Met two hours late, in the period.
            (
                incident(1, at(23, 1)),
                vec![deadline(1, at(23, 6), Some(at(23, 8)))],
                (1, 1),
            ),
            // Met in time.
            (
                incident(2, at(23, 2)),
                vec![deadline(2, at(23, 7), Some(at(23, 5)))],
                (4, 2),
            ),
            // Due after the period: still running, not missed.
            (
                incident(3, at(23, 20)),
                vec![deadline(3, at(24, 1), None)],
                (2, 2),
            ),
        ];
        let none = BTreeMap::new();
        let n = compute(&Input {
            from: at(23, 0),
            to: at(24, 0),
            now: at(25, 0),
            tz: Shanghai,
            items: &[],
            topic_names: &none,
            source_names: &none,
            incidents: &incidents,
            first_sources: &BTreeMap::new(),
            duties: vec![],
            failing: vec![],
            unreadable: vec![],
        });
        assert_eq!(n.missed.len(), 1, "{:?}", n.missed);
        assert_eq!(n.missed[0].incident, 1);
        assert_eq!(n.missed[0].outcome, "超时完成（超时 2小时）");
        assert_eq!(n.opened.len(), 3);
        // The top events: most items first.
        let top: Vec<i64> = n.top.iter().map(|e| e.id).collect();
        assert_eq!(top, [2, 3, 1]);
        assert_eq!(n.by_time.len(), 24);
        assert_eq!(
            n.summary,
            "本日未监测到信息。新立案事件 3 起，结案 0 起，信息最多的事件为 #2「第 2 起事件」4 条，\
             超时时限 1 项（#1「第 1 起事件」）。"
        );
        let text = text(&n);
        assert!(
            text.contains("一、超时时限\n  - #1 第 1 起事件【专题】："),
            "{text}"
        );
    }
}
