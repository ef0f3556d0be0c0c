//! `[[source]]`: the web sources polled for opinion, each a feed or an HTML list page read
//! with CSS selectors; and what sources and channels share (ids unique across both, URLs).

use super::every;
use crate::vocab::diagnostic::{Diagnostic, Diagnostics};
use crate::vocab::duration::Span;
use serde::Deserialize;
use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use toml::Spanned;

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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSource {
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

/// The selectors of an HTML list page as written, by name, in this order: `item`, `title`,
/// `link` (required), `date`, `summary` (optional).
pub(super) type RawSelectors<'a> = [(&'static str, &'a Option<Spanned<String>>); 5];

/// `[item, title, link, date, summary]` as written, each with its name.
pub(super) fn selectors(written: [&Option<Spanned<String>>; 5]) -> RawSelectors<'_> {
    let [item, title, link, date, summary] = written;
    [
        ("item", item),
        ("title", title),
        ("link", link),
        ("date", date),
        ("summary", summary),
    ]
}

pub(super) fn check_id(
    id: &Spanned<String>,
    ids: &mut HashSet<String>,
    errs: &mut Diagnostics,
    path: &Path,
    source: &str,
) -> bool {
    let value = id.get_ref();
    let problem = if !is_id(value) {
        format!("id `{value}` must be non-empty ASCII letters, digits, `-`, `_` or `.`")
    } else if !ids.insert(value.clone()) {
        format!("duplicate id `{value}`: every source and channel needs its own id")
    } else {
        return true;
    };
    errs.push(Diagnostic::at(path, source, id.span().start, problem));
    false
}

/// Whether `id` may name a source, channel or notifier: non-empty ASCII letters, digits,
/// `-`, `_` or `.`, for it goes into commands, URLs and file names.
pub(crate) fn is_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// The longest source URL accepted. Web servers refuse request lines much over 8 KiB
/// (nginx, Apache) and the HTTP client cannot send a URL of 64 KiB or more: a longer one
/// passed `check` and then failed every poll (issue 16).
pub const MAX_URL_BYTES: usize = 8 * 1024;

pub(super) fn check_url(
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

pub(super) fn check(
    s: RawSource,
    ids: &mut HashSet<String>,
    errs: &mut Diagnostics,
    path: &Path,
    source: &str,
) -> Option<Source> {
    let id_ok = check_id(&s.id, ids, errs, path, source);
    let url = check_url(&s.url, errs, path, source);
    let id = s.id.get_ref().clone();
    let written = selectors([&s.item, &s.title, &s.link, &s.date, &s.summary]);
    let kind = match s.kind.get_ref().as_str() {
        "feed" => {
            no_selectors(
                written,
                &|field| {
                    format!("source `{id}`: `{field}` is a selector for kind = \"page\"; a feed needs none")
                },
                errs,
                path,
                source,
            );
            Some(SourceKind::Feed)
        }
        "page" => page_selectors(
            written,
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
        &Diagnostic::spans_in(path, source),
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

/// Each selector written for a feed, which reads none, told at its line: `why(field)`.
pub(super) fn no_selectors(
    selectors: RawSelectors,
    why: &dyn Fn(&str) -> String,
    errs: &mut Diagnostics,
    path: &Path,
    source: &str,
) {
    for (field, value) in selectors {
        if let Some(v) = value {
            errs.push(Diagnostic::at(path, source, v.span().start, why(field)));
        }
    }
}

/// The selectors of an HTML list page (`item`, `title`, `link` required; `date`,
/// `summary` optional), each checked; a missing one is reported at `at` with `missing`.
pub(super) fn page_selectors(
    [item, title, link, date, summary]: RawSelectors,
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
    let [item, title, link] = [item, title, link].map(|(field, v)| required(field, v));
    let mut optional = |field: &str, v: &Option<Spanned<String>>| {
        v.as_ref()
            .and_then(|v| check_selector(v, field, id, errs, path, source))
    };
    let [date, summary] = [date, summary].map(|(field, v)| optional(field, v));
    Some(PageSelectors {
        item: item?,
        title: title?,
        link: link?,
        date,
        summary,
    })
}

/// Checks that a CSS selector (with an optional `@attribute` suffix) parses.
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

/// "a" or "an" before a selector's name, for messages.
pub(super) fn article(word: &str) -> &'static str {
    if word.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    }
}
