//! Classification: which watchlist topics an item's text matches, how severe, and on
//! which words.
//!
//! Everything a duty officer acts on starts here, so a match must be explainable down to
//! the characters of the original text, and the cost per item must not grow with the
//! number of topics. All topics compile into one matcher: every literal term of every
//! rule (deduplicated after folding) goes into a single trie (`dictionary`), together
//! with literals that every match of a regex must contain (`literals`) and the tone's
//! words. One walk of the trie over the folded text yields the term hits, the tone's
//! words, and which regexes can match; only those run (regexes without such literals run
//! as one `RegexSet` on every text). Only rules that a hit touches are then evaluated
//! (`eval`). The classifier is
//! immutable after [`Classifier::new`], `Send + Sync`, and meant to be shared in an `Arc`
//! and swapped on reload.

pub mod grouping;
pub mod normalize;
pub mod parts;
pub mod tone;
pub mod watchlist;

mod alphabet;
mod dictionary;
mod eval;
mod explain;
mod literals;

/// Random texts for the tests that check a fast path against the general one: `count`
/// texts of up to `max` of `pieces` each, the same for the same `seed` (xorshift).
#[cfg(test)]
pub(crate) fn random_texts(pieces: &[&str], count: usize, max: usize, seed: u64) -> Vec<String> {
    let mut next = xorshift(seed);
    (0..count)
        .map(|_| (0..next(max)).map(|_| pieces[next(pieces.len())]).collect())
        .collect()
}

/// A seeded xorshift: `next(n)` is in `0..n`.
#[cfg(test)]
pub(crate) fn xorshift(mut seed: u64) -> impl FnMut(usize) -> usize {
    move |n| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n as u64) as usize
    }
}

pub use explain::{Explanation, RuleExplanation, TopicExplanation, Verdict, Word};
pub use parts::{Match, Part, Parts, PartsClassification};

use crate::classify::normalize::{normalize, normalize_term, normalize_text_reading, Normalized};
use crate::classify::watchlist::{regex_source, Watchlists};
use crate::vocab::diagnostic::{Diagnostic, Diagnostics};
use crate::vocab::severity::Severity;
use regex::{Regex, RegexSet, RegexSetBuilder};
use serde::Serialize;
use std::collections::HashMap;
use std::ops::Range;
use std::path::PathBuf;

/// The topics an item matched; design.md's `classify --json` shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Classification {
    /// In watchlist order (files by name, topics in file order).
    pub topics: Vec<TopicMatch>,
    /// The highest of the topics' severities; `None` (JSON null) when nothing matched.
    pub severity: Option<Severity>,
    /// The item's tone (`tone`), whatever it matched.
    pub tone: tone::Tone,
}

/// One matched topic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TopicMatch {
    pub id: String,
    pub name: String,
    /// The highest severity among the topic's rules that matched.
    pub severity: Severity,
    /// The words that made the matching rules hold, in text order.
    pub evidence: Vec<Evidence>,
}

/// A term (or regex) as the operator wrote it, and where it is in the text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evidence {
    pub term: String,
    /// Character (not byte) offsets into the text as given, `[start, end)`.
    pub start: usize,
    pub end: usize,
}

/// All watchlists compiled into one matcher.
pub struct Classifier {
    /// Every distinct folded literal term (then the regexes' literals that are no term),
    /// and the tone's words: one trie walked once per item.
    dictionary: dictionary::Dictionary,
    /// How many of the dictionary's patterns are terms (the rest are regexes' literals).
    term_count: usize,
    /// Rules in which each term is positive (`any`, `all`, `near`): a hit makes them
    /// candidates.
    term_uses: Lists,
    /// For each pattern of `terms` (the terms, then literals that are no term): the
    /// regexes it arms. A regex with required literals runs only once one is found.
    gates: Lists,
    /// A bit for each pattern whose `gates` are not empty.
    gated: Vec<u64>,
    /// The regexes without required literals, which run on every text, and their indexes.
    regex_set: RegexSet,
    ungated: Vec<u32>,
    regexes: Vec<Regex>,
    regex_uses: Lists,
    rules: Vec<CompiledRule>,
    /// The terms and regexes of every rule's clauses, rule after rule: the evaluation of
    /// the candidate rules, which come in rule order, reads one compact stretch.
    refs: Vec<TermRef>,
    topics: Vec<CompiledTopic>,
    /// The tone scorer of the watchlists' lexicon (`tone`).
    tone: std::sync::Arc<tone::ToneScorer>,
}

struct CompiledTopic {
    id: String,
    name: String,
    /// `tone = "negative"`: the topic matches only items of this tone.
    tone: Option<tone::ToneLabel>,
    sources: Option<Vec<String>>,
    file: PathBuf,
    /// Its rules, contiguous in `Classifier::rules`.
    rules: Range<usize>,
}

