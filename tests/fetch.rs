//! Polling real sources over loopback HTTP: every feed format, GBK and Big5 list pages, and
//! the ways sites misbehave at night (429s, stalls, huge bodies, redirect loops, broken XML,
//! an HTML page where the feed was, a redesign). Each test is one poll as the daemon makes
//! it, through `Fetcher::fetch_source`, against bytes saved under `tests/fixtures/`.

use crate::common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use common::{fixture, HttpServer, Response};
use yuqing::config::{PageSelectors, Source, SourceKind};
use yuqing::fetch::feed::{Entry, FeedError};
use yuqing::fetch::{FetchError, FetchSettings, Fetched, Fetcher, Polled, SourceError, Validators};
use yuqing::vocab::duration::Span;

const TZ: chrono_tz::Tz = chrono_tz::Asia::Shanghai;

/// 14:00 Beijing time on Tuesday 24 November 2026, when the duty officer's poll runs.
fn now() -> DateTime<Utc> {
    TZ.with_ymd_and_hms(2026, 11, 24, 14, 0, 0)
        .single()
        .expect("valid time")
        .with_timezone(&Utc)
}

/// A wall-clock time in Beijing, as UTC.
fn beijing(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    TZ.with_ymd_and_hms(y, m, d, h, min, 0)
        .single()
        .expect("valid time")
        .with_timezone(&Utc)
}

fn fetcher() -> Fetcher {
    Fetcher::new(FetchSettings::new("yuqing-test/0.1")).expect("build fetcher")
}

fn source(server: &HttpServer, path: &str, kind: SourceKind) -> Source {
    Source {
        id: "test-source".into(),
        name: "测试来源".into(),
        url: server.url(path).parse().expect("server url"),
        every: Span::from_secs(300),
        auto: None,
        timeout: Span::from_secs(5),
        headers: BTreeMap::new(),
        kind,
        body: None,
        stale_after: None,
        max_lag: None,
    }
}

fn feed_source(server: &HttpServer, path: &str) -> Source {
    source(server, path, SourceKind::Feed)
}

fn forum_selectors() -> PageSelectors {
    PageSelectors {
        item: "ul.threads > li".into(),
        title: "a.title".into(),
        link: "a.title@href".into(),
        date: Some("span.time".into()),
        summary: Some("p.summary".into()),
    }
}

/// Polls once and returns the entries, the encoding and the page's matched-item count.
async fn poll(source: &Source) -> (Vec<Entry>, &'static str, Option<usize>) {
    match fetcher()
        .fetch_source(source, &Validators::default(), now(), TZ)
        .await
    {
        Ok(Polled::Entries {
            entries,
            encoding,
            page_items_matched,
            ..
        }) => (entries, encoding, page_items_matched),
        other => panic!("expected entries, got {other:?}"),
    }
}

async fn poll_error(source: &Source) -> SourceError {
    fetcher()
        .fetch_source(source, &Validators::default(), now(), TZ)
        .await
        .expect_err("the poll should fail")
}

#[tokio::test]
async fn rss_2_0_served_gzipped_gives_plain_text_entries_with_absolute_links() {
    let server = HttpServer::start().await;
    server.set(
        "/yc/rss.xml",
        Response::rss(fixture("feeds/rss20.xml")).gzip(),
    );

    let (entries, encoding, matched) = poll(&feed_source(&server, "/yc/rss.xml")).await;

    assert_eq!(encoding, "UTF-8");
    assert_eq!(matched, None);
    assert_eq!(entries.len(), 2);
    let first = &entries[0];
    assert_eq!(first.title, "沙湖景区游客落水 救援人员紧急施救");
    assert_eq!(
        first.link.as_deref(),
        Some(server.url("/yc/jrww/202611/t20261124_8123.html").as_str())
    );
    assert_eq!(first.guid.as_deref(), Some("nxnews-8123"));
    assert_eq!(
        first.summary,
        "11月24日上午，沙湖景区一名游客 落水。 目前已\"脱离危险\"。"
    );
    assert_eq!(first.published, Some(beijing(2026, 11, 24, 10, 30)));
    let second = &entries[1];
    assert_eq!(second.guid, None, "no <guid>: none is invented");
    assert_eq!(
        second.link.as_deref(),
        Some("https://www.nxnews.net/yc/jrww/202611/t20261123_8100.html")
    );
    assert_eq!(second.summary, "推介会在银川举行 & 吸引游客");

    let request = &server.requests("/yc/rss.xml")[0];
    assert_eq!(request.header("user-agent"), Some("yuqing-test/0.1"));
    assert!(request
        .header("accept-encoding")
        .is_some_and(|e| e.contains("gzip")));
}

