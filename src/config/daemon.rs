//! `[daemon]` and `[[host]]`: where the state, the database, the watchlists and the
//! calendar are, how the loop runs, and how politely each host is polled.

use crate::vocab::diagnostic::{Diagnostics, SpanToDiagnostic};
use crate::vocab::duration::Span;
use chrono_tz::Tz;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use toml::Spanned;

/// How politely one host is polled: at most `per_host` requests at once, their starts at
/// least `delay` apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Politeness {
    pub per_host: usize,
    pub delay: Span,
}

#[derive(Debug, Clone)]
pub struct Daemon {
    pub watchlists: PathBuf,
    pub timezone: Tz,
    /// `sqlite://…` (default `sqlite://<state_dir>/yuqing.db`) or `postgres://…`.
    pub database: String,
    /// The folder of holiday-cn calendar files, one `*.json` per year (see `calendar`);
    /// default `config/calendar`.
    pub calendar: PathBuf,
    /// The line of `calendar` in the config file, when written there (for the error when
    /// a working-day count needs the folder and it is missing).
    pub calendar_line: Option<usize>,
    /// Where `yuqing calendar update` (and the daemon, once a day) fetches holiday-cn files
    /// (`<calendar_url>/2027.json`); `None`: the calendar is kept by hand.
    pub calendar_url: Option<url::Url>,
    pub state_dir: PathBuf,
    /// How often the scheduler looks for due work when nothing is due sooner.
    pub tick: Span,
    pub user_agent: String,
    /// A source failing for longer than this mails the operators (once, and again when it
    /// recovers).
    pub source_alert_after: Span,
    /// Requests to one host at the same time.
    pub per_host: usize,
    /// Polls running at the same time, over all hosts (default 16).
    pub max_concurrent_polls: usize,
    /// Minimum pause between two requests to one host.
    pub host_delay: Span,
    /// Where `/metrics` and `/healthz` are served; `None` (the default) serves nothing.
    pub metrics: Option<std::net::SocketAddr>,
    /// `/healthz` fails when no loop turn completed for this long (default: 3 ticks, at
    /// least 60s).
    pub stuck_after: Span,
    /// A client of the console or of `/metrics` must send a request's headers within this
    /// time (default 10s), or its connection is closed (see `web::listener`).
    pub header_timeout: Span,
    /// How long a daemon's claim on shared work (the housekeeping lead, a source being
    /// polled, a message being sent) lasts unless renewed: when a daemon dies, another
    /// takes over its work within this time. Must exceed the longest poll.
    pub lease: Span,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDaemon {
    watchlists: Option<PathBuf>,
    timezone: Option<Spanned<String>>,
    database: Option<Spanned<String>>,
    calendar: Option<Spanned<PathBuf>>,
    calendar_url: Option<Spanned<String>>,
    state_dir: Option<PathBuf>,
    tick: Option<Spanned<Span>>,
    user_agent: Option<String>,
    source_alert_after: Option<Span>,
    per_host: Option<usize>,
    max_concurrent_polls: Option<usize>,
    host_delay: Option<Span>,
    metrics: Option<Spanned<String>>,
    metrics_public: Option<bool>,
    stuck_after: Option<Spanned<Span>>,
    lease: Option<Spanned<Span>>,
    header_timeout: Option<Spanned<Span>>,
}

/// `[[host]]`: one host's own politeness.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawHost {
    name: Spanned<String>,
    per_host: Option<usize>,
    host_delay: Option<Span>,
}

