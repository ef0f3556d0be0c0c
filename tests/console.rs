//! The duty console over HTTP, as a duty officer, a leader and an operator use it: a real
//! server on loopback, a real SQLite file (and PostgreSQL when `YUQING_TEST_POSTGRES` is
//! set), time from a manual clock. The harness is `common::console`; the stories are
//! grouped by what they are about: logging in, sessions and what a hostile page or feed
//! cannot do, the incident page's actions, the reading pages, the live stream, and setting
//! the console up from the command line.

mod incidents;
mod live;
mod pages;
mod security;
mod setup;
