//! `[[notify]]`: the instant-message channels (WeCom, DingTalk and Feishu group robots, a
//! plain webhook, Aliyun and Tencent Cloud SMS), and `[web] url`, the console address their
//! messages link to.
//!
//! A notifier is named from `[people]` and `[escalation]` as `notify:ID`. Its secret (the
//! robot's signing secret, or the SMS API key) is never written in the file: `secret =
//! "env:NAME"` reads the environment, `secret = "credential:NAME"` the systemd credential
//! (`$CREDENTIALS_DIRECTORY/NAME`), when a message is sent. A literal secret is an error,
//! and no message of `yuqing check` repeats what was written there. The URL of a WeCom
//! robot carries its key, so `url` may be `env:NAME` or `credential:NAME` too.
//!
//! The transports that use these types live in `notify/` (this floor cannot see them).

use crate::vocab::diagnostic::{Diagnostic, Diagnostics, SpanToDiagnostic};
use serde::Deserialize;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use toml::Spanned;

/// Where the console serves an incident (`/incidents/{id}`) when `[web] url` is not set.
pub const DEFAULT_CONSOLE: &str = "http://127.0.0.1:8700/";

/// Every notifier, and the console's address for the links in their messages.
#[derive(Debug, Clone)]
pub struct Notifiers {
    pub list: Vec<Notifier>,
    /// `[web] url`, else `http://` + the default `[web] listen` address.
    pub console: url::Url,
}

impl Notifiers {
    pub fn get(&self, id: &str) -> Option<&Notifier> {
        self.list.iter().find(|n| n.id == id)
    }

    /// The console page of an incident.
    pub fn incident_link(&self, incident: i64) -> String {
        self.console
            .join(&format!("incidents/{incident}"))
            .map(|u| u.to_string())
            .unwrap_or_else(|_| format!("{}incidents/{incident}", self.console))
    }
}

/// One instant-message channel.
#[derive(Debug, Clone)]
pub struct Notifier {
    pub id: String,
    pub kind: Kind,
    pub url: Secret<url::Url>,
    /// The robot's signing secret or the SMS API key (`None`: the robot does not sign).
    pub secret: Option<SecretRef>,
    /// Mobile numbers to @ (robots), or to send to (SMS).
    pub mention_mobiles: Vec<String>,
    pub limit: RateLimit,
    /// SMS only: sign name, template and the account's id.
    pub sms: Option<Sms>,
}

/// A value that is either written in the file or read, like a secret, when used.
#[derive(Debug, Clone)]
pub enum Secret<T> {
    Plain(T),
    From(SecretRef),
}

/// Where a secret is read from.
#[derive(Clone, PartialEq, Eq)]
pub enum SecretRef {
    Env(String),
    Credential(String),
}

impl std::fmt::Debug for SecretRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{self}")
    }
}

impl std::fmt::Display for SecretRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SecretRef::Env(n) => write!(f, "env:{n}"),
            SecretRef::Credential(n) => write!(f, "credential:{n}"),
        }
    }
}

impl SecretRef {
    fn parse(text: &str) -> Option<SecretRef> {
        let ok = |n: &str| {
            !n.is_empty()
                && n.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        };
        if let Some(n) = text.strip_prefix("env:").filter(|n| ok(n)) {
            return Some(SecretRef::Env(n.to_string()));
        }
        if let Some(n) = text.strip_prefix("credential:").filter(|n| ok(n)) {
            return Some(SecretRef::Credential(n.to_string()));
        }
        None
    }

    /// Reads the secret now. The error names where it looked, never a value.
    pub fn read(&self) -> Result<String, String> {
        match self {
            SecretRef::Env(name) => std::env::var(name)
                .map(|v| v.trim_end_matches(['\r', '\n']).to_string())
                .map_err(|_| format!("the environment variable {name} is not set")),
            SecretRef::Credential(name) => {
                let dir = std::env::var("CREDENTIALS_DIRECTORY").map_err(|_| {
                    format!(
                        "credential:{name} needs systemd's LoadCredential={name}:FILE \
                         ($CREDENTIALS_DIRECTORY is not set)"
                    )
                })?;
                std::fs::read_to_string(PathBuf::from(dir).join(name))
                    .map(|v| v.trim_end_matches(['\r', '\n']).to_string())
                    .map_err(|e| format!("cannot read the credential {name}: {e}"))
            }
        }
    }
}

