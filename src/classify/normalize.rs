//! Folds text and watchlist terms to one comparable form, remembering where every folded
//! character came from.
//!
//! Pages reach us as Traditional or Simplified characters, full-width or half-width,
//! with HTML entities, zero-width joiners, stray spaces inside Chinese words, and — on some
//! government sites — inline pinyin such as `盤(pán)縣`. An operator writes `景区` once and
//! expects it to match all of those. So before matching, text and terms go through the
//! same fold:
//!
//! 1. HTML entities are decoded (`&amp;`, `&#x4E00;`, `&nbsp;`);
//! 2. NFKC, per base character with its combining marks (full-width `ＡＢＣ１` → `ABC1`);
//! 3. lower-case;
//! 4. inline pinyin right after a Chinese character is dropped: `(pán)` with at least one
//!    tone mark, so `盤(pán)山縣` reads `盤山縣` but `微信(WeChat)` is kept;
//! 5. zero-width characters are dropped; a run of whitespace next to a CJK character is
//!    dropped, any other run becomes one space;
//! 6. Traditional → Simplified with `fast2s`, which is character-for-character.
//!
//! Every character of the folded text keeps the range of original characters it came
//! from, so evidence can point at the exact words of the text as given. The fold is applied
//! to terms by [`normalize_term`], so a term and the text it should match always agree.

use unicode_normalization::char::canonical_combining_class;
use unicode_normalization::UnicodeNormalization;

/// Text after folding, with the way back to the original.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Normalized {
    pub text: String,
    /// For each char of `text`: the original char range `[start, end)` it came from.
    spans: Vec<(u32, u32)>,
}

impl Normalized {
    /// Number of chars in the folded text.
    pub fn char_len(&self) -> usize {
        self.spans.len()
    }

    /// The original char range covered by folded chars `[norm_char_start, norm_char_end)`.
    /// Out-of-range or empty input gives an empty range at the nearest valid position
    /// rather than a panic: evidence must never take the daemon down.
    pub fn original_range(&self, norm_char_start: usize, norm_char_end: usize) -> (usize, usize) {
        let n = self.spans.len();
        if n == 0 {
            return (0, 0);
        }
        if norm_char_start >= n {
            let end = self.spans[n - 1].1 as usize;
            return (end, end);
        }
        let start = self.spans[norm_char_start].0 as usize;
        if norm_char_end <= norm_char_start {
            return (start, start);
        }
        let end = self.spans[norm_char_end.min(n) - 1].1 as usize;
        (start, end.max(start))
    }

    /// Char index in `text` of the char that starts at (or contains) byte `byte`; the
    /// char count for `byte >= text.len()`, so match ends convert too. Counts chars, so
    /// it is meant for a few offsets (regex matches), not for every hit.
    pub fn char_at_byte(&self, byte: usize) -> usize {
        let mut b = byte.min(self.text.len());
        while !self.text.is_char_boundary(b) {
            b -= 1;
        }
        self.text[..b].chars().count()
    }

    /// Folded text without the way back: offsets into it are valid, `original_range` is
    /// not. For matching, when evidence may never be needed.
    pub(crate) fn unmapped(text: String) -> Normalized {
        Normalized {
            text,
            spans: Vec::new(),
        }
    }
}

/// Pushes folded chars, converting Traditional → Simplified on the way. fast2s decides a
/// few chars by their (unconverted) neighbours; those wait for their next neighbour.
struct Simplifier<'t> {
    table: &'t [u32],
    prev_raw: Option<char>,
    /// Contextual chars: (byte offset in text, prev, char, next) with unconverted neighbours.
    pending: Vec<(usize, Option<char>, char, Option<char>)>,
}

