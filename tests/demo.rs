//! `yuqing demo` works on a fresh machine with no network: it serves the bundled feeds
//! (one GBK) on loopback and shows the incidents they open, and serves the duty console
//! with a demo user whose password it prints.

use crate::common;

use std::io::BufRead;
use std::process::{Command, Stdio};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_opens_incidents_from_the_bundled_feeds() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_yuqing"))
        .args(["demo", "--seconds", "16"])
        .current_dir(std::env::temp_dir())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Read what it prints as it runs: the console's line comes first, while it serves.
    let (console_tx, console_rx) = std::sync::mpsc::channel();
    let lines = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut all = String::new();
        for line in std::io::BufReader::new(lines).lines().map_while(Result::ok) {
            if line.starts_with("the duty console: ") {
                let _ = console_tx.send(line.clone());
            }
            all.push_str(&line);
            all.push('\n');
        }
        all
    });
    let console = console_rx
        .recv_timeout(std::time::Duration::from_secs(10))
        .expect("the demo prints its console's address");
    // `the duty console: http://127.0.0.1:PORT/  (user 演示值班员, password XXXX)`
    let url = console
        .split_whitespace()
        .nth(3)
        .unwrap()
        .trim_end_matches('/')
        .to_string();
    let (user, password) = console
        .split_once("(user ")
        .and_then(|(_, r)| r.trim_end_matches(')').split_once(", password "))
        .unwrap_or_else(|| panic!("{console}"));
    let b = common::console::Browser::new(&url);
    assert_eq!(b.get("/login").await.status, 200);
    let p = b
        .post(
            "/login",
            &[("username", user), ("password", password), ("next", "/")],
        )
        .await;
    assert_eq!(p.status, 303, "the printed password logs in: {}", p.body);
    let page = b.get("/").await;
    assert_eq!(page.status, 200);
    assert_has!(page.body, user);

    let out = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    let stdout = reader.join().unwrap();
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("【舆情·重大】") && stdout.contains("示例山景区发生踩踏事件"),
        "{stdout}"
    );
    // The follow-up report (a new body under the event's headline) joins the stampede's
    // incident and is mailed as a new item of it; no third incident opens. The two sample
    // feeds are polled at once, so the stampede is #1 or #2.
    let stampede = stdout
        .split("【舆情·重大】#")
        .nth(1)
        .and_then(|rest| rest.split_once(' '))
        .map(|(n, _)| n.to_string())
        .unwrap_or_else(|| panic!("{stdout}"));
    assert_has!(
        stdout,
        &format!("【舆情·新增】#{stampede} A级景区安全事故：新增 1 条相关信息")
    );
    assert!(!stdout.contains("#3 "), "{stdout}");
    // From the GBK-encoded forum feed, decoded right.
    assert_has!(stdout, "跟团一日游被拉进玉器店");
    // The silent own account: a missed weekly publication duty, to its owner and leaders.
    assert_has!(
        stdout,
        "【发布违规】微信公众号「示例文旅」（wechat-demo） 未按要求更新"
    );
    assert_has!(stdout, "demo stopped");
    // The commands its mail prints work once the printed export is run.
    let export = stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix("export YUQING_CONFIG="))
        .unwrap_or_else(|| panic!("no export line: {stdout}"));
    assert_has!(export, "yuqing.toml YUQING_USER=");
    // Its poll logs stay out of the mail it prints.
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("polled"), "{stderr}");
    // It leaves no folder behind.
    let folder = stdout
        .lines()
        .find_map(|l| l.strip_prefix("demo stopped; its folder "))
        .and_then(|l| l.split(" is removed").next())
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(
        !std::path::Path::new(folder).exists(),
        "{folder} left behind"
    );
}
