//! Serving HTTP within bounds, for the console and for `/metrics`.
//!
//! Every connection holds a file handle, and so does every database connection, mail
//! connection and config file the daemon opens. An unbounded listener let about 1,100 idle
//! loopback connections take all 1,024 handles: mail failed with "Too many open files",
//! `/healthz` hung and the file watcher saw the config folder vanish (issue 16). So a
//! listener here holds at most `max_connections` at a time, and:
//!
//! - a request's headers must arrive within `header_timeout`, counted from the
//!   connection's start and again between the requests of a kept-alive connection;
//! - its body, and the answer up to the response's headers, within `request_timeout`
//!   after that (issue 26 §2.2: 270 `POST /login` sending 10 bytes of a 100,000-byte body
//!   held every slot for as long as they liked), else 408 and the connection is closed;
//! - a connection nobody has logged in on may hold only `anonymous` of the slots; the rest
//!   are kept for people logged in (the console marks a connection with [`Peer`]);
//! - when a new connection finds no room, the listener closes the oldest idle one (no
//!   request under way, and its task found nothing to read: a keep-alive or a client that
//!   never sent a byte), else the oldest anonymous one taken in over a quarter of a
//!   second ago (a slow client, not one whose request is still on its way), as nginx reuses its idle connections, and refuses the newcomer
//!   only when no connection can make room. A flood of idle clients thus cannot
//!   keep a probe of `/healthz` or a duty officer out.

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// How many connections a listener holds at once, and how long a request may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_connections: usize,
    /// Of `max_connections`, how many connections nobody has logged in on may hold.
    pub anonymous: usize,
    pub header_timeout: Duration,
    /// After its headers, a request's body and the answer's headers must be done within this.
    pub request_timeout: Duration,
}

impl Limits {
    /// `max_connections`, all of them open to anyone, headers within `header_timeout` and
    /// the rest of a request within three times that.
    pub fn new(max_connections: usize, header_timeout: Duration) -> Limits {
        Limits {
            max_connections,
            anonymous: max_connections,
            header_timeout,
            request_timeout: header_timeout.saturating_mul(3),
        }
    }

    /// The same, with an eighth of the slots kept for people logged in.
    pub fn keeping_for_logged_in(self) -> Limits {
        Limits {
            anonymous: (self.max_connections - self.max_connections / 8).max(1),
            ..self
        }
    }
}

/// A connection taken in this recently is not closed to make room unless it is idle: its
/// request may be on its way, and a burst of newcomers must not close it unread.
const GRACE: Duration = Duration::from_millis(250);

/// How long connections still open at shutdown may take to finish their request.
const CLOSE_GRACE: Duration = Duration::from_secs(2);

/// How often, at most, a listener logs the connections it refused or could not accept.
const QUIET: Duration = Duration::from_secs(60);

/// One connection as the listener sees it. Handlers reach it as an extension: the console
/// calls [`Peer::logged_in`] once a request's session names a user.
#[derive(Debug, Clone)]
pub struct Peer(Arc<State>);

#[derive(Debug)]
struct State {
    opened: Instant,
    /// A request is under way: bytes arrived since the last answer ended.
    busy: AtomicBool,
    /// The socket, to see whether a request waits in it unread (a probe must not be closed
    /// to make room before its task has even read it).
    #[cfg(unix)]
    fd: std::os::fd::RawFd,
    logged_in: AtomicBool,
    close: CancellationToken,
}

impl State {
    /// Bytes wait in the socket, unread: a request is on its way.
    fn unread(&self) -> bool {
        #[cfg(unix)]
        {
            let mut byte = 0u8;
            // SAFETY: recv writes at most one byte into `byte`; MSG_PEEK leaves it queued and
            // MSG_DONTWAIT never blocks. `fd` is the socket of a connection in the table
            // (its task takes it out as it ends; at shutdown, just after closing it, when a
            // stale number at worst peeks at nothing or at another socket).
            let n = unsafe {
                libc::recv(
                    self.fd,
                    (&mut byte as *mut u8).cast(),
                    1,
                    libc::MSG_PEEK | libc::MSG_DONTWAIT,
                )
            };
            n > 0
        }
        #[cfg(not(unix))]
        false
    }
}

impl Peer {
    /// Someone is logged in on this connection: it no longer counts as anonymous, and is
    /// the last to be closed to make room.
    pub fn logged_in(&self) {
        self.0.logged_in.store(true, Ordering::Relaxed);
    }
}

/// The connections a listener holds.
#[derive(Default)]
struct Table(Mutex<Vec<Peer>>);

/// What to do with a new connection.
#[derive(Debug, PartialEq, Eq)]
enum Room {
    Free,
    /// Room made by closing this one (index in the table).
    Evict(usize),
    Full,
}