impl Simplifier<'_> {
    #[inline]
    fn push(&mut self, text: &mut String, c: char) {
        if let Some(last) = self.pending.last_mut() {
            if last.3.is_none()
                && self.prev_raw == Some(last.2)
                && text.len() == last.0 + last.2.len_utf8()
            {
                last.3 = Some(c);
            }
        }
        let cp = c as u32;
        let converted = match self.table.get((cp as usize).wrapping_sub(0x800)) {
            Some(&v) if v & CONTEXT_FLAG != 0 => {
                self.pending.push((text.len(), self.prev_raw, c, None));
                c
            }
            Some(&v) => char::from_u32(v).unwrap_or(c),
            None => c,
        };
        self.prev_raw = Some(c);
        text.push(converted);
    }

    fn finish(self, text: &mut String) {
        for (at, prev, c, next) in self.pending {
            let s = convert_in_context(prev, c, next);
            if s != c && s.len_utf8() == c.len_utf8() {
                let mut buf = [0u8; 4];
                text.replace_range(at..at + c.len_utf8(), s.encode_utf8(&mut buf));
            }
        }
    }
}

/// Steps 4–6 as folded chars stream in from steps 1–3: no intermediate buffer. Spans are
/// recorded only when `SPANS`; matching alone does not need them.
struct Tail<'t, const SPANS: bool> {
    text: String,
    spans: Vec<(u32, u32)>,
    simplifier: Simplifier<'t>,
    /// Span of the first char of a whitespace run not yet decided on (the run waits for
    /// the char after it).
    space: Option<(u32, u32)>,
    /// A `(` after a Chinese char and what follows it, while it may still be inline pinyin.
    paren: Vec<(char, (u32, u32))>,
    toned: bool,
}

impl<const SPANS: bool> Tail<'_, SPANS> {
    #[inline]
    fn emit(&mut self, c: char, span: (u32, u32)) {
        self.simplifier.push(&mut self.text, c);
        if SPANS {
            self.spans.push(span);
        }
    }

    #[inline]
    fn last_is(&self, class: fn(char) -> bool) -> bool {
        self.text.chars().next_back().is_some_and(class)
    }

    /// Takes the next folded char.
    #[inline]
    fn feed(&mut self, c: char, span: (u32, u32)) {
        if !self.paren.is_empty() {
            return self.feed_paren(c, span);
        }
        if let Some(first) = self.space {
            if is_space(c) || is_zero_width(c) {
                return;
            }
            self.space = None;
            if !self.last_is(is_cjk) && !is_cjk(c) {
                self.emit(' ', first);
            }
        }
        if is_zero_width(c) {
            return;
        }
        if is_space(c) {
            self.space = Some(span);
            return;
        }
        if c == '(' && self.last_is(is_han) {
            self.paren.push((c, span));
            self.toned = false;
            return;
        }
        self.emit(c, span);
    }

    /// Inline pinyin: `(`, at most seven lower-case letters of which one has a tone mark,
    /// `)`. Anything else is given back as ordinary text.
    #[cold]
    fn feed_paren(&mut self, c: char, span: (u32, u32)) {
        self.paren.push((c, span));
        let i = self.paren.len() - 1;
        match c {
            ')' if self.toned && i > 1 => {
                self.paren.clear();
                return;
            }
            ')' => {}
            'a'..='z' | 'ü' if i < 8 => return,
            c if i < 8 && is_toned_vowel(c) => {
                self.toned = true;
                return;
            }
            _ => {}
        }
        self.give_back();
    }

    /// Replays a `(` that turned out not to open inline pinyin, and what followed it.
    #[cold]
    fn give_back(&mut self) {
        let held = std::mem::take(&mut self.paren);
        let mut rest = held.into_iter();
        if let Some((c, span)) = rest.next() {
            self.emit(c, span);
        }
        for (c, span) in rest {
            self.feed(c, span);
        }
    }

    fn finish(mut self) -> (String, Vec<(u32, u32)>) {
        while !self.paren.is_empty() {
            self.give_back();
        }
        if let Some(first) = self.space.take() {
            if !self.last_is(is_cjk) {
                self.emit(' ', first);
            }
        }
        self.simplifier.finish(&mut self.text);
        (self.text, self.spans)
    }
}

/// Folds `original` for matching; see the module documentation for the steps.
pub fn normalize(original: &str) -> Normalized {
    let (text, spans) = fold::<true>(original);
    Normalized { text, spans }
}

/// The folded text alone, as [`normalize`] gives it, without recording where each char
/// came from: what matching needs when no evidence is asked for.
pub fn normalize_text(original: &str) -> String {
    fold::<false>(original).0
}

