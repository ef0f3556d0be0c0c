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

/// `yuqing check --config CONFIG`, run in the config's folder (where its relative paths
/// start), to its end.
pub fn check(config: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_yuqing"))
        .current_dir(config.parent().expect("the config is in a folder"))
        .args(["check", "--config"])
        .arg(config)
        .output()
        .expect("run yuqing check")
}

/// Runs a command to its end and returns its stdout, after asserting that it succeeded
/// (a failure shows the command, its status and both outputs).
pub fn stdout_of(command: &mut Command) -> String {
    let out = command.output().expect("run the command");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{command:?}: {}\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
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

    /// Sends the signal `name` (`HUP`, `TERM`) without waiting, as systemd would.
    pub fn signal(&self, name: &str) {
        let ok = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.pid().to_string())
            .status()
            .expect("run kill")
            .success();
        assert!(ok, "kill -{name}");
    }

    /// Waits for the exit (after a [`signal`](Running::signal)) without signalling again.
    pub fn wait(&mut self) -> ExitStatus {
        let mut c = self.child.take().expect("running");
        c.wait().expect("wait for yuqing")
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
