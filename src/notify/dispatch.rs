//! The instant-message sender: drains the `notifications` rows of each notifier within its
//! rate limit, merging what is queued into digests when alerts come faster than the limit,
//! and falls back to mail when a service refuses a message for good.
//!
//! - **Never lost.** A row is claimed (a lease, like mail), the request is marked as
//!   begun, sent, and the row marked delivered, retried or failed. A crash in between
//!   leaves the row to be sent again when the lease ends, flagged `maybe_doubled`.
//! - **Rate limit.** The vendors count requests per rolling minute (and Feishu per
//!   second), so the limit is a sliding window over the requests logged in the store, not a
//!   refilling bucket: a bucket of 20 refilled at 20 a minute lets 40 through in one
//!   minute, which earns DingTalk's 10-minute penalty. The log is in the store, so a
//!   restart does not forget it.
//! - **Digests.** When more rows are due than the window has room for, they are merged
//!   into as few messages as fit the service's size limit, each listing its incidents in
//!   order; what does not fit waits for room. Nothing is dropped.
//! - **Errors.** The services answer HTTP 200 with an error code (`im::classify`). A
//!   throttle pauses the notifier for as long as the service says (DingTalk: 10 minutes);
//!   network and server errors back off like mail; a permanent refusal marks the rows
//!   failed, mails their text to the same people instead, and tells the operators once
//!   per notifier (again only after it worked in between).

use super::im::{self, Alert, Message, Outcome};
use super::{dingtalk, feishu, robot, sms, webhook, wecom};
use crate::config::notify::{Kind, Notifier};
use crate::config::Config;
use crate::store::{leases, Draft, NotificationRow, Store};
use crate::vocab::clock::secs;
use anyhow::Result;
use chrono::{DateTime, Utc};
use std::time::Duration;
use tracing::Instrument;

/// How long one drain may keep sending before it leaves the rest to the next turn.
const DRAIN_BUDGET: Duration = Duration::from_secs(20);
/// Answers nobody documents are retried this many times, then taken as a refusal.
const MOST_UNEXPECTED: i64 = 5;
/// Rows claimed at once per notifier (the rest wait for the next turn).
const CLAIM: i64 = 500;

/// Sends instant messages.
pub struct Dispatcher {
    client: reqwest::Client,
    retry_min: Duration,
    retry_max: Duration,
    lease: Duration,
}

/// What one pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Dispatched {
    /// Requests the services accepted.
    pub requests: usize,
    /// Notifications delivered (alone or in a digest).
    pub delivered: usize,
    /// Of which in digests.
    pub in_digests: usize,
    pub retried: usize,
    /// Refused for good and mailed instead.
    pub fell_back: usize,
}

/// The service's answer to a test message (`yuqing notify test`).
#[derive(Debug, Clone)]
pub struct TestResult {
    pub outcome: Outcome,
}

