//! Watchlists: the operator's topic files, parsed once into values the classifier can
//! trust.
//!
//! Operators edit these files by hand at odd hours; a typo must not turn into a silent
//! miss. So loading is strict and explains itself: unknown keys, invalid regexes,
//! duplicate topic ids, terms that fold to nothing, a term both required (`all`) and
//! excluded (`none`), and rules with nothing positive to match on are all rejected with
//! the file and line to fix. Loading is a pure function of the files' contents (plus
//! reading the folder), so the daemon can reload and keep the old lists on error.
//!
//! The format is design.md's: `[[topic]]` with `id`, `name`, `severity`, `sources` and
//! either top-level clauses (`any`, `all`, `none`, `regex`, `near`) or several
//! `[[topic.rule]]` tables, each with its own clauses and `severity`; plus
//! `[[topic.example]]` texts that `yuqing check` classifies.

use crate::classify::normalize::normalize_term;
use crate::vocab::diagnostic::{line_of, read_folder, Diagnostic, Diagnostics};
use crate::vocab::severity::Severity;
use serde::Deserialize;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use toml::Spanned;

/// Every topic of every watchlist file in a folder, in file order then topic order.
#[derive(Debug, Clone, Default)]
pub struct Watchlists {
    pub topics: Vec<Topic>,
    pub files: Vec<PathBuf>,
    /// The tone lexicon: `<dir>/tone/*.toml` over NTUSD, or the built-in one.
    pub tone: crate::classify::tone::ToneLexicon,
}

/// One topic: what the duty officer is told about when it matches.
#[derive(Debug, Clone, PartialEq)]
pub struct Topic {
    pub id: String,
    pub name: String,
    /// One or more rules; the topic matches when one does, at the highest severity.
    pub rules: Vec<Rule>,
    /// Only items from these source ids are classified against the topic.
    pub sources: Option<Vec<String>>,
    /// Line of the `sources` key, for a message about an id the config lacks.
    pub sources_line: Option<usize>,
    pub examples: Vec<Example>,
    /// A duty counted in working days that every incident of the topic owes (e.g. a reply
    /// to a 市长信箱 message within 5 working days): `obligation = "netizen_message_reply"`.
    pub obligation: Option<crate::rules::calendar::Obligation>,
    /// `tone = "negative"`: only items of this tone match (门票 alone is no topic,
    /// negative talk of 门票 is).
    pub tone: Option<crate::classify::tone::ToneLabel>,
    pub file: PathBuf,
    /// Line of the topic's `id`.
    pub line: usize,
}

/// One way for a topic to match. Terms are kept as the operator wrote them; the
/// classifier folds them with [`normalize_term`].
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub severity: Severity,
    /// At least one must appear (or the list is empty).
    pub any: Vec<String>,
    /// Every one must appear.
    pub all: Vec<String>,
    /// None may appear.
    pub none: Vec<String>,
    /// At least one must match the folded text (or the list is empty).
    pub regex: Vec<String>,
    /// All its terms close together (or absent).
    pub near: Option<Near>,
    /// Line of `[[topic.rule]]`, or of the topic for its implicit rule.
    pub line: usize,
}

/// `near = { terms = [...], within = N }`: every term appears, with at most N folded
/// characters between the end of the first and the start of the last.
#[derive(Debug, Clone, PartialEq)]
pub struct Near {
    pub terms: Vec<String>,
    pub within: usize,
}

/// `[[topic.example]]`: a text the operator states the topic must (or must not) match.
#[derive(Debug, Clone, PartialEq)]
pub struct Example {
    pub text: String,
    pub expect: bool,
    /// Source id to classify the example as coming from.
    pub source: Option<String>,
    pub line: usize,
}

/// Compiles a watchlist regex the way the classifier runs it: on folded text, so
/// Traditional characters in the pattern are folded too and letters match either case.
pub fn build_regex(pattern: &str) -> Result<regex::Regex, regex::Error> {
    regex::RegexBuilder::new(&crate::classify::normalize::fold_pattern(pattern))
        .case_insensitive(true)
        .build()
}

/// The pattern as [`build_regex`] and the classifier's regex set compile it.
pub fn regex_source(pattern: &str) -> String {
    format!("(?i:{})", crate::classify::normalize::fold_pattern(pattern))
}

