//! `yuqing incidents` and `incident …`: the list, one incident shown (text and JSON), and
//! the duty officer's steps.

use super::*;

fn deadline_json(
    i: &IncidentRow,
    d: &DeadlineRow,
    now: DateTime<Utc>,
    tz: chrono_tz::Tz,
) -> serde_json::Value {
    let state = d.state(i, now);
    json!({
        "kind": d.kind,
        "due": rfc3339(d.due_at, tz),
        "state": state.as_str(),
        "seconds_left": state.seconds_left(),
        "cancelled_because": match state {
            DeadlineState::Cancelled { by } => Some(by.as_str()),
            _ => None,
        },
        "met_late_by_seconds": match state {
            DeadlineState::Met { late_by, .. } => Some(late_by.num_seconds()),
            _ => None,
        },
        "met_at": d.met_at.map(|t| rfc3339(t, tz)),
        "met_by": d.met_by,
        "evidence": d.evidence,
        "duty": d.duty,
        "cancelled_by_merge_into": d.merged_into(i),
        "uncertain_years": d.uncertain.as_deref().filter(|u| !u.is_empty()).map(|u| u.split(',').collect::<Vec<_>>()),
    })
}

fn deadline_line(
    i: &IncidentRow,
    d: &DeadlineRow,
    now: DateTime<Utc>,
    tz: chrono_tz::Tz,
) -> String {
    let what = d.what();
    let due = from_secs(d.due_at);
    let state = match d.state(i, now) {
        // Done or ended: the words of the 考核 report, with when and by whom.
        DeadlineState::Met { at, .. } => format!(
            "{}，{} {} 记录",
            crate::notify::report::outcome_of(i, d, now),
            local(at, tz),
            d.met_by.as_deref().unwrap_or("?")
        ),
        DeadlineState::Pending { .. } | DeadlineState::Missed { ended: false, .. } => {
            zh_left(due, now)
        }
        _ => crate::notify::report::outcome_of(i, d, now),
    };
    format!(
        "{what}：{} 前，{state}{}",
        local(due, tz),
        d.uncertain_note()
    )
}

async fn incident_json(
    store: &Store,
    i: &IncidentRow,
    now: DateTime<Utc>,
    tz: chrono_tz::Tz,
) -> Result<serde_json::Value> {
    let deadlines = store.deadlines_of(store.pool(), i.id).await?;
    let items = store.incident_items(store.pool(), i.id).await?;
    let sightings = store.incident_sightings(store.pool(), i.id).await?;
    let held = store.held_filings().await?;
    let evidence = crate::store::evidence_summaries(&store.incident_evidence(i.id).await?);
    Ok(json!({
        "id": i.id,
        "topic": i.topic_id,
        "topic_name": i.topic_name,
        "title": i.title,
        "severity": i.severity,
        "status": i.status,
        "opened_at": rfc3339(i.opened_at, tz),
        "clock_start": rfc3339(i.clock_start, tz),
        "acknowledged_by": i.acknowledged_by,
        "monitoring_until": i.monitoring_until.map(|t| rfc3339(t, tz)),
        "closed_at": i.closed_at.map(|t| rfc3339(t, tz)),
        "closed_by": i.closed_by,
        "merged_into": i.merged_into,
        "split_from": i.split_from,
        "reopened_at": i.reopened_at.map(|t| rfc3339(t, tz)),
        "items": items.iter().map(|it| {
            let mut item = serde_json::to_value(it.json(&sightings, &held, tz))?;
            item["evidence"] = json!(evidence.get(&it.id).map(|e| json!({
                "state": e.state, "captured_at": rfc3339(e.captured_at, tz),
                "checked_at": rfc3339(e.checked_at, tz), "sha256": e.sha256,
                "versions": e.versions, "error": e.error,
            })));
            Ok(item)
        }).collect::<Result<Vec<_>>>()?,
        "spread": spread_json(&crate::notify::spread::Spread::of(&items, &sightings), tz),
        "deadlines": deadlines.iter().map(|d| deadline_json(i, d, now, tz)).collect::<Vec<_>>(),
    }))
}

