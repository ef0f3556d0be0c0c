//! The dictionary: every word the classifier looks for — topic terms, the literals that
//! gate regexes, the tone's words — walked once over an item.
//!
//! Two Aho–Corasick automata over the same text (the topics' overlapping one and the
//! tone's leftmost-longest one) cost more than half of classification, and an automaton's
//! walk is a chain of dependent loads, one state after the other. Here the text is first
//! turned into one code per char (`alphabet`), and tries are walked from every char: the
//! walks from different chars do not depend on one another, so the processor runs
//! several at once, and most end after a step or two (few pairs of chars begin a word).
//!
//! A trie is a double array: a node's child for code `c` is slot `base + c`, which is the
//! child if its `check` names the node. One load a step, no search.
//!
//! Two tries share the alphabet and the walk: the **terms** (of a classifier's topics)
//! are reported wherever they occur, overlapping (every rule sees every occurrence); the
//! **tone words** are chosen leftmost-longest, as a scan that jumps past each word it
//! takes (`不满意` is one word, not 不满 and 满意). The tone's trie (20,700 words) is
//! built once with its scorer and shared by every classifier, whose own trie holds its
//! terms only, numbered on after the tone's chars: a reload, or a test, places a few
//! hundred words, not twenty thousand.

use crate::classify::alphabet::Alphabet;
use crate::classify::normalize::HanTable;
use std::sync::Arc;

/// A slot's `check` when no node owns it.
const FREE: u32 = u32::MAX;
/// The root's own slot (its children's `check`).
const ROOT: u32 = 0;
/// In `base`: the node ends a word (its id in `Trie::words`).
const WORD: u32 = 1 << 31;
/// No word ends at the node.
const NONE: u32 = u32::MAX;

#[derive(Clone, Copy)]
struct Slot {
    base: u32,
    check: u32,
}

/// One set of words as a double-array trie over char codes.
pub(super) struct Trie {
    slots: Vec<Slot>,
    /// The root's base (its slot's, without the flag), read once per walk step from a
    /// char rather than from the array.
    root: u32,
    /// For a slot flagged `WORD`: the id of the word that ends there.
    words: Vec<u32>,
}

/// A tone word found by [`Dictionary::walk`]: (word, start, end) in chars.
pub(super) type ToneHit = (u32, u32, u32);

/// A node of the trie while it is built.
struct Node {
    children: Vec<(u32, u32)>,
    word: u32,
}

impl Trie {
    /// The trie of `words` (each folded and not empty; a duplicate keeps the last id),
    /// coded by `alphabet`. Word ids are their indexes.
    fn new(words: &[String], alphabet: &Alphabet) -> Trie {
        // The trie as nodes with sorted children.
        let mut nodes: Vec<Node> = vec![Node {
            children: Vec::new(),
            word: NONE,
        }];
        for (id, word) in words.iter().enumerate() {
            let mut at = 0usize;
            for c in word.chars() {
                let code = alphabet.code(c);
                at = match nodes[at].children.binary_search_by_key(&code, |&(c, _)| c) {
                    Ok(i) => nodes[at].children[i].1 as usize,
                    Err(i) => {
                        let new = nodes.len() as u32;
                        nodes[at].children.insert(i, (code, new));
                        nodes.push(Node {
                            children: Vec::new(),
                            word: NONE,
                        });
                        new as usize
                    }
                };
            }
            if at != 0 {
                nodes[at].word = id as u32;
            }
        }

        // Placement, breadth first: each node's children into free slots `base + code`.
        let mut place = Placement::new(alphabet.max_code());
        let mut slot_of = vec![0u32; nodes.len()];
        let mut queue = std::collections::VecDeque::from([0usize]);
        while let Some(n) = queue.pop_front() {
            let node = &nodes[n];
            let here = slot_of[n] as usize;
            let flag = if node.word == NONE { 0 } else { WORD };
            place.words[here] = node.word;
            if node.children.is_empty() {
                place.slots[here].base = flag;
                continue;
            }
            let base = place.find_base(&node.children);
            place.slots[here].base = base | flag;
            for &(code, child) in &node.children {
                let s = base + code;
                place.take(s as usize, here as u32);
                slot_of[child as usize] = s;
                queue.push_back(child as usize);
            }
        }
        place.finish();
        Trie {
            root: place.slots[ROOT as usize].base & !WORD,
            slots: place.slots,
            words: place.words,
        }
    }

