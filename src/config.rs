//! The daemon's configuration: one TOML file, parsed once into typed values.
//!
//! Everything an operator writes is checked here, and every mistake is reported with the
//! file and line to fix (`yuqing check`). After [`load`] returns, no other module re-checks a
//! value: durations are [`Span`]s, recipients are [`Mailbox`]es, time zones are [`Tz`]s.
//! A file holding nothing but `[daemon] watchlists = "DIR"` is valid; every other setting
//! has a default that runs on one machine with nothing installed (SQLite and a mail folder
//! under `state_dir`). Each section is checked in its own file (`daemon`, `mail`, `source`,
//! `channel`, …, or beside the rule it configures); this one assembles them.
//!
//! [`Span`]: crate::vocab::duration::Span
//! [`Mailbox`]: lettre::message::Mailbox
//! [`Tz`]: chrono_tz::Tz

pub mod channel;
pub mod daemon;
pub mod every;
pub mod evidence;
pub mod mail;
pub mod notify;
pub mod retention;
pub mod search;
pub mod settings;
pub mod source;
pub mod web;

pub use channel::Channel;
pub use daemon::{listen_address, Daemon, Politeness};
pub use mail::{Mail, Smtp, Tls, Transport};
pub use source::{PageSelectors, Source, SourceKind, MAX_URL_BYTES};

use crate::classify::grouping::Grouping;
use crate::rules::deadline::Deadlines;
use crate::rules::escalation::{Group, People, Recipient};
use crate::rules::surge::Surge;
use crate::vocab::diagnostic::{read_toml, Diagnostic, Diagnostics, SpanToDiagnostic};
use serde::Deserialize;
use std::collections::{BTreeMap, HashSet};
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

impl Config {
    /// The politeness of `host`: its `[[host]]` entry, else `[daemon] per_host` and
    /// `host_delay`.
    pub fn politeness(&self, host: &str) -> Politeness {
        self.hosts.get(host).copied().unwrap_or(Politeness {
            per_host: self.daemon.per_host,
            delay: self.daemon.host_delay,
        })
    }

    /// Every source, then every own channel, by what the two share.
    pub fn polled(&self) -> impl Iterator<Item = Polled<'_>> {
        let sources = self.sources.iter().map(|s| Polled {
            id: &s.id,
            name: &s.name,
            url: &s.url,
        });
        let channels = self.channels.iter().map(|c| Polled {
            id: &c.id,
            name: &c.name,
            url: &c.url,
        });
        sources.chain(channels)
    }
}

/// A source or an own channel by what the two share: both are polled from a URL, and
/// named by an id that no other source or channel has (`source::check_id`).
#[derive(Debug, Clone, Copy)]
pub struct Polled<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub url: &'a url::Url,
}

// ---------------------------------------------------------------------------------------
// The file as written. Spanned fields are the ones checked after parsing, so that their
// errors can name a line.

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    daemon: daemon::RawDaemon,
    #[serde(default)]
    mail: mail::RawMail,
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
    sources: Vec<source::RawSource>,
    #[serde(default, rename = "search")]
    searches: Vec<search::RawSearch>,
    #[serde(default, rename = "channel")]
    channels: Vec<channel::RawChannel>,
    #[serde(default)]
    jobs: crate::rules::jobs::RawJobs,
    #[serde(default)]
    web: web::RawWeb,
    #[serde(default, rename = "notify")]
    notifiers: Vec<Spanned<notify::RawNotifier>>,
    #[serde(default, rename = "host")]
    hosts: Vec<daemon::RawHost>,
    #[serde(default)]
    retention: retention::RawRetention,
    #[serde(default)]
    evidence: evidence::RawEvidence,
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
    let people_notify = crate::rules::escalation::RoleNotifiers::new(
        Group::ALL.map(|g| (g, role_notifiers(g.as_str(), raw.people.list_mut(g)))),
    );
    let at = Diagnostic::spans_in(path, source);

    let daemon = daemon::check(raw.daemon, source, &mut errs, &at);
    let mail = mail::check(raw.mail, &daemon.state_dir, &mut errs, &at);
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
    let hosts = daemon::hosts(raw.hosts, &daemon, &mut errs, &at);

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

