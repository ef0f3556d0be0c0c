//! `cargo bench --bench notify`: 1,000 alerts, queued within one minute, to three notifiers
//! (a WeCom, a DingTalk and a Feishu robot) through the daemon's own outbox and
//! dispatcher, against the loopback emulators of the tests (which verify every signature
//! and answer 45009 / 130101 / 11232 when a limit is passed).
//!
//! Time is a manual clock moved one second per loop turn, as the daemon's loop turns once
//! a second, so the run shows how long delivery takes under the services' rate limits
//! (`delivered_after_s`, simulated) and what it costs the machine (`wall_s`, real).
//!
//! Prints one JSON line on stdout: `{"alerts", "notifiers", "wall_s", "turns",
//! "delivered_after_s": {…}, "requests": {…}, "digests": {…}, "throttled", "lost"}` where
//! `lost` counts alerts some notifier never named. Fails if anything is lost.

#[path = "../tests/common/im.rs"]
#[allow(dead_code)]
mod im;

use chrono::TimeZone;
use im::{Emulator, Service};
use std::sync::Arc;
use std::time::Instant;
use yuqing::store::Draft;
use yuqing::vocab::clock::{secs, Clock, ManualClock};

const ALERTS: i64 = 1_000;

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    let clock = ManualClock::new(chrono::Utc.with_ymd_and_hms(2026, 11, 24, 1, 0, 0).unwrap());
    let shared: Arc<dyn Clock> = Arc::new(clock.clone());
    let wecom = Emulator::start(Service::Wecom, "wk", "", shared.clone()).await;
    let ding = Emulator::start(Service::Dingtalk, "dt", "SECbench", shared.clone()).await;
    let feishu = Emulator::start(Service::Feishu, "fs", "fsbench", shared.clone()).await;
    std::env::set_var("YQ_BENCH_DING", "SECbench");
    std::env::set_var("YQ_BENCH_FEISHU", "fsbench");
    std::fs::create_dir_all(root.join("watchlists")).unwrap();
    std::fs::write(
        root.join("watchlists/w.toml"),
        "[[topic]]\nid = \"t\"\nname = \"景区安全\"\nany = [\"坍塌\"]\n",
    )
    .unwrap();
    let config = root.join("yuqing.toml");
    std::fs::write(
        &config,
        format!(
            "[daemon]\nwatchlists = \"{r}/watchlists\"\nstate_dir = \"{r}/var\"\n\n\
             [[notify]]\nid = \"w\"\nkind = \"wecom\"\nurl = \"{}\"\n\n\
             [[notify]]\nid = \"d\"\nkind = \"dingtalk\"\nurl = \"{}\"\nsecret = \"env:YQ_BENCH_DING\"\n\n\
             [[notify]]\nid = \"f\"\nkind = \"feishu\"\nurl = \"{}\"\nsecret = \"env:YQ_BENCH_FEISHU\"\n",
            wecom.url(),
            ding.url(),
            feishu.url(),
            r = root.display()
        ),
    )
    .unwrap();
    let settings = yuqing::config::settings::Settings::load(&config).expect("config");
    let daemon = yuqing::daemon::scheduler::Daemon::start(config.clone(), settings, shared.clone())
        .await
        .expect("daemon");
    let store = daemon.store.clone();
    let started = clock.now();
    let wall = Instant::now();
    let mut turns = 0;
    let mut next = 1;
    let mut last = std::collections::HashMap::new();
    loop {
        // 1,000 alerts over the first minute: 17 a second.
        if next <= ALERTS {
            let mut tx = store.begin().await.unwrap();
            for _ in 0..17 {
                if next > ALERTS {
                    break;
                }
                let draft = Draft {
                    kind: "opened".into(),
                    incident_id: Some(next),
                    recipients: vec!["duty@x.cn".into()],
                    subject: format!("【舆情·重大】#{next} 景区安全：第{next}号景区发生坍塌 游客被困"),
                    text: format!("新舆情事件 #{next} 已立案，请立即研判处置。\n\n时限：\n  - 发布权威信息：11-24 14:00 前，剩余 5小时\n"),
                    html: String::new(),
                    notify: vec!["w".into(), "d".into(), "f".into()],
                };
                store
                    .enqueue(&mut tx, &draft, secs(clock.now()), "x.cn")
                    .await
                    .unwrap();
                next += 1;
            }
            tx.commit().await.unwrap();
        }
        daemon.housekeeping().await.expect("housekeeping");
        turns += 1;
        for (name, e) in [("wecom", &wecom), ("dingtalk", &ding), ("feishu", &feishu)] {
            if !last.contains_key(name) && next > ALERTS && named(e).len() as i64 == ALERTS {
                last.insert(name, (clock.now() - started).num_seconds());
            }
        }
        if next > ALERTS && store.notifications_pending().await.unwrap() == 0 {
            break;
        }
        if turns > 6 * 3600 {
            break;
        }
        clock.advance(chrono::Duration::seconds(1));
    }
    let wall_s = wall.elapsed().as_secs_f64();
    let mut lost = 0;
    let mut requests = serde_json::Map::new();
    let mut digests = serde_json::Map::new();
    let mut throttled = 0;
    for (name, e) in [("wecom", &wecom), ("dingtalk", &ding), ("feishu", &feishu)] {
        lost += ALERTS - named(e).len() as i64;
        requests.insert(name.into(), e.accepted().len().into());
        digests.insert(
            name.into(),
            e.accepted()
                .iter()
                .filter(|r| r.text().contains("汇总"))
                .count()
                .into(),
        );
        throttled += e.received().iter().filter(|r| r.code != 0).count();
    }
    eprintln!("1,000 alerts to three robots: {turns} loop turns in {wall_s:.1}s of wall time");
    let out = serde_json::json!({
        "alerts": ALERTS,
        "notifiers": 3,
        "wall_s": (wall_s * 100.0).round() / 100.0,
        "turns": turns,
        "delivered_after_s": last,
        "requests": requests,
        "digests": digests,
        "throttled": throttled,
        "lost": lost,
    });
    println!("{out}");
    assert_eq!(lost, 0, "alerts lost");
}

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
