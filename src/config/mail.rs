//! `[mail]`: the sender, the transport (a folder of `.eml` files or SMTP) and the retries.

use crate::vocab::diagnostic::{Diagnostics, SpanToDiagnostic};
use crate::vocab::duration::Span;
use lettre::message::Mailbox;
use serde::Deserialize;
use std::path::{Path, PathBuf};
use toml::Spanned;

#[derive(Debug, Clone)]
pub struct Mail {
    pub transport: Transport,
    pub from: Mailbox,
    /// How long to wait before retrying a message that could not be delivered; doubles on
    /// each failure up to `retry_max`.
    pub retry_min: Span,
    pub retry_max: Span,
    /// At most one "new items" mail per incident this often.
    pub new_items_every: Span,
}

#[derive(Debug, Clone)]
pub enum Transport {
    /// One `.eml` file per message in this folder.
    File {
        dir: PathBuf,
    },
    Smtp(Smtp),
}

#[derive(Debug, Clone)]
pub struct Smtp {
    pub host: String,
    pub port: u16,
    pub tls: Tls,
    pub user: Option<String>,
    pub timeout: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Tls {
    None,
    Starttls,
    Tls,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawMail {
    transport: Option<Spanned<String>>,
    dir: Option<PathBuf>,
    from: Option<Spanned<String>>,
    smtp: Option<RawSmtp>,
    retry_min: Option<Spanned<Span>>,
    retry_max: Option<Spanned<Span>>,
    new_items_every: Option<Span>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSmtp {
    host: String,
    port: Option<u16>,
    tls: Option<Tls>,
    user: Option<String>,
    timeout: Option<Span>,
}

/// `[mail]`: the sender, the transport and the retries.
pub(super) fn check(
    raw: RawMail,
    state_dir: &Path,
    errs: &mut Diagnostics,
    at: &SpanToDiagnostic,
) -> Mail {
    // [mail]
    let from = match raw.from {
        None => crate::rules::escalation::mailbox("舆情值班 <yuqing@localhost>")
            .expect("default sender parses"),
        Some(f) => crate::rules::escalation::mailbox(f.get_ref()).unwrap_or_else(|e| {
            errs.push(at(f.span(), e));
            crate::rules::escalation::mailbox("yuqing@localhost").expect("fallback parses")
        }),
    };
    let transport = match raw
        .transport
        .as_ref()
        .map(|t| (t.get_ref().as_str(), t.span()))
    {
        None | Some(("file", _)) => Transport::File {
            dir: raw.dir.clone().unwrap_or_else(|| state_dir.join("mail")),
        },
        Some(("smtp", span)) => match raw.smtp {
            Some(s) => {
                let tls = s.tls.unwrap_or(Tls::Starttls);
                Transport::Smtp(Smtp {
                    port: s.port.unwrap_or(match tls {
                        Tls::None => 25,
                        Tls::Starttls => 587,
                        Tls::Tls => 465,
                    }),
                    host: s.host,
                    tls,
                    user: s.user,
                    timeout: s.timeout.unwrap_or(Span::from_secs(30)),
                })
            }
            None => {
                errs.push(at(
                    span,
                    "transport = \"smtp\" needs `smtp = { host = \"…\", port = 587, tls = \"starttls\", user = \"…\" }`".into(),
                ));
                Transport::File {
                    dir: state_dir.join("mail"),
                }
            }
        },
        Some((other, span)) => {
            errs.push(at(
                span,
                format!("unknown mail transport `{other}`: expected \"file\" or \"smtp\""),
            ));
            Transport::File {
                dir: state_dir.join("mail"),
            }
        }
    };
    let retry_min = raw.retry_min.as_ref().map(|r| *r.get_ref());
    let retry_max = raw.retry_max.as_ref().map(|r| *r.get_ref());
    let retry_min = retry_min.unwrap_or(Span::from_secs(30));
    let retry_max = retry_max.unwrap_or(Span::from_secs(3600));
    if retry_min.std() > retry_max.std() {
        // At the line of whichever was written (the other is its default).
        let span = raw
            .retry_min
            .as_ref()
            .or(raw.retry_max.as_ref())
            .map(|r| r.span())
            .unwrap_or(0..0);
        errs.push(at(
            span,
            format!(
                "[mail] retry_min ({retry_min}) is longer than retry_max ({retry_max}): the wait \
                 before a retry starts at retry_min and doubles up to retry_max"
            ),
        ));
    }
    Mail {
        transport,
        from,
        retry_min,
        retry_max,
        new_items_every: raw.new_items_every.unwrap_or(Span::from_secs(30 * 60)),
    }
}
