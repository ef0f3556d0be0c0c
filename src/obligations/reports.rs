//! The scheduled reports and reminders of `[jobs]` (the schedules are `rules::jobs`): the
//! office's weekly report, the monthly publication ledger (CSV), the work-report reminder,
//! the duty officer's daily digest, and the leaders' daily and weekly 舆情 briefing.
//!
//! Each job's last scheduled run is a `job_runs` row, moved in the transaction that queues
//! its mail, so it fires exactly once per scheduled time, across restarts and with several
//! daemons. A run missed while the daemon was down fires once on start (for the latest
//! scheduled time that passed), not once per missed time. On the very first start the
//! clock only begins: nothing from before is sent.

use crate::config::settings::Settings;
use crate::notify::alert::queue;
use crate::notify::duty_mail;
use crate::notify::outbox::domain_of;
use crate::rules::calendar::Calendar;
use crate::rules::duty;
use crate::rules::jobs::{latest_due, Job, Kind};
use crate::store::{Draft, OutboxPart, Store};
use crate::vocab::clock::{from_secs, midnight, secs};
use anyhow::Result;
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
/// Runs every job whose scheduled time passed since its last run.
pub async fn fire(
    store: &Store,
    settings: &Settings,
    calendar: Option<&Calendar>,
    now: DateTime<Utc>,
) -> Result<()> {
    let config = &settings.config;
    let tz = config.daemon.timezone;
    for job in &config.jobs.0 {
        let name = job.kind.name();
        let last = store.job_last_run(name).await?;
        let Some(last) = last else {
            // First start: the schedule begins now.
            let mut tx = store.begin().await?;
            store.set_job_run(&mut tx, name, None, secs(now)).await?;
            tx.commit().await?;
            continue;
        };
        let Some(at) = latest_due(job, from_secs(last), now, tz) else {
            continue;
        };
        let Built {
            draft,
            attachment,
            parts,
        } = build(job, store, settings, calendar, at).await?;
        let mut tx = store.begin().await?;
        if !store
            .set_job_run(&mut tx, name, Some(last), secs(at))
            .await?
        {
            continue;
        }
        if !draft.recipients.is_empty() {
            let id = queue(store, &mut tx, config, &draft, now).await?;
            if let Some((file, text)) = attachment {
                store.set_attachment(&mut tx, id, &file, &text).await?;
            }
            store.add_outbox_parts(&mut tx, id, &parts).await?;
        }
        tx.commit().await?;
        tracing::info!(job = name, scheduled = %at, "scheduled job ran");
    }
    Ok(())
}

/// The first day of the month before the one holding `d`, and the first of `d`'s month.
fn previous_month(d: NaiveDate) -> (NaiveDate, NaiveDate) {
    let this = d.with_day(1).expect("day 1 exists");
    let prev = (this - Duration::days(1))
        .with_day(1)
        .expect("day 1 exists");
    (prev, this)
}

/// The mail of one run of a job.
pub struct Built {
    pub draft: Draft,
    /// A file attached (the ledger's CSV): name and text.
    pub attachment: Option<(String, String)>,
    /// Images shown inline (the briefing's charts).
    pub parts: Vec<OutboxPart>,
}

/// The mail of one run of `job` for the scheduled time `at`, to the job's recipients.
pub async fn build(
    job: &Job,
    store: &Store,
    settings: &Settings,
    calendar: Option<&Calendar>,
    at: DateTime<Utc>,
) -> Result<Built> {
    let config = &settings.config;
    let tz = config.daemon.timezone;
    let recipients = job.mailboxes(&config.people);
    let kind = job.kind;
    let mut parts = Vec::new();
    let (draft, attachment) = match kind {
        Kind::WeeklyReport => {
            let monday = duty::week_monday(at, tz) - Duration::days(7);
            let from = midnight(monday, tz);
            let to = midnight(monday + Duration::days(7), tz);
            let posts = store.posts_since(None, secs(from)).await?;
            let duties = crate::obligations::evaluate(store, config, calendar, at).await?;
            let rows: Vec<duty_mail::WeekOfChannel<'_>> = duties
                .iter()
                .map(|d| duty_mail::WeekOfChannel {
                    channel: &d.channel,
                    posts: posts
                        .iter()
                        .filter(|p| p.channel_id == d.channel.id && p.at() < secs(to))
                        .collect(),
                    status: d.status.as_ref(),
                })
                .collect();
            (
                duty_mail::weekly_report(from, to, &rows, tz, &recipients),
                None,
            )
        }
        Kind::Ledger => {
            let (first, next) = previous_month(at.with_timezone(&tz).date_naive());
            let (from, to) = (midnight(first, tz), midnight(next, tz));
            let posts: Vec<_> = store
                .posts_since(None, secs(from))
                .await?
                .into_iter()
                .filter(|p| p.at() < secs(to))
                .collect();
            let month = first.format("%Y-%m").to_string();
            let csv = duty_mail::ledger_csv(&config.channels, &posts, tz);
            (
                duty_mail::ledger(&month, &config.channels, &posts, tz, &recipients),
                Some((format!("ledger-{month}.csv"), csv)),
            )
        }
        Kind::WorkReportReminder => {
            let d = at.with_timezone(&tz).date_naive();
            let due = d.with_day(20).unwrap_or(d);
            let due = if due < d {
                // Scheduled after the 20th: the next month's report.
                (d.with_day(1).unwrap_or(d) + Duration::days(32))
                    .with_day(20)
                    .unwrap_or(d)
            } else {
                due
            };
            (
                duty_mail::work_report_reminder(
                    &due.format("%Y-%m-%d").to_string(),
                    tz,
                    &recipients,
                ),
                None,
            )
        }
        Kind::DailyBriefing | Kind::WeeklyBriefing => {
            let weekly = kind == Kind::WeeklyBriefing;
            let (from, until) = super::briefing::period_of(weekly, at, tz);
            let numbers =
                super::briefing::gather(store, settings, calendar, from, until, at).await?;
            let (draft, charts) = crate::notify::briefing::mail(
                &numbers,
                kind.name(),
                &recipients,
                &domain_of(&config.mail.from),
            );
            parts = charts;
            (draft, None)
        }
        Kind::DailyDigest => {
            let from = at - Duration::hours(24);
            let items = store.items(None, secs(from), 1000).await?;
            // One this version cannot read is named, in the log and in the digest, not the
            // whole digest lost.
            let (open, unreadable) = store.readable_incidents(false).await?;
            for (id, why) in &unreadable {
                tracing::error!(incident_id = id.0, error = %why, "an incident this version cannot read is named, not listed, in the daily digest");
            }
            let digest =
                duty_mail::daily_digest(from, &items, &open, &unreadable, tz, at, &recipients);
            (digest, None)
        }
    };
    Ok(Built {
        draft,
        attachment,
        parts,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn previous_month_handles_january() {
        let d = NaiveDate::from_ymd_opt(2027, 1, 24).unwrap();
        assert_eq!(
            previous_month(d),
            (
                NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
                NaiveDate::from_ymd_opt(2027, 1, 1).unwrap()
            )
        );
    }
}