/// An item's evidence in one line: `原帖已删除（2026-11-24 09:05 保存，共 1 版，SHA-256
/// 3f2a…；2026-11-24 09:35 复查）`.
fn evidence_line(e: &crate::store::EvidenceSummary, tz: chrono_tz::Tz) -> String {
    let checked = local(from_secs(e.checked_at), tz);
    match &e.sha256 {
        Some(sha) => format!(
            "{}（{} 保存，共 {} 版，SHA-256 {}…；{} 复查）",
            e.state.zh(),
            local(from_secs(e.captured_at), tz),
            e.versions,
            &sha[..sha.len().min(16)],
            checked
        ),
        None => format!(
            "未能保存（{} 尝试：{}）",
            checked,
            e.error.as_deref().unwrap_or("原因不明")
        ),
    }
}

/// `"spread"` of `incident show --json`: times in RFC 3339 in the configured zone.
fn spread_json(s: &crate::notify::spread::Spread, tz: chrono_tz::Tz) -> serde_json::Value {
    json!({
        "first_source": s.first_source,
        "first_published": s.first_published.map(|t| rfc3339(t, tz)),
        "sources": s.sources,
        "reposts": s.reposts,
        "per_source": s.per_source.iter().map(|p| json!({
            "source": p.source, "items": p.items,
            "first": rfc3339(p.first, tz), "last": rfc3339(p.last, tz),
        })).collect::<Vec<_>>(),
    })
}

