//! yuqing (舆情): hears public opinion about an agency in time and makes sure it is answered
//! within the law's deadlines. See ARCHITECTURE.md for the map of modules.
//!
//! The modules are floors, declared here lowest first; each imports only from the floors
//! below it (`tests/layers.rs` reads this file and enforces it).

// 0. The words of the domain: severity, spans, the clock, ids, states, diagnostics.
pub mod vocab;
// 1. The law as pure functions: deadlines, working days, duties, escalation, surge, jobs.
pub mod rules;
// 2. Watchlists, normalizing, matching; which incident an item joins (grouping).
pub mod classify;
// 3. Files to a typed `Config`; the settings swapped as one on reload.
pub mod config;
// 4. The only SQL.
pub mod store;
// 5. HTTP, politeness, charsets, feed and page parsing, Chinese dates.
pub mod fetch;
// 6. What people are told: mail texts, the 考核 report, the outbox sender.
pub mod notify;
// 7. Incidents: open or join, actions, timers, lifecycle, merge and split, releases.
pub mod incident;
// 8. Publication duties of the agency's own channels: alerts and scheduled reports.
pub mod obligations;
// 9. Evidence: the pages of items kept as WARC records, checked again for deletion and edits.
pub mod evidence;
// 10. One poll of a source or an own channel: items or posts, health.
pub mod polling;
// 11. The duty console: pages, sessions and roles over the store and the workflows.
pub mod web;
// 12. The loop, reload and shutdown, /metrics and /healthz, systemd.
pub mod daemon;
// 13. Commands and output formats.
pub mod cli;
