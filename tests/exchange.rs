//! Fetching one page as evidence (`Fetcher::exchange`) from a loopback server: each hop of a
//! redirect chain recorded with its request and response heads, a gzip body stored decoded
//! under a head that agrees with it, a GBK page kept byte for byte, and the pages that cannot
//! be kept (a link that is not HTTP, a redirect loop, a body over the cap, a body that never
//! ends) refused with a clear error.

use crate::common;

use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use common::{fixture, HttpServer, Response};
use yuqing::fetch::{FetchError, FetchSettings, Fetcher};

/// 14:00 Beijing time on Tuesday 24 November 2026.
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 6, 0, 0).unwrap()
}

fn fetcher() -> Fetcher {
    Fetcher::new(FetchSettings::new("yuqing-test/0.1")).expect("build fetcher")
}

fn head(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("heads are ASCII here")
}

#[tokio::test]
async fn a_redirect_chain_is_recorded_hop_by_hop() {
    let server = HttpServer::start().await;
    server.set("/short", Response::redirect(301, "/moved?from=short"));
    server.set(
        "/moved",
        Response::redirect(302, &server.url("/article.html")),
    );
    server.set(
        "/article.html",
        Response::ok(
            "text/html; charset=utf-8",
            "<html><title>通告</title></html>",
        )
        .header("X-Served-By", "loopback"),
    );
    let x = fetcher()
        .exchange(&server.url("/short"), now())
        .await
        .expect("exchange");
    assert_eq!(x.url, server.url("/short"));
    assert_eq!(x.final_url, server.url("/article.html"));
    assert_eq!(x.hops.len(), 3);
    let statuses: Vec<u16> = x.hops.iter().map(|h| h.status).collect();
    assert_eq!(statuses, [301, 302, 200]);
    assert_eq!(x.hops[1].url, server.url("/moved?from=short"));
    assert!(x.hops.iter().all(|h| h.at >= now()), "stamped from now");
    assert_eq!(x.hops[0].at, now(), "the first request is stamped `now`");
    assert!(x
        .hops
        .iter()
        .all(|h| h.ip == Some("127.0.0.1".parse().unwrap())));

    let second = head(&x.hops[1].request_head);
    assert!(
        second.starts_with("GET /moved?from=short HTTP/1.1\r\n"),
        "{second}"
    );
    assert_has!(second, &format!("host: 127.0.0.1:{}\r\n", server.port()));
    assert_has!(second, "user-agent: yuqing-test/0.1\r\n");
    assert!(second.ends_with("\r\n\r\n"));
    // The server saw what the head says was sent.
    let seen = &server.requests("/moved")[0];
    assert_eq!(seen.header("user-agent"), Some("yuqing-test/0.1"));
    assert_eq!(seen.query.as_deref(), Some("from=short"));

    let first = head(&x.hops[0].response_head);
    assert!(
        first.starts_with("HTTP/1.1 301 Moved Permanently\r\n"),
        "{first}"
    );
    assert_has!(first, "location: /moved?from=short\r\n");
    assert_eq!(
        x.hops[0].header("Location").as_deref(),
        Some("/moved?from=short")
    );
    let last = head(&x.last().response_head);
    assert!(last.starts_with("HTTP/1.1 200 OK\r\n"), "{last}");
    assert_has!(last, "x-served-by: loopback\r\n");
    assert!(last.ends_with("\r\n\r\n"));
    assert_eq!(x.body(), "<html><title>通告</title></html>".as_bytes());
    assert_eq!(
        x.content_type().as_deref(),
        Some("text/html; charset=utf-8")
    );
}

#[tokio::test]
async fn a_gzip_body_is_kept_decoded_under_a_head_that_says_so() {
    let page = "<html><body><p>镕城区水务局通告</p></body></html>".repeat(50);
    let server =
        HttpServer::serving("/a.html", Response::ok("text/html", page.clone()).gzip()).await;
    let x = fetcher()
        .exchange(&server.url("/a.html"), now())
        .await
        .expect("exchange");
    assert_eq!(x.body(), page.as_bytes());
    let response = head(&x.last().response_head);
    assert!(
        !response.to_ascii_lowercase().contains("content-encoding"),
        "{response}"
    );
    assert!(
        !response.to_ascii_lowercase().contains("transfer-encoding"),
        "{response}"
    );
    assert_eq!(
        x.last().header("content-length"),
        Some(page.len().to_string())
    );
    let request = head(&x.last().request_head);
    assert_has!(request, "accept-encoding: gzip, deflate, br\r\n");
    assert_eq!(
        server.requests("/a.html")[0].header("accept-encoding"),
        Some("gzip, deflate, br")
    );
}

