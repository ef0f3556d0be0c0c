//! One line in the test run's output saying whether the behaviour tests that also run on
//! PostgreSQL (tests/common/db.rs) did so, and which tests did not run at all without it.
//! libtest captures what passing tests print and counts a test that returned early as
//! passed, so a skip would otherwise pass unseen; this binary has no harness and prints
//! directly.

#[path = "common/db.rs"]
#[allow(dead_code)]
mod db;

/// Tests that need PostgreSQL and return early, loudly, without it, read from the sources
/// so the list cannot go stale: the `NAME::postgres` half of every `backend_test!(NAME)` in
/// `tests/FILE.rs` (as `FILE::NAME::postgres`), and every call of `common::db`'s `skipped`
/// with a test's name.
fn postgres_only() -> Vec<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let mut names = Vec::new();
    for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
        let path = entry.path();
        let Some(module) = path.file_stem().and_then(|s| s.to_str()) else {
            continue;
        };
        // This file and the binary's root name the calls without making any.
        if ["postgres_notice", "tests"].contains(&module) {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        names.extend(first_arguments(&text, "backend_test!(", |a| {
            let name = a.split([',', ')']).next()?.trim();
            let ident = !name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || c == '_');
            ident.then(|| format!("{module}::{name}::postgres"))
        }));
        names.extend(first_arguments(&text, "db::skipped(", |a| {
            a.strip_prefix('"')?.split('"').next().map(str::to_string)
        }));
    }
    names.sort();
    names
}

/// What `read` makes of the text after each `call` in `text` (white space trimmed).
fn first_arguments(text: &str, call: &str, read: impl Fn(&str) -> Option<String>) -> Vec<String> {
    text.match_indices(call)
        .filter_map(|(i, _)| read(text[i + call.len()..].trim_start()))
        .collect()
}

fn main() {
    match db::server() {
        Some(url) => println!("PostgreSQL tests: on ({url})"),
        None => {
            let skipped = postgres_only();
            println!(
                "\n*** PostgreSQL tests: SKIPPED. No server on 127.0.0.1:5432 and \
                 YUQING_TEST_POSTGRES unset (or off): the store tests ran on SQLite only, and \
                 these {} tests DID NOT RUN, although libtest counts them as passed:",
                skipped.len()
            );
            for t in &skipped {
                println!("***   {t}");
            }
            println!(
                "*** Start PostgreSQL or set YUQING_TEST_POSTGRES=postgres://USER@HOST:5432/DB.\n"
            );
        }
    }
}