/// Where a new connection goes, given the held ones (oldest first): a free slot when there
/// is one within the anonymous share, else the slot of the oldest idle connection, else of
/// the oldest anonymous one. `(busy, logged_in)` of each.
fn room(held: &[(bool, bool)], limits: &Limits) -> Room {
    let anonymous = held.iter().filter(|(_, l)| !l).count();
    let full = held.len() >= limits.max_connections.max(1);
    if !full && anonymous < limits.anonymous.max(1) {
        return Room::Free;
    }
    // The oldest idle anonymous one; when full, the oldest idle one; else the oldest
    // anonymous one. Within the total but over the anonymous share only an anonymous one
    // makes room.
    let idle_anonymous = held
        .iter()
        .position(|&(busy, logged_in)| !busy && !logged_in);
    let idle = held.iter().position(|&(busy, _)| full && !busy);
    let anonymous = held.iter().position(|&(_, logged_in)| !logged_in);
    match idle_anonymous.or(idle).or(anonymous) {
        Some(i) => Room::Evict(i),
        None => Room::Full,
    }
}

impl Table {
    /// A slot for a new connection, closing another to make room if need be; `None` when
    /// every slot is busy with people logged in.
    fn admit(
        &self,
        limits: &Limits,
        stream: &tokio::net::TcpStream,
    ) -> Option<(Peer, Option<Peer>)> {
        let mut held = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let anonymous = held
            .iter()
            .filter(|p| !p.0.logged_in.load(Ordering::Relaxed))
            .count();
        let crowded =
            held.len() >= limits.max_connections.max(1) || anonymous >= limits.anonymous.max(1);
        let states: Vec<(bool, bool)> = held
            .iter()
            .filter(|_| crowded)
            .map(|p| {
                let idle = !p.0.busy.load(Ordering::Relaxed) && !p.0.unread();
                // A busy connection taken in less than `GRACE` ago is kept like a logged-in
                // one: only a slow one (or one nobody has read yet for that long) makes room.
                let young = p.0.opened.elapsed() < GRACE;
                (
                    !idle,
                    p.0.logged_in.load(Ordering::Relaxed) || (!idle && young),
                )
            })
            .collect();
        let states = if crowded {
            states
        } else {
            // Room to spare: no need to look at every socket.
            held.iter()
                .map(|p| (true, p.0.logged_in.load(Ordering::Relaxed)))
                .collect()
        };
        let evicted = match room(&states, limits) {
            Room::Free => None,
            Room::Evict(i) => {
                let p = held.remove(i);
                p.0.close.cancel();
                Some(p)
            }
            Room::Full => return None,
        };
        let peer = Peer(Arc::new(State {
            opened: Instant::now(),
            busy: AtomicBool::new(false),
            #[cfg(unix)]
            fd: std::os::fd::AsRawFd::as_raw_fd(stream),
            logged_in: AtomicBool::new(false),
            close: CancellationToken::new(),
        }));
        held.push(peer.clone());
        Some((peer, evicted))
    }

    fn leave(&self, peer: &Peer) {
        let mut held = self.0.lock().unwrap_or_else(|e| e.into_inner());
        held.retain(|p| !Arc::ptr_eq(&p.0, &peer.0));
    }
}

/// The connection's stream, marking its peer busy when a request's bytes arrive.
struct Watched<S> {
    inner: S,
    peer: Peer,
}

impl<S: AsyncRead + Unpin> AsyncRead for Watched<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.peer.0.busy.store(true, Ordering::Relaxed);
        }
        r
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Watched<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// An answer's body that marks its peer idle once sent (or dropped): a live stream keeps
/// its connection busy for as long as it runs.
struct Answer {
    body: axum::body::Body,
    peer: Peer,
}

impl Drop for Answer {
    fn drop(&mut self) {
        self.peer.0.busy.store(false, Ordering::Relaxed);
    }
}

impl hyper::body::Body for Answer {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<hyper::body::Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }
    fn is_end_stream(&self) -> bool {
        hyper::body::Body::is_end_stream(&self.body)
    }
    fn size_hint(&self) -> hyper::body::SizeHint {
        hyper::body::Body::size_hint(&self.body)
    }
}

/// The request within `request_timeout` (408 and the connection closed otherwise); the
/// peer counted idle again once the answer's body is out.
async fn within_time(
    axum::extract::State(timeout): axum::extract::State<Duration>,
    axum::Extension(peer): axum::Extension<Peer>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    match tokio::time::timeout(timeout, next.run(req)).await {
        Ok(r) => r.map(|body| axum::body::Body::new(Answer { body, peer })),
        Err(_) => {
            tracing::debug!(timeout_secs = timeout.as_secs(), "request timed out");
            (
                axum::http::StatusCode::REQUEST_TIMEOUT,
                [(axum::http::header::CONNECTION, "close")],
                "请求超时 (request timed out)",
            )
                .into_response()
        }
    }
}

