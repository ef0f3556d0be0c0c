//! The surge rule (domain.md): an incident that spreads fast, many items from several
//! sources within a short window, is raised one severity level, once.

use crate::vocab::diagnostic::{Diagnostics, SpanToDiagnostic};
use crate::vocab::duration::Span;
use crate::vocab::severity::Severity;
use serde::Deserialize;
use toml::Spanned;

/// The surge rule: an incident that spreads fast is raised one level, once.
#[derive(Debug, Clone, Copy)]
pub struct Surge {
    /// At least this many items …
    pub items: i64,
    /// … from at least this many distinct sources …
    pub sources: i64,
    /// … within this window.
    pub within: Span,
    /// Count only items whose tone is negative (`negative_only = true`).
    pub negative_only: bool,
}

impl Default for Surge {
    fn default() -> Self {
        Surge {
            items: 10,
            sources: 3,
            within: Span::from_secs(3600),
            negative_only: false,
        }
    }
}

impl Surge {
    /// Whether the rule still counts an incident of `severity`: it fires once (`surged`
    /// says it did), and there is no level above 特别重大.
    pub fn applies(&self, severity: Severity, surged: bool) -> bool {
        !surged && severity < Severity::EspeciallyMajor
    }

    /// The start of the window that ends at `now` (UTC seconds).
    pub fn since(&self, now: i64) -> i64 {
        now - self.within.as_secs() as i64
    }

    /// Whether `items` from `sources` within the window are a surge; if they are, who
    /// raised the incident, for the record and the mail:
    /// `yuqing（12 条负面信息、3 个来源在 1h 内）`.
    pub fn raised_by(&self, items: i64, sources: i64) -> Option<String> {
        let reached = items >= self.items && sources >= self.sources;
        reached.then(|| {
            format!(
                "yuqing（{items} 条{}信息、{sources} 个来源在 {} 内）",
                if self.negative_only { "负面" } else { "" },
                self.within
            )
        })
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
/// The `[surge]` table as written.
pub struct RawSurge {
    enabled: Option<bool>,
    items: Option<Spanned<u32>>,
    sources: Option<Spanned<u32>>,
    within: Option<Span>,
    negative_only: Option<bool>,
}

impl RawSurge {
    /// The checked surge rule, `None` when `enabled = false`; `at` turns a span into a
    /// diagnostic with file and line.
    pub fn check(self, errs: &mut Diagnostics, at: &SpanToDiagnostic) -> Option<Surge> {
        match self.enabled {
            Some(false) => None,
            _ => {
                let d = Surge::default();
                for (key, n) in [("items", &self.items), ("sources", &self.sources)] {
                    if let Some(n) = n.as_ref().filter(|n| *n.get_ref() == 0) {
                        errs.push(at(
                            n.span(),
                            format!(
                                "[surge] {key} = 0 is no threshold: give at least 1 (default \
                                 items = 10, sources = 3), or `enabled = false` to turn surges off"
                            ),
                        ));
                    }
                }
                Some(Surge {
                    items: self
                        .items
                        .map_or(d.items, |n| i64::from(n.into_inner().max(2))),
                    sources: self
                        .sources
                        .map_or(d.sources, |n| i64::from(n.into_inner().max(1))),
                    within: self.within.unwrap_or(d.within),
                    negative_only: self.negative_only.unwrap_or(d.negative_only),
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn it_counts_until_it_fired_and_below_the_top_level() {
        let s = Surge::default();
        for (severity, surged, applies) in [
            (Severity::Ordinary, false, true),
            (Severity::Major, false, true),
            (Severity::Major, true, false),
            (Severity::EspeciallyMajor, false, false),
        ] {
            assert_eq!(
                s.applies(severity, surged),
                applies,
                "{severity:?} {surged}"
            );
        }
    }

    #[test]
    fn it_raises_at_enough_items_from_enough_sources() {
        let s = Surge::default();
        for (items, sources, raised) in
            [(10, 3, true), (9, 3, false), (10, 2, false), (40, 9, true)]
        {
            assert_eq!(
                s.raised_by(items, sources).is_some(),
                raised,
                "{items} {sources}"
            );
        }
        assert_eq!(
            s.raised_by(12, 3).as_deref(),
            Some("yuqing（12 条信息、3 个来源在 1h 内）")
        );
        let negative = Surge {
            negative_only: true,
            ..s
        };
        assert_eq!(
            negative.raised_by(12, 3).as_deref(),
            Some("yuqing（12 条负面信息、3 个来源在 1h 内）")
        );
    }
}
