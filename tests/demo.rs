//! `yuqing demo` works on a fresh machine with no network: it serves the bundled feeds
//! (one GBK) on loopback and shows the incidents they open.

use std::process::Command;

#[test]
fn demo_opens_incidents_from_the_bundled_feeds() {
    let out = Command::new(env!("CARGO_BIN_EXE_yuqing"))
        .args(["demo", "--seconds", "16"])
        .current_dir(std::env::temp_dir())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("【舆情·重大】") && stdout.contains("示例山景区发生踩踏事件"),
        "{stdout}"
    );
    // The follow-up report (a new body under the event's headline) joins incident #1 and
    // is mailed as a new item of it; no third incident opens.
    assert!(
        stdout.contains("【舆情·新增】#1 A级景区安全事故：新增 1 条相关信息"),
        "{stdout}"
    );
    assert!(!stdout.contains("#3 "), "{stdout}");
    // From the GBK-encoded forum feed, decoded right.
    assert!(stdout.contains("跟团一日游被拉进玉器店"), "{stdout}");
    // The silent own account: a missed weekly publication duty, to its owner and leaders.
    assert!(
        stdout.contains("【发布违规】微信公众号「示例文旅」（wechat-demo） 未按要求更新"),
        "{stdout}"
    );
    assert!(stdout.contains("demo stopped"), "{stdout}");
    // The commands its mail prints work once the printed export is run.
    let export = stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix("export YUQING_CONFIG="))
        .unwrap_or_else(|| panic!("no export line: {stdout}"));
    assert!(export.contains("yuqing.toml YUQING_USER="), "{export}");
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
