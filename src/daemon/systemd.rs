//! systemd's notification protocol (sd_notify(3)) for `Type=notify` with a watchdog.
//!
//! `READY=1` once the store is open and the first loop turn starts; `WATCHDOG=1` only when
//! the loop completes a turn, at most every half `WATCHDOG_USEC`, so a hung scheduler stops
//! feeding it and systemd restarts the daemon; `RELOADING=1` … `READY=1` around a SIGHUP
//! reload; `STOPPING=1` on shutdown; a `STATUS=` line for `systemctl status`. Without
//! `NOTIFY_SOCKET` (not under systemd) every call does nothing.
//!
//! The protocol is one datagram per message on a Unix socket; it is written here (some 30
//! lines) rather than taken from the `sd-notify` crate, whose current release needs a newer
//! Rust than this crate's `rust-version`.

use crate::daemon::scheduler::Daemon;
use std::time::{Duration, Instant};

/// How often the `STATUS=` line is refreshed (it reads the database).
const STATUS_EVERY: Duration = Duration::from_secs(30);

/// The daemon's side of the protocol; owned by the scheduler loop.
pub struct Notifier {
    #[cfg(unix)]
    socket: Option<(
        std::os::unix::net::UnixDatagram,
        std::os::unix::net::SocketAddr,
    )>,
    watchdog: Option<Duration>,
    last_ping: Option<Instant>,
    last_status: Option<Instant>,
    ready: bool,
}

impl Notifier {
    /// Reads `NOTIFY_SOCKET`, `WATCHDOG_USEC` and `WATCHDOG_PID` from the environment.
    pub fn from_env() -> Notifier {
        let watchdog = std::env::var("WATCHDOG_USEC")
            .ok()
            .and_then(|v| v.trim().parse::<u64>().ok())
            .filter(|&us| us > 0)
            .filter(|_| {
                std::env::var("WATCHDOG_PID")
                    .ok()
                    .and_then(|p| p.trim().parse::<u32>().ok())
                    .is_none_or(|pid| pid == std::process::id())
            })
            .map(Duration::from_micros);
        let mut n = Notifier {
            #[cfg(unix)]
            socket: std::env::var_os("NOTIFY_SOCKET").and_then(|p| connect(&p)),
            watchdog,
            last_ping: None,
            last_status: None,
            ready: false,
        };
        if !n.enabled() {
            // Nobody to feed: the loop keeps its own tick.
            n.watchdog = None;
        }
        if n.enabled() {
            tracing::info!(
                watchdog_ms = n.watchdog.map(|w| w.as_millis() as u64),
                "notifying systemd"
            );
        }
        n
    }

    fn enabled(&self) -> bool {
        #[cfg(unix)]
        {
            self.socket.is_some()
        }
        #[cfg(not(unix))]
        false
    }

    /// Sends one message (`KEY=value` lines); errors are logged, never fatal.
    pub fn notify(&self, message: &str) {
        #[cfg(unix)]
        if let Some((socket, addr)) = &self.socket {
            if let Err(e) = socket.send_to_addr(message.as_bytes(), addr) {
                tracing::warn!(error = %e, "cannot notify systemd");
            }
        }
        #[cfg(not(unix))]
        let _ = message;
    }

    /// The longest the loop may sleep between turns so the watchdog is fed in time.
    pub fn max_sleep(&self) -> Duration {
        self.watchdog.map_or(Duration::MAX, |w| w / 4)
    }

    /// At the start of a loop turn: the first one tells systemd the daemon is ready.
    pub fn turn_started(&mut self) {
        if !self.ready {
            self.ready = true;
            self.notify("READY=1\nSTATUS=first loop turn");
        }
    }