impl Dispatcher {
    pub fn new(config: &Config) -> Result<Dispatcher> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .connect_timeout(Duration::from_secs(5))
            .user_agent(config.daemon.user_agent.clone())
            .build()?;
        Ok(Dispatcher {
            client,
            retry_min: config.mail.retry_min.std(),
            retry_max: config.mail.retry_max.std(),
            lease: config.daemon.lease.std().max(Duration::from_secs(30)),
        })
    }

    /// Sends what is due for every notifier.
    pub async fn drain(
        &self,
        store: &Store,
        config: &Config,
        now: DateTime<Utc>,
    ) -> Result<Dispatched> {
        let mut done = Dispatched::default();
        let started = std::time::Instant::now();
        for id in store.notifiers_due(secs(now)).await? {
            let span = tracing::info_span!("notify", notifier = %id);
            self.drain_one(store, config, &id, now, &mut done)
                .instrument(span)
                .await?;
            if started.elapsed() > DRAIN_BUDGET {
                break;
            }
        }
        // The log only ever needs the last minute.
        store
            .prune_requests(now.timestamp_millis() - 120_000)
            .await?;
        Ok(done)
    }

    async fn drain_one(
        &self,
        store: &Store,
        config: &Config,
        id: &str,
        now: DateTime<Utc>,
        done: &mut Dispatched,
    ) -> Result<()> {
        let begun = std::time::Instant::now();
        let t = secs(now);
        let now_ms = now.timestamp_millis();
        let holder = leases::identity();
        let until = leases::lease_end(t, self.lease);
        let Some(n) = config.notify.get(id) else {
            // Taken out of the config with messages queued: they go by mail.
            let rows = store
                .claim_notifications(id, holder, t, until, CLAIM)
                .await?;
            let error = format!("notifier {id} is no longer in the config");
            self.fail(store, config, id, None, &rows, &error, None, t, done)
                .await?;
            return Ok(());
        };
        let state = store.notifier_state(id).await?;
        if state.blocked_until.is_some_and(|b| b > t) {
            return Ok(());
        }
        let room = self.room(store, n, now_ms).await?;
        if room == 0 {
            return Ok(());
        }
        let rows = store
            .claim_notifications(id, holder, t, until, CLAIM)
            .await?;
        if rows.is_empty() {
            return Ok(());
        }
        let alerts: Vec<Alert> = rows.iter().map(|r| alert_of(config, r, t)).collect();
        let messages = if rows.len() <= room {
            alerts.into_iter().map(Message::One).collect()
        } else {
            digests(alerts, max_bytes(n))
        };
        let mut messages = messages.into_iter();
        for msg in messages.by_ref().take(room) {
            if begun.elapsed() > DRAIN_BUDGET {
                // A slow service must not hold the loop: the rest waits for the next turn.
                store.release_notifications(&msg.ids()).await?;
                break;
            }
            let ids = msg.ids();
            let batch: Vec<&NotificationRow> =
                rows.iter().filter(|r| ids.contains(&r.id)).collect();
            // A row whose last request began and never ended may already be delivered.
            if batch.iter().any(|r| r.started_at.is_some()) {
                tracing::warn!(notifications = ?ids, "sending again after an attempt whose outcome is unknown: it may arrive twice");
            }
            store.start_request(id, &ids, t, now_ms).await?;
            // A fresh timestamp for every request (DingTalk and Feishu sign it): the loop's
            // `now` plus the time this drain has taken so far.
            let at = now + chrono::Duration::from_std(begun.elapsed()).unwrap_or_default();
            let outcome = self.send(n, &msg, at).await;
            let answer_of = |o: &Outcome| match o {
                Outcome::Delivered { answer } => Some(answer.clone()),
                Outcome::Retry { answer, .. }
                | Outcome::Permanent { answer, .. }
                | Outcome::Unexpected { answer, .. } => answer.clone(),
            };
            let answer = answer_of(&outcome);
            let attempts = batch.iter().map(|r| r.attempts).max().unwrap_or(0);
            match outcome {
                Outcome::Delivered { answer } => {
                    store.mark_notified(&ids, t, &answer).await?;
                    if state.broken_since.is_some() {
                        store.notifier_works(id).await?;
                    }
                    done.requests += 1;
                    done.delivered += ids.len();
                    if ids.len() > 1 {
                        done.in_digests += ids.len();
                    }
                    tracing::info!(
                        notifications = ids.len(),
                        digest = ids.len() > 1,
                        "instant message delivered"
                    );
                }
                Outcome::Retry {
                    error,
                    pause,
                    unknown,
                    ..
                } => {
                    let next = match pause {
                        Some(p) => {
                            store.block_notifier(id, t + p.as_secs() as i64).await?;
                            t + p.as_secs() as i64
                        }
                        None => t + (self.backoff(attempts).as_secs() as i64).max(1),
                    };
                    let doubled = unknown && n.kind.is_sms();
                    store
                        .mark_notify_retry(&ids, &error, answer.as_deref(), next, doubled)
                        .await?;
                    done.retried += ids.len();
                    tracing::warn!(%error, retry_in_s = next - t, "instant message not delivered; will retry");
                    if pause.is_some() {
                        // The service asked for a pause: nothing more to it now.
                        break;
                    }
                }
                Outcome::Unexpected { error, .. } if attempts + 1 < MOST_UNEXPECTED => {
                    let next = t + (self.backoff(attempts).as_secs() as i64).max(1);
                    store
                        .mark_notify_retry(&ids, &error, answer.as_deref(), next, false)
                        .await?;
                    done.retried += ids.len();
                    tracing::warn!(%error, "unexpected answer; will retry");
                }
                Outcome::Permanent { error, .. } | Outcome::Unexpected { error, .. } => {
                    self.fail(
                        store,
                        config,
                        id,
                        Some(n),
                        &batch_rows(&batch),
                        &error,
                        answer.as_deref(),
                        t,
                        done,
                    )
                    .await?;
                }
            }
        }
        // What did not fit the window waits, untouched, for the next turn.
        let left: Vec<i64> = messages.flat_map(|m| m.ids()).collect();
        if !left.is_empty() {
            store.release_notifications(&left).await?;
        }
        Ok(())
    }

    /// Requests the notifier may make now without going over its limit.
    async fn room(&self, store: &Store, n: &Notifier, now_ms: i64) -> Result<usize> {
        let recent = store.requests_since(&n.id, now_ms - 59_999).await?;
        let mut room = (n.limit.per_minute as usize).saturating_sub(recent.len());
        if let Some(per_second) = n.limit.per_second {
            let last_second = recent.iter().filter(|t| **t > now_ms - 1000).count();
            room = room.min((per_second as usize).saturating_sub(last_second));
        }
        Ok(room)
    }

    fn backoff(&self, attempts: i64) -> Duration {
        let factor = 2u32.saturating_pow(attempts.clamp(0, 20) as u32);
        self.retry_min.saturating_mul(factor).min(self.retry_max)
    }

    /// Marks rows failed, mails their text to the same people, tells the operators.
    #[allow(clippy::too_many_arguments)]
    async fn fail(
        &self,
        store: &Store,
        config: &Config,
        id: &str,
        n: Option<&Notifier>,
        rows: &[NotificationRow],
        error: &str,
        answer: Option<&str>,
        t: i64,
        done: &mut Dispatched,
    ) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let service = n.map(|n| n.kind.zh()).unwrap_or("即时消息");
        let fallback: Vec<Draft> = rows
            .iter()
            .filter_map(|r| fallback_mail(config, service, id, error, r))
            .collect();
        let tell = operators_notice(config, service, id, error);
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        let told = store
            .mark_notify_failed(
                id,
                &ids,
                error,
                answer,
                t,
                &fallback,
                &tell,
                &crate::notify::outbox::domain_of(&config.mail.from),
            )
            .await?;
        done.fell_back += ids.len();
        tracing::error!(%error, notifications = ids.len(), operators_told = told, "instant message refused for good; mailed instead");
        Ok(())
    }

    /// Sends one message and says what the service did with it.
    pub async fn send(&self, n: &Notifier, msg: &Message, now: DateTime<Utc>) -> Outcome {
        let url = match n.url.resolve() {
            Ok(u) => u,
            Err(e) => {
                return Outcome::Permanent {
                    error: e,
                    answer: None,
                }
            }
        };
        let secret = match &n.secret {
            None => None,
            Some(r) => match r.read() {
                Ok(s) => Some(s),
                Err(e) => {
                    return Outcome::Permanent {
                        error: e,
                        answer: None,
                    }
                }
            },
        };
        let secret = secret.as_deref();
        let req = match n.kind {
            Kind::Wecom => wecom::request(n, url, msg),
            Kind::Dingtalk => dingtalk::request(n, url, secret, msg, now.timestamp_millis()),
            Kind::Feishu => feishu::request(url, secret, msg, now.timestamp()),
            Kind::Webhook => {
                webhook::request(&n.id, &n.mention_mobiles, url, secret, msg, now.timestamp())
            }
            Kind::AliyunSms | Kind::TencentSms => match sms::request(n, url, secret, msg, now) {
                Ok(r) => r,
                Err(e) => {
                    return Outcome::Permanent {
                        error: e,
                        answer: None,
                    }
                }
            },
        };
        let mut builder = self.client.post(req.url.clone()).body(req.body);
        for (k, v) in &req.headers {
            builder = builder.header(k, v);
        }
        let response = match builder.send().await {
            Ok(r) => r,
            Err(e) => return im::network(e),
        };
        let status = response.status().as_u16();
        let body = match response.text().await {
            Ok(b) => b,
            Err(e) => return im::network(e),
        };
        match n.kind {
            Kind::Wecom | Kind::Dingtalk | Kind::Feishu => im::outcome_of(n.kind, status, &body),
            Kind::Webhook => webhook::outcome(status, &body),
            Kind::AliyunSms | Kind::TencentSms => sms::outcome(n.kind, status, &body),
        }
    }

    /// `yuqing notify test ID`: one test message, outside the outbox, and the answer.
    pub async fn test(&self, config: &Config, n: &Notifier, now: DateTime<Utc>) -> TestResult {
        let alert = Alert {
            notification_id: 0,
            incident_id: None,
            title: "【舆情·测试】yuqing 通知测试".into(),
            lines: vec![format!(
                "这是来自舆情监测系统 yuqing 的测试消息（通知通道 {}，{}）。收到即表示配置正确。",
                n.id,
                n.kind.zh()
            )],
            link: Some(config.notify.console.to_string()),
        };
        TestResult {
            outcome: self.send(n, &Message::One(alert), now).await,
        }
    }
}

