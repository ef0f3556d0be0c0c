//! Operators edit watchlists while the daemon runs: a change to a file in the watchlists
//! folder reloads them atomically, and a bad edit keeps the running set.

use crate::common;

use common::TempDirs;
use std::sync::Arc;
use yuqing::config::settings::Settings;
use yuqing::daemon::scheduler::Daemon;
use yuqing::vocab::clock::SystemClock;

fn topics(d: &Daemon, text: &str) -> Vec<String> {
    d.settings
        .get()
        .classifier
        .classify(text, None)
        .topics
        .into_iter()
        .map(|t| t.id)
        .collect()
}

#[tokio::test]
async fn an_edited_watchlist_reloads_and_a_broken_one_is_refused() {
    let dirs = TempDirs::new();
    dirs.write(
        "watchlists/a.toml",
        "[[topic]]\nid = \"scenic\"\nname = \"景区\"\nany = [\"踩踏\"]\n",
    );
    let config = dirs.config("");
    let d = common::start_on(&config, Arc::new(SystemClock)).await;
    assert!(!d.reload_if_changed(), "nothing changed yet");
    assert_eq!(topics(&d, "文物被盗"), Vec::<String>::new());

    dirs.write(
        "watchlists/b.toml",
        "[[topic]]\nid = \"relics\"\nname = \"文物\"\nany = [\"文物被盗\"]\n",
    );
    assert!(d.reload_if_changed());
    assert_eq!(topics(&d, "某博物馆文物被盗"), vec!["relics"]);

    // A typo: the running set stays, including the topic just added.
    dirs.write(
        "watchlists/b.toml",
        "[[topic]]\nid = \"relics\"\nname = \"文物\"\nayn = [\"文物被盗\"]\n",
    );
    assert!(d.reload_if_changed());
    assert_eq!(topics(&d, "某博物馆文物被盗"), vec!["relics"]);
    assert_eq!(topics(&d, "景区踩踏"), vec!["scenic"]);
    assert!(
        !d.reload_if_changed(),
        "a bad file is tried once per edit, not every tick"
    );
    // The operators are mailed the mistake with its file:line, once: a SIGHUP reload of
    // the same bad file (as `systemctl reload` sends) does not mail it again.
    d.mail_rejected_reload().await;
    d.reload();
    d.mail_rejected_reload().await;
    let rejected = rejected_mail(&d).await;
    assert_eq!(rejected.len(), 1, "{rejected:#?}");
    assert_eq!(rejected[0].recipients, "[\"运维 <operators@localhost>\"]");
    assert!(
        rejected[0].subject.starts_with("【舆情·配置未生效】"),
        "{}",
        rejected[0].subject
    );
    let b = dirs.root().join("watchlists/b.toml");
    assert_has!(
        rejected[0].body_text,
        &format!("{}:4: unknown field `ayn`", b.display())
    );
    assert!(rejected[0].body_text.contains("yuqing check --config "));

    // Fixed: it loads.
    dirs.write(
        "watchlists/b.toml",
        "[[topic]]\nid = \"relics\"\nname = \"文物\"\nany = [\"文物损毁\"]\n",
    );
    assert!(d.reload_if_changed());
    assert_eq!(topics(&d, "某博物馆文物被盗"), Vec::<String>::new());
    assert_eq!(topics(&d, "文物损毁严重"), vec!["relics"]);

    // Broken again the same way after a good load: that is news, mailed again.
    dirs.write(
        "watchlists/b.toml",
        "[[topic]]\nid = \"relics\"\nname = \"文物\"\nayn = [\"文物被盗\"]\n",
    );
    assert!(d.reload_if_changed());
    d.mail_rejected_reload().await;
    assert_eq!(rejected_mail(&d).await.len(), 2);
}

async fn rejected_mail(d: &Daemon) -> Vec<yuqing::store::OutboxRow> {
    common::mail(&d.store, "reload_rejected").await
}

/// Issue 28: `severty = "major"` under the first `[[topic]]` of the starter scenic-safety
/// watchlist (Chinese comments and rules around it) once panicked in the diagnostics and
/// killed the running daemon. Now the reload is refused at its line, the running set stays
/// and the operators get 【舆情·配置未生效】.
#[tokio::test]
async fn a_typo_in_the_starter_scenic_watchlist_keeps_the_daemon_and_mails_its_line() {
    let dirs = TempDirs::new();
    let starter = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("watchlists/scenic-safety.toml"),
    )
    .unwrap();
    dirs.write("watchlists/scenic-safety.toml", &starter);
    let config = dirs.config("");
    let d = common::start_on(&config, Arc::new(SystemClock)).await;
    let accident = "某景区发生踩踏事故，3人受伤";
    assert_eq!(topics(&d, accident), vec!["scenic-safety"]);

    let typo = starter.replacen(
        "severity = \"major\"\n",
        "severity = \"major\"\nseverty = \"major\"\n",
        1,
    );
    let line = typo.lines().position(|l| l.starts_with("severty")).unwrap() + 1;
    dirs.write("watchlists/scenic-safety.toml", &typo);
    assert!(d.reload_if_changed());
    assert_eq!(
        topics(&d, accident),
        vec!["scenic-safety"],
        "the running set stays"
    );
    d.mail_rejected_reload().await;
    let rejected = rejected_mail(&d).await;
    assert_eq!(rejected.len(), 1, "{rejected:#?}");
    let file = dirs.root().join("watchlists/scenic-safety.toml");
    assert_has!(
        rejected[0].body_text,
        &format!("{}:{line}: unknown field `severty`", file.display())
    );
    // A restart on the bad file is refused with the same line, not a panic.
    let errs = match Settings::load(&config) {
        Ok(_) => panic!("the typo loads"),
        Err(errs) => errs.to_string(),
    };
    assert_has!(errs, &format!(":{line}: unknown field `severty`"));
}