struct CompiledRule {
    topic: usize,
    severity: Severity,
    line: usize,
    /// Each clause's terms or regexes: where they are in `Classifier::refs`.
    any: Range<u32>,
    all: Range<u32>,
    none: Range<u32>,
    regex: Range<u32>,
    near: Option<(Range<u32>, usize)>,
}

/// A term or regex of a rule: its index in the matcher and its text as written.
struct TermRef {
    index: u32,
    written: String,
}

impl Classifier {
    /// Compiles every topic of `w`. `load_dir` has validated each regex; this can still
    /// fail if the regex set outgrows its size limits, reported at the rule.
    pub fn new(w: &Watchlists) -> Result<Classifier, Diagnostics> {
        let mut b = Builder::default();
        let mut rules = Vec::new();
        let mut refs: Vec<TermRef> = Vec::new();
        let mut topics = Vec::new();
        let mut diags = Diagnostics::default();
        for (ti, t) in w.topics.iter().enumerate() {
            let first = rules.len();
            for r in &t.rules {
                let ri = rules.len() as u32;
                let mut put = |clause: &mut dyn Iterator<Item = TermRef>| {
                    let start = refs.len() as u32;
                    refs.extend(clause);
                    start..refs.len() as u32
                };
                let any = put(&mut r.any.iter().filter_map(|s| b.term(s, Some(ri))));
                let all = put(&mut r.all.iter().filter_map(|s| b.term(s, Some(ri))));
                let none = put(&mut r.none.iter().filter_map(|s| b.term(s, None)));
                let near = r.near.as_ref().map(|n| {
                    let mut terms = n.terms.iter().filter_map(|s| b.term(s, Some(ri)));
                    (put(&mut terms), n.within)
                });
                let regex = put(&mut r.regex.iter().map(|p| b.regex(p, ri)));
                rules.push(CompiledRule {
                    topic: ti,
                    severity: r.severity,
                    line: r.line,
                    any,
                    all,
                    none,
                    regex,
                    near,
                });
            }
            topics.push(CompiledTopic {
                tone: t.tone,
                id: t.id.clone(),
                name: t.name.clone(),
                sources: t.sources.clone(),
                file: t.file.clone(),
                rules: first..rules.len(),
            });
        }

        let term_count = b.terms.len();
        let mut literal_patterns = b.terms.clone();
        let mut gates: Vec<Vec<u32>> = vec![Vec::new(); term_count];
        let mut ungated = Vec::new();
        let mut literal_index: HashMap<String, usize> = HashMap::new();
        for (ri, src) in b.regex_sources.iter().enumerate() {
            let Some(required) = literals::required(src) else {
                ungated.push(ri as u32);
                continue;
            };
            for lit in required {
                let at = match b.term_index.get(&lit) {
                    Some(&t) => t as usize,
                    None => *literal_index.entry(lit.clone()).or_insert_with(|| {
                        literal_patterns.push(lit);
                        gates.push(Vec::new());
                        gates.len() - 1
                    }),
                };
                if gates[at].last() != Some(&(ri as u32)) {
                    gates[at].push(ri as u32);
                }
            }
        }
        let tone = tone::ToneScorer::new(&w.tone);
        let dictionary = dictionary::Dictionary::with_terms(tone.dictionary(), &literal_patterns);
        let regex_set = RegexSetBuilder::new(ungated.iter().map(|&i| &b.regex_sources[i as usize]))
            .size_limit(256 << 20)
            .dfa_size_limit(64 << 20)
            .build()
            .map_err(|e| whole_set_error(w, format!("cannot compile the regexes: {e}")))?;
        let mut regexes = Vec::with_capacity(b.regex_sources.len());
        for (i, src) in b.regex_sources.iter().enumerate() {
            match Regex::new(src) {
                Ok(r) => regexes.push(r),
                Err(e) => {
                    // Unreachable after load_dir; reported rather than unwrapped.
                    let rule = b.regex_uses[i].first().map(|&r| &rules[r as usize]);
                    let (file, line) = rule.map_or((PathBuf::new(), None), |r: &CompiledRule| {
                        (topics[r.topic].file.clone(), Some(r.line))
                    });
                    diags.push(Diagnostic::new(&file, line, format!("invalid regex: {e}")));
                }
            }
        }
        let mut gated = vec![0u64; gates.len().div_ceil(64)];
        for (i, g) in gates.iter().enumerate() {
            if !g.is_empty() {
                gated[i / 64] |= 1 << (i % 64);
            }
        }
        diags.into_result(Classifier {
            dictionary,
            term_count,
            term_uses: Lists::new(&b.term_uses),
            gates: Lists::new(&gates),
            gated,
            regex_set,
            ungated,
            regexes,
            regex_uses: Lists::new(&b.regex_uses),
            rules,
            refs,
            topics,
            tone,
        })
    }

