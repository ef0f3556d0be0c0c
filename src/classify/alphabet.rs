//! A number for each character of the words the matcher looks for.
//!
//! Watchlist terms and tone words use only a few thousand distinct characters, so each
//! of them gets a small number, most frequent first, and every other character shares
//! number 0 (it can be part of no word). The dictionary's trie is indexed by these
//! numbers, so it stays dense and small enough for the cache.

use std::collections::HashMap;

/// In `Alphabet::bmp`: the char's code is in `astral`.
const WIDE: u16 = u16::MAX;

pub(super) struct Alphabet {
    /// Code of each BMP char; 0 for chars in no word, `WIDE` for a char whose code does
    /// not fit (found in `astral`). Two bytes a char, not four: the text's every char is
    /// looked up here, and half the table is half the cache misses.
    bmp: Vec<u16>,
    /// Codes of chars outside the BMP (rare in words), and of BMP chars with a code of
    /// `WIDE` or more (an alphabet of more than 65,534 chars).
    astral: HashMap<char, u32>,
    /// The largest code.
    len: u32,
}

impl Alphabet {
    /// Numbers the characters of `words`, most frequent first, from 1.
    pub fn new<'a>(words: impl Iterator<Item = &'a str>) -> Alphabet {
        Alphabet {
            bmp: vec![0u16; 0x10000],
            astral: HashMap::new(),
            len: 0,
        }
        .extended(words)
    }

    /// This alphabet, with the characters of `words` that it has no code for numbered on
    /// after its own, most frequent first.
    pub fn extended<'a>(&self, words: impl Iterator<Item = &'a str>) -> Alphabet {
        let mut freq: HashMap<char, usize> = HashMap::new();
        for c in words.flat_map(|t| t.chars()) {
            if self.code(c) == 0 {
                *freq.entry(c).or_default() += 1;
            }
        }
        let mut chars: Vec<(char, usize)> = freq.into_iter().collect();
        chars.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let mut alphabet = Alphabet {
            bmp: self.bmp.clone(),
            astral: self.astral.clone(),
            len: self.len + chars.len() as u32,
        };
        for (i, (c, _)) in chars.into_iter().enumerate() {
            let code = self.len + (i + 1) as u32;
            match (alphabet.bmp.get_mut(c as usize), u16::try_from(code)) {
                (Some(slot), Ok(short)) if short < WIDE => *slot = short,
                (Some(slot), _) => {
                    *slot = WIDE;
                    alphabet.astral.insert(c, code);
                }
                (None, _) => {
                    alphabet.astral.insert(c, code);
                }
            }
        }
        alphabet
    }

    /// The code of `c`: 1 to `len()`, or 0 for a char in no word.
    #[inline]
    pub fn code(&self, c: char) -> u32 {
        match self.bmp.get(c as usize) {
            Some(&code) if code != WIDE => u32::from(code),
            _ => self.astral.get(&c).copied().unwrap_or(0),
        }
    }

    /// The largest code.
    pub fn max_code(&self) -> u32 {
        self.len
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frequent_chars_get_small_codes() {
        let a = Alphabet::new(["景区", "区景", "区", "𠀀"].into_iter());
        assert_eq!(a.code('区'), 1);
        assert_eq!(a.code('景'), 2);
        assert_eq!(a.code('𠀀'), 3);
        assert_eq!(a.max_code(), 3);
        // Chars in no word share code 0.
        assert_eq!(a.code('x'), 0);
        assert_eq!(a.code('𠀁'), 0);
        let b = a.extended(["景点", "点"].into_iter());
        assert_eq!((b.code('景'), b.code('点'), b.max_code()), (2, 4, 4));
    }

    #[test]
    fn codes_past_two_bytes_are_kept_aside() {
        // 70,000 distinct chars: the BMP's letters and ideographs run out of two-byte
        // codes, so the last are found in the map.
        let chars: Vec<String> = (0x3400u32..0x3_0000)
            .filter_map(char::from_u32)
            .filter(|c| c.is_alphanumeric())
            .take(70_000)
            .map(String::from)
            .collect();
        assert_eq!(chars.len(), 70_000);
        let a = Alphabet::new(chars.iter().map(|s| s.as_str()));
        assert_eq!(a.max_code(), 70_000);
        let mut codes: Vec<u32> = chars
            .iter()
            .map(|s| a.code(s.chars().next().unwrap_or_default()))
            .collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes, (1..=70_000).collect::<Vec<u32>>());
    }
}
