//! What the duty officer and the leaders read: every message in Chinese, plain text plus
//! HTML, and standing alone.
//!
//! A message carries the incident's number, topic, severity, first item (title, source,
//! link, time), how many items since, each deadline with its absolute time in the
//! configured time zone and the time left, who owns it, and the command that records the
//! next step (design.md, "Mail"). These functions are pure: they turn a snapshot of an
//! incident into a [`Draft`] that the caller queues in the outbox in the same transaction as
//! the change that caused it.

use crate::store::{DeadlineRow, Draft, IncidentRow, ItemRow};
use crate::vocab::clock::local;
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

    /// `【舆情·TAG】#N ABOUT：TITLE`: the subject every mail about one incident shares, so
    /// a mailbox sorts and threads them alike.
    fn subject(&self, tag: &str, about: &str, title: &str) -> String {
        format!("【舆情·{tag}】#{} {about}：{title}", self.incident.id)
    }

    /// The incident's title on one line, cut to `max` characters.
    fn title(&self, max: usize) -> String {
        one_line(&self.incident.title, max)
    }

    /// `#N（专题，级别）`: the incident as a lead names it.
    fn named(&self) -> String {
        format!(
            "#{}（{}，{}）",
            self.incident.id,
            self.incident.topic_name,
            self.severity()
        )
    }

    /// `#N（专题）`, when the severity is beside the point.
    fn named_by_topic(&self) -> String {
        format!("#{}（{}）", self.incident.id, self.incident.topic_name)
    }

    /// Stored UTC seconds as the reader's local time.
    fn local(&self, secs: i64) -> String {
        local(crate::vocab::clock::from_secs(secs), self.tz)
    }

    /// An item in a lead: `when title（source） link`, when it was published (else found).
    fn item_line(&self, item: &ItemRow, source: &str) -> String {
        format!(
            "{} {}（{source}） {}",
            self.local(item.published_at.unwrap_or(item.fetched_at)),
            one_line(&item.title, 80),
            item.link.as_deref().unwrap_or("")
        )
    }

    /// `查看详情：yuqing incident show N`, the last step of nearly every mail.
    fn show_step(&self) -> String {
        format!("查看详情：yuqing incident show {}", self.incident.id)
    }

    /// `记录完成：` and the command that records the deadline `d` as met.
    fn record_step(&self, d: &DeadlineRow) -> String {
        format!("记录完成：{}", d.kind.command(self.incident.id.0))
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
    let mut subject = v.subject(&v.severity(), &v.incident.topic_name, &v.title(60));
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
            v.local(v.incident.clock_start)
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
        v.show_step(),
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
    let overdue = !overdue_deadlines(v).is_empty();
    let subject = v.subject(
        &format!("{}{}", to_level.zh(), if overdue { "·已超时" } else { "" }),
        &format!("级别调整为{}", to_level.zh()),
        &v.title(50),
    );
    let lead = format!(
        "舆情事件 {}级别由{}调整为{}（调整人：{}）。时限自计时起点 {} 重新计算{}。",
        v.named_by_topic(),
        from.zh(),
        to_level.zh(),
        by,
        v.local(v.incident.clock_start),
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
    unread: usize,
    sources: &dyn Fn(&str) -> String,
    to: &[Mailbox],
) -> Draft {
    let count = new.len() + unread;
    let subject = v.subject(
        "新增",
        &v.incident.topic_name,
        &format!("新增 {count} 条相关信息"),
    );
    let mut lead = format!(
        "舆情事件 {}新增 {count} 条相关信息，累计 {} 条：",
        v.named(),
        v.items
    );
    for item in new {
        let line = v.item_line(item, &sources(&item.source_id));
        lead.push_str(&format!("\n  · {line}"));
    }
    if unread > 0 {
        lead.push_str(&format!(
            "\n  · 另有 {unread} 条无法读取（可能由较新版本写入），请联系运维修复"
        ));
    }
    let next: Vec<String> = v.ack_step().into_iter().chain([v.show_step()]).collect();
    render("new_items", v, to, subject, &lead, &next)
}

/// Mail to the leaders when nobody acknowledged an incident in time.
pub fn unacknowledged(v: &IncidentView<'_>, after: &str, to: &[Mailbox]) -> Draft {
    let id = v.incident.id;
    let subject = v.subject(
        "未确认",
        &format!(
            "{}（{}）立案 {after} 仍无人确认",
            v.incident.topic_name,
            v.severity()
        ),
        &v.title(40),
    );
    let lead = format!(
        "舆情事件 #{id} 于 {} 立案并已通知值班员，{} 后仍无人确认接报。请督促值班员立即研判处置。",
        v.local(v.incident.opened_at),
        after
    );
    let next = vec![format!("确认接报：yuqing incident ack {id}"), v.show_step()];
    render("unacknowledged", v, to, subject, &lead, &next)
}

/// Mail to the duty officer before a deadline.
pub fn reminder(v: &IncidentView<'_>, upcoming: &DeadlineRow, to: &[Mailbox]) -> Draft {
    let what = &upcoming.what();
    let due = crate::vocab::clock::from_secs(upcoming.due_at);
    let left = crate::vocab::span::zh_left(due, v.now);
    let subject = v.subject(
        "提醒",
        &format!("{what}时限{}", left.replace(' ', "")),
        &v.title(50),
    );
    let lead = format!(
        "舆情事件 {}须在 {} 前{}，{}，尚未记录完成。",
        v.named(),
        local(due, v.tz),
        what,
        left
    );
    let next: Vec<String> = v
        .ack_step()
        .into_iter()
        .chain([v.record_step(upcoming), v.show_step()])
        .collect();
    render("reminder", v, to, subject, &lead, &next)
}

/// Mail to leaders, the principal and the duty officer when a deadline passed unmet;
/// `again` when it is the repeated escalation of a deadline still not met.
pub fn breached(v: &IncidentView<'_>, missed: &DeadlineRow, again: bool, to: &[Mailbox]) -> Draft {
    let what = &missed.what();
    let due = crate::vocab::clock::from_secs(missed.due_at);
    let tag = if again {
        "超时·再次提醒"
    } else {
        "超时"
    };
    let subject = v.subject(tag, &format!("{what}时限已过"), &v.title(50));
    let lead = format!(
        "舆情事件 {}{}的时限 {} 已过，尚未记录完成，{}。请督促责任人立即处置。",
        v.named(),
        what,
        local(due, v.tz),
        crate::vocab::span::zh_left(due, v.now)
    );
    let next = vec![v.record_step(missed), v.show_step()];
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
        incident_id: Some(v.incident.id.0),
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
        ("标题", v.title(200)),
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
                .map(|t| v.local(t))
                .unwrap_or_else(|| "未知".into()),
        ),
        ("发现时间", v.local(first.fetched_at)),
        ("计时起点", v.local(v.incident.clock_start)),
        ("相关信息", format!("共 {} 条", v.items)),
        ("责任人", owners),
        (
            "确认情况",
            match (&v.incident.acknowledged_at, &v.incident.acknowledged_by) {
                (Some(at), by) => format!(
                    "{} 于 {} 确认接报",
                    by.as_deref().unwrap_or("值班员"),
                    v.local(*at)
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
    let state = if reopened {
        "（已重新打开）"
    } else {
        "（监测期内）"
    };
    let about = format!("{}{state}", v.incident.topic_name);
    let subject = v.subject("回温", &about, &one_line(&item.title, 50));
    let mut lead = if reopened {
        format!(
            "已关闭的舆情事件 {}出现新的相关信息，舆情回温。事件 #{id} 已重新打开，\
             请重新确认并研判是否需要再次回应。",
            v.named()
        )
    } else {
        format!(
            "处于监测期的舆情事件 {}出现新的相关信息，舆情回温。请研判是否需要再次回应。",
            v.named()
        )
    };
    lead.push_str(&format!("\n新信息：{}", v.item_line(item, source)));
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
    next.push(v.show_step());
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
    let at = v.local(post.at());
    let link = post.link.as_deref().unwrap_or("（无链接）");
    let channel = one_line(channel, 30);
    let subject = if recorded {
        v.subject(
            "已发布",
            &v.incident.topic_name,
            &format!("本单位「{channel}」已发布《{title}》"),
        )
    } else {
        v.subject(
            "疑似发布",
            &v.incident.topic_name,
            &format!("请确认「{channel}」的《{title}》"),
        )
    };
    let mut lead = format!(
        "本单位渠道「{channel}」于 {at} 发布的《{title}》（{link}）与舆情事件 {}的主题相符，",
        v.named()
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
    next.push(v.show_step());
    render("release_candidate", v, to, subject, &lead, &next)
}

/// Mail to the duty officer when an incident's response duties are all met and it is
/// monitored for 回温 until `until`.
pub fn monitoring(v: &IncidentView<'_>, until: DateTime<Utc>, to: &[Mailbox]) -> Draft {
    let id = v.incident.id;
    let until = local(until, v.tz);
    let subject = v.subject(
        "监测",
        &v.incident.topic_name,
        &format!("处置时限均已完成，监测至 {until}"),
    );
    let lead = format!(
        "舆情事件 {}的处置时限均已记录完成，进入监测期，至 {until} 止。期间出现同一事件的新信息将作为回温通知；\
         监测期满自动结案。",
        v.named()
    );
    let next = vec![
        format!("提前结案：yuqing incident close {id}"),
        v.show_step(),
    ];
    render("monitoring", v, to, subject, &lead, &next)
}

/// Mail to the duty officer when an incident closes (`by` yuqing itself, `OWN_ACTOR`, when
/// monitoring ended).
pub fn closed(v: &IncidentView<'_>, by: &str, to: &[Mailbox]) -> Draft {
    let subject = v.subject("结案", &v.incident.topic_name, &v.title(50));
    let lead = if by == crate::vocab::action::OWN_ACTOR {
        format!(
            "舆情事件 {}监测期满，已自动结案。此后出现同一事件的新信息将重新打开本事件（回温）。",
            v.named_by_topic()
        )
    } else {
        format!(
            "舆情事件 {}已由 {by} 结案。此后出现同一事件的新信息将重新打开本事件。",
            v.named_by_topic()
        )
    };
    let next = vec![v.show_step()];
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
        .map(|d| format!("{}：{}", d.kind.zh(), d.kind.command(id.0)))
        .collect();
    next.push(v.show_step());
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
    let overdue = overdue_deadlines(v);
    let start = v.local(v.incident.clock_start);
    let tag = if overdue.is_empty() {
        "计时提前"
    } else {
        "计时提前·已超时"
    };
    let subject = v.subject(tag, &format!("计时起点提前至 {start}"), &v.title(50));
    let lead = format!(
        "舆情事件 {}新增信息《{}》（{}）发布于 {start}，早于原计时起点 {}。计时起点提前至 {start}，\
         时限据此重新计算{}。",
        v.named_by_topic(),
        one_line(&item.title, 80),
        item_source,
        local(was, v.tz),
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
    let subject = v.subject("误报撤销", &v.incident.topic_name, &v.title(50));
    let lead = format!(
        "舆情事件 {}已由 {by} 判定为误报并撤销，原因：{}。其时限已取消，不计入考核；\
         此后同一内容的新信息归入本事件，不再通知。",
        v.named_by_topic(),
        one_line(reason, 200)
    );
    let next = vec![v.show_step()];
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
    let subject = v.subject(what, &v.incident.topic_name, &one_line(&item.title, 50));
    let link = item.link.as_deref().unwrap_or("（无）");
    let lead = match state {
        EvidenceState::Deleted => format!(
            "舆情事件 {}的信息 #{}「{}」{what}：{} 复查时原网页已不存在或显示删除提示（{link}）。\
             {} 保存的原帖（第 {version} 版）已存档，可导出作为证据。",
            v.named_by_topic(),
            item.id,
            one_line(&item.title, 100),
            local(v.now, v.tz),
            local(kept, v.tz),
        ),
        _ => format!(
            "舆情事件 {}的信息 #{}「{}」{what}：{} 复查时原网页（{link}）的正文与此前保存的版本不同，\
             修改后的内容已于 {} 另存为第 {version} 版，此前各版均保留。",
            v.named_by_topic(),
            item.id,
            one_line(&item.title, 100),
            local(v.now, v.tz),
            local(kept, v.tz),
        ),
    };
    let next = vec![
        format!("导出证据：yuqing evidence export {id} --out 事件{id}.warc.gz"),
        v.show_step(),
    ];
    render(kind, v, to, subject, &lead, &next)
}

/// Mail to the people told of an incident's escalation when `what` (发布权威信息 …) was
/// recorded: the matter they were asked to press is handled, and the deadlines say how
/// late.
pub fn handled(v: &IncidentView<'_>, what: &str, by: &str, to: &[Mailbox]) -> Draft {
    let subject = v.subject("已处置", &format!("已{what}"), &v.title(50));
    let lead = format!(
        "此前通报的舆情事件 {}，{by} 已于 {} 记录{what}。各项时限的完成情况见下。",
        v.named(),
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
        v.title(50)
    );
    let lead = format!(
        "舆情事件 #{}「{}」（{}）已由 {by} 并入事件 #{id}「{}」：其信息和处置记录移入 #{id}，#{} 不再单独计时，\
         #{id} 保留自己的标题。#{id} 的计时起点取两者中较早者，时限据此重新计算。",
        merged.id,
        one_line(&merged.title, 100),
        merged.topic_name,
        v.title(100),
        merged.id
    );
    let next = vec![v.show_step()];
    render("merged", v, to, subject, &lead, &next)
}

/// Mail to the duty officer when items were split from `from` into the new incident `v`.
pub fn split(v: &IncidentView<'_>, from: i64, moved: usize, by: &str, to: &[Mailbox]) -> Draft {
    let id = v.incident.id;
    let subject = format!(
        "【舆情·拆分】#{} 拆分出新事件 #{}：{}",
        from,
        id,
        v.title(50)
    );
    let lead = format!(
        "{by} 将 {moved} 条信息从舆情事件 #{from} 拆分为新事件 {}，新事件按这些信息的计时起点单独计算时限。",
        v.named()
    );
    let next = vec![
        format!("确认接报：yuqing incident ack {id}"),
        v.show_step(),
        format!("原事件：yuqing incident show {from}"),
    ];
    render("split", v, to, subject, &lead, &next)
}

/// How much of the statutory clock had gone when yuqing heard of the incident (its clock
/// start, the first report's publication, to its opening), as `2小时13分`; `None` under a
/// minute.
pub fn heard_after(i: &IncidentRow) -> Option<String> {
    let gone = i.opened_at - i.clock_start;
    (gone >= 60).then(|| crate::vocab::span::zh_span(chrono::Duration::seconds(gone)))
}

#[cfg(test)]
mod tests;
