//! The sender: drains the outbox into the configured mail transport.
//!
//! A row is marked sent only after the transport accepted it. A crash between the two
//! sends the row again on restart, but with the same Message-ID (and, for the folder
//! transport, to the same file name), so a mail client shows it once. A failure is retried
//! with exponential backoff between `retry_min` and `retry_max`; nothing is dropped. A
//! message with no recipients (which the config no longer allows) is never retried: it
//! stays unsent with the reason in `last_error`.

use crate::config::{self, Tls};
use crate::store::{read_recipients, OutboxPart, OutboxRow, Store};
use crate::vocab::clock::secs;
use anyhow::{anyhow, Context, Result};
use chrono::{DateTime, Utc};
use lettre::message::{header, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::path::PathBuf;
use std::time::Duration;

/// How long one drain may keep sending before it leaves the rest to the next loop turn.
/// With one SMTP timeout on top it stays well under `/healthz`'s minimum of 60s.
const DRAIN_BUDGET: Duration = Duration::from_secs(20);
use tracing::Instrument;

enum Transport {
    Folder(PathBuf),
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
}

/// Sends queued mail through the configured transport.
pub struct Sender {
    transport: Transport,
    from: Mailbox,
    retry_min: Duration,
    retry_max: Duration,
    /// How long a claim on a message lasts (see `store::leases`): longer than one send
    /// can take, so no other daemon takes the message while this one is sending it.
    lease: Duration,
}

/// What one pass over the outbox did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Drained {
    pub sent: usize,
    pub failed: usize,
}

impl Sender {
    pub fn new(mail: &config::Mail) -> Result<Sender> {
        let transport = match &mail.transport {
            config::Transport::File { dir } => Transport::Folder(dir.clone()),
            config::Transport::Smtp(s) => {
                let builder = match s.tls {
                    Tls::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&s.host),
                    Tls::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&s.host)
                        .with_context(|| format!("cannot set up STARTTLS to {}", s.host))?,
                    Tls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&s.host)
                        .with_context(|| format!("cannot set up TLS to {}", s.host))?,
                };
                let mut builder = builder.port(s.port).timeout(Some(s.timeout.std()));
                if let Some(user) = &s.user {
                    let password = smtp_password().with_context(|| {
                        format!("[mail] smtp user = \"{user}\" needs a password")
                    })?;
                    builder = builder.credentials(Credentials::new(user.clone(), password));
                }
                Transport::Smtp(builder.build())
            }
        };
        Ok(Sender {
            transport,
            from: mail.from.clone(),
            retry_min: mail.retry_min.std(),
            retry_max: mail.retry_max.std(),
            lease: Duration::ZERO,
        })
        .map(|s| {
            let timeout = match &mail.transport {
                config::Transport::Smtp(smtp) => smtp.timeout.std(),
                config::Transport::File { .. } => Duration::from_secs(10),
            };
            s.with_lease(timeout * 2 + Duration::from_secs(5))
        })
    }

    /// Claims on messages last at least `lease` (never less than twice the SMTP timeout).
    pub fn with_lease(mut self, lease: Duration) -> Sender {
        self.lease = self.lease.max(lease);
        self
    }

    /// Where mail goes, for the start-up log line.
    pub fn describe(&self) -> String {
        match &self.transport {
            Transport::Folder(dir) => format!("folder {}", dir.display()),
            Transport::Smtp(_) => "SMTP".to_string(),
        }
    }

    /// Sends the messages that are due, until none is left or `DRAIN_BUDGET` has passed;
    /// returns how many went out and how many failed.
    ///
    /// Each message is claimed (a lease in its row, so no other daemon sends it), handed
    /// to the transport and marked sent right away: a crash between the transport's
    /// acceptance and that mark is the only way a message goes out twice, and then with
    /// the same Message-ID.
    pub async fn drain(&self, store: &Store, now: DateTime<Utc>) -> Result<Drained> {
        let mut done = Drained::default();
        self.drain_into(store, now, &mut done, &mut |_| {}).await?;
        Ok(done)
    }

    /// `drain`, counting into `done` as it goes and telling `each` of every message the
    /// moment its row says sent (`true`) or failed (`false`), so that the daemon's metrics
    /// never lag the outbox they are compared with.
    pub async fn drain_into(
        &self,
        store: &Store,
        now: DateTime<Utc>,
        done: &mut Drained,
        each: &mut (dyn FnMut(bool) + Send),
    ) -> Result<()> {
        let holder = crate::store::leases::identity();
        let until = crate::store::leases::lease_end(secs(now), self.lease);
        let started = std::time::Instant::now();
        while let Some(row) = store.claim_mail(holder, secs(now), until).await? {
            // A span entered across an await would leak into other tasks; instrument.
            let span = tracing::info_span!("mail", outbox_id = row.id, kind = %row.kind);
            // Mail to nobody can never be delivered (the config forbids it; a row queued
            // before that check): keep it unsent with the reason, but never retry it.
            if read_recipients(&row.recipients, row.id).is_ok_and(|r| r.is_empty()) {
                let error = "no recipients: fix [people]/[escalation] in the config";
                span.in_scope(|| tracing::error!(subject = %row.subject, "mail not sent, not retried: {error}"));
                store.mark_failed(row.id, error, i64::MAX).await?;
                done.failed += 1;
                each(false);
                continue;
            }
            let sent = match store.outbox_parts(row.id).await {
                Ok(parts) => self.send(&row, &parts).instrument(span.clone()).await,
                Err(e) => Err(e.context("cannot read the message's inline parts")),
            };
            match sent {
                Ok(()) => {
                    store.mark_sent(row.id, secs(now)).await?;
                    each(true);
                    span.in_scope(|| tracing::info!(subject = %row.subject, "mail sent"));
                    done.sent += 1;
                }
                Err(e) => {
                    let wait = self.backoff(row.attempts);
                    let next = secs(now) + (wait.as_secs() as i64).max(1);
                    span.in_scope(|| {
                        tracing::warn!(error = %format!("{e:#}"), retry_in_s = wait.as_secs(), "mail not sent; will retry")
                    });
                    store.mark_failed(row.id, &format!("{e:#}"), next).await?;
                    done.failed += 1;
                    each(false);
                }
            }
            // A long queue, or a relay that times out on every message, must not hold the
            // loop (and its watchdog) for long: what is left goes out on the next turns.
            if started.elapsed() > DRAIN_BUDGET {
                break;
            }
        }
        Ok(())
    }

    fn backoff(&self, attempts: i64) -> Duration {
        let factor = 2u32.saturating_pow(attempts.clamp(0, 20) as u32);
        self.retry_min.saturating_mul(factor).min(self.retry_max)
    }

    async fn send(&self, row: &OutboxRow, parts: &[OutboxPart]) -> Result<()> {
        let message = build(row, parts, &self.from)?;
        match &self.transport {
            Transport::Folder(dir) => {
                let dir = dir.clone();
                let bytes = message.formatted();
                let name = format!("{:08}.eml", row.id);
                tokio::task::spawn_blocking(move || write_atomically(&dir, &name, &bytes))
                    .await
                    .map_err(|e| anyhow!("mail writer stopped: {e}"))?
            }
            Transport::Smtp(smtp) => {
                smtp.send(message)
                    .await
                    .context("SMTP server refused or unreachable")?;
                Ok(())
            }
        }
    }
}

