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
pub(crate) use outln;

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
            eprintln!("error: {}", crate::vocab::text::error_chain(e));
            ExitCode::from(1)
        }
    }
}

/// The incident a duty officer's step is taken on, and who takes it (for the record). A
/// step flattens it after its own `--option`s (help lists them first) and before its own
/// arguments (ID comes first on the command line).
#[derive(Args, Clone, Debug)]
pub struct OnIncident {
    /// The incident number (see `yuqing incidents`).
    pub id: i64,
    #[command(flatten)]
    pub config: ConfigArg,
    #[command(flatten)]
    pub who: Who,
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
    Ack(OnIncident),
    /// Record the authoritative release (below 重大: the response), ending that deadline.
    /// Without --url, confirms the release that yuqing detected on an own channel.
    Release {
        /// Where it was published (a detected candidate's link confirms that candidate,
        /// at the time it was published).
        #[arg(long)]
        url: Option<String>,
        #[command(flatten)]
        on: OnIncident,
    },
    /// Record the press conference, ending that deadline.
    Press {
        /// What to record about it (where, who spoke), kept in the record (留痕).
        #[arg(long)]
        note: Option<String>,
        #[command(flatten)]
        on: OnIncident,
    },
    /// Set the severity (especially_major | major | large | ordinary); deadlines follow.
    Severity {
        #[command(flatten)]
        on: OnIncident,
        /// especially_major | major | large | ordinary.
        level: String,
    },
    /// Name the incident: the title every list, page, mail and report shows (by default
    /// its first item's title), at most 100 characters; kept in the record (留痕).
    Title {
        #[command(flatten)]
        on: OnIncident,
        /// The new title, on one line.
        text: String,
    },
    /// Add a note to the record (at most 10,000 characters).
    Note {
        #[command(flatten)]
        on: OnIncident,
        /// The note, kept in the record (留痕).
        text: String,
    },
    /// Close the incident; its deadlines stop.
    Close(OnIncident),
    /// Dismiss a false positive (误报): the incident ends, its deadlines are cancelled and
    /// the report lists it apart, never as unmet.
    Dismiss {
        /// Why it is not about the agency's business (kept in the record and mailed).
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        on: OnIncident,
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

/// The config with its watchlists and classifier; its mistakes told, exit 2, when it has any.
fn load_settings(c: &ConfigArg) -> Result<Settings, ExitCode> {
    Settings::load(&c.config).map_err(|e| invalid(&e))
}

pub(crate) async fn open(c: &ConfigArg) -> Result<(Config, Store), ExitCode> {
    let config = load_config(c)?;
    match Store::open(&config.daemon.database).await {
        Ok(store) => Ok((config, store)),
        Err(e) => {
            eprintln!("error: {}", crate::vocab::text::error_chain(&e));
            Err(ExitCode::from(1))
        }
    }
}

/// The value, or the command ends with the exit code it was refused with (the reason
/// already told).
macro_rules! or_exit {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(code) => return Ok(code),
        }
    };
}
pub(crate) use or_exit;

// The commands by family; declared after the macros above, which they use.
mod admin;
mod incidents;
mod items;
mod reports;

pub use admin::{calendar_update, check, prune, sources};
pub use incidents::{incident, incidents};
pub use items::{classify, items, poll, Classify, ItemParts};
pub use reports::{briefing, obligations, report_incidents};

/// `Ok` when `id` is one of `known`; else says which ids the config defines, exit code 2.
fn known_source(c: &ConfigArg, id: &str, known: &[&str]) -> Result<(), ExitCode> {
    if known.contains(&id) {
        return Ok(());
    }
    Err(unknown(c, "source", id, known))
}

/// Says that the config defines no `what` (a source, a `[[notify]]`) `id`, and which ids it
/// does define: exit code 2.
fn unknown(c: &ConfigArg, what: &str, id: &str, known: &[&str]) -> ExitCode {
    eprintln!(
        "error: {} defines no {what} `{id}`; known: {}",
        c.config.display(),
        if known.is_empty() {
            "none".to_string()
        } else {
            known.join(", ")
        }
    );
    ExitCode::from(2)
}

pub async fn run(c: &ConfigArg) -> Result<ExitCode> {
    let settings = or_exit!(load_settings(c));
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
