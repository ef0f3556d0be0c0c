//! Instant messages: what a WeCom, DingTalk or Feishu group, a webhook or an SMS says about
//! an alert, made safe, and what the service's answer means.
//!
//! The text comes from the mail the alert accompanies (its subject, its lead paragraph and
//! its deadlines), so an instant message never says something the mail does not. Titles of
//! items are written by strangers on the web: before they reach a group they lose every
//! mention (`<@userid>`, `<at …>`, `@13800000000`, `@all`) and every markdown or HTML
//! sign, which is replaced by its full-width form (`[` → `［`, `<` → `＜`, …). The vendors'
//! markdown dialects do not document a backslash escape; the full-width forms read the same
//! in Chinese text and are never markup in any of them.

use crate::config::notify::Kind;
use crate::vocab::text::one_line;
use std::time::Duration;

/// One alert, as plain (already sanitized) text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    pub notification_id: i64,
    pub incident_id: Option<i64>,
    /// The mail's subject: 【舆情·重大】#12 景区安全：…
    pub title: String,
    /// The lead and the deadlines.
    pub lines: Vec<String>,
    /// The console page of the incident.
    pub link: Option<String>,
}

/// What one request carries: one alert, or several merged into a digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    One(Alert),
    Digest(Vec<Alert>),
}

impl Message {
    pub fn ids(&self) -> Vec<i64> {
        match self {
            Message::One(a) => vec![a.notification_id],
            Message::Digest(all) => all.iter().map(|a| a.notification_id).collect(),
        }
    }

    pub fn alerts(&self) -> &[Alert] {
        match self {
            Message::One(a) => std::slice::from_ref(a),
            Message::Digest(all) => all,
        }
    }

    /// The digest's heading, or the alert's title.
    pub fn title(&self) -> String {
        match self {
            Message::One(a) => a.title.clone(),
            Message::Digest(all) => {
                format!("【舆情·汇总】{} 条提醒（消息过多，已合并）", all.len())
            }
        }
    }

    /// The first incident's link (a cut message points there).
    pub fn link(&self) -> Option<&str> {
        self.alerts().iter().find_map(|a| a.link.as_deref())
    }
}

/// The alert of a notification row: the mail's subject and, from its text, the lead
/// paragraph and the deadline lines (mail.rs writes them under `时限：`).
pub fn alert(
    id: i64,
    incident: Option<i64>,
    subject: &str,
    body: &str,
    link: Option<String>,
) -> Alert {
    let mut lines = Vec::new();
    let mut paragraphs = body.split("\n\n");
    if let Some(lead) = paragraphs.next() {
        lines.push(one_line(lead, usize::MAX));
    }
    let mut in_deadlines = false;
    for l in body.lines() {
        let t = l.trim();
        if t == "时限：" {
            in_deadlines = true;
            continue;
        }
        if in_deadlines {
            match t.strip_prefix("- ") {
                Some(d) => lines.push(one_line(d, usize::MAX)),
                None => break,
            }
        }
    }
    lines.retain(|l| !l.is_empty());
    lines.truncate(6);
    Alert {
        notification_id: id,
        incident_id: incident,
        title: sanitize(subject),
        lines: lines.iter().map(|l| sanitize(l)).collect(),
        link,
    }
}

/// Text from the web made harmless in a group chat: mentions removed, line breaks,
/// control characters and bidi overrides dropped, markup signs replaced by their full-width forms.
pub fn sanitize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while !rest.is_empty() {
        // <@userid> (WeCom) and <at user_id="…">…</at> (Feishu): dropped whole.
        if let Some(after) = rest.strip_prefix("<@") {
            if let Some(end) = after.find('>') {
                rest = &after[end + 1..];
                continue;
            }
        }
        if rest.starts_with("<at ") || rest.starts_with("<at>") {
            if let Some(end) = rest.find("</at>") {
                rest = &rest[end + "</at>".len()..];
                continue;
            }
        }
        let c = rest.chars().next().expect("rest is not empty");
        rest = &rest[c.len_utf8()..];
        let mapped = match c {
            // @13800000000 or @all would notify people in DingTalk's and WeCom's text.
            '@' => '＠',
            '[' => '［',
            ']' => '］',
            '(' => '（',
            ')' => '）',
            '<' => '＜',
            '>' => '＞',
            '*' => '＊',
            '_' => '＿',
            '#' => '＃',
            '`' => '｀',
            '~' => '～',
            '|' => '｜',
            '!' => '！',
            '\\' => '＼',
            '&' => '＆',
            '\r' | '\n' | '\t' => ' ',
            c if c.is_control() || crate::vocab::text::is_bidi_control(c) => continue,
            c => c,
        };
        out.push(mapped);
    }
    out
}

