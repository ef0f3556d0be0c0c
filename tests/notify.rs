//! Alerts that wake people (issue 14): an incident reaches the duty officers' WeCom and
//! DingTalk groups; a robot that refuses its secret makes the alert go by mail and the
//! operators hear of it once; a robot down for ten minutes gets everything afterwards; a
//! hundred incidents in a minute reach every group within its rate limit, merged into
//! digests that name every incident; `kill -9` mid-send loses nothing. The services are
//! loopback emulators (`common::im`) that check signatures and limits as documented.

use crate::common;

use chrono::{Duration, TimeZone, Utc};
use common::im::{Emulator, Service};
use common::{HttpServer, Response, TempDirs};
use std::sync::Arc;
use yuqing::daemon::scheduler::Daemon;
use yuqing::store::{Draft, Store};
use yuqing::vocab::clock::{secs, Clock, ManualClock};

/// A deployment on a manual clock with one feed, `notify` appended to its config.
struct Site {
    _dirs: TempDirs,
    _http: HttpServer,
    clock: ManualClock,
    config: std::path::PathBuf,
}

fn clock() -> ManualClock {
    ManualClock::new(Utc.with_ymd_and_hms(2026, 11, 24, 1, 0, 0).unwrap())
}

async fn site(clock: &ManualClock, title: &str, notify: &str) -> Site {
    site_on(clock, title, notify, &None).await
}

/// `site` on a database: `None` is the SQLite default (see `common::db::backends`).
async fn site_on(clock: &ManualClock, title: &str, notify: &str, backend: &Option<String>) -> Site {
    let dirs = TempDirs::new();
    let http = HttpServer::feed("/news.xml", &[(title, "https://n.example.cn/1", "1", "")]).await;
    dirs.write("watchlists/w.toml", common::SCENIC_MAJOR);
    let config = dirs.config(&format!(
        "{db}\n\
             [[source]]\nid = \"news\"\nkind = \"feed\"\nurl = \"{url}\"\n\n{notify}",
        url = http.url("/news.xml"),
        db = common::db::config_line(backend),
    ));
    Site {
        _dirs: dirs,
        _http: http,
        clock: clock.clone(),
        config,
    }
}

async fn daemon(s: &Site) -> Daemon {
    common::start(&s.config, &s.clock).await
}

/// Every text the database holds, to look for secrets in.
async fn all_text(store: &Store) -> String {
    let mut out = String::new();
    for m in store.outbox().await.unwrap() {
        out.push_str(&format!(
            "{} {} {:?}\n",
            m.subject, m.body_text, m.last_error
        ));
    }
    for n in store.notifications().await.unwrap() {
        out.push_str(&format!("{:?} {:?}\n", n.last_error, n.answer));
    }
    out
}

async fn subjects(store: &Store) -> Vec<(String, String)> {
    store
        .outbox()
        .await
        .unwrap()
        .into_iter()
        .map(|m| (m.subject, m.recipients))
        .collect()
}

backend_test!(an_incident_reaches_a_wecom_group_and_a_dingtalk_group);
async fn an_incident_reaches_a_wecom_group_and_a_dingtalk_group(backend: Option<String>) {
    let clock = clock();
    let shared: Arc<dyn Clock> = Arc::new(clock.clone());
    let wecom = Emulator::start(Service::Wecom, "wk-1", "", shared.clone()).await;
    let ding = Emulator::start(Service::Dingtalk, "dt-1", "SECding1", shared.clone()).await;
    std::env::set_var("YQ_T1_DING", "SECding1");
    // A title written to abuse the group: mentions everyone, fakes a link.
    let title = "某景区发生坍塌 游客被困 @all <@zhangsan> [点此领奖](http://evil.example/)";
    let s = site_on(
        &clock,
        title,
        &format!(
            "[people]\nduty = [\"duty@x.cn\", \"notify:duty-wecom\", \"notify:duty-ding\"]\n\n\
             [[notify]]\nid = \"duty-wecom\"\nkind = \"wecom\"\nurl = \"{}\"\n\n\
             [[notify]]\nid = \"duty-ding\"\nkind = \"dingtalk\"\nurl = \"{}\"\n\
             secret = \"env:YQ_T1_DING\"\nmention_mobiles = [\"13800000000\"]\n",
            wecom.url(),
            ding.url()
        ),
        &backend,
    )
    .await;
    let d = daemon(&s).await;
    // The counter is the process's, shared with the tests running beside this one.
    let delivered = yuqing::daemon::metrics::get().notify_delivered.get();
    d.poll_once(None).await.unwrap();

    let w = wecom.accepted();
    assert_eq!(w.len(), 1, "{:#?}", wecom.received());
    assert_eq!(w[0].body["msgtype"], "markdown");
    let text = w[0].text();
    assert!(text.contains("景区安全") && text.contains("重大"), "{text}");
    assert!(
        text.contains("发布权威信息") && text.contains("剩余"),
        "{text}"
    );
    assert_has!(text, "(http://127.0.0.1:8700/incidents/1)");
    for bad in ["@all", "<@", "](http://evil", "[点此"] {
        assert!(!text.contains(bad), "`{bad}` got through: {text}");
    }

    let g = ding.accepted();
    assert_eq!(g.len(), 1, "{:#?}", ding.received());
    assert!(g[0].query.contains("timestamp=") && g[0].query.contains("sign="));
    assert_eq!(g[0].body["at"]["atMobiles"][0], "13800000000");
    let text = g[0].text();
    assert!(
        text.contains("@13800000000") && !text.contains("@all"),
        "{text}"
    );
    assert!(!g[0].body["markdown"]["title"].as_str().unwrap().is_empty());

    let rows = d.store.notifications().await.unwrap();
    assert_eq!(rows.len(), 2);
    assert!(yuqing::daemon::metrics::get().notify_delivered.get() >= delivered + 2);
    assert!(rows
        .iter()
        .all(|r| r.sent_at.is_some() && r.failed_at.is_none()));
    // The mail still goes to the duty officer, as before.
    assert!(subjects(&d.store).await[0].0.starts_with("【舆情·重大】#1"));
    assert!(!all_text(&d.store).await.contains("SECding1"));
}

