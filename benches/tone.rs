//! `cargo bench --bench tone`: how well the tone scorer tells items that need a response
//! (negative) from the rest, on the labelled set `tests/fixtures/tone/headlines.tsv`,
//! against a baseline of plain lexicon counting (the same lexicon: more negative words
//! than positive ones is negative; no negation, degree, adversative or remedy words).
//!
//! The set is split by row: odd rows were looked at while the lexicon was tuned (dev),
//! even rows were not (held out). Both are printed, and the whole.

use std::path::Path;
use std::time::Instant;
use yuqing::classify::tone::{ToneLabel, ToneLexicon, ToneScorer};

struct Row {
    negative: bool,
    text: String,
}

#[derive(Default, Clone, Copy)]
struct Counts {
    tp: usize,
    fp: usize,
    tn: usize,
    fn_: usize,
}

impl Counts {
    fn add(&mut self, truth: bool, said: bool) {
        match (truth, said) {
            (true, true) => self.tp += 1,
            (false, true) => self.fp += 1,
            (false, false) => self.tn += 1,
            (true, false) => self.fn_ += 1,
        }
    }
    fn line(&self, name: &str) -> String {
        let n = (self.tp + self.fp + self.tn + self.fn_) as f64;
        let acc = (self.tp + self.tn) as f64 / n;
        let p = self.tp as f64 / (self.tp + self.fp).max(1) as f64;
        let r = self.tp as f64 / (self.tp + self.fn_).max(1) as f64;
        let f1 = if p + r > 0.0 {
            2.0 * p * r / (p + r)
        } else {
            0.0
        };
        format!(
            "{name:<28} n={n:<4} accuracy={acc:.3} precision={p:.3} recall={r:.3} f1={f1:.3} \
             (tp {} fp {} tn {} fn {})",
            self.tp, self.fp, self.tn, self.fn_
        )
    }
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let data = std::fs::read_to_string(root.join("tests/fixtures/tone/headlines.tsv"))
        .expect("tests/fixtures/tone/headlines.tsv");
    let mut rows = Vec::new();
    for (i, line) in data.lines().enumerate().skip(1) {
        let f: Vec<&str> = line.split('\t').collect();
        assert_eq!(f.len(), 3, "headlines.tsv:{}: three columns", i + 1);
        let label: ToneLabel = f[0].parse().expect("label");
        rows.push(Row {
            negative: label == ToneLabel::Negative,
            text: format!("{}\n{}", f[1], f[2]),
        });
    }
    let lexicon = ToneLexicon::for_watchlists(&root.join("watchlists")).expect("tone lexicon");
    let scorer = ToneScorer::new(&lexicon);

    let mut tone = [Counts::default(); 3]; // dev, held out, all
    let mut base = [Counts::default(); 3];
    let mut wrong = Vec::new();
    for (i, r) in rows.iter().enumerate() {
        let said = scorer.tone(&r.text).label == ToneLabel::Negative;
        let (neg, pos) = scorer.lexicon_counts(&r.text);
        let base_said = neg > pos;
        let split = if i % 2 == 0 { 0 } else { 1 }; // row 1 (first data row) is odd: dev
        for k in [split, 2] {
            tone[k].add(r.negative, said);
            base[k].add(r.negative, base_said);
        }
        if said != r.negative && std::env::var_os("TONE_SHOW_ERRORS").is_some() && split == 0 {
            wrong.push(format!(
                "row {}: truth {} said {}\n{}",
                i + 2,
                r.negative,
                said,
                scorer.explain(&r.text)
            ));
        }
    }
    for w in &wrong {
        println!("{w}");
    }
    let negatives = rows.iter().filter(|r| r.negative).count();
    println!(
        "labelled set: {} items, {} negative ({:.0}%); lexicon {:?}",
        rows.len(),
        negatives,
        100.0 * negatives as f64 / rows.len() as f64,
        lexicon.size()
    );
    for (k, name) in ["dev (odd rows)", "held out (even rows)", "all"]
        .iter()
        .enumerate()
    {
        println!("{}", tone[k].line(&format!("tone scorer, {name}")));
        println!("{}", base[k].line(&format!("lexicon count, {name}")));
    }

    // Speed, as a ratio to the baseline's pass over the same texts.
    let rounds = 20;
    let t = Instant::now();
    let mut sink = 0usize;
    for _ in 0..rounds {
        for r in &rows {
            sink += scorer.lexicon_counts(&r.text).0;
        }
    }
    let base_time = t.elapsed();
    let t = Instant::now();
    for _ in 0..rounds {
        for r in &rows {
            sink += (scorer.tone(&r.text).score < 0.0) as usize;
        }
    }
    let tone_time = t.elapsed();
    let per_item = tone_time.as_secs_f64() * 1e6 / (rounds * rows.len()) as f64;
    println!(
        "speed: tone {per_item:.1} µs per item, {:.2}× the lexicon count's time ({sink})",
        tone_time.as_secs_f64() / base_time.as_secs_f64()
    );
}
