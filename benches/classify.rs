//! `cargo bench --bench classify`: the compiled matcher against checking topics one by one.
//!
//! Builds a realistic load — 500 topics, 10,000 Chinese terms, 100 regexes, several MB of
//! news-like Chinese with Traditional, full-width, pinyin-annotated and entity-encoded
//! variants — then measures, in the same run, normalization + `Classifier::classify`
//! (the engine) and normalization + `str::contains` per term and `Regex::is_match` per
//! regex (the baseline). Prints a few lines for people, then, last, one JSON line:
//! `{"engine_mb_s", "baseline_mb_s", "ratio", "items_per_s", "engine_cpu_mb_s",
//! "baseline_cpu_mb_s", "cpu_ratio"}` — the `cpu` figures per second of the thread's CPU
//! time, which on a shared machine say what one core does. Deterministic: a fixed seed,
//! no clock in the data. A benchmark, not a timed test: nothing here fails on speed.
//! `CLASSIFY_DUMP=FILE` writes every verdict instead (see `dump`); `CLASSIFY_PROFILE=SECONDS`
//! runs the engine alone, for a profiler.

use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};
use yuqing::classify::normalize::normalize;
use yuqing::classify::watchlist::{build_regex, parse_file, Watchlists};
use yuqing::classify::Classifier;

const TOPICS: usize = 500;
const TERMS: usize = 10_000;
const REGEXES: usize = 100;
const CORPUS_BYTES: usize = 6 << 20;
const ROUNDS: usize = 4;

/// Frequent characters of Chinese news text.
const POOL: &str = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动\
同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体\
制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明\
看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位\
入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被\
干做必战先回则任取据处队南给色光门即保治北造百规热领七海口东导器压志世金增争济阶油思术极交受联什认六共权\
收证改清己美再采转更单风切打白教速花带安场身车例真务具万每目至达走积示议声报斗完类八离华名确才科张信马节\
话米整空元况今集温传土许步群广石记需段研界拉林律叫且究观越织装影算低持音众书布复容儿须际商非验连断深难近\
矿千周委素技备半办青省列习响约支般史感劳便团往酸历市克何除消构府称太准精值号率族维划选标写存候毛亲快效斯\
院查江型眼王按格养易置派层片始却专状育厂京识适属圆包火住调满县局照参红细引听该铁价严景区踩踏坍塌落水灾酒\
店旅游投诉文物疫情核酸游客事故伤亡遇难救援通报调查";

const UNITS: &[&str] = &["人", "名", "户", "起", "元", "万元"];

/// xorshift64*: reproducible without a dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
}

/// Simplified char → one Traditional char that folds to it (from fast2s's own table).
fn traditional_map() -> std::collections::HashMap<char, char> {
    let mut map = std::collections::HashMap::new();
    for cp in 0x4E00u32..0xA000 {
        let Some(t) = char::from_u32(cp) else {
            continue;
        };
        let s: Vec<char> = fast2s::convert(&t.to_string()).chars().collect();
        if s.len() == 1 && s[0] != t {
            map.entry(s[0]).or_insert(t);
        }
    }
    map
}

fn term(rng: &mut Rng, pool: &[char]) -> String {
    let len = match rng.below(10) {
        0..=2 => 2,
        3..=7 => 3,
        _ => 4,
    };
    (0..len).map(|_| *rng.pick(pool)).collect()
}

fn quoted(terms: &[String]) -> String {
    let q: Vec<String> = terms.iter().map(|t| format!("\"{t}\"")).collect();
    format!("[{}]", q.join(", "))
}

