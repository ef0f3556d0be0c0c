//! yuqing (舆情): hears public opinion about an agency in time and makes sure it is answered
//! within the law's deadlines. See ARCHITECTURE.md for the map of modules.

pub mod calendar;
pub mod charset;
pub mod chinese_date;
pub mod classify;
pub mod cli;
pub mod cli_lifecycle;
pub mod clock;
pub mod config;
pub mod deadline;
pub mod demo;
pub mod diagnostic;
pub mod duration;
pub mod escalation;
pub mod feed;
pub mod fetch;
pub mod grouping;
pub mod incident;
pub mod mail;
pub mod normalize;
pub mod outbox;
pub mod page;
pub mod politeness;
pub mod report;
pub mod scheduler;
pub mod settings;
pub mod severity;
pub mod source;
pub mod store;
pub mod watchlist;
