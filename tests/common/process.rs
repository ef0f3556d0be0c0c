//! The real `yuqing` binary as a child process, for the stories that need a process to die:
//! `kill -9` at a random point, SIGTERM mid-poll, several daemons on one database. Each
//! child logs (RUST_LOG=info, plain text) to its own file, which the test reads.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};

/// A running `yuqing run`; SIGTERM and wait when dropped.
pub struct Running {
    child: Option<Child>,
    pub log: PathBuf,
}

/// `yuqing ARGS --config CONFIG` in `root`, output appended to `log`.
pub fn yuqing(root: &Path, config: &Path, args: &[&str], log: &Path) -> Command {
    let out = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .expect("open the log file");
    let mut c = Command::new(env!("CARGO_BIN_EXE_yuqing"));
    c.current_dir(root)
        .env("RUST_LOG", "info,sqlx=warn,lettre=warn")
        .env("NO_COLOR", "1")
        .env("USER", "tester")
        .args(args)
        .arg("--config")
        .arg(config)
        .stdout(Stdio::from(out.try_clone().expect("dup log")))
        .stderr(Stdio::from(out));
    c
}

/// Starts `yuqing run`.
pub fn run(root: &Path, config: &Path, log: &Path) -> Running {
    let child = yuqing(root, config, &["run"], log)
        .spawn()
        .expect("start yuqing run");
    Running {
        child: Some(child),
        log: log.to_path_buf(),
    }
}

impl Running {
    /// A child started from `yuqing(…)` (e.g. with limits set before exec), logging to `log`.
    pub fn from_child(child: Child, log: &Path) -> Running {
        Running {
            child: Some(child),
            log: log.to_path_buf(),
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    /// `kill -9`, and reaps the process so it is gone from the process table.
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// SIGTERM, as systemd stops it; waits for the exit.
    pub fn terminate(&mut self) -> Option<ExitStatus> {
        let mut c = self.child.take()?;
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(c.id().to_string())
            .status();
        c.wait().ok()
    }

    /// What the process logged so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.terminate();
    }
}