/// What the service did with a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Accepted; `answer` is what it said.
    Delivered { answer: String },
    /// Try again later: a rate limit, a server error, the network. `pause` is how long the
    /// service asked to be left alone (applies to the notifier, not only this message);
    /// `unknown` when the request may have been acted on (a timeout after sending).
    Retry {
        error: String,
        answer: Option<String>,
        pause: Option<Duration>,
        unknown: bool,
    },
    /// Refused for good: a wrong key, a deleted robot, a signature or keyword mismatch.
    Permanent {
        error: String,
        answer: Option<String>,
    },
    /// An answer nobody documents: retried a few times, then treated as permanent.
    Unexpected {
        error: String,
        answer: Option<String>,
    },
}

/// How a robot's error code is to be taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    Ok,
    /// Over the rate limit; wait this long.
    Throttled(Duration),
    Permanent,
    Unknown,
}

/// The documented codes of each robot.
///
/// - WeCom (developer.work.weixin.qq.com/document/path/91770 and the global error codes,
///   /document/path/90313): 0 ok; 45009 "api freq out of limit" (20 messages a minute);
///   93000 invalid webhook URL (key wrong or robot removed); 40058 content too long or
///   malformed.
/// - DingTalk custom robot (open.dingtalk.com/document/orgapp/custom-robot-access and its
///   FAQ): 0 ok; 130101 "send too fast, exceed 20 times per minute", after which the robot
///   is throttled for 10 minutes; 310000 "sign not match" / "keywords not in content" /
///   "ip not in whitelist"; 300001 token does not exist.
/// - Feishu custom bot (open.feishu.cn/document/client-docs/bot-v3/add-custom-bot): 0 ok;
///   11232 "frequency limited" (100 a minute, 5 a second); 19021 "sign match fail or
///   timestamp is not within one hour"; 19022 IP not allowed; 19024 keyword not matched;
///   9499 bad request.
pub fn classify(kind: Kind, code: i64) -> Code {
    match (kind, code) {
        (_, 0) => Code::Ok,
        (Kind::Wecom, 45009) => Code::Throttled(Duration::from_secs(60)),
        (Kind::Wecom, 93000 | 40058 | 93004 | 93008) => Code::Permanent,
        (Kind::Dingtalk, 130101) => Code::Throttled(DINGTALK_PENALTY),
        (Kind::Dingtalk, 310000 | 300001 | 300005 | 400101 | 410100) => Code::Permanent,
        (Kind::Feishu, 11232) => Code::Throttled(Duration::from_secs(60)),
        (Kind::Feishu, 19021 | 19022 | 19024 | 9499 | 19001) => Code::Permanent,
        _ => Code::Unknown,
    }
}

/// DingTalk throttles a robot that exceeded its limit for 10 minutes; sending during the
/// penalty only prolongs it, so nothing is sent to it until the penalty is over.
pub const DINGTALK_PENALTY: Duration = Duration::from_secs(600);

