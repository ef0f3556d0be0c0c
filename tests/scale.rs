//! A province watches tens of thousands of sources: claiming them must not run into the
//! databases' limits on bound parameters (SQLite 32,766, PostgreSQL 65,535), on either
//! backend, and a claimed source is not claimed again until its lease runs out.

use crate::common;

use common::TempDirs;
use yuqing::store::Store;

backend_test!(forty_thousand_sources_are_claimed_in_one_turn);
async fn forty_thousand_sources_are_claimed_in_one_turn(backend: Option<String>) {
    let dirs = TempDirs::new();
    let url = backend.clone().unwrap_or_else(|| dirs.database_url());
    let store = Store::open(&url).await.unwrap();
    let ids: Vec<String> = (0..40_000).map(|i| format!("s{i:05}")).collect();
    let claimed = store.claim_sources(&ids, "a:1:x", 100, 160).await.unwrap();
    assert_eq!(claimed.len(), ids.len(), "{backend:?}");
    let again = store.claim_sources(&ids, "b:2:y", 101, 161).await.unwrap();
    assert!(again.is_empty(), "held by a live lease: {}", again.len());
    let later = store.claim_sources(&ids, "b:2:y", 160, 220).await.unwrap();
    assert_eq!(later.len(), ids.len(), "taken over once the lease ran out");
}
