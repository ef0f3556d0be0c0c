//! WARC/1.1 (ISO 28500:2017) records and the files that hold them.
//!
//! Written directly rather than through a crate: the few record types yuqing writes
//! (`warcinfo`, `request`, `response`, `metadata`) are a header block and bytes, and the
//! one maintained crate (`warc`) would add a dependency for what is forty lines here,
//! without the per-record gzip members and append-only rotation that this needs anyway.
//!
//! Each record is its own gzip member, so a file is a concatenation that `warcio`, pywb and
//! ReplayWeb.page read record by record, and a byte range of whole members (one capture's
//! records) can be copied into an export as it is. Digests are SHA-1 in base32
//! (`sha1:…`), as warcio writes and checks them. A file is opened with `create_new` and
//! only appended to; a capture whose write fails is cut off again (the file keeps only whole
//! records) and the next capture begins a new file.

use chrono::{DateTime, Utc};
use flate2::write::GzEncoder;
use flate2::Compression;
use sha1::{Digest, Sha1};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// One HTTP request and its response, as sent and received.
#[derive(Debug, Clone, Copy)]
pub struct HopRecord<'a> {
    pub url: &'a str,
    /// When the request was sent.
    pub at: DateTime<Utc>,
    pub ip: Option<IpAddr>,
    /// `GET /path HTTP/1.1\r\nHost: …\r\n\r\n`, as sent.
    pub request_head: &'a [u8],
    /// `HTTP/1.1 200 OK\r\n…\r\n\r\n`, consistent with `body`.
    pub response_head: &'a [u8],
    pub body: &'a [u8],
}

/// What ties a capture to the daemon's record: written as the capture's `metadata` record.
#[derive(Debug, Clone, Default)]
pub struct CaptureMeta {
    pub item_id: i64,
    /// The incidents holding the item when it was captured.
    pub incidents: Vec<i64>,
    pub source_id: String,
    /// The version of the item's page this capture is (1 for the first).
    pub version: i64,
    /// The item's link, as the feed gave it (the first hop's URL may differ by redirects).
    pub link: String,
    /// The article's title and the payload's SHA-256, as stored with the evidence row.
    pub title: String,
    pub sha256: String,
}

/// Where a capture's records went: `length` bytes at `offset` of `file` (a name inside the
/// evidence folder), whole gzip members.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub file: String,
    pub offset: u64,
    pub length: u64,
}

