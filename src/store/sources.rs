//! Health and HTTP validators of each source, by config id.

use super::query;
use super::Store;
use anyhow::Result;

/// What `yuqing sources` shows for one source.
#[derive(Debug, Clone, Default, sqlx::FromRow, serde::Serialize)]
pub struct SourceState {
    pub source_id: String,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub last_attempt: Option<i64>,
    pub last_success: Option<i64>,
    pub last_error: Option<String>,
    pub last_error_at: Option<i64>,
    pub failures: i64,
    pub next_poll: i64,
    pub last_count: Option<i64>,
    /// When the current run of failures began.
    pub failing_since: Option<i64>,
    /// `failing` or `empty` while the operators have been told and the source has not
    /// recovered.
    pub alert: Option<String>,
    pub alerted_at: Option<i64>,
    /// When the source last brought a new item, or (before its first) was first read.
    pub last_new_at: Option<i64>,
    /// Set while the operators have been told the source is silent (no new item for its
    /// `stale_after`); cleared when a new item comes.
    pub silent_since: Option<i64>,
    /// What the last poll that read a body had to skip or repair (malformed XML recovered,
    /// a JSON field of the wrong type); `None` when it read cleanly.
    pub last_warning: Option<String>,
    pub last_warning_at: Option<i64>,
    /// Set while the operators have been told its lag passed `max_lag`.
    pub lag_alerted_at: Option<i64>,
    /// Since when some of its items' filings are held back: a stored row this version
    /// cannot read (an incident of their topic) is in the way (`held_filings`, read with
    /// the state).
    pub held_since: Option<i64>,
    /// Why, as the latest attempt at the oldest of them said (it names the item, the topic
    /// and the incident).
    pub held_error: Option<String>,
}

impl SourceState {
    /// The source's health in one word, the same in the CLI, the console and the mail:
    /// `new` (never polled), `unreachable` (failing), `silent` (answers, but its
    /// `stale_after` passed with nothing new, or its document reads as empty), or `ok`.
    pub fn health(&self) -> &'static str {
        if self.last_attempt.is_none() && self.last_success.is_none() {
            "new"
        } else if self.failures > 0 {
            "unreachable"
        } else if self.silent_since.is_some() || self.alert.as_deref() == Some("empty") {
            "silent"
        } else {
            "ok"
        }
    }
}

/// What a successful poll records beyond its time.
#[derive(Debug, Clone, Default)]
pub struct PollSuccess<'a> {
    pub etag: Option<&'a str>,
    pub last_modified: Option<&'a str>,
    /// Entries (or, for a list page, matched elements) read; `None` for a 304.
    pub count: Option<i64>,
    /// At least one item was new.
    pub new_items: bool,
    /// `Some` when a body was read: its warning, or `None` when it read cleanly. `None`
    /// (a 304) keeps the last one.
    pub warning: Option<Option<&'a str>>,
}

const COLUMNS: &str = "source_id, etag, last_modified, last_attempt, last_success, last_error, \
                       last_error_at, failures, next_poll, last_count, failing_since, alert, \
                       alerted_at, last_new_at, silent_since, last_warning, last_warning_at, \
                       lag_alerted_at, \
                       (SELECT MIN(h.held_at) FROM held_filings h \
                        WHERE h.source_id = s.source_id) AS held_since, \
                       (SELECT h.error FROM held_filings h WHERE h.source_id = s.source_id \
                        ORDER BY h.held_at, h.item_id, h.topic_id LIMIT 1) AS held_error";

impl Store {
    /// The recorded state of a source; a source never polled has the default state (due now).
    pub async fn source_state(&self, source_id: &str) -> Result<SourceState> {
        let row: Option<SourceState> = query::optional(
            self.pool(),
            &format!("SELECT {COLUMNS} FROM source_state s WHERE source_id = $1"),
            (source_id,),
        )
        .await?;
        Ok(row.unwrap_or_else(|| SourceState {
            source_id: source_id.to_string(),
            ..SourceState::default()
        }))
    }

    pub async fn source_states(&self) -> Result<Vec<SourceState>> {
        Ok(query::all(
            self.pool(),
            &format!("SELECT {COLUMNS} FROM source_state s ORDER BY source_id"),
            (),
        )
        .await?)
    }

