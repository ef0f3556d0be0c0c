//! Errors in the operator's files, pointing at the file and line to fix.
//!
//! `yuqing check` prints these as `file:line: message`; the daemon logs them when a reload
//! fails. Every loader of operator-written files (config, watchlists, calendars) reports
//! through this type so that all of them read the same way.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// One mistake in one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub file: PathBuf,
    /// 1-based line; `None` when the problem is with the file as a whole.
    pub line: Option<usize>,
    pub message: String,
}

/// Turns a byte span of the file being checked into a diagnostic with that file and the
/// span's line, so that a section's checks report a mistake at its line without carrying
/// the file's path and text; [`Diagnostic::spans_in`] makes one.
pub type SpanToDiagnostic<'a> = dyn Fn(Range<usize>, String) -> Diagnostic + 'a;

impl Diagnostic {
    pub fn new(file: &Path, line: Option<usize>, message: impl Into<String>) -> Self {
        Diagnostic {
            file: file.to_path_buf(),
            line,
            message: message.into(),
        }
    }

    /// A diagnostic at the line holding byte `offset` of `source`.
    pub fn at(file: &Path, source: &str, offset: usize, message: impl Into<String>) -> Self {
        Diagnostic::new(file, Some(line_of(source, offset)), message)
    }

    /// The [`SpanToDiagnostic`] of `file`, whose text is `source`: a span's diagnostic is
    /// at the line of its start.
    pub fn spans_in<'a>(
        file: &'a Path,
        source: &'a str,
    ) -> impl Fn(Range<usize>, String) -> Diagnostic + 'a {
        move |span, message| Diagnostic::at(file, source, span.start, message)
    }

    /// The files of an operator's folder (watchlists, tone words, calendar) whose names
    /// end in `.ext`, in name order, so that a mistake found across files is reported on
    /// the same file each time; `what` names the folder when it cannot be read.
    fn files_in(dir: &Path, ext: &str, what: &str) -> Result<Vec<PathBuf>, Diagnostic> {
        let entries = std::fs::read_dir(dir)
            .map_err(|e| Diagnostic::new(dir, None, format!("cannot read the {what}: {e}")))?;
        let mut files = Vec::new();
        for entry in entries {
            let path = entry
                .map_err(|e| Diagnostic::new(dir, None, format!("cannot list the {what}: {e}")))?
                .path();
            if path.extension().is_some_and(|x| x == ext) && path.is_file() {
                files.push(path);
            }
        }
        files.sort();
        Ok(files)
    }

    /// An operator's file as text: [`Diagnostic::utf8`] of its bytes, or a diagnostic
    /// saying why it cannot be read.
    fn read_text(file: &Path) -> Result<String, Diagnostic> {
        let bytes = std::fs::read(file)
            .map_err(|e| Diagnostic::new(file, None, format!("cannot read: {e}")))?;
        Diagnostic::utf8(file, bytes)
    }

    /// The text of an operator's file, or, when it is not UTF-8, a diagnostic at the line of
    /// the first bad byte saying which encoding it seems to be in and how to convert it
    /// (Windows editors save Chinese text as GBK or UTF-16 unless told otherwise).
    pub fn utf8(file: &Path, bytes: Vec<u8>) -> Result<String, Diagnostic> {
        let bad = match String::from_utf8(bytes) {
            Ok(text) => return Ok(text),
            Err(e) => e,
        };
        let at = bad.utf8_error().valid_up_to();
        let bytes = bad.into_bytes();
        let encoding = match bytes.get(..2) {
            Some([0xFF, 0xFE]) => "UTF-16LE",
            Some([0xFE, 0xFF]) => "UTF-16BE",
            _ => {
                let mut detector = chardetng::EncodingDetector::new();
                detector.feed(&bytes, true);
                detector.guess(Some(b"cn"), true).name()
            }
        };
        let line = bytes[..at].iter().filter(|&&b| b == b'\n').count() + 1;
        let name = file.display();
        Err(Diagnostic::new(
            file,
            Some(line),
            format!(
                "the file is not UTF-8 (it looks like {encoding}); convert it, e.g. \
                 `iconv -f {encoding} -t UTF-8 {name} > {name}.utf8 && mv {name}.utf8 {name}`, \
                 or save it as UTF-8 in the editor"
            ),
        ))
    }

    /// Turns a TOML parse or deserialize error into a diagnostic at its line.
    pub fn from_toml(file: &Path, source: &str, err: &toml::de::Error) -> Self {
        let line = err.span().map(|s| line_of(source, s.start));
        // toml's Display repeats the snippet over several lines; its message is the part
        // a person needs, and we supply file and line ourselves. A wrong value's message
        // does not name its key (`invalid type: integer `5`, expected a string`): the key
        // is taken from the line.
        let message = err.message().trim().to_string();
        let key = err.span().and_then(|s| {
            let start = source[..floor_boundary(source, s.start)]
                .rfind('\n')
                .map_or(0, |i| i + 1);
            let line = source[start..].lines().next()?;
            let (key, _) = line.split_once('=')?;
            let key = key.trim();
            (!key.is_empty() && !key.starts_with('[') && !message.contains(key))
                .then(|| key.to_string())
        });
        let message = match key {
            Some(key) => format!("`{key}`: {message}"),
            None => message,
        };
        Diagnostic::new(file, line, message)
    }
}