impl Secret<url::Url> {
    /// The URL, read from its secret when it is one.
    pub fn resolve(&self) -> Result<url::Url, String> {
        match self {
            Secret::Plain(u) => Ok(u.clone()),
            Secret::From(r) => {
                let text = r.read()?;
                url::Url::parse(text.trim())
                    .ok()
                    .filter(|u| matches!(u.scheme(), "http" | "https"))
                    .ok_or_else(|| format!("the url in {r} is not an http(s) URL"))
            }
        }
    }

    /// The URL without its query (which may hold a key), for messages and logs.
    pub fn describe(&self) -> String {
        match self {
            Secret::Plain(u) => redact(u),
            Secret::From(r) => format!("<{r}>"),
        }
    }
}

/// `scheme://host[:port]/path` of a URL: robots' URLs carry their key in the query.
pub fn redact(u: &url::Url) -> String {
    let mut u = u.clone();
    u.set_query(None);
    u.set_fragment(None);
    let _ = u.set_password(None);
    u.to_string()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Wecom,
    Dingtalk,
    Feishu,
    Webhook,
    AliyunSms,
    TencentSms,
}

impl Kind {
    pub const ALL: [Kind; 6] = [
        Kind::Wecom,
        Kind::Dingtalk,
        Kind::Feishu,
        Kind::Webhook,
        Kind::AliyunSms,
        Kind::TencentSms,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Wecom => "wecom",
            Kind::Dingtalk => "dingtalk",
            Kind::Feishu => "feishu",
            Kind::Webhook => "webhook",
            Kind::AliyunSms => "aliyun_sms",
            Kind::TencentSms => "tencent_sms",
        }
    }

    /// The service's name in Chinese, for messages to people.
    pub fn zh(self) -> &'static str {
        match self {
            Kind::Wecom => "企业微信",
            Kind::Dingtalk => "钉钉",
            Kind::Feishu => "飞书",
            Kind::Webhook => "Webhook",
            Kind::AliyunSms => "阿里云短信",
            Kind::TencentSms => "腾讯云短信",
        }
    }

    pub fn is_sms(self) -> bool {
        matches!(self, Kind::AliyunSms | Kind::TencentSms)
    }

    /// The documented limits: WeCom and DingTalk robots 20 messages a minute, Feishu 100 a
    /// minute and 5 a second. The webhook and SMS have none of their own; SMS providers
    /// limit per number (a few a minute), so they get a modest default.
    pub fn default_limit(self) -> RateLimit {
        match self {
            Kind::Wecom | Kind::Dingtalk => RateLimit {
                per_minute: 20,
                per_second: None,
            },
            Kind::Feishu => RateLimit {
                per_minute: 100,
                per_second: Some(5),
            },
            Kind::Webhook => RateLimit {
                per_minute: 600,
                per_second: None,
            },
            Kind::AliyunSms | Kind::TencentSms => RateLimit {
                per_minute: 10,
                per_second: None,
            },
        }
    }
}

/// At most `per_minute` requests in any rolling minute (and `per_second` in any second).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub per_minute: u32,
    pub per_second: Option<u32>,
}

/// What an SMS provider needs besides the key.
#[derive(Debug, Clone)]
pub struct Sms {
    /// Aliyun AccessKeyId / Tencent SecretId (an identity, not a secret).
    pub key_id: String,
    /// 短信签名, e.g. 某市文旅局.
    pub sign_name: String,
    /// Aliyun TemplateCode (`SMS_…`) / Tencent TemplateId.
    pub template: String,
    /// Tencent SmsSdkAppId.
    pub app_id: Option<String>,
    /// Tencent region (default `ap-guangzhou`).
    pub region: String,
    /// The template's variables in order (Tencent) or by name (Aliyun), each one of
    /// `incident`, `level`, `title`, `deadline`.
    pub params: Vec<String>,
}

