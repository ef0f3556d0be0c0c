//! The surge rule: an incident that spreads fast (N items from K sources within M minutes)
//! is raised one level, once, and the mail says why.

use crate::common;
use yuqing::vocab::ids::IncidentId;

use chrono::{Duration, TimeZone, Utc};
use common::{rss, HttpServer, Response, TempDirs};
use yuqing::daemon::scheduler::Daemon;
use yuqing::vocab::clock::ManualClock;

/// A feed source per name, each serving an empty feed at `/NAME.xml` for now: their config.
fn empty_feeds(http: &HttpServer, names: &[&str]) -> String {
    let mut sources = String::new();
    for name in names {
        http.set(&format!("/{name}.xml"), Response::rss(rss(&[])));
        sources.push_str(&format!(
            "[[source]]\nid = \"{name}\"\nkind = \"feed\"\nurl = \"{}\"\n\n",
            http.url(&format!("/{name}.xml"))
        ));
    }
    sources
}

#[tokio::test]
async fn three_sources_within_the_hour_raise_the_incident_once() {
    let (dirs, http) = (TempDirs::new(), HttpServer::start().await);
    dirs.write(
        "watchlists/w.toml",
        "[[topic]]\nid = \"price\"\nname = \"景区宰客\"\nseverity = \"ordinary\"\nany = [\"宰客\"]\n",
    );
    let sources = empty_feeds(&http, &["a", "b", "c", "d"]);
    let config = dirs.config(&format!(
        "\n\
             [surge]\nitems = 3\nsources = 3\nwithin = \"60m\"\n\n{sources}",
    ));
    let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 11, 24, 1, 0, 0).unwrap());
    let d = common::start(&config, &clock).await;
    let severity = |d: &Daemon| {
        let store = d.store.clone();
        async move {
            store
                .incident(store.pool(), IncidentId(1))
                .await
                .unwrap()
                .unwrap()
                .severity
        }
    };
    for (i, name) in ["a", "b", "c", "d"].iter().enumerate() {
        http.set(
            &format!("/{name}.xml"),
            Response::rss(rss(&[(
                &format!("景区宰客 网友{name}爆料"),
                &format!("https://{name}.example.cn/1"),
                "1",
                "",
            )])),
        );
        clock.advance(Duration::minutes(10));
        d.poll_once(Some(name)).await.unwrap();
        let expect = if i < 2 { "ordinary" } else { "large" };
        assert_eq!(severity(&d).await, expect, "after source {name}");
    }
    // Each item's grouping signature was stored with it by the poll, and is the one its
    // text gives (grouping compares these and never recomputes them).
    let mut tx = d.store.begin().await.unwrap();
    let stored = d
        .store
        .latest_signatures(&mut tx, IncidentId(1), i64::MAX, 10)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(stored.len(), 4);
    for (id, _, signature) in stored {
        let item = d.store.item(id).await.unwrap().unwrap();
        assert_eq!(
            signature,
            Some(
                yuqing::classify::grouping::ItemSignature::of(&item.title, &item.summary).to_text()
            ),
            "item {id}"
        );
    }
    let regrades: Vec<String> = common::mail(&d.store, "regraded")
        .await
        .into_iter()
        .map(|m| m.body_text)
        .collect();
    assert_eq!(regrades.len(), 1, "raised once: {regrades:#?}");
    assert!(
        regrades[0].contains("级别由一般调整为较大") && regrades[0].contains("3 个来源"),
        "{}",
        regrades[0]
    );
}

/// `[surge] negative_only = true` counts only negative items: a neutral notice that joins
/// the incident does not make it spread, and each stored item keeps its tone.
#[tokio::test]
async fn negative_only_counts_negative_items() {
    let (dirs, http) = (TempDirs::new(), HttpServer::start().await);
    dirs.write(
        "watchlists/w.toml",
        "[[topic]]\nid = \"tickets\"\nname = \"门票\"\nseverity = \"ordinary\"\nany = [\"门票\"]\n",
    );
    let sources = empty_feeds(&http, &["a", "b", "c"]);
    let config = dirs.config(&format!(
        "\n\
             [grouping]\nsimilarity = 0\n\n\
             [surge]\nitems = 2\nsources = 2\nwithin = \"60m\"\nnegative_only = true\n\n{sources}",
    ));
    let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 11, 24, 1, 0, 0).unwrap());
    let d = common::start(&config, &clock).await;
    let texts = [
        ("a", "凭什么景区门票一年三涨？游客吐槽被宰", "ordinary"),
        ("b", "关于调整景区门票预约方式的公告", "ordinary"),
        ("c", "景区门票坐地起价，网友质疑乱收费", "large"),
    ];
    for (name, title, expect) in texts {
        http.set(
            &format!("/{name}.xml"),
            Response::rss(rss(&[(
                title,
                &format!("https://{name}.example.cn/1"),
                "1",
                "",
            )])),
        );
        clock.advance(Duration::minutes(10));
        d.poll_once(Some(name)).await.unwrap();
        let i = d
            .store
            .incident(d.store.pool(), IncidentId(1))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(i.severity, expect, "after source {name}");
    }
    let mut negative = Vec::new();
    for id in 1..=3 {
        let row = d.store.item(id).await.unwrap().expect("item stored");
        let tone = row.tone.expect("tone stored");
        negative.push(tone.label.as_str() == "negative");
    }
    assert_eq!(negative, [true, false, true]);
}
