//! Setting the console up from the command line: the first user made with `yuqing user`,
//! `yuqing run` serving the console, roles and passwords changed while logged in, and a
//! console beyond loopback only when asked for.

use crate::common;
use crate::common::console::{Browser, DUTY, PASSWORD};

use std::process::Command;

/// `yuqing user …` with the password on stdin; exit code and output.
fn user_cmd(
    dirs: &common::TempDirs,
    config: &std::path::Path,
    args: &[&str],
    stdin: &str,
) -> (i32, String) {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_yuqing"))
        .current_dir(dirs.root())
        .arg("user")
        .args(args)
        .arg("--config")
        .arg(config)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

#[tokio::test]
async fn the_first_user_is_made_on_the_command_line_and_yuqing_run_serves_the_console() {
    let dirs = common::TempDirs::new();
    dirs.write("watchlists/w.toml", common::SCENIC_MAJOR);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = dirs.write(
        "yuqing.toml",
        format!(
            "[daemon]\nwatchlists = \"watchlists\"\nstate_dir = \"var\"\n[web]\nlisten = \"127.0.0.1:{port}\"\n"
        ),
    );
    let (code, out) = user_cmd(&dirs, &config, &["list"], "");
    assert_eq!(code, 0, "{out}");
    assert_has!(out, "还没有用户");

    let log = dirs.root().join("run.log");
    let mut daemon = common::process::run(dirs.root(), &config, &log);
    let mut text = String::new();
    // The hint comes just after the listening line (it reads the users first): wait for
    // both, or a slow machine reads the log between them.
    for _ in 0..150 {
        text = daemon.log_text();
        if text.contains("console listening") && text.contains("yuqing user add") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_has!(text, &format!("url=http://127.0.0.1:{port}/"));
    assert!(
        text.contains("yuqing user add NAME --role duty"),
        "the log says how to add a user: {text}"
    );
    let b = Browser::new(&format!("http://127.0.0.1:{port}"));
    assert!(b.get("/login").await.body.contains("尚未创建任何用户"));

    // Mistakes are exit 2, and add nobody.
    for (args, stdin, why) in [
        (
            vec!["add", DUTY, "--role", "duty", "--password-stdin"],
            "short\n",
            "at least 8",
        ),
        // Eight spaces, the commonest password, one kind of character (issue 26 §2.9).
        (
            vec!["add", DUTY, "--role", "duty", "--password-stdin"],
            "        \n",
            "only white space",
        ),
        (
            vec!["add", DUTY, "--role", "duty", "--password-stdin"],
            "12345678\n",
            "most common passwords",
        ),
        (
            vec!["add", DUTY, "--role", "duty", "--password-stdin"],
            "woaini1314\n",
            "most common passwords",
        ),
        (
            vec!["add", DUTY, "--role", "duty", "--password-stdin"],
            "98127364\n",
            "two kinds of characters",
        ),
        (
            vec!["add", DUTY, "--role", "boss", "--password-stdin"],
            "a long password\n",
            "unknown role",
        ),
        (
            vec!["passwd", "nobody", "--password-stdin"],
            "a long password\n",
            "没有用户 `nobody`",
        ),
        (vec!["disable", "nobody"], "", "没有用户 `nobody`"),
        (vec!["role", "nobody", "leader"], "", "没有用户 `nobody`"),
        (vec!["role", DUTY, "boss"], "", "unknown role `boss`"),
    ] {
        let (code, out) = user_cmd(&dirs, &config, &args, stdin);
        assert_eq!(code, 2, "{args:?}: {out}");
        assert!(out.contains(why), "{args:?}: {out}");
    }
    let (code, out) = user_cmd(
        &dirs,
        &config,
        &["add", DUTY, "--role", "duty", "--password-stdin"],
        &format!("{PASSWORD}\n"),
    );
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("已添加用户") && out.contains("（duty）"),
        "{out}"
    );
    let (code, out) = user_cmd(
        &dirs,
        &config,
        &["add", DUTY, "--role", "leader", "--password-stdin"],
        &format!("{PASSWORD}\n"),
    );
    assert_eq!(code, 2, "a second 张三: {out}");
    assert!(!b.get("/login").await.body.contains("尚未创建任何用户"));
    b.login(DUTY).await;
    let home = b.get("/").await;
    assert_eq!(home.status, 200);
    assert_has!(home.body, "张三（值班员）");

    // A new role holds from the next request on, in the same session.
    let (code, out) = user_cmd(&dirs, &config, &["role", DUTY, "leader"], "");
    assert_eq!(code, 0, "{out}");
    assert_has!(out, "角色改为 领导（leader）");
    let home = b.get("/").await;
    assert_eq!(home.status, 200);
    assert_has!(home.body, "张三（领导）");
    let (_, out) = user_cmd(&dirs, &config, &["list"], "");
    assert_has!(out, "张三\tleader\t可登录");

    // A role this version does not know (written by hand, or by a newer version) stops
    // the list with the value and the way to repair it; `user role` repairs it.
    let db = dirs.root().join("var/yuqing.db");
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", db.display()))
        .await
        .unwrap();
    sqlx::query("UPDATE users SET role = 'admin'")
        .execute(&pool)
        .await
        .unwrap();
    let (code, out) = user_cmd(&dirs, &config, &["list"], "");
    assert_ne!(code, 0, "{out}");
    assert_has!(out, "unknown role `admin`");
    assert_has!(out, "yuqing user role NAME duty|leader|operator");
    assert_eq!(b.get("/").await.status, 500);
    let (code, out) = user_cmd(&dirs, &config, &["role", DUTY, "duty"], "");
    assert_eq!(code, 0, "{out}");
    assert_eq!(b.get("/").await.status, 200);
    pool.close().await;

    // A new password ends the session; disabling ends logging in.
    let (code, _) = user_cmd(
        &dirs,
        &config,
        &["passwd", DUTY, "--password-stdin"],
        "another long password\n",
    );
    assert_eq!(code, 0);
    assert_eq!(b.get("/").await.status, 303);
    let (code, _) = user_cmd(&dirs, &config, &["disable", DUTY], "");
    assert_eq!(code, 0);
    b.get("/login").await;
    let p = b.try_login(DUTY, "another long password").await;
    assert_eq!(p.status, 401);
    let (_, out) = user_cmd(&dirs, &config, &["list"], "");
    assert_has!(out, "张三\tduty\t已停用");
    daemon.terminate();
}

#[tokio::test]
async fn a_console_beyond_loopback_must_be_asked_for() {
    let dirs = common::TempDirs::new();
    dirs.write("watchlists/w.toml", common::SCENIC_MAJOR);
    let config = dirs.write(
        "yuqing.toml",
        "[daemon]\nwatchlists = \"watchlists\"\nstate_dir = \"var\"\n\n[web]\nlisten = \"0.0.0.0:8700\"\n",
    );
    let out = common::process::check(&config);
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert_has!(
        text,
        "yuqing.toml:6: [web] listen `0.0.0.0:8700` is not a loopback address"
    );
    dirs.write(
        "yuqing.toml",
        "[daemon]\nwatchlists = \"watchlists\"\nstate_dir = \"var\"\n\n[web]\nlisten = \"0.0.0.0:8700\"\npublic = true\n",
    );
    let out = common::process::check(&config);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
