//! `/events`: server-sent events that tell open pages the store changed, so new incidents,
//! items and actions appear without a reload (the script then fetches the page again and
//! swaps its live part).
//!
//! One task per daemon looks at a marker in the store every two seconds (any daemon, or a
//! command line, may have written the change), and each browser's stream waits on it.

use super::auth::User;
use super::Console;
use crate::store::Store;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream::{self, Stream};
use std::convert::Infallible;
use std::time::Duration;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

/// How often the store is looked at.
pub const EVERY: Duration = Duration::from_secs(2);

/// Moves `changes` whenever the store's change marker moves; removes expired sessions and
/// old login counts once an hour. Ends with `shutdown`.
pub async fn watch_store(store: Store, changes: watch::Sender<u64>, shutdown: CancellationToken) {
    let mut last = None;
    let mut tick = tokio::time::interval(EVERY);
    let mut turns: u64 = 0;
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tick.tick() => {}
        }
        match store.change_marker().await {
            Ok(m) if last != Some(m) => {
                if last.is_some() {
                    changes.send_modify(|n| *n += 1);
                }
                last = Some(m);
            }
            Ok(_) => {}
            Err(e) => {
                tracing::debug!(error = %format!("{e:#}"), "console: cannot read the change marker")
            }
        }
        turns += 1;
        if turns % 1800 == 1 {
            let now = chrono::Utc::now().timestamp();
            if let Err(e) = store.delete_expired_sessions(now).await {
                tracing::debug!(error = %format!("{e:#}"), "console: cannot remove expired sessions");
            }
            // Login counts idle past their window; a count still making someone wait stays.
            if let Err(e) = store
                .delete_stale_login_attempts(now - super::auth::FORGET_AFTER)
                .await
            {
                tracing::debug!(error = %format!("{e:#}"), "console: cannot remove old login counts");
            }
        }
    }
}

pub async fn stream(
    State(c): State<Console>,
    _user: User,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let rx = c.changes.clone();
    let stop = c.shutdown.clone();
    let events = stream::unfold((rx, stop), |(mut rx, stop)| async move {
        tokio::select! {
            _ = stop.cancelled() => None,
            r = rx.changed() => match r {
                Ok(()) => {
                    let n = *rx.borrow_and_update();
                    Some((Ok(Event::default().event("change").data(n.to_string())), (rx, stop)))
                }
                Err(_) => None,
            },
        }
    });
    Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(20)))
}
