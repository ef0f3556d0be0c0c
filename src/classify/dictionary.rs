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
//! One trie holds both sets, so that one walk from each char finds both: the **terms**
//! (of a classifier's topics) are reported wherever they occur, overlapping (every rule
//! sees every occurrence); the **tone words** are chosen leftmost-longest, as a scan that
//! jumps past each word it takes (`不满意` is one word, not 不满 and 满意). A node says
//! which of the two end there. The tone's trie (20,700 words) is built once with its
//! scorer; a classifier's is a copy of it into which its terms are inserted (their chars
//! numbered on after the tone's), moving a node's children where a new child does not
//! fit: a reload, or a test, places a few hundred words, not twenty thousand.

use crate::classify::alphabet::Alphabet;
use crate::classify::normalize::HanTable;

/// A slot's `check` when no node owns it.
const FREE: u32 = u32::MAX;
/// The root's own slot (its children's `check`).
const ROOT: u32 = 0;
/// In `base`: the node ends a tone word (its id in `Trie::words`).
const WORD: u32 = 1 << 31;
/// In `base`: the node ends a term (its id in `Trie::terms`).
const TERM: u32 = 1 << 30;
/// The flags of `base`; the rest is the base itself.
const FLAGS: u32 = WORD | TERM;
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
    /// For a slot flagged `WORD`: the id of the tone word that ends there.
    words: Vec<u32>,
    /// For a slot flagged `TERM`: the id of the term that ends there (empty in a trie of
    /// tone words alone).
    terms: Vec<u32>,
}

/// A tone word found by [`Dictionary::walk`]: (word, start, end) in chars.
pub(super) type ToneHit = (u32, u32, u32);

/// A node of the trie while it is built.
struct Node {
    children: Vec<(u32, u32)>,
    word: u32,
}

impl Node {
    /// The trie of `words` as nodes with sorted children, the root first.
    fn tree(words: &[String], alphabet: &Alphabet) -> Vec<Node> {
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

        nodes
    }
}

impl Trie {
    /// The trie of `words` (each folded and not empty; a duplicate keeps the last id),
    /// coded by `alphabet`. Word ids are their indexes.
    fn new(words: &[String], alphabet: &Alphabet) -> Trie {
        let nodes = Node::tree(words, alphabet);

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
            root: place.slots[ROOT as usize].base & !FLAGS,
            slots: place.slots,
            words: place.words,
            terms: Vec::new(),
        }
    }

    /// This trie with `terms` (folded, not empty, distinct; coded by `alphabet`, which
    /// extends this trie's) inserted, flagged `TERM`, their ids their indexes.
    ///
    /// A node's new children go into their slots `base + code` when those are free; when
    /// one is not, the node's children move to a base where old and new fit, and their
    /// own children are told where their parent went (the classic double-array
    /// insertion). The children of every node are listed once, up front, to move them.
    /// The copy is larger than a trie placed anew (the bench's 20,700 tone words and
    /// 10,000 terms: 83,792 slots, 67% of them used), but placing anew takes each
    /// classifier (each reload, each test) the tone's twenty thousand words again.
    fn with_terms(&self, terms: &[String], alphabet: &Alphabet) -> Trie {
        let nodes = Node::tree(terms, alphabet);
        let mut place = Placement::resume(self, alphabet.max_code());
        let mut kids: Vec<Vec<u32>> = vec![Vec::new(); place.slots.len()];
        for (s, slot) in place.slots.iter().enumerate() {
            if s != ROOT as usize && slot.check != FREE {
                let parent = slot.check as usize;
                let base = place.slots[parent].base & !FLAGS;
                kids[parent].push(s as u32 - base);
            }
        }
        // Breadth first, the terms' nodes beside the trie's: a node of the trie gets all
        // its new children at once, so that its children move once at most, and a node's
        // slot is final before its own children are placed.
        let mut queue = std::collections::VecDeque::from([(0usize, ROOT as usize)]);
        let mut new = Vec::new();
        while let Some((n, at)) = queue.pop_front() {
            let node = &nodes[n];
            if node.word != NONE {
                place.slots[at].base |= TERM;
                place.terms[at] = node.word;
            }
            new.clear();
            new.extend(
                node.children
                    .iter()
                    .map(|&(c, _)| c)
                    .filter(|c| kids[at].binary_search(c).is_err()),
            );
            if !new.is_empty() {
                place.add_children(&mut kids, at, &new);
            }
            let base = place.slots[at].base & !FLAGS;
            queue.extend(
                node.children
                    .iter()
                    .map(|&(code, child)| (child as usize, (base + code) as usize)),
            );
        }
        place.finish();
        Trie {
            root: place.slots[ROOT as usize].base & !FLAGS,
            slots: place.slots,
            words: place.words,
            terms: place.terms,
        }
    }

    /// Every node that ends a word (a tone word, a term or both) on the way from
    /// `codes[i]`, shortest first: `found(base, slot, end)`, `base` with its flags.
    #[inline]
    fn from(&self, codes: &[u32], i: usize, mut found: impl FnMut(u32, usize, usize)) {
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
            if slot.base & FLAGS != 0 {
                found(slot.base, at, j + 1);
            }
            j += 1;
            let Some(&code) = codes.get(j) else { return };
            let next = ((slot.base & !FLAGS) + code) as usize;
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
    /// The tone words, and in a classifier's the terms.
    trie: Trie,
}

