//! What the duty officer and the leaders read: every message in Chinese, plain text plus
//! HTML, and standing alone.
//!
//! A message carries the incident's number, topic, severity, first item (title, source,
//! link, time), how many items since, each deadline with its absolute time in the
//! configured time zone and the time left, who owns it, and the command that records the
//! next step (design.md, "Mail"). These functions are pure: they turn a snapshot of an
//! incident into a [`Draft`] that the caller queues in the outbox in the same transaction as
//! the change that caused it.

use crate::fetch::politeness::HostLoad;
use crate::store::{DeadlineRow, Draft, IncidentRow, ItemRow};
use crate::vocab::clock::local;
use crate::vocab::duration::Span;
use crate::vocab::severity::Severity;
use crate::vocab::state::DeadlineKind as Kind;
use crate::vocab::state::DeadlineState;
use crate::vocab::state::IncidentStatus;
use crate::vocab::text::one_line;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use lettre::message::Mailbox;
use std::fmt::Write;

/// Everything a message about one incident needs to know.
#[derive(Debug, Clone)]
pub struct IncidentView<'a> {
    pub incident: &'a IncidentRow,
    pub first: &'a ItemRow,
    /// Display name of the first item's source.
    pub source_name: &'a str,
    pub items: usize,
    pub deadlines: &'a [DeadlineRow],
    /// The words that matched, as quoted from the item.
    pub evidence: &'a [String],
    /// Who answers for the incident (the duty officers until an owner unit is assigned).
    pub owners: &'a [Mailbox],
    /// Everyone's telephone numbers, to say whom to call.
    pub people: &'a crate::rules::escalation::People,
    pub tz: Tz,
    pub now: DateTime<Utc>,
}

impl IncidentView<'_> {
    fn severity(&self) -> String {
        self.incident.severity.zh().to_string()
    }

    /// `确认接报：yuqing incident ack N` while nobody has acknowledged the incident: every
    /// mail about it then says how (issue 28: the 新增 and reminder mails did not).
    fn ack_step(&self) -> Option<String> {
        self.incident
            .acknowledged_at
            .is_none()
            .then(|| format!("确认接报：yuqing incident ack {}", self.incident.id))
    }
}

/// An incident of the same topic still being handled when another opens: perhaps the same
/// event, worded differently.
#[derive(Debug, Clone)]
pub struct Related {
    pub id: i64,
    pub severity: Severity,
    pub status: IncidentStatus,
    pub opened_at: DateTime<Utc>,
    /// Its page on the console.
    pub link: String,
    /// `Some(topic name)` when the same item opened it under another topic (not a
    /// lookalike of the same topic).
    pub same_item: Option<String>,
}

/// Mail to the duty officer when an incident opens; `related` are the topic's incidents
/// still being handled, named as possibly the same event, with the merge command.
pub fn opened(v: &IncidentView<'_>, to: &[Mailbox], related: &[Related]) -> Draft {
    let id = v.incident.id;
    let mut subject = format!(
        "【舆情·{}】#{} {}：{}",
        v.severity(),
        id,
        v.incident.topic_name,
        one_line(&v.incident.title, 60)
    );
    if let Some(r) = related.iter().find(|r| r.same_item.is_some()) {
        subject.push_str(&format!("（同一信息亦立案 #{}）", r.id));
    } else if let Some(r) = related.first() {
        subject.push_str(&format!("（或与 #{} 为同一事件）", r.id));
    }
    let mut lead = format!("新舆情事件 #{id} 已立案，请立即研判处置。");
    if let Some(gone) = heard_after(v.incident) {
        // The statutory clock started at publication: say how much of it had gone.
        lead.push_str(&format!(
            "首条信息发布于 {}，发现时已过 {gone}。",
            local(crate::vocab::clock::from_secs(v.incident.clock_start), v.tz)
        ));
    }
    for r in related {
        if let Some(topic) = &r.same_item {
            lead.push_str(&format!(
                "同一信息亦立案 #{}（专题「{topic}」，{}，{}：{}），两个事件各自计时；\
                 如为同一事件请合并：yuqing incident merge {} {id}。",
                r.id,
                r.severity.zh(),
                r.status.zh(),
                r.link,
                r.id,
            ));
            continue;
        }
        lead.push_str(&format!(
            "可能与 #{} 为同一事件（同一专题，{}，{} 立案，{}：{}），如是请合并：yuqing incident merge {} {id}。",
            r.id,
            r.severity.zh(),
            local(r.opened_at, v.tz),
            r.status.zh(),
            r.link,
            r.id,
        ));
    }
    let next = [
        format!("确认接报：yuqing incident ack {id}"),
        format!("记录权威信息发布：yuqing incident release {id} --url <发布链接>"),
        format!("记录新闻发布会：yuqing incident press {id}"),
        format!("查看详情：yuqing incident show {id}"),
    ];
    let next: Vec<String> = if v.deadlines.iter().any(|d| d.kind == Kind::PressConference) {
        next.to_vec()
    } else {
        vec![
            next[0].clone(),
            format!("记录回应：yuqing incident release {id} --url <回应链接>"),
            next[3].clone(),
        ]
    };
    render("opened", v, to, subject, &lead, &next)
}

/// Mail when an incident's severity changes; deadlines are recomputed from the same clock
/// start, so an incident raised to 重大 late may be overdue at once, and the mail says by
/// how much.
pub fn regraded(
    v: &IncidentView<'_>,
    from: Severity,
    to_level: Severity,
    by: &str,
    to: &[Mailbox],
) -> Draft {
    let id = v.incident.id;
    let overdue = !overdue_deadlines(v).is_empty();
    let subject = format!(
        "【舆情·{}{}】#{} 级别调整为{}：{}",
        to_level.zh(),
        if overdue { "·已超时" } else { "" },
        id,
        to_level.zh(),
        one_line(&v.incident.title, 50)
    );
    let lead = format!(
        "舆情事件 #{id}（{}）级别由{}调整为{}（调整人：{}）。时限自计时起点 {} 重新计算{}。",
        v.incident.topic_name,
        from.zh(),
        to_level.zh(),
        by,
        local(crate::vocab::clock::from_secs(v.incident.clock_start), v.tz),
        if overdue {
            "，部分时限已经超过，请立即处置"
        } else {
            ""
        }
    );
    let next = steps_still_owed(v);
    render("regraded", v, to, subject, &lead, &next)
}

/// Mail to the duty officer about items that joined an incident since the last such mail.
pub fn new_items(
    v: &IncidentView<'_>,
    new: &[ItemRow],
    sources: &dyn Fn(&str) -> String,
    to: &[Mailbox],
) -> Draft {
    let id = v.incident.id;
    let subject = format!(
        "【舆情·新增】#{} {}：新增 {} 条相关信息",
        id,
        v.incident.topic_name,
        new.len()
    );
    let mut lead = format!(
        "舆情事件 #{id}（{}，{}）新增 {} 条相关信息，累计 {} 条：",
        v.incident.topic_name,
        v.severity(),
        new.len(),
        v.items
    );
    for item in new {
        let when = item.published_at.unwrap_or(item.fetched_at);
        lead.push_str(&format!(
            "\n  · {} {}（{}） {}",
            local(crate::vocab::clock::from_secs(when), v.tz),
            one_line(&item.title, 80),
            sources(&item.source_id),
            item.link.as_deref().unwrap_or("")
        ));
    }
    let next: Vec<String> = v
        .ack_step()
        .into_iter()
        .chain([format!("查看详情：yuqing incident show {id}")])
        .collect();
    render("new_items", v, to, subject, &lead, &next)
}

/// Mail to the leaders when nobody acknowledged an incident in time.
pub fn unacknowledged(v: &IncidentView<'_>, after: &str, to: &[Mailbox]) -> Draft {
    let id = v.incident.id;
    let subject = format!(
        "【舆情·未确认】#{} {}（{}）立案 {} 仍无人确认：{}",
        id,
        v.incident.topic_name,
        v.severity(),
        after,
        one_line(&v.incident.title, 40)
    );
    let lead = format!(
        "舆情事件 #{id} 于 {} 立案并已通知值班员，{} 后仍无人确认接报。请督促值班员立即研判处置。",
        local(crate::vocab::clock::from_secs(v.incident.opened_at), v.tz),
        after
    );
    let next = vec![
        format!("确认接报：yuqing incident ack {id}"),
        format!("查看详情：yuqing incident show {id}"),
    ];
    render("unacknowledged", v, to, subject, &lead, &next)
}

