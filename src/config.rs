//! The daemon's configuration: one TOML file, parsed once into typed values.
//!
//! Everything an operator writes is checked here, and every mistake is reported with the
//! file and line to fix (`yuqing check`). After [`load`] returns, no other module re-checks a
//! value: durations are [`Span`]s, recipients are [`Mailbox`]es, time zones are [`Tz`]s.
//! A file holding nothing but `[daemon] watchlists = "DIR"` is valid; every other setting
//! has a default that runs on one machine with nothing installed (SQLite and a mail folder
//! under `state_dir`).

pub mod every;
pub mod evidence;
pub mod notify;
pub mod retention;
pub mod search;
pub mod settings;
pub mod web;

use crate::classify::grouping::Grouping;
use crate::rules::deadline::Deadlines;
use crate::rules::escalation::People;
use crate::rules::surge::Surge;
use crate::vocab::diagnostic::{read_toml, Diagnostic, Diagnostics};
use crate::vocab::duration::Span;
use chrono_tz::Tz;
use lettre::message::Mailbox;
use serde::Deserialize;
use std::collections::{BTreeMap, HashSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use toml::Spanned;

/// The whole configuration, as the daemon and every command use it.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file this was read from, for messages.
    pub path: PathBuf,
    pub daemon: Daemon,
    pub mail: Mail,
    pub people: People,
    pub deadlines: Deadlines,
    /// `None` when `[surge] enabled = false`.
    pub surge: Option<Surge>,
    pub sources: Vec<Source>,
    /// The `[[search]]`es, whose terms are among `sources` (`SEARCH-ID/TERM`).
    pub searches: Vec<search::Search>,
    pub channels: Vec<Channel>,
    /// The scheduled reports and reminders (`[jobs]`, see `jobs`).
    pub jobs: crate::rules::jobs::Jobs,
    /// Which incident an item joins (`grouping`).
    pub grouping: Grouping,
    /// Who is mailed at each step, per severity (`escalation`).
    pub escalation: crate::rules::escalation::Escalation,
    /// Instant-message channels and the console address they link to (`[[notify]]`, `[web]`).
    pub notify: notify::Notifiers,
    /// The duty console (`[web]`).
    pub web: web::Web,
    /// Politeness of particular hosts (`[[host]]`), by host name; the others use
    /// `[daemon] per_host` and `host_delay`.
    pub hosts: BTreeMap<String, Politeness>,
    /// How long items outside incidents are kept (`[retention]`).
    pub retention: retention::Retention,
    /// Which items' pages are kept as evidence, where, and when they are checked again
    /// (`[evidence]`).
    pub evidence: evidence::Evidence,
}

/// How politely one host is polled: at most `per_host` requests at once, their starts at
/// least `delay` apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Politeness {
    pub per_host: usize,
    pub delay: Span,
}

