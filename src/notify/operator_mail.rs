//! What the operators read: mail about the sources (failing, a list page gone empty,
//! silent, heard late), a host whose sources cannot keep up, a reload that was rejected,
//! and a missing working-day calendar. Chinese, plain text plus HTML, standing alone, like
//! `mail`; pure, each function turns what happened into a [`Draft`].

use crate::fetch::politeness::HostLoad;
use crate::store::Draft;
use crate::vocab::clock::local;
use crate::vocab::duration::Span;
use crate::vocab::text::one_line;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use lettre::message::Mailbox;

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
        "信息源 {name}（{id}）近7天的 {} 条带发布时间的信息，发现时间比发布时间晚：中位 {}，\
         95% 在 {p95} 以内，超过设定的 max_lag（{}）。重大舆情须在发布后 5 小时内发布权威信息，\
         计时从发布时起算，这段延迟会占用处置时间。\n\n\
         常见原因：抓取间隔（every）过长、所在主机的礼貌限制（host_delay、per_host）使其排不上、\
         转换服务（如 RSSHub）缓存过久。查看各来源的延迟：yuqing sources\n\n\
         延迟回到 max_lag 以内后，如再次超过会再通知。时间均为 {} 时间。\
         此邮件由舆情监测系统 yuqing 自动发送。\n",
        lag.n,
        zh_span(chrono::Duration::seconds(lag.p50_s)),
        max,
        tz.name()
    );
    super::duty_mail::draft("source_lag", to, subject, text)
}

/// An item that matched a topic but whose filing is held back: a stored incident row of
/// the topic cannot be read (`held_filings`).
pub struct HeldView<'a> {
    pub topic_name: &'a str,
    pub severity: crate::vocab::severity::Severity,
    pub title: &'a str,
    pub link: Option<&'a str>,
    pub source_name: &'a str,
    /// When it was published, else when it was found.
    pub at: DateTime<Utc>,
    /// The words that made it match.
    pub words: &'a [String],
    /// Why it cannot be filed (English, for the operators).
    pub error: &'a str,
    pub tz: Tz,
    pub now: DateTime<Utc>,
}

/// Mail to the duty officers and the operators when a topic's first item is held back
/// from filing: until the row is repaired, that topic's items open no incident, start no
/// clock and send no alert of their own, so the duty officer must judge them by hand. Sent
/// once a hold begins for the topic, not for each item held after it.
pub fn filing_held(v: &HeldView<'_>, to: &[Mailbox]) -> Draft {
    let title = one_line(v.title, 80);
    let subject = format!(
        "【舆情·暂未归入事件】{}（{}）：{title}",
        one_line(v.topic_name, 30),
        v.severity.zh()
    );
    let words = if v.words.is_empty() {
        String::new()
    } else {
        format!("命中词：{}\n", v.words.join("、"))
    };
    let text = format!(
        "{now} 有信息命中专题「{topic}」（{severity}），但库中该专题的事件记录无法读取，\
         暂未能归入事件：未开始计时，也未发送事件告警。信息已保存；记录修复后系统自动归入，\
         并按规定告警和计时（从信息发布或发现时起算）。在此之前，该专题的后续信息同样暂缓归入，\
         请值班员人工研判，必要时直接处置。\n\n\
         信息：{at} {title}（{source}） {link}\n{words}\n\
         请运维修复无法读取的记录，修复后无需其他操作。原因（英文，供运维）：\n  {error}\n\n\
         查看暂缓情况：yuqing sources\n\n\
         时间均为 {zone} 时间。此邮件由舆情监测系统 yuqing 自动发送。\n",
        now = local(v.now, v.tz),
        topic = one_line(v.topic_name, 30),
        severity = v.severity.zh(),
        at = local(v.at, v.tz),
        source = one_line(v.source_name, 40),
        link = v.link.unwrap_or(""),
        error = one_line(v.error, 500),
        zone = v.tz.name(),
    );
    super::duty_mail::draft("filing_held", to, subject, text)
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

    /// The lag mail read with runs of nine spaces in mid-sentence and at the start of each
    /// paragraph (a string literal continued without `\`): three paragraphs, no gaps.
    #[test]
    fn the_lag_mail_reads_as_three_paragraphs_without_gaps() {
        let lag = crate::rules::lag::Lag {
            p50_s: 3_600,
            p95_s: 3 * 3_600,
            n: 40,
        };
        let to = [crate::rules::escalation::mailbox("运维 <ops@example.gov.cn>").unwrap()];
        let max = Span::from_secs(7_200);
        let d = source_lagging("某论坛", "forum", &lag, max, chrono_tz::Asia::Shanghai, &to);
        let paragraphs: Vec<&str> = d.text.trim_end().split("\n\n").collect();
        assert_eq!(paragraphs.len(), 3, "{}", d.text);
        for p in &paragraphs {
            assert!(
                !p.starts_with(' ') && !p.contains("  ") && !p.contains('\n'),
                "{p:?}"
            );
        }
        assert!(paragraphs[0].starts_with("信息源 某论坛（forum）近7天的 40 条"));
        assert!(paragraphs[0].ends_with("计时从发布时起算，这段延迟会占用处置时间。"));
        assert!(paragraphs[2].ends_with("此邮件由舆情监测系统 yuqing 自动发送。"));
    }

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
}
