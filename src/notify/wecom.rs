//! The WeCom (企业微信) group robot.
//!
//! Followed: developer.work.weixin.qq.com/document/path/91770 (群机器人配置说明). A POST of
//! JSON to the robot's URL (`…/cgi-bin/webhook/send?key=KEY`; the key is the secret, so
//! the URL is never logged). `text` content is at most 2048 bytes and may @ people by
//! mobile (`mentioned_mobile_list`, text only); `markdown` content is at most 4096 bytes
//! and cannot @ anyone. So a notifier with `mention_mobiles` sends text, others markdown.
//! A longer message is cut on a UTF-8 boundary, ending with `…` and the incident's link.
//! 20 messages a minute per robot; over it the answer is errcode 45009.

use super::im::Message;
use super::robot::{self, Request};
use crate::config::notify::Notifier;
use crate::vocab::text::cut;
use serde_json::json;

pub const TEXT_MAX: usize = 2048;
pub const MARKDOWN_MAX: usize = 4096;

pub fn request(n: &Notifier, url: url::Url, msg: &Message) -> Request {
    let body = if n.mention_mobiles.is_empty() {
        let content = cut(
            &robot::markdown(msg),
            MARKDOWN_MAX,
            &robot::cut_mark(msg, true),
        )
        .into_owned();
        json!({"msgtype": "markdown", "markdown": {"content": content}})
    } else {
        let content = cut(&robot::plain(msg), TEXT_MAX, &robot::cut_mark(msg, false)).into_owned();
        json!({
            "msgtype": "text",
            "text": {"content": content, "mentioned_mobile_list": n.mention_mobiles}
        })
    };
    Request::json(url, &body)
}

/// The budget for a digest's text, so that it fits without a cut.
pub fn max_bytes(n: &Notifier) -> usize {
    if n.mention_mobiles.is_empty() {
        MARKDOWN_MAX
    } else {
        TEXT_MAX
    }
}
