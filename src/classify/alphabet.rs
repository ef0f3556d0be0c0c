//! A compact re-encoding of folded text for the term automaton.
//!
//! Chinese is three bytes a character in UTF-8, and an automaton over 10,000 Chinese terms
//! spends its time walking those bytes through tables that outgrow the cache. Watchlist
//! terms use only a few thousand distinct characters, so each character of the terms gets
//! a number, every other character shares number 0 (it can be part of no term), and text
//! and terms are written two bytes a character: `0x80 | code >> 7`, then `code & 0x7F`.
//! The two bytes come from disjoint ranges, so a term can only match at a character
//! boundary, and the character offset of a match is its byte offset halved — no index to
//! search.

use std::collections::HashMap;

/// At most this many distinct characters across all terms (14 bits).
const CAPACITY: usize = 1 << 14;

pub(super) struct Alphabet {
    /// Code of each BMP char; 0 for chars in no term.
    bmp: Vec<u16>,
    /// Codes of chars outside the BMP (rare in terms).
    astral: HashMap<char, u16>,
}

impl Alphabet {
    /// Numbers the characters of `terms`, most frequent first; `None` when there are more
    /// than the encoding can number (the caller then matches UTF-8 directly).
    pub fn new(terms: &[String]) -> Option<Alphabet> {
        let mut freq: HashMap<char, usize> = HashMap::new();
        for c in terms.iter().flat_map(|t| t.chars()) {
            *freq.entry(c).or_default() += 1;
        }
        if freq.len() >= CAPACITY {
            return None;
        }
        let mut chars: Vec<(char, usize)> = freq.into_iter().collect();
        chars.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let mut alphabet = Alphabet {
            bmp: vec![0; 0x10000],
            astral: HashMap::new(),
        };
        for (i, (c, _)) in chars.into_iter().enumerate() {
            let code = (i + 1) as u16;
            match alphabet.bmp.get_mut(c as usize) {
                Some(slot) => *slot = code,
                None => {
                    alphabet.astral.insert(c, code);
                }
            }
        }
        Some(alphabet)
    }

    #[inline]
    fn code(&self, c: char) -> u16 {
        match self.bmp.get(c as usize) {
            Some(&code) => code,
            None => self.astral.get(&c).copied().unwrap_or(0),
        }
    }

    /// Appends the encoding of `text` to `out`: exactly two bytes per char.
    pub fn encode(&self, text: &str, out: &mut Vec<u8>) {
        out.reserve(text.len());
        for c in text.chars() {
            let code = self.code(c);
            out.push(0x80 | (code >> 7) as u8);
            out.push((code & 0x7F) as u8);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_match_only_at_char_boundaries() {
        let a = Alphabet::new(&["景区".into(), "区景".into()]).expect("small");
        let mut text = Vec::new();
        a.encode("x景区y", &mut text);
        assert_eq!(text.len(), 8);
        let mut term = Vec::new();
        a.encode("景区", &mut term);
        let at = text.windows(4).position(|w| w == term.as_slice());
        assert_eq!(at, Some(2));
        // Unknown chars share code 0, which no term contains.
        let mut unknown = Vec::new();
        a.encode("xy", &mut unknown);
        assert_eq!(unknown, [0x80, 0, 0x80, 0]);
    }
}