    /// Every word that starts at `codes[i]`, shortest first: `found(id, end)`.
    #[inline]
    fn from(&self, codes: &[u32], i: usize, mut found: impl FnMut(u32, usize)) {
        let slots = self.slots.as_slice();
        // A code past this trie's (a char of the other set only) finds no child either:
        // outside the array, or a slot that is no child of the root.
        let mut at = (self.root + codes[i]) as usize;
        match slots.get(at) {
            Some(s) if s.check == ROOT => {}
            _ => return,
        }
        let mut j = i;
        loop {
            let slot = slots[at];
            if slot.base & WORD != 0 {
                found(self.words[at], j + 1);
            }
            j += 1;
            let Some(&code) = codes.get(j) else { return };
            let next = ((slot.base & !WORD) + code) as usize;
            // Past the end, or owned by another node: no child. Code 0 is no child of
            // any node (`base + 0` is never a child of that node).
            match slots.get(next) {
                Some(s) if s.check == at as u32 => at = next,
                _ => return,
            }
        }
    }
}

/// The terms and the tone words, over one alphabet.
pub(super) struct Dictionary {
    alphabet: Alphabet,
    /// How the fold's Han runs fold each Han char and code it in `alphabet`.
    han: HanTable,
    terms: Trie,
    tone: Arc<Trie>,
}

impl Dictionary {
    /// A tone scorer's dictionary: its words alone.
    pub fn of_tone(tone: &[String]) -> Dictionary {
        let alphabet = Alphabet::new(tone.iter().map(|s| s.as_str()));
        Dictionary {
            terms: Trie::new(&[], &alphabet),
            tone: Arc::new(Trie::new(tone, &alphabet)),
            han: HanTable::new(|c| alphabet.code(c)),
            alphabet,
        }
    }

    /// A classifier's dictionary: `terms` (folded, not empty, distinct), beside the tone
    /// words of `tone` (a scorer's dictionary), whose trie is shared.
    pub fn with_terms(tone: &Dictionary, terms: &[String]) -> Dictionary {
        let alphabet = tone.alphabet.extended(terms.iter().map(|s| s.as_str()));
        Dictionary {
            terms: Trie::new(terms, &alphabet),
            tone: tone.tone.clone(),
            han: HanTable::new(|c| alphabet.code(c)),
            alphabet,
        }
    }

    /// Appends the code of each char of `text` to `out`.
    #[inline]
    pub fn encode(&self, text: &str, out: &mut Vec<u32>) {
        out.reserve(text.len() / 2);
        out.extend(text.chars().map(|c| self.alphabet.code(c)));
    }

    /// The fold's table of Han chars with their codes.
    pub fn han(&self) -> &HanTable {
        &self.han
    }

    /// The code of one char (0 for a char in no word).
    #[inline]
    pub fn code(&self, c: char) -> u32 {
        self.alphabet.code(c)
    }

    /// Walks the tries from every char of `codes`: `term(id, start, end)` (in chars) for
    /// every occurrence of every term (in order of start, then end), and the tone words
    /// leftmost-longest into `tone`.
    ///
    /// The two tries are walked in two loops over the codes rather than one: each loop
    /// then keeps its state in registers (one loop over both spilled to the stack).
    pub fn walk(
        &self,
        codes: &[u32],
        mut term: impl FnMut(u32, u32, u32),
        tone: &mut Vec<ToneHit>,
    ) {
        for (i, &code) in codes.iter().enumerate() {
            if code != 0 {
                self.terms
                    .from(codes, i, |id, end| term(id, i as u32, end as u32));
            }
        }
        // Leftmost-longest: a word taken covers its chars, the scan goes on after it.
        let mut i = 0;
        while i < codes.len() {
            let mut longest: Option<(u32, usize)> = None;
            if codes[i] != 0 {
                self.tone
                    .from(codes, i, |id, end| longest = Some((id, end)));
            }
            match longest {
                Some((w, end)) => {
                    tone.push((w, i as u32, end as u32));
                    i = end;
                }
                None => i += 1,
            }
        }
    }

