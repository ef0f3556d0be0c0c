//! Evidence (issue 23): WARC files checked by the real `warcio check`, and the store's rows
//! of captures and of the work of capturing, on SQLite and PostgreSQL.

use crate::common;
use chrono::TimeZone;
use std::path::Path;
use yuqing::evidence::warc::{CaptureMeta, HopRecord, Writer};
use yuqing::store::{EvidenceWork, NewEvidence, Store};
use yuqing::vocab::clock::Clock;
use yuqing::vocab::state::EvidenceState;

/// Runs `warcio ARGS` and returns its output; fails, saying how to install it, when it is
/// not there (`.ci/run` installs it).
pub fn warcio(args: &[&str]) -> (bool, String) {
    let out = std::process::Command::new("warcio")
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run `warcio` ({e}): install it with `pip install warcio`")
        });
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// `warcio check -v FILE` passes, and every record's digests were checked and found right.
pub fn assert_warcio_passes(file: &Path) {
    let (ok, out) = warcio(&["check", "-v", &file.display().to_string()]);
    assert!(ok, "warcio check failed on {}:\n{out}", file.display());
    let records = out.matches("WARC-Record-ID").count();
    assert!(records > 0, "{}: no records\n{out}", file.display());
    assert_eq!(
        out.matches("digest pass").count(),
        records,
        "every record's digests checked and right in {}:\n{out}",
        file.display()
    );
}

fn at(h: u32, m: u32) -> chrono::DateTime<chrono::Utc> {
    chrono::Utc.with_ymd_and_hms(2026, 11, 24, h, m, 0).unwrap()
}

/// A redirect and the page it leads to, as the fetcher would have kept them.
struct Page {
    redirect_req: Vec<u8>,
    redirect_resp: Vec<u8>,
    req: Vec<u8>,
    resp: Vec<u8>,
    body: Vec<u8>,
}

fn page(body: &str) -> Page {
    let body = body.as_bytes().to_vec();
    Page {
        redirect_req: b"GET /p/1 HTTP/1.1\r\nHost: bbs.example.cn\r\nUser-Agent: yuqing\r\n\r\n"
            .to_vec(),
        redirect_resp:
            b"HTTP/1.1 301 Moved Permanently\r\nLocation: /p/1.html\r\nContent-Length: 0\r\n\r\n"
                .to_vec(),
        req: b"GET /p/1.html HTTP/1.1\r\nHost: bbs.example.cn\r\nUser-Agent: yuqing\r\n\r\n"
            .to_vec(),
        resp: format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes(),
        body,
    }
}

fn hops(p: &Page, when: chrono::DateTime<chrono::Utc>) -> Vec<HopRecord<'_>> {
    vec![
        HopRecord {
            url: "http://bbs.example.cn/p/1",
            at: when,
            ip: Some("127.0.0.1".parse().unwrap()),
            request_head: &p.redirect_req,
            response_head: &p.redirect_resp,
            body: b"",
        },
        HopRecord {
            url: "http://bbs.example.cn/p/1.html",
            at: when,
            ip: Some("127.0.0.1".parse().unwrap()),
            request_head: &p.req,
            response_head: &p.resp,
            body: &p.body,
        },
    ]
}

fn meta(item: i64, version: i64) -> CaptureMeta {
    CaptureMeta {
        item_id: item,
        incidents: vec![3],
        source_id: "news".into(),
        version,
        link: "http://bbs.example.cn/p/1".into(),
        title: "某景区栈道坍塌\r\nX-Injected: 1".into(),
        sha256: "ab".repeat(32),
    }
}

#[test]
fn captures_are_written_as_warc_files_that_warcio_checks() {
    let dirs = common::TempDirs::new();
    let dir = dirs.state().join("evidence");
    let mut writer = Writer::new(&dir, 1 << 30, true, chrono_tz::Asia::Shanghai);
    let first = page("<html><title>某景区栈道坍塌</title><p>多名游客受伤。</p></html>");
    let a = writer
        .write(&hops(&first, at(1, 0)), &meta(12, 1), at(1, 0))
        .unwrap();
    let edited = page("<html><title>某景区栈道坍塌</title><p>（已编辑）</p></html>");
    let b = writer
        .write(&hops(&edited, at(2, 0)), &meta(12, 2), at(2, 0))
        .unwrap();
    assert_eq!(a.file, b.file, "one file per day and daemon start");
    assert_eq!(b.offset, a.offset + a.length, "appended, never rewritten");
    let file = dir.join(&a.file);
    assert_warcio_passes(&file);
    // The records, in order: the file's warcinfo, then per capture two hops and the
    // metadata that ties them to the item.
    let (ok, index) = warcio(&[
        "index",
        "-f",
        "warc-type,warc-target-uri",
        &file.display().to_string(),
    ]);
    assert!(ok, "{index}");
    let types: Vec<&str> = index
        .lines()
        .filter_map(|l| l.split("\"warc-type\": \"").nth(1))
        .map(|t| t.split('"').next().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "warcinfo", "request", "response", "request", "response", "metadata", "request",
            "response", "request", "response", "metadata"
        ],
        "{index}"
    );
    // A capture's byte range is whole gzip members: copied alone it is a WARC file too.
    let bytes = std::fs::read(&file).unwrap();
    let range = &bytes[b.offset as usize..(b.offset + b.length) as usize];
    let alone = dirs.state().join("alone.warc.gz");
    std::fs::write(&alone, range).unwrap();
    assert_warcio_passes(&alone);
    // The metadata names the item and its incident; a title with a line break injects no
    // field.
    let mut text = String::new();
    let mut gz = flate2::read::MultiGzDecoder::new(range);
    std::io::Read::read_to_string(&mut gz, &mut text).unwrap();
    assert_has!(text, "item-id: 12\r\nincident-ids: 3\r\n");
    assert_has!(text, "title: 某景区栈道坍塌X-Injected: 1\r\n");
    assert_has!(text, "WARC-Payload-Digest: sha1:");
}

