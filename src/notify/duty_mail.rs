//! Mail about the agency's own publication duties: the owner is told when a channel is at
//! risk, the owner and leaders when a period was missed, the owner when it is back in
//! compliance; and the scheduled reports (weekly compliance report, monthly ledger, monthly
//! work-report reminder, daily digest). Chinese, plain text plus HTML, standing alone, like
//! `mail`. Pure: each function turns a snapshot into a [`Draft`].

use crate::config::Channel;
use crate::rules::duty::{State, Status};
use crate::store::{Draft, IncidentRow, ItemRow, PostRow};
use crate::vocab::clock::local;
use crate::vocab::ids::IncidentId;
use crate::vocab::span::zh_left;
use crate::vocab::text::one_line;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use lettre::message::Mailbox;
use std::fmt::Write;

/// One channel's duty at one time.
pub struct ChannelView<'a> {
    pub channel: &'a Channel,
    pub status: &'a Status,
    pub tz: Tz,
    pub now: DateTime<Utc>,
}

fn kind_zh(kind: &str) -> &'static str {
    match kind {
        "website" => "政府网站",
        "column" => "网站专题栏目",
        "wechat" => "微信公众号",
        "weibo" => "政务微博",
        "app" => "政务客户端",
        _ => "渠道",
    }
}

fn channel_label(c: &Channel) -> String {
    format!(
        "{}「{}」（{}）",
        kind_zh(&c.kind),
        one_line(&c.name, 40),
        c.id
    )
}

fn facts(v: &ChannelView<'_>) -> String {
    let mut t = String::new();
    let c = v.channel;
    let _ = writeln!(t, "渠道：{}", channel_label(c));
    let _ = writeln!(t, "地址：{}", c.url);
    if let Some(d) = &c.duty {
        let _ = writeln!(t, "发布要求：{}", d.zh());
    }
    let _ = writeln!(t, "当前状态：{}", v.status.state.zh());
    let _ = writeln!(
        t,
        "最近一次发布：{}",
        v.status
            .last_post
            .map(|p| local(p, v.tz))
            .unwrap_or_else(|| "未发现".into())
    );
    let _ = writeln!(t, "本周期已发布：{} 条", v.status.posts_this_period);
    if let Some(due) = v.status.due {
        let _ = writeln!(
            t,
            "本周期截止：{}（{}）",
            local(due, v.tz),
            zh_left(due, v.now)
        );
    }
    if !v.status.uncertain_years.is_empty() {
        let years: Vec<String> = v
            .status
            .uncertain_years
            .iter()
            .map(|y| y.to_string())
            .collect();
        let _ = writeln!(
            t,
            "注意：{} 年的工作日安排尚未导入，按周一至周五计算，截止时间可能有误。",
            years.join("、")
        );
    }
    t
}

fn footer(tz: Tz) -> String {
    format!(
        "\n查看全部渠道发布情况：yuqing obligations\n\n时间均为 {} 时间。此邮件由舆情监测系统 yuqing 自动发送。\n",
        tz.name()
    )
}

/// The text as HTML: escaped, line breaks kept.
pub(crate) fn html_of(text: &str) -> String {
    format!(
        "<!DOCTYPE html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"></head><body><pre style=\"font-family:sans-serif;white-space:pre-wrap\">{}</pre></body></html>",
        html_escape::encode_text(text)
    )
}

/// A plain mail to people (not about one incident): the text, and the same text as HTML.
pub(crate) fn draft(kind: &str, to: &[Mailbox], subject: String, text: String) -> Draft {
    Draft {
        kind: kind.to_string(),
        incident_id: None,
        recipients: to.iter().map(|m| m.to_string()).collect(),
        subject,
        html: html_of(&text),
        text,
        notify: Vec::new(),
    }
}

/// The operators' mail about a failing source, worded for one of the agency's own
/// channels: while it cannot be read, nobody can tell whether it posts as it must.
pub fn as_channel_health(mut d: Draft) -> Draft {
    d.subject = d.subject.replacen("信息源", "本单位发布渠道", 1);
    d.text = d
        .text
        .replacen("信息源", "本单位发布渠道", 1)
        .replace(
            "期间该来源的舆情无法被发现",
            "期间无法判断该渠道是否按要求发布（发布义务状态显示为“无法判断”）",
        )
        .replace("该来源的舆情无法被发现", "无法判断该渠道是否按要求发布");
    d.html = html_of(&d.text);
    d.kind = format!("channel_{}", d.kind.trim_start_matches("source_"));
    d
}

