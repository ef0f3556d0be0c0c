//! One pass of the matcher over a folded text, then the clauses of the rules it touched.
//!
//! Kept apart from the compiled matcher so that classification and explanation share
//! exactly one definition of what "a rule matches" means: `classify` keeps the verdict,
//! `explain` prints the whole trace.

use super::dictionary::ToneHit;
use super::{evidence_at, Classifier, Evidence, TermRef};
use crate::classify::normalize::Normalized;
use std::fmt;

/// Where terms and regexes hit the folded text; offsets are folded chars. Its buffers
/// are reused from item to item (`Classifier::hits_into` clears them).
#[derive(Default)]
pub(super) struct Hits {
    /// `(term, start, end)`, sorted by term then start.
    terms: Vec<(u32, u32, u32)>,
    /// Whether each regex matches somewhere.
    regexes: Vec<bool>,
    /// The gated regexes that a literal armed, while the dictionary is walked.
    armed: Vec<u32>,
    /// One bit a rule, while the candidate rules are gathered (kept all clear between).
    seen: Vec<u64>,
}

impl Hits {
    fn of(&self, term: u32) -> &[(u32, u32, u32)] {
        let from = self.terms.partition_point(|h| h.0 < term);
        let to = self.terms[from..].partition_point(|h| h.0 == term) + from;
        &self.terms[from..to]
    }

    fn first(&self, term: u32) -> Option<(usize, usize)> {
        self.of(term).first().map(|h| (h.1 as usize, h.2 as usize))
    }

    /// Bytes its buffers hold.
    pub fn capacity_bytes(&self) -> usize {
        12 * self.terms.capacity() + self.regexes.capacity() + 4 * self.armed.capacity()
    }
}

/// Which clause a word satisfied (or, for `none`, violated).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clause {
    Any,
    All,
    None,
    Regex,
    Near,
}

impl Clause {
    pub fn as_str(self) -> &'static str {
        match self {
            Clause::Any => "any",
            Clause::All => "all",
            Clause::None => "none",
            Clause::Regex => "regex",
            Clause::Near => "near",
        }
    }
}

/// A word of the folded text that a clause looked at.
pub(super) struct Found<'a> {
    pub clause: Clause,
    pub term: &'a str,
    pub start: usize,
    pub end: usize,
}

impl Found<'_> {
    pub fn evidence(&self, norm: &Normalized) -> Evidence {
        evidence_at(norm, self.term, self.start, self.end)
    }
}

/// Everything the evaluation of one rule saw.
#[derive(Default)]
pub(super) struct Trace<'a> {
    /// Words of the positive clauses.
    pub found: Vec<Found<'a>>,
    /// `none` terms present in the text.
    pub excluded_by: Vec<Found<'a>>,
    /// Positive clauses that do not hold.
    pub unmet: Vec<Unmet<'a>>,
}

impl Trace<'_> {
    pub fn matched(&self) -> bool {
        self.unmet.is_empty() && self.excluded_by.is_empty()
    }
}

/// A positive clause that does not hold; put in words only when someone asks.
pub(super) enum Unmet<'a> {
    Any(&'a [TermRef]),
    All(&'a TermRef),
    Regex(&'a [TermRef]),
    NearAbsent(&'a [TermRef]),
    NearApart(&'a [TermRef], i64, usize),
}

impl fmt::Display for Unmet<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unmet::Any(t) => write!(f, "none of the `any` terms {}", list(t)),
            Unmet::All(t) => write!(f, "`all` term \"{}\" is missing", t.written),
            Unmet::Regex(t) => write!(f, "no `regex` matched {}", list(t)),
            Unmet::NearAbsent(t) => write!(f, "`near` terms {} do not all appear", list(t)),
            Unmet::NearApart(t, gap, within) => write!(
                f,
                "`near` terms {} are {gap} characters apart, more than {within}",
                list(t)
            ),
        }
    }
}

impl Unmet<'_> {
    /// In Chinese, for `classify --explain` and the console's watchlist test.
    pub fn zh(&self) -> String {
        match self {
            Unmet::Any(t) => format!("`any` 的词 {} 都不在文中", list(t)),
            Unmet::All(t) => format!("缺少 `all` 的词 \"{}\"", t.written),
            Unmet::Regex(t) => format!("`regex` {} 都没有匹配", list(t)),
            Unmet::NearAbsent(t) => format!("`near` 的词 {} 没有全部出现", list(t)),
            Unmet::NearApart(t, gap, within) => {
                format!("`near` 的词 {} 相距 {gap} 字，超过 {within} 字", list(t))
            }
        }
    }
}

