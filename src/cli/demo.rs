//! `yuqing demo`: a first look in under a minute, with no network and nothing to set up.
//!
//! Serves the bundled sample feeds (one of them GBK-encoded, as many Chinese sites are) on
//! loopback, writes a config with deadlines of seconds and the starter watchlists into a
//! temporary folder, runs the real daemon against them, and prints each mail as it is sent:
//! an incident opens, gets its deadlines, a follow-up item joins it, and the missed release
//! deadline escalates to the leaders; the bureau's own WeChat account, silent last week,
//! is reported as a missed publication duty.

use crate::config::settings::Settings;
use crate::daemon::scheduler::Daemon;
use crate::vocab::clock::SystemClock;
use anyhow::{Context, Result};
use axum::extract::{Path as UrlPath, State};
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use std::collections::HashMap;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

const CITY_NEWS: &[u8] = include_bytes!("../../demo/feeds/city-news.xml");
const FORUM_GBK: &[u8] = include_bytes!("../../demo/feeds/forum.xml");
const LATER: &[u8] = include_bytes!("../../demo/feeds/later.xml");
const WATCHLISTS: &[(&str, &str)] = &[
    (
        "scenic-safety.toml",
        include_str!("../../watchlists/scenic-safety.toml"),
    ),
    (
        "tourism-market.toml",
        include_str!("../../watchlists/tourism-market.toml"),
    ),
];

type Feeds = Arc<Mutex<HashMap<String, Vec<u8>>>>;

/// Sample items carry old dates; the demo serves them as published just now, so that the
/// deadlines count from the moment you watch.
fn fresh(bytes: &[u8]) -> Vec<u8> {
    let now = chrono::Utc::now().to_rfc2822();
    let re = regex::bytes::Regex::new(r"<pubDate>[^<]*</pubDate>").expect("static regex");
    re.replace_all(bytes, format!("<pubDate>{now}</pubDate>").as_bytes())
        .into_owned()
}

/// The demo's own WeChat account (as a feed mirror): one post, 15 days ago, so the week
/// before this one had none whatever today's weekday.
fn silent_account() -> Vec<u8> {
    let then = (chrono::Utc::now() - chrono::Duration::days(15)).to_rfc2822();
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\"><channel>\
         <title>示例文旅</title><link>http://127.0.0.1/</link><description>demo</description>\
         <item><title>示例文旅：秋季赏叶线路推荐</title><link>http://127.0.0.1/wx/1</link>\
         <guid>wx-1</guid><pubDate>{then}</pubDate></item></channel></rss>\n"
    )
    .into_bytes()
}