pub async fn incidents(c: &ConfigArg, all: bool, json_out: bool) -> Result<ExitCode> {
    let (config, store) = or_exit!(open(c).await);
    let tz = config.daemon.timezone;
    let now = CommandClock.now();
    // The most urgent first, as on the console's dashboard: the nearest deadline owed.
    let mut list = Vec::new();
    let (readable, unreadable) = store.readable_incidents(all).await?;
    // One row this version cannot read hides no other: it is named, and left out.
    for (id, why) in &unreadable {
        eprintln!(
            "warning: 事件 #{} 的记录无法读取（可能由较新版本写入）：{why}；\
             修复前它不在此列表中，请联系运维",
            id.0
        );
    }
    for i in readable {
        let deadlines = store.deadlines_of(store.pool(), i.id).await?;
        let nearest = crate::store::nearest_owed(&i, &deadlines, now);
        list.push((crate::store::urgency(nearest, i.id), i));
    }
    list.sort_by_key(|(key, _)| *key);
    let list: Vec<IncidentRow> = list.into_iter().map(|(_, i)| i).collect();
    if json_out {
        let mut out = Vec::new();
        for i in &list {
            out.push(incident_json(&store, i, now, tz).await?);
        }
        jsonln!(
            "{}",
            serde_json::to_string_pretty(&json!({ "incidents": out }))?
        );
        return Ok(ExitCode::SUCCESS);
    }
    if list.is_empty() {
        outln!(
            "{}",
            if all {
                "没有事件"
            } else {
                "没有处置中的事件"
            }
        );
    }
    for i in &list {
        let items = store.incident_items(store.pool(), i.id).await?;
        let deadlines = store.deadlines_of(store.pool(), i.id).await?;
        let sev = i.severity.zh();
        outln!(
            "#{} {} 【{}】{} {} — {} 条信息",
            i.id,
            i.title,
            i.status.zh(),
            sev,
            i.topic_name,
            items.len()
        );
        if let (Some(t), "monitoring") = (i.monitoring_until, i.status.as_str()) {
            outln!("    监测期至 {}（届时自动结案）", local(from_secs(t), tz));
        }
        for d in &deadlines {
            outln!("    {}", deadline_line(i, d, now, tz));
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn incident(cmd: IncidentCommand) -> Result<ExitCode> {
    let (on, step) = match cmd {
        IncidentCommand::Show { id, config, json } => return show(&config, id, json).await,
        IncidentCommand::Merge { .. } | IncidentCommand::Split { .. } => {
            return crate::cli::lifecycle::regroup(cmd).await;
        }
        IncidentCommand::Release { on, url } => {
            if let Some(url) = url
                .as_deref()
                .filter(|u| crate::vocab::text::http_link(u).is_none())
            {
                eprintln!(
                    "error: --url `{}` is not an http:// or https:// address; give the address \
                     where the release was published",
                    crate::vocab::text::for_terminal(url)
                );
                return Ok(ExitCode::from(2));
            }
            return release(&on.config, on.id, url.as_deref(), &on.who).await;
        }
        IncidentCommand::Ack(on) => (on, Step::Acknowledge),
        IncidentCommand::Press { on, note } => (on, Step::PressConference { note }),
        IncidentCommand::Severity { on, level } => match level.parse::<Severity>() {
            Ok(s) => (on, Step::Severity(s)),
            Err(e) => {
                eprintln!("error: {e}");
                return Ok(ExitCode::from(2));
            }
        },
        IncidentCommand::Note { on, text } => (on, Step::Note(text)),
        IncidentCommand::Title { on, text } => (on, Step::Title(text)),
        IncidentCommand::Close(on) => (on, Step::Close),
        IncidentCommand::Dismiss { on, reason } => (on, Step::Dismiss { reason }),
    };
    let OnIncident {
        id,
        config: config_arg,
        who,
    } = on;
    let (config, store) = or_exit!(open(&config_arg).await);
    let code = apply(&store, &config, id, &step, &who).await?;
    if let Step::Dismiss { .. } = step {
        let dismissed = store
            .incident(store.pool(), IncidentId(id))
            .await?
            .is_some_and(|i| i.status == crate::vocab::state::IncidentStatus::Dismissed);
        if dismissed {
            for line in dismissal_hint(&config, &store, id).await? {
                outln!("{line}");
            }
        }
    }
    Ok(code)
}

/// Why a dismissed incident's first item matched, and the `none` term that would have
/// stopped it (`classify --explain` on the item); nothing when the watchlists cannot be
/// read now.
async fn dismissal_hint(config: &Config, store: &Store, id: i64) -> Result<Vec<String>> {
    let Some(i) = store.incident(store.pool(), IncidentId(id)).await? else {
        return Ok(Vec::new());
    };
    let items = store.incident_items(store.pool(), IncidentId(id)).await?;
    let Some(first) = items
        .iter()
        .find(|x| x.id == i.first_item_id)
        .or(items.first())
    else {
        return Ok(Vec::new());
    };
    let Ok(w) = crate::classify::watchlist::load_dir(&config.daemon.watchlists) else {
        return Ok(Vec::new());
    };
    let Ok(classifier) = crate::classify::Classifier::new(&w) else {
        return Ok(Vec::new());
    };
    let text = format!("{}\n{}", first.title, first.summary);
    Ok(classifier
        .explain(&text, Some(&first.source_id))
        .dismissal_hint(&text, &i.topic_id))
}

/// Applies one of the duty officer's steps and says what it did.
async fn apply(
    store: &Store,
    config: &Config,
    id: i64,
    step: &Step,
    who: &Who,
) -> Result<ExitCode> {
    let by = or_exit!(who.name_or_refuse());
    match incident::act(store, config, IncidentId(id), step, &by, CommandClock.now()).await {
        Ok(said) => {
            outln!("{said}");
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => Ok(step_failure(&e)),
    }
}

/// `incident release`: with a URL, or confirming the candidate yuqing detected.
async fn release(c: &ConfigArg, id: i64, url: Option<&str>, who: &Who) -> Result<ExitCode> {
    let (config, store) = or_exit!(open(c).await);
    let pending: Vec<_> = store
        .release_candidates(store.pool(), IncidentId(id))
        .await?
        .into_iter()
        .filter(|c| c.status == "candidate")
        .collect();
    let step = match url {
        Some(url) => Step::Release {
            url: url.to_string(),
            at: pending
                .iter()
                .find(|c| c.link.as_deref() == Some(url))
                .map(|c| crate::vocab::clock::from_secs(c.posted_at)),
        },
        None => match pending.as_slice() {
            [] => {
                eprintln!("error: incident #{id} has no detected release to confirm; give --url URL of the release");
                return Ok(ExitCode::from(2));
            }
            [one] => Step::Release {
                url: one
                    .link
                    .clone()
                    .unwrap_or_else(|| format!("channel:{}", one.channel_id)),
                at: Some(crate::vocab::clock::from_secs(one.posted_at)),
            },
            several => {
                eprintln!(
                    "error: incident #{id} has {} detected releases; say which with --url:",
                    several.len()
                );
                for c in several {
                    eprintln!(
                        "  {}  《{}》",
                        c.link.as_deref().unwrap_or("(no link)"),
                        c.title
                    );
                }
                return Ok(ExitCode::from(2));
            }
        },
    };
    apply(&store, &config, id, &step, who).await
}

async fn show(c: &ConfigArg, id: i64, json_out: bool) -> Result<ExitCode> {
    let (config, store) = or_exit!(open(c).await);
    let tz = config.daemon.timezone;
    let now = CommandClock.now();
    let Some(i) = store.incident(store.pool(), IncidentId(id)).await? else {
        eprintln!("error: 没有事件 #{id}（`yuqing incidents --all` 列出全部事件）");
        return Ok(ExitCode::from(2));
    };
    let actions = store.actions_of(IncidentId(id)).await?;
    let candidates = store
        .release_candidates(store.pool(), IncidentId(id))
        .await?;
    if json_out {
        let mut v = incident_json(&store, &i, now, tz).await?;
        v["release_candidates"] = json!(candidates
            .iter()
            .map(|c| json!({
                "channel": c.channel_id, "title": c.title, "link": c.link,
                "published": rfc3339(c.posted_at, tz), "similarity": c.similarity,
                "status": c.status,
            }))
            .collect::<Vec<_>>());
        v["actions"] = json!(actions
            .iter()
            .map(|a| json!({"at": rfc3339(a.at, tz), "by": a.actor, "action": a.action, "detail": a.detail}))
            .collect::<Vec<_>>());
        jsonln!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(ExitCode::SUCCESS);
    }
    let sev = i.severity.zh();
    outln!("#{} {}", i.id, i.title);
    outln!("专题 {} — {} — {}", i.topic_name, sev, i.status.zh());
    outln!(
        "立案时间 {}，计时起点 {}",
        local(from_secs(i.opened_at), tz),
        local(from_secs(i.clock_start), tz)
    );
    for line in crate::cli::lifecycle::state_lines(&i, tz) {
        outln!("{line}");
    }
    outln!("时限：");
    for d in store.deadlines_of(store.pool(), IncidentId(id)).await? {
        outln!("  {}", deadline_line(&i, &d, now, tz));
    }
    let items = store.incident_items(store.pool(), IncidentId(id)).await?;
    let sightings = store
        .incident_sightings(store.pool(), IncidentId(id))
        .await?;
    let evidence = crate::store::evidence_summaries(
        &store
            .incident_evidence(crate::vocab::ids::IncidentId(id))
            .await?,
    );
    for line in crate::notify::spread::Spread::of(&items, &sightings).lines(tz) {
        outln!("{line}");
    }
    outln!("信息：");
    for it in items {
        outln!(
            "  #{} {} 【{}】{} {}",
            it.id,
            it.published_at
                .map(|t| local(from_secs(t), tz))
                .unwrap_or_else(|| local(from_secs(it.fetched_at), tz)),
            it.source_id,
            it.title,
            it.link.as_deref().unwrap_or("")
        );
        let also: Vec<String> = sightings
            .iter()
            .filter(|s| s.item_id == it.id)
            .map(|s| format!("【{}】", s.source_id))
            .collect();
        if !also.is_empty() {
            outln!("      亦见于 {}", also.concat());
        }
        if let Some(e) = evidence.get(&it.id) {
            outln!("      证据：{}", evidence_line(e, tz));
        }
    }
    if !candidates.is_empty() {
        outln!("本单位渠道上发现的疑似权威发布：");
        for c in &candidates {
            outln!(
                "  {} 【{}】{} {}（{}）",
                local(from_secs(c.posted_at), tz),
                c.channel_id,
                c.title,
                c.link.as_deref().unwrap_or(""),
                match c.status.as_str() {
                    "candidate" => "待确认",
                    "confirmed" => "已确认",
                    "superseded" => "未采用",
                    other => other,
                }
            );
        }
    }
    outln!("处置记录（留痕）：");
    for a in actions {
        outln!(
            "  {} {} {}",
            local(from_secs(a.at), tz),
            a.actor,
            crate::vocab::words::record_zh(a.action, a.detail.as_deref())
        );
    }
    Ok(ExitCode::SUCCESS)
}
