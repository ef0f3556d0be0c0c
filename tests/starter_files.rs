//! The shipped example deployment stays valid: `yuqing check` on config/yuqing.toml and the
//! starter watchlists passes, with every watchlist example.

use std::process::Command;

#[test]
fn shipped_config_and_watchlists_pass_check() {
    let stdout = crate::common::process::stdout_of(
        Command::new(env!("CARGO_BIN_EXE_yuqing"))
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .args(["check", "--config", "config/yuqing.toml"]),
    );
    assert_has!(stdout, "全部通过");
}

#[test]
fn classify_json_keeps_the_documented_shape() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_yuqing"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["classify", "--json", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    let text = "示例山景區發生踩踏事件 3人受傷";
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["severity"], "major", "{v}");
    let topic = v["topics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == "scenic-safety")
        .expect("scenic-safety matches Traditional text");
    let chars: Vec<char> = text.chars().collect();
    for e in topic["evidence"].as_array().unwrap() {
        let (s, en) = (
            e["start"].as_u64().unwrap() as usize,
            e["end"].as_u64().unwrap() as usize,
        );
        assert!(s < en && en <= chars.len(), "{e}");
        assert!(e["term"].is_string());
    }
    assert!(topic["name"].is_string());
}