    /// Tone words alone, leftmost-longest.
    pub fn tone_words(&self, codes: &[u32], out: &mut Vec<ToneHit>) {
        self.walk(codes, |_, _, _| {}, out);
    }
}

/// The double array while nodes are placed.
struct Placement {
    slots: Vec<Slot>,
    words: Vec<u32>,
    /// `next_free[i]`: a slot at or after `i` that may be free (path-compressed; the
    /// smallest free one once followed through).
    next_free: Vec<u32>,
    /// The largest code of the alphabet the trie is built with, so that `base + code`
    /// of its codes stays inside the array (larger codes are looked up with `get`).
    max_code: u32,
    /// Where nodes of several children start looking (`find_base`).
    several_from: usize,
}

impl Placement {
    fn new(max_code: u32) -> Placement {
        let mut p = Placement {
            slots: Vec::new(),
            words: Vec::new(),
            next_free: Vec::new(),
            max_code,
            several_from: 0,
        };
        p.grow(1);
        p.slots[ROOT as usize].check = ROOT;
        p.next_free[0] = 1;
        p
    }

    fn grow(&mut self, len: usize) {
        let from = self.slots.len();
        if len <= from {
            return;
        }
        self.slots.resize(
            len,
            Slot {
                base: 0,
                check: FREE,
            },
        );
        self.words.resize(len, NONE);
        self.next_free.extend((from as u32)..(len as u32));
    }

    /// The smallest free slot at or after `i`. A taken slot points past itself; the
    /// pointers are shortened on the way (union–find), so placing stays near linear.
    fn free_from(&mut self, i: usize) -> usize {
        let mut x = i;
        loop {
            self.grow(x + 1);
            let next = self.next_free[x] as usize;
            if next == x {
                break;
            }
            x = next;
        }
        let mut k = i;
        while k != x {
            let next = self.next_free[k] as usize;
            self.next_free[k] = x as u32;
            k = next;
        }
        x
    }

    fn take(&mut self, slot: usize, parent: u32) {
        self.grow(slot + 1);
        debug_assert_eq!(self.slots[slot].check, FREE);
        self.slots[slot].check = parent;
        self.next_free[slot] = (slot + 1) as u32;
    }

    /// A base at which every child's slot is free. A node of one child takes the first
    /// free slot; a node of several looks from `several_from` on, which moves past a
    /// stretch of slots once a node has failed to fit there many times (the few free
    /// slots left in it are for nodes of one child): else every wide node of the tone's
    /// 20,000 words would try every hole of the array first.
    fn find_base(&mut self, children: &[(u32, u32)]) -> u32 {
        let first = children[0].0 as usize;
        let several = children.len() > 1;
        let from = if several {
            self.several_from.max(first + 1)
        } else {
            first + 1
        };
        let mut f = self.free_from(from);
        let mut tries = 0;
        loop {
            let base = f - first;
            let last = base + children[children.len() - 1].0 as usize;
            self.grow(last + 1);
            if children[1..]
                .iter()
                .all(|&(c, _)| self.slots[base + c as usize].check == FREE)
            {
                return base as u32;
            }
            tries += 1;
            if tries == 32 {
                self.several_from = self.several_from.max(f);
            }
            f = self.free_from(f + 1);
        }
    }

