//! The foundation, end to end: a real feed on loopback, the real `yuqing` binary with
//! deadlines of seconds, and a real SMTP server that receives the mail the duty officer and
//! the leaders would read.

use crate::common;

use common::{rss, HttpServer, ReceivedMail, Response, SmtpServer, TempDirs};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const WATCHLIST: &str = r#"
[[topic]]
id = "scenic-safety"
name = "景区安全"
severity = "major"
any = ["踩踏", "坍塌", "落水"]
all = ["景区"]
none = ["演练"]
"#;

const TITLE: &str = "某5A景区发生踩踏 多名游客受伤";
const LINK: &str = "https://bbs.example.cn/thread-1001.html";

struct Deployment {
    dirs: TempDirs,
    http: HttpServer,
    smtp: SmtpServer,
    config: PathBuf,
}

impl Deployment {
    async fn new() -> Deployment {
        let dirs = TempDirs::new();
        let smtp = SmtpServer::start().await;
        let http = HttpServer::feed(
            "/forum.xml",
            &[(
                "文旅局发布周末出行提示",
                "https://bbs.example.cn/t-1.html",
                "t-1",
                "",
            )],
        )
        .await;
        dirs.write("watchlists/scenic.toml", WATCHLIST);
        let config = dirs.config(&format!(
            r#"tick = "200ms"

{mail}retry_min = "1s"

[people]
duty = ["值班员 <duty@example.gov.cn>"]
leaders = ["分管领导 <deputy@example.gov.cn>"]
principal = ["主要负责人 <head@example.gov.cn>"]

[deadlines]
major_release = "6s"
major_press_conference = "12s"
ordinary_response = "12s"

[[source]]
id = "forum"
name = "本地论坛"
kind = "feed"
url = "{url}"
every = "1s"
"#,
            mail = smtp.mail_section(),
            url = http.url("/forum.xml")
        ));
        Deployment {
            dirs,
            http,
            smtp,
            config,
        }
    }

    fn yuqing(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_yuqing"));
        c.current_dir(self.dirs.root())
            .env("RUST_LOG", "info")
            .env("USER", "tester");
        c
    }

    fn start(&self) -> Daemon {
        let child = self
            .yuqing()
            .args(["run", "--config"])
            .arg(&self.config)
            .stdout(Stdio::null())
            .stderr(common::log_file(self.dirs.root()))
            .spawn()
            .expect("start yuqing run");
        Daemon(child)
    }

    fn publish_matching_item(&self) {
        self.http.set(
            "/forum.xml",
            Response::rss(rss(&[
                (TITLE, LINK, "t-1001", ""),
                (
                    "文旅局发布周末出行提示",
                    "https://bbs.example.cn/t-1.html",
                    "t-1",
                    "",
                ),
            ])),
        );
    }

