//! Hosts whose sources cannot all be polled within their intervals under the politeness
//! settings (see `fetch::politeness::host_loads`): the operators are mailed once per host
//! and settings. What they were told is a `host_alerts` row written in the transaction
//! that queues the mail, so neither a restart nor a second daemon tells them again; a
//! change of `per_host`, `host_delay` or the shortest `every` that still does not fit is
//! news, and so is a host that fitted and no longer does.

use crate::config::settings::Settings;
use crate::fetch::politeness::{host_loads, HostLoad};
use crate::notify::alert::queue;
use crate::store::Store;
use crate::vocab::clock::secs;
use anyhow::Result;
use chrono::{DateTime, Utc};

/// The overloaded hosts of `settings` and what the operators are told about each: the
/// key the daemon compares to skip the database when nothing changed.
pub fn overloaded(settings: &Settings) -> Vec<(HostLoad, String)> {
    host_loads(&settings.config)
        .into_iter()
        .filter(HostLoad::overloaded)
        .map(|h| {
            let key = h.settings_key();
            (h, key)
        })
        .collect()
}

/// Mails the operators about each overloaded host they were not told about under its
/// current settings, and forgets the hosts that fit again. Returns the hosts mailed.
pub async fn tell_operators(
    store: &Store,
    settings: &Settings,
    now: DateTime<Utc>,
) -> Result<Vec<String>> {
    let config = &settings.config;
    let over = overloaded(settings);
    let told = store.host_alerts().await?;
    for (host, _) in &told {
        if !over.iter().any(|(h, _)| &h.host == host) {
            store.clear_host_alert(host).await?;
            tracing::info!(host = %host, "the host's sources fit its politeness settings again");
        }
    }
    let mut mailed = Vec::new();
    for (h, key) in &over {
        if told.iter().any(|(host, k)| host == &h.host && k == key) {
            continue;
        }
        let draft = crate::notify::mail::host_overloaded(
            h,
            config.daemon.timezone,
            now,
            &config.people.operators,
        );
        let mut tx = store.begin().await?;
        if store
            .set_host_alert(&mut tx, &h.host, key, secs(now))
            .await?
        {
            queue(store, &mut tx, config, &draft, now).await?;
            tx.commit().await?;
            tracing::warn!(
                host = %h.host,
                sources = h.sources,
                pass_s = h.pass.as_secs(),
                shortest_every_s = h.shortest.as_secs(),
                "a host cannot be asked as often as its sources' intervals need; operators mailed"
            );
            mailed.push(h.host.clone());
        }
    }
    Ok(mailed)
}