/// `[daemon]`: where the state, the database, the watchlists and the calendar are, and
/// how the loop runs.
pub(super) fn check(
    raw: RawDaemon,
    source: &str,
    errs: &mut Diagnostics,
    at: &SpanToDiagnostic,
) -> Daemon {
    // [daemon]
    // Under systemd (StateDirectory=yuqing) the state goes where systemd says, since the
    // config folder is read-only there; elsewhere `var` beside the working directory.
    let state_dir = raw.state_dir.unwrap_or_else(|| {
        std::env::var("STATE_DIRECTORY")
            .ok()
            .and_then(|v| v.split(':').next().map(PathBuf::from))
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or_else(|| PathBuf::from("var"))
    });
    let timezone = match raw.timezone {
        None => chrono_tz::Asia::Shanghai,
        Some(tz) => match tz.get_ref().parse::<Tz>() {
            Ok(tz) => tz,
            Err(_) => {
                errs.push(at(
                    tz.span(),
                    format!(
                        "unknown time zone `{}`: use an IANA name such as \"Asia/Shanghai\"",
                        tz.get_ref()
                    ),
                ));
                chrono_tz::Asia::Shanghai
            }
        },
    };
    let database = match raw.database {
        None => format!("sqlite://{}", state_dir.join("yuqing.db").display()),
        Some(db) => {
            let url = db.get_ref().trim().to_string();
            if !(url.starts_with("sqlite:")
                || url.starts_with("postgres:")
                || url.starts_with("postgresql:"))
            {
                errs.push(at(
                    db.span(),
                    format!("database `{url}` is neither `sqlite://PATH` nor `postgres://…`"),
                ));
            }
            url
        }
    };
    let metrics = raw.metrics.and_then(|m| {
        listen_address(m.get_ref(), raw.metrics_public.unwrap_or(false))
            .map_err(|msg| errs.push(at(m.span(), msg)))
            .ok()
    });
    let tick = raw.tick.map_or(Span::from_secs(1), |t| {
        if t.get_ref().std().is_zero() {
            errs.push(at(
                t.span(),
                "[daemon] tick = \"0s\": the scheduler would never rest; give e.g. \"1s\"".into(),
            ));
        }
        *t.get_ref()
    });
    let stuck_after = match raw.stuck_after {
        None => Span((tick.std() * 3).max(std::time::Duration::from_secs(60))),
        Some(s) => {
            if s.get_ref().std() <= tick.std() {
                errs.push(at(
                    s.span(),
                    format!(
                        "[daemon] stuck_after = \"{}\" is not longer than tick ({tick}): /healthz \
                         would report the daemon stuck while it works; leave it out for the \
                         default (3 ticks, at least 60s)",
                        s.get_ref()
                    ),
                ));
            }
            *s.get_ref()
        }
    };
    let lease = match raw.lease {
        None => Span::from_secs(60),
        Some(l) => {
            let v = *l.get_ref();
            if v.std() < std::time::Duration::from_secs(1) {
                errs.push(at(
                    l.span(),
                    format!(
                        "[daemon] lease = \"{v}\" is below 1s: another daemon would take over \
                         work still in progress; give at least 1s (default 60s)"
                    ),
                ));
            } else if v.std() < tick.std() {
                errs.push(at(
                    l.span(),
                    format!(
                        "[daemon] lease = \"{v}\" is shorter than tick ({tick}): a claim would \
                         lapse before the daemon renews it; give at least the tick"
                    ),
                ));
            }
            v
        }
    };
    let header_timeout = match raw.header_timeout {
        None => Span::from_secs(10),
        Some(h) => {
            if h.get_ref().std() < std::time::Duration::from_millis(100) {
                errs.push(at(
                    h.span(),
                    format!(
                        "[daemon] header_timeout = \"{}\" leaves a client no time to send a \
                         request; give at least 100ms (default 10s)",
                        h.get_ref()
                    ),
                ));
            }
            *h.get_ref()
        }
    };
    let calendar_url = raw
        .calendar_url
        .and_then(|u| match url::Url::parse(u.get_ref().trim()) {
            Ok(url) if matches!(url.scheme(), "http" | "https") => Some(url),
            _ => {
                errs.push(at(
                    u.span(),
                    format!(
                        "[daemon] calendar_url = \"{}\" is not an http(s) URL: give the folder \
                         that holds the holiday-cn files, e.g. a mirror's \".../holiday-cn/\"",
                        u.get_ref()
                    ),
                ));
                None
            }
        });
    let calendar_line = raw
        .calendar
        .as_ref()
        .map(|c| crate::vocab::diagnostic::line_of(source, c.span().start));
    Daemon {
        metrics,
        stuck_after,
        header_timeout,
        watchlists: raw
            .watchlists
            .unwrap_or_else(|| PathBuf::from("watchlists")),
        timezone,
        database,
        calendar: raw
            .calendar
            .map(Spanned::into_inner)
            .unwrap_or_else(|| PathBuf::from(crate::rules::calendar::DEFAULT_DIR)),
        calendar_line,
        calendar_url,
        tick,
        user_agent: raw.user_agent.unwrap_or_else(|| {
            format!(
                "yuqing/{} (public opinion monitor)",
                env!("CARGO_PKG_VERSION")
            )
        }),
        state_dir: state_dir.clone(),
        source_alert_after: raw.source_alert_after.unwrap_or(Span::from_secs(6 * 3600)),
        per_host: raw.per_host.unwrap_or(2).max(1),
        max_concurrent_polls: raw.max_concurrent_polls.unwrap_or(16).clamp(1, 512),
        host_delay: raw.host_delay.unwrap_or(Span::from_secs(1)),
        lease,
    }
}

/// Checks `[daemon] metrics`: an `address:port`, on loopback unless `public`.
pub fn listen_address(text: &str, public: bool) -> Result<SocketAddr, String> {
    let addr: SocketAddr = text.trim().parse().map_err(|_| {
        format!("metrics `{text}` is not an address:port such as \"127.0.0.1:9464\"")
    })?;
    if !addr.ip().is_loopback() && !public {
        return Err(format!(
            "metrics `{text}` is not a loopback address; /metrics has no authentication, so \
             serving it beyond this machine needs `metrics_public = true` (and a firewall)"
        ));
    }
    Ok(addr)
}

/// `[[host]]`: a host name as URLs carry it (no scheme, port or path), once each; what is
/// left out is `[daemon]`'s.
pub(super) fn hosts(
    raw: Vec<RawHost>,
    daemon: &Daemon,
    errs: &mut Diagnostics,
    at: &SpanToDiagnostic,
) -> BTreeMap<String, Politeness> {
    let mut hosts = BTreeMap::new();
    for h in raw {
        let written = h.name.get_ref().trim();
        // As a URL's host_str has it: domain names in lower case (and punycode).
        let name = url::Url::parse(&format!("http://{written}/"))
            .ok()
            .filter(|u| u.port().is_none() && u.host_str().is_some())
            .and_then(|u| u.host_str().map(str::to_string))
            .filter(|_| !written.is_empty() && !written.contains(['/', '@']));
        let Some(name) = name else {
            errs.push(at(
                h.name.span(),
                format!(
                    "[[host]] name `{}` is not a host name: write it as in the sources' URLs, \
                     without scheme, port or path, like \"www.example.gov.cn\"",
                    h.name.get_ref()
                ),
            ));
            continue;
        };
        let politeness = Politeness {
            per_host: h.per_host.unwrap_or(daemon.per_host).max(1),
            delay: h.host_delay.unwrap_or(daemon.host_delay),
        };
        if hosts.insert(name.clone(), politeness).is_some() {
            errs.push(at(
                h.name.span(),
                format!("[[host]] `{name}` is given twice: give each host one entry"),
            ));
        }
    }
    hosts
}