/// Loads every `*.toml` in `dir`, in name order. All mistakes in all files are reported
/// together.
pub fn load_dir(dir: &Path) -> Result<Watchlists, Diagnostics> {
    let mut topics = Vec::new();
    let (files, mut diags) = read_folder(dir, "toml", "watchlist folder", |file, source| {
        topics.extend(parse_file(file, &source)?);
        Ok(())
    })?;
    // Duplicates within one file are caught by parse_file; these are across files.
    let mut seen: HashMap<&str, &Topic> = HashMap::new();
    for t in &topics {
        if let Some(first) = seen.get(t.id.as_str()) {
            if first.file != t.file {
                diags.push(duplicate(t, first));
            }
        } else {
            seen.insert(&t.id, t);
        }
    }
    let tone = match crate::classify::tone::ToneLexicon::for_watchlists(dir) {
        Ok(t) => t,
        Err(d) => {
            diags.extend(d);
            Default::default()
        }
    };
    diags.into_result(Watchlists {
        topics,
        files,
        tone,
    })
}

#[cfg(test)]
impl Watchlists {
    /// The watchlists of one file, `path` holding `src`, with the built-in tone lexicon; a
    /// mistake in it panics, naming its line (for tests).
    pub fn of_file(path: &str, src: &str) -> Watchlists {
        let topics = parse_file(Path::new(path), src).unwrap_or_else(|d| panic!("{d}"));
        Watchlists {
            topics,
            files: vec![PathBuf::from(path)],
            ..Default::default()
        }
    }
}

fn duplicate(t: &Topic, first: &Topic) -> Diagnostic {
    Diagnostic::new(
        &t.file,
        Some(t.line),
        format!(
            "duplicate topic id `{}` (first defined at {}:{})",
            t.id,
            first.file.display(),
            first.line
        ),
    )
}

/// Parses one watchlist file; `path` is only used to name it in diagnostics.
pub fn parse_file(path: &Path, source: &str) -> Result<Vec<Topic>, Diagnostics> {
    // Every mistake of the file: a topic with a TOML mistake is reported and left out,
    // and the others are still checked.
    let (raw, diags) = crate::vocab::diagnostic::read_toml::<RawFile>(path, source);
    let Some(raw) = raw else {
        return Err(diags);
    };
    let mut cx = Cx {
        path,
        source,
        diags,
    };
    let mut topics: Vec<Topic> = Vec::new();
    for raw_topic in raw.topic {
        if let Some(topic) = cx.topic(raw_topic.into_inner()) {
            if let Some(first) = topics.iter().find(|t| t.id == topic.id) {
                cx.diags.push(duplicate(&topic, first));
            }
            topics.push(topic);
        }
    }
    cx.diags.into_result(topics)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    topic: Vec<Spanned<RawTopic>>,
}