backend_test!(a_bad_secret_falls_back_to_mail_and_tells_the_operators_once);
async fn a_bad_secret_falls_back_to_mail_and_tells_the_operators_once(backend: Option<String>) {
    let clock = clock();
    let shared: Arc<dyn Clock> = Arc::new(clock.clone());
    let ding = Emulator::start(Service::Dingtalk, "dt-2", "SECright2", shared).await;
    std::env::set_var("YQ_T2_DING", "SECwrong2");
    let s = site_on(
        &clock,
        "某景区发生坍塌 游客被困",
        &format!(
            "[people]\nduty = [\"duty@x.cn\", \"notify:duty-ding\"]\noperators = [\"ops@x.cn\"]\n\
             leaders = [\"notify:duty-ding\"]\n\n\
             [escalation.major]\nunacknowledged = [\"leaders\"]\n\n\
             [[notify]]\nid = \"duty-ding\"\nkind = \"dingtalk\"\nurl = \"{}\"\nsecret = \"env:YQ_T2_DING\"\n",
            ding.url()
        ),
        &backend,
    )
    .await;
    let d = daemon(&s).await;
    d.poll_once(None).await.unwrap();
    assert_eq!(
        ding.received()[0].code,
        310000,
        "the emulator checks the sign"
    );
    assert!(ding.accepted().is_empty());

    // Three hours on: the first release reminder is refused too.
    for _ in 0..18 {
        s.clock.advance(Duration::minutes(10));
        d.housekeeping().await.unwrap();
    }
    let all = subjects(&d.store).await;
    let fallback: Vec<&(String, String)> = all
        .iter()
        .filter(|(s, _)| s.starts_with("【改发邮件】"))
        .collect();
    // The opening alert and the reminder were mailed to the duty officer too: no second
    // copy of either reaches that inbox (issue 28). The leaders' 未确认 alert went only
    // through the robot: that one is mailed instead, to the duty officer.
    for alert in ["【舆情·重大】#1", "【舆情·提醒】"] {
        assert!(
            all.iter()
                .any(|(s, to)| s.starts_with(alert) && to.contains("duty@x.cn")),
            "{alert} mailed: {all:#?}"
        );
        assert!(
            !fallback.iter().any(|(s, _)| s.contains(alert)),
            "{alert} copied again: {all:#?}"
        );
    }
    assert_eq!(fallback.len(), 1, "{all:#?}");
    assert!(
        fallback[0].0.starts_with("【改发邮件】【舆情·未确认】")
            && fallback[0].1.contains("duty@x.cn"),
        "{all:#?}"
    );
    let told: Vec<&(String, String)> = all
        .iter()
        .filter(|(s, _)| s.contains("【即时消息故障】"))
        .collect();
    assert_eq!(told.len(), 1, "once per notifier: {all:#?}");
    assert!(told[0].1.contains("ops@x.cn") && told[0].0.contains("duty-ding"));
    let rows = d.store.notifications().await.unwrap();
    assert!(rows
        .iter()
        .all(|r| r.failed_at.is_some() && r.sent_at.is_none()));
    assert!(rows[0].last_error.as_deref().unwrap().contains("310000"));
    // The mail sent by the relay is the fallback's; the body says why.
    let mail = d.store.outbox().await.unwrap();
    let notice = mail.iter().find(|m| m.kind == "notify_broken").unwrap();
    assert!(notice.body_text.contains("yuqing notify test duty-ding"));
    let text = all_text(&d.store).await;
    assert!(!text.contains("SECwrong2") && !text.contains("SECright2"));
}

