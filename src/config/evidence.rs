//! `[evidence]`: which items' pages are kept as evidence (WARC files), where, and when a
//! kept page is checked again for deletion or edits (issue 23).
//!
//! ```toml
//! [evidence]
//! capture = "matched"                          # "matched" (default) | "all" | "off"
//! dir = "var/evidence"                         # default: <state_dir>/evidence
//! recheck = ["30m", "2h", "6h", "24h", "72h"]  # after capture, while its incident is open
//! max_file_mb = 1024                           # a WARC file is closed past this size
//! daily = true                                 # and a new one begun each local day
//! ```

use crate::vocab::diagnostic::{Diagnostic, Diagnostics};
use crate::vocab::duration::Span;
use serde::Deserialize;
use std::path::{Path, PathBuf};
use toml::Spanned;

/// Which items' pages are captured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Capture {
    /// Items that matched a topic (the default).
    Matched,
    /// Every new item; one whose title matched nothing but whose page matches a topic
    /// opens or joins an incident like any other.
    All,
    /// Nothing is fetched or kept.
    Off,
}

impl Capture {
    pub fn as_str(self) -> &'static str {
        match self {
            Capture::Matched => "matched",
            Capture::All => "all",
            Capture::Off => "off",
        }
    }

    /// Whether an item that matched `matched` topics (by its title and summary) is captured.
    pub fn wants(self, matched: bool) -> bool {
        match self {
            Capture::Matched => matched,
            Capture::All => true,
            Capture::Off => false,
        }
    }
}

/// The `[evidence]` section, checked.
#[derive(Debug, Clone)]
pub struct Evidence {
    pub capture: Capture,
    /// The folder of the WARC files.
    pub dir: PathBuf,
    /// When a captured page is checked again, after its capture, ascending.
    pub recheck: Vec<Span>,
    /// A file is closed, and a new one begun, once it passes this many bytes.
    pub max_file_bytes: u64,
    /// A new file each local day.
    pub daily: bool,
}

/// The default recheck schedule: half an hour, then as the story ages.
pub const RECHECK: [u64; 5] = [30 * 60, 2 * 3600, 6 * 3600, 24 * 3600, 72 * 3600];

/// The default size past which a WARC file is closed: 1 GiB, as web archives commonly do.
pub const MAX_FILE_MB: u64 = 1024;

impl Evidence {
    /// The defaults, with the WARC files under `state_dir`.
    pub fn default_in(state_dir: &Path) -> Evidence {
        Evidence {
            capture: Capture::Matched,
            dir: state_dir.join("evidence"),
            recheck: RECHECK.iter().map(|s| Span::from_secs(*s)).collect(),
            max_file_bytes: MAX_FILE_MB * 1024 * 1024,
            daily: true,
        }
    }
}

/// The `[evidence]` table as written.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawEvidence {
    capture: Option<Spanned<String>>,
    dir: Option<PathBuf>,
    recheck: Option<Spanned<Vec<Spanned<Span>>>>,
    max_file_mb: Option<Spanned<u64>>,
    daily: Option<bool>,
}

/// Checks `[evidence]`; mistakes go to `errs` with their line.
pub fn check(
    raw: RawEvidence,
    state_dir: &Path,
    errs: &mut Diagnostics,
    path: &Path,
    source: &str,
) -> Evidence {
    let mut out = Evidence::default_in(state_dir);
    let mut at = |offset: usize, message: String| {
        errs.push(Diagnostic::at(path, source, offset, message));
    };
    if let Some(c) = raw.capture {
        match c.get_ref().trim() {
            "matched" => out.capture = Capture::Matched,
            "all" => out.capture = Capture::All,
            "off" => out.capture = Capture::Off,
            other => at(
                c.span().start,
                format!(
                    "[evidence] capture `{other}` is not known: write \"matched\" (the pages of \
                     items that matched a topic), \"all\" or \"off\""
                ),
            ),
        }
    }
    if let Some(dir) = raw.dir {
        out.dir = dir;
    }
    if let Some(list) = raw.recheck {
        let start = list.span().start;
        let spans = list.into_inner();
        let mut ok = true;
        for pair in spans.windows(2) {
            if pair[1].get_ref() <= pair[0].get_ref() {
                at(
                    pair[1].span().start,
                    format!(
                        "[evidence] recheck: `{}` does not come after `{}`; list the times \
                         after capture in ascending order, like [\"30m\", \"2h\", \"6h\"]",
                        pair[1].get_ref(),
                        pair[0].get_ref()
                    ),
                );
                ok = false;
            }
        }
        if let Some(zero) = spans.iter().find(|s| s.get_ref().as_secs() == 0) {
            at(
                zero.span().start,
                "[evidence] recheck: a check at 0s would fetch the page again at once; give \
                 a time after capture such as \"30m\""
                    .to_string(),
            );
            ok = false;
        }
        if ok {
            out.recheck = spans.into_iter().map(Spanned::into_inner).collect();
        } else if out.recheck.is_empty() {
            at(start, "[evidence] recheck is empty".to_string());
        }
    }
    if let Some(mb) = raw.max_file_mb {
        if *mb.get_ref() == 0 {
            at(
                mb.span().start,
                "[evidence] max_file_mb must be at least 1 (megabytes per WARC file)".to_string(),
            );
        } else {
            out.max_file_bytes = mb.get_ref().saturating_mul(1024 * 1024);
        }
    }
    if let Some(daily) = raw.daily {
        out.daily = daily;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> (Evidence, Vec<String>) {
        #[derive(Deserialize)]
        struct File {
            evidence: RawEvidence,
        }
        let file: File = toml::from_str(text).expect("toml");
        let mut errs = Diagnostics::default();
        let path = Path::new("yuqing.toml");
        let e = check(file.evidence, Path::new("var"), &mut errs, path, text);
        let lines = errs.0.iter().map(|d| d.to_string()).collect();
        (e, lines)
    }

    #[test]
    fn defaults_capture_matched_items_under_the_state_dir() {
        let (e, errs) = parse("[evidence]\n");
        assert!(errs.is_empty(), "{errs:?}");
        assert_eq!(e.capture, Capture::Matched);
        assert_eq!(e.dir, Path::new("var/evidence"));
        let secs: Vec<u64> = e.recheck.iter().map(|s| s.as_secs()).collect();
        assert_eq!(secs, RECHECK);
        assert!(e.daily);
    }

    #[test]
    fn mistakes_are_told_at_their_line() {
        let (_, errs) =
            parse("[evidence]\ncapture = \"some\"\nrecheck = [\"2h\", \"30m\"]\nmax_file_mb = 0\n");
        assert_eq!(errs.len(), 3, "{errs:?}");
        assert!(errs[0].starts_with("yuqing.toml:2:"), "{errs:?}");
        assert!(errs[0].contains("\"matched\""), "{errs:?}");
        assert!(errs[1].starts_with("yuqing.toml:3:"), "{errs:?}");
        assert!(errs[1].contains("ascending"), "{errs:?}");
        assert!(errs[2].starts_with("yuqing.toml:4:"), "{errs:?}");
    }

    #[test]
    fn all_and_off_are_read() {
        assert_eq!(
            parse("[evidence]\ncapture = \"all\"\n").0.capture,
            Capture::All
        );
        assert_eq!(
            parse("[evidence]\ncapture = \"off\"\n").0.capture,
            Capture::Off
        );
        assert!(Capture::All.wants(false));
        assert!(!Capture::Matched.wants(false));
        assert!(!Capture::Off.wants(true));
    }
}
