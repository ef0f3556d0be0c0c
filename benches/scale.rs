//! `cargo bench --bench scale`: whether reading costs the same with a long history as with a
//! short one (issue 29 §3). One SQLite store is grown through the store's own API
//! (`Store::store_items`, one transaction per hour of intake; incidents through
//! `insert_incident`, `add_incident_item`, `insert_deadline`, `meet_deadline`,
//! `close_incident`) at a constant intake of `RATE` items a day from `SOURCES` sources, to
//! 40,000 items (8 days: a full week behind the weekly briefing) and then to 1,000,000
//! (200 days); `YUQING_BENCH_SCALE_MAX=5000000` grows on to 5,000,000 (1,000 days).
//!
//! At each size, the real console (`Daemon::serve_console` on loopback, a logged-in
//! session) answers, each `RUNS` times after 2 unmeasured fetches, the median kept:
//! a text search (`/items?q=踩踏`), `/items?page=50`, the dashboard (`/`), the day
//! briefing (`/briefing?from=yesterday`), the weekly briefing (the last whole week), the
//! 考核 report of that week (`/report`) and the sources page (`/sources`): the median, and
//! the least (which the other processes on a shared machine disturb least). Then
//! retention with `items = "90d"`: `prune_items` batch after batch as `yuqing prune` does
//! (sized by `PruneBatch`, the lock free between two), how long each held the write lock
//! (the longest, the 99th percentile, the median), and meanwhile an item inserted through
//! `store_items` every 50 ms, as a poll would (how long each took, waiting for the lock
//! included); then `VACUUM`, the file before and after, and the reads again.
//!
//! Prints progress on stderr, then, last, one JSON line on stdout:
//! `{"rate_per_day", "sources", "sizes": [{"items", "days", "file_bytes", "ms": {read: median},
//! "ms_least"}], "ratios": {read: median at the largest / at 40k}, "worst_ratio",
//! "ratios_least", "worst_ratio_least", "prune": {"hold_ms", "insert_during_prune_ms", ...}}`.
//! The aim: every ratio at most 2.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use yuqing::config::settings::Settings;
use yuqing::daemon::scheduler::Daemon;
use yuqing::store::{Incoming, NewIncident, NewItem, Store, Stored};
use yuqing::vocab::clock::ManualClock;
use yuqing::vocab::ids::IncidentId;
use yuqing::vocab::severity::Severity;
use yuqing::vocab::state::DeadlineKind;

/// Items a day: 40,000 items is then 8 days, a full week behind the weekly briefing.
const RATE: i64 = 5_000;
const SOURCES: usize = 200;
/// Sources heard from in an hour, each with its share of the hour's items.
const PER_HOUR_SOURCES: usize = 20;
const RUNS: usize = 9;
/// Incidents opened a day; each closes 3 days later.
const INCIDENTS_A_DAY: i64 = 3;
/// 2026-01-05 00:00 Shanghai, a Monday: the first item's hour.
const START: i64 = 1_767_542_400;

const PLACES: &[&str] = &[
    "某景区",
    "市博物馆",
    "古城步行街",
    "滨江公园",
    "温泉度假区",
    "高铁站广场",
    "民俗村",
    "森林公园",
    "老街夜市",
    "海滨浴场",
    "滑雪场",
    "文化馆",
    "游客中心",
    "索道站",
    "大剧院",
];
const EVENTS: &[(&str, bool, bool)] = &[
    // (what happened, negative, matches the topic)
    ("发生踩踏 多名游客受伤", true, true),
    ("栈道坍塌 景区紧急疏散", true, true),
    ("门票涨价引游客不满", true, false),
    ("排队两小时 游客吐槽管理混乱", true, false),
    ("推出冬季惠民活动", false, false),
    ("延长开放时间 方便市民参观", false, false),
    ("举办非遗展演 吸引大批游客", false, false),
    ("开展安全检查 排查隐患", false, false),
    ("新增停车位缓解拥堵", false, false),
    ("志愿者服务获点赞", false, false),
    ("发布假期旅游消费提示", false, false),
    ("文旅融合项目签约落地", false, false),
    ("夜间灯光秀开幕", false, false),
    ("网友反映卫生间不足", true, false),
    ("研学游线路上新", false, false),
    ("客流创新高 管理部门提醒错峰出行", false, false),
    ("外地游客称遭遇宰客", true, false),
    ("积极回应游客关切", false, false),
    ("索道故障 游客滞留半小时", true, false),
    ("举行应急演练", false, false),
    ("开通直通车线路", false, false),
    ("获评国家级旅游休闲街区", false, false),
    ("网红打卡点人满为患", false, false),
    ("导游强制购物被投诉", true, false),
    ("智慧旅游平台上线", false, false),
    ("举办美食节", false, false),
    ("暑期客流回升", false, false),
    ("文物保护修缮完工", false, false),
    ("游船超载被查处", true, false),
    ("发布文明旅游倡议", false, false),
    ("夜游项目延时", false, false),
    ("开展消防演练", false, false),
    ("景区观光车事故一人受伤", true, false),
    ("推出年卡优惠", false, false),
    ("残障设施改造完成", false, false),
    ("游客丢失物品被找回", false, false),
    ("举办摄影大赛", false, false),
    ("投诉处理满意率提升", false, false),
    ("踩踏风险点排查整改", false, true),
    ("黄金周接待游客百万人次", false, false),
];