/// To the owner: the period is not yet met and its end is near.
pub fn at_risk(v: &ChannelView<'_>, to: &[Mailbox]) -> Draft {
    let subject = format!(
        "【发布提醒】{} 本周期尚未达到发布要求",
        channel_label(v.channel)
    );
    let lead = match &v.channel.duty {
        Some(crate::rules::duty::Duty::Weekly { .. }) => format!(
            "{} 本周期已发布 {} 条，尚未达到发布要求，请在截止前更新。",
            channel_label(v.channel),
            v.status.posts_this_period
        ),
        _ => format!(
            "{} 距上次更新已接近规定期限，请在截止前更新。",
            channel_label(v.channel)
        ),
    };
    let text = format!("{lead}\n\n{}{}", facts(v), footer(v.tz));
    draft("duty_at_risk", to, subject, text)
}

/// To the owner and the leaders: a period passed without the posts it needed.
pub fn missed(v: &ChannelView<'_>, to: &[Mailbox]) -> Draft {
    let day = |t: DateTime<Utc>| t.with_timezone(&v.tz).format("%Y-%m-%d").to_string();
    let what = match (&v.channel.duty, v.status.missed.as_ref()) {
        (Some(crate::rules::duty::Duty::Weekly { posts, .. }), Some(m)) => format!(
            "在 {}（周一）至 {}（周日）这一周发布不足 {posts} 条",
            day(m.from),
            day(m.due - chrono::Duration::seconds(1))
        ),
        (Some(crate::rules::duty::Duty::Every { every, .. }), Some(m)) => format!(
            "自上次发布（{}）起已超过 {} 未更新",
            local(m.from, v.tz),
            crate::vocab::span::zh_span(every.chrono())
        ),
        (Some(crate::rules::duty::Duty::WorkingDays { days, .. }), Some(m)) => format!(
            "自上次发布（{}）起已超过 {days} 个工作日未更新",
            local(m.from, v.tz)
        ),
        _ => "未达到发布要求".to_string(),
    };
    let subject = format!("【发布违规】{} 未按要求更新", channel_label(v.channel));
    let lead = format!(
        "{} {what}，已构成违规（政务新媒体检查中可能被判定为不合格），请立即更新并说明情况。",
        channel_label(v.channel),
    );
    let text = format!("{lead}\n\n{}{}", facts(v), footer(v.tz));
    draft("duty_missed", to, subject, text)
}

/// To the owner: posts are back to what the duty asks.
pub fn recovered(v: &ChannelView<'_>, to: &[Mailbox]) -> Draft {
    let subject = format!("【发布恢复】{} 已恢复正常更新", channel_label(v.channel));
    let lead = format!(
        "{} 已有新的发布，本周期已达到发布要求。",
        channel_label(v.channel)
    );
    let text = format!("{lead}\n\n{}{}", facts(v), footer(v.tz));
    draft("duty_recovered", to, subject, text)
}

/// One channel's line in the weekly report.
pub struct WeekOfChannel<'a> {
    pub channel: &'a Channel,
    pub posts: Vec<&'a PostRow>,
    /// `None` when the channel has no duty.
    pub status: Option<&'a Status>,
}