/// Mail to the duty officer before a deadline.
pub fn reminder(v: &IncidentView<'_>, upcoming: &DeadlineRow, to: &[Mailbox]) -> Draft {
    let id = v.incident.id;
    let kind = Some(upcoming.kind);
    let what = &upcoming.what();
    let due = crate::vocab::clock::from_secs(upcoming.due_at);
    let left = crate::vocab::span::zh_left(due, v.now);
    let subject = format!(
        "【舆情·提醒】#{} {}时限{}：{}",
        id,
        what,
        left.replace(' ', ""),
        one_line(&v.incident.title, 50)
    );
    let lead = format!(
        "舆情事件 #{id}（{}，{}）须在 {} 前{}，{}，尚未记录完成。",
        v.incident.topic_name,
        v.severity(),
        local(due, v.tz),
        what,
        left
    );
    let next: Vec<String> = v
        .ack_step()
        .into_iter()
        .chain([
            format!(
                "记录完成：{}",
                kind.map(|k| k.command(id))
                    .unwrap_or_else(|| format!("yuqing incident show {id}"))
            ),
            format!("查看详情：yuqing incident show {id}"),
        ])
        .collect();
    render("reminder", v, to, subject, &lead, &next)
}

/// Mail to leaders, the principal and the duty officer when a deadline passed unmet;
/// `again` when it is the repeated escalation of a deadline still not met.
pub fn breached(v: &IncidentView<'_>, missed: &DeadlineRow, again: bool, to: &[Mailbox]) -> Draft {
    let id = v.incident.id;
    let kind = Some(missed.kind);
    let what = &missed.what();
    let due = crate::vocab::clock::from_secs(missed.due_at);
    let subject = format!(
        "【舆情·超时{}】#{} {}时限已过：{}",
        if again { "·再次提醒" } else { "" },
        id,
        what,
        one_line(&v.incident.title, 50)
    );
    let lead = format!(
        "舆情事件 #{id}（{}，{}）{}的时限 {} 已过，尚未记录完成，{}。请督促责任人立即处置。",
        v.incident.topic_name,
        v.severity(),
        what,
        local(due, v.tz),
        crate::vocab::span::zh_left(due, v.now)
    );
    let next = vec![
        format!(
            "记录完成：{}",
            kind.map(|k| k.command(id))
                .unwrap_or_else(|| format!("yuqing incident show {id}"))
        ),
        format!("查看详情：yuqing incident show {id}"),
    ];
    render("breached", v, to, subject, &lead, &next)
}

fn render(
    kind: &str,
    v: &IncidentView<'_>,
    to: &[Mailbox],
    subject: String,
    lead: &str,
    next: &[String],
) -> Draft {
    let rows = facts(v);
    let deadlines = deadline_lines(v);

    let mut text = String::new();
    let _ = writeln!(text, "{lead}\n");
    for (k, val) in &rows {
        let _ = writeln!(text, "{k}：{}", marks_as_text(val));
    }
    let _ = writeln!(text, "\n时限：");
    for d in &deadlines {
        let _ = writeln!(text, "  - {d}");
    }
    let _ = writeln!(text, "\n下一步：");
    for n in next {
        let _ = writeln!(text, "  {n}");
    }
    let _ = writeln!(
        text,
        "\n时间均为 {} 时间。此邮件由舆情监测系统 yuqing 自动发送。",
        v.tz.name()
    );

    let esc = |s: &str| html_escape::encode_text(s).to_string();
    let mut html = String::from(
        "<!DOCTYPE html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"></head><body style=\"font-family:sans-serif\">",
    );
    // What a leader must see at a glance stands out in red: 特别重大/重大, and anything
    // overdue.
    const URGENT: &str = " style=\"color:#b00020;font-weight:bold\"";
    let overdue = |s: &str| s.contains("超时") || s.contains("已到期");
    let _ = write!(
        html,
        "<p><strong{}>{}</strong></p><table cellpadding=\"4\">",
        if overdue(lead) || overdue(&subject) {
            URGENT
        } else {
            ""
        },
        linkify(&esc(lead))
    );
    for (k, val) in &rows {
        let cell = if *k == "链接" && val.starts_with("http") {
            format!(
                "<a href=\"{}\">{}</a>",
                html_escape::encode_double_quoted_attribute(val),
                esc(val)
            )
        } else if *k == "内容摘录" {
            marks_as_html(val)
        } else {
            esc(val)
        };
        let urgent = *k == "级别" && v.incident.severity.is_major();
        let _ = write!(
            html,
            "<tr><th align=\"left\" valign=\"top\" style=\"white-space:nowrap\">{}</th><td{}>{}</td></tr>",
            esc(k),
            if urgent { URGENT } else { "" },
            cell
        );
    }
    html.push_str("</table><p>时限：</p><ul>");
    for d in &deadlines {
        let style = if overdue(d) { URGENT } else { "" };
        let _ = write!(html, "<li{style}>{}</li>", esc(d));
    }
    html.push_str("</ul><p>下一步：</p><pre>");
    for n in next {
        let _ = writeln!(html, "{}", esc(n));
    }
    let _ = write!(
        html,
        "</pre><p style=\"color:#666\">时间均为 {} 时间。此邮件由舆情监测系统 yuqing 自动发送。</p></body></html>",
        esc(v.tz.name())
    );

    Draft {
        kind: kind.to_string(),
        incident_id: Some(v.incident.id),
        recipients: to.iter().map(|m| m.to_string()).collect(),
        subject,
        text,
        html,
        notify: Vec::new(),
    }
}