fn item_text(n: i64) -> (String, String, bool, bool) {
    // A prime stride through the events so that places and events mix.
    let (event, negative, topical) = EVENTS[(n as usize * 7 + n as usize / 13) % EVENTS.len()];
    let place = PLACES[(n as usize / 3) % PLACES.len()];
    let title = format!("{place}{event}（{n}）");
    let summary = format!(
        "据网友反映，{place}{event}。记者从有关部门获悉，相关情况正在进一步核实处置中，\
         当地文旅部门表示将及时发布信息，回应社会关切。编号 {n}。"
    );
    (title, summary, negative, topical)
}

/// What one hour's transaction stored, for the incidents.
struct Hour {
    topical: Vec<i64>,
}

/// Stores the hour starting at `at`: `n` items from `PER_HOUR_SOURCES` sources, the first
/// item number `first`; a few re-posts of the previous hour's links by other sources.
async fn store_hour(
    store: &Store,
    at: i64,
    first: i64,
    n: i64,
    prev_links: &mut Vec<String>,
) -> Hour {
    let mut tx = store.begin().await.unwrap();
    let hour = (at - START) / 3600;
    let per = (n as usize).div_ceil(PER_HOUR_SOURCES);
    let mut k = first;
    let mut topical = Vec::new();
    let mut links = Vec::new();
    for s in 0..PER_HOUR_SOURCES {
        let source = format!(
            "src{}",
            (hour as usize * PER_HOUR_SOURCES + s * 7) % SOURCES
        );
        let mut texts = Vec::new();
        while texts.len() < per && k < first + n {
            let (title, summary, negative, topics) = item_text(k);
            // The text's hash as the poll stores it: random order in its indexes.
            let hash = format!(
                "{:016x}",
                (k as u64 ^ 0x5bd1_e995).wrapping_mul(0x9e37_79b9_7f4a_7c15)
            );
            texts.push((
                k,
                title,
                summary,
                negative,
                topics,
                format!("https://news.example.cn/{k}.html"),
                hash,
            ));
            k += 1;
        }
        // A re-post of another source's item of the hour before: a sighting (issue 24 §2).
        let repost = (s == 0).then(|| prev_links.pop()).flatten();
        let mut incoming: Vec<Incoming> = texts
            .iter()
            .map(
                |(k, title, summary, negative, topics, link, hash)| Incoming {
                    item: NewItem {
                        source_id: &source,
                        guid: link,
                        link: Some(link),
                        title,
                        summary,
                        published_at: Some(at - 600 - k % 3000),
                        content_hash: hash,
                    },
                    tone: Some(yuqing::classify::tone::Tone {
                        label: if *negative { "negative" } else { "neutral" }
                            .parse()
                            .unwrap(),
                        score: if *negative { -0.6 } else { 0.1 },
                    }),
                    topics: if *topics {
                        vec!["scenic".to_string()].into()
                    } else {
                        Default::default()
                    },
                    signature: None,
                },
            )
            .collect();
        let repost_guid = repost.as_ref().map(|l| format!("{l}#{source}"));
        if let (Some(link), Some(guid)) = (&repost, &repost_guid) {
            incoming.push(Incoming {
                item: NewItem {
                    source_id: &source,
                    guid,
                    link: Some(link),
                    title: "转载",
                    summary: "",
                    published_at: None,
                    content_hash: guid,
                },
                tone: None,
                topics: Default::default(),
                signature: None,
            });
        }
        let stored = store
            .store_items(&mut tx, &source, &incoming, at + 60 * s as i64)
            .await
            .unwrap();
        for (r, (_, _, _, _, t, link, _)) in stored.iter().zip(&texts) {
            if let Stored::New(row) = r {
                if *t {
                    topical.push(row.id);
                }
                if links.len() < 3 {
                    links.push(link.clone());
                }
            }
        }
    }
    tx.commit().await.unwrap();
    *prev_links = links;
    Hour { topical }
}

