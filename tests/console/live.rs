//! `/events`, the live stream the dashboard listens to: it announces a new incident, and
//! it ends with its session (logout, expiry, a disabled user), a session holding only a
//! few streams at once.

use crate::common;
use crate::common::console::{
    first_items, logged_in, publish, site, Browser, DUTY, LEADER, OPERATOR,
};

#[tokio::test]
async fn events_announce_a_new_incident() {
    let site = site(&None).await;
    let b = logged_in(&site, DUTY).await;
    let mut res = events_of(&site, &b).await;
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/event-stream"));
    // Let the watcher take its first look, then a new event is reported.
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    let mut items = first_items();
    items.push((
        "某景区索道坍塌 游客被困",
        "https://bbs.example.cn/t/9",
        "t9",
        "Tue, 24 Nov 2026 09:00:00 +0800",
    ));
    publish(&site.s, &items).await;
    let got = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        let mut seen = String::new();
        while let Some(chunk) = res.chunk().await.unwrap() {
            seen.push_str(&String::from_utf8_lossy(&chunk));
            if seen.contains("event: change") {
                return seen;
            }
        }
        seen
    })
    .await
    .expect("a change event within 10s");
    assert_has!(got, "event: change");
}

/// `/events` with `b`'s session cookie.
async fn events_of(site: &common::console::Site, b: &Browser) -> reqwest::Response {
    let r = reqwest::Client::new()
        .get(format!("{}/events", site.url))
        .header("cookie", b.cookie_header())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r
}

/// Whether the stream ends within `within` (it sends nothing but keep-alives meanwhile).
async fn ends_within(mut r: reqwest::Response, within: std::time::Duration) -> bool {
    tokio::time::timeout(within, async { while let Ok(Some(_)) = r.chunk().await {} })
        .await
        .is_ok()
}

#[tokio::test]
async fn live_streams_end_with_their_session_and_a_session_holds_only_a_few() {
    use std::time::Duration as Wait;
    let site = site(&None).await;
    let store = &site.s.daemon.store;
    // Logout here: the stream ends at once.
    let b = logged_in(&site, DUTY).await;
    let live = events_of(&site, &b).await;
    b.get("/").await;
    assert_eq!(b.post("/logout", &[]).await.status, 303);
    assert!(
        ends_within(live, Wait::from_secs(3)).await,
        "outlived logout"
    );
    // Expired, or the user disabled: within the recheck.
    let b = logged_in(&site, LEADER).await;
    let live = events_of(&site, &b).await;
    sqlx::query("UPDATE sessions SET expires_at = 1")
        .execute(store.pool())
        .await
        .unwrap();
    assert!(
        ends_within(live, Wait::from_secs(12)).await,
        "outlived expiry"
    );
    let b = logged_in(&site, OPERATOR).await;
    let live = events_of(&site, &b).await;
    store.disable_user(OPERATOR, 10).await.unwrap();
    assert!(
        ends_within(live, Wait::from_secs(12)).await,
        "outlived disable"
    );
    // One session opening stream after stream: its oldest end, the newest stay.
    let b = logged_in(&site, DUTY).await;
    let mut streams = Vec::new();
    for _ in 0..8 {
        streams.push(events_of(&site, &b).await);
    }
    let newest = streams.split_off(2);
    for (i, s) in streams.into_iter().enumerate() {
        assert!(ends_within(s, Wait::from_secs(3)).await, "stream {i} kept");
    }
    assert_eq!(newest.len(), 6);
}
