//! The duty officer's lifecycle commands (`incident merge`, `incident split`), the state
//! lines of `incident show`, and what `yuqing check` says about escalation and calendars.

use crate::cli::{open, or_exit, outln, IncidentCommand};
use crate::config::settings::Settings;
use crate::store::{IncidentRow, Store};
use crate::vocab::clock::local;
use crate::vocab::clock::{from_secs, Clock};
use crate::vocab::ids::{IncidentId, ItemId};
use anyhow::Result;
use chrono::{DateTime, Utc};
use std::process::ExitCode;

/// `yuqing incident merge INTO FROM` and `yuqing incident split ID ITEM…`.
pub async fn regroup(cmd: IncidentCommand) -> Result<ExitCode> {
    let now = crate::cli::CommandClock.now();
    let (IncidentCommand::Merge { config, who, .. } | IncidentCommand::Split { config, who, .. }) =
        &cmd
    else {
        unreachable!("only merge and split are regrouping")
    };
    let by = or_exit!(who.name_or_refuse());
    let (config, store) = or_exit!(open(config).await);
    let result = match &cmd {
        IncidentCommand::Merge { into, from, .. } => {
            crate::incident::merge(
                &store,
                &config,
                IncidentId(*into),
                IncidentId(*from),
                &by,
                now,
            )
            .await
        }
        IncidentCommand::Split { id, items, .. } => {
            // The new incident owes its topic's obligation; a broken watchlist or calendar
            // must not stop the duty officer, so it is split without one, and says so.
            let topics = crate::classify::watchlist::load_dir(&config.daemon.watchlists)
                .map(|w| w.topics)
                .unwrap_or_else(|e| {
                    eprintln!("警告：关注清单读取失败（{e}），拆出的事件不加工作日时限");
                    Vec::new()
                });
            let dir = &config.daemon.calendar;
            let calendar = crate::rules::calendar::Calendar::load_dir(dir)
                .unwrap_or_else(|_| crate::rules::calendar::Calendar::empty(dir));
            let obligations = crate::incident::Obligations {
                calendar: &calendar,
                topics: &topics,
            };
            crate::incident::split(
                &store,
                &config,
                obligations,
                IncidentId(*id),
                &items.iter().copied().map(ItemId).collect::<Vec<_>>(),
                &by,
                now,
            )
            .await
            .map(|(_, said)| said)
        }
        _ => unreachable!("only merge and split are regrouping"),
    };
    match result {
        Ok(said) => {
            outln!("{said}");
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => Ok(crate::cli::step_failure(&e)),
    }
}

/// The lifecycle lines of `incident show`: state, monitoring end, merge and split links.
pub fn state_lines(i: &IncidentRow, tz: chrono_tz::Tz) -> Vec<String> {
    let mut out = vec![format!("状态：{}", crate::notify::report::state_zh(i))];
    if let (Some(t), "monitoring") = (i.monitoring_until, i.status.as_str()) {
        out.push(format!(
            "监测期至 {}（届时自动结案）",
            local(from_secs(t), tz)
        ));
    }
    if let Some(t) = i.reopened_at {
        out.push(format!("因回温于 {} 重新打开", local(from_secs(t), tz)));
    }
    if let (Some(t), Some(by)) = (i.closed_at, &i.closed_by) {
        out.push(format!("{by} 于 {} 结案", local(from_secs(t), tz)));
    }
    if let Some(m) = i.merged_into {
        out.push(format!("已并入 #{m}"));
    }
    if let Some(f) = i.split_from {
        out.push(format!("自 #{f} 拆出"));
    }
    out
}

/// What `yuqing check` adds: the escalation policy in force, the scheduled jobs and whom
/// they mail, the calendar years, the
/// warning when this or (from 1 December) next year's calendar is missing, and the
/// working-day deadlines of active incidents counted without calendar data.
pub async fn check_lines(settings: &Settings, now: DateTime<Utc>) {
    let config = &settings.config;
    // What operators read is Chinese; the config's own keys and values stay as written.
    outln!("升级通知（[escalation]）：");
    for line in config.escalation.describe() {
        outln!("  {line}");
    }
    if !config.jobs.0.is_empty() {
        outln!("定时任务（[jobs]）：");
        for job in &config.jobs.0 {
            outln!("  {}", job.describe());
        }
    }
    notifier_lines(settings);
    if !config.searches.is_empty() {
        outln!("关键词搜索（[[search]]）：");
        for s in &config.searches {
            let (least, most) = s.requests_per_hour();
            let cost = match s.auto {
                None => format!("每 {} 一次，共每小时 {least:.0} 次请求", s.every),
                Some(a) => format!(
                    "自动，每 {} 至 {} 一次，共每小时 {least:.0}–{most:.0} 次请求",
                    a.min, a.max
                ),
            };
            outln!("  {}：{} 个词，{cost}；{}", s.id, s.terms.len(), s.template);
        }
    }
    let years: Vec<String> = settings.calendar.years().map(|y| y.to_string()).collect();
    outln!(
        "工作日日历 {}：{}",
        config.daemon.calendar.display(),
        if years.is_empty() {
            "无数据".to_string()
        } else {
            years.join(", ")
        }
    );
    let today = now.with_timezone(&config.daemon.timezone).date_naive();
    if let Some(w) = settings.calendar.next_year_missing_warning(today) {
        outln!("警告：{w}");
    }
    for topic in &settings.watchlists.topics {
        if let Some(o) = topic.obligation {
            let due =
                settings
                    .calendar
                    .add_working_days(now, o.working_days(), config.daemon.timezone);
            if !due.is_certain() {
                outln!(
                    "警告：专题 `{}`（{}:{}）须在 {} 个工作日内完成 {}；从今天算起会跨入 {} 年，\
                     而该年没有工作日日历（暂按周一至周五计算）",
                    topic.id,
                    topic.file.display(),
                    topic.line,
                    o.working_days(),
                    o.as_str(),
                    due.uncertain_years
                        .iter()
                        .map(|y| y.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
        }
    }
    // Topics whose examples match each other: one item would open two incidents.
    if config.grouping.same_item == crate::classify::grouping::SameItem::Link {
        for (file, line, topic, others) in settings
            .classifier
            .overlapping_examples(&settings.watchlists)
        {
            outln!(
                "警告：{}:{line}：专题 `{topic}` 的示例也命中专题 `{}`：这样的一条信息会在每个专题下\
                 各立一案、各自计时。请收窄其中一个专题，或设置 [grouping] same_item = \"merge\"\
                 （只立一案，取较高级别）",
                file.display(),
                others.join("`、`")
            );
        }
    }
    // Deadlines already computed: only when the database exists (check never creates one).
    let db = &config.daemon.database;
    let exists = match db.strip_prefix("sqlite://") {
        Some(path) => std::path::Path::new(path.split('?').next().unwrap_or(path)).exists(),
        None => true,
    };
    if !exists {
        return;
    }
    let Ok(store) = Store::open(db).await else {
        return;
    };
    let rows = store.uncertain_deadlines().await.unwrap_or_default();
    for (id, duty, due, years) in rows {
        outln!(
            "警告：事件 #{id}：{duty} 的截止时间 {} 是在没有 {years} 年工作日日历时算出的（按周一至\
             周五计算）；请补充日历并核对该时间",
            local(from_secs(due), config.daemon.timezone)
        );
    }
    if let Ok(intake) = store
        .intake(now.timestamp() - GROWTH_WINDOW_S, now.timestamp())
        .await
    {
        outln!("{}", growth_line(intake, config.retention.items));
    }
    store.close().await;
}

/// The intake `check` measures its estimate of the store's growth over.
const GROWTH_WINDOW_S: i64 = 7 * 86_400;

/// How big the store grows at the intake of the last week (issue 29 §3): per day and per
/// year, or, with `[retention] items`, where it stops (the items incidents hold, a few,
/// come on top).
fn growth_line(
    intake: Option<crate::store::Intake>,
    keep: Option<crate::vocab::duration::Span>,
) -> String {
    let Some(i) = intake else {
        return "数据库增长：近 7 天没有收录信息，无法估算。".to_string();
    };
    let per_day = i.per_day();
    let size = |items: f64| megabytes(items * i.bytes_per_item);
    let head = format!(
        "数据库增长：按近 {}的收录量估算，每天约 {} 条、每条约 {:.1} KB，每天约 {}",
        if i.seconds >= GROWTH_WINDOW_S {
            "7 天".to_string()
        } else {
            crate::vocab::span::zh_span(chrono::Duration::seconds(i.seconds))
        },
        crate::notify::briefing::thousands(per_day.round() as usize),
        i.bytes_per_item / 1e3,
        size(per_day)
    );
    match keep {
        None => format!(
            "{head}，一年约 {}；未设置 [retention] items，信息永不删除。",
            size(per_day * 365.0)
        ),
        Some(k) => {
            let days = k.0.as_secs() as f64 / 86_400.0;
            format!(
                "{head}；[retention] items = \"{k}\"：保留约 {} 条、约 {} 后不再增长（事件相关的信息另计）。",
                crate::notify::briefing::thousands((per_day * days).round() as usize),
                size(per_day * days)
            )
        }
    }
}

/// `35.2 KB`, `812.4 MB`, `2.1 GB`.
fn megabytes(bytes: f64) -> String {
    if bytes >= 1e9 {
        format!("{:.1} GB", bytes / 1e9)
    } else if bytes >= 1e6 {
        format!("{:.1} MB", bytes / 1e6)
    } else {
        format!("{:.1} KB", bytes / 1e3)
    }
}

/// The `[[notify]]` channels as `check` lists them, each with the roles that name it and
/// what would stop it: a secret that cannot be read here, a DingTalk secret that is not one,
/// links to a console on loopback that nobody's phone can open (issue 28: a misconfigured
/// robot passed `check`).
fn notifier_lines(settings: &Settings) {
    use crate::config::notify::{Kind, Secret};
    let config = &settings.config;
    let notify = &config.notify;
    if notify.list.is_empty() {
        return;
    }
    outln!("即时消息通道（[[notify]]）：");
    let mut warnings = Vec::new();
    for n in &notify.list {
        let roles = config.people.notify.roles_of(&n.id);
        outln!(
            "  {} {} {}{}；{}",
            n.id,
            n.kind.zh(),
            n.url.describe(),
            n.secret
                .as_ref()
                .map(|s| format!("，密钥 {s}"))
                .unwrap_or_default(),
            if roles.is_empty() {
                "未被任何角色引用（[people] 中写 notify:ID）".to_string()
            } else {
                format!("用于 {}", roles.join("、"))
            }
        );
        if let Secret::From(r) = &n.url {
            if let Err(e) = r.read() {
                warnings.push(format!("通道 {} 的地址读不到：{e}", n.id));
            }
        }
        if let Some(secret) = &n.secret {
            match secret.read() {
                Err(e) => warnings.push(format!(
                    "通道 {} 的密钥读不到：{e}；守护进程的环境里也须有它（systemd：Environment= 或 \
                     EnvironmentFile=，或 LoadCredential=）",
                    n.id
                )),
                Ok(v) if n.kind == Kind::Dingtalk && !v.starts_with("SEC") => warnings.push(format!(
                    "通道 {} 的密钥 {secret} 不像钉钉加签密钥（应以 SEC 开头）：钉钉会以 310000 拒收",
                    n.id
                )),
                Ok(v) if v.trim().is_empty() => {
                    warnings.push(format!("通道 {} 的密钥 {secret} 是空的", n.id))
                }
                Ok(_) => {}
            }
        }
    }
    let console = &notify.console;
    let loopback = match console.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d == "localhost",
        None => true,
    };
    if config.web.url.is_none() && loopback {
        warnings.push(format!(
            "[web] url 未设置：即时消息里的链接指向 {console}，只有本机能打开；请写上值班人员能访问的\
             控制台地址，如 url = \"https://yq.example.gov.cn/\""
        ));
    }
    for w in warnings {
        outln!("警告：{w}");
    }
    outln!("  （发一条测试消息：yuqing notify test ID）");
}