fn batch_rows(batch: &[&NotificationRow]) -> Vec<NotificationRow> {
    batch.iter().map(|r| (*r).clone()).collect()
}

/// The alert of a row, with the console link of its incident. Its times left are those
/// of when it was queued, so one delivered late says by how much.
pub fn alert_of(config: &Config, r: &NotificationRow, now: i64) -> Alert {
    let mut a = im::alert(
        r.id,
        r.incident_id,
        &r.subject,
        &r.body_text,
        r.incident_id.map(|i| config.notify.incident_link(i)),
    );
    let late = now - r.created_at;
    if late >= 120 {
        let when = crate::vocab::span::zh_span(chrono::Duration::seconds(late));
        a.lines
            .push(format!("（此消息延迟 {when} 送达，剩余时间以事件页为准）"));
    }
    a
}

/// The size a notifier's message may have.
pub fn max_bytes(n: &Notifier) -> usize {
    match n.kind {
        Kind::Wecom => wecom::max_bytes(n),
        Kind::Dingtalk => dingtalk::MARKDOWN_MAX,
        Kind::Feishu => feishu::TEXT_MAX,
        Kind::Webhook => 256 * 1024,
        Kind::AliyunSms | Kind::TencentSms => usize::MAX,
    }
}

/// Alerts merged into digests, in order, each small enough for `max` bytes as markdown.
pub fn digests(alerts: Vec<Alert>, max: usize) -> Vec<Message> {
    let mut out = Vec::new();
    let mut current: Vec<Alert> = Vec::new();
    for a in alerts {
        let mut trial = current.clone();
        trial.push(a.clone());
        let msg = Message::Digest(trial);
        let size = robot::markdown(&msg).len().max(robot::plain(&msg).len());
        if size > max && !current.is_empty() {
            out.push(Message::Digest(std::mem::take(&mut current)));
        }
        current.push(a);
    }
    if !current.is_empty() {
        out.push(if current.len() == 1 {
            Message::One(current.remove(0))
        } else {
            Message::Digest(current)
        });
    }
    out
}

