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

/// What the fold hands every char of the folded text to, in order, as soon as the char is
/// final, with its byte offset in the folded text: so that a caller can read the folded
/// chars while they are made instead of decoding the text again afterwards. A contextual
/// char (`CONTEXTUAL`) is final once its next neighbour is known, so it comes one push
/// late.
///
/// Runs of plain Han chars take a faster way ([`HanTable`]) and are handed to
/// [`FoldReader::read_han`] a piece at a time, with each char's code from the reader's
/// table, `'h` being how long that table lives.
pub(crate) trait FoldReader<'h> {
    fn read(&mut self, c: char, byte: usize);

    /// The table the fold's Han runs take each char's simplified form and code from; the
    /// codes are those the reader reads ([`HanTable::plain`]'s are all 0).
    fn han(&self) -> &'h HanTable {
        HanTable::plain()
    }

    /// [`FoldReader::read`] of each char of a run of chars of the Han block
    /// (U+4E00..U+9FFF), the first at byte `byte`, each three bytes long; with their
    /// codes in [`FoldReader::han`]'s table.
    #[inline(always)]
    fn read_han(&mut self, run: HanRun<'_>, byte: usize) {
        for (k, c) in run.chars().enumerate() {
            self.read(c, byte + 3 * k);
        }
    }
}

/// No reader: the fold alone.
impl FoldReader<'static> for () {
    #[inline(always)]
    fn read(&mut self, _: char, _: usize) {}

    #[inline(always)]
    fn read_han(&mut self, _: HanRun<'_>, _: usize) {}
}

impl<'h, T: FoldReader<'h>> FoldReader<'h> for &mut T {
    #[inline(always)]
    fn read(&mut self, c: char, byte: usize) {
        (**self).read(c, byte);
    }

    #[inline(always)]
    fn han(&self) -> &'h HanTable {
        (**self).han()
    }

    #[inline(always)]
    fn read_han(&mut self, run: HanRun<'_>, byte: usize) {
        (**self).read_han(run, byte);
    }
}

/// Pushes folded chars, converting Traditional → Simplified on the way, and hands each to
/// the reader once it is final. fast2s decides a few chars by their (unconverted)
/// neighbours; such a char waits for its next neighbour, which is the next push.
struct Simplifier<'t, R> {
    table: &'t FoldTable,
    prev_raw: Option<char>,
    /// A contextual char waiting for its next neighbour: (byte offset in text, prev, char),
    /// its neighbour unconverted. While it waits, the next push must go through
    /// [`Simplifier::push_entry`].
    held: Option<(usize, Option<char>, char)>,
    reader: R,
}

impl<'h, R: FoldReader<'h>> Simplifier<'_, R> {
    #[inline]
    fn push(&mut self, text: &mut String, c: char) {
        let entry = self.table.entry(c);
        self.push_entry(text, c, entry);
    }

    /// Whether a contextual char waits for the next push.
    #[inline(always)]
    fn open(&self) -> bool {
        self.held.is_some()
    }

    /// [`Simplifier::push`] of a char whose table entry is known.
    #[inline]
    fn push_entry(&mut self, text: &mut String, c: char, entry: u32) {
        if let Some((at, prev, held)) = self.held.take() {
            self.settle(text, at, prev, held, Some(c));
        }
        if entry & CONTEXTUAL_CHAR != 0 {
            self.held = Some((text.len(), self.prev_raw, c));
            text.push(c);
        } else {
            // A `FOLDED` entry's char is what the fold makes of `c`, not what `c`
            // simplifies to: `c` simplifies to itself.
            let converted = if entry & FOLDED != 0 {
                c
            } else {
                char::from_u32(entry & CHAR_BITS).unwrap_or(c)
            };
            self.reader.read(converted, text.len());
            text.push(converted);
        }
        self.prev_raw = Some(c);
    }

    /// [`Simplifier::push_entry`] of a char that converts on its own (no
    /// `CONTEXTUAL_CHAR`) when no contextual char waits for it (`!self.open()`): all
    /// that push would do.
    #[inline(always)]
    fn push_plain(&mut self, text: &mut String, c: char, entry: u32) {
        debug_assert!(!self.open() && entry & CONTEXTUAL_CHAR == 0);
        let converted = char::from_u32(entry & CHAR_BITS).unwrap_or(c);
        // What push would have been given: `c` folded (NFKC, lower case) first.
        self.prev_raw = Some(if entry & FOLDED != 0 { converted } else { c });
        self.reader.read(converted, text.len());
        text.push(converted);
    }

    /// Converts the contextual char `c` at byte `at`, now that its neighbours are known,
    /// and hands it on.
    #[cold]
    fn settle(
        &mut self,
        text: &mut String,
        at: usize,
        prev: Option<char>,
        c: char,
        next: Option<char>,
    ) {
        let s = convert_in_context(prev, c, next);
        let settled = if s != c && s.len_utf8() == c.len_utf8() {
            let mut buf = [0u8; 4];
            text.replace_range(at..at + c.len_utf8(), s.encode_utf8(&mut buf));
            s
        } else {
            c
        };
        self.reader.read(settled, at);
    }

    fn finish(mut self, text: &mut String) -> R {
        if let Some((at, prev, held)) = self.held.take() {
            self.settle(text, at, prev, held, None);
        }
        self.reader
    }
}

