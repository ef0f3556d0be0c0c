//! `cargo bench --bench console`: how long the duty console takes to answer its two busiest
//! pages on a large store: 500 open incidents and 200,000 items in SQLite.
//!
//! The store is filled directly (one transaction, multi-row INSERTs) with 200,000 items
//! from 20 sources over 30 days; 500 open incidents of one topic, each with 20 items, a
//! release and a press-conference deadline (some met, some overdue) and a few recorded
//! actions; one incident carries 400 items, the worst page a duty officer opens. The
//! console is the real one (`Daemon::serve_console` on loopback, a logged-in session,
//! CSRF cookie and all); each page is fetched 60 times after 5 unmeasured warm-up fetches.
//!
//! Prints a few lines on stderr, then, last, one JSON line on stdout:
//! `{"incidents", "items", "dashboard_p50_ms", "dashboard_p95_ms", "incident_p50_ms",
//! "incident_p95_ms", "incident_400_items_p95_ms"}`. The issue aims at p95 under 50 ms.

use std::sync::Arc;
use std::time::{Duration, Instant};
use yuqing::config::settings::Settings;
use yuqing::daemon::scheduler::Daemon;
use yuqing::vocab::clock::ManualClock;

const INCIDENTS: i64 = 500;
const ITEMS: i64 = 200_000;
const SOURCES: i64 = 20;
const PER_INCIDENT: i64 = 20;
const BIG: i64 = 400;
const RUNS: usize = 60;

const TITLES: &[&str] = &[
    "某景区栈道坍塌 多名游客受伤",
    "景区索道突发故障 游客被困空中",
    "文旅局发布冬季旅游消费提示",
    "市民热议新开放的城市书房",
    "博物馆延长开放时间 方便游客参观",
];

fn percentile(mut v: Vec<f64>, p: f64) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let k = ((v.len() as f64 - 1.0) * p).round() as usize;
    v[k]
}