impl Dictionary {
    /// A tone scorer's dictionary: its words alone.
    pub fn of_tone(tone: &[String]) -> Dictionary {
        let alphabet = Alphabet::new(tone.iter().map(|s| s.as_str()));
        Dictionary {
            trie: Trie::new(tone, &alphabet),
            han: HanTable::new(|c| alphabet.code(c)),
            alphabet,
        }
    }

    /// A classifier's dictionary: `terms` (folded, not empty, distinct), beside the tone
    /// words of `tone` (a scorer's dictionary).
    pub fn with_terms(tone: &Dictionary, terms: &[String]) -> Dictionary {
        let alphabet = tone.alphabet.extended(terms.iter().map(|s| s.as_str()));
        Dictionary {
            trie: tone.trie.with_terms(terms, &alphabet),
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

    /// Walks the trie from every char of `codes`: `term(id, start, end)` (in chars) for
    /// every occurrence of every term (in order of start, then end), and the tone words
    /// leftmost-longest into `tone`.
    ///
    /// One walk a char serves both: the second step's slot, which is where a walk's time
    /// goes (a read anywhere in the array), is read once, not once a trie.
    pub fn walk(
        &self,
        codes: &[u32],
        mut term: impl FnMut(u32, u32, u32),
        tone: &mut Vec<ToneHit>,
    ) {
        let trie = &self.trie;
        // Leftmost-longest: a tone word taken covers its chars; the next is looked for
        // from `covered` on.
        let mut covered = 0;
        for (i, &code) in codes.iter().enumerate() {
            if code == 0 {
                continue;
            }
            let open = i >= covered;
            let mut longest: Option<(u32, usize)> = None;
            trie.from(codes, i, |flags, at, end| {
                if flags & TERM != 0 {
                    term(trie.terms[at], i as u32, end as u32);
                }
                if open && flags & WORD != 0 {
                    longest = Some((trie.words[at], end));
                }
            });
            if let Some((w, end)) = longest {
                tone.push((w, i as u32, end as u32));
                covered = end;
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
    terms: Vec<u32>,
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
            terms: Vec::new(),
            next_free: Vec::new(),
            max_code,
            several_from: 0,
        };
        p.grow(1);
        p.slots[ROOT as usize].check = ROOT;
        p.next_free[0] = 1;
        p
    }

    /// Placing goes on in a copy of `trie`, with codes up to `max_code`.
    fn resume(trie: &Trie, max_code: u32) -> Placement {
        let len = trie.slots.len();
        let free = |i: usize| trie.slots[i].check == FREE;
        Placement {
            slots: trie.slots.clone(),
            words: trie.words.clone(),
            terms: if trie.terms.is_empty() {
                vec![NONE; len]
            } else {
                trie.terms.clone()
            },
            next_free: (0..len)
                .map(|i| if free(i) { i as u32 } else { i as u32 + 1 })
                .collect(),
            max_code,
            several_from: 0,
        }
    }

    /// Gives the node at slot `at` children coded `new` (sorted, none of them a child
    /// yet): into their slots at its base if all are free, else all its children move
    /// to a base where old and new fit. `kids` lists each node's children's codes,
    /// sorted, and is kept so.
    fn add_children(&mut self, kids: &mut Vec<Vec<u32>>, at: usize, new: &[u32]) {
        let base = self.slots[at].base & !FLAGS;
        let free = |p: &Placement, c: u32| {
            p.slots
                .get((base + c) as usize)
                .is_none_or(|s| s.check == FREE)
        };
        let base = if kids[at].is_empty() {
            let pairs: Vec<(u32, u32)> = new.iter().map(|&c| (c, 0)).collect();
            let b = self.find_base(&pairs);
            self.set_base(at, b);
            b
        } else if new.iter().all(|&c| free(self, c)) {
            base
        } else {
            self.move_children(kids, at, new)
        };
        for &c in new {
            self.take((base + c) as usize, at as u32);
        }
        if kids.len() < self.slots.len() {
            kids.resize(self.slots.len(), Vec::new());
        }
        let list = &mut kids[at];
        list.extend_from_slice(new);
        list.sort_unstable();
    }

    fn set_base(&mut self, at: usize, base: u32) {
        let flags = self.slots[at].base & FLAGS;
        self.slots[at].base = base | flags;
    }

    /// Moves the children of the node at `at` to a base where they and new children
    /// coded `more` all fit; returns the base. Each moved child keeps its flags and word
    /// ids, and its own children are told where it went.
    fn move_children(&mut self, kids: &mut Vec<Vec<u32>>, at: usize, more: &[u32]) -> u32 {
        let old = self.slots[at].base & !FLAGS;
        let mut codes: Vec<(u32, u32)> = kids[at].iter().chain(more).map(|&c| (c, 0)).collect();
        codes.sort_unstable();
        let new = self.find_base(&codes);
        if kids.len() < self.slots.len() {
            kids.resize(self.slots.len(), Vec::new());
        }
        for &c in &kids[at].clone() {
            let (from, to) = ((old + c) as usize, (new + c) as usize);
            self.take(to, at as u32);
            self.slots[to].base = self.slots[from].base;
            self.words[to] = self.words[from];
            self.terms[to] = self.terms[from];
            let grand = self.slots[from].base & !FLAGS;
            for &g in &kids[from] {
                self.slots[(grand + g) as usize].check = to as u32;
            }
            kids[to] = std::mem::take(&mut kids[from]);
            // The old slot is free again (`free_from`, which only moves forward, may not
            // offer it again: a little room lost, nothing wrong).
            self.slots[from] = Slot {
                base: 0,
                check: FREE,
            };
            self.words[from] = NONE;
            self.terms[from] = NONE;
        }
        self.set_base(at, new);
        new
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
        self.terms.resize(len, NONE);
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
            .map(|s| (s.base & !FLAGS) as usize)
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

    /// Hundreds of terms into a trie of hundreds of tone words, over chars of which some
    /// are in terms only: most insertions find their slot taken and move a node's
    /// children (the root's too), with children of their own.
    #[test]
    fn terms_inserted_among_many_tone_words_agree_with_brute_force() {
        let pool: Vec<char> = "景区踩踏不满意见是的游客投诉门票价格酒店服务差好"
            .chars()
            .collect();
        let terms_only: Vec<char> = "坍塌溺水火灾中毒abc".chars().collect();
        let mut next = crate::classify::xorshift(0x9E37_79B9_7F4A_7C15);
        for round in 0..6 {
            let mut words = |count: usize, max: usize, extra: &[char]| -> Vec<String> {
                let mut out: Vec<String> = (0..count)
                    .map(|_| {
                        let len = 1 + next(max);
                        (0..len)
                            .map(|_| match next(4) {
                                0 if !extra.is_empty() => extra[next(extra.len())],
                                _ => pool[next(pool.len())],
                            })
                            .collect()
                    })
                    .collect();
                out.sort();
                out.dedup();
                out
            };
            let tone = words(400, 4, &[]);
            let terms = words(300, 5, &terms_only);
            let d = Dictionary::with_terms(&Dictionary::of_tone(&tone), &terms);
            for _ in 0..40 {
                let text: String = (0..next(60))
                    .map(|_| match next(6) {
                        0 => terms_only[next(terms_only.len())],
                        _ => pool[next(pool.len())],
                    })
                    .collect();
                let (t, w) = run(&d, &text);
                assert_eq!(t, naive_terms(&terms, &text), "round {round}: {text}");
                assert_eq!(w, naive_tone(&tone, &text), "round {round}: {text}");
            }
            // The scorer's own dictionary is untouched by the terms put in the copy.
            let alone = Dictionary::of_tone(&tone);
            let text: String = (0..50).map(|_| pool[next(pool.len())]).collect();
            let mut codes = Vec::new();
            alone.encode(&text, &mut codes);
            let mut w = Vec::new();
            alone.tone_words(&codes, &mut w);
            assert_eq!(w, naive_tone(&tone, &text));
        }
    }
}
