//! `[retention]`: how long items that belong to no incident are kept (issue 29 §1).
//!
//! Without the table nothing is ever deleted, as before. With `items = "90d"` the daemon
//! prunes, once a day, the items older than that which no incident holds, keeping what the
//! briefings and reports count of them as hourly counts (`store::retention`).

use crate::vocab::diagnostic::{Diagnostic, Diagnostics};
use crate::vocab::duration::Span;
use serde::Deserialize;
use std::path::Path;
use toml::Spanned;

/// Items are kept at least this long: a day's and a week's briefing read them.
const LEAST: u64 = 7 * 86_400;

#[derive(Debug, Clone, Default)]
pub struct Retention {
    /// Items older than this that belong to no incident are deleted; `None`: kept for good.
    pub items: Option<Span>,
}

/// The `[retention]` table as written.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawRetention {
    items: Option<Spanned<Span>>,
}

/// Checks `[retention]`; mistakes go to `errs` with their line.
pub fn check(raw: RawRetention, errs: &mut Diagnostics, path: &Path, source: &str) -> Retention {
    let items = match raw.items {
        None => None,
        Some(s) if s.get_ref().as_secs() < LEAST => {
            errs.push(Diagnostic::at(
                path,
                source,
                s.span().start,
                "[retention] items shorter than 7d would delete what the weekly briefing \
                 counts before it is written; give e.g. \"90d\""
                    .to_string(),
            ));
            None
        }
        Some(s) => Some(s.into_inner()),
    };
    Retention { items }
}