/// 500 topics as a watchlist file: 20 terms each, a regex every fifth topic, some with
/// several rules and a `near`.
fn watchlist(rng: &mut Rng, pool: &[char]) -> (String, Vec<String>) {
    let mut all_terms = Vec::with_capacity(TERMS);
    let mut seen = std::collections::HashSet::new();
    let mut src = String::new();
    let per_topic = TERMS / TOPICS;
    let sev = ["ordinary", "large", "major", "especially_major"];
    for i in 0..TOPICS {
        let mut terms: Vec<String> = Vec::with_capacity(per_topic);
        while terms.len() < per_topic {
            let t = term(rng, pool);
            if seen.insert(yuqing::classify::normalize::normalize_term(&t)) {
                terms.push(t);
            }
        }
        all_terms.extend(terms.iter().cloned());
        let (any, rest) = terms.split_at(12);
        let (all, none) = rest.split_at(5);
        let _ = writeln!(src, "[[topic]]\nid = \"t{i:03}\"\nname = \"话题{i}\"");
        let _ = writeln!(src, "severity = \"{}\"", rng.pick(&sev));
        let _ = writeln!(src, "\n[[topic.rule]]\nany = {}", quoted(any));
        let _ = writeln!(src, "all = {}\nnone = {}", quoted(&all[..1]), quoted(none));
        let _ = writeln!(
            src,
            "\n[[topic.rule]]\nall = {}\nany = {}",
            quoted(&all[1..3]),
            quoted(&all[3..5])
        );
        if i % (TOPICS / REGEXES) == 0 {
            let a = &any[0];
            let pattern = match (i / (TOPICS / REGEXES)) % 4 {
                0 => format!(r"{a}\d+{}", rng.pick(UNITS)),
                1 => format!(r"{a}.{{0,6}}{}", all[3]),
                2 => format!(r"(?:{a}|{})\d{{1,3}}{}", all[4], rng.pick(UNITS)),
                _ => format!(r"\d{{4}}年\d{{1,2}}月.{{0,4}}{a}"),
            };
            let _ = writeln!(
                src,
                "\n[[topic.rule]]\nseverity = \"major\"\nregex = ['{pattern}']"
            );
        }
        if i % 7 == 0 {
            let _ = writeln!(
                src,
                "\n[[topic.rule]]\nnear = {{ terms = {}, within = 10 }}",
                quoted(&all[3..5])
            );
        }
        src.push('\n');
    }
    (src, all_terms)
}

/// One news-like item: pool chars and punctuation, a few embedded terms, numbers, and in
/// some items Traditional characters, full-width digits and letters, inline pinyin and
/// HTML entities.
fn item(
    rng: &mut Rng,
    pool: &[char],
    terms: &[String],
    trad: &std::collections::HashMap<char, char>,
) -> String {
    let target = 300 + rng.below(2700); // bytes
    let traditional = rng.chance(25);
    let full_width = rng.chance(20);
    let mut s = String::with_capacity(target + 64);
    while s.len() < target {
        match rng.below(100) {
            0..=2 => {
                let t = rng.pick(terms);
                s.push_str(t)
            }
            3 => {
                let _ = write!(s, "死亡{}{}", rng.below(40), rng.pick(UNITS));
            }
            4 => {
                let _ = write!(s, "{}年{}月", 2000 + rng.below(26), 1 + rng.below(12));
            }
            5 => s.push_str("盤(pán)縣"),
            6 => s.push_str("&amp;"),
            7 => s.push_str(" COVID-19 "),
            8..=14 => {
                let p = *rng.pick(&["，", "。", "、", "；", "：", "“", "”"]);
                s.push_str(p)
            }
            _ => s.push(*rng.pick(pool)),
        }
    }
    if traditional || full_width {
        s = s
            .chars()
            .map(|c| match c {
                c if traditional && trad.contains_key(&c) && rng.chance(70) => trad[&c],
                '!'..='~' if full_width => char::from_u32(c as u32 + 0xFEE0).unwrap_or(c),
                c => c,
            })
            .collect();
    }
    s
}

/// Normalization, then each topic's terms and regexes one by one: what a plain loop over
/// the watchlists would do.
struct Baseline {
    rules: Vec<BaselineRule>,
}

/// Folded `any` (with `near` terms), `all`, `none` terms and the compiled regexes.
type BaselineRule = (Vec<String>, Vec<String>, Vec<String>, Vec<regex::Regex>);

impl Baseline {
    fn new(w: &Watchlists) -> Baseline {
        let fold = |v: &[String]| {
            v.iter()
                .map(|t| yuqing::classify::normalize::normalize_term(t))
                .collect()
        };
        let rules = w
            .topics
            .iter()
            .flat_map(|t| t.rules.iter())
            .map(|r| {
                let mut any: Vec<String> = fold(&r.any);
                if let Some(n) = &r.near {
                    any.extend(fold(&n.terms));
                }
                let regexes = r.regex.iter().filter_map(|p| build_regex(p).ok()).collect();
                (any, fold(&r.all), fold(&r.none), regexes)
            })
            .collect();
        Baseline { rules }
    }