/// Reads every file of an operator's folder whose name ends in `.ext` (watchlists, tone
/// words, calendar), in name order, handing each one's text to `read`, which parses it.
/// Every mistake of every file is gathered, a file that cannot be read or is not UTF-8
/// among them, so that one `yuqing check` shows them all; `what` names the folder when it
/// cannot be read, which is an error of its own. Returns the files and the mistakes.
pub fn read_folder(
    dir: &Path,
    ext: &str,
    what: &str,
    mut read: impl FnMut(&Path, String) -> Result<(), Diagnostics>,
) -> Result<(Vec<PathBuf>, Diagnostics), Diagnostic> {
    let files = Diagnostic::files_in(dir, ext, what)?;
    let mut errs = Diagnostics::default();
    for file in &files {
        match Diagnostic::read_text(file) {
            Ok(text) => {
                if let Err(d) = read(file, text) {
                    errs.extend(d);
                }
            }
            Err(d) => errs.push(d),
        }
    }
    Ok((files, errs))
}

/// The most TOML mistakes one `check` reports before it stops reading the file.
const MAX_TOML_ERRORS: usize = 20;

/// Reads the file's TOML into the raw sections, reporting every mistake rather than the
/// first: after a mistake, the section (the top-level table, or the `[[source]]` entry)
/// holding it is blanked, with its lines kept so that later line numbers stay true, and
/// the file read again. A syntax error with no section around it blanks its own line.
/// Returns what was read with the mistaken sections left out, and the mistakes.
pub fn read_toml<T: serde::de::DeserializeOwned>(
    path: &Path,
    source: &str,
) -> (Option<T>, Diagnostics) {
    let mut errs = Diagnostics::default();
    let mut text = source.to_string();
    for _ in 0..MAX_TOML_ERRORS {
        match toml::from_str::<T>(&text) {
            Ok(raw) => return (Some(raw), errs),
            Err(e) => {
                errs.push(Diagnostic::from_toml(path, source, &e));
                let Some(at) = e.span().map(|s| s.start) else {
                    return (None, errs);
                };
                let (start, end) = section_around(&text, at);
                if start >= end {
                    return (None, errs);
                }
                // Blanked byte for byte, so that every later span of `text` is also a
                // span of `source` (a 3-byte '石' becomes three spaces, not one).
                let blank: String = text[start..end]
                    .chars()
                    .map(|c| {
                        if c == '\n' {
                            "\n".to_string()
                        } else {
                            " ".repeat(c.len_utf8())
                        }
                    })
                    .collect();
                debug_assert_eq!(blank.len(), end - start);
                text.replace_range(start..end, &blank);
            }
        }
    }
    (None, errs)
}

