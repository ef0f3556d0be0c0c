//! A year on one machine (issue 29): the items are searched through an index, on SQLite
//! (FTS5) and PostgreSQL (GIN), by the console's `/items?q=` and `yuqing items --q`, newest
//! first with the words marked.

use crate::common;

use common::console::{logged_in, site_with, LEADER};
use common::TempDirs;
use yuqing::store::{Incoming, ItemFilter, NewItem, Store, Stored, SEARCH_COUNT_CAP};

async fn open(dirs: &TempDirs, backend: &Option<String>) -> Store {
    let url = match backend {
        Some(url) => url.clone(),
        None => dirs.database_url(),
    };
    Store::open(&url).await.unwrap()
}

/// Stores `(guid, title, summary)` items of `source` in one transaction at `now`.
async fn store(store: &Store, source: &str, items: &[(&str, &str, &str)], now: i64) -> Vec<i64> {
    let incoming: Vec<Incoming> = items
        .iter()
        .map(|(guid, title, summary)| Incoming {
            item: NewItem {
                source_id: source,
                guid,
                link: None,
                title,
                summary,
                published_at: None,
                content_hash: guid,
            },
            tone: None,
            topics: None,
            signature: None,
        })
        .collect();
    let mut tx = store.begin().await.unwrap();
    let out = store
        .store_items(&mut tx, source, &incoming, now)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    out.into_iter()
        .map(|s| match s {
            Stored::New(id) => id,
            other => panic!("stored {other:?}"),
        })
        .collect()
}

async fn search(store: &Store, text: &str, source: Option<&str>) -> (Vec<String>, i64, bool) {
    let filter = ItemFilter {
        text: Some(text.into()),
        source: source.map(str::to_string),
        ..Default::default()
    };
    let page = store.items_page(&filter, 50, 0).await.unwrap();
    (
        page.rows.iter().map(|r| r.title.clone()).collect(),
        page.total,
        page.more,
    )
}

backend_test!(two_characters_traditional_letters_and_several_words_are_found_newest_first);
async fn two_characters_traditional_letters_and_several_words_are_found_newest_first(
    backend: Option<String>,
) {
    let dirs = TempDirs::new();
    let s = open(&dirs, &backend).await;
    store(
        &s,
        "forum",
        &[
            ("a", "某景区发生踩踏", "游客十余人受伤"),
            ("b", "景區踩踏後續", "Yinchuan 文旅局通报"),
            ("c", "演唱会秩序良好", "现场无人踩到踏板"),
            ("d", "第5期简报", "第50期"),
        ],
        1_000,
    )
    .await;
    store(&s, "news", &[("e", "银川新闻", "昨日踩踏事件追踪")], 2_000).await;
    let on = format!("{backend:?}");

    // Two characters side by side, in title or text, newest first; not 踩 … 踏 apart.
    let (titles, total, more) = search(&s, "踩踏", None).await;
    assert_eq!(
        titles,
        ["银川新闻", "景區踩踏後續", "某景区发生踩踏"],
        "{on}"
    );
    assert_eq!((total, more), (3, false), "{on}");
    // Traditional in the query finds Simplified in the text, and the other way round.
    assert_eq!(search(&s, "景區", None).await.0.len(), 2, "{on}");
    assert_eq!(search(&s, "后续", None).await.0, ["景區踩踏後續"], "{on}");
    // Every word must appear; a word of letters is a prefix, case folded.
    assert_eq!(
        search(&s, "踩踏 YINCH", None).await.0,
        ["景區踩踏後續"],
        "{on}"
    );
    assert_eq!(search(&s, "受伤 yinch", None).await.1, 0, "{on}");
    // Digits are whole words inside a phrase: 第5期 is not 第50期.
    assert_eq!(search(&s, "第5期", None).await.0, ["第5期简报"], "{on}");
    // With the other filters.
    assert_eq!(
        search(&s, "踩踏", Some("news")).await.0,
        ["银川新闻"],
        "{on}"
    );
    // Nothing searchable selects nothing rather than everything.
    assert_eq!(search(&s, "%_ ，", None).await.1, 0, "{on}");

    // A changed text is searched as it is now.
    let mut tx = s.begin().await.unwrap();
    let changed = NewItem {
        source_id: "news",
        guid: "e",
        link: None,
        title: "银川新闻（更正）",
        summary: "昨日人群拥挤事件追踪",
        published_at: None,
        content_hash: "e2",
    };
    assert!(matches!(
        s.store_item(&mut tx, &changed, 3_000).await.unwrap(),
        Stored::Updated(_)
    ));
    tx.commit().await.unwrap();
    assert_eq!(search(&s, "踩踏", None).await.1, 2, "{on}");
    assert_eq!(
        search(&s, "拥挤", None).await.0,
        ["银川新闻（更正）"],
        "{on}"
    );
}

