//! Evidence (取证): the page behind an item, kept in the web archives' standard format and
//! watched for deletion and edits (issue 23).
//!
//! After a poll has stored an item and queued its alert, the capture of its page is a row
//! due at once (`store::evidence`); the daemon claims such rows apart from the polls, so a
//! capture never delays an alert. A capture fetches the link politely (the polls' host
//! gate), writes the exchange as WARC/1.1 records (`warc`), extracts the article's text and
//! stores a version of the evidence. Rechecks of an open incident's pages tell the duty
//! officer when a post was deleted or edited.

pub mod capture;
pub mod export;
pub mod verdict;
pub mod warc;
