//! The law as pure functions: the 5h / 24h / 48h deadlines, the working-day calendar and
//! its obligations, the publication duties of the agency's own channels and the
//! escalation policy. Values in, values out; no input or output and no clock reads.
//!
//! Imports only `vocab`.

pub mod cadence;
pub mod calendar;
pub mod deadline;
pub mod duty;
pub mod escalation;
pub mod jobs;
pub mod lag;
pub mod surge;
