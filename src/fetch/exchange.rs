//! One web page fetched as evidence: every hop of its redirects, with the bytes exchanged.
//!
//! A feed is read for its items; an article behind an item is read to be *kept* (WARC
//! request and response records), so what matters here is what was asked and answered at
//! each step, not only the last body. [`Fetcher::exchange`] therefore follows redirects
//! itself, one request per hop, with the daemon's own client, user agent, body cap and
//! redirect limit, and records each hop's request head as sent, the answering address, the
//! response head and the body.
//!
//! The response head is rewritten to agree with the body it is stored beside: the client
//! decompresses gzip, deflate and brotli while reading (so the size cap counts the real
//! bytes), so the stored head carries no `Content-Encoding` for a decoded body, no
//! `Transfer-Encoding`, and a `Content-Length` equal to the body's length. A WARC reader then
//! reads the record as a plain HTTP response.
//!
//! Any status is an exchange (a 404 is evidence that a page is gone); what cannot be fetched
//! at all is a [`FetchError`]: a link that is not HTTP, a redirect to one, a redirect chain
//! past the limit, a body past the cap, a page not finished within the page timeout.

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use reqwest::header::{HeaderMap, HeaderValue};
use url::Url;

use super::{classify, FetchError, Fetcher};

/// One page as fetched: the URL asked for, where its redirects ended, and each hop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exchange {
    pub url: String,
    pub final_url: String,
    /// In order: each redirect, then the final answer (always at least one hop).
    pub hops: Vec<Hop>,
}

/// One request and its response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hop {
    pub url: String,
    /// When the request was sent: the caller's `now` plus the time since the first hop.
    pub at: DateTime<Utc>,
    /// The address that answered, when the connection knows it.
    pub ip: Option<IpAddr>,
    /// `GET /path HTTP/1.1\r\nhost: …\r\n…\r\n\r\n`, as sent.
    pub request_head: Vec<u8>,
    pub status: u16,
    /// `HTTP/1.1 200 OK\r\n…\r\n\r\n`, consistent with `body` (see the module's note).
    pub response_head: Vec<u8>,
    /// Decoded from any content coding, within the body cap.
    pub body: Vec<u8>,
}

/// What the request says it accepts; the client decodes each of these.
const ACCEPT_ENCODING: &str = "gzip, deflate, br";
const ACCEPT: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

impl Exchange {
    /// The final answer (the last hop).
    pub fn last(&self) -> &Hop {
        self.hops
            .last()
            .expect("an exchange has at least one hop (built only by Fetcher::exchange)")
    }

    /// The final answer's status.
    pub fn status(&self) -> u16 {
        self.last().status
    }

    /// The final body.
    pub fn body(&self) -> &[u8] {
        &self.last().body
    }

    /// The final answer's `Content-Type`, for the charset.
    pub fn content_type(&self) -> Option<String> {
        self.last().header("content-type")
    }
}

impl Hop {
    /// A response header's value (the first, trimmed), by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<String> {
        let head = String::from_utf8_lossy(&self.response_head);
        head.split("\r\n").skip(1).find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_string())
        })
    }
}

impl Fetcher {
    /// GETs `url` and each redirect after it, recording every hop (see the module's note).
    /// `now` stamps the first request; later hops add the time elapsed since.
    pub async fn exchange(&self, url: &str, now: DateTime<Utc>) -> Result<Exchange, FetchError> {
        let start = parse(url)?;
        match tokio::time::timeout(self.page_timeout, self.hops(start, now)).await {
            Ok(result) => result,
            Err(_) => Err(FetchError::Timeout),
        }
    }

    async fn hops(&self, start: Url, now: DateTime<Utc>) -> Result<Exchange, FetchError> {
        let began = tokio::time::Instant::now();
        let mut hops = Vec::new();
        let mut current = start.clone();
        loop {
            let at = match hops.is_empty() {
                true => now,
                false => now + chrono::Duration::from_std(began.elapsed()).unwrap_or_default(),
            };
            let hop = self.hop(&current, at).await?;
            let next = redirect_target(&hop, &current)?;
            hops.push(hop);
            match next {
                None => break,
                Some(_) if hops.len() > self.max_redirects => {
                    return Err(FetchError::TooManyRedirects)
                }
                Some(next) => current = next,
            }
        }
        Ok(Exchange {
            url: start.to_string(),
            final_url: current.to_string(),
            hops,
        })
    }

    async fn hop(&self, url: &Url, at: DateTime<Utc>) -> Result<Hop, FetchError> {
        let headers = self.request_headers(url)?;
        let request_head = request_head(url, &headers);
        let mut response = self
            .page_client
            .get(url.clone())
            .headers(headers)
            .timeout(self.page_timeout)
            .send()
            .await
            .map_err(classify)?;
        let ip = response.remote_addr().map(|a| a.ip());
        let status = response.status();
        let reason = response
            .extensions()
            .get::<hyper::ext::ReasonPhrase>()
            .map(|r| String::from_utf8_lossy(r.as_bytes()).into_owned())
            .or_else(|| status.canonical_reason().map(str::to_string))
            .unwrap_or_default();
        let headers = response.headers().clone();
        let body = self.body(&mut response).await?;
        Ok(Hop {
            url: url.to_string(),
            at,
            ip,
            request_head,
            status: status.as_u16(),
            response_head: response_head(status.as_u16(), &reason, &headers, body.len()),
            body,
        })
    }

