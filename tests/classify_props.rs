//! Properties of classification that an operator relies on without thinking about them:
//! the same news in Traditional characters or in full-width forms is classified exactly
//! alike (same topics, severities and evidence offsets), evidence quotes the words it
//! names, and no text makes the classifier panic.

use proptest::prelude::*;
use std::collections::HashMap;
use std::path::Path;
use std::sync::OnceLock;
use yuqing::classify::normalize::{normalize, normalize_term};
use yuqing::classify::watchlist::{load_dir, parse_file, Watchlists};
use yuqing::classify::Classifier;

/// The fixture watchlists plus a topic with Latin terms, a regex and `near`.
fn classifier() -> &'static Classifier {
    static C: OnceLock<Classifier> = OnceLock::new();
    C.get_or_init(|| {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/watchlists");
        let mut w: Watchlists = load_dir(&dir).unwrap_or_else(|d| panic!("{d}"));
        let extra = r#"
[[topic]]
id = "latin"
any = ["ABC News", "hotline 12345"]
regex = ['死亡\d+人', 'covid-\d+']

[[topic]]
id = "near"
near = { terms = ["游客", "受伤"], within = 6 }
"#;
        w.topics
            .extend(parse_file(Path::new("extra.toml"), extra).unwrap_or_else(|d| panic!("{d}")));
        Classifier::new(&w).unwrap_or_else(|d| panic!("{d}"))
    })
}

/// Simplified char → a Traditional char that folds to it on its own. Characters that
/// fast2s converts depending on their neighbours are left out on both sides.
fn traditional() -> &'static HashMap<char, char> {
    static T: OnceLock<HashMap<char, char>> = OnceLock::new();
    T.get_or_init(|| {
        const CONTEXTUAL: &str = "兒覆夥藉瞭麽幺於乾著苧闔鍾讎畫儿复伙借了么干着苎合钟雠画划于";
        let mut map = HashMap::new();
        for cp in 0x4E00u32..0xA000 {
            let Some(t) = char::from_u32(cp) else {
                continue;
            };
            let s: Vec<char> = normalize(&t.to_string()).text.chars().collect();
            if s.len() == 1 && s[0] != t && !CONTEXTUAL.contains(t) && !CONTEXTUAL.contains(s[0]) {
                map.entry(s[0]).or_insert(t);
            }
        }
        map
    })
}

const FRAGMENTS: &[&str] = &[
    "景区",
    "踩踏",
    "演练",
    "应急预案",
    "死亡3人",
    "2人受伤",
    "酒店",
    "起火",
    "消防演习",
    "文物被盗",
    "盗掘古墓",
    "12315",
    "旅游",
    "强制购物",
    "宰客",
    "COVID-19",
    "新冠",
    "核酸",
    "疫苗接种点",
    "游客",
    "受伤",
    "ABC News",
    "abc news",
    "hotline 12345",
    "盘(pán)山县",
    "今天",
    "发生",
    "一家",
    "某市",
    "通报",
    "，",
    "。",
    "、",
    " ",
    "  ",
    "\n",
    "(",
    ")",
    "A",
    "b",
    "7",
    "\u{200B}",
    "记者",
    "调查",
    "5A级",
    "缆车",
    "车",
    "门",
    "发",
];

fn text() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(FRAGMENTS), 0..40).prop_map(|v| v.concat())
}

fn to_traditional(s: &str) -> String {
    let map = traditional();
    s.chars().map(|c| *map.get(&c).unwrap_or(&c)).collect()
}

fn to_full_width(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '!'..='~' => char::from_u32(c as u32 + 0xFEE0).unwrap_or(c),
            ' ' => '\u{3000}',
            c => c,
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn traditional_text_classifies_alike(s in text()) {
        let c = classifier();
        let trad = to_traditional(&s);
        prop_assert_eq!(c.classify(&s, None), c.classify(&trad, None), "{} vs {}", s, trad);
    }

    #[test]
    fn full_width_text_classifies_alike(s in text()) {
        let c = classifier();
        let wide = to_full_width(&s);
        prop_assert_eq!(c.classify(&s, None), c.classify(&wide, None), "{} vs {}", s, wide);
    }

    #[test]
    fn evidence_quotes_the_term(s in text()) {
        let c = classifier();
        let chars: Vec<char> = s.chars().collect();
        for t in c.classify(&s, Some("forum-board")).topics {
            for e in t.evidence {
                prop_assert!(e.start < e.end && e.end <= chars.len());
                let quote: String = chars[e.start..e.end].iter().collect();
                // Regex evidence names the pattern, not a word.
                if !e.term.contains('\\') {
                    prop_assert_eq!(normalize_term(&quote), normalize_term(&e.term));
                }
            }
        }
    }

    #[test]
    fn any_text_is_safe(s in any::<String>()) {
        let c = classifier();
        let n = s.chars().count();
        for t in c.classify(&s, None).topics {
            for e in t.evidence {
                prop_assert!(e.start <= e.end && e.end <= n);
            }
        }
        let _ = c.explain(&s, Some("x")).to_string();
    }
}

#[test]
fn traditional_map_is_not_trivial() {
    let map = traditional();
    assert!(map.len() > 2000, "{}", map.len());
    assert_eq!(to_traditional("景区发生踩踏"), "景區發生踩踏");
}