/// To the office, weekly: each channel's posts of the past week and its state.
pub fn weekly_report(
    from: DateTime<Utc>,
    to_time: DateTime<Utc>,
    rows: &[WeekOfChannel<'_>],
    tz: Tz,
    to: &[Mailbox],
) -> Draft {
    let day = |t: DateTime<Utc>| t.with_timezone(&tz).format("%Y-%m-%d").to_string();
    let last_day = day(to_time - chrono::Duration::seconds(1));
    let bad = rows
        .iter()
        .filter(|r| r.status.is_some_and(|s| s.state != State::Ok))
        .count();
    let subject = format!(
        "【政务新媒体周报】{} 至 {}：{} 个渠道，{} 个需关注",
        day(from),
        last_day,
        rows.len(),
        bad
    );
    let mut t = format!(
        "本单位各渠道 {} 至 {} 的发布情况如下（每周一至周日为一个检查周期）。\n",
        day(from),
        last_day
    );
    for r in rows {
        let state = r
            .status
            .map(|s| s.state.zh().to_string())
            .unwrap_or_else(|| "无发布要求".into());
        let _ = writeln!(
            t,
            "\n{}：上周发布 {} 条；当前状态：{}",
            channel_label(r.channel),
            r.posts.len(),
            state
        );
        if let Some(d) = &r.channel.duty {
            let _ = writeln!(t, "  发布要求：{}", d.zh());
        }
        for p in &r.posts {
            let _ = writeln!(
                t,
                "  - {} {} {}",
                local(crate::vocab::clock::from_secs(p.at()), tz),
                one_line(&p.title, 80),
                p.link.as_deref().unwrap_or("")
            );
        }
    }
    t.push_str(&footer(tz));
    draft("weekly_report", to, subject, t)
}

/// The ledger CSV (UTF-8 with a byte-order mark, so that spreadsheet programs read the
/// Chinese): one row per post, by channel then time.
pub fn ledger_csv(channels: &[Channel], posts: &[PostRow], tz: Tz) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record([
        "渠道编号",
        "渠道名称",
        "渠道类型",
        "标题",
        "链接",
        "发布时间",
    ]);
    for c in channels {
        for p in posts.iter().filter(|p| p.channel_id == c.id) {
            let _ = w.write_record([
                c.id.as_str(),
                c.name.as_str(),
                kind_zh(&c.kind),
                spreadsheet_safe(&one_line(&p.title, 500)).as_str(),
                spreadsheet_safe(p.link.as_deref().unwrap_or("")).as_str(),
                local(crate::vocab::clock::from_secs(p.at()), tz).as_str(),
            ]);
        }
    }
    let bytes = w.into_inner().unwrap_or_default();
    format!("\u{feff}{}", String::from_utf8_lossy(&bytes))
}

/// Text from the web that a spreadsheet would run as a formula (`=`, `+`, `-`, `@` first)
/// is prefixed with an apostrophe, which spreadsheets show as text.
pub(crate) fn spreadsheet_safe(cell: &str) -> String {
    if cell.starts_with(['=', '+', '-', '@']) {
        format!("'{cell}")
    } else {
        cell.to_string()
    }
}

/// To the office, monthly: the publication ledger (发布信息台账) of `month` (e.g. `2026-10`),
/// due before the 25th (seed 004 三(一)); the CSV goes as an attachment.
pub fn ledger(
    month: &str,
    channels: &[Channel],
    posts: &[PostRow],
    tz: Tz,
    to: &[Mailbox],
) -> Draft {
    let subject = format!("【发布信息台账】{month}：共 {} 条", posts.len());
    let mut t = format!(
        "附件为 {month} 本单位政府网站及政务新媒体发布信息台账（标题、链接、发布时间），共 {} 条。\n按要求，台账需经撰稿人、分管领导、单位主要领导签字并加盖公章，于每月 25 日前报送存档，同时自留一份。\n\n各渠道发布条数：\n",
        posts.len()
    );
    for c in channels {
        let n = posts.iter().filter(|p| p.channel_id == c.id).count();
        let _ = writeln!(t, "  - {}：{} 条", channel_label(c), n);
    }
    t.push_str(&footer(tz));
    draft("ledger", to, subject, t)
}

/// To the office, monthly: the report of important work and next month's plan is due
/// before the 20th (seed 000 四(二)).
pub fn work_report_reminder(due_day: &str, tz: Tz, to: &[Mailbox]) -> Draft {
    let subject = format!("【报送提醒】本月重要工作情况及下月工作计划请于 {due_day} 前报送");
    let text = format!(
        "请于 {due_day} 前报送本月重要工作情况及下月工作计划（每月 20 日前报送）。\n\n时间均为 {} 时间。此邮件由舆情监测系统 yuqing 自动发送。\n",
        tz.name()
    );
    draft("work_report_reminder", to, subject, text)
}

