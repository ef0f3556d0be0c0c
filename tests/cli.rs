//! The duty officer's and operator's commands through the real binary, as a user sees
//! them, grouped by command: `incident` and `incidents`, the steps recorded, `report` and
//! `briefing`, `poll` and `sources`, and what every command prints. The scenario is
//! `common::scenario`; the commands run with [`yq`] as of its clock.

mod incident;
mod output;
mod poll;
mod report;
mod steps;

use crate::common;

use chrono::{DateTime, Utc};
use std::process::{Command, Output};
use yuqing::incident::Step;
use yuqing::vocab::ids::IncidentId;

/// A watchlist whose one topic is ordinary: no 5-hour clock.
const SCENIC_ORDINARY: &str = "[[topic]]\nid = \"scenic\"\nname = \"景区安全\"\n\
                               severity = \"ordinary\"\nany = [\"坍塌\", \"故障\"]\n";

/// The report that opens incident #1 in most stories here, a collapse at a scenic spot,
/// published at `published` (RFC 2822; empty when the feed gives no date).
fn collapse(published: &str) -> common::RssItem<'_> {
    (
        "某景区发生坍塌 游客被困",
        "https://n.example.cn/1",
        "1",
        published,
    )
}

/// A report of another event: a cable car stopped, its passengers brought down.
const CABLE_CAR: common::RssItem = (
    "山顶索道突发故障停运 滞留游客已转移",
    "https://n.example.cn/2",
    "2",
    "",
);

/// A scenario watching `watchlist` whose feed carries the undated [`collapse`], polled
/// once: incident #1 is open.
async fn collapse_polled(watchlist: &str, backend: &Option<String>) -> common::Scenario {
    let sc = common::scenario(watchlist, &[collapse("")], "", backend).await;
    sc.daemon.poll_once(None).await.unwrap();
    sc
}

/// Incident #1's deadline of `kind` (`release`, `press_conference`, `response`).
async fn deadline_of_first(sc: &common::Scenario, kind: &str) -> yuqing::store::DeadlineRow {
    let store = &sc.daemon.store;
    let deadlines = store
        .deadlines_of(store.pool(), IncidentId(1))
        .await
        .unwrap();
    deadlines
        .into_iter()
        .find(|d| d.kind == kind)
        .unwrap_or_else(|| panic!("incident #1 has no {kind} deadline"))
}

/// `by` takes `step` on incident #1 at `at`, through the workflow as the console and the
/// commands do.
async fn act_on_first(sc: &common::Scenario, step: &Step, by: &str, at: DateTime<Utc>) {
    let d = &sc.daemon;
    let config = d.settings.get().config.clone();
    yuqing::incident::act(&d.store, &config, IncidentId(1), step, by, at)
        .await
        .unwrap();
}

/// The scenarios' day (their clock starts at 09:00 in Shanghai).
const DAY: &str = "2026-11-24";

/// `yuqing report incidents` of the scenarios' day (`--csv` may follow).
const REPORT_OF_THE_DAY: [&str; 6] = ["report", "incidents", "--from", DAY, "--to", DAY];

/// `yuqing ARGS --config CONFIG` of scenario `sc` acting as `tester`, as of the scenario's
/// clock (`YUQING_NOW`: the commands read the database's time, not today's), with `env`
/// on top.
fn yq_env(sc: &common::Scenario, args: &[&str], env: &[(&str, &str)]) -> Output {
    use yuqing::vocab::clock::Clock;
    let mut c = Command::new(env!("CARGO_BIN_EXE_yuqing"));
    c.args(args)
        .arg("--config")
        .arg(&sc.config)
        .env_remove("YUQING_USER")
        .env("USER", "tester")
        .env("NO_COLOR", "1")
        .env("YUQING_NOW", sc.clock.now().to_rfc3339());
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("run yuqing")
}

/// `yuqing ARGS` of scenario `sc`, as [`yq_env`] without more environment.
fn yq(sc: &common::Scenario, args: &[&str]) -> Output {
    yq_env(sc, args, &[])
}

/// The standard output and error of a command, as text.
fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}
