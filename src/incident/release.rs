//! The authoritative release, detected: a new post on one of the agency's own channels
//! that matches an incident still awaiting its release (or response) is proposed to the
//! duty officer as that release, or recorded at once when `[deadlines]
//! auto_confirm_release` is set.
//!
//! A post matches an incident when
//! - the classifier puts it under the incident's topic by the topic's own rules, its
//!   `sources` restriction included: a topic limited to some sources takes a post only from
//!   a channel it lists (issue 28: an own-site post on 强制购物 matched the 12345 topic
//!   `netizen-messages`, restricted to the messages board, by one word, and was offered as
//!   the reply to a noise complaint),
//! - it counts (published, else first seen) at or after the incident's clock start, and
//! - the incident is the only active one of that topic owing a release, response or
//!   working-day obligation, or else the one most like the post (MinHash over title and
//!   text, as `grouping` does for items) with at least `[grouping] similarity`.
//!
//! Posts are looked at when they are first seen, and again when an incident opens (the
//! agency may have published before the opinion was detected). The candidate, the record
//! (留痕) and the mail are one transaction, so a post is proposed once per incident, also
//! across restarts and when polled again.

use crate::classify::grouping::ItemSignature;
use crate::config::settings::Settings;
use crate::config::Channel;
use crate::incident::{self, Ctx, Step};
use crate::notify::alert::queue;
use crate::notify::mail;
use crate::store::{IncidentRow, PostRow, Store};
use crate::vocab::action::{own_channel_actor, ActionKind};
use crate::vocab::clock::{from_secs, secs};
use crate::vocab::ids::IncidentId;
use anyhow::Result;
use chrono::{DateTime, Utc};

/// Looks at the new posts `post_ids` of `channel` for releases of active incidents;
/// returns how many candidates were recorded.
pub async fn detect(
    store: &Store,
    settings: &Settings,
    channel: &Channel,
    post_ids: &[i64],
    now: DateTime<Utc>,
) -> Result<usize> {
    let ctx = Ctx {
        store,
        config: &settings.config,
        now,
    };
    let posts = store.posts_by_id(post_ids).await?;
    let mut found = 0;
    let mut active: Option<Vec<IncidentRow>> = None;
    for post in &posts {
        let text = format!("{}\n{}", post.title, post.summary);
        let matched = settings.classifier.classify(&text, Some(&channel.id));
        if matched.topics.is_empty() {
            continue;
        }
        if active.is_none() {
            // One this version cannot read is named in the log and matches no post: the
            // others still take their releases.
            let (readable, unreadable) = store.readable_incidents(false).await?;
            for (id, why) in unreadable {
                tracing::error!(incident_id = id.0, error = %why, "an incident this version cannot read is left out of release matching");
            }
            active = Some(readable);
        }
        let incidents = active.as_deref().unwrap_or_default();
        for topic in &matched.topics {
            let Some((incident, similarity)) =
                best_incident(ctx, incidents, &topic.id, post).await?
            else {
                continue;
            };
            if propose(ctx, channel, incident, post, similarity).await? {
                found += 1;
            }
        }
    }
    Ok(found)
}

/// Called after a poll opened the incidents `opened`: the own posts since the earliest of
/// their clock starts are looked at again, now that there is an incident they may answer.
pub async fn after_opened(
    store: &Store,
    settings: &Settings,
    opened: &[IncidentId],
    now: DateTime<Utc>,
) -> Result<usize> {
    if opened.is_empty() || settings.config.channels.is_empty() {
        return Ok(0);
    }
    let mut since = i64::MAX;
    for id in opened {
        if let Some(i) = store.incident(store.pool(), *id).await? {
            since = since.min(i.clock_start);
        }
    }
    let posts = store.posts_since(None, since).await?;
    let mut found = 0;
    for channel in &settings.config.channels {
        let ids: Vec<i64> = posts
            .iter()
            .filter(|p| p.channel_id == channel.id)
            .map(|p| p.id)
            .collect();
        if !ids.is_empty() {
            found += detect(store, settings, channel, &ids, now).await?;
        }
    }
    Ok(found)
}

/// The incident of `topic` that `post` most likely answers, with its similarity.
async fn best_incident<'a>(
    ctx: Ctx<'_>,
    incidents: &'a [IncidentRow],
    topic: &str,
    post: &PostRow,
) -> Result<Option<(&'a IncidentRow, f64)>> {
    let store = ctx.store;
    let sig = ItemSignature::of(&post.title, &post.summary);
    let mut awaiting = Vec::new();
    for i in incidents
        .iter()
        .filter(|i| i.topic_id == topic && i.clock_start <= post.at())
    {
        let deadlines = store.deadlines_of(store.pool(), i.id).await?;
        let owes = deadlines.iter().any(|d| {
            incident::RELEASE_MEETS.contains(&d.kind)
                && d.met_at.is_none()
                && d.cancelled_at.is_none()
        });
        if owes {
            let items = store.incident_items(store.pool(), i.id).await?;
            let score = items
                .iter()
                .map(|it| ItemSignature::of(&it.title, &it.summary).similarity(&sig))
                .fold(0.0, f64::max);
            awaiting.push((i, score));
        }
    }
    Ok(match awaiting.len() {
        0 => None,
        1 => awaiting.pop(),
        _ => awaiting
            .into_iter()
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .filter(|(_, score)| *score >= ctx.config.grouping.similarity),
    })
}

/// Records `post` as a candidate release of `incident` and mails the duty officer (or,
/// with `auto_confirm_release`, records the release); false when it was proposed before.
async fn propose(
    ctx: Ctx<'_>,
    channel: &Channel,
    incident: &IncidentRow,
    post: &PostRow,
    similarity: f64,
) -> Result<bool> {
    let Ctx { store, config, now } = ctx;
    let t = secs(now);
    let mut tx = store.begin().await?;
    if store
        .insert_release_candidate(&mut tx, incident.id, post, similarity, t)
        .await?
        .is_none()
    {
        return Ok(false);
    }
    let url = post.link.clone().unwrap_or_else(|| channel.url.to_string());
    let found = format!("{} 《{}》 {url}", channel.name, post.title);
    incident::record_own(
        ctx,
        &mut tx,
        incident.id,
        ActionKind::ReleaseCandidate,
        &found,
    )
    .await?;
    let auto = config.deadlines.auto_confirm_release;
    if auto {
        let step = Step::Release {
            url: url.clone(),
            at: Some(from_secs(post.at()).min(now)),
        };
        let by = own_channel_actor(&channel.id);
        incident::act_in(ctx, &mut tx, incident.id, &step, &by)
            .await
            .map_err(|e| anyhow::anyhow!(e))?;
    }
    let snap = incident::Snapshot::read(ctx, &mut tx, incident.id).await?;
    let draft =
        mail::release_candidate(&snap.view(), &channel.name, post, auto, &config.people.duty);
    queue(store, &mut tx, config, &draft, now).await?;
    tx.commit().await?;
    tracing::info!(
        incident_id = incident.id.0,
        channel_id = %channel.id,
        post = %post.title,
        similarity,
        recorded = auto,
        "own post looks like the incident's authoritative release"
    );
    Ok(true)
}