/// Serves `app` on `listener` within `limits` until `shutdown`. `what` names the listener
/// in the log ("console", "metrics"). Handlers may extract `ConnectInfo<SocketAddr>` and
/// `Extension<Peer>`.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    shutdown: CancellationToken,
    what: &'static str,
) {
    let table = Arc::new(Table::default());
    let app = app.layer(axum::middleware::from_fn_with_state(
        limits.request_timeout,
        within_time,
    ));
    let (mut refused, mut evicted): (u64, u64) = (0, 0);
    let mut last_said: Option<Instant> = None;
    let mut say = |refused: &mut u64, evicted: &mut u64, error: Option<std::io::Error>| {
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
                closed_to_make_room = *evicted,
                max_connections = limits.max_connections,
                "the listener is at its limit: idle and anonymous connections closed to make \
                 room, new ones refused when every slot is busy with people logged in"
            ),
        }
        *refused = 0;
        *evicted = 0;
    };
    loop {
        let accepted = tokio::select! {
            _ = shutdown.cancelled() => break,
            a = listener.accept() => a,
        };
        let (stream, addr) = match accepted {
            Ok(a) => a,
            Err(e) => {
                // Out of handles (EMFILE) or a connection reset before it was taken: the
                // listener stays; a short pause keeps it from spinning.
                say(&mut refused, &mut evicted, Some(e));
                tokio::select! {
                    _ = shutdown.cancelled() => break,
                    _ = tokio::time::sleep(Duration::from_millis(50)) => {}
                }
                continue;
            }
        };
        let Some((peer, closed)) = table.admit(&limits, &stream) else {
            // Closed at once: the handle is given back now, and the client learns it.
            drop(stream);
            refused += 1;
            say(&mut refused, &mut evicted, None);
            continue;
        };
        if let Some(closed) = closed {
            evicted += 1;
            tracing::debug!(
                listener = what,
                age_ms = closed.0.opened.elapsed().as_millis() as u64,
                "closed a connection to make room"
            );
            say(&mut refused, &mut evicted, None);
        }
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(
            app.clone()
                .layer(axum::Extension(peer.clone()))
                .layer(axum::Extension(ConnectInfo(addr))),
        );
        let stop = shutdown.clone();
        let table = table.clone();
        tokio::spawn(async move {
            let close = peer.0.close.clone();
            let io = Watched {
                inner: stream,
                peer: peer.clone(),
            };
            let mut builder = http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(limits.header_timeout);
            let conn = builder.serve_connection(TokioIo::new(io), service);
            let mut conn = std::pin::pin!(conn);
            tokio::select! {
                r = conn.as_mut() => {
                    if let Err(e) = r {
                        tracing::debug!(listener = what, peer = %addr, error = %e, "connection ended");
                    }
                    table.leave(&peer);
                    return;
                }
                // Closed to make room: dropped at once, whatever it was doing.
                _ = close.cancelled() => {
                    table.leave(&peer);
                    return;
                }
                _ = stop.cancelled() => conn.as_mut().graceful_shutdown(),
            }
            let _ = tokio::time::timeout(CLOSE_GRACE, conn).await;
            table.leave(&peer);
        });
        // Let the new connection's task look at its socket before the next one is taken in:
        // until it has, nobody knows whether it is idle, and a burst of newcomers would
        // make room by closing it.
        tokio::task::yield_now().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn room_is_made_by_closing_the_oldest_idle_then_the_oldest_anonymous() {
        let limits = Limits {
            max_connections: 4,
            anonymous: 3,
            header_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
        };
        const IDLE: (bool, bool) = (false, false);
        const BUSY: (bool, bool) = (true, false);
        const IN_IDLE: (bool, bool) = (false, true);
        const IN_BUSY: (bool, bool) = (true, true);
        assert_eq!(room(&[], &limits), Room::Free);
        assert_eq!(room(&[BUSY, IN_BUSY, IDLE], &limits), Room::Free);
        // Three anonymous: the fourth slot is kept for someone logged in.
        assert_eq!(room(&[BUSY, IDLE, BUSY, IN_BUSY], &limits), Room::Evict(1));
        assert_eq!(room(&[BUSY, BUSY, BUSY], &limits), Room::Evict(0));
        // Full: an idle connection goes first, a logged-in idle one before a busy one.
        assert_eq!(
            room(&[IN_BUSY, IN_IDLE, BUSY, IN_BUSY], &limits),
            Room::Evict(1)
        );
        assert_eq!(
            room(&[IN_BUSY, BUSY, IN_BUSY, IN_BUSY], &limits),
            Room::Evict(1)
        );
        assert_eq!(room(&[IN_BUSY; 4], &limits), Room::Full);
        let l = Limits::new(256, Duration::from_secs(10)).keeping_for_logged_in();
        assert_eq!(
            (l.anonymous, l.request_timeout),
            (224, Duration::from_secs(30))
        );
    }
}
