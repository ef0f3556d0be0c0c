//! `yuqing check`, `sources`, `calendar update` and `prune`: the operator's commands.

use super::*;

pub async fn check(c: &ConfigArg) -> Result<ExitCode> {
    let settings = or_exit!(load_settings(c));
    let failures = settings.classifier.run_examples(&settings.watchlists);
    if !failures.is_empty() {
        return Ok(invalid(&failures));
    }
    // The working-day calendar was read (and a missing or broken one reported where it is
    // needed) by `Settings::load`.
    crate::cli::lifecycle::check_lines(&settings, CommandClock.now()).await;
    overloaded_hosts(
        &crate::fetch::politeness::host_loads(&settings.config),
        "警告：",
    );
    let examples: usize = settings
        .watchlists
        .topics
        .iter()
        .map(|t| t.examples.len())
        .sum();
    outln!(
        "{}：检查通过（信息源 {} 个，本单位渠道 {} 个，定时任务 {} 个，专题 {} 个（关注清单文件 {} 个），示例 {} 条全部通过）",
        c.config.display(),
        settings.config.sources.len(),
        settings.config.channels.len(),
        settings.config.jobs.0.len(),
        settings.watchlists.topics.len(),
        settings.watchlists.files.len(),
        examples
    );
    Ok(ExitCode::SUCCESS)
}