#[tokio::test]
async fn a_robot_down_for_ten_minutes_gets_everything_afterwards() {
    let clock = clock();
    let shared: Arc<dyn Clock> = Arc::new(clock.clone());
    let wecom = Emulator::start(Service::Wecom, "wk-3", "", shared).await;
    wecom.set_down(true);
    let s = site(
        &clock,
        "某景区发生坍塌 游客被困",
        &format!(
            "[people]\nduty = [\"duty@x.cn\", \"notify:duty-wecom\"]\n\n\
             [[notify]]\nid = \"duty-wecom\"\nkind = \"wecom\"\nurl = \"{}\"\n",
            wecom.url()
        ),
    )
    .await;
    let d = daemon(&s).await;
    d.poll_once(None).await.unwrap();
    for _ in 0..10 {
        s.clock.advance(Duration::minutes(1));
        d.housekeeping().await.unwrap();
    }
    assert!(wecom.accepted().is_empty());
    assert!(wecom.received().len() >= 3, "retried while down");
    wecom.set_down(false);
    for _ in 0..30 {
        s.clock.advance(Duration::minutes(1));
        d.housekeeping().await.unwrap();
    }
    // The opening alert, and the leaders' "not acknowledged" one that fell due meanwhile.
    let got: Vec<String> = wecom.accepted().iter().map(|r| r.text()).collect();
    assert_eq!(got.len(), 2, "{got:#?}");
    assert!(got[0].contains("【舆情·重大】＃1") && got[0].contains("incidents/1"));
    assert!(
        got[0].contains("延迟"),
        "a late message says so: {}",
        got[0]
    );
    assert!(got[1].contains("未确认"), "{got:#?}");
    let rows = d.store.notifications().await.unwrap();
    assert!(rows.iter().all(|r| r.sent_at.is_some()));
    assert!(rows[0].attempts > 1);
    assert!(!subjects(&d.store)
        .await
        .iter()
        .any(|(s, _)| s.contains("改发邮件")));
}

/// Queues an alert about incident `id` to `notify`, as the incident code does.
async fn alert(store: &Store, id: i64, now: i64, notify: &[&str]) {
    let mut tx = store.begin().await.unwrap();
    let draft = Draft {
        kind: "opened".into(),
        incident_id: Some(id),
        recipients: vec!["duty@x.cn".into()],
        subject: format!("【舆情·重大】#{id} 景区安全：第{id}号景区发生坍塌"),
        text: format!("新舆情事件 #{id} 已立案，请立即研判处置。\n\n时限：\n  - 发布权威信息：11-24 14:00 前，剩余 5小时\n\n"),
        html: String::new(),
        notify: notify.iter().map(|s| s.to_string()).collect(),
    };
    store.enqueue(&mut tx, &draft, now, "x.cn").await.unwrap();
    tx.commit().await.unwrap();
}

/// The incidents a robot's accepted messages name, by their links.
fn named(e: &Emulator) -> std::collections::BTreeSet<i64> {
    let re = regex::Regex::new(r"incidents/(\d+)").unwrap();
    e.accepted()
        .iter()
        .flat_map(|r| {
            re.captures_iter(&r.text())
                .map(|c| c[1].parse::<i64>().unwrap())
                .collect::<Vec<_>>()
        })
        .collect()
}