/// Escaped text with its `http(s)://` addresses made links. An address ends at white space,
/// at a quote or a bracket, or at the first character that is not ASCII (Chinese
/// punctuation closes it). The text was escaped for an element, where quotes may stay, but
/// an address goes into an attribute too (issue 26 §2.8: a title ending
/// `http://evil.example/"onmouseover="alert(1)"` became an attribute): there the address is
/// escaped for a double-quoted attribute as well, whatever it holds.
fn linkify(escaped: &str) -> String {
    let mut out = String::with_capacity(escaped.len());
    let mut rest = escaped;
    while let Some(at) = [rest.find("http://"), rest.find("https://")]
        .into_iter()
        .flatten()
        .min()
    {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        let end = tail
            .find(|c: char| {
                c.is_whitespace() || !c.is_ascii() || matches!(c, '<' | '>' | '"' | '\'' | '`')
            })
            .unwrap_or(tail.len());
        let url = &tail[..end];
        let _ = write!(out, "<a href=\"{}\">{url}</a>", attribute(url));
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

/// Already-escaped text made safe inside a double-quoted attribute: its quotes (and any
/// bracket) as references; the `&…;` references it holds stay as they are.
fn attribute(escaped: &str) -> String {
    let mut out = String::with_capacity(escaped.len());
    for c in escaped.chars() {
        match c {
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '`' => out.push_str("&#96;"),
            c => out.push(c),
        }
    }
    out
}

fn facts(v: &IncidentView<'_>) -> Vec<(&'static str, String)> {
    let first = v.first;
    let owners = if v.owners.is_empty() {
        "（未指定）".to_string()
    } else {
        v.owners
            .iter()
            .map(|m| v.people.contact(m))
            .collect::<Vec<_>>()
            .join("，")
    };
    let mut rows = vec![
        ("事件编号", format!("#{}", v.incident.id)),
        ("标题", one_line(&v.incident.title, 200)),
        (
            "专题",
            format!("{}（{}）", v.incident.topic_name, v.incident.topic_id),
        ),
        ("级别", v.severity()),
        ("首条信息", one_line(&first.title, 200)),
        ("来源", format!("{}（{}）", v.source_name, first.source_id)),
        (
            "链接",
            first.link.clone().unwrap_or_else(|| "（无）".into()),
        ),
        (
            "发布时间",
            first
                .published_at
                .map(|t| local(crate::vocab::clock::from_secs(t), v.tz))
                .unwrap_or_else(|| "未知".into()),
        ),
        (
            "发现时间",
            local(crate::vocab::clock::from_secs(first.fetched_at), v.tz),
        ),
        (
            "计时起点",
            local(crate::vocab::clock::from_secs(v.incident.clock_start), v.tz),
        ),
        ("相关信息", format!("共 {} 条", v.items)),
        ("责任人", owners),
        (
            "确认情况",
            match (&v.incident.acknowledged_at, &v.incident.acknowledged_by) {
                (Some(at), by) => format!(
                    "{} 于 {} 确认接报",
                    by.as_deref().unwrap_or("值班员"),
                    local(crate::vocab::clock::from_secs(*at), v.tz)
                ),
                (None, _) => "尚无人确认接报".to_string(),
            },
        ),
    ];
    if !v.evidence.is_empty() {
        rows.insert(4, ("命中词", v.evidence.join("、")));
        if let Some(e) = excerpt(&first.title, &first.summary, v.evidence) {
            rows.insert(5, ("内容摘录", e));
        }
    }
    rows
}

/// Marks around a matched word in an excerpt: 【】 in the text part, `<mark>` in HTML.
const MARK_OPEN: char = '\u{E000}';
const MARK_CLOSE: char = '\u{E001}';
/// Characters of the item's own text a mail quotes.
const EXCERPT_CHARS: usize = 160;

/// The item's own words around what matched, every matched word within marked
/// (`MARK_OPEN`…`MARK_CLOSE`): title and summary on one line, at most `EXCERPT_CHARS`
/// characters from a little before the first match. None when no matched word is found
/// as written (a match made through normalization, say Traditional characters).
fn excerpt(title: &str, summary: &str, evidence: &[String]) -> Option<String> {
    let text: Vec<char> = one_line(
        &if summary.trim().is_empty() {
            title.to_string()
        } else {
            format!("{title}｜{summary}")
        },
        usize::MAX,
    )
    .chars()
    .collect();
    let mut words: Vec<Vec<char>> = evidence
        .iter()
        .map(|w| w.chars().collect::<Vec<_>>())
        .filter(|w| !w.is_empty())
        .collect();
    // Longest first, so that 大剧院起火 is marked whole rather than as 起火.
    words.sort_by_key(|w| std::cmp::Reverse(w.len()));
    let at = |i: usize| words.iter().find(|w| text[i..].starts_with(w));
    let first = (0..text.len()).find(|&i| at(i).is_some())?;
    let start = first.saturating_sub(30);
    let end = (start + EXCERPT_CHARS).min(text.len());
    let mut out = String::new();
    if start > 0 {
        out.push('…');
    }
    let mut i = start;
    while i < end {
        match at(i) {
            Some(w) => {
                out.push(MARK_OPEN);
                out.extend(&text[i..i + w.len()]);
                out.push(MARK_CLOSE);
                i += w.len();
            }
            None => {
                out.push(text[i]);
                i += 1;
            }
        }
    }
    if i < text.len() {
        out.push('…');
    }
    Some(out)
}

/// An excerpt's marks as the text part shows them.
fn marks_as_text(s: &str) -> String {
    s.replace(MARK_OPEN, "【").replace(MARK_CLOSE, "】")
}

/// An excerpt's marks as the HTML part shows them, the rest escaped.
fn marks_as_html(s: &str) -> String {
    html_escape::encode_text(s)
        .replace(MARK_OPEN, "<mark style=\"background:#ffe08a\">")
        .replace(MARK_CLOSE, "</mark>")
}

fn deadline_lines(v: &IncidentView<'_>) -> Vec<String> {
    v.deadlines
        .iter()
        .map(|d| {
            let what = d.what();
            let due = crate::vocab::clock::from_secs(d.due_at);
            // Done or ended in the words of the 考核 report, so every view says the same.
            let state = match d.state(v.incident, v.now) {
                DeadlineState::Met { at, .. } => format!(
                    "{}，{} 记录",
                    crate::notify::report::outcome_of(v.incident, d, v.now),
                    local(at, v.tz)
                ),
                DeadlineState::Pending { .. } | DeadlineState::Missed { ended: false, .. } => {
                    crate::vocab::span::zh_left(due, v.now)
                }
                _ => crate::notify::report::outcome_of(v.incident, d, v.now),
            };
            format!(
                "{what}：{} 前，{state}{}",
                local(due, v.tz),
                d.uncertain_note()
            )
        })
        .collect()
}

/// Mail when an incident of the same event comes back (回温): while it is monitored
/// (`reopened` false) or after it was closed (`reopened` true, the incident is open again).
/// `history` is the record of what was done, so the mail stands alone.
pub fn resurgence(
    v: &IncidentView<'_>,
    item: &ItemRow,
    source: &str,
    reopened: bool,
    history: &[String],
    to: &[Mailbox],
) -> Draft {
    let id = v.incident.id;
    let subject = format!(
        "【舆情·回温】#{} {}{}：{}",
        id,
        v.incident.topic_name,
        if reopened {
            "（已重新打开）"
        } else {
            "（监测期内）"
        },
        one_line(&item.title, 50)
    );
    let mut lead = if reopened {
        format!(
            "已关闭的舆情事件 #{id}（{}，{}）出现新的相关信息，舆情回温。事件 #{id} 已重新打开，\
             请重新确认并研判是否需要再次回应。",
            v.incident.topic_name,
            v.severity()
        )
    } else {
        format!(
            "处于监测期的舆情事件 #{id}（{}，{}）出现新的相关信息，舆情回温。请研判是否需要再次回应。",
            v.incident.topic_name,
            v.severity()
        )
    };
    let when = item.published_at.unwrap_or(item.fetched_at);
    lead.push_str(&format!(
        "\n新信息：{} {}（{}） {}",
        local(crate::vocab::clock::from_secs(when), v.tz),
        one_line(&item.title, 80),
        source,
        item.link.as_deref().unwrap_or("")
    ));
    if !history.is_empty() {
        lead.push_str(&format!("\n事件 #{id} 处置记录："));
        for h in history {
            lead.push_str(&format!("\n  · {h}"));
        }
    }
    let mut next = Vec::new();
    if reopened {
        next.push(format!("确认接报：yuqing incident ack {id}"));
    }
    next.push(format!(
        "记录再次回应：yuqing incident note {id} \"<回应情况>\""
    ));
    next.push(format!("查看详情：yuqing incident show {id}"));
    render("resurgence", v, to, subject, &lead, &next)
}

/// Mail to the duty officer when a post on one of the agency's own channels looks like the
/// authoritative release of incident `v`: to be confirmed, or (`recorded`) already recorded
/// by the config's `auto_confirm_release`.
pub fn release_candidate(
    v: &IncidentView<'_>,
    channel: &str,
    post: &crate::store::PostRow,
    recorded: bool,
    to: &[Mailbox],
) -> Draft {
    let id = v.incident.id;
    let title = one_line(&post.title, 60);
    let at = local(crate::vocab::clock::from_secs(post.at()), v.tz);
    let link = post.link.as_deref().unwrap_or("（无链接）");
    let subject = if recorded {
        format!(
            "【舆情·已发布】#{id} {}：本单位「{}」已发布《{title}》",
            v.incident.topic_name,
            one_line(channel, 30)
        )
    } else {
        format!(
            "【舆情·疑似发布】#{id} {}：请确认「{}」的《{title}》",
            v.incident.topic_name,
            one_line(channel, 30)
        )
    };
    let mut lead = format!(
        "本单位渠道「{}」于 {at} 发布的《{title}》（{link}）与舆情事件 #{id}（{}，{}）的主题相符，",
        one_line(channel, 30),
        v.incident.topic_name,
        v.severity()
    );
    let mut next = Vec::new();
    if recorded {
        lead.push_str("已按配置自动记录为权威信息发布，发布时间按该信息的发布时间计，相应时限的提醒停止。如有误，请记录说明并另行处置。");
        next.push(format!("记录说明：yuqing incident note {id} \"<说明>\""));
    } else {
        lead.push_str("可能是本事件的权威信息发布。请核实；确认后发布时间按该信息的发布时间计，相应时限的提醒即停止。未确认前，提醒和升级照常进行。");
        match &post.link {
            Some(l) => next.push(format!(
                "确认为权威发布：yuqing incident release {id} --url {l}"
            )),
            None => next.push(format!("确认为权威发布：yuqing incident release {id}")),
        }
        next.push(format!(
            "不是本事件的发布：无需操作；另有发布请执行 yuqing incident release {id} --url <链接>"
        ));
    }
    next.push(format!("查看详情：yuqing incident show {id}"));
    render("release_candidate", v, to, subject, &lead, &next)
}

/// Mail to the duty officer when an incident's response duties are all met and it is
/// monitored for 回温 until `until`.
pub fn monitoring(v: &IncidentView<'_>, until: DateTime<Utc>, to: &[Mailbox]) -> Draft {
    let id = v.incident.id;
    let subject = format!(
        "【舆情·监测】#{} {}：处置时限均已完成，监测至 {}",
        id,
        v.incident.topic_name,
        local(until, v.tz)
    );
    let lead = format!(
        "舆情事件 #{id}（{}，{}）的处置时限均已记录完成，进入监测期，至 {} 止。期间出现同一事件的新信息将作为回温通知；\
         监测期满自动结案。",
        v.incident.topic_name,
        v.severity(),
        local(until, v.tz)
    );
    let next = vec![
        format!("提前结案：yuqing incident close {id}"),
        format!("查看详情：yuqing incident show {id}"),
    ];
    render("monitoring", v, to, subject, &lead, &next)
}

/// Mail to the duty officer when an incident closes (`by` "yuqing" when monitoring ended).
pub fn closed(v: &IncidentView<'_>, by: &str, to: &[Mailbox]) -> Draft {
    let id = v.incident.id;
    let subject = format!(
        "【舆情·结案】#{} {}：{}",
        id,
        v.incident.topic_name,
        one_line(&v.incident.title, 50)
    );
    let lead = if by == "yuqing" {
        format!(
            "舆情事件 #{id}（{}）监测期满，已自动结案。此后出现同一事件的新信息将重新打开本事件（回温）。",
            v.incident.topic_name
        )
    } else {
        format!(
            "舆情事件 #{id}（{}）已由 {by} 结案。此后出现同一事件的新信息将重新打开本事件。",
            v.incident.topic_name
        )
    };
    let next = vec![format!("查看详情：yuqing incident show {id}")];
    render("closed", v, to, subject, &lead, &next)
}

/// What each deadline still running obliges (`发布权威信息`), of those already past due.
fn overdue_deadlines(v: &IncidentView<'_>) -> Vec<String> {
    let now = crate::vocab::clock::secs(v.now);
    v.deadlines
        .iter()
        .filter(|d| d.met_at.is_none() && d.cancelled_at.is_none() && d.due_at < now)
        .map(DeadlineRow::what)
        .collect()
}

/// The command that records each deadline still running, then `incident show`.
fn steps_still_owed(v: &IncidentView<'_>) -> Vec<String> {
    let id = v.incident.id;
    let mut next: Vec<String> = v
        .deadlines
        .iter()
        .filter(|d| d.met_at.is_none() && d.cancelled_at.is_none())
        .map(|d| format!("{}：{}", d.kind.zh(), d.kind.command(id)))
        .collect();
    next.push(format!("查看详情：yuqing incident show {id}"));
    next
}

/// Mail, like a regrade's, when an item published before the incident's clock start
/// joined it: the clock start moved back from `was` and the deadlines with it.
pub fn clock_moved(
    v: &IncidentView<'_>,
    was: chrono::DateTime<chrono::Utc>,
    item: &ItemRow,
    item_source: &str,
    to: &[Mailbox],
) -> Draft {
    let id = v.incident.id;
    let overdue = overdue_deadlines(v);
    let start = crate::vocab::clock::from_secs(v.incident.clock_start);
    let subject = format!(
        "【舆情·计时提前{}】#{} 计时起点提前至 {}：{}",
        if overdue.is_empty() {
            ""
        } else {
            "·已超时"
        },
        id,
        local(start, v.tz),
        one_line(&v.incident.title, 50)
    );
    let lead = format!(
        "舆情事件 #{id}（{}）新增信息《{}》（{}）发布于 {}，早于原计时起点 {}。计时起点提前至 {}，\
         时限据此重新计算{}。",
        v.incident.topic_name,
        one_line(&item.title, 80),
        item_source,
        local(start, v.tz),
        local(was, v.tz),
        local(start, v.tz),
        if overdue.is_empty() {
            String::new()
        } else {
            format!("，{}已经超时，请立即处置", overdue.join("、"))
        }
    );
    let next = steps_still_owed(v);
    render("clock_moved", v, to, subject, &lead, &next)
}

/// Mail to those who were told of an incident when a person dismissed it as a false
/// positive (误报).
pub fn dismissed(v: &IncidentView<'_>, reason: &str, by: &str, to: &[Mailbox]) -> Draft {
    let id = v.incident.id;
    let subject = format!(
        "【舆情·误报撤销】#{} {}：{}",
        id,
        v.incident.topic_name,
        one_line(&v.incident.title, 50)
    );
    let lead = format!(
        "舆情事件 #{id}（{}）已由 {by} 判定为误报并撤销，原因：{}。其时限已取消，不计入考核；\
         此后同一内容的新信息归入本事件，不再通知。",
        v.incident.topic_name,
        one_line(reason, 200)
    );
    let next = vec![format!("查看详情：yuqing incident show {id}")];
    render("dismissed", v, to, subject, &lead, &next)
}

/// Mail to the duty officer, in the incident's thread, when the page of one of its items
/// was found deleted or edited after it was kept as evidence (issue 23 §4): 原帖已删除
/// （证据已保存） or 原帖已修改, with the kept version and how to export it.
pub fn original_changed(
    v: &IncidentView<'_>,
    item: &ItemRow,
    state: crate::vocab::state::EvidenceState,
    kept: DateTime<Utc>,
    version: i64,
    to: &[Mailbox],
) -> Draft {
    use crate::vocab::state::EvidenceState;
    let id = v.incident.id;
    let (what, kind) = match state {
        EvidenceState::Deleted => ("原帖已删除（证据已保存）", "evidence_deleted"),
        _ => ("原帖已修改", "evidence_changed"),
    };
    let subject = format!(
        "【舆情·{what}】#{id} {}：{}",
        v.incident.topic_name,
        one_line(&item.title, 50)
    );
    let link = item.link.as_deref().unwrap_or("（无）");
    let lead = match state {
        EvidenceState::Deleted => format!(
            "舆情事件 #{id}（{}）的信息 #{}「{}」{what}：{} 复查时原网页已不存在或显示删除提示（{link}）。\
             {} 保存的原帖（第 {version} 版）已存档，可导出作为证据。",
            v.incident.topic_name,
            item.id,
            one_line(&item.title, 100),
            local(v.now, v.tz),
            local(kept, v.tz),
        ),
        _ => format!(
            "舆情事件 #{id}（{}）的信息 #{}「{}」{what}：{} 复查时原网页（{link}）的正文与此前保存的版本不同，\
             修改后的内容已于 {} 另存为第 {version} 版，此前各版均保留。",
            v.incident.topic_name,
            item.id,
            one_line(&item.title, 100),
            local(v.now, v.tz),
            local(kept, v.tz),
        ),
    };
    let next = vec![
        format!("导出证据：yuqing evidence export {id} --out 事件{id}.warc.gz"),
        format!("查看详情：yuqing incident show {id}"),
    ];
    render(kind, v, to, subject, &lead, &next)
}

/// Mail to the people told of an incident's escalation when `what` (发布权威信息 …) was
/// recorded: the matter they were asked to press is handled, and the deadlines say how
/// late.
pub fn handled(v: &IncidentView<'_>, what: &str, by: &str, to: &[Mailbox]) -> Draft {
    let id = v.incident.id;
    let subject = format!(
        "【舆情·已处置】#{} 已{}：{}",
        id,
        what,
        one_line(&v.incident.title, 50)
    );
    let lead = format!(
        "此前通报的舆情事件 #{id}（{}，{}），{by} 已于 {} 记录{what}。各项时限的完成情况见下。",
        v.incident.topic_name,
        v.severity(),
        local(v.now, v.tz)
    );
    let next = steps_still_owed(v);
    render("handled", v, to, subject, &lead, &next)
}

/// Mail to the duty officer in the surviving incident's thread after `merged` was merged
/// into it.
pub fn merged(v: &IncidentView<'_>, merged: &IncidentRow, by: &str, to: &[Mailbox]) -> Draft {
    let id = v.incident.id;
    let subject = format!(
        "【舆情·合并】#{} 并入 #{} {}：{}",
        merged.id,
        id,
        v.incident.topic_name,
        one_line(&v.incident.title, 50)
    );
    let lead = format!(
        "舆情事件 #{}「{}」（{}）已由 {by} 并入事件 #{id}「{}」：其信息和处置记录移入 #{id}，#{} 不再单独计时，\
         #{id} 保留自己的标题。#{id} 的计时起点取两者中较早者，时限据此重新计算。",
        merged.id,
        one_line(&merged.title, 100),
        merged.topic_name,
        one_line(&v.incident.title, 100),
        merged.id
    );
    let next = vec![format!("查看详情：yuqing incident show {id}")];
    render("merged", v, to, subject, &lead, &next)
}

/// Mail to the duty officer when items were split from `from` into the new incident `v`.
pub fn split(v: &IncidentView<'_>, from: i64, moved: usize, by: &str, to: &[Mailbox]) -> Draft {
    let id = v.incident.id;
    let subject = format!(
        "【舆情·拆分】#{} 拆分出新事件 #{}：{}",
        from,
        id,
        one_line(&v.incident.title, 50)
    );
    let lead = format!(
        "{by} 将 {moved} 条信息从舆情事件 #{from} 拆分为新事件 #{id}（{}，{}），新事件按这些信息的计时起点单独计算时限。",
        v.incident.topic_name,
        v.severity()
    );
    let next = vec![
        format!("确认接报：yuqing incident ack {id}"),
        format!("查看详情：yuqing incident show {id}"),
        format!("原事件：yuqing incident show {from}"),
    ];
    render("split", v, to, subject, &lead, &next)
}

/// What the operators are told about a source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceHealth {
    /// Failing for longer than `source_alert_after`.
    Failing,
    /// A list page whose selectors used to find items now finds none: the layout changed.
    Empty,
    /// Back to normal after one of the above.
    Recovered,
    /// Answers, but no new item for its `stale_after` (`SourceView::last_new` says since
    /// when): not unreachable, silent.
    Silent,
    /// A silent source brought a new item again.
    Resumed,
}

/// Everything a message about a source's health needs.
pub struct SourceView<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub url: &'a str,
    pub failing_since: Option<DateTime<Utc>>,
    pub failures: i64,
    pub last_error: Option<&'a str>,
    /// When the source last brought a new item (or was first read).
    pub last_new: Option<DateTime<Utc>>,
    pub tz: Tz,
    pub now: DateTime<Utc>,
}

