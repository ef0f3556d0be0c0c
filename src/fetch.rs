//! Fetching a source over HTTP, politely and within bounds, and turning it into entries.
//!
//! The daemon polls dozens of sites every few minutes for months. It must not hammer them
//! (conditional GET with the ETag and Last-Modified they gave, honouring `Retry-After`), must
//! not hang on one that stalls (a total timeout per request, a connect timeout), and must not
//! be taken down by one that misbehaves (a redirect limit, and a size cap enforced while the
//! body streams in, after decompression, so a gzip bomb stops at the cap). Failures come back
//! as [`FetchError`] kinds the scheduler branches on (back off after a 429, retry later after
//! a timeout, alert after a 404) with messages a duty officer can read in the log.
//! [`Fetcher::fetch_source`] is the whole pipeline the poller calls: fetch, decode the
//! charset, parse the feed or list page.

pub mod article;
pub mod bounds;
pub mod charset;
pub mod chinese_date;
pub mod exchange;
pub mod feed;
pub mod links;
pub mod page;
pub mod politeness;

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::StatusCode;
use url::Url;

use crate::config::{Source, SourceKind};
use feed::{Entry, FeedError};
use page::PageError;

/// How the one shared client behaves.
#[derive(Debug, Clone)]
pub struct FetchSettings {
    pub user_agent: String,
    /// Time to establish a TCP (and TLS) connection.
    pub connect_timeout: Duration,
    /// Redirects followed before giving up.
    pub max_redirects: usize,
    /// Largest body accepted, counted after decompression.
    pub max_body: u64,
    /// Time for one whole [`Fetcher::exchange`] (every hop, heads and bodies): a page that
    /// never ends is cut off here.
    pub page_timeout: Duration,
}

impl FetchSettings {
    /// 10s to connect, 5 redirects, 10 MiB, 30s for a page.
    pub fn new(user_agent: impl Into<String>) -> FetchSettings {
        FetchSettings {
            user_agent: user_agent.into(),
            connect_timeout: Duration::from_secs(10),
            max_redirects: 5,
            max_body: 10 * 1024 * 1024,
            page_timeout: Duration::from_secs(30),
        }
    }
}

/// The HTTP client, built once and shared by every poll (it pools connections).
#[derive(Debug, Clone)]
pub struct Fetcher {
    client: reqwest::Client,
    max_body: u64,
    /// The same client without redirects followed, for [`Fetcher::exchange`], which follows
    /// them itself to record each hop.
    page_client: reqwest::Client,
    user_agent: String,
    max_redirects: usize,
    page_timeout: Duration,
}

/// The cache validators a server gave with a body, sent back on the next poll.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

/// What one fetch returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fetched {
    /// 304: nothing changed since the validators were issued.
    NotModified,
    Body {
        bytes: Vec<u8>,
        content_type: Option<String>,
        validators: Validators,
        /// Where redirects ended; relative links resolve against it.
        final_url: Url,
    },
}

/// Why a fetch failed, by what the scheduler should do about it.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FetchError {
    #[error("timed out: the server did not send the whole response in time")]
    Timeout,
    #[error("could not connect: {0}")]
    Connect(String),
    #[error("HTTP {status} {}{}", reason(*status), retry_note(*retry_after))]
    Status {
        status: u16,
        retry_after: Option<Duration>,
    },
    #[error("the response is larger than the {limit}-byte limit; download aborted")]
    TooLarge { limit: u64 },
    #[error("too many redirects (a redirect loop, or a chain longer than the limit)")]
    TooManyRedirects,
    /// A redirect to `file:`, `ftp:` or the like: never followed, and said so rather than
    /// as the bare `HTTP 302 Found` it came with.
    #[error("redirect to a non-HTTP URL refused (HTTP {status} to a `{scheme}:` URL)")]
    NonHttpRedirect { status: u16, scheme: String },
    /// A link that is not `http:` or `https:` (`ftp:`, `javascript:`, `file:`): never fetched.
    #[error("not an HTTP link: `{scheme}:` URLs are not fetched")]
    NotHttp { scheme: String },
    #[error("fetch failed: {0}")]
    Other(String),
}

fn reason(status: u16) -> &'static str {
    StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("(non-standard status)")
}

fn retry_note(retry_after: Option<Duration>) -> String {
    match retry_after {
        Some(d) => format!("; server asks to retry after {}s", d.as_secs()),
        None => String::new(),
    }
}