    /// Every header the request carries, set here rather than left to the client, so the
    /// recorded head is the one sent.
    fn request_headers(&self, url: &Url) -> Result<HeaderMap, FetchError> {
        let value = |v: &str| {
            HeaderValue::from_str(v)
                .map_err(|_| FetchError::Other(format!("cannot send the header value `{v}`")))
        };
        let mut headers = HeaderMap::new();
        headers.insert(reqwest::header::HOST, value(&host(url))?);
        headers.insert(reqwest::header::USER_AGENT, value(&self.user_agent)?);
        headers.insert(reqwest::header::ACCEPT, HeaderValue::from_static(ACCEPT));
        headers.insert(
            reqwest::header::ACCEPT_ENCODING,
            HeaderValue::from_static(ACCEPT_ENCODING),
        );
        Ok(headers)
    }
}

/// An absolute http(s) URL, or a clear error.
fn parse(url: &str) -> Result<Url, FetchError> {
    let parsed = Url::parse(url.trim()).map_err(|e| {
        FetchError::Other(format!(
            "not a URL: `{}` ({e})",
            crate::vocab::text::bounded(url, 200)
        ))
    })?;
    match parsed.scheme() {
        "http" | "https" => Ok(parsed),
        other => Err(FetchError::NotHttp {
            scheme: crate::vocab::text::bounded(other, 20).into_owned(),
        }),
    }
}

/// Where a redirect points, `None` for any other answer; a redirect off HTTP is an error.
fn redirect_target(hop: &Hop, from: &Url) -> Result<Option<Url>, FetchError> {
    if !matches!(hop.status, 301 | 302 | 303 | 307 | 308) {
        return Ok(None);
    }
    let Some(location) = hop.header("location").filter(|l| !l.is_empty()) else {
        return Ok(None);
    };
    let next = from.join(&location).map_err(|e| {
        FetchError::Other(format!(
            "HTTP {} to an unreadable Location `{}` ({e})",
            hop.status,
            crate::vocab::text::bounded(&location, 200)
        ))
    })?;
    match next.scheme() {
        "http" | "https" => Ok(Some(next)),
        other => Err(FetchError::NonHttpRedirect {
            status: hop.status,
            scheme: crate::vocab::text::bounded(other, 20).into_owned(),
        }),
    }
}

/// `host` or `host:port` when the port is not the scheme's own.
fn host(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_string(),
    }
}

fn request_head(url: &Url, headers: &HeaderMap) -> Vec<u8> {
    let mut target = url.path().to_string();
    if let Some(query) = url.query() {
        target.push('?');
        target.push_str(query);
    }
    let mut head = format!("GET {target} HTTP/1.1\r\n").into_bytes();
    for (name, value) in headers {
        put_header(&mut head, name.as_str(), value.as_bytes());
    }
    head.extend_from_slice(b"\r\n");
    head
}

/// The response head as it describes the stored body: the client has already removed
/// `Content-Encoding` (and the length) of a body it decoded; the framing headers are replaced
/// by the body's own length.
fn response_head(status: u16, reason: &str, headers: &HeaderMap, body_len: usize) -> Vec<u8> {
    let reason: String = reason.chars().filter(|c| !c.is_control()).collect();
    let mut head = format!("HTTP/1.1 {status} {reason}\r\n").into_bytes();
    for (name, value) in headers {
        if name == reqwest::header::TRANSFER_ENCODING || name == reqwest::header::CONTENT_LENGTH {
            continue;
        }
        put_header(&mut head, name.as_str(), value.as_bytes());
    }
    put_header(&mut head, "content-length", body_len.to_string().as_bytes());
    head.extend_from_slice(b"\r\n");
    head
}

fn put_header(head: &mut Vec<u8>, name: &str, value: &[u8]) {
    head.extend_from_slice(name.as_bytes());
    head.extend_from_slice(b": ");
    head.extend_from_slice(value);
    head.extend_from_slice(b"\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_that_is_not_http_is_refused_by_name() {
        let e = parse("ftp://example.gov.cn/a.html").unwrap_err();
        assert_eq!(
            e.to_string(),
            "not an HTTP link: `ftp:` URLs are not fetched"
        );
        assert!(matches!(
            parse("javascript:alert(1)"),
            Err(FetchError::NotHttp { .. })
        ));
        assert!(parse("not a url")
            .unwrap_err()
            .to_string()
            .contains("not a URL"));
        assert!(parse(" https://example.gov.cn/ ").is_ok());
    }

    #[test]
    fn the_request_head_names_the_port_only_when_it_is_not_the_default() {
        let url = Url::parse("http://127.0.0.1:8080/a/b?x=1").unwrap();
        assert_eq!(host(&url), "127.0.0.1:8080");
        assert_eq!(
            host(&Url::parse("https://www.gov.cn/").unwrap()),
            "www.gov.cn"
        );
        let mut headers = HeaderMap::new();
        headers.insert("host", HeaderValue::from_static("127.0.0.1:8080"));
        assert_eq!(
            request_head(&url, &headers),
            b"GET /a/b?x=1 HTTP/1.1\r\nhost: 127.0.0.1:8080\r\n\r\n"
        );
    }

    #[test]
    fn the_response_head_agrees_with_the_stored_body() {
        let mut headers = HeaderMap::new();
        headers.insert("content-type", HeaderValue::from_static("text/html"));
        headers.insert("transfer-encoding", HeaderValue::from_static("chunked"));
        headers.insert("content-length", HeaderValue::from_static("10"));
        let head = String::from_utf8(response_head(200, "OK", &headers, 1234)).unwrap();
        assert_eq!(
            head,
            "HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: 1234\r\n\r\n"
        );
    }
}