#[tokio::test]
async fn rss_1_0_rdf_is_read() {
    let server = HttpServer::start().await;
    server.set(
        "/rss.rdf",
        Response::ok("application/rdf+xml", fixture("feeds/rss10-rdf.xml")),
    );

    let (entries, _, _) = poll(&feed_source(&server, "/rss.rdf")).await;

    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].title, "关于开展景区安全隐患排查的通知");
    assert_eq!(
        entries[0].link.as_deref(),
        Some("http://www.example.gov.cn/tzgg/1.html")
    );
    assert_eq!(
        entries[0].summary,
        "各市、县（区）文化旅游局：请于11月30日前完成排查。"
    );
    assert_eq!(entries[0].published, Some(beijing(2026, 11, 24, 9, 0)));
}

#[tokio::test]
async fn rss_0_91_with_its_doctype_and_no_dates_is_read() {
    let server = HttpServer::start().await;
    server.set("/old.rss", Response::rss(fixture("feeds/rss091.xml")));

    let (entries, _, _) = poll(&feed_source(&server, "/old.rss")).await;

    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].title, "市文旅局通报国庆假期景区投诉处理情况");
    assert_eq!(
        entries[0].link.as_deref(),
        Some("http://old.example.cn/news/20261124.htm")
    );
    assert_eq!(entries[0].published, None);
}

#[tokio::test]
async fn atom_html_text_is_flattened_and_updated_stands_in_for_published() {
    let server = HttpServer::start().await;
    server.set(
        "/atom.xml",
        Response::ok("application/atom+xml", fixture("feeds/atom.xml")),
    );

    let (entries, _, _) = poll(&feed_source(&server, "/atom.xml")).await;

    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0].title, "鼓楼步行街夜市延长营业");
    assert_eq!(
        entries[0].guid.as_deref(),
        Some("tag:example.gov.cn,2026:entry-77")
    );
    assert_eq!(
        entries[0].link.as_deref(),
        Some(server.url("/dongtai/77.html").as_str())
    );
    assert_eq!(entries[0].summary, "夜市营业时间延长至23:00。");
    assert_eq!(entries[0].published, Some(beijing(2026, 11, 24, 11, 0)));
    assert_eq!(entries[1].summary, "正文 第二行");
    assert_eq!(entries[1].published, Some(beijing(2026, 11, 23, 16, 0)));
}

#[tokio::test]
async fn json_feed_is_read_and_an_untitled_item_kept_by_its_link() {
    let server = HttpServer::start().await;
    server.set(
        "/feed.json",
        Response::ok("application/feed+json", fixture("feeds/jsonfeed.json")),
    );

    let (entries, _, _) = poll(&feed_source(&server, "/feed.json")).await;

    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0].title, "关于西夏陵景区临时闭园的公告");
    assert_eq!(entries[0].guid.as_deref(), Some("wb-5012"));
    assert_eq!(entries[0].summary, "因设备检修，西夏陵景区11月25日闭园。");
    assert_eq!(entries[0].published, Some(beijing(2026, 11, 24, 8, 15)));
    assert_eq!(entries[1].title, "");
    assert_eq!(
        entries[1].link.as_deref(),
        Some(server.url("/p/5011").as_str())
    );
    assert_eq!(entries[1].summary, "今日天气晴， 适宜出游。");
}

#[tokio::test]
async fn a_gb2312_declared_feed_keeps_gbk_only_characters_and_beijing_dates() {
    let server = HttpServer::start().await;
    // No charset in the header: only the XML declaration says what the bytes are.
    server.set(
        "/xnyw/rss.xml",
        Response::ok("text/xml", fixture("feeds/gb2312-rss.xml")),
    );

    let (entries, encoding, _) = poll(&feed_source(&server, "/xnyw/rss.xml")).await;

    assert_eq!(encoding, "GBK");
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].title, "县长朱镕基调研景区安全生产");
    assert_eq!(entries[0].summary, "陈喆同志陪同调研。");
    assert_eq!(
        entries[0].link.as_deref(),
        Some(server.url("/xnyw/202611/t20261124_3.html").as_str())
    );
    // `2026-11-24 10:30:00` with no zone means Beijing time on a Chinese county site.
    assert_eq!(entries[0].published, Some(beijing(2026, 11, 24, 10, 30)));
}