/// How much of a rule to evaluate.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Depth {
    /// Stop at the first clause that fails: enough to classify.
    Verdict,
    /// Every clause, for an explanation.
    Full,
}

impl Classifier {
    /// Walks the dictionary and runs the gated regexes once over the folded text.
    pub(super) fn hits(&self, norm: &Normalized) -> Hits {
        let mut codes = Vec::new();
        self.dictionary.encode(&norm.text, &mut codes);
        let mut hits = Hits::default();
        self.hits_into(norm, &codes, &mut Vec::new(), &mut hits);
        hits
    }

    /// [`Classifier::hits`] of a text whose char codes are known, into `hits` (cleared
    /// first); the tone's words found on the way go to `tone`.
    pub(super) fn hits_into(
        &self,
        norm: &Normalized,
        codes: &[u32],
        tone: &mut Vec<ToneHit>,
        hits: &mut Hits,
    ) {
        let term_count = self.term_count;
        let Hits {
            terms,
            regexes,
            armed,
            ..
        } = hits;
        terms.clear();
        armed.clear();
        // Called for every occurrence: what it reads first is a bit of a table that stays
        // in the cache, not the gates' list of each term (most terms gate nothing).
        let hit = |id: u32, start: u32, end: u32| {
            let i = id as usize;
            if i < term_count {
                terms.push((id, start, end));
            }
            if self.gated[i / 64] & (1 << (i % 64)) != 0 {
                armed.extend_from_slice(self.gates.get(i));
            }
        };
        self.dictionary.walk(codes, hit, tone);
        terms.sort_unstable();
        regexes.clear();
        regexes.resize(self.regexes.len(), false);
        if !self.ungated.is_empty() {
            for i in self.regex_set.matches(&norm.text).iter() {
                regexes[self.ungated[i] as usize] = true;
            }
        }
        armed.sort_unstable();
        armed.dedup();
        for &r in armed.iter() {
            regexes[r as usize] = self.regexes[r as usize].is_match(&norm.text);
        }
    }

    /// The rules that a hit makes worth evaluating, in rule order (so grouped by topic,
    /// in topic order), into `rules` (cleared first).
    pub(super) fn candidate_rules(&self, hits: &mut Hits, rules: &mut Vec<u32>) {
        rules.clear();
        // A bit a rule, then the bits in order: sorted and each once, without copying
        // every hit term's list of rules and sorting them.
        let seen = &mut hits.seen;
        seen.resize(self.rules.len().div_ceil(64), 0);
        let mut mark = |uses: &[u32]| {
            for &r in uses {
                seen[r as usize / 64] |= 1 << (r % 64);
            }
        };
        let mut last = u32::MAX;
        for &(term, _, _) in &hits.terms {
            if term != last {
                mark(self.term_uses.get(term as usize));
                last = term;
            }
        }
        for (r, _) in hits.regexes.iter().enumerate().filter(|(_, &m)| m) {
            mark(self.regex_uses.get(r));
        }
        for (w, bits) in seen.iter_mut().enumerate() {
            while *bits != 0 {
                rules.push((w * 64) as u32 + bits.trailing_zeros());
                *bits &= *bits - 1;
            }
        }
    }

    /// [`Classifier::candidate_rules`] grouped by topic, in topic order.
    pub(super) fn candidates(&self, hits: &mut Hits) -> Vec<(usize, Vec<usize>)> {
        let mut rules = Vec::new();
        self.candidate_rules(hits, &mut rules);
        let mut out: Vec<(usize, Vec<usize>)> = Vec::new();
        for r in rules {
            let topic = self.rules[r as usize].topic;
            match out.last_mut() {
                Some((t, list)) if *t == topic => list.push(r as usize),
                _ => out.push((topic, vec![r as usize])),
            }
        }
        out
    }

