//! The publication duties of the own channels, read from the store: the state of each
//! (for `yuqing obligations` and the weekly report) and the mail it causes.
//!
//! Mail is once per period and survives restarts: what was mailed is a `duty_alerts` row,
//! written in the transaction that queues the mail. At risk → the owner, once per period;
//! missed → the owner and the leaders, once per missed period; back in compliance after
//! either → the owner. An unknown state (the channel cannot be read) mails nobody here:
//! the operators hear of it as of any failing source.

use crate::calendar::Calendar;
use crate::clock::{from_secs, secs};
use crate::config::{Channel, Config};
use crate::duty::{self, Facts, State, Status};
use crate::duty_mail::{self, ChannelView};
use crate::outbox::domain_of;
use crate::store::{DutyAlert, SourceState, Store};
use anyhow::Result;
use chrono::{DateTime, Utc};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// The working-day calendar, read once per folder (and again when the folder changes).
#[derive(Default)]
pub struct CalendarCache(Mutex<Option<(PathBuf, Option<Arc<Calendar>>)>>);

impl CalendarCache {
    /// The calendar of `dir`, or `None` (logged once) when it cannot be read.
    pub fn get(&self, dir: &Path) -> Option<Arc<Calendar>> {
        let mut slot = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((d, cal)) = slot.as_ref() {
            if d == dir {
                return cal.clone();
            }
        }
        let cal = match Calendar::load_dir(dir) {
            Ok(c) => Some(Arc::new(c)),
            Err(errs) => {
                for e in &errs.0 {
                    tracing::error!(error = %e, "working-day calendar unreadable; working-day duties are unknown");
                }
                None
            }
        };
        *slot = Some((dir.to_path_buf(), cal.clone()));
        cal
    }
}

/// One channel with its health and, when it has a duty, the duty's state.
pub struct ChannelDuty {
    pub channel: Channel,
    pub health: SourceState,
    pub status: Option<Status>,
}

/// Whether the channel could be read as of `at`: read successfully at least once, and not
/// failing since before `at`.
fn readable(h: &SourceState, at: DateTime<Utc>) -> bool {
    h.last_success.is_some_and(|t| t <= secs(at))
        && (h.failures == 0 || h.failing_since.is_some_and(|f| f > secs(at)))
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
                let posts: Vec<DateTime<Utc>> = store
                    .post_times(&c.id)
                    .await?
                    .into_iter()
                    .map(from_secs)
                    .collect();
                Some(duty::status(
                    d,
                    &Facts {
                        posts: &posts,
                        readable: readable(&health, at),
                        calendar,
                        tz: config.daemon.timezone,
                    },
                    at,
                ))
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
        let draft = match what {
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
        let mut tx = store.begin().await?;
        if !store.set_duty_alert(&mut tx, &before, &after, secs(now)).await? {
            // Another daemon mailed it first.
            continue;
        }
        store
            .enqueue(&mut tx, &draft, secs(now), &domain_of(&config.mail.from))
            .await?;
        tx.commit().await?;
        tracing::info!(channel_id = %cd.channel.id, mail = what, "publication duty mail queued");
    }
    Ok(())
}
