//! Which incident an item belongs to: the same topic is not enough, the item must also be
//! about the same event. "Same event" is measured on text: a 64-permutation MinHash over
//! the character bigrams of the folded title and summary (see `normalize`) estimates the
//! Jaccard similarity of two items' bigram sets. An item joins an incident when it is at
//! least `[grouping] similarity` alike to one of the incident's items fetched within
//! `[grouping] window`; otherwise it opens a new incident of the same topic.
//!
//! Pure and small on purpose: no crate, no state, deterministic across runs and machines
//! (the hash functions are fixed), so the same items always group the same way.

use crate::classify::normalize::normalize_text;
use crate::vocab::diagnostic::{Diagnostics, SpanToDiagnostic};
use crate::vocab::duration::Span;
use serde::Deserialize;
use std::collections::BTreeSet;
use toml::Spanned;

/// `[grouping]`: an item joins an incident of its topic when its text is at least
/// `similarity` alike (MinHash estimate of bigram Jaccard) to one of the incident's items
/// fetched within `window`; a closed incident is reopened by such an item within
/// `reopen_within` of closing (回温).
#[derive(Debug, Clone, Copy)]
pub struct Grouping {
    pub window: Span,
    pub similarity: f64,
    pub reopen_within: Span,
    /// What an item that matches several topics does once it has opened an incident under
    /// one of them (`[grouping] same_item`).
    pub same_item: SameItem,
}

/// `[grouping] same_item`: an item matching two topics (a cable-car accident under both
/// 冰雪旅游安全 and 景区安全) either opens an incident under each, linked to each other
/// in the record and the mail (`link`, the default: two topics may have two owners), or
/// joins the incident it opened first, raising it to the higher severity (`merge`: one
/// event, one set of statutory clocks).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SameItem {
    #[default]
    Link,
    Merge,
}

impl Default for Grouping {
    fn default() -> Self {
        Grouping {
            window: Span::from_secs(72 * 3600),
            similarity: 0.2,
            reopen_within: Span::from_secs(30 * 86_400),
            same_item: SameItem::Link,
        }
    }
}

/// Number of hash functions in a signature.
pub const K: usize = 64;

/// A MinHash signature: for each of the `K` hash functions, the least hash of a shingle.
/// An empty text gives the all-`u64::MAX` signature, which matches nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature([u64; K]);

/// The shingles of a text: character bigrams of its folded form, with spaces and
/// punctuation dropped (a text of one character is its own shingle).
pub fn shingles(text: &str) -> BTreeSet<String> {
    let chars: Vec<char> = normalize_text(text)
        .chars()
        .filter(|c| c.is_alphanumeric())
        .collect();
    if chars.len() == 1 {
        return BTreeSet::from([chars[0].to_string()]);
    }
    chars.windows(2).map(|w| w.iter().collect()).collect()
}

/// The exact Jaccard similarity of two texts' shingle sets, in [0, 1]; what [`Signature`]
/// estimates.
pub fn jaccard(a: &str, b: &str) -> f64 {
    let (a, b) = (shingles(a), shingles(b));
    let union = a.union(&b).count();
    if union == 0 {
        return 0.0;
    }
    a.intersection(&b).count() as f64 / union as f64
}

/// 64-bit FNV-1a.
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// SplitMix64's finaliser: a bijective mix, so `mix(x ^ seed_i)` are K independent-looking
/// permutations of the shingle hashes.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn seed(i: usize) -> u64 {
    mix(0x9e37_79b9_7f4a_7c15u64.wrapping_mul(i as u64 + 1))
}

impl Signature {
    pub fn of(text: &str) -> Signature {
        let mut seeds = [0u64; K];
        for (i, s) in seeds.iter_mut().enumerate() {
            *s = seed(i);
        }
        let mut sig = [u64::MAX; K];
        for s in shingles(text) {
            let h = fnv1a(s.as_bytes());
            for (slot, seed) in sig.iter_mut().zip(&seeds) {
                let v = mix(h ^ seed);
                if v < *slot {
                    *slot = v;
                }
            }
        }
        Signature(sig)
    }

