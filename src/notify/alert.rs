//! The one path by which anything is told: a draft queued in the outbox in the caller's
//! transaction (the store is the truth: the mail and the change that causes it commit
//! together), with its Message-ID in the domain of `[mail] from`, and one notification row
//! per instant-message notifier of its audience written with it.

use crate::config::Config;
use crate::rules::escalation::Audience;
use crate::store::{Draft, Store, Tx};
use crate::vocab::clock::secs;
use anyhow::Result;
use chrono::{DateTime, Utc};
use lettre::message::Mailbox;

/// Queues `draft` as it is (its recipients and notifiers already set); the outbox row's id.
pub async fn queue(
    store: &Store,
    tx: &mut Tx,
    config: &Config,
    draft: &Draft,
    now: DateTime<Utc>,
) -> Result<i64> {
    store
        .enqueue(tx, draft, secs(now), config.mail.from.email.domain())
        .await
}

/// Queues the alert `draft` writes for the addresses of `who`, and sends it to every
/// notifier of `who` too; the outbox row's id.
pub async fn alert(
    store: &Store,
    tx: &mut Tx,
    config: &Config,
    who: Audience,
    now: DateTime<Utc>,
    draft: impl FnOnce(&[Mailbox]) -> Draft,
) -> Result<i64> {
    let mut draft = draft(&who.mailboxes);
    draft.notify = who.notifiers;
    queue(store, tx, config, &draft, now).await
}