/// The same fold for a watchlist term, trimmed: the form the matcher searches for. An
/// empty result means the term can never match anything, which `yuqing check` rejects.
pub fn normalize_term(term: &str) -> String {
    normalize(term).text.trim().to_string()
}

/// Folds a watchlist regex: Traditional → Simplified only, because NFKC or case folding
/// would change what a pattern means (`（` is a literal, `(` opens a group). Case is
/// handled by compiling the regex case-insensitively.
pub fn fold_pattern(pattern: &str) -> String {
    let mut s = pattern.to_string();
    to_simplified(&mut s);
    s
}

/// Steps 1–3: entities, NFKC, lower-case; each output char with its original char range
/// goes straight on to steps 4–6.
fn fold<const SPANS: bool>(original: &str) -> (String, Vec<(u32, u32)>) {
    let mut tail = Tail::<SPANS> {
        text: String::with_capacity(original.len()),
        spans: if SPANS {
            Vec::with_capacity(original.len() / 2 + 8)
        } else {
            Vec::new()
        },
        simplifier: Simplifier {
            table: t2s_table(),
            prev_raw: None,
            pending: Vec::new(),
        },
        space: None,
        paren: Vec::new(),
        toned: false,
    };
    let out = &mut tail;
    let mut chars = original.char_indices().peekable();
    let mut pos: u32 = 0; // char offset in `original` of the char being read
    while let Some((byte, c)) = chars.next() {
        // Fast paths: ASCII and the CJK Unified Ideographs block are NFKC-stable, have no
        // combining class and (Han) no case; they are nearly all of what we read.
        let next_is_mark = chars
            .peek()
            .is_some_and(|&(_, n)| !is_plain(n) && canonical_combining_class(n) != 0);
        if c == '&' {
            if let Some((decoded, len_bytes, len_chars)) = decode_entity(&original[byte..]) {
                for _ in 1..len_chars {
                    chars.next();
                }
                let span = (pos, pos + len_chars as u32);
                for d in decoded.chars() {
                    fold_one(d, span, out);
                }
                pos += len_chars as u32;
                debug_assert!(len_bytes > 1);
                continue;
            }
        }
        if !next_is_mark {
            fold_one(c, (pos, pos + 1), out);
            pos += 1;
            continue;
        }
        // A base char with combining marks: NFKC the whole cluster (e.g. `a` + U+0301 → `á`).
        let mut cluster = String::new();
        cluster.push(c);
        let start = pos;
        pos += 1;
        while let Some(&(_, n)) = chars.peek() {
            if is_plain(n) || canonical_combining_class(n) == 0 {
                break;
            }
            cluster.push(n);
            chars.next();
            pos += 1;
        }
        for d in cluster.nfkc() {
            push_lower(d, (start, pos), out);
        }
    }
    tail.finish()
}

/// NFKC and lower-case one char (without combining marks after it).
#[inline]
fn fold_one<const S: bool>(c: char, span: (u32, u32), out: &mut Tail<'_, S>) {
    if c.is_ascii() {
        out.feed(c.to_ascii_lowercase(), span);
    } else if ('\u{4E00}'..='\u{9FFF}').contains(&c) {
        out.feed(c, span);
    } else if ('\u{FF01}'..='\u{FF5E}').contains(&c) {
        // Full-width ASCII: NFKC is exactly this shift.
        let half = char::from_u32(c as u32 - 0xFEE0).unwrap_or(c);
        out.feed(half.to_ascii_lowercase(), span);
    } else {
        for d in std::iter::once(c).nfkc() {
            push_lower(d, span, out);
        }
    }
}

#[inline]
fn push_lower<const S: bool>(c: char, span: (u32, u32), out: &mut Tail<'_, S>) {
    if c.is_ascii() {
        out.feed(c.to_ascii_lowercase(), span);
    } else {
        for l in c.to_lowercase() {
            out.feed(l, span);
        }
    }
}

/// Chars known to need no NFKC composition with a following mark and to be no mark.
#[inline]
fn is_plain(c: char) -> bool {
    c.is_ascii() || ('\u{4E00}'..='\u{9FFF}').contains(&c)
}