/// Mail that says a deadline passed or nobody acknowledged: flagged as important.
fn is_urgent(row: &OutboxRow) -> bool {
    matches!(row.kind.as_str(), "breached" | "unacknowledged") || row.subject.contains("已超时")
}

/// The message of an outbox row: multipart/alternative of the text and the HTML, threaded.
/// With inline `parts` (the briefing's charts) the HTML goes into multipart/related beside
/// them, each under its Content-ID and shown inline; the text part is the same either way.
/// Subject and bodies lose any bidi override from the web (`vocab::text::without_bidi`): a
/// title must show in the order it was written.
pub fn build(row: &OutboxRow, parts: &[OutboxPart], from: &Mailbox) -> Result<Message> {
    let shown = |s: &str| crate::vocab::text::without_bidi(s).into_owned();
    let recipients = read_recipients(&row.recipients, row.id)?;
    let mut b = Message::builder()
        .from(from.clone())
        .subject(shown(&row.subject))
        .message_id(Some(row.message_id.clone()))
        .date(std::time::UNIX_EPOCH + Duration::from_secs(row.created_at.max(0) as u64));
    for r in &recipients {
        let mailbox: Mailbox = r
            .parse()
            .with_context(|| format!("outbox row {} has an invalid recipient {r}", row.id))?;
        b = b.to(mailbox);
    }
    if let Some(root) = &row.in_reply_to {
        b = b.in_reply_to(root.clone()).references(root.clone());
    }
    if is_urgent(row) {
        // Outlook and Foxmail flag these, and sort them first when asked to.
        for (name, value) in [("Importance", "high"), ("X-Priority", "1")] {
            b = b.raw_header(header::HeaderValue::new(
                header::HeaderName::new_from_ascii_str(name),
                value.to_string(),
            ));
        }
    }
    let text = SinglePart::builder()
        .header(header::ContentType::TEXT_PLAIN)
        .body(shown(&row.body_text));
    let html = SinglePart::builder()
        .header(header::ContentType::TEXT_HTML)
        .body(shown(&row.body_html));
    let body = if parts.is_empty() {
        MultiPart::alternative().singlepart(text).singlepart(html)
    } else {
        let mut related = MultiPart::related().singlepart(html);
        for p in parts {
            let kind = header::ContentType::parse(&p.content_type).with_context(|| {
                format!(
                    "outbox row {} has a part of unknown type {}",
                    row.id, p.content_type
                )
            })?;
            related = related.singlepart(
                lettre::message::Attachment::new_inline(p.content_id.clone())
                    .body(p.bytes.clone(), kind),
            );
        }
        MultiPart::alternative().singlepart(text).multipart(related)
    };
    let body = match (&row.attachment_name, &row.attachment) {
        (Some(name), Some(text)) => MultiPart::mixed().multipart(body).singlepart(
            lettre::message::Attachment::new(name.clone()).body(
                text.clone(),
                header::ContentType::parse("text/csv; charset=utf-8")
                    .context("text/csv is a content type")?,
            ),
        ),
        _ => body,
    };
    b.multipart(body)
        .with_context(|| format!("cannot build the message of outbox row {}", row.id))
}