    /// Which topics `text` matches. `source` is the item's source id: topics restricted
    /// to other sources are skipped; with `None` no restriction applies (a person asking
    /// `yuqing classify` sees every topic).
    pub fn classify(&self, text: &str, source: Option<&str>) -> Classification {
        let Scratch {
            text: buffer,
            mut codes,
            mut tone_words,
            mut reading,
            mut hits,
            mut rules,
        } = Scratch::take();
        codes.clear();
        tone_words.clear();
        // Most items match nothing: fold without the way back to the original, and fold
        // again with it only for evidence (the folded text is the same either way). The
        // tone reads each folded char as the fold makes it (codes, the model's n-grams,
        // clause marks); then one walk of the dictionary (terms and tone words).
        let mut reader = self
            .tone
            .reader(&self.dictionary, &mut codes, &mut reading, text.len());
        let norm = Normalized::unmapped(normalize_text_reading(text, buffer, &mut reader));
        reader.finish();
        self.hits_into(&norm, &codes, &mut tone_words, &mut hits);
        let tone = self
            .tone
            .tone_of_reading(&norm.text, &mut reading, &tone_words);
        self.candidate_rules(&mut hits, &mut rules);
        let mut matched = Vec::new();
        let mut trace = eval::Trace::default();
        // The candidate rules are in rule order, so a topic's are contiguous.
        let mut at = 0;
        while at < rules.len() {
            let ti = self.rules[rules[at] as usize].topic;
            let end = at
                + rules[at..]
                    .iter()
                    .position(|&r| self.rules[r as usize].topic != ti)
                    .unwrap_or(rules.len() - at);
            let topic_rules = &rules[at..end];
            at = end;
            if !self.applies(ti, source) || !self.tone_fits(ti, tone.label) {
                continue;
            }
            let mut best: Option<Severity> = None;
            let mut found = Vec::new();
            for &ri in topic_rules {
                let ri = ri as usize;
                self.eval_into(ri, &hits, &norm, eval::Depth::Verdict, &mut trace);
                if trace.matched() {
                    let sev = self.rules[ri].severity;
                    best = Some(best.map_or(sev, |b| b.max(sev)));
                    found.append(&mut trace.found);
                }
            }
            if let Some(severity) = best {
                matched.push((ti, severity, found));
            }
        }
        let full = (!matched.is_empty()).then(|| normalize(text));
        debug_assert!(full.as_ref().is_none_or(|f| f.text == norm.text));
        let mapped = full.as_ref().unwrap_or(&norm);
        let mut topics = Vec::with_capacity(matched.len());
        for (ti, severity, found) in matched {
            let mut evidence: Vec<Evidence> = found.iter().map(|f| f.evidence(mapped)).collect();
            evidence.sort_by(|a, b| (a.start, a.end, &a.term).cmp(&(b.start, b.end, &b.term)));
            evidence.dedup();
            let t = &self.topics[ti];
            topics.push(TopicMatch {
                id: t.id.clone(),
                name: t.name.clone(),
                severity,
                evidence,
            });
        }
        let severity = topics.iter().map(|t| t.severity).max();
        Scratch {
            text: norm.text,
            codes,
            tone_words,
            reading,
            hits,
            rules,
        }
        .put_back();
        Classification {
            topics,
            severity,
            tone,
        }
    }

    /// Whether topic `ti` takes items of this tone (`tone = "negative"` on the topic).
    fn tone_fits(&self, ti: usize, label: tone::ToneLabel) -> bool {
        self.topics[ti].tone.is_none_or(|t| t == label)
    }

    /// The tone of `text` and the words that made it (`classify --explain`).
    pub fn explain_tone(&self, text: &str) -> tone::ToneExplanation {
        self.tone.explain(text)
    }

    /// The tone scorer, for callers that need only the tone.
    pub fn tone_scorer(&self) -> &tone::ToneScorer {
        &self.tone
    }

    /// Whether topic `ti` takes items from `source`.
    fn applies(&self, ti: usize, source: Option<&str>) -> bool {
        match (&self.topics[ti].sources, source) {
            (Some(list), Some(s)) => list.iter().any(|l| l == s),
            _ => true,
        }
    }

    /// The number of compiled topics, rules, distinct terms and distinct regexes.
    pub fn size(&self) -> (usize, usize, usize, usize) {
        (
            self.topics.len(),
            self.rules.len(),
            self.term_count,
            self.regexes.len(),
        )
    }
}