backend_test!(a_search_counts_up_to_its_cap_and_pages_through_the_newest);
async fn a_search_counts_up_to_its_cap_and_pages_through_the_newest(backend: Option<String>) {
    let dirs = TempDirs::new();
    let s = open(&dirs, &backend).await;
    let n = SEARCH_COUNT_CAP as usize + 20;
    let rows: Vec<(String, String)> = (0..n)
        .map(|k| (format!("g{k}"), format!("火灾通报 第{k}号")))
        .collect();
    let items: Vec<(&str, &str, &str)> = rows
        .iter()
        .map(|(g, t)| (g.as_str(), t.as_str(), ""))
        .collect();
    store(&s, "forum", &items, 1_000).await;
    let (titles, total, more) = search(&s, "火灾", None).await;
    assert_eq!((total, more), (SEARCH_COUNT_CAP, true), "{backend:?}");
    assert_eq!(titles[0], format!("火灾通报 第{}号", n - 1));
    let filter = ItemFilter {
        text: Some("火灾".into()),
        ..Default::default()
    };
    let page = s.items_page(&filter, 50, 50).await.unwrap();
    assert_eq!(page.rows[0].title, format!("火灾通报 第{}号", n - 51));
}

backend_test!(items_stored_before_the_index_become_searchable_when_the_store_opens);
async fn items_stored_before_the_index_become_searchable_when_the_store_opens(
    backend: Option<String>,
) {
    let dirs = TempDirs::new();
    let s = open(&dirs, &backend).await;
    store(
        &s,
        "forum",
        &[
            ("a", "旧闻踩踏", ""),
            ("b", "旧闻火灾", ""),
            ("c", "新闻踩踏", ""),
        ],
        1_000,
    )
    .await;
    // As a database upgraded to migration 0025 finds it: items, an empty index, and
    // every item still to do.
    sqlx::query("DELETE FROM item_search")
        .execute(s.pool())
        .await
        .unwrap();
    sqlx::query("UPDATE item_search_backlog SET below = (SELECT MAX(id) + 1 FROM items)")
        .execute(s.pool())
        .await
        .unwrap();
    assert_eq!(search(&s, "踩踏", None).await.1, 0);
    s.close().await;
    let s = open(&dirs, &backend).await;
    assert_eq!(search(&s, "踩踏", None).await.0, ["新闻踩踏", "旧闻踩踏"]);
    assert_eq!(search(&s, "火灾", None).await.1, 1);
    assert_eq!(s.index_backlog(10).await.unwrap(), 0, "done once");
}

