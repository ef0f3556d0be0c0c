//! One line in the test run's output saying whether the behaviour tests that also run on
//! PostgreSQL (tests/common/db.rs) did so, and which tests did not run at all without it.
//! libtest captures what passing tests print and counts a test that returned early as
//! passed, so a skip would otherwise pass unseen; this binary has no harness and prints
//! directly.

#[path = "common/db.rs"]
#[allow(dead_code)]
mod db;

/// Tests that need PostgreSQL and return early, loudly, without it: every
/// call of `common::db`'s `skipped` with a test's name in `tests/`, read from the sources so the list cannot
/// go stale.
fn postgres_only() -> Vec<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let mut names = Vec::new();
    for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
        let Ok(text) = std::fs::read_to_string(entry.path()) else {
            continue;
        };
        for (_, rest) in text
            .match_indices("db::skipped(")
            .map(|(i, _)| text.split_at(i))
        {
            if let Some(name) = rest.split('"').nth(1) {
                names.push(name.to_string());
            }
        }
    }
    names.sort();
    names
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