    /// The item's signature: title and summary together.
    pub fn of_item(title: &str, summary: &str) -> Signature {
        Signature::of(&format!("{title} {summary}"))
    }

    fn is_empty(&self) -> bool {
        self.0.iter().all(|v| *v == u64::MAX)
    }

    /// The estimated Jaccard similarity, in [0, 1]: the share of hash functions whose
    /// minimum agrees. Empty texts are similar to nothing.
    pub fn similarity(&self, other: &Signature) -> f64 {
        if self.is_empty() || other.is_empty() {
            return 0.0;
        }
        let same = self.0.iter().zip(&other.0).filter(|(a, b)| a == b).count();
        same as f64 / K as f64
    }
}

/// What an item is compared by: the signature of its title alone and of its title with
/// its summary. Two items are as alike as the more alike of the two, because a follow-up
/// report often keeps the headline's words while its body tells something new (and a
/// reworded headline may sit on the same body).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemSignature {
    title: Signature,
    full: Signature,
}

impl ItemSignature {
    pub fn of(title: &str, summary: &str) -> ItemSignature {
        ItemSignature {
            title: Signature::of(title),
            full: Signature::of_item(title, summary),
        }
    }

    /// The estimated similarity, in [0, 1]: the larger of the titles' and the full texts'.
    pub fn similarity(&self, other: &ItemSignature) -> f64 {
        self.title
            .similarity(&other.title)
            .max(self.full.similarity(&other.full))
    }

    /// The signature as stored: 2 × `K` minimums, 16 hex digits each.
    pub fn to_text(&self) -> String {
        let mut out = String::with_capacity(2 * K * 16);
        for v in self.title.0.iter().chain(&self.full.0) {
            out.push_str(&format!("{v:016x}"));
        }
        out
    }

