//! A plain webhook for other systems: the alert as JSON, POSTed with an `Idempotency-Key`
//! header (draft-ietf-httpapi-idempotency-key-header) that stays the same when the same
//! notifications are sent again after a failure or a crash, so a receiver can drop the
//! repeat. With a `secret`, `X-Yuqing-Timestamp` (seconds) and `X-Yuqing-Signature:
//! sha256=HEX(HMAC-SHA256(secret, timestamp + "." + body))` let it check the sender.
//!
//! Any 2xx is delivered, and so is 409 (the receiver already has this key); 408, 429 and
//! 5xx are retried; another 4xx is refused for good.

use super::im::{Message, Outcome};
use super::robot::{self, Request};
use serde_json::json;

/// Stable for a given set of notifications.
pub fn idempotency_key(notifier: &str, ids: &[i64]) -> String {
    use sha2::Digest;
    let joined: Vec<String> = ids.iter().map(|i| i.to_string()).collect();
    let digest = sha2::Sha256::digest(format!("{notifier}:{}", joined.join(",")).as_bytes());
    format!("yuqing-{}", &hex::encode(digest)[..32])
}

pub fn request(
    notifier: &str,
    mention_mobiles: &[String],
    url: url::Url,
    secret: Option<&str>,
    msg: &Message,
    now_s: i64,
) -> Request {
    let key = idempotency_key(notifier, &msg.ids());
    let alerts: Vec<serde_json::Value> = msg
        .alerts()
        .iter()
        .map(|a| {
            json!({
                "notification_id": a.notification_id,
                "incident_id": a.incident_id,
                "title": a.title,
                "lines": a.lines,
                "link": a.link,
            })
        })
        .collect();
    let body = json!({
        "source": "yuqing",
        "notifier": notifier,
        "idempotency_key": key,
        "digest": matches!(msg, Message::Digest(_)),
        "title": msg.title(),
        "alerts": alerts,
        "mention_mobiles": mention_mobiles,
    });
    let mut req = Request::json(url, &body);
    req.headers.push(("Idempotency-Key".into(), key));
    if let Some(secret) = secret {
        let signed = format!("{now_s}.{}", req.body);
        let sig = hex::encode(robot::hmac_sha256(secret.as_bytes(), signed.as_bytes()));
        req.headers
            .push(("X-Yuqing-Timestamp".into(), now_s.to_string()));
        req.headers
            .push(("X-Yuqing-Signature".into(), format!("sha256={sig}")));
    }
    req
}

pub fn outcome(status: u16, body: &str) -> Outcome {
    let said = format!("HTTP {status} {}", super::im::truncate(body, 500));
    let answer = Some(said.clone());
    match status {
        200..=299 | 409 => Outcome::Delivered { answer: said },
        408 | 429 | 500..=599 => Outcome::Retry {
            error: format!("webhook HTTP {status}"),
            answer,
            pause: None,
            unknown: status >= 500,
        },
        _ => Outcome::Permanent {
            error: format!("webhook HTTP {status}"),
            answer,
        },
    }
}