/// The SMS template variables yuqing can fill.
pub const SMS_PARAMS: [&str; 4] = ["incident", "level", "title", "deadline"];

// ---------------------------------------------------------------------------------------
// As written.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawNotifier {
    id: Spanned<String>,
    kind: Spanned<String>,
    url: Option<Spanned<String>>,
    secret: Option<Spanned<String>>,
    #[serde(default)]
    mention_mobiles: Vec<Spanned<String>>,
    per_minute: Option<Spanned<u32>>,
    per_second: Option<Spanned<u32>>,
    key_id: Option<Spanned<String>>,
    sign_name: Option<Spanned<String>>,
    template: Option<Spanned<String>>,
    app_id: Option<Spanned<String>>,
    region: Option<String>,
    params: Option<Spanned<Vec<Spanned<String>>>>,
}

/// The ids of every `[[notify]]` written, valid or not: a role naming one that has a
/// mistake of its own is not told the id is unknown.
pub(crate) fn declared_ids(raw: &[Spanned<RawNotifier>]) -> Vec<String> {
    raw.iter()
        .map(|n| n.get_ref().id.get_ref().clone())
        .collect()
}

/// Where each SMS kind is sent when `url` is left out.
fn default_url(kind: Kind) -> Option<&'static str> {
    match kind {
        Kind::AliyunSms => Some("https://dysmsapi.aliyuncs.com/"),
        Kind::TencentSms => Some("https://sms.tencentcloudapi.com/"),
        _ => None,
    }
}

/// Checks `[web]` and every `[[notify]]`; mistakes name their line and never repeat a
/// value that may be a secret.
pub(crate) fn check(
    console: url::Url,
    raw: Vec<Spanned<RawNotifier>>,
    errs: &mut Diagnostics,
    path: &Path,
    source: &str,
) -> Notifiers {
    let at = Diagnostic::spans_in(path, source);
    let mut ids = HashSet::new();
    let mut list = Vec::new();
    for n in raw {
        let whole = n.span();
        if let Some(n) = check_one(n.into_inner(), whole, &mut ids, errs, &at) {
            list.push(n);
        }
    }
    Notifiers { list, console }
}

/// One `[[notify]]`, field by field; `None` when any of them has a mistake.
fn check_one(
    n: RawNotifier,
    whole: std::ops::Range<usize>,
    ids: &mut HashSet<String>,
    errs: &mut Diagnostics,
    at: &SpanToDiagnostic,
) -> Option<Notifier> {
    let before = errs.0.len();
    let id = n.id.get_ref().clone();
    if !super::source::is_id(&id) {
        errs.push(at(
            n.id.span(),
            format!(
                "[[notify]] id `{id}` must be non-empty ASCII letters, digits, `-`, `_` or `.`"
            ),
        ));
    } else if !ids.insert(id.clone()) {
        errs.push(at(
            n.id.span(),
            format!("duplicate [[notify]] id `{id}`: every notifier needs its own id"),
        ));
    }
    let kinds: Vec<&str> = Kind::ALL.iter().map(|k| k.as_str()).collect();
    let kind = Kind::ALL
        .into_iter()
        .find(|k| k.as_str() == n.kind.get_ref().trim());
    let Some(kind) = kind else {
        errs.push(at(
            n.kind.span(),
            format!(
                "[[notify]] {id}: unknown kind `{}`: use one of {}",
                n.kind.get_ref(),
                kinds.join(", ")
            ),
        ));
        return None;
    };

    let mut c = Checking {
        id: &id,
        kind,
        whole,
        errs: &mut *errs,
        at,
    };
    let url = c.url(&n);
    let secret = c.secret(&n);
    let mention_mobiles = c.mention_mobiles(&n);
    let limit = c.limit(&n);
    let sms = c.sms(&n);
    (errs.0.len() == before).then_some(Notifier {
        id,
        kind,
        url,
        secret,
        mention_mobiles,
        limit,
        sms,
    })
}

