//! Serving HTTP within bounds, for the console and for `/metrics`.
//!
//! Every connection holds a file handle, and so does every database connection, mail
//! connection and config file the daemon opens. An unbounded listener let about 1,100 idle
//! loopback connections take all 1,024 handles: mail failed with "Too many open files",
//! `/healthz` hung and the file watcher saw the config folder vanish (issue 16). So a
//! listener here serves at most `max_connections` at a time (one more is closed at once,
//! never queued), and a request's headers must arrive within `header_timeout`, counted
//! from the connection's start and again between the requests of a kept-alive connection,
//! so an idle or trickling client lets go of its slot.

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

/// How many connections a listener holds at once, and how long a request's headers may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_connections: usize,
    pub header_timeout: Duration,
}

/// How long connections still open at shutdown may take to finish their request.
const CLOSE_GRACE: Duration = Duration::from_secs(2);

/// How often, at most, a listener logs the connections it refused or could not accept.
const QUIET: Duration = Duration::from_secs(60);

/// Serves `app` on `listener` within `limits` until `shutdown`. `what` names the listener
/// in the log ("console", "metrics"). Handlers may extract `ConnectInfo<SocketAddr>`.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    shutdown: CancellationToken,
    what: &'static str,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let mut refused: u64 = 0;
    let mut last_said: Option<Instant> = None;
    let mut say = |refused: &mut u64, error: Option<std::io::Error>| {
        let now = Instant::now();
        if last_said.is_some_and(|t| now.duration_since(t) < QUIET) {
            return;
        }
        last_said = Some(now);
        match error {
            Some(e) => tracing::warn!(listener = what, error = %e, "cannot accept a connection"),
            None => tracing::warn!(
                listener = what,
                refused = *refused,
                max_connections = limits.max_connections,
                "connections refused: the listener is at its limit (idle clients are closed \
                 after the header timeout)"
            ),
        }
        *refused = 0;
    };
    loop {
        let accepted = tokio::select! {
            _ = shutdown.cancelled() => break,
            a = listener.accept() => a,
        };
        let (stream, peer) = match accepted {
            Ok(a) => a,
            Err(e) => {
                // Out of handles (EMFILE) or a connection reset before it was taken: the
                // listener stays; a short pause keeps it from spinning.
                say(&mut refused, Some(e));
                tokio::select! {
                    _ = shutdown.cancelled() => break,
                    _ = tokio::time::sleep(Duration::from_millis(50)) => {}
                }
                continue;
            }
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            // Closed at once: the handle is given back now, and the client learns it.
            drop(stream);
            refused += 1;
            say(&mut refused, None);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let service =
            TowerToHyperService::new(app.clone().layer(axum::Extension(ConnectInfo(peer))));
        let stop = shutdown.clone();
        tokio::spawn(async move {
            let _slot = slot;
            let mut builder = http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(limits.header_timeout);
            let conn = builder.serve_connection(TokioIo::new(stream), service);
            let mut conn = std::pin::pin!(conn);
            tokio::select! {
                r = conn.as_mut() => {
                    if let Err(e) = r {
                        tracing::debug!(listener = what, peer = %peer, error = %e, "connection ended");
                    }
                    return;
                }
                _ = stop.cancelled() => conn.as_mut().graceful_shutdown(),
            }
            let _ = tokio::time::timeout(CLOSE_GRACE, conn).await;
        });
    }
}
