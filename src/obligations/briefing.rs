//! Gathers the leaders' briefing (`notify::briefing`) from the store: the items of the
//! period, the incidents open in it with their deadlines, the own channels' duty states
//! and the sources failing or reading no items. Used by `yuqing briefing` and the `daily_briefing` and
//! `weekly_briefing` jobs.

use crate::config::settings::Settings;
use crate::notify::briefing::{self, DutyLine, FailingSource, Input, Numbers};
use crate::rules::calendar::Calendar;
use crate::rules::duty;
use crate::store::Store;
use crate::vocab::clock::local;
use crate::vocab::clock::{midnight, secs};
use anyhow::Result;
use chrono::{DateTime, Duration, Utc};
use std::collections::BTreeMap;

/// The numbers of the briefing for [`from`, `to`), as of `now`.
pub async fn gather(
    store: &Store,
    settings: &Settings,
    calendar: Option<&Calendar>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Numbers> {
    let config = &settings.config;
    let tz = config.daemon.timezone;
    let items = store.item_tallies(secs(from), secs(to)).await?;
    let topic_names: BTreeMap<String, String> = settings
        .watchlists
        .topics
        .iter()
        .map(|t| (t.id.clone(), t.name.clone()))
        .collect();
    let source_names: BTreeMap<String, String> = config
        .polled()
        .map(|p| (p.id.to_string(), p.name.to_string()))
        .collect();
    let mut incidents = Vec::new();
    let mut first_sources = BTreeMap::new();
    // One row this version cannot read is named in the briefing, not the briefing lost.
    let (readable, unreadable) = store.incidents_touching(secs(from), secs(to)).await?;
    for (id, why) in &unreadable {
        tracing::error!(incident_id = id.0, error = %why, "an incident this version cannot read is named, not counted, in the briefing");
    }
    for i in readable {
        let deadlines = store.deadlines_of(store.pool(), i.id).await?;
        let spread = store.incident_spread(i.id).await?;
        if let Some(first) = store.incident_first_source(i.id).await? {
            first_sources.insert(i.id.0, first);
        }
        incidents.push((i, deadlines, spread));
    }
    let at = now.min(to);
    let duties = crate::obligations::evaluate(store, config, calendar, at)
        .await?
        .into_iter()
        .filter_map(|d| {
            let (status, rule) = (d.status?, d.channel.duty?);
            Some(DutyLine {
                channel: d.channel.name,
                rule: rule.zh(),
                state: status.state,
                missed: status
                    .missed
                    .map(|m| format!("{} – {}", local(m.from, tz), local(m.due, tz))),
            })
        })
        .collect();
    let failing = store
        .source_states()
        .await?
        .into_iter()
        .filter(|s| s.failures > 0 || s.alert.as_deref() == Some("empty"))
        // Failing since after the period is not the period's news (a day's briefing made
        // the next morning once listed a failure 自 the next day 起).
        .filter(|s| {
            let since = if s.failures > 0 {
                s.failing_since
            } else {
                s.alerted_at
            };
            since.is_none_or(|t| t < secs(to))
        })
        .map(|s| FailingSource {
            silent: s.failures == 0,
            name: source_names
                .get(&s.source_id)
                .map_or(s.source_id.clone(), |n| format!("{n}（{}）", s.source_id)),
            failures: s.failures,
            since: s.failing_since,
            error: s.last_error,
        })
        .collect();
    Ok(briefing::compute(&Input {
        from,
        to,
        now,
        tz,
        items: &items,
        topic_names: &topic_names,
        source_names: &source_names,
        incidents: &incidents,
        first_sources: &first_sources,
        duties,
        failing,
        unreadable,
    }))
}

/// The period a scheduled briefing run at `at` covers: the daily one the calendar day
/// before `at`'s day, the weekly one the calendar week (Monday to Monday) before `at`'s
/// week, in the configured zone.
pub fn period_of(
    weekly: bool,
    at: DateTime<Utc>,
    tz: chrono_tz::Tz,
) -> (DateTime<Utc>, DateTime<Utc>) {
    if weekly {
        let monday = duty::week_monday(at, tz) - Duration::days(7);
        (
            midnight(monday, tz),
            midnight(monday + Duration::days(7), tz),
        )
    } else {
        let today = at.with_timezone(&tz).date_naive();
        (midnight(today - Duration::days(1), tz), midnight(today, tz))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use chrono_tz::Asia::Shanghai;

    fn sh(d: u32, h: u32, m: u32) -> DateTime<Utc> {
        Shanghai
            .with_ymd_and_hms(2026, 11, d, h, m, 0)
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn a_run_covers_the_calendar_day_or_week_before_it() {
        // Tuesday 08:00: Monday, midnight to midnight in Shanghai.
        assert_eq!(
            period_of(false, sh(24, 8, 0), Shanghai),
            (sh(23, 0, 0), sh(24, 0, 0))
        );
        // Just after midnight (00:30 Shanghai is the day before in UTC): still yesterday.
        assert_eq!(
            period_of(false, sh(24, 0, 30), Shanghai),
            (sh(23, 0, 0), sh(24, 0, 0))
        );
        // Monday 08:30 and Wednesday: the week Monday 23rd to Monday 30th.
        assert_eq!(
            period_of(true, sh(30, 8, 30), Shanghai),
            (sh(23, 0, 0), sh(30, 0, 0))
        );
        assert_eq!(
            period_of(
                true,
                Shanghai
                    .with_ymd_and_hms(2026, 12, 2, 9, 0, 0)
                    .unwrap()
                    .with_timezone(&Utc),
                Shanghai
            ),
            (sh(23, 0, 0), sh(30, 0, 0))
        );
    }
}
