//! `cargo bench --bench article`: how fast an article page is read (`fetch::article::read`:
//! charset, DOM, readability, title, time and byline), in MB of HTML a second, over the
//! fixture pages (`tests/fixtures/article/`: GNE's 29 Chinese news and government pages
//! and the GBK notice, about 5.3 MB). The baseline, measured in the same run over the same bytes, is
//! what the poll does with a page it does not read as an article: decode the charset and
//! take the whole page's text (`charset::decode` + `page::body_text`). The last line is one
//! JSON object: MB/s of each, their ratio, and the time of the slowest page.

use std::path::Path;
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use yuqing::fetch::{article, charset, page};

const ROUNDS: usize = 5;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/article");
    let mut pages: Vec<(String, Vec<u8>)> = Vec::new();
    for dir in [root.join("gne"), root.join("gov"), root.clone()] {
        let mut names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.expect("dir entry").path())
            .filter(|p| {
                let name = p.to_string_lossy();
                name.ends_with(".html") || name.ends_with(".html.gz")
            })
            .collect();
        names.sort();
        for p in names {
            // Third-party pages are kept gzipped; read them as published.
            let mut bytes = Vec::new();
            let file = std::fs::File::open(&p).expect("open page");
            if p.extension().is_some_and(|x| x == "gz") {
                std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(file), &mut bytes)
            } else {
                std::io::Read::read_to_end(&mut { file }, &mut bytes)
            }
            .expect("read page");
            let name = p.file_name().unwrap().to_string_lossy();
            pages.push((name.trim_end_matches(".gz").to_string(), bytes));
        }
    }
    let bytes: usize = pages.iter().map(|(_, b)| b.len()).sum();
    let mb = bytes as f64 / 1e6;
    let now = Utc.with_ymd_and_hms(2026, 11, 24, 6, 0, 0).unwrap();
    let tz = chrono_tz::Asia::Shanghai;

    let mut slowest = (Duration::ZERO, String::new());
    let mut text_chars = 0usize;
    let mut baseline = Duration::ZERO;
    let mut reading = Duration::ZERO;
    // Alternate the two, round by round, so a neighbour's build slows both alike.
    for round in 0..ROUNDS {
        let started = Instant::now();
        for (_, html) in &pages {
            let decoded = charset::decode(html, Some("text/html"));
            std::hint::black_box(page::body_text(&decoded.text, None));
        }
        baseline += started.elapsed();

        let started = Instant::now();
        for (name, html) in &pages {
            let one = Instant::now();
            let a = article::read(
                html,
                Some("text/html"),
                "https://news.example.cn/a.html",
                now,
                tz,
            )
            .unwrap_or_else(|e| panic!("{name}: {e}"));
            let took = one.elapsed();
            if round == 0 {
                text_chars += a.text.chars().count();
            }
            if took > slowest.0 {
                slowest = (took, name.clone());
            }
            std::hint::black_box(a);
        }
        reading += started.elapsed();
    }
    let mb_s = |d: Duration| mb * ROUNDS as f64 / d.as_secs_f64();
    let (article_mb_s, baseline_mb_s) = (mb_s(reading), mb_s(baseline));
    println!(
        "{} pages, {mb:.2} MB of HTML, {text_chars} characters of article text, {ROUNDS} rounds; \
         slowest page {} ({:.1} ms)",
        pages.len(),
        slowest.1,
        slowest.0.as_secs_f64() * 1e3
    );
    println!(
        "{{\"pages\": {}, \"mb\": {mb:.2}, \"article_mb_s\": {article_mb_s:.2}, \
         \"baseline_mb_s\": {baseline_mb_s:.2}, \"ratio\": {:.2}, \"pages_per_s\": {:.1}, \
         \"slowest_page_ms\": {:.1}}}",
        pages.len(),
        article_mb_s / baseline_mb_s,
        (pages.len() * ROUNDS) as f64 / reading.as_secs_f64(),
        slowest.0.as_secs_f64() * 1e3
    );
}
