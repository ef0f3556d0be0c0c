//! The Feishu (飞书) custom bot.
//!
//! Followed: open.feishu.cn/document/client-docs/bot-v3/add-custom-bot (自定义机器人使用
//! 指南). With signature verification on, the JSON body carries `timestamp` (seconds, within
//! an hour) and `sign = base64(HmacSHA256(key = timestamp + "\n" + secret, msg = ""))` —
//! the reverse of DingTalk's scheme: the string DingTalk signs is Feishu's key, over an
//! empty message. A wrong sign or stale timestamp answers 19021. Limits: 100 messages a
//! minute and 5 a second per bot (11232 "frequency limited"), a request body of at most
//! 20 KB. A `text` message: Feishu links URLs in text by itself.

use super::im::Message;
use super::robot::{self, Request};
use crate::vocab::text::cut;
use serde_json::json;

/// Our cap on the text, well under the 20 KB request body.
pub const TEXT_MAX: usize = 4096;

pub fn sign(secret: &str, timestamp_s: i64) -> String {
    let key = format!("{timestamp_s}\n{secret}");
    robot::base64(&robot::hmac_sha256(key.as_bytes(), b""))
}

pub fn request(url: url::Url, secret: Option<&str>, msg: &Message, now_s: i64) -> Request {
    let text = cut(&robot::plain(msg), TEXT_MAX, &robot::cut_mark(msg, false)).into_owned();
    let mut body = json!({"msg_type": "text", "content": {"text": text}});
    if let Some(secret) = secret {
        body["timestamp"] = json!(now_s.to_string());
        body["sign"] = json!(sign(secret, now_s));
    }
    Request::json(url, &body)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_sign_is_the_documented_hmac_of_nothing() {
        // python3 -c 'import hmac,hashlib,base64; print(base64.b64encode(hmac.new(
        // b"1700000000\nsecret", b"", hashlib.sha256).digest()).decode())'
        assert_eq!(
            super::sign("secret", 1_700_000_000),
            "fiWS2+gh28DOydAv7hzONH/mDn9+b1Y4Y5ivXWXy8vA="
        );
    }
}
