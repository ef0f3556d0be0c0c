//! `cargo bench --bench grouping`: what one item costs to join an incident, as the
//! incident grows (issue 18). A surge (thousands of posts about one event) is when the
//! duty officer needs yuqing fastest, so a join must not cost more as the event grows.
//!
//! Builds, on an SQLite file in a temp dir, one incident of 10 items and one of 10,000
//! (items inserted through the store, every item joined by the real `incident::on_match`,
//! which stores its signature), then times `on_match` for new items of the same event
//! joining each, alternating, `ROUNDS` times, each in its own transaction.
//!
//! Prints lines for people on stderr and, last, one JSON line on stdout:
//! `{"join_10_ms", "join_10000_ms", "join_cost_ratio"}` (medians). The same run also
//! times a join the old way, recomputing the signatures of the incident's latest 200
//! items from their text (`recompute_10000_ms`), as the baseline the stored signatures
//! are measured against.

use chrono::{Duration, TimeZone, Utc};
use std::time::Instant;
use yuqing::classify::grouping::ItemSignature;
use yuqing::config::settings::Settings;
use yuqing::incident::{self, Outcome};
use yuqing::store::{NewItem, Store, Stored};
use yuqing::vocab::ids::IncidentId;
use yuqing::vocab::severity::Severity;

const ROUNDS: usize = 30;

fn title(event: usize, n: usize) -> String {
    // One event's reports share its words; each adds its own.
    let base = [
        "示例山景区索道故障 游客被困空中",
        "古城景区一碗面卖98元 网友称被宰客",
    ][event];
    format!("{base} 第{n}条 现场视频 网友热议 {}", n * 7919 % 10_007)
}

async fn add(
    store: &Store,
    s: &Settings,
    src: &str,
    t: &str,
    n: usize,
    now: chrono::DateTime<Utc>,
) -> Outcome {
    let mut tx = store.begin().await.unwrap();
    let guid = format!("{src}-{n}");
    let hash = format!("h-{src}-{n}");
    let Stored::New(row) = store
        .store_item(
            &mut tx,
            &NewItem {
                source_id: src,
                guid: &guid,
                link: None,
                title: t,
                summary: "",
                published_at: None,
                content_hash: &hash,
            },
            now.timestamp(),
        )
        .await
        .unwrap()
    else {
        panic!("new item")
    };
    let id = row.id;
    let item = store.item_in(&mut tx, id).await.unwrap().unwrap();
    let topic = if src == "a" { "scenic-a" } else { "scenic-b" };
    let matched = incident::Match {
        item: &item,
        topic_id: topic,
        topic_name: "景区安全",
        severity: Severity::Major,
        words: Vec::new(),
    };
    let out = incident::on_match(store, &mut tx, s, &matched, now, &mut Default::default())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    out
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir_all(dir.path().join("watchlists")).unwrap();
    std::fs::write(
        dir.path().join("watchlists/w.toml"),
        "[[topic]]\nid = \"scenic-a\"\nname = \"景区安全\"\nany = [\"景区\"]\n\n\
         [[topic]]\nid = \"scenic-b\"\nname = \"景区安全\"\nany = [\"景区\"]\n",
    )
    .unwrap();
    let config = dir.path().join("yuqing.toml");
    std::fs::write(
        &config,
        format!(
            "[daemon]\nwatchlists = \"{0}/watchlists\"\nstate_dir = \"{0}/var\"\n\n\
             [mail]\ntransport = \"file\"\n\n[grouping]\nwindow = \"3650d\"\n",
            dir.path().display()
        ),
    )
    .unwrap();
    let settings = Settings::load(&config).unwrap_or_else(|e| panic!("{e}"));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (small, large, old) = rt.block_on(async {
        let store = Store::open(&settings.config.daemon.database).await.unwrap();
        let now = Utc.with_ymd_and_hms(2026, 11, 24, 1, 0, 0).unwrap();
        // Incident "a" of 10 items, incident "b" of 10,000.
        let t0 = Instant::now();
        for n in 0..10 {
            add(&store, &settings, "a", &title(0, n), n, now).await;
        }
        for n in 0..10_000 {
            add(&store, &settings, "b", &title(1, n), n, now).await;
        }
        eprintln!(
            "built incidents of 10 and 10,000 items in {:.1?}",
            t0.elapsed()
        );
        let (mut small, mut large, mut old) = (Vec::new(), Vec::new(), Vec::new());
        for r in 0..ROUNDS {
            let at = now + Duration::seconds(r as i64 + 1);
            let t = Instant::now();
            let o = add(
                &store,
                &settings,
                "a",
                &title(0, 100_000 + r),
                100_000 + r,
                at,
            )
            .await;
            small.push(t.elapsed().as_secs_f64() * 1e3);
            assert!(matches!(o, Outcome::Joined(_)), "{o:?}");
            let t = Instant::now();
            let o = add(
                &store,
                &settings,
                "b",
                &title(1, 100_000 + r),
                100_000 + r,
                at,
            )
            .await;
            large.push(t.elapsed().as_secs_f64() * 1e3);
            assert!(matches!(o, Outcome::Joined(_)), "{o:?}");
            // Baseline: what each join used to add, reading the incident's items and
            // recomputing the latest 200 signatures from their text.
            let t = Instant::now();
            let items = store
                .incident_items(store.pool(), IncidentId(2))
                .await
                .unwrap();
            let sig = ItemSignature::of(&title(1, 999_999), "");
            let best = items
                .iter()
                .rev()
                .take(200)
                .map(|i| ItemSignature::of(&i.title, &i.summary).similarity(&sig))
                .fold(0.0, f64::max);
            assert!(best > 0.0);
            old.push(t.elapsed().as_secs_f64() * 1e3);
        }
        store.close().await;
        (median(small), median(large), median(old))
    });
    eprintln!("join into 10 items: {small:.2} ms; into 10,000: {large:.2} ms; old comparison of 10,000 alone: {old:.2} ms");
    println!(
        "{{\"join_10_ms\": {small:.3}, \"join_10000_ms\": {large:.3}, \"join_cost_ratio\": {:.2}, \"recompute_10000_ms\": {old:.3}}}",
        large / small
    );
}