#[test]
fn files_are_begun_anew_past_their_size_and_on_a_new_day() {
    let dirs = common::TempDirs::new();
    let dir = dirs.state().join("evidence");
    let mut writer = Writer::new(&dir, 2000, true, chrono_tz::Asia::Shanghai);
    let big = page(&"长文".repeat(2000));
    let a = writer
        .write(&hops(&big, at(1, 0)), &meta(1, 1), at(1, 0))
        .unwrap();
    let b = writer
        .write(&hops(&big, at(1, 1)), &meta(2, 1), at(1, 1))
        .unwrap();
    assert_ne!(a.file, b.file, "the first file passed 2000 bytes");
    // 2026-11-24 16:00 UTC is the next day in Shanghai.
    let mut writer = Writer::new(&dir, 1 << 30, true, chrono_tz::Asia::Shanghai);
    let small = page("短");
    let c = writer
        .write(&hops(&small, at(15, 0)), &meta(3, 1), at(15, 0))
        .unwrap();
    let d = writer
        .write(&hops(&small, at(16, 0)), &meta(4, 1), at(16, 0))
        .unwrap();
    assert_ne!(c.file, d.file, "a new local day begins a new file");
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    assert_eq!(names.len(), 4, "{names:?}");
    for f in names {
        assert_warcio_passes(&f);
    }
}

backend_test!(capture_work_is_claimed_once_and_versions_are_kept);
async fn capture_work_is_claimed_once_and_versions_are_kept(backend: Option<String>) {
    let dirs = common::TempDirs::new();
    let url = backend.clone().unwrap_or_else(|| dirs.database_url());
    let store = Store::open(&url).await.unwrap();
    let now = at(1, 0).timestamp();
    let mut tx = store.begin().await.unwrap();
    let item = yuqing::store::NewItem {
        source_id: "news",
        guid: "g1",
        link: Some("http://bbs.example.cn/p/1"),
        title: "某景区栈道坍塌",
        summary: "",
        published_at: None,
        content_hash: "h1",
    };
    let id = match store.store_item(&mut tx, &item, now).await.unwrap() {
        yuqing::store::Stored::New(row) => row.id,
        other => panic!("{other:?}"),
    };
    store.queue_capture(&mut tx, id, now).await.unwrap();
    // Queued twice (a poll read again after a crash): one row.
    store.queue_capture(&mut tx, id, now).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(store.evidence_backlog().await.unwrap(), (1, 0));

    // Two daemons claim at once: one gets the row.
    let (a, b) = tokio::join!(
        store.claim_evidence("a:1:x", now, now + 60, 10),
        store.claim_evidence("b:2:y", now, now + 60, 10)
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.len() + b.len(), 1, "{a:?} {b:?}");
    let task = a.into_iter().chain(b).next().unwrap();
    assert_eq!((task.item_id, task.work), (id, EvidenceWork::Capture));
    // Not again while the lease lives; again once it ran out.
    assert!(store
        .claim_evidence("c:3:z", now + 30, now + 90, 10)
        .await
        .unwrap()
        .is_empty());

    let mut tx = store.begin().await.unwrap();
    let v1 = store
        .insert_evidence(
            &mut tx,
            &NewEvidence {
                item_id: id,
                url: "http://bbs.example.cn/p/1",
                final_url: Some("http://bbs.example.cn/p/1.html"),
                at: now + 5,
                status: Some(200),
                sha256: Some("aa"),
                title: Some("某景区栈道坍塌"),
                text: Some("多名游客受伤。"),
                warc: Some(("f.warc.gz", 100, 900)),
                ..NewEvidence::default()
            },
        )
        .await
        .unwrap();
    store
        .finish_evidence(&mut tx, task.id, now + 5)
        .await
        .unwrap();
    let dues: Vec<i64> = [1800, 7200].iter().map(|s| now + 5 + s).collect();
    store.queue_rechecks(&mut tx, id, &dues).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(store.evidence_backlog().await.unwrap(), (0, 2));
    assert!(store
        .claim_evidence("c:3:z", now + 100, now + 160, 10)
        .await
        .unwrap()
        .is_empty());
    let due = store
        .claim_evidence("c:3:z", now + 1805, now + 1900, 10)
        .await
        .unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].work, EvidenceWork::Recheck);

    let mut tx = store.begin().await.unwrap();
    store
        .record_evidence_check(
            &mut tx,
            v1,
            EvidenceState::Changed,
            now + 1805,
            Some(200),
            None,
        )
        .await
        .unwrap();
    store
        .insert_evidence(
            &mut tx,
            &NewEvidence {
                item_id: id,
                url: "http://bbs.example.cn/p/1",
                at: now + 1805,
                state: Some(EvidenceState::Changed),
                sha256: Some("bb"),
                text: Some("（已编辑）"),
                ..NewEvidence::default()
            },
        )
        .await
        .unwrap();
    store
        .finish_evidence(&mut tx, due[0].id, now + 1805)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let latest = store.latest_evidence(id).await.unwrap().unwrap();
    assert_eq!((latest.version, latest.state), (2, EvidenceState::Changed));
    assert_eq!(latest.sha256.as_deref(), Some("bb"));
    let first = store.evidence_version(v1).await.unwrap().unwrap();
    assert_eq!(first.warc_file.as_deref(), Some("f.warc.gz"));
    assert_eq!(
        (first.warc_offset, first.warc_length),
        (Some(100), Some(900))
    );
}