#[tokio::test]
async fn a_gbk_page_is_kept_byte_for_byte() {
    let bytes = fixture("article/gbk-notice.html");
    let server = HttpServer::serving("/gbk.html", Response::ok("text/html", bytes.clone())).await;
    let x = fetcher()
        .exchange(&server.url("/gbk.html"), now())
        .await
        .expect("exchange");
    assert_eq!(x.status(), 200);
    assert_eq!(x.body(), &bytes[..], "the raw GBK bytes, not a re-encoding");
    assert_eq!(x.content_type().as_deref(), Some("text/html"));
}

#[tokio::test]
async fn a_missing_page_is_an_exchange_with_its_status() {
    let server = HttpServer::serving("/gone", Response::status(410)).await;
    let x = fetcher()
        .exchange(&server.url("/gone"), now())
        .await
        .expect("a 410 is evidence, not an error");
    assert_eq!(x.status(), 410);
    assert!(head(&x.last().response_head).starts_with("HTTP/1.1 410 Gone\r\n"));
}

#[tokio::test]
async fn links_that_are_not_http_are_refused() {
    for link in [
        "ftp://example.gov.cn/a.html",
        "javascript:alert(1)",
        "file:///etc/passwd",
    ] {
        let error = fetcher().exchange(link, now()).await.unwrap_err();
        assert!(
            matches!(error, FetchError::NotHttp { .. }),
            "{link}: {error}"
        );
        assert!(error.to_string().contains("not an HTTP link"), "{error}");
    }
    let server =
        HttpServer::serving("/to-file", Response::redirect(302, "file:///etc/passwd")).await;
    let error = fetcher()
        .exchange(&server.url("/to-file"), now())
        .await
        .unwrap_err();
    assert_eq!(
        error,
        FetchError::NonHttpRedirect {
            status: 302,
            scheme: "file".into()
        }
    );
}

#[tokio::test]
async fn a_redirect_loop_stops_at_the_limit() {
    let server = HttpServer::start().await;
    server.set("/a", Response::redirect(302, "/b"));
    server.set("/b", Response::redirect(302, "/a"));
    let error = fetcher()
        .exchange(&server.url("/a"), now())
        .await
        .unwrap_err();
    assert_eq!(error, FetchError::TooManyRedirects);
    // The default limit is 5 redirects: six requests, then it gives up.
    assert_eq!(server.all_requests().len(), 6);
}

#[tokio::test]
async fn a_body_over_the_cap_is_refused() {
    let mut settings = FetchSettings::new("yuqing-test/0.1");
    settings.max_body = 1000;
    let fetcher = Fetcher::new(settings).expect("fetcher");
    let server = HttpServer::start().await;
    server.set("/big", Response::ok("text/html", vec![b'x'; 5000]));
    // Compressed it is small; the cap counts the decoded bytes.
    server.set("/bomb", Response::ok("text/html", vec![b'x'; 5000]).gzip());
    for path in ["/big", "/bomb"] {
        let error = fetcher
            .exchange(&server.url(path), now())
            .await
            .unwrap_err();
        assert_eq!(error, FetchError::TooLarge { limit: 1000 }, "{path}");
    }
}

#[tokio::test]
async fn a_body_that_never_ends_times_out() {
    let mut settings = FetchSettings::new("yuqing-test/0.1");
    settings.page_timeout = Duration::from_millis(500);
    let fetcher = Fetcher::new(settings).expect("fetcher");
    let (url, server) = common::http::endless_server("/endless").await;
    let started = std::time::Instant::now();
    let error = fetcher.exchange(&url, now()).await.unwrap_err();
    server.abort();
    assert_eq!(error, FetchError::Timeout);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "gave up at the page timeout, not later: {:?}",
        started.elapsed()
    );
}