impl Config {
    /// The politeness of `host`: its `[[host]]` entry, else `[daemon] per_host` and
    /// `host_delay`.
    pub fn politeness(&self, host: &str) -> Politeness {
        self.hosts.get(host).copied().unwrap_or(Politeness {
            per_host: self.daemon.per_host,
            delay: self.daemon.host_delay,
        })
    }
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

/// A web source that is polled for opinion.
#[derive(Debug, Clone)]
pub struct Source {
    pub id: String,
    pub name: String,
    pub url: url::Url,
    /// How long between polls; with `every = "auto"`, the longest (`every_max`), which
    /// back-off and `stale_after` count from.
    pub every: Span,
    /// `every = "auto"`: polled between `every_min` and `every_max` by how often it
    /// publishes (`rules::cadence`); `None` for a fixed `every`.
    pub auto: Option<crate::rules::cadence::Auto>,
    pub timeout: Span,
    pub headers: BTreeMap<String, String>,
    pub kind: SourceKind,
    /// When set, each new item's own page is fetched and the text under this CSS selector
    /// is classified with its title (list pages and feeds often carry only a title).
    pub body: Option<String>,
    /// No new item for this long mails the operators that the source is silent (answers,
    /// but brings nothing: an RSSHub route whose cookie expired); off when `None`.
    pub stale_after: Option<Span>,
    /// When the 95th percentile of how late its items are first seen (over 7 days) passes
    /// this, the operators are mailed, once per crossing (`rules::lag`); off when `None`.
    pub max_lag: Option<Span>,
}

impl Source {
    /// The shortest interval it may be polled at: what a host's politeness must allow for.
    pub fn shortest_every(&self) -> Span {
        self.auto.map_or(self.every, |a| a.min)
    }
}

#[derive(Debug, Clone)]
pub enum SourceKind {
    /// RSS 0.9x/1.0/2.0, Atom or JSON Feed.
    Feed,
    /// An HTML list page read with CSS selectors.
    Page(PageSelectors),
}

/// CSS selectors of an HTML list page, checked to be valid selectors at load.
#[derive(Debug, Clone)]
pub struct PageSelectors {
    pub item: String,
    pub title: String,
    /// Selector and attribute, e.g. `a.title@href`; without `@`, the element's `href`.
    pub link: String,
    pub date: Option<String>,
    pub summary: Option<String>,
}

/// One of the agency's own channels (website, column, WeChat, Weibo, app).
#[derive(Debug, Clone)]
pub struct Channel {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub url: url::Url,
    pub owner: Vec<Mailbox>,
    /// The publication duty; `None` when the channel is only read (its posts are kept).
    pub duty: Option<crate::rules::duty::Duty>,
    /// Feed or list page, read like a source of that kind.
    pub source_kind: SourceKind,
    /// How often the channel is read (`poll_every`, default 30m).
    pub poll_every: Span,
    pub timeout: Span,
    pub headers: BTreeMap<String, String>,
}

impl Channel {
    /// The channel as a source, so that fetching, parsing and health are the sources' own.
    pub fn as_source(&self) -> Source {
        Source {
            id: self.id.clone(),
            name: self.name.clone(),
            url: self.url.clone(),
            every: self.poll_every,
            auto: None,
            timeout: self.timeout,
            headers: self.headers.clone(),
            kind: self.source_kind.clone(),
            body: None,
            stale_after: None,
            max_lag: None,
        }
    }
}

// ---------------------------------------------------------------------------------------
// The file as written. Spanned fields are the ones checked after parsing, so that their
// errors can name a line.

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    daemon: RawDaemon,
    #[serde(default)]
    mail: RawMail,
    #[serde(default)]
    people: crate::rules::escalation::RawPeople,
    #[serde(default)]
    deadlines: crate::rules::deadline::RawDeadlines,
    #[serde(default)]
    surge: crate::rules::surge::RawSurge,
    #[serde(default)]
    grouping: crate::classify::grouping::RawGrouping,
    #[serde(default)]
    escalation: crate::rules::escalation::RawEscalation,
    #[serde(default, rename = "source")]
    sources: Vec<RawSource>,
    #[serde(default, rename = "search")]
    searches: Vec<search::RawSearch>,
    #[serde(default, rename = "channel")]
    channels: Vec<RawChannel>,
    #[serde(default)]
    jobs: crate::rules::jobs::RawJobs,
    #[serde(default)]
    web: web::RawWeb,
    #[serde(default, rename = "notify")]
    notifiers: Vec<Spanned<notify::RawNotifier>>,
    #[serde(default, rename = "host")]
    hosts: Vec<RawHost>,
    #[serde(default)]
    retention: retention::RawRetention,
    #[serde(default)]
    evidence: evidence::RawEvidence,
}