    /// At the end of a loop turn: records liveness for `/healthz`, feeds the watchdog, and
    /// now and then refreshes the status line.
    pub async fn turn_done(
        &mut self,
        daemon: &Daemon,
        polls_in_flight: usize,
        store: &anyhow::Result<()>,
    ) {
        crate::daemon::metrics::turn_completed(
            store.as_ref().err().map(crate::vocab::text::error_chain),
        );
        if !self.enabled() {
            return;
        }
        let now = Instant::now();
        if let Some(w) = self.watchdog {
            if self.last_ping.is_none_or(|t| now - t >= w / 2) {
                self.last_ping = Some(now);
                self.notify("WATCHDOG=1");
            }
        }
        if self.last_status.is_none_or(|t| now - t >= STATUS_EVERY) {
            self.last_status = Some(now);
            crate::daemon::metrics::refresh(daemon).await;
            let m = crate::daemon::metrics::get();
            let open: i64 = crate::vocab::severity::Severity::ALL
                .iter()
                .map(|s| {
                    m.incidents_open
                        .get_or_create(&crate::daemon::metrics::SeverityLabel {
                            severity: s.as_str().to_string(),
                        })
                        .get()
                })
                .sum();
            let sources = daemon.settings.get().config.sources.len();
            let mut status = format!(
                "polling {sources} sources ({polls_in_flight} in flight), {open} open incidents, \
                 {} mail queued",
                m.outbox_depth.get()
            );
            if let Err(e) = store {
                status.push_str(&format!("; database error: {e}"));
            }
            self.notify(&format!("STATUS={}", status.replace('\n', " ")));
        }
    }

    /// Runs a reload between `RELOADING=1` and `READY=1`.
    pub fn reloading(&self, reload: impl FnOnce()) {
        self.notify("RELOADING=1\nSTATUS=reloading config and watchlists");
        reload();
        self.notify("READY=1\nSTATUS=reloaded");
    }

    pub fn stopping(&self) {
        self.notify("STOPPING=1\nSTATUS=stopping: finishing polls in flight and sending mail");
    }
}

/// A socket to send to `NOTIFY_SOCKET`: a path, or `@name` for an abstract socket.
#[cfg(unix)]
fn connect(
    path: &std::ffi::OsStr,
) -> Option<(
    std::os::unix::net::UnixDatagram,
    std::os::unix::net::SocketAddr,
)> {
    use std::os::unix::ffi::OsStrExt;
    let bytes = path.as_bytes();
    let addr = match bytes.first() {
        Some(b'/') => std::os::unix::net::SocketAddr::from_pathname(path),
        #[cfg(target_os = "linux")]
        Some(b'@') => {
            use std::os::linux::net::SocketAddrExt;
            std::os::unix::net::SocketAddr::from_abstract_name(&bytes[1..])
        }
        _ => {
            tracing::warn!(socket = ?path, "NOTIFY_SOCKET is neither a path nor @abstract; not notifying");
            return None;
        }
    };
    let socket = std::os::unix::net::UnixDatagram::unbound()
        .and_then(|s| s.set_nonblocking(true).map(|_| s));
    match (socket, addr) {
        (Ok(s), Ok(a)) => Some((s, a)),
        (Err(e), _) | (_, Err(e)) => {
            tracing::warn!(socket = ?path, error = %e, "cannot open NOTIFY_SOCKET; not notifying");
            None
        }
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn sends_datagrams_to_a_path_socket() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notify");
        let server = std::os::unix::net::UnixDatagram::bind(&path).unwrap();
        let (socket, addr) = connect(path.as_os_str()).expect("connects");
        let n = Notifier {
            socket: Some((socket, addr)),
            watchdog: Some(Duration::from_secs(8)),
            last_ping: None,
            last_status: None,
            ready: false,
        };
        assert_eq!(n.max_sleep(), Duration::from_secs(2));
        n.notify("READY=1");
        let mut buf = [0u8; 256];
        let len = server.recv(&mut buf).unwrap();
        assert_eq!(&buf[..len], b"READY=1");
    }

    #[test]
    fn refuses_a_relative_socket() {
        assert!(connect(std::ffi::OsStr::new("relative/notify")).is_none());
    }
}
