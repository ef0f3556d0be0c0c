//! Candidate authoritative releases: own-channel posts that match an active incident.

use super::query;
use super::{PostRow, Store, Tx};
use crate::vocab::ids::IncidentId;
use anyhow::Result;

/// A post found to match an incident, waiting for (or given) the duty officer's word.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct ReleaseCandidate {
    pub id: i64,
    pub incident_id: i64,
    pub post_id: i64,
    pub channel_id: String,
    pub title: String,
    pub link: Option<String>,
    /// When the post counts as published: its own date, else when it was first seen.
    pub posted_at: i64,
    pub similarity: f64,
    pub found_at: i64,
    /// `candidate`, `confirmed` or `superseded` (another release was recorded).
    pub status: String,
}

const CANDIDATE: &str = "id, incident_id, post_id, channel_id, title, link, posted_at, \
                         similarity, found_at, status";

impl Store {
    /// Posts by id, in id order.
    pub async fn posts_by_id(&self, ids: &[i64]) -> Result<Vec<PostRow>> {
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let row: Option<PostRow> = query::optional(
                self.pool(),
                "SELECT id, channel_id, guid, title, summary, link, published_at, first_seen \
                 FROM channel_posts WHERE id = $1",
                (id,),
            )
            .await?;
            out.extend(row);
        }
        Ok(out)
    }

    /// Records `post` as a candidate release of `incident`; its id, or `None` when it was
    /// already recorded (a post is proposed once per incident).
    pub async fn insert_release_candidate(
        &self,
        tx: &mut Tx,
        incident: IncidentId,
        post: &PostRow,
        similarity: f64,
        now: i64,
    ) -> Result<Option<i64>> {
        Ok(query::optional_scalar(
            &mut **tx,
            "INSERT INTO release_candidates \
               (incident_id, post_id, channel_id, title, link, posted_at, similarity, found_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (incident_id, post_id) DO NOTHING RETURNING id",
            (
                incident,
                post.id,
                &post.channel_id,
                &post.title,
                &post.link,
                post.at(),
                similarity,
                now,
            ),
        )
        .await?)
    }

    /// The candidates of `incident`, oldest post first.
    pub async fn release_candidates<'c>(
        &self,
        conn: impl sqlx::Executor<'c, Database = sqlx::Any>,
        incident: IncidentId,
    ) -> Result<Vec<ReleaseCandidate>> {
        Ok(query::all(
            conn,
            &format!(
                "SELECT {CANDIDATE} FROM release_candidates WHERE incident_id = $1 \
                 ORDER BY posted_at, id"
            ),
            (incident,),
        )
        .await?)
    }

    /// Settles the open candidates of `incident` once its release is recorded: the one
    /// with `link` (if any) is confirmed, the rest superseded.
    pub async fn settle_release_candidates(
        &self,
        tx: &mut Tx,
        incident: IncidentId,
        link: Option<&str>,
    ) -> Result<()> {
        query::execute(
            &mut **tx,
            "UPDATE release_candidates \
             SET status = CASE WHEN link = $2 THEN 'confirmed' ELSE 'superseded' END \
             WHERE incident_id = $1 AND status = 'candidate'",
            (incident, link),
        )
        .await?;
        Ok(())
    }
}