#[tokio::test]
async fn a_gbk_forum_list_gives_absolute_links_and_reads_chinese_dates() {
    let server = HttpServer::start().await;
    server.set(
        "/forum/list.html",
        Response::ok("text/html", fixture("pages/gbk-list.html")),
    );
    let source = source(
        &server,
        "/forum/list.html",
        SourceKind::Page(forum_selectors()),
    );

    let (entries, encoding, matched) = poll(&source).await;

    assert_eq!(encoding, "GBK");
    assert_eq!(matched, Some(4), "four <li>, one of them an advert");
    let titles: Vec<&str> = entries.iter().map(|e| e.title.as_str()).collect();
    assert_eq!(
        titles,
        [
            "景区门票乱收费 谁来管？",
            "昨晚鼓楼附近发生火灾",
            "沙湖游船排队三小时"
        ]
    );
    let links: Vec<Option<String>> = entries.iter().map(|e| e.link.clone()).collect();
    assert_eq!(
        links,
        [
            Some(server.url("/forum/thread-1001-1.html")),
            Some(server.url("/forum/thread-1002-1.html")),
            Some(server.url("/thread-1003-1.html")),
        ]
    );
    assert!(entries.iter().all(|e| e.guid == e.link));
    let dates: Vec<Option<DateTime<Utc>>> = entries.iter().map(|e| e.published).collect();
    assert_eq!(
        dates,
        [
            Some(beijing(2026, 11, 24, 0, 0)),
            Some(beijing(2026, 11, 23, 10, 30)),
            Some(now() - chrono::Duration::hours(3)),
        ]
    );
    assert_eq!(entries[0].summary, "游客反映 某景区强制消费。");
    assert_eq!(entries[1].summary, "");
}

#[tokio::test]
async fn a_big5_list_page_is_read_in_traditional_characters() {
    let server = HttpServer::start().await;
    server.set(
        "/news/index.html",
        Response::ok("text/html", fixture("pages/big5-list.html")),
    );
    let source = source(
        &server,
        "/news/index.html",
        SourceKind::Page(forum_selectors()),
    );

    let (entries, encoding, matched) = poll(&source).await;

    assert_eq!(encoding, "Big5");
    assert_eq!(matched, Some(2));
    assert_eq!(entries[0].title, "關於加強冬季旅遊景區安全管理工作的通知");
    assert_eq!(
        entries[0].link.as_deref(),
        Some(server.url("/xxgk/tzgg/20261100.html").as_str())
    );
    assert_eq!(entries[0].published, Some(beijing(2026, 11, 24, 0, 0)));
}

#[tokio::test]
async fn a_redesigned_page_matches_no_items_and_says_so() {
    let server = HttpServer::start().await;
    server.set(
        "/forum/list.html",
        Response::ok("text/html", fixture("pages/gbk-list-redesigned.html")),
    );
    let source = source(
        &server,
        "/forum/list.html",
        SourceKind::Page(forum_selectors()),
    );

    let (entries, _, matched) = poll(&source).await;

    assert!(entries.is_empty());
    assert_eq!(matched, Some(0));
}

