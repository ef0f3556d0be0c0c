//! How long an item's fields may be once parsed.
//!
//! The 10 MiB body cap bounds one download, not what an item costs afterwards: one title
//! of 5 MB was copied into the store, normalized (NFKC, 繁→简), hashed and classified, and
//! held the process at 270–280 MB; four such sources peaked at 692 MB and held the write
//! lock long enough to stall every other source (issue 16). A real title is under a
//! hundred characters and a summary a few thousand, so each field is cut on a character
//! boundary, with a mark where the cut is, before anything else touches it.

use crate::fetch::feed::Entry;

/// A title longer than this (in bytes, about 680 Chinese characters) is cut.
pub const MAX_TITLE: usize = 2 * 1024;
/// A summary (or a followed page's text) longer than this is cut.
pub const MAX_SUMMARY: usize = 32 * 1024;
/// A link longer than this is dropped rather than cut (a cut URL leads elsewhere); the
/// same limit as a source's own URL.
pub const MAX_LINK: usize = 8 * 1024;
/// Ends a cut title or summary, so a reader of the mail or the console knows.
pub const CUT_MARK: &str = "…〔过长，已截断〕";

/// `entry` with each field within its bound; says in the log what was cut and where.
pub fn bound(mut entry: Entry) -> Entry {
    if let Some(at) = cut(&mut entry.title, MAX_TITLE) {
        tracing::info!(
            field = "title",
            kept_bytes = at,
            "an item's title is too long; cut"
        );
    }
    if let Some(at) = cut(&mut entry.summary, MAX_SUMMARY) {
        tracing::info!(
            field = "summary",
            kept_bytes = at,
            "an item's summary is too long; cut"
        );
    }
    if entry.link.as_ref().is_some_and(|l| l.len() > MAX_LINK) {
        tracing::info!(field = "link", "an item's link is too long; left out");
        entry.link = None;
    }
    if entry.guid.as_ref().is_some_and(|g| g.len() > MAX_LINK) {
        // The id only dedupes; the entry is then known by its link or its content hash.
        entry.guid = None;
    }
    entry
}

/// Cuts `text` to at most `max` bytes on a character boundary and marks the cut; returns
/// the bytes kept, or `None` when it fit. The storage is given back.
pub fn cut(text: &mut String, max: usize) -> Option<usize> {
    if text.len() <= max {
        return None;
    }
    let at = crate::vocab::text::head(text, max).len();
    text.truncate(at);
    text.push_str(CUT_MARK);
    text.shrink_to_fit();
    Some(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_cut_on_a_character_boundary_with_a_mark() {
        let entry = Entry {
            guid: Some("g".into()),
            link: Some(format!("https://a.cn/{}", "x".repeat(MAX_LINK))),
            title: "景".repeat(MAX_TITLE), // three bytes each
            summary: "正常摘要".into(),
            published: None,
        };
        let e = bound(entry);
        assert!(e.title.ends_with(CUT_MARK));
        let kept = e.title.strip_suffix(CUT_MARK).unwrap();
        assert!(kept.len() <= MAX_TITLE && kept.len() > MAX_TITLE - 3);
        assert!(kept.chars().all(|c| c == '景'));
        assert_eq!(e.summary, "正常摘要");
        assert_eq!(e.link, None);
        assert_eq!(e.guid.as_deref(), Some("g"));
        assert!(
            e.title.capacity() < MAX_TITLE + 64,
            "the storage is given back"
        );
    }
}