async fn fill(store: &yuqing::store::Store, now: i64) {
    let pool = store.pool();
    let mut tx = pool.begin().await.unwrap();
    let t0 = now - 30 * 86_400;
    let mut id = 0i64;
    while id < ITEMS {
        let mut sql = String::from(
            "INSERT INTO items (id, source_id, guid, link, title, summary, published_at, fetched_at, content_hash, topics) VALUES ",
        );
        let end = (id + 500).min(ITEMS);
        let mut first = true;
        while id < end {
            id += 1;
            let title = TITLES[(id as usize) % TITLES.len()];
            let at = t0 + id * (30 * 86_400) / ITEMS;
            let topics = if (id as usize) % TITLES.len() < 2 {
                "[\"scenic\"]"
            } else {
                "[]"
            };
            if !first {
                sql.push(',');
            }
            first = false;
            sql.push_str(&format!(
                "({id}, 'src{}', 'g{id}', 'https://bbs.example.cn/t/{id}', '{title} {id}', \
                 '据网友反映，{title}，现场有关部门已介入处置，具体情况正在进一步核实中。', {at}, {at}, 'h{id}', '{topics}')",
                id % SOURCES
            ));
        }
        sqlx::query(&sql).execute(&mut *tx).await.unwrap();
    }
    // Incidents: each with PER_INCIDENT items (the first with BIG), deadlines and actions.
    let mut next_item = 1i64;
    for i in 1..=INCIDENTS {
        let opened = now - 3600 * (i % 30) - 60 * i;
        let n = if i == 1 { BIG } else { PER_INCIDENT };
        sqlx::query(
            "INSERT INTO incidents (id, topic_id, topic_name, severity, status, opened_at, clock_start, first_item_id) \
             VALUES ($1, 'scenic', '景区安全', $2, $3, $4, $4, $5)",
        )
        .bind(i)
        .bind(if i % 3 == 0 { "ordinary" } else { "major" })
        .bind(if i % 4 == 0 { "acknowledged" } else { "open" })
        .bind(opened)
        .bind(next_item)
        .execute(&mut *tx)
        .await
        .unwrap();
        let mut rows = Vec::new();
        for k in 0..n {
            rows.push(format!("({i}, {}, {opened})", next_item + k));
        }
        sqlx::query(&format!(
            "INSERT INTO incident_items (incident_id, item_id, added_at) VALUES {}",
            rows.join(",")
        ))
        .execute(&mut *tx)
        .await
        .unwrap();
        next_item += n;
        let kinds: &[(&str, i64)] = if i % 3 == 0 {
            &[("response", 48 * 3600)]
        } else {
            &[("release", 5 * 3600), ("press_conference", 24 * 3600)]
        };
        for (kind, span) in kinds {
            let met = if i % 5 == 0 {
                Some(opened + 3600)
            } else {
                None
            };
            sqlx::query(
                "INSERT INTO deadlines (incident_id, kind, due_at, met_at, met_by) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(i)
            .bind(*kind)
            .bind(opened + span)
            .bind(met)
            .bind(met.map(|_| "张三"))
            .execute(&mut *tx)
            .await
            .unwrap();
        }
        for (k, (actor, action)) in [
            ("yuqing", "opened"),
            ("张三", "acknowledged"),
            ("李四", "note"),
        ]
        .iter()
        .enumerate()
        {
            sqlx::query("INSERT INTO actions (incident_id, at, actor, action, detail) VALUES ($1, $2, $3, $4, $5)")
                .bind(i)
                .bind(opened + 60 * k as i64)
                .bind(*actor)
                .bind(*action)
                .bind("请相关部门跟进")
                .execute(&mut *tx)
                .await
                .unwrap();
        }
    }
    tx.commit().await.unwrap();
    sqlx::query("ANALYZE").execute(pool).await.unwrap();
}

async fn measure(client: &reqwest::Client, url: &str, cookie: &str) -> Vec<f64> {
    let mut out = Vec::new();
    for k in 0..RUNS + 5 {
        let t = Instant::now();
        let r = client
            .get(url)
            .header("cookie", cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{url}");
        let body = r.text().await.unwrap();
        assert!(body.len() > 1000);
        if k >= 5 {
            out.push(t.elapsed().as_secs_f64() * 1000.0);
        }
    }
    out
}

fn main() {
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
            "[[topic]]\nid = \"scenic\"\nname = \"景区安全\"\nseverity = \"major\"\nany = [\"坍塌\", \"被困\"]\nall = [\"景区\"]\n",
        )
        .unwrap();
        let mut config = format!(
            "[daemon]\nwatchlists = \"{r}/watchlists\"\nstate_dir = \"{r}/var\"\n[web]\nlisten = \"127.0.0.1:0\"\n",
            r = root.display()
        );
        for s in 0..SOURCES {
            config.push_str(&format!(
                "\n[[source]]\nid = \"src{s}\"\nname = \"论坛{s}\"\nkind = \"feed\"\nurl = \"http://127.0.0.1:9/{s}.xml\"\n"
            ));
        }
        let path = root.join("yuqing.toml");
        std::fs::write(&path, config).unwrap();
        let settings = Settings::load(&path).unwrap_or_else(|e| panic!("{e}"));
        let now = chrono::Utc::now();
        let clock = ManualClock::new(now);
        let daemon = Daemon::start(path.clone(), settings, Arc::new(clock)).await.unwrap();
        let t = Instant::now();
        fill(&daemon.store, now.timestamp()).await;
        eprintln!("filled {ITEMS} items, {INCIDENTS} incidents in {:.1}s", t.elapsed().as_secs_f64());
        let hash = yuqing::web::hash_password("bench password 1").unwrap();
        daemon.store.add_user("张三", yuqing::web::Role::Duty, &hash, 0).await.unwrap();
        let stop = tokio_util::sync::CancellationToken::new();
        let (addr, _) = daemon.serve_console(stop.clone()).await.unwrap().unwrap();
        let base = format!("http://{addr}");

        // Log in as a browser does: the login page's CSRF cookie and token, then the form.
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap();
        let page = client.get(format!("{base}/login")).send().await.unwrap();
        let csrf = page.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string();
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
        let cookie = format!("{csrf}; {session}");

        let dash = measure(&client, &format!("{base}/"), &cookie).await;
        let inc = measure(&client, &format!("{base}/incidents/250"), &cookie).await;
        let big = measure(&client, &format!("{base}/incidents/1"), &cookie).await;
        let items = measure(&client, &format!("{base}/items?topic=scenic&page=3"), &cookie).await;
        eprintln!(
            "dashboard p50 {:.1} ms p95 {:.1} ms; incident (20 items) p50 {:.1} p95 {:.1}; incident (400 items) p95 {:.1}; /items p95 {:.1}",
            percentile(dash.clone(), 0.5),
            percentile(dash.clone(), 0.95),
            percentile(inc.clone(), 0.5),
            percentile(inc.clone(), 0.95),
            percentile(big.clone(), 0.95),
            percentile(items.clone(), 0.95),
        );
        println!(
            "{}",
            serde_json::json!({
                "incidents": INCIDENTS,
                "items": ITEMS,
                "dashboard_p50_ms": (percentile(dash.clone(), 0.5) * 10.0).round() / 10.0,
                "dashboard_p95_ms": (percentile(dash, 0.95) * 10.0).round() / 10.0,
                "incident_p50_ms": (percentile(inc.clone(), 0.5) * 10.0).round() / 10.0,
                "incident_p95_ms": (percentile(inc, 0.95) * 10.0).round() / 10.0,
                "incident_400_items_p95_ms": (percentile(big, 0.95) * 10.0).round() / 10.0,
                "items_page_p95_ms": (percentile(items, 0.95) * 10.0).round() / 10.0,
            })
        );
        stop.cancel();
    });
}
