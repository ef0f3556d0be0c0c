//! `[[search]]`: keyword searches where 舆情 breaks before any feed carries it (Weibo, 贴吧,
//! news search). Each term of a search becomes a source of its own, `SEARCH-ID/TERM`
//! (`weibo/某某景区`), read like a feed: its own health, `every`, and its host's politeness.
//!
//! ```toml
//! [[search]]
//! id = "weibo"
//! provider = "rsshub-weibo"            # or url = "http://bridge/search/{q}"
//! base = "http://rsshub.internal"       # the self-hosted RSSHub of the rsshub-* presets
//! terms = ["某某景区", "某市文旅局"]
//! every = "5m"
//! ```

use super::{Source, SourceKind};
use crate::vocab::diagnostic::{Diagnostics, SpanToDiagnostic};
use crate::vocab::duration::Span;
use serde::Deserialize;
use std::collections::{BTreeMap, HashSet};
use toml::Spanned;

/// The providers `provider =` names, and the URL each makes (`{base}` the RSSHub,
/// `{q}` the term, UTF-8 percent-encoded). RSSHub's routes `/weibo/keyword/:keyword` and
/// `/baidu/tieba/search/:qw`; Bing's news search answers RSS with `format=rss`.
pub const PROVIDERS: [(&str, &str); 3] = [
    ("rsshub-weibo", "{base}/weibo/keyword/{q}"),
    ("rsshub-tieba", "{base}/baidu/tieba/search/{q}"),
    (
        "bing-news",
        "https://www.bing.com/news/search?q={q}&format=rss",
    ),
];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSearch {
    id: Spanned<String>,
    provider: Option<Spanned<String>>,
    base: Option<Spanned<String>>,
    url: Option<Spanned<String>>,
    terms: Spanned<Vec<String>>,
    every: Option<Spanned<super::every::RawEvery>>,
    every_min: Option<Spanned<Span>>,
    every_max: Option<Spanned<Span>>,
    timeout: Option<Span>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    stale_after: Option<Span>,
    max_lag: Option<Span>,
}

/// One configured search, as `check` describes it.
#[derive(Debug, Clone)]
pub struct Search {
    pub id: String,
    /// The template with `{q}` (and `{base}` filled in).
    pub template: String,
    pub terms: Vec<String>,
    pub every: Span,
    /// `every = "auto"`: each term polled between these bounds.
    pub auto: Option<crate::rules::cadence::Auto>,
}

impl Search {
    /// Requests per hour that its terms cost together: the fewest and the most (the same
    /// for a fixed `every`).
    pub fn requests_per_hour(&self) -> (f64, f64) {
        let n = self.terms.len() as f64;
        let (least, most) = match self.auto {
            Some(a) => a.requests_per_hour(),
            None => {
                let r = 3600.0 / self.every.as_secs().max(1) as f64;
                (r, r)
            }
        };
        (n * least, n * most)
    }
}

/// The sources of every `[[search]]`, one per term; ids must not collide with `ids` (the
/// sources' and channels'). Mistakes are reported at their line.
pub fn expand(
    raw: Vec<RawSearch>,
    ids: &mut HashSet<String>,
    errs: &mut Diagnostics,
    at: &SpanToDiagnostic,
) -> (Vec<Search>, Vec<Source>) {
    let mut searches = Vec::new();
    let mut sources = Vec::new();
    for s in raw {
        let id = s.id.get_ref().trim().to_string();
        if id.is_empty() || id.contains('/') {
            errs.push(at(
                s.id.span(),
                format!("[[search]] id `{id}` must be non-empty and without `/` (its sources are named ID/TERM)"),
            ));
            continue;
        }
        let template = match (&s.provider, &s.url) {
            (Some(p), None) => {
                let Some((_, t)) = PROVIDERS.iter().find(|(name, _)| name == p.get_ref()) else {
                    let known: Vec<&str> = PROVIDERS.iter().map(|(n, _)| *n).collect();
                    errs.push(at(
                        p.span(),
                        format!(
                            "[[search]] {id}: unknown provider `{}`; known: {} (or write `url = \"…{{q}}…\"`)",
                            p.get_ref(),
                            known.join(", ")
                        ),
                    ));
                    continue;
                };
                if t.contains("{base}") {
                    let Some(base) = &s.base else {
                        errs.push(at(
                            p.span(),
                            format!(
                                "[[search]] {id}: provider `{}` needs `base`, the address of your RSSHub (e.g. base = \"http://rsshub.internal\")",
                                p.get_ref()
                            ),
                        ));
                        continue;
                    };
                    t.replace("{base}", base.get_ref().trim_end_matches('/'))
                } else {
                    t.to_string()
                }
            }
            (None, Some(u)) => u.get_ref().clone(),
            (Some(p), Some(_)) => {
                errs.push(at(
                    p.span(),
                    format!("[[search]] {id}: give `provider` or `url`, not both"),
                ));
                continue;
            }
            (None, None) => {
                errs.push(at(
                    s.id.span(),
                    format!("[[search]] {id}: give `provider` (a preset) or `url` (a template with {{q}})"),
                ));
                continue;
            }
        };
        let span = s.url.as_ref().map_or(s.id.span(), |u| u.span());
        if !template.contains("{q}") {
            errs.push(at(
                span,
                format!("[[search]] {id}: the URL `{template}` has no {{q}} where the term goes"),
            ));
            continue;
        }
        match url::Url::parse(&template.replace("{q}", "q")) {
            Ok(u) if matches!(u.scheme(), "http" | "https") => {}
            _ => {
                errs.push(at(
                    span,
                    format!("[[search]] {id}: `{template}` is not an http(s) URL"),
                ));
                continue;
            }
        }
        let terms: Vec<String> = s
            .terms
            .get_ref()
            .iter()
            .map(|t| t.trim().to_string())
            .collect();
        if terms.is_empty() || terms.iter().any(String::is_empty) {
            errs.push(at(
                s.terms.span(),
                format!("[[search]] {id}: `terms` must list at least one term, none of them empty"),
            ));
            continue;
        }
        let (every, auto) = super::every::resolve(
            s.every.as_ref(),
            s.every_min.as_ref(),
            s.every_max.as_ref(),
            Span::from_secs(5 * 60),
            &format!("[[search]] {id}"),
            errs,
            at,
        );
        for term in &terms {
            let source_id = format!("{id}/{term}");
            if !ids.insert(source_id.clone()) {
                errs.push(at(
                    s.terms.span(),
                    format!("[[search]] {id}: `{source_id}` is named twice (a repeated term, or a source of that id)"),
                ));
                continue;
            }
            let q = percent_encoding::utf8_percent_encode(term, percent_encoding::NON_ALPHANUMERIC)
                .to_string();
            let Ok(url) = url::Url::parse(&template.replace("{q}", &q)) else {
                continue;
            };
            sources.push(Source {
                id: source_id,
                name: format!("{id} 搜索「{term}」"),
                url,
                every,
                auto,
                timeout: s.timeout.unwrap_or(Span::from_secs(30)),
                headers: s.headers.clone(),
                kind: SourceKind::Feed,
                body: None,
                stale_after: s.stale_after,
                max_lag: s.max_lag,
            });
        }
        searches.push(Search {
            id,
            template,
            terms,
            every,
            auto,
        });
    }
    (searches, sources)
}