/// Decodes one HTML entity at the start of `s` (which starts with `&`). Returns the
/// decoded text, the entity's length in bytes and in chars.
fn decode_entity(s: &str) -> Option<(String, usize, usize)> {
    // Entities are ASCII: `&name;`, `&#123;`, `&#x1F;`; the longest named one is 33 bytes.
    let end = s
        .bytes()
        .take(40)
        .skip(1)
        .position(|b| !(b.is_ascii_alphanumeric() || b == b'#'))?
        + 1;
    if end < 2 || s.as_bytes().get(end) != Some(&b';') {
        return None;
    }
    let entity = &s[..=end];
    let decoded = html_escape::decode_html_entities(entity);
    if decoded == entity || decoded.is_empty() {
        return None;
    }
    Some((decoded.into_owned(), entity.len(), entity.len()))
}

fn is_toned_vowel(c: char) -> bool {
    "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜńňǹḿ".contains(c)
}

/// Whitespace; nothing above U+3000 is, so Chinese skips the table lookup.
#[inline]
fn is_space(c: char) -> bool {
    c <= '\u{3000}' && c.is_whitespace()
}

/// Zero-width and invisible formatting characters that break a word without being seen.
fn is_zero_width(c: char) -> bool {
    matches!(
        c,
        '\u{200B}'..='\u{200F}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}' | '\u{00AD}' | '\u{180E}'
    )
}

/// Han ideographs (all CJK blocks, including extensions and compatibility forms).
pub fn is_han(c: char) -> bool {
    matches!(c,
        '\u{3400}'..='\u{4DBF}'
        | '\u{4E00}'..='\u{9FFF}'
        | '\u{F900}'..='\u{FAFF}'
        | '\u{20000}'..='\u{323AF}')
}

/// Chinese or Japanese script and CJK punctuation: text in which spaces carry no meaning.
fn is_cjk(c: char) -> bool {
    is_han(c) || matches!(c, '\u{3000}'..='\u{30FF}' | '\u{FF00}'..='\u{FFEF}')
}

/// Chars that `fast2s` converts depending on their neighbours (its T2S_EXCLUDE and
/// T2S_SPECIAL_CONVERT_TYPE tables); every other char converts on its own.
const CONTEXTUAL: &[char] = &[
    '兒', '覆', '夥', '藉', '瞭', '麽', '幺', '於', '乾', '著', '苧', '闔', '鍾', '讎', '畫',
];

/// Marks a contextual char in the table.
const CONTEXT_FLAG: u32 = 1 << 31;

/// A table of fast2s's per-char conversion for the BMP's three-byte range (U+0800 up),
/// built once: fast2s does two to three hash lookups per char, which would dominate the
/// fold. Contextual chars carry `CONTEXT_FLAG`.
fn t2s_table() -> &'static [u32] {
    static TABLE: std::sync::OnceLock<Vec<u32>> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        let mut table = Vec::with_capacity(0x10000 - 0x800);
        let mut buf = String::with_capacity(4);
        for cp in 0x800u32..0x10000 {
            let c = char::from_u32(cp).unwrap_or('\u{FFFD}');
            if CONTEXTUAL.contains(&c) {
                table.push(cp | CONTEXT_FLAG);
                continue;
            }
            if !is_han(c) {
                table.push(cp);
                continue;
            }
            buf.clear();
            buf.push(c);
            let converted = fast2s::convert(&buf);
            let mut it = converted.chars();
            table.push(match (it.next(), it.next()) {
                (Some(s), None) => s as u32,
                _ => cp,
            });
        }
        table
    })
}

/// Traditional → Simplified in place, char for char (the char count never changes).
fn to_simplified(text: &mut String) {
    if text.is_ascii() {
        return;
    }
    let mut out = String::with_capacity(text.len());
    let mut simplifier = Simplifier {
        table: t2s_table(),
        prev_raw: None,
        pending: Vec::new(),
    };
    for c in text.chars() {
        simplifier.push(&mut out, c);
    }
    simplifier.finish(&mut out);
    *text = out;
}