/// The fields of one `[[notify]]` of a known kind, checked one at a time, each mistake
/// told at its line (`whole`: the table's, for a missing key).
struct Checking<'a> {
    id: &'a str,
    kind: Kind,
    whole: std::ops::Range<usize>,
    errs: &'a mut Diagnostics,
    at: &'a SpanToDiagnostic<'a>,
}

impl Checking<'_> {
    fn push(&mut self, span: std::ops::Range<usize>, message: String) {
        self.errs.push((self.at)(span, message));
    }

    /// The URL: written, or read like a secret; SMS kinds have the provider's by default.
    fn url(&mut self, n: &RawNotifier) -> Secret<url::Url> {
        let (id, kind) = (self.id, self.kind);
        match &n.url {
            Some(u) if SecretRef::parse(u.get_ref().trim()).is_some() => {
                Secret::From(SecretRef::parse(u.get_ref().trim()).expect("checked just above"))
            }
            Some(u) => match url::Url::parse(u.get_ref().trim()) {
                Ok(parsed) if matches!(parsed.scheme(), "http" | "https") => Secret::Plain(parsed),
                _ => {
                    // The robots' URLs carry their key: never repeat it.
                    self.push(
                        u.span(),
                        format!(
                            "[[notify]] {id}: url is not an http(s) URL (nor env:NAME or \
                             credential:NAME)"
                        ),
                    );
                    Secret::Plain(url::Url::parse("http://invalid/").expect("parses"))
                }
            },
            None => match default_url(kind) {
                Some(u) => Secret::Plain(url::Url::parse(u).expect("the providers' URLs parse")),
                None => {
                    self.push(
                        self.whole.clone(),
                        format!("[[notify]] {id}: a {} notifier needs `url`", kind.as_str()),
                    );
                    Secret::Plain(url::Url::parse("http://invalid/").expect("parses"))
                }
            },
        }
    }

    /// The signing secret or API key, only ever as `env:NAME` or `credential:NAME`.
    fn secret(&mut self, n: &RawNotifier) -> Option<SecretRef> {
        let (id, kind) = (self.id, self.kind);
        let secret = match &n.secret {
            None => None,
            Some(s) => match SecretRef::parse(s.get_ref().trim()) {
                Some(r) => Some(r),
                None => {
                    self.push(
                        s.span(),
                        format!(
                            "[[notify]] {id}: secret must be \"env:NAME\" or \"credential:NAME\", \
                             never the secret itself (it would end up in backups and version \
                             control); move it to the environment or a systemd credential"
                        ),
                    );
                    None
                }
            },
        };
        if n.secret.is_none() && kind.is_sms() {
            self.push(
                self.whole.clone(),
                format!(
                    "[[notify]] {id}: {} needs `secret` (the API key, as env:NAME or \
                     credential:NAME)",
                    kind.as_str()
                ),
            );
        }
        secret
    }

    /// Whom a robot's message @s, or whom an SMS goes to.
    fn mention_mobiles(&mut self, n: &RawNotifier) -> Vec<String> {
        let (id, kind) = (self.id, self.kind);
        let mut mention_mobiles = Vec::new();
        for m in &n.mention_mobiles {
            let digits = m.get_ref().trim().trim_start_matches('+');
            if digits.len() < 5 || digits.len() > 15 || !digits.chars().all(|c| c.is_ascii_digit())
            {
                self.push(
                    m.span(),
                    format!(
                        "[[notify]] {id}: mention_mobiles entry `{}` is not a mobile number",
                        m.get_ref()
                    ),
                );
            } else {
                mention_mobiles.push(m.get_ref().trim().to_string());
            }
        }
        if kind == Kind::Feishu {
            if let Some(m) = n.mention_mobiles.first() {
                self.push(
                    m.span(),
                    format!(
                        "[[notify]] {id}: a Feishu custom bot cannot @ people by mobile number; \
                         remove mention_mobiles (or use a WeCom or DingTalk robot for that)"
                    ),
                );
            }
        }
        if kind.is_sms() && mention_mobiles.is_empty() {
            self.push(
                self.whole.clone(),
                format!("[[notify]] {id}: SMS needs the numbers to send to in `mention_mobiles`"),
            );
        }
        mention_mobiles
    }

    /// The kind's rate limit, or the one written.
    fn limit(&mut self, n: &RawNotifier) -> RateLimit {
        let (id, kind) = (self.id, self.kind);
        let mut limit = kind.default_limit();
        if let Some(p) = &n.per_minute {
            if *p.get_ref() == 0 {
                self.push(
                    p.span(),
                    format!("[[notify]] {id}: per_minute = 0 would never send; give at least 1"),
                );
            }
            limit.per_minute = (*p.get_ref()).max(1);
        }
        if let Some(p) = &n.per_second {
            if *p.get_ref() == 0 {
                self.push(
                    p.span(),
                    format!("[[notify]] {id}: per_second = 0 would never send; give at least 1"),
                );
            }
            limit.per_second = Some((*p.get_ref()).max(1));
        }
        limit
    }

    /// The SMS provider's keys, template and parameters; for other kinds, none written.
    fn sms(&mut self, n: &RawNotifier) -> Option<Sms> {
        let (id, kind) = (self.id, self.kind);
        let sms_keys = [
            ("key_id", &n.key_id),
            ("sign_name", &n.sign_name),
            ("template", &n.template),
            ("app_id", &n.app_id),
        ];
        if kind.is_sms() {
            let mut need = |key: &str, v: &Option<Spanned<String>>| -> String {
                match v {
                    Some(v) if !v.get_ref().trim().is_empty() => v.get_ref().trim().to_string(),
                    _ => {
                        self.push(
                            self.whole.clone(),
                            format!("[[notify]] {id}: {} needs `{key}`", kind.as_str()),
                        );
                        String::new()
                    }
                }
            };
            let key_id = need("key_id", &n.key_id);
            let sign_name = need("sign_name", &n.sign_name);
            let template = need("template", &n.template);
            let app_id = (kind == Kind::TencentSms).then(|| need("app_id", &n.app_id));
            let params = match &n.params {
                None => SMS_PARAMS.iter().map(|s| s.to_string()).collect(),
                Some(list) => {
                    let mut out = Vec::new();
                    for p in list.get_ref() {
                        if SMS_PARAMS.contains(&p.get_ref().as_str()) {
                            out.push(p.get_ref().clone());
                        } else {
                            self.push(
                                p.span(),
                                format!(
                                    "[[notify]] {id}: unknown template parameter `{}`: use {}",
                                    p.get_ref(),
                                    SMS_PARAMS.join(", ")
                                ),
                            );
                        }
                    }
                    out
                }
            };
            Some(Sms {
                key_id,
                sign_name,
                template,
                app_id,
                region: n.region.clone().unwrap_or_else(|| "ap-guangzhou".into()),
                params,
            })
        } else {
            for (key, v) in sms_keys {
                if let Some(v) = v {
                    self.push(
                        v.span(),
                        format!("[[notify]] {id}: `{key}` is for aliyun_sms and tencent_sms only"),
                    );
                }
            }
            None
        }
    }
}