/// Steps 4–6 as folded chars stream in from steps 1–3: no intermediate buffer. Spans are
/// recorded only when `SPANS`; matching alone does not need them.
struct Tail<'t, const SPANS: bool, R> {
    text: String,
    spans: Vec<(u32, u32)>,
    simplifier: Simplifier<'t, R>,
    /// Span of the first char of a whitespace run not yet decided on (the run waits for
    /// the char after it).
    space: Option<(u32, u32)>,
    /// A `(` after a Chinese char and what follows it, while it may still be inline pinyin.
    paren: Vec<(char, (u32, u32))>,
    toned: bool,
}

impl<'h, const SPANS: bool, R: FoldReader<'h>> Tail<'_, SPANS, R> {
    #[inline]
    fn emit(&mut self, c: char, span: (u32, u32)) {
        self.simplifier.push(&mut self.text, c);
        if SPANS {
            self.spans.push(span);
        }
    }

    /// Whether a `SIMPLE` char with this table entry can be emitted by
    /// [`Tail::emit_simple`]: the tail is clear and the simplifier has nothing to do but
    /// convert it.
    #[inline(always)]
    fn takes_simple(&self, entry: u32) -> bool {
        entry & (SIMPLE | CONTEXTUAL_CHAR) == SIMPLE
            && self.space.is_none()
            && self.paren.is_empty()
            && !self.simplifier.open()
    }

    /// Emits a char that [`Tail::takes_simple`].
    #[inline(always)]
    fn emit_simple(&mut self, c: char, entry: u32, span: (u32, u32)) {
        self.simplifier.push_plain(&mut self.text, c, entry);
        if SPANS {
            self.spans.push(span);
        }
    }

    /// Whether no whitespace run, `(` or contextual char waits: a char that folds to
    /// itself can go straight to the simplifier.
    #[inline(always)]
    fn clear(&self) -> bool {
        self.space.is_none() && self.paren.is_empty() && !self.simplifier.open()
    }

    /// Folds the run of plain Han chars that starts at byte `start` of `original` with
    /// `first` (a char of the Han block), while the tail is [`Tail::clear`]: one read of
    /// `han` a char gives the char it simplifies to and its code, and nothing else is
    /// looked at — a Han char is no space, `(`, entity or mark, so none of the fold's
    /// other steps has anything to do until the run ends. The chars that stay as they
    /// are, most of them, are copied to the text in one piece when the run ends or a char
    /// converts; the reader gets the chars' table entries a piece at a time, so that its
    /// own loop over them keeps its state in registers. A char that converts by its
    /// neighbours, one that converts to a char out of the block, and one followed by a
    /// combining mark end the run (the general way takes them). `pos` is the char offset
    /// of `first` in `original`, moved past the run. Returns the byte offset where the run
    /// ends, `start` if it took no char.
    #[inline(never)]
    fn han_run(
        &mut self,
        han: &HanTable,
        original: &str,
        start: usize,
        first: char,
        pos: &mut u32,
    ) -> usize {
        const PIECE: usize = 64;
        let bytes = original.as_bytes();
        let marks = self.simplifier.table;
        let mut piece = [0u32; PIECE];
        let mut k = 0;
        // Every char of the run is three bytes in and three bytes out (the block's chars
        // simplify to chars of the block, or end the run): the piece's first char is at
        // byte `piece_at` of the folded text.
        let mut piece_at = self.text.len();
        let mut copied = start; // bytes [copied, i) of the run are still to be copied
        let mut i = start;
        let mut cp = first as u32;
        let mut p = *pos;
        loop {
            let e = han.entry(cp);
            if e & HAN_SLOW != 0 {
                break;
            }
            let j = i + 3;
            // The next char's code point if it is of the block, else 0.
            let next = han_at(bytes, j);
            if next == 0 && char_at(bytes, j).is_some_and(|(n, _)| marks.is_mark(n)) {
                break; // NFKC'd together with its marks, the general way
            }
            let to = HAN_START + (e >> HAN_CHAR_SHIFT);
            if to != cp {
                self.text.push_str(&original[copied..i]);
                self.text
                    .push(char::from_u32(to).unwrap_or(char::REPLACEMENT_CHARACTER));
                copied = j;
            }
            if SPANS {
                self.spans.push((p, p + 1));
            }
            p += 1;
            piece[k] = e;
            k += 1;
            if k == PIECE {
                self.simplifier.reader.read_han(HanRun(&piece), piece_at);
                piece_at += 3 * PIECE;
                k = 0;
            }
            i = j;
            if next == 0 {
                break;
            }
            cp = next;
        }
        if i > start {
            if k > 0 {
                self.simplifier
                    .reader
                    .read_han(HanRun(&piece[..k]), piece_at);
            }
            self.text.push_str(&original[copied..i]);
            // The raw char before the next one (a contextual char's neighbour).
            let last = char_at(bytes, i - 3).map(|(c, _)| c);
            self.simplifier.prev_raw = last;
            *pos = p;
        }
        i
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

    fn finish(mut self) -> (String, Vec<(u32, u32)>, R) {
        while !self.paren.is_empty() {
            self.give_back();
        }
        if let Some(first) = self.space.take() {
            if !self.last_is(is_cjk) {
                self.emit(' ', first);
            }
        }
        let reader = self.simplifier.finish(&mut self.text);
        (self.text, self.spans, reader)
    }
}