    fn count(&self, text: &str) -> usize {
        let n = normalize(text);
        let t = n.text.as_str();
        self.rules
            .iter()
            .filter(|(any, all, none, re)| {
                (any.is_empty() || any.iter().any(|x| t.contains(x.as_str())))
                    && all.iter().all(|x| t.contains(x.as_str()))
                    && (re.is_empty() || re.iter().any(|r| r.is_match(t)))
                    && !none.iter().any(|x| t.contains(x.as_str()))
            })
            .count()
    }
}

/// Writes, for every item of the corpus and every text of the tone fixtures (classified
/// against the repository's `watchlists/`), the classification as JSON and the
/// explanation (`classify --explain`) as text.
fn dump(engine: &Classifier, corpus: &[String], file: &Path) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut out = String::new();
    let mut write = |engine: &Classifier, text: &str| {
        let c = engine.classify(text, None);
        let json = serde_json::to_string(&c).unwrap_or_else(|e| panic!("{e}"));
        let _ = writeln!(out, "{json}\n{}", engine.explain(text, None));
    };
    for it in corpus {
        write(engine, it);
    }
    let w = yuqing::classify::watchlist::load_dir(&root.join("watchlists"))
        .unwrap_or_else(|d| panic!("{d}"));
    let real = Classifier::new(&w).unwrap_or_else(|d| panic!("{d}"));
    let fixtures = root.join("tests/fixtures/tone");
    for name in ["headlines.tsv", "untuned.tsv", "short_neutral.txt"] {
        let data = std::fs::read_to_string(fixtures.join(name)).unwrap_or_else(|e| panic!("{e}"));
        for line in data.lines() {
            let text = line.split('\t').skip(1).collect::<Vec<_>>().join("\n");
            write(&real, if text.is_empty() { line } else { &text });
        }
    }
    std::fs::write(file, out).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    eprintln!("wrote {}", file.display());
}

/// The CPU time this thread has used: unlike the wall clock, it does not count the time
/// other processes had the core, so it says what one core does on a shared machine.
fn cpu_time() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid timespec for the call to write.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// What one measurement did.
struct Run {
    bytes: usize,
    items: usize,
    wall: Duration,
    cpu: Duration,
    found: usize,
}

impl Run {
    fn mb_s(&self) -> f64 {
        self.bytes as f64 / 1e6 / self.wall.as_secs_f64()
    }
    fn cpu_mb_s(&self) -> f64 {
        self.bytes as f64 / 1e6 / self.cpu.as_secs_f64()
    }
}

/// Runs `f` over `items` until at least `min` has passed.
fn measure(items: &[String], min: Duration, mut f: impl FnMut(&str) -> usize) -> Run {
    let start = Instant::now();
    let cpu = cpu_time();
    let (mut bytes, mut n, mut found) = (0, 0, 0);
    loop {
        for it in items {
            found += std::hint::black_box(f(it));
            bytes += it.len();
            n += 1;
        }
        if start.elapsed() >= min {
            return Run {
                bytes,
                items: n,
                wall: start.elapsed(),
                cpu: cpu_time() - cpu,
                found,
            };
        }
    }
}

