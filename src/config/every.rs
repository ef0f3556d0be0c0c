//! `every` of a `[[source]]` or a `[[search]]`: a span (`"5m"`), or `"auto"` with
//! `every_min` and `every_max` (issue 24 §5, `rules::cadence`).

use crate::rules::cadence::Auto;
use crate::vocab::diagnostic::{Diagnostics, SpanToDiagnostic};
use crate::vocab::duration::Span;
use serde::{Deserialize, Deserializer};
use toml::Spanned;

/// `every` as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RawEvery {
    Fixed(Span),
    Auto,
}

impl<'de> Deserialize<'de> for RawEvery {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        if s.trim() == "auto" {
            return Ok(RawEvery::Auto);
        }
        s.parse().map(RawEvery::Fixed).map_err(|e| {
            serde::de::Error::custom(format!(
                "{e}, or \"auto\" to poll more often while the source publishes often"
            ))
        })
    }
}

/// What the fields say: the interval used for back-off and for `stale_after` (the longest
/// an automatic source waits), and the automatic bounds if `every = "auto"`. Mistakes are
/// reported at their line through `at`; `what` names the source (`source \`x\``).
pub fn resolve(
    every: Option<&Spanned<RawEvery>>,
    min: Option<&Spanned<Span>>,
    max: Option<&Spanned<Span>>,
    default: Span,
    what: &str,
    errs: &mut Diagnostics,
    at: &SpanToDiagnostic,
) -> (Span, Option<Auto>) {
    match every.map(|e| (*e.get_ref(), e.span())) {
        Some((RawEvery::Auto, _)) => {
            let auto = Auto {
                min: min.map_or(Span::from_secs(Auto::DEFAULT_MIN_S), |m| *m.get_ref()),
                max: max.map_or(Span::from_secs(Auto::DEFAULT_MAX_S), |m| *m.get_ref()),
            };
            if let Some(m) = min.filter(|m| m.get_ref().as_secs() == 0) {
                errs.push(at(
                    m.span(),
                    format!("{what}: `every_min` must be longer than 0s"),
                ));
            }
            if auto.min > auto.max {
                let span = max.or(min).map_or(0..0, |m| m.span());
                errs.push(at(
                    span,
                    format!(
                        "{what}: every_min = \"{}\" is longer than every_max = \"{}\"",
                        auto.min, auto.max
                    ),
                ));
            }
            (auto.max, Some(auto))
        }
        fixed => {
            for (field, v) in [("every_min", min), ("every_max", max)] {
                if let Some(v) = v {
                    errs.push(at(
                        v.span(),
                        format!("{what}: `{field}` bounds every = \"auto\"; with a fixed `every` it has no use (remove it, or write every = \"auto\")"),
                    ));
                }
            }
            let every = match fixed {
                Some((RawEvery::Fixed(s), span)) => {
                    if s.as_secs() == 0 {
                        errs.push(at(span, format!("{what}: `every` must be longer than 0s")));
                    }
                    s
                }
                _ => default,
            };
            (every, None)
        }
    }
}