/// Mail to the operators when an edited config or watchlist was rejected on reload: the
/// daemon runs on with what it had, and every mistake is listed with its `file:line`.
pub fn reload_rejected(
    config: &std::path::Path,
    mistakes: &[String],
    tz: Tz,
    now: DateTime<Utc>,
    to: &[Mailbox],
) -> Draft {
    let subject = format!(
        "【舆情·配置未生效】修改有 {} 处错误，仍按原配置运行",
        mistakes.len()
    );
    let mut text = format!(
        "{} 重新加载配置和专题词表时发现错误，本次修改未生效，系统仍按修改前的配置运行。请改正以下错误并保存，系统会自动重新加载：\n\n",
        local(now, tz)
    );
    for m in mistakes {
        text.push_str(&format!("  {}\n", one_line(m, 500)));
    }
    text.push_str(&format!(
        "\n检查命令：yuqing check --config {}\n\n时间均为 {} 时间。此邮件由舆情监测系统 yuqing 自动发送。\n",
        config.display(),
        tz.name()
    ));
    super::duty_mail::draft("reload_rejected", to, subject, text)
}

/// Mail to the operators, once a year, when next year's working-day calendar is still
/// missing on 1 December (or this year's at any time): working-day deadlines that reach
/// it are counted Monday to Friday until it is added.
pub fn calendar_missing(
    year: i32,
    dir: &std::path::Path,
    placeholder: bool,
    calendar_url: Option<&str>,
    tz: Tz,
    now: DateTime<Utc>,
    to: &[Mailbox],
) -> Draft {
    let subject =
        format!("【舆情·工作日历缺失】尚无 {year} 年节假日安排，工作日期限将按周一至周五计算");
    let mut text = format!(
        "截至 {}，工作日历目录 {} 中没有 {year} 年的节假日安排（{year}.json）{}。\n\n\
         在添加之前，落在 {year} 年的工作日期限（如依申请公开的 20 个工作日）按周一至周五计算，\
         不计法定节假日和调休，并标注为\u{201c}不确定\u{201d}。\n\n",
        local(now, tz),
        dir.display(),
        if placeholder {
            "：现有文件是 holiday-cn 的空占位文件，尚未列出任何日期"
        } else {
            ""
        },
    );
    match calendar_url {
        Some(url) => text.push_str(&format!(
            "系统每日从 {url} 自动更新日历；国务院办公厅公布 {year} 年节假日安排、holiday-cn 收录后即会自动添加。\
             如需立即更新，请运行：yuqing calendar update\n"
        )),
        None => text.push_str(&format!(
            "国务院办公厅公布 {year} 年节假日安排后，请从 https://github.com/NateScarlet/holiday-cn 下载 {year}.json 放入上述目录，\
             或在配置 [daemon] 中设置 calendar_url，由系统每日自动更新（yuqing calendar update）。\n"
        )),
    }
    text.push_str(&format!(
        "\n本提醒每年只发送一次。时间均为 {} 时间。此邮件由舆情监测系统 yuqing 自动发送。\n",
        tz.name()
    ));
    super::duty_mail::draft("calendar_missing", to, subject, text)
}

