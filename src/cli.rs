//! The commands behind `yuqing …`: each reads the same config and database as the daemon,
//! so the duty officer's commands work while it runs.
//!
//! Output for people goes to stdout; `--json` prints one JSON document, stable for
//! scripts. Exit codes: 0 success, 1 runtime failure, 2 a user's mistake (bad usage, invalid
//! configuration, an unknown source or incident, a step the incident refuses).

pub mod article;
pub mod demo;
pub mod evidence;
pub mod lifecycle;
pub mod notify;
pub mod users;

use crate::classify::Classifier;
use crate::config::settings::Settings;
use crate::config::{self, Config};
use crate::daemon::scheduler::Daemon;
use crate::incident::{self, Step};
use crate::store::{DeadlineRow, IncidentRow, Store};
use crate::vocab::clock::local;
use crate::vocab::clock::{from_secs, parse_typed, secs, Clock, SystemClock};

/// The clock of a command run from the shell: the real clock, or, when `YUQING_NOW` holds an
/// RFC 3339 time, that instant standing still. It lets a test (or a replay of a past night
/// on a copy of the database) run `items`, `incidents` or `briefing` as of the database's
/// own time rather than today's. `yuqing run` and `demo` always use the real clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct CommandClock;

impl Clock for CommandClock {
    fn now(&self) -> DateTime<Utc> {
        static NOW: std::sync::OnceLock<Option<DateTime<Utc>>> = std::sync::OnceLock::new();
        let fixed = NOW.get_or_init(|| {
            let text = std::env::var("YUQING_NOW").ok()?;
            match DateTime::parse_from_rfc3339(text.trim()) {
                Ok(t) => Some(t.with_timezone(&Utc)),
                Err(e) => {
                    eprintln!("error: YUQING_NOW=`{text}` is not an RFC 3339 time ({e}); unset it or write e.g. 2026-11-24T09:00:00+08:00");
                    std::process::exit(2);
                }
            }
        });
        fixed.unwrap_or_else(|| SystemClock.now())
    }
}
use crate::vocab::diagnostic::Diagnostics;
use crate::vocab::ids::IncidentId;
use crate::vocab::severity::Severity;
use crate::vocab::span::{zh_left, zh_span};
use crate::vocab::state::DeadlineState;
use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use clap::{Args, Subcommand};
use serde_json::json;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// Like `println!`, but a closed pipe (`yuqing incidents | head`) ends the program quietly
/// instead of panicking, and text from the web in the line cannot command the terminal:
/// escapes and other control characters show as `�`, bidi overrides are dropped
/// (`vocab::text::for_terminal`). `--json` goes out exactly, through `jsonln!`.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let text = format!($($arg)*);
        if writeln!(std::io::stdout(), "{}", crate::vocab::text::for_terminal(&text)).is_err() {
            std::process::exit(0);
        }
    }};
}

macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let text = format!($($arg)*);
        if write!(std::io::stdout(), "{}", crate::vocab::text::for_terminal(&text)).is_err() {
            std::process::exit(0);
        }
    }};
}

/// One JSON document on stdout, exactly as serialized (JSON escapes control characters
/// itself); a closed pipe ends the program quietly.
macro_rules! jsonln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if writeln!(std::io::stdout(), $($arg)*).is_err() {
            std::process::exit(0);
        }
    }};
}

#[derive(Args, Clone, Debug)]
pub struct ConfigArg {
    /// The config file.
    #[arg(
        long,
        short = 'c',
        default_value = "config/yuqing.toml",
        env = "YUQING_CONFIG"
    )]
    pub config: PathBuf,
}

#[derive(Args, Clone, Debug)]
pub struct Who {
    /// Who is acting, for the record (留痕); defaults to $YUQING_USER, then $USER.
    #[arg(long)]
    pub by: Option<String>,
}

impl Who {
    /// Who is acting: `--by`, else `$YUQING_USER`, else `$USER`; `None` when none names
    /// anyone, for the record (留痕) must name a person.
    pub(crate) fn name(&self) -> Option<String> {
        let named = |s: Option<String>| s.filter(|s| !s.trim().is_empty());
        named(self.by.clone())
            .or_else(|| named(std::env::var("YUQING_USER").ok()))
            .or_else(|| named(std::env::var("USER").ok()))
    }

    /// [`Who::name`], or says what to do and gives exit code 2.
    pub(crate) fn name_or_refuse(&self) -> Result<String, ExitCode> {
        self.name().ok_or_else(|| {
            eprintln!(
                "error: the record (留痕) must say who acts: pass --by NAME or set YUQING_USER"
            );
            ExitCode::from(2)
        })
    }
}

/// The exit code of a duty officer's step that did not happen, by its cause: 2 when
/// yuqing refused the step (no such incident, a merge into itself, an item not in the
/// incident, a closed incident): the person's mistake; 1 when something underneath
/// failed (the database, a file).
pub(crate) fn step_failure(e: &incident::StepError) -> ExitCode {
    match e {
        incident::StepError::Refused(why) => {
            eprintln!("error: {why}");
            ExitCode::from(2)
        }
        incident::StepError::Failed(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}

#[derive(Subcommand, Debug)]
pub enum IncidentCommand {
    /// Everything about one incident: items, deadlines, the record of actions.
    Show {
        /// The incident number (see `yuqing incidents`).
        id: i64,
        #[command(flatten)]
        config: ConfigArg,
        #[arg(long)]
        json: bool,
    },
    /// Acknowledge the alert.
    Ack {
        /// The incident number (see `yuqing incidents`).
        id: i64,
        #[command(flatten)]
        config: ConfigArg,
        #[command(flatten)]
        who: Who,
    },
    /// Record the authoritative release (below 重大: the response), ending that deadline.
    /// Without --url, confirms the release that yuqing detected on an own channel.
    Release {
        /// The incident number (see `yuqing incidents`).
        id: i64,
        /// Where it was published (a detected candidate's link confirms that candidate,
        /// at the time it was published).
        #[arg(long)]
        url: Option<String>,
        #[command(flatten)]
        config: ConfigArg,
        #[command(flatten)]
        who: Who,
    },
    /// Record the press conference, ending that deadline.
    Press {
        /// The incident number (see `yuqing incidents`).
        id: i64,
        /// What to record about it (where, who spoke), kept in the record (留痕).
        #[arg(long)]
        note: Option<String>,
        #[command(flatten)]
        config: ConfigArg,
        #[command(flatten)]
        who: Who,
    },
    /// Set the severity (especially_major | major | large | ordinary); deadlines follow.
    Severity {
        /// The incident number (see `yuqing incidents`).
        id: i64,
        /// especially_major | major | large | ordinary.
        level: String,
        #[command(flatten)]
        config: ConfigArg,
        #[command(flatten)]
        who: Who,
    },
    /// Name the incident: the title every list, page, mail and report shows (by default
    /// its first item's title), at most 100 characters; kept in the record (留痕).
    Title {
        /// The incident number (see `yuqing incidents`).
        id: i64,
        /// The new title, on one line.
        text: String,
        #[command(flatten)]
        config: ConfigArg,
        #[command(flatten)]
        who: Who,
    },
    /// Add a note to the record (at most 10,000 characters).
    Note {
        /// The incident number (see `yuqing incidents`).
        id: i64,
        /// The note, kept in the record (留痕).
        text: String,
        #[command(flatten)]
        config: ConfigArg,
        #[command(flatten)]
        who: Who,
    },
    /// Close the incident; its deadlines stop.
    Close {
        /// The incident number (see `yuqing incidents`).
        id: i64,
        #[command(flatten)]
        config: ConfigArg,
        #[command(flatten)]
        who: Who,
    },
    /// Dismiss a false positive (误报): the incident ends, its deadlines are cancelled and
    /// the report lists it apart, never as unmet.
    Dismiss {
        /// The incident number (see `yuqing incidents`).
        id: i64,
        /// Why it is not about the agency's business (kept in the record and mailed).
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        config: ConfigArg,
        #[command(flatten)]
        who: Who,
    },
    /// Merge incident FROM into INTO: items and record move, the earlier clock start wins.
    Merge {
        /// The incident that stays and receives FROM's items, record and earlier clock start.
        into: i64,
        /// The incident merged in; it ends as `merged` and its deadlines are cancelled.
        from: i64,
        #[command(flatten)]
        config: ConfigArg,
        #[command(flatten)]
        who: Who,
    },
    /// Move ITEMS of incident ID into a new incident with its own deadlines.
    Split {
        /// The incident to split (see `yuqing incidents`).
        id: i64,
        /// The item ids to move, as `yuqing incident show ID` lists them (`item 12: …`).
        #[arg(required = true)]
        items: Vec<i64>,
        #[command(flatten)]
        config: ConfigArg,
        #[command(flatten)]
        who: Who,
    },
}

/// Logs to stderr at `level` (`info`; the demo `warn`) unless `RUST_LOG` says otherwise.
pub fn init_logging(format: &str, level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new(format!("{level},sqlx=warn,lettre=warn"))
    });
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    if format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}