/// `[[host]]`: one host's own politeness.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHost {
    name: Spanned<String>,
    per_host: Option<usize>,
    host_delay: Option<Span>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawDaemon {
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

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawMail {
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSource {
    id: Spanned<String>,
    name: Option<String>,
    kind: Spanned<String>,
    url: Spanned<String>,
    every: Option<Spanned<every::RawEvery>>,
    every_min: Option<Spanned<Span>>,
    every_max: Option<Spanned<Span>>,
    timeout: Option<Span>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    item: Option<Spanned<String>>,
    title: Option<Spanned<String>>,
    link: Option<Spanned<String>>,
    date: Option<Spanned<String>>,
    summary: Option<Spanned<String>>,
    body: Option<Spanned<String>>,
    stale_after: Option<Spanned<Span>>,
    max_lag: Option<Span>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawChannel {
    id: Spanned<String>,
    name: Option<String>,
    kind: Spanned<String>,
    feed: Option<Spanned<String>>,
    url: Option<Spanned<String>>,
    owner: Option<Spanned<OneOrMany>>,
    duty: Option<Spanned<String>>,
    posts: Option<Spanned<u32>>,
    at_risk: Option<Spanned<toml::Value>>,
    every: Option<Spanned<String>>,
    working_days: Option<Spanned<u32>>,
    poll_every: Option<Span>,
    timeout: Option<Span>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    item: Option<Spanned<String>>,
    title: Option<Spanned<String>>,
    link: Option<Spanned<String>>,
    date: Option<Spanned<String>>,
    summary: Option<Spanned<String>>,
}

#[derive(Deserialize, Clone)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn into_vec(self) -> Vec<String> {
        match self {
            OneOrMany::One(s) => vec![s],
            OneOrMany::Many(v) => v,
        }
    }
}

/// Reads and checks the config file at `path`.
pub fn load(path: &Path) -> Result<Config, Diagnostics> {
    let bytes = std::fs::read(path).map_err(|e| {
        Diagnostic::new(
            path,
            None,
            format!("cannot read the config file: {e} (pass another with --config FILE)"),
        )
    })?;
    let source = Diagnostic::utf8(path, bytes)?;
    parse(path, &source)
}

/// The watchlist folder a config file names, read as far as the file can be read: so
/// that `check` goes on to the watchlists when the file itself has mistakes. None when the
/// file cannot be read at all, or names no folder that exists.
pub fn watchlists_dir(path: &Path) -> Option<PathBuf> {
    let source = std::fs::read_to_string(path).ok()?;
    // As a plain table: a wrong value elsewhere in [daemon] does not hide this key.
    let (table, _) = read_toml::<toml::Table>(path, &source);
    let dir = table
        .as_ref()
        .and_then(|t| {
            t.get("daemon")?
                .get("watchlists")?
                .as_str()
                .map(PathBuf::from)
        })
        .unwrap_or_else(|| PathBuf::from("watchlists"));
    dir.is_dir().then_some(dir)
}

/// Checks config text as if read from `path`.
pub fn parse(path: &Path, source: &str) -> Result<Config, Diagnostics> {
    let (raw, mut errs) = read_toml::<RawConfig>(path, source);
    let Some(mut raw) = raw else {
        return Err(errs);
    };
    // [web] and [[notify]] first: roles and escalation steps may name `notify:ID`, whose
    // messages link to the console.
    let notifier_ids = notify::declared_ids(&raw.notifiers);
    let web = web::check(std::mem::take(&mut raw.web), &mut errs, path, source);
    let retention = retention::check(std::mem::take(&mut raw.retention), &mut errs, path, source);
    let notify = notify::check(
        web.console(),
        std::mem::take(&mut raw.notifiers),
        &mut errs,
        path,
        source,
    );
    let mut role_notifiers = |role: &str, list: &mut Option<Spanned<Vec<Spanned<String>>>>| {
        notify::take_from_role(role, list, &notifier_ids, &mut errs, path, source)
    };
    let people_notify = crate::rules::escalation::RoleNotifiers {
        duty: role_notifiers("duty", &mut raw.people.duty),
        leaders: role_notifiers("leaders", &mut raw.people.leaders),
        principal: role_notifiers("principal", &mut raw.people.principal),
        operators: role_notifiers("operators", &mut raw.people.operators),
        office: role_notifiers("office", &mut raw.people.office),
    };
    let at =
        |span: std::ops::Range<usize>, msg: String| Diagnostic::at(path, source, span.start, msg);

    let daemon = daemon(raw.daemon, source, &mut errs, &at);
    let mail = mail(raw.mail, &daemon.state_dir, &mut errs, &at);
    let evidence = evidence::check(
        std::mem::take(&mut raw.evidence),
        &daemon.state_dir,
        &mut errs,
        path,
        source,
    );
    let (people, office_span) = raw.people.check(people_notify, &mut errs, &at);
    let jobs = crate::rules::jobs::check(
        raw.jobs,
        !raw.channels.is_empty(),
        &people,
        &mut errs,
        path,
        source,
    );
    let deadlines = raw.deadlines.check(&mut errs, &at);
    let escalation = raw.escalation.check(
        deadlines.unacknowledged_after,
        &people,
        &notifier_ids,
        &mut errs,
        &at,
    );
    let grouping = raw.grouping.check(&mut errs, &at);
    let (mut sources, channels) =
        sources_and_channels(raw.sources, raw.channels, &mut errs, path, source);
    // Each term of a `[[search]]` is a source of its own (`weibo/某某景区`).
    let mut ids: HashSet<String> = sources
        .iter()
        .map(|s| s.id.clone())
        .chain(channels.iter().map(|c| c.id.clone()))
        .collect();
    let (searches, found) = search::expand(raw.searches, &mut ids, &mut errs, &at);
    sources.extend(found);
    check_office_reached(office_span, &people, &jobs, &channels, &mut errs, &at);
    let surge = raw.surge.check(&mut errs, &at);
    let hosts = hosts(raw.hosts, &daemon, &mut errs, &at);

    errs.into_result(Config {
        path: path.to_path_buf(),
        daemon,
        mail,
        people,
        deadlines,
        surge,
        sources,
        searches,
        channels,
        jobs,
        grouping,
        escalation,
        notify,
        web,
        hosts,
        retention,
        evidence,
    })
}

/// `[[host]]`: a host name as URLs carry it (no scheme, port or path), once each; what is
/// left out is `[daemon]`'s.
fn hosts(
    raw: Vec<RawHost>,
    daemon: &Daemon,
    errs: &mut Diagnostics,
    at: &dyn Fn(std::ops::Range<usize>, String) -> Diagnostic,
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

/// `[daemon]`: where the state, the database, the watchlists and the calendar are, and
/// how the loop runs.
fn daemon(
    raw: RawDaemon,
    source: &str,
    errs: &mut Diagnostics,
    at: &dyn Fn(std::ops::Range<usize>, String) -> Diagnostic,
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

/// `[mail]`: the sender, the transport and the retries.
fn mail(
    raw: RawMail,
    state_dir: &Path,
    errs: &mut Diagnostics,
    at: &dyn Fn(std::ops::Range<usize>, String) -> Diagnostic,
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

/// `[[source]]` and `[[channel]]`: ids are unique across both, since items and health are
/// recorded by id.
fn sources_and_channels(
    raw_sources: Vec<RawSource>,
    raw_channels: Vec<RawChannel>,
    errs: &mut Diagnostics,
    path: &Path,
    source: &str,
) -> (Vec<Source>, Vec<Channel>) {
    let mut ids = HashSet::new();
    let mut sources = Vec::new();
    for s in raw_sources {
        if let Some(src) = check_source(s, &mut ids, errs, path, source) {
            sources.push(src);
        }
    }
    let mut channels = Vec::new();
    for c in raw_channels {
        if let Some(ch) = check_channel(c, &mut ids, errs, path, source) {
            channels.push(ch);
        }
    }
    (sources, channels)
}

/// The office gets the scheduled reports and the duty alerts of channels without an
/// owner: an empty `[people] office` is an error only when one of them is on.
fn check_office_reached(
    office_span: Option<std::ops::Range<usize>>,
    people: &People,
    jobs: &crate::rules::jobs::Jobs,
    channels: &[Channel],
    errs: &mut Diagnostics,
    at: &dyn Fn(std::ops::Range<usize>, String) -> Diagnostic,
) {
    if let Some(span) = office_span.filter(|_| people.office.is_empty()) {
        let office_jobs: Vec<&str> = jobs
            .0
            .iter()
            .filter(|j| j.to.contains(&crate::rules::escalation::Recipient::Office))
            .map(|j| j.kind.name())
            .collect();
        let ownerless: Vec<&str> = channels
            .iter()
            .filter(|c| c.duty.is_some() && c.owner.is_empty())
            .map(|c| c.id.as_str())
            .collect();
        if !office_jobs.is_empty() || !ownerless.is_empty() {
            let mut what = Vec::new();
            if !office_jobs.is_empty() {
                what.push(format!("[jobs] {}", office_jobs.join(", ")));
            }
            if !ownerless.is_empty() {
                what.push(format!(
                    "the duty alerts of owner-less channel {}",
                    ownerless.join(", ")
                ));
            }
            errs.push(at(
                span,
                format!(
                    "[people] office is empty: {} would be mailed to nobody; give at least one \
                     address, or leave the key out to use the duty officers",
                    what.join(" and ")
                ),
            ));
        }
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

fn check_id(
    id: &Spanned<String>,
    ids: &mut HashSet<String>,
    errs: &mut Diagnostics,
    path: &Path,
    source: &str,
) -> bool {
    let value = id.get_ref();
    let ok_chars = !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if !ok_chars {
        errs.push(Diagnostic::at(
            path,
            source,
            id.span().start,
            format!("id `{value}` must be non-empty ASCII letters, digits, `-`, `_` or `.`"),
        ));
        return false;
    }
    if !ids.insert(value.clone()) {
        errs.push(Diagnostic::at(
            path,
            source,
            id.span().start,
            format!("duplicate id `{value}`: every source and channel needs its own id"),
        ));
        return false;
    }
    true
}

/// The longest source URL accepted. Web servers refuse request lines much over 8 KiB
/// (nginx, Apache) and the HTTP client cannot send a URL of 64 KiB or more: a longer one
/// passed `check` and then failed every poll (issue 16).
pub const MAX_URL_BYTES: usize = 8 * 1024;

fn check_url(
    url: &Spanned<String>,
    errs: &mut Diagnostics,
    path: &Path,
    source: &str,
) -> Option<url::Url> {
    let shown = crate::vocab::text::bounded(url.get_ref().trim(), 120);
    let problem = match url::Url::parse(url.get_ref().trim()) {
        Ok(u) if !matches!(u.scheme(), "http" | "https") => {
            format!("url `{shown}` must be http:// or https://")
        }
        Ok(u) if u.as_str().len() > MAX_URL_BYTES => format!(
            "url `{shown}` is {} bytes long; web servers refuse URLs over {MAX_URL_BYTES} \
             bytes and the HTTP client cannot send them: give the feed's or page's own address",
            u.as_str().len()
        ),
        Ok(u) => return Some(u),
        Err(e) => format!("invalid url `{shown}`: {e}"),
    };
    errs.push(Diagnostic::at(path, source, url.span().start, problem));
    None
}

fn check_source(
    s: RawSource,
    ids: &mut HashSet<String>,
    errs: &mut Diagnostics,
    path: &Path,
    source: &str,
) -> Option<Source> {
    let id_ok = check_id(&s.id, ids, errs, path, source);
    let url = check_url(&s.url, errs, path, source);
    let id = s.id.get_ref().clone();
    let kind = match s.kind.get_ref().as_str() {
        "feed" => {
            for (field, value) in [
                ("item", &s.item),
                ("title", &s.title),
                ("link", &s.link),
                ("date", &s.date),
                ("summary", &s.summary),
            ] {
                if let Some(v) = value {
                    errs.push(Diagnostic::at(
                        path,
                        source,
                        v.span().start,
                        format!("source `{id}`: `{field}` is a selector for kind = \"page\"; a feed needs none"),
                    ));
                }
            }
            Some(SourceKind::Feed)
        }
        "page" => page_selectors(
            [&s.item, &s.title, &s.link, &s.date, &s.summary],
            s.kind.span().start,
            &|field| {
                format!(
                    "source `{id}` of kind \"page\" needs {} `{field}` selector",
                    article(field)
                )
            },
            &id,
            errs,
            path,
            source,
        )
        .map(SourceKind::Page),
        other => {
            errs.push(Diagnostic::at(
                path,
                source,
                s.kind.span().start,
                format!("source `{id}`: unknown kind `{other}`: expected \"feed\" or \"page\""),
            ));
            None
        }
    };
    let body = s
        .body
        .as_ref()
        .and_then(|b| check_selector(b, "body", &id, errs, path, source));
    let (every, auto) = every::resolve(
        s.every.as_ref(),
        s.every_min.as_ref(),
        s.every_max.as_ref(),
        Span::from_secs(300),
        &format!("source `{id}`"),
        errs,
        &|span, message| Diagnostic::at(path, source, span.start, message),
    );
    let stale_after = s.stale_after.map(|st| {
        let v = *st.get_ref();
        if v.std() <= every.std() {
            errs.push(Diagnostic::at(
                path,
                source,
                st.span().start,
                format!(
                    "source `{id}`: stale_after = \"{v}\" is not longer than every ({every}): \
                     the source would be reported silent between two polls; give at least \
                     a few polls' worth, e.g. \"24h\""
                ),
            ));
        }
        v
    });
    Some(Source {
        stale_after,
        max_lag: s.max_lag,
        name: s.name.unwrap_or_else(|| id.clone()),
        url: url?,
        every,
        auto,
        timeout: s.timeout.unwrap_or(Span::from_secs(30)),
        headers: s.headers,
        kind: kind?,
        body,
        id,
    })
    .filter(|_| id_ok)
}

/// Checks that a CSS selector (with an optional `@attribute` suffix) parses.
/// The selectors of an HTML list page (`item`, `title`, `link` required; `date`,
/// `summary` optional), each checked; a missing one is reported at `at` with `missing`.
#[allow(clippy::too_many_arguments)]
fn page_selectors(
    [item, title, link, date, summary]: [&Option<Spanned<String>>; 5],
    at: usize,
    missing: &dyn Fn(&str) -> String,
    id: &str,
    errs: &mut Diagnostics,
    path: &Path,
    source: &str,
) -> Option<PageSelectors> {
    let mut required = |field: &str, v: &Option<Spanned<String>>| match v {
        Some(v) => check_selector(v, field, id, errs, path, source),
        None => {
            errs.push(Diagnostic::at(path, source, at, missing(field)));
            None
        }
    };
    let item = required("item", item);
    let title = required("title", title);
    let link = required("link", link);
    let mut optional = |field: &str, v: &Option<Spanned<String>>| {
        v.as_ref()
            .and_then(|v| check_selector(v, field, id, errs, path, source))
    };
    let date = optional("date", date);
    let summary = optional("summary", summary);
    Some(PageSelectors {
        item: item?,
        title: title?,
        link: link?,
        date,
        summary,
    })
}

fn check_selector(
    v: &Spanned<String>,
    field: &str,
    id: &str,
    errs: &mut Diagnostics,
    path: &Path,
    source: &str,
) -> Option<String> {
    let text = v.get_ref().trim();
    let css = text.split_once('@').map_or(text, |(css, _)| css).trim();
    let css = if css.is_empty() { ":scope" } else { css };
    match scraper::Selector::parse(css) {
        Ok(_) => Some(text.to_string()),
        Err(_) => {
            errs.push(Diagnostic::at(
                path,
                source,
                v.span().start,
                format!("source `{id}`: `{field}` selector `{text}` is not valid CSS"),
            ));
            None
        }
    }
}

fn check_channel(
    c: RawChannel,
    ids: &mut HashSet<String>,
    errs: &mut Diagnostics,
    path: &Path,
    source: &str,
) -> Option<Channel> {
    let id_ok = check_id(&c.id, ids, errs, path, source);
    let id = c.id.get_ref().clone();
    let kind = c.kind.get_ref().clone();
    if !matches!(
        kind.as_str(),
        "website" | "column" | "wechat" | "weibo" | "app"
    ) {
        errs.push(Diagnostic::at(
            path,
            source,
            c.kind.span().start,
            format!("channel `{id}`: unknown kind `{kind}`: expected website, column, wechat, weibo or app"),
        ));
    }
    let selectors = [
        ("item", &c.item),
        ("title", &c.title),
        ("link", &c.link),
        ("date", &c.date),
        ("summary", &c.summary),
    ];
    // `feed = URL` is read as RSS/Atom/JSON Feed; `url = URL` as an HTML list page with
    // the same selectors as a page source.
    let (url, source_kind) = match (&c.feed, &c.url) {
        (Some(f), Some(u)) => {
            errs.push(Diagnostic::at(
                path,
                source,
                u.span().start,
                format!("channel `{id}`: give either `feed` (a feed) or `url` (an HTML list page with selectors), not both (feed is {})", f.get_ref()),
            ));
            (None, None)
        }
        (Some(f), None) => {
            for (field, value) in selectors {
                if let Some(v) = value {
                    errs.push(Diagnostic::at(
                        path,
                        source,
                        v.span().start,
                        format!("channel `{id}`: `{field}` is a selector for an HTML list page (`url = …`); a `feed` needs none"),
                    ));
                }
            }
            (check_url(f, errs, path, source), Some(SourceKind::Feed))
        }
        (None, Some(u)) => {
            let kind = page_selectors(
                [&c.item, &c.title, &c.link, &c.date, &c.summary],
                u.span().start,
                &|field| {
                    format!(
                        "channel `{id}` read from an HTML list page (`url`) needs {} `{field}` selector (or use `feed = …` for a feed)",
                        article(field)
                    )
                },
                &id,
                errs,
                path,
                source,
            )
            .map(SourceKind::Page);
            (check_url(u, errs, path, source), kind)
        }
        (None, None) => {
            errs.push(Diagnostic::at(
                path,
                source,
                c.id.span().start,
                format!("channel `{id}` needs a `feed` (or a list page `url` with selectors) to read its posts from"),
            ));
            (None, None)
        }
    };
    let owner = match c.owner {
        None => Vec::new(),
        Some(o) => {
            let span = o.span();
            o.into_inner()
                .into_vec()
                .iter()
                .filter_map(|a| match crate::rules::escalation::mailbox(a) {
                    Ok(m) => Some(m),
                    Err(e) => {
                        errs.push(Diagnostic::at(
                            path,
                            source,
                            span.start,
                            format!("channel `{id}`: {e}"),
                        ));
                        None
                    }
                })
                .collect()
        }
    };
    let duty = crate::rules::duty::check_duty(
        &id,
        &c.id,
        crate::rules::duty::RawDuty {
            duty: c.duty,
            posts: c.posts,
            at_risk: c.at_risk,
            every: c.every,
            working_days: c.working_days,
        },
        errs,
        path,
        source,
    );
    let poll_every = c.poll_every.unwrap_or(Span::from_secs(30 * 60));
    if poll_every.as_secs() == 0 {
        errs.push(Diagnostic::at(
            path,
            source,
            c.id.span().start,
            format!("channel `{id}`: `poll_every` must be longer than 0s"),
        ));
    }
    Some(Channel {
        name: c.name.unwrap_or_else(|| id.clone()),
        url: url?,
        owner,
        duty: duty.ok()?,
        source_kind: source_kind?,
        poll_every,
        timeout: c.timeout.unwrap_or(Span::from_secs(30)),
        headers: c.headers,
        kind,
        id,
    })
    .filter(|_| id_ok)
}

/// "a" or "an" before a selector's name, for messages.
fn article(word: &str) -> &'static str {
    if word.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(text: &str) -> Vec<String> {
        match parse(Path::new("yuqing.toml"), text) {
            Ok(_) => vec![],
            Err(d) => d.0.iter().map(|d| d.to_string()).collect(),
        }
    }

    #[test]
    fn minimal_file_gets_embedded_defaults() {
        let c = parse(Path::new("y.toml"), "[daemon]\nwatchlists = \"w\"\n").unwrap();
        assert_eq!(c.daemon.watchlists, PathBuf::from("w"));
        assert_eq!(c.daemon.database, "sqlite://var/yuqing.db");
        assert_eq!(c.daemon.timezone, chrono_tz::Asia::Shanghai);
        assert!(
            matches!(c.mail.transport, Transport::File { ref dir } if dir == Path::new("var/mail"))
        );
        assert_eq!(c.deadlines.major_release.as_secs(), 5 * 3600);
        assert_eq!(c.deadlines.major_press_conference.as_secs(), 24 * 3600);
        assert_eq!(c.deadlines.ordinary_response.as_secs(), 48 * 3600);
        assert!(c.sources.is_empty());
        assert_eq!(c.daemon.lease.as_secs(), 60);
        let c = parse(Path::new("y.toml"), "[daemon]\nlease = \"15s\"\n").unwrap();
        assert_eq!(c.daemon.lease.as_secs(), 15);
    }

    #[test]
    fn unknown_key_names_file_and_line() {
        let errs = errors("[daemon]\nwatchlists = \"w\"\n\n[[source]]\nid = \"a\"\nkind = \"feed\"\nurl = \"http://x/\"\nevry = \"5m\"\n");
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert!(
            errs[0].starts_with("yuqing.toml:8: unknown field `evry`"),
            "{errs:?}"
        );
    }

    #[test]
    fn bad_duration_names_its_line() {
        let errs = errors("[deadlines]\nmajor_release = \"5 hours\"\n");
        assert!(
            errs[0].starts_with("yuqing.toml:2: `major_release`: invalid duration `5 hours`"),
            "{errs:?}"
        );
    }

    #[test]
    fn every_semantic_error_is_reported_with_its_line() {
        let text = r#"[daemon]
timezone = "Asia/Beijing"

[people]
duty = ["not an address"]

[[source]]
id = "a"
kind = "feed"
url = "ftp://example.cn/rss"

[[source]]
id = "a"
kind = "page"
url = "https://example.cn/list"
item = "ul >"
"#;
        let errs = errors(text);
        let expect = [
            "yuqing.toml:2: unknown time zone `Asia/Beijing`",
            "yuqing.toml:5: invalid mail address `not an address`",
            "yuqing.toml:10: url `ftp://example.cn/rss` must be http:// or https://",
            "yuqing.toml:13: duplicate id `a`",
            "yuqing.toml:14: source `a` of kind \"page\" needs a `title` selector",
            "yuqing.toml:16: source `a`: `item` selector `ul >` is not valid CSS",
        ];
        for e in expect {
            assert!(
                errs.iter().any(|got| got.starts_with(e)),
                "missing {e:?} in {errs:#?}"
            );
        }
    }

    #[test]
    fn smtp_needs_its_table() {
        let errs = errors("[mail]\ntransport = \"smtp\"\n");
        assert!(
            errs[0].starts_with("yuqing.toml:2: transport = \"smtp\" needs"),
            "{errs:?}"
        );
        let c = parse(
            Path::new("y.toml"),
            "[mail]\ntransport = \"smtp\"\nsmtp = { host = \"mail.example.cn\", tls = \"tls\", user = \"yq\" }\n",
        )
        .unwrap();
        match c.mail.transport {
            Transport::Smtp(s) => {
                assert_eq!(
                    (s.host.as_str(), s.port, s.tls),
                    ("mail.example.cn", 465, Tls::Tls)
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_empty_recipient_list_that_would_mail_nobody_is_an_error() {
        let errs = errors("[people]\nduty = []\n");
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert!(
            errs[0].starts_with("yuqing.toml:2: [people] duty is empty: every new incident"),
            "{errs:?}"
        );
        let errs = errors("[people]\nduty = [\"d@x.cn\"]\noperators = []\n");
        assert!(
            errs[0].starts_with("yuqing.toml:3: [people] operators is empty"),
            "{errs:?}"
        );
        // An explicit step that resolves to nobody: the roles named are all empty.
        let errs = errors(
            "[people]\nduty = [\"d@x.cn\"]\nleaders = []\n\n[escalation.major]\nbreach = [\"leaders\"]\n",
        );
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert!(
            errs[0].starts_with(
                "yuqing.toml:6: [escalation.major] breach reaches nobody ([people] leaders empty)"
            ),
            "{errs:?}"
        );
        let errs = errors("[escalation.major]\nbreach = []\n");
        assert!(
            errs[0].starts_with("yuqing.toml:2: [escalation.major] breach reaches nobody:"),
            "{errs:?}"
        );
        // Empty leaders are fine while every step still reaches the duty officers.
        assert_eq!(
            errors("[people]\nleaders = []\nprincipal = []\n"),
            Vec::<String>::new()
        );
        // The office: an error only when something mails it.
        assert_eq!(errors("[people]\noffice = []\n"), Vec::<String>::new());
        let errs = errors("[people]\noffice = []\n\n[jobs]\nledger = \"0 9 24 * *\"\n");
        assert!(
            errs[0].starts_with("yuqing.toml:2: [people] office is empty: [jobs] ledger"),
            "{errs:?}"
        );
    }

    /// The first error of `text`, which must have exactly one.
    fn one_error(text: &str) -> String {
        let errs = errors(text);
        assert_eq!(errs.len(), 1, "{text:?} gave {errs:#?}");
        errs.into_iter().next().unwrap_or_default()
    }

    #[test]
    fn daemon_timings_that_cannot_work_are_errors_at_their_line() {
        let e = one_error("[daemon]\nheader_timeout = \"10ms\"\n");
        assert!(
            e.starts_with("yuqing.toml:2: [daemon] header_timeout = \"10ms\" leaves a client"),
            "{e}"
        );
        let e = one_error("[daemon]\nwatchlists = \"w\"\nstuck_after = \"0s\"\n");
        assert!(
            e.starts_with("yuqing.toml:3: [daemon] stuck_after = \"0s\" is not longer than tick"),
            "{e}"
        );
        let e = one_error("[daemon]\nlease = \"0s\"\n");
        assert!(
            e.starts_with("yuqing.toml:2: [daemon] lease = \"0s\" is below 1s"),
            "{e}"
        );
        let e = one_error("[daemon]\nlease = \"500ms\"\n");
        assert!(
            e.starts_with("yuqing.toml:2: [daemon] lease = \"500ms\" is below 1s"),
            "{e}"
        );
        let e = one_error("[daemon]\ntick = \"30s\"\nlease = \"10s\"\n");
        assert!(
            e.starts_with("yuqing.toml:3: [daemon] lease = \"10s\" is shorter than tick (30s)"),
            "{e}"
        );
        let e = one_error("[daemon]\ntick = \"0s\"\n");
        assert!(
            e.starts_with("yuqing.toml:2: [daemon] tick = \"0s\""),
            "{e}"
        );
        // What the tests and the example config use stays valid.
        assert_eq!(
            errors("[daemon]\ntick = \"200ms\"\nlease = \"1s\"\nstuck_after = \"2s\"\n"),
            Vec::<String>::new()
        );
    }

    #[test]
    fn retry_min_above_retry_max_is_an_error() {
        let e = one_error("[mail]\nretry_min = \"2h\"\n");
        assert!(
            e.starts_with("yuqing.toml:2: [mail] retry_min (2h) is longer than retry_max (1h)"),
            "{e}"
        );
        let e = one_error("[mail]\n\nretry_max = \"10s\"\n");
        assert!(
            e.starts_with("yuqing.toml:3: [mail] retry_min (30s) is longer than retry_max (10s)"),
            "{e}"
        );
    }

    #[test]
    fn deadlines_may_be_tighter_than_the_statutory_ones_never_looser() {
        let e = one_error("[deadlines]\nmajor_release = \"0s\"\n");
        assert!(
            e.starts_with("yuqing.toml:2: [deadlines] major_release = \"0s\": a deadline must be longer than 0s"),
            "{e}"
        );
        let e = one_error("[deadlines]\nmajor_release = \"6h\"\n");
        assert!(
            e.starts_with(
                "yuqing.toml:2: [deadlines] major_release = \"6h\" is looser than the statutory 5h \
                 (特别重大/重大: publish authoritative information within 5 hours)"
            ),
            "{e}"
        );
        let e = one_error("[deadlines]\nmajor_press_conference = \"25h\"\n");
        assert!(
            e.contains("statutory 1d") && e.contains("press conference within 24 hours"),
            "{e}"
        );
        let e = one_error("[deadlines]\n\nordinary_response = \"3d\"\n");
        assert!(
            e.starts_with("yuqing.toml:3:") && e.contains("respond within 48 hours"),
            "{e}"
        );
        let c = parse(
            Path::new("y.toml"),
            "[deadlines]\nmajor_release = \"3h\"\nrelease_reminders = [\"1h\"]\n",
        )
        .unwrap();
        assert_eq!(c.deadlines.major_release.as_secs(), 3 * 3600);
        // A reminder at or beyond the deadline.
        let e = one_error("[deadlines]\nrelease_reminders = [\"6h\"]\n");
        assert!(
            e.starts_with(
                "yuqing.toml:2: [deadlines] release_reminders: a reminder 6h before the deadline \
                 is not within it (major_release is 5h)"
            ),
            "{e}"
        );
        let e = one_error("[deadlines]\nmajor_release = \"2h\"\nrelease_reminders = [\"2h\"]\n");
        assert!(
            e.starts_with("yuqing.toml:3:") && e.contains("not within it"),
            "{e}"
        );
        let e = one_error("[deadlines]\nresponse_reminders = [\"0s\"]\n");
        assert!(e.contains("is the deadline itself"), "{e}");
    }

    #[test]
    fn a_zero_surge_threshold_is_an_error() {
        let e = one_error("[surge]\nitems = 0\n");
        assert!(
            e.starts_with("yuqing.toml:2: [surge] items = 0 is no threshold"),
            "{e}"
        );
        let e = one_error("[surge]\nitems = 5\nsources = 0\n");
        assert!(
            e.starts_with("yuqing.toml:3: [surge] sources = 0 is no threshold"),
            "{e}"
        );
    }
}
