//! Literals a regex cannot match without: the gate that keeps regexes off most texts.
//!
//! Running the regex set over every item costs as much as the term matcher, yet most
//! watchlist regexes name a Chinese word (`死亡\d+人`) that most items do not contain. For
//! each regex this finds a set of literal strings of which every match must contain at
//! least one; the literals join the terms' dictionary, and a regex runs only on texts where
//! one of its literals occurs.
//!
//! The parser is deliberately small and conservative: it understands plain chars,
//! escapes of meta characters, classes, groups, alternation and repetition, and gives up
//! (`None`: the regex always runs) on anything else — flags other than `i`, `\x`, `\u`,
//! nested classes and so on. A literal is made only of chars that case-insensitive
//! matching cannot change (Han and ASCII other than letters), so its presence can be
//! checked byte for byte.

use crate::classify::normalize::is_han;

/// At least one of these occurs in every match of regex `source` (as compiled, with its
/// `(?i:…)` wrapper), or `None` when that cannot be shown.
pub(super) fn required(source: &str) -> Option<Vec<String>> {
    let chars: Vec<char> = source.chars().collect();
    let mut p = Parser { chars, at: 0 };
    let req = p.alternation()?;
    if p.at != p.chars.len() {
        return None;
    }
    req
}

/// A char whose case-insensitive match is itself only.
fn caseless(c: char) -> bool {
    is_han(c) || (c.is_ascii() && !c.is_ascii_alphabetic())
}

enum Atom {
    /// One caseless char.
    Lit(char),
    /// A group, with what it requires.
    Group(Option<Vec<String>>),
    /// Anything else: a class, `.`, an assertion, a cased letter.
    Other,
}

struct Parser {
    chars: Vec<char>,
    at: usize,
}