/// To the duty officer, daily: new items of the past day and the open incidents. An
/// incident this version cannot read (`unreadable`: its id and why) is named, not left out
/// in silence: the count of open incidents would otherwise look complete.
pub fn daily_digest(
    from: DateTime<Utc>,
    items: &[ItemRow],
    open: &[IncidentRow],
    unreadable: &[(IncidentId, String)],
    tz: Tz,
    now: DateTime<Utc>,
    to: &[Mailbox],
) -> Draft {
    let matched: Vec<&ItemRow> = items.iter().filter(|i| !i.topics.is_empty()).collect();
    let mut subject = format!(
        "【舆情日报】{}：新增 {} 条（命中 {} 条），未结事件 {} 起",
        now.with_timezone(&tz).format("%Y-%m-%d"),
        items.len(),
        matched.len(),
        open.len()
    );
    if !unreadable.is_empty() {
        let _ = write!(subject, "，另 {} 起无法读取", unreadable.len());
    }
    let also = if unreadable.is_empty() {
        String::new()
    } else {
        format!("（另有 {} 起无法读取，见下）", unreadable.len())
    };
    let mut t = format!(
        "自 {} 起新增信息 {} 条，其中命中关注主题 {} 条；未结舆情事件 {} 起{also}。\n",
        local(from, tz),
        items.len(),
        matched.len(),
        open.len()
    );
    if !open.is_empty() {
        t.push_str("\n未结事件：\n");
        for i in open {
            let sev = i.severity.zh();
            let _ = writeln!(
                t,
                "  - #{} {}（{}，{}，{}）立案于 {}；查看：yuqing incident show {}",
                i.id,
                one_line(&i.title, 80),
                i.topic_name,
                sev,
                if i.status == crate::vocab::state::IncidentStatus::Acknowledged {
                    "已确认"
                } else {
                    "未确认"
                },
                local(crate::vocab::clock::from_secs(i.opened_at), tz),
                i.id
            );
        }
    }
    if !unreadable.is_empty() {
        t.push_str("\n无法读取的事件（可能由较新版本写入，未列入上面的统计；请联系运维修复）：\n");
        for (id, why) in unreadable {
            let _ = writeln!(t, "  - 事件 #{id}：{}", one_line(why, 200));
        }
    }
    if !matched.is_empty() {
        t.push_str("\n命中主题的新增信息：\n");
        for i in matched.iter().take(100) {
            let _ = writeln!(
                t,
                "  - [{}] {} {}",
                i.source_id,
                one_line(&i.title, 80),
                i.link.as_deref().unwrap_or("")
            );
        }
    }
    let _ = write!(
        t,
        "\n查看全部新增信息：yuqing items --since 24h\n\n时间均为 {} 时间。此邮件由舆情监测系统 yuqing 自动发送。\n",
        tz.name()
    );
    draft("daily_digest", to, subject, t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::duty::{Duty, State};
    use chrono::TimeZone;
    use chrono_tz::Asia::Shanghai;

    fn channel() -> Channel {
        crate::config::parse(
            std::path::Path::new("y.toml"),
            "[[channel]]\nid = \"wx\"\nname = \"示例<文旅>\"\nkind = \"wechat\"\nfeed = \"https://x.cn/f\"\nduty = \"weekly\"\n",
        )
        .unwrap()
        .channels
        .remove(0)
    }

    fn post(title: &str, at: i64) -> PostRow {
        PostRow {
            id: 1,
            channel_id: "wx".into(),
            guid: "g".into(),
            title: title.into(),
            summary: String::new(),
            link: Some("https://x.cn/1?a=1&b=2".into()),
            published_at: Some(at),
            first_seen: at,
        }
    }

    #[test]
    fn web_text_is_escaped_in_html_and_kept_flat_in_text() {
        let c = channel();
        assert_eq!(
            c.duty,
            Some(Duty::Weekly {
                posts: 1,
                at_risk: chrono::Weekday::Thu
            })
        );
        let t = Shanghai
            .with_ymd_and_hms(2026, 11, 18, 9, 0, 0)
            .unwrap()
            .with_timezone(&Utc);
        let p = post("标题<script>alert(1)</script>\r\n换行", t.timestamp());
        let rows = [WeekOfChannel {
            channel: &c,
            posts: vec![&p],
            status: None,
        }];
        let to: Vec<Mailbox> = vec!["office@example.gov.cn".parse().unwrap()];
        let d = weekly_report(t - chrono::Duration::days(2), t, &rows, Shanghai, &to);
        assert!(!d.html.contains("<script>"), "{}", d.html);
        assert!(d.html.contains("&lt;script&gt;"));
        assert!(
            d.text.contains(
                "2026-11-18 09:00 标题<script>alert(1)</script> 换行 https://x.cn/1?a=1&b=2"
            ),
            "{}",
            d.text
        );
        assert!(!d.subject.contains('\n'));
        assert_eq!(d.recipients, ["office@example.gov.cn"]);
        assert_eq!(State::Ok.zh(), "正常");
    }

    #[test]
    fn ledger_cells_are_never_spreadsheet_formulas() {
        let c = channel();
        let csv = ledger_csv(
            std::slice::from_ref(&c),
            &[post("=HYPERLINK(\"http://evil\")", 0)],
            Shanghai,
        );
        assert!(csv.starts_with('\u{feff}'));
        assert!(
            csv.contains("\"'=HYPERLINK(\"\"http://evil\"\")\""),
            "{csv}"
        );
    }
}
