//! The duty officer's lifecycle commands (`incident merge`, `incident split`), the state
//! lines of `incident show`, and what `yuqing check` says about escalation and calendars.

use crate::cli::{open, IncidentCommand};
use crate::config::settings::Settings;
use crate::notify::mail::local;
use crate::store::{IncidentRow, Store};
use crate::vocab::clock::{from_secs, Clock};
use crate::vocab::ids::{IncidentId, ItemId};
use anyhow::Result;
use chrono::{DateTime, Utc};
use std::process::ExitCode;

macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if writeln!(std::io::stdout(), $($arg)*).is_err() {
            std::process::exit(0);
        }
    }};
}

/// `yuqing incident merge INTO FROM` and `yuqing incident split ID ITEM…`.
pub async fn regroup(cmd: IncidentCommand) -> Result<ExitCode> {
    let now = crate::cli::CommandClock.now();
    let result = match &cmd {
        IncidentCommand::Merge {
            into,
            from,
            config,
            who,
        } => {
            let by = match who.name_or_refuse() {
                Ok(by) => by,
                Err(code) => return Ok(code),
            };
            let (config, store) = match open(config).await {
                Ok(v) => v,
                Err(code) => return Ok(code),
            };
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
        IncidentCommand::Split {
            id,
            items,
            config,
            who,
        } => {
            let by = match who.name_or_refuse() {
                Ok(by) => by,
                Err(code) => return Ok(code),
            };
            let (config, store) = match open(config).await {
                Ok(v) => v,
                Err(code) => return Ok(code),
            };
            // The new incident owes its topic's obligation; a broken watchlist or calendar
            // must not stop the duty officer, so it is split without one, and says so.
            let topics = crate::classify::watchlist::load_dir(&config.daemon.watchlists)
                .map(|w| w.topics)
                .unwrap_or_else(|e| {
                    eprintln!(
                        "warning: watchlists not read ({e}); no working-day obligation added"
                    );
                    Vec::new()
                });
            let dir = &config.daemon.calendar;
            let calendar = crate::rules::calendar::Calendar::load_dir(dir)
                .unwrap_or_else(|_| crate::rules::calendar::Calendar::empty(dir));
            let obligation_of = |topic: &str| {
                topics
                    .iter()
                    .find(|t| t.id == topic)
                    .and_then(|t| t.obligation)
            };
            crate::incident::split(
                &store,
                &config,
                &calendar,
                &obligation_of,
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
    outln!("escalation policy:");
    for line in config.escalation.describe() {
        outln!("  {line}");
    }
    if !config.jobs.0.is_empty() {
        outln!("scheduled jobs:");
        for job in &config.jobs.0 {
            outln!("  {}", job.describe());
        }
    }
    let years: Vec<String> = settings.calendar.years().map(|y| y.to_string()).collect();
    outln!(
        "working-day calendar {}: {}",
        config.daemon.calendar.display(),
        if years.is_empty() {
            "no data".to_string()
        } else {
            years.join(", ")
        }
    );
    let today = now.with_timezone(&config.daemon.timezone).date_naive();
    if let Some(w) = settings.calendar.next_year_missing_warning(today) {
        outln!("warning: {w}");
    }
    for topic in &settings.watchlists.topics {
        if let Some(o) = topic.obligation {
            let due =
                settings
                    .calendar
                    .add_working_days(now, o.working_days(), config.daemon.timezone);
            if !due.is_certain() {
                outln!(
                    "warning: topic `{}` ({}:{}) owes {} within {} working days; counted from \
                     today that reaches {} without calendar data (Monday–Friday assumed)",
                    topic.id,
                    topic.file.display(),
                    topic.line,
                    o.as_str(),
                    o.working_days(),
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
                "warning: {}:{line}: an example of topic `{topic}` also matches `{}`: such an \
                 item opens an incident under each, with a statutory clock each; narrow one \
                 topic, or set [grouping] same_item = \"merge\" for one incident at the higher \
                 severity",
                file.display(),
                others.join("`, `")
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
            "warning: incident #{id}: {duty} due {} was counted without calendar data for {years} \
             (Monday–Friday assumed); add the calendar and check the date",
            local(from_secs(due), config.daemon.timezone)
        );
    }
    store.close().await;
}
