//! `yuqing classify --explain` and the watchlist examples: why a topic did or did not
//! match, in words a duty officer or an operator can check against the text.
//!
//! A false alarm at 3 a.m. is only fixed if the operator can see which rule fired on which
//! words; a miss only if they can see which exclusion or missing term stopped it. The
//! explanation is built from the same evaluation as [`Classifier::classify`], so it never
//! disagrees with it.

use super::eval::{Depth, Found, Trace};
use super::{Classification, Classifier};
use crate::classify::normalize::{normalize, Normalized};
use crate::classify::watchlist::Watchlists;
use crate::vocab::diagnostic::{Diagnostic, Diagnostics};
use crate::vocab::severity::Severity;
use std::fmt;
use std::path::PathBuf;

/// Why each topic that any term touched did or did not match.
#[derive(Debug, Clone, PartialEq)]
pub struct Explanation {
    /// The same result as `classify` gives.
    pub classification: Classification,
    /// Topics with at least one hit, in watchlist order.
    pub topics: Vec<TopicExplanation>,
    /// How many topics had none of their terms or regexes in the text.
    pub untouched: usize,
    /// The tone and the words that made it.
    pub tone: super::tone::ToneExplanation,
    /// For an item explained in its parts (`explain_parts`): where each word and each
    /// matched topic was.
    pub parts: Option<super::parts::PartsFound>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicExplanation {
    pub id: String,
    pub name: String,
    pub file: PathBuf,
    /// `Some` when the topic matched, at this severity.
    pub matched: Option<Severity>,
    /// `Some(source)` when the topic was skipped because it does not watch that source.
    pub skipped_source: Option<String>,
    /// `Some(tone)` when the topic needs items of that tone and the text is another.
    pub tone_unmet: Option<super::tone::ToneLabel>,
    /// The rules that a hit made candidates; the others had nothing in the text.
    pub rules: Vec<RuleExplanation>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleExplanation {
    /// 1-based position among the topic's rules.
    pub number: usize,
    pub line: usize,
    pub severity: Severity,
    pub verdict: Verdict,
    /// Words the positive clauses found.
    pub found: Vec<Word>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Matched,
    /// Every positive clause held, but these `none` terms are in the text.
    Excluded(Vec<Word>),
    /// These positive clauses do not hold, in English (for `file:line` diagnostics) and
    /// in Chinese (for people reading `--explain`), and the `none` terms present, if any.
    Unmet(Vec<(String, String)>, Vec<Word>),
}

/// A word of the text a clause looked at, with the original characters it covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    pub clause: &'static str,
    pub term: String,
    pub start: usize,
    pub end: usize,
    /// The original text at `start..end`.
    pub quote: String,
}

impl Explanation {
    /// For a false positive (误报) of topic `topic`: which words of `text` made it match,
    /// where, and the `none` term that would have stopped it, in Chinese, for the duty
    /// officer to hand to the operators. The term offered is the phrase around the
    /// matched word, between punctuation (`美术馆新展"起火的颜色"开幕` gives `起火的颜色`).
    pub fn dismissal_hint(&self, text: &str, topic: &str) -> Vec<String> {
        let Some(t) = self.topics.iter().find(|t| t.id == topic) else {
            return Vec::new();
        };
        let Some(rule) = t.rules.iter().find(|r| r.verdict == Verdict::Matched) else {
            return Vec::new();
        };
        let words: Vec<String> = rule
            .found
            .iter()
            .map(|w| format!("“{}”", w.quote))
            .collect();
        let phrases: Vec<String> = rule
            .found
            .iter()
            .filter_map(|w| {
                let at = text.find(&w.quote)?;
                Some(phrase_around(text, at, at + w.quote.len()))
            })
            .filter(|p| !p.is_empty())
            .fold(Vec::new(), |mut v, p| {
                if !v.contains(&p) {
                    v.push(p);
                }
                v
            });
        let mut out = vec![format!(
            "命中原因：专题“{}”（{}:{} 第 {} 条规则）命中了 {}",
            t.name,
            t.file.display(),
            rule.line,
            rule.number,
            words.join("、")
        )];
        if !phrases.is_empty() {
            let quoted: Vec<String> = phrases.iter().map(|p| format!("\"{p}\"")).collect();
            out.push(format!(
                "如需今后不再因同类内容立案，请运维在该规则的 none 中加入排除词，例如：none = [{}]",
                quoted.join(", ")
            ));
            out.push("加入后用 yuqing classify --explain 检查该标题，再运行 yuqing check".into());
        }
        out
    }
}

/// The phrase of `text` around bytes `start..end`: out to the nearest punctuation or space
/// on either side, at most 12 characters each way.
fn phrase_around(text: &str, start: usize, end: usize) -> String {
    let stop = |c: char| {
        c.is_whitespace()
            || (c.is_ascii_punctuation())
            || "，。、；：？！“”‘’《》（）【】「」…—·".contains(c)
    };
    if start > end
        || end > text.len()
        || !text.is_char_boundary(start)
        || !text.is_char_boundary(end)
    {
        return String::new();
    }
    let before: String = {
        let mut v: Vec<char> = text[..start]
            .chars()
            .rev()
            .take_while(|c| !stop(*c))
            .take(12)
            .collect();
        v.reverse();
        v.into_iter().collect()
    };
    let after: String = text[end..]
        .chars()
        .take_while(|c| !stop(*c))
        .take(12)
        .collect();
    format!("{before}{}{after}", &text[start..end])
}

impl Classifier {
    /// Classifies `text` and says why, rule by rule.
    pub fn explain(&self, text: &str, source: Option<&str>) -> Explanation {
        let norm = normalize(text);
        let mut hits = self.hits(&norm);
        let candidates = self.candidates(&mut hits);
        let untouched = self.topics.len() - candidates.len();
        let chars: Vec<char> = text.chars().collect();
        let tone = self.explain_tone(text);
        let mut topics = Vec::new();
        for (ti, rules) in candidates {
            let t = &self.topics[ti];
            let mut te = TopicExplanation {
                id: t.id.clone(),
                name: t.name.clone(),
                file: t.file.clone(),
                matched: None,
                skipped_source: None,
                tone_unmet: None,
                rules: Vec::new(),
            };
            if !self.applies(ti, source) {
                te.skipped_source = source.map(str::to_string);
                topics.push(te);
                continue;
            }
            for ri in rules {
                let rule = &self.rules[ri];
                let trace = self.eval(ri, &hits, &norm, Depth::Full);
                let verdict = verdict(&trace, &norm, &chars);
                if verdict == Verdict::Matched {
                    te.matched = te.matched.max(Some(rule.severity));
                }
                te.rules.push(RuleExplanation {
                    number: ri - t.rules.start + 1,
                    line: rule.line,
                    severity: rule.severity,
                    verdict,
                    found: words(&trace.found, &norm, &chars),
                });
            }
            if te.matched.is_some() && !self.tone_fits(ti, tone.tone.label) {
                te.matched = None;
                te.tone_unmet = t.tone;
            }
            topics.push(te);
        }
        Explanation {
            classification: self.classify(text, source),
            topics,
            untouched,
            tone,
            parts: None,
        }
    }