/// An article page, as a news site serves it.
fn article_html(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{title}</title></head>\
         <body><h1>{title}</h1><div class=\"content\"><p>{body}</p></div></body></html>"
    )
}

/// [`article_html`] served as a UTF-8 HTML page.
/// `/p/1.html`, the page of `item`, answers 404 from now on; `after` that, its recheck
/// finds it deleted (and is done, not let go).
pub(crate) async fn gone_at_the_recheck(sc: &common::Scenario, item: i64, after: chrono::Duration) {
    sc.http.set("/p/1.html", common::Response::status(404));
    sc.clock.advance(after);
    let done = sc.daemon.keep_evidence(&gate()).await.unwrap();
    let deleted = yuqing::evidence::capture::Done::Checked(EvidenceState::Deleted);
    assert_eq!(done, [(item, deleted)], "the recheck is done, not let go");
}

pub(crate) fn article(title: &str, body: &str) -> common::Response {
    common::Response::ok("text/html; charset=utf-8", article_html(title, body))
}

/// The gate the polls would share: no pause, so the manual clock is never waited on.
pub(crate) fn gate() -> yuqing::fetch::politeness::HostGate {
    yuqing::fetch::politeness::HostGate::new(2, std::time::Duration::ZERO)
}

pub(crate) const TOPICS: &str =
    "[[topic]]\nid = \"scenic\"\nname = \"景区安全\"\nseverity = \"major\"\n\
                      any = [\"坍塌\"]\nall = [\"景区\"]\n\n\
                      [[topic]]\nid = \"fire\"\nname = \"火灾\"\nseverity = \"large\"\n\
                      any = [\"起火\"]\n";