/// Grows the store from `have` items to `to`, hour by hour, opening `INCIDENTS_A_DAY`
/// incidents a day from topical items and closing each 3 days later. Returns the time of
/// the last hour stored.
async fn grow(store: &Store, have: &mut i64, to: i64, open: &mut Vec<(i64, i64)>) -> i64 {
    let per_hour = RATE / 24;
    let mut prev_links = Vec::new();
    let mut at = START + (*have / per_hour) * 3600;
    let t = Instant::now();
    while *have < to {
        let n = per_hour.min(to - *have);
        let hour = store_hour(store, at, *have, n, &mut prev_links).await;
        *have += n;
        let h = (at - START) / 3600;
        // Incidents: at 10:00, 14:00 and 20:00 local (UTC+8: hours 2, 6 and 12 UTC).
        if [2, 6, 12].contains(&(h % 24)) && INCIDENTS_A_DAY == 3 && !hour.topical.is_empty() {
            let mut tx = store.begin().await.unwrap();
            let first = hour.topical[0];
            let id = store
                .insert_incident(
                    &mut tx,
                    &NewIncident {
                        topic_id: "scenic",
                        topic_name: "景区安全",
                        title: "某景区发生踩踏 多名游客受伤",
                        severity: if h % 2 == 0 {
                            Severity::Major
                        } else {
                            Severity::Large
                        },
                        opened_at: at,
                        clock_start: at,
                        first_item_id: first,
                    },
                )
                .await
                .unwrap();
            for item in &hour.topical[1..] {
                store
                    .add_incident_item(&mut tx, id, *item, at)
                    .await
                    .unwrap();
            }
            let kinds: &[(DeadlineKind, i64)] = if h % 2 == 0 {
                &[
                    (DeadlineKind::Release, 5 * 3600),
                    (DeadlineKind::PressConference, 24 * 3600),
                ]
            } else {
                &[(DeadlineKind::Response, 48 * 3600)]
            };
            for (kind, span) in kinds {
                store
                    .insert_deadline(&mut tx, id, *kind, at + span)
                    .await
                    .unwrap();
            }
            // Most met in time, some late.
            let met_after = if id.0 % 5 == 0 { 7 * 3600 } else { 3 * 3600 };
            store
                .meet_deadline(&mut tx, id, kinds[0].0, at + met_after, "张三", None)
                .await
                .unwrap();
            tx.commit().await.unwrap();
            open.push((id.0, at));
        }
        // Close what opened 3 days ago.
        let mut still = Vec::new();
        for (id, opened) in open.drain(..) {
            if opened + 3 * 86_400 <= at {
                let mut tx = store.begin().await.unwrap();
                store
                    .close_incident(&mut tx, IncidentId(id), at, "张三")
                    .await
                    .unwrap();
                tx.commit().await.unwrap();
            } else {
                still.push((id, opened));
            }
        }
        *open = still;
        if *have % 100_000 < per_hour {
            eprintln!("  {} items, {:.0} s", *have, t.elapsed().as_secs_f64());
        }
        at += 3600;
    }
    at
}