/// The mail that replaces an instant message the service refused, to those who did not get
/// the alert's own mail: when that mail had recipients, they have the alert already and a
/// copy would only reach their inbox twice (issue 28), so there is none (`None`); when it
/// had none (a step that reaches people only through notifiers), the duty officers get it.
fn fallback_mail(
    config: &Config,
    service: &str,
    id: &str,
    error: &str,
    r: &NotificationRow,
) -> Option<Draft> {
    // Unreadable, it cannot show that anyone got the alert: the duty officers get the copy.
    match crate::store::read_recipients(&r.recipients, r.outbox_id) {
        Ok(mailed) if !mailed.is_empty() => return None,
        Ok(_) => {}
        Err(e) => tracing::warn!(
            notification_id = r.id,
            "{e:#}; the fallback mail goes to [people] duty"
        ),
    }
    let recipients: Vec<String> = config.people.duty.iter().map(|m| m.to_string()).collect();
    if recipients.is_empty() {
        return None;
    }
    let text = format!(
        "此提醒原应通过{service}（通知通道 {id}）送达，但该通道拒收（{error}），现改以邮件发送。\n\n{}",
        r.body_text
    );
    Some(Draft {
        kind: "notify_fallback".into(),
        incident_id: r.incident_id,
        recipients,
        subject: format!("【改发邮件】{}", r.subject),
        html: html(&text),
        text,
        notify: Vec::new(),
    })
}