/// `[[source]]` and `[[channel]]`: ids are unique across both, since items and health are
/// recorded by id.
fn sources_and_channels(
    raw_sources: Vec<source::RawSource>,
    raw_channels: Vec<channel::RawChannel>,
    errs: &mut Diagnostics,
    path: &Path,
    source: &str,
) -> (Vec<Source>, Vec<Channel>) {
    let mut ids = HashSet::new();
    let mut sources = Vec::new();
    for s in raw_sources {
        if let Some(src) = source::check(s, &mut ids, errs, path, source) {
            sources.push(src);
        }
    }
    let mut channels = Vec::new();
    for c in raw_channels {
        if let Some(ch) = channel::check(c, &mut ids, errs, path, source) {
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
    at: &SpanToDiagnostic,
) {
    if let Some(span) = office_span.filter(|_| people.office.is_empty()) {
        let office_jobs: Vec<&str> = jobs
            .0
            .iter()
            .filter(|j| j.to.contains(&Recipient::Group(Group::Office)))
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

/// The mistakes [`parse`] finds in `text` read as `y.toml`, each as `yuqing check` prints
/// it; none when it parses. For the tests of each section's checks.
#[cfg(test)]
pub(crate) fn mistakes(text: &str) -> Vec<String> {
    match parse(Path::new("y.toml"), text) {
        Ok(_) => Vec::new(),
        Err(d) => d.0.iter().map(|d| d.to_string()).collect(),
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
    fn an_unknown_key_or_a_bad_duration_names_file_and_line() {
        assert_one_error_each(&[
            (
                "[daemon]\nwatchlists = \"w\"\n\n[[source]]\nid = \"a\"\nkind = \"feed\"\nurl = \"http://x/\"\nevry = \"5m\"\n",
                "yuqing.toml:8: unknown field `evry`",
            ),
            (
                "[deadlines]\nmajor_release = \"5 hours\"\n",
                "yuqing.toml:2: `major_release`: invalid duration `5 hours`",
            ),
        ]);
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
        assert_one_error_each(&[(
            "[mail]\ntransport = \"smtp\"\n",
            "yuqing.toml:2: transport = \"smtp\" needs",
        )]);
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
        assert_one_error_each(&[
            (
                "[people]\nduty = []\n",
                "yuqing.toml:2: [people] duty is empty: every new incident",
            ),
            (
                "[people]\nduty = [\"d@x.cn\"]\noperators = []\n",
                "yuqing.toml:3: [people] operators is empty",
            ),
            // An explicit step that resolves to nobody: the roles named are all empty.
            (
                "[people]\nduty = [\"d@x.cn\"]\nleaders = []\n\n[escalation.major]\nbreach = [\"leaders\"]\n",
                "yuqing.toml:6: [escalation.major] breach reaches nobody ([people] leaders empty)",
            ),
            (
                "[escalation.major]\nbreach = []\n",
                "yuqing.toml:2: [escalation.major] breach reaches nobody:",
            ),
            // The office: an error only when something mails it.
            (
                "[people]\noffice = []\n\n[jobs]\nledger = \"0 9 24 * *\"\n",
                "yuqing.toml:2: [people] office is empty: [jobs] ledger",
            ),
        ]);
        // Empty leaders are fine while every step still reaches the duty officers.
        assert_eq!(
            errors("[people]\nleaders = []\nprincipal = []\n"),
            Vec::<String>::new()
        );
        // The office unmailed.
        assert_eq!(errors("[people]\noffice = []\n"), Vec::<String>::new());
    }

    /// Each config text gives exactly one error, at the line and with the words a person
    /// fixing the file reads first.
    fn assert_one_error_each(cases: &[(&str, &str)]) {
        for (text, expect) in cases {
            let errs = errors(text);
            assert_eq!(errs.len(), 1, "{text:?} gave {errs:#?}");
            assert!(errs[0].starts_with(expect), "{text:?} gave {errs:#?}");
        }
    }

    #[test]
    fn daemon_timings_that_cannot_work_are_errors_at_their_line() {
        assert_one_error_each(&[
            (
                "[daemon]\nheader_timeout = \"10ms\"\n",
                "yuqing.toml:2: [daemon] header_timeout = \"10ms\" leaves a client",
            ),
            (
                "[daemon]\nwatchlists = \"w\"\nstuck_after = \"0s\"\n",
                "yuqing.toml:3: [daemon] stuck_after = \"0s\" is not longer than tick",
            ),
            (
                "[daemon]\nlease = \"0s\"\n",
                "yuqing.toml:2: [daemon] lease = \"0s\" is below 1s",
            ),
            (
                "[daemon]\nlease = \"500ms\"\n",
                "yuqing.toml:2: [daemon] lease = \"500ms\" is below 1s",
            ),
            (
                "[daemon]\ntick = \"30s\"\nlease = \"10s\"\n",
                "yuqing.toml:3: [daemon] lease = \"10s\" is shorter than tick (30s)",
            ),
            (
                "[daemon]\ntick = \"0s\"\n",
                "yuqing.toml:2: [daemon] tick = \"0s\"",
            ),
        ]);
        // What the tests and the example config use stays valid.
        assert_eq!(
            errors("[daemon]\ntick = \"200ms\"\nlease = \"1s\"\nstuck_after = \"2s\"\n"),
            Vec::<String>::new()
        );
    }

    #[test]
    fn retry_min_above_retry_max_is_an_error() {
        assert_one_error_each(&[
            (
                "[mail]\nretry_min = \"2h\"\n",
                "yuqing.toml:2: [mail] retry_min (2h) is longer than retry_max (1h)",
            ),
            (
                "[mail]\n\nretry_max = \"10s\"\n",
                "yuqing.toml:3: [mail] retry_min (30s) is longer than retry_max (10s)",
            ),
        ]);
    }

    #[test]
    fn deadlines_may_be_tighter_than_the_statutory_ones_never_looser() {
        assert_one_error_each(&[
            (
                "[deadlines]\nmajor_release = \"0s\"\n",
                "yuqing.toml:2: [deadlines] major_release = \"0s\": a deadline must be longer than 0s",
            ),
            (
                "[deadlines]\nmajor_release = \"6h\"\n",
                "yuqing.toml:2: [deadlines] major_release = \"6h\" is looser than the statutory 5h \
                 (特别重大/重大: publish authoritative information within 5 hours)",
            ),
            (
                "[deadlines]\nmajor_press_conference = \"25h\"\n",
                "yuqing.toml:2: [deadlines] major_press_conference = \"1d1h\" is looser than the \
                 statutory 1d (特别重大/重大: hold a press conference within 24 hours)",
            ),
            (
                "[deadlines]\n\nordinary_response = \"3d\"\n",
                "yuqing.toml:3: [deadlines] ordinary_response = \"3d\" is looser than the \
                 statutory 2d (较大/一般: respond within 48 hours)",
            ),
            // A reminder at or beyond the deadline.
            (
                "[deadlines]\nrelease_reminders = [\"6h\"]\n",
                "yuqing.toml:2: [deadlines] release_reminders: a reminder 6h before the deadline \
                 is not within it (major_release is 5h)",
            ),
            (
                "[deadlines]\nmajor_release = \"2h\"\nrelease_reminders = [\"2h\"]\n",
                "yuqing.toml:3: [deadlines] release_reminders: a reminder 2h before the deadline \
                 is not within it (major_release is 2h)",
            ),
            (
                "[deadlines]\nresponse_reminders = [\"0s\"]\n",
                "yuqing.toml:2: [deadlines] response_reminders: a reminder 0s before the deadline \
                 is the deadline itself",
            ),
        ]);
        let c = parse(
            Path::new("y.toml"),
            "[deadlines]\nmajor_release = \"3h\"\nrelease_reminders = [\"1h\"]\n",
        )
        .unwrap();
        assert_eq!(c.deadlines.major_release.as_secs(), 3 * 3600);
    }

    #[test]
    fn a_zero_surge_threshold_is_an_error() {
        assert_one_error_each(&[
            (
                "[surge]\nitems = 0\n",
                "yuqing.toml:2: [surge] items = 0 is no threshold",
            ),
            (
                "[surge]\nitems = 5\nsources = 0\n",
                "yuqing.toml:3: [surge] sources = 0 is no threshold",
            ),
        ]);
    }
}
