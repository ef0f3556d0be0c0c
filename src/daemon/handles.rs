//! File handles: how many the daemon may open, and how many of them its listeners may hold.
//!
//! The database, the mail connection, the polls' HTTP connections, the log and the config
//! files all need handles; so does every connection to the console and to `/metrics`. The
//! listeners get a bounded share (see `web::listener`), sized from the process's limit, so
//! no number of clients can starve the daemon's own work (issue 16). At start the soft limit
//! is raised to the hard one, as Go's runtime does: nothing in this process uses `select(2)`,
//! and systemd's `LimitNOFILE=` sets both.

/// Handles kept for the daemon's own work: a database pool of up to 16, an SMTP connection,
/// 16 polls at a time with their HTTP connections and redirects, instant-message requests,
/// the watchlist and calendar files read on a reload, the log, the runtime's own.
pub const RESERVED: u64 = 256;

/// How many connections each listener may hold at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    pub metrics: usize,
    pub console: usize,
}

/// The listeners' share of `limit` handles: a quarter of what the reserve leaves to the
/// console (up to 256: a few browsers, each with a live stream and a few requests) and a
/// sixteenth to `/metrics` (up to 32: a scraper and a probe or two), never below a few.
pub fn budget(limit: u64) -> Budget {
    let spare = limit.saturating_sub(RESERVED);
    Budget {
        metrics: (spare / 16).clamp(4, 32) as usize,
        console: (spare / 4).clamp(8, 256) as usize,
    }
}

/// Raises the soft limit on open files to the hard limit; returns the soft limit now in
/// force (`u64::MAX` when unlimited or unknown).
pub fn raise_limit() -> u64 {
    #[cfg(unix)]
    {
        let mut r = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit and setrlimit only read and write the struct passed.
        unsafe {
            if libc::getrlimit(libc::RLIMIT_NOFILE, &mut r) != 0 {
                return u64::MAX;
            }
            if r.rlim_cur < r.rlim_max {
                let raised = libc::rlimit {
                    rlim_cur: r.rlim_max,
                    rlim_max: r.rlim_max,
                };
                if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                    r.rlim_cur = r.rlim_max;
                }
            }
        }
        if r.rlim_cur == libc::RLIM_INFINITY {
            u64::MAX
        } else {
            // rlim_t is u64 on Linux, narrower elsewhere.
            #[allow(clippy::unnecessary_cast)]
            let limit = r.rlim_cur as u64;
            limit
        }
    }
    #[cfg(not(unix))]
    u64::MAX
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listeners_hold_a_bounded_share_of_the_handles() {
        // The unit's LimitNOFILE=8192, the common default 1024, a cramped 300.
        assert_eq!(
            budget(8192),
            Budget {
                metrics: 32,
                console: 256
            }
        );
        let b = budget(1024);
        assert_eq!(
            b,
            Budget {
                metrics: 32,
                console: 192
            }
        );
        assert!(((b.metrics + b.console) as u64) < 1024 - RESERVED);
        assert_eq!(
            budget(300),
            Budget {
                metrics: 4,
                console: 11
            }
        );
        assert_eq!(budget(u64::MAX).console, 256);
    }
}
