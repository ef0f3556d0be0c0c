//! Posts on the agency's own channels, the duty mail already sent, and the last run of each
//! scheduled job.

use super::query::{self, Params};
use super::{Store, Tx};
use anyhow::Result;

/// One post on an own channel.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct PostRow {
    pub id: i64,
    pub channel_id: String,
    pub guid: String,
    pub title: String,
    /// The post's text as the feed or page gives it (for matching an incident's topic).
    pub summary: String,
    pub link: Option<String>,
    pub published_at: Option<i64>,
    pub first_seen: i64,
}

impl PostRow {
    /// The time the post counts at: published, else first seen.
    pub fn at(&self) -> i64 {
        self.published_at.unwrap_or(self.first_seen)
    }
}

/// A post to store.
pub struct NewPost<'a> {
    pub channel_id: &'a str,
    pub guid: &'a str,
    pub title: &'a str,
    pub summary: &'a str,
    pub link: Option<&'a str>,
    pub published_at: Option<i64>,
}

/// What the owner was last told about one channel's duty.
#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct DutyAlert {
    pub channel_id: String,
    pub mailed_state: Option<String>,
    pub at_risk_key: Option<String>,
    pub missed_key: Option<String>,
}

const POST: &str = "id, channel_id, guid, title, summary, link, published_at, first_seen";

impl Store {
    /// Stores a post; returns its id when it was not known before.
    pub async fn insert_post(&self, tx: &mut Tx, p: &NewPost<'_>, now: i64) -> Result<Option<i64>> {
        Ok(query::optional_scalar(
            &mut **tx,
            "INSERT INTO channel_posts (channel_id, guid, title, summary, link, published_at, \
                                        first_seen) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (channel_id, guid) DO NOTHING RETURNING id",
            (
                p.channel_id,
                p.guid,
                p.title,
                p.summary,
                p.link,
                p.published_at,
                now,
            ),
        )
        .await?)
    }

    /// Posts of one channel (or all) that count at or after `since` (published, else first
    /// seen), oldest first. The hook for "was there an authoritative release after T".
    pub async fn posts_since(&self, channel: Option<&str>, since: i64) -> Result<Vec<PostRow>> {
        let filter = if channel.is_some() {
            "AND channel_id = $2"
        } else {
            ""
        };
        let sql = format!(
            "SELECT {POST} FROM channel_posts \
             WHERE COALESCE(published_at, first_seen) >= $1 {filter} \
             ORDER BY COALESCE(published_at, first_seen), id"
        );
        // `$2` only with a channel.
        let params = (since,).then(Vec::from_iter(channel));
        Ok(query::all(self.pool(), &sql, params).await?)
    }

    /// The times the posts of `channel` count at, from `since` up to `until`, plus the
    /// latest before `since` (so that the last post is known however long ago it was):
    /// what the duty arithmetic needs, without reading a channel's whole history.
    pub async fn post_times(&self, channel: &str, since: i64, until: i64) -> Result<Vec<i64>> {
        let mut times: Vec<i64> = query::scalars(
            self.pool(),
            "SELECT COALESCE(published_at, first_seen) FROM channel_posts \
             WHERE channel_id = $1 AND COALESCE(published_at, first_seen) >= $2 \
               AND COALESCE(published_at, first_seen) <= $3",
            (channel, since, until),
        )
        .await?;
        let before: Option<i64> = query::scalar(
            self.pool(),
            "SELECT MAX(COALESCE(published_at, first_seen)) FROM channel_posts \
             WHERE channel_id = $1 AND COALESCE(published_at, first_seen) < $2",
            (channel, since),
        )
        .await?;
        times.extend(before);
        Ok(times)
    }

    pub async fn duty_alert(&self, channel: &str) -> Result<DutyAlert> {
        let row: Option<DutyAlert> = query::optional(
            self.pool(),
            "SELECT channel_id, mailed_state, at_risk_key, missed_key FROM duty_alerts \
             WHERE channel_id = $1",
            (channel,),
        )
        .await?;
        Ok(row.unwrap_or_else(|| DutyAlert {
            channel_id: channel.to_string(),
            ..DutyAlert::default()
        }))
    }

    /// Records what was mailed about a channel's duty, in the transaction that queues it.
    /// Fails (returns false) when another writer changed the row since `before` was read,
    /// so two daemons never both mail.
    pub async fn set_duty_alert(
        &self,
        tx: &mut Tx,
        before: &DutyAlert,
        after: &DutyAlert,
        now: i64,
    ) -> Result<bool> {
        query::execute(
            &mut **tx,
            "INSERT INTO duty_alerts (channel_id, mailed_state, at_risk_key, missed_key, updated_at) \
             VALUES ($1, NULL, NULL, NULL, $2) ON CONFLICT (channel_id) DO NOTHING",
            (&after.channel_id, now),
        )
        .await?;
        let done = query::execute(
            &mut **tx,
            "UPDATE duty_alerts SET mailed_state = $2, at_risk_key = $3, missed_key = $4, \
                                    updated_at = $5 \
             WHERE channel_id = $1 \
               AND COALESCE(mailed_state, '') = $6 AND COALESCE(at_risk_key, '') = $7 \
               AND COALESCE(missed_key, '') = $8",
            (
                &after.channel_id,
                &after.mailed_state,
                &after.at_risk_key,
                &after.missed_key,
                now,
                before.mailed_state.as_deref().unwrap_or(""),
                before.at_risk_key.as_deref().unwrap_or(""),
                before.missed_key.as_deref().unwrap_or(""),
            ),
        )
        .await?;
        Ok(done == 1)
    }

    /// The scheduled time `job` last ran for, if it ever did.
    pub async fn job_last_run(&self, job: &str) -> Result<Option<i64>> {
        Ok(query::optional_scalar(
            self.pool(),
            "SELECT last_run FROM job_runs WHERE job = $1",
            (job,),
        )
        .await?)
    }

    /// Moves `job`'s last run from `before` to `run`, in the transaction that queues its
    /// mail; false when another writer moved it first (the job then is not run twice).
    pub async fn set_job_run(
        &self,
        tx: &mut Tx,
        job: &str,
        before: Option<i64>,
        run: i64,
    ) -> Result<bool> {
        let done = match before {
            None => {
                query::execute(
                    &mut **tx,
                    "INSERT INTO job_runs (job, last_run) VALUES ($1, $2) \
                     ON CONFLICT (job) DO NOTHING",
                    (job, run),
                )
                .await?
            }
            Some(b) => {
                query::execute(
                    &mut **tx,
                    "UPDATE job_runs SET last_run = $3 WHERE job = $1 AND last_run = $2",
                    (job, b, run),
                )
                .await?
            }
        };
        Ok(done == 1)
    }

    /// Attaches a text file (e.g. the monthly ledger CSV) to a queued message.
    pub async fn set_attachment(
        &self,
        tx: &mut Tx,
        outbox_id: i64,
        name: &str,
        text: &str,
    ) -> Result<()> {
        query::execute(
            &mut **tx,
            "UPDATE outbox SET attachment_name = $2, attachment = $3 WHERE id = $1",
            (outbox_id, name, text),
        )
        .await?;
        Ok(())
    }
}
