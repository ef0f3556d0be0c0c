//! Reading the agency's own channels: each is fetched and parsed like a source of its kind
//! (feed or HTML list page, conditional GET, charset, politeness, health and operator
//! mail are the poll's, see `polling::poll`), but what it lists is stored as
//! posts (`channel_posts`), never as monitored items: the agency's own posts open no
//! incident. The duties on those posts are `duty` (pure) and `obligations` (mail).

use super::{content_hash, Poll, PollError, Report, Target};
use crate::config::settings::Settings;
use crate::config::Channel;
use crate::fetch::feed::Entry;
use crate::fetch::Fetcher;
use crate::store::{Draft, NewPost, Store, Tx};
use crate::vocab::clock::{secs, Clock};
use anyhow::Result;
use chrono::{DateTime, Utc};

/// Polls one channel once and records its health as a source's.
#[tracing::instrument(name = "poll_channel", skip_all, fields(channel_id = %channel.id))]
pub async fn poll(
    store: &Store,
    fetcher: &Fetcher,
    settings: &Settings,
    channel: &Channel,
    clock: &dyn Clock,
) -> Result<Report, PollError> {
    let as_source = channel.as_source();
    let mut posts = Posts {
        channel,
        new: Vec::new(),
    };
    super::poll(store, fetcher, settings, &as_source, clock, &mut posts).await
}

/// A channel's entries as its posts; the new ones (`new`, their ids) are looked at for an
/// authoritative release once all are stored.
pub(crate) struct Posts<'a> {
    channel: &'a Channel,
    new: Vec<i64>,
}

impl Target for Posts<'_> {
    async fn store(&mut self, poll: &Poll<'_>, chunk: &[Entry], report: &mut Report) -> Result<()> {
        let Poll {
            store, source, now, ..
        } = *poll;
        let mut tx = store.begin().await?;
        for entry in chunk {
            if let Some(id) = store_post(store, &mut tx, &source.id, entry, now).await? {
                report.new += 1;
                self.new.push(id);
            }
        }
        tx.commit().await?;
        Ok(())
    }

    async fn committed(&mut self, poll: &Poll<'_>, _report: &Report) {
        after_new_posts(poll.store, poll.settings, self.channel, &self.new, poll.now).await
    }

    /// While a channel cannot be read, nobody can tell whether it posts as it must.
    fn health_mail(&self, draft: Draft) -> Draft {
        crate::notify::duty_mail::as_channel_health(draft)
    }
}

/// Stores one listed entry as a post of `channel_id`; its id when new.
pub(crate) async fn store_post(
    store: &Store,
    tx: &mut Tx,
    channel_id: &str,
    entry: &Entry,
    now: DateTime<Utc>,
) -> Result<Option<i64>> {
    let guid = entry
        .guid
        .clone()
        .or_else(|| entry.link.clone())
        .unwrap_or_else(|| content_hash(entry));
    // A post dated in the future (a wrong clock or time zone on the site) counts when seen.
    let published = entry.published.filter(|p| *p <= now).map(secs);
    store
        .insert_post(
            tx,
            &NewPost {
                channel_id,
                guid: &guid,
                title: &entry.title,
                summary: &entry.summary,
                link: entry.link.as_deref(),
                published_at: published,
            },
            secs(now),
        )
        .await
}

/// Called after new posts of `channel` were committed (ids in `posts`): looks for a
/// candidate authoritative release of an active incident (see `release`). A failure is
/// logged; the posts are stored either way.
pub(crate) async fn after_new_posts(
    store: &Store,
    settings: &Settings,
    channel: &Channel,
    posts: &[i64],
    now: DateTime<Utc>,
) {
    if posts.is_empty() {
        return;
    }
    tracing::info!(channel_id = %channel.id, new_posts = posts.len(), "new posts on own channel");
    if let Err(e) = crate::incident::release::detect(store, settings, channel, posts, now).await {
        tracing::error!(
            channel_id = %channel.id,
            error = %format!("{e:#}"),
            "cannot look for an authoritative release among the new posts"
        );
    }
}
