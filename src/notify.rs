//! What people are told: the Chinese mail texts (incidents, duties, reports), the
//! 考核 report, and the outbox sender that delivers them; and the instant messages
//! (WeCom, DingTalk, Feishu robots, a webhook, SMS) that go with the alerts.

pub mod alert;
pub mod briefing;
pub mod briefing_charts;
pub mod dingtalk;
pub mod dispatch;
pub mod duty_mail;
pub mod feishu;
#[cfg(test)]
mod fixtures;
pub mod im;
pub mod mail;
pub mod operator_mail;
pub mod outbox;
pub mod report;
pub mod robot;
pub mod sms;
pub mod spread;
pub mod webhook;
pub mod wecom;
