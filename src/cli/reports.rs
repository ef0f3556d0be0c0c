//! `yuqing obligations`, `report incidents` and `briefing`: the duties' states and the
//! periodic texts.

use super::*;

/// `yuqing obligations`: the state of every publication duty, now or at `--at`.
pub async fn obligations(c: &ConfigArg, at: Option<&str>, json_out: bool) -> Result<ExitCode> {
    let (config, store) = or_exit!(open(c).await);
    let tz = config.daemon.timezone;
    let at = match at {
        None => CommandClock.now(),
        Some(s) => match parse_typed(s, tz) {
            Some(t) => t.at,
            None => {
                eprintln!("error: --at `{s}`: write an RFC 3339 time or `YYYY-MM-DD HH:MM` ({tz})");
                return Ok(ExitCode::from(2));
            }
        },
    };
    let calendar = if crate::obligations::needs_calendar(&config) {
        match crate::rules::calendar::Calendar::load_dir(&config.daemon.calendar) {
            Ok(cal) => Some(cal),
            Err(e) => {
                eprintln!("warning: working-day duties are unknown: {e}");
                None
            }
        }
    } else {
        None
    };
    let duties = crate::obligations::evaluate(&store, &config, calendar.as_ref(), at).await?;
    if json_out {
        jsonln!(
            "{}",
            serde_json::to_string_pretty(&crate::obligations::to_json(&duties, at, tz))?
        );
    } else if duties.is_empty() {
        outln!("未配置本单位渠道（[[channel]]）");
    } else {
        for line in crate::obligations::to_lines(&duties, tz) {
            outln!("{line}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The period of `--from DATE [--to DATE]`: from the local midnight of `from` up to the
/// end of `to`, or up to `now` without it. `None` after saying what is wrong (exit 2).
fn period(
    what: &str,
    from: &str,
    to: Option<&str>,
    now: DateTime<Utc>,
    tz: chrono_tz::Tz,
) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let dates = format!(
        "--from and --to are dates like 2026-11-01 (the {what} covers --from up to the end \
         of --to, or up to now without --to)"
    );
    let Some(start) = parse_day(from, tz) else {
        eprintln!("error: {dates}");
        return None;
    };
    let end = match to.map(|to| parse_day(to, tz)) {
        None => now,
        Some(None) => {
            eprintln!("error: {dates}");
            return None;
        }
        Some(Some(end)) if end < start => {
            eprintln!(
                "error: --from {from} is after --to {}; the {what} covers --from up to the end of --to",
                to.unwrap_or_default()
            );
            return None;
        }
        Some(Some(end)) => end + chrono::Duration::days(1),
    };
    Some((start, end))
}

/// `yuqing report incidents`: every incident opened in [from, to), each deadline's outcome.
pub async fn report_incidents(
    c: &ConfigArg,
    from: &str,
    to: Option<&str>,
    csv_out: bool,
) -> Result<ExitCode> {
    let (config, store) = or_exit!(open(c).await);
    let tz = config.daemon.timezone;
    let now = CommandClock.now();
    let Some((start, end)) = period("report", from, to, now, tz) else {
        return Ok(ExitCode::from(2));
    };
    let to = to.map_or_else(|| "今".to_string(), str::to_string);
    let mut rows = Vec::new();
    let (readable, unreadable) = store
        .incidents_opened_between(secs(start), secs(end))
        .await?;
    // One row this version cannot read fails no report: it is named on stderr and in the
    // report itself, and not counted.
    for (id, why) in &unreadable {
        eprintln!(
            "warning: 事件 #{} 的记录无法读取（可能由较新版本写入）：{why}；\
             它未计入此报表，请联系运维",
            id.0
        );
    }
    for i in readable {
        let deadlines = store.deadlines_of(store.pool(), i.id).await?;
        rows.push((i, deadlines));
    }
    let lines = crate::notify::report::lines(&rows, now, tz);
    if csv_out {
        // A UTF-8 byte order mark first, as the ledger CSV has: without it Excel reads the
        // file as the local code page and garbles the Chinese.
        out!("\u{feff}");
        let mut w = csv::Writer::from_writer(std::io::stdout());
        w.write_record(crate::notify::report::HEADER)?;
        for l in &lines {
            w.write_record(l.csv_record())?;
        }
        for (id, why) in &unreadable {
            w.write_record(crate::notify::report::unreadable_record(*id, why))?;
        }
        if w.flush().is_err() {
            return Ok(ExitCode::SUCCESS);
        }
    } else {
        outln!("{}", crate::notify::report::HEADER.join("\t"));
        let mut group = (false, false);
        for l in &lines {
            if (l.dismissed, l.dismissed_late) != group && l.dismissed {
                if l.dismissed_late {
                    outln!("超时后认定误报（时限到期未完成，其后判定为误报；单列备查）：");
                } else {
                    outln!("误报（已撤销，不计入考核）：");
                }
                group = (l.dismissed, l.dismissed_late);
            }
            outln!("{}", l.record().join("\t"));
        }
        if !unreadable.is_empty() {
            outln!("{}", crate::notify::report::UNREADABLE);
            for (id, why) in &unreadable {
                let r = crate::notify::report::unreadable_record(*id, why);
                outln!("{}", r.join("\t"));
            }
        }
        outln!("{}", crate::notify::report::on_time_summary(&rows, now));
        let also = if unreadable.is_empty() {
            String::new()
        } else {
            format!("，另 {} 起无法读取、未计入", unreadable.len())
        };
        outln!(
            "（共 {} 起事件、{} 项时限{also}，{} 至 {}）",
            rows.len(),
            lines.len(),
            from,
            to
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `yuqing briefing`: the leaders' briefing of --from up to the end of --to (or of --from).
pub async fn briefing(c: &ConfigArg, from: &str, to: Option<&str>, html: bool) -> Result<ExitCode> {
    let settings = or_exit!(load_settings(c));
    let tz = settings.config.daemon.timezone;
    let now = CommandClock.now();
    // Without --to, the one day of --from (a 日报), as the console's /briefing shows it.
    let to = to.or(Some(from));
    let Some((start, end)) = period("briefing", from, to, now, tz) else {
        return Ok(ExitCode::from(2));
    };
    if end <= start || start > now {
        eprintln!("error: --from {from} is in the future; a briefing covers days up to today");
        return Ok(ExitCode::from(2));
    }
    let store = match Store::open(&settings.config.daemon.database).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e:#}");
            return Ok(ExitCode::from(1));
        }
    };
    let calendar =
        crate::obligations::needs_calendar(&settings.config).then_some(&settings.calendar);
    let numbers =
        crate::obligations::briefing::gather(&store, &settings, calendar, start, end, now).await?;
    if html {
        outln!("{}", crate::notify::briefing::standalone_html(&numbers));
    } else {
        outln!("{}", crate::notify::briefing::subject(&numbers));
        outln!("");
        out!("{}", crate::notify::briefing::text(&numbers));
    }
    Ok(ExitCode::SUCCESS)
}

/// A date for `--from` / `--to` (`2026-11-01`): its local midnight.
fn parse_day(text: &str, tz: chrono_tz::Tz) -> Option<DateTime<Utc>> {
    parse_typed(text, tz).filter(|t| t.whole_day).map(|t| t.at)
}