    /// Pads the array so that `base + code` is inside it for every base and code.
    fn finish(&mut self) {
        let max_base = self
            .slots
            .iter()
            .map(|s| (s.base & !WORD) as usize)
            .max()
            .unwrap_or(0);
        self.grow(max_base + self.max_code as usize + 1);
        self.next_free = Vec::new();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(xs: &[&str]) -> Vec<String> {
        xs.iter().map(|s| s.to_string()).collect()
    }

    fn run(d: &Dictionary, text: &str) -> (Vec<(u32, u32, u32)>, Vec<ToneHit>) {
        let mut codes = Vec::new();
        d.encode(text, &mut codes);
        let mut found = Vec::new();
        let mut tone = Vec::new();
        // The end as the walk gives it; the brute force counts the term's chars.
        d.walk(
            &codes,
            |id, start, end| found.push((id, start, end)),
            &mut tone,
        );
        found.sort_unstable();
        (found, tone)
    }

    /// Every occurrence of every term, by brute force.
    fn naive_terms(terms: &[String], text: &str) -> Vec<(u32, u32, u32)> {
        let chars: Vec<char> = text.chars().collect();
        let mut out = Vec::new();
        for (id, t) in terms.iter().enumerate() {
            let t: Vec<char> = t.chars().collect();
            for s in 0..chars.len() {
                if chars[s..].starts_with(&t) {
                    out.push((id as u32, s as u32, (s + t.len()) as u32));
                }
            }
        }
        out.sort_unstable();
        out
    }

    /// Leftmost-longest, by brute force.
    fn naive_tone(words: &[String], text: &str) -> Vec<ToneHit> {
        let chars: Vec<char> = text.chars().collect();
        let mut out = Vec::new();
        let mut i = 0;
        while i < chars.len() {
            let best = words
                .iter()
                .enumerate()
                .filter(|(_, w)| chars[i..].starts_with(&w.chars().collect::<Vec<_>>()))
                .max_by_key(|(_, w)| w.chars().count());
            match best {
                Some((id, w)) => {
                    let end = i + w.chars().count();
                    out.push((id as u32, i as u32, end as u32));
                    i = end;
                }
                None => i += 1,
            }
        }
        out
    }

    #[test]
    fn finds_what_brute_force_finds() {
        let terms = strings(&["景区", "景区踩踏", "踩踏", "区", "a", "ab", "b景"]);
        let tone = strings(&["不满", "不满意", "满意", "意见", "景区", "不"]);
        let d = Dictionary::with_terms(&Dictionary::of_tone(&tone), &terms);
        for text in [
            "",
            "景区",
            "某景区踩踏事故，游客不满意见很多",
            "ab景区不不满不满意意见",
            "xyz",
            "景景区区踩踏踏",
        ] {
            let (t, w) = run(&d, text);
            assert_eq!(t, naive_terms(&terms, text), "{text}");
            assert_eq!(w, naive_tone(&tone, text), "{text}");
        }
    }

    #[test]
    fn random_words_and_texts_agree_with_brute_force() {
        let pool: Vec<char> = "景区踩踏不满意见ab是的".chars().collect();
        let mut next = crate::classify::xorshift(0x2545_F491_4F6C_DD1D);
        for _ in 0..200 {
            let mut words = |count: usize, max: usize| -> Vec<String> {
                let mut out: Vec<String> = (0..count)
                    .map(|_| {
                        let len = 1 + next(max);
                        (0..len).map(|_| pool[next(pool.len())]).collect()
                    })
                    .collect();
                out.sort();
                out.dedup();
                out
            };
            let terms = words(12, 4);
            let tone = words(12, 3);
            let text: String = (0..next(40)).map(|_| pool[next(pool.len())]).collect();
            let d = Dictionary::with_terms(&Dictionary::of_tone(&tone), &terms);
            let (t, w) = run(&d, &text);
            assert_eq!(t, naive_terms(&terms, &text), "{terms:?} {text}");
            assert_eq!(w, naive_tone(&tone, &text), "{tone:?} {text}");
        }
    }
}
