//! Databases for behaviour tests: each test runs on a fresh SQLite file, and also on a fresh
//! PostgreSQL database when `YUQING_TEST_POSTGRES` names a server
//! (e.g. `postgres://postgres@127.0.0.1/test`; `.ci/run` sets it when one is running).

use sqlx::Connection;
use std::sync::atomic::{AtomicUsize, Ordering};

static NEXT: AtomicUsize = AtomicUsize::new(0);

/// The database URLs a behaviour test should run against: `None` means the default
/// SQLite file under the test's state dir.
pub async fn backends() -> Vec<Option<String>> {
    let mut all = vec![None];
    if let Some(url) = fresh_postgres().await {
        all.push(Some(url));
    }
    all
}

/// A new, empty PostgreSQL database on the `YUQING_TEST_POSTGRES` server, or `None` when
/// the variable is unset.
pub async fn fresh_postgres() -> Option<String> {
    let server = std::env::var("YUQING_TEST_POSTGRES")
        .ok()
        .filter(|s| !s.is_empty())?;
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
        .unwrap_or_else(|e| panic!("YUQING_TEST_POSTGRES={server} is set but unreachable: {e}"));
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await
        .expect("create a test database");
    let mut url = url::Url::parse(&server).expect("YUQING_TEST_POSTGRES is a URL");
    url.set_path(&name);
    Some(url.to_string())
}

/// The `database = …` line for a config, or nothing for the SQLite default.
pub fn config_line(backend: &Option<String>) -> String {
    match backend {
        Some(url) => format!("database = \"{url}\"\n"),
        None => String::new(),
    }
}
