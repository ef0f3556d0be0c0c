//! `/events`: server-sent events that tell open pages the store changed, so new incidents,
//! items and actions appear without a reload (the script then fetches the page again and
//! swaps its live part).
//!
//! One task per daemon looks at a marker in the store every two seconds (any daemon, or a
//! command line, may have written the change), and each browser's stream waits on it.
//!
//! A stream belongs to its session and ends with it (issue 26 §2.5: streams outlived
//! logout, and 261 from one operator filled the console): at once at a logout on this
//! daemon, and within `RECHECK` when the session ended otherwise (a logout on another
//! daemon, expiry, the user disabled or their password changed). A session holds at most
//! `PER_SESSION` streams and a user `PER_USER`; a new one ends the oldest (a reloaded
//! page's).

use super::auth::User;
use super::Console;
use crate::store::Store;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream::{self, Stream};
use std::convert::Infallible;
use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tower_sessions::Session;

/// How often the store is looked at.
pub const EVERY: Duration = Duration::from_secs(2);

/// How often a stream checks that its session still stands.
pub const RECHECK: Duration = Duration::from_secs(5);

/// Streams one session may hold at once.
pub const PER_SESSION: usize = 6;

/// Streams one user may hold at once, over all their sessions on this daemon (a script
/// logging in again and again must not fill the console either).
pub const PER_USER: usize = 12;

/// One live stream.
struct Live {
    n: u64,
    user: String,
    session: String,
    end: CancellationToken,
}

/// The live streams of this daemon, oldest first (a few hundred at most: each holds a
/// connection of the listener).
#[derive(Default)]
pub struct Streams {
    live: Mutex<Vec<Live>>,
    next: std::sync::atomic::AtomicU64,
}

impl Streams {
    /// A new stream of `session` of `user`, ending the session's oldest when it holds
    /// `PER_SESSION` already, and the user's oldest when they hold `PER_USER`.
    fn open(&self, user: &str, session: &str) -> (u64, CancellationToken) {
        let n = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let end = CancellationToken::new();
        let mut live = self.live.lock().unwrap_or_else(|e| e.into_inner());
        for (limit, mine) in [
            (
                PER_SESSION,
                &(|l: &Live| l.session == session) as &dyn Fn(&Live) -> bool,
            ),
            (PER_USER, &|l: &Live| l.user == user),
        ] {
            while live.iter().filter(|l| mine(l)).count() >= limit {
                if let Some(i) = live.iter().position(mine) {
                    live.remove(i).end.cancel();
                }
            }
        }
        live.push(Live {
            n,
            user: user.to_string(),
            session: session.to_string(),
            end: end.clone(),
        });
        (n, end)
    }

    fn close(&self, n: u64) {
        let mut live = self.live.lock().unwrap_or_else(|e| e.into_inner());
        live.retain(|l| l.n != n);
    }

    /// Ends every stream of `session` (its logout).
    pub fn end(&self, session: &str) {
        let mut live = self.live.lock().unwrap_or_else(|e| e.into_inner());
        live.retain(|l| {
            if l.session == session {
                l.end.cancel();
            }
            l.session != session
        });
    }
}

/// Takes a stream out of the registry when it ends, however it ends.
struct Registered {
    streams: std::sync::Arc<Streams>,
    n: u64,
}

impl Drop for Registered {
    fn drop(&mut self) {
        self.streams.close(self.n);
    }
}

/// Moves `changes` whenever the store's change marker moves; removes expired sessions and
/// old login counts once an hour. Ends with `shutdown`.
pub async fn watch_store(
    store: Store,
    clock: std::sync::Arc<dyn crate::vocab::clock::Clock>,
    changes: watch::Sender<u64>,
    shutdown: CancellationToken,
) {
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
            // They are written on the console's clock, so read it here too.
            let counted = clock.now().timestamp();
            if let Err(e) = store
                .delete_stale_login_attempts(counted - super::auth::FORGET_AFTER)
                .await
            {
                tracing::debug!(error = %format!("{e:#}"), "console: cannot remove old login counts");
            }
        }
    }
}