fn invalid(errs: &Diagnostics) -> ExitCode {
    // In the order of the files and their lines, as an operator fixes them.
    let mut sorted = errs.clone();
    sorted
        .0
        .sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
    eprintln!("{sorted}");
    eprintln!(
        "({} problem(s); fix them and run `yuqing check`)",
        errs.0.len()
    );
    ExitCode::from(2)
}

/// Loads only the config: the duty officer's commands must work even when a watchlist edit
/// is broken.
fn load_config(c: &ConfigArg) -> Result<Config, ExitCode> {
    config::load(&c.config).map_err(|e| invalid(&e))
}

pub(crate) async fn open(c: &ConfigArg) -> Result<(Config, Store), ExitCode> {
    let config = load_config(c)?;
    match Store::open(&config.daemon.database).await {
        Ok(store) => Ok((config, store)),
        Err(e) => {
            eprintln!("error: {e:#}");
            Err(ExitCode::from(1))
        }
    }
}

macro_rules! or_exit {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(code) => return Ok(code),
        }
    };
}

/// `Ok` when `id` is one of `known`; else says which ids the config defines, exit code 2.
fn known_source(c: &ConfigArg, id: &str, known: &[&str]) -> Result<(), ExitCode> {
    if known.contains(&id) {
        return Ok(());
    }
    eprintln!(
        "error: {} defines no source `{id}`; known: {}",
        c.config.display(),
        if known.is_empty() {
            "none".to_string()
        } else {
            known.join(", ")
        }
    );
    Err(ExitCode::from(2))
}

pub async fn run(c: &ConfigArg) -> Result<ExitCode> {
    let settings = match Settings::load(&c.config) {
        Ok(s) => s,
        Err(e) => return Ok(invalid(&e)),
    };
    let daemon = Daemon::start(c.config.clone(), settings, Arc::new(SystemClock)).await?;
    let shutdown = CancellationToken::new();
    spawn_signal_handler(shutdown.clone());
    let _metrics = crate::daemon::metrics::serve(&daemon, shutdown.clone()).await?;
    let _console = daemon.serve_console(shutdown.clone()).await?;
    daemon.run(shutdown).await?;
    Ok(ExitCode::SUCCESS)
}

/// SIGTERM or Ctrl-C cancels `token`.
pub fn spawn_signal_handler(token: CancellationToken) {
    tokio::spawn(async move {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            let mut term = match signal(SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = tokio::signal::ctrl_c().await;
                    token.cancel();
                    return;
                }
            };
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("stop requested");
        token.cancel();
    });
}

pub async fn check(c: &ConfigArg) -> Result<ExitCode> {
    let settings = match Settings::load(&c.config) {
        Ok(s) => s,
        Err(e) => return Ok(invalid(&e)),
    };
    let failures = settings.classifier.run_examples(&settings.watchlists);
    if !failures.is_empty() {
        return Ok(invalid(&failures));
    }
    // The working-day calendar was read (and a missing or broken one reported where it is
    // needed) by `Settings::load`.
    crate::cli::lifecycle::check_lines(&settings, CommandClock.now()).await;
    overloaded_hosts(
        &crate::fetch::politeness::host_loads(&settings.config),
        "警告：",
    );
    let examples: usize = settings
        .watchlists
        .topics
        .iter()
        .map(|t| t.examples.len())
        .sum();
    outln!(
        "{}：检查通过（信息源 {} 个，本单位渠道 {} 个，定时任务 {} 个，专题 {} 个（关注清单文件 {} 个），示例 {} 条全部通过）",
        c.config.display(),
        settings.config.sources.len(),
        settings.config.channels.len(),
        settings.config.jobs.0.len(),
        settings.watchlists.topics.len(),
        settings.watchlists.files.len(),
        examples
    );
    Ok(ExitCode::SUCCESS)
}

/// `classify --title/--summary/--url`: the item's parts, when it is classified in them.
#[derive(Debug, Clone, Default)]
pub struct ItemParts {
    pub title: Option<String>,
    pub summary: Option<String>,
    pub url: Option<String>,
}

impl ItemParts {
    fn given(&self) -> bool {
        self.title.is_some() || self.summary.is_some() || self.url.is_some()
    }
}

