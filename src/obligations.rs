//! The publication duties of the own channels, read from the store: the state of each
//! (for `yuqing obligations` and the weekly report) and the mail it causes.
//!
//! Mail is once per period and survives restarts: what was mailed is a `duty_alerts` row,
//! written in the transaction that queues the mail. At risk → the owner, once per period;
//! missed → the owner and the leaders, once per missed period; back in compliance after
//! either → the owner. An unknown state (the channel cannot be read) mails nobody here:
//! the operators hear of it as of any failing source.

pub mod briefing;
pub mod reports;

use crate::config::{Channel, Config};
use crate::notify::alert::queue;
use crate::notify::duty_mail::{self, ChannelView};
use crate::rules::calendar::Calendar;
use crate::rules::duty::{self, Facts, State, Status};
use crate::store::{DutyAlert, SourceState, Store};
use crate::vocab::clock::{from_secs, rfc3339, secs};
use anyhow::Result;
use chrono::{DateTime, Utc};

/// One channel with its health and, when it has a duty, the duty's state.
pub struct ChannelDuty {
    pub channel: Channel,
    pub health: SourceState,
    pub status: Option<Status>,
}

/// Whether the channel's posts are known as of `at`: read successfully at least once (the
/// feed's history then tells about earlier times too), and not failing since before `at`.
fn readable(h: &SourceState, at: DateTime<Utc>) -> bool {
    h.last_success.is_some() && (h.failures == 0 || h.failing_since.is_some_and(|f| f > secs(at)))
}

/// The state of every channel's duty at `at`.
pub async fn evaluate(
    store: &Store,
    config: &Config,
    calendar: Option<&Calendar>,
    at: DateTime<Utc>,
) -> Result<Vec<ChannelDuty>> {
    let mut out = Vec::new();
    for c in &config.channels {
        let health = store.source_state(&c.id).await?;
        let status = match &c.duty {
            None => None,
            Some(d) => {
                let since = at - duty::window(d);
                let posts: Vec<DateTime<Utc>> = store
                    .post_times(&c.id, secs(since), secs(at))
                    .await?
                    .into_iter()
                    .map(from_secs)
                    .collect();
                let mut status = duty::status(
                    d,
                    &Facts {
                        posts: &posts,
                        readable: readable(&health, at),
                        calendar,
                        tz: config.daemon.timezone,
                    },
                    at,
                );
                if health.last_success.is_none() {
                    status.note = Some(match &health.last_error {
                        Some(e) => format!("从未读取成功：{e}"),
                        None => "尚未读取".into(),
                    });
                }
                Some(status)
            }
        };
        out.push(ChannelDuty {
            channel: c.clone(),
            health,
            status,
        });
    }
    Ok(out)
}

/// What to mail about one duty, given what was mailed before; `None`: nothing.
fn decide(status: &Status, before: &DutyAlert) -> Option<(&'static str, DutyAlert)> {
    let mut after = before.clone();
    match status.state {
        State::Missed => {
            let key = status.missed.as_ref().map(|m| m.key.clone());
            if before.missed_key == key {
                return None;
            }
            after.missed_key = key;
            after.mailed_state = Some("missed".into());
            Some(("missed", after))
        }
        State::AtRisk => {
            if before.at_risk_key.as_deref() == Some(status.period_key.as_str()) {
                return None;
            }
            after.at_risk_key = Some(status.period_key.clone());
            after.mailed_state = Some("at_risk".into());
            Some(("at_risk", after))
        }
        State::Ok => {
            before.mailed_state.as_ref()?;
            after.mailed_state = None;
            Some(("recovered", after))
        }
        State::Unknown => None,
    }
}

/// Mails what changed in the duties' states at `now`.
pub async fn fire(
    store: &Store,
    config: &Config,
    calendar: Option<&Calendar>,
    now: DateTime<Utc>,
) -> Result<()> {
    if config.channels.iter().all(|c| c.duty.is_none()) {
        return Ok(());
    }
    for cd in evaluate(store, config, calendar, now).await? {
        let Some(status) = &cd.status else { continue };
        let before = store.duty_alert(&cd.channel.id).await?;
        let Some((what, after)) = decide(status, &before) else {
            continue;
        };
        let owners = if cd.channel.owner.is_empty() {
            config.people.office.clone()
        } else {
            cd.channel.owner.clone()
        };
        let view = ChannelView {
            channel: &cd.channel,
            status,
            tz: config.daemon.timezone,
            now,
        };
        let mut draft = match what {
            "missed" => {
                let mut to = owners.clone();
                for l in &config.people.leaders {
                    if !to.contains(l) {
                        to.push(l.clone());
                    }
                }
                duty_mail::missed(&view, &to)
            }
            "at_risk" => duty_mail::at_risk(&view, &owners),
            _ => duty_mail::recovered(&view, &owners),
        };
        // The office's instant messages hear of a duty at risk; the leaders' too when missed.
        use crate::rules::escalation::Group;
        let notify = &config.people.notify;
        draft.notify = match what {
            "missed" => [notify.of(Group::Office), notify.of(Group::Leaders)].concat(),
            "at_risk" => notify.of(Group::Office).to_vec(),
            _ => Vec::new(),
        };
        let mut seen = Vec::new();
        draft.notify.retain(|n| {
            let first = !seen.contains(n);
            seen.push(n.clone());
            first
        });
        let mut tx = store.begin().await?;
        if !store
            .set_duty_alert(&mut tx, &before, &after, secs(now))
            .await?
        {
            // Another daemon mailed it first.
            continue;
        }
        queue(store, &mut tx, config, &draft, now).await?;
        tx.commit().await?;
        tracing::info!(channel_id = %cd.channel.id, mail = what, "publication duty mail queued");
    }
    Ok(())
}