/// The median and the least of `RUNS` fetches, in ms.
async fn times_ms(client: &reqwest::Client, url: &str, cookie: &str, expect: &str) -> (f64, f64) {
    let mut out = Vec::new();
    for k in 0..RUNS + 2 {
        let t = Instant::now();
        let r = client
            .get(url)
            .header("cookie", cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{url}");
        let body = r.text().await.unwrap();
        assert!(body.contains(expect), "{url}: no {expect:?} in the page");
        if k >= 2 {
            out.push(t.elapsed().as_secs_f64() * 1000.0);
        }
    }
    out.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let round = |ms: f64| (ms * 10.0).round() / 10.0;
    (round(out[out.len() / 2]), round(out[0]))
}

/// Logs in as a browser does and returns the cookie header.
async fn log_in(client: &reqwest::Client, base: &str) -> String {
    let page = client.get(format!("{base}/login")).send().await.unwrap();
    let csrf = page.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let body = page.text().await.unwrap();
    let marker = "name=\"authenticity_token\" value=\"";
    let at = body.find(marker).unwrap() + marker.len();
    let token = &body[at..at + body[at..].find('"').unwrap()];
    let form = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("authenticity_token", token)
        .append_pair("username", "张三")
        .append_pair("password", "bench password 1")
        .finish();
    let r = client
        .post(format!("{base}/login"))
        .header("cookie", &csrf)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "login");
    let session = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_string())
        .find(|c| c.starts_with("yuqing_session="))
        .unwrap();
    format!("{csrf}; {session}")
}

/// Each read's median and least time as of `now` (UTC seconds).
async fn reads(client: &reqwest::Client, base: &str, cookie: &str, now: i64) -> Reads {
    let tz = chrono_tz::Asia::Shanghai;
    let today = yuqing::vocab::clock::from_secs(now)
        .with_timezone(&tz)
        .date_naive();
    let yesterday = today - chrono::Duration::days(1);
    let monday = yuqing::rules::duty::week_monday(yuqing::vocab::clock::from_secs(now), tz)
        - chrono::Duration::days(7);
    let sunday = monday + chrono::Duration::days(6);
    let mut out = Reads::default();
    let pages: [(&str, String, &str); 7] = [
        ("search", format!("/items?q={}", "踩踏"), "踩踏"),
        ("items_page_50", "/items?page=50".into(), "条"),
        ("dashboard", "/".into(), "总览"),
        (
            "day_briefing",
            format!("/briefing?from={yesterday}"),
            "监测信息 ",
        ),
        (
            "weekly_briefing",
            format!("/briefing?from={monday}&to={sunday}"),
            "监测信息 ",
        ),
        (
            "report",
            format!("/report?from={monday}&to={sunday}"),
            "</table>",
        ),
        ("sources", "/sources".into(), "src0"),
    ];
    for (name, path, expect) in pages {
        let (median, least) = times_ms(client, &format!("{base}{path}"), cookie, expect).await;
        eprintln!("  {name:<16} {median:>8.1} ms (least {least:.1})");
        out.median.insert(name, median);
        out.least.insert(name, least);
    }
    out
}

#[derive(Default)]
struct Reads {
    median: BTreeMap<&'static str, f64>,
    least: BTreeMap<&'static str, f64>,
}

/// Each read's time at the largest size over its time at 40,000 items.
fn ratios(
    base: &BTreeMap<&'static str, f64>,
    top: &BTreeMap<&'static str, f64>,
) -> BTreeMap<&'static str, f64> {
    base.iter()
        .map(|(k, v)| (*k, (top[k] / v.max(0.1) * 100.0).round() / 100.0))
        .collect()
}