/// The reason a stored poll error (`SourceError`'s text, as `source_state.last_error`
/// keeps it) gives, in Chinese for the duty console: the raw text (`could not connect:
/// error sending request … dns error`) stays below it as the detail for an operator.
pub fn failure_zh(error: &str) -> String {
    let e = error.to_ascii_lowercase();
    if e.starts_with("timed out") {
        "超时：服务器未在时限内发完答复".into()
    } else if e.starts_with("could not connect") {
        if e.contains("dns") || e.contains("failed to lookup") || e.contains("name or service") {
            "无法连接：域名解析失败（地址写错，或本机无法访问外网 DNS）".into()
        } else if e.contains("refused") {
            "无法连接：对方拒绝连接（服务未启动或端口不对）".into()
        } else if e.contains("certificate") || e.contains("tls") {
            "无法连接：HTTPS 证书或加密握手失败".into()
        } else {
            "无法连接到网站".into()
        }
    } else if let Some(rest) = e.strip_prefix("http ") {
        let code: String = rest.chars().take_while(char::is_ascii_digit).collect();
        match code.as_str() {
            "404" | "410" => format!("网站返回 HTTP {code}：地址已不存在（网站改版或地址写错）"),
            "401" | "403" => {
                format!("网站返回 HTTP {code}：拒绝访问（可能需要登录，或屏蔽了本机）")
            }
            "429" => "网站返回 HTTP 429：访问过于频繁，网站要求放慢".into(),
            c if c.starts_with('5') => format!("网站返回 HTTP {c}：网站故障"),
            c => format!("网站返回 HTTP {c}"),
        }
    } else if e.contains("larger than") {
        "内容超过大小上限，已停止下载".into()
    } else {
        FAILURES_ZH
            .iter()
            .find(|(start, _)| e.starts_with(start))
            .map_or("内容无法读取或解析", |(_, zh)| zh)
            .into()
    }
}

/// The stored poll errors [`failure_zh`] knows by how they begin (lower case), each with
/// its reason in Chinese; checked in this order, after the connection, status and size
/// failures.
const FAILURES_ZH: [(&str, &str); 5] = [
    ("too many redirects", "重定向过多（循环重定向）"),
    ("redirect to a non-http", "重定向到非 HTTP 地址，已拒绝"),
    ("not an http link", "不是 HTTP 链接，不抓取"),
    (
        "the feed lists no entries",
        "订阅源不再列出任何条目（RSS 桥接的登录可能已过期）",
    ),
    (
        "internal error",
        "读取时遇到本系统的内部错误（已记入日志，请报告运维）",
    ),
];

/// A poll that failed, at whichever step.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SourceError {
    #[error(transparent)]
    Fetch(#[from] FetchError),
    #[error(transparent)]
    Feed(#[from] FeedError),
    #[error(transparent)]
    Page(#[from] PageError),
    /// A feed that listed entries on the last poll lists none: a bridge whose login expired,
    /// a template that lost its loop. Decided by the poller, which knows the last count.
    #[error(
        "the feed lists no entries, though it listed {before} on the last poll that read it \
         (an RSS bridge whose login expired, or a broken template); open the URL to check"
    )]
    NoLongerListed { before: i64 },
    /// Reading the answer hit a bug in yuqing or a library it uses (a panic): the poll
    /// fails like any other, is retried, and the operators hear of it if it lasts.
    #[error(
        "internal error while reading the source's answer ({0}); please report it with the log"
    )]
    Internal(String),
}

/// Bodies larger than this are decoded and parsed one at a time (see `fetch_source`).
const LARGE_BODY: usize = 1024 * 1024;
static LARGE_BODIES: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(1);

/// What one poll of a source yielded.
#[derive(Debug, Clone, PartialEq)]
pub enum Polled {
    NotModified,
    Entries {
        entries: Vec<Entry>,
        validators: Validators,
        /// The encoding the body was decoded with (`GBK`, `UTF-8`, `Big5`).
        encoding: &'static str,
        /// For a list page, how many elements the `item` selector matched (0 after a
        /// redesign); `None` for a feed.
        page_items_matched: Option<usize>,
        /// What was damaged but read anyway (malformed XML recovered, a JSON Feed field of
        /// the wrong type), one line each; recorded on the source.
        warnings: Vec<String>,
    },
}