    /// Evaluates the clauses of rule `ri` (design.md: they combine with AND, an empty
    /// clause holds). Cheap clauses first, so that `Depth::Verdict` rarely runs a regex.
    pub(super) fn eval<'a>(
        &'a self,
        ri: usize,
        hits: &Hits,
        norm: &Normalized,
        depth: Depth,
    ) -> Trace<'a> {
        let mut t = Trace::default();
        self.eval_into(ri, hits, norm, depth, &mut t);
        t
    }

    /// [`Classifier::eval`] into `t` (cleared first), so that a caller evaluating rule
    /// after rule reuses its lists.
    pub(super) fn eval_into<'a>(
        &'a self,
        ri: usize,
        hits: &Hits,
        norm: &Normalized,
        depth: Depth,
        t: &mut Trace<'a>,
    ) {
        let rule = &self.rules[ri];
        let refs =
            |clause: &std::ops::Range<u32>| &self.refs[clause.start as usize..clause.end as usize];
        let (all, any, none, regex) = (
            refs(&rule.all),
            refs(&rule.any),
            refs(&rule.none),
            refs(&rule.regex),
        );
        t.found.clear();
        t.excluded_by.clear();
        t.unmet.clear();
        let stop = |t: &Trace<'_>| depth == Depth::Verdict && !t.matched();
        let found = |clause, term: &'a TermRef, (start, end): (usize, usize)| Found {
            clause,
            term: &term.written,
            start,
            end,
        };

        for term in all {
            match hits.first(term.index) {
                Some(at) => t.found.push(found(Clause::All, term, at)),
                None => t.unmet.push(Unmet::All(term)),
            }
        }
        if stop(t) {
            return;
        }
        let any_before = t.found.len();
        for term in any {
            if let Some(at) = hits.first(term.index) {
                t.found.push(found(Clause::Any, term, at));
            }
        }
        if !any.is_empty() && t.found.len() == any_before {
            t.unmet.push(Unmet::Any(any));
        }
        for term in none {
            if let Some(at) = hits.first(term.index) {
                t.excluded_by.push(found(Clause::None, term, at));
            }
        }
        if stop(t) {
            return;
        }
        if let Some((near, within)) = &rule.near {
            let terms = refs(near);
            match nearest(terms, hits) {
                Some((gap, chosen)) if gap <= *within as i64 => {
                    for (term, at) in terms.iter().zip(chosen) {
                        t.found.push(found(Clause::Near, term, at));
                    }
                }
                Some((gap, _)) => t.unmet.push(Unmet::NearApart(terms, gap, *within)),
                None => t.unmet.push(Unmet::NearAbsent(terms)),
            }
        }
        if stop(t) {
            return;
        }
        let mut regex_found = false;
        for re in regex {
            if !hits.regexes[re.index as usize] {
                continue;
            }
            if let Some(m) = self.regexes[re.index as usize].find(&norm.text) {
                let start = norm.char_at_byte(m.start());
                let at = (start, norm.char_at_byte(m.end()));
                t.found.push(found(Clause::Regex, re, at));
                regex_found = true;
            }
        }
        if !regex.is_empty() && !regex_found {
            t.unmet.push(Unmet::Regex(regex));
        }
    }
}

/// The closest choice of one occurrence per term: the smallest gap between the earliest
/// end and the latest start (negative when they overlap), with the occurrences chosen.
///
/// Sweeping occurrences by start, for each one taken as the latest start, the best
/// partner for every other term is the occurrence seen so far that ends last.
fn nearest(terms: &[TermRef], hits: &Hits) -> Option<(i64, Vec<(usize, usize)>)> {
    let mut all: Vec<(u32, u32, usize)> = Vec::new(); // (start, end, term slot)
    for (slot, term) in terms.iter().enumerate() {
        let occ = hits.of(term.index);
        if occ.is_empty() {
            return None;
        }
        all.extend(occ.iter().map(|&(_, s, e)| (s, e, slot)));
    }
    all.sort_unstable();
    let mut best_end: Vec<Option<(u32, u32)>> = vec![None; terms.len()];
    let mut best: Option<(i64, Vec<(usize, usize)>)> = None;
    for &(start, end, slot) in &all {
        if best_end[slot].is_none_or(|(_, e)| end > e) {
            best_end[slot] = Some((start, end));
        }
        let mut min_end = end;
        let mut chosen = Vec::with_capacity(terms.len());
        for (other, b) in best_end.iter().enumerate() {
            let (s, e) = if other == slot {
                (start, end)
            } else {
                match b {
                    Some(b) => *b,
                    None => break,
                }
            };
            min_end = min_end.min(e);
            chosen.push((s as usize, e as usize));
        }
        if chosen.len() < terms.len() {
            continue;
        }
        let gap = i64::from(start) - i64::from(min_end);
        if best.as_ref().is_none_or(|(g, _)| gap < *g) {
            best = Some((gap, chosen));
        }
    }
    best
}

/// `"a", "b"` for messages.
fn list(terms: &[TermRef]) -> String {
    terms
        .iter()
        .map(|t| format!("\"{}\"", t.written))
        .collect::<Vec<_>>()
        .join(", ")
}