/// Takes the `notify:ID` entries out of one `[people]` role as written (the rest are mail
/// addresses), checking that each names a defined notifier.
pub(crate) fn take_from_role(
    role: &str,
    list: &mut Option<Spanned<Vec<Spanned<String>>>>,
    known: &[String],
    errs: &mut Diagnostics,
    path: &Path,
    source: &str,
) -> Vec<String> {
    let Some(list) = list.as_mut() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    list.get_mut().retain(|entry| {
        let Some(id) = entry.get_ref().trim().strip_prefix("notify:") else {
            return true;
        };
        let id = id.trim().to_string();
        if known.contains(&id) {
            if !out.contains(&id) {
                out.push(id);
            }
        } else {
            errs.push(Diagnostic::at(
                path,
                source,
                entry.span().start,
                format!(
                    "[people] {role}: no [[notify]] has the id `{id}`{}",
                    crate::rules::escalation::known_list(known)
                ),
            ));
        }
        false
    });
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_literal_secret_is_an_error_that_does_not_repeat_it() {
        let e = crate::config::mistakes(
            "[[notify]]\nid = \"d\"\nkind = \"dingtalk\"\nurl = \"https://oapi.dingtalk.com/robot/send?access_token=abc\"\nsecret = \"SEC0123456789abcdef\"\n",
        );
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(e[0].starts_with("y.toml:5:"), "{e:?}");
        assert!(!e[0].contains("SEC0123456789abcdef"), "{e:?}");
    }

    #[test]
    fn a_bad_url_does_not_repeat_its_key() {
        let e = crate::config::mistakes(
            "[[notify]]\nid = \"w\"\nkind = \"wecom\"\nurl = \"ftp://x/send?key=KEY-123\"\n",
        );
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(
            e[0].starts_with("y.toml:4:") && !e[0].contains("KEY-123"),
            "{e:?}"
        );
    }

    #[test]
    fn leaders_may_be_reached_by_instant_message_only_but_duty_keeps_a_mailbox() {
        let n = "[[notify]]\nid = \"w\"\nkind = \"wecom\"\nurl = \"https://x/\"\n";
        let c = crate::config::parse(
            std::path::Path::new("y.toml"),
            &format!("[people]\nleaders = [\"notify:w\"]\n[escalation.major]\nbreach = [\"leaders\"]\n{n}"),
        )
        .unwrap();
        assert!(c.people.leaders.is_empty());
        assert_eq!(
            c.people.notify.of(crate::rules::escalation::Group::Leaders),
            ["w"]
        );
        let e = crate::config::mistakes(&format!("[people]\nduty = [\"notify:w\"]\n{n}"));
        assert!(
            e[0].starts_with("y.toml:2:") && e[0].contains("duty is empty"),
            "{e:?}"
        );
    }

    #[test]
    fn kinds_limits_and_sms_keys_are_checked() {
        let e = crate::config::mistakes(
            "[[notify]]\nid = \"x\"\nkind = \"slack\"\nurl = \"https://x/\"\n",
        );
        assert!(
            e[0].starts_with("y.toml:3:") && e[0].contains("wecom"),
            "{e:?}"
        );
        let e = crate::config::mistakes(
            "[[notify]]\nid = \"s\"\nkind = \"tencent_sms\"\nsecret = \"env:K\"\nmention_mobiles = [\"13800000000\"]\nkey_id = \"AKID\"\nsign_name = \"文旅\"\ntemplate = \"123\"\n",
        );
        assert!(e.iter().any(|e| e.contains("app_id")), "{e:?}");
        let e = crate::config::mistakes("[[notify]]\nid = \"w\"\nkind = \"wecom\"\nurl = \"https://x/\"\nper_minute = 0\nmention_mobiles = [\"abc\"]\n");
        assert_eq!(e.len(), 2, "{e:?}");
        let c = crate::config::parse(
            std::path::Path::new("y.toml"),
            "[web]\nurl = \"https://yq.example.gov.cn/console\"\n[[notify]]\nid = \"f\"\nkind = \"feishu\"\nurl = \"env:FEISHU_URL\"\nsecret = \"credential:feishu\"\n",
        )
        .unwrap();
        let f = c.notify.get("f").unwrap();
        assert_eq!(f.limit.per_second, Some(5));
        assert_eq!(f.url.describe(), "<env:FEISHU_URL>");
        assert_eq!(
            c.notify.incident_link(7),
            "https://yq.example.gov.cn/console/incidents/7"
        );
    }
}