/// Whether the session `id`, opened for `user` with the password `stamp` at `since`,
/// still stands.
async fn still_stands(
    c: &Console,
    id: &str,
    user: &str,
    stamp: Option<&str>,
    since: Option<i64>,
) -> bool {
    let now = c.clock.now().timestamp();
    if since.is_some_and(|t| super::auth::too_old(c, t, now)) {
        return false;
    }
    match c.store.load_session(id, now).await {
        Ok(Some(_)) => {}
        Ok(None) => return false,
        Err(_) => return true, // the database failing is not the user logging out
    }
    match c.store.user(user).await {
        Ok(Some(u)) => super::auth::still_admitted(&u, stamp),
        Ok(None) => false,
        Err(_) => true,
    }
}

pub async fn stream(State(c): State<Console>, user: User, session: Session) -> Response {
    let Some(id) = session.id().map(|i| i.to_string()) else {
        return (
            axum::http::StatusCode::UNAUTHORIZED,
            "请先登录 (log in first)",
        )
            .into_response();
    };
    let stamp: Option<String> = session.get(super::auth::STAMP_KEY).await.ok().flatten();
    let since: Option<i64> = session.get(super::auth::SINCE_KEY).await.ok().flatten();
    let (n, end) = c.streams.open(&user.name, &id);
    let registered = Registered {
        streams: c.streams.clone(),
        n,
    };
    let rx = c.changes.clone();
    let stop = c.shutdown.clone();
    let mut check = tokio::time::interval(RECHECK);
    check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    check.reset();
    let state = (
        rx,
        stop,
        end,
        check,
        c,
        id,
        user.name,
        (stamp, since),
        registered,
    );
    let events = stream::unfold(state, |state| async move {
        let (mut rx, stop, end, mut check, c, id, name, stamp, registered) = state;
        loop {
            tokio::select! {
                _ = stop.cancelled() => return None,
                _ = end.cancelled() => return None,
                _ = check.tick() => {
                    if !still_stands(&c, &id, &name, stamp.0.as_deref(), stamp.1).await {
                        tracing::debug!(user = %name, "console: a live stream ended with its session");
                        return None;
                    }
                }
                r = rx.changed() => return match r {
                    Ok(()) => {
                        let n = *rx.borrow_and_update();
                        let event: Result<Event, Infallible> =
                            Ok(Event::default().event("change").data(n.to_string()));
                        Some((event, (rx, stop, end, check, c, id, name, stamp, registered)))
                    }
                    Err(_) => None,
                },
            }
        }
    });
    events_response(events)
}

fn events_response(
    events: impl Stream<Item = Result<Event, Infallible>> + Send + 'static,
) -> Response {
    Sse::new(events)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(20)))
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_stream_ends_the_oldest_of_its_session_and_of_its_user() {
        let streams = Streams::default();
        let mut opened = Vec::new();
        for i in 0..8 {
            opened.push(streams.open("王五", "s1").1);
            assert_eq!(
                opened.iter().filter(|e| !e.is_cancelled()).count(),
                (i + 1).min(PER_SESSION)
            );
        }
        // Other sessions of the same user: at most PER_USER over all of them.
        for s in 2..6 {
            for _ in 0..PER_SESSION {
                opened.push(streams.open("王五", &format!("s{s}")).1);
            }
        }
        assert_eq!(
            opened.iter().filter(|e| !e.is_cancelled()).count(),
            PER_USER
        );
        // Another user is not touched; a logout ends its session's streams.
        let other = streams.open("张三", "t1").1;
        streams.end("s5");
        assert!(!other.is_cancelled());
        assert_eq!(
            opened.iter().filter(|e| !e.is_cancelled()).count(),
            PER_USER - PER_SESSION
        );
    }
}