impl Parser {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.at).copied()
    }

    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    /// `a|b|…` up to `)` or the end. Outer `None`: unparsable; inner `None`: parsed, but
    /// nothing is required.
    fn alternation(&mut self) -> Option<Option<Vec<String>>> {
        let mut all = Some(Vec::new());
        loop {
            let branch = self.sequence()?;
            all = match (all, branch) {
                (Some(mut a), Some(b)) => {
                    a.extend(b);
                    Some(a)
                }
                _ => None,
            };
            if !self.eat('|') {
                break;
            }
        }
        Some(all.map(|mut a| {
            a.sort();
            a.dedup();
            a
        }))
    }

    /// A concatenation: the best of its runs of literal chars and its required groups.
    fn sequence(&mut self) -> Option<Option<Vec<String>>> {
        let mut candidates: Vec<Vec<String>> = Vec::new();
        let mut run = String::new();
        let close = |run: &mut String, candidates: &mut Vec<Vec<String>>| {
            if !run.is_empty() {
                candidates.push(vec![std::mem::take(run)]);
            }
        };
        while let Some(c) = self.peek() {
            if c == '|' || c == ')' {
                break;
            }
            let atom = self.atom()?;
            let (min, max) = self.repetition()?;
            match atom {
                Atom::Lit(c) if min == 1 && max == Some(1) => run.push(c),
                Atom::Lit(c) if min >= 1 => {
                    run.push(c);
                    close(&mut run, &mut candidates);
                }
                Atom::Group(Some(req)) if min >= 1 => {
                    close(&mut run, &mut candidates);
                    candidates.push(req);
                }
                _ => close(&mut run, &mut candidates),
            }
        }
        close(&mut run, &mut candidates);
        // The most selective: the longest shortest literal, then the fewest literals.
        let best = candidates.into_iter().max_by_key(|set| {
            let shortest = set.iter().map(|s| s.chars().count()).min().unwrap_or(0);
            (shortest, std::cmp::Reverse(set.len()))
        });
        Some(best.filter(|set| !set.is_empty() && set.iter().all(|s| !s.is_empty())))
    }

    fn atom(&mut self) -> Option<Atom> {
        let c = self.peek()?;
        self.at += 1;
        match c {
            '(' => {
                // `(?:` and `(?i:` only; flags, names, look-around: not understood.
                if self.eat('?') && !(self.eat(':') || (self.eat('i') && self.eat(':'))) {
                    return None;
                }
                let req = self.alternation()?;
                self.eat(')').then_some(Atom::Group(req))
            }
            '[' => self.class().then_some(Atom::Other),
            '\\' => {
                let e = self.peek()?;
                self.at += 1;
                match e {
                    'd' | 'D' | 'w' | 'W' | 's' | 'S' | 'b' | 'B' | 'A' | 'z' => Some(Atom::Other),
                    'p' | 'P' => {
                        if self.eat('{') {
                            while !self.eat('}') {
                                self.peek()?;
                                self.at += 1;
                            }
                        } else {
                            self.peek()?;
                            self.at += 1;
                        }
                        Some(Atom::Other)
                    }
                    // Meta chars only: `\<` and `\>` are word boundaries.
                    e if r"\.+*?()|[]{}^$#&-~".contains(e) => Some(Atom::Lit(e)),
                    _ => None,
                }
            }
            '.' | '^' | '$' => Some(Atom::Other),
            '*' | '+' | '?' | '{' | '}' | ']' => None,
            c if caseless(c) => Some(Atom::Lit(c)),
            _ => Some(Atom::Other),
        }
    }

    /// Skips a class after its `[`; false when it is one this parser does not read.
    fn class(&mut self) -> bool {
        self.eat('^');
        self.eat(']'); // a leading `]` is a literal
        loop {
            match self.peek() {
                None | Some('[') => return false,
                Some(']') => {
                    self.at += 1;
                    return true;
                }
                Some('\\') => self.at += 2,
                Some(_) => self.at += 1,
            }
        }
    }

    /// `*`, `+`, `?`, `{n}`, `{n,}`, `{n,m}` (each optionally lazy): (min, max).
    fn repetition(&mut self) -> Option<(u32, Option<u32>)> {
        let r = match self.peek() {
            Some('*') => (0, None),
            Some('+') => (1, None),
            Some('?') => (0, Some(1)),
            Some('{') => {
                self.at += 1;
                let min = self.number()?;
                let max = if self.eat(',') {
                    if self.peek() == Some('}') {
                        None
                    } else {
                        Some(self.number()?)
                    }
                } else {
                    Some(min)
                };
                if self.peek() != Some('}') {
                    return None;
                }
                (min, max)
            }
            _ => return Some((1, Some(1))),
        };
        self.at += 1;
        self.eat('?');
        if matches!(self.peek(), Some('*' | '+' | '?' | '{')) {
            return None; // stacked repetition: not ours to read
        }
        Some(r)
    }

    fn number(&mut self) -> Option<u32> {
        let start = self.at;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.at += 1;
        }
        let digits: String = self.chars[start..self.at].iter().collect();
        digits.parse().ok()
    }
}

#[cfg(test)]
mod tests {
    use super::required;

    fn req(p: &str) -> Option<Vec<String>> {
        required(&crate::classify::watchlist::regex_source(p))
    }

    fn set(xs: &[&str]) -> Option<Vec<String>> {
        Some(xs.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn finds_what_every_match_contains() {
        assert_eq!(req(r"死亡\d+人"), set(&["死亡"]));
        assert_eq!(req(r"景区.{0,6}踩踏事故"), set(&["踩踏事故"]));
        assert_eq!(req(r"(?:景区|酒店)\d{1,3}人"), set(&["景区", "酒店"]));
        assert_eq!(req(r"\d{4}年\d{1,2}月.{0,4}景区"), set(&["景区"]));
        assert_eq!(req(r"covid-\d+"), set(&["-"]));
        assert_eq!(req(r"景區"), set(&["景区"])); // folded like the compiled pattern
        assert!(req(r"景+区").is_some_and(|s| s == ["景"] || s == ["区"]));
        assert_eq!(req(r"[景区]\d+年"), set(&["年"]));
        assert_eq!(req(r"(景区)?踩踏"), set(&["踩踏"]));
        assert_eq!(req(r"a\.b"), set(&["."]));
    }

    #[test]
    fn gives_up_rather_than_guess() {
        for p in [
            r"(?x)景 区",
            r"(?-i:景区)",
            r"\x{666F}区",
            r"景区|\d+",
            r"(?:景区)*",
            r"景?",
            r"abc",
            r"[[:alpha:]]景",
            r"(?P<n>景区)",
            r"\<景区",
            r"景\b{start}",
            r"",
        ] {
            assert_eq!(req(p), None, "{p}");
        }
    }
}