impl Fetcher {
    /// The body of `response`, within `max_body` bytes: one announced longer is refused
    /// unread, one that runs longer as soon as it does.
    async fn body(&self, response: &mut reqwest::Response) -> Result<Vec<u8>, FetchError> {
        let too_large = || FetchError::TooLarge {
            limit: self.max_body,
        };
        let announced = response.content_length().unwrap_or(0);
        if announced > self.max_body {
            return Err(too_large());
        }
        // Sized once when the length is announced: growing by doubling would hold a 10 MB
        // body twice over while it is copied.
        let mut body = Vec::with_capacity(announced as usize);
        while let Some(chunk) = response.chunk().await.map_err(classify)? {
            if body.len() as u64 + chunk.len() as u64 > self.max_body {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }

    pub fn new(settings: FetchSettings) -> Result<Fetcher, FetchError> {
        let client = reqwest::Client::builder()
            .user_agent(settings.user_agent.clone())
            .connect_timeout(settings.connect_timeout)
            .redirect(reqwest::redirect::Policy::limited(settings.max_redirects))
            .build()
            .map_err(|e| FetchError::Other(chain(&e)))?;
        let page_client = reqwest::Client::builder()
            .user_agent(settings.user_agent.clone())
            .connect_timeout(settings.connect_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| FetchError::Other(chain(&e)))?;
        Ok(Fetcher {
            client,
            max_body: settings.max_body,
            page_client,
            user_agent: settings.user_agent,
            max_redirects: settings.max_redirects,
            page_timeout: settings.page_timeout,
        })
    }

    /// GETs `url` with the source's extra headers and the validators of the last body, giving
    /// up after `timeout` in total (connect, headers and body).
    pub async fn fetch(
        &self,
        url: &Url,
        headers: &BTreeMap<String, String>,
        timeout: Duration,
        validators: &Validators,
    ) -> Result<Fetched, FetchError> {
        let request = self
            .client
            .get(url.clone())
            .headers(request_headers(headers, validators)?)
            .timeout(timeout);
        // reqwest's timeout covers the body too; the outer one is a guard that holds even if
        // a future version narrows it.
        match tokio::time::timeout(timeout, self.download(request)).await {
            Ok(result) => result,
            Err(_) => Err(FetchError::Timeout),
        }
    }

    async fn download(&self, request: reqwest::RequestBuilder) -> Result<Fetched, FetchError> {
        let mut response = request.send().await.map_err(classify)?;
        let status = response.status();
        if status == StatusCode::NOT_MODIFIED {
            return Ok(Fetched::NotModified);
        }
        if status.is_redirection() {
            // reqwest follows http(s) redirects itself; one that comes back points elsewhere.
            let scheme = response
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|l| l.to_str().ok())
                .and_then(|l| response.url().join(l.trim()).ok())
                .map(|u| u.scheme().to_string())
                .filter(|s| s != "http" && s != "https");
            if let Some(scheme) = scheme {
                return Err(FetchError::NonHttpRedirect {
                    status: status.as_u16(),
                    scheme: crate::vocab::text::bounded(&scheme, 20).into_owned(),
                });
            }
        }
        if !status.is_success() {
            return Err(FetchError::Status {
                status: status.as_u16(),
                retry_after: retry_after(response.headers()),
            });
        }
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let content_type = header("content-type");
        let validators = Validators {
            etag: header("etag"),
            last_modified: header("last-modified"),
        };
        let final_url = response.url().clone();
        let bytes = self.body(&mut response).await?;
        Ok(Fetched::Body {
            bytes,
            content_type,
            validators,
            final_url,
        })
    }

    /// One poll of `source`: fetch, decode, parse. Dates on the page or in the feed are read
    /// in `tz`, relative ones against `now`.
    #[tracing::instrument(skip_all, fields(source_id = %source.id))]
    pub async fn fetch_source(
        &self,
        source: &Source,
        validators: &Validators,
        now: DateTime<Utc>,
        tz: Tz,
    ) -> Result<Polled, SourceError> {
        let fetched = self
            .fetch(
                &source.url,
                &source.headers,
                source.timeout.std(),
                validators,
            )
            .await?;
        let Fetched::Body {
            bytes,
            content_type,
            validators,
            final_url,
        } = fetched
        else {
            tracing::debug!("not modified");
            return Ok(Polled::NotModified);
        };
        // A body of megabytes is decoded, parsed and cut (copies of it several times over)
        // by one poll at a time: four hostile sites at once cannot stack their copies.
        let _one_at_a_time = match bytes.len() > LARGE_BODY {
            true => Some(LARGE_BODIES.acquire().await),
            false => None,
        };
        let decoded = charset::decode(&bytes, content_type.as_deref());
        if decoded.had_errors {
            tracing::info!(
                encoding = decoded.name(),
                "body has bytes invalid in its encoding; some text is damaged"
            );
        }
        drop(bytes);
        let (entries, page_items_matched, warnings) = match &source.kind {
            SourceKind::Feed => {
                let read = feed::read(&decoded, &final_url, Some((now, tz)))?;
                (read.entries, None, read.warnings)
            }
            SourceKind::Page(selectors) => {
                let items = page::parse(&decoded.text, &final_url, selectors, now, tz)?;
                (items.entries, Some(items.matched), Vec::new())
            }
        };
        let encoding = decoded.name();
        drop(decoded.text);
        let entries: Vec<_> = entries
            .into_iter()
            .map(links::canonical)
            .map(bounds::bound)
            .collect();
        tracing::debug!(entries = entries.len(), encoding, "polled");
        Ok(Polled::Entries {
            entries,
            validators,
            encoding,
            page_items_matched,
            warnings,
        })
    }
}

fn request_headers(
    extra: &BTreeMap<String, String>,
    validators: &Validators,
) -> Result<HeaderMap, FetchError> {
    let mut headers = HeaderMap::new();
    let mut put = |name: &str, value: &str| -> Result<(), FetchError> {
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| FetchError::Other(format!("invalid header name `{name}`")))?;
        let value = HeaderValue::from_str(value)
            .map_err(|_| FetchError::Other(format!("invalid value for header `{name}`")))?;
        headers.insert(name, value);
        Ok(())
    };
    for (name, value) in extra {
        put(name, value)?;
    }
    if let Some(etag) = &validators.etag {
        put("if-none-match", etag)?;
    }
    if let Some(date) = &validators.last_modified {
        put("if-modified-since", date)?;
    }
    Ok(headers)
}