    /// Records a successful poll: new validators, item count, whether anything was new, what
    /// had to be repaired, and when to poll next.
    pub async fn record_poll_success(
        &self,
        source_id: &str,
        now: i64,
        polled: &PollSuccess<'_>,
        next_poll: i64,
    ) -> Result<()> {
        let (set_warning, warning) = match polled.warning {
            Some(w) => (1i64, w),
            None => (0i64, None),
        };
        self.write(
            "INSERT INTO source_state (source_id, etag, last_modified, last_attempt, last_success, \
                                       failures, next_poll, last_count, last_new_at, \
                                       last_warning, last_warning_at) \
             VALUES ($1, $2, $3, $4, $4, 0, $5, $6, $4, $8, CASE WHEN $8 IS NULL THEN NULL ELSE $4 END) \
             ON CONFLICT (source_id) DO UPDATE SET \
                etag = COALESCE($2, source_state.etag), \
                last_modified = COALESCE($3, source_state.last_modified), \
                last_attempt = $4, last_success = $4, failures = 0, failing_since = NULL, \
                next_poll = $5, \
                last_count = COALESCE($6, source_state.last_count), \
                last_new_at = CASE WHEN $7 = 1 THEN $4 \
                                   ELSE COALESCE(source_state.last_new_at, $4) END, \
                last_warning = CASE WHEN $9 = 1 THEN $8 ELSE source_state.last_warning END, \
                last_warning_at = CASE WHEN $9 = 1 AND $8 IS NOT NULL THEN $4 \
                                       WHEN $9 = 1 THEN NULL \
                                       ELSE source_state.last_warning_at END",
            (
                source_id,
                polled.etag,
                polled.last_modified,
                now,
                next_poll,
                polled.count,
                i64::from(polled.new_items),
                warning,
                set_warning,
            ),
        )
        .await?;
        Ok(())
    }

    /// Marks the source silent (the operators were told) or, with `None`, speaking again,
    /// in the transaction that queues that mail.
    pub async fn set_source_silent(
        &self,
        tx: &mut super::Tx,
        source_id: &str,
        since: Option<i64>,
    ) -> Result<()> {
        query::execute(
            &mut **tx,
            "INSERT INTO source_state (source_id, silent_since) VALUES ($1, $2) \
             ON CONFLICT (source_id) DO UPDATE SET silent_since = $2",
            (source_id, since),
        )
        .await?;
        Ok(())
    }

