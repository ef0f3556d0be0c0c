//! The store decodes the domain's words at its edge: a severity, an incident status or a
//! deadline kind it does not know is an error that names the value, never read as 一般
//! (a split would then schedule 48 hours instead of 5).

use crate::common;

use common::TempDirs;
use yuqing::store::{NewIncident, NewItem, Store, Stored};
use yuqing::vocab::action::ActionKind;
use yuqing::vocab::ids::IncidentId;
use yuqing::vocab::severity::Severity;
use yuqing::vocab::state::{DeadlineKind, IncidentStatus};

async fn open(dirs: &TempDirs, backend: &Option<String>) -> Store {
    let url = match backend {
        Some(url) => url.clone(),
        None => format!("sqlite://{}", dirs.root().join("yuqing.db").display()),
    };
    Store::open(&url).await.unwrap()
}

/// An incident of severity 重大 with its 5-hour release deadline; its id.
async fn major_incident(store: &Store) -> i64 {
    let mut tx = store.begin().await.unwrap();
    let Stored::New(row) = store
        .store_item(
            &mut tx,
            &NewItem {
                source_id: "forum",
                guid: "g1",
                link: None,
                title: "景区踩踏",
                summary: "",
                published_at: None,
                content_hash: "h1",
            },
            1_000,
        )
        .await
        .unwrap()
    else {
        panic!("a new item")
    };
    let item = row.id;
    let id = store
        .insert_incident(
            &mut tx,
            &NewIncident {
                topic_id: "scenic",
                topic_name: "景区安全",
                title: "某景区栈道坍塌",
                severity: Severity::Major,
                opened_at: 1_000,
                clock_start: 1_000,
                first_item_id: item,
            },
        )
        .await
        .unwrap();
    store
        .insert_deadline(&mut tx, id, DeadlineKind::Release, 1_000 + 5 * 3600)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    id.0
}

backend_test!(severity_status_and_deadline_kind_round_trip_and_unknown_values_are_errors);
async fn severity_status_and_deadline_kind_round_trip_and_unknown_values_are_errors(
    backend: Option<String>,
) {
    let dirs = TempDirs::new();
    let store = open(&dirs, &backend).await;
    let id = major_incident(&store).await;

    let incident = common::incident(&store, id).await;
    assert_eq!(incident.severity, Severity::Major);
    assert_eq!(incident.status, IncidentStatus::Open);
    let deadlines = store
        .deadlines_of(store.pool(), IncidentId(id))
        .await
        .unwrap();
    assert_eq!(deadlines[0].kind, DeadlineKind::Release);

    // A value written by hand, or by a newer yuqing, is not read as 一般.
    for (sql, says) in [
        (
            "UPDATE incidents SET severity = 'severe'",
            "unknown severity `severe`",
        ),
        (
            "UPDATE incidents SET status = 'opne'",
            "unknown incident status `opne`",
        ),
    ] {
        sqlx::query(sql).execute(store.pool()).await.unwrap();
        let e = store
            .incident(store.pool(), IncidentId(id))
            .await
            .unwrap_err();
        assert!(format!("{e:#}").contains(says), "{backend:?}: {e:#}");
        sqlx::query("UPDATE incidents SET severity = 'major', status = 'open'")
            .execute(store.pool())
            .await
            .unwrap();
    }
    sqlx::query("UPDATE deadlines SET kind = 'relase'")
        .execute(store.pool())
        .await
        .unwrap();
    let e = store
        .deadlines_of(store.pool(), IncidentId(id))
        .await
        .unwrap_err();
    assert!(
        format!("{e:#}").contains("unknown deadline kind `relase`"),
        "{backend:?}: {e:#}"
    );

    // The record's actions: each one written reads back as itself; one the enum does not
    // know is named, never shown as a generic 操作.
    let mut tx = store.begin().await.unwrap();
    for (n, kind) in ActionKind::ALL.into_iter().enumerate() {
        store
            .record_action(&mut tx, IncidentId(id), n as i64, "tester", kind, None)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    let read: Vec<ActionKind> = store
        .actions_of(IncidentId(id))
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.action)
        .collect();
    assert_eq!(read, ActionKind::ALL, "{backend:?}");
    sqlx::query("UPDATE actions SET action = 'renamed' WHERE action = 'note'")
        .execute(store.pool())
        .await
        .unwrap();
    let e = store.actions_of(IncidentId(id)).await.unwrap_err();
    assert!(
        format!("{e:#}").contains("unknown action `renamed`"),
        "{backend:?}: {e:#}"
    );

    // An item's topics: a stored value that is not a list of topic ids is named, never
    // read as "no topic".
    let first = common::incident(&store, id).await.first_item_id;
    let item = store.item(first).await.unwrap().unwrap();
    assert!(item.topics.is_empty(), "{backend:?}: {:?}", item.topics);
    // Its topics and its tone: a stored value that is not a list of topic ids, a label the
    // classifier does not give, or a score out of range is named with the item, never read
    // as "no topic" or "no tone".
    for (update, expected) in [
        (
            "UPDATE items SET topics = 'scenic'",
            format!("item {first}: stored topics `scenic` are not a list of topic ids"),
        ),
        (
            "UPDATE items SET topics = '[]', tone = 'angry', tone_score = -50",
            format!("item {first}: unknown tone `angry`"),
        ),
        (
            "UPDATE items SET tone = 'negative', tone_score = 250",
            format!("item {first}: stored tone `negative` with score `250` is not a tone"),
        ),
    ] {
        sqlx::query(update).execute(store.pool()).await.unwrap();
        let e = store.item(first).await.unwrap_err();
        assert!(
            format!("{e:#}").contains(&expected),
            "{backend:?}, {update}: {e:#}"
        );
    }
}

