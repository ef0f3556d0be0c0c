//! `yuqing evidence export ID --out FILE.warc.gz`: one WARC file with every record of an
//! incident's items, every version, and a manifest beside it (issue 23 §5).
//!
//! The records are copied byte for byte from the evidence folder (each capture is a range
//! of whole gzip members), after a `warcinfo` record of the export's own, so their digests
//! are the ones written at capture. Before a range is copied its payload is checked against
//! the SHA-256 the database holds: an archive file edited since is refused, not exported.
//! The manifest (`FILE.manifest.csv`, UTF-8 with a byte order mark for Excel) lists each
//! version: item, URL, captured_at, checked_at, state, the payload's SHA-256, and where its
//! records start in the export.

use super::warc;
use crate::store::EvidenceRow;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use sha2::{Digest, Sha256};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// What an export wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exported {
    pub warc: PathBuf,
    pub manifest: PathBuf,
    /// Versions whose records were copied.
    pub versions: usize,
    /// Versions without records (the page could not be fetched, or the folder not written):
    /// listed in the manifest with their error.
    pub without_records: usize,
}

/// Why an export failed, naming the file.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("{} already exists; give another --out (an export never overwrites a file)", .0.display())]
    Exists(PathBuf),
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot read the records of item {item} version {version} from {}: {source}", path.display())]
    Read {
        item: i64,
        version: i64,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "the records of item {item} version {version} in {} do not hold the page whose \
         SHA-256 the database recorded ({expected}); the archive file was changed or damaged",
        path.display()
    )]
    Mismatch {
        item: i64,
        version: i64,
        path: PathBuf,
        expected: String,
    },
}

/// The manifest's path beside `out`: `x.warc.gz` → `x.manifest.csv`.
pub fn manifest_path(out: &Path) -> PathBuf {
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem = name
        .strip_suffix(".warc.gz")
        .or_else(|| name.strip_suffix(".gz"))
        .unwrap_or(&name);
    out.with_file_name(format!("{stem}.manifest.csv"))
}

/// The export of `rows` (an incident's versions, by item then version) from the files
/// under `dir`, in memory: the WARC file named `name`, and its manifest.
pub struct Bundle {
    pub warc: Vec<u8>,
    pub manifest: Vec<u8>,
    pub versions: usize,
    pub without_records: usize,
}

/// Reads and checks every version's records (see the module's note) into a [`Bundle`].
pub fn bundle(
    incident: i64,
    rows: &[EvidenceRow],
    dir: &Path,
    name: &str,
    tz: Tz,
    now: DateTime<Utc>,
) -> Result<Bundle, ExportError> {
    // Everything is read and checked before a byte is written.
    let mut ranges: Vec<Option<Vec<u8>>> = Vec::with_capacity(rows.len());
    for r in rows {
        ranges.push(records_of(r, dir)?);
    }
    let mut body = warc::warcinfo(
        &warc::record_id(),
        now,
        name,
        &format!(
            "evidence of incident #{incident} exported by yuqing (舆情事件 #{incident} 证据导出)"
        ),
    );
    let mut csv = csv::Writer::from_writer(vec![0xEF, 0xBB, 0xBF]);
    let header = [
        "item",
        "version",
        "url",
        "final_url",
        "captured_at",
        "checked_at",
        "state",
        "sha256",
        "offset",
        "error",
    ];
    let _ = csv.write_record(header);
    let time = |t: i64| {
        crate::vocab::clock::from_secs(t)
            .with_timezone(&tz)
            .to_rfc3339()
    };
    let (mut versions, mut without) = (0, 0);
    for (r, bytes) in rows.iter().zip(ranges) {
        let offset = match bytes {
            Some(b) => {
                versions += 1;
                let at = body.len();
                body.extend_from_slice(&b);
                at.to_string()
            }
            None => {
                without += 1;
                String::new()
            }
        };
        let _ = csv.write_record([
            r.item_id.to_string(),
            r.version.to_string(),
            r.url.clone(),
            r.final_url.clone().unwrap_or_default(),
            time(r.captured_at),
            time(r.checked_at),
            r.state.as_str().to_string(),
            r.sha256.clone().unwrap_or_default(),
            offset,
            r.error.clone().unwrap_or_default(),
        ]);
    }
    Ok(Bundle {
        warc: body,
        manifest: csv.into_inner().unwrap_or_default(),
        versions,
        without_records: without,
    })
}