/// The byte range of the section of `text` holding byte `at`: from its `[header]` line to
/// the next header, or the line of `at` when it comes before any header.
fn section_around(text: &str, at: usize) -> (usize, usize) {
    let at = floor_boundary(text, at);
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[at..].find('\n').map_or(text.len(), |i| at + i);
    // Each header's position and name (`topic.rule` of `[[topic.rule]]`).
    let mut headers: Vec<(usize, &str)> = Vec::new();
    let mut pos = 0;
    for line in text.split_inclusive('\n') {
        let head = line.trim();
        if head.starts_with('[') {
            let name = head.trim_start_matches('[');
            let name = name.split(']').next().unwrap_or("").trim();
            headers.push((pos, name));
        }
        pos += line.len();
    }
    let Some(k) = headers.iter().rposition(|&(h, _)| h <= line_start) else {
        return (line_start, line_end);
    };
    let (h, name) = headers[k];
    // An entry of an array of tables takes its sub-tables with it (`[[topic]]` its
    // `[[topic.rule]]`s): left behind, they would make a map of `topic` and a false
    // mistake of every one of them.
    let array = text[h..].trim_start().starts_with("[[");
    let child = format!("{name}.");
    let end = headers[k + 1..]
        .iter()
        .find(|(_, n)| !(array && n.starts_with(&child)))
        .map_or(text.len(), |&(p, _)| p);
    (h, end)
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{}: {}", self.file.display(), line, self.message),
            None => write!(f, "{}: {}", self.file.display(), self.message),
        }
    }
}

/// Several diagnostics, reported together so that one `yuqing check` shows every mistake.
#[derive(Debug, Clone, Default)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    pub fn push(&mut self, d: Diagnostic) {
        self.0.push(d);
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn extend(&mut self, other: Diagnostics) {
        self.0.extend(other.0);
    }
    /// `Ok(value)` when nothing was reported.
    pub fn into_result<T>(self, value: T) -> Result<T, Diagnostics> {
        if self.0.is_empty() {
            Ok(value)
        } else {
            Err(self)
        }
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

impl From<Diagnostic> for Diagnostics {
    fn from(d: Diagnostic) -> Self {
        Diagnostics(vec![d])
    }
}

/// `offset`, moved back to the start of the character it falls in (and to the end of
/// `text` when past it), so that a span from another reading of the file never slices
/// inside a character.
fn floor_boundary(text: &str, offset: usize) -> usize {
    let mut at = offset.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// 1-based line number of byte `offset` in `source`.
pub fn line_of(source: &str, offset: usize) -> usize {
    let end = offset.min(source.len());
    source.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_not_in_utf8_says_which_encoding_and_how_to_convert() {
        let (gbk, _, _) = encoding_rs::GBK.encode("[[topic]]\nname = \"景区安全\"\n");
        let e = Diagnostic::utf8(Path::new("w/gbk.toml"), gbk.into_owned()).unwrap_err();
        assert_eq!(e.line, Some(2), "{e}");
        assert!(e.message.contains("looks like GBK"), "{e}");
        assert!(
            e.message.contains("iconv -f GBK -t UTF-8 w/gbk.toml"),
            "{e}"
        );
        let utf16: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain("a = 1".encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        let e = Diagnostic::utf8(Path::new("x.toml"), utf16).unwrap_err();
        assert!(e.message.contains("UTF-16LE"), "{e}");
        assert_eq!(
            Diagnostic::utf8(Path::new("x"), b"ok".to_vec()).unwrap(),
            "ok"
        );
    }

    #[test]
    fn lines_count_from_one() {
        let src = "a\nb\nc";
        assert_eq!(line_of(src, 0), 1);
        assert_eq!(line_of(src, 2), 2);
        assert_eq!(line_of(src, 4), 3);
        assert_eq!(line_of(src, 99), 3);
    }

    #[test]
    fn formats_as_file_line_message() {
        let d = Diagnostic::new(
            Path::new("config/yuqing.toml"),
            Some(7),
            "unknown field `evry`",
        );
        assert_eq!(d.to_string(), "config/yuqing.toml:7: unknown field `evry`");
    }
}