fn main() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    // Only chars that fold to themselves, so that 10,000 written terms are 10,000 folded.
    let pool: Vec<char> = POOL
        .chars()
        .filter(|c| normalize(&c.to_string()).text == c.to_string())
        .collect();
    let trad = traditional_map();
    let (src, terms) = watchlist(&mut rng, &pool);
    let topics = parse_file(Path::new("bench.toml"), &src).unwrap_or_else(|d| panic!("{d}"));
    let w = Watchlists {
        topics,
        files: vec![],
        ..Default::default()
    };
    let t0 = Instant::now();
    let engine = Classifier::new(&w).unwrap_or_else(|d| panic!("{d}"));
    let build = t0.elapsed();
    let (topics, rules, distinct_terms, regexes) = engine.size();
    eprintln!(
        "compiled {topics} topics, {rules} rules, {distinct_terms} distinct terms, {regexes} regexes in {build:.2?}"
    );

    let mut corpus = Vec::new();
    let mut size = 0;
    while size < CORPUS_BYTES {
        let it = item(&mut rng, &pool, &terms, &trad);
        size += it.len();
        corpus.push(it);
    }
    eprintln!(
        "corpus: {} items, {:.1} MB",
        corpus.len(),
        size as f64 / 1e6
    );

    // `CLASSIFY_DUMP=FILE`: every verdict instead of a measurement, to check that a change
    // of the matcher's mechanics changes no result (`diff` two dumps).
    if let Some(file) = std::env::var_os("CLASSIFY_DUMP") {
        dump(&engine, &corpus, Path::new(&file));
        return;
    }

    // Warm up lazy tables (the 繁→简 table, regex caches) outside the measurement.
    for it in corpus.iter().take(50) {
        engine.classify(it, None);
    }

    // `CLASSIFY_PROFILE=SECONDS`: the engine alone for that long, for a profiler
    // (`perf record`, `valgrind --tool=callgrind`) to see nothing of the baseline.
    if let Some(secs) = std::env::var("CLASSIFY_PROFILE")
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
    {
        let e = measure(&corpus, Duration::from_secs_f64(secs), |t| {
            engine.classify(t, None).topics.len()
        });
        eprintln!(
            "engine alone: {} items, {:.1} MB per CPU second",
            e.items,
            e.cpu_mb_s()
        );
        return;
    }
    let baseline = Baseline::new(&w);
    let sample = &corpus[..corpus.len().min(300)];
    // The machine may be shared: alternate short rounds of each and keep each one's best,
    // so that a burst of load elsewhere does not decide the ratio.
    let (mut engine_mb_s, mut items_per_s, mut baseline_mb_s) = (0f64, 0f64, 0f64);
    let (mut engine_cpu, mut baseline_cpu) = (0f64, 0f64);
    for round in 1..=ROUNDS {
        let e = measure(&corpus, Duration::from_millis(800), |t| {
            engine.classify(t, None).topics.len()
        });
        eprintln!(
            "round {round}: engine {} items in {:.2?} = {:.1} MB/s ({:.1} MB per CPU second), {} topic matches",
            e.items, e.wall, e.mb_s(), e.cpu_mb_s(), e.found
        );
        if e.mb_s() > engine_mb_s {
            engine_mb_s = e.mb_s();
            items_per_s = e.items as f64 / e.wall.as_secs_f64();
        }
        engine_cpu = engine_cpu.max(e.cpu_mb_s());
        let b = measure(sample, Duration::from_millis(800), |t| baseline.count(t));
        eprintln!(
            "round {round}: baseline {} items in {:.2?} = {:.2} MB/s ({:.2} MB per CPU second), {} rule matches",
            b.items, b.wall, b.mb_s(), b.cpu_mb_s(), b.found
        );
        baseline_mb_s = baseline_mb_s.max(b.mb_s());
        baseline_cpu = baseline_cpu.max(b.cpu_mb_s());
    }
    let n = measure(&corpus, Duration::ZERO, |t| normalize(t).text.len());
    eprintln!(
        "normalization alone: {:.1} MB/s, {:.1} MB per CPU second ({} items)",
        n.mb_s(),
        n.cpu_mb_s(),
        n.items
    );

    // The same figures per CPU second: what one core does, whatever else the machine ran.
    eprintln!(
        "per CPU second: engine {engine_cpu:.1} MB, baseline {baseline_cpu:.2} MB, ratio {:.1}",
        engine_cpu / baseline_cpu
    );
    println!(
        "{{\"engine_mb_s\": {engine_mb_s:.1}, \"baseline_mb_s\": {baseline_mb_s:.2}, \"ratio\": {:.1}, \"items_per_s\": {items_per_s:.0}, \"engine_cpu_mb_s\": {engine_cpu:.1}, \"baseline_cpu_mb_s\": {baseline_cpu:.2}, \"cpu_ratio\": {:.1}}}",
        engine_mb_s / baseline_mb_s,
        engine_cpu / baseline_cpu
    );
}
