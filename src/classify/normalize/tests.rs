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
fn the_fold_table_says_what_nfkc_and_lower_case_do() {
    let table = fold_table();
    for cp in 0u32..0x10000 {
        let Some(c) = char::from_u32(cp) else {
            continue;
        };
        let e = table.entry(c);
        assert_eq!(
            e & MARK != 0,
            canonical_combining_class(c) != 0,
            "U+{cp:04X}"
        );
        assert_eq!(table.is_mark(c), e & MARK != 0, "U+{cp:04X}");
        if e & SIMPLE != 0 {
            // Checked by the general route, not by the fold's own shortcuts.
            let to = if e & FOLDED != 0 {
                char::from_u32(e & CHAR_BITS).unwrap_or_default()
            } else {
                c
            };
            let folded = std::iter::once(c).nfkc().flat_map(char::to_lowercase);
            assert!(folded.eq([to]), "U+{cp:04X}");
            for c in [c, to] {
                assert!(!is_space(c) && !is_zero_width(c) && c != '(', "U+{cp:04X}");
            }
            assert_ne!(c, '&');
            if e & FOLDED != 0 {
                assert_ne!(c, to, "U+{cp:04X}");
                assert_eq!(table.entry(to) & (CHAR_BITS | CONTEXTUAL_CHAR), to as u32);
            }
        } else {
            assert_eq!(e & FOLDED, 0, "U+{cp:04X}");
        }
    }
    // The Han bitmap says what the entries say.
    for cp in HAN_START..HAN_START + HAN_LEN {
        let c = char::from_u32(cp).unwrap_or_default();
        assert_eq!(table.entry(c), table.entries[cp as usize], "U+{cp:04X}");
    }
    // The chars the fast path exists for: as they are, or folded to one char (NFKC
    // makes `，` a `,`); not those that fold to several, to a space or to `(`.
    for c in "景区發生踩踏。、“”《》「」abc123-".chars() {
        assert!(table.entry(c) & (SIMPLE | FOLDED) == SIMPLE, "{c}");
    }
    for (c, to) in [
        ('，', ','),
        ('；', ';'),
        ('！', '!'),
        ('A', 'a'),
        ('Ａ', 'a'),
        ('１', '1'),
    ] {
        assert_eq!(table.entry(c), to as u32 | SIMPLE | FOLDED, "{c}");
    }
    for c in "…　 \u{200B}(（&".chars() {
        assert!(table.entry(c) & SIMPLE == 0, "{c:?}");
    }
}

/// Texts made of the fold's hard cases: Han (Traditional, contextual), CJK and ASCII
/// punctuation, full-width forms, combining marks, entities, spaces, zero-width chars,
/// inline pinyin and astral chars.
fn random_texts() -> Vec<String> {
    let pieces = [
        "景", "區", "發", "乾", "著", "於", "兒", "，", "。", "、", "“", "”", "（", "）", "(", ")",
        "pán", "pan", "A", "b", "Ｃ", "１", " ", "\u{3000}", "\n", "\u{200B}", "\u{301}",
        "\u{3099}", "e", "&amp;", "&#21306;", "&bogus;", "&", "𠀀", "ﬁ", "Ⅻ", "ｶ", "\u{FF9E}", "ß",
        "İ", "Σ", "；", "！", "？", "＆", "Ｉ", "＂", "丽",
    ];
    crate::classify::random_texts(&pieces, 3000, 24, 0x9E37_79B9_7F4A_7C15)
}

#[test]
fn the_fast_path_folds_as_the_general_one() {
    for text in random_texts() {
        let reused = String::from("left over");
        assert_eq!(
            fold::<true, true, _>(&text, String::new(), ()),
            fold::<true, false, _>(&text, String::new(), ()),
            "{text:?}"
        );
        assert_eq!(
            fold::<false, true, _>(&text, reused, ()).0,
            fold::<false, false, _>(&text, String::new(), ()).0,
            "{text:?}"
        );
    }
}

/// Records what the fold hands on.
#[derive(Default)]
struct Recorder(Vec<(usize, char)>);

impl FoldReader<'static> for Recorder {
    fn read(&mut self, c: char, byte: usize) {
        self.0.push((byte, c));
    }
}

#[test]
fn a_reader_gets_the_folded_text_char_by_char() {
    let mut texts = random_texts();
    // Contextual chars next to each other, at the ends, and before a space.
    texts.extend(["乾", "乾乾著", "著 於", "於(pán)", "兒&amp;乾"].map(String::from));
    for text in texts {
        let mut seen = Recorder::default();
        let folded = normalize_text_reading(&text, String::from("left over"), &mut seen);
        assert_eq!(folded, normalize_text(&text), "{text:?}");
        let expected: Vec<(usize, char)> = folded.char_indices().collect();
        assert_eq!(seen.0, expected, "{text:?}");
    }
}

