//! `sqlx::migrate!` embeds `migrations/` when the crate compiles, and cargo does not know
//! that: without this, a migration added without touching a source file would be left out
//! of the next build (sqlx's documented build script).
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
