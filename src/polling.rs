//! One poll of a monitored source (items, classified) or of one of the agency's own
//! channels (posts), with the source's health and the operators' mail.

pub mod calendar;
pub mod channel;
pub mod source;