backend_test!(a_hundred_incidents_in_a_minute_reach_every_group_within_its_limits);
async fn a_hundred_incidents_in_a_minute_reach_every_group_within_its_limits(
    backend: Option<String>,
) {
    let clock = clock();
    let shared: Arc<dyn Clock> = Arc::new(clock.clone());
    let wecom = Emulator::start(Service::Wecom, "wk-4", "", shared.clone()).await;
    let ding = Emulator::start(Service::Dingtalk, "dt-4", "SECding4", shared.clone()).await;
    let feishu = Emulator::start(Service::Feishu, "fs-4", "fsecret4", shared.clone()).await;
    // A WeCom robot that @s someone sends text, whose limit is 2,048 bytes.
    let wecom_text = Emulator::start(Service::Wecom, "wk-4t", "", shared.clone()).await;
    std::env::set_var("YQ_T4_DING", "SECding4");
    std::env::set_var("YQ_T4_FEISHU", "fsecret4");
    let s = site_on(
        &clock,
        "无关的新闻",
        &format!(
            "[[notify]]\nid = \"w\"\nkind = \"wecom\"\nurl = \"{}\"\n\n\
             [[notify]]\nid = \"d\"\nkind = \"dingtalk\"\nurl = \"{}\"\nsecret = \"env:YQ_T4_DING\"\n\n\
             [[notify]]\nid = \"f\"\nkind = \"feishu\"\nurl = \"{}\"\nsecret = \"env:YQ_T4_FEISHU\"\n\n\
             [[notify]]\nid = \"t\"\nkind = \"wecom\"\nurl = \"{}\"\nmention_mobiles = [\"13800000000\"]\n",
            wecom.url(),
            ding.url(),
            feishu.url(),
            wecom_text.url()
        ),
        &backend,
    )
    .await;
    let d = daemon(&s).await;
    // 100 incidents in one minute, two every 1.2 seconds or so; the loop turns every second.
    let mut next = 1;
    for _ in 0..60 {
        for _ in 0..2 {
            if next <= 100 {
                alert(&d.store, next, secs(clock.now()), &["w", "d", "f", "t"]).await;
                next += 1;
            }
        }
        d.housekeeping().await.unwrap();
        clock.advance(Duration::seconds(1));
    }
    // Then the daemon keeps turning until all is out (or 30 minutes pass).
    for _ in 0..1800 {
        if d.store.notifications_pending().await.unwrap() == 0 {
            break;
        }
        d.housekeeping().await.unwrap();
        clock.advance(Duration::seconds(1));
    }
    let all: std::collections::BTreeSet<i64> = (1..=100).collect();
    for (name, e, limit) in [
        ("wecom text", &wecom_text, 20),
        ("wecom", &wecom, 20),
        ("dingtalk", &ding, 20),
        ("feishu", &feishu, 100),
    ] {
        assert!(
            e.received().iter().all(|r| r.code == 0),
            "{name}: the daemon went over the limit: {:?}",
            e.received().iter().map(|r| r.code).collect::<Vec<_>>()
        );
        assert!(
            e.busiest_minute() <= limit,
            "{name}: {}",
            e.busiest_minute()
        );
        assert_eq!(named(e), all, "{name} must name every incident");
    }
    assert!(wecom.accepted().len() < 100, "WeCom got digests");
    assert!(wecom.accepted().iter().any(|r| r.text().contains("汇总")));
    let rows = d.store.notifications().await.unwrap();
    assert!(wecom_text
        .accepted()
        .iter()
        .all(|r| r.body["msgtype"] == "text"
            && r.body["text"]["mentioned_mobile_list"][0] == "13800000000"
            && r.text().len() <= 2048));
    assert_eq!(rows.len(), 400);
    assert!(rows
        .iter()
        .all(|r| r.sent_at.is_some() && r.failed_at.is_none()));
}

#[tokio::test]
async fn dingtalk_penalty_is_waited_out() {
    // A robot already over its limit (another program used it): DingTalk answers 130101
    // and ignores it for 10 minutes; the daemon sends nothing during the penalty.
    let clock = clock();
    let shared: Arc<dyn Clock> = Arc::new(clock.clone());
    let ding = Emulator::start(Service::Dingtalk, "dt-5", "SECding5", shared).await;
    std::env::set_var("YQ_T5_DING", "SECding5");
    let s = site(
        &clock,
        "无关的新闻",
        &format!(
            "[[notify]]\nid = \"d\"\nkind = \"dingtalk\"\nurl = \"{}\"\nsecret = \"env:YQ_T5_DING\"\nper_minute = 40\n",
            ding.url()
        ),
    )
    .await;
    let d = daemon(&s).await;
    for i in 1..=30 {
        alert(&d.store, i, secs(clock.now()), &["d"]).await;
    }
    d.housekeeping().await.unwrap();
    let first = ding.received();
    assert_eq!(first.iter().filter(|r| r.code == 0).count(), 20);
    assert_eq!(first.last().unwrap().code, 130101);
    let asked = first.len();
    // During the ten minutes nothing is sent.
    for _ in 0..9 {
        clock.advance(Duration::minutes(1));
        d.housekeeping().await.unwrap();
    }
    assert_eq!(ding.received().len(), asked, "nothing during the penalty");
    for _ in 0..5 {
        clock.advance(Duration::minutes(1));
        d.housekeeping().await.unwrap();
    }
    assert_eq!(named(&ding), (1..=30).collect());
}