fn write_atomically(dir: &std::path::Path, name: &str, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create the mail folder {}", dir.display()))?;
    let tmp = dir.join(format!(".{name}.tmp"));
    let mut f =
        std::fs::File::create(&tmp).with_context(|| format!("cannot write {}", tmp.display()))?;
    f.write_all(bytes)
        .and_then(|_| f.sync_all())
        .with_context(|| format!("cannot write {} (disk full?)", tmp.display()))?;
    std::fs::rename(&tmp, dir.join(name))
        .with_context(|| format!("cannot move {} into place", tmp.display()))?;
    Ok(())
}

/// The SMTP password: `YUQING_SMTP_PASSWORD`, or the systemd credential `smtp-password`.
fn smtp_password() -> Result<String> {
    if let Ok(p) = std::env::var("YUQING_SMTP_PASSWORD") {
        return Ok(p);
    }
    if let Ok(dir) = std::env::var("CREDENTIALS_DIRECTORY") {
        let path = PathBuf::from(dir).join("smtp-password");
        if let Ok(p) = std::fs::read_to_string(&path) {
            return Ok(p.trim_end_matches(['\r', '\n']).to_string());
        }
    }
    Err(anyhow!(
        "set YUQING_SMTP_PASSWORD, or give systemd LoadCredential=smtp-password:FILE"
    ))
}

/// The domain of the sender, for Message-IDs.
pub fn domain_of(from: &Mailbox) -> String {
    from.email.domain().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Draft;

    fn row(kind: &str, subject: &str) -> OutboxRow {
        OutboxRow {
            id: 1,
            created_at: 1_000,
            incident_id: Some(7),
            kind: kind.into(),
            recipients: r#"["分管领导 <deputy@example.gov.cn>"]"#.into(),
            subject: subject.into(),
            body_text: "t".into(),
            body_html: "<p>t</p>".into(),
            message_id: "<1@example.gov.cn>".into(),
            in_reply_to: None,
            attempts: 0,
            sent_at: None,
            last_error: None,
            attachment_name: None,
            attachment: None,
        }
    }

    #[test]
    fn breaches_and_overdue_mail_are_flagged_important_and_others_are_not() {
        let from: Mailbox = "yuqing@example.gov.cn".parse().unwrap();
        let headers = |r: &OutboxRow| {
            let m = String::from_utf8(build(r, &[], &from).unwrap().formatted()).unwrap();
            m.split("\r\n\r\n").next().unwrap().to_string()
        };
        for urgent in [
            row("breached", "【舆情·超时】#7 发布权威信息时限已过"),
            row("unacknowledged", "【舆情·无人确认】#7"),
            row("regraded", "【舆情·重大·已超时】#7 级别调整为重大"),
        ] {
            let h = headers(&urgent);
            assert!(
                h.contains("Importance: high") && h.contains("X-Priority: 1"),
                "{h}"
            );
        }
        let h = headers(&row("opened", "【舆情·重大】#7 景区安全"));
        assert!(
            !h.contains("Importance") && !h.contains("X-Priority"),
            "{h}"
        );
    }

    #[tokio::test]
    async fn mail_to_nobody_is_not_retried() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("y.db").display());
        let store = Store::open(&url).await.unwrap();
        let config = crate::config::parse(
            std::path::Path::new("y.toml"),
            &format!("[mail]\ndir = \"{}\"\n", dir.path().join("mail").display()),
        )
        .unwrap();
        let sender = Sender::new(&config.mail).unwrap();
        let mut tx = store.begin().await.unwrap();
        let draft = Draft {
            kind: "opened".into(),
            incident_id: None,
            recipients: vec![],
            subject: "无收件人".into(),
            text: "t".into(),
            html: "<p>t</p>".into(),
            notify: Vec::new(),
        };
        store.enqueue(&mut tx, &draft, 1_000, "x.cn").await.unwrap();
        tx.commit().await.unwrap();
        let now = crate::vocab::clock::from_secs(1_000);
        let first = sender.drain(&store, now).await.unwrap();
        assert_eq!((first.sent, first.failed), (0, 1));
        // A year later it is still not tried again.
        let later = sender
            .drain(&store, now + chrono::Duration::days(365))
            .await
            .unwrap();
        assert_eq!((later.sent, later.failed), (0, 0));
    }
}