    fn cli(&self, args: &[&str]) -> String {
        let out = self
            .yuqing()
            .args(args)
            .arg("--config")
            .arg(&self.config)
            .output()
            .expect("run yuqing");
        assert!(
            out.status.success(),
            "yuqing {args:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    async fn duty_mail(&self) -> ReceivedMail {
        self.smtp
            .wait_for(
                |m| m.to.iter().any(|t| t.contains("duty@")) && m.subject.contains("景区安全"),
                Duration::from_secs(20),
            )
            .await
            .expect("the duty officer is mailed when the incident opens")
    }
}

/// Stops the daemon with SIGTERM when dropped, as systemd would.
struct Daemon(Child);

impl Daemon {
    fn stop(mut self) -> std::process::ExitStatus {
        terminate(&self.0);
        let status = self.0.wait().expect("wait for yuqing");
        std::mem::forget(self);
        status
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        terminate(&self.0);
        let _ = self.0.wait();
    }
}

fn terminate(child: &Child) {
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
}

fn text(m: &ReceivedMail) -> &str {
    m.text.as_deref().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incident_opens_mails_duty_and_escalates_a_missed_release() {
    let d = Deployment::new().await;
    let daemon = d.start();
    d.publish_matching_item();

    let duty = d.duty_mail().await;
    assert!(
        duty.subject.contains("重大") && duty.subject.contains(TITLE),
        "{}",
        duty.subject
    );
    let body = text(&duty);
    for needle in [
        TITLE,
        "本地论坛（forum）",
        LINK,
        "发布权威信息：",
        "召开新闻发布会：",
        "yuqing incident release 1 --url",
    ] {
        assert!(body.contains(needle), "duty mail lacks {needle:?}:\n{body}");
    }
    assert!(duty.html.as_deref().unwrap_or_default().contains(LINK));

    let leaders = d
        .smtp
        .wait_for(
            |m| m.subject.contains("发布权威信息时限已过"),
            Duration::from_secs(20),
        )
        .await
        .expect("leaders are mailed when the release deadline passes unmet");
    assert!(
        leaders.to.iter().any(|t| t.contains("deputy@")),
        "{:?}",
        leaders.to
    );
    assert!(
        leaders.to.iter().any(|t| t.contains("head@")),
        "{:?}",
        leaders.to
    );
    let late = text(&leaders);
    assert!(late.contains("已超时") || late.contains("已到期"), "{late}");
    // The leaders see at once that nobody has taken the incident up yet.
    assert_has!(late, "确认情况：尚无人确认接报");

    // One thread: the escalation answers the opening mail.
    let root = duty.message_id.clone().expect("Message-ID");
    assert_eq!(leaders.in_reply_to.as_deref(), Some(root.as_str()));
    assert!(leaders
        .references
        .as_deref()
        .unwrap_or_default()
        .contains(&root));

    // The CLI sees the same database while the daemon runs.
    let json: serde_json::Value = serde_json::from_str(&d.cli(&["incidents", "--json"])).unwrap();
    let incident = &json["incidents"][0];
    assert_eq!(incident["topic"], "scenic-safety");
    assert_eq!(incident["severity"], "major");
    assert_eq!(incident["items"][0]["title"], TITLE);
    assert_eq!(incident["title"], TITLE, "named by its first item");
    let kinds: Vec<&str> = incident["deadlines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["release", "press_conference"]);

    assert!(daemon.stop().success(), "SIGTERM ends the daemon cleanly");
    // Exactly one opening mail and one escalation per deadline so far.
    let opened = d
        .smtp
        .messages()
        .iter()
        .filter(|m| m.subject.contains("【舆情·重大】"))
        .count();
    assert_eq!(opened, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recording_the_release_in_time_prevents_the_escalation() {
    let d = Deployment::new().await;
    let daemon = d.start();
    d.publish_matching_item();
    let duty = d.duty_mail().await;

    let said = d.cli(&[
        "incident",
        "release",
        "1",
        "--url",
        "https://wlj.example.gov.cn/notice/1",
    ]);
    assert_has!(said, "已记录发布权威信息");

    // The press conference deadline (12s) passes after the release deadline (6s): once its
    // escalation has arrived, the release escalation would have arrived too.
    let press = d
        .smtp
        .wait_for(
            |m| m.subject.contains("召开新闻发布会时限已过"),
            Duration::from_secs(25),
        )
        .await
        .expect("the press conference deadline still escalates");
    assert_eq!(
        press.in_reply_to, duty.message_id,
        "all mail of one incident is one thread"
    );
    let release_escalations = d
        .smtp
        .messages()
        .iter()
        .filter(|m| m.subject.contains("发布权威信息时限已过"))
        .count();
    assert_eq!(
        release_escalations, 0,
        "a recorded release stops its escalation"
    );
    assert!(
        text(&press).contains("按时完成"),
        "the mail shows the release as met:\n{}",
        text(&press)
    );

    let show = d.cli(&["incident", "show", "1"]);
    assert_has!(
        show,
        "tester 记录发布权威信息（https://wlj.example.gov.cn/notice/1）"
    );

    // The assessment report: the release met on time, the press conference missed.
    let day = |offset: i64| {
        (chrono::Utc::now() + chrono::Duration::days(offset))
            .with_timezone(&chrono_tz::Asia::Shanghai)
            .format("%Y-%m-%d")
            .to_string()
    };
    let csv = d.cli(&[
        "report",
        "incidents",
        "--from",
        &day(-1),
        "--to",
        &day(1),
        "--csv",
    ]);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 3, "header and two deadlines:\n{csv}");
    assert!(
        lines[0].starts_with(
            "\u{feff}事件编号,标题,专题,级别,立案时间,确认用时,计时起点,时限,截止时间,完成时间,结果"
        ),
        "{csv}"
    );
    assert!(
        lines[1].starts_with(&format!("#1,{TITLE},景区安全,重大,")),
        "{csv}"
    );
    assert!(
        lines[1].contains("发布权威信息") && lines[1].contains("按时完成"),
        "{csv}"
    );
    assert!(
        lines[2].contains("召开新闻发布会") && lines[2].contains("未完成"),
        "{csv}"
    );
    drop(daemon);
}

#[test]
fn check_names_file_and_line_of_a_typo() {
    let dirs = TempDirs::new();
    dirs.write("watchlists/a.toml", WATCHLIST);
    let config = dirs.write("yuqing.toml", "[daemon]\nwatchlists = \"watchlists\"\n\n[[source]]\nid = \"x\"\nkind = \"feed\"\nurl = \"https://example.cn/rss\"\nevry = \"5m\"\n");
    let out = common::process::check(&config);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_has!(
        err,
        &format!("{}:8: unknown field `evry`", config.display())
    );
}