/// Mail to the operators when a source's items are heard later than its `max_lag` (the
/// 95th percentile over 7 days): the 5-hour clock starts at publication, so each hour of
/// lag is an hour the duty officer does not have.
pub fn source_lagging(
    name: &str,
    id: &str,
    lag: &crate::rules::lag::Lag,
    max: crate::vocab::duration::Span,
    tz: Tz,
    to: &[Mailbox],
) -> Draft {
    use crate::vocab::span::zh_span;
    let p95 = zh_span(chrono::Duration::seconds(lag.p95_s));
    let subject = format!(
        "【舆情·信息源延迟】{}（{id}）近7天 95% 的信息发现时已过 {p95}",
        one_line(name, 60)
    );
    let text = format!(
        "信息源 {name}（{id}）近7天的 {} 条带发布时间的信息，发现时间比发布时间晚：中位 {}，95% 在 {p95} 以内，         超过设定的 max_lag（{}）。重大舆情须在发布后 5 小时内发布权威信息，计时从发布时起算，         这段延迟会占用处置时间。

         常见原因：抓取间隔（every）过长、所在主机的礼貌限制（host_delay、per_host）使其排不上、         转换服务（如 RSSHub）缓存过久。查看各来源的延迟：yuqing sources

         延迟回到 max_lag 以内后，如再次超过会再通知。时间均为 {} 时间。此邮件由舆情监测系统 yuqing 自动发送。
",
        lag.n,
        zh_span(chrono::Duration::seconds(lag.p50_s)),
        max,
        tz.name()
    );
    super::duty_mail::draft("source_lag", to, subject, text)
}

