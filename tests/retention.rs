//! A year on one machine (issue 29): the items are searched through an index, on SQLite
//! (FTS5) and PostgreSQL (GIN), by the console's `/items?q=` and `yuqing items --q`, newest
//! first with the words marked.

use crate::common;

use common::console::{logged_in, site_with, LEADER};
use common::TempDirs;
use yuqing::store::{Incoming, ItemFilter, NewItem, Store, Stored, Topics, COUNT_PAGES_AHEAD};
use yuqing::vocab::clock::Clock;

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
            topics: Default::default(),
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
            Stored::New(row) => row.id,
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

backend_test!(a_list_counts_ten_pages_ahead_and_pages_through_the_newest);
async fn a_list_counts_ten_pages_ahead_and_pages_through_the_newest(backend: Option<String>) {
    let dirs = TempDirs::new();
    let s = open(&dirs, &backend).await;
    // Eleven pages of 50 and 40 more: the first page counts 11 pages and says "more".
    let n = 50 * (COUNT_PAGES_AHEAD as usize + 1) + 40;
    let rows: Vec<(String, String)> = (0..n)
        .map(|k| (format!("g{k}"), format!("火灾通报 第{k}号")))
        .collect();
    let items: Vec<(&str, &str, &str)> = rows
        .iter()
        .map(|(g, t)| (g.as_str(), t.as_str(), ""))
        .collect();
    store(&s, "forum", &items, 1_000).await;
    let (titles, total, more) = search(&s, "火灾", None).await;
    assert_eq!((total, more), (550, true), "{backend:?}");
    assert_eq!(titles[0], format!("火灾通报 第{}号", n - 1));
    for text in [Some("火灾".to_string()), None] {
        let filter = ItemFilter {
            text: text.clone(),
            ..Default::default()
        };
        let first = s.items_page(&filter, 50, 0).await.unwrap();
        assert_eq!(
            (first.total, first.more),
            (550, true),
            "{text:?} {backend:?}"
        );
        // The second page counts to its own tenth page ahead: all of them.
        let page = s.items_page(&filter, 50, 50).await.unwrap();
        assert_eq!(page.rows[0].title, format!("火灾通报 第{}号", n - 51));
        assert_eq!(
            (page.total, page.more),
            (n as i64, false),
            "{text:?} {backend:?}"
        );
    }
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
    assert_has!(p.body, "共 0 条");
    let p = b.get("/items?q=%E7%99%BC%E7%94%9F%E8%B8%A9%E8%B8%8F").await; // 發生踩踏
    assert_has!(p.body, "共 1 条");
    assert_has!(p.body, "某景區<mark>发生踩踏</mark> 多人受伤");
    let p = b
        .get("/items?q=%E6%99%AF%E5%8C%BA+%E8%B8%A9%E8%B8%8F")
        .await; // 景区 踩踏
    assert_has!(p.body, "某<mark>景區</mark>发生<mark>踩踏</mark> 多人受伤");
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
    assert_has!(out, "某景區发生【踩踏】 多人受伤");
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
            topics: Topics::try_from(topics.to_string()).unwrap(),
            signature: None,
        })
        .collect();
    let mut tx = s.begin().await.unwrap();
    let out = s.store_items(&mut tx, source, &incoming, at).await.unwrap();
    tx.commit().await.unwrap();
    out.into_iter()
        .map(|r| match r {
            Stored::New(row) => row.id,
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
    assert_has!(before, "景区安全");

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

/// The briefing's tallies of [`from`, `to`) summed by (hour, source, topics, tone).
async fn tallies(s: &Store, from: i64, to: i64) -> Vec<(i64, String, String, Option<String>, i64)> {
    let mut by: std::collections::BTreeMap<(i64, String, String, Option<String>), i64> =
        Default::default();
    for t in s.item_tallies(from, to).await.unwrap() {
        *by.entry((
            t.fetched_at,
            t.source_id,
            serde_json::to_string(&t.topics).unwrap(),
            t.tone.map(|l| l.as_str().to_string()),
        ))
        .or_default() += t.n;
    }
    by.into_iter()
        .map(|((h, s, t, tone), n)| (h, s, t, tone, n))
        .collect()
}

backend_test!(the_counts_follow_an_items_topics_and_tone_and_outlive_it);
async fn the_counts_follow_an_items_topics_and_tone_and_outlive_it(backend: Option<String>) {
    let dirs = TempDirs::new();
    let s = open(&dirs, &backend).await;
    let on = format!("{backend:?}");
    // Monday 09:02 and 09:40 (one hour), and 10:05.
    let nine = MONDAY + 9 * 3600;
    let a = store_at(
        &s,
        "forum",
        &[("a", "景区踩踏", Some("negative"), "[]")],
        nine + 120,
    )
    .await[0];
    store_at(
        &s,
        "forum",
        &[("b", "游客多", Some("neutral"), "[]")],
        nine + 2_400,
    )
    .await;
    store_at(&s, "news", &[("c", "新闻", None, "[]")], nine + 3_900).await;
    let day = (MONDAY, MONDAY + 86_400);
    let neg = Some("negative".to_string());
    let neu = Some("neutral".to_string());
    assert_eq!(
        tallies(&s, day.0, day.1).await,
        [
            (nine, "forum".into(), "[]".into(), neg.clone(), 1),
            (nine, "forum".into(), "[]".into(), neu.clone(), 1),
            (nine + 3600, "news".into(), "[]".into(), None, 1),
        ],
        "{on}"
    );
    // Topics and tone recorded after the item was stored move it to its new count.
    let mut tx = s.begin().await.unwrap();
    s.set_item_topics(&mut tx, a, &["scenic".to_string()])
        .await
        .unwrap();
    s.set_item_tone(
        &mut tx,
        a,
        yuqing::classify::tone::Tone {
            label: "neutral".parse().unwrap(),
            score: 0.0,
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let after = [
        (nine, "forum".into(), r#"["scenic"]"#.into(), neu.clone(), 1),
        (nine, "forum".into(), "[]".into(), neu.clone(), 1),
        (nine + 3600, "news".into(), "[]".into(), None, 1),
    ];
    assert_eq!(tallies(&s, day.0, day.1).await, after, "{on}");
    // A period holds its whole hours only.
    assert_eq!(tallies(&s, nine + 3600, day.1).await.len(), 1, "{on}");
    // Pruned, the items are gone and their counts are the same.
    let mut pruned = 0;
    loop {
        let b = s.prune_items(MONDAY + 86_400, 2).await.unwrap();
        assert!(b.deleted <= 2, "{on}");
        pruned += b.deleted;
        if !b.more {
            break;
        }
    }
    assert_eq!(pruned, 3, "{on}");
    assert!(s.item(a).await.unwrap().is_none(), "{on}");
    assert_eq!(tallies(&s, day.0, day.1).await, after, "{on}");
    // An item stored afterwards in a pruned hour joins its count.
    store_at(
        &s,
        "forum",
        &[("d", "游客多", Some("neutral"), "[]")],
        nine + 3_000,
    )
    .await;
    assert_eq!(tallies(&s, day.0, day.1).await[1].4, 2, "{on}");
}

backend_test!(the_daemon_prunes_once_a_local_day_a_batch_a_turn);
async fn the_daemon_prunes_once_a_local_day_a_batch_a_turn(backend: Option<String>) {
    let sc = common::scenario(
        "[[topic]]\nid = \"scenic\"\nname = \"景区安全\"\nseverity = \"major\"\nany = [\"踩踏\"]\n",
        &[],
        "[retention]\nitems = \"7d\"\n",
        &backend,
    )
    .await;
    let on = format!("{backend:?}");
    let s = &sc.daemon.store;
    // 2026-11-24 09:00 in Shanghai.
    let t0 = sc.clock.now().timestamp();
    let week = 7 * 86_400;
    // 600 items of ten days ago, one of them an incident's; one that turns a week old at
    // 11:00 today; yesterday's.
    let old: Vec<(String, String)> = (0..600)
        .map(|k| (format!("old{k}"), format!("旧闻 第{k}号")))
        .collect();
    let old: Vec<(&str, &str, Option<&str>, &str)> = old
        .iter()
        .map(|(g, t)| (g.as_str(), t.as_str(), None, "[]"))
        .collect();
    let ten_days_ago = t0 - 10 * 86_400;
    let held = store_at(s, "news", &old, ten_days_ago).await[0];
    let mut tx = s.begin().await.unwrap();
    s.insert_incident(
        &mut tx,
        &yuqing::store::NewIncident {
            topic_id: "scenic",
            topic_name: "景区安全",
            title: "旧闻 第0号",
            severity: yuqing::vocab::severity::Severity::Major,
            opened_at: ten_days_ago,
            clock_start: ten_days_ago,
            first_item_id: held,
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    store_at(
        s,
        "news",
        &[("soon", "将过期", None, "[]")],
        t0 - week + 2 * 3600,
    )
    .await;
    store_at(s, "news", &[("new", "昨日新闻", None, "[]")], t0 - 86_400).await;
    let hour = (ten_days_ago / 3600) * 3600;
    let before = tallies(s, hour, hour + 3600).await;
    assert_eq!(before[0].4, 600, "{on}");

    // The first turn of the day deletes a batch of at most 500 (fewer only if it held the
    // write lock for `PRUNE_HOLD`), each turn after it another, until none are left.
    sc.daemon.housekeeping().await.unwrap();
    let left = s.prunable_items(t0 - week).await.unwrap();
    assert!((99..599).contains(&left.0) && left.1 == 1, "{on}: {left:?}");
    let mut turns = 1;
    while s.prunable_items(t0 - week).await.unwrap().0 > 0 {
        sc.daemon.housekeeping().await.unwrap();
        turns += 1;
        assert!(turns < 100, "{on}");
    }
    // (A last batch that found exactly as many as it asked for looks once more.)
    sc.daemon.housekeeping().await.unwrap();
    assert_eq!(s.prunable_items(t0 - week).await.unwrap(), (0, 1), "{on}");
    // Later that day an item turns a week old; the day's pruning is done.
    sc.clock.advance(chrono::Duration::hours(3));
    let now = sc.clock.now().timestamp();
    sc.daemon.housekeeping().await.unwrap();
    assert_eq!(s.prunable_items(now - week).await.unwrap(), (1, 1), "{on}");
    // The next local day (00:30 in Shanghai, still the 24th in UTC) takes it.
    sc.clock.set(common::sh(2026, 11, 25, 0, 30));
    sc.daemon.housekeeping().await.unwrap();
    let now = sc.clock.now().timestamp();
    assert_eq!(s.prunable_items(now - week).await.unwrap(), (0, 1), "{on}");
    assert!(s.item(held).await.unwrap().is_some(), "{on}");
    assert_eq!(search(s, "昨日新闻", None).await.1, 1, "{on}");
    // What the briefing counts of that old hour did not change.
    assert_eq!(tallies(s, hour, hour + 3600).await, before, "{on}");
}

#[tokio::test]
async fn check_says_how_big_the_store_grows_at_the_last_weeks_intake() {
    let dirs = TempDirs::new();
    dirs.write(
        "watchlists/scenic.toml",
        "[[topic]]\nid = \"scenic\"\nname = \"景区安全\"\nseverity = \"major\"\nany = [\"踩踏\"]\n",
    );
    let config = |retention: &str| {
        dirs.write(
            "yuqing.toml",
            format!(
                "[daemon]\nwatchlists = \"{}\"\nstate_dir = \"{}\"\ntimezone = \"Asia/Shanghai\"\n\n\
                 [[source]]\nid = \"news\"\nkind = \"feed\"\nurl = \"http://127.0.0.1:9/b.xml\"\n\n{retention}",
                dirs.root().join("watchlists").display(),
                dirs.state().display()
            ),
        )
    };
    let check = |path: &std::path::Path| {
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_yuqing"))
            .args(["check", "--config"])
            .arg(path)
            .env("YUQING_NOW", "2026-06-01T00:00:00+08:00")
            .output()
            .unwrap();
        let out = String::from_utf8_lossy(&o.stdout).to_string();
        assert!(
            o.status.success(),
            "{out}{}",
            String::from_utf8_lossy(&o.stderr)
        );
        out.lines()
            .find(|l| l.starts_with("数据库增长"))
            .unwrap_or_else(|| panic!("no growth line in {out}"))
            .to_string()
    };
    // No database yet: check creates none and says nothing of growth.
    let path = config("");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_yuqing"))
        .args(["check", "--config"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&o.stdout).contains("数据库增长"));
    // A week of 100 items a day (and an older month that is not the current intake).
    let s = Store::open(&dirs.database_url()).await.unwrap();
    let now = 1_780_243_200; // 2026-06-01 00:00 Shanghai
    for day in 1..=37 {
        let rows: Vec<(String, String)> = (0..if day <= 7 { 100 } else { 300 })
            .map(|k| (format!("d{day}-{k}"), format!("第{day}天的第{k}条新闻")))
            .collect();
        let rows: Vec<(&str, &str, Option<&str>, &str)> = rows
            .iter()
            .map(|(g, t)| (g.as_str(), t.as_str(), None, "[]"))
            .collect();
        store_at(&s, "news", &rows, now - day * 86_400).await;
    }
    s.close().await;
    let line = check(&path);
    assert!(
        line.starts_with("数据库增长：按近 7 天的收录量估算，每天约 100 条、每条约 ")
            && line.contains("一年约 ")
            && line.contains("未设置 [retention] items"),
        "{line}"
    );
    let line = check(&config("[retention]\nitems = \"90d\"\n"));
    assert!(
        line.contains("[retention] items = \"90d\"：保留约 9,000 条、约 ")
            && line.contains("后不再增长"),
        "{line}"
    );
}

backend_test!(each_sources_lag_is_ranked_by_the_database_as_the_rule_ranks_it);
async fn each_sources_lag_is_ranked_by_the_database_as_the_rule_ranks_it(backend: Option<String>) {
    use yuqing::rules::lag::Lag;
    let dirs = TempDirs::new();
    let s = open(&dirs, &backend).await;
    let on = format!("{backend:?}");
    let now = 1_780_000_000;
    let since = now - 7 * 86_400;
    // (source, link, seconds before `now` it was fetched, its lag): 37 of source a, 3 of
    // b, one of a's a week and more ago; b also carries two of a's links (sightings),
    // one published "after" b saw it (a wrong clock: no lag).
    let mut rows: Vec<(&str, String, i64, i64)> = (0..37)
        .map(|k| {
            (
                "a",
                format!("https://a.example.cn/{k}"),
                3_600 * k,
                (k * 7_919) % 20_000,
            )
        })
        .collect();
    rows.push(("a", "https://a.example.cn/old".into(), 8 * 86_400, 99_999));
    for k in 0..3 {
        rows.push((
            "b",
            format!("https://b.example.cn/{k}"),
            600 * k,
            60 * (3 - k),
        ));
    }
    rows.push(("b", "https://a.example.cn/3".into(), 100, 50_000));
    rows.push(("b", "https://a.example.cn/4".into(), 100, -3_600));
    for (source, link, ago, lag) in &rows {
        let at = now - ago;
        let incoming = [Incoming {
            item: NewItem {
                source_id: source,
                guid: link,
                link: Some(link),
                title: link,
                summary: "",
                published_at: Some(at - lag),
                content_hash: link,
            },
            tone: None,
            topics: Default::default(),
            signature: None,
        }];
        let mut tx = s.begin().await.unwrap();
        let stored = s.store_items(&mut tx, source, &incoming, at).await.unwrap();
        tx.commit().await.unwrap();
        let sighting = *source == "b" && link.starts_with("https://a.");
        assert_eq!(
            matches!(stored[0], Stored::New(_)),
            !sighting,
            "{on}: {link}"
        );
    }
    let lags = s.source_lags(since).await.unwrap();
    let of = |source: &str| {
        Lag::of(
            rows.iter()
                .filter(|r| r.0 == source && r.2 < 7 * 86_400)
                .map(|r| r.3)
                .collect(),
        )
    };
    assert_eq!(lags.len(), 2, "{on}: {lags:?}");
    assert_eq!(lags.get("a").copied(), of("a"), "{on}");
    assert_eq!(lags.get("b").copied(), of("b"), "{on}");
    assert_eq!(lags["a"].n, 37, "{on}");
    assert_eq!(
        (lags["b"].n, lags["b"].p50_s, lags["b"].p95_s),
        (5, 120, 50_000),
        "{on}"
    );
}