backend_test!(a_console_users_role_reads_back_and_an_unknown_one_is_an_error);
/// A role the store does not know was read as 领导 by the console; now it is an error
/// naming the value, as for every stored word.
async fn a_console_users_role_reads_back_and_an_unknown_one_is_an_error(backend: Option<String>) {
    use yuqing::web::Role;
    let dirs = TempDirs::new();
    let store = open(&dirs, &backend).await;
    for (name, role) in [("张三", Role::Duty), ("李四", Role::Operator)] {
        assert!(store.add_user(name, role, "hash", 0).await.unwrap());
        assert_eq!(store.user(name).await.unwrap().unwrap().role, role);
    }
    sqlx::query("UPDATE users SET role = 'admin' WHERE name = '张三'")
        .execute(store.pool())
        .await
        .unwrap();
    let e = store.user("张三").await.unwrap_err();
    assert!(format!("{e:#}").contains("unknown role `admin`"), "{e:#}");
    assert_eq!(
        store.user("李四").await.unwrap().unwrap().role,
        Role::Operator
    );
    // Setting the role repairs the row; nobody to set is `false`.
    assert!(store.set_role("张三", Role::Leader).await.unwrap());
    assert_eq!(
        store.user("张三").await.unwrap().unwrap().role,
        Role::Leader
    );
    assert!(!store.set_role("王五", Role::Duty).await.unwrap());
}

backend_test!(the_open_incident_gauges_count_neither_closed_nor_merged_incidents);
async fn the_open_incident_gauges_count_neither_closed_nor_merged_incidents(
    backend: Option<String>,
) {
    let dirs = TempDirs::new();
    let store = open(&dirs, &backend).await;
    let id = major_incident(&store).await;
    let open = store.open_incidents_by_severity().await.unwrap();
    assert_eq!(open, [("major".to_string(), 1)]);
    assert_eq!(store.unmet_deadlines().await.unwrap().len(), 1);
    for ended in ["merged", "closed"] {
        sqlx::query(&format!(
            "UPDATE incidents SET status = '{ended}' WHERE id = {id}"
        ))
        .execute(store.pool())
        .await
        .unwrap();
        assert_eq!(
            store.open_incidents_by_severity().await.unwrap(),
            [],
            "{ended}"
        );
        assert!(store.unmet_deadlines().await.unwrap().is_empty(), "{ended}");
    }
}