    /// A stored signature; `None` when it is not one (then it is computed again).
    pub fn from_text(text: &str) -> Option<ItemSignature> {
        if text.len() != 2 * K * 16 || !text.is_ascii() {
            return None;
        }
        let mut v = [0u64; 2 * K];
        for (i, slot) in v.iter_mut().enumerate() {
            *slot = u64::from_str_radix(&text[i * 16..(i + 1) * 16], 16).ok()?;
        }
        let (mut title, mut full) = ([0u64; K], [0u64; K]);
        title.copy_from_slice(&v[..K]);
        full.copy_from_slice(&v[K..]);
        Some(ItemSignature {
            title: Signature(title),
            full: Signature(full),
        })
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
/// The `[grouping]` table as written.
pub struct RawGrouping {
    window: Option<Span>,
    similarity: Option<Spanned<f64>>,
    reopen_within: Option<Span>,
    same_item: Option<Spanned<String>>,
}

impl RawGrouping {
    /// The checked `[grouping]`; `at` turns a span into a diagnostic with file and line.
    pub fn check(self, errs: &mut Diagnostics, at: &SpanToDiagnostic) -> Grouping {
        let g = Grouping::default();
        Grouping {
            window: self.window.unwrap_or(g.window),
            similarity: match self.similarity {
                None => g.similarity,
                Some(s) if (0.0..=1.0).contains(s.get_ref()) => *s.get_ref(),
                Some(s) => {
                    errs.push(at(
                        s.span(),
                        format!(
                            "[grouping] similarity = {} is not between 0 and 1 (0.2 groups \
                             reports of one event; 0 groups every item of a topic)",
                            s.get_ref()
                        ),
                    ));
                    g.similarity
                }
            },
            reopen_within: self.reopen_within.unwrap_or(g.reopen_within),
            same_item: match self.same_item {
                None => g.same_item,
                Some(s) => match s.get_ref().as_str() {
                    "link" => SameItem::Link,
                    "merge" => SameItem::Merge,
                    other => {
                        errs.push(at(
                            s.span(),
                            format!(
                                "[grouping] same_item = \"{other}\": expected \"link\" (an \
                                 incident per topic, linked) or \"merge\" (one incident at \
                                 the higher severity)"
                            ),
                        ));
                        g.same_item
                    }
                },
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sim(a: &str, b: &str) -> f64 {
        Signature::of(a).similarity(&Signature::of(b))
    }

    #[test]
    fn reports_of_one_event_are_alike_and_other_events_are_not() {
        assert_eq!(
            sim("某景区发生坍塌 游客被困", "某景区发生坍塌 游客被困"),
            1.0
        );
        // Folding: Traditional, full-width and spacing do not matter.
        assert_eq!(
            sim("某景區發生坍塌，遊客被困", "某景区发生坍塌 游客被困"),
            1.0
        );
        assert!(sim("某景区发生坍塌 游客被困", "某景区发生坍塌 第2报") >= 0.2);
        assert!(sim("某景区发生坍塌 游客被困", "另一景区索道停运 游客滞留") < 0.2);
        assert_eq!(sim("", "某景区"), 0.0);
        assert_eq!(sim("", ""), 0.0);
    }

    /// Headlines as different outlets write them: pairs about one event, and pairs of one
    /// topic about different events. Measured (estimate / exact Jaccard): same event
    /// 0.25–0.70 / 0.22–0.65, different events 0.00–0.11 / 0.00–0.08; the default
    /// threshold (0.2) must tell them apart.
    #[test]
    fn the_default_threshold_separates_same_event_from_same_topic() {
        let same = [
            (
                "某景区发生坍塌 游客被困",
                "某景区坍塌事故：多名游客被困 救援正在进行",
            ),
            (
                "网友曝光古城景区宰客 一碗面卖98元",
                "古城景区一碗面卖98元 网友称被宰客",
            ),
            (
                "某博物馆文物展柜玻璃破裂 文物受损",
                "博物馆展柜玻璃破裂致文物受损 馆方回应",
            ),
            (
                "酒店房间发现针孔摄像头 住客报警",
                "住客在酒店房间发现针孔摄像头 警方已介入",
            ),
            (
                "景区索道故障停运 百余游客滞留",
                "百余游客滞留 景区索道突发故障停运",
            ),
            (
                "导游强迫游客购物 不买就骂人",
                "旅行团导游强迫购物辱骂游客 视频曝光",
            ),
        ];
        let different = [
            (
                "某景区发生坍塌 游客被困",
                "山顶索道突发故障停运 滞留游客已转移",
            ),
            (
                "网友曝光古城景区宰客 一碗面卖98元",
                "海边景区停车费一小时50元 游客质疑",
            ),
            (
                "某博物馆文物展柜玻璃破裂 文物受损",
                "古塔墙体出现裂缝 文物保护引关注",
            ),
            (
                "酒店房间发现针孔摄像头 住客报警",
                "民宿老板单方面取消订单 坐地起价",
            ),
            (
                "景区索道故障停运 百余游客滞留",
                "景区玻璃栈道游客摔伤 景区称已送医",
            ),
            (
                "导游强迫游客购物 不买就骂人",
                "旅行社收钱后失联 数十名游客行程被取消",
            ),
        ];
        let t = crate::classify::grouping::Grouping::default().similarity;
        for (a, b) in same {
            let s = sim(a, b);
            assert!(s >= t, "same event, {s:.2} < {t}: {a} / {b}");
        }
        for (a, b) in different {
            let s = sim(a, b);
            assert!(s < t, "different events, {s:.2} >= {t}: {a} / {b}");
        }
    }

    /// The demo's follow-up: its body tells something new (the injured are out of danger),
    /// so title and body together are only ~0.17 alike, but the headline keeps the event's
    /// words. Reports of another event of the topic stay apart on both measures.
    #[test]
    fn a_follow_up_with_a_new_body_joins_by_its_headline() {
        let first = ItemSignature::of(
            "示例山景区发生踩踏事件 3人受伤",
            "5月1日15时许,示例山景区索道下站入口处游客拥挤,发生踩踏,3人受伤,已送医救治。\
             景区已临时限流,事件原因正在调查。",
        );
        let follow_up = ItemSignature::of(
            "示例山景区踩踏事件后续:3名受伤游客均无生命危险",
            "记者从示例山景区获悉,5月1日下午索道下站入口踩踏事件中受伤的3名游客均无生命危险,\
             其中2人已出院。景区入口已增设分流护栏。",
        );
        let other = ItemSignature::of(
            "市文旅局部署“五一”假期景区安全工作 严防踩踏事故",
            "会议要求各A级景区落实预约限流,加强索道、游乐设施检查,严防踩踏、火灾等事故发生。",
        );
        let t = crate::classify::grouping::Grouping::default().similarity;
        let full_only = Signature::of_item(
            "示例山景区发生踩踏事件 3人受伤",
            "5月1日15时许,示例山景区索道下站入口处游客拥挤,发生踩踏,3人受伤,已送医救治。\
             景区已临时限流,事件原因正在调查。",
        )
        .similarity(&Signature::of_item(
            "示例山景区踩踏事件后续:3名受伤游客均无生命危险",
            "记者从示例山景区获悉,5月1日下午索道下站入口踩踏事件中受伤的3名游客均无生命危险,\
             其中2人已出院。景区入口已增设分流护栏。",
        ));
        assert!(
            full_only < t,
            "the full texts alone would not join: {full_only:.2}"
        );
        let s = first.similarity(&follow_up);
        assert!(s >= t, "the follow-up joins: {s:.2}");
        assert_eq!(s, follow_up.similarity(&first));
        let o = first.similarity(&other);
        assert!(o < t, "another story of the topic stays apart: {o:.2}");
    }

    #[test]
    fn a_stored_signature_reads_back_the_same() {
        let s = ItemSignature::of("某景区发生坍塌 游客被困", "救援正在进行");
        let text = s.to_text();
        assert_eq!(text.len(), 2 * K * 16);
        assert_eq!(ItemSignature::from_text(&text), Some(s.clone()));
        assert_eq!(ItemSignature::from_text(&text[1..]), None);
        assert_eq!(ItemSignature::from_text(&text.replace('0', "g")), None);
        let empty = ItemSignature::of("", "");
        assert_eq!(ItemSignature::from_text(&empty.to_text()), Some(empty));
    }

    #[test]
    fn shingles_are_bigrams_of_the_folded_text() {
        let s = shingles("景区 坍塌！");
        assert_eq!(
            s.into_iter().collect::<Vec<_>>(),
            vec!["区坍", "坍塌", "景区"]
        );
        assert_eq!(shingles("景").len(), 1);
        assert!(shingles("，。").is_empty());
    }

    proptest! {
        #[test]
        fn similarity_is_symmetric_bounded_and_reflexive(a in "[景区坍塌游客被困索道停运a-c ]{0,20}", b in "[景区坍塌游客被困索道停运a-c ]{0,20}") {
            let s = sim(&a, &b);
            prop_assert!((0.0..=1.0).contains(&s));
            prop_assert_eq!(s, sim(&b, &a));
            if !shingles(&a).is_empty() {
                prop_assert_eq!(sim(&a, &a), 1.0);
            }
        }

        #[test]
        fn minhash_estimates_jaccard(a in "[景区坍塌游客被困索道停运发生事故]{2,30}", b in "[景区坍塌游客被困索道停运发生事故]{2,30}") {
            // 64 hashes: the standard error is at most 1/16; allow four of them.
            let (est, exact) = (sim(&a, &b), jaccard(&a, &b));
            prop_assert!((est - exact).abs() <= 0.25, "estimate {} exact {}", est, exact);
        }

        #[test]
        fn disjoint_texts_share_no_minimum(a in "[景区坍塌]{2,10}", b in "[索道停运]{2,10}") {
            prop_assert_eq!(sim(&a, &b), 0.0);
        }
    }
}