/// Whether any channel's duty is counted in working days (and so needs the calendar).
pub fn needs_calendar(config: &Config) -> bool {
    config
        .channels
        .iter()
        .any(|c| matches!(c.duty, Some(duty::Duty::WorkingDays { .. })))
}

/// `yuqing obligations --json`: one entry per channel with a duty.
pub fn to_json(duties: &[ChannelDuty], at: DateTime<Utc>, tz: chrono_tz::Tz) -> serde_json::Value {
    let list: Vec<serde_json::Value> = duties
        .iter()
        .filter_map(|d| {
            let s = d.status.as_ref()?;
            let rule = d.channel.duty.as_ref()?;
            Some(serde_json::json!({
                "id": d.channel.id,
                "name": d.channel.name,
                "kind": d.channel.kind,
                "owner": d.channel.owner.iter().map(|m| m.to_string()).collect::<Vec<_>>(),
                "duty": rule.describe(),
                "state": s.state.as_str(),
                "last_post": s.last_post.map(|t| rfc3339(t, tz)),
                "posts_this_period": s.posts_this_period,
                "period_start": s.period_start.map(|t| rfc3339(t, tz)),
                "due": s.due.map(|t| rfc3339(t, tz)),
                "at_risk_from": s.at_risk_from.map(|t| rfc3339(t, tz)),
                "missed_period": s.missed.as_ref().map(|m| serde_json::json!({
                    "from": rfc3339(m.from, tz),
                    "due": rfc3339(m.due, tz),
                })),
                "uncertain_years": s.uncertain_years,
                "note": s.note,
                "health": {
                    "last_success": d.health.last_success.map(|t| rfc3339(from_secs(t), tz)),
                    "failures": d.health.failures,
                    "last_error": d.health.last_error.as_deref().filter(|_| d.health.failures > 0),
                },
            }))
        })
        .collect();
    serde_json::json!({ "at": rfc3339(at, tz), "duties": list })
}

/// `yuqing obligations`: one line per channel, tab-separated.
pub fn to_lines(duties: &[ChannelDuty], tz: chrono_tz::Tz) -> Vec<String> {
    let when = |t: Option<DateTime<Utc>>| {
        t.map(|t| crate::vocab::clock::local(t, tz))
            .unwrap_or_else(|| "-".into())
    };
    duties
        .iter()
        .map(|d| match (&d.status, &d.channel.duty) {
            (Some(s), Some(rule)) => {
                let mut line = format!(
                    "{}\t{}\t最近发布 {}\t本期 {} 条\t期限 {}\t{}",
                    d.channel.id,
                    s.state.zh(),
                    when(s.last_post),
                    s.posts_this_period,
                    when(s.due),
                    rule.zh()
                );
                if let Some(m) = &s.missed {
                    line.push_str(&format!(
                        "\t违规期间 {} – {}",
                        when(Some(m.from)),
                        when(Some(m.due))
                    ));
                }
                if let Some(n) = &s.note {
                    line.push_str(&format!("\t（{n}）"));
                }
                line
            }
            _ => format!("{}\t无发布义务", d.channel.id),
        })
        .collect()
}

/// From 1 December, when next year's working-day calendar is still missing (or this
/// year's at any time), mails the operators once for that year, as `yuqing check` warns.
/// Only a kept calendar (a folder with at least one year) is watched: a deployment that
/// never set one up hears of it from `check` alone.
/// Once survives restarts and several daemons: a `job_runs` row (`calendar_missing:YEAR`)
/// written in the transaction that queues the mail. Returns whether it queued the mail.
pub async fn fire_calendar_missing(
    store: &Store,
    config: &Config,
    calendar: &Calendar,
    now: DateTime<Utc>,
) -> Result<bool> {
    let tz = config.daemon.timezone;
    if calendar.years().next().is_none() {
        return Ok(false);
    }
    let Some(year) = calendar.missing_year(now.with_timezone(&tz).date_naive()) else {
        return Ok(false);
    };
    let to = &config.people.operators;
    if to.is_empty() {
        return Ok(false);
    }
    let job = format!("calendar_missing:{year}");
    if store.job_last_run(&job).await?.is_some() {
        return Ok(false);
    }
    let draft = crate::notify::operator_mail::calendar_missing(
        year,
        calendar.dir(),
        calendar.is_placeholder(year),
        config.daemon.calendar_url.as_ref().map(|u| u.as_str()),
        tz,
        now,
        to,
    );
    let mut tx = store.begin().await?;
    if !store.set_job_run(&mut tx, &job, None, secs(now)).await? {
        return Ok(false);
    }
    queue(store, &mut tx, config, &draft, now).await?;
    tx.commit().await?;
    tracing::warn!(year, "working-day calendar missing; operators mailed");
    Ok(true)
}