backend_test!(a_matched_items_page_is_kept_after_its_alert_and_its_edits_and_deletion_are_told);
async fn a_matched_items_page_is_kept_after_its_alert_and_its_edits_and_deletion_are_told(
    backend: Option<String>,
) {
    let dirs_link;
    let sc = {
        let s = common::scenario(
            TOPICS,
            &[],
            "[people]\nduty = [\"duty@x.cn\", \"notify:duty-wecom\"]\n\n\
             [[notify]]\nid = \"duty-wecom\"\nkind = \"wecom\"\nurl = \"http://127.0.0.1:9/\"\n",
            &backend,
        )
        .await;
        dirs_link = s.http.url("/p/1.html");
        s
    };
    let when = common::pub_date(sc.clock.now());
    sc.http.set(
        "/news.xml",
        common::Response::rss(common::rss(&[(
            "某景区栈道坍塌 多名游客受伤",
            &dirs_link,
            "g1",
            &when,
        )])),
    );
    sc.http.set(
        "/p/1.html",
        article(
            "某景区栈道坍塌",
            "某景区今日上午栈道坍塌，多名游客受伤；附近商铺随后起火。",
        ),
    );
    let d = &sc.daemon;
    d.poll_once(None).await.unwrap();
    // The alert is queued; the page is not fetched by the poll itself.
    let opened = common::mail(&d.store, "opened").await;
    assert_eq!(opened.len(), 1);
    assert!(
        sc.http.requests("/p/1.html").is_empty(),
        "the poll does not wait for the capture"
    );
    assert_eq!(d.store.evidence_backlog().await.unwrap(), (1, 0));

    let done = d.keep_evidence(&gate()).await.unwrap();
    assert_eq!(done.len(), 1, "{done:?}");
    let item = done[0].0;
    let e = d.store.latest_evidence(item).await.unwrap().expect("kept");
    assert_eq!((e.version, e.state), (1, EvidenceState::Online));
    assert!(e.text.as_deref().unwrap().contains("多名游客受伤"), "{e:?}");
    assert_eq!(e.status, Some(200));
    // Where each topic matched: the fire only in the body, recorded, no incident of its own.
    let topics: serde_json::Value = serde_json::from_str(e.topics.as_deref().unwrap()).unwrap();
    let found = |id: &str| -> Vec<String> {
        topics
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["id"] == id)
            .map(|t| serde_json::from_value(t["found_in"].clone()).unwrap())
            .unwrap_or_default()
    };
    assert_eq!(found("scenic"), ["title", "body"], "{topics} {:?}", e.text);
    assert_eq!(found("fire"), ["body"], "{topics}");
    assert_eq!(d.store.incidents(true).await.unwrap().len(), 1);
    // The WARC file passes warcio, and its metadata names the item and the incident.
    let file = sc
        .dirs
        .state()
        .join("evidence")
        .join(e.warc_file.as_deref().unwrap());
    assert_warcio_passes(&file);
    let incident = opened[0].incident_id.unwrap();
    let mut text = String::new();
    std::io::Read::read_to_string(
        &mut flate2::read::MultiGzDecoder::new(&std::fs::read(&file).unwrap()[..]),
        &mut text,
    )
    .unwrap();
    assert_has!(
        text,
        &format!("item-id: {item}\r\nincident-ids: {incident}\r\n")
    );
    let sha = e.sha256.clone().unwrap();
    assert_has!(text, &format!("payload-sha256: {sha}"));
    // Rechecks at 30m, 2h, 6h, 24h and 72h after capture.
    assert_eq!(d.store.evidence_backlog().await.unwrap(), (0, 5));

    // 30 minutes on: unchanged.
    sc.clock.advance(chrono::Duration::minutes(31));
    let done = d.keep_evidence(&gate()).await.unwrap();
    assert_eq!(
        done,
        [(
            item,
            yuqing::evidence::capture::Done::Checked(EvidenceState::Online)
        )]
    );

    // Edited: a new version is kept, the old one stays, the duty officer is told in the
    // incident's thread, by mail and on the duty role's WeCom.
    sc.http.set(
        "/p/1.html",
        article("某景区栈道坍塌", "今日上午栈道发生轻微变形，无人受伤。"),
    );
    sc.clock.advance(chrono::Duration::hours(2));
    let done = d.keep_evidence(&gate()).await.unwrap();
    assert_eq!(
        done,
        [(
            item,
            yuqing::evidence::capture::Done::Captured {
                state: EvidenceState::Changed,
                version: 2
            }
        )]
    );
    let changed = common::mail(&d.store, "evidence_changed").await;
    assert_eq!(changed.len(), 1);
    assert_has!(changed[0].subject, "原帖已修改");
    assert_has!(changed[0].body_text, "第 2 版");
    assert_eq!(
        changed[0].in_reply_to.as_deref(),
        Some(opened[0].message_id.as_str())
    );
    let notes = d.store.notifications().await.unwrap();
    assert!(
        notes
            .iter()
            .any(|n| n.outbox_id == changed[0].id && n.notifier == "duty-wecom"),
        "{notes:?}"
    );

    // Deleted: a notice page in place of the article.
    sc.http
        .set("/p/1.html", article("提示", "抱歉，该内容已被删除。"));
    sc.clock.advance(chrono::Duration::hours(4));
    let done = d.keep_evidence(&gate()).await.unwrap();
    assert_eq!(
        done,
        [(
            item,
            yuqing::evidence::capture::Done::Checked(EvidenceState::Deleted)
        )]
    );
    let deleted = common::mail(&d.store, "evidence_deleted").await;
    assert_eq!(deleted.len(), 1);
    assert_has!(deleted[0].subject, "原帖已删除（证据已保存）");
    assert_eq!(
        deleted[0].in_reply_to.as_deref(),
        Some(opened[0].message_id.as_str())
    );
    // Gone for good (404) at the next check: still deleted, told once.
    gone_at_the_recheck(&sc, item, chrono::Duration::hours(19)).await;
    assert_eq!(common::mail(&d.store, "evidence_deleted").await.len(), 1);
    let all = d
        .store
        .incident_evidence(yuqing::vocab::ids::IncidentId(incident))
        .await
        .unwrap();
    assert_eq!(all.len(), 2, "both versions kept");
    assert_eq!(all[0].sha256.as_deref(), Some(sha.as_str()));

    // `incident show` says what became of the page; `--json` gives its evidence.
    let (out, _) = yq(&sc, &["incident", "show", &incident.to_string()]);
    assert_has!(out, "证据：原帖已删除（");
    assert_has!(out, "共 2 版");
    let (json, _) = yq(&sc, &["incident", "show", &incident.to_string(), "--json"]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let ev = &v["items"][0]["evidence"];
    assert_eq!(ev["state"], "deleted", "{v}");
    assert_eq!(ev["sha256"], all[1].sha256.clone().unwrap(), "{v}");
    assert!(
        ev["captured_at"].as_str().unwrap().ends_with("+08:00"),
        "{v}"
    );
    assert!(ev["checked_at"].is_string(), "{v}");

    // The export: every version's records in one file that warcio checks, a manifest beside.
    let out_file = sc.dirs.root().join(format!("事件{incident}.warc.gz"));
    let out_arg = out_file.display().to_string();
    let (said, err) = yq(
        &sc,
        &[
            "evidence",
            "export",
            &incident.to_string(),
            "--out",
            &out_arg,
        ],
    );
    assert!(said.contains("2 个版本"), "{said}{err}");
    assert_warcio_passes(&out_file);
    let (ok, index) = warcio(&["index", "-f", "warc-type", &out_arg]);
    assert!(ok, "{index}");
    assert_eq!(index.matches("\"response\"").count(), 2, "{index}");
    assert_eq!(index.matches("\"metadata\"").count(), 2, "{index}");
    let manifest =
        std::fs::read_to_string(sc.dirs.root().join(format!("事件{incident}.manifest.csv")))
            .unwrap();
    let lines: Vec<&str> = manifest.lines().collect();
    assert_eq!(lines.len(), 3, "{manifest}");
    assert!(
        lines[0].starts_with("\u{feff}item,version,url"),
        "{manifest}"
    );
    assert!(lines[1].contains(&sha), "{manifest}");
    // Never overwritten.
    let again = yq_status(
        &sc,
        &[
            "evidence",
            "export",
            &incident.to_string(),
            "--out",
            &out_arg,
        ],
    );
    assert_eq!(again, Some(2));
}

