//! One poll of a monitored source (items, classified) or of one of the agency's own
//! channels (posts), with the source's health and the operators' mail; `hosts`: the hosts
//! whose sources cannot all be polled within their intervals, mailed once.

pub mod calendar;
pub mod channel;
pub mod hosts;
pub mod source;