    /// Topics that overlap: every `[[topic.example]]` that should match its topic and also
    /// matches others (of the example's `source`, else those not restricted to sources), as `(file, line, topic, the other topics' ids)`. One such item opens
    /// an incident under each topic, with a statutory clock each, unless `[grouping]
    /// same_item = "merge"`.
    pub fn overlapping_examples(
        &self,
        w: &Watchlists,
    ) -> Vec<(std::path::PathBuf, usize, String, Vec<String>)> {
        let mut out = Vec::new();
        for topic in &w.topics {
            for ex in topic.examples.iter().filter(|e| e.expect) {
                let got = self.classify(&ex.text, ex.source.as_deref());
                if !got.topics.iter().any(|m| m.id == topic.id) {
                    continue;
                }
                // An example without `source` stands for an item of any general source: a
                // topic restricted to some sources (the 12345 board's) is not counted then.
                let got = match &ex.source {
                    Some(_) => got,
                    None => self.classify(&ex.text, Some("")),
                };
                let others: Vec<String> = got
                    .topics
                    .iter()
                    .filter(|m| m.id != topic.id)
                    .map(|m| m.id.clone())
                    .collect();
                if !others.is_empty() {
                    out.push((topic.file.clone(), ex.line, topic.id.clone(), others));
                }
            }
        }
        out
    }

