//! The DingTalk (钉钉) custom robot.
//!
//! Followed: open.dingtalk.com/document/orgapp/custom-robot-access (自定义机器人接入) and
//! /document/orgapp/customize-robot-security-settings (加签): with signing on, every
//! request carries `timestamp` (milliseconds, within an hour of DingTalk's clock) and
//! `sign = urlEncode(base64(HmacSHA256(key = secret, msg = timestamp + "\n" + secret)))`
//! in the URL's query. A fresh timestamp for every request; the sign is percent-encoded
//! once, by the query serializer. `markdown` has a `title` (the notification preview) and
//! `text`; people are @-ed by `at.atMobiles`, with `@mobile` also in the text (DingTalk
//! only highlights mentions that appear there). 20 messages a minute per robot: over it
//! the answer is 130101 and the robot is throttled for 10 minutes.

use super::im::Message;
use super::robot::{self, Request};
use crate::config::notify::Notifier;
use crate::vocab::text::cut;
use serde_json::json;

/// Our cap on a message's text (DingTalk documents none for markdown; long messages are
/// folded in the client anyway).
pub const MARKDOWN_MAX: usize = 4096;

/// `sign` before URL encoding.
pub fn sign(secret: &str, timestamp_ms: i64) -> String {
    let to_sign = format!("{timestamp_ms}\n{secret}");
    robot::base64(&robot::hmac_sha256(secret.as_bytes(), to_sign.as_bytes()))
}

pub fn request(
    n: &Notifier,
    mut url: url::Url,
    secret: Option<&str>,
    msg: &Message,
    now_ms: i64,
) -> Request {
    if let Some(secret) = secret {
        url.query_pairs_mut()
            .append_pair("timestamp", &now_ms.to_string())
            .append_pair("sign", &sign(secret, now_ms));
    }
    let mut text = cut(
        &robot::markdown(msg),
        MARKDOWN_MAX,
        &robot::cut_mark(msg, true),
    )
    .into_owned();
    if !n.mention_mobiles.is_empty() {
        text.push_str("\n\n");
        let at: Vec<String> = n.mention_mobiles.iter().map(|m| format!("@{m}")).collect();
        text.push_str(&at.join(" "));
    }
    let title: String = msg.title().chars().take(40).collect();
    let body = json!({
        "msgtype": "markdown",
        "markdown": {"title": title, "text": text},
        "at": {"atMobiles": n.mention_mobiles, "isAtAll": false}
    });
    Request::json(url, &body)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_sign_is_the_documented_hmac() {
        // Computed independently: python3 -c 'import hmac,hashlib,base64;
        // print(base64.b64encode(hmac.new(b"SECabc", b"1700000000000\nSECabc",
        // hashlib.sha256).digest()).decode())'
        assert_eq!(
            super::sign("SECabc", 1_700_000_000_000),
            "jcUpW0QmtKduN03n4JqQ0PBosVjqnM8gU7fIIvsDmCM="
        );
    }
}