#[tokio::test]
async fn the_second_poll_sends_the_etag_and_gets_not_modified() {
    let server = HttpServer::start().await;
    server.set(
        "/rss.xml",
        Response::rss(fixture("feeds/rss20.xml"))
            .etag("\"v1\"")
            .last_modified("Tue, 24 Nov 2026 02:30:00 GMT"),
    );
    let mut source = feed_source(&server, "/rss.xml");
    source
        .headers
        .insert("Referer".into(), "https://www.nxnews.net/".into());
    let fetcher = fetcher();

    let first = fetcher
        .fetch_source(&source, &Validators::default(), now(), TZ)
        .await
        .expect("first poll");
    let Polled::Entries { validators, .. } = first else {
        panic!("expected entries, got {first:?}");
    };
    assert_eq!(
        validators,
        Validators {
            etag: Some("\"v1\"".into()),
            last_modified: Some("Tue, 24 Nov 2026 02:30:00 GMT".into()),
        }
    );
    let second = fetcher
        .fetch_source(&source, &validators, now(), TZ)
        .await
        .expect("second poll");

    assert_eq!(second, Polled::NotModified);
    let requests = server.requests("/rss.xml");
    assert_eq!(requests.len(), 2);
    assert!(!requests[0].is_conditional());
    assert_eq!(requests[1].header("if-none-match"), Some("\"v1\""));
    assert_eq!(
        requests[1].header("if-modified-since"),
        Some("Tue, 24 Nov 2026 02:30:00 GMT")
    );
    assert_eq!(requests[1].status, 304);
    assert_eq!(
        requests[1].header("referer"),
        Some("https://www.nxnews.net/")
    );
}

#[tokio::test]
async fn a_429_carries_the_wait_the_server_asked_for() {
    let server = HttpServer::start().await;
    server.set("/rss.xml", Response::too_many_requests(120));

    let error = poll_error(&feed_source(&server, "/rss.xml")).await;

    assert_eq!(
        error,
        SourceError::Fetch(FetchError::Status {
            status: 429,
            retry_after: Some(Duration::from_secs(120)),
        })
    );
    assert_eq!(
        error.to_string(),
        "HTTP 429 Too Many Requests; server asks to retry after 120s"
    );
}

#[tokio::test]
async fn a_server_slower_than_the_timeout_is_a_timeout() {
    let server = HttpServer::start().await;
    server.set(
        "/slow.xml",
        Response::rss(fixture("feeds/rss20.xml")).delay(Duration::from_secs(3)),
    );
    let mut source = feed_source(&server, "/slow.xml");
    source.timeout = Span(Duration::from_millis(200));

    let started = Instant::now();
    let error = poll_error(&source).await;

    assert_eq!(error, SourceError::Fetch(FetchError::Timeout));
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "gave up after {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_body_over_the_cap_is_refused_even_when_it_arrives_compressed() {
    let server = HttpServer::start().await;
    let small_cap = || {
        let mut settings = FetchSettings::new("yuqing-test/0.1");
        settings.max_body = 64 * 1024;
        Fetcher::new(settings).expect("build fetcher")
    };
    let url = |path: &str| server.url(path).parse().expect("url");
    // Declared by Content-Length.
    server.set(
        "/big.html",
        Response::ok("text/html", vec![b'x'; 100 * 1024]),
    );
    // A gzip bomb: 1 KiB on the wire, 8 MiB once inflated; only the streamed count sees it.
    server.set(
        "/bomb.html",
        Response::ok("text/html", vec![b' '; 8 * 1024 * 1024]).gzip(),
    );

    for path in ["/big.html", "/bomb.html"] {
        let result = small_cap()
            .fetch(
                &url(path),
                &BTreeMap::new(),
                Duration::from_secs(5),
                &Validators::default(),
            )
            .await;
        assert_eq!(
            result,
            Err(FetchError::TooLarge { limit: 64 * 1024 }),
            "{path}"
        );
    }
    assert_eq!(
        FetchError::TooLarge { limit: 65536 }.to_string(),
        "the response is larger than the 65536-byte limit; download aborted"
    );
}

#[tokio::test]
async fn a_redirect_is_followed_and_a_redirect_loop_is_refused() {
    let server = HttpServer::start().await;
    server.set("/old/rss.xml", Response::redirect(301, "/new/rss.xml"));
    server.set("/new/rss.xml", Response::rss(fixture("feeds/rss20.xml")));
    server.set("/a", Response::redirect(302, "/b"));
    server.set("/b", Response::redirect(302, "/a"));

    let fetched = fetcher()
        .fetch(
            &server.url("/old/rss.xml").parse().expect("url"),
            &BTreeMap::new(),
            Duration::from_secs(5),
            &Validators::default(),
        )
        .await
        .expect("redirect followed");
    let Fetched::Body { final_url, .. } = fetched else {
        panic!("expected a body");
    };
    assert_eq!(final_url.as_str(), server.url("/new/rss.xml"));
    // Relative links resolve against where the feed now lives.
    let (entries, _, _) = poll(&feed_source(&server, "/old/rss.xml")).await;
    assert_eq!(
        entries[0].link.as_deref(),
        Some(server.url("/yc/jrww/202611/t20261124_8123.html").as_str())
    );

    let error = poll_error(&feed_source(&server, "/a")).await;
    assert_eq!(error, SourceError::Fetch(FetchError::TooManyRedirects));
}