/// `yuqing prune [--dry-run]`: retention now (see `store::retention`).
pub async fn prune(c: &ConfigArg, dry_run: bool) -> Result<ExitCode> {
    let (config, store) = or_exit!(open(c).await);
    let Some(keep) = config.retention.items else {
        eprintln!(
            "error: {}: no [retention] items: nothing is ever deleted. Add e.g.\n\n[retention]\nitems = \"90d\"",
            c.config.display()
        );
        return Ok(ExitCode::from(2));
    };
    let tz = config.daemon.timezone;
    let before = secs(CommandClock.now()) - keep.as_secs() as i64;
    let cutoff = local(from_secs(before), tz);
    let (unheld, held) = store.prunable_items(before).await?;
    if dry_run {
        outln!("将删除 {unheld} 条抓取早于 {cutoff} 且不属于任何事件的信息（按小时、来源、专题、语气留存计数）；事件相关的 {held} 条保留。未删除任何内容（--dry-run）。");
        return Ok(ExitCode::SUCCESS);
    }
    let size_before = store.file_size().await?;
    let mut deleted = 0;
    let mut batch = crate::store::PruneBatch::default();
    loop {
        let b = store.prune_items(before, batch.size()).await?;
        deleted += b.deleted;
        batch.after(b.deleted, b.held);
        if !b.more {
            break;
        }
        // The lock free as long as the batch held it: the daemon's polls get in.
        tokio::time::sleep(b.held.max(crate::store::PRUNE_PAUSE)).await;
    }
    store.compact().await?;
    let size_after = store.file_size().await?;
    outln!("已删除 {deleted} 条抓取早于 {cutoff} 且不属于任何事件的信息（按小时、来源、专题、语气留存计数）；事件相关的 {held} 条保留。");
    if let (Some(b), Some(a)) = (size_before, size_after) {
        outln!(
            "数据库文件：{:.1} MB → {:.1} MB。",
            b as f64 / 1e6,
            a as f64 / 1e6
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn sources(c: &ConfigArg, json_out: bool) -> Result<ExitCode> {
    let (config, store) = or_exit!(open(c).await);
    let tz = config.daemon.timezone;
    let mut rows = Vec::new();
    for s in &config.sources {
        rows.push((s, store.source_state(&s.id).await?));
    }
    // The own channels are read like sources; their health is listed after them.
    let mut channels = Vec::new();
    for c in &config.channels {
        channels.push((c, store.source_state(&c.id).await?));
    }
    // Whether each host's sources can all be polled within their intervals.
    let hosts = crate::fetch::politeness::host_loads(&config);
    // How late each source is heard, over the last 7 days.
    let lags = store
        .source_lags(secs(CommandClock.now()) - crate::rules::lag::WINDOW_S)
        .await?;
    if json_out {
        let list: Vec<_> = rows
            .iter()
            .map(|(s, st)| {
                json!({
                    "id": s.id,
                    "name": s.name,
                    "url": s.url.as_str(),
                    "last_success": st.last_success.map(|t| rfc3339(t, tz)),
                    "last_error": st.last_error,
                    "last_error_at": st.last_error_at.map(|t| rfc3339(t, tz)),
                    "failures": st.failures,
                    "next_poll": if st.next_poll > 0 { Some(rfc3339(st.next_poll, tz)) } else { None },
                    "items_last_poll": st.last_count,
                    "state": st.health(),
                    "stale_after": s.stale_after.map(|d| d.to_string()),
                    "last_new_item": st.last_new_at.map(|t| rfc3339(t, tz)),
                    "silent_since": st.silent_since.map(|t| rfc3339(t, tz)),
                    "last_warning": st.last_warning,
                    "held_since": st.held_since.map(|t| rfc3339(t, tz)),
                    "held_error": st.held_error,
                    "lag": lags.get(&s.id),
                })
            })
            .collect();
        jsonln!(
            "{}",
            serde_json::to_string_pretty(&json!({
                "sources": list,
                "channels": channels.iter().map(|(c, st)| json!({
                    "id": c.id,
                    "name": c.name,
                    "kind": c.kind,
                    "url": c.url.as_str(),
                    "last_success": st.last_success.map(|t| rfc3339(t, tz)),
                    "last_error": st.last_error,
                    "failures": st.failures,
                    "next_poll": if st.next_poll > 0 { Some(rfc3339(st.next_poll, tz)) } else { None },
                })).collect::<Vec<_>>(),
                "hosts": hosts.iter().map(|h| json!({
                    "host": h.host,
                    "sources": h.sources,
                    "per_host": h.per_host,
                    "host_delay_ms": h.delay.as_millis() as u64,
                    "pass_s": h.pass.as_secs_f64(),
                    "shortest_every_s": h.shortest.as_secs_f64(),
                    "load": h.load,
                    "overloaded": h.overloaded(),
                    "host_delay_to_fit_ms": h.overloaded().then(|| h.delay_to_fit().as_millis() as u64),
                    "every_to_fit_s": h.overloaded().then(|| h.every_to_fit().as_secs()),
                })).collect::<Vec<_>>(),
            }))?
        );
    } else {
        let channel_rows = channels
            .iter()
            .map(|(c, st)| (format!("{}（本单位渠道）", c.id), st));
        let rows = rows
            .iter()
            .map(|(s, st)| (s.id.clone(), st))
            .chain(channel_rows);
        outln!(
            "来源\t状态\t上次成功（{}）\t连续失败\t下次抓取\t发现延迟（近7天 中位/95%，条数）\t错误",
            zone(tz)
        );
        for (id, st) in rows {
            let lag = crate::notify::operator_mail::lag_zh(lags.get(&st.source_id));
            let when = |t: Option<i64>| {
                t.map(|t| local(from_secs(t), tz))
                    .unwrap_or_else(|| "从未".into())
            };
            // The last error only while failing, and no empty column after the rest.
            let error = st
                .last_error
                .as_deref()
                .filter(|_| st.failures > 0)
                .map(str::to_string)
                // While it reads, what had to be repaired to read its last document.
                .or_else(|| {
                    st.last_warning
                        .as_ref()
                        .map(|w| format!("已修复后读取：{w}"))
                })
                .unwrap_or_else(|| "-".into());
            // Items held back by a row that cannot be read come first: they are news
            // waiting.
            let error = match st.held_since {
                Some(t) => {
                    let held = format!(
                        "{}（{}）",
                        crate::vocab::words::held_back_zh(&when(Some(t))),
                        st.held_error.as_deref().unwrap_or_default(),
                    );
                    if error == "-" {
                        held
                    } else {
                        format!("{held}；{error}")
                    }
                }
                None => error,
            };
            outln!(
                "{}\t{}\t{}\t{} 次\t{}\t{lag}\t{error}",
                id,
                crate::vocab::words::source_health_zh(st.health()),
                when(st.last_success),
                st.failures,
                if st.next_poll > 0 {
                    when(Some(st.next_poll))
                } else {
                    "立即".into()
                },
            );
        }
        overloaded_hosts(&hosts, "");
    }
    Ok(ExitCode::SUCCESS)
}

/// A line per host whose sources cannot all be polled within their intervals, with the
/// settings that would fix it (`yuqing sources`, `yuqing check`).
fn overloaded_hosts(hosts: &[crate::fetch::politeness::HostLoad], prefix: &str) {
    use crate::notify::operator_mail::{host_overload_fix, host_overload_line};
    let over: Vec<_> = hosts.iter().filter(|h| h.overloaded()).collect();
    if over.is_empty() {
        return;
    }
    outln!("{prefix}以下主机的信息源无法在设定的间隔内抓完一轮：");
    for h in over {
        outln!("  {}。{}。", host_overload_line(h), host_overload_fix(h));
    }
}

/// `yuqing calendar update`: this year's and next year's holiday-cn files from
/// `[daemon] calendar_url`, each line saying what changed. Exit 1 when a year could not be
/// fetched or checked (the copy on disk is kept), 2 without `calendar_url`.
pub async fn calendar_update(c: &ConfigArg) -> Result<ExitCode> {
    use crate::polling::calendar::YearUpdate;
    use chrono::Datelike;
    let config = or_exit!(load_config(c));
    let Some(base) = &config.daemon.calendar_url else {
        eprintln!(
            "error: 未设置 [daemon] calendar_url（holiday-cn 文件所在的网址，如镜像的 \".../holiday-cn/\"）"
        );
        return Ok(ExitCode::from(2));
    };
    let fetcher = crate::fetch::Fetcher::new(crate::fetch::FetchSettings::new(
        config.daemon.user_agent.clone(),
    ))?;
    let year = CommandClock
        .now()
        .with_timezone(&config.daemon.timezone)
        .year();
    let dir = &config.daemon.calendar;
    let results = crate::polling::calendar::update(&fetcher, base, dir, &[year, year + 1]).await;
    let mut failed = false;
    for r in results {
        match r {
            YearUpdate::Written {
                year, new: true, ..
            } => outln!(
                "{year} 年：新增 {}",
                dir.join(format!("{year}.json")).display()
            ),
            YearUpdate::Written { year, changes, .. } => {
                outln!("{year} 年：已更新，{} 处变化", changes.len());
                for change in changes {
                    outln!("  {change}");
                }
            }
            YearUpdate::Unchanged { year } => outln!("{year} 年：无变化"),
            YearUpdate::NotPublished { year, why } => {
                let kept = if dir.join(format!("{year}.json")).exists() {
                    "保留现有文件"
                } else {
                    "暂无该年日历"
                };
                outln!("{year} 年：尚未发布（{why}），{kept}")
            }
            YearUpdate::Failed { year, error } => {
                failed = true;
                outln!("{year} 年：更新失败（{error}），保留现有文件")
            }
        }
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