/// Mail to the operators when a source stops being seen, or is seen again.
pub fn source_health(v: &SourceView<'_>, health: SourceHealth, to: &[Mailbox]) -> Draft {
    let (tag, lead) = match health {
        SourceHealth::Failing => (
            "信息源异常",
            format!(
                "信息源 {}（{}）{}起连续 {} 次读取失败，期间该来源的舆情无法被发现。请检查网址是否变更、网站是否可访问。",
                v.name,
                v.id,
                v.failing_since.map(|t| local(t, v.tz)).unwrap_or_else(|| "近期".into()),
                v.failures
            ),
        ),
        SourceHealth::Empty => (
            "信息源异常",
            format!(
                "信息源 {}（{}）的列表页面此前能读出条目，现在一条也读不出，可能是网站改版导致选择器失效，该来源的舆情无法被发现。请检查配置中的选择器。",
                v.name, v.id
            ),
        ),
        SourceHealth::Recovered => (
            "信息源恢复",
            format!("信息源 {}（{}）已恢复正常读取。", v.name, v.id),
        ),
        SourceHealth::Silent => (
            "信息源无新内容",
            format!(
                "信息源 {}（{}）能正常访问，但自 {} 起（已 {}）没有任何新内容。来源本身停更之外，常见原因是转换服务（如 RSSHub、公众号转 RSS）登录凭据过期后返回空列表。该来源的舆情可能无法被发现，请打开网址人工核对。",
                v.name,
                v.id,
                v.last_new.map(|t| local(t, v.tz)).unwrap_or_else(|| "首次读取".into()),
                v.last_new
                    .map(|t| crate::vocab::span::zh_span(v.now - t))
                    .unwrap_or_else(|| "较长时间".into()),
            ),
        ),
        SourceHealth::Resumed => (
            "信息源恢复",
            format!("信息源 {}（{}）又有新内容了，已恢复正常。", v.name, v.id),
        ),
    };
    let subject = format!("【舆情·{tag}】{}（{}）", one_line(v.name, 60), v.id);
    let mut text = format!("{lead}\n\n网址：{}\n", v.url);
    if health == SourceHealth::Failing || health == SourceHealth::Empty {
        if let Some(e) = v.last_error {
            text.push_str(&format!("最近错误：{}\n", one_line(e, 300)));
        }
    }
    text.push_str(&format!(
        "时间：{}\n\n查看各来源状态：yuqing sources\n立即重试：yuqing poll --source {}\n\n时间均为 {} 时间。此邮件由舆情监测系统 yuqing 自动发送。\n",
        local(v.now, v.tz),
        v.id,
        v.tz.name()
    ));
    let kind = match health {
        SourceHealth::Failing => "source_failing",
        SourceHealth::Empty => "source_empty",
        SourceHealth::Recovered => "source_recovered",
        SourceHealth::Silent => "source_silent",
        SourceHealth::Resumed => "source_resumed",
    };
    super::duty_mail::draft(kind, to, subject, text)
}

/// A host whose sources cannot all be polled within their intervals, in one line, as
/// `yuqing sources`, `yuqing check` and the mail word it: "主机 X：N 个信息源，按每 1秒 1 次、
/// 同时 2 个，一轮需 约33分钟，超过最短间隔 5分钟".
pub fn host_overload_line(h: &HostLoad) -> String {
    format!(
        "主机 {}：{} 个信息源，按每 {} 1 次、同时 {} 个，一轮需 {}，超过最短间隔 {}",
        one_line(&h.host, 100),
        h.sources,
        zh_exact(h.delay),
        h.per_host,
        zh_about(h.pass),
        zh_exact(h.shortest)
    )
}

/// The settings that would make the host's sources fit, in one line.
pub fn host_overload_fix(h: &HostLoad) -> String {
    format!(
        "可为该主机加 [[host]]：name = \"{}\"、host_delay = \"{}\" 或更短（只影响该主机），或将其信息源的 every 延长到至少 \"{}\"",
        one_line(&h.host, 100),
        Span(h.delay_to_fit()),
        Span(h.every_to_fit())
    )
}

/// Mail to the operators, once per host and settings: a host's sources cannot all be
/// polled within their intervals, and which setting would fix it.
pub fn host_overloaded(h: &HostLoad, tz: Tz, now: DateTime<Utc>, to: &[Mailbox]) -> Draft {
    let host = one_line(&h.host, 100);
    let subject = format!(
        "【舆情·抓取跟不上】主机 {host}：{} 个信息源一轮需 {}",
        h.sources,
        zh_about(h.pass)
    );
    let text = format!(
        "主机 {host} 上有 {n} 个信息源。为免被网站当作攻击而封禁，系统对同一主机每 {delay} 最多发起 1 次请求（host_delay = \"{delay_cfg}\"），同时最多 {per_host} 个（per_host）。\
         照此抓完一轮至少需要 {pass}，超过这些信息源中最短的抓取间隔 {shortest}（every）。\
         这些信息源无法按设定的间隔抓取：积压越来越多，新舆情会被越来越晚发现。\n\n\
         解决办法（任选其一）：\n\
         \x20 1. 在配置文件中为该主机单独设置更短的请求间隔（只影响该主机，请先确认网站允许这样的频率）：\n\
         \x20     [[host]]\n\
         \x20     name = \"{host}\"\n\
         \x20     host_delay = \"{fit_delay}\"\n\
         \x20 2. 将该主机信息源的 every 延长到至少 \"{fit_every}\"。\n\n\
         时间：{at}\n\
         查看各主机情况：yuqing sources\n\n\
         每个主机只提醒一次；上述设置改变后仍跟不上时会再提醒。时间均为 {zone} 时间。此邮件由舆情监测系统 yuqing 自动发送。\n",
        n = h.sources,
        delay = zh_exact(h.delay),
        delay_cfg = Span(h.delay),
        per_host = h.per_host,
        pass = zh_about(h.pass),
        shortest = zh_exact(h.shortest),
        fit_delay = Span(h.delay_to_fit()),
        fit_every = Span(h.every_to_fit()),
        at = local(now, tz),
        zone = tz.name(),
    );
    super::duty_mail::draft("host_overloaded", to, subject, text)
}

/// A short span exactly: "150毫秒", "1.5秒", "1秒", "5分钟".
fn zh_exact(d: std::time::Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        format!("{ms}毫秒")
    } else if !ms.is_multiple_of(1000) && ms < 60_000 {
        format!("{}秒", (ms as f64 / 1000.0 * 10.0).round() / 10.0)
    } else {
        crate::vocab::span::zh_span(chrono::Duration::seconds(d.as_secs() as i64))
    }
}

/// A long span to the minute: "约33分钟" (2,000s), "1小时30分"; short ones exactly.
fn zh_about(d: std::time::Duration) -> String {
    if d < std::time::Duration::from_secs(120) {
        return zh_exact(d);
    }
    let minutes = (d.as_secs_f64() / 60.0).round() as i64;
    let text = crate::vocab::span::zh_span(chrono::Duration::minutes(minutes));
    if minutes * 60 == d.as_secs() as i64 && d.subsec_nanos() == 0 {
        text
    } else {
        format!("约{text}")
    }
}

/// A time as mail shows it, in the configured zone.
/// How much of the statutory clock had gone when yuqing heard of the incident (its clock
/// start, the first report's publication, to its opening), as `2小时13分`; `None` under a
/// minute.
pub fn heard_after(i: &IncidentRow) -> Option<String> {
    let gone = i.opened_at - i.clock_start;
    (gone >= 60).then(|| crate::vocab::span::zh_span(chrono::Duration::seconds(gone)))
}