/// `yuqing ARGS --config CONFIG` as of the scenario's clock: stdout and stderr.
fn yq(sc: &common::Scenario, args: &[&str]) -> (String, String) {
    let o = yq_command(sc, args).output().expect("run yuqing");
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn yq_status(sc: &common::Scenario, args: &[&str]) -> Option<i32> {
    yq_command(sc, args)
        .output()
        .expect("run yuqing")
        .status
        .code()
}

fn yq_command(sc: &common::Scenario, args: &[&str]) -> std::process::Command {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_yuqing"));
    c.args(args)
        .arg("--config")
        .arg(&sc.config)
        .env("USER", "tester")
        .env("YUQING_NOW", sc.clock.now().to_rfc3339());
    c
}

/// A scenario watching [`TOPICS`] that keeps the page of every item (`capture = "all"`);
/// the publication date of now, and the addresses of two pages, `/p/a.html` and
/// `/p/b.html`.
pub(crate) async fn capturing_all(
    backend: &Option<String>,
) -> (common::Scenario, String, (String, String)) {
    let sc = common::scenario(TOPICS, &[], "[evidence]\ncapture = \"all\"\n", backend).await;
    let when = common::pub_date(sc.clock.now());
    let pages = (sc.http.url("/p/a.html"), sc.http.url("/p/b.html"));
    (sc, when, pages)
}

backend_test!(with_capture_all_a_page_that_matches_opens_an_incident_its_title_did_not);
async fn with_capture_all_a_page_that_matches_opens_an_incident_its_title_did_not(
    backend: Option<String>,
) {
    let (sc, when, (a, b)) = capturing_all(&backend).await;
    sc.http.set(
        "/news.xml",
        common::Response::rss(common::rss(&[
            ("市民反映：周末出行注意安全", &a, "ga", &when),
            ("今日天气晴好", &b, "gb", &when),
        ])),
    );
    sc.http.set(
        "/p/a.html",
        article(
            "周末出行注意安全",
            "据网友反映，某景区一处栈道今晨坍塌，现场已封闭。",
        ),
    );
    sc.http.set("/p/b.html", article("天气", "晴，微风。"));
    let d = &sc.daemon;
    d.poll_once(None).await.unwrap();
    assert!(
        d.store.incidents(true).await.unwrap().is_empty(),
        "no title matched"
    );
    assert_eq!(
        d.store.evidence_backlog().await.unwrap(),
        (2, 0),
        "every item is captured"
    );
    d.keep_evidence(&gate()).await.unwrap();
    let incidents = d.store.incidents(true).await.unwrap();
    assert_eq!(incidents.len(), 1, "the page of the first opened one");
    assert_eq!(incidents[0].topic_id, "scenic");
    d.housekeeping().await.unwrap();
    let opened = common::mail(&d.store, "opened").await;
    assert_eq!(opened.len(), 1);
    assert_eq!(opened[0].incident_id, Some(incidents[0].id.0));
    // Its rechecks are scheduled (it is an open incident's item); the other's are not.
    assert_eq!(d.store.evidence_backlog().await.unwrap(), (0, 5));
}

backend_test!(the_console_shows_the_evidence_as_text_and_lets_duty_and_leaders_download_it);
async fn the_console_shows_the_evidence_as_text_and_lets_duty_and_leaders_download_it(
    backend: Option<String>,
) {
    use common::console::{logged_in, DUTY, FIRST, LEADER, OPERATOR};
    // The page quotes markup as text, and carries a script of its own.
    let article = common::HttpServer::serving(
        "/p/1.html",
        common::Response::ok(
            "text/html; charset=utf-8",
            "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>某景区栈道坍塌</title>\
             <script>document.title='pwned'</script></head><body><article><h1>某景区栈道坍塌</h1>\
             <p>某景区今日上午栈道坍塌，多名游客受伤。网友留言称&lt;script&gt;alert(1)&lt;/script&gt;。</p>\
             <p>景区管理方表示正在核实情况，伤者已送医救治，现场已封闭。</p></article></body></html>",
        ),
    )
    .await;
    let link = article.url("/p/1.html");
    let site = common::console::site_with(
        &backend,
        "",
        &[(FIRST, &link, "t1", "Tue, 24 Nov 2026 09:00:00 +0800")],
    )
    .await;
    let done = site.s.daemon.keep_evidence(&gate()).await.unwrap();
    assert_eq!(done.len(), 1, "{done:?}");
    let kept = site
        .s
        .daemon
        .store
        .latest_evidence(done[0].0)
        .await
        .unwrap()
        .unwrap();

    let duty = logged_in(&site, DUTY).await;
    let p = duty.get("/incidents/1").await;
    assert_eq!(p.status, 200);
    assert_has!(p.body, "证据：<b>原帖在线</b>");
    assert_has!(p.body, &format!("href=\"/evidence/{}\"", kept.id));
    assert_has!(p.body, "href=\"/incidents/1/evidence.warc.gz\"");

    // The archived text, escaped: the page's script is not served, the quoted markup is text.
    let p = duty.get(&format!("/evidence/{}", kept.id)).await;
    assert_eq!(p.status, 200);
    assert_has!(p.body, "多名游客受伤");
    assert_has!(p.body, "&#60;script&#62;alert(1)&#60;/script&#62;");
    assert!(
        !p.body.contains("pwned") && !p.body.contains("<script>alert"),
        "{}",
        p.body
    );
    assert_has!(p.body, kept.sha256.as_deref().unwrap());
    std::fs::write(site.s.dirs.root().join("evidence-page.html"), &p.body).unwrap();

    // The WARC file: duty and leaders, not operators.
    let download = |b: &common::console::Browser| {
        let cookie = b.cookie_header();
        let url = format!("{}/incidents/1/evidence.warc.gz", site.url);
        async move {
            reqwest::Client::new()
                .get(url)
                .header(reqwest::header::COOKIE, cookie)
                .send()
                .await
                .unwrap()
        }
    };
    let r = download(&duty).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/gzip");
    let bytes = r.bytes().await.unwrap();
    let file = site.s.dirs.root().join("downloaded.warc.gz");
    std::fs::write(&file, &bytes).unwrap();
    assert_warcio_passes(&file);
    let leader = logged_in(&site, LEADER).await;
    assert_eq!(download(&leader).await.status(), 200);
    let operator = logged_in(&site, OPERATOR).await;
    assert_eq!(download(&operator).await.status(), 403);
    assert!(!operator
        .get("/incidents/1")
        .await
        .body
        .contains("evidence.warc.gz"));
}

/// The daemon of `sc` with a page timeout of a second, so that a page that never ends is
/// given up on quickly.
fn impatient(sc: &common::Scenario) -> yuqing::daemon::scheduler::Daemon {
    let mut d = sc.daemon.clone();
    let mut settings = yuqing::fetch::FetchSettings::new("yuqing-test/0.1");
    settings.page_timeout = std::time::Duration::from_secs(1);
    d.fetcher = yuqing::fetch::Fetcher::new(settings).unwrap();
    d
}

/// Issue 23 §7: a link that is not HTTP, a huge page, an endless redirect and a page that
/// never ends each leave a clear error on the item; the alert went out all the same.
#[tokio::test]
async fn pages_that_cannot_be_kept_say_why_on_the_item_and_the_alert_goes_out() {
    let sc = common::scenario(common::SCENIC_MAJOR, &[], "", &None).await;
    let (endless, server) = common::http::endless_server("/endless.html").await;
    sc.http.set(
        "/huge.html",
        common::Response::ok("text/html", vec![b'x'; 11 * 1024 * 1024]),
    );
    sc.http
        .set("/loop.html", common::Response::redirect(302, "/loop.html"));
    let when = common::pub_date(sc.clock.now());
    let (huge, looping) = (sc.http.url("/huge.html"), sc.http.url("/loop.html"));
    sc.http.set(
        "/news.xml",
        common::Response::rss(common::rss(&[
            (
                "景区栈道坍塌 其一",
                "ftp://files.example.cn/a.html",
                "a",
                &when,
            ),
            ("景区栈道坍塌 其二", &huge, "b", &when),
            ("景区栈道坍塌 其三", &looping, "c", &when),
            ("景区栈道坍塌 其四", &endless, "d", &when),
        ])),
    );
    let d = impatient(&sc);
    d.poll_once(None).await.unwrap();
    let opened = common::mail(&d.store, "opened").await;
    assert_eq!(opened.len(), 1);
    assert!(
        opened[0].sent_at.is_some(),
        "the alert went out before any capture"
    );
    let started = std::time::Instant::now();
    let done = d.keep_evidence(&gate()).await.unwrap();
    server.abort();
    // The feed reader keeps no link that is not http(s) (the first item has none, and so no
    // capture); a list page's selector may still yield one, as below.
    assert_eq!(done.len(), 3, "{done:?}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    let mut errors = Vec::new();
    for (item, _) in &done {
        let e = d.store.latest_evidence(*item).await.unwrap().unwrap();
        assert_eq!(e.state, EvidenceState::Unreachable, "{e:?}");
        assert!(e.sha256.is_none() && e.warc_file.is_none(), "{e:?}");
        let item = d.store.item(*item).await.unwrap().unwrap();
        errors.push((item.title, e.error.unwrap()));
    }
    errors.sort();
    let error_of = |t: &str| {
        &errors
            .iter()
            .find(|(title, _)| title.ends_with(t))
            .unwrap()
            .1
    };
    assert!(error_of("其二").contains("larger than"), "{errors:?}");
    assert!(
        error_of("其三").contains("too many redirects"),
        "{errors:?}"
    );
    assert!(error_of("其四").contains("timed out"), "{errors:?}");

    // A link that is not HTTP, as a list page's selector could give it.
    let mut tx = d.store.begin().await.unwrap();
    let item = yuqing::store::NewItem {
        source_id: "news",
        guid: "ftp-1",
        link: Some("ftp://files.example.cn/a.html"),
        title: "景区栈道坍塌 其五",
        summary: "",
        published_at: None,
        content_hash: "ftp-1",
    };
    let yuqing::store::Stored::New(row) = d.store.store_item(&mut tx, &item, 0).await.unwrap()
    else {
        panic!("stored")
    };
    let ftp = row.id;
    d.store
        .queue_capture(&mut tx, ftp, sc.clock.now().timestamp())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    d.keep_evidence(&gate()).await.unwrap();
    let e = d.store.latest_evidence(ftp).await.unwrap().unwrap();
    assert_eq!(e.state, EvidenceState::Unreachable);
    assert!(
        e.error.as_deref().unwrap().contains("not an HTTP link"),
        "{e:?}"
    );

    // Nothing more is sent, nothing is pending.
    assert_eq!(d.store.evidence_backlog().await.unwrap().0, 0);
    let (said, _) = yq(&sc, &["incident", "show", "1"]);
    assert_has!(said, "证据：未能保存（");
    assert_has!(said, "larger than");
}

/// Issue 23 §7: an evidence folder that is full, or cannot be created: the error names the
/// file or folder, the page's text and digest are kept in the database, the file keeps only
/// whole records, and the next capture, once there is room, begins a new file.
#[tokio::test]
async fn a_full_or_unwritable_evidence_folder_loses_nothing_kept() {
    let dirs = common::TempDirs::new();
    let disk_dir = dirs.root().join("evidence-disk");
    let Some(disk) = crate::faults::small_disk(&disk_dir, "512k") else {
        return;
    };
    let sc = common::scenario(
        common::SCENIC_MAJOR,
        &[],
        &format!("[evidence]\ndir = \"{}\"\n", disk_dir.display()),
        &None,
    )
    .await;
    // Each page long and hard to compress (pseudo-random characters): its records need
    // new blocks of the disk, not only the slack of the file's last one.
    let page = |n: u32| {
        let mut x: u32 = n.wrapping_mul(2_654_435_761);
        let noise: String = (0..20_000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                char::from_u32(0x4E00 + x % 0x5000).unwrap()
            })
            .collect();
        article(
            "某景区栈道坍塌",
            &format!("第 {n} 篇：某景区栈道坍塌，多名游客受伤。{noise}"),
        )
    };
    let when = common::pub_date(sc.clock.now());
    let links: Vec<String> = (1..=3)
        .map(|n| sc.http.url(&format!("/p/{n}.html")))
        .collect();
    for n in 1..=3 {
        sc.http.set(&format!("/p/{n}.html"), page(n));
    }
    let publish = |n: usize| {
        let items: Vec<(String, String, String)> = (0..n)
            .map(|k| {
                (
                    format!("景区栈道坍塌 第{}条", k + 1),
                    links[k].clone(),
                    format!("g{k}"),
                )
            })
            .collect();
        let items: Vec<common::RssItem<'_>> = items
            .iter()
            .map(|(t, l, g)| (t.as_str(), l.as_str(), g.as_str(), when.as_str()))
            .collect();
        sc.http
            .set("/news.xml", common::Response::rss(common::rss(&items)));
    };
    let d = &sc.daemon;
    publish(1);
    d.poll_once(None).await.unwrap();
    let first = d.keep_evidence(&gate()).await.unwrap();
    let kept = d.store.latest_evidence(first[0].0).await.unwrap().unwrap();
    let file = disk_dir.join(kept.warc_file.as_deref().unwrap());

    // Full: the write fails, named; the text and digest are kept; the file is whole.
    let filler = disk.fill();
    publish(2);
    d.poll_once(None).await.unwrap();
    let second = d.keep_evidence(&gate()).await.unwrap();
    assert_eq!(second.len(), 1);
    let e = d.store.latest_evidence(second[0].0).await.unwrap().unwrap();
    let error = e.error.clone().unwrap();
    assert_has!(error, "No space left on device");
    assert_has!(error, &disk_dir.display().to_string());
    assert!(
        e.sha256.is_some() && e.text.as_deref().unwrap().contains("第 2 篇"),
        "{e:?}"
    );
    assert!(e.warc_file.is_none());
    assert_eq!(common::mail(&d.store, "opened").await.len(), 1);
    assert_warcio_passes(&file);

    // Room again: the next capture goes to a new file; both files pass.
    std::fs::remove_file(filler).unwrap();
    publish(3);
    d.poll_once(None).await.unwrap();
    let third = d.keep_evidence(&gate()).await.unwrap();
    let e3 = d.store.latest_evidence(third[0].0).await.unwrap().unwrap();
    assert!(e3.error.is_none(), "{e3:?}");
    let file3 = disk_dir.join(e3.warc_file.as_deref().unwrap());
    assert_ne!(file3, file, "a new file after the failed write");
    assert_warcio_passes(&file);
    assert_warcio_passes(&file3);
    drop(disk);

    // A folder that cannot be made (its parent is a file): the error names it.
    let blocker = dirs.write("blocker", "a file, not a folder");
    let sc = common::scenario(
        common::SCENIC_MAJOR,
        &[],
        &format!("[evidence]\ndir = \"{}/evidence\"\n", blocker.display()),
        &None,
    )
    .await;
    let link = sc.http.url("/p/1.html");
    sc.http.set("/p/1.html", page(1));
    let when = common::pub_date(sc.clock.now());
    sc.http.set(
        "/news.xml",
        common::Response::rss(common::rss(&[("景区栈道坍塌", &link, "g", &when)])),
    );
    sc.daemon.poll_once(None).await.unwrap();
    let done = sc.daemon.keep_evidence(&gate()).await.unwrap();
    let e = sc
        .daemon
        .store
        .latest_evidence(done[0].0)
        .await
        .unwrap()
        .unwrap();
    let error = e.error.unwrap();
    assert!(
        error.starts_with("cannot create the evidence folder"),
        "{error}"
    );
    assert_has!(error, &blocker.display().to_string());
    assert!(e.sha256.is_some(), "the page's digest and text are kept");
    assert_eq!(common::mail(&sc.daemon.store, "opened").await.len(), 1);
}

backend_test!(pruning_keeps_the_evidence_of_incident_items_and_never_touches_the_files);
async fn pruning_keeps_the_evidence_of_incident_items_and_never_touches_the_files(
    backend: Option<String>,
) {
    let sc = common::scenario(
        common::SCENIC_MAJOR,
        &[],
        "[evidence]\ncapture = \"all\"\n\n[retention]\nitems = \"30d\"\n",
        &backend,
    )
    .await;
    let when = common::pub_date(sc.clock.now());
    let (a, b) = (sc.http.url("/p/a.html"), sc.http.url("/p/b.html"));
    sc.http.set(
        "/news.xml",
        common::Response::rss(common::rss(&[
            ("某景区栈道坍塌 多名游客受伤", &a, "ga", &when),
            ("今日天气晴好", &b, "gb", &when),
        ])),
    );
    sc.http
        .set("/p/a.html", article("坍塌", "某景区栈道坍塌。"));
    sc.http.set("/p/b.html", article("天气", "晴，微风。"));
    let d = &sc.daemon;
    d.poll_once(None).await.unwrap();
    let done = d.keep_evidence(&gate()).await.unwrap();
    assert_eq!(done.len(), 2);
    let dir = sc.dirs.state().join("evidence");
    let files = |dir: &Path| -> Vec<(String, u64)> {
        let mut v: Vec<(String, u64)> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap())
            .map(|e| {
                (
                    e.file_name().to_string_lossy().into_owned(),
                    e.metadata().unwrap().len(),
                )
            })
            .collect();
        v.sort();
        v
    };
    let before = files(&dir);
    let held = d.store.incidents(true).await.unwrap()[0].id;
    let held_item = common::items_of(&d.store, held.0).await[0].id;
    let loose = done
        .iter()
        .map(|(i, _)| *i)
        .find(|i| *i != held_item)
        .unwrap();

    // 40 days on, pruned: the incident's item keeps its evidence; the other's rows go with
    // it; the WARC file is as it was.
    sc.clock.advance(chrono::Duration::days(40));
    let cutoff = sc.clock.now().timestamp() - 30 * 86_400;
    assert_eq!(d.store.prune_items(cutoff, 100).await.unwrap().deleted, 1);
    assert!(d.store.latest_evidence(held_item).await.unwrap().is_some());
    assert!(d.store.latest_evidence(loose).await.unwrap().is_none());
    assert_eq!(d.store.evidence_backlog().await.unwrap().0, 0);
    assert_eq!(files(&dir), before);
    for (name, _) in &before {
        assert_warcio_passes(&dir.join(name));
    }
}
