//! `yuqing article URL [--json]`: one page read as the daemon reads an article, with its
//! own fetcher (limits, redirects, user agent) and charset rules: the title, when it was
//! published, the byline and source, and the body as plain text. The way to check what the
//! daemon will keep of a page, and why its time or body reads as it does.

use super::{load_config, or_exit, CommandClock, ConfigArg};
use crate::fetch::article::{self, Article};
use crate::fetch::exchange::Exchange;
use crate::fetch::{FetchError, FetchSettings, Fetcher};
use crate::vocab::clock::Clock;
use crate::vocab::text::for_terminal;
use anyhow::Result;
use chrono_tz::Tz;
use std::io::Write;
use std::process::ExitCode;

/// Fetches and reads `url`; exit 0 with the article, 1 when the page could not be fetched
/// or holds no article, 2 when `url` is not an HTTP link.
pub async fn read(c: &ConfigArg, url: &str, json: bool) -> Result<ExitCode> {
    let config = or_exit!(load_config(c));
    let tz = config.daemon.timezone;
    let (exchange, a) = or_exit!(fetch(&config, url).await?);
    let mut out = std::io::stdout();
    let written = if json {
        let value = serde_json::json!({
            "url": exchange.url,
            "final_url": exchange.final_url,
            "title": a.title,
            "published": a.published.map(|t| t.with_timezone(&tz).to_rfc3339()),
            "byline": a.byline,
            "site": a.site,
            "text": a.text,
        });
        writeln!(out, "{}", serde_json::to_string_pretty(&value)?)
    } else {
        write!(
            out,
            "{}",
            for_terminal(&as_text(&a, &exchange.url, &exchange.final_url, tz))
        )
    };
    if written.is_err() {
        // A closed pipe (`yuqing article URL | head`) is not an error.
        return Ok(ExitCode::SUCCESS);
    }
    Ok(ExitCode::SUCCESS)
}

/// Fetches `url` and reads its article, or says on stderr why not and gives the exit code:
/// 2 for a link that is not HTTP, 1 for a page that cannot be fetched or read.
pub(super) async fn fetch(
    config: &crate::config::Config,
    url: &str,
) -> Result<Result<(Exchange, Article), ExitCode>> {
    let tz = config.daemon.timezone;
    let fetcher = Fetcher::new(FetchSettings::new(config.daemon.user_agent.clone()))?;
    let now = CommandClock.now();
    let exchange = match fetcher.exchange(url, now).await {
        Ok(x) => x,
        Err(e) => {
            let code = match e {
                FetchError::NotHttp { .. } | FetchError::Other(_) => 2,
                _ => 1,
            };
            eprintln!(
                "error: {}（{}）",
                crate::fetch::failure_zh(&e.to_string()),
                e
            );
            return Ok(Err(ExitCode::from(code)));
        }
    };
    let status = exchange.status();
    if !(200..300).contains(&status) {
        eprintln!(
            "error: {} 返回 HTTP {status}，没有可读的文章",
            for_terminal(&exchange.final_url)
        );
        return Ok(Err(ExitCode::from(1)));
    }
    let content_type = exchange.content_type();
    let read = article::read(
        exchange.body(),
        content_type.as_deref(),
        &exchange.final_url,
        now,
        tz,
    );
    match read {
        Ok(a) => Ok(Ok((exchange, a))),
        Err(e) => {
            eprintln!("error: {}：{e}", for_terminal(&exchange.final_url));
            Ok(Err(ExitCode::from(1)))
        }
    }
}

/// The article for a person: a few labelled lines, a blank line, the body.
fn as_text(a: &Article, url: &str, final_url: &str, tz: Tz) -> String {
    let mut s = format!("标题：{}\n", a.title);
    match a.published {
        Some(t) => {
            s += &format!(
                "发布时间：{}\n",
                t.with_timezone(&tz).format("%Y-%m-%d %H:%M:%S %:z")
            )
        }
        None => s += "发布时间：未找到\n",
    }
    if let Some(b) = &a.byline {
        s += &format!("作者：{b}\n");
    }
    if let Some(site) = &a.site {
        s += &format!("来源：{site}\n");
    }
    s += &format!("网址：{final_url}\n");
    if final_url != url {
        s += &format!("（由 {url} 跳转）\n");
    }
    s += "\n";
    s += &a.text;
    s += "\n";
    s
}