    /// Classifies every `[[topic.example]]` of `w` and reports those that do not come
    /// out as the operator expects, at the example's line.
    pub fn run_examples(&self, w: &Watchlists) -> Diagnostics {
        let mut diags = Diagnostics::default();
        for topic in &w.topics {
            for ex in &topic.examples {
                let got = self.explain(&ex.text, ex.source.as_deref());
                let matched = got.classification.topics.iter().any(|m| m.id == topic.id);
                if matched == ex.expect {
                    continue;
                }
                let why = got
                    .topics
                    .iter()
                    .find(|t| t.id == topic.id)
                    .map(TopicExplanation::summary)
                    .unwrap_or_else(|| "none of its terms or regexes is in the text".into());
                let message = if ex.expect {
                    format!(
                        "example should match topic `{}` but does not: {why}",
                        topic.id
                    )
                } else {
                    format!(
                        "example should not match topic `{}` but does: {why}",
                        topic.id
                    )
                };
                diags.push(Diagnostic::new(&topic.file, Some(ex.line), message));
            }
        }
        diags
    }
}

fn verdict(trace: &Trace<'_>, norm: &Normalized, chars: &[char]) -> Verdict {
    let excluded = words(&trace.excluded_by, norm, chars);
    if !trace.unmet.is_empty() {
        Verdict::Unmet(
            trace
                .unmet
                .iter()
                .map(|u| (u.to_string(), u.zh()))
                .collect(),
            excluded,
        )
    } else if !excluded.is_empty() {
        Verdict::Excluded(excluded)
    } else {
        Verdict::Matched
    }
}

fn words(found: &[Found<'_>], norm: &Normalized, chars: &[char]) -> Vec<Word> {
    found
        .iter()
        .map(|f| {
            let e = f.evidence(norm);
            Word {
                clause: f.clause.as_str(),
                term: e.term,
                start: e.start,
                end: e.end,
                quote: chars
                    .get(e.start..e.end.min(chars.len()))
                    .unwrap_or_default()
                    .iter()
                    .collect(),
            }
        })
        .collect()
}

impl TopicExplanation {
    /// One line: what each rule lacked, or which rule matched on what.
    pub fn summary(&self) -> String {
        if let Some(s) = &self.skipped_source {
            return format!("the topic does not watch source `{s}`");
        }
        if let Some(t) = self.tone_unmet {
            return format!("its rules match, but the topic needs tone `{t}`");
        }
        let parts: Vec<String> = self
            .rules
            .iter()
            .map(|r| format!("rule {} (line {}) {}", r.number, r.line, r.verdict))
            .collect();
        parts.join("; ")
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Verdict::Matched => f.write_str("matched"),
            Verdict::Excluded(by) => write!(f, "excluded by {}", join(by)),
            Verdict::Unmet(why, by) => {
                let why: Vec<&str> = why.iter().map(|(en, _)| en.as_str()).collect();
                write!(f, "not matched: {}", why.join("; "))?;
                if !by.is_empty() {
                    write!(f, "; also excluded by {}", join(by))?;
                }
                Ok(())
            }
        }
    }
}

impl TopicExplanation {
    /// [`TopicExplanation::summary`] in Chinese, for people (the console's watchlist test).
    pub fn summary_zh(&self) -> String {
        if let Some(s) = &self.skipped_source {
            return format!("该专题不监测来源 `{s}`");
        }
        if let Some(t) = self.tone_unmet {
            return format!("规则都符合，但该专题只收语气为 `{t}` 的信息");
        }
        self.rules
            .iter()
            .map(|r| format!("规则 {}（第 {} 行）{}", r.number, r.line, r.verdict.zh()))
            .collect::<Vec<_>>()
            .join("；")
    }
}

impl Verdict {
    /// The verdict in Chinese, as `classify --explain` prints it.
    pub fn zh(&self) -> String {
        match self {
            Verdict::Matched => "命中".to_string(),
            Verdict::Excluded(by) => format!("被排除：{}", join_zh(by)),
            Verdict::Unmet(why, by) => {
                let why: Vec<&str> = why.iter().map(|(_, zh)| zh.as_str()).collect();
                let mut s = format!("未命中：{}", why.join("；"));
                if !by.is_empty() {
                    s.push_str(&format!("；另被排除：{}", join_zh(by)));
                }
                s
            }
        }
    }
}

impl Word {
    /// `none "演练" 第 9–10 字「演练」`: characters counted from 1, both ends included, as a
    /// person counts them (`start..end` is 0-based and half-open).
    pub fn zh(&self) -> String {
        format!(
            "{} \"{}\" 第 {}–{} 字「{}」",
            self.clause,
            self.term,
            self.start + 1,
            self.end.max(self.start + 1),
            self.quote
        )
    }
}

fn join_zh(words: &[Word]) -> String {
    words.iter().map(Word::zh).collect::<Vec<_>>().join("，")
}

impl fmt::Display for Word {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} \"{}\" at {}..{} «{}»",
            self.clause, self.term, self.start, self.end, self.quote
        )
    }
}