fn main() {
    let max: i64 = std::env::var("YUQING_BENCH_SCALE_MAX")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let mut sizes = vec![40_000i64, 1_000_000.min(max)];
    if max > 1_000_000 {
        sizes.push(max);
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("watchlists")).unwrap();
        std::fs::write(
            root.join("watchlists/w.toml"),
            "[[topic]]\nid = \"scenic\"\nname = \"景区安全\"\nseverity = \"major\"\nany = [\"踩踏\", \"坍塌\"]\n",
        )
        .unwrap();
        let mut config = format!(
            "[daemon]\nwatchlists = \"{r}/watchlists\"\nstate_dir = \"{r}/var\"\ntimezone = \"Asia/Shanghai\"\n\
             [web]\nlisten = \"127.0.0.1:0\"\n[retention]\nitems = \"90d\"\n",
            r = root.display()
        );
        for s in 0..SOURCES {
            config.push_str(&format!(
                "\n[[source]]\nid = \"src{s}\"\nname = \"来源{s}\"\nkind = \"feed\"\nurl = \"http://127.0.0.1:9/{s}.xml\"\n"
            ));
        }
        let path = root.join("yuqing.toml");
        std::fs::write(&path, config).unwrap();
        let settings = Settings::load(&path).unwrap_or_else(|e| panic!("{e}"));
        let clock = ManualClock::new(yuqing::vocab::clock::from_secs(START));
        let daemon = Daemon::start(path.clone(), settings, Arc::new(clock.clone())).await.unwrap();
        let store = daemon.store.clone();
        let hash = yuqing::web::hash_password("bench password 1").unwrap();
        store.add_user("张三", yuqing::web::Role::Duty, &hash, 0).await.unwrap();
        let stop = tokio_util::sync::CancellationToken::new();
        let (addr, _) = daemon.serve_console(stop.clone()).await.unwrap().unwrap();
        let base = format!("http://{addr}");
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(600))
            .build()
            .unwrap();

        let mut have = 0i64;
        let mut open = Vec::new();
        let mut results = Vec::new();
        let mut now = START;
        for &size in &sizes {
            eprintln!("growing to {size} items");
            let t = Instant::now();
            let last = grow(&store, &mut have, size, &mut open).await;
            let grow_s = t.elapsed().as_secs_f64();
            now = last + 1800;
            clock.set(yuqing::vocab::clock::from_secs(now));
            let file = store.file_size().await.unwrap().unwrap_or(0);
            eprintln!("{size} items ({:.0} days) in {grow_s:.0} s, file {:.1} MB", (size as f64) / RATE as f64, file as f64 / 1e6);
            // A session lasts hours, the store grew days: log in as of now.
            let cookie = log_in(&client, &base).await;
            let ms = reads(&client, &base, &cookie, now).await;
            results.push((size, grow_s, file, ms));
        }

        // Retention at the largest size: 90 days kept (`YUQING_BENCH_KEEP_DAYS`).
        let keep_days: i64 = std::env::var("YUQING_BENCH_KEEP_DAYS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(90);
        let before = now - keep_days * 86_400;
        let (prunable, held) = store.prunable_items(before).await.unwrap();
        let file_before = store.file_size().await.unwrap().unwrap_or(0);
        // A poll's insert every 50 ms while prune runs: how long it waits for the lock.
        let writing = Arc::new(std::sync::atomic::AtomicBool::new(true));
        let writer = {
            let store = store.clone();
            let writing = writing.clone();
            tokio::spawn(async move {
                let mut waits = Vec::new();
                let mut k = 0;
                while writing.load(std::sync::atomic::Ordering::Relaxed) {
                    let guid = format!("https://writer.example.cn/{k}.html");
                    let title = format!("并发写入 {k}");
                    let incoming = [Incoming {
                        item: NewItem {
                            source_id: "src0",
                            guid: &guid,
                            link: Some(&guid),
                            title: &title,
                            summary: "",
                            published_at: Some(now - 60),
                            content_hash: &guid,
                        },
                        tone: None,
                        topics: Default::default(),
                        signature: None,
                    }];
                    let t = Instant::now();
                    let mut tx = store.begin().await.unwrap();
                    store.store_items(&mut tx, "src0", &incoming, now).await.unwrap();
                    tx.commit().await.unwrap();
                    waits.push(t.elapsed().as_secs_f64() * 1000.0);
                    k += 1;
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                waits
            })
        };
        let t = Instant::now();
        let mut pruned = 0;
        let mut batches = 0;
        let mut holds = Vec::new();
        let mut sizes = Vec::new();
        let mut batch = yuqing::store::PruneBatch::default();
        loop {
            sizes.push(batch.size());
            let b = store.prune_items(before, batch.size()).await.unwrap();
            holds.push(b.held.as_secs_f64() * 1000.0);
            pruned += b.deleted;
            batches += 1;
            batch.after(b.deleted, b.held);
            if !b.more {
                break;
            }
            // As `yuqing prune` does: the lock free between batches.
            tokio::time::sleep(b.held.max(yuqing::store::PRUNE_PAUSE)).await;
        }
        writing.store(false, std::sync::atomic::Ordering::Relaxed);
        let mut waits = writer.await.unwrap();
        let pct = |v: &mut Vec<f64>, p: f64| {
            if v.is_empty() {
                return 0.0;
            }
            v.sort_by(|a, b| a.partial_cmp(b).unwrap());
            let r = v[((p * v.len() as f64).ceil() as usize).clamp(1, v.len()) - 1];
            (r * 10.0).round() / 10.0
        };
        let hold_max = pct(&mut holds, 1.0);
        let hold_p99 = pct(&mut holds, 0.99);
        let hold_p50 = pct(&mut holds, 0.5);
        let wait_max = pct(&mut waits, 1.0);
        let wait_p99 = pct(&mut waits, 0.99);
        let wait_p50 = pct(&mut waits, 0.5);
        sizes.sort_unstable();
        let (size_min, size_median, size_max) =
            (sizes[0], sizes[sizes.len() / 2], sizes[sizes.len() - 1]);
        let longest_batch = hold_max;
        let prune_s = t.elapsed().as_secs_f64();
        let file_pruned = store.file_size().await.unwrap().unwrap_or(0);
        let t = Instant::now();
        store.compact().await.unwrap();
        let vacuum_s = t.elapsed().as_secs_f64();
        let file_after = store.file_size().await.unwrap().unwrap_or(0);
        eprintln!(
            "prune: holds p50 {hold_p50} p99 {hold_p99} max {hold_max} ms; batch sizes {size_min}..{size_median}..{size_max}; \
             a concurrent insert ({} of them) took p50 {wait_p50} p99 {wait_p99} max {wait_max} ms",
            waits.len()
        );
        eprintln!(
            "prune: {pruned} of {prunable} items ({held} held by incidents) in {prune_s:.1} s, {batches} batches, \
             the longest {longest_batch:.0} ms; VACUUM {vacuum_s:.1} s; file {:.1} MB → {:.1} MB (before VACUUM {:.1} MB)",
            file_before as f64 / 1e6,
            file_after as f64 / 1e6,
            file_pruned as f64 / 1e6
        );
        eprintln!("after prune:");
        let cookie = log_in(&client, &base).await;
        let after = reads(&client, &base, &cookie, now).await;

        let (first, last) = (&results[0].3, &results.last().unwrap().3);
        let by_median = ratios(&first.median, &last.median);
        let by_least = ratios(&first.least, &last.least);
        let worst = |r: &BTreeMap<&str, f64>| r.values().cloned().fold(0f64, f64::max);
        eprintln!("ratios {}/{} (medians): {by_median:?}", results.last().unwrap().0, results[0].0);
        eprintln!("ratios (least of {RUNS}): {by_least:?}");
        println!(
            "{}",
            serde_json::json!({
                "rate_per_day": RATE,
                "sources": SOURCES,
                "runs": RUNS,
                "sizes": results.iter().map(|(n, g, f, ms)| serde_json::json!({
                    "items": n,
                    "days": *n as f64 / RATE as f64,
                    "grow_s": (g * 10.0).round() / 10.0,
                    "file_bytes": f,
                    "ms": ms.median,
                    "ms_least": ms.least,
                })).collect::<Vec<_>>(),
                "ratios": by_median,
                "worst_ratio": worst(&by_median),
                "ratios_least": by_least,
                "worst_ratio_least": worst(&by_least),
                "prune": {
                    "kept_days": keep_days,
                    "deleted": pruned,
                    "held_by_incidents": held,
                    "batches": batches,
                    "hold_ms": {"max": hold_max, "p99": hold_p99, "p50": hold_p50},
                    "batch_size": {"min": size_min, "median": size_median, "max": size_max},
                    "insert_during_prune_ms": {"n": waits.len(), "max": wait_max, "p99": wait_p99, "p50": wait_p50},
                    "prune_s": (prune_s * 10.0).round() / 10.0,
                    "vacuum_s": (vacuum_s * 10.0).round() / 10.0,
                    "file_bytes_before": file_before,
                    "file_bytes_pruned": file_pruned,
                    "file_bytes_after": file_after,
                    "ms_after": after.median,
                },
            })
        );
        stop.cancel();
    });
}
