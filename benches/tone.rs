//! `cargo bench --bench tone`: how well the tone scorer tells items that need a response
//! (negative) from the rest, against a baseline of plain lexicon counting (the same
//! lexicon: more negative words than positive ones is negative; no grammar, no model),
//! the lexicon with its rules alone, and the learned model alone.
//!
//! Six sets (`tests/fixtures/tone/README.md`): the dev half of `headlines.tsv` (odd
//! data rows: the lexicon was tuned and the model trained on them), its held-out half
//! (even rows), `untuned.tsv`, written before the scorer of issue 25 and never looked
//! at item by item, `fresh.tsv`, written later blind to the scorer and committed
//! before it was scored (aggregate lines only, like `untuned.tsv`), and two sources nobody here wrote, kept out of the repository and
//! read when present (SMP2020-EWECT's Weibo emotion test split; CCF BDCI 2019's
//! internet news sentiment set): `TONE_SHOW_ERRORS=1` lists the dev half's errors only.

use std::path::{Path, PathBuf};
use std::time::Instant;
use yuqing::classify::tone::{label_of_lexicon, ToneLabel, ToneLexicon, ToneScorer};

struct Row {
    negative: bool,
    neutral: bool,
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
            "{name:<36} n={n:<4} accuracy={acc:.3} precision={p:.3} recall={r:.3} f1={f1:.3} \
             (tp {} fp {} tn {} fn {})",
            self.tp, self.fp, self.tn, self.fn_
        )
    }
}

fn read(root: &Path, name: &str, columns: usize) -> Vec<Row> {
    read_path(&root.join("tests/fixtures/tone").join(name), columns)
}

fn read_path(path: &Path, columns: usize) -> Vec<Row> {
    let name = path.display();
    let data = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{name}: {e}"));
    let mut rows = Vec::new();
    for (i, line) in data.lines().enumerate().skip(1) {
        let f: Vec<&str> = line.split('\t').collect();
        assert_eq!(f.len(), columns, "{name}:{}: {columns} columns", i + 1);
        let label: ToneLabel = f[0]
            .parse()
            .unwrap_or_else(|e| panic!("{name}:{}: {e}", i + 1));
        rows.push(Row {
            negative: label == ToneLabel::Negative,
            neutral: label == ToneLabel::Neutral,
            text: f[1..].join("\n"),
        });
    }
    rows
}