#[tokio::test]
async fn the_console_and_the_command_line_mark_what_a_search_found() {
    let rss = [
        (
            "某景區发生踩踏 多人受伤",
            "https://bbs.example.cn/t/1",
            "t1",
            "Tue, 24 Nov 2026 09:00:00 +0800",
        ),
        (
            "演唱会秩序良好",
            "https://bbs.example.cn/t/2",
            "t2",
            "Tue, 24 Nov 2026 09:00:00 +0800",
        ),
    ];
    let site = site_with(&None, "", &rss).await;
    let b = logged_in(&site, LEADER).await;
    // One word is one phrase: 景区踩踏 is not in the title, 發生踩踏 (Traditional) is.
    let p = b.get("/items?q=%E6%99%AF%E5%8C%BA%E8%B8%A9%E8%B8%8F").await; // 景区踩踏
    assert!(p.body.contains("共 0 条"), "{}", p.body);
    let p = b.get("/items?q=%E7%99%BC%E7%94%9F%E8%B8%A9%E8%B8%8F").await; // 發生踩踏
    assert!(p.body.contains("共 1 条"), "{}", p.body);
    assert!(
        p.body.contains("某景區<mark>发生踩踏</mark> 多人受伤"),
        "{}",
        p.body
    );
    let p = b
        .get("/items?q=%E6%99%AF%E5%8C%BA+%E8%B8%A9%E8%B8%8F")
        .await; // 景区 踩踏
    assert!(
        p.body
            .contains("某<mark>景區</mark>发生<mark>踩踏</mark> 多人受伤"),
        "{}",
        p.body
    );
    let j = b.get("/items?q=%E8%B8%A9%E8%B8%8F&format=json").await;
    let v: serde_json::Value = serde_json::from_str(&j.body).unwrap();
    assert_eq!(
        (v["total"].clone(), v["more"].clone()),
        (1.into(), false.into())
    );

    let config = &site.s.config;
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_yuqing"))
            .arg("items")
            .arg("--config")
            .arg(config)
            .args(args)
            .env("YUQING_NOW", "2027-06-01T00:00:00Z")
            .output()
            .unwrap()
    };
    // A search looks back over everything kept, not only the last 7 days.
    let o = run(&["--q", "踩踏"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{out}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(out.contains("某景區发生【踩踏】 多人受伤"), "{out}");
    assert!(!out.contains("演唱会"), "{out}");
    let o = run(&["--q", "踩踏", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["items"][0]["marks"]["title"], serde_json::json!([[5, 7]]));
    let o = run(&["--q", "，，"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--q"));
}

/// 2026-01-05 00:00 Shanghai (a Monday), in UTC seconds.
const MONDAY: i64 = 1_767_542_400;

/// Stores `(guid, title, tone, topics)` items of `source` fetched at `at`.
async fn store_at(
    s: &Store,
    source: &str,
    items: &[(&str, &str, Option<&str>, &str)],
    at: i64,
) -> Vec<i64> {
    let incoming: Vec<Incoming> = items
        .iter()
        .map(|(guid, title, tone, topics)| Incoming {
            item: NewItem {
                source_id: source,
                guid,
                link: None,
                title,
                summary: "",
                published_at: None,
                content_hash: guid,
            },
            tone: tone.map(|t| yuqing::classify::tone::Tone {
                label: t.parse().unwrap(),
                score: if t == "negative" { -0.5 } else { 0.0 },
            }),
            topics: Some(topics),
            signature: None,
        })
        .collect();
    let mut tx = s.begin().await.unwrap();
    let out = s.store_items(&mut tx, source, &incoming, at).await.unwrap();
    tx.commit().await.unwrap();
    out.into_iter()
        .map(|r| match r {
            Stored::New(id) => id,
            other => panic!("{other:?}"),
        })
        .collect()
}

#[tokio::test]
async fn prune_deletes_old_items_outside_incidents_and_the_weeks_briefing_reads_the_same() {
    let dirs = TempDirs::new();
    dirs.write(
        "watchlists/scenic.toml",
        "[[topic]]\nid = \"scenic\"\nname = \"景区安全\"\nseverity = \"major\"\nany = [\"踩踏\"]\n",
    );
    let config = dirs.write(
        "yuqing.toml",
        format!("[daemon]\nwatchlists = \"{}\"\nstate_dir = \"{}\"\ntimezone = \"Asia/Shanghai\"\n\n\
         [[source]]\nid = \"forum\"\nkind = \"feed\"\nurl = \"http://127.0.0.1:9/a.xml\"\nevery = \"5m\"\n\n\
         [[source]]\nid = \"news\"\nkind = \"feed\"\nurl = \"http://127.0.0.1:9/b.xml\"\nevery = \"5m\"\n\n\
         [retention]\nitems = \"90d\"\n",
            dirs.root().join("watchlists").display(),
            dirs.state().display()
        ),
    );
    let s = Store::open(&dirs.database_url()).await.unwrap();
    // An old week: Monday 09:xx and Wednesday 15:xx, two sources, topics and tones.
    let held = store_at(
        &s,
        "forum",
        &[
            ("f1", "景区踩踏", Some("negative"), r#"["scenic"]"#),
            ("f2", "景区游客多", Some("neutral"), "[]"),
            ("f3", "又一起踩踏", Some("negative"), r#"["scenic"]"#),
        ],
        MONDAY + 9 * 3600 + 120,
    )
    .await[0];
    store_at(
        &s,
        "news",
        &[
            ("n1", "文旅新闻", None, "[]"),
            ("n2", "踩踏事件回顾", Some("negative"), r#"["scenic"]"#),
        ],
        MONDAY + 2 * 86_400 + 15 * 3600 + 1_800,
    )
    .await;
    // The first item opened an incident: it is a record and stays.
    let mut tx = s.begin().await.unwrap();
    s.insert_incident(
        &mut tx,
        &yuqing::store::NewIncident {
            topic_id: "scenic",
            topic_name: "景区安全",
            title: "景区踩踏",
            severity: yuqing::vocab::severity::Severity::Major,
            opened_at: MONDAY + 9 * 3600 + 120,
            clock_start: MONDAY + 9 * 3600 + 120,
            first_item_id: held,
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    // And yesterday's item, as of the night we prune (2026-06-01).
    let now = MONDAY + 147 * 86_400;
    store_at(&s, "news", &[("r1", "踩踏演练", None, "[]")], now - 86_400).await;
    s.close().await;

    let yuqing = |args: &[&str]| {
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_yuqing"))
            .args(args)
            .arg("--config")
            .arg(&config)
            .env("YUQING_NOW", "2026-06-01T00:00:00+08:00")
            .output()
            .unwrap();
        let out = String::from_utf8_lossy(&o.stdout).to_string();
        assert!(
            o.status.success(),
            "{args:?}: {out}{}",
            String::from_utf8_lossy(&o.stderr)
        );
        out
    };
    let week = ["briefing", "--from", "2026-01-05", "--to", "2026-01-11"];
    let before = yuqing(&week);
    assert!(before.contains("景区安全"), "{before}");

    let dry = yuqing(&["prune", "--dry-run"]);
    assert!(
        dry.contains("将删除 4 条") && dry.contains("事件相关的 1 条保留"),
        "{dry}"
    );
    let s = Store::open(&dirs.database_url()).await.unwrap();
    assert_eq!(
        search(&s, "踩踏", None).await.1,
        4,
        "the dry run deleted nothing"
    );
    s.close().await;

    let done = yuqing(&["prune"]);
    assert!(
        done.contains("已删除 4 条") && done.contains("数据库文件"),
        "{done}"
    );
    let s = Store::open(&dirs.database_url()).await.unwrap();
    // The incident's item and yesterday's remain, searchable; the rest is gone, index too.
    assert_eq!(search(&s, "踩踏", None).await.0, ["踩踏演练", "景区踩踏"]);
    assert!(s.item(held).await.unwrap().is_some());
    assert_eq!(s.prunable_items(now - 90 * 86_400).await.unwrap(), (0, 1));
    s.close().await;
    // The week's briefing counts the same items by day, topic, source and tone.
    assert_eq!(yuqing(&week), before);
    // The day's too, by the hour.
    let day = ["briefing", "--from", "2026-01-07"];
    assert!(yuqing(&day).contains("15时"));
    assert!(yuqing(&["prune"]).contains("已删除 0 条"));
}
