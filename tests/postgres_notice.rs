//! One line in the test run's output saying whether the behaviour tests that also run on
//! PostgreSQL (tests/common/db.rs) did so. libtest captures what passing tests print, so a
//! skip would otherwise pass unseen; this binary has no harness and prints directly.

fn main() {
    match std::env::var("YUQING_TEST_POSTGRES")
        .ok()
        .filter(|s| !s.is_empty())
    {
        Some(url) => println!("PostgreSQL tests: on ({url})"),
        None => println!(
            "PostgreSQL tests: SKIPPED: the store tests ran on SQLite only; set \
             YUQING_TEST_POSTGRES=postgres://USER@HOST:5432/DB to run them on PostgreSQL too"
        ),
    }
}
