//! What people are told: the Chinese mail texts (incidents, duties, reports), the
//! 考核 report, and the outbox sender that delivers them.

pub mod duty_mail;
pub mod mail;
pub mod outbox;
pub mod report;