pub async fn classify(
    c: &ConfigArg,
    json_out: bool,
    explain: bool,
    source: Option<&str>,
    parts: &ItemParts,
    file: Option<&Path>,
) -> Result<ExitCode> {
    let settings = match Settings::load(&c.config) {
        Ok(s) => s,
        Err(e) => return Ok(invalid(&e)),
    };
    if let Some(id) = source {
        let known: Vec<&str> = settings
            .config
            .sources
            .iter()
            .map(|s| s.id.as_str())
            .collect();
        or_exit!(known_source(c, id, &known));
    }
    if parts.given() {
        return classify_parts(&settings, json_out, explain, source, parts, file).await;
    }
    let text = match file {
        Some(p) if p != Path::new("-") => {
            std::fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display()))?
        }
        _ => {
            let mut s = String::new();
            std::io::stdin()
                .read_to_string(&mut s)
                .context("cannot read stdin")?;
            s
        }
    };
    let classifier: &Classifier = &settings.classifier;
    if explain {
        out!("{}", classifier.explain(&text, source));
    } else {
        let result = classifier.classify(&text, source);
        if json_out {
            jsonln!("{}", serde_json::to_string_pretty(&result)?);
        } else if result.topics.is_empty() {
            outln!("no topic matched");
        } else {
            for t in &result.topics {
                let words: Vec<String> = t
                    .evidence
                    .iter()
                    .map(|e| format!("{}@{}..{}", e.term, e.start, e.end))
                    .collect();
                outln!("{}\t{}\t{}\t{}", t.id, t.name, t.severity, words.join(" "));
            }
        }
        if !json_out {
            let t = result.tone;
            outln!("语气\t{}\t{:+.2}", t.label.zh(), t.score);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `classify` of an item in its parts: the title and summary as given, the body from FILE
/// (`-` for stdin) or from the article at `--url`, whose title stands in for a missing
/// `--title`. Each topic says where it matched.
async fn classify_parts(
    settings: &Settings,
    json_out: bool,
    explain: bool,
    source: Option<&str>,
    given: &ItemParts,
    file: Option<&Path>,
) -> Result<ExitCode> {
    let mut title = given.title.clone().unwrap_or_default();
    let summary = given.summary.clone().unwrap_or_default();
    let body = match (&given.url, file) {
        (Some(url), _) => match article::fetch(&settings.config, url).await? {
            Ok((_, a)) => {
                if given.title.is_none() {
                    title = a.title;
                }
                a.text
            }
            Err(code) => return Ok(code),
        },
        (None, Some(p)) if p != Path::new("-") => {
            std::fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display()))?
        }
        (None, Some(_)) => {
            let mut s = String::new();
            std::io::stdin()
                .read_to_string(&mut s)
                .context("cannot read stdin")?;
            s
        }
        (None, None) => String::new(),
    };
    let parts = crate::classify::Parts {
        title: &title,
        summary: &summary,
        body: &body,
    };
    let classifier: &Classifier = &settings.classifier;
    if explain {
        out!("{}", classifier.explain_parts(&parts, source));
        return Ok(ExitCode::SUCCESS);
    }
    let result = classifier.classify_parts(&parts, source);
    if json_out {
        // The plain `classify --json` shape, each topic with `found_in` and `body_only`.
        let mut value = serde_json::to_value(&result.classification)?;
        if let Some(topics) = value["topics"].as_array_mut() {
            for (t, m) in topics.iter_mut().zip(&result.matches) {
                t["found_in"] = serde_json::to_value(&m.found_in)?;
                t["body_only"] = m.body_only.into();
            }
        }
        jsonln!("{}", serde_json::to_string_pretty(&value)?);
        return Ok(ExitCode::SUCCESS);
    }
    if result.matches.is_empty() {
        outln!("no topic matched");
    }
    for m in &result.matches {
        let places: Vec<&str> = m.found_in.iter().map(|p| p.zh()).collect();
        let only = if m.body_only {
            "（仅因正文）"
        } else {
            ""
        };
        outln!(
            "{}\t{}\t{}\t{}{only}",
            m.id,
            m.name,
            m.severity,
            places.join("、")
        );
    }
    let t = result.classification.tone;
    outln!("语气\t{}\t{:+.2}", t.label.zh(), t.score);
    Ok(ExitCode::SUCCESS)
}