fn join(words: &[Word]) -> String {
    words
        .iter()
        .map(Word::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

impl Explanation {
    /// `，命中位置：标题、正文` for a topic of an item explained in its parts, and whether
    /// only the body made it match; empty otherwise.
    fn where_zh(&self, topic: &str) -> String {
        let Some(m) = self
            .parts
            .as_ref()
            .and_then(|p| p.matches.iter().find(|m| m.id == topic))
        else {
            return String::new();
        };
        let places: Vec<&str> = m.found_in.iter().map(|p| p.zh()).collect();
        let only = if m.body_only {
            "（标题和摘要本身不命中，因正文命中）"
        } else {
            ""
        };
        format!("，命中位置：{}{only}", places.join("、"))
    }
}

impl fmt::Display for Explanation {
    /// What `classify --explain` prints, in Chinese; the watchlist's own words (topic ids,
    /// clauses `any`/`all`/`none`, terms) as the operator wrote them.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.classification.severity {
            Some(s) => writeln!(
                f,
                "命中 {} 个专题，最高级别 {}（{}）。",
                self.classification.topics.len(),
                s.zh(),
                s
            )?,
            None => writeln!(f, "未命中任何专题。")?,
        }
        for t in &self.topics {
            writeln!(f)?;
            let state = match (&t.skipped_source, t.matched) {
                (Some(s), _) => format!("跳过：该专题不监测来源 `{s}`"),
                (None, None) if t.tone_unmet.is_some() => format!(
                    "未命中：规则都符合，但该专题只收语气为 `{}` 的信息，本文为 `{}`",
                    t.tone_unmet.map(|t| t.as_str()).unwrap_or_default(),
                    self.tone.tone.label
                ),
                (None, Some(sev)) => format!("命中，{}（{sev}）{}", sev.zh(), self.where_zh(&t.id)),
                (None, None) => "未命中".to_string(),
            };
            writeln!(
                f,
                "专题 {}（{}）[{}]：{state}",
                t.id,
                t.name,
                t.file.display()
            )?;
            for r in &t.rules {
                writeln!(
                    f,
                    "  规则 {}（第 {} 行，{}）：{}",
                    r.number,
                    r.line,
                    r.severity.zh(),
                    r.verdict.zh()
                )?;
                for w in &r.found {
                    match &self.parts {
                        Some(p) => writeln!(
                            f,
                            "    找到 {}（{}）",
                            w.zh(),
                            p.bounds.part_at(w.start).zh()
                        )?,
                        None => writeln!(f, "    找到 {}", w.zh())?,
                    }
                }
            }
        }
        if self.untouched > 0 {
            writeln!(f)?;
            writeln!(f, "另有 {} 个专题的词语和正则都不在文中。", self.untouched)?;
        }
        writeln!(f)?;
        write!(f, "{}", self.tone)
    }
}