/// An untuned set that is not kept in the repository (`tests/fixtures/tone/README.md`;
/// a script in `scripts/` writes it from a pinned copy), read from `$env`, else
/// `~/.cache/yuqing-tone-eval/<file>`, with `columns` tab-separated columns. When it is
/// not there the bench says so loudly: its figures are then not measured at all.
fn untuned_source(
    name: &str,
    env: &str,
    file: &str,
    script: &str,
    columns: usize,
) -> Option<Vec<Row>> {
    let path = match std::env::var_os(env) {
        Some(p) => PathBuf::from(p),
        None => PathBuf::from(std::env::var_os("HOME")?)
            .join(".cache/yuqing-tone-eval")
            .join(file),
    };
    if !path.is_file() {
        println!(
            "!!! {name}: {} NOT FOUND, so it is NOT MEASURED (not a pass): \
             run scripts/{script} (tests/fixtures/tone/README.md) or set {env}",
            path.display()
        );
        return None;
    }
    Some(read_path(&path, columns))
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    // `TONE_COMPONENTS=FILE`: for each line of FILE, the lexicon's sum, the model's
    // log-odds and the folded length (for scripts that study how the halves combine).
    if let Some(file) = std::env::var_os("TONE_COMPONENTS") {
        let lexicon = ToneLexicon::for_watchlists(&root.join("watchlists")).expect("tone lexicon");
        let scorer = ToneScorer::new(&lexicon);
        let data = std::fs::read_to_string(&file).expect("TONE_COMPONENTS file");
        for line in data.lines() {
            let line = line.replace("\\n", "\n");
            let (lex, logit, _) = scorer.components(&line);
            let folded = yuqing::classify::normalize::normalize_text(&line);
            let chars = folded.chars().count();
            println!(
                "{lex:.4}\t{logit:.4}\t{chars}\t{}",
                folded.replace(['\t', '\n'], " ")
            );
        }
        return;
    }
    let headlines = read(root, "headlines.tsv", 3);
    let untuned = read(root, "untuned.tsv", 2);
    let fresh = read(root, "fresh.tsv", 2);
    // The second source: SMP2020-EWECT's Weibo test split (emotion labels).
    let second = untuned_source(
        "second source (SMP2020-EWECT)",
        "YUQING_TONE_SECOND_SET",
        "smp2020-usual-test.tsv",
        "tone_second_set.py",
        2,
    );
    // The third source: CCF BDCI 2019's internet news sentiment set (news, WeChat, blogs,
    // Tieba; negative / neutral / positive), title and content as two columns.
    let third = untuned_source(
        "third source (CCF BDCI 2019 news)",
        "YUQING_TONE_THIRD_SET",
        "bdci2019-news.tsv",
        "tone_third_set.py",
        3,
    );
    let lexicon = ToneLexicon::for_watchlists(&root.join("watchlists")).expect("tone lexicon");
    let scorer = ToneScorer::new(&lexicon);

    // The sets: dev (index 0, 2, … of headlines: odd data rows), held out, untuned.
    let dev: Vec<&Row> = headlines.iter().step_by(2).collect();
    let held: Vec<&Row> = headlines.iter().skip(1).step_by(2).collect();
    let mut sets: Vec<(&str, Vec<&Row>)> = vec![
        ("headlines dev (tuned)", dev),
        ("headlines held out", held),
        ("untuned set", untuned.iter().collect()),
        ("fresh set (blind)", fresh.iter().collect()),
    ];
    if let Some(rows) = &second {
        sets.push(("second source (SMP2020-EWECT)", rows.iter().collect()));
    }
    if let Some(rows) = &third {
        sets.push(("third source (CCF BDCI 2019 news)", rows.iter().collect()));
    }
    println!("lexicon {:?}", lexicon.size());
    let components: Vec<Vec<(f64, f64, usize)>> = sets
        .iter()
        .map(|(_, rows)| rows.iter().map(|r| scorer.components(&r.text)).collect())
        .collect();

    let negatives = |rows: &[&Row]| rows.iter().filter(|r| r.negative).count();
    for (si, (name, rows)) in sets.iter().enumerate() {
        println!("{name}: {} items, {} negative", rows.len(), negatives(rows));
        let mut tone = Counts::default();
        let mut rules = Counts::default();
        let mut model = Counts::default();
        let mut base = Counts::default();
        // Neutral items: how many the scorer calls negative, neutral, positive.
        let mut neutral = [0usize; 3];
        for (r, &(lex, logit, _)) in rows.iter().zip(&components[si]) {
            let label = scorer.tone(&r.text).label;
            if r.neutral {
                neutral[label as usize] += 1;
            }
            let said = label == ToneLabel::Negative;
            tone.add(r.negative, said);
            rules.add(r.negative, label_of_lexicon(lex) == ToneLabel::Negative);
            model.add(r.negative, logit > 0.0);
            let (neg, pos) = scorer.lexicon_counts(&r.text);
            base.add(r.negative, neg > pos);
            if si == 0 && said != r.negative && std::env::var_os("TONE_SHOW_ERRORS").is_some() {
                println!(
                    "truth {} said {}\n{}",
                    r.negative,
                    said,
                    scorer.explain(&r.text)
                );
            }
        }
        println!("  {}", tone.line("tone scorer (lexicon+rules+model)"));
        println!("  {}", rules.line("lexicon and rules alone"));
        println!("  {}", model.line("model alone"));
        println!("  {}", base.line("lexicon count (baseline)"));
        let n: usize = neutral.iter().sum();
        if n > 0 {
            println!(
                "  neutral items ({n}): called negative {} ({:.3}), neutral {}, positive {} ({:.3})",
                neutral[0],
                neutral[0] as f64 / n as f64,
                neutral[1],
                neutral[2],
                neutral[2] as f64 / n as f64
            );
        }
    }

    // Speed, as a ratio to the baseline's pass over the same texts.
    let rows = &headlines;
    let rounds = 20;
    let t = Instant::now();
    let mut sink = 0usize;
    for _ in 0..rounds {
        for r in rows {
            sink += scorer.lexicon_counts(&r.text).0;
        }
    }
    let base_time = t.elapsed();
    let t = Instant::now();
    for _ in 0..rounds {
        for r in rows {
            sink += (scorer.tone(&r.text).score < 0.0) as usize;
        }
    }
    let tone_time = t.elapsed();
    let per_item = tone_time.as_secs_f64() * 1e6 / (rounds * rows.len()) as f64;
    println!(
        "speed: tone {per_item:.1} µs per item, {:.2}× the lexicon count's time ({sink})",
        tone_time.as_secs_f64() / base_time.as_secs_f64()
    );
    for (name, rows) in [("second source", &second), ("third source", &third)] {
        if rows.is_none() {
            println!("!!! {name} NOT MEASURED (its file is missing; see above)");
        }
    }
}
