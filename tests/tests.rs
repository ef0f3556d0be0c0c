//! The integration tests, as one test binary (style habit 20, after ripgrep's
//! `tests/tests.rs`): each `tests/*.rs` used to be a binary of its own that linked the whole
//! crate, and linking them was most of a cold `cargo test` on two cores. `Cargo.toml` sets
//! `autotests = false`, so a file under `tests/` runs only when it is declared here; the test
//! at the end fails on one that is not. A large module keeps its stories in a folder of its
//! name (`tests/console/incidents.rs`), declared in `tests/console.rs`; the same test
//! fails on one of those that is not declared.
//!
//! A test module reaches the harness as `crate::common` (`use crate::common;`), and writes a
//! test that runs on SQLite and PostgreSQL once, with `backend_test!`. Tests of one module
//! run in the same process as every other's: no test may set a process-wide value that
//! another reads (the current directory, a global subscriber, a fixed port: ask
//! `common::free_port()`). A process-wide counter (`daemon::metrics`) is read as a
//! difference. The environment variables a test sets (the notifiers' `env:` secrets in
//! `notify.rs`) are named after that test alone (`YQ_T4_DING`) and always get one value, so
//! its SQLite and PostgreSQL runs agree and no other test reads them; child processes get
//! theirs with `Command::env`.
//! `tests/postgres_notice.rs` stays a binary of its own, without libtest, to print past its
//! capture.

#[macro_use]
mod common;

mod article;
mod briefing;
mod browser;
mod calendar_update;
mod classify_props;
mod cli;
mod cluster;
mod config_errors;
mod console;
mod daemon;
mod demo;
mod docs_links;
mod evidence;
mod exchange;
mod faults;
mod feed_corpus;
mod fetch;
mod follow_up;
mod grouping_pairs;
mod harness;
mod hostile;
mod jobs;
mod layers;
mod lifecycle;
mod metrics;
mod notify;
mod obligations;
mod politeness;
mod release;
mod reload;
mod reminders;
mod restart;
mod retention;
mod rsshub;
mod scale;
mod source_health;
mod starter_files;
mod store_values;
mod surge;
mod systemd;
mod tone;
mod unreadable;

/// Every `tests/*.rs` is a module of this binary (or `postgres_notice`, a binary of its
/// own), and every `tests/NAME/*.rs` a module of `tests/NAME.rs` (or `tests/NAME/mod.rs`):
/// with `autotests = false` an undeclared file would never compile or run, unseen.
#[test]
fn every_test_file_is_a_module_of_this_binary() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let main = std::fs::read_to_string(dir.join("tests.rs")).unwrap();
    let declares = |parent: &str, stem: &str| {
        parent
            .lines()
            .any(|l| l.trim_start_matches("pub ") == format!("mod {stem};"))
    };
    let mut missing = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap().flatten() {
        let path = entry.path();
        let Some(stem) = path.file_stem().and_then(|s| s.to_str()) else {
            continue;
        };
        if path.is_dir() {
            // A folder of submodules, declared in the module of its name.
            let parent = [dir.join(format!("{stem}.rs")), path.join("mod.rs")]
                .into_iter()
                .find_map(|p| std::fs::read_to_string(p).ok());
            let Some(parent) = parent else {
                continue; // fixtures, not code
            };
            for sub in std::fs::read_dir(&path).unwrap().flatten() {
                let sub = sub.path();
                let Some(name) = sub.file_stem().and_then(|s| s.to_str()) else {
                    continue;
                };
                if sub.extension().is_some_and(|e| e == "rs")
                    && name != "mod"
                    && !declares(&parent, name)
                {
                    missing.push(format!(
                        "tests/{stem}/{name}.rs is not declared in its parent module: \
                         add `mod {name};` there"
                    ));
                }
            }
            continue;
        }
        if path.extension().is_none_or(|e| e != "rs")
            || ["tests", "postgres_notice"].contains(&stem)
        {
            continue;
        }
        if !declares(&main, stem) {
            missing.push(format!(
                "tests/{stem}.rs is not declared in tests/tests.rs: add `mod {stem};` there \
                 (and `use crate::common;` instead of `mod common;` in the file)"
            ));
        }
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}