type Terms = Option<Vec<Spanned<String>>>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTopic {
    id: Spanned<String>,
    name: Option<String>,
    severity: Option<Spanned<String>>,
    sources: Option<Spanned<Vec<String>>>,
    any: Terms,
    all: Terms,
    none: Terms,
    regex: Terms,
    near: Option<Spanned<RawNear>>,
    #[serde(default)]
    rule: Vec<Spanned<RawRule>>,
    #[serde(default)]
    example: Vec<Spanned<RawExample>>,
    obligation: Option<Spanned<String>>,
    tone: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    severity: Option<Spanned<String>>,
    any: Terms,
    all: Terms,
    none: Terms,
    regex: Terms,
    near: Option<Spanned<RawNear>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNear {
    terms: Vec<Spanned<String>>,
    within: usize,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExample {
    text: String,
    expect: bool,
    source: Option<String>,
}

/// The file being checked, and what is wrong with it so far.
struct Cx<'a> {
    path: &'a Path,
    source: &'a str,
    diags: Diagnostics,
}

impl Cx<'_> {
    fn line<T>(&self, s: &Spanned<T>) -> usize {
        line_of(self.source, s.span().start)
    }

    fn error<T>(&mut self, at: &Spanned<T>, message: impl Into<String>) {
        let d = Diagnostic::at(self.path, self.source, at.span().start, message);
        self.diags.push(d);
    }

    fn topic(&mut self, raw: RawTopic) -> Option<Topic> {
        let line = self.line(&raw.id);
        let id = raw.id.get_ref().trim().to_string();
        if id.is_empty() {
            self.error(&raw.id, "topic `id` is empty");
        }
        let severity = match &raw.severity {
            Some(s) => self.severity(s)?,
            None => Severity::Ordinary,
        };
        let has_top_clauses = raw.any.is_some()
            || raw.all.is_some()
            || raw.none.is_some()
            || raw.regex.is_some()
            || raw.near.is_some();
        let mut rules = Vec::new();
        if raw.rule.is_empty() {
            let implicit = RawRule {
                severity: None,
                any: raw.any,
                all: raw.all,
                none: raw.none,
                regex: raw.regex,
                near: raw.near,
            };
            rules.extend(self.rule(&id, implicit, severity, line));
        } else {
            if has_top_clauses {
                self.diags.push(Diagnostic::new(
                    self.path,
                    Some(line),
                    format!(
                        "topic `{id}` has both top-level clauses and [[topic.rule]] tables: \
                         move the clauses into a rule"
                    ),
                ));
            }
            for r in raw.rule {
                let rule_line = self.line(&r);
                rules.extend(self.rule(&id, r.into_inner(), severity, rule_line));
            }
        }
        let examples = raw
            .example
            .into_iter()
            .map(|e| {
                let line = self.line(&e);
                let e = e.into_inner();
                Example {
                    text: e.text,
                    expect: e.expect,
                    source: e.source,
                    line,
                }
            })
            .collect();
        let obligation = match &raw.obligation {
            None => None,
            Some(o) => match o.get_ref().parse::<crate::rules::calendar::Obligation>() {
                Ok(v) => Some(v),
                Err(e) => {
                    self.error(o, e);
                    None
                }
            },
        };
        let tone = match &raw.tone {
            None => None,
            Some(t) => match t.get_ref().parse::<crate::classify::tone::ToneLabel>() {
                Ok(v) => Some(v),
                Err(e) => {
                    self.error(t, e);
                    None
                }
            },
        };
        Some(Topic {
            obligation,
            tone,
            name: raw
                .name
                .filter(|n| !n.trim().is_empty())
                .unwrap_or_else(|| id.clone()),
            id,
            rules,
            sources_line: raw.sources.as_ref().map(|s| self.line(s)),
            sources: raw.sources.map(Spanned::into_inner),
            examples,
            file: self.path.to_path_buf(),
            line,
        })
    }

    fn severity(&mut self, s: &Spanned<String>) -> Option<Severity> {
        match s.get_ref().parse::<Severity>() {
            Ok(v) => Some(v),
            Err(e) => {
                self.error(s, e.to_string());
                None
            }
        }
    }

    fn rule(&mut self, id: &str, raw: RawRule, default: Severity, line: usize) -> Option<Rule> {
        let severity = match &raw.severity {
            Some(s) => self.severity(s)?,
            None => default,
        };
        let any = self.terms(raw.any.unwrap_or_default(), "any");
        let all = self.terms(raw.all.unwrap_or_default(), "all");
        let none_raw = raw.none.unwrap_or_default();
        for t in &none_raw {
            let folded = normalize_term(t.get_ref());
            if !folded.is_empty() && all.iter().any(|a| normalize_term(a) == folded) {
                self.error(
                    t,
                    format!(
                        "term `{}` is in both `all` and `none`: the rule can never match",
                        t.get_ref()
                    ),
                );
            }
        }
        let none = self.terms(none_raw, "none");
        let mut regex = Vec::new();
        for r in raw.regex.unwrap_or_default() {
            if let Err(e) = build_regex(r.get_ref()) {
                let message = regex_error(&e);
                self.error(&r, format!("invalid regex `{}`: {message}", r.get_ref()));
            }
            regex.push(r.into_inner());
        }
        let near = raw.near.map(|n| {
            if n.get_ref().terms.len() < 2 {
                self.error(&n, "`near` needs at least two terms");
            }
            let within = n.get_ref().within;
            let terms = self.terms(n.into_inner().terms, "near");
            Near { terms, within }
        });
        if any.is_empty() && all.is_empty() && regex.is_empty() && near.is_none() {
            self.diags.push(Diagnostic::new(
                self.path,
                Some(line),
                format!(
                    "topic `{id}` has a rule with no positive clause: \
                     give it `any`, `all`, `regex` or `near`"
                ),
            ));
        }
        Some(Rule {
            severity,
            any,
            all,
            none,
            regex,
            near,
            line,
        })
    }

    /// Checks that every term folds to something; returns them as written.
    fn terms(&mut self, raw: Vec<Spanned<String>>, clause: &str) -> Vec<String> {
        let mut out = Vec::with_capacity(raw.len());
        for t in raw {
            if normalize_term(t.get_ref()).is_empty() {
                self.error(
                    &t,
                    format!(
                        "term `{}` in `{clause}` is empty once folded (only spaces, \
                         invisible characters or pinyin): it would match everywhere",
                        t.get_ref().escape_debug()
                    ),
                );
            }
            out.push(t.into_inner());
        }
        out
    }
}

/// The regex crate's message without its multi-line caret drawing.
fn regex_error(e: &regex::Error) -> String {
    let text = e.to_string();
    text.lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .map(|l| l.trim().trim_start_matches("error: ").to_string())
        .unwrap_or(text)
}

#[cfg(test)]
mod tests;