/// Why records could not be written, naming the file or folder.
#[derive(Debug, thiserror::Error)]
pub enum WarcError {
    #[error("cannot create the evidence folder {}: {source}", path.display())]
    Folder {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot create the WARC file {}: {source}", path.display())]
    Create {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write the WARC file {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The value of a `WARC-*-Digest` field: `sha1:` and the digest in base32.
pub fn sha1_digest(bytes: &[u8]) -> String {
    format!("sha1:{}", base32(&Sha1::digest(bytes)))
}

/// RFC 4648 base32, upper case, padded (a SHA-1 of 20 bytes needs no padding).
fn base32(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    for chunk in bytes.chunks(5) {
        let mut buf = [0u8; 5];
        buf[..chunk.len()].copy_from_slice(chunk);
        let n = buf.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
        let chars = (chunk.len() * 8).div_ceil(5);
        for i in 0..8 {
            if i < chars {
                out.push(ALPHABET[((n >> (35 - 5 * i)) & 31) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A record id, `<urn:uuid:…>`, unique across processes and restarts: a hash of this
/// process, the instant and a counter, in the shape of a random (version 4) UUID.
pub fn record_id() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let mut h = sha2::Sha256::new();
    sha2::Digest::update(&mut h, crate::store::leases::identity().as_bytes());
    sha2::Digest::update(&mut h, nanos.to_le_bytes());
    sha2::Digest::update(&mut h, n.to_le_bytes());
    let mut b: [u8; 16] = sha2::Digest::finalize(h)[..16]
        .try_into()
        .expect("16 of 32 bytes");
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex = hex::encode(b);
    format!(
        "<urn:uuid:{}-{}-{}-{}-{}>",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

fn warc_date(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// One record, gzipped as a member of its own. `fields` come after WARC-Type,
/// WARC-Record-ID and WARC-Date; Content-Length and WARC-Block-Digest are added here.
pub fn record(
    kind: &str,
    id: &str,
    at: DateTime<Utc>,
    fields: &[(&str, String)],
    block: &[u8],
) -> Vec<u8> {
    let mut head = format!(
        "WARC/1.1\r\nWARC-Type: {kind}\r\nWARC-Record-ID: {id}\r\nWARC-Date: {}\r\n",
        warc_date(at)
    );
    for (name, value) in fields {
        // A value from the web (a URL) never breaks the header block.
        let value: String = value.chars().filter(|c| !c.is_control()).collect();
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!(
        "WARC-Block-Digest: {}\r\nContent-Length: {}\r\n\r\n",
        sha1_digest(block),
        block.len()
    ));
    let mut gz = GzEncoder::new(
        Vec::with_capacity(block.len() / 3 + head.len()),
        Compression::default(),
    );
    // Writing into a Vec cannot fail.
    let _ = gz.write_all(head.as_bytes());
    let _ = gz.write_all(block);
    let _ = gz.write_all(b"\r\n\r\n");
    gz.finish().unwrap_or_default()
}

/// A `warcinfo` record: what wrote the file.
pub fn warcinfo(id: &str, at: DateTime<Utc>, filename: &str, about: &str) -> Vec<u8> {
    let block = format!(
        "software: yuqing/{}\r\nformat: WARC File Format 1.1\r\n\
         conformsTo: http://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/\r\n\
         description: {about}\r\n",
        env!("CARGO_PKG_VERSION")
    );
    record(
        "warcinfo",
        id,
        at,
        &[
            ("WARC-Filename", filename.to_string()),
            ("Content-Type", "application/warc-fields".to_string()),
        ],
        block.as_bytes(),
    )
}

/// The records of one capture: a `request` and a `response` per hop (redirects included,
/// in order), then one `metadata` record that names the item and its incidents.
pub fn capture_records(hops: &[HopRecord<'_>], meta: &CaptureMeta, warcinfo_id: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let mut last_response = None;
    for hop in hops {
        let response_id = record_id();
        let request_id = record_id();
        let mut block = Vec::with_capacity(hop.response_head.len() + hop.body.len());
        block.extend_from_slice(hop.response_head);
        block.extend_from_slice(hop.body);
        let mut fields = vec![
            ("WARC-Target-URI", hop.url.to_string()),
            ("WARC-Warcinfo-ID", warcinfo_id.to_string()),
        ];
        if let Some(ip) = hop.ip {
            fields.push(("WARC-IP-Address", ip.to_string()));
        }
        let mut request_fields = fields.clone();
        request_fields.push(("WARC-Concurrent-To", response_id.clone()));
        request_fields.push((
            "Content-Type",
            "application/http;msgtype=request".to_string(),
        ));
        out.extend(record(
            "request",
            &request_id,
            hop.at,
            &request_fields,
            hop.request_head,
        ));
        let mut response_fields = fields;
        response_fields.push(("WARC-Payload-Digest", sha1_digest(hop.body)));
        response_fields.push((
            "Content-Type",
            "application/http;msgtype=response".to_string(),
        ));
        out.extend(record(
            "response",
            &response_id,
            hop.at,
            &response_fields,
            &block,
        ));
        last_response = Some((response_id, hop.url, hop.at));
    }
    let incidents = meta
        .incidents
        .iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    let one_line = |s: &str| -> String { s.chars().filter(|c| !c.is_control()).collect() };
    let block = format!(
        "item-id: {}\r\nincident-ids: {}\r\nsource-id: {}\r\nversion: {}\r\nlink: {}\r\n\
         title: {}\r\npayload-sha256: {}\r\n",
        meta.item_id,
        incidents,
        one_line(&meta.source_id),
        meta.version,
        one_line(&meta.link),
        one_line(&meta.title),
        meta.sha256,
    );
    let (refers, url, at) = match last_response {
        Some((id, url, at)) => (Some(id), url.to_string(), at),
        None => (None, meta.link.clone(), Utc::now()),
    };
    let mut fields = vec![
        ("WARC-Target-URI", url),
        ("WARC-Warcinfo-ID", warcinfo_id.to_string()),
        ("Content-Type", "application/warc-fields".to_string()),
    ];
    if let Some(r) = refers {
        fields.push(("WARC-Refers-To", r));
    }
    out.extend(record(
        "metadata",
        &record_id(),
        at,
        &fields,
        block.as_bytes(),
    ));
    out
}

/// The evidence folder's files: one open for appending, begun anew past a size, on a new
/// local day, and at each daemon start.
pub struct Writer {
    dir: PathBuf,
    max_bytes: u64,
    daily: bool,
    tz: chrono_tz::Tz,
    open: Option<OpenFile>,
}

struct OpenFile {
    file: File,
    name: String,
    len: u64,
    day: chrono::NaiveDate,
    warcinfo_id: String,
}

/// Files begun by this process, so that two begun in one second get different names.
static FILES: AtomicU64 = AtomicU64::new(0);

impl Writer {
    pub fn new(dir: &Path, max_bytes: u64, daily: bool, tz: chrono_tz::Tz) -> Writer {
        Writer {
            dir: dir.to_path_buf(),
            max_bytes,
            daily,
            tz,
            open: None,
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Appends one capture's records (`capture_records`) at `now`, with its file's
    /// `warcinfo` first when a new file is begun; flushed to disk before it returns, so a
    /// stored evidence row never points at records a crash could lose.
    pub fn write(
        &mut self,
        hops: &[HopRecord<'_>],
        meta: &CaptureMeta,
        now: DateTime<Utc>,
    ) -> Result<Written, WarcError> {
        let day = now.with_timezone(&self.tz).date_naive();
        let stale = self
            .open
            .as_ref()
            .is_some_and(|f| f.len >= self.max_bytes || (self.daily && f.day != day));
        if stale {
            self.open = None;
        }
        if self.open.is_none() {
            self.open = Some(self.begin(now, day)?);
        }
        let open = self.open.as_mut().expect("opened above");
        let bytes = capture_records(hops, meta, &open.warcinfo_id);
        let offset = open.len;
        let path = self.dir.join(&open.name);
        let written = open
            .file
            .write_all(&bytes)
            .and_then(|()| open.file.sync_data());
        match written {
            Ok(()) => {
                open.len += bytes.len() as u64;
                Ok(Written {
                    file: open.name.clone(),
                    offset,
                    length: bytes.len() as u64,
                })
            }
            Err(source) => {
                // Keep only whole records: cut the partial capture off, and begin a new file
                // next time (this one may be on a disk that is full).
                let _ = open.file.set_len(offset);
                self.open = None;
                Err(WarcError::Write { path, source })
            }
        }
    }

    fn begin(&self, now: DateTime<Utc>, day: chrono::NaiveDate) -> Result<OpenFile, WarcError> {
        std::fs::create_dir_all(&self.dir).map_err(|source| WarcError::Folder {
            path: self.dir.clone(),
            source,
        })?;
        loop {
            let n = FILES.fetch_add(1, Ordering::Relaxed);
            let name = format!(
                "yuqing-{}-{}-{n:04}.warc.gz",
                now.format("%Y%m%d%H%M%S"),
                std::process::id()
            );
            let path = self.dir.join(&name);
            let mut file = match OpenOptions::new().append(true).create_new(true).open(&path) {
                Ok(f) => f,
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(source) => return Err(WarcError::Create { path, source }),
            };
            let warcinfo_id = record_id();
            let info = warcinfo(
                &warcinfo_id,
                now,
                &name,
                "pages of monitored items kept as evidence by yuqing (舆情)",
            );
            if let Err(source) = file.write_all(&info).and_then(|()| file.sync_data()) {
                drop(file);
                let _ = std::fs::remove_file(&path);
                return Err(WarcError::Write { path, source });
            }
            return Ok(OpenFile {
                file,
                name,
                len: info.len() as u64,
                day,
                warcinfo_id,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base32_is_rfc_4648() {
        assert_eq!(base32(b""), "");
        assert_eq!(base32(b"f"), "MY======");
        assert_eq!(base32(b"fo"), "MZXQ====");
        assert_eq!(base32(b"foobar"), "MZXW6YTBOI======");
        // warcio's digest of an empty payload.
        assert_eq!(sha1_digest(b""), "sha1:3I42H3S6NNFQ2MSVX7XZKYAYSCX5QBYJ");
    }

    #[test]
    fn record_ids_are_uuids_and_differ() {
        let a = record_id();
        let b = record_id();
        assert_ne!(a, b);
        assert!(a.starts_with("<urn:uuid:") && a.ends_with('>'), "{a}");
        assert_eq!(a.len(), "<urn:uuid:>".len() + 36);
    }
}
