//! What every transport hands the sender: one HTTP request, built by a pure function of the
//! notifier, its secret, the message and the time, so the wire format is tested without a
//! network.

use super::im::Message;

/// One HTTP POST.
#[derive(Debug, Clone)]
pub struct Request {
    pub url: url::Url,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Request {
    pub fn json(url: url::Url, body: &serde_json::Value) -> Request {
        Request {
            url,
            headers: vec![(
                "Content-Type".into(),
                "application/json; charset=utf-8".into(),
            )],
            body: body.to_string(),
        }
    }
}

/// The plain-text rendering every robot starts from: title, lines, then the link.
pub fn plain(msg: &Message) -> String {
    match msg {
        Message::One(a) => {
            let mut out = a.title.clone();
            for l in &a.lines {
                out.push('\n');
                out.push_str(l);
            }
            if let Some(link) = &a.link {
                out.push_str("\n详情：");
                out.push_str(link);
            }
            out
        }
        Message::Digest(all) => {
            let mut out = msg.title();
            for (i, a) in all.iter().enumerate() {
                out.push_str(&format!("\n{}. {}", i + 1, a.title));
                if let Some(link) = &a.link {
                    out.push(' ');
                    out.push_str(link);
                }
            }
            out
        }
    }
}

/// The markdown rendering (WeCom, DingTalk): a bold title, the lines, a link. The texts
/// are already sanitized (`im::sanitize`), so the only markup is ours.
pub fn markdown(msg: &Message) -> String {
    match msg {
        Message::One(a) => {
            let mut out = format!("**{}**", a.title);
            for (i, l) in a.lines.iter().enumerate() {
                out.push_str(if i == 0 { "\n> " } else { "\n- " });
                out.push_str(l);
            }
            if let Some(link) = &a.link {
                out.push_str(&format!("\n[查看事件]({link})"));
            }
            out
        }
        Message::Digest(all) => {
            let mut out = format!("**{}**", msg.title());
            for (i, a) in all.iter().enumerate() {
                match &a.link {
                    Some(link) => out.push_str(&format!("\n{}. [{}]({link})", i + 1, a.title)),
                    None => out.push_str(&format!("\n{}. {}", i + 1, a.title)),
                }
            }
            out
        }
    }
}

/// What ends a cut message: `…` and the link to the (first) incident's page.
pub fn cut_mark(msg: &Message, markdown: bool) -> String {
    match (msg.link(), markdown) {
        (Some(l), true) => format!("…\n[查看事件]({l})"),
        (Some(l), false) => format!("…\n详情：{l}"),
        (None, _) => "…".to_string(),
    }
}

/// HMAC-SHA256 of `msg` under `key`.
pub fn hmac_sha256(key: &[u8], msg: &[u8]) -> Vec<u8> {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(msg);
    mac.finalize().into_bytes().to_vec()
}

pub fn base64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}