/// Folds `original` for matching; see the module documentation for the steps.
pub fn normalize(original: &str) -> Normalized {
    let (text, spans, ()) = fold::<true, true, _>(original, String::new(), ());
    Normalized { text, spans }
}

/// The folded text alone, as [`normalize`] gives it, without recording where each char
/// came from: what matching needs when no evidence is asked for.
pub fn normalize_text(original: &str) -> String {
    fold::<false, true, _>(original, String::new(), ()).0
}

/// [`normalize_text`] into `buffer`'s allocation (its text is replaced), for a caller that
/// folds item after item, handing every folded char to `reader` as it is made (see
/// [`FoldReader`]): the chars it gets, with their byte offsets, are those of the text it
/// returns.
pub(crate) fn normalize_text_reading<'h>(
    original: &str,
    buffer: String,
    reader: &mut impl FoldReader<'h>,
) -> String {
    fold::<false, true, _>(original, buffer, reader).0
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
/// goes straight on to steps 4–6. `FAST` takes the table's fast path for `SIMPLE` chars;
/// the tests compare it with the way every char went before the table (`FAST = false`).
fn fold<'h, const SPANS: bool, const FAST: bool, R: FoldReader<'h>>(
    original: &str,
    mut text: String,
    reader: R,
) -> (String, Vec<(u32, u32)>, R) {
    let table = fold_table();
    let han = reader.han();
    text.clear();
    text.reserve(original.len());
    let mut tail = Tail::<SPANS, R> {
        text,
        spans: if SPANS {
            Vec::with_capacity(original.len() / 2 + 8)
        } else {
            Vec::new()
        },
        simplifier: Simplifier {
            table,
            prev_raw: None,
            held: None,
            reader,
        },
        space: None,
        paren: Vec::new(),
        toned: false,
    };
    let out = &mut tail;
    let bytes = original.as_bytes();
    let mut at = 0usize; // byte offset in `original` of the char being read
    let mut pos: u32 = 0; // its char offset
    let mut current = char_at(bytes, 0);
    while let Some((c, len)) = current {
        if FAST && in_han_block(c) && out.clear() {
            // Most chars: a run of Han chars, folded in one go.
            let end = out.han_run(han, original, at, c, &mut pos);
            if end > at {
                at = end;
                current = char_at(bytes, at);
                continue;
            }
        }
        let entry = table.entry(c);
        let next = char_at(bytes, at + len);
        // A base char followed by combining marks is NFKC'd as a whole (below).
        let next_is_mark = next.is_some_and(|(n, _)| table.is_mark(n));
        if FAST && !next_is_mark && out.takes_simple(entry) {
            // Nearly every char: Han, ASCII lower case and digits, the CJK punctuation
            // that NFKC leaves alone. One table read, no NFKC, no tail state to look at.
            out.emit_simple(c, entry, (pos, pos + 1));
        } else if let Some((decoded, len_bytes, len_chars)) =
            (c == '&').then(|| decode_entity(&original[at..])).flatten()
        {
            let span = (pos, pos + len_chars as u32);
            for d in decoded.chars() {
                fold_one(d, span, out);
            }
            debug_assert!(len_bytes > 1);
            at += len_bytes;
            pos += len_chars as u32;
            current = char_at(bytes, at);
            continue;
        } else if !next_is_mark {
            fold_one(c, (pos, pos + 1), out);
        } else {
            // A base char with combining marks: NFKC the whole cluster (`a` + U+0301 →
            // `á`).
            let mut cluster = String::new();
            cluster.push(c);
            let start = pos;
            let mut end = at + len;
            pos += 1;
            while let Some((n, n_len)) = char_at(bytes, end) {
                if !table.is_mark(n) {
                    break;
                }
                cluster.push(n);
                end += n_len;
                pos += 1;
            }
            for d in cluster.nfkc() {
                push_lower(d, (start, pos), out);
            }
            at = end;
            current = char_at(bytes, at);
            continue;
        }
        at += len;
        pos += 1;
        current = next;
    }
    tail.finish()
}

/// The char that starts at byte `at` of a str's `bytes` and its length in bytes; `None`
/// at the end. Decoded here rather than by `str::chars` so that the fold reads each char
/// once while it looks one ahead (for combining marks). The bytes are valid UTF-8, so a
/// lead byte says the length and its continuation bytes follow.
#[inline(always)]
fn char_at(bytes: &[u8], at: usize) -> Option<(char, usize)> {
    let b0 = *bytes.get(at)?;
    if b0 < 0x80 {
        return Some((char::from(b0), 1));
    }
    let cont = |i: usize| u32::from(bytes.get(at + i).map_or(0, |b| b & 0x3F));
    let (cp, len) = if b0 < 0xE0 {
        ((u32::from(b0 & 0x1F) << 6) | cont(1), 2)
    } else if b0 < 0xF0 {
        ((u32::from(b0 & 0x0F) << 12) | (cont(1) << 6) | cont(2), 3)
    } else {
        let cp = (u32::from(b0 & 0x07) << 18) | (cont(1) << 12) | (cont(2) << 6) | cont(3);
        (cp, 4)
    };
    Some((
        char::from_u32(cp).unwrap_or(char::REPLACEMENT_CHARACTER),
        len,
    ))
}

/// NFKC and lower-case one char (without combining marks after it).
#[inline]
fn fold_one<'h, const S: bool, R: FoldReader<'h>>(
    c: char,
    span: (u32, u32),
    out: &mut Tail<'_, S, R>,
) {
    fold_char(c, |d| out.feed(d, span));
}

/// The chars that NFKC and lower case make of one char (without combining marks after
/// it): what [`fold_one`] feeds on, and what the `SIMPLE` flag of the table is computed
/// from.
#[inline]
fn fold_char(c: char, mut to: impl FnMut(char)) {
    if c.is_ascii() {
        to(c.to_ascii_lowercase());
    } else if ('\u{4E00}'..='\u{9FFF}').contains(&c) {
        to(c);
    } else if ('\u{FF01}'..='\u{FF5E}').contains(&c) {
        // Full-width ASCII: NFKC is exactly this shift.
        let half = char::from_u32(c as u32 - 0xFEE0).unwrap_or(c);
        to(half.to_ascii_lowercase());
    } else {
        for d in std::iter::once(c).nfkc() {
            lower(d, &mut to);
        }
    }
}

#[inline]
fn push_lower<'h, const S: bool, R: FoldReader<'h>>(
    c: char,
    span: (u32, u32),
    out: &mut Tail<'_, S, R>,
) {
    lower(c, |l| out.feed(l, span));
}

#[inline]
fn lower(c: char, mut to: impl FnMut(char)) {
    if c.is_ascii() {
        to(c.to_ascii_lowercase());
    } else {
        for l in c.to_lowercase() {
            to(l);
        }
    }
}

/// Decodes one HTML entity at the start of `s` (which starts with `&`). Returns the
/// decoded text, the entity's length in bytes and in chars.
fn decode_entity(s: &str) -> Option<(std::borrow::Cow<'static, str>, usize, usize)> {
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
    if let Some(&(_, decoded)) = COMMON_ENTITIES.iter().find(|(e, _)| *e == entity) {
        return Some((decoded.into(), entity.len(), entity.len()));
    }
    let decoded = html_escape::decode_html_entities(entity);
    if decoded == entity || decoded.is_empty() {
        return None;
    }
    Some((decoded.into_owned().into(), entity.len(), entity.len()))
}

/// The entities news pages use most, decoded as `html_escape` decodes them (a test checks)
/// without its search of the whole table and an allocation each.
const COMMON_ENTITIES: [(&str, &str); 6] = [
    ("&amp;", "&"),
    ("&lt;", "<"),
    ("&gt;", ">"),
    ("&quot;", "\""),
    ("&apos;", "'"),
    ("&nbsp;", "\u{a0}"),
];

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

/// In a [`FoldTable`] entry: the char the entry's char simplifies to (fast2s, on its own).
const CHAR_BITS: u32 = (1 << 21) - 1;
/// The char folds to itself (NFKC, lower case), or with `FOLDED` to one other char, and
/// steps 4–6 pass it through when no whitespace run or `(` is waiting: not whitespace,
/// zero-width, `(` or `&`.
const SIMPLE: u32 = 1 << 31;
/// With `SIMPLE`: the char is not itself but folds (NFKC, lower case) to the one char in
/// `CHAR_BITS`, which simplifies to itself; the simplifier is given that char.
const FOLDED: u32 = 1 << 28;
/// The char has a canonical combining class other than 0: it joins the char before it
/// for NFKC.
const MARK: u32 = 1 << 30;
/// fast2s converts the char depending on its neighbours (`CONTEXTUAL`).
const CONTEXTUAL_CHAR: u32 = 1 << 29;

/// What the fold does with each BMP char, one read per char: the char it simplifies to
/// and the flags above. Computed once from the same functions the fold calls
/// (`unicode-normalization`'s NFKC and combining classes, `char::to_lowercase`, fast2s),
/// so the fast path cannot disagree with the slow one; astral chars take the slow one.
///
/// The table is 256 KiB, and a read that misses the cache costs more than the rest of a
/// char's fold, so the Han chars that stay as they are (most of any Simplified text) are
/// also kept as one bit each (`same_han`, 2.6 KiB), which stays in the L1 cache.
struct FoldTable {
    entries: Vec<u32>,
    /// Bit `c - U+4E00` for each char of U+4E00..U+9FFF whose entry is `c | SIMPLE`.
    same_han: Vec<u64>,
}

/// The block of CJK Unified Ideographs that `same_han` covers.
const HAN_START: u32 = 0x4E00;
const HAN_LEN: u32 = 0xA000 - HAN_START;

impl FoldTable {
    fn build() -> FoldTable {
        let mut table = Vec::with_capacity(0x10000);
        let mut buf = String::with_capacity(4);
        let mut folded = Vec::with_capacity(4);
        let mut one_of = Vec::new();
        // Chars that steps 4–6 pass through when nothing waits.
        let passes = |c: char| !is_space(c) && !is_zero_width(c) && c != '(';
        for cp in 0u32..0x10000 {
            let Some(c) = char::from_u32(cp) else {
                table.push(0); // a surrogate: no char has it
                continue;
            };
            let mut entry = if CONTEXTUAL.contains(&c) {
                cp | CONTEXTUAL_CHAR
            } else if is_han(c) {
                buf.clear();
                buf.push(c);
                let converted = fast2s::convert(&buf);
                let mut it = converted.chars();
                match (it.next(), it.next()) {
                    (Some(s), None) => s as u32,
                    _ => cp,
                }
            } else {
                cp
            };
            if canonical_combining_class(c) != 0 {
                entry |= MARK;
            }
            folded.clear();
            fold_char(c, |d| folded.push(d));
            if folded == [c] && passes(c) && c != '&' {
                entry |= SIMPLE;
            }
            table.push(entry);
            if let [d] = folded[..] {
                if d != c && passes(c) && c != '&' && passes(d) {
                    one_of.push((cp, d));
                }
            }
        }
        // A char that NFKC or lower case make another single char (`，` `Ａ` `B`), which
        // steps 4–6 pass through and which simplifies to itself on its own: the same fast
        // path, to that char.
        for (cp, d) in one_of {
            let to = table.get(d as usize).copied().unwrap_or(d as u32);
            if to & (CHAR_BITS | CONTEXTUAL_CHAR) == d as u32 {
                table[cp as usize] = (table[cp as usize] & MARK) | d as u32 | SIMPLE | FOLDED;
            }
        }
        let mut same_han = vec![0u64; HAN_LEN.div_ceil(64) as usize];
        for i in 0..HAN_LEN {
            let cp = HAN_START + i;
            if table[cp as usize] == cp | SIMPLE {
                same_han[(i / 64) as usize] |= 1 << (i % 64);
            }
        }
        FoldTable {
            entries: table,
            same_han,
        }
    }

    /// The entry of `c`; for an astral char, itself with no flags.
    #[inline(always)]
    fn entry(&self, c: char) -> u32 {
        let cp = c as u32;
        let han = cp.wrapping_sub(HAN_START);
        if han < HAN_LEN && (self.same_han[(han / 64) as usize] >> (han % 64)) & 1 != 0 {
            return cp | SIMPLE;
        }
        match self.entries.get(cp as usize) {
            Some(&e) => e,
            None => cp,
        }
    }

    /// Whether `c` has a canonical combining class other than 0.
    #[inline(always)]
    fn is_mark(&self, c: char) -> bool {
        // ASCII and the Han block have none: no table read for most chars.
        if c.is_ascii() || (HAN_START..HAN_START + HAN_LEN).contains(&(c as u32)) {
            return false;
        }
        match self.entries.get(c as usize) {
            Some(&e) => e & MARK != 0,
            None => canonical_combining_class(c) != 0,
        }
    }
}

/// Whether `c` is in the block of CJK Unified Ideographs (U+4E00..U+9FFF).
#[inline(always)]
fn in_han_block(c: char) -> bool {
    (c as u32).wrapping_sub(HAN_START) < HAN_LEN
}

/// The char of the Han block whose UTF-8 starts at byte `at` of `bytes`, as a code
/// point; 0 if none does.
#[inline(always)]
fn han_at(bytes: &[u8], at: usize) -> u32 {
    let Some(&[b0, b1, b2]) = bytes.get(at..).and_then(|s| s.first_chunk::<3>()) else {
        return 0;
    };
    let cp = (u32::from(b0 & 0x0F) << 12) | (u32::from(b1 & 0x3F) << 6) | u32::from(b2 & 0x3F);
    if b0 & 0xF0 == 0xE0 && cp.wrapping_sub(HAN_START) < HAN_LEN {
        cp
    } else {
        0
    }
}

/// In a [`HanTable`] entry: the char's code in the reader's alphabet.
const HAN_CODE: u32 = 0xFFFF;
/// In a [`HanTable`] entry: where the char it simplifies to is, as an offset in the block.
const HAN_CHAR_SHIFT: u32 = 16;
/// In a [`HanTable`] entry: the char ends a Han run (it converts by its neighbours, to a
/// char outside the block, or its code does not fit in `HAN_CODE`).
const HAN_SLOW: u32 = 1 << 31;

/// A piece of a run of Han chars, as the fold hands it to a reader
/// ([`FoldReader::read_han`]): each char's [`HanTable`] entry.
#[derive(Clone, Copy)]
pub(crate) struct HanRun<'r>(&'r [u32]);