/// The outcome of an HTTP answer whose JSON carries an error code under one of `fields`
/// (`errcode`, `code`, `StatusCode`), with its message under `errmsg` or `msg`.
pub fn outcome_of(kind: Kind, status: u16, body: &str) -> Outcome {
    let said = format!("HTTP {status} {}", truncate(body, 500));
    let answer = Some(said.clone());
    if status == 429 || status >= 500 || status == 408 {
        return Outcome::Retry {
            error: format!("HTTP {status}"),
            answer,
            pause: None,
            unknown: status >= 500,
        };
    }
    if !(200..300).contains(&status) {
        return Outcome::Permanent {
            error: format!("HTTP {status} {}", truncate(body, 200)),
            answer,
        };
    }
    let json: serde_json::Value = match serde_json::from_str(body) {
        Ok(v) => v,
        Err(_) => {
            return Outcome::Unexpected {
                error: format!("HTTP {status} with an answer that is not JSON"),
                answer,
            }
        }
    };
    let code = ["errcode", "code", "StatusCode"]
        .iter()
        .find_map(|f| json.get(*f).and_then(|v| v.as_i64()));
    let msg = ["errmsg", "msg", "StatusMessage"]
        .iter()
        .find_map(|f| json.get(*f).and_then(|v| v.as_str()))
        .unwrap_or("")
        .to_string();
    let Some(code) = code else {
        return Outcome::Unexpected {
            error: "the answer has no error code".into(),
            answer,
        };
    };
    let error = format!("{} {code} {msg}", kind.zh());
    match classify(kind, code) {
        Code::Ok => Outcome::Delivered { answer: said },
        Code::Throttled(pause) => Outcome::Retry {
            error,
            answer,
            pause: Some(pause),
            unknown: false,
        },
        Code::Permanent => Outcome::Permanent { error, answer },
        Code::Unknown => Outcome::Unexpected { error, answer },
    }
}

/// A service's answer for the log and the stored error: trimmed, at most `max` bytes.
pub fn truncate(s: &str, max: usize) -> String {
    crate::vocab::text::cut(s.trim(), max, "…").into_owned()
}

/// A network failure: a timeout may have reached the service (its outcome is unknown);
/// a refused connection did not.
pub fn network(e: reqwest::Error) -> Outcome {
    let unknown = e.is_timeout() || e.is_body() || e.is_decode();
    // Never the URL: a robot's key is in its query.
    let e = e.without_url();
    Outcome::Retry {
        error: format!("network: {e}"),
        answer: None,
        pause: None,
        unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mentions_and_markup_from_the_web_are_defused() {
        let s = sanitize("<@zhangsan>景区[踩踏](http://x) @13800000000 @all <at user_id=\"all\">所有人</at>**通知**\n# 标题");
        assert_eq!(
            s,
            "景区［踩踏］（http://x） ＠13800000000 ＠all ＊＊通知＊＊ ＃ 标题"
        );
        assert!(!s.contains('@') && !s.contains('<') && !s.contains('['));
    }

    #[test]
    fn the_alert_has_the_lead_and_the_deadlines_of_the_mail() {
        let body = "舆情事件 #3（景区安全，重大）发布权威信息的时限 … 已过，已超时 1小时。\n\n事件编号：#3\n\n时限：\n  - 发布权威信息：11-24 06:00 前，已超时 1小时\n  - 召开新闻发布会：11-25 01:00 前，剩余 18小时\n\n下一步：\n  x\n";
        let a = alert(1, Some(3), "【舆情·超时】#3 标题", body, None);
        assert_eq!(a.lines.len(), 3, "{a:?}");
        assert!(a.lines[1].starts_with("发布权威信息：") && a.lines[1].contains("已超时"));
    }

    #[test]
    fn documented_codes_are_classified() {
        assert_eq!(
            classify(Kind::Wecom, 45009),
            Code::Throttled(Duration::from_secs(60))
        );
        assert_eq!(classify(Kind::Wecom, 93000), Code::Permanent);
        assert_eq!(classify(Kind::Wecom, 40058), Code::Permanent);
        assert_eq!(
            classify(Kind::Dingtalk, 130101),
            Code::Throttled(DINGTALK_PENALTY)
        );
        assert_eq!(classify(Kind::Dingtalk, 310000), Code::Permanent);
        assert_eq!(
            classify(Kind::Feishu, 11232),
            Code::Throttled(Duration::from_secs(60))
        );
        assert_eq!(classify(Kind::Feishu, 19021), Code::Permanent);
        assert!(matches!(
            outcome_of(
                Kind::Feishu,
                200,
                r#"{"StatusCode":0,"StatusMessage":"success"}"#
            ),
            Outcome::Delivered { .. }
        ));
        assert!(matches!(
            outcome_of(Kind::Wecom, 502, "bad gateway"),
            Outcome::Retry { .. }
        ));
    }
}
