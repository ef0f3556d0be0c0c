//! `[[channel]]`: the agency's own channels, read like a source (a feed or a list page),
//! with the publication duty their posts are checked against.

use super::source::{
    article, check_id, check_url, no_selectors, page_selectors, selectors, Source, SourceKind,
};
use crate::vocab::diagnostic::{Diagnostic, Diagnostics};
use crate::vocab::duration::Span;
use lettre::message::Mailbox;
use serde::Deserialize;
use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use toml::Spanned;

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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawChannel {
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

pub(super) fn check(
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
    // `feed = URL` is read as RSS/Atom/JSON Feed; `url = URL` as an HTML list page with
    // the same selectors as a page source.
    let written = selectors([&c.item, &c.title, &c.link, &c.date, &c.summary]);
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
            no_selectors(
                written,
                &|field| {
                    format!("channel `{id}`: `{field}` is a selector for an HTML list page (`url = …`); a `feed` needs none")
                },
                errs,
                path,
                source,
            );
            (check_url(f, errs, path, source), Some(SourceKind::Feed))
        }
        (None, Some(u)) => {
            let kind = page_selectors(
                written,
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