/// A code for every char, as an alphabet would give (any function will do).
fn code_of(c: char) -> u32 {
    (c as u32).wrapping_mul(7) % 1000
}

#[test]
fn the_han_table_says_what_the_fold_table_and_the_codes_say() {
    let han = HanTable::new(code_of);
    let fold = fold_table();
    let mut slow = Vec::new();
    for cp in HAN_START..HAN_START + HAN_LEN {
        let c = char::from_u32(cp).unwrap_or_default();
        let (e, f) = (han.entry(cp), fold.entry(c));
        let to = f & CHAR_BITS;
        if e & HAN_SLOW != 0 {
            assert!(f & CONTEXTUAL_CHAR != 0 || !(HAN_START..HAN_START + HAN_LEN).contains(&to));
            slow.push(c);
            continue;
        }
        assert_eq!(f & (SIMPLE | MARK | CONTEXTUAL_CHAR), SIMPLE, "U+{cp:04X}");
        assert_eq!(HAN_START + (e >> HAN_CHAR_SHIFT), to, "U+{cp:04X}");
        assert_eq!(
            e & HAN_CODE,
            code_of(char::from_u32(to).unwrap_or_default())
        );
    }
    // The contextual chars of the block end a run; nearly every other char is in one.
    let contextual: Vec<char> = CONTEXTUAL
        .iter()
        .copied()
        .filter(|&c| in_han_block(c))
        .collect();
    assert!(contextual.iter().all(|c| slow.contains(c)), "{slow:?}");
    assert!(slow.len() < 40, "{slow:?}");
}

/// Records what the fold hands on, with the codes of its own Han table.
struct Coder<'h> {
    han: &'h HanTable,
    seen: Vec<(usize, char, u32)>,
}

impl<'h> FoldReader<'h> for Coder<'h> {
    fn read(&mut self, c: char, byte: usize) {
        self.seen.push((byte, c, code_of(c)));
    }

    fn han(&self) -> &'h HanTable {
        self.han
    }

    fn read_han(&mut self, run: HanRun<'_>, byte: usize) {
        let chars = run.chars().zip(run.codes());
        for (k, (c, code)) in chars.enumerate() {
            self.seen.push((byte + 3 * k, c, code));
        }
        assert_eq!(run.last(), run.chars().last());
    }
}

#[test]
fn han_runs_hand_on_each_char_with_its_code() {
    let han = HanTable::new(code_of);
    let mut texts = random_texts();
    // Runs longer than the piece the fold hands on at once, broken by chars that
    // convert, by contextual chars, by marks, at the ends.
    let run: String = "景区發生踩踏".repeat(30);
    texts.extend([
        run.clone(),
        format!("{run}乾{run}"),
        format!("a{run}\u{301}{run}。"),
        format!("區{run}著"),
        "乾".repeat(70),
    ]);
    for text in texts {
        let mut coder = Coder {
            han: &han,
            seen: Vec::new(),
        };
        let folded = normalize_text_reading(&text, String::from("left over"), &mut coder);
        assert_eq!(folded, normalize_text(&text), "{text:?}");
        let want: Vec<(usize, char, u32)> = folded
            .char_indices()
            .map(|(b, c)| (b, c, code_of(c)))
            .collect();
        assert_eq!(coder.seen, want, "{text:?}");
        // And the general way, char by char, folds the same.
        assert_eq!(
            fold::<true, true, _>(&text, String::new(), ()),
            fold::<true, false, _>(&text, String::new(), ()),
            "{text:?}"
        );
    }
}

#[test]
fn table_conversion_agrees_with_fast2s() {
    let sample =
        "盤山縣人民政府辦公室關於印發加強政府門戶網站及政務新媒體信息發布與審核備案工作的通知\
                  乾隆皇帝看著計畫書，慰藉答覆甚夥，瞭望幺麽";
    let mut ours = sample.to_string();
    to_simplified(&mut ours);
    assert_eq!(ours, fast2s::convert(sample));
    // Patterns are only simplified: full-width forms and case stay.
    assert_eq!(fold_pattern("景區，ＡB（"), "景区，ＡB（");
    for part in sample.split('，') {
        assert_eq!(normalize(part).text, fast2s::convert(part), "{part}");
    }
}

#[test]
fn the_common_entities_decode_as_html_escape_decodes_them() {
    for (entity, decoded) in super::COMMON_ENTITIES {
        assert_eq!(
            html_escape::decode_html_entities(entity),
            decoded,
            "{entity}"
        );
        let (got, bytes, chars) = super::decode_entity(&format!("{entity}x")).unwrap();
        assert_eq!(
            (got.as_ref(), bytes, chars),
            (decoded, entity.len(), entity.len())
        );
    }
}
