//! Databases for behaviour tests: each test written with `backend_test!` (`common/mod.rs`)
//! runs on a fresh SQLite file, and again on a fresh PostgreSQL database when a server can be
//! had: the one `YUQING_TEST_POSTGRES` names
//! (e.g. `postgres://postgres@127.0.0.1/test`), or else a local server answering on
//! 127.0.0.1:5432 (`postgres://postgres@127.0.0.1:5432/test`, as `.ci/run` and a
//! developer's machine usually have). `YUQING_TEST_POSTGRES=off` runs SQLite only.
//!
//! A test that needs PostgreSQL and finds none says so on the terminal, past libtest's
//! capture (`skipped`), so a skip is never read as a pass.

use sqlx::Connection;
use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

static NEXT: AtomicUsize = AtomicUsize::new(0);

/// The server tried when `YUQING_TEST_POSTGRES` is unset.
pub const LOCAL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// Why a test that needs PostgreSQL did not run.
pub const NO_SERVER: &str =
    "needs PostgreSQL (none on 127.0.0.1:5432, YUQING_TEST_POSTGRES unset or off)";

/// A test's name as libtest prints it: `module_path` without the crate's name, then `last`
/// (`reminders::after_a_long_pause::postgres`).
pub fn test_name(module_path: &str, last: &str) -> String {
    let path = module_path.split_once("::").map_or("", |(_, p)| p);
    format!("{path}::{last}")
}

/// The PostgreSQL server the tests use: `YUQING_TEST_POSTGRES` when set (`off` for none),
/// else [`LOCAL`] when something listens on its port.
pub fn server() -> Option<String> {
    static SERVER: OnceLock<Option<String>> = OnceLock::new();
    SERVER
        .get_or_init(|| match std::env::var("YUQING_TEST_POSTGRES") {
            Ok(s) if s.eq_ignore_ascii_case("off") => None,
            Ok(s) if !s.is_empty() => Some(s),
            _ => {
                let addr = std::net::SocketAddr::from(([127, 0, 0, 1], 5432));
                std::net::TcpStream::connect_timeout(&addr, std::time::Duration::from_millis(500))
                    .ok()
                    .map(|_| LOCAL.to_string())
            }
        })
        .clone()
}

/// Says on the terminal, not in libtest's captured output, that `test` did not run and
/// why. libtest still counts the test as passed, so the line is loud.
pub fn skipped(test: &str, why: &str) {
    let _ = writeln!(
        std::io::stderr(),
        "\n*** SKIPPED, NOT PASSED: {test}: {why} ***\n"
    );
}

/// A new, empty PostgreSQL database on the [`server`], or `None` when there is none.
pub async fn fresh_postgres() -> Option<String> {
    let server = server()?;
    let name = format!(
        "yuqing_t_{}_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::SeqCst),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0)
    );
    let mut admin = sqlx::PgConnection::connect(&server)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL at {server} (YUQING_TEST_POSTGRES, or the local default) is unreachable: {e}; set YUQING_TEST_POSTGRES=off to run on SQLite only"));
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await
        .expect("create a test database");
    let mut url = url::Url::parse(&server).expect("the PostgreSQL server is a URL");
    url.set_path(&name);
    Some(url.to_string())
}

/// A connection to the SQLite database at `url` that holds its write lock (`BEGIN
/// EXCLUSIVE`) until it rolls back or is dropped, as another process would.
pub async fn hold_write_lock(url: &str) -> sqlx::SqliteConnection {
    let mut holder = sqlx::SqliteConnection::connect(url)
        .await
        .expect("open the daemon's database");
    sqlx::query("BEGIN EXCLUSIVE")
        .execute(&mut holder)
        .await
        .expect("take the write lock");
    holder
}

/// The `database = …` line for a config, or nothing for the SQLite default.
pub fn config_line(backend: &Option<String>) -> String {
    match backend {
        Some(url) => format!("database = \"{url}\"\n"),
        None => String::new(),
    }
}
