//! Any bytes, as text from the web, through normalize, classify and explain: nothing may
//! panic, and every offset must stay inside the text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;
use std::sync::OnceLock;
use yuqing::classify::Classifier;
use yuqing::classify::normalize::normalize;
use yuqing::classify::watchlist::{parse_file, Watchlists};

const WATCHLISTS: &[(&str, &str)] = &[
    (
        "scenic.toml",
        include_str!("../../tests/fixtures/watchlists/scenic.toml"),
    ),
    (
        "heritage.toml",
        include_str!("../../tests/fixtures/watchlists/heritage.toml"),
    ),
    (
        "extra.toml",
        "[[topic]]\nid = \"x\"\nany = [\"ABC\", \"盘山县\"]\nregex = ['死亡\\d+人', '(?:a|b)+c']\n\
         near = { terms = [\"游客\", \"受伤\"], within = 3 }\n",
    ),
];

fn classifier() -> &'static Classifier {
    static C: OnceLock<Classifier> = OnceLock::new();
    C.get_or_init(|| {
        let mut w = Watchlists::default();
        for (name, src) in WATCHLISTS {
            let topics = parse_file(Path::new(name), src).expect("fixture watchlists are valid");
            w.topics.extend(topics);
        }
        Classifier::new(&w).expect("fixture watchlists compile")
    })
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let chars = text.chars().count();
    let n = normalize(&text);
    for i in 0..=n.char_len() + 1 {
        let (s, e) = n.original_range(i, i + 2);
        assert!(s <= e && e <= chars);
    }
    let source = if data.first().is_some_and(|b| b % 2 == 0) {
        Some("forum-board")
    } else {
        None
    };
    let c = classifier();
    let result = c.classify(&text, source);
    for t in &result.topics {
        for ev in &t.evidence {
            assert!(ev.start <= ev.end && ev.end <= chars);
        }
    }
    let explained = c.explain(&text, source);
    assert_eq!(explained.classification, result);
    let _ = explained.to_string();
});