/// A source's lag as people read it: `中位 12分钟 / 95% 2小时13分（38 条）`, or `-` when no
/// item of the window carried a publication time.
pub fn lag_zh(lag: Option<&crate::rules::lag::Lag>) -> String {
    use crate::vocab::span::zh_span;
    match lag {
        None => "-".into(),
        Some(l) => format!(
            "中位 {} / 95% {}（{} 条）",
            zh_span(chrono::Duration::seconds(l.p50_s)),
            zh_span(chrono::Duration::seconds(l.p95_s)),
            l.n
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn an_overloaded_host_is_worded_with_its_pass_and_the_settings_that_fix_it() {
        use std::time::Duration;
        let targets = (0..2000).map(|_| ("www.gov.example.cn", Duration::from_secs(300)));
        let p = crate::config::Politeness {
            per_host: 2,
            delay: Span::from_secs(1),
        };
        let h = &crate::fetch::politeness::loads(targets, &|_| p)[0];
        assert_eq!(
            host_overload_line(h),
            "主机 www.gov.example.cn：2000 个信息源，按每 1秒 1 次、同时 2 个，一轮需 约33分钟，超过最短间隔 5分钟"
        );
        assert_eq!(
            host_overload_fix(h),
            "可为该主机加 [[host]]：name = \"www.gov.example.cn\"、host_delay = \"150ms\" 或更短（只影响该主机），或将其信息源的 every 延长到至少 \"34m\""
        );
        let now = Utc.with_ymd_and_hms(2026, 11, 24, 2, 30, 0).unwrap();
        let to = [crate::rules::escalation::mailbox("运维 <ops@example.gov.cn>").unwrap()];
        let d = host_overloaded(h, chrono_tz::Asia::Shanghai, now, &to);
        assert_eq!(d.kind, "host_overloaded");
        assert_eq!(
            d.subject,
            "【舆情·抓取跟不上】主机 www.gov.example.cn：2000 个信息源一轮需 约33分钟"
        );
        for part in [
            "主机 www.gov.example.cn 上有 2000 个信息源",
            "每 1秒 最多发起 1 次请求（host_delay = \"1s\"）",
            "至少需要 约33分钟，超过这些信息源中最短的抓取间隔 5分钟",
            "      [[host]]\n      name = \"www.gov.example.cn\"\n      host_delay = \"150ms\"\n",
            "  2. 将该主机信息源的 every 延长到至少 \"34m\"",
            "时间：2026-11-24 10:30",
        ] {
            assert!(d.text.contains(part), "{part}\n{}", d.text);
        }
        assert_eq!(zh_exact(Duration::from_millis(1500)), "1.5秒");
        assert_eq!(zh_about(Duration::from_secs(5400)), "1小时30分");
        assert_eq!(zh_about(Duration::from_secs(90)), "1分30秒");
    }

    fn sample() -> (IncidentRow, ItemRow, Vec<DeadlineRow>) {
        let t0 = Utc
            .with_ymd_and_hms(2026, 11, 24, 2, 30, 0)
            .unwrap()
            .timestamp();
        let incident = IncidentRow {
            id: 7,
            topic_id: "scenic-safety".into(),
            topic_name: "景区安全".into(),
            title: "某景区发生踩踏\r\nBcc: evil@example.com <script>".into(),
            severity: Severity::Major,
            status: crate::vocab::state::IncidentStatus::Open,
            opened_at: t0,
            clock_start: t0,
            first_item_id: 1,
            acknowledged_at: None,
            acknowledged_by: None,
            closed_at: None,
            closed_by: None,
            monitoring_until: None,
            reopened_at: None,
            merged_into: None,
            split_from: None,
            surged_at: None,
        };
        let item = ItemRow {
            id: 1,
            source_id: "forum".into(),
            guid: "g".into(),
            link: Some("https://bbs.example.cn/t/1?a=1&b=<2>".into()),
            title: "某景区发生踩踏\r\nBcc: evil@example.com <script>".into(),
            summary: String::new(),
            published_at: Some(t0),
            fetched_at: t0,
            topics: "[]".into(),
            tone: None,
            tone_score: None,
            signature: None,
        };
        let dl = |id, kind: &str, h: i64| DeadlineRow {
            id,
            incident_id: 7,
            kind: kind.parse().unwrap(),
            due_at: t0 + h * 3600,
            met_at: None,
            met_by: None,
            evidence: None,
            cancelled_at: None,
            breach_mailed_at: None,
            reminded_before: None,
            duty: None,
            uncertain: None,
        };
        (
            incident,
            item,
            vec![dl(1, "release", 5), dl(2, "press_conference", 24)],
        )
    }

    /// The tags of `html`: what a mail reader obeys. Text is escaped, so a `<` opens a tag.
    fn tags(html: &str) -> Vec<&str> {
        html.split('<')
            .skip(1)
            .map(|t| &t[..t.find('>').unwrap_or(t.len())])
            .collect()
    }

    /// Every tag holds only the attributes the builders write, each value in double quotes:
    /// outside the quoted values, no event handler, no second tag, no stray quote.
    fn assert_obeys_nothing(what: &str, html: &str) {
        for tag in tags(html) {
            assert_eq!(tag.matches('"').count() % 2, 0, "{what}: <{tag}>");
            let outside: String = tag
                .split('"')
                .step_by(2)
                .collect::<Vec<_>>()
                .join(" ")
                .to_ascii_lowercase();
            let handler = outside
                .split(|c: char| c.is_whitespace() || c == '=' || c == '/')
                .any(|w| w.starts_with("on") && w.len() > 2);
            assert!(
                !handler
                    && !outside.contains('\'')
                    && !outside.contains('`')
                    && !outside.starts_with("img")
                    && !outside.starts_with("script"),
                "{what}: a hostile attribute or tag <{tag}> in\n{html}"
            );
        }
    }

    #[test]
    fn every_mail_builder_keeps_hostile_titles_and_notes_as_text() {
        const HOSTILE: &str = "某景区坍塌 http://evil.example/\"onmouseover=\"alert(1)\" \
             https://x.example/'onmouseover='alert(2)' <img src=x onerror=alert(3)> \
             http://y.example/`onmouseover=alert(4)`";
        let (incident, mut item, deadlines) = sample();
        item.title = HOSTILE.into();
        item.summary = HOSTILE.into();
        item.link = Some("https://bbs.example.cn/\"onmouseover=\"alert(5)\"".to_string());
        let duty: Vec<Mailbox> = vec!["值班员 <duty@example.gov.cn>".parse().unwrap()];
        let evidence = [HOSTILE.to_string()];
        let v = IncidentView {
            incident: &incident,
            first: &item,
            source_name: HOSTILE,
            items: 3,
            deadlines: &deadlines,
            evidence: &evidence,
            owners: &duty,
            people: &Default::default(),
            tz: chrono_tz::Asia::Shanghai,
            now: crate::vocab::clock::from_secs(incident.opened_at + 7 * 3600),
        };
        let post = crate::store::PostRow {
            id: 1,
            channel_id: "wechat".into(),
            guid: "p1".into(),
            title: HOSTILE.into(),
            summary: HOSTILE.into(),
            link: Some("https://mp.example.cn/\"onmouseover=\"alert(6)\"".into()),
            published_at: Some(incident.opened_at),
            first_seen: incident.opened_at,
        };
        let related = [Related {
            id: 3,
            severity: Severity::Major,
            status: IncidentStatus::Open,
            opened_at: v.now,
            link: "http://127.0.0.1:8700/incidents/3\"onmouseover=\"alert(7)\"".to_string(),
            same_item: Some(HOSTILE.to_string()),
        }];
        let history = [HOSTILE.to_string()];
        let was = crate::vocab::clock::from_secs(incident.clock_start + 600);
        let drafts = [
            ("opened", opened(&v, &duty, &related)),
            (
                "regraded",
                regraded(&v, Severity::Ordinary, Severity::Major, HOSTILE, &duty),
            ),
            (
                "new_items",
                new_items(
                    &v,
                    std::slice::from_ref(&item),
                    &|_| HOSTILE.to_string(),
                    &duty,
                ),
            ),
            ("unacknowledged", unacknowledged(&v, HOSTILE, &duty)),
            ("reminder", reminder(&v, &deadlines[0], &duty)),
            ("breached", breached(&v, &deadlines[0], true, &duty)),
            (
                "resurgence",
                resurgence(&v, &item, HOSTILE, true, &history, &duty),
            ),
            (
                "resurgence_open",
                resurgence(&v, &item, HOSTILE, false, &history, &duty),
            ),
            (
                "release_candidate",
                release_candidate(&v, HOSTILE, &post, false, &duty),
            ),
            (
                "release_recorded",
                release_candidate(&v, HOSTILE, &post, true, &duty),
            ),
            ("monitoring", monitoring(&v, v.now, &duty)),
            ("closed", closed(&v, HOSTILE, &duty)),
            ("clock_moved", clock_moved(&v, was, &item, HOSTILE, &duty)),
            ("dismissed", dismissed(&v, HOSTILE, HOSTILE, &duty)),
            ("handled", handled(&v, HOSTILE, HOSTILE, &duty)),
            ("merged", merged(&v, &incident, HOSTILE, &duty)),
            ("split", split(&v, 3, 2, HOSTILE, &duty)),
        ];
        for (what, d) in &drafts {
            assert_obeys_nothing(what, &d.html);
            assert!(!d.subject.contains('\n'), "{what}: {}", d.subject);
        }
        // The address before the quote is still a link, and the rest shows as text.
        let reopened = &drafts[6].1.html;
        assert!(
            reopened.contains("<a href=\"http://evil.example/\">http://evil.example/</a>\"onmouseover=\"alert(1)\""),
            "{reopened}"
        );
    }

    #[test]
    fn linkify_escapes_the_attribute_whatever_the_address_holds() {
        assert_eq!(
            linkify("见 http://evil.example/\"onmouseover=\"alert(1)\" 。"),
            "见 <a href=\"http://evil.example/\">http://evil.example/</a>\"onmouseover=\"alert(1)\" 。"
        );
        assert_eq!(
            linkify("https://a.example/?x=1&amp;y=2"),
            "<a href=\"https://a.example/?x=1&amp;y=2\">https://a.example/?x=1&amp;y=2</a>"
        );
        assert_eq!(attribute("a\"b'c<d>`"), "a&quot;b&#39;c&lt;d&gt;&#96;");
    }

    #[test]
    fn opening_mail_stands_alone() {
        let (incident, item, deadlines) = sample();
        let duty: Vec<Mailbox> = vec!["值班员 <duty@example.gov.cn>".parse().unwrap()];
        let v = IncidentView {
            incident: &incident,
            first: &item,
            source_name: "本地论坛",
            items: 1,
            deadlines: &deadlines,
            evidence: &["踩踏".to_string(), "景区".to_string()],
            owners: &duty,
            people: &Default::default(),
            tz: chrono_tz::Asia::Shanghai,
            now: crate::vocab::clock::from_secs(incident.opened_at),
        };
        let d = opened(&v, &duty, &[]);
        assert!(
            !d.subject.contains('\n') && !d.subject.contains('\r'),
            "{}",
            d.subject
        );
        assert!(
            d.subject.starts_with("【舆情·重大】#7 景区安全："),
            "{}",
            d.subject
        );
        for needle in [
            "某景区发生踩踏 Bcc: evil@example.com <script>",
            "本地论坛（forum）",
            "https://bbs.example.cn/t/1?a=1&b=<2>",
            "发布时间：2026-11-24 10:30",
            "发布权威信息：2026-11-24 15:30 前，剩余 5小时",
            "召开新闻发布会：2026-11-25 10:30 前，剩余 1天",
            "yuqing incident release 7 --url",
            "命中词：踩踏、景区",
            "内容摘录：某【景区】发生【踩踏】 Bcc: evil@example.com <script>",
        ] {
            assert!(d.text.contains(needle), "missing {needle:?} in\n{}", d.text);
        }
        assert!(
            !d.html.contains("<script>"),
            "web text must be escaped in HTML"
        );
        assert!(d.html.contains("&lt;script&gt;"));
    }

    #[test]
    fn opening_mail_marks_the_matched_words_names_whom_to_call_and_the_related_incident() {
        let (incident, mut item, deadlines) = sample();
        item.title = "市大剧院后台起火后续：剧院发布情况说明".into();
        item.summary = "据剧院消息，后台起火已于当晚扑灭，无人员伤亡。".repeat(8);
        let duty: Vec<Mailbox> = vec!["舆情值班 <Duty@example.gov.cn>".parse().unwrap()];
        let mut people = crate::rules::escalation::People::default();
        people
            .phones
            .insert("duty@example.gov.cn".into(), "010-6512 3456".into());
        let evidence = ["起火".to_string(), "大剧院".to_string()];
        let v = IncidentView {
            incident: &incident,
            first: &item,
            source_name: "本地论坛",
            items: 1,
            deadlines: &deadlines,
            evidence: &evidence,
            owners: &duty,
            people: &people,
            tz: chrono_tz::Asia::Shanghai,
            now: crate::vocab::clock::from_secs(incident.opened_at),
        };
        let related = [Related {
            id: 2,
            severity: Severity::Major,
            status: IncidentStatus::Acknowledged,
            opened_at: crate::vocab::clock::from_secs(incident.opened_at - 3600),
            link: "http://yq.example.gov.cn/incidents/2".into(),
            same_item: None,
        }];
        let d = opened(&v, &duty, &related);
        assert!(
            d.subject.ends_with("（或与 #2 为同一事件）"),
            "{}",
            d.subject
        );
        for needle in [
            "可能与 #2 为同一事件（同一专题，重大，2026-11-24 09:30 立案，已确认：http://yq.example.gov.cn/incidents/2）",
            "如是请合并：yuqing incident merge 2 7",
            "内容摘录：市【大剧院】后台【起火】后续：剧院发布情况说明｜据剧院消息，后台【起火】已于当晚扑灭",
            "责任人：舆情值班 <Duty@example.gov.cn>（电话 010-6512 3456）",
        ] {
            assert!(d.text.contains(needle), "missing {needle:?} in\n{}", d.text);
        }
        // The excerpt is bounded and says it was cut; the HTML marks and links.
        let line = d.text.lines().find(|l| l.starts_with("内容摘录")).unwrap();
        assert!(line.ends_with('…') && line.chars().count() < 200, "{line}");
        assert!(d
            .html
            .contains("<mark style=\"background:#ffe08a\">起火</mark>"));
        assert!(d.html.contains(
            "<a href=\"http://yq.example.gov.cn/incidents/2\">http://yq.example.gov.cn/incidents/2</a>"
        ));
    }

    #[test]
    fn breach_mail_says_how_late() {
        let (incident, item, deadlines) = sample();
        let v = IncidentView {
            incident: &incident,
            first: &item,
            source_name: "本地论坛",
            items: 3,
            deadlines: &deadlines,
            evidence: &[],
            owners: &[],
            people: &Default::default(),
            tz: chrono_tz::Asia::Shanghai,
            now: crate::vocab::clock::from_secs(deadlines[0].due_at + 600),
        };
        let d = breached(&v, &deadlines[0], false, &[]);
        assert!(
            d.subject
                .starts_with("【舆情·超时】#7 发布权威信息时限已过"),
            "{}",
            d.subject
        );
        // Chinese punctuation renders as Chinese; 重大 and the overdue line stand out.
        assert!(d.html.contains("<html lang=\"zh-CN\">"), "{}", d.html);
        assert!(
            d.html
                .contains("<td style=\"color:#b00020;font-weight:bold\">重大"),
            "{}",
            d.html
        );
        assert!(
            d.html
                .contains("<li style=\"color:#b00020;font-weight:bold\">发布权威信息"),
            "{}",
            d.html
        );
        assert!(d.text.contains("已超时 10分钟"), "{}", d.text);
        assert!(d.text.contains("共 3 条"), "{}", d.text);
    }

    #[test]
    fn new_items_and_reminders_of_an_unacknowledged_incident_say_how_to_acknowledge() {
        let (mut incident, item, deadlines) = sample();
        incident.acknowledged_at = None;
        let v = IncidentView {
            incident: &incident,
            first: &item,
            source_name: "本地论坛",
            items: 3,
            deadlines: &deadlines,
            evidence: &[],
            owners: &[],
            people: &Default::default(),
            tz: chrono_tz::Asia::Shanghai,
            now: crate::vocab::clock::from_secs(deadlines[0].due_at - 1800),
        };
        let ack = "确认接报：yuqing incident ack 7";
        let fresh = new_items(&v, std::slice::from_ref(&item), &|s| s.to_string(), &[]);
        assert!(fresh.text.contains(ack), "{}", fresh.text);
        let soon = reminder(&v, &deadlines[0], &[]);
        assert!(soon.text.contains(ack), "{}", soon.text);
        // Once acknowledged, they do not ask again.
        let mut acked = incident.clone();
        acked.acknowledged_at = Some(incident.opened_at + 60);
        let v = IncidentView {
            incident: &acked,
            ..v
        };
        assert!(!reminder(&v, &deadlines[0], &[]).text.contains(ack));
        let fresh = new_items(&v, std::slice::from_ref(&item), &|s| s.to_string(), &[]);
        assert!(!fresh.text.contains(ack));
    }
}