backend_test!(an_item_is_stored_once_by_guid_or_content_with_its_tone);
/// An item is stored once: by GUID (a changed text is an update), and not again when the
/// same text comes under another GUID; a new item's tone is stored with it.
async fn an_item_is_stored_once_by_guid_or_content_with_its_tone(backend: Option<String>) {
    let dirs = TempDirs::new();
    let store = open(&dirs, &backend).await;
    let item = |guid: &'static str, title: &'static str, hash: &'static str| NewItem {
        source_id: "forum",
        guid,
        link: None,
        title,
        summary: "",
        published_at: None,
        content_hash: hash,
    };
    let tone = yuqing::classify::tone::Tone {
        label: yuqing::classify::tone::ToneLabel::Negative,
        score: -0.8,
    };
    let mut tx = store.begin().await.unwrap();
    let mut put = async |i: NewItem<'static>, tone| {
        store
            .store_item_with_tone(&mut tx, &i, tone, 1_000)
            .await
            .unwrap()
    };
    let Stored::New(row) = put(item("g1", "景区踩踏", "h1"), Some(tone)).await else {
        panic!("new")
    };
    let id = row.id;
    assert_eq!(put(item("g1", "景区踩踏", "h1"), None).await, Stored::Seen);
    assert_eq!(
        put(item("g2", "景区踩踏", "h1"), None).await,
        Stored::Seen,
        "the same text under another GUID"
    );
    assert_eq!(
        put(item("g1", "景区踩踏 3人受伤", "h2"), None).await,
        Stored::Updated(id)
    );
    assert!(matches!(
        put(item("g3", "另一条", "h3"), None).await,
        Stored::New(_)
    ));
    tx.commit().await.unwrap();
    let row = store.item(id).await.unwrap().unwrap();
    assert_eq!(row.title, "景区踩踏 3人受伤");
    assert_eq!(row.tone, Some(tone));
    assert_eq!(
        store
            .known_guids("forum", &["g1", "g2", "g3", "g4"])
            .await
            .unwrap(),
        ["g1", "g3"].into_iter().map(String::from).collect()
    );
}

