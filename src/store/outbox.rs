//! The outbox: mail written in the transaction that causes it, drained by the sender.

use super::query;
use super::{Store, Tx};
use anyhow::{Context, Result};

/// A message ready to be queued: recipients as mailbox strings, bodies already rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Draft {
    pub kind: String,
    pub incident_id: Option<i64>,
    pub recipients: Vec<String>,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// Instant-message notifiers (`[[notify]]` ids) that also get this message: one
    /// `notifications` row each, queued with the mail.
    pub notify: Vec<String>,
}

/// The mailboxes of outbox row `row`'s stored `recipients` (a JSON array of strings). An
/// unreadable value is an error naming the row and the value, never "nobody": every reader
/// of the column goes through here.
pub fn read_recipients(json: &str, row: i64) -> Result<Vec<String>> {
    serde_json::from_str(json).with_context(|| {
        format!(
            "outbox row {row} has unreadable recipients `{}`",
            crate::vocab::text::bounded(json, 200)
        )
    })
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OutboxRow {
    pub id: i64,
    pub created_at: i64,
    pub incident_id: Option<i64>,
    pub kind: String,
    pub recipients: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    pub message_id: String,
    pub in_reply_to: Option<String>,
    pub attempts: i64,
    pub sent_at: Option<i64>,
    pub last_error: Option<String>,
    /// A file sent with the message (the monthly ledger CSV), name and text.
    pub attachment_name: Option<String>,
    pub attachment: Option<String>,
}

/// A part shown inside a message, not attached to it: an image the HTML refers to as
/// `cid:CONTENT_ID` (the briefing's charts). Stored in `outbox_parts`, with its row.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct OutboxPart {
    /// Without the angle brackets.
    pub content_id: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

pub(super) const COLUMNS: &str = "id, created_at, incident_id, kind, recipients, subject, \
                                  body_text, body_html, message_id, in_reply_to, attempts, \
                                  sent_at, last_error, attachment_name, attachment";

impl Store {
    /// Queues a message. Its Message-ID is fixed here, so a retry after a crash is the same
    /// message to a mail client, and all mail of one incident hangs off the incident's first
    /// message (the thread root).
    /// Rewrites the subject and text of message `id`, when no daemon has sent or claimed
    /// it yet; false otherwise (the caller then queues a new one). Its instant messages read
    /// the row when they go out, so they carry the new text too.
    pub async fn replace_unsent(&self, tx: &mut Tx, id: i64, draft: &Draft) -> Result<bool> {
        let done = query::execute(
            &mut **tx,
            "UPDATE outbox SET subject = $2, body_text = $3, body_html = $4 \
             WHERE id = $1 AND sent_at IS NULL AND lease_holder IS NULL",
            (id, &draft.subject, &draft.text, &draft.html),
        )
        .await?;
        Ok(done == 1)
    }

    pub async fn enqueue(&self, tx: &mut Tx, draft: &Draft, now: i64, domain: &str) -> Result<i64> {
        let id: i64 = query::scalar(
            &mut **tx,
            "INSERT INTO outbox (created_at, incident_id, kind, recipients, subject, body_text, \
                                 body_html, message_id, next_attempt_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, '', $1) RETURNING id",
            (
                now,
                draft.incident_id,
                &draft.kind,
                serde_json::to_string(&draft.recipients)?,
                &draft.subject,
                &draft.text,
                &draft.html,
            ),
        )
        .await?;
        let message_id = format!("<yuqing.{id}@{domain}>");
        let root: Option<(String,)> = match draft.incident_id {
            Some(incident) => {
                query::optional(
                    &mut **tx,
                    "SELECT message_id FROM outbox WHERE incident_id = $1 AND id < $2 \
                     ORDER BY id LIMIT 1",
                    (incident, id),
                )
                .await?
            }
            None => None,
        };
        query::execute(
            &mut **tx,
            "UPDATE outbox SET message_id = $2, in_reply_to = $3 WHERE id = $1",
            (id, &message_id, root.map(|(r,)| r)),
        )
        .await?;
        if !draft.notify.is_empty() {
            self.enqueue_notifications(tx, draft, id, now).await?;
            // A step that reaches people only by instant message has no mail to send; its
            // row stays as the text of the notifications (and of a mail fallback).
            if draft.recipients.is_empty() {
                query::execute(
                    &mut **tx,
                    "UPDATE outbox SET sent_at = $2, last_error = $3 WHERE id = $1",
                    (id, now, "no mail recipients: sent as instant messages only"),
                )
                .await?;
            }
        }
        Ok(id)
    }

    /// Adds `parts` to the queued message `outbox_id`, in the transaction that queued it.
    pub async fn add_outbox_parts(
        &self,
        tx: &mut Tx,
        outbox_id: i64,
        parts: &[OutboxPart],
    ) -> Result<()> {
        for (position, part) in (0i64..).zip(parts) {
            query::execute(
                &mut **tx,
                "INSERT INTO outbox_parts (outbox_id, position, content_id, content_type, bytes) \
                 VALUES ($1, $2, $3, $4, $5)",
                (
                    outbox_id,
                    position,
                    &part.content_id,
                    &part.content_type,
                    &part.bytes,
                ),
            )
            .await?;
        }
        Ok(())
    }

    /// The inline parts of a message, in the order they were added (none for most mail).
    pub async fn outbox_parts(&self, outbox_id: i64) -> Result<Vec<OutboxPart>> {
        Ok(query::all(
            self.pool(),
            "SELECT content_id, content_type, bytes FROM outbox_parts WHERE outbox_id = $1 \
             ORDER BY position",
            (outbox_id,),
        )
        .await?)
    }

    /// Messages due to be (re)sent, oldest first.
    pub async fn pending_mail(&self, now: i64, limit: i64) -> Result<Vec<OutboxRow>> {
        Ok(query::all(
            self.pool(),
            &format!(
                "SELECT {COLUMNS} FROM outbox WHERE sent_at IS NULL AND next_attempt_at <= $1 \
                 ORDER BY id LIMIT $2"
            ),
            (now, limit),
        )
        .await?)
    }

    /// One statement, not behind the write lock: between the relay's acceptance and this
    /// mark a crash sends the message again, so the mark must not wait for a poll's
    /// transaction (see `store::leases`).
    pub async fn mark_sent(&self, id: i64, now: i64) -> Result<()> {
        query::execute(
            self.pool(),
            "UPDATE outbox SET sent_at = $2, attempts = attempts + 1, last_error = NULL, \
                               lease_holder = NULL, lease_until = NULL WHERE id = $1",
            (id, now),
        )
        .await?;
        Ok(())
    }

    pub async fn mark_failed(&self, id: i64, error: &str, next_attempt: i64) -> Result<()> {
        self.write(
            "UPDATE outbox SET attempts = attempts + 1, last_error = $2, next_attempt_at = $3, \
                               lease_holder = NULL, lease_until = NULL \
             WHERE id = $1",
            (id, error, next_attempt),
        )
        .await?;
        Ok(())
    }

    /// Unsent messages and the age of the oldest, for health reports.
    pub async fn outbox_depth(&self) -> Result<(i64, Option<i64>)> {
        let (n, oldest): (i64, Option<i64>) = query::one(
            self.pool(),
            "SELECT COUNT(*), MIN(created_at) FROM outbox WHERE sent_at IS NULL",
            (),
        )
        .await?;
        Ok((n, oldest))
    }

    /// Every message, oldest first (for `yuqing mail` and tests).
    pub async fn outbox(&self) -> Result<Vec<OutboxRow>> {
        Ok(query::all(
            self.pool(),
            &format!("SELECT {COLUMNS} FROM outbox ORDER BY id"),
            (),
        )
        .await?)
    }
}