/// Polls `done` every 100 ms for up to `secs` seconds.
async fn wait_until<F, Fut>(secs: u64, mut done: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let until = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    while std::time::Instant::now() < until {
        if done().await {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_mid_send_loses_nothing() {
    let system: Arc<dyn Clock> = Arc::new(yuqing::vocab::clock::SystemClock);
    let wecom = Emulator::start(Service::Wecom, "wk-6", "", system).await;
    // The robot takes its time: the daemon dies while the request is open.
    wecom.set_delay(std::time::Duration::from_secs(5));
    let s = site(
        &clock(),
        "某景区发生坍塌 游客被困",
        &format!(
            "[people]\nduty = [\"duty@x.cn\", \"notify:duty-wecom\"]\n\n\
             [[notify]]\nid = \"duty-wecom\"\nkind = \"wecom\"\nurl = \"{}\"\n",
            wecom.url()
        ),
    )
    .await;
    let root = s._dirs.root().to_path_buf();
    let log = root.join("daemon.log");
    let mut first = common::process::run(&root, &s.config, &log);
    assert!(
        wait_until(60, || async { wecom.arrivals() >= 1 }).await,
        "the daemon never sent: {}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );
    first.kill9();
    assert!(wecom.accepted().is_empty(), "killed before the answer");

    wecom.set_delay(std::time::Duration::ZERO);
    let _second = common::process::run(&root, &s.config, &log);
    let store = Store::open(&format!(
        "sqlite://{}",
        root.join("var/yuqing.db").display()
    ))
    .await
    .unwrap();
    assert!(
        wait_until(60, || async {
            store
                .notifications_pending()
                .await
                .map(|n| n == 0)
                .unwrap_or(false)
        })
        .await,
        "not delivered after the restart: {}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );
    assert!(named(&wecom).contains(&1));
    let rows = store.notifications().await.unwrap();
    assert_eq!(rows.len(), 1);
    assert!(rows[0].sent_at.is_some());
    assert_eq!(
        rows[0].maybe_doubled, 1,
        "sent again after an unknown outcome: flagged"
    );
    let logged = std::fs::read_to_string(&log).unwrap();
    assert_has!(logged, "instant message delivered");
    assert!(
        !logged.contains("wk-6"),
        "the robot's key never reaches the log: {logged}"
    );
}

fn yuqing(root: &std::path::Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_yuqing"))
        .current_dir(root)
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        .args(args)
        .output()
        .expect("run yuqing")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notify_test_prints_the_answer_and_check_never_prints_a_secret() {
    let system: Arc<dyn Clock> = Arc::new(yuqing::vocab::clock::SystemClock);
    let ding = Emulator::start(Service::Dingtalk, "dt-7", "SECding7", system).await;
    let s = site(
        &clock(),
        "无关",
        &format!(
            "[[notify]]\nid = \"duty-ding\"\nkind = \"dingtalk\"\nurl = \"{}\"\nsecret = \"env:YQ_T7_DING\"\n",
            ding.url()
        ),
    )
    .await;
    let root = s._dirs.root().to_path_buf();
    let config = s.config.to_str().unwrap().to_string();
    let stdout = common::process::stdout_of(
        std::process::Command::new(env!("CARGO_BIN_EXE_yuqing"))
            .current_dir(&root)
            .env("YQ_T7_DING", "SECding7")
            .args(["notify", "test", "duty-ding", "--config", &config]),
    );
    assert_has!(stdout, "duty-ding（钉钉，http://127.0.0.1:");
    assert_has!(stdout, "）：已送达");
    assert_has!(stdout, r#"服务答复：HTTP 200 {"errcode":0,"errmsg":"ok"}"#);
    assert!(
        !stdout.contains("dt-7"),
        "the robot's token stays out: {stdout}"
    );
    assert_eq!(ding.accepted().len(), 1);
    assert!(ding.accepted()[0].text().contains("测试"));

    // A wrong secret: the service's refusal is printed, exit 1.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_yuqing"))
        .current_dir(&root)
        .env("YQ_T7_DING", "SECnot-it")
        .args(["notify", "test", "duty-ding", "--config", &config])
        .output()
        .unwrap();
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(all.contains("被拒收") && all.contains("310000"), "{all}");
    assert!(!all.contains("SECnot-it"), "{all}");

    let out = yuqing(&root, &["notify", "test", "nope", "--config", &config]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("known: duty-ding"));

    // A secret written into the file is refused at its line, and never repeated.
    let bad = root.join("bad.toml");
    std::fs::write(
        &bad,
        std::fs::read_to_string(&s.config)
            .unwrap()
            .replace("env:YQ_T7_DING", "SECliteral-do-not-print")
            + "\n[people]\nduty = [\"duty@x.cn\", \"notify:nobody\"]\n",
    )
    .unwrap();
    let out = yuqing(&root, &["check", "--config", bad.to_str().unwrap()]);
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(2), "{all}");
    assert_has!(all, "bad.toml:14: [[notify]] duty-ding: secret must be");
    assert_has!(
        all,
        "bad.toml:17: [people] duty: no [[notify]] has the id `nobody` (known: duty-ding)"
    );
    assert!(!all.contains("SECliteral-do-not-print"), "{all}");
}

#[tokio::test]
async fn leaders_get_sms_from_aliyun_and_tencent_and_a_refused_number_goes_by_mail() {
    let clock = clock();
    let shared: Arc<dyn Clock> = Arc::new(clock.clone());
    let ali = Emulator::start(
        Service::AliyunSms,
        "LTAI-test",
        "ali-secret-8",
        shared.clone(),
    )
    .await;
    let tx = Emulator::start(
        Service::TencentSms,
        "AKID-test",
        "tc-secret-8",
        shared.clone(),
    )
    .await;
    std::env::set_var("YQ_T8_ALI", "ali-secret-8");
    std::env::set_var("YQ_T8_TC", "tc-secret-8");
    let s = site(
        &clock,
        "某景区发生坍塌 游客被困",
        &format!(
            "[people]\nduty = [\"duty@x.cn\", \"notify:sms-ali\", \"notify:sms-tc\"]\n\n\
             [[notify]]\nid = \"sms-ali\"\nkind = \"aliyun_sms\"\nurl = \"{}\"\nsecret = \"env:YQ_T8_ALI\"\n\
             key_id = \"LTAI-test\"\nsign_name = \"某市文旅局\"\ntemplate = \"SMS_123456\"\n\
             mention_mobiles = [\"13800000000\", \"13900000000\"]\n\n\
             [[notify]]\nid = \"sms-tc\"\nkind = \"tencent_sms\"\nurl = \"{}\"\nsecret = \"env:YQ_T8_TC\"\n\
             key_id = \"AKID-test\"\napp_id = \"1400000000\"\nsign_name = \"某市文旅局\"\ntemplate = \"449739\"\n\
             params = [\"incident\", \"title\"]\nmention_mobiles = [\"13800000000\"]\n",
            ali.url(),
            tx.url()
        ),
    )
    .await;
    let d = daemon(&s).await;
    d.poll_once(None).await.unwrap();

    let a = ali.accepted();
    assert_eq!(a.len(), 1, "{:#?}", ali.received());
    assert_eq!(a[0].body["PhoneNumbers"], "13800000000,13900000000");
    assert_eq!(a[0].body["TemplateCode"], "SMS_123456");
    let params: serde_json::Value =
        serde_json::from_str(a[0].body["TemplateParam"].as_str().unwrap()).unwrap();
    assert_eq!(params["incident"], "#1");
    assert_eq!(params["level"], "舆情·重大");
    assert!(params["title"]
        .as_str()
        .unwrap()
        .starts_with("某景区发生坍塌"));
    let t = tx.accepted();
    assert_eq!(t.len(), 1, "{:#?}", tx.received());
    assert_eq!(t[0].body["PhoneNumberSet"][0], "+8613800000000");
    assert_eq!(t[0].body["TemplateParamSet"][0], "#1");
    assert_eq!(t[0].body["TemplateParamSet"].as_array().unwrap().len(), 2);

    // A number Tencent refuses is read from its own status: the alert goes by mail.
    tx.fail_number("+8613800000000", "FailedOperation.PhoneNumberInBlacklist");
    s.clock.advance(Duration::minutes(31)); // not acknowledged: the leaders' step
    d.housekeeping().await.unwrap();
    let rows = d.store.notifications().await.unwrap();
    let refused = rows
        .iter()
        .find(|r| r.notifier == "sms-tc" && r.failed_at.is_some())
        .unwrap();
    assert!(refused
        .last_error
        .as_deref()
        .unwrap()
        .contains("PhoneNumberInBlacklist"));
    // Those the refused SMS was for got the same alert by mail already: no second copy
    // (issue 28).
    let all = subjects(&d.store).await;
    assert!(
        all.iter()
            .any(|(s, to)| s.starts_with("【舆情·未确认】") && !to.is_empty()),
        "{all:#?}"
    );
    assert!(
        !all.iter().any(|(s, _)| s.starts_with("【改发邮件】")),
        "{all:#?}"
    );
    let text = all_text(&d.store).await;
    assert!(!text.contains("ali-secret-8") && !text.contains("tc-secret-8"));
}

#[tokio::test]
async fn a_webhook_gets_json_with_a_stable_idempotency_key_and_a_signature() {
    let clock = clock();
    let shared: Arc<dyn Clock> = Arc::new(clock.clone());
    let hook = Emulator::start(Service::Webhook, "", "", shared).await;
    std::env::set_var("YQ_T9_HOOK", "hook-secret");
    let s = site(
        &clock,
        "某景区发生坍塌 游客被困",
        &format!(
            "[people]\nduty = [\"duty@x.cn\", \"notify:ops-hook\"]\n\n\
             [[notify]]\nid = \"ops-hook\"\nkind = \"webhook\"\nurl = \"{}\"\nsecret = \"env:YQ_T9_HOOK\"\n",
            hook.url()
        ),
    )
    .await;
    let d = daemon(&s).await;
    // The receiver is down at first: the retry carries the same key.
    hook.set_down(true);
    d.poll_once(None).await.unwrap();
    let first = hook.received()[0]
        .header("idempotency-key")
        .unwrap()
        .to_string();
    hook.set_down(false);
    clock.advance(Duration::minutes(1));
    d.housekeeping().await.unwrap();
    let got = hook.accepted();
    assert_eq!(got.len(), 1);
    let r = &got[0];
    let key = r.header("idempotency-key").unwrap();
    assert_eq!(key, first);
    assert!(key.starts_with("yuqing-"));
    assert_eq!(r.body["idempotency_key"], key);
    assert_eq!(r.body["alerts"][0]["incident_id"], 1);
    assert_eq!(
        r.body["alerts"][0]["link"],
        "http://127.0.0.1:8700/incidents/1"
    );
    // The receiver can check who sent it.
    let ts = r.header("x-yuqing-timestamp").unwrap();
    let sig = r.header("x-yuqing-signature").unwrap();
    use hmac::Mac;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(b"hook-secret").unwrap();
    mac.update(format!("{ts}.{}", r.raw).as_bytes());
    assert_eq!(
        sig,
        format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
    );
    assert_eq!(ts, secs(clock.now()).to_string());
}

#[tokio::test]
async fn every_step_reaches_the_groups_its_roles_name() {
    let clock = clock();
    let shared: Arc<dyn Clock> = Arc::new(clock.clone());
    let duty = Emulator::start(Service::Wecom, "duty-k", "", shared.clone()).await;
    let leaders = Emulator::start(Service::Wecom, "lead-k", "", shared.clone()).await;
    let ops = Emulator::start(Service::Wecom, "ops-k", "", shared.clone()).await;
    let s = site(
        &clock,
        "某景区发生坍塌 游客被困",
        &format!(
            "[people]\nduty = [\"duty@x.cn\", \"notify:duty-w\"]\n\
             leaders = [\"lead@x.cn\", \"notify:lead-w\"]\n\
             operators = [\"ops@x.cn\", \"notify:ops-w\"]\n\n\
             [[notify]]\nid = \"duty-w\"\nkind = \"wecom\"\nurl = \"{}\"\n\n\
             [[notify]]\nid = \"lead-w\"\nkind = \"wecom\"\nurl = \"{}\"\n\n\
             [[notify]]\nid = \"ops-w\"\nkind = \"wecom\"\nurl = \"{}\"\n",
            duty.url(),
            leaders.url(),
            ops.url()
        ),
    )
    .await;
    // Operators hear of a source failing for an hour.
    let text = std::fs::read_to_string(&s.config).unwrap();
    std::fs::write(
        &s.config,
        text.replacen(
            "\n\n[[source]]",
            "\nsource_alert_after = \"1h\"\n\n[[source]]",
            1,
        ),
    )
    .unwrap();
    let d = daemon(&s).await;
    let texts = |e: &Emulator| e.accepted().iter().map(|r| r.text()).collect::<Vec<_>>();

    d.poll_once(None).await.unwrap();
    assert!(
        texts(&duty)[0].contains("已立案"),
        "opened: {:?}",
        texts(&duty)
    );
    yuqing::incident::act(
        &d.store,
        &d.settings.get().config,
        yuqing::vocab::ids::IncidentId(1),
        &yuqing::incident::Step::Acknowledge,
        "值班员",
        clock.now(),
    )
    .await
    .unwrap();
    // Past the 5-hour release deadline, and an hour more.
    for _ in 0..38 {
        clock.advance(Duration::minutes(10));
        d.housekeeping().await.unwrap();
    }
    let on_duty = texts(&duty);
    assert!(
        on_duty
            .iter()
            .filter(|t| t.contains("【舆情·提醒】"))
            .count()
            >= 3,
        "{on_duty:#?}"
    );
    let lead = texts(&leaders);
    assert!(
        lead.iter()
            .any(|t| t.contains("【舆情·超时】") && t.contains("发布权威信息时限已过")),
        "{lead:#?}"
    );
    let again = lead
        .iter()
        .find(|t| t.contains("【舆情·超时·再次提醒】"))
        .unwrap_or_else(|| panic!("{lead:#?}"));
    assert!(
        again.contains("发布权威信息") && again.contains("已超时 1小时"),
        "the leaders read which deadline was missed and by how much: {again}"
    );

    // Regraded to 一般: the leaders of 重大 hear of it too.
    yuqing::incident::act(
        &d.store,
        &d.settings.get().config,
        yuqing::vocab::ids::IncidentId(1),
        &yuqing::incident::Step::Severity(yuqing::vocab::severity::Severity::Ordinary),
        "值班员",
        clock.now(),
    )
    .await
    .unwrap();
    d.housekeeping().await.unwrap();
    assert!(
        texts(&leaders).iter().any(|t| t.contains("级别调整为一般")),
        "{:#?}",
        texts(&leaders)
    );

    // The feed fails for more than an hour.
    s._http.set("/news.xml", Response::status(503));
    d.poll_once(None).await.unwrap();
    clock.advance(Duration::minutes(90));
    d.poll_once(None).await.unwrap();
    let o = texts(&ops);
    assert_eq!(o.len(), 1, "{o:#?}");
    assert!(
        o[0].contains("信息源异常") && o[0].contains("news"),
        "{o:#?}"
    );
    // Nobody's group got the others' steps.
    assert!(!texts(&ops).iter().any(|t| t.contains("景区安全")));
    assert!(!texts(&duty).iter().any(|t| t.contains("信息源")));
}

#[tokio::test]
async fn a_publication_duty_at_risk_reaches_the_office_and_missed_the_leaders_too() {
    use chrono_tz::Asia::Shanghai;
    // Monday 23 November 2026, 09:00 in Beijing; the account posted last week, not yet
    // this week.
    let clock = ManualClock::new(
        Shanghai
            .with_ymd_and_hms(2026, 11, 23, 9, 0, 0)
            .unwrap()
            .with_timezone(&Utc),
    );
    let shared: Arc<dyn Clock> = Arc::new(clock.clone());
    let office = Emulator::start(Service::Wecom, "office-k", "", shared.clone()).await;
    let leaders = Emulator::start(Service::Wecom, "lead-k", "", shared.clone()).await;
    let dirs = TempDirs::new();
    let http = HttpServer::feed(
        "/wechat.xml",
        &[(
            "周末文旅活动推荐",
            "https://mp.example.cn/1",
            "p1",
            "Fri, 20 Nov 2026 10:00:00 +0800",
        )],
    )
    .await;
    dirs.write("watchlists/w.toml", common::SCENIC_MAJOR);
    let config = dirs.config(&format!(
            "\n\
             [people]\noffice = [\"office@x.cn\", \"notify:office-w\"]\n\
             leaders = [\"lead@x.cn\", \"notify:lead-w\"]\n\n\
             [jobs]\nweekly_report = \"off\"\nledger = \"off\"\nwork_report_reminder = \"off\"\ndaily_digest = \"off\"\n\n\
             [[channel]]\nid = \"wechat-wenlv\"\nname = \"银川文旅\"\nkind = \"wechat\"\nfeed = \"{feed}\"\nduty = \"weekly\"\n\n\
             [[notify]]\nid = \"office-w\"\nkind = \"wecom\"\nurl = \"{o}\"\n\n\
             [[notify]]\nid = \"lead-w\"\nkind = \"wecom\"\nurl = \"{l}\"\n",
            feed = http.url("/wechat.xml"),
            o = office.url(),
            l = leaders.url(),
    ));
    let d = common::start(&config, &clock).await;
    // A week and a day, a turn every six hours.
    for _ in 0..33 {
        d.poll_once(None).await.unwrap();
        clock.advance(Duration::hours(6));
    }
    let texts = |e: &Emulator| e.accepted().iter().map(|r| r.text()).collect::<Vec<_>>();
    let o = texts(&office);
    assert!(
        o.iter().any(|t| t.contains("【发布提醒】")),
        "at risk: {o:#?}"
    );
    assert!(
        o.iter().any(|t| t.contains("【发布违规】")),
        "missed: {o:#?}"
    );
    let l = texts(&leaders);
    assert!(
        l.iter().any(|t| t.contains("【发布违规】")),
        "missed: {l:#?}"
    );
    assert!(!l.iter().any(|t| t.contains("【发布提醒】")), "{l:#?}");
}

/// Issue 28: a misconfigured robot passed `check`. Now `check` lists every notifier with
/// the roles that use it, and warns (in Chinese, exit 0: the daemon's environment may hold
/// what this shell lacks) when its secret cannot be read here, when a DingTalk secret is
/// not one, and when robot links would point at a console on loopback.
#[tokio::test]
async fn check_lists_the_notifiers_and_warns_of_what_would_stop_them() {
    let s = site(
        &clock(),
        "无关",
        "[people]\nduty = [\"duty@x.cn\", \"notify:duty-ding\"]\n\n\
         [[notify]]\nid = \"duty-ding\"\nkind = \"dingtalk\"\n\
         url = \"https://oapi.dingtalk.com/robot/send?access_token=tok-11\"\n\
         secret = \"env:YQ_T11_DING\"\n",
    )
    .await;
    let root = s._dirs.root().to_path_buf();
    let config = s.config.to_str().unwrap().to_string();
    let check = |secret: Option<&str>| {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_yuqing"));
        c.current_dir(&root).args(["check", "--config", &config]);
        match secret {
            Some(v) => c.env("YQ_T11_DING", v),
            None => c.env_remove("YQ_T11_DING"),
        };
        let out = c.output().unwrap();
        assert!(out.status.success(), "{out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let unset = check(None);
    assert_has!(unset, "即时消息通道（[[notify]]）：\n  duty-ding 钉钉 https://oapi.dingtalk.com/robot/send，密钥 env:YQ_T11_DING；用于 duty");
    assert!(
        !unset.contains("tok-11"),
        "the robot's token stays out: {unset}"
    );
    assert_has!(
        unset,
        "警告：通道 duty-ding 的密钥读不到：the environment variable YQ_T11_DING is not set"
    );
    assert_has!(
        unset,
        "警告：[web] url 未设置：即时消息里的链接指向 http://127.0.0.1:8700/"
    );
    let wrong = check(Some("not-a-signing-secret"));
    assert_has!(wrong, "不像钉钉加签密钥（应以 SEC 开头）");
    assert!(!wrong.contains("not-a-signing-secret"), "{wrong}");
    let right = check(Some("SECright11"));
    assert!(!right.contains("警告：通道 duty-ding"), "{right}");
}