backend_test!(a_page_stored_at_once_is_decided_as_one_by_one);
/// A poll stores a page's items in one go (`store_items`): each item is decided exactly as
/// storing them one after another decides it, including the awkward pages (the same GUID
/// twice with other text, the same text under two GUIDs, an item whose text is the one
/// another item of the page was just changed to). Random pages over a few GUIDs and texts
/// go to two sources of one database, one by one into the first and as pages into the
/// second; what each entry did and what ends up stored must be the same.
async fn a_page_stored_at_once_is_decided_as_one_by_one(backend: Option<String>) {
    use yuqing::classify::tone::{Tone, ToneLabel};
    use yuqing::store::Incoming;
    let dirs = TempDirs::new();
    let store = open(&dirs, &backend).await;
    let tone = Tone {
        label: ToneLabel::Negative,
        score: -0.5,
    };
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = move |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    let (mut new, mut updated, mut seen) = (0, 0, 0);
    for page in 0..150 {
        let len = 1 + next(8) as usize;
        let entries: Vec<(String, String, bool)> = (0..len)
            .map(|_| {
                let g = next(6);
                let h = next(5);
                (format!("g{g}"), format!("h{h}"), next(3) == 0)
            })
            .collect();
        let now = 1_000 + page as i64;
        let mut tx = store.begin().await.unwrap();
        fn item<'a>(source_id: &'a str, (g, h, _): &'a (String, String, bool)) -> NewItem<'a> {
            NewItem {
                source_id,
                guid: g,
                link: None,
                title: h,
                summary: "",
                published_at: None,
                content_hash: h,
            }
        }
        let mut one_by_one = Vec::new();
        for e in &entries {
            let t = e.2.then_some(tone);
            let s = store
                .store_item_with_tone(&mut tx, &item("one", e), t, now)
                .await
                .unwrap();
            if let (Stored::New(row), true) = (&s, e.2) {
                store
                    .set_item_topics(&mut tx, row.id, &["scenic".to_string()])
                    .await
                    .unwrap();
            }
            one_by_one.push(s);
        }
        let pages: Vec<Incoming> = entries
            .iter()
            .map(|e| Incoming {
                item: item("page", e),
                tone: e.2.then_some(tone),
                topics: if e.2 {
                    vec!["scenic".to_string()].into()
                } else {
                    Default::default()
                },
                signature: None,
            })
            .collect();
        let at_once = store
            .store_items(&mut tx, "page", &pages, now)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        // A new item comes back as the row stored: its GUID, text, time, tone and topics.
        for (e, s) in entries.iter().zip(&at_once) {
            if let Stored::New(row) = s {
                assert_eq!(
                    (&row.source_id[..], &row.guid, &row.title, row.fetched_at),
                    ("page", &e.0, &e.1, now)
                );
                let topics: &[&str] = if e.2 { &["scenic"] } else { &[] };
                assert_eq!(row.topics[..], topics[..], "{row:?}");
                assert_eq!(row.tone.is_some(), e.2, "{row:?}");
            }
        }
        // Ids differ between the sources; which item an id is, by its GUID, may not.
        let guid_of = async |s: Stored| match s {
            Stored::New(row) => format!("new {}", store.item(row.id).await.unwrap().unwrap().guid),
            Stored::Updated(id) => {
                format!("updated {}", store.item(id).await.unwrap().unwrap().guid)
            }
            Stored::Seen => "seen".to_string(),
            Stored::Sighted(id) => format!("sighted {id}"),
        };
        for (k, (a, b)) in one_by_one.iter().zip(&at_once).enumerate() {
            assert_eq!(
                guid_of(a.clone()).await,
                guid_of(b.clone()).await,
                "page {page} entry {k} of {entries:?}"
            );
            match a {
                Stored::New(_) => new += 1,
                Stored::Updated(_) => updated += 1,
                Stored::Seen | Stored::Sighted(_) => seen += 1,
            }
        }
    }
    // The random pages did exercise every outcome.
    assert!(
        new >= 6 && updated > 20 && seen > 100,
        "{new} {updated} {seen}"
    );
    let rows = |source: &'static str| {
        let store = &store;
        async move {
            let mut v: Vec<(String, String, String, Option<String>, String)> = store
                .items(Some(source), 0, 1_000)
                .await
                .unwrap()
                .into_iter()
                .map(|r| {
                    let topics = serde_json::to_string(&r.topics).unwrap();
                    let tone = r.tone.map(|t| format!("{} {}", t.label.as_str(), t.score));
                    (r.guid, r.title, topics, tone, r.fetched_at.to_string())
                })
                .collect();
            v.sort();
            v
        }
    };
    // A page longer than one statement takes: stored a batch at a time, a repeat in a
    // later batch still seen as one.
    let big: Vec<(String, String)> = (0..1_100)
        .map(|k| (format!("big{k}"), format!("bh{k}")))
        .chain([
            ("big3".into(), "bh3".into()),
            ("big9".into(), "changed".into()),
        ])
        .collect();
    let page: Vec<Incoming> = big
        .iter()
        .map(|(g, h)| Incoming {
            item: NewItem {
                source_id: "big",
                guid: g,
                link: None,
                title: h,
                summary: "",
                published_at: None,
                content_hash: h,
            },
            tone: None,
            topics: Default::default(),
            signature: None,
        })
        .collect();
    let mut tx = store.begin().await.unwrap();
    let stored = store
        .store_items(&mut tx, "big", &page, 2_000)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(stored.len(), 1_102);
    assert!(stored[..1_100].iter().all(|s| matches!(s, Stored::New(_))));
    assert_eq!(stored[1_100], Stored::Seen);
    assert_eq!(
        stored[1_101],
        Stored::Updated(match &stored[9] {
            Stored::New(row) => row.id,
            other => panic!("{other:?}"),
        })
    );
    let one = rows("one").await;
    assert!(one.len() >= 3, "{one:?}");
    assert_eq!(one, rows("page").await);
}

backend_test!(a_source_lease_a_daemon_failed_to_release_is_its_own_to_claim_again);
/// A daemon whose release of a source failed (the disk was full) claims it again at its
/// next turn rather than waiting out its own lease; another daemon still waits for it.
async fn a_source_lease_a_daemon_failed_to_release_is_its_own_to_claim_again(
    backend: Option<String>,
) {
    let dirs = TempDirs::new();
    let store = open(&dirs, &backend).await;
    let ids = vec!["a".to_string()];
    let claimed = store.claim_sources(&ids, "me:1", 1000, 1060).await.unwrap();
    assert_eq!(claimed, ids);
    // Not released. A turn later:
    assert!(store
        .claim_sources(&ids, "other:2", 1001, 1061)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        store.claim_sources(&ids, "me:1", 1001, 1061).await.unwrap(),
        ids
    );
}