/// `Retry-After: 120` or `Retry-After: <HTTP date>`; a date is measured from the response's
/// own `Date` when present, so a server whose clock is off still gets the wait it meant.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get("retry-after")?.to_str().ok()?.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = DateTime::parse_from_rfc2822(value).ok()?;
    let from = headers
        .get("date")
        .and_then(|d| d.to_str().ok())
        .and_then(|d| DateTime::parse_from_rfc2822(d.trim()).ok())
        .map_or_else(Utc::now, |d| d.with_timezone(&Utc));
    (at.with_timezone(&Utc) - from)
        .to_std()
        .ok()
        .or(Some(Duration::ZERO))
}

fn classify(e: reqwest::Error) -> FetchError {
    if e.is_timeout() {
        FetchError::Timeout
    } else if e.is_redirect() {
        FetchError::TooManyRedirects
    } else if e.is_connect() {
        FetchError::Connect(chain(&e))
    } else {
        FetchError::Other(chain(&e))
    }
}

/// The error and its causes, innermost last: reqwest's own message alone ("error sending
/// request") does not say that the DNS name was unknown or the certificate expired.
fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = cause.source();
    }
    out
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_stored_failure_reads_as_a_chinese_reason() {
        let dns = FetchError::Connect(
            "error sending request for url (http://example.gov.cn/rss): client error \
             (Connect): dns error: failed to lookup address information"
                .into(),
        );
        for (error, reason) in [
            (dns.to_string(), "域名解析失败"),
            (FetchError::Timeout.to_string(), "超时"),
            (
                FetchError::Status {
                    status: 404,
                    retry_after: None,
                }
                .to_string(),
                "HTTP 404：地址已不存在",
            ),
            (
                FetchError::Status {
                    status: 503,
                    retry_after: None,
                }
                .to_string(),
                "HTTP 503：网站故障",
            ),
            (
                SourceError::NoLongerListed { before: 20 }.to_string(),
                "不再列出任何条目",
            ),
            ("not well-formed XML".to_string(), "无法读取或解析"),
        ] {
            let zh = failure_zh(&error);
            assert!(zh.contains(reason), "{error} -> {zh}");
        }
    }

    use super::*;

    #[test]
    fn status_messages_name_the_status_and_the_wait() {
        let e = FetchError::Status {
            status: 429,
            retry_after: Some(Duration::from_secs(120)),
        };
        assert_eq!(
            e.to_string(),
            "HTTP 429 Too Many Requests; server asks to retry after 120s"
        );
        let e = FetchError::Status {
            status: 404,
            retry_after: None,
        };
        assert_eq!(e.to_string(), "HTTP 404 Not Found");
    }

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        let mut h = HeaderMap::new();
        h.insert("retry-after", HeaderValue::from_static("120"));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(120)));
        h.insert(
            "retry-after",
            HeaderValue::from_static("Tue, 24 Nov 2026 10:32:00 GMT"),
        );
        h.insert(
            "date",
            HeaderValue::from_static("Tue, 24 Nov 2026 10:30:00 GMT"),
        );
        assert_eq!(retry_after(&h), Some(Duration::from_secs(120)));
        h.insert("retry-after", HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&h), None);
    }
}