pub async fn poll(c: &ConfigArg, only: Option<&str>) -> Result<ExitCode> {
    let settings = match Settings::load(&c.config) {
        Ok(s) => s,
        Err(e) => return Ok(invalid(&e)),
    };
    if let Some(id) = only {
        // An own channel is polled like a source (`poll --source weibo-wenlv`).
        let known: Vec<&str> = settings
            .config
            .sources
            .iter()
            .map(|s| s.id.as_str())
            .chain(settings.config.channels.iter().map(|c| c.id.as_str()))
            .collect();
        or_exit!(known_source(c, id, &known));
    }
    let daemon = Daemon::start(c.config.clone(), settings, Arc::new(CommandClock)).await?;
    let results = daemon.poll_once(only).await?;
    let now = CommandClock.now();
    let tz = daemon.settings.get().config.daemon.timezone;
    let mut failed = false;
    let mut overdue = Vec::new();
    for (id, r) in results {
        match r {
            Ok(r) if r.not_modified => outln!("{id}：无更新（服务器答复未修改）"),
            Ok(r) => {
                outln!(
                    "{id}：抓取 {} 条，新信息 {} 条，命中专题 {} 条，新立案 {} 起，并入已有事件 {} 条",
                    r.fetched,
                    r.new,
                    r.matched,
                    r.opened.len(),
                    r.joined.len()
                );
                overdue.extend(r.opened);
            }
            Err(e) => {
                failed = true;
                outln!("{id}：抓取失败：{e}");
            }
        }
    }
    // Items published days ago open incidents whose clock started then: their breach
    // mail goes out with the opening mail, and this says why.
    for id in overdue {
        let Some(i) = daemon
            .store
            .incident(daemon.store.pool(), IncidentId(id))
            .await?
        else {
            continue;
        };
        for d in daemon
            .store
            .deadlines_of(daemon.store.pool(), IncidentId(id))
            .await?
        {
            if let DeadlineState::Missed { overdue_by, .. } = d.state(&i, now) {
                outln!(
                    "事件 #{id} 立案时已超时：{}应于 {} 前完成（计时起点是首条信息的发布时间 {}），\
                     已超时 {}；超时通报随立案通知一并发出",
                    d.what(),
                    local(from_secs(d.due_at), tz),
                    local(from_secs(i.clock_start), tz),
                    zh_span(overdue_by)
                );
            }
        }
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// A span back from now (`24h`), or a time as `vocab::clock::parse_typed` reads it.
fn parse_since(text: &str, now: DateTime<Utc>, tz: chrono_tz::Tz) -> Option<DateTime<Utc>> {
    if let Ok(span) = text.parse::<crate::vocab::duration::Span>() {
        return Some(now - span.chrono());
    }
    parse_typed(text, tz).map(|t| t.at)
}

pub async fn items(
    c: &ConfigArg,
    source: Option<&str>,
    since: Option<&str>,
    text: Option<&str>,
    json_out: bool,
) -> Result<ExitCode> {
    let (config, store) = or_exit!(open(c).await);
    let query = match text {
        None => None,
        Some(t) => match crate::store::SearchQuery::parse(t) {
            Some(q) => Some(q),
            None => {
                eprintln!("error: --q `{t}`: nothing to search for (write a word, e.g. --q 踩踏)");
                return Ok(ExitCode::from(2));
            }
        },
    };
    if let Some(id) = source {
        let known: Vec<&str> = config.sources.iter().map(|s| s.id.as_str()).collect();
        or_exit!(known_source(c, id, &known));
    }
    let tz = config.daemon.timezone;
    let now = CommandClock.now();
    let since = match since {
        None if query.is_some() => None,
        None => Some(now - chrono::Duration::days(7)),
        Some(s) => match parse_since(s, now, tz) {
            Some(t) => Some(t),
            None => {
                eprintln!("error: --since `{s}`: write a date (2026-11-24), an RFC 3339 time or a span (24h)");
                return Ok(ExitCode::from(2));
            }
        },
    };
    let rows = match &query {
        None => {
            store
                .items(source, since.map_or(0, secs), ITEMS_SHOWN)
                .await?
        }
        Some(q) => {
            let filter = crate::store::ItemFilter {
                source: source.map(str::to_string),
                since: since.map(secs),
                ..Default::default()
            };
            store.search_items(&filter, q, ITEMS_SHOWN, 0).await?.rows
        }
    };
    let ids: Vec<i64> = rows.iter().map(|i| i.id).collect();
    let sightings = store.sightings(store.pool(), &ids).await?;
    if json_out {
        let items: Vec<serde_json::Value> = rows
            .iter()
            .map(|i| {
                Ok(json!({
                    "id": i.id,
                    "source": i.source_id,
                    "title": i.title,
                    "link": i.link,
                    "published": i.published_at.map(|t| rfc3339(t, tz)),
                    "fetched": rfc3339(i.fetched_at, tz),
                    "topics": i.topics,
                    "tone": i.tone,
                    "seen_by": seen_by_json(&sightings, i.id, tz),
                    "marks": query.as_ref().map(|q| json!({
                        "title": q.marks(&i.title),
                        "summary": q.marks(&i.summary),
                    })),
                }))
            })
            .collect::<Result<_>>()?;
        jsonln!(
            "{}",
            serde_json::to_string_pretty(&json!({ "items": items }))?
        );
    } else {
        // Topic names as people know them; ids when the watchlists cannot be read.
        let names = crate::classify::watchlist::load_dir(&config.daemon.watchlists)
            .map(|w| w.topics)
            .unwrap_or_default();
        let name_of = |id: &str| {
            names
                .iter()
                .find(|t| t.id == id)
                .map_or_else(|| id.to_string(), |t| t.name.clone())
        };
        outln!(
            "编号\t抓取时间（{}）\t来源\t发布时间\t标题\t链接\t专题\t语气",
            zone(tz)
        );
        for i in &rows {
            let topics: Vec<String> = i.topics.iter().map(|t| name_of(t)).collect();
            let tone = i.tone.map_or_else(
                || "-".into(),
                |t| format!("{} {:+.2}", t.label.zh(), t.score),
            );
            // The other sources that carried it, after its own (issue 24 §2).
            let also: Vec<&str> = sightings
                .iter()
                .filter(|s| s.item_id == i.id)
                .map(|s| s.source_id.as_str())
                .collect();
            let source = if also.is_empty() {
                i.source_id.clone()
            } else {
                format!("{}（亦见于 {}）", i.source_id, also.join("、"))
            };
            outln!(
                "{}\t{}\t{source}\t{}\t{}\t{}\t{}\t{tone}",
                i.id,
                local(from_secs(i.fetched_at), tz),
                i.published_at
                    .map(|t| local(from_secs(t), tz))
                    .unwrap_or_else(|| "-".into()),
                match &query {
                    Some(q) => bracket(&i.title, &q.marks(&i.title)),
                    None => i.title.clone(),
                },
                i.link.as_deref().unwrap_or("-"),
                if topics.is_empty() {
                    "-".to_string()
                } else {
                    topics.join("、")
                }
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `yuqing prune [--dry-run]`: retention now (see `store::retention`).
pub async fn prune(c: &ConfigArg, dry_run: bool) -> Result<ExitCode> {
    let (config, store) = or_exit!(open(c).await);
    let Some(keep) = config.retention.items else {
        eprintln!(
            "error: {}: no [retention] items: nothing is ever deleted. Add e.g.\n\n[retention]\nitems = \"90d\"",
            c.config.display()
        );
        return Ok(ExitCode::from(2));
    };
    let tz = config.daemon.timezone;
    let before = secs(CommandClock.now()) - keep.as_secs() as i64;
    let cutoff = local(from_secs(before), tz);
    let (unheld, held) = store.prunable_items(before).await?;
    if dry_run {
        outln!("将删除 {unheld} 条抓取早于 {cutoff} 且不属于任何事件的信息（按小时、来源、专题、语气留存计数）；事件相关的 {held} 条保留。未删除任何内容（--dry-run）。");
        return Ok(ExitCode::SUCCESS);
    }
    let size_before = store.file_size().await?;
    let mut deleted = 0;
    let mut batch = crate::store::PruneBatch::default();
    loop {
        let b = store.prune_items(before, batch.size()).await?;
        deleted += b.deleted;
        batch.after(b.deleted, b.held);
        if !b.more {
            break;
        }
        // The lock free as long as the batch held it: the daemon's polls get in.
        tokio::time::sleep(b.held.max(crate::store::PRUNE_PAUSE)).await;
    }
    store.compact().await?;
    let size_after = store.file_size().await?;
    outln!("已删除 {deleted} 条抓取早于 {cutoff} 且不属于任何事件的信息（按小时、来源、专题、语气留存计数）；事件相关的 {held} 条保留。");
    if let (Some(b), Some(a)) = (size_before, size_after) {
        outln!(
            "数据库文件：{:.1} MB → {:.1} MB。",
            b as f64 / 1e6,
            a as f64 / 1e6
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// At most this many items are listed by `yuqing items`.
const ITEMS_SHOWN: i64 = 1000;

/// `text` with the char ranges `marks` put in 【】.
fn bracket(text: &str, marks: &[(usize, usize)]) -> String {
    let mut out = String::new();
    for (k, c) in text.chars().enumerate() {
        if marks.iter().any(|&(s, _)| s == k) {
            out.push('【');
        }
        out.push(c);
        if marks.iter().any(|&(_, e)| e == k + 1) {
            out.push('】');
        }
    }
    out
}

/// The zone the text output's times are in, as people read it: `Asia/Shanghai, UTC+08:00`.
fn zone(tz: chrono_tz::Tz) -> String {
    use chrono::Offset;
    let offset = CommandClock.now().with_timezone(&tz).offset().fix();
    format!("{tz}, UTC{offset}")
}

/// A stored time (seconds) in RFC 3339, in `tz`.
pub(crate) fn rfc3339(t: i64, tz: chrono_tz::Tz) -> String {
    crate::vocab::clock::rfc3339(from_secs(t), tz)
}

pub async fn sources(c: &ConfigArg, json_out: bool) -> Result<ExitCode> {
    let (config, store) = or_exit!(open(c).await);
    let tz = config.daemon.timezone;
    let mut rows = Vec::new();
    for s in &config.sources {
        rows.push((s, store.source_state(&s.id).await?));
    }
    // The own channels are read like sources; their health is listed after them.
    let mut channels = Vec::new();
    for c in &config.channels {
        channels.push((c, store.source_state(&c.id).await?));
    }
    // Whether each host's sources can all be polled within their intervals.
    let hosts = crate::fetch::politeness::host_loads(&config);
    // How late each source is heard, over the last 7 days.
    let lags = store
        .source_lags(secs(CommandClock.now()) - crate::rules::lag::WINDOW_S)
        .await?;
    if json_out {
        let list: Vec<_> = rows
            .iter()
            .map(|(s, st)| {
                json!({
                    "id": s.id,
                    "name": s.name,
                    "url": s.url.as_str(),
                    "last_success": st.last_success.map(|t| rfc3339(t, tz)),
                    "last_error": st.last_error,
                    "last_error_at": st.last_error_at.map(|t| rfc3339(t, tz)),
                    "failures": st.failures,
                    "next_poll": if st.next_poll > 0 { Some(rfc3339(st.next_poll, tz)) } else { None },
                    "items_last_poll": st.last_count,
                    "state": st.health(),
                    "stale_after": s.stale_after.map(|d| d.to_string()),
                    "last_new_item": st.last_new_at.map(|t| rfc3339(t, tz)),
                    "silent_since": st.silent_since.map(|t| rfc3339(t, tz)),
                    "last_warning": st.last_warning,
                    "lag": lags.get(&s.id),
                })
            })
            .collect();
        jsonln!(
            "{}",
            serde_json::to_string_pretty(&json!({
                "sources": list,
                "channels": channels.iter().map(|(c, st)| json!({
                    "id": c.id,
                    "name": c.name,
                    "kind": c.kind,
                    "url": c.url.as_str(),
                    "last_success": st.last_success.map(|t| rfc3339(t, tz)),
                    "last_error": st.last_error,
                    "failures": st.failures,
                    "next_poll": if st.next_poll > 0 { Some(rfc3339(st.next_poll, tz)) } else { None },
                })).collect::<Vec<_>>(),
                "hosts": hosts.iter().map(|h| json!({
                    "host": h.host,
                    "sources": h.sources,
                    "per_host": h.per_host,
                    "host_delay_ms": h.delay.as_millis() as u64,
                    "pass_s": h.pass.as_secs_f64(),
                    "shortest_every_s": h.shortest.as_secs_f64(),
                    "load": h.load,
                    "overloaded": h.overloaded(),
                    "host_delay_to_fit_ms": h.overloaded().then(|| h.delay_to_fit().as_millis() as u64),
                    "every_to_fit_s": h.overloaded().then(|| h.every_to_fit().as_secs()),
                })).collect::<Vec<_>>(),
            }))?
        );
    } else {
        let channel_rows = channels
            .iter()
            .map(|(c, st)| (format!("{}（本单位渠道）", c.id), st));
        let rows = rows
            .iter()
            .map(|(s, st)| (s.id.clone(), st))
            .chain(channel_rows);
        outln!(
            "来源\t状态\t上次成功（{}）\t连续失败\t下次抓取\t发现延迟（近7天 中位/95%，条数）\t错误",
            zone(tz)
        );
        for (id, st) in rows {
            let lag = crate::notify::operator_mail::lag_zh(lags.get(&st.source_id));
            let when = |t: Option<i64>| {
                t.map(|t| local(from_secs(t), tz))
                    .unwrap_or_else(|| "从未".into())
            };
            // The last error only while failing, and no empty column after the rest.
            let error = st
                .last_error
                .as_deref()
                .filter(|_| st.failures > 0)
                .map(str::to_string)
                // While it reads, what had to be repaired to read its last document.
                .or_else(|| {
                    st.last_warning
                        .as_ref()
                        .map(|w| format!("已修复后读取：{w}"))
                })
                .unwrap_or_else(|| "-".into());
            outln!(
                "{}\t{}\t{}\t{} 次\t{}\t{lag}\t{error}",
                id,
                crate::vocab::words::source_health_zh(st.health()),
                when(st.last_success),
                st.failures,
                if st.next_poll > 0 {
                    when(Some(st.next_poll))
                } else {
                    "立即".into()
                },
            );
        }
        overloaded_hosts(&hosts, "");
    }
    Ok(ExitCode::SUCCESS)
}

/// A line per host whose sources cannot all be polled within their intervals, with the
/// settings that would fix it (`yuqing sources`, `yuqing check`).
fn overloaded_hosts(hosts: &[crate::fetch::politeness::HostLoad], prefix: &str) {
    use crate::notify::operator_mail::{host_overload_fix, host_overload_line};
    let over: Vec<_> = hosts.iter().filter(|h| h.overloaded()).collect();
    if over.is_empty() {
        return;
    }
    outln!("{prefix}以下主机的信息源无法在设定的间隔内抓完一轮：");
    for h in over {
        outln!("  {}。{}。", host_overload_line(h), host_overload_fix(h));
    }
}

/// `yuqing calendar update`: this year's and next year's holiday-cn files from
/// `[daemon] calendar_url`, each line saying what changed. Exit 1 when a year could not be
/// fetched or checked (the copy on disk is kept), 2 without `calendar_url`.
pub async fn calendar_update(c: &ConfigArg) -> Result<ExitCode> {
    use crate::polling::calendar::YearUpdate;
    use chrono::Datelike;
    let config = match load_config(c) {
        Ok(config) => config,
        Err(code) => return Ok(code),
    };
    let Some(base) = &config.daemon.calendar_url else {
        eprintln!(
            "error: 未设置 [daemon] calendar_url（holiday-cn 文件所在的网址，如镜像的 \".../holiday-cn/\"）"
        );
        return Ok(ExitCode::from(2));
    };
    let fetcher = crate::fetch::Fetcher::new(crate::fetch::FetchSettings::new(
        config.daemon.user_agent.clone(),
    ))?;
    let year = CommandClock
        .now()
        .with_timezone(&config.daemon.timezone)
        .year();
    let dir = &config.daemon.calendar;
    let results = crate::polling::calendar::update(&fetcher, base, dir, &[year, year + 1]).await;
    let mut failed = false;
    for r in results {
        match r {
            YearUpdate::Written {
                year, new: true, ..
            } => outln!(
                "{year} 年：新增 {}",
                dir.join(format!("{year}.json")).display()
            ),
            YearUpdate::Written { year, changes, .. } => {
                outln!("{year} 年：已更新，{} 处变化", changes.len());
                for change in changes {
                    outln!("  {change}");
                }
            }
            YearUpdate::Unchanged { year } => outln!("{year} 年：无变化"),
            YearUpdate::NotPublished { year, why } => {
                let kept = if dir.join(format!("{year}.json")).exists() {
                    "保留现有文件"
                } else {
                    "暂无该年日历"
                };
                outln!("{year} 年：尚未发布（{why}），{kept}")
            }
            YearUpdate::Failed { year, error } => {
                failed = true;
                outln!("{year} 年：更新失败（{error}），保留现有文件")
            }
        }
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// `yuqing obligations`: the state of every publication duty, now or at `--at`.
pub async fn obligations(c: &ConfigArg, at: Option<&str>, json_out: bool) -> Result<ExitCode> {
    let (config, store) = or_exit!(open(c).await);
    let tz = config.daemon.timezone;
    let at = match at {
        None => CommandClock.now(),
        Some(s) => match parse_typed(s, tz) {
            Some(t) => t.at,
            None => {
                eprintln!("error: --at `{s}`: write an RFC 3339 time or `YYYY-MM-DD HH:MM` ({tz})");
                return Ok(ExitCode::from(2));
            }
        },
    };
    let calendar = if crate::obligations::needs_calendar(&config) {
        match crate::rules::calendar::Calendar::load_dir(&config.daemon.calendar) {
            Ok(cal) => Some(cal),
            Err(e) => {
                eprintln!("warning: working-day duties are unknown: {e}");
                None
            }
        }
    } else {
        None
    };
    let duties = crate::obligations::evaluate(&store, &config, calendar.as_ref(), at).await?;
    if json_out {
        jsonln!(
            "{}",
            serde_json::to_string_pretty(&crate::obligations::to_json(&duties, at, tz))?
        );
    } else if duties.is_empty() {
        outln!("未配置本单位渠道（[[channel]]）");
    } else {
        for line in crate::obligations::to_lines(&duties, tz) {
            outln!("{line}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn deadline_json(
    i: &IncidentRow,
    d: &DeadlineRow,
    now: DateTime<Utc>,
    tz: chrono_tz::Tz,
) -> serde_json::Value {
    let state = d.state(i, now);
    json!({
        "kind": d.kind,
        "due": rfc3339(d.due_at, tz),
        "state": state.as_str(),
        "seconds_left": state.seconds_left(),
        "cancelled_because": match state {
            DeadlineState::Cancelled { by } => Some(by.as_str()),
            _ => None,
        },
        "met_late_by_seconds": match state {
            DeadlineState::Met { late_by, .. } => Some(late_by.num_seconds()),
            _ => None,
        },
        "met_at": d.met_at.map(|t| rfc3339(t, tz)),
        "met_by": d.met_by,
        "evidence": d.evidence,
        "duty": d.duty,
        "cancelled_by_merge_into": d.merged_into(i),
        "uncertain_years": d.uncertain.as_deref().filter(|u| !u.is_empty()).map(|u| u.split(',').collect::<Vec<_>>()),
    })
}

fn deadline_line(
    i: &IncidentRow,
    d: &DeadlineRow,
    now: DateTime<Utc>,
    tz: chrono_tz::Tz,
) -> String {
    let what = d.what();
    let due = from_secs(d.due_at);
    let state = match d.state(i, now) {
        // Done or ended: the words of the 考核 report, with when and by whom.
        DeadlineState::Met { at, .. } => format!(
            "{}，{} {} 记录",
            crate::notify::report::outcome_of(i, d, now),
            local(at, tz),
            d.met_by.as_deref().unwrap_or("?")
        ),
        DeadlineState::Pending { .. } | DeadlineState::Missed { ended: false, .. } => {
            zh_left(due, now)
        }
        _ => crate::notify::report::outcome_of(i, d, now),
    };
    format!(
        "{what}：{} 前，{state}{}",
        local(due, tz),
        d.uncertain_note()
    )
}

async fn incident_json(
    store: &Store,
    i: &IncidentRow,
    now: DateTime<Utc>,
    tz: chrono_tz::Tz,
) -> Result<serde_json::Value> {
    let deadlines = store.deadlines_of(store.pool(), IncidentId(i.id)).await?;
    let items = store.incident_items(store.pool(), IncidentId(i.id)).await?;
    let sightings = store
        .incident_sightings(store.pool(), IncidentId(i.id))
        .await?;
    let evidence = crate::store::evidence_summaries(
        &store
            .incident_evidence(crate::vocab::ids::IncidentId(i.id))
            .await?,
    );
    Ok(json!({
        "id": i.id,
        "topic": i.topic_id,
        "topic_name": i.topic_name,
        "title": i.title,
        "severity": i.severity,
        "status": i.status,
        "opened_at": rfc3339(i.opened_at, tz),
        "clock_start": rfc3339(i.clock_start, tz),
        "acknowledged_by": i.acknowledged_by,
        "monitoring_until": i.monitoring_until.map(|t| rfc3339(t, tz)),
        "closed_at": i.closed_at.map(|t| rfc3339(t, tz)),
        "closed_by": i.closed_by,
        "merged_into": i.merged_into,
        "split_from": i.split_from,
        "reopened_at": i.reopened_at.map(|t| rfc3339(t, tz)),
        "items": items.iter().map(|it| json!({
            "id": it.id, "source": it.source_id, "title": it.title, "link": it.link,
            "published": it.published_at.map(|t| rfc3339(t, tz)),
            "seen_by": seen_by_json(&sightings, it.id, tz),
            "evidence": evidence.get(&it.id).map(|e| json!({
                "state": e.state, "captured_at": rfc3339(e.captured_at, tz),
                "checked_at": rfc3339(e.checked_at, tz), "sha256": e.sha256,
                "versions": e.versions, "error": e.error,
            })),
        })).collect::<Vec<_>>(),
        "spread": spread_json(&crate::notify::spread::Spread::of(&items, &sightings), tz),
        "deadlines": deadlines.iter().map(|d| deadline_json(i, d, now, tz)).collect::<Vec<_>>(),
    }))
}

/// An item's evidence in one line: `原帖已删除（2026-11-24 09:05 保存，共 1 版，SHA-256
/// 3f2a…；2026-11-24 09:35 复查）`.
fn evidence_line(e: &crate::store::EvidenceSummary, tz: chrono_tz::Tz) -> String {
    let checked = local(from_secs(e.checked_at), tz);
    match &e.sha256 {
        Some(sha) => format!(
            "{}（{} 保存，共 {} 版，SHA-256 {}…；{} 复查）",
            e.state.zh(),
            local(from_secs(e.captured_at), tz),
            e.versions,
            &sha[..sha.len().min(16)],
            checked
        ),
        None => format!(
            "未能保存（{} 尝试：{}）",
            checked,
            e.error.as_deref().unwrap_or("原因不明")
        ),
    }
}

/// `"seen_by"` of an item in JSON: every other source that carried it (issue 24 §2), with
/// its link there and when it was seen there.
fn seen_by_json(
    sightings: &[crate::store::Sighting],
    item: i64,
    tz: chrono_tz::Tz,
) -> serde_json::Value {
    sightings
        .iter()
        .filter(|s| s.item_id == item)
        .map(|s| {
            json!({
                "source": s.source_id, "link": s.link,
                "published": s.published_at.map(|t| rfc3339(t, tz)),
                "seen": rfc3339(s.seen_at, tz),
            })
        })
        .collect()
}

/// `"spread"` of `incident show --json`: times in RFC 3339 in the configured zone.
fn spread_json(s: &crate::notify::spread::Spread, tz: chrono_tz::Tz) -> serde_json::Value {
    json!({
        "first_source": s.first_source,
        "first_published": s.first_published.map(|t| rfc3339(t, tz)),
        "sources": s.sources,
        "reposts": s.reposts,
        "per_source": s.per_source.iter().map(|p| json!({
            "source": p.source, "items": p.items,
            "first": rfc3339(p.first, tz), "last": rfc3339(p.last, tz),
        })).collect::<Vec<_>>(),
    })
}

pub async fn incidents(c: &ConfigArg, all: bool, json_out: bool) -> Result<ExitCode> {
    let (config, store) = or_exit!(open(c).await);
    let tz = config.daemon.timezone;
    let now = CommandClock.now();
    // The most urgent first, as on the console's dashboard: the nearest deadline owed.
    let mut list = Vec::new();
    for i in store.incidents(all).await? {
        let deadlines = store.deadlines_of(store.pool(), IncidentId(i.id)).await?;
        let nearest = crate::store::nearest_owed(&i, &deadlines, now);
        list.push((crate::store::urgency(nearest, i.id), i));
    }
    list.sort_by_key(|(key, _)| *key);
    let list: Vec<IncidentRow> = list.into_iter().map(|(_, i)| i).collect();
    if json_out {
        let mut out = Vec::new();
        for i in &list {
            out.push(incident_json(&store, i, now, tz).await?);
        }
        jsonln!(
            "{}",
            serde_json::to_string_pretty(&json!({ "incidents": out }))?
        );
        return Ok(ExitCode::SUCCESS);
    }
    if list.is_empty() {
        outln!(
            "{}",
            if all {
                "没有事件"
            } else {
                "没有处置中的事件"
            }
        );
    }
    for i in &list {
        let items = store.incident_items(store.pool(), IncidentId(i.id)).await?;
        let deadlines = store.deadlines_of(store.pool(), IncidentId(i.id)).await?;
        let sev = i.severity.zh();
        outln!(
            "#{} {} 【{}】{} {} — {} 条信息",
            i.id,
            i.title,
            i.status.zh(),
            sev,
            i.topic_name,
            items.len()
        );
        if let (Some(t), "monitoring") = (i.monitoring_until, i.status.as_str()) {
            outln!("    监测期至 {}（届时自动结案）", local(from_secs(t), tz));
        }
        for d in &deadlines {
            outln!("    {}", deadline_line(i, d, now, tz));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The period of `--from DATE [--to DATE]`: from the local midnight of `from` up to the
/// end of `to`, or up to `now` without it. `None` after saying what is wrong (exit 2).
fn period(
    what: &str,
    from: &str,
    to: Option<&str>,
    now: DateTime<Utc>,
    tz: chrono_tz::Tz,
) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let dates = format!(
        "--from and --to are dates like 2026-11-01 (the {what} covers --from up to the end \
         of --to, or up to now without --to)"
    );
    let Some(start) = parse_day(from, tz) else {
        eprintln!("error: {dates}");
        return None;
    };
    let end = match to.map(|to| parse_day(to, tz)) {
        None => now,
        Some(None) => {
            eprintln!("error: {dates}");
            return None;
        }
        Some(Some(end)) if end < start => {
            eprintln!(
                "error: --from {from} is after --to {}; the {what} covers --from up to the end of --to",
                to.unwrap_or_default()
            );
            return None;
        }
        Some(Some(end)) => end + chrono::Duration::days(1),
    };
    Some((start, end))
}

/// `yuqing report incidents`: every incident opened in [from, to), each deadline's outcome.
pub async fn report_incidents(
    c: &ConfigArg,
    from: &str,
    to: Option<&str>,
    csv_out: bool,
) -> Result<ExitCode> {
    let (config, store) = or_exit!(open(c).await);
    let tz = config.daemon.timezone;
    let now = CommandClock.now();
    let Some((start, end)) = period("report", from, to, now, tz) else {
        return Ok(ExitCode::from(2));
    };
    let to = to.map_or_else(|| "今".to_string(), str::to_string);
    let mut rows = Vec::new();
    for i in store
        .incidents_opened_between(secs(start), secs(end))
        .await?
    {
        let deadlines = store.deadlines_of(store.pool(), IncidentId(i.id)).await?;
        rows.push((i, deadlines));
    }
    let lines = crate::notify::report::lines(&rows, now, tz);
    if csv_out {
        // A UTF-8 byte order mark first, as the ledger CSV has: without it Excel reads the
        // file as the local code page and garbles the Chinese.
        out!("\u{feff}");
        let mut w = csv::Writer::from_writer(std::io::stdout());
        w.write_record(crate::notify::report::HEADER)?;
        for l in &lines {
            w.write_record(l.csv_record())?;
        }
        if w.flush().is_err() {
            return Ok(ExitCode::SUCCESS);
        }
    } else {
        outln!("{}", crate::notify::report::HEADER.join("\t"));
        let mut group = (false, false);
        for l in &lines {
            if (l.dismissed, l.dismissed_late) != group && l.dismissed {
                if l.dismissed_late {
                    outln!("超时后认定误报（时限到期未完成，其后判定为误报；单列备查）：");
                } else {
                    outln!("误报（已撤销，不计入考核）：");
                }
                group = (l.dismissed, l.dismissed_late);
            }
            outln!("{}", l.record().join("\t"));
        }
        outln!("{}", crate::notify::report::on_time_summary(&rows, now));
        outln!(
            "（共 {} 起事件、{} 项时限，{} 至 {}）",
            rows.len(),
            lines.len(),
            from,
            to
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `yuqing briefing`: the leaders' briefing of --from up to the end of --to (or of --from).
pub async fn briefing(c: &ConfigArg, from: &str, to: Option<&str>, html: bool) -> Result<ExitCode> {
    let settings = match Settings::load(&c.config) {
        Ok(s) => s,
        Err(e) => return Ok(invalid(&e)),
    };
    let tz = settings.config.daemon.timezone;
    let now = CommandClock.now();
    // Without --to, the one day of --from (a 日报), as the console's /briefing shows it.
    let to = to.or(Some(from));
    let Some((start, end)) = period("briefing", from, to, now, tz) else {
        return Ok(ExitCode::from(2));
    };
    if end <= start || start > now {
        eprintln!("error: --from {from} is in the future; a briefing covers days up to today");
        return Ok(ExitCode::from(2));
    }
    let store = match Store::open(&settings.config.daemon.database).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e:#}");
            return Ok(ExitCode::from(1));
        }
    };
    let calendar =
        crate::obligations::needs_calendar(&settings.config).then_some(&settings.calendar);
    let numbers =
        crate::obligations::briefing::gather(&store, &settings, calendar, start, end, now).await?;
    if html {
        outln!("{}", crate::notify::briefing::standalone_html(&numbers));
    } else {
        outln!("{}", crate::notify::briefing::subject(&numbers));
        outln!("");
        out!("{}", crate::notify::briefing::text(&numbers));
    }
    Ok(ExitCode::SUCCESS)
}

/// A date for `--from` / `--to` (`2026-11-01`): its local midnight.
fn parse_day(text: &str, tz: chrono_tz::Tz) -> Option<DateTime<Utc>> {
    parse_typed(text, tz).filter(|t| t.whole_day).map(|t| t.at)
}

pub async fn incident(cmd: IncidentCommand) -> Result<ExitCode> {
    if let IncidentCommand::Merge { .. } | IncidentCommand::Split { .. } = &cmd {
        return crate::cli::lifecycle::regroup(cmd).await;
    }
    let (config_arg, step, who) = match &cmd {
        IncidentCommand::Show { id, config, json } => return show(config, *id, *json).await,
        IncidentCommand::Ack { config, who, .. } => (config, Step::Acknowledge, who),
        IncidentCommand::Release {
            id,
            url,
            config,
            who,
        } => {
            if let Some(url) = url
                .as_deref()
                .filter(|u| crate::vocab::text::http_link(u).is_none())
            {
                eprintln!(
                    "error: --url `{}` is not an http:// or https:// address; give the address \
                     where the release was published",
                    crate::vocab::text::for_terminal(url)
                );
                return Ok(ExitCode::from(2));
            }
            return release(config, *id, url.as_deref(), who).await;
        }
        IncidentCommand::Press {
            note, config, who, ..
        } => (config, Step::PressConference { note: note.clone() }, who),
        IncidentCommand::Severity {
            level, config, who, ..
        } => match level.parse::<Severity>() {
            Ok(s) => (config, Step::Severity(s), who),
            Err(e) => {
                eprintln!("error: {e}");
                return Ok(ExitCode::from(2));
            }
        },
        IncidentCommand::Note {
            text, config, who, ..
        } => (config, Step::Note(text.clone()), who),
        IncidentCommand::Title {
            text, config, who, ..
        } => (config, Step::Title(text.clone()), who),
        IncidentCommand::Close { config, who, .. } => (config, Step::Close, who),
        IncidentCommand::Dismiss {
            reason,
            config,
            who,
            ..
        } => (
            config,
            Step::Dismiss {
                reason: reason.clone(),
            },
            who,
        ),
        IncidentCommand::Merge { .. } | IncidentCommand::Split { .. } => unreachable!(),
    };
    let id = match &cmd {
        IncidentCommand::Show { id, .. }
        | IncidentCommand::Ack { id, .. }
        | IncidentCommand::Release { id, .. }
        | IncidentCommand::Press { id, .. }
        | IncidentCommand::Severity { id, .. }
        | IncidentCommand::Note { id, .. }
        | IncidentCommand::Title { id, .. }
        | IncidentCommand::Close { id, .. }
        | IncidentCommand::Dismiss { id, .. } => *id,
        IncidentCommand::Merge { .. } | IncidentCommand::Split { .. } => unreachable!(),
    };
    let (config, store) = or_exit!(open(config_arg).await);
    let code = apply(&store, &config, id, &step, who).await?;
    if let Step::Dismiss { .. } = step {
        let dismissed = store
            .incident(store.pool(), IncidentId(id))
            .await?
            .is_some_and(|i| i.status == crate::vocab::state::IncidentStatus::Dismissed);
        if dismissed {
            for line in dismissal_hint(&config, &store, id).await? {
                outln!("{line}");
            }
        }
    }
    Ok(code)
}

/// Why a dismissed incident's first item matched, and the `none` term that would have
/// stopped it (`classify --explain` on the item); nothing when the watchlists cannot be
/// read now.
async fn dismissal_hint(config: &Config, store: &Store, id: i64) -> Result<Vec<String>> {
    let Some(i) = store.incident(store.pool(), IncidentId(id)).await? else {
        return Ok(Vec::new());
    };
    let items = store.incident_items(store.pool(), IncidentId(id)).await?;
    let Some(first) = items
        .iter()
        .find(|x| x.id == i.first_item_id)
        .or(items.first())
    else {
        return Ok(Vec::new());
    };
    let Ok(w) = crate::classify::watchlist::load_dir(&config.daemon.watchlists) else {
        return Ok(Vec::new());
    };
    let Ok(classifier) = crate::classify::Classifier::new(&w) else {
        return Ok(Vec::new());
    };
    let text = format!("{}\n{}", first.title, first.summary);
    Ok(classifier
        .explain(&text, Some(&first.source_id))
        .dismissal_hint(&text, &i.topic_id))
}

/// Applies one of the duty officer's steps and says what it did.
async fn apply(
    store: &Store,
    config: &Config,
    id: i64,
    step: &Step,
    who: &Who,
) -> Result<ExitCode> {
    let by = or_exit!(who.name_or_refuse());
    match incident::act(store, config, IncidentId(id), step, &by, CommandClock.now()).await {
        Ok(said) => {
            outln!("{said}");
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => Ok(step_failure(&e)),
    }
}

/// `incident release`: with a URL, or confirming the candidate yuqing detected.
async fn release(c: &ConfigArg, id: i64, url: Option<&str>, who: &Who) -> Result<ExitCode> {
    let (config, store) = or_exit!(open(c).await);
    let pending: Vec<_> = store
        .release_candidates(store.pool(), IncidentId(id))
        .await?
        .into_iter()
        .filter(|c| c.status == "candidate")
        .collect();
    let step = match url {
        Some(url) => Step::Release {
            url: url.to_string(),
            at: pending
                .iter()
                .find(|c| c.link.as_deref() == Some(url))
                .map(|c| crate::vocab::clock::from_secs(c.posted_at)),
        },
        None => match pending.as_slice() {
            [] => {
                eprintln!("error: incident #{id} has no detected release to confirm; give --url URL of the release");
                return Ok(ExitCode::from(2));
            }
            [one] => Step::Release {
                url: one
                    .link
                    .clone()
                    .unwrap_or_else(|| format!("channel:{}", one.channel_id)),
                at: Some(crate::vocab::clock::from_secs(one.posted_at)),
            },
            several => {
                eprintln!(
                    "error: incident #{id} has {} detected releases; say which with --url:",
                    several.len()
                );
                for c in several {
                    eprintln!(
                        "  {}  《{}》",
                        c.link.as_deref().unwrap_or("(no link)"),
                        c.title
                    );
                }
                return Ok(ExitCode::from(2));
            }
        },
    };
    apply(&store, &config, id, &step, who).await
}

async fn show(c: &ConfigArg, id: i64, json_out: bool) -> Result<ExitCode> {
    let (config, store) = or_exit!(open(c).await);
    let tz = config.daemon.timezone;
    let now = CommandClock.now();
    let Some(i) = store.incident(store.pool(), IncidentId(id)).await? else {
        eprintln!("error: 没有事件 #{id}（`yuqing incidents --all` 列出全部事件）");
        return Ok(ExitCode::from(2));
    };
    let actions = store.actions_of(IncidentId(id)).await?;
    let candidates = store
        .release_candidates(store.pool(), IncidentId(id))
        .await?;
    if json_out {
        let mut v = incident_json(&store, &i, now, tz).await?;
        v["release_candidates"] = json!(candidates
            .iter()
            .map(|c| json!({
                "channel": c.channel_id, "title": c.title, "link": c.link,
                "published": rfc3339(c.posted_at, tz), "similarity": c.similarity,
                "status": c.status,
            }))
            .collect::<Vec<_>>());
        v["actions"] = json!(actions
            .iter()
            .map(|a| json!({"at": rfc3339(a.at, tz), "by": a.actor, "action": a.action, "detail": a.detail}))
            .collect::<Vec<_>>());
        jsonln!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(ExitCode::SUCCESS);
    }
    let sev = i.severity.zh();
    outln!("#{} {}", i.id, i.title);
    outln!("专题 {} — {} — {}", i.topic_name, sev, i.status.zh());
    outln!(
        "立案时间 {}，计时起点 {}",
        local(from_secs(i.opened_at), tz),
        local(from_secs(i.clock_start), tz)
    );
    for line in crate::cli::lifecycle::state_lines(&i, tz) {
        outln!("{line}");
    }
    outln!("时限：");
    for d in store.deadlines_of(store.pool(), IncidentId(id)).await? {
        outln!("  {}", deadline_line(&i, &d, now, tz));
    }
    let items = store.incident_items(store.pool(), IncidentId(id)).await?;
    let sightings = store
        .incident_sightings(store.pool(), IncidentId(id))
        .await?;
    let evidence = crate::store::evidence_summaries(
        &store
            .incident_evidence(crate::vocab::ids::IncidentId(id))
            .await?,
    );
    for line in crate::notify::spread::Spread::of(&items, &sightings).lines(tz) {
        outln!("{line}");
    }
    outln!("信息：");
    for it in items {
        outln!(
            "  #{} {} 【{}】{} {}",
            it.id,
            it.published_at
                .map(|t| local(from_secs(t), tz))
                .unwrap_or_else(|| local(from_secs(it.fetched_at), tz)),
            it.source_id,
            it.title,
            it.link.as_deref().unwrap_or("")
        );
        let also: Vec<String> = sightings
            .iter()
            .filter(|s| s.item_id == it.id)
            .map(|s| format!("【{}】", s.source_id))
            .collect();
        if !also.is_empty() {
            outln!("      亦见于 {}", also.concat());
        }
        if let Some(e) = evidence.get(&it.id) {
            outln!("      证据：{}", evidence_line(e, tz));
        }
    }
    if !candidates.is_empty() {
        outln!("本单位渠道上发现的疑似权威发布：");
        for c in &candidates {
            outln!(
                "  {} 【{}】{} {}（{}）",
                local(from_secs(c.posted_at), tz),
                c.channel_id,
                c.title,
                c.link.as_deref().unwrap_or(""),
                match c.status.as_str() {
                    "candidate" => "待确认",
                    "confirmed" => "已确认",
                    "superseded" => "未采用",
                    other => other,
                }
            );
        }
    }
    outln!("处置记录（留痕）：");
    for a in actions {
        outln!(
            "  {} {} {}",
            local(from_secs(a.at), tz),
            a.actor,
            crate::vocab::words::record_zh(a.action, a.detail.as_deref())
        );
    }
    Ok(ExitCode::SUCCESS)
}
