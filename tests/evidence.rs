//! Evidence (issue 23): WARC files checked by the real `warcio check`, and the store's rows
//! of captures and of the work of capturing, on SQLite and PostgreSQL.

use crate::common;
use chrono::TimeZone;
use std::path::Path;
use yuqing::evidence::warc::{CaptureMeta, HopRecord, Writer};
use yuqing::store::{EvidenceWork, NewEvidence, Store};
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
    assert!(
        text.contains("item-id: 12\r\nincident-ids: 3\r\n"),
        "{text}"
    );
    assert!(
        text.contains("title: 某景区栈道坍塌X-Injected: 1\r\n"),
        "{text}"
    );
    assert!(text.contains("WARC-Payload-Digest: sha1:"), "{text}");
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
        yuqing::store::Stored::New(id) => id,
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