    /// Makes the store agree with the configured URL of each source and own channel
    /// (`(id, url)`): one whose recorded URL differs forgets its state (failures, last
    /// error, validators, back-off, alerts) and is due now, as a new source is; the others
    /// record their URL. Returns the ids that started fresh.
    pub async fn sync_source_urls(&self, current: &[(&str, &str)]) -> Result<Vec<String>> {
        // Read once and write only what differs: a restart with nothing changed writes
        // nothing, however many sources there are.
        let known: Vec<(String, Option<String>)> =
            query::all(self.pool(), "SELECT source_id, url FROM source_state", ()).await?;
        let known: std::collections::HashMap<String, Option<String>> = known.into_iter().collect();
        let changed: Vec<&(&str, &str)> = current
            .iter()
            .filter(|(id, url)| known.get(*id).is_none_or(|u| u.as_deref() != Some(*url)))
            .collect();
        if changed.is_empty() {
            return Ok(Vec::new());
        }
        let mut moved = Vec::new();
        let mut tx = self.begin().await?;
        for (id, url) in changed {
            let forgotten = query::execute(
                &mut *tx,
                "DELETE FROM source_state WHERE source_id = $1 AND url IS NOT NULL AND url <> $2",
                (*id, *url),
            )
            .await?;
            if forgotten > 0 {
                moved.push(id.to_string());
            }
            query::execute(
                &mut *tx,
                "INSERT INTO source_state (source_id, url, failures, next_poll) VALUES ($1, $2, 0, 0) \
                 ON CONFLICT (source_id) DO UPDATE SET url = $2",
                (*id, *url),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(moved)
    }

    /// Records (`Some(now)`) or clears the operators' lag alert of a source, in the
    /// transaction that queues its mail.
    pub async fn set_lag_alert(
        &self,
        tx: &mut super::Tx,
        source_id: &str,
        at: Option<i64>,
    ) -> Result<()> {
        query::execute(
            &mut **tx,
            "UPDATE source_state SET lag_alerted_at = $2 WHERE source_id = $1",
            (source_id, at),
        )
        .await?;
        Ok(())
    }

    /// How many items the source first carried (its own, and those another source carried
    /// first) in the quarter hour, the hour and the day before `now`: what `every = "auto"`
    /// polls by.
    pub async fn recent_item_counts(
        &self,
        source_id: &str,
        now: i64,
    ) -> Result<crate::rules::cadence::Recent> {
        let (quarter, hour, day): (i64, i64, i64) = query::one(
            self.pool(),
            "SELECT COUNT(CASE WHEN at >= $4 THEN 1 END), COUNT(CASE WHEN at >= $2 THEN 1 END), \
                    COUNT(*) FROM (\
               SELECT fetched_at AS at FROM items WHERE source_id = $1 AND fetched_at >= $3 \
               UNION ALL SELECT seen_at FROM item_sightings WHERE source_id = $1 AND seen_at >= $3\
             ) t",
            (source_id, now - 3_600, now - 86_400, now - 900),
        )
        .await?;
        Ok(crate::rules::cadence::Recent {
            quarter: quarter.max(0) as u64,
            hour: hour.max(0) as u64,
            day: day.max(0) as u64,
        })
    }

    /// One source's lag over the items first seen since `since`.
    pub async fn source_lag(
        &self,
        source_id: &str,
        since: i64,
    ) -> Result<Option<crate::rules::lag::Lag>> {
        let lags: Vec<i64> = query::scalars(
            self.pool(),
            "SELECT fetched_at - published_at FROM items \
             WHERE source_id = $1 AND fetched_at >= $2 AND published_at IS NOT NULL \
             UNION ALL SELECT seen_at - published_at FROM item_sightings \
             WHERE source_id = $1 AND seen_at >= $2 AND published_at IS NOT NULL",
            (source_id, since),
        )
        .await?;
        Ok(crate::rules::lag::Lag::of(lags))
    }

    /// Sets only when to poll the source again: a poll that the database, not the source,
    /// failed leaves the source's health (failures, last error) as it was.
    pub async fn defer_poll(&self, source_id: &str, now: i64, next_poll: i64) -> Result<()> {
        self.write(
            "INSERT INTO source_state (source_id, last_attempt, failures, next_poll) \
             VALUES ($1, $2, 0, $3) \
             ON CONFLICT (source_id) DO UPDATE SET last_attempt = $2, next_poll = $3",
            (source_id, now, next_poll),
        )
        .await?;
        Ok(())
    }

    /// Records a failed poll and when to try again; returns the failures in a row.
    pub async fn record_poll_failure(
        &self,
        source_id: &str,
        now: i64,
        error: &str,
        next_poll: i64,
    ) -> Result<i64> {
        let mut tx = self.begin().await?;
        let failures: i64 = query::scalar(
            &mut *tx,
            "INSERT INTO source_state (source_id, last_attempt, last_error, last_error_at, \
                                       failures, failing_since, next_poll) \
             VALUES ($1, $2, $3, $2, 1, $2, $4) \
             ON CONFLICT (source_id) DO UPDATE SET \
                last_attempt = $2, last_error = $3, last_error_at = $2, \
                failures = source_state.failures + 1, \
                failing_since = COALESCE(source_state.failing_since, $2), next_poll = $4 \
             RETURNING failures",
            (source_id, now, error, next_poll),
        )
        .await?;
        tx.commit().await?;
        Ok(failures)
    }

    /// Sets (or, with `None`, clears) the alert the operators were mailed about, in the
    /// transaction that queues that mail.
    pub async fn set_source_alert(
        &self,
        tx: &mut super::Tx,
        source_id: &str,
        alert: Option<&str>,
        now: i64,
    ) -> Result<()> {
        query::execute(
            &mut **tx,
            "INSERT INTO source_state (source_id, alert, alerted_at) VALUES ($1, $2, $3) \
             ON CONFLICT (source_id) DO UPDATE SET alert = $2, alerted_at = $3",
            (source_id, alert, now),
        )
        .await?;
        Ok(())
    }

    /// The hosts the operators were told cannot keep up, with the settings they were told
    /// about (`host_alerts`, migration 0018).
    pub async fn host_alerts(&self) -> Result<Vec<(String, String)>> {
        Ok(query::all(
            self.pool(),
            "SELECT host, settings FROM host_alerts ORDER BY host",
            (),
        )
        .await?)
    }

    /// Records, in the transaction that queues the mail, that the operators are told about
    /// `host` under `settings`; false when the row says so already (another daemon was
    /// first), and then no mail is queued.
    pub async fn set_host_alert(
        &self,
        tx: &mut super::Tx,
        host: &str,
        settings: &str,
        now: i64,
    ) -> Result<bool> {
        let done = query::execute(
            &mut **tx,
            "INSERT INTO host_alerts (host, settings, mailed_at) VALUES ($1, $2, $3) \
             ON CONFLICT (host) DO UPDATE SET settings = $2, mailed_at = $3 \
             WHERE host_alerts.settings <> $2",
            (host, settings, now),
        )
        .await?;
        Ok(done == 1)
    }

    /// Forgets what the operators were told about `host`: its sources fit again, and a
    /// later overload is news.
    pub async fn clear_host_alert(&self, host: &str) -> Result<()> {
        self.write("DELETE FROM host_alerts WHERE host = $1", (host,))
            .await?;
        Ok(())
    }
}
