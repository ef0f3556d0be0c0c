//! yuqing (舆情): hears public opinion about an agency in time and makes sure it is answered
//! within the law's deadlines. See ARCHITECTURE.md for the map of modules.

pub mod calendar;
pub mod channel;
pub mod charset;
pub mod chinese_date;
pub mod classify;
pub mod cli;
pub mod clock;
pub mod config;
pub mod deadline;
pub mod demo;
pub mod diagnostic;
pub mod duration;
pub mod duty;
pub mod duty_mail;
pub mod feed;
pub mod fetch;
pub mod incident;
pub mod jobs;
pub mod mail;
pub mod metrics;
pub mod normalize;
pub mod obligations;
pub mod outbox;
pub mod page;
pub mod politeness;
pub mod report;
pub mod scheduler;
pub mod settings;
pub mod severity;
pub mod source;
pub mod store;
pub mod systemd;
pub mod watchlist;