/// Writes the [`bundle`] of `rows` into `out` and the manifest beside it; neither file may
/// exist.
pub fn export(
    incident: i64,
    rows: &[EvidenceRow],
    dir: &Path,
    out: &Path,
    tz: Tz,
    now: DateTime<Utc>,
) -> Result<Exported, ExportError> {
    let manifest = manifest_path(out);
    for p in [out, manifest.as_path()] {
        if p.exists() {
            return Err(ExportError::Exists(p.to_path_buf()));
        }
    }
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let b = bundle(incident, rows, dir, &name, tz, now)?;
    let create = |p: &Path, bytes: &[u8]| -> Result<(), ExportError> {
        let write_err = |source| ExportError::Write {
            path: p.to_path_buf(),
            source,
        };
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(p)
            .map_err(write_err)?;
        f.write_all(bytes)
            .and_then(|()| f.sync_all())
            .map_err(write_err)
    };
    create(out, &b.warc)?;
    create(&manifest, &b.manifest)?;
    Ok(Exported {
        warc: out.to_path_buf(),
        manifest,
        versions: b.versions,
        without_records: b.without_records,
    })
}

/// The bytes of a version's records, checked against its payload digest; `None` for a
/// version that has none.
fn records_of(r: &EvidenceRow, dir: &Path) -> Result<Option<Vec<u8>>, ExportError> {
    let (Some(file), Some(offset), Some(length)) = (&r.warc_file, r.warc_offset, r.warc_length)
    else {
        return Ok(None);
    };
    let path = dir.join(file);
    let read_err = |source| ExportError::Read {
        item: r.item_id,
        version: r.version,
        path: path.clone(),
        source,
    };
    let mut f = std::fs::File::open(&path).map_err(read_err)?;
    f.seek(SeekFrom::Start(offset.max(0) as u64))
        .map_err(read_err)?;
    let mut bytes = vec![0u8; length.max(0) as usize];
    f.read_exact(&mut bytes).map_err(read_err)?;
    if let Some(expected) = &r.sha256 {
        if !holds_payload(&bytes, expected) {
            return Err(ExportError::Mismatch {
                item: r.item_id,
                version: r.version,
                path,
                expected: expected.clone(),
            });
        }
    }
    Ok(Some(bytes))
}

/// Whether the last `response` record among `bytes` (whole gzip members) carries a payload
/// of SHA-256 `expected`.
fn holds_payload(bytes: &[u8], expected: &str) -> bool {
    let mut text = Vec::new();
    if flate2::read::MultiGzDecoder::new(bytes)
        .read_to_end(&mut text)
        .is_err()
    {
        return false;
    }
    // Records: `WARC/1.1` header block, CRLFCRLF, Content-Length bytes, CRLFCRLF.
    let mut at = 0;
    let mut payload: Option<&[u8]> = None;
    while let Some(end) = find(&text[at..], b"\r\n\r\n") {
        let head = String::from_utf8_lossy(&text[at..at + end]);
        let length: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("Content-Length: "))
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or(0);
        let block_start = at + end + 4;
        let Some(block) = text.get(block_start..block_start + length) else {
            return false;
        };
        if head.contains("WARC-Type: response") {
            payload = find(block, b"\r\n\r\n").map(|h| &block[h + 4..]);
        }
        at = block_start + length + 4;
        if at >= text.len() {
            break;
        }
    }
    payload.is_some_and(|p| hex::encode(Sha256::digest(p)) == expected)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}