impl<'r> HanRun<'r> {
    /// How many chars.
    #[inline(always)]
    pub(crate) fn len(self) -> usize {
        self.0.len()
    }

    /// Each char's code in the table's alphabet.
    #[inline(always)]
    pub(crate) fn codes(self) -> impl ExactSizeIterator<Item = u32> + 'r {
        self.0.iter().map(|&e| e & HAN_CODE)
    }

    /// Each (folded) char, as a code point of the Han block.
    #[inline(always)]
    pub(crate) fn code_points(self) -> impl ExactSizeIterator<Item = u32> + 'r {
        self.0.iter().map(|&e| HAN_START + (e >> HAN_CHAR_SHIFT))
    }

    /// Each (folded) char.
    #[inline(always)]
    pub(crate) fn chars(self) -> impl ExactSizeIterator<Item = char> + 'r {
        self.code_points()
            .map(|cp| char::from_u32(cp).unwrap_or(char::REPLACEMENT_CHARACTER))
    }

    /// The last char.
    #[inline(always)]
    pub(crate) fn last(self) -> Option<char> {
        let cp = HAN_START + (self.0.last()? >> HAN_CHAR_SHIFT);
        char::from_u32(cp)
    }
}

/// For each char of the Han block (U+4E00..U+9FFF, 20,992 chars; most chars of any
/// Chinese text), in one `u32`: the char it simplifies to and that char's code in a
/// reader's alphabet, or `HAN_SLOW`. A Han char otherwise takes three lookups in three
/// tables (the fold's, the alphabet's, and the hashing of the model): here the first two
/// are one read of an 82 KiB table. Built from the [`FoldTable`] and the reader's own
/// code function, so it cannot disagree with either; a dictionary keeps one for its
/// alphabet.
pub(crate) struct HanTable {
    entries: Box<[u32]>,
}

