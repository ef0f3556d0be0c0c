//! Timers survive a restart: deadlines are rows, so one that passed while the daemon was
//! down fires on the next start, once. Time is a ManualClock, not sleeps; mail goes to the
//! folder transport, one .eml file per message.

use crate::common;

use chrono::{Duration, TimeZone, Utc};
use common::{HttpServer, TempDirs};
use yuqing::vocab::clock::ManualClock;
use yuqing::vocab::ids::IncidentId;

fn mail_files(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".eml"))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

backend_test!(a_deadline_missed_while_down_fires_once_on_start);
async fn a_deadline_missed_while_down_fires_once_on_start(backend: Option<String>) {
    let dirs = TempDirs::new();
    let http = HttpServer::feed(
        "/news.xml",
        &[(
            "某景区发生坍塌 游客被困",
            "https://news.example.cn/a/1.html",
            "a-1",
            "",
        )],
    )
    .await;
    dirs.write(
        "watchlists/w.toml",
        "[[topic]]\nid = \"scenic\"\nname = \"景区安全\"\nseverity = \"major\"\nany = [\"坍塌\"]\nall = [\"景区\"]\n",
    );
    let config = dirs.config(&format!(
        "{db}\n\
             [[source]]\nid = \"news\"\nkind = \"feed\"\nurl = \"{url}\"\n",
        url = http.url("/news.xml"),
        db = common::db::config_line(&backend),
    ));
    let mail_dir = dirs.root().join("var/mail");
    let t0 = Utc.with_ymd_and_hms(2026, 11, 24, 1, 0, 0).unwrap();
    let clock = ManualClock::new(t0);

    // First run: the item opens an incident and the duty officer is mailed.
    let daemon = common::start(&config, &clock).await;
    let polled = daemon.poll_once(None).await.unwrap();
    assert_eq!(polled[0].1.as_ref().unwrap().opened, vec![IncidentId(1)]);
    assert_eq!(mail_files(&mail_dir).len(), 1, "the opening mail");
    // The duty officer acknowledges (else the leaders would also hear it went unanswered).
    let config_now = daemon.settings.get().config.clone();
    yuqing::incident::act(
        &daemon.store,
        &config_now,
        yuqing::vocab::ids::IncidentId(1),
        &yuqing::incident::Step::Acknowledge,
        "duty",
        t0,
    )
    .await
    .unwrap();
    daemon.store.close().await;
    drop(daemon);

    // Down for six hours: the 5-hour release deadline passes unseen.
    clock.advance(Duration::hours(6));
    let daemon = common::start(&config, &clock).await;
    daemon.housekeeping().await.unwrap();
    let files = mail_files(&mail_dir);
    assert_eq!(
        files.len(),
        2,
        "the missed release escalates on start: {files:?}"
    );
    let escalation = std::fs::read_to_string(mail_dir.join(&files[1])).unwrap();
    assert_has!(escalation, "Subject:");
    assert!(
        escalation.contains("In-Reply-To: <yuqing.1@localhost>"),
        "threaded:\n{escalation}"
    );

    // A second pass, and a third start, send nothing more.
    daemon.housekeeping().await.unwrap();
    daemon.store.close().await;
    drop(daemon);
    let daemon = common::start(&config, &clock).await;
    daemon.housekeeping().await.unwrap();
    assert_eq!(mail_files(&mail_dir).len(), 2, "fired once");

    // Nineteen hours on: the press conference deadline (24h) fires when its time comes,
    // and the still-unmet release is escalated once more (every hour it is checked).
    clock.advance(Duration::hours(19));
    daemon.housekeeping().await.unwrap();
    assert_eq!(mail_files(&mail_dir).len(), 4);
}