/// The buffers one classification works in, kept per thread between items: an item
/// then allocates little beyond what it returns (the poll classifies items one after the
/// other on a few threads).
#[derive(Default)]
struct Scratch {
    /// The folded text.
    text: String,
    /// The code of each folded char in the dictionary's alphabet.
    codes: Vec<u32>,
    /// The tone's words found by the walk.
    tone_words: Vec<dictionary::ToneHit>,
    /// What the tone's pass over the chars gathered, and the parts it counted.
    reading: tone::Reading,
    /// Where terms and regexes hit.
    hits: eval::Hits,
    /// The rules the hits make candidates.
    rules: Vec<u32>,
}

thread_local! {
    static SCRATCH: std::cell::Cell<Scratch> = std::cell::Cell::default();
}

impl Scratch {
    /// This thread's buffers (empty ones the first time, or if they are in use).
    fn take() -> Scratch {
        SCRATCH.with(|s| s.take())
    }

    /// Keeps the buffers for the thread's next item, unless an outsized item grew them.
    fn put_back(self) {
        const KEEP_BYTES: usize = 1 << 20;
        let bytes = self.text.capacity()
            + 4 * self.codes.capacity()
            + 12 * self.tone_words.capacity()
            + self.reading.capacity_bytes()
            + self.hits.capacity_bytes()
            + 4 * self.rules.capacity();
        if bytes <= KEEP_BYTES {
            SCRATCH.with(|s| s.set(self));
        }
    }
}

/// A list of indexes for each term, pattern or regex, all in one array: a hit reads its
/// list from two compact arrays instead of following a pointer from a table of lists to
/// an allocation of its own, two reads that each missed the cache (`docs/bench-classify.md`).
struct Lists {
    /// List `i` is `items[starts[i]..starts[i + 1]]`.
    starts: Vec<u32>,
    items: Vec<u32>,
}

impl Lists {
    fn new(lists: &[Vec<u32>]) -> Lists {
        let mut starts = Vec::with_capacity(lists.len() + 1);
        starts.push(0);
        let mut items = Vec::with_capacity(lists.iter().map(Vec::len).sum());
        for list in lists {
            items.extend_from_slice(list);
            starts.push(u32::try_from(items.len()).expect("fewer than 2^32 uses"));
        }
        Lists { starts, items }
    }

    #[inline]
    fn get(&self, i: usize) -> &[u32] {
        &self.items[self.starts[i] as usize..self.starts[i + 1] as usize]
    }
}

/// Deduplicates folded terms and regexes while the rules are compiled.
#[derive(Default)]
struct Builder {
    terms: Vec<String>,
    term_index: HashMap<String, u32>,
    term_uses: Vec<Vec<u32>>,
    regex_sources: Vec<String>,
    regex_index: HashMap<String, u32>,
    regex_uses: Vec<Vec<u32>>,
}

impl Builder {
    /// Registers a term; `rule` is set when the term is positive in that rule.
    fn term(&mut self, written: &str, rule: Option<u32>) -> Option<TermRef> {
        let folded = normalize_term(written);
        if folded.is_empty() {
            return None; // rejected by load_dir; never let it match everywhere
        }
        let index = *self.term_index.entry(folded.clone()).or_insert_with(|| {
            self.terms.push(folded);
            self.term_uses.push(Vec::new());
            (self.terms.len() - 1) as u32
        });
        if let Some(r) = rule {
            let uses = &mut self.term_uses[index as usize];
            if uses.last() != Some(&r) {
                uses.push(r);
            }
        }
        Some(TermRef {
            index,
            written: written.to_string(),
        })
    }

    fn regex(&mut self, written: &str, rule: u32) -> TermRef {
        let source = regex_source(written);
        let index = *self.regex_index.entry(source.clone()).or_insert_with(|| {
            self.regex_sources.push(source);
            self.regex_uses.push(Vec::new());
            (self.regex_sources.len() - 1) as u32
        });
        let uses = &mut self.regex_uses[index as usize];
        if uses.last() != Some(&rule) {
            uses.push(rule);
        }
        TermRef {
            index,
            written: written.to_string(),
        }
    }
}

fn whole_set_error(w: &Watchlists, message: String) -> Diagnostics {
    let file = w.files.first().cloned().unwrap_or_default();
    Diagnostic::new(&file, None, message).into()
}

/// Offsets of a folded span in the original text, as evidence.
fn evidence_at(norm: &Normalized, term: &str, start: usize, end: usize) -> Evidence {
    let (start, end) = norm.original_range(start, end);
    Evidence {
        term: term.to_string(),
        start,
        end,
    }
}

#[cfg(test)]
mod tests;