impl HanTable {
    /// The table for a reader whose code of a (folded) char is `code(c)`.
    pub(crate) fn new(code: impl Fn(char) -> u32) -> HanTable {
        let table = fold_table();
        let entries = (HAN_START..HAN_START + HAN_LEN)
            .map(|cp| {
                let e = char::from_u32(cp).map_or(0, |c| table.entry(c));
                let to = e & CHAR_BITS;
                let code = char::from_u32(to).map_or(u32::MAX, &code);
                let plain = e & (SIMPLE | FOLDED | MARK | CONTEXTUAL_CHAR) == SIMPLE
                    && to.wrapping_sub(HAN_START) < HAN_LEN
                    && code <= HAN_CODE;
                if plain {
                    ((to - HAN_START) << HAN_CHAR_SHIFT) | code
                } else {
                    HAN_SLOW
                }
            })
            .collect();
        HanTable { entries }
    }

    /// The table of a fold without a reader: every code 0.
    pub(crate) fn plain() -> &'static HanTable {
        static PLAIN: std::sync::OnceLock<HanTable> = std::sync::OnceLock::new();
        PLAIN.get_or_init(|| HanTable::new(|_| 0))
    }

    /// The entry of `cp`, a char of the block.
    #[inline(always)]
    fn entry(&self, cp: u32) -> u32 {
        self.entries[(cp - HAN_START) as usize]
    }
}

/// The table, built once per process (about 65,000 chars through NFKC and fast2s's
/// per-char conversion, which does two or three hash lookups a char and would otherwise
/// dominate the fold).
fn fold_table() -> &'static FoldTable {
    static TABLE: std::sync::OnceLock<FoldTable> = std::sync::OnceLock::new();
    TABLE.get_or_init(FoldTable::build)
}

/// Traditional → Simplified in place, char for char (the char count never changes).
fn to_simplified(text: &mut String) {
    if text.is_ascii() {
        return;
    }
    let mut out = String::with_capacity(text.len());
    let mut simplifier = Simplifier {
        table: fold_table(),
        prev_raw: None,
        held: None,
        reader: (),
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
mod tests;
