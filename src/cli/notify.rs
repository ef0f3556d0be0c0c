//! `yuqing notify test ID`: one test message through a notifier, outside the outbox, and
//! what the service answered — the way to check a `[[notify]]` after setting it up or
//! after the operators were told it refuses messages.

use super::{load_config, or_exit, ConfigArg};
use crate::notify::dispatch::Dispatcher;
use crate::notify::im::Outcome;
use crate::vocab::clock::Clock;
use anyhow::Result;
use std::io::Write;
use std::process::ExitCode;

/// Sends the test message; exit 0 when the service accepted it, 1 when it did not, 2 when
/// the config names no such notifier.
pub async fn test(c: &ConfigArg, id: &str) -> Result<ExitCode> {
    let config = or_exit!(load_config(c));
    let Some(n) = config.notify.get(id) else {
        let known: Vec<&str> = config.notify.list.iter().map(|n| n.id.as_str()).collect();
        return Ok(super::unknown(c, "[[notify]]", id, &known));
    };
    let dispatcher = Dispatcher::new(&config)?;
    let result = dispatcher
        .test(&config, n, crate::cli::CommandClock.now())
        .await;
    let mut out = std::io::stdout();
    let head = format!("{}（{}，{}）", n.id, n.kind.zh(), n.url.describe());
    // The verdict in Chinese for the operator; the service's own error and answer as it
    // sent them, for looking up its error code.
    let (line, answer, ok) = match &result.outcome {
        Outcome::Delivered { answer } => ("已送达".to_string(), Some(answer.clone()), true),
        Outcome::Retry { error, answer, .. } => (
            format!("未送达，稍后会重试（暂时性故障）：{error}"),
            answer.clone(),
            false,
        ),
        Outcome::Permanent { error, answer } => (
            format!("被拒收（请检查地址、密钥、关键词或 IP 白名单）：{error}"),
            answer.clone(),
            false,
        ),
        Outcome::Unexpected { error, answer } => {
            (format!("答复无法识别：{error}"), answer.clone(), false)
        }
    };
    let _ = writeln!(out, "{head}：{line}");
    if let Some(a) = answer {
        let _ = writeln!(out, "服务答复：{a}");
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
