//! A polled source's health as the operators hear of it: failing, recovered, a list page
//! gone empty, silent (no new item for `stale_after`) and resumed, heard late (`max_lag`).
//! Each episode is mailed once, with its alert recorded in the same transaction, and
//! again when it ends.

use super::{Poll, Target};
use crate::notify::alert::queue;
use crate::notify::operator_mail::{self, SourceHealth, SourceView};
use crate::rules::escalation::Group;
use crate::store::SourceState;
use crate::vocab::clock::{from_secs, secs};
use chrono::{DateTime, Utc};

/// After a successful poll: a source with `stale_after` that brought nothing new for that
/// long is reported silent (once), and reported again when a new item comes.
pub(super) async fn watch_silence(poll: &Poll<'_>, new_items: bool, target: &impl Target) {
    let Poll {
        source,
        before,
        now,
        ..
    } = *poll;
    let Some(stale_after) = source.stale_after else {
        return;
    };
    let last_new = if new_items {
        Some(secs(now))
    } else {
        before.last_new_at.or(Some(secs(now)))
    };
    let silent = last_new.is_some_and(|t| secs(now) - t >= stale_after.as_secs() as i64);
    let health = match before.silent_since {
        None if silent => SourceHealth::Silent,
        Some(_) if new_items => SourceHealth::Resumed,
        _ => return,
    };
    let mut state = before.clone();
    state.last_new_at = last_new;
    tell_operators(poll, &state, health, now, target).await;
}

/// After a poll that brought new items: a source with `max_lag` whose items, over the
/// last 7 days, are first seen later than that at the 95th percentile mails the operators
/// once, and may be mailed again once it has come back within it. A database failure is
/// logged; the next poll looks again.
pub(super) async fn watch_lag(poll: &Poll<'_>) {
    let Poll { store, source, .. } = *poll;
    let Some(max) = source.max_lag else {
        return;
    };
    let (config, now) = (&poll.settings.config, poll.now);
    let result = async {
        let lag = store
            .source_lag(&source.id, secs(now) - crate::rules::lag::WINDOW_S)
            .await?;
        let over = lag.is_some_and(|l| l.p95_s > max.as_secs() as i64);
        match (over, poll.before.lag_alerted_at) {
            (true, None) => {
                let Some(lag) = lag else { return anyhow::Ok(()) };
                let draft = operator_mail::source_lagging(
                    &source.name,
                    &source.id,
                    &lag,
                    max,
                    config.daemon.timezone,
                    &config.people.operators,
                );
                let mut tx = store.begin().await?;
                store.set_lag_alert(&mut tx, &source.id, Some(secs(now))).await?;
                queue(store, &mut tx, config, &draft, now).await?;
                tx.commit().await?;
                tracing::warn!(source_id = %source.id, p95_s = lag.p95_s, max_lag = %max, "operators mailed: the source is heard late");
            }
            (false, Some(_)) => {
                let mut tx = store.begin().await?;
                store.set_lag_alert(&mut tx, &source.id, None).await?;
                tx.commit().await?;
                tracing::info!(source_id = %source.id, "the source's lag is back within max_lag");
            }
            _ => {}
        }
        anyhow::Ok(())
    }
    .await;
    if let Err(e) = result {
        tracing::error!(source_id = %source.id, error = %format!("{e:#}"), "cannot check the source's lag");
    }
}

/// Mails the operators about a source's health and records the alert (or its end) in the
/// same transaction, so they are told once per episode, and again when it ends.
pub(super) async fn tell_operators(
    poll: &Poll<'_>,
    before: &SourceState,
    health: SourceHealth,
    now: DateTime<Utc>,
    target: &impl Target,
) {
    let Poll {
        store,
        settings,
        source,
        ..
    } = *poll;
    let config = &settings.config;
    let result = async {
        let st = store.source_state(&source.id).await?;
        let view = SourceView {
            id: &source.id,
            name: &source.name,
            url: source.url.as_str(),
            failing_since: st.failing_since.or(before.failing_since).map(from_secs),
            failures: st.failures.max(before.failures),
            last_error: st.last_error.as_deref(),
            last_new: before.last_new_at.map(from_secs),
            tz: config.daemon.timezone,
            now,
        };
        let mut draft = operator_mail::source_health(&view, health, &config.people.operators);
        if matches!(
            health,
            SourceHealth::Failing | SourceHealth::Empty | SourceHealth::Silent
        ) {
            draft.notify = config.people.notify.of(Group::Operators).to_vec();
        }
        let draft = target.health_mail(draft);
        let mut tx = store.begin().await?;
        match health {
            SourceHealth::Silent => {
                store
                    .set_source_silent(&mut tx, &source.id, Some(secs(now)))
                    .await?
            }
            SourceHealth::Resumed => store.set_source_silent(&mut tx, &source.id, None).await?,
            _ => {
                let alert = match health {
                    SourceHealth::Failing => Some("failing"),
                    SourceHealth::Empty => Some("empty"),
                    _ => None,
                };
                store
                    .set_source_alert(&mut tx, &source.id, alert, secs(now))
                    .await?
            }
        }
        queue(store, &mut tx, config, &draft, now).await?;
        tx.commit().await?;
        anyhow::Ok(())
    }
    .await;
    match result {
        Ok(()) => {
            tracing::warn!(source_id = %source.id, health = ?health, "operators mailed about source health")
        }
        Err(e) => {
            tracing::error!(source_id = %source.id, error = %format!("{e:#}"), "cannot queue the source health mail")
        }
    }
}