/// The operators' notice that a notifier refuses messages (once per notifier).
fn operators_notice(config: &Config, service: &str, id: &str, error: &str) -> Draft {
    let text = format!(
        "通知通道 {id}（{service}）拒收消息：{error}\n\n\
         拒收的提醒，已收到同一提醒邮件的人员不再重复发送；只经此通道送达的提醒已改以邮件发给值班员。在通道恢复之前，以后的提醒也都会这样处理，本通知不再重复。\n\
         请检查配置中的 [[notify]] id = \"{id}\"（地址、密钥、关键词或 IP 白名单），修正后运行：\n  \
         yuqing notify test {id}\n\n此邮件由舆情监测系统 yuqing 自动发送。"
    );
    Draft {
        kind: "notify_broken".into(),
        incident_id: None,
        recipients: config
            .people
            .operators
            .iter()
            .map(|m| m.to_string())
            .collect(),
        subject: format!("【即时消息故障】{service}通道 {id} 拒收消息"),
        html: html(&text),
        text,
        notify: config
            .people
            .notify
            .of(crate::rules::escalation::Group::Operators)
            .iter()
            .filter(|o| *o != id)
            .cloned()
            .collect(),
    }
}

fn html(text: &str) -> String {
    super::duty_mail::html_of(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(i: i64) -> Alert {
        Alert {
            notification_id: i,
            incident_id: Some(i),
            title: format!("【舆情·重大】#{i} 景区安全：某景区发生坍塌 游客被困"),
            lines: vec!["x".into()],
            link: Some(format!("http://127.0.0.1:8700/incidents/{i}")),
        }
    }

    /// The fallback mail goes to the duty officers when the alert's own mail went to nobody,
    /// and also when its recipients cannot be read: that proves no one got it.
    #[test]
    fn a_fallback_goes_to_duty_unless_the_alert_was_mailed_to_someone() {
        let config = crate::config::parse(
            std::path::Path::new("yuqing.toml"),
            "[daemon]\nwatchlists = \"w\"\n[people]\nduty = [\"duty@x.cn\"]\n",
        )
        .unwrap();
        let row = |recipients: &str| NotificationRow {
            id: 7,
            outbox_id: 3,
            notifier: "duty-ding".into(),
            incident_id: Some(1),
            created_at: 0,
            attempts: 1,
            started_at: None,
            sent_at: None,
            digest_of: None,
            failed_at: None,
            last_error: None,
            answer: None,
            maybe_doubled: 0,
            kind: "opened".into(),
            subject: "【舆情·重大】#1".into(),
            body_text: "正文".into(),
            recipients: recipients.into(),
        };
        let to = |recipients: &str| {
            fallback_mail(&config, "钉钉", "duty-ding", "310000", &row(recipients))
                .map(|d| d.recipients)
        };
        assert_eq!(to(r#"["leader@x.cn"]"#), None);
        assert_eq!(to("[]"), Some(vec!["duty@x.cn".to_string()]));
        assert_eq!(to("not json"), Some(vec!["duty@x.cn".to_string()]));
    }

    #[test]
    fn digests_keep_order_fit_the_limit_and_drop_nothing() {
        let all: Vec<Alert> = (1..=100).map(a).collect();
        let d = digests(all, wecom::MARKDOWN_MAX);
        assert!(d.len() > 1);
        let ids: Vec<i64> = d.iter().flat_map(|m| m.ids()).collect();
        assert_eq!(ids, (1..=100).collect::<Vec<_>>());
        for m in &d {
            assert!(robot::markdown(m).len() <= wecom::MARKDOWN_MAX);
        }
    }
}