/// fast2s's own rule for a contextual char, given the same neighbours it would see.
fn convert_in_context(prev: Option<char>, c: char, next: Option<char>) -> char {
    let mut window = String::with_capacity(12);
    window.extend(prev);
    window.push(c);
    window.extend(next);
    let converted: Vec<char> = fast2s::convert(&window).chars().collect();
    let at = usize::from(prev.is_some());
    converted.get(at).copied().unwrap_or(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn orig(text: &str, n: &Normalized, s: usize, e: usize) -> String {
        let (a, b) = n.original_range(s, e);
        text.chars().skip(a).take(b - a).collect()
    }

    #[test]
    fn folds_as_documented() {
        let table = [
            ("景區發生踩踏", "景区发生踩踏"),
            ("ＡＢＣ１２３，", "abc123,"),
            ("盤(pán)縣政辦發(fā)", "盘县政办发"),
            ("盤（pán）山縣", "盘山县"),
            ("微信(WeChat)", "微信(wechat)"),
            ("景\u{200B}区", "景区"),
            ("景 区  踩\n踏", "景区踩踏"),
            ("hello   \t world", "hello world"),
            ("a&amp;b &#x666F;&#21306;", "a&b景区"),
            ("AT&T; x", "at&t; x"),
            ("e\u{301}", "é"),
            ("２０２１年　10月", "2021年10月"),
            ("", ""),
        ];
        for (input, want) in table {
            assert_eq!(normalize(input).text, want, "input {input:?}");
            assert_eq!(normalize_text(input), want, "input {input:?}");
        }
    }

    #[test]
    fn held_back_text_is_given_back() {
        // A `(` after a Chinese char waits to see whether it opens inline pinyin.
        for (input, want) in [
            ("盤(pán", "盘(pán"),
            ("盤(pan)", "盘(pan)"),
            ("盤()", "盘()"),
            ("盤(pánpánpán)", "盘(pánpánpán)"),
            ("盤(pá n)", "盘(pá n)"),
            ("盤(pá 縣)", "盘(pá县)"),
            ("盤(pá(pán)", "盘(pá(pán)"),
            ("盤 ", "盘"),
            ("a \u{200B} ", "a "),
        ] {
            let n = normalize(input);
            assert_eq!(n.text, want, "input {input:?}");
            assert_eq!(n.char_len(), want.chars().count(), "input {input:?}");
            assert_eq!(normalize_text(input), want, "input {input:?}");
        }
    }

    #[test]
    fn offsets_point_into_the_original() {
        let text = "通知：盤(pán)山縣景&#21306;發生踩\u{200B}踏";
        let n = normalize(text);
        assert_eq!(n.text, "通知:盘山县景区发生踩踏");
        let find = |needle: &str| {
            let b = n.text.find(needle).unwrap();
            let s = n.char_at_byte(b);
            (s, s + needle.chars().count())
        };
        let (s, e) = find("盘山县");
        assert_eq!(orig(text, &n, s, e), "盤(pán)山縣");
        let (s, e) = find("景区");
        assert_eq!(orig(text, &n, s, e), "景&#21306;");
        let (s, e) = find("踩踏");
        assert_eq!(orig(text, &n, s, e), "踩\u{200B}踏");
    }

    #[test]
    fn original_range_never_panics() {
        let n = normalize("ab");
        assert_eq!(n.original_range(5, 9), (2, 2));
        assert_eq!(n.original_range(1, 0), (1, 1));
        assert_eq!(normalize("").original_range(0, 3), (0, 0));
    }

    #[test]
    fn terms_fold_like_text() {
        assert_eq!(normalize_term(" 景區 "), "景区");
        assert_eq!(normalize_term("\u{200B}"), "");
        assert_eq!(normalize_term("ＡＢＣ News"), "abc news");
    }

    #[test]
    fn table_conversion_agrees_with_fast2s() {
        let sample =
            "盤山縣人民政府辦公室關於印發加強政府門戶網站及政務新媒體信息發布與審核備案工作的通知\
                      乾隆皇帝看著計畫書，慰藉答覆甚夥，瞭望幺麽";
        let mut ours = sample.to_string();
        to_simplified(&mut ours);
        assert_eq!(ours, fast2s::convert(sample));
        for part in sample.split('，') {
            assert_eq!(normalize(part).text, fast2s::convert(part), "{part}");
        }
    }
}
