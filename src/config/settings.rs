//! Everything loaded from the operator's files, checked together, swapped as one.
//!
//! The daemon holds the current [`Settings`] in an `Arc`; a reload builds a new one and
//! swaps it in only when every file checks, so a bad edit keeps the running set.

use crate::classify::watchlist::{self, Watchlists};
use crate::classify::Classifier;
use crate::config::{self, Config};
use crate::vocab::diagnostic::{Diagnostic, Diagnostics};
use std::path::Path;
use std::sync::{Arc, RwLock};

pub struct Settings {
    pub config: Config,
    pub watchlists: Watchlists,
    pub classifier: Classifier,
    /// The working-day calendar (`[daemon] calendar`); empty when the folder is absent.
    pub calendar: crate::rules::calendar::Calendar,
}

impl Settings {
    /// Loads the config at `path` and the watchlists it names; every mistake of every file
    /// is reported, not only the first.
    ///
    /// A bug in reading the files (a panic) is reported as a diagnostic of the config file
    /// too, never unwound into the caller: a reload must keep the running set and a start
    /// must say which file to look at, whatever an operator wrote (issue 28: a one-word
    /// typo in a watchlist once killed the daemon and its restarts).
    pub fn load(path: &Path) -> Result<Settings, Diagnostics> {
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| Settings::read(path))) {
            Ok(result) => result,
            Err(panic) => {
                let what = panic
                    .downcast_ref::<String>()
                    .map(String::as_str)
                    .or_else(|| panic.downcast_ref::<&str>().copied())
                    .unwrap_or("unknown");
                Err(Diagnostic::new(
                    path,
                    None,
                    format!(
                        "internal error while reading the config, watchlists or calendars \
                         ({what}); nothing was changed. Undo the last edit and report this"
                    ),
                )
                .into())
            }
        }
    }

    fn read(path: &Path) -> Result<Settings, Diagnostics> {
        let config = match config::load(path) {
            Ok(c) => c,
            Err(mut errs) => {
                // Every mistake in one run: the watchlists are checked too, with their
                // examples, when the config names a folder that can be found.
                if let Some(dir) = config::watchlists_dir(path) {
                    match watchlist::load_dir(&dir).and_then(|w| {
                        let c = Classifier::new(&w)?;
                        Ok(c.run_examples(&w))
                    }) {
                        Ok(failures) => errs.extend(failures),
                        Err(e) => errs.extend(e),
                    }
                }
                return Err(errs);
            }
        };
        let watchlists = watchlist::load_dir(&config.daemon.watchlists)?;
        let classifier = Classifier::new(&watchlists)?;
        let mut errs = Diagnostics::default();
        let dir = &config.daemon.calendar;
        let calendar = if dir.is_dir() {
            match crate::rules::calendar::Calendar::load_dir(dir) {
                Ok(c) => c,
                Err(e) => {
                    errs.extend(e);
                    crate::rules::calendar::Calendar::empty(dir)
                }
            }
        } else {
            // A working-day count (a channel's `working_days`, a topic's `obligation`) without
            // the folder would silently count Monday–Friday: that is an error at the key.
            let needers: Vec<String> = config
                .channels
                .iter()
                .filter(|c| matches!(c.duty, Some(crate::rules::duty::Duty::WorkingDays { .. })))
                .map(|c| format!("channel `{}` (working_days)", c.id))
                .chain(
                    watchlists
                        .topics
                        .iter()
                        .filter(|t| t.obligation.is_some())
                        .map(|t| format!("topic `{}` (obligation)", t.id)),
                )
                .collect();
            if needers.is_empty() {
                tracing::warn!(
                    calendar = %dir.display(),
                    "the working-day calendar folder does not exist; nothing counts working days yet"
                );
            } else {
                errs.push(crate::vocab::diagnostic::Diagnostic::new(
                    path,
                    config.daemon.calendar_line,
                    format!(
                        "[daemon] calendar: folder `{}` does not exist, and {} count{} working \
                         days on it; point `calendar` at the holiday-cn files (config/calendar)",
                        dir.display(),
                        needers.join(", "),
                        if needers.len() == 1 { "s" } else { "" }
                    ),
                ));
            }
            crate::rules::calendar::Calendar::empty(dir)
        };
        let known: Vec<&str> = config.polled().map(|p| p.id).collect();
        for topic in &watchlists.topics {
            for s in topic.sources.iter().flatten() {
                if !known.contains(&s.as_str()) {
                    errs.push(crate::vocab::diagnostic::Diagnostic::new(
                        &topic.file,
                        Some(topic.sources_line.unwrap_or(topic.line)),
                        format!(
                            "topic `{}` is restricted to source `{s}`, which {} does not \
                             define (known: {})",
                            topic.id,
                            path.display(),
                            match known.len() {
                                0 => "none".to_string(),
                                // A config of thousands of sources must not make a
                                // thousand-name line.
                                n if n > 10 => format!("{}, … {n} in all", known[..10].join(", ")),
                                _ => known.join(", "),
                            }
                        ),
                    ));
                }
            }
        }
        errs.into_result(Settings {
            config,
            watchlists,
            classifier,
            calendar,
        })
    }
}

/// The settings in force, replaced atomically on reload.
#[derive(Clone)]
pub struct Current(Arc<RwLock<Arc<Settings>>>);

impl Current {
    pub fn new(s: Settings) -> Self {
        Current(Arc::new(RwLock::new(Arc::new(s))))
    }
    pub fn get(&self) -> Arc<Settings> {
        self.0.read().unwrap_or_else(|e| e.into_inner()).clone()
    }
    pub fn replace(&self, s: Settings) {
        *self.0.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(s);
    }
}