#[tokio::test]
async fn malformed_xml_is_repaired_and_the_repair_names_the_line() {
    let server = HttpServer::start().await;
    server.set("/broken.xml", Response::rss(fixture("feeds/malformed.xml")));

    let polled = fetcher()
        .fetch_source(
            &feed_source(&server, "/broken.xml"),
            &Validators::default(),
            now(),
            TZ,
        )
        .await
        .expect("repaired, not rejected");
    let Polled::Entries {
        entries, warnings, ..
    } = polled
    else {
        panic!("expected entries, got {polled:?}");
    };
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].title, "标题没有闭合");
    assert_eq!(entries[0].link.as_deref(), Some("http://example.cn/1.html"));
    assert_eq!(
        warnings,
        vec!["malformed XML repaired at line 7, column 1: <title> was not closed before <link>; 1 entries read".to_string()]
    );
}

#[tokio::test]
async fn items_lost_to_broken_xml_are_an_error_naming_the_line() {
    let server = HttpServer::start().await;
    server.set(
        "/broken.xml",
        Response::rss(
            "<?xml version=\"1.0\"?>\n<rss version=\"2.0\"><channel><title>t</title>\n<item><!-- <title>a</title></item></channel></rss>\n"
                .to_string(),
        ),
    );
    let error = poll_error(&feed_source(&server, "/broken.xml")).await;
    assert_eq!(
        error.to_string(),
        "the feed has 1 <item>/<entry> elements but none could be read (malformed XML at line 3, column 7: a comment is never closed)"
    );
}

#[tokio::test]
async fn an_html_page_where_the_feed_was_is_named_as_html() {
    let server = HttpServer::start().await;
    server.set(
        "/rss.xml",
        Response::ok("text/html", fixture("pages/gbk-list.html")),
    );

    let error = poll_error(&feed_source(&server, "/rss.xml")).await;

    assert_eq!(error, SourceError::Feed(FeedError::Html));
    assert!(
        error
            .to_string()
            .starts_with("not a feed: the document is HTML"),
        "{error}"
    );
}

#[tokio::test]
async fn a_refused_connection_is_a_connect_error() {
    // Bind then drop, so nothing listens on the port.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr").port()
    };
    let url = format!("http://127.0.0.1:{port}/rss.xml")
        .parse()
        .expect("url");

    let result = fetcher()
        .fetch(
            &url,
            &BTreeMap::new(),
            Duration::from_secs(5),
            &Validators::default(),
        )
        .await;

    assert!(matches!(result, Err(FetchError::Connect(_))), "{result:?}");
}

/// Issue 24 §2: the same story shared with different tracking parameters is one link (and
/// one GUID, when the GUID is the link), so the store keeps it once.
#[tokio::test]
async fn tracking_parameters_are_taken_out_of_links_and_guids() {
    let server = HttpServer::start().await;
    server.set(
        "/rss.xml",
        Response::rss(common::rss(&[
            (
                "某景区栈道坍塌",
                "https://news.example.cn/a/1.html?utm_source=weibo&utm_medium=share",
                "https://news.example.cn/a/1.html?utm_source=weibo&utm_medium=share",
                "",
            ),
            (
                "某景区栈道坍塌",
                "https://news.example.cn/a/1.html?at_medium=rss&at_campaign=feed",
                "",
                "",
            ),
        ])),
    );
    let (entries, _, _) = poll(&feed_source(&server, "/rss.xml")).await;
    assert_eq!(entries.len(), 2);
    for e in &entries {
        assert_eq!(
            e.link.as_deref(),
            Some("https://news.example.cn/a/1.html"),
            "{e:?}"
        );
    }
    assert_eq!(
        entries[0].guid.as_deref(),
        Some("https://news.example.cn/a/1.html")
    );
}