async fn serve(State(feeds): State<Feeds>, UrlPath(name): UrlPath<String>) -> impl IntoResponse {
    let body = feeds
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(&name)
        .cloned();
    match body {
        // No charset in the header: the GBK feed declares it in its XML declaration only,
        // as real sites do, and the daemon has to find it there.
        Some(b) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/rss+xml")],
            b,
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// Runs the demo for `seconds` (or until Ctrl-C); its folder is removed at the end unless
/// `keep`.
pub async fn run(seconds: Option<u64>, keep: bool) -> Result<ExitCode> {
    let feeds: Feeds = Arc::new(Mutex::new(HashMap::from([
        ("city-news.xml".to_string(), fresh(CITY_NEWS)),
        ("forum.xml".to_string(), fresh(FORUM_GBK)),
        ("wechat.xml".to_string(), silent_account()),
    ])));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .context("cannot listen on loopback")?;
    let port = listener.local_addr()?.port();
    let app = Router::new()
        .route("/{name}", get(serve))
        .with_state(feeds.clone());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });

    // The console on a free loopback port, with a demo user whose password is printed.
    let console_port = {
        let free = std::net::TcpListener::bind("127.0.0.1:0").context("cannot find a free port")?;
        free.local_addr()?.port()
    };
    let dir = tempfile_dir()?;
    std::fs::create_dir_all(dir.join("watchlists"))?;
    for (name, text) in WATCHLISTS {
        std::fs::write(dir.join("watchlists").join(name), text)?;
    }
    let config = dir.join("yuqing.toml");
    std::fs::write(&config, demo_config(&dir, port, console_port))?;
    println!(
        "yuqing demo: sample feeds on http://127.0.0.1:{port}/, state and mail under {}",
        dir.display()
    );
    println!("deadlines are seconds here (release 20s, press conference 40s, response 30s; reminders 10-15s before); Ctrl-C stops.");
    println!(
        "the commands in the mail work in another terminal once you run:\n  export YUQING_CONFIG={} YUQING_USER=演示值班员\n",
        dir.join("yuqing.toml").display()
    );

    let settings = Settings::load(&config).map_err(|e| anyhow::anyhow!("demo config: {e}"))?;
    let daemon = Daemon::start(config, settings, Arc::new(SystemClock)).await?;
    let store = daemon.store.clone();
    let shutdown = CancellationToken::new();
    crate::cli::spawn_signal_handler(shutdown.clone());
    let password = demo_user(&store).await?;
    match daemon.serve_console(shutdown.clone()).await? {
        Some((addr, _)) => {
            println!("the duty console: http://{addr}/  (user {DEMO_USER}, password {password})\n")
        }
        None => println!("the duty console is off in this demo's config\n"),
    }
    let running = tokio::spawn(daemon.run(shutdown.clone()));

    // After a few polls, the follow-up report appears in the news feed and joins the incident.
    let later_feeds = feeds.clone();
    let stop = shutdown.clone();
    tokio::spawn(async move {
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(8)) => {
                later_feeds.lock().unwrap_or_else(|e| e.into_inner()).insert("city-news.xml".into(), fresh(LATER));
                println!("(demo) a follow-up report was published on 示例日报\n");
            }
            _ = stop.cancelled() => {}
        }
    });
    if let Some(s) = seconds {
        let stop = shutdown.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(s)).await;
            stop.cancel();
        });
    }

    let mut printed = 0i64;
    loop {
        printed = print_sent(&store, printed).await;
        if shutdown.is_cancelled() {
            break;
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(300)) => {}
            _ = shutdown.cancelled() => {}
        }
    }
    running.await.context("daemon task failed")??;
    if keep {
        println!(
            "demo stopped; its config, database and mail are kept in {}",
            dir.display()
        );
    } else {
        std::fs::remove_dir_all(&dir)
            .with_context(|| format!("cannot remove the demo folder {}", dir.display()))?;
        println!(
            "demo stopped; its folder {} is removed (run `yuqing demo --keep` to keep it)",
            dir.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// The demo's config: deadlines of seconds, the sample feeds on loopback `port`, the
/// console on `console_port`, state and mail under `dir`.
fn demo_config(dir: &std::path::Path, port: u16, console_port: u16) -> String {
    format!(
        r#"# Written by `yuqing demo`: deadlines of seconds instead of hours.
[daemon]
watchlists = "{dir}/watchlists"
state_dir = "{dir}/var"
tick = "500ms"
# The feeds are served by this process: three of them every 2s fit 200ms between requests.
host_delay = "200ms"

[web]
listen = "127.0.0.1:{console_port}"

[mail]
transport = "file"
from = "舆情值班 <yuqing@demo.example.gov.cn>"
new_items_every = "5s"

[people]
duty = ["值班员 <duty@demo.example.gov.cn>"]
leaders = ["分管领导 <deputy@demo.example.gov.cn>"]
principal = ["主要负责人 <head@demo.example.gov.cn>"]

[deadlines]
major_release = "20s"
major_press_conference = "40s"
ordinary_response = "30s"
release_reminders = ["10s"]
press_conference_reminders = ["15s"]
response_reminders = ["10s"]

# The sample items link to example.cn pages that do not exist: nothing to keep as evidence.
[evidence]
capture = "off"

[[source]]
id = "city-news"
name = "示例日报·本地新闻"
kind = "feed"
url = "http://127.0.0.1:{port}/city-news.xml"
every = "2s"

[[source]]
id = "forum"
name = "示例论坛·民生热线"
kind = "feed"
url = "http://127.0.0.1:{port}/forum.xml"
every = "2s"

# The bureau's own WeChat account must post every week (seed 004); this one last posted
# 15 days ago, so last week was missed and its owner and the leaders hear of it.
[[channel]]
id = "wechat-demo"
name = "示例文旅"
kind = "wechat"
feed = "http://127.0.0.1:{port}/wechat.xml"
owner = "新媒体科 <media@demo.example.gov.cn>"
duty = "weekly"
poll_every = "2s"
"#,
        dir = dir.display()
    )
}

/// Prints the mail sent since outbox row `printed`; returns the last row printed.
async fn print_sent(store: &crate::store::Store, since: i64) -> i64 {
    let Ok(rows) = store.outbox().await else {
        return since;
    };
    let mut printed = since;
    for row in rows.iter().filter(|r| r.id > since && r.sent_at.is_some()) {
        let to = crate::store::read_recipients(&row.recipients, row.id)
            .unwrap_or_else(|e| vec![format!("({e:#})")]);
        println!("━━━━━━━━ mail {} ━━━━━━━━", row.id);
        println!(
            "收件人: {}\n主题: {}\n\n{}",
            to.join(", "),
            row.subject,
            row.body_text
        );
        printed = row.id;
    }
    printed
}

/// The console user the demo creates (a duty officer, so every action can be tried).
const DEMO_USER: &str = "演示值班员";

/// Adds [`DEMO_USER`] with a random password, which is returned to be printed.
async fn demo_user(store: &crate::store::Store) -> Result<String> {
    use argon2::password_hash::{rand_core::OsRng, SaltString};
    let password: String = SaltString::generate(&mut OsRng)
        .as_str()
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(12)
        .collect();
    let hash = {
        let p = password.clone();
        tokio::task::spawn_blocking(move || crate::web::hash_password(&p)).await??
    };
    let now = chrono::Utc::now().timestamp();
    store
        .add_user(DEMO_USER, crate::web::Role::Duty, &hash, now)
        .await?;
    Ok(password)
}

fn tempfile_dir() -> Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("yuqing-demo-{}", std::process::id()));
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    Ok(dir)
}
